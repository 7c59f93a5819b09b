/* pop3.h - the POP3 server (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS,
 * RFC 5034 SASL PLAIN) on the store's INBOX. Connections come through the
 * connection layer with pop3_proto and the server as open_arg. */
#ifndef PETREL_POP3_H
#define PETREL_POP3_H

#include <openssl/ssl.h>

#include "net/conn.h"

struct config;
struct store;
struct jobs;
struct auth;
struct pop3_server;

/* All borrowed; they must outlive the server. tls NULL: no STLS. */
struct pop3_server *pop3_server_new(const struct config *cfg,
				    struct store *store, SSL_CTX *tls,
				    struct jobs *jobs, struct auth *auth);
void pop3_server_free(struct pop3_server **sp);

extern const struct net_proto pop3_proto;

#endif
