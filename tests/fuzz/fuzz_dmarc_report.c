/* fuzz_dmarc_report.c - libFuzzer target for the aggregate report reader
 * (src/msgauth/dmarc_report_read.c, _unpack.c, _mail.c): any bytes as XML,
 * gzip or zip, and as a report e-mail. Checks dmarc_report.h's contracts: a refused report says why and
 * leaves nothing allocated; an accepted one has its required fields and at
 * most the limits, and the writer's output of it reads back with the same
 * record count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "msgauth/dmarc_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_report r, back;
	struct err err;
	char *xml;
	size_t len;

	/* the same bytes as a report e-mail */
	if (dmarc_report_read_mail(data, size, &r, &err) == 0) {
		CHECK(r.n_records > 0);
		dmarc_report_free(&r);
	} else {
		CHECK(err.msg[0] != '\0');
	}
	if (dmarc_report_read(data, size, &r, &err) < 0) {
		CHECK(err.msg[0] != '\0');
		CHECK(r.records == NULL && r.mem == NULL);
		return 0;
	}
	CHECK(r.org_name && r.report_id && r.domain && r.n_records > 0);
	CHECK(r.n_records <= DMARC_REPORT_RECORDS_MAX && r.begin <= r.end);
	for (size_t i = 0; i < r.n_records; i++) {
		CHECK(r.records[i].source_ip && r.records[i].header_from);
		CHECK(r.records[i].n_dkim <= DMARC_REPORT_AUTH_MAX);
		CHECK(r.records[i].n_spf <= DMARC_REPORT_AUTH_MAX);
	}
	if (r.email != NULL && dmarc_report_xml(&r, &xml, &len, &err) == 0) {
		CHECK(dmarc_report_read(xml, len, &back, &err) == 0);
		CHECK(back.n_records == r.n_records);
		dmarc_report_free(&back);
		free(xml);
	}
	dmarc_report_free(&r);
	return 0;
}
