/* jobs.h - a small pool of helper threads for blocking work that must not
 * run on an event loop: password hashing, and later DNS or disk reads.
 * A job runs on a pool thread, then its done() runs on that same pool
 * thread and typically only wakes the owner's event loop (event_active);
 * the owner then reads the job's results on its own thread. */
#ifndef PETREL_JOBS_H
#define PETREL_JOBS_H

struct jobs;

struct job {
	void (*run)(struct job *j);	/* the blocking work */
	void (*done)(struct job *j);	/* must not block */
	struct job *next_;		/* private */
};

/* nthreads >= 1. */
struct jobs *jobs_new(unsigned nthreads);
/* Queue j; run() and then done() are called exactly once. Thread-safe. */
void jobs_submit(struct jobs *jp, struct job *j);
/* Run every queued job to its done(), stop the threads, free; *jp = NULL. */
void jobs_free(struct jobs **jp);

#endif
