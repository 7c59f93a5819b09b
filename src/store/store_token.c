/* store_token.c - the admin API's bearer tokens (table api_tokens,
 * migration 7): hashes only, looked up by hash. Writes go through the
 * admin connection like the other admin calls; statements are prepared
 * per call because these run a few times a minute, not per message. It
 * does not make or check tokens (src/http/http_auth.c does). */
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/store.h"
#include "store/store_private.h"

#define TOKEN_COLS "SELECT id, name, hash, domain, created, last_used, " \
		   "last_ip, revoked FROM api_tokens "

static void copy_text(sqlite3_stmt *s, int col, char *out, size_t outsz)
{
	const unsigned char *v = sqlite3_column_text(s, col);
	size_t n = v ? (size_t)sqlite3_column_bytes(s, col) : 0;
	if (n >= outsz)
		n = outsz - 1;
	if (n > 0)
		memcpy(out, v, n);
	out[n] = '\0';
}

static void token_row(sqlite3_stmt *s, struct store_token *t)
{
	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(s, 0);
	copy_text(s, 1, t->name, sizeof t->name);
	const void *h = sqlite3_column_blob(s, 2);
	if (h != NULL && sqlite3_column_bytes(s, 2) == STORE_TOKEN_HASH_LEN)
		memcpy(t->hash, h, STORE_TOKEN_HASH_LEN);
	copy_text(s, 3, t->domain, sizeof t->domain);
	t->created = sqlite3_column_int64(s, 4);
	t->last_used = sqlite3_column_int64(s, 5);
	copy_text(s, 6, t->last_ip, sizeof t->last_ip);
	t->revoked = sqlite3_column_int(s, 7) != 0;
}

static int check_name(const char *name, struct err *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > STORE_TOKEN_NAME_MAX)
		return err_set(err, ERR_PEER, 0, "",
			       "a token name is 1 to %d bytes",
			       STORE_TOKEN_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x20 || name[i] > 0x7e)
			return err_set(err, ERR_PEER, 0, "",
				       "a token name is printable ASCII");
	return 0;
}

int store_token_add(struct store *st, const char *name, const char *domain,
		    const unsigned char hash[STORE_TOKEN_HASH_LEN],
		    int64_t *id_out, struct err *err)
{
	if (check_name(name, err) < 0)
		return -1;
	if (domain[0] != '\0') {
		int rc = store_domain_exists(st, domain, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return err_set(err, ERR_NOTFOUND, 0, "",
				       "domain %s is not hosted here", domain);
	}
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db,
			       "INSERT INTO api_tokens(name, hash, domain, created) "
			       "VALUES (?1, ?2, lower(?3), ?4)", -1, &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, "add token");
		goto out;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_db_fail(err, c, "add token");
		goto out;
	}
	*id_out = sqlite3_last_insert_rowid(c->db);
	ret = 0;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0)
		log_info("store", NULL, "op=\"token add\" token_id=%lld domain=%s",
			 (long long)*id_out, domain[0] ? domain : "-");
	return ret;
}

int store_token_find(struct store *st,
		     const unsigned char hash[STORE_TOKEN_HASH_LEN],
		     struct store_token *out, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, TOKEN_COLS "WHERE hash = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		store_db_fail(err, c, "find token");
		goto out;
	}
	sqlite3_bind_blob(s, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		token_row(s, out);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		store_db_fail(err, c, "find token");
	}
out:
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return ret;
}

int store_token_each(struct store *st,
		     int (*fn)(const struct store_token *t, void *arg),
		     void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int ret = -1, rc;
	if (sqlite3_prepare_v2(c->db, TOKEN_COLS "ORDER BY id", -1, &s,
			       NULL) != SQLITE_OK) {
		store_db_fail(err, c, "list tokens");
		goto out;
	}
	struct store_token t;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		token_row(s, &t);
		if (fn(&t, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc == SQLITE_DONE)
		ret = 0;
	else
		store_db_fail(err, c, "list tokens");
out:
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return ret;
}

/* One UPDATE of the admin connection: the rows it changed, or -1. */
static int admin_update(struct store *st, const char *sql, int64_t id,
			int64_t num, const char *text, const char *what,
			struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, what);
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, num);
	if (text != NULL)
		sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_db_fail(err, c, what);
		goto out;
	}
	ret = sqlite3_changes(c->db) > 0 ? 1 : 0;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->admin_mu);
	return ret;
}

int store_token_revoke(struct store *st, int64_t id, struct err *err)
{
	int rc = admin_update(st, "UPDATE api_tokens SET revoked = 1 "
			      "WHERE id = ?1 AND ?2 = ?2", id, 0, NULL,
			      "revoke token", err);
	if (rc == 1)
		log_info("store", NULL, "op=\"token revoke\" token_id=%lld",
			 (long long)id);
	return rc;
}

int store_token_touch(struct store *st, int64_t id, int64_t now,
		      const char *ip, struct err *err)
{
	return admin_update(st, "UPDATE api_tokens SET last_used = ?2, "
			    "last_ip = ?3 WHERE id = ?1", id, now, ip,
			    "token use", err) < 0 ? -1 : 0;
}
