/* facts_msgauth.c - filter facts from the authentication results. */
#include "filter/facts_msgauth.h"

#include <arpa/inet.h>
#include <string.h>

void filter_facts_from_msgauth(const struct msgauth_in *in,
			       const struct msgauth_out *out,
			       struct filter_facts_store *fs,
			       struct filter_facts *f)
{
	const char *why;

	if (in->family == AF_INET) {
		static const unsigned char mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		memcpy(f->ip, mapped, 12);
		memcpy(f->ip + 12, in->ip, 4);
		f->have_ip = true;
	} else if (in->family == AF_INET6) {
		memcpy(f->ip, in->ip, 16);
		f->have_ip = true;
	}
	f->helo = in->helo;
	f->mail_from = in->mail_from;
	f->now = in->now;
	fs->from_domain[0] = '\0';
	if (out != NULL && out->dmarc_checked)
		memcpy(fs->from_domain, out->dmarc.from_domain,
		       sizeof(fs->from_domain));
	else if (dmarc_from_domain(span_make(in->msg, in->len),
				   fs->from_domain, &why) != DMARC_FROM_OK)
		fs->from_domain[0] = '\0';
	f->from_domain = fs->from_domain[0] ? fs->from_domain : NULL;
	if (out == NULL)
		return;
	f->spf = spf_result_str(out->spf.result);
	f->spf_domain = out->spf.domain;
	f->n_dkim_pass = 0;
	f->dkim = out->dkim.n == 0 ? "none" :
		  dkim_result_str(out->dkim.r[0].result);
	for (size_t i = 0; i < out->dkim.n && i < DKIM_MAX_SIGS; i++) {
		if (out->dkim.r[i].result != DKIM_PASS)
			continue;
		f->dkim = "pass";
		fs->dkim_pass[f->n_dkim_pass++] = out->dkim.r[i].d;
	}
	f->dkim_pass_domains = fs->dkim_pass;
	if (out->dmarc_checked) {
		f->dmarc = dmarc_result_str(out->dmarc.result);
		f->dmarc_policy = dmarc_policy_str(out->dmarc.policy);
	}
}
