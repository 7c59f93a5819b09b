/* fuzz_smtpc_reply.c - libFuzzer target for src/smtp/smtpc_reply.c, what
 * the SMTP client reads from remote servers. The input is a byte stream
 * from a server: replies are parsed from it in pieces cut where the first
 * input byte says, each line also goes to the EHLO keyword reader, and the
 * stream (as message text) through the dot-stuffing encoder. Results are
 * checked against the header's contract; a breach aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtpc_reply.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_line(void *arg, struct span text)
{
	struct smtpc_caps *caps = arg;
	CHECK(text.len <= SMTPC_LINE_MAX);
	smtpc_caps_line(caps, text);
}

static void check_reply(const struct smtpc_reply *r)
{
	CHECK(r->code >= 200 && r->code <= 559);
	const char *z = memchr(r->text, '\0', sizeof r->text);
	CHECK(z != NULL);
	for (const char *p = r->text; p < z; p++)
		CHECK(*p >= 0x20 && *p <= 0x7e);
	z = memchr(r->enhanced, '\0', sizeof r->enhanced);
	CHECK(z != NULL);
	if (r->enhanced[0])
		CHECK(r->enhanced[0] == '0' + r->code / 100 && r->enhanced[1] == '.');
}

static void parse(const uint8_t *data, size_t size, size_t piece)
{
	struct smtpc_reply_parser p;
	struct smtpc_caps caps;
	struct smtpc_reply r;
	memset(&caps, 0, sizeof caps);
	smtpc_reply_parser_init(&p);
	p.on_line = on_line;
	p.on_line_arg = &caps;
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece, used = 9999999;
		int rc = smtpc_reply_push(&p, data + off, n, &used, &r);
		CHECK(rc >= -1 && rc <= 1);
		if (rc < 0) {
			CHECK(smtpc_reply_parser_error(&p)[0] != '\0');
			return;
		}
		CHECK(used <= n);
		if (rc == 0)
			CHECK(used == n);
		else
			check_reply(&r);
		off += used;
	}
}

static void encode(const uint8_t *data, size_t size)
{
	struct smtpc_dot d;
	unsigned char out[64];
	smtpc_dot_init(&d);
	size_t off = 0;
	while (off < size) {
		size_t used;
		size_t w = smtpc_dot_encode(&d, data + off, size - off, out, sizeof out,
					    &used);
		CHECK(used > 0 && w <= sizeof out);
		/* no bare CR or LF ever leaves the encoder */
		for (size_t i = 0; i < w; i++) {
			if (out[i] == '\n')
				CHECK(i > 0 && out[i - 1] == '\r');
			if (out[i] == '\r')
				CHECK(i + 1 < w && out[i + 1] == '\n');
		}
		off += used;
	}
	CHECK(smtpc_dot_end(&d, out) <= SMTPC_DOT_END_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t piece = (size_t)data[0] % 16 + 1;
	parse(data + 1, size - 1, size);
	parse(data + 1, size - 1, piece);
	encode(data + 1, size - 1);
	return 0;
}
