/* queue_bounce.c - a delivery status notification for some recipients of
 * a queued message, built by dsn_build and queued like any mail: with the
 * null sender (so that it is never bounced itself) and marked as a
 * report, to the original sender, who is usually a mailbox here (then
 * the runner puts it into that INBOX) and otherwise gets it by SMTP.
 */
#include "queue/queue_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* Room for the report: the original's headers (or all of it, RET=FULL,
 * up to dsn's cap) and the texts. */
#define QR_REPORT_MAX ((size_t)16 << 20)

static bool has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

int qr_bounce(struct queue_runner *q, const struct qr_msg *m,
	      const size_t *which, size_t n, enum dsn_action action,
	      const char *remote_mta)
{
	const struct config *cfg = q->cfg;
	struct dsn_rcpt *rc = xcalloc(n, sizeof *rc);
	char (*diag)[SMTPC_REPLY_TEXT_MAX + 32] = xcalloc(n, sizeof *diag);
	int64_t now = qr_now();
	bool utf8 = has_8bit(m->sender);
	for (size_t i = 0; i < n; i++) {
		const struct qr_rcpt *r = &m->r[which[i]];
		const struct smtpc_reply *rep = &r->sr.reply;
		smtpc_reply_format(rep, diag[i], sizeof diag[i]);
		utf8 |= has_8bit(r->addr);
		rc[i] = (struct dsn_rcpt){
			.final_rcpt = r->addr,
			.orig_rcpt = r->orcpt[0] != '\0' ? r->orcpt : NULL,
			.action = action,
			.status = rep->enhanced[0] != '\0' ? rep->enhanced : NULL,
			/* only a server's own words are its diagnostic */
			.remote_mta = rep->synthetic ? NULL : remote_mta,
			.diag_type = rep->synthetic ? "X-Petrel" : "smtp",
			.diag = diag[i],
			.diag_len = strlen(diag[i]),
			.last_attempt = now,
			.retry_until = action == DSN_DELAYED
					       ? m->created + (int64_t)cfg->queue_lifetime
					       : 0,
		};
	}
	struct dsn_msg dm = {
		.reporting_mta = cfg->hostname,
		.sender = m->sender,
		.arrival = m->created,
		.now = now,
		.envid = m->envid[0] != '\0' ? m->envid : NULL,
		.ret = (m->flags & STORE_QUEUE_RET_FULL) ? DSN_RET_FULL : DSN_RET_HDRS,
		.rcpts = rc,
		.nrcpts = n,
		.orig = m->data,
		.orig_len = m->len,
	};
	struct buf out;
	buf_init(&out, QR_REPORT_MAX);
	struct err err;
	int ret = -1;
	if (dsn_build(&dm, &out, &err) != 0) {
		log_error("queue", NULL, "op=report id=%lld error=\"%s\"",
			  (long long)m->id, err.msg);
		goto out;
	}
	const char *to[1] = { m->sender };
	struct store_queue_env env = {
		.sender = "",
		.rcpts = to,
		.n_rcpts = 1,
		.flags = STORE_QUEUE_BOUNCE | (utf8 ? STORE_QUEUE_SMTPUTF8 : 0),
	};
	struct store_delivery d = {
		.data = out.data, .len = out.len, .internal_date = now,
		.queue = &env,
	};
	if (store_deliver_wait(q->st, &d, &err) != 0) {
		log_error("queue", NULL, "op=report id=%lld error=\"%s\"",
			  (long long)m->id, err.msg);
		goto out;
	}
	log_info("queue", NULL, "op=report id=%lld to=<%s> action=%s rcpts=%zu",
		 (long long)m->id, m->sender, dsn_action_name(action), n);
	ret = 0;
out:
	buf_release(&out);
	free(diag);
	free(rc);
	return ret;
}
