/* bayes_fx.h - the classifier tests' fixture: a classifier on a store in
 * a fresh temp dir, for cmocka setup/teardown. */
#ifndef PETREL_TEST_BAYES_FX_H
#define PETREL_TEST_BAYES_FX_H

#include <stdlib.h>

#include "filter/bayes.h"
#include "store/store.h"

#include "../store/store_test_util.h"

struct fx {
	char root[128], dir[160];
	struct store *st;
	struct bayes *b;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->st = temp_store_open("bayes", f->root, sizeof f->root, f->dir,
				sizeof f->dir);
	f->b = bayes_new(f->st, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	bayes_free(&f->b);
	temp_store_close(&f->st, f->root);
	free(f);
	return 0;
}

#endif
