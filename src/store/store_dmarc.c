/* store_dmarc.c - DMARC aggregate report rows and petrelctl's send
 * requests (tables dmarc_rows and dmarc_requests, migration 13, decision
 * 0032). Rows arrive in batches a minute apart and leave once a day, so
 * statements are prepared per call. */
#include "store/store_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define ROW_KEY "day, policy_domain, p, sp, np, pct, adkim, aspf, rua, " \
		"source_ip, header_from, envelope_from, disposition, dkim, " \
		"spf, dkim_auth, spf_domain, spf_scope, spf_result"

struct add_ctx {
	const struct store_dmarc_row *rows;
	size_t n;
};

static void bind_row(sqlite3_stmt *s, const struct store_dmarc_row *r)
{
	int i = 1;
	sqlite3_bind_int64(s, i++, r->day);
	sqlite3_bind_text(s, i++, r->policy_domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, i++, r->p);
	sqlite3_bind_int(s, i++, r->sp);
	sqlite3_bind_int(s, i++, r->np);
	sqlite3_bind_int(s, i++, r->pct);
	sqlite3_bind_int(s, i++, r->adkim);
	sqlite3_bind_int(s, i++, r->aspf);
	sqlite3_bind_text(s, i++, r->rua, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->source_ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->header_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->envelope_from, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, i++, r->disposition);
	sqlite3_bind_int(s, i++, r->dkim);
	sqlite3_bind_int(s, i++, r->spf);
	sqlite3_bind_text(s, i++, r->dkim_auth, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->spf_domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, r->spf_scope, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, i++, r->spf_result);
	sqlite3_bind_int64(s, i, (sqlite3_int64)r->count);
}

static int add_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct add_ctx *a = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "INSERT INTO dmarc_rows(" ROW_KEY
			       ", count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			       "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
			       "?17, ?18, ?19, ?20) ON CONFLICT DO UPDATE SET "
			       "count = count + excluded.count", -1, &s,
			       NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare dmarc rows");
	int ret = 0;
	for (size_t i = 0; i < a->n && ret == 0; i++) {
		bind_row(s, &a->rows[i]);
		ret = store_step_done(c, s, "add dmarc row", err);
	}
	sqlite3_finalize(s);
	return ret;
}

int store_dmarc_add(struct store *st, const struct store_dmarc_row *rows,
		    size_t n, struct err *err)
{
	struct add_ctx a = { rows, n };
	return n == 0 ? 0 : store_admin_tx(st, add_tx, &a, err);
}

struct each_ctx {
	int (*fn)(int64_t id, const struct store_dmarc_row *r, void *arg);
	void *arg;
};

static int each_row(sqlite3_stmt *s, void *arg)
{
	struct each_ctx *e = arg;
	struct store_dmarc_row r;
	memset(&r, 0, sizeof r);
	int i = 0;
	r.day = sqlite3_column_int64(s, i++);
	store_col_text(s, i++, r.policy_domain, sizeof r.policy_domain);
	r.p = (uint8_t)sqlite3_column_int(s, i++);
	r.sp = (uint8_t)sqlite3_column_int(s, i++);
	r.np = (uint8_t)sqlite3_column_int(s, i++);
	r.pct = (uint8_t)sqlite3_column_int(s, i++);
	r.adkim = (uint8_t)sqlite3_column_int(s, i++);
	r.aspf = (uint8_t)sqlite3_column_int(s, i++);
	store_col_text(s, i++, r.rua, sizeof r.rua);
	store_col_text(s, i++, r.source_ip, sizeof r.source_ip);
	store_col_text(s, i++, r.header_from, sizeof r.header_from);
	store_col_text(s, i++, r.envelope_from, sizeof r.envelope_from);
	r.disposition = (uint8_t)sqlite3_column_int(s, i++);
	r.dkim = (uint8_t)sqlite3_column_int(s, i++);
	r.spf = (uint8_t)sqlite3_column_int(s, i++);
	store_col_text(s, i++, r.dkim_auth, sizeof r.dkim_auth);
	store_col_text(s, i++, r.spf_domain, sizeof r.spf_domain);
	store_col_text(s, i++, r.spf_scope, sizeof r.spf_scope);
	r.spf_result = (uint8_t)sqlite3_column_int(s, i++);
	r.count = (uint64_t)sqlite3_column_int64(s, i++);
	return e->fn(sqlite3_column_int64(s, i), &r, e->arg) != 0 ? 1 : 0;
}

int store_dmarc_each(struct store *st, int64_t day, const char *domain,
		     size_t max, int (*fn)(int64_t id,
					  const struct store_dmarc_row *r,
					  void *arg),
		     void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT " ROW_KEY ", count, id FROM "
			       "dmarc_rows WHERE day = ?1 AND (?2 IS NULL OR "
			       "policy_domain = lower(?2)) ORDER BY "
			       "policy_domain, p, sp, np, pct, adkim, aspf, "
			       "rua, source_ip, id LIMIT ?3", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_fail(err, c, "prepare dmarc rows");
	} else {
		sqlite3_bind_int64(s, 1, day);
		if (domain != NULL)
			sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
		struct each_ctx e = { fn, arg };
		ret = store_rows(c, s, each_row, &e, "dmarc rows", err);
	}
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return ret;
}

struct days_ctx {
	int64_t *days;
	size_t n, max;
};

static int day_row(sqlite3_stmt *s, void *arg)
{
	struct days_ctx *d = arg;
	if (d->n == d->max)
		return 1;
	d->days[d->n++] = sqlite3_column_int64(s, 0);
	return 0;
}

int store_dmarc_days(struct store *st, int64_t before, int64_t *days,
		     size_t max, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	struct days_ctx d = { days, 0, max };
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT DISTINCT day FROM dmarc_rows "
			       "WHERE day < ?1 ORDER BY day", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_fail(err, c, "prepare dmarc days");
	} else {
		sqlite3_bind_int64(s, 1, before);
		if (store_rows(c, s, day_row, &d, "dmarc days", err) == 0)
			ret = (int)d.n;
	}
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return ret;
}

struct del_ctx {
	const int64_t *ids;
	size_t n;
};

static int del_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct del_ctx *d = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM dmarc_rows WHERE id = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare delete dmarc rows");
	int ret = 0;
	for (size_t i = 0; i < d->n && ret == 0; i++) {
		sqlite3_bind_int64(s, 1, d->ids[i]);
		ret = store_step_done(c, s, "delete dmarc row", err);
	}
	sqlite3_finalize(s);
	return ret;
}

int store_dmarc_delete(struct store *st, const int64_t *ids, size_t n,
		       struct err *err)
{
	struct del_ctx d = { ids, n };
	return n == 0 ? 0 : store_admin_tx(st, del_tx, &d, err);
}

/* ---- requests ---------------------------------------------------------- */

struct rq_ctx {
	const struct store_dmarc_request *rq;
	int64_t now;
	int64_t id;
	const char *result;
	char *result_out;
	int found;
	struct store_dmarc_request *out;
};

static int rq_add_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct rq_ctx *q = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "INSERT INTO dmarc_requests(day, "
			       "domain, dry_run, created) VALUES (?1, lower(?2), "
			       "?3, ?4)", -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare dmarc request");
	sqlite3_bind_int64(s, 1, q->rq->day);
	sqlite3_bind_text(s, 2, q->rq->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, q->rq->dry_run ? 1 : 0);
	sqlite3_bind_int64(s, 4, q->now);
	int ret = store_step_done(c, s, "add dmarc request", err);
	q->id = sqlite3_last_insert_rowid(c->db);
	sqlite3_finalize(s);
	return ret;
}

int store_dmarc_request_add(struct store *st,
			    const struct store_dmarc_request *rq,
			    int64_t now, int64_t *id_out, struct err *err)
{
	struct rq_ctx q = { .rq = rq, .now = now };
	if (store_admin_tx(st, rq_add_tx, &q, err) != 0)
		return -1;
	*id_out = q.id;
	return 0;
}

static int rq_next_row(sqlite3_stmt *s, void *arg)
{
	struct rq_ctx *q = arg;
	memset(q->out, 0, sizeof *q->out);
	q->out->id = sqlite3_column_int64(s, 0);
	q->out->day = sqlite3_column_int64(s, 1);
	store_col_text(s, 2, q->out->domain, sizeof q->out->domain);
	q->out->dry_run = sqlite3_column_int(s, 3) != 0;
	q->found = 1;
	return 1;
}

int store_dmarc_request_next(struct store *st, struct store_dmarc_request *out,
			     struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	struct rq_ctx q = { .out = out };
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT id, day, domain, dry_run FROM "
			       "dmarc_requests WHERE done = 0 ORDER BY id "
			       "LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		store_db_fail(err, c, "prepare dmarc request");
	else if (store_rows(c, s, rq_next_row, &q, "dmarc request", err) == 0)
		ret = q.found;
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return ret;
}

static int rq_answer_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct rq_ctx *q = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "UPDATE dmarc_requests SET done = 1, "
			       "result = ?2 WHERE id = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_db_fail(err, c, "prepare dmarc answer");
	sqlite3_bind_int64(s, 1, q->id);
	sqlite3_bind_text(s, 2, q->result, -1, SQLITE_STATIC);
	int ret = store_step_done(c, s, "dmarc answer", err);
	sqlite3_finalize(s);
	/* answers nobody came for (petrelctl gave up waiting) go after a day */
	if (ret == 0 && sqlite3_exec(c->db, "DELETE FROM dmarc_requests WHERE "
				     "done = 1 AND created < CAST(strftime('%s', "
				     "'now') AS INTEGER) - 86400", NULL, NULL,
				     NULL) != SQLITE_OK)
		ret = store_db_fail(err, c, "dmarc old answers");
	return ret;
}

int store_dmarc_request_answer(struct store *st, int64_t id,
			       const char *result, struct err *err)
{
	struct rq_ctx q = { .id = id, .result = result };
	return store_admin_tx(st, rq_answer_tx, &q, err);
}

static int rq_result_row(sqlite3_stmt *s, void *arg)
{
	struct rq_ctx *q = arg;
	const unsigned char *t = sqlite3_column_text(s, 0);
	q->result_out = xstrdup(t != NULL ? (const char *)t : "");
	q->found = 1;
	return 1;
}

static int rq_result_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct rq_ctx *q = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT result FROM dmarc_requests "
			       "WHERE id = ?1 AND done = 1", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_db_fail(err, c, "prepare dmarc result");
	sqlite3_bind_int64(s, 1, q->id);
	int ret = store_rows(c, s, rq_result_row, q, "dmarc result", err);
	sqlite3_finalize(s);
	if (ret != 0 || !q->found)
		return ret;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM dmarc_requests WHERE "
			       "id = ?1", -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare dmarc result");
	sqlite3_bind_int64(s, 1, q->id);
	ret = store_step_done(c, s, "dmarc result", err);
	sqlite3_finalize(s);
	return ret;
}

int store_dmarc_request_result(struct store *st, int64_t id,
			       char **result_out, struct err *err)
{
	struct rq_ctx q = { .id = id };
	if (store_admin_tx(st, rq_result_tx, &q, err) != 0) {
		free(q.result_out);
		return -1;
	}
	*result_out = q.result_out;
	return q.found;
}
