/* smtpc_tx.c - one mail transaction on an SMTP client connection: local
 * checks (addresses, SMTPUTF8, SIZE), MAIL FROM with its parameters, the
 * RCPTs, DATA and the dot-stuffed message, pipelined as one write when the
 * server offers PIPELINING (RFC 2920) and one command per reply otherwise,
 * and the per-recipient outcome. Connection set-up is smtpc.c. */
#include "smtp/smtpc_private.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "core/limits.h"

/* Bytes encoded per step while filling the output. */
#define SMTPC_ENCODE_STEP 16384

static bool is_2xx(const struct smtpc_reply *r)
{
	return r->code >= 200 && r->code < 300;
}

/* An address we put between <> ourselves: printable, no brackets, short
 * enough for a path (RFC 5321 4.5.3.1.3). Anything else could inject
 * commands, so it never reaches the wire. */
static bool addr_ok(const char *a)
{
	size_t n = strnlen(a, SMTP_PATH_MAX);
	if (n + 2 > SMTP_PATH_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];
		if (ch < 0x21 || ch == 0x7f || ch == '<' || ch == '>')
			return false;
	}
	return true;
}

static bool str_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static bool body_8bit(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return true;
	return false;
}

/* Every recipient without a reply gets r. */
static void fail_unset(struct smtpc_msg *m, const struct smtpc_reply *r)
{
	for (size_t i = 0; i < m->n_rcpts; i++)
		if (m->rcpts[i].reply.code == 0)
			m->rcpts[i].reply = *r;
}

/* Recipients whose RCPT got 2xx get r (the message's outcome). */
static void set_accepted(struct smtpc_msg *m, const struct smtpc_reply *r)
{
	for (size_t i = 0; i < m->n_rcpts; i++) {
		struct smtpc_reply *rr = &m->rcpts[i].reply;
		if (rr->stage == SMTPC_STAGE_RCPT && is_2xx(rr))
			*rr = *r;
	}
}

/* Finished without using the connection: cb_done from the loop. */
static void finish_local(struct smtpc *c)
{
	c->tx.finished = true;
	smtpc_schedule(c);
}

void smtpc_send(struct smtpc *c, struct smtpc_msg *msg, smtpc_done_cb cb,
		void *arg)
{
	assert(!c->tx_active);	/* one message at a time, after cb_done */
	bool usable = smtpc_usable(c);
	memset(&c->tx, 0, sizeof c->tx);
	c->tx.msg = msg;
	c->tx.cb = cb;
	c->tx.arg = arg;
	c->tx_active = true;
	for (size_t i = 0; i < msg->n_rcpts; i++)
		memset(&msg->rcpts[i].reply, 0, sizeof msg->rcpts[i].reply);
	if (!usable) {
		struct smtpc_reply r;
		smtpc_synth(&r, 421, "4.4.2", SMTPC_STAGE_CONNECT,
			    "connection with %s is not usable", c->info.peer);
		fail_unset(msg, &r);
		finish_local(c);
		return;
	}
	if (c->state == SMTPC_ST_RSET)
		return;		/* started when RSET is answered */
	smtpc_tx_start(c);
}

/* The next recipient from i on that is still to be sent (no local
 * verdict); n_rcpts if none. */
static size_t next_rcpt(const struct smtpc_msg *m, size_t i)
{
	while (i < m->n_rcpts && m->rcpts[i].reply.code != 0)
		i++;
	return i;
}

static void send_rcpt(struct smtpc *c)
{
	struct smtpc_tx *t = &c->tx;
	struct smtpc_msg *m = t->msg;
	const struct smtpc_rcpt *r = &m->rcpts[t->rcpt_send];
	/* RFC 3461 4.1, 4.2: at most 4 NOTIFY words, ORCPT's type and an
	 * xtext of up to 3 bytes per address byte */
	char notify[48] = "", orcpt[SMTPC_ORCPT_MAX * 3 + 16] = "";
	if (c->caps.dsn && r->dsn_notify != 0) {
		if (r->dsn_notify & 1u)
			snprintf(notify, sizeof notify, " NOTIFY=NEVER");
		else
			snprintf(notify, sizeof notify, " NOTIFY=%s%s%s%s%s",
				 (r->dsn_notify & 2u) ? "SUCCESS" : "",
				 (r->dsn_notify & 2u) && (r->dsn_notify & 12u) ? "," : "",
				 (r->dsn_notify & 4u) ? "FAILURE" : "",
				 (r->dsn_notify & 4u) && (r->dsn_notify & 8u) ? "," : "",
				 (r->dsn_notify & 8u) ? "DELAY" : "");
	}
	const char *semi = r->dsn_orcpt != NULL ? strchr(r->dsn_orcpt, ';') : NULL;
	if (c->caps.dsn && semi != NULL && semi != r->dsn_orcpt &&
	    (size_t)(semi - r->dsn_orcpt) < 32) {
		char x[SMTPC_ORCPT_MAX * 3 + 1];
		if (smtpc_xtext(semi + 1, x, sizeof x) == 0)
			snprintf(orcpt, sizeof orcpt, " ORCPT=%.*s;%s",
				 (int)(semi - r->dsn_orcpt), r->dsn_orcpt, x);
	}
	smtpc_write(c, "RCPT TO:<%s>%s%s", r->addr, notify, orcpt);
	t->rcpt_send = next_rcpt(m, t->rcpt_send + 1);
}

static bool local_checks(struct smtpc *c)
{
	struct smtpc_msg *m = c->tx.msg;
	struct smtpc_reply r;
	if (!addr_ok(m->mail_from)) {
		smtpc_synth(&r, 553, "5.1.7", SMTPC_STAGE_LOCAL,
			    "bad sender address syntax");
		fail_unset(m, &r);
		return false;
	}
	bool utf8 = m->smtputf8 || str_8bit(m->mail_from);
	for (size_t i = 0; i < m->n_rcpts; i++) {
		if (!addr_ok(m->rcpts[i].addr)) {
			smtpc_synth(&m->rcpts[i].reply, 553, "5.1.3",
				    SMTPC_STAGE_LOCAL, "bad recipient address syntax");
			continue;
		}
		utf8 = utf8 || str_8bit(m->rcpts[i].addr);
	}
	if (utf8 && !c->caps.smtputf8) {
		/* RFC 6531 3.2: no downgrade here; the sender learns why */
		smtpc_synth(&r, 553, "5.6.7", SMTPC_STAGE_LOCAL,
			    "SMTPUTF8 is required, but was not offered by host %s",
			    c->info.peer);
		fail_unset(m, &r);
		return false;
	}
	if (c->caps.size && c->caps.size_max > 0 && m->len > c->caps.size_max) {
		smtpc_synth(&r, 552, "5.3.4", SMTPC_STAGE_LOCAL,
			    "message size %zu exceeds the size limit %llu of %s",
			    m->len, (unsigned long long)c->caps.size_max,
			    c->info.peer);
		fail_unset(m, &r);
		return false;
	}
	return next_rcpt(m, 0) < m->n_rcpts;
}

void smtpc_tx_start(struct smtpc *c)
{
	struct smtpc_tx *t = &c->tx;
	struct smtpc_msg *m = t->msg;
	if (!local_checks(c)) {
		finish_local(c);
		return;
	}
	bool utf8 = m->smtputf8 || str_8bit(m->mail_from);
	for (size_t i = 0; i < m->n_rcpts; i++)
		utf8 = utf8 || str_8bit(m->rcpts[i].addr);
	/* An 8-bit body without 8BITMIME goes as it is, as Postfix does by
	 * default; converting it would break signatures. */
	bool eight = c->caps.eightbitmime && body_8bit(m->data, m->len);
	char size[32] = "";
	if (c->caps.size)
		snprintf(size, sizeof size, " SIZE=%zu", m->len);
	char dsn[SMTPC_ENVID_MAX * 3 + 32] = "";
	if (c->caps.dsn) {
		char x[SMTPC_ENVID_MAX * 3 + 1] = "";
		bool envid = m->dsn_envid != NULL && m->dsn_envid[0] != '\0' &&
			     smtpc_xtext(m->dsn_envid, x, sizeof x) == 0;
		snprintf(dsn, sizeof dsn, "%s%s%s%s",
			 m->dsn_ret != NULL ? " RET=" : "",
			 m->dsn_ret != NULL ? m->dsn_ret : "",
			 envid ? " ENVID=" : "", envid ? x : "");
	}
	smtpc_write(c, "MAIL FROM:<%s>%s%s%s%s", m->mail_from, size,
		    eight ? " BODY=8BITMIME" : "", utf8 ? " SMTPUTF8" : "", dsn);
	c->state = SMTPC_ST_TX;
	t->want = SMTPC_WANT_MAIL;
	t->pipelined = c->caps.pipelining;
	t->rcpt_send = next_rcpt(m, 0);
	t->rcpt_reply = t->rcpt_send;
	if (t->pipelined) {
		while (t->rcpt_send < m->n_rcpts)
			send_rcpt(c);
		smtpc_write(c, "DATA");
	}
	smtpc_expect(c, c->opts.timeouts.mail);
}

static void finish(struct smtpc *c, bool need_rset)
{
	c->need_rset = need_rset;
	smtpc_tx_over(c);
}

static void mail_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	struct smtpc_tx *t = &c->tx;
	t->mail_ok = is_2xx(r);
	if (!t->mail_ok) {
		t->mail_reply = *r;
		if (!t->pipelined) {
			fail_unset(t->msg, r);
			finish(c, false);
			return;
		}
	}
	t->want = SMTPC_WANT_RCPT;
	if (!t->pipelined)
		send_rcpt(c);
	smtpc_expect(c, c->opts.timeouts.rcpt);
}

static void rcpt_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	struct smtpc_tx *t = &c->tx;
	struct smtpc_msg *m = t->msg;
	struct smtpc_reply *rr = &m->rcpts[t->rcpt_reply].reply;
	if (!t->mail_ok) {
		*rr = t->mail_reply;	/* the 503 says less than MAIL's reply */
	} else {
		*rr = *r;
		if (is_2xx(r))
			t->accepted++;
	}
	t->rcpt_reply = next_rcpt(m, t->rcpt_reply + 1);
	if (t->rcpt_reply < m->n_rcpts) {
		if (!t->pipelined)
			send_rcpt(c);
		smtpc_expect(c, c->opts.timeouts.rcpt);
		return;
	}
	t->want = SMTPC_WANT_DATA;
	if (!t->pipelined) {
		if (t->accepted == 0) {
			finish(c, true);
			return;
		}
		smtpc_write(c, "DATA");
	}
	smtpc_expect(c, c->opts.timeouts.data_init);
}

static void data_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	struct smtpc_tx *t = &c->tx;
	if (r->code == 354) {
		t->want = SMTPC_WANT_END;
		if (t->accepted == 0) {
			/* RFC 2920 3.1: DATA went out with the pipeline and
			 * was accepted though no recipient was: end it empty. */
			smtpc_write(c, ".");
			t->dot_only = true;
			smtpc_expect(c, c->opts.timeouts.data_term);
			return;
		}
		t->body = true;
		smtpc_dot_init(&t->dot);
		smtpc_tx_write_more(c);
		return;
	}
	if (t->mail_ok)
		set_accepted(t->msg, r);
	finish(c, t->mail_ok);
}

static void end_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	struct smtpc_tx *t = &c->tx;
	if (t->dot_only) {
		finish(c, false);
		return;
	}
	if (t->body) {
		/* a reply before we finished sending: the stream is out of
		 * step; this message's outcome is the reply, the connection
		 * is not reused */
		t->body = false;
		c->broken = true;
	}
	set_accepted(t->msg, r);
	finish(c, false);
}

void smtpc_tx_reply(struct smtpc *c, const struct smtpc_reply *r)
{
	switch (c->tx.want) {
	case SMTPC_WANT_MAIL: mail_reply(c, r); break;
	case SMTPC_WANT_RCPT: rcpt_reply(c, r); break;
	case SMTPC_WANT_DATA: data_reply(c, r); break;
	case SMTPC_WANT_END: end_reply(c, r); break;
	}
}

void smtpc_tx_write_more(struct smtpc *c)
{
	struct smtpc_tx *t = &c->tx;
	struct smtpc_msg *m = t->msg;
	if (c->bev == NULL || !t->body)
		return;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	while (t->body_off < m->len && evbuffer_get_length(out) < SMTPC_DATA_CHUNK) {
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(out, SMTPC_ENCODE_STEP, &v, 1) < 1)
			return;	/* no memory: the write timeout ends it */
		size_t used = 0;
		v.iov_len = smtpc_dot_encode(&t->dot, m->data + t->body_off,
					     m->len - t->body_off, v.iov_base,
					     v.iov_len, &used);
		if (evbuffer_commit_space(out, &v, 1) != 0)
			return;
		t->body_off += used;
	}
	if (t->body_off < m->len)
		return;		/* writecb brings us back when it drains */
	unsigned char end[SMTPC_DOT_END_MAX];
	size_t n = smtpc_dot_end(&t->dot, end);
	evbuffer_add(out, end, n);
	t->body = false;
	smtpc_expect(c, c->opts.timeouts.data_term);
}

void smtpc_tx_abort(struct smtpc *c, const struct smtpc_reply *r)
{
	struct smtpc_msg *m = c->tx.msg;
	if (m == NULL)
		return;
	/* recipients accepted by RCPT have no outcome yet either */
	set_accepted(m, r);
	fail_unset(m, r);
}

const char *smtpc_tx_doing(const struct smtpc *c)
{
	switch (c->tx.want) {
	case SMTPC_WANT_MAIL: return "sending MAIL FROM";
	case SMTPC_WANT_RCPT: return "sending RCPT TO";
	case SMTPC_WANT_DATA: return "sending DATA command";
	case SMTPC_WANT_END:
		return c->tx.body ? "sending data"
				  : "waiting for the reply to the end of data";
	}
	return "in a transaction";
}

enum smtpc_stage smtpc_tx_stage(const struct smtpc *c)
{
	switch (c->tx.want) {
	case SMTPC_WANT_MAIL: return SMTPC_STAGE_MAIL;
	case SMTPC_WANT_RCPT: return SMTPC_STAGE_RCPT;
	case SMTPC_WANT_DATA: return SMTPC_STAGE_DATA;
	case SMTPC_WANT_END: return SMTPC_STAGE_DATA_END;
	}
	return SMTPC_STAGE_MAIL;
}
