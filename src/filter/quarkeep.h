/* quarkeep.h - petreld's quarantine keeper: a thread that, every second,
 * releases the entries petrelctl asked to release (petrelctl opens the
 * store for administration and cannot deliver) and, every
 * QUARANTINE_EXPIRE_SECS and once at start, removes the entries past
 * their expiry (store_quarantine_*, decision 0040). It holds no state
 * that a crash could lose: both jobs are rows in the store. */
#ifndef PETREL_FILTER_QUARKEEP_H
#define PETREL_FILTER_QUARKEEP_H

#include "core/err.h"

struct store;
struct filter_quarkeep;

/* Start the thread; st is borrowed and must outlive it. NULL with err
 * if the thread could not start. */
struct filter_quarkeep *filter_quarkeep_start(struct store *st,
					      struct err *err);
/* Stop and join it; *kp = NULL. */
void filter_quarkeep_stop(struct filter_quarkeep **kp);

#endif
