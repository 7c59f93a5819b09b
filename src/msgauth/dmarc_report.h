/* dmarc_report.h - DMARC aggregate reports (RFC 7489 7.2, appendix C):
 * read one (XML, gzip or zip, as rua= mail brings them) into plain structs,
 * and write one from the same structs as gzip'd XML with its RFC 7489
 * 7.2.1.1 file name.
 *
 * The reader takes untrusted input and is bounded (DMARC_REPORT_* in
 * core/limits.h: input and XML size, element depth, text per element,
 * records); it refuses a DTD (so no entities, internal or external) and
 * values outside the schema's enumerations (lower case, as appendix C
 * has them). Lenient where real reporters were: times written
 * "1337270400.0" (2012 reports) are read as integers. No mail, no storage here: the
 * caller extracts the attachment and keeps the result. Thread-safe. */
#ifndef PETREL_DMARC_REPORT_H
#define PETREL_DMARC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "msgauth/dmarc.h"

/* Result words of the schema; 0 = element absent. */
enum dmarc_rr {
	DMARC_RR_ABSENT = 0,
	DMARC_RR_NONE,
	DMARC_RR_PASS,
	DMARC_RR_FAIL,
	DMARC_RR_NEUTRAL,
	DMARC_RR_SOFTFAIL,	/* SPF only */
	DMARC_RR_POLICY,	/* DKIM only */
	DMARC_RR_TEMPERROR,
	DMARC_RR_PERMERROR,
};

/* policy_evaluated/disposition; pass is RFC 9990's (the message passed,
 * no policy applied). The first three equal enum dmarc_policy's values. */
enum dmarc_disp {
	DMARC_DISP_ABSENT = 0,
	DMARC_DISP_NONE = DMARC_POLICY_NONE,
	DMARC_DISP_QUARANTINE = DMARC_POLICY_QUARANTINE,
	DMARC_DISP_REJECT = DMARC_POLICY_REJECT,
	DMARC_DISP_PASS,
};

/* Strings are NUL-terminated UTF-8, NULL when absent. In a report from
 * dmarc_report_read they belong to the report; for dmarc_report_write the
 * caller owns them. */
struct dmarc_report_dkim {
	const char *domain, *selector, *human_result;
	enum dmarc_rr result;
};

struct dmarc_report_spf {
	const char *domain;
	const char *scope;		/* "helo", "mfrom" or NULL */
	enum dmarc_rr result;
};

struct dmarc_report_row {
	const char *source_ip;		/* IPv4 or IPv6 text */
	uint64_t count;
	enum dmarc_disp disposition;
	enum dmarc_rr dkim, spf;	/* policy_evaluated: pass or fail */
	const char *reason_type;	/* first override reason, e.g. "forwarded" */
	const char *reason_comment;
	const char *header_from;
	const char *envelope_from, *envelope_to;
	size_t n_dkim, n_spf;		/* kept, at most DMARC_REPORT_AUTH_MAX */
	struct dmarc_report_dkim dkim_res[DMARC_REPORT_AUTH_MAX];
	struct dmarc_report_spf spf_res[DMARC_REPORT_AUTH_MAX];
};

struct dmarc_report {
	const char *org_name, *email, *extra_contact_info, *report_id;
	int64_t begin, end;		/* Unix time */
	/* policy_published */
	const char *domain;
	enum dmarc_align adkim, aspf;
	enum dmarc_policy p, sp, np;	/* sp, np: UNSET when absent */
	unsigned pct;			/* 100 when absent */
	const char *fo;
	size_t n_records;
	struct dmarc_report_row *records;
	struct dmarc_report_mem *mem;	/* reader's allocations, or NULL */
};

/* Parse data (len bytes: XML, or gzip or zip holding it; told apart by
 * their first bytes). 0 and *out filled (free with dmarc_report_free), or
 * -1 with err (ERR_PEER: malformed or outside the schema; ERR_LIMIT: a
 * bound hit) saying why; *out is then empty. A zip must hold the report as
 * its first entry, stored or deflated. */
int dmarc_report_read(const void *data, size_t len, struct dmarc_report *out,
		      struct err *err);
/* The same for a report e-mail as rua= receives it (RFC 7489 7.2.1.1): the
 * first attachment that is gzip, zip or XML (by type, or by a file name
 * ending in .xml, .gz or .zip when the type is generic) is decoded and
 * read. -1 with err when there is none or it is refused. At most
 * DMARC_REPORT_MAIL_MAX bytes of message. */
int dmarc_report_read_mail(const void *msg, size_t len, struct dmarc_report *out,
			   struct err *err);
/* Free what the reader allocated; a zeroed report is fine. */
void dmarc_report_free(struct dmarc_report *r);

/* The report as XML (appendix C schema, UTF-8, text escaped), a malloc'd
 * buffer the caller frees. Needs org_name, email, report_id, domain and
 * each row's source_ip and header_from; -1 with err otherwise. */
int dmarc_report_xml(const struct dmarc_report *r, char **xml_out,
		     size_t *len_out, struct err *err);
/* The same, gzip-compressed (RFC 7489 7.2.1.1: "gzip"), malloc'd. */
int dmarc_report_gzip(const struct dmarc_report *r, unsigned char **gz_out,
		      size_t *len_out, struct err *err);
/* RFC 7489 7.2.1.1 file name, into out (outsz):
 *   receiver "!" policy-domain "!" begin "!" end [ "!" unique-id ] ".xml.gz"
 * unique_id may be NULL; it must be letters and digits. -1 with err if a
 * part is missing or not of its syntax, or out is too small. */
int dmarc_report_filename(const char *receiver, const struct dmarc_report *r,
			  const char *unique_id, char *out, size_t outsz,
			  struct err *err);

const char *dmarc_rr_str(enum dmarc_rr r);
const char *dmarc_disp_str(enum dmarc_disp d);

#endif
