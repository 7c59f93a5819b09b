/* petrelctl.c - the admin command line. For now it works on the store in
 * data_dir directly (bootstrap and single-machine use; the REST API comes
 * with the tenants work). Safe while petreld runs: SQLite WAL serialises
 * writers and readers never block. Commands are a table of words. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/auth.h"
#include "core/config.h"
#include "dns/dns.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/tls_check.h"
#include "store/store.h"
#include "cli/ctl.h"

int ctl_fail(struct ctl *c)
{
	fprintf(stderr, "petrelctl: %s\n", c->err.msg);
	return 1;
}

int ctl_usage_error(const char *what)
{
	fprintf(stderr, "petrelctl: usage: petrelctl %s\n", what);
	return 2;
}

/* "local@domain" -> local and domain; domain lower-cased. */
static int split_address(const char *addr, char *local, size_t lsz,
			 char *domain, size_t dsz)
{
	const char *at = strrchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0')
		return -1;
	size_t ll = (size_t)(at - addr);
	if (ll >= lsz || strlen(at + 1) >= dsz)
		return -1;
	memcpy(local, addr, ll);
	local[ll] = '\0';
	size_t i = 0;
	for (const char *p = at + 1; *p; p++)
		domain[i++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	domain[i] = '\0';
	return 0;
}

static int find_mailbox(struct ctl *c, const char *addr, struct store_mailbox *mb)
{
	char local[128], domain[256];
	if (split_address(addr, local, sizeof local, domain, sizeof domain) != 0) {
		err_set(&c->err, ERR_PEER, 0, NULL, "'%s' is not an address (local@domain)", addr);
		return -1;
	}
	int rc = store_mailbox_find(c->st, local, domain, mb, &c->err);
	if (rc == 0)
		err_set(&c->err, ERR_NOTFOUND, 0, NULL, "no mailbox %s", addr);
	return rc == 1 ? 0 : -1;
}

static int cmd_domain_add(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("domain add DOMAIN");
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_domain_idna(argv[0], ascii, sizeof ascii, uni, sizeof uni, &c->err) != 0 ||
	    store_domain_create(c->st, argv[0], NULL, NULL, &c->err) != 0)
		return ctl_fail(c);
	if (strcmp(ascii, uni) != 0)
		printf("domain %s (%s) added\n", ascii, uni);
	else
		printf("domain %s added\n", ascii);
	return 0;
}

static int cmd_mailbox_add(struct ctl *c, int argc, char **argv)
{
	const char *addr = NULL;
	uint64_t quota = c->cfg.default_quota;
	bool from_stdin = false, quota_given = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--quota") && i + 1 < argc) {
			quota_given = true;
			if (cfg_parse_size(argv[++i], &quota) != 0) {
				fprintf(stderr, "petrelctl: bad size '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--password-stdin")) {
			from_stdin = true;
		} else if (addr == NULL && argv[i][0] != '-') {
			addr = argv[i];
		} else {
			return ctl_usage_error("mailbox add ADDRESS [--quota SIZE] [--password-stdin]");
		}
	}
	if (addr == NULL)
		return ctl_usage_error("mailbox add ADDRESS [--quota SIZE] [--password-stdin]");
	char local[128], domain[256], pw[256], hash[AUTH_HASH_MAX];
	if (split_address(addr, local, sizeof local, domain, sizeof domain) != 0) {
		fprintf(stderr, "petrelctl: '%s' is not an address (local@domain)\n", addr);
		return 2;
	}
	/* an IDN as typed: the store keeps its A-label (decision 0022) */
	char uni[SMTP_DOMAIN_MAX * 4 + 1];
	if (store_domain_idna(domain, domain, sizeof domain, uni, sizeof uni, &c->err) != 0)
		return ctl_fail(c);
	struct store_domain dom;
	if (!quota_given && store_domain_get(c->st, domain, &dom, &c->err) == 1 &&
	    dom.mailbox_quota != 0)
		quota = dom.mailbox_quota;
	if (from_stdin) {
		if (fgets(pw, sizeof pw, stdin) == NULL) {
			fprintf(stderr, "petrelctl: no password on standard input\n");
			return 2;
		}
		pw[strcspn(pw, "\r\n")] = '\0';
	}
	struct store_password_policy policy;
	int prc = store_domain_password_policy(c->st, domain, &policy, &c->err);
	if (prc < 0)
		return ctl_fail(c);
	if (prc == 0)
		auth_password_policy_default(&policy);
	const char *why;
	if (!from_stdin)
		auth_password_generate(&policy, pw, sizeof pw);
	else if (auth_password_policy_check(&policy, pw, strlen(pw), local,
					    &why) != 0) {
		fprintf(stderr, "petrelctl: weak password: %s\n", why);
		explicit_bzero(pw, sizeof pw);
		return 1;
	}
	if (auth_password_hash(pw, strlen(pw), hash, sizeof hash, &c->err) != 0)
		return ctl_fail(c);
	int64_t id;
	if (store_mailbox_add(c->st, local, domain, hash, quota, &id, &c->err) != 0)
		return ctl_fail(c);
	if (auth_scram_store(c->st, id, pw, strlen(pw), &c->err) != 0)
		return ctl_fail(c);
	if (from_stdin)
		printf("mailbox %s added\n", addr);
	else
		printf("mailbox %s added, password: %s\n", addr, pw);
	explicit_bzero(pw, sizeof pw);
	return 0;
}

static int print_mailbox(const struct store_mailbox *mb, void *arg)
{
	(void)arg;
	printf("%s %llu %llu%s\n", mb->address, (unsigned long long)mb->quota,
	       (unsigned long long)mb->used, mb->enabled ? "" : " disabled");
	return 0;
}

static int cmd_mailbox_list(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("mailbox list");
	if (store_mailbox_each(c->st, print_mailbox, NULL, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

static int cmd_mailbox_quota(struct ctl *c, int argc, char **argv)
{
	uint64_t quota;
	if (argc != 2)
		return ctl_usage_error("mailbox quota ADDRESS SIZE");
	if (cfg_parse_size(argv[1], &quota) != 0) {
		fprintf(stderr, "petrelctl: bad size '%s'\n", argv[1]);
		return 2;
	}
	if (store_mailbox_set_quota(c->st, argv[0], quota, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

static const char *const special_names[] = {
	"-", "\\Inbox", "\\Sent", "\\Drafts", "\\Junk", "\\Trash", "\\Archive",
};

static int print_folder(const struct store_folder *f, void *arg)
{
	(void)arg;
	printf("%s %s %u %u %u\n", f->name,
	       (unsigned)f->special < sizeof special_names / sizeof *special_names
		       ? special_names[f->special] : "?",
	       f->uidvalidity, f->uidnext, f->messages);
	return 0;
}

static int cmd_folder_list(struct ctl *c, int argc, char **argv)
{
	struct store_mailbox mb;
	if (argc != 1)
		return ctl_usage_error("folder list ADDRESS");
	if (find_mailbox(c, argv[0], &mb) != 0 ||
	    store_folder_each(c->st, mb.id, print_folder, NULL, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

static int print_message(const struct store_message *m, void *arg)
{
	(void)arg;
	printf("%u %llu %lld %u\n", m->uid, (unsigned long long)m->size,
	       (long long)m->internal_date, m->flags);
	return 0;
}

static int open_folder(struct ctl *c, const char *addr, const char *name,
		       struct store_folder *f)
{
	struct store_mailbox mb;
	if (find_mailbox(c, addr, &mb) != 0)
		return -1;
	int rc = store_folder_find(c->st, mb.id, name, f, &c->err);
	if (rc == 0)
		err_set(&c->err, ERR_NOTFOUND, 0, NULL, "%s has no folder %s", addr, name);
	return rc == 1 ? 0 : -1;
}

static int cmd_message_list(struct ctl *c, int argc, char **argv)
{
	struct store_folder f;
	if (argc < 1 || argc > 2)
		return ctl_usage_error("message list ADDRESS [FOLDER]");
	if (open_folder(c, argv[0], argc == 2 ? argv[1] : "INBOX", &f) != 0 ||
	    store_message_each(c->st, f.id, print_message, NULL, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

static int cmd_message_cat(struct ctl *c, int argc, char **argv)
{
	struct store_folder f;
	if (argc != 3)
		return ctl_usage_error("message cat ADDRESS FOLDER UID");
	char *end;
	errno = 0;
	unsigned long uid = strtoul(argv[2], &end, 10);
	if (errno || *end || uid == 0 || uid > UINT32_MAX) {
		fprintf(stderr, "petrelctl: bad UID '%s'\n", argv[2]);
		return 2;
	}
	if (open_folder(c, argv[0], argv[1], &f) != 0)
		return ctl_fail(c);
	unsigned char *data;
	size_t len;
	int rc = store_message_read(c->st, f.id, (uint32_t)uid, &data, &len, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0) {
		fprintf(stderr, "petrelctl: no message with UID %lu\n", uid);
		return 1;
	}
	size_t w = fwrite(data, 1, len, stdout);
	free(data);
	if (w != len || fflush(stdout) != 0) {
		fprintf(stderr, "petrelctl: write error\n");
		return 1;
	}
	return 0;
}

static int cmd_store_check(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	uint64_t problems;
	if (argc != 0)
		return ctl_usage_error("store check");
	if (store_check(c->st, &problems, &c->err) != 0)
		return ctl_fail(c);
	if (problems) {
		printf("store has %llu problem(s)\n", (unsigned long long)problems);
		return 1;
	}
	printf("store ok\n");
	return 0;
}

static int cmd_config_dump(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fflush(stdout);
	cfg_dump(&c->cfg, 1);
	return 0;
}

static void print_finding(void *arg, enum tls_check_level level, const char *line)
{
	(void)arg;
	(void)level;
	printf("%s\n", line);
}

struct listen_check {
	const struct config *cfg;
	enum tls_check_level worst;
};

/* A listen_* key with its own cert= and key=, checked as petreld does
 * (no host name: clients reach it under names we cannot know). */
static void check_listener(void *arg, const char *key, const struct cfg_listen_list *l)
{
	struct listen_check *lc = arg;
	if (l->n == 0 || l->cert[0] == '\0')
		return;
	char cert[1200], keyp[1200];
	tls_check_resolve(lc->cfg->data_dir, l->cert, cert, sizeof cert);
	tls_check_resolve(lc->cfg->data_dir, l->key, keyp, sizeof keyp);
	printf("%s (%s:%s):\n", key, l->addr[0].host, l->addr[0].port);
	enum tls_check_level lv = tls_check_files(cert, keyp, NULL, print_finding, NULL);
	if (lv > lc->worst)
		lc->worst = lv;
}

/* The same checks petreld runs at startup: exit 1 when it would refuse
 * to start, 0 when it would start (perhaps with warnings). */
static int cmd_tls_check(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("tls check");
	char cert[1200], key[1200];
	tls_check_resolve(c->cfg.data_dir, c->cfg.tls_cert, cert, sizeof cert);
	tls_check_resolve(c->cfg.data_dir, c->cfg.tls_key, key, sizeof key);
	if (!strcmp(c->cfg.tls_cert, "tls/cert.pem") && !strcmp(c->cfg.tls_key, "tls/key.pem") &&
	    access(cert, F_OK) != 0 && access(key, F_OK) != 0 && c->cfg.tls_sni.n == 0) {
		printf("%s: none yet; petreld makes a self-signed certificate at first start\n", cert);
		struct listen_check lc = { &c->cfg, TLS_CHECK_OK };
		cfg_each_listen(&c->cfg, check_listener, &lc);
		return lc.worst == TLS_CHECK_ERROR ? 1 : 0;
	}
	enum tls_check_level worst = tls_check_files(cert, key, c->cfg.hostname,
						     print_finding, NULL);
	for (size_t i = 0; i < c->cfg.tls_sni.n; i++) {
		const struct cfg_sni *s = &c->cfg.tls_sni.e[i];
		tls_check_resolve(c->cfg.data_dir, s->cert, cert, sizeof cert);
		tls_check_resolve(c->cfg.data_dir, s->key, key, sizeof key);
		printf("tls_sni %s:\n", s->name);
		enum tls_check_level l = tls_check_files(cert, key,
							 s->name[0] == '*' ? NULL : s->name,
							 print_finding, NULL);
		if (l > worst)
			worst = l;
	}
	struct listen_check lc = { &c->cfg, worst };
	cfg_each_listen(&c->cfg, check_listener, &lc);
	worst = lc.worst;
	printf("%s\n", worst == TLS_CHECK_ERROR ? "tls: errors (petreld would not start)" :
	       worst == TLS_CHECK_WARN ? "tls: ok, with warnings" : "tls: ok");
	return worst == TLS_CHECK_ERROR ? 1 : 0;
}

struct dns_wait {
	struct event_base *base;
	int rc;
};

/* One line per target in delivery order; exit 0 on ok, 1 on a permanent
 * failure (null MX, no such domain, no address), 75 (EX_TEMPFAIL) on a
 * temporary one, as the queue would treat them. */
static void print_route(const struct dns_route *rt, void *arg)
{
	struct dns_wait *w = arg;
	printf("%s: %s%s%s\n", rt->name, dns_status_str(rt->status),
	       rt->why[0] ? ": " : "", rt->why);
	for (size_t i = 0; i < rt->n; i++) {
		const struct dns_target *t = &rt->t[i];
		printf("%u %s", t->pref, t->host);
		for (size_t k = 0; k < t->naddr; k++) {
			char a[64];
			printf(" %s", dns_addr_str(&t->addr[k], a, sizeof a));
		}
		printf("%s%s\n", t->implicit ? " (no MX: the domain itself)" : "",
		       t->tempfail ? " (temporary failure)" :
		       t->naddr == 0 ? " (no address)" : "");
	}
	w->rc = rt->status == DNS_OK ? 0 : rt->status == DNS_TEMPFAIL ? 75 : 1;
	event_base_loopbreak(w->base);
}

static int cmd_dns(struct ctl *c, int argc, char **argv, bool route)
{
	if (argc != 1)
		return ctl_usage_error(route ? "dns route DOMAIN" : "dns addr HOST");
	struct dns_wait w = { .base = event_base_new(), .rc = 1 };
	if (w.base == NULL) {
		fprintf(stderr, "petrelctl: cannot create an event loop\n");
		return 1;
	}
	struct dns_options opt = { .forwarder = c->cfg.dns_forwarder,
				   .timeout = c->cfg.dns_timeout };
	struct dns_resolver *r = dns_resolver_new(w.base, &opt, &c->err);
	if (r == NULL) {
		event_base_free(w.base);
		return ctl_fail(c);
	}
	if (route)
		dns_mail_route(r, argv[0], print_route, &w);
	else
		dns_addr(r, argv[0], print_route, &w);
	if (event_base_dispatch(w.base) < 0)
		w.rc = 1;
	dns_resolver_free(&r);
	event_base_free(w.base);
	return w.rc;
}

static int cmd_dns_route(struct ctl *c, int argc, char **argv)
{
	return cmd_dns(c, argc, argv, true);
}

static int cmd_dns_addr(struct ctl *c, int argc, char **argv)
{
	return cmd_dns(c, argc, argv, false);
}

static const struct {
	const char *group, *verb, *usage;
	int (*fn)(struct ctl *c, int argc, char **argv);
	bool needs_store;
} commands[] = {
	{ "domain", "add", "DOMAIN", cmd_domain_add, true },
	{ "mailbox", "add", "ADDRESS [--quota SIZE] [--password-stdin]", cmd_mailbox_add, true },
	{ "mailbox", "list", "", cmd_mailbox_list, true },
	{ "mailbox", "quota", "ADDRESS SIZE", cmd_mailbox_quota, true },
	{ "folder", "list", "ADDRESS", cmd_folder_list, true },
	{ "message", "list", "ADDRESS [FOLDER]", cmd_message_list, true },
	{ "message", "cat", "ADDRESS FOLDER UID", cmd_message_cat, true },
	{ "store", "check", "", cmd_store_check, true },
	{ "config", "dump", "", cmd_config_dump, false },
	{ "tls", "check", "", cmd_tls_check, false },
	{ "queue", "list", "", ctl_queue_list, true },
	{ "queue", "show", "ID", ctl_queue_show, true },
	{ "queue", "retry", "ID|all", ctl_queue_retry, true },
	{ "queue", "hold", "ID", ctl_queue_hold, true },
	{ "queue", "release", "ID", ctl_queue_release, true },
	{ "queue", "delete", "ID", ctl_queue_delete, true },
	{ "queue", "bounce", "ID", ctl_queue_bounce, true },
	{ "token", "create", "NAME [--domain DOMAIN]", ctl_token_create, true },
	{ "token", "list", "", ctl_token_list, true },
	{ "token", "revoke", "ID", ctl_token_revoke, true },
	{ "dns", "route", "DOMAIN", cmd_dns_route, false },
	{ "dns", "addr", "HOST", cmd_dns_addr, false },
	{ "domain", "list", "", ctl_domain_list, true },
	{ "domain", "show", "DOMAIN", ctl_domain_show, true },
	{ "domain", "plan", "DOMAIN [--max-mailboxes N] [--quota SIZE] [--domain-quota SIZE]",
	  ctl_domain_plan, true },
	{ "domain", "suspend", "DOMAIN", ctl_domain_suspend, true },
	{ "domain", "activate", "DOMAIN", ctl_domain_activate, true },
	{ "domain", "alias", "add ALIAS_DOMAIN TARGET_DOMAIN", ctl_domain_alias, true },
	{ "alias", "add", "ADDRESS TARGET...", ctl_alias_add, true },
	{ "alias", "list", "[DOMAIN]", ctl_alias_list, true },
	{ "alias", "remove", "ADDRESS", ctl_alias_remove, true },
	{ "group", "add", "ADDRESS [--post anyone|members|senders]", ctl_group_add, true },
	{ "group", "member", "add|remove GROUP ADDRESS", ctl_group_member, true },
	{ "group", "sender", "add|remove GROUP ADDRESS", ctl_group_sender, true },
	{ "group", "list", "[DOMAIN]", ctl_group_list, true },
	{ "group", "remove", "ADDRESS", ctl_alias_remove, true },
	{ "catchall", "set", "DOMAIN ADDRESS|off", ctl_catchall_set, true },
	{ "mailbox", "suspend", "ADDRESS", ctl_mailbox_suspend, true },
	{ "mailbox", "activate", "ADDRESS", ctl_mailbox_activate, true },
	{ "mailbox", "forward", "ADDRESS TARGET|off", ctl_mailbox_forward, true },
	{ "mailbox", "show", "ADDRESS", ctl_mailbox_show, true },
	{ "app-password", "add", "ADDRESS NAME", ctl_app_password_add, true },
	{ "app-password", "list", "ADDRESS", ctl_app_password_list, true },
	{ "app-password", "revoke", "ADDRESS ID", ctl_app_password_revoke, true },
	{ "totp", "enable", "ADDRESS [--qr|--no-qr]", ctl_totp_enable, true },
	{ "totp", "disable", "ADDRESS", ctl_totp_disable, true },
	{ "totp", "verify", "ADDRESS CODE", ctl_totp_verify, true },
	{ "domain", "2fa", "DOMAIN on|off", ctl_domain_2fa, true },
	{ "audit", "list", "[--since 2h|7d|YYYY-MM-DD] [--actor WHO] "
	  "[--domain DOMAIN] [--kind KIND] [--json]", ctl_audit_list, true },
	{ "audit", "verify", "", ctl_audit_verify, true },
	{ "mailbox", "import", "FILE.csv [--domain DOMAIN] [--dry-run] [--json]",
	  ctl_mailbox_import, true },
	{ "domain", "password-policy", "DOMAIN [--min-length N] [--classes N] "
	  "[--local-part allow|reject] [--common allow|reject]",
	  ctl_domain_password_policy, true },
	{ "dkim", "keygen", "DOMAIN [--algorithm rsa|ed25519|both] [--selector S]",
	  ctl_dkim_keygen, true },
	{ "dkim", "list", "[DOMAIN] [--json] [--at UNIXTIME]", ctl_dkim_list, true },
	{ "dkim", "rotate", "DOMAIN|--due [--now]", ctl_dkim_rotate, true },
	{ "dns", "records", "DOMAIN [--json]", ctl_dns_records, true },
	{ "dns", "check", "DOMAIN [--json]", ctl_dns_check, true },
};

static void usage(void)
{
	fprintf(stderr, "usage: petrelctl [-c FILE] [-o KEY=VALUE]... COMMAND\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(stderr, "  %s %s %s\n", commands[i].group, commands[i].verb,
			commands[i].usage);
}

int main(int argc, char **argv)
{
	struct ctl *c = xcalloc(1, sizeof *c);
	const char *conf = NULL;
	int i = 1;
	cfg_defaults(&c->cfg);
	log_set_level(LOG_WARN);
	const char *overrides[64];
	size_t n_over = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc && n_over < 64)
			overrides[n_over++] = argv[++i];
		else {
			usage();
			return 2;
		}
	}
	if (cfg_load_file(&c->cfg, conf ? conf : "petrel.conf", conf == NULL, &c->err) != 0)
		return ctl_fail(c);
	for (size_t k = 0; k < n_over; k++)
		if (cfg_set(&c->cfg, "-o", overrides[k], &c->err) != 0)
			return ctl_fail(c);
	if (argc - i < 2) {
		usage();
		return 2;
	}
	for (size_t k = 0; k < sizeof commands / sizeof *commands; k++) {
		if (strcmp(commands[k].group, argv[i]) || strcmp(commands[k].verb, argv[i + 1]))
			continue;
		if (auth_init(&c->err) != 0)
			return ctl_fail(c);
		ctl_set_actor();
		if (commands[k].needs_store && store_open_admin(c->cfg.data_dir, &c->st, &c->err) != 0)
			return ctl_fail(c);
		int rc = commands[k].fn(c, argc - i - 2, argv + i + 2);
		if (c->st)
			store_close(&c->st);
		free(c);
		return rc;
	}
	usage();
	return 2;
}
