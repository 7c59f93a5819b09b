/* store_private.h - internals shared by the files of src/store/: struct
 * store, SQLite connections with their cached statements, the blob record
 * format and the segment files. Nothing outside src/store/ includes this;
 * callers see only store.h.
 */
#ifndef PETREL_STORE_PRIVATE_H
#define PETREL_STORE_PRIVATE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/err.h"
#include "store/store.h"

#define STORE_DB_NAME "petrel.db"
#define STORE_BLOBS_DIR "blobs"

/* How long a connection waits for SQLite's write lock (the committer and
 * an admin write take turns) before the operation fails with 451. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* Idle reader connections kept for reuse; more are opened under load and
 * closed again when returned to a full pool. */
#define STORE_READER_POOL_MAX 32

/* ---- SQLite connections ------------------------------------------------ */

/* Every SQL statement of the store, prepared lazily once per connection.
 * The text is in store_db.c, indexed by these ids. */
enum store_stmt {
	STMT_BEGIN = 0,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_META_GET,
	STMT_META_SET,
	STMT_DOMAIN_FIND,
	STMT_DOMAIN_ADD,
	STMT_MAILBOX_FIND,
	STMT_MAILBOX_PASSWORD,
	STMT_MAILBOX_ADD,
	STMT_MAILBOX_SET_QUOTA,
	STMT_MAILBOX_EACH,
	STMT_MAILBOX_USED,
	STMT_FOLDER_ADD,
	STMT_FOLDER_EACH,
	STMT_FOLDER_FIND,
	STMT_INBOX_NEXT_UID,
	STMT_BLOB_ADD,
	STMT_MESSAGE_ADD,
	STMT_MESSAGE_EACH,
	STMT_MESSAGE_BLOB,
	STMT_CHECK_MESSAGES,
	STMT_CHECK_BLOBS,
	STMT_COUNT
};

struct store_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	struct store_conn *next;	/* reader pool link */
};

enum store_conn_mode {
	STORE_CONN_READ,	/* read-only, for lookups */
	STORE_CONN_WRITE,	/* read-write, synchronous=FULL */
};

/* Open a connection to dir/petrel.db with the store's pragmas. */
int store_conn_open(const char *db_path, enum store_conn_mode mode,
		    struct store_conn **out, struct err *err);
void store_conn_close(struct store_conn **cp);
/* The cached statement id of c, reset and ready to bind; NULL (err set,
 * logged) if it cannot be prepared. */
sqlite3_stmt *store_stmt(struct store_conn *c, enum store_stmt id,
			 struct err *err);
/* Run a statement that takes no parameters and returns no rows (BEGIN,
 * COMMIT, ...). */
int store_exec(struct store_conn *c, enum store_stmt id, struct err *err);
/* Roll back c's open transaction, if any (after a failure). */
void store_rollback(struct store_conn *c);
/* Fill err with a 451 4.3.0 environment error naming what failed and
 * SQLite's message, log it once, and return -1. */
int store_db_fail(struct err *err, struct store_conn *c, const char *what);
/* A new UIDVALIDITY, inside c's open write transaction. */
int store_meta_next_uidvalidity(struct store_conn *c, int64_t now,
				uint32_t *out, struct err *err);
/* Bring the schema of a write connection up to date (store_db.c). */
int store_schema_migrate(struct store_conn *c, struct err *err);

/* A read-only connection from the pool of st (opened if none is idle);
 * give it back with store_reader_put. NULL with err on failure. */
struct store_conn *store_reader_get(struct store *st, struct err *err);
void store_reader_put(struct store *st, struct store_conn *c);

/* ---- blob records in segment files ------------------------------------- */

/* A record is a 24-byte header, then the message bytes:
 *   0  4  magic "PTRB"
 *   4  4  CRC32C of the data (little-endian)
 *   8  8  data length (little-endian)
 *  16  4  reserved, zero
 *  20  4  CRC32C of bytes 0..19
 * blobs.offset is the offset of the header; blobs.length the data length.
 */
#define STORE_REC_HDR_SIZE 24

/* CRC32C, chainable: crc = store_crc32c(crc, more, n), starting at 0.
 * Uses the CPU's crc32 instruction where there is one; _portable is the
 * table-driven code (for tests to compare). */
uint32_t store_crc32c(uint32_t crc, const void *p, size_t n);
uint32_t store_crc32c_portable(uint32_t crc, const void *p, size_t n);
void store_rec_encode(unsigned char hdr[STORE_REC_HDR_SIZE],
		      const unsigned char *data, size_t len);
/* 0 and the fields if hdr is a well-formed header, -1 if not. */
int store_rec_decode(const unsigned char hdr[STORE_REC_HDR_SIZE],
		     uint64_t *len_out, uint32_t *crc_out);

/* The segment the committer appends to. Only the committer thread (and
 * store_open/store_close around it) touches it. */
struct store_segment {
	uint32_t id;		/* 0: none yet, the first append creates 1 */
	int fd;			/* -1 when none */
	uint64_t size;		/* append offset */
	bool retire;		/* an fsync failed: roll before the next append */
};

/* Find the newest segment in blobs_fd and open it for appending at its
 * current size (bytes after the last committed record are orphans of a
 * crash and are never referenced). */
int store_segment_open_last(int blobs_fd, struct store_segment *seg,
			    struct err *err);
/* Make seg ready for a group: roll to a new file (synced into the
 * directory) if there is none, it passed STORE_SEGMENT_MAX or it was
 * retired. */
int store_segment_prepare(int blobs_fd, struct store_segment *seg,
			  struct err *err);
/* Write iov (all of it, any number of entries) at seg->size and advance
 * nothing: the caller moves seg->size once the group is durable. */
int store_segment_write(struct store_segment *seg, struct iovec *iov,
			size_t iovcnt, struct err *err);
void store_segment_close(struct store_segment *seg);
/* Open segment id of blobs_fd read-only; -1 (errno set) on failure. */
int store_segment_open_read(int blobs_fd, uint32_t id);
/* Read the record at offset of fd expecting len data bytes: checks the
 * header and the checksum. Into a new malloc'd buffer if data_out is not
 * NULL (else only verified, streaming). -1 with err: ERR_ENV for I/O
 * errors and corrupt records alike; not logged (the caller knows the
 * blob and logs once). */
int store_record_read(int fd, uint64_t offset, uint64_t len,
		      unsigned char **data_out, struct err *err);

/* ---- the store --------------------------------------------------------- */

/* Committer scratch, allocated once at open for a full group so that a
 * group costs no allocation. */
struct store_group {
	struct store_delivery **d;	/* STORE_GROUP_MAX_MSGS */
	unsigned char (*hdr)[STORE_REC_HDR_SIZE];
	struct iovec *iov;		/* 2 per delivery */
	uint64_t *offset;		/* record offset per delivery */
	size_t n;
};

struct store {
	char *db_path;
	int dir_fd;
	int blobs_fd;

	/* reader pool */
	pthread_mutex_t pool_mu;
	struct store_conn *pool;
	size_t pool_len;

	/* admin writes: their own connection, one at a time */
	pthread_mutex_t admin_mu;
	struct store_conn *admin;

	/* committer thread: owns writer, seg and group */
	struct store_conn *writer;
	struct store_segment seg;
	struct store_group group;
	pthread_t committer;
	bool committer_running;

	/* delivery queue, closing flag and stats, under q_mu */
	pthread_mutex_t q_mu;
	pthread_cond_t q_cv;
	struct store_delivery *q_head;
	struct store_delivery *q_tail;
	bool closing;
	struct store_stats stats;
};

/* store_commit.c */
int store_committer_start(struct store *st, struct err *err);
/* Drain the queue, then stop and join the thread. */
void store_committer_stop(struct store *st);

/* A 451 4.3.0 environment error from errno, logged once; returns -1. */
int store_sys_fail(struct err *err, const char *what, int errnum);

#endif
