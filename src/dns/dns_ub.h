/* dns_ub.h - how petrel configures a libunbound context, shared by the
 * event-loop resolver (dns_resolver.c) and the blocking resolver of
 * message authentication (msgauth/ma_dns_ub.c), so both honour
 * dns_forwarder the same way. */
#ifndef PETREL_DNS_UB_H
#define PETREL_DNS_UB_H

#include "core/err.h"
#include "dns/dns.h"

struct ub_ctx;

/* Iterator only (no DNSSEC yet), loopback servers allowed, the
 * forwarders of opt ("127.0.0.1@5353, ::1", and then the RFC 6761
 * "test." names are theirs to answer) or else /etc/resolv.conf and
 * /etc/hosts, read now. Call before the first query (libunbound
 * freezes a context's options at its first resolve). -1 with err
 * (ERR_CONFIG for a bad forwarder). */
int dns_ub_configure(struct ub_ctx *ctx, const struct dns_options *opt,
		     struct err *err);

#endif
