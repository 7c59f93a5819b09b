/* test_store_queue.c - the outbound queue in the store: a delivery with
 * remote recipients becomes one entry with per-recipient rows in the same
 * log record as its local copies; the runner's scan, reads and updates;
 * administrators' hold, release, retry, bounce and delete; the blob's
 * reference (store_check agrees at every step); replay after SQLite lost
 * the commits, and replaying twice; envelopes that must be refused.
 */
#include <errno.h>
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
	int64_t mb;		/* alice@example.com */
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
	snprintf(f->root, sizeof f->root, "/tmp/petrel-queue-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
	fx_open(f);
	struct err err;
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	assert_int_equal(store_mailbox_add(f->st, "alice", "example.com",
					   "$h$x", 0, &f->mb, &err), 0);
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb, "INBOX", &fo, &err), 1);
	f->inbox = fo.id;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(&f->st);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void sql_exec(const struct fx *f, const char *sql)
{
	char path[160];
	snprintf(path, sizeof path, "%s/petrel.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static const char msg[] = "From: alice@example.com\r\nTo: bob@remote.test\r\n"
			  "Subject: queued\r\n\r\nhello\r\n";

/* Deliver msg to the local mailbox (if local) and to n remote rcpts. */
static int64_t deliver_q(struct fx *f, bool local, const char *const *rcpts,
			 size_t n, const char *sender)
{
	struct store_queue_env q = { .sender = sender, .rcpts = rcpts,
				     .n_rcpts = n, .owner_id = f->mb,
				     .envid = "env-1" };
	struct store_delivery d = {
		.data = (const unsigned char *)msg, .len = sizeof msg - 1,
		.mailbox_ids = local ? &f->mb : NULL,
		.n_mailboxes = local ? 1 : 0, .internal_date = 1700000000,
		.queue = &q,
	};
	struct err err;
	if (store_deliver_wait(f->st, &d, &err) != 0)
		fail_msg("deliver: %s", err.msg);
	return 0;
}

struct due {
	size_t n;
	struct store_queue_msg m[8];
	struct store_queue_rcpt r[8];
};

static int due_fn(const struct store_queue_msg *m,
		  const struct store_queue_rcpt *r, void *arg)
{
	struct due *d = arg;
	if (d->n < 8) {
		d->m[d->n] = *m;
		d->r[d->n] = *r;
	}
	d->n++;
	return 0;
}

static void scan(struct fx *f, int64_t now, struct due *d, int64_t *next)
{
	struct store_queue_pos pos = { 0, 0, 0 };
	struct err err;
	memset(d, 0, sizeof *d);
	assert_int_equal(store_queue_due(f->st, now, &pos, 100, due_fn, d,
					 next, &err), 0);
}

static void test_queue_entry(void **state)
{
	struct fx *f = *state;
	static const char *const rc[] = { "bob@remote.test", "carol@other.test" };
	deliver_q(f, false, rc, 2, "alice@example.com");
	struct due d;
	int64_t next = -1;
	scan(f, 1700000000, &d, &next);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.r[0].addr, "bob@remote.test");
	assert_string_equal(d.r[1].addr, "carol@other.test");
	assert_string_equal(d.m[0].sender, "alice@example.com");
	assert_string_equal(d.m[0].envid, "env-1");
	assert_int_equal(d.m[0].owner_id, f->mb);
	assert_int_equal(d.m[0].size, sizeof msg - 1);
	assert_int_equal(d.r[0].state, STORE_QR_PENDING);
	assert_int_equal(next, 0);
	/* not yet due before arrival */
	struct due none;
	scan(f, 1600000000, &none, &next);
	assert_int_equal(none.n, 0);
	assert_int_equal(next, 1700000000);

	unsigned char *data = NULL;
	size_t len = 0;
	struct err err;
	assert_int_equal(store_queue_read(f->st, d.m[0].id, &data, &len, &err), 1);
	assert_int_equal(len, sizeof msg - 1);
	assert_memory_equal(data, msg, len);
	free(data);
	assert_int_equal(check(f->st), 0);

	/* bob delivered, carol deferred */
	struct store_queue_outcome o[2] = {
		{ .queue_id = d.m[0].id, .idx = 0, .kind = STORE_QO_REMOVE },
		{ .queue_id = d.m[0].id, .idx = 1, .kind = STORE_QO_RETRY,
		  .next_try = 1700000600, .tried = 1700000001,
		  .reply = "451 4.7.1 greylisted" },
	};
	assert_int_equal(store_queue_update(f->st, o, 2, &err), 0);
	scan(f, 1700000001, &d, &next);
	assert_int_equal(d.n, 0);
	assert_int_equal(next, 1700000600);
	struct store_queue_msg m;
	assert_int_equal(store_queue_get(f->st, o[0].queue_id, &m, NULL, NULL,
					 &err), 1);
	assert_int_equal(m.n_rcpts, 1);
	assert_int_equal(m.next_try, 1700000600);
	scan(f, 1700000600, &d, NULL);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.r[0].attempts, 1);
	assert_int_equal(d.r[0].last_try, 1700000001);
	assert_string_equal(d.r[0].last_reply, "451 4.7.1 greylisted");
	struct store_queue_stats qs;
	assert_int_equal(store_queue_stats(f->st, &qs, &err), 0);
	assert_int_equal(qs.entries, 1);
	assert_int_equal(qs.rcpts, 1);
	assert_int_equal(check(f->st), 0);

	/* the last recipient leaves: the entry and its blob reference go */
	o[0].idx = 1;
	assert_int_equal(store_queue_update(f->st, o, 1, &err), 0);
	assert_int_equal(store_queue_get(f->st, o[0].queue_id, &m, NULL, NULL,
					 &err), 0);
	assert_int_equal(store_queue_stats(f->st, &qs, &err), 0);
	assert_int_equal(qs.entries, 0);
	assert_int_equal(check(f->st), 0);
	/* a row already gone is skipped */
	assert_int_equal(store_queue_update(f->st, o, 1, &err), 0);
}

static void test_local_and_remote(void **state)
{
	struct fx *f = *state;
	static const char *const rc[] = { "bob@remote.test" };
	deliver_q(f, true, rc, 1, "");
	assert_message(f->st, f->inbox, 1, msg, sizeof msg - 1);
	struct due d;
	scan(f, 1700000000, &d, NULL);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.m[0].sender, "");
	assert_int_equal(check(f->st), 0);
	/* the mailbox's copy goes; the queue's reference keeps the bytes */
	uint32_t uid = 1;
	struct err err;
	assert_int_equal(store_expunge(f->st, f->inbox, &uid, 1, NULL, &err), 0);
	unsigned char *data = NULL;
	size_t len = 0;
	assert_int_equal(store_queue_read(f->st, d.m[0].id, &data, &len, &err), 1);
	assert_memory_equal(data, msg, len);
	free(data);
	assert_int_equal(check(f->st), 0);
}

static int count_rcpt(const struct store_queue_rcpt *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void test_admin(void **state)
{
	struct fx *f = *state;
	static const char *const rc[] = { "bob@remote.test", "dan@remote.test" };
	deliver_q(f, false, rc, 2, "alice@example.com");
	struct due d;
	scan(f, 1700000000, &d, NULL);
	int64_t id = d.m[0].id;
	struct err err;
	assert_int_equal(store_queue_hold(f->st, id, true, &err), 1);
	scan(f, 1700000000, &d, NULL);
	assert_int_equal(d.n, 0);
	assert_int_equal(store_queue_hold(f->st, id, false, &err), 1);
	scan(f, 1700000000, &d, NULL);
	assert_int_equal(d.n, 2);
	assert_int_equal(store_queue_hold(f->st, 999999, true, &err), 0);

	/* retry: due now even if deferred to later */
	struct store_queue_outcome o = { .queue_id = id, .idx = 0,
					 .kind = STORE_QO_RETRY,
					 .next_try = 1800000000,
					 .tried = 1700000000 };
	assert_int_equal(store_queue_update(f->st, &o, 1, &err), 0);
	scan(f, 1700000000, &d, NULL);
	assert_int_equal(d.n, 1);
	assert_int_equal(store_queue_retry(f->st, id, &err), 1);
	scan(f, 1700000000, &d, NULL);
	assert_int_equal(d.n, 2);

	/* bounce: even held, due at once with the reason */
	assert_int_equal(store_queue_hold(f->st, id, true, &err), 1);
	assert_int_equal(store_queue_bounce(f->st, id, "bounced by the "
					    "administrator", &err), 1);
	scan(f, 1600000000, &d, NULL);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.r[0].state, STORE_QR_BOUNCE);
	assert_string_equal(d.r[1].last_reply, "bounced by the administrator");
	/* a retry outcome meanwhile does not undo the bounce, nor replace
	 * its reason */
	o.reply = "451 4.4.3 DNS trouble";
	assert_int_equal(store_queue_update(f->st, &o, 1, &err), 0);
	scan(f, 1600000000, &d, NULL);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.r[0].last_reply, "bounced by the administrator");

	int n = 0;
	struct store_queue_msg m;
	assert_int_equal(store_queue_get(f->st, id, &m, count_rcpt, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_true(m.held);
	assert_int_equal(store_queue_delete(f->st, id, &err), 1);
	assert_int_equal(store_queue_get(f->st, id, &m, NULL, NULL, &err), 0);
	assert_int_equal(store_queue_delete(f->st, id, &err), 0);
	assert_int_equal(check(f->st), 0);
}

/* Paging: a scan goes on after the last recipient it visited. */
static void test_paging(void **state)
{
	struct fx *f = *state;
	static const char *const rc[] = { "a@r.test", "b@r.test", "c@r.test" };
	deliver_q(f, false, rc, 3, "alice@example.com");
	deliver_q(f, false, rc, 3, "alice@example.com");
	struct store_queue_pos pos = { 0, 0, 0 };
	struct err err;
	size_t total = 0;
	for (int i = 0; i < 10; i++) {
		struct due d = { 0 };
		assert_int_equal(store_queue_due(f->st, 1700000000, &pos, 4,
						 due_fn, &d, NULL, &err), 0);
		total += d.n;
		if (d.n < 4)
			break;
	}
	assert_int_equal(total, 6);
}

/* SQLite loses the commits of the queue record: replay brings the entry
 * back exactly once; replaying everything again changes nothing. */
static void test_replay(void **state)
{
	struct fx *f = *state;
	static const char *const rc[] = { "bob@remote.test", "eve@x.test" };
	deliver_q(f, true, rc, 2, "alice@example.com");
	store_close(&f->st);
	sql_exec(f, "DELETE FROM queue_rcpts; DELETE FROM queue; "
		    "DELETE FROM messages; DELETE FROM blobs; "
		    "UPDATE mailboxes SET used = 0; "
		    "UPDATE folders SET uidnext = 1, highestmodseq = 1; "
		    "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	struct due d;
	scan(f, 1700000000, &d, NULL);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.r[1].addr, "eve@x.test");
	assert_message(f->st, f->inbox, 1, msg, sizeof msg - 1);
	assert_int_equal(check(f->st), 0);
	store_close(&f->st);
	sql_exec(f, "UPDATE log_applied SET segment = 0, offset = 0, seq = 0");
	fx_open(f);
	scan(f, 1700000000, &d, NULL);
	assert_int_equal(d.n, 2);
	assert_int_equal(check(f->st), 0);
}

static void test_bad_envelope(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = { "bob@remote.test\r\nRCPT TO:<x@y>" };
	struct store_queue_env q = { .sender = "", .rcpts = bad, .n_rcpts = 1 };
	struct store_delivery d = {
		.data = (const unsigned char *)msg, .len = sizeof msg - 1,
		.internal_date = 1700000000, .queue = &q,
	};
	struct err err;
	assert_int_equal(store_deliver_wait(f->st, &d, &err), -1);
	static const char *const empty[] = { "" };
	q.rcpts = empty;
	assert_int_equal(store_deliver_wait(f->st, &d, &err), -1);
	q.n_rcpts = 0;
	assert_int_equal(store_deliver_wait(f->st, &d, &err), -1);
	struct due dd;
	scan(f, 1700000000, &dd, NULL);
	assert_int_equal(dd.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_and_remote, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_envelope, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
