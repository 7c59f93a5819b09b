/* fuzz_doctor.c - libFuzzer target for what the DNS doctor reads from
 * DNS: the live backend's rdata decoder on the input, and the whole
 * check with every question answered from the input (records split at
 * '\n'; the first byte of a record picks its type's shape), so SPF,
 * DKIM, DMARC, MX and PTR checks meet arbitrary answers. Work must stay
 * bounded: the number of questions is checked. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "msgauth/doctor.h"
#include "msgauth/ma_dns_ub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
	size_t asked;
};

static void answer(void *arg, const char *name, enum ma_rr type,
		   struct ma_rrset *out)
{
	struct input *in = arg;
	(void)name;
	in->asked++;
	if (in->n == 0) {
		out->rc = MA_DNS_NXDOMAIN;
		return;
	}
	if (in->p[0] == 'T') {
		out->rc = MA_DNS_TEMPFAIL;
		return;
	}
	const uint8_t *p = in->p + 1, *end = in->p + in->n;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (type == MA_RR_A && len >= 4)
			ma_rrset_add(out, type, p, 4, 0);
		else if (type == MA_RR_AAAA && len >= 16)
			ma_rrset_add(out, type, p, 16, 0);
		else if (type != MA_RR_A && type != MA_RR_AAAA)
			ma_rrset_add(out, type, p, len, len > 0 ? p[0] : 0);
		p += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ma_rrset *s = xmalloc(sizeof *s);
	ma_rrset_reset(s);
	for (enum ma_rr t = MA_RR_A; t <= MA_RR_SRV; t++)
		(void)ma_dns_ub_rdata(t, data, size, s);
	free(s);

	struct doctor_site site;
	memset(&site, 0, sizeof site);
	snprintf(site.hostname, sizeof site.hostname, "%s", "mail.host.test");
	snprintf(site.mx_backup, sizeof site.mx_backup, "%s", "backup.host.test");
	strcpy(site.ipv4, "192.0.2.10");
	strcpy(site.ipv6, "2001:db8::10");
	site.ttl = 300;
	struct store_dkim_key k;
	memset(&k, 0, sizeof k);
	snprintf(k.selector, sizeof k.selector, "%s", "p1");
	snprintf(k.algorithm, sizeof k.algorithm, "%s", "ed25519");
	snprintf(k.public_key, sizeof k.public_key, "%s", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	struct doctor_records *want = xmalloc(sizeof *want);
	struct doctor_report *rep = xmalloc(sizeof *rep);
	doctor_records(&site, "ex.test", &k, 1, 0, want);
	struct input in = { data, size, 0 };
	struct ma_dns dns = { answer, &in };
	doctor_check(&dns, &site, "ex.test", want, &k, 1, 0, rep);
	/* SPF: at most the lookup bound of questions, plus 10 MX hosts'
	 * two address questions at each; the other checks a handful */
	if (in.asked > 32 + DOCTOR_SPF_LOOKUPS_MAX * 21 || rep->n > DOCTOR_FINDINGS_MAX)
		abort();
	free(want);
	free(rep);
	return 0;
}
