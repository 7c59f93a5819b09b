/* csv.h - a bounded reader of CSV text (RFC 4180) from untrusted input:
 * the admin API's and petrelctl's bulk imports. It takes the whole text
 * at once (the callers hold it in memory under a size limit) and yields
 * one record at a time. Accepted beyond RFC 4180: a UTF-8 byte order
 * mark, LF as well as CRLF line ends, and ';' as the separator when the
 * header line has more ';' than ',' outside quotes (spreadsheets in
 * locales with a decimal comma write those). Every field must be UTF-8
 * without NUL. It checks syntax only: what fields mean is the caller's.
 */
#ifndef PETREL_CSV_H
#define PETREL_CSV_H

#include <stddef.h>

#include "core/span.h"

struct csv_limits {
	size_t max_record;	/* octets of one record, quotes included */
	size_t max_fields;	/* fields of one record */
	size_t max_records;	/* records, the header included */
};

struct csv_record {
	size_t line;		/* physical line the record starts on, from 1 */
	size_t nfields;
	/* Unquoted field values, each NUL-terminated (a NUL inside is a
	 * syntax error, so each is one C string); borrowed from the
	 * reader until its next csv_next or csv_free. */
	const char **field;
};

struct csv_reader;

/* A reader over text (borrowed: it must outlive the reader). A
 * leading BOM is skipped and the separator is chosen from the first
 * line. Limits of 0 are taken as 1. Never fails (aborts out of memory;
 * its buffers are bounded by the limits). */
struct csv_reader *csv_new(struct span text, const struct csv_limits *lim);
void csv_free(struct csv_reader **rp);

/* 1: the next record in *rec (blank lines are skipped); 0: end of
 * text; -1: the text is not CSV within the limits (csv_error says why
 * and on which line; the reader then returns -1 for good). */
int csv_next(struct csv_reader *r, struct csv_record *rec);
/* The reason of the last -1 (static text) and its line. */
const char *csv_error(const struct csv_reader *r, size_t *line_out);
/* ',' or ';'. */
char csv_separator(const struct csv_reader *r);

#endif
