/* msgauth_inbound.c - SPF, DKIM, ARC and DMARC of one incoming message,
 * the decision, and its Authentication-Results field. */
#include "msgauth/msgauth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/span.h"

/* The header section of msg: up to its first empty line (all of it when
 * there is none). */
static struct span header_of(const char *msg, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (i + 1 < len && msg[i + 1] == '\n')
			return span_make(msg, i + 1);
		if (i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
			return span_make(msg, i + 1);
	}
	return span_make(msg, len);
}

static bool arc_trusted(const struct msgauth_conf *conf, const char *d)
{
	for (size_t i = 0; i < conf->n_arc_trusted; i++)
		if (strcasecmp(conf->arc_trusted[i], d) == 0)
			return true;
	return false;
}

static void check_dmarc(const struct ma_dns *dns, const struct msgauth_in *in,
			struct msgauth_out *out)
{
	char from[DMARC_DOMAIN_MAX + 1];
	const char *why = "";
	enum dmarc_from_rc rc = dmarc_from_domain(header_of(in->msg, in->len),
						  from, &why);
	memset(&out->dmarc, 0, sizeof out->dmarc);
	if (rc == DMARC_FROM_MISSING)
		return;		/* RFC 7489 6.6.1: no DMARC without a From */
	out->dmarc_checked = true;
	if (rc != DMARC_FROM_OK) {
		out->dmarc.result = DMARC_RESULT_PERMERROR;
		snprintf(out->dmarc.reason, sizeof out->dmarc.reason, "%s", why);
		return;
	}
	struct dmarc_dkim_sig sigs[DKIM_MAX_SIGS];
	size_t n = 0;
	for (size_t i = 0; i < out->dkim.n; i++) {
		const struct dkim_sig_result *r = &out->dkim.r[i];
		if (r->d[0] == '\0')
			continue;
		sigs[n++] = (struct dmarc_dkim_sig){
			.domain = r->d,
			.pass = r->result == DKIM_PASS,
		};
	}
	bool null_path = in->mail_from == NULL || in->mail_from[0] == '\0';
	struct dmarc_input din = {
		.from_domain = from,
		/* RFC 7489 4.1: for the null path SPF checked HELO's domain */
		.spf_domain = out->spf.domain[0] ? out->spf.domain : NULL,
		.spf_pass = out->spf.result == SPF_PASS,
		.dkim = sigs,
		.n_dkim = n,
		.arc = out->arc.sets > 0 ? arc_cv_str(out->arc.cv) : NULL,
	};
	(void)null_path;
	dmarc_evaluate(dns, &din, &out->dmarc);
}

static void decide(const struct msgauth_conf *conf, struct msgauth_out *out)
{
	const struct dmarc_eval *ev = &out->dmarc;
	out->action = MSGAUTH_DELIVER;
	if (!conf->dmarc_enforce || !out->dmarc_checked ||
	    ev->result != DMARC_RESULT_FAIL ||
	    ev->disposition == DMARC_POLICY_NONE ||
	    ev->disposition == DMARC_POLICY_UNSET)
		return;
	if (out->arc.cv == ARC_PASS && arc_trusted(conf, out->arc.d)) {
		out->arc_override = true;
		return;
	}
	if (ev->disposition == DMARC_POLICY_QUARANTINE) {
		out->action = MSGAUTH_JUNK;
		return;
	}
	out->action = MSGAUTH_REJECT;
	/* what failed, and where the sender's admin looks to fix it */
	int n = snprintf(out->reply, sizeof out->reply,
			 "550 5.7.1 Rejected by the DMARC policy of %s "
			 "(TXT _dmarc.%s): %s", ev->policy_domain,
			 ev->policy_domain, ev->reason);
	if (n > 0 && (size_t)n < sizeof out->reply &&
	    (out->spf.result == SPF_FAIL || out->spf.result == SPF_SOFTFAIL)) {
		/* cut to what is left: the reply is one bounded line */
		int m = snprintf(out->reply + n, sizeof out->reply - (size_t)n,
				 "; SPF %s: %.160s (TXT %.100s)",
				 spf_result_str(out->spf.result),
				 out->spf.reason, out->spf.domain);
		(void)m;
	}
	for (char *p = out->reply; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
			*p = '?';
}

static void write_ar(const struct msgauth_conf *conf,
		     const struct msgauth_in *in, struct msgauth_out *out)
{
	struct ar_result r[4 + DKIM_MAX_SIGS];
	size_t n = 0;
	char mf[SPF_SENDER_MAX + 32], helo[DNS_NAME_MAX + 16];
	bool null_path = in->mail_from == NULL || in->mail_from[0] == '\0';
	r[n] = (struct ar_result){ .method = "spf",
				   .result = spf_result_str(out->spf.result) };
	if (null_path) {
		snprintf(helo, sizeof helo, "smtp.helo=%s", out->spf.domain);
		r[n].props[r[n].nprops++] = helo;
	} else {
		snprintf(mf, sizeof mf, "smtp.mailfrom=%s", out->spf.sender);
		r[n].props[r[n].nprops++] = mf;
	}
	n++;
	if (out->spf_helo_checked) {
		snprintf(helo, sizeof helo, "smtp.helo=%s", out->spf_helo.domain);
		r[n++] = (struct ar_result){ .method = "spf",
			.result = spf_result_str(out->spf_helo.result),
			.nprops = 1, .props = { helo } };
	}

	char dprops[DKIM_MAX_SIGS][4][DNS_NAME_MAX + 16];
	if (out->dkim_bad_message) {
		r[n++] = (struct ar_result){ .method = "dkim",
					     .result = "permerror",
					     .reason = "not a message" };
	} else if (out->dkim.n == 0) {
		r[n++] = (struct ar_result){ .method = "dkim", .result = "none" };
	}
	for (size_t i = 0; i < out->dkim.n; i++) {
		const struct dkim_sig_result *d = &out->dkim.r[i];
		struct ar_result *a = &r[n++];
		*a = (struct ar_result){ .method = "dkim",
					 .result = dkim_result_str(d->result),
					 .reason = d->reason[0] ? d->reason : NULL };
		static const char *const names[4] = {
			"header.d", "header.i", "header.s", "header.b" };
		const char *vals[4] = { d->d, d->i, d->s, d->b8 };
		for (size_t k = 0; k < 4; k++) {
			if (vals[k][0] == '\0')
				continue;
			snprintf(dprops[i][k], sizeof dprops[i][k], "%s=%s",
				 names[k], vals[k]);
			a->props[a->nprops++] = dprops[i][k];
		}
	}

	char arcc[64];
	if (out->arc.sets > 0) {
		snprintf(arcc, sizeof arcc, "i=%u", out->arc.sets);
		r[n++] = (struct ar_result){ .method = "arc",
			.result = arc_cv_str(out->arc.cv), .comment = arcc,
			.reason = out->arc.reason[0] ? out->arc.reason : NULL };
	}

	char dmc[96], hf[DMARC_DOMAIN_MAX + 16], pol[48];
	if (out->dmarc_checked) {
		const struct dmarc_eval *ev = &out->dmarc;
		struct ar_result *a = &r[n++];
		*a = (struct ar_result){ .method = "dmarc",
					 .result = dmarc_result_str(ev->result) };
		if (ev->have_record) {
			snprintf(dmc, sizeof dmc, "p=%s sp=%s dis=%s%s",
				 dmarc_policy_str(ev->rec.p),
				 dmarc_policy_str(ev->rec.sp ? ev->rec.sp : ev->rec.p),
				 dmarc_policy_str(ev->disposition),
				 out->arc_override ? " arc=override" : "");
			a->comment = dmc;
			snprintf(pol, sizeof pol, "policy.dmarc=%s",
				 dmarc_policy_str(ev->policy));
		}
		if (ev->result == DMARC_RESULT_PERMERROR && ev->reason[0])
			a->reason = ev->reason;
		if (ev->from_domain[0]) {
			snprintf(hf, sizeof hf, "header.from=%s", ev->from_domain);
			a->props[a->nprops++] = hf;
		}
		if (ev->have_record)
			a->props[a->nprops++] = pol;
	}

	struct buf b;
	buf_init(&b, AR_MAX);
	if (ar_format(&b, conf->authserv_id, r, n) == 0 && b.len <= sizeof out->ar) {
		memcpy(out->ar, b.data, b.len);
		out->ar_len = b.len;
	}
	buf_release(&b);
}

void msgauth_inbound(const struct ma_dns *dns, const struct msgauth_conf *conf,
		     const struct msgauth_in *in, struct msgauth_out *out)
{
	memset(out, 0, sizeof *out);
	struct spf_request req = {
		.family = in->family,
		.sender = in->mail_from,
		.helo = in->helo,
		.receiver = conf->authserv_id,
		.now = (long long)in->now,
	};
	memcpy(req.ip, in->ip, sizeof req.ip);
	spf_check_mailfrom(dns, &req, &out->spf);
	/* RFC 7208 2.3 recommends checking HELO too; recorded, it decides
	 * nothing (DMARC uses the MAIL FROM identity). For the null path the
	 * MAIL FROM check already was the HELO one. */
	if (in->mail_from != NULL && in->mail_from[0] != '\0' &&
	    in->helo != NULL && in->helo[0] != '\0') {
		spf_check_helo(dns, &req, &out->spf_helo);
		out->spf_helo_checked = true;
	}

	struct err err;
	struct dkim_verify_opts vo = { .now = in->now };
	if (dkim_verify(in->msg, in->len, dns, &vo, &out->dkim, &err) != 0) {
		out->dkim_bad_message = true;
		out->dkim.n = 0;
	}
	if (arc_verify(in->msg, in->len, dns, in->now, &out->arc, &err) != 0)
		memset(&out->arc, 0, sizeof out->arc);
	check_dmarc(dns, in, out);
	decide(conf, out);
	write_ar(conf, in, out);
}

void msgauth_summary(const struct msgauth_out *out, char *buf, size_t bufsz)
{
	static const char *const actions[] = { "deliver", "junk", "reject" };
	const char *dkim = out->dkim_bad_message ? "permerror" :
			   out->dkim.n == 0 ? "none" :
			   dkim_result_str(out->dkim.r[0].result);
	for (size_t i = 0; i < out->dkim.n; i++)
		if (out->dkim.r[i].result == DKIM_PASS)
			dkim = "pass";
	const char *rdns = out->rdns == MA_RDNS_OK ? out->rdns_name :
			   out->rdns == MA_RDNS_NONE ? "none" : "temperror";
	snprintf(buf, bufsz, "spf=%s dkim=%s arc=%s dmarc=%s action=%s%s rdns=%s",
		 spf_result_str(out->spf.result), dkim,
		 out->arc.sets ? arc_cv_str(out->arc.cv) : "none",
		 out->dmarc_checked ? dmarc_result_str(out->dmarc.result) : "none",
		 actions[out->action], out->arc_override ? " arc-override" : "",
		 rdns);
}
