/* imap_session.c - an IMAP session on the connection layer: greeting, the
 * input loop that feeds the incremental command reader (imap_parse.h) and
 * hands commands, literal continuations, SASL responses and IDLE's DONE
 * to the command files, tagged replies, the store watcher that wakes an
 * idling session, and what timeouts, shutdown and TLS mean for IMAP. */
#include "imap/imap_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "filter/bayes.h"
#include "imap/imap_context.h"
#include "net/net.h"

struct imap_server *imap_server_new(const struct config *cfg,
				    struct store *store, SSL_CTX *tls,
				    struct auth *auth)
{
	struct imap_server *srv = xcalloc(1, sizeof *srv);
	srv->cfg = cfg;
	srv->store = store;
	srv->tls = tls;
	srv->auth = auth;
	srv->users = net_userlimit_new(1024);
	srv->ips = net_iplimit_new(1024);
	srv->learner = bayes_learner_new(store);
	return srv;
}

void imap_server_free(struct imap_server **sp)
{
	if (*sp == NULL)
		return;
	net_userlimit_free(&(*sp)->users);
	net_iplimit_free(&(*sp)->ips);
	bayes_learner_free(&(*sp)->learner);
	free(*sp);
	*sp = NULL;
}

/* ---- tagged replies --------------------------------------------------- */

static void reply_v(struct imap_session *s, const char *tag, const char *kind,
		    const char *fmt, va_list ap)
{
	char small[600], *text = small;
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	if (n >= (int)sizeof small) {
		/* long response codes: COPYUID of a fragmented set */
		text = xmalloc((size_t)n + 1);
		vsnprintf(text, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	/* our texts never hold CR/LF, but err messages pass through here */
	for (char *p = text; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	/* changes from elsewhere go out before the tagged reply (RFC 9051
	 * 5.2) */
	if (s->state == IMAP_S_SELECTED && s->mode == IMAP_M_COMMAND &&
	    atomic_load(&s->changed))
		imap_sync(s, s->sync_expunges);
	if (s->state == IMAP_S_SELECTED && s->mode == IMAP_M_COMMAND)
		imap_context_update(s);	/* the session's own STORE */
	imap_flush(s);
	net_conn_write(s->c, tag[0] ? tag : "*", tag[0] ? strlen(tag) : 1);
	net_conn_reply(s->c, " %s %s", kind, text);
	if (text != small)
		free(text);
}

void imap_ok(struct imap_session *s, const char *tag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_v(s, tag, "OK", fmt, ap);
	va_end(ap);
}

void imap_no(struct imap_session *s, const char *tag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_v(s, tag, "NO", fmt, ap);
	va_end(ap);
}

void imap_bad(struct imap_session *s, const char *tag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_v(s, tag, "BAD", fmt, ap);
	va_end(ap);
	s->bad++;
}

void imap_no_store(struct imap_session *s, const char *tag, const char *what,
		   const struct err *err)
{
	switch (err->kind) {
	case ERR_NOTFOUND:
		imap_no(s, tag, "[NONEXISTENT] %s: %s", what, err->msg);
		break;
	case ERR_PEER:
		imap_no(s, tag, "[CANNOT] %s: %s", what, err->msg);
		break;
	case ERR_LIMIT:
		/* the store's quota errors carry SMTP's 5.2.2 (RFC 9208 7) */
		if (strcmp(err->esc, "5.2.2") == 0)
			imap_no(s, tag, "[OVERQUOTA] %s: %s", what, err->msg);
		else
			imap_no(s, tag, "[LIMIT] %s: %s", what, err->msg);
		break;
	default:
		log_error("imap", s->c->id, "store user=%s op=%s error=\"%s\"",
			  s->address, what, err->msg);
		imap_no(s, tag, "[UNAVAILABLE] %s failed, try again later", what);
		break;
	}
}

/* ---- the input loop --------------------------------------------------- */

static void parse_error(struct imap_session *s)
{
	const struct imap_parse_error *e = imap_parser_error(s->parser);
	char code[40] = "";
	if (e->code)
		snprintf(code, sizeof code, "[%s] ", e->code);
	if (e->close) {
		log_info("imap", s->c->id, "reject reason=\"%s\" ip=%s", e->err.msg, s->c->ip);
		imap_flush(s);
		net_conn_reply(s->c, "* BYE %s%s", code, e->err.msg);
		net_conn_close_after_flush(s->c);
		return;
	}
	imap_bad(s, e->tag, "%s%s", code, e->err.msg);
}

/* Feed what the connection has buffered to the reader; true if any was
 * taken. */
static bool feed(struct imap_session *s)
{
	struct evbuffer *in = net_conn_input(s->c);
	size_t avail = evbuffer_get_length(in);
	if (avail == 0)
		return false;
	size_t n = avail < IMAP_PARSE_WINDOW ? avail : IMAP_PARSE_WINDOW;
	unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)n);
	if (p == NULL)
		return false;
	size_t took = imap_parser_push(s->parser, p, n);
	evbuffer_drain(in, took);
	return took > 0;
}

static void on_input(struct net_conn *c)
{
	struct imap_session *s = c->proto;
	while (!c->closing && !c->busy && !c->starttls_pending) {
		if (net_conn_output_full(c)) {
			net_conn_pause_input(c);
			return;
		}
		if (s->bad >= IMAP_MAX_BAD) {
			log_info("imap", c->id, "reject reason=too_many_errors ip=%s", c->ip);
			net_conn_reply(c, "* BYE Too many invalid commands");
			net_conn_close_after_flush(c);
			return;
		}
		if (s->resume != NULL) {
			s->resume(s);
			imap_flush(s);
			if (s->resume != NULL) {
				net_conn_pause_input(c);
				return;
			}
			continue;
		}
		bool fed = feed(s);
		if (s->mode != IMAP_M_COMMAND) {
			struct span line;
			int rc = imap_parser_read_line(s->parser, &line);
			if (rc < 0) {
				parse_error(s);
				return;
			}
			if (rc == 0) {
				if (!fed)
					return;
				continue;
			}
			if (s->mode == IMAP_M_SASL)
				imap_sasl_response(s, line);
			else
				imap_idle_line(s, line);
			continue;
		}
		const struct imap_cmd *cmd;
		int rc = imap_parser_next(s->parser, &cmd);
		switch (rc) {
		case IMAP_PARSE_MORE:
			if (!fed)
				return;
			break;
		case IMAP_PARSE_ERROR:
			imap_append_reset(s);
			parse_error(s);
			if (c->closing)
				return;
			break;
		case IMAP_PARSE_CONTINUE:
			if (imap_literal_check(s, imap_parser_partial(s->parser),
					       imap_parser_literal(s->parser)) == 0)
				net_conn_reply(c, "+ OK");
			break;
		case IMAP_PARSE_LITERAL:
			imap_append_chunk(s, imap_parser_literal(s->parser));
			break;
		case IMAP_PARSE_COMMAND:
			imap_cmd_dispatch(s, cmd);
			imap_append_reset(s);
			imap_flush(s);
			break;
		default:
			return;
		}
	}
}

/* ---- store changes ---------------------------------------------------- */

/* On the committer thread: only note it and wake the loop. */
static void on_store_change(void *arg, int64_t mailbox_id, int64_t folder_id)
{
	(void)mailbox_id;
	struct imap_session *s = arg;
	if (folder_id == 0)
		return;
	atomic_store(&s->changed, true);
	event_active(s->watch_ev, EV_READ, 0);
}

/* On the worker: an idling client is told at once (RFC 2177); others
 * hear at their next command. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct imap_session *s = arg;
	if (s->mode == IMAP_M_IDLE && !s->c->busy && !s->c->closing &&
	    !s->c->peer_gone) {
		imap_sync(s, true);
		imap_flush(s);
	}
}

/* ---- login completion ------------------------------------------------- */

static void enter_auth(struct imap_session *s)
{
	struct net_conn *c = s->c;
	struct err err;
	/* counted here, on the worker, once the password is known good; a
	 * peer that went during the check never gets this far */
	if (!net_userlimit_acquire(s->srv->users, s->login.mailbox_id,
				   s->srv->cfg->imap_max_sessions_per_user)) {
		log_info("imap", c->id, "login user=%s ip=%s result=too_many_sessions",
			 s->login.address, c->ip);
		imap_no(s, s->tag, "[LIMIT] Too many sessions for this user");
		return;
	}
	s->mailbox_id = s->login.mailbox_id;
	s->user_counted = true;
	snprintf(s->address, sizeof s->address, "%s", s->login.address);
	if (store_watch(s->srv->store, s->mailbox_id, on_store_change, s,
			&s->watch, &err) != 0) {
		log_error("imap", c->id, "watch user=%s error=\"%s\"", s->address, err.msg);
		s->address[0] = '\0';
		net_userlimit_release(s->srv->users, s->mailbox_id);
		s->user_counted = false;
		imap_no(s, s->tag, "[UNAVAILABLE] Cannot open the mailbox, try again later");
		return;
	}
	s->state = IMAP_S_AUTH;
	net_conn_set_timeout(c, s->srv->cfg->imap_timeout);
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	lim.max_literal = s->srv->cfg->smtp_max_message_size;
	imap_parser_set_limits(s->parser, &lim);
	log_info("imap", c->id, "login user=%s ip=%s", s->address, c->ip);
	struct buf caps;
	buf_init(&caps, IMAP_OUT_MAX);
	imap_capability_text(s, &caps);
	imap_ok(s, s->tag, "[%.*s] Logged in", (int)caps.len, (const char *)caps.data);
	buf_release(&caps);
}

void imap_job_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct imap_session *s = arg;
	struct net_conn *c = s->c;
	s->login_busy = false;
	if (s->login.temp_fail) {
		if (!c->peer_gone)
			imap_no(s, s->tag, "[UNAVAILABLE] Temporary failure, try again later");
	} else if (!s->login.ok) {
		s->auth_failures++;
		log_info("imap", c->id, "login failed ip=%s failures=%u", c->ip,
			 s->auth_failures);
		struct timeval tv = { (time_t)s->login.delay, 0 };
		evtimer_add(s->delay_ev, &tv);
		sodium_memzero(s->login.password, sizeof s->login.password);
		return;		/* still busy until imap_delay_done */
	} else if (!c->peer_gone) {
		enter_auth(s);
	}
	sodium_memzero(s->login.password, sizeof s->login.password);
	(void)net_conn_done_busy(c);	/* false: peer gone and c freed */
}

void imap_delay_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct imap_session *s = arg;
	struct net_conn *c = s->c;
	if (!c->peer_gone) {
		if (s->login.app_password_required)
			imap_no(s, s->tag, "[AUTHENTICATIONFAILED] Use an app password: "
				"this domain requires two-factor authentication");
		else
			imap_no(s, s->tag, "[AUTHENTICATIONFAILED] Authentication failed");
		if (s->auth_failures >= AUTH_MAX_FAILURES) {
			net_conn_reply(c, "* BYE Too many failed logins");
			net_conn_close_after_flush(c);
		}
	}
	(void)net_conn_done_busy(c);
}

/* ---- connection events ------------------------------------------------ */

static bool on_open(struct net_conn *c, void *arg)
{
	struct imap_server *srv = arg;
	if (!net_conn_ip_acquire(c, srv->ips, srv->cfg->imap_max_connections_per_ip)) {
		log_info("imap", c->id, "reject ip=%s reason=too_many_imap_connections_from_ip",
			 c->ip);
		net_conn_reply(c, "%s", imap_proto.refuse_line);
		return false;
	}
	struct imap_session *s = xcalloc(1, sizeof *s);
	s->c = c;
	s->srv = srv;
	s->state = IMAP_S_NOTAUTH;
	s->wake_ev = event_new(c->w->base, -1, 0, imap_job_done, s);
	s->delay_ev = evtimer_new(c->w->base, imap_delay_done, s);
	s->watch_ev = event_new(c->w->base, -1, 0, on_watch, s);
	if (s->wake_ev == NULL || s->delay_ev == NULL || s->watch_ev == NULL) {
		if (s->wake_ev)
			event_free(s->wake_ev);
		if (s->delay_ev)
			event_free(s->delay_ev);
		if (s->watch_ev)
			event_free(s->watch_ev);
		free(s);
		net_conn_ip_release(c, srv->ips);
		return false;
	}
	struct imap_parse_limits lim;
	imap_parse_limits_preauth(&lim);
	s->parser = imap_parser_new(&lim);
	buf_init(&s->out, IMAP_OUT_MAX);
	buf_init(&s->literal, 0);
	c->proto = s;
	net_conn_set_timeout(c, srv->cfg->imap_preauth_timeout);
	imap_capability_text(s, &s->out);
	net_conn_reply(c, "* OK [%.*s] petrel ready", (int)s->out.len,
		       (const char *)s->out.data);
	buf_reset(&s->out);
	return true;
}

static void on_tls_ready(struct net_conn *c, bool after_starttls)
{
	struct imap_session *s = c->proto;
	if (after_starttls && s != NULL) {
		/* RFC 9051 6.2.1: forget what was learnt in clear */
		imap_parser_drop_pending(s->parser);
		s->mode = IMAP_M_COMMAND;
	}
}

static void on_timeout(struct net_conn *c)
{
	struct imap_session *s = c->proto;
	/* RFC 9051 5.4: the autologout timer */
	if (s != NULL && s->state == IMAP_S_NOTAUTH)
		net_conn_reply(c, "* BYE Autologout; no login in time");
	else
		net_conn_reply(c, "* BYE Autologout; idle for too long");
}

static void on_shutdown(struct net_conn *c)
{
	net_conn_reply(c, "* BYE [UNAVAILABLE] Server shutting down");
}

static void on_close(struct net_conn *c)
{
	struct imap_session *s = c->proto;
	if (s == NULL)
		return;
	log_info("imap", c->id, "disconnect ip=%s%s%s", c->ip,
		 s->address[0] ? " user=" : "", s->address);
	if (s->watch)
		store_unwatch(s->srv->store, &s->watch);
	if (s->user_counted)
		net_userlimit_release(s->srv->users, s->mailbox_id);
	net_conn_ip_release(c, s->srv->ips);	/* counted in on_open */
	event_free(s->wake_ev);
	event_free(s->delay_ev);
	event_free(s->watch_ev);
	imap_unselect(s);
	free(s->resume_state);
	imap_parser_free(&s->parser);
	buf_release(&s->out);
	imap_append_reset(s);
	sodium_memzero(&s->login, sizeof s->login);
	free(s);
	c->proto = NULL;
}

const struct net_proto imap_proto = {
	.name = "imap",
	.refuse_line = "* BYE [UNAVAILABLE] Too many connections, try again later",
	.open = on_open,
	.input = on_input,
	.tls_ready = on_tls_ready,
	.timeout = on_timeout,
	.shutdown = on_shutdown,
	.close = on_close,
};
