/* dmarc_send.h - what sending a DMARC aggregate report takes besides the
 * report itself (dmarc_report.h writes the XML and gzip): the report out
 * of the stored rows of one policy domain and day, the rua= addresses and
 * their size limits (RFC 7489 6.2), the external destination check (7.1)
 * and the report e-mail (7.2.1.1: Subject, a short text part, the gzip
 * attachment with its file name). Pure functions but for the DNS query
 * of the 7.1 check; petreld's reporter (dmarc_reporter.h) delivers. */
#ifndef PETREL_DMARC_SEND_H
#define PETREL_DMARC_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "msgauth/dmarc_report.h"
#include "msgauth/ma_dns.h"
#include "store/store.h"

/* Who reports (RFC 7489 7.2.2 report_metadata). */
struct dmarc_reporter_id {
	const char *receiver;	/* our host name: file name, Submitter */
	const char *org_name;
	const char *email;	/* From: and report_metadata/email */
};

/* One report under construction: the rows of one policy domain (and one
 * published policy and rua=) of one day, with everything the
 * struct dmarc_report points to. */
struct dmarc_outgoing {
	struct dmarc_report rep;	/* valid after dmarc_outgoing_finish */
	char domain[SMTP_DOMAIN_MAX + 1];
	char rua[STORE_DMARC_RUA_MAX + 1];
	char report_id[64];
	uint64_t messages;		/* sum of the rows' counts */
	size_t n;			/* rows */
	struct store_dmarc_row *src;	/* the stored rows, n */
	int64_t *ids;			/* their ids, n: deleted once sent */
	size_t cap;
	struct dmarc_outgoing_auth *auth_;	/* private */
};

/* Start o with its first row r (id) for the day [begin, end) reported
 * by who, with report_id (letters, digits, '.', '-', '_'). */
void dmarc_outgoing_init(struct dmarc_outgoing *o,
			 const struct dmarc_reporter_id *who,
			 const char *report_id, int64_t begin, int64_t end,
			 int64_t id, const struct store_dmarc_row *r);
/* true if r belongs in o's report: same domain, policy and rua. */
bool dmarc_outgoing_same(const struct dmarc_outgoing *o,
			 const struct store_dmarc_row *r);
void dmarc_outgoing_add(struct dmarc_outgoing *o, int64_t id,
			const struct store_dmarc_row *r);
/* Fill o->rep from the rows (call once, after the last add). */
void dmarc_outgoing_finish(struct dmarc_outgoing *o);
void dmarc_outgoing_free(struct dmarc_outgoing *o);

/* A rua= URI as a row keeps it ("mailto:a@b.example!10m" with the size
 * in bytes after '!': "mailto:a@b.example!10485760"): the address into
 * addr (addrsz bytes) and the size limit (0: none). -1 with *why for
 * anything but a plain mailto: address (RFC 7489 7.2.1.1 defines only
 * mailto; RFC 6068 hfields are refused). */
int dmarc_rua_mailto(const char *uri, char *addr, size_t addrsz,
		     uint64_t *max_size, const char **why);

/* RFC 7489 7.1: may reports about policy_domain go to rua_domain? Yes
 * when both have the same organisational domain, or when
 * <policy_domain>._report._dmarc.<rua_domain> holds a TXT record starting
 * with v=DMARC1 (one TXT query). false with why (whysz bytes). A DNS
 * failure is a no for this run. */
bool dmarc_external_ok(const struct ma_dns *dns, const char *policy_domain,
		       const char *rua_domain, char *why, size_t whysz);

/* RFC 7489 7.2.1.1 Subject value:
 *   Report Domain: example.com Submitter: mx.example.net Report-ID: <id>
 * into out (outsz); -1 if it did not fit. */
int dmarc_report_subject(const char *domain, const char *submitter,
			 const char *report_id, char *out, size_t outsz);

/* The report e-mail (7.2.1.1): From who->email, To to, the Subject above,
 * Date now, a Message-ID, multipart/mixed with a text/plain part saying
 * what it is and the gzip (gz, gz_len) as an application/gzip
 * attachment named filename, base64 in 76-column lines; CRLF line ends.
 * Appended to out; -1 with err if out's bound was hit. */
int dmarc_report_mail_build(const struct dmarc_reporter_id *who,
			    const struct dmarc_report *r, const char *to,
			    time_t now, const unsigned char *gz, size_t gz_len,
			    const char *filename, struct buf *out,
			    struct err *err);

#endif
