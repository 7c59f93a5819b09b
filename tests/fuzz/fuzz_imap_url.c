/* fuzz_imap_url.c - libFuzzer target for the CATENATE URL reader
 * (src/imap/imap_url.c). Checked: a URL it takes has a UID, its mailbox
 * and section are NUL-terminated and no longer than the input, and
 * reading the same bytes twice gives the same result. A breach aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_url.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_arena *a = imap_arena_new(1 << 16);
	struct imap_url u, v;
	struct err err;
	int rc = imap_url_parse(span_make(data, size), a, &u, &err);
	int rc2 = imap_url_parse(span_make(data, size), a, &v, &err);
	CHECK(rc == rc2);
	if (rc == 0) {
		CHECK(size <= IMAP_URL_MAX);
		CHECK(u.uid >= 1);
		CHECK(u.mailbox.len > 0 && u.mailbox.len <= size);
		CHECK(u.mailbox.p[u.mailbox.len] == '\0');
		CHECK(u.section.len <= size);
		CHECK(u.section.len == 0 || u.section.p[u.section.len] == '\0');
		CHECK(u.uid == v.uid && u.uidvalidity == v.uidvalidity);
		CHECK(u.mailbox.len == v.mailbox.len &&
		      memcmp(u.mailbox.p, v.mailbox.p, u.mailbox.len) == 0);
		for (size_t i = 0; i < u.mailbox.len; i++)
			CHECK(u.mailbox.p[i] >= 0x20 && u.mailbox.p[i] != 0x7f);
	} else {
		CHECK(err.kind == ERR_PEER);
	}
	imap_arena_free(&a);
	return 0;
}
