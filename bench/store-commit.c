/* store-commit.c - micro-benchmark of the store's group commit, without
 * SMTP: T threads each call store_deliver_wait() with messages of B bytes
 * for one recipient in a loop, for S seconds, on a fresh store in a
 * temporary directory (on the disk to be measured: not tmpfs). Prints
 * deliveries and groups per second and delivery latency percentiles.
 * A benchmark, not a test: run it by hand on an idle machine.
 *
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc -pthread bench/store-commit.c \
 *      build/libpetrel.a $(pkg-config --libs sqlite3) -o store-commit
 *   ./store-commit [-d DIR] [-s SECONDS] [-b BYTES] [THREADS...]
 *
 * DIR defaults to /var/tmp, SECONDS to 3, BYTES to 4096, THREADS to
 * "1 16 64". The store is checked (store_check) after each run.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store.h"

#define LAT_CAP 200000	/* latencies kept per thread */

struct bench {
	struct store *st;
	int64_t mb;
	size_t bytes;
	atomic_bool stop;
};

struct worker {
	struct bench *b;
	pthread_t th;
	unsigned seed;
	uint64_t n;
	uint64_t failed;
	double *lat;	/* seconds, the first LAT_CAP deliveries */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned char *msg = malloc(w->b->bytes ? w->b->bytes : 1);
	if (msg == NULL)
		return NULL;
	for (size_t i = 0; i < w->b->bytes; i++)
		msg[i] = (unsigned char)('a' + (i * 7 + w->seed) % 26);
	while (!atomic_load(&w->b->stop)) {
		struct store_delivery d = {
			.data = msg, .len = w->b->bytes,
			.mailbox_ids = &w->b->mb, .n_mailboxes = 1,
			.internal_date = (int64_t)time(NULL),
		};
		struct err err;
		double t0 = now();
		if (store_deliver_wait(w->b->st, &d, &err) != 0) {
			w->failed++;
			continue;
		}
		if (w->n < LAT_CAP)
			w->lat[w->n] = now() - t0;
		w->n++;
	}
	free(msg);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double pct(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return 0.0;
	size_t k = (size_t)((double)n * p);
	return sorted[k < n ? k : n - 1] * 1e3;
}

static int setup(struct bench *b, const char *dir)
{
	struct err err;
	if (store_open(dir, &b->st, &err) != 0 ||
	    store_domain_add(b->st, "bench.test", &err) != 0 ||
	    store_mailbox_add(b->st, "demo", "bench.test", "x", 0, &b->mb,
			      &err) != 0) {
		fprintf(stderr, "store-commit: setup: %s\n", err.msg);
		return -1;
	}
	/* warm-up: the first segment, its pre-allocation, SQLite's pages */
	for (int i = 0; i < 20; i++) {
		unsigned char m[64] = "warm-up";
		struct store_delivery d = { .data = m, .len = sizeof m,
					    .mailbox_ids = &b->mb,
					    .n_mailboxes = 1 };
		if (store_deliver_wait(b->st, &d, &err) != 0) {
			fprintf(stderr, "store-commit: warm-up: %s\n", err.msg);
			return -1;
		}
	}
	return 0;
}

static int run(const char *base, int threads, double seconds, size_t bytes)
{
	char root[512], dir[600];
	int n = snprintf(root, sizeof root, "%s/petrel-bench-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof root || mkdtemp(root) == NULL) {
		fprintf(stderr, "store-commit: temp dir in %s: %s\n", base,
			strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof dir, "%s/data", root);
	struct bench b = { .bytes = bytes };
	atomic_init(&b.stop, false);
	struct worker *w = calloc((size_t)threads, sizeof *w);
	int rc = -1;
	if (w == NULL || setup(&b, dir) < 0)
		goto out;
	struct store_stats s0, s1;
	store_get_stats(b.st, &s0);
	int started = 0;
	for (; started < threads; started++) {
		w[started].b = &b;
		w[started].seed = (unsigned)started;
		w[started].lat = calloc(LAT_CAP, sizeof(double));
		if (w[started].lat == NULL ||
		    pthread_create(&w[started].th, NULL, worker_main,
				   &w[started]) != 0) {
			fprintf(stderr, "store-commit: cannot start thread\n");
			free(w[started].lat);
			break;
		}
	}
	double t0 = now();
	struct timespec ts = {
		.tv_sec = (time_t)seconds,
		.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9),
	};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		continue;
	atomic_store(&b.stop, true);
	uint64_t total = 0, failed = 0;
	size_t nlat = 0;
	for (int t = 0; t < started; t++) {
		pthread_join(w[t].th, NULL);
		total += w[t].n;
		failed += w[t].failed;
		nlat += w[t].n < LAT_CAP ? w[t].n : LAT_CAP;
	}
	double el = now() - t0;
	store_get_stats(b.st, &s1);
	double *all = calloc(nlat ? nlat : 1, sizeof(double));
	if (all == NULL)
		goto out;
	size_t k = 0;
	for (int t = 0; t < started; t++) {
		size_t m = w[t].n < LAT_CAP ? w[t].n : LAT_CAP;
		memcpy(all + k, w[t].lat, m * sizeof(double));
		k += m;
		free(w[t].lat);
	}
	qsort(all, nlat, sizeof(double), cmp_double);
	uint64_t groups = s1.groups - s0.groups;
	printf("threads=%-3d msgs/s=%7.0f groups/s=%5.0f msgs/group=%5.1f "
	       "p50=%5.2fms p99=%5.2fms p99.9=%5.2fms max=%6.2fms "
	       "failed=%llu\n",
	       started, (double)total / el, (double)groups / el,
	       groups ? (double)(s1.deliveries - s0.deliveries) /
				(double)groups
		      : 0.0,
	       pct(all, nlat, 0.50), pct(all, nlat, 0.99),
	       pct(all, nlat, 0.999), nlat ? all[nlat - 1] * 1e3 : 0.0,
	       (unsigned long long)failed);
	fflush(stdout);
	free(all);
	struct err err;
	uint64_t problems = 0;
	if (store_check(b.st, &problems, &err) != 0 || problems != 0) {
		fprintf(stderr, "store-commit: store check: problems=%llu %s\n",
			(unsigned long long)problems, err.msg);
		goto out;
	}
	rc = started == threads ? 0 : -1;
out:
	free(w);
	store_close(&b.st);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* A whole positive number up to max from s; -1 if it is not one. */
static long parse_count(const char *s, long max)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	const char *base = "/var/tmp";
	long seconds = 3, bytes = 4096;
	int opt;
	while ((opt = getopt(argc, argv, "d:s:b:")) != -1) {
		switch (opt) {
		case 'd':
			base = optarg;
			break;
		case 's':
			seconds = parse_count(optarg, 3600);
			break;
		case 'b':
			bytes = parse_count(optarg, 64L * 1024 * 1024);
			break;
		default:
			seconds = -1;
			break;
		}
		if (seconds < 0 || bytes < 0) {
			fprintf(stderr, "usage: store-commit [-d DIR] "
				"[-s SECONDS] [-b BYTES] [THREADS...]\n");
			return 2;
		}
	}
	log_set_level(LOG_ERROR);
	static const char *const dflt[] = { "1", "16", "64" };
	const char *const *list = (const char *const *)argv + optind;
	int count = argc - optind;
	if (count == 0) {
		list = dflt;
		count = 3;
	}
	for (int i = 0; i < count; i++) {
		long t = parse_count(list[i], 1024);
		if (t < 0) {
			fprintf(stderr, "store-commit: bad thread count %s\n",
				list[i]);
			return 2;
		}
		if (run(base, (int)t, (double)seconds, (size_t)bytes) != 0)
			return 1;
	}
	return 0;
}
