/* store_bayes_model.c - the classifier's logistic model per scope (column
 * bayes_scopes.model, migration 16, decision 0044): read whole, changed
 * whole inside one admin transaction. A model is a few hundred KiB to a
 * few MiB and is written by bulk training or one judgement at a time,
 * never per delivered message. */
#include "store/store_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct model_row {
	void *blob;
	size_t len;
	uint64_t generation;
	bool found;
};

static int model_row(sqlite3_stmt *s, void *arg)
{
	struct model_row *r = arg;
	r->found = true;
	r->generation = (uint64_t)sqlite3_column_int64(s, 1);
	const void *p = sqlite3_column_blob(s, 0);
	int n = sqlite3_column_bytes(s, 0);
	if (p != NULL && n > 0) {
		r->blob = xmalloc((size_t)n);
		memcpy(r->blob, p, (size_t)n);
		r->len = (size_t)n;
	}
	return 1;
}

/* On c: the scope's model row. 0 or -1. */
static int model_read(struct store_conn *c, const char *scope,
		      struct model_row *r, struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;
	memset(r, 0, sizeof *r);
	if (sqlite3_prepare_v2(c->db, "SELECT model, generation FROM "
			       "bayes_scopes WHERE name = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = store_db_fail(err, c, "prepare bayes model");
	} else {
		sqlite3_bind_text(s, 1, scope, -1, SQLITE_STATIC);
		rc = store_rows(c, s, model_row, r, "bayes model", err);
	}
	sqlite3_finalize(s);
	return rc;
}

int store_bayes_model_get(struct store *st, const char *scope, void **blob,
			  size_t *len, uint64_t *generation, struct err *err)
{
	*blob = NULL;
	*len = 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	struct model_row r;
	int rc = model_read(c, scope, &r, err);
	store_reader_put(st, c);
	if (rc < 0) {
		free(r.blob);
		return -1;
	}
	*blob = r.blob;
	*len = r.len;
	if (generation != NULL)
		*generation = r.generation;
	return r.found ? 1 : 0;
}

struct update_ctx {
	const char *scope;
	store_bayes_model_fn fn;
	void *arg;
};

static int update_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct update_ctx *u = arg;
	sqlite3_stmt *s = NULL;
	struct model_row r;
	void *out = NULL;
	size_t out_len = 0;
	int rc = -1;

	if (sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO bayes_scopes"
			       "(name) VALUES (?1)", -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare bayes scope");
	sqlite3_bind_text(s, 1, u->scope, -1, SQLITE_STATIC);
	rc = store_step_done(c, s, "add bayes scope", err);
	sqlite3_finalize(s);
	s = NULL;
	if (rc != 0 || model_read(c, u->scope, &r, err) != 0)
		return -1;
	rc = u->fn(u->arg, r.blob, r.len, &out, &out_len, err);
	free(r.blob);
	if (rc != 0)
		return -1;
	if (sqlite3_prepare_v2(c->db, "UPDATE bayes_scopes SET model = ?2, "
			       "generation = generation + 1 WHERE name = ?1",
			       -1, &s, NULL) != SQLITE_OK) {
		free(out);
		return store_db_fail(err, c, "prepare bayes model");
	}
	sqlite3_bind_text(s, 1, u->scope, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(s, 2, out, out_len, SQLITE_STATIC);
	rc = store_step_done(c, s, "bayes model", err);
	sqlite3_finalize(s);
	free(out);
	return rc;
}

int store_bayes_model_update(struct store *st, const char *scope,
			     store_bayes_model_fn fn, void *arg,
			     struct err *err)
{
	if (strlen(scope) == 0 || strlen(scope) > STORE_BAYES_SCOPE_MAX)
		return err_set(err, ERR_PEER, 0, "", "bad classifier scope");
	struct update_ctx u = { scope, fn, arg };
	return store_admin_tx(st, update_tx, &u, err);
}
