/* queue_private.h - what the runner's files share; nothing outside
 * src/queue/ includes it. Everything here belongs to the runner thread.
 *
 *   queue_runner.c  thread, loop, scans of the store, the in-flight set,
 *                   committing outcomes in batches
 *   queue_route.c   recipient domain -> destination (transport, relay,
 *                   MX), destinations and their route lookups
 *   queue_conn.c    connections to a destination: addresses in order,
 *                   messages one after another, replies -> outcomes
 *   queue_result.c  what a reply means for a recipient: delivered, retry
 *                   later, bounce; delay notices; local delivery
 *   queue_bounce.c  delivery status notifications into the queue
 */
#ifndef PETREL_QUEUE_PRIVATE_H
#define PETREL_QUEUE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/config.h"
#include "dns/dns.h"
#include "queue/dsn.h"
#include "queue/queue.h"
#include "smtp/smtpc.h"
#include "store/store.h"

/* How many due recipients one scan of the store takes, and how many may
 * be in flight at once (scans stop adding past it). */
#define QR_SCAN_BATCH 500
#define QR_INFLIGHT_MAX 20000
/* A route is looked up again after this long. */
#define QR_ROUTE_TTL 300
/* A destination none of whose addresses answered is not tried again
 * for this long (its recipients are deferred at once meanwhile). */
#define QR_DEST_DEAD 60

struct qr_rcpt {
	uint32_t idx;
	char addr[320];
	char orcpt[320];
	uint8_t notify;
	unsigned attempts;
	bool delay_notified;
	bool bounce_now;		/* state BOUNCE: an admin asked */
	char reason[STORE_QUEUE_REPLY_MAX];	/* BOUNCE: why */
	struct smtpc_rcpt sr;		/* the attempt's reply */
};

/* One queue entry's recipients for one destination. */
struct qr_msg {
	struct qr_msg *next;
	int64_t id;
	char sender[320];
	char envid[101];
	int64_t created;
	uint32_t flags;
	uint64_t size;
	size_t n, cap;
	struct qr_rcpt *r;
	unsigned char *data;		/* loaded when its turn comes */
	size_t len;
	bool remote_dsn;		/* the next hop offered DSN */
};

enum qr_route_kind {
	QR_ROUTE_MX = 0,	/* the MX records of a name */
	QR_ROUTE_ADDR,		/* the addresses of a host (no MX) */
	QR_ROUTE_LOCAL,		/* a domain hosted here */
};

struct qr_dest {
	struct qr_dest *next;
	struct queue_runner *q_runner;
	char key[320];			/* route kind, name, port, TLS */
	enum qr_route_kind kind;
	char name[256];			/* what to look up */
	uint16_t port;
	enum smtpc_tls tls;
	bool auth;			/* the relay: AUTH with its user */
	/* waiting messages, oldest first */
	struct qr_msg *head, *tail;
	unsigned active;		/* connections open */
	/* the route */
	struct dns_query *q;
	int64_t resolved_at;		/* 0: never */
	enum dns_status status;
	char why[200];
	size_t n_targets;
	struct dns_target *targets;	/* malloc'd copy */
	int64_t dead_until;
	struct smtpc_reply dead_why;	/* what the last try got */
};

struct qr_conn {
	struct qr_conn *next, *prev;
	struct queue_runner *q;
	struct qr_dest *d;
	struct smtpc *c;
	size_t ti, ai;			/* target and address being tried */
	char peer_name[DNS_NAME_MAX + 1];
	/* the most telling failure so far: a server's refusal (TLS
	 * required and not offered, 5xx greeting) over a connect error */
	struct smtpc_reply last_fail;
	bool failed;
	struct smtpc_opts opts;
	struct qr_msg *cur;
	struct smtpc_msg m;
	unsigned sent;
};

/* A recipient in flight: in a destination's list or an attempt. */
struct qr_key {
	int64_t id;
	uint32_t idx;
	bool used;
};

struct queue_runner {
	const struct config *cfg;
	struct store *st;
	struct event_base *base;
	struct dns_resolver *dns;
	SSL_CTX *tls;
	char relay_pass[256];
	pthread_t thread;
	bool thread_started;

	struct event *scan_ev;		/* every second, from the start */
	struct event *wake_ev;		/* new mail: from the cursor on */
	struct event *stop_ev;
	struct event *flush_ev;
	struct event *stats_ev;
	struct store_queue_pos cursor;
	bool stopping;

	struct qr_dest *dests;
	struct qr_dest bounces;		/* recipients an admin bounced */
	struct qr_conn *conns;		/* open, for stopping */
	unsigned active;		/* connections, all destinations */

	/* in flight, open addressing */
	struct qr_key *keys;
	size_t keys_cap, n_inflight;

	/* outcomes waiting for the next commit, and the keys they free */
	struct store_queue_outcome *out;
	char **out_text;		/* owned copies of reply texts */
	size_t n_out, cap_out;
	struct qr_key *done_keys;
	size_t n_done, cap_done;
};

/* queue_runner.c */
bool qr_inflight_has(struct queue_runner *q, int64_t id, uint32_t idx);
void qr_inflight_add(struct queue_runner *q, int64_t id, uint32_t idx);
/* Record an outcome for (id, idx), committed with the next flush; the
 * recipient leaves the in-flight set after that commit. reply is
 * copied. */
void qr_outcome(struct queue_runner *q, int64_t id, uint32_t idx,
		enum store_queue_outcome_kind kind, int64_t next_try,
		const char *reply);
/* Leave the in-flight set with the next flush, no outcome (the row is
 * gone, or it stays as it was). */
void qr_release(struct queue_runner *q, int64_t id, uint32_t idx);
void qr_flush_soon(struct queue_runner *q);
int64_t qr_now(void);

/* queue_route.c */
/* The destination for a recipient domain (created if new). */
struct qr_dest *qr_dest_for(struct queue_runner *q, const char *domain);
/* Append r of entry m (as scanned) to d's waiting messages. */
void qr_dest_add(struct queue_runner *q, struct qr_dest *d,
		 const struct store_queue_msg *m, const struct store_queue_rcpt *r);
/* Open connections as limits allow; look the route up first if needed. */
void qr_dest_kick(struct queue_runner *q, struct qr_dest *d);
void qr_dest_kick_all(struct queue_runner *q);
/* Take the oldest waiting message, NULL if none. */
struct qr_msg *qr_dest_pop(struct qr_dest *d);
/* Every waiting message of d fails this way (a temporary reply defers,
 * a permanent one bounces). */
void qr_dest_fail_all(struct queue_runner *q, struct qr_dest *d,
		      const struct smtpc_reply *why);
/* Forget destinations with nothing to do and an old route (memory stays
 * bounded by the destinations in use, not all ever seen). */
void qr_dests_prune(struct queue_runner *q);
void qr_dests_free(struct queue_runner *q);
void qr_msg_free(struct qr_msg *m);

/* queue_conn.c */
/* A new connection to d (d->active grows). */
void qr_conn_open(struct queue_runner *q, struct qr_dest *d);
/* Close every connection at once (stopping). */
void qr_conns_free(struct queue_runner *q);

/* queue_result.c */
/* The attempt of m is over: every m->r[i].sr.reply says how it went. */
void qr_msg_result(struct queue_runner *q, struct qr_msg *m,
		   const char *remote_mta);
/* A reply we make up (synthetic: not a server's words). */
void qr_reply(struct smtpc_reply *r, int code, const char *enhanced,
	      enum smtpc_stage stage, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Deliver m into mailboxes hosted here. */
void qr_msg_local(struct queue_runner *q, struct qr_msg *m);
/* Load m's bytes; false (and every recipient's outcome decided) if that
 * was not possible. */
bool qr_msg_load(struct queue_runner *q, struct qr_msg *m);

/* queue_bounce.c */
/* A report for the recipients of m whose index is in which[0..n) about
 * action (failed or delayed); queued with the null sender. 0 or -1 (the
 * caller then keeps the recipients to try again). */
int qr_bounce(struct queue_runner *q, const struct qr_msg *m,
	      const size_t *which, size_t n, enum dsn_action action,
	      const char *remote_mta);

#endif
