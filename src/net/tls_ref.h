/* tls_ref.h - the TLS context new connections get, replaceable while
 * sessions run (SIGHUP reload). Each connection holds its own reference
 * (SSL_CTX_up_ref), so swapping never pulls a context from under a
 * session; the old one is freed when its last session ends. */
#ifndef PETREL_TLS_REF_H
#define PETREL_TLS_REF_H

#include <pthread.h>

#include <openssl/ssl.h>

struct net_tls_ref {
	pthread_mutex_t mu;
	SSL_CTX *ctx;
};

/* Takes over the caller's reference to ctx. */
void net_tls_ref_init(struct net_tls_ref *r, SSL_CTX *ctx);
/* A new reference to the current context (SSL_CTX_free it), or NULL. */
SSL_CTX *net_tls_ref_get(struct net_tls_ref *r);
/* Make ctx (the caller's reference) current and drop ours to the old. */
void net_tls_ref_swap(struct net_tls_ref *r, SSL_CTX *ctx);
void net_tls_ref_destroy(struct net_tls_ref *r);

#endif
