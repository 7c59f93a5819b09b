/* fuzz_mime.c - libFuzzer target for src/mime/: parse arbitrary bytes
 * (with small limits so that limit paths are hit), check the tree's
 * invariants, build ENVELOPE/BODY/BODYSTRUCTURE, round-trip the cache,
 * extract the text, and run the header helpers on the input itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime/mime.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void check_tree(const struct mime_message *m, size_t len, unsigned max_depth)
{
	uint32_t n = mime_message_nparts(m);
	CHECK(n >= 1);
	for (uint32_t i = 0; i < n; i++) {
		const struct mime_part *p = mime_message_part(m, i);
		CHECK(p->hdr_start <= p->body_start && p->body_start <= p->body_end &&
		      p->body_end <= len);
		CHECK(p->depth < max_depth || (i == 0 && max_depth <= 1));
		if (i == 0) {
			CHECK(p->parent == MIME_NONE && p->body_end == len);
			continue;
		}
		CHECK(p->parent < i);
		const struct mime_part *pp = mime_message_part(m, p->parent);
		CHECK(p->hdr_start >= pp->body_start && p->body_end <= pp->body_end);
		CHECK(p->depth == pp->depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the limits; the rest is the message. */
	struct mime_limits lim;
	mime_limits_default(&lim);
	if (size > 0) {
		lim.max_depth = 1 + (data[0] & 7);
		lim.max_parts = 1 + (data[0] >> 3);
		lim.max_headers = 1 + (data[0] & 31);
		data++;
		size--;
	}
	struct mime_message *m = mime_parse(data, size, &lim);
	check_tree(m, size, lim.max_depth);

	struct buf out, cache;
	buf_init(&out, 1u << 24);
	buf_init(&cache, 1u << 24);
	CHECK(mime_envelope_imap(m, 0, &out) == 0);
	CHECK(mime_bodystructure_imap(m, 0, false, &out) == 0);
	CHECK(mime_bodystructure_imap(m, 0, true, &out) == 0);
	CHECK(mime_cache_write(m, &cache) == 0);
	struct mime_cache c;
	struct err err;
	CHECK(mime_cache_read(buf_span(&cache), &c, &err) == 0);
	CHECK(c.nparts == mime_message_nparts(m) && c.msg_size == size);
	for (uint32_t a = 0; a < 4; a++) {
		uint32_t path[3] = { a, 1, 2 };
		for (size_t pn = 0; pn <= 3; pn++)
			CHECK(mime_cache_section(&c, path, pn) ==
			      mime_message_section(m, path, pn));
	}
	/* The cache reader must also survive the input as a cache. */
	(void)mime_cache_read(span_make(data, size), &c, &err);
	struct span sh;
	if (mime_cache_search_headers(span_make(data, size), &sh) == 1) {
		CHECK(sh.p >= data && sh.p + sh.len <= data + size);
		size_t pos = 0;
		struct span fn, fv;
		while (mime_header_next(sh, &pos, &fn, &fv) == 1)
			;
	}
	/* what we wrote reads back the same way */
	CHECK(mime_cache_search_headers(buf_span(&cache), &sh) >= 0);

	buf_reset(&out);
	(void)mime_text_extract(m, MIME_TEXT_HEADERS | MIME_TEXT_BODY, &out);
	for (uint32_t i = 0; i < mime_message_nparts(m); i++) {
		buf_reset(&out);
		CHECK(mime_part_decode(m, mime_message_part(m, i), &out) == 0);
	}

	/* Header helpers on the raw input. */
	struct span v = span_make(data, size);
	buf_reset(&out);
	CHECK(mime_header_decode(v, &out) == 0);
	struct mime_addr_list l;
	mime_addr_parse(v, &l);
	for (size_t i = 0; i < l.n; i++)
		CHECK(l.addrs[i].kind <= MIME_ADDR_GROUP_END);
	mime_addr_list_free(&l);
	int64_t t;
	int zone;
	(void)mime_date_parse(v, &t, &zone);
	size_t pos = 0;
	struct span id;
	while (mime_msgid_next(v, &pos, &id) == 1)
		CHECK(id.len > 0 && pos <= size);
	struct mime_fields *mem;
	struct mime_content_type ct;
	mime_content_type_parse(v, &mem, &ct);
	for (uint32_t i = 0; i < ct.nparams; i++) {
		buf_reset(&out);
		CHECK(mime_param_utf8(&ct.params[i], &out) == 0);
	}
	mime_fields_free(&mem);

	buf_release(&out);
	buf_release(&cache);
	mime_message_free(&m);
	return 0;
}
