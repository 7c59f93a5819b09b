/* login.c - checking a mail client's user name and password off the event
 * loop (jobs pool), with a small cache of recent successes. The user name
 * is the full address. */
#include "auth/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/guard.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"

struct auth_cache_entry {
	unsigned char key[crypto_generichash_BYTES];
	char hash[AUTH_HASH_MAX];	/* the stored hash it was checked against */
	int64_t expires;
};

struct auth {
	struct store *store;
	struct jobs *jobs;
	pthread_mutex_t mu;
	unsigned char secret[crypto_generichash_KEYBYTES];
	struct auth_cache_entry *slots;	/* AUTH_CACHE_SLOTS, direct-mapped */
	/* An Argon2id hash of a random password, verified against when the
	 * user does not exist so that both cases cost the same. */
	char dummy_hash[AUTH_HASH_MAX];
	/* The store's key for SCRAM salts of unknown users (random here if
	 * the store has none, e.g. a fuzzer's). */
	unsigned char mock_key[32];
	/* The store's key for app password hashes (random here if the store
	 * has none: then no app password matches). */
	unsigned char app_key[32];
	struct auth_guard *guard;	/* NULL: no login protection */
};

struct auth *auth_new(struct store *st, struct jobs *jobs)
{
	return auth_new_cost(st, jobs, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			     crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

struct auth *auth_new_cost(struct store *st, struct jobs *jobs,
			   unsigned long long opslimit, size_t memlimit)
{
	struct auth *au = xcalloc(1, sizeof *au);
	au->store = st;
	au->jobs = jobs;
	pthread_mutex_init(&au->mu, NULL);
	randombytes_buf(au->secret, sizeof au->secret);
	au->slots = xcalloc(AUTH_CACHE_SLOTS, sizeof *au->slots);
	char pw[33], hex[80];
	struct err err;
	size_t klen = 0;
	if (st == NULL || store_scram_mock_key(st, hex, sizeof hex, &err) != 0 ||
	    sodium_hex2bin(au->mock_key, sizeof au->mock_key, hex, strlen(hex),
			   NULL, &klen, NULL) != 0 || klen != sizeof au->mock_key)
		randombytes_buf(au->mock_key, sizeof au->mock_key);
	if (st == NULL || store_app_password_key(st, au->app_key, &err) != 0)
		randombytes_buf(au->app_key, sizeof au->app_key);
	auth_password_random(pw, 32);
	if (auth_password_hash_cost(pw, 32, au->dummy_hash, sizeof au->dummy_hash,
				    opslimit, memlimit, &err) != 0)
		au->dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof pw);
	return au;
}

void auth_free(struct auth **ap)
{
	struct auth *au = *ap;
	if (au == NULL)
		return;
	sodium_memzero(au->slots, AUTH_CACHE_SLOTS * sizeof *au->slots);
	sodium_memzero(au->secret, sizeof au->secret);
	sodium_memzero(au->mock_key, sizeof au->mock_key);
	sodium_memzero(au->app_key, sizeof au->app_key);
	free(au->slots);
	auth_guard_free(&au->guard);
	pthread_mutex_destroy(&au->mu);
	free(au);
	*ap = NULL;
}

/* Lockouts and their ends, queued like logins. */
static void guard_event(void *arg, const char *kind, const char *subject,
			const char *what, const char *detail, int64_t when)
{
	struct auth *au = arg;
	store_audit_event(au->store, kind, subject,
			  !strcmp(what, "ip") ? subject : "", detail, when);
}

void auth_set_guard(struct auth *au, const struct auth_guard_conf *conf)
{
	auth_guard_free(&au->guard);
	au->guard = auth_guard_new(conf, AUTH_GUARD_SLOTS,
				   au->store ? guard_event : NULL, au);
}

bool auth_login_locked(struct auth *au, const char *ip, const char *user)
{
	return au->guard != NULL && auth_guard_locked(au->guard, ip, user);
}

unsigned auth_login_outcome(struct auth *au, const char *ip, const char *user,
			    bool ok, unsigned base_delay)
{
	if (au->guard == NULL)
		return ok ? 0 : base_delay;
	return auth_guard_record(au->guard, ip, user, ok);
}

static int split_user(const char *user, char *local, size_t lsz, char *domain,
		      size_t dsz)
{
	const char *at = strrchr(user, '@');
	if (at == NULL || at == user || at[1] == '\0')
		return -1;
	size_t ll = (size_t)(at - user), dl = strlen(at + 1);
	if (ll >= lsz || dl >= dsz)
		return -1;
	memcpy(local, user, ll);
	local[ll] = '\0';
	for (size_t i = 0; i <= dl; i++) {
		char ch = at[1 + i];
		domain[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	return 0;
}

static void cache_key(const struct auth *au, const struct auth_login *a,
		      unsigned char key[crypto_generichash_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, au->secret, sizeof au->secret, crypto_generichash_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)a->user, strlen(a->user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)a->password, a->password_len);
	crypto_generichash_final(&st, key, crypto_generichash_BYTES);
}

/* true if key was verified against this same stored hash recently */
static bool cache_hit(struct auth *au, const unsigned char *key, const char *hash)
{
	struct auth_cache_entry *e = &au->slots[((size_t)key[0] | (size_t)key[1] << 8) % AUTH_CACHE_SLOTS];
	bool hit;
	pthread_mutex_lock(&au->mu);
	hit = sodium_memcmp(e->key, key, sizeof e->key) == 0 &&
	      e->expires > (int64_t)time(NULL) && strcmp(e->hash, hash) == 0;
	pthread_mutex_unlock(&au->mu);
	return hit;
}

static void cache_put(struct auth *au, const unsigned char *key, const char *hash)
{
	struct auth_cache_entry *e = &au->slots[((size_t)key[0] | (size_t)key[1] << 8) % AUTH_CACHE_SLOTS];
	pthread_mutex_lock(&au->mu);
	memcpy(e->key, key, sizeof e->key);
	snprintf(e->hash, sizeof e->hash, "%s", hash);
	e->expires = (int64_t)time(NULL) + AUTH_CACHE_TTL;
	pthread_mutex_unlock(&au->mu);
}

/* The mailbox's own password: from the cache, or Argon2id. */
static bool check_password(struct auth *au, struct auth_login *a,
			   const char *hash)
{
	unsigned char key[crypto_generichash_BYTES];
	bool ok = false;
	cache_key(au, a, key);
	if (cache_hit(au, key, hash)) {
		ok = true;
		a->cached = true;
	} else if (auth_password_check(hash, a->password, a->password_len)) {
		ok = true;
		cache_put(au, key, hash);
	}
	sodium_memzero(key, sizeof key);
	return ok;
}

/* Queue the outcome for the audit log (never blocks on the disk). */
static void login_audit(struct auth *au, const struct auth_login *a,
			const char *how)
{
	char detail[96];
	snprintf(detail, sizeof detail, "proto=%s %s", a->proto ? a->proto : "-",
		 how);
	if (a->ok)
		store_audit_login_ok(au->store, a->mailbox_id, a->address, a->ip,
				     detail, a->app_password_id,
				     (int64_t)time(NULL));
	else
		store_audit_login(au->store, false, a->user, a->ip, detail, 0,
				  (int64_t)time(NULL));
}

static void login_run(struct job *j)
{
	struct auth_login *a = (struct auth_login *)(void *)j;
	struct auth *au = a->auth_;
	char local[128], domain[256], hash[AUTH_HASH_MAX];
	unsigned char apph[AUTH_APP_PASSWORD_HASH_LEN];
	struct err err;
	a->ok = false;
	a->temp_fail = false;
	a->cached = false;
	a->app_password_required = false;
	a->app_password_id = 0;
	int found = 0, twofa = 0;
	struct store_mailbox mb;
	const char *how = "method=password";
	/* checked first, but the lookups below still run: a locked login
	 * costs what any other does */
	bool locked = auth_login_locked(au, a->ip, a->user);
	if (split_user(a->user, local, sizeof local, domain, sizeof domain) == 0) {
		twofa = store_domain_2fa(au->store, domain, &err);
		found = twofa < 0 ? -1
			: store_mailbox_password(au->store, local, domain, hash,
						 sizeof hash, &err);
		if (found == 1 && store_mailbox_find(au->store, local, domain, &mb,
						     &err) != 1)
			found = -1;
	}
	/* An app password is a keyed hash and one indexed lookup: cheap, and
	 * never cached, so a revoked one fails at its next login. */
	if (found == 1 &&
	    auth_app_password_hash(au->app_key, a->password, a->password_len,
				   apph) == 0 &&
	    store_app_password_match(au->store, mb.id, apph, &a->app_password_id,
				     &err) < 0)
		found = -1;
	if (found < 0) {
		a->temp_fail = true;
		log_error("auth", NULL, "store error=\"%s\"", err.msg);
	} else if (locked) {
		/* the right password is refused too, and answered like a
		 * wrong one (same hash cost, same reply), so that a lock
		 * never confirms a guess */
		if (au->dummy_hash[0] != '\0')
			(void)auth_password_check(au->dummy_hash, a->password,
						  a->password_len);
		a->app_password_required = twofa == 1;
		how = "reason=locked";
	} else if (found == 1 && a->app_password_id > 0) {
		a->ok = mb.enabled;
		how = "method=app-password";
	} else if (twofa == 1) {
		/* the same Argon2id cost as a checked password, whatever the
		 * password and whether the user exists */
		if (au->dummy_hash[0] != '\0')
			(void)auth_password_check(au->dummy_hash, a->password,
						  a->password_len);
		a->app_password_required = true;
		how = "reason=app-password-required";
	} else if (found == 1) {
		a->ok = check_password(au, a, hash) && mb.enabled;
		if (a->cached)
			how = "method=password-cached";
	} else if (au->dummy_hash[0] != '\0') {
		(void)auth_password_check(au->dummy_hash, a->password, a->password_len);
	}
	if (found == 1) {
		a->mailbox_id = mb.id;
		snprintf(a->address, sizeof a->address, "%s", mb.address);
	}
	if (!a->temp_fail) {
		login_audit(au, a, how);
		a->delay = auth_login_outcome(au, a->ip, a->user, a->ok,
					      a->base_delay);
	}
	sodium_memzero(a->password, sizeof a->password);
	a->password_len = 0;
	sodium_memzero(hash, sizeof hash);
	sodium_memzero(apph, sizeof apph);
}

static void login_done(struct job *j)
{
	struct auth_login *a = (struct auth_login *)(void *)j;
	a->done(a);
}

void auth_login_submit(struct auth *au, struct auth_login *a)
{
	a->auth_ = au;
	a->job.run = login_run;
	a->job.done = login_done;
	jobs_submit(au->jobs, &a->job);
}

int auth_scram_lookup(struct auth *au, struct auth_scram *sc)
{
	char local[128], domain[256], text[AUTH_SCRAM_SECRET_MAX];
	struct err err;
	struct store_mailbox mb;
	int found = 0;
	sc->real = false;
	sc->enabled = false;
	sc->mailbox_id = 0;
	sc->address[0] = '\0';
	if (split_user(sc->user, local, sizeof local, domain, sizeof domain) == 0) {
		/* SCRAM proves the mailbox password, which a domain that
		 * requires 2FA does not take from mail clients: such users
		 * get the mock secret, and the exchange fails */
		int twofa = store_domain_2fa(au->store, domain, &err);
		found = twofa < 0 ? -1 : twofa == 1 ? 0
			: store_mailbox_find(au->store, local, domain, &mb, &err);
		/* a lock gets the mock secret: the proof then fails */
		if (found == 1 && auth_login_locked(au, sc->ip, sc->user))
			found = 0;
		if (found == 1 && store_mailbox_scram(au->store, local, domain, text,
						      sizeof text, &err) != 1)
			found = -1;
	}
	if (found < 0) {
		log_error("auth", NULL, "store error=\"%s\"", err.msg);
		return -1;
	}
	if (found == 1) {
		sc->mailbox_id = mb.id;
		sc->enabled = mb.enabled;
		snprintf(sc->address, sizeof sc->address, "%s", mb.address);
		sc->real = auth_scram_secret_parse(text, &sc->secret) == 0;
	}
	if (!sc->real)
		auth_scram_mock(au->mock_key, sizeof au->mock_key, sc->user, &sc->secret);
	return 0;
}

int auth_scram_store(struct store *st, int64_t mailbox_id, const char *password,
		     size_t len, struct err *err)
{
	char secret[AUTH_SCRAM_SECRET_MAX];
	if (auth_scram_secret_make(password, len, AUTH_SCRAM_ITERATIONS, secret,
				   sizeof secret, err) != 0)
		return -1;
	return store_mailbox_set_scram(st, mailbox_id, secret, err);
}
