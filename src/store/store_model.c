/* store_model.c - the tenants model's domains and mailbox settings:
 * IDNA names (libidn2), plans, status, catch-all, domain aliases, and a
 * mailbox's display name, forwarding and suspension (decision 0022).
 * Lookups use a pooled reader; writes the admin connection under its
 * mutex, as store_dir.c.
 */
#include "store/store_private.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

void store_col_text(sqlite3_stmt *s, int col, char *out, size_t outsz)
{
	const unsigned char *v = sqlite3_column_text(s, col);
	snprintf(out, outsz, "%s", v ? (const char *)v : "");
}

static void lower_ascii(char *p)
{
	for (; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
}

int store_domain_idna(const char *name, char *ascii, size_t asciisz,
		      char *unicode, size_t unicodesz, struct err *err)
{
	if (strnlen(name, SMTP_DOMAIN_MAX * 4 + 1) > SMTP_DOMAIN_MAX * 4)
		return err_set(err, ERR_PEER, 0, "", "domain name too long");
	char *a = NULL, *u = NULL;
	/* NFC first: a name typed on another system may be decomposed. */
	int rc = idn2_to_ascii_8z(name, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		return err_set(err, ERR_PEER, 0, "", "'%s' is not a valid domain "
			       "name: %s", name, idn2_strerror(rc));
	lower_ascii(a);
	rc = idn2_to_unicode_8z8z(a, &u, 0);
	int ret = -1;
	if (rc != IDN2_OK)
		err_set(err, ERR_PEER, 0, "", "'%s' is not a valid domain name: %s",
			name, idn2_strerror(rc));
	else if (store_check_domain(a, err) < 0)
		;
	else if (snprintf(ascii, asciisz, "%s", a) >= (int)asciisz ||
		 snprintf(unicode, unicodesz, "%s", u) >= (int)unicodesz)
		err_set(err, ERR_PEER, 0, "", "domain name too long");
	else
		ret = 0;
	idn2_free(a);
	idn2_free(u);
	return ret;
}

int store_addr_norm(const char *address, char *out, char *local,
		    size_t localsz, char *domain, size_t domainsz,
		    struct err *err)
{
	char dom[SMTP_DOMAIN_MAX * 4 + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_addr_split(address, local, localsz, dom, sizeof dom, err) < 0) {
		err_set(err, ERR_PEER, 0, "", "'%s' is not an address "
			"(local@domain)", address);
		return -1;
	}
	if (store_check_local(local, err) < 0 ||
	    store_domain_idna(dom, domain, domainsz, uni, sizeof uni, err) < 0)
		return -1;
	if (snprintf(out, STORE_ADDR_MAX + 1, "%s@%s", local, domain) >
	    SMTP_PATH_MAX - 2)
		return err_set(err, ERR_PEER, 0, "", "address longer than %d "
			       "octets", SMTP_PATH_MAX - 2);
	return 0;
}

/* ---- domains ------------------------------------------------------------ */

int store_plan_room(struct store_conn *c, const char *domain, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_DOMAIN_MAILBOXES, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	int64_t max = sqlite3_column_int64(s, 0);
	int64_t have = sqlite3_column_int64(s, 1);
	bool alias = sqlite3_column_int(s, 2) != 0;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_DONE)
		return err_set(err, ERR_NOTFOUND, 0, "", "domain %s is not "
			       "hosted here", domain);
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "domain plan");
	if (alias)
		return err_set(err, ERR_PEER, 0, "", "%s is a domain alias: "
			       "add the mailbox to its target", domain);
	if (have >= max)
		return err_set(err, ERR_LIMIT, 0, "", "domain %s has reached "
			       "its plan's limit of %lld mailboxes", domain,
			       (long long)max);
	return 0;
}

int store_domain_create(struct store *st, const char *name,
			const char *alias_of, char *ascii_out, struct err *err)
{
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	char target[SMTP_DOMAIN_MAX + 1], tuni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_domain_idna(name, ascii, sizeof ascii, uni, sizeof uni,
			      err) < 0)
		return -1;
	if (alias_of != NULL) {
		if (store_domain_idna(alias_of, target, sizeof target, tuni,
				      sizeof tuni, err) < 0)
			return -1;
		struct store_domain d;
		int found = store_domain_get(st, target, &d, err);
		if (found < 0)
			return -1;
		if (found == 0 || d.alias_of[0] != '\0')
			return err_set(err, ERR_NOTFOUND, 0, "", "%s is not a "
				       "hosted domain (a domain alias must "
				       "point at one)", alias_of);
		if (strcmp(target, ascii) == 0)
			return err_set(err, ERR_PEER, 0, "", "a domain cannot "
				       "be an alias of itself");
	}
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_DOMAIN_ADD, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, ascii, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, uni, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
		if (alias_of != NULL)
			sqlite3_bind_text(s, 4, target, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 4);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			ret = 0;
		else if (rc == SQLITE_CONSTRAINT_UNIQUE)
			err_set(err, ERR_PEER, 0, "",
				"domain %s is already hosted", ascii);
		else
			store_db_fail(err, c, "add domain");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0) {
		log_info("store", NULL, "op=domain-add domain=%s%s%s", ascii,
			 alias_of ? " alias_of=" : "", alias_of ? target : "");
		if (ascii_out != NULL)
			memcpy(ascii_out, ascii, strlen(ascii) + 1);
		ret = store_audit_add(st, alias_of ? "domain.alias" : "domain.add",
				      ascii, "", alias_of ? target : "", err);
	}
	return ret;
}

static void domain_row(sqlite3_stmt *s, struct store_domain *d)
{
	memset(d, 0, sizeof *d);
	d->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, d->name, sizeof d->name);
	store_col_text(s, 2, d->unicode, sizeof d->unicode);
	if (d->unicode[0] == '\0')	/* a domain from before schema 7 */
		memcpy(d->unicode, d->name, strlen(d->name) + 1);
	d->max_mailboxes = (uint32_t)sqlite3_column_int64(s, 4);
	d->mailbox_quota = (uint64_t)sqlite3_column_int64(s, 5);
	d->domain_quota = (uint64_t)sqlite3_column_int64(s, 6);
	store_col_text(s, 7, d->alias_of, sizeof d->alias_of);
	store_col_text(s, 8, d->catchall, sizeof d->catchall);
	d->created = sqlite3_column_int64(s, 9);
	d->mailboxes = (uint32_t)sqlite3_column_int64(s, 10);
	d->used = (uint64_t)sqlite3_column_int64(s, 11);
	d->status = sqlite3_column_int(s, 12) ? STORE_DOMAIN_SUSPENDED
					      : STORE_DOMAIN_ACTIVE;
}

int store_domain_get(struct store *st, const char *name,
		     struct store_domain *out, struct err *err)
{
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct err ignore;
	if (store_domain_idna(name, ascii, sizeof ascii, uni, sizeof uni,
			      &ignore) < 0)
		return 0;	/* not a name we could host */
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_DOMAIN_GET, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, ascii, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			domain_row(s, out);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			store_db_fail(err, c, "get domain");
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_domain_each(struct store *st,
		      int (*fn)(const struct store_domain *d, void *arg),
		      void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_DOMAIN_EACH, err);
	if (s != NULL) {
		int rc;
		struct store_domain d;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			domain_row(s, &d);
			if (fn(&d, arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "list domains");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

/* Run the admin UPDATE stmt with ?1 = the domain (A-label of name) and
 * the binds of fn; ERR_NOTFOUND when no row changed. */
static int domain_update(struct store *st, const char *name,
			 enum store_stmt stmt,
			 void (*bind)(sqlite3_stmt *s, const void *arg),
			 const void *arg, const char *what, struct err *err)
{
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_domain_idna(name, ascii, sizeof ascii, uni, sizeof uni,
			      err) < 0)
		return -1;
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, stmt, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, ascii, -1, SQLITE_STATIC);
		bind(s, arg);
		int rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			store_db_fail(err, c, what);
		else if (sqlite3_changes(c->db) == 0)
			err_set(err, ERR_NOTFOUND, 0, "", "no hosted domain %s"
				" (or it is a domain alias)", ascii);
		else
			ret = 0;
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0)
		log_info("store", NULL, "op=\"%s\" domain=%s", what, ascii);
	return ret;
}

struct plan_args {
	uint32_t max;
	uint64_t quota, total;
};

static void bind_plan(sqlite3_stmt *s, const void *arg)
{
	const struct plan_args *p = arg;
	sqlite3_bind_int64(s, 2, p->max);
	sqlite3_bind_int64(s, 3, (int64_t)p->quota);
	sqlite3_bind_int64(s, 4, (int64_t)p->total);
}

int store_domain_set_plan(struct store *st, const char *name,
			  uint32_t max_mailboxes, uint64_t mailbox_quota,
			  uint64_t domain_quota, struct err *err)
{
	if (max_mailboxes < STORE_PLAN_MAILBOXES_MIN ||
	    max_mailboxes > STORE_PLAN_MAILBOXES_MAX)
		return err_set(err, ERR_PEER, 0, "", "mailbox limit must be "
			       "%d to %d", STORE_PLAN_MAILBOXES_MIN,
			       STORE_PLAN_MAILBOXES_MAX);
	if (mailbox_quota > (uint64_t)INT64_MAX ||
	    domain_quota > (uint64_t)INT64_MAX)
		return err_set(err, ERR_PEER, 0, "", "quota out of range");
	struct store_domain d;
	int found = store_domain_get(st, name, &d, err);
	if (found <= 0)
		return found < 0 ? -1 : err_set(err, ERR_NOTFOUND, 0, "",
						"no hosted domain %s", name);
	if (d.mailboxes > max_mailboxes)
		return err_set(err, ERR_LIMIT, 0, "", "domain %s already has "
			       "%u mailboxes, more than %u", d.name,
			       d.mailboxes, max_mailboxes);
	struct plan_args p = { max_mailboxes, mailbox_quota, domain_quota };
	if (domain_update(st, name, STMT_MODEL_DOMAIN_PLAN, bind_plan, &p,
			  "domain-plan", err) < 0)
		return -1;
	/* the old plan was read above: the entry shows before->after */
	char detail[192];
	snprintf(detail, sizeof detail, "max_mailboxes=%u->%u "
		 "mailbox_quota=%llu->%llu domain_quota=%llu->%llu",
		 d.max_mailboxes, max_mailboxes,
		 (unsigned long long)d.mailbox_quota,
		 (unsigned long long)mailbox_quota,
		 (unsigned long long)d.domain_quota,
		 (unsigned long long)domain_quota);
	return store_audit_add(st, "domain.plan", d.name, "", detail, err);
}

static void bind_int(sqlite3_stmt *s, const void *arg)
{
	sqlite3_bind_int(s, 2, *(const int *)arg);
}

int store_domain_set_status(struct store *st, const char *name,
			    enum store_domain_status status, struct err *err)
{
	int v = status == STORE_DOMAIN_SUSPENDED;
	struct store_domain d;
	int found = store_domain_get(st, name, &d, err);
	if (found < 0)
		return -1;
	if (domain_update(st, name, STMT_MODEL_DOMAIN_STATUS, bind_int, &v,
			  v ? "domain-suspend" : "domain-activate", err) < 0)
		return -1;
	char detail[64];
	snprintf(detail, sizeof detail, "status=%s->%s",
		 d.status == STORE_DOMAIN_SUSPENDED ? "suspended" : "active",
		 v ? "suspended" : "active");
	return store_audit_add(st, v ? "domain.suspend" : "domain.activate",
			       d.name, "", detail, err);
}

static void bind_text2(sqlite3_stmt *s, const void *arg)
{
	sqlite3_bind_text(s, 2, arg, -1, SQLITE_STATIC);
}

int store_domain_set_catchall(struct store *st, const char *name,
			      const char *address, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1] = "";
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (address != NULL && address[0] != '\0' &&
	    store_addr_norm(address, norm, local, sizeof local, domain,
			    sizeof domain, err) < 0)
		return -1;
	return domain_update(st, name, STMT_MODEL_DOMAIN_CATCHALL, bind_text2,
			     norm, "domain-catchall", err);
}

/* ---- mailbox settings --------------------------------------------------- */

int store_mailbox_info(struct store *st, const char *address,
		       struct store_mailbox_info *out, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1];
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	struct err ignore;
	if (store_addr_norm(address, norm, local, sizeof local, domain,
			    sizeof domain, &ignore) < 0)
		return 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_MAILBOX_GET, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			memset(out, 0, sizeof *out);
			struct store_mailbox *mb = &out->mb;
			mb->id = sqlite3_column_int64(s, 0);
			char l[SMTP_LOCAL_MAX + 1], d[SMTP_DOMAIN_MAX];
			store_col_text(s, 1, l, sizeof l);
			store_col_text(s, 2, d, sizeof d);
			snprintf(mb->address, sizeof mb->address, "%s@%s", l, d);
			mb->quota = (uint64_t)sqlite3_column_int64(s, 3);
			mb->used = (uint64_t)sqlite3_column_int64(s, 4);
			mb->enabled = sqlite3_column_int(s, 5) != 0;
			store_col_text(s, 6, out->display_name,
				       sizeof out->display_name);
			store_col_text(s, 7, out->forward, sizeof out->forward);
			out->created = sqlite3_column_int64(s, 8);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			store_db_fail(err, c, "get mailbox");
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

/* UPDATE stmt (?1 local, ?2 domain, ?3 value) of one mailbox. */
static int mailbox_update(struct store *st, const char *address,
			  enum store_stmt stmt, const char *text, int64_t num,
			  const char *what, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1];
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_addr_norm(address, norm, local, sizeof local, domain,
			    sizeof domain, err) < 0)
		return -1;
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, stmt, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
		if (text != NULL)
			sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(s, 3, num);
		int rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			store_db_fail(err, c, what);
		else if (sqlite3_changes(c->db) == 0)
			err_set(err, ERR_NOTFOUND, 0, "", "no mailbox %s", norm);
		else
			ret = 0;
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0)
		log_info("store", NULL, "op=\"%s\" address=%s", what, norm);
	return ret;
}

int store_mailbox_set_enabled(struct store *st, const char *address,
			      bool enabled, struct err *err)
{
	struct store_mailbox_info old;
	if (store_mailbox_info(st, address, &old, err) < 0 ||
	    mailbox_update(st, address, STMT_MODEL_MAILBOX_ENABLED, NULL,
			   enabled ? 1 : 0, enabled ? "mailbox-activate"
						    : "mailbox-suspend", err) < 0)
		return -1;
	char detail[64];
	snprintf(detail, sizeof detail, "status=%s->%s",
		 old.mb.enabled ? "active" : "suspended",
		 enabled ? "active" : "suspended");
	return store_audit_add(st, enabled ? "mailbox.activate" : "mailbox.suspend",
			       old.mb.address, "", detail, err);
}

int store_mailbox_set_forward(struct store *st, const char *address,
			      const char *target, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1] = "";
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (target != NULL && target[0] != '\0' &&
	    store_addr_norm(target, norm, local, sizeof local, domain,
			    sizeof domain, err) < 0)
		return -1;
	return mailbox_update(st, address, STMT_MODEL_MAILBOX_FORWARD, norm, 0,
			      "mailbox-forward", err);
}

int store_mailbox_set_display_name(struct store *st, const char *address,
				   const char *name, struct err *err)
{
	size_t n = strnlen(name, 256);
	if (n > 255)
		return err_set(err, ERR_PEER, 0, "", "display name longer than "
			       "255 octets");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return err_set(err, ERR_PEER, 0, "", "display name has "
				       "a control character");
	return mailbox_update(st, address, STMT_MODEL_MAILBOX_NAME, name, 0,
			      "mailbox-name", err);
}
