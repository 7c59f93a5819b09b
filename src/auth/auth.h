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

/* Turn on login protection (guard.h) for every login checked by au: the
 * daemon calls it once, before any login. Lockouts and their ends are
 * queued for the audit log. Without it nothing is counted or locked and
 * a failed login's a->delay is its a->base_delay. */
struct auth_guard_conf;
void auth_set_guard(struct auth *au, const struct auth_guard_conf *conf);
/* For logins checked outside auth_login_submit (SCRAM): true if ip or
 * user is locked (the exchange must then fail like a wrong password);
 * and the outcome, returning the seconds to wait before a failure's
 * reply (the base delay when there is no guard). */
bool auth_login_locked(struct auth *au, const char *ip, const char *user);
unsigned auth_login_outcome(struct auth *au, const char *ip, const char *user,
			    bool ok, unsigned base_delay);

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
	char ip[64];			/* the client's address, for the audit
					 * log and the app password's last use */
	const char *proto;		/* "imap", "pop3", "smtp" (static) */
	/* out */
	bool ok;			/* credentials good and mailbox enabled */
	bool temp_fail;			/* store error: try again later */
	bool cached;			/* answered from the login cache */
	/* refused because the domain requires two-factor authentication
	 * and this was not an app password: say so to the client */
	bool app_password_required;
	int64_t app_password_id;	/* the app password used, 0 if none */
	/* seconds to wait before replying to a failure: the guard's growing
	 * delay; callers without a guard get base_delay */
	unsigned delay;
	unsigned base_delay;		/* in: auth_failure_delay */
	int64_t mailbox_id;
	char address[320];		/* canonical local@domain */
};

/* Check a's credentials on a pool thread, then call a->done. The
 * password may be the mailbox's (Argon2id, cached) or any valid app
 * password of it (a keyed hash, looked up each time, so that revoking
 * one takes effect at the next login; never cached). In a domain that
 * requires 2FA only app passwords are taken. A user that does not
 * exist costs the same hash verification as one that does, so timing
 * does not tell which addresses exist. Every outcome but a store error
 * is queued for the audit log with a->ip and a->proto. With a guard
 * (auth_set_guard), a locked address or account fails whatever the
 * password, at the cost and with the reply of a wrong one, and a->delay
 * grows with recent failures. */
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

/* Decode one base64 SASL response ("=" is an empty one) into out: OK with
 * *len_out, or BAD_BASE64 (not base64, or more than outsz bytes). */
enum auth_sasl_result auth_sasl_decode(struct span b64, unsigned char *out,
				       size_t outsz, size_t *len_out);
/* Decode a base64 PLAIN response ("=" is an empty one) into user (a C
 * string) and password (NUL-terminated, *pwlen_out bytes). Nothing is
 * written unless the result is AUTH_SASL_OK; decoded bytes are wiped. */
enum auth_sasl_result auth_sasl_plain(struct span b64, char *user, size_t usersz,
				      char *password, size_t pwsz,
				      size_t *pwlen_out);

/* ---- SCRAM-SHA-256 (RFC 5802, RFC 7677) -------------------------------
 * The stored secret is "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:
 * <ServerKey>" (base64 fields, PostgreSQL's layout): enough to verify a
 * client's proof, not to log in elsewhere with it, and never the
 * password. Passwords are used as bytes (no SASLprep): ASCII passwords,
 * which our clients send unchanged, work; others may not. */
#define AUTH_SCRAM_KEY_LEN 32		/* SHA-256 */
#define AUTH_SCRAM_SALT_LEN 16
#define AUTH_SCRAM_ITERATIONS 4096	/* RFC 7677 4: at least 4096 */
#define AUTH_SCRAM_ITERATIONS_MIN 4096
#define AUTH_SCRAM_ITERATIONS_MAX 10000000
#define AUTH_SCRAM_SECRET_MAX 256
#define AUTH_SCRAM_MSG_MAX 512		/* longest decoded client message */
#define AUTH_SCRAM_SNONCE_LEN 24	/* base64 of 18 random bytes */
#define AUTH_USER_MAX 320

struct auth_scram_secret {
	unsigned iterations;
	unsigned char salt[64];
	size_t salt_len;
	unsigned char stored_key[AUTH_SCRAM_KEY_LEN];
	unsigned char server_key[AUTH_SCRAM_KEY_LEN];
};

/* Make the stored secret for password (random salt) into out. 0 or -1.
 * Costs one PBKDF2 of iterations rounds: not for an event loop. */
int auth_scram_secret_make(const char *password, size_t len, unsigned iterations,
			   char *out, size_t outsz, struct err *err)
	__attribute__((warn_unused_result));
/* The secret of password for this salt and iteration count. 0 or -1. */
int auth_scram_secret_derive(const char *password, size_t len,
			     const unsigned char *salt, size_t salt_len,
			     unsigned iterations, struct auth_scram_secret *out);
/* Make the secret for password and store it for mailbox_id: where a
 * password is set (petrelctl, first start), next to its Argon2id hash. */
int auth_scram_store(struct store *st, int64_t mailbox_id, const char *password,
		     size_t len, struct err *err) __attribute__((warn_unused_result));
/* Read the text form back; 0, or -1 if it is not one. */
int auth_scram_secret_parse(const char *text, struct auth_scram_secret *out);
/* A stable made-up secret for user (salt and keys from key by HMAC), shown
 * to clients naming an unknown user or one without a SCRAM secret, so the
 * exchange looks the same as for a real one and then fails. */
void auth_scram_mock(const unsigned char *key, size_t keylen, const char *user,
		     struct auth_scram_secret *out);

/* One server-side exchange. Zero it, then: client_first, fill secret
 * (auth_scram_lookup), server_first, client_final. */
struct auth_scram {
	char user[AUTH_USER_MAX];	/* from client-first, unescaped */
	char gs2[AUTH_SCRAM_MSG_MAX];	/* private below */
	size_t gs2_len;
	char bare[AUTH_SCRAM_MSG_MAX];
	size_t bare_len;
	char nonce[AUTH_SCRAM_MSG_MAX];	/* client nonce + ours */
	size_t cnonce_len, nonce_len;
	char server_first[AUTH_SCRAM_MSG_MAX + 128];
	size_t sf_len;
	struct auth_scram_secret secret;
	char ip[64];			/* in: the client, for the guard */
	/* set by auth_scram_lookup */
	bool real;			/* secret is the user's own */
	bool enabled;
	int64_t mailbox_id;
	char address[AUTH_USER_MAX];
};

/* client-first-message (decoded bytes): gs2 header "n,," or "y,,"
 * (channel binding "p=" refused), optional authzid equal to the user,
 * "n=user,r=nonce"; mandatory extensions refused. OK, MALFORMED, or
 * AUTHZ. */
enum auth_sasl_result auth_scram_client_first(struct auth_scram *sc,
					       const unsigned char *msg, size_t len);
/* server-first-message, base64, into out, with a random server nonce.
 * 0 or -1. */
int auth_scram_server_first(struct auth_scram *sc, char *out, size_t outsz);
/* The same with a chosen server nonce (printable, no ','): for tests
 * against the RFC's example exchange. */
int auth_scram_server_first_nonce(struct auth_scram *sc, const char *snonce,
				  size_t snonce_len, char *out, size_t outsz);
/* client-final-message (decoded): checks channel binding and nonce, then
 * the proof in constant time (*proof_ok); on OK, out holds the base64
 * server-final-message ("v=..."). MALFORMED for bad syntax. */
enum auth_sasl_result auth_scram_client_final(struct auth_scram *sc,
					       const unsigned char *msg, size_t len,
					       bool *proof_ok, char *out, size_t outsz);
/* Look sc->user up and set sc->secret: the mailbox's own, or the mock one
 * (sc->real false) for an unknown user, a mailbox without a SCRAM
 * secret, or a locked address or account (auth_login_locked). Store reads only (no hashing). 0, or -1 on a store error. */
int auth_scram_lookup(struct auth *au, struct auth_scram *sc);

/* ---- app passwords (cred.c) -------------------------------------------
 * 16 random lowercase letters (26^16, 75 bits), shown in four groups
 * "abcd-efgh-ijkl-mnop"; taken with or without the dashes or spaces and
 * in any case. Kept as BLAKE2b-256 keyed with the store's key: a random
 * secret of 75 bits needs no slow hash (decision 0021). */
#define AUTH_APP_PASSWORD_LETTERS 16
#define AUTH_APP_PASSWORD_TEXT 20	/* the grouped form and its NUL */
#define AUTH_APP_PASSWORD_HASH_LEN 32

void auth_app_password_random(char out[AUTH_APP_PASSWORD_TEXT]);
/* The hash of password (len bytes) under key: 0, or -1 (nothing written)
 * if it is not shaped like an app password. */
int auth_app_password_hash(const unsigned char key[32], const char *password,
			   size_t len, unsigned char out[AUTH_APP_PASSWORD_HASH_LEN]);
/* Make a new app password for address named name, store its hash and
 * write the password (shown once, never stored) into out. 0 or -1. */
int auth_app_password_create(struct store *st, const char *address,
			     const char *name, char out[AUTH_APP_PASSWORD_TEXT],
			     int64_t *id_out, struct err *err)
	__attribute__((warn_unused_result));

/* ---- TOTP (RFC 6238) (totp.c) ------------------------------------------
 * Authenticator apps use HMAC-SHA-1, 6 digits and 30 s steps; the other
 * hashes are for RFC 6238's test vectors. */
enum auth_totp_alg { AUTH_TOTP_SHA1, AUTH_TOTP_SHA256, AUTH_TOTP_SHA512 };
#define AUTH_TOTP_SECRET_LEN 20		/* bytes of a new secret (RFC 4226 4) */
#define AUTH_TOTP_URI_MAX 512

/* HOTP (RFC 4226 5.3) of counter under key, digits (1..9) long. */
uint32_t auth_totp_code(enum auth_totp_alg alg, const unsigned char *key,
			size_t keylen, uint64_t counter, unsigned digits);
/* RFC 4648 base32 without padding, into out (NUL-terminated). 0 or -1
 * (out too small). */
int auth_base32_encode(const unsigned char *in, size_t n, char *out,
		       size_t outsz);
/* Decode base32 (either case, '=' padding and spaces ignored) of len
 * bytes into out: 0 and *outlen, or -1 (bad character, too long). */
int auth_base32_decode(const char *in, size_t len, unsigned char *out,
		       size_t outsz, size_t *outlen);
/* The time step a code (len bytes, AUTH_TOTP_DIGITS digits) is valid for
 * at time now, among the steps within AUTH_TOTP_WINDOW of now's and
 * later than last_step; -1 if none (wrong, malformed or reused). */
int64_t auth_totp_match(const unsigned char *key, size_t keylen, int64_t now,
			const char *code, size_t len, int64_t last_step);
/* "otpauth://totp/petrel:ADDRESS?secret=...&issuer=petrel" into out
 * (AUTH_TOTP_URI_MAX). 0 or -1. */
int auth_totp_uri(const char *address, const char *secret_b32, char *out,
		  size_t outsz);
/* Give address a new random secret (replacing any) and write its base32
 * text into out (at least 40 bytes). 0 or -1. */
int auth_totp_enable(struct store *st, const char *address, char *out,
		     size_t outsz, struct err *err)
	__attribute__((warn_unused_result));
/* Check code for address at now and take its step (so it is never
 * accepted twice): 1 accepted, 0 wrong or reused, -1 error (ERR_NOTFOUND
 * when address has no TOTP). Audited either way. */
int auth_totp_verify(struct store *st, const char *address, const char *code,
		     int64_t now, struct err *err);

/* Write a random password of n printable characters (no look-alikes such
 * as 0/O, 1/l) and a NUL into out (size > n). */
void auth_password_random(char *out, size_t n);

/* ---- password policy (policy.c, decision 0024) ------------------------
 * The one check every place that sets a chosen password calls (petrelctl
 * mailbox add, the bulk import, password resets), with the policy of the
 * mailbox's domain (store_domain_password_policy). */
struct store_password_policy;
#define AUTH_PASSWORD_MAX 256	/* octets of a password we take */

/* 0 if password (len octets, UTF-8) meets p for the mailbox with local
 * part local (may be NULL), else -1 with *why a static sentence for the
 * administrator ("shorter than the minimum length", ...). Length is
 * counted in characters; classes are lower case, upper case, digits and
 * everything else; the local part and the built-in list of common
 * passwords are compared ignoring ASCII case. Thread-safe. */
int auth_password_policy_check(const struct store_password_policy *p,
			       const char *password, size_t len,
			       const char *local, const char **why);
/* The defaults of a new domain: 10 characters, 3 classes, both checks. */
void auth_password_policy_default(struct store_password_policy *p);
/* true if s is an Argon2id hash string libsodium can verify against
 * (for imports that bring their users' hashes along). */
bool auth_password_hash_valid(const char *s);
/* A random password meeting p (at least 16 characters) into out (size
 * outsz > the length), for mailboxes created without one. */
void auth_password_generate(const struct store_password_policy *p,
			    char *out, size_t outsz);

#endif
