/* ctl_queue.c - petrelctl queue: what is waiting to go out and why, and
 * the administrator's levers (retry now, hold, release, delete, bounce).
 * The changes go straight to the store; petreld's runner picks them up on
 * its next scan, within a second. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin_json.h"
#include "cli/ctl.h"
#include "store/store.h"

/* "3d4h", "12m", "45s": how long ago / until, compact. */
static void span_text(int64_t secs, char *out, size_t outsz)
{
	if (secs < 0)
		secs = -secs;
	if (secs >= 86400)
		snprintf(out, outsz, "%lldd%lldh", (long long)(secs / 86400),
			 (long long)(secs % 86400 / 3600));
	else if (secs >= 3600)
		snprintf(out, outsz, "%lldh%lldm", (long long)(secs / 3600),
			 (long long)(secs % 3600 / 60));
	else if (secs >= 60)
		snprintf(out, outsz, "%lldm", (long long)(secs / 60));
	else
		snprintf(out, outsz, "%llds", (long long)secs);
}

static void time_text(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "-");
}

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0) {
		fprintf(stderr, "petrelctl: bad queue id '%s'\n", s);
		return -1;
	}
	*out = v;
	return 0;
}

struct queue_walk {
	struct ctl *c;
	int64_t now;
};

static int print_entry(const struct store_queue_msg *m, void *arg)
{
	const struct queue_walk *w = arg;
	int64_t now = w->now;
	if (w->c->json) {
		ctl_item(w->c, admin_queue_msg_json(m));
		return 0;
	}
	char age[32], next[32];
	span_text(now - m->created, age, sizeof age);
	if (m->held)
		snprintf(next, sizeof next, "held");
	else if (m->next_try <= now)
		snprintf(next, sizeof next, "now");
	else
		span_text(m->next_try - now, next, sizeof next);
	printf("%-10lld %7s %9llu %5u %-6s <%s>\n", (long long)m->id, age,
	       (unsigned long long)m->size, m->n_rcpts, next, m->sender);
	return 0;
}

int ctl_queue_list(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("queue list");
	int64_t now = (int64_t)time(NULL);
	struct store_queue_stats qs;
	if (store_queue_stats(c->st, &qs, &c->err) != 0)
		return ctl_fail(c);
	struct queue_walk w = { c, now };
	if (c->json) {
		ctl_list_begin(c);
		return store_queue_each(c->st, print_entry, &w, &c->err) != 0 ?
		       ctl_fail(c) : 0;
	}
	if (qs.entries == 0) {
		printf("queue is empty\n");
		return 0;
	}
	printf("%-10s %7s %9s %5s %-6s %s\n", "ID", "AGE", "SIZE", "RCPTS",
	       "NEXT", "SENDER");
	if (store_queue_each(c->st, print_entry, &w, &c->err) != 0)
		return ctl_fail(c);
	char oldest[32];
	span_text(now - qs.oldest, oldest, sizeof oldest);
	printf("%llu message(s), %llu recipient(s), %llu byte(s), %llu held, "
	       "oldest %s\n", (unsigned long long)qs.entries,
	       (unsigned long long)qs.rcpts, (unsigned long long)qs.bytes,
	       (unsigned long long)qs.held, oldest);
	return 0;
}

static int print_rcpt(const struct store_queue_rcpt *r, void *arg)
{
	int64_t now = *(const int64_t *)arg;
	char last[40], next[40];
	time_text(r->last_try, last, sizeof last);
	if (r->state == STORE_QR_BOUNCE)
		snprintf(next, sizeof next, "bounce now");
	else if (r->next_try <= now)
		snprintf(next, sizeof next, "now");
	else
		time_text(r->next_try, next, sizeof next);
	printf("  <%s>\n    attempts: %u   last: %s   next: %s\n", r->addr,
	       r->attempts, last, next);
	if (r->orcpt[0] != '\0')
		printf("    original recipient: %s\n", r->orcpt);
	if (r->last_reply[0] != '\0')
		printf("    last reply: %s\n", r->last_reply);
	return 0;
}

static int rcpt_item(const struct store_queue_rcpt *r, void *arg)
{
	json_array_append_new(arg, admin_queue_rcpt_json(r));
	return 0;
}

int ctl_queue_show(struct ctl *c, int argc, char **argv)
{
	int64_t id;
	if (argc != 1)
		return ctl_usage_error("queue show ID");
	if (parse_id(argv[0], &id) != 0)
		return 2;
	int64_t now = (int64_t)time(NULL);
	struct store_queue_msg m;
	char created[40];
	/* the header first, then the recipients as they are read */
	int rc = store_queue_get(c->st, id, &m, NULL, NULL, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0) {
		fprintf(stderr, "petrelctl: no queue entry %lld\n", (long long)id);
		return 1;
	}
	if (c->json) {
		json_t *o = admin_queue_msg_json(&m), *rcpts = json_array();
		json_object_set_new(o, "recipients", rcpts);
		ctl_doc(c, o);
		rc = store_queue_get(c->st, id, &m, rcpt_item, rcpts, &c->err);
		return rc < 0 ? ctl_fail(c) : 0;
	}
	time_text(m.created, created, sizeof created);
	printf("id: %lld\nsender: <%s>\narrived: %s\nsize: %llu\n",
	       (long long)m.id, m.sender, created, (unsigned long long)m.size);
	if (m.envid[0] != '\0')
		printf("envelope id: %s\n", m.envid);
	printf("held: %s\nrecipients (%u):\n", m.held ? "yes" : "no", m.n_rcpts);
	rc = store_queue_get(c->st, id, &m, print_rcpt, &now, &c->err);
	return rc < 0 ? ctl_fail(c) : 0;
}

/* One admin change on entry argv[0]. */
static int change(struct ctl *c, int argc, char **argv, const char *usage,
		  int (*fn)(struct ctl *c, int64_t id), const char *done)
{
	int64_t id;
	if (argc != 1)
		return ctl_usage_error(usage);
	if (parse_id(argv[0], &id) != 0)
		return 2;
	int rc = fn(c, id);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0) {
		fprintf(stderr, "petrelctl: no queue entry %lld\n", (long long)id);
		return 1;
	}
	ctl_say(c, "%lld: %s", (long long)id, done);
	return 0;
}

static int do_hold(struct ctl *c, int64_t id)
{
	return store_queue_hold(c->st, id, true, &c->err);
}

static int do_release(struct ctl *c, int64_t id)
{
	return store_queue_hold(c->st, id, false, &c->err);
}

static int do_retry(struct ctl *c, int64_t id)
{
	return store_queue_retry(c->st, id, &c->err);
}

static int do_delete(struct ctl *c, int64_t id)
{
	return store_queue_delete(c->st, id, &c->err);
}

static int do_bounce(struct ctl *c, int64_t id)
{
	return store_queue_bounce(c->st, id, "delivery cancelled by the "
				  "postmaster", &c->err);
}

struct retry_all {
	struct ctl *c;
	int64_t *ids;
	size_t n, cap;
};

static int collect_id(const struct store_queue_msg *m, void *arg)
{
	struct retry_all *r = arg;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		int64_t *p = realloc(r->ids, cap * sizeof *p);
		if (p == NULL)
			return 1;
		r->ids = p;
		r->cap = cap;
	}
	r->ids[r->n++] = m->id;
	return 0;
}

int ctl_queue_retry(struct ctl *c, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "all") == 0) {
		struct retry_all r = { .c = c };
		int rc = store_queue_each(c->st, collect_id, &r, &c->err);
		size_t done = 0;
		for (size_t i = 0; rc == 0 && i < r.n; i++) {
			int one = store_queue_retry(c->st, r.ids[i], &c->err);
			if (one < 0)
				rc = -1;
			done += one == 1;
		}
		free(r.ids);
		if (rc != 0)
			return ctl_fail(c);
		ctl_say(c, "%zu message(s) due now", done);
		return 0;
	}
	return change(c, argc, argv, "queue retry ID|all", do_retry, "due now");
}

int ctl_queue_hold(struct ctl *c, int argc, char **argv)
{
	return change(c, argc, argv, "queue hold ID", do_hold, "held");
}

int ctl_queue_release(struct ctl *c, int argc, char **argv)
{
	return change(c, argc, argv, "queue release ID", do_release, "released");
}

int ctl_queue_delete(struct ctl *c, int argc, char **argv)
{
	return change(c, argc, argv, "queue delete ID", do_delete,
		      "deleted (no bounce)");
}

int ctl_queue_bounce(struct ctl *c, int argc, char **argv)
{
	return change(c, argc, argv, "queue bounce ID", do_bounce,
		      "to be bounced to the sender now");
}
