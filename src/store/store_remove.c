/* store_remove.c - taking a mailbox or a whole domain away.
 *
 * Removal is one transaction on the admin connection (so petrelctl can
 * do it while petreld runs, like every admin write): a delivery that
 * resolved the mailbox before finds its INBOX gone at commit and is
 * refused there, like one to a folder deleted meanwhile (store_commit.c);
 * an IMAP session still open on it sees its folder gone. The messages
 * give back their blob references (the space comes back when segments
 * are compacted), and everything that names the address goes with it:
 * group memberships, alias targets, a catch-all. Mail already queued
 * for sending on its behalf still goes out. */
#include "store/store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

struct remove_job {
	bool domain;		/* else one mailbox */
	bool force;		/* a domain with mailboxes or aliases */
	char name[STORE_ADDR_MAX + 1];	/* address or domain (A-label) */
	/* out */
	int64_t mailboxes, aliases, messages, bytes;
};

/* Run sql with ?1 = id and ?2 = text; -1 with err naming what. */
static int rm_exec(struct store_conn *c, const char *sql, int64_t id,
		   const char *text, const char *what, struct err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, what);
	sqlite3_bind_int64(s, 1, id);
	if (text != NULL)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	int rc = store_step_done(c, s, what, err);
	sqlite3_finalize(s);
	return rc;
}

/* One integer from sql (?1 = id, ?2 = text); -1 on error. */
static int rm_count(struct store_conn *c, const char *sql, int64_t id,
		    const char *text, int64_t *out, struct err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "count");
	sqlite3_bind_int64(s, 1, id);
	if (text != NULL)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_db_fail(err, c, "count");
}

#define IN_FOLDERS "(SELECT id FROM folders WHERE mailbox_id = ?1)"

static int drop_mailbox(struct store_conn *c, struct remove_job *x, int64_t id,
			const char *address, struct err *err)
{
	static const char *const steps[] = {
		"UPDATE blobs SET refcount = refcount - (SELECT count(*) FROM "
		"messages m WHERE m.blob_id = blobs.id AND m.folder_id IN "
		IN_FOLDERS ") WHERE id IN (SELECT blob_id FROM messages "
		"WHERE folder_id IN " IN_FOLDERS ")",
		"DELETE FROM messages WHERE folder_id IN " IN_FOLDERS,
		"DELETE FROM expunged WHERE folder_id IN " IN_FOLDERS,
		"DELETE FROM folders WHERE mailbox_id = ?1",
		"DELETE FROM keywords WHERE mailbox_id = ?1",
		"DELETE FROM subscriptions WHERE mailbox_id = ?1",
		"DELETE FROM app_passwords WHERE mailbox_id = ?1",
		"DELETE FROM mailbox_ips WHERE mailbox_id = ?1",
		"DELETE FROM alias_targets WHERE addr = ?2",
		/* an alias left with no target would swallow mail */
		"DELETE FROM aliases WHERE kind = 0 AND id NOT IN "
		"(SELECT alias_id FROM alias_targets)",
		"UPDATE domains SET catchall = '' WHERE catchall = ?2",
		"DELETE FROM mailboxes WHERE id = ?1",
	};
	int64_t n, bytes;
	if (rm_count(c, "SELECT count(*) FROM messages WHERE folder_id IN "
		     IN_FOLDERS, id, NULL, &n, err) < 0 ||
	    rm_count(c, "SELECT used FROM mailboxes WHERE id = ?1", id, NULL,
		     &bytes, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (rm_exec(c, steps[i], id, address, "remove mailbox", err) < 0)
			return -1;
	x->mailboxes++;
	x->messages += n;
	x->bytes += bytes;
	return 0;
}

static int mailbox_id(struct store_conn *c, const char *address, int64_t *id,
		      struct err *err)
{
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_addr_split(address, local, sizeof local, domain,
			     sizeof domain, err) < 0)
		return -1;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT m.id FROM mailboxes m JOIN domains d "
			       "ON d.id = m.domain_id WHERE m.local_part = ?1 "
			       "AND d.name = ?2", -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "find mailbox");
	sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return err_set(err, ERR_NOTFOUND, 0, "", "no mailbox %s", address);
	return store_db_fail(err, c, "find mailbox");
}

struct ids {
	int64_t *v;
	char (*addr)[STORE_ADDR_MAX + 1];
	size_t n, cap;
};

static int collect_id(sqlite3_stmt *s, void *arg)
{
	struct ids *ids = arg;
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 64;
		ids->v = xreallocarray(ids->v, ids->cap, sizeof *ids->v);
		ids->addr = xreallocarray(ids->addr, ids->cap, sizeof *ids->addr);
	}
	ids->v[ids->n] = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, ids->addr[ids->n], sizeof ids->addr[0]);
	ids->n++;
	return 0;
}

static int drop_domain(struct store_conn *c, struct remove_job *x,
		       struct err *err)
{
	int64_t id, mailboxes, aliases, domain_aliases;
	if (rm_count(c, "SELECT coalesce((SELECT id FROM domains WHERE name = ?2 "
		     "AND alias_of IS NULL), 0)", 0, x->name, &id, err) < 0)
		return -1;
	if (id == 0) {
		/* a domain alias goes alone: nothing of its own to lose */
		if (rm_count(c, "SELECT count(*) FROM domains WHERE name = ?2",
			     0, x->name, &id, err) < 0)
			return -1;
		if (id == 0)
			return err_set(err, ERR_NOTFOUND, 0, "", "no domain %s",
				       x->name);
		return rm_exec(c, "DELETE FROM domains WHERE name = ?2", 0,
			       x->name, "remove domain alias", err);
	}
	if (rm_count(c, "SELECT count(*) FROM mailboxes WHERE domain_id = ?1",
		     id, NULL, &mailboxes, err) < 0 ||
	    rm_count(c, "SELECT count(*) FROM aliases WHERE domain_id = ?1",
		     id, NULL, &aliases, err) < 0 ||
	    rm_count(c, "SELECT count(*) FROM domains WHERE alias_of = ?1",
		     id, NULL, &domain_aliases, err) < 0)
		return -1;
	if (!x->force && (mailboxes || aliases || domain_aliases))
		return err_set(err, ERR_PEER, 0, "",
			       "%s has %lld mailbox(es), %lld alias(es) or "
			       "group(s) and %lld domain alias(es); remove them "
			       "first, or force the removal of everything",
			       x->name, (long long)mailboxes, (long long)aliases,
			       (long long)domain_aliases);
	struct ids ids = { 0 };
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT m.id, m.local_part || '@' || d.name FROM "
			       "mailboxes m JOIN domains d ON d.id = m.domain_id "
			       "WHERE d.id = ?1", -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "list mailboxes");
	sqlite3_bind_int64(s, 1, id);
	int rc = store_rows(c, s, collect_id, &ids, "list mailboxes", err);
	sqlite3_finalize(s);
	for (size_t i = 0; rc == 0 && i < ids.n; i++)
		rc = drop_mailbox(c, x, ids.v[i], ids.addr[i], err);
	free(ids.v);
	free(ids.addr);
	if (rc < 0)
		return -1;
	static const char *const steps[] = {
		"DELETE FROM alias_targets WHERE alias_id IN "
		"(SELECT id FROM aliases WHERE domain_id = ?1)",
		"DELETE FROM aliases WHERE domain_id = ?1",
		/* elsewhere, targets and members in the domain: they would
		 * otherwise be relayed out as if it were a remote domain */
		"DELETE FROM alias_targets WHERE substr(addr, -length(?2) - 1) "
		"= '@' || ?2",
		"UPDATE domains SET catchall = '' WHERE substr(catchall, "
		"-length(?2) - 1) = '@' || ?2",
		"DELETE FROM domains WHERE alias_of = ?1",
		"UPDATE api_tokens SET revoked = 1 WHERE domain = ?2",
		/* a domain added again later starts from the defaults */
		"DELETE FROM filter_settings WHERE domain = ?2",
		"DELETE FROM domains WHERE id = ?1",
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (rm_exec(c, steps[i], id, x->name, "remove domain", err) < 0)
			return -1;
	x->aliases = aliases;
	return 0;
}

static int remove_run(struct store_conn *c, void *arg, struct err *err)
{
	struct remove_job *x = arg;
	if (x->domain)
		return drop_domain(c, x, err);
	int64_t id = 0;
	if (mailbox_id(c, x->name, &id, err) < 0)
		return -1;
	return drop_mailbox(c, x, id, x->name, err);
}

static int remove_job_run(struct store *st, struct remove_job *x,
			  struct err *err)
{
	if (store_admin_tx(st, remove_run, x, err) < 0)
		return -1;
	char detail[160];
	snprintf(detail, sizeof detail, "mailboxes=%lld aliases=%lld "
		 "messages=%lld bytes=%lld", (long long)x->mailboxes,
		 (long long)x->aliases, (long long)x->messages,
		 (long long)x->bytes);
	log_info("store", NULL, "op=%s name=%s %s",
		 x->domain ? "domain-remove" : "mailbox-remove", x->name, detail);
	return store_audit_add(st, x->domain ? "domain.remove" : "mailbox.remove",
			       x->name, "", detail, err);
}

int store_mailbox_remove(struct store *st, const char *address,
			 struct store_removed *out, struct err *err)
{
	struct remove_job x = { .domain = false };
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_addr_norm(address, x.name, local, sizeof local, domain,
			    sizeof domain, err) < 0 ||
	    remove_job_run(st, &x, err) < 0)
		return -1;
	if (out != NULL)
		*out = (struct store_removed){ x.mailboxes, x.aliases,
					       x.messages, x.bytes };
	return 0;
}

int store_domain_remove(struct store *st, const char *name, bool force,
			struct store_removed *out, struct err *err)
{
	struct remove_job x = { .domain = true, .force = force };
	char uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_domain_idna(name, x.name, SMTP_DOMAIN_MAX + 1, uni,
			      sizeof uni, err) < 0 ||
	    remove_job_run(st, &x, err) < 0)
		return -1;
	if (out != NULL)
		*out = (struct store_removed){ x.mailboxes, x.aliases,
					       x.messages, x.bytes };
	return 0;
}
