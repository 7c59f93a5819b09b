/* store_resolve.c - where mail for an address goes: domain aliases,
 * mailboxes, aliases, groups with their posting policy, forwarding and
 * catch-all, expanded to a set of mailboxes and external addresses
 * (decision 0022). One reader connection and one snapshot of the
 * directory per call; bounded in depth and in addresses, and an address
 * reached twice is expanded once, so a loop ends.
 */
#include "store/store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/xmalloc.h"

struct resolve {
	struct store_conn *c;
	struct store_resolved *out;
	size_t cap;
	char sender[STORE_ADDR_MAX + 1];	/* normalized, "" for <> */
	char (*seen)[STORE_ADDR_MAX + 1];	/* addresses expanded */
	size_t n_seen;
	bool loop;	/* an address came back */
	bool overflow;	/* too deep or too many */
	bool policy;	/* a group refused the sender */
};

void store_resolved_free(struct store_resolved *r)
{
	free(r->targets);
	r->targets = NULL;
	r->n = 0;
}

/* On rs->c: the domain row of name (A-label). 1/0/-1. */
static int domain_row_get(struct resolve *rs, const char *name,
			  struct store_domain *d, struct err *err)
{
	sqlite3_stmt *s = store_stmt(rs->c, STMT_MODEL_DOMAIN_GET, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(d, 0, sizeof *d);
		d->id = sqlite3_column_int64(s, 0);
		store_col_text(s, 1, d->name, sizeof d->name);
		d->domain_quota = (uint64_t)sqlite3_column_int64(s, 6);
		store_col_text(s, 7, d->alias_of, sizeof d->alias_of);
		store_col_text(s, 8, d->catchall, sizeof d->catchall);
		d->used = (uint64_t)sqlite3_column_int64(s, 11);
		d->status = sqlite3_column_int(s, 12) ? STORE_DOMAIN_SUSPENDED
						      : STORE_DOMAIN_ACTIVE;
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, rs->c, "resolve domain");
}

static struct store_target *target_new(struct resolve *rs)
{
	struct store_resolved *o = rs->out;
	if (o->n >= STORE_EXPAND_MAX) {
		rs->overflow = true;
		return NULL;
	}
	if (o->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 4;
		o->targets = xreallocarray(o->targets, rs->cap,
					   sizeof *o->targets);
	}
	struct store_target *t = &o->targets[o->n++];
	memset(t, 0, sizeof *t);
	return t;
}

static void add_external(struct resolve *rs, const char *addr)
{
	for (size_t i = 0; i < rs->out->n; i++)
		if (rs->out->targets[i].mailbox_id == 0 &&
		    strcasecmp(rs->out->targets[i].addr, addr) == 0)
			return;
	struct store_target *t = target_new(rs);
	if (t != NULL)
		snprintf(t->addr, sizeof t->addr, "%s", addr);
}

/* The mailbox local@d: 1 found (added unless disabled; *forward its
 * forwarding address), 0 none, -1 error. *enabled says which. */
static int add_mailbox(struct resolve *rs, const char *local,
		       const struct store_domain *d, bool *enabled,
		       char *forward, struct err *err)
{
	sqlite3_stmt *s = store_stmt(rs->c, STMT_MODEL_MAILBOX_GET, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d->name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	struct store_target t = { 0 };
	if (rc == SQLITE_ROW) {
		t.mailbox_id = sqlite3_column_int64(s, 0);
		char l[SMTP_LOCAL_MAX + 1];
		store_col_text(s, 1, l, sizeof l);
		snprintf(t.addr, sizeof t.addr, "%s@%s", l, d->name);
		t.quota = (uint64_t)sqlite3_column_int64(s, 3);
		t.used = (uint64_t)sqlite3_column_int64(s, 4);
		*enabled = sqlite3_column_int(s, 5) != 0;
		store_col_text(s, 7, forward, STORE_ADDR_MAX + 1);
		t.domain_quota = d->domain_quota;
		t.domain_used = d->used;
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_db_fail(err, rs->c, "resolve mailbox");
	if (!*enabled)
		return 1;
	for (size_t i = 0; i < rs->out->n; i++)
		if (rs->out->targets[i].mailbox_id == t.mailbox_id)
			return 1;	/* a message reaches a mailbox once */
	struct store_target *n = target_new(rs);
	if (n != NULL)
		*n = t;
	return 1;
}

/* Does the group a let rs->sender post? */
static bool group_allows(const struct resolve *rs, const struct store_alias *a)
{
	if (a->post == STORE_POST_ANYONE)
		return true;
	enum store_target_kind want = a->post == STORE_POST_MEMBERS
					      ? STORE_TARGET_MEMBER
					      : STORE_TARGET_SENDER;
	if (rs->sender[0] == '\0')
		return false;
	for (size_t i = 0; i < a->n_targets; i++)
		if (a->target_kinds[i] == want &&
		    strcasecmp(a->targets[i], rs->sender) == 0)
			return true;
	return false;
}

static int expand(struct resolve *rs, const char *address, int depth,
		  bool top, struct err *err);

/* The alias or group at local@d: 1 expanded, 0 none, -1 error. */
static int expand_alias(struct resolve *rs, const char *local,
			const struct store_domain *d, int depth,
			struct err *err)
{
	struct store_alias a;
	memset(&a, 0, sizeof a);
	int kind, post;
	int found = store_alias_find(rs->c, local, d->name, &a.id, &kind,
				     &post, err);
	if (found <= 0)
		return found;
	a.kind = kind ? STORE_GROUP : STORE_ALIAS;
	a.post = (enum store_post_policy)post;
	snprintf(a.address, sizeof a.address, "%s@%s", local, d->name);
	if (store_alias_targets(rs->c, &a, err) < 0) {
		store_alias_free(&a);
		return -1;
	}
	if (a.kind == STORE_GROUP && !group_allows(rs, &a)) {
		rs->policy = true;
		snprintf(rs->out->why, sizeof rs->out->why,
			 "Only %s may post to the group <%s>",
			 a.post == STORE_POST_MEMBERS ? "its members"
						      : "listed senders",
			 a.address);
		store_alias_free(&a);
		return 1;
	}
	int ret = 1;
	for (size_t i = 0; i < a.n_targets && ret == 1 && !rs->overflow; i++)
		if (a.target_kinds[i] == STORE_TARGET_MEMBER &&
		    expand(rs, a.targets[i], depth + 1, false, err) < 0)
			ret = -1;
	store_alias_free(&a);
	return ret;
}

static bool seen_before(struct resolve *rs, const char *addr)
{
	for (size_t i = 0; i < rs->n_seen; i++)
		if (strcasecmp(rs->seen[i], addr) == 0)
			return true;
	if (rs->n_seen >= 2 * STORE_EXPAND_MAX) {	/* with the aliases between */
		rs->overflow = true;
		return true;
	}
	if ((rs->n_seen & (rs->n_seen - 1)) == 0)	/* 0, 1, 2, 4, ... */
		rs->seen = xreallocarray(rs->seen, rs->n_seen ? rs->n_seen * 2 : 1,
					 sizeof *rs->seen);
	snprintf(rs->seen[rs->n_seen++], sizeof rs->seen[0], "%s", addr);
	return false;
}

/* address: normalized local@domain (A-label). At the top, a miss sets
 * out->status; inside an expansion, it is skipped. */
static int expand(struct resolve *rs, const char *address, int depth,
		  bool top, struct err *err)
{
	if (depth > STORE_EXPAND_DEPTH) {
		rs->overflow = true;
		return 0;
	}
	if (seen_before(rs, address)) {
		rs->loop = true;
		return 0;
	}
	char local[SMTP_LOCAL_MAX + 1], dom[SMTP_DOMAIN_MAX + 1];
	char norm[STORE_ADDR_MAX + 1];
	struct err bad;
	if (store_addr_norm(address, norm, local, sizeof local, dom,
			    sizeof dom, &bad) < 0) {
		if (top)
			rs->out->status = STORE_RESOLVE_UNKNOWN;
		return 0;
	}
	struct store_domain d;
	int found = domain_row_get(rs, dom, &d, err);
	if (found < 0)
		return -1;
	if (found == 0) {
		if (top)
			rs->out->status = STORE_RESOLVE_NOT_HOSTED;
		else
			add_external(rs, norm);
		return 0;
	}
	if (d.alias_of[0] != '\0') {
		/* every address of the alias domain is the same local
		 * part at its target */
		char target[STORE_ADDR_MAX + 1];
		snprintf(target, sizeof target, "%s@%s", local, d.alias_of);
		return expand(rs, target, depth + 1, top, err);
	}
	if (d.status == STORE_DOMAIN_SUSPENDED) {
		if (top)
			rs->out->status = STORE_RESOLVE_DISABLED;
		return 0;
	}
	bool enabled = false;
	char forward[STORE_ADDR_MAX + 1] = "";
	found = add_mailbox(rs, local, &d, &enabled, forward, err);
	if (found < 0)
		return -1;
	if (found == 1) {
		if (!enabled && top)
			rs->out->status = STORE_RESOLVE_DISABLED;
		if (enabled && forward[0] != '\0')
			return expand(rs, forward, depth + 1, false, err);
		return 0;
	}
	found = expand_alias(rs, local, &d, depth, err);
	if (found != 0 || !top)
		return found < 0 ? -1 : 0;
	if (d.catchall[0] != '\0')
		return expand(rs, d.catchall, depth + 1, false, err);
	/* RFC 5321 4.5.1: postmaster must reach someone. */
	if (strcasecmp(local, "postmaster") == 0) {
		sqlite3_stmt *s = store_stmt(rs->c, STMT_MODEL_POSTMASTER, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_text(s, 1, d.name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		char first[SMTP_LOCAL_MAX + 1] = "";
		if (rc == SQLITE_ROW)
			store_col_text(s, 0, first, sizeof first);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_db_fail(err, rs->c, "postmaster");
		if (first[0] != '\0') {
			bool en;
			return add_mailbox(rs, first, &d, &en, forward, err) < 0
				       ? -1 : 0;
		}
	}
	rs->out->status = STORE_RESOLVE_UNKNOWN;
	return 0;
}

/* Bare <Postmaster> (RFC 5321 4.1.1.3): the first hosted domain's. */
static int first_domain(struct resolve *rs, char *out, size_t outsz,
			struct err *err)
{
	sqlite3_stmt *s = store_stmt(rs->c, STMT_MODEL_FIRST_DOMAIN, err);
	if (s == NULL)
		return -1;
	int rc = sqlite3_step(s);
	out[0] = '\0';
	if (rc == SQLITE_ROW)
		store_col_text(s, 0, out, outsz);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(err, rs->c, "first domain");
	return 0;
}

int store_resolve(struct store *st, const char *local, const char *domain,
		  const char *sender, struct store_resolved *out,
		  struct err *err)
{
	memset(out, 0, sizeof *out);
	out->status = STORE_RESOLVE_OK;
	struct resolve rs = { .out = out };
	if (sender != NULL && sender[0] != '\0') {
		char sl[SMTP_LOCAL_MAX + 1], sd[SMTP_DOMAIN_MAX + 1];
		struct err bad;
		if (store_addr_norm(sender, rs.sender, sl, sizeof sl, sd,
				    sizeof sd, &bad) < 0)
			rs.sender[0] = '\0';
	}
	rs.c = store_reader_get(st, err);
	if (rs.c == NULL)
		return -1;
	char dom[SMTP_DOMAIN_MAX * 4 + 1];
	int ret = 0;
	if (domain[0] == '\0')
		ret = first_domain(&rs, dom, sizeof dom, err);
	else
		snprintf(dom, sizeof dom, "%s", domain);
	char address[STORE_ADDR_MAX * 4 + 2];
	snprintf(address, sizeof address, "%s@%s", local, dom);
	/* one snapshot: a group edited meanwhile is seen whole or not */
	if (ret == 0 && store_exec(rs.c, STMT_BEGIN_READ, err) < 0)
		ret = -1;
	if (ret == 0) {
		if (dom[0] == '\0')
			out->status = STORE_RESOLVE_NOT_HOSTED;
		else
			ret = expand(&rs, address, 0, true, err);
		store_rollback(rs.c);
	}
	store_reader_put(st, rs.c);
	free(rs.seen);
	if (ret < 0) {
		store_resolved_free(out);
		return -1;
	}
	if (rs.policy) {
		out->status = STORE_RESOLVE_POLICY;
	} else if (rs.overflow) {
		out->status = STORE_RESOLVE_LOOP;
		snprintf(out->why, sizeof out->why, "Recipient expands too "
			 "deep or to more than %d addresses", STORE_EXPAND_MAX);
	} else if (out->status == STORE_RESOLVE_OK && out->n == 0) {
		out->status = rs.loop ? STORE_RESOLVE_LOOP : STORE_RESOLVE_UNKNOWN;
		if (rs.loop)
			snprintf(out->why, sizeof out->why, "Alias loop "
				 "detected");
	}
	if (out->status != STORE_RESOLVE_OK)
		store_resolved_free(out);
	return 0;
}
