/* store_job.c - mail mutations as committer jobs: the queue beside the
 * delivery queue, the batch transaction that runs them (each under a
 * savepoint, one WAL sync for all with synchronous=FULL), and waking the
 * waiters and the folders' watchers afterwards. What each job does is in
 * store_mutate.c and store_folder.c; why SQLite and not the log is in
 * decision 0004.
 */
#include "store/store_private.h"

#include <string.h>

#include "core/log.h"

int store_job_wait(struct store *st, struct store_job *j, struct err *err)
{
	j->rc = -1;
	err_clear(&j->err);
	j->n_touch = 0;
	j->finished = false;
	j->next = NULL;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	int rc = 0;
	pthread_mutex_lock(&st->q_mu);
	if (st->closing) {
		rc = err_set(err, ERR_ENV, 451, "4.3.0",
			     "store: not accepting changes (shutting down or "
			     "opened for administration)");
	} else {
		if (st->j_tail != NULL)
			st->j_tail->next = j;
		else
			st->j_head = j;
		st->j_tail = j;
		pthread_cond_signal(&st->q_cv);
	}
	pthread_mutex_unlock(&st->q_mu);
	if (rc == 0) {
		pthread_mutex_lock(&j->mu);
		while (!j->finished)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		if (j->rc < 0) {
			if (err != NULL)
				*err = j->err;
			rc = -1;
		}
	}
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	return rc;
}

void store_job_touch(struct store_job *j, int64_t mailbox_id,
		     int64_t folder_id)
{
	for (size_t i = 0; i < j->n_touch; i++)
		if (j->touch[i].mailbox_id == mailbox_id &&
		    j->touch[i].folder_id == folder_id)
			return;
	/* each kind of job touches at most STORE_JOB_TOUCH_MAX */
	if (j->n_touch < STORE_JOB_TOUCH_MAX)
		j->touch[j->n_touch++] =
			(struct store_touch){ mailbox_id, folder_id };
}

static void fail_batch(struct store_job *batch, const struct err *err)
{
	for (struct store_job *j = batch; j != NULL; j = j->next) {
		j->rc = -1;
		j->err = *err;
	}
}

/* One job under its savepoint. -1 only when the transaction as a whole
 * is lost (a failed job alone returns 0 with j->rc -1). */
static int run_one(struct store *st, struct store_job *j, struct err *err)
{
	struct store_conn *c = st->writer;
	if (store_exec(c, STMT_JOB_SAVEPOINT, err) < 0)
		return -1;
	j->rc = j->run(st, j, &j->err);
	if (j->rc < 0) {
		j->n_touch = 0;
		/* SQLite may have rolled the whole transaction back itself
		 * (SQLITE_FULL, IOERR): then every job of the batch is gone */
		if (sqlite3_get_autocommit(c->db))
			return err_set(err, ERR_ENV, 451, "4.3.0",
				       "store: transaction lost: %s",
				       j->err.msg);
		if (store_exec(c, STMT_JOB_ROLLBACK_TO, err) < 0)
			return -1;
	}
	return store_exec(c, STMT_JOB_RELEASE, err);
}

/* Why FULL only here: the committer's connection is NORMAL because the
 * log holds what its delivery transactions record. These jobs are not in
 * the log, so their commit must itself be durable before the caller hears
 * of it. A FULL commit syncs the WAL up to its own frames, and with them
 * every earlier NORMAL commit (WAL order): after it, the records those
 * indexed are no longer past the applied position, so replay never
 * applies a record again under a job that already changed its messages. */
static int run_batch(struct store *st, struct store_job *batch, bool durable,
		     struct err *err)
{
	struct store_conn *c = st->writer;
	store_checkpoint_finish(st);
	if (durable && store_exec(c, STMT_SYNC_FULL, err) < 0)
		return -1;
	int rc = -1;
	if (store_exec(c, STMT_BEGIN, err) < 0)
		goto out;
	for (struct store_job *j = batch; j != NULL; j = j->next)
		if (run_one(st, j, err) < 0) {
			store_rollback(c);
			goto out;
		}
	if (store_exec(c, STMT_COMMIT, err) < 0) {
		store_rollback(c);
		goto out;
	}
	rc = 0;
out:
	if (durable) {
		struct err e2;
		if (store_exec(c, STMT_SYNC_NORMAL, &e2) < 0)
			log_error("store", NULL, "op=jobs error=\"cannot go back "
				  "to synchronous=NORMAL: %s\"", e2.msg);
	}
	return rc;
}

void store_jobs_run(struct store *st, struct store_job *batch)
{
	struct err err;
	err_clear(&err);
	bool durable = false;
	size_t n = 0;
	for (struct store_job *j = batch; j != NULL; j = j->next) {
		durable |= j->durable;
		n++;
	}
	/* Records voided by a pending abort may hold UIDs and modseqs that
	 * SQLite does not know of: a job must not give them again before the
	 * abort is durable (as a group would not, store_commit.c). */
	if (st->abort.pending) {
		err_set(&err, ERR_ENV, 451, "4.3.0",
			"store: the log is not usable now (abort record "
			"pending)");
		fail_batch(batch, &err);
	} else if (run_batch(st, batch, durable, &err) < 0) {
		fail_batch(batch, &err);
		log_warn("store", NULL, "op=jobs n=%zu error=\"%s\"", n,
			 err.msg);
	} else {
		for (struct store_job *j = batch; j != NULL; j = j->next)
			if (j->rc == 0)
				store_watch_notify(st, j->touch, j->n_touch);
		log_debug("store", NULL, "op=jobs n=%zu durable=%d", n,
			  (int)durable);
	}
	/* the waiter may return and free j as soon as it sees finished */
	struct store_job *j = batch;
	while (j != NULL) {
		struct store_job *next = j->next;
		pthread_mutex_lock(&j->mu);
		j->finished = true;
		pthread_cond_signal(&j->cv);
		pthread_mutex_unlock(&j->mu);
		j = next;
	}
}
