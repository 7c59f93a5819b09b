/* http_route.c - the request target and the router: splits
 * "/api/v1/queue/12?limit=5" into decoded segments and parameters (RFC
 * 3986 percent-encoding; '+' is a space in the query, as forms send it),
 * then finds the route in the endpoint tables. No allocation: everything
 * lands in the fixed struct http_target. */
#include <stdio.h>
#include <string.h>

#include "http/http_private.h"

static int hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode p[0..n) into t->buf and NUL-terminate: the start, or NULL with
 * *why. in_query: '+' is a space; a decoded '/' is allowed. */
static const char *decode(struct http_target *t, const unsigned char *p,
			  size_t n, bool in_query, const char **why)
{
	/* UNSAFE: buf holds 2 * HTTP_MAX_TARGET + 2 and every part is a
	 * piece of the target (at most HTTP_MAX_TARGET) plus one NUL */
	char *out = t->buf + t->used;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];
		if (ch == '%') {
			int hi = n - i >= 3 ? hexval(p[i + 1]) : -1;
			int lo = n - i >= 3 ? hexval(p[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*why = "bad percent-encoding in the request target";
				return NULL;
			}
			ch = (unsigned char)(hi * 16 + lo);
			i += 2;
			if (ch == 0 || (ch == '/' && !in_query)) {
				*why = "the request target holds an encoded NUL or '/'";
				return NULL;
			}
		} else if (ch == '+' && in_query) {
			ch = ' ';
		} else if (ch <= 0x20 || ch >= 0x7f) {
			*why = "the request target holds a byte that must be encoded";
			return NULL;
		}
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	t->used += o + 1;
	return out;
}

int http_target_parse(struct span target, struct http_target *t,
		      int *status_out, const char **why)
{
	memset(t, 0, sizeof *t);
	*status_out = 400;
	if (target.len > HTTP_MAX_TARGET) {
		*status_out = 414;
		*why = "the request target is too long";
		return -1;
	}
	if (target.len == 0 || target.p[0] != '/') {
		*why = "the request target is not an absolute path";
		return -1;
	}
	const unsigned char *q = memchr(target.p, '?', target.len);
	size_t plen = q ? (size_t)(q - target.p) : target.len;
	/* segments: "/a/b" -> a, b; "/" -> none; "/a/" -> a, "" */
	size_t i = 1;
	while (plen > 1 && i <= plen) {
		const unsigned char *s = target.p + i;
		const unsigned char *e = memchr(s, '/', plen - i);
		size_t n = e ? (size_t)(e - s) : plen - i;
		if (t->nseg == HTTP_MAX_SEGMENTS) {
			*why = "the path has too many segments";
			return -1;
		}
		const char *d = decode(t, s, n, false, why);
		if (d == NULL)
			return -1;
		t->seg[t->nseg++] = d;
		i += n + 1;
		if (e == NULL)
			break;
	}
	if (q == NULL)
		return 0;
	const unsigned char *p = q + 1, *end = target.p + target.len;
	while (p < end) {
		const unsigned char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
		if (n > 0) {
			if (t->nparam == HTTP_MAX_QUERY_PARAMS) {
				*why = "the query has too many parameters";
				return -1;
			}
			const unsigned char *eq = memchr(p, '=', n);
			size_t nl = eq ? (size_t)(eq - p) : n;
			struct http_param *pa = &t->param[t->nparam];
			pa->name = decode(t, p, nl, true, why);
			if (pa->name == NULL)
				return -1;
			pa->value = decode(t, eq ? eq + 1 : p + n,
					   eq ? n - nl - 1 : 0, true, why);
			if (pa->value == NULL)
				return -1;
			for (size_t k = 0; k < t->nparam; k++)
				if (!strcmp(t->param[k].name, pa->name)) {
					*why = "a query parameter is given twice";
					return -1;
				}
			t->nparam++;
		}
		p += n + 1;
	}
	return 0;
}

const char *http_method_name(enum http_method m)
{
	switch (m) {
	case HTTP_M_GET: return "GET";
	case HTTP_M_HEAD: return "HEAD";
	case HTTP_M_POST: return "POST";
	case HTTP_M_PUT: return "PUT";
	case HTTP_M_PATCH: return "PATCH";
	case HTTP_M_DELETE: return "DELETE";
	case HTTP_M_OPTIONS: return "OPTIONS";
	case HTTP_M_OTHER: break;
	}
	return "OTHER";
}

/* Literal segments of pattern if it matches seg[], else -1; captures
 * filled when it matches. */
static int match(const char *pattern, const char *const *seg, size_t nseg,
		 const char **cap, size_t *ncap)
{
	const char *p = pattern;
	size_t k = 0, nc = 0;
	int literal = 0;
	while (*p == '/') {
		p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (k == nseg)
			return -1;
		if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
			if (nc == HTTP_MAX_CAPTURES || seg[k][0] == '\0')
				return -1;
			cap[nc++] = seg[k];
		} else if (strlen(seg[k]) != n || memcmp(seg[k], p, n) != 0) {
			return -1;
		} else {
			literal++;
		}
		k++;
		p += n;
	}
	if (k != nseg)
		return -1;
	*ncap = nc;
	return literal;
}

const struct http_route *http_route_find(const struct http_route_table *t,
					 size_t nt, enum http_method method,
					 const char *const *seg, size_t nseg,
					 const char **captures, size_t *ncap,
					 char *allow, size_t allowsz,
					 int *status_out)
{
	const char *best = NULL;
	int best_lit = -1;
	const char *cap[HTTP_MAX_CAPTURES];
	size_t nc;
	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < t[i].n; j++) {
			const struct http_route *r = &t[i].r[j];
			int lit = match(r->pattern, seg, nseg, cap, &nc);
			if (lit > best_lit) {
				best_lit = lit;
				best = r->pattern;
			}
		}
	if (allowsz > 0)
		allow[0] = '\0';
	if (best == NULL) {
		*status_out = 404;
		return NULL;
	}
	size_t used = 0;
	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < t[i].n; j++) {
			const struct http_route *r = &t[i].r[j];
			if (strcmp(r->pattern, best) != 0)
				continue;
			if (r->method == method) {
				if (match(r->pattern, seg, nseg, captures, ncap) < 0)
					continue;	/* cannot happen: same pattern */
				*status_out = 200;
				return r;
			}
			int n = snprintf(allow + used, allowsz - used, "%s%s",
					 used ? ", " : "",
					 http_method_name(r->method));
			if (n > 0 && (size_t)n < allowsz - used)
				used += (size_t)n;
		}
	*status_out = 405;
	return NULL;
}
