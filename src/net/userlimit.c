/* userlimit.c - concurrent authenticated sessions per mailbox, shared by
 * every worker thread of one protocol server (one mutex; the critical
 * section is a short hash-chain walk). Keyed by the store's mailbox id, so
 * "Demo@Example.test" and "demo@example.test" are one user. A session
 * counts from the moment its login is accepted until it closes. */
#include "net/net.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/xmalloc.h"

struct user_node {
	struct user_node *next;
	int64_t id;
	unsigned count;
};

struct net_userlimit {
	pthread_mutex_t mu;
	size_t nbuckets;	/* power of two */
	struct user_node **buckets;
};

struct net_userlimit *net_userlimit_new(size_t expected)
{
	struct net_userlimit *l = xcalloc(1, sizeof *l);
	size_t n = 64;
	while (n < expected && n < ((size_t)1 << 20))
		n <<= 1;
	l->nbuckets = n;
	l->buckets = xcalloc(n, sizeof *l->buckets);
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

void net_userlimit_free(struct net_userlimit **lp)
{
	struct net_userlimit *l = *lp;
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nbuckets; i++)
		while (l->buckets[i]) {
			struct user_node *n = l->buckets[i];
			l->buckets[i] = n->next;
			free(n);
		}
	free(l->buckets);
	pthread_mutex_destroy(&l->mu);
	free(l);
	*lp = NULL;
}

static struct user_node **bucket_of(struct net_userlimit *l, int64_t id)
{
	/* ids are small sequential integers: mix them so that neighbours do
	 * not share a chain (splitmix64's finaliser) */
	uint64_t h = (uint64_t)id;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	h ^= h >> 31;
	return &l->buckets[(size_t)h & (l->nbuckets - 1)];
}

bool net_userlimit_acquire(struct net_userlimit *l, int64_t id, unsigned max)
{
	pthread_mutex_lock(&l->mu);
	struct user_node **head = bucket_of(l, id), *n;
	for (n = *head; n != NULL; n = n->next)
		if (n->id == id)
			break;
	bool ok = max == 0 || n == NULL || n->count < max;
	if (ok) {
		if (n == NULL) {
			n = xcalloc(1, sizeof *n);
			n->id = id;
			n->next = *head;
			*head = n;
		}
		n->count++;
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

void net_userlimit_release(struct net_userlimit *l, int64_t id)
{
	pthread_mutex_lock(&l->mu);
	for (struct user_node **pp = bucket_of(l, id); *pp != NULL; pp = &(*pp)->next) {
		struct user_node *n = *pp;
		if (n->id != id)
			continue;
		if (n->count > 0)
			n->count--;
		if (n->count == 0) {
			*pp = n->next;
			free(n);
		}
		break;
	}
	pthread_mutex_unlock(&l->mu);
}

unsigned net_userlimit_count(struct net_userlimit *l, int64_t id)
{
	unsigned c = 0;
	pthread_mutex_lock(&l->mu);
	for (struct user_node *n = *bucket_of(l, id); n != NULL; n = n->next)
		if (n->id == id) {
			c = n->count;
			break;
		}
	pthread_mutex_unlock(&l->mu);
	return c;
}
