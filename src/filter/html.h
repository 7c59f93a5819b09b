/* html.h - HTML reduced to text for the spam filter, with the tricks that
 * hide text from the reader noted as signals, and the links kept.
 * Not a conforming HTML parser: a single bounded pass that reads tags,
 * attributes, comments and entities the way mail clients render them well
 * enough for classification. Text a reader cannot see (display:none,
 * visibility:hidden, the hidden attribute, font sizes under 3px/pt or
 * <font size=0|1>, text in its own background colour, white text on the
 * default white page) goes to `hidden`, not to `text`, so that
 * poisoning words do not reach the classifier as visible words.
 * Bounds (core/limits.h FILTER_HTML_*): input read, text kept, nesting
 * tracked, links kept, attribute and link-text lengths. Never fails; any
 * cut sets FILTER_HTML_TRUNCATED. Thread-safe on distinct objects. */
#ifndef PETREL_FILTER_HTML_H
#define PETREL_FILTER_HTML_H

#include <stddef.h>

#include "core/buf.h"
#include "core/span.h"

enum filter_html_flags {
	FILTER_HTML_HIDDEN = 1u << 0,	/* display:none, visibility:hidden */
	FILTER_HTML_TINY = 1u << 1,	/* text in a tiny font */
	FILTER_HTML_SAMECOLOR = 1u << 2,	/* text colour = background */
	FILTER_HTML_TRUNCATED = 1u << 3,	/* a bound cut something */
	FILTER_HTML_DEEP = 1u << 4,	/* nesting beyond the tracked depth */
};

enum filter_link_kind {
	FILTER_LINK_HREF = 0,	/* <a href> (and <area href>) */
	FILTER_LINK_SRC,	/* src of img, iframe, script, ... */
};

/* One link. url is the attribute value with entities decoded, white
 * space trimmed and control characters dropped (as browsers do; a NUL
 * written as &#0; is U+FFFD). text is the visible
 * text inside the <a> element, white space collapsed, "" for src: it is
 * what "the link text shows one domain, the href another" compares. */
struct filter_html_link {
	enum filter_link_kind kind;
	char *url;
	char *text;
};

struct filter_html {
	struct buf text;	/* visible text, UTF-8 as given; block
				 * elements end lines, white space collapsed */
	struct buf hidden;	/* text a reader does not see */
	unsigned flags;		/* enum filter_html_flags */
	/* octets of text (white space not counted) found invisible, by
	 * reason (one reason each: the first of hidden, tiny, same colour) */
	size_t hidden_bytes, tiny_bytes, samecolor_bytes;
	struct filter_html_link *links;
	size_t nlinks;
	size_t links_dropped;	/* beyond FILTER_HTML_MAX_LINKS */
};

/* Read html (any bytes; a charset is not converted: give UTF-8) into
 * *out, which the call initialises. Free with filter_html_free(). */
void filter_html_parse(struct span html, struct filter_html *out);
void filter_html_free(struct filter_html *h);

#endif
