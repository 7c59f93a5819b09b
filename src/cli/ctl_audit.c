/* ctl_audit.c - petrelctl audit list|verify: reading the audit log (by
 * time, actor, domain, kind) and checking its hash chain; and who petrelctl's own entries name. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

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

/* --since: "30m", "2h", "7d" ago, or a UTC date "2026-11-26" or
 * "2026-11-26T13:00:00". -1 if neither. */
static int64_t parse_since(const char *s, int64_t now)
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

/* One JSON object per line (JSON Lines): a script reads them as they come,
 * however long the log. */
static int print_json(const struct store_audit_entry *e, void *arg)
{
	(void)arg;
	json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
			      "id", (json_int_t)e->id, "time", (json_int_t)e->time,
			      "actor", e->actor, "kind", e->kind,
			      "subject", e->subject, "ip", e->ip,
			      "detail", e->detail, "hash", e->hash);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		return 1;
	printf("%s\n", text);
	free(text);
	return 0;
}

#define AUDIT_LIST_USAGE "audit list [--since 2h|7d|YYYY-MM-DD[THH:MM:SS]] " \
	"[--actor WHO] [--domain DOMAIN] [--kind KIND] [--json]"

int ctl_audit_list(struct ctl *c, int argc, char **argv)
{
	struct store_audit_filter f = { .since = 0 };
	bool json = false;
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		if (!strcmp(opt, "--json")) {
			json = true;
			continue;
		}
		if (i + 1 == argc)
			return ctl_usage_error(AUDIT_LIST_USAGE);
		const char *v = argv[++i];
		if (!strcmp(opt, "--since"))
			f.since = parse_since(v, (int64_t)time(NULL));
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
	if (!json)
		printf("%-6s %-20s %-20s %-24s %-28s %-15s %s\n", "ID", "TIME",
		       "KIND", "ACTOR", "SUBJECT", "IP", "DETAIL");
	if (store_audit_query(c->st, &f, json ? print_json : print_entry, NULL,
			      NULL, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

static int find_entry(const struct store_audit_entry *e, void *arg)
{
	int64_t *want = arg;
	if (e->id < *want)
		return 0;
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
	if (rc == 1) {
		printf("audit log TAMPERED: entry %lld does not match the chain "
		       "(%llu entries before it check out)\n", (long long)bad,
		       (unsigned long long)n);
		(void)store_audit_each(c->st, INT64_MIN, find_entry, &bad, &c->err);
		return 1;
	}
	printf("audit log intact: %llu entries, head %s\n",
	       (unsigned long long)n, n ? head : "-");
	return 0;
}
