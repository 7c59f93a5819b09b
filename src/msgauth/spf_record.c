/* spf_record.c - the SPF record parser (RFC 7208 4.5, 4.6, 5, 6): a
 * "v=spf1" TXT record into directives and modifiers, every syntax error
 * found before anything is evaluated (4.6: "If there are any syntax
 * errors anywhere in the record, check_host() returns immediately with
 * the result permerror"). Evaluation is in spf_eval.c. */
#include "msgauth/spf_private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

#define V1 "v=spf1"
#define V1_LEN 6

bool spf_record_is_v1(const unsigned char *txt, size_t len)
{
	return len >= V1_LEN && strncasecmp((const char *)txt, V1, V1_LEN) == 0 &&
	       (len == V1_LEN || txt[V1_LEN] == ' ');
}

static int fail(char *why, size_t whysz, const char *what, const char *p, size_t len)
{
	if (len > 60)
		len = 60;
	snprintf(why, whysz, "%s '%.*s'", what, (int)len, p);
	return -1;
}

static bool span_ieq(const char *p, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(p, lit, len) == 0;
}

/* "/0" or "/1".."/max" without leading zeros (7.1 ip4-cidr-length,
 * ip6-cidr-length): the digits are p[0..len). */
static bool cidr_value(const char *p, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || (p[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A trailing "/digits" of p[0..*len): 1 found (cut off, value in out),
 * 0 none, -1 malformed or out of range. */
static int cidr_suffix(const char *p, size_t *len, unsigned max, unsigned *out)
{
	size_t e = *len, d = e;

	while (d > 0 && isdigit((unsigned char)p[d - 1]))
		d--;
	if (d == e || d == 0 || p[d - 1] != '/')
		return 0;
	if (!cidr_value(p + d, e - d, max, out))
		return -1;
	*len = d - 1;
	return 1;
}

/* dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ] at the
 * end of p[0..*len), cut off. */
static int dual_cidr(const char *p, size_t *len, struct spf_term *t)
{
	size_t l = *len;
	int rc = cidr_suffix(p, &l, 128, &t->cidr6);

	if (rc < 0)
		return -1;
	if (rc == 1) {
		/* the ip6 part is "//n": the "/" we cut plus one more */
		if (l == 0 || p[l - 1] != '/') {
			/* "/n" alone: an ip4 length after all */
			l = *len;
			t->cidr6 = 128;
		} else {
			l--;
		}
	}
	if (cidr_suffix(p, &l, 32, &t->cidr4) < 0)
		return -1;
	*len = l;
	return 0;
}

/* ip4-network = qnum "." qnum "." qnum "." qnum, no leading zeros */
static bool ip4_network(const char *p, size_t len, unsigned char out[4])
{
	size_t i = 0;

	for (int k = 0; k < 4; k++) {
		size_t s = i;
		unsigned v = 0;
		while (i < len && isdigit((unsigned char)p[i]) && i - s < 3)
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == s || v > 255 || (p[s] == '0' && i - s > 1))
			return false;
		out[k] = (unsigned char)v;
		if (k < 3) {
			if (i >= len || p[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

static bool ip6_network(const char *p, size_t len, unsigned char out[16])
{
	char buf[64];

	if (len >= sizeof buf)
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1;
}

static const struct {
	const char *name;
	enum spf_mech mech;
} mechs[] = {
	{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE }, { "a", SPF_M_A },
	{ "mx", SPF_M_MX }, { "ptr", SPF_M_PTR }, { "ip4", SPF_M_IP4 },
	{ "ip6", SPF_M_IP6 }, { "exists", SPF_M_EXISTS },
};

/* directive = [ qualifier ] mechanism (RFC 7208 4.6.1, 5) */
static int parse_directive(const char *p, size_t len, struct spf_term *t,
			   char *why, size_t whysz)
{
	const char *term = p;
	size_t term_len = len;

	t->text.p = p;
	t->text.len = len;
	t->qual = '+';
	if (len > 0 && strchr("+-~?", p[0]) != NULL) {
		t->qual = p[0];
		p++;
		len--;
	}
	size_t n = 0;
	while (n < len && p[n] != ':' && p[n] != '/')
		n++;
	size_t k;
	for (k = 0; k < sizeof mechs / sizeof mechs[0]; k++)
		if (span_ieq(p, n, mechs[k].name))
			break;
	if (k == sizeof mechs / sizeof mechs[0])
		return fail(why, whysz, "unknown mechanism", term, term_len);
	t->mech = mechs[k].mech;
	t->cidr4 = 32;
	t->cidr6 = 128;
	const char *rest = p + n;
	size_t rlen = len - n;

	switch (t->mech) {
	case SPF_M_ALL:
		if (rlen != 0)
			return fail(why, whysz, "all takes no argument in", term, term_len);
		return 0;
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
	case SPF_M_PTR:
		/* ptr's domain is optional, the others' not; none takes a
		 * CIDR: a "/24" stays in the domain-spec and fails there */
		if (rlen == 0 && t->mech == SPF_M_PTR)
			return 0;
		if (rlen < 2 || rest[0] != ':')
			return fail(why, whysz, "missing domain in", term, term_len);
		t->spec.p = rest + 1;
		t->spec.len = rlen - 1;
		break;
	case SPF_M_A:
	case SPF_M_MX: {
		const char *arg = rest;
		size_t alen = rlen;
		if (rlen > 0 && rest[0] == ':') {
			arg++;
			alen--;
		}
		if (dual_cidr(arg, &alen, t) < 0)
			return fail(why, whysz, "bad CIDR length in", term, term_len);
		if (arg == rest) {
			if (alen != 0)
				return fail(why, whysz, "bad CIDR length in", term, term_len);
			return 0;
		}
		if (alen == 0)
			return fail(why, whysz, "missing domain in", term, term_len);
		t->spec.p = arg;
		t->spec.len = alen;
		break;
	}
	case SPF_M_IP4:
	case SPF_M_IP6: {
		bool v4 = t->mech == SPF_M_IP4;
		if (rlen < 2 || rest[0] != ':')
			return fail(why, whysz, "missing address in", term, term_len);
		const char *arg = rest + 1;
		size_t alen = rlen - 1;
		const char *slash = memchr(arg, '/', alen);
		if (slash != NULL) {
			size_t off = (size_t)(slash - arg);
			if (!cidr_value(slash + 1, alen - off - 1, v4 ? 32 : 128,
					v4 ? &t->cidr4 : &t->cidr6))
				return fail(why, whysz, "bad CIDR length in", term, term_len);
			alen = off;
		}
		if (v4 ? !ip4_network(arg, alen, t->addr) : !ip6_network(arg, alen, t->addr))
			return fail(why, whysz, "bad address in", term, term_len);
		return 0;
	}
	}
	if (!spf_domain_spec_ok(t->spec.p, t->spec.len))
		return fail(why, whysz, "bad domain-spec in", term, term_len);
	return 0;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) followed by "=":
 * the length of name, or 0 when the term is no modifier (4.6.1). */
static size_t modifier_name(const char *p, size_t len)
{
	size_t n = 0;

	if (len == 0 || !isalpha((unsigned char)p[0]))
		return 0;
	while (n < len && (isalnum((unsigned char)p[n]) || p[n] == '-' ||
			   p[n] == '_' || p[n] == '.'))
		n++;
	return n < len && p[n] == '=' ? n : 0;
}

static int parse_modifier(const char *p, size_t len, size_t name_len,
			  struct spf_record *rec, char *why, size_t whysz)
{
	const char *val = p + name_len + 1;
	size_t vlen = len - name_len - 1;
	bool redirect = span_ieq(p, name_len, "redirect");

	if (redirect || span_ieq(p, name_len, "exp")) {
		bool *seen = redirect ? &rec->has_redirect : &rec->has_exp;
		/* 6: "MUST NOT appear in a record more than once each" */
		if (*seen)
			return fail(why, whysz, "repeated modifier", p, len);
		if (!spf_domain_spec_ok(val, vlen))
			return fail(why, whysz, "bad domain-spec in", p, len);
		*seen = true;
		struct spf_span *s = redirect ? &rec->redirect : &rec->exp;
		s->p = val;
		s->len = vlen;
		if (redirect) {
			rec->redirect_text.p = p;
			rec->redirect_text.len = len;
		}
		return 0;
	}
	/* unknown-modifier = name "=" macro-string: ignored, but its
	 * macros must be well formed (6) */
	if (spf_macro_check(val, vlen, false, NULL) < 0)
		return fail(why, whysz, "bad macro in", p, len);
	return 0;
}

int spf_record_parse(const char *txt, size_t len, struct spf_record *rec,
		     char *why, size_t whysz)
{
	memset(rec, 0, sizeof *rec);
	if (!spf_record_is_v1((const unsigned char *)txt, len))
		return fail(why, whysz, "not an SPF record", txt, len);
	/* 3.1, 4.6.1: terms are printable US-ASCII separated by spaces */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];
		if (c != ' ' && (c < 0x21 || c > 0x7e))
			return fail(why, whysz, "control or non-ASCII character near",
				    txt + i, len - i);
	}
	size_t nterms = 0;
	for (size_t i = V1_LEN; i < len; i++)
		if (txt[i] != ' ' && txt[i - 1] == ' ')
			nterms++;
	rec->t = nterms ? xcalloc(nterms, sizeof *rec->t) : NULL;

	size_t i = V1_LEN;
	while (i < len) {
		while (i < len && txt[i] == ' ')
			i++;
		if (i == len)
			break;
		size_t s = i;
		while (i < len && txt[i] != ' ')
			i++;
		const char *term = txt + s;
		size_t tlen = i - s;
		size_t name = modifier_name(term, tlen);
		int rc = name > 0
			 ? parse_modifier(term, tlen, name, rec, why, whysz)
			 : parse_directive(term, tlen, &rec->t[rec->n++], why, whysz);
		if (rc < 0) {
			spf_record_free(rec);
			return -1;
		}
	}
	return 0;
}

void spf_record_free(struct spf_record *rec)
{
	free(rec->t);
	memset(rec, 0, sizeof *rec);
}
