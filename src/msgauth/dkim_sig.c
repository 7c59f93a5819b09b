/* dkim_sig.c - the DKIM-Signature field's tags (RFC 6376 3.5, RFC 8463)
 * read into a struct dkim_sig, with each tag's syntax checked. What needs
 * the message, DNS or the clock (h= coverage, key, t=/x= against now) is
 * dkim_verify.c's. */
#include "msgauth/dkim_private.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "msgauth/taglist.h"

static bool fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int dkim_b64_decode(const char *s, size_t len, unsigned char *out, size_t max,
		    size_t *outlen)
{
	uint32_t acc = 0;
	size_t n = 0, chars = 0, pad = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (fws((char)c))
			continue;
		if (c == '=') {
			if (++pad > 2)
				return -1;
			continue;
		}
		int v = b64_val(c);
		if (v < 0 || pad > 0)
			return -1;
		chars++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (chars % 4 == 1 || (pad > 0 && (chars + pad) % 4 != 0))
		return -1;
	*outlen = n;
	return 0;
}

int dkim_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	/* 18 digits cannot overflow; RFC 6376 3.5 asks for 40 bits at least */
	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Copy a tag value into a C string; -1 if too long or holding a NUL. */
static int tag_copy(const struct tag *t, char *dst, size_t dstsz, bool lower)
{
	if (t->val_len >= dstsz || memchr(t->val, '\0', t->val_len) != NULL)
		return -1;
	for (size_t i = 0; i < t->val_len; i++)
		dst[i] = lower ? (char)tolower((unsigned char)t->val[i]) : t->val[i];
	dst[t->val_len] = '\0';
	return 0;
}

/* Letters, digits, '-', '_', labels of 1 to 63 octets. */
static bool domain_ok(const char *d)
{
	size_t label = 0;

	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if ((!isalnum((unsigned char)*p) && *p != '-' && *p != '_') || ++label > 63)
			return false;
	}
	return label > 0;
}

static int parse_canon(const struct tag *t, struct dkim_sig *sig)
{
	const char *v = t->val, *slash = memchr(v, '/', t->val_len);
	size_t hl = slash ? (size_t)(slash - v) : t->val_len;
	int h = -1, b = -1;

	for (int k = DKIM_CANON_RELAXED; k <= DKIM_CANON_SIMPLE; k++) {
		const char *name = dkim_canon_str((enum dkim_canon)k);
		size_t n = strlen(name);
		if (hl == n && strncasecmp(v, name, n) == 0)
			h = k;
		if (slash && t->val_len - hl - 1 == n && strncasecmp(slash + 1, name, n) == 0)
			b = k;
	}
	if (h < 0 || (slash && b < 0))
		return -1;
	sig->hcanon = (enum dkim_canon)h;
	sig->bcanon = slash ? (enum dkim_canon)b : DKIM_CANON_SIMPLE;
	return 0;
}

/* h=: colon-separated field names, FWS around each allowed (3.5). DKIM
 * needs From among them (5.4); an AMS may list nothing or an empty name
 * (it selects no field) but never ARC-Seal (RFC 8617 4.1.2). */
static int parse_h(const struct tag *t, enum dkim_sig_kind kind, struct dkim_sig *sig,
		   const char **why)
{
	size_t pos = 0;
	bool from = false, arc = kind == DKIM_SIG_AMS;
	struct span it;

	sig->nh = 0;
	while (!(arc && t->val_len == 0) && dkim_colon_next(t->val, t->val_len, &pos, &it)) {
		if (it.len == 0 && !arc) {
			*why = "empty name in h=";
			return -1;
		}
		for (size_t k = 0; k < it.len; k++)
			if (it.p[k] < 33 || it.p[k] > 126) {
				*why = "bad field name in h=";
				return -1;
			}
		if (sig->nh == DKIM_MAX_SIGNED_HEADERS) {
			*why = "too many names in h=";
			return -1;
		}
		sig->h[sig->nh++] = it;
		if (span_eq_ci(it, "from"))
			from = true;
		if (arc && span_eq_ci(it, "arc-seal")) {
			*why = "h= names ARC-Seal";
			return -1;
		}
	}
	if (!from && !arc) {
		*why = "From is not signed";	/* RFC 6376 5.4 */
		return -1;
	}
	return 0;
}

bool dkim_colon_next(const char *s, size_t len, size_t *pos, struct span *item)
{
	size_t i = *pos;

	if (i > len)
		return false;
	size_t b = i;
	while (i < len && s[i] != ':')
		i++;
	size_t e = i;
	while (b < e && fws(s[b]))
		b++;
	while (e > b && fws(s[e - 1]))
		e--;
	*item = span_make(s + b, e - b);
	*pos = i + 1;
	return true;
}

/* q=: a colon list that must offer dns/txt (3.5). */
static bool q_ok(const struct tag *t)
{
	size_t pos = 0;
	struct span it;

	while (dkim_colon_next(t->val, t->val_len, &pos, &it))
		if (span_eq_ci(it, "dns/txt"))
			return true;
	return false;
}

static int sig_fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* The tags a result names (d, s, i, a, b8), read first so that a later
 * syntax error is still reported with them. */
static int parse_ids(const struct taglist *tl, enum dkim_sig_kind kind,
		     struct dkim_sig *sig, const char **why)
{
	const struct tag *t;

	if ((t = taglist_get(tl, "d")) != NULL &&
	    (tag_copy(t, sig->d, sizeof sig->d, true) < 0 || !domain_ok(sig->d)))
		return sig_fail(why, "bad d=");
	if ((t = taglist_get(tl, "s")) != NULL &&
	    (tag_copy(t, sig->s, sizeof sig->s, false) < 0 || sig->s[0] == '\0'))
		return sig_fail(why, "bad s=");
	if ((t = taglist_get(tl, "a")) != NULL && tag_copy(t, sig->a, sizeof sig->a, true) < 0)
		return sig_fail(why, "bad a=");
	if ((t = taglist_get(tl, "b")) != NULL) {
		size_t n = 0;
		for (size_t k = 0; k < t->val_len && n < 8; k++)
			if (!fws(t->val[k]) && isgraph((unsigned char)t->val[k]))
				sig->b8[n++] = t->val[k];
		sig->b8[n] = '\0';
	}
	if (kind != DKIM_SIG_DKIM) {
		/* RFC 8617 4.2.1: i= is the instance, 1 to 50 */
		uint64_t n;
		t = taglist_get(tl, "i");
		if (t == NULL || dkim_parse_u64(t->val, t->val_len, &n) < 0 || n < 1 ||
		    n > ARC_MAX_SETS || t->val[0] == '0')
			return sig_fail(why, "bad instance i=");
		sig->instance = (unsigned)n;
		snprintf(sig->i, sizeof sig->i, "@%s", sig->d);
	} else if ((t = taglist_get(tl, "i")) != NULL) {
		if (tag_copy(t, sig->i, sizeof sig->i, false) < 0)
			return sig_fail(why, "bad i=");
		const char *at = strrchr(sig->i, '@');
		if (at == NULL)
			return sig_fail(why, "i= without @");
		/* 3.5: the domain of i= is d= or a subdomain of it */
		size_t il = strlen(at + 1), dl = strlen(sig->d);
		if (sig->d[0] != '\0' &&
		    !(il == dl && strcasecmp(at + 1, sig->d) == 0) &&
		    !(il > dl && at[il - dl] == '.' && strcasecmp(at + 1 + il - dl, sig->d) == 0))
			return sig_fail(why, "i= domain not within d=");
	} else if (sig->d[0] != '\0') {
		sig->i[0] = '@';
		memcpy(sig->i + 1, sig->d, strlen(sig->d) + 1);
	}
	return 0;
}

/* Required tags per kind: DKIM (RFC 6376 3.5), ARC-Message-Signature
 * (RFC 8617 4.1.2) and ARC-Seal (4.1.3), which has no body or h=. */
static const char *const required[][8] = {
	[DKIM_SIG_DKIM] = { "v", "a", "b", "bh", "d", "h", "s", NULL },
	[DKIM_SIG_AMS] = { "i", "a", "b", "bh", "d", "h", "s", NULL },
	[DKIM_SIG_AS] = { "i", "a", "b", "cv", "d", "s", NULL },
};

static int parse_cv(const struct tag *t, struct dkim_sig *sig)
{
	static const char *const cv[] = { [ARC_NONE] = "none", [ARC_PASS] = "pass",
					  [ARC_FAIL] = "fail" };
	for (size_t k = 0; k < 3; k++)
		if (tag_is(t, cv[k])) {
			sig->cv = (enum arc_cv)k;
			return 0;
		}
	return -1;
}

/* RFC 6376 3.2: tag-spec *( ";" tag-spec ) [ ";" ]: one ';' may end the
 * list, but ";;" is an empty tag-spec (the shared taglist parser lets it
 * pass for the sake of sloppy DMARC records; signatures are strict). */
static bool empty_spec(const char *s, size_t len)
{
	bool content = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ';') {
			if (!content)
				return true;
			content = false;
		} else if (!fws(s[i])) {
			content = true;
		}
	}
	return false;
}

int dkim_sig_parse(const char *val, size_t len, enum dkim_sig_kind kind,
		   struct dkim_sig *sig, const char **why)
{
	struct taglist tl;
	const struct tag *t;

	memset(sig, 0, sizeof *sig);
	if (taglist_parse(val, len, &tl, why) < 0)
		return -1;
	if (empty_spec(val, len))
		return sig_fail(why, "empty tag");
	for (size_t k = 0; required[kind][k] != NULL; k++)
		if (taglist_get(&tl, required[kind][k]) == NULL) {
			(void)parse_ids(&tl, kind, sig, why);	/* best effort: the error below wins */
			return sig_fail(why, "missing required tag");
		}
	if (parse_ids(&tl, kind, sig, why) < 0)
		return -1;
	if (kind == DKIM_SIG_DKIM && !tag_is(taglist_get(&tl, "v"), "1"))
		return sig_fail(why, "v= is not 1");
	if (strcmp(sig->a, "rsa-sha256") == 0)
		sig->alg = DKIM_ALG_RSA_SHA256;
	else if (strcmp(sig->a, "rsa-sha1") == 0 && kind == DKIM_SIG_DKIM)
		sig->alg = DKIM_ALG_RSA_SHA1;	/* ARC never allowed SHA-1 */
	else if (strcmp(sig->a, "ed25519-sha256") == 0)
		sig->alg = DKIM_ALG_ED25519_SHA256;
	else
		return sig_fail(why, "unknown algorithm");
	t = taglist_get(&tl, "b");
	if (dkim_b64_decode(t->val, t->val_len, sig->b, sizeof sig->b, &sig->b_len) < 0 ||
	    sig->b_len == 0)
		return sig_fail(why, "bad b=");
	if (kind == DKIM_SIG_AS) {
		if (parse_cv(taglist_get(&tl, "cv"), sig) < 0)
			return sig_fail(why, "bad cv=");
		if (taglist_get(&tl, "h") != NULL)
			return sig_fail(why, "h= in an ARC-Seal");	/* RFC 8617 4.1.3 */
		sig->hcanon = DKIM_CANON_RELAXED;
	} else {
		/* RFC 6376 3.5: no c= is simple/simple; an AMS without c= is
		 * relaxed/relaxed, as the ARC test suite and dkimpy read it
		 * (ARC seals are relaxed throughout) */
		sig->hcanon = sig->bcanon = kind == DKIM_SIG_AMS ? DKIM_CANON_RELAXED :
								    DKIM_CANON_SIMPLE;
		t = taglist_get(&tl, "bh");
		if (dkim_b64_decode(t->val, t->val_len, sig->bh, sizeof sig->bh,
				    &sig->bh_len) < 0 ||
		    sig->bh_len != (size_t)EVP_MD_get_size(dkim_alg_md(sig->alg)))
			return sig_fail(why, "bad bh=");
		if (parse_h(taglist_get(&tl, "h"), kind, sig, why) < 0)
			return -1;
		if ((t = taglist_get(&tl, "c")) != NULL && parse_canon(t, sig) < 0)
			return sig_fail(why, "unknown canonicalization");
	}
	if ((t = taglist_get(&tl, "q")) != NULL && !q_ok(t))
		return sig_fail(why, "q= without dns/txt");
	if ((t = taglist_get(&tl, "l")) != NULL) {
		if (dkim_parse_u64(t->val, t->val_len, &sig->l) < 0)
			return sig_fail(why, "bad l=");
		sig->has_l = true;
	}
	if ((t = taglist_get(&tl, "t")) != NULL) {
		if (dkim_parse_u64(t->val, t->val_len, &sig->t) < 0)
			return sig_fail(why, "bad t=");
		sig->has_t = true;
	}
	if ((t = taglist_get(&tl, "x")) != NULL) {
		if (dkim_parse_u64(t->val, t->val_len, &sig->x) < 0)
			return sig_fail(why, "bad x=");
		sig->has_x = true;
		if (sig->has_t && sig->x <= sig->t)	/* 3.5: x= after t= */
			return sig_fail(why, "x= before t=");
	}
	return 0;
}
