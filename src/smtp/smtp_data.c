/* smtp_data.c - the DATA and BDAT body reader: finds the one true end of
 * data (<CRLF>.<CRLF>, RFC 5321 4.1.1.4), undoes dot-stuffing (4.5.2),
 * refuses bare CR and bare LF (2.3.8) so that no smuggled end of data
 * (CVE-2023-51764 family) is ever honoured, and bounds size and line
 * length. It does not look inside the message (headers are mime/'s job)
 * and never fails mid-stream: errors wait for smtp_data_result(). */
#include "smtp/smtp_data.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

/* Where the reader stands. Only a CR LF that really is CR LF starts a new
 * line (DS_BOL), so a '.' after a bare CR or LF is plain text and
 * "\n.\n", "\r.\r", "\n.\r\n" and the rest never end the data. */
enum data_state {
	DS_BOL = 0,	/* DATA: at the start of a line */
	DS_TEXT,	/* inside a line */
	DS_CR,		/* a CR was seen; its LF not yet */
	DS_DOT,		/* DATA: '.' at the start of a line (dropped) */
	DS_DOT_CR,	/* DATA: ".\r" at the start of a line (dropped) */
	DS_END,		/* end of data seen, or BDAT LAST */
};

/* When several errors occur, the reply names the worst, so the result does
 * not depend on how the bytes were split into reads: a bare CR/LF (which
 * is what smuggling looks like) over size over line length. Between bare
 * CR and bare LF the first in the stream wins. */
static int error_rank(enum smtp_data_error e)
{
	switch (e) {
	case SMTP_DATA_OK: return 0;
	case SMTP_DATA_LINE_TOO_LONG: return 1;
	case SMTP_DATA_TOO_BIG: return 2;
	case SMTP_DATA_NUL: return 3;
	case SMTP_DATA_BARE_LF:
	case SMTP_DATA_BARE_CR: return 4;
	}
	return 4;
}

/* After the first error nothing more is appended (the message will be
 * refused, and memory stays bounded); what out already holds is left for
 * the caller, who may have put a trace header before the body. */
static void set_error(struct smtp_data *d, enum smtp_data_error e)
{
	if (error_rank(e) > error_rank(d->error))
		d->error = e;
}

/* Account n decoded bytes and store them while all is well. Over max_size
 * nothing is appended, so out never grows past it; a full out (its own
 * max) counts as too big as well. */
static void keep(struct smtp_data *d, const unsigned char *p, size_t n)
{
	if (n == 0)
		return;
	if (__builtin_add_overflow(d->size, (uint64_t)n, &d->size))
		d->size = UINT64_MAX;
	if (d->size > d->max_size)
		set_error(d, SMTP_DATA_TOO_BIG);
	else if (d->error == SMTP_DATA_OK && buf_append(d->out, p, n) != 0)
		set_error(d, SMTP_DATA_TOO_BIG);
}

/* n more text bytes on the current line (CRLF excluded). */
static void line_add(struct smtp_data *d, size_t n)
{
	if (__builtin_add_overflow(d->line_len, n, &d->line_len))
		d->line_len = SIZE_MAX;
	if (d->line_len > d->max_line)
		set_error(d, SMTP_DATA_LINE_TOO_LONG);
}

/* The next LF at or after p + i, cached per call: re-searching the rest of
 * a read after each bare CR would make "\r\r\r..." quadratic. */
struct lf_cache {
	const unsigned char *lf;
	bool known;
};

static size_t next_lf(struct lf_cache *c, const unsigned char *p, size_t i,
		      size_t len)
{
	if (!c->known || (c->lf != NULL && c->lf < p + i)) {
		c->lf = memchr(p + i, '\n', len - i);
		c->known = true;
	}
	return c->lf ? (size_t)(c->lf - p) : len;
}

/* In DS_TEXT at p[i]: take the text up to the next CR or LF in one step
 * (memchr, no per-byte loop) and act on that CR or LF. Returns the new i. */
static size_t scan_text(struct smtp_data *d, struct lf_cache *c,
			const unsigned char *p, size_t i, size_t len)
{
	size_t end = next_lf(c, p, i, len);
	const unsigned char *cr = memchr(p + i, '\r', end - i);
	size_t stop = cr ? (size_t)(cr - p) : end;
	line_add(d, stop - i);
	if (stop == len)
		return len;
	if (p[stop] == '\r') {
		d->state = DS_CR;
	} else {
		/* RFC 5321 2.3.8: a bare LF is not a line end. */
		set_error(d, SMTP_DATA_BARE_LF);
		line_add(d, 1);
	}
	return stop + 1;
}

static void begin(struct smtp_data *d, struct buf *out, uint64_t max_size,
		  size_t max_line, enum data_state first)
{
	memset(d, 0, sizeof *d);
	d->state = first;
	d->error = SMTP_DATA_OK;
	d->max_size = max_size;
	d->max_line = max_line;
	d->out = out;
}

void smtp_data_begin(struct smtp_data *d, struct buf *out, uint64_t max_size,
		     size_t max_line)
{
	/* The DATA start counts as a line start: ".\r\n" first is an empty
	 * message (RFC 5321 4.1.1.4: the CRLF of the DATA command). */
	begin(d, out, max_size, max_line, DS_BOL);
}

void smtp_data_bdat_begin(struct smtp_data *d, struct buf *out,
			  uint64_t max_size, size_t max_line)
{
	begin(d, out, max_size, max_line, DS_TEXT);
}

/* The kept bytes are the input minus the dropped ones (stuffing dots and
 * the final ".\r\n"), so they are appended as runs [run, i) between drops
 * rather than byte by byte. A CR is kept provisionally: if it turns out to
 * be bare, the message is refused and what was kept does not matter. */
int smtp_data_push(struct smtp_data *d, const unsigned char *p, size_t len,
		   size_t *used_out)
{
	struct lf_cache c = { NULL, false };
	size_t i = 0, run = 0;

	if (d->state == DS_END) {
		*used_out = 0;
		return 1;
	}
	while (i < len) {
		switch ((enum data_state)d->state) {
		case DS_BOL:
			if (p[i] == '.') {
				keep(d, p + run, i - run);
				run = ++i;
				d->state = DS_DOT;
			} else {
				d->state = DS_TEXT;
			}
			break;
		case DS_DOT:
			if (p[i] == '\r') {
				run = ++i;
				d->state = DS_DOT_CR;
			} else {
				/* RFC 5321 4.5.2: a stuffed dot; the rest of
				 * the line is text, ".." included. */
				d->state = DS_TEXT;
			}
			break;
		case DS_DOT_CR:
			if (p[i] == '\n') {
				d->state = DS_END;
				*used_out = i + 1;
				return 1;
			}
			set_error(d, SMTP_DATA_BARE_CR);
			d->state = DS_TEXT;
			break;
		case DS_CR:
			if (p[i] == '\n') {
				i++;
				d->line_len = 0;
				d->state = DS_BOL;
			} else {
				set_error(d, SMTP_DATA_BARE_CR);
				d->state = DS_TEXT;
			}
			break;
		case DS_TEXT:
			i = scan_text(d, &c, p, i, len);
			break;
		case DS_END:
		default:
			/* DS_END returned above; anything else means d was
			 * not set up by smtp_data_begin(). */
			assert(!"smtp_data_push: bad state");
			d->state = DS_END;
			*used_out = i;
			return 1;
		}
	}
	if (run < len)
		keep(d, p + run, len - run);
	*used_out = len;
	return 0;
}

void smtp_data_bdat_push(struct smtp_data *d, const unsigned char *p,
			 size_t len)
{
	struct lf_cache c = { NULL, false };
	size_t i = 0;

	if (d->state == DS_END)
		return;
	while (i < len) {
		if (d->state == DS_CR) {
			if (p[i] == '\n') {
				i++;
				d->line_len = 0;
			} else {
				set_error(d, SMTP_DATA_BARE_CR);
			}
			d->state = DS_TEXT;
		} else {
			i = scan_text(d, &c, p, i, len);
		}
	}
	/* RFC 3030 2: no stuffing, so the chunk is kept whole. */
	if (len > 0)
		keep(d, p, len);
}

void smtp_data_bdat_end(struct smtp_data *d)
{
	if (d->state == DS_CR)
		set_error(d, SMTP_DATA_BARE_CR);
	d->state = DS_END;
}

int smtp_data_result(const struct smtp_data *d, struct err *err)
{
	switch (d->error) {
	case SMTP_DATA_OK:
		return 0;
	case SMTP_DATA_BARE_LF:
		return err_set(err, ERR_PEER, 554, "5.6.0",
			       "Message contains a bare LF (RFC 5321 2.3.8)");
	case SMTP_DATA_BARE_CR:
		return err_set(err, ERR_PEER, 554, "5.6.0",
			       "Message contains a bare CR (RFC 5321 2.3.8)");
	case SMTP_DATA_TOO_BIG:
		return err_set(err, ERR_LIMIT, 552, "5.3.4",
			       "Message size exceeds fixed maximum message size");
	case SMTP_DATA_LINE_TOO_LONG:
		return err_set(err, ERR_LIMIT, 554, "5.6.0",
			       "Message line too long (more than %zu octets)",
			       d->max_line);
	case SMTP_DATA_NUL:
		return err_set(err, ERR_PEER, 554, "5.6.0",
			       "Message contains NUL octets");
	}
	return err_set(err, ERR_PEER, 554, "5.6.0", "Message refused");
}
