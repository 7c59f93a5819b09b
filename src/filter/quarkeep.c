/* quarkeep.c - the quarantine keeper thread (quarkeep.h): a loop on a
 * condition variable with a one-second timeout, so that stop is prompt
 * and no event loop is involved. Failures are logged and tried again on
 * the next round. */
#include "filter/quarkeep.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"

struct filter_quarkeep {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void expire(struct filter_quarkeep *k, time_t now)
{
	struct err err;
	uint64_t n = 0;
	if (store_quarantine_expire(k->st, (int64_t)now, &n, &err) != 0)
		log_error("quarantine", NULL, "op=expire error=\"%s\"", err.msg);
	else if (n > 0)
		log_info("quarantine", NULL, "op=expire removed=%llu",
			 (unsigned long long)n);
}

static void release(struct filter_quarkeep *k)
{
	struct err err;
	int n = store_quarantine_release_pending(k->st, &err);
	if (n < 0)
		log_error("quarantine", NULL, "op=release error=\"%s\"", err.msg);
	else if (n > 0)
		log_info("quarantine", NULL, "op=release released=%d", n);
}

static void *keeper_main(void *arg)
{
	struct filter_quarkeep *k = arg;
	time_t last_expire = 0;
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		pthread_mutex_unlock(&k->mu);
		time_t now = time(NULL);
		if (now - last_expire >= QUARANTINE_EXPIRE_SECS ||
		    now < last_expire) {
			expire(k, now);
			last_expire = now;
		}
		release(k);
		pthread_mutex_lock(&k->mu);
		if (k->stop)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

struct filter_quarkeep *filter_quarkeep_start(struct store *st,
					      struct err *err)
{
	struct filter_quarkeep *k = xcalloc(1, sizeof *k);
	k->st = st;
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	int e = pthread_create(&k->thread, NULL, keeper_main, k);
	if (e != 0) {
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->cv);
		free(k);
		err_set(err, ERR_ENV, 0, "", "quarantine keeper thread: %s",
			strerror(e));
		return NULL;
	}
	return k;
}

void filter_quarkeep_stop(struct filter_quarkeep **kp)
{
	struct filter_quarkeep *k = *kp;
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	free(k);
	*kp = NULL;
}
