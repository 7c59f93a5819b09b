/* conn.h - one client connection on a worker's event loop, shared by every
 * line protocol (SMTP, POP3, IMAP): accept bookkeeping and connection caps,
 * the bufferevent, implicit TLS and STARTTLS, timeouts, bounded line
 * reading, replies, and closing once the last reply is out. A protocol
 * supplies a struct net_proto of callbacks and keeps its own session in
 * c->proto; it never touches the bufferevent's life cycle itself.
 * A connection belongs to one worker thread and is only touched there. */
#ifndef PETREL_NET_CONN_H
#define PETREL_NET_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/span.h"

struct net_conn;
struct net_iplimit;
struct cfg_ip_range;
struct cfg_ip_ranges;

/* Caps shared by all listeners and workers (read-only after set-up,
 * except the atomic counter and the thread-safe iplimit). */
struct net_limits {
	unsigned max_connections;
	unsigned max_per_ip;		/* 0 = no limit */
	bool limit_loopback;
	atomic_uint connections;
	struct net_iplimit *iplimit;
	/* TCP keep-alive on accepted sockets; keepalive_idle 0 = off */
	unsigned keepalive_idle, keepalive_intvl, keepalive_cnt;
	/* per-address caps by range (a copy); max_per_ip elsewhere */
	struct cfg_ip_range *ranges;
	size_t n_ranges;
};

void net_limits_init(struct net_limits *l, unsigned max_connections,
		     unsigned max_per_ip, bool limit_loopback);
/* Keep-alive for connections accepted from now on: probe after idle
 * seconds of silence, drop the connection when about timeout more seconds
 * of probes go unanswered (NET_KEEPALIVE_PROBES probes, the interval
 * rounded up to whole seconds). Either 0: no keep-alive. */
void net_limits_set_keepalive(struct net_limits *l, unsigned idle,
			      unsigned timeout);
void net_limits_release(struct net_limits *l);
/* Per-address caps for address ranges (max_connections_per_ip_ranges):
 * an address in a range gets the limit of the longest prefix holding it
 * instead of max_per_ip. Copied; call before accepting. */
void net_limits_set_ranges(struct net_limits *l,
			   const struct cfg_ip_ranges *ranges);
/* The per-address cap for sa's address (0 = no limit). */
unsigned net_limits_per_ip(const struct net_limits *l,
			   const struct sockaddr *sa);
/* Take a place for a new client sa under its per-address cap, counted
 * across every listener; loopback is exempt unless limit_loopback.
 * 1: a place is taken (give it back with net_iplimit_release(l->iplimit,
 * sa)); 0: exempt, nothing taken; -1: sa is at its cap, *max (for the
 * log). */
int net_limits_admit(struct net_limits *l, const struct sockaddr *sa,
		     unsigned *max);

struct net_proto {
	const char *name;	/* log subsystem: "smtp", "pop3" */
	/* Sent, with CRLF, to a connection refused by the caps. */
	const char *refuse_line;
	/* A new connection: make the session (c->proto) and queue the
	 * greeting. Return false to refuse (the connection is closed). */
	bool (*open)(struct net_conn *c, void *arg);
	/* Input is waiting (or net_conn_resume() was called). */
	void (*input)(struct net_conn *c);
	/* A TLS handshake finished (implicit TLS or STARTTLS). After STARTTLS
	 * the protocol forgets what it learnt in clear (RFC 3207 4.2,
	 * RFC 2595 3.1). May be NULL. */
	void (*tls_ready)(struct net_conn *c, bool after_starttls);
	/* The peer was idle too long: queue a reply; the layer closes. */
	void (*timeout)(struct net_conn *c);
	/* The server is stopping: queue a reply; the layer closes unless the
	 * connection is busy (then the protocol closes when done). */
	void (*shutdown)(struct net_conn *c);
	/* The connection is going away: free c->proto. */
	void (*close)(struct net_conn *c);
};

/* Per worker thread: its connections, for shutdown. */
struct net_worker {
	struct event_base *base;
	struct net_conn *conns;		/* doubly linked */
	size_t n_conns;
	bool shutting_down;
	void (*on_idle)(void *arg);	/* after shutdown, when n_conns is 0 */
	void *idle_arg;
};

void net_worker_init(struct net_worker *w, struct event_base *base,
		     void (*on_idle)(void *arg), void *arg);
/* Tell every connection the server is stopping (proto->shutdown). */
void net_worker_shutdown(struct net_worker *w);

/* Read-only for protocols. */
struct net_conn {
	struct net_worker *w;
	const struct net_proto *proto_ops;
	void *proto;			/* the protocol's session */
	struct bufferevent *bev;
	char id[16];			/* session id for logs */
	char ip[64];
	int port;
	bool tls;
	char tls_desc[96];
	/* private below */
	struct net_conn *prev, *next;
	struct net_limits *limits;
	SSL_CTX *tls_ctx;
	struct sockaddr_storage addr;
	int fd;
	bool bev_owns_fd;
	bool ip_counted;
	bool closing;			/* last reply being flushed */
	bool starttls_pending;
	bool busy;			/* async work in flight */
	bool peer_gone;
	bool compressed;		/* bev is a deflate filter (compress.c) */
	unsigned timeout;
};

/* Take an accepted socket. tls_ctx: for implicit TLS or STARTTLS (NULL:
 * neither); the connection takes its own reference for its lifetime.
 * Refuses with 421 past the connection caps. */
void net_conn_accept(struct net_worker *w, struct net_limits *limits,
		     const struct net_proto *ops, void *open_arg,
		     SSL_CTX *tls_ctx, bool implicit_tls, int fd,
		     const struct sockaddr *sa, socklen_t salen);

/* A per-service cap on connections from c's address, counted in l, on top
 * of the global max_per_ip (e.g. imap_max_connections_per_ip). Loopback is
 * exempt unless limit_loopback, as for the global cap. false: over max
 * (0 = no limit), nothing counted. Every true must be matched by exactly
 * one net_conn_ip_release(c, l). */
bool net_conn_ip_acquire(struct net_conn *c, struct net_iplimit *l,
			 unsigned max);
void net_conn_ip_release(struct net_conn *c, struct net_iplimit *l);

/* ---- output ------------------------------------------------------------ */
/* Queue fmt and CRLF. */
void net_conn_reply(struct net_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Queue bytes as they are. */
void net_conn_write(struct net_conn *c, const void *data, size_t len);
/* Queue len bytes at data without copying them; cleanup(data, len, arg)
 * runs once they are sent or dropped. 0, or -1 (nothing queued: the
 * caller copies instead). */
int net_conn_write_reference(struct net_conn *c, const void *data, size_t len,
			     void (*cleanup)(const void *data, size_t len,
					     void *arg),
			     void *arg);
/* More than NET_MAX_OUTPUT queued: stop reading commands until it drains
 * (input() is called again then). */
bool net_conn_output_full(struct net_conn *c);
/* Stop reading until queued output has drained (a client that sends
 * commands but does not read the replies); input() is called again. */
void net_conn_pause_input(struct net_conn *c);

/* ---- input ------------------------------------------------------------- */
struct evbuffer *net_conn_input(struct net_conn *c);
/* One line (LF-terminated, CR before it dropped): 1 with *line_out
 * (valid until *used_out bytes are drained) and *used_out; 0 when more is
 * needed; -1 when no line end came within max bytes. */
int net_conn_getline(struct net_conn *c, size_t max, struct span *line_out,
		     size_t *used_out);

/* ---- state ------------------------------------------------------------- */
void net_conn_set_timeout(struct net_conn *c, unsigned seconds);
/* Close once queued output is out; never frees c synchronously. */
void net_conn_close_after_flush(struct net_conn *c);
/* The reply to STARTTLS/STLS is queued: drop any input already received
 * (CVE-2011-0411: it came in clear), read nothing more, and start the
 * handshake when the reply is out. */
void net_conn_starttls(struct net_conn *c);
/* Async work (store commit, password check) in flight: input paused; if
 * the peer goes, c stays until net_conn_done_busy(). */
void net_conn_set_busy(struct net_conn *c);
/* The work is done. Returns false if the peer went meanwhile: c has been
 * freed and must not be touched. Otherwise input resumes. */
bool net_conn_done_busy(struct net_conn *c);
/* Read again and run input() over what is buffered. */
void net_conn_resume(struct net_conn *c);

/* ---- compression (compress.c) ------------------------------------------ */
/* RFC 4978 COMPRESS=DEFLATE: from now on both directions are raw deflate
 * streams (over TLS if active). Call it right after queueing the reply
 * that announces it: that reply and anything queued before still go out
 * uncompressed. Input after the command is the client's compressed
 * stream: taken (taken_len bytes, copied) is what the protocol's reader
 * already took past the command; it is inflated first, then what the
 * connection holds. Inflated input is held to the same read bound as
 * clear input. 0, or -1 (already compressed, or no memory). */
int net_conn_compress(struct net_conn *c, const void *taken, size_t taken_len);

#endif
