/* lookalike_skel.c - the confusables map and skeletons (decision 0035).
 * A small hand-picked map in the spirit of Unicode TR39's skeleton(): the
 * Latin-1 and Latin Extended-A letters lose their diacritics, the
 * Cyrillic and Greek letters that render like Latin ones become Latin,
 * and the swaps phishers type on an ASCII keyboard (0/o, 1/l/i, rn/m,
 * vv/w) collapse. TR39's full table (6,000 entries) maps far more, but
 * most of it is for scripts that IDN registries do not let mix with
 * Latin anyway; the mixed-script check covers what this map misses. */
#include "filter/lookalike_int.h"

#include <string.h>

uint32_t la_utf8_next(const char *s, size_t n, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = n - *i;
	uint32_t c = p[0], min;
	size_t k;

	if (c < 0x80) {
		*i += 1;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		k = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		k = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		k = 4, c &= 0x07, min = 0x10000;
	} else {
		*i += 1;
		return 0xfffd;
	}
	if (left < k)
		goto bad;
	for (size_t j = 1; j < k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (p[j] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*i += k;
	return c;
bad:
	*i += 1;
	return 0xfffd;
}

/* U+00C0..U+00FF and U+0100..U+017F without their marks; '*' keeps the
 * code point (× ÷), '2' is a two-letter fold handled below. */
static const char fold_c0[] =
	"aaaaaa2ceeeeiiiidnooooo*ouuuuy22"
	"aaaaaa2ceeeeiiiidnooooo*ouuuuy2y";
static const char fold_100[] =
	"aaaaaa" "cccccccc" "dddd" "eeeeeeeeee" "gggggggg" "hhhh" "iiiiiiiiii"
	"22" "jj" "kkk" "llllllllll" "nnnnnnnnn" "oooooo" "22" "rrrrrr"
	"ssssssss" "tttttt" "uuuuuuuuuuuu" "ww" "yyy" "zzzzzz" "s";
_Static_assert(sizeof fold_c0 == 65 && sizeof fold_100 == 129,
	       "fold tables cover their blocks");

static size_t fold_two(uint32_t cp, uint32_t out[2])
{
	const char *t;

	switch (cp) {
	case 0xc6: case 0xe6: t = "ae"; break;
	case 0xde: case 0xfe: t = "th"; break;
	case 0xdf: t = "ss"; break;
	case 0x132: case 0x133: t = "ij"; break;
	default: t = "oe"; break;	/* U+0152, U+0153 */
	}
	out[0] = (uint32_t)t[0];
	out[1] = (uint32_t)t[1];
	return 2;
}

/* Small Cyrillic, Greek and other letters drawn like a Latin letter.
 * Capitals are folded first (IDNA folds them in domains anyway, and
 * names compare without case), so capitals that only look Latin (Н, Т,
 * Β) count as their small letters. */
static const struct { uint16_t cp; char to; } confusable[] = {
	{ 0x0261, 'g' },
	{ 0x03b1, 'a' }, { 0x03b3, 'y' }, { 0x03b5, 'e' }, { 0x03b7, 'n' },
	{ 0x03b9, 'i' }, { 0x03ba, 'k' }, { 0x03bc, 'u' }, { 0x03bd, 'v' },
	{ 0x03bf, 'o' }, { 0x03c1, 'p' }, { 0x03c4, 't' }, { 0x03c5, 'u' },
	{ 0x03c7, 'x' }, { 0x03c9, 'w' }, { 0x03f2, 'c' }, { 0x03f3, 'j' },
	{ 0x0430, 'a' }, { 0x0435, 'e' }, { 0x043a, 'k' }, { 0x043e, 'o' },
	{ 0x0440, 'p' }, { 0x0441, 'c' }, { 0x0443, 'y' }, { 0x0445, 'x' },
	{ 0x0451, 'e' }, { 0x0455, 's' }, { 0x0456, 'i' }, { 0x0457, 'i' },
	{ 0x0458, 'j' }, { 0x04bb, 'h' }, { 0x04cf, 'l' }, { 0x0501, 'd' },
	{ 0x051b, 'q' }, { 0x051d, 'w' },
};

/* Cyrillic and Greek capitals to small letters. */
static uint32_t small(uint32_t cp)
{
	if (cp >= 0x410 && cp <= 0x42f)
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 0x50;
	if (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2)
		return cp + 0x20;
	return cp;
}

static uint32_t latin_swap(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (c == '0')
		return 'o';
	if (c == '1' || c == 'i')
		return 'l';
	return c;
}

static uint32_t confusable_of(uint32_t c)
{
	size_t lo = 0, hi = sizeof confusable / sizeof confusable[0];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (confusable[mid].cp == c)
			return (uint32_t)confusable[mid].to;
		if (confusable[mid].cp < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c;
}

size_t la_map_cp(uint32_t cp, uint32_t out[2])
{
	uint32_t c = cp;

	if (cp >= 0xff01 && cp <= 0xff5e) {
		c = cp - 0xfee0;	/* fullwidth ASCII */
	} else if (cp >= 0xc0 && cp <= 0x17f) {
		char f = cp < 0x100 ? fold_c0[cp - 0xc0] : fold_100[cp - 0x100];
		if (f == '2')
			return fold_two(cp, out);
		if (f != '*')
			c = (uint32_t)f;
	} else if (cp >= 0x261) {
		c = confusable_of(small(cp));
	}
	out[0] = latin_swap(c);
	return 1;
}

static void skel_push(struct la_skel *sk, uint32_t cp, size_t off, size_t len)
{
	if (sk->n >= FILTER_LOOKALIKE_SKEL_MAX)
		return;
	sk->u[sk->n].cp = cp;
	sk->u[sk->n].off = (uint16_t)off;
	sk->u[sk->n].len = (uint16_t)len;
	sk->n++;
}

void la_skeleton(const char *s, size_t n, struct la_skel *sk)
{
	size_t i = 0;

	sk->n = 0;
	/* Offsets are 16 bits; labels are far shorter than that. */
	if (n > 0xffff)
		n = 0xffff;
	while (i < n && sk->n < FILTER_LOOKALIKE_SKEL_MAX) {
		size_t at = i;
		uint32_t m[2];
		size_t k = la_map_cp(la_utf8_next(s, n, &i), m);
		for (size_t j = 0; j < k; j++) {
			struct la_unit *prev = sk->n ? &sk->u[sk->n - 1] : NULL;
			/* rn -> m and vv -> w: the pair merges into one unit
			 * whose source covers both letters. */
			if (prev && j == 0 && k == 1 &&
			    ((prev->cp == 'r' && m[0] == 'n') ||
			     (prev->cp == 'v' && m[0] == 'v'))) {
				prev->cp = prev->cp == 'r' ? 'm' : 'w';
				prev->len = (uint16_t)(i - prev->off);
				continue;
			}
			skel_push(sk, m[j], at, i - at);
		}
	}
}

enum la_script la_script_of(uint32_t cp)
{
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) ||
	    (cp >= 0x1e00 && cp <= 0x1eff))
		return LA_SCRIPT_LATIN;
	if (cp >= 0x400 && cp <= 0x52f)
		return LA_SCRIPT_CYRILLIC;
	if ((cp >= 0x370 && cp <= 0x3ff) || (cp >= 0x1f00 && cp <= 0x1fff))
		return LA_SCRIPT_GREEK;
	return LA_SCRIPT_OTHER;
}
