/* test_sym.c - symbols, weights and the weights file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "filter/sym.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_names_declared_once(void **state)
{
	size_t n = filter_sym_defs_count();

	(void)state;
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		const struct filter_sym_def *d = filter_sym_def_at(i);

		assert_true(strlen(d->name) < FILTER_SYM_NAME_MAX);
		assert_true(strspn(d->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_") == strlen(d->name));
		assert_non_null(d->what);
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(d->name,
						filter_sym_def_at(j)->name);
	}
}

static void test_weights_file(void **state)
{
	char path[] = "/tmp/petrel-weightsXXXXXX";
	int fd = mkstemp(path);
	struct filter_weights *w;
	struct err err;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# mine\nBLOCK_LIST  42.5  # more\n\n"
		   "ALLOW_LIST_UNAUTH 0\n");
	assert_int_equal(filter_weights_new(path, &w, &err), 0);
	assert_true(filter_weight(w, "BLOCK_LIST") == 42.5);
	assert_true(filter_weight(w, "ALLOW_LIST") == -100);
	assert_true(filter_weight(w, "NO_SUCH") == 0);
	filter_weights_free(&w);
	assert_null(w);

	write_file(path, "BLOCK_LIST 1\nNO_SUCH_SYMBOL 3\n");
	assert_int_equal(filter_weights_new(path, &w, &err), -1);
	assert_non_null(strstr(err.msg, ":2: unknown symbol"));
	write_file(path, "BLOCK_LIST 1x\n");
	assert_int_equal(filter_weights_new(path, &w, &err), -1);
	assert_non_null(strstr(err.msg, ":1: bad weight"));
	write_file(path, "BLOCK_LIST nan\n");
	assert_int_equal(filter_weights_new(path, &w, &err), -1);
	write_file(path, "BLOCK_LIST\n");
	assert_int_equal(filter_weights_new(path, &w, &err), -1);
	unlink(path);
	assert_int_equal(filter_weights_new(path, &w, &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
}

static void test_syms_add(void **state)
{
	struct filter_syms s;
	struct filter_weights *w;
	struct err err;

	(void)state;
	assert_int_equal(filter_weights_new(NULL, &w, &err), 0);
	filter_syms_init(&s);
	filter_sym_add(&s, w, "BLOCK_LIST", 1, "entry %s", "evil\x01.test");
	filter_sym_add(&s, w, "BLOCK_LIST", 0.5, "again");
	assert_int_equal(s.n, 1);
	assert_true(s.total == 100);
	assert_string_equal(s.v[0].detail, "entry evil?.test");
	filter_sym_add_score(&s, "BAYES", 3.25, "p=0.99");
	assert_true(s.total == 103.25);
	assert_true(filter_syms_has(&s, "BAYES"));
	for (int i = 0; i < FILTER_SYMS_MAX + 5; i++) {
		char name[FILTER_SYM_NAME_MAX];

		snprintf(name, sizeof(name), "X%d", i);
		filter_sym_add_score(&s, name, 1, NULL);
	}
	assert_int_equal(s.n, FILTER_SYMS_MAX);
	assert_int_equal(s.dropped, 7);
	assert_true(s.total == 103.25 + FILTER_SYMS_MAX + 5);
	filter_weights_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_declared_once),
		cmocka_unit_test(test_weights_file),
		cmocka_unit_test(test_syms_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
