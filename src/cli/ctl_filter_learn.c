/* ctl_filter_learn.c - petrelctl filter train|untrain|score|stats: teaching
 * the statistical classifier from message files, directories and mbox
 * files (filter/msgsrc.h), scoring messages without sending them, and
 * the counts it has per scope. Works while petreld runs: learning is an
 * admin transaction, and petreld's classifier notices the new counts
 * within BAYES_CHECK_MS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/ctl.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "filter/bayes.h"
#include "filter/facts_headers.h"
#include "filter/filter.h"
#include "filter/msgsrc.h"
#include "filter/sym.h"
#include "filter/token.h"
#include "msgauth/ma_dns_ub.h"

/* The options every filter command shares. */
struct fopts {
	const char **spam, **ham, **plain;	/* paths */
	size_t n_spam, n_ham, n_plain;
	const char *domain, *user;
	const char *level;		/* score: --level */
	bool dns;			/* score: --dns */
};

static void fopts_free(struct fopts *o)
{
	free(o->spam);
	free(o->ham);
	free(o->plain);
}

static void push(const char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = s;
}

/* --spam and --ham switch where the paths after them go; other paths are
 * plain. 0, or -1 for an unknown option. */
static int fopts_parse(struct fopts *o, int argc, char **argv, bool labels)
{
	memset(o, 0, sizeof *o);
	int to = 0;	/* 0 plain, 1 spam, 2 ham */
	for (int i = 0; i < argc; i++) {
		if (labels && !strcmp(argv[i], "--spam"))
			to = 1;
		else if (labels && !strcmp(argv[i], "--ham"))
			to = 2;
		else if (!strcmp(argv[i], "--domain") && i + 1 < argc)
			o->domain = argv[++i];
		else if (!strcmp(argv[i], "--user") && i + 1 < argc)
			o->user = argv[++i];
		else if (!labels && !strcmp(argv[i], "--level") && i + 1 < argc)
			o->level = argv[++i];
		else if (!labels && !strcmp(argv[i], "--dns"))
			o->dns = true;
		else if (argv[i][0] == '-')
			return -1;
		else if (to == 1)
			push(&o->spam, &o->n_spam, argv[i]);
		else if (to == 2)
			push(&o->ham, &o->n_ham, argv[i]);
		else
			push(&o->plain, &o->n_plain, argv[i]);
	}
	return 0;
}

/* ---- train and untrain ------------------------------------------------ */

struct train {
	struct ctl *c;
	struct bayes *b;
	char scope[STORE_BAYES_SCOPE_MAX + 1];
	struct bayes_lesson v[BAYES_TRAIN_TX];
	struct filter_tokens t[BAYES_TRAIN_TX];
	size_t n;
	/* the logistic model's features of the messages learned, trained in
	 * one go (bayes_lr_train) at the end: all of them, or past
	 * BAYES_LR_TRAIN_MAX a uniform sample of that many (reservoir
	 * sampling with a fixed seed) */
	struct lr_feats *lf;
	bool *lspam;
	size_t ln;
	uint64_t seen, rand;
	/* what happened: new, moved from the other label, already so,
	 * forgotten, messages cut to MSGSRC_MESSAGE_MAX */
	uint64_t spam, ham, moved, same, forgotten, cut;
};

static int flush(struct train *tr)
{
	int rc = bayes_learn_many(tr->b, tr->v, tr->n, &tr->c->err);
	for (size_t i = 0; i < tr->n; i++) {
		struct bayes_lesson *l = &tr->v[i];
		if (rc == 0) {
			if (l->label == l->was)
				tr->same++;
			else if (l->label == STORE_BAYES_NONE)
				tr->forgotten++;
			else if (l->label == STORE_BAYES_SPAM)
				tr->spam++;
			else
				tr->ham++;
			if (l->label != STORE_BAYES_NONE &&
			    l->was != STORE_BAYES_NONE && l->was != l->label)
				tr->moved++;
		}
		filter_tokens_free(&tr->t[i]);
	}
	tr->n = 0;
	return rc;
}

static int flush_lr(struct train *tr)
{
	int rc = bayes_lr_train(tr->b, tr->scope, tr->lf, tr->lspam, tr->ln,
				&tr->c->err);
	for (size_t i = 0; i < tr->ln; i++)
		lr_feats_free(&tr->lf[i]);
	tr->ln = 0;
	return rc;
}

/* Keep msg's features for the logistic model (not when forgetting: a
 * model has no counts to take back; decision 0044). Past
 * BAYES_LR_TRAIN_MAX a message replaces a kept one with the chance that
 * keeps every message equally likely to be trained on (Vitter's
 * algorithm R): training chunks in file order instead would end on the
 * last directory given (all ham, say) and teach mostly that. */
static void keep_lr(struct train *tr, struct span msg,
		    const struct filter_tokens *t, enum store_bayes_label label)
{
	if (label == STORE_BAYES_NONE)
		return;
	if (tr->lf == NULL) {
		tr->lf = xcalloc(BAYES_LR_TRAIN_MAX, sizeof *tr->lf);
		tr->lspam = xcalloc(BAYES_LR_TRAIN_MAX, sizeof *tr->lspam);
	}
	size_t slot = tr->ln;
	if (tr->ln == BAYES_LR_TRAIN_MAX) {
		uint64_t j = lr_rand(&tr->rand) % (tr->seen + 1);
		if (j >= BAYES_LR_TRAIN_MAX) {
			tr->seen++;
			return;
		}
		slot = (size_t)j;
		lr_feats_free(&tr->lf[slot]);
	} else {
		tr->ln++;
	}
	tr->seen++;
	lr_features(msg, t, &tr->lf[slot]);
	tr->lspam[slot] = label == STORE_BAYES_SPAM;
}

static int train_paths(struct train *tr, const char **paths, size_t n,
		       enum store_bayes_label label)
{
	if (n == 0)
		return 0;
	struct msgsrc *m;
	if (msgsrc_open(paths, n, &m, &tr->c->err) != 0)
		return -1;
	struct msgsrc_msg msg;
	int rc, ret = 0;
	while ((rc = msgsrc_next(m, &msg, &tr->c->err)) != 0 && ret == 0) {
		if (rc < 0) {
			fprintf(stderr, "petrelctl: %s\n", tr->c->err.msg);
			continue;
		}
		tr->cut += msg.cut;
		struct bayes_lesson *l = &tr->v[tr->n];
		filter_tokenize(msg.data, &tr->t[tr->n]);
		keep_lr(tr, msg.data, &tr->t[tr->n], label);
		l->scope = tr->scope;
		l->tokens = &tr->t[tr->n];
		bayes_msg_key(msg.data, l->key);
		l->label = label;
		if (++tr->n == BAYES_TRAIN_TX)
			ret = flush(tr);
	}
	if (ret == 0 && tr->n > 0)
		ret = flush(tr);
	msgsrc_close(&m);
	return ret;
}

static int train(struct ctl *c, int argc, char **argv, bool forget)
{
	const char *use = forget ?
		"filter untrain PATH... [--domain DOMAIN | --user ADDRESS]" :
		"filter train --spam PATH... --ham PATH... "
		"[--domain DOMAIN | --user ADDRESS]";
	struct fopts o;
	if (fopts_parse(&o, argc, argv, true) != 0 ||
	    (o.domain != NULL && o.user != NULL) ||
	    (!forget && o.n_plain > 0) ||
	    o.n_spam + o.n_ham + o.n_plain == 0) {
		fopts_free(&o);
		return ctl_usage_error(use);
	}
	struct train *tr = xcalloc(1, sizeof *tr);
	tr->c = c;
	int ret = 1;
	if (bayes_scope_name(o.domain, o.user, tr->scope, sizeof tr->scope,
			     &c->err) != 0)
		goto out;
	tr->b = bayes_new(c->st, NULL);
	if (train_paths(tr, o.spam, o.n_spam, forget ? STORE_BAYES_NONE :
			STORE_BAYES_SPAM) != 0 ||
	    train_paths(tr, o.ham, o.n_ham, forget ? STORE_BAYES_NONE :
			STORE_BAYES_HAM) != 0 ||
	    train_paths(tr, o.plain, o.n_plain, STORE_BAYES_NONE) != 0 ||
	    flush_lr(tr) != 0)
		goto out;
	ret = 0;
	if (forget)
		ctl_say(c, "forgot %llu messages in %s (%llu were not learned)",
			(unsigned long long)tr->forgotten, tr->scope,
			(unsigned long long)tr->same);
	else
		ctl_say(c, "learned %llu spam and %llu ham in %s (%llu moved "
			"from the other label, %llu already learned)",
			(unsigned long long)tr->spam, (unsigned long long)tr->ham,
			tr->scope, (unsigned long long)tr->moved,
			(unsigned long long)tr->same);
	ctl_set(c, "scope", json_string(tr->scope));
	if (!forget) {
		ctl_set(c, "spam", json_integer((json_int_t)tr->spam));
		ctl_set(c, "ham", json_integer((json_int_t)tr->ham));
		ctl_set(c, "moved", json_integer((json_int_t)tr->moved));
	} else {
		ctl_set(c, "forgotten", json_integer((json_int_t)tr->forgotten));
	}
	ctl_set(c, "unchanged", json_integer((json_int_t)tr->same));
	ctl_set(c, "cut", json_integer((json_int_t)tr->cut));
out:
	for (size_t i = 0; i < tr->n; i++)
		filter_tokens_free(&tr->t[i]);
	for (size_t i = 0; i < tr->ln; i++)
		lr_feats_free(&tr->lf[i]);
	free(tr->lf);
	free(tr->lspam);
	bayes_free(&tr->b);
	free(tr);
	fopts_free(&o);
	return ret == 0 ? 0 : ctl_fail(c);
}

int ctl_filter_train(struct ctl *c, int argc, char **argv)
{
	return train(c, argc, argv, false);
}

int ctl_filter_untrain(struct ctl *c, int argc, char **argv)
{
	return train(c, argc, argv, true);
}

/* ---- score ------------------------------------------------------------ */

/* The verdict of one message, by the engine petreld runs (filter.h):
 * the SMTP facts (client, HELO, MAIL FROM, SPF, DKIM, DMARC) come from
 * the message's own trace fields where it has them. dns (NULL: none,
 * the default) asks the configured blocklists, as petreld would. */
static void score_message(struct filter_engine *e, const struct fopts *o,
			  int level, const struct ma_dns *dns, struct span msg,
			  struct filter_verdict *v)
{
	struct filter_facts f = { 0 };
	struct filter_facts_hdr fh;

	filter_facts_from_headers(msg, &fh, &f);
	f.dns = dns;
	f.rcpt_domain = o->domain;
	f.rcpt_user = o->user;
	if (o->user != NULL && o->domain == NULL) {
		const char *at = strrchr(o->user, '@');
		f.rcpt_domain = at != NULL ? at + 1 : NULL;
	}
	if (level >= 0) {
		f.have_level = true;
		f.level = level;
	}
	filter_check(e, msg, &f, v);
}

static void print_score(struct ctl *c, json_t *list, const char *file,
			const struct filter_verdict *v)
{
	const struct filter_syms *s = &v->syms;
	const char *action = filter_action_str(v->action);
	if (c->json) {
		json_t *syms = json_array();
		for (size_t i = 0; i < s->n; i++)
			json_array_append_new(syms, json_pack(
				"{s:s, s:f, s:s}", "name", s->v[i].name,
				"score", s->v[i].score, "detail", s->v[i].detail));
		json_array_append_new(list, json_pack(
			"{s:s, s:f, s:s, s:s, s:o}", "file", file, "score",
			v->score, "action", action, "level",
			filter_level_str(v->level), "symbols", syms));
		return;
	}
	printf("%s %.2f %s", file, v->score, action);
	for (size_t i = 0; i < s->n; i++)
		printf(" %s(%.2f)", s->v[i].name, s->v[i].score);
	printf("\n");
}

int ctl_filter_score(struct ctl *c, int argc, char **argv)
{
	struct fopts o;
	int level = -1;
	if (fopts_parse(&o, argc, argv, false) != 0 || o.n_plain == 0 ||
	    (o.level != NULL && (level = filter_level_parse(o.level)) < 0)) {
		fopts_free(&o);
		return ctl_usage_error("filter score PATH... [--domain DOMAIN] "
				       "[--user ADDRESS] "
				       "[--level standard|enterprise|strict] "
				       "[--dns]");
	}
	struct filter_engine *e = NULL;
	struct msgsrc *m = NULL;
	struct ma_dns_ub *ub = NULL;
	struct ma_dns dns;
	json_t *list = json_array();
	int ret = 1;
	struct dns_options dopt = { .forwarder = c->cfg.dns_forwarder,
				    .timeout = c->cfg.dns_timeout };
	if (o.dns && (ub = ma_dns_ub_new(&dopt, &c->err)) == NULL)
		goto out;
	if (ub != NULL)
		ma_dns_ub_dns(ub, &dns);
	if ((e = filter_engine_new(&c->cfg, c->st, &c->err)) == NULL ||
	    msgsrc_open(o.plain, o.n_plain, &m, &c->err) != 0)
		goto out;
	struct msgsrc_msg msg;
	struct filter_verdict *v = xmalloc(sizeof *v);
	int rc;
	ret = 0;
	while ((rc = msgsrc_next(m, &msg, &c->err)) != 0) {
		if (rc < 0) {
			fprintf(stderr, "petrelctl: %s\n", c->err.msg);
			continue;
		}
		score_message(e, &o, level, ub != NULL ? &dns : NULL, msg.data,
			      v);
		print_score(c, list, msg.name, v);
	}
	free(v);
	if (c->json)
		ctl_doc(c, json_pack("{s:O}", "messages", list));
out:
	json_decref(list);
	msgsrc_close(&m);
	filter_engine_free(&e);
	ma_dns_ub_free(&ub);
	fopts_free(&o);
	return ret == 0 ? 0 : ctl_fail(c);
}

/* ---- symbols ---------------------------------------------------------- */

int ctl_filter_symbols(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("filter symbols");
	struct filter_weights *w;
	if (filter_weights_new(c->cfg.filter_weights, &w, &c->err) != 0)
		return ctl_fail(c);
	ctl_list_begin(c);
	for (size_t i = 0; i < filter_sym_defs_count(); i++) {
		const struct filter_sym_def *d = filter_sym_def_at(i);
		double weight = filter_weight(w, d->name);
		if (c->json)
			ctl_item(c, json_pack("{s:s, s:f, s:f, s:s}", "name",
					      d->name, "weight", weight,
					      "default", d->weight, "meaning",
					      d->what));
		else
			printf("%-24s %7.2f  %s\n", d->name, weight, d->what);
	}
	filter_weights_free(&w);
	return 0;
}

/* ---- stats ------------------------------------------------------------ */

static int print_scope(const struct store_bayes_scope *s, void *arg)
{
	struct ctl *c = arg;
	if (c->json)
		ctl_item(c, json_pack("{s:s, s:I, s:I, s:I, s:I}", "scope",
				      s->name, "spam", (json_int_t)s->spam,
				      "ham", (json_int_t)s->ham,
				      "tokens", (json_int_t)s->tokens,
				      "weights", (json_int_t)s->weights));
	else
		printf("%-40s %10llu %10llu %12llu %10llu\n", s->name,
		       (unsigned long long)s->spam, (unsigned long long)s->ham,
		       (unsigned long long)s->tokens,
		       (unsigned long long)s->weights);
	return 0;
}

int ctl_filter_stats(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("filter stats");
	if (!c->json)
		printf("%-40s %10s %10s %12s %10s\n", "SCOPE", "SPAM", "HAM",
		       "TOKENS", "WEIGHTS");
	ctl_list_begin(c);
	if (store_bayes_scope_each(c->st, print_scope, c, &c->err) != 0)
		return ctl_fail(c);
	if (c->json) {
		json_t *list = c->out != NULL ? c->out : json_array();
		c->out = NULL;
		ctl_doc(c, json_pack("{s:o}", "scopes", list));
	}
	return 0;
}
