/* autoconf.h - what mail clients are told about the server addresses:
 * Mozilla autoconfig (config-v1.1.xml, Thunderbird and friends),
 * Microsoft Autodiscover (the POX request and response, Outlook), the
 * Apple configuration profile (.mobileconfig, signed with CMS when a
 * certificate is given), the settings page (HTML, English and Chinese,
 * with a QR code of the profile's link) and the same table for the CLI.
 *
 * Pure functions of cfg_client_services (the one source of host names
 * and ports, shared with the DNS doctor's SRV records) and the domain
 * or address asked about: no store, no network. Whether the domain is
 * hosted is the caller's question (src/http/http_autoconf.c,
 * src/cli/ctl_settings.c). Decision 0041, docs/autoconfig.md.
 */
#ifndef PETREL_AUTOCONF_H
#define PETREL_AUTOCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "core/config.h"
#include "core/err.h"
#include "core/limits.h"
#include "core/span.h"

/* Who a document is for: a domain, and an address in it when the client
 * gave one. */
struct autoconf_who {
	char domain[SMTP_DOMAIN_MAX + 1];	/* A-label, lower case */
	char email[AUTOCONF_LOCAL_MAX + SMTP_DOMAIN_MAX + 2];	/* "" = none */
};

/* ---- input ------------------------------------------------------------- */

/* An address as a client sends it (query parameter, Autodiscover
 * EMailAddress): "local@domain", printable ASCII local part of at most
 * AUTOCONF_LOCAL_MAX octets without specials or spaces, a domain name
 * (either form, IDNA-checked). 0 with out filled (email =
 * local@A-label), -1 malformed. */
int autoconf_email_parse(const char *email, struct autoconf_who *out);
/* A domain name alone (either form): 0 with out->domain, email "";
 * -1 not a domain name. */
int autoconf_domain_parse(const char *name, struct autoconf_who *out);
/* The domain a Host header names: the port dropped, lower case, and an
 * "autoconfig." or "autodiscover." label dropped (clients ask
 * autoconfig.DOMAIN, or DOMAIN itself for /.well-known/). 0 or -1. */
int autoconf_host_parse(struct span host, struct autoconf_who *out);

/* The Autodiscover POX request (autoconf_request.c, on expat): the
 * EMailAddress and AcceptableResponseSchema of
 * <Autodiscover><Request>, namespaces checked by local name. A DTD or
 * an entity declaration is refused (no XML bombs, no external
 * entities); bounded by AUTOCONF_AD_BODY_MAX octets (the caller answers
 * 413 past it), AUTOCONF_AD_DEPTH_MAX levels and
 * AUTOCONF_AD_ELEMENTS_MAX elements. */
enum autoconf_ad_status {
	AUTOCONF_AD_OK = 0,
	AUTOCONF_AD_INVALID = 600,	/* Microsoft's "Invalid Request" */
	AUTOCONF_AD_SCHEMA = 601,	/* "Provider is not available" for
					 * a schema other than Outlook's */
};
#define AUTOCONF_AD_OUTLOOK_SCHEMA \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
struct autoconf_ad_request {
	char email[AUTOCONF_LOCAL_MAX + SMTP_DOMAIN_MAX + 2];	/* as sent */
	char schema[256];	/* "" = not given (Outlook's is assumed) */
};
/* AUTOCONF_AD_OK with out filled, or the error code with *why (a static
 * string) set. */
enum autoconf_ad_status autoconf_ad_parse(struct span body,
					  struct autoconf_ad_request *out,
					  const char **why);

/* ---- documents -------------------------------------------------------
 * Each returns a malloc'd text the caller frees, NUL-terminated, with
 * its length in *len_out; never NULL (the documents are bounded by the
 * table they describe, well under AUTOCONF_DOC_MAX). */

/* config-v1.1.xml: every offered service; user name %EMAILADDRESS%. */
char *autoconf_mozilla(const struct cfg_client_services *svc,
		       const struct autoconf_who *w, size_t *len_out);
/* The POX response (responseschema/2006 with the Outlook 2006a
 * Response): IMAP, SMTP and POP3 Protocol blocks, implicit TLS where
 * offered, else STARTTLS (Encryption TLS); LoginName = the address. */
char *autoconf_ad_response(const struct cfg_client_services *svc,
			   const struct autoconf_who *w, size_t *len_out);
/* The POX error response: ErrorCode code (500 address not found, 600
 * invalid request, 601 schema not supported) and message (ours, fixed
 * text). now: Unix seconds for its Time attribute. */
char *autoconf_ad_error(int code, const char *message, int64_t now,
			size_t *len_out);
/* The Autodiscover v2 JSON answer for Protocol=AutodiscoverV1: where the
 * POX endpoint of w's domain is. */
json_t *autoconf_ad_json(const struct cfg_client_services *svc,
			 const struct autoconf_who *w,
			 unsigned http_port);

/* The Apple profile (a plist): one com.apple.mail.managed payload for
 * IMAP and SMTP, stable UUIDs from the domain and address (installing
 * it again replaces it); without an address the device asks for it. */
char *autoconf_mobileconfig(const struct cfg_client_services *svc,
			    const struct autoconf_who *w, size_t *len_out);
/* data signed (CMS SignedData, content attached, DER) with cert and key
 * of ctx and its chain: 0 with a malloc'd *out of *out_len octets, -1
 * (ERR_ENV) when ctx has no certificate or OpenSSL fails. */
int autoconf_sign(SSL_CTX *ctx, const char *data, size_t len,
		  unsigned char **out, size_t *out_len, struct err *err);

/* The profile's absolute address for a QR code: https://autoconfig.
 * DOMAIN[:port]/apple/mail.mobileconfig (http:// and http_port when
 * no HTTPS listener is configured). */
void autoconf_profile_url(const struct cfg_client_services *svc,
			  const struct autoconf_who *w, unsigned http_port,
			  char *out, size_t outsz);

/* The settings page, English and Chinese: the table, user name, app
 * passwords, the profile link and its QR code (inline SVG). */
char *autoconf_settings_html(const struct cfg_client_services *svc,
			     const struct autoconf_who *w,
			     const char *profile_url, size_t *len_out);
/* The page for an unknown domain: says only that there are none here. */
char *autoconf_unknown_html(size_t *len_out);
/* The QR code of text as an SVG element (autoconf_qr.c, libqrencode):
 * malloc'd, or NULL when text does not fit a QR code. */
char *autoconf_qr_svg(const char *text, size_t *len_out);

/* One row of the settings table: the service's English and Chinese
 * names and its security as shown. */
struct autoconf_row {
	const struct cfg_client_service *svc;
	const char *label_en, *label_zh;
	const char *security;	/* "SSL/TLS", "STARTTLS" */
};
/* The offered services in display order (IMAP, POP3, SMTP; TLS first):
 * the number of rows (at most CFG_SVC_N). */
size_t autoconf_rows(const struct cfg_client_services *svc,
		     struct autoconf_row rows[CFG_SVC_N]);
/* {"domain", "username", "services": [{service, protocol, host, port,
 * security, srv}], "profile_url", "settings_path"} for petrelctl. */
json_t *autoconf_settings_json(const struct cfg_client_services *svc,
			       const struct autoconf_who *w,
			       const char *profile_url);

#endif
