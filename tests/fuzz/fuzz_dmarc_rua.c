/* fuzz_dmarc_rua.c - libFuzzer target for the path a DMARC record's rua=
 * takes to a report's recipient (decision 0032): any bytes as a TXT
 * record, its rua= URIs kept in a report row (dmarc_agg_row), split back
 * and read as mailto: addresses (dmarc_rua_mailto); and any bytes as a
 * row's DKIM results (dmarc_agg_dkim_results). Checks that an accepted
 * address is one plain local@domain and that results stay in bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"
#include "msgauth/dmarc_agg.h"
#include "msgauth/dmarc_send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_uri(const char *u)
{
	char addr[STORE_ADDR_MAX + 1];
	uint64_t max;
	const char *why = NULL;
	if (dmarc_rua_mailto(u, addr, sizeof addr, &max, &why) == 0) {
		const char *at = strchr(addr, '@');
		CHECK(at != NULL && at != addr && at[1] != '\0');
		for (const char *c = addr; *c; c++)
			CHECK(*c > 0x20 && *c < 0x7f && *c != '?' && *c != '%');
	} else {
		CHECK(why != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgauth_in in;
	struct msgauth_out *out = calloc(1, sizeof *out);
	struct store_dmarc_row *row = malloc(sizeof *row);
	const char *why;
	memset(&in, 0, sizeof in);
	in.family = AF_INET;
	in.now = 1764115200;
	in.mail_from = "";
	out->dmarc_checked = true;
	out->dmarc.have_record = true;
	if (dmarc_record_parse((const char *)data, size, &out->dmarc.rec,
			       &why) == 0 &&
	    dmarc_agg_row(&in, out, row)) {
		CHECK(strlen(row->rua) <= STORE_DMARC_RUA_MAX);
		char *save = NULL;
		for (char *u = strtok_r(row->rua, " ", &save); u != NULL;
		     u = strtok_r(NULL, " ", &save))
			check_uri(u);
	}
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	check_uri(s);
	char d[DMARC_REPORT_AUTH_MAX][DMARC_DOMAIN_MAX + 1];
	char sel[DMARC_REPORT_AUTH_MAX][DKIM_MAX_SELECTOR + 1];
	enum dmarc_rr res[DMARC_REPORT_AUTH_MAX];
	size_t n = dmarc_agg_dkim_results(s, d, sel, res, DMARC_REPORT_AUTH_MAX);
	CHECK(n <= DMARC_REPORT_AUTH_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(res[i] != DMARC_RR_ABSENT && strlen(d[i]) <= DMARC_DOMAIN_MAX);
	free(s);
	free(row);
	free(out);
	return 0;
}
