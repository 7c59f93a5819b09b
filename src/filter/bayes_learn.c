/* bayes_learn.c - teaching the classifier: messages' token hashes into
 * the store's counts (store_bayes_learn), and the helper thread that
 * learns what users move into and out of Junk over IMAP, so that a
 * session's event loop never waits for reading, tokenizing and a
 * transaction of a batch of messages. */
#include "filter/bayes_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/jobs.h"
#include "core/log.h"
#include "core/xmalloc.h"

void bayes_msg_key(struct span msg, unsigned char key[STORE_BAYES_KEY_LEN])
{
	crypto_generichash(key, STORE_BAYES_KEY_LEN, msg.p, msg.len, NULL, 0);
}

int bayes_learn_many(struct bayes *b, struct bayes_lesson *v, size_t n,
		     struct err *err)
{
	struct store_bayes_learn *it = xreallocarray(NULL, n ? n : 1,
						     sizeof *it);
	uint64_t **hashes = xreallocarray(NULL, n ? n : 1, sizeof *hashes);
	for (size_t i = 0; i < n; i++) {
		const struct filter_tokens *t = v[i].tokens;
		hashes[i] = xreallocarray(NULL, t->n ? t->n : 1,
					  sizeof **hashes);
		for (size_t k = 0; k < t->n; k++)
			hashes[i][k] = t->v[k].hash;
		memset(&it[i], 0, sizeof it[i]);
		it[i].scope = v[i].scope;
		memcpy(it[i].key, v[i].key, STORE_BAYES_KEY_LEN);
		it[i].label = v[i].label;
		it[i].hashes = hashes[i];
		it[i].n = t->n;
	}
	int rc = store_bayes_learn(b->st, it, n, err);
	for (size_t i = 0; i < n; i++) {
		v[i].was = rc == 0 ? it[i].was : STORE_BAYES_NONE;
		free(hashes[i]);
		/* this struct's copy is stale now; other processes notice
		 * the generation */
		if (rc == 0 && (i == 0 || strcmp(v[i].scope, v[i - 1].scope)))
			bayes_snap_forget(b, v[i].scope);
	}
	free(hashes);
	free(it);
	return rc;
}

int bayes_learn(struct bayes *b, const char *scope,
		const struct filter_tokens *t, enum store_bayes_label label,
		const unsigned char key[STORE_BAYES_KEY_LEN],
		enum store_bayes_label *was_out, struct err *err)
{
	struct bayes_lesson l;
	memset(&l, 0, sizeof l);
	l.scope = scope;
	l.tokens = t;
	memcpy(l.key, key, STORE_BAYES_KEY_LEN);
	l.label = label;
	int rc = bayes_learn_many(b, &l, 1, err);
	if (was_out != NULL)
		*was_out = l.was;
	return rc;
}

int bayes_unlearn(struct bayes *b, const char *scope,
		  const struct filter_tokens *t,
		  const unsigned char key[STORE_BAYES_KEY_LEN],
		  enum store_bayes_label *was_out, struct err *err)
{
	return bayes_learn(b, scope, t, STORE_BAYES_NONE, key, was_out, err);
}

enum store_bayes_label bayes_label_for_move(enum store_special from,
					    enum store_special to, bool move)
{
	if (to == STORE_SPECIAL_JUNK && from != STORE_SPECIAL_JUNK)
		return STORE_BAYES_SPAM;
	if (move && from == STORE_SPECIAL_JUNK && to != STORE_SPECIAL_JUNK &&
	    to != STORE_SPECIAL_TRASH)
		return STORE_BAYES_HAM;
	return STORE_BAYES_NONE;
}

/* ---- the learning thread ---------------------------------------------- */

struct bayes_learner {
	struct store *st;
	struct bayes *b;
	struct jobs *jobs;
	atomic_size_t queued;
};

struct learn_job {
	struct job job;		/* first: the job is the batch */
	struct bayes_learner *l;
	char scope[STORE_BAYES_SCOPE_MAX + 1];
	int64_t folder_id;
	enum store_bayes_label label;
	size_t n;
	uint32_t uids[];
};

/* One message: read, tokenize, learn (a transaction each, so a long
 * batch never holds the store's write lock for long). */
static void learn_uid(struct learn_job *j, uint32_t uid)
{
	unsigned char *data = NULL;
	size_t len = 0;
	struct err err;
	int rc = store_message_read(j->l->st, j->folder_id, uid, &data, &len,
				    &err);
	if (rc != 1) {
		if (rc < 0)
			log_warn("filter", NULL, "op=bayes-learn uid=%u "
				 "error=\"%s\"", uid, err.msg);
		return;
	}
	struct span msg = span_make(data, len);
	struct filter_tokens t;
	filter_tokenize(msg, &t);
	unsigned char key[STORE_BAYES_KEY_LEN];
	bayes_msg_key(msg, key);
	struct lr_feats f;
	lr_features(msg, &t, &f);
	if (bayes_learn(j->l->b, j->scope, &t, j->label, key, NULL, &err) != 0 ||
	    bayes_lr_learn(j->l->b, j->scope, &f, j->label == STORE_BAYES_SPAM,
			   &err) != 0)
		log_warn("filter", NULL, "op=bayes-learn scope=\"%s\" "
			 "error=\"%s\"", j->scope, err.msg);
	lr_feats_free(&f);
	filter_tokens_free(&t);
	free(data);
}

static void learn_run(struct job *job)
{
	struct learn_job *j = (struct learn_job *)job;
	for (size_t i = 0; i < j->n; i++)
		learn_uid(j, j->uids[i]);
}

static void learn_done(struct job *job)
{
	struct learn_job *j = (struct learn_job *)job;
	atomic_fetch_sub(&j->l->queued, 1);
	free(j);
}

struct bayes_learner *bayes_learner_new(struct store *st)
{
	struct bayes_learner *l = xcalloc(1, sizeof *l);
	l->st = st;
	l->b = bayes_new(st, NULL);
	l->jobs = jobs_new(1);
	atomic_init(&l->queued, 0);
	return l;
}

void bayes_learner_free(struct bayes_learner **lp)
{
	struct bayes_learner *l = *lp;
	if (l == NULL)
		return;
	jobs_free(&l->jobs);
	bayes_free(&l->b);
	free(l);
	*lp = NULL;
}

void bayes_learner_submit(struct bayes_learner *l, const char *scope,
			  int64_t folder_id, const uint32_t *uids, size_t n,
			  enum store_bayes_label label)
{
	if (n == 0 || label == STORE_BAYES_NONE)
		return;
	if (n > BAYES_LEARN_BATCH_MAX) {
		log_warn("filter", NULL, "op=bayes-learn scope=\"%s\" "
			 "dropped=%zu reason=batch", scope,
			 n - BAYES_LEARN_BATCH_MAX);
		n = BAYES_LEARN_BATCH_MAX;
	}
	if (atomic_fetch_add(&l->queued, 1) >= BAYES_LEARN_QUEUE_MAX ||
	    strlen(scope) > STORE_BAYES_SCOPE_MAX) {
		atomic_fetch_sub(&l->queued, 1);
		log_warn("filter", NULL, "op=bayes-learn scope=\"%s\" "
			 "dropped=%zu reason=busy", scope, n);
		return;
	}
	struct learn_job *j = xcalloc(1, sizeof *j + n * sizeof j->uids[0]);
	j->job.run = learn_run;
	j->job.done = learn_done;
	j->l = l;
	memcpy(j->scope, scope, strlen(scope) + 1);
	j->folder_id = folder_id;
	j->label = label;
	j->n = n;
	memcpy(j->uids, uids, n * sizeof uids[0]);
	jobs_submit(l->jobs, &j->job);
}
