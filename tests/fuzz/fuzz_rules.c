/* fuzz_rules.c - libFuzzer target for the message rules (src/filter/
 * rules*.c, through the tokenizer and src/mime/): any message, with the
 * facts set, with none and with those of its own trace fields, gives a
 * bounded list of declared symbols and a finite total. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/facts_headers.h"
#include "filter/lookalike.h"
#include "filter/rules.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct filter_weights *weights;
static struct lookalike_set *looks;
static struct imperson_set *people;

static void init(void)
{
	static const char *const prot[] = { "example.com", "paypal.com" };
	static const struct imperson_user users[] = {
		{ "Jane Smith", "ceo@example.com" },
	};
	struct err err;

	if (filter_weights_new(NULL, &weights, &err) < 0 ||
	    lookalike_set_new(prot, 2, NULL, 0, &looks, &err) < 0 ||
	    imperson_set_new(users, 1, prot, 1, &people, &err) < 0)
		abort();
}

static void check(const struct filter_syms *s)
{
	CHECK(s->n <= FILTER_SYMS_MAX);
	CHECK(isfinite(s->total));
	for (size_t i = 0; i < s->n; i++)
		CHECK(filter_sym_def_find(s->v[i].name) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const signers[] = { "esp.example" };
	static const char *const extra[] = { "xyz" };
	const struct filter_rules_conf conf = {
		.extra_exts = extra, .n_extra_exts = 1,
		.host_name = "mx.example.com",
	};
	struct filter_facts f;
	struct filter_tokens t;
	struct filter_syms s;

	if (weights == NULL)
		init();
	struct span msg = span_make(data, size);
	filter_tokenize(msg, &t);
	filter_syms_init(&s);
	filter_rules_run(NULL, msg, &t, NULL, weights, &s);
	check(&s);
	memset(&f, 0, sizeof f);
	f.have_ip = true;
	f.ip[10] = f.ip[11] = 0xff;
	f.helo = "[192.0.2.1]";
	f.mail_from = "bounce@esp.example";
	f.spf = "fail";
	f.dkim = "pass";
	f.dkim_pass_domains = signers;
	f.n_dkim_pass = 1;
	f.dmarc = "fail";
	f.dmarc_policy = "reject";
	f.lookalike = looks;
	f.imperson = people;
	f.now = 1700000000;
	filter_syms_init(&s);
	filter_rules_run(&conf, msg, &t, &f, weights, &s);
	check(&s);
	/* and with the facts read from the message's own trace fields, as
	 * `petrelctl filter score` reads them (the client's reverse name) */
	struct filter_facts_hdr fh;
	memset(&f, 0, sizeof f);
	filter_facts_from_headers(msg, &fh, &f);
	filter_syms_init(&s);
	filter_rules_run(&conf, msg, &t, &f, weights, &s);
	check(&s);
	filter_tokens_free(&t);
	return 0;
}
