/* fuzz_tokenize.c - libFuzzer target for the tokenizer (src/filter/
 * token*.c and tokenize.c, through src/mime/): any message gives a token
 * set within the bounds, tokens distinct, each within its length cap,
 * NUL-terminated, hashed with filter_token_hash(), and findable; links
 * with text and form summaries within their caps. The
 * input is also tokenised as bare text. */
#include <stdint.h>
#include <string.h>

#include "core/limits.h"
#include "filter/token.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct filter_tokens *t)
{
	CHECK(t->n <= FILTER_TOKENS_MAX);
	CHECK(t->urls.n <= FILTER_URLS_MAX);
	CHECK(t->nlinks <= FILTER_TOKEN_LINKS_MAX);
	for (size_t i = 0; i < t->nlinks; i++)
		CHECK(t->links[i].href != NULL && t->links[i].text != NULL &&
		      t->links[i].text[0] != '\0');
	CHECK(t->forms.nactions <= FILTER_FORM_ACTIONS_MAX);
	CHECK(t->forms.passwords <= t->forms.inputs);
	for (size_t i = 0; i < t->n; i++) {
		const char *s = filter_token_str(t, i);
		CHECK(t->v[i].len > 0 && t->v[i].len <= FILTER_TOKEN_MAX + 64);
		CHECK(strlen(s) <= t->v[i].len);
		CHECK(t->v[i].hash == filter_token_hash(s, t->v[i].len));
		if (strlen(s) == t->v[i].len)
			CHECK(filter_tokens_has(t, s));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_tokens t;

	filter_tokenize(span_make(data, size), &t);
	check(&t);
	filter_tokens_free(&t);
	filter_tokens_init(&t);
	filter_tokens_text(&t, "", span_make(data, size));
	check(&t);
	filter_tokens_free(&t);
	return 0;
}
