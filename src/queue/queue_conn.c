/* queue_conn.c - one outgoing connection of a destination: its route's
 * addresses in order (MX preference, then each host's A and AAAA) until
 * one takes the session, then the destination's waiting messages one
 * after another over it (up to queue_messages_per_connection), then QUIT.
 * When no address takes the session, the destination is marked down for
 * QR_DEST_DEAD seconds and what waits is deferred with the last reason.
 */
#include "queue/queue_private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/xmalloc.h"

static void conn_next(struct qr_conn *k);
static void conn_try(struct qr_conn *k);

static void conn_close(struct qr_conn *k, bool quit)
{
	struct queue_runner *q = k->q;
	struct qr_dest *d = k->d;
	if (k->c != NULL) {
		if (quit)
			smtpc_quit(k->c);
		else
			smtpc_free(k->c);
		k->c = NULL;
	}
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		q->conns = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	d->active--;
	q->active--;
	free(k->m.rcpts);
	free(k);
	/* a slot is free: this or another destination may use it */
	if (!q->stopping)
		qr_dest_kick_all(q);
}

void qr_conns_free(struct queue_runner *q)
{
	while (q->conns != NULL) {
		struct qr_conn *k = q->conns;
		if (k->cur != NULL) {
			/* cut short: tried again later, as it stands */
			for (size_t i = 0; i < k->cur->n; i++)
				qr_release(q, k->cur->id, k->cur->r[i].idx);
			qr_msg_free(k->cur);
			k->cur = NULL;
		}
		conn_close(k, false);
	}
}

void qr_conn_open(struct queue_runner *q, struct qr_dest *d)
{
	struct qr_conn *k = xcalloc(1, sizeof *k);
	k->q = q;
	k->d = d;
	k->next = q->conns;
	if (q->conns != NULL)
		q->conns->prev = k;
	q->conns = k;
	d->active++;
	q->active++;
	conn_try(k);
}

/* Every address failed. */
static void conn_gave_up(struct qr_conn *k)
{
	struct qr_dest *d = k->d;
	struct queue_runner *q = k->q;
	if (d->active == 1) {
		/* nobody else got through: the destination is down */
		d->dead_until = qr_now() + QR_DEST_DEAD;
		if (k->failed)
			d->dead_why = k->last_fail;
		else
			qr_reply(&d->dead_why, 451, "4.4.1", SMTPC_STAGE_CONNECT,
				 "no address to connect to for %s", d->name);
		char text[SMTPC_REPLY_TEXT_MAX + 32];
		smtpc_reply_format(&d->dead_why, text, sizeof text);
		log_info("queue", NULL, "op=connect dest=%s result=down "
			 "why=\"%s\"", d->key, text);
		conn_close(k, false);
		qr_dest_fail_all(q, d, &d->dead_why);
		return;
	}
	conn_close(k, false);
}

/* A server's own refusal, or a failure past the TCP connect (TLS
 * required but not offered), says more than "connection refused". */
static bool telling(const struct smtpc_reply *r)
{
	return r->stage != SMTPC_STAGE_CONNECT || !r->synthetic;
}

static void conn_ready(struct smtpc *c, const struct smtpc_reply *failure,
		       void *arg)
{
	struct qr_conn *k = arg;
	if (failure != NULL) {
		char text[SMTPC_REPLY_TEXT_MAX + 32];
		smtpc_reply_format(failure, text, sizeof text);
		if (!k->failed || telling(failure) || !telling(&k->last_fail))
			k->last_fail = *failure;
		k->failed = true;
		log_info("queue", NULL, "op=connect dest=%s peer=%s "
			 "result=failed reply=\"%s\"", k->d->key,
			 smtpc_info(c)->peer, text);
		smtpc_free(c);
		k->c = NULL;
		conn_try(k);
		return;
	}
	const struct smtpc_info *in = smtpc_info(c);
	log_debug("queue", NULL, "op=connect dest=%s peer=%s tls=%s%s%s",
		  k->d->key, in->peer, in->tls ? in->tls_version : "no",
		  in->tls ? " " : "", in->tls ? in->tls_cipher : "");
	conn_next(k);
}

static socklen_t target_addr(const struct dns_addr *a, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->a, 4);
		return sizeof *s4;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->a, 16);
	return sizeof *s6;
}

static void conn_try(struct qr_conn *k)
{
	struct qr_dest *d = k->d;
	struct queue_runner *q = k->q;
	while (k->ti < d->n_targets &&
	       (d->targets[k->ti].tempfail || k->ai >= d->targets[k->ti].naddr)) {
		k->ti++;
		k->ai = 0;
	}
	if (k->ti >= d->n_targets || q->stopping) {
		conn_gave_up(k);
		return;
	}
	const struct dns_target *t = &d->targets[k->ti];
	struct sockaddr_storage ss;
	socklen_t sl = target_addr(&t->addr[k->ai++], d->port, &ss);
	snprintf(k->peer_name, sizeof k->peer_name, "%s", t->host);
	smtpc_opts_from_config(&k->opts, q->cfg);
	k->opts.peer_name = k->peer_name;
	k->opts.tls = d->tls;
	k->opts.tls_ctx = q->tls;
	k->opts.tls_servername = k->peer_name;
	if (d->auth) {
		k->opts.auth_user = q->cfg->relay_auth_user;
		k->opts.auth_pass = q->relay_pass;
	}
	k->c = smtpc_connect(q->base, (const struct sockaddr *)&ss, sl,
			     &k->opts, conn_ready, k);
}

static void conn_done(struct smtpc *c, struct smtpc_msg *msg, void *arg)
{
	struct qr_conn *k = arg;
	struct qr_msg *m = k->cur;
	for (size_t i = 0; i < m->n; i++)
		m->r[i].sr.reply = msg->rcpts[i].reply;
	m->remote_dsn = smtpc_info(c)->dsn;
	k->cur = NULL;
	k->sent++;
	qr_msg_result(k->q, m, smtpc_info(c)->peer);
	qr_msg_free(m);
	if (!smtpc_usable(c)) {
		smtpc_free(c);
		k->c = NULL;
		conn_close(k, false);
		return;
	}
	conn_next(k);
}

/* Bytes at the start of data taken by the Return-Path field our own
 * trace put there for local copies: RFC 5321 4.4, a message relayed on
 * must not carry one (the final delivery adds it). */
static size_t return_path_len(const unsigned char *data, size_t len)
{
	static const char name[] = "Return-Path:";
	size_t n = sizeof name - 1;
	if (len < n || strncasecmp((const char *)data, name, n) != 0)
		return 0;
	size_t i = n;
	for (;;) {
		const unsigned char *lf = memchr(data + i, '\n', len - i);
		if (lf == NULL)
			return 0;
		i = (size_t)(lf - data) + 1;
		if (i >= len || (data[i] != ' ' && data[i] != '\t'))
			return i;
	}
}

static void conn_next(struct qr_conn *k)
{
	struct queue_runner *q = k->q;
	struct qr_msg *m = NULL;
	while (k->sent < q->cfg->queue_messages_per_connection && !q->stopping &&
	       (m = qr_dest_pop(k->d)) != NULL) {
		if (qr_msg_load(q, m))
			break;
		qr_msg_free(m);
		m = NULL;
	}
	if (m == NULL) {
		conn_close(k, true);
		return;
	}
	k->cur = m;
	size_t skip = return_path_len(m->data, m->len);
	free(k->m.rcpts);
	k->m = (struct smtpc_msg){
		.mail_from = m->sender,
		.rcpts = xcalloc(m->n, sizeof *k->m.rcpts),
		.n_rcpts = m->n,
		.data = m->data + skip,
		.len = m->len - skip,
		.smtputf8 = (m->flags & STORE_QUEUE_SMTPUTF8) != 0,
		.dsn_ret = (m->flags & STORE_QUEUE_RET_FULL) ? "FULL" : NULL,
		.dsn_envid = m->envid[0] != '\0' ? m->envid : NULL,
	};
	for (size_t i = 0; i < m->n; i++) {
		k->m.rcpts[i].addr = m->r[i].addr;
		k->m.rcpts[i].dsn_notify = m->r[i].notify;
		k->m.rcpts[i].dsn_orcpt = m->r[i].orcpt[0] != '\0'
						  ? m->r[i].orcpt : NULL;
	}
	smtpc_send(k->c, &k->m, conn_done, k);
}
