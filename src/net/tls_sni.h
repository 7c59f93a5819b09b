/* tls_sni.h - choosing a certificate by the name a client asks for (TLS
 * server_name, RFC 6066 3). The table hangs off the default context and
 * is freed with it, so a context swapped out by a reload lives on, table
 * and all, for as long as sessions made from it do. */
#ifndef PETREL_TLS_SNI_H
#define PETREL_TLS_SNI_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "core/err.h"

/* Serve ctxs[i] to clients asking for names[i] ("host.example" exactly,
 * or "*.example" for one label in front), dflt to everyone else. Takes
 * over the n references in ctxs, also on failure. Names are lower case. */
int net_tls_sni_attach(SSL_CTX *dflt, const char *const *names, SSL_CTX **ctxs,
		       size_t n, struct err *err) __attribute__((warn_unused_result));

/* The context an SNI lookup on dflt gives for name (for tests); dflt when
 * no entry matches. */
SSL_CTX *net_tls_sni_lookup(SSL_CTX *dflt, const char *name);

#endif
