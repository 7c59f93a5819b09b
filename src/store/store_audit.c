/* store_audit.c - the audit log: an append-only table whose entries form
 * a hash chain. Admin calls append their entry synchronously after their
 * change (rare, and the caller should know it is recorded). Logins are
 * many and come from jobs pool threads: they are queued in memory and a
 * thread of the store writes them in batches, one transaction (one sync)
 * per batch, together with the last use of app passwords (decision 0021).
 *
 * The chain: hash(n) = SHA-256("petrel-audit-1" NUL, prev raw 32 bytes,
 * then id, time, actor, kind, subject, ip, detail each as an 8-byte
 * big-endian length and its bytes; numbers in decimal). The first entry's
 * prev is 32 zero bytes. Entries are appended under SQLite's write lock
 * (BEGIN IMMEDIATE), so petreld and petrelctl never fork the chain.
 */
#include "store/store_private.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define AUDIT_HEX_LEN (2 * crypto_hash_sha256_BYTES)

static _Thread_local char audit_actor[STORE_AUDIT_FIELD_MAX + 1];

void store_audit_set_actor(const char *actor)
{
	snprintf(audit_actor, sizeof audit_actor, "%s", actor ? actor : "");
}

/* Copy s into out (STORE_AUDIT_FIELD_MAX + 1): cut, and control
 * characters as '?', so that a peer-chosen user name cannot forge
 * lines in `audit list`. */
static void field_clean(const char *s, char *out)
{
	size_t n = s ? strnlen(s, STORE_AUDIT_FIELD_MAX) : 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[n] = '\0';
}

static void hash_field(crypto_hash_sha256_state *h, const char *s)
{
	size_t n = strlen(s);
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	crypto_hash_sha256_update(h, len, sizeof len);
	crypto_hash_sha256_update(h, (const unsigned char *)s, n);
}

/* e->hash from e->prev and the fields; -1 if prev is not hex. */
static int entry_hash(const struct store_audit_entry *e, char out[65])
{
	static const char tag[] = "petrel-audit-1";
	unsigned char prev[crypto_hash_sha256_BYTES];
	unsigned char h[crypto_hash_sha256_BYTES];
	size_t n = 0;
	if (sodium_hex2bin(prev, sizeof prev, e->prev, strlen(e->prev), NULL,
			   &n, NULL) != 0 || n != sizeof prev)
		return -1;
	char id[24], tm[24];
	snprintf(id, sizeof id, "%lld", (long long)e->id);
	snprintf(tm, sizeof tm, "%lld", (long long)e->time);
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)tag, sizeof tag);
	crypto_hash_sha256_update(&st, prev, sizeof prev);
	hash_field(&st, id);
	hash_field(&st, tm);
	hash_field(&st, e->actor);
	hash_field(&st, e->kind);
	hash_field(&st, e->subject);
	hash_field(&st, e->ip);
	hash_field(&st, e->detail);
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, 65, h, sizeof h);
	return 0;
}

/* Inside c's write transaction: give e its id and prev, hash and insert. */
static int append(struct store_conn *c, struct store_audit_entry *e,
		  struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_AUDIT_LAST, err);
	if (s == NULL)
		return -1;
	int rc = sqlite3_step(s);
	e->id = 1;
	memset(e->prev, '0', AUDIT_HEX_LEN);
	e->prev[AUDIT_HEX_LEN] = '\0';
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 1);
		e->id = sqlite3_column_int64(s, 0) + 1;
		snprintf(e->prev, sizeof e->prev, "%s", t ? (const char *)t : "");
	}
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(err, c, "audit head");
	/* a damaged head is chained over as it is: verify reports it */
	if (entry_hash(e, e->hash) < 0)
		memset(e->hash, '0', AUDIT_HEX_LEN);
	e->hash[AUDIT_HEX_LEN] = '\0';
	s = store_stmt(c, STMT_AUDIT_ADD, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, e->id);
	sqlite3_bind_int64(s, 2, e->time);
	sqlite3_bind_text(s, 3, e->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, e->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, e->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, e->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, e->prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, e->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "audit append");
	return 0;
}

static void entry_make(struct store_audit_entry *e, int64_t when,
		       const char *actor, const char *kind,
		       const char *subject, const char *ip, const char *detail)
{
	memset(e, 0, sizeof *e);
	e->time = when;
	field_clean(actor, e->actor);
	/* kinds are words joined by '.' ("queue hold" becomes "queue.hold") */
	size_t i = 0;
	for (; kind[i] != '\0' && i < sizeof e->kind - 1; i++)
		e->kind[i] = kind[i] == ' ' ? '.' : kind[i];
	e->kind[i] = '\0';
	field_clean(subject, e->subject);
	field_clean(ip, e->ip);
	field_clean(detail, e->detail);
}

static int append_run(struct store_conn *c, void *arg, struct err *err)
{
	return append(c, arg, err);
}

int store_audit_add(struct store *st, const char *kind, const char *subject,
		    const char *ip, const char *detail, struct err *err)
{
	struct store_audit_entry e;
	entry_make(&e, (int64_t)time(NULL),
		   audit_actor[0] ? audit_actor : "petreld", kind, subject, ip,
		   detail);
	return store_admin_tx(st, append_run, &e, err);
}

static void col_text(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

/* ---- logins: queued, written in batches ---------------------------------- */

struct audit_item {
	struct store_audit_entry e;
	int64_t app_password_id;
	int64_t mailbox_id;	/* a successful login's: its last login */
	struct audit_item *next;
};

struct store_audit_q {
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* work for the thread */
	pthread_cond_t idle_cv;	/* queue empty and nothing being written */
	pthread_t thread;
	struct audit_item *head, *tail;
	size_t n;
	uint64_t dropped;
	bool writing;
	bool stop;
};

static int step_done(struct store_conn *c, enum store_stmt id,
		     int64_t a, const char *text, int64_t b, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, id, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, b);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	return rc == SQLITE_DONE ? 0 : store_db_fail(err, c, "login record");
}

/* A successful login: the mailbox's last login, its known addresses,
 * and a login.new_ip entry for an address not among them. */
static int login_seen(struct store_conn *c, const struct audit_item *it,
		      struct err *err)
{
	const struct store_audit_entry *le = &it->e;
	sqlite3_stmt *s = store_stmt(c, STMT_LOGIN_LAST, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, it->mailbox_id);
	sqlite3_bind_int64(s, 2, le->time);
	sqlite3_bind_text(s, 3, le->ip, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "last login");
	if (le->ip[0] == '\0')
		return 0;
	if (step_done(c, STMT_LOGIN_IP_NEW, it->mailbox_id, le->ip, le->time,
		      err) != 0)
		return -1;
	if (sqlite3_changes(c->db) == 0)
		return step_done(c, STMT_LOGIN_IP_SEEN, it->mailbox_id, le->ip,
				 le->time, err);
	if (step_done(c, STMT_LOGIN_IP_PRUNE, it->mailbox_id, "",
		      STORE_KNOWN_IPS_MAX, err) != 0)
		return -1;
	struct store_audit_entry e;
	entry_make(&e, le->time, le->actor, "login.new_ip", le->subject, le->ip,
		   le->detail);
	return append(c, &e, err);
}

/* One batch in one transaction; on failure the batch is lost (logged):
 * an audit write must never hold logins back. */
static void write_batch(struct store *st, struct audit_item *batch,
			uint64_t dropped)
{
	struct err err;
	struct store_conn *c = st->admin;
	size_t n = 0;
	pthread_mutex_lock(&st->admin_mu);
	int rc = store_exec(c, STMT_BEGIN, &err);
	for (struct audit_item *it = batch; rc == 0 && it; it = it->next, n++) {
		rc = append(c, &it->e, &err);
		if (rc == 0 && it->app_password_id > 0) {
			sqlite3_stmt *s = store_stmt(c, STMT_APP_PASSWORD_USED, &err);
			if (s == NULL) {
				rc = -1;
				break;
			}
			sqlite3_bind_int64(s, 1, it->app_password_id);
			sqlite3_bind_int64(s, 2, it->e.time);
			sqlite3_bind_text(s, 3, it->e.ip, -1, SQLITE_STATIC);
			if (sqlite3_step(s) != SQLITE_DONE)
				rc = store_db_fail(&err, c, "app password use");
			(void)sqlite3_reset(s);	/* rc checked above */
		}
		if (rc == 0 && it->mailbox_id > 0)
			rc = login_seen(c, it, &err);
	}
	if (rc == 0 && dropped > 0) {
		struct store_audit_entry e;
		char detail[48];
		snprintf(detail, sizeof detail, "entries=%llu",
			 (unsigned long long)dropped);
		entry_make(&e, (int64_t)time(NULL), "petreld", "audit.dropped",
			   "", "", detail);
		rc = append(c, &e, &err);
	}
	if (rc == 0)
		rc = store_exec(c, STMT_COMMIT, &err);
	if (rc != 0)
		store_rollback(c);
	pthread_mutex_unlock(&st->admin_mu);
	if (rc != 0)
		log_error("store", NULL, "op=audit-write lost=%zu error=\"%s\"",
			  n, err.msg);
}

static void *audit_thread(void *arg)
{
	struct store *st = arg;
	struct store_audit_q *q = st->auditq;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == NULL && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->head == NULL)
			break;
		struct audit_item *batch = q->head, *last = batch;
		size_t n = 1;
		while (last->next != NULL && n < STORE_AUDIT_BATCH_MAX) {
			last = last->next;
			n++;
		}
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
		q->n -= n;
		uint64_t dropped = q->dropped;
		q->dropped = 0;
		q->writing = true;
		pthread_mutex_unlock(&q->mu);
		write_batch(st, batch, dropped);
		while (batch != NULL) {
			struct audit_item *next = batch->next;
			free(batch);
			batch = next;
		}
		pthread_mutex_lock(&q->mu);
		q->writing = false;
		if (q->head == NULL)
			pthread_cond_broadcast(&q->idle_cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* st->auditq, started at first use. Creation is rare, so it may take
 * the admin lock; every later call only reads the pointer. */
static struct store_audit_q *audit_q(struct store *st)
{
	struct store_audit_q *q = __atomic_load_n(&st->auditq, __ATOMIC_ACQUIRE);
	if (q != NULL)
		return q;
	pthread_mutex_lock(&st->admin_mu);
	q = st->auditq;
	if (q == NULL) {
		q = xcalloc(1, sizeof *q);
		pthread_mutex_init(&q->mu, NULL);
		pthread_cond_init(&q->cv, NULL);
		pthread_cond_init(&q->idle_cv, NULL);
		__atomic_store_n(&st->auditq, q, __ATOMIC_RELEASE);
		if (pthread_create(&q->thread, NULL, audit_thread, st) != 0) {
			log_error("store", NULL, "op=audit-thread error=start");
			q->stop = true;	/* entries are dropped from now on */
		}
	}
	pthread_mutex_unlock(&st->admin_mu);
	return q;
}

static void enqueue(struct store *st, const char *actor, const char *kind,
		    const char *subject, const char *ip, const char *detail,
		    int64_t app_password_id, int64_t mailbox_id, int64_t when)
{
	struct store_audit_q *q = audit_q(st);
	pthread_mutex_lock(&q->mu);
	if (q->stop || q->n >= STORE_AUDIT_QUEUE_MAX) {
		q->dropped++;
		pthread_mutex_unlock(&q->mu);
		return;
	}
	pthread_mutex_unlock(&q->mu);
	struct audit_item *it = xcalloc(1, sizeof *it);
	entry_make(&it->e, when, actor, kind, subject, ip, detail);
	it->app_password_id = app_password_id;
	it->mailbox_id = mailbox_id;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void store_audit_login(struct store *st, bool ok, const char *user,
		       const char *ip, const char *detail,
		       int64_t app_password_id, int64_t when)
{
	enqueue(st, user, ok ? "login.ok" : "login.fail", user, ip, detail,
		app_password_id, 0, when);
}

void store_audit_login_ok(struct store *st, int64_t mailbox_id,
			  const char *user, const char *ip, const char *detail,
			  int64_t app_password_id, int64_t when)
{
	enqueue(st, user, "login.ok", user, ip, detail, app_password_id,
		mailbox_id, when);
}

void store_audit_event(struct store *st, const char *kind,
		       const char *subject, const char *ip, const char *detail,
		       int64_t when)
{
	enqueue(st, "petreld", kind, subject, ip, detail, 0, 0, when);
}

int store_mailbox_last_login(struct store *st, int64_t mailbox_id,
			     int64_t *when, char *ip, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_LOGIN_LAST_GET, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, mailbox_id);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*when = sqlite3_column_int64(s, 0);
			col_text(s, 1, ip, 64);
			ret = 1;
		} else if (rc == SQLITE_DONE) {
			ret = 0;
		} else {
			store_db_fail(err, c, "last login");
		}
		(void)sqlite3_reset(s);	/* rc handled above */
	}
	store_reader_put(st, c);
	return ret;
}

void store_audit_flush(struct store *st)
{
	struct store_audit_q *q = __atomic_load_n(&st->auditq, __ATOMIC_ACQUIRE);
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	while ((q->head != NULL || q->writing) && !q->stop)
		pthread_cond_wait(&q->idle_cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void store_audit_stop(struct store *st)
{
	struct store_audit_q *q = st->auditq;
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	bool started = !q->stop;
	q->stop = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (started)
		pthread_join(q->thread, NULL);	/* it drains the queue first */
	while (q->head != NULL) {
		struct audit_item *next = q->head->next;
		free(q->head);
		q->head = next;
	}
	pthread_cond_destroy(&q->idle_cv);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
	st->auditq = NULL;
}

/* ---- reading and verifying ------------------------------------------------ */

/* Walk the entries with time >= since; fn != 0 stops. */
static int audit_walk(struct store *st, int64_t since,
		      int (*fn)(const struct store_audit_entry *e, void *arg),
		      void *arg, struct err *err)
{
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	int ret = -1;
	sqlite3_stmt *s = store_stmt(c, STMT_AUDIT_EACH, err);
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, since);
		struct store_audit_entry *e = xcalloc(1, sizeof *e);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			e->id = sqlite3_column_int64(s, 0);
			e->time = sqlite3_column_int64(s, 1);
			col_text(s, 2, e->actor, sizeof e->actor);
			col_text(s, 3, e->kind, sizeof e->kind);
			col_text(s, 4, e->subject, sizeof e->subject);
			col_text(s, 5, e->ip, sizeof e->ip);
			col_text(s, 6, e->detail, sizeof e->detail);
			col_text(s, 7, e->prev, sizeof e->prev);
			col_text(s, 8, e->hash, sizeof e->hash);
			if (fn(e, arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			ret = 0;
		else
			store_db_fail(err, c, "read audit log");
		(void)sqlite3_reset(s);	/* rc handled above */
		free(e);
	}
	store_reader_put(st, c);
	return ret;
}

int store_audit_each(struct store *st, int64_t since,
		     int (*fn)(const struct store_audit_entry *e, void *arg),
		     void *arg, struct err *err)
{
	return audit_walk(st, since, fn, arg, err);
}

/* s is d, or ends in "@d" (ASCII case-insensitive) */
static bool in_domain(const char *s, const char *d)
{
	size_t n = strlen(s), dn = strlen(d);
	if (n == dn && !strcasecmp(s, d))
		return true;
	return n > dn + 1 && s[n - dn - 1] == '@' && !strcasecmp(s + n - dn, d);
}

bool store_audit_match(const struct store_audit_entry *e,
		       const struct store_audit_filter *f)
{
	if (f->actor != NULL && f->actor[0] != '\0' && strcmp(e->actor, f->actor))
		return false;
	if (f->kind != NULL && f->kind[0] != '\0') {
		size_t n = strlen(f->kind);
		if (strncmp(e->kind, f->kind, n) != 0 ||
		    (e->kind[n] != '\0' && e->kind[n] != '.'))
			return false;
	}
	if (f->domain != NULL && f->domain[0] != '\0' &&
	    !in_domain(e->subject, f->domain) && !in_domain(e->actor, f->domain))
		return false;
	return true;
}

struct query_state {
	const struct store_audit_filter *f;
	int (*fn)(const struct store_audit_entry *e, void *arg);
	void *arg;
	size_t n;
	bool more;
};

static int query_one(const struct store_audit_entry *e, void *arg)
{
	struct query_state *q = arg;
	if (e->id <= q->f->after_id || !store_audit_match(e, q->f))
		return 0;
	if (q->f->limit > 0 && q->n == q->f->limit) {
		q->more = true;
		return 1;
	}
	q->n++;
	return q->fn(e, q->arg);
}

int store_audit_query(struct store *st, const struct store_audit_filter *f,
		      int (*fn)(const struct store_audit_entry *e, void *arg),
		      void *arg, bool *more_out, struct err *err)
{
	struct query_state q = { f, fn, arg, 0, false };
	int rc = audit_walk(st, f->since, query_one, &q, err);
	if (more_out != NULL)
		*more_out = q.more;
	return rc;
}

struct verify_state {
	int64_t next_id;
	char prev[65];
	uint64_t count;
	int64_t bad_id;
};

static int verify_one(const struct store_audit_entry *e, void *arg)
{
	struct verify_state *v = arg;
	char h[65];
	/* a gap in the ids is a deleted entry; the chain would show it too,
	 * but only at the entry after */
	if (e->id != v->next_id || strcmp(e->prev, v->prev) != 0 ||
	    entry_hash(e, h) < 0 || sodium_memcmp(h, e->hash, 65) != 0) {
		v->bad_id = e->id;
		return 1;
	}
	memcpy(v->prev, e->hash, sizeof v->prev);
	v->next_id++;
	v->count++;
	return 0;
}

int store_audit_verify(struct store *st, int64_t *bad_id_out,
		       uint64_t *count_out, char head[65], struct err *err)
{
	struct verify_state v = { .next_id = 1 };
	memset(v.prev, '0', AUDIT_HEX_LEN);
	/* time is not in order across writers: walk by id from the start */
	if (audit_walk(st, INT64_MIN, verify_one, &v, err) < 0)
		return -1;
	*count_out = v.count;
	*bad_id_out = v.bad_id;
	snprintf(head, 65, "%s", v.count > 0 ? v.prev : "");
	return v.bad_id != 0;
}
