/* arc_verify.c - ARC chain validation (RFC 8617 5.2): the chain's
 * structure, the seals' cv= values, the newest ARC-Message-Signature
 * (verified as a DKIM signature is), the oldest-pass walk through the
 * older ones, and every ARC-Seal. */
#include "msgauth/arc_private.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/xmalloc.h"

const char *arc_cv_str(enum arc_cv cv)
{
	return cv == ARC_PASS ? "pass" : cv == ARC_FAIL ? "fail" : "none";
}

static void set_fail(struct arc_result *out, const char *why, bool temporary)
{
	out->cv = ARC_FAIL;
	out->temporary = temporary;
	out->oldest_pass = 0;
	snprintf(out->reason, sizeof out->reason, "%s", why);
}

/* An AMS verified as a DKIM signature (key, x=, body hash, signature);
 * r gets the outcome. */
static void check_ams(struct dkim_msg *m, const struct arc_set *s,
		      const struct ma_dns *dns, time_t now, struct dkim_sig_result *r)
{
	struct dkim_key *key = xmalloc(sizeof *key);
	const struct dkim_sig *sig = &s->ams_sig;

	r->result = DKIM_PASS;
	if (sig->has_x && (uint64_t)(now < 0 ? 0 : now) > sig->x + DKIM_CLOCK_SKEW) {
		r->result = DKIM_FAIL;
		snprintf(r->reason, sizeof r->reason, "signature expired");
	} else {
		EVP_PKEY *pk = dkim_fetch_key(dns, sig, key, r);
		if (pk != NULL && dkim_check_body(m, sig, r))
			dkim_check_sig(m, s->ams, sig, pk, r);
		EVP_PKEY_free(pk);
	}
	free(key);
}

/* The seal of instance i over sets 1..i. */
static void check_as(const struct arc_chain *c, unsigned i, const struct ma_dns *dns,
		     struct dkim_sig_result *r)
{
	const struct dkim_field *fields[3 * ARC_MAX_SETS];
	unsigned char md[EVP_MAX_MD_SIZE];
	struct dkim_key *key = xmalloc(sizeof *key);
	const struct dkim_sig *sig = &c->set[i].as_sig;
	size_t n = 0;

	for (unsigned k = 1; k <= i; k++) {
		fields[n++] = c->set[k].aar;
		fields[n++] = c->set[k].ams;
		fields[n++] = c->set[k].as;
	}
	EVP_PKEY *pk = dkim_fetch_key(dns, sig, key, r);
	if (pk != NULL) {
		arc_seal_hash(fields, n, md);
		if (dkim_crypto_verify(pk, sig->alg, md, 32, sig->b, sig->b_len)) {
			r->result = DKIM_PASS;
		} else {
			r->result = DKIM_FAIL;
			snprintf(r->reason, sizeof r->reason, "signature did not verify");
		}
	}
	EVP_PKEY_free(pk);
	free(key);
}

static void validate(struct dkim_msg *m, const struct arc_chain *c,
		     const struct ma_dns *dns, time_t now, struct arc_result *out)
{
	struct dkim_sig_result *r = xcalloc(1, sizeof *r);
	unsigned n = c->n;
	char why[ARC_REASON_MAX];

	/* step 2: a chain a sealer already declared failed stays failed */
	if (c->set[n].as_sig.cv == ARC_FAIL) {
		set_fail(out, "the newest ARC-Seal says cv=fail", false);
		goto out;
	}
	/* step 3: cv=none on the first seal, pass on every later one */
	for (unsigned i = 1; i <= n; i++)
		if (c->set[i].as_sig.cv != (i == 1 ? ARC_NONE : ARC_PASS)) {
			snprintf(why, sizeof why, "ARC-Seal i=%u has cv=%s", i,
				 arc_cv_str(c->set[i].as_sig.cv));
			set_fail(out, why, false);
			goto out;
		}
	/* step 4: the newest AMS must verify */
	check_ams(m, &c->set[n], dns, now, r);
	if (r->result != DKIM_PASS) {
		snprintf(why, sizeof why, "ARC-Message-Signature i=%u: %s", n, r->reason);
		set_fail(out, why, r->result == DKIM_TEMPERROR);
		goto out;
	}
	/* step 6: oldest-pass, the older AMSs while they verify */
	out->oldest_pass = n;
	for (unsigned i = n - 1; i >= 1; i--) {
		check_ams(m, &c->set[i], dns, now, r);
		if (r->result != DKIM_PASS)
			break;
		out->oldest_pass = i;
	}
	/* step 5: every seal, newest first */
	for (unsigned i = n; i >= 1; i--) {
		check_as(c, i, dns, r);
		if (r->result != DKIM_PASS) {
			snprintf(why, sizeof why, "ARC-Seal i=%u: %s", i, r->reason);
			set_fail(out, why, r->result == DKIM_TEMPERROR);
			goto out;
		}
	}
	out->cv = ARC_PASS;
out:
	free(r);
}

int arc_verify(const char *msg, size_t len, const struct ma_dns *dns, time_t now,
	       struct arc_result *out, struct err *err)
{
	struct dkim_msg m;
	struct arc_chain *c;
	const char *why;

	memset(out, 0, sizeof *out);
	if (dkim_msg_split(msg, len, &m, err) < 0)
		return -1;
	c = xmalloc(sizeof *c);
	if (arc_chain_read(&m, c, &why) < 0) {
		out->sets = c->n;
		set_fail(out, why, false);
	} else if (c->n > 0) {
		out->sets = c->n;
		memcpy(out->d, c->set[c->n].ams_sig.d, sizeof out->d);
		memcpy(out->s, c->set[c->n].ams_sig.s, sizeof out->s);
		validate(&m, c, dns, now, out);
	}
	free(c);
	dkim_msg_free(&m);
	return 0;
}
