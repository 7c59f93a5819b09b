/* test_msgsrc.c - the message-source reader: mbox splitting (a table of
 * inputs, each also checked split at every position for the invariant
 * that messages come out in order and inside the input), TREC-style
 * single messages with a "From " line, files, directories in name
 * order with dot files and inner symbolic links skipped, a missing path,
 * and the size bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/limits.h"
#include "filter/msgsrc.h"
#include "store/store.h"

#include "../store/store_test_util.h"

/* The messages of data joined by "|". */
static void split(const char *data, char *out, size_t outsz)
{
	struct span d = span_cstr(data), m;
	size_t pos = 0, len = 0, count = 0;
	out[0] = '\0';
	while (msgsrc_mbox_next(d, &pos, &m) == 1) {
		assert_true(m.p >= d.p && m.p + m.len <= d.p + d.len);
		int n = snprintf(out + len, outsz - len, "%s%.*s",
				 count++ ? "|" : "", (int)m.len,
				 (const char *)m.p);
		assert_true(n >= 0 && (size_t)n < outsz - len);
		len += (size_t)n;
	}
	assert_int_equal(pos, d.len);
}

static void test_split(void **state)
{
	(void)state;
	static const struct { const char *in, *want; } v[] = {
		{ "Subject: a\n\nbody\n", "Subject: a\n\nbody\n" },
		{ "", "" },
		/* TREC: one message after its "From " line */
		{ "From x@y Sun Apr  8 13:07:32 2007\nSubject: a\n\nb\n",
		  "Subject: a\n\nb\n" },
		{ "From x@y Sun Apr  8 13:07:32 2007\nA\n\n"
		  "From y@z Mon Apr  9 01:02:03 2007\nB\n\n"
		  "From z@w Tue Apr 10 1:02:03 2007\nC\n", "A\n|B\n|C\n" },
		/* a body line "From " with no time, or not after an empty
		 * line, does not split */
		{ "From x@y Sun Apr  8 13:07:32 2007\nA\n\nFrom the desk\n"
		  "From a Sun Apr  8 13:07:32 2007\nB\n",
		  "A\n\nFrom the desk\nFrom a Sun Apr  8 13:07:32 2007\nB\n" },
		/* CRLF */
		{ "From x 12:00:00\r\nA\r\n\r\nFrom y 12:00:01\r\nB\r\n",
		  "A\r\n|B\r\n" },
		/* a "From " line alone, and at the very end */
		{ "From x 12:00:00", "" },
		{ "From x 12:00:00\nA\n\nFrom y 12:00:01", "A\n" },
		{ "From x 12:00:00\nA\n\nFrom y 12:00:01\n", "A\n" },
		/* empty messages between separators */
		{ "From x 12:00:00\n\nFrom y 12:00:01\nB", "|B" },
		/* a time too far into the line does not count */
		{ "From x 12:00:00\nA\n\nFrom y", "A\n\nFrom y" },
	};
	char out[2048];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		split(v[i].in, out, sizeof out);
		if (strcmp(out, v[i].want) != 0)
			fail_msg("case %zu: got \"%s\"", i, out);
	}
	/* a separator with its time past SEP_LINE_MAX octets */
	char big[1200 + 64];
	int n = snprintf(big, sizeof big, "From x 1:00:00\nA\n\nFrom ");
	memset(big + n, 'x', 1100);
	snprintf(big + n + 1100, sizeof big - (size_t)n - 1100, " 1:00:00\nB");
	split(big, out, sizeof out);
	assert_null(strchr(out, '|'));
	assert_true(msgsrc_is_mbox(span_cstr("From ")));
	assert_false(msgsrc_is_mbox(span_cstr("From")));
	assert_false(msgsrc_is_mbox(span_cstr(">From x")));
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_files_and_dirs(void **state)
{
	(void)state;
	char root[] = "/tmp/petrel-msgsrc-XXXXXX", sub[128], deep[160];
	assert_non_null(mkdtemp(root));
	snprintf(sub, sizeof sub, "%s/b-dir", root);
	snprintf(deep, sizeof deep, "%s/inner", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(deep, 0700), 0);
	write_file(root, "c.eml", "Subject: c\n\nc\n");
	write_file(root, "a.eml", "Subject: a\n\na\n");
	write_file(root, ".hidden", "Subject: h\n\nh\n");
	write_file(root, "empty", "");
	write_file(sub, "x.mbox", "From a 1:00:00\nX1\n\nFrom b 1:00:01\nX2\n");
	write_file(deep, "t.eml", "From a 1:00:00\nT\n");
	char link[200];
	snprintf(link, sizeof link, "%s/loop", sub);
	assert_int_equal(symlink(root, link), 0);

	const char *paths[] = { root };
	struct msgsrc *m;
	struct err err;
	assert_int_equal(msgsrc_open(paths, 1, &m, &err), 0);
	struct msgsrc_msg msg;
	char got[1024] = "";
	size_t len = 0;
	int rc;
	while ((rc = msgsrc_next(m, &msg, &err)) == 1) {
		const char *base = msg.name + strlen(root);
		len += (size_t)snprintf(got + len, sizeof got - len, "%s=%.*s;",
					base, (int)msg.data.len,
					(const char *)msg.data.p);
		assert_false(msg.cut);
	}
	assert_int_equal(rc, 0);
	msgsrc_close(&m);
	assert_null(m);
	assert_string_equal(got,
		"/a.eml=Subject: a\n\na\n;"
		"/b-dir/inner/t.eml=T\n;"
		"/b-dir/x.mbox#1=X1\n;"
		"/b-dir/x.mbox#2=X2\n;"
		"/c.eml=Subject: c\n\nc\n;");

	/* a path that is not there */
	const char *missing[] = { root, "/nonexistent/petrel-msgsrc" };
	assert_int_equal(msgsrc_open(missing, 2, &m, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "nonexistent"));

	/* a file that vanished after listing: an error, then the next */
	char gone[200];
	snprintf(gone, sizeof gone, "%s/c.eml", root);
	const char *two[] = { gone, gone };
	assert_int_equal(msgsrc_open(two, 2, &m, &err), 0);
	assert_int_equal(unlink(gone), 0);
	assert_int_equal(msgsrc_next(m, &msg, &err), -1);
	assert_int_equal(msgsrc_next(m, &msg, &err), -1);
	assert_int_equal(msgsrc_next(m, &msg, &err), 0);
	msgsrc_close(&m);

	/* longer than MSGSRC_MESSAGE_MAX: cut */
	char bigp[200];
	snprintf(bigp, sizeof bigp, "%s/big.eml", root);
	FILE *f = fopen(bigp, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), MSGSRC_MESSAGE_MAX + 10), 0);
	assert_int_equal(fclose(f), 0);
	const char *bigv[] = { bigp };
	assert_int_equal(msgsrc_open(bigv, 1, &m, &err), 0);
	assert_int_equal(msgsrc_next(m, &msg, &err), 1);
	assert_true(msg.cut);
	assert_int_equal(msg.data.len, MSGSRC_MESSAGE_MAX);
	assert_string_equal(msg.name, bigp);
	msgsrc_close(&m);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_files_and_dirs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
