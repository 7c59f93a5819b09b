/* tls.c - OpenSSL server contexts and the first-start self-signed
 * certificate. Per-listener certificates and SNI come with the
 * submission work; this file only builds one context from the config. */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

static const char *ssl_errstr(void)
{
	/* OpenSSL keeps a per-thread queue; this thread-local copy only
	 * lives until the next call in the same thread. */
	static __thread char msg[256];
	unsigned long e = ERR_get_error();
	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, msg, sizeof msg);
	ERR_clear_error();
	return msg;
}

SSL_CTX *net_tls_server_ctx(const char *cert_path, const char *key_path,
			    int min_version, const char *ciphers,
			    struct err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		err_set(err, ERR_CONFIG, 0, NULL, "TLS: %s", ssl_errstr());
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* An idle IMAP/POP3 session (IDLE, a phone's long poll) must cost a
	 * few KB, not the 2 x 16 KB + overhead of record buffers: hand them
	 * back whenever they are empty. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_CTX_set_min_proto_version(ctx, min_version)) {
		err_set(err, ERR_CONFIG, 0, NULL, "tls_min_version: %s", ssl_errstr());
		goto fail;
	}
	if (ciphers[0] != '\0' && !SSL_CTX_set_cipher_list(ctx, ciphers)) {
		err_set(err, ERR_CONFIG, 0, NULL, "tls_ciphers '%s': %s", ciphers,
			ssl_errstr());
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		err_set(err, ERR_CONFIG, 0, NULL, "tls_cert %s: %s", cert_path,
			ssl_errstr());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		err_set(err, ERR_CONFIG, 0, NULL, "tls_key %s: %s", key_path,
			ssl_errstr());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		err_set(err, ERR_CONFIG, 0, NULL,
			"tls_key %s does not match the certificate in %s",
			key_path, cert_path);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_X509(f, cert);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int net_tls_selfsigned(const char *cert_path, const char *key_path,
		       const char *hostname, struct err *err)
{
	int rc = -1;
	X509 *cert = NULL;
	EVP_PKEY *key = EVP_RSA_gen(2048);
	if (key == NULL) {
		err_set(err, ERR_ENV, 0, NULL, "generating a TLS key: %s", ssl_errstr());
		goto out;
	}
	cert = X509_new();
	unsigned char serial[16];
	if (cert == NULL || RAND_bytes(serial, sizeof serial) != 1) {
		err_set(err, ERR_ENV, 0, NULL, "generating a certificate: %s", ssl_errstr());
		goto out;
	}
	serial[0] &= 0x7f;	/* positive, RFC 5280 4.1.2.2 */
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	char san[600];
	snprintf(san, sizeof san, "DNS:%s,DNS:localhost", hostname);
	X509_NAME *name = X509_get_subject_name(cert);
	if (bn == NULL || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) ||
	    !X509_set_version(cert, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)hostname, -1, -1, 0) ||
	    !X509_set_issuer_name(cert, name) || !X509_set_pubkey(cert, key) ||
	    add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(cert, NID_key_usage, "critical,digitalSignature,keyEncipherment") != 0 ||
	    add_ext(cert, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(cert, NID_subject_alt_name, san) != 0 ||
	    !X509_sign(cert, key, EVP_sha256())) {
		BN_free(bn);
		err_set(err, ERR_ENV, 0, NULL, "building the certificate: %s", ssl_errstr());
		goto out;
	}
	BN_free(bn);
	if (write_pem(key_path, 0600, key, NULL) != 0) {
		err_set(err, ERR_ENV, 0, NULL, "writing %s: %s", key_path, strerror(errno));
		goto out;
	}
	if (write_pem(cert_path, 0644, NULL, cert) != 0) {
		err_set(err, ERR_ENV, 0, NULL, "writing %s: %s", cert_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

void net_tls_describe(SSL *ssl, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s %s", SSL_get_version(ssl),
		 SSL_get_cipher_name(ssl));
}
