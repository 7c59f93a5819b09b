/* store_commit.c - delivery by group commit. Sessions queue deliveries;
 * one committer thread takes everything queued as a group, appends the
 * group's records to the current segment with pwritev, makes them durable
 * with ONE fdatasync, records them in ONE SQLite transaction (COMMIT with
 * synchronous=FULL), and only then completes each delivery. While it
 * syncs, new submissions queue up for the next group, so the cost of the
 * two syncs is shared by everything that arrived meanwhile.
 */
#include "store/store_private.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/log.h"

/* STMT_INBOX_NEXT_UID finds INBOX by this value (store_db.c). */
_Static_assert(STORE_SPECIAL_INBOX == 1, "special_use of INBOX is 1");

int store_deliver_submit(struct store *st, struct store_delivery *d,
			 struct err *err)
{
	assert(d->n_mailboxes > 0 && d->mailbox_ids != NULL);
	assert(d->data != NULL || d->len == 0);
	d->rc = -1;
	err_clear(&d->err);
	d->next_ = NULL;
	pthread_mutex_lock(&st->q_mu);
	if (st->closing) {
		pthread_mutex_unlock(&st->q_mu);
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: shutting down");
	}
	if (st->q_tail != NULL)
		st->q_tail->next_ = d;
	else
		st->q_head = d;
	st->q_tail = d;
	pthread_cond_signal(&st->q_cv);
	pthread_mutex_unlock(&st->q_mu);
	return 0;
}

struct store_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool finished;
};

static void waiter_done(struct store_delivery *d)
{
	struct store_waiter *w = d->arg;
	pthread_mutex_lock(&w->mu);
	w->finished = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int store_deliver_wait(struct store *st, struct store_delivery *d,
		       struct err *err)
{
	void (*saved_done)(struct store_delivery *) = d->done;
	void *saved_arg = d->arg;
	struct store_waiter w = { .finished = false };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	d->done = waiter_done;
	d->arg = &w;
	int rc = store_deliver_submit(st, d, err);
	if (rc == 0) {
		pthread_mutex_lock(&w.mu);
		while (!w.finished)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		if (d->rc < 0) {
			if (err != NULL)
				*err = d->err;
			rc = -1;
		}
	}
	d->done = saved_done;
	d->arg = saved_arg;
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

/* Index one delivery inside the group's transaction: its blob row, then
 * per mailbox a UID and mod-sequence from INBOX, the message row, and the
 * mailbox's used bytes. 1 done; 0 this delivery cannot be stored (d->err
 * set; the caller rolls back to its savepoint); -1 SQLite failed (err). */
static int delivery_index(struct store_conn *c, struct store_delivery *d,
			  uint32_t segment, uint64_t offset, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_BLOB_ADD, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, segment);
	sqlite3_bind_int64(s, 2, (int64_t)offset);
	sqlite3_bind_int64(s, 3, (int64_t)d->len);
	sqlite3_bind_int64(s, 4, (int64_t)d->n_mailboxes);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "insert blob");
	int64_t blob_id = sqlite3_last_insert_rowid(c->db);

	for (size_t i = 0; i < d->n_mailboxes; i++) {
		s = store_stmt(c, STMT_INBOX_NEXT_UID, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, d->mailbox_ids[i]);
		rc = sqlite3_step(s);
		int64_t folder_id = sqlite3_column_int64(s, 0);
		int64_t uid = sqlite3_column_int64(s, 1);
		int64_t modseq = sqlite3_column_int64(s, 2);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc == SQLITE_DONE) {
			/* deleted after RCPT, or 2^32 - 2 UIDs used: the
			 * client retries and RCPT decides again */
			log_warn("store", NULL, "op=deliver mailbox=%lld "
				 "error=\"no INBOX or no free UID\"",
				 (long long)d->mailbox_ids[i]);
			err_set(&d->err, ERR_NOTFOUND, 451, "4.3.0",
				"store: mailbox %lld cannot take mail now",
				(long long)d->mailbox_ids[i]);
			return 0;
		}
		if (rc != SQLITE_ROW)
			return store_db_fail(err, c, "allocate UID");

		s = store_stmt(c, STMT_MESSAGE_ADD, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, folder_id);
		sqlite3_bind_int64(s, 2, uid);
		sqlite3_bind_int64(s, 3, blob_id);
		sqlite3_bind_int64(s, 4, (int64_t)d->len);
		sqlite3_bind_int64(s, 5, d->internal_date);
		sqlite3_bind_int64(s, 6, modseq);
		rc = sqlite3_step(s);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc != SQLITE_DONE)
			return store_db_fail(err, c, "insert message");

		s = store_stmt(c, STMT_MAILBOX_USED, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, d->mailbox_ids[i]);
		sqlite3_bind_int64(s, 2, (int64_t)d->len);
		rc = sqlite3_step(s);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc != SQLITE_DONE)
			return store_db_fail(err, c, "update used bytes");

		if (d->uids_out != NULL)
			d->uids_out[i] = (uint32_t)uid;
	}
	return 1;
}

/* The group's metadata in one transaction. Each delivery runs under a
 * savepoint so that one whose mailbox vanished fails alone; any SQLite
 * error fails (and rolls back) the whole group. */
static int group_index(struct store *st, struct store_group *g,
		       struct err *err)
{
	struct store_conn *c = st->writer;
	if (store_exec(c, STMT_BEGIN, err) < 0)
		return -1;
	for (size_t i = 0; i < g->n; i++) {
		struct store_delivery *d = g->d[i];
		if (store_exec(c, STMT_SAVEPOINT, err) < 0)
			goto fail;
		int r = delivery_index(c, d, st->seg.id, g->offset[i], err);
		if (r < 0)
			goto fail;
		if (r == 0) {
			d->rc = -1;
			if (store_exec(c, STMT_ROLLBACK_TO, err) < 0)
				goto fail;
		}
		if (store_exec(c, STMT_RELEASE, err) < 0)
			goto fail;
	}
	if (store_exec(c, STMT_COMMIT, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(c);
	return -1;
}

/* Append the group's records, sync them, index them. On return each
 * delivery's rc/err say how it went. */
static void group_commit(struct store *st, struct store_group *g)
{
	struct err err;
	err_clear(&err);
	for (size_t i = 0; i < g->n; i++) {
		struct store_delivery *d = g->d[i];
		d->rc = 0;
		store_rec_encode(g->hdr[i], d->data, d->len);
		g->iov[2 * i].iov_base = g->hdr[i];
		g->iov[2 * i].iov_len = STORE_REC_HDR_SIZE;
		/* iovec has no const; pwritev only reads from it */
		g->iov[2 * i + 1].iov_base = (void *)(uintptr_t)d->data;
		g->iov[2 * i + 1].iov_len = d->len;
	}
	if (store_segment_prepare(st->blobs_fd, &st->seg, &err) < 0)
		goto fail;

	uint64_t start = st->seg.size;
	uint64_t end = start;
	for (size_t i = 0; i < g->n; i++) {
		g->offset[i] = end;
		if (__builtin_add_overflow(end, (uint64_t)STORE_REC_HDR_SIZE,
					   &end) ||
		    __builtin_add_overflow(end, (uint64_t)g->d[i]->len, &end)) {
			store_sys_fail(&err, "place records", EFBIG);
			goto fail;
		}
	}
	if (store_segment_write(&st->seg, g->iov, 2 * g->n, &err) < 0) {
		/* Drop the partial bytes and write the next group at start;
		 * if that fails too, the next group overwrites them. Either
		 * way nothing refers to them. */
		if (ftruncate(st->seg.fd, (off_t)start) < 0)
			log_warn("store", NULL, "op=truncate segment=%u "
				 "error=\"%s\"", (unsigned)st->seg.id,
				 strerror(errno));
		goto fail;
	}
	if (fdatasync(st->seg.fd) < 0) {
		store_sys_fail(&err, "sync segment", errno);
		/* After a failed sync the kernel may have dropped the dirty
		 * pages and marked them clean; do not append to this file
		 * again, start a new one with the next group. */
		st->seg.retire = true;
		goto fail;
	}
	st->seg.size = end;
	if (group_index(st, g, &err) < 0)
		goto fail;
	return;
fail:
	for (size_t i = 0; i < g->n; i++) {
		g->d[i]->rc = -1;
		g->d[i]->err = err;
	}
}

static void *committer_main(void *arg)
{
	struct store *st = arg;
	struct store_group *g = &st->group;
	pthread_mutex_lock(&st->q_mu);
	for (;;) {
		while (st->q_head == NULL && !st->closing)
			pthread_cond_wait(&st->q_cv, &st->q_mu);
		if (st->q_head == NULL)
			break;	/* closing and drained */

		/* Take what is queued, up to the group bounds; always at
		 * least one delivery, however large. */
		uint64_t bytes = 0;
		g->n = 0;
		while (st->q_head != NULL && g->n < STORE_GROUP_MAX_MSGS) {
			struct store_delivery *d = st->q_head;
			if (g->n > 0 && (bytes >= STORE_GROUP_MAX_BYTES ||
					 d->len > STORE_GROUP_MAX_BYTES - bytes))
				break;
			bytes += d->len;
			st->q_head = d->next_;
			d->next_ = NULL;
			g->d[g->n++] = d;
		}
		if (st->q_head == NULL)
			st->q_tail = NULL;
		pthread_mutex_unlock(&st->q_mu);

		group_commit(st, g);

		uint64_t ok = 0, ok_bytes = 0;
		const char *why = "";
		for (size_t i = 0; i < g->n; i++) {
			if (g->d[i]->rc == 0) {
				ok++;
				ok_bytes += g->d[i]->len;
			} else if (why[0] == '\0') {
				why = g->d[i]->err.msg;
			}
		}
		if (ok < g->n)
			log_warn("store", NULL, "op=group-commit msgs=%zu "
				 "failed=%llu error=\"%s\"", g->n,
				 (unsigned long long)(g->n - ok), why);
		else
			log_debug("store", NULL, "op=group-commit msgs=%zu "
				  "bytes=%llu", g->n,
				  (unsigned long long)ok_bytes);

		/* stats before done(), so that a woken waiter sees them */
		pthread_mutex_lock(&st->q_mu);
		if (ok > 0)
			st->stats.groups++;
		st->stats.deliveries += ok;
		st->stats.failures += g->n - ok;
		st->stats.bytes += ok_bytes;
		pthread_mutex_unlock(&st->q_mu);

		/* the caller may free d from done(): do not touch it after */
		for (size_t i = 0; i < g->n; i++)
			if (g->d[i]->done != NULL)
				g->d[i]->done(g->d[i]);
		g->n = 0;
		pthread_mutex_lock(&st->q_mu);
	}
	pthread_mutex_unlock(&st->q_mu);
	return NULL;
}

int store_committer_start(struct store *st, struct err *err)
{
	/* Signals are for the daemon's main thread; block them here. A
	 * file-size limit then shows up as EFBIG, like any write error. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&st->committer, NULL, committer_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return store_sys_fail(err, "start committer thread", rc);
	st->committer_running = true;
	/* only a name for ps/gdb; failure changes nothing */
	(void)pthread_setname_np(st->committer, "petrel-commit");
	return 0;
}

void store_committer_stop(struct store *st)
{
	pthread_mutex_lock(&st->q_mu);
	st->closing = true;
	pthread_cond_broadcast(&st->q_cv);
	pthread_mutex_unlock(&st->q_mu);
	if (!st->committer_running)
		return;
	int rc = pthread_join(st->committer, NULL);
	if (rc != 0)
		log_error("store", NULL, "op=join-committer error=\"%s\"",
			  strerror(rc));
	st->committer_running = false;
}
