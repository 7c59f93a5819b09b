/* imap_parse_mailbox.c - mailbox names from IMAP commands: modified UTF-7
 * (RFC 3501 5.1.3) for IMAP4rev1 clients, UTF-8 for IMAP4rev2 and
 * UTF8=ACCEPT (RFC 9051 5.1, RFC 6855 3), INBOX's case (RFC 9051 5.1),
 * and the rules that keep a name safe to use as a folder path: no control
 * characters, no leading "/", no empty, "." or ".." components, no
 * wildcards. It does not know which mailboxes exist. */
#include "imap/imap_parse_value.h"

#include <string.h>

/* ----- UTF-8 ------------------------------------------------------------ */

/* Decode one code point at s.p[*i] (RFC 3629 4), advancing *i; -1 if the
 * bytes there are not well-formed UTF-8. */
static int utf8_next(struct span s, size_t *i, uint32_t *cp)
{
	unsigned char c = s.p[*i];
	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	unsigned need;
	unsigned char lo = 0x80, hi = 0xbf;
	uint32_t v;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else {
		return -1;
	}
	if (s.len - *i <= need)
		return -1;
	for (unsigned k = 1; k <= need; k++) {
		unsigned char b = s.p[*i + k];
		if (b < lo || b > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
		v = (v << 6) | (b & 0x3f);
	}
	*i += need + 1;
	*cp = v;
	return 0;
}

bool imap_utf8_valid(struct span s)
{
	size_t i = 0;
	uint32_t cp;
	while (i < s.len)
		if (utf8_next(s, &i, &cp) != 0)
			return false;
	return true;
}

static size_t put_utf8(unsigned char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ----- modified UTF-7 ---------------------------------------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* One base64 run "&...-" starting after the "&" at in.p[*i]; appends
 * UTF-8 to o at *olen. */
static int mutf7_run(struct span in, size_t *i, unsigned char *o, size_t *olen)
{
	uint32_t bits = 0;
	unsigned nbits = 0;
	uint32_t high = 0;	/* pending high surrogate */
	size_t units = 0;
	while (*i < in.len && in.p[*i] != '-') {
		int v = b64_value(in.p[*i]);
		if (v < 0)
			return -1;
		(*i)++;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		units++;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			uint32_t cp = 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00);
			*olen += put_utf8(o + *olen, cp);
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return -1;
		} else if (u >= 0x20 && u <= 0x7e) {
			/* RFC 3501 5.1.3: printable ASCII represents itself */
			return -1;
		} else {
			*olen += put_utf8(o + *olen, u);
		}
	}
	/* the run ends with "-"; leftover bits are padding and must be 0 */
	if (*i >= in.len || units == 0 || high != 0 || nbits >= 6 || bits != 0)
		return -1;
	(*i)++;
	return 0;
}

int imap_mutf7_decode(struct span in, struct imap_arena *a, struct span *out)
{
	/* Each byte gives at most 2 bytes of UTF-8 (8 base64 characters are
	 * 3 UTF-16 units of at most 3 bytes each). */
	size_t cap;
	if (__builtin_mul_overflow(in.len, (size_t)2, &cap) ||
	    __builtin_add_overflow(cap, (size_t)1, &cap))
		return -1;
	unsigned char *o = imap_arena_alloc(a, cap);
	if (o == NULL)
		return -1;
	size_t olen = 0, i = 0;
	bool after_run = false;
	while (i < in.len) {
		unsigned char c = in.p[i];
		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			o[olen++] = c;
			i++;
			after_run = false;
			continue;
		}
		i++;
		if (i < in.len && in.p[i] == '-') {
			o[olen++] = '&';
			i++;
			after_run = false;
			continue;
		}
		/* "-&" would join two runs that must be one (RFC 3501 5.1.3) */
		if (after_run)
			return -1;
		if (mutf7_run(in, &i, o, &olen) != 0)
			return -1;
		after_run = true;
	}
	o[olen] = '\0';
	*out = span_make(o, olen);
	return 0;
}

static void b64_flush(unsigned char *o, size_t *olen, uint32_t *bits,
		      unsigned *nbits)
{
	while (*nbits >= 6) {
		*nbits -= 6;
		o[(*olen)++] = (unsigned char)b64[(*bits >> *nbits) & 0x3f];
	}
	*bits &= (1u << *nbits) - 1;
}

int imap_mutf7_encode(struct span in, struct imap_arena *a, struct span *out)
{
	/* Worst case: "&-" per "&", and a non-ASCII character alone in a run
	 * ("&AOk-", 5 bytes for 2; "&2D3eAA-", 8 for 4). */
	size_t cap;
	if (__builtin_mul_overflow(in.len, (size_t)3, &cap) ||
	    __builtin_add_overflow(cap, (size_t)4, &cap))
		return -1;
	unsigned char *o = imap_arena_alloc(a, cap);
	if (o == NULL)
		return -1;
	size_t olen = 0, i = 0;
	bool in_run = false;
	uint32_t bits = 0;
	unsigned nbits = 0;
	while (i < in.len) {
		uint32_t cp;
		if (utf8_next(in, &i, &cp) != 0)
			return -1;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_run) {
				if (nbits > 0) {
					bits <<= 6 - nbits;
					nbits = 6;
					b64_flush(o, &olen, &bits, &nbits);
				}
				o[olen++] = '-';
				in_run = false;
			}
			o[olen++] = (unsigned char)cp;
			if (cp == '&')
				o[olen++] = '-';
			continue;
		}
		if (!in_run) {
			o[olen++] = '&';
			in_run = true;
			bits = 0;
			nbits = 0;
		}
		uint32_t units[2];
		int nu = 1;
		if (cp >= 0x10000) {
			units[0] = 0xd800 + ((cp - 0x10000) >> 10);
			units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			nu = 2;
		} else {
			units[0] = cp;
		}
		for (int k = 0; k < nu; k++) {
			bits = (bits << 16) | units[k];
			nbits += 16;
			b64_flush(o, &olen, &bits, &nbits);
		}
	}
	if (in_run) {
		if (nbits > 0) {
			bits <<= 6 - nbits;
			nbits = 6;
			b64_flush(o, &olen, &bits, &nbits);
		}
		o[olen++] = '-';
	}
	o[olen] = '\0';
	*out = span_make(o, olen);
	return 0;
}

/* ----- mailbox names ----------------------------------------------------- */

static int refuse(struct err *err, const char *msg)
{
	err_set(err, ERR_PEER, 0, "", "%s", msg);
	return IMAP_MAILBOX_REFUSED;
}

/* Path rules for a name that is to be used, not matched. */
static int check_path(struct span s, struct err *err)
{
	if (s.len == 0)
		return refuse(err, "Empty mailbox name");
	if (s.p[0] == IMAP_MAILBOX_SEP)
		return refuse(err, "Mailbox name starts with '/'");
	size_t start = 0, depth = 0;
	for (size_t i = 0; i <= s.len; i++) {
		if (i < s.len && s.p[i] != IMAP_MAILBOX_SEP) {
			if (s.p[i] == '%' || s.p[i] == '*')
				return refuse(err, "Mailbox name contains a wildcard");
			continue;
		}
		size_t n = i - start;
		if (n == 0)
			return refuse(err, "Mailbox name has an empty component");
		if ((n == 1 && s.p[start] == '.') ||
		    (n == 2 && s.p[start] == '.' && s.p[start + 1] == '.'))
			return refuse(err, "Mailbox name has a '.' or '..' component");
		if (++depth > IMAP_MAILBOX_DEPTH_MAX)
			return refuse(err, "Mailbox name too deep");
		start = i + 1;
	}
	return 0;
}

int imap_parse_mailbox(const struct imap_arg *arg, unsigned opts,
		       struct imap_arena *a, struct span *out, struct err *err)
{
	struct span raw;
	if (!imap_arg_astring(arg, &raw))
		return err_set(err, ERR_PEER, 0, "", "Invalid mailbox name");
	struct span name;
	if (opts & IMAP_MAILBOX_UTF8) {
		if (!imap_utf8_valid(raw))
			return err_set(err, ERR_PEER, 0, "", "Mailbox name is not UTF-8");
		if (imap_arena_span(a, raw, &name) != 0)
			return err_set(err, ERR_LIMIT, 0, "", "Command too complex");
	} else if (imap_mutf7_decode(raw, a, &name) != 0) {
		/* RFC 3501 5.1.3; also 8-bit names from a client that has not
		 * enabled UTF8=ACCEPT */
		for (size_t i = 0; i < raw.len; i++)
			if (raw.p[i] < 0x20 || raw.p[i] == 0x7f)
				return refuse(err, "Mailbox name has control characters");
		return err_set(err, ERR_PEER, 0, "",
			       "Mailbox name is not valid modified UTF-7");
	}
	for (size_t i = 0; i < name.len; i++)
		if (name.p[i] < 0x20 || name.p[i] == 0x7f)
			return refuse(err, "Mailbox name has control characters");
	if (name.len > IMAP_MAILBOX_MAX)
		return refuse(err, "Mailbox name too long");
	/* RFC 9051 5.1: INBOX is case-insensitive, also as a parent */
	if (span_prefix_ci(name, "INBOX") &&
	    (name.len == 5 || name.p[5] == IMAP_MAILBOX_SEP) &&
	    memcmp(name.p, "INBOX", 5) != 0) {
		unsigned char *w = imap_arena_alloc(a, name.len + 1);
		if (w == NULL)
			return err_set(err, ERR_LIMIT, 0, "", "Command too complex");
		memcpy(w, "INBOX", 5);
		memcpy(w + 5, name.p + 5, name.len - 5);
		name = span_make(w, name.len);
	}
	if (!(opts & IMAP_MAILBOX_PATTERN)) {
		int rc = check_path(name, err);
		if (rc != 0)
			return rc;
	}
	*out = name;
	return 0;
}
