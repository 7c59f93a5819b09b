/* dns_query.h - inside src/dns only: a query in flight, shared by the
 * libunbound glue (dns_resolver.c) and the route logic (dns_route.c). */
#ifndef PETREL_DNS_QUERY_H
#define PETREL_DNS_QUERY_H

#include "dns/dns_private.h"

struct event;
struct event_base;
struct ub_ctx;
struct ub_result;

struct dns_resolver {
	struct event_base *base;
	struct ub_ctx *ctx;
	struct event *ev;		/* ub_fd readable */
	unsigned timeout;		/* seconds */
	dns_random_fn *rnd;
	void *rnd_arg;
	struct dns_query *queries;	/* in flight, for dns_resolver_free */
};

enum dns_sub_kind { DNS_SUB_MX, DNS_SUB_A, DNS_SUB_AAAA };

/* One libunbound lookup of a query; mydata of its callback. */
struct dns_sub {
	struct dns_query *q;
	int ub_id;
	bool pending;			/* asked, callback not yet run */
	enum dns_sub_kind kind;
	size_t target;			/* index in q->t for A/AAAA */
};

/* What an address lookup of one target came to. */
enum dns_look { LOOK_PENDING = 0, LOOK_GOT, LOOK_NONE, LOOK_NX, LOOK_TEMP };

#define DNS_MAX_SUBS (1 + 2 * DNS_MAX_MX)

struct dns_query {
	struct dns_resolver *r;
	struct dns_query *prev, *next;
	dns_cb *cb;
	void *arg;
	bool route;			/* dns_mail_route, else dns_addr */
	bool done;			/* status known, delivery scheduled */
	bool timed_out;
	char name[DNS_NAME_MAX + 64];	/* as asked (literals included) */
	enum dns_status status;		/* set early only for a failure */
	char why[128];
	struct event *timer;		/* dns_timeout, then delivery */
	size_t n;
	struct dns_target *t;		/* DNS_MAX_MX for a route, else 1 */
	unsigned char look[DNS_MAX_MX][2];	/* enum dns_look of A, AAAA */
	size_t pending;
	size_t nsubs;
	struct dns_sub subs[DNS_MAX_SUBS];
};

/* dns_resolver.c */
struct dns_query *dns_query_new(struct dns_resolver *r, const char *name,
				bool route, dns_cb *cb, void *arg);
/* Start a lookup; its answer (or an immediate failure) reaches
 * dns_route_answer. */
void dns_query_ask(struct dns_query *q, const char *name, int rrtype,
		   enum dns_sub_kind kind, size_t target);
/* Status decided (or nothing left to ask): deliver from the loop. */
void dns_query_done(struct dns_query *q);
unsigned dns_query_random(struct dns_query *q, uint32_t upper);

/* dns_route.c: one answer (rc: libunbound error, res may be NULL), and
 * the final status once nothing is pending or the timer fired. */
void dns_route_answer(struct dns_query *q, struct dns_sub *s, int rc,
		      struct ub_result *res);
void dns_route_finish(struct dns_query *q);

#endif
