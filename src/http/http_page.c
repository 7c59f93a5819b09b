/* http_page.c - query parameters and list pages. Lists are keyset
 * pages: the cursor names the last item of the previous page, so a page
 * stays right while items come and go (an offset would skip or repeat
 * them) and costs the same at any depth. Cursors are opaque to clients;
 * inside they are base64url of big-endian 64-bit keys. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http/http_private.h"

const char *http_param(struct http_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->target.nparam; i++)
		if (!strcmp(c->target.param[i].name, name)) {
			c->target.param[i].used = true;
			return c->target.param[i].value;
		}
	return NULL;
}

int http_params_done(struct http_ctx *c)
{
	for (size_t i = 0; i < c->target.nparam; i++)
		if (!c->target.param[i].used)
			return http_error(c, 400, "unknown_parameter",
					  c->target.param[i].name,
					  "unknown query parameter");
	return 0;
}

int http_param_bool(struct http_ctx *c, const char *name, bool *out)
{
	const char *v = http_param(c, name);
	if (v == NULL)
		return 0;
	if (!strcmp(v, "true"))
		*out = true;
	else if (!strcmp(v, "false"))
		*out = false;
	else
		return http_error(c, 400, "invalid_parameter", name,
				  "%s is true or false", name);
	return 1;
}

void http_cursor_encode(const int64_t *key, size_t nkeys, char *out,
			size_t outsz)
{
	unsigned char raw[16];
	if (nkeys > 2)
		nkeys = 2;
	for (size_t k = 0; k < nkeys; k++)
		for (int b = 0; b < 8; b++)
			raw[k * 8 + (size_t)b] =
				(unsigned char)((uint64_t)key[k] >> (56 - 8 * b));
	sodium_bin2base64(out, outsz, raw, nkeys * 8,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int http_cursor_decode(const char *s, int64_t *key, size_t nkeys)
{
	unsigned char raw[16];
	size_t n = 0;
	const char *end;
	if (nkeys == 0 || nkeys > 2 || strlen(s) > 32 ||
	    sodium_base642bin(raw, sizeof raw, s, strlen(s), NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    *end != '\0' || n != nkeys * 8)
		return -1;
	for (size_t k = 0; k < nkeys; k++) {
		uint64_t v = 0;
		for (int b = 0; b < 8; b++)
			v = v << 8 | raw[k * 8 + (size_t)b];
		key[k] = (int64_t)v;
	}
	return 0;
}

int http_page_begin(struct http_ctx *c, size_t nkeys, struct http_page *p)
{
	memset(p, 0, sizeof *p);
	p->limit = HTTP_LIST_LIMIT_DEFAULT;
	const char *v = http_param(c, "limit");
	if (v != NULL) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
		    n < 1 || n > HTTP_LIST_LIMIT_MAX)
			return http_error(c, 400, "invalid_parameter", "limit",
					  "limit is a number from 1 to %d",
					  HTTP_LIST_LIMIT_MAX);
		p->limit = (size_t)n;
	}
	v = http_param(c, "cursor");
	if (v != NULL) {
		if (http_cursor_decode(v, p->key, nkeys) != 0)
			return http_error(c, 400, "invalid_parameter", "cursor",
					  "cursor is not one this list gave");
		p->has_cursor = true;
	}
	return 0;
}

int http_reply_page(struct http_ctx *c, json_t *items, const char *next)
{
	json_t *root = json_object();
	json_object_set_new(root, "items", items);
	json_object_set_new(root, "next", next ? json_string(next) : json_null());
	return http_reply(c, 200, root);
}
