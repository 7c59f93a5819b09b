/* smtpc.c - the SMTP client's connection: TCP connect, greeting, EHLO
 * (HELO fallback), STARTTLS or implicit TLS with certificate checks,
 * AUTH PLAIN/LOGIN for smarthosts, RSET between transactions, QUIT, and
 * turning every way a connection can die into a reply the queue can act
 * on. The mail transaction itself is smtpc_tx.c. One state machine per
 * connection, on one event_base; nothing blocks. */
#include "smtp/smtpc_private.h"

#include <assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "core/config.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define SUB "smtpc"

/* Longest AUTH user name and password we send (RFC 4616 allows 255
 * octets each). */
#define SMTPC_AUTH_FIELD_MAX 255

static void eventcb(struct bufferevent *bev, short what, void *arg);
static void readcb(struct bufferevent *bev, void *arg);
static void writecb(struct bufferevent *bev, void *arg);

void smtpc_opts_init(struct smtpc_opts *o)
{
	memset(o, 0, sizeof *o);
	o->tls = SMTPC_TLS_OPPORTUNISTIC;
	o->timeouts.connect = SMTPC_CONNECT_TIMEOUT_DEFAULT;
	o->timeouts.greeting = SMTPC_GREETING_TIMEOUT_DEFAULT;
	o->timeouts.helo = SMTPC_HELO_TIMEOUT_DEFAULT;
	o->timeouts.mail = SMTPC_MAIL_TIMEOUT_DEFAULT;
	o->timeouts.rcpt = SMTPC_RCPT_TIMEOUT_DEFAULT;
	o->timeouts.data_init = SMTPC_DATA_INIT_TIMEOUT_DEFAULT;
	o->timeouts.data_block = SMTPC_DATA_BLOCK_TIMEOUT_DEFAULT;
	o->timeouts.data_term = SMTPC_DATA_TERM_TIMEOUT_DEFAULT;
}

void smtpc_opts_from_config(struct smtpc_opts *o, const struct config *cfg)
{
	smtpc_opts_init(o);
	o->helo_name = cfg->hostname;
	struct smtpc_timeouts *t = &o->timeouts;
	t->connect = cfg->smtp_client_connect_timeout;
	t->greeting = t->helo = t->mail = t->rcpt = cfg->smtp_client_command_timeout;
	t->data_init = cfg->smtp_client_data_init_timeout;
	t->data_block = cfg->smtp_client_data_block_timeout;
	t->data_term = cfg->smtp_client_data_done_timeout;
}

SSL_CTX *smtpc_tls_ctx_new(const char *ca_file, struct err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		err_set(err, ERR_CONFIG, 0, NULL, "TLS client context failed");
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_set_default_verify_paths(ctx) != 1) {
		err_set(err, ERR_CONFIG, 0, NULL, "TLS client context set-up failed");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		err_set(err, ERR_CONFIG, 0, NULL, "cannot load CA file %s", ca_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	ERR_clear_error();
	return ctx;
}

/* ---- life cycle ----------------------------------------------------------- */

static void drop(struct smtpc *c)
{
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (!c->bev_owns_fd && c->fd >= 0 && close(c->fd) != 0)
		log_debug(SUB, c->opts.log_id, "close failed: %s", strerror(errno));
	c->fd = -1;
	c->bev_owns_fd = false;
	if (c->timer)
		evtimer_del(c->timer);
	c->state = SMTPC_ST_CLOSED;
	c->broken = true;
}

static void destroy(struct smtpc *c)
{
	drop(c);
	if (c->timer)
		event_free(c->timer);
	if (c->defer)
		event_free(c->defer);
	free(c);
}

/* Every entry from libevent brackets its work with enter/leave, so that a
 * callback may free c: the free happens when the last frame leaves. */
static void enter(struct smtpc *c)
{
	c->depth++;
}

static void leave(struct smtpc *c)
{
	assert(c->depth > 0);
	if (--c->depth == 0 && c->freed)
		destroy(c);
}

void smtpc_free(struct smtpc *c)
{
	if (c == NULL)
		return;
	c->freed = true;
	c->cb_ready = NULL;
	c->tx_active = false;
	if (c->depth == 0)
		destroy(c);
}

void smtpc_quit(struct smtpc *c)
{
	if (c->freed)
		return;
	if (c->bev == NULL || c->broken || c->tx_active ||
	    (c->state != SMTPC_ST_READY && c->state != SMTPC_ST_RSET)) {
		smtpc_free(c);
		return;
	}
	/* After RSET the 250 comes first; any reply ends the wait. */
	c->cb_ready = NULL;
	smtpc_write(c, "QUIT");
	c->state = SMTPC_ST_QUIT;
	smtpc_expect(c, SMTPC_QUIT_TIMEOUT);
}

const struct smtpc_info *smtpc_info(const struct smtpc *c)
{
	return &c->info;
}

bool smtpc_usable(const struct smtpc *c)
{
	return !c->broken && !c->freed && !c->tx_active && c->bev != NULL &&
	       (c->state == SMTPC_ST_READY || c->state == SMTPC_ST_RSET);
}

/* ---- helpers for smtpc_tx.c ----------------------------------------------- */

void smtpc_write(struct smtpc *c, const char *fmt, ...)
{
	if (c->bev == NULL)
		return;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void smtpc_expect(struct smtpc *c, unsigned seconds)
{
	struct timeval tv = { (time_t)(seconds ? seconds : 1), 0 };
	evtimer_add(c->timer, &tv);
}

static void synth_v(struct smtpc_reply *r, int code, const char *esc,
		    enum smtpc_stage stage, const char *fmt, va_list ap)
{
	memset(r, 0, sizeof *r);
	r->code = code;
	snprintf(r->enhanced, sizeof r->enhanced, "%s", esc);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	for (char *p = r->text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	r->stage = stage;
	r->synthetic = true;
}

void smtpc_synth(struct smtpc_reply *r, int code, const char *esc,
		 enum smtpc_stage stage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	synth_v(r, code, esc, stage, fmt, ap);
	va_end(ap);
}

void smtpc_schedule(struct smtpc *c)
{
	struct timeval now = { 0, 0 };
	evtimer_add(c->defer, &now);
}

static enum smtpc_stage state_stage(const struct smtpc *c)
{
	switch (c->state) {
	case SMTPC_ST_EHLO:
	case SMTPC_ST_HELO: return SMTPC_STAGE_HELO;
	case SMTPC_ST_STARTTLS: return SMTPC_STAGE_STARTTLS;
	case SMTPC_ST_AUTH_PLAIN:
	case SMTPC_ST_AUTH_LOGIN:
	case SMTPC_ST_AUTH_LOGIN_USER:
	case SMTPC_ST_AUTH_LOGIN_PASS: return SMTPC_STAGE_AUTH;
	case SMTPC_ST_TX: return smtpc_tx_stage(c);
	default: return SMTPC_STAGE_CONNECT;
	}
}

static const char *state_doing(const struct smtpc *c)
{
	switch (c->state) {
	case SMTPC_ST_CONNECTING: return "connecting";
	case SMTPC_ST_HANDSHAKE: return "performing the TLS handshake";
	case SMTPC_ST_GREETING: return "receiving the initial server greeting";
	case SMTPC_ST_EHLO: return "sending EHLO";
	case SMTPC_ST_HELO: return "sending HELO";
	case SMTPC_ST_STARTTLS: return "sending STARTTLS";
	case SMTPC_ST_AUTH_PLAIN:
	case SMTPC_ST_AUTH_LOGIN:
	case SMTPC_ST_AUTH_LOGIN_USER:
	case SMTPC_ST_AUTH_LOGIN_PASS: return "authenticating";
	case SMTPC_ST_READY: return "idle";
	case SMTPC_ST_TX: return smtpc_tx_doing(c);
	case SMTPC_ST_RSET: return "sending RSET";
	case SMTPC_ST_QUIT: return "sending QUIT";
	case SMTPC_ST_CLOSED: return "closed";
	}
	return "unknown";
}

/* The connection is over: r says why (the server's reply or ours). Whoever
 * waits hears it: cb_ready during set-up, cb_done during a transaction.
 * The callback is the last thing done. */
static void fail_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	char line[SMTPC_REPLY_TEXT_MAX + 32];
	smtpc_reply_format(r, line, sizeof line);
	log_info(SUB, c->opts.log_id, "failed peer=%s stage=\"%s\" reply=\"%s\"",
		 c->info.peer, smtpc_stage_name(r->stage), line);
	drop(c);
	if (!c->ready_done) {
		c->ready_done = true;
		if (c->cb_ready)
			c->cb_ready(c, r, c->ready_arg);
		return;
	}
	if (c->tx_active) {
		smtpc_tx_abort(c, r);
		smtpc_tx_over(c);
	}
}

void smtpc_fail(struct smtpc *c, int code, const char *esc, const char *fmt, ...)
{
	struct smtpc_reply r;
	va_list ap;
	va_start(ap, fmt);
	synth_v(&r, code, esc, state_stage(c), fmt, ap);
	va_end(ap);
	fail_reply(c, &r);
}

/* A failure found inside smtpc_connect(): reported from the loop. */
static void fail_later(struct smtpc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail_later(struct smtpc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	synth_v(&c->failure, 421, "4.4.1", SMTPC_STAGE_CONNECT, fmt, ap);
	va_end(ap);
	drop(c);
	c->ready_failed = true;
	smtpc_schedule(c);
}

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtpc *c = arg;
	enter(c);
	if (c->ready_failed && !c->ready_done) {
		c->ready_done = true;
		if (c->cb_ready)
			c->cb_ready(c, &c->failure, c->ready_arg);
	} else if (c->tx_active && c->tx.finished) {
		smtpc_tx_over(c);
	}
	leave(c);
}

void smtpc_tx_over(struct smtpc *c)
{
	struct smtpc_tx t = c->tx;
	c->tx_active = false;
	memset(&c->tx, 0, sizeof c->tx);
	if (c->state == SMTPC_ST_TX) {
		evtimer_del(c->timer);
		if (c->need_rset) {
			/* RFC 5321 4.1.1.5: clear the failed transaction */
			c->need_rset = false;
			smtpc_write(c, "RSET");
			c->state = SMTPC_ST_RSET;
			smtpc_expect(c, c->opts.timeouts.helo);
		} else {
			c->state = SMTPC_ST_READY;
		}
	}
	if (t.cb)
		t.cb(c, t.msg, t.arg);
}

/* ---- set-up: greeting, EHLO, STARTTLS, AUTH --------------------------------- */

static void ready(struct smtpc *c)
{
	c->state = SMTPC_ST_READY;
	evtimer_del(c->timer);
	log_info(SUB, c->opts.log_id, "ready peer=%s esmtp=%d pipelining=%d tls=%s%s%s verified=%d auth=%d",
		 c->info.peer, c->info.esmtp, c->info.pipelining,
		 c->info.tls ? c->info.tls_version : "no", c->info.tls ? " " : "",
		 c->info.tls ? c->info.tls_cipher : "", c->info.tls_verified,
		 c->info.authenticated);
	c->ready_done = true;
	if (c->cb_ready)
		c->cb_ready(c, NULL, c->ready_arg);
}

static void ehlo_line(void *arg, struct span text)
{
	struct smtpc *c = arg;
	if (c->ehlo_lines++ > 0)	/* the first line is the server's name */
		smtpc_caps_line(&c->caps, text);
}

static void send_ehlo(struct smtpc *c)
{
	memset(&c->caps, 0, sizeof c->caps);
	c->ehlo_lines = 0;
	c->parser.on_line = ehlo_line;
	c->parser.on_line_arg = c;
	smtpc_write(c, "EHLO %s", c->opts.helo_name);
	c->state = SMTPC_ST_EHLO;
	smtpc_expect(c, c->opts.timeouts.helo);
}

static void auth_plain(struct smtpc *c)
{
	/* RFC 4616: authzid NUL authcid NUL passwd, with an initial response
	 * (RFC 4954 4) */
	size_t ul = strlen(c->opts.auth_user), pl = strlen(c->opts.auth_pass);
	unsigned char raw[2 * SMTPC_AUTH_FIELD_MAX + 2];
	char b64[sodium_base64_ENCODED_LEN(sizeof raw,
					   sodium_base64_VARIANT_ORIGINAL)];
	raw[0] = '\0';
	memcpy(raw + 1, c->opts.auth_user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, c->opts.auth_pass, pl);
	sodium_bin2base64(b64, sizeof b64, raw, 2 + ul + pl,
			  sodium_base64_VARIANT_ORIGINAL);
	smtpc_write(c, "AUTH PLAIN %s", b64);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(b64, sizeof b64);
	c->state = SMTPC_ST_AUTH_PLAIN;
}

static void auth_login_send(struct smtpc *c, const char *s)
{
	char b64[sodium_base64_ENCODED_LEN(SMTPC_AUTH_FIELD_MAX,
					   sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s, strlen(s),
			  sodium_base64_VARIANT_ORIGINAL);
	smtpc_write(c, "%s", b64);
	sodium_memzero(b64, sizeof b64);
}

static void start_auth(struct smtpc *c)
{
	if (c->opts.auth_user == NULL) {
		ready(c);
		return;
	}
	if (!c->info.tls) {
		smtpc_fail(c, 421, "4.7.0",
			   "not sending AUTH credentials to %s without TLS",
			   c->info.peer);
		return;
	}
	if (c->opts.auth_pass == NULL ||
	    strlen(c->opts.auth_user) > SMTPC_AUTH_FIELD_MAX ||
	    strlen(c->opts.auth_pass) > SMTPC_AUTH_FIELD_MAX) {
		smtpc_fail(c, 421, "4.7.0", "AUTH user name or password unusable");
		return;
	}
	if (c->caps.auth_plain) {
		auth_plain(c);
	} else if (c->caps.auth_login) {
		smtpc_write(c, "AUTH LOGIN");
		c->state = SMTPC_ST_AUTH_LOGIN;
	} else {
		smtpc_fail(c, 421, "4.7.0",
			   "AUTH is configured but %s offers neither PLAIN nor LOGIN",
			   c->info.peer);
		return;
	}
	smtpc_expect(c, c->opts.timeouts.helo);
}

static void after_ehlo(struct smtpc *c)
{
	c->info.pipelining = c->caps.pipelining;
	c->info.starttls_offered = c->caps.starttls;
	c->info.eightbitmime = c->caps.eightbitmime;
	c->info.smtputf8 = c->caps.smtputf8;
	c->info.enhanced = c->caps.enhanced;
	c->info.size_offered = c->caps.size;
	c->info.size_max = c->caps.size_max;
	c->info.auth_plain = c->caps.auth_plain;
	c->info.dsn = c->caps.dsn;
	c->info.auth_login = c->caps.auth_login;
	bool want_tls = c->opts.tls == SMTPC_TLS_OPPORTUNISTIC ||
			c->opts.tls == SMTPC_TLS_REQUIRED;
	if (!c->info.tls && want_tls) {
		if (c->caps.starttls) {
			smtpc_write(c, "STARTTLS");
			c->state = SMTPC_ST_STARTTLS;
			smtpc_expect(c, c->opts.timeouts.helo);
			return;
		}
		if (c->opts.tls == SMTPC_TLS_REQUIRED) {
			smtpc_fail(c, 421, "4.7.4", "TLS required but not offered by %s",
				   c->info.peer);
			return;
		}
	}
	start_auth(c);
}

/* Replies are parsed as they come and the parser holds one line, so the
 * read bound only matters if we stop parsing; the write timeout is the
 * data block timeout (RFC 5321 4.5.3.2.5): a server that stops taking
 * our bytes. Replies have their own timer. */
static void setup_bev(struct smtpc *c)
{
	bufferevent_setcb(c->bev, readcb, writecb, eventcb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, SMTPC_REPLY_BYTES_MAX);
	struct timeval tv = { (time_t)(c->opts.timeouts.data_block ?
				       c->opts.timeouts.data_block : 1), 0 };
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static const char *tls_name(const struct smtpc *c)
{
	return c->opts.tls_servername ? c->opts.tls_servername : c->opts.peer_name;
}

static void start_tls(struct smtpc *c)
{
	SSL *ssl = SSL_new(c->opts.tls_ctx);
	if (ssl == NULL) {
		smtpc_fail(c, 421, "4.7.5", "TLS set-up for %s failed", c->info.peer);
		return;
	}
	const char *name = tls_name(c);
	/* An address is no server name (RFC 6066 3: no literal in SNI);
	 * the certificate is then checked against the address. */
	unsigned char ip[16];
	bool is_ip = name != NULL && (inet_pton(AF_INET, name, ip) == 1 ||
				      inet_pton(AF_INET6, name, ip) == 1);
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	if (name && (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
			   : (SSL_set_tlsext_host_name(ssl, name) != 1 ||
			      SSL_set1_host(ssl, name) != 1))) {
		SSL_free(ssl);
		smtpc_fail(c, 421, "4.7.5", "TLS set-up for %s failed (name %s)",
			   c->info.peer, name);
		return;
	}
	/* We check the result ourselves after the handshake: opportunistic
	 * TLS takes any certificate, and says whether it verified. */
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	/* The plain bufferevent does not own the socket: drop it (and any
	 * clear text it holds) and put TLS on the same fd. */
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = bufferevent_openssl_socket_new(c->base, c->fd, ssl,
						BUFFEREVENT_SSL_CONNECTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		smtpc_fail(c, 421, "4.7.5", "TLS set-up for %s failed", c->info.peer);
		return;
	}
	c->bev_owns_fd = true;
	/* Servers often close without close_notify after QUIT. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	setup_bev(c);
	c->state = SMTPC_ST_HANDSHAKE;
	smtpc_expect(c, c->opts.timeouts.connect);
}

static void tls_done(struct smtpc *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	c->info.tls = true;
	snprintf(c->info.tls_version, sizeof c->info.tls_version, "%s",
		 SSL_get_version(ssl));
	snprintf(c->info.tls_cipher, sizeof c->info.tls_cipher, "%s",
		 SSL_get_cipher_name(ssl));
	X509 *cert = SSL_get1_peer_certificate(ssl);
	long v = SSL_get_verify_result(ssl);
	const char *why = "";
	if (cert == NULL)
		why = "no certificate";
	else if (v != X509_V_OK)
		why = X509_verify_cert_error_string(v);
	else if (tls_name(c) == NULL)
		why = "no name to check the certificate against";
	X509_free(cert);
	c->info.tls_verified = why[0] == '\0';
	snprintf(c->info.tls_verify_error, sizeof c->info.tls_verify_error,
		 "%s", why);
	if (c->opts.tls_verify && !c->info.tls_verified) {
		smtpc_fail(c, 421, "4.7.5",
			   "TLS certificate of %s not trusted: %s",
			   c->info.peer, why);
		return;
	}
	if (c->after_starttls) {
		/* RFC 3207 4.2: forget what was learnt in clear */
		send_ehlo(c);
		return;
	}
	c->state = SMTPC_ST_GREETING;
	smtpc_expect(c, c->opts.timeouts.greeting);
}

/* ---- replies ------------------------------------------------------------- */

static void handle_reply(struct smtpc *c)
{
	struct smtpc_reply r = c->reply;
	r.stage = state_stage(c);
	bool ok = r.code >= 200 && r.code < 300;
	evtimer_del(c->timer);
	if (r.code == 421 && c->state != SMTPC_ST_QUIT) {
		/* RFC 5321 3.8: the server is closing the channel; whatever
		 * was still open gets its words */
		fail_reply(c, &r);
		return;
	}
	switch (c->state) {
	case SMTPC_ST_GREETING:
		if (ok)
			send_ehlo(c);
		else
			fail_reply(c, &r);
		return;
	case SMTPC_ST_EHLO:
		c->parser.on_line = NULL;
		if (ok) {
			c->info.esmtp = true;
			after_ehlo(c);
		} else if (r.code >= 500 && !c->after_starttls) {
			/* RFC 5321 3.2: an old server; HELO, no extensions */
			memset(&c->caps, 0, sizeof c->caps);
			smtpc_write(c, "HELO %s", c->opts.helo_name);
			c->state = SMTPC_ST_HELO;
			smtpc_expect(c, c->opts.timeouts.helo);
		} else {
			fail_reply(c, &r);
		}
		return;
	case SMTPC_ST_HELO:
		if (ok)
			after_ehlo(c);
		else
			fail_reply(c, &r);
		return;
	case SMTPC_ST_STARTTLS:
		if (r.code == 220) {
			/* CVE-2011-0411 in reverse: anything the server sent
			 * after its 220 came in clear and must not be taken as
			 * a reply inside TLS. */
			if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
				smtpc_fail(c, 421, "4.7.5",
					   "%s sent data after its STARTTLS reply",
					   c->info.peer);
				return;
			}
			c->after_starttls = true;
			start_tls(c);
		} else if (c->opts.tls == SMTPC_TLS_REQUIRED) {
			smtpc_fail(c, 421, "4.7.4",
				   "TLS required but STARTTLS failed at %s: %d %s",
				   c->info.peer, r.code, r.text);
		} else {
			start_auth(c);	/* RFC 3207 4.1: go on in clear */
		}
		return;
	case SMTPC_ST_AUTH_PLAIN:
	case SMTPC_ST_AUTH_LOGIN_PASS:
		if (r.code == 235) {
			c->info.authenticated = true;
			ready(c);
			return;
		}
		break;
	case SMTPC_ST_AUTH_LOGIN:
		if (r.code == 334) {
			auth_login_send(c, c->opts.auth_user);
			c->state = SMTPC_ST_AUTH_LOGIN_USER;
			smtpc_expect(c, c->opts.timeouts.helo);
			return;
		}
		break;
	case SMTPC_ST_AUTH_LOGIN_USER:
		if (r.code == 334) {
			auth_login_send(c, c->opts.auth_pass);
			c->state = SMTPC_ST_AUTH_LOGIN_PASS;
			smtpc_expect(c, c->opts.timeouts.helo);
			return;
		}
		break;
	case SMTPC_ST_TX:
		smtpc_tx_reply(c, &r);
		return;
	case SMTPC_ST_RSET:
		if (!ok) {
			fail_reply(c, &r);
			return;
		}
		c->state = SMTPC_ST_READY;
		if (c->tx_active)
			smtpc_tx_start(c);
		return;
	case SMTPC_ST_QUIT:
		smtpc_free(c);
		return;
	case SMTPC_ST_READY:
		/* unasked: a 421 before the server closes, or junk */
		fail_reply(c, &r);
		return;
	default:
		return;
	}
	/* AUTH refused. Postfix's smtp_sasl_auth_soft_bounce: wrong
	 * credentials are ours to fix, so the mail waits (4xx). */
	smtpc_fail(c, 421, "4.7.0", "authentication with %s failed: %d %s %s",
		   c->info.peer, r.code, r.enhanced, r.text);
}

static void read_replies(struct smtpc *c)
{
	while (!c->freed && c->bev != NULL) {
		struct evbuffer *in = bufferevent_get_input(c->bev);
		struct evbuffer_iovec v;
		if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		size_t used = 0;
		int rc = smtpc_reply_push(&c->parser, v.iov_base, v.iov_len,
					  &used, &c->reply);
		evbuffer_drain(in, used);
		if (rc < 0) {
			smtpc_fail(c, 421, "4.5.0", "bad reply from %s while %s: %s",
				   c->info.peer, state_doing(c),
				   smtpc_reply_parser_error(&c->parser));
			return;
		}
		if (rc == 1)
			handle_reply(c);
	}
}

/* ---- libevent callbacks -------------------------------------------------- */

static void readcb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct smtpc *c = arg;
	enter(c);
	read_replies(c);
	leave(c);
}

static void writecb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct smtpc *c = arg;
	enter(c);
	if (c->state == SMTPC_ST_TX && c->tx.body)
		smtpc_tx_write_more(c);
	leave(c);
}

static void connected(struct smtpc *c)
{
	if (c->state == SMTPC_ST_HANDSHAKE) {
		tls_done(c);
		return;
	}
	if (c->state != SMTPC_ST_CONNECTING)
		return;
	evtimer_del(c->timer);
	if (c->opts.tls == SMTPC_TLS_IMPLICIT) {
		start_tls(c);
		return;
	}
	c->state = SMTPC_ST_GREETING;
	smtpc_expect(c, c->opts.timeouts.greeting);
}

static void gone(struct smtpc *c, short what)
{
	int e = EVUTIL_SOCKET_ERROR();
	if (c->state == SMTPC_ST_QUIT) {
		smtpc_free(c);
		return;
	}
	if (c->state == SMTPC_ST_CONNECTING) {
		smtpc_fail(c, 421, "4.4.1", "connect to %s failed: %s",
			   c->info.peer, (what & BEV_EVENT_ERROR) && e
			   ? evutil_socket_error_to_string(e) : "connection closed");
		return;
	}
	if (c->state == SMTPC_ST_HANDSHAKE) {
		unsigned long se = bufferevent_get_openssl_error(c->bev);
		char msg[160] = "connection closed";
		if (se)
			ERR_error_string_n(se, msg, sizeof msg);
		ERR_clear_error();
		smtpc_fail(c, 421, "4.7.5", "TLS handshake with %s failed: %s",
			   c->info.peer, msg);
		return;
	}
	if (c->state == SMTPC_ST_TX && c->tx.want == SMTPC_WANT_END && !c->tx.body)
		smtpc_fail(c, 421, "4.4.2",
			   "lost connection with %s while sending end of data -- message may be sent more than once",
			   c->info.peer);
	else
		smtpc_fail(c, 421, "4.4.2", "lost connection with %s while %s",
			   c->info.peer, state_doing(c));
}

static void eventcb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct smtpc *c = arg;
	enter(c);
	if (what & BEV_EVENT_CONNECTED) {
		connected(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		smtpc_fail(c, 421, "4.4.2", "conversation with %s timed out while %s",
			   c->info.peer, state_doing(c));
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* a last reply (421 before closing) may still be buffered */
		read_replies(c);
		if (!c->freed && c->bev != NULL)
			gone(c, what);
	}
	leave(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtpc *c = arg;
	enter(c);
	if (c->state == SMTPC_ST_QUIT)
		smtpc_free(c);
	else if (c->state != SMTPC_ST_CLOSED)
		smtpc_fail(c, 421, "4.4.2", "conversation with %s timed out while %s",
			   c->info.peer, state_doing(c));
	leave(c);
}

/* ---- connect ------------------------------------------------------------- */

static void describe_peer(struct smtpc *c, const struct sockaddr *sa,
			  socklen_t salen)
{
	char host[64] = "?", serv[16] = "?";
	if (getnameinfo(sa, salen, host, sizeof host, serv, sizeof serv,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof host, "?");
	bool std_port = strcmp(serv, "25") == 0;
	snprintf(c->info.peer, sizeof c->info.peer, "%.200s[%s]%s%s",
		 c->opts.peer_name ? c->opts.peer_name : "", host,
		 std_port ? "" : ":", std_port ? "" : serv);
}

struct smtpc *smtpc_connect(struct event_base *base, const struct sockaddr *sa,
			    socklen_t salen, const struct smtpc_opts *opts,
			    smtpc_ready_cb cb_ready, void *arg)
{
	struct smtpc *c = xcalloc(1, sizeof *c);
	c->base = base;
	c->opts = *opts;
	c->fd = -1;
	c->cb_ready = cb_ready;
	c->ready_arg = arg;
	c->state = SMTPC_ST_CONNECTING;
	smtpc_reply_parser_init(&c->parser);
	c->timer = evtimer_new(base, timer_cb, c);
	c->defer = evtimer_new(base, defer_cb, c);
	if (c->timer == NULL || c->defer == NULL) {
		/* nothing can report it from the loop: abort as xmalloc does */
		log_error(SUB, opts->log_id, "out of memory for events");
		abort();
	}
	if (salen > sizeof c->sa) {
		fail_later(c, "bad address");
		return c;
	}
	memcpy(&c->sa, sa, salen);
	c->salen = salen;
	describe_peer(c, sa, salen);
	if (opts->helo_name == NULL) {
		fail_later(c, "no HELO name configured");
		return c;
	}
	if (opts->tls != SMTPC_TLS_NONE && opts->tls_ctx == NULL) {
		fail_later(c, "TLS wanted but no TLS context");
		return c;
	}
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail_later(c, "connect to %s failed: %s", c->info.peer, strerror(errno));
		return c;
	}
	/* Commands and the end of a message go out in small writes: without
	 * NODELAY, Nagle holds the last segment of each message until the
	 * peer's delayed ACK (40 ms) - a stall per message. */
	int one = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->bev = bufferevent_socket_new(base, c->fd, 0);
	if (c->bev == NULL) {
		fail_later(c, "connect to %s failed: no memory", c->info.peer);
		return c;
	}
	setup_bev(c);
	if (bufferevent_socket_connect(c->bev, sa, (int)salen) != 0) {
		fail_later(c, "connect to %s failed: %s", c->info.peer,
			   strerror(errno));
		return c;
	}
	smtpc_expect(c, opts->timeouts.connect);
	return c;
}
