/* bayes.h - the statistical classifier (issue 7 item 2, decisions 0037
 * and 0044): Robinson's per-token probabilities combined with Fisher's
 * chi-square method, as bogofilter and SpamBayes do, over the 64-bit
 * token hashes of filter_tokenize() (token.h); and next to the counts a
 * logistic model per scope (lr.h), which gives the probability once the
 * scopes pooled hold BAYES_LR_MIN_MESSAGES learned messages.
 *
 * Counts live in the store (store_bayes_*) per scope: "global" (the
 * installation), "domain:D" and "user:A". A message is classified with
 * the counts of the global scope, its recipient's domain and the user
 * pooled: a message learned in the domain scope counts as domain_weight
 * messages, one learned by the user as user_weight (so a user's own
 * judgements move the tokens they concern without undoing what the
 * installation knows about all the others).
 *
 * Per token w, with b and g its pooled spam and ham counts and NS, NH
 * the pooled messages: p = (b/NS) / (b/NS + g/NH), n = b + g,
 * f(w) = (s*x + n*p) / (s + n). The tokens with |f - 0.5| >= min_dev,
 * at most max_tokens of them (the most extreme), are combined:
 * S = 1 - chi2Q(-2 sum ln(1-f), 2k), H = 1 - chi2Q(-2 sum ln f, 2k),
 * probability = (1 + S - H) / 2 in [0, 1]; 0.5 when no token counts.
 *
 * Threads: a struct bayes is shared by every thread. Classifying reads
 * an immutable in-memory copy of each scope's counts (taken from the
 * store when first needed, and again when the scope's generation in the
 * store changed, checked at most every BAYES_CHECK_MS); learning writes
 * the store in one transaction and drops this struct's copy of the
 * scope. */
#ifndef PETREL_FILTER_BAYES_H
#define PETREL_FILTER_BAYES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"
#include "filter/lr.h"
#include "filter/sym.h"
#include "filter/token.h"
#include "store/store.h"

struct bayes_params {
	double s;		/* strength of the prior x (SpamBayes 0.45) */
	double x;		/* f of a token never seen (0.5) */
	double min_dev;		/* |f - 0.5| a token needs to count (0.1) */
	unsigned max_tokens;	/* most extreme tokens combined (150) */
	double domain_weight;	/* a domain scope message, in global ones */
	double user_weight;	/* a user scope message, in global ones */
	/* pooled spam and pooled ham messages each needed for a result;
	 * below, the result is untrained (0.5, no symbol) */
	double min_messages;
};

/* The defaults above: domain_weight 2, user_weight 4, min_messages 10. */
void bayes_params_default(struct bayes_params *p);

struct bayes;

/* A classifier on st (which must outlive it); p NULL: the defaults.
 * Reads nothing yet. */
struct bayes *bayes_new(struct store *st, const struct bayes_params *p);
void bayes_free(struct bayes **bp);

/* The scope name of a domain or a user address (lower-cased) or, both
 * NULL, "global", into out (STORE_BAYES_SCOPE_MAX + 1 octets). -1 with
 * ERR_PEER for a name that does not fit or is empty. */
int bayes_scope_name(const char *domain, const char *user, char *out,
		     size_t outsz, struct err *err);

/* ---- classifying ------------------------------------------------------ */

#define BAYES_TELL_MAX 6	/* most telling tokens reported */
#define BAYES_TELL_LEN 40	/* octets of each kept */

struct bayes_tell {
	char token[BAYES_TELL_LEN + 1];
	double f;
};

struct bayes_result {
	bool trained;		/* enough messages pooled for a result */
	double p;		/* spam probability; 0.5 when not trained */
	size_t used;		/* tokens combined */
	double spam, ham;	/* pooled (weighted) messages */
	/* the logistic model (lr.h), when any scope pooled has one: its
	 * summed margin, and p is then 1 / (1 + e^-margin) */
	bool lr;
	double margin;
	double p_counts;	/* Robinson-Fisher's p of the counts */
	size_t n_tell;		/* most extreme first */
	struct bayes_tell tell[BAYES_TELL_MAX];
};

/* Classify the message whose tokens are t and features f (lr.h; NULL:
 * the counts alone) for a recipient in domain and user (either may be
 * NULL: not pooled). 0, or -1 with err when the store could not be read
 * (out is then untrained). Thread-safe. */
int bayes_classify(struct bayes *b, const char *domain, const char *user,
		   const struct filter_tokens *t, const struct lr_feats *f,
		   struct bayes_result *out, struct err *err);

/* The chi-square combination of k probabilities f (each in (0, 1)):
 * the formula above; 0.5 for k == 0. For tests and tools. */
double bayes_combine(const double *f, size_t k);

/* ---- learning --------------------------------------------------------- */

/* The key a message is known by: a 128-bit hash (BLAKE2b) of its bytes. */
void bayes_msg_key(struct span msg, unsigned char key[STORE_BAYES_KEY_LEN]);

/* One message to learn: scope (bayes_scope_name), its tokens and key,
 * and the label; was is set to what it was learned as before. */
struct bayes_lesson {
	const char *scope;
	const struct filter_tokens *tokens;
	unsigned char key[STORE_BAYES_KEY_LEN];
	enum store_bayes_label label;	/* STORE_BAYES_NONE: unlearn */
	enum store_bayes_label was;	/* out */
};

/* Learn n lessons in one store transaction (store_bayes_learn: a
 * message learned again the same way changes nothing, the other way
 * moves its counts). 0 or -1 (err). */
int bayes_learn_many(struct bayes *b, struct bayes_lesson *v, size_t n,
		     struct err *err) __attribute__((warn_unused_result));
/* One message; *was_out (may be NULL) as bayes_lesson.was. */
int bayes_learn(struct bayes *b, const char *scope,
		const struct filter_tokens *t,
		enum store_bayes_label label,
		const unsigned char key[STORE_BAYES_KEY_LEN],
		enum store_bayes_label *was_out, struct err *err)
	__attribute__((warn_unused_result));
/* Forget what the message with key was learned as in scope (its tokens
 * are needed to take its counts away). */
int bayes_unlearn(struct bayes *b, const char *scope,
		  const struct filter_tokens *t,
		  const unsigned char key[STORE_BAYES_KEY_LEN],
		  enum store_bayes_label *was_out, struct err *err)
	__attribute__((warn_unused_result));

/* The logistic model learns apart from the counts (decision 0044):
 * bayes_lr_learn for one judgement (a passive-aggressive step that puts
 * the message's summed margin in scope and its parents BAYES_LR_MARGIN
 * on the label's side), bayes_lr_train for a bulk of n messages
 * (BAYES_LR_EPOCHS passes in a seeded shuffled order, so that the result
 * depends on the set, not on the order of the files, the weights
 * averaged over the last pass).
 * One store transaction each. 0 or -1 (err). */
int bayes_lr_learn(struct bayes *b, const char *scope,
		   const struct lr_feats *f, bool spam, struct err *err)
	__attribute__((warn_unused_result));
int bayes_lr_train(struct bayes *b, const char *scope,
		   const struct lr_feats *f, const bool *spam, size_t n,
		   struct err *err) __attribute__((warn_unused_result));

/* ---- symbols ---------------------------------------------------------- */

/* The margin from which BAYES_SPAM has all its weight when the scopes
 * pooled learned `learned` messages (weighted as bayes_result.spam and
 * .ham): the more a model learned from, the further its margin is
 * trusted (limits.h, decision 0046). */
double bayes_lr_full(double learned);

/* With the logistic model (BAYES_LR_MIN_MESSAGES pooled): BAYES_SPAM for
 * margin > 0 (weight x margin / bayes_lr_full(), at most 1), BAYES_HAM
 * below -BAYES_LR_HAM; detail "p=0.998 margin=6.21 tokens: a b c".
 * With the counts: BAYES_SPAM for p > 0.2 (weight x 0.4 above 0.2, 0.6
 * from 0.4, 0.8 from 0.6, 0.9 from 0.9, 1 from 0.99), BAYES_HAM for p <=
 * 0.1 (weight x a factor from 0.5 at 0.1 to 1 at 0); detail
 * "p=0.998 tokens: a b c". Nothing for an untrained result. */
void bayes_symbols(const struct bayes_result *r,
		   const struct filter_weights *w, struct filter_syms *s);

/* ---- learning from folder moves (IMAP) ------------------------------- */

/* What moving (move true) or copying a message from a folder of special
 * use from into one of special use to teaches: SPAM into Junk (from
 * anywhere else), HAM when moved out of Junk into a folder other than
 * Trash, else NONE (nothing to learn). */
enum store_bayes_label bayes_label_for_move(enum store_special from,
					    enum store_special to, bool move);

struct bayes_learner;
/* A helper thread that learns messages of the store for a user: IMAP
 * queues a move into or out of Junk and goes on at once. */
struct bayes_learner *bayes_learner_new(struct store *st);
/* Learns what is queued, then stops; *lp = NULL. */
void bayes_learner_free(struct bayes_learner **lp);
/* Queue: read messages uids (n, copied) of folder_id, learn each as
 * label in scope. Dropped (logged) when more than BAYES_LEARN_QUEUE_MAX
 * batches wait or n is 0. Never blocks. */
void bayes_learner_submit(struct bayes_learner *l, const char *scope,
			  int64_t folder_id, const uint32_t *uids, size_t n,
			  enum store_bayes_label label);

#endif
