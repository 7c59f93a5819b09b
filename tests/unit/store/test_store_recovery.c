/* test_store_recovery.c - the store's log under crashes and faults: a
 * process that dies after the log's fdatasync and before SQLite's commit,
 * SQLite commits lost after a crash (synchronous=NORMAL), SIGKILL at a
 * random moment of a delivery loop, a torn group, replaying twice,
 * injected write / sync / SQLite / abort failures (whose 451s must never
 * come back on replay), pre-allocation, and what store_check and
 * store_open_admin make of a log that is not replayed yet. Children
 * report what was acknowledged through a pipe; each test has its own
 * directory under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/limits.h"
#include "core/log.h"
#include "store/store.h"
#include "store_test_util.h"
#include "store/store_private.h"

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	char root[64];		/* mkdtemp result */
	char dir[96];		/* root/data */
	struct store *st;
	int64_t mb[3];		/* alice, bob, carol @example.com */
	int64_t inbox[3];	/* their INBOX folder ids */
};

static const char *const names[3] = { "alice", "bob", "carol" };

static void fx_open(struct fx *f)
{
	struct err err;
	if (store_open(f->dir, &f->st, &err) != 0)
		fail_msg("store_open: %s", err.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->root, sizeof f->root, "/tmp/petrel-recov-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
	fx_open(f);
	struct err err;
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_mailbox_add(f->st, names[i],
						   "example.com", "$h$x", 0,
						   &f->mb[i], &err), 0);
		struct store_folder fo;
		assert_int_equal(store_folder_find(f->st, f->mb[i], "INBOX",
						   &fo, &err), 1);
		f->inbox[i] = fo.id;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(&f->st);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t msg_tag(const unsigned char *p, size_t n)
{
	uint64_t tag = 0;
	for (size_t i = 0; i < 8 && i < n; i++)
		tag |= (uint64_t)p[i] << (8 * i);
	return tag;
}

static int deliver(struct store *st, const void *data, size_t len,
		   const int64_t *ids, size_t n, uint32_t *uids,
		   struct err *err)
{
	struct store_delivery d = {
		.data = data, .len = len, .mailbox_ids = ids,
		.n_mailboxes = n, .internal_date = 1700000000,
		.uids_out = uids,
	};
	return store_deliver_wait(st, &d, err);
}

static void db_path(const struct fx *f, char *out, size_t n)
{
	snprintf(out, n, "%s/petrel.db", f->dir);
}

static int64_t sql_int(const struct fx *f, const char *sql)
{
	char path[160];
	db_path(f, path, sizeof path);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void sql_exec(const struct fx *f, const char *sql)
{
	char path[160];
	db_path(f, path, sizeof path);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static void segment_path(const struct fx *f, uint32_t id, char *out, size_t n)
{
	snprintf(out, n, "%s/blobs/%08u.seg", f->dir, (unsigned)id);
}

static int64_t file_size(const char *path)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return (int64_t)sb.st_size;
}

/* Everything the index says about the messages, to compare two states. */
struct snapshot {
	int64_t messages, blobs, refcount, used[3], uidnext[3], modseq[3];
	int64_t applied_seq;
};

static void snap(const struct fx *f, struct snapshot *s)
{
	s->messages = sql_int(f, "SELECT count(*) FROM messages");
	s->blobs = sql_int(f, "SELECT count(*) FROM blobs");
	s->refcount = sql_int(f, "SELECT coalesce(sum(refcount), 0) FROM blobs");
	s->applied_seq = sql_int(f, "SELECT seq FROM log_applied");
	for (int i = 0; i < 3; i++) {
		char sql[160];
		snprintf(sql, sizeof sql,
			 "SELECT used FROM mailboxes WHERE id = %lld",
			 (long long)f->mb[i]);
		s->used[i] = sql_int(f, sql);
		snprintf(sql, sizeof sql,
			 "SELECT uidnext FROM folders WHERE id = %lld",
			 (long long)f->inbox[i]);
		s->uidnext[i] = sql_int(f, sql);
		snprintf(sql, sizeof sql,
			 "SELECT highestmodseq FROM folders WHERE id = %lld",
			 (long long)f->inbox[i]);
		s->modseq[i] = sql_int(f, sql);
	}
}

static void assert_snap_equal(const struct snapshot *a,
			      const struct snapshot *b)
{
	assert_int_equal(a->messages, b->messages);
	assert_int_equal(a->blobs, b->blobs);
	assert_int_equal(a->refcount, b->refcount);
	assert_int_equal(a->applied_seq, b->applied_seq);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a->used[i], b->used[i]);
		assert_int_equal(a->uidnext[i], b->uidnext[i]);
		assert_int_equal(a->modseq[i], b->modseq[i]);
	}
}

/* Run child(f, arg) in a forked process with the store closed in the
 * parent; the child's exit status. */
static int run_child(struct fx *f, void (*child)(struct fx *f, void *arg),
		     void *arg)
{
	store_close(&f->st);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child(f, arg);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* ---- the committer's hook, for children --------------------------------- */

/* Gate a group until `want` deliveries are queued, then crash (or not) at
 * one hook point; inject errnos at others. */
struct hook_ctx {
	atomic_int armed;
	atomic_int submitted;
	int want;
	enum store_hook crash_at;	/* _exit(0) there when armed */
	bool crash;
	void (*before_crash)(struct store *st, void *arg);
	void *before_arg;
	/* injection: errno per point, for `count` calls (-1: forever) */
	atomic_int inject[STORE_HOOK_ABORT_SYNC + 1];
	atomic_int inject_count[STORE_HOOK_ABORT_SYNC + 1];
	atomic_int calls[STORE_HOOK_ABORT_SYNC + 1];
};

static int test_hook(struct store *st, enum store_hook where, void *arg)
{
	struct hook_ctx *h = arg;
	atomic_fetch_add(&h->calls[where], 1);
	if (atomic_load(&h->armed)) {
		if (where == STORE_HOOK_TAKE) {
			/* wait (10 s at most) for the whole batch */
			for (int i = 0; i < 10000 &&
					atomic_load(&h->submitted) < h->want;
			     i++)
				usleep(1000);
		}
		if (h->crash && where == h->crash_at) {
			if (h->before_crash != NULL)
				h->before_crash(st, h->before_arg);
			_exit(0);
		}
	}
	int errnum = atomic_load(&h->inject[where]);
	if (errnum != 0) {
		int left = atomic_load(&h->inject_count[where]);
		if (left != 0) {
			if (left > 0)
				atomic_fetch_sub(&h->inject_count[where], 1);
			return errnum;
		}
	}
	return 0;
}

static void inject(struct hook_ctx *h, enum store_hook where, int errnum,
		   int count)
{
	atomic_store(&h->inject_count[where], count);
	atomic_store(&h->inject[where], errnum);
}

/* A batch of deliveries submitted at once (so that they form one group
 * when the TAKE hook holds the committer). Recipients by pattern: to
 * alice, bob, alice+carol, bob twice (two UIDs in one INBOX). */
#define BATCH_MAX 64

struct batch {
	int n;
	uint64_t tag0;
	unsigned char *data[BATCH_MAX];
	size_t len[BATCH_MAX];
	int64_t ids[BATCH_MAX][2];
	int idx[BATCH_MAX][2];
	size_t nrcpt[BATCH_MAX];
	struct store_delivery d[BATCH_MAX];
	uint32_t uids[BATCH_MAX][2];
};

static void batch_make(struct batch *b, const struct fx *f, int n,
		       uint64_t tag0)
{
	memset(b, 0, sizeof *b);
	b->n = n;
	b->tag0 = tag0;
	for (int i = 0; i < n; i++) {
		static const int pat[4][2] = { { 0, -1 }, { 1, -1 },
					       { 0, 2 },  { 1, 1 } };
		const int *p = pat[i % 4];
		b->nrcpt[i] = p[1] < 0 ? 1 : 2;
		for (size_t k = 0; k < b->nrcpt[i]; k++) {
			b->idx[i][k] = p[k];
			b->ids[i][k] = f->mb[p[k]];
		}
		b->len[i] = 100 + (size_t)(i * 397) % 5000;
		b->data[i] = malloc(b->len[i]);
		msg_fill(b->data[i], b->len[i], tag0 + (uint64_t)i);
		b->d[i] = (struct store_delivery){
			.data = b->data[i], .len = b->len[i],
			.mailbox_ids = b->ids[i], .n_mailboxes = b->nrcpt[i],
			.internal_date = 1700000000 + i,
			.uids_out = b->uids[i],
		};
	}
}

static void batch_free(struct batch *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->data[i]);
}

/* The UIDs the batch gets, in queue order, when each INBOX has next[m]
 * as its UIDNEXT before it. */
static void batch_expect(struct batch *b, uint32_t next[3])
{
	for (int i = 0; i < b->n; i++)
		for (size_t k = 0; k < b->nrcpt[i]; k++)
			b->uids[i][k] = next[b->idx[i][k]]++;
}

static void batch_assert_stored(const struct batch *b, const struct fx *f)
{
	for (int i = 0; i < b->n; i++)
		for (size_t k = 0; k < b->nrcpt[i]; k++)
			assert_message(f->st, f->inbox[b->idx[i][k]],
				       b->uids[i][k], b->data[i], b->len[i]);
}

static void batch_submit(struct batch *b, struct store *st,
			 struct hook_ctx *h)
{
	for (int i = 0; i < b->n; i++) {
		struct err err;
		CHILD_CHECK(store_deliver_submit(st, &b->d[i], &err) == 0);
		if (h != NULL)
			atomic_fetch_add(&h->submitted, 1);
	}
}

/* ---- (a) crash between the log's sync and SQLite's commit --------------- */

struct crash_arg {
	struct hook_ctx h;
	struct batch *b;
	int before;		/* messages delivered normally first */
};

static void crash_child(struct fx *f, void *arg)
{
	struct crash_arg *a = arg;
	struct err err;
	CHILD_CHECK(store_open_tuned(f->dir, NULL, test_hook, &a->h, &f->st,
				     &err) == 0);
	for (int i = 0; i < a->before; i++) {
		unsigned char m[300];
		msg_fill(m, sizeof m, 1000 + (uint64_t)i);
		uint32_t uid;
		CHILD_CHECK(deliver(f->st, m, sizeof m, &f->mb[0], 1, &uid,
				    &err) == 0);
		CHILD_CHECK(uid == (uint32_t)i + 1);
	}
	atomic_store(&a->h.armed, 1);
	batch_submit(a->b, f->st, &a->h);
	sleep(10);	/* the hook exits first */
	_exit(2);
}

static void test_crash_after_sync(void **state)
{
	struct fx *f = *state;
	struct err err;
	static struct batch b;
	batch_make(&b, f, 40, 5000);
	struct crash_arg a = { .b = &b, .before = 3 };
	a.h.want = b.n;
	a.h.crash = true;
	a.h.crash_at = STORE_HOOK_SYNCED;
	assert_int_equal(run_child(f, crash_child, &a), 0);

	/* the index has only what came before; the log has all of it */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 3);

	/* petrelctl's view before recovery: nothing replayed or written,
	 * and the pending records are consistent with the index */
	char seg1[160];
	segment_path(f, 1, seg1, sizeof seg1);
	int64_t seg_size = file_size(seg1);
	struct store *admin = NULL;
	assert_int_equal(store_open_admin(f->dir, &admin, &err), 0);
	assert_int_equal(check(admin), 0);
	store_close(&admin);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(file_size(seg1), seg_size);

	/* recovery stores every one of them, with the UIDs they were given */
	fx_open(f);
	uint32_t next[3] = { 4, 1, 1 };
	batch_expect(&b, next);
	batch_assert_stored(&b, f);
	struct snapshot s1, s2;
	snap(f, &s1);
	int64_t want_msgs = 3, want_used[3] = { 3 * 300, 0, 0 };
	for (int i = 0; i < b.n; i++) {
		want_msgs += (int64_t)b.nrcpt[i];
		for (size_t k = 0; k < b.nrcpt[i]; k++)
			want_used[b.idx[i][k]] += (int64_t)b.len[i];
	}
	assert_int_equal(s1.messages, want_msgs);
	assert_int_equal(s1.blobs, 3 + b.n);
	assert_int_equal(s1.refcount, want_msgs);
	assert_int_equal(s1.applied_seq, 3 + b.n);
	for (int m = 0; m < 3; m++) {
		assert_int_equal(s1.used[m], want_used[m]);
		assert_int_equal(s1.uidnext[m], next[m]);
	}
	assert_int_equal(check(f->st), 0);

	/* (b) and again: replay is done, nothing changes */
	store_close(&f->st);
	fx_open(f);
	snap(f, &s2);
	assert_snap_equal(&s1, &s2);
	assert_int_equal(check(f->st), 0);

	/* and the next delivery continues after them */
	unsigned char m[500];
	msg_fill(m, sizeof m, 9999);
	uint32_t uid;
	assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[2], 1, &uid, &err),
			 0);
	assert_int_equal(uid, next[2]);
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 3 + b.n + 1);
	batch_free(&b);
}

/* ---- (b) replaying what is indexed changes nothing ---------------------- */

static void test_replay_idempotent(void **state)
{
	struct fx *f = *state;
	struct err err;
	static struct batch b;
	batch_make(&b, f, 24, 7000);
	for (int i = 0; i < b.n; i++)
		assert_int_equal(store_deliver_wait(f->st, &b.d[i], &err), 0);
	store_close(&f->st);
	struct snapshot s1, s2;
	snap(f, &s1);
	/* SQLite forgets how far it holds the log: everything is replayed */
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	snap(f, &s2);
	assert_snap_equal(&s1, &s2);
	batch_assert_stored(&b, f);
	assert_int_equal(check(f->st), 0);
	/* from the middle of the log too */
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET (segment, offset, seq) = "
		    "(SELECT segment, offset, 0 FROM blobs WHERE id = 10)");
	/* seq 0 at a place where record 10 begins: not the next number, so
	 * the walk stops at once and recovery refuses to append over blobs */
	struct store *st = NULL;
	assert_int_equal(store_open(f->dir, &st, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	sql_exec(f, "UPDATE log_applied SET seq = 9");
	fx_open(f);
	snap(f, &s2);
	assert_snap_equal(&s1, &s2);
	assert_int_equal(check(f->st), 0);
	batch_free(&b);
}

/* ---- lost SQLite commits (synchronous=NORMAL after a power cut) --------- */

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY);
	if (in < 0) {
		assert_int_equal(errno, ENOENT);
		assert_true(unlink(to) == 0 || errno == ENOENT);
		return;
	}
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	assert_int_equal(close(in), 0);
	assert_int_equal(close(out), 0);
}

static void test_lost_commits(void **state)
{
	struct fx *f = *state;
	struct err err;
	static struct batch b1, b2;
	batch_make(&b1, f, 10, 100);
	for (int i = 0; i < b1.n; i++)
		assert_int_equal(store_deliver_wait(f->st, &b1.d[i], &err), 0);
	store_close(&f->st);
	/* the database as a crash may leave it: only the commits up to here */
	char db[160], wal[170], shm[170], db_s[170], wal_s[170];
	db_path(f, db, sizeof db);
	snprintf(wal, sizeof wal, "%s-wal", db);
	snprintf(shm, sizeof shm, "%s-shm", db);
	snprintf(db_s, sizeof db_s, "%s.snap", db);
	snprintf(wal_s, sizeof wal_s, "%s-wal.snap", db);
	copy_file(db, db_s);
	copy_file(wal, wal_s);
	struct snapshot s_before;
	snap(f, &s_before);

	/* more groups, acknowledged: in the log, and in SQLite commits that
	 * the "crash" takes away */
	fx_open(f);
	batch_make(&b2, f, 30, 200);
	for (int i = 0; i < b2.n; i += 5) {
		/* four queued, the fifth waited for: groups complete in
		 * order, so all five are done then */
		for (int k = 0; k < 4; k++)
			assert_int_equal(store_deliver_submit(f->st,
							      &b2.d[i + k],
							      &err), 0);
		assert_int_equal(store_deliver_wait(f->st, &b2.d[i + 4], &err),
				 0);
	}
	store_close(&f->st);
	for (int i = 0; i < b2.n; i++)
		assert_int_equal(b2.d[i].rc, 0);
	struct snapshot s_after;
	snap(f, &s_after);

	copy_file(db_s, db);
	copy_file(wal_s, wal);
	assert_true(unlink(shm) == 0 || errno == ENOENT);
	struct snapshot s_lost;
	snap(f, &s_lost);
	assert_snap_equal(&s_before, &s_lost);

	fx_open(f);
	struct snapshot s_rec;
	snap(f, &s_rec);
	assert_snap_equal(&s_after, &s_rec);
	batch_assert_stored(&b1, f);
	batch_assert_stored(&b2, f);
	assert_int_equal(check(f->st), 0);
	batch_free(&b1);
	batch_free(&b2);
}

/* ---- (c) SIGKILL at a random moment of a delivery loop ------------------ */

#define KILL_THREADS 4
#define KILL_ROUNDS 3

/* What a child acknowledges, one write(2) each (atomic on a pipe). */
struct ack {
	uint64_t tag;
	uint32_t len;
	uint32_t n;
	int32_t idx[2];
	uint32_t uid[2];
};

struct kill_worker {
	struct fx *f;
	int round, t, pipe_fd;
};

static void *kill_worker_main(void *arg)
{
	struct kill_worker *w = arg;
	unsigned char *buf = malloc(20000);
	CHILD_CHECK(buf != NULL);
	uint32_t x = (uint32_t)(w->round * 7919 + w->t * 104729 + 1);
	for (uint32_t k = 0;; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		struct ack a = {
			.tag = (uint64_t)(w->round + 1) << 40 |
			       (uint64_t)w->t << 32 | k,
			.len = 8 + x % 19000,
			.n = 1 + (x >> 20) % 2,
		};
		a.idx[0] = (int32_t)((x >> 8) % 3);
		a.idx[1] = (a.idx[0] + 1) % 3;
		int64_t ids[2] = { w->f->mb[a.idx[0]], w->f->mb[a.idx[1]] };
		msg_fill(buf, a.len, a.tag);
		struct err err;
		if (deliver(w->f->st, buf, a.len, ids, a.n, a.uid, &err) != 0)
			continue;
		CHILD_CHECK(write(w->pipe_fd, &a, sizeof a) == sizeof a);
	}
	return NULL;
}

static void kill_child(struct fx *f, int round, int pipe_fd)
{
	struct err err;
	CHILD_CHECK(store_open(f->dir, &f->st, &err) == 0);
	struct kill_worker w[KILL_THREADS];
	pthread_t th[KILL_THREADS];
	for (int t = 0; t < KILL_THREADS; t++) {
		w[t] = (struct kill_worker){ f, round, t, pipe_fd };
		CHILD_CHECK(pthread_create(&th[t], NULL, kill_worker_main,
					   &w[t]) == 0);
	}
	pause();	/* until SIGKILL */
	_exit(3);
}

struct acked {
	struct ack *a;
	size_t n, cap;
};

static void acked_add(struct acked *l, const struct ack *a)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->a = realloc(l->a, l->cap * sizeof *l->a);
		assert_non_null(l->a);
	}
	l->a[l->n++] = *a;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

struct tag_list {
	uint64_t *tag;
	size_t n, cap;
	struct store *st;
	int64_t folder;
	uint64_t bytes;
};

static int collect_tag(const struct store_message *m, void *arg)
{
	struct tag_list *l = arg;
	unsigned char *p = NULL;
	size_t len = 0;
	struct err err;
	assert_int_equal(store_message_read(l->st, l->folder, m->uid, &p, &len,
					    &err), 1);
	uint64_t tag = msg_tag(p, len);
	/* whatever is stored is intact */
	unsigned char *want = malloc(len);
	msg_fill(want, len, tag);
	assert_memory_equal(p, want, len);
	free(want);
	free(p);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->tag = realloc(l->tag, l->cap * sizeof *l->tag);
	}
	l->tag[l->n++] = tag;
	l->bytes += len;
	return 0;
}

static void test_sigkill_loop(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct acked acked = { 0 };
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	const char *env_seed = getenv("PETREL_TEST_SEED");
	if (env_seed != NULL)
		seed = (unsigned)strtoul(env_seed, NULL, 10);
	print_message("kill timing seed %u (PETREL_TEST_SEED)\n", seed);
	srand(seed);
	for (int round = 0; round < KILL_ROUNDS; round++) {
		store_close(&f->st);
		int p[2];
		assert_int_equal(pipe(p), 0);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			kill_child(f, round, p[1]);
		}
		close(p[1]);
		/* after the first acknowledgement, a random time, reading
		 * all along so that the children never block on the pipe */
		size_t first = acked.n;
		struct ack a;
		assert_int_equal(read(p[0], &a, sizeof a), sizeof a);
		acked_add(&acked, &a);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long wait_ms = rand() % 300;
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long gone = (t1.tv_sec - t0.tv_sec) * 1000 +
				    (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if (gone >= wait_ms)
				break;
			struct pollfd pfd = { .fd = p[0], .events = POLLIN };
			if (poll(&pfd, 1, (int)(wait_ms - gone)) > 0 &&
			    read(p[0], &a, sizeof a) == sizeof a)
				acked_add(&acked, &a);
		}
		assert_int_equal(kill(pid, SIGKILL), 0);
		ssize_t n;
		while ((n = read(p[0], &a, sizeof a)) == sizeof a)
			acked_add(&acked, &a);
		assert_int_equal(n, 0);
		close(p[0]);
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		print_message("round %d: %zu acknowledged\n", round,
			      acked.n - first);

		/* before recovery, as petrelctl sees it */
		struct store *admin = NULL;
		assert_int_equal(store_open_admin(f->dir, &admin, &err), 0);
		assert_int_equal(check(admin), 0);
		store_close(&admin);

		fx_open(f);
		assert_int_equal(check(f->st), 0);
		for (size_t i = 0; i < acked.n; i++) {
			struct ack *k = &acked.a[i];
			unsigned char *want = malloc(k->len);
			msg_fill(want, k->len, k->tag);
			for (uint32_t r = 0; r < k->n; r++)
				assert_message(f->st, f->inbox[k->idx[r]],
					       k->uid[r], want, k->len);
			free(want);
		}
		/* exactly once: no tag twice in a mailbox (each delivery
		 * names a mailbox once), used bytes add up */
		for (int m = 0; m < 3; m++) {
			struct tag_list l = { .st = f->st,
					      .folder = f->inbox[m] };
			assert_int_equal(store_message_each(f->st, f->inbox[m],
							    collect_tag, &l,
							    &err), 0);
			qsort(l.tag, l.n, sizeof *l.tag, cmp_u64);
			for (size_t i = 1; i < l.n; i++)
				assert_true(l.tag[i] != l.tag[i - 1]);
			struct store_mailbox mb;
			assert_int_equal(store_mailbox_find(f->st, names[m],
							    "example.com",
							    &mb, &err), 1);
			assert_int_equal(mb.used, l.bytes);
			struct store_folder fo;
			assert_int_equal(store_folder_find(f->st, f->mb[m],
							   "INBOX", &fo, &err),
					 1);
			assert_true(fo.uidnext > fo.messages);
			free(l.tag);
		}
	}
	free(acked.a);
}

/* ---- a torn group: a crash while the kernel had written part of it ------ */

static void tear_first_record(struct store *st, void *arg)
{
	(void)arg;
	/* the group's first record is at the append position: damage its
	 * data, as if that page never reached the disk, while the later
	 * records of the group are complete */
	unsigned char junk[8] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4 };
	uint64_t at = st->seg.end + STORE_REC_HDR_SIZE + STORE_REC_RCPT_SIZE + 16;
	/* through a descriptor of our own: the committer's has O_DIRECT,
	 * which takes no unaligned writes */
	char path[32];
	int n = snprintf(path, sizeof path, "%08u.seg", (unsigned)st->seg.id);
	if (n < 0 || (size_t)n >= sizeof path)
		_exit(5);
	int fd = openat(st->blobs_fd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, junk, sizeof junk, (off_t)at) != sizeof junk ||
	    close(fd) < 0)
		_exit(5);
}

static void test_torn_group(void **state)
{
	struct fx *f = *state;
	struct err err;
	static struct batch b;
	batch_make(&b, f, 6, 300);
	struct crash_arg a = { .b = &b, .before = 2 };
	a.h.want = b.n;
	a.h.crash = true;
	a.h.crash_at = STORE_HOOK_WRITE;	/* after pwritev, before sync */
	a.h.before_crash = tear_first_record;
	assert_int_equal(run_child(f, crash_child, &a), 0);
	int64_t end = sql_int(f, "SELECT offset FROM log_applied");

	struct store *admin = NULL;
	assert_int_equal(store_open_admin(f->dir, &admin, &err), 0);
	assert_int_equal(check(admin), 0);
	store_close(&admin);

	/* nothing of the group was acknowledged; none of it comes back,
	 * and the later records of the group are cleared */
	fx_open(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 2);
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 2);
	store_close(&f->st);
	char path[160];
	segment_path(f, 1, path, sizeof path);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	int64_t size = file_size(path);
	unsigned char buf[4096];
	for (int64_t at = end; at < size; at += (int64_t)sizeof buf) {
		ssize_t n = pread(fd, buf, sizeof buf, (off_t)at);
		assert_true(n > 0);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != 0)
				fail_msg("byte %lld is not zero",
					 (long long)(at + i));
	}
	assert_int_equal(close(fd), 0);

	/* a shorter group over it, then another crash-free reopen: the old
	 * records must not turn up behind it */
	fx_open(f);
	unsigned char m[100];
	msg_fill(m, sizeof m, 42);
	uint32_t uid;
	assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[1], 1, &uid, &err),
			 0);
	assert_int_equal(uid, 1);
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(check(f->st), 0);
	batch_free(&b);
}

/* ---- injected faults ----------------------------------------------------- */

/* The write "fails" after the bytes went out: they are taken back
 * (zeroed, synced), nothing is voided or retired, and the UID is given
 * again. Replay from the start does not bring the message back. */
static void test_fault_write(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct hook_ctx h = { 0 };
	assert_int_equal(store_open_tuned(f->dir, NULL, test_hook, &h, &f->st,
					  &err), 0);
	unsigned char m1[700], m2[800];
	msg_fill(m1, sizeof m1, 1);
	msg_fill(m2, sizeof m2, 2);
	uint32_t uid;
	assert_int_equal(deliver(f->st, m1, sizeof m1, &f->mb[0], 1, &uid,
				 &err), 0);
	inject(&h, STORE_HOOK_WRITE, EIO, 1);
	assert_int_equal(deliver(f->st, m2, sizeof m2, &f->mb[0], 1, &uid,
				 &err), -1);
	assert_int_equal(err.reply, 451);
	assert_string_equal(err.esc, "4.3.0");
	assert_int_equal(deliver(f->st, m1, sizeof m1, &f->mb[1], 1, &uid,
				 &err), 0);
	assert_int_equal(deliver(f->st, m2, sizeof m2, &f->mb[0], 1, &uid,
				 &err), 0);
	assert_int_equal(uid, 2);
	assert_int_equal(f->st->seg.id, 1);	/* not retired */
	store_close(&f->st);
	/* sequence numbers were given again: 1, 2, 3, no abort record */
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 3);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 3);
	assert_message(f->st, f->inbox[0], 2, m2, sizeof m2);
	assert_int_equal(check(f->st), 0);
}

/* The sync "fails" although the records are on disk: the segment is
 * retired, the next one starts with an abort record, and replay from the
 * start skips the records it names. */
static void test_fault_sync(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct hook_ctx h = { 0 };
	assert_int_equal(store_open_tuned(f->dir, NULL, test_hook, &h, &f->st,
					  &err), 0);
	unsigned char m1[700], m2[800];
	msg_fill(m1, sizeof m1, 1);
	msg_fill(m2, sizeof m2, 2);
	uint32_t uids[2];
	assert_int_equal(deliver(f->st, m1, sizeof m1, &f->mb[0], 1, uids,
				 &err), 0);
	inject(&h, STORE_HOOK_SYNC, EIO, 1);
	assert_int_equal(deliver(f->st, m2, sizeof m2, f->mb, 2, uids, &err),
			 -1);
	assert_int_equal(err.reply, 451);
	assert_int_equal(f->st->seg.id, 2);
	assert_false(f->st->abort.pending);
	assert_int_equal(deliver(f->st, m2, sizeof m2, f->mb, 2, uids, &err),
			 0);
	assert_int_equal(uids[0], 2);	/* the voided one's UIDs again */
	assert_int_equal(uids[1], 1);
	assert_int_equal(check(f->st), 0);
	store_close(&f->st);
	/* record 1; record 2 (voided, valid in segment 1); abort 3 and
	 * record 4 in segment 2 */
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 4);
	assert_int_equal(sql_int(f, "SELECT max(segment) FROM blobs"), 2);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), 2);
	assert_message(f->st, f->inbox[0], 2, m2, sizeof m2);
	assert_message(f->st, f->inbox[1], 1, m2, sizeof m2);
	assert_int_equal(check(f->st), 0);
}

/* SQLite fails after the sync, and so does making the abort durable,
 * twice (in the segment, then in a new one): the delivery gets 451, the
 * store refuses deliveries without writing until the abort is durable,
 * then works again; replay never stores the failed message. */
static void test_fault_sqlite_and_abort(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct hook_ctx h = { 0 };
	assert_int_equal(store_open_tuned(f->dir, NULL, test_hook, &h, &f->st,
					  &err), 0);
	unsigned char m1[700], m2[800];
	msg_fill(m1, sizeof m1, 1);
	msg_fill(m2, sizeof m2, 2);
	uint32_t uid;
	assert_int_equal(deliver(f->st, m1, sizeof m1, &f->mb[0], 1, &uid,
				 &err), 0);
	inject(&h, STORE_HOOK_SYNCED, EIO, 1);
	inject(&h, STORE_HOOK_ABORT_SYNC, EIO, -1);
	assert_int_equal(deliver(f->st, m2, sizeof m2, &f->mb[0], 1, &uid,
				 &err), -1);
	assert_int_equal(err.reply, 451);
	/* in the segment, then in a new one */
	assert_true(atomic_load(&h.calls[STORE_HOOK_ABORT_SYNC]) >= 2);
	/* still failing: refused before anything is written */
	int writes = atomic_load(&h.calls[STORE_HOOK_WRITE]);
	assert_int_equal(deliver(f->st, m1, sizeof m1, &f->mb[1], 1, &uid,
				 &err), -1);
	assert_int_equal(err.reply, 451);
	assert_int_equal(atomic_load(&h.calls[STORE_HOOK_WRITE]), writes);
	/* the disk is back: the abort goes into a new segment first */
	inject(&h, STORE_HOOK_ABORT_SYNC, 0, 0);
	assert_int_equal(deliver(f->st, m2, sizeof m2, &f->mb[0], 1, &uid,
				 &err), 0);
	assert_int_equal(uid, 2);
	assert_int_equal(check(f->st), 0);
	store_close(&f->st);
	/* record 1, record 2 (voided) and an abort record that "failed"
	 * although it is there in segment 1; after failed attempts, an
	 * abort record and record 2 again in segment 2 */
	assert_int_equal(sql_int(f, "SELECT segment FROM log_applied"), 2);
	assert_int_equal(sql_int(f, "SELECT max(segment) FROM blobs"), 2);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), 2);
	assert_message(f->st, f->inbox[0], 2, m2, sizeof m2);
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb[1], "INBOX", &fo, &err),
			 1);
	assert_int_equal(fo.messages, 0);
	assert_int_equal(check(f->st), 0);
}

/* Pre-allocating while idle fails: deliveries do not notice. */
static void test_fault_extend(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct hook_ctx h = { 0 };
	inject(&h, STORE_HOOK_EXTEND, ENOSPC, -1);
	struct store_tuning tu = { .segment_max = STORE_SEGMENT_MAX,
				   .prealloc_chunk = STORE_PREALLOC_CHUNK,
				   .prealloc_low = STORE_PREALLOC_LOW,
				   .prealloc_carry = 0 };
	assert_int_equal(store_open_tuned(f->dir, &tu, test_hook, &h, &f->st,
					  &err), 0);
	unsigned char m[3000];
	for (int i = 0; i < 10; i++) {
		msg_fill(m, sizeof m, (uint64_t)i);
		uint32_t uid;
		assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[0], 1, &uid,
					 &err), 0);
		assert_int_equal(uid, (uint32_t)i + 1);
	}
	assert_int_equal(check(f->st), 0);
	store_close(&f->st);
	char path[160];
	segment_path(f, 1, path, sizeof path);
	/* nothing pre-allocated: the file ends with the block that holds
	 * the end of the log (groups write whole blocks) */
	assert_int_equal(file_size(path),
			 (sql_int(f, "SELECT offset FROM log_applied") + 4095) /
				 4096 * 4096);
}

/* ---- (e) pre-allocation ------------------------------------------------ */

static void test_prealloc(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct store_tuning tu = { .segment_max = STORE_SEGMENT_MAX,
				   .prealloc_chunk = 256 * 1024,
				   .prealloc_low = 64 * 1024 };
	/* first without pre-allocation: the file ends with the log */
	struct hook_ctx h = { 0 };
	inject(&h, STORE_HOOK_EXTEND, ENOSPC, -1);
	struct store_tuning tu0 = tu;
	tu0.prealloc_carry = 0;
	assert_int_equal(store_open_tuned(f->dir, &tu0, test_hook, &h, &f->st,
					  &err), 0);
	unsigned char m[4096];
	uint32_t uid;
	msg_fill(m, sizeof m, 1);
	assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[0], 1, &uid, &err),
			 0);
	store_close(&f->st);
	char path[160];
	segment_path(f, 1, path, sizeof path);
	int64_t end = sql_int(f, "SELECT offset FROM log_applied");
	assert_int_equal(file_size(path), (end + 4095) / 4096 * 4096);

	/* open pre-allocates a chunk of zeros */
	assert_int_equal(store_open_tuned(f->dir, &tu, NULL, NULL, &f->st,
					  &err), 0);
	int64_t size = file_size(path);
	assert_int_equal(size, (end + 256 * 1024 + 4095) / 4096 * 4096);
	/* groups now overwrite: the file does not grow */
	for (int i = 2; i <= 6; i++) {
		msg_fill(m, sizeof m, (uint64_t)i);
		assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[0], 1, &uid,
					 &err), 0);
		assert_int_equal(uid, (uint32_t)i);
	}
	assert_int_equal(file_size(path), size);
	int64_t end2 = sql_int(f, "SELECT offset FROM log_applied");
	assert_true(end2 > end && end2 < size);
	/* reopened, it appends where the log ends, not at the file's end */
	store_close(&f->st);
	assert_int_equal(store_open_tuned(f->dir, &tu, NULL, NULL, &f->st,
					  &err), 0);
	msg_fill(m, sizeof m, 7);
	assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[0], 1, &uid, &err),
			 0);
	assert_int_equal(sql_int(f, "SELECT offset FROM blobs WHERE id = 7"),
			 end2);
	assert_int_equal(file_size(path), size);
	for (int i = 1; i <= 7; i++) {
		msg_fill(m, sizeof m, (uint64_t)i);
		assert_message(f->st, f->inbox[0], (uint32_t)i, m, sizeof m);
	}
	assert_int_equal(check(f->st), 0);
	/* what is ahead of the log is real zeros */
	store_close(&f->st);
	int64_t end3 = sql_int(f, "SELECT offset FROM log_applied");
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	unsigned char buf[4096];
	for (int64_t at = end3; at < size; at += (int64_t)sizeof buf) {
		ssize_t n = pread(fd, buf, sizeof buf, (off_t)at);
		assert_true(n > 0);
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(buf[i], 0);
	}
	assert_int_equal(close(fd), 0);
}

/* Idle pre-allocation keeps ahead of a stream of deliveries. */
static void test_prealloc_idle(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct store_tuning tu = { .segment_max = STORE_SEGMENT_MAX,
				   .prealloc_chunk = 65536,
				   .prealloc_low = 32768 };
	assert_int_equal(store_open_tuned(f->dir, &tu, NULL, NULL, &f->st,
					  &err), 0);
	unsigned char m[4000];
	uint32_t uid;
	char path[160];
	segment_path(f, 1, path, sizeof path);
	int grew_ahead = 0;
	for (int i = 0; i < 100; i++) {
		msg_fill(m, sizeof m, (uint64_t)i);
		assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[i % 3], 1,
					 &uid, &err), 0);
		/* the committer works ahead between deliveries; give it the
		 * time a session's next message takes */
		usleep(2000);
		int64_t end = sql_int(f, "SELECT offset FROM log_applied");
		if (file_size(path) >= end + 32768)
			grew_ahead++;
	}
	assert_true(grew_ahead >= 90);
	/* 400 KB of messages: the file grew in chunks, ahead of the log */
	assert_true(file_size(path) >= 100 * 4000);
	assert_int_equal(check(f->st), 0);
}

/* A committer with no idle time appends; the group that grows the file
 * carries zeros for the next ones, which then overwrite. */
static void test_prealloc_carry(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct hook_ctx h = { 0 };
	inject(&h, STORE_HOOK_EXTEND, ENOSPC, -1);	/* never idle */
	struct store_tuning tu = { .segment_max = STORE_SEGMENT_MAX,
				   .prealloc_chunk = STORE_PREALLOC_CHUNK,
				   .prealloc_low = STORE_PREALLOC_LOW,
				   .prealloc_carry = 65536 };
	assert_int_equal(store_open_tuned(f->dir, &tu, test_hook, &h, &f->st,
					  &err), 0);
	char path[160];
	segment_path(f, 1, path, sizeof path);
	unsigned char m[5000];
	uint32_t uid;
	int64_t grew = 0, size = 0;
	for (int i = 0; i < 40; i++) {
		msg_fill(m, sizeof m, (uint64_t)i);
		assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[0], 1, &uid,
					 &err), 0);
		int64_t now = file_size(path);
		int64_t end = sql_int(f, "SELECT offset FROM log_applied");
		assert_true(now >= end && now % 4096 == 0);
		assert_true(now <= end + 65536 + 4096);
		if (now != size)
			grew++;
		size = now;
	}
	/* 40 * 5 KB = 200 KB in 64 KiB carries: a few growths, not 40 */
	assert_true(grew >= 3 && grew <= 5);
	assert_int_equal(check(f->st), 0);
	store_close(&f->st);
	fx_open(f);
	for (int i = 0; i < 40; i++) {
		msg_fill(m, sizeof m, (uint64_t)i);
		assert_message(f->st, f->inbox[0], (uint32_t)i + 1, m, sizeof m);
	}
}

/* ---- the log and the index disagree ------------------------------------ */

/* A pending record whose UID another message took would be dropped by
 * replay: store_check says so before recovery. A record whose folder is
 * gone is skipped by replay with a log line. */
static void test_check_pending_conflict(void **state)
{
	struct fx *f = *state;
	struct err err;
	static struct batch b;
	batch_make(&b, f, 8, 900);
	struct crash_arg a = { .b = &b, .before = 1 };
	a.h.want = b.n;
	a.h.crash = true;
	a.h.crash_at = STORE_HOOK_SYNCED;
	assert_int_equal(run_child(f, crash_child, &a), 0);
	char sql[512];
	/* alice's first pending UID is 2: another message takes it (the
	 * one blob there is, with its refcount right) */
	snprintf(sql, sizeof sql,
		 "INSERT INTO messages(folder_id, uid, blob_id, size, "
		 "internal_date, flags, modseq) VALUES (%lld, 2, 1, 300, 0, "
		 "0, 1); UPDATE blobs SET refcount = 2 WHERE id = 1; "
		 "UPDATE mailboxes SET used = used + 300 WHERE id = %lld; "
		 "UPDATE folders SET uidnext = 3 WHERE id = %lld",
		 (long long)f->inbox[0], (long long)f->mb[0],
		 (long long)f->inbox[0]);
	sql_exec(f, sql);
	struct store *admin = NULL;
	assert_int_equal(store_open_admin(f->dir, &admin, &err), 0);
	assert_int_equal(check(admin), 1);
	store_close(&admin);
	snprintf(sql, sizeof sql,
		 "DELETE FROM messages WHERE folder_id = %lld AND uid = 2; "
		 "UPDATE blobs SET refcount = 1 WHERE id = 1; "
		 "UPDATE mailboxes SET used = used - 300 WHERE id = %lld; "
		 "UPDATE folders SET uidnext = 2 WHERE id = %lld",
		 (long long)f->inbox[0], (long long)f->mb[0],
		 (long long)f->inbox[0]);
	sql_exec(f, sql);

	/* carol's INBOX goes away before recovery */
	snprintf(sql, sizeof sql, "DELETE FROM folders WHERE id = %lld",
		 (long long)f->inbox[2]);
	sql_exec(f, sql);
	fx_open(f);
	/* deliveries to alice+carol (every 4th from index 2) are skipped */
	int64_t want = 1;
	for (int i = 0; i < b.n; i++)
		if (i % 4 != 2)
			want += (int64_t)b.nrcpt[i];
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages"), want);
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 1 + b.n);
	assert_int_equal(check(f->st), 0);
	batch_free(&b);
}

/* Blobs past the end of the log, or a segment shorter than the applied
 * position, mean a lost or damaged segment: store_open refuses rather
 * than append over them, and store_check reports it. */
static void test_blob_past_log_end(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char m[100];
	msg_fill(m, sizeof m, 1);
	uint32_t uid;
	assert_int_equal(deliver(f->st, m, sizeof m, &f->mb[0], 1, &uid, &err),
			 0);
	store_close(&f->st);
	sql_exec(f, "UPDATE blobs SET offset = offset + 1048576");
	struct store *st = NULL;
	assert_int_equal(store_open(f->dir, &st, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_null(st);
	assert_int_equal(store_open_admin(f->dir, &st, &err), 0);
	uint64_t problems = 0;
	assert_int_equal(store_check(st, &problems, &err), 0);
	assert_int_equal(problems, 2);	/* past the log, no record there */
	store_close(&st);
	sql_exec(f, "UPDATE blobs SET offset = offset - 1048576");

	char path[160];
	segment_path(f, 1, path, sizeof path);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(store_open(f->dir, &st, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "shorter"));
	assert_int_equal(store_open_admin(f->dir, &st, &err), 0);
	assert_int_equal(store_check(st, &problems, &err), 0);
	assert_int_equal(problems, 2);	/* short segment, record cut */
	store_close(&st);
}

/* What migrations 2 and 3 add, taken away again. */
#define SCHEMA_BACK_TO_1                                                     \
	"DROP TABLE alias_targets; DROP TABLE aliases;"                      \
	"ALTER TABLE domains DROP COLUMN unicode;"                           \
	"ALTER TABLE domains DROP COLUMN status;"                            \
	"ALTER TABLE domains DROP COLUMN max_mailboxes;"                     \
	"ALTER TABLE domains DROP COLUMN mailbox_quota;"                     \
	"ALTER TABLE domains DROP COLUMN domain_quota;"                      \
	"ALTER TABLE domains DROP COLUMN catchall;"                          \
	"ALTER TABLE domains DROP COLUMN alias_of;"                          \
	"ALTER TABLE mailboxes DROP COLUMN display_name;"                    \
	"ALTER TABLE mailboxes DROP COLUMN forward;"                         \
	"DROP TABLE queue_rcpts; DROP TABLE queue;"                          \
	"DROP INDEX messages_list;"                                          \
	"DROP TABLE log_applied; DROP INDEX blobs_location;"                 \
	"DROP TABLE expunged; DROP TABLE keywords; DROP TABLE subscriptions;" \
	"DROP TABLE blob_meta; DROP TRIGGER folders_subscribe;"              \
	"DROP TRIGGER folders_id_high; DROP INDEX messages_modseq;"          \
	"ALTER TABLE messages DROP COLUMN keywords;"                         \
	"ALTER TABLE mailboxes DROP COLUMN scram_secret;"                    \
	"DROP TABLE api_tokens;"                                             \
	"DROP TABLE app_passwords; DROP TABLE audit;"                        \
	"ALTER TABLE mailboxes DROP COLUMN totp_secret;"                     \
	"ALTER TABLE mailboxes DROP COLUMN totp_last_step;"                  \
	"ALTER TABLE domains DROP COLUMN twofa_required;"                    \
	"DROP TABLE mailbox_ips;"                                            \
	"ALTER TABLE mailboxes DROP COLUMN last_login;"                      \
	"ALTER TABLE mailboxes DROP COLUMN last_login_ip;"                  \
	"ALTER TABLE domains DROP COLUMN pw_min_length;"                     \
	"ALTER TABLE domains DROP COLUMN pw_min_classes;"                    \
	"ALTER TABLE domains DROP COLUMN pw_checks;"                         \
	"DROP TABLE dkim_keys;"                                              \
	"DROP TABLE dmarc_rows; DROP TABLE dmarc_requests;"                  \
	"DROP TABLE filter_settings; DROP TABLE quarantine;"                 \
	"DROP TABLE bayes_scopes; DROP TABLE bayes_tokens;"                  \
	"DROP TABLE bayes_learned;"

/* A store of schema 1 holding messages has records this code cannot
 * replay: refused. Without messages it is migrated. */
static void test_schema1_refused(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	sql_exec(f, SCHEMA_BACK_TO_1
		    "UPDATE meta SET value = 1 WHERE key = 'schema_version'");
	fx_open(f);
	assert_int_equal(sql_int(f, "SELECT value FROM meta WHERE key = "
				    "'schema_version'"), STORE_TEST_SCHEMA);
	store_close(&f->st);
	sql_exec(f, SCHEMA_BACK_TO_1
		    "UPDATE meta SET value = 1 WHERE key = 'schema_version';"
		    "INSERT INTO blobs(segment, offset, length, refcount) "
		    "VALUES (1, 0, 10, 0)");
	struct store *st = NULL;
	assert_int_equal(store_open(f->dir, &st, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "schema 1"));
	sql_exec(f, "DELETE FROM blobs");
	fx_open(f);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_after_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lost_commits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_loop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_group, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_sqlite_and_abort,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_extend, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prealloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_idle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_carry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_pending_conflict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_past_log_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_schema1_refused, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
