/* http_domains.c - /api/v1/domains: hosted domains and domain aliases,
 * their plan (mailbox limit, quotas), status, catch-all and two-factor
 * policy, as petrelctl domain shows and changes them. Creating domains,
 * plans and status are for global tokens; a token scoped to a domain
 * sees and manages only that one (catch-all, 2FA policy). */
#include <string.h>
#include <strings.h>

#include "http/http_private.h"

/* ---- GET /api/v1/domains ------------------------------------------------- */

struct list_walk {
	struct http_ctx *c;
	struct http_list l;
};

static int list_one(const struct store_domain *d, void *arg)
{
	struct list_walk *w = arg;
	if (!http_scope_allows(w->c, d->name) || !http_list_take(&w->l, d->name))
		return 0;
	json_array_append_new(w->l.items, admin_domain_json(d));
	return 0;
}

static int domains_list(struct http_ctx *c)
{
	struct list_walk w = { .c = c };
	if (http_list_begin(c, &w.l) != 0)
		return -1;
	struct err err;
	err_clear(&err);
	if (store_domain_each(c->api->st, list_one, &w, &err) != 0) {
		json_decref(w.l.items);
		return http_store_error(c, &err);
	}
	return http_list_reply(c, &w.l);
}

/* ---- GET /api/v1/domains/{domain} ----------------------------------------- */

struct alias_walk {
	const char *of;
	json_t *names;
};

static int alias_one(const struct store_domain *d, void *arg)
{
	struct alias_walk *w = arg;
	if (strcasecmp(d->alias_of, w->of) == 0)
		json_array_append_new(w->names, json_string(d->name));
	return 0;
}

/* The domain's full description: plan, policy and its domain aliases. */
static int reply_domain(struct http_ctx *c, int status, const char *name)
{
	struct store_domain d;
	struct err err;
	err_clear(&err);
	int rc = store_domain_get(c->api->st, name, &d, &err);
	if (rc <= 0)
		return rc == 0 ? http_error(c, 404, "not_found", "domain",
					    "no hosted domain %s", name) :
		       http_store_error(c, &err);
	json_t *o = admin_domain_json(&d);
	if (d.alias_of[0] == '\0') {
		struct alias_walk w = { d.name, json_array() };
		json_object_set_new(o, "aliases", w.names);
		int twofa = store_domain_2fa(c->api->st, d.name, &err);
		if (store_domain_each(c->api->st, alias_one, &w, &err) != 0 ||
		    twofa < 0) {
			json_decref(o);
			return http_store_error(c, &err);
		}
		json_object_set_new(o, "require_2fa", json_boolean(twofa == 1));
	}
	return http_reply(c, status, o);
}

static int domain_show(struct http_ctx *c)
{
	struct store_domain d;
	if (http_params_done(c) != 0 || http_domain_access(c, c->cap[0], &d) != 0)
		return -1;
	return reply_domain(c, 200, d.name);
}

/* ---- POST /api/v1/domains ------------------------------------------------ */

static int domains_create(struct http_ctx *c)
{
	static const char *const fields[] = { "name", "alias_of", NULL };
	json_t *body;
	const char *name, *alias_of = NULL;
	if (http_require_global(c) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	int rc = -1;
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct store_domain d;
	struct err err;
	err_clear(&err);
	if (http_json_string(c, body, "name", true, SMTP_DOMAIN_MAX * 4,
			     &name) < 0 ||
	    http_json_string(c, body, "alias_of", false, SMTP_DOMAIN_MAX * 4,
			     &alias_of) < 0)
		goto out;
	if (store_domain_idna(name, ascii, sizeof ascii, uni, sizeof uni,
			      &err) != 0) {
		http_error(c, 422, "invalid_value", "name", "%s", err.msg);
		goto out;
	}
	int found = store_domain_get(c->api->st, ascii, &d, &err);
	if (found != 0) {
		if (found < 0)
			http_store_error(c, &err);
		else
			http_error(c, 409, "exists", "name",
				   "domain %s is already hosted", ascii);
		goto out;
	}
	if (store_domain_create(c->api->st, name, alias_of, ascii, &err) != 0) {
		http_model_error(c, &err, alias_of ? "alias_of" : "name");
		goto out;
	}
	rc = reply_domain(c, 201, ascii);
out:
	json_decref(body);
	return rc;
}

/* ---- PATCH /api/v1/domains/{domain} --------------------------------------- */

static int domain_update(struct http_ctx *c)
{
	static const char *const fields[] = {
		"max_mailboxes", "mailbox_quota", "domain_quota", "status",
		"catchall", "require_2fa", NULL
	};
	struct store_domain d;
	json_t *body;
	if (http_domain_access(c, c->cap[0], &d) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	int rc = -1;
	uint64_t maxmb = d.max_mailboxes, mq = d.mailbox_quota,
		 dq = d.domain_quota;
	const char *status = NULL, *catchall = NULL;
	bool twofa = false;
	int has_max = http_json_uint(c, body, "max_mailboxes", UINT32_MAX, &maxmb);
	int has_mq = has_max < 0 ? -1 :
		     http_json_uint(c, body, "mailbox_quota", INT64_MAX, &mq);
	int has_dq = has_mq < 0 ? -1 :
		     http_json_uint(c, body, "domain_quota", INT64_MAX, &dq);
	int has_st = has_dq < 0 ? -1 :
		     http_json_string(c, body, "status", false, 16, &status);
	int has_2fa = has_st < 0 ? -1 :
		      http_json_bool(c, body, "require_2fa", &twofa);
	json_t *ca = json_object_get(body, "catchall");
	if (has_2fa < 0 || (ca != NULL && !json_is_null(ca) &&
			    http_json_string(c, body, "catchall", false,
					     STORE_ADDR_MAX, &catchall) < 0))
		goto out;
	if (has_st == 1 && strcmp(status, "active") != 0 &&
	    strcmp(status, "suspended") != 0) {
		http_error(c, 422, "invalid_value", "status",
			   "status is \"active\" or \"suspended\"");
		goto out;
	}
	/* a domain's administrator manages its policy, not its plan */
	if ((has_max == 1 || has_mq == 1 || has_dq == 1 || has_st == 1) &&
	    http_require_global(c) != 0)
		goto out;
	struct store *st = c->api->st;
	struct err err;
	err_clear(&err);
	const char *field = NULL;
	if (ca != NULL && (field = "catchall",
			   store_domain_set_catchall(st, d.name, catchall ?
						     catchall : "", &err) != 0))
		goto fail;
	if ((has_max == 1 || has_mq == 1 || has_dq == 1) &&
	    (field = "max_mailboxes",
	     store_domain_set_plan(st, d.name, (uint32_t)maxmb, mq, dq,
				   &err) != 0))
		goto fail;
	if (has_st == 1 && (field = "status",
			    store_domain_set_status(st, d.name,
						    status[0] == 's' ?
						    STORE_DOMAIN_SUSPENDED :
						    STORE_DOMAIN_ACTIVE,
						    &err) != 0))
		goto fail;
	if (has_2fa == 1 && (field = "require_2fa",
			     store_domain_set_2fa(st, d.name, twofa, &err) != 0))
		goto fail;
	rc = reply_domain(c, 200, d.name);
	goto out;
fail:
	http_model_error(c, &err, field);
out:
	json_decref(body);
	return rc;
}

/* ---- DELETE /api/v1/domains/{domain}[?force=true] ----------------------- */

/* Global tokens only. A domain with mailboxes, aliases or domain aliases
 * is refused with 409 unless force=true, which removes them all with
 * their mail (store_domain_remove). */
static int domain_remove(struct http_ctx *c)
{
	struct store_domain d;
	bool force = false;
	if (http_require_global(c) != 0 ||
	    http_param_bool(c, "force", &force) < 0 || http_params_done(c) != 0 ||
	    http_domain_access(c, c->cap[0], &d) != 0)
		return -1;
	struct store_removed rm;
	struct err err;
	err_clear(&err);
	if (store_domain_remove(c->api->st, d.name, force, &rm, &err) != 0)
		return err.kind == ERR_PEER ?
		       http_error(c, 409, "not_empty", "force", "%s", err.msg) :
		       http_model_error(c, &err, "domain");
	return http_reply(c, 200, json_pack("{s:s, s:I, s:I, s:I, s:I}",
		"removed", d.name, "mailboxes", (json_int_t)rm.mailboxes,
		"aliases", (json_int_t)rm.aliases,
		"messages", (json_int_t)rm.messages,
		"bytes", (json_int_t)rm.bytes));
}

static const struct http_route routes[] = {
	{ HTTP_M_GET, "/api/v1/domains", domains_list, 0 },
	{ HTTP_M_POST, "/api/v1/domains", domains_create, 0 },
	{ HTTP_M_GET, "/api/v1/domains/{domain}", domain_show, 0 },
	{ HTTP_M_PATCH, "/api/v1/domains/{domain}", domain_update, 0 },
	{ HTTP_M_DELETE, "/api/v1/domains/{domain}", domain_remove, 0 },
};

const struct http_route_table http_domain_routes = {
	routes, sizeof routes / sizeof *routes
};
