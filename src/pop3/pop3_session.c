/* pop3_session.c - a POP3 session on the connection layer: greeting, the
 * bounded command loop, and what timeouts, shutdown and TLS mean for POP3.
 * Commands are in pop3_cmd.c. */
#include "pop3/pop3_private.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/net.h"

struct pop3_server *pop3_server_new(const struct config *cfg,
				    struct store *store, SSL_CTX *tls,
				    struct jobs *jobs, struct auth *auth)
{
	struct pop3_server *srv = xcalloc(1, sizeof *srv);
	srv->cfg = cfg;
	srv->store = store;
	srv->tls = tls;
	srv->jobs = jobs;
	srv->auth = auth;
	pthread_mutex_init(&srv->lock_mu, NULL);
	srv->ips = net_iplimit_new(1024);
	return srv;
}

void pop3_server_free(struct pop3_server **sp)
{
	struct pop3_server *srv = *sp;
	if (srv == NULL)
		return;
	pthread_mutex_destroy(&srv->lock_mu);
	net_iplimit_free(&srv->ips);
	free(srv->locked);
	free(srv);
	*sp = NULL;
}

static void on_input(struct net_conn *c)
{
	struct pop3_session *s = c->proto;
	while (!c->closing && !c->busy && !c->starttls_pending) {
		if (net_conn_output_full(c)) {
			net_conn_pause_input(c);
			return;
		}
		struct span line;
		size_t used;
		int rc = net_conn_getline(c, POP3_MAX_LINE, &line, &used);
		if (rc == 0)
			return;
		if (rc < 0) {
			log_info("pop3", c->id, "reject reason=line_too_long ip=%s", c->ip);
			net_conn_reply(c, "-ERR Line too long");
			net_conn_close_after_flush(c);
			return;
		}
		if (s->sasl_plain)
			pop3_sasl_response(s, line);
		else
			pop3_cmd_dispatch(s, line);
		/* the line stays valid until drained; STLS may have drained it */
		evbuffer_drain(net_conn_input(c), used);
		if (s->errors >= POP3_MAX_ERRORS && !c->closing) {
			log_info("pop3", c->id, "reject reason=too_many_errors ip=%s", c->ip);
			net_conn_reply(c, "-ERR Too many errors, closing connection");
			net_conn_close_after_flush(c);
		}
	}
}

static bool on_open(struct net_conn *c, void *arg)
{
	struct pop3_server *srv = arg;
	if (!net_conn_ip_acquire(c, srv->ips, srv->cfg->pop3_max_connections_per_ip)) {
		log_info("pop3", c->id, "reject ip=%s reason=too_many_pop3_connections_from_ip",
			 c->ip);
		net_conn_reply(c, "%s", pop3_proto.refuse_line);
		return false;
	}
	struct pop3_session *s = xcalloc(1, sizeof *s);
	s->c = c;
	s->srv = srv;
	s->wake_ev = event_new(c->w->base, -1, 0, pop3_job_done, s);
	s->delay_ev = evtimer_new(c->w->base, pop3_delay_done, s);
	if (s->wake_ev == NULL || s->delay_ev == NULL) {
		if (s->wake_ev)
			event_free(s->wake_ev);
		if (s->delay_ev)
			event_free(s->delay_ev);
		free(s);
		net_conn_ip_release(c, srv->ips);
		return false;
	}
	c->proto = s;
	net_conn_set_timeout(c, srv->cfg->pop3_preauth_timeout);
	net_conn_reply(c, "+OK petrel POP3 ready");
	return true;
}

static void on_tls_ready(struct net_conn *c, bool after_starttls)
{
	struct pop3_session *s = c->proto;
	if (after_starttls && s != NULL) {
		/* RFC 2595 4: forget what was learnt in clear */
		s->user[0] = '\0';
		s->sasl_plain = false;
	}
}

static void on_timeout(struct net_conn *c)
{
	struct pop3_session *s = c->proto;
	/* RFC 1939 3: the autologout timer; deletions are not committed */
	if (s != NULL && s->state == POP3_S_AUTH)
		net_conn_reply(c, "-ERR Autologout; no login in time");
	else
		net_conn_reply(c, "-ERR Autologout; idle for too long");
}

static void on_shutdown(struct net_conn *c)
{
	net_conn_reply(c, "-ERR [SYS/TEMP] Server shutting down");
}

static void on_close(struct net_conn *c)
{
	struct pop3_session *s = c->proto;
	if (s == NULL)
		return;
	log_info("pop3", c->id, "disconnect ip=%s%s%s", c->ip,
		 s->address[0] ? " user=" : "", s->address);
	pop3_unlock(s);
	net_conn_ip_release(c, s->srv->ips);	/* counted in on_open */
	event_free(s->wake_ev);
	event_free(s->delay_ev);
	free(s->msgs);
	free(s->update.uids);
	sodium_memzero(&s->login, sizeof s->login);
	free(s);
	c->proto = NULL;
}

const struct net_proto pop3_proto = {
	.name = "pop3",
	.refuse_line = "-ERR [SYS/TEMP] Too many connections, try again later",
	.open = on_open,
	.input = on_input,
	.tls_ready = on_tls_ready,
	.timeout = on_timeout,
	.shutdown = on_shutdown,
	.close = on_close,
};
