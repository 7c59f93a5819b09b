/* smtp_submit.c - what submission adds to the MX path: the per-mailbox
 * hourly message counters (shared by every worker), and the header work
 * at the end of a submitted message (From: checked, Date, Message-ID
 * and From added when missing, RFC 6409 8). */
#include "smtp/smtp_private.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "mime/mime.h"
#include "smtp/smtp_sender.h"

/* ---- hourly counters ----------------------------------------------------
 * A fixed window per mailbox that starts with its first message and
 * lasts an hour; in memory (a restart forgets it, which costs at most one
 * more hour's worth). Open addressing, a few probes; when every probed
 * slot is live the one whose window is oldest is taken over. */
#define RATE_WINDOW 3600
#define RATE_PROBES 8

struct rate_slot {
	int64_t id;		/* 0: empty */
	int64_t start;
	unsigned count;
};

struct smtp_rate {
	pthread_mutex_t mu;
	struct rate_slot *slots;	/* SUBMISSION_RATE_SLOTS */
};

struct smtp_rate *smtp_rate_new(void)
{
	struct smtp_rate *r = xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	r->slots = xcalloc(SUBMISSION_RATE_SLOTS, sizeof *r->slots);
	return r;
}

void smtp_rate_free(struct smtp_rate **rp)
{
	struct smtp_rate *r = *rp;
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
	*rp = NULL;
}

/* The slot of id (create: take one over if absent). Under r->mu. */
static struct rate_slot *rate_slot(struct smtp_rate *r, int64_t id, bool create)
{
	size_t h = (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 40);
	struct rate_slot *victim = NULL;
	for (size_t i = 0; i < RATE_PROBES; i++) {
		struct rate_slot *e = &r->slots[(h + i) % SUBMISSION_RATE_SLOTS];
		if (e->id == id)
			return e;
		/* empty slots have start 0, so they go first */
		if (victim == NULL || e->start < victim->start)
			victim = e;
	}
	if (!create)
		return NULL;
	victim->id = id;
	victim->start = 0;
	victim->count = 0;
	return victim;
}

bool smtp_rate_allow(struct smtp_rate *r, int64_t mailbox_id, unsigned limit)
{
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&r->mu);
	struct rate_slot *e = rate_slot(r, mailbox_id, false);
	bool ok = e == NULL || now - e->start >= RATE_WINDOW || e->count < limit;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

void smtp_rate_count(struct smtp_rate *r, int64_t mailbox_id)
{
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&r->mu);
	struct rate_slot *e = rate_slot(r, mailbox_id, true);
	if (now - e->start >= RATE_WINDOW) {
		e->start = now;
		e->count = 0;
	}
	e->count++;
	pthread_mutex_unlock(&r->mu);
}

/* ---- headers --------------------------------------------------------- */

static void rfc5322_now(char *out, size_t outsz)
{
	struct tm tm;
	time_t t = time(NULL);
	localtime_r(&t, &tm);
	if (strftime(out, outsz, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(out, outsz, "Thu, 01 Jan 1970 00:00:00 +0000");
}

bool smtp_submit_headers(struct smtp_session *s)
{
	struct span msg = span_make(s->msg.data + s->trace_len, s->msg.len - s->trace_len);
	struct span hdr = smtp_header_block(msg), v;
	char bad[200], add[SMTP_SUBMIT_ADDED_MAX], date[64];
	enum smtp_from_result from = smtp_from_check(hdr, s->srv->store, s->user, bad, sizeof bad);
	if (from == SMTP_FROM_FOREIGN) {
		char logaddr[200];
		log_escape(span_cstr(bad), logaddr, sizeof logaddr);
		log_info("smtp", s->c->id, "reject header_from=\"%s\" user=%s reason=sender_not_owned ip=%s",
			 logaddr, s->user, s->c->ip);
		net_conn_reply(s->c, "553 5.7.1 Sender address not owned by user <%s>", s->user);
		return false;
	}
	size_t n = 0;
	int k;
	if (from == SMTP_FROM_MISSING) {
		k = snprintf(add + n, sizeof add - n, "From: <%s>\r\n", s->user);
		if (k > 0 && (size_t)k < sizeof add - n)
			n += (size_t)k;
	}
	if (!mime_header_find(hdr, "Date", &v)) {
		rfc5322_now(date, sizeof date);
		k = snprintf(add + n, sizeof add - n, "Date: %s\r\n", date);
		if (k > 0 && (size_t)k < sizeof add - n)
			n += (size_t)k;
	}
	if (!mime_header_find(hdr, "Message-ID", &v)) {
		unsigned char rnd[16];
		char hex[sizeof rnd * 2 + 1];
		randombytes_buf(rnd, sizeof rnd);
		sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
		k = snprintf(add + n, sizeof add - n, "Message-ID: <%s@%s>\r\n", hex,
			     s->srv->cfg->hostname);
		if (k > 0 && (size_t)k < sizeof add - n)
			n += (size_t)k;
	}
	/* msg's maximum has room for these (smtp_msg_begin) */
	if (n > 0 && buf_insert(&s->msg, s->trace_len, add, n) != 0)
		log_error("smtp", s->c->id, "no room for the added header fields");
	return true;
}
