/* counts.c - a count per 16-byte key, shared by every worker thread (one
 * mutex; the critical section is a short hash-chain walk): connections
 * per client address (iplimit.c) and sessions per user (userlimit.c).
 * A key is in the table only while its count is above zero. */
#include "net/net_private.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct count_node {
	struct count_node *next;
	unsigned char key[NET_COUNT_KEY];
	unsigned count;
};

struct net_counts {
	pthread_mutex_t mu;
	size_t nbuckets;	/* power of two */
	struct count_node **buckets;
};

struct net_counts *net_counts_new(size_t expected)
{
	struct net_counts *t = xcalloc(1, sizeof *t);
	size_t n = 64;
	while (n < expected && n < ((size_t)1 << 24))
		n <<= 1;
	t->nbuckets = n;
	t->buckets = xcalloc(n, sizeof *t->buckets);
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void net_counts_free(struct net_counts **tp)
{
	struct net_counts *t = *tp;
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		while (t->buckets[i]) {
			struct count_node *n = t->buckets[i];
			t->buckets[i] = n->next;
			free(n);
		}
	free(t->buckets);
	pthread_mutex_destroy(&t->mu);
	free(t);
	*tp = NULL;
}

static struct count_node **bucket_of(struct net_counts *t, const unsigned char *k)
{
	/* FNV-1a; the table is private, so a peer that controls many keys
	 * (addresses) gains at most longer chains for its own keys */
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < NET_COUNT_KEY; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return &t->buckets[(size_t)h & (t->nbuckets - 1)];
}

bool net_counts_acquire(struct net_counts *t, const unsigned char *k, unsigned max)
{
	pthread_mutex_lock(&t->mu);
	struct count_node **head = bucket_of(t, k), *n;
	for (n = *head; n != NULL; n = n->next)
		if (!memcmp(n->key, k, NET_COUNT_KEY))
			break;
	bool ok = max == 0 || n == NULL || n->count < max;
	if (ok) {
		if (n == NULL) {
			n = xcalloc(1, sizeof *n);
			memcpy(n->key, k, NET_COUNT_KEY);
			n->next = *head;
			*head = n;
		}
		n->count++;
	}
	pthread_mutex_unlock(&t->mu);
	return ok;
}

void net_counts_release(struct net_counts *t, const unsigned char *k)
{
	pthread_mutex_lock(&t->mu);
	for (struct count_node **pp = bucket_of(t, k); *pp != NULL; pp = &(*pp)->next) {
		struct count_node *n = *pp;
		if (memcmp(n->key, k, NET_COUNT_KEY))
			continue;
		if (n->count > 0)
			n->count--;
		if (n->count == 0) {
			*pp = n->next;
			free(n);
		}
		break;
	}
	pthread_mutex_unlock(&t->mu);
}

unsigned net_counts_get(struct net_counts *t, const unsigned char *k)
{
	unsigned c = 0;
	pthread_mutex_lock(&t->mu);
	for (struct count_node *n = *bucket_of(t, k); n != NULL; n = n->next)
		if (!memcmp(n->key, k, NET_COUNT_KEY)) {
			c = n->count;
			break;
		}
	pthread_mutex_unlock(&t->mu);
	return c;
}
