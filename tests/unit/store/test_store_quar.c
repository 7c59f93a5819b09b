/* test_store_quar.c - the quarantine and the filter settings in the
 * store: settings defaults, changes and refusals; an entry added through
 * the group commit with its fields and bytes; listing newest first with
 * filters and pages; release into INBOX in one transaction (the blob's
 * reference moves, store_check agrees); a release of a removed mailbox;
 * the release request petrelctl leaves for petreld; delete and expire;
 * replay after SQLite lost the commits, and replay after a release
 * (never twice).
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_test_util.h"

struct fx {
	char root[64];
	char dir[96];
	struct store *st;
	int64_t mb, mb2;	/* alice@example.com, bob@example.org */
	int64_t inbox;
};

static void fx_open(struct fx *f)
{
	struct err err;
	if (store_open(f->dir, &f->st, &err) != 0)
		fail_msg("store_open: %s", err.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->st = temp_store_open("quar", f->root, sizeof f->root, f->dir,
				sizeof f->dir);
	struct err err;
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	assert_int_equal(store_domain_add(f->st, "example.org", &err), 0);
	assert_int_equal(store_mailbox_add(f->st, "alice", "example.com",
					   "$h$x", 0, &f->mb, &err), 0);
	assert_int_equal(store_mailbox_add(f->st, "bob", "example.org",
					   "$h$x", 0, &f->mb2, &err), 0);
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb, "INBOX", &fo, &err), 1);
	f->inbox = fo.id;
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

static void sql_exec(const struct fx *f, const char *sql)
{
	store_test_sql(f->dir, sql);
}

static const char msg[] = "From: spammer@bad.test\r\nTo: alice@example.com\r\n"
			  "Subject: win\r\n\r\nclick here\r\n";

static int64_t quarantine(struct fx *f, int64_t mb, int64_t received,
			  const char *subject)
{
	struct store_quarantine_req q = {
		.data = (const unsigned char *)msg, .len = sizeof msg - 1,
		.mailbox_id = mb, .sender = "spammer@bad.test",
		.subject = subject, .score = 12.345,
		.symbols = "BAYES_SPAM(5) URL_IP(2.5)",
		.reason = "score 12.3 >= 10 (enterprise)", .received = received,
	};
	struct err err;
	if (store_quarantine_add(f->st, &q, &err) != 0)
		fail_msg("quarantine: %s", err.msg);
	assert_true(q.id > 0);
	return q.id;
}

static int count_fn(const struct store_audit_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

static void test_settings(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct store_filter_settings s;
	assert_int_equal(store_filter_settings_get(f->st, "example.com", &s,
						   &err), 1);
	assert_int_equal(s.level, STORE_FILTER_STANDARD);
	assert_int_equal(s.quarantine_days, 30);
	assert_false(s.user_release);
	assert_int_equal(s.external_tag, STORE_EXTERNAL_TAG_OFF);
	s.level = STORE_FILTER_STRICT;
	s.quarantine_days = 7;
	s.user_release = true;
	s.external_tag = STORE_EXTERNAL_TAG_BANNER;
	assert_int_equal(store_filter_settings_set(f->st, "EXAMPLE.com", &s,
						   &err), 0);
	struct store_filter_settings g;
	assert_int_equal(store_filter_settings_get(f->st, "example.com", &g,
						   &err), 1);
	assert_memory_equal(&g, &s, sizeof s);
	/* the other domain keeps the defaults */
	assert_int_equal(store_filter_settings_get(f->st, "example.org", &g,
						   &err), 1);
	assert_int_equal(g.quarantine_days, 30);
	/* a domain alias reads its target's and cannot be set */
	assert_int_equal(store_domain_create(f->st, "example.net",
					     "example.com", NULL, &err), 0);
	assert_int_equal(store_filter_settings_get(f->st, "example.net", &g,
						   &err), 1);
	assert_int_equal(g.level, STORE_FILTER_STRICT);
	assert_int_equal(store_filter_settings_set(f->st, "example.net", &s,
						   &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_filter_settings_get(f->st, "nowhere.test", &g,
						   &err), 0);
	assert_int_equal(store_filter_settings_set(f->st, "nowhere.test", &s,
						   &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	s.quarantine_days = 0;
	assert_int_equal(store_filter_settings_set(f->st, "example.com", &s,
						   &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_filter_level_parse("Enterprise"),
			 STORE_FILTER_ENTERPRISE);
	assert_int_equal(store_filter_level_parse("lax"), -1);
	assert_int_equal(store_external_tag_parse("subject"),
			 STORE_EXTERNAL_TAG_SUBJECT);
	/* audited */
	struct store_audit_filter af = { .kind = "filter.settings" };
	bool more;
	int n = 0;
	assert_int_equal(store_audit_query(f->st, &af, count_fn, &n, &more,
					   &err), 0);
	assert_int_equal(n, 1);
	/* a domain removed and added again starts from the defaults */
	assert_int_equal(store_domain_remove(f->st, "example.com", true, NULL,
					     &err), 0);
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	assert_int_equal(store_filter_settings_get(f->st, "example.com", &g,
						   &err), 1);
	assert_int_equal(g.level, STORE_FILTER_STANDARD);
}

struct collect {
	size_t n;
	int64_t id[16];
};

static int collect_fn(const struct store_quarantine_entry *e, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16)
		c->id[c->n] = e->id;
	c->n++;
	return 0;
}

static void list(struct fx *f, const struct store_quarantine_filter *flt,
		 struct collect *c, bool *more)
{
	struct err err;
	memset(c, 0, sizeof *c);
	assert_int_equal(store_quarantine_list(f->st, flt, collect_fn, c, more,
					       &err), 0);
}

static void test_add_get_list(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct store_filter_settings s;
	store_filter_settings_default(&s);
	s.quarantine_days = 2;
	assert_int_equal(store_filter_settings_set(f->st, "example.com", &s,
						   &err), 0);
	int64_t a = quarantine(f, f->mb, 1700000000, "first");
	int64_t b = quarantine(f, f->mb, 1700000100, "second\r\nBcc: x");
	int64_t c = quarantine(f, f->mb2, 1700000050, "third");
	assert_int_equal(check(f->st), 0);

	struct store_quarantine_entry e;
	unsigned char *data = NULL;
	size_t len = 0;
	assert_int_equal(store_quarantine_get(f->st, b, &e, &data, &len, &err),
			 1);
	assert_int_equal(len, sizeof msg - 1);
	assert_memory_equal(data, msg, len);
	free(data);
	assert_string_equal(e.address, "alice@example.com");
	assert_string_equal(e.domain, "example.com");
	assert_string_equal(e.sender, "spammer@bad.test");
	assert_string_equal(e.subject, "second??Bcc: x");
	assert_string_equal(e.symbols, "BAYES_SPAM(5) URL_IP(2.5)");
	assert_true(e.score > 12.344 && e.score < 12.346);
	assert_int_equal(e.received, 1700000100);
	assert_int_equal(e.expires, 1700000100 + 2 * 86400);
	assert_int_equal(e.size, sizeof msg - 1);
	/* the other domain has the default 30 days */
	assert_int_equal(store_quarantine_get(f->st, c, &e, NULL, NULL, &err), 1);
	assert_int_equal(e.expires, 1700000050 + 30 * 86400);
	assert_int_equal(store_quarantine_get(f->st, 999, &e, NULL, NULL, &err),
			 0);

	struct collect got;
	bool more;
	struct store_quarantine_filter flt = { .limit = 10 };
	list(f, &flt, &got, &more);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.id[0], b);
	assert_int_equal(got.id[1], c);
	assert_int_equal(got.id[2], a);
	assert_false(more);
	flt.domain = "example.org";
	list(f, &flt, &got, &more);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.id[0], c);
	flt.domain = NULL;
	flt.mailbox = "ALICE@example.com";
	list(f, &flt, &got, &more);
	assert_int_equal(got.n, 2);
	/* pages of one */
	flt.mailbox = NULL;
	flt.limit = 1;
	list(f, &flt, &got, &more);
	assert_int_equal(got.id[0], b);
	assert_true(more);
	flt.before_received = 1700000100;
	flt.before_id = b;
	list(f, &flt, &got, &more);
	assert_int_equal(got.id[0], c);
	assert_true(more);
	flt.before_received = 1700000050;
	flt.before_id = c;
	list(f, &flt, &got, &more);
	assert_int_equal(got.id[0], a);
	assert_false(more);
	flt.limit = 0;
	assert_int_equal(store_quarantine_list(f->st, &flt, collect_fn, &got,
					       NULL, &err), -1);
	/* an unknown mailbox is refused before anything is written */
	struct store_quarantine_req q = { .data = (const unsigned char *)msg,
					  .len = 3, .mailbox_id = 9999 };
	assert_int_equal(store_quarantine_add(f->st, &q, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
}

static void test_release(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t a = quarantine(f, f->mb, 1700000000, "held");
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb, "INBOX", &fo, &err), 1);
	assert_int_equal(fo.messages, 0);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_find(f->st, "alice", "example.com", &mb,
					    &err), 1);
	assert_int_equal(mb.used, 0);	/* quarantine does not count */
	uint32_t uid = 0;
	assert_int_equal(store_quarantine_release(f->st, a, &uid, &err), 1);
	assert_int_equal(uid, 1);
	assert_message(f->st, f->inbox, 1, msg, sizeof msg - 1);
	assert_int_equal(store_folder_find(f->st, f->mb, "INBOX", &fo, &err), 1);
	assert_int_equal(fo.messages, 1);
	assert_int_equal(fo.uidnext, 2);
	assert_int_equal(store_mailbox_find(f->st, "alice", "example.com", &mb,
					    &err), 1);
	assert_int_equal(mb.used, sizeof msg - 1);
	struct store_quarantine_entry e;
	assert_int_equal(store_quarantine_get(f->st, a, &e, NULL, NULL, &err), 0);
	assert_int_equal(check(f->st), 0);
	/* a second release finds nothing: never delivered twice */
	assert_int_equal(store_quarantine_release(f->st, a, &uid, &err), 0);
	/* a delivery after it continues the UIDs */
	struct store_delivery d = { .data = (const unsigned char *)msg,
				    .len = sizeof msg - 1,
				    .mailbox_ids = &f->mb, .n_mailboxes = 1 };
	uint32_t uids[1];
	d.uids_out = uids;
	assert_int_equal(store_deliver_wait(f->st, &d, &err), 0);
	assert_int_equal(uids[0], 2);

	/* replaying the whole log after the release changes nothing: the
	 * blob row says the record is indexed */
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	assert_int_equal(store_quarantine_get(f->st, a, &e, NULL, NULL, &err), 0);
	assert_int_equal(store_folder_find(f->st, f->mb, "INBOX", &fo, &err), 1);
	assert_int_equal(fo.messages, 2);
	assert_int_equal(check(f->st), 0);

	/* the mailbox is gone: the release fails, the entry stays */
	int64_t b = quarantine(f, f->mb2, 1700000000, "orphan");
	assert_int_equal(store_mailbox_remove(f->st, "bob@example.org", NULL,
					      &err), 0);
	assert_int_equal(store_quarantine_release(f->st, b, &uid, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	assert_int_equal(store_quarantine_get(f->st, b, &e, NULL, NULL, &err), 1);
	assert_int_equal(store_quarantine_delete(f->st, b, &err), 1);
	assert_int_equal(check(f->st), 0);
}

/* petrelctl cannot release (no committer): it asks, petreld does it. */
static void test_release_request(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t a = quarantine(f, f->mb, 1700000000, "asked");
	struct store *admin = NULL;
	assert_int_equal(store_open_admin(f->dir, &admin, &err), 0);
	assert_int_equal(store_quarantine_release(admin, a, NULL, &err), -1);
	assert_int_equal(store_quarantine_release_request(admin, a, &err), 1);
	assert_int_equal(store_quarantine_release_request(admin, 4242, &err), 0);
	struct store_quarantine_entry e;
	assert_int_equal(store_quarantine_get(admin, a, &e, NULL, NULL, &err), 1);
	assert_true(e.release_requested);
	store_close(&admin);
	assert_int_equal(store_quarantine_release_pending(f->st, &err), 1);
	assert_int_equal(store_quarantine_release_pending(f->st, &err), 0);
	assert_message(f->st, f->inbox, 1, msg, sizeof msg - 1);
	assert_int_equal(check(f->st), 0);
}

static void test_delete_expire(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t a = quarantine(f, f->mb, 1000000, "old");
	int64_t b = quarantine(f, f->mb, 2000000, "new");
	int64_t c = quarantine(f, f->mb2, 3000000, "other");
	assert_int_equal(store_quarantine_delete(f->st, c, &err), 1);
	assert_int_equal(store_quarantine_delete(f->st, c, &err), 0);
	assert_int_equal(check(f->st), 0);
	uint64_t n = 99;
	assert_int_equal(store_quarantine_expire(f->st, 1000000 + 30 * 86400,
						 &n, &err), 0);
	assert_int_equal(n, 1);
	struct store_quarantine_entry e;
	assert_int_equal(store_quarantine_get(f->st, a, &e, NULL, NULL, &err), 0);
	assert_int_equal(store_quarantine_get(f->st, b, &e, NULL, NULL, &err), 1);
	assert_int_equal(store_quarantine_expire(f->st, 1000000 + 30 * 86400,
						 &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(check(f->st), 0);
	/* works from petrelctl too */
	struct store *admin = NULL;
	assert_int_equal(store_open_admin(f->dir, &admin, &err), 0);
	assert_int_equal(store_quarantine_expire(admin, 2000000 + 30 * 86400,
						 &n, &err), 0);
	assert_int_equal(n, 1);
	store_close(&admin);
	assert_int_equal(check(f->st), 0);
}

/* SQLite loses the commits of the quarantine record: replay brings the
 * entry back exactly once, with its fields. */
static void test_replay(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t a = quarantine(f, f->mb, 1700000000, "replayed");
	store_close(&f->st);
	sql_exec(f, "DELETE FROM quarantine; DELETE FROM blobs; "
		    "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	struct store_quarantine_entry e;
	unsigned char *data = NULL;
	size_t len = 0;
	assert_int_equal(store_quarantine_get(f->st, a, &e, &data, &len, &err),
			 1);
	assert_memory_equal(data, msg, len);
	free(data);
	assert_string_equal(e.subject, "replayed");
	assert_string_equal(e.reason, "score 12.3 >= 10 (enterprise)");
	assert_int_equal(check(f->st), 0);
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	struct collect got;
	struct store_quarantine_filter flt = { .limit = 10 };
	list(f, &flt, &got, NULL);
	assert_int_equal(got.n, 1);
	assert_int_equal(check(f->st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_get_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete_expire, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
