/* dkim_canon.c - RFC 6376 3.4 canonicalisation of header fields and the
 * body ("simple" and "relaxed"), the b= removal of 3.7 and the header
 * hash of 5.4.2, shared by DKIM verification, signing and ARC. Bare LF
 * line ends are written as CRLF (dkim.h). */
#include "msgauth/dkim_private.h"

#include <ctype.h>
#include <stdlib.h>

#include "core/xmalloc.h"

static void md_put(void *arg, const void *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(arg, p, n) != 1)
		abort();	/* a digest update only fails on a broken context */
}

void dkim_sink_md(struct dkim_sink *s, EVP_MD_CTX *ctx)
{
	s->put = md_put;
	s->arg = ctx;
}

const char *dkim_canon_str(enum dkim_canon c)
{
	return c == DKIM_CANON_SIMPLE ? "simple" : "relaxed";
}

static bool wsp(char c)
{
	return c == ' ' || c == '\t';
}

static void put(const struct dkim_sink *out, const void *p, size_t n)
{
	if (n > 0)
		out->put(out->arg, p, n);
}

/* simple (3.4.1): the field unchanged, bare LF written as CRLF */
static void header_simple(const char *raw, size_t len, const struct dkim_sink *out)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		if (raw[i] != '\n' || (i > 0 && raw[i - 1] == '\r'))
			continue;
		put(out, raw + run, i - run);
		put(out, "\r\n", 2);
		run = i + 1;
	}
	put(out, raw + run, len - run);
}

/* relaxed (3.4.2): name lower-cased, folds removed, WSP runs as one SP,
 * no WSP around the colon or at the end of the value */
static void header_relaxed(const char *raw, size_t len, const struct dkim_sink *out)
{
	const char *colon = memchr(raw, ':', len);
	size_t ne = colon ? (size_t)(colon - raw) : len;
	char lc[64];
	size_t n = 0;

	while (ne > 0 && wsp(raw[ne - 1]))
		ne--;
	for (size_t i = 0; i < ne; i++) {
		lc[n++] = (char)tolower((unsigned char)raw[i]);
		if (n == sizeof lc) {
			put(out, lc, n);
			n = 0;
		}
	}
	put(out, lc, n);
	put(out, ":", 1);
	if (colon == NULL)
		return;
	size_t i = (size_t)(colon - raw) + 1;
	bool started = false, space = false;
	while (i < len) {
		char c = raw[i];
		if (c == '\n' || (c == '\r' && i + 1 < len && raw[i + 1] == '\n')) {
			i++;
			continue;
		}
		if (wsp(c)) {
			space = true;
			i++;
			continue;
		}
		size_t s = i;
		while (i < len && !wsp(raw[i]) && raw[i] != '\n' &&
		       !(raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n'))
			i++;
		if (space && started)
			put(out, " ", 1);
		put(out, raw + s, i - s);
		started = true;
		space = false;
	}
}

void dkim_canon_header(enum dkim_canon c, const char *raw, size_t len, bool crlf,
		       const struct dkim_sink *out)
{
	if (c == DKIM_CANON_SIMPLE)
		header_simple(raw, len, out);
	else
		header_relaxed(raw, len, out);
	if (crlf)
		put(out, "\r\n", 2);
}

/* The body's canonical form goes through a counter that cuts it at l=. */
struct body_out {
	const struct dkim_sink *out;
	uint64_t left, total;
};

static void bput(struct body_out *b, const char *p, size_t n)
{
	b->total += n;
	if (b->left == 0)
		return;
	size_t w = (uint64_t)n < b->left ? n : (size_t)b->left;
	put(b->out, p, w);
	b->left -= w;
}

static void body_line_relaxed(struct body_out *b, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t s = i;
		while (i < n && !wsp(p[i]))
			i++;
		bput(b, p + s, i - s);
		size_t w = i;
		while (i < n && wsp(p[i]))
			i++;
		if (i > w && i < n)
			bput(b, " ", 1);
	}
}

static bool blank(enum dkim_canon c, const char *p, size_t n)
{
	if (c == DKIM_CANON_SIMPLE)
		return n == 0;
	for (size_t i = 0; i < n; i++)
		if (!wsp(p[i]))
			return false;
	return true;
}

/* 3.4.3 and 3.4.4: empty lines at the end are dropped, a last line
 * without its line end gets one; an empty body is CRLF in simple and
 * nothing in relaxed. Empty lines are counted and written only when a
 * line with content follows. */
uint64_t dkim_canon_body(enum dkim_canon c, const char *body, size_t len,
			 uint64_t limit, const struct dkim_sink *out)
{
	struct body_out b = { out, limit, 0 };
	const char *p = body, *end = body + len;
	uint64_t empties = 0;
	bool any = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ce = nl ? nl : end;
		if (nl != NULL && ce > p && ce[-1] == '\r')
			ce--;
		size_t n = (size_t)(ce - p);
		if (blank(c, p, n)) {
			empties++;
		} else {
			for (; empties > 0; empties--)
				bput(&b, "\r\n", 2);
			if (c == DKIM_CANON_SIMPLE)
				bput(&b, p, n);
			else
				body_line_relaxed(&b, p, n);
			bput(&b, "\r\n", 2);
			any = true;
		}
		p = nl ? nl + 1 : end;
	}
	if (!any && c == DKIM_CANON_SIMPLE)
		bput(&b, "\r\n", 2);
	return b.total;
}

static bool ws_any(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t dkim_strip_b(const char *field, size_t len, char *out)
{
	const char *colon = memchr(field, ':', len);
	size_t i = colon ? (size_t)(colon - field) + 1 : len;

	while (i < len) {
		size_t s = i;
		while (i < len && field[i] != ';')
			i++;
		const char *eq = memchr(field + s, '=', i - s);
		if (eq != NULL) {
			size_t nb = s, ne = (size_t)(eq - field);
			while (nb < ne && ws_any(field[nb]))
				nb++;
			while (ne > nb && ws_any(field[ne - 1]))
				ne--;
			if (ne - nb == 1 && field[nb] == 'b') {
				size_t keep = (size_t)(eq - field) + 1;
				memcpy(out, field, keep);
				memcpy(out + keep, field + i, len - i);
				return keep + len - i;
			}
		}
		i++;
	}
	memcpy(out, field, len);
	return len;
}

void dkim_hash_headers(const struct dkim_msg *m, enum dkim_canon c,
		       const struct span *names, size_t n, const char *sigfield,
		       size_t siglen, EVP_MD_CTX *ctx)
{
	struct dkim_sink sink;
	bool *used = xcalloc(m->n ? m->n : 1, sizeof *used);

	dkim_sink_md(&sink, ctx);
	for (size_t k = 0; k < n; k++) {
		for (size_t j = m->n; j-- > 0;) {
			if (used[j] || !dkim_field_is(&m->f[j], (const char *)names[k].p,
						      names[k].len))
				continue;
			used[j] = true;
			dkim_canon_header(c, m->f[j].raw, m->f[j].raw_len, true, &sink);
			break;
		}
	}
	free(used);
	dkim_canon_header(c, sigfield, siglen, false, &sink);
}
