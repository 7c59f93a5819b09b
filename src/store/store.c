/* store.c - opening and closing the mailbox store: the data directory and
 * its blobs/ subdirectory, the exclusive lock that keeps a second process
 * from appending to the same segments, the schema, the connections,
 * recovery of the log (store_log.c) and the committer thread. Paths are
 * relative to the directory given, so store_open works the same after
 * petreld has chrooted into it.
 */
#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* mkdir if missing; *created_out says whether it was. */
static int make_dir(int at_fd, const char *path, bool *created_out,
		    struct err *err)
{
	*created_out = false;
	if (mkdirat(at_fd, path, 0700) == 0) {
		*created_out = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	return store_sys_fail(err, "create directory", errno);
}

static int open_dirs(struct store *st, const char *dir, bool lock,
		     struct err *err)
{
	bool created;
	if (make_dir(AT_FDCWD, dir, &created, err) < 0)
		return -1;
	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0)
		return store_sys_fail(err, "open store directory", errno);
	bool blobs_created;
	if (make_dir(st->dir_fd, STORE_BLOBS_DIR, &blobs_created, err) < 0)
		return -1;
	st->blobs_fd = openat(st->dir_fd, STORE_BLOBS_DIR,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->blobs_fd < 0)
		return store_sys_fail(err, "open blobs directory", errno);
	/* One process appends to the segments. The lock goes with the open
	 * file description and is released when the process dies. */
	if (lock && flock(st->blobs_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return err_set(err, ERR_CONFIG, 0, "",
				       "store: %s is in use by another process",
				       dir);
		return store_sys_fail(err, "lock blobs directory", errno);
	}
	/* a new directory entry is only durable once its parent is synced */
	if (blobs_created && fsync(st->dir_fd) < 0)
		return store_sys_fail(err, "sync store directory", errno);
	return 0;
}

/* Per-delivery arrays for a full group; the per-recipient ones grow on
 * demand (store_commit.c). */
static void group_alloc(struct store_group *g)
{
	g->d = xcalloc(STORE_GROUP_MAX_MSGS, sizeof *g->d);
	g->rec = xcalloc(STORE_GROUP_MAX_MSGS, sizeof *g->rec);
	g->rcpt_at = xcalloc(STORE_GROUP_MAX_MSGS, sizeof *g->rcpt_at);
	g->iov_cap = 2 * (size_t)STORE_GROUP_MAX_MSGS + 1;
	g->iov = xcalloc(g->iov_cap, sizeof *g->iov);
	g->n = 0;
}

static void group_free(struct store_group *g)
{
	free(g->d);
	free(g->rec);
	free(g->rcpt_at);
	free(g->rcpt);
	free(g->pre);
	free(g->iov);
	free(g->wbuf);
	free(g->folders);
	free(g->slots);
	free(g->slot_keys);
	free(g->used);
	memset(g, 0, sizeof *g);
}

static const struct store_tuning tuning_default = {
	.segment_max = STORE_SEGMENT_MAX,
	.prealloc_chunk = STORE_PREALLOC_CHUNK,
	.prealloc_low = STORE_PREALLOC_LOW,
	.prealloc_carry = STORE_PREALLOC_CARRY,
};

static int open_common(const char *dir, bool admin_only,
		       const struct store_tuning *tuning,
		       store_test_hook_fn hook, void *hook_arg,
		       struct store **store_out, struct err *err)
{
	*store_out = NULL;
	struct store *st = xcalloc(1, sizeof *st);
	st->dir_fd = -1;
	st->blobs_fd = -1;
	st->seg.fd = -1;
	st->tuning = tuning != NULL ? *tuning : tuning_default;
	if (st->tuning.segment_max == 0)
		st->tuning.segment_max = 1;
	if (st->tuning.prealloc_carry > STORE_PREALLOC_CARRY)
		st->tuning.prealloc_carry = STORE_PREALLOC_CARRY;
	st->hook = hook;
	st->hook_arg = hook_arg;
	st->q_hook = hook;
	st->q_hook_arg = hook_arg;
	pthread_mutex_init(&st->pool_mu, NULL);
	pthread_mutex_init(&st->admin_mu, NULL);
	pthread_mutex_init(&st->q_mu, NULL);
	pthread_cond_init(&st->q_cv, NULL);
	pthread_mutex_init(&st->ckpt_mu, NULL);
	pthread_cond_init(&st->ckpt_cv, NULL);
	pthread_mutex_init(&st->watch_mu, NULL);
	group_alloc(&st->group);

	size_t dlen = strlen(dir);
	size_t plen;
	if (__builtin_add_overflow(dlen, sizeof "/" STORE_DB_NAME, &plen)) {
		err_set(err, ERR_CONFIG, 0, "", "store: directory name too long");
		goto fail;
	}
	st->db_path = xmalloc(plen);
	int n = snprintf(st->db_path, plen, "%s/%s", dir, STORE_DB_NAME);
	if (n < 0 || (size_t)n >= plen) {
		err_set(err, ERR_CONFIG, 0, "", "store: directory name too long");
		goto fail;
	}

	if (open_dirs(st, dir, !admin_only, err) < 0 ||
	    store_conn_open(st->db_path, STORE_CONN_WRITE, &st->admin, err) < 0 ||
	    store_schema_migrate(st->admin, err) < 0)
		goto fail;
	if (admin_only) {
		/* No committer and no recovery: the log is petreld's, which
		 * may be running. Deliveries are refused (see submit). */
		st->closing = true;
		*store_out = st;
		return 0;
	}
	if (store_conn_open(st->db_path, STORE_CONN_COMMIT, &st->writer,
			    err) < 0 ||
	    store_log_recover(st, err) < 0)
		goto fail;
	store_committer_prealloc(st);
	if (store_checkpointer_start(st, err) < 0 ||
	    store_committer_start(st, err) < 0)
		goto fail;
	log_info("store", NULL, "op=open segment=%u offset=%llu seq=%llu "
		 "alloc=%llu", (unsigned)st->seg.id,
		 (unsigned long long)st->seg.end,
		 (unsigned long long)st->next_seq,
		 (unsigned long long)st->seg.alloc);
	*store_out = st;
	return 0;
fail:
	store_close(&st);
	return -1;
}

int store_open(const char *dir, struct store **store_out, struct err *err)
{
	return open_common(dir, false, NULL, NULL, NULL, store_out, err);
}

int store_open_tuned(const char *dir, const struct store_tuning *tuning,
		     store_test_hook_fn hook, void *hook_arg,
		     struct store **store_out, struct err *err)
{
	return open_common(dir, false, tuning, hook, hook_arg, store_out, err);
}

int store_open_admin(const char *dir, struct store **store_out,
		     struct err *err)
{
	return open_common(dir, true, NULL, NULL, NULL, store_out, err);
}

void store_set_test_hook(struct store *st, store_test_hook_fn hook,
			 void *arg)
{
	pthread_mutex_lock(&st->q_mu);
	st->q_hook = hook;
	st->q_hook_arg = arg;
	pthread_mutex_unlock(&st->q_mu);
}

void store_close(struct store **sp)
{
	struct store *st = *sp;
	if (st == NULL)
		return;
	store_audit_stop(st);
	store_committer_stop(st);
	store_checkpointer_stop(st);
	store_segment_close(&st->seg);
	store_conn_close(&st->writer);
	store_conn_close(&st->admin);
	while (st->pool != NULL) {
		struct store_conn *c = st->pool;
		st->pool = c->next;
		store_conn_close(&c);
	}
	/* Closing a read-only directory descriptor cannot lose data; the
	 * blobs one also drops the lock. */
	if (st->blobs_fd >= 0 && close(st->blobs_fd) < 0)
		log_warn("store", NULL, "op=close error=\"%s\"", strerror(errno));
	if (st->dir_fd >= 0 && close(st->dir_fd) < 0)
		log_warn("store", NULL, "op=close error=\"%s\"", strerror(errno));
	group_free(&st->group);
	store_watch_free_all(st);
	pthread_mutex_destroy(&st->watch_mu);
	free(st->touched);
	pthread_cond_destroy(&st->ckpt_cv);
	pthread_mutex_destroy(&st->ckpt_mu);
	pthread_cond_destroy(&st->q_cv);
	pthread_mutex_destroy(&st->q_mu);
	pthread_mutex_destroy(&st->admin_mu);
	pthread_mutex_destroy(&st->pool_mu);
	free(st->db_path);
	free(st);
	*sp = NULL;
}

void store_get_stats(struct store *st, struct store_stats *out)
{
	pthread_mutex_lock(&st->q_mu);
	*out = st->stats;
	pthread_mutex_unlock(&st->q_mu);
}

int store_dir_name(const struct store *st, char *out, size_t outsz)
{
	size_t n = strlen(st->db_path) - strlen(STORE_DB_NAME) - 1;
	if (n >= outsz)
		return -1;
	memcpy(out, st->db_path, n);
	out[n] = '\0';
	if (n == 0 && outsz > 1) {	/* opened as "/" (inside a chroot) */
		out[0] = '/';
		out[1] = '\0';
	}
	return 0;
}
