/* smtp_auth.c - AUTH on the submission ports (RFC 4954): PLAIN
 * (RFC 4616), LOGIN (draft-murchison-sasl-login, for Outlook) and
 * SCRAM-SHA-256 (RFC 5802, RFC 7677). Only over TLS. Passwords are
 * checked by auth_login_submit() on the jobs pool (the session is busy
 * meanwhile); a SCRAM proof is checked here, it is two HMACs. Every
 * failure waits auth_failure_delay before its 535. Passwords are never
 * logged. */
#include "smtp/smtp_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* base64 of the largest challenge we send (server-first) */
#define CHALLENGE_MAX (2 * AUTH_SCRAM_MSG_MAX + 256)

const char *smtp_auth_mechs(const struct smtp_session *s)
{
	return s->srv->cfg->auth_scram ? "PLAIN LOGIN SCRAM-SHA-256" : "PLAIN LOGIN";
}

static void scram_end(struct smtp_session *s)
{
	if (s->scram != NULL) {
		sodium_memzero(s->scram, sizeof *s->scram);
		free(s->scram);
		s->scram = NULL;
	}
}

static void step_end(struct smtp_session *s)
{
	s->auth_step = SMTP_AUTH_NONE;
	scram_end(s);
	sodium_memzero(&s->login, sizeof s->login);
}

/* A syntax problem in the exchange: 501, the exchange is over. */
static void auth_syntax(struct smtp_session *s, const char *esc, const char *text)
{
	step_end(s);
	s->failed[SMTP_VERB_AUTH]++;
	s->errors++;
	net_conn_reply(s->c, "501 %s %s", esc, text);
}

/* Wrong credentials: log, wait delay seconds (auth_failure_delay, grown
 * by login protection), then 535. */
static void auth_failed_after(struct smtp_session *s, const char *user,
			      const char *why, unsigned delay)
{
	char u[200];
	log_escape(span_cstr(user), u, sizeof u);
	s->auth_failures++;
	log_info("smtp", s->c->id, "auth failed user=\"%s\" mech=%s ip=%s failures=%u%s%s",
		 u, s->auth_mech, s->c->ip, s->auth_failures, why ? " reason=" : "",
		 why ? why : "");
	step_end(s);
	if (!s->c->busy)
		net_conn_set_busy(s->c);
	struct timeval tv = { (time_t)delay, 0 };
	evtimer_add(s->delay_ev, &tv);
}

static void auth_failed(struct smtp_session *s, const char *user, const char *why)
{
	auth_failed_after(s, user, why, s->srv->cfg->auth_failure_delay);
}

static void auth_ok(struct smtp_session *s, int64_t id, const char *address)
{
	s->authenticated = true;
	s->user_id = id;
	snprintf(s->user, sizeof s->user, "%s", address);
	step_end(s);
	log_info("smtp", s->c->id, "login user=%s mech=%s ip=%s", s->user,
		 s->auth_mech, s->c->ip);
	net_conn_reply(s->c, "235 2.7.0 Authentication successful");
}

static void temp_fail(struct smtp_session *s)
{
	step_end(s);
	s->failed[SMTP_VERB_AUTH]++;
	net_conn_reply(s->c, "454 4.7.0 Temporary authentication failure, try again later");
}

/* ---- PLAIN and LOGIN: the password goes to the pool ------------------- */

static void pool_done(struct auth_login *a)
{
	struct smtp_session *s = a->arg;
	event_active(s->wake_ev, EV_READ, 0);
}

/* s->login.user is set; check password (len bytes). */
static void start_check(struct smtp_session *s, const char *password, size_t len)
{
	struct auth_login *a = &s->login;
	if (len >= sizeof a->password || a->user[0] == '\0') {
		auth_failed(s, a->user, "too_long");
		return;
	}
	memcpy(a->password, password, len);
	a->password_len = len;
	a->done = pool_done;
	a->arg = s;
	snprintf(a->ip, sizeof a->ip, "%s", s->c->ip);
	a->proto = "smtp";
	a->base_delay = s->srv->cfg->auth_failure_delay;
	s->auth_step = SMTP_AUTH_NONE;
	s->login_busy = true;
	net_conn_set_busy(s->c);
	auth_login_submit(s->srv->auth, a);
}

void smtp_auth_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	struct net_conn *c = s->c;
	struct auth_login *a = &s->login;
	s->login_busy = false;
	if (a->temp_fail) {
		log_error("smtp", c->id, "auth store failure ip=%s", c->ip);
		if (!c->peer_gone)
			temp_fail(s);
	} else if (!a->ok) {
		char user[sizeof a->user];
		bool need_app = a->app_password_required;
		memcpy(user, a->user, sizeof user);
		auth_failed_after(s, user, NULL, a->delay);
		a->app_password_required = need_app;	/* for the reply */
		return;		/* busy until smtp_auth_delay_done */
	} else if (!c->peer_gone) {
		auth_ok(s, a->mailbox_id, a->address);
	}
	sodium_memzero(a, sizeof *a);
	(void)net_conn_done_busy(c);	/* false: peer gone and c freed */
}

void smtp_auth_delay_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	struct net_conn *c = s->c;
	if (!c->peer_gone) {
		s->failed[SMTP_VERB_AUTH]++;
		s->errors++;
		if (s->login.app_password_required)	/* RFC 4954 6 */
			net_conn_reply(c, "534 5.7.9 Use an app password: this "
				       "domain requires two-factor authentication");
		else
			net_conn_reply(c, "535 5.7.8 Authentication credentials invalid");
		if (s->auth_failures >= AUTH_MAX_FAILURES ||
		    s->errors >= s->srv->cfg->smtp_max_errors) {
			log_info("smtp", c->id, "reject reason=too_many_auth_failures ip=%s", c->ip);
			net_conn_reply(c, "421 4.7.0 %s Too many authentication failures, closing connection",
				       s->srv->cfg->hostname);
			net_conn_close_after_flush(c);
		}
	}
	(void)net_conn_done_busy(c);
}

static void plain_response(struct smtp_session *s, struct span b64)
{
	char pw[256];
	size_t pwlen;
	switch (auth_sasl_plain(b64, s->login.user, sizeof s->login.user, pw,
				sizeof pw, &pwlen)) {
	case AUTH_SASL_OK:
		start_check(s, pw, pwlen);
		sodium_memzero(pw, sizeof pw);
		return;
	case AUTH_SASL_BAD_BASE64:
		auth_syntax(s, "5.5.2", "Invalid base64 data");
		return;
	case AUTH_SASL_MALFORMED:
		auth_syntax(s, "5.5.2", "Malformed PLAIN response");
		return;
	case AUTH_SASL_AUTHZ:
		auth_failed(s, "", "authzid");
		return;
	}
}

/* LOGIN: the user name, then the password, each base64 on its own. */
static void login_response(struct smtp_session *s, struct span b64)
{
	unsigned char raw[320];
	size_t len;
	if (auth_sasl_decode(b64, raw, sizeof raw, &len) != AUTH_SASL_OK) {
		sodium_memzero(raw, sizeof raw);
		auth_syntax(s, "5.5.2", "Invalid base64 data");
		return;
	}
	if (memchr(raw, '\0', len) != NULL) {
		sodium_memzero(raw, sizeof raw);
		auth_syntax(s, "5.5.2", "Malformed LOGIN response");
		return;
	}
	if (s->auth_step == SMTP_AUTH_LOGIN_USER) {
		if (len == 0 || len >= sizeof s->login.user) {
			auth_syntax(s, "5.5.2", "Malformed LOGIN user name");
			return;
		}
		memcpy(s->login.user, raw, len);
		s->login.user[len] = '\0';
		s->auth_step = SMTP_AUTH_LOGIN_PASS;
		net_conn_reply(s->c, "334 UGFzc3dvcmQ6");	/* "Password:" */
		return;
	}
	start_check(s, (const char *)raw, len);
	sodium_memzero(raw, sizeof raw);
}

/* ---- SCRAM-SHA-256 ------------------------------------------------------ */

static void scram_first(struct smtp_session *s, struct span b64)
{
	unsigned char raw[AUTH_SCRAM_MSG_MAX];
	size_t len;
	char out[CHALLENGE_MAX];
	if (auth_sasl_decode(b64, raw, sizeof raw, &len) != AUTH_SASL_OK) {
		auth_syntax(s, "5.5.2", "Invalid base64 data");
		return;
	}
	s->scram = xcalloc(1, sizeof *s->scram);
	switch (auth_scram_client_first(s->scram, raw, len)) {
	case AUTH_SASL_OK:
		break;
	case AUTH_SASL_AUTHZ:
		auth_failed(s, s->scram->user, "authzid");
		return;
	default:
		auth_syntax(s, "5.5.2", "Malformed SCRAM client-first message");
		return;
	}
	snprintf(s->scram->ip, sizeof s->scram->ip, "%s", s->c->ip);
	if (auth_scram_lookup(s->srv->auth, s->scram) != 0) {
		temp_fail(s);
		return;
	}
	if (auth_scram_server_first(s->scram, out, sizeof out) != 0) {
		temp_fail(s);
		return;
	}
	s->auth_step = SMTP_AUTH_SCRAM_FINAL;
	net_conn_reply(s->c, "334 %s", out);
}

static void scram_final(struct smtp_session *s, struct span b64)
{
	unsigned char raw[AUTH_SCRAM_MSG_MAX];
	size_t len;
	char out[256];
	bool proof_ok;
	struct auth_scram *sc = s->scram;
	if (auth_sasl_decode(b64, raw, sizeof raw, &len) != AUTH_SASL_OK) {
		auth_syntax(s, "5.5.2", "Invalid base64 data");
		return;
	}
	if (auth_scram_client_final(sc, raw, len, &proof_ok, out, sizeof out) !=
	    AUTH_SASL_OK) {
		auth_syntax(s, "5.5.2", "Malformed SCRAM client-final message");
		return;
	}
	if (!proof_ok || !sc->real || !sc->enabled) {
		/* A mailbox without a stored SCRAM secret (its password was
		 * set before SCRAM existed) gets the mock salt like an
		 * unknown user, and is logged so that admins can reset it. */
		bool no_secret = sc->mailbox_id != 0 && !sc->real;
		unsigned delay = auth_login_outcome(s->srv->auth, s->c->ip,
						    sc->user, false,
						    s->srv->cfg->auth_failure_delay);
		auth_failed_after(s, sc->user, no_secret ? "no_scram_secret" :
				  (sc->mailbox_id != 0 && !sc->enabled) ? "disabled" : NULL,
				  delay);
		return;
	}
	s->auth_step = SMTP_AUTH_SCRAM_ACK;
	net_conn_reply(s->c, "334 %s", out);
}

/* ---- the command and its continuation lines ---------------------------- */

void smtp_auth_line(struct smtp_session *s, struct span line)
{
	if (line.len == 1 && line.p[0] == '*') {
		/* RFC 4954 4: the client cancels */
		auth_syntax(s, "5.0.0", "Authentication cancelled");
		return;
	}
	switch (s->auth_step) {
	case SMTP_AUTH_PLAIN:
		plain_response(s, line);
		break;
	case SMTP_AUTH_LOGIN_USER:
	case SMTP_AUTH_LOGIN_PASS:
		login_response(s, line);
		break;
	case SMTP_AUTH_SCRAM_FIRST:
		scram_first(s, line);
		break;
	case SMTP_AUTH_SCRAM_FINAL:
		scram_final(s, line);
		break;
	case SMTP_AUTH_SCRAM_ACK: {
		/* RFC 4954 4: the empty response to the server-final data */
		int64_t id = s->scram->mailbox_id;
		char address[AUTH_USER_MAX];
		snprintf(address, sizeof address, "%s", s->scram->address);
		if (line.len != 0) {
			auth_syntax(s, "5.5.2", "Expected an empty response");
			return;
		}
		/* the name as the client gave it: what failures counted */
		(void)auth_login_outcome(s->srv->auth, s->c->ip, s->scram->user,
					 true, 0);
		auth_ok(s, id, address);
		break;
	}
	case SMTP_AUTH_NONE:
		break;
	}
}

void smtp_cmd_auth(struct smtp_session *s, struct span arg)
{
	const enum smtp_verb v = SMTP_VERB_AUTH;
	if (!s->srv->submission) {
		s->failed[v]++;
		s->errors++;
		net_conn_reply(s->c, "503 5.5.1 Error: authentication is not enabled on this port");
		return;
	}
	const char *err = NULL, *esc = "5.5.1";
	int code = 503;
	if (!s->c->tls) {
		code = 530, esc = "5.7.0", err = "Must issue a STARTTLS command first";
	} else if (s->authenticated) {
		err = "Already authenticated";
	} else if (s->has_mail) {
		err = "Error: MAIL transaction in progress";
	}
	if (err != NULL) {
		s->failed[v]++;
		s->errors++;
		net_conn_reply(s->c, "%d %s %s", code, esc, err);
		return;
	}
	const unsigned char *sp = memchr(arg.p, ' ', arg.len);
	struct span mech = span_make(arg.p, sp ? (size_t)(sp - arg.p) : arg.len);
	struct span ir = sp ? span_make(sp + 1, arg.len - mech.len - 1) : span_make("", 0);
	bool has_ir = sp != NULL;
	if (mech.len == 0 || (has_ir && (ir.len == 0 || memchr(ir.p, ' ', ir.len) != NULL))) {
		s->failed[v]++;
		s->errors++;
		net_conn_reply(s->c, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	memset(&s->login, 0, sizeof s->login);
	if (span_eq_ci(mech, "PLAIN")) {
		s->auth_mech = "PLAIN";
		s->auth_step = SMTP_AUTH_PLAIN;
		if (has_ir)
			plain_response(s, ir);
		else
			net_conn_reply(s->c, "334 ");
	} else if (span_eq_ci(mech, "LOGIN")) {
		s->auth_mech = "LOGIN";
		s->auth_step = SMTP_AUTH_LOGIN_USER;
		if (has_ir)
			login_response(s, ir);
		else
			net_conn_reply(s->c, "334 VXNlcm5hbWU6");	/* "Username:" */
	} else if (span_eq_ci(mech, "SCRAM-SHA-256") && s->srv->cfg->auth_scram) {
		s->auth_mech = "SCRAM-SHA-256";
		s->auth_step = SMTP_AUTH_SCRAM_FIRST;
		if (has_ir)
			scram_first(s, ir);
		else
			net_conn_reply(s->c, "334 ");
	} else {
		s->failed[v]++;
		s->errors++;
		net_conn_reply(s->c, "504 5.5.4 Unrecognized authentication type");
	}
}
