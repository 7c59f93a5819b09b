/* store_alias.c - aliases and groups (distribution lists): one address
 * that stands for others, with a group's posting policy and its listed
 * senders; and who may send as them (decision 0022).
 */
#include "store/store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"

int store_alias_find(struct store_conn *c, const char *local,
		      const char *domain, int64_t *id, int *kind, int *post,
		      struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_ALIAS_FIND, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*kind = sqlite3_column_int(s, 1);
		*post = sqlite3_column_int(s, 2);
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, c, "find alias");
}

static int target_put(struct store_conn *c, int64_t alias_id, int kind,
		      const char *addr, bool add, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, add ? STMT_MODEL_TARGET_ADD
					    : STMT_MODEL_TARGET_DEL, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, alias_id);
	sqlite3_bind_int(s, 2, kind);
	sqlite3_bind_text(s, 3, addr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "alias target");
	if (!add && sqlite3_changes(c->db) == 0)
		return err_set(err, ERR_NOTFOUND, 0, "", "%s is not listed",
			       addr);
	return 0;
}

int store_alias_add(struct store *st, const char *address,
		    enum store_alias_kind kind, enum store_post_policy post,
		    const char *const *targets, size_t n, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1];
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_addr_norm(address, norm, local, sizeof local, domain,
			    sizeof domain, err) < 0)
		return -1;
	if (kind == STORE_ALIAS && n == 0)
		return err_set(err, ERR_PEER, 0, "", "an alias needs a target");
	if (n > STORE_ALIAS_TARGETS_MAX)
		return err_set(err, ERR_LIMIT, 0, "", "more than %d targets",
			       STORE_ALIAS_TARGETS_MAX);
	char (*tn)[STORE_ADDR_MAX + 1] = xcalloc(n ? n : 1, sizeof *tn);
	for (size_t i = 0; i < n; i++) {
		char tl[SMTP_LOCAL_MAX + 1], td[SMTP_DOMAIN_MAX + 1];
		if (store_addr_norm(targets[i], tn[i], tl, sizeof tl, td,
				    sizeof td, err) < 0) {
			free(tn);
			return -1;
		}
	}
	struct store_mailbox mb;
	int taken = store_mailbox_find(st, local, domain, &mb, err);
	if (taken != 0) {
		free(tn);
		return taken < 0 ? -1 : err_set(err, ERR_PEER, 0, "", "%s is "
						"a mailbox", norm);
	}
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	if (store_exec(c, STMT_BEGIN, err) == 0) {
		sqlite3_stmt *s = store_stmt(c, STMT_MODEL_ALIAS_ADD, err);
		int rc = SQLITE_ERROR;
		if (s != NULL) {
			sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, local, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 3, (int)kind);
			sqlite3_bind_int(s, 4, (int)post);
			sqlite3_bind_int64(s, 5, (int64_t)time(NULL));
			rc = sqlite3_step(s);
			(void)sqlite3_reset(s);	/* rc checked here */
		}
		int64_t id = sqlite3_last_insert_rowid(c->db);
		if (s == NULL)
			;
		else if (rc == SQLITE_CONSTRAINT_UNIQUE)
			err_set(err, ERR_PEER, 0, "", "%s already exists", norm);
		else if (rc == SQLITE_CONSTRAINT_NOTNULL)
			err_set(err, ERR_NOTFOUND, 0, "", "%s is not a hosted "
				"domain (or is a domain alias)", domain);
		else if (rc != SQLITE_DONE)
			store_db_fail(err, c, "add alias");
		else
			ret = 0;
		for (size_t i = 0; ret == 0 && i < n; i++)
			ret = target_put(c, id, STORE_TARGET_MEMBER, tn[i],
					 true, err);
		if (ret == 0 && store_exec(c, STMT_COMMIT, err) != 0)
			ret = -1;
		if (ret != 0)
			store_rollback(c);
	}
	pthread_mutex_unlock(&st->admin_mu);
	free(tn);
	if (ret == 0)
		log_info("store", NULL, "op=%s address=%s targets=%zu",
			 kind == STORE_GROUP ? "group-add" : "alias-add", norm, n);
	return ret;
}

/* Under the admin mutex: the id of the alias at address, or -1 with
 * ERR_NOTFOUND. */
static int64_t admin_alias_id(struct store_conn *c, const char *address,
			      char *norm, struct err *err)
{
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	if (store_addr_norm(address, norm, local, sizeof local, domain,
			    sizeof domain, err) < 0)
		return -1;
	int64_t id;
	int kind, post;
	int found = store_alias_find(c, local, domain, &id, &kind, &post, err);
	if (found == 0)
		err_set(err, ERR_NOTFOUND, 0, "", "no alias or group %s", norm);
	return found == 1 ? id : -1;
}

int store_alias_remove(struct store *st, const char *address,
		       struct err *err)
{
	char norm[STORE_ADDR_MAX + 1];
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	int64_t id = admin_alias_id(c, address, norm, err);
	sqlite3_stmt *s = id < 0 ? NULL : store_stmt(c, STMT_MODEL_ALIAS_DEL, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, id);
		int rc = sqlite3_step(s);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "remove alias");
	}
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0)
		log_info("store", NULL, "op=alias-remove address=%s", norm);
	return ret;
}

int store_alias_target(struct store *st, const char *address,
		       enum store_target_kind kind, const char *target,
		       bool add, struct err *err)
{
	char norm[STORE_ADDR_MAX + 1], tnorm[STORE_ADDR_MAX + 1];
	char tl[SMTP_LOCAL_MAX + 1], td[SMTP_DOMAIN_MAX + 1];
	if (store_addr_norm(target, tnorm, tl, sizeof tl, td, sizeof td,
			    err) < 0)
		return -1;
	struct store_alias a;
	int found = store_alias_get(st, address, &a, err);
	if (found <= 0)
		return found < 0 ? -1 : err_set(err, ERR_NOTFOUND, 0, "",
						"no alias or group %s", address);
	size_t n = a.n_targets;
	store_alias_free(&a);
	if (add && n >= STORE_ALIAS_TARGETS_MAX)
		return err_set(err, ERR_LIMIT, 0, "", "more than %d targets",
			       STORE_ALIAS_TARGETS_MAX);
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	int64_t id = admin_alias_id(c, address, norm, err);
	if (id >= 0)
		ret = target_put(c, id, (int)kind, tnorm, add, err);
	pthread_mutex_unlock(&st->admin_mu);
	if (ret == 0)
		log_info("store", NULL, "op=%s address=%s target=%s",
			 add ? "alias-target-add" : "alias-target-remove", norm,
			 tnorm);
	return ret;
}

void store_alias_free(struct store_alias *a)
{
	free(a->targets);
	free(a->target_kinds);
	a->targets = NULL;
	a->target_kinds = NULL;
	a->n_targets = 0;
}

int store_alias_targets(struct store_conn *c, struct store_alias *a,
			 struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_TARGET_EACH, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a->id);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	       a->n_targets < STORE_ALIAS_TARGETS_MAX * 2) {
		if (a->n_targets == cap) {
			cap = cap ? cap * 2 : 8;
			a->targets = xreallocarray(a->targets, cap,
						   sizeof *a->targets);
			a->target_kinds = xreallocarray(a->target_kinds, cap,
							sizeof *a->target_kinds);
		}
		a->target_kinds[a->n_targets] =
			sqlite3_column_int(s, 0) ? STORE_TARGET_SENDER
						 : STORE_TARGET_MEMBER;
		store_col_text(s, 1, a->targets[a->n_targets],
			       sizeof a->targets[0]);
		a->n_targets++;
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(err, c, "alias targets");
	return 0;
}

int store_alias_get(struct store *st, const char *address,
		    struct store_alias *out, struct err *err)
{
	char local[SMTP_LOCAL_MAX + 1], domain[SMTP_DOMAIN_MAX + 1];
	struct err ignore;
	memset(out, 0, sizeof *out);
	if (store_addr_norm(address, out->address, local, sizeof local,
			    domain, sizeof domain, &ignore) < 0)
		return 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int kind = 0, post = 0;
	int ret = store_alias_find(c, local, domain, &out->id, &kind, &post, err);
	out->kind = kind ? STORE_GROUP : STORE_ALIAS;
	out->post = (enum store_post_policy)post;
	if (ret == 1 && store_alias_targets(c, out, err) < 0) {
		store_alias_free(out);
		ret = -1;
	}
	store_reader_put(st, c);
	return ret;
}


struct alias_each {
	struct store_conn *c;
	int (*fn)(const struct store_alias *a, void *arg);
	void *arg;
	struct err *err;
};

static int alias_each_row(sqlite3_stmt *s, void *arg)
{
	struct alias_each *e = arg;
	struct store_alias a;
	memset(&a, 0, sizeof a);
	a.id = sqlite3_column_int64(s, 0);
	char l[SMTP_LOCAL_MAX + 1], d[SMTP_DOMAIN_MAX];
	store_col_text(s, 1, l, sizeof l);
	store_col_text(s, 2, d, sizeof d);
	snprintf(a.address, sizeof a.address, "%s@%s", l, d);
	a.kind = sqlite3_column_int(s, 3) ? STORE_GROUP : STORE_ALIAS;
	a.post = (enum store_post_policy)sqlite3_column_int(s, 4);
	if (store_alias_targets(e->c, &a, e->err) < 0) {
		store_alias_free(&a);
		return -1;
	}
	int stop = e->fn(&a, e->arg);
	store_alias_free(&a);
	return stop != 0;
}

int store_alias_each(struct store *st, const char *domain, int kind,
		     int (*fn)(const struct store_alias *a, void *arg),
		     void *arg, struct err *err)
{
	char ascii[SMTP_DOMAIN_MAX + 1] = "", uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (domain != NULL && store_domain_idna(domain, ascii, sizeof ascii,
						uni, sizeof uni, err) < 0)
		return -1;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_ALIAS_EACH, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, ascii, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, kind);
		struct alias_each e = { c, fn, arg, err };
		ret = store_rows(c, s, alias_each_row, &e, "list aliases", err);
	}
	store_reader_put(st, c);
	return ret;
}

int store_may_send_as(struct store *st, const char *user, const char *addr,
		      struct err *err)
{
	char unorm[STORE_ADDR_MAX + 1], anorm[STORE_ADDR_MAX + 1];
	char ul[SMTP_LOCAL_MAX + 1], ud[SMTP_DOMAIN_MAX + 1];
	char al[SMTP_LOCAL_MAX + 1], ad[SMTP_DOMAIN_MAX + 1];
	struct err ignore;
	if (store_addr_norm(user, unorm, ul, sizeof ul, ud, sizeof ud,
			    &ignore) < 0 ||
	    store_addr_norm(addr, anorm, al, sizeof al, ad, sizeof ad,
			    &ignore) < 0)
		return 0;
	/* The user's local part at a domain alias of their domain. */
	if (strcasecmp(ul, al) == 0) {
		struct store_domain d;
		int found = store_domain_get(st, ad, &d, err);
		if (found < 0)
			return -1;
		if (found == 1 && strcmp(d.alias_of, ud) == 0)
			return 1;
	}
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_MODEL_SEND_AS, err);
	if (s != NULL) {
		sqlite3_bind_text(s, 1, al, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, ad, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, unorm, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			ret = 1;
		else if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "send as");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}
