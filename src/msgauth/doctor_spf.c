/* doctor_spf.c - the DNS doctor's look at an SPF record: how many DNS
 * lookups it costs (RFC 7208 4.6.4) and whether it lets this server's
 * addresses pass. Not an SPF evaluator (that is the inbound check's):
 * macros are counted but not expanded, and "covered" means a pass term
 * names the address, whatever comes before it. Work is bounded by
 * DOCTOR_SPF_LOOKUPS_MAX and DOCTOR_SPF_DEPTH_MAX. */
#include "msgauth/doctor.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

struct walk {
	const struct ma_dns *dns;
	unsigned char v4[4], v6[16];
	bool has4, has6;
	bool *cov4, *cov6;
	unsigned lookups;
	size_t *queries;
	struct ma_rrset *rr;	/* scratch, one per level */
};

static bool prefix_match(const unsigned char *a, const unsigned char *b,
			 unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

/* "/24", "//64", "/24//64" after a term's domain: the two prefixes. */
static void cidr(const char *s, unsigned *p4, unsigned *p6)
{
	*p4 = 32;
	*p6 = 128;
	if (s == NULL)
		return;
	if (s[0] == '/' && s[1] != '/') {
		char *end;
		*p4 = (unsigned)strtoul(s + 1, &end, 10);
		if (*p4 > 32)
			*p4 = 32;
		s = end;
	}
	if (s[0] == '/' && s[1] == '/') {
		*p6 = (unsigned)strtoul(s + 2, NULL, 10);
		if (*p6 > 128)
			*p6 = 128;
	}
}

static void query(struct walk *w, const char *name, enum ma_rr type,
		  struct ma_rrset *out)
{
	(*w->queries)++;
	ma_dns_query(w->dns, name, type, out);
}

/* Do the A / AAAA records of host hold our addresses? */
static void cover_host(struct walk *w, const char *host, unsigned p4,
		       unsigned p6, struct ma_rrset *rr)
{
	if (w->has4) {
		query(w, host, MA_RR_A, rr);
		for (size_t i = 0; rr->rc == MA_DNS_OK && i < rr->n; i++)
			if (rr->rr[i].len == 4 &&
			    prefix_match(rr->rr[i].data, w->v4, p4))
				*w->cov4 = true;
	}
	if (w->has6) {
		query(w, host, MA_RR_AAAA, rr);
		for (size_t i = 0; rr->rc == MA_DNS_OK && i < rr->n; i++)
			if (rr->rr[i].len == 16 &&
			    prefix_match(rr->rr[i].data, w->v6, p6))
				*w->cov6 = true;
	}
}

static void walk_record(struct walk *w, const char *domain, const char *rec,
			unsigned depth);

/* Follow include / redirect to target's SPF record. */
static void follow(struct walk *w, const char *target, unsigned depth,
		   bool pass)
{
	if (depth >= DOCTOR_SPF_DEPTH_MAX || strchr(target, '%') != NULL)
		return;
	struct ma_rrset *rr = &w->rr[depth];
	query(w, target, MA_RR_TXT, rr);
	for (size_t i = 0; rr->rc == MA_DNS_OK && i < rr->n; i++) {
		const char *t = (const char *)rr->rr[i].data;
		if (strncasecmp(t, "v=spf1", 6) == 0 &&
		    (t[6] == ' ' || t[6] == '\0')) {
			/* an include's pass is ours only if the include
			 * itself is a pass term */
			bool c4 = *w->cov4, c6 = *w->cov6;
			char *copy = xstrdup(t);
			walk_record(w, target, copy, depth + 1);
			free(copy);
			if (!pass) {
				*w->cov4 = c4;
				*w->cov6 = c6;
			}
			return;
		}
	}
}

static void walk_term(struct walk *w, const char *domain, char *term,
		      unsigned depth)
{
	bool pass = true;
	if (*term == '+' || *term == '-' || *term == '~' || *term == '?') {
		pass = *term == '+';
		term++;
	}
	char *arg = NULL, *slash;
	char *sep = strpbrk(term, ":=/");
	if (sep != NULL && (*sep == ':' || *sep == '=')) {
		arg = sep + 1;
		*sep = '\0';
	} else if (sep != NULL) {
		/* "a/24": keep the CIDR for the term's own domain */
		arg = NULL;
	}
	slash = strchr(arg != NULL ? arg : term, '/');
	unsigned p4, p6;
	cidr(slash, &p4, &p6);
	if (slash != NULL)
		*slash = '\0';
	const char *target = arg != NULL && arg[0] != '\0' ? arg : domain;
	bool counts = !strcasecmp(term, "include") || !strcasecmp(term, "a") ||
		      !strcasecmp(term, "mx") || !strcasecmp(term, "ptr") ||
		      !strcasecmp(term, "exists") ||
		      !strcasecmp(term, "redirect");
	if (!counts) {
		unsigned char ip[16];
		if (!pass || arg == NULL)
			return;
		if (!strcasecmp(term, "ip4") && w->has4 &&
		    inet_pton(AF_INET, arg, ip) == 1 &&
		    prefix_match(ip, w->v4, p4))
			*w->cov4 = true;
		if (!strcasecmp(term, "ip6") && w->has6 &&
		    inet_pton(AF_INET6, arg, ip) == 1 &&
		    prefix_match(ip, w->v6, p6))
			*w->cov6 = true;
		return;
	}
	w->lookups++;
	if (w->lookups > DOCTOR_SPF_LOOKUPS_MAX ||
	    depth >= DOCTOR_SPF_DEPTH_MAX || strchr(target, '%') != NULL)
		return;
	struct ma_rrset *rr = &w->rr[depth];
	if (!strcasecmp(term, "include") || !strcasecmp(term, "redirect")) {
		follow(w, target, depth, pass);
	} else if (!strcasecmp(term, "a") && pass) {
		cover_host(w, target, p4, p6, rr);
	} else if (!strcasecmp(term, "mx") && pass) {
		query(w, target, MA_RR_MX, rr);
		/* RFC 7208 4.6.4: at most 10 MX names are looked at */
		size_t n = rr->rc == MA_DNS_OK ? rr->n : 0;
		char hosts[10][256];
		size_t nh = 0;
		for (size_t i = 0; i < n && nh < 10; i++)
			if (rr->rr[i].len < sizeof hosts[0])
				memcpy(hosts[nh++], rr->rr[i].data,
				       rr->rr[i].len + 1);
		for (size_t i = 0; i < nh; i++)
			cover_host(w, hosts[i], p4, p6, rr);
	}
}

static void walk_record(struct walk *w, const char *domain, const char *rec,
			unsigned depth)
{
	char *copy = xstrdup(rec), *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save)) {
		if (strncasecmp(t, "v=spf1", 6) == 0)
			continue;
		walk_term(w, domain, t, depth);
	}
	free(copy);
}

unsigned doctor_spf_lookups(const struct ma_dns *dns, const char *domain,
			    const char *record, const char *ipv4,
			    const char *ipv6, bool *v4_covered,
			    bool *v6_covered, size_t *queries)
{
	struct walk w = { .dns = dns, .cov4 = v4_covered, .cov6 = v6_covered,
			  .queries = queries };
	*v4_covered = *v6_covered = false;
	w.has4 = ipv4[0] != '\0' && inet_pton(AF_INET, ipv4, w.v4) == 1;
	w.has6 = ipv6[0] != '\0' && inet_pton(AF_INET6, ipv6, w.v6) == 1;
	w.rr = xcalloc(DOCTOR_SPF_DEPTH_MAX + 1, sizeof *w.rr);
	walk_record(&w, domain, record, 0);
	free(w.rr);
	return w.lookups;
}
