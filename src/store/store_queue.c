/* store_queue.c - the outbound queue in the store: the envelope of a
 * delivery's remote recipients as the ext bytes of its log record (kind
 * "queue"), the rows that record makes (store_log.c calls in here, for
 * the committer and for replay alike), the runner's reads and durable
 * updates, and the administrators' changes. Why in the log and not a
 * queue directory of files: decision 0019.
 */
#include "store/store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* ---- the envelope as record bytes ----------------------------------------
 *
 *   0 4 flags (STORE_QUEUE_*)     4 4 n recipients
 *   8 8 owner mailbox id
 *  16 2 sender length, sender    then 2 envid length, envid
 *  then per recipient: 1 notify, 2 length, address, 2 length, ORCPT
 * Integers little-endian. Strings are bytes without NUL; every length is
 * checked against the record's end and the field's maximum on decode.
 */

#define QEXT_FIXED 16
#define QEXT_STR_MAX 319	/* fits store_queue_msg/rcpt's 320 */
#define QEXT_ENVID_MAX 100

static void put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int str_ok(const char *s, size_t max, size_t *len_out)
{
	size_t n = s != NULL ? strnlen(s, max + 1) : 0;
	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	*len_out = n;
	return 0;
}

int store_queue_ext_encode(struct store_delivery *d, struct err *err)
{
	const struct store_queue_env *q = d->queue;
	d->qext_ = NULL;
	d->qext_len_ = 0;
	if (q->n_rcpts == 0 || q->n_rcpts > STORE_REC_RCPT_MAX)
		return err_set(err, ERR_LIMIT, 451, "4.3.0",
			       "store: %zu queue recipients", q->n_rcpts);
	size_t ls, le, len = QEXT_FIXED;
	if (str_ok(q->sender, QEXT_STR_MAX, &ls) < 0 ||
	    str_ok(q->envid, QEXT_ENVID_MAX, &le) < 0)
		return err_set(err, ERR_PEER, 451, "4.3.0",
			       "store: bad sender or envelope id");
	len += 2 + ls + 2 + le;
	for (size_t i = 0; i < q->n_rcpts; i++) {
		size_t la, lo = 0;
		if (str_ok(q->rcpts[i], QEXT_STR_MAX, &la) < 0 || la == 0 ||
		    (q->orcpts != NULL &&
		     str_ok(q->orcpts[i], QEXT_STR_MAX, &lo) < 0))
			return err_set(err, ERR_PEER, 451, "4.3.0",
				       "store: bad queue recipient");
		len += 1 + 2 + la + 2 + lo;
	}
	if (len > STORE_REC_QEXT_MAX)
		return err_set(err, ERR_LIMIT, 451, "4.3.0",
			       "store: envelope of %zu bytes too large", len);
	unsigned char *p = xmalloc(len), *w = p;
	put32(w, q->flags);
	put32(w + 4, (uint32_t)q->n_rcpts);
	put64(w + 8, (uint64_t)q->owner_id);
	w += QEXT_FIXED;
	put16(w, ls);
	memcpy(w + 2, q->sender, ls);
	w += 2 + ls;
	put16(w, le);
	if (le > 0)
		memcpy(w + 2, q->envid, le);
	w += 2 + le;
	for (size_t i = 0; i < q->n_rcpts; i++) {
		size_t la = strlen(q->rcpts[i]);
		const char *o = q->orcpts != NULL && q->orcpts[i] != NULL
					? q->orcpts[i] : "";
		size_t lo = strlen(o);
		*w++ = q->notify != NULL ? q->notify[i] : 0;
		put16(w, la);
		memcpy(w + 2, q->rcpts[i], la);
		w += 2 + la;
		put16(w, lo);
		memcpy(w + 2, o, lo);
		w += 2 + lo;
	}
	d->qext_ = p;
	d->qext_len_ = len;
	return 0;
}

/* A bounded reader over the ext bytes. */
struct qrd {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static size_t rd_str(struct qrd *r, char *out, size_t outsz)
{
	if (r->bad || r->left < 2) {
		r->bad = true;
		return 0;
	}
	size_t n = (size_t)r->p[0] | (size_t)r->p[1] << 8;
	if (n > r->left - 2 || n >= outsz) {
		r->bad = true;
		return 0;
	}
	memcpy(out, r->p + 2, n);
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL)
		r->bad = true;
	r->p += 2 + n;
	r->left -= 2 + n;
	return n;
}

/* ---- the rows of a queue record (inside store_log_apply) --------------- */

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL ? at + 1 : "";
}

int store_queue_apply(struct store_conn *c, const struct store_rec *r,
		      int64_t blob_id, const unsigned char *ext,
		      const char **why_out, struct err *err)
{
	if (r->ext_len < QEXT_FIXED) {
		*why_out = "queue envelope too short";
		return 0;
	}
	uint32_t flags = get32(ext);
	uint32_t n = get32(ext + 4);
	int64_t owner = (int64_t)((uint64_t)get32(ext + 8) |
				  (uint64_t)get32(ext + 12) << 32);
	struct qrd rd = { .p = ext + QEXT_FIXED,
			  .left = r->ext_len - QEXT_FIXED };
	char sender[QEXT_STR_MAX + 1], envid[QEXT_ENVID_MAX + 1];
	rd_str(&rd, sender, sizeof sender);
	rd_str(&rd, envid, sizeof envid);
	if (rd.bad || n == 0 || n > STORE_REC_RCPT_MAX) {
		*why_out = "bad queue envelope";
		return 0;
	}
	sqlite3_stmt *s = store_stmt(c, STMT_QUEUE_ADD, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (int64_t)r->seq);
	sqlite3_bind_int64(s, 2, blob_id);
	sqlite3_bind_text(s, 3, sender, -1, SQLITE_TRANSIENT);
	if (envid[0] != '\0')
		sqlite3_bind_text(s, 4, envid, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_int64(s, 5, r->internal_date);
	sqlite3_bind_int64(s, 6, (int64_t)r->data_len);
	sqlite3_bind_int64(s, 7, flags);
	sqlite3_bind_int64(s, 8, owner);
	if (store_step_done(c, s, "insert queue entry", err) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (rd.left < 1) {
			*why_out = "bad queue envelope";
			return 0;
		}
		uint8_t notify = rd.p[0];
		rd.p++;
		rd.left--;
		char addr[QEXT_STR_MAX + 1], orcpt[QEXT_STR_MAX + 1];
		size_t la = rd_str(&rd, addr, sizeof addr);
		size_t lo = rd_str(&rd, orcpt, sizeof orcpt);
		if (rd.bad || la == 0) {
			*why_out = "bad queue recipient";
			return 0;
		}
		s = store_stmt(c, STMT_QUEUE_RCPT_ADD, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, (int64_t)r->seq);
		sqlite3_bind_int64(s, 2, i);
		sqlite3_bind_text(s, 3, addr, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, domain_of(addr), -1, SQLITE_TRANSIENT);
		if (lo > 0)
			sqlite3_bind_text(s, 5, orcpt, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, 5);
		sqlite3_bind_int64(s, 6, notify);
		sqlite3_bind_int64(s, 7, r->internal_date);
		if (store_step_done(c, s, "insert queue recipient", err) < 0)
			return -1;
	}
	return 1;
}

/* ---- reading ------------------------------------------------------------- */

static void col_str(sqlite3_stmt *s, int col, char *out, size_t outsz)
{
	const unsigned char *v = sqlite3_column_text(s, col);
	snprintf(out, outsz, "%s", v != NULL ? (const char *)v : "");
}

/* Columns of STORE_QUEUE_MSG_COLS from col. */
static void msg_row(sqlite3_stmt *s, int col, struct store_queue_msg *m)
{
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(s, col);
	m->blob_id = sqlite3_column_int64(s, col + 1);
	col_str(s, col + 2, m->sender, sizeof m->sender);
	col_str(s, col + 3, m->envid, sizeof m->envid);
	m->created = sqlite3_column_int64(s, col + 4);
	int64_t size = sqlite3_column_int64(s, col + 5);
	m->size = size > 0 ? (uint64_t)size : 0;
	m->flags = (uint32_t)sqlite3_column_int64(s, col + 6);
	m->held = sqlite3_column_int(s, col + 7) != 0;
	m->owner_id = sqlite3_column_int64(s, col + 8);
	int64_t nr = sqlite3_column_int64(s, col + 9);
	m->n_rcpts = nr > 0 && nr < (int64_t)UINT32_MAX ? (unsigned)nr : 0;
	m->next_try = sqlite3_column_int64(s, col + 10);
}

/* Columns of STORE_QUEUE_RCPT_COLS from col. */
static void rcpt_row(sqlite3_stmt *s, int col, struct store_queue_rcpt *r)
{
	memset(r, 0, sizeof *r);
	r->queue_id = sqlite3_column_int64(s, col);
	r->idx = (uint32_t)sqlite3_column_int64(s, col + 1);
	col_str(s, col + 2, r->addr, sizeof r->addr);
	col_str(s, col + 3, r->orcpt, sizeof r->orcpt);
	r->notify = (uint8_t)sqlite3_column_int(s, col + 4);
	r->state = sqlite3_column_int(s, col + 5) == STORE_QR_BOUNCE
			   ? STORE_QR_BOUNCE : STORE_QR_PENDING;
	int64_t at = sqlite3_column_int64(s, col + 6);
	r->attempts = at > 0 && at < 1000000 ? (unsigned)at : 0;
	r->next_try = sqlite3_column_int64(s, col + 7);
	r->last_try = sqlite3_column_int64(s, col + 8);
	r->delay_notified = sqlite3_column_int(s, col + 9) != 0;
	col_str(s, col + 10, r->last_reply, sizeof r->last_reply);
}

struct due_ctx {
	int (*fn)(const struct store_queue_msg *m,
		  const struct store_queue_rcpt *r, void *arg);
	void *arg;
	struct store_queue_pos *last;
};

static int due_row(sqlite3_stmt *s, void *arg)
{
	struct due_ctx *d = arg;
	struct store_queue_msg m;
	struct store_queue_rcpt r;
	msg_row(s, 0, &m);
	rcpt_row(s, 11, &r);
	*d->last = (struct store_queue_pos){ r.next_try, r.queue_id, r.idx };
	return d->fn(&m, &r, d->arg);
}

int store_queue_due(struct store *st, int64_t now,
		    struct store_queue_pos *after, size_t max,
		    int (*fn)(const struct store_queue_msg *m,
			      const struct store_queue_rcpt *r, void *arg),
		    void *arg, int64_t *next_out, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_QUEUE_DUE, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int64(s, 2, after->next_try);
		sqlite3_bind_int64(s, 3, after->id);
		sqlite3_bind_int64(s, 4, after->idx);
		sqlite3_bind_int64(s, 5, max > INT32_MAX ? INT32_MAX : (int64_t)max);
		struct due_ctx d = { fn, arg, after };
		ret = store_rows(c, s, due_row, &d, "queue due", err);
	}
	if (ret == 0 && next_out != NULL) {
		*next_out = 0;
		s = store_stmt(c, STMT_QUEUE_NEXT, err);
		if (s == NULL) {
			ret = -1;
		} else {
			sqlite3_bind_int64(s, 1, now);
			int rc = sqlite3_step(s);
			if (rc == SQLITE_ROW)
				*next_out = sqlite3_column_int64(s, 0);
			else if (rc != SQLITE_DONE)
				ret = store_db_fail(err, c, "queue next");
			(void)sqlite3_reset(s);	/* rc handled above */
		}
	}
	store_reader_put(st, c);
	return ret;
}

struct each_ctx {
	int (*fn)(const struct store_queue_msg *m, void *arg);
	void *arg;
};

static int each_row(sqlite3_stmt *s, void *arg)
{
	struct each_ctx *e = arg;
	struct store_queue_msg m;
	msg_row(s, 0, &m);
	return e->fn(&m, e->arg);
}

int store_queue_each(struct store *st,
		     int (*fn)(const struct store_queue_msg *m, void *arg),
		     void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_QUEUE_EACH, err);
	if (s != NULL) {
		struct each_ctx e = { fn, arg };
		ret = store_rows(c, s, each_row, &e, "queue list", err);
	}
	store_reader_put(st, c);
	return ret;
}

struct get_ctx {
	struct store_queue_msg *m;
	int found;
	int (*rcpt_fn)(const struct store_queue_rcpt *r, void *arg);
	void *arg;
};

static int get_msg_row(sqlite3_stmt *s, void *arg)
{
	struct get_ctx *g = arg;
	msg_row(s, 0, g->m);
	g->found = 1;
	return 1;
}

static int get_rcpt_row(sqlite3_stmt *s, void *arg)
{
	struct get_ctx *g = arg;
	struct store_queue_rcpt r;
	rcpt_row(s, 0, &r);
	return g->rcpt_fn(&r, g->arg);
}

int store_queue_get(struct store *st, int64_t id, struct store_queue_msg *out,
		    int (*rcpt_fn)(const struct store_queue_rcpt *r, void *arg),
		    void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	/* one snapshot for the entry and its recipients */
	int ret = store_exec(c, STMT_BEGIN_READ, err);
	struct get_ctx g = { out, 0, rcpt_fn, arg };
	sqlite3_stmt *s = ret == 0 ? store_stmt(c, STMT_QUEUE_GET, err) : NULL;
	if (s == NULL) {
		ret = -1;
	} else {
		sqlite3_bind_int64(s, 1, id);
		ret = store_rows(c, s, get_msg_row, &g, "queue entry", err);
	}
	if (ret == 0 && g.found == 1 && rcpt_fn != NULL) {
		s = store_stmt(c, STMT_QUEUE_RCPTS, err);
		if (s == NULL) {
			ret = -1;
		} else {
			sqlite3_bind_int64(s, 1, id);
			ret = store_rows(c, s, get_rcpt_row, &g,
					 "queue recipients", err);
		}
	}
	store_rollback(c);	/* ends the read transaction */
	store_reader_put(st, c);
	return ret < 0 ? -1 : g.found;
}

int store_queue_read(struct store *st, int64_t id, unsigned char **data_out,
		     size_t *len_out, struct err *err)
{
	return store_blob_read_query(st, STMT_QUEUE_BLOB, id, 0,
				     "find queue entry", data_out, len_out, err);
}

int store_queue_stats(struct store *st, struct store_queue_stats *out,
		      struct err *err)
{
	memset(out, 0, sizeof *out);
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_QUEUE_STATS, err);
	if (s != NULL) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			out->entries = (uint64_t)sqlite3_column_int64(s, 0);
			out->rcpts = (uint64_t)sqlite3_column_int64(s, 1);
			out->held = (uint64_t)sqlite3_column_int64(s, 2);
			out->bytes = (uint64_t)sqlite3_column_int64(s, 3);
			out->oldest = sqlite3_column_int64(s, 4);
			ret = 0;
		} else {
			store_db_fail(err, c, "queue stats");
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

/* ---- changing: shared by the runner's job and the admin calls ---------- */

/* Drop the entry if it has no recipient left: its row and its blob
 * reference. */
static int entry_release_if_done(struct store_conn *c, int64_t id,
				 struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_QUEUE_RELEASE_BLOB, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (store_step_done(c, s, "release queue blob", err) < 0)
		return -1;
	s = store_stmt(c, STMT_QUEUE_DROP_IF_EMPTY, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return store_step_done(c, s, "drop queue entry", err);
}

static int apply_outcome(struct store_conn *c,
			 const struct store_queue_outcome *o, struct err *err)
{
	sqlite3_stmt *s;
	switch (o->kind) {
	case STORE_QO_REMOVE:
		s = store_stmt(c, STMT_QUEUE_RCPT_DROP, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, o->queue_id);
		sqlite3_bind_int64(s, 2, o->idx);
		if (store_step_done(c, s, "drop queue recipient", err) < 0)
			return -1;
		return entry_release_if_done(c, o->queue_id, err);
	case STORE_QO_RETRY:
		s = store_stmt(c, STMT_QUEUE_RCPT_RETRY, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, o->queue_id);
		sqlite3_bind_int64(s, 2, o->idx);
		sqlite3_bind_int64(s, 3, o->next_try);
		sqlite3_bind_int64(s, 4, o->tried);
		if (o->reply != NULL)
			sqlite3_bind_text(s, 5, o->reply,
					  (int)strnlen(o->reply,
						       STORE_QUEUE_REPLY_MAX - 1),
					  SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, 5);
		return store_step_done(c, s, "update queue recipient", err);
	case STORE_QO_DELAY_NOTIFIED:
		s = store_stmt(c, STMT_QUEUE_RCPT_NOTIFIED, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, o->queue_id);
		sqlite3_bind_int64(s, 2, o->idx);
		return store_step_done(c, s, "update queue recipient", err);
	}
	return err_set(err, ERR_PEER, 0, "", "store: bad queue outcome");
}

struct queue_job {
	struct store_job job;
	const struct store_queue_outcome *o;
	size_t n;
};

static int update_run(struct store *st, struct store_job *j, struct err *err)
{
	struct queue_job *q = (struct queue_job *)j;
	struct store_conn *c = st->writer;
	for (size_t i = 0; i < q->n; i++)
		if (apply_outcome(c, &q->o[i], err) < 0)
			return -1;
	return 0;
}

int store_queue_update(struct store *st, const struct store_queue_outcome *o,
		       size_t n, struct err *err)
{
	if (n == 0)
		return 0;
	struct queue_job q = { .o = o, .n = n };
	q.job.run = update_run;
	q.job.durable = true;
	return store_job_wait(st, &q.job, err);
}

/* An admin change of entry id: stmt bound with id (and text as ?2 when
 * not NULL), in one transaction of the admin connection; 1 if the entry
 * exists, 0 if not. */
static int admin_change(struct store *st, int64_t id, enum store_stmt stmt,
			const char *text, bool release, const char *what,
			struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	if (store_exec(c, STMT_BEGIN, err) < 0)
		goto out;
	sqlite3_stmt *s = store_stmt(c, STMT_QUEUE_EXISTS, err);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_fail(err, c, what);
		goto fail;
	}
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto fail;	/* nothing to change */
	}
	s = store_stmt(c, stmt, err);
	if (s == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	if (text != NULL)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT);
	if (store_step_done(c, s, what, err) < 0)
		goto fail;
	if (release && entry_release_if_done(c, id, err) < 0)
		goto fail;
	if (store_exec(c, STMT_COMMIT, err) < 0)
		goto fail;
	ret = 1;
	goto out;
fail:
	store_rollback(c);
out:
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 1) {
		log_info("store", NULL, "op=\"%s\" queue_id=%lld", what,
			 (long long)id);
		char subject[32];
		snprintf(subject, sizeof subject, "%lld", (long long)id);
		if (store_audit_add(st, what, subject, "", "", err) < 0)
			ret = -1;
	}
	return ret;
}

int store_queue_hold(struct store *st, int64_t id, bool hold, struct err *err)
{
	return admin_change(st, id, hold ? STMT_QUEUE_HOLD : STMT_QUEUE_UNHOLD,
			    NULL, false, hold ? "queue hold" : "queue release",
			    err);
}

int store_queue_retry(struct store *st, int64_t id, struct err *err)
{
	return admin_change(st, id, STMT_QUEUE_RETRY_NOW, NULL, false,
			    "queue retry", err);
}

int store_queue_bounce(struct store *st, int64_t id, const char *reply,
		       struct err *err)
{
	return admin_change(st, id, STMT_QUEUE_BOUNCE_ALL,
			    reply != NULL ? reply : "", false, "queue bounce",
			    err);
}

int store_queue_delete(struct store *st, int64_t id, struct err *err)
{
	return admin_change(st, id, STMT_QUEUE_RCPT_DROP_ALL, NULL, true,
			    "queue delete", err);
}

void store_queue_notify_set(struct store *st, void (*fn)(void *arg),
			    void *arg)
{
	pthread_mutex_lock(&st->q_mu);
	st->queue_notify = fn;
	st->queue_notify_arg = arg;
	pthread_mutex_unlock(&st->q_mu);
}
