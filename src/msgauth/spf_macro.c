/* spf_macro.c - the SPF macro language (RFC 7208 7): syntax checks of
 * macro-strings and domain-specs, expansion with the transformers
 * (right-hand parts, reversal, delimiters), URL escaping of upper-case
 * letters, and the cut of an expanded name to 253 octets. Values come
 * from struct spf_macro_env; nothing here asks DNS (%{p} is a callback). */
#include "msgauth/spf_private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define DELIMS ".-+,/_="

/* The most parts one value splits into: every value is at most
 * SPF_SENDER_MAX (s) or a name, so this many parts cover any. */
#define PARTS_MAX (SPF_SENDER_MAX + 2)

struct macro {
	char letter;		/* lower case */
	bool upper;		/* URL-escape the result (7.3) */
	unsigned digits;	/* 0 = all parts */
	bool reverse;
	char delims[sizeof DELIMS];
};

/* macro-literal = %x21-24 / %x26-7E; explanation text adds SP */
static bool literal_ok(unsigned char c, bool exp)
{
	return (c >= 0x21 && c <= 0x7e && c != '%') || (exp && c == ' ');
}

/* One "%..." at s[*i]; *i advanced past it. 1: m filled (a %{...}),
 * 0: an escape ("%%" "%_" "%-", its text in *esc), -1: syntax error. */
static int macro_token(const char *s, size_t len, size_t *i, bool exp,
		       struct macro *m, const char **esc)
{
	size_t k = *i + 1;

	if (k >= len)
		return -1;
	switch (s[k]) {
	case '%': *esc = "%"; *i = k + 1; return 0;
	case '_': *esc = " "; *i = k + 1; return 0;
	case '-': *esc = "%20"; *i = k + 1; return 0;
	case '{': break;
	default: return -1;
	}
	k++;
	if (k >= len)
		return -1;
	memset(m, 0, sizeof *m);
	char c = s[k++];
	m->letter = (char)tolower((unsigned char)c);
	m->upper = isupper((unsigned char)c) != 0;
	/* 7.2: c r t only in explanation text */
	if (c == '\0' || (strchr("slodiphv", m->letter) == NULL &&
			  !(exp && strchr("crt", m->letter) != NULL)))
		return -1;
	bool digits = false;
	while (k < len && isdigit((unsigned char)s[k])) {
		digits = true;
		/* more parts than any value has means all of them */
		if (m->digits < 1000)
			m->digits = m->digits * 10 + (unsigned)(s[k] - '0');
		k++;
	}
	/* 7.3: "the value of the digit(s) ... MUST be nonzero" */
	if (digits && m->digits == 0)
		return -1;
	if (k < len && (s[k] == 'r' || s[k] == 'R')) {
		m->reverse = true;
		k++;
	}
	size_t nd = 0;
	while (k < len && s[k] != '\0' && strchr(DELIMS, s[k]) != NULL) {
		if (memchr(m->delims, s[k], nd) == NULL)
			m->delims[nd++] = s[k];
		k++;
	}
	if (k >= len || s[k] != '}')
		return -1;
	*i = k + 1;
	return 1;
}

int spf_macro_check(const char *s, size_t len, bool exp, bool *ends_expand)
{
	bool last = false;
	size_t i = 0;

	while (i < len) {
		if (s[i] == '%') {
			struct macro m;
			const char *esc;
			if (macro_token(s, len, &i, exp, &m, &esc) < 0)
				return -1;
			last = true;
			continue;
		}
		if (!literal_ok((unsigned char)s[i], exp))
			return -1;
		last = false;
		i++;
	}
	if (ends_expand != NULL)
		*ends_expand = last;
	return 0;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool toplabel_ok(const char *p, size_t len)
{
	bool alpha = false, dash = false;

	if (len == 0 || !isalnum((unsigned char)p[0]) ||
	    !isalnum((unsigned char)p[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (isalpha(c))
			alpha = true;
		else if (c == '-')
			dash = true;
		else if (!isdigit(c))
			return false;
	}
	return alpha || dash;
}

bool spf_domain_spec_ok(const char *s, size_t len)
{
	bool ends_expand;

	if (len == 0 || spf_macro_check(s, len, false, &ends_expand) < 0)
		return false;
	if (ends_expand)
		return true;
	/* domain-end = ( "." toplabel [ "." ] ) / macro-expand */
	if (s[len - 1] == '.')
		len--;
	const char *dot = NULL;
	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == '.') {
			dot = s + i - 1;
			break;
		}
	if (dot == NULL)
		return false;
	/* the toplabel must not be the tail of an expand ("%{d}.x" is
	 * fine; a '}' in a toplabel is not alphanumeric anyway) */
	return toplabel_ok(dot + 1, (size_t)(s + len - dot - 1));
}

struct outbuf {
	char *p;
	size_t n, cap;		/* cap excludes the NUL */
	bool over;
};

static void put(struct outbuf *o, const char *s, size_t len)
{
	if (len > o->cap - o->n) {
		o->over = true;
		len = o->cap - o->n;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

/* 7.3: upper-case macros are URL-escaped: all but the unreserved
 * characters (RFC 3986 2.3) become %XX */
static void put_escaped(struct outbuf *o, const char *s, size_t len, bool escape)
{
	if (!escape) {
		put(o, s, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			put(o, s + i, 1);
		} else {
			char hex[4];
			snprintf(hex, sizeof hex, "%%%02X", c);
			put(o, hex, 3);
		}
	}
}

static const char *letter_value(const struct spf_macro_env *env, char letter)
{
	switch (letter) {
	case 's': return env->s;
	case 'l': return env->l;
	case 'o': return env->o;
	case 'd': return env->d;
	case 'i': return env->i;
	case 'p': return env->p ? env->p(env->p_arg, env->d) : "unknown";
	case 'v': return env->v;
	case 'h': return env->h;
	case 'c': return env->c;
	case 'r': return env->r;
	case 't': return env->t;
	}
	return "";
}

/* 7.3: split on the delimiters, reverse if asked, keep the right-most
 * digits parts, join with "." */
static void put_macro(struct outbuf *o, const struct spf_macro_env *env,
		      const struct macro *m)
{
	const char *v = letter_value(env, m->letter);
	const char *delims = m->delims[0] ? m->delims : ".";
	size_t vlen = strlen(v);
	struct spf_span part[PARTS_MAX];
	size_t n = 0, s = 0;

	if (m->digits == 0 && !m->reverse && strcmp(delims, ".") == 0) {
		put_escaped(o, v, vlen, m->upper);
		return;
	}
	for (size_t i = 0; i <= vlen; i++) {
		if (i < vlen && strchr(delims, v[i]) == NULL)
			continue;
		if (n == PARTS_MAX) {	/* NEVER: values are bounded */
			o->over = true;
			return;
		}
		part[n].p = v + s;
		part[n].len = i - s;
		n++;
		s = i + 1;
	}
	if (m->reverse)
		for (size_t a = 0, b = n - 1; a < b; a++, b--) {
			struct spf_span t = part[a];
			part[a] = part[b];
			part[b] = t;
		}
	size_t first = m->digits && m->digits < n ? n - m->digits : 0;
	for (size_t k = first; k < n; k++) {
		if (k > first)
			put(o, ".", 1);
		put_escaped(o, part[k].p, part[k].len, m->upper);
	}
}

int spf_macro_expand(const struct spf_macro_env *env, const char *s, size_t len,
		     bool exp, char *out, size_t outsz, size_t *outlen)
{
	struct outbuf o = { .p = out, .cap = outsz - 1 };
	size_t i = 0;

	if (outsz == 0)
		return -2;

	while (i < len && !o.over) {
		if (s[i] != '%') {
			size_t k = i;
			while (k < len && s[k] != '%') {
				if (!literal_ok((unsigned char)s[k], exp))
					return -1;
				k++;
			}
			put(&o, s + i, k - i);
			i = k;
			continue;
		}
		struct macro m;
		const char *esc;
		int rc = macro_token(s, len, &i, exp, &m, &esc);
		if (rc < 0)
			return -1;
		if (rc == 0)
			put(&o, esc, strlen(esc));
		else
			put_macro(&o, env, &m);
	}
	out[o.n] = '\0';
	if (outlen != NULL)
		*outlen = o.n;
	return o.over ? -2 : 0;
}

bool spf_target_name(char *name, size_t *len)
{
	size_t n = *len;

	if (n > 0 && name[n - 1] == '.')
		n--;
	/* 7.3: "left side is truncated ... by removing successive domain
	 * labels (and their following dots) until the total length does
	 * not exceed 253 characters" */
	size_t start = 0;
	while (n - start > DNS_NAME_MAX) {
		const char *dot = memchr(name + start, '.', n - start);
		if (dot == NULL)
			return false;
		start = (size_t)(dot - name) + 1;
	}
	if (start > 0)
		memmove(name, name + start, n - start);
	n -= start;
	name[n] = '\0';
	*len = n;
	/* 4.3, 4.8: an empty label or one over 63 octets makes no query */
	size_t label = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || name[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			label = 0;
		} else {
			label++;
		}
	}
	return true;
}
