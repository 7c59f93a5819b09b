/* smtp_deliver.c - from a complete body to a durable message: trace
 * headers (RFC 5321 4.4), the last checks, the hand-off to the store's
 * group commit, and the reply once the store says the message is on disk.
 * The 250 is sent from smtp_commit_done() and nowhere else. */
#include "smtp/smtp_private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "mime/mime.h"

/* Room for Return-Path and Received: paths are at most 256 bytes, the
 * HELO name 255, the host name 255, TLS text 96. */
#define SMTP_TRACE_MAX 2048

static void rfc5322_date(time_t t, char *out, size_t outsz)
{
	struct tm tm;
	localtime_r(&t, &tm);
	if (strftime(out, outsz, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(out, outsz, "Thu, 01 Jan 1970 00:00:00 +0000");
}

void smtp_msg_begin(struct smtp_session *s, bool bdat)
{
	const struct config *cfg = s->srv->cfg;
	char trace[SMTP_TRACE_MAX], date[64], forpart[SMTP_PATH_MAX + 16];
	rfc5322_date(time(NULL), date, sizeof date);
	/* "for" only when there is one recipient, so that a copy does not
	 * reveal the other (Bcc) recipients. */
	if (s->n_rcpts == 1)
		snprintf(forpart, sizeof forpart, "\r\n\tfor <%s>", s->rcpts[0].addr);
	else
		forpart[0] = '\0';
	/* RFC 3848 / RFC 6531: "A" for an authenticated client */
	static const char *const protos[2][2][3] = {
		{ { "SMTP", "ESMTP", "UTF8SMTP" }, { "SMTPS", "ESMTPS", "UTF8SMTPS" } },
		{ { "SMTPA", "ESMTPA", "UTF8SMTPA" }, { "SMTPSA", "ESMTPSA", "UTF8SMTPSA" } },
	};
	const char *proto = protos[s->authenticated][s->c->tls]
		[s->mail.smtputf8 ? 2 : s->esmtp ? 1 : 0];
	char tlsline[128];
	if (s->c->tls)
		snprintf(tlsline, sizeof tlsline, "\r\n\t(using %s)", s->c->tls_desc);
	else
		tlsline[0] = '\0';
	char fromline[512];
	const char *rpath = s->from.null_path ? "" : s->from.addr;
	/* where the reverse name goes once known: "from HELO (" here "[" */
	s->trace_rdns_at = 0;
	if (s->authenticated && cfg->submission_hide_client_ip) {
		/* The client's address and name say where an employee is
		 * (home, hotel) to every recipient: kept out (RFC 6409 8). */
		snprintf(fromline, sizeof fromline, "from [authenticated]");
	} else {
		snprintf(fromline, sizeof fromline, "from %s ([%s%s])%s", s->helo,
			 strchr(s->c->ip, ':') ? "IPv6:" : "", s->c->ip, tlsline);
		s->trace_rdns_at = strlen("Return-Path: <") + strlen(rpath) +
				   strlen(">\r\nReceived: from ") +
				   strlen(s->helo) + strlen(" (");
	}
	int n = snprintf(trace, sizeof trace,
			 "Return-Path: <%s>\r\n"
			 "Received: %s\r\n"
			 "\tby %s (petrel) with %s id %s.%u%s;\r\n"
			 "\t%s\r\n",
			 rpath, fromline, cfg->hostname, proto, s->c->id,
			 s->n_tx + 1, forpart, date);
	if (n < 0 || (size_t)n >= sizeof trace) {
		n = snprintf(trace, sizeof trace, "Received: by %s (petrel); %s\r\n",
			     cfg->hostname, date);
		s->trace_rdns_at = 0;
	}
	/* UNSAFE: n < SMTP_TRACE_MAX by the snprintf checks above. */
	buf_reset_max(&s->msg, (size_t)n + SMTP_RDNS_ADDED_MAX +
		      cfg->smtp_max_message_size +
		      (s->srv->submission ? SMTP_SUBMIT_ADDED_MAX : 0) +
		      (s->srv->msgauth != NULL ?
		       (s->srv->submission ? MSGAUTH_SIGN_MAX : AR_MAX) : 0) +
		      (s->srv->msgauth != NULL && !s->srv->submission &&
		       cfg->arc_seal && s->n_remote > 0 ? MSGAUTH_SEAL_MAX : 0) +
		      (s->srv->filter != NULL ? SMTP_FILTER_ADDED_MAX : 0));
	if (buf_append(&s->msg, trace, (size_t)n) != 0)
		s->msg.len = 0;	/* cannot happen: max covers n */
	s->trace_len = s->msg.len;
	if (bdat)
		smtp_data_bdat_begin(&s->data, &s->msg, cfg->smtp_max_message_size,
				     cfg->smtp_max_data_line);
	else
		smtp_data_begin(&s->data, &s->msg, cfg->smtp_max_message_size,
				cfg->smtp_max_data_line);
}

/* What goes before "[ip]" in our Received field once the checks know
 * the client's name: "name " (forward-confirmed), "unknown " (none, as
 * Postfix writes it), or nothing (not looked up, DNS trouble). */
static size_t rdns_text(const struct smtp_session *s,
			const struct msgauth_out *out, char *buf, size_t size)
{
	int n = 0;
	size_t at = s->trace_rdns_at;
	/* the place is counted from the format in smtp_msg_begin: if the
	 * two ever disagree, the field stays as it is rather than broken */
	if (at == 0 || at >= s->trace_len || s->msg.data[at - 1] != '(' ||
	    s->msg.data[at] != '[')
		return 0;
	if (out->rdns == MA_RDNS_OK)
		n = snprintf(buf, size, "%s ", out->rdns_name);
	else if (out->rdns == MA_RDNS_NONE)
		n = snprintf(buf, size, "unknown ");
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

int smtp_trace_copy(const struct smtp_session *s,
		    const struct msgauth_out *out, struct buf *dst)
{
	char name[SMTP_RDNS_ADDED_MAX];
	size_t n = rdns_text(s, out, name, sizeof name);
	size_t at = n ? s->trace_rdns_at : s->trace_len;
	if (buf_append(dst, s->msg.data, at) != 0 ||
	    buf_append(dst, name, n) != 0 ||
	    buf_append(dst, s->msg.data + at, s->trace_len - at) != 0)
		return -1;
	return 0;
}

void smtp_trace_rdns(struct smtp_session *s, const struct msgauth_out *out)
{
	char name[SMTP_RDNS_ADDED_MAX];
	size_t n = rdns_text(s, out, name, sizeof name);
	/* room for it was reserved at DATA (smtp_msg_begin) */
	if (n == 0 || buf_insert(&s->msg, s->trace_rdns_at, name, n) != 0)
		return;
	s->trace_len += n;
	s->trace_rdns_at = 0;
}

/* On the committer thread: wake the session's loop; touch nothing else. */
static void commit_notify(struct store_delivery *d)
{
	struct smtp_session *s = d->arg;
	event_active(s->commit_ev, EV_READ, 0);
}

void smtp_back_to_commands(struct smtp_session *s)
{
	smtp_tx_reset(s);
	s->state = SMTP_S_CMD;
	net_conn_set_timeout(s->c, s->srv->cfg->smtp_command_timeout);
}

void smtp_msg_finish(struct smtp_session *s)
{
	struct err err;
	enum smtp_verb v = s->bdat_active ? SMTP_VERB_BDAT : SMTP_VERB_DATA;
	if (smtp_data_result(&s->data, &err) != 0) {
		log_info("smtp", s->c->id, "reject reason=\"%s\" ip=%s", err.msg, s->c->ip);
		s->failed[v]++;
		s->errors++;
		smtp_reply_err(s, &err);
		smtp_back_to_commands(s);
		return;
	}
	if (s->srv->submission && !smtp_submit_headers(s)) {
		s->failed[v]++;
		s->errors++;
		smtp_back_to_commands(s);
		return;
	}
	size_t size = s->msg.len;
	const struct smtp_rcpt *first = NULL;
	for (size_t i = 0; i < s->n_rcpts && first == NULL; i++)
		if (s->rcpts[i].mailbox_id != 0)
			first = &s->rcpts[i];
	if (s->n_mailboxes == 1 && first != NULL) {
		/* One recipient: the real size is known, so check the quota
		 * again. With several, the RCPT check stands and a mailbox may
		 * go over by this one message (as Dovecot's quota grace). */
		struct store_mailbox mb;
		const char *at = strrchr(first->addr, '@');
		char local[SMTP_LOCAL_MAX + 3];
		size_t ll = at ? (size_t)(at - first->addr) : 0;
		if (at && ll < sizeof local) {
			memcpy(local, first->addr, ll);
			local[ll] = '\0';
			int found = store_mailbox_find(s->srv->store, local, at + 1, &mb, &err);
			if (found == 1 && mb.quota > 0 &&
			    (mb.used >= mb.quota || size > mb.quota - mb.used)) {
				log_info("smtp", s->c->id, "reject reason=quota size=%zu ip=%s", size, s->c->ip);
				s->failed[v]++;
				net_conn_reply(s->c, "552 5.2.2 Mailbox full");
				smtp_back_to_commands(s);
				return;
			}
		}
	}
	s->junk = false;
	if (smtp_msgauth_start(s))
		return;
	smtp_msg_commit(s);
}

void smtp_msg_commit(struct smtp_session *s)
{
	struct err err;
	memset(&s->dlv, 0, sizeof s->dlv);
	s->dlv.junk = s->junk;
	s->dlv.data = s->msg.data;
	s->dlv.len = s->msg.len;
	/* Parse once here (microseconds for 100 KB) so that IMAP serves
	 * ENVELOPE, BODYSTRUCTURE and sections without reparsing. A cache
	 * that does not fit is left out; IMAP then parses on first use.
	 * Mail only for other domains is never read over IMAP here. */
	if (s->n_mailboxes > 0) {
		struct mime_message *mm = mime_parse(s->msg.data, s->msg.len, NULL);
		buf_reset(&s->meta);
		if (mime_cache_write(mm, &s->meta) == 0) {
			s->dlv.meta = s->meta.data;
			s->dlv.meta_len = s->meta.len;
		}
		mime_message_free(&mm);
	}
	s->dlv.mailbox_ids = s->mailbox_ids;
	s->dlv.n_mailboxes = s->n_mailboxes;
	if (s->n_remote > 0) {
		/* the same record queues the other domains' recipients */
		s->qrcpts = xreallocarray(s->qrcpts, s->n_remote, sizeof *s->qrcpts);
		s->qorcpts = xreallocarray(s->qorcpts, s->n_remote, sizeof *s->qorcpts);
		s->qnotify = xreallocarray(s->qnotify, s->n_remote, sizeof *s->qnotify);
		size_t k = 0;
		for (size_t i = 0; i < s->n_rcpts; i++) {
			const struct smtp_rcpt *r = &s->rcpts[i];
			if (r->mailbox_id != 0)
				continue;
			s->qorcpts[k] = r->dsn.orcpt;
			s->qnotify[k] = smtp_dsn_notify_flags(r->dsn.notify);
			s->qrcpts[k++] = r->addr;
		}
		s->qenv = (struct store_queue_env){
			.sender = s->from.null_path ? "" : s->from.addr,
			.rcpts = s->qrcpts,
			.n_rcpts = k,
			.flags = (s->mail.smtputf8 ? STORE_QUEUE_SMTPUTF8 : 0) |
				 (s->mail.body != SMTP_BODY_7BIT ? STORE_QUEUE_8BIT : 0) |
				 (s->mail.ret == SMTP_RET_FULL ? STORE_QUEUE_RET_FULL : 0),
			.envid = s->mail.envid[0] != '\0' ? s->mail.envid : NULL,
			.notify = s->qnotify,
			.orcpts = s->qorcpts,
			.owner_id = s->user_id,
		};
		s->dlv.queue = &s->qenv;
	}
	s->dlv.internal_date = (int64_t)time(NULL);
	s->dlv.done = commit_notify;
	s->dlv.arg = s;
	if (store_deliver_submit(s->srv->store, &s->dlv, &err) != 0) {
		log_error("smtp", s->c->id, "store submit failed error=\"%s\"", err.msg);
		net_conn_reply(s->c, "451 4.3.0 Temporary failure, try again later");
		smtp_back_to_commands(s);
		return;
	}
	s->state = SMTP_S_COMMIT;
	net_conn_set_busy(s->c);
}

void smtp_commit_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	struct net_conn *c = s->c;
	enum smtp_verb v = s->bdat_active ? SMTP_VERB_BDAT : SMTP_VERB_DATA;
	s->n_tx++;
	if (s->dlv.rc == 0) {
		char from[200];
		log_escape(span_cstr(s->from.addr), from, sizeof from);
		if (s->authenticated)
			smtp_rate_count(s->srv->rate, s->user_id);
		log_info("smtp", c->id, "accepted id=%s.%u from=<%s> rcpts=%zu size=%zu%s%s%s",
			 c->id, s->n_tx, from, s->n_mailboxes, s->dlv.len,
			 s->authenticated ? " user=" : "", s->authenticated ? s->user : "",
			 c->peer_gone ? " client=gone" : "");
		if (!c->peer_gone)
			net_conn_reply(c, "250 2.0.0 Ok: queued as %s.%u", c->id, s->n_tx);
		smtp_dsn_delivered(s);
	} else {
		log_error("smtp", c->id, "store failed id=%s.%u error=\"%s\"",
			  c->id, s->n_tx, s->dlv.err.msg);
		s->failed[v]++;
		if (!c->peer_gone)
			net_conn_reply(c, "451 4.3.0 Temporary failure storing the message, try again later");
	}
	smtp_back_to_commands(s);
	/* Frees the connection if the peer went away meanwhile, says 421 if
	 * the server is stopping, or reads the next command. */
	(void)net_conn_done_busy(c);
}
