/* store_quar.c - the quarantine (table quarantine, decision 0040): held
 * messages as log records of kind "quarantine" whose ext bytes carry
 * the entry (so the group commit makes them durable and replay restores
 * them, as for the outbound queue), the rows those records make, and
 * what administrators and recipients do with them: list, read, release
 * into INBOX (a committer job: one transaction moves the blob's
 * reference from the entry to a new INBOX message), delete and expire.
 * Statements other than the committer's shared ones are prepared per
 * call: quarantine changes are rare next to deliveries. */
#include "store/store_private.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* The highest UID a message may get (as in store_commit.c). */
#define QUAR_UID_MAX 4294967294u

/* ---- the entry as record bytes --------------------------------------------
 *
 *   0 8 mailbox id    8 8 expires    16 8 score in thousandths (signed)
 *  24 then six strings, each 2 bytes length and the bytes: address,
 *     domain, sender, subject, symbols, reason
 * Integers little-endian. Lengths are checked against the record's end
 * and each field's maximum on decode.
 */
#define QEXT_FIXED 24
#define QEXT_NSTR 6

static const size_t str_max[QEXT_NSTR] = {
	STORE_ADDR_MAX, SMTP_DOMAIN_MAX, STORE_ADDR_MAX,
	STORE_QUAR_SUBJECT_MAX, STORE_QUAR_SYMBOLS_MAX, STORE_QUAR_REASON_MAX,
};

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* s cut to at most max octets (not inside a UTF-8 sequence) with control
 * characters as '?', into out (max + 1 bytes); its length. */
static size_t clean(const char *s, size_t max, char *out)
{
	size_t n = s != NULL ? strnlen(s, max + 1) : 0;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
	return n;
}

static int64_t score_milli(double score)
{
	if (score != score)	/* NaN */
		return 0;
	if (score > 1e12)
		score = 1e12;
	if (score < -1e12)
		score = -1e12;
	/* rounded half away from zero, without libm */
	return (int64_t)(score * 1000.0 + (score < 0 ? -0.5 : 0.5));
}

/* The entry's ext bytes into q->d_.qext_ (malloc'd). */
static void ext_encode(struct store_quarantine_req *q,
		       const struct store_quarantine_entry *e)
{
	const char *strs[QEXT_NSTR] = { e->address, e->domain, e->sender,
					e->subject, e->symbols, e->reason };
	size_t len = QEXT_FIXED;
	for (int i = 0; i < QEXT_NSTR; i++)
		len += 2 + strlen(strs[i]);
	/* UNSAFE: each string is at most its maximum, all fit the limit */
	assert(len <= STORE_REC_QUAR_EXT_MAX);
	unsigned char *p = xmalloc(len);
	put64(p, (uint64_t)e->mailbox_id);
	put64(p + 8, (uint64_t)e->expires);
	put64(p + 16, (uint64_t)score_milli(e->score));
	size_t at = QEXT_FIXED;
	for (int i = 0; i < QEXT_NSTR; i++) {
		size_t n = strlen(strs[i]);
		p[at] = (unsigned char)n;
		p[at + 1] = (unsigned char)(n >> 8);
		memcpy(p + at + 2, strs[i], n);
		at += 2 + n;
	}
	q->d_.qext_ = p;
	q->d_.qext_len_ = len;
}

/* Decode ext into e (strings NUL-terminated). 0, or -1 when malformed. */
static int ext_decode(const unsigned char *ext, size_t len,
		      struct store_quarantine_entry *e)
{
	if (len < QEXT_FIXED)
		return -1;
	memset(e, 0, sizeof *e);
	e->mailbox_id = (int64_t)get64(ext);
	e->expires = (int64_t)get64(ext + 8);
	e->score = (double)(int64_t)get64(ext + 16) / 1000.0;
	char *strs[QEXT_NSTR] = { e->address, e->domain, e->sender,
				  e->subject, e->symbols, e->reason };
	size_t at = QEXT_FIXED;
	for (int i = 0; i < QEXT_NSTR; i++) {
		if (len - at < 2)
			return -1;
		size_t n = (size_t)ext[at] | (size_t)ext[at + 1] << 8;
		at += 2;
		if (n > str_max[i] || n > len - at || memchr(ext + at, 0, n))
			return -1;
		memcpy(strs[i], ext + at, n);
		strs[i][n] = '\0';
		at += n;
	}
	return at == len && e->mailbox_id > 0 && e->address[0] != '\0' ? 0
								     : -1;
}

int store_quar_apply(struct store_conn *c, const struct store_rec *r,
		     int64_t blob_id, const unsigned char *ext,
		     const char **why_out, struct err *err)
{
	struct store_quarantine_entry *e = xmalloc(sizeof *e);
	if (ext_decode(ext, r->ext_len, e) < 0) {
		free(e);
		*why_out = "bad quarantine entry";
		return 0;
	}
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(c->db, "INSERT INTO quarantine(id, blob_id, "
			       "mailbox_id, address, domain, sender, subject, "
			       "score, symbols, reason, received, expires, "
			       "size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			       "?9, ?10, ?11, ?12, ?13)", -1, &s,
			       NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare quarantine entry");
		goto out;
	}
	sqlite3_bind_int64(s, 1, (int64_t)r->seq);
	sqlite3_bind_int64(s, 2, blob_id);
	sqlite3_bind_int64(s, 3, e->mailbox_id);
	sqlite3_bind_text(s, 4, e->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, e->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, e->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, e->subject, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 8, e->score);
	sqlite3_bind_text(s, 9, e->symbols, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, e->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, r->internal_date);
	sqlite3_bind_int64(s, 12, e->expires);
	sqlite3_bind_int64(s, 13, (int64_t)r->data_len);
	if (store_step_done(c, s, "insert quarantine entry", err) == 0)
		rc = 1;
out:
	sqlite3_finalize(s);
	free(e);
	return rc;
}

/* ---- adding ---------------------------------------------------------------- */

/* The recipient's address, domain and the domain's quarantine days. */
static int recipient(struct store *st, int64_t mailbox_id,
		     struct store_quarantine_entry *e, int64_t *days,
		     struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT m.local_part || '@' || d.name, "
			       "d.name, f.quarantine_days FROM mailboxes m "
			       "JOIN domains d ON d.id = m.domain_id LEFT JOIN "
			       "filter_settings f ON f.domain = d.name "
			       "WHERE m.id = ?1", -1, &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare quarantine recipient");
		goto out;
	}
	sqlite3_bind_int64(s, 1, mailbox_id);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		store_col_text(s, 0, e->address, sizeof e->address);
		store_col_text(s, 1, e->domain, sizeof e->domain);
		*days = sqlite3_column_type(s, 2) == SQLITE_NULL
				? STORE_QUARANTINE_DAYS_DEFAULT
				: sqlite3_column_int64(s, 2);
		if (*days < 1 || *days > STORE_QUARANTINE_DAYS_MAX)
			*days = STORE_QUARANTINE_DAYS_DEFAULT;
		rc = 0;
	} else if (step == SQLITE_DONE) {
		err_set(err, ERR_NOTFOUND, 451, "4.3.0",
			"store: no mailbox %lld", (long long)mailbox_id);
	} else {
		store_db_fail(err, c, "read quarantine recipient");
	}
out:
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return rc;
}

static void quar_done(struct store_delivery *d)
{
	struct store_quarantine_req *q = d->arg;
	free(d->qext_);
	d->qext_ = NULL;
	q->rc = d->rc;
	q->err = d->err;
	q->id = d->rc == 0 ? (int64_t)d->seq_ : 0;
	if (q->done != NULL)
		q->done(q);	/* may free q: last */
}

int store_quarantine_submit(struct store *st, struct store_quarantine_req *q,
			    struct err *err)
{
	q->rc = -1;
	err_clear(&q->err);
	q->id = 0;
	if (q->data == NULL && q->len != 0)
		return err_set(err, ERR_PEER, 0, "", "no message");
	struct store_quarantine_entry *e = xcalloc(1, sizeof *e);
	int64_t days;
	if (recipient(st, q->mailbox_id, e, &days, err) < 0) {
		free(e);
		return -1;
	}
	e->mailbox_id = q->mailbox_id;
	q->expires = q->received + days * 86400;
	e->expires = q->expires;
	e->score = q->score;
	clean(q->sender, STORE_ADDR_MAX, e->sender);
	clean(q->subject, STORE_QUAR_SUBJECT_MAX, e->subject);
	clean(q->symbols, STORE_QUAR_SYMBOLS_MAX, e->symbols);
	clean(q->reason, STORE_QUAR_REASON_MAX, e->reason);
	q->d_ = (struct store_delivery){
		.data = q->data, .len = q->len,
		.internal_date = q->received,
		.done = quar_done, .arg = q,
		.quarantine_ = true,
	};
	ext_encode(q, e);
	free(e);
	if (store_deliver_submit(st, &q->d_, err) < 0) {
		free(q->d_.qext_);
		q->d_.qext_ = NULL;
		return -1;
	}
	return 0;
}

struct quar_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool finished;
	void (*done)(struct store_quarantine_req *q);
	void *arg;
};

static void wait_done(struct store_quarantine_req *q)
{
	struct quar_wait *w = q->arg;
	pthread_mutex_lock(&w->mu);
	w->finished = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int store_quarantine_add(struct store *st, struct store_quarantine_req *q,
			 struct err *err)
{
	struct quar_wait w = { .finished = false, .done = q->done,
			       .arg = q->arg };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	q->done = wait_done;
	q->arg = &w;
	int rc = store_quarantine_submit(st, q, err);
	if (rc == 0) {
		pthread_mutex_lock(&w.mu);
		while (!w.finished)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		rc = q->rc;
		if (rc < 0 && err != NULL)
			*err = q->err;
	}
	q->done = w.done;
	q->arg = w.arg;
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

/* ---- reading ----------------------------------------------------------------- */

#define ENTRY_COLS                                                         \
	"q.id, q.mailbox_id, q.address, q.domain, q.sender, q.subject, "   \
	"q.score, q.symbols, q.reason, q.received, q.expires, q.size, "    \
	"q.release_requested, b.id, b.segment, b.offset, b.length "
#define ENTRY_FROM "FROM quarantine q JOIN blobs b ON b.id = q.blob_id "

/* Columns 0..12 of ENTRY_COLS into e. */
static void entry_of(sqlite3_stmt *s, struct store_quarantine_entry *e)
{
	memset(e, 0, sizeof *e);
	e->id = sqlite3_column_int64(s, 0);
	e->mailbox_id = sqlite3_column_int64(s, 1);
	store_col_text(s, 2, e->address, sizeof e->address);
	store_col_text(s, 3, e->domain, sizeof e->domain);
	store_col_text(s, 4, e->sender, sizeof e->sender);
	store_col_text(s, 5, e->subject, sizeof e->subject);
	e->score = sqlite3_column_double(s, 6);
	store_col_text(s, 7, e->symbols, sizeof e->symbols);
	store_col_text(s, 8, e->reason, sizeof e->reason);
	e->received = sqlite3_column_int64(s, 9);
	e->expires = sqlite3_column_int64(s, 10);
	int64_t size = sqlite3_column_int64(s, 11);
	e->size = size > 0 ? (uint64_t)size : 0;
	e->release_requested = sqlite3_column_int(s, 12) != 0;
}

struct list_ctx {
	int (*fn)(const struct store_quarantine_entry *e, void *arg);
	void *arg;
	size_t limit, seen;
	bool more;
	struct store_quarantine_entry e;
};

static int list_row(sqlite3_stmt *s, void *arg)
{
	struct list_ctx *l = arg;
	if (l->seen++ == l->limit) {
		l->more = true;
		return 1;
	}
	entry_of(s, &l->e);
	return l->fn(&l->e, l->arg) != 0 ? 1 : 0;
}

static const char *opt(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int store_quarantine_list(struct store *st,
			  const struct store_quarantine_filter *f,
			  int (*fn)(const struct store_quarantine_entry *e,
				    void *arg),
			  void *arg, bool *more_out, struct err *err)
{
	if (more_out != NULL)
		*more_out = false;
	if (f->limit == 0 || f->limit > STORE_QUAR_PAGE_MAX)
		return err_set(err, ERR_PEER, 0, "",
			       "a page is 1 to %d entries", STORE_QUAR_PAGE_MAX);
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT " ENTRY_COLS ENTRY_FROM
			       "WHERE (?1 IS NULL OR q.domain = ?1) AND "
			       "(?2 IS NULL OR q.address = ?2) AND "
			       "(?3 = 0 OR q.received < ?3 OR "
			       "(q.received = ?3 AND q.id < ?4)) "
			       "ORDER BY q.received DESC, q.id DESC LIMIT ?5",
			       -1, &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare quarantine list");
		goto out;
	}
	const char *domain = opt(f->domain), *mailbox = opt(f->mailbox);
	if (domain != NULL)
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	if (mailbox != NULL)
		sqlite3_bind_text(s, 2, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, f->before_id != 0 ? f->before_received : 0);
	sqlite3_bind_int64(s, 4, f->before_id);
	sqlite3_bind_int64(s, 5, (int64_t)f->limit + 1);
	struct list_ctx *l = xcalloc(1, sizeof *l);
	l->fn = fn;
	l->arg = arg;
	l->limit = f->limit;
	rc = store_rows(c, s, list_row, l, "list quarantine", err);
	if (rc == 0 && more_out != NULL)
		*more_out = l->more;
	free(l);
out:
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return rc;
}

int store_quarantine_get(struct store *st, int64_t id,
			 struct store_quarantine_entry *out,
			 unsigned char **data_out, size_t *len_out,
			 struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	int64_t blob[4] = { 0 };
	if (sqlite3_prepare_v2(c->db, "SELECT " ENTRY_COLS ENTRY_FROM
			       "WHERE q.id = ?1", -1, &s, NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare quarantine entry");
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		entry_of(s, out);
		for (int i = 0; i < 4; i++)
			blob[i] = sqlite3_column_int64(s, 13 + i);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_db_fail(err, c, "read quarantine entry");
	}
out:
	sqlite3_finalize(s);
	store_reader_put(st, c);
	if (rc == 1 && data_out != NULL &&
	    store_blob_read_at(st, blob[0], blob[1], blob[2], blob[3],
			       data_out, len_out, err) < 0)
		return -1;
	return rc;
}

/* ---- release: a committer job ------------------------------------------------ */

struct release_job {
	struct store_job job;	/* first: the committer hands this back */
	int64_t id;
	bool found;
	uint32_t uid;
	char address[STORE_ADDR_MAX + 1];
};

/* Run s (bound) expecting one row; 1 row, 0 none, -1. s is reset. */
static int step_row(struct store_conn *c, sqlite3_stmt *s, const char *what,
		    struct err *err)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, c, what);
}

/* Inside the job: the entry's blob, mailbox, size and date. 1/0/-1. */
static int release_entry(struct store_conn *c, int64_t id, int64_t *blob_id,
			 int64_t *mailbox_id, int64_t *size, int64_t *date,
			 char *address, struct err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT blob_id, mailbox_id, size, "
			       "received, address FROM quarantine WHERE id = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare quarantine release");
	sqlite3_bind_int64(s, 1, id);
	int found = step_row(c, s, "read quarantine entry", err);
	if (found == 1) {
		*blob_id = sqlite3_column_int64(s, 0);
		*mailbox_id = sqlite3_column_int64(s, 1);
		*size = sqlite3_column_int64(s, 2);
		*date = sqlite3_column_int64(s, 3);
		store_col_text(s, 4, address, STORE_ADDR_MAX + 1);
	}
	sqlite3_finalize(s);
	return found;
}

static int exec_id(struct store_conn *c, const char *sql, int64_t id,
		   const char *what, struct err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, what);
	sqlite3_bind_int64(s, 1, id);
	int rc = store_step_done(c, s, what, err);
	sqlite3_finalize(s);
	return rc < 0 ? -1 : sqlite3_changes(c->db);
}

/* Run the committer's statement id with v[0..n) bound as ?1..?n. */
static int run_ints(struct store_conn *c, enum store_stmt id,
		    const int64_t *v, int n, const char *what, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, id, err);
	if (s == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(s, i + 1, v[i]);
	return store_step_done(c, s, what, err);
}

/* The entry's blob reference becomes the new message's: refcount stays. */
static int release_run(struct store *st, struct store_job *j, struct err *err)
{
	struct release_job *x = (struct release_job *)j;
	struct store_conn *c = st->writer;
	int64_t blob_id = 0, mailbox_id = 0, size = 0, date = 0;
	int found = release_entry(c, x->id, &blob_id, &mailbox_id, &size,
				  &date, x->address, err);
	if (found <= 0)
		return found;
	sqlite3_stmt *s = store_stmt(c, STMT_INBOX_STATE, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	found = step_row(c, s, "read INBOX", err);
	if (found < 0)
		return -1;
	if (found == 0)
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "the mailbox %s no longer exists", x->address);
	int64_t folder = sqlite3_column_int64(s, 0);
	int64_t uidvalidity = sqlite3_column_int64(s, 1);
	int64_t uidnext = sqlite3_column_int64(s, 2);
	int64_t modseq = sqlite3_column_int64(s, 3) + 1;
	(void)sqlite3_reset(s);	/* a read: nothing to check */
	if (uidnext < 1)
		uidnext = 1;
	if (uidnext > (int64_t)QUAR_UID_MAX)
		return err_set(err, ERR_LIMIT, 0, "",
			       "INBOX of %s has no UIDs left", x->address);
	/* folder, UID, blob, size, date, flags, keywords, modseq */
	const int64_t msg[] = { folder, uidnext, blob_id, size, date, 0, 0,
				modseq };
	const int64_t adv[] = { folder, mailbox_id, uidvalidity, uidnext,
				modseq };
	const int64_t used[] = { mailbox_id, size };
	if (run_ints(c, STMT_MESSAGE_COPY, msg, 8, "release into INBOX",
		     err) < 0 ||
	    run_ints(c, STMT_FOLDER_ADVANCE, adv, 5, "advance INBOX", err) < 0 ||
	    run_ints(c, STMT_MAILBOX_USED, used, 2, "update used bytes",
		     err) < 0 ||
	    exec_id(c, "DELETE FROM quarantine WHERE id = ?1", x->id,
		    "remove quarantine entry", err) < 0)
		return -1;
	x->found = true;
	x->uid = (uint32_t)uidnext;
	store_job_touch(j, mailbox_id, folder);
	return 0;
}

int store_quarantine_release(struct store *st, int64_t id, uint32_t *uid_out,
			     struct err *err)
{
	struct release_job x = {
		.job = { .run = release_run, .durable = true },
		.id = id,
	};
	if (store_job_wait(st, &x.job, err) < 0)
		return -1;
	if (!x.found)
		return 0;
	if (uid_out != NULL)
		*uid_out = x.uid;
	char detail[64];
	snprintf(detail, sizeof detail, "id=%lld uid=%u", (long long)id, x.uid);
	struct err aerr;
	if (store_audit_add(st, "quarantine.release", x.address, "", detail,
			    &aerr) < 0)
		log_error("store", NULL, "op=audit kind=quarantine.release "
			  "error=\"%s\"", aerr.msg);
	return 1;
}

/* ---- admin changes ---------------------------------------------------------- */

struct id_ctx {
	int64_t id;
	int changed;
	char address[STORE_ADDR_MAX + 1];
};

static int request_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct id_ctx *x = arg;
	x->changed = exec_id(c, "UPDATE quarantine SET release_requested = 1 "
			     "WHERE id = ?1", x->id, "request release", err);
	return x->changed < 0 ? -1 : 0;
}

int store_quarantine_release_request(struct store *st, int64_t id,
				     struct err *err)
{
	struct id_ctx x = { .id = id };
	if (store_admin_tx(st, request_tx, &x, err) != 0)
		return -1;
	return x.changed > 0 ? 1 : 0;
}

static int unmark_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct id_ctx *x = arg;
	return exec_id(c, "UPDATE quarantine SET release_requested = 0 "
		       "WHERE id = ?1", x->id, "unmark release", err) < 0
		       ? -1 : 0;
}

static int pending_row(sqlite3_stmt *s, void *arg)
{
	int64_t **ids = arg;
	*(*ids)++ = sqlite3_column_int64(s, 0);
	return 0;
}

#define RELEASE_BATCH 64

int store_quarantine_release_pending(struct store *st, struct err *err)
{
	int64_t ids[RELEASE_BATCH], *at = ids;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT id FROM quarantine WHERE "
			       "release_requested != 0 LIMIT 64", -1, &s,
			       NULL) != SQLITE_OK)
		store_db_fail(err, c, "prepare pending releases");
	else
		rc = store_rows(c, s, pending_row, &at, "pending releases",
				err);
	sqlite3_finalize(s);
	store_reader_put(st, c);
	if (rc < 0)
		return -1;
	int released = 0;
	for (int64_t *p = ids; p < at; p++) {
		struct err rerr;
		int got = store_quarantine_release(st, *p, NULL, &rerr);
		if (got == 1) {
			released++;
			continue;
		}
		if (got < 0 && rerr.kind == ERR_ENV)
			return err_set(err, ERR_ENV, 451, "4.3.0", "%s",
				       rerr.msg);
		if (got < 0) {
			/* unmarked, or petrelctl would wait on it forever */
			log_warn("store", NULL, "op=quarantine-release id=%lld "
				 "error=\"%s\"", (long long)*p, rerr.msg);
			struct id_ctx x = { .id = *p };
			if (store_admin_tx(st, unmark_tx, &x, err) != 0)
				return -1;
		}
	}
	return released;
}

static int delete_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct id_ctx *x = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT address FROM quarantine "
			       "WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare quarantine delete");
	sqlite3_bind_int64(s, 1, x->id);
	int found = step_row(c, s, "read quarantine entry", err);
	if (found == 1)
		store_col_text(s, 0, x->address, sizeof x->address);
	sqlite3_finalize(s);
	if (found <= 0)
		return found;
	if (exec_id(c, "UPDATE blobs SET refcount = refcount - 1 WHERE id = "
		    "(SELECT blob_id FROM quarantine WHERE id = ?1)", x->id,
		    "release quarantine blob", err) < 0)
		return -1;
	x->changed = exec_id(c, "DELETE FROM quarantine WHERE id = ?1", x->id,
			     "delete quarantine entry", err);
	return x->changed < 0 ? -1 : 0;
}

int store_quarantine_delete(struct store *st, int64_t id, struct err *err)
{
	struct id_ctx x = { .id = id };
	if (store_admin_tx(st, delete_tx, &x, err) != 0)
		return -1;
	if (x.changed <= 0)
		return 0;
	char detail[32];
	snprintf(detail, sizeof detail, "id=%lld", (long long)id);
	return store_audit_add(st, "quarantine.delete", x.address, "", detail,
			       err) < 0 ? -1 : 1;
}

struct expire_ctx {
	int64_t now;
	int changed;
};

static int expire_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct expire_ctx *x = arg;
	/* each blob loses one reference per expired entry holding it */
	if (exec_id(c, "UPDATE blobs SET refcount = refcount - (SELECT "
		    "count(*) FROM quarantine q WHERE q.blob_id = blobs.id AND "
		    "q.expires <= ?1) WHERE id IN (SELECT blob_id FROM "
		    "quarantine WHERE expires <= ?1)", x->now,
		    "release expired blobs", err) < 0)
		return -1;
	x->changed = exec_id(c, "DELETE FROM quarantine WHERE expires <= ?1",
			     x->now, "expire quarantine", err);
	return x->changed < 0 ? -1 : 0;
}

int store_quarantine_expire(struct store *st, int64_t now, uint64_t *n_out,
			    struct err *err)
{
	struct expire_ctx x = { .now = now };
	if (n_out != NULL)
		*n_out = 0;
	if (store_admin_tx(st, expire_tx, &x, err) != 0)
		return -1;
	if (n_out != NULL)
		*n_out = (uint64_t)x.changed;
	if (x.changed == 0)
		return 0;
	char detail[48];
	snprintf(detail, sizeof detail, "entries=%d", x.changed);
	return store_audit_add(st, "quarantine.expire", "", "", detail, err);
}
