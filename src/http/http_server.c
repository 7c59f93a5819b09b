/* http_server.c - the transport of the admin API: libevent's evhttp on a
 * thread and event base of its own, HTTPS through bufferevent_openssl
 * with the daemon's (reloadable) certificate, or plain HTTP when
 * admin_plaintext says so. It copies what the dispatcher needs out of the
 * evhttp request and sends the response back; everything else is in
 * http_api.c. Header size, body size, timeouts and the number of open
 * connections are bounded here. */
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "core/config.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/http_private.h"
#include "net/conn.h"
#include "net/net.h"
#include "net/tls_ref.h"

/* One connection's bookkeeping, from its bufferevent to its close. */
struct http_conn {
	struct http_server *srv;
	bool tls;		/* released by its SSL object's end */
	bool counted;		/* holds a place in limits->iplimit */
	struct sockaddr_storage addr;
};

/* A connection not yet seen on the loop's next turn. */
struct pending {
	struct bufferevent *bev;	/* a reference of ours */
	struct http_conn *conn;
};

struct http_server {
	pthread_t thread;
	bool running;
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	struct http_api *api;
	struct net_tls_ref *tls;
	const char *what;	/* "admin" or "autoconfig", for the log */
	/* the daemon's caps per client address, shared with the mail
	 * listeners (NULL: none) */
	struct net_limits *limits;
	/* new connections, seen on the loop's next turn, when evhttp has
	 * given them their socket: checked against the per-address cap,
	 * and plain ones given a close callback */
	struct event *adopt_ev;
	struct pending *pending;
	size_t npending, pending_cap;
	/* open connections (counted through the lives of their SSL objects,
	 * or evhttp's close callbacks on plain HTTP); at the cap the
	 * listeners pause; only the server thread touches */
	unsigned nconn;
	bool paused, stopping;
	struct evconnlistener *listeners[CFG_MAX_LISTEN];
	size_t nlisteners;
};

/* SSL ex_data slot whose free callback tells us a connection is gone:
 * evhttp frees the bufferevent, which frees the SSL object. */
static int conn_idx = -1;
static pthread_once_t conn_idx_once = PTHREAD_ONCE_INIT;

static void set_paused(struct http_server *srv, bool pause)
{
	if (srv->paused == pause || srv->stopping)
		return;
	srv->paused = pause;
	for (size_t i = 0; i < srv->nlisteners; i++)
		if (pause)
			evconnlistener_disable(srv->listeners[i]);
		else
			evconnlistener_enable(srv->listeners[i]);
	if (pause)
		log_warn("http", NULL, "%s connections at the cap max=%d; "
			 "new ones wait", srv->what, HTTP_MAX_CONNECTIONS);
}

static void conn_closed(struct http_server *srv)
{
	srv->nconn--;
	if (srv->nconn < HTTP_MAX_CONNECTIONS)
		set_paused(srv, false);
}

static void conn_opened(struct http_server *srv)
{
	if (++srv->nconn >= HTTP_MAX_CONNECTIONS)
		set_paused(srv, true);
}

/* A connection is gone: its places under both caps are free. */
static void conn_release(struct http_conn *c)
{
	if (c->counted)
		net_iplimit_release(c->srv->limits->iplimit,
				    (const struct sockaddr *)&c->addr);
	conn_closed(c->srv);
	free(c);
}

static void conn_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		      long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr != NULL)
		conn_release(ptr);
}

/* Take a place for the client under max_connections_per_ip (and its
 * ranges), counted with the mail listeners' connections (the same
 * net_limits_admit). false: the address is at its cap. */
static bool ip_admit(struct http_server *srv, struct bufferevent *bev,
		     struct http_conn *c)
{
	socklen_t len = sizeof c->addr;
	evutil_socket_t fd = bufferevent_getfd(bev);
	unsigned max;

	if (srv->limits == NULL || fd < 0 ||
	    getpeername(fd, (struct sockaddr *)&c->addr, &len) != 0)
		return true;
	const struct sockaddr *sa = (const struct sockaddr *)&c->addr;
	int admit = net_limits_admit(srv->limits, sa, &max);
	if (admit < 0) {
		char ip[64];
		int port;
		net_addr_text(sa, ip, sizeof ip, &port);
		log_info("http", NULL, "%s reject ip=%s "
			 "reason=too_many_connections_from_ip max=%u",
			 srv->what, ip, max);
		return false;
	}
	c->counted = admit > 0;
	return true;
}

/* evhttp makes a connection's bufferevent (on_new_conn) before it has a
 * socket, and the connection itself after. So the new bufferevent is
 * held (a reference) until the loop's next turn, when the connection
 * exists and its client's address is known: a client past its
 * address's cap is closed then, before a byte is read (the mail
 * listeners refuse the same way). And plain HTTP, whose socket
 * bufferevent evhttp frees with no hook to see it go, gets a close
 * callback then, or, if evhttp freed it meanwhile (its callbacks are
 * cleared), its close is counted at once. A plain listener faces the
 * internet on port 80; uncounted, a client could hold the daemon's
 * descriptors until SMTP and IMAP had none. */
static void plain_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_release(arg);
}

static void conn_adopt(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct http_server *srv = arg;
	for (size_t i = 0; i < srv->npending; i++) {
		struct bufferevent *bev = srv->pending[i].bev;
		struct http_conn *c = srv->pending[i].conn;
		bufferevent_event_cb eventcb = NULL;
		void *evcon = NULL;
		bufferevent_getcb(bev, NULL, NULL, &eventcb, &evcon);
		bool alive = eventcb != NULL && evcon != NULL;
		if (alive && !ip_admit(srv, bev, c)) {
			evhttp_connection_free(evcon);
			alive = false;
		}
		/* a TLS connection is released when its SSL object goes,
		 * at the latest with our reference below */
		if (!c->tls) {
			if (alive)
				evhttp_connection_set_closecb(evcon,
							      plain_closed, c);
			else
				conn_release(c);
		}
		bufferevent_decref(bev);
	}
	srv->npending = 0;
}

/* Hold bev until the loop's next turn (conn_adopt) and count it. */
static void hold(struct http_server *srv, struct bufferevent *bev,
		 struct http_conn *c)
{
	if (srv->npending == srv->pending_cap) {
		srv->pending_cap = srv->pending_cap ? 2 * srv->pending_cap : 16;
		srv->pending = xreallocarray(srv->pending, srv->pending_cap,
					     sizeof *srv->pending);
	}
	bufferevent_incref(bev);
	srv->pending[srv->npending].bev = bev;
	srv->pending[srv->npending++].conn = c;
	event_active(srv->adopt_ev, EV_TIMEOUT, 0);
	conn_opened(srv);
}

static struct http_conn *conn_new(struct http_server *srv, bool tls)
{
	struct http_conn *c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->tls = tls;
	return c;
}

static struct bufferevent *plain_conn(struct http_server *srv,
				      struct event_base *base)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_error("http", NULL, "cannot make a bufferevent; stopping");
		abort();
	}
	hold(srv, bev, conn_new(srv, false));
	return bev;
}

static void conn_idx_init(void)
{
	conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_gone);
}

static struct bufferevent *on_new_conn(struct event_base *base, void *arg)
{
	struct http_server *srv = arg;
	if (srv->tls == NULL)
		return plain_conn(srv, base);
	SSL_CTX *ctx = net_tls_ref_get(srv->tls);
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	SSL_CTX_free(ctx);
	/* NULL would make evhttp fall back to plain HTTP on this port */
	if (ssl == NULL || conn_idx < 0) {
		log_error("http", NULL, "cannot make a TLS session; stopping");
		abort();
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		log_error("http", NULL, "cannot make a TLS bufferevent; stopping");
		abort();
	}
	struct http_conn *c = conn_new(srv, true);
	SSL_set_ex_data(ssl, conn_idx, c);
	/* clients that close without close_notify are the norm for HTTP */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	hold(srv, bev, c);
	return bev;
}

static enum http_method method_of(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return HTTP_M_GET;
	case EVHTTP_REQ_HEAD: return HTTP_M_HEAD;
	case EVHTTP_REQ_POST: return HTTP_M_POST;
	case EVHTTP_REQ_PUT: return HTTP_M_PUT;
	case EVHTTP_REQ_PATCH: return HTTP_M_PATCH;
	case EVHTTP_REQ_DELETE: return HTTP_M_DELETE;
	case EVHTTP_REQ_OPTIONS: return HTTP_M_OPTIONS;
	default: return HTTP_M_OTHER;
	}
}

static struct span header(struct evkeyvalq *h, const char *name)
{
	const char *v = evhttp_find_header(h, name);
	return v ? span_cstr(v) : span_make(NULL, 0);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct http_server *srv = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t blen = evbuffer_get_length(body);
	const char *uri = evhttp_request_get_uri(req);
	char *peer = NULL;
	ev_uint16_t port = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &port);
	struct http_request r = {
		.method = method_of(evhttp_request_get_command(req)),
		.target = uri ? span_cstr(uri) : span_make(NULL, 0),
		.authorization = header(in, "Authorization"),
		.content_type = header(in, "Content-Type"),
		.host = header(in, "Host"),
		.body = span_make(blen ? evbuffer_pullup(body, -1) : NULL, blen),
		.peer = peer ? peer : "",
		.now = (int64_t)time(NULL),
	};
	struct http_response resp;
	/* a handler may block this loop for minutes (a bulk import): the
	 * connection's timers, re-armed from now, must outlast it */
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	evhttp_connection_set_timeout(evcon, HTTP_HANDLER_TIMEOUT);
	http_api_handle(srv->api, &r, &resp);
	/* timers count from the loop's cached time, which is as old as
	 * the handler is long: without a refresh they expire at once */
	event_base_update_cache_time(srv->base);
	evhttp_connection_set_timeout(evcon, HTTP_TIMEOUT);

	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Cache-Control", "no-store");
	if (resp.allow[0])
		evhttp_add_header(out, "Allow", resp.allow);
	if (resp.www_authenticate[0])
		evhttp_add_header(out, "WWW-Authenticate", resp.www_authenticate);
	if (resp.retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%u", resp.retry_after);
		evhttp_add_header(out, "Retry-After", ra);
	}
	struct evbuffer *ob = NULL;
	if (resp.body != NULL) {
		bool json = resp.content_type[0] == '\0';
		evhttp_add_header(out, "Content-Type", json ?
				  "application/json; charset=utf-8" :
				  resp.content_type);
		ob = evbuffer_new();
		if (ob == NULL || evbuffer_add(ob, resp.body, resp.body_len) != 0)
			abort();	/* out of memory */
		/* other documents go out byte for byte (a CMS signature) */
		if (json && evbuffer_add(ob, "\n", 1) != 0)
			abort();
	}
	evhttp_send_reply(req, resp.status, http_status_reason(resp.status), ob);
	if (ob != NULL)
		evbuffer_free(ob);
	http_response_clear(&resp);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct http_server *srv = arg;
	event_base_loopbreak(srv->base);
}

static void *server_main(void *arg)
{
	struct http_server *srv = arg;
	event_base_loop(srv->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static int start(const struct http_api_options *o, struct store *st,
		 struct net_tls_ref *tls, struct net_limits *limits,
		 const int *fds, size_t nfds, size_t max_body,
		 struct http_server **out, struct err *err)
{
	pthread_once(&conn_idx_once, conn_idx_init);
	if (tls != NULL && conn_idx < 0)
		return err_set(err, ERR_ENV, 0, NULL, "admin API: no SSL ex_data slot");
	struct http_server *srv = xcalloc(1, sizeof *srv);
	srv->tls = tls;
	srv->limits = limits;
	srv->what = o->public_only ? "autoconfig" : "admin";
	srv->api = http_api_new(st, o);
	srv->base = event_base_new();
	if (srv->base == NULL)
		goto fail;
	srv->http = evhttp_new(srv->base);
	srv->stop_ev = event_new(srv->base, -1, 0, on_stop, srv);
	srv->adopt_ev = event_new(srv->base, -1, 0, conn_adopt, srv);
	if (srv->http == NULL || srv->stop_ev == NULL || srv->adopt_ev == NULL)
		goto fail;
	evhttp_set_max_headers_size(srv->http, HTTP_MAX_HEADERS_SIZE);
	evhttp_set_max_body_size(srv->http, max_body);
	evhttp_set_timeout(srv->http, HTTP_TIMEOUT);
	/* every method reaches the router, which answers 405 in JSON */
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
				   EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
				   EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(srv->http, on_new_conn, srv);
	evhttp_set_gencb(srv->http, on_request, srv);
	for (size_t i = 0; i < nfds && i < CFG_MAX_LISTEN; i++) {
		struct evhttp_bound_socket *b =
			evhttp_accept_socket_with_handle(srv->http, fds[i]);
		if (b == NULL)
			goto fail;
		srv->listeners[srv->nlisteners++] = evhttp_bound_socket_get_listener(b);
	}
	if (pthread_create(&srv->thread, NULL, server_main, srv) != 0)
		goto fail;
	srv->running = true;
	*out = srv;
	return 0;
fail:
	err_set(err, ERR_ENV, 0, NULL, "admin API: cannot start the HTTP server");
	srv->stopping = true;
	if (srv->http)
		evhttp_free(srv->http);
	if (srv->stop_ev)
		event_free(srv->stop_ev);
	if (srv->adopt_ev)
		event_free(srv->adopt_ev);
	if (srv->base)
		event_base_free(srv->base);
	http_api_free(&srv->api);
	free(srv);
	return -1;
}

int http_server_start(const struct config *cfg, struct store *st,
		      struct auth *auth, struct net_tls_ref *tls,
		      struct net_limits *limits, const int *fds, size_t nfds,
		      struct http_server **out, struct err *err)
{
	struct http_api_options o;
	http_api_options_default(&o);
	o.default_quota = cfg->default_quota;
	o.auth = auth;
	o.cfg = cfg;
	return start(&o, st, tls, limits, fds, nfds, HTTP_MAX_BODY_BACKSTOP,
		     out, err);
}

int http_server_start_public(const struct config *cfg, struct store *st,
			     struct net_tls_ref *tls, struct net_tls_ref *sign,
			     struct net_limits *limits, const int *fds,
			     size_t nfds, struct http_server **out,
			     struct err *err)
{
	struct http_api_options o;
	http_api_options_default(&o);
	o.cfg = cfg;
	o.public_only = true;
	o.sign_tls = sign;
	o.max_json_body = AUTOCONF_AD_BODY_MAX;
	return start(&o, st, tls, limits, fds, nfds,
		     AUTOCONF_HTTP_BODY_BACKSTOP, out, err);
}

void http_server_stop(struct http_server **sp)
{
	struct http_server *srv = *sp;
	if (srv == NULL)
		return;
	if (srv->running) {
		event_active(srv->stop_ev, EV_READ, 0);
		pthread_join(srv->thread, NULL);
	}
	/* the listeners go first inside evhttp_free; the connections'
	 * SSL objects then must not resume them */
	srv->stopping = true;
	/* references still held (the loop stopped before their turn); a
	 * TLS one is released with its bufferevent */
	for (size_t i = 0; i < srv->npending; i++) {
		if (!srv->pending[i].conn->tls)
			conn_release(srv->pending[i].conn);
		bufferevent_decref(srv->pending[i].bev);
	}
	free(srv->pending);
	evhttp_free(srv->http);
	event_free(srv->stop_ev);
	event_free(srv->adopt_ev);
	event_base_free(srv->base);
	http_api_free(&srv->api);
	free(srv);
	*sp = NULL;
}
