/* fuzz_url.c - libFuzzer target for URL extraction and normalisation
 * (src/filter/url_*.c): within the bounds; every kept URL is
 * scheme://host/..., its host is the one in the URL, ASCII, and
 * normalising the normal form again gives it back unchanged. */
#include <stdint.h>
#include <string.h>

#include "core/limits.h"
#include "filter/url.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const struct filter_url *u)
{
	const char *rest;

	if (strncmp(u->url, "http://", 7) == 0)
		rest = u->url + 7;
	else {
		CHECK(strncmp(u->url, "https://", 8) == 0);
		rest = u->url + 8;
	}
	size_t hl = strlen(u->host);
	CHECK(hl > 0 && strncmp(rest, u->host, hl) == 0);
	CHECK(rest[hl] == '/' || rest[hl] == ':');
	CHECK(u->host_u != NULL);
	if (!(u->flags & FILTER_URL_BAD_HOST))
		for (size_t i = 0; i < hl; i++)
			CHECK((unsigned char)u->host[i] < 0x80 &&
			      (u->host[i] < 'A' || u->host[i] > 'Z'));
	if (u->flags & FILTER_URL_IP_OBFUSCATED)
		CHECK(u->flags & FILTER_URL_IP);
	/* idempotent: the normal form is its own normal form */
	struct filter_url again;
	if (!(u->flags & (FILTER_URL_BAD_HOST | FILTER_URL_TRUNCATED)) &&
	    strlen(u->url) <= FILTER_URL_MAX_LEN) {
		CHECK(filter_url_normalise(span_cstr(u->url), &again) == 0);
		CHECK(strcmp(again.url, u->url) == 0);
		CHECK(strcmp(again.host, u->host) == 0);
		filter_url_clear(&again);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_urls l;
	struct filter_url u;

	filter_urls_init(&l);
	filter_urls_from_text(&l, span_make(data, size));
	CHECK(l.n <= FILTER_URLS_MAX);
	CHECK(l.n + l.dropped <= l.seen);
	for (size_t i = 0; i < l.n; i++) {
		check_url(&l.v[i]);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(l.v[i].url, l.v[k].url) != 0);
	}
	filter_urls_free(&l);
	/* the whole input as one URL */
	if (filter_url_normalise(span_make(data, size), &u) == 0) {
		check_url(&u);
		filter_url_clear(&u);
	} else {
		CHECK(u.url == NULL && u.host == NULL);
	}
	return 0;
}
