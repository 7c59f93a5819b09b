/* http_dns.c - GET /api/v1/domains/{domain}/dns: the DNS doctor through
 * the API, as `petrelctl dns records` and `dns check` (msgauth/doctor.h).
 * ?check=false leaves out the live DNS check (which blocks this thread
 * for up to dns_timeout per question). A domain-scoped token may ask
 * about its own domain. The first call for a domain without DKIM keys
 * makes them (decision 0029). */
#include <stdlib.h>
#include <time.h>

#include "core/xmalloc.h"
#include "http/http_private.h"
#include "msgauth/doctor.h"

static int domain_dns(struct http_ctx *c)
{
	struct store_domain d;
	bool check = true;
	if (http_param_bool(c, "check", &check) < 0 || http_params_done(c) != 0 ||
	    http_domain_access(c, c->cap[0], &d) != 0)
		return -1;
	const struct config *cfg = c->api->opt.cfg;
	if (cfg == NULL)
		return http_error(c, 503, "unavailable", NULL,
				  "the DNS doctor needs the server's "
				  "configuration");
	struct doctor_run *r = xcalloc(1, sizeof *r);
	struct err err;
	err_clear(&err);
	int64_t now = (int64_t)time(NULL);
	int rc;
	if (doctor_run_records(c->api->st, cfg, d.name, now, r, &err) != 0 ||
	    (check && doctor_run_check(r, cfg, now, &err) != 0))
		rc = http_store_error(c, &err);
	else
		rc = http_reply(c, 200, doctor_run_json(r));
	doctor_run_free(r);
	free(r);
	return rc;
}

static const struct http_route routes[] = {
	{ HTTP_M_GET, "/api/v1/domains/{domain}/dns", domain_dns, 0 },
};

const struct http_route_table http_dns_routes = {
	routes, sizeof routes / sizeof *routes
};
