/* bayes_lr.c - teaching the classifier's logistic model (lr.h, decision
 * 0044): a scope learns what its parents (global for a domain, global
 * and the domain for a user) get wrong, so the parents' margin for each
 * message is taken from the classifier's copies first, then the scope's
 * own model is changed inside one store transaction. */
#include "filter/bayes_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/xmalloc.h"

/* The parent scopes of scope into names (global first): 0, 1 or 2. */
static size_t parents(const char *scope,
		      char names[2][STORE_BAYES_SCOPE_MAX + 1])
{
	if (strcmp(scope, BAYES_SCOPE_GLOBAL) == 0)
		return 0;
	snprintf(names[0], sizeof names[0], "%s", BAYES_SCOPE_GLOBAL);
	const char *at = strrchr(scope, '@');
	if (strncmp(scope, "user:", 5) != 0 || at == NULL || at[1] == '\0')
		return 1;
	if (bayes_scope_name(at + 1, NULL, names[1], sizeof names[1],
			     NULL) != 0)
		return 1;
	return 2;
}

/* The parents' margin of each of n messages into base. 0 or -1. */
static int parent_margins(struct bayes *b, const char *scope,
			  const struct lr_feats *f, size_t n, double *base,
			  struct err *err)
{
	char names[2][STORE_BAYES_SCOPE_MAX + 1];
	size_t np = parents(scope, names);
	for (size_t i = 0; i < n; i++)
		base[i] = 0;
	for (size_t k = 0; k < np; k++) {
		struct bayes_snap *s = bayes_snap_acquire_now(b, names[k], err);
		if (s == NULL)
			return -1;
		for (size_t i = 0; s->lr != NULL && i < n; i++)
			base[i] += lr_model_margin(s->lr, &f[i]);
		bayes_snap_release(s);
	}
	return 0;
}

struct lesson {
	const struct lr_feats *f;
	const bool *spam;
	const double *base;
	size_t n;
	bool bulk;
};

/* Hash of a message's features. */
static uint64_t feats_hash(const struct lr_feats *f)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < f->n; i++) {
		h ^= f->v[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct keyed {
	uint64_t h;
	size_t i;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	return x->h < y->h ? -1 : x->h > y->h;
}

/* 0..n-1 ordered by the messages' contents (then shuffled from there):
 * the model trained does not depend on the order of the files given. */
static size_t *in_content_order(const struct lr_feats *f, size_t n)
{
	struct keyed *k = xreallocarray(NULL, n, sizeof *k);
	for (size_t i = 0; i < n; i++) {
		k[i].h = feats_hash(&f[i]);
		k[i].i = i;
	}
	qsort(k, n, sizeof *k, keyed_cmp);
	size_t *order = xreallocarray(NULL, n, sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = k[i].i;
	free(k);
	return order;
}

static int update(void *arg, const void *old, size_t old_len, void **out,
		  size_t *out_len, struct err *err)
{
	struct lesson *l = arg;
	struct lr_train *t = lr_train_new(old, old_len, err);
	if (t == NULL)
		return -1;
	if (!l->bulk) {
		(void)lr_train_pa(t, &l->f[0], l->base[0], l->spam[0],
				  BAYES_LR_MARGIN);
	} else {
		size_t *order = in_content_order(l->f, l->n);
		for (unsigned e = 0; e < BAYES_LR_EPOCHS; e++) {
			lr_shuffle(order, l->n, e);
			if (e + 1 == BAYES_LR_EPOCHS)
				lr_train_average(t);
			for (size_t i = 0; i < l->n; i++) {
				size_t k = order[i];
				(void)lr_train_step(t, &l->f[k], l->base[k],
						    l->spam[k]);
			}
		}
		lr_train_average_end(t);
		free(order);
	}
	lr_train_blob(t, out, out_len);
	lr_train_free(&t);
	return 0;
}

static int learn(struct bayes *b, const char *scope, struct lesson *l,
		 struct err *err)
{
	double *base = xreallocarray(NULL, l->n ? l->n : 1, sizeof *base);
	int rc = -1;
	if (parent_margins(b, scope, l->f, l->n, base, err) == 0) {
		l->base = base;
		rc = store_bayes_model_update(b->st, scope, update, l, err);
		if (rc == 0)
			bayes_snap_forget(b, scope);
	}
	free(base);
	return rc;
}

int bayes_lr_learn(struct bayes *b, const char *scope,
		   const struct lr_feats *f, bool spam, struct err *err)
{
	struct lesson l = { f, &spam, NULL, 1, false };
	return learn(b, scope, &l, err);
}

int bayes_lr_train(struct bayes *b, const char *scope,
		   const struct lr_feats *f, const bool *spam, size_t n,
		   struct err *err)
{
	if (n == 0)
		return 0;
	struct lesson l = { f, spam, NULL, n, true };
	return learn(b, scope, &l, err);
}
