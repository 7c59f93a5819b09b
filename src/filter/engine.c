/* engine.c - the verdict: run the checks, add the lists, map the total
 * to the action of the recipient domain's level. */
#include "filter/filter.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "filter/bayes.h"
#include "filter/engine_org.h"
#include "filter/listdir.h"
#include "filter/rep.h"
#include "filter/rules.h"
#include "filter/token.h"
#include "mime/mime.h"
#include "store/store.h"

struct filter_engine {
	const struct config *cfg;
	struct store *st;
	struct filter_weights *w;
	struct filter_thresholds levels[FILTER_NLEVELS];
	struct filter_org_holder org;
	struct filter_listdir_cache *lists;	/* NULL without a store */
	struct bayes *bayes;			/* NULL without a store */
	struct filter_rep *rep;
	struct filter_rules_conf rules;
};

/* d= domains an allow may be authenticated by (DKIM_MAX_SIGS at most) */
#define FILTER_ENGINE_DKIM_MAX 8

static const char *const level_names[FILTER_NLEVELS] = {
	"standard", "enterprise", "strict"
};

const char *filter_level_str(enum filter_level l)
{
	return (unsigned)l < FILTER_NLEVELS ? level_names[l] : "?";
}

int filter_level_parse(const char *name)
{
	for (int i = 0; i < FILTER_NLEVELS; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *filter_action_str(enum filter_action a)
{
	switch (a) {
	case FILTER_DELIVER: return "deliver";
	case FILTER_JUNK: return "junk";
	case FILTER_QUARANTINE: return "quarantine";
	case FILTER_REJECT: return "reject";
	}
	return "?";
}

int filter_thresholds_parse(const char *text, struct filter_thresholds *out,
			    struct err *err)
{
	double v[3];
	const char *p = text;

	for (int i = 0; i < 3; i++) {
		char *end;
		errno = 0;
		v[i] = strtod(p, &end);
		if (end == p || errno != 0 || !isfinite(v[i]) ||
		    fabs(v[i]) > 1000)
			return err_set(err, ERR_CONFIG, 0, NULL,
				       "\"%.60s\": expected three scores "
				       "\"JUNK QUARANTINE REJECT\"", text);
		p = end;
	}
	p += strspn(p, " \t");
	if (*p != '\0' || !(v[0] <= v[1] && v[1] <= v[2]))
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "\"%.60s\": expected three increasing scores "
			       "\"JUNK QUARANTINE REJECT\"", text);
	out->junk = v[0];
	out->quarantine = v[1];
	out->reject = v[2];
	return 0;
}

struct filter_engine *filter_engine_new(const struct config *cfg,
					struct store *st, struct err *err)
{
	struct filter_engine *e = xcalloc(1, sizeof(*e));
	const char *lv[FILTER_NLEVELS] = { cfg->filter_standard,
					   cfg->filter_enterprise,
					   cfg->filter_strict };

	e->cfg = cfg;
	for (int i = 0; i < FILTER_NLEVELS; i++) {
		if (filter_thresholds_parse(lv[i], &e->levels[i], err) < 0) {
			char m[ERR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err->msg);
			err_set(err, ERR_CONFIG, 0, NULL, "filter_%s: %s",
				level_names[i], m);
			free(e);
			return NULL;
		}
	}
	struct filter_rep_conf rc;
	filter_rep_conf_from_config(cfg, &rc);
	if (filter_weights_new(cfg->filter_weights, &e->w, err) < 0 ||
	    (e->rep = filter_rep_new(&rc, err)) == NULL) {
		filter_weights_free(&e->w);
		free(e);
		return NULL;
	}
	e->rules.host_name = cfg->hostname;
	filter_org_holder_init(&e->org, NULL, &cfg->filter_brands);
	if (st != NULL)
		filter_engine_set_store(e, st);
	return e;
}

void filter_engine_set_store(struct filter_engine *e, struct store *st)
{
	char dir[4096];

	e->st = st;
	e->org.st = st;
	e->bayes = bayes_new(st, NULL);
	if (store_dir_name(st, dir, sizeof(dir)) == 0)
		e->lists = filter_listdir_cache_new(dir);
}

void filter_engine_free(struct filter_engine **ep)
{
	struct filter_engine *e = *ep;

	if (e == NULL)
		return;
	filter_listdir_cache_free(&e->lists);
	bayes_free(&e->bayes);
	filter_rep_free(&e->rep);
	filter_org_holder_free(&e->org);
	filter_weights_free(&e->w);
	free(e);
	*ep = NULL;
}

const struct filter_thresholds *filter_level_thresholds(
	const struct filter_engine *e, enum filter_level level)
{
	return &e->levels[(unsigned)level < FILTER_NLEVELS ? level : 0];
}

static enum filter_action score_action(const struct filter_thresholds *t,
				       double score)
{
	if (score >= t->reject)
		return FILTER_REJECT;
	if (score >= t->quarantine)
		return FILTER_QUARANTINE;
	if (score >= t->junk)
		return FILTER_JUNK;
	return FILTER_DELIVER;
}

/* The explanation of a refusal: the top symbols by score. */
static void reject_reply(struct filter_verdict *v)
{
	char syms[200] = "";
	size_t len = 0;
	bool used[FILTER_SYMS_MAX] = { false };

	for (int k = 0; k < 3; k++) {
		size_t best = v->syms.n;
		for (size_t i = 0; i < v->syms.n; i++)
			if (!used[i] && v->syms.v[i].score > 0 &&
			    (best == v->syms.n ||
			     v->syms.v[i].score > v->syms.v[best].score))
				best = i;
		if (best == v->syms.n)
			break;
		used[best] = true;
		int n = snprintf(syms + len, sizeof(syms) - len, "%s%s",
				 len ? " " : "", v->syms.v[best].name);
		if (n < 0 || (size_t)n >= sizeof(syms) - len)
			break;
		len += (size_t)n;
	}
	if (v->listed == FILTER_BLOCKED)
		snprintf(v->reply, sizeof(v->reply),
			 "550 5.7.1 Message refused: the sender is on a block "
			 "list");
	else
		snprintf(v->reply, sizeof(v->reply),
			 "550 5.7.1 Message refused as spam (score %.1f: %s)",
			 v->score, syms);
}

/* The recipient domain's level and tag (the defaults without a store). */
static void domain_settings(struct filter_engine *e, const char *domain,
			    struct filter_verdict *v)
{
	struct store_filter_settings fs;
	struct err err;

	store_filter_settings_default(&fs);
	if (e->st != NULL && domain != NULL &&
	    store_filter_settings_get(e->st, domain, &fs, &err) < 0)
		store_filter_settings_default(&fs);
	v->level = fs.level == STORE_FILTER_STRICT ? FILTER_STRICT :
		   fs.level == STORE_FILTER_ENTERPRISE ? FILTER_ENTERPRISE :
		   FILTER_STANDARD;
	v->tag = fs.external_tag == STORE_EXTERNAL_TAG_SUBJECT ?
		 FILTER_TAG_SUBJECT :
		 fs.external_tag == STORE_EXTERNAL_TAG_BANNER ?
		 FILTER_TAG_BANNER : FILTER_TAG_OFF;
}

/* The From address ("local@domain", lower-cased domain) into out; ""
 * when there is not exactly one. */
static void from_address(struct span msg, char *out, size_t outsz)
{
	struct span hdr = mime_header_section(msg, NULL), value;
	struct mime_addr_list al;

	out[0] = '\0';
	if (!mime_header_find(hdr, "from", &value))
		return;
	mime_addr_parse(value, &al);
	if (al.n == 1 && al.addrs[0].kind == MIME_ADDR_MAILBOX &&
	    al.addrs[0].mailbox.len > 0 && al.addrs[0].domain.len > 0 &&
	    al.addrs[0].mailbox.len + al.addrs[0].domain.len + 2 <= outsz)
		snprintf(out, outsz, "%.*s@%.*s", (int)al.addrs[0].mailbox.len,
			 (const char *)al.addrs[0].mailbox.p,
			 (int)al.addrs[0].domain.len,
			 (const char *)al.addrs[0].domain.p);
	mime_addr_list_free(&al);
}

/* The allow and block lists of the recipient's levels, for the From
 * address and the envelope sender (a block of either counts; an allow
 * of either, when authenticated). true: the lists decided. */
static bool check_lists(struct filter_engine *e, struct span msg,
			const struct filter_facts *f, struct filter_verdict *v)
{
	struct filter_listdir_lists l;
	struct filter_list_query q = { 0 };
	struct filter_list_verdict lv[2];
	const char *dkim[FILTER_ENGINE_DKIM_MAX];
	struct filter_auth auth = { 0 };
	char from[STORE_ADDR_MAX + 1];
	const char *senders[2];
	size_t n = 0;
	time_t now = f->now ? f->now : time(NULL);

	if (e->lists == NULL)
		return false;
	from_address(msg, from, sizeof(from));
	senders[0] = from;
	senders[1] = f->mail_from != NULL ? f->mail_from : "";
	if (f->spf != NULL && strcmp(f->spf, "pass") == 0)
		auth.spf_pass_domain = f->spf_domain;
	for (size_t i = 0; i < f->n_dkim_pass && n < FILTER_ENGINE_DKIM_MAX;
	     i++)
		dkim[n++] = f->dkim_pass_domains[i];
	auth.dkim_pass_domains = dkim;
	auth.n_dkim = n;
	auth.from_domain = f->from_domain;
	q.ip = f->have_ip ? f->ip : NULL;
	filter_listdir_get(e->lists, f->rcpt_domain, f->rcpt_user, now, &l);
	for (int i = 0; i < 2; i++) {
		q.sender = span_cstr(senders[i]);
		filter_lists_decide(l.l, &q, &auth, &lv[i]);
	}
	filter_listdir_put(e->lists, &l);
	for (int i = 0; i < 2; i++) {
		const struct filter_list_match *m = &lv[i].match;
		if (lv[i].action != FILTER_LIST_BLOCK)
			continue;
		if (m->file != NULL)
			filter_sym_add(&v->syms, e->w, "BLOCK_LIST", 1,
				       "%s %s in %s:%u",
				       filter_list_level_str(m->level),
				       m->entry, m->file, m->line);
		else
			filter_sym_add(&v->syms, e->w, "BLOCK_LIST", 1, "%s %s",
				       filter_list_level_str(m->level),
				       m->entry);
		v->listed = FILTER_BLOCKED;
		return true;
	}
	for (int i = 0; i < 2; i++) {
		const struct filter_list_match *m = &lv[i].match;
		if (lv[i].action != FILTER_LIST_ALLOW)
			continue;
		filter_sym_add(&v->syms, e->w, "ALLOW_LIST", 1, "%s %s",
			       filter_list_level_str(m->level), m->entry);
		v->listed = FILTER_ALLOWED;
		return true;
	}
	for (int i = 0; i < 2; i++)
		if (lv[i].ignored_allow) {
			filter_sym_add(&v->syms, e->w, "ALLOW_LIST_UNAUTH", 1,
				       "%s %s: not authenticated for it",
				       filter_list_level_str(lv[i].ignored.level),
				       lv[i].ignored.entry);
			break;
		}
	return false;
}

void filter_check(struct filter_engine *e, struct span msg,
		  const struct filter_facts *facts_in,
		  struct filter_verdict *v)
{
	struct filter_facts facts = *facts_in;
	struct filter_tokens tok;
	struct filter_org *org;
	time_t now = facts.now ? facts.now : time(NULL);

	memset(v, 0, sizeof(*v));
	filter_syms_init(&v->syms);
	v->level = FILTER_STANDARD;
	org = filter_org_get(&e->org, now);
	if (facts.lookalike == NULL)
		facts.lookalike = org->lookalike;
	if (facts.imperson == NULL)
		facts.imperson = org->imperson;
	v->external = !facts.internal &&
		      (facts.from_domain == NULL ||
		       !filter_org_hosted(org, facts.from_domain));

	domain_settings(e, facts.rcpt_domain, v);
	if (facts.have_level)
		v->level = facts.level;
	if (check_lists(e, msg, &facts, v))
		goto decide;	/* the lists decided: no need to score */
	struct mime_message *mm = mime_parse(msg.p, msg.len, NULL);
	filter_tokenize_mime(mm, &tok);
	filter_rules_run_mime(&e->rules, mm, &tok, &facts, e->w, &v->syms);
	mime_message_free(&mm);
	filter_rep_check(e->rep, &tok, &facts, e->w, &v->syms);
	if (e->bayes != NULL) {
		struct bayes_result br;
		struct lr_feats lf;
		struct err err;
		lr_features(msg, &tok, &lf);
		if (bayes_classify(e->bayes, facts.rcpt_domain, facts.rcpt_user,
				   &tok, &lf, &br, &err) == 0)
			bayes_symbols(&br, e->w, &v->syms);
		lr_feats_free(&lf);
	}
	filter_tokens_free(&tok);
decide:

	v->score = v->syms.total;
	v->action = score_action(&e->levels[v->level], v->score);
	if (v->listed == FILTER_BLOCKED)
		v->action = FILTER_REJECT;
	else if (v->listed == FILTER_ALLOWED)
		v->action = FILTER_DELIVER;
	if (v->action == FILTER_REJECT)
		reject_reply(v);
	filter_org_put(&e->org, org);
}
