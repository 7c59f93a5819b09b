/* fuzz_html.c - libFuzzer target for the HTML reader (src/filter/
 * html_text.c): any bytes give text within the bounds, links within the
 * bounds, NUL-terminated link strings no longer than their caps. */
#include <stdint.h>
#include <string.h>

#include "core/limits.h"
#include "filter/html.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_html h;

	filter_html_parse(span_make(data, size), &h);
	CHECK(h.text.len <= FILTER_HTML_MAX_TEXT);
	CHECK(h.hidden.len <= FILTER_HTML_MAX_TEXT);
	CHECK(h.nlinks <= FILTER_HTML_MAX_LINKS);
	CHECK(h.hidden_bytes + h.tiny_bytes + h.samecolor_bytes <=
	      4 * size + 4);
	CHECK(((h.flags & FILTER_HTML_HIDDEN) != 0) == (h.hidden_bytes > 0));
	for (size_t i = 0; i < h.nlinks; i++) {
		CHECK(strlen(h.links[i].url) <= FILTER_HTML_MAX_ATTR);
		CHECK(strlen(h.links[i].text) <= FILTER_HTML_MAX_LINK_TEXT);
		CHECK(h.links[i].kind == FILTER_LINK_HREF ||
		      h.links[i].text[0] == '\0');
	}
	/* no markup survives in the text a tag opened */
	if (memchr(data, '<', size) == NULL && memchr(data, '&', size) == NULL)
		CHECK(h.nlinks == 0);
	filter_html_free(&h);
	return 0;
}
