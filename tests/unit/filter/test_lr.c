/* test_lr.c - the classifier's logistic model (lr.h, bayes_lr.c):
 * features (sorted, distinct, the bias, the raw prefix bound, tokens),
 * the window without signatures' hash values,
 * the stored form read back and every kind of damage refused, training
 * that separates two kinds of message, a judgement (passive-aggressive
 * step) that moves its message past the margin, bulk training that does not depend on the
 * order of the messages, and scopes: a user's judgement changes that
 * user's verdict and nobody else's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter/bayes.h"
#include "filter/lr.h"
#include "store/store.h"

#include "bayes_fx.h"

static struct lr_feats feats_of(const char *msg)
{
	struct lr_feats f;
	struct filter_tokens t;
	filter_tokenize(span_make(msg, strlen(msg)), &t);
	lr_features(span_make(msg, strlen(msg)), &t, &f);
	filter_tokens_free(&t);
	return f;
}

static void test_features(void **state)
{
	(void)state;
	struct lr_feats f, g;
	lr_features(span_make("abc", 3), NULL, &f);
	assert_int_equal(f.n, 1);	/* under 4 octets: the bias alone */
	assert_int_equal(f.v[0], LR_DIM);
	lr_feats_free(&f);

	/* "abcdabcd": grams abcd bcda cdab dabc abcd, four distinct */
	lr_features(span_make("abcdabcd", 8), NULL, &f);
	assert_true(f.n >= 2 && f.n <= 5);
	for (size_t i = 1; i < f.n; i++)
		assert_true(f.v[i - 1] < f.v[i]);
	assert_int_equal(f.v[f.n - 1], LR_DIM);
	lr_feats_free(&f);

	/* only the first LR_PREFIX octets count */
	char *a = malloc(LR_PREFIX + 100), *b = malloc(LR_PREFIX + 100);
	for (size_t i = 0; i < LR_PREFIX + 100; i++)
		a[i] = b[i] = (char)('a' + i % 23);
	memcpy(b + LR_PREFIX + 10, "DIFFERENT", 9);
	lr_features(span_make(a, LR_PREFIX + 100), NULL, &f);
	lr_features(span_make(b, LR_PREFIX + 100), NULL, &g);
	assert_int_equal(f.n, g.n);
	assert_memory_equal(f.v, g.v, f.n * sizeof f.v[0]);
	lr_feats_free(&f);
	lr_feats_free(&g);
	memcpy(b + 100, "DIFFERENT", 9);
	lr_features(span_make(a, LR_PREFIX + 100), NULL, &f);
	lr_features(span_make(b, LR_PREFIX + 100), NULL, &g);
	assert_true(f.n != g.n || memcmp(f.v, g.v, f.n * sizeof f.v[0]));
	lr_feats_free(&f);
	lr_feats_free(&g);
	free(a);
	free(b);

	/* tokens add features beyond the raw ones */
	struct filter_tokens t;
	filter_tokens_init(&t);
	filter_tokens_add(&t, "", "viagra", 6);
	lr_features(span_make("abcdefgh", 8), NULL, &f);
	lr_features(span_make("abcdefgh", 8), &t, &g);
	assert_int_equal(g.n, f.n + 1);
	filter_tokens_free(&t);
	lr_feats_free(&f);
	lr_feats_free(&g);
}

/* A window as a string, for comparing (lr_window's octets, NUL added). */
static char *window_of(const char *msg)
{
	static char w[LR_PREFIX + 1];
	size_t n = lr_window(span_make(msg, strlen(msg)), (unsigned char *)w);
	assert_true(n <= LR_PREFIX);
	w[n] = '\0';
	return w;
}

/* Signatures' hash values and times are noise: two copies of a message
 * that differ only there have the same window, who signed stays, and a
 * long run of signature fields does not push the rest out. */
static void test_window(void **state)
{
	(void)state;
	const char *a =
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
		"        d=example.com; s=sel1; t=1700000000;\r\n"
		"        h=from:to:subject; bh=AAAAqqqq=;\r\n"
		"        b=BBBBbbbbCCCCcccc\r\n        DDDDdddd\r\n"
		"X-Gm-Message-State: AOJu0YzOPAQUE\r\n"
		"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
	const char *b =
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
		"        d=example.com; s=sel1; t=1700009999;\r\n"
		"        h=from:to:subject; bh=ZZZZzzzz=;\r\n"
		"        b=YYYYyyyy\r\n"
		"X-Gm-Message-State: AOJu0YxOTHER\r\n"
		"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
	char wa[LR_PREFIX + 1];
	snprintf(wa, sizeof wa, "%s", window_of(a));
	assert_string_equal(wa, window_of(b));
	assert_string_equal(wa, "DKIM-Signature: d=example.com; s=sel1;\r\n"
			    "X-Gm-Message-State:\r\n"
			    "From: a@example.com\r\nSubject: hi\r\n\r\n"
			    "body\r\n");
	/* another signer is another window */
	const char *c = "DKIM-Signature: d=other.example; s=sel1; b=x\r\n"
			"\r\nbody\r\n";
	assert_non_null(strstr(window_of(c), "d=other.example;"));
	/* no signature: the message's first LR_PREFIX octets as they are */
	const char *plain = "Received: from x (x [192.0.2.1]) by y; Tue, 1 May"
			    " 2007 10:00:00 +0000\nFrom: a@b\n\nbody\n";
	assert_string_equal(window_of(plain), plain);

	/* ten signatures (8 KB) and the Subject still in the window */
	char *big = malloc(16384);
	size_t o = 0;
	for (int i = 0; i < 10; i++) {
		o += (size_t)snprintf(big + o, 16384 - o,
				      "ARC-Seal: i=%d; a=rsa-sha256; t=17000; "
				      "cv=none; d=google.com; s=arc; b=", i);
		for (int k = 0; k < 700; k++)
			big[o++] = (char)('A' + (k * 7 + i) % 26);
		o += (size_t)snprintf(big + o, 16384 - o, "\r\n");
	}
	snprintf(big + o, 16384 - o, "Subject: the-marker\r\n\r\nbody\r\n");
	assert_true(strlen(big) > 2 * LR_PREFIX);
	assert_non_null(strstr(window_of(big), "the-marker"));
	free(big);

	/* damage: a field cut short, no colon, no line end; all bounded */
	static const char *const bad[] = {
		"DKIM-Signature:", "DKIM-Signature: b=", "DKIM-Signature: d",
		"DKIM-Signature: ;;;;d=;s=", "DKIM-Signature\r\n\r\n",
		"\n\n", "", "X-Gm-Message-State:\r\n\tfolded",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		(void)window_of(bad[i]);
}

static const char *const SPAMS[] = {
	"Subject: cheap pills now\r\n\r\nBuy cheap pills online, best price, "
	"click http://pills.example/buy now\r\n",
	"Subject: you won a prize\r\n\r\nClaim your cash prize today, click "
	"http://prize.example/claim\r\n",
	"Subject: cheap watches\r\n\r\nReplica watches at the best price, "
	"order now http://watch.example/\r\n",
};
static const char *const HAMS[] = {
	"Subject: meeting on monday\r\n\r\nHi team, the project meeting is "
	"moved to monday at ten. Agenda attached.\r\n",
	"Subject: quarterly report\r\n\r\nPlease review the quarterly report "
	"draft before the meeting on friday.\r\n",
	"Subject: lunch\r\n\r\nShall we have lunch after the design review "
	"tomorrow? The team is invited.\r\n",
};
#define NS (sizeof SPAMS / sizeof SPAMS[0])
#define NH (sizeof HAMS / sizeof HAMS[0])

static void test_train_and_blob(void **state)
{
	(void)state;
	struct err err;
	struct lr_train *t = lr_train_new(NULL, 0, &err);
	assert_non_null(t);
	struct lr_feats s[NS], h[NH];
	for (size_t i = 0; i < NS; i++)
		s[i] = feats_of(SPAMS[i]);
	for (size_t i = 0; i < NH; i++)
		h[i] = feats_of(HAMS[i]);
	for (int e = 0; e < 20; e++) {
		for (size_t i = 0; i < NS; i++)
			(void)lr_train_step(t, &s[i], 0, true);
		for (size_t i = 0; i < NH; i++)
			(void)lr_train_step(t, &h[i], 0, false);
	}
	void *blob;
	size_t len;
	lr_train_blob(t, &blob, &len);
	struct lr_model *m = lr_model_parse(blob, len, &err);
	assert_non_null(m);
	assert_true(lr_model_size(m) > 0);
	for (size_t i = 0; i < NS; i++)
		assert_true(lr_model_margin(m, &s[i]) > 0);
	for (size_t i = 0; i < NH; i++)
		assert_true(lr_model_margin(m, &h[i]) < 0);
	/* the trainer started from the stored form agrees with the model */
	struct lr_train *t2 = lr_train_new(blob, len, &err);
	assert_non_null(t2);
	double z = lr_train_step(t2, &s[0], 0, true);
	assert_true(fabs(z - lr_model_margin(m, &s[0])) < 1e-9);
	lr_train_free(&t2);

	/* a judgement moves the margin onto its side, and only once */
	assert_true(lr_train_pa(t, &h[0], 0, true, 4.0));
	void *b2;
	size_t l2;
	lr_train_blob(t, &b2, &l2);
	struct lr_model *m2 = lr_model_parse(b2, l2, &err);
	assert_true(lr_model_margin(m2, &h[0]) >= 4.0);
	assert_false(lr_train_pa(t, &h[0], 0, true, 4.0));
	assert_false(lr_train_pa(t, &h[0], 1.0, true, 4.0));
	lr_model_free(&m2);
	free(b2);

	/* damage of every kind is refused */
	unsigned char *bad = malloc(len + 8);
	memcpy(bad, blob, len);
	bad[0] = 'X';
	assert_null(lr_model_parse(bad, len, &err));
	assert_null(lr_train_new(bad, len, &err));
	memcpy(bad, blob, len);
	assert_null(lr_model_parse(bad, len - 1, &err));	/* cut */
	assert_null(lr_model_parse(bad, 5, &err));
	memcpy(bad, blob, len);
	memcpy(bad + len, "\0\0\0\0\0\0\0\0", 8);
	assert_null(lr_model_parse(bad, len + 8, &err));	/* count */
	if (lr_model_size(m) >= 2) {
		memcpy(bad, blob, len);
		memcpy(bad + 16, bad + 8, 4);	/* index 2 = index 1 */
		assert_null(lr_model_parse(bad, len, &err));
		memcpy(bad, blob, len);
		memset(bad + 12, 0xff, 4);	/* NaN */
		assert_null(lr_model_parse(bad, len, &err));
		memcpy(bad, blob, len);
		memset(bad + 8, 0xff, 4);	/* index past LR_DIM */
		assert_null(lr_model_parse(bad, len, &err));
	}
	m2 = lr_model_parse(NULL, 0, &err);	/* nothing: empty */
	assert_non_null(m2);
	assert_int_equal(lr_model_size(m2), 0);
	assert_true(lr_model_margin(m2, &s[0]) == 0);
	lr_model_free(&m2);
	free(bad);
	free(blob);
	lr_model_free(&m);
	lr_train_free(&t);
	for (size_t i = 0; i < NS; i++)
		lr_feats_free(&s[i]);
	for (size_t i = 0; i < NH; i++)
		lr_feats_free(&h[i]);
}

/* Averaging makes the weights the mean of those after each step. */
static void test_average(void **state)
{
	(void)state;
	struct err err;
	struct lr_train *t = lr_train_new(NULL, 0, &err);
	uint32_t idx[2] = { 5, LR_DIM };
	struct lr_feats f = { idx, 2 };
	bool spam[4] = { true, false, true, true };
	/* the weights after every step tracked by hand */
	(void)lr_train_step(t, &f, 0, true);
	lr_train_average(t);
	double mean = 0, w = 0;
	for (int i = 0; i < 4; i++) {
		(void)lr_train_step(t, &f, 0, spam[i]);
		void *blob;
		size_t len;
		lr_train_blob(t, &blob, &len);
		struct lr_model *m = lr_model_parse(blob, len, &err);
		w = lr_model_margin(m, &f) / 2;
		mean += w / 4;
		lr_model_free(&m);
		free(blob);
	}
	lr_train_average_end(t);
	void *blob;
	size_t len;
	lr_train_blob(t, &blob, &len);
	struct lr_model *m = lr_model_parse(blob, len, &err);
	assert_true(fabs(lr_model_margin(m, &f) / 2 - mean) < 1e-6);
	assert_true(fabs(mean - w) > 1e-6);	/* not simply the last */
	lr_model_free(&m);
	free(blob);
	lr_train_free(&t);
}

static void test_shuffle(void **state)
{
	(void)state;
	size_t a[50], b[50];
	for (size_t i = 0; i < 50; i++)
		a[i] = b[i] = i;
	lr_shuffle(a, 50, 7);
	lr_shuffle(b, 50, 7);
	assert_memory_equal(a, b, sizeof a);	/* the same every time */
	size_t sum = 0, moved = 0;
	for (size_t i = 0; i < 50; i++) {
		sum += a[i];
		moved += a[i] != i;
	}
	assert_int_equal(sum, 49 * 50 / 2);
	assert_true(moved > 25);
}

/* ---- with the store: bulk training and scopes -------------------------- */

static double margin(struct bayes *b, const char *domain, const char *user,
		     const char *msg)
{
	struct filter_tokens t;
	struct lr_feats lf;
	struct bayes_result r;
	struct err err;
	filter_tokenize(span_make(msg, strlen(msg)), &t);
	lr_features(span_make(msg, strlen(msg)), &t, &lf);
	assert_int_equal(bayes_classify(b, domain, user, &t, &lf, &r, &err),
			 0);
	filter_tokens_free(&t);
	lr_feats_free(&lf);
	return r.lr ? r.margin : 0;
}

/* Train global with the messages, spam first or ham first. */
static void bulk(struct bayes *b, bool spam_first)
{
	struct lr_feats f[NS + NH];
	bool spam[NS + NH];
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		bool s = (pass == 0) == spam_first;
		for (size_t i = 0; i < (s ? NS : NH); i++) {
			f[n] = feats_of(s ? SPAMS[i] : HAMS[i]);
			spam[n++] = s;
		}
	}
	struct err err;
	/* several rounds: three messages of each kind are few */
	for (int r = 0; r < 10; r++)
		assert_int_equal(bayes_lr_train(b, "global", f, spam, n, &err),
				 0);
	for (size_t i = 0; i < n; i++)
		lr_feats_free(&f[i]);
}

static void test_bulk_order(void **state)
{
	struct fx *f = *state;
	bulk(f->b, true);
	double a = margin(f->b, NULL, NULL, SPAMS[1]);
	double h = margin(f->b, NULL, NULL, HAMS[2]);
	assert_true(a > 0);
	assert_true(h < 0);

	/* the same set given ham first trains the same model */
	char root[128], dir[160];
	struct store *st2 = temp_store_open("lr2", root, sizeof root, dir,
					    sizeof dir);
	struct bayes *b2 = bayes_new(st2, NULL);
	bulk(b2, false);
	assert_true(fabs(margin(b2, NULL, NULL, SPAMS[1]) - a) < 1e-4);
	assert_true(fabs(margin(b2, NULL, NULL, HAMS[2]) - h) < 1e-4);
	bayes_free(&b2);
	temp_store_close(&st2, root);
}

static int weights_of(const struct store_bayes_scope *s, void *arg)
{
	if (strcmp(s->name, "user:ann@t.test") == 0)
		*(uint64_t *)arg = s->weights;
	return 0;
}

static void test_user_scope(void **state)
{
	struct fx *f = *state;
	bulk(f->b, true);
	const char *news = "Subject: weekly newsletter\r\n\r\nOur weekly "
			   "newsletter: the best price on offers, click now "
			   "http://news.example/\r\n";
	double before = margin(f->b, "t.test", "ann@t.test", news);
	struct lr_feats lf = feats_of(news);
	struct err err;
	assert_int_equal(bayes_lr_learn(f->b, "user:ann@t.test", &lf, false,
					&err), 0);
	/* ann's judgement: her verdict follows it by the margin */
	assert_true(margin(f->b, "t.test", "ann@t.test", news) <=
		    -BAYES_LR_MARGIN + 1e-6 ||
		    before <= -BAYES_LR_MARGIN);
	/* nobody else's changed */
	assert_true(fabs(margin(f->b, "t.test", "bob@t.test", news) - before)
		    < 1e-9);
	assert_true(fabs(margin(f->b, NULL, NULL, news) - before) < 1e-9);
	/* the scope's model is listed with its weights */
	uint64_t w = 0;
	assert_int_equal(store_bayes_scope_each(f->st, weights_of, &w, &err), 0);
	assert_true(w >= lf.n - 1 && w <= lf.n);
	/* and the other way round */
	assert_int_equal(bayes_lr_learn(f->b, "user:ann@t.test", &lf, true,
					&err), 0);
	assert_true(margin(f->b, "t.test", "ann@t.test", news) >=
		    BAYES_LR_MARGIN - 1e-6);
	lr_feats_free(&lf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_train_and_blob),
		cmocka_unit_test(test_shuffle),
		cmocka_unit_test(test_average),
		cmocka_unit_test_setup_teardown(test_bulk_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_user_scope, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
