/* fuzz_rep_http.c - libFuzzer target for the threat-intelligence
 * client's input (src/filter/rep_http_parse.c, rep_ti.c): any octets as
 * an HTTP response, whole and cut at a point the input chooses, and the
 * decoded body as the API's JSON answer. Checks: a complete answer has a
 * status of 200-999 and a body within the caller's bound; reading more
 * never turns a complete answer into another one; the category is
 * printable ASCII within its bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/rep_private.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char body[BODY_CAP], body2[BODY_CAP];
	struct rep_http_resp r, r2;
	char cat[REP_CATEGORY_MAX];
	size_t cut;
	int rc, rc2;

	if (size < 2)
		return 0;
	cut = ((size_t)data[0] << 8 | data[1]) % size;
	data += 2;
	size -= 2;
	if (cut > size)
		cut = size;
	rc = rep_http_parse(data, size, true, body, sizeof body, &r);
	CHECK(rc == 1 || rc == -1);
	if (rc == 1) {
		CHECK(r.status >= 200 && r.status <= 999);
		CHECK(r.body_len <= sizeof body);
		enum rep_verdict v = rep_ti_answer(r.status, body, r.body_len,
						   cat);
		CHECK(v == REP_UNKNOWN || v == REP_CLEAN || v == REP_MALICIOUS);
		CHECK(strlen(cat) < REP_CATEGORY_MAX);
		for (size_t i = 0; cat[i] != '\0'; i++)
			CHECK(cat[i] > ' ' && cat[i] < 0x7f);
	}
	/* the first cut octets, the peer still there */
	rc2 = rep_http_parse(data, cut, false, body2, sizeof body2, &r2);
	CHECK(rc2 >= -1 && rc2 <= 1);
	if (rc2 == 1 && rc == 1) {
		/* framed answers end where their framing says: more octets
		 * after them change nothing */
		CHECK(r2.status == r.status);
		CHECK(r2.body_len == r.body_len);
		CHECK(memcmp(body, body2, r.body_len) == 0);
	}
	return 0;
}
