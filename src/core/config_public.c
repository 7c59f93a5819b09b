/* config_public.c - the client services (IMAP, POP3, submission) as mail
 * clients are told about them: the public host name and port of each,
 * which may differ from the machine's name and the listening port (NAT,
 * a port forward from 993 to 2993). The autoconfig documents, the
 * settings page, petrelctl domain settings and the DNS doctor's SRV
 * records all read this one table, so they never disagree. */
#include "core/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned cfg_listen_first_port(const struct cfg_listen_list *l)
{
	if (l->n == 0)
		return 0;
	unsigned long v = strtoul(l->addr[0].port, NULL, 10);
	return v > 0 && v < 65536 ? (unsigned)v : 0;
}

static void one(struct cfg_client_service *s, const char *name,
		const char *srv, const char *proto, bool implicit_tls,
		const char *host, const char *fallback,
		const struct cfg_listen_list *l, unsigned public_port)
{
	s->name = name;
	s->srv = srv;
	s->proto = proto;
	s->implicit_tls = implicit_tls;
	snprintf(s->host, sizeof s->host, "%s", host[0] ? host : fallback);
	/* a public port without a listener behind it would send clients
	 * to a service that is not there */
	s->port = l->n == 0 ? 0 : public_port ? public_port :
		  cfg_listen_first_port(l);
}

void cfg_client_services(const struct config *cfg,
			 struct cfg_client_services *out)
{
	memset(out, 0, sizeof *out);
	const char *h = cfg->hostname;
	one(&out->s[CFG_SVC_IMAPS], "imaps", "_imaps._tcp", "imap", true,
	    cfg->public_imap_host, h, &cfg->listen_imaps, cfg->public_imaps_port);
	one(&out->s[CFG_SVC_IMAP], "imap", "_imap._tcp", "imap", false,
	    cfg->public_imap_host, h, &cfg->listen_imap, cfg->public_imap_port);
	one(&out->s[CFG_SVC_POP3S], "pop3s", "_pop3s._tcp", "pop3", true,
	    cfg->public_pop3_host, h, &cfg->listen_pop3s, cfg->public_pop3s_port);
	one(&out->s[CFG_SVC_POP3], "pop3", "_pop3._tcp", "pop3", false,
	    cfg->public_pop3_host, h, &cfg->listen_pop3, cfg->public_pop3_port);
	one(&out->s[CFG_SVC_SUBMISSIONS], "submissions", "_submissions._tcp",
	    "smtp", true, cfg->public_smtp_host, h, &cfg->listen_submissions,
	    cfg->public_submissions_port);
	one(&out->s[CFG_SVC_SUBMISSION], "submission", "_submission._tcp",
	    "smtp", false, cfg->public_smtp_host, h, &cfg->listen_submission,
	    cfg->public_submission_port);
	out->https_port = cfg->listen_autoconfig.n == 0 ? 0 :
			  cfg->public_autoconfig_port ? cfg->public_autoconfig_port :
			  cfg_listen_first_port(&cfg->listen_autoconfig);
}

int cfg_public_check(const struct config *cfg, struct err *err)
{
	static const struct { const char *key; size_t off; } hosts[] = {
		{ "public_imap_host", offsetof(struct config, public_imap_host) },
		{ "public_pop3_host", offsetof(struct config, public_pop3_host) },
		{ "public_smtp_host", offsetof(struct config, public_smtp_host) },
	};
	for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
		const char *v = (const char *)cfg + hosts[i].off;
		/* these go into XML, HTML and zone files as they are */
		for (const char *c = v; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
				return err_set(err, ERR_CONFIG, 0, NULL,
					       "%s '%.64s' may only hold letters, "
					       "digits, '.' and '-'", hosts[i].key, v);
	}
	return 0;
}
