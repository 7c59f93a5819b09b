/* iplimit.c - concurrent connections per client address, shared by every
 * worker thread (one mutex; the critical section is a short hash-chain
 * walk). IPv4-mapped IPv6 addresses count as their IPv4 address. */
#include "net/net.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct ip_node {
	struct ip_node *next;
	unsigned char addr[16];
	unsigned count;
};

struct net_iplimit {
	pthread_mutex_t mu;
	size_t nbuckets;	/* power of two */
	struct ip_node **buckets;
};

struct net_iplimit *net_iplimit_new(size_t expected)
{
	struct net_iplimit *l = xcalloc(1, sizeof *l);
	size_t n = 64;
	while (n < expected && n < ((size_t)1 << 24))
		n <<= 1;
	l->nbuckets = n;
	l->buckets = xcalloc(n, sizeof *l->buckets);
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

void net_iplimit_free(struct net_iplimit **lp)
{
	struct net_iplimit *l = *lp;
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nbuckets; i++)
		while (l->buckets[i]) {
			struct ip_node *n = l->buckets[i];
			l->buckets[i] = n->next;
			free(n);
		}
	free(l->buckets);
	pthread_mutex_destroy(&l->mu);
	free(l);
	*lp = NULL;
}

/* 16 bytes per address: IPv4 as ::ffff:a.b.c.d, like a mapped address. */
static bool addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(key, &s6->sin6_addr, 16);
		return true;
	}
	return false;
}

bool net_addr_is_loopback(const struct sockaddr *sa)
{
	unsigned char k[16];
	static const unsigned char v6lo[16] = { [15] = 1 };
	if (!addr_key(sa, k))
		return true;	/* a unix socket is local */
	bool mapped = !memcmp(k, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	return (mapped && k[12] == 127) || !memcmp(k, v6lo, 16);
}

static size_t bucket_of(const struct net_iplimit *l, const unsigned char k[16])
{
	/* FNV-1a; the table is private, so an attacker who controls many
	 * addresses gains at most longer chains for his own addresses. */
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return (size_t)h & (l->nbuckets - 1);
}

bool net_iplimit_acquire(struct net_iplimit *l, const struct sockaddr *sa,
			 unsigned max)
{
	unsigned char k[16];
	if (!addr_key(sa, k))
		return true;
	pthread_mutex_lock(&l->mu);
	struct ip_node **head = &l->buckets[bucket_of(l, k)], *n;
	for (n = *head; n != NULL; n = n->next)
		if (!memcmp(n->addr, k, 16))
			break;
	bool ok = true;
	if (n == NULL) {
		n = xcalloc(1, sizeof *n);
		memcpy(n->addr, k, 16);
		n->next = *head;
		*head = n;
	}
	if (max > 0 && n->count >= max)
		ok = false;	/* n has count >= 1: it stays */
	else
		n->count++;
	pthread_mutex_unlock(&l->mu);
	return ok;
}

void net_iplimit_release(struct net_iplimit *l, const struct sockaddr *sa)
{
	unsigned char k[16];
	if (!addr_key(sa, k))
		return;
	pthread_mutex_lock(&l->mu);
	struct ip_node **pp = &l->buckets[bucket_of(l, k)];
	for (; *pp != NULL; pp = &(*pp)->next) {
		struct ip_node *n = *pp;
		if (memcmp(n->addr, k, 16))
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

unsigned net_iplimit_count(struct net_iplimit *l, const struct sockaddr *sa)
{
	unsigned char k[16];
	unsigned c = 0;
	if (!addr_key(sa, k))
		return 0;
	pthread_mutex_lock(&l->mu);
	for (struct ip_node *n = l->buckets[bucket_of(l, k)]; n; n = n->next)
		if (!memcmp(n->addr, k, 16)) {
			c = n->count;
			break;
		}
	pthread_mutex_unlock(&l->mu);
	return c;
}
