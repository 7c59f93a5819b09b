/* dns_private.h - inside src/dns only: the bounded decoders of untrusted
 * answer data and the ordering of targets, kept free of libunbound so
 * unit tests and the fuzzer call them directly. */
#ifndef PETREL_DNS_PRIVATE_H
#define PETREL_DNS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

/* MX rdata (RFC 1035 3.3.9) as libunbound hands it: 2-byte preference,
 * then the exchange as an uncompressed wire name filling the rest of the
 * rdata exactly. The name becomes lower-case text without the trailing
 * dot in name (size namesz, at least DNS_NAME_MAX + 1); the root "." gives
 * "" (the null MX). -1 on anything malformed: short, compression pointer,
 * label over 63, name over 255 octets, bytes after the name, or a label
 * with other than letters, digits, '-' and '_'. */
int dns_mx_decode(const unsigned char *rdata, size_t len, unsigned *pref_out,
		  char *name, size_t namesz);

/* A (4 bytes) or AAAA (16 bytes) rdata into out; -1 on a wrong length. */
int dns_addr_decode(int family, const unsigned char *rdata, size_t len,
		    struct dns_addr *out);

/* A domain name in text: labels of 1-63 letters, digits, '-' or '_', at
 * most DNS_NAME_MAX characters, one trailing dot allowed. Copied lower
 * case without the dot into out (size DNS_NAME_MAX + 1). */
bool dns_name_valid(const char *s, char out[DNS_NAME_MAX + 1]);

/* An address literal: "[1.2.3.4]" or "[IPv6:...]" (RFC 5321 4.1.3) when
 * bracketed; with bracketed false, a bare "1.2.3.4" or "2001:db8::1"
 * (an MX naming an address, a smarthost). 1 = it is one (out filled),
 * 0 = not a literal, -1 = bracketed but malformed. */
int dns_literal_parse(const char *s, bool bracketed, struct dns_addr *out);

typedef uint32_t dns_random_fn(void *arg, uint32_t upper);

/* Sort t[0..n) by preference, shuffling each run of equal preferences
 * with rnd (Fisher-Yates), then drop later duplicates of a host name and
 * keep at most max. Returns the new count. */
size_t dns_targets_order(struct dns_target *t, size_t n, size_t max,
			 dns_random_fn *rnd, void *arg);

#endif
