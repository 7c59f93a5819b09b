/* http_autoconf.c - the public endpoints of the autoconfig listeners
 * (listen_autoconfig, listen_autoconfig_http; decision 0041): Mozilla
 * autoconfig, Microsoft Autodiscover (POX and the v2 JSON pointer), the
 * Apple profile and the settings page. They run before any
 * authentication, so each answers from the configuration and one
 * question to the store (is this domain hosted?), and an unknown,
 * suspended-or-not, malformed or absent domain all get the same 404:
 * nothing beyond what the domain's MX records already say. Documents
 * are made by src/autoconf/; errors are in each protocol's own format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "autoconf/autoconf.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/http_private.h"
#include "net/tls_ref.h"

#define CT_XML "application/xml; charset=utf-8"
#define CT_AD "text/xml; charset=utf-8"
#define CT_HTML "text/html; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_PROFILE "application/x-apple-aspen-config"

static const char not_here[] =
	"This server has no mail settings for that domain.";

/* Hand body (malloc'd) to the response. -1 for errors, as handlers end. */
static int doc(struct http_ctx *c, int status, const char *ctype, char *body,
	       size_t len)
{
	free(c->resp->body);
	c->resp->status = status;
	c->resp->body = body;
	c->resp->body_len = len;
	snprintf(c->resp->content_type, sizeof c->resp->content_type, "%s",
		 ctype);
	return status < 400 ? 0 : -1;
}

static int text(struct http_ctx *c, int status, const char *msg)
{
	char *body = xmalloc(strlen(msg) + 2);
	size_t n = strlen(msg);
	memcpy(body, msg, n);
	body[n] = '\n';
	body[n + 1] = '\0';
	return doc(c, status, CT_TEXT, body, n + 1);
}

/* Who the request is about: the address if one was given (it must be
 * well formed), else the domain named, else the Host header's. 200, or
 * 400 (malformed address), 404 (no such domain here), 503 (store). */
static int resolve(struct http_ctx *c, const char *email, const char *domain,
		   struct autoconf_who *w)
{
	int rc;
	if (email != NULL && email[0] != '\0')
		rc = autoconf_email_parse(email, w);
	else if (domain != NULL)
		rc = autoconf_domain_parse(domain, w) != 0 ? 1 : 0;
	else
		rc = autoconf_host_parse(c->req->host, w) != 0 ? 1 : 0;
	if (rc < 0)
		return 400;
	if (rc > 0)
		return 404;
	struct store_domain d;
	struct err err;
	rc = store_domain_get(c->api->st, w->domain, &d, &err);
	return rc < 0 ? 503 : rc == 0 ? 404 : 200;
}

/* resolve() for the plain-text endpoints (Mozilla, profile): 0, or -1
 * with the error sent; param names the address parameter. */
static int resolve_text(struct http_ctx *c, const char *param,
			const char *domain, struct autoconf_who *w)
{
	int st = resolve(c, http_param(c, param), domain, w);
	if (st == 200)
		return 0;
	if (st == 400) {
		char msg[64];
		snprintf(msg, sizeof msg, "%s is not an e-mail address.", param);
		return text(c, 400, msg);
	}
	return text(c, st, st == 404 ? not_here : "Try again later.");
}

static void services(struct http_ctx *c, struct cfg_client_services *svc,
		     unsigned *http_port)
{
	cfg_client_services(c->api->opt.cfg, svc);
	*http_port = cfg_listen_first_port(&c->api->opt.cfg->listen_autoconfig_http);
}

/* ---- Mozilla autoconfig ---------------------------------------------- */

static int mozilla(struct http_ctx *c)
{
	struct autoconf_who w;
	if (resolve_text(c, "emailaddress", NULL, &w) != 0)
		return -1;
	struct cfg_client_services svc;
	unsigned hp;
	services(c, &svc, &hp);
	size_t len;
	char *x = autoconf_mozilla(&svc, &w, &len);
	return doc(c, 200, CT_XML, x, len);
}

/* ---- Microsoft Autodiscover ------------------------------------------ */

static int ad_error(struct http_ctx *c, int status, int code, const char *msg)
{
	size_t len;
	char *x = autoconf_ad_error(code, msg, c->req->now, &len);
	return doc(c, status, CT_AD, x, len);
}

static int autodiscover(struct http_ctx *c)
{
	if (c->req->body.len > AUTOCONF_AD_BODY_MAX)
		return ad_error(c, 413, AUTOCONF_AD_INVALID,
				"The request is too large.");
	struct autoconf_ad_request rq;
	const char *why = NULL;
	enum autoconf_ad_status s = autoconf_ad_parse(c->req->body, &rq, &why);
	if (s != AUTOCONF_AD_OK)
		return ad_error(c, 400, (int)s, why);
	struct autoconf_who w;
	int st = resolve(c, rq.email, NULL, &w);
	if (rq.email[0] == '\0' || st == 400)
		return ad_error(c, 400, AUTOCONF_AD_INVALID,
				"EMailAddress is not an e-mail address.");
	/* 500: Exchange's "The e-mail address cannot be found" */
	if (st == 404)
		return ad_error(c, 404, 500, not_here);
	if (st != 200)
		return ad_error(c, st, 500, "Try again later.");
	struct cfg_client_services svc;
	unsigned hp;
	services(c, &svc, &hp);
	size_t len;
	char *x = autoconf_ad_response(&svc, &w, &len);
	return doc(c, 200, CT_AD, x, len);
}

static int ad_json_error(struct http_ctx *c, int status, const char *code,
			 const char *msg)
{
	json_t *o = json_object();
	json_object_set_new(o, "ErrorCode", json_string(code));
	json_object_set_new(o, "ErrorMessage", json_string(msg));
	http_reply(c, status, o);
	return -1;
}

/* Autodiscover v2: ?Email=&Protocol=AutodiscoverV1, or the address as
 * the last path segment (/autodiscover/autodiscover.json/v1.0/ADDR):
 * where the POX endpoint is. Other protocols (EWS, ActiveSync) are not
 * offered. */
static int ad_json(struct http_ctx *c)
{
	const char *proto = http_param(c, "Protocol");
	const char *email = c->ncap > 0 ? c->cap[0] : http_param(c, "Email");
	if (proto == NULL || strcasecmp(proto, "AutodiscoverV1") != 0)
		return ad_json_error(c, 400, "InvalidProtocol",
				     "The given protocol value is invalid. "
				     "Supported values are 'AutodiscoverV1'.");
	struct autoconf_who w;
	int st = email ? resolve(c, email, NULL, &w) : 400;
	if (st == 400)
		return ad_json_error(c, 400, "InvalidUser",
				     "Email is not an e-mail address.");
	if (st != 200)
		return ad_json_error(c, st, st == 404 ? "NotFound" : "Unavailable",
				     st == 404 ? not_here : "Try again later.");
	struct cfg_client_services svc;
	unsigned hp;
	services(c, &svc, &hp);
	return http_reply(c, 200, autoconf_ad_json(&svc, &w, hp));
}

/* ---- Apple profile ---------------------------------------------------- */

static int apple(struct http_ctx *c)
{
	struct autoconf_who w;
	if (resolve_text(c, "email", http_param(c, "domain"), &w) != 0)
		return -1;
	struct cfg_client_services svc;
	unsigned hp;
	services(c, &svc, &hp);
	size_t len;
	char *plist = autoconf_mobileconfig(&svc, &w, &len);
	SSL_CTX *ctx = c->api->opt.sign_tls ? net_tls_ref_get(c->api->opt.sign_tls) :
		       NULL;
	if (ctx == NULL)
		return doc(c, 200, CT_PROFILE, plist, len);
	unsigned char *der;
	size_t dlen;
	struct err err;
	int rc = autoconf_sign(ctx, plist, len, &der, &dlen, &err);
	SSL_CTX_free(ctx);
	if (rc != 0) {
		/* an unsigned profile still configures the device */
		log_warn("http", NULL, "profile not signed: %s", err.msg);
		return doc(c, 200, CT_PROFILE, plist, len);
	}
	free(plist);
	return doc(c, 200, CT_PROFILE, (char *)der, dlen);
}

/* ---- the settings page ----------------------------------------------- */

static int settings(struct http_ctx *c)
{
	struct autoconf_who w;
	int st = resolve(c, NULL, c->cap[0], &w);
	size_t len;
	if (st != 200) {
		char *x = autoconf_unknown_html(&len);
		return doc(c, st == 503 ? 503 : 404, CT_HTML, x, len);
	}
	struct cfg_client_services svc;
	unsigned hp;
	services(c, &svc, &hp);
	char url[SMTP_DOMAIN_MAX + 128];
	autoconf_profile_url(&svc, &w, hp, url, sizeof url);
	char *x = autoconf_settings_html(&svc, &w, url, &len);
	return doc(c, 200, CT_HTML, x, len);
}

static const struct http_route routes[] = {
	{ HTTP_M_GET, "/mail/config-v1.1.xml", mozilla, HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_GET, "/.well-known/autoconfig/mail/config-v1.1.xml", mozilla,
	  HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_POST, "/autodiscover/autodiscover.xml", autodiscover,
	  HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_POST, "/Autodiscover/Autodiscover.xml", autodiscover,
	  HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_GET, "/autodiscover/autodiscover.json", ad_json,
	  HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_GET, "/autodiscover/autodiscover.json/v1.0/{email}", ad_json,
	  HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_GET, "/apple/mail.mobileconfig", apple, HTTP_ROUTE_NO_AUTH },
	{ HTTP_M_GET, "/settings/{domain}", settings, HTTP_ROUTE_NO_AUTH },
};

const struct http_route_table http_autoconf_routes = {
	routes, sizeof routes / sizeof *routes
};
