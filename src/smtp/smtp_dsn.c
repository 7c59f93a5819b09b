/* smtp_dsn.c - delivery status notifications asked for at submission
 * (RFC 3461): the NOTIFY bits handed to the queue, and the "delivered"
 * report for local recipients that asked NOTIFY=SUCCESS (Outlook's
 * delivery receipt). Remote recipients' reports (failed, delayed,
 * relayed) come from the outbound queue. Only the submission port
 * offers DSN, and its sender is the logged-in user, so the report goes
 * into their own INBOX.
 */
#include "smtp/smtp_private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "queue/dsn.h"

_Static_assert(SMTP_NOTIFY_NEVER == STORE_QUEUE_NOTIFY_NEVER &&
	       SMTP_NOTIFY_SUCCESS == STORE_QUEUE_NOTIFY_SUCCESS &&
	       SMTP_NOTIFY_FAILURE == STORE_QUEUE_NOTIFY_FAILURE &&
	       SMTP_NOTIFY_DELAY == STORE_QUEUE_NOTIFY_DELAY,
	       "NOTIFY bits are the queue's");

uint8_t smtp_dsn_notify_flags(unsigned notify)
{
	return (uint8_t)(notify & 0x0fu);
}

/* A report in flight: freed by the store's done(), on its thread. */
struct dsn_delivery {
	struct store_delivery d;
	struct buf out;
	int64_t mailbox_id;
};

static void report_done(struct store_delivery *d)
{
	struct dsn_delivery *r = (struct dsn_delivery *)d;
	if (d->rc != 0)
		log_warn("smtp", NULL, "op=dsn-delivered error=\"%s\"", d->err.msg);
	buf_release(&r->out);
	free(r);
}

void smtp_dsn_delivered(struct smtp_session *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_rcpts; i++)
		if (s->rcpts[i].mailbox_id != 0 &&
		    (s->rcpts[i].dsn.notify & SMTP_NOTIFY_SUCCESS))
			n++;
	if (n == 0 || !s->authenticated || s->from.null_path)
		return;
	struct dsn_rcpt *rc = xcalloc(n, sizeof *rc);
	int64_t now = (int64_t)time(NULL);
	size_t k = 0;
	for (size_t i = 0; i < s->n_rcpts; i++) {
		const struct smtp_rcpt *r = &s->rcpts[i];
		if (r->mailbox_id == 0 || !(r->dsn.notify & SMTP_NOTIFY_SUCCESS))
			continue;
		rc[k++] = (struct dsn_rcpt){
			.final_rcpt = r->addr,
			.orig_rcpt = r->dsn.orcpt[0] != '\0' ? r->dsn.orcpt : NULL,
			.action = DSN_DELIVERED,
			.status = "2.0.0",
			.last_attempt = now,
		};
	}
	struct dsn_delivery *r = xcalloc(1, sizeof *r);
	buf_init(&r->out, s->msg.len + ((size_t)1 << 20));
	struct dsn_msg m = {
		.reporting_mta = s->srv->cfg->hostname,
		.sender = s->from.addr,
		.arrival = now,
		.now = now,
		.envid = s->mail.envid[0] != '\0' ? s->mail.envid : NULL,
		/* a success report carries the header only (RFC 3461 4.3) */
		.ret = DSN_RET_HDRS,
		.rcpts = rc,
		.nrcpts = n,
		.orig = s->msg.data,
		.orig_len = s->msg.len,
	};
	struct err err;
	int built = dsn_build(&m, &r->out, &err);
	free(rc);
	if (built != 0) {
		log_warn("smtp", s->c->id, "op=dsn-delivered error=\"%s\"", err.msg);
		buf_release(&r->out);
		free(r);
		return;
	}
	r->mailbox_id = s->user_id;
	r->d = (struct store_delivery){
		.data = r->out.data, .len = r->out.len,
		.mailbox_ids = &r->mailbox_id, .n_mailboxes = 1,
		.internal_date = now, .done = report_done,
	};
	if (store_deliver_submit(s->srv->store, &r->d, &err) != 0) {
		log_warn("smtp", s->c->id, "op=dsn-delivered error=\"%s\"", err.msg);
		buf_release(&r->out);
		free(r);
		return;
	}
	log_info("smtp", s->c->id, "dsn delivered-report to=<%s> rcpts=%zu",
		 s->user, n);
}
