/* imap_cmd_auth.c - commands of any state and of the not-authenticated
 * state (RFC 9051 6.1, 6.2): CAPABILITY, NOOP, LOGOUT, ID (RFC 2971),
 * ENABLE (RFC 5161), STARTTLS (RFC 9051 6.2.1), LOGIN and AUTHENTICATE
 * PLAIN (RFC 4616, with SASL-IR, RFC 4959). Passwords are checked on the
 * jobs pool; the session is busy meanwhile. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/log.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

void imap_cmd_capability(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(s, TAG(cmd), "CAPABILITY takes no arguments");
		return;
	}
	imap_out_str(&s->out, "* ");
	imap_capability_text(s, &s->out);
	imap_out_str(&s->out, "\r\n");
	imap_ok(s, TAG(cmd), "Capability completed");
}

void imap_cmd_noop(struct imap_session *s, const struct imap_cmd *cmd)
{
	/* the sync before the tagged reply is the point of NOOP */
	imap_ok(s, TAG(cmd), "NOOP completed");
}

void imap_cmd_check(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_ok(s, TAG(cmd), "CHECK completed");
}

void imap_cmd_logout(struct imap_session *s, const struct imap_cmd *cmd)
{
	imap_flush(s);
	net_conn_reply(s->c, "* BYE Logging out");
	s->state = IMAP_S_LOGOUT;
	net_conn_reply(s->c, "%s OK Logout completed", TAG(cmd));
	net_conn_close_after_flush(s->c);
}

void imap_cmd_id(struct imap_session *s, const struct imap_cmd *cmd)
{
	/* RFC 2971 3.1: "ID" SP ( "(" field-value list ")" / NIL ) */
	if (cmd->nargs != 1 || (cmd->args[0].type != IMAP_ARG_NIL &&
				cmd->args[0].type != IMAP_ARG_LIST) ||
	    (cmd->args[0].type == IMAP_ARG_LIST && cmd->args[0].list_len % 2 != 0)) {
		imap_bad(s, TAG(cmd), "Syntax: ID (field value ...) or ID NIL");
		return;
	}
	imap_out_str(&s->out, "* ID (\"name\" \"petrel\")\r\n");
	imap_ok(s, TAG(cmd), "ID completed");
}

void imap_cmd_enable(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs == 0) {
		imap_bad(s, TAG(cmd), "Syntax: ENABLE capability ...");
		return;
	}
	bool condstore = false, rev2 = false, qresync = false, utf8 = false;
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (cmd->args[i].type != IMAP_ARG_ATOM) {
			imap_bad(s, TAG(cmd), "Syntax: ENABLE capability ...");
			return;
		}
		/* RFC 5161 3.1: unknown ones are ignored */
		if (imap_arg_atom_is(&cmd->args[i], "CONDSTORE"))
			condstore = true;
		if (imap_arg_atom_is(&cmd->args[i], "IMAP4rev2"))
			rev2 = true;
		if (imap_arg_atom_is(&cmd->args[i], "QRESYNC"))
			qresync = true;
		if (imap_arg_atom_is(&cmd->args[i], "UTF8=ACCEPT"))
			utf8 = true;
	}
	imap_out_str(&s->out, "* ENABLED");
	if (condstore && !s->condstore)
		imap_out_str(&s->out, " CONDSTORE");
	if (qresync && !s->qresync)
		imap_out_str(&s->out, " QRESYNC");
	/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE */
	condstore = condstore || qresync;
	s->qresync = s->qresync || qresync;
	if (utf8 && !s->utf8_accept)
		imap_out_str(&s->out, " UTF8=ACCEPT");
	if (rev2 && !s->rev2)
		imap_out_str(&s->out, " IMAP4rev2");
	if ((rev2 || utf8) && !imap_utf8_names(s)) {
		/* quoted strings may now carry UTF-8 (RFC 9051 9 QUOTED-CHAR,
		 * RFC 6855 3) */
		struct imap_parse_limits lim;
		imap_parse_limits_default(&lim);
		lim.max_literal = s->srv->cfg->smtp_max_message_size;
		lim.utf8 = true;
		imap_parser_set_limits(s->parser, &lim);
	}
	imap_out_str(&s->out, "\r\n");
	s->condstore = s->condstore || condstore;
	s->rev2 = s->rev2 || rev2;
	s->utf8_accept = s->utf8_accept || utf8;
	imap_ok(s, TAG(cmd), "Enabled");
}

void imap_cmd_starttls(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (s->srv->tls == NULL || s->c->tls) {
		imap_bad(s, TAG(cmd), "%s", s->c->tls ? "TLS is already active" :
			 "TLS is not available");
		return;
	}
	imap_ok(s, TAG(cmd), "Begin TLS negotiation now");
	/* RFC 9051 6.2.1 / CVE-2011-0411: what came after STARTTLS in clear
	 * is dropped, in the reader and in the connection */
	imap_parser_drop_pending(s->parser);
	net_conn_starttls(s->c);
}

static bool plaintext_ok(struct imap_session *s, const char *tag)
{
	/* RFC 9051 6.2.3 / LOGINDISABLED: no passwords in clear */
	if (s->c->tls || s->srv->cfg->imap_plaintext_auth)
		return true;
	imap_no(s, tag, "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections; use STARTTLS");
	return false;
}

static void wake(struct auth_login *a)
{
	struct imap_session *s = a->arg;
	event_active(s->wake_ev, EV_READ, 0);
}

static void start_login(struct imap_session *s, const char *tag,
			struct span user, struct span pw)
{
	struct auth_login *a = &s->login;
	memset(a, 0, sizeof *a);
	snprintf(s->tag, sizeof s->tag, "%s", tag);
	if (span_to_cstr(user, a->user, sizeof a->user) != 0 ||
	    pw.len >= sizeof a->password || user.len == 0) {
		imap_no(s, tag, "[AUTHENTICATIONFAILED] Authentication failed");
		return;
	}
	memcpy(a->password, pw.p, pw.len);
	a->password_len = pw.len;
	a->done = wake;
	a->arg = s;
	snprintf(a->ip, sizeof a->ip, "%s", s->c->ip);
	a->proto = "imap";
	a->base_delay = s->srv->cfg->auth_failure_delay;
	s->login_busy = true;
	net_conn_set_busy(s->c);
	auth_login_submit(s->srv->auth, a);
}

void imap_cmd_login(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct span user, pw;
	if (cmd->nargs != 2 || !imap_arg_astring(&cmd->args[0], &user) ||
	    !imap_arg_astring(&cmd->args[1], &pw)) {
		imap_bad(s, TAG(cmd), "Syntax: LOGIN user password");
		return;
	}
	if (!plaintext_ok(s, TAG(cmd)))
		return;
	start_login(s, TAG(cmd), user, pw);
}

/* RFC 9051 6.2.2: the PLAIN response (RFC 4616), base64 */
static void sasl_plain(struct imap_session *s, const char *tag, struct span b64)
{
	char user[320], pw[256];
	size_t pwlen;
	switch (auth_sasl_plain(b64, user, sizeof user, pw, sizeof pw, &pwlen)) {
	case AUTH_SASL_OK:
		start_login(s, tag, span_cstr(user), span_make(pw, pwlen));
		sodium_memzero(pw, sizeof pw);
		return;
	case AUTH_SASL_BAD_BASE64:
		imap_bad(s, tag, "Invalid base64 in the SASL response");
		return;
	case AUTH_SASL_MALFORMED:
		imap_bad(s, tag, "Malformed PLAIN response");
		return;
	case AUTH_SASL_AUTHZ:
		imap_no(s, tag, "[AUTHORIZATIONFAILED] Authorization identity not allowed");
		return;
	}
}

void imap_cmd_authenticate(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != IMAP_ARG_ATOM) {
		imap_bad(s, TAG(cmd), "Syntax: AUTHENTICATE mechanism [initial-response]");
		return;
	}
	if (!imap_arg_atom_is(&cmd->args[0], "PLAIN")) {
		imap_no(s, TAG(cmd), "[CANNOT] Unsupported authentication mechanism");
		return;
	}
	if (!plaintext_ok(s, TAG(cmd)))
		return;
	struct span ir;
	if (cmd->nargs == 2) {
		if (!imap_arg_astring(&cmd->args[1], &ir)) {
			imap_bad(s, TAG(cmd), "Invalid initial response");
			return;
		}
		sasl_plain(s, TAG(cmd), ir);
		return;
	}
	snprintf(s->tag, sizeof s->tag, "%s", TAG(cmd));
	s->mode = IMAP_M_SASL;
	net_conn_reply(s->c, "+ ");
}

void imap_sasl_response(struct imap_session *s, struct span line)
{
	s->mode = IMAP_M_COMMAND;
	char tag[sizeof s->tag];
	memcpy(tag, s->tag, sizeof tag);
	if (line.len == 1 && line.p[0] == '*') {
		imap_bad(s, tag, "Authentication cancelled");
		return;
	}
	sasl_plain(s, tag, line);
}
