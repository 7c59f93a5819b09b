/* lr.c - logistic regression over hashed features (lr.h). */
#include "filter/lr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define LR_MAGIC "PLR1"
#define LR_HDR 8
#define LR_PAIR 8
/* Above this many stored weights a model is held dense (4 MiB). */
#define LR_DENSE_FROM (LR_DIM / 16)

/* ---- features --------------------------------------------------------- */

/* Sort v[0..n) (values <= LR_DIM < 2^22) with tmp of n: two LSD radix
 * passes of 11 bits. qsort's comparisons cost 0.1 ms for the ~2,500
 * features of a 10 KB message, most of the model's share of a verdict. */
#define RADIX_BITS 11
#define RADIX (1u << RADIX_BITS)

static void radix_sort(uint32_t *v, uint32_t *tmp, size_t n)
{
	size_t count[RADIX];
	uint32_t *src = v, *dst = tmp;
	for (unsigned shift = 0; shift < 2 * RADIX_BITS; shift += RADIX_BITS) {
		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & (RADIX - 1)]++;
		size_t sum = 0;
		for (size_t b = 0; b < RADIX; b++) {
			size_t c = count[b];
			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & (RADIX - 1)]++] = src[i];
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	/* an even number of passes: the result is back in v */
	_Static_assert(LR_BITS + 1 <= 2 * RADIX_BITS, "radix passes cover the indices");
}

static uint32_t gram_index(const unsigned char *p)
{
	uint32_t x = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	/* Fibonacci hashing of the four octets */
	return (uint32_t)(x * 0x9E3779B1u) >> (32 - LR_BITS);
}

static uint32_t token_index(uint64_t h)
{
	/* a different mix than the 4-grams', so that a token and a 4-gram
	 * sharing a value do not always share a weight */
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return (uint32_t)(h >> (64 - LR_BITS));
}

void lr_features(struct span msg, const struct filter_tokens *t,
		 struct lr_feats *out)
{
	unsigned char win[LR_PREFIX];
	size_t len = lr_window(msg, win);
	size_t grams = len >= 4 ? len - 3 : 0;
	size_t cap = grams + (t != NULL ? t->n : 0) + 1, n = 0;
	uint32_t *v = xmalloc(cap * sizeof *v);
	uint32_t *tmp = xmalloc(cap * sizeof *tmp);
	for (size_t i = 0; i < grams; i++)
		v[n++] = gram_index(win + i);
	for (size_t i = 0; t != NULL && i < t->n; i++)
		v[n++] = token_index(t->v[i].hash);
	v[n++] = LR_DIM;	/* the bias */
	radix_sort(v, tmp, n);
	free(tmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	out->v = v;
	out->n = k;
}

void lr_feats_free(struct lr_feats *f)
{
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* ---- the stored form ------------------------------------------------- */

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t x)
{
	p[0] = (unsigned char)x;
	p[1] = (unsigned char)(x >> 8);
	p[2] = (unsigned char)(x >> 16);
	p[3] = (unsigned char)(x >> 24);
}

static float get_f32(const unsigned char *p)
{
	uint32_t x = get32(p);
	float f;
	memcpy(&f, &x, sizeof f);
	return f;
}

/* Walk a stored model: fn(arg, index, weight) for each pair. 0, or -1
 * with err when it is malformed (nothing is trusted: it could have been
 * written by another version or damaged). */
static int blob_each(const void *blob, size_t len,
		     void (*fn)(void *arg, uint32_t i, float w), void *arg,
		     size_t *count, struct err *err)
{
	const unsigned char *p = blob;
	*count = 0;
	if (len == 0)
		return 0;
	if (len < LR_HDR || memcmp(p, LR_MAGIC, 4) != 0)
		return err_set(err, ERR_PEER, 0, "", "classifier model: not "
			       "a " LR_MAGIC " model");
	uint32_t n = get32(p + 4);
	if ((len - LR_HDR) / LR_PAIR != n || (len - LR_HDR) % LR_PAIR != 0)
		return err_set(err, ERR_PEER, 0, "", "classifier model: "
			       "length does not match its count");
	int64_t last = -1;
	for (uint32_t k = 0; k < n; k++) {
		const unsigned char *q = p + LR_HDR + (size_t)k * LR_PAIR;
		uint32_t i = get32(q);
		float w = get_f32(q + 4);
		if ((int64_t)i <= last || i > LR_DIM || !isfinite(w))
			return err_set(err, ERR_PEER, 0, "", "classifier "
				       "model: bad weight %u", k);
		last = i;
		if (fn != NULL)
			fn(arg, i, w);
	}
	*count = n;
	return 0;
}

/* ---- models as read --------------------------------------------------- */

struct lr_model {
	size_t n;
	float *dense;		/* LR_DIM + 1, or NULL */
	uint32_t *idx;		/* n, increasing, when not dense */
	float *w;
};

struct fill {
	struct lr_model *m;
	size_t k;
};

static void fill_one(void *arg, uint32_t i, float w)
{
	struct fill *f = arg;
	if (f->m->dense != NULL) {
		f->m->dense[i] = w;
		return;
	}
	f->m->idx[f->k] = i;
	f->m->w[f->k++] = w;
}

struct lr_model *lr_model_parse(const void *blob, size_t len,
				struct err *err)
{
	size_t n;
	if (blob_each(blob, len, NULL, NULL, &n, err) != 0)
		return NULL;
	struct lr_model *m = xcalloc(1, sizeof *m);
	m->n = n;
	if (n >= LR_DENSE_FROM) {
		m->dense = xcalloc(LR_DIM + 1, sizeof *m->dense);
	} else if (n > 0) {
		m->idx = xmalloc(n * sizeof *m->idx);
		m->w = xmalloc(n * sizeof *m->w);
	}
	struct fill f = { m, 0 };
	if (n > 0 && blob_each(blob, len, fill_one, &f, &n, err) != 0)
		lr_model_free(&m);	/* cannot happen: checked above */
	return m;
}

void lr_model_free(struct lr_model **mp)
{
	struct lr_model *m = *mp;
	if (m == NULL)
		return;
	free(m->dense);
	free(m->idx);
	free(m->w);
	free(m);
	*mp = NULL;
}

size_t lr_model_size(const struct lr_model *m)
{
	return m != NULL ? m->n : 0;
}

size_t lr_model_bytes(const struct lr_model *m)
{
	if (m == NULL)
		return 0;
	return sizeof *m + (m->dense != NULL ?
			    (size_t)(LR_DIM + 1) * sizeof *m->dense :
			    m->n * (sizeof *m->idx + sizeof *m->w));
}

double lr_model_margin(const struct lr_model *m, const struct lr_feats *f)
{
	double z = 0;
	if (m == NULL || m->n == 0)
		return 0;
	if (m->dense != NULL) {
		for (size_t i = 0; i < f->n; i++)
			z += m->dense[f->v[i]];
		return z;
	}
	/* both sorted: a merge */
	size_t a = 0, b = 0;
	while (a < f->n && b < m->n) {
		if (f->v[a] < m->idx[b]) {
			a++;
		} else if (f->v[a] > m->idx[b]) {
			b++;
		} else {
			z += m->w[b];
			a++;
			b++;
		}
	}
	return z;
}

/* ---- training --------------------------------------------------------- */

struct lr_train {
	float *w;	/* LR_DIM + 1 */
	/* averaging (lr_train_average): u sums (steps before) x change,
	 * so that the mean of the weights after each of the steps is
	 * w - u / steps */
	double *u;
	double steps;
};

static void train_fill(void *arg, uint32_t i, float w)
{
	((struct lr_train *)arg)->w[i] = w;
}

struct lr_train *lr_train_new(const void *blob, size_t len, struct err *err)
{
	size_t n;
	if (blob_each(blob, len, NULL, NULL, &n, err) != 0)
		return NULL;
	struct lr_train *t = xcalloc(1, sizeof *t);
	t->w = xcalloc(LR_DIM + 1, sizeof *t->w);
	(void)blob_each(blob, len, train_fill, t, &n, err);
	return t;
}

void lr_train_free(struct lr_train **tp)
{
	if (*tp == NULL)
		return;
	free((*tp)->w);
	free((*tp)->u);
	free(*tp);
	*tp = NULL;
}

static double sigmoid(double z)
{
	if (z > 30)
		z = 30;
	else if (z < -30)
		z = -30;
	return 1.0 / (1.0 + exp(-z));
}

static double own_margin(const struct lr_train *t, const struct lr_feats *f)
{
	double z = 0;
	for (size_t i = 0; i < f->n; i++)
		z += t->w[f->v[i]];
	return z;
}

double lr_train_step(struct lr_train *t, const struct lr_feats *f,
		     double base, bool spam)
{
	double z = base + own_margin(t, f);
	double g = LR_RATE * ((spam ? 1.0 : 0.0) - sigmoid(z));
	for (size_t i = 0; i < f->n; i++)
		t->w[f->v[i]] += (float)g;
	if (t->u != NULL) {
		double cg = t->steps * g;
		for (size_t i = 0; i < f->n; i++)
			t->u[f->v[i]] += cg;
		t->steps += 1;
	}
	return z;
}

void lr_train_average(struct lr_train *t)
{
	free(t->u);
	t->u = xcalloc(LR_DIM + 1, sizeof *t->u);
	t->steps = 0;
}

void lr_train_average_end(struct lr_train *t)
{
	for (size_t i = 0; t->u != NULL && t->steps > 0 && i <= LR_DIM; i++)
		if (t->u[i] != 0)
			t->w[i] -= (float)(t->u[i] / t->steps);
	free(t->u);
	t->u = NULL;
}

bool lr_train_pa(struct lr_train *t, const struct lr_feats *f, double base,
		 bool spam, double margin)
{
	double z = base + own_margin(t, f);
	double want = spam ? margin : -margin;
	if (f->n == 0 || (spam && z >= want) || (!spam && z <= want))
		return false;
	/* binary features: |x|^2 is their number; a little over the
	 * exact share so that float rounding cannot leave it short */
	float d = (float)((want - z) / (double)f->n * (1 + 1e-6));
	for (size_t i = 0; i < f->n; i++)
		t->w[f->v[i]] += d;
	return true;
}

void lr_train_blob(const struct lr_train *t, void **blob, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i <= LR_DIM; i++)
		if (fabsf(t->w[i]) >= LR_KEEP)
			n++;
	unsigned char *p = xmalloc(LR_HDR + n * LR_PAIR);
	memcpy(p, LR_MAGIC, 4);
	put32(p + 4, (uint32_t)n);
	size_t k = LR_HDR;
	for (uint32_t i = 0; i <= LR_DIM; i++) {
		if (fabsf(t->w[i]) < LR_KEEP)
			continue;
		uint32_t x;
		memcpy(&x, &t->w[i], sizeof x);
		put32(p + k, i);
		put32(p + k + 4, x);
		k += LR_PAIR;
	}
	*blob = p;
	*len = k;
}

uint64_t lr_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void lr_shuffle(size_t *idx, size_t n, uint64_t seed)
{
	uint64_t s = seed ^ 0x9E3779B97F4A7C15ULL;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(lr_rand(&s) % i);
		size_t tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
}
