/* test_zipdir.c - cmocka tests of the ZIP central directory reader
 * (src/filter/zipdir.c): names, flags and sizes; an archive comment;
 * data prepended (self-extractors); ZIP64 sizes and end records; a tail
 * that starts inside the directory; more entries than the cap; and
 * inputs that are not ZIPs or are cut at every length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter/zipdir.h"
#include "rules_test_util.h"

struct seen {
	size_t n;
	char names[8][FILTER_ZIP_NAME_MAX + 1];
	bool enc[8];
	uint64_t usize[8], csize[8];
	size_t stop_after;	/* 0: never stop */
};

static bool collect(const struct zipdir_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		memcpy(s->names[s->n], e->name, sizeof e->name);
		s->enc[s->n] = e->encrypted;
		s->usize[s->n] = e->usize;
		s->csize[s->n] = e->csize;
	}
	s->n++;
	return s->stop_after == 0 || s->n < s->stop_after;
}

static const struct tzip_entry two[] = {
	{ "dir/a.txt", false, 5, 10 },
	{ "b.exe", true, 7, 9 },
};

static void test_basic(void **state)
{
	struct buf z;
	struct seen s;
	struct zipdir_info info;

	(void)state;
	buf_init(&z, 1 << 20);
	tzip_build(&z, two, 2, "archive comment");
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(buf_span(&z), collect, &s, &info), 1);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "dir/a.txt");
	assert_string_equal(s.names[1], "b.exe");
	assert_false(s.enc[0]);
	assert_true(s.enc[1]);
	assert_int_equal(s.usize[0], 10);
	assert_int_equal(s.csize[1], 7);
	assert_int_equal(info.declared, 2);
	assert_int_equal(info.read, 2);
	assert_false(info.cut);
	/* the callback stops the walk */
	memset(&s, 0, sizeof s);
	s.stop_after = 1;
	assert_int_equal(zipdir_read(buf_span(&z), collect, &s, &info), 1);
	assert_int_equal(s.n, 1);
	buf_release(&z);
}

static void test_prepended_and_tail(void **state)
{
	struct buf z, sfx;
	struct seen s;
	struct zipdir_info info;

	(void)state;
	buf_init(&z, 1 << 20);
	tzip_build(&z, two, 2, NULL);
	/* a self-extractor: a program before the archive */
	buf_init(&sfx, 1 << 20);
	tz_put(&sfx, "MZ....stub program....", 22);
	tz_put(&sfx, z.data, z.len);
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(buf_span(&sfx), collect, &s, &info), 1);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[1], "b.exe");
	/* given only the end: the directory is inside it */
	size_t cd_and_end = z.len - 30;
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(span_make(z.data + 30, cd_and_end),
				     collect, &s, &info), 1);
	assert_int_equal(s.n, 2);
	/* a tail that starts inside the directory: cut, nothing read */
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(span_make(z.data + 40, z.len - 40),
				     collect, &s, &info), 1);
	assert_int_equal(s.n, 0);
	assert_true(info.cut);
	buf_release(&z);
	buf_release(&sfx);
}

static void test_zip64(void **state)
{
	struct buf z;
	struct seen s;
	struct zipdir_info info;

	(void)state;
	buf_init(&z, 1 << 20);
	tz_put(&z, "PK\x03\x04", 4);
	for (int i = 0; i < 26; i++)
		tz_put(&z, "", 1);
	size_t cd = z.len;
	/* one entry whose sizes are in a ZIP64 extra field */
	const struct tzip_entry big = { "x.bin", false, 0xffffffffu,
					0xffffffffu };
	tzip_cdh(&z, &big, 4 + 16);
	tz_le(&z, 1, 2);
	tz_le(&z, 16, 2);
	tz_le(&z, 1ull << 40, 8);	/* uncompressed: 1 TB */
	tz_le(&z, 1000, 8);		/* compressed */
	size_t cdsize = z.len - cd;
	/* ZIP64 end record, locator, then the classic end record */
	tz_put(&z, "PK\x06\x06", 4);
	tz_le(&z, 44, 8);
	tz_le(&z, 45, 2);
	tz_le(&z, 45, 2);
	tz_le(&z, 0, 8);
	tz_le(&z, 1, 8);
	tz_le(&z, 1, 8);
	tz_le(&z, cdsize, 8);
	tz_le(&z, cd, 8);
	tz_put(&z, "PK\x06\x07", 4);
	tz_le(&z, 0, 4);
	tz_le(&z, cd + cdsize, 8);
	tz_le(&z, 1, 4);
	tz_put(&z, "PK\x05\x06", 4);
	tz_le(&z, 0, 4);
	tz_le(&z, 0xffff, 2);
	tz_le(&z, 0xffff, 2);
	tz_le(&z, 0xffffffffu, 4);
	tz_le(&z, 0xffffffffu, 4);
	tz_le(&z, 0, 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(buf_span(&z), collect, &s, &info), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "x.bin");
	assert_true(s.usize[0] == 1ull << 40);
	assert_int_equal(s.csize[0], 1000);
	assert_int_equal(info.declared, 1);
	assert_false(info.cut);
	buf_release(&z);
}

static void test_cap(void **state)
{
	size_t n = FILTER_ZIP_MAX_ENTRIES + 1;
	struct tzip_entry *e = calloc(n, sizeof *e);
	struct buf z;
	struct seen s;
	struct zipdir_info info;

	(void)state;
	for (size_t i = 0; i < n; i++)
		e[i].name = "f";
	buf_init(&z, 1 << 22);
	tzip_build(&z, e, n, NULL);
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(buf_span(&z), collect, &s, &info), 1);
	assert_int_equal(s.n, FILTER_ZIP_MAX_ENTRIES);
	assert_true(info.cut);
	/* at the cap exactly: all read, not cut */
	buf_reset(&z);
	tzip_build(&z, e, n - 1, NULL);
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(buf_span(&z), collect, &s, &info), 1);
	assert_int_equal(s.n, FILTER_ZIP_MAX_ENTRIES);
	assert_false(info.cut);
	buf_release(&z);
	free(e);
}

static void test_not_zip(void **state)
{
	struct buf z;
	struct seen s;
	struct zipdir_info info;

	(void)state;
	assert_int_equal(zipdir_read(span_make("", 0), collect, &s, &info), 0);
	assert_int_equal(zipdir_read(span_cstr("PK\x05\x06 not quite"),
				     collect, &s, &info), 0);
	/* every prefix of a real archive: no crash, no entry invented */
	buf_init(&z, 1 << 20);
	tzip_build(&z, two, 2, "c");
	for (size_t len = 0; len < z.len; len++) {
		memset(&s, 0, sizeof s);
		int rc = zipdir_read(span_make(z.data, len), collect, &s, &info);
		assert_true(rc == 0 || s.n <= 2);
	}
	/* a name length that runs past the directory stops the walk */
	z.data[30 + 28] = 0xff;
	memset(&s, 0, sizeof s);
	assert_int_equal(zipdir_read(buf_span(&z), collect, &s, &info), 1);
	assert_int_equal(s.n, 0);
	assert_true(info.cut);
	buf_release(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_prepended_and_tail),
		cmocka_unit_test(test_zip64),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_not_zip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
