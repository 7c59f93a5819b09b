/* net_private.h - what conn.c and compress.c share; no other folder
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

#endif
