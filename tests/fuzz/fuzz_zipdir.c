/* fuzz_zipdir.c - libFuzzer target for the ZIP central directory reader
 * (src/filter/zipdir.c): any octets give at most FILTER_ZIP_MAX_ENTRIES
 * entries, each name NUL-terminated within its cap, and counts that
 * agree with the callbacks made. */
#include <stdint.h>
#include <string.h>

#include "filter/zipdir.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool entry(const struct zipdir_entry *e, void *arg)
{
	size_t *n = arg;

	CHECK(memchr(e->name, '\0', sizeof e->name) != NULL);
	(*n)++;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zipdir_info info;
	size_t n = 0;

	int rc = zipdir_read(span_make(data, size), entry, &n, &info);
	CHECK(rc == 0 || rc == 1);
	CHECK(n == info.read);
	CHECK(n <= FILTER_ZIP_MAX_ENTRIES);
	if (rc == 0)
		CHECK(n == 0);
	return 0;
}
