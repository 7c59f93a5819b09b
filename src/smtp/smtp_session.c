/* smtp_session.c - SMTP session life cycle on a worker's event loop:
 * accept, TLS, reading commands and bodies with bounds, replies,
 * timeouts, close. Command semantics are in smtp_cmd.c and the
 * hand-off to the store in smtp_deliver.c. */
#include "smtp/smtp_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <sodium.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/net.h"

/* Input held before we stop reading from the socket. Commands are bounded
 * by smtp_max_line on top of this; bodies are consumed as they come. */
#define SMTP_READ_HIGHWATER (256 * 1024)

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
	atomic_init(&srv->connections, 0);
	srv->iplimit = net_iplimit_new(cfg->max_connections);
	return srv;
}

void smtp_server_free(struct smtp_server **sp)
{
	if (*sp)
		net_iplimit_free(&(*sp)->iplimit);
	free(*sp);
	*sp = NULL;
}

struct smtp_worker *smtp_worker_new(struct smtp_server *srv,
				    struct event_base *base,
				    void (*on_idle)(void *arg), void *arg)
{
	struct smtp_worker *w = xcalloc(1, sizeof *w);
	w->srv = srv;
	w->base = base;
	w->on_idle = on_idle;
	w->idle_arg = arg;
	return w;
}

void smtp_worker_free(struct smtp_worker **wp)
{
	free(*wp);
	*wp = NULL;
}

size_t smtp_worker_sessions(const struct smtp_worker *w)
{
	return w->n_sessions;
}

void smtp_session_free(struct smtp_session *s)
{
	struct smtp_worker *w = s->w;
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
	log_info("smtp", s->id, "disconnect ip=%s%s unknown=%u commands=%u",
		 s->ip, counts, s->count[0], total + s->count[0]);

	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	w->n_sessions--;
	atomic_fetch_sub(&w->srv->connections, 1);
	if (s->ip_counted)
		net_iplimit_release(w->srv->iplimit, (struct sockaddr *)&s->addr);

	if (s->bev)
		bufferevent_free(s->bev);
	if (!s->bev_owns_fd && s->fd >= 0)
		close(s->fd);
	if (s->commit_ev)
		event_free(s->commit_ev);
	buf_release(&s->msg);
	free(s->rcpts);
	free(s->mailbox_ids);
	free(s);

	if (w->shutting_down && w->n_sessions == 0 && w->on_idle)
		w->on_idle(w->idle_arg);
}

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void smtp_reply_err(struct smtp_session *s, const struct err *err)
{
	int code = err->reply ? err->reply : 451;
	const char *esc = err->esc[0] ? err->esc : (code >= 500 ? "5.0.0" : "4.0.0");
	smtp_reply(s, "%d %s %s", code, esc, err->msg[0] ? err->msg : "Error");
}

void smtp_close_after_flush(struct smtp_session *s)
{
	s->state = SMTP_S_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	/* Freed from writecb once the reply has gone out; never here, as
	 * callers are still using s. */
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		bufferevent_trigger(s->bev, EV_WRITE,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void smtp_tx_reset(struct smtp_session *s)
{
	s->has_mail = false;
	memset(&s->from, 0, sizeof s->from);
	memset(&s->mail, 0, sizeof s->mail);
	s->n_rcpts = 0;
	s->n_mailboxes = 0;
	buf_reset(&s->msg);
	s->trace_len = 0;
	s->bdat_active = false;
	s->bdat_discard = false;
	s->bdat_last = false;
	s->bdat_left = 0;
}

static bool output_full(struct smtp_session *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev)) > NET_MAX_OUTPUT;
}

/* One command line: bounded by smtp_max_line. Returns false when it needs
 * more input. */
static bool read_command(struct smtp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t avail = evbuffer_get_length(in);
	size_t max = s->w->srv->cfg->smtp_max_line;
	if (avail == 0)
		return false;
	struct evbuffer_ptr end;
	if (evbuffer_ptr_set(in, &end, avail < max + 2 ? avail : max + 2,
			     EVBUFFER_PTR_SET) != 0)
		return false;
	struct evbuffer_ptr nl = evbuffer_search_range(in, "\n", 1, NULL, &end);
	if (nl.pos < 0) {
		if (avail <= max + 1)
			return false;
		/* No line end within the limit: we cannot find where the next
		 * command starts without reading unbounded input, so end the
		 * session (RFC 5321 4.5.3.1.4 allows the 500). */
		s->errors++;
		log_info("smtp", s->id, "reject reason=line_too_long ip=%s", s->ip);
		smtp_reply(s, "500 5.5.2 Line too long (limit %zu bytes)", max);
		smtp_close_after_flush(s);
		return false;
	}
	size_t used = (size_t)nl.pos + 1;
	unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)used);
	size_t len = used - 1;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > max) {
		evbuffer_drain(in, used);
		s->errors++;
		smtp_reply(s, "500 5.5.2 Line too long (limit %zu bytes)", max);
		return true;
	}
	smtp_cmd_dispatch(s, span_make(p, len));
	/* The handler may have freed nothing (sessions are freed only from
	 * callbacks) but may have changed state; the line is still ours. */
	evbuffer_drain(in, used);
	if (s->state == SMTP_S_STARTTLS) {
		/* RFC 3207 5 / CVE-2011-0411: anything pipelined after STARTTLS
		 * was sent in clear and must not be read as TLS-protected. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return false;
	}
	if (s->state != SMTP_S_CLOSING && s->errors >= s->w->srv->cfg->smtp_max_errors) {
		log_info("smtp", s->id, "reject reason=too_many_errors ip=%s", s->ip);
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing connection",
			   s->w->srv->cfg->hostname);
		smtp_close_after_flush(s);
		return false;
	}
	return s->state != SMTP_S_CLOSING;
}

static bool read_data(struct smtp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
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
	struct evbuffer *in = bufferevent_get_input(s->bev);
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
	smtp_set_timeout(s, s->w->srv->cfg->smtp_command_timeout);
	if (s->bdat_discard) {
		/* RFC 3030 2: a rejected BDAT's chunk is still read, then the
		 * error is given and the transaction is over. */
		smtp_reply_err(s, &s->bdat_err);
		smtp_tx_reset(s);
		return true;
	}
	if (!s->bdat_last) {
		smtp_reply(s, "250 2.0.0 %llu octets received",
			   (unsigned long long)s->data.size);
		return true;
	}
	smtp_data_bdat_end(&s->data);
	smtp_msg_finish(s);
	return s->state == SMTP_S_CMD;
}

static void process(struct smtp_session *s)
{
	for (;;) {
		if (output_full(s)) {
			/* The client does not read its replies: stop reading its
			 * commands until it does (writecb resumes). */
			bufferevent_disable(s->bev, EV_READ);
			return;
		}
		bool more;
		switch (s->state) {
		case SMTP_S_CMD: more = read_command(s); break;
		case SMTP_S_DATA: more = read_data(s); break;
		case SMTP_S_BDAT: more = read_bdat(s); break;
		default: more = false; break;
		}
		if (!more)
			return;
	}
}

void smtp_session_resume(struct smtp_session *s)
{
	bufferevent_enable(s->bev, EV_READ);
	process(s);
}

static void readcb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process(arg);
}

static void start_tls(struct smtp_session *s);

static void writecb(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	switch (s->state) {
	case SMTP_S_CLOSING:
		smtp_session_free(s);
		return;
	case SMTP_S_STARTTLS:
		start_tls(s);
		return;
	case SMTP_S_CMD:
	case SMTP_S_DATA:
	case SMTP_S_BDAT:
		if (!(bufferevent_get_enabled(bev) & EV_READ)) {
			bufferevent_enable(bev, EV_READ);
			process(s);
		}
		return;
	case SMTP_S_COMMIT:
		return;
	}
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;
	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake finished (implicit TLS or after STARTTLS) */
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		if (ssl)
			net_tls_describe(ssl, s->tls_desc, sizeof s->tls_desc);
		log_info("smtp", s->id, "tls ip=%s %s", s->ip, s->tls_desc);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_info("smtp", s->id, "timeout ip=%s state=%d", s->ip, (int)s->state);
		if (s->state == SMTP_S_COMMIT)
			return;		/* the store decides; then we go on */
		if (s->state == SMTP_S_CLOSING) {
			smtp_session_free(s);
			return;
		}
		smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded",
			   s->w->srv->cfg->hostname);
		smtp_close_after_flush(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (what & BEV_EVENT_ERROR) {
			unsigned long e = bufferevent_get_openssl_error(bev);
			if (e) {
				char msg[160];
				ERR_error_string_n(e, msg, sizeof msg);
				log_info("smtp", s->id, "tls_error ip=%s error=\"%s\"", s->ip, msg);
			}
		}
		if (s->state == SMTP_S_COMMIT) {
			s->peer_gone = true;	/* freed when the commit is done */
			bufferevent_disable(bev, EV_READ | EV_WRITE);
			return;
		}
		if (s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT)
			log_info("smtp", s->id, "lost ip=%s in=%s", s->ip,
				 s->state == SMTP_S_DATA ? "data" : "bdat");
		smtp_session_free(s);
	}
}

void smtp_set_timeout(struct smtp_session *s, unsigned seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };
	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

static void attach_bev(struct smtp_session *s, struct bufferevent *bev)
{
	s->bev = bev;
	bufferevent_setcb(bev, readcb, writecb, eventcb, s);
	bufferevent_setwatermark(bev, EV_READ, 0, SMTP_READ_HIGHWATER);
	smtp_set_timeout(s, s->w->srv->cfg->smtp_command_timeout);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static struct bufferevent *tls_bev(struct smtp_session *s)
{
	SSL *ssl = SSL_new(s->w->srv->tls);
	if (ssl == NULL)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		s->w->base, s->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Many clients close without close_notify; that is not an error for
	 * SMTP, where the protocol has its own end (QUIT). */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	s->bev_owns_fd = true;
	s->tls = true;
	return bev;
}

static void start_tls(struct smtp_session *s)
{
	/* The plain bufferevent does not own the socket; free it (and any
	 * clear-text input it still holds) and put TLS on the same fd. */
	bufferevent_free(s->bev);
	s->bev = NULL;
	struct bufferevent *bev = tls_bev(s);
	if (bev == NULL) {
		log_error("smtp", s->id, "tls setup failed ip=%s", s->ip);
		smtp_session_free(s);
		return;
	}
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	s->helo_done = false;
	s->esmtp = false;
	s->helo[0] = '\0';
	smtp_tx_reset(s);
	s->state = SMTP_S_CMD;
	attach_bev(s, bev);
}

void smtp_starttls_begin(struct smtp_session *s)
{
	s->state = SMTP_S_STARTTLS;
	bufferevent_disable(s->bev, EV_READ);
}

static void reject_now(int fd, const char *line)
{
	/* Best effort on a socket we are about to close: the peer may not
	 * read it, and a short write changes nothing. */
	ssize_t w = send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)w;
	close(fd);
}

void smtp_worker_accept(struct smtp_worker *w, int fd,
			const struct sockaddr *sa, socklen_t salen,
			bool implicit_tls)
{
	const struct config *cfg = w->srv->cfg;
	unsigned now = atomic_fetch_add(&w->srv->connections, 1) + 1;
	if (w->shutting_down || now > cfg->max_connections) {
		atomic_fetch_sub(&w->srv->connections, 1);
		reject_now(fd, "421 4.7.0 Too many connections, try again later\r\n");
		return;
	}
	bool exempt = !cfg->limit_loopback && net_addr_is_loopback(sa);
	if (!exempt && !net_iplimit_acquire(w->srv->iplimit, sa,
					    cfg->max_connections_per_ip)) {
		atomic_fetch_sub(&w->srv->connections, 1);
		char ip[64];
		int port;
		net_addr_text(sa, ip, sizeof ip, &port);
		log_info("smtp", NULL, "reject ip=%s reason=too_many_connections_from_ip", ip);
		reject_now(fd, "421 4.7.0 Too many connections from your address, try again later\r\n");
		return;
	}
	if (implicit_tls && w->srv->tls == NULL) {
		if (!exempt)
			net_iplimit_release(w->srv->iplimit, sa);
		atomic_fetch_sub(&w->srv->connections, 1);
		close(fd);
		return;
	}
	struct smtp_session *s = xcalloc(1, sizeof *s);
	s->w = w;
	s->fd = fd;
	s->ip_counted = !exempt;
	/* accept() never returns more than a sockaddr_storage */
	memcpy(&s->addr, sa, salen < (socklen_t)sizeof s->addr ? salen
							: (socklen_t)sizeof s->addr);
	unsigned char rnd[6];
	randombytes_buf(rnd, sizeof rnd);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	net_addr_text(sa, s->ip, sizeof s->ip, &s->port);
	buf_init(&s->msg, 0);
	s->commit_ev = event_new(w->base, -1, 0, smtp_commit_done, s);

	struct bufferevent *bev = implicit_tls ? tls_bev(s)
		: bufferevent_socket_new(w->base, fd, 0);
	if (bev == NULL || s->commit_ev == NULL) {
		log_error("smtp", s->id, "cannot set up session ip=%s", s->ip);
		if (bev)
			bufferevent_free(bev);
		if (s->commit_ev)
			event_free(s->commit_ev);
		if (!s->bev_owns_fd)
			close(fd);
		if (s->ip_counted)
			net_iplimit_release(w->srv->iplimit, sa);
		free(s);
		atomic_fetch_sub(&w->srv->connections, 1);
		return;
	}
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->n_sessions++;
	log_info("smtp", s->id, "connect ip=%s port=%d%s", s->ip, s->port,
		 implicit_tls ? " tls=implicit" : "");
	attach_bev(s, bev);
	smtp_reply(s, "220 %s ESMTP petrel", cfg->hostname);
}

void smtp_worker_shutdown(struct smtp_worker *w)
{
	w->shutting_down = true;
	struct smtp_session *s = w->sessions, *next;
	for (; s != NULL; s = next) {
		next = s->next;
		if (s->state == SMTP_S_COMMIT || s->state == SMTP_S_CLOSING)
			continue;
		smtp_reply(s, "421 4.3.2 %s Service shutting down",
			   w->srv->cfg->hostname);
		smtp_close_after_flush(s);
	}
	if (w->n_sessions == 0 && w->on_idle)
		w->on_idle(w->idle_arg);
}
