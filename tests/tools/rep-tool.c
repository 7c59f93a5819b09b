/* rep-tool.c - run the filter's reputation checks (src/filter/rep.h) on
 * lists of URLs, for tests/integration/test_filter_rep.py: the
 * threat-intelligence client against real local servers, the feeds,
 * and several threads sharing one filter_rep.
 *
 *   rep-tool [-o key=value]... [--threads N] MSG...
 *       each MSG is one message: its URLs separated by blanks. Prints
 *       one line per message: "ms=ELAPSED total=SCORE" then each symbol
 *       as NAME=SCORE[DETAIL]. With --threads N every thread checks every
 *       message at once on one filter_rep; the lines are thread 0's and
 *       the others must have the same symbols (exit 1 otherwise).
 * Exit 0, 1 when threads disagreed, 2 on a usage or setup error. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/err.h"
#include "filter/rep.h"
#include "filter/rep_private.h"
#include "filter/sym.h"
#include "filter/token.h"

#define THREADS_MAX 32
#define MSGS_MAX 64

struct job {
	struct filter_rep *rep;
	const struct filter_weights *w;
	char *const *msgs;
	int nmsgs;
	char line[MSGS_MAX][2048];
	char syms[MSGS_MAX][1024];	/* names only, to compare threads */
};

static void run_one(struct job *j, int m)
{
	struct filter_tokens tok;
	struct filter_syms syms;
	const char *p = j->msgs[m];
	int64_t t0 = rep_now_ms();
	size_t n;

	filter_tokens_init(&tok);
	filter_syms_init(&syms);
	while (*p != '\0') {
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n > 0)
			filter_urls_add(&tok.urls, span_make(p, n), 0);
		p += n;
	}
	filter_rep_check(j->rep, &tok, NULL, j->w, &syms);
	n = (size_t)snprintf(j->line[m], sizeof j->line[m], "ms=%lld total=%g",
			     (long long)(rep_now_ms() - t0), syms.total);
	j->syms[m][0] = '\0';
	for (size_t i = 0; i < syms.n && n < sizeof j->line[m]; i++) {
		n += (size_t)snprintf(j->line[m] + n, sizeof j->line[m] - n,
				      " %s=%g[%s]", syms.v[i].name,
				      syms.v[i].score, syms.v[i].detail);
		strncat(j->syms[m], syms.v[i].name,
			sizeof j->syms[m] - strlen(j->syms[m]) - 1);
	}
	filter_tokens_free(&tok);
}

static void *run(void *arg)
{
	struct job *j = arg;

	for (int m = 0; m < j->nmsgs; m++)
		run_one(j, m);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct job jobs[THREADS_MAX];
	struct filter_rep_conf conf;
	struct filter_weights *w = NULL;
	struct err err = { 0 };
	pthread_t th[THREADS_MAX];
	int nthreads = 1, i = 1, rc = 0;

	cfg_defaults(&cfg);
	for (; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			if (cfg_set(&cfg, "-o", argv[++i], &err) != 0) {
				fprintf(stderr, "rep-tool: %s\n", err.msg);
				return 2;
			}
		} else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
			nthreads = atoi(argv[++i]);
			if (nthreads < 1 || nthreads > THREADS_MAX)
				return 2;
		} else {
			break;
		}
	}
	if (argc - i > MSGS_MAX) {
		fprintf(stderr, "rep-tool: at most %d messages\n", MSGS_MAX);
		return 2;
	}
	filter_rep_conf_from_config(&cfg, &conf);
	conf.dir = NULL;
	if (filter_weights_new(NULL, &w, &err) != 0) {
		fprintf(stderr, "rep-tool: %s\n", err.msg);
		return 2;
	}
	struct filter_rep *rep = filter_rep_new(&conf, &err);
	if (rep == NULL) {
		fprintf(stderr, "rep-tool: %s\n", err.msg);
		filter_weights_free(&w);
		return 2;
	}
	for (int t = 0; t < nthreads; t++) {
		jobs[t].rep = rep;
		jobs[t].w = w;
		jobs[t].msgs = argv + i;
		jobs[t].nmsgs = argc - i;
		if (pthread_create(&th[t], NULL, run, &jobs[t]) != 0)
			return 2;
	}
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	for (int m = 0; m < argc - i; m++) {
		printf("%s\n", jobs[0].line[m]);
		for (int t = 1; t < nthreads; t++)
			if (strcmp(jobs[t].syms[m], jobs[0].syms[m]) != 0) {
				fprintf(stderr, "rep-tool: thread %d: %s\n", t,
					jobs[t].line[m]);
				rc = 1;
			}
	}
	filter_rep_free(&rep);
	filter_weights_free(&w);
	return rc;
}
