/* autoconf_private.h - what the files of src/autoconf/ share: a bounded
 * text writer for the documents. Nothing outside src/autoconf/ (but its
 * tests) includes it. */
#ifndef PETREL_AUTOCONF_PRIVATE_H
#define PETREL_AUTOCONF_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "autoconf/autoconf.h"
#include "core/buf.h"

/* Text into a buf of at most AUTOCONF_DOC_MAX octets. Our documents are
 * bounded by the services they list, so running out is a bug: the
 * finish call aborts then rather than send half a document. */
struct ac_out {
	struct buf b;
};
void ac_begin(struct ac_out *o);
void ac_put(struct ac_out *o, const char *s);
void ac_putn(struct ac_out *o, const char *s, size_t n);
void ac_putf(struct ac_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s with & < > " ' as character references: XML and HTML text and
 * attribute values alike. */
void ac_text(struct ac_out *o, const char *s);
/* "<name>escaped s</name>\n" after indent. */
void ac_elem(struct ac_out *o, const char *indent, const char *name,
	     const char *s);
/* The text, malloc'd and NUL-terminated; o is empty after. */
char *ac_finish(struct ac_out *o, size_t *len_out);

/* "https://LABEL.DOMAIN[:port]" of the public listeners: HTTPS when
 * configured, else plain HTTP on http_port; standard ports left out. */
void ac_base_url(const struct cfg_client_services *svc, const char *label,
		 const char *domain, unsigned http_port, char *out,
		 size_t outsz);

#endif
