/* store_passwd.c - replacing a mailbox's password hash (password reset
 * through the admin API). The SCRAM secret is the caller's to refresh
 * (auth_scram_store), as at creation; the login cache misses on the
 * changed hash by itself. */
#include "store/store_private.h"

#include <string.h>

#include "core/log.h"

int store_mailbox_set_password(struct store *st, const char *address,
			       const char *pw_hash, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1];
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_addr_norm(address, norm, local, sizeof local, domain,
			    sizeof domain, err) < 0)
		return -1;
	if (pw_hash == NULL || pw_hash[0] != '$' || strlen(pw_hash) > 255)
		return err_set(err, ERR_PEER, 0, "", "not a password hash");
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	sqlite3_stmt *s = NULL;
	/* prepared per call: password changes are rare and this keeps the
	 * shared statement table untouched */
	if (sqlite3_prepare_v2(c->db,
			       "UPDATE mailboxes SET password_hash = ?3 "
			       "WHERE local_part = ?1 AND domain_id = "
			       "(SELECT id FROM domains WHERE name = ?2)",
			       -1, &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare set password");
	} else {
		sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, pw_hash, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			store_db_fail(err, c, "set password");
		else if (sqlite3_changes(c->db) == 0)
			err_set(err, ERR_NOTFOUND, 0, "", "no mailbox %s", norm);
		else
			ret = 0;
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0) {
		log_info("store", NULL, "op=mailbox-password address=%s", norm);
		ret = store_audit_add(st, "mailbox.password", norm, "", "", err);
	}
	return ret;
}
