/* imap.h - the IMAP server (RFC 3501 IMAP4rev1 and RFC 9051 IMAP4rev2,
 * with the extensions its CAPABILITY lists) on the store. Connections come through the connection
 * layer with imap_proto and the server as open_arg. */
#ifndef PETREL_IMAP_H
#define PETREL_IMAP_H

#include <openssl/ssl.h>

#include "net/conn.h"

struct config;
struct store;
struct auth;
struct imap_server;

/* All borrowed; they must outlive the server. tls NULL: no STARTTLS. */
struct imap_server *imap_server_new(const struct config *cfg,
				    struct store *store, SSL_CTX *tls,
				    struct auth *auth);
void imap_server_free(struct imap_server **sp);

extern const struct net_proto imap_proto;

#endif
