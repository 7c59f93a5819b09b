/* dmarc_reporter.c - flushing report rows, sending the daily reports. */
#include "msgauth/dmarc_reporter.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "msgauth/dmarc_send.h"
#include "store/store.h"

struct dmarc_reporter {
	const struct config *cfg;
	struct store *st;
	const struct ma_dns *dns;
	struct dmarc_agg *agg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int64_t daily_done;	/* the UTC day whose run took place */
};

void dmarc_reporter_flush(struct store *st, struct dmarc_agg *agg)
{
	struct store_dmarc_row *rows;
	uint64_t dropped;
	size_t n = dmarc_agg_take(agg, &rows, &dropped);
	struct err err;
	if (dropped > 0)
		log_warn("dmarc", NULL, "op=flush dropped=%llu reason=\"more "
			 "than %d distinct report rows in a minute\"",
			 (unsigned long long)dropped, DMARC_AGG_ROWS_MAX);
	if (n > 0 && store_dmarc_add(st, rows, n, &err) != 0)
		log_error("dmarc", NULL, "op=flush rows=%zu error=\"%s\"", n,
			  err.msg);
	free(rows);
}

/* ---- one report to one address ---------------------------------------- */

/* Deliver msg to addr: into the mailboxes it resolves to here, queued
 * for the rest. 0 or -1 with err. */
static int deliver(struct store *st, const char *addr, const struct buf *msg,
		   struct err *err)
{
	const char *at = strrchr(addr, '@');
	char local[STORE_ADDR_MAX + 1];
	size_t ll = (size_t)(at - addr);
	if (ll >= sizeof local)
		return err_set(err, ERR_PEER, 0, "", "address too long");
	memcpy(local, addr, ll);
	local[ll] = '\0';
	struct store_resolved res;
	memset(&res, 0, sizeof res);
	if (store_resolve(st, local, at + 1, "", &res, err) != 0)
		return -1;
	int64_t *ids = NULL;
	const char **ext = NULL;
	size_t n_ids = 0, n_ext = 0;
	int ret = -1;
	if (res.status == STORE_RESOLVE_NOT_HOSTED) {
		ext = xcalloc(1, sizeof *ext);
		ext[n_ext++] = addr;
	} else if (res.status != STORE_RESOLVE_OK) {
		err_set(err, ERR_PEER, 0, "", "%s does not take mail here", addr);
		goto out;
	} else {
		ids = xcalloc(res.n + 1, sizeof *ids);
		ext = xcalloc(res.n + 1, sizeof *ext);
		for (size_t i = 0; i < res.n; i++) {
			if (res.targets[i].mailbox_id != 0)
				ids[n_ids++] = res.targets[i].mailbox_id;
			else
				ext[n_ext++] = res.targets[i].addr;
		}
	}
	struct store_queue_env env = { .sender = "", .rcpts = ext,
				       .n_rcpts = n_ext };
	struct store_delivery d = {
		.data = (const unsigned char *)msg->data, .len = msg->len,
		.mailbox_ids = ids, .n_mailboxes = n_ids,
		.internal_date = (int64_t)time(NULL),
		.queue = n_ext > 0 ? &env : NULL,
	};
	ret = store_deliver_wait(st, &d, err);
out:
	free(ids);
	free(ext);
	store_resolved_free(&res);
	return ret;
}

static void skip(json_t *skipped, const char *addr, const char *domain,
		 const char *why)
{
	json_array_append_new(skipped, json_pack("{s:s, s:s}", "address",
						  addr, "reason", why));
	log_warn("dmarc", NULL, "op=report domain=%s rua=\"%s\" skipped=\"%s\"",
		 domain, addr, why);
}

/* Send o to each of its rua addresses. Its rows may be deleted unless
 * a failure worth retrying happened (returns -1 then). */
static int send_one(const struct config *cfg, struct store *st,
		    const struct ma_dns *dns,
		    const struct dmarc_reporter_id *who,
		    struct dmarc_outgoing *o, bool dry_run, json_t *item)
{
	struct err err;
	unsigned char *gz = NULL;
	size_t gz_len = 0;
	char fname[600];
	json_t *sent = json_array(), *skipped = json_array();
	json_object_set_new(item, "sent", sent);
	json_object_set_new(item, "skipped", skipped);
	if (dmarc_report_gzip(&o->rep, &gz, &gz_len, &err) != 0 ||
	    dmarc_report_filename(cfg->hostname, &o->rep, NULL, fname,
				  sizeof fname, &err) != 0) {
		skip(skipped, "", o->domain, err.msg);
		free(gz);
		return 0;
	}
	json_object_set_new(item, "bytes", json_integer((json_int_t)gz_len));
	json_object_set_new(item, "filename", json_string(fname));
	int ret = 0;
	char uris[STORE_DMARC_RUA_MAX + 1];
	snprintf(uris, sizeof uris, "%s", o->rua);
	char *save = NULL;
	for (char *u = strtok_r(uris, " ", &save); u != NULL;
	     u = strtok_r(NULL, " ", &save)) {
		char addr[STORE_ADDR_MAX + 1], why[600];
		uint64_t max = 0;
		const char *bad;
		if (dmarc_rua_mailto(u, addr, sizeof addr, &max, &bad) != 0) {
			skip(skipped, u, o->domain, bad);
			continue;
		}
		const char *at = strrchr(addr, '@');
		if (!dmarc_external_ok(dns, o->domain, at + 1, why, sizeof why)) {
			skip(skipped, addr, o->domain, why);
			continue;
		}
		struct buf msg;
		buf_init(&msg, gz_len * 2 + 64 * 1024);
		if (dmarc_report_mail_build(who, &o->rep, addr, time(NULL), gz,
					    gz_len, fname, &msg, &err) != 0) {
			skip(skipped, addr, o->domain, err.msg);
		} else if (max > 0 && msg.len > max) {
			/* RFC 7489 7.2.1.1: a report over the limit is not
			 * sent to that address */
			snprintf(why, sizeof why, "the report mail is %zu bytes, "
				 "over the %llu the address accepts (!size)",
				 msg.len, (unsigned long long)max);
			skip(skipped, addr, o->domain, why);
		} else if (dry_run) {
			json_array_append_new(sent, json_string(addr));
		} else if (deliver(st, addr, &msg, &err) != 0) {
			skip(skipped, addr, o->domain, err.msg);
			if (err.kind != ERR_PEER)
				ret = -1;
		} else {
			json_array_append_new(sent, json_string(addr));
			log_info("dmarc", NULL, "op=report domain=%s rua=%s "
				 "report_id=%s records=%zu messages=%llu "
				 "bytes=%zu", o->domain, addr, o->report_id,
				 o->n, (unsigned long long)o->messages,
				 msg.len);
		}
		buf_release(&msg);
	}
	free(gz);
	return ret;
}

/* ---- a day's reports ----------------------------------------------------- */

struct collect {
	const struct dmarc_reporter_id *who;
	int64_t day;
	struct dmarc_outgoing *outs;
	size_t n, cap;
	bool full;
};

static int collect_row(int64_t id, const struct store_dmarc_row *r, void *arg)
{
	struct collect *c = arg;
	if (c->n > 0 && dmarc_outgoing_same(&c->outs[c->n - 1], r)) {
		dmarc_outgoing_add(&c->outs[c->n - 1], id, r);
		return 0;
	}
	if (c->n == DMARC_SEND_REPORTS_MAX) {
		c->full = true;
		return 1;
	}
	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 8 : c->cap * 2;
		c->outs = xreallocarray(c->outs, c->cap, sizeof *c->outs);
	}
	/* unique per receiver (RFC 7489 7.2.2 report_id): day, domain's
	 * place in this run, and 64 random bits */
	unsigned char rnd[8];
	char hex[17], id_text[64];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	snprintf(id_text, sizeof id_text, "%lld.%zu.%s",
		 (long long)(c->day / 86400), c->n, hex);
	dmarc_outgoing_init(&c->outs[c->n++], c->who, id_text, c->day,
			    c->day + 86399, id, r);
	return 0;
}

int dmarc_reporter_send(const struct config *cfg, struct store *st,
			const struct ma_dns *dns, int64_t day,
			const char *domain, bool dry_run, json_t **result_out,
			struct err *err)
{
	char email[320], org[256];
	if (cfg->dmarc_report_email[0] != '\0')
		snprintf(email, sizeof email, "%s", cfg->dmarc_report_email);
	else
		snprintf(email, sizeof email, "dmarc-noreply@%s", cfg->hostname);
	if (cfg->dmarc_report_org[0] != '\0') {
		snprintf(org, sizeof org, "%s", cfg->dmarc_report_org);
	} else {
		char norm[DMARC_DOMAIN_MAX + 1];
		if (dmarc_domain_norm(cfg->hostname, strlen(cfg->hostname),
				      norm) < 0 || !dmarc_org_domain(norm, org))
			snprintf(org, sizeof org, "%s", cfg->hostname);
	}
	struct dmarc_reporter_id who = { cfg->hostname, org, email };
	struct collect c = { .who = &who, .day = day };
	if (domain != NULL && domain[0] == '\0')
		domain = NULL;
	if (store_dmarc_each(st, day, domain, DMARC_SEND_ROWS_MAX, collect_row,
			     &c, err) != 0) {
		for (size_t i = 0; i < c.n; i++)
			dmarc_outgoing_free(&c.outs[i]);
		free(c.outs);
		return -1;
	}
	char dtext[16];
	time_t t = (time_t)day;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(dtext, sizeof dtext, "%Y-%m-%d", &tm);
	json_t *res = json_pack("{s:s, s:b}", "day", dtext, "dry_run", dry_run);
	json_t *reports = json_array();
	json_object_set_new(res, "reports", reports);
	for (size_t i = 0; i < c.n; i++) {
		struct dmarc_outgoing *o = &c.outs[i];
		dmarc_outgoing_finish(o);
		json_t *item = json_pack("{s:s, s:s, s:I, s:I}", "domain",
					 o->domain, "report_id", o->report_id,
					 "records", (json_int_t)o->n, "messages",
					 (json_int_t)o->messages);
		json_array_append_new(reports, item);
		if (send_one(cfg, st, dns, &who, o, dry_run, item) == 0 &&
		    !dry_run && store_dmarc_delete(st, o->ids, o->n, err) != 0)
			log_error("dmarc", NULL, "op=delete domain=%s error=\"%s\"",
				  o->domain, err->msg);
		dmarc_outgoing_free(o);
	}
	if (c.full)
		json_object_set_new(res, "more", json_true());
	free(c.outs);
	*result_out = res;
	return 0;
}

/* ---- the thread ---------------------------------------------------------- */

static void answer_requests(struct dmarc_reporter *r)
{
	struct store_dmarc_request rq;
	struct err err;
	while (store_dmarc_request_next(r->st, &rq, &err) == 1) {
		dmarc_reporter_flush(r->st, r->agg);
		json_t *res = NULL;
		char *text;
		if (dmarc_reporter_send(r->cfg, r->st, r->dns, rq.day, rq.domain,
					rq.dry_run, &res, &err) != 0)
			res = json_pack("{s:s}", "error", err.msg);
		text = json_dumps(res, JSON_COMPACT);
		json_decref(res);
		if (store_dmarc_request_answer(r->st, rq.id, text != NULL ? text
					       : "{}", &err) != 0) {
			log_error("dmarc", NULL, "op=answer error=\"%s\"", err.msg);
			free(text);
			return;
		}
		free(text);
	}
}

static void daily(struct dmarc_reporter *r, time_t now)
{
	int64_t today = (int64_t)now - (int64_t)now % 86400;
	if (!r->cfg->dmarc_reports || r->daily_done == today ||
	    (now - today) / 3600 < (int64_t)r->cfg->dmarc_report_hour)
		return;
	r->daily_done = today;
	dmarc_reporter_flush(r->st, r->agg);
	/* every day before today with rows: yesterday's, and any a stop
	 * kept from being sent */
	int64_t days[31];
	struct err err;
	int n = store_dmarc_days(r->st, today, days, 31, &err);
	for (int i = 0; i < n; i++) {
		json_t *res = NULL;
		if (dmarc_reporter_send(r->cfg, r->st, r->dns, days[i], NULL,
					false, &res, &err) != 0)
			log_error("dmarc", NULL, "op=daily error=\"%s\"", err.msg);
		json_decref(res);
	}
}

static void *reporter_main(void *arg)
{
	struct dmarc_reporter *r = arg;
	time_t last_flush = time(NULL);
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		time_t now = time(NULL);
		if (now - last_flush >= DMARC_AGG_FLUSH_SECS) {
			dmarc_reporter_flush(r->st, r->agg);
			last_flush = now;
		}
		answer_requests(r);
		daily(r, now);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct dmarc_reporter *dmarc_reporter_start(const struct config *cfg,
					    struct store *st,
					    const struct ma_dns *dns,
					    struct dmarc_agg *agg,
					    struct err *err)
{
	struct dmarc_reporter *r = xcalloc(1, sizeof *r);
	r->cfg = cfg;
	r->st = st;
	r->dns = dns;
	r->agg = agg;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	int e = pthread_create(&r->thread, NULL, reporter_main, r);
	if (e != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		err_set(err, ERR_ENV, 0, "", "dmarc reporter thread: %s",
			strerror(e));
		return NULL;
	}
	return r;
}

void dmarc_reporter_stop(struct dmarc_reporter **rp)
{
	struct dmarc_reporter *r = *rp;
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	dmarc_reporter_flush(r->st, r->agg);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	*rp = NULL;
}
