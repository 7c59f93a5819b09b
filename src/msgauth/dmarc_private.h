/* dmarc_private.h - shared inside the DMARC files only (dmarc_*.c). */
#ifndef PETREL_DMARC_PRIVATE_H
#define PETREL_DMARC_PRIVATE_H

#include <stddef.h>

#include "core/err.h"
#include "msgauth/dmarc.h"
#include "msgauth/dmarc_report.h"

/* Format into buf (sz bytes), cutting what does not fit (reasons are for
 * people), with bytes outside printable ASCII made '?': peer text ends up
 * in SMTP replies and headers. */
void dmarc_say(char *buf, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Decompress a report: gzip or zip into a malloc'd *out (the caller frees
 * it); plain input leaves *out NULL. -1 with err when corrupt or over
 * DMARC_REPORT_IN_MAX / DMARC_REPORT_XML_MAX. */
int dmarc_report_unpack(const unsigned char *in, size_t len, unsigned char **out,
			size_t *out_len, struct err *err);

#endif
