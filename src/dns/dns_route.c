/* dns_route.c - from answers to a mail route: RFC 5321 5.1 (MX, else the
 * domain's own A/AAAA as an implicit MX), RFC 7505 null MX, and the
 * address lookups of every target in parallel. Answers are untrusted:
 * names are decoded by dns_rdata.c, counts are capped (limits.h). */
#include "dns/dns_query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <unbound.h>

#include "core/log.h"
#include "core/xmalloc.h"

#define RR_A 1
#define RR_MX 15
#define RR_AAAA 28
#define RCODE_NXDOMAIN 3

static void fail(struct dns_query *q, enum dns_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct dns_query *q, enum dns_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	q->status = st;
	vsnprintf(q->why, sizeof q->why, fmt, ap);
	va_end(ap);
}

static void set_literal(struct dns_query *q, struct dns_target *t,
			const char *text, const struct dns_addr *a)
{
	size_t n = strnlen(text, DNS_NAME_MAX);
	memcpy(t->host, text, n);
	t->host[n] = '\0';
	t->addr[0] = *a;
	t->naddr = 1;
	size_t i = (size_t)(t - q->t);
	q->look[i][0] = a->family == AF_INET ? LOOK_GOT : LOOK_NONE;
	q->look[i][1] = a->family == AF_INET6 ? LOOK_GOT : LOOK_NONE;
}

static void ask_addrs(struct dns_query *q, size_t i)
{
	dns_query_ask(q, q->t[i].host, RR_A, DNS_SUB_A, i);
	dns_query_ask(q, q->t[i].host, RR_AAAA, DNS_SUB_AAAA, i);
}

/* RFC 5321 5.1: no MX records, so the domain is its own mail exchanger
 * with preference 0. */
static void implicit_mx(struct dns_query *q)
{
	struct dns_target *t = &q->t[0];
	/* q->name was normalised by dns_name_valid: it fits */
	size_t n = strnlen(q->name, DNS_NAME_MAX);
	memcpy(t->host, q->name, n);
	t->host[n] = '\0';
	t->pref = 0;
	t->implicit = true;
	q->n = 1;
	ask_addrs(q, 0);
}

static size_t count_records(const struct ub_result *res)
{
	size_t n = 0;
	while (n < DNS_MAX_MX_SEEN && res->data[n] != NULL)
		n++;
	return n;
}

static void mx_answer(struct dns_query *q, int rc, struct ub_result *res)
{
	if (rc != 0) {
		fail(q, DNS_TEMPFAIL, "resolver error: %s", ub_strerror(rc));
		return;
	}
	if (res->rcode == RCODE_NXDOMAIN || res->nxdomain) {
		fail(q, DNS_NXDOMAIN, "no such domain");
		return;
	}
	if (res->rcode != 0) {
		fail(q, DNS_TEMPFAIL, "DNS server failure (rcode %d)", res->rcode);
		return;
	}
	size_t count = res->havedata ? count_records(res) : 0;
	if (count == 0) {
		implicit_mx(q);
		return;
	}
	struct dns_target *all = xcalloc(count, sizeof *all);
	size_t n = 0, bad = 0, roots = 0;
	for (size_t i = 0; i < count; i++) {
		if (res->len[i] < 0 ||
		    dns_mx_decode((const unsigned char *)res->data[i], (size_t)res->len[i],
				  &all[n].pref, all[n].host, sizeof all[n].host) != 0)
			bad++;
		else if (all[n].host[0] == '\0')
			roots++;
		else
			n++;
	}
	if (bad)
		log_warn("dns", NULL, "domain=%s malformed MX records=%zu (ignored)",
			 q->name, bad);
	if (n == 0) {
		free(all);
		/* RFC 7505 3: one MX record, preference 0, exchange "." */
		if (roots > 0)
			fail(q, DNS_NULLMX, "domain accepts no mail (null MX)");
		else
			fail(q, DNS_NOADDR, "no usable MX record");
		return;
	}
	if (roots)
		log_warn("dns", NULL, "domain=%s null MX next to other MX records "
			 "(RFC 7505 3; using the others)", q->name);
	n = dns_targets_order(all, n, DNS_MAX_MX, q->r->rnd, q->r->rnd_arg);
	memcpy(q->t, all, n * sizeof *all);
	free(all);
	q->n = n;
	for (size_t i = 0; i < n; i++) {
		struct dns_addr a;
		if (dns_literal_parse(q->t[i].host, false, &a) == 1) {
			/* RFC 5321 5.1 wants a name; Postfix and Exim use the
			 * address anyway, so the mail still goes out */
			log_warn("dns", NULL, "domain=%s MX is an address, not a host "
				 "name mx=%s (using it)", q->name, q->t[i].host);
			set_literal(q, &q->t[i], q->t[i].host, &a);
		} else
			ask_addrs(q, i);
	}
}

static bool same_name(const char *canon, const char *host)
{
	size_t n = strnlen(canon, DNS_NAME_MAX + 2);
	if (n > 0 && canon[n - 1] == '.')
		n--;
	return n == strlen(host) && strncasecmp(canon, host, n) == 0;
}

static void addr_answer(struct dns_query *q, struct dns_sub *s, int rc,
			struct ub_result *res)
{
	struct dns_target *t = &q->t[s->target];
	int v6 = s->kind == DNS_SUB_AAAA;
	unsigned char *look = &q->look[s->target][v6];
	if (rc != 0)
		*look = LOOK_TEMP;
	else if (res->rcode == RCODE_NXDOMAIN || res->nxdomain)
		*look = LOOK_NX;
	else if (res->rcode != 0)
		*look = LOOK_TEMP;
	else if (!res->havedata)
		*look = LOOK_NONE;
	else {
		size_t got = 0, count = count_records(res);
		for (size_t i = 0; i < count && got < DNS_MAX_ADDRS_PER_HOST / 2; i++) {
			struct dns_addr a;
			if (res->len[i] < 0 ||
			    dns_addr_decode(v6 ? AF_INET6 : AF_INET,
					    (const unsigned char *)res->data[i],
					    (size_t)res->len[i], &a) != 0)
				continue;
			t->addr[t->naddr++] = a;
			got++;
		}
		*look = got ? LOOK_GOT : LOOK_NONE;
		/* RFC 2181 10.3: an MX must not name an alias; libunbound
		 * followed it, so use what it found */
		if (got && q->route && !t->implicit && res->canonname &&
		    !same_name(res->canonname, t->host))
			log_warn("dns", NULL, "domain=%s MX host is an alias mx=%s "
				 "(using it)", q->name, t->host);
	}
}

void dns_route_answer(struct dns_query *q, struct dns_sub *s, int rc,
		      struct ub_result *res)
{
	if (s->kind == DNS_SUB_MX)
		mx_answer(q, rc, res);
	else
		addr_answer(q, s, rc, res);
}

/* A first, then AAAA, whichever answer came back first. */
static void order_addrs(struct dns_target *t)
{
	struct dns_addr sorted[DNS_MAX_ADDRS_PER_HOST];
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < t->naddr; i++)
			if ((t->addr[i].family == AF_INET) == (pass == 0))
				sorted[k++] = t->addr[i];
	memcpy(t->addr, sorted, k * sizeof *sorted);
}

void dns_route_finish(struct dns_query *q)
{
	if (q->status != DNS_OK)
		return;
	if (q->n == 0) {	/* still waiting for the MX answer */
		fail(q, DNS_TEMPFAIL, "timed out after %us", q->r->timeout);
		return;
	}
	bool any_addr = false, any_temp = false, all_nx = true;
	for (size_t i = 0; i < q->n; i++) {
		struct dns_target *t = &q->t[i];
		unsigned char *look = q->look[i];
		for (int f = 0; f < 2; f++)
			if (look[f] == LOOK_PENDING)	/* cut off by the timer */
				look[f] = LOOK_TEMP;
		order_addrs(t);
		t->tempfail = t->naddr == 0 &&
			      (look[0] == LOOK_TEMP || look[1] == LOOK_TEMP);
		any_addr |= t->naddr > 0;
		any_temp |= t->tempfail;
		all_nx &= look[0] == LOOK_NX && look[1] == LOOK_NX;
	}
	if (any_addr)
		return;
	if (any_temp)
		fail(q, DNS_TEMPFAIL, q->timed_out ? "timed out after %us" :
		     "address lookup failed temporarily", q->r->timeout);
	else if (!q->route && all_nx)
		fail(q, DNS_NXDOMAIN, "no such host");
	else if (q->route && q->t[0].implicit)
		fail(q, DNS_NOADDR, "no MX record and no address");
	else if (q->route)
		fail(q, DNS_NOADDR, "no address for any mail exchanger");
	else
		fail(q, DNS_NOADDR, "no address for host");
}

static struct dns_query *start(struct dns_resolver *r, const char *name,
			       bool route, dns_cb *cb, void *arg)
{
	struct dns_query *q = dns_query_new(r, name, route, cb, arg);
	struct dns_addr lit;
	int l = dns_literal_parse(name, true, &lit);
	if (l == 0 && !route)
		l = dns_literal_parse(name, false, &lit);
	char norm[DNS_NAME_MAX + 1];
	if (l == 1) {
		q->n = 1;
		q->t[0].implicit = route;
		set_literal(q, &q->t[0], name, &lit);
	} else if (l < 0)
		fail(q, DNS_BADNAME, "malformed address literal");
	else if (!dns_name_valid(name, norm))
		fail(q, DNS_BADNAME, "not a valid domain name");
	else {
		snprintf(q->name, sizeof q->name, "%s", norm);
		if (route)
			dns_query_ask(q, norm, RR_MX, DNS_SUB_MX, 0);
		else {
			snprintf(q->t[0].host, sizeof q->t[0].host, "%s", norm);
			q->n = 1;
			ask_addrs(q, 0);
		}
	}
	if (q->pending == 0)
		dns_query_done(q);
	return q;
}

struct dns_query *dns_mail_route(struct dns_resolver *r, const char *domain,
				 dns_cb *cb, void *arg)
{
	return start(r, domain, true, cb, arg);
}

struct dns_query *dns_addr(struct dns_resolver *r, const char *host,
			   dns_cb *cb, void *arg)
{
	return start(r, host, false, cb, arg);
}
