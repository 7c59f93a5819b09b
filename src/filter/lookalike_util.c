/* lookalike_util.c - domain names to A-labels and back, and the reason
 * text, for both lookalike checks. */
#include "filter/lookalike_int.h"

#include <idn2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "msgauth/dmarc.h"

int la_domain_ascii(const char *in, size_t len, char *out, const char **why)
{
	char buf[FILTER_LOOKALIKE_INPUT_MAX + 1];
	bool ascii = true;

	if (len > FILTER_LOOKALIKE_INPUT_MAX) {
		*why = "domain too long";
		return -1;
	}
	while (len > 0 && in[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '\0') {
			*why = "NUL in domain";
			return -1;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((unsigned char)c >= 0x80)
			ascii = false;
		buf[i] = c;
	}
	buf[len] = '\0';
	if (ascii) {
		if (dmarc_domain_norm(buf, len, out) < 0) {
			*why = "not a domain name";
			return -1;
		}
		return 0;
	}
	/* UTS 46 non-transitional first (ß stays ß, as registries now
	 * register it), transitional for names only it accepts. */
	char *a = NULL;
	int rc = idn2_to_ascii_8z(buf, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		rc = idn2_to_ascii_8z(buf, &a, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	if (rc != IDN2_OK) {
		*why = "not an IDNA domain name";
		return -1;
	}
	rc = dmarc_domain_norm(a, strlen(a), out);
	idn2_free(a);
	if (rc < 0) {
		*why = "not a domain name";
		return -1;
	}
	return 0;
}

bool la_under(const char *d, const char *dom)
{
	size_t n = strlen(d), m = strlen(dom);

	if (n == m)
		return memcmp(d, dom, n) == 0;
	return n > m && d[n - m - 1] == '.' && memcmp(d + n - m, dom, m) == 0;
}

void la_label_unicode(const char *l, size_t n, char *out, size_t outsz)
{
	char lab[64];
	char *u = NULL;

	out[0] = '\0';
	if (n >= sizeof lab || n >= outsz)
		return;
	memcpy(lab, l, n);
	lab[n] = '\0';
	/* A bad xn-- label (wrong Punycode) stays as it is: it still has a
	 * skeleton, and its owner cannot register it anyway. */
	if (n > 4 && memcmp(lab, "xn--", 4) == 0 &&
	    idn2_to_unicode_8z8z(lab, &u, 0) == IDN2_OK) {
		size_t k = strlen(u);
		if (k < outsz) {
			memcpy(out, u, k + 1);
			idn2_free(u);
			return;
		}
		idn2_free(u);
	}
	memcpy(out, lab, n + 1);
}

int la_dom_prep(const char *in, size_t len, struct la_dom *d, const char **why)
{
	if (la_domain_ascii(in, len, d->a, why) < 0)
		return -1;
	d->reg[0] = '\0';
	d->suffix = d->reg;
	d->label_u[0] = '\0';
	d->skel.n = 0;
	if (!dmarc_org_domain(d->a, d->reg)) {
		d->reg[0] = '\0';
		return 0;
	}
	const char *dot = strchr(d->reg, '.');
	size_t ln = dot ? (size_t)(dot - d->reg) : strlen(d->reg);
	d->suffix = dot ? dot + 1 : d->reg + ln;
	la_label_unicode(d->reg, ln, d->label_u, sizeof d->label_u);
	la_skeleton(d->label_u, strlen(d->label_u), &d->skel);
	return 0;
}

void la_cat(char *buf, size_t sz, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= sz)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, sz - n, fmt, ap);
	va_end(ap);
}

void la_cat_show(char *buf, size_t sz, const char *s, size_t n, bool hex)
{
	size_t i = 0;

	while (i < n) {
		uint32_t c = la_utf8_next(s, n, &i);
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			la_cat(buf, sz, "%c", (char)c);
		else if (hex)
			la_cat(buf, sz, "U+%04X", (unsigned)c);
		else
			la_cat(buf, sz, "?");
	}
}
