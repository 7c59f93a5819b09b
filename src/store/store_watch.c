/* store_watch.c - change notification: IMAP sessions (IDLE, NOOP) register
 * per mailbox and are called on the committer thread after each commit
 * that changed one of its folders, to wake their event loop. A table of
 * buckets by mailbox id under one mutex, which notification holds while it
 * calls (so that store_unwatch returning means no call is running); the
 * committer skips it entirely while nobody watches.
 */
#include "store/store_private.h"

#include <stdlib.h>

#include "core/xmalloc.h"

static size_t bucket_of(int64_t mailbox_id)
{
	return (size_t)(((uint64_t)mailbox_id * 0x9E3779B97F4A7C15u) >> 32) %
	       STORE_WATCH_BUCKETS;
}

int store_watch(struct store *st, int64_t mailbox_id,
		void (*fn)(void *arg, int64_t mailbox_id, int64_t folder_id),
		void *arg, struct store_watch **w_out, struct err *err)
{
	(void)err;	/* cannot fail but for memory, which aborts */
	struct store_watch *w = xcalloc(1, sizeof *w);
	w->mailbox_id = mailbox_id;
	w->fn = fn;
	w->arg = arg;
	size_t b = bucket_of(mailbox_id);
	pthread_mutex_lock(&st->watch_mu);
	w->next = st->watch[b];
	st->watch[b] = w;
	atomic_fetch_add(&st->n_watch, 1);
	pthread_mutex_unlock(&st->watch_mu);
	*w_out = w;
	return 0;
}

void store_unwatch(struct store *st, struct store_watch **wp)
{
	struct store_watch *w = *wp;
	if (w == NULL)
		return;
	size_t b = bucket_of(w->mailbox_id);
	pthread_mutex_lock(&st->watch_mu);
	for (struct store_watch **pp = &st->watch[b]; *pp != NULL;
	     pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			atomic_fetch_sub(&st->n_watch, 1);
			break;
		}
	pthread_mutex_unlock(&st->watch_mu);
	free(w);
	*wp = NULL;
}

void store_watch_notify(struct store *st, const struct store_touch *t,
			size_t n)
{
	if (n == 0 || atomic_load(&st->n_watch) == 0)
		return;
	pthread_mutex_lock(&st->watch_mu);
	for (size_t i = 0; i < n; i++) {
		for (struct store_watch *w = st->watch[bucket_of(t[i].mailbox_id)];
		     w != NULL; w = w->next)
			if (w->mailbox_id == t[i].mailbox_id)
				w->fn(w->arg, t[i].mailbox_id, t[i].folder_id);
	}
	pthread_mutex_unlock(&st->watch_mu);
}

/* All watchers still registered at close: the IMAP server should have
 * unwatched; free them so that nothing leaks. */
void store_watch_free_all(struct store *st)
{
	for (size_t b = 0; b < STORE_WATCH_BUCKETS; b++)
		while (st->watch[b] != NULL) {
			struct store_watch *w = st->watch[b];
			st->watch[b] = w->next;
			free(w);
		}
	atomic_store(&st->n_watch, 0);
}
