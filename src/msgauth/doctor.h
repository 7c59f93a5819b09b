/* doctor.h - the DNS doctor: the records a hosted domain should publish
 * (doctor_records.c) and a check of what DNS really says against them
 * (doctor_check.c, doctor_spf.c), with the exact fix for each mistake.
 * Pure functions of the server's settings, the domain's DKIM keys and
 * DNS answers asked through struct ma_dns, so tests run them against a
 * zone table and petrelctl / the API against live DNS (ma_dns_ub.c).
 * Output for people and programs: doctor_json.c. Decision 0029. */
#ifndef PETREL_DOCTOR_H
#define PETREL_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/limits.h"
#include "msgauth/ma_dns.h"
#include "store/store.h"

/* What this server is, as the records must describe it. */
struct doctor_site {
	char hostname[256];	/* the MX target and HELO name */
	char mx_backup[256];	/* "" = none */
	char ipv4[64];		/* public addresses, "" = not configured */
	char ipv6[64];
	char dmarc_rua[256];	/* "" = dmarc-reports@DOMAIN */
	char tlsrpt_rua[256];	/* "" = tls-reports@DOMAIN */
	unsigned ttl;
	/* the client services as clients are told (cfg_client_services):
	 * their SRV records; port 0 = not offered, host "" = hostname */
	struct cfg_client_services svc;
};

void doctor_site_from_config(const struct config *cfg, struct doctor_site *s);

/* ---- the records to publish ------------------------------------------- */

#define DOCTOR_VALUE_MAX 1024

enum doctor_rtype { DOCTOR_MX, DOCTOR_TXT, DOCTOR_CNAME, DOCTOR_SRV };

struct doctor_record {
	char name[SMTP_DOMAIN_MAX + 1];	/* absolute, no trailing dot */
	enum doctor_rtype type;
	char value[DOCTOR_VALUE_MAX];	/* as a provider's web panel takes it:
					 * TXT unquoted and whole; names with
					 * no trailing dot */
	unsigned ttl;
	const char *purpose;		/* "mx", "spf", "dkim", ... */
};

struct doctor_records {
	size_t n;
	struct doctor_record r[DOCTOR_RECORDS_MAX];
	/* the MTA-STS policy the _mta-sts record's id names, to be served
	 * at https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461 3.2) */
	char mta_sts_policy[1024];
};

/* The records domain (A-label, lower case) should publish, keys[0..n)
 * being its DKIM keys (those published at now get a TXT record). */
void doctor_records(const struct doctor_site *s, const char *domain,
		    const struct store_dkim_key *keys, size_t nkeys,
		    int64_t now, struct doctor_records *out);
/* "MX", "TXT", ... */
const char *doctor_rtype_name(enum doctor_rtype t);
/* One zone-file line for r: absolute names with a trailing dot; TXT
 * text split into quoted character-strings of at most 255 bytes (RFC
 * 1035 3.3.14) with '"' and '\' escaped. 0, -1 if it does not fit. */
int doctor_zone_line(const struct doctor_record *r, char *out, size_t outsz);

/* ---- the check ---------------------------------------------------------- */

enum doctor_status {
	DOCTOR_OK = 0,
	DOCTOR_MISSING,		/* not published */
	DOCTOR_WRONG,		/* published, but wrong */
	DOCTOR_UNKNOWN,		/* DNS failed: could not tell */
};

struct doctor_finding {
	enum doctor_status status;
	const char *check;		/* "mx", "spf", "dkim", "dmarc", ... */
	char name[SMTP_DOMAIN_MAX + 1];	/* the DNS name looked at */
	char what[300];			/* what was found */
	char fix[1400];			/* what to do; "" when ok */
	unsigned ttl;			/* of the answer, 0 unknown */
};

struct doctor_report {
	size_t n;
	struct doctor_finding f[DOCTOR_FINDINGS_MAX];
	unsigned max_ttl;	/* the longest TTL of what was looked at */
	size_t queries;		/* DNS questions asked */
};

/* Look up what domain publishes through dns and compare it with want
 * (doctor_records' output for the same domain and keys): MX (missing,
 * pointing elsewhere, priorities inverted, backup missing), SPF (none,
 * two, +all, over 10 lookups, not covering the public addresses), every
 * published DKIM key (missing, broken base64, not the stored key, two
 * records), DMARC (missing, two, syntax), MTA-STS and TLS-RPT TXT, the
 * mta-sts/autoconfig/autodiscover names leading to the host, the client
 * service SRV records (RFC 6186: there, leading to the host and the
 * port the service listens on), and the PTR
 * of each public address (missing, not the host name, host name
 * not resolving back to it). Bounded: DOCTOR_SPF_LOOKUPS_MAX questions
 * for SPF, DOCTOR_FINDINGS_MAX findings. */
void doctor_check(const struct ma_dns *dns, const struct doctor_site *s,
		  const char *domain, const struct doctor_records *want,
		  const struct store_dkim_key *keys, size_t nkeys,
		  int64_t now, struct doctor_report *out);
/* Whether every finding is ok. */
bool doctor_report_ok(const struct doctor_report *r);
const char *doctor_status_name(enum doctor_status s);

/* SPF (doctor_spf.c): the DNS-querying terms (include a mx ptr exists
 * redirect, RFC 7208 4.6.4) of record and of every record it includes
 * or redirects to, counted and followed to DOCTOR_SPF_DEPTH_MAX levels
 * and DOCTOR_SPF_LOOKUPS_MAX lookups; *covered set if one of addrs
 * (ipv4 / ipv6 text, "" skipped) passes through an ip4/ip6/a/mx term
 * with a pass qualifier. Returns the count. */
unsigned doctor_spf_lookups(const struct ma_dns *dns, const char *domain,
			    const char *record, const char *ipv4,
			    const char *ipv6, bool *v4_covered,
			    bool *v6_covered, size_t *queries);

/* ---- output (doctor_json.c) ---------------------------------------------- */

/* {"records":[{name,type,value,ttl,purpose,zone}...],"mta_sts_policy"} */
json_t *doctor_records_json(const struct doctor_records *r);
/* [{check,status,name,found,fix,ttl}...] */
json_t *doctor_report_json(const struct doctor_report *r);

/* ---- one run for petrelctl and the API (doctor_run.c) ------------------ */

struct doctor_run {
	char domain[SMTP_DOMAIN_MAX + 1];	/* A-label */
	struct doctor_site site;
	struct doctor_records rec;
	struct store_dkim_key *keys;		/* nkeys, owned */
	size_t nkeys;
	struct doctor_report *report;		/* after doctor_run_check */
};

/* Fill r for domain (either form; ERR_NOTFOUND if not hosted): makes its
 * DKIM keys if it has none (dkim_keys_ensure), then the records. */
int doctor_run_records(struct store *st, const struct config *cfg,
		       const char *domain, int64_t now, struct doctor_run *r,
		       struct err *err);
/* Check live DNS (cfg's dns_forwarder and dns_timeout) into r->report.
 * Blocks for up to dns_timeout per question. 0 or -1 (resolver). */
int doctor_run_check(struct doctor_run *r, const struct config *cfg,
		     int64_t now, struct err *err);
/* {"domain", "records", "mta_sts_policy", "checks" (after a check),
 * "ok", "max_ttl"} */
json_t *doctor_run_json(const struct doctor_run *r);
void doctor_run_free(struct doctor_run *r);

#endif
