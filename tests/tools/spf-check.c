/* spf-check.c - run SPF checks (src/msgauth/spf.h) from the command line,
 * against a zone file (ma_zone text) or a real DNS server (libunbound).
 * Test driver for the third-party suites and the NSD interop test.
 *
 *   spf-check (--zone FILE | --forwarder ADDR [--timeout S])
 *             [--receiver NAME] [--now T] IP SENDER HELO [helo]
 *       one MAIL FROM check (or the HELO check with a final "helo"):
 *       result, reason, explanation, Received-SPF
 *   spf-check (--zone FILE | --forwarder ADDR) ... --batch
 *       reads "mailfrom|helo TAB IP TAB SENDER TAB HELO" lines on stdin
 *       and prints one JSON object per line: result, explanation,
 *       explanation_default, mechanism, reason, lookups, void_lookups,
 *       queries, zone_queries (zone backend: all queries so far),
 *       received_spf. With --threads N (libunbound only) N threads
 *       answer every query at once on the one shared resolver and must
 *       agree.
 * Exit 0, 1 when threads disagreed, 2 on a usage or setup error. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/err.h"
#include "msgauth/ma_dns_ub.h"
#include "msgauth/ma_zone.h"
#include "msgauth/spf.h"

#define LINE_MAX_BYTES 4096
#define ZONE_MAX_BYTES (16u * 1024 * 1024)
#define BATCH_MAX 100000
#define THREADS_MAX 64

static void usage(void)
{
	fprintf(stderr, "usage: spf-check (--zone FILE | --forwarder ADDR "
		"[--timeout S]) [--receiver NAME] [--now T]\n"
		"                 [--threads N] (--batch | IP SENDER HELO [helo])\n");
	exit(2);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = malloc(ZONE_MAX_BYTES);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, ZONE_MAX_BYTES, f);
	int bad = ferror(f) || *len == ZONE_MAX_BYTES;
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int parse_ip(const char *s, struct spf_request *req)
{
	if (inet_pton(AF_INET, s, req->ip) == 1) {
		req->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, req->ip) == 1) {
		req->family = AF_INET6;
		return 0;
	}
	return -1;
}

static void json_str(const char *key, const char *s, bool last)
{
	printf("\"%s\": \"", key);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	printf("\"%s", last ? "" : ", ");
}

struct query {
	bool helo;
	struct spf_request req;
	char *line;		/* owns the strings req points into */
};

struct worker {
	pthread_t tid;
	const struct ma_dns *dns;
	const struct query *q;
	size_t n;
	struct spf_out *out;
};

static void check_one(const struct ma_dns *dns, const struct query *q,
		      struct spf_out *out)
{
	if (q->helo)
		spf_check_helo(dns, &q->req, out);
	else
		spf_check_mailfrom(dns, &q->req, out);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (size_t k = 0; k < w->n; k++)
		check_one(w->dns, &w->q[k], &w->out[k]);
	return NULL;
}

static size_t read_queries(struct query **qp, const struct spf_request *base)
{
	char line[LINE_MAX_BYTES];
	struct query *q = NULL;
	size_t n = 0;

	while (fgets(line, sizeof line, stdin) != NULL) {
		size_t len = strcspn(line, "\r\n");
		if (line[len] == '\0' && len == sizeof line - 1) {
			fprintf(stderr, "spf-check: line too long\n");
			exit(2);
		}
		line[len] = '\0';
		if (n == BATCH_MAX) {
			fprintf(stderr, "spf-check: more than %d queries\n", BATCH_MAX);
			exit(2);
		}
		q = realloc(q, (n + 1) * sizeof *q);
		char *copy = strdup(line);
		if (q == NULL || copy == NULL)
			abort();
		char *f[4] = { copy, NULL, NULL, NULL };
		for (int k = 1; k < 4; k++) {
			char *tab = strchr(f[k - 1], '\t');
			if (tab == NULL) {
				fprintf(stderr, "spf-check: want 4 tab-separated fields\n");
				exit(2);
			}
			*tab = '\0';
			f[k] = tab + 1;
		}
		struct query *one = &q[n++];
		one->line = copy;
		one->req = *base;
		one->helo = strcmp(f[0], "helo") == 0;
		if (parse_ip(f[1], &one->req) < 0) {
			fprintf(stderr, "spf-check: bad address %s\n", f[1]);
			exit(2);
		}
		one->req.sender = f[2];
		one->req.helo = f[3];
	}
	*qp = q;
	return n;
}

static bool same(const struct spf_out *a, const struct spf_out *b)
{
	return a->result == b->result && strcmp(a->explanation, b->explanation) == 0 &&
	       strcmp(a->mechanism, b->mechanism) == 0 && a->lookups == b->lookups;
}

/* Each of nthreads threads answers every query at once on the one
 * backend; all must agree (the libunbound backend is shared). */
static int run_batch(const struct ma_dns *dns, const struct ma_zone *zone,
		     const struct spf_request *base, unsigned nthreads)
{
	struct query *q;
	size_t n = read_queries(&q, base);
	struct worker *w = calloc(nthreads, sizeof *w);
	int rc = 0;

	if (w == NULL)
		abort();
	for (unsigned t = 0; t < nthreads; t++) {
		w[t] = (struct worker){ .dns = dns, .q = q, .n = n };
		w[t].out = calloc(n ? n : 1, sizeof *w[t].out);
		if (w[t].out == NULL)
			abort();
	}
	if (nthreads == 1) {
		worker_run(&w[0]);
	} else {
		for (unsigned t = 0; t < nthreads; t++)
			if (pthread_create(&w[t].tid, NULL, worker_run, &w[t]) != 0)
				abort();
		for (unsigned t = 0; t < nthreads; t++)
			if (pthread_join(w[t].tid, NULL) != 0)
				abort();
	}
	for (size_t k = 0; k < n; k++) {
		const struct spf_out *out = &w[0].out[k];
		for (unsigned t = 1; t < nthreads; t++)
			if (!same(out, &w[t].out[k])) {
				fprintf(stderr, "spf-check: query %zu: thread %u got %s, "
					"thread 0 %s\n", k + 1, t,
					spf_result_str(w[t].out[k].result),
					spf_result_str(out->result));
				rc = 1;
			}
		char hdr[SPF_HEADER_MAX];
		if (spf_received_spf(&q[k].req, out, hdr, sizeof hdr) < 0)
			snprintf(hdr, sizeof hdr, "(too long)");
		printf("{");
		json_str("result", spf_result_str(out->result), false);
		json_str("explanation", out->explanation, false);
		printf("\"explanation_default\": %s, ", out->explanation_default ? "true" : "false");
		json_str("mechanism", out->mechanism, false);
		json_str("reason", out->reason, false);
		json_str("domain", out->domain, false);
		json_str("received_spf", hdr, false);
		printf("\"lookups\": %u, \"void_lookups\": %u, \"queries\": %u, "
		       "\"zone_queries\": %zu}\n", out->lookups, out->void_lookups,
		       out->queries, zone ? ma_zone_queries(zone) : (size_t)0);
	}
	for (unsigned t = 0; t < nthreads; t++)
		free(w[t].out);
	for (size_t k = 0; k < n; k++)
		free(q[k].line);
	free(q);
	free(w);
	return rc;
}

int main(int argc, char **argv)
{
	const char *zone_path = NULL, *forwarder = NULL;
	struct spf_request req = { .receiver = NULL };
	unsigned timeout = 0, nthreads = 1;
	bool batch = false;
	int i;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--batch") == 0) {
			batch = true;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (strcmp(o, "--zone") == 0)
			zone_path = v;
		else if (strcmp(o, "--forwarder") == 0)
			forwarder = v;
		else if (strcmp(o, "--timeout") == 0)
			timeout = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--threads") == 0)
			nthreads = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--receiver") == 0)
			req.receiver = v;
		else if (strcmp(o, "--now") == 0)
			req.now = strtoll(v, NULL, 10);
		else
			usage();
	}
	if ((zone_path == NULL) == (forwarder == NULL) || nthreads == 0 ||
	    nthreads > THREADS_MAX || (nthreads > 1 && zone_path != NULL))
		usage();
	if (!batch && argc - i != 3 && argc - i != 4)
		usage();

	struct ma_dns dns;
	struct ma_zone *zone = NULL;
	struct ma_dns_ub *ub = NULL;
	struct err err = { 0 };
	if (zone_path != NULL) {
		size_t len;
		char *text = read_file(zone_path, &len);
		if (text == NULL) {
			fprintf(stderr, "spf-check: cannot read %s\n", zone_path);
			return 2;
		}
		zone = ma_zone_new();
		if (ma_zone_load(zone, text, len, &err) < 0) {
			fprintf(stderr, "spf-check: %s: %s\n", zone_path, err.msg);
			return 2;
		}
		free(text);
		ma_zone_dns(zone, &dns);
	} else {
		struct dns_options opt = { .forwarder = forwarder, .timeout = timeout };
		ub = ma_dns_ub_new(&opt, &err);
		if (ub == NULL) {
			fprintf(stderr, "spf-check: %s\n", err.msg);
			return 2;
		}
		ma_dns_ub_dns(ub, &dns);
	}

	int rc = 0;
	if (batch) {
		rc = run_batch(&dns, zone, &req, nthreads);
	} else {
		if (parse_ip(argv[i], &req) < 0) {
			fprintf(stderr, "spf-check: bad address %s\n", argv[i]);
			return 2;
		}
		req.sender = argv[i + 1];
		req.helo = argv[i + 2];
		struct spf_out out;
		if (argc - i == 4 && strcmp(argv[i + 3], "helo") == 0)
			spf_check_helo(&dns, &req, &out);
		else
			spf_check_mailfrom(&dns, &req, &out);
		char hdr[SPF_HEADER_MAX];
		printf("%s\n%s\n", spf_result_str(out.result), out.reason);
		if (out.result == SPF_FAIL)
			printf("explanation: %s\n", out.explanation);
		if (spf_received_spf(&req, &out, hdr, sizeof hdr) >= 0)
			printf("%s\n", hdr);
	}
	ma_zone_free(&zone);
	ma_dns_ub_free(&ub);
	return rc;
}
