/* store_log.c - the segment files as a write-ahead log: how far SQLite
 * holds it (table log_applied), indexing one record (the same code for
 * the committer and for replay, so both decide alike), walking the valid
 * records from a position, recovery at store_open, and the log part of
 * store_check. Writing records and the order of syncs and commits are
 * store_commit.c's; decision 0002 has the reasoning.
 */
#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* ---- the applied position ---------------------------------------------- */

int store_log_applied_get(struct store_conn *c, struct store_log_pos *out,
			  struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_LOG_GET, err);
	if (s == NULL)
		return -1;
	int rc = sqlite3_step(s);
	int64_t seg = sqlite3_column_int64(s, 0);
	int64_t off = sqlite3_column_int64(s, 1);
	int64_t seq = sqlite3_column_int64(s, 2);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "read log position");
	if (seg < 0 || seg > (int64_t)UINT32_MAX || off < 0 || seq < 0)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: log position %lld:%lld:%lld is out of "
			       "range", (long long)seg, (long long)off,
			       (long long)seq);
	*out = (struct store_log_pos){ .segment = (uint32_t)seg,
				       .offset = (uint64_t)off,
				       .seq = (uint64_t)seq };
	return 0;
}

int store_log_applied_set(struct store_conn *c, const struct store_log_pos *p,
			  struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_LOG_SET, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, p->segment);
	sqlite3_bind_int64(s, 2, (int64_t)p->offset);
	sqlite3_bind_int64(s, 3, (int64_t)p->seq);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "write log position");
	return 0;
}

/* ---- indexing one record ----------------------------------------------- */

/* Run s (bound) to completion; the number of rows it changed, or -1. */
static int step_changes(struct store_conn *c, sqlite3_stmt *s,
			const char *what, struct err *err)
{
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, what);
	return sqlite3_changes(c->db);
}

/* An append's keywords as bits of the mailbox, created as needed; a
 * keyword past STORE_KEYWORDS_MAX (the mailbox filled up after the
 * append was checked) is dropped, the same way on every replay. */
struct ext_keywords {
	struct store_conn *c;
	int64_t mailbox_id;
	uint64_t bits;
	struct err *err;
};

static int ext_keyword(const char *name, size_t n, void *arg)
{
	struct ext_keywords *k = arg;
	unsigned bit;
	int got = store_keyword_bit(k->c, k->mailbox_id, name, n, true, &bit,
				    k->err);
	if (got < 0)
		return -1;
	if (got == 1)
		k->bits |= (uint64_t)1 << bit;
	return 0;
}

/* The rows of store_log_apply, under its savepoint. */
static int apply_rows(struct store_conn *c, const struct store_rec *r,
		      const struct store_rec_rcpt *rcpt,
		      const unsigned char *ext, const char **why_out,
		      struct err *err)
{
	uint32_t flags = 0;
	/* a queue record may have no local recipient */
	struct ext_keywords kw = { .c = c, .err = err };
	if (r->kind == STORE_REC_APPEND) {
		kw.mailbox_id = rcpt[0].mailbox_id;
		err_clear(err);
		if (store_ext_decode(ext, r->ext_len, &flags, ext_keyword,
				     &kw) < 0) {
			if (err->kind != ERR_NONE)
				return -1;	/* SQLite */
			*why_out = "bad flags in the record";
			return 0;
		}
		flags &= STORE_FLAGS_STORED;
	}
	sqlite3_stmt *s = store_stmt(c, STMT_BLOB_ADD, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, r->segment);
	sqlite3_bind_int64(s, 2, (int64_t)r->offset);
	sqlite3_bind_int64(s, 3, (int64_t)r->data_len);
	/* a queue or quarantine entry holds one reference of its own */
	sqlite3_bind_int64(s, 4, (int64_t)r->n_rcpt +
				 (r->kind == STORE_REC_QUEUE ||
				  r->kind == STORE_REC_QUARANTINE ? 1 : 0));
	int n = step_changes(c, s, "insert blob", err);
	if (n < 0)
		return -1;
	if (n == 0)
		return 2;	/* indexed before: its rows are all there */
	int64_t blob_id = sqlite3_last_insert_rowid(c->db);
	if (r->kind == STORE_REC_QUEUE) {
		int q = store_queue_apply(c, r, blob_id, ext, why_out, err);
		if (q <= 0)
			return q;
	}
	if (r->kind == STORE_REC_QUARANTINE)
		return store_quar_apply(c, r, blob_id, ext, why_out, err);

	for (uint32_t i = 0; i < r->n_rcpt; i++) {
		const struct store_rec_rcpt *p = &rcpt[i];
		s = store_stmt(c, STMT_FOLDER_ADVANCE, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, p->folder_id);
		sqlite3_bind_int64(s, 2, p->mailbox_id);
		sqlite3_bind_int64(s, 3, p->uidvalidity);
		sqlite3_bind_int64(s, 4, p->uid);
		sqlite3_bind_int64(s, 5, (int64_t)p->modseq);
		n = step_changes(c, s, "advance folder", err);
		if (n < 0)
			return -1;
		if (n == 0) {
			*why_out = "folder no longer exists";
			return 0;
		}

		s = store_stmt(c, STMT_MESSAGE_ADD, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, p->folder_id);
		sqlite3_bind_int64(s, 2, p->uid);
		sqlite3_bind_int64(s, 3, blob_id);
		sqlite3_bind_int64(s, 4, (int64_t)r->data_len);
		sqlite3_bind_int64(s, 5, r->internal_date);
		sqlite3_bind_int64(s, 6, (int64_t)p->modseq);
		sqlite3_bind_int64(s, 7, flags);
		sqlite3_bind_int64(s, 8, (int64_t)kw.bits);
		n = step_changes(c, s, "insert message", err);
		if (n < 0)
			return -1;
		if (n == 0) {
			/* cannot happen while the committer is the only one
			 * to give UIDs; never overwrite what is there */
			*why_out = "UID already taken";
			return 0;
		}

		s = store_stmt(c, STMT_MAILBOX_USED, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, p->mailbox_id);
		sqlite3_bind_int64(s, 2, (int64_t)r->data_len);
		if (step_changes(c, s, "update used bytes", err) < 0)
			return -1;
	}
	return 1;
}

int store_log_apply(struct store_conn *c, const struct store_rec *r,
		    const struct store_rec_rcpt *rcpt, const unsigned char *ext,
		    const char **why_out, struct err *err)
{
	*why_out = "";
	if (store_exec(c, STMT_SAVEPOINT, err) < 0)
		return -1;
	int res = apply_rows(c, r, rcpt, ext, why_out, err);
	if (res < 0)
		return -1;	/* the caller rolls the transaction back */
	if (res == 0 && store_exec(c, STMT_ROLLBACK_TO, err) < 0)
		return -1;
	if (store_exec(c, STMT_RELEASE, err) < 0)
		return -1;
	return res;
}

/* ---- walking the log ----------------------------------------------------- */

/* Records voided by abort records, collected on a first walk because an
 * abort comes after the records it voids. */
struct abort_set {
	struct abort_range {
		uint64_t first, last;
	} *r;
	size_t n, cap;
};

static void aborts_add(struct abort_set *a, uint64_t first, uint64_t last)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 8;
		a->r = xreallocarray(a->r, a->cap, sizeof *a->r);
	}
	a->r[a->n++] = (struct abort_range){ first, last };
}

static bool aborts_has(const struct abort_set *a, uint64_t seq)
{
	for (size_t i = 0; i < a->n; i++)
		if (seq >= a->r[i].first && seq <= a->r[i].last)
			return true;
	return false;
}

struct walk;
/* Called for each valid record in order, with its metadata; -1 stops the
 * walk with err set. */
typedef int (*walk_fn)(struct walk *w, const struct store_rec *r,
		       const unsigned char *meta, struct err *err);

struct walk {
	/* in */
	int blobs_fd;
	const uint32_t *ids;	/* segment ids, ascending */
	size_t n_ids;
	bool verify_data;	/* also check each message's data CRC */
	uint64_t stop_seq;	/* stop after this record; 0: at the end */
	walk_fn fn;
	void *arg;
	/* out */
	struct store_log_pos end;	/* after the last valid record */
	uint32_t tail_segment;		/* last segment visited, 0: none */
	uint64_t tail_offset;		/* where its valid records end */
	uint64_t records;
	bool start_past_eof;		/* the start's segment is shorter */
	/* scratch */
	unsigned char *meta;
	size_t meta_cap;
};

/* The record at off of fd (segment seg, file size size), if it is the
 * next one of the log: 1 and *r, meta in w->meta; 0 not (the log ends
 * here); -1 read error. */
static int walk_record(struct walk *w, int fd, uint32_t seg, uint64_t size,
		       uint64_t off, bool crossing, struct store_rec *r)
{
	unsigned char hdr[STORE_REC_HDR_SIZE];
	if (size < STORE_REC_HDR_SIZE || off > size - STORE_REC_HDR_SIZE)
		return 0;
	if (store_pread_full(fd, hdr, sizeof hdr, off) < 0)
		return errno == ENODATA ? 0 : -1;
	if (store_rec_decode(hdr, r) < 0 || r->segment != seg ||
	    r->offset != off)
		return 0;
	/* Within a segment the numbers go up by one. The first record of a
	 * later segment only has to be past them: the records it follows may
	 * end early in a torn group that an abort record there voids. */
	if (crossing ? r->seq <= w->end.seq : r->seq != w->end.seq + 1)
		return 0;
	uint64_t rsize = store_rec_size(r);
	if (rsize > size - off)
		return 0;
	uint64_t meta_len = store_rec_meta_len(r);
	if (meta_len > w->meta_cap) {
		free(w->meta);
		w->meta = xmalloc((size_t)meta_len);
		w->meta_cap = (size_t)meta_len;
	}
	if (store_pread_full(fd, w->meta, (size_t)meta_len,
			     off + STORE_REC_HDR_SIZE) < 0)
		return errno == ENODATA ? 0 : -1;
	if (store_crc32c(0, w->meta, (size_t)meta_len) != r->meta_crc)
		return 0;
	if (w->verify_data && STORE_REC_HAS_MESSAGE(r)) {
		uint32_t crc;
		if (store_crc_range(fd, off + STORE_REC_HDR_SIZE + meta_len,
				    r->data_len, &crc) < 0)
			return errno == ENODATA ? 0 : -1;
		if (crc != r->data_crc)
			return 0;
	}
	return 1;
}

/* Visit the log from *start: the records of start's segment from its
 * offset, then of each later segment from 0, each up to its first record
 * that is not the next one (torn, zero, stale). */
static int walk_log(struct walk *w, const struct store_log_pos *start,
		    struct err *err)
{
	w->end = *start;
	w->tail_segment = 0;
	w->tail_offset = 0;
	w->records = 0;
	w->start_past_eof = false;
	size_t i = 0;
	while (i < w->n_ids && w->ids[i] < start->segment)
		i++;
	bool exact = start->segment != 0 && i < w->n_ids &&
		     w->ids[i] == start->segment;
	if (start->segment != 0 && !exact)
		log_warn("store", NULL, "op=recover segment=%u "
			 "problem=\"applied segment is missing\"",
			 (unsigned)start->segment);
	uint64_t off = exact ? start->offset : 0;
	bool crossing = !exact;
	for (; i < w->n_ids; i++) {
		uint32_t seg = w->ids[i];
		int fd = store_segment_open_read(w->blobs_fd, seg);
		if (fd < 0)
			return store_sys_fail(err, "open segment", errno);
		struct stat sb;
		if (fstat(fd, &sb) < 0) {
			int e = errno;
			(void)close(fd); /* read-only: nothing lost */
			return store_sys_fail(err, "stat segment", e);
		}
		uint64_t size = (uint64_t)sb.st_size;
		if (off > size)
			w->start_past_eof = true;
		bool stop = false;
		for (;;) {
			struct store_rec r;
			int got = walk_record(w, fd, seg, size, off, crossing, &r);
			if (got < 0) {
				int e = errno;
				(void)close(fd); /* read-only: nothing lost */
				return store_sys_fail(err, "read segment", e);
			}
			if (got == 0)
				break;
			if (w->fn != NULL && w->fn(w, &r, w->meta, err) < 0) {
				(void)close(fd); /* read-only: nothing lost */
				return -1;
			}
			off += store_rec_size(&r);
			w->end = (struct store_log_pos){ seg, off, r.seq };
			w->records++;
			crossing = false;
			if (w->stop_seq != 0 && r.seq >= w->stop_seq) {
				stop = true;
				break;
			}
		}
		(void)close(fd); /* read-only: nothing lost */
		w->tail_segment = seg;
		w->tail_offset = off;
		if (stop)
			break;
		off = 0;
		crossing = true;
	}
	return 0;
}

static int collect_aborts(struct walk *w, const struct store_rec *r,
			  const unsigned char *meta, struct err *err)
{
	(void)err;
	if (r->kind == STORE_REC_ABORT) {
		uint64_t first, last;
		store_abort_decode(meta, &first, &last);
		aborts_add(w->arg, first, last);
	}
	return 0;
}

/* Recipients of a message record's metadata, into a scratch array. */
struct rcpt_buf {
	struct store_rec_rcpt *p;
	size_t cap;
};

static const struct store_rec_rcpt *rcpt_decode_all(struct rcpt_buf *b,
						    const struct store_rec *r,
						    const unsigned char *meta)
{
	if (r->n_rcpt > b->cap) {
		free(b->p);
		b->p = xcalloc(r->n_rcpt, sizeof *b->p);
		b->cap = r->n_rcpt;
	}
	for (uint32_t i = 0; i < r->n_rcpt; i++)
		store_rcpt_decode(meta + (size_t)i * STORE_REC_RCPT_SIZE,
				  &b->p[i]);
	return b->p;
}

/* ---- recovery ------------------------------------------------------------ */

struct replay {
	struct store_conn *c;
	struct abort_set aborts;
	struct rcpt_buf rcpt;
	uint64_t applied, already, skipped, aborted;
};

static int replay_one(struct walk *w, const struct store_rec *r,
		      const unsigned char *meta, struct err *err)
{
	struct replay *rp = w->arg;
	if (!STORE_REC_HAS_MESSAGE(r))
		return 0;
	if (aborts_has(&rp->aborts, r->seq)) {
		rp->aborted++;
		return 0;
	}
	const char *why;
	int res = store_log_apply(rp->c, r, rcpt_decode_all(&rp->rcpt, r, meta),
				  meta + (size_t)r->n_rcpt * STORE_REC_RCPT_SIZE,
				  &why, err);
	if (res < 0)
		return -1;
	if (res == 1) {
		rp->applied++;
	} else if (res == 2) {
		rp->already++;
	} else {
		rp->skipped++;
		/* the delivery was answered 451 for the same reason, or the
		 * mailbox went away since */
		log_warn("store", NULL, "op=replay segment=%u offset=%llu "
			 "seq=%llu skipped=\"%s\"", (unsigned)r->segment,
			 (unsigned long long)r->offset,
			 (unsigned long long)r->seq, why);
	}
	return 0;
}

/* Blob rows at or past (segment, offset): none may exist where recovery
 * is about to clear bytes and append. */
static int blobs_past(struct store_conn *c, uint32_t segment, uint64_t offset,
		      int64_t *n_out, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_BLOBS_PAST, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, segment);
	sqlite3_bind_int64(s, 2, (int64_t)offset);
	int rc = sqlite3_step(s);
	*n_out = sqlite3_column_int64(s, 0);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "count blobs past the log end");
	return 0;
}

/* Index what the walk found past the applied position, in one
 * transaction that also moves the applied position to the end. */
static int replay(struct store *st, struct walk *w1,
		  const struct store_log_pos *applied, struct replay *rp,
		  struct err *err)
{
	struct store_conn *c = st->writer;
	if (store_exec(c, STMT_BEGIN, err) < 0)
		return -1;
	struct walk w2 = {
		.blobs_fd = st->blobs_fd, .ids = w1->ids, .n_ids = w1->n_ids,
		.verify_data = false,	/* done by the first walk */
		.stop_seq = w1->end.seq, .fn = replay_one, .arg = rp,
	};
	int rc = walk_log(&w2, applied, err);
	free(w2.meta);
	if (rc < 0)
		goto fail;
	if (w2.end.seq != w1->end.seq || w2.end.offset != w1->end.offset ||
	    w2.end.segment != w1->end.segment) {
		err_set(err, ERR_ENV, 451, "4.3.0",
			"store: the log changed while it was replayed");
		goto fail;
	}
	if (store_log_applied_set(c, &w1->end, err) < 0 ||
	    store_exec(c, STMT_COMMIT, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(c);
	return -1;
}

/* The segment appends go to: the last the walk visited, with the stale
 * bytes after the end of the log cleared (a torn group a crash left, which
 * a later group shorter than it would otherwise leave behind its own end
 * for a later recovery to take as records). */
static int open_tail(struct store *st, const struct walk *w, struct err *err)
{
	struct store_segment seg;
	if (store_segment_open_rw(st->blobs_fd, w->tail_segment, &seg, err) < 0)
		return -1;
	struct stat sb;
	if (fstat(seg.fd, &sb) < 0) {
		int e = errno;
		store_segment_close(&seg);
		return store_sys_fail(err, "stat segment", e);
	}
	uint64_t size = (uint64_t)sb.st_size;
	bool wrote = false;
	if (store_segment_zero_tail(&seg, w->tail_offset, size, &wrote,
				    err) < 0) {
		store_segment_close(&seg);
		return -1;
	}
	/* Always: what is in the file now, zeros included, is then on disk,
	 * whatever an earlier process left unsynced. */
	if (fdatasync(seg.fd) < 0) {
		int e = errno;
		store_segment_close(&seg);
		return store_sys_fail(err, "sync segment", e);
	}
	if (wrote)
		log_info("store", NULL, "op=recover segment=%u "
			 "cleared-from=%llu", (unsigned)seg.id,
			 (unsigned long long)w->tail_offset);
	seg.end = w->tail_offset;
	seg.alloc = size;
	/* a record must start at an aligned offset; a foreign file may end
	 * anywhere: then start the next segment */
	seg.retire = seg.end % STORE_REC_ALIGN != 0;
	/* the last block of the log into memory, then O_DIRECT: the zeros
	 * above were written through the page cache, which is fine (a
	 * direct write flushes and drops cached pages of its range) */
	if (store_segment_writable(&seg, !st->tuning.buffered, err) < 0) {
		store_segment_close(&seg);
		return -1;
	}
	st->seg = seg;
	return 0;
}

int store_log_recover(struct store *st, struct err *err)
{
	struct store_conn *c = st->writer;
	struct store_log_pos applied;
	if (store_log_applied_get(c, &applied, err) < 0)
		return -1;
	uint32_t *ids = NULL;
	size_t n_ids = 0;
	if (store_segment_list(st->blobs_fd, &ids, &n_ids, err) < 0)
		return -1;

	int rc = -1;
	struct replay rp = { .c = c };
	struct walk w1 = {
		.blobs_fd = st->blobs_fd, .ids = ids, .n_ids = n_ids,
		.verify_data = true, .fn = collect_aborts, .arg = &rp.aborts,
	};
	if (walk_log(&w1, &applied, err) < 0)
		goto out;
	if (w1.start_past_eof) {
		err_set(err, ERR_CONFIG, 0, "",
			"store: segment %u is shorter than the index says "
			"(%llu bytes were durable): it was truncated or "
			"replaced; run petrelctl store check",
			(unsigned)applied.segment,
			(unsigned long long)applied.offset);
		goto out;
	}
	if (w1.end.seq > applied.seq && replay(st, &w1, &applied, &rp, err) < 0)
		goto out;

	/* Nothing indexed may lie where appends go (a bug or a lost segment
	 * file): refuse rather than overwrite it. */
	int64_t past;
	if (blobs_past(c, w1.tail_segment, w1.tail_offset, &past, err) < 0)
		goto out;
	if (past > 0) {
		err_set(err, ERR_CONFIG, 0, "",
			"store: %lld indexed messages lie past the end of the "
			"log (segment %u offset %llu): a segment file is "
			"missing or damaged; run petrelctl store check",
			(long long)past, (unsigned)w1.tail_segment,
			(unsigned long long)w1.tail_offset);
		goto out;
	}
	if (w1.tail_segment != 0) {
		if (open_tail(st, &w1, err) < 0)
			goto out;
	} else {
		/* no segment yet: the first group creates the one after
		 * any that was ever applied */
		uint32_t last = n_ids > 0 ? ids[n_ids - 1] : 0;
		st->seg = (struct store_segment){
			.id = applied.segment > last ? applied.segment : last,
			.fd = -1,
		};
	}
	st->next_seq = w1.end.seq + 1;
	if (w1.end.seq > applied.seq)
		log_info("store", NULL, "op=recover from=%u:%llu to=%u:%llu "
			 "records=%llu indexed=%llu already=%llu skipped=%llu "
			 "aborted=%llu", (unsigned)applied.segment,
			 (unsigned long long)applied.offset,
			 (unsigned)w1.end.segment,
			 (unsigned long long)w1.end.offset,
			 (unsigned long long)w1.records,
			 (unsigned long long)rp.applied,
			 (unsigned long long)rp.already,
			 (unsigned long long)rp.skipped,
			 (unsigned long long)rp.aborted);
	rc = 0;
out:
	free(w1.meta);
	free(rp.aborts.r);
	free(rp.rcpt.p);
	free(ids);
	return rc;
}

/* ---- checking ------------------------------------------------------------ */

struct log_check {
	struct store_conn *c;
	struct abort_set aborts;
	struct rcpt_buf rcpt;
	uint64_t *problems;
};

/* 1 and *out if the query of s (bound) has a row, 0 if not, -1 error. */
static int query_id(struct store_conn *c, sqlite3_stmt *s, int64_t *out,
		    struct err *err)
{
	int rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, c, "check log record");
}

/* A record past the applied position will be indexed by replay: each of
 * its messages must be either not there (replay puts it there) or there
 * already with this record's blob, never a UID that another message took
 * (replay would then skip an acknowledged message). */
static int check_one(struct walk *w, const struct store_rec *r,
		     const unsigned char *meta, struct err *err)
{
	struct log_check *lc = w->arg;
	if (!STORE_REC_HAS_MESSAGE(r) || aborts_has(&lc->aborts, r->seq))
		return 0;
	const struct store_rec_rcpt *rcpt = rcpt_decode_all(&lc->rcpt, r, meta);
	sqlite3_stmt *s = store_stmt(lc->c, STMT_BLOB_AT, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, r->segment);
	sqlite3_bind_int64(s, 2, (int64_t)r->offset);
	int64_t blob_id;
	if (query_id(lc->c, s, &blob_id, err) < 0)
		return -1;
	uint32_t present = 0, absent = 0;
	for (uint32_t i = 0; i < r->n_rcpt; i++) {
		s = store_stmt(lc->c, STMT_MESSAGE_AT, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, rcpt[i].folder_id);
		sqlite3_bind_int64(s, 2, rcpt[i].uid);
		int64_t got;
		int found = query_id(lc->c, s, &got, err);
		if (found < 0)
			return -1;
		if (found == 0)
			absent++;
		else if (blob_id != 0 && got == blob_id)
			present++;
		else
			store_check_problem(lc->problems, "log-seq",
					    (int64_t)r->seq,
					    "its UID is taken by another "
					    "message; replay would drop it");
	}
	if (present > 0 && absent > 0)
		store_check_problem(lc->problems, "log-seq", (int64_t)r->seq,
				    "indexed for some recipients only");
	else if (blob_id != 0 && r->n_rcpt > 0 && present == 0 &&
		 absent == r->n_rcpt)
		store_check_problem(lc->problems, "log-seq", (int64_t)r->seq,
				    "blob indexed without its messages");
	return 0;
}

int store_log_check(struct store *st, struct store_conn *c,
		    uint64_t *problems, struct err *err)
{
	struct store_log_pos applied;
	if (store_log_applied_get(c, &applied, err) < 0)
		return -1;
	int64_t past;
	if (blobs_past(c, applied.segment, applied.offset, &past, err) < 0)
		return -1;
	if (past > 0)
		store_check_problem(problems, "blobs", past,
				    "indexed past the applied log position");

	uint32_t *ids = NULL;
	size_t n_ids = 0;
	if (store_segment_list(st->blobs_fd, &ids, &n_ids, err) < 0)
		return -1;
	int rc = -1;
	struct log_check lc = { .c = c, .problems = problems };
	struct walk w1 = {
		.blobs_fd = st->blobs_fd, .ids = ids, .n_ids = n_ids,
		.verify_data = true, .fn = collect_aborts, .arg = &lc.aborts,
	};
	struct walk w2 = {
		.blobs_fd = st->blobs_fd, .ids = ids, .n_ids = n_ids,
		.fn = check_one, .arg = &lc,
	};
	if (walk_log(&w1, &applied, err) < 0)
		goto out;
	if (w1.start_past_eof)
		store_check_problem(problems, "segment", applied.segment,
				    "shorter than the applied log position");
	if (w1.end.seq > applied.seq) {
		/* A live committer may append meanwhile: look at what the
		 * first walk saw, no further. */
		w2.stop_seq = w1.end.seq;
		if (walk_log(&w2, &applied, err) < 0)
			goto out;
	}
	log_info("store", NULL, "op=check log-from=%u:%llu log-to=%u:%llu "
		 "pending=%llu", (unsigned)applied.segment,
		 (unsigned long long)applied.offset, (unsigned)w1.end.segment,
		 (unsigned long long)w1.end.offset,
		 (unsigned long long)w1.records);
	rc = 0;
out:
	free(w1.meta);
	free(w2.meta);
	free(lc.aborts.r);
	free(lc.rcpt.p);
	free(ids);
	return rc;
}
