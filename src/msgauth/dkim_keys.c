/* dkim_keys.c - making, naming, rotating and loading DKIM signing keys
 * (dkim_keys.h). Times decide the state; this file only ever sets times
 * ahead of the clock, so a key changes state without anything running. */
#include "msgauth/dkim_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

void dkim_key_policy_from_config(const struct config *cfg,
				 struct dkim_key_policy *p)
{
	p->rotate_every = (int64_t)cfg->dkim_rotate_days * 86400;
	p->publish_ahead = cfg->dkim_publish_ahead;
	p->retire_after = cfg->dkim_retire_after;
}

enum dkim_key_state dkim_key_state(const struct store_dkim_key *k,
				   int64_t now)
{
	if (k->removed_at != 0 && now >= k->removed_at)
		return DKIM_KEY_RETIRED;
	if (k->retire_at != 0 && now >= k->retire_at)
		return DKIM_KEY_RETIRING;
	if (now < k->activate_at)
		return DKIM_KEY_NEXT;
	return DKIM_KEY_ACTIVE;
}

const char *dkim_key_state_name(enum dkim_key_state s)
{
	static const char *const names[] = { "next", "active", "retiring",
					     "retired" };
	return (unsigned)s < 4 ? names[s] : "?";
}

enum dkim_key_alg dkim_key_alg_of(const struct store_dkim_key *k)
{
	return strcmp(k->algorithm, "ed25519") == 0 ? DKIM_ALG_ED25519
						    : DKIM_ALG_RSA;
}

bool dkim_key_published(const struct store_dkim_key *k, int64_t now)
{
	return dkim_key_state(k, now) != DKIM_KEY_RETIRED;
}

int dkim_key_txt(const struct store_dkim_key *k, char *out, size_t outsz)
{
	/* RFC 6376 3.6.1: v= first; k= rsa is the default but stated for
	 * the admin's sake; RFC 8463 4: k=ed25519. */
	int n = snprintf(out, outsz, "v=DKIM1; k=%s; p=%s",
			 dkim_key_alg_of(k) == DKIM_ALG_ED25519 ? "ed25519"
								: "rsa",
			 k->public_key);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* ---- making keys ---------------------------------------------------------- */

static int ssl_fail(struct err *err, const char *what)
{
	char buf[160];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return err_set(err, ERR_ENV, 0, "", "dkim key: %s: %s", what,
		       e ? buf : "failed");
}

static int b64(const unsigned char *in, size_t len, char *out, size_t outsz,
	       struct err *err)
{
	/* UNSAFE: 4 output bytes per 3 input bytes and a NUL */
	if (len > (outsz - 1) / 4 * 3)
		return err_set(err, ERR_LIMIT, 0, "", "dkim key: public key "
			       "too long");
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return 0;
}

static int public_value(EVP_PKEY *pk, enum dkim_key_alg alg, char *pub,
			size_t pubsz, struct err *err)
{
	if (alg == DKIM_ALG_ED25519) {
		unsigned char raw[32];
		size_t n = sizeof raw;
		if (EVP_PKEY_get_raw_public_key(pk, raw, &n) != 1 || n != 32)
			return ssl_fail(err, "ed25519 public key");
		return b64(raw, n, pub, pubsz, err);
	}
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pk, &der);
	if (n <= 0)
		return ssl_fail(err, "rsa public key");
	int rc = b64(der, (size_t)n, pub, pubsz, err);
	OPENSSL_free(der);
	return rc;
}

int dkim_key_make(enum dkim_key_alg alg, char *pem, size_t pemsz,
		  char *pub, size_t pubsz, struct err *err)
{
	EVP_PKEY *pk = alg == DKIM_ALG_ED25519 ?
		EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
		EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (pk == NULL)
		return ssl_fail(err, "generate");
	int ret = -1;
	BIO *bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0,
						    NULL, NULL) != 1) {
		ssl_fail(err, "write private key");
		goto out;
	}
	char *p;
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0 || (size_t)n >= pemsz) {
		err_set(err, ERR_LIMIT, 0, "", "dkim key: private key too long");
		goto out;
	}
	memcpy(pem, p, (size_t)n);
	pem[n] = '\0';
	ret = public_value(pk, alg, pub, pubsz, err);
out:
	BIO_free(bio);	/* a secmem BIO clears its memory */
	EVP_PKEY_free(pk);
	return ret;
}

/* ---- a domain's keys --------------------------------------------------------- */

struct key_list {
	struct store_dkim_key *k;
	size_t n;
};

static int list_one(const struct store_dkim_key *k, void *arg)
{
	struct key_list *l = arg;
	if (l->n == DKIM_KEYS_PER_DOMAIN_MAX)
		return 1;
	l->k[l->n++] = *k;
	return 0;
}

static int keys_load(struct store *st, const char *domain,
		     struct key_list *l, struct err *err)
{
	l->k = xcalloc(DKIM_KEYS_PER_DOMAIN_MAX, sizeof *l->k);
	l->n = 0;
	if (store_dkim_each(st, domain, list_one, l, err) != 0) {
		free(l->k);
		l->k = NULL;
		return -1;
	}
	return 0;
}

static bool selector_used(const struct key_list *l, const char *sel)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->k[i].selector, sel) == 0)
			return true;
	return false;
}

/* The suffix "YYYYMMx" of a new generation at now. */
static int next_suffix(const struct key_list *l, int64_t now, char *out,
		       size_t outsz, struct err *err)
{
	time_t t = (time_t)now;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		return err_set(err, ERR_PEER, 0, "", "dkim: bad time");
	for (char x = 'a'; x <= 'z'; x++) {
		char p[40], e[40];
		snprintf(out, outsz, "%04u%02u%c",
			 (unsigned)(tm.tm_year + 1900) % 10000u,
			 (unsigned)(tm.tm_mon + 1) % 100u, x);
		snprintf(p, sizeof p, "p%s", out);
		snprintf(e, sizeof e, "e%s", out);
		if (!selector_used(l, p) && !selector_used(l, e))
			return 0;
	}
	return err_set(err, ERR_LIMIT, 0, "", "dkim: 26 key generations this "
		       "month already; give --selector");
}

static void append_word(char *out, size_t outsz, const char *w)
{
	if (out == NULL || outsz == 0)
		return;
	size_t n = strlen(out);
	snprintf(out + n, outsz - n, "%s%s", n ? " " : "", w);
}

/* Memory for a private key's PEM: locked, guarded, wiped when freed.
 * sodium_init is idempotent and thread-safe; callers need not have
 * called it. */
static char *pem_buf(struct err *err)
{
	char *p = sodium_init() < 0 ? NULL
				    : sodium_malloc(STORE_DKIM_PEM_MAX + 1);
	if (p == NULL)
		err_set(err, ERR_ENV, 0, "", "dkim: out of memory");
	return p;
}

static int make_one(struct store *st, const char *domain,
		    enum dkim_key_alg alg, const char *selector, int64_t now,
		    int64_t activate_at, const char *kind, struct err *err)
{
	struct store_dkim_key k;
	memset(&k, 0, sizeof k);
	snprintf(k.domain, sizeof k.domain, "%s", domain);
	snprintf(k.selector, sizeof k.selector, "%s", selector);
	snprintf(k.algorithm, sizeof k.algorithm, "%s",
		 alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa-2048");
	k.created = now;
	k.activate_at = activate_at;
	char *pem = pem_buf(err);
	if (pem == NULL)
		return -1;
	int64_t id;
	int rc = dkim_key_make(alg, pem, STORE_DKIM_PEM_MAX + 1, k.public_key,
			       sizeof k.public_key, err);
	if (rc == 0)
		rc = store_dkim_add(st, &k, pem, kind, &id, err);
	sodium_free(pem);	/* wipes */
	return rc;
}

static int generate(struct store *st, const char *domain,
		    const struct key_list *l, unsigned algs,
		    const char *selector, int64_t now, int64_t activate_at,
		    const char *kind, char *sel_out, size_t outsz,
		    struct err *err)
{
	char suffix[16];
	if (selector == NULL && next_suffix(l, now, suffix, sizeof suffix,
					    err) != 0)
		return -1;
	for (unsigned a = DKIM_ALG_RSA; a <= DKIM_ALG_ED25519; a <<= 1) {
		if (!(algs & a))
			continue;
		char sel[STORE_DKIM_SELECTOR_MAX + 1];
		if (selector != NULL)
			snprintf(sel, sizeof sel, "%s", selector);
		else
			snprintf(sel, sizeof sel, "%c%s",
				 a == DKIM_ALG_RSA ? 'p' : 'e', suffix);
		if (make_one(st, domain, (enum dkim_key_alg)a, sel, now,
			     activate_at, kind, err) != 0)
			return -1;
		append_word(sel_out, outsz, sel);
	}
	return 0;
}

/* The algorithms of algs that domain has a key of, active or next. */
static unsigned algs_in_use(const struct key_list *l, int64_t now)
{
	unsigned have = 0;
	for (size_t i = 0; i < l->n; i++) {
		enum dkim_key_state s = dkim_key_state(&l->k[i], now);
		if (s == DKIM_KEY_ACTIVE || s == DKIM_KEY_NEXT)
			have |= dkim_key_alg_of(&l->k[i]);
	}
	return have;
}

int dkim_keys_generate(struct store *st, const char *domain, unsigned algs,
		       const char *selector, int64_t now, int64_t activate_at,
		       const char *kind, char *selectors_out, size_t outsz,
		       struct err *err)
{
	if (selectors_out != NULL && outsz > 0)
		selectors_out[0] = '\0';
	if (algs == 0 || (algs & ~(unsigned)DKIM_ALG_BOTH) != 0)
		return err_set(err, ERR_PEER, 0, "", "dkim: no algorithm");
	if (selector != NULL && algs == DKIM_ALG_BOTH)
		return err_set(err, ERR_PEER, 0, "", "a selector names one "
			       "key: give --algorithm rsa or ed25519 with it");
	struct key_list l;
	if (keys_load(st, domain, &l, err) != 0)
		return -1;
	int rc = -1;
	unsigned busy = algs_in_use(&l, now) & algs;
	if (busy != 0)
		err_set(err, ERR_PEER, 0, "", "%s already has %s key; use "
			"`petrelctl dkim rotate %s` for a new one", domain,
			busy == DKIM_ALG_ED25519 ? "an ed25519" : "an rsa",
			domain);
	else
		rc = generate(st, domain, &l, algs, selector, now, activate_at,
			      kind, selectors_out, outsz, err);
	free(l.k);
	return rc;
}

int dkim_keys_rotate(struct store *st, const char *domain,
		     const struct dkim_key_policy *p, bool immediate,
		     int64_t now, char *selectors_out, size_t outsz,
		     struct err *err)
{
	if (selectors_out != NULL && outsz > 0)
		selectors_out[0] = '\0';
	int dom = store_domain_exists(st, domain, err);
	if (dom <= 0)
		return dom < 0 ? -1 : err_set(err, ERR_NOTFOUND, 0, "",
					      "domain %s is not hosted here",
					      domain);
	struct key_list l;
	if (keys_load(st, domain, &l, err) != 0)
		return -1;
	unsigned algs = algs_in_use(&l, now);
	if (algs == 0)
		algs = DKIM_ALG_BOTH;
	int64_t start = immediate ? now : now + p->publish_ahead;
	int rc = generate(st, domain, &l, algs, NULL, now, start,
			  "dkim.rotate", selectors_out, outsz, err);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct store_dkim_key *k = &l.k[i];
		switch (dkim_key_state(k, now)) {
		case DKIM_KEY_NEXT:
			/* never signed: out of DNS at once */
			rc = store_dkim_set_retire(st, k->id, now, now, err);
			break;
		case DKIM_KEY_ACTIVE:
			/* RFC 6376 3.6.1 has no expiry; receivers verify mail
			 * for days after it was sent, so the key stays */
			rc = store_dkim_set_retire(st, k->id, start,
						   start + p->retire_after, err);
			break;
		case DKIM_KEY_RETIRING:
			break;
		case DKIM_KEY_RETIRED:
			if (k->has_private)
				rc = store_dkim_wipe(st, k->id, err);
			break;
		}
	}
	free(l.k);
	return rc;
}

int dkim_keys_due(struct store *st, const char *domain,
		  const struct dkim_key_policy *p, int64_t now,
		  struct err *err)
{
	if (p->rotate_every <= 0)
		return 0;
	struct key_list l;
	if (keys_load(st, domain, &l, err) != 0)
		return -1;
	int64_t newest = -1;
	bool waiting = false;
	for (size_t i = 0; i < l.n; i++) {
		enum dkim_key_state s = dkim_key_state(&l.k[i], now);
		if (s == DKIM_KEY_NEXT)
			waiting = true;
		else if (s == DKIM_KEY_ACTIVE && l.k[i].activate_at > newest)
			newest = l.k[i].activate_at;
	}
	free(l.k);
	return !waiting && newest >= 0 && now - newest >= p->rotate_every;
}

int dkim_keys_ensure(struct store *st, const char *domain, int64_t now,
		     struct err *err)
{
	struct key_list l;
	if (keys_load(st, domain, &l, err) != 0)
		return -1;
	unsigned have = algs_in_use(&l, now);
	free(l.k);
	if (have != 0)
		return 0;
	struct err e2;
	if (dkim_keys_generate(st, domain, DKIM_ALG_BOTH, NULL, now, now,
			       "dkim.keygen", NULL, 0, &e2) == 0)
		return 1;
	/* another process made them at the same moment (same selectors) */
	if (e2.kind == ERR_PEER && keys_load(st, domain, &l, err) == 0) {
		have = algs_in_use(&l, now);
		free(l.k);
		if (have != 0)
			return 0;
	}
	*err = e2;
	return -1;
}

int dkim_keys_list(struct store *st, const char *domain,
		   struct store_dkim_key **keys_out, size_t *n_out,
		   struct err *err)
{
	struct key_list l;
	if (keys_load(st, domain, &l, err) != 0)
		return -1;
	*keys_out = l.k;
	*n_out = l.n;
	return 0;
}

/* ---- for the signer --------------------------------------------------------- */

static EVP_PKEY *load_private(struct store *st, int64_t id, struct err *err)
{
	char *pem = pem_buf(err);
	if (pem == NULL)
		return NULL;
	EVP_PKEY *pk = NULL;
	int rc = store_dkim_private(st, id, pem, STORE_DKIM_PEM_MAX + 1, err);
	if (rc == 0)
		err_set(err, ERR_NOTFOUND, 0, "", "dkim key %lld has no "
			"private key", (long long)id);
	if (rc == 1) {
		BIO *bio = BIO_new_mem_buf(pem, -1);
		if (bio != NULL)
			pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (pk == NULL)
			ssl_fail(err, "read private key");
	}
	sodium_free(pem);
	return pk;
}

int dkim_keys_active(struct store *st, const char *domain,
		     const struct dkim_key_policy *p, int64_t now,
		     struct dkim_signing_key out[2], size_t *n_out,
		     struct err *err)
{
	*n_out = 0;
	int hosted = store_domain_exists(st, domain, err);
	if (hosted <= 0)
		return hosted;
	if (dkim_keys_ensure(st, domain, now, err) < 0)
		return -1;
	int due = dkim_keys_due(st, domain, p, now, err);
	if (due < 0 || (due == 1 && dkim_keys_rotate(st, domain, p, false, now,
						     NULL, 0, err) != 0))
		return -1;
	struct key_list l;
	if (keys_load(st, domain, &l, err) != 0)
		return -1;
	const struct store_dkim_key *best[2] = { NULL, NULL };
	for (size_t i = 0; i < l.n; i++) {
		if (dkim_key_state(&l.k[i], now) != DKIM_KEY_ACTIVE ||
		    !l.k[i].has_private)
			continue;
		int slot = dkim_key_alg_of(&l.k[i]) == DKIM_ALG_ED25519;
		if (best[slot] == NULL ||
		    l.k[i].activate_at >= best[slot]->activate_at)
			best[slot] = &l.k[i];
	}
	int rc = 0;
	for (int slot = 0; slot < 2 && rc == 0; slot++) {
		if (best[slot] == NULL)
			continue;
		struct dkim_signing_key *s = &out[*n_out];
		memset(s, 0, sizeof *s);
		snprintf(s->selector, sizeof s->selector, "%s",
			 best[slot]->selector);
		s->alg = slot ? DKIM_ALG_ED25519 : DKIM_ALG_RSA;
		s->pkey = load_private(st, best[slot]->id, err);
		if (s->pkey == NULL)
			rc = -1;
		else
			(*n_out)++;
	}
	free(l.k);
	if (rc != 0) {
		dkim_signing_keys_free(out, *n_out);
		*n_out = 0;
	}
	return rc;
}

void dkim_signing_keys_free(struct dkim_signing_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		EVP_PKEY_free(k[i].pkey);
		k[i].pkey = NULL;
	}
}
