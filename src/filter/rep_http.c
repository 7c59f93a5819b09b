/* rep_http.c - a small blocking HTTP/1.1 client for the threat-
 * intelligence API: one GET per connection ("Connection: close"), TLS
 * with the peer's certificate verified for the host name (SNI sent),
 * one deadline for the whole exchange kept with poll(), and a bounded
 * response. It runs on a filter pool thread, never on an event loop.
 * Not a general client: no redirects, no keep-alive, no proxies. */
#include "filter/rep_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/xmalloc.h"

struct rep_http {
	SSL_CTX *ctx;
	char *auth;		/* NULL: none */
};

/* OpenSSL's reason for the last error; never NULL. */
static const char *ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "unknown error";
}

int64_t rep_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rep_http_url_parse(const char *url, struct rep_http_url *out)
{
	const char *p, *host, *end;
	size_t hlen;

	memset(out, 0, sizeof *out);
	if (span_prefix_ci(span_cstr(url), "https://")) {
		out->tls = true;
		p = url + 8;
	} else if (span_prefix_ci(span_cstr(url), "http://")) {
		p = url + 7;
	} else {
		return -1;
	}
	end = p + strcspn(p, "/?#");
	if (strchr(url, '#') != NULL || memchr(p, '@', (size_t)(end - p)))
		return -1;
	host = p;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL)
			return -1;
		host = p + 1;
		hlen = (size_t)(rb - host);
		p = rb + 1;
	} else {
		p = memchr(host, ':', (size_t)(end - host));
		if (p == NULL)
			p = end;
		hlen = (size_t)(p - host);
	}
	if (hlen == 0 || hlen >= sizeof out->host)
		return -1;
	memcpy(out->host, host, hlen);
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)out->host[i] <= ' ' || out->host[i] == 0x7f)
			return -1;
	if (p < end) {
		unsigned long port = 0;

		if (*p != ':' || end - p < 2 || end - p > 6)
			return -1;
		for (const char *q = p + 1; q < end; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			port = port * 10 + (unsigned long)(*q - '0');
		}
		if (port == 0 || port > 65535)
			return -1;
		snprintf(out->port, sizeof out->port, "%lu", port);
	} else {
		snprintf(out->port, sizeof out->port, "%s",
			 out->tls ? "443" : "80");
	}
	out->path = end;
	for (const char *q = end; *q != '\0'; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return -1;
	return 0;
}

struct rep_http *rep_http_new(const char *ca_file, const char *auth,
			      struct err *err)
{
	struct rep_http *h = xcalloc(1, sizeof *h);

	h->ctx = SSL_CTX_new(TLS_client_method());
	if (h->ctx == NULL ||
	    SSL_CTX_set_min_proto_version(h->ctx, TLS1_2_VERSION) != 1)
		goto tls_fail;
	SSL_CTX_set_verify(h->ctx, SSL_VERIFY_PEER, NULL);
	/* a close-delimited body cut short fails as bad JSON anyway */
	SSL_CTX_set_options(h->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (ca_file != NULL && ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(h->ctx, ca_file, NULL) != 1) {
			err_set(err, ERR_CONFIG, 0, NULL, "%s: cannot read the "
				"CA certificates", ca_file);
			ERR_clear_error();
			rep_http_free(&h);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(h->ctx) != 1) {
		goto tls_fail;
	}
	if (auth != NULL)
		h->auth = xstrdup(auth);
	return h;
tls_fail:
	err_set(err, ERR_ENV, 0, NULL, "TLS client context: %s",
		ssl_reason());
	ERR_clear_error();
	rep_http_free(&h);
	return NULL;
}

void rep_http_free(struct rep_http **hp)
{
	struct rep_http *h = *hp;

	if (h == NULL)
		return;
	SSL_CTX_free(h->ctx);
	if (h->auth != NULL) {
		OPENSSL_cleanse(h->auth, strlen(h->auth));
		free(h->auth);
	}
	free(h);
	*hp = NULL;
}

/* Wait for events on fd until deadline: 0 ready, -1 timed out. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - rep_now_ms();
		struct pollfd pfd = { fd, events, 0 };
		int rc;

		if (left <= 0)
			return -1;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int dial(const struct rep_http_url *u, int64_t deadline,
		struct err *err)
{
	struct addrinfo hints, *res = NULL;
	int fd = -1, last = ETIMEDOUT, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	/* blocking: the resolver's own timeout applies, not ours */
	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc != 0)
		return err_set(err, ERR_ENV, 0, NULL, "%s: %s", u->host,
			       gai_strerror(rc));
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0) {
			int soerr = 0;
			socklen_t sl = sizeof soerr;

			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    soerr == 0)
				break;
			last = soerr ? soerr : errno;
		} else {
			last = errno == EINPROGRESS ? ETIMEDOUT : errno;
		}
		close(fd);	/* a socket that never connected: nothing lost */
		fd = -1;
		if (rep_now_ms() >= deadline)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(err, ERR_ENV, 0, NULL, "%s port %s: connect: %s",
			       u->host, u->port, strerror(last));
	return fd;
}

/* One step of TLS or plain I/O: >0 octets, 0 end of stream, -1 error
 * (err set), -2 try again after waiting for *want. */
static ssize_t io_step(int fd, SSL *ssl, bool writing, void *b, size_t n,
		       short *want, struct err *err)
{
	if (ssl == NULL) {
		ssize_t r = writing ? send(fd, b, n, MSG_NOSIGNAL)
				    : recv(fd, b, n, 0);

		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			*want = writing ? POLLOUT : POLLIN;
			return -2;
		}
		err_set(err, ERR_ENV, 0, NULL, "%s: %s",
			writing ? "send" : "recv", strerror(errno));
		return -1;
	}
	size_t done = 0;
	int ok = writing ? SSL_write_ex(ssl, b, n, &done)
			 : SSL_read_ex(ssl, b, n, &done);

	if (ok == 1)
		return (ssize_t)done;
	switch (SSL_get_error(ssl, 0)) {
	case SSL_ERROR_WANT_READ:
		*want = POLLIN;
		return -2;
	case SSL_ERROR_WANT_WRITE:
		*want = POLLOUT;
		return -2;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		err_set(err, ERR_ENV, 0, NULL, "TLS %s: %s",
			writing ? "write" : "read",
			ssl_reason());
		ERR_clear_error();
		return -1;
	}
}

static int handshake(int fd, SSL *ssl, const char *host, int64_t deadline,
		     struct err *err)
{
	unsigned char ip[16];
	bool literal = inet_pton(AF_INET, host, ip) == 1 ||
		       inet_pton(AF_INET6, host, ip) == 1;

	if (SSL_set_fd(ssl, fd) != 1)
		return err_set(err, ERR_ENV, 0, NULL, "TLS: SSL_set_fd");
	/* RFC 6066 3: no SNI for an address literal */
	if (!literal && SSL_set_tlsext_host_name(ssl, host) != 1)
		return err_set(err, ERR_ENV, 0, NULL, "TLS: bad host name");
	if (literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
						     host) != 1
		    : SSL_set1_host(ssl, host) != 1)
		return err_set(err, ERR_ENV, 0, NULL, "TLS: bad host name");
	for (;;) {
		int rc = SSL_connect(ssl);
		short want;

		if (rc == 1)
			return 0;
		switch (SSL_get_error(ssl, rc)) {
		case SSL_ERROR_WANT_READ:
			want = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			want = POLLOUT;
			break;
		default: {
			long v = SSL_get_verify_result(ssl);

			err_set(err, ERR_ENV, 0, NULL, "%s: TLS handshake: %s",
				host, v != X509_V_OK ?
				X509_verify_cert_error_string(v) :
				ssl_reason());
			ERR_clear_error();
			return -1;
		}
		}
		if (wait_fd(fd, want, deadline) != 0)
			return err_set(err, ERR_ENV, 0, NULL, "%s: TLS handshake "
				       "timed out", host);
	}
}

static int exchange(int fd, SSL *ssl, const char *req, size_t reqlen,
		    const char *host, int64_t deadline, unsigned char *body,
		    size_t bodycap, struct rep_http_resp *out, struct err *err)
{
	unsigned char *buf = xmalloc(FILTER_REP_TI_RESPONSE_MAX);
	size_t sent = 0, got = 0;
	int rc = -1;
	short want;

	while (sent < reqlen) {
		ssize_t r = io_step(fd, ssl, true, (char *)(uintptr_t)req + sent,
				    reqlen - sent, &want, err);

		if (r == -1)
			goto out;
		if (r == -2 && wait_fd(fd, want, deadline) != 0)
			goto timeout;
		if (r > 0)
			sent += (size_t)r;
	}
	for (;;) {
		ssize_t r;
		int prc;

		if (got == FILTER_REP_TI_RESPONSE_MAX) {
			err_set(err, ERR_LIMIT, 0, NULL, "%s: answer longer than "
				"%u octets", host, FILTER_REP_TI_RESPONSE_MAX);
			goto out;
		}
		r = io_step(fd, ssl, false, buf + got,
			    FILTER_REP_TI_RESPONSE_MAX - got, &want, err);
		if (r == -1)
			goto out;
		if (r == -2) {
			if (wait_fd(fd, want, deadline) != 0)
				goto timeout;
			continue;
		}
		got += (size_t)r;
		prc = rep_http_parse(buf, got, r == 0, body, bodycap, out);
		if (prc == 1) {
			rc = 0;
			goto out;
		}
		if (prc < 0) {
			err_set(err, ERR_PEER, 0, NULL, "%s: bad or oversized "
				"HTTP answer", host);
			goto out;
		}
		if (r == 0) {
			err_set(err, ERR_PEER, 0, NULL, "%s: answer cut short",
				host);
			goto out;
		}
	}
timeout:
	err_set(err, ERR_ENV, 0, NULL, "%s: timed out", host);
out:
	free(buf);
	return rc;
}

int rep_http_get(const struct rep_http *h, const char *url,
		 int64_t deadline_ms, unsigned char *body, size_t bodycap,
		 struct rep_http_resp *out, struct err *err)
{
	struct rep_http_url u;
	char *req;
	size_t reqcap = strlen(url) + 512 + (h->auth ? strlen(h->auth) : 0);
	int fd, rc, n;
	SSL *ssl = NULL;
	bool v6;

	if (rep_http_url_parse(url, &u) != 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "not an http(s) URL");
	v6 = strchr(u.host, ':') != NULL;
	req = xmalloc(reqcap);
	n = snprintf(req, reqcap, "GET %s%s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n"
		     "User-Agent: petrel\r\nAccept: application/json\r\n"
		     "%s%s%sConnection: close\r\n\r\n",
		     u.path[0] == '/' ? "" : "/", u.path, v6 ? "[" : "", u.host,
		     v6 ? "]" : "",
		     strcmp(u.port, u.tls ? "443" : "80") ? ":" : "",
		     strcmp(u.port, u.tls ? "443" : "80") ? u.port : "",
		     h->auth ? "Authorization: Bearer " : "",
		     h->auth ? h->auth : "", h->auth ? "\r\n" : "");
	if (n < 0 || (size_t)n >= reqcap) {
		free(req);
		return err_set(err, ERR_LIMIT, 0, NULL, "request too long");
	}
	fd = dial(&u, deadline_ms, err);
	if (fd < 0) {
		OPENSSL_cleanse(req, reqcap);
		free(req);
		return -1;
	}
	rc = -1;
	if (u.tls) {
		ssl = SSL_new(h->ctx);
		if (ssl == NULL) {
			err_set(err, ERR_ENV, 0, NULL, "TLS: out of memory");
			goto done;
		}
		if (handshake(fd, ssl, u.host, deadline_ms, err) != 0)
			goto done;
	}
	rc = exchange(fd, ssl, req, (size_t)n, u.host, deadline_ms, body,
		      bodycap, out, err);
	if (ssl != NULL && rc == 0)
		(void)SSL_shutdown(ssl);	/* courtesy only: we are done */
done:
	SSL_free(ssl);
	/* the request may hold the API key */
	OPENSSL_cleanse(req, reqcap);
	free(req);
	if (close(fd) != 0 && rc == 0)
		return err_set(err, ERR_ENV, 0, NULL, "close: %s",
			       strerror(errno));
	return rc;
}
