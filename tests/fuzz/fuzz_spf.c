/* fuzz_spf.c - libFuzzer target for the SPF evaluator (src/msgauth/spf*.c):
 * the input is an SPF record (lines are separate TXT records of one
 * name). It goes through the record parser, the macro checker and
 * expander (as domain-spec and as explanation text), then two whole
 * checks against a fixed small zone in which the input is the record of
 * f.example.com, which example.com includes and redirects to. Results
 * are checked against spf.h's contract; a breach aborts. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "msgauth/ma_zone.h"
#include "msgauth/spf.h"
#include "msgauth/spf_private.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every query a check can make: the top record, then per DNS term at
 * most a record or MX answer plus 10 names, plus %{p} and exp=. */
#define QUERIES_MAX (1 + SPF_LOOKUPS_MAX * (2 + SPF_MX_NAMES_MAX) + \
		     1 + SPF_PTR_NAMES_MAX + 1)

static const char zone_text[] =
	"example.com TXT \"v=spf1 include:f.example.com mx a/24 ptr "
	"exists:%{ir}.bl.example.com ~all exp=e.example.com\"\n"
	"r.example.com TXT \"v=spf1 redirect=f.example.com\"\n"
	"example.com MX 10 mx.example.com\n"
	"example.com MX 20 mx2.example.com\n"
	"mx.example.com A 192.0.2.10\n"
	"mx2.example.com AAAA 2001:db8::10\n"
	"example.com A 192.0.2.20\n"
	"1.2.0.192.in-addr.arpa PTR host.example.com\n"
	"host.example.com A 192.0.2.1\n"
	"1.2.0.192.bl.example.com A 127.0.0.2\n"
	"e.example.com TXT \"%{i} not allowed for %{d} (%{p}, %{r}, %{t})\"\n"
	"loop.example.com TXT \"v=spf1 include:loop.example.com\"\n"
	"t.example.com TIMEOUT\n"
	"c.example.com CNAME f.example.com\n";

struct fuzz_dns {
	struct ma_zone *zone;
	struct ma_dns zdns;
	const uint8_t *data;
	size_t size;
};

/* f.example.com TXT: the input, one record per line */
static void fuzz_lookup(void *arg, const char *name, enum ma_rr type,
			struct ma_rrset *out)
{
	struct fuzz_dns *f = arg;

	if (strcmp(name, "f.example.com") != 0 || type != MA_RR_TXT) {
		f->zdns.lookup(f->zdns.arg, name, type, out);
		return;
	}
	size_t s = 0;
	for (size_t i = 0; i <= f->size; i++)
		if (i == f->size || f->data[i] == '\n') {
			ma_rrset_add(out, MA_RR_TXT, f->data + s, i - s, 0);
			s = i + 1;
		}
}

static void check_out(const struct spf_request *req, const struct spf_out *out)
{
	CHECK(out->result >= SPF_NONE && out->result <= SPF_PERMERROR);
	CHECK(memchr(out->reason, '\0', sizeof out->reason) != NULL);
	CHECK(memchr(out->explanation, '\0', sizeof out->explanation) != NULL);
	CHECK(memchr(out->mechanism, '\0', sizeof out->mechanism) != NULL);
	CHECK(out->result == SPF_FAIL || out->explanation[0] == '\0');
	CHECK(out->lookups <= SPF_LOOKUPS_MAX);
	CHECK(out->void_lookups <= SPF_VOID_MAX + 1);
	CHECK(out->queries <= QUERIES_MAX);
	char hdr[SPF_HEADER_MAX];
	int n = spf_received_spf(req, out, hdr, sizeof hdr);
	CHECK(n > 0 && (size_t)n == strlen(hdr));
	for (int k = 0; k < n; k++)
		CHECK(hdr[k] != '\r' || (hdr[k + 1] == '\n' && hdr[k + 2] == '\t'));
}

static const char *fixed_p(void *arg, const char *d)
{
	(void)arg;
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MA_DNS_BUF)
		return 0;
	const char *text = (const char *)data;

	struct spf_record rec;
	char why[128];
	if (spf_record_parse(text, size, &rec, why, sizeof why) == 0) {
		for (size_t k = 0; k < rec.n; k++) {
			CHECK(rec.t[k].text.p >= text && rec.t[k].text.p + rec.t[k].text.len <= text + size);
			CHECK(rec.t[k].cidr4 <= 32 && rec.t[k].cidr6 <= 128);
		}
		spf_record_free(&rec);
	} else {
		CHECK(memchr(why, '\0', sizeof why) != NULL);
	}

	static const struct spf_macro_env env = {
		.s = "a.b-c+d@x.example.com", .l = "a.b-c+d", .o = "x.example.com",
		.d = "x.example.com", .h = "helo.example.org", .r = "mx.example.net",
		.v = "in-addr", .i = "192.0.2.1", .c = "192.0.2.1", .t = "1", .p = fixed_p,
	};
	char out[SPF_EXPAND_MAX];
	size_t len = 0;
	for (int exp = 0; exp < 2; exp++) {
		int ok = spf_macro_check(text, size, exp, NULL);
		int rc = spf_macro_expand(&env, text, size, exp, out, sizeof out, &len);
		CHECK((ok == 0) == (rc != -1));
		if (rc != -1) {
			CHECK(len < sizeof out && out[len] == '\0');
			char name[SPF_EXPAND_MAX];
			memcpy(name, out, len + 1);
			if (spf_target_name(name, &len))
				CHECK(len > 0 && len <= DNS_NAME_MAX && strlen(name) == len);
		}
	}

	struct fuzz_dns f = { .zone = ma_zone_new(), .data = data, .size = size };
	struct err err = { 0 };
	CHECK(ma_zone_load(f.zone, zone_text, sizeof zone_text - 1, &err) == 0);
	ma_zone_dns(f.zone, &f.zdns);
	struct ma_dns dns = { .lookup = fuzz_lookup, .arg = &f };
	struct spf_request req = { .helo = "helo.example.org", .receiver = "mx.example.net",
				   .now = 1 };
	static const char *const senders[] = {
		"x@f.example.com", "x@example.com", "@r.example.com", "x@c.example.com",
	};
	for (size_t k = 0; k < sizeof senders / sizeof senders[0]; k++) {
		struct spf_out o;
		req.family = (size + k) % 2 ? AF_INET6 : AF_INET;
		CHECK(inet_pton(req.family, req.family == AF_INET ? "192.0.2.1" :
				"2001:db8::10", req.ip) == 1);
		req.sender = senders[k];
		spf_check_mailfrom(&dns, &req, &o);
		check_out(&req, &o);
	}
	ma_zone_free(&f.zone);
	return 0;
}
