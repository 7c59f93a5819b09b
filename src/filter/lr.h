/* lr.h - the classifier's discriminative half (decision 0044): logistic
 * regression over hashed binary features, trained by stochastic gradient
 * descent, as the strongest filters of TREC 2007 did (Goodman and Yih;
 * Cormack and Lynam's byte 4-gram LR).
 *
 * Features (lr_features): every distinct 4-octet sequence of the first
 * LR_PREFIX octets of the raw message (header and the start of the body
 * as they were sent: the Received chain, the mailer's quirks, the shape
 * of the MIME structure; signatures' hash values left out, lr_window),
 * every token of filter_tokenize() (decoded
 * text, so base64 bodies and CJK count too) and a bias. Each is hashed
 * into LR_DIM weights; a feature is 1 when present, so the margin is the
 * sum of the present features' weights and p(spam) = 1 / (1 + e^-margin).
 * The hashes are part of the stored format and must never change.
 *
 * Scopes: a model per classifier scope (global, domain, user; bayes.h),
 * added: the margin for a user's mail is the sum of the global, domain
 * and user models' margins. A scope learns only the part its parents got
 * wrong: its gradient is taken at the summed margin.
 *
 * Stored form (store_bayes_model_*): "PLR1", a little-endian u32 count,
 * then count pairs (u32 index, IEEE float weight) in increasing index
 * order. Weights whose magnitude is below LR_KEEP are not stored. */
#ifndef PETREL_FILTER_LR_H
#define PETREL_FILTER_LR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"
#include "filter/token.h"

#define LR_BITS 20
#define LR_DIM (1u << LR_BITS)	/* feature weights; the bias is LR_DIM */
#define LR_PREFIX 2000		/* raw octets whose 4-grams are features */
#define LR_RATE 0.004		/* step of one lesson */
#define LR_KEEP 1e-6f

/* A message's features: distinct indices in increasing order. */
struct lr_feats {
	uint32_t *v;
	size_t n;
};

/* The octets of msg whose 4-grams are features, into out (LR_PREFIX
 * octets): its first LR_PREFIX octets, but for the random values (b=,
 * bh=) of signature fields and the bodies of a provider's opaque fields
 * (lr_window.c). Returns how many. */
size_t lr_window(struct span msg, unsigned char *out);

/* The features of msg with tokens t (t may be NULL: raw octets only). */
void lr_features(struct span msg, const struct filter_tokens *t,
		 struct lr_feats *out);
void lr_feats_free(struct lr_feats *f);

/* A model as read (immutable once made): dense for large ones, sorted
 * pairs for the small models of users and domains. */
struct lr_model;

/* Parse a stored model; NULL with err (ERR_PEER) if it is malformed.
 * len 0: an empty model. */
struct lr_model *lr_model_parse(const void *blob, size_t len,
				struct err *err);
void lr_model_free(struct lr_model **mp);
/* Weights stored, and the octets the model holds in memory. */
size_t lr_model_size(const struct lr_model *m);
size_t lr_model_bytes(const struct lr_model *m);
/* The sum of the weights of f's features (and the bias) in m. */
double lr_model_margin(const struct lr_model *m, const struct lr_feats *f);

/* ---- learning -------------------------------------------------------- */

/* A model being trained: a dense copy, started from a stored one. */
struct lr_train;
/* NULL with err if blob is malformed (len 0: from nothing). */
struct lr_train *lr_train_new(const void *blob, size_t len, struct err *err);
void lr_train_free(struct lr_train **tp);
/* One gradient step for a message with features f, label spam, whose
 * margin in the parent scopes is base: returns the summed margin before
 * the step. */
double lr_train_step(struct lr_train *t, const struct lr_feats *f,
		     double base, bool spam);
/* Averaging: from lr_train_average on, the steps are remembered so
 * that lr_train_average_end makes the weights their mean over those
 * steps (averaged SGD: the last pass's noise cancels; Polyak and
 * Juditsky 1992, as used by Bottou's SGD and Vowpal Wabbit). */
void lr_train_average(struct lr_train *t);
void lr_train_average_end(struct lr_train *t);
/* A passive-aggressive step (Crammer et al. 2006) for a judgement: if
 * the summed margin is not on the label's side by at least margin, the
 * smallest change that puts it there (spread evenly over f's features);
 * else nothing. The next such message follows the judgement, however
 * short it is. Returns true if the model changed. */
bool lr_train_pa(struct lr_train *t, const struct lr_feats *f, double base,
		 bool spam, double margin);
/* The stored form of the model (malloc'd). */
void lr_train_blob(const struct lr_train *t, void **blob, size_t *len);

/* Deterministic shuffle of n indices (seed any): for bulk training, whose
 * result must not depend on the order of the files given. */
void lr_shuffle(size_t *idx, size_t n, uint64_t seed);
/* The next number of a seeded sequence (splitmix64): for choices that
 * must come out the same on every run. */
uint64_t lr_rand(uint64_t *state);

#endif
