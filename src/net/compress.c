/* compress.c - COMPRESS=DEFLATE (RFC 4978) for any line protocol: a
 * libevent filter bufferevent that inflates what the peer sends and
 * deflates what we send, raw deflate (RFC 1951) both ways. Each batch of
 * output ends with a sync flush so the peer always sees whole replies.
 * It does not decide when compression may start: the protocol does. */
#define ZLIB_CONST
#include "net/conn.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/net_private.h"

/* Bytes inflated or deflated per zlib call. */
#define ZCHUNK 16384

struct net_deflate {
	struct net_conn *c;
	z_stream in;		/* inflate: peer to us */
	z_stream out;		/* deflate: us to peer */
	bool broken;		/* a stream failed: the connection goes */
};

static void deflate_free(void *arg)
{
	struct net_deflate *z = arg;
	inflateEnd(&z->in);
	deflateEnd(&z->out);
	free(z);
}

/* The filters run inside libevent; the connection is closed through its
 * event callback, later, as for a socket error. */
static enum bufferevent_filter_result broken(struct net_deflate *z,
					     const char *why)
{
	if (!z->broken) {
		z->broken = true;
		log_info(z->c->proto_ops->name, z->c->id,
			 "compress_error ip=%s error=\"%s\"", z->c->ip, why);
		bufferevent_trigger_event(z->c->bev, BEV_EVENT_ERROR,
					  BEV_TRIG_DEFER_CALLBACKS);
	}
	return BEV_ERROR;
}

/* Peer to us. lim is the room left under the read bound of the filter's
 * input (the same NET_READ_HIGHWATER as clear input): inflated bytes
 * never go past it, whatever the ratio, and the rest stays compressed
 * in the transport until the protocol has read. */
static enum bufferevent_filter_result
inflate_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
	       enum bufferevent_flush_mode mode, void *arg)
{
	(void)mode;
	struct net_deflate *z = arg;
	if (z->broken) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_ERROR;
	}
	/* lim < 0 when libevent flushes or finishes (it then does not
	 * check the bound itself): hold to it here */
	size_t room;
	if (lim >= 0)
		room = (size_t)lim;
	else
		room = evbuffer_get_length(dst) < NET_READ_HIGHWATER
			       ? NET_READ_HIGHWATER - evbuffer_get_length(dst) : 0;
	bool progress = false;
	while (room > 0 && evbuffer_get_length(src) > 0) {
		struct evbuffer_iovec iv, ov;
		if (evbuffer_peek(src, -1, NULL, &iv, 1) < 1)
			break;
		size_t want = room < ZCHUNK ? room : ZCHUNK;
		if (evbuffer_reserve_space(dst, (ev_ssize_t)want, &ov, 1) < 1)
			return broken(z, "out of memory");
		if (ov.iov_len > want)
			ov.iov_len = want;
		size_t have = iv.iov_len < ZCHUNK ? iv.iov_len : ZCHUNK;
		z->in.next_in = iv.iov_base;
		z->in.avail_in = (uInt)have;
		z->in.next_out = ov.iov_base;
		z->in.avail_out = (uInt)ov.iov_len;
		int rc = inflate(&z->in, Z_SYNC_FLUSH);
		size_t used = have - z->in.avail_in;
		size_t made = ov.iov_len - z->in.avail_out;
		ov.iov_len = made;
		if (evbuffer_commit_space(dst, &ov, 1) != 0)
			return broken(z, "out of memory");
		if (evbuffer_drain(src, used) != 0)
			return broken(z, "out of memory");
		room -= made;
		/* RFC 4978 4: the stream lasts as long as the connection */
		if (rc == Z_STREAM_END)
			return broken(z, "deflate stream ended");
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return broken(z, z->in.msg ? z->in.msg : "inflate failed");
		if (used == 0 && made == 0)
			break;
		progress = true;
	}
	return progress ? BEV_OK : BEV_NEED_MORE;
}

/* Deflate n bytes at p (n may be 0) into dst, with flush. */
static int pump(struct net_deflate *z, const void *p, size_t n, int flush,
		struct evbuffer *dst)
{
	z->out.next_in = p;
	z->out.avail_in = (uInt)n;	/* n <= ZCHUNK */
	do {
		struct evbuffer_iovec ov;
		if (evbuffer_reserve_space(dst, ZCHUNK, &ov, 1) < 1)
			return -1;
		if (ov.iov_len > ZCHUNK)
			ov.iov_len = ZCHUNK;
		z->out.next_out = ov.iov_base;
		z->out.avail_out = (uInt)ov.iov_len;
		int rc = deflate(&z->out, flush);
		/* Z_BUF_ERROR: nothing to do (a flush with nothing new) */
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return -1;
		ov.iov_len -= z->out.avail_out;
		if (evbuffer_commit_space(dst, &ov, 1) != 0)
			return -1;
	} while (z->out.avail_in > 0 || z->out.avail_out == 0);
	return 0;
}

/* Us to peer. Called as the protocol queues output and as the transport
 * drains; lim is what the transport may still take. Once everything
 * queued is deflated, a sync flush (RFC 4978 4) puts the last reply on
 * the wire in full: the peer never waits for bytes zlib is holding. */
static enum bufferevent_filter_result
deflate_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
	       enum bufferevent_flush_mode mode, void *arg)
{
	struct net_deflate *z = arg;
	if (z->broken) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_ERROR;
	}
	size_t start = evbuffer_get_length(dst);
	size_t budget = lim < 0 ? SIZE_MAX : (size_t)lim;
	while (evbuffer_get_length(src) > 0 &&
	       evbuffer_get_length(dst) - start < budget) {
		struct evbuffer_iovec iv;
		if (evbuffer_peek(src, -1, NULL, &iv, 1) < 1)
			break;
		size_t take = iv.iov_len < ZCHUNK ? iv.iov_len : ZCHUNK;
		if (pump(z, iv.iov_base, take, Z_NO_FLUSH, dst) != 0 ||
		    evbuffer_drain(src, take) != 0)
			return broken(z, "deflate failed");
	}
	if ((evbuffer_get_length(src) == 0 || mode != BEV_NORMAL) &&
	    pump(z, NULL, 0, Z_SYNC_FLUSH, dst) != 0)
		return broken(z, "deflate failed");
	return BEV_OK;
}

int net_conn_compress(struct net_conn *c, const void *taken, size_t taken_len)
{
	if (c->compressed)
		return -1;
	struct net_deflate *z = xcalloc(1, sizeof *z);
	z->c = c;
	/* RFC 4978 4: the peer may use any window up to 32 KiB */
	if (inflateInit2(&z->in, -15) != Z_OK) {
		free(z);
		return -1;
	}
	if (deflateInit2(&z->out, NET_DEFLATE_LEVEL, Z_DEFLATED,
			 -NET_DEFLATE_WINDOW_BITS, NET_DEFLATE_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&z->in);
		free(z);
		return -1;
	}
	/* a client that did not wait for our reply already compresses:
	 * what the protocol's reader took goes back in front of the rest */
	struct bufferevent *t = c->bev;
	if (taken_len > 0 &&
	    evbuffer_prepend(bufferevent_get_input(t), taken, taken_len) != 0) {
		deflate_free(z);
		return -1;
	}
	if (net_conn_push_filter(c, inflate_filter, deflate_filter,
				 deflate_free, z) != 0)
		return -1;
	if (evbuffer_get_length(bufferevent_get_input(t)) > 0)
		bufferevent_trigger(t, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
				    BEV_TRIG_DEFER_CALLBACKS);
	return 0;
}
