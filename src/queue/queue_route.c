/* queue_route.c - where a recipient's mail goes and the destinations
 * that gather the messages going the same way. A destination is one way
 * out: the MX of a domain, the addresses of a transport's or the relay's
 * host (with its port and TLS mode), or the mailboxes of a domain hosted
 * here. Its route (from src/dns) is kept for QR_ROUTE_TTL; a temporary
 * DNS failure is not kept, a permanent one bounces what waits.
 */
#include "queue/queue_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* The transport for domain: an exact entry, else the "*." entry with the
 * longest suffix, else NULL. */
static const struct cfg_transport *transport_for(const struct config *cfg,
						 const char *domain)
{
	const struct cfg_transport *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < cfg->transports.n; i++) {
		const struct cfg_transport *t = &cfg->transports.e[i];
		if (!cfg_domain_match(t->domain, domain))
			continue;
		if (t->domain[0] != '*')
			return t;
		size_t l = strlen(t->domain);
		if (l > best_len) {
			best = t;
			best_len = l;
		}
	}
	return best;
}

static bool tls_required(const struct config *cfg, const char *domain)
{
	for (size_t i = 0; i < cfg->outbound_tls_required.n; i++)
		if (cfg_domain_match(cfg->outbound_tls_required.name[i], domain))
			return true;
	return false;
}

static enum smtpc_tls relay_tls(enum cfg_tls_mode m)
{
	switch (m) {
	case CFG_TLS_STARTTLS: return SMTPC_TLS_REQUIRED;
	case CFG_TLS_IMPLICIT: return SMTPC_TLS_IMPLICIT;
	case CFG_TLS_NONE: return SMTPC_TLS_NONE;
	case CFG_TLS_OPPORTUNISTIC: break;
	}
	return SMTPC_TLS_OPPORTUNISTIC;
}

struct qr_dest *qr_dest_for(struct queue_runner *q, const char *domain)
{
	const struct config *cfg = q->cfg;
	enum qr_route_kind kind = QR_ROUTE_MX;
	const char *name = domain;
	unsigned port = cfg->outbound_port;
	enum smtpc_tls tls = tls_required(cfg, domain) ? SMTPC_TLS_REQUIRED
						       : SMTPC_TLS_OPPORTUNISTIC;
	bool auth = false;
	struct err err;
	const struct cfg_transport *t;
	if (store_domain_exists(q->st, domain, &err) == 1) {
		kind = QR_ROUTE_LOCAL;
		port = 0;
	} else if ((t = transport_for(cfg, domain)) != NULL) {
		kind = t->hop.literal ? QR_ROUTE_ADDR : QR_ROUTE_MX;
		name = t->hop.host;
		if (t->hop.port != 0)
			port = t->hop.port;
	} else if (cfg->relay_host.host[0] != '\0') {
		kind = cfg->relay_host.literal ? QR_ROUTE_ADDR : QR_ROUTE_MX;
		name = cfg->relay_host.host;
		if (cfg->relay_host.port != 0)
			port = cfg->relay_host.port;
		tls = relay_tls(cfg->relay_tls);
		auth = cfg->relay_auth_user[0] != '\0';
	}
	char key[320];
	snprintf(key, sizeof key, "%s:%s:%u:%d%s",
		 kind == QR_ROUTE_LOCAL ? "local" : kind == QR_ROUTE_ADDR ? "addr" : "mx",
		 name, port, (int)tls, auth ? ":auth" : "");
	for (struct qr_dest *d = q->dests; d != NULL; d = d->next)
		if (strcmp(d->key, key) == 0)
			return d;
	struct qr_dest *d = xcalloc(1, sizeof *d);
	snprintf(d->key, sizeof d->key, "%s", key);
	snprintf(d->name, sizeof d->name, "%s", name);
	d->q_runner = q;
	d->kind = kind;
	d->port = (uint16_t)port;
	d->tls = tls;
	d->auth = auth;
	d->next = q->dests;
	q->dests = d;
	return d;
}

void qr_dest_add(struct queue_runner *q, struct qr_dest *d,
		 const struct store_queue_msg *m, const struct store_queue_rcpt *r)
{
	(void)q;
	struct qr_msg *qm = d->tail;
	/* rows of an entry come together in a scan: extend the last one */
	if (qm == NULL || qm->id != m->id) {
		qm = xcalloc(1, sizeof *qm);
		qm->id = m->id;
		snprintf(qm->sender, sizeof qm->sender, "%s", m->sender);
		snprintf(qm->envid, sizeof qm->envid, "%s", m->envid);
		qm->created = m->created;
		qm->flags = m->flags;
		qm->size = m->size;
		if (d->tail != NULL)
			d->tail->next = qm;
		else
			d->head = qm;
		d->tail = qm;
	}
	if (qm->n == qm->cap) {
		qm->cap = qm->cap ? 2 * qm->cap : 4;
		qm->r = xreallocarray(qm->r, qm->cap, sizeof *qm->r);
	}
	struct qr_rcpt *x = &qm->r[qm->n++];
	memset(x, 0, sizeof *x);
	x->idx = r->idx;
	snprintf(x->addr, sizeof x->addr, "%s", r->addr);
	snprintf(x->orcpt, sizeof x->orcpt, "%s", r->orcpt);
	x->notify = r->notify;
	x->attempts = r->attempts;
	x->delay_notified = r->delay_notified;
	x->bounce_now = r->state == STORE_QR_BOUNCE;
	if (x->bounce_now)
		snprintf(x->reason, sizeof x->reason, "%s", r->last_reply);
}

struct qr_msg *qr_dest_pop(struct qr_dest *d)
{
	struct qr_msg *m = d->head;
	if (m != NULL) {
		d->head = m->next;
		if (d->head == NULL)
			d->tail = NULL;
		m->next = NULL;
	}
	return m;
}

void qr_msg_free(struct qr_msg *m)
{
	if (m == NULL)
		return;
	free(m->data);
	free(m->r);
	free(m);
}

void qr_dest_fail_all(struct queue_runner *q, struct qr_dest *d,
		      const struct smtpc_reply *why)
{
	struct qr_msg *m;
	while ((m = qr_dest_pop(d)) != NULL) {
		for (size_t i = 0; i < m->n; i++)
			m->r[i].sr.reply = *why;
		qr_msg_result(q, m, NULL);
		qr_msg_free(m);
	}
}

/* Bounce or defer what waits for d after a failed lookup. */
static void route_failed(struct queue_runner *q, struct qr_dest *d)
{
	struct smtpc_reply r;
	switch (d->status) {
	case DNS_TEMPFAIL:
		qr_reply(&r, 451, "4.4.3", SMTPC_STAGE_CONNECT,
			 "Host or domain name lookup of %s failed temporarily: "
			 "%s", d->name, d->why);
		break;
	case DNS_NULLMX:
		qr_reply(&r, 556, "5.1.10", SMTPC_STAGE_CONNECT,
			 "Domain %s does not accept mail (null MX, RFC 7505)",
			 d->name);
		break;
	case DNS_OK:
		return;
	case DNS_NXDOMAIN:
	case DNS_NOADDR:
	case DNS_BADNAME:
		qr_reply(&r, 550, "5.1.2", SMTPC_STAGE_CONNECT,
			 "Host or domain name not found: %s (%s)", d->name,
			 d->why[0] != '\0' ? d->why : dns_status_str(d->status));
		break;
	}
	log_info("queue", NULL, "op=route dest=%s status=%s why=\"%s\"", d->key,
		 dns_status_str(d->status), d->why);
	qr_dest_fail_all(q, d, &r);
}

static void route_done(const struct dns_route *rt, void *arg)
{
	struct qr_dest *d = arg;
	struct queue_runner *q = d->q_runner;
	free(d->targets);
	d->targets = NULL;
	d->q = NULL;
	d->status = rt->status;
	snprintf(d->why, sizeof d->why, "%s", rt->why != NULL ? rt->why : "");
	d->n_targets = rt->status == DNS_OK ? rt->n : 0;
	if (d->n_targets > 0) {
		d->targets = xcalloc(d->n_targets, sizeof *d->targets);
		memcpy(d->targets, rt->t, d->n_targets * sizeof *d->targets);
	}
	/* a temporary failure is not remembered: the next try asks again */
	d->resolved_at = rt->status == DNS_TEMPFAIL ? 0 : qr_now();
	if (rt->status != DNS_OK) {
		route_failed(q, d);
		return;
	}
	qr_dest_kick(q, d);
}

static size_t waiting(const struct qr_dest *d)
{
	size_t n = 0;
	for (const struct qr_msg *m = d->head; m != NULL; m = m->next)
		n++;
	return n;
}

void qr_dest_kick(struct queue_runner *q, struct qr_dest *d)
{
	if (d->head == NULL || d->q != NULL || q->stopping)
		return;
	if (d->kind == QR_ROUTE_LOCAL) {
		struct qr_msg *m;
		while ((m = qr_dest_pop(d)) != NULL) {
			qr_msg_local(q, m);
			qr_msg_free(m);
		}
		return;
	}
	int64_t now = qr_now();
	if (d->dead_until > now) {
		qr_dest_fail_all(q, d, &d->dead_why);
		return;
	}
	if (d->resolved_at == 0 || now - d->resolved_at > QR_ROUTE_TTL) {
		d->q = d->kind == QR_ROUTE_ADDR
			       ? dns_addr(q->dns, d->name, route_done, d)
			       : dns_mail_route(q->dns, d->name, route_done, d);
		return;
	}
	if (d->status != DNS_OK) {
		route_failed(q, d);
		return;
	}
	size_t n = waiting(d);
	while (d->active < n && d->active < q->cfg->queue_max_connections_per_destination &&
	       q->active < q->cfg->queue_max_connections)
		qr_conn_open(q, d);
}

void qr_dest_kick_all(struct queue_runner *q)
{
	for (struct qr_dest *d = q->dests; d != NULL; d = d->next)
		qr_dest_kick(q, d);
}

void qr_dests_prune(struct queue_runner *q)
{
	int64_t now = qr_now();
	struct qr_dest **pp = &q->dests;
	while (*pp != NULL) {
		struct qr_dest *d = *pp;
		if (d->head == NULL && d->active == 0 && d->q == NULL &&
		    now - d->resolved_at > QR_ROUTE_TTL && d->dead_until < now) {
			*pp = d->next;
			free(d->targets);
			free(d);
			continue;
		}
		pp = &d->next;
	}
}

void qr_dests_free(struct queue_runner *q)
{
	struct qr_dest *d = q->dests;
	while (d != NULL) {
		struct qr_dest *next = d->next;
		dns_query_cancel(&d->q);
		struct qr_msg *m;
		while ((m = qr_dest_pop(d)) != NULL)
			qr_msg_free(m);
		free(d->targets);
		free(d);
		d = next;
	}
	q->dests = NULL;
}
