/* http_json.c - JSON in and out of the API with jansson: the error body
 * every failure shares, replies, times, and request bodies read within
 * bounds (media type, size, depth) with per-field validation errors that
 * name the field. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "http/http_private.h"

static void set_body(struct http_response *resp, json_t *body)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	if (body == NULL)
		return;
	/* compact, keys in insertion order: what scripts diff and grep */
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (text == NULL)
		abort();	/* jansson only fails to allocate */
	resp->body = text;
	resp->body_len = strlen(text);
}

/* Text that may hold request bytes: jansson takes only UTF-8. */
static json_t *safe_string(const char *s)
{
	json_t *v = json_string(s);
	return v != NULL ? v : json_string("(not UTF-8)");
}

void http_error_resp(struct http_response *resp, int status,
		     const char *code, const char *field, const char *msg)
{
	json_t *e = json_object();
	json_object_set_new(e, "code", json_string(code));
	json_object_set_new(e, "message", safe_string(msg));
	if (field != NULL)
		json_object_set_new(e, "field", safe_string(field));
	json_t *root = json_object();
	json_object_set_new(root, "error", e);
	resp->status = status;
	set_body(resp, root);
}

int http_error(struct http_ctx *c, int status, const char *code,
	       const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	http_error_resp(c->resp, status, code, field, msg);
	return -1;
}

int http_store_error(struct http_ctx *c, const struct err *err)
{
	/* the client gets a generic answer; the admin's log says what */
	log_error("http", NULL, "op=\"%s %s\" error=\"%s\"",
		  c->req != NULL ? http_method_name(c->req->method) : "?",
		  c->route != NULL ? c->route->pattern : "?", err->msg);
	if (err->kind == ERR_ENV) {
		c->resp->retry_after = 5;
		return http_error(c, 503, "unavailable", NULL,
				  "the store is busy or failing; try again");
	}
	return http_error(c, 500, "internal", NULL, "internal error");
}

int http_reply(struct http_ctx *c, int status, json_t *body)
{
	c->resp->status = status;
	set_body(c->resp, body);
	return 0;
}

/* ---- request bodies ---------------------------------------------------- */

static size_t depth(json_t *v)
{
	size_t d = 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach(v, k, m) {
			size_t n = depth(m);
			if (n > d)
				d = n;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m) {
			size_t n = depth(m);
			if (n > d)
				d = n;
		}
		return d + 1;
	}
	return 0;
}

int http_json_body(struct http_ctx *c, json_t **out)
{
	const struct http_request *r = c->req;
	*out = NULL;
	if (r->body.len == 0)
		return 0;
	if (r->body.len > c->api->opt.max_json_body)
		return http_error(c, 413, "payload_too_large", NULL,
				  "the body is over %zu bytes",
				  c->api->opt.max_json_body);
	struct span ct = r->content_type;
	const unsigned char *semi = ct.p ? memchr(ct.p, ';', ct.len) : NULL;
	if (semi != NULL)
		ct.len = (size_t)(semi - ct.p);
	if (ct.p == NULL || !span_eq_ci(span_trim(ct), "application/json"))
		return http_error(c, 415, "unsupported_media_type", NULL,
				  "the body must be application/json");
	json_error_t je;
	/* jansson stops nesting at its own maximum (2048) while parsing, so
	 * the depth walk below recurses at most that far */
	json_t *v = json_loadb((const char *)r->body.p, r->body.len,
			       JSON_REJECT_DUPLICATES,
			       &je);
	if (v == NULL)
		return http_error(c, 400, "malformed_json", NULL,
				  "malformed JSON at line %d column %d: %s",
				  je.line, je.column, je.text);
	if (depth(v) > HTTP_JSON_MAX_DEPTH) {
		json_decref(v);
		return http_error(c, 400, "malformed_json", NULL,
				  "JSON nested deeper than %d levels",
				  HTTP_JSON_MAX_DEPTH);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return http_error(c, 422, "wrong_type", NULL,
				  "the body must be a JSON object");
	}
	*out = v;
	return 1;
}

int http_json_only(struct http_ctx *c, json_t *obj,
		   const char *const *allowed)
{
	const char *k;
	json_t *m;
	json_object_foreach(obj, k, m) {
		bool ok = false;
		for (size_t i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(allowed[i], k) == 0;
		if (!ok)
			return http_error(c, 422, "unknown_field", k,
					  "unknown field");
	}
	return 0;
}

int http_json_string(struct http_ctx *c, json_t *obj, const char *name,
		     bool required, size_t maxlen, const char **out)
{
	json_t *v = json_object_get(obj, name);
	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		return http_error(c, 422, "missing_field", name,
				  "%s is required", name);
	}
	if (!json_is_string(v))
		return http_error(c, 422, "wrong_type", name,
				  "%s must be a string", name);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n > maxlen)
		return http_error(c, 422, "invalid_value", name,
				  "%s is longer than %zu bytes", name, maxlen);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return http_error(c, 422, "invalid_value", name,
					  "%s holds a control character", name);
	*out = s;
	return 1;
}
