/* url_extract.c - URL lists: finding URLs in text and HTML, and keeping
 * the distinct ones within the bounds of url.h. */
#include "filter/url.h"

#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/xmalloc.h"
#include "filter/chars.h"

void filter_urls_init(struct filter_urls *l)
{
	memset(l, 0, sizeof *l);
}

void filter_urls_free(struct filter_urls *l)
{
	for (size_t i = 0; i < l->n; i++)
		filter_url_clear(&l->v[i]);
	free(l->v);
	free(l->hash);
	memset(l, 0, sizeof *l);
}

void filter_urls_add(struct filter_urls *l, struct span raw, unsigned flags)
{
	struct filter_url u;

	l->seen++;
	if (l->n >= FILTER_URLS_MAX || l->work >= FILTER_URLS_MAX_WORK) {
		l->dropped++;
		return;
	}
	l->work++;
	if (filter_url_normalise(raw, &u) < 0)
		return;
	u.flags |= flags;
	uint64_t h = filter_fnv64(u.url, strlen(u.url));
	for (size_t i = 0; i < l->n; i++)
		if (l->hash[i] == h && strcmp(l->v[i].url, u.url) == 0) {
			l->v[i].flags |= u.flags;
			filter_url_clear(&u);
			return;
		}
	if ((l->n & (l->n - 1)) == 0) {
		l->v = xreallocarray(l->v, l->n ? l->n * 2 : 1, sizeof l->v[0]);
		l->hash = xreallocarray(l->hash, l->n ? l->n * 2 : 1,
					sizeof l->hash[0]);
	}
	l->hash[l->n] = h;
	l->v[l->n++] = u;
}

/* What may not come right before a URL's start. Not non-ASCII: CJK
 * writing runs text into a URL without a space. */
static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	       c == '/' || c == '@';
}

/* Where a URL starting at t[i] ends: at white space, controls, quotes
 * and angle brackets; after the host also at non-ASCII (text around a
 * URL runs on without a space in CJK writing). Trailing punctuation that
 * ends a sentence is not part of it. */
static size_t url_end(struct span t, size_t i, size_t skip)
{
	size_t e = i + skip;
	bool in_host = true;
	size_t open = 0, close = 0;

	while (e < t.len) {
		unsigned char c = t.p[e];
		if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' ||
		    c == '>' || c == '`')
			break;
		if (c == '/' || c == '?' || c == '#')
			in_host = false;
		if (c >= 0x80 && !in_host)
			break;
		if (c == '(')
			open++;
		else if (c == ')')
			close++;
		e++;
	}
	while (e > i + skip) {
		unsigned char c = t.p[e - 1];
		if (c == ')' && close > open)
			close--;
		else if (!strchr(".,;:!?]}*", c))
			break;
		e--;
	}
	return e;
}

void filter_urls_from_text(struct filter_urls *l, struct span t)
{
	size_t i = 0;

	while (i < t.len) {
		unsigned char c = t.p[i] | 0x20;
		if ((c != 'h' && c != 'w') ||
		    (i > 0 && word_char(t.p[i - 1]))) {
			i++;
			continue;
		}
		struct span rest = span_make(t.p + i, t.len - i);
		size_t skip = 0;
		if (span_prefix_ci(rest, "http://"))
			skip = 7;
		else if (span_prefix_ci(rest, "https://"))
			skip = 8;
		else if (span_prefix_ci(rest, "www."))
			skip = 4;
		size_t e = skip ? url_end(t, i, skip) : i;
		if (e > i + skip) {
			filter_urls_add(l, span_make(t.p + i, e - i), 0);
			i = e;
		} else {
			i++;
		}
	}
}

void filter_urls_from_html(struct filter_urls *l, const struct filter_html *h)
{
	for (size_t i = 0; i < h->nlinks; i++)
		filter_urls_add(l, span_cstr(h->links[i].url), FILTER_URL_HTML);
	l->seen += h->links_dropped;
	l->dropped += h->links_dropped;
	filter_urls_from_text(l, buf_span(&h->text));
}
