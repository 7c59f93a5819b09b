/* rep_cache.c - the threat-intelligence answers already had: a bounded
 * LRU keyed by the 64-bit hash of the URL, one mutex. Entries live in one
 * array allocated at creation (no allocation per answer); a hash table of
 * chains finds them, a doubly linked list orders them by use. Clean and
 * malicious answers are both kept; "unknown" never is. */
#include "filter/rep_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define NIL UINT32_MAX

struct entry {
	uint64_t key;
	time_t at;
	enum rep_verdict v;
	char cat[REP_CATEGORY_MAX];
	uint32_t prev, next;	/* LRU: head is the most recent */
	uint32_t chain;		/* next in the bucket */
};

struct rep_cache {
	pthread_mutex_t mu;
	unsigned ttl;
	uint32_t cap, n;
	uint32_t head, tail;
	uint32_t nbuckets;	/* power of two */
	uint32_t *bucket;
	struct entry *e;
};

struct rep_cache *rep_cache_new(size_t cap, unsigned ttl)
{
	struct rep_cache *c = xcalloc(1, sizeof *c);

	if (cap == 0)
		cap = 1;
	if (cap > FILTER_REP_TI_CACHE_MAX)
		cap = FILTER_REP_TI_CACHE_MAX;
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		abort();	/* only fails without memory */
	c->ttl = ttl;
	c->cap = (uint32_t)cap;
	c->head = c->tail = NIL;
	c->nbuckets = 16;
	while (c->nbuckets < c->cap)
		c->nbuckets *= 2;
	c->bucket = xreallocarray(NULL, c->nbuckets, sizeof *c->bucket);
	for (uint32_t i = 0; i < c->nbuckets; i++)
		c->bucket[i] = NIL;
	c->e = xcalloc(cap, sizeof *c->e);
	return c;
}

void rep_cache_free(struct rep_cache **cp)
{
	struct rep_cache *c = *cp;

	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->bucket);
	free(c->e);
	free(c);
	*cp = NULL;
}

static uint32_t *slot_of(struct rep_cache *c, uint64_t key)
{
	/* the key is a hash already; fold its high bits in */
	return &c->bucket[(uint32_t)(key ^ (key >> 32)) & (c->nbuckets - 1)];
}

static uint32_t find(struct rep_cache *c, uint64_t key)
{
	for (uint32_t i = *slot_of(c, key); i != NIL; i = c->e[i].chain)
		if (c->e[i].key == key)
			return i;
	return NIL;
}

static void unlink_lru(struct rep_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];

	if (e->prev != NIL)
		c->e[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != NIL)
		c->e[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

static void push_front(struct rep_cache *c, uint32_t i)
{
	c->e[i].prev = NIL;
	c->e[i].next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static void unchain(struct rep_cache *c, uint32_t i)
{
	uint32_t *p = slot_of(c, c->e[i].key);

	while (*p != i)
		p = &c->e[*p].chain;
	*p = c->e[i].chain;
}

bool rep_cache_get(struct rep_cache *c, uint64_t key, time_t now,
		   enum rep_verdict *v, char cat[REP_CATEGORY_MAX])
{
	bool hit = false;
	uint32_t i;

	pthread_mutex_lock(&c->mu);
	i = find(c, key);
	if (i != NIL && now >= c->e[i].at &&
	    (uint64_t)(now - c->e[i].at) < c->ttl) {
		*v = c->e[i].v;
		memcpy(cat, c->e[i].cat, REP_CATEGORY_MAX);
		unlink_lru(c, i);
		push_front(c, i);
		hit = true;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void rep_cache_put(struct rep_cache *c, uint64_t key, time_t now,
		   enum rep_verdict v, const char *cat)
{
	uint32_t i;

	if (v == REP_UNKNOWN)
		return;
	pthread_mutex_lock(&c->mu);
	i = find(c, key);
	if (i != NIL) {
		unlink_lru(c, i);
	} else if (c->n < c->cap) {
		i = c->n++;
		c->e[i].key = key;
		c->e[i].chain = *slot_of(c, key);
		*slot_of(c, key) = i;
	} else {
		/* the least recently used makes room */
		i = c->tail;
		unlink_lru(c, i);
		unchain(c, i);
		c->e[i].key = key;
		c->e[i].chain = *slot_of(c, key);
		*slot_of(c, key) = i;
	}
	c->e[i].at = now;
	c->e[i].v = v;
	memset(c->e[i].cat, 0, REP_CATEGORY_MAX);
	if (cat != NULL)
		memcpy(c->e[i].cat, cat, strnlen(cat, REP_CATEGORY_MAX - 1));
	push_front(c, i);
	pthread_mutex_unlock(&c->mu);
}

size_t rep_cache_count(struct rep_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}
