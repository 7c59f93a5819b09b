/* store_commit.c - delivery by group commit into the log. Sessions queue
 * deliveries; one committer thread takes everything queued as a group,
 * gives each recipient its UID, writes the group as log records in whole
 * blocks with O_DIRECT into segment space that was zero-filled and synced
 * beforehand, makes them durable with ONE fdatasync, indexes them in ONE SQLite
 * transaction that is not synced (synchronous=NORMAL), and only then
 * completes each delivery. While it works, new submissions queue up for
 * the next group, so the cost of the sync is shared by all of them.
 * IMAP APPENDs ride in the same groups as records of their own kind
 * (store_append.c); after each group the committer runs the queued
 * mutation jobs (store_job.c).
 */
#include "store/store_private.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* STMT_INBOX_STATE and STMT_JUNK_ID find INBOX and Junk by these values
 * (store_db.c). */
_Static_assert(STORE_SPECIAL_INBOX == 1, "special_use of INBOX is 1");
_Static_assert(STORE_SPECIAL_JUNK == 4, "special_use of Junk is 4");

/* The highest UID a delivery may get (RFC 3501 2.3.1.1: UIDs are 32-bit
 * and never reused; giving 4294967295 would leave UIDNEXT
 * unrepresentable). */
#define STORE_UID_MAX 4294967294u

/* Why one fdatasync is enough, and what happens when a step fails
 * ----------------------------------------------------------------
 * A group goes: records (O_DIRECT pwrite) -> fdatasync of the segment -> SQLite
 * transaction (rows + the applied position, synchronous=NORMAL, so no
 * sync) -> done(). The records carry the UIDs, folders and sizes, so the
 * log alone can rebuild the rows: when the transaction is lost in a crash,
 * recovery (store_log.c) replays every valid record past the applied
 * position. The 250 therefore waits only for the segment's fdatasync.
 * That sync is cheap because the blocks were written (as zeros) and
 * synced before, when the committer was idle: overwriting them changes no
 * file size or extent, so ext4 journals nothing. (Zeros, not fallocate:
 * its unwritten extents cost a journal commit at their first write.) A
 * committer that never idles appends instead, and its sync journals the
 * new size; such a group carries zeros for the next ones in the same
 * write and sync (STORE_PREALLOC_CARRY).
 *
 * The rule for failures: a delivery is answered 451 only if its record
 * can never be replayed, because the client will send it again.
 *  - Before anything is written (a mailbox without INBOX, a new segment
 *    that cannot be made): 451, nothing to undo, and the UIDs are given
 *    again.
 *  - The write fails (disk full, size limit, I/O error): the bytes are
 *    taken back, zeros written over them or the file cut back to where
 *    the group started, and synced; then nothing of the group can be
 *    replayed and its sequence numbers and UIDs are given again.
 *  - The fdatasync fails, or taking the bytes back does: the records may
 *    be anywhere from absent to complete on disk. The segment is retired
 *    and the next one starts with an abort record naming the group's
 *    sequence numbers, synced before the 451s go out; replay skips what
 *    an abort names.
 *  - SQLite fails after the sync: the records are durable and would be
 *    replayed, so an abort record is written right after them and synced
 *    (in a new segment if that fails) before the 451s.
 *  - If even the abort cannot be made durable, the deliveries still get
 *    451 (a duplicate after a crash is better than a lost message), and
 *    every later group fails without writing until an abort record is
 *    durable, so that no record reusing those UIDs is written before it.
 */

/* Padding after the last record of a group. */
static const unsigned char pad_zeros[STORE_REC_ALIGN];

static uint64_t round_page(uint64_t v)
{
	_Static_assert(STORE_DIO_ALIGN == 4096, "pages are O_DIRECT blocks");
	return (v + 4095) & ~(uint64_t)4095;
}

/* Why O_DIRECT
 * ------------
 * Buffered writes of new data copy every byte into freshly allocated
 * page-cache pages: at 300 MB/s of mail that copy was 70% of the
 * committer's core, and the committer is one thread. O_DIRECT writes go
 * from our buffer to the device (decision 0002 has the numbers). They
 * need whole blocks at aligned offsets from aligned memory, so each group
 * is assembled in g->wbuf: the bytes of the block that holds the append
 * position, kept in memory (seg->tail) so that it is never read back, the
 * records, zeros to the block end. The zeros are what recovery expects
 * after the end of the log, and the next group overwrites them. O_DIRECT
 * does not flush the device's cache: the fdatasync stays. Readers use
 * their own buffered descriptors: a direct write invalidates the cached
 * pages of its range, and they only read records that are indexed, so
 * written and synced before. */

/* The committer's aligned write buffer and, after it, the next tail
 * block; NULL (err set) if it cannot be had. */
static unsigned char *wbuf(struct store *st, struct err *err)
{
	struct store_group *g = &st->group;
	if (g->wbuf == NULL) {
		void *p;
		int rc = posix_memalign(&p, STORE_DIO_ALIGN,
					STORE_WBUF_SIZE + STORE_DIO_ALIGN);
		if (rc != 0) {
			store_sys_fail(err, "allocate write buffer", rc);
			return NULL;
		}
		g->wbuf = p;
	}
	return g->wbuf;
}

static int hook(struct store *st, enum store_hook where)
{
	return st->hook != NULL ? st->hook(st, where, st->hook_arg) : 0;
}

int store_deliver_submit(struct store *st, struct store_delivery *d,
			 struct err *err)
{
	assert(d->queue != NULL || d->quarantine_ ||
	       (d->n_mailboxes > 0 && d->mailbox_ids != NULL));
	assert(d->data != NULL || d->len == 0);
	d->rc = -1;
	err_clear(&d->err);
	d->next_ = NULL;
	d->seq_ = 0;
	if (!d->quarantine_)	/* a quarantine's entry is encoded already */
		d->qext_ = NULL;
	if (d->queue != NULL && store_queue_ext_encode(d, err) < 0)
		return -1;
	pthread_mutex_lock(&st->q_mu);
	if (st->closing) {
		pthread_mutex_unlock(&st->q_mu);
		free(d->qext_);
		d->qext_ = NULL;
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: shutting down");
	}
	if (st->q_tail != NULL)
		st->q_tail->next_ = d;
	else
		st->q_head = d;
	st->q_tail = d;
	pthread_cond_signal(&st->q_cv);
	pthread_mutex_unlock(&st->q_mu);
	return 0;
}

struct store_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool finished;
};

static void waiter_done(struct store_delivery *d)
{
	struct store_waiter *w = d->arg;
	pthread_mutex_lock(&w->mu);
	w->finished = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int store_deliver_wait(struct store *st, struct store_delivery *d,
		       struct err *err)
{
	void (*saved_done)(struct store_delivery *) = d->done;
	void *saved_arg = d->arg;
	struct store_waiter w = { .finished = false };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	d->done = waiter_done;
	d->arg = &w;
	int rc = store_deliver_submit(st, d, err);
	if (rc == 0) {
		pthread_mutex_lock(&w.mu);
		while (!w.finished)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		if (d->rc < 0) {
			if (err != NULL)
				*err = d->err;
			rc = -1;
		}
	}
	d->done = saved_done;
	d->arg = saved_arg;
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

/* ---- group scratch and UIDs ------------------------------------------- */

/* Room for n_rcpt recipients and the folder table of the group. */
static void group_reserve(struct store_group *g, size_t n_rcpt)
{
	/* forget the previous group's folders */
	for (size_t i = 0; i < g->n_used; i++)
		g->slots[g->used[i]] = 0;
	g->n_used = 0;
	g->n_folders = 0;
	if (n_rcpt > g->rcpt_cap) {
		size_t cap = g->rcpt_cap * 2 > n_rcpt ? g->rcpt_cap * 2 : n_rcpt;
		g->rcpt = xreallocarray(g->rcpt, cap, sizeof *g->rcpt);
		g->folders = xreallocarray(g->folders, cap, sizeof *g->folders);
		g->used = xreallocarray(g->used, cap, 2 * sizeof *g->used);
		g->rcpt_cap = cap;
	}
	size_t slots = 16;
	while (slots < 4 * n_rcpt)
		slots *= 2;
	if (slots > g->slots_cap) {
		free(g->slots);
		free(g->slot_keys);
		g->slots = xcalloc(slots, sizeof *g->slots);
		g->slot_keys = xcalloc(slots, sizeof *g->slot_keys);
		g->slots_cap = slots;
	}
}

/* The slot of key: the entry's index + 1 there, or 0 and an empty slot
 * (*h_out) to link it at. */
static uint32_t slot_find(const struct store_group *g, uint64_t key,
			  size_t *h_out)
{
	size_t mask = g->slots_cap - 1;
	size_t h = (size_t)((key * 0x9E3779B97F4A7C15u) >> 32) & mask;
	for (; g->slots[h] != 0; h = (h + 1) & mask)
		if (g->slot_keys[h] == key)
			break;
	*h_out = h;
	return g->slots[h];
}

static void slot_link(struct store_group *g, size_t h, uint64_t key,
		      size_t idx)
{
	g->slots[h] = (uint32_t)(idx + 1);
	g->slot_keys[h] = key;
	g->used[g->n_used++] = h;
}

/* A new entry for the folder of row s (columns: folder id or 0, then
 * uidvalidity, uidnext, highestmodseq at first_col..) or an empty one. */
static size_t entry_new(struct store_group *g, int64_t mailbox_id,
			int64_t folder_id, sqlite3_stmt *s, int col)
{
	/* UNSAFE: n_folders < rcpt_cap: one entry per recipient at most */
	struct store_group_folder *f = &g->folders[g->n_folders];
	*f = (struct store_group_folder){ .mailbox_id = mailbox_id,
					  .folder_id = folder_id };
	if (s != NULL) {
		int64_t uidnext = sqlite3_column_int64(s, col + 1);
		int64_t modseq = sqlite3_column_int64(s, col + 2);
		f->uidvalidity = (uint32_t)sqlite3_column_int64(s, col);
		f->uidnext = uidnext > 0 ? (uint64_t)uidnext : 1;
		f->modseq = modseq > 0 ? (uint64_t)modseq : 0;
	}
	return g->n_folders++;
}

/* The INBOX state of mailbox_id for this group: read from SQLite the
 * first time, then as the group's earlier deliveries and appends left
 * it. A folder_id of 0 means the mailbox has no INBOX (gone since RCPT).
 * NULL if SQLite fails. */
static struct store_group_folder *folder_of(struct store *st,
					    struct store_group *g,
					    int64_t mailbox_id, struct err *err)
{
	size_t h;
	uint64_t key = (uint64_t)mailbox_id * 2;
	uint32_t at = slot_find(g, key, &h);
	if (at != 0)
		return &g->folders[at - 1];
	struct store_conn *c = st->writer;
	sqlite3_stmt *s = store_stmt(c, STMT_INBOX_STATE, err);
	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, mailbox_id);
	int rc = sqlite3_step(s);
	size_t idx;
	if (rc == SQLITE_ROW) {
		int64_t fid = sqlite3_column_int64(s, 0);
		size_t h2;
		uint64_t key2 = (uint64_t)fid * 2 + 1;
		uint32_t at2 = slot_find(g, key2, &h2);
		if (at2 != 0) {
			idx = at2 - 1;	/* an append there came first */
		} else {
			idx = entry_new(g, mailbox_id, fid, s, 1);
			slot_link(g, h2, key2, idx);
			(void)slot_find(g, key, &h); /* h2 may have taken h */
		}
	} else {
		idx = entry_new(g, mailbox_id, 0, NULL, 0);
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_fail(err, c, "read INBOX state");
		return NULL;
	}
	slot_link(g, h, key, idx);
	return &g->folders[idx];
}

/* The state of folder folder_id for an append, as folder_of; folder_id
 * 0 in it when the folder is gone. */
static struct store_group_folder *folder_by_id(struct store *st,
					       struct store_group *g,
					       int64_t folder_id,
					       struct err *err)
{
	size_t h;
	uint64_t key = (uint64_t)folder_id * 2 + 1;
	uint32_t at = slot_find(g, key, &h);
	if (at != 0)
		return &g->folders[at - 1];
	struct store_conn *c = st->writer;
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_STATE, err);
	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, folder_id);
	int rc = sqlite3_step(s);
	size_t idx = rc == SQLITE_ROW
			     ? entry_new(g, sqlite3_column_int64(s, 0),
					 folder_id, s, 1)
			     : entry_new(g, 0, 0, NULL, 0);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_fail(err, c, "read folder state");
		return NULL;
	}
	slot_link(g, h, key, idx);
	return &g->folders[idx];
}

/* Where recipient k of d goes: an APPEND's folder; for a delivery to
 * Junk (filter verdicts, DMARC quarantine) the mailbox's \Junk folder,
 * or INBOX when it has none; else INBOX. */
static struct store_group_folder *dest_folder(struct store *st,
					      struct store_group *g,
					      const struct store_delivery *d,
					      size_t k, struct err *err)
{
	if (d->append_ != NULL)
		return folder_by_id(st, g, d->append_->folder_id, err);
	if (d->junk) {
		struct store_conn *c = st->writer;
		sqlite3_stmt *s = store_stmt(c, STMT_JUNK_ID, err);
		if (s == NULL)
			return NULL;
		sqlite3_bind_int64(s, 1, d->mailbox_ids[k]);
		int rc = sqlite3_step(s);
		int64_t fid = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_db_fail(err, c, "find Junk");
			return NULL;
		}
		if (fid != 0)
			return folder_by_id(st, g, fid, err);
	}
	return folder_of(st, g, d->mailbox_ids[k], err);
}

/* RFC 9208 / RFC 5530 OVERQUOTA for an APPEND: would len more bytes fit
 * mailbox_id's quota, counting what the group puts there before it? The
 * committer is the only writer of messages, so nothing can slip in
 * between this and the commit. SMTP deliveries are not checked here:
 * RCPT and the end of DATA decide for them (smtp_cmd.c, smtp_deliver.c),
 * with one message of grace. 1 fits, 0 not, -1 SQLite failed. */
static int group_quota_fits(struct store *st, struct store_group *g,
			    int64_t mailbox_id, size_t len, struct err *err)
{
	struct store_conn *c = st->writer;
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_QUOTA, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	int rc = sqlite3_step(s);
	int64_t quota = sqlite3_column_int64(s, 0);
	int64_t used = sqlite3_column_int64(s, 1);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_DONE)
		return 1;	/* gone: the folder check decides */
	if (rc != SQLITE_ROW) {
		store_db_fail(err, c, "read quota");
		return -1;
	}
	if (quota <= 0)
		return 1;
	uint64_t total = used > 0 ? (uint64_t)used : 0;
	for (size_t i = 0; i < g->n_folders; i++)
		if (g->folders[i].mailbox_id == mailbox_id)
			total += g->folders[i].added;
	return total < (uint64_t)quota && len <= (uint64_t)quota - total;
}

/* Give each delivery's recipients their UIDs and mod-sequences and build
 * its record header (kind 0: not logged). A delivery that cannot be
 * stored fails alone here, before anything is written, and gives its UIDs
 * back. -1 if SQLite fails (the whole group fails). */
static int group_assign(struct store *st, struct store_group *g,
			size_t *n_logged_out, struct err *err)
{
	size_t total = 0;
	for (size_t i = 0; i < g->n; i++)
		total += g->d[i]->n_mailboxes; /* bounded by the group take */
	group_reserve(g, total);
	size_t at = 0, logged = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct store_delivery *d = g->d[i];
		g->rec[i] = (struct store_rec){ .kind = 0 };
		g->rcpt_at[i] = at;
		if (d->n_mailboxes > STORE_REC_RCPT_MAX ||
		    (uint64_t)d->len > STORE_REC_DATA_MAX) {
			d->rc = -1;
			err_set(&d->err, ERR_LIMIT, 451, "4.3.0",
				"store: %zu recipients or %zu bytes are more "
				"than one record holds", d->n_mailboxes, d->len);
			continue;
		}
		size_t k;
		for (k = 0; k < d->n_mailboxes; k++) {
			struct store_group_folder *f =
				dest_folder(st, g, d, k, err);
			if (f == NULL)
				return -1;
			if (f->folder_id == 0 || f->uidnext > STORE_UID_MAX)
				break;
			if (d->append_ != NULL) {
				int fits = group_quota_fits(st, g, f->mailbox_id,
							    d->len, err);
				if (fits < 0)
					return -1;
				if (fits == 0)
					break;
			}
			g->rcpt[at + k] = (struct store_rec_rcpt){
				.mailbox_id = f->mailbox_id,
				.folder_id = f->folder_id,
				.uidvalidity = f->uidvalidity,
				.uid = (uint32_t)f->uidnext,
				.modseq = ++f->modseq,
			};
			f->uidnext++;
			f->added += d->len;
		}
		if (k < d->n_mailboxes && d->append_ != NULL) {
			/* one recipient: nothing to give back */
			struct store_group_folder *f = folder_by_id(
				st, g, d->append_->folder_id, err);
			assert(f != NULL);	/* in the table already */
			d->rc = -1;
			if (f->folder_id != 0 && f->uidnext <= STORE_UID_MAX)
				err_set(&d->err, ERR_LIMIT, 552, "5.2.2",
					"the mailbox is full");
			else
				err_set(&d->err, ERR_NOTFOUND, 0, "",
					"no such folder, or no UID left in it");
			continue;
		}
		if (k < d->n_mailboxes) {
			/* deleted after RCPT, or 2^32 - 2 UIDs used: the
			 * client retries and RCPT decides again */
			int64_t bad = d->mailbox_ids[k];
			while (k-- > 0) {
				/* in the table already: no SQL, no failure */
				struct store_group_folder *f = folder_by_id(
					st, g, g->rcpt[at + k].folder_id, err);
				assert(f != NULL);
				f->uidnext--;
				f->modseq--;
				f->added -= d->len;
			}
			log_warn("store", NULL, "op=deliver mailbox=%lld "
				 "error=\"no INBOX or no free UID\"",
				 (long long)bad);
			d->rc = -1;
			err_set(&d->err, ERR_NOTFOUND, 451, "4.3.0",
				"store: mailbox %lld cannot take mail now",
				(long long)bad);
			continue;
		}
		g->rec[i] = (struct store_rec){
			.kind = d->append_ != NULL ? STORE_REC_APPEND
				: d->quarantine_ ? STORE_REC_QUARANTINE
				: d->qext_ != NULL ? STORE_REC_QUEUE
						   : STORE_REC_MESSAGE,
			.n_rcpt = (uint32_t)d->n_mailboxes,
			.internal_date = d->internal_date,
			.data_len = (uint64_t)d->len,
			.ext_len = d->append_ != NULL
					   ? (uint32_t)d->append_->ext_len_
					   : (uint32_t)d->qext_len_,
		};
		at += d->n_mailboxes;
		logged++;
	}
	*n_logged_out = logged;
	return 0;
}

/* ---- segment space ------------------------------------------------------- */

/* Make the current segment able to take a group of need bytes: a new
 * (empty) segment if there is none, it was retired or the group would
 * take it past its size limit (unless it is empty: a group always fits
 * somewhere). The group then overwrites pre-allocated blocks, or appends
 * where they run short (a busy committer never idles to pre-allocate: it
 * pays a size change in its sync, as any append does). Nothing is
 * written to an existing segment here, so failing needs no abort. */
static int segment_ready(struct store *st, uint64_t need, struct err *err)
{
	struct store_segment *seg = &st->seg;
	uint64_t max = st->tuning.segment_max;
	if (seg->fd >= 0 && !seg->retire &&
	    (seg->end == 0 || (seg->end < max && need <= max - seg->end)))
		return 0;
	if (seg->id == UINT32_MAX)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: segment numbers are exhausted");
	struct store_segment next;
	if (store_segment_create(st->blobs_fd, seg->id + 1, NULL, 0,
				 !st->tuning.buffered, &next, err) < 0)
		return -1;
	store_segment_close(seg);
	*seg = next;
	return 0;
}

/* ---- aborts ---------------------------------------------------------------- */

/* Make the pending abort durable: an abort record right after the
 * group's records in the current segment, or (after a write or sync
 * failure there, or if that fails) as the first record of a new one.
 * Every attempt takes a new sequence number: a failed one may still
 * have reached the disk, and two records with one number would end the
 * log at the second. */
static int abort_resolve(struct store *st, struct err *err)
{
	unsigned char buf[STORE_REC_HDR_SIZE + STORE_REC_ABORT_META +
			  STORE_REC_ALIGN];
	memset(buf, 0, sizeof buf);
	struct store_rec r = { .kind = STORE_REC_ABORT };
	store_abort_encode(buf + STORE_REC_HDR_SIZE, st->abort.first,
			   st->abort.last);
	r.meta_crc = store_crc32c(0, buf + STORE_REC_HDR_SIZE,
				  STORE_REC_ABORT_META);
	struct iovec iov = { .iov_base = buf,
			     .iov_len = (size_t)store_rec_size(&r) };
	struct store_segment *seg = &st->seg;
	int inj;

	unsigned char *wb = wbuf(st, err);
	if (!st->abort.retire && seg->fd >= 0 && !seg->retire && wb != NULL) {
		r.segment = seg->id;
		r.offset = seg->end;
		r.seq = st->next_seq++;
		store_rec_encode(buf, &r);
		unsigned char *tail = wb + STORE_WBUF_SIZE;
		uint64_t rec_end, to;
		if (store_segment_put(seg, wb, &iov, 1, 0, tail, &rec_end, &to,
				      err) < 0)
			goto retire;
		if (fdatasync(seg->fd) < 0) {
			store_sys_fail(err, "sync abort record", errno);
			goto retire;
		}
		if ((inj = hook(st, STORE_HOOK_ABORT_SYNC)) != 0) {
			store_sys_fail(err, "sync abort record", inj);
			goto retire;
		}
		log_warn("store", NULL, "op=abort first=%llu last=%llu "
			 "segment=%u offset=%llu",
			 (unsigned long long)st->abort.first,
			 (unsigned long long)st->abort.last, (unsigned)seg->id,
			 (unsigned long long)seg->end);
		store_segment_advance(seg, rec_end, to, tail);
		st->abort.pending = false;
		return 0;
retire:
		st->abort.retire = true;
		seg->retire = true;
	}

	if (seg->id == UINT32_MAX)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: segment numbers are exhausted");
	r.segment = seg->id + 1;
	r.offset = 0;
	r.seq = st->next_seq++;
	store_rec_encode(buf, &r);
	struct store_segment next;
	if (store_segment_create(st->blobs_fd, r.segment, &iov, 1,
				 !st->tuning.buffered, &next, err) < 0)
		return -1;
	if ((inj = hook(st, STORE_HOOK_ABORT_SYNC)) != 0) {
		store_segment_close(&next);
		return store_sys_fail(err, "sync abort record", inj);
	}
	log_warn("store", NULL, "op=abort first=%llu last=%llu segment=%u "
		 "offset=0", (unsigned long long)st->abort.first,
		 (unsigned long long)st->abort.last, (unsigned)next.id);
	store_segment_close(seg);
	*seg = next;
	st->abort.pending = false;
	return 0;
}

/* Records first..last were written but their deliveries will be answered
 * 451: void them for replay before that (see the comment at the top). */
static void log_abort(struct store *st, uint64_t first, uint64_t last,
		      bool retire)
{
	st->abort.pending = true;
	st->abort.retire = retire;
	st->abort.first = first;
	st->abort.last = last;
	st->next_seq = last + 1;
	if (retire)
		st->seg.retire = true;
	struct err err;
	if (abort_resolve(st, &err) < 0)
		log_error("store", NULL, "op=abort first=%llu last=%llu "
			  "error=\"%s\" note=\"deliveries fail until an "
			  "abort record is durable; a crash before may "
			  "store these messages although they got 451\"",
			  (unsigned long long)first, (unsigned long long)last,
			  err.msg);
}

/* ---- one group -------------------------------------------------------------- */

static int touch_cmp(const void *x, const void *y)
{
	const struct store_touch *a = x, *b = y;
	if (a->mailbox_id != b->mailbox_id)
		return a->mailbox_id < b->mailbox_id ? -1 : 1;
	return a->folder_id < b->folder_id ? -1 : a->folder_id > b->folder_id;
}

static void fail_logged(struct store_group *g, const struct err *err)
{
	for (size_t i = 0; i < g->n; i++) {
		if (g->rec[i].kind == 0)
			continue;	/* failed alone before */
		g->d[i]->rc = -1;
		g->d[i]->err = *err;
	}
}

static void fail_all(struct store_group *g, const struct err *err)
{
	for (size_t i = 0; i < g->n; i++) {
		g->d[i]->rc = -1;
		g->d[i]->err = *err;
	}
}

/* Bytes of the logged records in the segment, and of their prefixes in
 * g->pre (padding of the one before, header, metadata). */
static int group_size(struct store_group *g, uint64_t *bytes_out,
		      size_t *pre_out, struct err *err)
{
	uint64_t bytes = 0;
	size_t pre = 0;
	for (size_t i = 0; i < g->n; i++) {
		if (g->rec[i].kind == 0)
			continue;
		/* UNSAFE: record sizes are bounded (STORE_REC_DATA_MAX,
		 * STORE_REC_RCPT_MAX), and so are the deliveries of a group;
		 * only the sum is checked */
		size_t meta = (size_t)store_rec_meta_len(&g->rec[i]);
		if (__builtin_add_overflow(bytes, store_rec_size(&g->rec[i]),
					   &bytes) ||
		    __builtin_add_overflow(pre, STORE_REC_ALIGN +
						STORE_REC_HDR_SIZE + meta,
					   &pre))
			return store_sys_fail(err, "place records", EFBIG);
	}
	*bytes_out = bytes;
	*pre_out = pre;
	return 0;
}

/* Number the logged records from st->next_seq, place them from start,
 * encode them and point g->iov at them; the number of iovecs. */
static size_t group_encode(struct store *st, struct store_group *g,
			   uint64_t start, size_t pre_bytes)
{
	if (pre_bytes > g->pre_cap) {
		free(g->pre);
		g->pre = xmalloc(pre_bytes);
		g->pre_cap = pre_bytes;
	}
	uint64_t off = start, seq = st->next_seq;
	unsigned char *p = g->pre;
	size_t pad = 0, v = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct store_rec *r = &g->rec[i];
		if (r->kind == 0)
			continue;
		struct store_delivery *d = g->d[i];
		r->segment = st->seg.id;
		r->offset = off;
		r->seq = seq++;
		unsigned char *chunk = p;
		memset(p, 0, pad);
		p += pad;
		unsigned char *hdr = p;
		p += STORE_REC_HDR_SIZE;
		unsigned char *meta = p;
		for (uint32_t k = 0; k < r->n_rcpt; k++) {
			store_rcpt_encode(p, &g->rcpt[g->rcpt_at[i] + k]);
			p += STORE_REC_RCPT_SIZE;
		}
		if (STORE_REC_HAS_EXT(r)) {
			memcpy(p, r->kind == STORE_REC_APPEND ? d->append_->ext_
							     : d->qext_,
			       r->ext_len);
			p += r->ext_len;
		}
		r->meta_crc = store_crc32c(0, meta, (size_t)(p - meta));
		r->data_crc = store_crc32c(0, d->data, d->len);
		store_rec_encode(hdr, r);
		g->iov[v].iov_base = chunk;
		g->iov[v++].iov_len = (size_t)(p - chunk);
		/* iovec has no const; pwritev only reads from it */
		g->iov[v].iov_base = (void *)(uintptr_t)d->data;
		g->iov[v++].iov_len = d->len;
		uint64_t size = store_rec_size(r);
		pad = (size_t)(size - STORE_REC_HDR_SIZE - (uint64_t)(p - meta) -
			       (uint64_t)d->len);
		off += size;
	}
	g->iov[v].iov_base = (void *)(uintptr_t)pad_zeros;
	g->iov[v++].iov_len = pad;
	return v;
}

/* Zeros a group that grows the file carries after its records (see
 * STORE_PREALLOC_CARRY), up to a page boundary and never past the
 * segment's size limit (but for the rest of the last block). Their byte
 * count. */
static uint64_t group_carry(struct store *st, uint64_t end)
{
	const struct store_segment *seg = &st->seg;
	uint64_t max = st->tuning.segment_max;
	if (end <= seg->alloc || end >= max || st->tuning.prealloc_carry == 0)
		return 0;
	uint64_t to = round_page(end + st->tuning.prealloc_carry);
	if (to > max)
		to = max;
	return to - end;
}

/* The group's rows and the new applied position in one transaction. A
 * delivery that cannot be indexed (its folder went away between the UID
 * and now) fails alone, exactly as its replay would skip it; any SQLite
 * error fails the whole group. */
static int group_index(struct store *st, struct store_group *g,
		       struct err *err)
{
	struct store_conn *c = st->writer;
	store_checkpoint_finish(st);
	if (store_exec(c, STMT_BEGIN, err) < 0)
		return -1;
	for (size_t i = 0; i < g->n; i++) {
		struct store_rec *r = &g->rec[i];
		if (r->kind == 0)
			continue;
		struct store_delivery *d = g->d[i];
		const struct store_rec_rcpt *rcpt = &g->rcpt[g->rcpt_at[i]];
		const char *why;
		struct store_append_req *a = d->append_;
		int res = store_log_apply(c, r, rcpt,
					  a != NULL ? a->ext_ : d->qext_, &why,
					  err);
		if (res < 0)
			goto fail;
		if (res == 1) {
			d->seq_ = r->seq;
			if (d->uids_out != NULL)
				for (uint32_t k = 0; k < r->n_rcpt; k++)
					d->uids_out[k] = rcpt[k].uid;
			if (a != NULL) {
				a->uid = rcpt[0].uid;
				a->uidvalidity = rcpt[0].uidvalidity;
				a->modseq = rcpt[0].modseq;
				if (a->meta != NULL &&
				    store_meta_put_row(c, rcpt[0].folder_id,
						       rcpt[0].uid, a->meta,
						       a->meta_len, err) < 0)
					goto fail;
			} else if (d->meta != NULL && d->meta_len <= STORE_META_MAX &&
				   r->n_rcpt > 0 &&
				   store_meta_put_row(c, rcpt[0].folder_id, rcpt[0].uid,
						      d->meta, d->meta_len, err) < 0) {
				/* one row per blob: every recipient shares it */
				goto fail;
			}
			continue;
		}
		if (res == 2)
			why = "its place in the log is indexed already";
		log_warn("store", NULL, "op=deliver seq=%llu error=\"%s\"",
			 (unsigned long long)r->seq, why);
		d->rc = -1;
		err_set(&d->err, ERR_NOTFOUND, 451, "4.3.0",
			"store: cannot index the message: %s", why);
	}
	struct store_log_pos end = { .segment = st->seg.id,
				     .offset = st->seg.end,
				     .seq = st->next_seq - 1 };
	if (store_log_applied_set(c, &end, err) < 0 ||
	    store_exec(c, STMT_COMMIT, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(c);
	return -1;
}

/* Log the group, sync it, index it. On return each delivery's rc/err say
 * how it went. */
static void group_commit(struct store *st, struct store_group *g)
{
	struct err err;
	err_clear(&err);
	for (size_t i = 0; i < g->n; i++)
		g->d[i]->rc = 0;
	if (st->abort.pending && abort_resolve(st, &err) < 0) {
		fail_all(g, &err);
		return;
	}
	size_t n_logged;
	if (group_assign(st, g, &n_logged, &err) < 0) {
		fail_all(g, &err);
		return;
	}
	if (n_logged == 0)
		return;
	uint64_t bytes = 0;
	size_t pre_bytes = 0;
	if (group_size(g, &bytes, &pre_bytes, &err) < 0 ||
	    segment_ready(st, bytes, &err) < 0) {
		fail_logged(g, &err);
		return;
	}
	unsigned char *wb = wbuf(st, &err);
	if (wb == NULL) {
		fail_logged(g, &err);
		return;
	}
	unsigned char *tail = wb + STORE_WBUF_SIZE;
	uint64_t start = st->seg.end;
	uint64_t first = st->next_seq, last = first + n_logged - 1;
	size_t iovcnt = group_encode(st, g, start, pre_bytes);
	uint64_t carry = group_carry(st, start + bytes);
	uint64_t rec_end = 0, to = 0;
	int inj;
	if (store_segment_put(&st->seg, wb, g->iov, iovcnt, carry, tail,
			      &rec_end, &to, &err) < 0 ||
	    ((inj = hook(st, STORE_HOOK_WRITE)) != 0 &&
	     store_sys_fail(&err, "write segment", inj) < 0)) {
		/* A full disk or a size limit: take the bytes back (zeros
		 * or a shorter file, synced) and nothing is left to void;
		 * the sequence numbers are given again. */
		struct err rerr;
		if (store_segment_rewind(&st->seg, start, bytes + carry,
					 &rerr) < 0)
			log_abort(st, first, last, true);
		fail_logged(g, &err);
		return;
	}
	if (fdatasync(st->seg.fd) < 0) {
		/* After a failed sync the kernel may have dropped the dirty
		 * pages and marked them clean: nothing more goes into this
		 * file (log_abort retires it). */
		store_sys_fail(&err, "sync segment", errno);
		log_abort(st, first, last, true);
		fail_logged(g, &err);
		return;
	}
	if ((inj = hook(st, STORE_HOOK_SYNC)) != 0) {
		store_sys_fail(&err, "sync segment", inj);
		log_abort(st, first, last, true);
		fail_logged(g, &err);
		return;
	}
	/* Durable: from here on these records are part of the log. */
	assert(rec_end == start + bytes);
	store_segment_advance(&st->seg, rec_end, to, tail);
	st->next_seq = last + 1;
	if ((inj = hook(st, STORE_HOOK_SYNCED)) != 0) {
		err_set(&err, ERR_ENV, 451, "4.3.0",
			"store: index group: injected failure %d", inj);
		log_abort(st, first, last, false);
		fail_logged(g, &err);
		return;
	}
	if (group_index(st, g, &err) < 0) {
		log_abort(st, first, last, false);
		fail_logged(g, &err);
	}
}

static bool queue_busy(struct store *st)
{
	pthread_mutex_lock(&st->q_mu);
	bool busy = st->q_head != NULL || st->j_head != NULL || st->closing;
	pthread_mutex_unlock(&st->q_mu);
	return busy;
}

/* When the queue is empty: finish a pending abort, and keep a chunk of
 * zeroed, synced space ahead of the append position so that the next
 * groups only overwrite blocks. Written a step at a time: a delivery that
 * arrives meanwhile ends the work (what is written is synced and kept).
 * A failure here costs the next groups only an append, and is logged. */
static void committer_idle(struct store *st)
{
	struct err err;
	if (st->abort.pending && abort_resolve(st, &err) < 0)
		return;
	struct store_segment *seg = &st->seg;
	uint64_t max = st->tuning.segment_max;
	if (st->prealloc_wait > 0)
		st->prealloc_wait--;
	if (st->prealloc_wait > 0 || seg->fd < 0 || seg->retire ||
	    seg->alloc >= max ||
	    (seg->alloc > seg->end &&
	     seg->alloc - seg->end >= st->tuning.prealloc_low))
		return;
	int inj = hook(st, STORE_HOOK_EXTEND);
	/* from the block after the one that holds the end of the log: that
	 * one is the next group's to write (and O_DIRECT writes blocks) */
	uint64_t from = round_page(seg->alloc > seg->end ? seg->alloc
							 : seg->end);
	uint64_t target = round_page(from + st->tuning.prealloc_chunk);
	if (target > max)
		target = max > from ? max : from;
	uint64_t at = from;
	int failed = inj;
	while (failed == 0 && at < target) {
		uint64_t step = target - at < STORE_PREALLOC_STEP
					? target - at
					: STORE_PREALLOC_STEP;
		if (store_segment_zero(seg, at, at + step, &err) < 0) {
			failed = EIO;	/* logged by the write */
			break;
		}
		at += step;
		if (queue_busy(st))
			break;
	}
	if (failed != 0) {
		/* what was written is kept below; later groups append */
		st->prealloc_wait = STORE_PREALLOC_BACKOFF;
		log_warn("store", NULL, "op=prealloc segment=%u error=\"%s\" "
			 "retry-after-groups=%u", (unsigned)seg->id,
			 inj != 0 ? strerror(inj) : err.msg,
			 STORE_PREALLOC_BACKOFF);
	}
	if (at == from)
		return;
	if (fdatasync(seg->fd) < 0) {
		/* the kernel may have dropped pages of this file: do not
		 * put records in it any more */
		seg->retire = true;
		store_sys_fail(&err, "sync segment extension", errno);
		return;
	}
	seg->alloc = at;
}

void store_committer_prealloc(struct store *st)
{
	committer_idle(st);
}

/* The folders a group gave messages to, each once, for the watchers. */
static void group_notify(struct store *st, struct store_group *g)
{
	if (atomic_load(&st->n_watch) == 0)
		return;
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++) {
		if (g->rec[i].kind == 0 || g->d[i]->rc != 0)
			continue;
		for (uint32_t k = 0; k < g->rec[i].n_rcpt; k++) {
			if (n == st->touched_cap) {
				st->touched_cap = n ? 2 * n : 64;
				st->touched = xreallocarray(st->touched,
							    st->touched_cap,
							    sizeof *st->touched);
			}
			const struct store_rec_rcpt *r =
				&g->rcpt[g->rcpt_at[i] + k];
			st->touched[n++] = (struct store_touch){
				r->mailbox_id, r->folder_id };
		}
	}
	if (n > 1) {
		qsort(st->touched, n, sizeof *st->touched, touch_cmp);
		size_t u = 1;
		for (size_t i = 1; i < n; i++)
			if (touch_cmp(&st->touched[i], &st->touched[u - 1]) != 0)
				st->touched[u++] = st->touched[i];
		n = u;
	}
	store_watch_notify(st, st->touched, n);
}

/* One group of deliveries: called and returns with q_mu held. */
static void committer_group(struct store *st)
{
	struct store_group *g = &st->group;
	st->hook = st->q_hook;
	st->hook_arg = st->q_hook_arg;
	if (st->hook != NULL) {
		pthread_mutex_unlock(&st->q_mu);
		(void)hook(st, STORE_HOOK_TAKE); /* a pause, no result */
		pthread_mutex_lock(&st->q_mu);
	}

	/* Take what is queued, up to the group bounds; always at least
	 * one delivery, however large. */
	uint64_t bytes = 0;
	size_t rcpts = 0;
	g->n = 0;
	while (st->q_head != NULL && g->n < STORE_GROUP_MAX_MSGS) {
		struct store_delivery *d = st->q_head;
		if (g->n > 0 && (bytes >= STORE_GROUP_MAX_BYTES ||
				 d->len > STORE_GROUP_MAX_BYTES - bytes ||
				 rcpts >= STORE_GROUP_MAX_RCPTS ||
				 d->n_mailboxes > STORE_GROUP_MAX_RCPTS - rcpts))
			break;
		bytes += d->len;
		rcpts += d->n_mailboxes;
		st->q_head = d->next_;
		d->next_ = NULL;
		g->d[g->n++] = d;
	}
	if (st->q_head == NULL)
		st->q_tail = NULL;
	pthread_mutex_unlock(&st->q_mu);

	group_commit(st, g);

	uint64_t ok = 0, ok_bytes = 0;
	const char *why = "";
	for (size_t i = 0; i < g->n; i++) {
		if (g->d[i]->rc == 0) {
			ok++;
			ok_bytes += g->d[i]->len;
		} else if (why[0] == '\0') {
			why = g->d[i]->err.msg;
		}
	}
	if (ok < g->n)
		log_warn("store", NULL, "op=group-commit msgs=%zu failed=%llu "
			 "error=\"%s\"", g->n, (unsigned long long)(g->n - ok),
			 why);
	else
		log_debug("store", NULL, "op=group-commit msgs=%zu bytes=%llu",
			  g->n, (unsigned long long)ok_bytes);
	if (ok > 0)
		group_notify(st, g);

	/* stats before done(), so that a woken waiter sees them */
	pthread_mutex_lock(&st->q_mu);
	if (ok > 0)
		st->stats.groups++;
	st->stats.deliveries += ok;
	st->stats.failures += g->n - ok;
	st->stats.bytes += ok_bytes;
	pthread_mutex_unlock(&st->q_mu);

	bool queued = false;
	for (size_t i = 0; i < g->n; i++) {
		struct store_delivery *d = g->d[i];
		if (d->qext_ != NULL) {
			queued |= d->rc == 0 && !d->quarantine_;
			free(d->qext_);
			d->qext_ = NULL;
		}
	}
	if (queued) {
		pthread_mutex_lock(&st->q_mu);
		void (*notify)(void *) = st->queue_notify;
		void *notify_arg = st->queue_notify_arg;
		pthread_mutex_unlock(&st->q_mu);
		if (notify != NULL)
			notify(notify_arg);
	}

	/* the caller may free d from done(): do not touch it after */
	for (size_t i = 0; i < g->n; i++)
		if (g->d[i]->done != NULL)
			g->d[i]->done(g->d[i]);
	g->n = 0;
	pthread_mutex_lock(&st->q_mu);
}

/* The queued mutation jobs: called and returns with q_mu held. */
static void committer_jobs(struct store *st)
{
	struct store_job *batch = st->j_head, *last = batch;
	for (size_t n = 1; n < STORE_JOB_BATCH_MAX && last->next != NULL; n++)
		last = last->next;
	st->j_head = last->next;
	if (st->j_head == NULL)
		st->j_tail = NULL;
	last->next = NULL;
	pthread_mutex_unlock(&st->q_mu);
	struct err err;
	if (st->abort.pending && abort_resolve(st, &err) < 0)
		log_warn("store", NULL, "op=jobs error=\"%s\"", err.msg);
	store_jobs_run(st, batch);
	pthread_mutex_lock(&st->q_mu);
}

static void *committer_main(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->q_mu);
	for (;;) {
		while (st->q_head == NULL && st->j_head == NULL && !st->closing)
			pthread_cond_wait(&st->q_cv, &st->q_mu);
		if (st->q_head == NULL && st->j_head == NULL)
			break;	/* closing and drained */
		/* Deliveries first, then the jobs queued meanwhile: a job
		 * never waits for more than one group. */
		if (st->q_head != NULL)
			committer_group(st);
		if (st->j_head != NULL)
			committer_jobs(st);
		if (st->q_head == NULL && st->j_head == NULL && !st->closing) {
			pthread_mutex_unlock(&st->q_mu);
			committer_idle(st);
			pthread_mutex_lock(&st->q_mu);
		}
	}
	pthread_mutex_unlock(&st->q_mu);
	return NULL;
}

int store_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg,
		       const char *name, struct err *err)
{
	/* Signals are for the daemon's main thread; block them here. A
	 * file-size limit then shows up as EFBIG, like any write error. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return store_sys_fail(err, "start a store thread", rc);
	/* only a name for ps/gdb; failure changes nothing */
	(void)pthread_setname_np(*thread, name);
	return 0;
}

int store_committer_start(struct store *st, struct err *err)
{
	if (store_thread_start(&st->committer, committer_main, st,
			       "petrel-commit", err) < 0)
		return -1;
	st->committer_running = true;
	return 0;
}

void store_committer_stop(struct store *st)
{
	pthread_mutex_lock(&st->q_mu);
	st->closing = true;
	pthread_cond_broadcast(&st->q_cv);
	pthread_mutex_unlock(&st->q_mu);
	if (!st->committer_running)
		return;
	int rc = pthread_join(st->committer, NULL);
	if (rc != 0)
		log_error("store", NULL, "op=join-committer error=\"%s\"",
			  strerror(rc));
	st->committer_running = false;
	/* the thread is gone: its state is ours for a last try */
	struct err err;
	if (st->abort.pending && abort_resolve(st, &err) < 0)
		log_error("store", NULL, "op=close error=\"abort record of "
			  "%llu..%llu is not durable: they may be stored "
			  "although they got 451\"",
			  (unsigned long long)st->abort.first,
			  (unsigned long long)st->abort.last);
}
