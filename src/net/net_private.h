/* net_private.h - what the files of src/net share (conn.c and
 * compress.c; iplimit.c and userlimit.c over counts.c); no other folder
 * includes it. */
#ifndef PETREL_NET_PRIVATE_H
#define PETREL_NET_PRIVATE_H

#include <event2/bufferevent.h>

#include "net/conn.h"

/* Input held before we stop reading from the socket (or, under a
 * compression filter, inflating); protocols bound lines and bodies on
 * top of this. */
#define NET_READ_HIGHWATER (256 * 1024)

/* Put a filter bufferevent over c's bufferevent (which it then owns and
 * frees): the connection's callbacks, read bound and write bound move to
 * the filter, timeouts stay on the transport below. ctx is freed with
 * free_ctx when the filter goes, also when this fails. 0 or -1 (nothing
 * changed). */
int net_conn_push_filter(struct net_conn *c, bufferevent_filter_cb in,
			 bufferevent_filter_cb out, void (*free_ctx)(void *),
			 void *ctx);

/* A thread-safe count per NET_COUNT_KEY-byte key (counts.c). */
#define NET_COUNT_KEY 16
struct net_counts;
struct net_counts *net_counts_new(size_t expected);
void net_counts_free(struct net_counts **tp);
/* One more for k; false (nothing counted) if it already has max (0 = no
 * limit). */
bool net_counts_acquire(struct net_counts *t, const unsigned char *k, unsigned max);
void net_counts_release(struct net_counts *t, const unsigned char *k);
unsigned net_counts_get(struct net_counts *t, const unsigned char *k);

#endif
