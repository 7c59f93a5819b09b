/* http_api.c - the dispatcher: one request struct in, one response out.
 * Order: parse the target (400/414), route (404/405), then, unless the
 * route is public, the failed-auth limit (429) and the token (401), then
 * the handler. Only /api/v1/health and the routing itself run before
 * authentication. No network here: http_server.c is the transport. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "http/http_private.h"

void http_api_options_default(struct http_api_options *o)
{
	/* every field not set here is off or "the default" at zero */
	memset(o, 0, sizeof *o);
	o->max_json_body = HTTP_MAX_JSON_BODY;
	o->auth_fail_max = HTTP_AUTH_FAIL_MAX;
	o->auth_fail_window = HTTP_AUTH_FAIL_WINDOW;
	o->cfg = NULL;
}

struct http_api *http_api_new(struct store *st,
			      const struct http_api_options *o)
{
	struct http_api *api = xcalloc(1, sizeof *api);
	api->st = st;
	api->opt = *o;
	if (api->opt.auth_fail_window == 0)
		api->opt.auth_fail_window = 1;
	api->fails = xcalloc(HTTP_AUTH_FAIL_SLOTS, sizeof *api->fails);
	api->sessions = xcalloc(HTTP_SESSION_MAX, sizeof *api->sessions);
	return api;
}

void http_api_free(struct http_api **ap)
{
	if (*ap == NULL)
		return;
	free((*ap)->fails);
	free((*ap)->sessions);
	free(*ap);
	*ap = NULL;
}

void http_response_clear(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

/* ---- public endpoints ---------------------------------------------------- */

static int health(struct http_ctx *c)
{
	if (http_params_done(c) != 0)
		return -1;
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string("ok"));
	return http_reply(c, 200, o);
}

static const struct http_route base_routes[] = {
	{ HTTP_M_GET, "/api/v1/health", health, HTTP_ROUTE_NO_AUTH },
};
static const struct http_route_table base_table = {
	base_routes, sizeof base_routes / sizeof *base_routes
};

/* ---- dispatch ------------------------------------------------------------- */

void http_api_handle(struct http_api *api, const struct http_request *req,
		     struct http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	struct http_ctx *c = xcalloc(1, sizeof *c);
	c->api = api;
	c->req = req;
	c->resp = resp;
	const struct http_route_table admin_tables[] = {
		base_table,
		http_queue_routes,
		http_domain_routes,
		http_mailbox_routes,
		http_alias_routes,
		http_session_routes,
		http_audit_routes,
		http_import_routes,
		http_dns_routes,
		http_filter_routes,
		http_quarantine_routes,
	};
	/* the public listeners get nothing of the admin API, not even
	 * its 405s: a separate table, not a filter on the shared one */
	const struct http_route_table *tables = admin_tables;
	size_t ntables = sizeof admin_tables / sizeof *admin_tables;
	if (api->opt.public_only) {
		tables = &http_autoconf_routes;
		ntables = 1;
	}
	int status;
	const char *why = NULL;
	if (http_target_parse(req->target, &c->target, &status, &why) != 0) {
		http_error(c, status, status == 414 ? "uri_too_long" : "bad_request",
			   NULL, "%s", why);
		goto out;
	}
	c->route = http_route_find(tables, ntables,
				   req->method, c->target.seg, c->target.nseg,
				   c->cap, &c->ncap, resp->allow,
				   sizeof resp->allow, &status);
	if (c->route == NULL) {
		if (status == 405)
			http_error(c, 405, "method_not_allowed", NULL,
				   "%s is not allowed here (allowed: %s)",
				   http_method_name(req->method), resp->allow);
		else
			http_error(c, 404, "not_found", NULL, "no such endpoint");
		goto out;
	}
	if (!(c->route->flags & HTTP_ROUTE_NO_AUTH) &&
	    (api->opt.public_only || http_auth(c) != 0)) {
		if (api->opt.public_only)	/* a table mistake: refuse */
			http_error(c, 404, "not_found", NULL, "no such endpoint");
		goto out;
	}
	if (c->route->fn(c) == 0 && resp->status == 0)
		http_error(c, 500, "internal", NULL, "no reply");	/* a bug */
out:
	log_info("http", NULL, "request ip=%s method=%s route=\"%s\" status=%d "
		 "token_id=%lld", req->peer, http_method_name(req->method),
		 c->route ? c->route->pattern : "-", resp->status,
		 c->authed ? (long long)c->token.id : 0LL);
	free(c);
}
