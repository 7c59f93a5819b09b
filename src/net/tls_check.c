/* tls_check.c - certificate and key checks with plain findings. Runs
 * before the SSL_CTX is built so that an expired or mismatched pair
 * stops startup with a message naming the file, not an OpenSSL code. */
#include "net/tls_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct check {
	const char *path;
	tls_check_report_fn *report;
	void *arg;
	enum tls_check_level worst;
};

static void say(struct check *ck, const char *path, enum tls_check_level level,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(struct check *ck, const char *path, enum tls_check_level level,
		const char *fmt, ...)
{
	char msg[700], line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "%s: %s%s", path,
		 level == TLS_CHECK_ERROR ? "error: " :
		 level == TLS_CHECK_WARN ? "warning: " : "", msg);
	if (level > ck->worst)
		ck->worst = level;
	ck->report(ck->arg, level, line);
}

static void name_text(const X509_NAME *name, char *out, size_t outsz)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		int n = BIO_read(b, out, (int)outsz - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
}

static void date_text(const ASN1_TIME *t, char *out, size_t outsz)
{
	struct tm tm;
	if (!ASN1_TIME_to_tm(t, &tm) || strftime(out, outsz, "%Y-%m-%d", &tm) == 0)
		snprintf(out, outsz, "(bad date)");
}

/* Whole days from now to t (negative when t is past). */
static int days_until(const ASN1_TIME *t)
{
	int days = 0, secs = 0;
	if (!ASN1_TIME_diff(&days, &secs, NULL, t))
		return 0;
	return days;
}

static FILE *open_file(struct check *ck, const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		say(ck, path, TLS_CHECK_ERROR, "cannot read the %s: %s", what,
		    strerror(errno));
	return f;
}

static void check_chain(struct check *ck, X509 *leaf, STACK_OF(X509) *extra)
{
	/* Not X509_check_issued(): it also wants keyCertSign, which a
	 * self-signed server certificate (ours included) need not have. */
	EVP_PKEY *pub = X509_get0_pubkey(leaf);
	if (X509_NAME_cmp(X509_get_subject_name(leaf), X509_get_issuer_name(leaf)) == 0 &&
	    pub != NULL && X509_verify(leaf, pub) == 1) {
		say(ck, ck->path, TLS_CHECK_WARN,
		    "self-signed certificate: mail clients will not trust it unless told to (fine for a demo; use a CA-issued certificate in production)");
		return;
	}
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *vctx = X509_STORE_CTX_new();
	if (store == NULL || vctx == NULL || !X509_STORE_set_default_paths(store) ||
	    !X509_STORE_CTX_init(vctx, store, leaf, extra)) {
		say(ck, ck->path, TLS_CHECK_WARN, "cannot verify the chain: out of memory");
		goto out;
	}
	/* Dates are reported separately and more plainly. */
	X509_STORE_CTX_set_flags(vctx, X509_V_FLAG_NO_CHECK_TIME);
	X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
	if (X509_verify_cert(vctx) == 1)
		goto out;
	int e = X509_STORE_CTX_get_error(vctx);
	X509 *at = X509_STORE_CTX_get_current_cert(vctx);
	char issuer[256] = "";
	if (at != NULL)
		name_text(X509_get_issuer_name(at), issuer, sizeof issuer);
	if (e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
		say(ck, ck->path, TLS_CHECK_WARN,
		    "chain incomplete: the issuer '%s' is neither in the file nor in the system trust store; append the intermediate certificates to the file",
		    issuer);
	else if (e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
		say(ck, ck->path, TLS_CHECK_WARN,
		    "chain ends at '%s', a root that is not in the system trust store (a private CA: clients must be given it)",
		    issuer);
	else
		say(ck, ck->path, TLS_CHECK_WARN, "chain does not verify: %s",
		    X509_verify_cert_error_string(e));
out:
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	ERR_clear_error();
}

enum tls_check_level tls_check_files(const char *cert_path, const char *key_path,
				     const char *hostname,
				     tls_check_report_fn *report, void *arg)
{
	struct check ck = { cert_path, report, arg, TLS_CHECK_OK };
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *extra = sk_X509_new_null();
	FILE *f = open_file(&ck, cert_path, "certificate");
	if (f != NULL) {
		leaf = PEM_read_X509(f, NULL, NULL, NULL);
		X509 *x;
		while (leaf && extra && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(extra, x))
				X509_free(x);
		fclose(f);
		if (leaf == NULL)
			say(&ck, cert_path, TLS_CHECK_ERROR,
			    "no PEM certificate in the file");
	}
	f = open_file(&ck, key_path, "private key");
	if (f != NULL) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (key == NULL)
			say(&ck, key_path, TLS_CHECK_ERROR,
			    "no unencrypted PEM private key in the file");
	}
	ERR_clear_error();
	if (leaf == NULL)
		goto out;

	char subject[256], issuer[256], until[32], from[32];
	name_text(X509_get_subject_name(leaf), subject, sizeof subject);
	name_text(X509_get_issuer_name(leaf), issuer, sizeof issuer);
	date_text(X509_get0_notAfter(leaf), until, sizeof until);
	date_text(X509_get0_notBefore(leaf), from, sizeof from);
	int days = days_until(X509_get0_notAfter(leaf));
	say(&ck, cert_path, TLS_CHECK_OK, "expires %s (%d days) subject=\"%s\" issuer=\"%s\"",
	    until, days, subject, issuer);

	if (key != NULL && X509_check_private_key(leaf, key) != 1)
		say(&ck, key_path, TLS_CHECK_ERROR,
		    "the key does not match the certificate in %s (subject \"%s\")",
		    cert_path, subject);
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
		say(&ck, cert_path, TLS_CHECK_ERROR,
		    "certificate expired on %s (subject \"%s\"): renew it", until, subject);
	else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0)
		say(&ck, cert_path, TLS_CHECK_ERROR,
		    "certificate is not valid before %s (subject \"%s\"): check the clock",
		    from, subject);
	else if (days < TLS_CHECK_EXPIRY_WARN_DAYS)
		say(&ck, cert_path, TLS_CHECK_WARN,
		    "certificate expires on %s, in %d days: renew it soon", until, days);
	if (hostname != NULL && hostname[0] != '\0' &&
	    X509_check_host(leaf, hostname, 0, 0, NULL) != 1)
		say(&ck, cert_path, TLS_CHECK_WARN,
		    "certificate (subject \"%s\") does not cover the name %s: clients connecting to it will refuse",
		    subject, hostname);
	check_chain(&ck, leaf, extra);
out:
	ERR_clear_error();
	sk_X509_pop_free(extra, X509_free);
	X509_free(leaf);
	EVP_PKEY_free(key);
	return ck.worst;
}

void tls_check_resolve(const char *data_dir, const char *path, char *out,
		       size_t outsz)
{
	if (path[0] == '/')
		snprintf(out, outsz, "%s", path);
	else
		snprintf(out, outsz, "%s/%s", data_dir, path);
}
