/* bayes.c - classifying with the Robinson-Fisher method (bayes.h has
 * the formulas): pooling the scopes' counts, f(w) per token, choosing
 * the most extreme tokens and the chi-square combination. Learning is
 * bayes_learn.c, the in-memory counts bayes_snap.c. */
#include "filter/bayes_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "filter/sym_table.h"

void bayes_params_default(struct bayes_params *p)
{
	p->s = 0.45;
	p->x = 0.5;
	p->min_dev = 0.1;
	p->max_tokens = 150;
	p->domain_weight = 2;
	p->user_weight = 4;
	p->min_messages = 10;
}

struct bayes *bayes_new(struct store *st, const struct bayes_params *p)
{
	struct bayes *b = xcalloc(1, sizeof *b);
	b->st = st;
	if (p != NULL)
		b->p = *p;
	else
		bayes_params_default(&b->p);
	pthread_mutex_init(&b->mu, NULL);
	b->cache = xcalloc(BAYES_CACHE_SCOPES, bayes_cache_entry_size());
	return b;
}

void bayes_free(struct bayes **bp)
{
	struct bayes *b = *bp;
	if (b == NULL)
		return;
	bayes_snap_clear(b);
	pthread_mutex_destroy(&b->mu);
	free(b->cache);
	free(b);
	*bp = NULL;
}

int bayes_scope_name(const char *domain, const char *user, char *out,
		     size_t outsz, struct err *err)
{
	const char *kind = user != NULL ? "user:" : domain != NULL ?
			   "domain:" : NULL;
	const char *name = user != NULL ? user : domain;
	if (kind == NULL) {
		snprintf(out, outsz, "%s", BAYES_SCOPE_GLOBAL);
		return 0;
	}
	size_t n = strlen(name), k = strlen(kind);
	if (n == 0 || k + n + 1 > outsz || k + n > STORE_BAYES_SCOPE_MAX)
		return err_set(err, ERR_PEER, 0, "", "bad %s name for the "
			       "classifier", user != NULL ? "user" : "domain");
	memcpy(out, kind, k);
	for (size_t i = 0; i < n; i++)
		out[k + i] = (char)tolower((unsigned char)name[i]);
	out[k + n] = '\0';
	return 0;
}

/* ---- the chi-square combination --------------------------------------- */

/* chi2Q(x2, v): the probability that a chi-square variable with v (even)
 * degrees of freedom exceeds x2, for the sum of k = v/2 terms
 * e^-m m^i / i! (m = x2/2), summed in logarithms so that neither
 * e^-m underflowing nor m^i overflowing spoils it for large k. */
static double chi2q(double x2, size_t v)
{
	double m = x2 / 2;
	size_t k = v / 2;
	if (m <= 0)
		return 1;
	size_t top = (size_t)m < k - 1 ? (size_t)m : k - 1;
	double lm = log(m);
	double peak = -m + (double)top * lm - lgamma((double)top + 1);
	double sum = 0, lt = -m;
	for (size_t i = 0; i < k; i++) {
		if (i > 0)
			lt += lm - log((double)i);
		sum += exp(lt - peak);
	}
	double q = exp(peak + log(sum));
	return q > 1 ? 1 : q;
}

double bayes_combine(const double *f, size_t k)
{
	if (k == 0)
		return 0.5;
	double ls = 0, lh = 0;
	for (size_t i = 0; i < k; i++) {
		ls += log(1 - f[i]);
		lh += log(f[i]);
	}
	double s = 1 - chi2q(-2 * ls, 2 * k);
	double h = 1 - chi2q(-2 * lh, 2 * k);
	double p = (1 + s - h) / 2;
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* ---- classifying ------------------------------------------------------ */

struct clue {
	double f, dev;
	size_t token;	/* index in the filter_tokens */
};

static int clue_cmp(const void *a, const void *b)
{
	const struct clue *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? 1 : -1;
	/* equal deviation: first seen first, so the choice is stable */
	return x->token < y->token ? -1 : x->token > y->token;
}

#define LEVELS 3

static void tell_fill(struct bayes_result *out, const struct filter_tokens *t,
		      const struct clue *c, size_t n)
{
	for (size_t i = 0; i < n && out->n_tell < BAYES_TELL_MAX; i++) {
		struct bayes_tell *tl = &out->tell[out->n_tell++];
		snprintf(tl->token, sizeof tl->token, "%s",
			 filter_token_str(t, c[i].token));
		tl->f = c[i].f;
	}
}

int bayes_classify(struct bayes *b, const char *domain, const char *user,
		   const struct filter_tokens *t, const struct lr_feats *f,
		   struct bayes_result *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	out->p = 0.5;
	char names[LEVELS][STORE_BAYES_SCOPE_MAX + 1];
	double w[LEVELS] = { 1, b->p.domain_weight, b->p.user_weight };
	struct bayes_snap *s[LEVELS] = { NULL, NULL, NULL };
	snprintf(names[0], sizeof names[0], "%s", BAYES_SCOPE_GLOBAL);
	bool want[LEVELS] = {
		true,
		domain != NULL && bayes_scope_name(domain, NULL, names[1],
						   sizeof names[1], NULL) == 0,
		user != NULL && bayes_scope_name(NULL, user, names[2],
						 sizeof names[2], NULL) == 0,
	};
	int rc = 0;
	for (int l = 0; l < LEVELS; l++) {
		if (!want[l])
			continue;
		s[l] = bayes_snap_acquire(b, names[l], err);
		if (s[l] == NULL) {
			rc = -1;
			goto out;
		}
		out->spam += w[l] * (double)s[l]->spam;
		out->ham += w[l] * (double)s[l]->ham;
	}
	/* the model's margin even when the counts are too few for a verdict
	 * (then it is only reported, bayes_symbols says nothing) */
	for (int l = 0; l < LEVELS && f != NULL; l++)
		if (s[l] != NULL && s[l]->lr != NULL) {
			out->lr = true;
			out->margin += lr_model_margin(s[l]->lr, f);
		}
	if (out->spam < b->p.min_messages || out->ham < b->p.min_messages)
		goto out;
	out->trained = true;

	struct clue *c = xreallocarray(NULL, t->n ? t->n : 1, sizeof *c);
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		double sp = 0, hm = 0;
		for (int l = 0; l < LEVELS; l++) {
			uint32_t a, g;
			if (s[l] != NULL &&
			    bayes_snap_get(s[l], t->v[i].hash, &a, &g)) {
				sp += w[l] * a;
				hm += w[l] * g;
			}
		}
		if (sp + hm <= 0)
			continue;
		double bs = sp / out->spam, gs = hm / out->ham;
		double p = bs / (bs + gs), n = sp + hm;
		double ft = (b->p.s * b->p.x + n * p) / (b->p.s + n);
		double dev = fabs(ft - 0.5);
		if (dev < b->p.min_dev)
			continue;
		c[k].f = ft;
		c[k].dev = dev;
		c[k].token = i;
		k++;
	}
	qsort(c, k, sizeof *c, clue_cmp);
	if (k > b->p.max_tokens)
		k = b->p.max_tokens;
	double *fv = xreallocarray(NULL, k ? k : 1, sizeof *fv);
	for (size_t i = 0; i < k; i++)
		fv[i] = c[i].f;
	out->p = out->p_counts = bayes_combine(fv, k);
	out->used = k;
	tell_fill(out, t, c, k);
	free(fv);
	free(c);
	if (out->lr && out->spam + out->ham >= BAYES_LR_MIN_MESSAGES)
		out->p = 1.0 / (1.0 + exp(-fmax(-30, fmin(30, out->margin))));
out:
	for (int l = 0; l < LEVELS; l++)
		bayes_snap_release(s[l]);
	return rc;
}

/* ---- symbols ---------------------------------------------------------- */

const struct filter_sym_def filter_syms_bayes[] = {
	{ "BAYES_SPAM", 8, "the statistical classifier says spam (its "
	  "logistic model: margin / 9 of the weight, down to margin / 6.5 "
	  "from 24,000 messages learned; with the counts "
	  "alone, under 500 messages learned: probability over 0.2: 0.4 "
	  "of the weight, 0.6 from 0.4, 0.8 from 0.6, 0.9 from 0.9, all of "
	  "it from 0.99)" },
	{ "BAYES_HAM", -3, "the statistical classifier says not spam "
	  "(model margin below -2, full at -6; counts: probability 0.1 "
	  "and below, full weight at 0)" },
};

const size_t filter_syms_bayes_n =
	sizeof(filter_syms_bayes) / sizeof(filter_syms_bayes[0]);

/* The most telling tokens, space-separated, into out. */
static void tell_text(const struct bayes_result *r, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->n_tell; i++) {
		int n = snprintf(out + len, size - len, "%s%s",
				 i ? " " : "", r->tell[i].token);
		if (n < 0 || (size_t)n >= size - len) {
			out[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
}

double bayes_lr_full(double learned)
{
	if (learned <= BAYES_LR_FEW)
		return BAYES_LR_FULL_FEW;
	if (learned >= BAYES_LR_MANY)
		return BAYES_LR_FULL_MANY;
	return BAYES_LR_FULL_FEW + (BAYES_LR_FULL_MANY - BAYES_LR_FULL_FEW) *
	       (learned - BAYES_LR_FEW) / (BAYES_LR_MANY - BAYES_LR_FEW);
}

/* With the logistic model the symbol follows its margin continuously,
 * so that the total keeps the model's ranking (bands would tie every
 * message inside one): BAYES_SPAM gets margin / bayes_lr_full() of its
 * weight (all of it from there up), BAYES_HAM its weight times
 * (-margin - BAYES_LR_HAM) / BAYES_LR_HAM_SPAN below -BAYES_LR_HAM.
 * A margin of 0 is p = 0.5: nothing to say. */
static void lr_symbols(const struct bayes_result *r,
		       const struct filter_weights *w, struct filter_syms *s)
{
	char tokens[FILTER_SYM_DETAIL_MAX];
	double m = r->margin, factor;
	const char *name;
	if (m > 0) {
		name = "BAYES_SPAM";
		factor = m / bayes_lr_full(r->spam + r->ham);
	} else if (m < -BAYES_LR_HAM) {
		name = "BAYES_HAM";
		factor = (-m - BAYES_LR_HAM) / BAYES_LR_HAM_SPAN;
	} else {
		return;
	}
	tell_text(r, tokens, sizeof tokens);
	filter_sym_add(s, w, name, factor > 1 ? 1 : factor,
		       "p=%.3f margin=%.2f tokens: %s", r->p, m, tokens);
}

void bayes_symbols(const struct bayes_result *r,
		   const struct filter_weights *w, struct filter_syms *s)
{
	if (r->trained && r->lr &&
	    r->spam + r->ham >= BAYES_LR_MIN_MESSAGES) {
		lr_symbols(r, w, s);
		return;
	}
	if (!r->trained || r->used == 0)
		return;		/* no evidence either way: p is 0.5 */
	const char *name;
	double factor;
	/* Bands of the spam probability, as SpamAssassin's BAYES_50 ..
	 * BAYES_99 rules, cut where SpamBayes puts its cutoffs: above its
	 * ham_cutoff 0.20 a message is no longer ham but "unsure", from its
	 * spam_cutoff 0.90 it is spam. Chi-square combining puts nearly all
	 * ham near 0 and spreads spam over the rest (a spam message often
	 * carries ham-like words too), so everything above 0.2 counts, more
	 * the surer it is. With the default weight 8: 3.2 above 0.2, 4.8
	 * from 0.4 (Junk at enterprise with any other signal), 6.4 (Junk at
	 * both standard and enterprise) from 0.6, 7.2 from 0.9, 8 from
	 * 0.99; quarantine and refusal need other signals as well. */
	static const struct { double p, factor; } band[] = {
		{ 0.99, 1.0 }, { 0.9, 0.9 }, { 0.6, 0.8 }, { 0.4, 0.6 },
		{ 0.2, 0.4 },
	};
	factor = 0;
	for (size_t i = 0; i < sizeof band / sizeof band[0]; i++)
		if (r->p >= band[i].p) {
			factor = band[i].factor;
			break;
		}
	if (factor > 0 && r->p > 0.2) {
		name = "BAYES_SPAM";
	} else if (r->p <= 0.1) {
		name = "BAYES_HAM";
		factor = 0.5 + 0.5 * (0.1 - r->p) / 0.1;
	} else {
		return;
	}
	char tokens[FILTER_SYM_DETAIL_MAX];
	tell_text(r, tokens, sizeof tokens);
	filter_sym_add(s, w, name, factor > 1 ? 1 : factor,
		       "p=%.3f tokens: %s", r->p, tokens);
}
