/* facts_headers.c - filter facts from a message's trace fields. */
#include "filter/facts_headers.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "mime/mime.h"
#include "msgauth/dmarc.h"
#include "filter/received.h"
#include "filter/rep_private.h"

/* Copy a token of v (up to a character of stop or white space) into out,
 * lower-cased. */
static void copy_token(const char *v, const char *stop, char *out,
		       size_t outsz)
{
	size_t i = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v && !strchr(stop, *v) && *v != ' ' && *v != '\t' &&
	       i + 1 < outsz; v++)
		out[i++] = (char)tolower((unsigned char)*v);
	out[i] = '\0';
}

/* "from HELO (... [IP])": 1 with the client, 0 if not of that form. */
static int received_client(const char *v, struct filter_facts_hdr *fh,
			   struct filter_facts *f)
{
	const char *p = v, *lb, *rb;
	char ipt[64];
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "from", 4) != 0 || (p[4] != ' ' && p[4] != '\t'))
		return 0;
	lb = strchr(p, '[');
	if (lb == NULL || (rb = strchr(lb, ']')) == NULL)
		return 0;
	/* the bracket must belong to the "from" clause */
	const char *by = strstr(p, " by ");
	if (by != NULL && by < lb)
		return 0;
	n = (size_t)(rb - lb - 1);
	if (n == 0 || n >= sizeof(ipt))
		return 0;
	memcpy(ipt, lb + 1, n);
	ipt[n] = '\0';
	const char *ips = strncasecmp(ipt, "IPv6:", 5) == 0 ? ipt + 5 : ipt;
	unsigned char ip[16];
	if (inet_pton(AF_INET, ips, ip + 12) == 1) {
		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
	} else if (inet_pton(AF_INET6, ips, ip) != 1) {
		return 0;
	}
	if (rep_ip_is_local(ip))
		return 0;
	memcpy(f->ip, ip, 16);
	f->have_ip = true;
	struct received_names rn;
	received_names(span_make(p, strlen(p)), &rn);
	memcpy(fh->helo, rn.helo, sizeof fh->helo);
	for (char *h = fh->helo; *h != '\0'; h++)
		*h = (char)tolower((unsigned char)*h);
	f->helo = fh->helo;
	/* The receiving MTA looked the name up, and no name is its word for
	 * none; but petreld writes "unknown" for none, and no name only
	 * when it did not look (msgauth_inbound = no, DNS trouble). */
	if (rn.rdns[0] != '\0' || strstr(p, " (petrel)") == NULL ||
	    strstr(p, "(unknown [") != NULL) {
		memcpy(fh->rdns, rn.rdns, sizeof fh->rdns);
		f->rdns = fh->rdns;
	}
	return 1;
}

/* "method=result" terms of an Authentication-Results value. */
static void auth_results(char *v, struct filter_facts_hdr *fh,
			 struct filter_facts *f)
{
	char *save = NULL, *term;
	size_t nd = 0;
	bool first = true, spf_seen = false;

	for (term = strtok_r(v, ";", &save); term != NULL;
	     term = strtok_r(NULL, ";", &save)) {
		char method[16], result[16];
		const char *eq;
		if (first) {	/* the authserv-id */
			first = false;
			continue;
		}
		while (*term == ' ' || *term == '\t')
			term++;
		eq = strchr(term, '=');
		if (eq == NULL || (size_t)(eq - term) >= sizeof(method))
			continue;
		memcpy(method, term, (size_t)(eq - term));
		method[eq - term] = '\0';
		copy_token(eq + 1, "();", result, sizeof(result));
		if (strcasecmp(method, "spf") == 0 && !spf_seen) {
			spf_seen = true;	/* over a Received-SPF */
			memcpy(fh->spf, result, sizeof(fh->spf));
			const char *d = strstr(term, "smtp.mailfrom=");
			if (d != NULL) {
				const char *at = strchr(d, '@');
				const char *sp = d + strcspn(d, " \t");
				d += strlen("smtp.mailfrom=");
				if (at != NULL && at < sp)
					d = at + 1;
				copy_token(d, "();", fh->spf_domain,
					   sizeof(fh->spf_domain));
			}
		} else if (strcasecmp(method, "dkim") == 0) {
			if (fh->dkim[0] == '\0' || strcmp(result, "pass") == 0)
				memcpy(fh->dkim, result, sizeof(fh->dkim));
			const char *d = strstr(term, "header.d=");
			if (strcmp(result, "pass") == 0 && d != NULL &&
			    nd < FILTER_FACTS_DKIM_MAX) {
				copy_token(d + strlen("header.d="), "();",
					   fh->dkim_d[nd], sizeof(fh->dkim_d[nd]));
				fh->dkim_pass[nd] = fh->dkim_d[nd];
				nd++;
			}
		} else if (strcasecmp(method, "dmarc") == 0 &&
			   fh->dmarc[0] == '\0') {
			memcpy(fh->dmarc, result, sizeof(fh->dmarc));
			const char *p = strstr(term, "p=");
			if (p != NULL)
				copy_token(p + 2, "();", fh->dmarc_policy,
					   sizeof(fh->dmarc_policy));
		}
	}
	if (fh->spf[0]) {
		f->spf = fh->spf;
		f->spf_domain = fh->spf_domain[0] ? fh->spf_domain : NULL;
	}
	if (fh->dkim[0])
		f->dkim = fh->dkim;
	f->dkim_pass_domains = fh->dkim_pass;
	f->n_dkim_pass = nd;
	if (fh->dmarc[0]) {
		f->dmarc = fh->dmarc;
		f->dmarc_policy = fh->dmarc_policy[0] ? fh->dmarc_policy : NULL;
	}
}

void filter_facts_from_headers(struct span msg, struct filter_facts_hdr *fh,
			       struct filter_facts *f)
{
	const unsigned char *p = msg.p;
	size_t len = msg.len, pos = 0, hlen, nrecv = 0;
	struct span name, value;
	struct buf uv;
	bool have_ar = false, have_client = false;
	const char *why;

	memset(fh, 0, sizeof(*fh));
	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		const unsigned char *nl = memchr(p, '\n', len);
		size_t skip = nl ? (size_t)(nl - p) + 1 : len;
		p += skip;
		len -= skip;
	}
	hlen = len < FILTER_FACTS_HEADER_MAX ? len : FILTER_FACTS_HEADER_MAX;
	struct span hdr = mime_header_section(span_make(p, hlen), NULL);
	buf_init(&uv, 4096);
	while (mime_header_next(hdr, &pos, &name, &value) == 1) {
		bool recv = name.len == 8 &&
			    strncasecmp((const char *)name.p, "received", 8) == 0;
		bool ar = name.len == 22 &&
			  strncasecmp((const char *)name.p,
				      "authentication-results", 22) == 0;
		bool rp = name.len == 11 &&
			  strncasecmp((const char *)name.p, "return-path", 11) == 0;
		bool rspf = name.len == 12 &&
			    strncasecmp((const char *)name.p, "received-spf", 12) == 0;
		if (!(recv && !have_client && nrecv < FILTER_FACTS_RECEIVED_MAX) &&
		    !(ar && !have_ar) && !(rp && fh->mail_from[0] == '\0') &&
		    !(rspf && fh->spf[0] == '\0'))
			continue;
		buf_reset(&uv);
		if (mime_unfold(value, &uv) != 0 || buf_append(&uv, "", 1) != 0)
			continue;	/* too long to be a trace field */
		char *v = (char *)uv.data;
		if (recv) {
			nrecv++;
			have_client = received_client(v, fh, f) == 1;
		} else if (ar) {
			have_ar = true;
			auth_results(v, fh, f);
		} else if (rp) {
			char *lt = strchr(v, '<');
			copy_token(lt ? lt + 1 : v, "<>", fh->mail_from,
				   sizeof(fh->mail_from));
			f->mail_from = fh->mail_from;
		} else if (!have_ar) {	/* Received-SPF: the result first */
			copy_token(v, "();", fh->spf, sizeof(fh->spf));
			f->spf = fh->spf;
		}
	}
	buf_release(&uv);
	if (dmarc_from_domain(hdr, fh->from_domain, &why) == DMARC_FROM_OK)
		f->from_domain = fh->from_domain;
}
