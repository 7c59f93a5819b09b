/* dmarc_report_write.c - an aggregate report out of struct dmarc_report:
 * the appendix C XML (RFC 7489), gzip'd with zlib, and its file name
 * (7.2.1.1). Sending it (7.2.1.1 mail, size limits of rua=) is the
 * caller's part. */
#include "msgauth/dmarc_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/xmalloc.h"

struct wr {
	struct buf b;
	bool full;
};

static void wr_raw(struct wr *w, const char *s, size_t n)
{
	if (!w->full && buf_append(&w->b, s, n) < 0)
		w->full = true;
}

static void wr_str(struct wr *w, const char *s)
{
	wr_raw(w, s, strlen(s));
}

static void wr_fmt(struct wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void wr_fmt(struct wr *w, const char *fmt, ...)
{
	char tmp[512];	/* our formats hold numbers and names only */
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		w->full = true;
	else
		wr_raw(w, tmp, (size_t)n);
}

/* Text content: markup escaped, and control characters XML 1.0 cannot
 * carry (2.2) replaced, so the reader on the other side never chokes. */
static void wr_text(struct wr *w, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': wr_str(w, "&amp;"); break;
		case '<': wr_str(w, "&lt;"); break;
		case '>': wr_str(w, "&gt;"); break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				c = '?';
			wr_raw(w, (const char *)&c, 1);
		}
	}
}

static void wr_elem(struct wr *w, const char *indent, const char *name, const char *val)
{
	if (val == NULL)
		return;
	wr_fmt(w, "%s<%s>", indent, name);
	wr_text(w, val);
	wr_fmt(w, "</%s>\n", name);
}

static void wr_row(struct wr *w, const struct dmarc_report_row *row)
{
	wr_str(w, "  <record>\n    <row>\n");
	wr_elem(w, "      ", "source_ip", row->source_ip);
	wr_fmt(w, "      <count>%llu</count>\n", (unsigned long long)row->count);
	wr_fmt(w, "      <policy_evaluated>\n        <disposition>%s</disposition>\n"
		  "        <dkim>%s</dkim>\n        <spf>%s</spf>\n",
	       dmarc_disp_str(row->disposition),
	       row->dkim == DMARC_RR_PASS ? "pass" : "fail",
	       row->spf == DMARC_RR_PASS ? "pass" : "fail");
	if (row->reason_type != NULL) {
		wr_str(w, "        <reason>\n");
		wr_elem(w, "          ", "type", row->reason_type);
		wr_elem(w, "          ", "comment", row->reason_comment);
		wr_str(w, "        </reason>\n");
	}
	wr_str(w, "      </policy_evaluated>\n    </row>\n    <identifiers>\n");
	wr_elem(w, "      ", "envelope_to", row->envelope_to);
	wr_elem(w, "      ", "envelope_from", row->envelope_from);
	wr_elem(w, "      ", "header_from", row->header_from);
	wr_str(w, "    </identifiers>\n    <auth_results>\n");
	for (size_t i = 0; i < row->n_dkim && i < DMARC_REPORT_AUTH_MAX; i++) {
		const struct dmarc_report_dkim *k = &row->dkim_res[i];
		wr_str(w, "      <dkim>\n");
		wr_elem(w, "        ", "domain", k->domain);
		wr_elem(w, "        ", "selector", k->selector);
		wr_elem(w, "        ", "result", dmarc_rr_str(k->result));
		wr_elem(w, "        ", "human_result", k->human_result);
		wr_str(w, "      </dkim>\n");
	}
	for (size_t i = 0; i < row->n_spf && i < DMARC_REPORT_AUTH_MAX; i++) {
		const struct dmarc_report_spf *f = &row->spf_res[i];
		wr_str(w, "      <spf>\n");
		wr_elem(w, "        ", "domain", f->domain);
		wr_elem(w, "        ", "scope", f->scope);
		wr_elem(w, "        ", "result", dmarc_rr_str(f->result));
		wr_str(w, "      </spf>\n");
	}
	wr_str(w, "    </auth_results>\n  </record>\n");
}

int dmarc_report_xml(const struct dmarc_report *r, char **xml_out,
		     size_t *len_out, struct err *err)
{
	struct wr w = { .full = false };

	*xml_out = NULL;
	*len_out = 0;
	if (r->org_name == NULL || r->email == NULL || r->report_id == NULL ||
	    r->domain == NULL || r->p == DMARC_POLICY_UNSET)
		return err_set(err, ERR_PEER, 0, NULL,
			       "report needs org_name, email, report_id, domain and p");
	for (size_t i = 0; i < r->n_records; i++)
		if (r->records[i].source_ip == NULL || r->records[i].header_from == NULL ||
		    r->records[i].disposition == DMARC_DISP_ABSENT)
			return err_set(err, ERR_PEER, 0, NULL,
				       "record %zu needs source_ip, header_from and disposition", i);
	buf_init(&w.b, DMARC_REPORT_XML_MAX);
	wr_str(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n"
		   "  <version>1.0</version>\n  <report_metadata>\n");
	wr_elem(&w, "    ", "org_name", r->org_name);
	wr_elem(&w, "    ", "email", r->email);
	wr_elem(&w, "    ", "extra_contact_info", r->extra_contact_info);
	wr_elem(&w, "    ", "report_id", r->report_id);
	wr_fmt(&w, "    <date_range>\n      <begin>%lld</begin>\n      <end>%lld</end>\n"
		   "    </date_range>\n  </report_metadata>\n  <policy_published>\n",
	       (long long)r->begin, (long long)r->end);
	wr_elem(&w, "    ", "domain", r->domain);
	wr_fmt(&w, "    <adkim>%c</adkim>\n    <aspf>%c</aspf>\n    <p>%s</p>\n",
	       r->adkim == DMARC_ALIGN_STRICT ? 's' : 'r',
	       r->aspf == DMARC_ALIGN_STRICT ? 's' : 'r', dmarc_policy_str(r->p));
	if (r->sp != DMARC_POLICY_UNSET)
		wr_fmt(&w, "    <sp>%s</sp>\n", dmarc_policy_str(r->sp));
	if (r->np != DMARC_POLICY_UNSET)
		wr_fmt(&w, "    <np>%s</np>\n", dmarc_policy_str(r->np));
	wr_fmt(&w, "    <pct>%u</pct>\n", r->pct > 100 ? 100 : r->pct);
	wr_elem(&w, "    ", "fo", r->fo);
	wr_str(&w, "  </policy_published>\n");
	for (size_t i = 0; i < r->n_records; i++)
		wr_row(&w, &r->records[i]);
	wr_str(&w, "</feedback>\n");
	if (w.full) {
		buf_release(&w.b);
		return err_set(err, ERR_LIMIT, 0, NULL, "report larger than %d bytes",
			       DMARC_REPORT_XML_MAX);
	}
	*len_out = w.b.len;
	*xml_out = (char *)w.b.data;	/* handed over: not released */
	return 0;
}

int dmarc_report_gzip(const struct dmarc_report *r, unsigned char **gz_out,
		      size_t *len_out, struct err *err)
{
	char *xml;
	size_t len;
	z_stream z;

	*gz_out = NULL;
	*len_out = 0;
	if (dmarc_report_xml(r, &xml, &len, err) < 0)
		return -1;
	memset(&z, 0, sizeof(z));
	/* 16 + 15: a gzip wrapper (RFC 1952) instead of zlib's */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + 15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(xml);
		return err_set(err, ERR_ENV, 0, NULL, "zlib: cannot start deflate");
	}
	size_t cap = deflateBound(&z, (uLong)len);
	unsigned char *gz = xmalloc(cap);
	z.next_in = (unsigned char *)xml;
	z.avail_in = (uInt)len;	/* len <= DMARC_REPORT_XML_MAX */
	z.next_out = gz;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	free(xml);
	if (rc != Z_STREAM_END) {
		free(gz);
		return err_set(err, ERR_ENV, 0, NULL, "zlib: deflate failed");
	}
	*gz_out = gz;
	*len_out = cap - z.avail_out;
	return 0;
}

static bool fn_domain(const char *s)
{
	char tmp[DMARC_DOMAIN_MAX + 1];

	return s != NULL && dmarc_domain_norm(s, strlen(s), tmp) == 0 && strcmp(s, tmp) == 0;
}

int dmarc_report_filename(const char *receiver, const struct dmarc_report *r,
			  const char *unique_id, char *out, size_t outsz,
			  struct err *err)
{
	int n;

	/* RFC 7489 7.2.1.1: receiver and policy-domain are domains,
	 * unique-id = 1*(ALPHA / DIGIT); '!' separates, so none may hold one */
	if (!fn_domain(receiver) || !fn_domain(r->domain) || r->begin < 0 || r->end < 0)
		return err_set(err, ERR_PEER, 0, NULL,
			       "file name needs a receiver and policy domain (lower case) and times");
	if (unique_id != NULL) {
		if (*unique_id == '\0')
			return err_set(err, ERR_PEER, 0, NULL, "unique-id is empty");
		for (const char *c = unique_id; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9')))
				return err_set(err, ERR_PEER, 0, NULL,
					       "unique-id must be letters and digits");
	}
	n = snprintf(out, outsz, "%s!%s!%lld!%lld%s%s.xml.gz", receiver, r->domain,
		     (long long)r->begin, (long long)r->end, unique_id ? "!" : "",
		     unique_id ? unique_id : "");
	if (n < 0 || (size_t)n >= outsz)
		return err_set(err, ERR_LIMIT, 0, NULL, "file name does not fit");
	return 0;
}
