/* html_private.h - pieces of the HTML reader shared between its files. */
#ifndef PETREL_FILTER_HTML_PRIVATE_H
#define PETREL_FILTER_HTML_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTML_COLOR_UNSET (-1)

/* What an element's style makes of the text inside it (inherited). */
struct html_style {
	bool hidden, tiny;
	int32_t fg, bg;		/* 0xRRGGBB or HTML_COLOR_UNSET */
};

/* A colour value: #rgb, #rrggbb, rgb(r,g,b) or a common name;
 * HTML_COLOR_UNSET if not understood. */
int32_t html_color_parse(const unsigned char *p, size_t n);
/* Apply a style="..." declaration list to st (bounded by n). */
void html_style_css(struct html_style *st, const unsigned char *p, size_t n);
/* <font size=...>: true for 0 and 1 and negative sizes below -2. */
bool html_font_size_tiny(const unsigned char *p, size_t n);

/* An entity at p[0] == '&': the octets it takes, with the code point in
 * *cp, or 0 if it is not one (the '&' is then text). */
size_t html_entity(const unsigned char *p, size_t len, uint32_t *cp);

#endif
