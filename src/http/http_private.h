/* http_private.h - what the files of src/http/ share and nothing outside
 * it (but its unit tests and fuzzer) includes: the per-request context,
 * the target parser, the router, the JSON reply and body helpers, list
 * pages, auth, and the route tables of each group of endpoints. New
 * endpoint groups (domains, mailboxes, ...) add a file with a route
 * table and list it in http_api.c. */
#ifndef PETREL_HTTP_PRIVATE_H
#define PETREL_HTTP_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/limits.h"
#include "admin/admin_json.h"
#include "http/http.h"
#include "store/store.h"

/* ---- the parsed target ---------------------------------------------------
 * The path's segments and the query's parameters, percent-decoded (and
 * '+' as space in the query) into buf, each NUL-terminated. A %00 or a
 * decoded '/' in a segment is refused, so each is one C string. */
struct http_param {
	const char *name;
	const char *value;
	bool used;		/* read by the handler (the rest are unknown) */
};

struct http_target {
	char buf[2 * HTTP_MAX_TARGET + 2];	/* UNSAFE: decoding never grows a
						 * part, and each gains one NUL */
	size_t used;
	const char *seg[HTTP_MAX_SEGMENTS];
	size_t nseg;
	struct http_param param[HTTP_MAX_QUERY_PARAMS];
	size_t nparam;
};

/* 0, or -1 with *why (a static string) for a 400/414: *status_out. */
int http_target_parse(struct span target, struct http_target *t,
		      int *status_out, const char **why);

/* ---- routes --------------------------------------------------------------
 * A pattern is "/api/v1/queue/{id}/retry": literal segments and {name}
 * captures (any one non-empty segment, handed to the handler in order). */
struct http_ctx;
#define HTTP_ROUTE_NO_AUTH 0x01u
/* A mailbox user's session token may call it (for its own mailbox: the
 * handler checks with http_mailbox_access); other routes are 403 to it. */
#define HTTP_ROUTE_SESSION 0x02u
#define HTTP_MAX_CAPTURES 4

struct http_route {
	enum http_method method;
	const char *pattern;
	int (*fn)(struct http_ctx *c);
	unsigned flags;
};

struct http_route_table {
	const struct http_route *r;
	size_t n;
};

/* The route for method and the segments: the pattern with the most
 * literal segments that matches the path wins (so /queue/stats is not
 * /queue/{id}); then the method picks its row. NULL with *status_out 404
 * (no pattern matches) or 405 (allow filled with the pattern's methods,
 * "GET, DELETE"). captures[] point into seg[]. */
const struct http_route *http_route_find(const struct http_route_table *t,
					 size_t nt, enum http_method method,
					 const char *const *seg, size_t nseg,
					 const char **captures, size_t *ncap,
					 char *allow, size_t allowsz,
					 int *status_out);
const char *http_method_name(enum http_method m);

/* ---- one request --------------------------------------------------------- */
struct http_api {
	struct store *st;
	struct http_api_options opt;
	struct http_auth_slot *fails;	/* HTTP_AUTH_FAIL_SLOTS */
	struct http_session *sessions;	/* HTTP_SESSION_MAX */
};

struct http_ctx {
	struct http_api *api;
	const struct http_request *req;
	struct http_response *resp;
	struct http_target target;
	const struct http_route *route;
	const char *cap[HTTP_MAX_CAPTURES];
	size_t ncap;
	struct store_token token;	/* the caller, once authenticated */
	bool authed;
	/* a mailbox user's session instead of a token: token is then zero
	 * but for its name ("session") and domain (the mailbox's) */
	struct http_session *session;
};

/* ---- replies (http_json.c) ---------------------------------------------
 * Each returns -1 after filling c->resp, so a handler ends with
 * "return http_error(...)"; http_reply returns 0. */
int http_error(struct http_ctx *c, int status, const char *code,
	       const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The same into a bare response (before a context exists). */
void http_error_resp(struct http_response *resp, int status,
		     const char *code, const char *field, const char *msg);
/* A store failure: 503 "unavailable" (with Retry-After) for ERR_ENV,
 * else 500 "internal"; the store has logged it. */
int http_store_error(struct http_ctx *c, const struct err *err);
/* status with body (NULL: no body, for 204); takes body's reference. */
int http_reply(struct http_ctx *c, int status, json_t *body);

/* ---- query parameters and list pages ------------------------------------- */
/* The value of query parameter name (marks it used), or NULL. */
const char *http_param(struct http_ctx *c, const char *name);
/* 400 "unknown_parameter" naming the first parameter no handler read;
 * 0 if none. Call after reading every parameter. */
int http_params_done(struct http_ctx *c);
/* "true"/"false" into *out: 1 given, 0 absent, -1 (400 sent) otherwise. */
int http_param_bool(struct http_ctx *c, const char *name, bool *out);

/* A page request: ?limit= (1..HTTP_LIST_LIMIT_MAX, default
 * HTTP_LIST_LIMIT_DEFAULT) and ?cursor= (from a previous page's "next";
 * opaque to clients: base64url of n big-endian 64-bit keys). */
struct http_page {
	size_t limit;
	bool has_cursor;
	int64_t key[2];		/* the last item of the previous page */
};
int http_page_begin(struct http_ctx *c, size_t nkeys, struct http_page *p);
/* Encode keys as a cursor into out (at least 32 bytes). */
void http_cursor_encode(const int64_t *key, size_t nkeys, char *out,
			size_t outsz);
/* 0 and keys, or -1 if s is not a cursor of nkeys keys. */
int http_cursor_decode(const char *s, int64_t *key, size_t nkeys);
/* {"items": items, "next": cursor or null}; takes items' reference. */
int http_reply_page(struct http_ctx *c, json_t *items, const char *next);

/* ---- JSON request bodies ------------------------------------------------- */
/* The body as a JSON object: 1 with *out (the caller json_decref's it),
 * 0 if the request has no body (empty), -1 with the reply sent: 415 not
 * application/json, 413 over max_json_body, 400 malformed or deeper
 * than HTTP_JSON_MAX_DEPTH, 422 not an object. */
int http_json_body(struct http_ctx *c, json_t **out);
/* 422 "unknown_field" for the first member of obj not in allowed
 * (NULL-terminated); 0 if none. */
int http_json_only(struct http_ctx *c, json_t *obj,
		   const char *const *allowed);
/* Member name of obj as a string of at most maxlen bytes without
 * control characters: 1 with *out (borrowed from obj), 0 absent and not
 * required, -1 with 422 ("missing_field", "wrong_type", "invalid_value"
 * and the field). */
int http_json_string(struct http_ctx *c, json_t *obj, const char *name,
		     bool required, size_t maxlen, const char **out);

/* ---- auth (http_auth.c) ------------------------------------------------- */
struct http_auth_slot {
	char ip[64];
	int64_t window_start;
	unsigned fails;
};
/* Authenticate c's request: 0 with c->token, or -1 with 401/429/503. */
int http_auth(struct http_ctx *c);
/* true if the caller may see things of domain (a global token, or its
 * own domain, ASCII case-insensitively). */
bool http_scope_allows(const struct http_ctx *c, const char *domain);

/* The failed-auth limiter of http_auth for other credentials (login):
 * seconds the caller must wait (0: may try; 429 sent otherwise), and
 * counting one failure. */
unsigned http_auth_blocked(struct http_ctx *c);
void http_auth_count_fail(struct http_ctx *c);

/* ---- sessions of mailbox users (http_session.c) --------------------------
 * "pss_" + 43 base64url characters; kept as SHA-256 in memory (decision
 * 0023), so a restart logs everyone out. */
#define HTTP_SESSION_PREFIX "pss_"
struct http_session {
	unsigned char hash[HTTP_TOKEN_HASH_LEN];
	char address[STORE_ADDR_MAX + 1];
	int64_t mailbox_id;
	int64_t created, expires;	/* 0 expires: a free slot */
};
/* The live session of token tok: 1 with c->session set, 0 unknown or
 * expired. */
int http_session_find(struct http_ctx *c, struct span tok);
/* End every session of mailbox_id but keep (NULL: all): its password
 * changed or it was suspended. */
void http_sessions_end(struct http_api *api, int64_t mailbox_id,
		       const struct http_session *keep);

/* ---- tenants: shared by the domain, mailbox and alias groups
 * (http_tenant.c) --------------------------------------------------------- */
/* A model call's failure as a reply: ERR_NOTFOUND 404 "not_found",
 * ERR_LIMIT 409 "limit_reached", ERR_PEER 409 "exists" when the name is
 * taken, else 422 "invalid_value" (with field), anything else 500/503. */
int http_model_error(struct http_ctx *c, const struct err *err,
		     const char *field);
/* 0 if the caller holds a global token, else 403. */
int http_require_global(struct http_ctx *c);
/* The domain name (either form) if the caller may see it: 0 with *d,
 * -1 with 404 / 403 (scoped to another domain, or a session). */
int http_domain_access(struct http_ctx *c, const char *name,
		       struct store_domain *d);
/* The same for a mailbox address: sessions may see only their own. */
int http_mailbox_access(struct http_ctx *c, const char *address,
			struct store_mailbox_info *out);
/* The domain part of address (after the last '@'), or NULL. */
const char *http_addr_domain(const char *address);

/* A list in the store's order, paged by position: ?limit, ?cursor (one
 * key: how many matching items came before) and ?q (a case-insensitive
 * prefix of each item's name). */
struct http_list {
	struct http_page page;
	const char *q;
	size_t matched;		/* items matching q so far */
	json_t *items;
	bool more;
};
int http_list_begin(struct http_ctx *c, struct http_list *l);
/* Whether the item named name goes on this page; false past its end
 * (then l->more tells a next page exists and fn may stop). */
bool http_list_take(struct http_list *l, const char *name);
/* Send the page (takes l->items). */
int http_list_reply(struct http_ctx *c, struct http_list *l);

/* Body members beyond http_json_string: 1 with the value, 0 absent
 * (or null), -1 with 422. An unsigned integer in [0, max]; a boolean;
 * an array of at most max strings (each at most STORE_ADDR_MAX bytes,
 * no control characters) into out[] (borrowed from obj). */
int http_json_uint(struct http_ctx *c, json_t *obj, const char *name,
		   uint64_t max, uint64_t *out);
int http_json_bool(struct http_ctx *c, json_t *obj, const char *name,
		   bool *out);
int http_json_strings(struct http_ctx *c, json_t *obj, const char *name,
		      const char **out, size_t max, size_t *n_out);
/* The request's JSON object (required, or {} when allow_empty and no
 * body) checked against allowed fields: 0 with *out, -1 sent. */
int http_json_request(struct http_ctx *c, const char *const *allowed,
		      bool allow_empty, json_t **out);
/* Hash password for the store with the api's Argon2id cost. 0 or -1. */
int http_password_hash(struct http_ctx *c, const char *pw, char *out,
		       size_t outsz, struct err *err);
/* Audit a change the store call did not audit itself, with the
 * caller's address; a failure to write is logged (the change stands). */
void http_audit(struct http_ctx *c, const char *kind, const char *subject,
		const char *detail);
/* 422 "weak_password" unless pw has HTTP_PASSWORD_MIN..MAX bytes. */
int http_password_check(struct http_ctx *c, const char *field,
			const char *pw);
#define HTTP_PASSWORD_MIN 8
#define HTTP_PASSWORD_MAX 200
#define HTTP_PASSWORD_GEN 16	/* characters of a generated password */

/* ---- endpoint groups ---------------------------------------------------- */
extern const struct http_route_table http_queue_routes;
extern const struct http_route_table http_domain_routes;
extern const struct http_route_table http_mailbox_routes;
extern const struct http_route_table http_alias_routes;
extern const struct http_route_table http_session_routes;
extern const struct http_route_table http_audit_routes;	/* http_audit.c */
extern const struct http_route_table http_import_routes;
extern const struct http_route_table http_dns_routes;	/* http_dns.c */
/* public: the autoconfig documents and the settings page
 * (http_autoconf.c); served only when opt.public_only */
extern const struct http_route_table http_autoconf_routes;
extern const struct http_route_table http_filter_routes;	/* http_filter.c */
extern const struct http_route_table http_quarantine_routes;	/* http_quar.c */

#endif
