/* ctl_dmarc.c - petrelctl dmarc send | report: DMARC aggregate reports
 * (RFC 7489 7.2, decision 0032). "send" asks petreld (the one process
 * that can deliver mail) through a request row in the store and prints
 * its answer; "report" reads the reports a hosted mailbox received and
 * sums up what an administrator needs before tightening a policy. */
#include "cli/ctl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "msgauth/dmarc_report.h"
#include "store/store.h"

/* ---- send ------------------------------------------------------------- */

static int64_t parse_day(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (rest == NULL || *rest != '\0')
		return -1;
	return (int64_t)timegm(&tm);
}

static void print_sent(json_t *res)
{
	size_t i;
	json_t *r;
	json_t *reports = json_object_get(res, "reports");
	printf("DMARC aggregate reports for %s%s:\n",
	       json_string_value(json_object_get(res, "day")),
	       json_is_true(json_object_get(res, "dry_run")) ? " (dry run)" : "");
	if (json_array_size(reports) == 0)
		printf("  nothing to report\n");
	json_array_foreach(reports, i, r) {
		printf("  %s report %s: %lld records, %lld messages, %lld "
		       "bytes gzip'd\n",
		       json_string_value(json_object_get(r, "domain")),
		       json_string_value(json_object_get(r, "report_id")),
		       (long long)json_integer_value(json_object_get(r, "records")),
		       (long long)json_integer_value(json_object_get(r, "messages")),
		       (long long)json_integer_value(json_object_get(r, "bytes")));
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(r, "sent"), k, a)
			printf("    %s %s\n", json_is_true(json_object_get(
				       res, "dry_run")) ? "would send to" :
				       "sent to", json_string_value(a));
		json_array_foreach(json_object_get(r, "skipped"), k, a)
			printf("    skipped %s: %s\n",
			       json_string_value(json_object_get(a, "address")),
			       json_string_value(json_object_get(a, "reason")));
	}
}

int ctl_dmarc_send(struct ctl *c, int argc, char **argv)
{
	static const char usage[] = "dmarc send [--day YYYY-MM-DD] "
				    "[--domain DOMAIN] [--dry-run]";
	struct store_dmarc_request rq;
	memset(&rq, 0, sizeof rq);
	int64_t now = (int64_t)time(NULL);
	rq.day = now - now % 86400 - 86400;	/* yesterday */
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			rq.dry_run = true;
		} else if (!strcmp(argv[i], "--day") && i + 1 < argc) {
			rq.day = parse_day(argv[++i]);
			if (rq.day < 0)
				return ctl_usage_error(usage);
		} else if (!strcmp(argv[i], "--domain") && i + 1 < argc &&
			   strlen(argv[i + 1]) < sizeof rq.domain) {
			snprintf(rq.domain, sizeof rq.domain, "%s", argv[++i]);
		} else {
			return ctl_usage_error(usage);
		}
	}
	int64_t id;
	if (store_dmarc_request_add(c->st, &rq, now, &id, &c->err) != 0)
		return ctl_fail(c);
	char *text = NULL;
	int rc = 0;
	for (int waited = 0; waited < DMARC_SEND_WAIT_SECS * 10 && rc == 0;
	     waited++) {
		rc = store_dmarc_request_result(c->st, id, &text, &c->err);
		if (rc == 0)
			usleep(100 * 1000);
	}
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0) {
		err_set(&c->err, ERR_ENV, 0, NULL, "petreld did not answer in "
			"%d seconds: is it running, with msgauth_inbound and "
			"dmarc_reports on? (the request stays queued)",
			DMARC_SEND_WAIT_SECS);
		return ctl_fail(c);
	}
	json_t *res = json_loads(text, 0, NULL);
	free(text);
	if (res == NULL || json_object_get(res, "error") != NULL) {
		err_set(&c->err, ERR_ENV, 0, NULL, "petreld: %s",
			res ? json_string_value(json_object_get(res, "error"))
			    : "unreadable answer");
		json_decref(res);
		return ctl_fail(c);
	}
	if (c->json) {
		ctl_doc(c, res);
		return 0;
	}
	print_sent(res);
	json_decref(res);
	return 0;
}

/* ---- report ----------------------------------------------------------- */

struct src_ip {
	char ip[64];
	uint64_t messages, spf_fail, dkim_fail;
};

struct summary {
	const char *domain;
	json_t *reports, *unreadable;
	uint64_t total, pass, fail, disp[5];
	size_t other_domains;
	struct src_ip *ips;
	size_t n_ips, cap_ips;
};

#define IPS_MAX 10000

static void count_ip(struct summary *s, const struct dmarc_report_row *r)
{
	struct src_ip *p = NULL;
	for (size_t i = 0; i < s->n_ips && p == NULL; i++)
		if (!strcmp(s->ips[i].ip, r->source_ip))
			p = &s->ips[i];
	if (p == NULL) {
		if (s->n_ips == IPS_MAX)
			return;
		if (s->n_ips == s->cap_ips) {
			s->cap_ips = s->cap_ips ? s->cap_ips * 2 : 32;
			s->ips = xreallocarray(s->ips, s->cap_ips, sizeof *s->ips);
		}
		p = &s->ips[s->n_ips++];
		memset(p, 0, sizeof *p);
		snprintf(p->ip, sizeof p->ip, "%s", r->source_ip);
	}
	p->messages += r->count;
	if (r->spf != DMARC_RR_PASS)
		p->spf_fail += r->count;
	if (r->dkim != DMARC_RR_PASS)
		p->dkim_fail += r->count;
}

static void add_report(struct summary *s, const struct dmarc_report *rep)
{
	uint64_t total = 0, pass = 0, disp[5] = { 0 };
	for (size_t i = 0; i < rep->n_records; i++) {
		const struct dmarc_report_row *r = &rep->records[i];
		total += r->count;
		/* RFC 7489 3: DMARC passes when either aligned check does */
		if (r->dkim == DMARC_RR_PASS || r->spf == DMARC_RR_PASS)
			pass += r->count;
		else
			count_ip(s, r);
		if ((unsigned)r->disposition < 5)
			disp[r->disposition] += r->count;
	}
	s->total += total;
	s->pass += pass;
	s->fail += total - pass;
	json_t *d = json_object();
	for (int k = DMARC_DISP_NONE; k <= DMARC_DISP_PASS; k++) {
		s->disp[k] += disp[k];
		json_object_set_new(d, dmarc_disp_str((enum dmarc_disp)k),
				    json_integer((json_int_t)disp[k]));
	}
	json_array_append_new(s->reports, json_pack(
		"{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}",
		"org_name", rep->org_name ? rep->org_name : "",
		"report_id", rep->report_id ? rep->report_id : "",
		"begin", (json_int_t)rep->begin, "end", (json_int_t)rep->end,
		"messages", (json_int_t)total, "pass", (json_int_t)pass,
		"fail", (json_int_t)(total - pass), "disposition", d));
}

struct msg_list {
	int64_t since;
	uint32_t *uids;
	size_t n, cap;
};

static int list_msg(const struct store_message *m, void *arg)
{
	struct msg_list *l = arg;
	if (m->internal_date < l->since)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->uids = xreallocarray(l->uids, l->cap, sizeof *l->uids);
	}
	l->uids[l->n++] = m->uid;
	return 0;
}

static int by_messages(const void *a, const void *b)
{
	const struct src_ip *x = a, *y = b;
	return x->messages < y->messages ? 1 : x->messages > y->messages ? -1
			 : strcmp(x->ip, y->ip);
}

static void day_text(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%d %H:%M", &tm);
}

static void print_summary(const struct summary *s, const char *mailbox)
{
	printf("DMARC aggregate reports about %s received by %s:\n", s->domain,
	       mailbox);
	printf("  %-24s %-35s %8s %6s %6s %6s %10s %6s\n", "reporter",
	       "period (UTC)", "messages", "pass", "fail", "none",
	       "quarantine", "reject");
	size_t i;
	json_t *r;
	json_array_foreach(s->reports, i, r) {
		char b[32], e[32], period[80];
		day_text(json_integer_value(json_object_get(r, "begin")), b, sizeof b);
		day_text(json_integer_value(json_object_get(r, "end")), e, sizeof e);
		snprintf(period, sizeof period, "%s .. %s", b, e);
		json_t *d = json_object_get(r, "disposition");
		printf("  %-24s %-35s %8lld %6lld %6lld %6lld %10lld %6lld\n",
		       json_string_value(json_object_get(r, "org_name")), period,
		       (long long)json_integer_value(json_object_get(r, "messages")),
		       (long long)json_integer_value(json_object_get(r, "pass")),
		       (long long)json_integer_value(json_object_get(r, "fail")),
		       (long long)json_integer_value(json_object_get(d, "none")),
		       (long long)json_integer_value(json_object_get(d, "quarantine")),
		       (long long)json_integer_value(json_object_get(d, "reject")));
	}
	printf("Total: %llu messages in %zu reports, %llu pass DMARC, %llu "
	       "fail\n", (unsigned long long)s->total,
	       json_array_size(s->reports), (unsigned long long)s->pass,
	       (unsigned long long)s->fail);
	if (s->n_ips > 0)
		printf("Top failing sources:\n");
	for (size_t k = 0; k < s->n_ips && k < 10; k++)
		printf("  %-40s %8llu messages  SPF not aligned: %llu  DKIM not "
		       "aligned: %llu\n", s->ips[k].ip,
		       (unsigned long long)s->ips[k].messages,
		       (unsigned long long)s->ips[k].spf_fail,
		       (unsigned long long)s->ips[k].dkim_fail);
	if (s->fail == 0 && s->total > 0)
		printf("Every reported message passed: p=quarantine would not "
		       "have hit legitimate mail seen here.\n");
	if (s->other_domains > 0)
		printf("Skipped %zu report(s) about other domains.\n",
		       s->other_domains);
	json_array_foreach(s->unreadable, i, r)
		printf("Unreadable: UID %lld: %s\n",
		       (long long)json_integer_value(json_object_get(r, "uid")),
		       json_string_value(json_object_get(r, "reason")));
}

static void default_mailbox(const struct ctl *c, const char *domain,
			    char *out, size_t outsz)
{
	const char *rua = c->cfg.dmarc_rua;
	if (!strncasecmp(rua, "mailto:", 7))
		rua += 7;
	if (rua[0] != '\0')
		snprintf(out, outsz, "%.*s", (int)strcspn(rua, "!,"), rua);
	else
		snprintf(out, outsz, "dmarc-reports@%s", domain);
}

int ctl_dmarc_report(struct ctl *c, int argc, char **argv)
{
	static const char usage[] = "dmarc report DOMAIN [--mailbox ADDRESS] "
				    "[--since 7d]";
	if (argc < 1 || argv[0][0] == '-')
		return ctl_usage_error(usage);
	char mailbox[STORE_ADDR_MAX + 1];
	default_mailbox(c, argv[0], mailbox, sizeof mailbox);
	int64_t since = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mailbox") && i + 1 < argc &&
		    strlen(argv[i + 1]) < sizeof mailbox) {
			snprintf(mailbox, sizeof mailbox, "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
			since = ctl_parse_since(argv[++i], (int64_t)time(NULL));
			if (since < 0)
				return ctl_usage_error(usage);
		} else {
			return ctl_usage_error(usage);
		}
	}
	char local[STORE_ADDR_MAX + 1];
	const char *at = strrchr(mailbox, '@');
	if (at == NULL || at == mailbox) {
		err_set(&c->err, ERR_PEER, 0, NULL, "'%s' is not an address",
			mailbox);
		return ctl_fail(c);
	}
	snprintf(local, sizeof local, "%.*s", (int)(at - mailbox), mailbox);
	struct store_mailbox mb;
	struct store_folder f;
	int rc = store_mailbox_find(c->st, local, at + 1, &mb, &c->err);
	if (rc == 0)
		err_set(&c->err, ERR_NOTFOUND, 0, NULL, "no mailbox %s here "
			"(the rua address that receives %s's reports; "
			"--mailbox names another)", mailbox, argv[0]);
	if (rc != 1)
		return ctl_fail(c);
	rc = store_folder_find(c->st, mb.id, "INBOX", &f, &c->err);
	if (rc != 1)
		return rc == 0 ? 1 : ctl_fail(c);
	struct msg_list l = { .since = since };
	if (store_message_each(c->st, f.id, list_msg, &l, &c->err) != 0) {
		free(l.uids);
		return ctl_fail(c);
	}
	struct summary s = { .domain = argv[0], .reports = json_array(),
			     .unreadable = json_array() };
	for (size_t i = 0; i < l.n; i++) {
		unsigned char *data;
		size_t len;
		if (store_message_read(c->st, f.id, l.uids[i], &data, &len,
				       &c->err) != 1)
			continue;
		struct dmarc_report rep;
		struct err e;
		if (dmarc_report_read_mail(data, len, &rep, &e) != 0) {
			json_array_append_new(s.unreadable, json_pack(
				"{s:I, s:s}", "uid", (json_int_t)l.uids[i],
				"reason", e.msg));
		} else if (rep.domain == NULL ||
			   strcasecmp(rep.domain, argv[0]) != 0) {
			s.other_domains++;
		} else {
			add_report(&s, &rep);
		}
		dmarc_report_free(&rep);
		free(data);
	}
	free(l.uids);
	if (s.n_ips > 1)
		qsort(s.ips, s.n_ips, sizeof *s.ips, by_messages);
	if (c->json) {
		json_t *ips = json_array();
		for (size_t k = 0; k < s.n_ips && k < 100; k++)
			json_array_append_new(ips, json_pack(
				"{s:s, s:I, s:I, s:I}", "source_ip", s.ips[k].ip,
				"messages", (json_int_t)s.ips[k].messages,
				"spf_fail", (json_int_t)s.ips[k].spf_fail,
				"dkim_fail", (json_int_t)s.ips[k].dkim_fail));
		ctl_doc(c, json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:o, "
				     "s:I, s:o}", "domain", argv[0], "mailbox",
				     mailbox, "reports", s.reports, "messages",
				     (json_int_t)s.total, "pass",
				     (json_int_t)s.pass, "fail",
				     (json_int_t)s.fail, "failing_sources", ips,
				     "other_domains", (json_int_t)s.other_domains,
				     "unreadable", s.unreadable));
	} else {
		print_summary(&s, mailbox);
		json_decref(s.reports);
		json_decref(s.unreadable);
	}
	free(s.ips);
	return 0;
}
