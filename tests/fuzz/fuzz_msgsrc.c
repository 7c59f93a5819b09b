/* fuzz_msgsrc.c - libFuzzer target for mbox splitting (src/filter/
 * msgsrc.c): any bytes split into messages that lie inside the input, in
 * order, without overlap, each after a "From " line when the input is
 * an mbox, and the position always advances to the end. */
#include <stdint.h>
#include <string.h>

#include "filter/msgsrc.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span d = span_make(data, size), m;
	bool mbox = msgsrc_is_mbox(d);
	size_t pos = 0, last_end = 0, n = 0;
	while (msgsrc_mbox_next(d, &pos, &m) == 1) {
		CHECK(m.p >= data && m.p + m.len <= data + size);
		size_t off = (size_t)(m.p - data);
		CHECK(off >= last_end);
		CHECK(pos >= off + m.len && pos <= size);
		if (mbox)
			CHECK(off > 0 && data[off - 1] == '\n');
		else
			CHECK(off == 0 && m.len == size);
		last_end = off + m.len;
		CHECK(++n <= size);
	}
	CHECK(pos == size);
	return 0;
}
