/* http_audit.c - GET /api/v1/audit: the audit log by time, actor, domain
 * and kind, oldest first, in pages (the cursor is the last entry's id).
 * A global token sees every entry; a token scoped to a domain sees that
 * domain's entries only (asking for another domain is 403), with the
 * same matching as `petrelctl audit list --domain` (store_audit_match). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/http_private.h"

/* ?since=: Unix seconds, "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC,
 * as the API writes times). -1 if none of them. */
static int64_t parse_since(const char *s)
{
	size_t n = strnlen(s, 32);
	if (n == 0 || n >= 32)
		return -1;
	if (strspn(s, "0123456789") == n) {
		errno = 0;
		long long v = strtoll(s, NULL, 10);
		return errno == 0 ? (int64_t)v : -1;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (rest != NULL && *rest == 'T') {
		rest = strptime(rest + 1, "%H:%M:%S", &tm);
		if (rest != NULL && *rest == 'Z')
			rest++;
	}
	if (rest == NULL || *rest != '\0')
		return -1;
	return (int64_t)timegm(&tm);
}

struct audit_walk {
	json_t *items;
	int64_t last;
};

static int entry_one(const struct store_audit_entry *e, void *arg)
{
	struct audit_walk *w = arg;
	json_t *o = admin_audit_json(e);
	json_array_append_new(w->items, o);
	w->last = e->id;
	return 0;
}

static int audit_list(struct http_ctx *c)
{
	struct http_page page;
	if (http_page_begin(c, 1, &page) != 0)
		return -1;
	struct store_audit_filter f = { .limit = page.limit };
	if (page.has_cursor)
		f.after_id = page.key[0];
	const char *since = http_param(c, "since");
	if (since != NULL && (f.since = parse_since(since)) < 0)
		return http_error(c, 400, "invalid_parameter", "since",
				  "since is Unix seconds, YYYY-MM-DD or "
				  "YYYY-MM-DDTHH:MM:SSZ");
	f.actor = http_param(c, "actor");
	f.kind = http_param(c, "kind");
	f.domain = http_param(c, "domain");
	if (http_params_done(c) != 0)
		return -1;
	if (f.domain != NULL && f.domain[0] != '\0' &&
	    !http_scope_allows(c, f.domain))
		return http_error(c, 403, "forbidden", "domain",
				  "this token may only read the audit log of %s",
				  c->token.domain);
	if (c->token.domain[0] != '\0')
		f.domain = c->token.domain;
	struct audit_walk w = { json_array(), 0 };
	bool more = false;
	struct err err;
	err_clear(&err);
	if (store_audit_query(c->api->st, &f, entry_one, &w, &more, &err) != 0) {
		json_decref(w.items);
		return http_store_error(c, &err);
	}
	char next[48];
	if (more)
		http_cursor_encode(&w.last, 1, next, sizeof next);
	return http_reply_page(c, w.items, more ? next : NULL);
}

static const struct http_route audit_routes[] = {
	{ HTTP_M_GET, "/api/v1/audit", audit_list, 0 },
};
const struct http_route_table http_audit_routes = {
	audit_routes, sizeof audit_routes / sizeof *audit_routes
};
