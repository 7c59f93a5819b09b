/* arc_seal.c - adding an ARC set (RFC 8617 5.1): the
 * ARC-Authentication-Results from the caller's results, an
 * ARC-Message-Signature made like a DKIM signature (relaxed/relaxed) and
 * an ARC-Seal over the chain. Tags are written in alphabetical order and
 * b= is folded at 72 columns on its own lines, the layout the ARC test
 * suite's expected signatures were made with. */
#include "msgauth/arc_private.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/xmalloc.h"

#define FOLD_COL 76
#define B_COL 72

/* "ARC-...: a=...;" then b= on lines of its own, then the other tags */
static void add_b(struct dkim_text *t, const char *b)
{
	size_t n = strlen(b), k = 0;

	dkim_text_add(t, "\r\n b=", 5);
	while (k < n) {
		size_t w = t->col < B_COL + 1 ? B_COL + 1 - t->col : 0;
		if (w == 0) {
			dkim_text_add(t, "\r\n ", 3);
			continue;
		}
		if (w > n - k)
			w = n - k;
		dkim_text_add(t, b + k, w);
		k += w;
	}
	dkim_text_add(t, ";", 1);
}

static void add_tags(struct dkim_text *t, const char *const *tags, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (tags[k] == NULL)
			continue;
		size_t l = strlen(tags[k]);
		bool last = k + 1 == n;
		char *w = xmalloc(l + 2);
		memcpy(w, tags[k], l);
		if (!last)
			w[l++] = ';';
		dkim_text_word(t, w, l, true, FOLD_COL);
		free(w);
	}
}

/* One field: name, "a=...;" then b= (empty when b is NULL), then tags. */
static struct dkim_text field(const char *name, const char *a, const char *b,
			      const char *const *tags, size_t n)
{
	struct dkim_text t = { 0 };

	dkim_text_add(&t, name, strlen(name));
	dkim_text_add(&t, ": a=", 4);
	dkim_text_add(&t, a, strlen(a));
	if (b != NULL) {
		dkim_text_add(&t, ";", 1);
		add_b(&t, b);
	} else {
		dkim_text_add(&t, "; b=;", 5);
	}
	add_tags(&t, tags, n);
	return t;
}

static struct dkim_field as_field(const struct dkim_text *t, size_t name_len)
{
	return (struct dkim_field){ t->p, name_len, t->p, t->len };
}

static int seal_fail(struct err *err, const char *why)
{
	return err_set(err, ERR_PEER, 0, "", "arc seal: %s", why);
}

/* The new AMS over m2 (the message with the new AAR on top). */
static char *make_ams(const struct dkim_msg *m2, const struct arc_seal_opts *o,
		      enum dkim_alg alg, const char *inst, const char *t, struct err *err)
{
	struct span names[DKIM_MAX_SIGNED_HEADERS];
	size_t nnames = 0;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (dkim_pick_headers(m2, o->headers, names, &nnames, err) < 0)
		return NULL;
	struct dkim_text h = { 0 };
	dkim_text_add(&h, "h=", 2);
	for (size_t k = 0; k < nnames; k++) {
		if (k > 0)
			dkim_text_add(&h, ":", 1);
		for (size_t c = 0; c < names[k].len; c++) {
			char lc = (char)tolower(names[k].p[c]);
			dkim_text_add(&h, &lc, 1);
		}
	}
	char *bh = dkim_body_hash(m2, DKIM_CANON_RELAXED), bhs[128], ds[DNS_NAME_MAX + 3],
	     ss[DKIM_MAX_SELECTOR + 3];
	snprintf(bhs, sizeof bhs, "bh=%s", bh);
	snprintf(ds, sizeof ds, "d=%s", o->domain);
	snprintf(ss, sizeof ss, "s=%s", o->selector);
	free(bh);
	const char *tags[] = { bhs, "c=relaxed/relaxed", ds, h.p, inst, ss, t };
	size_t ntags = t ? 7 : 6;
	struct dkim_text unsigned_f = field("ARC-Message-Signature", dkim_alg_str(alg), NULL,
					    tags, ntags);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	dkim_hash_headers(m2, DKIM_CANON_RELAXED, names, nnames, unsigned_f.p, unsigned_f.len, ctx);
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	free(unsigned_f.p);
	char *b = dkim_sign_digest(o->key, alg, md, mdlen);
	if (b == NULL) {
		free(h.p);
		seal_fail(err, "signing failed");
		return NULL;
	}
	struct dkim_text f = field("ARC-Message-Signature", dkim_alg_str(alg), b, tags, ntags);
	free(b);
	free(h.p);
	return f.p;
}

/* The new AS over the chain (none of it when cv=fail) and the new set. */
static char *make_as(const struct arc_chain *c, const struct arc_seal_opts *o,
		     enum dkim_alg alg, const struct dkim_field *aar,
		     const struct dkim_field *ams, const char *inst, const char *t)
{
	const struct dkim_field *fields[3 * ARC_MAX_SETS + 3];
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t n = 0;
	char cvs[16], ds[DNS_NAME_MAX + 3], ss[DKIM_MAX_SELECTOR + 3];

	snprintf(cvs, sizeof cvs, "cv=%s", arc_cv_str(o->cv));
	snprintf(ds, sizeof ds, "d=%s", o->domain);
	snprintf(ss, sizeof ss, "s=%s", o->selector);
	const char *tags[] = { cvs, ds, inst, ss, t };
	size_t ntags = t ? 5 : 4;
	if (o->cv != ARC_FAIL)
		for (unsigned k = 1; k <= c->n; k++) {
			fields[n++] = c->set[k].aar;
			fields[n++] = c->set[k].ams;
			fields[n++] = c->set[k].as;
		}
	fields[n++] = aar;
	fields[n++] = ams;
	struct dkim_text unsigned_f = field("ARC-Seal", dkim_alg_str(alg), NULL, tags, ntags);
	struct dkim_field as = as_field(&unsigned_f, 8);
	fields[n++] = &as;
	arc_seal_hash(fields, n, md);
	free(unsigned_f.p);
	char *b = dkim_sign_digest(o->key, alg, md, 32);
	if (b == NULL)
		return NULL;
	struct dkim_text f = field("ARC-Seal", dkim_alg_str(alg), b, tags, ntags);
	free(b);
	return f.p;
}

int arc_seal(const char *msg, size_t len, const struct arc_seal_opts *o,
	     char **fields_out, struct err *err)
{
	int alg = dkim_key_alg(o->key);
	struct dkim_msg m, m2;
	const char *why;
	int rc = -1;

	*fields_out = NULL;
	if (alg < 0)
		return seal_fail(err, "key is neither RSA (1024 bits or more) nor Ed25519");
	if (o->domain == NULL || o->domain[0] == '\0' || strlen(o->domain) > DNS_NAME_MAX ||
	    o->selector == NULL || o->selector[0] == '\0' ||
	    strlen(o->selector) > DKIM_MAX_SELECTOR || o->aar == NULL ||
	    strpbrk(o->aar, "\r\n") != NULL || strlen(o->aar) > DKIM_MAX_FIELD / 2)
		return seal_fail(err, "bad options");
	if (dkim_msg_split(msg, len, &m, err) < 0)
		return -1;
	struct arc_chain *c = xmalloc(sizeof *c);
	bool whole = arc_chain_read(&m, c, &why) == 0;
	/* a chain some sealer declared failed, or full, takes no more sets */
	if ((whole && c->n > 0 && c->set[c->n].as_sig.cv == ARC_FAIL) || c->n >= ARC_MAX_SETS) {
		rc = 0;
		goto out;
	}
	if ((c->n == 0) != (o->cv == ARC_NONE)) {
		seal_fail(err, "cv does not fit the chain");
		goto out;
	}
	if (!whole && o->cv != ARC_FAIL) {
		seal_fail(err, "the chain is broken: seal it with cv=fail");
		goto out;
	}

	char inst[16], t[32] = "";
	snprintf(inst, sizeof inst, "i=%u", c->n + 1);
	if (o->t)
		snprintf(t, sizeof t, "t=%lld", (long long)o->t);

	/* the new AAR on top, so the AMS may cover it; folded at spaces,
	 * which relaxed canonicalisation does not see */
	struct dkim_text at = { 0 };
	char head[48];
	size_t total;
	int hn = snprintf(head, sizeof head, "ARC-Authentication-Results: i=%u;", c->n + 1);
	dkim_text_add(&at, head, (size_t)hn);
	for (const char *p = o->aar; *p != '\0';) {
		size_t sp = strspn(p, " \t"), w;
		p += sp;
		w = strcspn(p, " \t");
		if (w > 0)
			dkim_text_word(&at, p, w, true, FOLD_COL);
		p += w;
	}
	char *aar = at.p;
	size_t an = at.len;
	if (__builtin_add_overflow(len, an + 2, &total)) {
		free(aar);
		seal_fail(err, "message too large");
		goto out;
	}
	char *buf = xmalloc(total);
	memcpy(buf, aar, (size_t)an);
	memcpy(buf + an, "\r\n", 2);
	memcpy(buf + an + 2, msg, len);
	if (dkim_msg_split(buf, total, &m2, err) == 0) {
		char *ams = make_ams(&m2, o, (enum dkim_alg)alg, inst, o->t ? t : NULL, err);
		if (ams != NULL) {
			struct dkim_field aar_f = { aar, 26, aar, an };
			struct dkim_field ams_f = { ams, 21, ams, strlen(ams) };
			char *as = make_as(c, o, (enum dkim_alg)alg, &aar_f, &ams_f, inst,
					   o->t ? t : NULL);
			if (as == NULL) {
				seal_fail(err, "signing failed");
			} else {
				size_t n = strlen(as) + strlen(ams) + an + 7;
				*fields_out = xmalloc(n);
				snprintf(*fields_out, n, "%s\r\n%s\r\n%s\r\n", as, ams, aar);
				rc = 1;
			}
			free(as);
			free(ams);
		}
		dkim_msg_free(&m2);
	}
	free(buf);
	free(aar);
out:
	free(c);
	dkim_msg_free(&m);
	return rc;
}
