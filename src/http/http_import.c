/* http_import.c - POST /api/v1/domains/{domain}/mailboxes/import: a CSV
 * file of mailboxes created all or nothing through admin_import
 * (decision 0024). The admin API's own thread runs it, blocked until
 * the import ends (minutes for 10,000 rows); the passwords are hashed on
 * the import's threads at a lower priority, so the mail protocols' loops
 * are not held up. Other admin requests wait meanwhile. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/admin.h"
#include "http/http_private.h"

/* true if the media type (parameters aside) is text/csv. */
static bool is_csv(struct span ct)
{
	if (ct.p == NULL)
		return false;
	size_t n = 0;
	while (n < ct.len && ct.p[n] != ';')
		n++;
	return span_eq_ci(span_trim(span_make(ct.p, n)), "text/csv");
}

static int mailbox_import(struct http_ctx *c)
{
	const char *domain = c->cap[0];
	bool dry_run = false;
	if (http_param_bool(c, "dry_run", &dry_run) < 0 ||
	    http_params_done(c) != 0)
		return -1;
	if (!is_csv(c->req->content_type))
		return http_error(c, 415, "unsupported_media_type", NULL,
				  "send the file as text/csv");
	if (c->req->body.len > IMPORT_MAX_BYTES)
		return http_error(c, 413, "too_large", NULL, "a CSV file is at "
				  "most %d bytes; split it", IMPORT_MAX_BYTES);
	if (!http_scope_allows(c, domain))
		return http_error(c, 403, "forbidden", "domain", "your token "
				  "is not for domain %s", domain);
	struct admin_import_opts o = { .domain = domain, .dry_run = dry_run };
	struct admin_import_result r;
	struct err err;
	err_clear(&err);
	if (admin_import(c->api->st, c->req->body, &o, &r, &err) != 0) {
		admin_import_result_free(&r);
		if (err.kind == ERR_NOTFOUND)
			return http_error(c, 404, "not_found", "domain", "%s",
					  err.msg);
		if (err.kind == ERR_PEER)
			return http_error(c, 422, "invalid_value", "domain",
					  "%s", err.msg);
		return http_store_error(c, &err);
	}
	json_t *body = admin_import_json(&r);
	int status = r.nerrors > 0 ? 422 : dry_run ? 200 : 201;
	if (r.nerrors > 0) {
		json_t *e = json_object();
		json_object_set_new(e, "code", json_string("invalid_rows"));
		char msg[96];
		snprintf(msg, sizeof msg, "%zu error%s in the file; nothing "
			 "created", r.nerrors, r.nerrors == 1 ? "" : "s");
		json_object_set_new(e, "message", json_string(msg));
		json_object_set_new(body, "error", e);
	}
	admin_import_result_free(&r);
	/* the body holds the generated passwords until it is sent */
	return http_reply(c, status, body);
}

static const struct http_route routes[] = {
	{ HTTP_M_POST, "/api/v1/domains/{domain}/mailboxes/import",
	  mailbox_import, 0 },
};
const struct http_route_table http_import_routes = {
	routes, sizeof routes / sizeof *routes
};
