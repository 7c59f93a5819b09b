/* doctor_ub.h - a blocking struct ma_dns backend on libunbound for the
 * DNS doctor (petrelctl dns check, GET /api/v1/domains/{d}/dns): asks
 * the configured dns_forwarder (or resolv.conf), waits at most the
 * timeout per question, and records each answer's TTL. Meant to be
 * folded into the daemon's shared libunbound backend (ma_dns_ub) once
 * that exists. Blocks: never call it from an event loop of mail traffic. */
#ifndef PETREL_DOCTOR_UB_H
#define PETREL_DOCTOR_UB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "msgauth/ma_dns.h"

struct doctor_ub;

/* forwarder as dns_forwarder ("" = resolv.conf); timeout in seconds. */
int doctor_ub_new(const char *forwarder, unsigned timeout,
		  struct doctor_ub **out, struct err *err);
void doctor_ub_free(struct doctor_ub **up);
/* d->arg = u; u must outlive d's use. Not thread-safe: one per thread. */
void doctor_ub_dns(struct doctor_ub *u, struct ma_dns *d);

/* Add one answer's rdata of type (as libunbound returns it: names
 * uncompressed) to out: TXT character-strings joined, MX preference and
 * exchange, PTR and CNAME names, A and AAAA bytes. Malformed rdata is
 * skipped (false). Exposed for the fuzzer. */
bool doctor_ub_rdata(enum ma_rr type, const unsigned char *rdata, size_t len,
		     struct ma_rrset *out);

#endif
