/* csv.c - the bounded CSV reader of csv.h: one pass over text held in
 * memory, each record unquoted into a buffer of max_record octets. It
 * refuses rather than guesses: a quote inside an unquoted field, text
 * after a closing quote, a lone CR, a NUL or bytes that are not UTF-8
 * end the reading with the line they are on. */
#include <stdbool.h>
#include <stdlib.h>

#include "core/csv.h"
#include "core/xmalloc.h"

struct csv_reader {
	struct span text;
	size_t pos;
	size_t line;		/* of text[pos] */
	struct csv_limits lim;
	char sep;
	size_t records;
	char *buf;		/* max_record + max_fields (NULs) octets */
	const char **field;	/* max_fields */
	const char *error;
	size_t error_line;
	bool failed;
};

/* RFC 3629: shortest forms only, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		unsigned min;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4, min = 0x10000, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* The separator: whichever of ',' and ';' the first line has more of
 * outside quotes (',' on a tie, as RFC 4180 says). */
static char detect_separator(struct span t, size_t from, size_t max)
{
	size_t commas = 0, semis = 0;
	bool quoted = false;
	for (size_t i = from; i < t.len && i - from < max; i++) {
		unsigned char c = t.p[i];
		if (c == '"')
			quoted = !quoted;
		else if (!quoted && c == '\n')
			break;
		else if (!quoted && c == ',')
			commas++;
		else if (!quoted && c == ';')
			semis++;
	}
	return semis > commas ? ';' : ',';
}

struct csv_reader *csv_new(struct span text, const struct csv_limits *lim)
{
	struct csv_reader *r = xcalloc(1, sizeof *r);
	r->text = text;
	r->lim = *lim;
	if (r->lim.max_record == 0)
		r->lim.max_record = 1;
	if (r->lim.max_fields == 0)
		r->lim.max_fields = 1;
	if (r->lim.max_records == 0)
		r->lim.max_records = 1;
	r->line = 1;
	if (text.len >= 3 && text.p[0] == 0xef && text.p[1] == 0xbb &&
	    text.p[2] == 0xbf)
		r->pos = 3;
	r->sep = detect_separator(text, r->pos, r->lim.max_record);
	size_t bufsz;
	if (__builtin_add_overflow(r->lim.max_record, r->lim.max_fields, &bufsz))
		abort();	/* limits are ours, not a peer's */
	r->buf = xmalloc(bufsz);
	r->field = xreallocarray(NULL, r->lim.max_fields, sizeof *r->field);
	return r;
}

void csv_free(struct csv_reader **rp)
{
	if (*rp == NULL)
		return;
	free((*rp)->buf);
	free((*rp)->field);
	free(*rp);
	*rp = NULL;
}

static int fail(struct csv_reader *r, const char *why, size_t line)
{
	r->failed = true;
	r->error = why;
	r->error_line = line;
	return -1;
}

int csv_next(struct csv_reader *r, struct csv_record *rec)
{
	if (r->failed)
		return -1;
	const unsigned char *p = r->text.p;
	size_t n = r->text.len;
	/* blank lines between records carry nothing */
	while (r->pos < n && (p[r->pos] == '\n' ||
			      (p[r->pos] == '\r' && r->pos + 1 < n &&
			       p[r->pos + 1] == '\n'))) {
		r->pos += p[r->pos] == '\r' ? 2 : 1;
		r->line++;
	}
	if (r->pos >= n)
		return 0;
	if (r->records == r->lim.max_records)
		return fail(r, "too many records", r->line);

	size_t start = r->pos, start_line = r->line;
	size_t out = 0, nf = 0;
	size_t bufmax = r->lim.max_record + r->lim.max_fields;
	for (;;) {
		/* one field */
		if (nf == r->lim.max_fields)
			return fail(r, "too many fields", start_line);
		size_t fstart = out;
		if (r->pos < n && p[r->pos] == '"') {
			r->pos++;
			for (;;) {
				if (r->pos >= n)
					return fail(r, "a quoted field is not "
						    "closed", start_line);
				unsigned char c = p[r->pos];
				if (c == '"') {
					if (r->pos + 1 < n && p[r->pos + 1] == '"') {
						r->pos += 2;
						c = '"';
					} else {
						r->pos++;
						break;
					}
				} else {
					if (c == '\n')
						r->line++;
					r->pos++;
				}
				if (c == '\0')
					return fail(r, "a NUL byte", r->line);
				if (r->pos - start > r->lim.max_record)
					return fail(r, "record too long", start_line);
				r->buf[out++] = (char)c;	/* UNSAFE: out <=
					 * pos - start <= max_record */
			}
			if (r->pos < n && p[r->pos] != r->sep &&
			    p[r->pos] != '\r' && p[r->pos] != '\n')
				return fail(r, "text after a closing quote",
					    r->line);
		} else {
			while (r->pos < n && p[r->pos] != r->sep &&
			       p[r->pos] != '\r' && p[r->pos] != '\n') {
				unsigned char c = p[r->pos];
				if (c == '"')
					return fail(r, "a quote inside an "
						    "unquoted field", r->line);
				if (c == '\0')
					return fail(r, "a NUL byte", r->line);
				r->pos++;
				if (r->pos - start > r->lim.max_record)
					return fail(r, "record too long", start_line);
				r->buf[out++] = (char)c;
			}
		}
		if (!utf8_valid((const unsigned char *)r->buf + fstart,
				out - fstart))
			return fail(r, "not UTF-8", r->line);
		if (out >= bufmax)
			abort();	/* the bound above holds it */
		r->buf[out++] = '\0';
		r->field[nf++] = r->buf + fstart;
		if (r->pos >= n)
			break;
		if (p[r->pos] == r->sep) {
			r->pos++;
			if (r->pos - start > r->lim.max_record)
				return fail(r, "record too long", start_line);
			if (r->pos >= n) {	/* "a,b," ends in an empty field */
				if (nf == r->lim.max_fields)
					return fail(r, "too many fields", start_line);
				r->buf[out++] = '\0';
				r->field[nf++] = r->buf + out - 1;
				break;
			}
			continue;
		}
		/* the end of the record: LF or CRLF */
		if (p[r->pos] == '\r') {
			if (r->pos + 1 >= n || p[r->pos + 1] != '\n')
				return fail(r, "a CR without LF", r->line);
			r->pos++;
		}
		r->pos++;
		r->line++;
		break;
	}
	r->records++;
	rec->line = start_line;
	rec->nfields = nf;
	rec->field = r->field;
	return 1;
}

const char *csv_error(const struct csv_reader *r, size_t *line_out)
{
	if (line_out != NULL)
		*line_out = r->error_line;
	return r->error ? r->error : "";
}

char csv_separator(const struct csv_reader *r)
{
	return r->sep;
}
