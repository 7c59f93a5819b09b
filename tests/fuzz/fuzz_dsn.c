/* fuzz_dsn.c - libFuzzer target for the DSN builder (src/queue/dsn.c).
 * The input is cut at NUL bytes into the report's inputs (sender, host,
 * envelope id, then per recipient: address, ORCPT, remote MTA, status,
 * reply) with the last piece the original message; the first byte picks
 * RET, the actions and a small RET=FULL cap. Checked: a report is built
 * (the sender is never empty here), every line ends in CRLF and is at
 * most 998 bytes, no CR, LF or NUL stands alone, and the report's header
 * section is exactly the fields dsn_build writes. A breach aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "queue/dsn.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RCPTS 4
#define PIECES (3 + 5 * MAX_RCPTS + 1)

static void check_report(const struct buf *b)
{
	size_t start = 0;
	bool in_header = true;
	CHECK(b->len >= 2);
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = b->data[i];
		CHECK(c != '\n' && c != 0);
		if (c != '\r')
			continue;
		CHECK(i + 1 < b->len && b->data[i + 1] == '\n');
		CHECK(i - start <= DSN_LINE_MAX);
		if (in_header) {
			/* one of our fields, or a fold of Content-Type */
			const unsigned char *l = b->data + start;
			size_t n = i - start;
			static const char *const ok[] = {
				"From: ", "To: ", "Subject: ", "Date: ", "Message-ID: ",
				"Auto-Submitted: ", "MIME-Version: ", "Content-Type: ",
				"\tboundary=", "Content-Transfer-Encoding: ",
			};
			bool known = n == 0;
			for (size_t k = 0; k < sizeof ok / sizeof ok[0] && !known; k++)
				known = n >= strlen(ok[k]) && !memcmp(l, ok[k], strlen(ok[k]));
			CHECK(known);
			if (n == 0)
				in_header = false;
		}
		i++;
		start = i + 1;
	}
	CHECK(start == b->len);
	CHECK(!in_header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0];
	data++;
	size--;
	char *copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	const char *piece[PIECES];
	size_t len[PIECES], np = 0;
	char *p = copy, *end = copy + size;
	while (np < PIECES - 1 && p < end) {
		char *z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			break;
		piece[np] = p;
		len[np++] = (size_t)(z - p);
		p = z + 1;
	}
	/* the rest, NULs and all, is the original message */
	const unsigned char *orig = (const unsigned char *)p;
	size_t orig_len = (size_t)(end - p);
	for (size_t i = np; i < PIECES; i++) {
		piece[i] = "";
		len[i] = 0;
	}

	struct dsn_rcpt r[MAX_RCPTS];
	memset(r, 0, sizeof r);
	size_t nr = 1 + (flags & 3);
	for (size_t i = 0; i < nr; i++) {
		const size_t *l = &len[3 + 5 * i];
		const char *const *s = &piece[3 + 5 * i];
		r[i].final_rcpt = s[0];
		r[i].orig_rcpt = l[1] ? s[1] : NULL;
		r[i].remote_mta = l[2] ? s[2] : NULL;
		r[i].status = s[3];
		r[i].diag = s[4];
		r[i].diag_len = l[4];
		r[i].action = (enum dsn_action)((flags >> 2) + i) % (DSN_EXPANDED + 1);
		r[i].last_attempt = (int64_t)l[4] * 1000;
		r[i].retry_until = (int64_t)l[3] * 100000;
	}
	struct dsn_msg m = {
		.reporting_mta = piece[1],
		.sender = len[0] ? piece[0] : "x@example.org",
		.arrival = 1795000000,
		.now = 1795003600,
		.envid = len[2] ? piece[2] : NULL,
		.ret = (flags & 0x80) ? DSN_RET_FULL : DSN_RET_HDRS,
		.rcpts = r,
		.nrcpts = nr,
		.orig = orig,
		.orig_len = orig_len,
		.full_max = (flags & 0x40) ? 100 : 0,
	};
	struct buf b;
	struct err err;
	buf_init(&b, 4u << 20);
	CHECK(dsn_build(&m, &b, &err) == 0);
	check_report(&b);
	buf_release(&b);
	free(copy);
	return 0;
}
