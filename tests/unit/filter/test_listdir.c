/* test_listdir.c - the list files under data_dir (src/filter/listdir*.c):
 * paths and the names they refuse; add and remove keep every other
 * line and comment byte for byte, are no-ops when there is nothing to
 * do, name a bad entry; listing shows canonical entries with lines and
 * bad lines with reasons; the cache reads a level once, again when its
 * files change, keeps the old lists when a file cannot be read, and
 * serves readers on several threads while another thread edits and
 * reloads (run under ASan: no reader sees a freed list). */
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "filter/listdir.h"
#include "../store/store_test_util.h"

struct fx {
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/petrel-listdir-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static char *read_file(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_paths(void **state)
{
	struct fx *f = *state;
	char p[512];
	struct err err;
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_GLOBAL, NULL,
					     FILTER_LIST_ALLOW, p, sizeof p,
					     &err), 0);
	assert_true(strstr(p, "/filter/allow.conf") != NULL);
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_DOMAIN,
					     "Example.COM", FILTER_LIST_BLOCK,
					     p, sizeof p, &err), 0);
	assert_true(strstr(p, "/filter/domains/example.com/block.conf") != NULL);
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_USER,
					     "Alice@example.com",
					     FILTER_LIST_ALLOW, p, sizeof p,
					     &err), 0);
	assert_true(strstr(p, "/filter/users/alice@example.com/allow.conf") !=
		    NULL);
	static const char *const bad[] = { "", ".hidden", "..", "a/b",
					   "../../etc", "a b", "caf\xc3\xa9" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(filter_listdir_path(f->dir,
						     FILTER_LEVEL_DOMAIN, bad[i],
						     FILTER_LIST_ALLOW, p,
						     sizeof p, &err), -1);
		assert_int_equal(err.kind, ERR_PEER);
	}
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_USER, NULL,
					     FILTER_LIST_ALLOW, p, sizeof p,
					     &err), -1);
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_GLOBAL, NULL,
					     FILTER_LIST_ALLOW, p, 10, &err),
			 -1);
	assert_int_equal(err.kind, ERR_LIMIT);
}

static void test_edit(void **state)
{
	struct fx *f = *state;
	char p[512];
	struct err err;
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_DOMAIN,
					     "example.com", FILTER_LIST_ALLOW,
					     p, sizeof p, &err), 0);
	/* no file, no directory: nothing to remove */
	assert_int_equal(filter_listdir_remove(p, span_cstr("x.test"), &err), 0);
	assert_int_equal(filter_listdir_add(p, span_cstr(" Partner.EXAMPLE "),
					    &err), 1);
	assert_string_equal(read_file(p), "partner.example\n");
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* an edited file: comments, blanks, a bad line and no final newline */
	write_file(p, "# partners\n\npartner.example  # since 2024\r\n"
		      "not an entry\n*@.Other.example");
	assert_int_equal(filter_listdir_add(p, span_cstr("@partner.example"),
					    &err), 0);
	assert_int_equal(filter_listdir_add(p, span_cstr("192.0.2.0/24"), &err),
			 1);
	assert_string_equal(read_file(p),
			    "# partners\n\npartner.example  # since 2024\r\n"
			    "not an entry\n*@.Other.example\n192.0.2.0/24\n");
	assert_int_equal(filter_listdir_remove(p, span_cstr(".other.example"),
					       &err), 1);
	assert_string_equal(read_file(p),
			    "# partners\n\npartner.example  # since 2024\r\n"
			    "not an entry\n192.0.2.0/24\n");
	assert_int_equal(filter_listdir_remove(p, span_cstr("PARTNER.example"),
					       &err), 1);
	assert_int_equal(filter_listdir_remove(p, span_cstr("partner.example"),
					       &err), 0);
	assert_string_equal(read_file(p), "# partners\n\nnot an entry\n"
			    "192.0.2.0/24\n");
	/* a bad entry is named and changes nothing */
	assert_int_equal(filter_listdir_add(p, span_cstr("192.0.2.1/24"), &err),
			 -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_true(strstr(err.msg, "\"192.0.2.1/24\"") != NULL);
	assert_int_equal(filter_listdir_remove(p, span_cstr("a@@b"), &err), -1);
	assert_string_equal(read_file(p), "# partners\n\nnot an entry\n"
			    "192.0.2.0/24\n");
	/* no temporary files are left behind */
	char dir[512];
	snprintf(dir, sizeof dir, "%s", p);
	*strrchr(dir, '/') = '\0';
	char cmd[600];
	snprintf(cmd, sizeof cmd, "test $(ls -a '%s' | wc -l) -eq 3", dir);
	assert_int_equal(system(cmd), 0);
}

struct seen {
	int n, bad;
	char first[64];
	unsigned lines[8];
};

static int seen_fn(void *arg, const char *entry, unsigned line,
		   const char *bad)
{
	struct seen *s = arg;
	if (s->n == 0)
		snprintf(s->first, sizeof s->first, "%s", entry);
	if (s->n < 8)
		s->lines[s->n] = line;
	s->n++;
	s->bad += bad != NULL;
	return 0;
}

static void test_each(void **state)
{
	struct fx *f = *state;
	char p[512];
	struct err err;
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_GLOBAL, NULL,
					     FILTER_LIST_BLOCK, p, sizeof p,
					     &err), 0);
	struct seen s = { 0 };
	assert_int_equal(filter_listdir_each(p, seen_fn, &s, &err), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(filter_listdir_add(p, span_cstr("*.Spam.test"), &err),
			 1);
	write_file(p, "# x\n*.Spam.test\nbad..domain\n2001:db8::/32\n");
	assert_int_equal(filter_listdir_each(p, seen_fn, &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.bad, 1);
	assert_string_equal(s.first, ".spam.test");
	assert_int_equal(s.lines[0], 2);
	assert_int_equal(s.lines[2], 4);
}

static const unsigned char *ip(const char *dotted)
{
	static unsigned char b[16];
	unsigned a, c, d, e;
	assert_int_equal(sscanf(dotted, "%u.%u.%u.%u", &a, &c, &d, &e), 4);
	memset(b, 0, 10);
	b[10] = b[11] = 0xff;
	b[12] = (unsigned char)a;
	b[13] = (unsigned char)c;
	b[14] = (unsigned char)d;
	b[15] = (unsigned char)e;
	return b;
}

static enum filter_list_action verdict(struct filter_listdir_cache *c,
				       time_t now, const char *sender,
				       const char *peer)
{
	struct filter_listdir_lists l;
	filter_listdir_get(c, "example.com", "alice@example.com", now, &l);
	struct filter_list_query q = { .sender = span_cstr(sender),
				       .ip = peer ? ip(peer) : NULL };
	struct filter_list_verdict v;
	filter_lists_decide(l.l, &q, NULL, &v);
	filter_listdir_put(c, &l);
	return v.action;
}

static void test_cache(void **state)
{
	struct fx *f = *state;
	char g[512], d[512], u[512];
	struct err err;
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_GLOBAL, NULL,
					     FILTER_LIST_BLOCK, g, sizeof g,
					     &err), 0);
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_DOMAIN,
					     "example.com", FILTER_LIST_BLOCK,
					     d, sizeof d, &err), 0);
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_USER,
					     "alice@example.com",
					     FILTER_LIST_ALLOW, u, sizeof u,
					     &err), 0);
	assert_int_equal(filter_listdir_add(g, span_cstr("192.0.2.0/24"), &err),
			 1);
	assert_int_equal(filter_listdir_add(d, span_cstr("spam.test"), &err), 1);
	struct filter_listdir_cache *c = filter_listdir_cache_new(f->dir);
	time_t now = 1000;
	assert_int_equal(verdict(c, now, "x@spam.test", NULL),
			 FILTER_LIST_BLOCK);
	assert_int_equal(verdict(c, now, "x@ok.test", "192.0.2.9"),
			 FILTER_LIST_BLOCK);
	assert_int_equal(verdict(c, now, "x@ok.test", "198.51.100.1"),
			 FILTER_LIST_NONE);
	/* a user's allow is seen once the check interval has passed */
	assert_int_equal(filter_listdir_add(u, span_cstr("friend@spam.test"),
					    &err), 1);
	struct filter_listdir_lists l;
	filter_listdir_get(c, "example.com", "alice@example.com", now, &l);
	assert_null(l.l[FILTER_LEVEL_USER]);
	filter_listdir_put(c, &l);
	now += FILTER_LIST_CHECK_SECONDS;
	filter_listdir_get(c, "example.com", "ALICE@example.com", now, &l);
	assert_non_null(l.l[FILTER_LEVEL_USER]);
	assert_non_null(l.l[FILTER_LEVEL_DOMAIN]);
	assert_non_null(l.l[FILTER_LEVEL_GLOBAL]);
	/* a held list outlives a reload that replaces it */
	const struct filter_list *held = l.l[FILTER_LEVEL_DOMAIN];
	write_file(d, "other.test\n");
	now += FILTER_LIST_CHECK_SECONDS;
	assert_int_equal(verdict(c, now, "x@spam.test", NULL), FILTER_LIST_NONE);
	struct filter_list_match m;
	struct filter_list_query q = { .sender = span_cstr("x@spam.test") };
	filter_list_lookup(held, &q, &m);
	assert_int_equal(m.action, FILTER_LIST_BLOCK);
	filter_listdir_put(c, &l);
	/* an unreadable file keeps the lists read before */
	assert_int_equal(unlink(d), 0);
	assert_int_equal(mkdir(d, 0700), 0);
	now += FILTER_LIST_CHECK_SECONDS;
	assert_int_equal(verdict(c, now, "x@other.test", NULL),
			 FILTER_LIST_BLOCK);
	assert_int_equal(rmdir(d), 0);
	now += FILTER_LIST_CHECK_SECONDS;
	assert_int_equal(verdict(c, now, "x@other.test", NULL),
			 FILTER_LIST_NONE);
	/* names a path may not hold give no list, not an error */
	filter_listdir_get(c, "../etc", ".x", now, &l);
	assert_null(l.l[FILTER_LEVEL_DOMAIN]);
	assert_null(l.l[FILTER_LEVEL_USER]);
	assert_non_null(l.l[FILTER_LEVEL_GLOBAL]);
	filter_listdir_put(c, &l);
	filter_listdir_cache_free(&c);
	assert_null(c);
}

/* Readers on four threads while the main thread rewrites the files and
 * moves the clock so that every get may reload. */
struct race {
	struct filter_listdir_cache *c;
	_Atomic long now;
	_Atomic bool stop;
	_Atomic long gets;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	char user[64];
	unsigned k = 0;
	while (!atomic_load(&r->stop)) {
		/* users beyond the slot limit force evictions too */
		snprintf(user, sizeof user, "u%u@example.com",
			 k++ % (FILTER_LISTDIR_SLOTS_MAX + 50));
		struct filter_listdir_lists l;
		filter_listdir_get(r->c, "example.com", user,
				   (time_t)atomic_load(&r->now), &l);
		struct filter_list_query q = { .sender = span_cstr("a@b.test") };
		struct filter_list_verdict v;
		filter_lists_decide(l.l, &q, NULL, &v);
		for (int i = 0; i < FILTER_LEVELS; i++)
			if (l.l[i] != NULL)
				assert_true(filter_list_count(l.l[i]) > 0);
		filter_listdir_put(r->c, &l);
		atomic_fetch_add(&r->gets, 1);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fx *f = *state;
	char d[512];
	struct err err;
	assert_int_equal(filter_listdir_path(f->dir, FILTER_LEVEL_DOMAIN,
					     "example.com", FILTER_LIST_BLOCK,
					     d, sizeof d, &err), 0);
	assert_int_equal(filter_listdir_add(d, span_cstr("b.test"), &err), 1);
	struct race r = { .c = filter_listdir_cache_new(f->dir) };
	atomic_init(&r.now, 1000);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
	for (int i = 0; i < 200; i++) {
		char e[32];
		snprintf(e, sizeof e, "h%d.test", i);
		assert_int_equal(filter_listdir_add(d, span_cstr(e), &err), 1);
		atomic_fetch_add(&r.now, FILTER_LIST_CHECK_SECONDS);
		usleep(500);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(atomic_load(&r.gets) > 0);
	filter_listdir_cache_free(&r.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
