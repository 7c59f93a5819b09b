/* autoconf_apple.c - the Apple configuration profile: a plist with one
 * com.apple.mail.managed payload (Apple's "Mail" payload keys), and its
 * CMS signature with the server's certificate, which iOS and macOS show
 * as the profile's signer (unsigned profiles install too, marked "Not
 * Verified"). */
#include "autoconf/autoconf_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/xmalloc.h"

/* A UUID (RFC 9562 layout, version 8: "custom") from SHA-256 of the
 * domain, address and which payload: the same profile always has the
 * same UUIDs, so installing it again replaces the old one. */
static void stable_uuid(const struct autoconf_who *w, const char *which,
			char out[37])
{
	char seed[sizeof w->domain + sizeof w->email + 32];
	int n = snprintf(seed, sizeof seed, "petrel-profile\n%s\n%s\n%s",
			 w->domain, w->email, which);
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_Digest(seed, n > 0 ? (size_t)n : 0, md, &mdlen, EVP_sha256(), NULL);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x80);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	out[o] = '\0';
}

static void key_str(struct ac_out *o, const char *key, const char *value)
{
	ac_putf(o, "\t\t\t<key>%s</key>\n\t\t\t<string>", key);
	ac_text(o, value);
	ac_put(o, "</string>\n");
}

static void key_int(struct ac_out *o, const char *key, unsigned v)
{
	ac_putf(o, "\t\t\t<key>%s</key>\n\t\t\t<integer>%u</integer>\n", key, v);
}

static void key_bool(struct ac_out *o, const char *key, bool v)
{
	ac_putf(o, "\t\t\t<key>%s</key>\n\t\t\t<%s/>\n", key,
		v ? "true" : "false");
}

static void server(struct ac_out *o, const char *dir,
		   const struct cfg_client_service *s,
		   const struct autoconf_who *w)
{
	char k[64];
	snprintf(k, sizeof k, "%sMailServerAuthentication", dir);
	key_str(o, k, "EmailAuthPassword");
	snprintf(k, sizeof k, "%sMailServerHostName", dir);
	key_str(o, k, s->host);
	snprintf(k, sizeof k, "%sMailServerPortNumber", dir);
	key_int(o, k, s->port);
	/* Apple Mail's UseSSL on a STARTTLS port means STARTTLS */
	snprintf(k, sizeof k, "%sMailServerUseSSL", dir);
	key_bool(o, k, true);
	if (w->email[0] != '\0') {
		snprintf(k, sizeof k, "%sMailServerUsername", dir);
		key_str(o, k, w->email);
	}
}

char *autoconf_mobileconfig(const struct cfg_client_services *svc,
			    const struct autoconf_who *w, size_t *len_out)
{
	const struct cfg_client_service *in =
		svc->s[CFG_SVC_IMAPS].port ? &svc->s[CFG_SVC_IMAPS] :
		svc->s[CFG_SVC_IMAP].port ? &svc->s[CFG_SVC_IMAP] : NULL;
	const struct cfg_client_service *out =
		svc->s[CFG_SVC_SUBMISSIONS].port ? &svc->s[CFG_SVC_SUBMISSIONS] :
		svc->s[CFG_SVC_SUBMISSION].port ? &svc->s[CFG_SVC_SUBMISSION] : NULL;
	char uuid_top[37], uuid_mail[37], ident[SMTP_DOMAIN_MAX + 64];
	stable_uuid(w, "profile", uuid_top);
	stable_uuid(w, "mail", uuid_mail);
	snprintf(ident, sizeof ident, "petrel.mail.%s", w->domain);
	struct ac_out o;
	ac_begin(&o);
	ac_put(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		   "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		   "<plist version=\"1.0\">\n<dict>\n"
		   "\t<key>PayloadContent</key>\n\t<array>\n\t\t<dict>\n");
	key_str(&o, "EmailAccountDescription", w->domain);
	key_str(&o, "EmailAccountType", in != NULL && !strcmp(in->proto, "imap") ?
		"EmailTypeIMAP" : "EmailTypePOP");
	if (w->email[0] != '\0') {
		key_str(&o, "EmailAccountName", w->email);
		key_str(&o, "EmailAddress", w->email);
	}
	if (in == NULL)		/* POP3 only: Apple Mail's second choice */
		in = svc->s[CFG_SVC_POP3S].port ? &svc->s[CFG_SVC_POP3S] :
		     &svc->s[CFG_SVC_POP3];
	server(&o, "Incoming", in, w);
	if (out != NULL) {
		server(&o, "Outgoing", out, w);
		key_bool(&o, "OutgoingPasswordSameAsIncomingPassword", true);
	}
	key_str(&o, "PayloadDescription", "Mail account settings");
	key_str(&o, "PayloadDisplayName", w->email[0] ? w->email : w->domain);
	char sub[sizeof ident + 8];
	snprintf(sub, sizeof sub, "%s.mail", ident);
	key_str(&o, "PayloadIdentifier", sub);
	key_str(&o, "PayloadType", "com.apple.mail.managed");
	key_str(&o, "PayloadUUID", uuid_mail);
	key_int(&o, "PayloadVersion", 1);
	ac_put(&o, "\t\t</dict>\n\t</array>\n");
	/* the profile's own keys, one tab less deep */
	ac_put(&o, "\t<key>PayloadDescription</key>\n\t<string>Server addresses for ");
	ac_text(&o, w->domain);
	ac_put(&o, " mail</string>\n\t<key>PayloadDisplayName</key>\n\t<string>");
	ac_text(&o, w->domain);
	ac_put(&o, " mail</string>\n\t<key>PayloadIdentifier</key>\n\t<string>");
	ac_text(&o, ident);
	ac_putf(&o, "</string>\n\t<key>PayloadRemovalDisallowed</key>\n\t<false/>\n"
		    "\t<key>PayloadType</key>\n\t<string>Configuration</string>\n"
		    "\t<key>PayloadUUID</key>\n\t<string>%s</string>\n"
		    "\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n"
		    "</dict>\n</plist>\n", uuid_top);
	return ac_finish(&o, len_out);
}

int autoconf_sign(SSL_CTX *ctx, const char *data, size_t len,
		  unsigned char **out, size_t *out_len, struct err *err)
{
	*out = NULL;
	*out_len = 0;
	X509 *cert = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
	EVP_PKEY *key = ctx ? SSL_CTX_get0_privatekey(ctx) : NULL;
	if (cert == NULL || key == NULL)
		return err_set(err, ERR_ENV, 0, NULL,
			       "no certificate to sign the profile with");
	if (len > AUTOCONF_DOC_MAX)	/* our own profile: a bug */
		return err_set(err, ERR_ENV, 0, NULL, "profile too large to sign");
	STACK_OF(X509) *chain = NULL;
	SSL_CTX_get0_chain_certs(ctx, &chain);
	/* UNSAFE: len <= AUTOCONF_DOC_MAX fits an int */
	BIO *in = BIO_new_mem_buf(data, (int)len);
	BIO *mem = BIO_new(BIO_s_mem());
	CMS_ContentInfo *cms = NULL;
	int rc = -1;
	if (in == NULL || mem == NULL)
		goto out;
	/* binary: the plist's line ends are signed as they are */
	cms = CMS_sign(cert, key, chain, in, CMS_BINARY | CMS_NOSMIMECAP);
	if (cms == NULL || i2d_CMS_bio(mem, cms) != 1)
		goto out;
	char *p;
	long n = BIO_get_mem_data(mem, &p);
	if (n <= 0)
		goto out;
	*out = xmalloc((size_t)n);
	memcpy(*out, p, (size_t)n);
	*out_len = (size_t)n;
	rc = 0;
out:
	if (rc != 0)
		err_set(err, ERR_ENV, 0, NULL, "cannot sign the profile (OpenSSL)");
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(mem);
	return rc;
}
