/* bayes_snap.c - the classifier's in-memory copies of scopes' counts:
 * one immutable open-addressing table per scope, shared by reference
 * count between the classifying threads, read from the store when first
 * needed and again when the scope's generation changed.
 *
 * Why a copy and not SQLite lookups: a 10 KB message has 300-1000
 * distinct tokens and up to three scopes; a prepared lookup per token
 * costs a few microseconds (measured: docs/filter.md), a table probe
 * tens of nanoseconds. Loading the global scope of a large corpus takes
 * a fraction of a second, once; scopes of users who never trained are
 * remembered as empty without any table. */
#include "filter/bayes_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct cache_entry {
	char name[STORE_BAYES_SCOPE_MAX + 1];
	struct bayes_snap *snap;	/* one reference held by the cache */
	int64_t checked_ms;		/* last asked the store */
	int64_t used_ms;		/* last classified with */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mix(uint64_t h)
{
	/* token hashes are FNV-1a: mix the high bits into the index */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void snap_put(struct bayes_snap *s, uint64_t hash, uint32_t spam,
		     uint32_t ham)
{
	size_t i = (size_t)mix(hash) & s->mask;
	while (s->v[i].spam != 0 || s->v[i].ham != 0) {
		if (s->v[i].hash == hash)
			break;
		i = (i + 1) & s->mask;
	}
	s->v[i].hash = hash;
	s->v[i].spam = spam;
	s->v[i].ham = ham;
}

static void snap_grow(struct bayes_snap *s)
{
	struct bayes_slot *old = s->v;
	size_t cap = s->mask + 1;
	s->v = xcalloc(cap * 2, sizeof *s->v);
	s->mask = cap * 2 - 1;
	for (size_t i = 0; i < cap; i++)
		if (old[i].spam != 0 || old[i].ham != 0)
			snap_put(s, old[i].hash, old[i].spam, old[i].ham);
	free(old);
}

static int load_token(uint64_t hash, uint32_t spam, uint32_t ham, void *arg)
{
	struct bayes_snap *s = arg;
	if (spam == 0 && ham == 0)
		return 0;
	if ((s->n + 1) * 2 > s->mask + 1)
		snap_grow(s);
	snap_put(s, hash, spam, ham);
	s->n++;
	return 0;
}

bool bayes_snap_get(const struct bayes_snap *s, uint64_t hash,
		    uint32_t *spam, uint32_t *ham)
{
	if (s->v == NULL)
		return false;
	size_t i = (size_t)mix(hash) & s->mask;
	while (s->v[i].spam != 0 || s->v[i].ham != 0) {
		if (s->v[i].hash == hash) {
			*spam = s->v[i].spam;
			*ham = s->v[i].ham;
			return true;
		}
		i = (i + 1) & s->mask;
	}
	return false;
}

void bayes_snap_release(struct bayes_snap *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	free(s->v);
	lr_model_free(&s->lr);
	free(s);
}

/* The scope's logistic model, NULL if it has none or it cannot be read
 * (logged: the counts still classify). */
static struct lr_model *model_load(struct store *st, const char *scope)
{
	void *blob;
	size_t len;
	struct err err;
	struct lr_model *m = NULL;
	if (store_bayes_model_get(st, scope, &blob, &len, NULL, &err) < 0 ||
	    (len > 0 && (m = lr_model_parse(blob, len, &err)) == NULL))
		log_warn("filter", NULL, "op=bayes-model scope=\"%s\" "
			 "error=\"%s\"", scope, err.msg);
	free(blob);
	if (m != NULL && lr_model_size(m) == 0)
		lr_model_free(&m);
	return m;
}

/* A new snapshot of scope from the store (one reference), or NULL. */
static struct bayes_snap *snap_load(struct store *st, const char *scope,
				    struct err *err)
{
	struct bayes_snap *s = xcalloc(1, sizeof *s);
	atomic_init(&s->refs, 1);
	s->mask = 1023;
	s->v = xcalloc(s->mask + 1, sizeof *s->v);
	struct store_bayes_scope sc;
	int rc = store_bayes_load(st, scope, &sc, load_token, s, err);
	if (rc < 0) {
		bayes_snap_release(s);
		return NULL;
	}
	if (rc == 0 || s->n == 0) {
		free(s->v);
		s->v = NULL;
		s->mask = 0;
	}
	s->spam = sc.spam;
	s->ham = sc.ham;
	s->generation = sc.generation;
	if (rc == 1)
		s->lr = model_load(st, scope);
	return s;
}

/* A snapshot's size in tokens' worth (16 octets): its counts and its
 * model (decision 0044). */
static size_t snap_weight(const struct bayes_snap *s)
{
	return s->n + lr_model_bytes(s->lr) / sizeof(struct bayes_slot);
}

static size_t cache_tokens(const struct bayes *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->n_cache; i++)
		n += snap_weight(b->cache[i].snap);
	return n;
}

static void cache_drop(struct bayes *b, size_t i)
{
	bayes_snap_release(b->cache[i].snap);
	b->cache[i] = b->cache[--b->n_cache];
}

/* Under b->mu: make room for a scope of n tokens by dropping the least
 * recently used others (the global scope is kept). */
static void cache_room(struct bayes *b, size_t n)
{
	while (b->n_cache > 0 && (b->n_cache >= BAYES_CACHE_SCOPES ||
				  cache_tokens(b) + n > BAYES_CACHE_TOKENS)) {
		size_t victim = SIZE_MAX;
		for (size_t i = 0; i < b->n_cache; i++)
			if (strcmp(b->cache[i].name, BAYES_SCOPE_GLOBAL) != 0 &&
			    (victim == SIZE_MAX ||
			     b->cache[i].used_ms < b->cache[victim].used_ms))
				victim = i;
		if (victim == SIZE_MAX)
			return;
		cache_drop(b, victim);
	}
}

static struct cache_entry *cache_find(struct bayes *b, const char *scope)
{
	for (size_t i = 0; i < b->n_cache; i++)
		if (strcmp(b->cache[i].name, scope) == 0)
			return &b->cache[i];
	return NULL;
}

/* Under b->mu: put snap (its reference moves to the cache) for scope. */
static void cache_set(struct bayes *b, const char *scope,
		      struct bayes_snap *snap, int64_t now)
{
	struct cache_entry *e = cache_find(b, scope);
	if (e == NULL) {
		cache_room(b, snap_weight(snap));
		if (b->n_cache == BAYES_CACHE_SCOPES) {
			bayes_snap_release(snap);	/* all busy: not kept */
			return;
		}
		e = &b->cache[b->n_cache++];
		memset(e, 0, sizeof *e);
		snprintf(e->name, sizeof e->name, "%s", scope);
	} else {
		bayes_snap_release(e->snap);
	}
	e->snap = snap;
	e->checked_ms = now;
	e->used_ms = now;
}

/* Everything under b->mu, the store questions included: a check costs
 * one small SQLite read per scope and second, a load happens only after
 * learning changed the scope, and holding the lock makes the cache's
 * reference counting plain (an earlier version that asked the store
 * outside the lock freed a snapshot the cache still pointed to when
 * learning dropped a scope meanwhile). A load of a large global scope
 * after `filter train` holds the other classifying threads for its
 * duration, once. */
static struct bayes_snap *acquire(struct bayes *b, const char *scope,
				  bool check, struct err *err)
{
	int64_t now = now_ms();
	struct bayes_snap *s = NULL;
	pthread_mutex_lock(&b->mu);
	struct cache_entry *e = cache_find(b, scope);
	if (e != NULL) {
		e->used_ms = now;
		bool fresh = !check && now - e->checked_ms < BAYES_CHECK_MS;
		if (!fresh) {
			struct store_bayes_scope sc;
			int rc = store_bayes_scope_get(b->st, scope, &sc, err);
			uint64_t gen = rc == 1 ? sc.generation : 0;
			/* a store error: go on with the counts we have */
			fresh = rc < 0 || gen == e->snap->generation;
			if (rc >= 0 && fresh)
				e->checked_ms = now;
		}
		if (fresh) {
			s = e->snap;
			atomic_fetch_add(&s->refs, 1);
			pthread_mutex_unlock(&b->mu);
			return s;
		}
	}
	s = snap_load(b->st, scope, err);
	if (s != NULL) {
		atomic_fetch_add(&s->refs, 1);	/* the cache's */
		cache_set(b, scope, s, now);
	} else if ((e = cache_find(b, scope)) != NULL) {
		s = e->snap;	/* keep the old counts on a store error */
		atomic_fetch_add(&s->refs, 1);
	}
	pthread_mutex_unlock(&b->mu);
	return s;	/* NULL on a first load that failed */
}

struct bayes_snap *bayes_snap_acquire(struct bayes *b, const char *scope,
				      struct err *err)
{
	return acquire(b, scope, false, err);
}

struct bayes_snap *bayes_snap_acquire_now(struct bayes *b, const char *scope,
					  struct err *err)
{
	return acquire(b, scope, true, err);
}

void bayes_snap_forget(struct bayes *b, const char *scope)
{
	pthread_mutex_lock(&b->mu);
	for (size_t i = 0; i < b->n_cache; i++)
		if (strcmp(b->cache[i].name, scope) == 0) {
			cache_drop(b, i);
			break;
		}
	pthread_mutex_unlock(&b->mu);
}

void bayes_snap_clear(struct bayes *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->n_cache > 0)
		cache_drop(b, b->n_cache - 1);
	pthread_mutex_unlock(&b->mu);
}

size_t bayes_cache_entry_size(void)
{
	return sizeof(struct cache_entry);
}
