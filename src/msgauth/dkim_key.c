/* dkim_key.c - DKIM key records (RFC 6376 3.6.1, RFC 8463 4): the TXT
 * text at <selector>._domainkey.<domain> read into a struct dkim_key.
 * Whether the key suits a signature is dkim_verify.c's question. */
#include "msgauth/dkim_private.h"

#include "msgauth/taglist.h"

/* Call fn on each element of a colon list, trimmed; stop at true. */
static bool colon_any(const struct tag *t, bool (*fn)(struct span, const void *),
		      const void *arg)
{
	size_t pos = 0;
	struct span it;

	while (dkim_colon_next(t->val, t->val_len, &pos, &it))
		if (fn(it, arg))
			return true;
	return false;
}

static bool is_word(struct span it, const void *arg)
{
	return span_eq_ci(it, arg);
}

static bool service_email(struct span it, const void *arg)
{
	(void)arg;
	return span_eq_ci(it, "*") || span_eq_ci(it, "email");
}

static int key_fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

int dkim_key_parse(const char *txt, size_t len, struct dkim_key *k, const char **why)
{
	struct taglist tl;
	const struct tag *t;

	memset(k, 0, sizeof *k);
	k->sha1_ok = k->sha256_ok = true;
	if (taglist_parse(txt, len, &tl, why) < 0)
		return -1;
	/* 3.6.1: v= is optional, but when present it is first and DKIM1 */
	if ((t = taglist_get(&tl, "v")) != NULL && (t != &tl.t[0] || !tag_is(t, "DKIM1")))
		return key_fail(why, "key v= is not DKIM1");
	if ((t = taglist_get(&tl, "k")) != NULL) {
		if (tag_is(t, "ed25519"))
			k->ed25519 = true;
		else if (!tag_is(t, "rsa"))
			return key_fail(why, "unknown key type");
	}
	if ((t = taglist_get(&tl, "h")) != NULL) {
		k->sha1_ok = colon_any(t, is_word, "sha1");
		k->sha256_ok = colon_any(t, is_word, "sha256");
	}
	if ((t = taglist_get(&tl, "s")) != NULL && !colon_any(t, service_email, NULL))
		return key_fail(why, "key not for email (s=)");
	if ((t = taglist_get(&tl, "t")) != NULL) {
		k->testing = colon_any(t, is_word, "y");
		k->strict = colon_any(t, is_word, "s");
	}
	if ((t = taglist_get(&tl, "p")) == NULL)
		return key_fail(why, "key without p=");
	if (dkim_b64_decode(t->val, t->val_len, k->p, sizeof k->p, &k->p_len) < 0)
		return key_fail(why, "bad p=");
	k->revoked = k->p_len == 0;
	return 0;
}
