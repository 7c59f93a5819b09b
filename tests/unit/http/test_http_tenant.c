/* test_http_tenant.c - cmocka tests of the JSON helpers of the tenant
 * endpoints (src/http/http_tenant.c) without a store: integers at 0,
 * max and max + 1, negative and wrong types; booleans; string arrays
 * (count limit, empty and control-character entries); password length;
 * store errors as statuses; and position-based pages with the ?q=
 * prefix filter, including the cursor they hand on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/http_private.h"

struct env {
	struct http_api api;
	struct http_request req;
	struct http_response resp;
	struct http_ctx c;
};

static void env_init(struct env *e, const char *target)
{
	memset(e, 0, sizeof *e);
	http_api_options_default(&e->api.opt);
	e->req.target = span_cstr(target);
	e->req.peer = "192.0.2.1";
	e->c.api = &e->api;
	e->c.req = &e->req;
	e->c.resp = &e->resp;
	int status;
	const char *why;
	assert_int_equal(http_target_parse(e->req.target, &e->c.target, &status,
					   &why), 0);
}

/* The reply's error code and field; clears the response. */
static void expect_error(struct env *e, int status, const char *code,
			 const char *field)
{
	assert_int_equal(e->resp.status, status);
	json_error_t je;
	json_t *b = json_loads(e->resp.body, 0, &je);
	assert_non_null(b);
	json_t *err = json_object_get(b, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")), code);
	if (field != NULL)
		assert_string_equal(json_string_value(json_object_get(err, "field")),
				    field);
	json_decref(b);
	http_response_clear(&e->resp);
}

static void test_json_uint_and_bool(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "/x");
	json_t *o = json_pack("{s:i, s:i, s:i, s:s, s:b, s:n, s:i}", "zero", 0,
			      "max", 100, "over", 101, "text", "5", "yes", 1,
			      "none", "neg", -1);
	uint64_t v = 7;
	assert_int_equal(http_json_uint(&e.c, o, "absent", 100, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(http_json_uint(&e.c, o, "none", 100, &v), 0);
	assert_int_equal(http_json_uint(&e.c, o, "zero", 100, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(http_json_uint(&e.c, o, "max", 100, &v), 1);
	assert_int_equal(v, 100);
	assert_int_equal(http_json_uint(&e.c, o, "over", 100, &v), -1);
	expect_error(&e, 422, "invalid_value", "over");
	assert_int_equal(http_json_uint(&e.c, o, "neg", 100, &v), -1);
	expect_error(&e, 422, "invalid_value", "neg");
	assert_int_equal(http_json_uint(&e.c, o, "text", 100, &v), -1);
	expect_error(&e, 422, "wrong_type", "text");
	bool b = false;
	assert_int_equal(http_json_bool(&e.c, o, "yes", &b), 1);
	assert_true(b);
	assert_int_equal(http_json_bool(&e.c, o, "absent", &b), 0);
	assert_int_equal(http_json_bool(&e.c, o, "zero", &b), -1);
	expect_error(&e, 422, "wrong_type", "zero");
	json_decref(o);
}

static void test_json_strings(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "/x");
	json_t *o = json_pack("{s:[s,s], s:[s,i], s:[s], s:[s], s:s, s:[]}",
			      "ok", "a@b.test", "c@d.test", "mixed", "a", 1,
			      "empty", "", "ctl", "a\tb", "scalar", "a@b.test",
			      "none");
	const char *out[4];
	size_t n = 9;
	assert_int_equal(http_json_strings(&e.c, o, "ok", out, 4, &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(out[1], "c@d.test");
	assert_int_equal(http_json_strings(&e.c, o, "none", out, 4, &n), 1);
	assert_int_equal(n, 0);
	assert_int_equal(http_json_strings(&e.c, o, "absent", out, 4, &n), 0);
	/* one over the limit */
	assert_int_equal(http_json_strings(&e.c, o, "ok", out, 1, &n), -1);
	expect_error(&e, 422, "invalid_value", "ok");
	assert_int_equal(http_json_strings(&e.c, o, "mixed", out, 4, &n), -1);
	expect_error(&e, 422, "wrong_type", "mixed");
	assert_int_equal(http_json_strings(&e.c, o, "empty", out, 4, &n), -1);
	expect_error(&e, 422, "invalid_value", "empty");
	assert_int_equal(http_json_strings(&e.c, o, "ctl", out, 4, &n), -1);
	expect_error(&e, 422, "invalid_value", "ctl");
	assert_int_equal(http_json_strings(&e.c, o, "scalar", out, 4, &n), -1);
	expect_error(&e, 422, "wrong_type", "scalar");
	json_decref(o);
}

static void test_password_and_errors(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "/x");
	char pw[HTTP_PASSWORD_MAX + 2];
	memset(pw, 'a', sizeof pw);
	pw[HTTP_PASSWORD_MAX] = '\0';
	assert_int_equal(http_password_check(&e.c, "password", pw), 0);
	pw[HTTP_PASSWORD_MAX] = 'a';
	pw[HTTP_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(http_password_check(&e.c, "password", pw), -1);
	expect_error(&e, 422, "weak_password", "password");
	assert_int_equal(http_password_check(&e.c, "password", "1234567"), -1);
	expect_error(&e, 422, "weak_password", "password");
	assert_int_equal(http_password_check(&e.c, "password", "12345678"), 0);

	struct err err;
	err_set(&err, ERR_NOTFOUND, 0, "", "no mailbox x@y.test");
	http_model_error(&e.c, &err, "address");
	expect_error(&e, 404, "not_found", "address");
	err_set(&err, ERR_LIMIT, 0, "", "domain y.test has reached its plan");
	http_model_error(&e.c, &err, "local_part");
	expect_error(&e, 409, "limit_reached", "local_part");
	err_set(&err, ERR_PEER, 0, "", "x@y.test already exists");
	http_model_error(&e.c, &err, "local_part");
	expect_error(&e, 409, "exists", "local_part");
	err_set(&err, ERR_PEER, 0, "", "'x' is not an address");
	http_model_error(&e.c, &err, "forward");
	expect_error(&e, 422, "invalid_value", "forward");
	err_set(&err, ERR_ENV, 0, "", "disk I/O error");
	http_model_error(&e.c, &err, NULL);
	assert_int_equal(e.resp.status, 503);
	http_response_clear(&e.resp);
	assert_string_equal(http_addr_domain("a@b@c.test"), "c.test");
	assert_null(http_addr_domain("a@"));
	assert_null(http_addr_domain("@b.test"));
	assert_null(http_addr_domain("plain"));
}

/* The names on the page target asks for, comma-joined, and its next. */
static void page(const char *target, char *names, size_t namesz,
		 char *next, size_t nextsz)
{
	static const char *const all[] = {
		"ann", "Anna", "anton", "bert", "carl"
	};
	struct env e;
	env_init(&e, target);
	struct http_list l;
	assert_int_equal(http_list_begin(&e.c, &l), 0);
	names[0] = '\0';
	for (size_t i = 0; i < 5; i++)
		if (http_list_take(&l, all[i])) {
			json_array_append_new(l.items, json_string(all[i]));
			strncat(names, all[i], namesz - strlen(names) - 2);
			strcat(names, ",");
		}
	assert_int_equal(http_list_reply(&e.c, &l), 0);
	json_error_t je;
	json_t *b = json_loads(e.resp.body, 0, &je);
	json_t *n = json_object_get(b, "next");
	snprintf(next, nextsz, "%s", json_is_string(n) ? json_string_value(n) : "");
	json_decref(b);
	http_response_clear(&e.resp);
}

static void test_list_pages(void **state)
{
	(void)state;
	char names[128], next[64], target[128];
	page("/x?limit=2", names, sizeof names, next, sizeof next);
	assert_string_equal(names, "ann,Anna,");
	snprintf(target, sizeof target, "/x?limit=2&cursor=%s", next);
	page(target, names, sizeof names, next, sizeof next);
	assert_string_equal(names, "anton,bert,");
	snprintf(target, sizeof target, "/x?limit=2&cursor=%s", next);
	page(target, names, sizeof names, next, sizeof next);
	assert_string_equal(names, "carl,");
	assert_string_equal(next, "");
	/* the filter is a prefix, case-insensitive; exactly a page: no next */
	page("/x?q=AN&limit=3", names, sizeof names, next, sizeof next);
	assert_string_equal(names, "ann,Anna,anton,");
	assert_string_equal(next, "");
	page("/x?q=zz", names, sizeof names, next, sizeof next);
	assert_string_equal(names, "");
	/* a cursor of two keys or a negative position is refused */
	struct env e;
	struct http_list l;
	int64_t k[2] = { -1, 0 };
	char cur[48];
	http_cursor_encode(k, 1, cur, sizeof cur);
	snprintf(target, sizeof target, "/x?cursor=%s", cur);
	env_init(&e, target);
	assert_int_equal(http_list_begin(&e.c, &l), -1);
	expect_error(&e, 400, "invalid_parameter", "cursor");
	http_cursor_encode(k, 2, cur, sizeof cur);
	snprintf(target, sizeof target, "/x?cursor=%s", cur);
	env_init(&e, target);
	assert_int_equal(http_list_begin(&e.c, &l), -1);
	expect_error(&e, 400, "invalid_parameter", "cursor");
	env_init(&e, "/x?sort=name");
	assert_int_equal(http_list_begin(&e.c, &l), -1);
	expect_error(&e, 400, "unknown_parameter", "sort");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_uint_and_bool),
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_password_and_errors),
		cmocka_unit_test(test_list_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
