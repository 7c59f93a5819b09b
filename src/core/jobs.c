/* jobs.c - a fixed pool of threads taking jobs from one FIFO queue. */
#include "core/jobs.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/xmalloc.h"

struct jobs {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	bool stopping;
	unsigned nthreads;
	pthread_t *threads;
};

static void *worker(void *arg)
{
	struct jobs *jp = arg;
	for (;;) {
		pthread_mutex_lock(&jp->mu);
		while (jp->head == NULL && !jp->stopping)
			pthread_cond_wait(&jp->cv, &jp->mu);
		struct job *j = jp->head;
		if (j == NULL) {	/* stopping and drained */
			pthread_mutex_unlock(&jp->mu);
			return NULL;
		}
		jp->head = j->next_;
		if (jp->head == NULL)
			jp->tail = NULL;
		pthread_mutex_unlock(&jp->mu);
		j->run(j);
		j->done(j);
	}
}

struct jobs *jobs_new(unsigned nthreads)
{
	struct jobs *jp = xcalloc(1, sizeof *jp);
	pthread_mutex_init(&jp->mu, NULL);
	pthread_cond_init(&jp->cv, NULL);
	jp->nthreads = nthreads ? nthreads : 1;
	jp->threads = xcalloc(jp->nthreads, sizeof *jp->threads);
	/* Signals belong to the daemon's main thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < jp->nthreads; i++)
		if (pthread_create(&jp->threads[i], NULL, worker, jp) != 0)
			abort();	/* start-up only: no threads, no server */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return jp;
}

void jobs_submit(struct jobs *jp, struct job *j)
{
	j->next_ = NULL;
	pthread_mutex_lock(&jp->mu);
	if (jp->tail)
		jp->tail->next_ = j;
	else
		jp->head = j;
	jp->tail = j;
	pthread_cond_signal(&jp->cv);
	pthread_mutex_unlock(&jp->mu);
}

void jobs_free(struct jobs **jpp)
{
	struct jobs *jp = *jpp;
	if (jp == NULL)
		return;
	pthread_mutex_lock(&jp->mu);
	jp->stopping = true;
	pthread_cond_broadcast(&jp->cv);
	pthread_mutex_unlock(&jp->mu);
	for (unsigned i = 0; i < jp->nthreads; i++)
		pthread_join(jp->threads[i], NULL);
	pthread_cond_destroy(&jp->cv);
	pthread_mutex_destroy(&jp->mu);
	free(jp->threads);
	free(jp);
	*jpp = NULL;
}
