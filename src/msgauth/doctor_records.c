/* doctor_records.c - the DNS records a hosted domain should publish, as
 * `petrelctl dns records` and GET /api/v1/domains/{d}/dns list them, and
 * their zone-file form. It decides what to publish; doctor_check.c
 * compares DNS with it. */
#include "msgauth/doctor.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "msgauth/dkim_keys.h"

void doctor_site_from_config(const struct config *cfg, struct doctor_site *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->hostname, sizeof s->hostname, "%s", cfg->hostname);
	snprintf(s->mx_backup, sizeof s->mx_backup, "%s", cfg->mx_backup);
	snprintf(s->ipv4, sizeof s->ipv4, "%s", cfg->public_ipv4);
	snprintf(s->ipv6, sizeof s->ipv6, "%s", cfg->public_ipv6);
	snprintf(s->dmarc_rua, sizeof s->dmarc_rua, "%s", cfg->dmarc_rua);
	snprintf(s->tlsrpt_rua, sizeof s->tlsrpt_rua, "%s", cfg->tlsrpt_rua);
	s->ttl = cfg->dns_record_ttl;
	cfg_client_services(cfg, &s->svc);
}

const char *doctor_rtype_name(enum doctor_rtype t)
{
	switch (t) {
	case DOCTOR_MX: return "MX";
	case DOCTOR_TXT: return "TXT";
	case DOCTOR_CNAME: return "CNAME";
	case DOCTOR_SRV: return "SRV";
	}
	return "?";
}

static struct doctor_record *add(struct doctor_records *out,
				 const struct doctor_site *s,
				 enum doctor_rtype type, const char *purpose,
				 const char *prefix, const char *domain)
{
	if (out->n == DOCTOR_RECORDS_MAX)
		return NULL;
	struct doctor_record *r = &out->r[out->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s%s%s", prefix,
		 prefix[0] ? "." : "", domain);
	r->type = type;
	r->ttl = s->ttl;
	r->purpose = purpose;
	return r;
}

static void add_value(struct doctor_records *out, const struct doctor_site *s,
		      enum doctor_rtype type, const char *purpose,
		      const char *prefix, const char *domain,
		      const char *value)
{
	struct doctor_record *r = add(out, s, type, purpose, prefix, domain);
	if (r != NULL)
		snprintf(r->value, sizeof r->value, "%s", value);
}

/* RFC 8461 3.2: the policy file; mode testing first, so that a mistake
 * costs reports, not mail. The id changes whenever the policy does. */
static void mta_sts(const struct doctor_site *s, struct doctor_records *out,
		    char *id, size_t idsz)
{
	snprintf(out->mta_sts_policy, sizeof out->mta_sts_policy,
		 "version: STSv1\r\nmode: testing\r\nmx: %s\r\n%s%s%s"
		 "max_age: 604800\r\n", s->hostname,
		 s->mx_backup[0] ? "mx: " : "", s->mx_backup,
		 s->mx_backup[0] ? "\r\n" : "");
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_Digest(out->mta_sts_policy, strlen(out->mta_sts_policy), md,
		   &mdlen, EVP_sha256(), NULL);
	size_t n = 0;
	for (unsigned i = 0; i < 10 && n + 2 < idsz; i++, n += 2)
		snprintf(id + n, idsz - n, "%02x", md[i]);
	id[n] = '\0';
}

static void srv(struct doctor_records *out, const struct doctor_site *s,
		const struct cfg_client_service *c, const char *domain)
{
	if (c->port == 0 || c->srv == NULL)
		return;
	char v[300];
	/* RFC 6186 3: priority 0, weight 1, the port clients connect to */
	snprintf(v, sizeof v, "0 1 %u %s", c->port,
		 c->host[0] ? c->host : s->hostname);
	add_value(out, s, DOCTOR_SRV, "srv", c->srv, domain, v);
}

void doctor_records(const struct doctor_site *s, const char *domain,
		    const struct store_dkim_key *keys, size_t nkeys,
		    int64_t now, struct doctor_records *out)
{
	memset(out, 0, sizeof *out);
	char v[DOCTOR_VALUE_MAX];
	snprintf(v, sizeof v, "10 %s", s->hostname);
	add_value(out, s, DOCTOR_MX, "mx", "", domain, v);
	if (s->mx_backup[0] != '\0') {
		snprintf(v, sizeof v, "20 %s", s->mx_backup);
		add_value(out, s, DOCTOR_MX, "mx", "", domain, v);
	}
	/* "mx" covers this server as long as the MX points here; the
	 * configured addresses keep mail passing while the MX moves */
	snprintf(v, sizeof v, "v=spf1 mx%s%s%s%s -all",
		 s->ipv4[0] ? " ip4:" : "", s->ipv4,
		 s->ipv6[0] ? " ip6:" : "", s->ipv6);
	add_value(out, s, DOCTOR_TXT, "spf", "", domain, v);
	for (size_t i = 0; i < nkeys; i++) {
		if (!dkim_key_published(&keys[i], now))
			continue;
		char prefix[STORE_DKIM_SELECTOR_MAX + 16];
		snprintf(prefix, sizeof prefix, "%s._domainkey",
			 keys[i].selector);
		if (dkim_key_txt(&keys[i], v, sizeof v) == 0)
			add_value(out, s, DOCTOR_TXT, "dkim", prefix, domain, v);
	}
	/* RFC 7489 6.3, and the advice of its section 10: start at p=none
	 * with reports, tighten once the reports are clean */
	if (s->dmarc_rua[0] != '\0')
		snprintf(v, sizeof v, "v=DMARC1; p=none; rua=mailto:%s",
			 s->dmarc_rua);
	else
		snprintf(v, sizeof v, "v=DMARC1; p=none; "
			 "rua=mailto:dmarc-reports@%s", domain);
	add_value(out, s, DOCTOR_TXT, "dmarc", "_dmarc", domain, v);
	char id[32];
	mta_sts(s, out, id, sizeof id);
	snprintf(v, sizeof v, "v=STSv1; id=%s", id);
	add_value(out, s, DOCTOR_TXT, "mta-sts", "_mta-sts", domain, v);
	add_value(out, s, DOCTOR_CNAME, "mta-sts", "mta-sts", domain,
		  s->hostname);
	/* RFC 8460 3 */
	if (s->tlsrpt_rua[0] != '\0')
		snprintf(v, sizeof v, "v=TLSRPTv1; rua=mailto:%s",
			 s->tlsrpt_rua);
	else
		snprintf(v, sizeof v, "v=TLSRPTv1; rua=mailto:tls-reports@%s",
			 domain);
	add_value(out, s, DOCTOR_TXT, "tls-rpt", "_smtp._tls", domain, v);
	add_value(out, s, DOCTOR_CNAME, "autoconfig", "autoconfig", domain,
		  s->hostname);
	add_value(out, s, DOCTOR_CNAME, "autoconfig", "autodiscover", domain,
		  s->hostname);
	/* RFC 6186 3.1 / RFC 8314 5.1: the TLS services first */
	for (size_t i = 0; i < CFG_SVC_N; i++)
		srv(out, s, &s->svc.s[i], domain);
}

int doctor_zone_line(const struct doctor_record *r, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s. %u IN %s ", r->name, r->ttl,
			 doctor_rtype_name(r->type));
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	size_t used = (size_t)n;
	if (r->type != DOCTOR_TXT) {
		/* the value's last word is a host name: make it absolute */
		n = snprintf(out + used, outsz - used, "%s.", r->value);
		return n < 0 || (size_t)n >= outsz - used ? -1 : 0;
	}
	size_t len = strlen(r->value);
	for (size_t at = 0; at < len || at == 0; ) {
		size_t chunk = len - at > 255 ? 255 : len - at;
		if (used + chunk * 2 + 4 >= outsz)
			return -1;
		if (at > 0)
			out[used++] = ' ';
		out[used++] = '"';
		for (size_t i = 0; i < chunk; i++) {
			char ch = r->value[at + i];
			if (ch == '"' || ch == '\\')
				out[used++] = '\\';
			out[used++] = ch;
		}
		out[used++] = '"';
		at += chunk;
		if (len == 0)
			break;
	}
	out[used] = '\0';
	return 0;
}
