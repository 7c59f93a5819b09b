/* ctl_quar.c - petrelctl quarantine list|show|release|delete|expire:
 * messages the filter held (decision 0040). Release is done by petreld
 * (only it can deliver): petrelctl marks the entry and waits until it is
 * gone, as "dmarc send" does; the others change the store directly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/admin_filter.h"
#include "cli/ctl.h"
#include "core/limits.h"
#include "store/store.h"

static int parse_id(struct ctl *c, const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || *s < '0' || *s > '9') {
		err_set(&c->err, ERR_PEER, 0, "", "bad quarantine id '%.60s'", s);
		return -1;
	}
	*out = v;
	return 0;
}

static int no_such(struct ctl *c, int64_t id)
{
	err_set(&c->err, ERR_NOTFOUND, 0, "", "no quarantined message %lld",
		(long long)id);
	return ctl_fail(c);
}

struct list_walk {
	struct ctl *c;
	size_t n;
	int64_t last_received, last_id;
};

static int print_entry(const struct store_quarantine_entry *e, void *arg)
{
	struct list_walk *w = arg;
	w->n++;
	w->last_received = e->received;
	w->last_id = e->id;
	if (w->c->json) {
		ctl_item(w->c, admin_quarantine_json(e));
		return 0;
	}
	char when[40];
	ctl_time_text(e->received, when, sizeof when);
	printf("%-12lld %-20s %6.1f %-28.28s %-28.28s %.40s\n",
	       (long long)e->id, when, e->score, e->address,
	       e->sender[0] ? e->sender : "<>", e->subject);
	return 0;
}

int ctl_quarantine_list(struct ctl *c, int argc, char **argv)
{
	static const char usage[] = "quarantine list [--domain D] [--mailbox A]";
	struct store_quarantine_filter f = { .limit = STORE_QUAR_PAGE_MAX };
	char domain[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--domain") && i + 1 < argc) {
			if (store_domain_idna(argv[++i], domain, sizeof domain,
					      uni, sizeof uni, &c->err) != 0)
				return ctl_fail(c);
			f.domain = domain;
		} else if (!strcmp(argv[i], "--mailbox") && i + 1 < argc) {
			f.mailbox = argv[++i];
		} else {
			return ctl_usage_error(usage);
		}
	}
	struct list_walk w = { .c = c };
	ctl_list_begin(c);
	if (!c->json)
		printf("%-12s %-20s %6s %-28s %-28s %s\n", "ID", "RECEIVED",
		       "SCORE", "MAILBOX", "SENDER", "SUBJECT");
	/* page through all of them: the store bounds each page */
	bool more = true;
	while (more) {
		size_t before = w.n;
		f.before_received = w.last_received;
		f.before_id = w.last_id;
		if (store_quarantine_list(c->st, &f, print_entry, &w, &more,
					  &c->err) != 0)
			return ctl_fail(c);
		if (w.n == before)
			break;
	}
	if (!c->json)
		printf("%zu message(s) held\n", w.n);
	return 0;
}

int ctl_quarantine_show(struct ctl *c, int argc, char **argv)
{
	int64_t id;
	if (argc != 1)
		return ctl_usage_error("quarantine show ID");
	if (parse_id(c, argv[0], &id) < 0)
		return ctl_fail(c);
	struct store_quarantine_entry e;
	unsigned char *msg = NULL;
	size_t len = 0;
	int found = store_quarantine_get(c->st, id, &e, &msg, &len, &c->err);
	if (found < 0)
		return ctl_fail(c);
	if (found == 0)
		return no_such(c, id);
	json_t *o = admin_quarantine_preview_json(&e, msg, len);
	free(msg);
	if (c->json) {
		ctl_doc(c, o);
		return 0;
	}
	char when[40], until[40];
	ctl_time_text(e.received, when, sizeof when);
	ctl_time_text(e.expires, until, sizeof until);
	json_t *pv = json_object_get(o, "preview");
	printf("id:       %lld\nmailbox:  %s\nsender:   %s\nreceived: %s\n"
	       "expires:  %s\nscore:    %.2f\nsymbols:  %s\nreason:   %s\n"
	       "size:     %llu\n", (long long)e.id, e.address,
	       e.sender[0] ? e.sender : "<>", when, until, e.score, e.symbols,
	       e.reason, (unsigned long long)e.size);
	static const char *const hdrs[][2] = {
		{ "from", "From" }, { "to", "To" }, { "cc", "Cc" },
		{ "date", "Date" }, { "message_id", "Message-ID" },
		{ "subject", "Subject" },
	};
	printf("\n");
	for (size_t i = 0; i < sizeof hdrs / sizeof *hdrs; i++) {
		const char *v = json_string_value(json_object_get(pv, hdrs[i][0]));
		if (v != NULL)
			printf("%s: %s\n", hdrs[i][1], v);
	}
	const char *text = json_string_value(json_object_get(pv, "text"));
	printf("\n%s%s", text ? text : "(no text part)\n",
	       text && text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "");
	json_decref(o);
	return 0;
}

int ctl_quarantine_release(struct ctl *c, int argc, char **argv)
{
	int64_t id;
	if (argc != 1)
		return ctl_usage_error("quarantine release ID");
	if (parse_id(c, argv[0], &id) < 0)
		return ctl_fail(c);
	struct store_quarantine_entry e;
	int rc = store_quarantine_get(c->st, id, &e, NULL, NULL, &c->err);
	if (rc == 1)
		rc = store_quarantine_release_request(c->st, id, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0)
		return no_such(c, id);
	for (int i = 0; i < QUARANTINE_RELEASE_WAIT_SECS * 10; i++) {
		struct store_quarantine_entry now;
		rc = store_quarantine_get(c->st, id, &now, NULL, NULL, &c->err);
		if (rc < 0)
			return ctl_fail(c);
		if (rc == 0) {
			ctl_set(c, "id", json_integer(id));
			ctl_set(c, "mailbox", json_string(e.address));
			ctl_set(c, "released", json_true());
			ctl_say(c, "released %lld into the INBOX of %s",
				(long long)id, e.address);
			return 0;
		}
		if (!now.release_requested) {
			err_set(&c->err, ERR_ENV, 0, "", "petreld could not "
				"release %lld (is the mailbox %s still there? "
				"see its log)", (long long)id, e.address);
			return ctl_fail(c);
		}
		usleep(100 * 1000);
	}
	err_set(&c->err, ERR_ENV, 0, "", "petreld did not release %lld in %d "
		"seconds: is it running? (the request stays)", (long long)id,
		QUARANTINE_RELEASE_WAIT_SECS);
	return ctl_fail(c);
}

int ctl_quarantine_delete(struct ctl *c, int argc, char **argv)
{
	int64_t id;
	if (argc != 1)
		return ctl_usage_error("quarantine delete ID");
	if (parse_id(c, argv[0], &id) < 0)
		return ctl_fail(c);
	int rc = store_quarantine_delete(c->st, id, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0)
		return no_such(c, id);
	ctl_set(c, "id", json_integer(id));
	ctl_set(c, "deleted", json_true());
	ctl_say(c, "deleted %lld", (long long)id);
	return 0;
}

int ctl_quarantine_expire(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("quarantine expire");
	uint64_t n = 0;
	if (store_quarantine_expire(c->st, (int64_t)time(NULL), &n,
				    &c->err) != 0)
		return ctl_fail(c);
	ctl_set(c, "expired", json_integer((json_int_t)n));
	ctl_say(c, "%llu expired message(s) removed", (unsigned long long)n);
	return 0;
}
