/* test_compress.c - the COMPRESS=DEFLATE filter of the connection layer
 * over a socketpair, with zlib as the peer: replies arrive whole (sync
 * flush), a decompression bomb never holds more inflated input than the
 * read bound while the protocol is not reading, everything arrives once
 * it reads, the last reply goes out before the close, and a corrupt
 * stream closes the connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>
#include <event2/event.h>
#include <zlib.h>

#include "core/log.h"
#include "net/conn.h"
#include "net/net_private.h"

#define READ_BOUND ((size_t)NET_READ_HIGHWATER)

struct fixture {
	struct event_base *base;
	struct net_worker w;
	struct net_limits limits;
	struct net_conn *c;
	int peer;
	bool consume;		/* input() drains what it is given */
	size_t consumed;
	size_t most_held;	/* the largest input input() was shown */
	bool closed;
	z_stream zin, zout;	/* the peer's */
};

static struct fixture *F;

static bool t_open(struct net_conn *c, void *arg)
{
	struct fixture *f = arg;
	f->c = c;
	c->proto = f;
	return true;
}

static void t_input(struct net_conn *c)
{
	struct fixture *f = c->proto;
	struct evbuffer *in = net_conn_input(c);
	size_t n = evbuffer_get_length(in);
	if (n > f->most_held)
		f->most_held = n;
	if (f->consume) {
		evbuffer_drain(in, n);
		f->consumed += n;
	} else {
		/* busy, as a protocol waiting for the store: what it has not
		 * read stays where it is */
		net_conn_pause_input(c);
	}
}

static void t_timeout(struct net_conn *c) { (void)c; }
static void t_shutdown(struct net_conn *c) { (void)c; }

static void t_close(struct net_conn *c)
{
	struct fixture *f = c->proto;
	if (f != NULL)
		f->closed = true;
}

static const struct net_proto test_proto = {
	.name = "test",
	.refuse_line = "* BYE busy",
	.open = t_open,
	.input = t_input,
	.timeout = t_timeout,
	.shutdown = t_shutdown,
	.close = t_close,
};

static void spin(struct fixture *f, int rounds)
{
	for (int i = 0; i < rounds; i++)
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	f->base = event_base_new();
	net_worker_init(&f->w, f->base, NULL, NULL);
	net_limits_init(&f->limits, 10, 0, false);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	assert_int_equal(getsockname(sv[0], (struct sockaddr *)&ss, &sl), 0);
	net_conn_accept(&f->w, &f->limits, &test_proto, f, NULL, false, sv[0],
			(struct sockaddr *)&ss, sl);
	assert_non_null(f->c);
	f->peer = sv[1];
	assert_int_equal(inflateInit2(&f->zin, -15), Z_OK);
	assert_int_equal(deflateInit2(&f->zout, 9, Z_DEFLATED, -15, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (!f->closed) {
		net_conn_close_after_flush(f->c);
		spin(f, 20);
	}
	close(f->peer);
	inflateEnd(&f->zin);
	deflateEnd(&f->zout);
	net_limits_release(&f->limits);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Deflate and send len bytes of b (sync flush at the end when flush). */
static void peer_send(struct fixture *f, const void *b, size_t len, bool flush)
{
	unsigned char out[65536];
	f->zout.next_in = (unsigned char *)(uintptr_t)b;
	f->zout.avail_in = (uInt)len;
	do {
		f->zout.next_out = out;
		f->zout.avail_out = sizeof out;
		int rc = deflate(&f->zout, flush ? Z_SYNC_FLUSH : Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
		size_t n = sizeof out - f->zout.avail_out, at = 0;
		while (at < n) {
			ssize_t w = write(f->peer, out + at, n - at);
			if (w < 0) {
				spin(f, 1);	/* let the server read */
				continue;
			}
			at += (size_t)w;
		}
	} while (f->zout.avail_in > 0 || f->zout.avail_out == 0);
}

/* Read and inflate what the server sent into buf; returns its length. */
static size_t peer_recv(struct fixture *f, char *buf, size_t cap)
{
	unsigned char raw[65536];
	size_t got = 0;
	spin(f, 10);
	for (;;) {
		ssize_t r = read(f->peer, raw, sizeof raw);
		if (r <= 0)
			break;
		f->zin.next_in = raw;
		f->zin.avail_in = (uInt)r;
		f->zin.next_out = (unsigned char *)buf + got;
		f->zin.avail_out = (uInt)(cap - got);
		int rc = inflate(&f->zin, Z_SYNC_FLUSH);
		assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
		assert_int_equal(f->zin.avail_in, 0);
		got = cap - f->zin.avail_out;
	}
	return got;
}

static void test_reply_arrives_whole(void **state)
{
	struct fixture *f = *state;
	net_conn_reply(f->c, "before");
	assert_int_equal(net_conn_compress(f->c, NULL, 0), 0);
	assert_int_equal(net_conn_compress(f->c, NULL, 0), -1);	/* once */
	spin(f, 10);
	char clear[16];
	assert_int_equal(read(f->peer, clear, sizeof clear), 8);
	assert_memory_equal(clear, "before\r\n", 8);
	net_conn_reply(f->c, "* OK %s", "compressed");
	char buf[256];
	size_t n = peer_recv(f, buf, sizeof buf);
	assert_int_equal(n, 17);
	assert_memory_equal(buf, "* OK compressed\r\n", 17);
	/* and the way in */
	f->consume = true;
	peer_send(f, "a NOOP\r\n", 8, true);
	spin(f, 10);
	assert_int_equal(f->consumed, 8);
}

static void test_bomb_is_bounded(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(net_conn_compress(f->c, NULL, 0), 0);
	spin(f, 5);
	/* 16 MiB of zeros: about 16 KiB on the wire */
	static const char zeros[1 << 20];
	for (int i = 0; i < 16; i++)
		peer_send(f, zeros, sizeof zeros, i == 15);
	spin(f, 200);
	/* the protocol reads nothing: at most the bound is ever inflated */
	assert_true(f->most_held <= READ_BOUND);
	assert_int_equal(evbuffer_get_length(net_conn_input(f->c)), READ_BOUND);
	/* libevent's flush modes pass no bound: the filter keeps it */
	bufferevent_flush(f->c->bev, EV_READ, BEV_FINISHED);
	bufferevent_flush(f->c->bev, EV_READ, BEV_FLUSH);
	assert_int_equal(evbuffer_get_length(net_conn_input(f->c)), READ_BOUND);
	/* once it reads, all of it comes, never more than the bound at once */
	f->consume = true;
	net_conn_resume(f->c);
	for (int i = 0; i < 2000 && f->consumed < 16u << 20; i++)
		spin(f, 1);
	assert_int_equal(f->consumed, 16u << 20);
	assert_true(f->most_held <= READ_BOUND);
	assert_false(f->closed);
}

static void test_last_reply_before_close(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(net_conn_compress(f->c, NULL, 0), 0);
	/* incompressible, more than the transport takes at once: the rest
	 * waits in the filter while the first part drains */
	char *big = malloc(300000);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < 300000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		big[i] = (char)x;
	}
	net_conn_write(f->c, big, 300000);
	net_conn_reply(f->c, "* BYE done");
	net_conn_close_after_flush(f->c);
	char *buf = malloc(400000);
	size_t got = 0;
	for (int i = 0; i < 1000 && !f->closed; i++)
		got += peer_recv(f, buf + got, 400000 - got);
	got += peer_recv(f, buf + got, 400000 - got);
	assert_true(f->closed);
	assert_int_equal(got, 300000 + 12);
	assert_memory_equal(buf, big, 300000);
	assert_memory_equal(buf + 300000, "* BYE done\r\n", 12);
	free(big);
	free(buf);
}

static void test_corrupt_stream_closes(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(net_conn_compress(f->c, NULL, 0), 0);
	spin(f, 5);
	unsigned char junk[64];
	memset(junk, 0xff, sizeof junk);
	assert_int_equal(write(f->peer, junk, sizeof junk), (ssize_t)sizeof junk);
	for (int i = 0; i < 100 && !f->closed; i++)
		spin(f, 1);
	assert_true(f->closed);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reply_arrives_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bomb_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_reply_before_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_stream_closes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
