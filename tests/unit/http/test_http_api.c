/* test_http_api.c - cmocka tests of src/http/ without a network: the
 * target parser (segments, query, percent-decoding, limits at limit and
 * limit + 1), the router (literal beats capture, 404, 405 with Allow),
 * cursors, tokens, and the dispatcher on a real store in a fresh
 * directory: health, 401 with WWW-Authenticate, scoped and revoked
 * tokens, 429 after the failed-auth limit, JSON bodies (415, 413, 400,
 * 422 with the field) and the empty queue's pages. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/http_private.h"
#include "store/store.h"
#include "../store/store_test_util.h"

/* ---- target ---------------------------------------------------------------- */

static int parse(const char *s, struct http_target *t, int *status)
{
	const char *why = NULL;
	int rc = http_target_parse(span_cstr(s), t, status, &why);
	if (rc != 0)
		assert_non_null(why);
	return rc;
}

static void test_target(void **state)
{
	(void)state;
	struct http_target t;
	int st;
	assert_int_equal(parse("/api/v1/queue/12", &t, &st), 0);
	assert_int_equal(t.nseg, 4);
	assert_string_equal(t.seg[3], "12");
	assert_int_equal(t.nparam, 0);

	assert_int_equal(parse("/", &t, &st), 0);
	assert_int_equal(t.nseg, 0);

	assert_int_equal(parse("/a%40b/c?x=1&y=a+b%2Fc&flag&&z=", &t, &st), 0);
	assert_int_equal(t.nseg, 2);
	assert_string_equal(t.seg[0], "a@b");
	assert_int_equal(t.nparam, 4);
	assert_string_equal(t.param[1].name, "y");
	assert_string_equal(t.param[1].value, "a b/c");
	assert_string_equal(t.param[2].name, "flag");
	assert_string_equal(t.param[2].value, "");
	assert_string_equal(t.param[3].value, "");

	/* refused: not a path, encoded NUL or '/', bad escapes, raw bytes,
	 * duplicate parameters */
	const char *bad[] = { "", "api", "http://x/", "/a%2Fb", "/a%00", "/a%4",
			      "/a%zz", "/a b", "/a\x7f", "/a?x=%", "/a?x=1&x=2",
			      "/a?x=%00" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(parse(bad[i], &t, &st), -1);
		assert_int_equal(st, 400);
	}
}

static void test_target_limits(void **state)
{
	(void)state;
	struct http_target t;
	int st;
	char buf[HTTP_MAX_TARGET + 2];
	/* the whole target at its limit and one over */
	buf[0] = '/';
	memset(buf + 1, 'a', HTTP_MAX_TARGET - 1);
	buf[HTTP_MAX_TARGET] = '\0';
	assert_int_equal(parse(buf, &t, &st), 0);
	buf[HTTP_MAX_TARGET] = 'a';
	buf[HTTP_MAX_TARGET + 1] = '\0';
	assert_int_equal(parse(buf, &t, &st), -1);
	assert_int_equal(st, 414);
	/* segments and parameters at their limits and one over */
	char p[256] = "";
	for (int i = 0; i < HTTP_MAX_SEGMENTS; i++)
		strcat(p, "/s");
	assert_int_equal(parse(p, &t, &st), 0);
	assert_int_equal(t.nseg, HTTP_MAX_SEGMENTS);
	strcat(p, "/s");
	assert_int_equal(parse(p, &t, &st), -1);
	char q[256] = "/x?";
	for (int i = 0; i < HTTP_MAX_QUERY_PARAMS; i++)
		snprintf(q + strlen(q), sizeof q - strlen(q), "p%d=1&", i);
	assert_int_equal(parse(q, &t, &st), 0);
	assert_int_equal(t.nparam, HTTP_MAX_QUERY_PARAMS);
	strcat(q, "last=1");
	assert_int_equal(parse(q, &t, &st), -1);
	/* a target full of escapes decodes within the buffer */
	char e[HTTP_MAX_TARGET + 1];
	size_t n = 0;
	e[n++] = '/';
	while (n + 3 <= HTTP_MAX_TARGET - 4) {
		memcpy(e + n, "%41", 3);
		n += 3;
	}
	memcpy(e + n, "?a=b", 4);
	e[n + 4] = '\0';
	assert_int_equal(parse(e, &t, &st), 0);
}

/* ---- router ---------------------------------------------------------------- */

static int h_a(struct http_ctx *c) { (void)c; return 0; }
static int h_b(struct http_ctx *c) { (void)c; return 0; }

static const struct http_route test_routes[] = {
	{ HTTP_M_GET, "/q", h_a, 0 },
	{ HTTP_M_GET, "/q/{id}", h_a, 0 },
	{ HTTP_M_DELETE, "/q/{id}", h_b, 0 },
	{ HTTP_M_GET, "/q/stats", h_b, 0 },
	{ HTTP_M_POST, "/q/{id}/act", h_b, 0 },
	{ HTTP_M_POST, "/q/all", h_b, 0 },
};

static const struct http_route *route(enum http_method m, const char *path,
				      const char **cap, size_t *ncap,
				      char *allow, int *status)
{
	static struct http_target t;
	int st;
	assert_int_equal(parse(path, &t, &st), 0);
	struct http_route_table tab = { test_routes,
					sizeof test_routes / sizeof *test_routes };
	return http_route_find(&tab, 1, m, t.seg, t.nseg, cap, ncap, allow,
			       HTTP_HEADER_VALUE_MAX, status);
}

static void test_router(void **state)
{
	(void)state;
	const char *cap[HTTP_MAX_CAPTURES];
	size_t ncap = 0;
	char allow[HTTP_HEADER_VALUE_MAX];
	int status;
	const struct http_route *r;

	r = route(HTTP_M_GET, "/q/7", cap, &ncap, allow, &status);
	assert_ptr_equal(r, &test_routes[1]);
	assert_int_equal(ncap, 1);
	assert_string_equal(cap[0], "7");
	r = route(HTTP_M_DELETE, "/q/7", cap, &ncap, allow, &status);
	assert_ptr_equal(r, &test_routes[2]);
	/* a literal segment wins over a capture */
	r = route(HTTP_M_GET, "/q/stats", cap, &ncap, allow, &status);
	assert_ptr_equal(r, &test_routes[3]);
	/* ... and its methods are the ones allowed */
	r = route(HTTP_M_GET, "/q/all", cap, &ncap, allow, &status);
	assert_null(r);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "POST");
	r = route(HTTP_M_PUT, "/q/7", cap, &ncap, allow, &status);
	assert_null(r);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, DELETE");
	r = route(HTTP_M_POST, "/q/7/act", cap, &ncap, allow, &status);
	assert_ptr_equal(r, &test_routes[4]);
	const char *none[] = { "/", "/x", "/q/7/act/more", "/q/", "/q/7/other" };
	for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
		r = route(HTTP_M_GET, none[i], cap, &ncap, allow, &status);
		assert_null(r);
		assert_int_equal(status, 404);
	}
}

static void test_cursor_and_token(void **state)
{
	(void)state;
	int64_t k[2] = { 1764160000, 42 }, got[2];
	char s[48];
	http_cursor_encode(k, 2, s, sizeof s);
	assert_int_equal(http_cursor_decode(s, got, 2), 0);
	assert_int_equal(got[0], k[0]);
	assert_int_equal(got[1], k[1]);
	assert_int_equal(http_cursor_decode(s, got, 1), -1);
	assert_int_equal(http_cursor_decode("", got, 2), -1);
	assert_int_equal(http_cursor_decode("!!!!", got, 2), -1);
	k[0] = -1;
	http_cursor_encode(k, 1, s, sizeof s);
	assert_int_equal(http_cursor_decode(s, got, 1), 0);
	assert_int_equal(got[0], -1);

	char tok[HTTP_TOKEN_LEN + 1], tok2[HTTP_TOKEN_LEN + 1];
	unsigned char h[HTTP_TOKEN_HASH_LEN], h2[HTTP_TOKEN_HASH_LEN];
	http_token_new(tok, h);
	http_token_new(tok2, h2);
	assert_int_equal(strlen(tok), HTTP_TOKEN_LEN);
	assert_true(http_token_well_formed(span_cstr(tok)));
	assert_string_not_equal(tok, tok2);
	assert_memory_not_equal(h, h2, sizeof h);
	http_token_hash(span_cstr(tok), h2);
	assert_memory_equal(h, h2, sizeof h);
	tok[10] = '+';
	assert_false(http_token_well_formed(span_cstr(tok)));
	assert_false(http_token_well_formed(span_make(tok2, HTTP_TOKEN_LEN - 1)));
	assert_false(http_token_well_formed(span_cstr("ptk_")));
}

/* ---- the dispatcher on a real store --------------------------------------- */

struct fixture {
	char dir[64];
	struct store *st;
	struct http_api *api;
	char global[HTTP_TOKEN_LEN + 1];
	char scoped[HTTP_TOKEN_LEN + 1];
	char revoked[HTTP_TOKEN_LEN + 1];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/petrel-http-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	struct err err;
	assert_int_equal(store_open(f->dir, &f->st, &err), 0);
	assert_int_equal(store_domain_add(f->st, "a.test", &err), 0);
	unsigned char h[HTTP_TOKEN_HASH_LEN];
	int64_t id;
	http_token_new(f->global, h);
	assert_int_equal(store_token_add(f->st, "global", "", h, &id, &err), 0);
	http_token_new(f->scoped, h);
	assert_int_equal(store_token_add(f->st, "scoped", "A.test", h, &id, &err), 0);
	http_token_new(f->revoked, h);
	assert_int_equal(store_token_add(f->st, "old", "", h, &id, &err), 0);
	assert_int_equal(store_token_revoke(f->st, id, &err), 1);
	assert_int_equal(store_token_revoke(f->st, id + 100, &err), 0);
	/* a scope must be a hosted domain, a name printable */
	assert_int_equal(store_token_add(f->st, "x", "b.test", h, &id, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	assert_int_equal(store_token_add(f->st, "", "", h, &id, &err), -1);
	struct http_api_options o;
	http_api_options_default(&o);
	o.auth_fail_max = 3;
	o.max_json_body = 64;
	f->api = http_api_new(f->st, &o);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	http_api_free(&f->api);
	store_close(&f->st);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* One request; the reply's JSON (NULL for none) in *body_out. */
static int call(struct fixture *f, enum http_method m, const char *target,
		const char *token, const char *ctype, const char *body,
		const char *peer, json_t **body_out, struct http_response *resp)
{
	char auth[128];
	if (token != NULL)
		snprintf(auth, sizeof auth, "Bearer %s", token);
	struct http_request r = {
		.method = m,
		.target = span_cstr(target),
		.authorization = token ? span_cstr(auth) : span_make(NULL, 0),
		.content_type = ctype ? span_cstr(ctype) : span_make(NULL, 0),
		.body = body ? span_cstr(body) : span_make(NULL, 0),
		.peer = peer ? peer : "192.0.2.1",
		.now = 1764160000,
	};
	http_api_handle(f->api, &r, resp);
	*body_out = NULL;
	if (resp->body != NULL) {
		json_error_t je;
		*body_out = json_loads(resp->body, 0, &je);
		assert_non_null(*body_out);
	}
	return resp->status;
}

/* The error code of an error reply (and its field, if want_field). */
static void assert_error(json_t *b, const char *code, const char *field)
{
	json_t *e = json_object_get(b, "error");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "code")), code);
	assert_non_null(json_string_value(json_object_get(e, "message")));
	if (field != NULL)
		assert_string_equal(json_string_value(json_object_get(e, "field")),
				    field);
}

static void test_dispatch_auth(void **state)
{
	struct fixture *f = *state;
	struct http_response resp;
	json_t *b;

	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/health", NULL, NULL, NULL,
			      NULL, &b, &resp), 200);
	assert_string_equal(json_string_value(json_object_get(b, "status")), "ok");
	json_decref(b);
	http_response_clear(&resp);

	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue", NULL, NULL, NULL,
			      NULL, &b, &resp), 401);
	assert_string_equal(resp.www_authenticate, "Bearer realm=\"petrel\"");
	assert_error(b, "unauthorized", NULL);
	json_decref(b);
	http_response_clear(&resp);

	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue", f->global, NULL,
			      NULL, NULL, &b, &resp), 200);
	assert_int_equal(json_array_size(json_object_get(b, "items")), 0);
	assert_true(json_is_null(json_object_get(b, "next")));
	json_decref(b);
	http_response_clear(&resp);

	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue/stats", f->scoped,
			      NULL, NULL, NULL, &b, &resp), 200);
	assert_int_equal(json_integer_value(json_object_get(b, "entries")), 0);
	json_decref(b);
	http_response_clear(&resp);

	/* unknown id: 404 naming the field; malformed: 400 */
	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue/99", f->global, NULL,
			      NULL, NULL, &b, &resp), 404);
	assert_error(b, "not_found", "id");
	json_decref(b);
	http_response_clear(&resp);
	assert_int_equal(call(f, HTTP_M_POST, "/api/v1/queue/01/hold", f->global,
			      NULL, NULL, NULL, &b, &resp), 400);
	assert_error(b, "invalid_id", "id");
	json_decref(b);
	http_response_clear(&resp);

	/* the revoked token, then bad ones from one address: 401 until the
	 * limit, then 429 with Retry-After even for a good token; another
	 * address is not affected */
	const char *peer = "192.0.2.99";
	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue", f->revoked, NULL,
			      NULL, peer, &b, &resp), 401);
	assert_error(b, "invalid_token", NULL);
	json_decref(b);
	http_response_clear(&resp);
	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue", "nope", NULL,
			      NULL, peer, &b, &resp), 401);
	json_decref(b);
	http_response_clear(&resp);
	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue",
			      "ptk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			      NULL, NULL, peer, &b, &resp), 401);
	json_decref(b);
	http_response_clear(&resp);
	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue", f->global, NULL,
			      NULL, peer, &b, &resp), 429);
	assert_error(b, "too_many_requests", NULL);
	assert_true(resp.retry_after > 0 && resp.retry_after <= HTTP_AUTH_FAIL_WINDOW);
	json_decref(b);
	http_response_clear(&resp);
	assert_int_equal(call(f, HTTP_M_GET, "/api/v1/queue", f->global, NULL,
			      NULL, "192.0.2.100", &b, &resp), 200);
	json_decref(b);
	http_response_clear(&resp);
}

static void test_dispatch_errors(void **state)
{
	struct fixture *f = *state;
	struct http_response resp;
	json_t *b;
	struct {
		enum http_method m;
		const char *target, *ctype, *body;
		int status;
		const char *code, *field;
	} cases[] = {
		{ HTTP_M_GET, "/api/v2/queue", NULL, NULL, 404, "not_found", NULL },
		{ HTTP_M_PATCH, "/api/v1/queue", NULL, NULL, 405, "method_not_allowed", NULL },
		{ HTTP_M_GET, "/api/v1/queue?limit=1001", NULL, NULL, 400, "invalid_parameter", "limit" },
		{ HTTP_M_GET, "/api/v1/queue?limit=x", NULL, NULL, 400, "invalid_parameter", "limit" },
		{ HTTP_M_GET, "/api/v1/queue?cursor=abc", NULL, NULL, 400, "invalid_parameter", "cursor" },
		{ HTTP_M_GET, "/api/v1/queue?held=maybe", NULL, NULL, 400, "invalid_parameter", "held" },
		{ HTTP_M_GET, "/api/v1/queue?colour=red", NULL, NULL, 400, "unknown_parameter", "colour" },
		{ HTTP_M_GET, "/api/v1/queue?limit=1000&held=true", NULL, NULL, 200, NULL, NULL },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "text/plain", "{}", 415, "unsupported_media_type", NULL },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json",
		  "{\"reason\": \"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"}",
		  413, "payload_too_large", NULL },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json", "{\"reason\":", 400, "malformed_json", NULL },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json", "[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", 400, "malformed_json", NULL },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json", "[]", 422, "wrong_type", NULL },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json; charset=utf-8", "{\"why\":1}", 422, "unknown_field", "why" },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json", "{\"reason\":1}", 422, "wrong_type", "reason" },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json", "{\"reason\":\"a\\nb\"}", 422, "invalid_value", "reason" },
		{ HTTP_M_POST, "/api/v1/queue/5/bounce", "application/json", "{\"reason\":\"ok\"}", 404, "not_found", "id" },
		{ HTTP_M_POST, "/api/v1/queue/5/hold", NULL, "x", 400, "unexpected_body", NULL },
		{ HTTP_M_POST, "/api/v1/queue/retry-all", NULL, NULL, 202, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int st = call(f, cases[i].m, cases[i].target, f->global,
			      cases[i].ctype, cases[i].body, NULL, &b, &resp);
		if (st != cases[i].status)
			fail_msg("case %zu (%s): status %d, want %d: %s", i,
				 cases[i].target, st, cases[i].status,
				 resp.body ? resp.body : "");
		if (cases[i].code != NULL)
			assert_error(b, cases[i].code, cases[i].field);
		if (cases[i].status == 405)
			assert_string_equal(resp.allow, "GET");
		json_decref(b);
		http_response_clear(&resp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_target_limits),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_cursor_and_token),
		cmocka_unit_test_setup_teardown(test_dispatch_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
