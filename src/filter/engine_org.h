/* engine_org.h - the organisation as the filter sees it: hosted domains,
 * the lookalike set (hosted domains and the brand list) and the users'
 * display names for impersonation, read from the store and rebuilt at
 * most every FILTER_ORG_REFRESH seconds. A snapshot is immutable and
 * reference counted: a check holds one while it runs, a rebuild swaps
 * in a new one. Private to the engine. */
#ifndef PETREL_FILTER_ENGINE_ORG_H
#define PETREL_FILTER_ENGINE_ORG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/config.h"

struct store;
struct lookalike_set;
struct imperson_set;

struct filter_org {
	unsigned refs;			/* under the holder's lock */
	char **hosted;			/* sorted, lower case A-labels */
	size_t n_hosted;
	struct lookalike_set *lookalike;	/* NULL: none */
	struct imperson_set *imperson;		/* NULL: none */
	time_t built;
};

struct filter_org_holder {
	pthread_mutex_t lock;
	struct filter_org *cur;		/* NULL until the first build */
	bool building;			/* one thread rebuilds at a time */
	struct store *st;		/* NULL: only the brand list */
	const struct cfg_domains *brands;
};

void filter_org_holder_init(struct filter_org_holder *h, struct store *st,
			    const struct cfg_domains *brands);
void filter_org_holder_free(struct filter_org_holder *h);
/* The current snapshot (rebuilt first when missing or old), held:
 * release it with filter_org_put. Never NULL. */
struct filter_org *filter_org_get(struct filter_org_holder *h, time_t now);
void filter_org_put(struct filter_org_holder *h, struct filter_org *o);
/* domain (any case, no trailing dot) or a parent of it is hosted. */
bool filter_org_hosted(const struct filter_org *o, const char *domain);

#endif
