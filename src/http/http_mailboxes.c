/* http_mailboxes.c - mailboxes: list and create under their domain
 * (/api/v1/domains/{domain}/mailboxes), then show, change (display name,
 * quota, suspend, forward), password reset, usage and app passwords at
 * /api/v1/mailboxes/{address}. A mailbox user's session token reaches
 * the routes marked HTTP_ROUTE_SESSION for its own mailbox only. There
 * is no DELETE: the store has no call that removes a mailbox yet.
 * Passwords given or generated are hashed with Argon2id here and never
 * stored or logged in clear; a generated one is in the reply, once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/auth.h"
#include "http/http_private.h"

static int reply_mailbox(struct http_ctx *c, int status, const char *address,
			 const char *password)
{
	struct store_mailbox_info i;
	struct err err;
	err_clear(&err);
	int rc = store_mailbox_info(c->api->st, address, &i, &err);
	if (rc <= 0)
		return rc == 0 ? http_error(c, 404, "not_found", "address",
					    "no mailbox %s", address) :
		       http_store_error(c, &err);
	json_t *o = admin_mailbox_json(&i);
	if (password != NULL)
		json_object_set_new(o, "password", json_string(password));
	return http_reply(c, status, o);
}

/* ---- GET /api/v1/domains/{domain}/mailboxes ----------------------------- */

struct list_walk {
	struct http_ctx *c;
	const char *domain;
	struct http_list l;
	int err;
	struct err e;
};

static int list_one(const struct store_mailbox *mb, void *arg)
{
	struct list_walk *w = arg;
	const char *d = http_addr_domain(mb->address);
	if (d == NULL || strcasecmp(d, w->domain) != 0 ||
	    !http_list_take(&w->l, mb->address))
		return w->l.more;
	struct store_mailbox_info i;
	if (store_mailbox_info(w->c->api->st, mb->address, &i, &w->e) != 1) {
		w->err = 1;
		return 1;
	}
	json_array_append_new(w->l.items, admin_mailbox_json(&i));
	return 0;
}

static int mailboxes_list(struct http_ctx *c)
{
	struct list_walk w = { .c = c };
	struct store_domain d;
	if (http_domain_access(c, c->cap[0], &d) != 0 ||
	    http_list_begin(c, &w.l) != 0)
		return -1;
	w.domain = d.name;
	err_clear(&w.e);
	if (store_mailbox_each(c->api->st, list_one, &w, &w.e) != 0 || w.err) {
		json_decref(w.l.items);
		return http_store_error(c, &w.e);
	}
	return http_list_reply(c, &w.l);
}

/* ---- POST /api/v1/domains/{domain}/mailboxes ---------------------------- */

/* A forwarding target as the store will take it: local@domain. */
static int check_forward(struct http_ctx *c, const char *fwd)
{
	const char *dom = http_addr_domain(fwd);
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct err err;
	if (fwd[0] == '@' || dom == NULL ||
	    store_domain_idna(dom, ascii, sizeof ascii, uni, sizeof uni,
			      &err) != 0)
		return http_error(c, 422, "invalid_value", "forward",
				  "forward is an address local@domain");
	return 0;
}

static int mailboxes_create(struct http_ctx *c)
{
	static const char *const fields[] = {
		"local_part", "password", "display_name", "quota", "forward",
		NULL
	};
	struct store_domain d;
	json_t *body;
	if (http_domain_access(c, c->cap[0], &d) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	int rc = -1;
	const char *local, *pw = NULL, *name = NULL, *fwd = NULL;
	uint64_t quota = d.mailbox_quota ? d.mailbox_quota :
			 c->api->opt.default_quota;
	char address[STORE_ADDR_MAX + 1], gen[HTTP_PASSWORD_GEN + 1] = "";
	char hash[AUTH_HASH_MAX];
	struct store *st = c->api->st;
	struct err err;
	err_clear(&err);
	if (http_json_string(c, body, "local_part", true, SMTP_LOCAL_MAX,
			     &local) < 0 ||
	    http_json_string(c, body, "password", false, HTTP_PASSWORD_MAX,
			     &pw) < 0 ||
	    http_json_string(c, body, "display_name", false, 255, &name) < 0 ||
	    http_json_string(c, body, "forward", false, STORE_ADDR_MAX,
			     &fwd) < 0 ||
	    http_json_uint(c, body, "quota", INT64_MAX, &quota) < 0 ||
	    (pw != NULL && http_password_check(c, "password", pw) != 0) ||
	    (fwd != NULL && fwd[0] != '\0' && check_forward(c, fwd) != 0))
		goto out;
	if (d.alias_of[0] != '\0') {
		http_error(c, 422, "invalid_value", "domain",
			   "%s is a domain alias of %s: mailboxes live there",
			   d.name, d.alias_of);
		goto out;
	}
	if (local[0] == '\0' || strchr(local, '@') != NULL) {
		http_error(c, 422, "invalid_value", "local_part",
			   "local_part is the part before the '@'");
		goto out;
	}
	snprintf(address, sizeof address, "%s@%s", local, d.name);
	struct store_mailbox_info i;
	struct store_alias a;
	int taken = store_mailbox_info(st, address, &i, &err);
	if (taken == 0) {
		taken = store_alias_get(st, address, &a, &err);
		if (taken == 1)
			store_alias_free(&a);
	}
	if (taken != 0) {
		if (taken < 0 && err.kind == ERR_PEER)
			http_error(c, 422, "invalid_value", "local_part", "%s",
				   err.msg);
		else if (taken < 0)
			http_store_error(c, &err);
		else
			http_error(c, 409, "exists", "local_part",
				   "%s already exists", address);
		goto out;
	}
	if (pw == NULL) {
		auth_password_random(gen, HTTP_PASSWORD_GEN);
		pw = gen;
	}
	int64_t id;
	const char *field = "local_part";
	if (http_password_hash(c, pw, hash, sizeof hash, &err) != 0 ||
	    store_mailbox_add(st, local, d.name, hash, quota, &id, &err) != 0 ||
	    (field = "password",
	     auth_scram_store(st, id, pw, strlen(pw), &err) != 0) ||
	    (name != NULL && name[0] != '\0' &&
	     (field = "display_name",
	      store_mailbox_set_display_name(st, address, name, &err) != 0)) ||
	    (fwd != NULL && fwd[0] != '\0' &&
	     (field = "forward",
	      store_mailbox_set_forward(st, address, fwd, &err) != 0))) {
		http_model_error(c, &err, field);
		goto out;
	}
	rc = reply_mailbox(c, 201, address, gen[0] ? gen : NULL);
out:
	sodium_memzero(gen, sizeof gen);
	json_decref(body);
	return rc;
}

/* ---- GET / PATCH /api/v1/mailboxes/{address} ----------------------------- */

static int mailbox_show(struct http_ctx *c)
{
	struct store_mailbox_info i;
	if (http_params_done(c) != 0 || http_mailbox_access(c, c->cap[0], &i) != 0)
		return -1;
	return http_reply(c, 200, admin_mailbox_json(&i));
}

/* DELETE: the mailbox with all its mail (store_mailbox_remove); not
 * through a session: a user does not delete themselves. */
static int mailbox_remove(struct http_ctx *c)
{
	struct store_mailbox_info i;
	if (http_params_done(c) != 0 || http_mailbox_access(c, c->cap[0], &i) != 0)
		return -1;
	struct store_removed rm;
	struct err err;
	err_clear(&err);
	if (store_mailbox_remove(c->api->st, i.mb.address, &rm, &err) != 0)
		return http_model_error(c, &err, "address");
	return http_reply(c, 200, json_pack("{s:s, s:I, s:I}",
		"removed", i.mb.address, "messages", (json_int_t)rm.messages,
		"bytes", (json_int_t)rm.bytes));
}

static int mailbox_update(struct http_ctx *c)
{
	static const char *const fields[] = {
		"display_name", "quota", "enabled", "forward", NULL
	};
	struct store_mailbox_info i;
	json_t *body;
	if (http_mailbox_access(c, c->cap[0], &i) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	int rc = -1;
	const char *name = NULL, *fwd = NULL, *addr = i.mb.address;
	uint64_t quota = 0;
	bool enabled = true;
	json_t *fv = json_object_get(body, "forward");
	int has_q = http_json_uint(c, body, "quota", INT64_MAX, &quota);
	int has_e = has_q < 0 ? -1 : http_json_bool(c, body, "enabled", &enabled);
	if (has_e < 0 ||
	    http_json_string(c, body, "display_name", false, 255, &name) < 0 ||
	    (fv != NULL && !json_is_null(fv) &&
	     (http_json_string(c, body, "forward", false, STORE_ADDR_MAX,
			       &fwd) < 0 ||
	      (fwd[0] != '\0' && check_forward(c, fwd) != 0))))
		goto out;
	struct store *st = c->api->st;
	struct err err;
	err_clear(&err);
	const char *field = NULL;
	if (name != NULL) {
		field = "display_name";
		if (store_mailbox_set_display_name(st, addr, name, &err) != 0)
			goto fail;
		http_audit(c, "mailbox.name", addr, NULL);
	}
	if (fv != NULL) {
		field = "forward";
		if (store_mailbox_set_forward(st, addr, fwd ? fwd : "", &err) != 0)
			goto fail;
		http_audit(c, "mailbox.forward", addr, fwd && fwd[0] ? fwd : "off");
	}
	if (has_q == 1 && (field = "quota",
			   store_mailbox_set_quota(st, addr, quota, &err) != 0))
		goto fail;
	if (has_e == 1 && enabled != i.mb.enabled) {
		field = "enabled";
		if (store_mailbox_set_enabled(st, addr, enabled, &err) != 0)
			goto fail;
		http_audit(c, enabled ? "mailbox.activate" : "mailbox.suspend",
			   addr, NULL);
		if (!enabled)
			http_sessions_end(c->api, i.mb.id, NULL);
	}
	rc = reply_mailbox(c, 200, addr, NULL);
	goto out;
fail:
	http_model_error(c, &err, field);
out:
	json_decref(body);
	return rc;
}

/* ---- POST /api/v1/mailboxes/{address}/password --------------------------- */

static int mailbox_password(struct http_ctx *c)
{
	static const char *const fields[] = {
		"password", "current_password", NULL
	};
	struct store_mailbox_info i;
	json_t *body;
	if (http_mailbox_access(c, c->cap[0], &i) != 0 ||
	    http_json_request(c, fields, true, &body) != 0)
		return -1;
	int rc = -1;
	const char *pw = NULL, *cur = NULL;
	char gen[HTTP_PASSWORD_GEN + 1] = "", hash[AUTH_HASH_MAX];
	char local[SMTP_LOCAL_MAX + 1], old[AUTH_HASH_MAX] = "";
	struct store *st = c->api->st;
	struct err err;
	err_clear(&err);
	if (http_json_string(c, body, "password", false, HTTP_PASSWORD_MAX,
			     &pw) < 0 ||
	    http_json_string(c, body, "current_password", c->session != NULL,
			     HTTP_PASSWORD_MAX, &cur) < 0 ||
	    (pw != NULL && http_password_check(c, "password", pw) != 0))
		goto out;
	/* a stolen session must not be enough to take the mailbox over */
	if (c->session != NULL) {
		const char *at = strrchr(i.mb.address, '@');
		size_t n = (size_t)(at - i.mb.address);
		snprintf(local, sizeof local, "%.*s", (int)n, i.mb.address);
		int found = store_mailbox_password(st, local, at + 1, old,
						   sizeof old, &err);
		if (found < 0) {
			http_store_error(c, &err);
			goto out;
		}
		if (found == 0 || !auth_password_check(old, cur, strlen(cur))) {
			http_error(c, 403, "wrong_password", "current_password",
				   "current_password is not this mailbox's "
				   "password");
			goto out;
		}
	}
	if (pw == NULL) {
		auth_password_random(gen, HTTP_PASSWORD_GEN);
		pw = gen;
	}
	if (http_password_hash(c, pw, hash, sizeof hash, &err) != 0 ||
	    store_mailbox_set_password(st, i.mb.address, hash, &err) != 0 ||
	    auth_scram_store(st, i.mb.id, pw, strlen(pw), &err) != 0) {
		http_model_error(c, &err, "password");
		goto out;
	}
	/* whoever held the old password is logged out of the API too */
	http_sessions_end(c->api, i.mb.id, c->session);
	json_t *o = json_object();
	json_object_set_new(o, "address", json_string(i.mb.address));
	if (gen[0] != '\0')
		json_object_set_new(o, "password", json_string(gen));
	rc = http_reply(c, 200, o);
out:
	sodium_memzero(gen, sizeof gen);
	json_decref(body);
	return rc;
}

/* ---- GET /api/v1/mailboxes/{address}/usage ------------------------------- */

static int folder_one(const struct store_folder *f, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "messages", json_integer(f->messages));
	json_object_set_new(o, "unseen", json_integer(f->unseen));
	json_object_set_new(o, "size", json_integer((json_int_t)f->size));
	json_array_append_new(arg, o);
	return 0;
}

static int mailbox_usage(struct http_ctx *c)
{
	struct store_mailbox_info i;
	if (http_params_done(c) != 0 || http_mailbox_access(c, c->cap[0], &i) != 0)
		return -1;
	json_t *folders = json_array();
	struct err err;
	err_clear(&err);
	if (store_folder_each(c->api->st, i.mb.id, folder_one, folders,
			      &err) != 0) {
		json_decref(folders);
		return http_store_error(c, &err);
	}
	json_t *o = json_object();
	json_object_set_new(o, "address", json_string(i.mb.address));
	json_object_set_new(o, "used", json_integer((json_int_t)i.mb.used));
	json_object_set_new(o, "quota", json_integer((json_int_t)i.mb.quota));
	json_object_set_new(o, "folders", folders);
	return http_reply(c, 200, o);
}

/* ---- app passwords ------------------------------------------------------- */

static int ap_one(const struct store_app_password *ap, void *arg)
{
	struct http_list *l = arg;
	if (http_list_take(l, ap->name))
		json_array_append_new(l->items, admin_app_password_json(ap));
	return 0;
}

static int app_passwords_list(struct http_ctx *c)
{
	struct store_mailbox_info i;
	struct http_list l;
	if (http_mailbox_access(c, c->cap[0], &i) != 0 ||
	    http_list_begin(c, &l) != 0)
		return -1;
	struct err err;
	err_clear(&err);
	if (store_app_password_each(c->api->st, i.mb.address, ap_one, &l,
				    &err) != 0) {
		json_decref(l.items);
		return http_store_error(c, &err);
	}
	return http_list_reply(c, &l);
}

static int app_passwords_create(struct http_ctx *c)
{
	static const char *const fields[] = { "name", NULL };
	struct store_mailbox_info i;
	json_t *body;
	if (http_mailbox_access(c, c->cap[0], &i) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	int rc = -1;
	const char *name;
	char pw[AUTH_APP_PASSWORD_TEXT];
	int64_t id;
	struct err err;
	err_clear(&err);
	if (http_json_string(c, body, "name", true,
			     STORE_APP_PASSWORD_NAME_MAX, &name) < 0)
		goto out;
	if (auth_app_password_create(c->api->st, i.mb.address, name, pw, &id,
				     &err) != 0) {
		http_model_error(c, &err, "name");
		goto out;
	}
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "password", json_string(pw));
	sodium_memzero(pw, sizeof pw);
	rc = http_reply(c, 201, o);
out:
	json_decref(body);
	return rc;
}

static int app_passwords_revoke(struct http_ctx *c)
{
	struct store_mailbox_info i;
	if (http_params_done(c) != 0 || http_mailbox_access(c, c->cap[0], &i) != 0)
		return -1;
	const char *s = c->cap[1];
	char *end;
	errno = 0;
	long long id = strtoll(s, &end, 10);
	if (s[0] < '1' || s[0] > '9' || *end != '\0' || errno != 0)
		return http_error(c, 400, "invalid_id", "id",
				  "an app password id is a positive number");
	struct err err;
	err_clear(&err);
	if (store_app_password_revoke(c->api->st, i.mb.address, id, &err) != 0)
		return http_model_error(c, &err, "id");
	return http_reply(c, 204, NULL);
}

#define S HTTP_ROUTE_SESSION
static const struct http_route routes[] = {
	{ HTTP_M_GET, "/api/v1/domains/{domain}/mailboxes", mailboxes_list, 0 },
	{ HTTP_M_POST, "/api/v1/domains/{domain}/mailboxes", mailboxes_create, 0 },
	{ HTTP_M_GET, "/api/v1/mailboxes/{address}", mailbox_show, S },
	{ HTTP_M_PATCH, "/api/v1/mailboxes/{address}", mailbox_update, 0 },
	{ HTTP_M_DELETE, "/api/v1/mailboxes/{address}", mailbox_remove, 0 },
	{ HTTP_M_POST, "/api/v1/mailboxes/{address}/password", mailbox_password, S },
	{ HTTP_M_GET, "/api/v1/mailboxes/{address}/usage", mailbox_usage, S },
	{ HTTP_M_GET, "/api/v1/mailboxes/{address}/app-passwords",
	  app_passwords_list, S },
	{ HTTP_M_POST, "/api/v1/mailboxes/{address}/app-passwords",
	  app_passwords_create, S },
	{ HTTP_M_DELETE, "/api/v1/mailboxes/{address}/app-passwords/{id}",
	  app_passwords_revoke, S },
};
#undef S

const struct http_route_table http_mailbox_routes = {
	routes, sizeof routes / sizeof *routes
};
