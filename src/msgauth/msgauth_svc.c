/* msgauth_svc.c - the authentication pool of petreld. */
#include "msgauth/msgauth_svc.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "msgauth/dmarc_reporter.h"
#include "msgauth/ma_dns_ub.h"

struct msgauth_svc {
	struct store *st;
	struct dkim_key_policy policy;
	struct ma_dns_ub *ub;
	struct ma_dns dns;
	struct jobs *jobs;
	struct msgauth_conf conf;
	const char *trusted[CFG_MAX_DOMAINS];
	const struct config *cfg;
	struct dmarc_agg *agg;		/* DMARC report rows; NULL: off */
	struct dmarc_reporter *reporter;
};

struct msgauth_svc *msgauth_svc_new(const struct config *cfg, struct err *err)
{
	struct dns_options opt = { .forwarder = cfg->dns_forwarder,
				   .timeout = cfg->dns_timeout };
	struct ma_dns_ub *ub = ma_dns_ub_new(&opt, err);
	if (ub == NULL)
		return NULL;
	struct msgauth_svc *svc = xcalloc(1, sizeof *svc);
	svc->ub = ub;
	ma_dns_ub_dns(ub, &svc->dns);
	svc->jobs = jobs_new(cfg->msgauth_threads ? cfg->msgauth_threads : 1);
	svc->conf.authserv_id = cfg->hostname;
	svc->conf.dmarc_enforce = cfg->dmarc_enforce;
	for (size_t i = 0; i < cfg->arc_trusted_sealers.n; i++)
		svc->trusted[i] = cfg->arc_trusted_sealers.name[i];
	svc->conf.arc_trusted = svc->trusted;
	svc->conf.n_arc_trusted = cfg->arc_trusted_sealers.n;
	dkim_key_policy_from_config(cfg, &svc->policy);
	svc->cfg = cfg;
	if (cfg->dmarc_reports && cfg->msgauth_inbound)
		svc->agg = dmarc_agg_new(0);
	return svc;
}

void msgauth_svc_free(struct msgauth_svc **sp)
{
	struct msgauth_svc *svc = *sp;
	if (svc == NULL)
		return;
	jobs_free(&svc->jobs);
	dmarc_reporter_stop(&svc->reporter);	/* flushes the last rows */
	dmarc_agg_free(&svc->agg);
	ma_dns_ub_free(&svc->ub);
	free(svc);
	*sp = NULL;
}

void msgauth_svc_set_store(struct msgauth_svc *svc, struct store *st)
{
	svc->st = st;
	struct err err;
	if (svc->agg != NULL && svc->reporter == NULL &&
	    (svc->reporter = dmarc_reporter_start(svc->cfg, st, &svc->dns,
						  svc->agg, &err)) == NULL)
		log_error("dmarc", NULL, "op=start error=\"%s\"", err.msg);
}

const struct ma_dns *msgauth_svc_dns(const struct msgauth_svc *svc)
{
	return &svc->dns;
}

static void job_run(struct job *job)
{
	struct msgauth_job *j = (struct msgauth_job *)(void *)job;
	if (j->kind == MSGAUTH_SIGN)
		msgauth_sign(j->svc_->st, &j->svc_->policy, j->in.msg, j->in.len,
			     j->in.now, &j->sig);
	else if (j->no_checks)
		memset(&j->out, 0, sizeof j->out);
	else
		msgauth_inbound(&j->svc_->dns, &j->svc_->conf, &j->in, &j->out);
	/* With the checks, where DNS is expected to answer: without them
	 * (msgauth_inbound = no) a resolver may not be there at all. */
	if (j->kind == MSGAUTH_CHECK && !j->no_checks)
		j->out.rdns = ma_rdns_lookup(&j->svc_->dns, j->in.family,
					     j->in.ip, j->out.rdns_name,
					     sizeof j->out.rdns_name);
	if (j->kind == MSGAUTH_CHECK && !j->no_checks &&
	    j->out.action != MSGAUTH_REJECT &&
	    (j->seal_domain[0] != NULL || j->seal_domain[1] != NULL))
		msgauth_seal(j->svc_->st, &j->svc_->policy, j->seal_domain, 2,
			     &j->in, &j->out, &j->seal);
	struct store_dmarc_row row;	/* DMARC aggregate reports */
	if (j->kind == MSGAUTH_CHECK && !j->no_checks && j->svc_->agg != NULL &&
	    dmarc_agg_row(&j->in, &j->out, &row))
		dmarc_agg_add(j->svc_->agg, &row);
	if (j->kind == MSGAUTH_CHECK && j->after != NULL)
		j->after(j);
}

static void job_done(struct job *job)
{
	struct msgauth_job *j = (struct msgauth_job *)(void *)job;
	j->done(j);
}

void msgauth_submit(struct msgauth_svc *svc, struct msgauth_job *j)
{
	j->svc_ = svc;
	j->job.run = job_run;
	j->job.done = job_done;
	jobs_submit(svc->jobs, &j->job);
}
