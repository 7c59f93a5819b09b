/* ar.c - writing and stripping Authentication-Results (RFC 8601). */
#include "msgauth/ar.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/fieldstrip.h"

/* RFC 2045 token characters: anything printable but tspecials and space */
static bool ar_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?=", *s) != NULL)
			return false;
	return true;
}

struct ar_out {
	char b[AR_MAX];
	size_t n, col;
	bool full;
};

static void put(struct ar_out *o, const char *s, size_t len)
{
	if (o->full || len > sizeof o->b - o->n - 3) {
		o->full = true;
		return;
	}
	memcpy(o->b + o->n, s, len);
	o->n += len;
	o->col += len;
}

/* One unit (" method=result", " reason=...", " prop"), folded before it
 * when the line would pass 78 columns. */
static void unit(struct ar_out *o, const char *s, size_t len)
{
	if (o->col + 1 + len > 78 && o->col > 8) {
		put(o, "\r\n\t", 3);
		o->col = 8;
	} else {
		put(o, " ", 1);
	}
	put(o, s, len);
}

/* value, quoted (with \ before " and \) unless it is a token */
static size_t value(char *dst, size_t cap, const char *v, bool dot_ok)
{
	size_t n = 0;
	bool plain = ar_token(v) || (dot_ok && *v != '\0' &&
				    strspn(v, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789.-_@+") == strlen(v));
	if (plain) {
		n = strlen(v);
		if (n >= cap)
			n = cap - 1;
		memcpy(dst, v, n);
		return n;
	}
	dst[n++] = '"';
	for (; *v && n + 3 < cap; v++) {
		unsigned char c = (unsigned char)*v;
		if (c < ' ' || c == 0x7f)
			c = '?';
		if (c == '"' || c == '\\')
			dst[n++] = '\\';
		dst[n++] = (char)c;
	}
	dst[n++] = '"';
	return n;
}

int ar_format(struct buf *out, const char *authserv_id,
	      const struct ar_result *r, size_t n)
{
	struct ar_out o = { .n = 0 };
	char u[600];
	put(&o, "Authentication-Results: ", 24);
	size_t ul = value(u, sizeof u, authserv_id, true);
	put(&o, u, ul);
	put(&o, ";", 1);
	if (n == 0)
		unit(&o, "none", 4);
	for (size_t i = 0; i < n && !o.full; i++) {
		size_t before = o.n, col = o.col;
		if (i > 0)
			put(&o, ";", 1);
		ul = (size_t)snprintf(u, sizeof u, "%s=%s", r[i].method,
				      r[i].result);
		unit(&o, u, ul < sizeof u ? ul : sizeof u - 1);
		if (r[i].comment != NULL) {
			/* a comment may hold no unbalanced parentheses or
			 * controls: anything else becomes '?' */
			ul = 0;
			u[ul++] = '(';
			for (const char *c = r[i].comment; *c && ul + 2 < sizeof u; c++)
				u[ul++] = (*c == '(' || *c == ')' || *c == '\\' ||
					   (unsigned char)*c < ' ' || *c == 0x7f) ?
					  '?' : *c;
			u[ul++] = ')';
			unit(&o, u, ul);
		}
		if (r[i].reason != NULL) {
			memcpy(u, "reason=", 7);
			ul = 7 + value(u + 7, sizeof u - 7, r[i].reason, false);
			unit(&o, u, ul);
		}
		for (size_t k = 0; k < r[i].nprops && k < AR_PROPS_MAX; k++) {
			const char *p = r[i].props[k], *eq = strchr(p, '=');
			if (eq == NULL || (size_t)(eq - p) + 2 > sizeof u)
				continue;
			ul = (size_t)(eq - p) + 1;
			memcpy(u, p, ul);
			ul += value(u + ul, sizeof u - ul, eq + 1, true);
			unit(&o, u, ul);
		}
		if (o.full) {	/* leave this result out, keep the rest valid */
			o.n = before;
			o.col = col;
		}
	}
	o.full = false;
	put(&o, "\r\n", 2);
	return buf_append(out, o.b, o.n) == 0 ? 0 : -1;
}

/* The authserv-id of an Authentication-Results value (after the colon):
 * CFWS, then a value (token or quoted-string), into id. false if none. */
static bool authserv_id(const unsigned char *p, size_t len, char *id, size_t cap)
{
	size_t i = 0, n = 0;
	for (;;) {
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
				   p[i] == '\n'))
			i++;
		if (i < len && p[i] == '(') {	/* a comment, nested */
			int depth = 0;
			for (; i < len; i++) {
				if (p[i] == '\\') {
					i++;
					continue;
				}
				if (p[i] == '(')
					depth++;
				else if (p[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
			continue;
		}
		break;
	}
	if (i < len && p[i] == '"') {
		for (i++; i < len && p[i] != '"'; i++) {
			if (p[i] == '\\' && i + 1 < len)
				i++;
			if (n + 1 >= cap)
				return false;
			id[n++] = (char)p[i];
		}
	} else {
		for (; i < len && p[i] > ' ' && p[i] < 0x7f && p[i] != ';' &&
		       p[i] != '(' ; i++) {
			if (n + 1 >= cap)
				return false;
			id[n++] = (char)p[i];
		}
	}
	id[n] = '\0';
	return n > 0;
}

/* An Authentication-Results field that names want. */
static bool ar_ours(const unsigned char *name, size_t nlen,
		    const unsigned char *value, size_t vlen, void *ctx)
{
	static const char ar[] = "authentication-results";
	const char *want = ctx;
	char id[256];
	return nlen == sizeof ar - 1 &&
	       strncasecmp((const char *)name, ar, nlen) == 0 &&
	       authserv_id(value, vlen, id, sizeof id) &&
	       strcasecmp(id, want) == 0;
}

size_t ar_strip(unsigned char *msg, size_t *len, size_t start,
		const char *want)
{
	return field_strip(msg, len, start, ar_ours, (void *)(uintptr_t)want);
}
