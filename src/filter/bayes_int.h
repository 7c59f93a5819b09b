/* bayes_int.h - what the classifier's files share: struct bayes and the
 * cache of scope snapshots (bayes_snap.c). Nothing outside src/filter/
 * includes it. */
#ifndef PETREL_FILTER_BAYES_INT_H
#define PETREL_FILTER_BAYES_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/limits.h"
#include "filter/bayes.h"
#include "filter/lr.h"

#define BAYES_SCOPE_GLOBAL "global"

struct bayes_slot {
	uint64_t hash;
	uint32_t spam, ham;	/* both 0: an empty slot */
};

/* One scope's counts as they were in the store at generation: never
 * changed once made; freed when its last reference goes. */
struct bayes_snap {
	atomic_size_t refs;
	uint64_t spam, ham;	/* messages learned */
	uint64_t generation;
	size_t n;		/* tokens */
	size_t mask;		/* slots - 1 (a power of two), 0 if v NULL */
	struct bayes_slot *v;
	struct lr_model *lr;	/* the scope's logistic model, or NULL */
};

struct cache_entry;

struct bayes {
	struct store *st;
	struct bayes_params p;
	pthread_mutex_t mu;		/* the cache, its checks and loads */
	size_t n_cache;
	struct cache_entry *cache;	/* BAYES_CACHE_SCOPES */
};

/* The snapshot of scope with a reference for the caller (release it),
 * read or re-read from the store as the header says; NULL with err if
 * the store cannot be read and no older copy is held. */
struct bayes_snap *bayes_snap_acquire(struct bayes *b, const char *scope,
				      struct err *err);
/* The same, asking the store for the scope's generation whatever the
 * time of the last check: for learning, whose step depends on the
 * parents' models as they are now. */
struct bayes_snap *bayes_snap_acquire_now(struct bayes *b, const char *scope,
					  struct err *err);
void bayes_snap_release(struct bayes_snap *s);
/* Counts of hash in s: true if it has any. */
bool bayes_snap_get(const struct bayes_snap *s, uint64_t hash,
		    uint32_t *spam, uint32_t *ham);
/* Drop the copy of scope (after learning into it) / of every scope. */
void bayes_snap_forget(struct bayes *b, const char *scope);
void bayes_snap_clear(struct bayes *b);
/* The size of a cache entry, for bayes_new's allocation. */
size_t bayes_cache_entry_size(void);

#endif
