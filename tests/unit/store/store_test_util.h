/* store_test_util.h - helpers shared by the store's unit tests: removing a
 * test directory, message bytes that prove which message they are, and
 * checks of stored messages and of store_check(). Include after cmocka.h
 * and store/store.h. */
#ifndef PETREL_STORE_TEST_UTIL_H
#define PETREL_STORE_TEST_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

/* The schema version a store opened by this code has. */
#define STORE_TEST_SCHEMA 16

/* For code running in a forked child, where cmocka cannot report. */
#define CHILD_CHECK(cond)                                                    \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "child: %s:%d: %s\n", __FILE__,      \
				__LINE__, #cond);                            \
			_exit(1);                                            \
		}                                                            \
	} while (0)

/* nftw() callback that removes a test directory's entries. */
static inline int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh store in a new directory under /tmp named after prefix: root
 * (at least 64 bytes) is the directory, dir (96) the store inside it.
 * Fails the test when it cannot be made. */
static inline struct store *temp_store_open(const char *prefix, char *root,
					    size_t rootsz, char *dir,
					    size_t dirsz)
{
	snprintf(root, rootsz, "/tmp/petrel-%s-XXXXXX", prefix);
	assert_non_null(mkdtemp(root));
	snprintf(dir, dirsz, "%s/data", root);
	struct store *st;
	struct err err;
	if (store_open(dir, &st, &err) != 0)
		fail_msg("store_open: %s", err.msg);
	return st;
}

/* Close *stp and remove the directory temp_store_open made. */
static inline void temp_store_close(struct store **stp, const char *root)
{
	store_close(stp);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Run sql on the store's database in dir behind its back (to simulate
 * what a crash loses); fails the test on an error. Include sqlite3.h
 * first. */
#ifdef SQLITE_OK
static inline void store_test_sql(const char *dir, const char *sql)
{
	char path[256];
	snprintf(path, sizeof path, "%s/petrel.db", dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}
#endif

/* The message at folder/uid reads back as exactly data. */
static inline void assert_message(struct store *st, int64_t folder, uint32_t uid,
			   const void *data, size_t len)
{
	unsigned char *got = NULL;
	size_t got_len = 0;
	struct err err;
	int rc = store_message_read(st, folder, uid, &got, &got_len, &err);
	if (rc != 1)
		fail_msg("read folder %lld uid %u: rc %d %s", (long long)folder,
			 uid, rc, err.msg);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	free(got);
}

/* store_check() succeeds; its count of problems. */
static inline uint64_t check(struct store *st)
{
	uint64_t problems = 99;
	struct err err;
	assert_int_equal(store_check(st, &problems, &err), 0);
	return problems;
}

/* Message bytes for a tag: the tag in the first 8 bytes, then bytes that
 * depend on it, so that content proves which delivery it is. */
static inline void msg_fill(unsigned char *p, size_t n, uint64_t tag)
{
	uint64_t x = tag * 0x9E3779B97F4A7C15u + 1;
	for (size_t i = 0; i < n; i++) {
		if (i < 8) {
			p[i] = (unsigned char)(tag >> (8 * i));
			continue;
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

#endif
