/* ctl_token.c - petrelctl token: the admin API's bearer tokens. create
 * prints the token once (the store keeps only its hash, so it cannot be
 * shown again), list shows what each may do and when it was last used,
 * revoke ends one for good. Works while petreld runs; a revoked token
 * fails from its next request on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <jansson.h>

#include "admin/admin_json.h"
#include "cli/ctl.h"
#include "http/http.h"
#include "store/store.h"

int ctl_token_create(struct ctl *c, int argc, char **argv)
{
	const char *name = NULL, *domain = "";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--domain") && i + 1 < argc)
			domain = argv[++i];
		else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else
			return ctl_usage_error("token add NAME [--domain DOMAIN]");
	}
	if (name == NULL)
		return ctl_usage_error("token add NAME [--domain DOMAIN]");
	char token[HTTP_TOKEN_LEN + 1];
	unsigned char hash[HTTP_TOKEN_HASH_LEN];
	http_token_new(token, hash);
	int64_t id;
	if (store_token_add(c->st, name, domain, hash, &id, &c->err) != 0) {
		sodium_memzero(token, sizeof token);
		return ctl_fail(c);
	}
	if (c->json)
		ctl_doc(c, json_pack("{s:I, s:s, s:s?, s:s}", "id", (json_int_t)id,
				     "name", name, "domain", domain[0] ? domain : NULL,
				     "token", token));
	else
		printf("token %lld (%s) for %s:\n%s\n", (long long)id, name,
		       domain[0] ? domain : "every domain", token);
	fprintf(stderr, "petrelctl: store it now; it is not shown again\n");
	sodium_memzero(token, sizeof token);
	return 0;
}

static void time_text(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "-");
}

static int print_token(const struct store_token *t, void *arg)
{
	struct ctl *c = arg;
	if (c->json) {
		ctl_item(c, json_pack("{s:I, s:s, s:s?, s:o, s:o, s:s?, s:b}",
				      "id", (json_int_t)t->id, "name", t->name,
				      "domain", t->domain[0] ? t->domain : NULL,
				      "created", admin_json_time(t->created),
				      "last_used", admin_json_time(t->last_used),
				      "last_ip", t->last_ip[0] ? t->last_ip : NULL,
				      "revoked", t->revoked));
		return 0;
	}
	char created[32], used[32];
	time_text(t->created, created, sizeof created);
	time_text(t->last_used, used, sizeof used);
	printf("%-6lld %-20s %-24s %-20s %-20s %-15s %s\n", (long long)t->id,
	       t->name, t->domain[0] ? t->domain : "(global)", created, used,
	       t->last_ip[0] ? t->last_ip : "-", t->revoked ? "revoked" : "active");
	return 0;
}

int ctl_token_list(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("token list");
	ctl_list_begin(c);
	if (!c->json)
		printf("%-6s %-20s %-24s %-20s %-20s %-15s %s\n", "ID", "NAME",
		       "SCOPE", "CREATED", "LAST USED", "LAST IP", "STATE");
	return store_token_each(c->st, print_token, c, &c->err) != 0 ?
	       ctl_fail(c) : 0;
}

int ctl_token_revoke(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("token revoke ID");
	char *end;
	errno = 0;
	long long id = strtoll(argv[0], &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0) {
		fprintf(stderr, "petrelctl: bad token id '%s'\n", argv[0]);
		return 2;
	}
	int rc = store_token_revoke(c->st, id, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0) {
		fprintf(stderr, "petrelctl: no token %lld\n", id);
		return 1;
	}
	ctl_say(c, "token %lld revoked", id);
	return 0;
}
