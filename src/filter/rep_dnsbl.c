/* rep_dnsbl.c - DNS blocklists (RFC 5782): the zone syntax, the query
 * names of an address and a domain, which answers count, and the check
 * of one message with a bounded number of queries. Every failure is "not
 * listed": a blocklist that is down must not stop mail. */
#include "filter/rep_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/xmalloc.h"
#include "filter/facts.h"
#include "filter/sym.h"
#include "filter/url.h"
#include "msgauth/dmarc.h"
#include "msgauth/ma_dns.h"

static int parse_v4(const char *s, size_t n, uint32_t *out)
{
	char b[INET_ADDRSTRLEN];
	struct in_addr a;

	if (n == 0 || n >= sizeof b)
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	if (inet_pton(AF_INET, b, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/* "127.0.0.2-127.0.0.11|127.0.0.20" or "&14" */
static int parse_codes(const char *s, size_t n, struct rep_zone *z)
{
	if (n > 0 && s[0] == '&') {
		char b[8];
		char *end;
		unsigned long m;

		if (n - 1 == 0 || n - 1 >= sizeof b)
			return -1;
		memcpy(b, s + 1, n - 1);
		b[n - 1] = '\0';
		errno = 0;
		m = strtoul(b, &end, 0);
		if (errno != 0 || *end != '\0' || m == 0 || m > 255 ||
		    b[0] == '-' || b[0] == '+')
			return -1;
		z->mask = (unsigned)m;
		return 0;
	}
	while (n > 0) {
		const char *bar = memchr(s, '|', n);
		size_t len = bar ? (size_t)(bar - s) : n;
		const char *dash = memchr(s, '-', len);
		uint32_t lo, hi;

		if (z->nranges == FILTER_REP_ZONE_RANGES_MAX)
			return -1;
		if (dash == NULL) {
			if (parse_v4(s, len, &lo) != 0)
				return -1;
			hi = lo;
		} else if (parse_v4(s, (size_t)(dash - s), &lo) != 0 ||
			   parse_v4(dash + 1, len - (size_t)(dash - s) - 1,
				    &hi) != 0 || hi < lo) {
			return -1;
		}
		z->lo[z->nranges] = lo;
		z->hi[z->nranges] = hi;
		z->nranges++;
		if (bar == NULL)
			break;
		n -= len + 1;
		s = bar + 1;
		if (n == 0)
			return -1;
	}
	return 0;
}

static int parse_weight(const char *s, size_t n, double *out)
{
	char b[32];
	char *end;
	double d;

	if (n == 0 || n >= sizeof b)
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	errno = 0;
	d = strtod(b, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d) || d < 0 || d > 1000)
		return -1;
	*out = d;
	return 0;
}

static int parse_zone(const char *s, size_t n, struct rep_zone *z,
		      struct err *err)
{
	const char *colon = memchr(s, ':', n);
	size_t rest = colon ? (size_t)(colon - s) : n;
	const char *eq = memchr(s, '=', rest);
	size_t name_len = eq ? (size_t)(eq - s) : rest;
	int shown = n > 80 ? 80 : (int)n;

	memset(z, 0, sizeof *z);
	z->weight = -1;
	if (name_len > sizeof z->name - 1 ||
	    dmarc_domain_norm(s, name_len, z->name) != 0 ||
	    strchr(z->name, '.') == NULL)
		return err_set(err, ERR_CONFIG, 0, NULL, "blocklist zone "
			       "\"%.*s\": not a domain name", shown, s);
	if (eq != NULL &&
	    parse_codes(eq + 1, rest - name_len - 1, z) != 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "blocklist zone "
			       "\"%.*s\": bad return codes (expected "
			       "127.0.0.2-127.0.0.11|127.0.0.20 or &MASK, at "
			       "most %d ranges)", shown, s,
			       FILTER_REP_ZONE_RANGES_MAX);
	if (colon != NULL &&
	    parse_weight(colon + 1, n - rest - 1, &z->weight) != 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "blocklist zone "
			       "\"%.*s\": bad weight (a number from 0 to 1000)", shown, s);
	return 0;
}

int rep_zones_parse(const char *spec, struct rep_zones *out, struct err *err)
{
	const char *p = spec ? spec : "", *item;
	size_t len;

	memset(out, 0, sizeof *out);
	while (cfg_list_next(&p, &item, &len)) {
		if (out->n == FILTER_REP_ZONES_MAX)
			return err_set(err, ERR_CONFIG, 0, NULL, "more than %d "
				       "blocklist zones", FILTER_REP_ZONES_MAX);
		if (parse_zone(item, len, &out->z[out->n], err) != 0)
			return -1;
		out->n++;
	}
	return 0;
}

/* IPv4 held as ::ffff:a.b.c.d */
static bool is_v4(const unsigned char ip[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						  0xff, 0xff };

	return memcmp(ip, mapped, sizeof mapped) == 0;
}

int rep_ip_qname(const unsigned char ip[16], const char *zone, char *out,
		 size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	char b[80];
	size_t n = 0;
	int rc;

	if (is_v4(ip)) {
		rc = snprintf(b, sizeof b, "%u.%u.%u.%u", ip[15], ip[14], ip[13],
			      ip[12]);
		if (rc < 0 || (size_t)rc >= sizeof b)
			return -1;
	} else {
		/* RFC 5782 2.4: the nibbles of all 16 octets, low first */
		for (int i = 15; i >= 0; i--) {
			b[n++] = hex[ip[i] & 15];
			b[n++] = '.';
			b[n++] = hex[ip[i] >> 4];
			b[n++] = '.';
		}
		b[n - 1] = '\0';
	}
	rc = snprintf(out, outsz, "%s.%s", b, zone);
	return rc < 0 || (size_t)rc >= outsz || rc > 253 ? -1 : 0;
}

bool rep_zone_code_counts(const struct rep_zone *z, uint32_t code)
{
	/* RFC 5782 2.1: answers are in 127.0.0.0/8; Spamhaus and others
	 * answer 127.255.255.x for "refused" or "over quota", which says
	 * nothing about the address */
	if ((code >> 24) != 127 || (code >> 8) == 0x7fffff)
		return false;
	/* RFC 5782 5: 127.0.0.1 is never a listing */
	if (code == 0x7f000001)
		return false;
	if (z->mask != 0)
		return (code & 0xff & z->mask) != 0;
	if (z->nranges == 0)
		return true;
	for (size_t i = 0; i < z->nranges; i++)
		if (code >= z->lo[i] && code <= z->hi[i])
			return true;
	return false;
}

enum rep_listed rep_dnsbl_ask(const struct ma_dns *d, const struct rep_zone *z,
			      const char *name, struct ma_rrset *rrs,
			      uint32_t *code_out)
{
	ma_rrset_reset(rrs);
	ma_dns_query(d, name, MA_RR_A, rrs);
	if (rrs->rc != MA_DNS_OK)
		return REP_NOT_LISTED;
	for (size_t i = 0; i < rrs->n; i++) {
		const unsigned char *a = rrs->rr[i].data;
		uint32_t code;

		if (rrs->rr[i].len != 4)
			continue;
		code = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		       (uint32_t)a[2] << 8 | a[3];
		if (rep_zone_code_counts(z, code)) {
			*code_out = code;
			return REP_LISTED;
		}
	}
	return REP_NOT_LISTED;
}

bool rep_ip_is_local(const unsigned char ip[16])
{
	static const unsigned char zero[16];

	if (is_v4(ip)) {
		const unsigned char *a = ip + 12;

		return a[0] == 0 || a[0] == 10 || a[0] == 127 ||
		       (a[0] == 169 && a[1] == 254) ||
		       (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) ||
		       (a[0] == 100 && (a[1] & 0xc0) == 64);
	}
	if (memcmp(ip, zero, 15) == 0 && ip[15] <= 1)
		return true;			/* :: and ::1 */
	return (ip[0] & 0xfe) == 0xfc ||	/* fc00::/7 */
	       (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80);	/* fe80::/10 */
}

/* Room for what the details list. */
struct hits {
	char text[FILTER_SYM_DETAIL_MAX];
	size_t len;
	double score;
};

static void hit(struct hits *h, const struct filter_weights *w,
		const char *sym, const struct rep_zone *z, const char *what,
		uint32_t code)
{
	double score = z->weight >= 0 ? z->weight : filter_weight(w, sym);
	int rc;

	/* the weights file's 0 for the symbol turns every zone off */
	if (filter_weight(w, sym) == 0)
		return;
	if (score > h->score)
		h->score = score;
	rc = snprintf(h->text + h->len, sizeof h->text - h->len,
		      "%s%s@%s=127.%u.%u.%u", h->len ? " " : "", what, z->name,
		      (code >> 16) & 255, (code >> 8) & 255, code & 255);
	if (rc > 0)
		h->len += (size_t)rc < sizeof h->text - h->len ?
			  (size_t)rc : sizeof h->text - h->len - 1;
}

static void add(struct filter_syms *out, const struct filter_weights *w,
		const char *sym, const struct hits *h)
{
	double base = filter_weight(w, sym);

	if (h->len == 0 || base == 0)
		return;
	/* scored as the heaviest zone that lists it (the return value is
	 * that score, known already) */
	(void)filter_sym_add(out, w, sym, h->score / base, "%s", h->text);
}

void rep_dnsbl_check(const struct rep_zones *ipz, const struct rep_zones *dz,
		     unsigned max_lookups, const struct filter_urls *urls,
		     const struct filter_facts *facts,
		     const struct filter_weights *w, struct filter_syms *out)
{
	struct ma_rrset *rrs;
	struct hits ip_hits = { { 0 }, 0, 0 }, dom_hits = { { 0 }, 0, 0 };
	char name[512];
	unsigned budget = max_lookups;
	uint32_t code;

	if (facts == NULL || facts->dns == NULL || (ipz->n == 0 && dz->n == 0))
		return;
	rrs = xmalloc(sizeof *rrs);
	if (facts->have_ip && !facts->internal && !rep_ip_is_local(facts->ip)) {
		char ipt[INET6_ADDRSTRLEN] = "";
		bool v4 = is_v4(facts->ip);

		if (inet_ntop(v4 ? AF_INET : AF_INET6,
			      v4 ? facts->ip + 12 : facts->ip, ipt,
			      sizeof ipt) == NULL)
			ipt[0] = '\0';
		for (size_t i = 0; i < ipz->n && budget > 0; i++) {
			if (rep_ip_qname(facts->ip, ipz->z[i].name, name,
					 sizeof name) != 0)
				continue;
			budget--;
			if (rep_dnsbl_ask(facts->dns, &ipz->z[i], name, rrs,
					  &code) == REP_LISTED)
				hit(&ip_hits, w, "DNSBL_IP", &ipz->z[i], ipt,
				    code);
		}
	}
	char seen[FILTER_REP_DOMAINS_MAX][DMARC_DOMAIN_MAX + 1];
	size_t nseen = 0;

	for (size_t u = 0; urls != NULL && u < urls->n && dz->n > 0 &&
	     budget > 0 && nseen < FILTER_REP_DOMAINS_MAX; u++) {
		const struct filter_url *fu = &urls->v[u];
		char org[DMARC_DOMAIN_MAX + 1];
		bool dup = false;

		if (fu->flags & (FILTER_URL_IP | FILTER_URL_BAD_HOST) ||
		    !dmarc_org_domain(fu->host, org))
			continue;
		for (size_t k = 0; k < nseen && !dup; k++)
			dup = strcmp(seen[k], org) == 0;
		if (dup)
			continue;
		memcpy(seen[nseen++], org, sizeof org);
		for (size_t i = 0; i < dz->n && budget > 0; i++) {
			int rc = snprintf(name, sizeof name, "%s.%s", org,
					  dz->z[i].name);

			if (rc < 0 || (size_t)rc >= sizeof name || rc > 253)
				continue;
			budget--;
			if (rep_dnsbl_ask(facts->dns, &dz->z[i], name, rrs,
					  &code) == REP_LISTED)
				hit(&dom_hits, w, "DNSBL_DOMAIN", &dz->z[i], org,
				    code);
		}
	}
	free(rrs);
	add(out, w, "DNSBL_IP", &ip_hits);
	add(out, w, "DNSBL_DOMAIN", &dom_hits);
}
