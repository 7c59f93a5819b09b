/* ma_dns.h - how message authentication asks DNS.
 *
 * SPF, DKIM, DMARC and ARC are pure functions of a message, its envelope
 * and DNS answers. They ask DNS through this one synchronous call, so the
 * same evaluators run against libunbound in petreld (from a thread of the
 * authentication pool, where blocking is allowed), against a zone table
 * in tests (ma_zone.h) and against fixed answers in the fuzzers.
 *
 * Every answer is bounded: at most MA_DNS_MAX_RR records and
 * MA_DNS_BUF bytes of record data; more is cut off and flagged, which the
 * evaluators treat as the records they got (SPF and DKIM never need more). */
#ifndef PETREL_MA_DNS_H
#define PETREL_MA_DNS_H

#include <stdbool.h>
#include <stddef.h>

enum ma_rr {
	MA_RR_A = 1,
	MA_RR_CNAME = 5,
	MA_RR_PTR = 12,
	MA_RR_MX = 15,
	MA_RR_TXT = 16,
	MA_RR_AAAA = 28,
	MA_RR_SRV = 33,
};

enum ma_dns_rc {
	MA_DNS_OK = 0,		/* n >= 1 records */
	MA_DNS_NODATA,		/* the name exists, no record of this type */
	MA_DNS_NXDOMAIN,	/* no such name */
	MA_DNS_TEMPFAIL,	/* SERVFAIL, timeout, network */
};

#define MA_DNS_MAX_RR 64
#define MA_DNS_BUF 16384

/* One record. TXT: the record's character-strings concatenated (RFC 7208
 * 3.3, RFC 6376 3.6.2.2); A: 4 bytes, AAAA: 16 bytes, network order;
 * MX: the exchange name (pref holds the preference); PTR: the name; SRV
 * (RFC 2782): the text "priority weight port target" as ma_srv_format
 * writes it (pref holds the priority), so a record compares with the one
 * expected as a string. Names are lower case without the trailing dot
 * (an SRV target of the root, "no such service", stays "."). data points into the rrset's
 * buf and is NUL-terminated after len bytes. */
struct ma_rr_data {
	const unsigned char *data;
	size_t len;
	unsigned pref;
};

struct ma_rrset {
	enum ma_dns_rc rc;
	bool truncated;		/* more records or bytes than fit */
	unsigned ttl;		/* seconds the answer may be cached; 0 if
				 * the backend does not know (ma_zone) */
	size_t n;
	struct ma_rr_data rr[MA_DNS_MAX_RR];
	size_t used;
	unsigned char buf[MA_DNS_BUF];
};

/* Answer the query (name without trailing dot, any case) into out, which
 * the caller zeroed with ma_rrset_reset. CNAMEs are followed by the
 * backend. Must not fail otherwise: trouble is MA_DNS_TEMPFAIL. */
typedef void ma_dns_fn(void *arg, const char *name, enum ma_rr type,
		       struct ma_rrset *out);

struct ma_dns {
	ma_dns_fn *lookup;
	void *arg;
};

void ma_rrset_reset(struct ma_rrset *s);
/* Add one record (backends use this); false when it did not fit, and
 * truncated is set. Names (MX, PTR) are lower-cased, a final dot dropped. */
bool ma_rrset_add(struct ma_rrset *s, enum ma_rr type, const void *data,
		  size_t len, unsigned pref);
/* The SRV text form of ma_rr_data into out: "10 5 993 mail.example.com"
 * (target lower-cased, a final dot dropped unless it is the root ".").
 * The length, or -1 when a number is out of range or it does not fit. */
int ma_srv_format(unsigned priority, unsigned weight, unsigned port,
		  const char *target, size_t target_len, char *out, size_t outsz);
/* Ask d; the one place evaluators call the backend. */
void ma_dns_query(const struct ma_dns *d, const char *name, enum ma_rr type,
		  struct ma_rrset *out);
const char *ma_dns_rc_str(enum ma_dns_rc rc);

/* The PTR owner of an address: "4.3.2.1.in-addr.arpa" for IPv4 (ip is
 * its 4 bytes), the nibbles under ip6.arpa for IPv6 (16 bytes). outsz
 * of MA_REVERSE_NAME_MAX always fits. */
#define MA_REVERSE_NAME_MAX 80
void ma_reverse_name(const unsigned char *ip, bool v6, char *out,
		     size_t outsz);

/* The client's forward-confirmed reverse name (FCrDNS), the name an MX
 * writes into its Received field and a filter judges the client by:
 * one of the PTR names of the address (the first MA_RDNS_NAMES_MAX) whose
 * own A or AAAA records hold the address again. A PTR name that does
 * not lead back is anyone's to write, so it counts as none, as in
 * Postfix ("unknown"). */
#define MA_RDNS_NAMES_MAX 4
enum ma_rdns {
	MA_RDNS_UNKNOWN = 0,	/* not looked up, or DNS trouble */
	MA_RDNS_NONE,		/* no PTR name, or none that leads back */
	MA_RDNS_OK,		/* name holds it */
};
/* family AF_INET (ip: 4 bytes) or AF_INET6 (16); name of DNS_NAME_MAX + 1
 * bytes is "" unless MA_RDNS_OK. */
enum ma_rdns ma_rdns_lookup(const struct ma_dns *d, int family,
			    const unsigned char *ip, char *name, size_t namesz);

#endif
