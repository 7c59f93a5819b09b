/* autoconf_out.c - the bounded text writer the documents are made with,
 * and the escaping every value goes through on its way into XML or
 * HTML (addresses may hold '&' and '\''). */
#include "autoconf/autoconf_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void ac_begin(struct ac_out *o)
{
	buf_init(&o->b, AUTOCONF_DOC_MAX);
}

void ac_putn(struct ac_out *o, const char *s, size_t n)
{
	if (buf_append(&o->b, s, n) != 0) {
		/* the documents list a handful of services: a bug */
		log_error("autoconf", NULL, "document over %u bytes",
			  AUTOCONF_DOC_MAX);
		abort();
	}
}

void ac_put(struct ac_out *o, const char *s)
{
	ac_putn(o, s, strlen(s));
}

void ac_putf(struct ac_out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		log_error("autoconf", NULL, "formatted text over %zu bytes",
			  sizeof tmp);
		abort();	/* our formats hold names and numbers: a bug */
	}
	ac_putn(o, tmp, (size_t)n);
}

void ac_text(struct ac_out *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': ac_put(o, "&amp;"); break;
		case '<': ac_put(o, "&lt;"); break;
		case '>': ac_put(o, "&gt;"); break;
		case '"': ac_put(o, "&quot;"); break;
		case '\'': ac_put(o, "&#39;"); break;
		default: ac_putn(o, s, 1);
		}
	}
}

void ac_elem(struct ac_out *o, const char *indent, const char *name,
	     const char *s)
{
	ac_putf(o, "%s<%s>", indent, name);
	ac_text(o, s);
	ac_putf(o, "</%s>\n", name);
}

char *ac_finish(struct ac_out *o, size_t *len_out)
{
	ac_putn(o, "", 1);
	char *text = (char *)o->b.data;
	*len_out = o->b.len - 1;
	memset(&o->b, 0, sizeof o->b);	/* handed over: not released */
	return text;
}
