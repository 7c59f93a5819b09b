/* pop3_cmd.c - POP3 commands (RFC 1939), CAPA (RFC 2449), STLS
 * (RFC 2595) and AUTH PLAIN (RFC 5034), dispatched through a table of
 * keyword, handler and the state each is allowed in. Passwords are checked
 * on the jobs pool; deletions are committed at QUIT (UPDATE state) through
 * the store, also on the pool. */
#include "pop3/pop3_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define ST_AUTH 0x1u
#define ST_TRANS 0x2u

static void fail(struct pop3_session *s, const char *text)
{
	s->errors++;
	net_conn_reply(s->c, "-ERR %s", text);
}

static bool lock_maildrop(struct pop3_server *srv, int64_t id)
{
	bool ok = true;
	pthread_mutex_lock(&srv->lock_mu);
	for (size_t i = 0; i < srv->n_locked; i++)
		if (srv->locked[i] == id)
			ok = false;
	if (ok) {
		if (srv->n_locked == srv->cap_locked) {
			srv->cap_locked = srv->cap_locked ? srv->cap_locked * 2 : 16;
			srv->locked = xreallocarray(srv->locked, srv->cap_locked,
						    sizeof *srv->locked);
		}
		srv->locked[srv->n_locked++] = id;
	}
	pthread_mutex_unlock(&srv->lock_mu);
	return ok;
}

void pop3_unlock(struct pop3_session *s)
{
	if (!s->locked)
		return;
	struct pop3_server *srv = s->srv;
	pthread_mutex_lock(&srv->lock_mu);
	for (size_t i = 0; i < srv->n_locked; i++)
		if (srv->locked[i] == s->mailbox_id) {
			srv->locked[i] = srv->locked[--srv->n_locked];
			break;
		}
	pthread_mutex_unlock(&srv->lock_mu);
	s->locked = false;
}

static bool plaintext_ok(struct pop3_session *s)
{
	/* RFC 2595 2.2 / 8: no passwords in clear unless configured */
	if (s->c->tls || s->srv->cfg->pop3_plaintext_auth)
		return true;
	fail(s, "[AUTH] Plaintext authentication disallowed on non-secure connections; use STLS");
	return false;
}

/* ---- authorization ---------------------------------------------------- */

static void wake(struct auth_login *a)
{
	struct pop3_session *s = a->arg;
	event_active(s->wake_ev, EV_READ, 0);
}

static void start_login(struct pop3_session *s, const char *user,
			const unsigned char *pw, size_t pwlen)
{
	struct auth_login *a = &s->login;
	memset(a, 0, sizeof *a);
	if (snprintf(a->user, sizeof a->user, "%s", user) >= (int)sizeof a->user ||
	    pwlen >= sizeof a->password) {
		fail(s, "[AUTH] Authentication failed");
		return;
	}
	memcpy(a->password, pw, pwlen);
	a->password_len = pwlen;
	a->done = wake;
	a->arg = s;
	snprintf(a->ip, sizeof a->ip, "%s", s->c->ip);
	a->proto = "pop3";
	a->base_delay = s->srv->cfg->auth_failure_delay;
	s->pending = POP3_P_LOGIN;
	net_conn_set_busy(s->c);
	auth_login_submit(s->srv->auth, a);
}

static void cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (!plaintext_ok(s))
		return;
	if (cmd->nargs != 1 ||
	    span_to_cstr(cmd->args[0], s->user, sizeof s->user) != 0) {
		fail(s, "Syntax: USER name");
		return;
	}
	net_conn_reply(s->c, "+OK");
}

static void cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (!plaintext_ok(s))
		return;
	if (s->user[0] == '\0') {
		fail(s, "USER first");
		return;
	}
	char user[320];
	snprintf(user, sizeof user, "%s", s->user);
	s->user[0] = '\0';
	start_login(s, user, cmd->rest.p, cmd->rest.len);
}

/* RFC 5034 4: the PLAIN response, base64 */
static void sasl_plain(struct pop3_session *s, struct span b64)
{
	char user[320], pw[256];
	size_t pwlen;
	switch (auth_sasl_plain(b64, user, sizeof user, pw, sizeof pw, &pwlen)) {
	case AUTH_SASL_OK:
		start_login(s, user, (const unsigned char *)pw, pwlen);
		sodium_memzero(pw, sizeof pw);
		return;
	case AUTH_SASL_BAD_BASE64:
		fail(s, "[AUTH] Invalid base64 in the SASL response");
		return;
	case AUTH_SASL_MALFORMED:
		fail(s, "[AUTH] Malformed PLAIN response");
		return;
	case AUTH_SASL_AUTHZ:
		fail(s, "[AUTH] Authentication failed");
		return;
	}
}

static void cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (cmd->nargs == 0) {
		/* the RFC 1734 listing some clients still ask for */
		net_conn_reply(s->c, "+OK\r\nPLAIN\r\n.");
		return;
	}
	if (!span_eq_ci(cmd->args[0], "PLAIN")) {
		fail(s, "Unsupported authentication mechanism");
		return;
	}
	if (!plaintext_ok(s))
		return;
	if (cmd->nargs == 2) {
		sasl_plain(s, cmd->args[1]);
		return;
	}
	s->sasl_plain = true;
	net_conn_reply(s->c, "+ ");
}

void pop3_sasl_response(struct pop3_session *s, struct span line)
{
	s->sasl_plain = false;
	if (line.len == 1 && line.p[0] == '*') {
		fail(s, "Authentication cancelled");
		return;
	}
	sasl_plain(s, line);
}

static int add_msg(const struct store_message *m, void *arg)
{
	struct pop3_session *s = arg;
	if (s->n_msgs == UINT32_MAX)
		return 1;
	s->msgs = xreallocarray(s->msgs, (size_t)s->n_msgs + 1, sizeof *s->msgs);
	s->msgs[s->n_msgs].uid = m->uid;
	s->msgs[s->n_msgs].size = m->size;
	s->msgs[s->n_msgs].deleted = false;
	s->n_msgs++;
	return 0;
}

/* Authenticated: take the lock and read the maildrop (INBOX). */
static void enter_transaction(struct pop3_session *s)
{
	struct net_conn *c = s->c;
	struct err err;
	struct store_folder f;
	s->mailbox_id = s->login.mailbox_id;
	snprintf(s->address, sizeof s->address, "%s", s->login.address);
	if (!lock_maildrop(s->srv, s->mailbox_id)) {
		log_info("pop3", c->id, "login user=%s ip=%s result=in_use", s->address, c->ip);
		net_conn_reply(c, "-ERR [IN-USE] Mailbox is in use by another POP3 session");
		s->address[0] = '\0';
		return;
	}
	s->locked = true;
	if (store_folder_find(s->srv->store, s->mailbox_id, "INBOX", &f, &err) != 1 ||
	    store_message_each(s->srv->store, f.id, add_msg, s, &err) != 0) {
		pop3_unlock(s);
		free(s->msgs);
		s->msgs = NULL;
		s->n_msgs = 0;
		log_error("pop3", c->id, "maildrop user=%s error=\"%s\"", s->address, err.msg);
		net_conn_reply(c, "-ERR [SYS/TEMP] Cannot open the mailbox, try again later");
		s->address[0] = '\0';
		return;
	}
	s->folder_id = f.id;
	s->uidvalidity = f.uidvalidity;
	s->state = POP3_S_TRANSACTION;
	net_conn_set_timeout(c, s->srv->cfg->pop3_timeout);
	log_info("pop3", c->id, "login user=%s ip=%s messages=%u", s->address, c->ip, s->n_msgs);
	net_conn_reply(c, "+OK Logged in, %u messages", s->n_msgs);
}

/* ---- transaction ------------------------------------------------------ */

static struct pop3_msg *msg_arg(struct pop3_session *s, struct span arg)
{
	uint32_t n;
	if (!pop3_parse_msgno(arg, s->n_msgs, &n)) {
		fail(s, "No such message");
		return NULL;
	}
	struct pop3_msg *m = &s->msgs[n - 1];
	if (m->deleted) {
		fail(s, "Message is deleted");
		return NULL;
	}
	return m;
}

static void cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	uint64_t count = 0, size = 0;
	for (uint32_t i = 0; i < s->n_msgs; i++)
		if (!s->msgs[i].deleted) {
			count++;
			size += s->msgs[i].size;
		}
	net_conn_reply(s->c, "+OK %llu %llu", (unsigned long long)count,
		       (unsigned long long)size);
}

static void uidl_of(const struct pop3_session *s, const struct pop3_msg *m,
		    char *out, size_t outsz)
{
	/* RFC 1939 7: unique and stable while UIDVALIDITY stands */
	snprintf(out, outsz, "%08x%08x", s->uidvalidity, m->uid);
}

static void list_or_uidl(struct pop3_session *s, const struct pop3_cmd *cmd,
			 bool uidl)
{
	char id[24];
	if (cmd->nargs == 1) {
		struct pop3_msg *m = msg_arg(s, cmd->args[0]);
		if (m == NULL)
			return;
		uint32_t n = (uint32_t)(m - s->msgs) + 1;
		if (uidl) {
			uidl_of(s, m, id, sizeof id);
			net_conn_reply(s->c, "+OK %u %s", n, id);
		} else {
			net_conn_reply(s->c, "+OK %u %llu", n, (unsigned long long)m->size);
		}
		return;
	}
	net_conn_reply(s->c, "+OK");
	for (uint32_t i = 0; i < s->n_msgs; i++) {
		if (s->msgs[i].deleted)
			continue;
		if (uidl) {
			uidl_of(s, &s->msgs[i], id, sizeof id);
			net_conn_reply(s->c, "%u %s", i + 1, id);
		} else {
			net_conn_reply(s->c, "%u %llu", i + 1,
				       (unsigned long long)s->msgs[i].size);
		}
	}
	net_conn_reply(s->c, ".");
}

static void cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	list_or_uidl(s, cmd, false);
}

static void cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	list_or_uidl(s, cmd, true);
}

/* Queue data as a multi-line response: dot-stuffed (RFC 1939 3), ending in
 * CRLF "." CRLF. With max_body_lines set (TOP), only the header, the empty
 * line and that many body lines. */
static void send_multiline(struct pop3_session *s, const unsigned char *p,
			   size_t len, bool top, uint32_t max_body_lines)
{
	struct net_conn *c = s->c;
	bool in_body = false;
	uint32_t body_lines = 0;
	size_t i = 0;
	while (i < len) {
		if (top && in_body && body_lines >= max_body_lines)
			break;
		const unsigned char *nl = memchr(p + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - p) + 1 : len;
		if (p[i] == '.')
			net_conn_write(c, ".", 1);
		net_conn_write(c, p + i, end - i);
		if (top) {
			size_t l = end - i;
			bool blank = (l == 2 && p[i] == '\r') || l == 1;
			if (in_body)
				body_lines++;
			else if (blank)
				in_body = true;
		}
		i = end;
	}
	if (len > 0 && (i == 0 || p[i - 1] != '\n'))
		net_conn_write(c, "\r\n", 2);
	net_conn_reply(c, ".");
}

static void retr_or_top(struct pop3_session *s, const struct pop3_cmd *cmd,
			bool top)
{
	uint32_t lines = 0;
	if (cmd->nargs != (top ? 2u : 1u) ||
	    (top && !pop3_parse_count(cmd->args[1], &lines))) {
		fail(s, top ? "Syntax: TOP msg n" : "Syntax: RETR msg");
		return;
	}
	struct pop3_msg *m = msg_arg(s, cmd->args[0]);
	if (m == NULL)
		return;
	unsigned char *data;
	size_t len;
	struct err err;
	int rc = store_message_read(s->srv->store, s->folder_id, m->uid, &data, &len, &err);
	if (rc != 1) {
		log_error("pop3", s->c->id, "read uid=%u error=\"%s\"", m->uid,
			  rc < 0 ? err.msg : "gone");
		net_conn_reply(s->c, "-ERR [SYS/TEMP] Cannot read the message");
		return;
	}
	net_conn_reply(s->c, "+OK %zu octets", len);
	send_multiline(s, data, len, top, lines);
	free(data);
}

static void cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	retr_or_top(s, cmd, false);
}

static void cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	retr_or_top(s, cmd, true);
}

static void cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (cmd->nargs != 1) {
		fail(s, "Syntax: DELE msg");
		return;
	}
	struct pop3_msg *m = msg_arg(s, cmd->args[0]);
	if (m == NULL)
		return;
	m->deleted = true;
	net_conn_reply(s->c, "+OK Marked to be deleted");
}

static void cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	for (uint32_t i = 0; i < s->n_msgs; i++)
		s->msgs[i].deleted = false;
	net_conn_reply(s->c, "+OK");
}

static void cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	net_conn_reply(s->c, "+OK");
}

static void update_run(struct job *j)
{
	struct pop3_update *u = (struct pop3_update *)(void *)j;
	uint64_t modseq;
	u->rc = store_expunge(u->s->srv->store, u->s->folder_id, u->uids, u->n,
			      &modseq, &u->err);
}

static void update_done(struct job *j)
{
	struct pop3_update *u = (struct pop3_update *)(void *)j;
	event_active(u->s->wake_ev, EV_READ, 0);
}

static void cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	size_t n = 0;
	if (s->state == POP3_S_TRANSACTION)
		for (uint32_t i = 0; i < s->n_msgs; i++)
			n += s->msgs[i].deleted;
	if (n == 0) {
		net_conn_reply(s->c, "+OK Bye");
		net_conn_close_after_flush(s->c);
		return;
	}
	/* RFC 1939 6: the UPDATE state */
	s->state = POP3_S_UPDATE;
	struct pop3_update *u = &s->update;
	u->s = s;
	u->uids = xreallocarray(NULL, n, sizeof *u->uids);
	u->n = 0;
	for (uint32_t i = 0; i < s->n_msgs; i++)
		if (s->msgs[i].deleted)
			u->uids[u->n++] = s->msgs[i].uid;
	u->job.run = update_run;
	u->job.done = update_done;
	s->pending = POP3_P_UPDATE;
	net_conn_set_busy(s->c);
	jobs_submit(s->srv->jobs, &u->job);
}

static void cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	struct net_conn *c = s->c;
	bool can_login = c->tls || s->srv->cfg->pop3_plaintext_auth;
	net_conn_reply(c, "+OK Capability list follows");
	net_conn_reply(c, "TOP");
	net_conn_reply(c, "UIDL");
	net_conn_reply(c, "RESP-CODES");
	net_conn_reply(c, "AUTH-RESP-CODE");
	net_conn_reply(c, "PIPELINING");
	if (s->state == POP3_S_AUTH && can_login) {
		net_conn_reply(c, "USER");
		net_conn_reply(c, "SASL PLAIN");
	}
	if (s->state == POP3_S_AUTH && s->srv->tls && !c->tls)
		net_conn_reply(c, "STLS");
	net_conn_reply(c, "EXPIRE NEVER");
	net_conn_reply(c, "IMPLEMENTATION petrel");
	net_conn_reply(c, ".");
}

static void cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (s->srv->tls == NULL || s->c->tls) {
		fail(s, s->c->tls ? "TLS already active" : "TLS not available");
		return;
	}
	net_conn_reply(s->c, "+OK Begin TLS negotiation");
	net_conn_starttls(s->c);
}

static const struct {
	enum pop3_verb verb;
	void (*fn)(struct pop3_session *s, const struct pop3_cmd *cmd);
	unsigned states;
} commands[] = {
	{ POP3_CAPA, cmd_capa, ST_AUTH | ST_TRANS },
	{ POP3_QUIT, cmd_quit, ST_AUTH | ST_TRANS },
	{ POP3_STLS, cmd_stls, ST_AUTH },
	{ POP3_USER, cmd_user, ST_AUTH },
	{ POP3_PASS, cmd_pass, ST_AUTH },
	{ POP3_AUTH, cmd_auth, ST_AUTH },
	{ POP3_STAT, cmd_stat, ST_TRANS },
	{ POP3_LIST, cmd_list, ST_TRANS },
	{ POP3_UIDL, cmd_uidl, ST_TRANS },
	{ POP3_RETR, cmd_retr, ST_TRANS },
	{ POP3_TOP, cmd_top, ST_TRANS },
	{ POP3_DELE, cmd_dele, ST_TRANS },
	{ POP3_RSET, cmd_rset, ST_TRANS },
	{ POP3_NOOP, cmd_noop, ST_TRANS },
};

void pop3_cmd_dispatch(struct pop3_session *s, struct span line)
{
	struct pop3_cmd cmd;
	struct err err;
	if (pop3_cmd_parse(line, &cmd, &err) != 0) {
		fail(s, err.msg);
		return;
	}
	unsigned st = s->state == POP3_S_AUTH ? ST_AUTH : ST_TRANS;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		if (commands[i].verb != cmd.verb)
			continue;
		if (!(commands[i].states & st)) {
			fail(s, st == ST_AUTH ? "Log in first" : "Already logged in");
			return;
		}
		commands[i].fn(s, &cmd);
		return;
	}
	fail(s, "Unknown command");
}

void pop3_delay_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pop3_session *s = arg;
	struct net_conn *c = s->c;
	if (!c->peer_gone) {
		if (s->login.app_password_required)
			net_conn_reply(c, "-ERR [AUTH] Use an app password: this "
				       "domain requires two-factor authentication");
		else
			net_conn_reply(c, "-ERR [AUTH] Authentication failed");
		if (s->auth_failures >= AUTH_MAX_FAILURES)
			net_conn_close_after_flush(c);
	}
	(void)net_conn_done_busy(c);	/* false: peer gone and c freed */
}

void pop3_job_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pop3_session *s = arg;
	struct net_conn *c = s->c;
	enum pop3_pending p = s->pending;
	s->pending = POP3_P_NONE;
	if (p == POP3_P_LOGIN) {
		if (s->login.temp_fail) {
			net_conn_reply(c, "-ERR [SYS/TEMP] Temporary failure, try again later");
		} else if (!s->login.ok) {
			s->auth_failures++;
			log_info("pop3", c->id, "login failed ip=%s failures=%u", c->ip,
				 s->auth_failures);
			/* answer after a pause; input stays paused meanwhile */
			struct timeval tv = { (time_t)s->login.delay, 0 };
			evtimer_add(s->delay_ev, &tv);
			return;		/* still busy until pop3_delay_done */
		} else if (!c->peer_gone) {
			enter_transaction(s);
		}
	} else if (p == POP3_P_UPDATE) {
		size_t n = s->update.n;
		if (s->update.rc == 0) {
			log_info("pop3", c->id, "update user=%s deleted=%zu", s->address, n);
			net_conn_reply(c, "+OK Bye, %zu messages deleted", n);
		} else {
			log_error("pop3", c->id, "update user=%s error=\"%s\"", s->address,
				  s->update.err.msg);
			net_conn_reply(c, "-ERR [SYS/TEMP] Some deleted messages were not removed");
		}
		net_conn_close_after_flush(c);
	}
	(void)net_conn_done_busy(c);	/* false: peer gone and c freed */
}
