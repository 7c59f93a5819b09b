/* html_entity.c - character references: numeric ones in full (the usual
 * way to spell words past a filter) and the named ones mail uses. */
#include "filter/html_private.h"

#include <string.h>

static const struct {
	const char *name;
	uint32_t cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", 0xa0 }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "trade", 0x2122 }, { "euro", 0x20ac }, { "pound", 0xa3 },
	{ "yen", 0xa5 }, { "cent", 0xa2 }, { "hellip", 0x2026 },
	{ "mdash", 0x2014 }, { "ndash", 0x2013 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "ldquo", 0x201c }, { "rdquo", 0x201d },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "bull", 0x2022 },
	{ "middot", 0xb7 }, { "shy", 0xad }, { "zwnj", 0x200c },
	{ "zwj", 0x200d }, { "thinsp", 0x2009 }, { "ensp", 0x2002 },
	{ "emsp", 0x2003 }, { "times", 0xd7 }, { "deg", 0xb0 },
	{ "eacute", 0xe9 }, { "egrave", 0xe8 }, { "agrave", 0xe0 },
	{ "aacute", 0xe1 }, { "ccedil", 0xe7 }, { "uuml", 0xfc },
	{ "ouml", 0xf6 }, { "auml", 0xe4 }, { "szlig", 0xdf },
	{ "ntilde", 0xf1 }, { "iacute", 0xed }, { "oacute", 0xf3 },
	{ "uacute", 0xfa },
};

static size_t numeric(const unsigned char *p, size_t len, uint32_t *cp)
{
	size_t i = 2;
	bool hex = false;
	uint32_t v = 0;
	size_t digits = 0;

	if (i < len && (p[i] == 'x' || p[i] == 'X')) {
		hex = true;
		i++;
	}
	for (; i < len; i++) {
		unsigned d;
		unsigned char c = p[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (v <= 0x10ffff)	/* stays invalid once past the range */
			v = v * (hex ? 16 : 10) + d;
		digits++;
	}
	if (digits == 0)
		return 0;
	if (i < len && p[i] == ';')
		i++;
	/* as browsers do: NUL, surrogates and out of range become U+FFFD */
	if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		v = 0xfffd;
	*cp = v;
	return i;
}

size_t html_entity(const unsigned char *p, size_t len, uint32_t *cp)
{
	if (len < 3)
		return 0;
	if (p[1] == '#')
		return numeric(p, len, cp);
	size_t n = 0;
	while (1 + n < len && n < 8 &&
	       ((p[1 + n] >= 'a' && p[1 + n] <= 'z') ||
		(p[1 + n] >= 'A' && p[1 + n] <= 'Z')))
		n++;
	if (n == 0)
		return 0;
	/* names are case-sensitive; the whole run of letters must be a
	 * name (no prefix matches: "&copyright" stays text) */
	for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++) {
		if (strlen(entities[i].name) != n ||
		    memcmp(p + 1, entities[i].name, n) != 0)
			continue;
		*cp = entities[i].cp;
		size_t used = 1 + n;
		if (used < len && p[used] == ';')
			used++;
		return used;
	}
	return 0;
}
