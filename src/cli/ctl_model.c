/* ctl_model.c - petrelctl's commands for the tenants model (decision
 * 0022): domains (list, show, plan, suspend, activate, domain aliases),
 * aliases, groups and their members and senders, catch-all, and a
 * mailbox's suspension, forwarding and details. Each is a thin wrapper
 * of one store call, so the REST API can wrap the same calls.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin_json.h"
#include "cli/ctl.h"
#include "core/config.h"
#include "store/store.h"

static void print_time(int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, sizeof buf, "%" PRId64, t);
	printf("%s", buf);
}

/* "unlimited" for 0, else bytes. */
static void print_size(uint64_t v)
{
	if (v == 0)
		printf("unlimited");
	else
		printf("%" PRIu64, v);
}

static int print_domain_row(const struct store_domain *d, void *arg)
{
	struct ctl *c = arg;
	if (c->json) {
		ctl_item(c, admin_domain_json(d));
		return 0;
	}
	printf("%s", d->name);
	if (strcmp(d->name, d->unicode) != 0)
		printf(" (%s)", d->unicode);
	if (d->alias_of[0] != '\0')
		printf(" alias-of %s", d->alias_of);
	else
		printf(" %s mailboxes %u/%u", d->status == STORE_DOMAIN_ACTIVE
				? "active" : "suspended", d->mailboxes,
		       d->max_mailboxes);
	printf("\n");
	return 0;
}

int ctl_domain_list(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("domain list");
	ctl_list_begin(c);
	if (store_domain_each(c->st, print_domain_row, c, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

static int get_domain(struct ctl *c, const char *name, struct store_domain *d)
{
	int rc = store_domain_get(c->st, name, d, &c->err);
	if (rc == 0)
		err_set(&c->err, ERR_NOTFOUND, 0, NULL, "no domain %s", name);
	return rc == 1 ? 0 : -1;
}

int ctl_domain_show(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("domain show DOMAIN");
	struct store_domain d;
	if (get_domain(c, argv[0], &d) != 0)
		return ctl_fail(c);
	if (c->json) {
		ctl_doc(c, admin_domain_json(&d));
		return 0;
	}
	printf("domain: %s\nunicode: %s\n", d.name, d.unicode);
	if (d.alias_of[0] != '\0')
		printf("alias-of: %s\n", d.alias_of);
	printf("status: %s\n", d.status == STORE_DOMAIN_ACTIVE ? "active"
							        : "suspended");
	printf("mailboxes: %u\nmax-mailboxes: %u\nmailbox-quota: ",
	       d.mailboxes, d.max_mailboxes);
	if (d.mailbox_quota == 0)
		printf("default (%" PRIu64 ")", c->cfg.default_quota);
	else
		printf("%" PRIu64, d.mailbox_quota);
	printf("\nused: %" PRIu64 "\ndomain-quota: ", d.used);
	print_size(d.domain_quota);
	printf("\ncatch-all: %s\ncreated: ", d.catchall[0] ? d.catchall : "off");
	print_time(d.created);
	printf("\n");
	return 0;
}

int ctl_domain_plan(struct ctl *c, int argc, char **argv)
{
	static const char use[] = "domain plan DOMAIN [--max-mailboxes N] "
				  "[--quota SIZE] [--domain-quota SIZE]";
	if (argc < 1 || argv[0][0] == '-')
		return ctl_usage_error(use);
	struct store_domain d;
	if (get_domain(c, argv[0], &d) != 0)
		return ctl_fail(c);
	uint32_t max = d.max_mailboxes;
	uint64_t quota = d.mailbox_quota, total = d.domain_quota;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return ctl_usage_error(use);
		const char *v = argv[++i];
		int bad = 0;
		if (!strcmp(argv[i - 1], "--max-mailboxes")) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			bad = *v == '\0' || *end != '\0' || n > UINT32_MAX;
			max = (uint32_t)n;
		} else if (!strcmp(argv[i - 1], "--quota")) {
			bad = cfg_parse_size(v, &quota) != 0;
		} else if (!strcmp(argv[i - 1], "--domain-quota")) {
			bad = cfg_parse_size(v, &total) != 0;
		} else {
			return ctl_usage_error(use);
		}
		if (bad) {
			fprintf(stderr, "petrelctl: bad value '%s' for %s\n", v,
				argv[i - 1]);
			return 2;
		}
	}
	if (store_domain_set_plan(c->st, argv[0], max, quota, total,
				  &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "domain %s: max-mailboxes %u, mailbox-quota %" PRIu64
	       ", domain-quota %" PRIu64 "", d.name, max, quota, total);
	return 0;
}

static int domain_status(struct ctl *c, int argc, char **argv,
			 enum store_domain_status st, const char *word)
{
	if (argc != 1) {
		char use[64];
		snprintf(use, sizeof use, "domain %s DOMAIN", word);
		return ctl_usage_error(use);
	}
	if (store_domain_set_status(c->st, argv[0], st, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "domain %s %s", argv[0], st == STORE_DOMAIN_ACTIVE
						  ? "activated" : "suspended");
	return 0;
}

int ctl_domain_suspend(struct ctl *c, int argc, char **argv)
{
	return domain_status(c, argc, argv, STORE_DOMAIN_SUSPENDED, "suspend");
}

int ctl_domain_activate(struct ctl *c, int argc, char **argv)
{
	return domain_status(c, argc, argv, STORE_DOMAIN_ACTIVE, "activate");
}

int ctl_domain_alias(struct ctl *c, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[0], "add") != 0)
		return ctl_usage_error("domain alias add ALIAS_DOMAIN TARGET_DOMAIN");
	char ascii[SMTP_DOMAIN_MAX + 1];
	if (store_domain_create(c->st, argv[1], argv[2], ascii, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "domain alias %s -> %s added", ascii, argv[2]);
	return 0;
}

/* ---- aliases and groups -------------------------------------------------- */

static const char *const post_names[] = { "anyone", "members", "senders" };

static int print_alias(const struct store_alias *a, void *arg)
{
	struct ctl *c = arg;
	if (c->json) {
		ctl_item(c, admin_alias_json(a));
		return 0;
	}
	printf("%s", a->address);
	if (a->kind == STORE_GROUP)
		printf(" group post=%s", post_names[a->post % 3]);
	printf(" ->");
	for (size_t i = 0; i < a->n_targets; i++)
		printf(" %s%s", a->target_kinds[i] == STORE_TARGET_SENDER
				       ? "sender:" : "", a->targets[i]);
	printf("\n");
	return 0;
}

int ctl_alias_add(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error("alias add ADDRESS TARGET...");
	if (store_alias_add(c->st, argv[0], STORE_ALIAS, STORE_POST_ANYONE,
			    (const char *const *)argv + 1, (size_t)argc - 1,
			    &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "alias %s added", argv[0]);
	return 0;
}

static int list_aliases(struct ctl *c, int argc, char **argv, int kind,
			const char *use)
{
	if (argc > 1)
		return ctl_usage_error(use);
	ctl_list_begin(c);
	if (store_alias_each(c->st, argc ? argv[0] : NULL, kind, print_alias,
			     c, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

int ctl_alias_list(struct ctl *c, int argc, char **argv)
{
	return list_aliases(c, argc, argv, STORE_ALIAS, "alias list [DOMAIN]");
}

int ctl_alias_remove(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("alias remove ADDRESS");
	if (store_alias_remove(c->st, argv[0], &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "%s removed", argv[0]);
	return 0;
}

int ctl_group_add(struct ctl *c, int argc, char **argv)
{
	static const char use[] = "group add ADDRESS [--post anyone|members|senders]";
	enum store_post_policy post = STORE_POST_ANYONE;
	if (argc != 1 && argc != 3)
		return ctl_usage_error(use);
	if (argc == 3) {
		size_t k = 0;
		while (k < 3 && strcmp(argv[2], post_names[k]) != 0)
			k++;
		if (strcmp(argv[1], "--post") != 0 || k == 3)
			return ctl_usage_error(use);
		post = (enum store_post_policy)k;
	}
	if (store_alias_add(c->st, argv[0], STORE_GROUP, post, NULL, 0,
			    &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "group %s added (post: %s)", argv[0], post_names[post]);
	return 0;
}

static int group_target(struct ctl *c, int argc, char **argv,
			enum store_target_kind kind, const char *use)
{
	bool add = argc == 3 && !strcmp(argv[0], "add");
	if (argc != 3 || (!add && strcmp(argv[0], "remove") != 0))
		return ctl_usage_error(use);
	if (store_alias_target(c->st, argv[1], kind, argv[2], add, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "%s %s %s %s", argv[1],
	       kind == STORE_TARGET_SENDER ? "sender" : "member", argv[2],
	       add ? "added" : "removed");
	return 0;
}

int ctl_group_member(struct ctl *c, int argc, char **argv)
{
	return group_target(c, argc, argv, STORE_TARGET_MEMBER,
			    "group member add|remove GROUP ADDRESS");
}

int ctl_group_sender(struct ctl *c, int argc, char **argv)
{
	return group_target(c, argc, argv, STORE_TARGET_SENDER,
			    "group sender add|remove GROUP ADDRESS");
}

int ctl_group_list(struct ctl *c, int argc, char **argv)
{
	return list_aliases(c, argc, argv, STORE_GROUP, "group list [DOMAIN]");
}

int ctl_catchall_set(struct ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return ctl_usage_error("catchall set DOMAIN ADDRESS|off");
	const char *addr = strcmp(argv[1], "off") ? argv[1] : "";
	if (store_domain_set_catchall(c->st, argv[0], addr, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "catch-all of %s: %s", argv[0], addr[0] ? addr : "off");
	return 0;
}

/* ---- mailbox settings ------------------------------------------------------ */

static int mailbox_enable(struct ctl *c, int argc, char **argv, bool on)
{
	if (argc != 1)
		return ctl_usage_error(on ? "mailbox activate ADDRESS"
					  : "mailbox suspend ADDRESS");
	if (store_mailbox_set_enabled(c->st, argv[0], on, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "mailbox %s %s", argv[0], on ? "activated" : "suspended");
	return 0;
}

int ctl_mailbox_suspend(struct ctl *c, int argc, char **argv)
{
	return mailbox_enable(c, argc, argv, false);
}

int ctl_mailbox_activate(struct ctl *c, int argc, char **argv)
{
	return mailbox_enable(c, argc, argv, true);
}

int ctl_mailbox_forward(struct ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return ctl_usage_error("mailbox forward ADDRESS TARGET|off");
	const char *to = strcmp(argv[1], "off") ? argv[1] : "";
	if (store_mailbox_set_forward(c->st, argv[0], to, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "mailbox %s forwards to: %s", argv[0], to[0] ? to : "off");
	return 0;
}

int ctl_mailbox_show(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("mailbox show ADDRESS");
	struct store_mailbox_info mi;
	int rc = store_mailbox_info(c->st, argv[0], &mi, &c->err);
	if (rc == 0)
		err_set(&c->err, ERR_NOTFOUND, 0, NULL, "no mailbox %s", argv[0]);
	if (rc != 1)
		return ctl_fail(c);
	int64_t last = 0;
	char last_ip[64] = "";
	if (store_mailbox_last_login(c->st, mi.mb.id, &last, last_ip, &c->err) < 0)
		return ctl_fail(c);
	if (c->json) {
		json_t *o = admin_mailbox_json(&mi);
		json_object_set_new(o, "last_login", admin_json_time(last));
		json_object_set_new(o, "last_login_ip", last_ip[0] ?
				    json_string(last_ip) : json_null());
		ctl_doc(c, o);
		return 0;
	}
	printf("address: %s\nname: %s\nstatus: %s\nquota: ", mi.mb.address,
	       mi.display_name, mi.mb.enabled ? "active" : "suspended");
	print_size(mi.mb.quota);
	printf("\nused: %" PRIu64 "\nforward: %s\ncreated: ", mi.mb.used,
	       mi.forward[0] ? mi.forward : "off");
	print_time(mi.created);
	printf("\nlast login: ");
	if (last > 0)
		print_time(last);
	else
		printf("never");
	printf("\nlast login ip: %s\n", last_ip[0] ? last_ip : "-");
	return 0;
}
