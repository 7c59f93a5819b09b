/* store_meta.c - the parse cache: opaque bytes per blob (ENVELOPE and
 * BODYSTRUCTURE from src/mime/), so that copies of a message share them.
 * Written by the committer (a job that needs no sync: a lost entry is
 * parsed again), read on the caller's thread. Rows of blobs that
 * compaction removes must go with them.
 */
#include "store/store_private.h"

#include <stdlib.h>
#include <string.h>

int store_meta_put_row(struct store_conn *c, int64_t folder_id, uint32_t uid,
		       const void *data, size_t len, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_MESSAGE_AT, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, folder_id);
	sqlite3_bind_int64(s, 2, uid);
	int rc = sqlite3_step(s);
	int64_t blob_id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_DONE)
		return err_set(err, ERR_NOTFOUND, 0, "", "no such message");
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "find message");
	s = store_stmt(c, STMT_META_PUT, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, blob_id);
	/* UNSAFE: len <= STORE_META_MAX, checked by the callers */
	sqlite3_bind_blob(s, 2, len ? data : "", (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "store parse cache");
	return 0;
}

struct meta_job {
	struct store_job job;
	int64_t folder_id;
	uint32_t uid;
	const void *data;
	size_t len;
};

static int meta_run(struct store *st, struct store_job *j, struct err *err)
{
	struct meta_job *x = (struct meta_job *)j;
	return store_meta_put_row(st->writer, x->folder_id, x->uid, x->data,
				  x->len, err);
}

int store_meta_put(struct store *st, int64_t folder_id, uint32_t uid,
		   const void *data, size_t len, struct err *err)
{
	if (len > STORE_META_MAX)
		return err_set(err, ERR_LIMIT, 0, "",
			       "parse cache of %zu bytes is over %u", len,
			       STORE_META_MAX);
	if (data == NULL && len != 0)
		return err_set(err, ERR_PEER, 0, "", "no data");
	/* not durable: a cache; the next durable commit syncs it anyway */
	struct meta_job x = {
		.job = { .run = meta_run, .durable = false },
		.folder_id = folder_id, .uid = uid, .data = data, .len = len,
	};
	return store_job_wait(st, &x.job, err);
}

int store_meta_get(struct store *st, int64_t folder_id, uint32_t uid,
		   unsigned char **data_out, size_t *len_out, struct err *err)
{
	*data_out = NULL;
	*len_out = 0;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_META_GET_MSG, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, folder_id);
		sqlite3_bind_int64(s, 2, uid);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const void *p = sqlite3_column_blob(s, 0);
			int n = sqlite3_column_bytes(s, 0);
			if (n < 0 || (size_t)n > STORE_META_MAX) {
				ret = 0;	/* not one we wrote */
			} else {
				unsigned char *copy = malloc(n ? (size_t)n : 1);
				if (copy == NULL) {
					err_set(err, ERR_ENV, 451, "4.3.0",
						"store: out of memory");
				} else {
					if (n > 0)
						memcpy(copy, p, (size_t)n);
					*data_out = copy;
					*len_out = (size_t)n;
					ret = 1;
				}
			}
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			store_db_fail(err, c, "read parse cache");
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

int store_meta_each(struct store *st, int64_t folder_id,
		    int (*fn)(uint32_t uid, const unsigned char *data,
			      size_t len, void *arg),
		    void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_META_EACH, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, folder_id);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t uid = sqlite3_column_int64(s, 0);
			const unsigned char *p = sqlite3_column_blob(s, 1);
			int n = sqlite3_column_bytes(s, 1);
			if (uid <= 0 || uid > UINT32_MAX || n < 0 ||
			    (size_t)n > STORE_META_MAX)
				continue;	/* not one we wrote */
			if (fn((uint32_t)uid, p ? p : (const unsigned char *)"",
			       (size_t)n, arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "read parse cache");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}
