/* store_append.c - IMAP APPEND and MULTIAPPEND: a message into any folder
 * with its flags and keywords, as one log record (kind "append") that
 * goes through the group commit with the deliveries, so that an APPEND
 * is as durable as an SMTP delivery and shares its fdatasync. The record
 * carries the flags and keyword names, so replay restores them; the
 * committer gives the UID (store_commit.c).
 */
#include "store/store_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* Flags and keywords as the record's ext bytes (store_private.h). */
static int ext_encode(struct store_append_req *a, struct err *err)
{
	if (a->n_keywords > STORE_KEYWORDS_MAX)
		return err_set(err, ERR_LIMIT, 0, "",
			       "a mailbox has at most %d keywords",
			       STORE_KEYWORDS_MAX);
	size_t len = STORE_REC_EXT_HDR;
	for (size_t i = 0; i < a->n_keywords; i++) {
		const char *k = a->keywords[i];
		size_t n = strnlen(k, STORE_KEYWORD_LEN + 1);
		if (n == 0 || n > STORE_KEYWORD_LEN)
			return err_set(err, ERR_PEER, 0, "",
				       "a keyword is 1 to %d characters",
				       STORE_KEYWORD_LEN);
		for (size_t c = 0; c < n; c++) {
			unsigned char ch = (unsigned char)k[c];
			if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch))
				return err_set(err, ERR_PEER, 0, "",
					       "a keyword must be an atom");
		}
		len += 1 + n;	/* at most 8 + 64 * 101 */
	}
	unsigned char *p = xmalloc(len);
	uint32_t fl = a->flags & STORE_FLAGS_STORED;
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(fl >> (8 * i));
	p[4] = (unsigned char)a->n_keywords;
	p[5] = (unsigned char)(a->n_keywords >> 8);
	p[6] = p[7] = 0;
	size_t at = STORE_REC_EXT_HDR;
	for (size_t i = 0; i < a->n_keywords; i++) {
		size_t n = strlen(a->keywords[i]);
		p[at++] = (unsigned char)n;
		memcpy(p + at, a->keywords[i], n);
		at += n;
	}
	a->ext_ = p;
	a->ext_len_ = len;
	return 0;
}

/* On the committer: the delivery inside a is done. */
static void append_done(struct store_delivery *d)
{
	struct store_append_req *a = d->arg;
	free(a->ext_);
	a->ext_ = NULL;
	a->rc = d->rc;
	a->err = d->err;
	if (a->done != NULL)
		a->done(a);	/* may free a: last */
}

int store_append_submit(struct store *st, struct store_append_req *a,
			struct err *err)
{
	a->rc = -1;
	err_clear(&a->err);
	a->uid = 0;
	a->uidvalidity = 0;
	a->modseq = 0;
	a->ext_ = NULL;
	if (a->data == NULL && a->len != 0)
		return err_set(err, ERR_PEER, 0, "", "no message");
	if (a->meta != NULL && a->meta_len > STORE_META_MAX)
		return err_set(err, ERR_LIMIT, 0, "",
			       "parse cache of %zu bytes is over %u", a->meta_len,
			       STORE_META_MAX);
	if (ext_encode(a, err) < 0)
		return -1;
	a->mailbox_id_ = 0;	/* the committer takes the folder's */
	a->d_ = (struct store_delivery){
		.data = a->data, .len = a->len,
		.mailbox_ids = &a->mailbox_id_, .n_mailboxes = 1,
		.internal_date = a->internal_date,
		.done = append_done, .arg = a, .uids_out = &a->uid,
		.append_ = a,
	};
	if (store_deliver_submit(st, &a->d_, err) < 0) {
		free(a->ext_);
		a->ext_ = NULL;
		return -1;
	}
	return 0;
}

/* Waiting for several appends at once. */
struct append_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t left;
};

static void many_done(struct store_append_req *a)
{
	struct append_wait *w = a->arg;
	pthread_mutex_lock(&w->mu);
	w->left--;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int store_append_many(struct store *st, struct store_append_req *a, size_t n,
		      struct err *err)
{
	struct append_wait w = { .left = 0 };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	int rc = 0;
	size_t submitted = 0;
	for (; submitted < n; submitted++) {
		a[submitted].done = many_done;
		a[submitted].arg = &w;
		pthread_mutex_lock(&w.mu);
		w.left++;
		pthread_mutex_unlock(&w.mu);
		if (store_append_submit(st, &a[submitted], err) < 0) {
			pthread_mutex_lock(&w.mu);
			w.left--;
			pthread_mutex_unlock(&w.mu);
			rc = -1;
			break;
		}
	}
	pthread_mutex_lock(&w.mu);
	while (w.left > 0)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	for (size_t i = 0; i < submitted; i++)
		if (a[i].rc < 0 && rc == 0) {
			rc = -1;
			if (err != NULL)
				*err = a[i].err;
		}
	if (rc == 0)
		return 0;
	/* RFC 3502 3: all or none. Those stored are expunged again; a crash
	 * before that leaves them, as a client's APPENDs one by one would. */
	for (size_t i = 0; i < submitted; i++) {
		if (a[i].rc != 0)
			continue;
		struct err e2;
		uint64_t ms;
		if (store_expunge(st, a[i].folder_id, &a[i].uid, 1, &ms,
				  &e2) < 0)
			log_error("store", NULL, "op=multiappend-undo folder=%lld "
				  "uid=%u error=\"%s\"",
				  (long long)a[i].folder_id, a[i].uid, e2.msg);
		a[i].rc = -1;
		a[i].uid = 0;
	}
	return -1;
}

int store_append(struct store *st, int64_t folder_id, const void *data,
		 size_t len, uint32_t flags, const char *const *keywords,
		 size_t n_keywords, int64_t internal_date, uint32_t *uid_out,
		 struct err *err)
{
	struct store_append_req a = {
		.folder_id = folder_id, .data = data, .len = len,
		.flags = flags, .keywords = keywords, .n_keywords = n_keywords,
		.internal_date = internal_date,
	};
	if (store_append_many(st, &a, 1, err) < 0)
		return -1;
	if (uid_out != NULL)
		*uid_out = a.uid;
	return 0;
}
