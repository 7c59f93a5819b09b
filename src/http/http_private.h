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
/* "2026-11-26T13:01:27Z", or JSON null for 0. */
json_t *http_json_time(int64_t t);

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

/* ---- endpoint groups ---------------------------------------------------- */
extern const struct http_route_table http_queue_routes;
extern const struct http_route_table http_import_routes;

#endif
