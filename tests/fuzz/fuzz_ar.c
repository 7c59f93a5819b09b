/* fuzz_ar.c - libFuzzer target for the header work every incoming
 * message gets before the checks: stripping forged Authentication-Results
 * (src/msgauth/ar.c) from a sender's header section, and the tag=value
 * parser of DKIM, ARC and DMARC (src/msgauth/taglist.c). Checks: the
 * strip only shortens, never touches the body, and is idempotent; the
 * tag list stays within its bound with spans inside the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/ar.h"
#include "msgauth/taglist.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t body_at(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 2;
		if (i + 3 < n && !memcmp(p + i, "\r\n\r\n", 4))
			return i + 4;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *m = malloc(size + 1);
	if (m == NULL)
		return 0;
	memcpy(m, data, size);
	size_t len = size;
	size_t body = size - body_at(data, size);
	size_t n = ar_strip(m, &len, 0, "mx.petrel.test");
	CHECK(len <= size);
	CHECK(n > 0 || len == size);
	/* what follows the header section is the same bytes */
	CHECK(len >= body && memcmp(m + len - body, data + size - body, body) == 0);
	size_t len2 = len;
	CHECK(ar_strip(m, &len2, 0, "mx.petrel.test") == 0 && len2 == len);
	free(m);

	struct taglist tl;
	const char *why;
	if (taglist_parse((const char *)data, size, &tl, &why) == 0) {
		CHECK(tl.n <= TAGLIST_MAX);
		for (size_t i = 0; i < tl.n; i++) {
			const struct tag *t = &tl.t[i];
			CHECK(t->name >= (const char *)data &&
			      t->name + t->name_len <= (const char *)data + size);
			CHECK(t->val >= (const char *)data &&
			      t->val + t->val_len <= (const char *)data + size);
			CHECK(t->name_len > 0);
		}
	}
	return 0;
}
