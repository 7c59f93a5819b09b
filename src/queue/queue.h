/* queue.h - the outbound queue runner: takes the recipients the store
 * holds for other domains (store.h, "the outbound queue") and delivers
 * them: route (transport, relay or MX via src/dns), SMTP client
 * (src/smtp/smtpc.h) with connection reuse and per-destination limits,
 * retries on the configured schedule, and delivery status notifications
 * (src/queue/dsn.h) for failures, expiry and long delays. Recipients in
 * domains hosted here are put into their mailboxes directly.
 *
 * The runner is one thread with its own event loop; its results go back
 * to the store as durable committer jobs, and a recipient is never
 * picked up twice while its attempt is in flight. Recipients the remote
 * server accepted are removed in the next batch; a crash between the two
 * can repeat a delivery (never lose one): decision 0019.
 */
#ifndef PETREL_QUEUE_H
#define PETREL_QUEUE_H

#include "core/err.h"

struct config;
struct store;
struct queue_runner;

/* Create the runner: resolver, TLS client context, the relay password
 * from its file. Call before dropping privileges and chrooting: those
 * files are read here. cfg is borrowed until queue_runner_stop. */
int queue_runner_new(const struct config *cfg, struct queue_runner **out,
		     struct err *err) __attribute__((warn_unused_result));
/* Start its thread on the open store st (borrowed until stop). */
int queue_runner_start(struct queue_runner *q, struct store *st,
		       struct err *err) __attribute__((warn_unused_result));
/* Stop the thread (if started) and free: connections are closed (a transaction cut short is
 * tried again later), results already known are committed. *rp = NULL. */
void queue_runner_stop(struct queue_runner **rp);

#endif
