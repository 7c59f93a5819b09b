/* smtp_cmd.c - SMTP commands: a table of verb, handler and the state each
 * needs. Each handler checks its arguments (smtp_parse.c), then acts and
 * replies. Every reply carries an RFC 3463 enhanced status code
 * (RFC 2034 ENHANCEDSTATUSCODES). */
#include "smtp/smtp_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "smtp/smtp_sender.h"

#define F_NEED_HELO 0x1u	/* 503 before HELO/EHLO */
#define F_NO_ARG    0x2u	/* 501 if an argument is given */
#define F_NOT_BDAT  0x4u	/* 503 inside a BDAT transaction (RFC 3030 2) */
#define F_NEED_AUTH 0x8u	/* submission: 530 before TLS and AUTH */

typedef void cmd_fn(struct smtp_session *s, struct span arg);

static void fail(struct smtp_session *s, enum smtp_verb v, const struct err *err)
{
	s->failed[v]++;
	s->errors++;
	smtp_reply_err(s, err);
}

static void fail_with(struct smtp_session *s, enum smtp_verb v, int code,
		      const char *esc, const char *text)
{
	struct err err;
	err_set(&err, ERR_PEER, code, esc, "%s", text);
	fail(s, v, &err);
}

static void cmd_helo_common(struct smtp_session *s, struct span arg, bool esmtp)
{
	struct err err;
	enum smtp_verb v = esmtp ? SMTP_VERB_EHLO : SMTP_VERB_HELO;
	if (smtp_parse_helo(arg, s->helo, sizeof s->helo, &err) != 0) {
		fail(s, v, &err);
		return;
	}
	/* RFC 5321 4.1.4: HELO/EHLO in a session resets the transaction. */
	smtp_tx_reset(s);
	s->helo_done = true;
	s->esmtp = esmtp;
	const struct config *cfg = s->srv->cfg;
	if (!esmtp) {
		net_conn_reply(s->c, "250 %s", cfg->hostname);
		return;
	}
	net_conn_reply(s->c, "250-%s", cfg->hostname);
	net_conn_reply(s->c, "250-PIPELINING");
	net_conn_reply(s->c, "250-SIZE %llu", (unsigned long long)cfg->smtp_max_message_size);
	if (s->srv->tls != NULL && !s->c->tls)
		net_conn_reply(s->c, "250-STARTTLS");
	/* RFC 4954 4 / RFC 6409: no passwords in clear, so AUTH only
	 * over TLS */
	if (s->srv->submission && s->c->tls)
		net_conn_reply(s->c, "250-AUTH %s", smtp_auth_mechs(s));
	net_conn_reply(s->c, "250-ENHANCEDSTATUSCODES");
	net_conn_reply(s->c, "250-8BITMIME");
	net_conn_reply(s->c, "250-SMTPUTF8");
	net_conn_reply(s->c, "250-CHUNKING");
	/* RFC 3461 on submission only: on the MX port it would let anyone
	 * have us send success reports to a forged sender (backscatter) */
	if (s->srv->submission)
		net_conn_reply(s->c, "250-DSN");
	net_conn_reply(s->c, "250 HELP");
}

static void cmd_helo(struct smtp_session *s, struct span arg)
{
	cmd_helo_common(s, arg, false);
}

static void cmd_ehlo(struct smtp_session *s, struct span arg)
{
	cmd_helo_common(s, arg, true);
}

/* Submission: the user may send as this sender, and has not reached the
 * hourly limit. false: replied. */
static bool submission_sender_ok(struct smtp_session *s)
{
	char logaddr[200];
	log_escape(span_cstr(s->from.addr), logaddr, sizeof logaddr);
	/* A null sender is for bounces, which an MTA makes, not a user: from
	 * a user it would send mail nobody can reply or bounce to
	 * (decision 0015). */
	if (s->from.null_path || !smtp_sender_owned(s->srv->store, s->user, s->from.addr)) {
		log_info("smtp", s->c->id, "reject from=<%s> user=%s reason=sender_not_owned ip=%s",
			 logaddr, s->user, s->c->ip);
		s->failed[SMTP_VERB_MAIL]++;
		s->errors++;
		net_conn_reply(s->c, "553 5.7.1 Sender address not owned by user <%s>", s->user);
		return false;
	}
	unsigned limit = s->srv->cfg->submission_max_messages_per_hour;
	if (!smtp_rate_allow(s->srv->rate, s->user_id, limit)) {
		log_info("smtp", s->c->id, "reject user=%s reason=hourly_limit limit=%u ip=%s",
			 s->user, limit, s->c->ip);
		s->failed[SMTP_VERB_MAIL]++;
		net_conn_reply(s->c, "452 4.7.0 Sending limit of %u messages per hour reached, try again later",
			       limit);
		return false;
	}
	return true;
}

static void cmd_mail(struct smtp_session *s, struct span arg)
{
	struct err err;
	if (s->has_mail) {
		fail_with(s, SMTP_VERB_MAIL, 503, "5.5.1", "Error: nested MAIL command");
		return;
	}
	const struct config *cfg = s->srv->cfg;
	if (smtp_parse_mail(arg, cfg->smtp_max_message_size, &s->from, &s->mail,
			    &err) != 0) {
		fail(s, SMTP_VERB_MAIL, &err);
		return;
	}
	if (s->mail.dsn && !s->srv->submission) {
		fail_with(s, SMTP_VERB_MAIL, 555, "5.5.4", "Unsupported MAIL parameter");
		return;
	}
	if (s->mail.body == SMTP_BODY_BINARYMIME) {
		/* We do not offer BINARYMIME (RFC 3030 3). */
		fail_with(s, SMTP_VERB_MAIL, 555, "5.5.4", "BODY=BINARYMIME is not supported");
		return;
	}
	if (s->from.utf8 && !s->mail.smtputf8) {
		/* RFC 6531 3.4 */
		fail_with(s, SMTP_VERB_MAIL, 553, "5.6.7",
			  "Non-ASCII address needs the SMTPUTF8 parameter");
		return;
	}
	if (s->srv->submission && !submission_sender_ok(s))
		return;
	s->has_mail = true;
	net_conn_reply(s->c, "250 2.1.0 Ok");
}

/* Quotas of the mailboxes res reaches: the mailbox's (as before the
 * tenants model) and its domain's total (decision 0022); and the bound
 * on the addresses one transaction expands to. false: replied. */
static bool rcpt_limits_ok(struct smtp_session *s, struct store_resolved *res,
			   const char *logaddr)
{
	const enum smtp_verb v = SMTP_VERB_RCPT;
	if (s->n_rcpts + res->n > SMTP_EXPANDED_MAX) {
		s->failed[v]++;
		net_conn_reply(s->c, "452 4.5.3 Error: too many recipients after expansion");
		return false;
	}
	uint64_t want = s->mail.has_size ? s->mail.size : 0;
	size_t skipped = 0;
	for (size_t i = 0; i < res->n; i++) {
		struct store_target *t = &res->targets[i];
		if (t->mailbox_id == 0)
			continue;
		bool one = res->n == 1;
		if (!one && t->quota > 0 && t->used >= t->quota) {
			/* One full member does not hold up a whole group:
			 * it misses this message (decision 0022). */
			log_info("smtp", s->c->id, "skip rcpt=\"%s\" member=%s reason=quota ip=%s",
				 logaddr, t->addr, s->c->ip);
			t->mailbox_id = -1;
			skipped++;
			continue;
		}
		if (t->quota > 0 && one && s->mail.has_size && want > t->quota) {
			/* RFC 3463 5.2.2; can never fit, so permanent. */
			fail_with(s, v, 552, "5.2.2", "Mailbox full: message larger than quota");
			return false;
		}
		if (t->quota > 0 && (t->used >= t->quota || want > t->quota - t->used) && one) {
			log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=quota ip=%s", logaddr, s->c->ip);
			fail_with(s, v, 452, "4.2.2", "Mailbox full, try again later");
			return false;
		}
		if (t->domain_quota > 0 &&
		    (t->domain_used >= t->domain_quota || want > t->domain_quota - t->domain_used)) {
			log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=domain_quota ip=%s", logaddr, s->c->ip);
			fail_with(s, v, 452, "4.2.2", "Domain storage full, try again later");
			return false;
		}
	}
	if (skipped == res->n) {
		fail_with(s, v, 452, "4.2.2", "Mailboxes full, try again later");
		return false;
	}
	return true;
}

static void add_rcpt(struct smtp_session *s, const char *addr,
		     const struct smtp_rcpt_params *dsn, int64_t mailbox_id)
{
	/* A message reaches each mailbox and external address once, however
	 * often (directly, through aliases or groups) it was named. */
	for (size_t i = 0; i < s->n_rcpts; i++)
		if (s->rcpts[i].mailbox_id == mailbox_id &&
		    (mailbox_id != 0 || strcasecmp(s->rcpts[i].addr, addr) == 0))
			return;
	if (s->n_rcpts == s->cap_rcpts) {
		size_t ncap = s->cap_rcpts ? s->cap_rcpts * 2 : 4;
		s->rcpts = xreallocarray(s->rcpts, ncap, sizeof *s->rcpts);
		s->mailbox_ids = xreallocarray(s->mailbox_ids, ncap, sizeof *s->mailbox_ids);
		s->cap_rcpts = ncap;
	}
	struct smtp_rcpt *r = &s->rcpts[s->n_rcpts++];
	r->mailbox_id = mailbox_id;
	snprintf(r->addr, sizeof r->addr, "%s", addr);
	if (dsn != NULL)
		r->dsn = *dsn;
	else
		memset(&r->dsn, 0, sizeof r->dsn);
	if (mailbox_id == 0) {
		s->n_remote++;	/* for the outbound queue */
		return;
	}
	s->mailbox_ids[s->n_mailboxes++] = mailbox_id;
}

static void cmd_rcpt(struct smtp_session *s, struct span arg)
{
	const enum smtp_verb v = SMTP_VERB_RCPT;
	struct err err;
	const struct config *cfg = s->srv->cfg;
	if (!s->has_mail) {
		fail_with(s, v, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->srv->submission &&
	    s->n_named >= cfg->submission_max_recipients_per_message) {
		s->failed[v]++;
		log_info("smtp", s->c->id, "reject user=%s reason=recipient_limit limit=%u ip=%s",
			 s->user, cfg->submission_max_recipients_per_message, s->c->ip);
		net_conn_reply(s->c, "452 4.5.3 Too many recipients");
		return;
	}
	if (s->n_named >= cfg->smtp_max_recipients) {
		/* RFC 5321 4.5.3.1.10: 452 so that the client sends the rest in
		 * another transaction. Not counted as a client error. */
		s->failed[v]++;
		net_conn_reply(s->c, "452 4.5.3 Error: too many recipients");
		return;
	}
	struct smtp_path path;
	struct smtp_rcpt_params dsn;
	if (smtp_parse_rcpt(arg, &path, s->srv->submission ? &dsn : NULL,
			    &err) != 0) {
		fail(s, v, &err);
		return;
	}
	char logaddr[200];
	log_escape(span_cstr(path.addr), logaddr, sizeof logaddr);
	if (path.utf8 && !s->mail.smtputf8) {
		fail_with(s, v, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8 in MAIL FROM");
		return;
	}
	bool bare_postmaster = path.domain[0] == '\0' && !path.domain_literal &&
			       strcasecmp(path.local, "postmaster") == 0;
	if (path.domain_literal || (path.domain[0] == '\0' && !bare_postmaster)) {
		log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=relay ip=%s", logaddr, s->c->ip);
		fail_with(s, v, 554, "5.7.1", "Relay access denied");
		return;
	}
	struct store_resolved res;
	if (store_resolve(s->srv->store, path.local, path.domain,
			  s->from.null_path ? "" : s->from.addr, &res, &err) < 0) {
		log_error("smtp", s->c->id, "store error=\"%s\"", err.msg);
		fail_with(s, v, 451, "4.3.0", "Temporary lookup failure, try again later");
		return;
	}
	switch (res.status) {
	case STORE_RESOLVE_OK:
		break;
	case STORE_RESOLVE_NOT_HOSTED:
		if (s->srv->submission) {
			/* An authenticated user's mail to another domain. */
			if (!s->srv->remote_rcpt) {
				log_info("smtp", s->c->id, "reject rcpt=\"%s\" user=%s reason=remote_not_available ip=%s",
					 logaddr, s->user, s->c->ip);
				fail_with(s, v, 550, "5.7.1",
					  "Delivery to other domains is not available on this server yet");
				return;
			}
			add_rcpt(s, path.addr, s->srv->submission ? &dsn : NULL, 0);
			s->n_named++;
			net_conn_reply(s->c, "250 2.1.5 Ok");
			return;
		}
		log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=relay ip=%s", logaddr, s->c->ip);
		fail_with(s, v, 554, "5.7.1", "Relay access denied");
		return;
	case STORE_RESOLVE_UNKNOWN:
		log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=unknown_user ip=%s", logaddr, s->c->ip);
		fail_with(s, v, 550, "5.1.1", "Recipient address rejected: User unknown");
		return;
	case STORE_RESOLVE_DISABLED:
		log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=disabled ip=%s", logaddr, s->c->ip);
		fail_with(s, v, 550, "5.2.1", "Recipient mailbox is disabled");
		return;
	case STORE_RESOLVE_POLICY:
		log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=group_policy ip=%s", logaddr, s->c->ip);
		fail_with(s, v, 550, "5.7.1", res.why);
		return;
	case STORE_RESOLVE_LOOP:
		log_info("smtp", s->c->id, "reject rcpt=\"%s\" reason=expansion ip=%s", logaddr, s->c->ip);
		fail_with(s, v, 550, "5.4.6", res.why);
		return;
	}
	if (rcpt_limits_ok(s, &res, logaddr)) {
		bool fwd = false;
		for (size_t i = 0; i < res.n; i++) {
			if (res.targets[i].mailbox_id >= 0)
				add_rcpt(s, res.targets[i].addr,
					 s->srv->submission ? &dsn : NULL,
					 res.targets[i].mailbox_id);
			fwd |= res.targets[i].mailbox_id == 0;
		}
		if (s->rcpt_domain[0] == '\0')
			snprintf(s->rcpt_domain, sizeof s->rcpt_domain, "%s", path.domain);
		if (fwd && s->fwd_domain[0] == '\0')
			snprintf(s->fwd_domain, sizeof s->fwd_domain, "%s", path.domain);
		s->n_named++;
		net_conn_reply(s->c, "250 2.1.5 Ok");
	}
	store_resolved_free(&res);
}

static void cmd_data(struct smtp_session *s, struct span arg)
{
	(void)arg;
	if (!s->has_mail) {
		fail_with(s, SMTP_VERB_DATA, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->n_rcpts == 0) {
		fail_with(s, SMTP_VERB_DATA, 554, "5.5.1", "Error: no valid recipients");
		return;
	}
	net_conn_reply(s->c, "354 End data with <CR><LF>.<CR><LF>");
	smtp_msg_begin(s, false);
	s->state = SMTP_S_DATA;
	net_conn_set_timeout(s->c, s->srv->cfg->smtp_data_timeout);
}

static void cmd_bdat(struct smtp_session *s, struct span arg)
{
	struct err err;
	uint64_t size;
	bool last;
	if (smtp_parse_bdat(arg, &size, &last, &err) != 0) {
		/* Without a size we cannot tell where the chunk ends, so the
		 * rest of the stream cannot be read as commands. */
		s->failed[SMTP_VERB_BDAT]++;
		smtp_reply_err(s, &err);
		net_conn_close_after_flush(s->c);
		return;
	}
	s->bdat_discard = false;
	if (!s->has_mail) {
		err_set(&s->bdat_err, ERR_PEER, 503, "5.5.1", "Error: need MAIL command");
		s->bdat_discard = true;
	} else if (s->n_rcpts == 0) {
		err_set(&s->bdat_err, ERR_PEER, 554, "5.5.1", "Error: no valid recipients");
		s->bdat_discard = true;
	}
	if (s->bdat_discard) {
		s->failed[SMTP_VERB_BDAT]++;
		s->errors++;
	} else if (!s->bdat_active) {
		smtp_msg_begin(s, true);
		s->bdat_active = true;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	s->state = SMTP_S_BDAT;
	net_conn_set_timeout(s->c, s->srv->cfg->smtp_data_timeout);
}

static void cmd_rset(struct smtp_session *s, struct span arg)
{
	(void)arg;
	smtp_tx_reset(s);
	net_conn_reply(s->c, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_session *s, struct span arg)
{
	(void)arg;	/* RFC 5321 4.1.1.9: a parameter is ignored */
	net_conn_reply(s->c, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_session *s, struct span arg)
{
	(void)arg;
	net_conn_reply(s->c, "221 2.0.0 Bye");
	net_conn_close_after_flush(s->c);
}

static void cmd_vrfy(struct smtp_session *s, struct span arg)
{
	if (arg.len == 0) {
		fail_with(s, SMTP_VERB_VRFY, 501, "5.5.4", "Syntax: VRFY address");
		return;
	}
	/* RFC 5321 3.5.3: 252 neither confirms nor denies (no harvesting). */
	net_conn_reply(s->c, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct smtp_session *s, struct span arg)
{
	(void)arg;
	/* RFC 5321 7.3: lists are not disclosed. */
	fail_with(s, SMTP_VERB_EXPN, 502, "5.5.1", "EXPN is disabled");
}

static void cmd_help(struct smtp_session *s, struct span arg)
{
	(void)arg;
	net_conn_reply(s->c, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP");
	net_conn_reply(s->c, "214-2.0.0   QUIT VRFY HELP%s%s", s->srv->tls ? " STARTTLS" : "",
		       s->srv->submission ? " AUTH" : "");
	net_conn_reply(s->c, "214 2.0.0 See RFC 5321");
}

static void cmd_starttls(struct smtp_session *s, struct span arg)
{
	(void)arg;
	if (s->srv->tls == NULL) {
		fail_with(s, SMTP_VERB_STARTTLS, 454, "4.7.0", "TLS not available");
		return;
	}
	if (s->c->tls) {
		fail_with(s, SMTP_VERB_STARTTLS, 503, "5.5.1", "Error: TLS already active");
		return;
	}
	if (s->has_mail) {
		fail_with(s, SMTP_VERB_STARTTLS, 503, "5.5.1", "Error: MAIL transaction in progress");
		return;
	}
	net_conn_reply(s->c, "220 2.0.0 Ready to start TLS");
	net_conn_starttls(s->c);
}

static const struct {
	enum smtp_verb verb;
	cmd_fn *fn;
	unsigned flags;
} commands[] = {
	{ SMTP_VERB_HELO, cmd_helo, 0 },
	{ SMTP_VERB_EHLO, cmd_ehlo, 0 },
	{ SMTP_VERB_MAIL, cmd_mail, F_NEED_HELO | F_NOT_BDAT | F_NEED_AUTH },
	{ SMTP_VERB_RCPT, cmd_rcpt, F_NEED_HELO | F_NOT_BDAT | F_NEED_AUTH },
	{ SMTP_VERB_DATA, cmd_data, F_NEED_HELO | F_NO_ARG | F_NOT_BDAT | F_NEED_AUTH },
	{ SMTP_VERB_BDAT, cmd_bdat, F_NEED_HELO },
	{ SMTP_VERB_RSET, cmd_rset, F_NO_ARG },
	{ SMTP_VERB_NOOP, cmd_noop, 0 },
	{ SMTP_VERB_QUIT, cmd_quit, F_NO_ARG },
	{ SMTP_VERB_VRFY, cmd_vrfy, F_NOT_BDAT },
	{ SMTP_VERB_EXPN, cmd_expn, F_NOT_BDAT },
	{ SMTP_VERB_HELP, cmd_help, 0 },
	{ SMTP_VERB_STARTTLS, cmd_starttls, F_NEED_HELO | F_NO_ARG | F_NOT_BDAT },
	{ SMTP_VERB_AUTH, smtp_cmd_auth, F_NEED_HELO | F_NOT_BDAT },
};

void smtp_cmd_dispatch(struct smtp_session *s, struct span line)
{
	struct smtp_cmd cmd;
	struct err err;
	if (smtp_cmd_parse(line, &cmd, &err) != 0) {
		s->count[SMTP_VERB_UNKNOWN]++;
		s->errors++;
		smtp_reply_err(s, &err);
		return;
	}
	if (log_get_level() >= LOG_DEBUG) {
		char esc[128];
		/* never the credentials of AUTH's initial response */
		struct span shown = line;
		if (cmd.verb == SMTP_VERB_AUTH) {
			const unsigned char *sp = memchr(cmd.arg.p, ' ', cmd.arg.len);
			if (sp != NULL)
				shown.len = (size_t)(sp - line.p);
		}
		log_debug("smtp", s->c->id, "command \"%s\"", log_escape(shown, esc, sizeof esc));
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		if (commands[i].verb != cmd.verb)
			continue;
		s->count[cmd.verb]++;
		unsigned f = commands[i].flags;
		if ((f & F_NEED_HELO) && !s->helo_done) {
			fail_with(s, cmd.verb, 503, "5.5.1", "Error: send HELO/EHLO first");
			return;
		}
		if ((f & F_NOT_BDAT) && s->bdat_active) {
			fail_with(s, cmd.verb, 503, "5.5.1",
				  "Error: only BDAT, RSET or QUIT may follow BDAT");
			return;
		}
		if ((f & F_NEED_AUTH) && s->srv->submission && !s->authenticated) {
			fail_with(s, cmd.verb, 530, "5.7.0", s->c->tls
				  ? "Authentication required"
				  : "Must issue a STARTTLS command first");
			return;
		}
		if ((f & F_NO_ARG) && cmd.arg.len > 0) {
			fail_with(s, cmd.verb, 501, "5.5.4", "Syntax error: no parameters allowed");
			return;
		}
		commands[i].fn(s, cmd.arg);
		return;
	}
	s->count[SMTP_VERB_UNKNOWN]++;
	s->errors++;
	net_conn_reply(s->c, "500 5.5.2 Error: command not recognized");
}
