/* queue_result.c - what an attempt's replies mean for each recipient.
 * 2xx: delivered, it leaves the queue. 5xx: failed, a report goes to the
 * sender. 4xx (or no answer): tried again after the schedule's next wait,
 * or failed once queue_lifetime has passed; after queue_delay_warning the
 * sender hears once that it is delayed. A message with the null sender
 * (a report itself) never causes a report (RFC 5321 4.5.5, RFC 3464 2.4).
 * Also the local delivery of recipients in domains hosted here.
 */
#include "queue/queue_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

bool qr_msg_load(struct queue_runner *q, struct qr_msg *m)
{
	if (m->data != NULL)
		return true;
	struct err err;
	int rc = store_queue_read(q->st, m->id, &m->data, &m->len, &err);
	if (rc == 1)
		return true;
	if (rc == 0) {
		/* deleted by an administrator meanwhile */
		for (size_t i = 0; i < m->n; i++)
			qr_release(q, m->id, m->r[i].idx);
		return false;
	}
	char text[STORE_QUEUE_REPLY_MAX];
	snprintf(text, sizeof text, "451 4.3.0 cannot read the message: %s",
		 err.msg);
	for (size_t i = 0; i < m->n; i++)
		qr_outcome(q, m->id, m->r[i].idx, STORE_QO_RETRY,
			   qr_now() + 60, text);
	return false;
}

static bool null_sender(const struct qr_msg *m)
{
	return m->sender[0] == '\0' || (m->flags & STORE_QUEUE_BOUNCE) != 0;
}

/* Whether the sender asked to hear of this (RFC 3461 4.1): no NOTIFY
 * means failures and delays; NEVER means nothing. */
static bool wants(const struct qr_rcpt *r, unsigned bit)
{
	if (r->notify == 0)
		return bit != STORE_QUEUE_NOTIFY_SUCCESS;
	return (r->notify & bit) != 0;
}

/* Report about which[0..n) and then apply kind to them; if the report
 * cannot be queued, they are tried again in a few minutes instead (so
 * that the report is not lost). */
static void report(struct queue_runner *q, struct qr_msg *m,
		   const size_t *which, size_t n, enum dsn_action action,
		   const char *remote_mta)
{
	if (n == 0)
		return;
	/* the recipients whose sender wants this report */
	size_t *asked = xcalloc(n, sizeof *asked), na = 0;
	unsigned bit = action == DSN_DELAYED ? STORE_QUEUE_NOTIFY_DELAY
					     : STORE_QUEUE_NOTIFY_FAILURE;
	for (size_t i = 0; i < n; i++)
		if (wants(&m->r[which[i]], bit))
			asked[na++] = which[i];
	bool quiet = null_sender(m) || na == 0;
	bool sent = quiet ||
		    (qr_msg_load(q, m) &&
		     qr_bounce(q, m, asked, na, action, remote_mta) == 0);
	free(asked);
	if (m->data == NULL && !quiet)
		return;	/* gone meanwhile, or qr_msg_load decided */
	for (size_t i = 0; i < n; i++) {
		const struct qr_rcpt *r = &m->r[which[i]];
		char text[SMTPC_REPLY_TEXT_MAX + 32];
		smtpc_reply_format(&r->sr.reply, text, sizeof text);
		if (!sent) {
			qr_outcome(q, m->id, r->idx, STORE_QO_RETRY,
				   qr_now() + 300, text);
		} else if (action == DSN_DELAYED) {
			qr_outcome(q, m->id, r->idx, STORE_QO_DELAY_NOTIFIED,
				   0, NULL);
		} else {
			log_info("queue", NULL, "op=bounce id=%lld to=<%s> "
				 "reply=\"%s\"%s", (long long)m->id, r->addr,
				 text, null_sender(m) ? " report=none(null "
				 "sender)" : !wants(r, bit) ? " report=none(NOTIFY)"
				 : "");
			qr_outcome(q, m->id, r->idx, STORE_QO_REMOVE, 0, NULL);
		}
	}
}

void qr_msg_result(struct queue_runner *q, struct qr_msg *m,
		   const char *remote_mta)
{
	const struct config *cfg = q->cfg;
	int64_t now = qr_now();
	size_t *failed = xcalloc(m->n, sizeof *failed);
	size_t *delayed = xcalloc(m->n, sizeof *delayed);
	size_t *succeeded = xcalloc(m->n, sizeof *succeeded);
	size_t nf = 0, nd = 0, ns = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct qr_rcpt *r = &m->r[i];
		const struct smtpc_reply *rep = &r->sr.reply;
		char text[SMTPC_REPLY_TEXT_MAX + 32];
		smtpc_reply_format(rep, text, sizeof text);
		if (rep->code >= 200 && rep->code < 300 && !r->bounce_now) {
			log_info("queue", NULL, "op=delivered id=%lld to=<%s> "
				 "relay=%s delay=%llds attempts=%u reply=\"%s\"",
				 (long long)m->id, r->addr,
				 remote_mta != NULL ? remote_mta : "local",
				 (long long)(now - m->created), r->attempts + 1,
				 text);
			qr_outcome(q, m->id, r->idx, STORE_QO_REMOVE, 0, NULL);
			/* NOTIFY=SUCCESS: from here only if the next hop does
			 * not report itself (RFC 3461 5.2.2, 5.2.3) */
			if (wants(r, STORE_QUEUE_NOTIFY_SUCCESS) &&
			    !null_sender(m) && !m->remote_dsn)
				succeeded[ns++] = i;
			continue;
		}
		bool expired = now - m->created >= (int64_t)cfg->queue_lifetime;
		if (rep->code >= 500 || r->bounce_now || expired) {
			if (expired && rep->code < 500 && !r->bounce_now) {
				/* RFC 3463 4.4.7: delivery time expired; the
				 * last reply stays the diagnostic */
				log_info("queue", NULL, "op=expired id=%lld "
					 "to=<%s> reply=\"%s\"", (long long)m->id,
					 r->addr, text);
			}
			failed[nf++] = i;
			continue;
		}
		unsigned wait = cfg_retry_delay(&cfg->queue_retry_schedule,
						r->attempts);
		/* the last try comes when the lifetime ends, not after it */
		int64_t end = m->created + (int64_t)cfg->queue_lifetime;
		if (now + (int64_t)wait > end)
			wait = end > now ? (unsigned)(end - now) : 1;
		log_info("queue", NULL, "op=deferred id=%lld to=<%s> relay=%s "
			 "attempts=%u retry_in=%us reply=\"%s\"",
			 (long long)m->id, r->addr,
			 remote_mta != NULL ? remote_mta : "none",
			 r->attempts + 1, wait, text);
		qr_outcome(q, m->id, r->idx, STORE_QO_RETRY, now + wait, text);
		if (cfg->queue_delay_warning > 0 && !r->delay_notified &&
		    now - m->created >= (int64_t)cfg->queue_delay_warning &&
		    !null_sender(m))
			delayed[nd++] = i;
	}
	report(q, m, failed, nf, DSN_FAILED, remote_mta);
	report(q, m, delayed, nd, DSN_DELAYED, remote_mta);
	/* a success report that cannot be queued is logged, not retried:
	 * the mail itself went out */
	if (ns > 0 && qr_msg_load(q, m))
		(void)qr_bounce(q, m, succeeded, ns,
				remote_mta != NULL ? DSN_RELAYED : DSN_DELIVERED,
				remote_mta);
	free(failed);
	free(delayed);
	free(succeeded);
}

void qr_reply(struct smtpc_reply *r, int code, const char *enhanced,
	      enum smtpc_stage stage, const char *fmt, ...)
{
	memset(r, 0, sizeof *r);
	r->code = code;
	snprintf(r->enhanced, sizeof r->enhanced, "%s", enhanced);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	r->stage = stage;
	r->synthetic = true;
}

void qr_msg_local(struct queue_runner *q, struct qr_msg *m)
{
	int64_t *ids = xcalloc(m->n, sizeof *ids);
	size_t n_ids = 0;
	struct err err;
	for (size_t i = 0; i < m->n; i++) {
		struct qr_rcpt *r = &m->r[i];
		char local[320];
		snprintf(local, sizeof local, "%s", r->addr);
		char *at = strrchr(local, '@');
		struct store_mailbox mb;
		int found = -1;
		if (at != NULL) {
			*at = '\0';
			found = store_mailbox_find(q->st, local, at + 1, &mb, &err);
		}
		if (found == 1 && mb.enabled) {
			ids[n_ids++] = mb.id;
			qr_reply(&r->sr.reply, 250, "2.0.0", SMTPC_STAGE_LOCAL,
				 "delivered to mailbox");
		} else if (found < 0 && at != NULL) {
			qr_reply(&r->sr.reply, 451, "4.3.0", SMTPC_STAGE_LOCAL,
				 "%s", err.msg);
		} else {
			qr_reply(&r->sr.reply, 550, "5.1.1", SMTPC_STAGE_LOCAL,
				 "mailbox unavailable");
		}
	}
	if (n_ids > 0 && qr_msg_load(q, m)) {
		struct store_delivery d = {
			.data = m->data, .len = m->len, .mailbox_ids = ids,
			.n_mailboxes = n_ids, .internal_date = qr_now(),
		};
		if (store_deliver_wait(q->st, &d, &err) != 0)
			for (size_t i = 0; i < m->n; i++)
				if (m->r[i].sr.reply.code == 250)
					qr_reply(&m->r[i].sr.reply, 451, "4.3.0",
						 SMTPC_STAGE_LOCAL, "%s", err.msg);
	} else if (n_ids > 0) {
		free(ids);
		return;	/* qr_msg_load decided every recipient */
	}
	free(ids);
	qr_msg_result(q, m, NULL);
}
