/* doctor_run.c - one DNS doctor run as petrelctl and the API do it:
 * the domain's keys and records from the store and config, then the
 * check against live DNS. */
#include "msgauth/doctor.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "msgauth/dkim_keys.h"
#include "msgauth/ma_dns_ub.h"

int doctor_run_records(struct store *st, const struct config *cfg,
		       const char *domain, int64_t now, struct doctor_run *r,
		       struct err *err)
{
	memset(r, 0, sizeof *r);
	struct store_domain d;
	int rc = store_domain_get(st, domain, &d, err);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(err, ERR_NOTFOUND, 0, "",
					     "domain %s is not hosted here",
					     domain);
	snprintf(r->domain, sizeof r->domain, "%s", d.name);
	if (dkim_keys_ensure(st, r->domain, now, err) < 0 ||
	    dkim_keys_list(st, r->domain, &r->keys, &r->nkeys, err) != 0)
		return -1;
	doctor_site_from_config(cfg, &r->site);
	doctor_records(&r->site, r->domain, r->keys, r->nkeys, now, &r->rec);
	return 0;
}

int doctor_run_check(struct doctor_run *r, const struct config *cfg,
		     int64_t now, struct err *err)
{
	struct dns_options opt = { .forwarder = cfg->dns_forwarder,
				   .timeout = cfg->dns_timeout };
	struct ma_dns_ub *u = ma_dns_ub_new(&opt, err);
	if (u == NULL)
		return -1;
	struct ma_dns dns;
	ma_dns_ub_dns(u, &dns);
	if (r->report == NULL)
		r->report = xmalloc(sizeof *r->report);
	doctor_check(&dns, &r->site, r->domain, &r->rec, r->keys, r->nkeys,
		     now, r->report);
	ma_dns_ub_free(&u);
	return 0;
}

json_t *doctor_run_json(const struct doctor_run *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(o, "records", doctor_records_json(&r->rec));
	json_object_set_new(o, "mta_sts_policy",
			    json_string(r->rec.mta_sts_policy));
	if (r->report != NULL) {
		json_object_set_new(o, "checks",
				    doctor_report_json(r->report));
		json_object_set_new(o, "ok",
				    json_boolean(doctor_report_ok(r->report)));
		json_object_set_new(o, "max_ttl",
				    json_integer(r->report->max_ttl));
	}
	return o;
}

void doctor_run_free(struct doctor_run *r)
{
	free(r->keys);
	free(r->report);
	r->keys = NULL;
	r->report = NULL;
}
