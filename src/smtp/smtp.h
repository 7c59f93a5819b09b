/* smtp.h - the SMTP server (RFC 5321) for the MX port. One struct
 * smtp_server (configuration, store, TLS context) is shared read-only by
 * every worker; connections come through the connection layer
 * (net/conn.h) with smtp_proto and the server as open_arg. Submission
 * (AUTH, relaying for users) is not here yet. */
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
void smtp_server_free(struct smtp_server **sp);

/* Callbacks for net_conn_accept(); open_arg is the struct smtp_server. */
extern const struct net_proto smtp_proto;

#endif
