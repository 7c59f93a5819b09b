/* smtp_msgauth.c - the checks of an incoming message on the MX port (SPF,
 * DKIM, ARC, DMARC: msgauth.h) between the end of DATA and the commit.
 * They run on the authentication pool; the session waits in state CHECK
 * with its input paused, as it does for the store, so the message buffer
 * is not touched meanwhile. Then the verdict: refused with the reply the
 * checks wrote (DMARC reject), or stored with an Authentication-Results
 * field on top (after our trace fields) and, for a quarantine, in Junk.
 * Fields from outside that claim our name are removed first, after the
 * checks so that a signature covering them still verified. A message
 * that goes on to another domain is ARC-sealed too (decision 0033). */
#include "smtp/smtp_private.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* On a pool thread: wake the session's loop; touch nothing else. */
static void checks_done(struct msgauth_job *j)
{
	struct smtp_session *s = j->arg;
	event_active(s->ma_ev, EV_READ, 0);
}

bool smtp_msgauth_start(struct smtp_session *s)
{
	struct msgauth_svc *svc = s->srv->msgauth;
	bool sign = s->srv->submission;
	/* Incoming mail is checked whoever it is for: a message we only
	 * forward (an alias to another domain) was still sent to us, the
	 * receiver of record of RFC 7489 6.6, so its DMARC reject is ours to
	 * give, and the ARC set we add (RFC 8617 5.1) carries our results. */
	if (svc == NULL || (!sign && s->n_mailboxes == 0 && s->n_remote == 0))
		return false;
	if (s->ma == NULL)
		s->ma = xcalloc(1, sizeof *s->ma);
	struct msgauth_job *j = s->ma;
	memset(&j->in, 0, sizeof j->in);
	j->kind = sign ? MSGAUTH_SIGN : MSGAUTH_CHECK;
	if (sign) {
		/* no address needed */
	} else if (inet_pton(AF_INET, s->c->ip, j->in.ip) == 1) {
		j->in.family = AF_INET;
	} else if (inet_pton(AF_INET6, s->c->ip, j->in.ip) == 1) {
		j->in.family = AF_INET6;
	} else {
		return false;	/* not from an IP peer (tests over a pipe) */
	}
	j->in.helo = s->helo;
	j->in.mail_from = s->from.null_path ? "" : s->from.addr;
	j->in.msg = (const char *)s->msg.data + s->trace_len;
	j->in.len = s->msg.len - s->trace_len;
	j->in.now = time(NULL);
	j->seal_domain[0] = j->seal_domain[1] = NULL;
	j->seal.len = 0;
	j->no_checks = !sign && !s->srv->msgauth_checks;
	j->after = NULL;
	if (!sign && s->srv->filter != NULL && s->n_mailboxes > 0) {
		/* mail only passing through to another domain is not ours
		 * to judge: the receiving domain will */
		if (s->fv == NULL)
			s->fv = xcalloc(1, sizeof *s->fv);
		j->after = smtp_filter_run;
	}
	if (j->no_checks && j->after == NULL)
		return false;
	if (!sign && !j->no_checks && s->n_remote > 0 &&
	    s->srv->cfg->arc_seal) {
		j->seal_domain[0] = s->fwd_domain;
		j->seal_domain[1] = s->rcpt_domain;
	}
	j->done = checks_done;
	j->arg = s;
	s->state = SMTP_S_CHECK;
	net_conn_set_busy(s->c);
	msgauth_submit(svc, j);
	return true;
}

/* A submitted message: its DKIM-Signature fields on top (below our
 * trace), then the store. Not signed (a domain not hosted, no usable
 * key) is logged, and the message goes as it is. */
static void signed_done(struct smtp_session *s)
{
	struct net_conn *c = s->c;
	const struct msgauth_signed *sg = &s->ma->sig;
	if (c->peer_gone) {
		smtp_back_to_commands(s);
		(void)net_conn_done_busy(c);
		return;
	}
	if (sg->len > 0 &&
	    buf_insert(&s->msg, s->trace_len, sg->fields, sg->len) == 0)
		log_info("smtp", c->id, "dkim-signed d=%s s=\"%s\"", sg->domain,
			 sg->selectors);
	else
		log_info("smtp", c->id, "not dkim-signed reason=\"%s\"",
			 sg->len > 0 ? "no room" : sg->why);
	s->junk = false;
	smtp_msg_commit(s);
	if (s->state != SMTP_S_COMMIT)
		(void)net_conn_done_busy(c);
}

/* The ARC set of a forwarded message: above our Authentication-Results
 * (RFC 8617 5.1: the sealer prepends its set) but below our trace,
 * whose Return-Path must stay first for the queue to drop it when
 * relaying (RFC 5321 4.4); the set covers neither. The local copies
 * carry it too: one stored message. */
static void add_seal(struct smtp_session *s)
{
	const struct msgauth_sealed *sl = &s->ma->seal;
	const char *id = s->c->id;
	if (sl->len == 0)
		log_info("smtp", id, "not arc-sealed reason=\"%s\"", sl->why);
	else if (buf_insert(&s->msg, s->trace_len, sl->fields, sl->len) != 0)
		log_warn("smtp", id, "no room for the ARC set");
	else
		log_info("smtp", id, "arc-sealed i=%u d=%s s=%s", sl->instance,
			 sl->domain, sl->selector);
}

void smtp_msgauth_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	struct net_conn *c = s->c;
	const struct msgauth_out *out = &s->ma->out;
	enum smtp_verb v = s->bdat_active ? SMTP_VERB_BDAT : SMTP_VERB_DATA;
	if (s->ma->kind == MSGAUTH_SIGN) {
		signed_done(s);
		return;
	}
	char summary[160];
	msgauth_summary(out, summary, sizeof summary);
	if (!s->ma->no_checks)
		log_info("smtp", c->id, "checks %s", summary);
	if (c->peer_gone) {
		/* no one to tell "250": storing it would make a duplicate
		 * when the client sends it again */
		smtp_back_to_commands(s);
		(void)net_conn_done_busy(c);
		return;
	}
	if (out->action == MSGAUTH_REJECT) {
		log_info("smtp", c->id, "reject reason=dmarc ip=%s", c->ip);
		s->failed[v]++;
		net_conn_reply(c, "%s", out->reply);
		smtp_back_to_commands(s);
		(void)net_conn_done_busy(c);
		return;
	}
	smtp_trace_rdns(s, out);
	size_t len = s->msg.len;
	size_t n = ar_strip(s->msg.data, &len, s->trace_len,
			    s->srv->cfg->hostname);
	s->msg.len = len;
	if (n > 0)
		log_info("smtp", c->id, "removed=%zu field=Authentication-Results "
			 "reason=\"claims to be ours\"", n);
	/* room for it was reserved at DATA (smtp_msg_begin) */
	if (out->ar_len > 0 &&
	    buf_insert(&s->msg, s->trace_len, out->ar, out->ar_len) != 0)
		log_warn("smtp", c->id, "no room for Authentication-Results");
	if (s->ma->seal_domain[0] != NULL)
		add_seal(s);
	s->junk = out->action == MSGAUTH_JUNK;
	if (s->ma->after != NULL && smtp_filter_apply(s)) {
		(void)net_conn_done_busy(c);
		return;
	}
	smtp_msg_commit(s);
	if (s->state != SMTP_S_COMMIT)	/* the store refused it: replied */
		(void)net_conn_done_busy(c);
}
