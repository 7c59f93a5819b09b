/* fuzz_pop3_parse.c - libFuzzer target for POP3 command lines: every
 * input is parsed, and the arguments found must lie inside it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pop3/pop3_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_cmd cmd;
	struct err err;
	if (pop3_cmd_parse(span_make(data, size), &cmd, &err) != 0)
		return 0;
	if (cmd.nargs > 2)
		abort();
	for (unsigned i = 0; i < cmd.nargs; i++) {
		struct span a = cmd.args[i];
		if (a.p < data || a.p + a.len > data + size || a.len == 0)
			abort();
		uint32_t n;
		(void)pop3_parse_msgno(a, 1000, &n);
		(void)pop3_parse_count(a, &n);
	}
	if (cmd.rest.p < data || cmd.rest.p + cmd.rest.len > data + size)
		abort();
	return 0;
}
