/* fuzz_rep_feed.c - libFuzzer target for the URL feed parser of the
 * filter's reputation checks (src/filter/rep_feed.c): any text as a feed
 * file (text, CSV or JSON, whichever it looks like). Checks: a failed
 * parse says why; entries never exceed the bound; counts add up (at most
 * one entry or one bad mark per line or element); a sealed set is sorted
 * without duplicates, and every URL of the input that was added as one is
 * found again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/rep_private.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sorted_unique(const uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		CHECK(v[i - 1] < v[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rep_feed f;
	struct rep_feed_info info;
	struct err err = { 0 };
	size_t lines = 1;
	int rc;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == ',';
	rep_feed_init(&f);
	rc = rep_feed_parse(&f, span_make(data, size), &info, &err);
	if (rc != 0)
		CHECK(err.msg[0] != '\0');
	CHECK(rep_feed_count(&f) <= FILTER_REP_FEED_ENTRIES_MAX);
	CHECK(info.added == f.n_url + f.n_host);
	/* JSON elements are separated by ',' */
	CHECK(info.added + info.bad <= lines);
	CHECK(info.bad == 0 || info.first_bad >= 1);
	rep_feed_seal(&f);
	sorted_unique(f.url, f.n_url);
	sorted_unique(f.host, f.n_host);
	CHECK(rep_feed_count(&f) <= info.added);
	/* a text feed: each line that normalises is now in the set */
	if (rc == 0 && info.format == REP_FEED_TEXT) {
		size_t pos = 0;

		while (pos < size) {
			const uint8_t *nl = memchr(data + pos, '\n', size - pos);
			size_t len = nl ? (size_t)(nl - data - pos) : size - pos;
			struct filter_url u;
			size_t mlen;

			if (len > 0 && len <= FILTER_REP_FEED_LINE_MAX &&
			    data[pos] != '#' && data[pos] != ' ' &&
			    data[pos] != '\t' && data[pos + len - 1] != '\r' &&
			    data[pos + len - 1] != ' ' &&
			    data[pos + len - 1] != '\t' &&
			    filter_url_normalise(span_make(data + pos, len),
						 &u) == 0) {
				CHECK(rep_feed_has_url(&f, u.url) ||
				      rep_feed_has_host(&f, u.host, &mlen));
				filter_url_clear(&u);
			}
			pos += len + 1;
		}
	}
	rep_feed_free(&f);
	return 0;
}
