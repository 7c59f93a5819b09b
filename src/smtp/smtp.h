/* smtp.h - the SMTP server (RFC 5321) for the MX port: sessions on a
 * worker thread's event loop. One struct smtp_server is shared read-only by
 * every worker; each worker has its own struct smtp_worker holding the
 * sessions it runs. Submission (AUTH, relaying for users) is not here yet. */
#ifndef PETREL_SMTP_H
#define PETREL_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

struct config;
struct store;

struct smtp_server;
struct smtp_worker;

/* cfg, store and tls (may be NULL: no STARTTLS, no implicit TLS) are
 * borrowed and must outlive the server. */
struct smtp_server *smtp_server_new(const struct config *cfg,
				    struct store *store, SSL_CTX *tls);
void smtp_server_free(struct smtp_server **sp);

/* A worker's share: sessions live on base and are only touched from the
 * thread that runs base. on_idle(arg) is called when, after
 * smtp_worker_shutdown(), the last session has ended. */
struct smtp_worker *smtp_worker_new(struct smtp_server *srv,
				    struct event_base *base,
				    void (*on_idle)(void *arg), void *arg);
/* Free a worker that has no sessions left. */
void smtp_worker_free(struct smtp_worker **wp);

/* Take over an accepted socket. implicit_tls: handshake before greeting. */
void smtp_worker_accept(struct smtp_worker *w, int fd,
			const struct sockaddr *sa, socklen_t salen,
			bool implicit_tls);

/* Stop: sessions waiting for a command get "421 4.3.2" and close; sessions
 * in the middle of a message finish it (their 250 means it is on disk). */
void smtp_worker_shutdown(struct smtp_worker *w);
size_t smtp_worker_sessions(const struct smtp_worker *w);

#endif
