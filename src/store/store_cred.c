/* store_cred.c - what the store keeps of credentials besides mailbox
 * passwords: app passwords (a keyed hash of each, never the password),
 * per-mailbox TOTP secrets with the last time step taken (the replay
 * guard), and the domains' two-factor policy. Hashing and TOTP codes
 * belong to auth (decision 0021). Writes use the admin connection and
 * are audited; login-time reads use the reader pool.
 */
#include "store/store_private.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"

/* Inside admin_mu: the id of address's mailbox. 0, or -1 (ERR_NOTFOUND
 * when there is no such mailbox). */
static int mailbox_id(struct store_conn *c, const char *address,
		      int64_t *id_out, struct err *err)
{
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_address_split(address, local, sizeof local, domain,
				sizeof domain, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_ID, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	*id_out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_DONE)
		return err_set(err, ERR_NOTFOUND, 0, "", "no such mailbox %s",
			       address);
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "find mailbox");
	return 0;
}

/* Step a bound UPDATE s: the rows it changed, or -1. Resets s. */
static int step_changes(struct store_conn *c, sqlite3_stmt *s,
			const char *what, struct err *err)
{
	int rc = sqlite3_step(s);
	int n = rc == SQLITE_DONE ? sqlite3_changes(c->db) : -1;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (n < 0)
		return store_db_fail(err, c, what);
	return n;
}

/* ---- app passwords ------------------------------------------------------ */

/* The meta value of key ("" if absent) into out. 0 or -1. */
static int meta_text(struct store *st, const char *key, char *out,
		     size_t outsz, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_META_GET, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		const unsigned char *v =
			rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			ret = snprintf(out, outsz, "%s",
				       v ? (const char *)v : "") < (int)outsz
				      ? 0 : -1;
		else
			store_db_fail(err, c, key);
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_app_password_key(struct store *st, unsigned char key[32],
			   struct err *err)
{
	char hex[80];
	size_t n = 0;
	if (meta_text(st, "app_password_key", hex, sizeof hex, err) < 0)
		return -1;
	if (sodium_hex2bin(key, 32, hex, strlen(hex), NULL, &n, NULL) != 0 ||
	    n != 32)
		return err_set(err, ERR_ENV, 0, "",
			       "store: no app password key (schema too old?)");
	return 0;
}

/* A device name: printable, no control characters, bounded. */
static int check_name(const char *name, struct err *err)
{
	size_t n = strnlen(name, STORE_APP_PASSWORD_NAME_MAX + 1);
	if (n == 0 || n > STORE_APP_PASSWORD_NAME_MAX)
		return err_set(err, ERR_PEER, 0, "",
			       "name must be 1 to %d octets",
			       STORE_APP_PASSWORD_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return err_set(err, ERR_PEER, 0, "",
				       "name has a control character");
	return 0;
}

int store_app_password_add(struct store *st, const char *address,
			   const char *name,
			   const unsigned char hash[STORE_APP_PASSWORD_HASH_LEN],
			   int64_t *id_out, struct err *err)
{
	if (check_name(name, err) < 0)
		return -1;
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int64_t mid = 0, id = 0;
	int ret = -1;
	if (mailbox_id(c, address, &mid, err) == 0) {
		sqlite3_stmt *s = store_stmt(c, STMT_APP_PASSWORD_ADD, err);
		if (s != NULL) {
			sqlite3_bind_int64(s, 1, mid);
			sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
			sqlite3_bind_blob(s, 3, hash, STORE_APP_PASSWORD_HASH_LEN,
					  SQLITE_STATIC);
			sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
			if (step_changes(c, s, "add app password", err) == 1) {
				id = sqlite3_last_insert_rowid(c->db);
				ret = 0;
			}
		}
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (ret < 0)
		return -1;
	*id_out = id;
	char detail[STORE_APP_PASSWORD_NAME_MAX + 32];
	snprintf(detail, sizeof detail, "id=%lld name=%s", (long long)id, name);
	return store_audit_add(st, "app-password.add", address, "", detail,
			       err);
}

int store_app_password_each(struct store *st, const char *address,
			    int (*fn)(const struct store_app_password *ap,
				      void *arg),
			    void *arg, struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int64_t mid = 0;
	int ret = -1;
	sqlite3_stmt *s = NULL;
	if (mailbox_id(c, address, &mid, err) == 0)
		s = store_stmt(c, STMT_APP_PASSWORD_EACH, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mid);
		int rc;
		struct store_app_password ap;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			memset(&ap, 0, sizeof ap);
			ap.id = sqlite3_column_int64(s, 0);
			const unsigned char *t = sqlite3_column_text(s, 1);
			snprintf(ap.name, sizeof ap.name, "%s",
				 t ? (const char *)t : "");
			ap.created = sqlite3_column_int64(s, 2);
			ap.last_used = sqlite3_column_int64(s, 3);
			t = sqlite3_column_text(s, 4);
			snprintf(ap.last_ip, sizeof ap.last_ip, "%s",
				 t ? (const char *)t : "");
			ap.revoked = sqlite3_column_int64(s, 5);
			if (fn(&ap, arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "list app passwords");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	pthread_mutex_unlock(&st->admin_mu);
	return ret;
}

int store_app_password_revoke(struct store *st, const char *address,
			      int64_t id, struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int64_t mid = 0;
	int n = -1;
	if (mailbox_id(c, address, &mid, err) == 0) {
		sqlite3_stmt *s = store_stmt(c, STMT_APP_PASSWORD_REVOKE, err);
		if (s != NULL) {
			sqlite3_bind_int64(s, 1, mid);
			sqlite3_bind_int64(s, 2, id);
			sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
			n = step_changes(c, s, "revoke app password", err);
		}
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (n < 0)
		return -1;
	if (n == 0)
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "%s has no valid app password %lld", address,
			       (long long)id);
	char detail[32];
	snprintf(detail, sizeof detail, "id=%lld", (long long)id);
	return store_audit_add(st, "app-password.revoke", address, "", detail,
			       err);
}

int store_app_password_match(struct store *st, int64_t mailbox_id,
			     const unsigned char hash[STORE_APP_PASSWORD_HASH_LEN],
			     int64_t *id_out, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_APP_PASSWORD_MATCH, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mailbox_id);
		sqlite3_bind_blob(s, 2, hash, STORE_APP_PASSWORD_HASH_LEN,
				  SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*id_out = sqlite3_column_int64(s, 0);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			store_db_fail(err, c, "match app password");
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

/* ---- TOTP --------------------------------------------------------------- */

int store_totp_get(struct store *st, const char *address, char *secret,
		   size_t secretsz, int64_t *last_step_out, struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int64_t mid = 0;
	int ret = -1;
	sqlite3_stmt *s = NULL;
	if (mailbox_id(c, address, &mid, err) == 0)
		s = store_stmt(c, STMT_TOTP_GET, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mid);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(s, 0);
			int n = snprintf(secret, secretsz, "%s",
					 t ? (const char *)t : "");
			*last_step_out = sqlite3_column_int64(s, 1);
			if (n >= 0 && (size_t)n < secretsz)
				ret = 0;
			else
				err_set(err, ERR_LIMIT, 0, "",
					"store: TOTP secret too long");
		} else {
			store_db_fail(err, c, "get TOTP secret");
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	pthread_mutex_unlock(&st->admin_mu);
	return ret;
}

int store_totp_set(struct store *st, const char *address, const char *secret,
		   struct err *err)
{
	if (strnlen(secret, STORE_TOTP_SECRET_MAX + 1) > STORE_TOTP_SECRET_MAX)
		return err_set(err, ERR_PEER, 0, "", "TOTP secret too long");
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int64_t mid = 0;
	int n = -1;
	if (mailbox_id(c, address, &mid, err) == 0) {
		sqlite3_stmt *s = store_stmt(c, STMT_TOTP_SET, err);
		if (s != NULL) {
			sqlite3_bind_int64(s, 1, mid);
			sqlite3_bind_text(s, 2, secret, -1, SQLITE_STATIC);
			n = step_changes(c, s, "set TOTP secret", err);
		}
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (n < 0)
		return -1;
	/* never the secret itself: the log is read by more people */
	return store_audit_add(st, secret[0] ? "totp.enable" : "totp.disable",
			       address, "", "", err);
}

int store_totp_use(struct store *st, const char *address, int64_t step,
		   struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int64_t mid = 0;
	int n = -1;
	if (mailbox_id(c, address, &mid, err) == 0) {
		sqlite3_stmt *s = store_stmt(c, STMT_TOTP_USE, err);
		if (s != NULL) {
			sqlite3_bind_int64(s, 1, mid);
			sqlite3_bind_int64(s, 2, step);
			n = step_changes(c, s, "take TOTP step", err);
		}
	}
	pthread_mutex_unlock(&st->admin_mu);
	return n < 0 ? -1 : n > 0;
}

/* ---- the domains' two-factor policy ------------------------------------- */

int store_domain_2fa(struct store *st, const char *domain, struct err *err)
{
	if (strnlen(domain, SMTP_DOMAIN_MAX + 1) > SMTP_DOMAIN_MAX)
		return 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_DOMAIN_2FA_GET, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			ret = sqlite3_column_int(s, 0) != 0;
		else if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "domain 2fa policy");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_domain_set_2fa(struct store *st, const char *domain, bool on,
			 struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int n = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_DOMAIN_2FA_SET, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, on ? 1 : 0);
		n = step_changes(c, s, "set domain 2fa policy", err);
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (n < 0)
		return -1;
	if (n == 0)
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "domain %s is not hosted here", domain);
	return store_audit_add(st, on ? "domain.2fa-on" : "domain.2fa-off",
			       domain, "", "", err);
}
