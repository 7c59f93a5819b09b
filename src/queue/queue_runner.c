/* queue_runner.c - the runner's thread and loop: scans of the store's
 * due recipients (every second, at once when a commit queued new ones),
 * the set of recipients in flight so that no scan hands one out twice,
 * and the outcomes committed in batches (one durable job for all the
 * results of a loop iteration). A recipient leaves the in-flight set
 * only once its outcome is committed: before that, the store still says
 * it is due, and a scan would try it again.
 */
#include "queue/queue_private.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>
#include <sodium.h>

#include "core/log.h"
#include "core/xmalloc.h"

int64_t qr_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- the in-flight set ---------------------------------------------------- */

static size_t key_hash(int64_t id, uint32_t idx, size_t cap)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15u ^ (uint64_t)idx * 0xC2B2AE3D27D4EB4Fu;
	h ^= h >> 29;
	return (size_t)(h & (cap - 1));
}

static struct qr_key *key_slot(struct qr_key *keys, size_t cap, int64_t id,
			       uint32_t idx)
{
	size_t i = key_hash(id, idx, cap);
	while (keys[i].used && (keys[i].id != id || keys[i].idx != idx))
		i = (i + 1) & (cap - 1);
	return &keys[i];
}

bool qr_inflight_has(struct queue_runner *q, int64_t id, uint32_t idx)
{
	return q->keys_cap > 0 && key_slot(q->keys, q->keys_cap, id, idx)->used;
}

static void keys_grow(struct queue_runner *q)
{
	size_t cap = q->keys_cap ? 2 * q->keys_cap : 1024;
	struct qr_key *k = xcalloc(cap, sizeof *k);
	for (size_t i = 0; i < q->keys_cap; i++)
		if (q->keys[i].used)
			*key_slot(k, cap, q->keys[i].id, q->keys[i].idx) = q->keys[i];
	free(q->keys);
	q->keys = k;
	q->keys_cap = cap;
}

void qr_inflight_add(struct queue_runner *q, int64_t id, uint32_t idx)
{
	if (4 * (q->n_inflight + 1) > 3 * q->keys_cap)
		keys_grow(q);
	struct qr_key *k = key_slot(q->keys, q->keys_cap, id, idx);
	if (!k->used) {
		*k = (struct qr_key){ id, idx, true };
		q->n_inflight++;
	}
}

/* Remove, moving later members of the probe run back (no tombstones). */
static void inflight_del(struct queue_runner *q, int64_t id, uint32_t idx)
{
	if (q->keys_cap == 0)
		return;
	size_t cap = q->keys_cap;
	size_t i = key_hash(id, idx, cap);
	while (q->keys[i].used && (q->keys[i].id != id || q->keys[i].idx != idx))
		i = (i + 1) & (cap - 1);
	if (!q->keys[i].used)
		return;
	q->keys[i].used = false;
	q->n_inflight--;
	size_t j = i;
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!q->keys[j].used)
			break;
		size_t home = key_hash(q->keys[j].id, q->keys[j].idx, cap);
		/* j's entry may move to i if i lies cyclically in [home, j) */
		bool move = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (move) {
			q->keys[i] = q->keys[j];
			q->keys[j].used = false;
			i = j;
		}
	}
}

/* ---- outcomes ------------------------------------------------------------- */

static void done_key(struct queue_runner *q, int64_t id, uint32_t idx)
{
	if (q->n_done == q->cap_done) {
		q->cap_done = q->cap_done ? 2 * q->cap_done : 256;
		q->done_keys = xreallocarray(q->done_keys, q->cap_done,
					     sizeof *q->done_keys);
	}
	q->done_keys[q->n_done++] = (struct qr_key){ id, idx, true };
}

void qr_outcome(struct queue_runner *q, int64_t id, uint32_t idx,
		enum store_queue_outcome_kind kind, int64_t next_try,
		const char *reply)
{
	if (q->n_out == q->cap_out) {
		q->cap_out = q->cap_out ? 2 * q->cap_out : 256;
		q->out = xreallocarray(q->out, q->cap_out, sizeof *q->out);
		q->out_text = xreallocarray(q->out_text, q->cap_out,
					    sizeof *q->out_text);
	}
	char *text = reply != NULL ? xstrdup(reply) : NULL;
	q->out_text[q->n_out] = text;
	q->out[q->n_out++] = (struct store_queue_outcome){
		.queue_id = id, .idx = idx, .kind = kind,
		.next_try = next_try, .tried = qr_now(), .reply = text,
	};
	if (kind != STORE_QO_DELAY_NOTIFIED)
		done_key(q, id, idx);
	qr_flush_soon(q);
}

void qr_release(struct queue_runner *q, int64_t id, uint32_t idx)
{
	done_key(q, id, idx);
	qr_flush_soon(q);
}

void qr_flush_soon(struct queue_runner *q)
{
	event_active(q->flush_ev, EV_TIMEOUT, 0);
}

/* Commit the outcomes in one durable job. On failure they stay to be
 * committed with the next flush (the store is the one that failed: the
 * recipients stay in flight, so nothing is tried twice meanwhile). */
static void flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct queue_runner *q = arg;
	if (q->n_out > 0) {
		struct err err;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int rc = store_queue_update(q->st, q->out, q->n_out, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_debug("queue", NULL, "op=commit outcomes=%zu ms=%.2f", q->n_out,
			  (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
				  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
		if (rc != 0) {
			log_error("queue", NULL, "op=commit outcomes=%zu "
				  "error=\"%s\"", q->n_out, err.msg);
			struct timeval tv = { 1, 0 };
			event_add(q->flush_ev, &tv);
			return;
		}
		for (size_t i = 0; i < q->n_out; i++)
			free(q->out_text[i]);
		q->n_out = 0;
	}
	for (size_t i = 0; i < q->n_done; i++)
		inflight_del(q, q->done_keys[i].id, q->done_keys[i].idx);
	q->n_done = 0;
}

/* ---- scans ----------------------------------------------------------------- */

struct scan_ctx {
	struct queue_runner *q;
	size_t seen, added;
};

static int scan_row(const struct store_queue_msg *m,
		    const struct store_queue_rcpt *r, void *arg)
{
	struct scan_ctx *s = arg;
	struct queue_runner *q = s->q;
	s->seen++;
	if (qr_inflight_has(q, r->queue_id, r->idx))
		return 0;
	const char *at = strrchr(r->addr, '@');
	struct qr_dest *d = r->state == STORE_QR_BOUNCE
				    ? &q->bounces
				    : qr_dest_for(q, at != NULL ? at + 1 : "");
	qr_inflight_add(q, r->queue_id, r->idx);
	qr_dest_add(q, d, m, r);
	s->added++;
	return q->n_inflight >= QR_INFLIGHT_MAX;
}

/* Take due recipients from the cursor on. A wake-up (new mail) goes on
 * from where the last scan stopped, so a busy queue is not read again
 * from its start for every commit: new entries sort after it (their
 * next_try is their arrival, their id the newest). The timer starts
 * over from the beginning once a second, which picks up retries that
 * came due and administrators' changes. */
static void scan_from(struct queue_runner *q)
{
	if (q->stopping)
		return;
	int64_t now = qr_now(), next = 0;
	struct scan_ctx s = { .q = q };
	struct err err;
	if (q->n_inflight < QR_INFLIGHT_MAX &&
	    store_queue_due(q->st, now, &q->cursor, QR_SCAN_BATCH, scan_row,
			    &s, &next, &err) != 0)
		log_error("queue", NULL, "op=scan error=\"%s\"", err.msg);
	/* an admin's bounces: no attempt, the report at once */
	struct qr_msg *m;
	while ((m = qr_dest_pop(&q->bounces)) != NULL) {
		for (size_t i = 0; i < m->n; i++)
			qr_reply(&m->r[i].sr.reply, 554, "5.0.0",
				 SMTPC_STAGE_LOCAL, "%s", m->r[i].reason);
		qr_msg_result(q, m, NULL);
		qr_msg_free(m);
	}
	if (s.added > 0)
		qr_dest_kick_all(q);
	/* more waiting past this batch: go on at once */
	if (s.seen == QR_SCAN_BATCH && q->n_inflight < QR_INFLIGHT_MAX)
		event_active(q->wake_ev, EV_TIMEOUT, 0);
}

static void scan_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct queue_runner *q = arg;
	q->cursor = (struct store_queue_pos){ 0, 0, 0 };
	scan_from(q);
	qr_dests_prune(q);
}

static void scan_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	scan_from(arg);
}

/* On the committer thread: new recipients were queued. */
static void wake(void *arg)
{
	struct queue_runner *q = arg;
	event_active(q->wake_ev, EV_TIMEOUT, 0);
}

static void stats(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct queue_runner *q = arg;
	struct store_queue_stats qs;
	struct err err;
	if (store_queue_stats(q->st, &qs, &err) == 0 && qs.entries > 0)
		log_info("queue", NULL, "op=stats messages=%llu rcpts=%llu "
			 "bytes=%llu held=%llu oldest_age=%llds inflight=%zu "
			 "connections=%u", (unsigned long long)qs.entries,
			 (unsigned long long)qs.rcpts,
			 (unsigned long long)qs.bytes,
			 (unsigned long long)qs.held,
			 (long long)(qr_now() - qs.oldest), q->n_inflight,
			 q->active);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct queue_runner *q = arg;
	q->stopping = true;
	event_base_loopbreak(q->base);
}

static void *run(void *arg)
{
	struct queue_runner *q = arg;
	event_base_dispatch(q->base);
	/* connections and lookups go; what is known is committed */
	qr_conns_free(q);
	qr_dests_free(q);
	flush(-1, 0, q);
	return NULL;
}

/* The relay's password: the first line of its file. */
static int read_password(const struct config *cfg, char *out, size_t outsz,
			 struct err *err)
{
	out[0] = '\0';
	if (cfg->relay_auth_user[0] == '\0')
		return 0;
	if (cfg->relay_auth_password_file[0] == '\0')
		return err_set(err, ERR_CONFIG, 0, NULL, "relay_auth_user is set "
			       "but relay_auth_password_file is empty");
	char path[2100];
	if (cfg->relay_auth_password_file[0] == '/')
		snprintf(path, sizeof path, "%s", cfg->relay_auth_password_file);
	else
		snprintf(path, sizeof path, "%s/%s", cfg->data_dir,
			 cfg->relay_auth_password_file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "relay_auth_password_file "
			       "%s: %s", path, strerror(errno));
	ssize_t n = read(fd, out, outsz - 1);
	(void)close(fd);	/* read-only */
	if (n <= 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "relay_auth_password_file "
			       "%s: empty or unreadable", path);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0')
		return err_set(err, ERR_CONFIG, 0, NULL, "relay_auth_password_file "
			       "%s: the first line is empty", path);
	return 0;
}

static void runner_free(struct queue_runner *q)
{
	if (q->scan_ev != NULL)
		event_free(q->scan_ev);
	if (q->wake_ev != NULL)
		event_free(q->wake_ev);
	if (q->stop_ev != NULL)
		event_free(q->stop_ev);
	if (q->flush_ev != NULL)
		event_free(q->flush_ev);
	if (q->stats_ev != NULL)
		event_free(q->stats_ev);
	dns_resolver_free(&q->dns);
	if (q->tls != NULL)
		SSL_CTX_free(q->tls);
	if (q->base != NULL)
		event_base_free(q->base);
	for (size_t i = 0; i < q->n_out; i++)
		free(q->out_text[i]);
	free(q->out);
	free(q->out_text);
	free(q->done_keys);
	free(q->keys);
	sodium_memzero(q->relay_pass, sizeof q->relay_pass);
	free(q);
}

int queue_runner_new(const struct config *cfg, struct queue_runner **out,
		     struct err *err)
{
	*out = NULL;
	struct queue_runner *q = xcalloc(1, sizeof *q);
	q->cfg = cfg;
	if (read_password(cfg, q->relay_pass, sizeof q->relay_pass, err) != 0)
		goto fail;
	q->base = event_base_new();
	if (q->base == NULL) {
		err_set(err, ERR_ENV, 0, NULL, "queue: cannot make an event loop");
		goto fail;
	}
	struct dns_options dopt = { .forwarder = cfg->dns_forwarder,
				    .timeout = cfg->dns_timeout };
	q->dns = dns_resolver_new(q->base, &dopt, err);
	if (q->dns == NULL)
		goto fail;
	q->tls = smtpc_tls_ctx_new(NULL, err);
	if (q->tls == NULL)
		goto fail;
	q->scan_ev = event_new(q->base, -1, EV_PERSIST, scan_timer, q);
	q->wake_ev = event_new(q->base, -1, 0, scan_wake, q);
	q->stop_ev = event_new(q->base, -1, 0, stop_cb, q);
	q->flush_ev = event_new(q->base, -1, 0, flush, q);
	q->stats_ev = event_new(q->base, -1, EV_PERSIST, stats, q);
	if (q->scan_ev == NULL || q->wake_ev == NULL || q->stop_ev == NULL || q->flush_ev == NULL ||
	    q->stats_ev == NULL) {
		err_set(err, ERR_ENV, 0, NULL, "queue: cannot make events");
		goto fail;
	}
	*out = q;
	return 0;
fail:
	runner_free(q);
	return -1;
}

int queue_runner_start(struct queue_runner *q, struct store *st,
		       struct err *err)
{
	q->st = st;
	struct timeval second = { 1, 0 }, minute = { 60, 0 };
	event_add(q->scan_ev, &second);
	event_active(q->wake_ev, EV_TIMEOUT, 0);
	event_add(q->stats_ev, &minute);
	store_queue_notify_set(st, wake, q);
	/* signals are the daemon main thread's */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&q->thread, NULL, run, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		store_queue_notify_set(st, NULL, NULL);
		return err_set(err, ERR_ENV, 0, NULL, "queue: thread: %s",
			       strerror(rc));
	}
	q->thread_started = true;
	return 0;
}

void queue_runner_stop(struct queue_runner **rp)
{
	struct queue_runner *q = *rp;
	if (q == NULL)
		return;
	*rp = NULL;
	if (q->thread_started) {
		store_queue_notify_set(q->st, NULL, NULL);
		event_active(q->stop_ev, EV_TIMEOUT, 0);
		pthread_join(q->thread, NULL);
	}
	runner_free(q);
}
