/* test_store_mail.c - the store calls that IMAP and POP3 change mail with
 * (src/store/store_mutate.c, store_folder.c, store_append.c,
 * store_watch.c): expunge, flags and keywords with CONDSTORE, append,
 * copy and move with their UID maps, folder create / delete / rename
 * (INBOX too) / subscribe with hostile names, listing changes since a
 * modseq, the parse cache and change notification; and how each meets
 * crash recovery: replay must never resurrect or double-count a message,
 * SIGKILL in a loop of appends, expunges and flag changes must leave a
 * store that store_check finds clean with every acknowledged append.
 * Each test has its own directory under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/log.h"
#include "store/store.h"
#include "store_test_util.h"
#include "store/store_private.h"

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	char root[64];
	char dir[96];
	struct store *st;
	int64_t mb[2];		/* alice, bob @example.com */
	int64_t inbox[2];
};

static void fx_open(struct fx *f)
{
	struct err err;
	if (store_open(f->dir, &f->st, &err) != 0)
		fail_msg("store_open: %s", err.msg);
}

static void fx_reopen(struct fx *f)
{
	store_close(&f->st);
	fx_open(f);
}

static int64_t folder_id(struct store *st, int64_t mb, const char *name)
{
	struct store_folder fo;
	struct err err;
	int rc = store_folder_find(st, mb, name, &fo, &err);
	if (rc != 1)
		fail_msg("folder %s: rc %d", name, rc);
	return fo.id;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->root, sizeof f->root, "/tmp/petrel-mail-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
	fx_open(f);
	struct err err;
	static const char *const names[2] = { "alice", "bob" };
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_mailbox_add(f->st, names[i],
						   "example.com", "$h$x", 0,
						   &f->mb[i], &err), 0);
		f->inbox[i] = folder_id(f->st, f->mb[i], "INBOX");
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

static __attribute__((unused)) uint64_t msg_tag(const unsigned char *p, size_t n)
{
	uint64_t tag = 0;
	for (size_t i = 0; i < 8 && i < n; i++)
		tag |= (uint64_t)p[i] << (8 * i);
	return tag;
}

/* Deliver a tagged message of len bytes to n mailboxes; their UIDs. */
static int deliver_tag(struct store *st, uint64_t tag, size_t len,
		       const int64_t *ids, size_t n, uint32_t *uids)
{
	unsigned char *data = malloc(len);
	msg_fill(data, len, tag);
	struct store_delivery d = {
		.data = data, .len = len, .mailbox_ids = ids,
		.n_mailboxes = n, .internal_date = 1700000000,
		.uids_out = uids,
	};
	struct err err;
	int rc = store_deliver_wait(st, &d, &err);
	free(data);
	return rc;
}

static uint32_t deliver1(struct fx *f, int who, uint64_t tag, size_t len)
{
	uint32_t uid = 0;
	assert_int_equal(deliver_tag(f->st, tag, len, &f->mb[who], 1, &uid), 0);
	return uid;
}

static void assert_tag(struct store *st, int64_t folder, uint32_t uid,
		       uint64_t tag, size_t len)
{
	unsigned char *got = NULL;
	size_t got_len = 0;
	struct err err;
	int rc = store_message_read(st, folder, uid, &got, &got_len, &err);
	if (rc != 1)
		fail_msg("read folder %lld uid %u: rc %d", (long long)folder,
			 uid, rc);
	assert_int_equal(got_len, len);
	unsigned char *want = malloc(len);
	msg_fill(want, len, tag);
	assert_memory_equal(got, want, len);
	free(want);
	free(got);
}

static bool exists(struct store *st, int64_t folder, uint32_t uid)
{
	unsigned char *got = NULL;
	size_t len = 0;
	struct err err;
	int rc = store_message_read(st, folder, uid, &got, &len, &err);
	assert_true(rc == 0 || rc == 1);
	free(got);
	return rc == 1;
}

static int64_t sql_int(const struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int64_t sql_int(const struct fx *f, const char *fmt, ...)
{
	char sql[512], path[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof path, "%s/petrel.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void sql_exec(const struct fx *f, const char *sql)
{
	char path[160];
	snprintf(path, sizeof path, "%s/petrel.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static struct store_folder folder_get(struct store *st, int64_t mb,
				      const char *name)
{
	struct store_folder fo;
	struct err err;
	assert_int_equal(store_folder_find(st, mb, name, &fo, &err), 1);
	return fo;
}

static uint64_t used_of(struct fx *f, int who)
{
	struct store_mailbox mb;
	struct err err;
	static const char *const names[2] = { "alice", "bob" };
	assert_int_equal(store_mailbox_find(f->st, names[who], "example.com",
					    &mb, &err), 1);
	return mb.used;
}

struct uid_list {
	uint32_t uid[4096];
	uint64_t modseq[4096];
	uint32_t flags[4096];
	uint64_t keywords[4096];
	size_t n;
};

static int collect_msg(const struct store_message *m, void *arg)
{
	struct uid_list *l = arg;
	assert_true(l->n < 4096);
	l->uid[l->n] = m->uid;
	l->modseq[l->n] = m->modseq;
	l->flags[l->n] = m->flags;
	l->keywords[l->n] = m->keywords;
	l->n++;
	return 0;
}

static int collect_uid(uint32_t uid, void *arg)
{
	struct uid_list *l = arg;
	assert_true(l->n < 4096);
	l->uid[l->n++] = uid;
	return 0;
}

static void list_msgs(struct store *st, int64_t folder, struct uid_list *l)
{
	struct err err;
	l->n = 0;
	assert_int_equal(store_message_each(st, folder, collect_msg, l, &err),
			 0);
}

static void list_vanished(struct store *st, int64_t folder, uint64_t since,
			  struct uid_list *l)
{
	struct err err;
	l->n = 0;
	assert_int_equal(store_vanished_since(st, folder, since, collect_uid, l,
					      &err), 0);
}

/* ---- expunge ------------------------------------------------------------ */

static void test_expunge(void **state)
{
	struct fx *f = *state;
	struct err err;
	uint32_t uid[6];
	for (int i = 1; i <= 5; i++)
		uid[i] = deliver1(f, 0, (uint64_t)i, 100 * (size_t)i);
	/* message 6 goes to alice and bob: one blob, two references */
	uint32_t u2[2];
	assert_int_equal(deliver_tag(f->st, 6, 600, f->mb, 2, u2), 0);
	assert_int_equal(u2[0], 6);
	assert_int_equal(used_of(f, 0), 2100);
	struct store_folder before = folder_get(f->st, f->mb[0], "INBOX");

	uint32_t gone[] = { uid[2], uid[4], 999, uid[2], 6 };
	uint64_t modseq = 0;
	assert_int_equal(store_expunge(f->st, f->inbox[0], gone, 5, &modseq,
				       &err), 0);
	assert_int_equal(modseq, before.highestmodseq + 1);
	struct store_folder after = folder_get(f->st, f->mb[0], "INBOX");
	assert_int_equal(after.highestmodseq, modseq);
	assert_int_equal(after.messages, 3);
	assert_int_equal(after.uidnext, before.uidnext);
	assert_int_equal(used_of(f, 0), 2100 - 200 - 400 - 600);

	struct uid_list l;
	list_msgs(f->st, f->inbox[0], &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.uid[0], 1);
	assert_int_equal(l.uid[1], 3);
	assert_int_equal(l.uid[2], 5);
	assert_tag(f->st, f->inbox[0], 3, 3, 300);
	/* bob's copy of the shared message is untouched */
	assert_tag(f->st, f->inbox[1], u2[1], 6, 600);
	assert_int_equal(used_of(f, 1), 600);
	assert_int_equal(sql_int(f, "SELECT refcount FROM blobs b JOIN "
				    "messages m ON m.blob_id = b.id WHERE "
				    "m.folder_id = %lld",
				 (long long)f->inbox[1]), 1);
	/* the expunged blobs stay (refcount 0) until compaction */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs WHERE "
				    "refcount = 0"), 2);

	/* QRESYNC: what vanished since before, nothing since after */
	list_vanished(f->st, f->inbox[0], before.highestmodseq, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.uid[0], 2);
	assert_int_equal(l.uid[1], 4);
	assert_int_equal(l.uid[2], 6);
	list_vanished(f->st, f->inbox[0], modseq, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(check(f->st), 0);

	/* nothing to expunge: nothing changes */
	uint64_t m2 = 7;
	assert_int_equal(store_expunge(f->st, f->inbox[0], gone, 5, &m2, &err),
			 0);
	assert_int_equal(m2, 0);
	assert_int_equal(folder_get(f->st, f->mb[0], "INBOX").highestmodseq,
			 modseq);
	assert_int_equal(store_expunge(f->st, f->inbox[0], gone, 0, &m2, &err),
			 0);
	/* no such folder */
	assert_int_equal(store_expunge(f->st, 424242, gone, 1, &m2, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);

	/* the next delivery continues the UIDs and modseqs */
	uint32_t u7 = deliver1(f, 0, 7, 70);
	assert_int_equal(u7, 7);
	list_msgs(f->st, f->inbox[0], &l);
	assert_int_equal(l.uid[l.n - 1], 7);
	assert_true(l.modseq[l.n - 1] > modseq);

	/* and all of it survives a reopen */
	fx_reopen(f);
	list_msgs(f->st, f->inbox[0], &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(used_of(f, 0), 900 + 70);
	list_vanished(f->st, f->inbox[0], 0, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(check(f->st), 0);
}

/* Expunging everything, in a large folder, in one call. */
static void test_expunge_many(void **state)
{
	struct fx *f = *state;
	struct err err;
	enum { N = 500 };
	static uint32_t uids[N];
	for (int i = 0; i < N; i++)
		uids[i] = deliver1(f, 1, 1000 + (uint64_t)i, 50);
	uint64_t modseq;
	assert_int_equal(store_expunge(f->st, f->inbox[1], uids, N, &modseq,
				       &err), 0);
	assert_int_equal(folder_get(f->st, f->mb[1], "INBOX").messages, 0);
	assert_int_equal(used_of(f, 1), 0);
	struct uid_list l;
	list_vanished(f->st, f->inbox[1], modseq - 1, &l);
	assert_int_equal(l.n, N);
	assert_int_equal(check(f->st), 0);
}

/* ---- crash interplay: hooks in a child ----------------------------------- */

static atomic_int crash_armed;

static int crash_hook(struct store *st, enum store_hook where, void *arg)
{
	(void)st;
	(void)arg;
	if (atomic_load(&crash_armed) && where == STORE_HOOK_SYNCED)
		_exit(0);	/* the log is durable, SQLite not */
	return 0;
}

static int run_child(struct fx *f, void (*child)(struct fx *f))
{
	store_close(&f->st);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child(f);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Delivers 1..3 (2 to bob too), expunges 2, then dies with delivery 4 in
 * the log but not in SQLite. */
static void child_expunge_then_crash(struct fx *f)
{
	struct err err;
	atomic_store(&crash_armed, 0);
	CHILD_CHECK(store_open_tuned(f->dir, NULL, crash_hook, NULL, &f->st,
				     &err) == 0);
	uint32_t u[2];
	CHILD_CHECK(deliver_tag(f->st, 1, 100, &f->mb[0], 1, u) == 0);
	CHILD_CHECK(deliver_tag(f->st, 2, 200, f->mb, 2, u) == 0);
	CHILD_CHECK(deliver_tag(f->st, 3, 300, &f->mb[0], 1, u) == 0);
	uint32_t gone = 2;
	uint64_t ms;
	CHILD_CHECK(store_expunge(f->st, f->inbox[0], &gone, 1, &ms, &err) == 0);
	CHILD_CHECK(ms > 0);
	atomic_store(&crash_armed, 1);
	(void)deliver_tag(f->st, 4, 400, &f->mb[0], 1, u);
	_exit(2);	/* the hook exits first */
}

static void assert_after_crash(struct fx *f)
{
	struct uid_list l;
	list_msgs(f->st, f->inbox[0], &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.uid[0], 1);
	assert_int_equal(l.uid[1], 3);
	assert_int_equal(l.uid[2], 4);	/* replayed from the log */
	assert_tag(f->st, f->inbox[0], 4, 4, 400);
	assert_false(exists(f->st, f->inbox[0], 2));
	assert_tag(f->st, f->inbox[1], 1, 2, 200);
	assert_int_equal(used_of(f, 0), 100 + 300 + 400);
	assert_int_equal(used_of(f, 1), 200);
	assert_int_equal(sql_int(f, "SELECT sum(refcount) FROM blobs"), 4);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), 4);
	list_vanished(f->st, f->inbox[0], 0, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.uid[0], 2);
	/* the replayed delivery's modseq is above the expunge's */
	struct store_folder fo = folder_get(f->st, f->mb[0], "INBOX");
	assert_int_equal(fo.uidnext, 5);
	assert_int_equal(check(f->st), 0);
}

static void test_expunge_crash_replay(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_child(f, child_expunge_then_crash), 0);
	/* delivery 4 is in the log only */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM messages WHERE "
				    "folder_id = %lld", (long long)f->inbox[0]),
			 2);
	fx_open(f);
	assert_after_crash(f);

	/* the whole log replayed again from the start: the expunged
	 * message's blob row is still there, so nothing comes back */
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_after_crash(f);
}


/* ---- quarantine: delivery to Junk ---------------------------------------- */

/* A junk delivery lands in each mailbox's \Junk (INBOX when it has none),
 * with the next UID there, and stays there after the log is replayed. */
static void test_deliver_junk(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t junk = folder_id(f->st, f->mb[0], "Junk");
	assert_int_equal(store_folder_delete(f->st, f->mb[1], "Junk", &err), 0);
	unsigned char data[300];
	msg_fill(data, sizeof data, 77);
	uint32_t uids[2] = { 0, 0 };
	struct store_delivery d = {
		.data = data, .len = sizeof data, .mailbox_ids = f->mb,
		.n_mailboxes = 2, .internal_date = 1700000000,
		.uids_out = uids, .junk = true,
	};
	assert_int_equal(store_deliver_wait(f->st, &d, &err), 0);
	assert_int_equal(uids[0], 1);
	assert_tag(f->st, junk, uids[0], 77, sizeof data);
	assert_false(exists(f->st, f->inbox[0], uids[0]));
	assert_tag(f->st, f->inbox[1], uids[1], 77, sizeof data);
	/* an ordinary delivery after it still goes to INBOX */
	uint32_t uid = deliver1(f, 0, 78, 100);
	assert_tag(f->st, f->inbox[0], uid, 78, 100);
	/* replayed from the start: the same places */
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_tag(f->st, junk, 1, 77, sizeof data);
	assert_tag(f->st, f->inbox[0], uid, 78, 100);
	assert_int_equal(check(f->st), 0);
}

/* ---- flags and keywords --------------------------------------------------- */

static void test_flags(void **state)
{
	struct fx *f = *state;
	struct err err;
	for (int i = 1; i <= 3; i++)
		deliver1(f, 0, (uint64_t)i, 100);
	int64_t in = f->inbox[0];
	uint64_t hms0 = folder_get(f->st, f->mb[0], "INBOX").highestmodseq;
	assert_int_equal(folder_get(f->st, f->mb[0], "INBOX").unseen, 3);

	const char *kw1[] = { "$Forwarded" };
	uint32_t u[] = { 1, 2, 99 };
	struct store_flags_result r[3];
	assert_int_equal(store_flags_update(f->st, in, u, 3, STORE_FLAGS_ADD,
					    STORE_FLAG_SEEN | STORE_FLAG_RECENT,
					    kw1, 1, 0, r, &err), 0);
	assert_int_equal(r[0].status, STORE_FLAGS_CHANGED);
	assert_int_equal(r[1].status, STORE_FLAGS_CHANGED);
	assert_int_equal(r[2].status, STORE_FLAGS_NOSUCH);
	assert_int_equal(r[0].flags, STORE_FLAG_SEEN);	/* no \Recent */
	assert_true(r[0].modseq > hms0);
	assert_true(r[1].modseq > r[0].modseq);
	struct store_folder fo = folder_get(f->st, f->mb[0], "INBOX");
	assert_int_equal(fo.highestmodseq, r[1].modseq);
	assert_int_equal(fo.unseen, 1);
	struct store_keywords *k = malloc(sizeof *k);
	assert_int_equal(store_keywords_get(f->st, f->mb[0], k, &err), 0);
	assert_int_equal(k->defined, 1);
	assert_string_equal(k->name[0], "$Forwarded");
	assert_int_equal(r[0].keywords, 1);

	/* the same again changes nothing, keywords case-insensitively */
	const char *kw1l[] = { "$forwarded" };
	struct store_flags_result r2[3];
	assert_int_equal(store_flags_update(f->st, in, u, 2, STORE_FLAGS_ADD,
					    STORE_FLAG_SEEN, kw1l, 1, 0, r2,
					    &err), 0);
	assert_int_equal(r2[0].status, STORE_FLAGS_SAME);
	assert_int_equal(r2[0].modseq, r[0].modseq);
	assert_int_equal(folder_get(f->st, f->mb[0], "INBOX").highestmodseq,
			 r[1].modseq);

	/* SET replaces flags and keywords */
	const char *kw2[] = { "$Junk", "$NotJunk", "$MDNSent" };
	assert_int_equal(store_flags_update(f->st, in, &u[1], 1,
					    STORE_FLAGS_SET, STORE_FLAG_FLAGGED,
					    kw2, 1, 0, r2, &err), 0);
	assert_int_equal(r2[0].status, STORE_FLAGS_CHANGED);
	assert_int_equal(r2[0].flags, STORE_FLAG_FLAGGED);
	assert_int_equal(r2[0].keywords, 2);	/* $Junk is bit 1 */
	/* REMOVE a name the mailbox never had: no new keyword */
	assert_int_equal(store_flags_update(f->st, in, &u[1], 1,
					    STORE_FLAGS_REMOVE, 0, &kw2[1], 1,
					    0, r2, &err), 0);
	assert_int_equal(r2[0].status, STORE_FLAGS_SAME);
	assert_int_equal(store_keywords_get(f->st, f->mb[0], k, &err), 0);
	assert_int_equal(k->defined, 3);

	/* CONDSTORE UNCHANGEDSINCE: 1 changed after r[0].modseq - 1, 3 not */
	uint32_t u13[] = { 1, 3 };
	assert_int_equal(store_flags_update(f->st, in, u13, 2,
					    STORE_FLAGS_ADD, STORE_FLAG_ANSWERED,
					    NULL, 0, r[0].modseq - 1, r2, &err),
			 0);
	assert_int_equal(r2[0].status, STORE_FLAGS_MODIFIED);
	assert_int_equal(r2[0].modseq, r[0].modseq);
	assert_int_equal(r2[1].status, STORE_FLAGS_CHANGED);

	/* CHANGEDSINCE lists exactly the messages changed after hms0 */
	struct uid_list *l = malloc(sizeof *l);
	l->n = 0;
	assert_int_equal(store_message_changed_since(f->st, in, hms0,
						     collect_msg, l, &err), 0);
	assert_int_equal(l->n, 3);
	l->n = 0;
	assert_int_equal(store_message_changed_since(f->st, in, r2[1].modseq,
						     collect_msg, l, &err), 0);
	assert_int_equal(l->n, 0);

	/* every modseq of the folder is distinct */
	list_msgs(f->st, in, l);
	assert_true(l->modseq[0] != l->modseq[1] &&
		    l->modseq[1] != l->modseq[2] &&
		    l->modseq[0] != l->modseq[2]);

	/* bad keywords */
	const char *bad[] = { "a b", "\\Seen", "", "x(", "caf\xc3\xa9" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(store_flags_update(f->st, in, u, 1,
						    STORE_FLAGS_ADD, 0, &bad[i],
						    1, 0, NULL, &err), -1);
		assert_int_equal(err.kind, ERR_PEER);
	}
	/* at most 64 keywords per mailbox: 2 exist, 62 more fit */
	char names[63][16];
	const char *ptr[63];
	for (int i = 0; i < 63; i++) {
		snprintf(names[i], sizeof names[i], "kw%d", i);
		ptr[i] = names[i];
	}
	if (store_flags_update(f->st, in, u, 1, STORE_FLAGS_ADD, 0, ptr, 62, 0,
			       NULL, &err) != 0)
		fail_msg("62 keywords: %s", err.msg);
	assert_int_equal(store_flags_update(f->st, in, u, 1, STORE_FLAGS_ADD,
					    0, &ptr[62], 1, 0, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	assert_int_equal(store_keywords_get(f->st, f->mb[0], k, &err), 0);
	assert_int_equal(k->defined, UINT64_MAX);
	list_msgs(f->st, in, l);
	assert_int_equal(l->keywords[0] & ((uint64_t)1 << 63),
			 (uint64_t)1 << 63);
	assert_int_equal(check(f->st), 0);
	fx_reopen(f);
	list_msgs(f->st, in, l);
	assert_int_equal(l->flags[0], STORE_FLAG_SEEN);	/* MODIFIED above */
	assert_int_equal(l->flags[2], STORE_FLAG_ANSWERED);
	assert_int_equal(check(f->st), 0);
	free(l);
	free(k);
}

/* ---- append ------------------------------------------------------------------ */

static void test_append(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct store_folder sent = folder_get(f->st, f->mb[0], "Sent");
	unsigned char m[777];
	msg_fill(m, sizeof m, 42);
	const char *kw[] = { "$MDNSent" };
	struct store_append_req a = {
		.folder_id = sent.id, .data = m, .len = sizeof m,
		.flags = STORE_FLAG_SEEN, .keywords = kw, .n_keywords = 1,
		.internal_date = 1600000000, .meta = "cached", .meta_len = 6,
	};
	assert_int_equal(store_append_many(f->st, &a, 1, &err), 0);
	assert_int_equal(a.uid, 1);
	assert_int_equal(a.uidvalidity, sent.uidvalidity);
	assert_true(a.modseq > sent.highestmodseq);
	assert_tag(f->st, sent.id, 1, 42, sizeof m);
	struct uid_list l;
	list_msgs(f->st, sent.id, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.flags[0], STORE_FLAG_SEEN);
	assert_int_equal(l.keywords[0], 1);
	assert_int_equal(l.modseq[0], a.modseq);
	unsigned char *meta;
	size_t meta_len;
	assert_int_equal(store_meta_get(f->st, sent.id, 1, &meta, &meta_len,
					&err), 1);
	assert_int_equal(meta_len, 6);
	assert_memory_equal(meta, "cached", 6);
	free(meta);
	assert_int_equal(used_of(f, 0), sizeof m);

	/* into INBOX, between deliveries: one UID sequence */
	uint32_t d1 = deliver1(f, 0, 1, 10);
	uint32_t a1;
	assert_int_equal(store_append(f->st, f->inbox[0], m, 100, 0, NULL, 0,
				      1600000000, &a1, &err), 0);
	uint32_t d2 = deliver1(f, 0, 2, 10);
	assert_true(d1 < a1 && a1 < d2);

	/* no such folder, bad keyword, too large a cache */
	assert_int_equal(store_append(f->st, 999999, m, 10, 0, NULL, 0, 0,
				      NULL, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	const char *bad[] = { "no good" };
	assert_int_equal(store_append(f->st, sent.id, m, 10, 0, bad, 1, 0,
				      NULL, &err), -1);
	assert_int_equal(err.kind, ERR_PEER);

	/* MULTIAPPEND: all or none */
	struct store_folder drafts = folder_get(f->st, f->mb[0], "Drafts");
	struct store_append_req many[4];
	unsigned char bodies[4][300];
	for (int i = 0; i < 4; i++) {
		msg_fill(bodies[i], sizeof bodies[i], 500 + (uint64_t)i);
		many[i] = (struct store_append_req){
			.folder_id = drafts.id, .data = bodies[i],
			.len = sizeof bodies[i], .flags = STORE_FLAG_DRAFT,
		};
	}
	assert_int_equal(store_append_many(f->st, many, 4, &err), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(many[i].uid, (uint32_t)i + 1);
		assert_tag(f->st, drafts.id, many[i].uid, 500 + (uint64_t)i,
			   300);
	}
	many[2].folder_id = 999999;	/* fails at commit */
	assert_int_equal(store_append_many(f->st, many, 4, &err), -1);
	assert_int_equal(folder_get(f->st, f->mb[0], "Drafts").messages, 4);
	assert_int_equal(check(f->st), 0);
	uint64_t used = used_of(f, 0);
	fx_reopen(f);
	assert_int_equal(used_of(f, 0), used);
	list_msgs(f->st, sent.id, &l);
	assert_int_equal(l.keywords[0], 1);
}

/* An append acknowledged but not yet in SQLite comes back from the log
 * with its flags and keywords. */
static void child_append_crash(struct fx *f)
{
	struct err err;
	atomic_store(&crash_armed, 0);
	CHILD_CHECK(store_open_tuned(f->dir, NULL, crash_hook, NULL, &f->st,
				     &err) == 0);
	int64_t sent = folder_id(f->st, f->mb[0], "Sent");
	unsigned char m[500];
	msg_fill(m, sizeof m, 77);
	const char *kw[] = { "$Forwarded", "Work" };
	uint32_t uid;
	CHILD_CHECK(store_append(f->st, sent, m, sizeof m, STORE_FLAG_SEEN,
				 kw, 2, 1, &uid, &err) == 0 && uid == 1);
	uint64_t ms;
	CHILD_CHECK(store_expunge(f->st, sent, &uid, 1, &ms, &err) == 0);
	msg_fill(m, sizeof m, 78);
	atomic_store(&crash_armed, 1);
	if (store_append(f->st, sent, m, sizeof m,
			 STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, &kw[1], 1, 1,
			 &uid, &err) == 0)
		_exit(3);	/* the hook exits first */
	_exit(2);
}

static void assert_append_crash(struct fx *f)
{
	int64_t sent = folder_id(f->st, f->mb[0], "Sent");
	struct uid_list l;
	list_msgs(f->st, sent, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.uid[0], 2);
	assert_int_equal(l.flags[0], STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	struct store_keywords k;
	struct err err;
	assert_int_equal(store_keywords_get(f->st, f->mb[0], &k, &err), 0);
	assert_string_equal(k.name[1], "Work");
	assert_int_equal(l.keywords[0], 2);
	assert_tag(f->st, sent, 2, 78, 500);
	assert_int_equal(used_of(f, 0), 500);
	assert_int_equal(check(f->st), 0);
}

/* The committer holds APPEND to the quota (RFC 9208 OVERQUOTA), counting
 * earlier appends of the same group; deliveries are not checked there. */
static void test_append_quota(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char m[1500];
	msg_fill(m, sizeof m, 7);
	assert_int_equal(store_mailbox_set_quota(f->st, "alice@example.com",
						 2500, &err), 0);
	assert_int_equal(store_append(f->st, f->inbox[0], m, 1000, 0, NULL,
				      0, 0, NULL, &err), 0);
	/* two more at once, one group or two: 3000 > 2500, none stored */
	struct store_append_req two[2];
	for (int i = 0; i < 2; i++)
		two[i] = (struct store_append_req){
			.folder_id = f->inbox[0], .data = m, .len = 1000,
		};
	assert_int_equal(store_append_many(f->st, two, 2, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	assert_string_equal(err.esc, "5.2.2");
	assert_int_equal(used_of(f, 0), 1000);
	/* exactly to the limit */
	assert_int_equal(store_append(f->st, f->inbox[0], m, 1500, 0, NULL, 0,
				      0, NULL, &err), 0);
	assert_int_equal(used_of(f, 0), 2500);
	assert_int_equal(store_append(f->st, f->inbox[0], m, 1, 0, NULL, 0, 0,
				      NULL, &err), -1);
	assert_int_equal(err.reply, 552);
	/* SMTP is judged at RCPT: a delivery still goes in */
	deliver1(f, 0, 3, 10);
	assert_int_equal(used_of(f, 0), 2510);
	/* no quota: no limit */
	assert_int_equal(store_mailbox_set_quota(f->st, "alice@example.com", 0,
						 &err), 0);
	assert_int_equal(store_append(f->st, f->inbox[0], m, 1000, 0, NULL,
				      0, 0, NULL, &err), 0);
	assert_int_equal(check(f->st), 0);
}

static void test_append_crash_replay(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_child(f, child_append_crash), 0);
	fx_open(f);
	assert_append_crash(f);
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_append_crash(f);
}

/* ---- copy and move ---------------------------------------------------------- */

static void test_copy_move(void **state)
{
	struct fx *f = *state;
	struct err err;
	for (int i = 1; i <= 4; i++)
		deliver1(f, 0, (uint64_t)i, 100 * (size_t)i);
	int64_t in = f->inbox[0];
	struct store_folder arch = folder_get(f->st, f->mb[0], "Archive");
	uint32_t seen = 2;
	assert_int_equal(store_flags_update(f->st, in, &seen, 1,
					    STORE_FLAGS_ADD, STORE_FLAG_SEEN,
					    NULL, 0, 0, NULL, &err), 0);

	uint32_t u[] = { 1, 2, 99 }, map[3], uv;
	assert_int_equal(store_copy(f->st, in, u, 3, arch.id, map, &uv, &err),
			 0);
	assert_int_equal(map[0], 1);
	assert_int_equal(map[1], 2);
	assert_int_equal(map[2], 0);
	assert_int_equal(uv, arch.uidvalidity);
	assert_tag(f->st, arch.id, 2, 2, 200);
	struct uid_list l;
	list_msgs(f->st, arch.id, &l);
	assert_int_equal(l.flags[1], STORE_FLAG_SEEN);
	assert_true(l.modseq[0] > arch.highestmodseq);
	assert_int_equal(used_of(f, 0), 1000 + 300);
	assert_int_equal(sql_int(f, "SELECT max(refcount) FROM blobs"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), 4);

	/* MOVE: in Trash, gone from INBOX (VANISHED), nothing counted twice */
	struct store_folder trash = folder_get(f->st, f->mb[0], "Trash");
	struct store_folder before = folder_get(f->st, f->mb[0], "INBOX");
	uint32_t mv[] = { 3, 4 }, mmap[2];
	uint64_t ms;
	assert_int_equal(store_move(f->st, in, mv, 2, trash.id, mmap, &uv, &ms,
				    &err), 0);
	assert_int_equal(mmap[0], 1);
	assert_int_equal(mmap[1], 2);
	assert_int_equal(ms, before.highestmodseq + 1);
	assert_tag(f->st, trash.id, 2, 4, 400);
	assert_false(exists(f->st, in, 3));
	list_vanished(f->st, in, before.highestmodseq, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(used_of(f, 0), 1300);

	/* MOVE within a folder: a UID that only the copy would have made
	 * exists (5, INBOX's UIDNEXT) is not taken */
	uint32_t self[] = { 2, 5 }, smap[2];
	assert_int_equal(store_move(f->st, in, self, 2, in, smap, NULL, NULL,
				    &err), 0);
	assert_int_equal(smap[0], 5);
	assert_int_equal(smap[1], 0);
	assert_tag(f->st, in, 5, 2, 200);
	assert_false(exists(f->st, in, 2));

	/* another mailbox's folder; a quota too small */
	assert_int_equal(store_copy(f->st, in, u, 1, f->inbox[1], NULL, NULL,
				    &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_mailbox_set_quota(f->st, "alice@example.com",
						 1350, &err), 0);
	assert_int_equal(store_copy(f->st, in, u, 1, arch.id, NULL, NULL,
				    &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	assert_int_equal(used_of(f, 0), 1300);
	/* MOVE does not grow the mailbox: allowed over quota */
	assert_int_equal(store_move(f->st, in, u, 1, arch.id, NULL, NULL, NULL,
				    &err), 0);
	assert_int_equal(check(f->st), 0);
	fx_reopen(f);
	assert_int_equal(check(f->st), 0);
}

/* ---- folders ------------------------------------------------------------------ */

static int collect_name(const char *name, void *arg)
{
	char *out = arg;
	strcat(out, name);	/* test buffer, sized below */
	strcat(out, ";");
	return 0;
}

static void test_folder_names(void **state)
{
	struct fx *f = *state;
	struct err err;
	static char deep[700];
	deep[0] = '\0';
	for (int i = 0; i < 300; i++)
		strcat(deep, i ? "/a" : "a");
	char longname[300];
	memset(longname, 'x', 256);
	longname[256] = '\0';
	const char *bad[] = { "../x", "a/../b", "a/./b", ".", "..", "%", "a%b",
			      "*", "a*", "", "a//b", "/a", "a/", "a\r\nb",
			      "a\tb", "\xff", "a\xc0\xaf" "b", "\xed\xa0\x80",
			      deep, longname };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&err);
		if (store_folder_create(f->st, f->mb[0], bad[i],
					STORE_SPECIAL_NONE, NULL, &err) != -1)
			fail_msg("name %zu accepted", i);
		assert_true(err.kind == ERR_PEER || err.kind == ERR_LIMIT);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(store_folder_name_check(bad[i], &err), -1);
		assert_int_equal(store_subscribe(f->st, f->mb[0], bad[i], true,
						 &err), -1);
	}
	/* the limits themselves are fine */
	memset(longname, 'x', 255);
	longname[255] = '\0';
	assert_int_equal(store_folder_name_check(longname, &err), 0);
	char d32[100] = "";
	for (int i = 0; i < 32; i++)
		strcat(d32, i ? "/a" : "a");
	assert_int_equal(store_folder_name_check(d32, &err), 0);
	strcat(d32, "/a");
	assert_int_equal(store_folder_name_check(d32, &err), -1);
	assert_int_equal(store_folder_create(f->st, f->mb[0],
					     "Entw\xc3\xbcrfe", STORE_SPECIAL_NONE,
					     NULL, &err), 0);
	/* INBOX in any case exists */
	assert_int_equal(store_folder_create(f->st, f->mb[0], "inbox",
					     STORE_SPECIAL_NONE, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(folder_get(f->st, f->mb[0], "iNbOx").id, f->inbox[0]);
	assert_int_equal(check(f->st), 0);
}

static void test_folders(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t q1;
	assert_int_equal(store_folder_create(f->st, f->mb[0], "Projects/2024/Q1",
					     STORE_SPECIAL_NONE, &q1, &err), 0);
	struct store_folder p = folder_get(f->st, f->mb[0], "Projects");
	struct store_folder y = folder_get(f->st, f->mb[0], "Projects/2024");
	assert_int_equal(folder_get(f->st, f->mb[0], "Projects/2024/Q1").id, q1);
	assert_true(p.uidvalidity != y.uidvalidity);
	assert_false(p.subscribed);
	assert_true(folder_get(f->st, f->mb[0], "INBOX").subscribed);
	assert_int_equal(store_folder_create(f->st, f->mb[0], "Projects",
					     STORE_SPECIAL_NONE, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	/* a special use the mailbox has already */
	assert_int_equal(store_folder_create(f->st, f->mb[0], "Other Sent",
					     STORE_SPECIAL_SENT, NULL, &err), -1);
	assert_int_equal(store_folder_create(f->st, 987654, "X",
					     STORE_SPECIAL_NONE, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);

	/* messages in 2024 (one shared with INBOX by a copy) */
	unsigned char m[400];
	msg_fill(m, sizeof m, 9);
	uint32_t uid;
	assert_int_equal(store_append(f->st, y.id, m, sizeof m, 0, NULL, 0, 0,
				      &uid, &err), 0);
	assert_int_equal(store_append(f->st, y.id, m, 100, STORE_FLAG_SEEN,
				      NULL, 0, 0, &uid, &err), 0);
	assert_int_equal(store_copy(f->st, y.id, &uid, 1, f->inbox[0], NULL,
				    NULL, &err), 0);
	y = folder_get(f->st, f->mb[0], "Projects/2024");
	assert_int_equal(y.messages, 2);
	assert_int_equal(y.unseen, 1);
	assert_int_equal(y.size, 500);
	assert_int_equal(used_of(f, 0), 600);

	/* RENAME with children; UIDVALIDITY stays */
	assert_int_equal(store_folder_rename(f->st, f->mb[0], "Projects",
					     "Work/Old", &err), 0);
	struct store_folder y2 = folder_get(f->st, f->mb[0], "Work/Old/2024");
	assert_int_equal(y2.id, y.id);
	assert_int_equal(y2.uidvalidity, y.uidvalidity);
	assert_int_equal(folder_get(f->st, f->mb[0], "Work/Old/2024/Q1").id, q1);
	assert_int_equal(folder_get(f->st, f->mb[0], "Work/Old").id, p.id);
	folder_get(f->st, f->mb[0], "Work");
	struct store_folder none;
	assert_int_equal(store_folder_find(f->st, f->mb[0], "Projects/2024",
					   &none, &err), 0);
	assert_int_equal(store_folder_rename(f->st, f->mb[0], "Work/Old",
					     "Sent", &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_folder_rename(f->st, f->mb[0], "Work",
					     "Work/Inner", &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_folder_rename(f->st, f->mb[0], "Nope", "X",
					     &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	assert_int_equal(store_folder_rename(f->st, f->mb[0], "Sent", "inbox",
					     &err), -1);

	/* DELETE: its messages go (the copy in INBOX stays), children stay */
	assert_int_equal(store_folder_delete(f->st, f->mb[0], "Work/Old/2024",
					     &err), 0);
	assert_int_equal(store_folder_find(f->st, f->mb[0], "Work/Old/2024",
					   &none, &err), 0);
	assert_int_equal(folder_get(f->st, f->mb[0], "Work/Old/2024/Q1").id, q1);
	assert_int_equal(used_of(f, 0), 100);
	assert_tag(f->st, f->inbox[0], 1, 9, 100);
	assert_int_equal(sql_int(f, "SELECT sum(refcount) FROM blobs"), 1);
	assert_int_equal(store_folder_delete(f->st, f->mb[0], "INBOX", &err),
			 -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_folder_delete(f->st, f->mb[0], "Work/Old/2024",
					     &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	/* the name again: a new folder, a new id and UIDVALIDITY */
	int64_t again;
	assert_int_equal(store_folder_create(f->st, f->mb[0], "Work/Old/2024",
					     STORE_SPECIAL_NONE, &again, &err),
			 0);
	assert_true(again > q1 && again != y.id);
	assert_true(folder_get(f->st, f->mb[0], "Work/Old/2024").uidvalidity >
		    y.uidvalidity);
	/* deleting the highest id does not hand it out again */
	assert_int_equal(store_folder_delete(f->st, f->mb[0], "Work/Old/2024",
					     &err), 0);
	int64_t third;
	assert_int_equal(store_folder_create(f->st, f->mb[0], "Z",
					     STORE_SPECIAL_NONE, &third, &err),
			 0);
	assert_true(third > again);

	/* subscriptions may name folders that do not exist */
	assert_int_equal(store_subscribe(f->st, f->mb[0], "Ghost/Folder", true,
					 &err), 0);
	assert_int_equal(store_subscribe(f->st, f->mb[0], "Z", true, &err), 0);
	assert_int_equal(store_subscribe(f->st, f->mb[0], "Z", true, &err), 0);
	assert_int_equal(store_subscribe(f->st, f->mb[0], "Sent", false, &err),
			 0);
	assert_int_equal(store_subscribe(f->st, f->mb[0], "Never", false,
					 &err), 0);
	char subs[512] = "";
	assert_int_equal(store_subscription_each(f->st, f->mb[0], collect_name,
						 subs, &err), 0);
	assert_string_equal(subs, "Archive;Drafts;Ghost/Folder;INBOX;Junk;"
				  "Trash;Z;");
	assert_true(folder_get(f->st, f->mb[0], "Z").subscribed);
	assert_false(folder_get(f->st, f->mb[0], "Sent").subscribed);
	assert_int_equal(check(f->st), 0);
	fx_reopen(f);
	assert_int_equal(check(f->st), 0);
}

static void test_inbox_rename(void **state)
{
	struct fx *f = *state;
	struct err err;
	for (int i = 1; i <= 3; i++)
		deliver1(f, 0, (uint64_t)i, 100);
	uint32_t one = 2;
	assert_int_equal(store_flags_update(f->st, f->inbox[0], &one, 1,
					    STORE_FLAGS_ADD, STORE_FLAG_FLAGGED,
					    NULL, 0, 0, NULL, &err), 0);
	assert_int_equal(store_folder_create(f->st, f->mb[0], "INBOX/Child",
					     STORE_SPECIAL_NONE, NULL, &err), 0);
	struct store_folder in = folder_get(f->st, f->mb[0], "INBOX");
	assert_int_equal(store_folder_rename(f->st, f->mb[0], "inbox",
					     "Old Mail", &err), 0);
	struct store_folder old = folder_get(f->st, f->mb[0], "Old Mail");
	assert_int_equal(old.messages, 3);
	assert_true(old.uidvalidity != in.uidvalidity);
	assert_int_equal(old.uidnext, in.uidnext);
	struct uid_list l;
	list_msgs(f->st, old.id, &l);
	assert_int_equal(l.uid[0], 1);
	assert_int_equal(l.flags[1], STORE_FLAG_FLAGGED);
	assert_tag(f->st, old.id, 3, 3, 100);
	struct store_folder in2 = folder_get(f->st, f->mb[0], "INBOX");
	assert_int_equal(in2.id, in.id);
	assert_int_equal(in2.messages, 0);
	assert_int_equal(in2.special, STORE_SPECIAL_INBOX);
	assert_int_equal(in2.highestmodseq, in.highestmodseq + 1);
	list_vanished(f->st, in.id, in.highestmodseq, &l);
	assert_int_equal(l.n, 3);
	/* INBOX's children stay; INBOX keeps counting */
	folder_get(f->st, f->mb[0], "INBOX/Child");
	assert_int_equal(deliver1(f, 0, 4, 100), 4);
	assert_int_equal(used_of(f, 0), 400);
	assert_int_equal(check(f->st), 0);
}

/* ---- watch and cache ---------------------------------------------------------- */

struct watch_rec {
	atomic_int calls;
	_Atomic int64_t last_folder;
};

static void on_change(void *arg, int64_t mailbox_id, int64_t folder)
{
	struct watch_rec *w = arg;
	(void)mailbox_id;
	atomic_store(&w->last_folder, folder);
	atomic_fetch_add(&w->calls, 1);
}

static void test_watch(void **state)
{
	struct fx *f = *state;
	struct err err;
	static struct watch_rec w;
	struct store_watch *h = NULL;
	assert_int_equal(store_watch(f->st, f->mb[0], on_change, &w, &h, &err),
			 0);
	/* callbacks run before the waiting call returns */
	deliver1(f, 0, 1, 10);
	assert_int_equal(atomic_load(&w.calls), 1);
	assert_int_equal(atomic_load(&w.last_folder), f->inbox[0]);
	deliver1(f, 1, 2, 10);	/* bob's: not alice's watcher */
	assert_int_equal(atomic_load(&w.calls), 1);
	uint32_t u = 1;
	assert_int_equal(store_flags_update(f->st, f->inbox[0], &u, 1,
					    STORE_FLAGS_ADD, STORE_FLAG_SEEN,
					    NULL, 0, 0, NULL, &err), 0);
	assert_int_equal(atomic_load(&w.calls), 2);
	/* unchanged flags: nothing to tell */
	assert_int_equal(store_flags_update(f->st, f->inbox[0], &u, 1,
					    STORE_FLAGS_ADD, STORE_FLAG_SEEN,
					    NULL, 0, 0, NULL, &err), 0);
	assert_int_equal(atomic_load(&w.calls), 2);
	assert_int_equal(store_folder_create(f->st, f->mb[0], "New",
					     STORE_SPECIAL_NONE, NULL, &err), 0);
	assert_int_equal(atomic_load(&w.calls), 3);
	assert_int_equal(atomic_load(&w.last_folder), 0);
	uint64_t ms;
	assert_int_equal(store_expunge(f->st, f->inbox[0], &u, 1, &ms, &err),
			 0);
	assert_int_equal(atomic_load(&w.calls), 4);
	store_unwatch(f->st, &h);
	assert_null(h);
	deliver1(f, 0, 3, 10);
	assert_int_equal(atomic_load(&w.calls), 4);
	/* left registered at close: freed by the store */
	assert_int_equal(store_watch(f->st, f->mb[1], on_change, &w, &h, &err),
			 0);
}

static void test_meta(void **state)
{
	struct fx *f = *state;
	struct err err;
	deliver1(f, 0, 1, 10);
	unsigned char *p;
	size_t n;
	assert_int_equal(store_meta_get(f->st, f->inbox[0], 1, &p, &n, &err), 0);
	assert_int_equal(store_meta_put(f->st, f->inbox[0], 1, "(ENVELOPE)", 10,
					&err), 0);
	assert_int_equal(store_meta_put(f->st, f->inbox[0], 1, "(ENV2)", 6,
					&err), 0);
	assert_int_equal(store_meta_get(f->st, f->inbox[0], 1, &p, &n, &err), 1);
	assert_int_equal(n, 6);
	assert_memory_equal(p, "(ENV2)", 6);
	free(p);
	assert_int_equal(store_meta_put(f->st, f->inbox[0], 7, "x", 1, &err),
			 -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	static unsigned char big[STORE_META_MAX + 1];
	assert_int_equal(store_meta_put(f->st, f->inbox[0], 1, big, sizeof big,
					&err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	assert_int_equal(store_meta_put(f->st, f->inbox[0], 1, big,
					STORE_META_MAX, &err), 0);
	/* a copy shares it */
	int64_t arch = folder_id(f->st, f->mb[0], "Archive");
	uint32_t u = 1, map;
	assert_int_equal(store_copy(f->st, f->inbox[0], &u, 1, arch, &map, NULL,
				    &err), 0);
	assert_int_equal(store_meta_get(f->st, arch, map, &p, &n, &err), 1);
	assert_int_equal(n, STORE_META_MAX);
	free(p);
	assert_int_equal(check(f->st), 0);
}

/* A delivery carries its parse cache: indexed with the message, one row
 * for the blob that every recipient shares; too large: left out. */
static void test_meta_with_delivery(void **state)
{
	struct fx *f = *state;
	struct err err;
	static const unsigned char msg[] = "Subject: x\r\n\r\nbody\r\n";
	struct store_delivery d = {
		.data = msg, .len = sizeof msg - 1,
		.mailbox_ids = f->mb, .n_mailboxes = 2,
		.internal_date = 1700000000,
		.meta = "(CACHE)", .meta_len = 7,
	};
	uint32_t uids[2];
	d.uids_out = uids;
	assert_int_equal(store_deliver_wait(f->st, &d, &err), 0);
	for (int i = 0; i < 2; i++) {
		unsigned char *p;
		size_t n;
		assert_int_equal(store_meta_get(f->st, f->inbox[i], uids[i], &p, &n,
						&err), 1);
		assert_int_equal(n, 7);
		assert_memory_equal(p, "(CACHE)", 7);
		free(p);
	}
	static unsigned char big[STORE_META_MAX + 1];
	struct store_delivery d2 = d;
	d2.meta = big;
	d2.meta_len = sizeof big;
	d2.n_mailboxes = 1;
	assert_int_equal(store_deliver_wait(f->st, &d2, &err), 0);
	unsigned char *p;
	size_t n;
	assert_int_equal(store_meta_get(f->st, f->inbox[0], uids[0], &p, &n, &err), 0);
	assert_int_equal(check(f->st), 0);
}

/* ---- SELECT of a large folder ------------------------------------------------- */

static int count_msg(const struct store_message *m, void *arg)
{
	size_t *n = arg;
	(void)m;
	(*n)++;
	return 0;
}

static void test_select_10k(void **state)
{
	struct fx *f = *state;
	struct err err;
	enum { N = 10000, B = 500 };
	static struct store_delivery d[B];
	static unsigned char body[200];
	msg_fill(body, sizeof body, 1);
	for (int done = 0; done < N; done += B) {
		for (int i = 0; i < B; i++) {
			d[i] = (struct store_delivery){
				.data = body, .len = sizeof body,
				.mailbox_ids = &f->mb[1], .n_mailboxes = 1,
			};
			if (i < B - 1)
				assert_int_equal(store_deliver_submit(f->st, &d[i],
								      &err), 0);
			else
				assert_int_equal(store_deliver_wait(f->st, &d[i],
								    &err), 0);
		}
	}
	static uint32_t uids[N];
	for (int i = 0; i < N; i++)
		uids[i] = (uint32_t)i + 1;
	assert_int_equal(store_flags_update(f->st, f->inbox[1], uids, N / 2,
					    STORE_FLAGS_ADD, STORE_FLAG_SEEN,
					    NULL, 0, 0, NULL, &err), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t n = 0;
	assert_int_equal(store_message_each(f->st, f->inbox[1], count_msg, &n,
					    &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(n, N);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("message_each of %d messages: %.1f ms\n", N, ms);
	assert_true(ms < 2000);	/* ~10 ms here; generous for sanitizers */
	assert_int_equal(folder_get(f->st, f->mb[1], "INBOX").unseen, N / 2);
}

/* ---- SIGKILL in a loop of appends, expunges and flag changes -------------- */

enum { ACK_APPEND = 1, ACK_EXPUNGE_TRY, ACK_EXPUNGE_DONE };

struct mack {
	uint32_t kind;
	uint32_t uid;
	uint64_t tag;
	uint32_t len;
	uint32_t pad;
};

struct kill_ctx {
	struct fx *f;
	int64_t sent;
	int fd;
	int round;
	_Atomic uint32_t last_uid;	/* highest acknowledged append */
};

static void ack_write(struct kill_ctx *k, const struct mack *m)
{
	CHILD_CHECK(write(k->fd, m, sizeof *m) == sizeof *m);
}

static void *kill_appender(void *arg)
{
	struct kill_ctx *k = arg;
	unsigned char *buf = malloc(6000);
	CHILD_CHECK(buf != NULL);
	uint32_t x = (uint32_t)k->round * 7919u + 1;
	for (uint64_t i = 0;; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		struct mack m = { .kind = ACK_APPEND,
				  .tag = (uint64_t)(k->round + 1) << 32 | i,
				  .len = 8 + x % 5000 };
		msg_fill(buf, m.len, m.tag);
		const char *kw[] = { "$Forwarded" };
		struct err err;
		if (store_append(k->f->st, k->sent, buf, m.len, STORE_FLAG_SEEN,
				 kw, x % 2, 1700000000, &m.uid, &err) != 0)
			continue;
		ack_write(k, &m);
		atomic_store(&k->last_uid, m.uid);
	}
	return NULL;
}

static void *kill_expunger(void *arg)
{
	struct kill_ctx *k = arg;
	uint32_t x = (uint32_t)k->round * 104729u + 7;
	for (;;) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint32_t last = atomic_load(&k->last_uid);
		if (last == 0) {
			usleep(100);
			continue;
		}
		struct mack m = { .kind = ACK_EXPUNGE_TRY, .uid = 1 + x % last };
		ack_write(k, &m);
		uint64_t ms;
		struct err err;
		if (store_expunge(k->f->st, k->sent, &m.uid, 1, &ms, &err) != 0)
			continue;
		m.kind = ACK_EXPUNGE_DONE;
		ack_write(k, &m);
		/* and a delivery to INBOX now and then, expunged at once */
		if (x % 4 == 0) {
			uint32_t u[2];
			if (deliver_tag(k->f->st, 1, 64, k->f->mb, 2, u) == 0)
				(void)!store_expunge(k->f->st, k->f->inbox[0],
						    u, 1, &ms, &err);
		}
	}
	return NULL;
}

static void *kill_flagger(void *arg)
{
	struct kill_ctx *k = arg;
	uint32_t x = (uint32_t)k->round * 31337u + 3;
	for (;;) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint32_t last = atomic_load(&k->last_uid);
		if (last == 0) {
			usleep(100);
			continue;
		}
		uint32_t uids[3] = { 1 + x % last, 1 + (x >> 8) % last,
				     1 + (x >> 16) % last };
		const char *kw[] = { "$Junk" };
		struct err err;
		(void)!store_flags_update(k->f->st, k->sent, uids, 3,
					  (enum store_flags_op)(x % 3),
					  STORE_FLAG_FLAGGED, kw, 1, 0, NULL,
					  &err);
	}
	return NULL;
}

static void kill_child(struct fx *f, int round, int fd)
{
	struct err err;
	CHILD_CHECK(store_open(f->dir, &f->st, &err) == 0);
	static struct kill_ctx k;
	k = (struct kill_ctx){ .f = f, .fd = fd, .round = round,
			       .sent = folder_id(f->st, f->mb[0], "Sent") };
	struct store_folder fo;
	CHILD_CHECK(store_folder_find(f->st, f->mb[0], "Sent", &fo, &err) == 1);
	atomic_store(&k.last_uid, fo.uidnext - 1);
	pthread_t th[3];
	CHILD_CHECK(pthread_create(&th[0], NULL, kill_appender, &k) == 0);
	CHILD_CHECK(pthread_create(&th[1], NULL, kill_expunger, &k) == 0);
	CHILD_CHECK(pthread_create(&th[2], NULL, kill_flagger, &k) == 0);
	pause();
	_exit(3);
}

struct kept {
	uint64_t tag;
	uint32_t len;
	uint8_t state;	/* 1 appended, 2 maybe expunged, 3 expunged */
};

static void test_sigkill_mail(void **state)
{
	struct fx *f = *state;
	enum { MAXUID = 1 << 20 };
	struct kept *kept = calloc(MAXUID, sizeof *kept);
	assert_non_null(kept);
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	const char *env_seed = getenv("PETREL_TEST_SEED");
	if (env_seed != NULL)
		seed = (unsigned)strtoul(env_seed, NULL, 10);
	print_message("kill timing seed %u (PETREL_TEST_SEED)\n", seed);
	srand(seed);
	int64_t sent = folder_id(f->st, f->mb[0], "Sent");
	for (int round = 0; round < 3; round++) {
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
		size_t n_acks = 0;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long wait_ms = 100 + rand() % 400;
		struct mack m;
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long gone = (t1.tv_sec - t0.tv_sec) * 1000 +
				    (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if (gone >= wait_ms)
				break;
			struct pollfd pfd = { .fd = p[0], .events = POLLIN };
			if (poll(&pfd, 1, (int)(wait_ms - gone)) <= 0)
				continue;
			if (read(p[0], &m, sizeof m) != sizeof m)
				break;
			assert_true(m.uid < MAXUID);
			n_acks++;
			if (m.kind == ACK_APPEND)
				kept[m.uid] = (struct kept){ m.tag, m.len, 1 };
			else if (kept[m.uid].state != 0)
				kept[m.uid].state = m.kind == ACK_EXPUNGE_TRY
							    ? (kept[m.uid].state == 3 ? 3 : 2)
							    : 3;
		}
		assert_int_equal(kill(pid, SIGKILL), 0);
		ssize_t r;
		while ((r = read(p[0], &m, sizeof m)) == sizeof m) {
			assert_true(m.uid < MAXUID);
			if (m.kind == ACK_APPEND)
				kept[m.uid] = (struct kept){ m.tag, m.len, 1 };
			else if (kept[m.uid].state != 0)
				kept[m.uid].state = m.kind == ACK_EXPUNGE_TRY
							    ? (kept[m.uid].state == 3 ? 3 : 2)
							    : 3;
			n_acks++;
		}
		close(p[0]);
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		print_message("round %d: %zu acknowledgements\n", round, n_acks);

		fx_open(f);
		assert_int_equal(check(f->st), 0);
		size_t present = 0;
		for (uint32_t uid = 1; uid < MAXUID; uid++) {
			if (kept[uid].state == 0)
				continue;
			bool there = exists(f->st, sent, uid);
			if (kept[uid].state == 1 && !there)
				fail_msg("acknowledged append uid %u is lost",
					 uid);
			if (kept[uid].state == 3 && there)
				fail_msg("acknowledged expunge uid %u is back",
					 uid);
			if (there) {
				assert_tag(f->st, sent, uid, kept[uid].tag,
					   kept[uid].len);
				present++;
			}
		}
		/* UIDs and modseqs: strictly increasing UIDs, every modseq
		 * within HIGHESTMODSEQ (store_check), used = sum of sizes
		 * (store_check) */
		struct uid_list *l = malloc(sizeof *l);
		l->n = 0;
		struct err err;
		struct store_folder fo = folder_get(f->st, f->mb[0], "Sent");
		if (fo.messages <= 4096) {
			list_msgs(f->st, sent, l);
			for (size_t i = 1; i < l->n; i++)
				assert_true(l->uid[i] > l->uid[i - 1]);
		}
		(void)err;
		free(l);
		print_message("round %d: %zu present, %u in Sent\n", round,
			      present, fo.messages);
	}
	free(kept);
}
int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expunge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expunge_many, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expunge_crash_replay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_junk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_crash_replay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copy_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_rename, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_with_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_10k, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_mail, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
