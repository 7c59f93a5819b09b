/* petrelctl.c - the admin command line. It works on the store in data_dir
 * directly, safe while petreld runs: SQLite WAL serialises writers and
 * readers never block. Commands are a table of two words with a usage
 * line and a one-line description; --help and --json are taken by main
 * for every command (ctl_out.c prints the answer). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "auth/auth.h"
#include "core/config.h"
#include "dns/dns.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/net.h"
#include "net/tls_check.h"
#include "store/store.h"
#include "admin/admin_json.h"
#include "cli/ctl.h"
#include "http/http.h"

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
		ctl_say(c, "domain %s (%s) added", ascii, uni);
	else
		ctl_say(c, "domain %s added", ascii);
	ctl_set(c, "name", json_string(ascii));
	ctl_set(c, "unicode", json_string(uni));
	return 0;
}

/* The password for a new or reset mailbox: from standard input (checked
 * against the domain's policy) or generated. 0, or the exit status. */
static int new_password(struct ctl *c, const char *local, const char *domain,
			bool from_stdin, char *pw, size_t pwsz,
			char *hash, size_t hashsz)
{
	if (from_stdin) {
		if (fgets(pw, (int)pwsz, stdin) == NULL) {
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
	if (!from_stdin) {
		auth_password_generate(&policy, pw, pwsz);
	} else if (auth_password_policy_check(&policy, pw, strlen(pw), local,
					      &why) != 0) {
		explicit_bzero(pw, pwsz);
		err_set(&c->err, ERR_PEER, 0, NULL, "weak password: %s", why);
		return ctl_fail(c);
	}
	if (auth_password_hash(pw, strlen(pw), hash, hashsz, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

/* "added"/"changed" and the password when it was generated. */
static void report_password(struct ctl *c, const char *addr, const char *what,
			    bool from_stdin, const char *pw)
{
	if (c->json) {
		ctl_set(c, "address", json_string(addr));
		if (!from_stdin)
			ctl_set(c, "password", json_string(pw));
	} else if (from_stdin) {
		printf("mailbox %s %s\n", addr, what);
	} else {
		printf("mailbox %s %s, password: %s\n", addr, what, pw);
	}
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
	int prc = new_password(c, local, domain, from_stdin, pw, sizeof pw,
			       hash, sizeof hash);
	if (prc != 0)
		return prc;
	int64_t id;
	if (store_mailbox_add(c->st, local, domain, hash, quota, &id, &c->err) != 0)
		return ctl_fail(c);
	if (auth_scram_store(c->st, id, pw, strlen(pw), &c->err) != 0)
		return ctl_fail(c);
	report_password(c, addr, "added", from_stdin, pw);
	explicit_bzero(pw, sizeof pw);
	return 0;
}

static int cmd_mailbox_passwd(struct ctl *c, int argc, char **argv)
{
	static const char use[] = "mailbox passwd ADDRESS [--password-stdin]";
	bool from_stdin = argc == 2 && !strcmp(argv[1], "--password-stdin");
	if (argc != 1 && !from_stdin)
		return ctl_usage_error(use);
	struct store_mailbox mb;
	char local[128], domain[256], pw[256], hash[AUTH_HASH_MAX];
	if (find_mailbox(c, argv[0], &mb) != 0)
		return ctl_fail(c);
	if (split_address(mb.address, local, sizeof local, domain,
			  sizeof domain) != 0)
		return ctl_usage_error(use);
	int rc = new_password(c, local, domain, from_stdin, pw, sizeof pw,
			      hash, sizeof hash);
	if (rc != 0)
		return rc;
	if (store_mailbox_set_password(c->st, mb.address, hash, &c->err) != 0 ||
	    auth_scram_store(c->st, mb.id, pw, strlen(pw), &c->err) != 0) {
		explicit_bzero(pw, sizeof pw);
		return ctl_fail(c);
	}
	report_password(c, mb.address, "password changed", from_stdin, pw);
	explicit_bzero(pw, sizeof pw);
	return 0;
}

static void say_removed(struct ctl *c, const char *what,
			const struct store_removed *rm)
{
	ctl_say(c, "%s removed (%lld mailbox(es), %lld alias(es), %lld "
		"message(s), %lld byte(s))", what, (long long)rm->mailboxes,
		(long long)rm->aliases, (long long)rm->messages,
		(long long)rm->bytes);
	ctl_set(c, "removed", json_string(what));
	ctl_set(c, "mailboxes", json_integer(rm->mailboxes));
	ctl_set(c, "aliases", json_integer(rm->aliases));
	ctl_set(c, "messages", json_integer(rm->messages));
	ctl_set(c, "bytes", json_integer(rm->bytes));
}

static int cmd_mailbox_remove(struct ctl *c, int argc, char **argv)
{
	struct store_removed rm;
	if (argc != 1)
		return ctl_usage_error("mailbox remove ADDRESS");
	if (store_mailbox_remove(c->st, argv[0], &rm, &c->err) != 0)
		return ctl_fail(c);
	say_removed(c, argv[0], &rm);
	return 0;
}

static int cmd_domain_remove(struct ctl *c, int argc, char **argv)
{
	struct store_removed rm;
	bool force = argc == 2 && !strcmp(argv[1], "--force");
	if (argc != 1 && !force)
		return ctl_usage_error("domain remove DOMAIN [--force]");
	if (store_domain_remove(c->st, argv[0], force, &rm, &c->err) != 0) {
		if (c->err.kind == ERR_PEER && !force)
			fprintf(stderr, "petrelctl: (--force removes them with "
				"all their mail)\n");
		return ctl_fail(c);
	}
	say_removed(c, argv[0], &rm);
	return 0;
}

struct mailbox_walk {
	struct ctl *c;
	const char *domain;	/* NULL: all */
};

static int print_mailbox(const struct store_mailbox *mb, void *arg)
{
	const struct mailbox_walk *w = arg;
	const char *at = strrchr(mb->address, '@');
	if (w->domain != NULL && (at == NULL || strcasecmp(at + 1, w->domain)))
		return 0;
	if (w->c->json)
		ctl_item(w->c, json_pack("{s:s, s:I, s:I, s:b}", "address",
					 mb->address, "quota",
					 (json_int_t)mb->quota, "used",
					 (json_int_t)mb->used, "enabled",
					 mb->enabled));
	else
		printf("%s %llu %llu%s\n", mb->address,
		       (unsigned long long)mb->quota,
		       (unsigned long long)mb->used,
		       mb->enabled ? "" : " disabled");
	return 0;
}

static int cmd_mailbox_list(struct ctl *c, int argc, char **argv)
{
	if (argc > 1)
		return ctl_usage_error("mailbox list [DOMAIN]");
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct mailbox_walk w = { c, NULL };
	if (argc == 1) {
		if (store_domain_idna(argv[0], ascii, sizeof ascii, uni,
				      sizeof uni, &c->err) != 0)
			return ctl_fail(c);
		w.domain = ascii;
	}
	ctl_list_begin(c);
	if (store_mailbox_each(c->st, print_mailbox, &w, &c->err) != 0)
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
	ctl_say(c, "mailbox %s: quota %llu", argv[0], (unsigned long long)quota);
	return 0;
}

static const char *const special_names[] = {
	"-", "\\Inbox", "\\Sent", "\\Drafts", "\\Junk", "\\Trash", "\\Archive",
};

static int print_folder(const struct store_folder *f, void *arg)
{
	struct ctl *c = arg;
	const char *special = (unsigned)f->special < sizeof special_names /
			      sizeof *special_names ? special_names[f->special] : "?";
	if (c->json) {
		ctl_item(c, json_pack("{s:s, s:s?, s:i, s:i, s:i}", "name", f->name,
				      "special_use", f->special ? special : NULL,
				      "uidvalidity", (int)f->uidvalidity,
				      "uidnext", (int)f->uidnext,
				      "messages", (int)f->messages));
		return 0;
	}
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
	ctl_list_begin(c);
	if (find_mailbox(c, argv[0], &mb) != 0 ||
	    store_folder_each(c->st, mb.id, print_folder, c, &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

static int print_message(const struct store_message *m, void *arg)
{
	struct ctl *c = arg;
	if (c->json) {
		ctl_item(c, json_pack("{s:I, s:I, s:o, s:i}", "uid", (json_int_t)m->uid,
				      "size", (json_int_t)m->size, "internal_date",
				      admin_json_time(m->internal_date),
				      "flags", (int)m->flags));
		return 0;
	}
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
	ctl_list_begin(c);
	if (open_folder(c, argv[0], argc == 2 ? argv[1] : "INBOX", &f) != 0 ||
	    store_message_each(c->st, f.id, print_message, c, &c->err) != 0)
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
	if (c->json) {
		/* the message as text when it is UTF-8 (almost all mail), else
		 * in base64 */
		json_t *o = json_pack("{s:I, s:I}", "uid", (json_int_t)uid,
				      "size", (json_int_t)len);
		json_t *text = json_stringn((const char *)data, len);
		if (text != NULL) {
			json_object_set_new(o, "message", text);
		} else {
			size_t b64len = sodium_base64_ENCODED_LEN(len,
					sodium_base64_VARIANT_ORIGINAL);
			char *b64 = xmalloc(b64len);
			sodium_bin2base64(b64, b64len, data, len,
					  sodium_base64_VARIANT_ORIGINAL);
			json_object_set_new(o, "message_base64", json_string(b64));
			free(b64);
		}
		free(data);
		ctl_doc(c, o);
		return 0;
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
	ctl_set(c, "problems", json_integer((json_int_t)problems));
	if (problems) {
		ctl_say(c, "store has %llu problem(s)", (unsigned long long)problems);
		return 1;
	}
	ctl_say(c, "store ok");
	return 0;
}

static int cmd_config_dump(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("config dump");
	fflush(stdout);
	if (!c->json) {
		cfg_dump(&c->cfg, 1);
		return 0;
	}
	/* the same "key = value" lines, read back into an object */
	FILE *tmp = tmpfile();
	if (tmp == NULL) {
		err_set(&c->err, ERR_ENV, 0, NULL, "tmpfile: %s", strerror(errno));
		return ctl_fail(c);
	}
	cfg_dump(&c->cfg, fileno(tmp));
	rewind(tmp);
	json_t *o = json_object();
	char line[4096];
	while (fgets(line, sizeof line, tmp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *eq = strstr(line, " = ");
		if (line[0] == '#' || eq == NULL)
			continue;
		*eq = '\0';
		json_t *v = json_string(eq + 3);
		json_object_set_new(o, line, v ? v : json_null());
	}
	fclose(tmp);
	ctl_doc(c, o);
	return 0;
}

static void print_finding(void *arg, enum tls_check_level level, const char *line)
{
	struct ctl *c = arg;
	static const char *const levels[] = { "ok", "warning", "error" };
	if (c->json) {
		json_t *f = json_object_get(c->out, "findings");
		if (f == NULL) {
			f = json_array();
			ctl_set(c, "findings", f);
		}
		json_array_append_new(f, json_pack("{s:s, s:s}", "level",
			(unsigned)level < 3 ? levels[level] : "?", "text", line));
	} else {
		printf("%s\n", line);
	}
}

struct listen_check {
	struct ctl *c;
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
	if (!lc->c->json)
		printf("%s (%s:%s):\n", key, l->addr[0].host, l->addr[0].port);
	enum tls_check_level lv = tls_check_files(cert, keyp, NULL, print_finding,
						  lc->c);
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
		ctl_say(c, "%s: none yet; petreld makes a self-signed certificate "
			"at first start", cert);
		struct listen_check lc = { c, &c->cfg, TLS_CHECK_OK };
		cfg_each_listen(&c->cfg, check_listener, &lc);
		return lc.worst == TLS_CHECK_ERROR ? 1 : 0;
	}
	enum tls_check_level worst = tls_check_files(cert, key, c->cfg.hostname,
						     print_finding, c);
	for (size_t i = 0; i < c->cfg.tls_sni.n; i++) {
		const struct cfg_sni *s = &c->cfg.tls_sni.e[i];
		tls_check_resolve(c->cfg.data_dir, s->cert, cert, sizeof cert);
		tls_check_resolve(c->cfg.data_dir, s->key, key, sizeof key);
		if (!c->json)
			printf("tls_sni %s:\n", s->name);
		enum tls_check_level l = tls_check_files(cert, key,
							 s->name[0] == '*' ? NULL : s->name,
							 print_finding, c);
		if (l > worst)
			worst = l;
	}
	struct listen_check lc = { c, &c->cfg, worst };
	cfg_each_listen(&c->cfg, check_listener, &lc);
	worst = lc.worst;
	ctl_say(c, "%s", worst == TLS_CHECK_ERROR ?
		"tls: errors (petreld would not start)" :
		worst == TLS_CHECK_WARN ? "tls: ok, with warnings" : "tls: ok");
	ctl_set(c, "result", json_string(worst == TLS_CHECK_ERROR ? "error" :
					 worst == TLS_CHECK_WARN ? "warning" : "ok"));
	return worst == TLS_CHECK_ERROR ? 1 : 0;
}

struct dns_wait {
	struct ctl *c;
	struct event_base *base;
	int rc;
};

static json_t *route_json(const struct dns_route *rt)
{
	json_t *targets = json_array();
	for (size_t i = 0; i < rt->n; i++) {
		const struct dns_target *t = &rt->t[i];
		json_t *addrs = json_array();
		for (size_t k = 0; k < t->naddr; k++) {
			char a[64];
			json_array_append_new(addrs, json_string(
				dns_addr_str(&t->addr[k], a, sizeof a)));
		}
		json_array_append_new(targets, json_pack(
			"{s:i, s:s, s:b, s:b, s:o}", "preference", (int)t->pref,
			"host", t->host, "implicit", t->implicit, "tempfail",
			t->tempfail, "addresses", addrs));
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "name", rt->name, "status",
			 dns_status_str(rt->status), "why", rt->why,
			 "targets", targets);
}

/* One line per target in delivery order; exit 0 on ok, 1 on a permanent
 * failure (null MX, no such domain, no address), 75 (EX_TEMPFAIL) on a
 * temporary one, as the queue would treat them. */
static void print_route(const struct dns_route *rt, void *arg)
{
	struct dns_wait *w = arg;
	w->rc = rt->status == DNS_OK ? 0 : rt->status == DNS_TEMPFAIL ? 75 : 1;
	event_base_loopbreak(w->base);
	if (w->c->json) {
		ctl_doc(w->c, route_json(rt));
		return;
	}
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
}

static int cmd_dns(struct ctl *c, int argc, char **argv, bool route)
{
	if (argc != 1)
		return ctl_usage_error(route ? "dns route DOMAIN" : "dns addr HOST");
	struct dns_wait w = { .c = c, .base = event_base_new(), .rc = 1 };
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

static int count_token(const struct store_token *t, void *arg)
{
	if (!t->revoked)
		++*(size_t *)arg;
	return 0;
}

/* petrelctl init: what a new installation needs before its first start,
 * in one command that can be run again (it only adds what is missing):
 * the data directory and store, the TLS certificate petreld would make,
 * an admin API token when there is none, and with --domain the first
 * domain with its postmaster mailbox. Secrets are printed once. */
static int cmd_init(struct ctl *c, int argc, char **argv)
{
	static const char use[] = "init [--domain DOMAIN] [--token NAME]";
	const char *domain = NULL, *token_name = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--domain") && i + 1 < argc)
			domain = argv[++i];
		else if (!strcmp(argv[i], "--token") && i + 1 < argc)
			token_name = argv[++i];
		else
			return ctl_usage_error(use);
	}
	ctl_say(c, "store: %s", c->cfg.data_dir);
	ctl_set(c, "data_dir", json_string(c->cfg.data_dir));
	char cert[1200], key[1200];
	tls_check_resolve(c->cfg.data_dir, c->cfg.tls_cert, cert, sizeof cert);
	tls_check_resolve(c->cfg.data_dir, c->cfg.tls_key, key, sizeof key);
	if (access(cert, F_OK) != 0 && access(key, F_OK) != 0) {
		char dir[1200];
		snprintf(dir, sizeof dir, "%s", cert);
		char *slash = strrchr(dir, '/');
		if (slash != NULL) {
			*slash = '\0';
			(void)mkdir(dir, 0700);	/* net_tls_selfsigned reports */
		}
		if (net_tls_selfsigned(cert, key, c->cfg.hostname, &c->err) != 0)
			return ctl_fail(c);
		ctl_say(c, "created a self-signed TLS certificate for %s in %s "
			"(replace it with one from a CA)", c->cfg.hostname, cert);
	} else {
		ctl_say(c, "TLS certificate: %s", cert);
	}
	ctl_set(c, "tls_cert", json_string(cert));
	size_t tokens = 0;
	if (token_name == NULL &&
	    store_token_each(c->st, count_token, &tokens, &c->err) != 0)
		return ctl_fail(c);
	if (token_name != NULL || tokens == 0) {
		char token[HTTP_TOKEN_LEN + 1];
		unsigned char hash[HTTP_TOKEN_HASH_LEN];
		int64_t id;
		http_token_new(token, hash);
		if (store_token_add(c->st, token_name ? token_name : "admin", "",
				    hash, &id, &c->err) != 0) {
			sodium_memzero(token, sizeof token);
			return ctl_fail(c);
		}
		ctl_say(c, "admin API token (shown only this once): %s", token);
		ctl_set(c, "token", json_string(token));
		sodium_memzero(token, sizeof token);
	}
	if (domain == NULL) {
		ctl_say(c, "next: petrelctl domain add DOMAIN, then petrelctl "
			"mailbox add NAME@DOMAIN");
		return 0;
	}
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct store_domain d;
	if (store_domain_idna(domain, ascii, sizeof ascii, uni, sizeof uni,
			      &c->err) != 0)
		return ctl_fail(c);
	int rc = store_domain_get(c->st, ascii, &d, &c->err);
	if (rc < 0 || (rc == 0 && store_domain_create(c->st, ascii, NULL, NULL,
						      &c->err) != 0))
		return ctl_fail(c);
	ctl_say(c, "domain %s %s", ascii, rc == 0 ? "added" : "exists");
	ctl_set(c, "domain", json_string(ascii));
	struct store_mailbox mb;
	rc = store_mailbox_find(c->st, "postmaster", ascii, &mb, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 1) {
		ctl_say(c, "mailbox postmaster@%s exists", ascii);
		return 0;
	}
	char pw[256], hash[AUTH_HASH_MAX];
	int64_t id;
	rc = new_password(c, "postmaster", ascii, false, pw, sizeof pw, hash,
			  sizeof hash);
	if (rc != 0)
		return rc;
	if (store_mailbox_add(c->st, "postmaster", ascii, hash,
			      c->cfg.default_quota, &id, &c->err) != 0 ||
	    auth_scram_store(c->st, id, pw, strlen(pw), &c->err) != 0) {
		explicit_bzero(pw, sizeof pw);
		return ctl_fail(c);
	}
	char addr[SMTP_DOMAIN_MAX + 16];
	snprintf(addr, sizeof addr, "postmaster@%s", ascii);
	ctl_set(c, "postmaster", json_string(addr));
	report_password(c, addr, "added", false, pw);
	explicit_bzero(pw, sizeof pw);
	return 0;
}

/* Commands: two words (or one, with verb ""), the arguments, what it does.
 * --json and --help are taken by main for every one of them. */
static const struct ctl_command {
	const char *group, *verb, *usage, *help;
	int (*fn)(struct ctl *c, int argc, char **argv);
	bool needs_store;
} commands[] = {
	{ "init", "", "[--domain DOMAIN] [--token NAME]",
	  "set up a new installation: store, TLS certificate, admin token, first domain",
	  cmd_init, true },
	{ "domain", "add", "DOMAIN", "host a domain (Unicode or A-label)",
	  cmd_domain_add, true },
	{ "domain", "list", "", "the hosted domains and domain aliases",
	  ctl_domain_list, true },
	{ "domain", "show", "DOMAIN", "a domain's plan, usage and settings",
	  ctl_domain_show, true },
	{ "domain", "settings", "DOMAIN",
	  "the server addresses mail clients use (the settings page's table)",
	  ctl_domain_settings, true },
	{ "domain", "remove", "DOMAIN [--force]",
	  "stop hosting a domain (--force: with its mailboxes and their mail)",
	  cmd_domain_remove, true },
	{ "domain", "plan", "DOMAIN [--max-mailboxes N] [--quota SIZE] [--domain-quota SIZE]",
	  "set a domain's mailbox limit and quotas", ctl_domain_plan, true },
	{ "domain", "suspend", "DOMAIN", "refuse mail and logins for a domain",
	  ctl_domain_suspend, true },
	{ "domain", "activate", "DOMAIN", "end a domain's suspension",
	  ctl_domain_activate, true },
	{ "domain", "alias", "add ALIAS_DOMAIN TARGET_DOMAIN",
	  "make every address of one domain also an address of another",
	  ctl_domain_alias, true },
	{ "domain", "2fa", "DOMAIN on|off",
	  "require two-factor logins (mail clients then need app passwords)",
	  ctl_domain_2fa, true },
	{ "domain", "password-policy", "DOMAIN [--min-length N] [--classes N] "
	  "[--local-part allow|reject] [--common allow|reject]",
	  "set the rules new passwords must follow", ctl_domain_password_policy, true },
	{ "mailbox", "add", "ADDRESS [--quota SIZE] [--password-stdin]",
	  "create a mailbox (the password is generated unless given on stdin)",
	  cmd_mailbox_add, true },
	{ "mailbox", "list", "[DOMAIN]", "mailboxes with quota and usage in bytes",
	  cmd_mailbox_list, true },
	{ "mailbox", "show", "ADDRESS", "a mailbox's settings and last login",
	  ctl_mailbox_show, true },
	{ "mailbox", "passwd", "ADDRESS [--password-stdin]",
	  "set a new password (generated unless given on stdin)",
	  cmd_mailbox_passwd, true },
	{ "mailbox", "quota", "ADDRESS SIZE", "set a mailbox's quota (0: unlimited)",
	  cmd_mailbox_quota, true },
	{ "mailbox", "suspend", "ADDRESS", "refuse a mailbox's logins and mail",
	  ctl_mailbox_suspend, true },
	{ "mailbox", "activate", "ADDRESS", "end a mailbox's suspension",
	  ctl_mailbox_activate, true },
	{ "mailbox", "forward", "ADDRESS TARGET|off",
	  "also send a copy of every message to another address",
	  ctl_mailbox_forward, true },
	{ "mailbox", "remove", "ADDRESS", "delete a mailbox with all its mail",
	  cmd_mailbox_remove, true },
	{ "mailbox", "import", "FILE.csv [--domain DOMAIN] [--dry-run]",
	  "create many mailboxes from CSV, all or nothing", ctl_mailbox_import, true },
	{ "alias", "add", "ADDRESS TARGET...", "an address that delivers to others",
	  ctl_alias_add, true },
	{ "alias", "list", "[DOMAIN]", "aliases and their targets", ctl_alias_list, true },
	{ "alias", "remove", "ADDRESS", "delete an alias", ctl_alias_remove, true },
	{ "group", "add", "ADDRESS [--post anyone|members|senders]",
	  "a distribution list, and who may post to it", ctl_group_add, true },
	{ "group", "member", "add|remove GROUP ADDRESS", "change a group's members",
	  ctl_group_member, true },
	{ "group", "sender", "add|remove GROUP ADDRESS",
	  "change who may post to a group with --post senders", ctl_group_sender, true },
	{ "group", "list", "[DOMAIN]", "groups, members and posting policy",
	  ctl_group_list, true },
	{ "group", "remove", "ADDRESS", "delete a group", ctl_alias_remove, true },
	{ "catchall", "set", "DOMAIN ADDRESS|off",
	  "where mail to unknown addresses of a domain goes", ctl_catchall_set, true },
	{ "apppass", "add", "ADDRESS NAME",
	  "a password for one mail client or device, shown once",
	  ctl_app_password_add, true },
	{ "apppass", "list", "ADDRESS", "a mailbox's app passwords and their last use",
	  ctl_app_password_list, true },
	{ "apppass", "revoke", "ADDRESS ID", "end an app password",
	  ctl_app_password_revoke, true },
	{ "2fa", "enable", "ADDRESS [--qr|--no-qr]",
	  "turn on TOTP for a mailbox; prints the secret and QR code once",
	  ctl_totp_enable, true },
	{ "2fa", "disable", "ADDRESS", "turn off TOTP for a mailbox",
	  ctl_totp_disable, true },
	{ "2fa", "verify", "ADDRESS CODE", "check a TOTP code", ctl_totp_verify, true },
	{ "audit", "show", "[--since 2h|7d|YYYY-MM-DD] [--actor WHO] "
	  "[--domain DOMAIN] [--kind KIND]",
	  "admin actions and logins, oldest first", ctl_audit_list, true },
	{ "audit", "verify", "", "check the audit log's hash chain",
	  ctl_audit_verify, true },
	{ "token", "add", "NAME [--domain DOMAIN]",
	  "an admin API bearer token (global, or for one domain), shown once",
	  ctl_token_create, true },
	{ "token", "list", "", "admin API tokens and their last use",
	  ctl_token_list, true },
	{ "token", "revoke", "ID", "end an admin API token", ctl_token_revoke, true },
	{ "folder", "list", "ADDRESS", "a mailbox's folders", cmd_folder_list, true },
	{ "message", "list", "ADDRESS [FOLDER]", "the messages of a folder (INBOX)",
	  cmd_message_list, true },
	{ "message", "cat", "ADDRESS FOLDER UID", "print a message as stored",
	  cmd_message_cat, true },
	{ "queue", "list", "", "mail waiting to go to other servers",
	  ctl_queue_list, true },
	{ "queue", "show", "ID", "one queued message and its recipients",
	  ctl_queue_show, true },
	{ "queue", "retry", "ID|all", "try now", ctl_queue_retry, true },
	{ "queue", "hold", "ID", "stop trying until released", ctl_queue_hold, true },
	{ "queue", "release", "ID", "try a held message again", ctl_queue_release, true },
	{ "queue", "delete", "ID", "drop a message without a bounce",
	  ctl_queue_delete, true },
	{ "queue", "bounce", "ID", "give up now and tell the sender",
	  ctl_queue_bounce, true },
	{ "dns", "route", "DOMAIN", "where mail for a domain goes (MX, addresses)",
	  cmd_dns_route, false },
	{ "dns", "addr", "HOST", "a host's addresses", cmd_dns_addr, false },
	{ "store", "check", "", "check the store's records and counts",
	  cmd_store_check, true },
	{ "config", "dump", "", "the configuration in effect", cmd_config_dump, false },
	{ "tls", "check", "", "the checks petreld runs on its certificates",
	  cmd_tls_check, false },
	{ "dkim", "keygen", "DOMAIN [--algorithm rsa|ed25519|both] [--selector S]",
	  "make DKIM keys for a domain (published ahead, then signing)",
	  ctl_dkim_keygen, true },
	{ "dkim", "list", "[DOMAIN] [--at UNIXTIME]",
	  "DKIM keys, their selectors and states (next, active, retiring)",
	  ctl_dkim_list, true },
	{ "dkim", "rotate", "DOMAIN|--due [--now]",
	  "publish new DKIM keys and retire the old ones after a while",
	  ctl_dkim_rotate, true },
	{ "dns", "records", "DOMAIN",
	  "every DNS record the domain should publish (zone lines and a table)",
	  ctl_dns_records, true },
	{ "dmarc", "send", "[--day YYYY-MM-DD] [--domain DOMAIN] [--dry-run]",
	  "send the DMARC aggregate reports of a day now (petreld sends them)",
	  ctl_dmarc_send, true },
	{ "dmarc", "report", "DOMAIN [--mailbox ADDRESS] [--since 7d]",
	  "summarise the DMARC aggregate reports received about a domain",
	  ctl_dmarc_report, true },
	{ "dns", "check", "DOMAIN",
	  "compare live DNS with what it should be, with the exact fixes",
	  ctl_dns_check, true },
	{ "filter", "settings", "DOMAIN [--level standard|enterprise|strict] "
	  "[--quarantine-days N] [--user-release yes|no] "
	  "[--external-tag off|subject|banner]",
	  "show or change a domain's spam filter settings",
	  ctl_filter_settings, true },
	{ "filter", "allow", "add|remove|list [--domain D | --user A] [ENTRY...]",
	  "senders, domains and IPs that skip the spam score (when authenticated)",
	  ctl_filter_allow, true },
	{ "filter", "block", "add|remove|list [--domain D | --user A] [ENTRY...]",
	  "senders, domains and IPs whose mail is refused",
	  ctl_filter_block, true },
	{ "quarantine", "list", "[--domain D] [--mailbox A]",
	  "messages the spam filter held, newest first", ctl_quarantine_list, true },
	{ "quarantine", "show", "ID",
	  "a held message: headers, score, symbols and the start of its text",
	  ctl_quarantine_show, true },
	{ "quarantine", "release", "ID",
	  "deliver a held message to its recipient's INBOX (petreld does it)",
	  ctl_quarantine_release, true },
	{ "quarantine", "delete", "ID", "drop a held message",
	  ctl_quarantine_delete, true },
	{ "quarantine", "expire", "",
	  "drop held messages past their domain's quarantine days now",
	  ctl_quarantine_expire, true },
	{ "filter", "train", "--spam PATH... --ham PATH... [--domain D | --user A]",
	  "teach the classifier messages (files, directories, mbox files)",
	  ctl_filter_train, true },
	{ "filter", "untrain", "PATH... [--domain D | --user A]",
	  "make the classifier forget messages it learned", ctl_filter_untrain,
	  true },
	{ "filter", "score", "PATH... [--domain D] [--user A] "
	  "[--level standard|enterprise|strict] [--dns]",
	  "score messages without sending them: FILE SCORE ACTION SYMBOLS "
	  "(--dns: ask the blocklists too)",
	  ctl_filter_score, true },
	{ "filter", "symbols", "",
	  "every symbol the filter can add, with its weight and meaning",
	  ctl_filter_symbols, false },
	{ "filter", "stats", "", "messages and tokens the classifier has per scope",
	  ctl_filter_stats, true },
};

#define N_COMMANDS (sizeof commands / sizeof *commands)

static void print_command(FILE *f, const struct ctl_command *k, bool help)
{
	fprintf(f, "  petrelctl %s%s%s%s%s\n", k->group, k->verb[0] ? " " : "",
		k->verb, k->usage[0] ? " " : "", k->usage);
	if (help)
		fprintf(f, "      %s\n", k->help);
}

/* All commands, or those of group (and verb). Exit status 0 when any
 * matched and the help was asked for, else 2. */
static int usage(FILE *f, const char *group, const char *verb, bool asked)
{
	size_t shown = 0;
	for (size_t i = 0; i < N_COMMANDS; i++)
		if ((group == NULL || !strcmp(group, commands[i].group)) &&
		    (verb == NULL || !strcmp(verb, commands[i].verb)))
			shown++;
	if (shown == 0) {
		group = verb = NULL;
		asked = false;
	}
	fprintf(f, "usage: petrelctl [-c FILE] [-o KEY=VALUE]... COMMAND [--json] [--help]\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		if ((group == NULL || !strcmp(group, commands[i].group)) &&
		    (verb == NULL || !strcmp(verb, commands[i].verb)))
			print_command(f, &commands[i], true);
	if (group == NULL)
		fprintf(f, "--json prints one JSON document (the REST API's objects); "
			"errors go to stderr, exit status non-zero\n");
	return asked ? 0 : 2;
}

/* Everything but the context's end: the exit status. */
static int run(struct ctl *c, int argc, char **argv)
{
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
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout, NULL, NULL, true);
		else
			return usage(stderr, NULL, NULL, false);
	}
	if (i == argc)
		return usage(stderr, NULL, NULL, false);
	if (!strcmp(argv[i], "help"))
		return usage(stdout, i + 1 < argc ? argv[i + 1] : NULL,
			     i + 2 < argc ? argv[i + 2] : NULL, true);
	/* --json and --help anywhere after the command words */
	bool help = false;
	int n = 0;
	for (int k = i; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			c->json = true;
		else if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h"))
			help = true;
		else
			argv[i + n++] = argv[k];
	}
	const struct ctl_command *cmd = NULL;
	for (size_t k = 0; k < N_COMMANDS && cmd == NULL; k++)
		if (!strcmp(commands[k].group, argv[i]) &&
		    (commands[k].verb[0] == '\0' ||
		     (n >= 2 && !strcmp(commands[k].verb, argv[i + 1]))))
			cmd = &commands[k];
	if (cmd == NULL || help)
		return usage(help ? stdout : stderr, argv[i],
			     cmd ? cmd->verb : n >= 2 ? argv[i + 1] : NULL, help);
	if (cfg_load_file(&c->cfg, conf ? conf : "petrel.conf", conf == NULL, &c->err) != 0)
		return ctl_fail(c);
	for (size_t k = 0; k < n_over; k++)
		if (cfg_set(&c->cfg, "-o", overrides[k], &c->err) != 0)
			return ctl_fail(c);
	int skip = cmd->verb[0] ? 2 : 1;
	if (auth_init(&c->err) != 0)
		return ctl_fail(c);
	ctl_set_actor();
	if (cmd->needs_store &&
	    store_open_admin(c->cfg.data_dir, &c->st, &c->err) != 0)
		return ctl_fail(c);
	return cmd->fn(c, n - skip, argv + i + skip);
}

int main(int argc, char **argv)
{
	struct ctl *c = xcalloc(1, sizeof *c);
	int rc = run(c, argc, argv);
	ctl_out_finish(c, rc);
	if (c->st)
		store_close(&c->st);
	json_decref(c->out);
	free(c);
	return rc;
}
