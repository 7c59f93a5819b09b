/* test_bayes.c - the statistical classifier: the chi-square combination
 * against values computed by hand (SpamBayes' formulas in Python),
 * f(w) on small hand-made sets, pooling of the global, domain and user
 * scopes, learning again / the other way / unlearning, the store's
 * counts read back, a second classifier noticing another's learning,
 * classifying from several threads while learning goes on, symbols,
 * and the IMAP learner on messages of a real store. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "filter/bayes.h"
#include "store/store.h"

#include "bayes_fx.h"

/* Tokens of a space-separated word list. */
static void toks(struct filter_tokens *t, const char *words)
{
	filter_tokens_init(t);
	const char *p = words;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n > 0)
			filter_tokens_add(t, "", p, n);
		p += n;
		p += *p == ' ';
	}
}

/* Learn words as label in scope under the key made of tag. */
static enum store_bayes_label learn(struct bayes *b, const char *scope,
				    const char *words,
				    enum store_bayes_label label,
				    const char *tag)
{
	struct filter_tokens t;
	unsigned char key[STORE_BAYES_KEY_LEN];
	enum store_bayes_label was = 99;
	struct err err;
	toks(&t, words);
	bayes_msg_key(span_cstr(tag), key);
	if (bayes_learn(b, scope, &t, label, key, &was, &err) != 0)
		fail_msg("learn: %s", err.msg);
	filter_tokens_free(&t);
	return was;
}

static void learn_n(struct bayes *b, const char *scope, const char *words,
		    enum store_bayes_label label, const char *tag, int n)
{
	char k[64];
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof k, "%s-%d", tag, i);
		learn(b, scope, words, label, k);
	}
}

static struct bayes_result classify(struct bayes *b, const char *domain,
				    const char *user, const char *words)
{
	struct filter_tokens t;
	struct bayes_result r;
	struct err err;
	toks(&t, words);
	assert_int_equal(bayes_classify(b, domain, user, &t, NULL, &r, &err), 0);
	filter_tokens_free(&t);
	return r;
}

static void base_set(struct bayes *b)
{
	learn_n(b, "global", "cash prize winner common", STORE_BAYES_SPAM,
		"spam", 10);
	learn_n(b, "global", "meeting report agenda common", STORE_BAYES_HAM,
		"ham", 10);
}

/* ---- maths ------------------------------------------------------------ */

static void test_combine(void **state)
{
	(void)state;
	assert_true(bayes_combine(NULL, 0) == 0.5);
	/* one probability combines to itself */
	double one[] = { 0.73 };
	assert_float_equal(bayes_combine(one, 1), 0.73, 1e-12);
	double two[] = { 0.9, 0.9 };
	assert_float_equal(bayes_combine(two, 2), 0.9623161667528988, 1e-9);
	double three[] = { 0.2, 0.7, 0.95 };
	assert_float_equal(bayes_combine(three, 3), 0.7447607391995409, 1e-9);
	double both[] = { 0.99, 0.01 };
	assert_float_equal(bayes_combine(both, 2), 0.5, 1e-9);
	double v[2000];
	for (size_t i = 0; i < 2000; i++)
		v[i] = 0.99;
	assert_true(bayes_combine(v, 20) > 0.999);
	/* many tokens: no underflow or overflow, still a probability */
	double p = bayes_combine(v, 2000);
	assert_true(p > 0.999 && p <= 1);
	for (size_t i = 0; i < 2000; i++)
		v[i] = i % 2 ? 0.6 : 0.45;
	p = bayes_combine(v, 2000);
	assert_false(isnan(p));
	assert_true(p >= 0 && p <= 1);
	for (size_t i = 0; i < 2000; i++)
		v[i] = 0.0001;
	assert_true(bayes_combine(v, 2000) < 1e-6);
}

static void test_robinson_f(void **state)
{
	struct fx *f = *state;
	base_set(f->b);
	/* "cash" in 10 of 10 spam and no ham: p = 1, n = 10,
	 * f = (0.45 * 0.5 + 10) / 10.45; alone it combines to itself */
	struct bayes_result r = classify(f->b, NULL, NULL, "cash");
	assert_true(r.trained);
	assert_int_equal(r.used, 1);
	assert_float_equal(r.p, 0.9784688995215312, 1e-9);
	assert_int_equal(r.n_tell, 1);
	assert_string_equal(r.tell[0].token, "cash");
	r = classify(f->b, NULL, NULL, "cash prize winner");
	assert_true(r.p > 0.99);
	r = classify(f->b, NULL, NULL, "meeting agenda");
	assert_true(r.p < 0.01);
	/* in both equally: f = 0.5, not used; unknown tokens neither */
	r = classify(f->b, NULL, NULL, "common unknown");
	assert_true(r.trained);
	assert_int_equal(r.used, 0);
	assert_true(r.p == 0.5);
	assert_int_equal(r.n_tell, 0);
	assert_float_equal(r.spam, 10, 0);
	assert_float_equal(r.ham, 10, 0);
}

static void test_untrained(void **state)
{
	struct fx *f = *state;
	struct bayes_result r = classify(f->b, NULL, NULL, "cash");
	assert_false(r.trained);
	assert_true(r.p == 0.5);
	learn_n(f->b, "global", "cash", STORE_BAYES_SPAM, "s", 10);
	learn_n(f->b, "global", "meeting", STORE_BAYES_HAM, "h", 9);
	r = classify(f->b, NULL, NULL, "cash");
	assert_false(r.trained);
	learn_n(f->b, "global", "meeting", STORE_BAYES_HAM, "h2", 1);
	r = classify(f->b, NULL, NULL, "cash");
	assert_true(r.trained);
	assert_true(r.p > 0.9);
}

static void test_max_tokens_and_min_dev(void **state)
{
	struct fx *f = *state;
	struct bayes_params p;
	bayes_params_default(&p);
	p.max_tokens = 2;
	struct bayes *b = bayes_new(f->st, &p);
	base_set(b);
	struct bayes_result r = classify(b, NULL, NULL,
					 "cash prize winner meeting");
	assert_int_equal(r.used, 2);
	bayes_free(&b);
	p.max_tokens = 150;
	p.min_dev = 0.49;	/* f = 0.978 has a deviation of 0.478 */
	b = bayes_new(f->st, &p);
	r = classify(b, NULL, NULL, "cash prize winner meeting");
	assert_int_equal(r.used, 0);
	bayes_free(&b);
}

/* ---- scopes ----------------------------------------------------------- */

static void test_scopes_pool(void **state)
{
	struct fx *f = *state;
	base_set(f->b);
	/* one user marks three newsletters as spam: weighted 4 each */
	learn_n(f->b, "user:ann@a.test", "zorblax gadget", STORE_BAYES_SPAM,
		"news", 3);
	struct bayes_result r = classify(f->b, "a.test", "Ann@A.test",
					 "zorblax gadget");
	assert_true(r.trained);
	assert_float_equal(r.spam, 10 + 3 * 4, 1e-9);
	assert_true(r.p > 0.95);
	/* not for others, nor globally */
	r = classify(f->b, "a.test", "bob@a.test", "zorblax gadget");
	assert_int_equal(r.used, 0);
	r = classify(f->b, NULL, NULL, "zorblax");
	assert_int_equal(r.used, 0);
	/* a domain's ham outweighs one global spam message's word:
	 * b = 1 of 11, g = 2 * 2 of 14, f = 0.26; elsewhere f = 0.845 */
	learn(f->b, "global", "invoice", STORE_BAYES_SPAM, "inv");
	learn_n(f->b, "domain:a.test", "invoice", STORE_BAYES_HAM, "dinv", 2);
	r = classify(f->b, "A.test", NULL, "invoice");
	assert_float_equal(r.p, (0.225 + 5 * (1 / 11.0) /
				 (1 / 11.0 + 4 / 14.0)) / 5.45, 1e-9);
	r = classify(f->b, "b.test", NULL, "invoice");
	assert_float_equal(r.p, 1.225 / 1.45, 1e-9);
}

static void test_scope_names(void **state)
{
	(void)state;
	char out[STORE_BAYES_SCOPE_MAX + 1];
	struct err err;
	assert_int_equal(bayes_scope_name(NULL, NULL, out, sizeof out, &err), 0);
	assert_string_equal(out, "global");
	assert_int_equal(bayes_scope_name("Ex.TEST", NULL, out, sizeof out,
					  &err), 0);
	assert_string_equal(out, "domain:ex.test");
	assert_int_equal(bayes_scope_name("x", "Ann@Ex.test", out, sizeof out,
					  &err), 0);
	assert_string_equal(out, "user:ann@ex.test");
	assert_int_equal(bayes_scope_name(NULL, "", out, sizeof out, &err), -1);
	char long_name[400];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_int_equal(bayes_scope_name(NULL, long_name, out, sizeof out,
					  &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
}

/* ---- learning and the store ------------------------------------------- */

struct seen {
	uint64_t hash[16];
	uint32_t spam[16], ham[16];
	size_t n;
};

static int seen_token(uint64_t hash, uint32_t spam, uint32_t ham, void *arg)
{
	struct seen *s = arg;
	if (s->n < 16) {
		s->hash[s->n] = hash;
		s->spam[s->n] = spam;
		s->ham[s->n] = ham;
	}
	s->n++;
	return 0;
}

static uint32_t seen_count(const struct seen *s, const char *word, bool spam)
{
	uint64_t h = filter_token_hash(word, strlen(word));
	for (size_t i = 0; i < s->n && i < 16; i++)
		if (s->hash[i] == h)
			return spam ? s->spam[i] : s->ham[i];
	return 0;
}

static void load(struct fx *f, const char *scope, struct seen *s,
		 struct store_bayes_scope *sc, int want)
{
	struct err err;
	memset(s, 0, sizeof *s);
	assert_int_equal(store_bayes_load(f->st, scope, sc, seen_token, s,
					  &err), want);
}

static void test_learn_again_and_unlearn(void **state)
{
	struct fx *f = *state;
	struct seen s;
	struct store_bayes_scope sc;
	load(f, "global", &s, &sc, 0);
	assert_int_equal(sc.spam + sc.ham + s.n, 0);

	assert_int_equal(learn(f->b, "global", "a b", STORE_BAYES_SPAM, "m1"),
			 STORE_BAYES_NONE);
	assert_int_equal(learn(f->b, "global", "b c", STORE_BAYES_SPAM, "m2"),
			 STORE_BAYES_NONE);
	load(f, "global", &s, &sc, 1);
	assert_int_equal(sc.spam, 2);
	assert_int_equal(sc.ham, 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(seen_count(&s, "b", true), 2);
	uint64_t gen = sc.generation;

	/* the same message again: nothing changes, not even the generation */
	assert_int_equal(learn(f->b, "global", "a b", STORE_BAYES_SPAM, "m1"),
			 STORE_BAYES_SPAM);
	load(f, "global", &s, &sc, 1);
	assert_int_equal(sc.spam, 2);
	assert_int_equal(sc.generation, gen);
	assert_int_equal(seen_count(&s, "a", true), 1);

	/* the other way: moved, not added */
	assert_int_equal(learn(f->b, "global", "a b", STORE_BAYES_HAM, "m1"),
			 STORE_BAYES_SPAM);
	load(f, "global", &s, &sc, 1);
	assert_int_equal(sc.spam, 1);
	assert_int_equal(sc.ham, 1);
	assert_true(sc.generation > gen);
	assert_int_equal(seen_count(&s, "a", true), 0);
	assert_int_equal(seen_count(&s, "a", false), 1);
	assert_int_equal(seen_count(&s, "b", true), 1);
	assert_int_equal(seen_count(&s, "b", false), 1);

	/* unlearning takes the counts away; a token at 0/0 goes */
	struct filter_tokens t;
	unsigned char key[STORE_BAYES_KEY_LEN];
	enum store_bayes_label was;
	struct err err;
	toks(&t, "a b");
	bayes_msg_key(span_cstr("m1"), key);
	assert_int_equal(bayes_unlearn(f->b, "global", &t, key, &was, &err), 0);
	assert_int_equal(was, STORE_BAYES_HAM);
	assert_int_equal(bayes_unlearn(f->b, "global", &t, key, &was, &err), 0);
	assert_int_equal(was, STORE_BAYES_NONE);
	filter_tokens_free(&t);
	load(f, "global", &s, &sc, 1);
	assert_int_equal(sc.spam, 1);
	assert_int_equal(sc.ham, 0);
	assert_int_equal(s.n, 2);	/* b, c */
	assert_int_equal(seen_count(&s, "a", true) + seen_count(&s, "a", false),
			 0);

	/* scopes listed with their tokens */
	learn(f->b, "user:x@y.test", "q", STORE_BAYES_HAM, "m3");
	struct store_bayes_scope got;
	assert_int_equal(store_bayes_scope_get(f->st, "user:x@y.test", &got,
					       &err), 1);
	assert_int_equal(got.ham, 1);
	assert_int_equal(store_bayes_scope_get(f->st, "user:no@y.test", &got,
					       &err), 0);
}

static int count_scope(const struct store_bayes_scope *s, void *arg)
{
	struct store_bayes_scope *v = arg;
	size_t i = strcmp(s->name, "global") == 0 ? 0 : 1;
	v[i] = *s;
	return 0;
}

static void test_scope_each(void **state)
{
	struct fx *f = *state;
	struct err err;
	learn(f->b, "global", "a b c", STORE_BAYES_SPAM, "1");
	learn(f->b, "domain:d.test", "a", STORE_BAYES_HAM, "2");
	struct store_bayes_scope v[2];
	memset(v, 0, sizeof v);
	assert_int_equal(store_bayes_scope_each(f->st, count_scope, v, &err), 0);
	assert_int_equal(v[0].tokens, 3);
	assert_int_equal(v[0].spam, 1);
	assert_string_equal(v[1].name, "domain:d.test");
	assert_int_equal(v[1].tokens, 1);
	assert_int_equal(v[1].ham, 1);
}

/* A second classifier (another process, as petrelctl beside petreld)
 * sees the learning of the first once its copy is BAYES_CHECK_MS old. */
static void test_other_classifier_notices(void **state)
{
	struct fx *f = *state;
	base_set(f->b);
	struct bayes *other = bayes_new(f->st, NULL);
	struct bayes_result r = classify(other, NULL, NULL, "newword");
	assert_int_equal(r.used, 0);
	learn_n(f->b, "global", "newword", STORE_BAYES_SPAM, "nw", 5);
	/* the learner's own copy is dropped at once */
	r = classify(f->b, NULL, NULL, "newword");
	assert_int_equal(r.used, 1);
	r = classify(other, NULL, NULL, "newword");
	assert_int_equal(r.used, 0);
	usleep((BAYES_CHECK_MS + 100) * 1000);
	r = classify(other, NULL, NULL, "newword");
	assert_int_equal(r.used, 1);
	assert_true(r.p > 0.9);
	bayes_free(&other);
}

/* ---- threads ---------------------------------------------------------- */

struct worker {
	struct bayes *b;
	int bad;
};

static void *classify_loop(void *arg)
{
	struct worker *w = arg;
	struct filter_tokens t;
	toks(&t, "cash prize winner meeting zorblax");
	for (int i = 0; i < 3000; i++) {
		struct bayes_result r;
		struct err err;
		const char *user = i % 3 == 0 ? "u1@t.test" : i % 3 == 1 ?
				   "u2@t.test" : NULL;
		if (bayes_classify(w->b, "t.test", user, &t, NULL, &r, &err) != 0 ||
		    !r.trained || !(r.p >= 0 && r.p <= 1))
			w->bad++;
	}
	filter_tokens_free(&t);
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *f = *state;
	base_set(f->b);
	struct worker w[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		w[i].b = f->b;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, classify_loop,
						&w[i]), 0);
	}
	/* learning meanwhile drops copies the workers hold */
	char k[32];
	for (int i = 0; i < 30; i++) {
		snprintf(k, sizeof k, "t%d", i);
		learn(f->b, i % 2 ? "user:u1@t.test" : "global", "zorblax",
		      STORE_BAYES_SPAM, k);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
}

/* ---- symbols and moves ------------------------------------------------ */

/* bayes_symbols(r) into s: nothing when name is NULL, else that one
 * symbol with that score. True if there is a symbol. */
static bool symbol_is(const struct bayes_result *r,
		      const struct filter_weights *wt, const char *name,
		      double score, struct filter_syms *s)
{
	filter_syms_init(s);
	bayes_symbols(r, wt, s);
	if (name == NULL) {
		assert_int_equal(s->n, 0);
		return false;
	}
	assert_int_equal(s->n, 1);
	assert_string_equal(s->v[0].name, name);
	assert_float_equal(s->v[0].score, score, 1e-9);
	return true;
}

/* With the logistic model the symbol follows the margin, and the margin
 * that earns all of BAYES_SPAM's weight falls as the scopes pooled
 * learned more messages (decision 0046). */
static void test_lr_symbols(void **state)
{
	(void)state;
	struct filter_weights *wt;
	struct err err;
	assert_int_equal(filter_weights_new(NULL, &wt, &err), 0);
	assert_float_equal(bayes_lr_full(600), BAYES_LR_FULL_FEW, 1e-12);
	assert_float_equal(bayes_lr_full(BAYES_LR_FEW), BAYES_LR_FULL_FEW,
			   1e-12);
	assert_float_equal(bayes_lr_full((BAYES_LR_FEW + BAYES_LR_MANY) / 2),
			   (BAYES_LR_FULL_FEW + BAYES_LR_FULL_MANY) / 2, 1e-9);
	assert_float_equal(bayes_lr_full(BAYES_LR_MANY), BAYES_LR_FULL_MANY,
			   1e-12);
	assert_float_equal(bayes_lr_full(1e9), BAYES_LR_FULL_MANY, 1e-12);
	static const struct {
		double spam, ham, margin;
		const char *name;
		double score;
	} v[] = {
		/* few messages learned: 8 x margin / 9 */
		{ 300, 300, 4.5, "BAYES_SPAM", 4.0 },
		{ 300, 300, 9.0, "BAYES_SPAM", 8.0 },
		{ 300, 300, 20.0, "BAYES_SPAM", 8.0 },
		/* many: 8 x margin / 6.5, over the enterprise Junk threshold */
		{ 20000, 10000, 4.5, "BAYES_SPAM", 8.0 * 4.5 / 6.5 },
		{ 20000, 10000, 6.5, "BAYES_SPAM", 8.0 },
		/* half way */
		{ 10000, 6000, 3.0, "BAYES_SPAM", 8.0 * 3.0 / 7.75 },
		/* p = 0.5 and a little below: nothing */
		{ 20000, 10000, 0.0, NULL, 0 },
		{ 20000, 10000, -2.0, NULL, 0 },
		/* BAYES_HAM does not depend on how many were learned */
		{ 300, 300, -4.0, "BAYES_HAM", -1.5 },
		{ 20000, 10000, -4.0, "BAYES_HAM", -1.5 },
		{ 20000, 10000, -30.0, "BAYES_HAM", -3.0 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct bayes_result r;
		memset(&r, 0, sizeof r);
		r.trained = true;
		r.lr = true;
		r.used = 10;
		r.spam = v[i].spam;
		r.ham = v[i].ham;
		r.margin = v[i].margin;
		r.p = 1.0 / (1.0 + exp(-v[i].margin));
		struct filter_syms s;
		if (symbol_is(&r, wt, v[i].name, v[i].score, &s))
			assert_non_null(strstr(s.v[0].detail, "margin="));
	}
	filter_weights_free(&wt);
}

static void test_symbols(void **state)
{
	(void)state;
	struct filter_weights *wt;
	struct err err;
	assert_int_equal(filter_weights_new(NULL, &wt, &err), 0);
	struct bayes_result r;
	memset(&r, 0, sizeof r);
	r.trained = true;
	r.used = 10;
	r.n_tell = 2;
	snprintf(r.tell[0].token, sizeof r.tell[0].token, "cash");
	snprintf(r.tell[1].token, sizeof r.tell[1].token, "prize");
	static const struct { double p; const char *name; double score; } v[] = {
		{ 1.0, "BAYES_SPAM", 8 }, { 0.99, "BAYES_SPAM", 8 },
		{ 0.95, "BAYES_SPAM", 7.2 }, { 0.9, "BAYES_SPAM", 7.2 },
		{ 0.6, "BAYES_SPAM", 6.4 }, { 0.5, "BAYES_SPAM", 4.8 },
		{ 0.3, "BAYES_SPAM", 3.2 }, { 0.2, NULL, 0 },
		{ 0.11, NULL, 0 }, { 0.05, "BAYES_HAM", -2.25 },
		{ 0.0, "BAYES_HAM", -3 },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct filter_syms s;
		r.p = v[i].p;
		if (!symbol_is(&r, wt, v[i].name, v[i].score, &s))
			continue;
		char want[64];
		snprintf(want, sizeof want, "p=%.3f tokens: cash prize", v[i].p);
		assert_string_equal(s.v[0].detail, want);
	}
	/* untrained: nothing, whatever p says */
	struct filter_syms s;
	filter_syms_init(&s);
	r.trained = false;
	r.p = 1;
	bayes_symbols(&r, wt, &s);
	assert_int_equal(s.n, 0);
	/* trained, but no token of the message was known: no evidence */
	r.trained = true;
	r.used = 0;
	r.p = 0.5;
	bayes_symbols(&r, wt, &s);
	assert_int_equal(s.n, 0);
	r.used = 10;
	/* many long tokens: the detail is cut, never overflows */
	r.trained = true;
	r.n_tell = BAYES_TELL_MAX;
	for (size_t i = 0; i < BAYES_TELL_MAX; i++)
		memset(r.tell[i].token, 'x', BAYES_TELL_LEN),
		r.tell[i].token[BAYES_TELL_LEN] = '\0';
	bayes_symbols(&r, wt, &s);
	assert_int_equal(s.n, 1);
	assert_true(strlen(s.v[0].detail) < FILTER_SYM_DETAIL_MAX);
	filter_weights_free(&wt);
}

static void test_label_for_move(void **state)
{
	(void)state;
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_INBOX,
					      STORE_SPECIAL_JUNK, true),
			 STORE_BAYES_SPAM);
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_NONE,
					      STORE_SPECIAL_JUNK, false),
			 STORE_BAYES_SPAM);
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_JUNK,
					      STORE_SPECIAL_INBOX, true),
			 STORE_BAYES_HAM);
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_JUNK,
					      STORE_SPECIAL_NONE, true),
			 STORE_BAYES_HAM);
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_JUNK,
					      STORE_SPECIAL_TRASH, true),
			 STORE_BAYES_NONE);
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_JUNK,
					      STORE_SPECIAL_INBOX, false),
			 STORE_BAYES_NONE);
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_JUNK,
					      STORE_SPECIAL_JUNK, true),
			 STORE_BAYES_NONE);
	assert_int_equal(bayes_label_for_move(STORE_SPECIAL_INBOX,
					      STORE_SPECIAL_ARCHIVE, true),
			 STORE_BAYES_NONE);
}

/* The learner reads messages of a folder, learns them for the user. */
static void test_learner(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t mb;
	assert_int_equal(store_domain_add(f->st, "l.test", &err), 0);
	assert_int_equal(store_mailbox_add(f->st, "ann", "l.test", "x", 0, &mb,
					   &err), 0);
	struct store_folder junk;
	assert_int_equal(store_folder_find(f->st, mb, "Junk", &junk, &err), 1);
	uint32_t uids[3];
	for (int i = 0; i < 3; i++) {
		char msg[200];
		int n = snprintf(msg, sizeof msg, "Subject: offer %d\r\n\r\n"
				 "zorblax gadget number %d\r\n", i, i);
		assert_int_equal(store_append(f->st, junk.id, msg, (size_t)n, 0,
					      NULL, 0, 1700000000, &uids[i],
					      &err), 0);
	}
	struct bayes_learner *l = bayes_learner_new(f->st);
	bayes_learner_submit(l, "user:ann@l.test", junk.id, uids, 3,
			     STORE_BAYES_SPAM);
	/* the same again: no double counts; an unknown UID is skipped */
	bayes_learner_submit(l, "user:ann@l.test", junk.id, uids, 3,
			     STORE_BAYES_SPAM);
	uint32_t none = 999;
	bayes_learner_submit(l, "user:ann@l.test", junk.id, &none, 1,
			     STORE_BAYES_HAM);
	bayes_learner_submit(l, "user:ann@l.test", junk.id, uids, 0,
			     STORE_BAYES_HAM);
	/* back out of Junk: the first one is ham now */
	bayes_learner_submit(l, "user:ann@l.test", junk.id, uids, 1,
			     STORE_BAYES_HAM);
	bayes_learner_free(&l);	/* finishes what is queued */
	assert_null(l);
	struct store_bayes_scope sc;
	assert_int_equal(store_bayes_scope_get(f->st, "user:ann@l.test", &sc,
					       &err), 1);
	assert_int_equal(sc.spam, 2);
	assert_int_equal(sc.ham, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_scope_names),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_lr_symbols),
		cmocka_unit_test(test_label_for_move),
		cmocka_unit_test_setup_teardown(test_robinson_f, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_tokens_and_min_dev,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_scopes_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learn_again_and_unlearn,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_classifier_notices,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learner, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
