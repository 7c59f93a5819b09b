/* dns.h - asynchronous DNS for outbound mail: libunbound driven from a
 * libevent loop. It answers two questions: where does mail for a domain
 * go (dns_mail_route: MX, RFC 5321 5.1 fallback, RFC 7505 null MX) and
 * what are a host's addresses (dns_addr, for smarthosts). It does not
 * validate DNSSEC (DANE comes later) and never blocks the loop.
 *
 * Threads: a resolver belongs to one event_base and is used only from
 * the thread running that base (one per worker, the queue runner owns
 * one). libunbound runs its own background thread; answers come back
 * through a pipe watched by an event, so callbacks run in the loop.
 *
 * Privileges: every file libunbound needs (/etc/resolv.conf, /etc/hosts)
 * is read in dns_resolver_new, so create resolvers before petreld
 * chroots and drops root; nothing is opened later. */
#ifndef PETREL_DNS_H
#define PETREL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"

struct event_base;
struct dns_resolver;
struct dns_query;

/* ---- results */

enum dns_status {
	DNS_OK = 0,	/* at least one target has an address */
	DNS_NULLMX,	/* RFC 7505: the domain accepts no mail (permanent) */
	DNS_NXDOMAIN,	/* no such domain (permanent) */
	DNS_NOADDR,	/* no MX target / implicit MX with an address, and
			 * none failed temporarily (permanent) */
	DNS_BADNAME,	/* the name given is not a valid domain (permanent) */
	DNS_TEMPFAIL,	/* SERVFAIL, timeout, network: try again later */
};

struct dns_addr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char a[16];		/* network order; 4 bytes used for AF_INET */
};

struct dns_target {
	char host[DNS_NAME_MAX + 1];	/* lower case, no trailing dot */
	unsigned pref;			/* MX preference; 0 for an implicit MX */
	bool implicit;			/* no MX: the domain itself (RFC 5321 5.1) */
	bool tempfail;			/* address lookup failed temporarily or timed
					 * out: skip it now, it may work later */
	size_t naddr;			/* A records first, then AAAA */
	struct dns_addr addr[DNS_MAX_ADDRS_PER_HOST];
};

/* Handed to the callback; borrowed: valid only during the callback. */
struct dns_route {
	enum dns_status status;
	const char *name;		/* the domain or host asked about */
	const char *why;		/* short reason for a failure status, "" on OK */
	size_t n;			/* targets in delivery order: preference
					 * ascending, equal preferences shuffled */
	const struct dns_target *t;
};

typedef void dns_cb(const struct dns_route *rt, void *arg);

/* ---- create and free */

struct dns_options {
	const char *forwarder;	/* "127.0.0.1@5353", "::1", several separated
				 * by spaces or commas; NULL or "" = the
				 * nameservers of /etc/resolv.conf */
	unsigned timeout;	/* seconds until a query reports DNS_TEMPFAIL;
				 * 0 = DNS_TIMEOUT_DEFAULT */
};

/* A resolver for base. Reads resolv.conf and hosts now (see above).
 * NULL with err filled (ERR_CONFIG for a bad forwarder). */
struct dns_resolver *dns_resolver_new(struct event_base *base,
				      const struct dns_options *opt,
				      struct err *err);
/* Cancels every query still running (their callbacks are not called). */
void dns_resolver_free(struct dns_resolver **rp);

/* For tests: the random source for shuffling equal preferences; rnd
 * returns a uniform value in [0, upper). NULL restores libsodium's. */
void dns_resolver_set_random(struct dns_resolver *r,
			     uint32_t (*rnd)(void *arg, uint32_t upper), void *arg);

/* ---- queries
 * Both start a query and return its handle (never NULL). cb is called
 * exactly once, always later from the event loop (never from inside the
 * call), unless the query is cancelled first. After cb returns the query
 * is gone: forget the handle in cb. */

/* Where mail for domain goes. domain is a name ("example.com", a
 * trailing dot allowed) or an address literal ("[192.0.2.1]",
 * "[IPv6:2001:db8::1]") which gives one target without asking DNS.
 * At most DNS_MAX_MX targets (the lowest preferences), each with up to
 * DNS_MAX_ADDRS_PER_HOST addresses; A and AAAA of all hosts are asked
 * in parallel. An MX naming an address ("192.0.2.1.") or a CNAME is used
 * and logged. */
struct dns_query *dns_mail_route(struct dns_resolver *r, const char *domain,
				 dns_cb *cb, void *arg);
/* A and AAAA of host: one target (pref 0) on DNS_OK. Address literals,
 * bracketed or not, are answered without DNS. */
struct dns_query *dns_addr(struct dns_resolver *r, const char *host,
			   dns_cb *cb, void *arg);
/* Stop a query whose callback has not run yet; *qp = NULL. */
void dns_query_cancel(struct dns_query **qp);

/* ---- helpers (pure, no resolver needed) */

const char *dns_status_str(enum dns_status s);
/* "192.0.2.1" / "2001:db8::1" into buf (at least 46 bytes). */
const char *dns_addr_str(const struct dns_addr *a, char *buf, size_t bufsz);

#endif
