/* store_folder.c - IMAP's folder operations: name rules, CREATE with
 * parents, DELETE (its messages expunged), RENAME with children and the
 * special case of INBOX (RFC 9051 6.3.6), and subscriptions, which may
 * name folders that do not exist. Each change is a committer job
 * (store_job.c): folders' counters and message rows have one writer.
 * Listing is store_read.c's.
 */
#include "store/store_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* ---- names ---------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 if it
 * is not one (overlong forms, surrogates, past U+10FFFF: RFC 3629 4). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t min, cp;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, min = 0x80, cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, min = 0x800, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int store_folder_name_norm(const char *name, char out[STORE_FOLDER_NAME_MAX + 1],
			   struct err *err)
{
	size_t n = strnlen(name, STORE_FOLDER_NAME_MAX + 1);
	if (n == 0)
		return err_set(err, ERR_PEER, 0, "", "empty folder name");
	if (n > STORE_FOLDER_NAME_MAX)
		return err_set(err, ERR_LIMIT, 0, "",
			       "folder name longer than %d bytes",
			       STORE_FOLDER_NAME_MAX);
	const unsigned char *p = (const unsigned char *)name;
	size_t level_start = 0, depth = 1;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			size_t len = i - level_start;
			if (len == 0)
				return err_set(err, ERR_PEER, 0, "",
					       "folder name has an empty level");
			if ((len == 1 && p[level_start] == '.') ||
			    (len == 2 && p[level_start] == '.' &&
			     p[level_start + 1] == '.'))
				return err_set(err, ERR_PEER, 0, "",
					       "folder name has a \".\" or "
					       "\"..\" level");
			if (i < n && ++depth > STORE_FOLDER_DEPTH_MAX)
				return err_set(err, ERR_LIMIT, 0, "",
					       "folder name deeper than %d "
					       "levels", STORE_FOLDER_DEPTH_MAX);
			level_start = i + 1;
			continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7f)
			return err_set(err, ERR_PEER, 0, "",
				       "folder name has a control character");
		if (p[i] == '%' || p[i] == '*')
			return err_set(err, ERR_PEER, 0, "",
				       "folder name has a LIST wildcard "
				       "('%%' or '*')");
		if (p[i] >= 0x80) {
			size_t len = utf8_seq(p + i, n - i);
			if (len == 0)
				return err_set(err, ERR_PEER, 0, "",
					       "folder name is not UTF-8");
			i += len - 1;
		}
	}
	memcpy(out, name, n + 1);
	/* RFC 9051 5.1: INBOX is case-insensitive, and so is the first level
	 * of its children */
	if ((n == 5 || (n > 5 && name[5] == '/')) &&
	    strncasecmp(name, "INBOX", 5) == 0)
		memcpy(out, "INBOX", 5);
	return 0;
}

int store_folder_name_check(const char *name, struct err *err)
{
	char norm[STORE_FOLDER_NAME_MAX + 1];
	return store_folder_name_norm(name, norm, err);
}

static bool is_inbox(const char *norm)
{
	return strcmp(norm, "INBOX") == 0;
}

/* ---- rows ----------------------------------------------------------------- */

/* 1 and *id_out (*special_out may be NULL), 0 none, -1 error. */
static int folder_find(struct store_conn *c, int64_t mailbox_id,
		       const char *name, int64_t *id_out, int *special_out,
		       struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_BY_NAME, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id_out = sqlite3_column_int64(s, 0);
		if (special_out != NULL)
			*special_out = sqlite3_column_int(s, 1);
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, c, "find folder");
}

/* A new folder with a new UIDVALIDITY. */
static int folder_insert(struct store_conn *c, int64_t mailbox_id,
			 const char *name, int special, int64_t *id_out,
			 struct err *err)
{
	uint32_t uidvalidity;
	if (store_meta_next_uidvalidity(c, (int64_t)time(NULL), &uidvalidity,
					err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_CREATE, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, special);
	sqlite3_bind_int64(s, 4, uidvalidity);
	int rc = sqlite3_step(s);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	int rc2 = rc == SQLITE_ROW ? sqlite3_step(s) : rc;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return err_set(err, ERR_NOTFOUND, 0, "", "no such mailbox");
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return err_set(err, ERR_PEER, 0, "",
			       special != 0 ? "[USEINUSE] the mailbox has a "
					      "folder of that special use"
					    : "[ALREADYEXISTS] folder exists");
	if (rc != SQLITE_ROW || rc2 != SQLITE_DONE)
		return store_db_fail(err, c, "create folder");
	*id_out = id;
	return 0;
}

/* Create the missing parents of norm ("a" and "a/b" of "a/b/c"). */
static int parents_make(struct store_conn *c, int64_t mailbox_id,
			const char *norm, struct err *err)
{
	char name[STORE_FOLDER_NAME_MAX + 1];
	size_t n = strlen(norm);
	for (size_t i = 0; i < n; i++) {
		if (norm[i] != '/')
			continue;
		memcpy(name, norm, i);
		name[i] = '\0';
		int64_t id;
		int found = folder_find(c, mailbox_id, name, &id, NULL, err);
		if (found < 0)
			return -1;
		if (found == 0 && folder_insert(c, mailbox_id, name, 0, &id,
						err) < 0)
			return -1;
	}
	return 0;
}

/* ---- jobs ----------------------------------------------------------------- */

enum folder_op { FOLDER_CREATE, FOLDER_DELETE, FOLDER_RENAME, FOLDER_SUB,
		 FOLDER_UNSUB };

struct folder_job {
	struct store_job job;
	enum folder_op op;
	int64_t mailbox_id;
	char name[STORE_FOLDER_NAME_MAX + 1];
	char to[STORE_FOLDER_NAME_MAX + 1];
	int special;
	int64_t id;	/* out: created */
};

static int create_run(struct store_conn *c, struct folder_job *x,
		      struct err *err)
{
	int64_t id;
	int found = folder_find(c, x->mailbox_id, x->name, &id, NULL, err);
	if (found < 0)
		return -1;
	if (found == 1)
		return err_set(err, ERR_PEER, 0, "",
			       "[ALREADYEXISTS] folder exists");
	if (parents_make(c, x->mailbox_id, x->name, err) < 0 ||
	    folder_insert(c, x->mailbox_id, x->name, x->special, &x->id,
			  err) < 0)
		return -1;
	store_job_touch(&x->job, x->mailbox_id, 0);
	return 0;
}

static int drop_folder(struct store_conn *c, int64_t mailbox_id, int64_t id,
		       struct err *err)
{
	static const enum store_stmt steps[] = {
		STMT_FOLDER_UNREF, STMT_FOLDER_UNUSE, STMT_FOLDER_DROP_MESSAGES,
		STMT_FOLDER_DROP_EXPUNGED, STMT_FOLDER_DROP,
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		sqlite3_stmt *s = store_stmt(c, steps[i], err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		if (steps[i] == STMT_FOLDER_UNUSE)
			sqlite3_bind_int64(s, 2, mailbox_id);
		if (store_step_done(c, s, "delete folder", err) < 0)
			return -1;
	}
	return 0;
}

static int delete_run(struct store_conn *c, struct folder_job *x,
		      struct err *err)
{
	if (is_inbox(x->name))
		return err_set(err, ERR_PEER, 0, "",
			       "INBOX cannot be deleted");
	int64_t id;
	int found = folder_find(c, x->mailbox_id, x->name, &id, NULL, err);
	if (found < 0)
		return -1;
	if (found == 0)
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "[NONEXISTENT] no such folder");
	if (drop_folder(c, x->mailbox_id, id, err) < 0)
		return -1;
	store_job_touch(&x->job, x->mailbox_id, id);
	store_job_touch(&x->job, x->mailbox_id, 0);
	return 0;
}

/* RFC 9051 6.3.6: renaming INBOX moves its messages to a new folder and
 * leaves it empty. The messages keep their UIDs under the new folder's
 * UIDVALIDITY; INBOX's sessions see them expunged (with a new modseq, so
 * QRESYNC reports them VANISHED). */
static int rename_inbox(struct store_conn *c, struct folder_job *x,
			int64_t inbox, struct err *err)
{
	int64_t id;
	if (folder_insert(c, x->mailbox_id, x->to, 0, &id, err) < 0)
		return -1;
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_COPY_STATE, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, inbox);
	if (store_step_done(c, s, "copy folder state", err) < 0)
		return -1;
	s = store_stmt(c, STMT_FOLDER_STATE, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, inbox);
	int rc = sqlite3_step(s);
	int64_t modseq = sqlite3_column_int64(s, 3) + 1;
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, "read INBOX");
	s = store_stmt(c, STMT_FOLDER_EXPUNGE_ALL, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, inbox);
	sqlite3_bind_int64(s, 2, modseq);
	if (store_step_done(c, s, "record INBOX's UIDs expunged", err) < 0)
		return -1;
	bool moved = sqlite3_changes(c->db) > 0;
	s = store_stmt(c, STMT_FOLDER_MOVE_ALL, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, inbox);
	sqlite3_bind_int64(s, 2, id);
	if (store_step_done(c, s, "move INBOX's messages", err) < 0)
		return -1;
	if (moved) {
		s = store_stmt(c, STMT_FOLDER_SET_MODSEQ, err);
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, inbox);
		sqlite3_bind_int64(s, 2, modseq);
		if (store_step_done(c, s, "update INBOX modseq", err) < 0)
			return -1;
	}
	x->id = id;
	store_job_touch(&x->job, x->mailbox_id, inbox);
	store_job_touch(&x->job, x->mailbox_id, 0);
	return 0;
}

struct child {
	int64_t id;
	char *name;
};

static int rename_run(struct store_conn *c, struct folder_job *x,
		      struct err *err)
{
	int64_t from_id, to_id;
	int found = folder_find(c, x->mailbox_id, x->name, &from_id, NULL, err);
	if (found < 0)
		return -1;
	if (found == 0)
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "[NONEXISTENT] no such folder");
	found = folder_find(c, x->mailbox_id, x->to, &to_id, NULL, err);
	if (found < 0)
		return -1;
	if (found == 1 || is_inbox(x->to))
		return err_set(err, ERR_PEER, 0, "",
			       "[ALREADYEXISTS] the new name exists");
	size_t from_len = strlen(x->name);
	if (strncmp(x->to, x->name, from_len) == 0 && x->to[from_len] == '/')
		return err_set(err, ERR_PEER, 0, "",
			       "a folder cannot move under itself");
	if (parents_make(c, x->mailbox_id, x->to, err) < 0)
		return -1;
	if (is_inbox(x->name))
		return rename_inbox(c, x, from_id, err);

	/* the children, collected before any is renamed */
	char prefix[STORE_FOLDER_NAME_MAX + 2];
	memcpy(prefix, x->name, from_len);
	prefix[from_len] = '/';
	prefix[from_len + 1] = '\0';
	struct child *kids = NULL;
	size_t n_kids = 0, cap = 0;
	sqlite3_stmt *s = store_stmt(c, STMT_FOLDER_CHILDREN, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, x->mailbox_id);
	sqlite3_bind_text(s, 2, prefix, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 1);
		if (name == NULL || strncmp(name, prefix, from_len + 1) != 0)
			continue;
		if (n_kids == cap) {
			cap = cap ? 2 * cap : 16;
			kids = xreallocarray(kids, cap, sizeof *kids);
		}
		kids[n_kids].id = sqlite3_column_int64(s, 0);
		kids[n_kids++].name = xstrdup(name);
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	int ret = -1;
	if (rc != SQLITE_DONE) {
		store_db_fail(err, c, "list child folders");
		goto out;
	}
	s = store_stmt(c, STMT_FOLDER_RENAME, err);
	if (s == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, from_id);
	sqlite3_bind_text(s, 2, x->to, -1, SQLITE_STATIC);
	if (store_step_done(c, s, "rename folder", err) < 0)
		goto out;
	for (size_t i = 0; i < n_kids; i++) {
		char name[STORE_FOLDER_NAME_MAX + 1], norm[sizeof name];
		int len = snprintf(name, sizeof name, "%s%s", x->to,
				   kids[i].name + from_len);
		if (len < 0 || (size_t)len >= sizeof name) {
			err_set(err, ERR_LIMIT, 0, "",
				"a child folder's new name would be longer "
				"than %d bytes", STORE_FOLDER_NAME_MAX);
			goto out;
		}
		if (store_folder_name_norm(name, norm, err) < 0)
			goto out;
		s = store_stmt(c, STMT_FOLDER_RENAME, err);
		if (s == NULL)
			goto out;
		sqlite3_bind_int64(s, 1, kids[i].id);
		sqlite3_bind_text(s, 2, norm, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		(void)sqlite3_reset(s);	/* rc checked here */
		if (rc == SQLITE_CONSTRAINT_UNIQUE) {
			err_set(err, ERR_PEER, 0, "",
				"[ALREADYEXISTS] a child's new name exists");
			goto out;
		}
		if (rc != SQLITE_DONE) {
			store_db_fail(err, c, "rename child folder");
			goto out;
		}
	}
	x->id = from_id;
	store_job_touch(&x->job, x->mailbox_id, 0);
	ret = 0;
out:
	for (size_t i = 0; i < n_kids; i++)
		free(kids[i].name);
	free(kids);
	return ret;
}

static int subscribe_run(struct store_conn *c, struct folder_job *x,
			 struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, x->op == FOLDER_SUB ? STMT_SUBSCRIBE
							    : STMT_UNSUBSCRIBE,
				     err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, x->mailbox_id);
	sqlite3_bind_text(s, 2, x->name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return err_set(err, ERR_NOTFOUND, 0, "", "no such mailbox");
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "subscribe");
	return 0;
}

static int folder_run(struct store *st, struct store_job *j, struct err *err)
{
	struct folder_job *x = (struct folder_job *)j;
	switch (x->op) {
	case FOLDER_CREATE:
		return create_run(st->writer, x, err);
	case FOLDER_DELETE:
		return delete_run(st->writer, x, err);
	case FOLDER_RENAME:
		return rename_run(st->writer, x, err);
	case FOLDER_SUB:
	case FOLDER_UNSUB:
		return subscribe_run(st->writer, x, err);
	}
	return err_set(err, ERR_PEER, 0, "", "unknown folder operation");
}

static int folder_job_run(struct store *st, struct folder_job *x,
			  struct err *err)
{
	x->job = (struct store_job){ .run = folder_run, .durable = true };
	int rc = store_job_wait(st, &x->job, err);
	if (rc == 0)
		log_info("store", NULL, "op=folder-%s mailbox=%lld folder=%lld",
			 x->op == FOLDER_CREATE   ? "create"
			 : x->op == FOLDER_DELETE ? "delete"
			 : x->op == FOLDER_RENAME ? "rename"
			 : x->op == FOLDER_SUB	  ? "subscribe"
						  : "unsubscribe",
			 (long long)x->mailbox_id, (long long)x->id);
	return rc;
}

int store_folder_create(struct store *st, int64_t mailbox_id,
			const char *name, enum store_special special,
			int64_t *id_out, struct err *err)
{
	struct folder_job x = { .op = FOLDER_CREATE, .mailbox_id = mailbox_id };
	if (store_folder_name_norm(name, x.name, err) < 0)
		return -1;
	if (special < STORE_SPECIAL_NONE || special > STORE_SPECIAL_ARCHIVE ||
	    special == STORE_SPECIAL_INBOX)
		return err_set(err, ERR_PEER, 0, "", "bad special use");
	if (is_inbox(x.name))
		return err_set(err, ERR_PEER, 0, "",
			       "[ALREADYEXISTS] INBOX exists");
	x.special = (int)special;
	if (folder_job_run(st, &x, err) < 0)
		return -1;
	if (id_out != NULL)
		*id_out = x.id;
	return 0;
}

int store_folder_delete(struct store *st, int64_t mailbox_id,
			const char *name, struct err *err)
{
	struct folder_job x = { .op = FOLDER_DELETE, .mailbox_id = mailbox_id };
	if (store_folder_name_norm(name, x.name, err) < 0)
		return -1;
	return folder_job_run(st, &x, err);
}

int store_folder_rename(struct store *st, int64_t mailbox_id,
			const char *from, const char *to, struct err *err)
{
	struct folder_job x = { .op = FOLDER_RENAME, .mailbox_id = mailbox_id };
	if (store_folder_name_norm(from, x.name, err) < 0 ||
	    store_folder_name_norm(to, x.to, err) < 0)
		return -1;
	return folder_job_run(st, &x, err);
}

int store_subscribe(struct store *st, int64_t mailbox_id, const char *name,
		    bool on, struct err *err)
{
	struct folder_job x = { .op = on ? FOLDER_SUB : FOLDER_UNSUB,
				.mailbox_id = mailbox_id };
	if (store_folder_name_norm(name, x.name, err) < 0)
		return -1;
	return folder_job_run(st, &x, err);
}

int store_subscription_each(struct store *st, int64_t mailbox_id,
			    int (*fn)(const char *name, void *arg), void *arg,
			    struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_SUBSCRIPTION_EACH, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mailbox_id);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(s, 0);
			if (name != NULL && fn(name, arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "list subscriptions");
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}
