/* store_check.c - the store's integrity check, for `petrelctl store check`
 * and the crash tests: every message row has its blob, every blob's record
 * is in its segment with a valid header and checksums, every refcount
 * equals the number of messages that use the blob, and the log past the
 * applied position can be replayed without a conflict (store_log.c), and
 * the counters and tables of IMAP's changes agree (check_mail). It
 * reads one SQLite snapshot, works while petreld runs, reports problems
 * and repairs nothing.
 */
#include "store/store_private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* Problems beyond this are counted but not logged one by one. */
#define STORE_CHECK_LOG_MAX 100

struct check {
	uint64_t problems;
};

void store_check_problem(uint64_t *problems, const char *what, int64_t id,
			 const char *why)
{
	if (*problems < STORE_CHECK_LOG_MAX)
		log_warn("store", NULL, "op=check %s=%lld problem=\"%s\"", what,
			 (long long)id, why);
	(*problems)++;
}

static void problem(struct check *ck, const char *what, int64_t id,
		    const char *why)
{
	store_check_problem(&ck->problems, what, id, why);
}

/* Messages whose blob row is missing or has another length. */
static int check_messages(struct store_conn *c, struct check *ck,
			  struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_CHECK_MESSAGES, err);
	if (s == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		problem(ck, "message", sqlite3_column_int64(s, 0),
			sqlite3_column_int(s, 2) ? "blob missing"
						 : "size differs from blob");
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "check messages");
	return 0;
}

/* Every blob: refcount, then its record. Rows come in segment order so
 * each segment file is opened once. */
static int check_blobs(struct store *st, struct store_conn *c,
		       struct check *ck, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_CHECK_BLOBS, err);
	if (s == NULL)
		return -1;
	int64_t open_seg = 0;
	int fd = -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		int64_t segment = sqlite3_column_int64(s, 1);
		int64_t offset = sqlite3_column_int64(s, 2);
		int64_t length = sqlite3_column_int64(s, 3);
		int64_t refcount = sqlite3_column_int64(s, 4);
		int64_t uses = sqlite3_column_int64(s, 5);
		if (refcount != uses)
			problem(ck, "blob", id, "refcount differs from uses");
		if (segment < 1 || segment > (int64_t)UINT32_MAX ||
		    offset < 0 || length < 0) {
			problem(ck, "blob", id, "bad location");
			continue;
		}
		if (segment != open_seg) {
			if (fd >= 0)
				(void)close(fd); /* read-only: nothing lost */
			open_seg = segment;
			fd = store_segment_open_read(st->blobs_fd,
						     (uint32_t)segment);
		}
		if (fd < 0) {
			problem(ck, "blob", id, "segment file missing");
			continue;
		}
		struct err rerr;
		if (store_record_read(fd, (uint32_t)segment, (uint64_t)offset,
				      (uint64_t)length, NULL, &rerr) < 0)
			problem(ck, "blob", id, rerr.msg);
	}
	if (fd >= 0)
		(void)close(fd); /* read-only: nothing lost */
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "check blobs");
	return 0;
}

/* The invariants of the mail mutations (decision 0004): used bytes are
 * the sum of the mailbox's message sizes; no UID or modseq is past its
 * folder's UIDNEXT / HIGHESTMODSEQ; an expunged UID is not a message
 * any more and its modseq is within the folder's; keyword bits name
 * keywords; cached parse results belong to blobs. */
static int check_mail(struct store_conn *c, struct check *ck,
		      struct err *err)
{
	static const char *const counter_why[] = {
		"", "folder missing", "UID not below the folder's UIDNEXT",
		"modseq above the folder's HIGHESTMODSEQ" };
	static const char *const expunged_why[] = {
		"", "folder missing", "modseq above the folder's HIGHESTMODSEQ",
		"UID not below the folder's UIDNEXT",
		"UID expunged but still a message" };
	struct {
		enum store_stmt id;
		const char *what;
	} q[] = {
		{ STMT_CHECK_USED, "mailbox" },
		{ STMT_CHECK_COUNTERS, "message" },
		{ STMT_CHECK_EXPUNGED, "expunged-folder" },
		{ STMT_CHECK_KEYWORDS, "message" },
		{ STMT_CHECK_META, "blob-meta" },
	};
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		sqlite3_stmt *s = store_stmt(c, q[i].id, err);
		if (s == NULL)
			return -1;
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(s, 0);
			int k = sqlite3_column_int(s,
						   q[i].id == STMT_CHECK_EXPUNGED
							   ? 2 : 1);
			const char *why = "?";
			switch (q[i].id) {
			case STMT_CHECK_USED:
				why = "used bytes differ from its messages";
				break;
			case STMT_CHECK_COUNTERS:
				why = k >= 1 && k <= 3 ? counter_why[k] : "?";
				break;
			case STMT_CHECK_EXPUNGED:
				why = k >= 1 && k <= 4 ? expunged_why[k] : "?";
				break;
			case STMT_CHECK_KEYWORDS:
				why = "keyword bit without a keyword";
				break;
			default:
				why = "its blob is missing";
				break;
			}
			problem(ck, q[i].what, id, why);
		}
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc != SQLITE_DONE)
			return store_db_fail(err, c, "check mail");
	}
	return 0;
}

int store_check(struct store *st, uint64_t *problems_out, struct err *err)
{
	*problems_out = 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	struct check ck = { 0 };
	int rc = -1;
	/* One snapshot: a group the committer indexes meanwhile is either
	 * wholly in it, applied position included, or not at all. */
	if (store_exec(c, STMT_BEGIN_READ, err) == 0) {
		if (check_messages(c, &ck, err) == 0 &&
		    check_blobs(st, c, &ck, err) == 0 &&
		    check_mail(c, &ck, err) == 0 &&
		    store_log_check(st, c, &ck.problems, err) == 0)
			rc = 0;
		store_rollback(c);	/* read only: nothing to keep */
	}
	store_reader_put(st, c);
	if (rc == 0) {
		*problems_out = ck.problems;
		log_info("store", NULL, "op=check problems=%llu",
			 (unsigned long long)ck.problems);
	}
	return rc;
}
