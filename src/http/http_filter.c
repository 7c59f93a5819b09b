/* http_filter.c - the spam filter's settings and allow/block lists over
 * the REST API (decision 0040):
 *   GET|PUT /api/v1/domains/{domain}/filter
 *   GET|POST|DELETE /api/v1/filter/{allow|block}[?domain=D | ?user=A]
 * Lists are the files under data_dir (admin_filter.h edits them, as
 * petrelctl does). Global lists need a global token; a domain token
 * reaches its domain's and its users' lists; a mailbox user's session
 * reaches its own user lists. */
#include <string.h>

#include "admin/admin_filter.h"
#include "filter/listdir.h"
#include "http/http_private.h"

/* ---- settings ---------------------------------------------------------------- */

static int settings_reply(struct http_ctx *c, const char *domain)
{
	struct store_filter_settings s;
	struct err err;
	err_clear(&err);
	if (store_filter_settings_get(c->api->st, domain, &s, &err) < 0)
		return http_store_error(c, &err);
	return http_reply(c, 200, admin_filter_settings_json(domain, &s));
}

static int settings_show(struct http_ctx *c)
{
	struct store_domain d;
	if (http_params_done(c) != 0 ||
	    http_domain_access(c, c->cap[0], &d) != 0)
		return -1;
	return settings_reply(c, d.name);
}

/* A member of body naming one of 3 values: 1 with *out, 0 absent, -1. */
static int json_choice(struct http_ctx *c, json_t *body, const char *name,
		       int (*parse)(const char *), int *out)
{
	const char *v;
	int rc = http_json_string(c, body, name, false, 32, &v);
	if (rc <= 0)
		return rc;
	int x = parse(v);
	if (x < 0)
		return http_error(c, 422, "invalid_value", name,
				  "'%s' is not a %s", v, name);
	*out = x;
	return 1;
}

static int settings_update(struct http_ctx *c)
{
	static const char *const fields[] = {
		"level", "quarantine_days", "user_release", "external_tag", NULL
	};
	struct store_domain d;
	json_t *body;
	if (http_domain_access(c, c->cap[0], &d) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	struct store_filter_settings s;
	struct err err;
	err_clear(&err);
	if (store_filter_settings_get(c->api->st, d.name, &s, &err) < 0) {
		json_decref(body);
		return http_store_error(c, &err);
	}
	int level = (int)s.level, tag = (int)s.external_tag;
	uint64_t days = s.quarantine_days;
	bool release = s.user_release;
	int rc = json_choice(c, body, "level", store_filter_level_parse, &level);
	if (rc >= 0)
		rc = json_choice(c, body, "external_tag",
				 store_external_tag_parse, &tag);
	if (rc >= 0)
		rc = http_json_uint(c, body, "quarantine_days",
				    STORE_QUARANTINE_DAYS_MAX, &days);
	if (rc >= 0 && days < 1)
		rc = http_error(c, 422, "invalid_value", "quarantine_days",
				"quarantine_days is 1 to %d",
				STORE_QUARANTINE_DAYS_MAX);
	if (rc >= 0)
		rc = http_json_bool(c, body, "user_release", &release);
	json_decref(body);
	if (rc < 0)
		return -1;
	s.level = (enum store_filter_level)level;
	s.external_tag = (enum store_external_tag)tag;
	s.quarantine_days = (uint32_t)days;
	s.user_release = release;
	if (store_filter_settings_set(c->api->st, d.name, &s, &err) != 0)
		return http_model_error(c, &err, "domain");
	return settings_reply(c, d.name);
}

/* ---- lists ---------------------------------------------------------------------- */

struct level_req {
	enum filter_list_action act;
	const char *domain, *user;
	char data_dir[1024];
};

/* The list {list}, the level its query names, and whether the caller
 * may reach it: 0, or -1 with 400/403/404/503 sent. entry_param: also
 * read ?entry= into *entry (DELETE). */
static int level_begin(struct http_ctx *c, struct level_req *r,
		       const char **entry)
{
	memset(r, 0, sizeof *r);
	if (!strcmp(c->cap[0], "allow"))
		r->act = FILTER_LIST_ALLOW;
	else if (!strcmp(c->cap[0], "block"))
		r->act = FILTER_LIST_BLOCK;
	else
		return http_error(c, 404, "not_found", "list",
				  "the lists are allow and block");
	r->domain = http_param(c, "domain");
	r->user = http_param(c, "user");
	if (entry != NULL) {
		*entry = http_param(c, "entry");
		if (*entry == NULL)
			return http_error(c, 400, "missing_parameter", "entry",
					  "?entry= names the entry to remove");
	}
	if (http_params_done(c) != 0)
		return -1;
	/* the store's directory as this process sees it (chroot) */
	if (store_dir_name(c->api->st, r->data_dir, sizeof r->data_dir) != 0)
		return http_error(c, 503, "unavailable", NULL,
				  "the data directory's name is too long");
	if (r->domain != NULL && r->user != NULL)
		return http_error(c, 400, "invalid_parameter", "user",
				  "give ?domain= or ?user=, not both");
	struct store_domain d;
	struct store_mailbox_info mi;
	if (r->domain != NULL)
		return http_domain_access(c, r->domain, &d);
	if (r->user != NULL)
		return http_mailbox_access(c, r->user, &mi);
	return http_require_global(c);
}

static int list_error(struct http_ctx *c, const struct err *err)
{
	if (err->kind == ERR_PEER && strncmp(err->msg, "bad entry", 9) == 0)
		return http_error(c, 422, "invalid_entry", "entries", "%s",
				  err->msg);
	return http_model_error(c, err, err->kind == ERR_PEER ? "domain"
							      : NULL);
}

static int lists_show(struct http_ctx *c)
{
	struct level_req r;
	if (level_begin(c, &r, NULL) != 0)
		return -1;
	json_t *items;
	struct err err;
	err_clear(&err);
	if (admin_list_show(c->api->st, r.data_dir, r.domain, r.user, &items,
			    &err) != 0)
		return list_error(c, &err);
	/* only the list asked for */
	json_t *mine = json_array();
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
		if (!strcmp(json_string_value(json_object_get(it, "list")),
			    c->cap[0]))
			json_array_append(mine, it);
	json_decref(items);
	return http_reply_page(c, mine, NULL);
}

static int lists_add(struct http_ctx *c)
{
	static const char *const fields[] = { "entries", NULL };
	struct level_req r;
	json_t *body;
	if (level_begin(c, &r, NULL) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	const char *entries[FILTER_LISTDIR_EDIT_MAX];
	size_t n = 0;
	int got = http_json_strings(c, body, "entries", entries,
				    FILTER_LISTDIR_EDIT_MAX, &n);
	if (got == 0 || (got > 0 && n == 0))
		got = http_error(c, 422, "missing_field", "entries",
				 "entries: a list of 1 to %d entries",
				 FILTER_LISTDIR_EDIT_MAX);
	if (got < 0) {
		json_decref(body);
		return -1;
	}
	json_t *res;
	struct err err;
	err_clear(&err);
	int rc = admin_list_edit(c->api->st, r.data_dir, r.domain, r.user,
				 r.act, true, entries, n, &res, &err);
	json_decref(body);
	if (rc != 0)
		return list_error(c, &err);
	return http_reply(c, 200, res);
}

static int lists_remove(struct http_ctx *c)
{
	struct level_req r;
	const char *entry;
	if (level_begin(c, &r, &entry) != 0)
		return -1;
	json_t *res;
	struct err err;
	err_clear(&err);
	if (admin_list_edit(c->api->st, r.data_dir, r.domain, r.user, r.act,
			    false, &entry, 1, &res, &err) != 0)
		return list_error(c, &err);
	bool removed = json_array_size(json_object_get(res, "removed")) > 0;
	json_decref(res);
	if (!removed)
		return http_error(c, 404, "not_found", "entry",
				  "%s is not in the %s list", entry, c->cap[0]);
	return http_reply(c, 204, NULL);
}

#define S HTTP_ROUTE_SESSION
static const struct http_route routes[] = {
	{ HTTP_M_GET, "/api/v1/domains/{domain}/filter", settings_show, 0 },
	{ HTTP_M_PUT, "/api/v1/domains/{domain}/filter", settings_update, 0 },
	{ HTTP_M_GET, "/api/v1/filter/{list}", lists_show, S },
	{ HTTP_M_POST, "/api/v1/filter/{list}", lists_add, S },
	{ HTTP_M_DELETE, "/api/v1/filter/{list}", lists_remove, S },
};
#undef S

const struct http_route_table http_filter_routes = {
	routes, sizeof routes / sizeof *routes
};
