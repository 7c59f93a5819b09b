/* ctl_dkim.c - petrelctl dkim keygen|list|rotate: a domain's DKIM keys
 * (msgauth/dkim_keys.h). Prints selectors, states and public keys, never
 * a private key. `list --at TIME` shows the states at another moment, so
 * an admin (and the tests) can see what a rotation will do when. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/ctl.h"
#include "msgauth/dkim_keys.h"
#include "store/store.h"

#define KEYGEN_USAGE "dkim keygen DOMAIN [--algorithm rsa|ed25519|both] " \
		     "[--selector S]"
#define ROTATE_USAGE "dkim rotate DOMAIN|--due [--now]"

int ctl_dkim_keygen(struct ctl *c, int argc, char **argv)
{
	const char *domain = NULL, *selector = NULL;
	unsigned algs = DKIM_ALG_BOTH;
	bool alg_given = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--algorithm") && i + 1 < argc) {
			const char *a = argv[++i];
			alg_given = true;
			if (!strcmp(a, "rsa"))
				algs = DKIM_ALG_RSA;
			else if (!strcmp(a, "ed25519"))
				algs = DKIM_ALG_ED25519;
			else if (!strcmp(a, "both"))
				algs = DKIM_ALG_BOTH;
			else
				return ctl_usage_error(KEYGEN_USAGE);
		} else if (!strcmp(argv[i], "--selector") && i + 1 < argc) {
			selector = argv[++i];
		} else if (argv[i][0] != '-' && domain == NULL) {
			domain = argv[i];
		} else {
			return ctl_usage_error(KEYGEN_USAGE);
		}
	}
	if (domain == NULL || (selector != NULL && !alg_given))
		return ctl_usage_error(KEYGEN_USAGE);
	int hosted = store_domain_exists(c->st, domain, &c->err);
	if (hosted < 0)
		return ctl_fail(c);
	if (hosted == 0) {
		err_set(&c->err, ERR_NOTFOUND, 0, "", "domain %s is not hosted "
			"here", domain);
		return ctl_fail(c);
	}
	char made[200];
	int64_t now = (int64_t)time(NULL);
	if (dkim_keys_generate(c->st, domain, algs, selector, now, now,
			       "dkim.keygen", made, sizeof made, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "made %s for %s, signing now; publish with `petrelctl dns "
		"records %s`", made, domain, domain);
	return 0;
}

struct list_walk {
	int64_t at;
	json_t *arr;	/* --json */
	size_t n;
};

static int list_one(const struct store_dkim_key *k, void *arg)
{
	struct list_walk *w = arg;
	const char *state = dkim_key_state_name(dkim_key_state(k, w->at));
	char act[32], ret[32], rem[32];
	ctl_time_text(k->activate_at, act, sizeof act);
	ctl_time_text(k->retire_at, ret, sizeof ret);
	ctl_time_text(k->removed_at, rem, sizeof rem);
	w->n++;
	if (w->arr != NULL) {
		json_t *o = json_object();
		json_object_set_new(o, "domain", json_string(k->domain));
		json_object_set_new(o, "selector", json_string(k->selector));
		json_object_set_new(o, "algorithm", json_string(k->algorithm));
		json_object_set_new(o, "state", json_string(state));
		json_object_set_new(o, "created", json_integer(k->created));
		json_object_set_new(o, "activate_at",
				    json_integer(k->activate_at));
		json_object_set_new(o, "retire_at", json_integer(k->retire_at));
		json_object_set_new(o, "removed_at",
				    json_integer(k->removed_at));
		json_object_set_new(o, "public_key", json_string(k->public_key));
		json_array_append_new(w->arr, o);
		return 0;
	}
	printf("%-24s %-12s %-9s %-9s from %s  retires %s  removed %s\n",
	       k->domain, k->selector, k->algorithm, state, act, ret, rem);
	return 0;
}

/* A Unix time: digits only, no overflow. */
static bool parse_time(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || s[0] == '+')
		return false;
	*out = (int64_t)v;
	return true;
}

int ctl_dkim_list(struct ctl *c, int argc, char **argv)
{
	const char *domain = NULL;
	struct list_walk w = { .at = (int64_t)time(NULL) };
	bool json = c->json;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--at") && i + 1 < argc &&
			 parse_time(argv[i + 1], &w.at))
			i++;
		else if (argv[i][0] != '-' && domain == NULL)
			domain = argv[i];
		else
			return ctl_usage_error("dkim list [DOMAIN] "
					       "[--at UNIXTIME]");
	}
	if (json)
		w.arr = json_array();
	if (store_dkim_each(c->st, domain, list_one, &w, &c->err) != 0) {
		json_decref(w.arr);
		return ctl_fail(c);
	}
	if (json) {
		ctl_doc(c, w.arr);
	} else if (w.n == 0) {
		printf("no DKIM keys%s%s: `petrelctl dkim keygen DOMAIN` "
		       "makes them\n", domain ? " for " : "",
		       domain ? domain : "");
	}
	return 0;
}

struct due_walk {
	struct ctl *c;
	struct dkim_key_policy p;
	int64_t now;
	int failed;
};

static int rotate_one(struct ctl *c, const char *domain,
		      const struct dkim_key_policy *p, bool immediate,
		      int64_t now)
{
	char made[200];
	if (dkim_keys_rotate(c->st, domain, p, immediate, now, made,
			     sizeof made, &c->err) != 0)
		return -1;
	char when[32];
	ctl_time_text(immediate ? now : now + p->publish_ahead, when,
		      sizeof when);
	ctl_say(c, "%s: new key%s %s, signing from %s; the old keys stay "
		"published %lld days after that", domain,
	       strchr(made, ' ') ? "s" : "", made, when,
	       (long long)(p->retire_after / 86400));
	return 0;
}

static int due_one(const struct store_domain *d, void *arg)
{
	struct due_walk *w = arg;
	if (d->alias_of[0] != '\0')
		return 0;
	int due = dkim_keys_due(w->c->st, d->name, &w->p, w->now, &w->c->err);
	if (due < 0 || (due == 1 && rotate_one(w->c, d->name, &w->p, false,
					       w->now) != 0)) {
		fprintf(stderr, "petrelctl: %s: %s\n", d->name, w->c->err.msg);
		w->failed = 1;
	}
	return 0;
}

int ctl_dkim_rotate(struct ctl *c, int argc, char **argv)
{
	const char *domain = NULL;
	bool immediate = false, due = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--now"))
			immediate = true;
		else if (!strcmp(argv[i], "--due"))
			due = true;
		else if (argv[i][0] != '-' && domain == NULL)
			domain = argv[i];
		else
			return ctl_usage_error(ROTATE_USAGE);
	}
	if ((domain == NULL) == !due)
		return ctl_usage_error(ROTATE_USAGE);
	struct due_walk w = { .c = c, .now = (int64_t)time(NULL) };
	dkim_key_policy_from_config(&c->cfg, &w.p);
	if (domain != NULL)
		return rotate_one(c, domain, &w.p, immediate, w.now) == 0 ? 0
			: ctl_fail(c);
	if (store_domain_each(c->st, due_one, &w, &c->err) != 0)
		return ctl_fail(c);
	return w.failed;
}
