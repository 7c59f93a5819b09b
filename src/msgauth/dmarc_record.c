/* dmarc_record.c - the DMARC policy record (RFC 7489 6.3, RFC 9091 np=,
 * RFC 9989 t=). Each tag-spec goes through the shared tag=value parser on
 * its own, so that one broken tag is discarded (6.3) instead of losing the
 * whole record; only v= and p= (6.6.3) can make the record unusable. */
#include "msgauth/dmarc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "msgauth/dmarc_private.h"
#include "msgauth/taglist.h"

static bool rec_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool val_is(const struct tag *t, const char *v)
{
	size_t n = strlen(v);

	return t->val_len == n && strncasecmp(t->val, v, n) == 0;
}

static bool name_is(const struct tag *t, const char *v)
{
	size_t n = strlen(v);

	return t->name_len == n && strncasecmp(t->name, v, n) == 0;
}

static void complain(struct dmarc_record *rec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void complain(struct dmarc_record *rec, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(rec->complaint)];

	if (rec->n_ignored++ > 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dmarc_say(rec->complaint, sizeof(rec->complaint), "%s", n < 0 ? "bad tag" : msg);
}

/* Short, printable form of a peer-supplied tag for complaints. */
#define TAGFMT "%.*s"
#define TAGARG(t) (int)((t)->name_len > 16 ? 16 : (t)->name_len), (t)->name

static bool parse_policy(const struct tag *t, enum dmarc_policy *out)
{
	if (val_is(t, "none"))
		*out = DMARC_POLICY_NONE;
	else if (val_is(t, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (val_is(t, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

static bool parse_uint(const char *s, size_t n, size_t maxdigits,
		       uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > maxdigits)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* A colon-separated list of keywords (fo=, rf=); fn maps one to a bit,
 * 0 for unknown. false if an item is empty or unknown. */
static bool parse_flags(const struct tag *t, unsigned (*fn)(const char *, size_t),
			unsigned *out)
{
	unsigned bits = 0;
	size_t i = 0;

	while (i <= t->val_len) {
		size_t b = i;
		while (i < t->val_len && t->val[i] != ':')
			i++;
		size_t e = i;
		while (b < e && rec_ws(t->val[b]))
			b++;
		while (e > b && rec_ws(t->val[e - 1]))
			e--;
		unsigned bit = fn(t->val + b, e - b);
		if (bit == 0)
			return false;
		bits |= bit;
		i++;
	}
	*out = bits;
	return true;
}

static unsigned fo_bit(const char *s, size_t n)
{
	if (n != 1)
		return 0;
	switch (s[0]) {
	case '0': return DMARC_FO_0;
	case '1': return DMARC_FO_1;
	case 'd': case 'D': return DMARC_FO_D;
	case 's': case 'S': return DMARC_FO_S;
	}
	return 0;
}

static unsigned rf_bit(const char *s, size_t n)
{
	return n == 4 && strncasecmp(s, "afrf", 4) == 0 ? DMARC_RF_AFRF : 0;
}

/* RFC 3986 3.1 scheme ":" and something printable without spaces. */
static bool uri_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while (i < n && s[i] != ':') {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return false;
		i++;
	}
	if (i == n || i + 1 == n)
		return false;
	for (; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* RFC 7489 6.2: dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ].
 * A '!' may also occur inside the URI, so only a final valid suffix is
 * taken as the size. */
static bool parse_one_uri(const char *s, size_t n, struct dmarc_uri *out)
{
	const char *bang = NULL;
	uint64_t size = 0;

	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == '!') {
			bang = s + i - 1;
			break;
		}
	if (bang != NULL) {
		const char *d = bang + 1;
		size_t dn = (size_t)(s + n - d), shift = 0;
		if (dn > 0) {
			switch (d[dn - 1]) {
			case 'k': case 'K': shift = 10; dn--; break;
			case 'm': case 'M': shift = 20; dn--; break;
			case 'g': case 'G': shift = 30; dn--; break;
			case 't': case 'T': shift = 40; dn--; break;
			}
		}
		uint64_t v;
		if (parse_uint(d, dn, 12, UINT64_C(999999999999), &v)) {
			if (v > (UINT64_MAX >> shift))
				return false;	/* "!999999999999t" */
			size = v << shift;
			n = (size_t)(bang - s);
		}
	}
	if (!uri_ok(s, n) || n > DMARC_URI_MAX)
		return false;
	memcpy(out->uri, s, n);
	out->uri[n] = '\0';
	out->max_size = size;
	return true;
}

static void parse_uris(struct dmarc_record *rec, const struct tag *t,
		       struct dmarc_uri *list, size_t *np)
{
	size_t i = 0, bad = 0, dropped = 0;

	*np = 0;
	while (i <= t->val_len) {
		size_t b = i;
		while (i < t->val_len && t->val[i] != ',')
			i++;
		size_t e = i;
		i++;
		while (b < e && rec_ws(t->val[b]))
			b++;
		while (e > b && rec_ws(t->val[e - 1]))
			e--;
		if (b == e)
			continue;
		if (*np == DMARC_URIS_MAX) {
			dropped++;
			continue;
		}
		if (parse_one_uri(t->val + b, e - b, &list[*np]))
			(*np)++;
		else
			bad++;
	}
	if (bad > 0)
		complain(rec, TAGFMT "=: %zu invalid URI(s) discarded", TAGARG(t), bad);
	if (dropped > 0)
		complain(rec, TAGFMT "=: more than %d URIs, %zu dropped",
			 TAGARG(t), DMARC_URIS_MAX, dropped);
}

/* Split s at ';' and parse each tag-spec alone; fn gets each good tag. A
 * broken spec is reported through bad (may be NULL). Returns the number of
 * specs seen. */
static size_t each_tag(const char *s, size_t len,
		       bool (*fn)(void *, const struct tag *, size_t), void *arg,
		       void (*bad)(void *, const char *, size_t, const char *))
{
	size_t i = 0, seen = 0;

	while (i < len) {
		size_t b = i;
		while (i < len && s[i] != ';')
			i++;
		size_t e = i++;
		while (b < e && rec_ws(s[b]))
			b++;
		if (b == e)
			continue;
		struct taglist tl;
		const char *why = NULL;
		if (taglist_parse(s + b, e - b, &tl, &why) < 0 || tl.n != 1) {
			if (bad != NULL)
				bad(arg, s + b, e - b, why ? why : "bad tag");
			seen++;
			continue;
		}
		if (!fn(arg, &tl.t[0], seen++))
			break;
	}
	return seen;
}

static bool first_is_v(void *arg, const struct tag *t, size_t idx)
{
	bool *ok = arg;

	*ok = idx == 0 && name_is(t, "v") && t->val_len == 6 &&
	      memcmp(t->val, "DMARC1", 6) == 0;
	return false;
}

static void first_bad(void *arg, const char *s, size_t n, const char *why)
{
	(void)s;
	(void)n;
	(void)why;
	*(bool *)arg = false;
}

bool dmarc_record_is_dmarc(const char *s, size_t len)
{
	bool ok = false;

	each_tag(s, len, first_is_v, &ok, first_bad);
	return ok;
}

struct rec_state {
	struct dmarc_record *rec;
	unsigned seen;		/* bit per known tag: duplicates */
	bool p_bad, sp_bad;
};

enum { T_V, T_P, T_SP, T_NP, T_PCT, T_ADKIM, T_ASPF, T_RUA, T_RUF,
       T_FO, T_RF, T_RI, T_T, T_COUNT };
static const char *const rec_tags[T_COUNT] = {
	"v", "p", "sp", "np", "pct", "adkim", "aspf", "rua", "ruf",
	"fo", "rf", "ri", "t",
};

static bool parse_align(const struct tag *t, enum dmarc_align *out)
{
	if (val_is(t, "r"))
		*out = DMARC_ALIGN_RELAXED;
	else if (val_is(t, "s"))
		*out = DMARC_ALIGN_STRICT;
	else
		return false;
	return true;
}

static bool rec_tag(void *arg, const struct tag *t, size_t idx)
{
	struct rec_state *st = arg;
	struct dmarc_record *rec = st->rec;
	int k;
	uint64_t v;

	(void)idx;
	for (k = 0; k < T_COUNT; k++)
		if (name_is(t, rec_tags[k]))
			break;
	if (k == T_COUNT)
		return true;		/* 6.3: unknown tags MUST be ignored */
	if (st->seen & (1u << k)) {
		complain(rec, "duplicate " TAGFMT "= discarded", TAGARG(t));
		return true;
	}
	st->seen |= 1u << k;
	bool ok = true;
	switch (k) {
	case T_V:
		break;			/* checked as the first tag */
	case T_P:
		st->p_bad = !parse_policy(t, &rec->p);
		ok = !st->p_bad;
		break;
	case T_SP:
		st->sp_bad = !parse_policy(t, &rec->sp);
		ok = !st->sp_bad;
		break;
	case T_NP:
		ok = parse_policy(t, &rec->np);
		break;
	case T_PCT:
		ok = parse_uint(t->val, t->val_len, 3, 100, &v);
		if (ok)
			rec->pct = (unsigned)v;
		break;
	case T_ADKIM:
		ok = parse_align(t, &rec->adkim);
		break;
	case T_ASPF:
		ok = parse_align(t, &rec->aspf);
		break;
	case T_RUA:
		parse_uris(rec, t, rec->rua, &rec->n_rua);
		break;
	case T_RUF:
		parse_uris(rec, t, rec->ruf, &rec->n_ruf);
		break;
	case T_FO:
		ok = parse_flags(t, fo_bit, &rec->fo);
		break;
	case T_RF:
		ok = parse_flags(t, rf_bit, &rec->rf);
		break;
	case T_RI:
		ok = parse_uint(t->val, t->val_len, 10, UINT32_MAX, &v);
		if (ok)
			rec->ri = (uint32_t)v;
		break;
	case T_T:
		if (val_is(t, "y"))
			rec->testing = true;
		else if (!val_is(t, "n"))
			ok = false;
		break;
	}
	if (!ok) {
		complain(rec, "invalid value for " TAGFMT "= discarded", TAGARG(t));
		switch (k) {	/* back to the default (6.3) */
		case T_NP: rec->np = DMARC_POLICY_UNSET; break;
		case T_FO: rec->fo = DMARC_FO_0; break;
		case T_RF: rec->rf = DMARC_RF_AFRF; break;
		default: break;
		}
	}
	return true;
}

static void rec_bad(void *arg, const char *s, size_t n, const char *why)
{
	struct rec_state *st = arg;

	complain(st->rec, "tag \"%.*s\" discarded: %s", (int)(n > 16 ? 16 : n), s, why);
}

int dmarc_record_parse(const char *s, size_t len, struct dmarc_record *rec,
		       const char **why)
{
	struct rec_state st = { .rec = rec };

	memset(rec, 0, sizeof(*rec));
	rec->adkim = rec->aspf = DMARC_ALIGN_RELAXED;
	rec->pct = 100;
	rec->fo = DMARC_FO_0;
	rec->rf = DMARC_RF_AFRF;
	rec->ri = 86400;
	size_t b = 0;
	while (b < len && rec_ws(s[b]))
		b++;
	if (b == len) {
		*why = "empty record";
		return -1;
	}
	if (len > DMARC_RECORD_MAX) {
		*why = "record too long";
		return -1;
	}
	if (!dmarc_record_is_dmarc(s, len)) {
		*why = "not a DMARC record: it must start with v=DMARC1";
		return -1;
	}
	each_tag(s, len, rec_tag, &st, rec_bad);
	bool no_p = !(st.seen & (1u << T_P));
	if (no_p || st.p_bad || st.sp_bad) {
		/* RFC 7489 6.6.3 step 6 */
		if (rec->n_rua == 0) {
			*why = st.sp_bad && !no_p && !st.p_bad
				? "invalid sp= and no valid rua=: no DMARC processing"
				: no_p ? "no p= and no valid rua=: no DMARC processing"
				       : "invalid p= and no valid rua=: no DMARC processing";
			return -1;
		}
		rec->p = DMARC_POLICY_NONE;
		rec->sp = DMARC_POLICY_UNSET;
		rec->np = DMARC_POLICY_UNSET;
		rec->p_from_rua = true;
	}
	return 0;
}

const char *dmarc_policy_str(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_NONE: return "none";
	case DMARC_POLICY_QUARANTINE: return "quarantine";
	case DMARC_POLICY_REJECT: return "reject";
	case DMARC_POLICY_UNSET: break;
	}
	return "unset";
}
