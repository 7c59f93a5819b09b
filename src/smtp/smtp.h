/* smtp.h - the SMTP server (RFC 5321): the MX port, and submission
 * (RFC 6409, 587 with STARTTLS and RFC 8314 implicit TLS on 465) from the
 * same code with a flag. One struct smtp_server (configuration, store,
 * TLS context) per service is shared by every worker; connections come
 * through the connection layer (net/conn.h) with smtp_proto and the
 * server as open_arg.
 *
 * Submission: AUTH (PLAIN, LOGIN, SCRAM-SHA-256) only over TLS, and
 * before MAIL/RCPT/DATA (530 5.7.0); the envelope sender and every From:
 * address must be the user's own (553 5.7.1); Date and Message-ID are
 * added when missing; per-mailbox limits of messages per hour and
 * recipients per message (452). The MX port never relays. */
#ifndef PETREL_SMTP_H
#define PETREL_SMTP_H

#include <openssl/ssl.h>

#include "net/conn.h"

struct config;
struct store;
struct smtp_server;

/* cfg, store and tls (NULL: no STARTTLS) are borrowed and must outlive
 * the server. */
struct smtp_server *smtp_server_new(const struct config *cfg,
				    struct store *store, SSL_CTX *tls);
/* A submission server: as smtp_server_new, with the login checker auth
 * (borrowed, must outlive the server). Its hourly counters are shared by
 * every listener and worker using it. */
struct auth;
struct smtp_server *smtp_submission_new(const struct config *cfg,
					struct store *store, SSL_CTX *tls,
					struct auth *auth);
void smtp_server_free(struct smtp_server **sp);
/* Check incoming mail (SPF, DKIM, ARC, DMARC) or, on a submission
 * server, DKIM-sign submitted mail with svc (borrowed, must outlive the
 * server); NULL: neither. */
struct msgauth_svc;
void smtp_server_set_msgauth(struct smtp_server *srv, struct msgauth_svc *svc);
/* The checks svc runs: SPF, DKIM, ARC, DMARC (checks true) and the spam
 * filter (filter not NULL; borrowed, outlives the server). */
struct filter_engine;
void smtp_server_set_checks(struct smtp_server *srv, bool checks,
			    struct filter_engine *filter);

/* Callbacks for net_conn_accept(); open_arg is the struct smtp_server. */
extern const struct net_proto smtp_proto;

#endif
