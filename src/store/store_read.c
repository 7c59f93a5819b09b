/* store_read.c - the read side of folders and messages: listing folders
 * and messages, and reading a message's bytes back from its segment with
 * the record's checks. Runs on the caller's thread with a pooled
 * read-only connection, so it never waits for the committer (WAL).
 */
#include "store/store_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* Columns id, name, special_use, uidvalidity, uidnext, highestmodseq,
 * count into out. */
static int folder_row(sqlite3_stmt *s, struct store_folder *out,
		      struct err *err)
{
	memset(out, 0, sizeof *out);
	out->id = sqlite3_column_int64(s, 0);
	const unsigned char *name = sqlite3_column_text(s, 1);
	int n = snprintf(out->name, sizeof out->name, "%s",
			 name ? (const char *)name : "");
	if (n < 0 || (size_t)n >= sizeof out->name)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: folder %lld has a name too long",
			       (long long)out->id);
	int special = sqlite3_column_int(s, 2);
	out->special = special >= STORE_SPECIAL_NONE &&
				       special <= STORE_SPECIAL_ARCHIVE
			       ? (enum store_special)special
			       : STORE_SPECIAL_NONE;
	out->uidvalidity = (uint32_t)sqlite3_column_int64(s, 3);
	out->uidnext = (uint32_t)sqlite3_column_int64(s, 4);
	out->highestmodseq = (uint64_t)sqlite3_column_int64(s, 5);
	int64_t count = sqlite3_column_int64(s, 6);
	out->messages = count > (int64_t)UINT32_MAX ? UINT32_MAX
						    : (uint32_t)count;
	int64_t unseen = sqlite3_column_int64(s, 7);
	out->unseen = unseen > (int64_t)UINT32_MAX ? UINT32_MAX
						   : (uint32_t)unseen;
	int64_t size = sqlite3_column_int64(s, 8);
	out->size = size > 0 ? (uint64_t)size : 0;
	out->subscribed = sqlite3_column_int(s, 9) != 0;
	return 0;
}

int store_folder_each(struct store *st, int64_t mailbox_id,
		      int (*fn)(const struct store_folder *f, void *arg),
		      void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_EACH, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mailbox_id);
		int rc;
		struct store_folder f;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			if (folder_row(s, &f, err) < 0)
				break;
			if (fn(&f, arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else if (rc != SQLITE_ROW)
			store_db_fail(err, c, "list folders");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_folder_find(struct store *st, int64_t mailbox_id, const char *name,
		      struct store_folder *out, struct err *err)
{
	if (strnlen(name, sizeof out->name) >= sizeof out->name)
		return 0;
	/* "inbox" is INBOX (RFC 9051 5.1); a name no folder may have is
	 * looked up as it is, and is not found */
	char norm[STORE_FOLDER_NAME_MAX + 1];
	struct err nerr;
	if (store_folder_name_norm(name, norm, &nerr) == 0)
		name = norm;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_FIND, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mailbox_id);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			ret = folder_row(s, out, err) < 0 ? -1 : 1;
		else if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "find folder");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

/* Messages of folder_id by stmt id (bound to folder_id and, for
 * STMT_MESSAGE_CHANGED, modseq), in UID order. */
static int message_rows(struct store *st, enum store_stmt id,
			int64_t folder_id, uint64_t modseq,
			int (*fn)(const struct store_message *m, void *arg),
			void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, id, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, folder_id);
		if (id == STMT_MESSAGE_CHANGED)
			sqlite3_bind_int64(s, 2, (int64_t)modseq);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			struct store_message m = {
				.uid = (uint32_t)sqlite3_column_int64(s, 0),
				.size = (uint64_t)sqlite3_column_int64(s, 1),
				.internal_date = sqlite3_column_int64(s, 2),
				.flags = (uint32_t)sqlite3_column_int64(s, 3),
				.modseq = (uint64_t)sqlite3_column_int64(s, 4),
				.blob_id = sqlite3_column_int64(s, 5),
				.keywords = (uint64_t)sqlite3_column_int64(s, 6),
			};
			if (fn(&m, arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "list messages");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_message_each(struct store *st, int64_t folder_id,
		       int (*fn)(const struct store_message *m, void *arg),
		       void *arg, struct err *err)
{
	return message_rows(st, STMT_MESSAGE_EACH, folder_id, 0, fn, arg, err);
}

int store_message_changed_since(struct store *st, int64_t folder_id,
				uint64_t modseq,
				int (*fn)(const struct store_message *m,
					  void *arg),
				void *arg, struct err *err)
{
	if (modseq > (uint64_t)INT64_MAX)
		return 0;	/* nothing can be newer */
	return message_rows(st, STMT_MESSAGE_CHANGED, folder_id, modseq, fn,
			    arg, err);
}

int store_vanished_since(struct store *st, int64_t folder_id,
			 uint64_t modseq,
			 int (*fn)(uint32_t uid, void *arg), void *arg,
			 struct err *err)
{
	if (modseq > (uint64_t)INT64_MAX)
		return 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_VANISHED, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, folder_id);
		sqlite3_bind_int64(s, 2, (int64_t)modseq);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			if (fn((uint32_t)sqlite3_column_int64(s, 0), arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "list expunged UIDs");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_blob_read_query(struct store *st, enum store_stmt id, int64_t k1,
			  int64_t k2, const char *what,
			  unsigned char **data_out, size_t *len_out,
			  struct err *err)
{
	*data_out = NULL;
	*len_out = 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int64_t blob_id = 0, segment = 0, offset = 0, length = 0;
	int found = -1;
	sqlite3_stmt *s = store_stmt(c, id, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, k1);
		if (sqlite3_bind_parameter_count(s) > 1)
			sqlite3_bind_int64(s, 2, k2);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			found = 1;
			blob_id = sqlite3_column_int64(s, 0);
			segment = sqlite3_column_int64(s, 1);
			offset = sqlite3_column_int64(s, 2);
			length = sqlite3_column_int64(s, 3);
		} else if (rc == SQLITE_DONE) {
			found = 0;
		} else {
			store_db_fail(err, c, what);
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	/* done with SQL before the file I/O: no snapshot held meanwhile */
	store_reader_put(st, c);
	if (found <= 0)
		return found;
	return store_blob_read_at(st, blob_id, segment, offset, length,
				  data_out, len_out, err);
}

int store_message_read(struct store *st, int64_t folder_id, uint32_t uid,
		       unsigned char **data_out, size_t *len_out,
		       struct err *err)
{
	return store_blob_read_query(st, STMT_MESSAGE_BLOB, folder_id, uid,
				     "find message", data_out, len_out, err);
}

int store_blob_read_at(struct store *st, int64_t blob_id, int64_t segment,
		       int64_t offset, int64_t length,
		       unsigned char **data_out, size_t *len_out,
		       struct err *err)
{
	if (segment < 1 || segment > (int64_t)UINT32_MAX || offset < 0 ||
	    length < 0)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: blob %lld has a bad location",
			       (long long)blob_id);
	int fd = store_segment_open_read(st->blobs_fd, (uint32_t)segment);
	if (fd < 0)
		return store_sys_fail(err, "open segment", errno);
	unsigned char *data = NULL;
	int rc = store_record_read(fd, (uint32_t)segment, (uint64_t)offset,
				   (uint64_t)length, &data, err);
	/* read-only descriptor: close cannot lose data */
	if (close(fd) < 0)
		log_warn("store", NULL, "op=close-segment error=\"%s\"",
			 strerror(errno));
	if (rc < 0) {
		log_error("store", NULL, "op=read blob=%lld error=\"%s\"",
			  (long long)blob_id, err != NULL ? err->msg : "?");
		return -1;
	}
	*data_out = data;
	*len_out = (size_t)length;
	return 1;
}
