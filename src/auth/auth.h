/* auth.h - credentials: password hashing and checking.
 * Passwords are hashed with Argon2id (libsodium's crypto_pwhash_str, which
 * records its parameters in the hash so they can be raised later).
 * Hashing is slow on purpose: never call these on an event-loop thread
 * for a peer-supplied password without handing the work to a helper. */
#ifndef PETREL_AUTH_H
#define PETREL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/jobs.h"
#include "core/span.h"

/* Long enough for crypto_pwhash_STRBYTES. */
#define AUTH_HASH_MAX 128

/* libsodium must be initialised once before any other call. */
int auth_init(struct err *err) __attribute__((warn_unused_result));

/* Hash password (len bytes) into out (AUTH_HASH_MAX). */
int auth_password_hash(const char *password, size_t len, char *out,
		       size_t outsz, struct err *err)
	__attribute__((warn_unused_result));
/* The same with a chosen Argon2id cost (libsodium's opslimit and
 * memlimit); auth_password_hash uses the INTERACTIVE preset. For tests
 * and fuzzers that need cheap hashes; hashes record their cost, so any
 * of them verifies. */
int auth_password_hash_cost(const char *password, size_t len, char *out,
			    size_t outsz, unsigned long long opslimit,
			    size_t memlimit, struct err *err)
	__attribute__((warn_unused_result));
/* true if password matches hash; constant-time in the hash compare. */
bool auth_password_check(const char *hash, const char *password, size_t len);

/* ---- logins of mail clients (POP3, IMAP, submission) --------------------
 * Checked on a jobs pool thread: the Argon2id verification takes tens of
 * milliseconds and must not stall an event loop. */
struct store;
struct jobs;
struct auth;

/* The login checker: a jobs pool to run on, the store to read password
 * hashes from, and a cache of recent successful logins so that a client
 * that logs in every few minutes does not pay Argon2id (64 MiB, tens of
 * milliseconds) each time. An entry holds a keyed BLAKE2b of user and
 * password (the key is random, in memory only) and the stored hash it was
 * verified against; a changed password or a disabled mailbox misses.
 * Failed logins are never cached. Thread-safe. */
struct auth *auth_new(struct store *st, struct jobs *jobs);
/* The same, with the Argon2id cost of the dummy hash that unknown users
 * are checked against (auth_new: auth_password_hash's); it should be the
 * cost of the store's hashes. For tests and fuzzers whose stores hold
 * cheap hashes, so that an unknown user costs as little as a known one. */
struct auth *auth_new_cost(struct store *st, struct jobs *jobs,
			   unsigned long long opslimit, size_t memlimit);
void auth_free(struct auth **ap);

struct auth_login {
	struct job job;			/* private: set by auth_login_submit */
	struct auth *auth_;		/* private */
	/* in: the caller fills these */
	char user[320];			/* "local@domain" */
	char password[256];		/* wiped once checked */
	size_t password_len;
	void (*done)(struct auth_login *a);	/* on the pool thread; must
						 * only wake the owner */
	void *arg;
	/* out */
	bool ok;			/* credentials good and mailbox enabled */
	bool temp_fail;			/* store error: try again later */
	bool cached;			/* answered from the login cache */
	int64_t mailbox_id;
	char address[320];		/* canonical local@domain */
};

/* Check a's credentials on a pool thread, then call a->done. A user that
 * does not exist costs the same hash verification as one that does, so
 * timing does not tell which addresses exist. */
void auth_login_submit(struct auth *au, struct auth_login *a);

/* ---- SASL PLAIN (RFC 4616) ------------------------------------------ */
/* Longest decoded PLAIN response we take (authzid, user, password). */
#define AUTH_SASL_MAX 700

enum auth_sasl_result {
	AUTH_SASL_OK = 0,
	AUTH_SASL_BAD_BASE64,	/* not base64, or too long */
	AUTH_SASL_MALFORMED,	/* no two NULs, empty or too long a user */
	AUTH_SASL_AUTHZ,	/* an authorization identity other than the user */
};

/* Decode a base64 PLAIN response ("=" is an empty one) into user (a C
 * string) and password (NUL-terminated, *pwlen_out bytes). Nothing is
 * written unless the result is AUTH_SASL_OK; decoded bytes are wiped. */
enum auth_sasl_result auth_sasl_plain(struct span b64, char *user, size_t usersz,
				      char *password, size_t pwsz,
				      size_t *pwlen_out);

/* Write a random password of n printable characters (no look-alikes such
 * as 0/O, 1/l) and a NUL into out (size > n). */
void auth_password_random(char *out, size_t n);

#endif
