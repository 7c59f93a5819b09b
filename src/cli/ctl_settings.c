/* ctl_settings.c - petrelctl domain settings: the server addresses of a
 * hosted domain as its users should enter them, the same table the
 * settings page and the autoconfig documents are made from
 * (cfg_client_services, src/autoconf/). */
#include <stdio.h>

#include <jansson.h>

#include "autoconf/autoconf.h"
#include "cli/ctl.h"
#include "store/store.h"

int ctl_domain_settings(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("domain settings DOMAIN");
	struct autoconf_who w;
	struct store_domain d;
	if (autoconf_domain_parse(argv[0], &w) != 0) {
		err_set(&c->err, ERR_PEER, 0, NULL, "'%.255s' is not a domain name",
			argv[0]);
		return ctl_fail(c);
	}
	int rc = store_domain_get(c->st, w.domain, &d, &c->err);
	if (rc == 0)
		err_set(&c->err, ERR_NOTFOUND, 0, NULL, "no domain %s", w.domain);
	if (rc != 1)
		return ctl_fail(c);
	struct cfg_client_services svc;
	cfg_client_services(&c->cfg, &svc);
	char url[SMTP_DOMAIN_MAX + 128];
	autoconf_profile_url(&svc, &w, cfg_listen_first_port(
				     &c->cfg.listen_autoconfig_http), url, sizeof url);
	if (c->json) {
		ctl_doc(c, autoconf_settings_json(&svc, &w, url));
		return 0;
	}
	struct autoconf_row rows[CFG_SVC_N];
	size_t n = autoconf_rows(&svc, rows);
	printf("Mail settings for %s\n\n  %-22s %-30s %-6s %s\n", w.domain,
	       "service", "host", "port", "security");
	for (size_t i = 0; i < n; i++)
		printf("  %-22s %-30s %-6u %s\n", rows[i].label_en,
		       rows[i].svc->host, rows[i].svc->port, rows[i].security);
	printf("\n  user name: the full e-mail address (name@%s)\n"
	       "  password: the mailbox password, or an app password "
	       "(petrelctl apppass add)\n"
	       "  Apple profile: %s\n"
	       "  settings page: /settings/%s on the autoconfig listeners\n",
	       w.domain, url, w.domain);
	return 0;
}
