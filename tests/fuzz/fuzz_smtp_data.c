/* fuzz_smtp_data.c - libFuzzer target for src/smtp/smtp_data.c. The first
 * byte picks DATA or BDAT, the limits and how the rest is cut into pieces;
 * the rest is the body as a client sends it. Checked: out never exceeds
 * max_size, used_out <= len, an ended reader stays ended, the result does
 * not depend on the cuts (the same input fed whole must agree), and a good
 * message has neither a bare CR nor a bare LF. A breach aborts. With an
 * out buffer smaller than max_size, which of "too big" and "line too long"
 * is named may depend on the cuts, so errors are compared only otherwise. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_data.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	bool ended;
	size_t used;
	enum smtp_data_error error;
	uint64_t size;
	struct buf out;
};

/* Piece sizes, cycled: small ones hit every state at a border. */
static const size_t piece_sets[8][4] = {
	{ 1, 1, 1, 1 }, { 2, 3, 5, 7 }, { 3, 1, 4, 1 }, { 5, 9, 2, 6 },
	{ 64, 1, 64, 2 }, { 4096, 4096, 4096, 4096 }, { 13, 17, 19, 23 },
	{ SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX },
};

static void run_data(struct run *r, const uint8_t *in, size_t len,
		     const size_t *pieces, uint64_t max_size, size_t max_line,
		     size_t buf_max)
{
	struct smtp_data d;
	memset(r, 0, sizeof *r);
	buf_init(&r->out, buf_max);
	smtp_data_begin(&d, &r->out, max_size, max_line);
	size_t off = 0;
	for (unsigned k = 0; off < len || k == 0; k++) {
		size_t n = pieces[k % 4];
		if (n > len - off)
			n = len - off;
		/* an exactly sized copy, so ASan sees reads past the piece */
		uint8_t *piece = malloc(n ? n : 1);
		CHECK(piece != NULL);
		if (n)
			memcpy(piece, in + off, n);
		size_t used = SIZE_MAX;
		int rc = smtp_data_push(&d, piece, n, &used);
		free(piece);
		CHECK(rc == 0 || rc == 1);
		CHECK(used <= n);
		CHECK(r->out.len <= max_size);
		if (rc == 1) {
			off += used;
			r->ended = true;
			/* consumed bytes end with the terminator */
			CHECK(off >= 3 && memcmp(in + off - 3, ".\r\n", 3) == 0);
			CHECK(off == 3 || memcmp(in + off - 5, "\r\n", 2) == 0);
			/* once ended, it stays ended and takes nothing */
			enum smtp_data_error before = d.error;
			size_t again = SIZE_MAX;
			CHECK(smtp_data_push(&d, (const unsigned char *)"\r\n", 2,
					     &again) == 1);
			CHECK(again == 0 && d.error == before);
			break;
		}
		CHECK(used == n);
		off += n;
		if (len == 0)
			break;
	}
	r->used = off;
	r->error = d.error;
	r->size = d.size;
	struct err e;
	CHECK((smtp_data_result(&d, &e) == 0) == (d.error == SMTP_DATA_OK));
}

static void run_bdat(struct run *r, const uint8_t *in, size_t len,
		     const size_t *pieces, uint64_t max_size, size_t max_line)
{
	struct smtp_data d;
	memset(r, 0, sizeof *r);
	buf_init(&r->out, (size_t)max_size + 1);
	smtp_data_bdat_begin(&d, &r->out, max_size, max_line);
	size_t off = 0;
	for (unsigned k = 0; off < len; k++) {
		size_t n = pieces[k % 4];
		if (n > len - off)
			n = len - off;
		uint8_t *piece = malloc(n);
		CHECK(piece != NULL);
		memcpy(piece, in + off, n);
		smtp_data_bdat_push(&d, piece, n);
		free(piece);
		CHECK(r->out.len <= max_size);
		off += n;
	}
	smtp_data_bdat_end(&d);
	r->ended = true;
	r->used = len;
	r->error = d.error;
	r->size = d.size;
	CHECK(d.size == len);	/* BDAT keeps every byte it counts */
	if (d.error == SMTP_DATA_OK)
		CHECK(r->out.len == len &&
		      (len == 0 || memcmp(r->out.data, in, len) == 0));
}

/* A good message has CRLF line ends only. */
static void check_clean(const struct buf *out)
{
	for (size_t i = 0; i < out->len; i++) {
		if (out->data[i] == '\r')
			CHECK(i + 1 < out->len && out->data[i + 1] == '\n');
		if (out->data[i] == '\n')
			CHECK(i > 0 && out->data[i - 1] == '\r');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t sel = data[0];
	const uint8_t *in = data + 1;
	size_t len = size - 1;
	const size_t *pieces = piece_sets[sel & 7];
	bool bdat = (sel & 0x08) != 0;
	uint64_t max_size = (sel & 0x10) ? 64 : 1u << 20;
	size_t max_line = (sel & 0x20) ? 16 : 1000;
	/* sometimes the out buffer is the tighter limit */
	size_t buf_max = (sel & 0x40) ? 48 : (size_t)max_size;

	struct run split, whole;
	static const size_t all[4] = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX };
	if (bdat) {
		run_bdat(&split, in, len, pieces, max_size, max_line);
		run_bdat(&whole, in, len, all, max_size, max_line);
	} else {
		run_data(&split, in, len, pieces, max_size, max_line, buf_max);
		run_data(&whole, in, len, all, max_size, max_line, buf_max);
	}

	/* how the bytes were cut must not matter */
	CHECK(split.ended == whole.ended);
	CHECK(split.used == whole.used);
	CHECK(split.size == whole.size);
	if (buf_max >= max_size || bdat)
		CHECK(split.error == whole.error);
	if (split.error == SMTP_DATA_OK && whole.error == SMTP_DATA_OK) {
		CHECK(split.out.len == whole.out.len);
		CHECK(split.out.len == 0 ||
		      memcmp(split.out.data, whole.out.data, split.out.len) == 0);
		CHECK(split.size == split.out.len);
		if (split.ended)
			check_clean(&split.out);
	}
	buf_release(&split.out);
	buf_release(&whole.out);
	return 0;
}
