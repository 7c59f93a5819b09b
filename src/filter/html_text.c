/* html_text.c - the one pass over HTML behind filter_html_parse(): text
 * runs with entities decoded go to the visible or the hidden buffer
 * according to the style of the innermost tracked element; tags update a
 * bounded stack of styles and collect links. See html.h. */
#include "filter/html.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/xmalloc.h"
#include "filter/html_private.h"
#include "filter/chars.h"

#define TAG_MAX 12

enum sink { SINK_VISIBLE, SINK_HIDDEN, SINK_TINY, SINK_SAME };

struct elem {
	char tag[TAG_MAX];
	struct html_style st;
};

struct reader {
	struct filter_html *h;
	const unsigned char *p;
	size_t len;
	struct elem stack[FILTER_HTML_MAX_DEPTH];
	size_t depth;
	/* pending separator (0, ' ' or '\n') of each buffer and link text */
	unsigned char pend_text, pend_hidden, pend_link;
	bool in_link;			/* an <a href> kept is open ... */
	size_t link_index;		/* ... and its index in links */
	unsigned char link_text[FILTER_HTML_MAX_LINK_TEXT];
	size_t link_len;
};

/* The attributes a tag may carry that matter here (spans into input). */
struct attrs {
	struct span style, color, bgcolor, size, href, src;
	bool hidden;
};

static const char *const block_tags[] = {
	"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3",
	"h4", "h5", "h6", "blockquote", "hr", "title", "pre", "dt", "dd",
	"section", "article", "header", "footer", "center", "form", "td",
	"th", "address", "dl", "tbody", "thead", "body", "html", "head",
};
static const char *const void_tags[] = {
	"br", "hr", "img", "meta", "link", "input", "area", "base", "col",
	"embed", "source", "wbr", "param", "track", "frame", "keygen",
};
/* An open one of these is closed by the next of the same name. */
static const char *const self_closing[] = {
	"p", "li", "td", "th", "tr", "option", "dt", "dd",
};

static bool in_list(const char *tag, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)	/* the first letter first: cheap */
		if (list[i][0] == tag[0] && strcmp(tag, list[i]) == 0)
			return true;
	return false;
}
#define IN(tag, list) in_list(tag, list, sizeof list / sizeof list[0])

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static struct html_style current(const struct reader *r)
{
	struct html_style none = { false, false, HTML_COLOR_UNSET,
				   HTML_COLOR_UNSET };

	return r->depth > 0 ? r->stack[r->depth - 1].st : none;
}

static enum sink classify(struct html_style st)
{
	if (st.hidden)
		return SINK_HIDDEN;
	if (st.tiny)
		return SINK_TINY;
	/* no background given: the page is white in every mail client */
	int32_t bg = st.bg != HTML_COLOR_UNSET ? st.bg : 0xffffff;
	if (st.fg != HTML_COLOR_UNSET && st.fg == bg)
		return SINK_SAME;
	return SINK_VISIBLE;
}

static void append(struct reader *r, struct buf *b, unsigned char *pend,
		   const unsigned char *s, size_t n)
{
	if (*pend != 0 && b->len > 0 && buf_append(b, pend, 1) < 0)
		r->h->flags |= FILTER_HTML_TRUNCATED;
	*pend = 0;
	if (buf_append(b, s, n) < 0)
		r->h->flags |= FILTER_HTML_TRUNCATED;
}

static void link_append(struct reader *r, const unsigned char *s, size_t n)
{
	size_t room = sizeof r->link_text - r->link_len;

	if (r->pend_link != 0 && r->link_len > 0 && room > 0) {
		r->link_text[r->link_len++] = ' ';
		room--;
	}
	r->pend_link = 0;
	if (n > room)
		n = room;
	memcpy(r->link_text + r->link_len, s, n);
	r->link_len += n;
}

static void out_chars(struct reader *r, enum sink sink,
		      const unsigned char *s, size_t n)
{
	struct filter_html *h = r->h;

	switch (sink) {
	case SINK_VISIBLE:
		append(r, &h->text, &r->pend_text, s, n);
		if (r->in_link)
			link_append(r, s, n);
		return;
	case SINK_HIDDEN:
		h->flags |= FILTER_HTML_HIDDEN;
		h->hidden_bytes += n;
		break;
	case SINK_TINY:
		h->flags |= FILTER_HTML_TINY;
		h->tiny_bytes += n;
		break;
	case SINK_SAME:
		h->flags |= FILTER_HTML_SAMECOLOR;
		h->samecolor_bytes += n;
		break;
	}
	append(r, &h->hidden, &r->pend_hidden, s, n);
}

static void out_space(struct reader *r, unsigned char sep)
{
	if (r->pend_text != '\n')
		r->pend_text = sep;
	if (r->pend_hidden != '\n')
		r->pend_hidden = sep;
	r->pend_link = ' ';
}

static void text_run(struct reader *r, const unsigned char *s, size_t n)
{
	enum sink sink = classify(current(r));
	size_t k = 0;

	while (k < n) {
		unsigned char c = s[k];
		if (c == '&') {
			uint32_t cp;
			size_t used = html_entity(s + k, n - k, &cp);
			if (used > 0) {
				unsigned char u[4];
				if (cp == 0xa0 || cp == ' ')
					out_space(r, ' ');
				else
					out_chars(r, sink, u,
						  filter_utf8_put(cp, u));
				k += used;
				continue;
			}
		}
		if (is_space(c)) {
			out_space(r, ' ');
			k++;
			continue;
		}
		if (c == 0xc2 && k + 1 < n && s[k + 1] == 0xa0) {
			out_space(r, ' ');
			k += 2;
			continue;
		}
		if (c == 0) {
			out_chars(r, sink, (const unsigned char *)"\xef\xbf\xbd",
				  3);
			k++;
			continue;
		}
		size_t e = k + 1;
		while (e < n && s[e] != '&' && !is_space(s[e]) &&
		       s[e] != 0xc2 && s[e] != 0)
			e++;
		out_chars(r, sink, s + k, e - k);
		k = e;
	}
}

/* The attribute value with entities decoded, white space and controls
 * dropped (browsers strip tabs and line breaks from URLs), bounded. */
static char *url_value(struct reader *r, struct span v)
{
	char *out = xmalloc(FILTER_HTML_MAX_ATTR + 1);
	size_t n = 0;

	for (size_t k = 0; k < v.len;) {
		unsigned char u[4];
		size_t ul = 1, used = 1;
		uint32_t cp;
		u[0] = v.p[k];
		if (v.p[k] == '&' &&
		    (used = html_entity(v.p + k, v.len - k, &cp)) > 0) {
			ul = filter_utf8_put(cp, u);
		} else {
			used = 1;
			if (v.p[k] < 0x20 || v.p[k] == 0x7f) {
				k++;
				continue;
			}
		}
		k += used;
		if (u[0] == ' ' && n == 0)
			continue;
		if (n + ul > FILTER_HTML_MAX_ATTR) {
			r->h->flags |= FILTER_HTML_TRUNCATED;
			break;
		}
		memcpy(out + n, u, ul);
		n += ul;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return out;
}

static bool add_link(struct reader *r, enum filter_link_kind kind,
		     struct span v)
{
	struct filter_html *h = r->h;

	if (h->nlinks >= FILTER_HTML_MAX_LINKS) {
		h->links_dropped++;
		return false;
	}
	if ((h->nlinks & (h->nlinks - 1)) == 0)	/* 0, 1, 2, 4, ...: grow */
		h->links = xreallocarray(h->links, h->nlinks ? h->nlinks * 2 : 1,
					 sizeof h->links[0]);
	struct filter_html_link *l = &h->links[h->nlinks++];
	l->kind = kind;
	l->url = url_value(r, v);
	l->text = xstrdup("");
	return true;
}

static void close_link(struct reader *r)
{
	if (!r->in_link)
		return;
	struct filter_html_link *l = &r->h->links[r->link_index];
	free(l->text);
	l->text = xstrndup((const char *)r->link_text, r->link_len);
	r->in_link = false;
	r->link_len = 0;
}

static void block_break(struct reader *r)
{
	r->pend_text = '\n';
	r->pend_hidden = '\n';
	r->pend_link = ' ';
}

/* Skip the raw text of script or style: to the matching end tag. */
static size_t skip_raw(const struct reader *r, size_t j, const char *tag)
{
	size_t tl = strlen(tag);

	while (j < r->len) {
		const unsigned char *lt = memchr(r->p + j, '<', r->len - j);
		if (lt == NULL)
			return r->len;
		j = (size_t)(lt - r->p) + 1;
		if (j + tl >= r->len || r->p[j] != '/')
			continue;
		size_t k = 0;
		while (k < tl &&
		       filter_lower(r->p[j + 1 + k]) == (unsigned char)tag[k])
			k++;
		if (k == tl)
			return j - 1;	/* the end tag is read as a tag */
	}
	return r->len;
}

static void start_tag(struct reader *r, const char *tag, const struct attrs *a,
		      bool self_close)
{
	struct html_style st = current(r);

	if (strcmp(tag, "a") == 0 || strcmp(tag, "area") == 0) {
		close_link(r);
		if (a->href.p != NULL && add_link(r, FILTER_LINK_HREF, a->href)) {
			r->in_link = tag[0] == 'a' && tag[1] == '\0';
			r->link_index = r->h->nlinks - 1;
		}
	}
	if (a->src.p != NULL)
		add_link(r, FILTER_LINK_SRC, a->src);
	if (IN(tag, block_tags))
		block_break(r);
	else if (strcmp(tag, "img") == 0)
		out_space(r, ' ');
	if (self_close || IN(tag, void_tags))
		return;
	if (r->depth > 0 && IN(tag, self_closing) &&
	    strcmp(r->stack[r->depth - 1].tag, tag) == 0) {
		r->depth--;
		st = current(r);
	}
	if (a->hidden)
		st.hidden = true;
	if (a->style.p != NULL)
		html_style_css(&st, a->style.p,
			       a->style.len < FILTER_HTML_MAX_ATTR ?
			       a->style.len : FILTER_HTML_MAX_ATTR);
	if (strcmp(tag, "font") == 0) {
		if (a->color.p != NULL) {
			int32_t c = html_color_parse(a->color.p, a->color.len);
			if (c != HTML_COLOR_UNSET)
				st.fg = c;
		}
		if (a->size.p != NULL &&
		    html_font_size_tiny(a->size.p, a->size.len))
			st.tiny = true;
	}
	if (a->bgcolor.p != NULL) {
		int32_t c = html_color_parse(a->bgcolor.p, a->bgcolor.len);
		if (c != HTML_COLOR_UNSET)
			st.bg = c;
	}
	if (r->depth >= FILTER_HTML_MAX_DEPTH) {
		r->h->flags |= FILTER_HTML_DEEP;
		return;
	}
	struct elem *e = &r->stack[r->depth++];
	memcpy(e->tag, tag, TAG_MAX);
	e->st = st;
}

static void end_tag(struct reader *r, const char *tag)
{
	if (strcmp(tag, "a") == 0)
		close_link(r);
	if (IN(tag, block_tags))
		block_break(r);
	for (size_t d = r->depth; d > 0; d--)
		if (strcmp(r->stack[d - 1].tag, tag) == 0) {
			r->depth = d - 1;
			return;
		}
}

static void set_attr(struct attrs *a, const char *name, struct span v)
{
	if (strcmp(name, "style") == 0)
		a->style = v;
	else if (strcmp(name, "color") == 0)
		a->color = v;
	else if (strcmp(name, "bgcolor") == 0)
		a->bgcolor = v;
	else if (strcmp(name, "size") == 0)
		a->size = v;
	else if (strcmp(name, "href") == 0)
		a->href = v;
	else if (strcmp(name, "src") == 0)
		a->src = v;
	else if (strcmp(name, "hidden") == 0)
		a->hidden = true;
}

/* A name (tag or attribute) lower-cased into out[TAG_MAX]; longer names
 * keep their start, which never equals a name this file knows. */
static size_t read_name(const struct reader *r, size_t j, char *out)
{
	size_t n = 0;

	while (j < r->len && !is_space(r->p[j]) && r->p[j] != '>' &&
	       r->p[j] != '/' && r->p[j] != '=') {
		if (n + 1 < TAG_MAX)
			out[n++] = (char)filter_lower(r->p[j]);
		else
			out[TAG_MAX - 2] = '~';
		j++;
	}
	out[n] = '\0';
	return j;
}

/* The tag at p[i] == '<'; where reading goes on. */
static size_t tag(struct reader *r, size_t i)
{
	const unsigned char *p = r->p;
	size_t len = r->len, j = i + 1;

	if (len - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
		const unsigned char *e = memmem(p + i + 4, len - i - 4, "-->", 3);
		return e ? (size_t)(e - p) + 3 : len;
	}
	bool end = j < len && p[j] == '/';
	if (j < len && (p[j] == '!' || p[j] == '?' || (end && (j + 1 >= len ||
					!is_alpha(p[j + 1]))))) {
		const unsigned char *e = memchr(p + j, '>', len - j);
		return e ? (size_t)(e - p) + 1 : len;
	}
	if (end)
		j++;
	if (j >= len || !is_alpha(p[j])) {
		text_run(r, p + i, 1);	/* a lone '<' is text */
		return i + 1;
	}
	char name[TAG_MAX];
	j = read_name(r, j, name);
	struct attrs a;
	memset(&a, 0, sizeof a);
	bool self_close = false;
	while (j < len) {
		while (j < len && (is_space(p[j]) || p[j] == '/'))
			self_close = p[j++] == '/';
		if (j >= len || p[j] == '>')
			break;
		char an[TAG_MAX];
		size_t s = j;
		j = read_name(r, j, an);
		if (j == s) {	/* a stray '=': skip it */
			j++;
			continue;
		}
		self_close = false;
		while (j < len && is_space(p[j]))
			j++;
		struct span v = span_make(p + j, 0);
		if (j < len && p[j] == '=') {
			j++;
			while (j < len && is_space(p[j]))
				j++;
			if (j < len && (p[j] == '"' || p[j] == '\'')) {
				const unsigned char *q = memchr(p + j + 1, p[j],
								len - j - 1);
				size_t e = q ? (size_t)(q - p) : len;
				v = span_make(p + j + 1, e - j - 1);
				j = q ? e + 1 : len;
			} else {
				size_t vs = j;
				while (j < len && !is_space(p[j]) && p[j] != '>')
					j++;
				v = span_make(p + vs, j - vs);
			}
		}
		set_attr(&a, an, v);
	}
	if (j < len)
		j++;	/* '>' */
	if (end) {
		end_tag(r, name);
		return j;
	}
	start_tag(r, name, &a, self_close);
	if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0) {
		if (!self_close && r->depth > 0 &&
		    strcmp(r->stack[r->depth - 1].tag, name) == 0)
			r->depth--;
		return skip_raw(r, j, name);
	}
	return j;
}

void filter_html_parse(struct span html, struct filter_html *out)
{
	struct reader *r = xcalloc(1, sizeof *r);

	memset(out, 0, sizeof *out);
	buf_init(&out->text, FILTER_HTML_MAX_TEXT);
	buf_init(&out->hidden, FILTER_HTML_MAX_TEXT);
	r->h = out;
	r->p = html.p;
	r->len = html.len;
	if (r->len > FILTER_HTML_MAX_INPUT) {
		r->len = FILTER_HTML_MAX_INPUT;
		out->flags |= FILTER_HTML_TRUNCATED;
	}
	size_t i = 0;
	while (i < r->len) {
		if (r->p[i] == '<') {
			i = tag(r, i);
			continue;
		}
		const unsigned char *lt = memchr(r->p + i, '<', r->len - i);
		size_t e = lt ? (size_t)(lt - r->p) : r->len;
		text_run(r, r->p + i, e - i);
		i = e;
	}
	close_link(r);
	free(r);
}

void filter_html_free(struct filter_html *h)
{
	for (size_t i = 0; i < h->nlinks; i++) {
		free(h->links[i].url);
		free(h->links[i].text);
	}
	free(h->links);
	buf_release(&h->text);
	buf_release(&h->hidden);
	memset(h, 0, sizeof *h);
}
