/* test_store_dmarc.c - DMARC report rows in the store (migration 13):
 * batches added in one transaction with equal rows counted together,
 * read back per day and domain in report order, days pending, deletion
 * by id; petrelctl's send requests taken in order, answered, and their
 * answer read once. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_test_util.h"

struct fx {
	char root[64];
	char dir[96];
	struct store *st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->st = temp_store_open("dmarc", f->root, sizeof f->root, f->dir,
				sizeof f->dir);
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

static struct store_dmarc_row row(int64_t day, const char *domain,
				  const char *ip, uint64_t count)
{
	struct store_dmarc_row r;
	memset(&r, 0, sizeof r);
	r.day = day;
	snprintf(r.policy_domain, sizeof r.policy_domain, "%s", domain);
	r.p = 1;
	r.pct = 100;
	snprintf(r.rua, sizeof r.rua, "mailto:d@%s", domain);
	snprintf(r.source_ip, sizeof r.source_ip, "%s", ip);
	snprintf(r.header_from, sizeof r.header_from, "%s", domain);
	snprintf(r.dkim_auth, sizeof r.dkim_auth, "%s/s/pass", domain);
	snprintf(r.spf_domain, sizeof r.spf_domain, "%s", domain);
	snprintf(r.spf_scope, sizeof r.spf_scope, "mfrom");
	r.count = count;
	return r;
}

struct seen {
	size_t n;
	int64_t ids[16];
	struct store_dmarc_row rows[16];
};

static int collect(int64_t id, const struct store_dmarc_row *r, void *arg)
{
	struct seen *s = arg;
	s->ids[s->n] = id;
	s->rows[s->n++] = *r;
	return s->n == 16;
}

static void test_rows(void **state)
{
	struct fx *f = *state;
	struct err err;
	const int64_t d1 = 86400 * 20000, d2 = d1 + 86400;
	struct store_dmarc_row batch[] = {
		row(d1, "b.test", "192.0.2.2", 3),
		row(d1, "a.test", "192.0.2.9", 1),
		row(d1, "a.test", "192.0.2.1", 2),
		row(d2, "a.test", "192.0.2.1", 5),
	};
	assert_int_equal(store_dmarc_add(f->st, batch, 4, &err), 0);
	/* the next flush counts equal rows into the stored ones */
	assert_int_equal(store_dmarc_add(f->st, batch, 2, &err), 0);
	assert_int_equal(store_dmarc_add(f->st, batch, 0, &err), 0);

	struct seen s = { 0 };
	assert_int_equal(store_dmarc_each(f->st, d1, NULL, 100, collect, &s,
					  &err), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.rows[0].policy_domain, "a.test");
	assert_string_equal(s.rows[0].source_ip, "192.0.2.1");
	assert_int_equal(s.rows[0].count, 2);
	assert_int_equal(s.rows[1].count, 2);		/* 1 + 1 */
	assert_int_equal(s.rows[2].count, 6);		/* 3 + 3 */
	assert_string_equal(s.rows[2].dkim_auth, "b.test/s/pass");
	assert_string_equal(s.rows[2].rua, "mailto:d@b.test");
	assert_int_equal(s.rows[2].pct, 100);

	struct seen one = { 0 };
	assert_int_equal(store_dmarc_each(f->st, d1, "B.TEST", 100, collect,
					  &one, &err), 0);
	assert_int_equal(one.n, 1);
	struct seen capped = { 0 };
	assert_int_equal(store_dmarc_each(f->st, d1, NULL, 2, collect, &capped,
					  &err), 0);
	assert_int_equal(capped.n, 2);

	int64_t days[4];
	assert_int_equal(store_dmarc_days(f->st, d2 + 86400, days, 4, &err), 2);
	assert_int_equal(days[0], d1);
	assert_int_equal(days[1], d2);
	assert_int_equal(store_dmarc_days(f->st, d2, days, 4, &err), 1);

	assert_int_equal(store_dmarc_delete(f->st, s.ids, s.n, &err), 0);
	assert_int_equal(store_dmarc_days(f->st, d2 + 86400, days, 4, &err), 1);
	assert_int_equal(days[0], d2);
}

static void test_requests(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct store_dmarc_request rq = { .day = 86400 * 20000, .dry_run = true };
	snprintf(rq.domain, sizeof rq.domain, "Example.COM");
	int64_t id1, id2;
	assert_int_equal(store_dmarc_request_add(f->st, &rq, time(NULL), &id1, &err), 0);
	rq.dry_run = false;
	rq.domain[0] = '\0';
	assert_int_equal(store_dmarc_request_add(f->st, &rq, time(NULL), &id2, &err), 0);

	char *text = NULL;
	assert_int_equal(store_dmarc_request_result(f->st, id1, &text, &err), 0);
	struct store_dmarc_request got;
	assert_int_equal(store_dmarc_request_next(f->st, &got, &err), 1);
	assert_int_equal(got.id, id1);
	assert_string_equal(got.domain, "example.com");
	assert_true(got.dry_run);
	assert_int_equal(store_dmarc_request_answer(f->st, id1, "{\"a\":1}",
						    &err), 0);
	assert_int_equal(store_dmarc_request_next(f->st, &got, &err), 1);
	assert_int_equal(got.id, id2);
	assert_false(got.dry_run);

	assert_int_equal(store_dmarc_request_result(f->st, id1, &text, &err), 1);
	assert_string_equal(text, "{\"a\":1}");
	free(text);
	/* read once */
	assert_int_equal(store_dmarc_request_result(f->st, id1, &text, &err), 0);
	/* an answer nobody read for a day goes at the next answer */
	int64_t old;
	assert_int_equal(store_dmarc_request_add(f->st, &rq, time(NULL) - 90000,
						 &old, &err), 0);
	assert_int_equal(store_dmarc_request_answer(f->st, old, "{}", &err), 0);
	assert_int_equal(store_dmarc_request_answer(f->st, id2, "{}", &err), 0);
	assert_int_equal(store_dmarc_request_result(f->st, old, &text, &err), 0);
	assert_int_equal(store_dmarc_request_result(f->st, id2, &text, &err), 1);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
