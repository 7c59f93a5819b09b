/* fuzz_lr_model.c - libFuzzer target for the classifier's stored
 * logistic model (src/filter/lr.c): any bytes are either refused or give
 * a model whose margins are finite, and a trainer started from the same
 * bytes agrees with it. The first octets also serve as a message whose
 * features are taken. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "filter/lr.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err;
	struct lr_feats f;
	lr_features(span_make(data, size), NULL, &f);
	CHECK(f.n >= 1 && f.v[f.n - 1] == LR_DIM);
	for (size_t i = 1; i < f.n; i++)
		CHECK(f.v[i - 1] < f.v[i]);
	struct lr_model *m = lr_model_parse(data, size, &err);
	struct lr_train *t = lr_train_new(data, size, &err);
	CHECK((m == NULL) == (t == NULL));
	if (m != NULL) {
		double z = lr_model_margin(m, &f);
		CHECK(isfinite(z));
		double zt = lr_train_step(t, &f, 0, true);
		CHECK(fabs(z - zt) <= 1e-3 * (1 + fabs(z)));
	}
	lr_model_free(&m);
	lr_train_free(&t);
	lr_feats_free(&f);
	return 0;
}
