/* ma_dns_ub.h - the ma_dns backend of petreld: blocking lookups with
 * libunbound's ub_resolve, for the threads of the authentication pool
 * (SPF, DKIM, DMARC, ARC run there; never on an event loop).
 *
 * One resolver is shared by every thread: libunbound's ub_resolve may
 * be called from several threads on one context at once (each call
 * runs its own foreground worker and shares the context's caches under
 * libunbound's locks; "Lookup from threads", libunbound tutorial 5).
 * Options are frozen at the first lookup, so everything is configured
 * in ma_dns_ub_new.
 *
 * Answers are copied into the caller's struct ma_rrset (TXT strings
 * concatenated per record, names as lower-case text, SRV as ma_dns.h's
 * text form, the answer's TTL in ttl); CNAMEs are
 * followed by libunbound. SERVFAIL, REFUSED, timeouts and network
 * trouble are MA_DNS_TEMPFAIL. */
#ifndef PETREL_MA_DNS_UB_H
#define PETREL_MA_DNS_UB_H

#include "core/err.h"
#include "dns/dns.h"
#include "msgauth/ma_dns.h"

struct ma_dns_ub;

/* A resolver configured as src/dns does (dns_forwarder forms, or
 * /etc/resolv.conf and /etc/hosts read now, before chroot). opt->timeout
 * (seconds, 0 = DNS_TIMEOUT_DEFAULT) caps how long libunbound waits for
 * one server's answer before it tries again or gives up; the whole
 * lookup stays within libunbound's own retry limits. NULL with err. */
struct ma_dns_ub *ma_dns_ub_new(const struct dns_options *opt, struct err *err);
/* No lookups may be running. */
void ma_dns_ub_free(struct ma_dns_ub **up);
/* The backend: d->arg = u. Thread-safe. */
void ma_dns_ub_dns(struct ma_dns_ub *u, struct ma_dns *d);

/* Add one answer's rdata of type (as libunbound returns it: untrusted
 * wire data, names uncompressed) to out: TXT character-strings joined,
 * MX preference and exchange, SRV text, PTR and CNAME names, A and AAAA
 * bytes. Malformed rdata, or rdata that does not fit, is skipped
 * (false). Exposed for the fuzzer and the unit tests. */
bool ma_dns_ub_rdata(enum ma_rr type, const unsigned char *rdata, size_t len,
		     struct ma_rrset *out);

#endif
