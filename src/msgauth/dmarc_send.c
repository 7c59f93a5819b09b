/* dmarc_send.c - an aggregate report from stored rows, its addresses,
 * the 7.1 check and its e-mail (RFC 7489 7.1, 7.2). */
#include "msgauth/dmarc_send.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "msgauth/dmarc_agg.h"

struct dmarc_outgoing_auth {
	char d[DMARC_DOMAIN_MAX + 1];
	char s[DKIM_MAX_SELECTOR + 1];
};

void dmarc_outgoing_init(struct dmarc_outgoing *o,
			 const struct dmarc_reporter_id *who,
			 const char *report_id, int64_t begin, int64_t end,
			 int64_t id, const struct store_dmarc_row *r)
{
	memset(o, 0, sizeof *o);
	snprintf(o->domain, sizeof o->domain, "%s", r->policy_domain);
	snprintf(o->rua, sizeof o->rua, "%s", r->rua);
	snprintf(o->report_id, sizeof o->report_id, "%s", report_id);
	o->rep.org_name = who->org_name;
	o->rep.email = who->email;
	o->rep.report_id = o->report_id;
	o->rep.begin = begin;
	o->rep.end = end;
	o->rep.domain = o->domain;
	o->rep.adkim = (enum dmarc_align)r->adkim;
	o->rep.aspf = (enum dmarc_align)r->aspf;
	o->rep.p = (enum dmarc_policy)r->p;
	o->rep.sp = (enum dmarc_policy)r->sp;
	o->rep.np = (enum dmarc_policy)r->np;
	o->rep.pct = r->pct;
	dmarc_outgoing_add(o, id, r);
}

bool dmarc_outgoing_same(const struct dmarc_outgoing *o,
			 const struct store_dmarc_row *r)
{
	const struct store_dmarc_row *f = &o->src[0];
	return strcmp(f->policy_domain, r->policy_domain) == 0 &&
	       f->p == r->p && f->sp == r->sp && f->np == r->np &&
	       f->pct == r->pct && f->adkim == r->adkim &&
	       f->aspf == r->aspf && strcmp(f->rua, r->rua) == 0;
}

void dmarc_outgoing_add(struct dmarc_outgoing *o, int64_t id,
			const struct store_dmarc_row *r)
{
	if (o->n == o->cap) {
		o->cap = o->cap == 0 ? 16 : o->cap * 2;
		o->src = xreallocarray(o->src, o->cap, sizeof *o->src);
		o->ids = xreallocarray(o->ids, o->cap, sizeof *o->ids);
	}
	o->src[o->n] = *r;
	o->ids[o->n++] = id;
	o->messages += r->count;
}

void dmarc_outgoing_finish(struct dmarc_outgoing *o)
{
	char d[DMARC_REPORT_AUTH_MAX][DMARC_DOMAIN_MAX + 1];
	char s[DMARC_REPORT_AUTH_MAX][DKIM_MAX_SELECTOR + 1];
	enum dmarc_rr res[DMARC_REPORT_AUTH_MAX];
	size_t total = 0;
	for (size_t i = 0; i < o->n; i++)
		total += dmarc_agg_dkim_results(o->src[i].dkim_auth, d, s, res,
						DMARC_REPORT_AUTH_MAX);
	o->auth_ = xcalloc(total + 1, sizeof *o->auth_);
	o->rep.records = xcalloc(o->n, sizeof *o->rep.records);
	o->rep.n_records = o->n;
	size_t k = 0;
	for (size_t i = 0; i < o->n; i++) {
		const struct store_dmarc_row *r = &o->src[i];
		struct dmarc_report_row *w = &o->rep.records[i];
		w->source_ip = r->source_ip;
		w->count = r->count;
		w->disposition = (enum dmarc_disp)r->disposition;
		w->dkim = (enum dmarc_rr)r->dkim;
		w->spf = (enum dmarc_rr)r->spf;
		w->header_from = r->header_from;
		w->envelope_from = r->envelope_from[0] != '\0' ?
				   r->envelope_from : NULL;
		size_t n = dmarc_agg_dkim_results(r->dkim_auth, d, s, res,
						  DMARC_REPORT_AUTH_MAX);
		for (size_t j = 0; j < n; j++, k++) {
			memcpy(o->auth_[k].d, d[j], sizeof d[j]);
			memcpy(o->auth_[k].s, s[j], sizeof s[j]);
			w->dkim_res[j].domain = o->auth_[k].d;
			w->dkim_res[j].selector = o->auth_[k].s[0] != '\0' ?
						  o->auth_[k].s : NULL;
			w->dkim_res[j].result = res[j];
		}
		w->n_dkim = n;
		/* appendix C: spf is required, one or more */
		w->spf_res[0].domain = r->spf_domain;
		w->spf_res[0].scope = r->spf_scope[0] != '\0' ? r->spf_scope
							      : NULL;
		w->spf_res[0].result = (enum dmarc_rr)r->spf_result;
		w->n_spf = 1;
	}
}

void dmarc_outgoing_free(struct dmarc_outgoing *o)
{
	free(o->src);
	free(o->ids);
	free(o->auth_);
	free(o->rep.records);
	memset(o, 0, sizeof *o);
}

int dmarc_rua_mailto(const char *uri, char *addr, size_t addrsz,
		     uint64_t *max_size, const char **why)
{
	*max_size = 0;
	if (strncasecmp(uri, "mailto:", 7) != 0) {
		*why = "not a mailto: URI (RFC 7489 7.2.1.1 defines mail only)";
		return -1;
	}
	const char *a = uri + 7;
	const char *bang = strchr(a, '!');
	size_t len = bang != NULL ? (size_t)(bang - a) : strlen(a);
	if (bang != NULL) {
		char *end;
		unsigned long long v = strtoull(bang + 1, &end, 10);
		if (end == bang + 1 || *end != '\0') {
			*why = "bad size limit";
			return -1;
		}
		*max_size = v;
	}
	const char *at = memchr(a, '@', len);
	if (len == 0 || len >= addrsz || at == NULL || at == a ||
	    at + 1 == a + len) {
		*why = "not an address";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)a[i];
		/* RFC 6068 hfields and percent-encoding: not for reports */
		if (ch <= 0x20 || ch >= 0x7f || ch == '?' || ch == '%' ||
		    ch == '<' || ch == '>' || ch == '"' || ch == ',') {
			*why = "address with characters reports do not use";
			return -1;
		}
	}
	memcpy(addr, a, len);
	addr[len] = '\0';
	return 0;
}

bool dmarc_external_ok(const struct ma_dns *dns, const char *policy_domain,
		       const char *rua_domain, char *why, size_t whysz)
{
	char po[DMARC_DOMAIN_MAX + 1], ro[DMARC_DOMAIN_MAX + 1];
	char pd[DMARC_DOMAIN_MAX + 1], rd[DMARC_DOMAIN_MAX + 1];
	if (dmarc_domain_norm(policy_domain, strlen(policy_domain), pd) < 0 ||
	    dmarc_domain_norm(rua_domain, strlen(rua_domain), rd) < 0) {
		snprintf(why, whysz, "not a domain");
		return false;
	}
	if (!dmarc_org_domain(pd, po))
		snprintf(po, sizeof po, "%s", pd);
	if (!dmarc_org_domain(rd, ro))
		snprintf(ro, sizeof ro, "%s", rd);
	if (strcmp(po, ro) == 0)
		return true;
	char name[2 * DMARC_DOMAIN_MAX + 32];
	int n = snprintf(name, sizeof name, "%s._report._dmarc.%s", pd, rd);
	if (n < 0 || (size_t)n >= sizeof name || n > 253) {
		snprintf(why, whysz, "%s._report._dmarc.%s is too long a name",
			 pd, rd);
		return false;
	}
	struct ma_rrset *set = xmalloc(sizeof *set);
	ma_rrset_reset(set);
	ma_dns_query(dns, name, MA_RR_TXT, set);
	bool ok = false;
	for (size_t i = 0; set->rc == MA_DNS_OK && i < set->n && !ok; i++)
		ok = dmarc_record_is_dmarc((const char *)set->rr[i].data,
					   set->rr[i].len);
	if (!ok)
		snprintf(why, whysz, "%s is outside %s and %s has no "
			 "v=DMARC1 TXT record (%s; RFC 7489 7.1)", rd, po, name,
			 set->rc == MA_DNS_OK ? "other records" :
						ma_dns_rc_str(set->rc));
	free(set);
	return ok;
}

int dmarc_report_subject(const char *domain, const char *submitter,
			 const char *report_id, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "Report Domain: %s Submitter: %s "
			 "Report-ID: <%s>", domain, submitter, report_id);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static void put(struct buf *out, bool *full, const char *s)
{
	if (!*full && buf_append(out, s, strlen(s)) < 0)
		*full = true;
}

int dmarc_report_mail_build(const struct dmarc_reporter_id *who,
			    const struct dmarc_report *r, const char *to,
			    time_t now, const unsigned char *gz, size_t gz_len,
			    const char *filename, struct buf *out,
			    struct err *err)
{
	char subject[600], date[64], line[1024], b1[32], b2[32];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (dmarc_report_subject(r->domain, who->receiver, r->report_id,
				 subject, sizeof subject) < 0)
		return err_set(err, ERR_LIMIT, 0, "", "subject too long");
	unsigned char rnd[12];
	randombytes_buf(rnd, sizeof rnd);
	char boundary[40];
	sodium_bin2hex(boundary, sizeof boundary, rnd, sizeof rnd);
	bool full = false;
	snprintf(line, sizeof line, "From: <%s>\r\nTo: <%s>\r\n", who->email,
		 to);
	put(out, &full, line);
	snprintf(line, sizeof line, "Subject: %s\r\nDate: %s\r\n"
		 "Message-ID: <dmarc.%s@%s>\r\nMIME-Version: 1.0\r\n"
		 "Auto-Submitted: auto-generated\r\n"
		 "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n",
		 subject, date, r->report_id, who->receiver, boundary);
	put(out, &full, line);
	time_t b = (time_t)r->begin, e = (time_t)r->end;
	gmtime_r(&b, &tm);
	strftime(b1, sizeof b1, "%Y-%m-%d %H:%M", &tm);
	gmtime_r(&e, &tm);
	strftime(b2, sizeof b2, "%Y-%m-%d %H:%M", &tm);
	snprintf(line, sizeof line, "This is a multi-part message in MIME "
		 "format.\r\n\r\n--%s\r\nContent-Type: text/plain; "
		 "charset=us-ascii\r\n\r\nThis is a DMARC aggregate report "
		 "(RFC 7489) from %s for %s,\r\ncovering %s to %s UTC: %zu "
		 "record(s).\r\nReport-ID: %s\r\n\r\n--%s\r\n"
		 "Content-Type: application/gzip; name=\"%s\"\r\n"
		 "Content-Disposition: attachment; filename=\"%s\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\n", boundary,
		 who->receiver, r->domain, b1, b2, r->n_records, r->report_id,
		 boundary, filename, filename);
	put(out, &full, line);
	/* base64 in lines of 76 (RFC 2045 6.8): 57 bytes each */
	char enc[80];
	for (size_t off = 0; off < gz_len && !full; off += 57) {
		size_t n = gz_len - off < 57 ? gz_len - off : 57;
		sodium_bin2base64(enc, sizeof enc, gz + off, n,
				  sodium_base64_VARIANT_ORIGINAL);
		put(out, &full, enc);
		put(out, &full, "\r\n");
	}
	snprintf(line, sizeof line, "\r\n--%s--\r\n", boundary);
	put(out, &full, line);
	if (full)
		return err_set(err, ERR_LIMIT, 0, "", "report mail over %zu "
			       "bytes", out->max);
	return 0;
}
