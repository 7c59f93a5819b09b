/* iplimit.c - concurrent connections per client address, shared by every
 * worker thread (a counts.c table). IPv4-mapped IPv6 addresses count as
 * their IPv4 address. */
#include "net/net.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "net/net_private.h"

struct net_iplimit {
	struct net_counts *t;
};

struct net_iplimit *net_iplimit_new(size_t expected)
{
	struct net_iplimit *l = xcalloc(1, sizeof *l);
	l->t = net_counts_new(expected);
	return l;
}

void net_iplimit_free(struct net_iplimit **lp)
{
	if (*lp == NULL)
		return;
	net_counts_free(&(*lp)->t);
	free(*lp);
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

bool net_addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	return addr_key(sa, key);
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

bool net_iplimit_acquire(struct net_iplimit *l, const struct sockaddr *sa,
			 unsigned max)
{
	unsigned char k[NET_COUNT_KEY];
	if (!addr_key(sa, k))
		return true;
	return net_counts_acquire(l->t, k, max);
}

void net_iplimit_release(struct net_iplimit *l, const struct sockaddr *sa)
{
	unsigned char k[NET_COUNT_KEY];
	if (addr_key(sa, k))
		net_counts_release(l->t, k);
}

unsigned net_iplimit_count(struct net_iplimit *l, const struct sockaddr *sa)
{
	unsigned char k[NET_COUNT_KEY];
	return addr_key(sa, k) ? net_counts_get(l->t, k) : 0;
}
