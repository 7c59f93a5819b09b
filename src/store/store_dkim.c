/* store_dkim.c - DKIM signing keys per domain (table dkim_keys, migration
 * 12). Keeps keys and their times; making keys and deciding rotation is
 * msgauth/dkim_keys.c's. Statements are prepared per call: keys change a
 * few times a year and the signer caches what it reads. */
#include "store/store_private.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

#define KEY_COLS "SELECT id, domain, selector, algorithm, public_key, " \
		 "created, activate_at, retire_at, removed_at, " \
		 "private_key != '' FROM dkim_keys "

static void key_row(sqlite3_stmt *s, struct store_dkim_key *k)
{
	memset(k, 0, sizeof *k);
	k->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, k->domain, sizeof k->domain);
	store_col_text(s, 2, k->selector, sizeof k->selector);
	store_col_text(s, 3, k->algorithm, sizeof k->algorithm);
	store_col_text(s, 4, k->public_key, sizeof k->public_key);
	k->created = sqlite3_column_int64(s, 5);
	k->activate_at = sqlite3_column_int64(s, 6);
	k->retire_at = sqlite3_column_int64(s, 7);
	k->removed_at = sqlite3_column_int64(s, 8);
	k->has_private = sqlite3_column_int(s, 9) != 0;
}

/* A selector is one DNS label of letters, digits and '-' (RFC 6376
 * 3.1 allows dotted selectors; ours never need them). */
static int check_key(const struct store_dkim_key *k, const char *pem,
		     struct err *err)
{
	size_t n = strlen(k->selector);
	if (n == 0 || n > STORE_DKIM_SELECTOR_MAX)
		return err_set(err, ERR_PEER, 0, "", "a selector is 1 to %d "
			       "characters", STORE_DKIM_SELECTOR_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = k->selector[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (ch >= 'A' && ch <= 'Z') || (ch == '-' && i > 0 &&
						   i + 1 < n)))
			return err_set(err, ERR_PEER, 0, "", "selector %s: "
				       "letters, digits and inner '-' only",
				       k->selector);
	}
	if (strcmp(k->algorithm, "rsa-2048") != 0 &&
	    strcmp(k->algorithm, "ed25519") != 0)
		return err_set(err, ERR_PEER, 0, "", "algorithm is rsa-2048 "
			       "or ed25519");
	if (k->public_key[0] == '\0' || pem == NULL || pem[0] == '\0' ||
	    strlen(pem) > STORE_DKIM_PEM_MAX)
		return err_set(err, ERR_PEER, 0, "", "a key needs its public "
			       "and private parts");
	return 0;
}

int store_dkim_add(struct store *st, const struct store_dkim_key *k,
		   const char *pem, const char *kind, int64_t *id_out,
		   struct err *err)
{
	if (check_key(k, pem, err) < 0)
		return -1;
	int rc = store_domain_exists(st, k->domain, err);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(err, ERR_NOTFOUND, 0, "",
					     "domain %s is not hosted here",
					     k->domain);
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db,
			       "INSERT INTO dkim_keys(domain, selector, algorithm, "
			       "private_key, public_key, created, activate_at, "
			       "retire_at, removed_at) VALUES (lower(?1), ?2, ?3, "
			       "?4, ?5, ?6, ?7, ?8, ?9)", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_fail(err, c, "prepare add dkim key");
		goto out;
	}
	sqlite3_bind_text(s, 1, k->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->selector, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, k->algorithm, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, pem, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, k->public_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, k->created);
	sqlite3_bind_int64(s, 7, k->activate_at);
	sqlite3_bind_int64(s, 8, k->retire_at);
	sqlite3_bind_int64(s, 9, k->removed_at);
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT) {
		err_set(err, ERR_PEER, 0, "", "selector %s is taken in %s",
			k->selector, k->domain);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		store_db_fail(err, c, "add dkim key");
		goto out;
	}
	*id_out = sqlite3_last_insert_rowid(c->db);
	ret = 0;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->admin_mu);
	if (ret != 0)
		return -1;
	log_info("store", NULL, "op=\"dkim add\" domain=%s selector=%s "
		 "algorithm=%s", k->domain, k->selector, k->algorithm);
	char detail[128];
	snprintf(detail, sizeof detail, "selector=%s algorithm=%s",
		 k->selector, k->algorithm);
	return store_audit_add(st, kind, k->domain, "", detail, err);
}

struct each_ctx {
	int (*fn)(const struct store_dkim_key *k, void *arg);
	void *arg;
};

static int each_row(sqlite3_stmt *s, void *arg)
{
	struct each_ctx *e = arg;
	struct store_dkim_key k;
	key_row(s, &k);
	return e->fn(&k, e->arg) != 0 ? 1 : 0;
}

int store_dkim_each(struct store *st, const char *domain,
		    int (*fn)(const struct store_dkim_key *k, void *arg),
		    void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, KEY_COLS "WHERE ?1 IS NULL OR domain = ?1 "
			       "ORDER BY domain, created, id", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_fail(err, c, "prepare dkim keys");
	} else {
		if (domain != NULL)
			sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
		struct each_ctx e = { fn, arg };
		ret = store_rows(c, s, each_row, &e, "dkim keys", err);
	}
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return ret;
}

int store_dkim_private(struct store *st, int64_t id, char *pem, size_t pemsz,
		       struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT private_key FROM dkim_keys "
			       "WHERE id = ?1 AND private_key != ''", -1, &s,
			       NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare dkim private key");
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = 0;
	} else if (rc != SQLITE_ROW) {
		store_db_fail(err, c, "dkim private key");
	} else if ((size_t)sqlite3_column_bytes(s, 0) >= pemsz) {
		err_set(err, ERR_ENV, 0, "", "dkim key %lld: private key "
			"larger than %zu bytes", (long long)id, pemsz - 1);
	} else {
		store_col_text(s, 0, pem, pemsz);
		ret = 1;
	}
out:
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return ret;
}

/* One UPDATE of key id (bound by bind) through the admin connection. */
static int key_update(struct store *st, int64_t id, const char *sql,
		      int64_t a, int64_t b, const char *what, struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, what);
	} else {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, a);
		sqlite3_bind_int64(s, 3, b);
		if (sqlite3_step(s) != SQLITE_DONE)
			store_db_fail(err, c, what);
		else if (sqlite3_changes(c->db) == 0)
			err_set(err, ERR_NOTFOUND, 0, "", "no dkim key %lld",
				(long long)id);
		else
			ret = 0;
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->admin_mu);
	return ret;
}

int store_dkim_set_retire(struct store *st, int64_t id, int64_t retire_at,
			  int64_t removed_at, struct err *err)
{
	return key_update(st, id, "UPDATE dkim_keys SET retire_at = ?2, "
			  "removed_at = ?3 WHERE id = ?1", retire_at,
			  removed_at, "retire dkim key", err);
}

int store_dkim_wipe(struct store *st, int64_t id, struct err *err)
{
	/* SQLite may keep the old text in free pages until they are reused;
	 * secure_delete is the admin connection's business if ever needed. */
	return key_update(st, id, "UPDATE dkim_keys SET private_key = '' "
			  "WHERE id = ?1 AND ?2 = ?3", 0, 0,
			  "wipe dkim key", err);
}
