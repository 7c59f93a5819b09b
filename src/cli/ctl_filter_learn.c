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
#include "filter/msgsrc.h"
#include "filter/sym.h"
#include "filter/token.h"

/* The options every filter command shares. */
struct fopts {
	const char **spam, **ham, **plain;	/* paths */
	size_t n_spam, n_ham, n_plain;
	const char *domain, *user;
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
	    train_paths(tr, o.plain, o.n_plain, STORE_BAYES_NONE) != 0)
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

struct scorer {
	struct bayes *b;
	struct filter_weights *w;
	const char *domain, *user;
};

/* The verdict of one message: its symbols (their total is the score)
 * and the action. The one place the full verdict engine replaces. */
static int score_message(struct scorer *sc, struct span msg,
			 struct filter_syms *syms, const char **action,
			 struct err *err)
{
	struct filter_tokens t;
	struct bayes_result r;
	filter_syms_init(syms);
	filter_tokenize(msg, &t);
	int rc = bayes_classify(sc->b, sc->domain, sc->user, &t, &r, err);
	filter_tokens_free(&t);
	if (rc != 0)
		return -1;
	bayes_symbols(&r, sc->w, syms);
	*action = syms->total >= 5 ? "junk" : "deliver";
	return 0;
}

static void print_score(struct ctl *c, json_t *list, const char *file,
			const struct filter_syms *s, const char *action)
{
	if (c->json) {
		json_t *v = json_array();
		for (size_t i = 0; i < s->n; i++)
			json_array_append_new(v, json_pack(
				"{s:s, s:f, s:s}", "name", s->v[i].name,
				"score", s->v[i].score, "detail", s->v[i].detail));
		json_array_append_new(list, json_pack("{s:s, s:f, s:s, s:o}",
			"file", file, "score", s->total, "action", action,
			"symbols", v));
		return;
	}
	printf("%s %.2f %s", file, s->total, action);
	for (size_t i = 0; i < s->n; i++)
		printf(" %s(%.2f)", s->v[i].name, s->v[i].score);
	printf("\n");
}

int ctl_filter_score(struct ctl *c, int argc, char **argv)
{
	struct fopts o;
	if (fopts_parse(&o, argc, argv, false) != 0 || o.n_plain == 0) {
		fopts_free(&o);
		return ctl_usage_error("filter score PATH... [--domain DOMAIN] "
				       "[--user ADDRESS]");
	}
	struct scorer sc = { NULL, NULL, o.domain, o.user };
	struct msgsrc *m = NULL;
	json_t *list = json_array();
	int ret = 1;
	if (filter_weights_new(NULL, &sc.w, &c->err) != 0 ||
	    msgsrc_open(o.plain, o.n_plain, &m, &c->err) != 0)
		goto out;
	sc.b = bayes_new(c->st, NULL);
	struct msgsrc_msg msg;
	struct filter_syms syms;
	const char *action;
	int rc;
	ret = 0;
	while ((rc = msgsrc_next(m, &msg, &c->err)) != 0) {
		if (rc < 0) {
			fprintf(stderr, "petrelctl: %s\n", c->err.msg);
			continue;
		}
		if (score_message(&sc, msg.data, &syms, &action, &c->err) != 0) {
			ret = 1;
			break;
		}
		print_score(c, list, msg.name, &syms, action);
	}
	if (ret == 0 && c->json) {
		ctl_doc(c, json_pack("{s:O}", "messages", list));
	}
out:
	json_decref(list);
	msgsrc_close(&m);
	bayes_free(&sc.b);
	filter_weights_free(&sc.w);
	fopts_free(&o);
	return ret == 0 ? 0 : ctl_fail(c);
}

/* ---- stats ------------------------------------------------------------ */

static int print_scope(const struct store_bayes_scope *s, void *arg)
{
	struct ctl *c = arg;
	if (c->json)
		ctl_item(c, json_pack("{s:s, s:I, s:I, s:I}", "scope", s->name,
				      "spam", (json_int_t)s->spam,
				      "ham", (json_int_t)s->ham,
				      "tokens", (json_int_t)s->tokens));
	else
		printf("%-40s %10llu %10llu %12llu\n", s->name,
		       (unsigned long long)s->spam, (unsigned long long)s->ham,
		       (unsigned long long)s->tokens);
	return 0;
}

int ctl_filter_stats(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_usage_error("filter stats");
	if (!c->json)
		printf("%-40s %10s %10s %12s\n", "SCOPE", "SPAM", "HAM", "TOKENS");
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
