/* autoconf_who.c - who a document is for, from what a client sent: an
 * address, a domain name or a Host header, each checked before any of
 * it reaches a document or the store; and the table of offered
 * services as the page and the CLI show it. */
#include "autoconf/autoconf_private.h"

#include <stdio.h>
#include <string.h>

#include "store/store.h"

int autoconf_domain_parse(const char *name, struct autoconf_who *out)
{
	memset(out, 0, sizeof *out);
	char uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct err err;
	/* a single label ("localhost") is no hosted domain */
	if (name[0] == '\0' || strchr(name, '.') == NULL ||
	    strlen(name) > SMTP_DOMAIN_MAX * 4 ||
	    store_domain_idna(name, out->domain, sizeof out->domain, uni,
			      sizeof uni, &err) != 0)
		return -1;
	for (const char *c = out->domain; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '.'))
			return -1;
	/* an address literal is no domain: top-level labels are not
	 * all digits (RFC 3696 2) */
	const char *dot = strrchr(out->domain, '.');
	if (dot == NULL || dot[1] == '\0' ||
	    strspn(dot + 1, "0123456789") == strlen(dot + 1))
		return -1;
	return 0;
}

/* RFC 5322 3.2.3 atext and '.': what hosted mailboxes are made of; a
 * quoted local part is refused (no hosted mailbox has one). */
static bool local_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

int autoconf_email_parse(const char *email, struct autoconf_who *out)
{
	memset(out, 0, sizeof *out);
	const char *at = strrchr(email, '@');
	if (at == NULL || at == email ||
	    (size_t)(at - email) > AUTOCONF_LOCAL_MAX ||
	    email[0] == '.' || at[-1] == '.')
		return -1;
	for (const char *c = email; c < at; c++)
		if (!local_char(*c) || (c[0] == '.' && c[1] == '.'))
			return -1;
	if (autoconf_domain_parse(at + 1, out) != 0)
		return -1;
	snprintf(out->email, sizeof out->email, "%.*s@%s", (int)(at - email),
		 email, out->domain);
	return 0;
}

int autoconf_host_parse(struct span host, struct autoconf_who *out)
{
	char name[SMTP_DOMAIN_MAX + 1];
	size_t n = host.len;
	/* "[::1]:8443" and bare addresses name no domain */
	if (n == 0 || host.p[0] == '[')
		return -1;
	const unsigned char *colon = memchr(host.p, ':', n);
	if (colon != NULL)
		n = (size_t)(colon - host.p);
	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = host.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return -1;
		name[i] = (char)c;
	}
	name[n] = '\0';
	if (n > 0 && name[n - 1] == '.')
		name[--n] = '\0';
	const char *d = name;
	if (!strncmp(d, "autoconfig.", 11))
		d += 11;
	else if (!strncmp(d, "autodiscover.", 13))
		d += 13;
	return autoconf_domain_parse(d, out);
}

size_t autoconf_rows(const struct cfg_client_services *svc,
		     struct autoconf_row rows[CFG_SVC_N])
{
	static const struct { enum cfg_svc s; const char *en, *zh; } order[] = {
		{ CFG_SVC_IMAPS, "Incoming mail (IMAP)", "收信服务器 (IMAP)" },
		{ CFG_SVC_IMAP, "Incoming mail (IMAP)", "收信服务器 (IMAP)" },
		{ CFG_SVC_POP3S, "Incoming mail (POP3)", "收信服务器 (POP3)" },
		{ CFG_SVC_POP3, "Incoming mail (POP3)", "收信服务器 (POP3)" },
		{ CFG_SVC_SUBMISSIONS, "Outgoing mail (SMTP)", "发信服务器 (SMTP)" },
		{ CFG_SVC_SUBMISSION, "Outgoing mail (SMTP)", "发信服务器 (SMTP)" },
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
		const struct cfg_client_service *s = &svc->s[order[i].s];
		if (s->port == 0)
			continue;
		rows[n].svc = s;
		rows[n].label_en = order[i].en;
		rows[n].label_zh = order[i].zh;
		rows[n].security = s->implicit_tls ? "SSL/TLS" : "STARTTLS";
		n++;
	}
	return n;
}

void ac_base_url(const struct cfg_client_services *svc, const char *label,
		 const char *domain, unsigned http_port, char *out,
		 size_t outsz)
{
	bool https = svc->https_port != 0;
	unsigned port = https ? svc->https_port : http_port;
	char p[16] = "";
	if (port != 0 && port != (https ? 443u : 80u))
		snprintf(p, sizeof p, ":%u", port);
	snprintf(out, outsz, "%s://%s.%s%s", https ? "https" : "http", label,
		 domain, p);
}

void autoconf_profile_url(const struct cfg_client_services *svc,
			  const struct autoconf_who *w, unsigned http_port,
			  char *out, size_t outsz)
{
	char base[SMTP_DOMAIN_MAX + 64];
	ac_base_url(svc, "autoconfig", w->domain, http_port, base, sizeof base);
	snprintf(out, outsz, "%s/apple/mail.mobileconfig", base);
}

json_t *autoconf_settings_json(const struct cfg_client_services *svc,
			       const struct autoconf_who *w,
			       const char *profile_url)
{
	struct autoconf_row rows[CFG_SVC_N];
	size_t n = autoconf_rows(svc, rows);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct cfg_client_service *s = rows[i].svc;
		json_t *o = json_object();
		json_object_set_new(o, "service", json_string(s->name));
		json_object_set_new(o, "protocol", json_string(s->proto));
		json_object_set_new(o, "host", json_string(s->host));
		json_object_set_new(o, "port", json_integer(s->port));
		json_object_set_new(o, "security", json_string(rows[i].security));
		json_object_set_new(o, "srv", json_string(s->srv));
		json_array_append_new(list, o);
	}
	char path[SMTP_DOMAIN_MAX + 16];
	snprintf(path, sizeof path, "/settings/%s", w->domain);
	json_t *root = json_object();
	json_object_set_new(root, "domain", json_string(w->domain));
	json_object_set_new(root, "username", json_string("the full e-mail address"));
	json_object_set_new(root, "services", list);
	json_object_set_new(root, "profile_url", json_string(profile_url));
	json_object_set_new(root, "settings_path", json_string(path));
	return root;
}
