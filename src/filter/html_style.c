/* html_style.c - the little CSS the filter reads: what hides text
 * (display, visibility, opacity, font-size) and the colours that decide
 * whether text is drawn in its own background colour. Values are read in
 * thousandths as integers, so no floating point meets peer input. */
#include "filter/html_private.h"

#include <string.h>

#include "filter/chars.h"

static const struct {
	const char *name;
	int32_t rgb;
} colors[] = {
	{ "white", 0xffffff }, { "black", 0x000000 }, { "red", 0xff0000 },
	{ "green", 0x008000 }, { "blue", 0x0000ff }, { "yellow", 0xffff00 },
	{ "gray", 0x808080 }, { "grey", 0x808080 }, { "silver", 0xc0c0c0 },
	{ "snow", 0xfffafa }, { "ivory", 0xfffff0 }, { "whitesmoke", 0xf5f5f5 },
	{ "navy", 0x000080 }, { "orange", 0xffa500 }, { "purple", 0x800080 },
};

/* A decimal number in thousandths from p[*i]; -1 if none. Stops at the
 * first other byte; caps large values. */
static long number_milli(const unsigned char *p, size_t n, size_t *i)
{
	long v = 0, frac = 0, scale = 1000;
	size_t start = *i;

	while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
		if (v < 1000000)
			v = v * 10 + (p[*i] - '0');
		(*i)++;
	}
	if (*i < n && p[*i] == '.') {
		(*i)++;
		while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (p[*i] - '0') * scale;
			}
			(*i)++;
		}
	}
	if (*i == start)
		return -1;
	return v * 1000 + frac;
}

int32_t html_color_parse(const unsigned char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return HTML_COLOR_UNSET;
	if (p[0] == '#' && (n == 4 || n == 7)) {
		int32_t v = 0;
		for (size_t i = 1; i < n; i++) {
			int h = filter_hexval(p[i]);
			if (h < 0)
				return HTML_COLOR_UNSET;
			v = v << 4 | h;
			if (n == 4)	/* #abc is #aabbcc */
				v = v << 4 | h;
		}
		return v;
	}
	if (n > 4 && filter_lower(p[0]) == 'r' && filter_lower(p[1]) == 'g' &&
	    filter_lower(p[2]) == 'b') {
		size_t i = 3;
		int32_t v = 0;
		if (i < n && filter_lower(p[i]) == 'a')
			i++;
		if (i >= n || p[i] != '(')
			return HTML_COLOR_UNSET;
		i++;
		for (int k = 0; k < 3; k++) {
			while (i < n && (p[i] == ' ' || p[i] == ','))
				i++;
			long c = number_milli(p, n, &i);
			if (c < 0)
				return HTML_COLOR_UNSET;
			c /= 1000;
			v = v << 8 | (int32_t)(c > 255 ? 255 : c);
		}
		return v;
	}
	for (size_t i = 0; i < sizeof colors / sizeof colors[0]; i++) {
		size_t cl = strlen(colors[i].name);
		if (cl != n)
			continue;
		size_t k = 0;
		while (k < n && filter_lower(p[k]) == colors[i].name[k])
			k++;
		if (k == n)
			return colors[i].rgb;
	}
	return HTML_COLOR_UNSET;
}

/* font-size value: tiny below 3px or 3pt, 0.2em/rem, 20%, or 0. */
static bool size_tiny(const unsigned char *v, size_t n)
{
	size_t i = 0;
	long m = number_milli(v, n, &i);

	if (m < 0)
		return false;
	if (m == 0)
		return true;
	const unsigned char *u = v + i;
	size_t ul = n - i;
	unsigned char u0 = ul >= 1 ? filter_lower(u[0]) : 0;
	unsigned char u1 = ul >= 2 ? filter_lower(u[1]) : 0;
	if (u0 == 'p' && (u1 == 'x' || u1 == 't'))
		return m < 3000;
	if ((u0 == 'e' && u1 == 'm') || (u0 == 'r' && u1 == 'e'))
		return m < 200;
	if (ul >= 1 && u[0] == '%')
		return m < 20000;
	return false;
}

static bool value_is(const unsigned char *v, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	if (n < l)
		return false;
	for (size_t i = 0; i < l; i++)
		if (filter_lower(v[i]) != lit[i])
			return false;
	/* "none !important" and "none;" still count */
	return n == l || v[l] == ' ' || v[l] == '!' || v[l] == '\t';
}

static bool name_is(const unsigned char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	if (n != l)
		return false;
	for (size_t i = 0; i < l; i++)
		if (filter_lower(p[i]) != lit[i])
			return false;
	return true;
}

static void declaration(struct html_style *st, const unsigned char *name,
			size_t nl, const unsigned char *v, size_t vl)
{
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (name_is(name, nl, "display") && value_is(v, vl, "none"))
		st->hidden = true;
	else if (name_is(name, nl, "visibility") &&
		 (value_is(v, vl, "hidden") || value_is(v, vl, "collapse")))
		st->hidden = true;
	else if (name_is(name, nl, "opacity")) {
		size_t i = 0;
		long m = number_milli(v, vl, &i);
		if (m >= 0 && m < 100)
			st->hidden = true;
	} else if (name_is(name, nl, "font-size") && size_tiny(v, vl)) {
		st->tiny = true;
	} else if (name_is(name, nl, "color")) {
		int32_t c = html_color_parse(v, vl);
		if (c != HTML_COLOR_UNSET)
			st->fg = c;
	} else if (name_is(name, nl, "background-color") ||
		   name_is(name, nl, "background")) {
		/* background: the first token that is a colour */
		size_t e = 0;
		while (e < vl && v[e] != ' ')
			e++;
		int32_t c = html_color_parse(v, e);
		if (c != HTML_COLOR_UNSET)
			st->bg = c;
	}
}

void html_style_css(struct html_style *st, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t ns = i;
		while (i < n && p[i] != ':' && p[i] != ';')
			i++;
		size_t ne = i;
		if (i >= n || p[i] == ';') {
			i++;
			continue;
		}
		i++;
		size_t vs = i;
		while (i < n && p[i] != ';')
			i++;
		while (ns < ne && (p[ns] == ' ' || p[ns] == '\t' ||
				   p[ns] == '\n' || p[ns] == '\r'))
			ns++;
		while (ne > ns && (p[ne - 1] == ' ' || p[ne - 1] == '\t'))
			ne--;
		declaration(st, p + ns, ne - ns, p + vs, i - vs);
		i++;
	}
}

bool html_font_size_tiny(const unsigned char *p, size_t n)
{
	while (n > 0 && *p == ' ')
		p++, n--;
	if (n == 0)
		return false;
	if (p[0] == '-')	/* relative to 3: -2 and below is size 1 */
		return n >= 2 && p[1] >= '2' && p[1] <= '9';
	if (p[0] == '+')
		return false;
	return p[0] == '0' || (p[0] == '1' && (n == 1 || p[1] < '0' ||
					       p[1] > '9'));
}
