/* spf_eval.c - check_host() (RFC 7208 4-6): record selection, the
 * mechanisms in order, include and redirect as bounded recursion, the
 * lookup and void-lookup limits, %{p} validation, and exp= for fail.
 * Syntax is spf_record.c's, macros spf_macro.c's; every DNS question
 * goes through ma_dns_query. */
#include "msgauth/spf_private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/xmalloc.h"

/* include and redirect each count as a lookup, so recursion is at most
 * SPF_LOOKUPS_MAX deep; the check below is a second fence. */
#define DEPTH_MAX (SPF_LOOKUPS_MAX + 1)

struct eval {
	const struct ma_dns *dns;
	struct spf_out *out;
	bool v6;
	unsigned char ip[16];
	unsigned lookups, voids;
	struct spf_macro_env env;
	char l[SPF_SENDER_MAX + 1], o[DNS_NAME_MAX + 1], h[DNS_NAME_MAX + 3];
	char r[DNS_NAME_MAX + 1], i[72], c[48], t[24];
	/* the client's PTR names (5.5, 7.3 %{p}): fetched once */
	bool ptr_done, ptr_void, ptr_void_counted;
	size_t nptr;
	char ptr[SPF_PTR_NAMES_MAX][DNS_NAME_MAX + 1];
	signed char ptr_valid[SPF_PTR_NAMES_MAX];	/* -1 unknown, 0, 1 */
	char p[DNS_NAME_MAX + 1];
	enum spf_result err;	/* the result when a term returns -1 */
	struct ma_rrset rrs;
};

static void reason(struct eval *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reason(struct eval *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev->out->reason, sizeof ev->out->reason, fmt, ap);
	va_end(ap);
}

static int error(struct eval *ev, enum spf_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int error(struct eval *ev, enum spf_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev->out->reason, sizeof ev->out->reason, fmt, ap);
	va_end(ap);
	ev->err = r;
	return -1;
}

static void copy(char *dst, size_t dstsz, const char *src, size_t len)
{
	if (len >= dstsz)
		len = dstsz - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static const char *rr_name(enum ma_rr t)
{
	switch (t) {
	case MA_RR_A: return "A";
	case MA_RR_AAAA: return "AAAA";
	case MA_RR_MX: return "MX";
	case MA_RR_PTR: return "PTR";
	case MA_RR_TXT: return "TXT";
	case MA_RR_CNAME: return "CNAME";
	case MA_RR_SRV: return "SRV";
	}
	return "?";
}

static void query(struct eval *ev, const char *name, enum ma_rr type)
{
	ev->out->queries++;
	ma_dns_query(ev->dns, name, type, &ev->rrs);
}

/* 4.6.4: each include a mx ptr exists and redirect counts */
static int count_lookup(struct eval *ev)
{
	if (++ev->lookups > SPF_LOOKUPS_MAX)
		return error(ev, SPF_PERMERROR, "more than %d DNS-querying terms "
			     "(RFC 7208 4.6.4)", SPF_LOOKUPS_MAX);
	ev->out->lookups = ev->lookups;
	return 0;
}

/* After a term's query: -1 temperror or too many void lookups, 0 no
 * records (a void lookup), 1 records. */
static int answered(struct eval *ev, const char *name, enum ma_rr type)
{
	switch (ev->rrs.rc) {
	case MA_DNS_OK:
		return 1;
	case MA_DNS_TEMPFAIL:
		return error(ev, SPF_TEMPERROR, "DNS error looking up %s %s",
			     name, rr_name(type));
	case MA_DNS_NXDOMAIN:
	case MA_DNS_NODATA:
		break;
	}
	ev->out->void_lookups = ++ev->voids;
	if (ev->voids > SPF_VOID_MAX)
		return error(ev, SPF_PERMERROR, "more than %d void lookups, the "
			     "last %s %s (RFC 7208 4.6.4)", SPF_VOID_MAX, name,
			     rr_name(type));
	return 0;
}

static bool addr_match(const struct eval *ev, const unsigned char *a, unsigned cidr)
{
	size_t full = cidr / 8;
	unsigned rest = cidr % 8;

	if (memcmp(ev->ip, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (ev->ip[full] & mask) == (a[full] & mask);
}

/* Whether the answer in ev->rrs holds the client's address under cidr. */
static bool rrs_match(const struct eval *ev, unsigned cidr4, unsigned cidr6)
{
	for (size_t k = 0; k < ev->rrs.n; k++)
		if (ev->rrs.rr[k].len == (ev->v6 ? 16u : 4u) &&
		    addr_match(ev, ev->rrs.rr[k].data, ev->v6 ? cidr6 : cidr4))
			return true;
	return false;
}

/* The client's address records of name (an MX or PTR name), matched
 * with cidr: 1 match, 0 none, -1 DNS error (temperror), unless
 * skip_errors. Not a term's own lookup: no void counting. */
static int host_match(struct eval *ev, const char *name, unsigned cidr4,
		      unsigned cidr6, bool skip_errors)
{
	enum ma_rr type = ev->v6 ? MA_RR_AAAA : MA_RR_A;

	query(ev, name, type);
	if (ev->rrs.rc == MA_DNS_TEMPFAIL)
		return skip_errors ? 0 : error(ev, SPF_TEMPERROR,
					       "DNS error looking up %s %s",
					       name, rr_name(type));
	return rrs_match(ev, cidr4, cidr6);
}

/* ---- the client's PTR names (5.5) */

/* Fetch the PTR names once (for the ptr term and %{p}). */
static void ptr_fetch(struct eval *ev)
{
	char rev[MA_REVERSE_NAME_MAX];

	if (ev->ptr_done)
		return;
	ev->ptr_done = true;
	ma_reverse_name(ev->ip, ev->v6, rev, sizeof rev);
	query(ev, rev, MA_RR_PTR);
	/* 5.5: "If a DNS error occurs while doing the PTR RR lookup, then
	 * this mechanism fails to match" */
	if (ev->rrs.rc == MA_DNS_TEMPFAIL)
		return;
	ev->ptr_void = ev->rrs.rc != MA_DNS_OK;
	/* 4.6.4: at most 10 PTR names are looked at; the rest ignored */
	for (size_t k = 0; k < ev->rrs.n && ev->nptr < SPF_PTR_NAMES_MAX; k++) {
		copy(ev->ptr[ev->nptr], sizeof ev->ptr[0],
		     (const char *)ev->rrs.rr[k].data, ev->rrs.rr[k].len);
		ev->ptr_valid[ev->nptr++] = -1;
	}
}

/* 5.5: a PTR name is validated when one of its addresses is the
 * client's; a DNS error skips the name. */
static bool ptr_validated(struct eval *ev, size_t k)
{
	if (ev->ptr_valid[k] < 0) {
		char name[DNS_NAME_MAX + 1];
		size_t len = strlen(ev->ptr[k]);
		memcpy(name, ev->ptr[k], len + 1);
		ev->ptr_valid[k] = spf_target_name(name, &len) &&
				   host_match(ev, name, 32, 128, true) == 1;
	}
	return ev->ptr_valid[k] == 1;
}

/* name equals domain or is a subdomain of it (both without a final dot) */
static bool in_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n < d)
		return false;
	if (strncasecmp(name + n - d, domain, d) != 0)
		return false;
	return n == d || name[n - d - 1] == '.';
}

/* %{p} (7.3): a validated name in <domain> first, else any validated
 * name, else "unknown". */
static const char *macro_p(void *arg, const char *domain)
{
	struct eval *ev = arg;
	int pick = -1;

	ptr_fetch(ev);
	for (size_t k = 0; k < ev->nptr; k++) {
		if (!ptr_validated(ev, k))
			continue;
		if (in_domain(ev->ptr[k], domain)) {
			pick = (int)k;
			break;
		}
		if (pick < 0)
			pick = (int)k;
	}
	if (pick < 0)
		return "unknown";
	size_t len = strlen(ev->ptr[pick]);
	copy(ev->p, sizeof ev->p, ev->ptr[pick], len);
	if (len > 0 && ev->p[len - 1] == '.')
		ev->p[len - 1] = '\0';
	return ev->p;
}

/* ---- terms */

/* Expand a domain-spec into a name to query. 1 a name, 0 no valid name
 * (the term does not match), -1 permerror. */
static int target(struct eval *ev, const struct spf_span *spec, const char *domain,
		  char *name, size_t namesz)
{
	size_t len;

	if (spec->len == 0) {
		copy(name, namesz, domain, strlen(domain));
		return 1;
	}
	ev->env.d = domain;
	int rc = spf_macro_expand(&ev->env, spec->p, spec->len, false, name,
				  namesz, &len);
	if (rc == -2)
		return error(ev, SPF_PERMERROR, "macro expansion of '%.*s' too long",
			     (int)(spec->len > 60 ? 60 : spec->len), spec->p);
	if (rc < 0)
		return error(ev, SPF_PERMERROR, "bad macro in '%.*s'",
			     (int)(spec->len > 60 ? 60 : spec->len), spec->p);
	return spf_target_name(name, &len) ? 1 : 0;
}

static enum spf_result check_domain(struct eval *ev, const char *domain,
				    unsigned depth, bool top);

static int term_include(struct eval *ev, const char *name, unsigned depth)
{
	enum spf_result r = check_domain(ev, name, depth + 1, false);

	switch (r) {
	case SPF_PASS:
		return 1;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return 0;
	case SPF_NONE:
		/* 5.2: none from the included domain is a permerror */
		return error(ev, SPF_PERMERROR, "include:%s has no SPF record", name);
	case SPF_TEMPERROR:
	case SPF_PERMERROR:
		break;
	}
	ev->err = r;
	return -1;
}

static int term_mx(struct eval *ev, const struct spf_term *t, const char *name)
{
	char mx[SPF_MX_NAMES_MAX + 1][DNS_NAME_MAX + 1];
	unsigned pref[SPF_MX_NAMES_MAX + 1];
	size_t n = 0;

	query(ev, name, MA_RR_MX);
	int rc = answered(ev, name, MA_RR_MX);
	if (rc <= 0)
		return rc;
	/* the lowest preferences first (stable), one past the limit kept
	 * to tell whether there are more */
	for (size_t k = 0; k < ev->rrs.n; k++) {
		const struct ma_rr_data *r = &ev->rrs.rr[k];
		size_t at = n;
		if (n == SPF_MX_NAMES_MAX + 1 && r->pref >= pref[n - 1])
			continue;
		if (n == SPF_MX_NAMES_MAX + 1)
			at = --n;
		while (at > 0 && pref[at - 1] > r->pref) {
			pref[at] = pref[at - 1];
			memcpy(mx[at], mx[at - 1], sizeof mx[0]);
			at--;
		}
		pref[at] = r->pref;
		copy(mx[at], sizeof mx[0], (const char *)r->data, r->len);
		n++;
	}
	for (size_t k = 0; k < n; k++) {
		/* 4.6.4: no more than 10 MX names may be looked up; needing
		 * an 11th is a permerror */
		if (k == SPF_MX_NAMES_MAX)
			return error(ev, SPF_PERMERROR, "%s has more than %d MX "
				     "names to look up (RFC 7208 4.6.4)", name,
				     SPF_MX_NAMES_MAX);
		size_t len = strlen(mx[k]);
		if (!spf_target_name(mx[k], &len))
			continue;	/* the null MX "." and junk */
		rc = host_match(ev, mx[k], t->cidr4, t->cidr6, false);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int term_ptr(struct eval *ev, const char *name)
{
	ptr_fetch(ev);
	/* the term's lookup was void (counted once, even if %{p} asked
	 * first: a macro is not a term) */
	if (ev->ptr_void && !ev->ptr_void_counted) {
		ev->ptr_void_counted = true;
		ev->rrs.rc = MA_DNS_NXDOMAIN;
		if (answered(ev, "the client's PTR name", MA_RR_PTR) < 0)
			return -1;
	}
	for (size_t k = 0; k < ev->nptr; k++)
		if (in_domain(ev->ptr[k], name) && ptr_validated(ev, k))
			return 1;
	return 0;
}

/* 1 match, 0 no match, -1 error (ev->err, reason set) */
static int term_eval(struct eval *ev, const struct spf_term *t, const char *domain,
		     unsigned depth)
{
	char name[SPF_EXPAND_MAX];
	int rc;

	switch (t->mech) {
	case SPF_M_ALL:
		return 1;
	case SPF_M_IP4:
		return !ev->v6 && addr_match(ev, t->addr, t->cidr4);
	case SPF_M_IP6:
		return ev->v6 && addr_match(ev, t->addr, t->cidr6);
	default:
		break;
	}
	if (count_lookup(ev) < 0)
		return -1;
	rc = target(ev, &t->spec, domain, name, sizeof name);
	if (rc <= 0) {
		/* include's target must be a domain (5.2: a malformed one
		 * would make check_host() say none, which is a permerror) */
		if (rc == 0 && t->mech == SPF_M_INCLUDE)
			return error(ev, SPF_PERMERROR, "include target '%.*s' is "
				     "not a domain name", (int)(t->spec.len > 60 ? 60 :
				     t->spec.len), t->spec.p);
		return rc;
	}
	switch (t->mech) {
	case SPF_M_INCLUDE:
		return term_include(ev, name, depth);
	case SPF_M_A:
		/* 5.3: AAAA for an IPv6 client, A for IPv4 */
		query(ev, name, ev->v6 ? MA_RR_AAAA : MA_RR_A);
		rc = answered(ev, name, ev->v6 ? MA_RR_AAAA : MA_RR_A);
		return rc <= 0 ? rc : rrs_match(ev, t->cidr4, t->cidr6);
	case SPF_M_MX:
		return term_mx(ev, t, name);
	case SPF_M_PTR:
		return term_ptr(ev, name);
	case SPF_M_EXISTS:
		/* 5.7: always an A query, whatever the client's family */
		query(ev, name, MA_RR_A);
		return answered(ev, name, MA_RR_A);
	default:
		return 0;
	}
}

/* ---- records */

/* The one "v=spf1" TXT record of domain (4.4, 4.5) into *txt (heap).
 * -1: the result is in *res. */
static int fetch_record(struct eval *ev, const char *domain, char **txt,
			size_t *len, enum spf_result *res)
{
	const struct ma_rr_data *found = NULL;

	query(ev, domain, MA_RR_TXT);
	if (ev->rrs.rc == MA_DNS_TEMPFAIL) {
		*res = SPF_TEMPERROR;
		reason(ev, "DNS error looking up %s TXT", domain);
		return -1;
	}
	for (size_t k = 0; k < ev->rrs.n; k++) {
		const struct ma_rr_data *r = &ev->rrs.rr[k];
		if (!spf_record_is_v1(r->data, r->len))
			continue;
		if (found != NULL) {
			*res = SPF_PERMERROR;
			reason(ev, "%s has more than one SPF record (RFC 7208 4.5)",
			       domain);
			return -1;
		}
		found = r;
	}
	if (found == NULL) {
		*res = SPF_NONE;
		reason(ev, "%s has no SPF record", domain);
		return -1;
	}
	*txt = xmalloc(found->len + 1);
	memcpy(*txt, found->data, found->len);
	(*txt)[found->len] = '\0';
	*len = found->len;
	return 0;
}

/* 6.2: the explanation of a fail, or the default when anything about
 * it fails (DNS, not exactly one record, a syntax error, non-ASCII). */
static void explain(struct eval *ev, const struct spf_record *rec, const char *domain)
{
	char name[SPF_EXPAND_MAX];
	struct spf_out *out = ev->out;

	if (target(ev, &rec->exp, domain, name, sizeof name) <= 0)
		return;
	/* not a term: neither the lookup nor the void limits apply */
	query(ev, name, MA_RR_TXT);
	if (ev->rrs.rc != MA_DNS_OK || ev->rrs.n != 1)
		return;
	/* copied: a %{p} in the text asks DNS, which reuses ev->rrs */
	size_t tlen = ev->rrs.rr[0].len;
	char *src = xmalloc(tlen + 1);
	memcpy(src, ev->rrs.rr[0].data, tlen);
	ev->env.d = domain;
	char text[SPF_EXPLANATION_MAX + 1];
	size_t len;
	int rc = spf_macro_expand(&ev->env, src, tlen, true, text, sizeof text, &len);
	free(src);
	if (rc == -1)
		return;
	memcpy(out->explanation, text, len + 1);
	out->explanation_default = false;
}

static enum spf_result qual_result(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	default: return SPF_PASS;
	}
}

static void show_term(struct eval *ev, const struct spf_span *s)
{
	copy(ev->out->mechanism, sizeof ev->out->mechanism, s->p, s->len);
}

/* check_host() for one domain of the evaluation. top: the domain of the
 * identity or a redirect from it (6.2: only their exp= is used). */
static enum spf_result check_domain(struct eval *ev, const char *domain,
				    unsigned depth, bool top)
{
	struct spf_record rec;
	enum spf_result res;
	char *txt = NULL, why[128];
	size_t len;

	if (depth > DEPTH_MAX) {	/* NEVER: count_lookup stops first */
		reason(ev, "SPF records nested too deep");
		return SPF_PERMERROR;
	}
	if (fetch_record(ev, domain, &txt, &len, &res) < 0)
		return res;
	if (spf_record_parse(txt, len, &rec, why, sizeof why) < 0) {
		reason(ev, "syntax error in the SPF record of %s: %s", domain, why);
		free(txt);
		return SPF_PERMERROR;
	}
	for (size_t k = 0; k < rec.n; k++) {
		int rc = term_eval(ev, &rec.t[k], domain, depth);
		if (rc == 0)
			continue;
		if (top && ev->out->mechanism[0] == '\0')
			show_term(ev, &rec.t[k].text);
		res = rc > 0 ? qual_result(rec.t[k].qual) : ev->err;
		if (rc > 0 && top && res == SPF_FAIL && rec.has_exp)
			explain(ev, &rec, domain);
		goto done;
	}
	if (rec.has_redirect) {
		char name[SPF_EXPAND_MAX];
		int rc = count_lookup(ev);
		if (rc == 0)
			rc = target(ev, &rec.redirect, domain, name, sizeof name);
		if (rc == 0) {
			res = SPF_PERMERROR;
			reason(ev, "redirect target of %s is not a domain name", domain);
		} else if (rc < 0) {
			res = ev->err;
		} else {
			res = check_domain(ev, name, depth + 1, top);
			/* 6.1: none from the target is a permerror */
			if (res == SPF_NONE) {
				res = SPF_PERMERROR;
				reason(ev, "redirect=%s has no SPF record", name);
			}
		}
		if (top && ev->out->mechanism[0] == '\0')
			show_term(ev, &rec.redirect_text);
		goto done;
	}
	/* 4.7: no match, no redirect */
	res = SPF_NEUTRAL;
done:
	spf_record_free(&rec);
	free(txt);
	return res;
}

/* ---- entry points */

/* 4.3: a name we would look up at all: 1-63 octet labels of letters,
 * digits, '-' and '_', at least two of them, 253 octets at most. */
static bool identity_domain_ok(const char *d, char *out, size_t outsz)
{
	size_t n = strlen(d), label = 0, labels = 0;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX || n >= outsz)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			labels++;
			label = 0;
			continue;
		}
		unsigned char c = (unsigned char)d[i];
		if (!isalnum(c) && c != '-' && c != '_')
			return false;
		label++;
	}
	memcpy(out, d, n);
	out[n] = '\0';
	return labels >= 2;
}

static void set_ip(struct eval *ev, const struct spf_request *req)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	ev->v6 = req->family == AF_INET6;
	if (ev->v6 && memcmp(req->ip, mapped, sizeof mapped) == 0) {
		/* 5: an IPv4-mapped address is IPv4 */
		ev->v6 = false;
		memcpy(ev->ip, req->ip + 12, 4);
	} else {
		memcpy(ev->ip, req->ip, ev->v6 ? 16 : 4);
	}
	if (!ev->v6) {
		inet_ntop(AF_INET, ev->ip, ev->c, sizeof ev->c);
		memcpy(ev->i, ev->c, sizeof ev->c);
		ev->env.v = "in-addr";
		return;
	}
	inet_ntop(AF_INET6, ev->ip, ev->c, sizeof ev->c);
	/* 7.3: 32 nibbles separated by dots. Upper-case hex, as pyspf and
	 * the RFC 7208 test suite write it; DNS ignores the case. */
	size_t n = 0;
	for (int k = 0; k < 16; k++)
		n += (size_t)snprintf(ev->i + n, sizeof ev->i - n, "%s%X.%X",
				      k ? "." : "", ev->ip[k] >> 4, ev->ip[k] & 0xf);
	ev->env.v = "ip6";
}

static const char *ip_text(const struct eval *ev)
{
	return ev->c;
}

static void final_reason(struct eval *ev, enum spf_result r, const char *domain)
{
	switch (r) {
	case SPF_PASS:
		reason(ev, "%s designates %s as permitted sender", domain, ip_text(ev));
		break;
	case SPF_FAIL:
		reason(ev, "%s is not permitted by the SPF record of %s",
		       ip_text(ev), domain);
		break;
	case SPF_SOFTFAIL:
		reason(ev, "%s is not permitted by the SPF record of %s (softfail: "
		       "accept but mark)", ip_text(ev), domain);
		break;
	case SPF_NEUTRAL:
		reason(ev, "the SPF record of %s neither permits nor denies %s",
		       domain, ip_text(ev));
		break;
	default:
		break;	/* none and errors: said where decided */
	}
}

void spf_check_host(const struct ma_dns *dns, const struct spf_request *req,
		    const char *domain, const char *sender,
		    enum spf_identity identity, struct spf_out *out)
{
	struct eval *ev = xcalloc(1, sizeof *ev);
	char d[DNS_NAME_MAX + 1];
	enum spf_result r;

	memset(out, 0, sizeof *out);
	out->identity = identity;
	ev->dns = dns;
	ev->out = out;
	set_ip(ev, req);
	if (sender == NULL)
		sender = "";
	if (domain == NULL)
		domain = "";
	copy(out->domain, sizeof out->domain, domain, strlen(domain));

	const char *at = strrchr(sender, '@');
	size_t llen = at ? (size_t)(at - sender) : 0;
	const char *sdom = at ? at + 1 : domain;
	if (strlen(sender) > SPF_SENDER_MAX || strlen(sdom) > DNS_NAME_MAX) {
		reason(ev, "the sender is too long to check");
		r = SPF_NONE;
		goto out;
	}
	/* 4.3: a missing local-part is "postmaster" */
	if (llen == 0)
		copy(ev->l, sizeof ev->l, "postmaster", 10);
	else
		copy(ev->l, sizeof ev->l, sender, llen);
	copy(ev->o, sizeof ev->o, sdom, strlen(sdom));
	int n = snprintf(out->sender, sizeof out->sender, "%s@%s", ev->l, ev->o);
	if (n < 0 || (size_t)n >= sizeof out->sender) {
		reason(ev, "the sender is too long to check");
		r = SPF_NONE;
		goto out;
	}

	const char *helo = req->helo ? req->helo : "";
	copy(ev->h, sizeof ev->h, helo, strlen(helo));
	const char *rcv = req->receiver ? req->receiver : "unknown";
	copy(ev->r, sizeof ev->r, rcv, strlen(rcv));
	snprintf(ev->t, sizeof ev->t, "%lld",
		 req->now ? req->now : (long long)time(NULL));
	ev->env = (struct spf_macro_env){
		.s = out->sender, .l = ev->l, .o = ev->o, .h = ev->h,
		.r = ev->r, .v = ev->env.v, .i = ev->i, .c = ev->c, .t = ev->t,
		.p = macro_p, .p_arg = ev,
	};

	/* 4.3: a malformed or single-label domain is none, not an error */
	if (!identity_domain_ok(domain, d, sizeof d)) {
		reason(ev, "'%.100s' is not a domain name SPF can check", domain);
		r = SPF_NONE;
		goto out;
	}
	copy(out->domain, sizeof out->domain, d, strlen(d));
	r = check_domain(ev, d, 0, true);
	final_reason(ev, r, d);
	if (r == SPF_FAIL && out->explanation[0] == '\0') {
		out->explanation_default = true;
		copy(out->explanation, sizeof out->explanation, out->reason,
		     strlen(out->reason));
	}
out:
	out->result = r;
	free(ev);
}

void spf_check_helo(const struct ma_dns *dns, const struct spf_request *req,
		    struct spf_out *out)
{
	char sender[SPF_SENDER_MAX + 1];
	const char *helo = req->helo ? req->helo : "";

	snprintf(sender, sizeof sender, "postmaster@%s", helo);
	spf_check_host(dns, req, helo, sender, SPF_ID_HELO, out);
}

void spf_check_mailfrom(const struct ma_dns *dns, const struct spf_request *req,
			struct spf_out *out)
{
	const char *s = req->sender;

	if (s == NULL || s[0] == '\0') {
		/* 2.4: the null reverse-path is checked as postmaster@HELO */
		spf_check_helo(dns, req, out);
		return;
	}
	const char *at = strrchr(s, '@');
	spf_check_host(dns, req, at ? at + 1 : s, s, SPF_ID_MAILFROM, out);
}

const char *spf_result_str(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return "none";
	case SPF_NEUTRAL: return "neutral";
	case SPF_PASS: return "pass";
	case SPF_FAIL: return "fail";
	case SPF_SOFTFAIL: return "softfail";
	case SPF_TEMPERROR: return "temperror";
	case SPF_PERMERROR: return "permerror";
	}
	return "?";
}
