/* autoconf_docs.c - the documents Thunderbird and Outlook read: Mozilla's
 * config-v1.1.xml (the ISPDB format, wiki.mozilla.org/Thunderbird:
 * Autoconfiguration:ConfigFileFormat) and Microsoft's Autodiscover POX
 * response and error ([MS-OXDSCLI] 2.2.4), plus the v2 JSON pointer to
 * the POX endpoint. Values come from cfg_client_services only. */
#include "autoconf/autoconf_private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#define AD_RESPONSE_NS \
	"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"

static void moz_server(struct ac_out *o, const struct cfg_client_service *s)
{
	bool out = !strcmp(s->proto, "smtp");
	ac_putf(o, "    <%s type=\"%s\">\n", out ? "outgoingServer" :
		"incomingServer", s->proto);
	ac_elem(o, "      ", "hostname", s->host);
	ac_putf(o, "      <port>%u</port>\n", s->port);
	ac_elem(o, "      ", "socketType", s->implicit_tls ? "SSL" : "STARTTLS");
	/* the password goes inside TLS; SCRAM is offered too, but
	 * clients pick it from the server's list, not from here */
	ac_elem(o, "      ", "authentication", "password-cleartext");
	ac_elem(o, "      ", "username", "%EMAILADDRESS%");
	ac_putf(o, "    </%s>\n", out ? "outgoingServer" : "incomingServer");
}

char *autoconf_mozilla(const struct cfg_client_services *svc,
		       const struct autoconf_who *w, size_t *len_out)
{
	struct ac_out o;
	ac_begin(&o);
	ac_put(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<clientConfig version=\"1.1\">\n  <emailProvider id=\"");
	ac_text(&o, w->domain);
	ac_put(&o, "\">\n");
	ac_elem(&o, "    ", "domain", w->domain);
	ac_putf(&o, "    <displayName>");
	ac_text(&o, w->domain);
	ac_put(&o, " mail</displayName>\n");
	ac_elem(&o, "    ", "displayShortName", w->domain);
	/* RFC 8314 4.1: implicit TLS first, clients take the first that
	 * works */
	for (size_t i = 0; i < CFG_SVC_N; i++)
		if (svc->s[i].port != 0)
			moz_server(&o, &svc->s[i]);
	ac_put(&o, "  </emailProvider>\n</clientConfig>\n");
	return ac_finish(&o, len_out);
}

/* The first offered of the implicit-TLS and STARTTLS variant. */
static const struct cfg_client_service *pick(const struct cfg_client_services *svc,
					     enum cfg_svc tls, enum cfg_svc plain)
{
	return svc->s[tls].port ? &svc->s[tls] :
	       svc->s[plain].port ? &svc->s[plain] : NULL;
}

static void ad_protocol(struct ac_out *o, const char *type,
			const struct cfg_client_service *s,
			const struct autoconf_who *w)
{
	if (s == NULL)
		return;
	ac_put(o, "      <Protocol>\n");
	ac_elem(o, "        ", "Type", type);
	ac_elem(o, "        ", "Server", s->host);
	ac_putf(o, "        <Port>%u</Port>\n", s->port);
	ac_elem(o, "        ", "DomainRequired", "off");
	ac_elem(o, "        ", "LoginName", w->email);
	ac_elem(o, "        ", "SPA", "off");
	/* Encryption (Outlook 2010 on) wins over SSL: TLS is STARTTLS */
	ac_elem(o, "        ", "SSL", "on");
	ac_elem(o, "        ", "Encryption", s->implicit_tls ? "SSL" : "TLS");
	ac_elem(o, "        ", "AuthRequired", "on");
	if (!strcmp(type, "SMTP"))
		ac_elem(o, "        ", "UsePOPAuth", "on");
	ac_put(o, "      </Protocol>\n");
}

char *autoconf_ad_response(const struct cfg_client_services *svc,
			   const struct autoconf_who *w, size_t *len_out)
{
	struct ac_out o;
	ac_begin(&o);
	ac_put(&o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		   "<Autodiscover xmlns=\"" AD_RESPONSE_NS "\">\n"
		   "  <Response xmlns=\"" AUTOCONF_AD_OUTLOOK_SCHEMA "\">\n"
		   "    <User>\n");
	ac_elem(&o, "      ", "DisplayName", w->email);
	ac_put(&o, "    </User>\n    <Account>\n"
		   "      <AccountType>email</AccountType>\n"
		   "      <Action>settings</Action>\n");
	ad_protocol(&o, "IMAP", pick(svc, CFG_SVC_IMAPS, CFG_SVC_IMAP), w);
	ad_protocol(&o, "SMTP", pick(svc, CFG_SVC_SUBMISSIONS, CFG_SVC_SUBMISSION), w);
	ad_protocol(&o, "POP3", pick(svc, CFG_SVC_POP3S, CFG_SVC_POP3), w);
	ac_put(&o, "    </Account>\n  </Response>\n</Autodiscover>\n");
	return ac_finish(&o, len_out);
}

char *autoconf_ad_error(int code, const char *message, int64_t now,
			size_t *len_out)
{
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	/* Id: Exchange's is a server id; ours only tells errors apart in a
	 * client's log, so the time's hash will do */
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_Digest(&now, sizeof now, md, &mdlen, EVP_sha256(), NULL);
	unsigned long id = (unsigned long)md[0] << 24 | (unsigned long)md[1] << 16 |
			   (unsigned long)md[2] << 8 | md[3];
	struct ac_out o;
	ac_begin(&o);
	ac_putf(&o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		    "<Autodiscover xmlns=\"" AD_RESPONSE_NS "\">\n"
		    "  <Response>\n"
		    "    <Error Time=\"%02d:%02d:%02d\" Id=\"%lu\">\n"
		    "      <ErrorCode>%d</ErrorCode>\n",
		tm.tm_hour, tm.tm_min, tm.tm_sec, id, code);
	ac_elem(&o, "      ", "Message", message);
	ac_put(&o, "      <DebugData />\n    </Error>\n  </Response>\n"
		   "</Autodiscover>\n");
	return ac_finish(&o, len_out);
}

json_t *autoconf_ad_json(const struct cfg_client_services *svc,
			 const struct autoconf_who *w, unsigned http_port)
{
	char base[SMTP_DOMAIN_MAX + 64], url[SMTP_DOMAIN_MAX + 128];
	ac_base_url(svc, "autodiscover", w->domain, http_port, base, sizeof base);
	snprintf(url, sizeof url, "%s/autodiscover/autodiscover.xml", base);
	json_t *o = json_object();
	json_object_set_new(o, "Protocol", json_string("AutodiscoverV1"));
	json_object_set_new(o, "Url", json_string(url));
	return o;
}
