/* mime_decode.c - from wire bytes to UTF-8: charsets through iconv (with
 * the aliases real mail uses), base64 and quoted-printable (RFC 2045 6),
 * RFC 2047 encoded words in header text, and the text of a message for
 * SEARCH. Every decoder is total: bad input gives U+FFFD or is kept as
 * it is, never an error; -1 means only that the output buffer is full. */
#include "mime/mime_private.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

/* ----- UTF-8 ------------------------------------------------------------ */

int mime_put_replacement(struct buf *out)
{
	return buf_append(out, "\xEF\xBF\xBD", 3);
}

/* Length of the valid UTF-8 sequence at p[0..n), 0 if invalid (RFC 3629
 * 4: no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

int mime_utf8_sanitize(struct span in, struct buf *out)
{
	if (in.len == 0)
		return 0;	/* in.p may be NULL */
	size_t i = 0, run = 0;
	while (i < in.len) {
		size_t n = utf8_seq(in.p + i, in.len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		if (buf_append(out, in.p + run, i - run) < 0 ||
		    mime_put_replacement(out) < 0)
			return -1;
		i++;
		run = i;
	}
	return buf_append(out, in.p + run, i - run);
}

/* ----- charsets ---------------------------------------------------------- */

/* Names mail uses that glibc does not know, or supersets that decode
 * what senders really mean (WHATWG's Encoding Standard does the same). */
static const struct {
	const char *name, *iconv;
} charset_alias[] = {
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601", "CP949" },
	{ "euc-kr", "CP949" }, { "x-windows-949", "CP949" },
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "x-gbk", "GB18030" },
	{ "cp936", "GB18030" }, { "gb_2312-80", "GB18030" },
	{ "chinese", "GB18030" }, { "csgb2312", "GB18030" },
	{ "big5", "BIG5-HKSCS" }, { "x-x-big5", "BIG5-HKSCS" },
	{ "shift_jis", "CP932" }, { "shift-jis", "CP932" },
	{ "x-sjis", "CP932" }, { "sjis", "CP932" }, { "windows-31j", "CP932" },
	{ "ms_kanji", "CP932" }, { "iso-2022-jp", "ISO-2022-JP-2" },
	{ "unicode-1-1-utf-7", "UTF-7" }, { "utf7", "UTF-7" },
	{ "iso-8859-8-i", "ISO-8859-8" }, { "iso-8859-6-i", "ISO-8859-6" },
	{ "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" },
	{ "tis-620", "TIS-620" }, { "windows-874", "CP874" },
	{ "utf-16", "UTF-16" }, { "unicode", "UTF-16" },
	{ "x-user-defined", "ISO-8859-1" },
};

/* Charset name without quotes, white space or an RFC 2231 language
 * ("us-ascii*en"), lowercased into dst. false if too long or empty. */
static bool charset_name(struct span cs, char *dst, size_t dstsz)
{
	size_t i = 0, n = 0;
	while (i < cs.len && (mime_is_wsp(cs.p[i]) || cs.p[i] == '"'))
		i++;
	while (i < cs.len && !mime_is_wsp(cs.p[i]) && cs.p[i] != '"' &&
	       cs.p[i] != '*') {
		unsigned char ch = mime_lower(cs.p[i]);
		/* Only what charset names use: keeps iconv's parser safe. */
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.' || ch == ':'))
			return false;
		if (n + 1 >= dstsz)
			return false;
		dst[n++] = (char)ch;
		i++;
	}
	dst[n] = '\0';
	return n > 0;
}

static int latin1_to_utf8(struct span in, struct buf *out)
{
	if (in.len == 0)
		return 0;	/* in.p may be NULL */
	size_t run = 0;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = in.p[i];
		if (c < 0x80)
			continue;
		unsigned char u[2] = { (unsigned char)(0xC0 | (c >> 6)),
				       (unsigned char)(0x80 | (c & 0x3F)) };
		if (buf_append(out, in.p + run, i - run) < 0 ||
		    buf_append(out, u, 2) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(out, in.p + run, in.len - run);
}

/* Unknown charset: ASCII passes, every other byte is U+FFFD. */
static int unknown_to_utf8(struct span in, struct buf *out)
{
	if (in.len == 0)
		return 0;	/* in.p may be NULL */
	size_t run = 0;
	for (size_t i = 0; i < in.len; i++) {
		if (in.p[i] < 0x80)
			continue;
		if (buf_append(out, in.p + run, i - run) < 0 ||
		    mime_put_replacement(out) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(out, in.p + run, in.len - run);
}

static int iconv_to_utf8(iconv_t cd, struct span in, struct buf *out)
{
	char chunk[4096];
	char *ip = (char *)(uintptr_t)in.p;	/* iconv's API is not const */
	size_t ileft = in.len;
	bool flush = false;
	for (;;) {
		char *op = chunk;
		size_t oleft = sizeof chunk;
		size_t r = flush ? iconv(cd, NULL, NULL, &op, &oleft)
				 : iconv(cd, &ip, &ileft, &op, &oleft);
		int e = errno;
		if (buf_append(out, chunk, sizeof chunk - oleft) < 0)
			return -1;
		if (r != (size_t)-1) {
			if (flush)
				return 0;
			flush = true;	/* emit any shift sequence state */
			continue;
		}
		if (e == E2BIG)
			continue;
		if (flush)
			return 0;
		/* EILSEQ or EINVAL (truncated at the end): one U+FFFD for
		 * the byte, then go on after it. */
		if (mime_put_replacement(out) < 0)
			return -1;
		if (ileft == 0)
			return 0;
		ip++;
		ileft--;
	}
}

int mime_charset_to_utf8(struct span charset, struct span in, struct buf *out)
{
	if (in.len == 0)
		return 0;	/* in.p may be NULL */
	char name[64];
	if (!charset_name(charset, name, sizeof name))
		return mime_utf8_sanitize(in, out);
	if (strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0 ||
	    strcmp(name, "us-ascii") == 0 || strcmp(name, "ascii") == 0 ||
	    strcmp(name, "ansi_x3.4-1968") == 0 || strcmp(name, "646") == 0)
		return mime_utf8_sanitize(in, out);
	if (strcmp(name, "iso-8859-1") == 0 || strcmp(name, "latin1") == 0 ||
	    strcmp(name, "iso8859-1") == 0 || strcmp(name, "l1") == 0)
		return latin1_to_utf8(in, out);
	const char *iname = name;
	for (size_t i = 0; i < sizeof charset_alias / sizeof charset_alias[0]; i++)
		if (strcmp(name, charset_alias[i].name) == 0)
			iname = charset_alias[i].iconv;
	iconv_t cd = iconv_open("UTF-8", iname);
	if (cd == (iconv_t)-1)
		return unknown_to_utf8(in, out);
	int rc = iconv_to_utf8(cd, in, out);
	(void)iconv_close(cd);	/* fails only for a bad descriptor */
	return rc;
}

/* ----- transfer encodings ------------------------------------------------- */

static signed char b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (signed char)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (signed char)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (signed char)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mime_base64_decode(struct span in, struct buf *out)
{
	unsigned char block[1024];
	size_t bn = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = in.p[i];
		if (c == '=') {
			/* Padding ends a quantum; anything after it starts a
			 * new one (concatenated base64 blocks). */
			acc = 0;
			bits = 0;
			continue;
		}
		signed char v = b64val(c);
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			block[bn++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
			if (bn == sizeof block) {
				if (buf_append(out, block, bn) < 0)
					return -1;
				bn = 0;
			}
		}
	}
	return buf_append(out, block, bn);
}

int mime_qp_decode(struct span in, struct buf *out)
{
	if (in.len == 0)
		return 0;	/* in.p may be NULL */
	size_t i = 0, run = 0;
	while (i < in.len) {
		unsigned char c = in.p[i];
		if (c == '=') {
			int h1 = i + 1 < in.len ? mime_hexval(in.p[i + 1]) : -1;
			int h2 = i + 2 < in.len ? mime_hexval(in.p[i + 2]) : -1;
			if (h1 >= 0 && h2 >= 0) {
				unsigned char b = (unsigned char)(h1 * 16 + h2);
				if (buf_append(out, in.p + run, i - run) < 0 ||
				    buf_append(out, &b, 1) < 0)
					return -1;
				i += 3;
				run = i;
				continue;
			}
			/* RFC 2045 6.7 (5): "=" then optional white space
			 * and a line break is a soft line break. */
			size_t k = i + 1;
			while (k < in.len && (in.p[k] == ' ' || in.p[k] == '\t'))
				k++;
			if (k < in.len && in.p[k] == '\r')
				k++;
			if (k >= in.len || in.p[k] == '\n') {
				if (buf_append(out, in.p + run, i - run) < 0)
					return -1;
				i = k < in.len ? k + 1 : k;
				run = i;
				continue;
			}
			i++;	/* a stray '=' stays as it is */
			continue;
		}
		if (c == ' ' || c == '\t') {
			/* RFC 2045 6.7 (3): trailing white space on a line
			 * was added in transport; drop it. */
			size_t k = i;
			while (k < in.len && (in.p[k] == ' ' || in.p[k] == '\t'))
				k++;
			size_t e = k;
			if (e < in.len && in.p[e] == '\r')
				e++;
			if (e >= in.len || in.p[e] == '\n') {
				if (buf_append(out, in.p + run, i - run) < 0)
					return -1;
				i = k;
				run = i;
				continue;
			}
			i = k;
			continue;
		}
		i++;
	}
	return buf_append(out, in.p + run, i - run);
}

int mime_part_decode(const struct mime_message *m,
		     const struct mime_part *part, struct buf *out)
{
	struct span body = mime_part_body(m, part);
	switch (part->cte) {
	case MIME_CTE_BASE64:
		return mime_base64_decode(body, out);
	case MIME_CTE_QP:
		return mime_qp_decode(body, out);
	case MIME_CTE_7BIT:
	case MIME_CTE_8BIT:
	case MIME_CTE_BINARY:
	case MIME_CTE_UNKNOWN:
		break;
	}
	return buf_append(out, body.p, body.len);
}

/* ----- RFC 2047 encoded words ------------------------------------------ */

struct ew {
	struct span charset;
	unsigned char enc;	/* 'b' or 'q' */
	struct span text;
	size_t end;		/* index after "?=" */
};

/* Is there an encoded word at s.p[i]? Lenient as Thunderbird is: it may
 * touch other text, and its text may hold spaces and folds. */
static bool ew_parse(struct span s, size_t i, struct ew *ew)
{
	if (i + 2 > s.len || s.p[i] != '=' || s.p[i + 1] != '?')
		return false;
	size_t k = i + 2, cs = k;
	while (k < s.len && s.p[k] != '?' && !mime_is_wsp(s.p[k]) && k - cs < 64)
		k++;
	if (k == cs || k + 2 >= s.len || s.p[k] != '?')
		return false;
	ew->charset = span_make(s.p + cs, k - cs);
	unsigned char e = mime_lower(s.p[k + 1]);
	if ((e != 'b' && e != 'q') || s.p[k + 2] != '?')
		return false;
	ew->enc = e;
	size_t ts = k + 3;
	for (size_t j = ts; j + 1 < s.len; j++) {
		if (s.p[j] == '?' && s.p[j + 1] == '=') {
			ew->text = span_make(s.p + ts, j - ts);
			ew->end = j + 2;
			return true;
		}
		/* The text of a word ends at the line unless folded. */
		if (s.p[j] == '\n' && (j + 1 >= s.len ||
				       (s.p[j + 1] != ' ' && s.p[j + 1] != '\t')))
			return false;
	}
	return false;
}

static int ew_decode(const struct ew *ew, struct buf *out)
{
	if (ew->enc == 'b')
		return mime_base64_decode(ew->text, out);
	struct span t = ew->text;
	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = t.p[i];
		if (c == '\r')
			continue;
		if (c == '\n') {
			/* A fold inside the word: drop it and its indent. */
			while (i + 1 < t.len && (t.p[i + 1] == ' ' || t.p[i + 1] == '\t'))
				i++;
			continue;
		}
		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < t.len && mime_hexval(t.p[i + 1]) >= 0 &&
			   mime_hexval(t.p[i + 2]) >= 0) {
			c = (unsigned char)(mime_hexval(t.p[i + 1]) * 16 +
					    mime_hexval(t.p[i + 2]));
			i += 2;
		}
		if (buf_append(out, &c, 1) < 0)
			return -1;
	}
	return 0;
}

struct hdec {
	struct buf *out;
	struct buf pend;	/* decoded bytes of adjacent words */
	struct span pend_cs;
};

static int hdec_flush(struct hdec *h)
{
	if (h->pend.len == 0)
		return 0;
	int rc = mime_charset_to_utf8(h->pend_cs, buf_span(&h->pend), h->out);
	buf_reset(&h->pend);
	return rc;
}

static bool same_charset(struct span a, struct span b)
{
	return a.len == b.len &&
	       strncasecmp((const char *)a.p, (const char *)b.p, a.len) == 0;
}

int mime_header_decode(struct span v, struct buf *out)
{
	struct hdec h = { .out = out };
	/* Decoded words are never longer than their text. */
	buf_init(&h.pend, v.len + 1);
	int rc = 0;
	size_t i = 0;
	bool last_ew = false, started = false;
	size_t ws_s = 0, ws_e = 0;

	while (i < v.len && rc == 0) {
		if (mime_is_wsp(v.p[i])) {
			ws_s = i;
			while (i < v.len && mime_is_wsp(v.p[i]))
				i++;
			ws_e = i;
			continue;
		}
		struct ew ew;
		bool is_ew = ew_parse(v, i, &ew);
		if (!(is_ew && last_ew) && ws_e > ws_s && started) {
			/* White space between words: a fold is one space,
			 * other runs are kept (CR and LF dropped). */
			rc = hdec_flush(&h);
			bool folded = memchr(v.p + ws_s, '\n', ws_e - ws_s) != NULL;
			for (size_t k = ws_s; k < ws_e && rc == 0 && !folded; k++)
				if (v.p[k] != '\r')
					rc = buf_append(out, v.p + k, 1);
			if (folded && rc == 0)
				rc = buf_append(out, " ", 1);
		}
		ws_s = ws_e = 0;
		started = true;
		if (rc != 0)
			break;
		if (is_ew) {
			if (h.pend.len > 0 && !same_charset(h.pend_cs, ew.charset))
				rc = hdec_flush(&h);
			h.pend_cs = ew.charset;
			if (rc == 0)
				rc = ew_decode(&ew, &h.pend);
			i = ew.end;
			last_ew = true;
			continue;
		}
		rc = hdec_flush(&h);
		size_t s = i;
		i++;
		while (i < v.len && !mime_is_wsp(v.p[i]) &&
		       !(v.p[i] == '=' && i + 1 < v.len && v.p[i + 1] == '?'))
			i++;
		if (rc == 0)
			rc = mime_utf8_sanitize(span_make(v.p + s, i - s), out);
		last_ew = false;
	}
	if (rc == 0)
		rc = hdec_flush(&h);
	buf_release(&h.pend);
	return rc;
}

/* ----- text for SEARCH ------------------------------------------------- */

static int header_text(struct span hdr, struct buf *out)
{
	size_t pos = 0;
	struct span n, v;
	while (mime_header_next(hdr, &pos, &n, &v) == 1) {
		if (buf_append(out, n.p, n.len) < 0 || buf_append(out, ": ", 2) < 0 ||
		    mime_header_decode(v, out) < 0 || buf_append(out, "\n", 1) < 0)
			return -1;
	}
	return 0;
}

int mime_text_extract(const struct mime_message *m, unsigned flags,
		      struct buf *out)
{
	for (uint32_t i = 0; i < m->nparts; i++) {
		const struct mime_part *p = &m->parts[i];
		bool msg_root = i == 0 ||
			(p->parent != MIME_NONE &&
			 (m->parts[p->parent].flags & MIME_PART_MESSAGE));
		if ((flags & MIME_TEXT_HEADERS) && msg_root &&
		    header_text(mime_part_header(m, p), out) < 0)
			return -1;
		if (!(flags & MIME_TEXT_BODY))
			continue;
		if (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE))
			continue;
		if (!(p->flags & (MIME_PART_TEXT | MIME_PART_BROKEN)))
			continue;
		struct buf raw;
		buf_init(&raw, p->body_end - p->body_start + 1);
		int rc = mime_part_decode(m, p, &raw);
		const struct mime_param *cs =
			mime_param_find(p->params, p->nparams, "charset");
		if (rc == 0)
			rc = mime_charset_to_utf8(cs ? cs->value : span_cstr("us-ascii"),
						  buf_span(&raw), out);
		buf_release(&raw);
		if (rc < 0 || buf_append(out, "\n", 1) < 0)
			return -1;
	}
	return 0;
}
