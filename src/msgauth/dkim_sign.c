/* dkim_sign.c - RFC 6376 5 signing: choose the fields to sign (5.4.1 and
 * over-signing), hash body and header with the shared canonicaliser, and
 * write the DKIM-Signature field folded near 76 columns. The steps are
 * shared with ARC sealing (dkim_private.h). Keys come from the caller;
 * nothing here reads key storage. */
#include "msgauth/dkim_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/xmalloc.h"

#define FOLD_COL 76

/* RFC 6376 5.4.1's recommended set; over: listed once more than present
 * (5.4.2) so that another instance cannot be added unnoticed. To, Cc,
 * Reply-To, Date and Message-ID are the other fields a reader trusts or a
 * reply goes to; Content-Type and MIME-Version decide how the signed body
 * is shown, so an added second one could show a different body. */
static const struct { const char *name; bool over; } sign_set[] = {
	{ "From", true }, { "Reply-To", true }, { "Subject", true },
	{ "Date", true }, { "To", true }, { "Cc", true },
	{ "Resent-Date", false }, { "Resent-From", false },
	{ "Resent-To", false }, { "Resent-Cc", false },
	{ "In-Reply-To", false }, { "References", false },
	{ "List-Id", false }, { "List-Help", false },
	{ "List-Unsubscribe", false }, { "List-Subscribe", false },
	{ "List-Post", false }, { "List-Owner", false },
	{ "List-Archive", false }, { "Message-ID", true },
	{ "MIME-Version", true }, { "Content-Type", true },
	{ "Content-Transfer-Encoding", false }, { "Content-ID", false },
	{ "Content-Description", false },
};

void dkim_text_add(struct dkim_text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = xreallocarray(t->p, t->cap, 1);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	for (size_t i = 0; i < n; i++)
		t->col = s[i] == '\n' ? 0 : t->col + 1;
}

void dkim_text_word(struct dkim_text *t, const char *s, size_t n, bool space, size_t col)
{
	if (t->col + n + (space ? 1 : 0) > col && t->col > 1)
		dkim_text_add(t, "\r\n ", 3);
	else if (space)
		dkim_text_add(t, " ", 1);
	dkim_text_add(t, s, n);
}

char *dkim_b64_encode(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

char *dkim_body_hash(const struct dkim_msg *m, enum dkim_canon c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	struct dkim_sink sink;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();	/* out of memory: as xmalloc does */
	dkim_sink_md(&sink, ctx);
	dkim_canon_body(c, m->body, m->body_len, UINT64_MAX, &sink);
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	return dkim_b64_encode(md, mdlen);
}

char *dkim_sign_digest(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *digest,
		       size_t dlen)
{
	unsigned char sig[DKIM_MAX_SIG_BYTES];
	size_t slen = 0;

	if (dkim_crypto_sign(key, alg, digest, dlen, sig, &slen) < 0)
		return NULL;
	return dkim_b64_encode(sig, slen);
}

int dkim_key_alg(EVP_PKEY *key)
{
	int id = key ? EVP_PKEY_get_base_id(key) : 0;

	if (id == EVP_PKEY_ED25519)
		return DKIM_ALG_ED25519_SHA256;
	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= DKIM_MIN_RSA_BITS)
		return DKIM_ALG_RSA_SHA256;
	return -1;
}

static size_t count_fields(const struct dkim_msg *m, const char *name)
{
	size_t n = 0;

	for (size_t j = 0; j < m->n; j++)
		n += dkim_field_is(&m->f[j], name, strlen(name));
	return n;
}

int dkim_pick_headers(const struct dkim_msg *m, const char *given, struct span *names,
		      size_t *nnames, struct err *err)
{
	size_t n = 0;

	if (given != NULL) {
		const char *p = given;
		bool from = false;
		while (*p != '\0') {
			size_t l = strcspn(p, ":");
			if (l == 0 || l > 100 || n == DKIM_MAX_SIGNED_HEADERS)
				return err_set(err, ERR_PEER, 0, "", "bad header list");
			names[n++] = span_make(p, l);
			from |= l == 4 && strncasecmp(p, "from", 4) == 0;
			p += l + (p[l] == ':');
		}
		if (!from)
			return err_set(err, ERR_PEER, 0, "", "the header list must name From");
		*nnames = n;
		return 0;
	}
	for (size_t k = 0; k < sizeof sign_set / sizeof sign_set[0]; k++) {
		size_t c = count_fields(m, sign_set[k].name) + sign_set[k].over;
		if (c > DKIM_MAX_SIGNED_HEADERS - n)
			return err_set(err, ERR_LIMIT, 0, "", "too many fields to sign");
		for (; c > 0; c--)
			names[n++] = span_cstr(sign_set[k].name);
	}
	*nnames = n;
	return 0;
}

static int sign_fail(struct dkim_msg *m, struct dkim_text *t, struct err *err, const char *why)
{
	dkim_msg_free(m);
	free(t->p);
	return err_set(err, ERR_PEER, 0, "", "dkim sign: %s", why);
}

/* "tag=value;" (or "tag=v1/v2;") as one unbreakable word */
static void add_tag(struct dkim_text *t, const char *tag, const char *v1, const char *v2)
{
	char w[DNS_NAME_MAX + DKIM_MAX_IDENTITY + 32];
	int n = snprintf(w, sizeof w, "%s=%s%s%s;", tag, v1, v2 ? "/" : "", v2 ? v2 : "");

	if (n > 0 && (size_t)n < sizeof w)
		dkim_text_word(t, w, (size_t)n, true, FOLD_COL);
}

static void add_num(struct dkim_text *t, const char *tag, time_t v)
{
	char w[40];
	int n = snprintf(w, sizeof w, "%s=%lld;", tag, (long long)v);

	dkim_text_word(t, w, (size_t)n, true, FOLD_COL);
}

int dkim_sign(const char *msg, size_t len, const struct dkim_sign_opts *o,
	      char **field_out, struct err *err)
{
	struct dkim_msg m = { 0 };
	struct dkim_text t = { 0 };
	struct span names[DKIM_MAX_SIGNED_HEADERS];
	size_t nnames = 0;
	int alg = dkim_key_alg(o->key);

	if (alg < 0)
		return sign_fail(&m, &t, err, "key is neither RSA (1024 bits or more) nor Ed25519");
	if (o->domain == NULL || o->domain[0] == '\0' || strlen(o->domain) > DNS_NAME_MAX ||
	    o->selector == NULL || o->selector[0] == '\0' ||
	    strlen(o->selector) > DKIM_MAX_SELECTOR ||
	    (o->identity && strlen(o->identity) > DKIM_MAX_IDENTITY) ||
	    (o->x != 0 && o->x <= o->t))
		return sign_fail(&m, &t, err, "bad options");
	if (dkim_msg_split(msg, len, &m, err) < 0)
		return -1;
	if (count_fields(&m, "From") == 0)
		return sign_fail(&m, &t, err, "no From field");	/* 5.4 */
	if (dkim_pick_headers(&m, o->headers, names, &nnames, err) < 0) {
		dkim_msg_free(&m);
		return -1;
	}

	dkim_text_add(&t, "DKIM-Signature: v=1;", 20);
	add_tag(&t, "a", dkim_alg_str((enum dkim_alg)alg), NULL);
	add_tag(&t, "c", dkim_canon_str(o->hcanon), dkim_canon_str(o->bcanon));
	add_tag(&t, "d", o->domain, NULL);
	add_tag(&t, "s", o->selector, NULL);
	if (o->identity)
		add_tag(&t, "i", o->identity, NULL);
	if (o->t)
		add_num(&t, "t", o->t);
	if (o->x)
		add_num(&t, "x", o->x);
	for (size_t k = 0; k < nnames; k++) {
		char w[128];
		int n = snprintf(w, sizeof w, "%s%.*s%s", k == 0 ? "h=" : "",
				 (int)names[k].len, (const char *)names[k].p,
				 k + 1 < nnames ? ":" : ";");
		dkim_text_word(&t, w, (size_t)n, k == 0, FOLD_COL);
	}
	char *bh = dkim_body_hash(&m, o->bcanon);
	add_tag(&t, "bh", bh, NULL);
	free(bh);
	dkim_text_word(&t, "b=", 2, true, FOLD_COL);

	/* header hash over the field as written, b= empty (3.7) */
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	dkim_hash_headers(&m, o->hcanon, names, nnames, t.p, t.len, ctx);
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	dkim_msg_free(&m);

	char *b = dkim_sign_digest(o->key, (enum dkim_alg)alg, md, mdlen);
	if (b == NULL)
		return sign_fail(&m, &t, err, "signing failed");
	for (size_t k = 0, n = strlen(b); k < n;) {
		size_t room = t.col < FOLD_COL ? FOLD_COL - t.col : 0;
		if (room == 0) {
			dkim_text_add(&t, "\r\n ", 3);
			continue;
		}
		size_t w = n - k < room ? n - k : room;
		dkim_text_add(&t, b + k, w);
		k += w;
	}
	free(b);
	dkim_text_add(&t, "\r\n", 2);
	*field_out = t.p;
	return 0;
}
