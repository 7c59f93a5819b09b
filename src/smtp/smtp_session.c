/* smtp_session.c - an SMTP session on the connection layer: greeting,
 * reading commands and bodies with bounds, and what a timeout, shutdown or
 * TLS handshake means for SMTP. Command semantics are in smtp_cmd.c and
 * the hand-off to the store in smtp_deliver.c; sockets, TLS and closing
 * are net/conn.c's. */
#include "smtp/smtp_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/log.h"
#include "core/xmalloc.h"

static const char *const verb_names[SMTP_NVERBS] = {
	"unknown", "helo", "ehlo", "mail", "rcpt", "data", "bdat", "rset",
	"noop", "quit", "vrfy", "expn", "help", "starttls", "auth",
};

struct smtp_server *smtp_server_new(const struct config *cfg,
				    struct store *store, SSL_CTX *tls)
{
	struct smtp_server *srv = xcalloc(1, sizeof *srv);
	srv->cfg = cfg;
	srv->store = store;
	srv->tls = tls;
	return srv;
}

struct smtp_server *smtp_submission_new(const struct config *cfg,
					struct store *store, SSL_CTX *tls,
					struct auth *auth)
{
	struct smtp_server *srv = smtp_server_new(cfg, store, tls);
	srv->submission = true;
	/* the outbound queue takes the other domains' recipients */
	srv->remote_rcpt = true;
	srv->auth = auth;
	srv->rate = smtp_rate_new();
	return srv;
}

void smtp_server_set_msgauth(struct smtp_server *srv, struct msgauth_svc *svc)
{
	srv->msgauth = svc;
	srv->msgauth_checks = svc != NULL;
}

void smtp_server_set_checks(struct smtp_server *srv, bool checks,
			    struct filter_engine *filter)
{
	srv->msgauth_checks = checks;
	srv->filter = filter;
}

void smtp_server_free(struct smtp_server **sp)
{
	if (*sp != NULL)
		smtp_rate_free(&(*sp)->rate);
	free(*sp);
	*sp = NULL;
}

void smtp_reply_err(struct smtp_session *s, const struct err *err)
{
	int code = err->reply ? err->reply : 451;
	const char *esc = err->esc[0] ? err->esc : (code >= 500 ? "5.0.0" : "4.0.0");
	net_conn_reply(s->c, "%d %s %s", code, esc, err->msg[0] ? err->msg : "Error");
}

void smtp_tx_reset(struct smtp_session *s)
{
	s->has_mail = false;
	memset(&s->from, 0, sizeof s->from);
	memset(&s->mail, 0, sizeof s->mail);
	s->n_rcpts = 0;
	s->n_mailboxes = 0;
	s->n_remote = 0;
	s->n_named = 0;
	s->fwd_domain[0] = '\0';
	s->rcpt_domain[0] = '\0';
	buf_reset(&s->msg);
	s->trace_len = 0;
	s->bdat_active = false;
	s->bdat_discard = false;
	s->bdat_last = false;
	s->bdat_left = 0;
}

/* One command line, bounded by smtp_max_line. false: stop reading. */
static bool read_command(struct smtp_session *s)
{
	struct net_conn *c = s->c;
	size_t max = s->srv->cfg->smtp_max_line;
	struct span line;
	size_t used;
	int rc = net_conn_getline(c, max, &line, &used);
	if (rc == 0)
		return false;
	if (rc < 0) {
		/* No line end within the limit: we cannot find where the next
		 * command starts without reading unbounded input, so end the
		 * session (RFC 5321 4.5.3.1.4 allows the 500). */
		s->errors++;
		log_info("smtp", c->id, "reject reason=line_too_long ip=%s", c->ip);
		net_conn_reply(c, "500 5.5.2 Line too long (limit %zu bytes)", max);
		net_conn_close_after_flush(c);
		return false;
	}
	if (s->auth_step != SMTP_AUTH_NONE)
		smtp_auth_line(s, line);
	else
		smtp_cmd_dispatch(s, line);
	/* The line is still in the input buffer (STARTTLS may have emptied
	 * it already, which makes this a no-op). */
	evbuffer_drain(net_conn_input(c), used);
	if (c->closing || c->starttls_pending)
		return false;
	if (s->errors >= s->srv->cfg->smtp_max_errors) {
		log_info("smtp", c->id, "reject reason=too_many_errors ip=%s", c->ip);
		net_conn_reply(c, "421 4.7.0 %s Too many errors, closing connection",
			       s->srv->cfg->hostname);
		net_conn_close_after_flush(c);
		return false;
	}
	return true;
}

static bool read_data(struct smtp_session *s)
{
	struct evbuffer *in = net_conn_input(s->c);
	struct evbuffer_iovec v[16];
	int n = evbuffer_peek(in, -1, NULL, v, 16);
	if (n <= 0)
		return false;
	size_t total = 0;
	int done = 0;
	for (int i = 0; i < n && i < 16 && !done; i++) {
		size_t used;
		done = smtp_data_push(&s->data, v[i].iov_base, v[i].iov_len, &used);
		total += used;
	}
	evbuffer_drain(in, total);
	if (done) {
		smtp_msg_finish(s);
		return s->state == SMTP_S_CMD;
	}
	return evbuffer_get_length(in) > 0;
}

static bool read_bdat(struct smtp_session *s)
{
	struct evbuffer *in = net_conn_input(s->c);
	while (s->bdat_left > 0) {
		struct evbuffer_iovec v[16];
		int n = evbuffer_peek(in, -1, NULL, v, 16);
		if (n <= 0)
			return false;
		size_t total = 0;
		for (int i = 0; i < n && i < 16 && s->bdat_left > 0; i++) {
			size_t take = v[i].iov_len;
			if (take > s->bdat_left)
				take = (size_t)s->bdat_left;
			if (!s->bdat_discard)
				smtp_data_bdat_push(&s->data, v[i].iov_base, take);
			s->bdat_left -= take;
			total += take;
		}
		evbuffer_drain(in, total);
	}
	/* chunk complete */
	s->state = SMTP_S_CMD;
	net_conn_set_timeout(s->c, s->srv->cfg->smtp_command_timeout);
	if (s->bdat_discard) {
		/* RFC 3030 2: a rejected BDAT's chunk is still read, then the
		 * error is given and the transaction is over. */
		smtp_reply_err(s, &s->bdat_err);
		smtp_tx_reset(s);
		return true;
	}
	if (!s->bdat_last) {
		net_conn_reply(s->c, "250 2.0.0 %llu octets received",
			       (unsigned long long)s->data.size);
		return true;
	}
	smtp_data_bdat_end(&s->data);
	smtp_msg_finish(s);
	return s->state == SMTP_S_CMD;
}

static void on_input(struct net_conn *c)
{
	struct smtp_session *s = c->proto;
	for (;;) {
		if (net_conn_output_full(c)) {
			/* The client does not read its replies: stop reading its
			 * commands until it does (the layer resumes us). */
			net_conn_pause_input(c);
			return;
		}
		bool more;
		switch (s->state) {
		case SMTP_S_CMD: more = read_command(s); break;
		case SMTP_S_DATA: more = read_data(s); break;
		case SMTP_S_BDAT: more = read_bdat(s); break;
		default: more = false; break;
		}
		if (!more || c->closing || c->busy)
			return;
	}
}

static bool on_open(struct net_conn *c, void *arg)
{
	struct smtp_server *srv = arg;
	struct smtp_session *s = xcalloc(1, sizeof *s);
	s->c = c;
	s->srv = srv;
	buf_init(&s->msg, 0);
	buf_init(&s->meta, STORE_META_MAX);
	s->commit_ev = event_new(c->w->base, -1, 0, smtp_commit_done, s);
	s->wake_ev = event_new(c->w->base, -1, 0, smtp_auth_wake, s);
	s->delay_ev = evtimer_new(c->w->base, smtp_auth_delay_done, s);
	s->ma_ev = event_new(c->w->base, -1, 0, smtp_msgauth_done, s);
	if (s->commit_ev == NULL || s->wake_ev == NULL || s->delay_ev == NULL ||
	    s->ma_ev == NULL) {
		if (s->ma_ev)
			event_free(s->ma_ev);
		if (s->commit_ev)
			event_free(s->commit_ev);
		if (s->wake_ev)
			event_free(s->wake_ev);
		if (s->delay_ev)
			event_free(s->delay_ev);
		buf_release(&s->msg);
		buf_release(&s->meta);
		free(s);
		return false;
	}
	c->proto = s;
	net_conn_set_timeout(c, srv->cfg->smtp_command_timeout);
	net_conn_reply(c, "220 %s ESMTP petrel", srv->cfg->hostname);
	return true;
}

static void on_tls_ready(struct net_conn *c, bool after_starttls)
{
	struct smtp_session *s = c->proto;
	if (!after_starttls || s == NULL)
		return;
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	s->helo_done = false;
	s->esmtp = false;
	s->helo[0] = '\0';
	smtp_tx_reset(s);
	s->state = SMTP_S_CMD;
}

static void on_timeout(struct net_conn *c)
{
	struct smtp_session *s = c->proto;
	net_conn_reply(c, "421 4.4.2 %s Error: timeout exceeded", s->srv->cfg->hostname);
}

static void on_shutdown(struct net_conn *c)
{
	struct smtp_session *s = c->proto;
	net_conn_reply(c, "421 4.3.2 %s Service shutting down", s->srv->cfg->hostname);
}

static void on_close(struct net_conn *c)
{
	struct smtp_session *s = c->proto;
	if (s == NULL)
		return;
	char counts[512];
	size_t o = 0;
	unsigned total = 0;
	counts[0] = '\0';
	for (int v = 1; v < SMTP_NVERBS; v++) {
		if (s->count[v] == 0)
			continue;
		total += s->count[v];
		int n = s->failed[v]
			? snprintf(counts + o, sizeof counts - o, " %s=%u/%u",
				   verb_names[v], s->count[v] - s->failed[v], s->count[v])
			: snprintf(counts + o, sizeof counts - o, " %s=%u",
				   verb_names[v], s->count[v]);
		if (n < 0 || (size_t)n >= sizeof counts - o)
			break;
		o += (size_t)n;
	}
	if (s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT)
		log_info("smtp", c->id, "lost ip=%s in=%s", c->ip,
			 s->state == SMTP_S_DATA ? "data" : "bdat");
	log_info("smtp", c->id, "disconnect ip=%s%s unknown=%u commands=%u",
		 c->ip, counts, s->count[0], total + s->count[0]);
	event_free(s->commit_ev);
	event_free(s->wake_ev);
	event_free(s->delay_ev);
	event_free(s->ma_ev);
	free(s->ma);
	free(s->fv);
	if (s->scram != NULL) {
		sodium_memzero(s->scram, sizeof *s->scram);
		free(s->scram);
	}
	sodium_memzero(&s->login, sizeof s->login);
	buf_release(&s->msg);
	buf_release(&s->meta);
	free(s->rcpts);
	free(s->mailbox_ids);
	free(s->qrcpts);
	free(s->qorcpts);
	free(s->qnotify);
	free(s);
	c->proto = NULL;
}

const struct net_proto smtp_proto = {
	.name = "smtp",
	.refuse_line = "421 4.7.0 Too many connections, try again later",
	.open = on_open,
	.input = on_input,
	.tls_ready = on_tls_ready,
	.timeout = on_timeout,
	.shutdown = on_shutdown,
	.close = on_close,
};
