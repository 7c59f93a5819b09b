/* smtp_parse.c - RFC 5321 command-line syntax: the verb table, reverse-
 * and forward-paths (RFC 5321 4.1.2 with RFC 6531 UTF-8), the MAIL
 * parameters SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8
 * (RFC 6531) and AUTH (RFC 4954), and the BDAT and HELO arguments.
 * It checks syntax only: whether a domain is ours, whether relaying or
 * SMTPUTF8 is allowed, is for the caller. No allocation, no NUL reliance. */
#include "smtp/smtp_parse.h"

#include <arpa/inet.h>
#include <string.h>

/* RFC 5321 4.1.2: the longest a sub-domain (label) may be. */
#define DOMAIN_LABEL_MAX 63
/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */
#define IPV6_TEXT_MAX 45
/* uint64_t has at most 20 decimal digits. */
#define UINT64_DIGITS_MAX 20

/* ----- character classes -------------------------------------------- */

static bool is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* RFC 5322 3.2.3 atext, ASCII part (RFC 5321 4.1.2 uses it for Atom). */
static bool is_atext(unsigned char c)
{
	if (is_alpha(c) || is_digit(c))
		return true;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length of the well-formed UTF-8 sequence (RFC 3629 section 4) at s for
 * a non-ASCII lead byte, or 0 if it is malformed, overlong, a surrogate,
 * past U+10FFFF, or a C1 control (U+0080..U+009F, which we refuse in
 * addresses like the C0 controls). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	if (c == 0xC2)
		lo = 0xA0;	/* C1 controls */
	else if (c == 0xE0)
		lo = 0xA0;	/* overlong */
	else if (c == 0xED)
		hi = 0x9F;	/* surrogates */
	else if (c == 0xF0)
		lo = 0x90;	/* overlong */
	else if (c == 0xF4)
		hi = 0x8F;	/* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

/* ----- the verb ------------------------------------------------------- */

struct verb_def {
	const char *name;
	enum smtp_verb verb;
};

/* Which verbs take no argument (DATA, RSET, QUIT, STARTTLS) is checked by
 * the caller's command table, which counts failures per verb. */
static const struct verb_def verb_table[] = {
	{ "HELO", SMTP_VERB_HELO },
	{ "EHLO", SMTP_VERB_EHLO },
	{ "MAIL", SMTP_VERB_MAIL },
	{ "RCPT", SMTP_VERB_RCPT },
	{ "DATA", SMTP_VERB_DATA },
	{ "BDAT", SMTP_VERB_BDAT },
	{ "RSET", SMTP_VERB_RSET },
	{ "NOOP", SMTP_VERB_NOOP },
	{ "QUIT", SMTP_VERB_QUIT },
	{ "VRFY", SMTP_VERB_VRFY },
	{ "EXPN", SMTP_VERB_EXPN },
	{ "HELP", SMTP_VERB_HELP },
	{ "STARTTLS", SMTP_VERB_STARTTLS },
	{ "AUTH", SMTP_VERB_AUTH },
};

static struct span skip_sp(struct span s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	return s;
}

int smtp_cmd_parse(struct span line, struct smtp_cmd *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	size_t n = 0;
	while (n < line.len && line.p[n] != ' ') {
		if (!is_alpha(line.p[n]))
			return err_set(err, ERR_PEER, 500, "5.5.2",
				       "Syntax error, command unrecognized");
		n++;
	}
	if (n == 0)
		return err_set(err, ERR_PEER, 500, "5.5.2",
			       "Syntax error, command unrecognized");
	struct span verb = span_make(line.p, n);
	const struct verb_def *def = NULL;
	for (size_t i = 0; i < sizeof verb_table / sizeof *verb_table; i++)
		if (span_eq_ci(verb, verb_table[i].name)) {
			def = &verb_table[i];
			break;
		}

	/* RFC 5321 4.1.1 wants exactly one SP; some clients send more. */
	struct span arg = span_make(line.p + n, line.len - n);
	while (arg.len > 0 && arg.p[0] == ' ') {
		arg.p++;
		arg.len--;
	}
	while (arg.len > 0 && (arg.p[arg.len - 1] == ' ' ||
			       arg.p[arg.len - 1] == '\t'))
		arg.len--;

	out->verb = def ? def->verb : SMTP_VERB_UNKNOWN;
	if (def == NULL) {
		out->arg = arg;
		return 0;
	}
	if (def->verb == SMTP_VERB_MAIL || def->verb == SMTP_VERB_RCPT) {
		const char *kw = def->verb == SMTP_VERB_MAIL ? "FROM:" : "TO:";
		if (!span_prefix_ci(arg, kw))
			goto bad_envelope;
		size_t kl = strlen(kw);
		/* "MAIL FROM: <a@b>": lenient, as many clients send it. */
		arg = skip_sp(span_make(arg.p + kl, arg.len - kl));
		if (arg.len == 0)
			goto bad_envelope;
	}
	out->arg = arg;
	return 0;

bad_envelope:
	return err_set(err, ERR_PEER, 501, "5.5.4", "%s",
		       def->verb == SMTP_VERB_MAIL ?
		       "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
}

/* ----- domains -------------------------------------------------------- */

/* RFC 5321 4.1.2 Domain = sub-domain *("." sub-domain), sub-domain =
 * Let-dig [Ldh-str], and RFC 6531 3.3 sub-domain =/ U-label (taken here as
 * well-formed UTF-8; IDNA rules are the caller's business). A trailing dot
 * is an empty label, hence an error: "user@ourdomain." must not be
 * mistaken for ours by one check and foreign by another. */
static bool domain_valid(const unsigned char *s, size_t n, bool *utf8)
{
	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t ll = i - start;
			if (ll == 0 || ll > DOMAIN_LABEL_MAX)
				return false;
			if (s[start] == '-' || s[i - 1] == '-')
				return false;
			start = i + 1;
			continue;
		}
		unsigned char c = s[i];
		if (is_alpha(c) || is_digit(c) || c == '-')
			continue;
		if (c < 0x80)
			return false;
		size_t k = utf8_seq(s + i, n - i);
		if (k == 0)
			return false;
		*utf8 = true;
		i += k - 1;
	}
	return true;
}

/* Strict dotted quad: four 0..255 numbers without leading zeros, since
 * "0177.0.0.1" means 127.0.0.1 to inet_aton and 177.0.0.1 to others. */
static bool ipv4_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < n && is_digit(s[i]) && i - start < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		size_t dl = i - start;
		if (dl == 0 || v > 255 || (dl > 1 && s[start] == '0'))
			return false;
	}
	return i == n;
}

/* RFC 5321 4.1.3: "[" IPv4 "]" or "[IPv6:" IPv6 "]". General-address-
 * literals (other registered tags) name nothing we could be, so they are
 * refused rather than carried along. s/n include the brackets. */
static bool literal_valid(const unsigned char *s, size_t n)
{
	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return false;
	struct span in = span_make(s + 1, n - 2);
	if (span_prefix_ci(in, "IPv6:")) {
		struct span a = span_make(in.p + 5, in.len - 5);
		char text[IPV6_TEXT_MAX + 1];
		struct in6_addr addr;
		if (a.len == 0 || a.len > IPV6_TEXT_MAX)
			return false;
		for (size_t i = 0; i < a.len; i++) {
			unsigned char c = a.p[i];
			if (!is_digit(c) && !(to_lower(c) >= 'a' && to_lower(c) <= 'f') &&
			    c != ':' && c != '.')
				return false;
		}
		memcpy(text, a.p, a.len);
		text[a.len] = '\0';
		return inet_pton(AF_INET6, text, &addr) == 1;
	}
	return ipv4_valid(in.p, in.len);
}

/* ----- paths ---------------------------------------------------------- */

/* Where the path's closing '>' is, skipping quoted strings so that
 * <"a>b"@example.test> is one path. n if there is none. */
static size_t find_path_end(struct span s)
{
	bool quoted = false;
	for (size_t i = 1; i < s.len; i++) {
		unsigned char c = s.p[i];
		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '>') {
			return i;
		}
	}
	return s.len;
}

/* Dot-string (RFC 5321 4.1.2) from s[0]; returns its length (stops at '@'
 * or the end), or 0 when malformed. */
static size_t dot_string_len(const unsigned char *s, size_t n, bool *utf8)
{
	size_t i = 0;
	bool atom_start = true;
	while (i < n && s[i] != '@') {
		unsigned char c = s[i];
		if (c == '.') {
			if (atom_start)
				return 0;	/* leading or double dot */
			atom_start = true;
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = utf8_seq(s + i, n - i);
			if (k == 0)
				return 0;
			*utf8 = true;
			i += k;
		} else if (is_atext(c)) {
			i++;
		} else {
			return 0;
		}
		atom_start = false;
	}
	if (atom_start)
		return 0;	/* empty or trailing dot */
	return i;
}

/* Quoted-string (RFC 5321 4.1.2, RFC 6531 3.3) from s[0] == '"'; returns
 * its length including both quotes, or 0 when malformed. */
static size_t quoted_string_len(const unsigned char *s, size_t n, bool *utf8)
{
	size_t i = 1;
	while (i < n) {
		unsigned char c = s[i];
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			/* quoted-pairSMTP = %d92 %d32-126 */
			if (i + 1 >= n || s[i + 1] < 32 || s[i + 1] > 126)
				return 0;
			i += 2;
		} else if (c >= 32 && c <= 126) {
			i++;
		} else if (c >= 0x80) {
			size_t k = utf8_seq(s + i, n - i);
			if (k == 0)
				return 0;
			*utf8 = true;
			i += k;
		} else {
			return 0;	/* NUL and other controls */
		}
	}
	return 0;
}

static int copy_out(char *dst, size_t dstsz, const unsigned char *s, size_t n)
{
	if (n >= dstsz)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Parse "<path>" at the start of arg into path; *rest_out is what follows
 * the '>'. RFC 5321 4.1.2:
 *   Path = "<" [ A-d-l ":" ] Mailbox ">"
 *   A-d-l = At-domain *( "," At-domain ),  At-domain = "@" Domain
 *   Mailbox = Local-part "@" ( Domain / address-literal )
 * "<>" only for MAIL (4.1.1.2); "<Postmaster>" only for RCPT (4.1.1.3). */
static int parse_path(struct span arg, bool is_mail, struct smtp_path *path,
		      struct span *rest_out, struct err *err)
{
	const char *esc = is_mail ? "5.1.7" : "5.1.3";
	const char *what = is_mail ? "sender" : "recipient";

	memset(path, 0, sizeof *path);
	if (arg.len == 0)
		return err_set(err, ERR_PEER, 501, "5.5.4", "%s",
			       is_mail ? "Syntax: MAIL FROM:<address>" :
			       "Syntax: RCPT TO:<address>");
	size_t close = find_path_end(arg);
	if (arg.p[0] != '<' || close == arg.len)
		return err_set(err, ERR_PEER, 501, "5.5.4",
			       "Syntax: angle brackets required around the address");
	/* RFC 5321 4.5.3.1.3: 256 octets, punctuation included. */
	if (close + 1 > SMTP_PATH_MAX)
		return err_set(err, ERR_LIMIT, 553, "5.1.3", "Path too long");
	*rest_out = span_make(arg.p + close + 1, arg.len - close - 1);

	const unsigned char *s = arg.p + 1;
	size_t n = close - 1, i = 0;
	if (n == 0) {
		if (!is_mail)
			return err_set(err, ERR_PEER, 501, esc,
				       "Null recipient address not allowed");
		path->null_path = true;
		return 0;
	}

	/* Source route (RFC 5321 4.1.1.3, appendix C): checked, then
	 * dropped; the mailbox alone decides where mail goes. */
	if (s[0] == '@') {
		for (;;) {
			size_t start = ++i;	/* past '@' */
			while (i < n && s[i] != ',' && s[i] != ':')
				i++;
			if (i == n || !domain_valid(s + start, i - start, &path->utf8))
				return err_set(err, ERR_PEER, 501, esc,
					       "Bad %s address syntax (source route)",
					       what);
			if (s[i++] == ':')
				break;
			if (i == n || s[i] != '@')
				return err_set(err, ERR_PEER, 501, esc,
					       "Bad %s address syntax (source route)",
					       what);
		}
	}

	/* Local-part = Dot-string / Quoted-string */
	size_t lstart = i, llen;
	bool quoted = i < n && s[i] == '"';
	if (quoted)
		llen = quoted_string_len(s + i, n - i, &path->utf8);
	else
		llen = dot_string_len(s + i, n - i, &path->utf8);
	if (llen == 0)
		return err_set(err, ERR_PEER, 501, esc,
			       "Bad %s address syntax (local part)", what);
	i += llen;
	/* RFC 5321 4.5.3.1.1: 64 octets; quotes are punctuation. */
	if (llen - (quoted ? 2 : 0) > SMTP_LOCAL_MAX)
		return err_set(err, ERR_LIMIT, 553, esc, "Local part too long");

	if (i == n) {
		/* RFC 5321 4.5.1: <Postmaster> without a domain, any case. */
		if (!is_mail && lstart == 0 && !quoted &&
		    span_eq_ci(span_make(s, llen), "postmaster")) {
			if (copy_out(path->local, sizeof path->local, s, llen) != 0 ||
			    copy_out(path->addr, sizeof path->addr, s, llen) != 0)
				return err_set(err, ERR_LIMIT, 553, "5.1.3",
					       "Path too long");
			return 0;
		}
		return err_set(err, ERR_PEER, 501, esc,
			       "Bad %s address syntax (domain required)", what);
	}
	if (s[i] != '@')
		return err_set(err, ERR_PEER, 501, esc,
			       "Bad %s address syntax (local part)", what);
	i++;

	const unsigned char *dom = s + i;
	size_t dlen = n - i;
	if (dlen > 0 && dom[0] == '[') {
		if (!literal_valid(dom, dlen))
			return err_set(err, ERR_PEER, 501, esc,
				       "Bad %s address syntax (address literal)",
				       what);
		path->domain_literal = true;
	} else if (!domain_valid(dom, dlen, &path->utf8)) {
		return err_set(err, ERR_PEER, 501, esc,
			       "Bad %s address syntax (domain)", what);
	}

	/* close + 1 <= SMTP_PATH_MAX already bounds every copy below;
	 * copy_out checks each all the same. */
	size_t alen = n - lstart;
	if (copy_out(path->local, sizeof path->local, s + lstart, llen) != 0 ||
	    copy_out(path->domain, sizeof path->domain, dom, dlen) != 0 ||
	    copy_out(path->addr, sizeof path->addr, s + lstart, alen) != 0)
		return err_set(err, ERR_LIMIT, 553, "5.1.3", "Path too long");
	for (size_t k = 0; k < dlen; k++)
		path->domain[k] = (char)to_lower((unsigned char)path->domain[k]);
	if (path->domain_literal && span_prefix_ci(span_make(dom, dlen), "[IPv6:"))
		memcpy(path->domain + 1, "IPv6:", 5);
	return 0;
}

/* ----- ESMTP parameters ----------------------------------------------- */

struct esmtp_param {
	struct span key;
	struct span value;
	bool has_value;
};

/* Next "keyword[=value]" from *rest (RFC 5321 4.1.2):
 *   esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 *   esmtp-value = 1*(%d33-60 / %d62-126), RFC 6531 adds UTF-8.
 * 1 with *prm filled, 0 at the end, -1 on bad syntax. */
static int next_param(struct span *rest, struct esmtp_param *prm)
{
	struct span r = *rest;
	while (r.len > 0 && r.p[0] == ' ') {
		r.p++;
		r.len--;
	}
	if (r.len == 0) {
		*rest = r;
		return 0;
	}
	size_t i = 0;
	while (i < r.len && (is_alpha(r.p[i]) || is_digit(r.p[i]) ||
			     (i > 0 && r.p[i] == '-')))
		i++;
	if (i == 0)
		return -1;
	memset(prm, 0, sizeof *prm);
	prm->key = span_make(r.p, i);
	if (i < r.len && r.p[i] == '=') {
		size_t vstart = ++i;
		while (i < r.len && r.p[i] != ' ') {
			unsigned char c = r.p[i];
			if (c >= 33 && c <= 126 && c != '=') {
				i++;
			} else if (c >= 0x80) {
				size_t k = utf8_seq(r.p + i, r.len - i);
				if (k == 0)
					return -1;
				i += k;
			} else {
				return -1;
			}
		}
		if (i == vstart)
			return -1;
		prm->value = span_make(r.p + vstart, i - vstart);
		prm->has_value = true;
	}
	if (i < r.len && r.p[i] != ' ')
		return -1;
	*rest = span_make(r.p + i, r.len - i);
	return 1;
}

/* RFC 3461 4 xtext, the syntax of AUTH= (RFC 4954 5): printable ASCII
 * other than '+' and '=', or "+XX" with upper-case hex digits. */
static bool xtext_valid(struct span v)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = v.p[i];
		if (c == '+') {
			for (int k = 1; k <= 2; k++) {
				if (i + (size_t)k >= v.len)
					return false;
				unsigned char h = v.p[i + (size_t)k];
				if (!is_digit(h) && !(h >= 'A' && h <= 'F'))
					return false;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return v.len > 0;
}

/* Decode xtext v (checked with xtext_valid) into out (outsz bytes, NUL
 * ended); -1 if it does not fit or decodes to a control character. */
static int xtext_decode(struct span v, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = v.p[i];
		if (c == '+') {
			unsigned hi = v.p[i + 1], lo = v.p[i + 2];
			hi = is_digit((unsigned char)hi) ? hi - '0' : hi - 'A' + 10;
			lo = is_digit((unsigned char)lo) ? lo - '0' : lo - 'A' + 10;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static bool parse_u64(struct span v, uint64_t *out)
{
	uint64_t n = 0;
	if (v.len == 0 || v.len > UINT64_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (!is_digit(v.p[i]) ||
		    __builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(v.p[i] - '0'), &n))
			return false;
	}
	*out = n;
	return true;
}

/* RFC 1870 6: size-value = 1*20DIGIT. A well-formed value beyond
 * uint64_t is "too big", not a syntax error: it saturates. */
static bool parse_size_value(struct span v, uint64_t *out)
{
	if (v.len == 0 || v.len > 20)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (!is_digit(v.p[i]))
			return false;
	if (!parse_u64(v, out))
		*out = UINT64_MAX;
	return true;
}

/* After the '>' comes nothing or SP and parameters (RFC 5321 4.1.1.2). */
static int check_after_path(struct span rest, struct err *err)
{
	if (rest.len > 0 && rest.p[0] != ' ')
		return err_set(err, ERR_PEER, 501, "5.5.4",
			       "Syntax: unexpected text after the address");
	return 0;
}

int smtp_parse_mail(struct span arg, uint64_t max_size, struct smtp_path *path,
		    struct smtp_mail_params *params, struct err *err)
{
	struct span rest;
	memset(params, 0, sizeof *params);
	if (parse_path(arg, true, path, &rest, err) != 0 ||
	    check_after_path(rest, err) != 0)
		return -1;

	bool seen_body = false, seen_auth = false;
	struct esmtp_param prm;
	int rc;
	while ((rc = next_param(&rest, &prm)) == 1) {
		bool dup;
		if (span_eq_ci(prm.key, "SIZE")) {
			/* RFC 1870 6: size-value = 1*20DIGIT */
			dup = params->has_size;
			if (!dup && (!prm.has_value ||
				     !parse_size_value(prm.value, &params->size)))
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: SIZE=<number of octets>");
			params->has_size = true;
		} else if (span_eq_ci(prm.key, "BODY")) {
			dup = seen_body;
			if (!dup && prm.has_value && span_eq_ci(prm.value, "7BIT"))
				params->body = SMTP_BODY_7BIT;
			else if (!dup && prm.has_value &&
				 span_eq_ci(prm.value, "8BITMIME"))
				params->body = SMTP_BODY_8BITMIME;
			else if (!dup && prm.has_value &&
				 span_eq_ci(prm.value, "BINARYMIME"))
				params->body = SMTP_BODY_BINARYMIME;
			else if (!dup)
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: BODY=7BIT, 8BITMIME or BINARYMIME");
			seen_body = true;
		} else if (span_eq_ci(prm.key, "SMTPUTF8")) {
			/* RFC 6531 3.4: no value */
			dup = params->smtputf8;
			if (!dup && prm.has_value)
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: SMTPUTF8 takes no value");
			params->smtputf8 = true;
		} else if (span_eq_ci(prm.key, "AUTH")) {
			/* RFC 4954 5: clients that authenticated send it; a
			 * server MAY ignore it, which we do after checking. */
			dup = seen_auth;
			if (!dup && (!prm.has_value ||
				     !(span_eq_ci(prm.value, "<>") ||
				       xtext_valid(prm.value))))
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: AUTH=<mailbox> or AUTH=<>");
			seen_auth = true;
		} else if (span_eq_ci(prm.key, "RET")) {
			/* RFC 3461 4.3: RET=FULL or RET=HDRS */
			dup = params->ret != SMTP_RET_DEFAULT;
			if (!dup && prm.has_value && span_eq_ci(prm.value, "FULL"))
				params->ret = SMTP_RET_FULL;
			else if (!dup && prm.has_value &&
				 span_eq_ci(prm.value, "HDRS"))
				params->ret = SMTP_RET_HDRS;
			else if (!dup)
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: RET=FULL or RET=HDRS");
			params->dsn = true;
		} else if (span_eq_ci(prm.key, "ENVID")) {
			/* RFC 3461 4.4: xtext, at most 100 characters */
			dup = params->envid[0] != '\0';
			if (!dup && (!prm.has_value || !xtext_valid(prm.value) ||
				     xtext_decode(prm.value, params->envid,
						  sizeof params->envid) != 0))
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: ENVID=<xtext of at most 100 characters>");
			params->dsn = true;
		} else {
			return err_set(err, ERR_PEER, 555, "5.5.4",
				       "Unsupported MAIL parameter");
		}
		if (dup)
			return err_set(err, ERR_PEER, 501, "5.5.4",
				       "Duplicate MAIL parameter");
	}
	if (rc < 0)
		return err_set(err, ERR_PEER, 501, "5.5.4",
			       "Syntax: bad MAIL parameter");
	/* RFC 1870 6.1: checked once the whole command is known good. */
	if (params->has_size && max_size > 0 && params->size > max_size)
		return err_set(err, ERR_LIMIT, 552, "5.3.4",
			       "Message size exceeds fixed maximum message size");
	return 0;
}

/* RFC 3461 4.1: "NEVER" alone, or a list of SUCCESS, FAILURE, DELAY. */
static int parse_notify(struct span v, unsigned *out)
{
	unsigned bits = 0;
	size_t i = 0;
	while (i <= v.len) {
		size_t j = i;
		while (j < v.len && v.p[j] != ',')
			j++;
		struct span w = span_make(v.p + i, j - i);
		unsigned b = span_eq_ci(w, "NEVER") ? SMTP_NOTIFY_NEVER
			   : span_eq_ci(w, "SUCCESS") ? SMTP_NOTIFY_SUCCESS
			   : span_eq_ci(w, "FAILURE") ? SMTP_NOTIFY_FAILURE
			   : span_eq_ci(w, "DELAY") ? SMTP_NOTIFY_DELAY : 0;
		if (b == 0 || (bits & b) != 0)
			return -1;
		bits |= b;
		i = j + 1;
	}
	if ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER)
		return -1;
	*out = bits;
	return 0;
}

/* RFC 3461 4.2: addr-type ";" xtext; decoded into out. */
static int parse_orcpt(struct span v, char *out, size_t outsz)
{
	if (v.len > SMTP_ORCPT_MAX)
		return -1;
	size_t k = 0;
	while (k < v.len && v.p[k] != ';')
		k++;
	if (k == 0 || k == v.len || k + 1 >= outsz)
		return -1;
	for (size_t i = 0; i < k; i++)
		if (!is_alpha(v.p[i]) && !is_digit(v.p[i]) && v.p[i] != '-')
			return -1;
	struct span addr = span_make(v.p + k + 1, v.len - k - 1);
	if (!xtext_valid(addr))
		return -1;
	memcpy(out, v.p, k + 1);
	return xtext_decode(addr, out + k + 1, outsz - k - 1);
}

int smtp_parse_rcpt(struct span arg, struct smtp_path *path,
		    struct smtp_rcpt_params *dsn, struct err *err)
{
	struct span rest;
	struct esmtp_param prm;
	if (dsn != NULL)
		memset(dsn, 0, sizeof *dsn);
	if (parse_path(arg, false, path, &rest, err) != 0 ||
	    check_after_path(rest, err) != 0)
		return -1;
	int rc;
	while ((rc = next_param(&rest, &prm)) == 1) {
		if (dsn == NULL)
			return err_set(err, ERR_PEER, 555, "5.5.4",
				       "Unsupported RCPT parameter");
		if (span_eq_ci(prm.key, "NOTIFY")) {
			if (dsn->notify != 0)
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Duplicate RCPT parameter");
			if (!prm.has_value || parse_notify(prm.value, &dsn->notify) != 0)
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,DELAY");
		} else if (span_eq_ci(prm.key, "ORCPT")) {
			if (dsn->orcpt[0] != '\0')
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Duplicate RCPT parameter");
			if (!prm.has_value ||
			    parse_orcpt(prm.value, dsn->orcpt, sizeof dsn->orcpt) != 0)
				return err_set(err, ERR_PEER, 501, "5.5.4",
					       "Syntax: ORCPT=rfc822;<xtext address>");
		} else {
			return err_set(err, ERR_PEER, 555, "5.5.4",
				       "Unsupported RCPT parameter");
		}
	}
	if (rc < 0)
		return err_set(err, ERR_PEER, 501, "5.5.4",
			       "Syntax: bad RCPT parameter");
	return 0;
}

int smtp_parse_bdat(struct span arg, uint64_t *size_out, bool *last_out,
		    struct err *err)
{
	size_t i = 0;
	while (i < arg.len && is_digit(arg.p[i]))
		i++;
	uint64_t size;
	if (!parse_u64(span_make(arg.p, i), &size))
		goto bad;
	struct span rest = span_make(arg.p + i, arg.len - i);
	bool last = false;
	if (rest.len > 0) {
		if (rest.p[0] != ' ')
			goto bad;
		rest = span_trim(rest);
		if (!span_eq_ci(rest, "LAST"))
			goto bad;
		last = true;
	}
	*size_out = size;
	*last_out = last;
	return 0;
bad:
	return err_set(err, ERR_PEER, 501, "5.5.4",
		       "Syntax: BDAT <chunk-size> [LAST]");
}

int smtp_parse_helo(struct span arg, char *out, size_t outsz, struct err *err)
{
	if (arg.len == 0 || arg.len > SMTP_DOMAIN_MAX || arg.len >= outsz)
		return err_set(err, ERR_PEER, 501, "5.5.4",
			       "Syntax: EHLO hostname");
	for (size_t i = 0; i < arg.len; i++)
		if (arg.p[i] < 0x21 || arg.p[i] > 0x7E)
			return err_set(err, ERR_PEER, 501, "5.5.4",
				       "Syntax: EHLO hostname");
	memcpy(out, arg.p, arg.len);
	out[arg.len] = '\0';
	return 0;
}
