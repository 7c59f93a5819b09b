/* doctor_check.c - what DNS says about a hosted domain compared with
 * what it should publish (doctor_records), one finding per record with
 * the exact fix. DNS answers are untrusted: every text is read by length
 * and every list is bounded by struct ma_rrset. */
#include "msgauth/doctor.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/xmalloc.h"
#include "msgauth/dkim_keys.h"
#include "msgauth/taglist.h"

/* a TXT value quoted and escaped, with its name and type */
#define ZONE_LINE_MAX (DOCTOR_VALUE_MAX * 2 + 400)

struct ctx {
	const struct ma_dns *dns;
	const struct doctor_site *s;
	const char *domain;
	const struct doctor_records *want;
	struct doctor_report *out;
	struct ma_rrset *rr;
};

static void ask(struct ctx *c, const char *name, enum ma_rr type)
{
	c->out->queries++;
	ma_dns_query(c->dns, name, type, c->rr);
	if (c->rr->rc == MA_DNS_OK && c->rr->ttl > c->out->max_ttl)
		c->out->max_ttl = c->rr->ttl;
}

static struct doctor_finding *finding(struct ctx *c, const char *check,
				      enum doctor_status st, const char *name,
				      const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct doctor_finding *finding(struct ctx *c, const char *check,
				      enum doctor_status st, const char *name,
				      const char *fmt, ...)
{
	/* the last slot takes the overflow: a report never grows */
	size_t at = c->out->n < DOCTOR_FINDINGS_MAX ? c->out->n
						   : DOCTOR_FINDINGS_MAX - 1;
	struct doctor_finding *f = &c->out->f[at];
	c->out->n = at + 1;
	memset(f, 0, sizeof *f);
	f->status = st;
	f->check = check;
	snprintf(f->name, sizeof f->name, "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->what, sizeof f->what, fmt, ap);
	va_end(ap);
	f->ttl = c->rr->rc == MA_DNS_OK ? c->rr->ttl : 0;
	return f;
}

static void fix(struct doctor_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fix(struct doctor_finding *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->fix, sizeof f->fix, fmt, ap);
	va_end(ap);
}

/* The wanted record's zone line, for "add ..." fixes. */
static const char *zone(const struct doctor_record *r, char *buf, size_t sz)
{
	if (doctor_zone_line(r, buf, sz) != 0)
		snprintf(buf, sz, "the %s record of `petrelctl dns records`",
			 doctor_rtype_name(r->type));
	return buf;
}

static bool dns_failed(struct ctx *c, const char *check, const char *name)
{
	if (c->rr->rc != MA_DNS_TEMPFAIL)
		return false;
	struct doctor_finding *f = finding(c, check, DOCTOR_UNKNOWN, name,
					   "DNS lookup failed (timeout or "
					   "SERVFAIL)");
	fix(f, "make sure the domain's name servers answer, then check "
	    "again");
	return true;
}

/* Printable text of a DNS record, for messages: cut, controls shown. */
static void shown(const struct ma_rr_data *d, char *out, size_t outsz)
{
	size_t j = 0;
	for (size_t i = 0; i < d->len && j + 5 < outsz; i++) {
		unsigned char ch = d->data[i];
		if (ch >= 0x20 && ch < 0x7f)
			out[j++] = (char)ch;
		else
			j += (size_t)snprintf(out + j, outsz - j, "\\%03u", ch);
	}
	if (j + 5 >= outsz && outsz > 4)
		memcpy(out + outsz - 4, "...", 4), j = outsz - 1;
	out[j] = '\0';
}

/* ---- MX --------------------------------------------------------------------- */

static void check_mx(struct ctx *c)
{
	const char *d = c->domain, *host = c->s->hostname,
		   *backup = c->s->mx_backup;
	char line[ZONE_LINE_MAX];
	ask(c, d, MA_RR_MX);
	if (dns_failed(c, "mx", d))
		return;
	if (c->rr->rc != MA_DNS_OK) {
		struct doctor_finding *f = finding(c, "mx", DOCTOR_MISSING, d,
						   "no MX record: mail for %s "
						   "cannot reach this server", d);
		fix(f, "add: %s", zone(&c->want->r[0], line, sizeof line));
		if (backup[0] != '\0' && c->want->n > 1 &&
		    c->want->r[1].type == DOCTOR_MX) {
			size_t n = strlen(f->fix);
			snprintf(f->fix + n, sizeof f->fix - n, " and %s",
				 zone(&c->want->r[1], line, sizeof line));
		}
		return;
	}
	int ours = -1, theirs = -1;
	bool bad = false;
	for (size_t i = 0; i < c->rr->n; i++) {
		const char *t = (const char *)c->rr->rr[i].data;
		int pref = (int)c->rr->rr[i].pref;
		if (strcasecmp(t, host) == 0) {
			if (ours < 0 || pref < ours)
				ours = pref;
		} else if (backup[0] != '\0' && strcasecmp(t, backup) == 0) {
			if (theirs < 0 || pref < theirs)
				theirs = pref;
		} else {
			bad = true;
			struct doctor_finding *f = finding(
				c, "mx", DOCTOR_WRONG, d, "MX %d %s points to "
				"another server, not to %s", pref, t, host);
			fix(f, "remove the record \"%s. IN MX %d %s.\"", d,
			    pref, t);
		}
	}
	if (ours < 0) {
		bad = true;
		struct doctor_finding *f = finding(c, "mx", DOCTOR_WRONG, d,
						   "no MX record points to "
						   "this server (%s)", host);
		fix(f, "add: %s", zone(&c->want->r[0], line, sizeof line));
	}
	if (backup[0] != '\0' && theirs < 0) {
		bad = true;
		struct doctor_finding *f = finding(c, "mx", DOCTOR_MISSING, d,
						   "the backup MX %s is not "
						   "published", backup);
		fix(f, "add: %s. %u IN MX 20 %s.", d, c->s->ttl, backup);
	} else if (ours >= 0 && theirs >= 0 && theirs <= ours) {
		bad = true;
		struct doctor_finding *f = finding(
			c, "mx", DOCTOR_WRONG, d, "priorities inverted: the "
			"backup %s (%d) is preferred over %s (%d)", backup,
			theirs, host, ours);
		fix(f, "give %s the lower number: \"%s. IN MX 10 %s.\" and "
		    "\"%s. IN MX 20 %s.\"", host, d, host, d, backup);
	}
	if (!bad)
		finding(c, "mx", DOCTOR_OK, d, "MX points to %s", host);
}

/* ---- TXT records that start with a version tag --------------------------- */

/* Indexes of the TXT records at name whose text starts with tag (case-
 * insensitive) followed by end, ' ' or ';'; the count. */
static size_t versioned(struct ctx *c, const char *tag, size_t *idx,
			size_t max)
{
	size_t n = 0, tl = strlen(tag);
	for (size_t i = 0; c->rr->rc == MA_DNS_OK && i < c->rr->n; i++) {
		const struct ma_rr_data *d = &c->rr->rr[i];
		if (d->len >= tl && strncasecmp((const char *)d->data, tag,
						tl) == 0 &&
		    (d->len == tl || d->data[tl] == ' ' || d->data[tl] == ';')) {
			if (n < max)
				idx[n] = i;
			n++;
		}
	}
	return n;
}

static const struct doctor_record *wanted(struct ctx *c, const char *purpose,
					  const char *name)
{
	for (size_t i = 0; i < c->want->n; i++)
		if (strcmp(c->want->r[i].purpose, purpose) == 0 &&
		    (name == NULL || strcasecmp(c->want->r[i].name, name) == 0))
			return &c->want->r[i];
	return NULL;
}

/* ---- SPF ---------------------------------------------------------------------- */

static void check_spf(struct ctx *c)
{
	const char *d = c->domain;
	const struct doctor_record *w = wanted(c, "spf", NULL);
	char line[ZONE_LINE_MAX], txt[600];
	ask(c, d, MA_RR_TXT);
	if (dns_failed(c, "spf", d))
		return;
	size_t idx[4];
	size_t n = versioned(c, "v=spf1", idx, 4);
	if (n == 0) {
		struct doctor_finding *f = finding(c, "spf", DOCTOR_MISSING, d,
						   "no SPF record");
		fix(f, "add: %s", zone(w, line, sizeof line));
		return;
	}
	if (n > 1) {
		/* RFC 7208 4.5: more than one record is a permerror */
		struct doctor_finding *f = finding(c, "spf", DOCTOR_WRONG, d,
						   "%zu SPF records: receivers "
						   "treat that as an error and "
						   "ignore them all", n);
		fix(f, "keep one SPF record and delete the others; merge "
		    "what they allow into it, for example: %s",
		    zone(w, line, sizeof line));
		return;
	}
	const struct ma_rr_data *rec = &c->rr->rr[idx[0]];
	char *text = xstrndup((const char *)rec->data, rec->len);
	shown(rec, txt, sizeof txt);
	unsigned ttl = c->rr->ttl;
	bool bad = false;
	/* the last term is what everything else gets */
	char *copy = xstrdup(text), *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save))
		if (strcasecmp(t, "+all") == 0 || strcasecmp(t, "all") == 0) {
			bad = true;
			struct doctor_finding *f = finding(
				c, "spf", DOCTOR_WRONG, d, "SPF \"%s\" ends in "
				"%s: every server on the Internet may send as "
				"%s", txt, t, d);
			f->ttl = ttl;
			fix(f, "replace %s with -all (or ~all while testing): "
			    "%s", t, zone(w, line, sizeof line));
		}
	free(copy);
	bool c4, c6;
	size_t q = 0;
	unsigned lookups = doctor_spf_lookups(c->dns, d, text, c->s->ipv4,
					      c->s->ipv6, &c4, &c6, &q);
	c->out->queries += q;
	if (lookups > 10) {
		bad = true;
		struct doctor_finding *f = finding(
			c, "spf", DOCTOR_WRONG, d, "SPF needs %u%s DNS lookups; "
			"RFC 7208 allows 10, receivers fail it (permerror)",
			lookups, lookups > DOCTOR_SPF_LOOKUPS_MAX ? "+" : "");
		f->ttl = ttl;
		fix(f, "remove include: terms you no longer need, or replace "
		    "them with the ip4:/ip6: ranges they stand for, to get "
		    "at most 10 include/a/mx/ptr/exists/redirect terms "
		    "(counting those inside includes)");
	}
	const char *missing4 = c->s->ipv4[0] && !c4 ? c->s->ipv4 : "";
	const char *missing6 = c->s->ipv6[0] && !c6 ? c->s->ipv6 : "";
	if (missing4[0] || missing6[0]) {
		bad = true;
		struct doctor_finding *f = finding(
			c, "spf", DOCTOR_WRONG, d, "SPF \"%s\" does not allow "
			"this server's address %s%s%s", txt, missing4,
			missing4[0] && missing6[0] ? " and " : "", missing6);
		f->ttl = ttl;
		fix(f, "add%s%s%s%s before the all term: %s",
		    missing4[0] ? " ip4:" : "", missing4,
		    missing6[0] ? " ip6:" : "", missing6,
		    zone(w, line, sizeof line));
	}
	if (!bad) {
		struct doctor_finding *f = finding(c, "spf", DOCTOR_OK, d,
						   "SPF \"%s\" (%u lookups)",
						   txt, lookups);
		f->ttl = ttl;
	}
	free(text);
}

/* ---- DKIM ------------------------------------------------------------------- */

/* p= of a key record with whitespace removed (RFC 6376 3.6.1 lets FWS
 * sit inside base64), its base64 decoded into der (0 if broken). */
static size_t decode_p(const char *p, size_t len, unsigned char *der,
		       size_t dersz, bool *broken)
{
	char *b = xmalloc(len + 1);
	size_t n = 0;
	*broken = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (!isalnum(ch) && ch != '+' && ch != '/' && ch != '=')
			*broken = true;
		b[n++] = (char)ch;
	}
	size_t out = 0;
	if (!*broken && n % 4 != 0)
		*broken = true;
	if (!*broken && n / 4 * 3 <= dersz) {
		int r = EVP_DecodeBlock(der, (const unsigned char *)b, (int)n);
		if (r < 0)
			*broken = true;
		else {
			out = (size_t)r;
			for (size_t i = n; i > 0 && b[i - 1] == '='; i--)
				out--;
		}
	} else if (!*broken) {
		*broken = true;
	}
	free(b);
	return *broken ? 0 : out;
}

/* Whether der decodes to a public key of the key's algorithm. */
static bool key_sound(const unsigned char *der, size_t len, bool ed25519)
{
	if (ed25519)
		return len == 32;
	const unsigned char *p = der;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
	bool ok = pk != NULL && p == der + len;
	EVP_PKEY_free(pk);
	return ok;
}

static void check_dkim_key(struct ctx *c, const struct store_dkim_key *k,
			   const struct doctor_record *w)
{
	char line[ZONE_LINE_MAX];
	const char *name = w->name;
	ask(c, name, MA_RR_TXT);
	if (dns_failed(c, "dkim", name))
		return;
	size_t n = c->rr->rc == MA_DNS_OK ? c->rr->n : 0;
	if (n == 0) {
		struct doctor_finding *f = finding(
			c, "dkim", DOCTOR_MISSING, name, "no DKIM key record "
			"for selector %s (%s)", k->selector, k->algorithm);
		fix(f, "add: %s", zone(w, line, sizeof line));
		return;
	}
	if (n > 1) {
		struct doctor_finding *f = finding(
			c, "dkim", DOCTOR_WRONG, name, "%zu TXT records for "
			"selector %s: the key was split (a line break pasted "
			"into it?) or published twice", n, k->selector);
		fix(f, "delete them and publish one record: %s",
		    zone(w, line, sizeof line));
		return;
	}
	const struct ma_rr_data *rec = &c->rr->rr[0];
	struct taglist tl;
	const char *why = NULL;
	const struct tag *p = NULL;
	if (taglist_parse((const char *)rec->data, rec->len, &tl, &why) == 0)
		p = taglist_get(&tl, "p");
	unsigned char der[2048];
	bool broken = p == NULL;
	size_t dlen = p ? decode_p(p->val, p->val_len, der, sizeof der,
				   &broken) : 0;
	bool ed = dkim_key_alg_of(k) == DKIM_ALG_ED25519;
	if (!broken && !key_sound(der, dlen, ed))
		broken = true;
	if (broken || (p != NULL && p->val_len == 0)) {
		struct doctor_finding *f = finding(
			c, "dkim", DOCTOR_WRONG, name, "the DKIM record of "
			"selector %s is broken: %s", k->selector,
			p == NULL ? (why ? why : "no p= tag") :
			p->val_len == 0 ? "p= is empty (a revoked key)" :
			"its p= value is not valid base64 of a public key "
			"(a line break, a space or a cut pasted into it?)");
		fix(f, "replace the record with exactly: %s",
		    zone(w, line, sizeof line));
		return;
	}
	unsigned char want[2048];
	bool wbroken;
	size_t wlen = decode_p(k->public_key, strlen(k->public_key), want,
			       sizeof want, &wbroken);
	if (wbroken || wlen != dlen || memcmp(want, der, dlen) != 0) {
		struct doctor_finding *f = finding(
			c, "dkim", DOCTOR_WRONG, name, "the published key for "
			"selector %s is not the key petrel signs with: "
			"receivers will fail every signature", k->selector);
		fix(f, "replace the record with: %s",
		    zone(w, line, sizeof line));
		return;
	}
	finding(c, "dkim", DOCTOR_OK, name, "DKIM key %s (%s) published",
		k->selector, k->algorithm);
}

/* ---- DMARC, MTA-STS, TLS-RPT ---------------------------------------------- */

static void check_dmarc(struct ctx *c)
{
	const struct doctor_record *w = wanted(c, "dmarc", NULL);
	char line[ZONE_LINE_MAX], txt[600];
	ask(c, w->name, MA_RR_TXT);
	if (dns_failed(c, "dmarc", w->name))
		return;
	size_t idx[4];
	size_t n = versioned(c, "v=DMARC1", idx, 4);
	if (n == 0) {
		struct doctor_finding *f = finding(
			c, "dmarc", DOCTOR_MISSING, w->name, "no DMARC record%s",
			c->rr->rc == MA_DNS_OK ? " (a TXT record there does "
			"not start with v=DMARC1)" : "");
		fix(f, "add: %s", zone(w, line, sizeof line));
		return;
	}
	if (n > 1) {
		struct doctor_finding *f = finding(
			c, "dmarc", DOCTOR_WRONG, w->name, "%zu DMARC records: "
			"receivers ignore them all (RFC 7489 6.6.3)", n);
		fix(f, "keep one: %s", zone(w, line, sizeof line));
		return;
	}
	const struct ma_rr_data *rec = &c->rr->rr[idx[0]];
	shown(rec, txt, sizeof txt);
	struct taglist tl;
	const char *why = NULL;
	const char *problem = NULL;
	if (taglist_parse((const char *)rec->data, rec->len, &tl, &why) != 0)
		problem = why;
	else if (tl.n == 0 || tl.t[0].name_len != 1 || tl.t[0].name[0] != 'v')
		problem = "v=DMARC1 must be the first tag";
	else if (!tag_is(&tl.t[0], "DMARC1"))
		problem = "the version must be exactly DMARC1";
	else if (tl.n < 2 || tl.t[1].name_len != 1 || tl.t[1].name[0] != 'p')
		/* RFC 7489 6.3: p directly follows v */
		problem = "p= must be the second tag";
	else if (!tag_is(&tl.t[1], "none") && !tag_is(&tl.t[1], "quarantine") &&
		 !tag_is(&tl.t[1], "reject"))
		problem = "p= must be none, quarantine or reject";
	if (problem != NULL) {
		struct doctor_finding *f = finding(
			c, "dmarc", DOCTOR_WRONG, w->name, "DMARC \"%s\": %s",
			txt, problem);
		fix(f, "replace it with: %s", zone(w, line, sizeof line));
		return;
	}
	finding(c, "dmarc", DOCTOR_OK, w->name, "DMARC \"%s\"", txt);
}

/* A TXT record that must start with tag and, when exact, equal want. */
static void check_txt(struct ctx *c, const char *purpose, const char *tag,
		      bool exact)
{
	const struct doctor_record *w = wanted(c, purpose, NULL);
	char line[ZONE_LINE_MAX], txt[600];
	ask(c, w->name, MA_RR_TXT);
	if (dns_failed(c, purpose, w->name))
		return;
	size_t idx[4];
	size_t n = versioned(c, tag, idx, 4);
	if (n == 0) {
		struct doctor_finding *f = finding(c, purpose, DOCTOR_MISSING,
						   w->name, "no %s record",
						   tag);
		fix(f, "add: %s", zone(w, line, sizeof line));
		return;
	}
	const struct ma_rr_data *rec = &c->rr->rr[idx[0]];
	shown(rec, txt, sizeof txt);
	struct doctor_finding *f = NULL;
	if (n > 1)
		f = finding(c, purpose, DOCTOR_WRONG, w->name, "%zu records "
			    "starting %s", n, tag);
	else if (exact && (rec->len != strlen(w->value) ||
			   memcmp(rec->data, w->value, rec->len) != 0))
		f = finding(c, purpose, DOCTOR_WRONG, w->name, "\"%s\" is not "
			    "the current policy's record", txt);
	if (f != NULL) {
		fix(f, "publish exactly one: %s", zone(w, line, sizeof line));
		return;
	}
	finding(c, purpose, DOCTOR_OK, w->name, "\"%s\"", txt);
}

/* ---- host names that point at this server (CNAME records) --------------- */

/* mta-sts.DOMAIN, autoconfig.DOMAIN, autodiscover.DOMAIN: published as
 * CNAMEs of hostname, but an A record of the same address serves as
 * well, so what is checked is where the name leads. */
static void check_hosts(struct ctx *c)
{
	unsigned char ours[16][4];
	size_t nours = 0;
	ask(c, c->s->hostname, MA_RR_A);
	for (size_t i = 0; c->rr->rc == MA_DNS_OK && i < c->rr->n && nours < 16;
	     i++)
		if (c->rr->rr[i].len == 4)
			memcpy(ours[nours++], c->rr->rr[i].data, 4);
	char line[ZONE_LINE_MAX];
	for (size_t i = 0; i < c->want->n; i++) {
		const struct doctor_record *w = &c->want->r[i];
		if (w->type != DOCTOR_CNAME)
			continue;
		ask(c, w->name, MA_RR_A);
		if (dns_failed(c, w->purpose, w->name))
			continue;
		if (c->rr->rc != MA_DNS_OK) {
			struct doctor_finding *f = finding(
				c, w->purpose, DOCTOR_MISSING, w->name,
				"%s does not resolve", w->name);
			fix(f, "add: %s", zone(w, line, sizeof line));
			continue;
		}
		bool same = nours == 0;
		for (size_t j = 0; j < c->rr->n && !same; j++)
			for (size_t k = 0; k < nours && !same; k++)
				same = c->rr->rr[j].len == 4 &&
				       memcmp(c->rr->rr[j].data, ours[k], 4) == 0;
		if (!same) {
			struct doctor_finding *f = finding(
				c, w->purpose, DOCTOR_WRONG, w->name,
				"%s leads to another server, not to %s",
				w->name, c->s->hostname);
			fix(f, "replace its records with: %s",
			    zone(w, line, sizeof line));
			continue;
		}
		finding(c, w->purpose, DOCTOR_OK, w->name, "%s leads to %s",
			w->name, c->s->hostname);
	}
}

/* ---- client service records (SRV, RFC 6186) ------------------------------ */

/* An SRV record's text ("priority weight port target", ma_dns.h): its
 * port and target. false when it does not read as one. */
static bool srv_parts(const char *text, unsigned *port, const char **target)
{
	const char *p = text;
	unsigned long v = 0;
	for (int k = 0; k < 3; k++) {
		char *end;
		v = strtoul(p, &end, 10);
		if (end == p || *end != ' ')
			return false;
		p = end + 1;
	}
	*port = (unsigned)v;
	*target = p;
	return true;
}

/* Each SRV record doctor_records prints: there, and one of its records
 * leading to this host's port. More records (another server as a
 * fallback) are the admin's business; "." says the service is not
 * offered (RFC 6186 3.4), which is wrong when we offer it. */
static void check_srv(struct ctx *c)
{
	char line[ZONE_LINE_MAX], first[300];
	for (size_t i = 0; i < c->want->n; i++) {
		const struct doctor_record *w = &c->want->r[i];
		unsigned want_port, port;
		const char *want_host, *host;
		if (w->type != DOCTOR_SRV ||
		    !srv_parts(w->value, &want_port, &want_host))
			continue;
		ask(c, w->name, MA_RR_SRV);
		if (dns_failed(c, "srv", w->name))
			continue;
		if (c->rr->rc != MA_DNS_OK) {
			struct doctor_finding *f = finding(
				c, "srv", DOCTOR_MISSING, w->name, "no SRV "
				"record: mail clients setting up an account "
				"will not find the %s service", w->name);
			fix(f, "add: %s", zone(w, line, sizeof line));
			continue;
		}
		bool match = false;
		for (size_t j = 0; j < c->rr->n && !match; j++)
			match = srv_parts((const char *)c->rr->rr[j].data, &port,
					  &host) && port == want_port &&
				strcasecmp(host, want_host) == 0;
		if (match) {
			finding(c, "srv", DOCTOR_OK, w->name, "%s leads to "
				"%s port %u", w->name, want_host, want_port);
			continue;
		}
		shown(&c->rr->rr[0], first, sizeof first);
		struct doctor_finding *f = finding(
			c, "srv", DOCTOR_WRONG, w->name, "\"%s\" does not lead "
			"to %s port %u%s", first, want_host, want_port,
			c->rr->n > 1 ? " (nor do the others)" : "");
		fix(f, "replace it with: %s", zone(w, line, sizeof line));
	}
}

/* ---- PTR (reverse DNS) ------------------------------------------------------ */

static void check_ptr(struct ctx *c, const char *addr, bool v6)
{
	unsigned char ip[16];
	if (addr[0] == '\0' || inet_pton(v6 ? AF_INET6 : AF_INET, addr, ip) != 1)
		return;
	char rev[MA_REVERSE_NAME_MAX];
	ma_reverse_name(ip, v6, rev, sizeof rev);
	const char *host = c->s->hostname;
	ask(c, rev, MA_RR_PTR);
	if (dns_failed(c, "ptr", rev))
		return;
	if (c->rr->rc != MA_DNS_OK) {
		struct doctor_finding *f = finding(
			c, "ptr", DOCTOR_MISSING, rev, "%s has no reverse DNS "
			"name: many receivers refuse or junk its mail", addr);
		fix(f, "ask whoever runs the address (your hosting or "
		    "network provider) to set its PTR record: \"%s. IN PTR "
		    "%s.\"", rev, host);
		return;
	}
	bool match = false;
	char first[300] = "";
	for (size_t i = 0; i < c->rr->n; i++) {
		if (i == 0)
			shown(&c->rr->rr[0], first, sizeof first);
		if (strcasecmp((const char *)c->rr->rr[i].data, host) == 0)
			match = true;
	}
	if (!match) {
		struct doctor_finding *f = finding(
			c, "ptr", DOCTOR_WRONG, rev, "%s is named %s in reverse "
			"DNS, not %s (the name this server greets with)", addr,
			first, host);
		fix(f, "ask your provider to change the PTR record to \"%s. IN "
		    "PTR %s.\" (or set hostname = %s in petrel.conf if that "
		    "name resolves to %s)", rev, host, first, addr);
		return;
	}
	/* forward-confirmed: the name must lead back to the address */
	ask(c, host, v6 ? MA_RR_AAAA : MA_RR_A);
	bool back = false;
	for (size_t i = 0; c->rr->rc == MA_DNS_OK && i < c->rr->n; i++)
		if (c->rr->rr[i].len == (v6 ? 16u : 4u) &&
		    memcmp(c->rr->rr[i].data, ip, c->rr->rr[i].len) == 0)
			back = true;
	if (!back) {
		struct doctor_finding *f = finding(
			c, "ptr", DOCTOR_WRONG, host, "%s has reverse name %s "
			"but %s does not resolve to %s", addr, host, host,
			addr);
		fix(f, "add: \"%s. IN %s %s\"", host, v6 ? "AAAA" : "A", addr);
		return;
	}
	finding(c, "ptr", DOCTOR_OK, rev, "%s is %s and back", addr, host);
}

void doctor_check(const struct ma_dns *dns, const struct doctor_site *s,
		  const char *domain, const struct doctor_records *want,
		  const struct store_dkim_key *keys, size_t nkeys,
		  int64_t now, struct doctor_report *out)
{
	memset(out, 0, sizeof *out);
	struct ctx c = { dns, s, domain, want, out, NULL };
	c.rr = xmalloc(sizeof *c.rr);
	ma_rrset_reset(c.rr);
	check_mx(&c);
	check_spf(&c);
	for (size_t i = 0; i < nkeys; i++) {
		if (!dkim_key_published(&keys[i], now))
			continue;
		char name[SMTP_DOMAIN_MAX + 1];
		snprintf(name, sizeof name, "%s._domainkey.%s",
			 keys[i].selector, domain);
		const struct doctor_record *w = wanted(&c, "dkim", name);
		if (w != NULL)
			check_dkim_key(&c, &keys[i], w);
	}
	check_dmarc(&c);
	check_txt(&c, "mta-sts", "v=STSv1", true);
	check_txt(&c, "tls-rpt", "v=TLSRPTv1", false);
	check_hosts(&c);
	check_srv(&c);
	check_ptr(&c, s->ipv4, false);
	check_ptr(&c, s->ipv6, true);
	free(c.rr);
}

bool doctor_report_ok(const struct doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->f[i].status != DOCTOR_OK)
			return false;
	return true;
}

const char *doctor_status_name(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK: return "ok";
	case DOCTOR_MISSING: return "missing";
	case DOCTOR_WRONG: return "wrong";
	case DOCTOR_UNKNOWN: return "unknown";
	}
	return "?";
}
