/* token_words.c - text to words and CJK bigrams (see token.h). One pass
 * over the code points with a word buffer of FILTER_TOKEN_MAX octets: a
 * longer word is only counted, so 10 MB of one word costs one pass and
 * yields one class token. */
#include "filter/token.h"

#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "filter/chars.h"
#include "filter/fraud.h"

struct words {
	struct filter_tokens *t;
	const char *prefix;
	unsigned char w[FILTER_TOKEN_MAX + 4];
	size_t wlen;		/* octets of the word, even past w */
	bool digits_only;
	uint32_t cjk_prev;	/* last CJK code point of the run, or 0 */
	size_t cjk_run;
	bool body;		/* the body's text: look for fraud phrases */
	struct fraud_seq fs;
};

static bool is_cjk(uint32_t c)
{
	return (c >= 0x3040 && c <= 0x30ff) ||	/* Hiragana, Katakana */
	       (c >= 0x31f0 && c <= 0x31ff) ||	/* Katakana extensions */
	       (c >= 0x3400 && c <= 0x4dbf) ||	/* Han extension A */
	       (c >= 0x4e00 && c <= 0x9fff) ||	/* Han */
	       (c >= 0xf900 && c <= 0xfaff) ||	/* Han compatibility */
	       (c >= 0xff66 && c <= 0xff9f) ||	/* half-width Katakana */
	       (c >= 0x1100 && c <= 0x11ff) ||	/* Hangul Jamo */
	       (c >= 0x3130 && c <= 0x318f) ||	/* Hangul compatibility */
	       (c >= 0xac00 && c <= 0xd7af) ||	/* Hangul syllables */
	       (c >= 0x20000 && c <= 0x3ffff);	/* Han extensions B.. */
}

static bool is_ignorable(uint32_t c)
{
	return c == 0xad || (c >= 0x200b && c <= 0x200d) || c == 0x2060 ||
	       c == 0xfeff || c == 0x180e;
}

/* Letters and digits: ASCII ones, and above U+00BF whatever is not
 * punctuation, symbols, spaces or CJK (handled apart). */
static bool is_word(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
	if (c < 0xc0 || c == 0xd7 || c == 0xf7 || c == 0xfffd)
		return false;
	if ((c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff65) ||
	    (c >= 0x1f000 && c <= 0x1faff) || (c >= 0xe000 && c <= 0xf8ff))
		return false;
	return true;
}

static bool is_joiner(uint32_t c)
{
	return c == '\'' || c == '-' || c == '.' || c == '_' || c == 0x2019;
}

/* Case folding enough for classification: ASCII, full-width ASCII,
 * Latin-1, Greek and Cyrillic capitals. */
static uint32_t fold(uint32_t c)
{
	if (c >= 0xff01 && c <= 0xff5e)
		c -= 0xfee0;
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x391 && c <= 0x3a9)
		return c + 32;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

static void word_end(struct words *s)
{
	/* joiners only join: drop trailing ones (final '.', '-') */
	while (s->wlen > 0 && s->wlen <= sizeof s->w &&
	       (s->w[s->wlen - 1] == '.' || s->w[s->wlen - 1] == '-' ||
		s->w[s->wlen - 1] == '\'' || s->w[s->wlen - 1] == '_'))
		s->wlen--;
	size_t n = s->wlen;
	s->wlen = 0;
	if (s->body && n > 0)
		fraud_word(&s->fs, s->w, n <= sizeof s->w ? n : sizeof s->w + 1,
			   &s->t->fraud);
	if (n < FILTER_TOKEN_MIN) {
		s->digits_only = true;
		return;
	}
	char cls[24];
	if (n > FILTER_TOKEN_MAX) {
		size_t b = n / 10 * 10;
		if (b > 200)
			b = 200;
		snprintf(cls, sizeof cls, "#long%zu", b);
		filter_tokens_add(s->t, s->prefix, cls, strlen(cls));
	} else if (s->digits_only) {
		size_t d = 0;
		for (size_t i = 0; i < n; i++)
			d += s->w[i] >= '0' && s->w[i] <= '9';
		snprintf(cls, sizeof cls, "#n%zu", d > 12 ? (size_t)12 : d);
		filter_tokens_add(s->t, s->prefix, cls, strlen(cls));
	} else {
		filter_tokens_add(s->t, s->prefix, s->w, n);
	}
	s->digits_only = true;
}

static void cjk_end(struct words *s)
{
	if (s->cjk_run == 1) {
		unsigned char u[4];
		filter_tokens_add(s->t, s->prefix, u,
				  filter_utf8_put(s->cjk_prev, u));
	}
	s->cjk_prev = 0;
	s->cjk_run = 0;
}

static void word_put(struct words *s, uint32_t c)
{
	unsigned char u[4];
	size_t n = filter_utf8_put(c, u);

	if (!(c >= '0' && c <= '9') && c != '.' && c != ',' && c != '-')
		s->digits_only = false;
	if (s->wlen + n <= sizeof s->w)
		memcpy(s->w + s->wlen, u, n);
	s->wlen += n;
	if (s->wlen > (size_t)1 << 30)	/* counted only; never wraps */
		s->wlen = (size_t)1 << 30;
}

void filter_tokens_text(struct filter_tokens *t, const char *prefix,
			struct span text)
{
	struct words s = { .t = t, .prefix = prefix, .digits_only = true,
			   .body = prefix[0] == '\0' };
	size_t i = 0;

	while (i < text.len) {
		size_t n;
		uint32_t c = fold(filter_utf8_next(text.p + i, text.len - i, &n));
		i += n;
		if (is_ignorable(c))
			continue;
		if (is_cjk(c)) {
			word_end(&s);
			fraud_break(&s.fs);
			if (s.cjk_prev != 0) {
				unsigned char u[8];
				size_t l = filter_utf8_put(s.cjk_prev, u);
				l += filter_utf8_put(c, u + l);
				filter_tokens_add(t, prefix, u, l);
			}
			s.cjk_prev = c;
			s.cjk_run++;
			continue;
		}
		cjk_end(&s);
		if (is_word(c) || (s.wlen > 0 && (is_joiner(c) ||
						 (c == ',' && s.digits_only))))
			word_put(&s, c == 0x2019 ? '\'' : c);
		else
			word_end(&s);
	}
	word_end(&s);
	cjk_end(&s);
}
