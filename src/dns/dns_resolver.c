/* dns_resolver.c - the libunbound context and its event-loop glue: one
 * ub_ctx per resolver in threaded async mode, its answer pipe watched by a
 * libevent event, a timer per query, cancellation. The MX/address logic
 * that turns answers into a route lives in dns_route.c. */
#include "dns/dns_query.h"
#include "dns/dns_ub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>
#include <unbound.h>

#include "core/log.h"
#include "core/xmalloc.h"

static uint32_t sodium_random(void *arg, uint32_t upper)
{
	(void)arg;
	return randombytes_uniform(upper);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_resolver *r = arg;
	int rc = ub_process(r->ctx);
	if (rc != 0)
		log_warn("dns", NULL, "ub_process failed error=\"%s\"", ub_strerror(rc));
}

struct dns_resolver *dns_resolver_new(struct event_base *base,
				      const struct dns_options *opt,
				      struct err *err)
{
	struct dns_resolver *r = xcalloc(1, sizeof *r);
	r->base = base;
	r->timeout = opt->timeout ? opt->timeout : DNS_TIMEOUT_DEFAULT;
	r->rnd = sodium_random;
	r->ctx = ub_ctx_create();
	if (r->ctx == NULL) {
		err_set(err, ERR_ENV, 0, NULL, "dns: cannot create libunbound context");
		goto fail;
	}
	if (dns_ub_configure(r->ctx, opt, err) != 0)
		goto fail;
	/* a thread, not a forked process: petreld is threaded and may be
	 * chrooted by the time the first query starts it */
	int rc = ub_ctx_async(r->ctx, 1);
	if (rc != 0) {
		err_set(err, ERR_ENV, 0, NULL, "dns: ub_ctx_async: %s", ub_strerror(rc));
		goto fail;
	}
	r->ev = event_new(base, ub_fd(r->ctx), EV_READ | EV_PERSIST, on_readable, r);
	if (r->ev == NULL || event_add(r->ev, NULL) != 0) {
		err_set(err, ERR_ENV, 0, NULL, "dns: cannot watch the libunbound pipe");
		goto fail;
	}
	return r;
fail:
	if (r->ev)
		event_free(r->ev);
	if (r->ctx)
		ub_ctx_delete(r->ctx);
	free(r);
	return NULL;
}

static void cancel_subs(struct dns_query *q)
{
	for (size_t i = 0; i < q->nsubs; i++) {
		struct dns_sub *s = &q->subs[i];
		if (!s->pending)
			continue;
		/* pending means on_answer has not run, so libunbound still
		 * knows the id; after ub_cancel it never calls back. UB_NOID
		 * could only mean it already did, which pending rules out. */
		(void)ub_cancel(q->r->ctx, s->ub_id);
		s->pending = false;
		q->pending--;
	}
}

static void query_unlink(struct dns_query *q)
{
	struct dns_resolver *r = q->r;
	if (q->prev)
		q->prev->next = q->next;
	else if (r->queries == q)
		r->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

static void query_free(struct dns_query *q)
{
	if (q->timer)
		event_free(q->timer);
	free(q->t);
	free(q);
}

void dns_resolver_free(struct dns_resolver **rp)
{
	struct dns_resolver *r = *rp;
	if (r == NULL)
		return;
	*rp = NULL;
	while (r->queries) {
		struct dns_query *q = r->queries;
		cancel_subs(q);
		query_unlink(q);
		query_free(q);
	}
	event_free(r->ev);
	ub_ctx_delete(r->ctx);
	free(r);
}

void dns_resolver_set_random(struct dns_resolver *r, dns_random_fn *rnd, void *arg)
{
	r->rnd = rnd ? rnd : sodium_random;
	r->rnd_arg = rnd ? arg : NULL;
}

/* Runs from the loop, never inside ub_process: the callback may free the
 * resolver, and libunbound must not be on the stack when it does. */
static void deliver(struct dns_query *q)
{
	dns_route_finish(q);
	query_unlink(q);
	struct dns_route rt = {
		.status = q->status,
		.name = q->name,
		.why = q->status == DNS_OK ? "" : q->why,
		.n = q->status == DNS_OK ? q->n : 0,
		.t = q->t,
	};
	q->cb(&rt, q->arg);
	query_free(q);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_query *q = arg;
	if (!q->done) {
		/* dns_timeout: whatever is still out counts as a temporary
		 * failure (dns_route_finish reads the states) */
		cancel_subs(q);
		q->timed_out = true;
		q->done = true;
	}
	deliver(q);
}

void dns_query_done(struct dns_query *q)
{
	q->done = true;
	event_active(q->timer, EV_TIMEOUT, 1);
}

struct dns_query *dns_query_new(struct dns_resolver *r, const char *name,
				bool route, dns_cb *cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof *q);
	q->r = r;
	q->route = route;
	q->cb = cb;
	q->arg = arg;
	q->status = DNS_OK;
	size_t n = strnlen(name, sizeof q->name - 1);
	memcpy(q->name, name, n);
	q->name[n] = '\0';
	q->t = xcalloc(route ? DNS_MAX_MX : 1, sizeof *q->t);
	q->timer = evtimer_new(r->base, on_timer, q);
	if (q->timer == NULL)
		abort();	/* allocation failure, as xmalloc does */
	struct timeval tv = { .tv_sec = (time_t)r->timeout, .tv_usec = 0 };
	if (evtimer_add(q->timer, &tv) != 0)
		abort();
	q->next = r->queries;
	if (r->queries)
		r->queries->prev = q;
	r->queries = q;
	return q;
}

static void on_answer(void *mydata, int rc, struct ub_result *res)
{
	struct dns_sub *s = mydata;
	struct dns_query *q = s->q;
	s->pending = false;
	q->pending--;
	dns_route_answer(q, s, rc, res);
	if (res)
		ub_resolve_free(res);
	if (q->pending == 0 && !q->done)
		dns_query_done(q);
}

void dns_query_ask(struct dns_query *q, const char *name, int rrtype,
		   enum dns_sub_kind kind, size_t target)
{
	if (q->nsubs == DNS_MAX_SUBS) {	/* NEVER: two per target plus MX */
		dns_route_answer(q, &(struct dns_sub){ .q = q, .kind = kind,
				 .target = target }, UB_NOMEM, NULL);
		return;
	}
	struct dns_sub *s = &q->subs[q->nsubs++];
	s->q = q;
	s->kind = kind;
	s->target = target;
	int rc = ub_resolve_async(q->r->ctx, name, rrtype, 1 /* IN */, s,
				  on_answer, &s->ub_id);
	if (rc != 0) {
		/* answered now as a failure; libunbound never calls back */
		dns_route_answer(q, s, rc, NULL);
		return;
	}
	s->pending = true;
	q->pending++;
}

void dns_query_cancel(struct dns_query **qp)
{
	struct dns_query *q = *qp;
	if (q == NULL)
		return;
	*qp = NULL;
	cancel_subs(q);
	query_unlink(q);
	query_free(q);
}

unsigned dns_query_random(struct dns_query *q, uint32_t upper)
{
	return q->r->rnd(q->r->rnd_arg, upper);
}
