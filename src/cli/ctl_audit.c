/* ctl_audit.c - petrelctl audit list|verify: reading the audit log (by
 * time, actor, domain, kind) and checking its hash chain; and who petrelctl's own entries name. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/admin_json.h"
#include "cli/ctl.h"
#include "store/store.h"

void ctl_time_text(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "-");
}

void ctl_set_actor(void)
{
	char actor[128];
	struct passwd *pw = getpwuid(getuid());
	if (pw != NULL)
		snprintf(actor, sizeof actor, "petrelctl:%s", pw->pw_name);
	else
		snprintf(actor, sizeof actor, "petrelctl:uid=%u",
			 (unsigned)getuid());
	store_audit_set_actor(actor);
}

int64_t ctl_parse_since(const char *s, int64_t now)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	if (end != s && n >= 0 && end[0] != '\0' && end[1] == '\0') {
		switch (end[0]) {
		case 's': return now - n;
		case 'm': return now - n * 60;
		case 'h': return now - n * 3600;
		case 'd': return now - n * 86400;
		default: break;
		}
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (rest != NULL && *rest == 'T')
		rest = strptime(rest + 1, "%H:%M:%S", &tm);
	if (rest == NULL || *rest != '\0')
		return -1;
	return (int64_t)timegm(&tm);
}

static int print_entry(const struct store_audit_entry *e, void *arg)
{
	(void)arg;
	char when[32];
	ctl_time_text(e->time, when, sizeof when);
	printf("%-6lld %s %-20s %-24s %-28s %-15s %s\n", (long long)e->id, when,
	       e->kind, e->actor, e->subject[0] ? e->subject : "-",
	       e->ip[0] ? e->ip : "-", e->detail);
	return 0;
}

/* --json: an array written as the entries come, however long the log */
static int print_json(const struct store_audit_entry *e, void *arg)
{
	bool *first = arg;
	json_t *o = admin_audit_json(e);
	char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (text == NULL)
		return 1;
	printf("%s\n  %s", *first ? "" : ",", text);
	*first = false;
	free(text);
	return 0;
}

#define AUDIT_LIST_USAGE "audit show [--since 2h|7d|YYYY-MM-DD[THH:MM:SS]] " \
	"[--actor WHO] [--domain DOMAIN] [--kind KIND] [--json]"

int ctl_audit_list(struct ctl *c, int argc, char **argv)
{
	struct store_audit_filter f = { .since = 0 };
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		if (i + 1 == argc)
			return ctl_usage_error(AUDIT_LIST_USAGE);
		const char *v = argv[++i];
		if (!strcmp(opt, "--since"))
			f.since = ctl_parse_since(v, (int64_t)time(NULL));
		else if (!strcmp(opt, "--actor"))
			f.actor = v;
		else if (!strcmp(opt, "--domain"))
			f.domain = v;
		else if (!strcmp(opt, "--kind"))
			f.kind = v;
		else
			return ctl_usage_error(AUDIT_LIST_USAGE);
		if (f.since < 0)
			return ctl_usage_error(AUDIT_LIST_USAGE);
	}
	bool first = true;
	if (c->json) {
		printf("[");
		c->printed = true;
	} else {
		printf("%-6s %-20s %-20s %-24s %-28s %-15s %s\n", "ID", "TIME",
		       "KIND", "ACTOR", "SUBJECT", "IP", "DETAIL");
	}
	int rc = store_audit_query(c->st, &f, c->json ? print_json : print_entry,
				   &first, NULL, &c->err);
	if (c->json)
		printf("%s]\n", first ? "" : "\n");
	return rc != 0 ? ctl_fail(c) : 0;
}

struct find_bad {
	struct ctl *c;
	int64_t want;
};

static int find_entry(const struct store_audit_entry *e, void *arg)
{
	struct find_bad *fb = arg;
	if (e->id < fb->want)
		return 0;
	if (fb->c->json)
		ctl_set(fb->c, "entry", admin_audit_json(e));
	else
		print_entry(e, NULL);
	return 1;
}

int ctl_audit_verify(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("audit verify");
	int64_t bad = 0;
	uint64_t n = 0;
	char head[65];
	int rc = store_audit_verify(c->st, &bad, &n, head, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	ctl_set(c, "intact", json_boolean(rc == 0));
	ctl_set(c, "entries_checked", json_integer((json_int_t)n));
	if (rc == 1) {
		ctl_say(c, "audit log TAMPERED: entry %lld does not match the "
			"chain (%llu entries before it check out)", (long long)bad,
			(unsigned long long)n);
		ctl_set(c, "bad_id", json_integer(bad));
		struct find_bad fb = { c, bad };
		(void)store_audit_each(c->st, INT64_MIN, find_entry, &fb, &c->err);
		return 1;
	}
	ctl_say(c, "audit log intact: %llu entries, head %s",
		(unsigned long long)n, n ? head : "-");
	if (n)
		ctl_set(c, "head", json_string(head));
	return 0;
}
