/* http.h - petrel's admin REST API (/api/v1, JSON, bearer tokens) on the
 * admin port (listen_admin). Three layers, each usable alone:
 *
 *   tokens      making and hashing the bearer tokens (petrelctl token);
 *   dispatcher  one request in, one response out, no network: target
 *               parsing, routing, auth, rate limit, the handlers (the
 *               fuzzer and unit tests drive it directly);
 *   server      libevent's evhttp on a thread of its own, HTTPS with the
 *               daemon's certificate, which fills a request struct and
 *               sends the response back.
 *
 * Errors are {"error": {"code", "message", "field"}} with the HTTP status
 * (docs/api.md). Handlers call the store synchronously: the admin thread
 * is not a mail worker, and admin requests are few.
 */
#ifndef PETREL_HTTP_H
#define PETREL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"

struct config;
struct store;
struct net_tls_ref;

/* ---- tokens --------------------------------------------------------------
 * "ptk_" + 43 characters of base64url (32 random bytes, no padding). */
#define HTTP_TOKEN_PREFIX "ptk_"
#define HTTP_TOKEN_LEN 47
#define HTTP_TOKEN_HASH_LEN 32

/* A new token from libsodium's generator into out (at least
 * HTTP_TOKEN_LEN + 1 bytes, NUL-terminated) and its hash for the store.
 * The caller shows it once and wipes it (sodium_memzero). */
void http_token_new(char out[HTTP_TOKEN_LEN + 1],
		    unsigned char hash_out[HTTP_TOKEN_HASH_LEN]);
/* SHA-256 of the token's text, as stored. */
void http_token_hash(struct span token,
		     unsigned char hash_out[HTTP_TOKEN_HASH_LEN]);
/* true if s has the shape of a token (prefix, length, alphabet). */
bool http_token_well_formed(struct span s);

/* ---- the dispatcher ------------------------------------------------------ */

enum http_method {
	HTTP_M_OTHER = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_PATCH,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
};

/* One request as the transport received it. Every span is borrowed for
 * the call; p NULL means the header is absent. */
struct http_request {
	enum http_method method;
	struct span target;		/* origin-form "/path?query", raw */
	struct span authorization;	/* Authorization header value */
	struct span content_type;	/* Content-Type header value */
	struct span host;		/* Host header value (autoconfig) */
	struct span body;
	const char *peer;		/* client address as text, "" if unknown */
	int64_t now;			/* Unix seconds */
};

#define HTTP_HEADER_VALUE_MAX 128

/* The reply. body is malloc'd JSON text (NUL-terminated, body_len bytes
 * without it) owned by the response, NULL for 204. The header fields are
 * "" when not sent. */
struct http_response {
	int status;
	char *body;
	size_t body_len;
	char allow[HTTP_HEADER_VALUE_MAX];		/* 405 */
	char www_authenticate[HTTP_HEADER_VALUE_MAX];	/* 401 */
	unsigned retry_after;				/* 429, 503; 0 = none */
	/* "" = JSON; else the body's media type (the autoconfig
	 * documents: XML, a plist, CMS, HTML), sent as it is */
	char content_type[HTTP_HEADER_VALUE_MAX];
};

struct http_api_options {
	size_t max_json_body;		/* bytes; 413 past it */
	unsigned auth_fail_max;		/* failed auths per address ... */
	unsigned auth_fail_window;	/* ... in this many seconds */
	uint64_t default_quota;		/* new mailboxes, bytes; 0 unlimited */
	unsigned long long pw_opslimit;	/* Argon2id cost of new password */
	size_t pw_memlimit;		/* hashes; 0: auth_password_hash's */
	/* Login protection shared with IMAP, POP3 and SMTP (auth.h,
	 * guard.h): a locked account or address fails POST /api/v1/login,
	 * and its outcomes count there. Borrowed; NULL: the API's own
	 * per-address limiter only. */
	struct auth *auth;
	const struct config *cfg;	/* borrowed, outlives the api; NULL:
					 * the DNS doctor answers 503 */
	/* The public autoconfig listeners (decision 0041): only the
	 * unauthenticated autoconfig routes, never the admin API. */
	bool public_only;
	/* The certificate the Apple profile is signed with (borrowed,
	 * outlives the api); NULL: profiles go out unsigned. */
	struct net_tls_ref *sign_tls;
};
void http_api_options_default(struct http_api_options *o);

struct http_api;
/* st is borrowed and must outlive the api. */
struct http_api *http_api_new(struct store *st,
			      const struct http_api_options *o);
void http_api_free(struct http_api **ap);
/* Answer one request: resp is filled whole (call http_response_clear
 * after sending it). Not thread-safe: one thread per api (the rate
 * limiter's table is unlocked). */
void http_api_handle(struct http_api *api, const struct http_request *req,
		     struct http_response *resp);
void http_response_clear(struct http_response *resp);
/* "Not Found" for 404, ...; "Unknown" for codes we never send. */
const char *http_status_reason(int status);

/* ---- the server --------------------------------------------------------- */

struct http_server;
/* Serve the API on the listening sockets fds[0..nfds) (bound before the
 * privilege drop; the server takes them over) on a new thread with its
 * own event loop. tls: the context new connections take (reloadable;
 * borrowed, must outlive the server); NULL = plain HTTP (admin_plaintext).
 * The store and auth (NULL: none) are borrowed until http_server_stop.
 * limits: the daemon's per-address caps (max_connections_per_ip and its
 * ranges), counted together with the mail listeners' connections; NULL:
 * none. Borrowed too. */
struct auth;
struct net_limits;
int http_server_start(const struct config *cfg, struct store *st,
		      struct auth *auth, struct net_tls_ref *tls,
		      struct net_limits *limits, const int *fds, size_t nfds,
		      struct http_server **out, struct err *err)
	__attribute__((warn_unused_result));
/* The same for the public autoconfig listeners (listen_autoconfig with
 * tls, listen_autoconfig_http with tls NULL): only the routes of
 * http_autoconf.c, request bodies to AUTOCONF_HTTP_BODY_BACKSTOP. sign:
 * the certificate Apple profiles are signed with (NULL: unsigned). */
int http_server_start_public(const struct config *cfg, struct store *st,
			     struct net_tls_ref *tls, struct net_tls_ref *sign,
			     struct net_limits *limits, const int *fds,
			     size_t nfds, struct http_server **out,
			     struct err *err)
	__attribute__((warn_unused_result));
/* Stop serving, close every connection, join the thread; *sp = NULL. */
void http_server_stop(struct http_server **sp);

#endif
