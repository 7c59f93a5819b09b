/* tls_ref.c - a mutex around one SSL_CTX pointer. Taken once per
 * accepted connection; a reload holds it only for the pointer swap. */
#include "net/tls_ref.h"

void net_tls_ref_init(struct net_tls_ref *r, SSL_CTX *ctx)
{
	pthread_mutex_init(&r->mu, NULL);
	r->ctx = ctx;
}

SSL_CTX *net_tls_ref_get(struct net_tls_ref *r)
{
	pthread_mutex_lock(&r->mu);
	SSL_CTX *ctx = r->ctx;
	if (ctx != NULL && SSL_CTX_up_ref(ctx) != 1)
		ctx = NULL;
	pthread_mutex_unlock(&r->mu);
	return ctx;
}

void net_tls_ref_swap(struct net_tls_ref *r, SSL_CTX *ctx)
{
	pthread_mutex_lock(&r->mu);
	SSL_CTX *old = r->ctx;
	r->ctx = ctx;
	pthread_mutex_unlock(&r->mu);
	SSL_CTX_free(old);
}

void net_tls_ref_destroy(struct net_tls_ref *r)
{
	SSL_CTX_free(r->ctx);
	r->ctx = NULL;
	pthread_mutex_destroy(&r->mu);
}
