/* http_auth.c - bearer tokens: making them, hashing them, and checking
 * the Authorization header of a request (RFC 6750) against the store,
 * with failed attempts counted per client address (429 past the limit).
 * Tokens are 256 random bits, so the store keeps a plain SHA-256 of each
 * (decision 0020): no salt or slow hash is needed against guessing. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/log.h"
#include "http/http_private.h"

_Static_assert(HTTP_TOKEN_HASH_LEN == STORE_TOKEN_HASH_LEN, "token hash");
_Static_assert(HTTP_TOKEN_HASH_LEN == crypto_hash_sha256_BYTES, "sha-256");

void http_token_hash(struct span token,
		     unsigned char hash_out[HTTP_TOKEN_HASH_LEN])
{
	crypto_hash_sha256(hash_out, token.p, token.len);
}

void http_token_new(char out[HTTP_TOKEN_LEN + 1],
		    unsigned char hash_out[HTTP_TOKEN_HASH_LEN])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	memcpy(out, HTTP_TOKEN_PREFIX, 4);
	/* 32 bytes are 43 base64url characters without padding, plus NUL */
	sodium_bin2base64(out + 4, HTTP_TOKEN_LEN + 1 - 4, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	http_token_hash(span_make(out, HTTP_TOKEN_LEN), hash_out);
}

bool http_token_well_formed(struct span s)
{
	if (s.len != HTTP_TOKEN_LEN || memcmp(s.p, HTTP_TOKEN_PREFIX, 4) != 0)
		return false;
	for (size_t i = 4; i < s.len; i++) {
		unsigned char ch = s.p[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

/* ---- failed attempts per address ---------------------------------------- */

static struct http_auth_slot *slot_find(struct http_api *api, const char *ip,
					int64_t now, bool create)
{
	struct http_auth_slot *oldest = NULL;
	for (size_t i = 0; i < HTTP_AUTH_FAIL_SLOTS; i++) {
		struct http_auth_slot *s = &api->fails[i];
		if (s->ip[0] != '\0' && !strcmp(s->ip, ip)) {
			if (now - s->window_start >= api->opt.auth_fail_window) {
				s->window_start = now;
				s->fails = 0;
			}
			return s;
		}
		if (oldest == NULL || s->window_start < oldest->window_start)
			oldest = s;
	}
	if (!create)
		return NULL;
	/* full: the oldest window is the one closest to its end anyway */
	snprintf(oldest->ip, sizeof oldest->ip, "%s", ip);
	oldest->window_start = now;
	oldest->fails = 0;
	return oldest;
}

/* Seconds until ip may try again, 0 if it may now. */
static unsigned blocked_for(struct http_api *api, const char *ip, int64_t now)
{
	struct http_auth_slot *s = slot_find(api, ip, now, false);
	if (s == NULL || s->fails < api->opt.auth_fail_max)
		return 0;
	int64_t left = s->window_start + api->opt.auth_fail_window - now;
	return left > 0 ? (unsigned)left : 1;
}

static int fail(struct http_ctx *c, const char *code, const char *msg)
{
	const struct http_request *r = c->req;
	struct http_auth_slot *s = slot_find(c->api, r->peer, r->now, true);
	s->fails++;
	log_info("http", NULL, "auth failed ip=%s reason=%s fails=%u", r->peer,
		 code, s->fails);
	snprintf(c->resp->www_authenticate, sizeof c->resp->www_authenticate,
		 "Bearer realm=\"petrel\", error=\"invalid_token\"");
	return http_error(c, 401, code, NULL, "%s", msg);
}

unsigned http_auth_blocked(struct http_ctx *c)
{
	unsigned wait = blocked_for(c->api, c->req->peer, c->req->now);
	if (wait > 0) {
		c->resp->retry_after = wait;
		http_error(c, 429, "too_many_requests", NULL,
			   "too many failed authentications from this "
			   "address; retry in %u seconds", wait);
	}
	return wait;
}

void http_auth_count_fail(struct http_ctx *c)
{
	slot_find(c->api, c->req->peer, c->req->now, true)->fails++;
}

/* A mailbox user's session token: only on the routes open to sessions
 * (whose handlers keep it to its own mailbox). */
static int session_auth(struct http_ctx *c, struct span tok)
{
	/* the token's text has the shape of an API token but its prefix */
	char t[HTTP_TOKEN_LEN + 1];
	memcpy(t, tok.p, tok.len);
	memcpy(t, HTTP_TOKEN_PREFIX, 4);
	if (!http_token_well_formed(span_make(t, tok.len)))
		return fail(c, "invalid_token", "the token is malformed");
	if (http_session_find(c, tok) != 1)
		return fail(c, "invalid_token",
			    "the session is unknown, expired or logged out");
	if (!(c->route->flags & HTTP_ROUTE_SESSION))
		return http_error(c, 403, "forbidden", NULL,
				  "a session token may only manage its own "
				  "mailbox (see docs/api.md, Scopes)");
	c->authed = true;
	snprintf(c->token.name, sizeof c->token.name, "session");
	const char *at = strrchr(c->session->address, '@');
	snprintf(c->token.domain, sizeof c->token.domain, "%s", at ? at + 1 : "");
	char actor[STORE_ADDR_MAX + 16];
	snprintf(actor, sizeof actor, "session:%s", c->session->address);
	store_audit_set_actor(actor);
	return 0;
}

int http_auth(struct http_ctx *c)
{
	const struct http_request *r = c->req;
	unsigned wait = blocked_for(c->api, r->peer, r->now);
	if (wait > 0) {
		c->resp->retry_after = wait;
		return http_error(c, 429, "too_many_requests", NULL,
				  "too many failed authentications from this "
				  "address; retry in %u seconds", wait);
	}
	struct span h = span_trim(r->authorization);
	if (r->authorization.p == NULL || h.len == 0) {
		/* RFC 6750 3.1: no error code when no credentials came */
		snprintf(c->resp->www_authenticate,
			 sizeof c->resp->www_authenticate, "Bearer realm=\"petrel\"");
		return http_error(c, 401, "unauthorized", NULL,
				  "an Authorization: Bearer token is required");
	}
	if (h.len < 7 || !span_prefix_ci(h, "Bearer "))
		return fail(c, "invalid_token",
			    "the Authorization header is not a Bearer token");
	struct span tok = span_trim(span_make(h.p + 7, h.len - 7));
	if (tok.len == HTTP_TOKEN_LEN && !memcmp(tok.p, HTTP_SESSION_PREFIX, 4))
		return session_auth(c, tok);
	if (!http_token_well_formed(tok))
		return fail(c, "invalid_token", "the token is malformed");
	unsigned char hash[HTTP_TOKEN_HASH_LEN];
	http_token_hash(tok, hash);
	struct err err;
	err_clear(&err);
	int rc = store_token_find(c->api->st, hash, &c->token, &err);
	if (rc < 0)
		return http_store_error(c, &err);
	/* found by its hash; comparing again in constant time costs nothing
	 * and keeps the check independent of how the store looks it up */
	if (rc == 0 || sodium_memcmp(hash, c->token.hash, sizeof hash) != 0 ||
	    c->token.revoked)
		return fail(c, "invalid_token", "the token is unknown or revoked");
	c->authed = true;
	char actor[STORE_TOKEN_NAME_MAX + 32];
	snprintf(actor, sizeof actor, "api:%s", c->token.name);
	store_audit_set_actor(actor);
	if (r->now - c->token.last_used >= HTTP_TOKEN_TOUCH_INTERVAL ||
	    strcmp(c->token.last_ip, r->peer) != 0) {
		if (store_token_touch(c->api->st, c->token.id, r->now, r->peer,
				      &err) != 0)
			log_warn("http", NULL, "token_id=%lld last use not recorded",
				 (long long)c->token.id);
	}
	return 0;
}

bool http_scope_allows(const struct http_ctx *c, const char *domain)
{
	if (c->token.domain[0] == '\0')
		return true;
	return domain != NULL && strcasecmp(c->token.domain, domain) == 0;
}
