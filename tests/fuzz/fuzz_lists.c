/* fuzz_lists.c - libFuzzer target for the filter's allow/block lists
 * (src/filter/lists*.c): the file parser on any text (as allow, then as
 * block), and lookups built from the same lines. Checks: bad lines never
 * exceed lines; a canonical entry reads back to itself; every valid line
 * added is then found by a query made from it; a decided allow is one
 * filter_allow_applies accepts. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/lists.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines of one input looked at for queries. */
#define FUZZ_LINES 64

/* The 16-byte address of a canonical IP entry (before any '/'). */
static void entry_ip(const char *c, unsigned char ip[16])
{
	char a[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(c, "/");
	CHECK(n < sizeof a);
	memcpy(a, c, n);
	a[n] = '\0';
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, a, ip + 12) == 1)
		ip[10] = ip[11] = 0xff;
	else
		CHECK(inet_pton(AF_INET6, a, ip) == 1);
}

static void check_line(const struct filter_list *l, struct span line)
{
	char c[FILTER_LIST_TEXT_MAX], again[FILTER_LIST_TEXT_MAX];
	enum filter_entry_kind kind, kind2;
	struct err err = { 0 };
	if (filter_entry_canonical(line, c, sizeof c, &kind, &err) < 0) {
		CHECK(err.msg[0] != '\0');
		return;
	}
	CHECK(filter_entry_canonical(span_cstr(c), again, sizeof again, &kind2,
				     NULL) == 0);
	CHECK(strcmp(c, again) == 0 && kind == kind2);
	/* the parser added it, so a query made from it matches */
	struct filter_list_query q = { 0 };
	char sender[FILTER_LIST_TEXT_MAX + 8];
	unsigned char ip[16];
	switch (kind) {
	case FILTER_ENTRY_ADDRESS:
		q.sender = span_cstr(c);
		break;
	case FILTER_ENTRY_DOMAIN:
	case FILTER_ENTRY_SUBDOMAINS:
		snprintf(sender, sizeof sender, "x@%s",
			 c[0] == '.' ? c + 1 : c);
		q.sender = span_cstr(sender);
		break;
	case FILTER_ENTRY_IP:
		entry_ip(c, ip);
		q.ip = ip;
		break;
	}
	struct filter_list_match m;
	filter_list_lookup(l, &q, &m);
	CHECK(m.action != FILTER_LIST_NONE && m.entry[0] != '\0');
	CHECK(m.line >= 1 && m.file != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_list *l = filter_list_new();
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	struct span text = span_make(data, size);
	size_t half = size / 2;
	size_t nbad = filter_list_parse(l, FILTER_LIST_ALLOW,
					span_make(data, half), "allow", NULL,
					NULL);
	nbad += filter_list_parse(l, FILTER_LIST_BLOCK,
				  span_make(data + half, size - half), "block",
				  NULL, NULL);
	CHECK(nbad <= lines + 1);
	CHECK(filter_list_count(l) <= FILTER_LIST_MAX);

	const struct filter_list *const lists[FILTER_LEVELS] = { l, NULL, l };
	size_t pos = 0;
	for (int n = 0; n < FUZZ_LINES && pos < text.len; n++) {
		const unsigned char *p = text.p + pos;
		const unsigned char *nl = memchr(p, '\n', text.len - pos);
		size_t len = nl ? (size_t)(nl - p) : text.len - pos;
		pos += len + 1;
		struct span line = span_make(p, len);
		/* whole lines only of the half they were parsed in, with
		 * no comment or CR the parser would have cut */
		bool whole = (size_t)(p - text.p) >= half ||
			     (size_t)(p - text.p) + len < half;
		if (whole && len <= FILTER_LIST_LINE_MAX &&
		    memchr(p, '#', len) == NULL && memchr(p, '\r', len) == NULL)
			check_line(l, line);
		/* the line as a raw query, and a decision with it as From */
		char from[FILTER_DOMAIN_MAX + 1];
		snprintf(from, sizeof from, "%.*s", (int)(len < 200 ? len : 200),
			 (const char *)p);
		struct filter_auth auth = { .spf_pass_domain = from,
					    .from_domain = from };
		unsigned char ip[16] = { 0 };
		memcpy(ip, p, len < 16 ? len : 16);
		struct filter_list_query q = { .sender = line, .domain = line,
					       .ip = ip };
		struct filter_list_verdict v;
		filter_lists_decide(lists, &q, &auth, &v);
		CHECK(v.action == v.match.action);
		if (v.action == FILTER_LIST_ALLOW)
			CHECK(filter_allow_applies(&auth, &v.match));
		if (v.ignored_allow)
			CHECK(v.ignored.action == FILTER_LIST_ALLOW &&
			      !filter_allow_applies(&auth, &v.ignored));
	}
	filter_list_free(&l);
	return 0;
}
