/* dkim_keys.h - DKIM signing keys of hosted domains: making them (OpenSSL
 * 3 EVP: RSA-2048 and Ed25519), naming selectors, rotating them ahead of
 * use, and handing the signer the keys to sign with (decision 0029).
 *
 * A key's state follows from its times and the clock, so nothing has to
 * run at the moment a key changes state:
 *     next      published, not yet signing (now < activate_at)
 *     active    signing (activate_at <= now < retire_at, or no retire_at)
 *     retiring  published, no longer signing (retire_at <= now < removed_at)
 *     retired   gone from DNS; its private key is wiped at the next rotation
 * Selectors are "pYYYYMMx" for RSA and "eYYYYMMx" for Ed25519, with the
 * month the key was made and x the first letter (a-z) unused by either,
 * so the two keys of one generation share the suffix.
 *
 * Calls that write go through the store's admin connection and are
 * audited there ("dkim.keygen", "dkim.rotate"). Thread-safe as the store
 * is; key generation takes tens of milliseconds (RSA): not for an event
 * loop thread. Private keys never reach a log line. */
#ifndef PETREL_DKIM_KEYS_H
#define PETREL_DKIM_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

enum dkim_key_alg {
	DKIM_ALG_RSA = 1,
	DKIM_ALG_ED25519 = 2,
	DKIM_ALG_BOTH = 3,	/* a bit set: dual signing */
};

enum dkim_key_state {
	DKIM_KEY_NEXT = 0,
	DKIM_KEY_ACTIVE,
	DKIM_KEY_RETIRING,
	DKIM_KEY_RETIRED,
};

/* The times of a rotation, from dkim_rotate_days, dkim_publish_ahead and
 * dkim_retire_after. */
struct dkim_key_policy {
	int64_t rotate_every;	/* seconds; 0 = never rotate by age */
	int64_t publish_ahead;
	int64_t retire_after;
};

void dkim_key_policy_from_config(const struct config *cfg,
				 struct dkim_key_policy *p);

enum dkim_key_state dkim_key_state(const struct store_dkim_key *k,
				   int64_t now);
/* "next", "active", "retiring", "retired" */
const char *dkim_key_state_name(enum dkim_key_state s);
/* DKIM_ALG_RSA or DKIM_ALG_ED25519 for a stored key's algorithm name. */
enum dkim_key_alg dkim_key_alg_of(const struct store_dkim_key *k);
/* Whether k belongs in DNS at now (next, active or retiring). */
bool dkim_key_published(const struct store_dkim_key *k, int64_t now);
/* The TXT record's text for k: "v=DKIM1; k=rsa; p=..." (one string; the
 * zone writer splits it). 0, or -1 if it does not fit. */
int dkim_key_txt(const struct store_dkim_key *k, char *out, size_t outsz);

/* Make a key pair of one algorithm: the private key as PKCS#8 PEM into
 * pem, the DNS p= value into pub (RSA: base64 SubjectPublicKeyInfo, RFC
 * 6376 3.6.1; Ed25519: base64 of the raw 32 bytes, RFC 8463 4). The
 * caller wipes pem. 0 or -1. */
int dkim_key_make(enum dkim_key_alg alg, char *pem, size_t pemsz,
		  char *pub, size_t pubsz, struct err *err);

/* Make keys of algs (a bit set) for domain, signing from activate_at,
 * with the selector given (only for one algorithm) or the next free
 * one; audited as kind. Refused (ERR_PEER) if domain already has a key
 * of one of algs that is active or next: that is what rotate is for.
 * selectors_out (may be NULL) gets the selectors made, space-separated. */
int dkim_keys_generate(struct store *st, const char *domain, unsigned algs,
		       const char *selector, int64_t now, int64_t activate_at,
		       const char *kind, char *selectors_out, size_t outsz,
		       struct err *err);

/* Rotate domain's keys: new keys (of the algorithms it signs with now,
 * both if none) that sign from now + publish_ahead (now if immediate);
 * the active keys then retire and stay published retire_after longer; a
 * key still waiting to sign is withdrawn (it never signed anything).
 * Private keys of retired keys are wiped. 0 or -1. */
int dkim_keys_rotate(struct store *st, const char *domain,
		     const struct dkim_key_policy *p, bool immediate,
		     int64_t now, char *selectors_out, size_t outsz,
		     struct err *err);

/* Whether domain's newest active key is older than p->rotate_every and
 * no next key waits: 1 due, 0 not, -1 error. */
int dkim_keys_due(struct store *st, const char *domain,
		  const struct dkim_key_policy *p, int64_t now,
		  struct err *err);

/* Keys are made for a domain the first time anyone needs them (the
 * signer, `dns records`, the API): if domain has no key that is active
 * or next, make an RSA and an Ed25519 key signing from now. 1 made,
 * 0 it had keys, -1 error. */
int dkim_keys_ensure(struct store *st, const char *domain, int64_t now,
		     struct err *err);

/* Every key of domain (at most DKIM_KEYS_PER_DOMAIN_MAX, oldest first)
 * into *keys_out (malloc'd, the caller frees). 0 or -1. */
int dkim_keys_list(struct store *st, const char *domain,
		   struct store_dkim_key **keys_out, size_t *n_out,
		   struct err *err);

/* ---- for the signer ----------------------------------------------------- */

struct dkim_signing_key {
	char selector[STORE_DKIM_SELECTOR_MAX + 1];
	enum dkim_key_alg alg;		/* DKIM_ALG_RSA or DKIM_ALG_ED25519 */
	EVP_PKEY *pkey;			/* owned; dkim_signing_keys_free */
};

/* The keys domain signs with at now: at most one RSA and one Ed25519
 * (the most recently activated active key of each), into out[0..*n_out).
 * Ensures keys exist and starts a rotation that is due (both write to
 * the store, audited with this thread's actor). 0 (n may be 0 for a
 * domain not hosted) or -1. */
int dkim_keys_active(struct store *st, const char *domain,
		     const struct dkim_key_policy *p, int64_t now,
		     struct dkim_signing_key out[2], size_t *n_out,
		     struct err *err);
void dkim_signing_keys_free(struct dkim_signing_key *k, size_t n);

#endif
