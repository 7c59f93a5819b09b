/* ctl_doctor.c - petrelctl dns records|check DOMAIN: what a hosted domain
 * should publish (zone-file lines, then a table for DNS providers' web
 * panels) and what live DNS says about it, with the fix for each
 * mistake (msgauth/doctor.h). check exits 1 when anything is not ok. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/ctl.h"
#include "core/xmalloc.h"
#include "msgauth/doctor.h"

static int parse_args(int argc, char **argv, const char **domain, bool *json,
		      const char *usage)
{
	*domain = NULL;
	*json = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			*json = true;
		else if (argv[i][0] != '-' && *domain == NULL)
			*domain = argv[i];
		else
			return ctl_usage_error(usage);
	}
	return *domain == NULL ? ctl_usage_error(usage) : 0;
}

static void print_json(struct ctl *c, json_t *o)
{
	ctl_doc(c, o);
}

static void print_records(const struct doctor_run *r)
{
	char line[DOCTOR_VALUE_MAX * 2 + 400];
	printf("; zone file lines for %s\n", r->domain);
	for (size_t i = 0; i < r->rec.n; i++)
		if (doctor_zone_line(&r->rec.r[i], line, sizeof line) == 0)
			printf("%s\n", line);
	printf("\n; for a DNS provider's web panel (name, type, value, TTL)\n");
	printf("%-40s %-6s %-6s %s\n", "NAME", "TYPE", "TTL", "VALUE");
	for (size_t i = 0; i < r->rec.n; i++) {
		const struct doctor_record *d = &r->rec.r[i];
		printf("%-40s %-6s %-6u %s\n", d->name,
		       doctor_rtype_name(d->type), d->ttl, d->value);
	}
	printf("\n; MTA-STS: serve this as "
	       "https://mta-sts.%s/.well-known/mta-sts.txt\n", r->domain);
	for (const char *p = r->rec.mta_sts_policy; *p; p++)
		if (*p != '\r')
			putchar(*p);
	printf("; autoconfig, autodiscover and mta-sts point at %s, which "
	       "needs an address (A/AAAA) of its own\n", r->site.hostname);
}

/* Parse "DOMAIN [--json]", build the records and, with check, ask DNS.
 * 0 with *out (free with doctor_run_free and free), or the exit status. */
static int prepare(struct ctl *c, int argc, char **argv, bool check,
		   struct doctor_run **out, bool *json)
{
	const char *domain;
	int rc = parse_args(argc, argv, &domain, json, check ?
			    "dns check DOMAIN [--json]" :
			    "dns records DOMAIN [--json]");
	if (rc != 0)
		return rc;
	*json = *json || c->json;	/* main takes --json off the words */
	struct doctor_run *r = xcalloc(1, sizeof *r);
	int64_t now = (int64_t)time(NULL);
	if (doctor_run_records(c->st, &c->cfg, domain, now, r, &c->err) != 0 ||
	    (check && doctor_run_check(r, &c->cfg, now, &c->err) != 0)) {
		doctor_run_free(r);
		free(r);
		return ctl_fail(c);
	}
	*out = r;
	return 0;
}

int ctl_dns_records(struct ctl *c, int argc, char **argv)
{
	struct doctor_run *r;
	bool json;
	int rc = prepare(c, argc, argv, false, &r, &json);
	if (rc != 0)
		return rc;
	if (json)
		print_json(c, doctor_run_json(r));
	else
		print_records(r);
	doctor_run_free(r);
	free(r);
	return 0;
}

int ctl_dns_check(struct ctl *c, int argc, char **argv)
{
	struct doctor_run *r;
	bool json;
	int rc = prepare(c, argc, argv, true, &r, &json);
	if (rc != 0)
		return rc;
	const struct doctor_report *rep = r->report;
	bool ok = doctor_report_ok(rep);
	if (json) {
		print_json(c, doctor_run_json(r));
	} else {
		for (size_t i = 0; i < rep->n; i++) {
			const struct doctor_finding *f = &rep->f[i];
			printf("%-7s %-10s %s: %s\n",
			       doctor_status_name(f->status), f->check,
			       f->name, f->what);
			if (f->fix[0] != '\0')
				printf("        fix: %s\n", f->fix);
		}
		if (ok)
			printf("\nall records are right\n");
		else if (rep->max_ttl > 0)
			printf("\nDNS caches keep old answers for up to the "
			       "record's TTL: a fix can take that long to be "
			       "seen (longest TTL here: %u seconds)\n",
			       rep->max_ttl);
		else
			printf("\nDNS caches keep old answers for up to the "
			       "record's TTL: a fix can take that long to be "
			       "seen\n");
	}
	doctor_run_free(r);
	free(r);
	return ok ? 0 : 1;
}
