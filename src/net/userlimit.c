/* userlimit.c - concurrent authenticated sessions per mailbox, shared by
 * every worker thread of one protocol server. Keyed by the store's mailbox
 * id, so "Demo@Example.test" and "demo@example.test" are one user. A
 * session counts from the moment its login is accepted until it closes. */
#include "net/net.h"

#include <string.h>

#include "core/xmalloc.h"
#include "net/net_private.h"

struct net_userlimit {
	struct net_counts *t;
};

static void id_key(int64_t id, unsigned char k[NET_COUNT_KEY])
{
	memset(k, 0, NET_COUNT_KEY);
	memcpy(k, &id, sizeof id);
}

struct net_userlimit *net_userlimit_new(size_t expected)
{
	struct net_userlimit *l = xcalloc(1, sizeof *l);
	l->t = net_counts_new(expected < ((size_t)1 << 20) ? expected : ((size_t)1 << 20));
	return l;
}

void net_userlimit_free(struct net_userlimit **lp)
{
	if (*lp == NULL)
		return;
	net_counts_free(&(*lp)->t);
	free(*lp);
	*lp = NULL;
}

bool net_userlimit_acquire(struct net_userlimit *l, int64_t id, unsigned max)
{
	unsigned char k[NET_COUNT_KEY];
	id_key(id, k);
	return net_counts_acquire(l->t, k, max);
}

void net_userlimit_release(struct net_userlimit *l, int64_t id)
{
	unsigned char k[NET_COUNT_KEY];
	id_key(id, k);
	net_counts_release(l->t, k);
}

unsigned net_userlimit_count(struct net_userlimit *l, int64_t id)
{
	unsigned char k[NET_COUNT_KEY];
	id_key(id, k);
	return net_counts_get(l->t, k);
}
