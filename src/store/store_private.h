/* store_private.h - internals shared by the files of src/store/: struct
 * store, SQLite connections with their cached statements, the log record
 * format, the segment files that hold the log, recovery, and the hooks
 * the tests use to inject faults and crashes. Nothing outside src/store/
 * includes this (except the store's own tests); callers see only store.h.
 */
#ifndef PETREL_STORE_PRIVATE_H
#define PETREL_STORE_PRIVATE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/err.h"
#include "core/limits.h"
#include "store/store.h"

#define STORE_DB_NAME "petrel.db"
#define STORE_BLOBS_DIR "blobs"

/* How long a connection waits for SQLite's write lock (the committer and
 * an admin write take turns) before the operation fails with 451. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* Idle reader connections kept for reuse; more are opened under load and
 * closed again when returned to a full pool. */
#define STORE_READER_POOL_MAX 32

/* WAL pages after a committer transaction that wake the checkpointer
 * thread (SQLite's own auto-checkpoint default). */
#define STORE_CHECKPOINT_PAGES 1000

/* Pre-allocation of segment space (see store_commit.c): when idle, the
 * committer keeps zero-filled, synced blocks ahead of the append position
 * so that a group commit only overwrites blocks and its fdatasync has no
 * file size to journal. Extended by CHUNK when less than LOW remains,
 * STEP at a time so that a delivery arriving meanwhile waits for one step
 * at most. */
#define STORE_PREALLOC_CHUNK (8u * 1024 * 1024)
#define STORE_PREALLOC_LOW (4u * 1024 * 1024)
#define STORE_PREALLOC_STEP (1u * 1024 * 1024)
/* A group that must grow the file anyway (a busy committer has no idle
 * time to pre-allocate) writes this many zeros after its records, in the
 * same pwritev and sync: the next groups then overwrite. */
#define STORE_PREALLOC_CARRY (1u * 1024 * 1024)
/* After pre-allocation failed (disk full), groups before it is tried
 * again: a full disk is not written to and logged after every group. */
#define STORE_PREALLOC_BACKOFF 1024

/* ---- SQLite connections ------------------------------------------------ */

/* Every SQL statement of the store, prepared lazily once per connection.
 * The text is in store_db.c, indexed by these ids. */
enum store_stmt {
	STMT_BEGIN = 0,
	STMT_BEGIN_READ,
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
	STMT_MAILBOX_SCRAM,
	STMT_MAILBOX_SET_SCRAM,
	STMT_MAILBOX_USED,
	STMT_FOLDER_ADD,
	STMT_FOLDER_EACH,
	STMT_FOLDER_FIND,
	STMT_INBOX_STATE,
	STMT_JUNK_ID,
	STMT_FOLDER_ADVANCE,
	STMT_BLOB_ADD,
	STMT_BLOB_AT,
	STMT_BLOBS_PAST,
	STMT_MESSAGE_ADD,
	STMT_MESSAGE_EACH,
	STMT_MESSAGE_BLOB,
	STMT_MESSAGE_AT,
	STMT_LOG_GET,
	STMT_LOG_SET,
	STMT_CHECK_MESSAGES,
	STMT_CHECK_BLOBS,
	/* mail mutations (store_job.c, store_mutate.c, store_folder.c) */
	STMT_SYNC_FULL,
	STMT_SYNC_NORMAL,
	STMT_JOB_SAVEPOINT,
	STMT_JOB_RELEASE,
	STMT_JOB_ROLLBACK_TO,
	STMT_FOLDER_STATE,
	STMT_FOLDER_SET_MODSEQ,
	STMT_MESSAGE_GET,
	STMT_MESSAGE_DELETE,
	STMT_MESSAGE_SET_FLAGS,
	STMT_MESSAGE_COPY,
	STMT_BLOB_REF,
	STMT_EXPUNGED_ADD,
	STMT_MAILBOX_QUOTA,
	STMT_KEYWORD_FIND,
	STMT_KEYWORD_ADD,
	STMT_KEYWORD_EACH,
	STMT_FOLDER_BY_NAME,
	STMT_FOLDER_CREATE,
	STMT_FOLDER_CHILDREN,
	STMT_FOLDER_RENAME,
	STMT_FOLDER_UNREF,
	STMT_FOLDER_UNUSE,
	STMT_FOLDER_DROP_MESSAGES,
	STMT_FOLDER_DROP_EXPUNGED,
	STMT_FOLDER_DROP,
	STMT_FOLDER_EXPUNGE_ALL,
	STMT_FOLDER_MOVE_ALL,
	STMT_FOLDER_COPY_STATE,
	STMT_SUBSCRIBE,
	STMT_UNSUBSCRIBE,
	STMT_SUBSCRIPTION_EACH,
	STMT_MESSAGE_CHANGED,
	STMT_VANISHED,
	STMT_META_PUT,
	STMT_META_GET_MSG,
	STMT_META_EACH,
	STMT_CHECK_USED,
	STMT_CHECK_EXPUNGED,
	STMT_CHECK_COUNTERS,
	STMT_CHECK_KEYWORDS,
	STMT_CHECK_META,
	/* the outbound queue (store_queue.c) */
	STMT_QUEUE_ADD,
	STMT_QUEUE_RCPT_ADD,
	STMT_QUEUE_DUE,
	STMT_QUEUE_NEXT,
	STMT_QUEUE_EACH,
	STMT_QUEUE_GET,
	STMT_QUEUE_RCPTS,
	STMT_QUEUE_BLOB,
	STMT_QUEUE_STATS,
	STMT_QUEUE_RELEASE_BLOB,
	STMT_QUEUE_DROP_IF_EMPTY,
	STMT_QUEUE_RCPT_DROP,
	STMT_QUEUE_RCPT_RETRY,
	STMT_QUEUE_RCPT_NOTIFIED,
	STMT_QUEUE_EXISTS,
	STMT_QUEUE_HOLD,
	STMT_QUEUE_UNHOLD,
	STMT_QUEUE_RETRY_NOW,
	STMT_QUEUE_BOUNCE_ALL,
	STMT_QUEUE_RCPT_DROP_ALL,
	/* tenants model: domains' plans, aliases, groups (store_model.c,
	 * store_alias.c, store_resolve.c) */
	STMT_MODEL_DOMAIN_GET,
	STMT_MODEL_DOMAIN_EACH,
	STMT_MODEL_DOMAIN_ADD,
	STMT_MODEL_DOMAIN_PLAN,
	STMT_MODEL_DOMAIN_STATUS,
	STMT_MODEL_DOMAIN_CATCHALL,
	STMT_MODEL_DOMAIN_MAILBOXES,
	STMT_MODEL_FIRST_DOMAIN,
	STMT_MODEL_MAILBOX_GET,
	STMT_MODEL_MAILBOX_ENABLED,
	STMT_MODEL_MAILBOX_FORWARD,
	STMT_MODEL_MAILBOX_NAME,
	STMT_MODEL_POSTMASTER,
	STMT_MODEL_ALIAS_FIND,
	STMT_MODEL_ALIAS_ADD,
	STMT_MODEL_ALIAS_DEL,
	STMT_MODEL_ALIAS_EACH,
	STMT_MODEL_TARGET_EACH,
	STMT_MODEL_TARGET_ADD,
	STMT_MODEL_TARGET_DEL,
	STMT_MODEL_SEND_AS,
	/* credentials and the audit log (store_cred.c, store_audit.c) */
	STMT_APP_PASSWORD_ADD,
	STMT_APP_PASSWORD_EACH,
	STMT_APP_PASSWORD_REVOKE,
	STMT_APP_PASSWORD_MATCH,
	STMT_APP_PASSWORD_USED,
	STMT_MAILBOX_ID,
	STMT_TOTP_GET,
	STMT_TOTP_SET,
	STMT_TOTP_USE,
	STMT_DOMAIN_2FA_GET,
	STMT_DOMAIN_2FA_SET,
	STMT_AUDIT_LAST,
	STMT_AUDIT_ADD,
	STMT_AUDIT_EACH,
	STMT_LOGIN_LAST,
	STMT_LOGIN_IP_NEW,
	STMT_LOGIN_IP_SEEN,
	STMT_LOGIN_IP_PRUNE,
	STMT_LOGIN_LAST_GET,
	STMT_COUNT
};

struct store_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	struct store_conn *next;	/* reader pool link */
};

enum store_conn_mode {
	STORE_CONN_READ,	/* read-only, for lookups */
	STORE_CONN_WRITE,	/* read-write, synchronous=FULL (admin) */
	/* read-write, synchronous=NORMAL: the committer's. Its commits need
	 * no fsync because the log already holds what they record; after a
	 * crash SQLite is consistent but may miss the last of them, which
	 * recovery replays from the log (store_log.c). */
	STORE_CONN_COMMIT,
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
/* store_dir.c: "local@domain" split at its last '@'; -1 with err. */
int store_address_split(const char *address, char *local, size_t localsz,
			char *domain, size_t domainsz, struct err *err);
/* store_audit.c: stop the audit thread after writing what it holds. */
void store_audit_stop(struct store *st);

/* Bring the schema of a write connection up to date (store_db.c). */
int store_schema_migrate(struct store_conn *c, struct err *err);

/* The checkpointer: a thread with its own connection that runs PASSIVE
 * checkpoints when the committer's commits have grown the WAL, so that the
 * syncs of a checkpoint (WAL, then database) never delay a group commit.
 * _start installs the WAL hook on st->writer (which replaces SQLite's
 * auto-checkpoint there); _stop joins the thread. */
int store_checkpointer_start(struct store *st, struct err *err);
void store_checkpointer_stop(struct store *st);
/* On the committer, before a group's transaction: after a background
 * pass, copy the few frames committed meanwhile, so that the transaction
 * finds the WAL fully copied and SQLite starts it over from the top
 * (a busy committer would otherwise never let the WAL shrink). */
void store_checkpoint_finish(struct store *st);

/* A read-only connection from the pool of st (opened if none is idle);
 * give it back with store_reader_put. NULL with err on failure. */
struct store_conn *store_reader_get(struct store *st, struct err *err);
void store_reader_put(struct store *st, struct store_conn *c);

/* ---- log records ------------------------------------------------------- */

/* The segment files form one write-ahead log: every delivery is a record
 * that carries, besides the message bytes, everything needed to index it
 * again (store_log.c replays it after a crash). A record, at an offset
 * that is a multiple of STORE_REC_ALIGN:
 *
 *   header (64 bytes, integers little-endian)
 *     0  4  magic "PTRL"
 *     4  2  kind: 1 message, 2 abort
 *     6  2  reserved, zero
 *     8  4  segment id the record was written to
 *    12  4  n: recipients of a message (0 for an abort)
 *    16  8  offset of this header in its segment
 *    24  8  sequence number (1, 2, 3, ... across all segments)
 *    32  8  internal date of a message (Unix seconds), 0 for an abort
 *    40  8  data length (message bytes; 0 for an abort)
 *    48  4  CRC32C of the data
 *    52  4  CRC32C of the metadata
 *    56  4  append: bytes of ext metadata; others: zero
 *    60  4  CRC32C of bytes 0..59
 *   metadata
 *     message: n entries of 32 bytes, one per recipient:
 *       0 8 mailbox id, 8 8 folder id, 16 4 folder UIDVALIDITY,
 *       20 4 UID, 24 8 mod-sequence
 *     abort: 0 8 first, 8 8 last sequence number it voids
 *     append (kind 3, decision 0004): one recipient entry as a
 *       message's, then ext bytes (header bytes 56..59 hold their
 *       number, zero for the other kinds): 0 4 flags, 4 2 keyword count
 *       k, 6 2 zero, then k times (1 byte length n, n bytes of name)
 *   data, then zero padding up to the alignment.
 *
 * blobs.offset is the offset of the header, blobs.length the data length.
 * An abort record says that the records first..last (written before it)
 * were answered 451 and must never be indexed.
 */
#define STORE_REC_HDR_SIZE 64
#define STORE_REC_RCPT_SIZE 32
#define STORE_REC_ABORT_META 16
#define STORE_REC_ALIGN 8
/* Bounds a reader enforces on a header, so that a damaged one cannot make
 * it read or allocate without limit: smtp_max_recipients is at most
 * 100000 and smtp_max_message_size 2 GiB plus trace headers. */
#define STORE_REC_RCPT_MAX 100000u
#define STORE_REC_DATA_MAX ((uint64_t)4 << 30)
/* An append's ext: flags and STORE_KEYWORDS_MAX keywords of
 * STORE_KEYWORD_LEN bytes fit (8 + 64 * 101). */
#define STORE_REC_EXT_HDR 8
#define STORE_REC_EXT_MAX 8192u

enum store_rec_kind {
	STORE_REC_MESSAGE = 1,
	STORE_REC_ABORT = 2,
	STORE_REC_APPEND = 3,	/* a message into one folder, with flags */
	STORE_REC_QUEUE = 4,	/* a delivery with queued remote recipients */
	STORE_REC_QUARANTINE = 5,	/* a held message (store_quar.c) */
};

/* A queue record: n >= 0 local recipients as a message's, then ext bytes
 * with the envelope of its remote recipients (store_queue.c has the
 * layout), at most this many. */
#define STORE_REC_QEXT_MAX ((uint32_t)32 << 20)
/* Kinds whose header counts ext bytes after the recipients. */
#define STORE_REC_HAS_EXT(r) \
	((r)->kind == STORE_REC_APPEND || (r)->kind == STORE_REC_QUEUE || \
	 (r)->kind == STORE_REC_QUARANTINE)

/* Kinds that carry a message (recipients and data). */
#define STORE_REC_HAS_MESSAGE(r) \
	((r)->kind == STORE_REC_MESSAGE || (r)->kind == STORE_REC_APPEND || \
	 (r)->kind == STORE_REC_QUEUE || (r)->kind == STORE_REC_QUARANTINE)

struct store_rec {
	enum store_rec_kind kind;
	uint32_t segment;
	uint32_t n_rcpt;
	uint64_t offset;
	uint64_t seq;
	int64_t internal_date;
	uint64_t data_len;
	uint32_t data_crc;
	uint32_t meta_crc;
	uint32_t ext_len;	/* append: ext bytes after the recipient */
};

struct store_rec_rcpt {
	int64_t mailbox_id;
	int64_t folder_id;
	uint32_t uidvalidity;
	uint32_t uid;
	uint64_t modseq;
};

/* CRC32C, chainable: crc = store_crc32c(crc, more, n), starting at 0.
 * Uses the CPU's crc32 instruction where there is one; _portable is the
 * table-driven code (for tests to compare). */
uint32_t store_crc32c(uint32_t crc, const void *p, size_t n);
uint32_t store_crc32c_portable(uint32_t crc, const void *p, size_t n);

/* Header bytes of r (its CRCs already filled in by the caller). */
void store_rec_encode(unsigned char hdr[STORE_REC_HDR_SIZE],
		      const struct store_rec *r);
/* 0 and *out if hdr is a well-formed header within the bounds above, -1
 * if not. Says nothing about the metadata and data (their CRCs). */
int store_rec_decode(const unsigned char hdr[STORE_REC_HDR_SIZE],
		     struct store_rec *out);
void store_rcpt_encode(unsigned char out[STORE_REC_RCPT_SIZE],
		       const struct store_rec_rcpt *r);
void store_rcpt_decode(const unsigned char in[STORE_REC_RCPT_SIZE],
		       struct store_rec_rcpt *out);
void store_abort_encode(unsigned char out[STORE_REC_ABORT_META],
			uint64_t first, uint64_t last);
void store_abort_decode(const unsigned char in[STORE_REC_ABORT_META],
			uint64_t *first_out, uint64_t *last_out);
/* Metadata bytes of a decoded header; whole record with padding. Cannot
 * overflow for a header store_rec_decode accepted. */
uint64_t store_rec_meta_len(const struct store_rec *r);
uint64_t store_rec_size(const struct store_rec *r);

/* ---- segment files ----------------------------------------------------- */

/* The committer writes segments with O_DIRECT (decision 0002): whole
 * blocks of STORE_DIO_ALIGN bytes, at offsets and from buffers aligned to
 * it, assembled in a buffer of STORE_WBUF_SIZE. 4096 is a multiple of
 * the logical block size of the disks we run on and of the page size;
 * a file system that asks for more (statx STATX_DIOALIGN) or refuses
 * O_DIRECT gets the same whole-block writes through the page cache. */
#define STORE_DIO_ALIGN 4096u
#define STORE_WBUF_SIZE (4u * 1024 * 1024)

/* The segment the committer appends to. Only the committer thread (and
 * store_open/store_close around it) touches it. */
struct store_segment {
	uint32_t id;	/* 0 and fd -1: none yet; the next one is id + 1 */
	int fd;		/* read-write, -1 when none */
	uint64_t end;	/* append position: the end of the log */
	uint64_t alloc;	/* bytes known written (records or zeros) and synced */
	bool retire;	/* a sync failed: start a new segment for the next group */
	bool direct;	/* fd has O_DIRECT */
	/* STORE_DIO_ALIGN bytes, aligned: the block that holds end, as it is
	 * on disk before end and zeros from end on. The next write starts
	 * with it, so that appending never reads the block back. NULL until
	 * store_segment_writable. */
	unsigned char *tail;
};

/* Ids of the segment files in blobs_fd, ascending, in a new array (*ids_out,
 * free it; NULL when there are none). */
int store_segment_list(int blobs_fd, uint32_t **ids_out, size_t *n_out,
		       struct err *err);
/* Create segment id (truncating a leftover of a failed attempt), write
 * first (iovcnt entries, may be 0) at offset 0, fdatasync it and sync the
 * directory, then make it writable (store_segment_writable). On success
 * *seg is the new segment with end = alloc = the bytes of first; on
 * failure *seg is untouched and the file is left for the next attempt to
 * truncate. Pre-allocation comes later, when idle. */
int store_segment_create(int blobs_fd, uint32_t id, const struct iovec *first,
			 size_t iovcnt, bool direct, struct store_segment *seg,
			 struct err *err);
/* Open an existing segment read-write for appending; end and alloc are
 * set by the caller (recovery), which then calls store_segment_writable. */
int store_segment_open_rw(int blobs_fd, uint32_t id, struct store_segment *seg,
			  struct err *err);
/* Ready seg (end set) for store_segment_put: read the block that holds
 * end into seg->tail, through the page cache, then switch fd to O_DIRECT
 * if direct is true and the file system takes it (else buffered, logged
 * once). After this nothing reads through seg->fd. */
int store_segment_writable(struct store_segment *seg, bool direct,
			   struct err *err);
/* Write whole blocks from the block that holds start = seg->end: the
 * bytes of seg->tail before start, then iov (entries are not changed),
 * then zeros more zero bytes, then zeros to the end of the block; through
 * buf (STORE_WBUF_SIZE bytes aligned to STORE_DIO_ALIGN). Not synced,
 * and seg is not changed: on success *rec_end_out is where iov ended,
 * *to_out where the written blocks end, and tail_out (STORE_DIO_ALIGN
 * bytes, aligned) the block that holds *rec_end_out, for
 * store_segment_advance once the write is durable. */
int store_segment_put(struct store_segment *seg, unsigned char *buf,
		      const struct iovec *iov, size_t iovcnt, uint64_t zeros,
		      unsigned char *tail_out, uint64_t *rec_end_out,
		      uint64_t *to_out, struct err *err);
/* After store_segment_put and the sync: the log ends at end, the blocks
 * up to to are written, and tail is the block that holds end. */
void store_segment_advance(struct store_segment *seg, uint64_t end,
			   uint64_t to, const unsigned char *tail);
/* Size of the read-only, O_DIRECT-aligned block of zeros in store_blob.c
 * that pre-allocation points its iovecs at. */
#define STORE_ZERO_BLOCK 65536
/* Write zeros over [from, to) of seg (not synced): pre-allocation. from
 * is at or past the block after end; with O_DIRECT it is aligned and to
 * is rounded up to a block. */
int store_segment_zero(struct store_segment *seg, uint64_t from, uint64_t to,
		       struct err *err);
/* Undo a group whose write failed: the bytes [start, start + bytes) are
 * made zero again (or cut off where they were appended) and synced, so
 * that no record of it can be replayed. start is seg->end; the block that
 * holds it is rewritten from seg->tail. */
int store_segment_rewind(struct store_segment *seg, uint64_t start,
			 uint64_t bytes, struct err *err);
/* Make [from, to) of seg all zero bytes: read it and overwrite what is
 * not (stale bytes of a write a crash interrupted). *wrote_out says
 * whether anything was written; the caller syncs. */
int store_segment_zero_tail(struct store_segment *seg, uint64_t from,
			    uint64_t to, bool *wrote_out, struct err *err);
/* Write iov (all of it, any number of entries; entries are consumed) at
 * off of fd. */
int store_segment_write(int fd, uint64_t off, struct iovec *iov,
			size_t iovcnt, struct err *err);
void store_segment_close(struct store_segment *seg);
/* Open segment id of blobs_fd read-only; -1 (errno set) on failure. */
int store_segment_open_read(int blobs_fd, uint32_t id);
/* Read exactly n bytes at off; -1 with errno (ENODATA: the file ends
 * first). */
int store_pread_full(int fd, void *p, size_t n, uint64_t off);
/* Read the message record at offset of segment fd (segment id) expecting
 * len data bytes: checks the header, that it is a message written at that
 * place, and both checksums. Into a new malloc'd buffer if data_out is not
 * NULL (else only verified, streaming). -1 with err: ERR_ENV for I/O
 * errors and corrupt records alike; not logged (the caller knows the blob
 * and logs once). */
int store_record_read(int fd, uint32_t segment, uint64_t offset, uint64_t len,
		      unsigned char **data_out, struct err *err);
/* CRC32C of n bytes at off of fd, streamed; -1 with errno. */
int store_crc_range(int fd, uint64_t off, uint64_t n, uint32_t *crc_out);

/* ---- the log: positions, walking, applying, recovery (store_log.c) ---- */

/* A place in the log: the end of the record with sequence number seq.
 * {0, 0, 0} is the start of an empty log. */
struct store_log_pos {
	uint32_t segment;
	uint64_t offset;
	uint64_t seq;
};

/* The position up to which SQLite holds the log (table log_applied). */
int store_log_applied_get(struct store_conn *c, struct store_log_pos *out,
			  struct err *err);
int store_log_applied_set(struct store_conn *c, const struct store_log_pos *p,
			  struct err *err);

/* Index one message record, inside c's open transaction, under a
 * savepoint: the blob row (keyed by segment and offset), then for each
 * recipient the message row, the folder's UIDNEXT / HIGHESTMODSEQ (raised
 * to cover it, never lowered) and the mailbox's used bytes. All or
 * nothing, and idempotent: a record whose blob row exists is already
 * indexed and changes nothing. Returns 1 indexed, 2 already indexed, 0
 * skipped (a folder is gone or one of its UIDs is taken; *why_out says
 * which, nothing changed), -1 SQLite failed (err; the caller rolls back).
 * The committer and recovery both use it, so that a record replayed
 * against the state it was first indexed against has the same outcome. */
int store_log_apply(struct store_conn *c, const struct store_rec *r,
		    const struct store_rec_rcpt *rcpt, const unsigned char *ext,
		    const char **why_out, struct err *err);
/* An append record's ext (r->ext_len bytes at ext): 0 and *flags_out if
 * well-formed, with fn called for each keyword; -1 if not. */
int store_ext_decode(const unsigned char *ext, size_t len,
		     uint32_t *flags_out,
		     int (*fn)(const char *name, size_t n, void *arg),
		     void *arg);

/* Recovery, for store_open in committer mode before the committer runs:
 * replay every record past the applied position that is valid and not
 * aborted, zero the stale bytes after the end of the log, and set
 * st->seg (append position) and st->next_seq. */
int store_log_recover(struct store *st, struct err *err);

/* For store_check, inside c's read transaction: every message record
 * between the applied position and the end of the log is either indexed
 * or absent from the index (so that replaying it puts it in place), and no
 * blob lies past the applied position. Adds to *problems. */
int store_log_check(struct store *st, struct store_conn *c,
		    uint64_t *problems, struct err *err);

/* store_check.c: count a problem, logging the first ones. */
void store_check_problem(uint64_t *problems, const char *what, int64_t id,
			 const char *why);

/* ---- tests: tuning and hooks ------------------------------------------- */

/* Sizes the tests shrink to reach segment rolls and extensions quickly. */
struct store_tuning {
	uint64_t segment_max;		/* STORE_SEGMENT_MAX */
	uint64_t prealloc_chunk;	/* STORE_PREALLOC_CHUNK */
	uint64_t prealloc_low;		/* STORE_PREALLOC_LOW */
	uint64_t prealloc_carry;	/* STORE_PREALLOC_CARRY */
	bool buffered;			/* as if O_DIRECT were refused */
};

/* Where the committer calls the test hook. For the points marked
 * "inject", a non-zero return is an errno the step then fails with, as if
 * the system call had; the real call is made first where noted, so the
 * bytes are there although the step "failed" (the worst case). */
enum store_hook {
	STORE_HOOK_TAKE,	/* queue not empty, before taking a group
				 * (without the queue lock: may wait) */
	STORE_HOOK_EXTEND,	/* inject: before idle pre-allocation */
	STORE_HOOK_WRITE,	/* inject: after the group's pwritev */
	STORE_HOOK_SYNC,	/* inject: after the group's fdatasync */
	STORE_HOOK_SYNCED,	/* inject: log durable, before SQLite; a
				 * non-zero return fails the SQLite step */
	STORE_HOOK_ABORT_SYNC,	/* inject: after an abort record's sync */
};
typedef int (*store_test_hook_fn)(struct store *st, enum store_hook where,
				  void *arg);

/* store_open with other sizes (NULL: the defaults) and a hook (NULL:
 * none) that is in place before recovery runs. */
int store_open_tuned(const char *dir, const struct store_tuning *tuning,
		     store_test_hook_fn hook, void *hook_arg,
		     struct store **store_out, struct err *err);
/* Install or remove the hook of an open store (taken at the next group). */
void store_set_test_hook(struct store *st, store_test_hook_fn hook,
			 void *arg);

/* ---- committer jobs (store_job.c) ---------------------------------------- */

/* Jobs that change mail without new message bytes (expunge, flags, copy,
 * move, folders, subscriptions, the parse cache) run on the committer,
 * the only writer of message rows and folder counters, as SQLite
 * transactions on its connection (decision 0004). The committer takes
 * every queued job after a delivery group and runs them in ONE
 * transaction, each under a savepoint (a job that fails changes
 * nothing), committed with synchronous=FULL if any job is durable: one
 * WAL sync for the batch. Callers wait (store_job_wait); the job lives on
 * their stack. */
#define STORE_JOB_BATCH_MAX 256

/* A watcher notification a job asks for: folder_id 0 means the folder
 * list of the mailbox changed. */
struct store_touch {
	int64_t mailbox_id;
	int64_t folder_id;
};
#define STORE_JOB_TOUCH_MAX 3

struct store_job {
	/* Runs on the committer inside the batch transaction under the
	 * savepoint "job". 0 done, -1 failed with err (the store rolls the
	 * savepoint back). It must not commit, and must leave no statement
	 * unreset. */
	int (*run)(struct store *st, struct store_job *j, struct err *err);
	bool durable;		/* needs synchronous=FULL at commit */
	/* filled by run: folders whose watchers to wake after the commit */
	struct store_touch touch[STORE_JOB_TOUCH_MAX];
	size_t n_touch;
	/* result */
	int rc;
	struct err err;
	/* waiting (store_job_wait) and the queue link */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool finished;
	struct store_job *next;
};

/* Queue j, wait until the committer has run and committed it; j->rc.
 * -1 with err if it failed or the store is closing. */
int store_job_wait(struct store *st, struct store_job *j, struct err *err);
/* On the committer: run the batch (a list linked by next) and complete
 * each job (wakes the waiters: do not touch them after). */
void store_jobs_run(struct store *st, struct store_job *batch);
/* Inside a job: ask for watchers of folder_id (0: the folder list) in
 * mailbox_id to be woken after the commit. */
void store_job_touch(struct store_job *j, int64_t mailbox_id,
		     int64_t folder_id);

/* Inside a committer transaction (store_mutate.c): the bit of keyword
 * name in mailbox_id, created if new. 1 and *bit_out; 0 when the mailbox
 * has STORE_KEYWORDS_MAX keywords already (create is false: when it has
 * none of that name); -1 SQLite error. */
int store_keyword_bit(struct store_conn *c, int64_t mailbox_id,
		      const char *name, size_t len, bool create,
		      unsigned *bit_out, struct err *err);

/* Inside a committer transaction: the parse cache of the message
 * (store_meta.c). 0, or -1 with err (ERR_NOTFOUND: no such message). */
int store_meta_put_row(struct store_conn *c, int64_t folder_id, uint32_t uid,
		       const void *data, size_t len, struct err *err);

/* store_folder.c: check name and copy it into out with a first level
 * "INBOX" in any case written "INBOX". -1 with ERR_PEER / ERR_LIMIT. */
int store_folder_name_norm(const char *name,
			   char out[STORE_FOLDER_NAME_MAX + 1],
			   struct err *err);

/* ---- watchers (store_watch.c) --------------------------------------------- */

#define STORE_WATCH_BUCKETS 1024

struct store_watch {
	int64_t mailbox_id;
	void (*fn)(void *arg, int64_t mailbox_id, int64_t folder_id);
	void *arg;
	struct store_watch *next;
};

/* On the committer, after a commit: call the watchers of the mailbox of
 * each pair of t (no pair twice). Cheap when nobody watches. */
void store_watch_notify(struct store *st, const struct store_touch *t,
			size_t n);
/* Watchers nobody removed, at store_close. */
void store_watch_free_all(struct store *st);

/* ---- the store --------------------------------------------------------- */

/* Committer scratch for a group, grown on demand and kept, so that a
 * steady load of groups costs no allocation. */
struct store_group {
	struct store_delivery **d;	/* STORE_GROUP_MAX_MSGS */
	struct store_rec *rec;		/* per delivery; kind 0: not logged */
	size_t *rcpt_at;		/* per delivery: first index in rcpt */
	size_t n;
	struct store_rec_rcpt *rcpt;	/* all recipients of the group */
	size_t rcpt_cap;
	unsigned char *pre;		/* per record: padding of the one
					 * before, header, metadata */
	size_t pre_cap;
	struct iovec *iov;		/* 2 per record + 1 */
	size_t iov_cap;
	/* for store_segment_put: STORE_WBUF_SIZE bytes, then the next tail
	 * block (STORE_DIO_ALIGN); aligned, allocated at first use */
	unsigned char *wbuf;
	/* State of each folder the group gives UIDs in, one entry per
	 * folder: open addressing into folders[] by two kinds of key,
	 * 2 * mailbox id ("INBOX of", deliveries) and 2 * folder id + 1
	 * (appends), both leading to the same entry for an INBOX. */
	struct store_group_folder {
		int64_t mailbox_id;
		int64_t folder_id;	/* 0: no such folder / no INBOX */
		uint32_t uidvalidity;
		uint64_t uidnext;	/* next UID to give */
		uint64_t modseq;	/* highest given */
		uint64_t added;		/* bytes the group puts in it */
	} *folders;
	size_t n_folders;
	uint32_t *slots;		/* index + 1 into folders, 0 empty */
	uint64_t *slot_keys;		/* the key of each used slot */
	size_t slots_cap;		/* power of two */
	size_t *used;			/* used slots, to clear them */
	size_t n_used;
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
	/* logins' audit entries and app password uses, written in batches
	 * by a thread of their own (store_audit.c); NULL until the first */
	struct store_audit_q *auditq;

	/* committer thread (and store_open before it starts): owns writer,
	 * seg, next_seq, abort and group. The committer is the only writer
	 * of message and blob rows and of folders' UIDNEXT/HIGHESTMODSEQ, so
	 * what it reads of them between its own transactions stays true. */
	struct store_conn *writer;
	struct store_segment seg;
	uint64_t next_seq;		/* of the next record */
	struct {
		bool pending;		/* records first..last need voiding */
		bool retire;		/* in a new segment */
		uint64_t first, last;
	} abort;
	struct store_group group;
	struct store_tuning tuning;
	uint32_t prealloc_wait;		/* groups before the next try */
	store_test_hook_fn hook;	/* the committer's copy */
	void *hook_arg;
	pthread_t committer;
	bool committer_running;

	/* checkpointer thread (store_db.c): owns ckpt_conn; the committer
	 * owns ckpt_next and ckpt_last; the flags are under ckpt_mu */
	struct store_conn *ckpt_conn;
	pthread_t ckpt_thread;
	bool ckpt_running;
	int ckpt_next;		/* WAL pages that call for the next pass */
	int ckpt_last;		/* WAL pages after the last commit */
	pthread_mutex_t ckpt_mu;
	pthread_cond_t ckpt_cv;
	bool ckpt_wanted;	/* a pass is asked for */
	bool ckpt_finish;	/* a pass is done: finish it */
	bool ckpt_stop;

	/* delivery queue, closing flag, stats and the hook to install,
	 * under q_mu */
	pthread_mutex_t q_mu;
	pthread_cond_t q_cv;
	struct store_delivery *q_head;
	struct store_delivery *q_tail;
	bool closing;
	struct store_stats stats;
	store_test_hook_fn q_hook;
	void *q_hook_arg;
	/* mutation jobs, under q_mu too */
	struct store_job *j_head;
	struct store_job *j_tail;
	/* the outbound runner's wake-up (store_queue_notify_set), q_mu */
	void (*queue_notify)(void *arg);
	void *queue_notify_arg;

	/* watchers (store_watch.c): buckets by mailbox id under watch_mu;
	 * n_watch read without the lock to skip notifying nobody */
	pthread_mutex_t watch_mu;
	struct store_watch *watch[STORE_WATCH_BUCKETS];
	_Atomic size_t n_watch;
	/* committer scratch: the folders a group touched */
	struct store_touch *touched;
	size_t touched_cap;
};

/* store_commit.c */
int store_committer_start(struct store *st, struct err *err);
/* Drain the queue, then stop and join the thread. */
void store_committer_stop(struct store *st);
/* After recovery, before the committer starts: pre-allocate if short. */
void store_committer_prealloc(struct store *st);

/* ---- the outbound queue (store_queue.c) ---------------------------------- */

/* d->queue as record ext bytes into d->qext_ (malloc'd; the store frees
 * it before done()). -1 with err if the envelope is out of bounds. */
int store_queue_ext_encode(struct store_delivery *d, struct err *err);
/* Inside store_log_apply: the queue rows of record r (its blob is
 * blob_id). 1 done, 0 the record is bad (*why_out), -1 SQLite. */
int store_queue_apply(struct store_conn *c, const struct store_rec *r,
		      int64_t blob_id, const unsigned char *ext,
		      const char **why_out, struct err *err);

/* ---- quarantine (store_quar.c) -------------------------------------------- */

/* A quarantine record: no recipients, ext bytes with the entry's fields,
 * at most this many (the strings' maxima and their lengths fit). */
#define STORE_REC_QUAR_EXT_MAX 8192u
/* Inside store_log_apply: the entry of record r (its blob is blob_id).
 * 1 done, 0 the record is bad (*why_out), -1 SQLite. */
int store_quar_apply(struct store_conn *c, const struct store_rec *r,
		     int64_t blob_id, const unsigned char *ext,
		     const char **why_out, struct err *err);

/* Read the blob that statement id finds (columns id, segment, offset,
 * length; bound with k1 and, if it has a second parameter, k2): 1 with
 * a malloc'd copy, 0 if it finds none, -1 (store_read.c). */
int store_blob_read_query(struct store *st, enum store_stmt id, int64_t k1,
			  int64_t k2, const char *what,
			  unsigned char **data_out, size_t *len_out,
			  struct err *err);
/* Read the record of a blob at its place, checking it (store_read.c). */
int store_blob_read_at(struct store *st, int64_t blob_id, int64_t segment,
		       int64_t offset, int64_t length,
		       unsigned char **data_out, size_t *len_out,
		       struct err *err);

/* Run s (bound) to its last row or until row() stops it, then reset it:
 * row returns 0 for the next row, > 0 to stop (success), < 0 on an
 * error it has put in err. 0, or -1 with err (naming what for SQLite's
 * own failures). */
int store_rows(struct store_conn *c, sqlite3_stmt *s,
	       int (*row)(sqlite3_stmt *s, void *arg), void *arg,
	       const char *what, struct err *err);

/* Run s (bound) that returns no rows, then reset it; -1 and err (naming
 * what) if it did not finish. */
int store_step_done(struct store_conn *c, sqlite3_stmt *s, const char *what,
		    struct err *err);

/* Start a store thread with every signal blocked (they are the daemon
 * main thread's), named for ps/gdb. */
int store_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg,
		       const char *name, struct err *err);

/* A 451 4.3.0 environment error from errno, logged once; returns -1. */
int store_sys_fail(struct err *err, const char *what, int errnum);
/* An admin write: fn in one transaction on the admin connection (taken
 * for the duration), committed when it returns 0, rolled back otherwise.
 * fn's result, or -1 if the transaction failed. */
int store_admin_tx(struct store *st,
		   int (*fn)(struct store_conn *c, void *arg, struct err *err),
		   void *arg, struct err *err);

/* ---- tenants model (store_dir.c, store_model.c) ---------------------- */

/* store_dir.c's checks, for the files of the tenants model. */
int store_addr_split(const char *address, char *local, size_t localsz,
		     char *domain, size_t domainsz, struct err *err);
int store_check_local(const char *local, struct err *err);
int store_check_domain(const char *domain, struct err *err);
/* address with its domain in A-label form, lower case, into out
 * (STORE_ADDR_MAX + 1 bytes), and its parts. 0 or -1 (ERR_PEER). */
int store_addr_norm(const char *address, char *out, char *local,
		    size_t localsz, char *domain, size_t domainsz,
		    struct err *err);
/* Inside c's transaction: ERR_LIMIT if domain's plan has no room for
 * another mailbox, ERR_PEER if it is a domain alias. */
int store_plan_room(struct store_conn *c, const char *domain,
		    struct err *err);
/* On c: the alias at local@domain (A-label). 1 (*id, *kind, *post),
 * 0, -1. */
int store_alias_find(struct store_conn *c, const char *local,
		     const char *domain, int64_t *id, int *kind, int *post,
		     struct err *err);
/* On c: the targets of alias a->id appended to a. */
int store_alias_targets(struct store_conn *c, struct store_alias *a,
			struct err *err);
/* Inside c's transaction: a mailbox with its default folders, after
 * store_plan_room (store_dir.c; the import adds many in one). */
int store_mailbox_insert(struct store_conn *c, const char *local,
			 const char *domain, const char *pw_hash,
			 uint64_t quota, int64_t *id_out, struct err *err);
/* Copy text column col of s into out (NUL-terminated, truncated). */
void store_col_text(sqlite3_stmt *s, int col, char *out, size_t outsz);

#endif
