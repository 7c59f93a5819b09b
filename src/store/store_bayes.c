/* store_bayes.c - the statistical classifier's counts (tables
 * bayes_scopes, bayes_tokens and bayes_learned, migration 14, decision
 * 0037). Learning is an admin transaction of many token upserts;
 * reading is one snapshot of a whole scope, which the classifier keeps in
 * memory (src/filter/bayes_snap.c), so neither path is per message hot.
 * Statements are prepared per call. */
#include "store/store_private.h"

#include <string.h>
#include <time.h>

enum {
	L_SCOPE_ADD = 0,
	L_SCOPE_ID,
	L_WAS,
	L_TOKEN,
	L_TOKEN_ZERO,
	L_TOTALS,
	L_FORGET,
	L_REMEMBER,
	L_COUNT
};

static const char *const learn_sql[L_COUNT] = {
	[L_SCOPE_ADD] = "INSERT OR IGNORE INTO bayes_scopes(name) VALUES (?1)",
	[L_SCOPE_ID] = "SELECT id FROM bayes_scopes WHERE name = ?1",
	[L_WAS] = "SELECT label FROM bayes_learned WHERE scope_id = ?1 AND "
		  "key = ?2",
	[L_TOKEN] = "INSERT INTO bayes_tokens(scope_id, hash, spam, ham) "
		    "VALUES (?1, ?2, max(?3, 0), max(?4, 0)) ON CONFLICT DO "
		    "UPDATE SET spam = max(spam + ?3, 0), ham = max(ham + ?4, 0)",
	[L_TOKEN_ZERO] = "DELETE FROM bayes_tokens WHERE scope_id = ?1 AND "
			 "hash = ?2 AND spam = 0 AND ham = 0",
	[L_TOTALS] = "UPDATE bayes_scopes SET spam = max(spam + ?2, 0), "
		     "ham = max(ham + ?3, 0), generation = generation + 1 "
		     "WHERE id = ?1",
	[L_FORGET] = "DELETE FROM bayes_learned WHERE scope_id = ?1 AND "
		     "key = ?2",
	[L_REMEMBER] = "INSERT OR REPLACE INTO bayes_learned(scope_id, key, "
		       "label, time) VALUES (?1, ?2, ?3, ?4)",
};

struct learn_ctx {
	struct store_bayes_learn *items;
	size_t n;
	sqlite3_stmt *s[L_COUNT];
};

static int int_row(sqlite3_stmt *s, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(s, 0);
	return 1;
}

static int scope_id(struct store_conn *c, struct learn_ctx *l,
		    const char *name, int64_t *id, struct err *err)
{
	if (strlen(name) == 0 || strlen(name) > STORE_BAYES_SCOPE_MAX)
		return err_set(err, ERR_PEER, 0, "", "bad classifier scope");
	sqlite3_bind_text(l->s[L_SCOPE_ADD], 1, name, -1, SQLITE_STATIC);
	if (store_step_done(c, l->s[L_SCOPE_ADD], "add bayes scope", err) != 0)
		return -1;
	*id = 0;
	sqlite3_bind_text(l->s[L_SCOPE_ID], 1, name, -1, SQLITE_STATIC);
	if (store_rows(c, l->s[L_SCOPE_ID], int_row, id, "bayes scope",
		       err) != 0)
		return -1;
	return 0;
}

static int learn_one(struct store_conn *c, struct learn_ctx *l,
		     struct store_bayes_learn *it, int64_t sid, int64_t now,
		     struct err *err)
{
	int64_t was = STORE_BAYES_NONE;
	sqlite3_stmt *s = l->s[L_WAS];
	sqlite3_bind_int64(s, 1, sid);
	sqlite3_bind_blob(s, 2, it->key, STORE_BAYES_KEY_LEN, SQLITE_STATIC);
	if (store_rows(c, s, int_row, &was, "bayes learned", err) != 0)
		return -1;
	it->was = was == STORE_BAYES_SPAM ? STORE_BAYES_SPAM :
		  was == STORE_BAYES_HAM ? STORE_BAYES_HAM : STORE_BAYES_NONE;
	if (it->was == it->label)
		return 0;
	int ds = (it->label == STORE_BAYES_SPAM) - (it->was == STORE_BAYES_SPAM);
	int dh = (it->label == STORE_BAYES_HAM) - (it->was == STORE_BAYES_HAM);
	for (size_t i = 0; i < it->n; i++) {
		s = l->s[L_TOKEN];
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)it->hashes[i]);
		sqlite3_bind_int(s, 3, ds);
		sqlite3_bind_int(s, 4, dh);
		if (store_step_done(c, s, "bayes token", err) != 0)
			return -1;
		if (ds >= 0 && dh >= 0)
			continue;
		s = l->s[L_TOKEN_ZERO];
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)it->hashes[i]);
		if (store_step_done(c, s, "bayes token", err) != 0)
			return -1;
	}
	s = l->s[L_TOTALS];
	sqlite3_bind_int64(s, 1, sid);
	sqlite3_bind_int(s, 2, ds);
	sqlite3_bind_int(s, 3, dh);
	if (store_step_done(c, s, "bayes totals", err) != 0)
		return -1;
	s = l->s[it->label == STORE_BAYES_NONE ? L_FORGET : L_REMEMBER];
	sqlite3_bind_int64(s, 1, sid);
	sqlite3_bind_blob(s, 2, it->key, STORE_BAYES_KEY_LEN, SQLITE_STATIC);
	if (it->label != STORE_BAYES_NONE) {
		sqlite3_bind_int(s, 3, (int)it->label);
		sqlite3_bind_int64(s, 4, now);
	}
	return store_step_done(c, s, "bayes learned", err);
}

static int learn_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct learn_ctx *l = arg;
	for (int k = 0; k < L_COUNT; k++)
		if (sqlite3_prepare_v2(c->db, learn_sql[k], -1, &l->s[k], NULL) !=
		    SQLITE_OK)
			return store_db_fail(err, c, "prepare bayes learn");
	int64_t now = (int64_t)time(NULL), sid = 0;
	const char *last = NULL;
	for (size_t i = 0; i < l->n; i++) {
		struct store_bayes_learn *it = &l->items[i];
		if ((last == NULL || strcmp(last, it->scope) != 0) &&
		    scope_id(c, l, it->scope, &sid, err) != 0)
			return -1;
		last = it->scope;
		if (learn_one(c, l, it, sid, now, err) != 0)
			return -1;
	}
	return 0;
}

int store_bayes_learn(struct store *st, struct store_bayes_learn *items,
		      size_t n, struct err *err)
{
	if (n == 0)
		return 0;
	struct learn_ctx l;
	memset(&l, 0, sizeof l);
	l.items = items;
	l.n = n;
	int rc = store_admin_tx(st, learn_tx, &l, err);
	for (int k = 0; k < L_COUNT; k++)
		sqlite3_finalize(l.s[k]);
	return rc;
}

static void scope_cols(sqlite3_stmt *s, struct store_bayes_scope *out)
{
	memset(out, 0, sizeof *out);
	store_col_text(s, 0, out->name, sizeof out->name);
	out->spam = (uint64_t)sqlite3_column_int64(s, 1);
	out->ham = (uint64_t)sqlite3_column_int64(s, 2);
	out->generation = (uint64_t)sqlite3_column_int64(s, 3);
	if (sqlite3_column_count(s) > 5) {
		out->tokens = (uint64_t)sqlite3_column_int64(s, 4);
		out->weights = (uint64_t)sqlite3_column_int64(s, 5);
	}
}

struct scope_ctx {
	struct store_bayes_scope *out;
	int64_t id;
	bool found;
};

static int scope_row(sqlite3_stmt *s, void *arg)
{
	struct scope_ctx *x = arg;
	scope_cols(s, x->out);
	x->id = sqlite3_column_int64(s, 4);
	x->found = true;
	return 1;
}

/* On c: the scope row and its id. 1/0/-1. */
static int scope_read(struct store_conn *c, const char *name,
		      struct store_bayes_scope *out, int64_t *id,
		      struct err *err)
{
	sqlite3_stmt *s = NULL;
	struct scope_ctx x = { out, 0, false };
	memset(out, 0, sizeof *out);
	int rc;
	if (sqlite3_prepare_v2(c->db, "SELECT name, spam, ham, generation, id "
			       "FROM bayes_scopes WHERE name = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = store_db_fail(err, c, "prepare bayes scope");
	} else {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = store_rows(c, s, scope_row, &x, "bayes scope", err);
	}
	sqlite3_finalize(s);
	/* the id is not a token count */
	out->tokens = 0;
	if (id != NULL)
		*id = x.id;
	return rc < 0 ? -1 : x.found;
}

int store_bayes_scope_get(struct store *st, const char *scope,
			  struct store_bayes_scope *out, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int rc = scope_read(c, scope, out, NULL, err);
	store_reader_put(st, c);
	return rc;
}

struct each_ctx {
	int (*fn)(const struct store_bayes_scope *s, void *arg);
	void *arg;
};

static int each_row(sqlite3_stmt *s, void *arg)
{
	struct each_ctx *e = arg;
	struct store_bayes_scope sc;
	scope_cols(s, &sc);
	return e->fn(&sc, e->arg) != 0 ? 1 : 0;
}

int store_bayes_scope_each(struct store *st,
			   int (*fn)(const struct store_bayes_scope *s,
				     void *arg),
			   void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int rc;
	/* a model blob is an 8-octet header and 8 octets a weight (lr.h) */
	if (sqlite3_prepare_v2(c->db, "SELECT name, spam, ham, generation, "
			       "(SELECT count(*) FROM bayes_tokens t WHERE "
			       "t.scope_id = b.id), max(coalesce(length(model), "
			       "8) - 8, 0) / 8 FROM bayes_scopes b ORDER BY "
			       "name", -1, &s, NULL) != SQLITE_OK) {
		rc = store_db_fail(err, c, "prepare bayes scopes");
	} else {
		struct each_ctx e = { fn, arg };
		rc = store_rows(c, s, each_row, &e, "bayes scopes", err);
	}
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return rc;
}

struct load_ctx {
	int (*fn)(uint64_t hash, uint32_t spam, uint32_t ham, void *arg);
	void *arg;
};

static uint32_t count_col(sqlite3_stmt *s, int col)
{
	int64_t v = sqlite3_column_int64(s, col);
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int load_row(sqlite3_stmt *s, void *arg)
{
	struct load_ctx *l = arg;
	return l->fn((uint64_t)sqlite3_column_int64(s, 0), count_col(s, 1),
		     count_col(s, 2), l->arg) != 0 ? 1 : 0;
}

int store_bayes_load(struct store *st, const char *scope,
		     struct store_bayes_scope *out,
		     int (*fn)(uint64_t hash, uint32_t spam, uint32_t ham,
			       void *arg),
		     void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int rc = -1;
	int64_t id = 0;
	sqlite3_stmt *s = NULL;
	/* one read transaction: the totals and the tokens agree */
	if (store_exec(c, STMT_BEGIN_READ, err) != 0)
		goto out;
	rc = scope_read(c, scope, out, &id, err);
	if (rc != 1)
		goto end;
	if (sqlite3_prepare_v2(c->db, "SELECT hash, spam, ham FROM "
			       "bayes_tokens WHERE scope_id = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		rc = store_db_fail(err, c, "prepare bayes tokens");
		goto end;
	}
	sqlite3_bind_int64(s, 1, id);
	struct load_ctx l = { fn, arg };
	if (store_rows(c, s, load_row, &l, "bayes tokens", err) != 0)
		rc = -1;
end:
	sqlite3_finalize(s);
	store_rollback(c);
out:
	store_reader_put(st, c);
	return rc;
}
