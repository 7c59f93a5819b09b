/* tls_check.h - what is wrong with a certificate and key pair, in words
 * an operator can act on. Shared by petreld's startup (errors stop it)
 * and `petrelctl tls check`. */
#ifndef PETREL_TLS_CHECK_H
#define PETREL_TLS_CHECK_H

#include <stddef.h>

enum tls_check_level { TLS_CHECK_OK, TLS_CHECK_WARN, TLS_CHECK_ERROR };

/* Certificates expiring sooner than this are a warning. */
#define TLS_CHECK_EXPIRY_WARN_DAYS 30

/* One call per finding: a line "PATH: ..." without a newline. */
typedef void tls_check_report_fn(void *arg, enum tls_check_level level,
				 const char *line);

/* Check the PEM certificate chain in cert_path and the key in key_path:
 * readable, key matches, within its validity (warn inside 30 days),
 * covers hostname (SAN dNSName with wildcards, CN only without SAN;
 * hostname NULL skips this), and builds a chain to the system trust store
 * with the file's own intermediates. The first line for a readable
 * certificate is a summary (subject, issuer, notAfter) at TLS_CHECK_OK.
 * Returns the worst level reported. */
enum tls_check_level tls_check_files(const char *cert_path, const char *key_path,
				     const char *hostname,
				     tls_check_report_fn *report, void *arg);

/* path as configured: absolute, or relative to data_dir. */
void tls_check_resolve(const char *data_dir, const char *path, char *out,
		       size_t outsz);

#endif
