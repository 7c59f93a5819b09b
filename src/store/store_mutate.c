/* store_mutate.c - what IMAP and POP3 change in existing mail: expunge,
 * flags and keywords (with CONDSTORE's UNCHANGEDSINCE), copy and move.
 * Each is a committer job (store_job.c): it runs on the committer's
 * connection between delivery groups, so the UIDNEXT and HIGHESTMODSEQ
 * it reads are the ones the next group will continue from. Folder
 * operations are in store_folder.c, APPEND in store_append.c.
 */
#include "store/store_private.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* The highest UID a message may get (as in store_commit.c). */
#define STORE_UID_MAX 4294967294u

/* ---- rows ----------------------------------------------------------------- */

struct folder_state {
	int64_t id;
	int64_t mailbox_id;
	uint32_t uidvalidity;
	uint64_t uidnext;
	uint64_t modseq;	/* HIGHESTMODSEQ */
	int special;
};

/* 1 and *out, 0 no such folder, -1 error. */
static int folder_state(struct store_conn *c, int64_t folder_id,
			struct folder_state *out, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_STATE, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, folder_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int64_t next = sqlite3_column_int64(s, 2);
		int64_t ms = sqlite3_column_int64(s, 3);
		*out = (struct folder_state){
			.id = folder_id,
			.mailbox_id = sqlite3_column_int64(s, 0),
			.uidvalidity = (uint32_t)sqlite3_column_int64(s, 1),
			.uidnext = next > 0 ? (uint64_t)next : 1,
			.modseq = ms > 0 ? (uint64_t)ms : 0,
			.special = sqlite3_column_int(s, 4),
		};
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, c, "read folder");
}

static int folder_need(struct store_conn *c, int64_t folder_id,
		       struct folder_state *out, struct err *err)
{
	int found = folder_state(c, folder_id, out, err);
	if (found == 0)
		return err_set(err, ERR_NOTFOUND, 0, "", "no such folder");
	return found < 0 ? -1 : 0;
}

struct msg_row {
	int64_t id;
	int64_t blob_id;
	int64_t size;
	uint32_t flags;
	uint64_t keywords;
	uint64_t modseq;
	int64_t internal_date;
};

/* 1 and *out, 0 no such UID, -1 error. */
static int message_get(struct store_conn *c, int64_t folder_id, uint32_t uid,
		       struct msg_row *out, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_MESSAGE_GET, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, folder_id);
	sqlite3_bind_int64(s, 2, uid);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = (struct msg_row){
			.id = sqlite3_column_int64(s, 0),
			.blob_id = sqlite3_column_int64(s, 1),
			.size = sqlite3_column_int64(s, 2),
			.flags = (uint32_t)sqlite3_column_int64(s, 3),
			.keywords = (uint64_t)sqlite3_column_int64(s, 4),
			.modseq = (uint64_t)sqlite3_column_int64(s, 5),
			.internal_date = sqlite3_column_int64(s, 6),
		};
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, c, "read message");
}

static int set_modseq(struct store_conn *c, int64_t folder_id,
		      uint64_t modseq, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_SET_MODSEQ, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, folder_id);
	sqlite3_bind_int64(s, 2, (int64_t)modseq);
	return store_step_done(c, s, "update folder modseq", err);
}

static int add_used(struct store_conn *c, int64_t mailbox_id, int64_t delta,
		    struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_USED, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_int64(s, 2, delta);
	return store_step_done(c, s, "update used bytes", err);
}

static int blob_ref(struct store_conn *c, int64_t blob_id, int delta,
		    struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_BLOB_REF, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, blob_id);
	sqlite3_bind_int(s, 2, delta);
	return store_step_done(c, s, "update blob refcount", err);
}

/* ---- expunge ---------------------------------------------------------------- */

/* Inside a job: remove the existing messages of uids from folder f (its
 * state read in this transaction), one new modseq for all of them
 * (*modseq_out, 0 if none existed). */
static int expunge_uids(struct store_conn *c, const struct folder_state *f,
			const uint32_t *uids, size_t n, uint64_t *modseq_out,
			struct err *err)
{
	uint64_t modseq = f->modseq + 1;
	int64_t bytes = 0;
	size_t removed = 0;
	for (size_t i = 0; i < n; i++) {
		struct msg_row m = { 0 };
		int found = message_get(c, f->id, uids[i], &m, err);
		if (found < 0)
			return -1;
		if (found == 0)
			continue;	/* gone already, or never was */
		sqlite3_stmt *s = store_stmt(c, STMT_MESSAGE_DELETE, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, m.id);
		if (store_step_done(c, s, "delete message", err) < 0 ||
		    blob_ref(c, m.blob_id, -1, err) < 0)
			return -1;
		s = store_stmt(c, STMT_EXPUNGED_ADD, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, f->id);
		sqlite3_bind_int64(s, 2, uids[i]);
		sqlite3_bind_int64(s, 3, (int64_t)modseq);
		if (store_step_done(c, s, "record expunged UID", err) < 0)
			return -1;
		bytes += m.size;	/* sizes are < 2^33 each, rows < 2^32 */
		removed++;
	}
	*modseq_out = 0;
	if (removed == 0)
		return 0;
	if (set_modseq(c, f->id, modseq, err) < 0 ||
	    add_used(c, f->mailbox_id, -bytes, err) < 0)
		return -1;
	*modseq_out = modseq;
	return 0;
}

struct expunge_job {
	struct store_job job;	/* first: the job is the struct */
	int64_t folder_id;
	const uint32_t *uids;
	size_t n;
	uint64_t modseq;
};

static int expunge_run(struct store *st, struct store_job *j, struct err *err)
{
	struct expunge_job *x = (struct expunge_job *)j;
	struct folder_state f = { 0 };
	if (folder_need(st->writer, x->folder_id, &f, err) < 0 ||
	    expunge_uids(st->writer, &f, x->uids, x->n, &x->modseq, err) < 0)
		return -1;
	if (x->modseq != 0)
		store_job_touch(j, f.mailbox_id, f.id);
	return 0;
}

int store_expunge(struct store *st, int64_t folder_id, const uint32_t *uids,
		  size_t n, uint64_t *modseq_out, struct err *err)
{
	if (modseq_out != NULL)
		*modseq_out = 0;
	if (n == 0)
		return 0;
	struct expunge_job x = {
		.job = { .run = expunge_run, .durable = true },
		.folder_id = folder_id, .uids = uids, .n = n,
	};
	if (store_job_wait(st, &x.job, err) < 0)
		return -1;
	if (modseq_out != NULL)
		*modseq_out = x.modseq;
	if (x.modseq != 0)
		log_debug("store", NULL, "op=expunge folder=%lld modseq=%llu",
			  (long long)folder_id, (unsigned long long)x.modseq);
	return 0;
}

/* ---- keywords ------------------------------------------------------------- */

/* A keyword (RFC 9051 flag-keyword): an atom, so no atom-specials
 * ("(" ")" "{" SP CTL "%" "*" DQUOTE "\\" "]") and no 8-bit, 1 to
 * STORE_KEYWORD_LEN bytes; a leading '\\' would be a system flag. */
static int keyword_check(const char *name, struct err *err)
{
	size_t n = strnlen(name, STORE_KEYWORD_LEN + 1);
	if (n == 0 || n > STORE_KEYWORD_LEN)
		return err_set(err, ERR_PEER, 0, "",
			       "a keyword is 1 to %d characters",
			       STORE_KEYWORD_LEN);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch))
			return err_set(err, ERR_PEER, 0, "",
				       "a keyword must be an atom");
	}
	return 0;
}

int store_keyword_bit(struct store_conn *c, int64_t mailbox_id,
		      const char *name, size_t len, bool create,
		      unsigned *bit_out, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_KEYWORD_FIND, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_text(s, 2, name, (int)len, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	int64_t bit = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(err, c, "find keyword");
	if (rc == SQLITE_DONE) {
		if (!create)
			return 0;
		s = store_stmt(c, STMT_KEYWORD_ADD, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, mailbox_id);
		sqlite3_bind_text(s, 2, name, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(s);
		bit = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
		int rc2 = rc == SQLITE_ROW ? sqlite3_step(s) : rc;
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc == SQLITE_CONSTRAINT_CHECK)
			return 0;	/* the 65th */
		if (rc != SQLITE_ROW || rc2 != SQLITE_DONE)
			return store_db_fail(err, c, "add keyword");
	}
	if (bit < 0 || bit >= STORE_KEYWORDS_MAX)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: keyword bit %lld out of range",
			       (long long)bit);
	*bit_out = (unsigned)bit;
	return 1;
}

int store_keywords_get(struct store *st, int64_t mailbox_id,
		       struct store_keywords *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_KEYWORD_EACH, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mailbox_id);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t bit = sqlite3_column_int64(s, 0);
			const unsigned char *name = sqlite3_column_text(s, 1);
			int len = sqlite3_column_bytes(s, 1);
			if (bit < 0 || bit >= STORE_KEYWORDS_MAX || name == NULL ||
			    len <= 0 || len > STORE_KEYWORD_LEN)
				continue;	/* not ours to show */
			memcpy(out->name[bit], name, (size_t)len);
			out->name[bit][len] = '\0';
			out->defined |= (uint64_t)1 << bit;
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "list keywords");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

/* ---- flags ---------------------------------------------------------------- */

struct flags_job {
	struct store_job job;
	int64_t folder_id;
	const uint32_t *uids;
	size_t n;
	enum store_flags_op op;
	uint32_t flags;
	const char *const *keywords;
	size_t n_keywords;
	uint64_t unchanged_since;
	struct store_flags_result *results;	/* may be NULL */
};

static int flags_run(struct store *st, struct store_job *j, struct err *err)
{
	struct flags_job *x = (struct flags_job *)j;
	struct store_conn *c = st->writer;
	struct folder_state f = { 0 };
	if (folder_need(c, x->folder_id, &f, err) < 0)
		return -1;
	/* the keyword bits: new names are added for SET and ADD; removing a
	 * name the mailbox never had removes nothing */
	uint64_t kw = 0;
	for (size_t i = 0; i < x->n_keywords; i++) {
		unsigned bit;
		int got = store_keyword_bit(c, f.mailbox_id, x->keywords[i],
					    strlen(x->keywords[i]),
					    x->op != STORE_FLAGS_REMOVE, &bit,
					    err);
		if (got < 0)
			return -1;
		if (got == 0 && x->op != STORE_FLAGS_REMOVE)
			return err_set(err, ERR_LIMIT, 0, "",
				       "a mailbox has at most %d keywords",
				       STORE_KEYWORDS_MAX);
		if (got == 1)
			kw |= (uint64_t)1 << bit;
	}
	uint32_t fl = x->flags & STORE_FLAGS_STORED;
	uint64_t modseq = f.modseq;
	for (size_t i = 0; i < x->n; i++) {
		struct store_flags_result r = { .uid = x->uids[i] };
		struct msg_row m = { 0 };
		int found = message_get(c, f.id, x->uids[i], &m, err);
		if (found < 0)
			return -1;
		if (found == 0) {
			r.status = STORE_FLAGS_NOSUCH;
		} else {
			uint32_t nf = m.flags;
			uint64_t nk = m.keywords;
			switch (x->op) {
			case STORE_FLAGS_SET:
				nf = fl;
				nk = kw;
				break;
			case STORE_FLAGS_ADD:
				nf |= fl;
				nk |= kw;
				break;
			case STORE_FLAGS_REMOVE:
				nf &= ~fl;
				nk &= ~kw;
				break;
			}
			r.flags = m.flags;
			r.keywords = m.keywords;
			r.modseq = m.modseq;
			if (x->unchanged_since != 0 &&
			    m.modseq > x->unchanged_since) {
				r.status = STORE_FLAGS_MODIFIED;
			} else if (nf == m.flags && nk == m.keywords) {
				r.status = STORE_FLAGS_SAME;
			} else {
				/* RFC 7162 3.1: a new modseq per change,
				 * above every one the folder gave */
				sqlite3_stmt *s = store_stmt(
					c, STMT_MESSAGE_SET_FLAGS, err);
				if (s == NULL)
					return -1;
				sqlite3_bind_int64(s, 1, m.id);
				sqlite3_bind_int64(s, 2, nf);
				sqlite3_bind_int64(s, 3, (int64_t)nk);
				sqlite3_bind_int64(s, 4, (int64_t)++modseq);
				if (store_step_done(c, s, "update flags", err) < 0)
					return -1;
				r = (struct store_flags_result){
					.uid = x->uids[i],
					.status = STORE_FLAGS_CHANGED,
					.flags = nf, .keywords = nk,
					.modseq = modseq,
				};
			}
		}
		if (x->results != NULL)
			x->results[i] = r;
	}
	if (modseq != f.modseq) {
		if (set_modseq(c, f.id, modseq, err) < 0)
			return -1;
		store_job_touch(j, f.mailbox_id, f.id);
	}
	return 0;
}

int store_flags_update(struct store *st, int64_t folder_id,
		       const uint32_t *uids, size_t n, enum store_flags_op op,
		       uint32_t flags, const char *const *keywords,
		       size_t n_keywords, uint64_t unchanged_since,
		       struct store_flags_result *results, struct err *err)
{
	if (op != STORE_FLAGS_SET && op != STORE_FLAGS_ADD &&
	    op != STORE_FLAGS_REMOVE)
		return err_set(err, ERR_PEER, 0, "", "unknown flag operation");
	if (n_keywords > STORE_KEYWORDS_MAX)
		return err_set(err, ERR_LIMIT, 0, "",
			       "a mailbox has at most %d keywords",
			       STORE_KEYWORDS_MAX);
	for (size_t i = 0; i < n_keywords; i++)
		if (keyword_check(keywords[i], err) < 0)
			return -1;
	if (unchanged_since > (uint64_t)INT64_MAX)
		unchanged_since = 0;	/* nothing can be newer: no test */
	if (n == 0)
		return 0;
	struct flags_job x = {
		.job = { .run = flags_run, .durable = true },
		.folder_id = folder_id, .uids = uids, .n = n, .op = op,
		.flags = flags, .keywords = keywords, .n_keywords = n_keywords,
		.unchanged_since = unchanged_since, .results = results,
	};
	return store_job_wait(st, &x.job, err);
}

/* ---- copy and move -------------------------------------------------------- */

struct copy_job {
	struct store_job job;
	int64_t src, dst;
	const uint32_t *uids;
	size_t n;
	bool move;
	uint32_t *uid_map;	/* may be NULL */
	bool *moved_from;	/* move: n, true where uids[i] was copied */
	uint32_t uidvalidity;
	uint64_t modseq;	/* move: the source's expunge */
};

/* Bytes of the existing messages of uids in folder, for the quota. */
static int sum_sizes(struct store_conn *c, int64_t folder,
		     const uint32_t *uids, size_t n, int64_t *out,
		     struct err *err)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		struct msg_row m = { 0 };
		int found = message_get(c, folder, uids[i], &m, err);
		if (found < 0)
			return -1;
		if (found == 1 && __builtin_add_overflow(sum, m.size, &sum))
			return err_set(err, ERR_LIMIT, 0, "", "too large");
	}
	*out = sum;
	return 0;
}

static int quota_check(struct store_conn *c, int64_t mailbox_id, int64_t add,
		       struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_MAILBOX_QUOTA, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	int rc = sqlite3_step(s);
	int64_t quota = sqlite3_column_int64(s, 0);
	int64_t used = sqlite3_column_int64(s, 1);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "read quota");
	if (quota > 0 && (used >= quota || add > quota - used))
		return err_set(err, ERR_LIMIT, 552, "5.2.2",
			       "the mailbox is full");
	return 0;
}

static int copy_run(struct store *st, struct store_job *j, struct err *err)
{
	struct copy_job *x = (struct copy_job *)j;
	struct store_conn *c = st->writer;
	struct folder_state f = { 0 }, d = { 0 };
	if (folder_need(c, x->src, &f, err) < 0 ||
	    folder_need(c, x->dst, &d, err) < 0)
		return -1;
	if (f.mailbox_id != d.mailbox_id)
		return err_set(err, ERR_PEER, 0, "",
			       "folders of another mailbox");
	x->uidvalidity = d.uidvalidity;
	int64_t bytes = 0;
	if (!x->move &&
	    (sum_sizes(c, f.id, x->uids, x->n, &bytes, err) < 0 ||
	     quota_check(c, d.mailbox_id, bytes, err) < 0))
		return -1;
	uint64_t uidnext = d.uidnext, modseq = d.modseq;
	size_t copied = 0;
	int64_t copied_bytes = 0;
	for (size_t i = 0; i < x->n; i++) {
		if (x->uid_map != NULL)
			x->uid_map[i] = 0;
		struct msg_row m = { 0 };
		int found = message_get(c, f.id, x->uids[i], &m, err);
		if (found < 0)
			return -1;
		/* also a UID given twice, when src is dst: copied once */
		if (found == 0 || (f.id == d.id && x->uids[i] >= d.uidnext))
			continue;
		if (uidnext > STORE_UID_MAX)
			return err_set(err, ERR_LIMIT, 0, "",
				       "[LIMIT] the folder has no UIDs left");
		sqlite3_stmt *s = store_stmt(c, STMT_MESSAGE_COPY, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, d.id);
		sqlite3_bind_int64(s, 2, (int64_t)uidnext);
		sqlite3_bind_int64(s, 3, m.blob_id);
		sqlite3_bind_int64(s, 4, m.size);
		sqlite3_bind_int64(s, 5, m.internal_date);
		sqlite3_bind_int64(s, 6, m.flags);
		sqlite3_bind_int64(s, 7, (int64_t)m.keywords);
		sqlite3_bind_int64(s, 8, (int64_t)++modseq);
		int rc = sqlite3_step(s);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc == SQLITE_CONSTRAINT_UNIQUE)
			/* a UID the committer never gave is taken */
			return err_set(err, ERR_ENV, 451, "4.3.0",
				       "store: UID %llu of folder %lld is "
				       "taken", (unsigned long long)uidnext,
				       (long long)d.id);
		if (rc != SQLITE_DONE)
			return store_db_fail(err, c, "copy message");
		if (blob_ref(c, m.blob_id, 1, err) < 0)
			return -1;
		if (x->uid_map != NULL)
			x->uid_map[i] = (uint32_t)uidnext;
		if (x->moved_from != NULL)
			x->moved_from[i] = true;
		uidnext++;
		copied++;
		copied_bytes += m.size;	/* < 2^33 each, < 2^32 of them */
	}
	if (copied == 0)
		return 0;
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_ADVANCE, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, d.id);
	sqlite3_bind_int64(s, 2, d.mailbox_id);
	sqlite3_bind_int64(s, 3, d.uidvalidity);
	sqlite3_bind_int64(s, 4, (int64_t)uidnext - 1);
	sqlite3_bind_int64(s, 5, (int64_t)modseq);
	if (store_step_done(c, s, "advance folder", err) < 0)
		return -1;
	store_job_touch(j, d.mailbox_id, d.id);
	/* the copies count like any message; a move's expunge below takes
	 * the originals off again */
	if (add_used(c, d.mailbox_id, copied_bytes, err) < 0)
		return -1;
	if (!x->move)
		return 0;
	/* The expunge half: exactly the UIDs that were copied (when src is
	 * dst, a UID asked for may now be one of the new copies), with the
	 * source's state as the copy left it. */
	uint32_t *moved = xcalloc(copied, sizeof *moved);
	size_t k = 0;
	for (size_t i = 0; i < x->n; i++)
		if (x->moved_from[i])
			moved[k++] = x->uids[i];
	int rc = folder_need(c, f.id, &f, err) < 0 ||
				 expunge_uids(c, &f, moved, k, &x->modseq,
					      err) < 0
			 ? -1
			 : 0;
	free(moved);
	if (rc == 0)
		store_job_touch(j, f.mailbox_id, f.id);
	return rc;
}

static int copy_or_move(struct store *st, int64_t src, const uint32_t *uids,
			size_t n, int64_t dst, bool move, uint32_t *uid_map_out,
			uint32_t *uidvalidity_out, uint64_t *modseq_out,
			struct err *err)
{
	if (modseq_out != NULL)
		*modseq_out = 0;
	if (n == 0) {
		if (uidvalidity_out != NULL)
			*uidvalidity_out = 0;
		return 0;
	}
	struct copy_job x = {
		.job = { .run = copy_run, .durable = true },
		.src = src, .dst = dst, .uids = uids, .n = n, .move = move,
		.uid_map = uid_map_out,
		.moved_from = move ? xcalloc(n, sizeof(bool)) : NULL,
	};
	int rc = store_job_wait(st, &x.job, err);
	free(x.moved_from);
	if (rc < 0)
		return -1;
	if (uidvalidity_out != NULL)
		*uidvalidity_out = x.uidvalidity;
	if (modseq_out != NULL)
		*modseq_out = x.modseq;
	return 0;
}

int store_copy(struct store *st, int64_t src_folder, const uint32_t *uids,
	       size_t n, int64_t dst_folder, uint32_t *uid_map_out,
	       uint32_t *uidvalidity_out, struct err *err)
{
	return copy_or_move(st, src_folder, uids, n, dst_folder, false,
			    uid_map_out, uidvalidity_out, NULL, err);
}

int store_move(struct store *st, int64_t src_folder, const uint32_t *uids,
	       size_t n, int64_t dst_folder, uint32_t *uid_map_out,
	       uint32_t *uidvalidity_out, uint64_t *modseq_out,
	       struct err *err)
{
	return copy_or_move(st, src_folder, uids, n, dst_folder, true,
			    uid_map_out, uidvalidity_out, modseq_out, err);
}
