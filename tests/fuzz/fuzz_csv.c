/* fuzz_csv.c - libFuzzer target for the CSV reader (src/core/csv.c),
 * which reads admin-supplied files for the bulk import. Checks csv.h's
 * contracts on any input: records and fields within the limits, lines
 * increasing, and every record read back the same after writing it out
 * again fully quoted with CRLF (the reader's own output is CSV). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct csv_limits lim = { 512, 16, 64 };

/* rec written out quoted, sep between fields, CRLF after; its length */
static size_t requote(const struct csv_record *rec, char sep, char *out,
		      size_t outsz)
{
	size_t n = 0;
	for (size_t i = 0; i < rec->nfields; i++) {
		CHECK(n + 2 < outsz);
		if (i > 0)
			out[n++] = sep;
		out[n++] = '"';
		for (const char *p = rec->field[i]; *p; p++) {
			CHECK(n + 4 < outsz);
			if (*p == '"')
				out[n++] = '"';
			out[n++] = *p;
		}
		out[n++] = '"';
	}
	CHECK(n + 2 < outsz);
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader *r = csv_new(span_make(data, size), &lim);
	char sep = csv_separator(r);
	CHECK(sep == ',' || sep == ';');
	struct csv_record rec;
	size_t records = 0, last_line = 0;
	static char again[4 * 512 + 64];
	int rc;
	while ((rc = csv_next(r, &rec)) == 1) {
		records++;
		CHECK(records <= lim.max_records);
		CHECK(rec.nfields >= 1 && rec.nfields <= lim.max_fields);
		CHECK(rec.line > last_line);
		last_line = rec.line;
		size_t total = 0;
		for (size_t i = 0; i < rec.nfields; i++)
			total += strlen(rec.field[i]);
		CHECK(total <= lim.max_record);
		/* the record quoted again reads back field for field */
		size_t n = requote(&rec, sep, again, sizeof again);
		struct csv_limits big = { sizeof again, lim.max_fields, 2 };
		struct csv_reader *r2 = csv_new(span_make(again, n), &big);
		struct csv_record rec2;
		CHECK(csv_next(r2, &rec2) == 1);
		CHECK(rec2.nfields == rec.nfields);
		for (size_t i = 0; i < rec.nfields; i++)
			CHECK(strcmp(rec.field[i], rec2.field[i]) == 0);
		CHECK(csv_next(r2, &rec2) == 0);
		csv_free(&r2);
	}
	size_t line;
	const char *why = csv_error(r, &line);
	CHECK(rc == 0 || (rc == -1 && why[0] != '\0' && line >= 1));
	csv_free(&r);
	return 0;
}
