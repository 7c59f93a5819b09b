/* dmarc_eval.c - policy discovery (RFC 7489 6.6.3) and evaluation of a
 * message's SPF and DKIM results against it (6.6.2, 6.6.4), with RFC 9091
 * np= for non-existent subdomains. No reports, no storage: the caller
 * keeps the struct dmarc_eval. */
#include "msgauth/dmarc.h"

#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dmarc_private.h"

/* One TXT lookup at _dmarc.<domain>: FOUND with the record, NONE when
 * there is no DMARC record (empty *why) or no usable one (*why says), or
 * TEMPERROR. */
static enum dmarc_found disc_query(const struct ma_dns *dns, const char *domain,
				   struct dmarc_discovery *out, size_t *n_dmarc)
{
	char name[DMARC_DOMAIN_MAX + 8];
	struct ma_rrset *rs = malloc(sizeof(*rs));
	const struct ma_rr_data *rr = NULL;

	*n_dmarc = 0;
	if (rs == NULL) {
		dmarc_say(out->why, sizeof(out->why), "out of memory");
		return DMARC_FOUND_TEMPERROR;
	}
	dmarc_say(name, sizeof(name), "_dmarc.%s", domain);
	ma_rrset_reset(rs);
	ma_dns_query(dns, name, MA_RR_TXT, rs);
	if (rs->rc == MA_DNS_TEMPFAIL) {
		dmarc_say(out->why, sizeof(out->why),
			 "DNS timeout or server failure looking up %s", name);
		free(rs);
		return DMARC_FOUND_TEMPERROR;
	}
	/* 6.6.3 steps 2 and 4: only records starting with v=DMARC1 count. */
	for (size_t i = 0; rs->rc == MA_DNS_OK && i < rs->n; i++)
		if (dmarc_record_is_dmarc((const char *)rs->rr[i].data, rs->rr[i].len)) {
			if ((*n_dmarc)++ == 0)
				rr = &rs->rr[i];
		}
	enum dmarc_found f = DMARC_FOUND_NONE;
	if (*n_dmarc > 1) {
		/* step 5: several records, no DMARC processing */
		dmarc_say(out->why, sizeof(out->why),
			 "%zu DMARC records at %s: none applies", *n_dmarc, name);
	} else if (*n_dmarc == 1) {
		const char *why = NULL;
		dmarc_say(out->domain, sizeof(out->domain), "%s", domain);
		if (rr->len > DMARC_RECORD_MAX) {
			dmarc_say(out->why, sizeof(out->why), "record at %s too long", name);
		} else {
			memcpy(out->text, rr->data, rr->len);
			out->text[rr->len] = '\0';
			if (dmarc_record_parse(out->text, rr->len, &out->rec, &why) == 0)
				f = DMARC_FOUND;
			else
				dmarc_say(out->why, sizeof(out->why), "record at %s: %s",
					 name, why);
		}
	}
	free(rs);
	return f;
}

void dmarc_discover(const struct ma_dns *dns, const char *from_domain,
		    struct dmarc_discovery *out)
{
	char org[DMARC_DOMAIN_MAX + 1];
	size_t n;

	memset(out, 0, sizeof(*out));
	out->found = disc_query(dns, from_domain, out, &n);
	/* step 3: only an empty set moves on to the organisational domain */
	if (out->found != DMARC_FOUND_NONE || n > 0)
		return;
	if (!dmarc_org_domain(from_domain, org) || strcmp(org, from_domain) == 0) {
		dmarc_say(out->why, sizeof(out->why), "no DMARC record for %s", from_domain);
		return;
	}
	out->found = disc_query(dns, org, out, &n);
	out->org_record = out->found == DMARC_FOUND;
	if (out->found == DMARC_FOUND_NONE && n == 0)
		dmarc_say(out->why, sizeof(out->why), "no DMARC record for %s or %s",
			 from_domain, org);
}

/* RFC 9091 2.1: a domain is non-existent when A, AAAA and MX all answer
 * NXDOMAIN or NODATA. A DNS failure counts as existing (sp applies). */
static bool eval_nonexistent(const struct ma_dns *dns, const char *domain)
{
	static const enum ma_rr types[] = { MA_RR_A, MA_RR_AAAA, MA_RR_MX };
	struct ma_rrset *rs = malloc(sizeof(*rs));
	bool none = rs != NULL;

	for (size_t i = 0; none && i < sizeof(types) / sizeof(types[0]); i++) {
		ma_rrset_reset(rs);
		ma_dns_query(dns, domain, types[i], rs);
		none = rs->rc == MA_DNS_NXDOMAIN || rs->rc == MA_DNS_NODATA;
	}
	free(rs);
	return none;
}

static enum dmarc_policy lower(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

static unsigned eval_rand(const struct dmarc_input *in)
{
	if (in->rand != NULL)
		return in->rand(in->rand_arg) % 100;
	return arc4random_uniform(100);
}

static void eval_align(const struct dmarc_input *in, struct dmarc_eval *out)
{
	const struct dmarc_record *r = &out->rec;

	for (size_t i = 0; i < in->n_dkim; i++) {
		const struct dmarc_dkim_sig *s = &in->dkim[i];
		if (s->domain == NULL)
			continue;
		if (s->pass && out->dkim_aligned[0] == '\0' &&
		    dmarc_aligned(s->domain, out->from_domain, r->adkim) &&
		    dmarc_domain_norm(s->domain, strlen(s->domain), out->dkim_aligned) < 0)
			out->dkim_aligned[0] = '\0';
		if (s->weak_key_bits && out->weak_key_bits == 0 &&
		    dmarc_aligned(s->domain, out->from_domain, DMARC_ALIGN_RELAXED))
			out->weak_key_bits = s->weak_key_bits;
	}
	if (in->spf_pass && in->spf_domain != NULL &&
	    dmarc_aligned(in->spf_domain, out->from_domain, r->aspf) &&
	    dmarc_domain_norm(in->spf_domain, strlen(in->spf_domain), out->spf_aligned) < 0)
		out->spf_aligned[0] = '\0';
}

static void eval_policy(const struct ma_dns *dns, struct dmarc_eval *out)
{
	const struct dmarc_record *r = &out->rec;

	out->which = DMARC_WHICH_P;
	out->policy = r->p;
	if (out->org_record) {
		/* 6.6.3: a record found at the organisational domain speaks
		 * for a subdomain through sp= (RFC 9091 3.2: np= for one that
		 * does not exist). */
		if (r->np != DMARC_POLICY_UNSET && eval_nonexistent(dns, out->from_domain)) {
			out->which = DMARC_WHICH_NP;
			out->policy = r->np;
			out->nonexistent = true;
		} else if (r->sp != DMARC_POLICY_UNSET) {
			out->which = DMARC_WHICH_SP;
			out->policy = r->sp;
		}
	}
	if (r->testing && out->policy != DMARC_POLICY_NONE)
		out->policy = lower(out->policy);	/* RFC 9989 t=y */
}

void dmarc_evaluate(const struct ma_dns *dns, const struct dmarc_input *in,
		    struct dmarc_eval *out)
{
	struct dmarc_discovery *d;

	memset(out, 0, sizeof(*out));
	/* the ARC result goes into a header comment: letters only */
	for (size_t i = 0; in->arc != NULL && in->arc[i] && i + 1 < sizeof(out->arc); i++) {
		char c = in->arc[i];
		out->arc[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? c : '?';
	}
	if (in->from_domain == NULL ||
	    dmarc_domain_norm(in->from_domain, strlen(in->from_domain), out->from_domain) < 0) {
		out->result = DMARC_RESULT_PERMERROR;
		out->from_domain[0] = '\0';
		dmarc_say(out->reason, sizeof(out->reason),
			 "no usable RFC5322.From domain");
		return;
	}
	d = malloc(sizeof(*d));
	if (d == NULL) {
		out->result = DMARC_RESULT_TEMPERROR;
		dmarc_say(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	dmarc_discover(dns, out->from_domain, d);
	if (d->found != DMARC_FOUND) {
		out->result = d->found == DMARC_FOUND_TEMPERROR
			? DMARC_RESULT_TEMPERROR : DMARC_RESULT_NONE;
		dmarc_say(out->reason, sizeof(out->reason), "%s", d->why);
		free(d);
		return;
	}
	out->have_record = true;
	out->rec = d->rec;
	out->org_record = d->org_record;
	memcpy(out->policy_domain, d->domain, sizeof(out->policy_domain));
	memcpy(out->record_text, d->text, sizeof(out->record_text));
	free(d);

	eval_policy(dns, out);
	eval_align(in, out);
	if (out->dkim_aligned[0] != '\0' || out->spf_aligned[0] != '\0') {
		out->result = DMARC_RESULT_PASS;
		out->disposition = DMARC_POLICY_NONE;
		dmarc_say(out->reason, sizeof(out->reason), "%s aligned with %s",
			 out->dkim_aligned[0] ? "DKIM" : "SPF", out->from_domain);
		return;
	}
	out->result = DMARC_RESULT_FAIL;
	out->disposition = out->policy;
	/* 6.6.4: pct selects the messages the policy applies to; the others
	 * get the next policy down. pct=100 draws nothing. */
	if (out->policy != DMARC_POLICY_NONE && out->rec.pct < 100 &&
	    eval_rand(in) >= out->rec.pct) {
		out->sampled_out = true;
		out->disposition = lower(out->policy);
	}
	dmarc_say(out->reason, sizeof(out->reason),
		 "DMARC policy of %s (%s=%s): no DKIM signature or SPF pass aligned with %s",
		 out->policy_domain, dmarc_which_str(out->which),
		 dmarc_policy_str(out->policy), out->from_domain);
}

const char *dmarc_result_str(enum dmarc_result r)
{
	switch (r) {
	case DMARC_RESULT_NONE: return "none";
	case DMARC_RESULT_PASS: return "pass";
	case DMARC_RESULT_FAIL: return "fail";
	case DMARC_RESULT_TEMPERROR: return "temperror";
	case DMARC_RESULT_PERMERROR: return "permerror";
	}
	return "permerror";
}

const char *dmarc_which_str(enum dmarc_which w)
{
	switch (w) {
	case DMARC_WHICH_P: return "p";
	case DMARC_WHICH_SP: return "sp";
	case DMARC_WHICH_NP: return "np";
	case DMARC_WHICH_NONE: break;
	}
	return "none";
}

int dmarc_auth_results(const struct dmarc_eval *ev, char *out, size_t outsz)
{
	char comment[128] = "";
	int n;

	if (ev->have_record) {
		const struct dmarc_record *r = &ev->rec;
		n = snprintf(comment, sizeof(comment), " (p=%s", dmarc_policy_str(r->p));
		if (r->sp != DMARC_POLICY_UNSET)
			n += snprintf(comment + n, sizeof(comment) - (size_t)n, " sp=%s",
				      dmarc_policy_str(r->sp));
		n += snprintf(comment + n, sizeof(comment) - (size_t)n, " dis=%s%s%s%s)",
			      dmarc_policy_str(ev->disposition),
			      ev->sampled_out ? " pct" : "",
			      ev->arc[0] ? " arc=" : "", ev->arc);
	} else if (ev->arc[0]) {
		snprintf(comment, sizeof(comment), " (arc=%s)", ev->arc);
	}
	/* RFC 8601 2.2: header.from is a domain here (RFC 7489 11.2), and
	 * policy.dmarc names the policy that was asked for. */
	if (ev->from_domain[0] == '\0')
		n = snprintf(out, outsz, "dmarc=%s%s", dmarc_result_str(ev->result), comment);
	else if (ev->have_record)
		n = snprintf(out, outsz, "dmarc=%s%s header.from=%s policy.dmarc=%s",
			     dmarc_result_str(ev->result), comment, ev->from_domain,
			     dmarc_policy_str(ev->policy));
	else
		n = snprintf(out, outsz, "dmarc=%s%s header.from=%s",
			     dmarc_result_str(ev->result), comment, ev->from_domain);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

void dmarc_say(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	if (n < 0 && sz > 0)
		buf[0] = '\0';
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
}
