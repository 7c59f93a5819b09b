/* test_store_model.c - unit tests of the tenants model (decision 0022):
 * IDNA domain names, recipient resolution through domain aliases,
 * mailboxes, aliases, groups with their posting policy, forwarding and
 * catch-all; loops and the expansion bounds; plan limits; and who may
 * send as an alias or group. A real store in a directory under /tmp.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "core/log.h"
#include "store/store.h"
#include "store_test_util.h"

struct fx {
	char root[64];
	char dir[96];
	struct store *st;
	int64_t mb[3];	/* alice, bob, carol @example.com */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->st = temp_store_open("model", f->root, sizeof f->root, f->dir,
				sizeof f->dir);
	struct err err;
	static const char *const names[3] = { "alice", "bob", "carol" };
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_mailbox_add(f->st, names[i], "example.com",
						   "$h$x", 0, &f->mb[i], &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	temp_store_close(&f->st, f->root);
	free(f);
	return 0;
}

/* Resolve address from sender; the status, and the targets as a sorted
 * space-separated string into out. */
static enum store_resolve_status resolve(struct fx *f, const char *local,
					 const char *domain, const char *sender,
					 char *out, size_t outsz)
{
	struct store_resolved r;
	struct err err;
	if (store_resolve(f->st, local, domain, sender, &r, &err) != 0)
		fail_msg("store_resolve: %s", err.msg);
	out[0] = '\0';
	/* insertion sort by address: order is not part of the contract */
	for (size_t i = 1; i < r.n; i++)
		for (size_t j = i; j > 0 && strcmp(r.targets[j - 1].addr,
						   r.targets[j].addr) > 0; j--) {
			struct store_target t = r.targets[j];
			r.targets[j] = r.targets[j - 1];
			r.targets[j - 1] = t;
		}
	size_t len = 0;
	for (size_t i = 0; i < r.n && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s%s",
					i ? " " : "", r.targets[i].addr,
					r.targets[i].mailbox_id ? "" : "(ext)");
	enum store_resolve_status st = r.status;
	store_resolved_free(&r);
	return st;
}

static void test_idna(void **state)
{
	struct fx *f = *state;
	struct err err;
	char a[SMTP_DOMAIN_MAX + 1], u[SMTP_DOMAIN_MAX * 4 + 1];
	assert_int_equal(store_domain_idna("例子.公司", a, sizeof a, u, sizeof u,
					   &err), 0);
	assert_string_equal(a, "xn--fsqu00a.xn--55qx5d");
	assert_string_equal(u, "例子.公司");
	assert_int_equal(store_domain_idna("XN--FSQU00A.xn--55qx5d", a,
					   sizeof a, u, sizeof u, &err), 0);
	assert_string_equal(a, "xn--fsqu00a.xn--55qx5d");
	assert_string_equal(u, "例子.公司");
	assert_int_equal(store_domain_idna("bad domain", a, sizeof a, u,
					   sizeof u, &err), -1);
	assert_int_equal(store_domain_idna("a\x01.com", a, sizeof a, u,
					   sizeof u, &err), -1);
	assert_int_equal(store_domain_idna("-bad.com", a, sizeof a, u,
					   sizeof u, &err), -1);

	/* added in Unicode, found in both forms, shown in both */
	assert_int_equal(store_domain_add(f->st, "例子.公司", &err), 0);
	assert_int_equal(store_domain_exists(f->st, "xn--fsqu00a.xn--55qx5d",
					     &err), 1);
	struct store_domain d;
	assert_int_equal(store_domain_get(f->st, "例子.公司", &d, &err), 1);
	assert_string_equal(d.name, "xn--fsqu00a.xn--55qx5d");
	assert_string_equal(d.unicode, "例子.公司");
	assert_int_equal(d.max_mailboxes, STORE_PLAN_MAILBOXES_MAX);
	assert_int_equal(store_domain_add(f->st, "XN--FSQU00A.XN--55QX5D",
					  &err), -1);
	int64_t id;
	assert_int_equal(store_mailbox_add(f->st, "li", "xn--fsqu00a.xn--55qx5d",
					   "", 0, &id, &err), 0);
	char out[1024];
	assert_int_equal(resolve(f, "li", "例子.公司", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "li@xn--fsqu00a.xn--55qx5d");
}

static void test_alias_group(void **state)
{
	struct fx *f = *state;
	struct err err;
	char out[2048];
	const char *t1[] = { "bob@example.com", "carol@Example.COM",
			     "someone@remote.test" };
	assert_int_equal(store_alias_add(f->st, "info@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, t1, 3, &err), 0);
	assert_int_equal(resolve(f, "INFO", "example.com", "x@y.test", out,
				 sizeof out), STORE_RESOLVE_OK);
	assert_string_equal(out, "bob@example.com carol@example.com "
				 "someone@remote.test(ext)");
	/* an alias over a mailbox, twice, or without targets: refused */
	assert_int_equal(store_alias_add(f->st, "alice@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, t1, 1, &err), -1);
	assert_int_equal(store_alias_add(f->st, "info@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, t1, 1, &err), -1);
	assert_int_equal(store_alias_add(f->st, "x@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, NULL, 0, &err), -1);
	assert_int_equal(store_alias_add(f->st, "x@nothosted.test", STORE_ALIAS,
					 STORE_POST_ANYONE, t1, 1, &err), -1);

	/* a group of members, with an alias inside: each mailbox once */
	assert_int_equal(store_alias_add(f->st, "all@example.com", STORE_GROUP,
					 STORE_POST_MEMBERS, NULL, 0, &err), 0);
	assert_int_equal(resolve(f, "all", "example.com", "alice@example.com",
				 out, sizeof out), STORE_RESOLVE_POLICY);
	const char *members[] = { "alice@example.com", "bob@example.com",
				  "info@example.com" };
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_alias_target(f->st, "all@example.com",
						    STORE_TARGET_MEMBER,
						    members[i], true, &err), 0);
	assert_int_equal(resolve(f, "all", "example.com", "alice@example.com",
				 out, sizeof out), STORE_RESOLVE_OK);
	assert_string_equal(out, "alice@example.com bob@example.com "
				 "carol@example.com someone@remote.test(ext)");
	assert_int_equal(resolve(f, "all", "example.com", "out@side.test",
				 out, sizeof out), STORE_RESOLVE_POLICY);
	assert_int_equal(resolve(f, "all", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_POLICY);

	/* listed senders only */
	assert_int_equal(store_alias_add(f->st, "board@example.com", STORE_GROUP,
					 STORE_POST_SENDERS, members, 1, &err), 0);
	assert_int_equal(resolve(f, "board", "example.com", "alice@example.com",
				 out, sizeof out), STORE_RESOLVE_POLICY);
	assert_int_equal(store_alias_target(f->st, "board@example.com",
					    STORE_TARGET_SENDER,
					    "ceo@remote.test", true, &err), 0);
	assert_int_equal(resolve(f, "board", "example.com", "CEO@remote.test",
				 out, sizeof out), STORE_RESOLVE_OK);
	assert_string_equal(out, "alice@example.com");

	/* member removal; removing one not listed is an error */
	assert_int_equal(store_alias_target(f->st, "all@example.com",
					    STORE_TARGET_MEMBER, "info@example.com",
					    false, &err), 0);
	assert_int_equal(store_alias_target(f->st, "all@example.com",
					    STORE_TARGET_MEMBER, "info@example.com",
					    false, &err), -1);
	assert_int_equal(resolve(f, "all", "example.com", "bob@example.com",
				 out, sizeof out), STORE_RESOLVE_OK);
	assert_string_equal(out, "alice@example.com bob@example.com");

	/* removal */
	assert_int_equal(store_alias_remove(f->st, "info@example.com", &err), 0);
	assert_int_equal(resolve(f, "info", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_UNKNOWN);
	assert_int_equal(store_alias_remove(f->st, "info@example.com", &err), -1);

	/* send as: an alias to the user, a group that lists them */
	const char *t2[] = { "alice@example.com" };
	assert_int_equal(store_alias_add(f->st, "sales@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, t2, 1, &err), 0);
	assert_int_equal(store_may_send_as(f->st, "alice@example.com",
					   "Sales@example.com", &err), 1);
	assert_int_equal(store_may_send_as(f->st, "bob@example.com",
					   "sales@example.com", &err), 0);
	assert_int_equal(store_may_send_as(f->st, "alice@example.com",
					   "all@example.com", &err), 1);
	assert_int_equal(store_may_send_as(f->st, "alice@example.com",
					   "board@example.com", &err), 0);
	assert_int_equal(store_alias_target(f->st, "board@example.com",
					    STORE_TARGET_SENDER,
					    "alice@example.com", true, &err), 0);
	assert_int_equal(store_may_send_as(f->st, "alice@example.com",
					   "board@example.com", &err), 1);
}

static void test_loops_and_bounds(void **state)
{
	struct fx *f = *state;
	struct err err;
	char out[2048];
	/* a -> b -> a with no mailbox: a loop */
	const char *ta[] = { "loopb@example.com" }, *tb[] = { "loopa@example.com" };
	assert_int_equal(store_alias_add(f->st, "loopa@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, ta, 1, &err), 0);
	assert_int_equal(store_alias_add(f->st, "loopb@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, tb, 1, &err), 0);
	assert_int_equal(resolve(f, "loopa", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_LOOP);
	/* a loop through a mailbox's forwarding still delivers once */
	const char *tc[] = { "bob@example.com" };
	assert_int_equal(store_alias_add(f->st, "fw@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, tc, 1, &err), 0);
	assert_int_equal(store_mailbox_set_forward(f->st, "bob@example.com",
						   "fw@example.com", &err), 0);
	assert_int_equal(resolve(f, "bob", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "bob@example.com");
	/* forwarding outside: kept copy plus the external address */
	assert_int_equal(store_mailbox_set_forward(f->st, "bob@example.com",
						   "Bob@Home.Test", &err), 0);
	assert_int_equal(resolve(f, "bob", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "Bob@home.test(ext) bob@example.com");
	struct store_mailbox_info mi;
	assert_int_equal(store_mailbox_info(f->st, "bob@example.com", &mi, &err), 1);
	assert_string_equal(mi.forward, "Bob@home.test");
	assert_int_equal(store_mailbox_set_forward(f->st, "bob@example.com", "",
						   &err), 0);

	/* a chain deeper than STORE_EXPAND_DEPTH */
	char addr[64], next[64];
	for (int i = 0; i <= STORE_EXPAND_DEPTH + 1; i++) {
		snprintf(addr, sizeof addr, "chain%d@example.com", i);
		snprintf(next, sizeof next, "chain%d@example.com", i + 1);
		const char *t[] = { i == STORE_EXPAND_DEPTH + 1 ? "alice@example.com"
							       : next };
		assert_int_equal(store_alias_add(f->st, addr, STORE_ALIAS,
						 STORE_POST_ANYONE, t, 1, &err), 0);
	}
	assert_int_equal(resolve(f, "chain0", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_LOOP);
	assert_int_equal(resolve(f, "chain3", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_OK);

	/* a group with more members than STORE_EXPAND_MAX is refused */
	const char **many = calloc(STORE_EXPAND_MAX + 1, sizeof *many);
	char (*buf)[40] = calloc(STORE_EXPAND_MAX + 1, sizeof *buf);
	for (int i = 0; i <= STORE_EXPAND_MAX; i++) {
		snprintf(buf[i], sizeof buf[i], "u%d@remote.test", i);
		many[i] = buf[i];
	}
	assert_int_equal(store_alias_add(f->st, "big@example.com", STORE_GROUP,
					 STORE_POST_ANYONE, many,
					 STORE_EXPAND_MAX + 1, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	assert_int_equal(store_alias_add(f->st, "big@example.com", STORE_GROUP,
					 STORE_POST_ANYONE, many,
					 STORE_EXPAND_MAX, &err), 0);
	assert_int_equal(resolve(f, "big", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	const char *tbig[] = { "big@example.com", "alice@example.com" };
	assert_int_equal(store_alias_add(f->st, "bigger@example.com", STORE_ALIAS,
					 STORE_POST_ANYONE, tbig, 2, &err), 0);
	assert_int_equal(resolve(f, "bigger", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_LOOP);
	free(many);
	free(buf);
}

static void test_domain_alias_catchall(void **state)
{
	struct fx *f = *state;
	struct err err;
	char out[1024];
	assert_int_equal(store_domain_create(f->st, "example.cn", "example.com",
					     NULL, &err), 0);
	assert_int_equal(store_domain_create(f->st, "x.test", "example.cn",
					     NULL, &err), -1);
	assert_int_equal(store_domain_create(f->st, "y.test", "nothosted.test",
					     NULL, &err), -1);
	assert_int_equal(resolve(f, "Alice", "example.cn", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "alice@example.com");
	assert_int_equal(resolve(f, "nobody", "example.cn", "", out, sizeof out),
			 STORE_RESOLVE_UNKNOWN);
	int64_t id;
	assert_int_equal(store_mailbox_add(f->st, "z", "example.cn", "", 0, &id,
					   &err), -1);
	assert_int_equal(store_may_send_as(f->st, "alice@example.com",
					   "alice@example.cn", &err), 1);
	assert_int_equal(store_may_send_as(f->st, "alice@example.com",
					   "bob@example.cn", &err), 0);

	/* catch-all: unknown addresses, but not over a mailbox or alias */
	assert_int_equal(store_domain_set_catchall(f->st, "example.com",
						   "carol@example.com", &err), 0);
	assert_int_equal(resolve(f, "whoever", "example.cn", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "carol@example.com");
	assert_int_equal(resolve(f, "bob", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "bob@example.com");
	assert_int_equal(store_domain_set_catchall(f->st, "example.com", "",
						   &err), 0);
	assert_int_equal(resolve(f, "whoever", "example.com", "", out,
				 sizeof out), STORE_RESOLVE_UNKNOWN);

	/* postmaster: the first mailbox, and bare <Postmaster> */
	assert_int_equal(resolve(f, "PostMaster", "example.com", "", out,
				 sizeof out), STORE_RESOLVE_OK);
	assert_string_equal(out, "alice@example.com");
	assert_int_equal(resolve(f, "Postmaster", "", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "alice@example.com");
	assert_int_equal(resolve(f, "a", "elsewhere.test", "", out, sizeof out),
			 STORE_RESOLVE_NOT_HOSTED);
}

static void test_suspend_and_plan(void **state)
{
	struct fx *f = *state;
	struct err err;
	char out[1024];
	assert_int_equal(store_mailbox_set_enabled(f->st, "bob@example.com",
						   false, &err), 0);
	assert_int_equal(resolve(f, "bob", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_DISABLED);
	/* a suspended member is skipped inside a group */
	const char *t[] = { "alice@example.com", "bob@example.com" };
	assert_int_equal(store_alias_add(f->st, "team@example.com", STORE_GROUP,
					 STORE_POST_ANYONE, t, 2, &err), 0);
	assert_int_equal(resolve(f, "team", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_OK);
	assert_string_equal(out, "alice@example.com");
	assert_int_equal(store_mailbox_set_enabled(f->st, "bob@example.com",
						   true, &err), 0);
	assert_int_equal(store_domain_set_status(f->st, "example.com",
						 STORE_DOMAIN_SUSPENDED, &err), 0);
	assert_int_equal(resolve(f, "alice", "example.com", "", out, sizeof out),
			 STORE_RESOLVE_DISABLED);
	assert_int_equal(store_domain_set_status(f->st, "example.com",
						 STORE_DOMAIN_ACTIVE, &err), 0);

	/* plan: bounds, and the mailbox limit */
	assert_int_equal(store_domain_set_plan(f->st, "example.com", 19, 0, 0,
					       &err), -1);
	assert_int_equal(store_domain_set_plan(f->st, "example.com", 10001, 0,
					       0, &err), -1);
	assert_int_equal(store_domain_set_plan(f->st, "example.com", 20, 1000,
					       5000, &err), 0);
	struct store_domain d;
	assert_int_equal(store_domain_get(f->st, "example.com", &d, &err), 1);
	assert_int_equal(d.max_mailboxes, 20);
	assert_int_equal(d.mailbox_quota, 1000);
	assert_int_equal(d.domain_quota, 5000);
	assert_int_equal(d.mailboxes, 3);
	int64_t id;
	char local[16];
	for (int i = 3; i < 20; i++) {
		snprintf(local, sizeof local, "user%d", i);
		assert_int_equal(store_mailbox_add(f->st, local, "example.com",
						   "", 0, &id, &err), 0);
	}
	assert_int_equal(store_mailbox_add(f->st, "one-too-many", "example.com",
					   "", 0, &id, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	/* the domain's total travels with each target */
	struct store_resolved r;
	assert_int_equal(store_resolve(f->st, "alice", "example.com", "", &r,
				       &err), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.targets[0].domain_quota, 5000);
	store_resolved_free(&r);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idna, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loops_and_bounds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_domain_alias_catchall, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_suspend_and_plan, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
