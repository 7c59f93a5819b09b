/* test_store.c - unit tests of the mailbox store (src/store/): directory,
 * folders, UIDs across reopen, reference-counted blobs, group commit under
 * concurrent submitters, segment rolls, the integrity check, O_DIRECT
 * writes of groups of odd sizes (and their buffered fallback), and real
 * faults (a file size limit on the segment write, a held SQLite write
 * lock) that must fail a group with 451 4.3.0, store nothing half, and let
 * later groups succeed. Crash recovery and injected faults are in
 * test_store_recovery.c. Each test gets its own directory under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/limits.h"
#include "core/log.h"
#include "store/store.h"
#include "store_test_util.h"
#include "store/store_private.h"

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	char root[64];		/* mkdtemp result */
	char dir[96];		/* root/data: store_open creates it */
	struct store *st;
	int64_t mb[3];		/* alice, bob, carol @example.com */
	int64_t inbox[3];	/* their INBOX folder ids */
};

static void fx_open(struct fx *f)
{
	struct err err;
	int rc = store_open(f->dir, &f->st, &err);
	if (rc != 0)
		fail_msg("store_open: %s", err.msg);
}

static void fx_open_tuned(struct fx *f, const struct store_tuning *tu)
{
	struct err err;
	int rc = store_open_tuned(f->dir, tu, NULL, NULL, &f->st, &err);
	if (rc != 0)
		fail_msg("store_open_tuned: %s", err.msg);
}

static void fx_reopen(struct fx *f)
{
	store_close(&f->st);
	assert_null(f->st);
	fx_open(f);
}

static int64_t inbox_of(struct store *st, int64_t mb)
{
	struct store_folder fo;
	struct err err;
	assert_int_equal(store_folder_find(st, mb, "INBOX", &fo, &err), 1);
	return fo.id;
}

static void fx_populate(struct fx *f)
{
	struct err err;
	static const char *const names[3] = { "alice", "bob", "carol" };
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_mailbox_add(f->st, names[i],
						   "example.com", "$h$x", 0,
						   &f->mb[i], &err),
				 0);
		f->inbox[i] = inbox_of(f->st, f->mb[i]);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->root, sizeof f->root, "/tmp/petrel-store-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
	fx_open(f);
	fx_populate(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(&f->st);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

static int deliver(struct store *st, const void *data, size_t len,
		   const int64_t *ids, size_t n, uint32_t *uids,
		   struct err *err)
{
	struct store_delivery d = {
		.data = data,
		.len = len,
		.mailbox_ids = ids,
		.n_mailboxes = n,
		.internal_date = 1700000000,
		.uids_out = uids,
	};
	return store_deliver_wait(st, &d, err);
}

static uint64_t used_of(struct store *st, const char *local)
{
	struct store_mailbox mb;
	struct err err;
	assert_int_equal(store_mailbox_find(st, local, "example.com", &mb, &err),
			 1);
	return mb.used;
}

/* One integer from SQL run on the store's database by a connection of the
 * test's own: to look at rows the API does not show. */
static int64_t sql_int(const struct fx *f, const char *sql)
{
	char path[160];
	snprintf(path, sizeof path, "%s/petrel.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void segment_path(const struct fx *f, uint32_t id, char *out, size_t n)
{
	snprintf(out, n, "%s/blobs/%08u.seg", f->dir, (unsigned)id);
}

/* Bytes a message record of n recipients and len data bytes takes. */
static int64_t rec_size(uint32_t n, size_t len)
{
	struct store_rec r = { .kind = STORE_REC_MESSAGE, .n_rcpt = n,
			       .data_len = len };
	return (int64_t)store_rec_size(&r);
}

/* ---- record format ------------------------------------------------------ */

static void test_crc32c(void **state)
{
	(void)state;
	/* RFC 3720 B.4 check value */
	assert_int_equal(store_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(store_crc32c_portable(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(store_crc32c(0, "", 0), 0);
	unsigned char buf[1000];
	fill(buf, sizeof buf, 7);
	uint32_t whole = store_crc32c(0, buf, sizeof buf);
	/* every length and alignment against the table-driven code */
	for (size_t i = 0; i < 40; i++)
		for (size_t n = 0; n < 40; n++)
			assert_int_equal(store_crc32c(0, buf + i, n),
					 store_crc32c_portable(0, buf + i, n));
	for (size_t cut = 0; cut <= sizeof buf; cut += 37) {
		assert_int_equal(store_crc32c(store_crc32c(0, buf, cut),
					      buf + cut, sizeof buf - cut),
				 whole);
		assert_int_equal(store_crc32c_portable(
					 store_crc32c_portable(0, buf, cut),
					 buf + cut, sizeof buf - cut),
				 whole);
	}
}

static void test_record_header(void **state)
{
	(void)state;
	unsigned char hdr[STORE_REC_HDR_SIZE];
	struct store_rec r = {
		.kind = STORE_REC_MESSAGE, .segment = 3, .n_rcpt = 2,
		.offset = 4096, .seq = 77, .internal_date = 1700000000,
		.data_len = 300, .data_crc = 0x12345678u, .meta_crc = 0x9abcdef0u,
	}, got;
	store_rec_encode(hdr, &r);
	assert_int_equal(store_rec_decode(hdr, &got), 0);
	assert_int_equal(got.kind, r.kind);
	assert_int_equal(got.segment, 3);
	assert_int_equal(got.n_rcpt, 2);
	assert_int_equal(got.offset, 4096);
	assert_int_equal(got.seq, 77);
	assert_int_equal(got.internal_date, 1700000000);
	assert_int_equal(got.data_len, 300);
	assert_int_equal(got.data_crc, 0x12345678u);
	assert_int_equal(got.meta_crc, 0x9abcdef0u);
	assert_int_equal(store_rec_meta_len(&got), 2 * STORE_REC_RCPT_SIZE);
	assert_int_equal(store_rec_size(&got),
			 (STORE_REC_HDR_SIZE + 2 * STORE_REC_RCPT_SIZE + 300 +
			  STORE_REC_ALIGN - 1) / STORE_REC_ALIGN * STORE_REC_ALIGN);
	/* every bit of the header counts */
	for (size_t i = 0; i < sizeof hdr; i++) {
		for (int bit = 0; bit < 8; bit++) {
			hdr[i] ^= (unsigned char)(1u << bit);
			assert_int_equal(store_rec_decode(hdr, &got), -1);
			hdr[i] ^= (unsigned char)(1u << bit);
		}
	}
	/* headers outside the bounds, each with a valid CRC */
	struct store_rec bad = r;
	bad.n_rcpt = 0;
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad = r;
	bad.n_rcpt = STORE_REC_RCPT_MAX + 1;
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad = r;
	bad.data_len = STORE_REC_DATA_MAX + 1;
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad = r;
	bad.offset = 4097;	/* not aligned */
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad = r;
	bad.seq = 0;
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad = r;
	bad.segment = 0;
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad = r;
	bad.kind = (enum store_rec_kind)3;
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad = (struct store_rec){ .kind = STORE_REC_ABORT, .segment = 1,
				  .seq = 5, .data_len = 1 };
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), -1);
	bad.data_len = 0;
	store_rec_encode(hdr, &bad);
	assert_int_equal(store_rec_decode(hdr, &got), 0);
	assert_int_equal(store_rec_meta_len(&got), STORE_REC_ABORT_META);

	/* recipients and abort ranges round-trip */
	unsigned char buf[STORE_REC_RCPT_SIZE];
	struct store_rec_rcpt rc = { -5, 1LL << 40, 0xfffffffeu, 0xfffffffeu,
				     UINT64_MAX - 1 }, rc2;
	store_rcpt_encode(buf, &rc);
	store_rcpt_decode(buf, &rc2);
	assert_memory_equal(&rc, &rc2, sizeof rc);
	unsigned char ab[STORE_REC_ABORT_META];
	uint64_t first, last;
	store_abort_encode(ab, 9, 1ULL << 50);
	store_abort_decode(ab, &first, &last);
	assert_int_equal(first, 9);
	assert_int_equal(last, 1ULL << 50);
}

/* ---- directory ---------------------------------------------------------- */

static void test_open_reopen(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct stat sb;
	char path[160];
	snprintf(path, sizeof path, "%s/petrel.db", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof path, "%s/blobs", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));

	/* a second open of the same directory is refused */
	struct store *other = NULL;
	assert_int_equal(store_open(f->dir, &other, &err), -1);
	assert_null(other);
	assert_int_equal(err.kind, ERR_CONFIG);

	assert_int_equal(sql_int(f, "SELECT value FROM meta WHERE "
				    "key = 'schema_version'"), 5);	/* 6 with the lead's queue step */
	fx_reopen(f);
	assert_int_equal(store_domain_exists(f->st, "example.com", &err), 1);
	assert_int_equal(store_domain_exists(f->st, "Example.COM", &err), 1);
	assert_int_equal(store_domain_exists(f->st, "example.org", &err), 0);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_find(f->st, "bob", "example.com", &mb,
					    &err), 1);
	assert_int_equal(mb.id, f->mb[1]);
	assert_int_equal(sql_int(f, "SELECT value FROM meta WHERE "
				    "key = 'schema_version'"), 5);
}

static void test_domain_mailbox(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t id;

	assert_int_equal(store_domain_add(f->st, "EXAMPLE.com", &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_domain_add(f->st, "bad..example", &err), -1);
	assert_int_equal(store_domain_add(f->st, "-bad.example", &err), -1);
	assert_int_equal(store_domain_add(f->st, "", &err), -1);

	assert_int_equal(store_mailbox_add(f->st, "Alice", "Example.Com", "h",
					   0, &id, &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_mailbox_add(f->st, "dave", "nowhere.example",
					   "h", 0, &id, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	assert_int_equal(store_mailbox_add(f->st, "a b", "example.com", "h",
					   0, &id, &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(store_mailbox_add(f->st, ".a", "example.com", "h",
					   0, &id, &err), -1);
	char longlocal[80];
	memset(longlocal, 'x', sizeof longlocal - 1);
	longlocal[sizeof longlocal - 1] = '\0';
	assert_int_equal(store_mailbox_add(f->st, longlocal, "example.com", "h",
					   0, &id, &err), -1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_find(f->st, longlocal, "example.com",
					    &mb, &err), 0);

	assert_int_equal(store_mailbox_add(f->st, "Dave.Smith", "example.com",
					   "$argon2id$x", 1000, &id, &err), 0);
	assert_int_equal(store_mailbox_find(f->st, "dave.smith", "EXAMPLE.COM",
					    &mb, &err), 1);
	assert_int_equal(mb.id, id);
	assert_string_equal(mb.address, "Dave.Smith@example.com");
	assert_int_equal(mb.quota, 1000);
	assert_int_equal(mb.used, 0);
	assert_true(mb.enabled);
	assert_int_equal(store_mailbox_find(f->st, "dave", "example.com", &mb,
					    &err), 0);
	assert_int_equal(store_mailbox_find(f->st, "dave.smith", "example.org",
					    &mb, &err), 0);

	char pw[64];
	assert_int_equal(store_mailbox_password(f->st, "DAVE.smith",
						"example.com", pw, sizeof pw,
						&err), 1);
	assert_string_equal(pw, "$argon2id$x");
	assert_int_equal(store_mailbox_password(f->st, "dave.smith",
						"example.com", pw, 4, &err), -1);
	assert_int_equal(store_mailbox_password(f->st, "eve", "example.com",
						pw, sizeof pw, &err), 0);

	assert_int_equal(store_mailbox_set_quota(f->st, "DAVE.SMITH@example.com",
						 5000, &err), 0);
	assert_int_equal(store_mailbox_find(f->st, "dave.smith", "example.com",
					    &mb, &err), 1);
	assert_int_equal(mb.quota, 5000);
	assert_int_equal(store_mailbox_set_quota(f->st, "eve@example.com", 1,
						 &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	assert_int_equal(store_mailbox_set_quota(f->st, "noat", 1, &err), -1);
}

struct each_acc {
	char addrs[8][320];
	int n;
	int stop_at;
};

static int each_mailbox(const struct store_mailbox *mb, void *arg)
{
	struct each_acc *acc = arg;
	snprintf(acc->addrs[acc->n], sizeof acc->addrs[0], "%s", mb->address);
	acc->n++;
	return acc->n == acc->stop_at;
}

static void test_mailbox_each(void **state)
{
	struct fx *f = *state;
	struct err err;
	int64_t id;
	assert_int_equal(store_domain_add(f->st, "aaa.example", &err), 0);
	assert_int_equal(store_mailbox_add(f->st, "Zed", "aaa.example", "h", 0,
					   &id, &err), 0);
	struct each_acc acc = { .stop_at = 0 };
	assert_int_equal(store_mailbox_each(f->st, each_mailbox, &acc, &err), 0);
	assert_int_equal(acc.n, 4);
	assert_string_equal(acc.addrs[0], "alice@example.com");
	assert_string_equal(acc.addrs[1], "bob@example.com");
	assert_string_equal(acc.addrs[2], "carol@example.com");
	assert_string_equal(acc.addrs[3], "Zed@aaa.example");
	struct each_acc stop = { .stop_at = 2 };
	assert_int_equal(store_mailbox_each(f->st, each_mailbox, &stop, &err),
			 0);
	assert_int_equal(stop.n, 2);
}

struct folder_acc {
	struct store_folder f[8];
	int n;
};

static int each_folder(const struct store_folder *fo, void *arg)
{
	struct folder_acc *acc = arg;
	if (acc->n < 8)
		acc->f[acc->n] = *fo;
	acc->n++;
	return 0;
}

static void test_folders(void **state)
{
	struct fx *f = *state;
	struct err err;
	static const struct {
		const char *name;
		enum store_special special;
	} want[6] = {
		{ "INBOX", STORE_SPECIAL_INBOX },   { "Sent", STORE_SPECIAL_SENT },
		{ "Drafts", STORE_SPECIAL_DRAFTS }, { "Junk", STORE_SPECIAL_JUNK },
		{ "Trash", STORE_SPECIAL_TRASH },
		{ "Archive", STORE_SPECIAL_ARCHIVE },
	};
	struct folder_acc acc = { .n = 0 };
	assert_int_equal(store_folder_each(f->st, f->mb[0], each_folder, &acc,
					   &err), 0);
	assert_int_equal(acc.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_string_equal(acc.f[i].name, want[i].name);
		assert_int_equal(acc.f[i].special, want[i].special);
		assert_int_not_equal(acc.f[i].uidvalidity, 0);
		assert_int_equal(acc.f[i].uidnext, 1);
		assert_int_equal(acc.f[i].highestmodseq, 1);
		assert_int_equal(acc.f[i].messages, 0);
	}
	/* a later mailbox gets a later UIDVALIDITY */
	struct folder_acc acc2 = { .n = 0 };
	assert_int_equal(store_folder_each(f->st, f->mb[2], each_folder, &acc2,
					   &err), 0);
	assert_true(acc2.f[0].uidvalidity > acc.f[0].uidvalidity);

	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb[0], "Junk", &fo, &err),
			 1);
	assert_int_equal(fo.special, STORE_SPECIAL_JUNK);
	assert_int_equal(store_folder_find(f->st, f->mb[0], "Nope", &fo, &err),
			 0);
	struct folder_acc none = { .n = 0 };
	assert_int_equal(store_folder_each(f->st, 424242, each_folder, &none,
					   &err), 0);
	assert_int_equal(none.n, 0);
}

/* ---- delivery ----------------------------------------------------------- */

struct msg_acc {
	struct store_message m[16];
	int n;
};

static int each_message(const struct store_message *m, void *arg)
{
	struct msg_acc *acc = arg;
	if (acc->n < 16)
		acc->m[acc->n] = *m;
	acc->n++;
	return 0;
}

static void test_uids_across_reopen(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char data[5][700];
	uint32_t uid;
	for (int i = 0; i < 5; i++) {
		fill(data[i], sizeof data[i], (unsigned)i + 100);
		if (i == 3)
			fx_reopen(f);
		assert_int_equal(deliver(f->st, data[i], sizeof data[i],
					 &f->mb[0], 1, &uid, &err), 0);
		assert_int_equal(uid, (uint32_t)i + 1);
	}
	fx_reopen(f);
	struct msg_acc acc = { .n = 0 };
	assert_int_equal(store_message_each(f->st, f->inbox[0], each_message,
					    &acc, &err), 0);
	assert_int_equal(acc.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(acc.m[i].uid, (uint32_t)i + 1);
		assert_int_equal(acc.m[i].size, sizeof data[i]);
		assert_int_equal(acc.m[i].internal_date, 1700000000);
		assert_int_equal(acc.m[i].flags, 0);
		if (i > 0)
			assert_true(acc.m[i].modseq > acc.m[i - 1].modseq);
		assert_message(f->st, f->inbox[0], acc.m[i].uid, data[i],
			       sizeof data[i]);
	}
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb[0], "INBOX", &fo, &err),
			 1);
	assert_int_equal(fo.uidnext, 6);
	assert_int_equal(fo.messages, 5);
	assert_int_equal(fo.highestmodseq, acc.m[4].modseq);
	assert_int_equal(used_of(f->st, "alice"), 5 * sizeof data[0]);

	unsigned char *p = (unsigned char *)"x";
	size_t n = 1;
	assert_int_equal(store_message_read(f->st, f->inbox[0], 6, &p, &n,
					    &err), 0);
	assert_null(p);
	assert_int_equal(check(f->st), 0);
}

static void test_multi_recipient(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char data[4096];
	fill(data, sizeof data, 9);
	uint32_t uids[3];
	assert_int_equal(deliver(f->st, data, sizeof data, f->mb, 3, uids, &err),
			 0);
	struct msg_acc acc[3];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(uids[i], 1);
		acc[i].n = 0;
		assert_int_equal(store_message_each(f->st, f->inbox[i],
						    each_message, &acc[i],
						    &err), 0);
		assert_int_equal(acc[i].n, 1);
		assert_int_equal(acc[i].m[0].blob_id, acc[0].m[0].blob_id);
		assert_message(f->st, f->inbox[i], 1, data, sizeof data);
	}
	assert_int_equal(used_of(f->st, "alice"), sizeof data);
	assert_int_equal(used_of(f->st, "bob"), sizeof data);
	assert_int_equal(used_of(f->st, "carol"), sizeof data);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), 1);
	assert_int_equal(sql_int(f, "SELECT refcount FROM blobs"), 3);
	/* stored once: one record in the log, with three recipients */
	assert_int_equal(sql_int(f, "SELECT offset FROM log_applied"),
			 rec_size(3, sizeof data));
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 1);

	struct store_stats stats;
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.groups, 1);
	assert_int_equal(stats.deliveries, 1);
	assert_int_equal(stats.failures, 0);
	assert_int_equal(stats.bytes, sizeof data);
	assert_int_equal(check(f->st), 0);
}

static void test_empty_message(void **state)
{
	struct fx *f = *state;
	struct err err;
	uint32_t uid;
	assert_int_equal(deliver(f->st, "", 0, &f->mb[1], 1, &uid, &err), 0);
	unsigned char *p = NULL;
	size_t n = 99;
	assert_int_equal(store_message_read(f->st, f->inbox[1], uid, &p, &n,
					    &err), 1);
	assert_int_equal(n, 0);
	free(p);
	assert_int_equal(check(f->st), 0);
}

/* A delivery naming a mailbox that does not exist fails alone and leaves
 * nothing behind; the others of its group are stored. */
static void test_missing_mailbox(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char data[100];
	fill(data, sizeof data, 11);
	int64_t ids[2] = { f->mb[0], 999999 };
	struct store_delivery bad = {
		.data = data, .len = sizeof data, .mailbox_ids = ids,
		.n_mailboxes = 2,
	};
	struct store_delivery good = {
		.data = data, .len = sizeof data, .mailbox_ids = &f->mb[1],
		.n_mailboxes = 1,
	};
	assert_int_equal(store_deliver_submit(f->st, &bad, &err), 0);
	assert_int_equal(store_deliver_wait(f->st, &good, &err), 0);
	store_close(&f->st);	/* drains: bad is complete too */
	assert_int_equal(bad.rc, -1);
	assert_int_equal(bad.err.reply, 451);
	assert_string_equal(bad.err.esc, "4.3.0");
	fx_open(f);
	assert_int_equal(used_of(f->st, "alice"), 0);
	assert_int_equal(used_of(f->st, "bob"), sizeof data);
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb[0], "INBOX", &fo, &err),
			 1);
	assert_int_equal(fo.messages, 0);
	assert_int_equal(fo.uidnext, 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), 1);
	assert_int_equal(check(f->st), 0);
}

/* ---- group commit ------------------------------------------------------- */

#define GC_THREADS 8
#define GC_PER_THREAD 200

struct gc_item {
	struct store_delivery d;
	unsigned char *data;
	int64_t ids[2];
	uint32_t uids[2];
	int idx[2];		/* which fixture mailboxes */
};

struct gc_worker {
	struct fx *f;
	int t;
	struct gc_item items[GC_PER_THREAD];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pending;
	int submit_failed;
};

static void gc_done(struct store_delivery *d)
{
	struct gc_worker *w = d->arg;
	pthread_mutex_lock(&w->mu);
	w->pending--;
	if (w->pending == 0)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void *gc_thread(void *arg)
{
	struct gc_worker *w = arg;
	for (int i = 0; i < GC_PER_THREAD; i++) {
		struct gc_item *it = &w->items[i];
		size_t len = 500 + (size_t)((w->t * 7919 + i * 104729) % 7000);
		it->data = malloc(len);
		fill(it->data, len, (unsigned)(w->t * 1000 + i + 1));
		it->idx[0] = i % 3;
		it->idx[1] = (i + 1) % 3;
		it->ids[0] = w->f->mb[it->idx[0]];
		it->ids[1] = w->f->mb[it->idx[1]];
		it->d = (struct store_delivery){
			.data = it->data,
			.len = len,
			.mailbox_ids = it->ids,
			.n_mailboxes = (size_t)1 + (size_t)(i % 2),
			.internal_date = 1700000000 + i,
			.done = gc_done,
			.arg = w,
			.uids_out = it->uids,
		};
		pthread_mutex_lock(&w->mu);
		w->pending++;
		pthread_mutex_unlock(&w->mu);
		struct err err;
		if (store_deliver_submit(w->f->st, &it->d, &err) != 0) {
			w->submit_failed++;
			pthread_mutex_lock(&w->mu);
			w->pending--;
			pthread_mutex_unlock(&w->mu);
		}
	}
	pthread_mutex_lock(&w->mu);
	while (w->pending > 0)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void test_group_commit(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct gc_worker *w = calloc(GC_THREADS, sizeof *w);
	assert_non_null(w);
	pthread_t th[GC_THREADS];
	for (int t = 0; t < GC_THREADS; t++) {
		w[t].f = f;
		w[t].t = t;
		pthread_mutex_init(&w[t].mu, NULL);
		pthread_cond_init(&w[t].cv, NULL);
		assert_int_equal(pthread_create(&th[t], NULL, gc_thread, &w[t]),
				 0);
	}
	for (int t = 0; t < GC_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);

	struct store_stats stats;
	store_get_stats(f->st, &stats);
	uint64_t total = GC_THREADS * GC_PER_THREAD;
	assert_int_equal(stats.deliveries, total);
	assert_int_equal(stats.failures, 0);
	assert_true(stats.groups < total);
	print_message("group commit: %llu deliveries in %llu groups\n",
		      (unsigned long long)stats.deliveries,
		      (unsigned long long)stats.groups);

	uint64_t used[3] = { 0, 0, 0 };
	uint64_t bytes = 0;
	for (int t = 0; t < GC_THREADS; t++) {
		assert_int_equal(w[t].submit_failed, 0);
		for (int i = 0; i < GC_PER_THREAD; i++) {
			struct gc_item *it = &w[t].items[i];
			assert_int_equal(it->d.rc, 0);
			bytes += it->d.len;
			for (size_t k = 0; k < it->d.n_mailboxes; k++) {
				used[it->idx[k]] += it->d.len;
				assert_message(f->st, f->inbox[it->idx[k]],
					       it->uids[k], it->data,
					       it->d.len);
			}
			free(it->data);
		}
		pthread_cond_destroy(&w[t].cv);
		pthread_mutex_destroy(&w[t].mu);
	}
	assert_int_equal(stats.bytes, bytes);
	assert_int_equal(used_of(f->st, "alice"), used[0]);
	assert_int_equal(used_of(f->st, "bob"), used[1]);
	assert_int_equal(used_of(f->st, "carol"), used[2]);
	/* UIDs of a folder are 1..n with no gap or repeat */
	for (int m = 0; m < 3; m++) {
		struct store_folder fo;
		assert_int_equal(store_folder_find(f->st, f->mb[m], "INBOX",
						   &fo, &err), 1);
		assert_int_equal(fo.uidnext, fo.messages + 1);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs"), total);
	assert_int_equal(check(f->st), 0);
	free(w);
}

struct close_item {
	struct store_delivery d;
	int done;
};

static void close_done(struct store_delivery *d)
{
	struct close_item *it = d->arg;
	it->done++;
}

/* store_close finishes what was queued before it returns. */
static void test_close_drains(void **state)
{
	struct fx *f = *state;
	struct err err;
	enum { N = 300 };
	struct close_item *items = calloc(N, sizeof *items);
	assert_non_null(items);
	static const unsigned char body[] = "Subject: hi\r\n\r\nbody\r\n";
	for (int i = 0; i < N; i++) {
		items[i].d = (struct store_delivery){
			.data = body, .len = sizeof body - 1,
			.mailbox_ids = &f->mb[2], .n_mailboxes = 1,
			.done = close_done, .arg = &items[i],
		};
		assert_int_equal(store_deliver_submit(f->st, &items[i].d, &err),
				 0);
	}
	store_close(&f->st);
	for (int i = 0; i < N; i++) {
		assert_int_equal(items[i].done, 1);
		assert_int_equal(items[i].d.rc, 0);
	}
	fx_open(f);
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb[2], "INBOX", &fo, &err),
			 1);
	assert_int_equal(fo.messages, N);
	free(items);
}

/* ---- segments and integrity --------------------------------------------- */

/* Bytes after the end of the log (a crash mid-write) are not records:
 * recovery clears them and appends where the log ends; an empty newer
 * segment (a crash right after a roll) is where appends continue. */
static void test_orphan_tail(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char data[300];
	fill(data, sizeof data, 5);
	uint32_t uid;
	assert_int_equal(deliver(f->st, data, sizeof data, &f->mb[0], 1, &uid,
				 &err), 0);
	store_close(&f->st);
	int64_t end = sql_int(f, "SELECT offset FROM log_applied");
	assert_int_equal(end, rec_size(1, sizeof data));

	/* garbage right where the next record would go */
	char path[160];
	segment_path(f, 1, path, sizeof path);
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "PTRLgarbage", 11, (off_t)end), 11);
	assert_int_equal(close(fd), 0);
	fx_open(f);
	assert_int_equal(check(f->st), 0);
	store_close(&f->st);
	/* cleared by recovery */
	unsigned char back[11];
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, sizeof back, (off_t)end), 11);
	assert_int_equal(close(fd), 0);
	static const unsigned char zeros[11];
	assert_memory_equal(back, zeros, sizeof back);

	/* garbage again, and an empty newer segment, as if the crash came
	 * right after a roll: appends go there */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "PTRLgarbage", 11, (off_t)end), 11);
	assert_int_equal(close(fd), 0);
	segment_path(f, 7, path, sizeof path);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);

	fx_open(f);
	assert_int_equal(check(f->st), 0);
	assert_int_equal(deliver(f->st, data, sizeof data, &f->mb[0], 1, &uid,
				 &err), 0);
	assert_int_equal(uid, 2);
	assert_message(f->st, f->inbox[0], 1, data, sizeof data);
	assert_message(f->st, f->inbox[0], 2, data, sizeof data);
	assert_int_equal(sql_int(f, "SELECT segment FROM blobs ORDER BY id "
				    "DESC LIMIT 1"), 7);
	assert_int_equal(sql_int(f, "SELECT offset FROM blobs ORDER BY id "
				    "DESC LIMIT 1"), 0);
	assert_int_equal(check(f->st), 0);
	fx_reopen(f);
	assert_int_equal(check(f->st), 0);
	assert_message(f->st, f->inbox[0], 2, data, sizeof data);
}

/* A group that would take a segment past its size limit goes to the next
 * one (unless the segment is empty: a big message fits somewhere), and
 * appends continue in the newest after a reopen. */
static void test_segment_roll(void **state)
{
	struct fx *f = *state;
	struct err err;
	store_close(&f->st);
	struct store_tuning tu = { .segment_max = 4096,
				   .prealloc_chunk = 4096,
				   .prealloc_low = 1024 };
	fx_open_tuned(f, &tu);

	unsigned char a[1000], b[3000], big[10000];
	fill(a, sizeof a, 41);
	fill(b, sizeof b, 42);
	fill(big, sizeof big, 43);
	uint32_t uid;
	assert_int_equal(deliver(f->st, a, sizeof a, &f->mb[0], 1, &uid, &err),
			 0);
	assert_int_equal(sql_int(f, "SELECT segment FROM blobs WHERE id = 1"),
			 1);
	assert_int_equal(sql_int(f, "SELECT offset FROM blobs WHERE id = 1"), 0);
	/* 1000 + 3000 and their headers pass 4096: segment 2 */
	assert_int_equal(deliver(f->st, b, sizeof b, &f->mb[0], 1, &uid, &err),
			 0);
	assert_int_equal(sql_int(f, "SELECT segment FROM blobs WHERE id = 2"),
			 2);
	assert_int_equal(sql_int(f, "SELECT offset FROM blobs WHERE id = 2"), 0);
	/* bigger than a segment: alone in segment 3 */
	assert_int_equal(deliver(f->st, big, sizeof big, &f->mb[0], 1, &uid,
				 &err), 0);
	assert_int_equal(sql_int(f, "SELECT segment FROM blobs WHERE id = 3"),
			 3);
	store_close(&f->st);
	fx_open_tuned(f, &tu);
	assert_int_equal(deliver(f->st, a, sizeof a, &f->mb[0], 1, &uid, &err),
			 0);
	assert_int_equal(uid, 4);
	assert_int_equal(sql_int(f, "SELECT segment FROM blobs WHERE id = 4"),
			 4);
	assert_message(f->st, f->inbox[0], 1, a, sizeof a);
	assert_message(f->st, f->inbox[0], 2, b, sizeof b);
	assert_message(f->st, f->inbox[0], 3, big, sizeof big);
	assert_message(f->st, f->inbox[0], 4, a, sizeof a);
	assert_int_equal(check(f->st), 0);
	assert_int_equal(sql_int(f, "SELECT segment FROM log_applied"), 4);
}

static void test_check_corruption(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char a[1000], b[2000];
	fill(a, sizeof a, 1);
	fill(b, sizeof b, 2);
	uint32_t uid;
	assert_int_equal(deliver(f->st, a, sizeof a, &f->mb[0], 1, &uid, &err),
			 0);
	assert_int_equal(deliver(f->st, b, sizeof b, &f->mb[0], 1, &uid, &err),
			 0);
	assert_int_equal(check(f->st), 0);

	/* flip one byte in the data of the second record */
	char path[160];
	segment_path(f, 1, path, sizeof path);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(sql_int(f, "SELECT offset FROM blobs WHERE id = 2"),
			 rec_size(1, sizeof a));
	off_t at = (off_t)(rec_size(1, sizeof a) + STORE_REC_HDR_SIZE +
			   STORE_REC_RCPT_SIZE + 500);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	assert_int_equal(close(fd), 0);

	assert_int_equal(check(f->st), 1);
	unsigned char *p = NULL;
	size_t n = 0;
	assert_int_equal(store_message_read(f->st, f->inbox[0], 2, &p, &n,
					    &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_null(p);
	assert_message(f->st, f->inbox[0], 1, a, sizeof a);

	/* a damaged header counts too */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 0), 1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(check(f->st), 2);

	/* and a refcount that lies */
	store_close(&f->st);
	char dbpath[160];
	snprintf(dbpath, sizeof dbpath, "%s/petrel.db", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE blobs SET refcount = 5 "
					  "WHERE id = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	fx_open(f);
	assert_int_equal(check(f->st), 3);
}

/* ---- faults ------------------------------------------------------------- */

/* In a child process (the limit is per process): a file-size limit makes
 * the segment write fail (EFBIG, SIGXFSZ ignored). The group must fail
 * with 451 4.3.0, with no row, UID or used byte left behind, and the next
 * delivery after the limit is lifted must succeed. */
static void write_failure_child(struct fx *f)
{
	struct err err;
	unsigned char small[200], big[16384];
	fill(small, sizeof small, 21);
	fill(big, sizeof big, 22);
	uint32_t uids[2] = { 0, 0 };
	/* little pre-allocation: the big message must grow the file */
	struct store_tuning tu = { .segment_max = STORE_SEGMENT_MAX,
				   .prealloc_chunk = 4096,
				   .prealloc_low = 4096 };
	CHILD_CHECK(store_open_tuned(f->dir, &tu, NULL, NULL, &f->st, &err) ==
		    0);
	CHILD_CHECK(deliver(f->st, small, sizeof small, f->mb, 2, uids, &err) ==
		    0);
	CHILD_CHECK(uids[0] == 1 && uids[1] == 1);
	char path[160];
	struct stat sb;
	segment_path(f, 1, path, sizeof path);
	/* wait for the idle pre-allocation (the block of the record, then
	 * 4096 more): the limit must not cut that instead */
	for (int i = 0; i < 5000; i++) {
		CHILD_CHECK(stat(path, &sb) == 0);
		if (sb.st_size >= 8192)
			break;
		usleep(1000);
	}
	CHILD_CHECK(sb.st_size == 8192);

	CHILD_CHECK(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	struct rlimit old, lim;
	CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	off_t size_before = sb.st_size;
	/* pre-allocated space is a few KiB: the record starts in it and is
	 * cut by the limit */
	CHILD_CHECK((size_t)sb.st_size < sizeof big);
	lim.rlim_cur = (rlim_t)sb.st_size + 100;
	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);

	int rc = deliver(f->st, big, sizeof big, f->mb, 2, uids, &err);
	CHILD_CHECK(rc == -1);
	CHILD_CHECK(err.kind == ERR_ENV);
	CHILD_CHECK(err.reply == 451);
	CHILD_CHECK(strcmp(err.esc, "4.3.0") == 0);
	CHILD_CHECK(strstr(err.msg, "write segment") != NULL);
	/* a second failure while the disk is still "full" */
	CHILD_CHECK(deliver(f->st, big, sizeof big, &f->mb[2], 1, uids, &err) ==
		    -1);

	struct store_stats stats;
	store_get_stats(f->st, &stats);
	CHILD_CHECK(stats.failures == 2 && stats.deliveries == 1);
	struct store_folder fo;
	CHILD_CHECK(store_folder_find(f->st, f->mb[0], "INBOX", &fo, &err) == 1);
	CHILD_CHECK(fo.messages == 1 && fo.uidnext == 2);
	struct store_mailbox mb;
	CHILD_CHECK(store_mailbox_find(f->st, "alice", "example.com", &mb,
				       &err) == 1);
	CHILD_CHECK(mb.used == sizeof small);
	/* the partial record was taken back: the file is cut to what it
	 * was (the pre-allocated part stays) and the log ends where it did */
	CHILD_CHECK(stat(path, &sb) == 0);
	CHILD_CHECK(sb.st_size == size_before);
	CHILD_CHECK(f->st->seg.end == (uint64_t)rec_size(2, sizeof small));
	CHILD_CHECK(!f->st->abort.pending);

	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	CHILD_CHECK(deliver(f->st, big, sizeof big, f->mb, 2, uids, &err) == 0);
	CHILD_CHECK(uids[0] == 2 && uids[1] == 2);
	unsigned char *p = NULL;
	size_t n = 0;
	CHILD_CHECK(store_message_read(f->st, f->inbox[1], 2, &p, &n, &err) ==
		    1);
	CHILD_CHECK(n == sizeof big && memcmp(p, big, n) == 0);
	free(p);
	CHILD_CHECK(store_message_read(f->st, f->inbox[0], 1, &p, &n, &err) ==
		    1);
	CHILD_CHECK(n == sizeof small && memcmp(p, small, n) == 0);
	free(p);
	uint64_t problems = 1;
	CHILD_CHECK(store_check(f->st, &problems, &err) == 0 && problems == 0);
	store_close(&f->st);
	_exit(0);
}

static void test_write_failure(void **state)
{
	struct fx *f = *state;
	store_close(&f->st);	/* the child opens it; one process at a time */
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		write_failure_child(f);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	fx_open(f);
	assert_int_equal(check(f->st), 0);
	assert_int_equal(used_of(f->st, "alice"), 200 + 16384);
	assert_int_equal(used_of(f->st, "carol"), 0);
}

/* Another connection holds SQLite's write lock past busy_timeout: the
 * record is written and synced, the transaction fails, an abort record
 * voids it (so that replay does not store the message the client will
 * send again), the group fails with 451 4.3.0, and the UID is given
 * again. */
static void test_sqlite_failure(void **state)
{
	struct fx *f = *state;
	struct err err;
	unsigned char data[512];
	fill(data, sizeof data, 31);
	char dbpath[160];
	snprintf(dbpath, sizeof dbpath, "%s/petrel.db", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
			 SQLITE_OK);
	uint32_t uid = 0;
	assert_int_equal(deliver(f->st, data, sizeof data, &f->mb[0], 1, &uid,
				 &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_int_equal(err.reply, 451);
	assert_string_equal(err.esc, "4.3.0");
	/* lookups do not wait for the writer (WAL) */
	assert_int_equal(used_of(f->st, "alice"), 0);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(deliver(f->st, data, sizeof data, &f->mb[0], 1, &uid,
				 &err), 0);
	assert_int_equal(uid, 1);
	assert_message(f->st, f->inbox[0], 1, data, sizeof data);
	struct store_rec abort_rec = { .kind = STORE_REC_ABORT };
	/* record 1 (voided), abort record 2, record 3 */
	assert_int_equal(sql_int(f, "SELECT offset FROM blobs"),
			 rec_size(1, sizeof data) +
				 (int64_t)store_rec_size(&abort_rec));
	assert_int_equal(sql_int(f, "SELECT seq FROM log_applied"), 3);
	assert_int_equal(check(f->st), 0);
	struct store_stats stats;
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.failures, 1);
	assert_int_equal(stats.deliveries, 1);
	/* replay from before the voided record stores nothing twice */
	store_close(&f->st);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE log_applied SET segment = 0, "
					  "offset = 0, seq = 0", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	fx_open(f);
	struct store_folder fo;
	assert_int_equal(store_folder_find(f->st, f->mb[0], "INBOX", &fo, &err),
			 1);
	assert_int_equal(fo.messages, 1);
	assert_int_equal(fo.uidnext, 2);
	assert_int_equal(used_of(f->st, "alice"), sizeof data);
	assert_int_equal(check(f->st), 0);
}

/* ---- O_DIRECT ------------------------------------------------------------ */

/* Whether the committer's descriptor has O_DIRECT; the segment's flag
 * must agree with the descriptor's. Between groups (after a delivery
 * returned) the committer does not change seg.fd. */
static bool seg_direct(struct store *st)
{
	int fl = fcntl(st->seg.fd, F_GETFL);
	assert_true(fl >= 0);
	bool direct = (fl & O_DIRECT) != 0;
	assert_int_equal(direct, st->seg.direct);
	return direct;
}

/* Whether the file system of dir takes O_DIRECT at all. */
static bool fs_takes_direct(const char *dir)
{
	char path[160];
	snprintf(path, sizeof path, "%s/probe", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return fd >= 0;
}

/* On a disk file system (/tmp here) the committer writes with O_DIRECT,
 * after a new segment and after recovery alike; with tuning.buffered it
 * does not. */
static void test_direct_flag(void **state)
{
	struct fx *f = *state;
	struct err err;
	if (!fs_takes_direct(f->root))
		skip();
	unsigned char m[5000];
	fill(m, sizeof m, 7);
	uint32_t uid;
	assert_int_equal(deliver(f->st, m, sizeof m, f->mb, 1, &uid, &err), 0);
	assert_true(seg_direct(f->st));
	fx_reopen(f);	/* recovery opens the segment again */
	assert_true(seg_direct(f->st));
	assert_int_equal(deliver(f->st, m, sizeof m, f->mb, 1, &uid, &err), 0);
	assert_true(seg_direct(f->st));
	assert_message(f->st, f->inbox[0], 2, m, sizeof m);

	store_close(&f->st);
	struct store_tuning tu = { .segment_max = STORE_SEGMENT_MAX,
				   .prealloc_chunk = STORE_PREALLOC_CHUNK,
				   .prealloc_low = STORE_PREALLOC_LOW,
				   .prealloc_carry = STORE_PREALLOC_CARRY,
				   .buffered = true };
	fx_open_tuned(f, &tu);
	assert_false(seg_direct(f->st));
	assert_int_equal(deliver(f->st, m, sizeof m, f->mb, 1, &uid, &err), 0);
	assert_false(seg_direct(f->st));
	assert_message(f->st, f->inbox[0], 3, m, sizeof m);
	assert_int_equal(check(f->st), 0);
}

/* Holds the committer before it takes a group until the test has queued
 * all of it, so that groups are made of the records the test chose. */
struct hold {
	atomic_bool go;
	atomic_uint done;
};

static int hold_hook(struct store *st, enum store_hook where, void *arg)
{
	(void)st;
	struct hold *h = arg;
	if (where == STORE_HOOK_TAKE)
		while (!atomic_load(&h->go))
			usleep(200);
	return 0;
}

static void hold_done(struct store_delivery *d)
{
	struct hold *h = d->arg;
	atomic_fetch_add(&h->done, 1);
}

struct odd_msg {
	unsigned char *data;
	size_t len;
	int64_t ids[2];
	size_t n;
	uint32_t uids[2];
};

/* Groups of records of odd sizes (1 byte, around a block, 100 KB, empty),
 * one to five per group, with reopens between them and segments small
 * enough to roll: every message reads back byte for byte, store_check is
 * clean, and a replay of the whole log from its start finds it all
 * consistent (the zero padding to block ends is where the walk of each
 * group's records stops, never in the middle of the log). */
static void odd_sizes_run(struct fx *f, const struct store_tuning *tu)
{
	static const size_t sizes[] = { 1, 4095, 4096, 4097, 102400, 0,
					4000, 8, 4032, 12289, 65536 };
	enum { ROUNDS = 12, PER_MAX = 5, MSGS = ROUNDS * PER_MAX };
	struct odd_msg *msgs = calloc(MSGS, sizeof *msgs);
	assert_non_null(msgs);
	struct store_delivery *d = calloc(PER_MAX, sizeof *d);
	assert_non_null(d);
	size_t n_msgs = 0, k = 0;
	struct err err;
	store_close(&f->st);
	fx_open_tuned(f, tu);
	for (int round = 0; round < ROUNDS; round++) {
		struct hold h = { .go = false, .done = 0 };
		store_set_test_hook(f->st, hold_hook, &h);
		size_t per = 1 + (size_t)round % PER_MAX;
		for (size_t i = 0; i < per; i++) {
			struct odd_msg *m = &msgs[n_msgs++];
			m->len = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
			m->data = malloc(m->len ? m->len : 1);
			assert_non_null(m->data);
			fill(m->data, m->len, (unsigned)(n_msgs * 31 + 5));
			m->n = 1 + (i + (size_t)round) % 2;
			m->ids[0] = f->mb[i % 3];
			m->ids[1] = f->mb[(i + 1) % 3];
			d[i] = (struct store_delivery){
				.data = m->data, .len = m->len,
				.mailbox_ids = m->ids, .n_mailboxes = m->n,
				.internal_date = 1700000000, .done = hold_done,
				.arg = &h, .uids_out = m->uids,
			};
			assert_int_equal(store_deliver_submit(f->st, &d[i],
							      &err), 0);
		}
		atomic_store(&h.go, true);
		while (atomic_load(&h.done) < per)
			usleep(200);
		for (size_t i = 0; i < per; i++)
			if (d[i].rc != 0)
				fail_msg("round %d delivery %zu: %s", round, i,
					 d[i].err.msg);
		store_set_test_hook(f->st, NULL, NULL);
		if (round % 3 == 2) {
			store_close(&f->st);
			fx_open_tuned(f, tu);
		}
	}
	for (size_t i = 0; i < n_msgs; i++)
		for (size_t r = 0; r < msgs[i].n; r++) {
			size_t mb = (size_t)(msgs[i].ids[r] == f->mb[0] ? 0 :
					     msgs[i].ids[r] == f->mb[1] ? 1 : 2);
			assert_message(f->st, f->inbox[mb], msgs[i].uids[r],
				       msgs[i].data, msgs[i].len);
		}
	assert_int_equal(check(f->st), 0);

	/* replay everything from the start of the log: all indexed already,
	 * nothing new, nothing lost */
	store_close(&f->st);
	char dbpath[160];
	snprintf(dbpath, sizeof dbpath, "%s/petrel.db", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE log_applied SET segment = 0, "
					  "offset = 0, seq = 0", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	fx_open_tuned(f, tu);
	size_t total = 0;
	for (size_t i = 0; i < n_msgs; i++)
		total += msgs[i].n;
	size_t seen = 0;
	for (int i = 0; i < 3; i++) {
		struct store_folder fo;
		assert_int_equal(store_folder_find(f->st, f->mb[i], "INBOX",
						   &fo, &err), 1);
		seen += (size_t)fo.messages;
	}
	assert_int_equal(seen, total);
	assert_int_equal(check(f->st), 0);
	for (size_t i = 0; i < n_msgs; i++)
		free(msgs[i].data);
	free(msgs);
	free(d);
}

static const struct store_tuning odd_tuning = {
	.segment_max = 300 * 1024,	/* rolls a few times */
	.prealloc_chunk = 64 * 1024,
	.prealloc_low = 32 * 1024,
	.prealloc_carry = 16 * 1024,
};

static void test_odd_sizes(void **state)
{
	struct fx *f = *state;
	odd_sizes_run(f, &odd_tuning);
	if (fs_takes_direct(f->root))
		assert_true(seg_direct(f->st));
}

/* The same through the page cache, as on a file system that refuses
 * O_DIRECT. */
static void test_odd_sizes_buffered(void **state)
{
	struct fx *f = *state;
	struct store_tuning tu = odd_tuning;
	tu.buffered = true;
	odd_sizes_run(f, &tu);
	assert_false(seg_direct(f->st));
}

/* On tmpfs (/dev/shm), whichever way the kernel takes O_DIRECT there
 * (refused before Linux 6.6, accepted since): the store works, and the
 * descriptor says which it got. */
static void test_tmpfs(void **state)
{
	struct fx *f = *state;
	struct statfs sf;
	if (statfs("/dev/shm", &sf) != 0 || sf.f_type != TMPFS_MAGIC)
		skip();
	store_close(&f->st);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(f->root, sizeof f->root, "/dev/shm/petrel-store-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
	fx_open(f);
	fx_populate(f);
	odd_sizes_run(f, &odd_tuning);
	assert_int_equal(seg_direct(f->st), fs_takes_direct(f->root));
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_record_header),
		cmocka_unit_test_setup_teardown(test_open_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_mailbox, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_each, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uids_across_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_multi_recipient, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_message, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_mailbox, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_drains, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_orphan_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_roll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_corruption, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_direct_flag, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_odd_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_sizes_buffered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tmpfs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
