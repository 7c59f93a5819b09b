/* conn.c - the connection layer under SMTP, POP3 and IMAP: accept and
 * caps, bufferevents with read bounds, TLS (implicit and STARTTLS with
 * injection defence), timeouts, replies and closing after the last reply.
 * Protocol semantics stay in the protocol's folder. */
#include "net/conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <sodium.h>

#include "core/config.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/net.h"
#include "net/net_private.h"

/* Under a filter (COMPRESS): what the transport may hold before the
 * filter keeps the rest in its own output, where net_conn_output_full()
 * sees it. */
#define NET_FILTER_TRANSPORT_OUT (64 * 1024)

/* The bufferevent on the socket or TLS: c->bev, or the one under the
 * compression filter. Timeouts and TLS errors live there. */
static struct bufferevent *transport(struct net_conn *c)
{
	if (!c->compressed)
		return c->bev;
	return bufferevent_get_underlying(c->bev);
}

void net_limits_init(struct net_limits *l, unsigned max_connections,
		     unsigned max_per_ip, bool limit_loopback)
{
	l->max_connections = max_connections;
	l->max_per_ip = max_per_ip;
	l->limit_loopback = limit_loopback;
	atomic_init(&l->connections, 0);
	l->iplimit = net_iplimit_new(max_connections);
	l->keepalive_idle = l->keepalive_intvl = l->keepalive_cnt = 0;
	l->ranges = NULL;
	l->n_ranges = 0;
}

void net_limits_set_ranges(struct net_limits *l,
			   const struct cfg_ip_ranges *ranges)
{
	free(l->ranges);
	l->ranges = NULL;
	l->n_ranges = ranges->n;
	if (ranges->n == 0)
		return;
	l->ranges = xcalloc(ranges->n, sizeof *l->ranges);
	memcpy(l->ranges, ranges->r, ranges->n * sizeof *l->ranges);
}

unsigned net_limits_per_ip(const struct net_limits *l,
			   const struct sockaddr *sa)
{
	unsigned char k[16];
	if (l->n_ranges == 0 || !net_addr_key(sa, k))
		return l->max_per_ip;
	const struct cfg_ip_range *r = cfg_ip_range_find(l->ranges, l->n_ranges, k);
	return r ? r->limit : l->max_per_ip;
}

void net_limits_set_keepalive(struct net_limits *l, unsigned idle,
			      unsigned timeout)
{
	if (idle == 0 || timeout == 0) {
		l->keepalive_idle = l->keepalive_intvl = l->keepalive_cnt = 0;
		return;
	}
	/* fewer probes than seconds: each interval is at least 1 s */
	unsigned cnt = timeout < NET_KEEPALIVE_PROBES ? timeout : NET_KEEPALIVE_PROBES;
	l->keepalive_idle = idle;
	l->keepalive_cnt = cnt;
	l->keepalive_intvl = (timeout + cnt - 1) / cnt;
}

/* A failure only costs the early drop of dead peers: log and go on. */
static void set_keepalive(const struct net_limits *l, int fd,
			  const char *proto, const char *ip)
{
	if (l->keepalive_idle == 0)
		return;
	int on = 1, idle = (int)l->keepalive_idle, intvl = (int)l->keepalive_intvl,
	    cnt = (int)l->keepalive_cnt;
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0)
		log_debug(proto, NULL, "TCP keep-alive failed ip=%s", ip);
}

void net_limits_release(struct net_limits *l)
{
	net_iplimit_free(&l->iplimit);
	free(l->ranges);
	l->ranges = NULL;
	l->n_ranges = 0;
}

void net_worker_init(struct net_worker *w, struct event_base *base,
		     void (*on_idle)(void *arg), void *arg)
{
	memset(w, 0, sizeof *w);
	w->base = base;
	w->on_idle = on_idle;
	w->idle_arg = arg;
}

static void conn_free(struct net_conn *c)
{
	struct net_worker *w = c->w;
	if (c->proto_ops->close)
		c->proto_ops->close(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->n_conns--;
	atomic_fetch_sub(&c->limits->connections, 1);
	if (c->ip_counted)
		net_iplimit_release(c->limits->iplimit, (struct sockaddr *)&c->addr);
	if (c->bev)
		bufferevent_free(c->bev);
	if (!c->bev_owns_fd && c->fd >= 0)
		close(c->fd);
	SSL_CTX_free(c->tls_ctx);
	free(c);
	if (w->shutting_down && w->n_conns == 0 && w->on_idle)
		w->on_idle(w->idle_arg);
}

static bool limits_exempt(const struct net_limits *l,
			  const struct sockaddr *sa)
{
	return !l->limit_loopback && net_addr_is_loopback(sa);
}

static bool ip_exempt(const struct net_conn *c)
{
	return limits_exempt(c->limits, (const struct sockaddr *)&c->addr);
}

int net_limits_admit(struct net_limits *l, const struct sockaddr *sa,
		     unsigned *max)
{
	*max = 0;
	if (limits_exempt(l, sa))
		return 0;
	*max = net_limits_per_ip(l, sa);
	return net_iplimit_acquire(l->iplimit, sa, *max) ? 1 : -1;
}

bool net_conn_ip_acquire(struct net_conn *c, struct net_iplimit *l,
			 unsigned max)
{
	if (ip_exempt(c))
		return true;
	return net_iplimit_acquire(l, (const struct sockaddr *)&c->addr, max);
}

void net_conn_ip_release(struct net_conn *c, struct net_iplimit *l)
{
	/* the same test as at acquire: limit_loopback and the address do not
	 * change while the connection lives */
	if (!ip_exempt(c))
		net_iplimit_release(l, (const struct sockaddr *)&c->addr);
}

void net_conn_reply(struct net_conn *c, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void net_conn_write(struct net_conn *c, const void *data, size_t len)
{
	evbuffer_add(bufferevent_get_output(c->bev), data, len);
}

int net_conn_write_reference(struct net_conn *c, const void *data, size_t len,
			     void (*cleanup)(const void *data, size_t len,
					     void *arg),
			     void *arg)
{
	return evbuffer_add_reference(bufferevent_get_output(c->bev), data, len,
				      cleanup, arg);
}

void net_conn_pause_input(struct net_conn *c)
{
	bufferevent_disable(c->bev, EV_READ);
}

bool net_conn_output_full(struct net_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) > NET_MAX_OUTPUT;
}

struct evbuffer *net_conn_input(struct net_conn *c)
{
	return bufferevent_get_input(c->bev);
}

int net_conn_getline(struct net_conn *c, size_t max, struct span *line_out,
		     size_t *used_out)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail = evbuffer_get_length(in);
	if (avail == 0)
		return 0;
	/* Search only as far as a line may reach: the buffer is bounded by
	 * the high-water mark, and this keeps each call O(max). */
	struct evbuffer_ptr end;
	if (evbuffer_ptr_set(in, &end, avail < max + 2 ? avail : max + 2,
			     EVBUFFER_PTR_SET) != 0)
		return 0;
	struct evbuffer_ptr nl = evbuffer_search_range(in, "\n", 1, NULL, &end);
	if (nl.pos < 0)
		return avail <= max + 1 ? 0 : -1;
	size_t used = (size_t)nl.pos + 1;
	unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)used);
	size_t len = used - 1;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	*line_out = span_make(p, len);
	*used_out = used;
	return len > max ? -1 : 1;
}

void net_conn_set_timeout(struct net_conn *c, unsigned seconds)
{
	c->timeout = seconds;
	struct timeval tv = { (time_t)seconds, 0 };
	bufferevent_set_timeouts(transport(c), &tv, &tv);
}

void net_conn_close_after_flush(struct net_conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/* Freed from writecb once the reply has gone out; never here, as
	 * callers are still using c. Under a filter, what the transport
	 * still holds calls writecb again when it drains. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(transport(c))) == 0)
		bufferevent_trigger(c->bev, EV_WRITE,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void net_conn_starttls(struct net_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->starttls_pending = true;
	bufferevent_disable(c->bev, EV_READ);
}

void net_conn_set_busy(struct net_conn *c)
{
	c->busy = true;
	bufferevent_disable(c->bev, EV_READ);
}

/* A filter takes input from the transport only when the transport
 * reads, stops at its read bound, and may hand the protocol more than it
 * takes in one go: while the protocol makes progress, run it again on
 * what is left, then have the filter take what the transport still
 * holds. before: the filter's input length before input() ran. */
static void filter_kick(struct net_conn *c, size_t before)
{
	if (!c->compressed || c->closing || c->starttls_pending || c->busy ||
	    !(bufferevent_get_enabled(c->bev) & EV_READ))
		return;
	size_t held = evbuffer_get_length(bufferevent_get_input(c->bev));
	if (held > 0 && held < before) {
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
				    BEV_TRIG_DEFER_CALLBACKS);
		return;
	}
	struct bufferevent *t = transport(c);
	if (evbuffer_get_length(bufferevent_get_input(t)) == 0 ||
	    held >= NET_READ_HIGHWATER)
		return;
	bufferevent_trigger(t, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
}

void net_conn_resume(struct net_conn *c)
{
	if (c->closing || c->starttls_pending || c->busy)
		return;
	bufferevent_enable(c->bev, EV_READ);
	size_t before = evbuffer_get_length(bufferevent_get_input(c->bev));
	c->proto_ops->input(c);
	filter_kick(c, before);
}

bool net_conn_done_busy(struct net_conn *c)
{
	c->busy = false;
	if (c->peer_gone) {
		conn_free(c);
		return false;
	}
	if (c->w->shutting_down && !c->closing) {
		c->proto_ops->shutdown(c);
		net_conn_close_after_flush(c);
		return true;
	}
	net_conn_resume(c);
	return true;
}

static void readcb(struct bufferevent *bev, void *arg)
{
	struct net_conn *c = arg;
	if (!c->closing && !c->busy && !c->starttls_pending) {
		size_t before = evbuffer_get_length(bufferevent_get_input(bev));
		c->proto_ops->input(c);
		filter_kick(c, before);
	}
}

static void start_tls(struct net_conn *c);

static void writecb(struct bufferevent *bev, void *arg)
{
	struct net_conn *c = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(transport(c))) != 0)
			return;	/* transport_drained() calls again */
		conn_free(c);
		return;
	}
	if (c->starttls_pending) {
		start_tls(c);
		return;
	}
	/* output drained below the limit: read commands again */
	if (!c->busy && !(bufferevent_get_enabled(bev) & EV_READ))
		net_conn_resume(c);
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct net_conn *c = arg;
	const char *sub = c->proto_ops->name;
	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		if (ssl)
			net_tls_describe(ssl, c->tls_desc, sizeof c->tls_desc);
		log_info(sub, c->id, "tls ip=%s %s", c->ip, c->tls_desc);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_info(sub, c->id, "timeout ip=%s", c->ip);
		if (c->busy)
			return;		/* the work decides; then we go on */
		if (c->closing) {
			conn_free(c);
			return;
		}
		c->proto_ops->timeout(c);
		net_conn_close_after_flush(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (what & BEV_EVENT_ERROR) {
			unsigned long e = c->compressed
				? bufferevent_get_openssl_error(transport(c))
				: bufferevent_get_openssl_error(bev);
			if (e) {
				char msg[160];
				ERR_error_string_n(e, msg, sizeof msg);
				log_info(sub, c->id, "tls_error ip=%s error=\"%s\"", c->ip, msg);
			}
		}
		if (c->busy) {
			c->peer_gone = true;	/* freed when the work is done */
			bufferevent_disable(bev, EV_READ | EV_WRITE);
			return;
		}
		conn_free(c);
	}
}

static void attach_bev(struct net_conn *c, struct bufferevent *bev)
{
	c->bev = bev;
	bufferevent_setcb(bev, readcb, writecb, eventcb, c);
	bufferevent_setwatermark(bev, EV_READ, 0, NET_READ_HIGHWATER);
	net_conn_set_timeout(c, c->timeout);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* The transport under a filter has sent all it held: if the connection
 * is closing, writecb may now free it. */
static void transport_drained(struct evbuffer *buf,
			      const struct evbuffer_cb_info *info, void *arg)
{
	struct net_conn *c = arg;
	if (info->n_deleted == 0 || evbuffer_get_length(buf) != 0 || !c->closing)
		return;
	bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
}

int net_conn_push_filter(struct net_conn *c, bufferevent_filter_cb in,
			 bufferevent_filter_cb out, void (*free_ctx)(void *),
			 void *ctx)
{
	if (c->compressed || c->starttls_pending) {
		free_ctx(ctx);
		return -1;
	}
	struct bufferevent *t = c->bev;
	struct evbuffer_cb_entry *drained = evbuffer_add_cb(
		bufferevent_get_output(t), transport_drained, c);
	if (drained == NULL) {
		free_ctx(ctx);
		return -1;
	}
	/* Deferred callbacks: the filter runs inside net_conn_write(), and
	 * writecb must not free c or read commands under its caller. With
	 * them libevent calls readcb again while the input stays at the read
	 * bound: a protocol that does not take its input pauses reading (as
	 * every one does when busy or when its output is full). */
	struct bufferevent *f = bufferevent_filter_new(
		t, in, out, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
		free_ctx, ctx);
	if (f == NULL) {
		evbuffer_remove_cb_entry(bufferevent_get_output(t), drained);
		free_ctx(ctx);
		return -1;
	}
	bufferevent_setwatermark(t, EV_WRITE, 0, NET_FILTER_TRANSPORT_OUT);
	c->bev = f;
	c->compressed = true;
	bufferevent_setcb(f, readcb, writecb, eventcb, c);
	bufferevent_setwatermark(f, EV_READ, 0, NET_READ_HIGHWATER);
	bufferevent_enable(f, EV_READ | EV_WRITE);
	return 0;
}

static struct bufferevent *tls_bev(struct net_conn *c)
{
	SSL *ssl = SSL_new(c->tls_ctx);
	if (ssl == NULL)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		c->w->base, c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Many clients close without close_notify; the protocols have their
	 * own end (QUIT, LOGOUT), so that is not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->bev_owns_fd = true;
	c->tls = true;
	return bev;
}

static void start_tls(struct net_conn *c)
{
	/* The plain bufferevent does not own the socket: free it with any
	 * clear-text input it still holds, and put TLS on the same fd. */
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->starttls_pending = false;
	struct bufferevent *bev = tls_bev(c);
	if (bev == NULL) {
		log_error(c->proto_ops->name, c->id, "tls setup failed ip=%s", c->ip);
		conn_free(c);
		return;
	}
	attach_bev(c, bev);
	if (c->proto_ops->tls_ready)
		c->proto_ops->tls_ready(c, true);
}

static void reject_now(int fd, const char *line)
{
	/* Best effort on a socket we are about to close: the peer may not
	 * read it, and a short write changes nothing. */
	struct iovec iov[2] = { { (void *)(uintptr_t)line, strlen(line) },
				{ (void *)(uintptr_t)"\r\n", 2 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t w = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)w;
	close(fd);
}

void net_conn_accept(struct net_worker *w, struct net_limits *limits,
		     const struct net_proto *ops, void *open_arg,
		     SSL_CTX *tls_ctx, bool implicit_tls, int fd,
		     const struct sockaddr *sa, socklen_t salen)
{
	char ip[64];
	int port;
	net_addr_text(sa, ip, sizeof ip, &port);
	unsigned now = atomic_fetch_add(&limits->connections, 1) + 1;
	if (w->shutting_down || now > limits->max_connections) {
		atomic_fetch_sub(&limits->connections, 1);
		log_info(ops->name, NULL, "reject ip=%s reason=too_many_connections", ip);
		reject_now(fd, ops->refuse_line);
		return;
	}
	unsigned per_ip;
	int admit = net_limits_admit(limits, sa, &per_ip);
	if (admit < 0) {
		atomic_fetch_sub(&limits->connections, 1);
		log_info(ops->name, NULL,
			 "reject ip=%s reason=too_many_connections_from_ip max=%u",
			 ip, per_ip);
		reject_now(fd, ops->refuse_line);
		return;
	}
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		/* Replies are whole lines written at once; Nagle would hold
		 * each behind the peer's delayed ACK (40 ms per round trip). */
		int one = 1;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
			log_debug(ops->name, NULL, "TCP_NODELAY failed ip=%s", ip);
		set_keepalive(limits, fd, ops->name, ip);
	}
	struct net_conn *c = xcalloc(1, sizeof *c);
	c->w = w;
	c->proto_ops = ops;
	c->limits = limits;
	/* Our own reference: a reload may drop the daemon's before a
	 * STARTTLS comes. */
	if (tls_ctx != NULL && SSL_CTX_up_ref(tls_ctx) == 1)
		c->tls_ctx = tls_ctx;
	c->fd = fd;
	c->ip_counted = admit > 0;
	c->timeout = 300;
	/* accept() never returns more than a sockaddr_storage */
	memcpy(&c->addr, sa, salen < (socklen_t)sizeof c->addr ? salen
							: (socklen_t)sizeof c->addr);
	snprintf(c->ip, sizeof c->ip, "%s", ip);
	c->port = port;
	unsigned char rnd[6];
	randombytes_buf(rnd, sizeof rnd);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(c->id + 2 * i, 3, "%02x", rnd[i]);

	struct bufferevent *bev = NULL;
	if (!(implicit_tls && c->tls_ctx == NULL))
		bev = implicit_tls ? tls_bev(c) : bufferevent_socket_new(w->base, fd, 0);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->n_conns++;
	if (bev == NULL) {
		log_error(ops->name, c->id, "cannot set up connection ip=%s", ip);
		conn_free(c);
		return;
	}
	log_info(ops->name, c->id, "connect ip=%s port=%d%s", ip, port,
		 implicit_tls ? " tls=implicit" : "");
	attach_bev(c, bev);
	if (!ops->open(c, open_arg)) {
		c->proto = NULL;
		net_conn_close_after_flush(c);
	}
}

void net_worker_shutdown(struct net_worker *w)
{
	w->shutting_down = true;
	struct net_conn *c = w->conns, *next;
	for (; c != NULL; c = next) {
		next = c->next;
		if (c->busy || c->closing)
			continue;
		c->proto_ops->shutdown(c);
		net_conn_close_after_flush(c);
	}
	if (w->n_conns == 0 && w->on_idle)
		w->on_idle(w->idle_arg);
}
