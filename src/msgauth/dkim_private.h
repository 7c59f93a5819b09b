/* dkim_private.h - the pieces DKIM verification, signing and ARC share:
 * the message split into fields, canonicalisation, the DKIM-Signature
 * and key record parsers and the public-key operations. Only src/msgauth
 * includes this. */
#ifndef PETREL_DKIM_PRIVATE_H
#define PETREL_DKIM_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/span.h"
#include "msgauth/arc.h"
#include "msgauth/dkim.h"

/* ---- the message (dkim_msg.c) ------------------------------------------ */

/* One header field: name (before the colon, trailing WSP dropped) and raw
 * (the whole field, folds included, without its final line end). Both
 * point into the message. */
struct dkim_field {
	const char *name;
	size_t name_len;
	const char *raw;
	size_t raw_len;
};

/* A body hash once computed, so that signatures sharing c=, a= and l=
 * (every AMS of a chain, usually) hash a large body once. */
struct dkim_body_digest {
	enum dkim_canon canon;
	bool sha1;
	uint64_t limit;
	uint64_t total;			/* the whole canonical body's length */
	unsigned mdlen;
	unsigned char md[EVP_MAX_MD_SIZE];
};

#define DKIM_BODY_DIGESTS 4

struct dkim_msg {
	size_t n;
	struct dkim_field *f;		/* n fields, top-down; owned */
	const char *body;		/* after the empty line; borrowed */
	size_t body_len;
	size_t ndigests;		/* body hashes kept (dkim_check_body) */
	struct dkim_body_digest digest[DKIM_BODY_DIGESTS];
};

/* Split msg into fields and body. A message without an empty line has an
 * empty body. -1 with err: a line that is not a field (no colon, empty
 * name, starts with WSP at the top), more than DKIM_MAX_HEADERS fields, a
 * field over DKIM_MAX_FIELD or a header section over
 * DKIM_MAX_HEADER_SECTION. */
int dkim_msg_split(const char *msg, size_t len, struct dkim_msg *m, struct err *err);
void dkim_msg_free(struct dkim_msg *m);
bool dkim_field_is(const struct dkim_field *f, const char *name, size_t len);

/* ---- canonicalisation (dkim_canon.c, RFC 6376 3.4) ---------------------- */

/* Where canonical bytes go: a hash, or a buffer in the tests. */
struct dkim_sink {
	void (*put)(void *arg, const void *p, size_t n);
	void *arg;
};

void dkim_sink_md(struct dkim_sink *s, EVP_MD_CTX *ctx);

/* One header field (raw as in struct dkim_field), with "\r\n" after it
 * when crlf (the signature field itself is hashed without, 3.7). */
void dkim_canon_header(enum dkim_canon c, const char *raw, size_t len, bool crlf,
		       const struct dkim_sink *out);
/* The body, at most limit canonical octets of it written (UINT64_MAX: all);
 * returns the length of the whole canonical body. */
uint64_t dkim_canon_body(enum dkim_canon c, const char *body, size_t len,
			 uint64_t limit, const struct dkim_sink *out);
/* Copy field into out (len bytes available) without the value of its b=
 * tag, surrounding whitespace included (3.7); returns the new length. */
size_t dkim_strip_b(const char *field, size_t len, char *out);
/* Hash the fields named in names as 5.4.2 selects them (each name takes
 * the lowest instance not yet used; none left: nothing, the "null"
 * string), then sigfield (b= value already removed) without CRLF. */
void dkim_hash_headers(const struct dkim_msg *m, enum dkim_canon c,
		       const struct span *names, size_t n, const char *sigfield,
		       size_t siglen, EVP_MD_CTX *ctx);

/* ---- DKIM-Signature and ARC signatures (dkim_sig.c) ----------------------- */

/* The three fields with DKIM's tag syntax: DKIM-Signature (RFC 6376
 * 3.5), ARC-Message-Signature (RFC 8617 4.1.2: i= is the instance, no
 * v=, From not required) and ARC-Seal (4.1.3: cv=, no bh=, c= or h=). */
enum dkim_sig_kind {
	DKIM_SIG_DKIM = 0,
	DKIM_SIG_AMS,
	DKIM_SIG_AS,
};

struct dkim_sig {
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	char d[DNS_NAME_MAX + 1];	/* lower case */
	char s[DKIM_MAX_SELECTOR + 1];
	char i[DKIM_MAX_IDENTITY + 1];	/* "@d" when absent */
	char a[24];
	char b8[9];
	size_t nh;
	struct span h[DKIM_MAX_SIGNED_HEADERS];	/* into the field */
	unsigned char b[DKIM_MAX_SIG_BYTES];
	size_t b_len;
	unsigned char bh[EVP_MAX_MD_SIZE];
	size_t bh_len;
	bool has_l, has_t, has_x;
	uint64_t l, t, x;
	unsigned instance;		/* ARC: i= */
	enum arc_cv cv;			/* ARC-Seal: cv= */
};

/* Parse a DKIM-Signature value (after the colon). d, s, i, a and b8 are
 * filled as soon as they are read, so a later error can still be
 * reported with them. 0, or -1 with *why a static reason (permerror). */
int dkim_sig_parse(const char *val, size_t len, enum dkim_sig_kind kind,
		   struct dkim_sig *sig, const char **why);

/* Strict base64 (RFC 6376 2.4: FWS anywhere is ignored, padding only at
 * the end). 0 with *outlen, -1 on a bad character or more than max. */
int dkim_b64_decode(const char *s, size_t len, unsigned char *out, size_t max,
		    size_t *outlen);
/* Colon lists (h=, q=, and the key's h=, s=, t=): the next element,
 * FWS trimmed, from *pos (start at 0); false when the list is done. An
 * empty list is one empty element. */
bool dkim_colon_next(const char *s, size_t len, size_t *pos, struct span *item);
/* A decimal number of 1 to 18 digits (RFC 6376 3.5 t= x= l=). */
int dkim_parse_u64(const char *s, size_t len, uint64_t *out);

/* ---- key records (dkim_key.c, RFC 6376 3.6.1) -------------------------- */

struct dkim_key {
	bool ed25519;		/* k=ed25519 (RFC 8463), else rsa */
	bool revoked;		/* p= empty */
	bool testing;		/* t=y */
	bool strict;		/* t=s: i= domain must equal d= */
	bool sha1_ok, sha256_ok;	/* h= */
	unsigned char p[DKIM_MAX_KEY_BYTES];
	size_t p_len;
};

/* 0, or -1 with *why (v= not DKIM1, unknown k=, s= without email or *,
 * bad p=). Unknown tags are ignored (3.6.1). */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *k, const char **why);

/* ---- verification steps (dkim_verify.c), shared with ARC ------------------ */

/* The key for sig from <s>._domainkey.<d>, checked against sig (k=, h=,
 * t=s, revoked, size); NULL with r->result and r->reason set. key is
 * scratch space. The EVP_PKEY is the caller's to free. */
EVP_PKEY *dkim_fetch_key(const struct ma_dns *dns, const struct dkim_sig *sig,
			 struct dkim_key *key, struct dkim_sig_result *r);
/* 1 when the body hash (with l=) matches; 0 with r set. Keeps the hash
 * in m for the next signature asking for the same one. */
int dkim_check_body(struct dkim_msg *m, const struct dkim_sig *sig,
		    struct dkim_sig_result *r);
/* Hash the h= fields and f (the signature field, b= removed) and check
 * b= with pk; r is pass, policy (rsa-sha1) or fail. */
void dkim_check_sig(const struct dkim_msg *m, const struct dkim_field *f,
		    const struct dkim_sig *sig, EVP_PKEY *pk, struct dkim_sig_result *r);

/* ---- signing steps (dkim_sign.c), shared with ARC ------------------------ */

/* A growing text with the column of its last line, for folding. */
struct dkim_text {
	char *p;		/* NUL-terminated; owned */
	size_t len, cap, col;
};

void dkim_text_add(struct dkim_text *t, const char *s, size_t n);
/* s after a space, or on a new folded line ("\r\n ") when it would pass
 * col. */
void dkim_text_word(struct dkim_text *t, const char *s, size_t n, bool space, size_t col);
/* Base64 of p, NUL-terminated, the caller's to free. */
char *dkim_b64_encode(const unsigned char *p, size_t n);
/* Base64 of the body hash (SHA-256) of m in canonicalisation c. */
char *dkim_body_hash(const struct dkim_msg *m, enum dkim_canon c);
/* Base64 of alg's signature by key over digest; NULL on failure. */
char *dkim_sign_digest(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *digest,
		       size_t dlen);
/* The algorithm a key signs with: rsa-sha256 (RSA of DKIM_MIN_RSA_BITS
 * or more) or ed25519-sha256; -1 for anything else. */
int dkim_key_alg(EVP_PKEY *key);
/* h= for signing: given ("from:to", From required) or NULL for the
 * default set with over-signing (dkim.h). Names point into given or
 * static text; at most DKIM_MAX_SIGNED_HEADERS. */
int dkim_pick_headers(const struct dkim_msg *m, const char *given, struct span *names,
		      size_t *n, struct err *err);

/* ---- public-key operations (dkim_crypto.c) ------------------------------ */

const EVP_MD *dkim_alg_md(enum dkim_alg a);
/* The key of a record: SubjectPublicKeyInfo or PKCS#1 RSAPublicKey for
 * RSA, 32 raw octets for Ed25519. NULL with *why, also for RSA keys
 * under DKIM_MIN_RSA_BITS. */
EVP_PKEY *dkim_key_pkey(const struct dkim_key *k, const char **why);
/* 1 when sig is a's signature of digest by key, 0 when not. RSA signs the
 * DigestInfo of the digest (PKCS#1 v1.5), Ed25519 the digest's octets
 * (RFC 8463 3). */
int dkim_crypto_verify(EVP_PKEY *key, enum dkim_alg a, const unsigned char *digest,
		       size_t dlen, const unsigned char *sig, size_t slen);
/* Sign digest into sig (room for DKIM_MAX_SIG_BYTES); -1 on failure. */
int dkim_crypto_sign(EVP_PKEY *key, enum dkim_alg a, const unsigned char *digest,
		     size_t dlen, unsigned char *sig, size_t *slen);

#endif
