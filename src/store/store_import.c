/* store_import.c - the store's side of bulk mailbox creation and of the
 * per-domain password policy (decision 0024): the policy's columns on
 * domains, and a batch of mailboxes created in one transaction of the
 * admin connection with the plan's limit checked inside it. Checking
 * passwords and parsing CSV are not here (src/auth/, src/admin/). */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/store_private.h"

#define POLICY_REJECT_LOCAL 0x1
#define POLICY_REJECT_COMMON 0x2

int store_domain_password_policy(struct store *st, const char *domain,
				 struct store_password_policy *out,
				 struct err *err)
{
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct err ignore;
	if (store_domain_idna(domain, ascii, sizeof ascii, uni, sizeof uni,
			      &ignore) < 0)
		return 0;
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT pw_min_length, pw_min_classes, "
			       "pw_checks FROM domains WHERE name = ?1", -1,
			       &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, "password policy");
		goto out;
	}
	sqlite3_bind_text(s, 1, ascii, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int64_t len = sqlite3_column_int64(s, 0);
		int64_t classes = sqlite3_column_int64(s, 1);
		int checks = sqlite3_column_int(s, 2);
		out->min_length = len < 1 ? 1 : len > STORE_PASSWORD_MIN_LENGTH_MAX ?
				  STORE_PASSWORD_MIN_LENGTH_MAX : (uint32_t)len;
		out->min_classes = classes < 0 ? 0 : classes > 4 ? 4
						     : (uint32_t)classes;
		out->reject_local = (checks & POLICY_REJECT_LOCAL) != 0;
		out->reject_common = (checks & POLICY_REJECT_COMMON) != 0;
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		store_db_fail(err, c, "password policy");
	}
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->admin_mu);
	return ret;
}

int store_domain_set_password_policy(struct store *st, const char *domain,
				     const struct store_password_policy *p,
				     struct err *err)
{
	if (p->min_length < 1 || p->min_length > STORE_PASSWORD_MIN_LENGTH_MAX)
		return err_set(err, ERR_PEER, 0, "", "minimum length must be "
			       "1 to %d", STORE_PASSWORD_MIN_LENGTH_MAX);
	if (p->min_classes > 4)
		return err_set(err, ERR_PEER, 0, "", "character classes must "
			       "be 0 to 4");
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_domain_idna(domain, ascii, sizeof ascii, uni, sizeof uni,
			      err) < 0)
		return -1;
	int checks = (p->reject_local ? POLICY_REJECT_LOCAL : 0) |
		     (p->reject_common ? POLICY_REJECT_COMMON : 0);
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(c->db, "UPDATE domains SET pw_min_length = ?2, "
			       "pw_min_classes = ?3, pw_checks = ?4 "
			       "WHERE name = ?1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, ascii, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, p->min_length);
		sqlite3_bind_int64(s, 3, p->min_classes);
		sqlite3_bind_int(s, 4, checks);
		if (sqlite3_step(s) == SQLITE_DONE)
			n = sqlite3_changes(c->db);
	}
	if (n < 0)
		store_db_fail(err, c, "set password policy");
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->admin_mu);
	if (n < 0)
		return -1;
	if (n == 0)
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "domain %s is not hosted here", ascii);
	char detail[96];
	snprintf(detail, sizeof detail, "min_length=%u classes=%u checks=%d",
		 p->min_length, p->min_classes, checks);
	return store_audit_add(st, "domain.password-policy", ascii, "", detail,
			       err);
}

/* ---- the batch ------------------------------------------------------------ */

int store_local_part_check(const char *local, struct err *err)
{
	return store_check_local(local, err);
}

/* ERR_LIMIT unless domain's plan has room for n more mailboxes. */
static int batch_room(struct store_conn *c, const char *domain, size_t n,
		      struct err *err)
{
	if (store_plan_room(c, domain, err) < 0)	/* alias, hosted, 1 */
		return -1;
	sqlite3_stmt *s = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT d.max_mailboxes, (SELECT count(*) "
			       "FROM mailboxes m WHERE m.domain_id = d.id) "
			       "FROM domains d WHERE d.name = ?1", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		store_db_fail(err, c, "domain plan");
		goto out;
	}
	int64_t max = sqlite3_column_int64(s, 0);
	int64_t have = sqlite3_column_int64(s, 1);
	if (have + (int64_t)n > max)
		err_set(err, ERR_LIMIT, 0, "", "domain %s has %lld of its plan's "
			"%lld mailboxes: no room for %zu more", domain,
			(long long)have, (long long)max, n);
	else
		ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* Member address of group (any form), inside the transaction. */
static int group_join(struct store_conn *c, sqlite3_stmt *count,
		      const char *group, const char *member, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1];
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_addr_norm(group, norm, local, sizeof local, domain,
			    sizeof domain, err) < 0)
		return -1;
	int64_t id;
	int kind, post;
	int found = store_alias_find(c, local, domain, &id, &kind, &post, err);
	if (found < 0)
		return -1;
	if (found == 0 || kind != STORE_GROUP)
		return err_set(err, ERR_NOTFOUND, 0, "", "no group %s", norm);
	sqlite3_bind_int64(count, 1, id);
	int rc = sqlite3_step(count);
	int64_t have = sqlite3_column_int64(count, 0);
	(void)sqlite3_reset(count);	/* rc checked here */
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "group size");
	if (have >= STORE_ALIAS_TARGETS_MAX)
		return err_set(err, ERR_LIMIT, 0, "", "group %s has %d members",
			       norm, STORE_ALIAS_TARGETS_MAX);
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_TARGET_ADD, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, STORE_TARGET_MEMBER);
	sqlite3_bind_text(s, 3, member, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "group member");
	return 0;
}

static int batch_insert(struct store_conn *c, const char *domain,
			struct store_new_mailbox *mbs, size_t n,
			struct err *err)
{
	if (batch_room(c, domain, n, err) < 0)
		return -1;
	sqlite3_stmt *set = NULL, *count = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(c->db, "UPDATE mailboxes SET display_name = ?2, "
			       "scram_secret = ?3 WHERE id = ?1", -1, &set,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "SELECT count(*) FROM alias_targets "
			       "WHERE alias_id = ?1", -1, &count,
			       NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare import");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_new_mailbox *m = &mbs[i];
		if (store_check_local(m->local, err) < 0)
			goto out;
		if (strlen(m->local) + 1 + strlen(domain) > SMTP_PATH_MAX - 2) {
			err_set(err, ERR_PEER, 0, "", "address longer than %d "
				"octets", SMTP_PATH_MAX - 2);
			goto out;
		}
		if (m->quota > (uint64_t)INT64_MAX) {
			err_set(err, ERR_PEER, 0, "", "quota out of range");
			goto out;
		}
		if (store_mailbox_insert(c, m->local, domain, m->pw_hash,
					 m->quota, &m->id, err) < 0)
			goto out;
		sqlite3_bind_int64(set, 1, m->id);
		sqlite3_bind_text(set, 2, m->display_name ? m->display_name : "",
				  -1, SQLITE_STATIC);
		sqlite3_bind_text(set, 3, m->scram ? m->scram : "", -1,
				  SQLITE_STATIC);
		int rc = sqlite3_step(set);
		(void)sqlite3_reset(set);	/* rc checked here */
		if (rc != SQLITE_DONE) {
			store_db_fail(err, c, "mailbox settings");
			goto out;
		}
		char member[STORE_ADDR_MAX + 1];
		snprintf(member, sizeof member, "%s@%s", m->local, domain);
		for (size_t g = 0; g < m->ngroups; g++)
			if (group_join(c, count, m->groups[g], member, err) < 0)
				goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(set);
	sqlite3_finalize(count);
	return ret;
}

struct batch {
	const char *domain;
	struct store_new_mailbox *mbs;
	size_t n;
};

static int batch_run(struct store_conn *c, void *arg, struct err *err)
{
	struct batch *b = arg;
	return batch_insert(c, b->domain, b->mbs, b->n, err);
}

int store_mailbox_add_batch(struct store *st, const char *domain,
			    struct store_new_mailbox *mbs, size_t n,
			    struct err *err)
{
	if (store_check_domain(domain, err) < 0)
		return -1;
	if (n > STORE_PLAN_MAILBOXES_MAX)
		return err_set(err, ERR_LIMIT, 0, "", "more than %d mailboxes "
			       "in one batch", STORE_PLAN_MAILBOXES_MAX);
	struct batch b = { domain, mbs, n };
	if (store_admin_tx(st, batch_run, &b, err) < 0)
		return -1;
	log_info("store", NULL, "op=mailbox-import domain=%s count=%zu",
		 domain, n);
	char detail[64];
	snprintf(detail, sizeof detail, "count=%zu", n);
	return store_audit_add(st, "mailbox.import", domain, "", detail, err);
}
