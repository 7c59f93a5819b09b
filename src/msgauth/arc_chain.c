/* arc_chain.c - collecting a message's ARC sets (RFC 8617 4.1, 5.2 step
 * 1) and the ARC-Seal hash over them (5.1.1). The signatures inside are
 * parsed with the DKIM tag parser; nothing is verified here. */
#include "msgauth/arc_private.h"

#include <stdlib.h>

#include "core/xmalloc.h"

static bool fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The value of a field: after its colon. */
static const char *field_value(const struct dkim_field *f, size_t *len)
{
	const char *colon = memchr(f->raw, ':', f->raw_len);
	size_t off = (size_t)(colon - f->raw) + 1;

	*len = f->raw_len - off;
	return f->raw + off;
}

/* ARC-Authentication-Results: "i=" instance ";" first (RFC 8617 4.1.1). */
static int aar_instance(const struct dkim_field *f, unsigned *inst)
{
	size_t len, i = 0;
	const char *v = field_value(f, &len);
	uint64_t n;

	while (i < len && fws(v[i]))
		i++;
	if (i >= len || v[i++] != 'i')
		return -1;
	while (i < len && fws(v[i]))
		i++;
	if (i >= len || v[i++] != '=')
		return -1;
	while (i < len && fws(v[i]))
		i++;
	size_t s = i;
	while (i < len && v[i] >= '0' && v[i] <= '9')
		i++;
	if (dkim_parse_u64(v + s, i - s, &n) < 0 || v[s] == '0')
		return -1;
	while (i < len && fws(v[i]))
		i++;
	if (i >= len || v[i] != ';' || n < 1 || n > ARC_MAX_SETS)
		return -1;
	*inst = (unsigned)n;
	return 0;
}

static int chain_fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

int arc_chain_read(const struct dkim_msg *m, struct arc_chain *c, const char **why)
{
	int rc = 0;

	c->n = 0;
	for (size_t k = 0; k <= ARC_MAX_SETS; k++)
		c->set[k].aar = c->set[k].ams = c->set[k].as = NULL;
	for (size_t j = 0; j < m->n; j++) {
		const struct dkim_field *f = &m->f[j];
		enum dkim_sig_kind kind;
		unsigned inst = 0;

		if (dkim_field_is(f, "ARC-Authentication-Results", 26)) {
			if (aar_instance(f, &inst) < 0) {
				rc = chain_fail(why, "bad ARC-Authentication-Results i=");
				continue;
			}
			if (c->set[inst].aar != NULL)
				rc = chain_fail(why, "duplicate ARC-Authentication-Results");
			c->set[inst].aar = f;
		} else if (dkim_field_is(f, "ARC-Message-Signature", 21) ||
			   dkim_field_is(f, "ARC-Seal", 8)) {
			kind = f->name_len == 8 ? DKIM_SIG_AS : DKIM_SIG_AMS;
			struct dkim_sig *sig = xmalloc(sizeof *sig);
			const char *w;
			size_t len;
			const char *v = field_value(f, &len);
			if (dkim_sig_parse(v, len, kind, sig, &w) < 0) {
				rc = chain_fail(why, kind == DKIM_SIG_AS ? "bad ARC-Seal" :
						"bad ARC-Message-Signature");
				/* keep the instance if it was readable, for a sealer */
				inst = sig->instance;
				free(sig);
				if (inst > c->n)
					c->n = inst;
				continue;
			}
			inst = sig->instance;
			struct arc_set *s = &c->set[inst];
			if (kind == DKIM_SIG_AS) {
				if (s->as != NULL)
					rc = chain_fail(why, "duplicate ARC-Seal");
				s->as = f;
				s->as_sig = *sig;
			} else {
				if (s->ams != NULL)
					rc = chain_fail(why, "duplicate ARC-Message-Signature");
				s->ams = f;
				s->ams_sig = *sig;
			}
			free(sig);
		} else {
			continue;
		}
		if (inst > c->n)
			c->n = inst;
	}
	if (rc < 0)
		return rc;
	for (unsigned i = 1; i <= c->n; i++)
		if (c->set[i].aar == NULL || c->set[i].ams == NULL || c->set[i].as == NULL)
			return chain_fail(why, "incomplete ARC set");
	return 0;
}

void arc_seal_hash(const struct dkim_field *const *fields, size_t n, unsigned char *md)
{
	struct dkim_sink sink;
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();	/* out of memory: as xmalloc does */
	dkim_sink_md(&sink, ctx);
	for (size_t k = 0; k + 1 < n; k++)
		dkim_canon_header(DKIM_CANON_RELAXED, fields[k]->raw, fields[k]->raw_len, true,
				  &sink);
	const struct dkim_field *as = fields[n - 1];
	char *stripped = xmalloc(as->raw_len ? as->raw_len : 1);
	size_t slen = dkim_strip_b(as->raw, as->raw_len, stripped);
	dkim_canon_header(DKIM_CANON_RELAXED, stripped, slen, false, &sink);
	free(stripped);
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
}
