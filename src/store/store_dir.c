/* store_dir.c - the directory: hosted domains and mailboxes with their
 * special-use folders. Lookups use a pooled read-only connection; the few
 * admin writes share one writer connection under a mutex and take turns
 * with the committer through SQLite's write lock (busy_timeout). Password
 * hashing belongs to auth; quota is enforced by SMTP at RCPT and DATA and
 * by the committer for APPEND and COPY (store_commit.c, store_mutate.c).
 */
#include "store/store_private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"

/* The folders every new mailbox gets (RFC 6154 special-use). */
static const struct {
	const char *name;
	enum store_special special;
} store_default_folders[] = {
	{ "INBOX", STORE_SPECIAL_INBOX },   { "Sent", STORE_SPECIAL_SENT },
	{ "Drafts", STORE_SPECIAL_DRAFTS }, { "Junk", STORE_SPECIAL_JUNK },
	{ "Trash", STORE_SPECIAL_TRASH },   { "Archive", STORE_SPECIAL_ARCHIVE },
};

/* ---- names -------------------------------------------------------------- */

/* Lookups: a name longer than any we store cannot match; saying "no such"
 * without asking SQLite also keeps peer-sized strings out of it. */
static bool lookup_len_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	return n > 0 && n <= max;
}

/* A local part we create: an RFC 5322 dot-atom (3.2.3) of at most 64
 * octets (RFC 5321 4.5.3.1.1); UTF-8 is allowed (RFC 6531). Quoted local
 * parts are legal but hosted services never create them. */
static int check_local(const char *local, struct err *err)
{
	static const char specials[] = "()<>[]:;@\\,\"";
	size_t n = strnlen(local, SMTP_LOCAL_MAX + 1);
	if (n == 0 || n > SMTP_LOCAL_MAX)
		return err_set(err, ERR_PEER, 0, "",
			       "local part must be 1 to %d octets",
			       SMTP_LOCAL_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)local[i];
		if (c <= 0x20 || c == 0x7f || strchr(specials, c) != NULL)
			return err_set(err, ERR_PEER, 0, "",
				       "local part has a character that is "
				       "not allowed");
		if (c == '.' && (i == 0 || i == n - 1 || local[i + 1] == '.'))
			return err_set(err, ERR_PEER, 0, "",
				       "local part has a misplaced dot");
	}
	return 0;
}

/* A domain we host: LDH labels (RFC 1123 2.1) of 1 to 63 octets, at most
 * 255 octets in all (RFC 5321 4.5.3.1.2); IDNs arrive as A-labels. */
static int check_domain(const char *domain, struct err *err)
{
	size_t n = strnlen(domain, SMTP_DOMAIN_MAX + 1);
	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return err_set(err, ERR_PEER, 0, "",
			       "domain must be 1 to %d octets", SMTP_DOMAIN_MAX);
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = domain[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || domain[i - 1] == '-')
				return err_set(err, ERR_PEER, 0, "",
					       "domain has an empty, too long "
					       "or badly ended label");
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || (c == '-' && label > 0);
		if (!ok)
			return err_set(err, ERR_PEER, 0, "",
				       "domain has a character that is not "
				       "allowed");
		label++;
	}
	return 0;
}

/* Split "local@domain" at its last '@' into the two buffers. */
static int split_address(const char *address, char *local, size_t localsz,
			 char *domain, size_t domainsz, struct err *err)
{
	const char *at = strrchr(address, '@');
	if (at == NULL || at == address || at[1] == '\0')
		return err_set(err, ERR_PEER, 0, "",
			       "address must be local@domain");
	size_t ln = (size_t)(at - address);
	size_t dn = strlen(at + 1);
	if (ln >= localsz || dn >= domainsz)
		return err_set(err, ERR_NOTFOUND, 0, "", "no such mailbox");
	memcpy(local, address, ln);
	local[ln] = '\0';
	memcpy(domain, at + 1, dn + 1);
	return 0;
}

int store_address_split(const char *address, char *local, size_t localsz,
			char *domain, size_t domainsz, struct err *err)
{
	return split_address(address, local, localsz, domain, domainsz, err);
}

/* Columns id, local_part, domain, quota, used, enabled into out. */
static int mailbox_row(sqlite3_stmt *s, struct store_mailbox *out,
		       struct err *err)
{
	memset(out, 0, sizeof *out);
	out->id = sqlite3_column_int64(s, 0);
	const unsigned char *local = sqlite3_column_text(s, 1);
	const unsigned char *domain = sqlite3_column_text(s, 2);
	int n = snprintf(out->address, sizeof out->address, "%s@%s",
			 local ? (const char *)local : "",
			 domain ? (const char *)domain : "");
	if (n < 0 || (size_t)n >= sizeof out->address)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: mailbox %lld has an address too long",
			       (long long)out->id);
	int64_t quota = sqlite3_column_int64(s, 3);
	int64_t used = sqlite3_column_int64(s, 4);
	out->quota = quota > 0 ? (uint64_t)quota : 0;
	out->used = used > 0 ? (uint64_t)used : 0;
	out->enabled = sqlite3_column_int(s, 5) != 0;
	return 0;
}

/* ---- lookups ------------------------------------------------------------ */

int store_domain_exists(struct store *st, const char *domain, struct err *err)
{
	if (!lookup_len_ok(domain, SMTP_DOMAIN_MAX))
		return 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_DOMAIN_FIND, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			ret = 1;
		else if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "find domain");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_mailbox_find(struct store *st, const char *local, const char *domain,
		       struct store_mailbox *out, struct err *err)
{
	if (!lookup_len_ok(local, SMTP_LOCAL_MAX) ||
	    !lookup_len_ok(domain, SMTP_DOMAIN_MAX))
		return 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_FIND, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			ret = mailbox_row(s, out, err) < 0 ? -1 : 1;
		else if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "find mailbox");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

/* Run a bound UPDATE of one mailbox row: 0, or -1 (ERR_NOTFOUND when
 * no row matched). Resets s. */
static int step_mailbox_update(struct store_conn *c, sqlite3_stmt *s,
			       const char *what, struct err *err)
{
	int ret = -1;
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_db_fail(err, c, what);
	else if (sqlite3_changes(c->db) == 0)
		err_set(err, ERR_NOTFOUND, 0, "", "no such mailbox");
	else
		ret = 0;
	(void)sqlite3_reset(s);	/* rc handled above */
	return ret;
}

/* One text column of local@domain's row (stmt binds ?1 local, ?2 domain)
 * into out. 1/0/-1 as store_mailbox_find. */
static int mailbox_text(struct store *st, enum store_stmt stmt,
			const char *local, const char *domain, char *out,
			size_t outsz, const char *what, struct err *err)
{
	if (!lookup_len_ok(local, SMTP_LOCAL_MAX) ||
	    !lookup_len_ok(domain, SMTP_DOMAIN_MAX))
		return 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, stmt, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const unsigned char *h = sqlite3_column_text(s, 0);
			int n = snprintf(out, outsz, "%s",
					 h ? (const char *)h : "");
			if (n < 0 || (size_t)n >= outsz)
				err_set(err, ERR_LIMIT, 0, "",
					"store: %s does not fit in %zu bytes",
					what, outsz);
			else
				ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			store_db_fail(err, c, what);
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_mailbox_password(struct store *st, const char *local,
			   const char *domain, char *out, size_t outsz,
			   struct err *err)
{
	return mailbox_text(st, STMT_MAILBOX_PASSWORD, local, domain, out,
			    outsz, "password hash", err);
}

int store_mailbox_scram(struct store *st, const char *local,
			const char *domain, char *out, size_t outsz,
			struct err *err)
{
	return mailbox_text(st, STMT_MAILBOX_SCRAM, local, domain, out, outsz,
			    "scram secret", err);
}

int store_mailbox_set_scram(struct store *st, int64_t mailbox_id,
			    const char *secret, struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_SET_SCRAM, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mailbox_id);
		sqlite3_bind_text(s, 2, secret, -1, SQLITE_STATIC);
		ret = step_mailbox_update(c, s, "set scram secret", err);
	}
	pthread_mutex_unlock(&st->admin_mu);
	return ret;
}

int store_scram_mock_key(struct store *st, char *out, size_t outsz,
			 struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_META_GET, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, "scram_mock_key", -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		const unsigned char *v = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			ret = snprintf(out, outsz, "%s", v ? (const char *)v : "") <
			      (int)outsz ? 0 : -1;
		else
			store_db_fail(err, c, "scram mock key");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

struct mailbox_each {
	int (*fn)(const struct store_mailbox *mb, void *arg);
	void *arg;
	struct err *err;
};

static int mailbox_each_row(sqlite3_stmt *s, void *arg)
{
	struct mailbox_each *e = arg;
	struct store_mailbox mb;
	if (mailbox_row(s, &mb, e->err) < 0)
		return -1;
	return e->fn(&mb, e->arg) != 0;
}

int store_mailbox_each(struct store *st,
		       int (*fn)(const struct store_mailbox *mb, void *arg),
		       void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_EACH, err);
	if (s != NULL) {
		struct mailbox_each e = { fn, arg, err };
		ret = store_rows(c, s, mailbox_each_row, &e, "list mailboxes",
				 err);
	}
	store_reader_put(st, c);
	return ret;
}

/* ---- admin writes ------------------------------------------------------- */

/* Either form of the name; store_model.c keeps both (decision 0022). */
int store_domain_add(struct store *st, const char *domain, struct err *err)
{
	return store_domain_create(st, domain, NULL, NULL, err);
}

/* Inside the admin transaction: the mailbox row and its folders. */
int store_mailbox_insert(struct store_conn *c, const char *local,
			  const char *domain, const char *pw_hash,
			  uint64_t quota, int64_t *id_out, struct err *err)
{
	int64_t now = (int64_t)time(NULL);
	sqlite3_stmt *s = store_stmt(c, STMT_DOMAIN_FIND, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	int64_t domain_id = sqlite3_column_int64(s, 0);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_DONE)
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "domain %s is not hosted here", domain);
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "find domain");
	if (store_plan_room(c, domain, err) < 0)
		return -1;

	s = store_stmt(c, STMT_MAILBOX_ADD, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_text(s, 2, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, pw_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)quota);
	sqlite3_bind_int64(s, 5, now);
	rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return err_set(err, ERR_PEER, 0, "",
			       "mailbox %s@%s already exists", local, domain);
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "add mailbox");
	int64_t id = sqlite3_last_insert_rowid(c->db);

	uint32_t uidvalidity;
	if (store_meta_next_uidvalidity(c, now, &uidvalidity, err) < 0)
		return -1;
	size_t nf = sizeof store_default_folders / sizeof store_default_folders[0];
	for (size_t i = 0; i < nf; i++) {
		s = store_stmt(c, STMT_FOLDER_ADD, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, store_default_folders[i].name, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int(s, 3, (int)store_default_folders[i].special);
		sqlite3_bind_int64(s, 4, uidvalidity);
		rc = sqlite3_step(s);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc != SQLITE_DONE)
			return store_db_fail(err, c, "add folder");
	}
	*id_out = id;
	return 0;
}

int store_mailbox_add(struct store *st, const char *local, const char *domain,
		      const char *pw_hash, uint64_t quota, int64_t *id_out,
		      struct err *err)
{
	if (check_local(local, err) < 0 || check_domain(domain, err) < 0)
		return -1;
	/* RFC 5321 4.5.3.1.3: the path "<local@domain>" is at most 256
	 * octets, so the address at most 254. */
	if (strlen(local) + 1 + strlen(domain) > SMTP_PATH_MAX - 2)
		return err_set(err, ERR_PEER, 0, "",
			       "address longer than %d octets",
			       SMTP_PATH_MAX - 2);
	if (quota > (uint64_t)INT64_MAX)
		return err_set(err, ERR_PEER, 0, "", "quota out of range");
	if (pw_hash == NULL)
		pw_hash = "";

	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int64_t id = 0;
	int ret = -1;
	if (store_exec(c, STMT_BEGIN, err) == 0) {
		if (store_mailbox_insert(c, local, domain, pw_hash, quota, &id,
				   err) == 0 &&
		    store_exec(c, STMT_COMMIT, err) == 0)
			ret = 0;
		else
			store_rollback(c);
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0) {
		if (id_out != NULL)
			*id_out = id;
		log_info("store", NULL, "op=mailbox-add mailbox=%lld "
			 "address=%s@%s", (long long)id, local, domain);
		char what[SMTP_PATH_MAX], detail[64];
		snprintf(what, sizeof what, "%s@%s", local, domain);
		snprintf(detail, sizeof detail, "quota=%llu",
			 (unsigned long long)quota);
		ret = store_audit_add(st, "mailbox.add", what, "", detail, err);
	}
	return ret;
}

int store_mailbox_set_quota(struct store *st, const char *address,
			    uint64_t quota, struct err *err)
{
	char local[SMTP_LOCAL_MAX + 1];
	char domain[SMTP_DOMAIN_MAX + 1];
	if (split_address(address, local, sizeof local, domain, sizeof domain,
			  err) < 0)
		return -1;
	if (quota > (uint64_t)INT64_MAX)
		return err_set(err, ERR_PEER, 0, "", "quota out of range");
	/* the old value, for the audit entry's before->after */
	struct store_mailbox old;
	if (store_mailbox_find(st, local, domain, &old, err) < 0)
		return -1;
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_SET_QUOTA, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (int64_t)quota);
		ret = step_mailbox_update(c, s, "set quota", err);
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0) {
		log_info("store", NULL, "op=mailbox-quota address=%s@%s "
			 "quota=%llu", local, domain, (unsigned long long)quota);
		char detail[64];
		snprintf(detail, sizeof detail, "quota=%llu->%llu",
			 (unsigned long long)old.quota, (unsigned long long)quota);
		ret = store_audit_add(st, "mailbox.quota", address, "", detail,
				      err);
	}
	return ret;
}

/* ---- for the tenants model (store_model.c, store_alias.c) --------------- */

int store_addr_split(const char *address, char *local, size_t localsz,
		     char *domain, size_t domainsz, struct err *err)
{
	return split_address(address, local, localsz, domain, domainsz, err);
}

int store_check_local(const char *local, struct err *err)
{
	return check_local(local, err);
}

int store_check_domain(const char *domain, struct err *err)
{
	return check_domain(domain, err);
}
