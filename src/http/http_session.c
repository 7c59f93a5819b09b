/* http_session.c - mailbox users log in to the API (POST /api/v1/login
 * with their password, and a TOTP code when their mailbox has TOTP or
 * their domain requires two factors) and get a session token that
 * reaches only their own mailbox's routes (HTTP_ROUTE_SESSION): its
 * details, usage, password and app passwords. Sessions live in the admin
 * thread's memory as SHA-256 hashes with an expiry (decision 0023);
 * failed logins count against the client address like bad tokens, and
 * every attempt is audited. */
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/auth.h"
#include "http/http_private.h"

int http_session_find(struct http_ctx *c, struct span tok)
{
	unsigned char hash[HTTP_TOKEN_HASH_LEN];
	http_token_hash(tok, hash);
	for (size_t i = 0; i < HTTP_SESSION_MAX; i++) {
		struct http_session *s = &c->api->sessions[i];
		if (s->expires > c->req->now &&
		    sodium_memcmp(s->hash, hash, sizeof hash) == 0) {
			c->session = s;
			return 1;
		}
	}
	return 0;
}

void http_sessions_end(struct http_api *api, int64_t mailbox_id,
		       const struct http_session *keep)
{
	for (size_t i = 0; i < HTTP_SESSION_MAX; i++) {
		struct http_session *s = &api->sessions[i];
		if (s != keep && s->expires != 0 && s->mailbox_id == mailbox_id)
			memset(s, 0, sizeof *s);
	}
}

/* A free or expired slot, else the oldest session's. */
static struct http_session *session_slot(struct http_api *api, int64_t now)
{
	struct http_session *oldest = &api->sessions[0];
	for (size_t i = 0; i < HTTP_SESSION_MAX; i++) {
		struct http_session *s = &api->sessions[i];
		if (s->expires <= now)
			return s;
		if (s->created < oldest->created)
			oldest = s;
	}
	return oldest;
}

/* Unknown users are checked against this hash so that they cost the
 * same Argon2id as a wrong password (made once, with the api's cost). */
static char dummy_hash[AUTH_HASH_MAX];

static bool password_ok(struct http_ctx *c, const char *user,
			const char *pw, bool *known)
{
	char local[SMTP_LOCAL_MAX + 1], hash[AUTH_HASH_MAX] = "";
	const char *at = strrchr(user, '@');
	struct err err;
	err_clear(&err);
	*known = false;
	if (at != NULL && at != user && (size_t)(at - user) <= SMTP_LOCAL_MAX) {
		snprintf(local, sizeof local, "%.*s", (int)(at - user), user);
		*known = store_mailbox_password(c->api->st, local, at + 1, hash,
						sizeof hash, &err) == 1 &&
			 hash[0] != '\0';
	}
	if (!*known) {
		if (dummy_hash[0] == '\0') {
			char rnd[HTTP_PASSWORD_GEN + 1];
			auth_password_random(rnd, HTTP_PASSWORD_GEN);
			if (http_password_hash(c, rnd, dummy_hash,
					       sizeof dummy_hash, &err) != 0)
				dummy_hash[0] = '\0';
		}
		if (dummy_hash[0] != '\0')
			(void)auth_password_check(dummy_hash, pw, strlen(pw));
		return false;
	}
	return auth_password_check(hash, pw, strlen(pw));
}

static int login_error(struct http_ctx *c, int status, const char *code,
		       const char *field, const char *msg);

static int login_fail(struct http_ctx *c, const char *user, const char *why,
		      int status, const char *code, const char *field,
		      const char *msg)
{
	store_audit_login(c->api->st, false, user, c->req->peer, why, 0,
			  c->req->now);
	if (status == 401)
		http_auth_count_fail(c);
	return login_error(c, status, code, field, msg);
}

/* RFC 9110 15.5.2: every 401 names a scheme to authenticate with */
static int login_error(struct http_ctx *c, int status, const char *code,
		       const char *field, const char *msg)
{
	if (status == 401)
		snprintf(c->resp->www_authenticate,
			 sizeof c->resp->www_authenticate,
			 "Bearer realm=\"petrel\"");
	return http_error(c, status, code, field, "%s", msg);
}

/* ---- POST /api/v1/login -------------------------------------------------- */

static int login(struct http_ctx *c)
{
	static const char *const fields[] = { "user", "password", "totp", NULL };
	if (http_auth_blocked(c) > 0)
		return -1;
	json_t *body;
	if (http_json_request(c, fields, false, &body) != 0)
		return -1;
	int rc = -1;
	const char *user, *pw, *code = NULL;
	if (http_json_string(c, body, "user", true, STORE_ADDR_MAX, &user) < 0 ||
	    http_json_string(c, body, "password", true, HTTP_PASSWORD_MAX,
			     &pw) < 0 ||
	    http_json_string(c, body, "totp", false, 16, &code) < 0)
		goto out;
	bool known;
	struct auth *au = c->api->opt.auth;
	/* a lock fails like a wrong password, at the same cost */
	bool locked = au != NULL && auth_login_locked(au, c->req->peer, user);
	bool pw_ok = password_ok(c, user, pw, &known);
	if (au != NULL)
		(void)auth_login_outcome(au, c->req->peer, user, pw_ok && !locked,
					 0);
	if (locked || !pw_ok) {
		rc = login_fail(c, user, locked ? "api: locked" : known ?
				"api: wrong password" : "api: unknown user", 401, "invalid_credentials",
				NULL, "wrong user or password");
		goto out;
	}
	struct store *st = c->api->st;
	struct store_mailbox_info mi;
	struct store_domain d;
	struct err err;
	err_clear(&err);
	if (store_mailbox_info(st, user, &mi, &err) != 1 ||
	    store_domain_get(st, http_addr_domain(mi.mb.address), &d, &err) != 1) {
		rc = http_store_error(c, &err);
		goto out;
	}
	if (!mi.mb.enabled || d.status == STORE_DOMAIN_SUSPENDED) {
		rc = login_fail(c, user, "api: suspended", 403, "suspended",
				NULL, "this mailbox or its domain is suspended");
		goto out;
	}
	char secret[STORE_TOTP_SECRET_MAX + 1] = "";
	int64_t last_step;
	int twofa = store_domain_2fa(st, d.name, &err);
	if (twofa < 0 || store_totp_get(st, mi.mb.address, secret,
					 sizeof secret, &last_step, &err) != 0) {
		rc = http_store_error(c, &err);
		goto out;
	}
	if (secret[0] == '\0' && twofa == 1) {
		rc = login_fail(c, user, "api: 2fa required, no totp", 403,
				"totp_not_enrolled", NULL,
				"the domain requires two-factor authentication "
				"and this mailbox has no TOTP yet (petrelctl 2fa "
				"enable)");
		goto out;
	}
	if (secret[0] != '\0') {
		/* the password was right: asking for the second factor is
		 * not a failure to count */
		if (code == NULL) {
			rc = login_error(c, 401, "totp_required", "totp",
					 "this account needs a TOTP code");
			goto out;
		}
		int ok = auth_totp_verify(st, mi.mb.address, code, c->req->now,
					  &err);
		if (ok < 0) {
			rc = http_store_error(c, &err);
			goto out;
		}
		if (ok == 0) {
			if (au != NULL)
				(void)auth_login_outcome(au, c->req->peer, user,
							 false, 0);
			rc = login_fail(c, user, "api: wrong totp", 401,
					"invalid_totp", "totp",
					"the TOTP code is wrong or was used "
					"already");
			goto out;
		}
	}
	sodium_memzero(secret, sizeof secret);
	char tok[HTTP_TOKEN_LEN + 1];
	struct http_session *s = session_slot(c->api, c->req->now);
	memset(s, 0, sizeof *s);
	http_token_new(tok, s->hash);
	memcpy(tok, HTTP_SESSION_PREFIX, 4);
	http_token_hash(span_make(tok, HTTP_TOKEN_LEN), s->hash);
	snprintf(s->address, sizeof s->address, "%s", mi.mb.address);
	s->mailbox_id = mi.mb.id;
	s->created = c->req->now;
	s->expires = c->req->now + HTTP_SESSION_TTL;
	store_audit_login(st, true, mi.mb.address, c->req->peer, "api", 0,
			  c->req->now);
	json_t *o = json_object();
	json_object_set_new(o, "token", json_string(tok));
	json_object_set_new(o, "address", json_string(s->address));
	json_object_set_new(o, "expires", admin_json_time(s->expires));
	sodium_memzero(tok, sizeof tok);
	rc = http_reply(c, 200, o);
out:
	json_decref(body);
	return rc;
}

/* ---- the session itself -------------------------------------------------- */

static int need_session(struct http_ctx *c)
{
	if (c->session != NULL)
		return 0;
	return http_error(c, 403, "forbidden", NULL,
			  "this is for session tokens; API tokens are revoked "
			  "with petrelctl token revoke");
}

static int logout(struct http_ctx *c)
{
	if (http_params_done(c) != 0 || need_session(c) != 0)
		return -1;
	if (c->req->body.len > 0)
		return http_error(c, 400, "unexpected_body", NULL,
				  "this request takes no body");
	memset(c->session, 0, sizeof *c->session);
	c->session = NULL;
	return http_reply(c, 204, NULL);
}

static int session_show(struct http_ctx *c)
{
	if (http_params_done(c) != 0 || need_session(c) != 0)
		return -1;
	json_t *o = json_object();
	json_object_set_new(o, "address", json_string(c->session->address));
	json_object_set_new(o, "created", admin_json_time(c->session->created));
	json_object_set_new(o, "expires", admin_json_time(c->session->expires));
	return http_reply(c, 200, o);
}

static const struct http_route routes[] = {
	{ HTTP_M_POST, "/api/v1/login", login, HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_POST, "/api/v1/logout", logout, HTTP_ROUTE_SESSION },
	{ HTTP_M_GET, "/api/v1/session", session_show, HTTP_ROUTE_SESSION },
};

const struct http_route_table http_session_routes = {
	routes, sizeof routes / sizeof *routes
};
