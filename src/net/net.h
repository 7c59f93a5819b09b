/* net.h - sockets and TLS shared by every protocol.
 * Listening sockets are made before privileges are dropped, one per worker
 * thread per address with SO_REUSEPORT, so the kernel spreads incoming
 * connections across the workers' event loops. TLS contexts are built
 * from the config once and are read-only afterwards (OpenSSL's SSL_CTX is
 * safe to share between threads once set up). */
#ifndef PETREL_NET_H
#define PETREL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <sys/socket.h>

#include "core/err.h"

/* Bind n listening sockets (non-blocking, close-on-exec, SO_REUSEADDR and
 * SO_REUSEPORT; IPv6 sockets are v6-only) to host:port and store them in
 * fds_out. On error nothing stays open. */
int net_listen(const char *host, const char *port, int *fds_out, size_t n,
	       struct err *err) __attribute__((warn_unused_result));

/* Format a peer address as text ("192.0.2.1" or "2001:db8::1") and port. */
void net_addr_text(const void *sockaddr, char *ip, size_t ipsz, int *port_out);

/* Concurrent connections per client address, across all workers.
 * Thread-safe. expected: about how many distinct addresses to size for. */
struct net_iplimit;
struct net_iplimit *net_iplimit_new(size_t expected);
void net_iplimit_free(struct net_iplimit **lp);
/* Count one more connection from sa's address; false (and nothing
 * counted) if it already has max (0 = no limit). Every true must be
 * matched by one net_iplimit_release(). */
bool net_iplimit_acquire(struct net_iplimit *l, const struct sockaddr *sa,
			 unsigned max);
void net_iplimit_release(struct net_iplimit *l, const struct sockaddr *sa);
/* Current count for sa's address (for tests and logs). */
unsigned net_iplimit_count(struct net_iplimit *l, const struct sockaddr *sa);
/* Concurrent authenticated sessions per user (the store's mailbox id),
 * across all workers of one protocol server. Thread-safe. expected: about
 * how many users to size for. */
struct net_userlimit;
struct net_userlimit *net_userlimit_new(size_t expected);
void net_userlimit_free(struct net_userlimit **lp);
/* Count one more session for id; false (and nothing counted) if it
 * already has max (0 = no limit). Every true must be matched by exactly
 * one net_userlimit_release(). */
bool net_userlimit_acquire(struct net_userlimit *l, int64_t id, unsigned max);
void net_userlimit_release(struct net_userlimit *l, int64_t id);
/* Current count for id (for tests and logs). */
unsigned net_userlimit_count(struct net_userlimit *l, int64_t id);
/* sa's address as 16 bytes, IPv4 as ::ffff:a.b.c.d (the form of
 * struct cfg_ip_range); false if sa is not an IP socket. */
bool net_addr_key(const struct sockaddr *sa, unsigned char key[16]);
/* 127.0.0.0/8, ::1, ::ffff:127.x, or not an IP socket. */
bool net_addr_is_loopback(const struct sockaddr *sa);

/* A server TLS context: certificate chain and key from PEM files, minimum
 * version (TLS1_2_VERSION...), TLS 1.2 cipher list; compression and
 * renegotiation off, server cipher preference on. Checks that the key
 * matches the certificate. */
SSL_CTX *net_tls_server_ctx(const char *cert_path, const char *key_path,
			    int min_version, const char *ciphers,
			    struct err *err);

/* Write a new self-signed certificate (RSA 2048, SHA-256, 10 years,
 * subjectAltName DNS:hostname and DNS:localhost) and its key (mode 0600). */
int net_tls_selfsigned(const char *cert_path, const char *key_path,
		       const char *hostname, struct err *err)
	__attribute__((warn_unused_result));

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for logs and Received: headers. */
void net_tls_describe(SSL *ssl, char *out, size_t outsz);

#endif
