/* http_aliases.c - aliases (an address delivering to one or more
 * others) and groups (distribution lists with members, listed senders
 * and a posting policy): listed and created under their domain, then
 * shown, removed and given or relieved of targets at
 * /api/v1/aliases/{address} and /api/v1/groups/{address}. Both are one
 * store object told apart by kind; the route's pattern says which. The
 * posting policy is set when a group is made (the store has no call to
 * change it later). */
#include <string.h>
#include <strings.h>

#include "http/http_private.h"

static const char *const post_names[] = { "anyone", "members", "senders" };

static enum store_alias_kind route_kind(const struct http_ctx *c)
{
	return strstr(c->route->pattern, "/groups") ? STORE_GROUP : STORE_ALIAS;
}

/* ---- lists --------------------------------------------------------------- */

static int list_one(const struct store_alias *a, void *arg)
{
	struct http_list *l = arg;
	if (http_list_take(l, a->address))
		json_array_append_new(l->items, admin_alias_json(a));
	return l->more;
}

static int aliases_list(struct http_ctx *c)
{
	struct store_domain d;
	struct http_list l;
	if (http_domain_access(c, c->cap[0], &d) != 0 ||
	    http_list_begin(c, &l) != 0)
		return -1;
	struct err err;
	err_clear(&err);
	if (store_alias_each(c->api->st, d.name, (int)route_kind(c), list_one,
			     &l, &err) != 0) {
		json_decref(l.items);
		return http_store_error(c, &err);
	}
	return http_list_reply(c, &l);
}

/* ---- the one at {address} ------------------------------------------------ */

/* 0 with *a (store_alias_free it), -1 with 403/404. */
static int find_alias(struct http_ctx *c, struct store_alias *a)
{
	const char *address = c->cap[0], *dom = http_addr_domain(address);
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	const char *what = route_kind(c) == STORE_GROUP ? "group" : "alias";
	struct err err;
	err_clear(&err);
	if (dom == NULL || store_domain_idna(dom, ascii, sizeof ascii, uni,
					     sizeof uni, &err) != 0)
		return http_error(c, 404, "not_found", "address", "no %s %s",
				  what, address);
	if (!http_scope_allows(c, ascii))
		return http_error(c, 403, "forbidden", "address",
				  "this token may not manage %s", address);
	int rc = store_alias_get(c->api->st, address, a, &err);
	if (rc < 0 && err.kind != ERR_PEER)
		return http_store_error(c, &err);
	if (rc == 1 && a->kind == route_kind(c))
		return 0;
	if (rc == 1)
		store_alias_free(a);
	return http_error(c, 404, "not_found", "address", "no %s %s", what,
			  address);
}

static int reply_alias(struct http_ctx *c, int status, const char *address)
{
	struct store_alias a;
	struct err err;
	err_clear(&err);
	int rc = store_alias_get(c->api->st, address, &a, &err);
	if (rc <= 0)
		return rc == 0 ? http_error(c, 404, "not_found", "address",
					    "no alias %s", address) :
		       http_store_error(c, &err);
	json_t *o = admin_alias_json(&a);
	store_alias_free(&a);
	return http_reply(c, status, o);
}

static int alias_show(struct http_ctx *c)
{
	struct store_alias a;
	if (http_params_done(c) != 0 || find_alias(c, &a) != 0)
		return -1;
	json_t *o = admin_alias_json(&a);
	store_alias_free(&a);
	return http_reply(c, 200, o);
}

static int alias_delete(struct http_ctx *c)
{
	struct store_alias a;
	if (http_params_done(c) != 0 || find_alias(c, &a) != 0)
		return -1;
	char address[STORE_ADDR_MAX + 1];
	snprintf(address, sizeof address, "%s", a.address);
	store_alias_free(&a);
	struct err err;
	err_clear(&err);
	if (store_alias_remove(c->api->st, address, &err) != 0)
		return http_model_error(c, &err, "address");
	http_audit(c, route_kind(c) == STORE_GROUP ? "group.remove" :
		   "alias.remove", address, NULL);
	return http_reply(c, 204, NULL);
}

/* ---- POST /api/v1/domains/{domain}/aliases and /groups ------------------- */

static int aliases_create(struct http_ctx *c)
{
	static const char *const alias_fields[] = {
		"local_part", "targets", NULL
	};
	static const char *const group_fields[] = {
		"local_part", "members", "senders", "posting", NULL
	};
	enum store_alias_kind kind = route_kind(c);
	struct store_domain d;
	json_t *body;
	if (http_domain_access(c, c->cap[0], &d) != 0 ||
	    http_json_request(c, kind == STORE_GROUP ? group_fields :
			      alias_fields, false, &body) != 0)
		return -1;
	int rc = -1;
	const char *local, *posting = NULL;
	const char *members[STORE_ALIAS_TARGETS_MAX];
	const char *senders[STORE_ALIAS_TARGETS_MAX];
	size_t nm = 0, ns = 0;
	enum store_post_policy post = STORE_POST_ANYONE;
	const char *mf = kind == STORE_GROUP ? "members" : "targets";
	if (http_json_string(c, body, "local_part", true, SMTP_LOCAL_MAX,
			     &local) < 0 ||
	    http_json_strings(c, body, mf, members, STORE_ALIAS_TARGETS_MAX,
			      &nm) < 0 ||
	    http_json_strings(c, body, "senders", senders,
			      STORE_ALIAS_TARGETS_MAX, &ns) < 0 ||
	    http_json_string(c, body, "posting", false, 16, &posting) < 0)
		goto out;
	if (posting != NULL) {
		size_t k = 0;
		while (k < 3 && strcmp(posting, post_names[k]) != 0)
			k++;
		if (k == 3) {
			http_error(c, 422, "invalid_value", "posting",
				   "posting is \"anyone\", \"members\" or "
				   "\"senders\"");
			goto out;
		}
		post = (enum store_post_policy)k;
	}
	if (kind == STORE_ALIAS && nm == 0) {
		http_error(c, 422, "missing_field", "targets",
			   "an alias needs at least one target");
		goto out;
	}
	if (local[0] == '\0' || strchr(local, '@') != NULL) {
		http_error(c, 422, "invalid_value", "local_part",
			   "local_part is the part before the '@'");
		goto out;
	}
	char address[STORE_ADDR_MAX + 1];
	snprintf(address, sizeof address, "%s@%s", local, d.name);
	struct store *st = c->api->st;
	struct err err;
	err_clear(&err);
	struct store_alias a;
	struct store_mailbox_info mi;
	int taken = store_alias_get(st, address, &a, &err);
	if (taken == 1)
		store_alias_free(&a);
	else if (taken == 0)
		taken = store_mailbox_info(st, address, &mi, &err);
	if (taken != 0) {
		if (taken < 0)
			http_model_error(c, &err, "local_part");
		else
			http_error(c, 409, "exists", "local_part",
				   "%s already exists", address);
		goto out;
	}
	if (store_alias_add(st, address, kind, post, members, nm, &err) != 0) {
		http_model_error(c, &err, err.kind == ERR_PEER &&
				 strstr(err.msg, "target") == NULL ?
				 "local_part" : mf);
		goto out;
	}
	for (size_t i = 0; i < ns; i++)
		if (store_alias_target(st, address, STORE_TARGET_SENDER,
				       senders[i], true, &err) != 0) {
			/* all or nothing: the group goes again */
			struct err e2;
			(void)store_alias_remove(st, address, &e2);
			http_model_error(c, &err, "senders");
			goto out;
		}
	http_audit(c, kind == STORE_GROUP ? "group.add" : "alias.add", address,
		   kind == STORE_GROUP ? post_names[post] : NULL);
	rc = reply_alias(c, 201, address);
out:
	json_decref(body);
	return rc;
}

/* ---- targets, members and senders ---------------------------------------- */

static enum store_target_kind route_target(const struct http_ctx *c)
{
	return strstr(c->route->pattern, "/senders") ? STORE_TARGET_SENDER :
	       STORE_TARGET_MEMBER;
}

static int target_change(struct http_ctx *c, const char *target, bool add)
{
	struct store_alias a;
	if (find_alias(c, &a) != 0)
		return -1;
	char address[STORE_ADDR_MAX + 1];
	snprintf(address, sizeof address, "%s", a.address);
	store_alias_free(&a);
	struct err err;
	err_clear(&err);
	enum store_target_kind tk = route_target(c);
	if (store_alias_target(c->api->st, address, tk, target, add,
			       &err) != 0)
		return http_model_error(c, &err, "address");
	char kind[48];
	snprintf(kind, sizeof kind, "%s.%s-%s",
		 route_kind(c) == STORE_GROUP ? "group" : "alias",
		 tk == STORE_TARGET_SENDER ? "sender" : "member",
		 add ? "add" : "remove");
	http_audit(c, kind, address, target);
	if (!add)
		return http_reply(c, 204, NULL);
	return reply_alias(c, 200, address);
}

static int target_add(struct http_ctx *c)
{
	static const char *const fields[] = { "address", NULL };
	json_t *body;
	const char *target;
	if (http_json_request(c, fields, false, &body) != 0)
		return -1;
	int rc = -1;
	if (http_json_string(c, body, "address", true, STORE_ADDR_MAX,
			     &target) == 1)
		rc = target_change(c, target, true);
	json_decref(body);
	return rc;
}

static int target_remove(struct http_ctx *c)
{
	if (http_params_done(c) != 0)
		return -1;
	return target_change(c, c->cap[1], false);
}

static const struct http_route routes[] = {
	{ HTTP_M_GET, "/api/v1/domains/{domain}/aliases", aliases_list, 0 },
	{ HTTP_M_POST, "/api/v1/domains/{domain}/aliases", aliases_create, 0 },
	{ HTTP_M_GET, "/api/v1/aliases/{address}", alias_show, 0 },
	{ HTTP_M_DELETE, "/api/v1/aliases/{address}", alias_delete, 0 },
	{ HTTP_M_POST, "/api/v1/aliases/{address}/targets", target_add, 0 },
	{ HTTP_M_DELETE, "/api/v1/aliases/{address}/targets/{target}",
	  target_remove, 0 },
	{ HTTP_M_GET, "/api/v1/domains/{domain}/groups", aliases_list, 0 },
	{ HTTP_M_POST, "/api/v1/domains/{domain}/groups", aliases_create, 0 },
	{ HTTP_M_GET, "/api/v1/groups/{address}", alias_show, 0 },
	{ HTTP_M_DELETE, "/api/v1/groups/{address}", alias_delete, 0 },
	{ HTTP_M_POST, "/api/v1/groups/{address}/members", target_add, 0 },
	{ HTTP_M_DELETE, "/api/v1/groups/{address}/members/{member}",
	  target_remove, 0 },
	{ HTTP_M_POST, "/api/v1/groups/{address}/senders", target_add, 0 },
	{ HTTP_M_DELETE, "/api/v1/groups/{address}/senders/{sender}",
	  target_remove, 0 },
};

const struct http_route_table http_alias_routes = {
	routes, sizeof routes / sizeof *routes
};
