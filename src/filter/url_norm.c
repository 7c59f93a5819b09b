/* url_norm.c - one URL to its normal form (see url.h). Browsers are the
 * reference: what they would fetch is what a rule must see, so the host
 * is read as the WHATWG URL parser reads it (numeric IPv4 forms,
 * backslashes, tabs and line breaks ignored), and the IDNA mapping is
 * libidn2's UTS 46. */
#include "filter/url.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/xmalloc.h"
#include "filter/chars.h"

/* Kept small and well known; a feed can add more later (rules step). */
static const char *const shorteners[] = {
	"bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "buff.ly",
	"rebrand.ly", "cutt.ly", "t.ly", "tiny.cc", "bitly.com", "shorturl.at",
	"rb.gy", "v.gd", "s.id", "lnkd.in", "soo.gd", "clck.ru", "u.to",
	"qrco.de", "shorte.st", "adf.ly", "bl.ink", "short.io", "tiny.one",
};

bool filter_url_is_shortener(const char *host)
{
	if (strncmp(host, "www.", 4) == 0)
		host += 4;
	for (size_t i = 0; i < sizeof shorteners / sizeof shorteners[0]; i++)
		if (strcmp(host, shorteners[i]) == 0)
			return true;
	return false;
}

/* One part of a numeric host: 0 and *v, -1 if not a number. */
static int ipv4_part(const char *p, size_t n, uint64_t *v)
{
	unsigned base = 10;

	if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		n -= 2;
	} else if (n >= 2 && p[0] == '0') {
		base = 8;
		p++;
		n--;
	}
	*v = 0;
	if (n == 0)
		return base == 10 ? -1 : 0;	/* "0x" alone is 0 */
	for (size_t i = 0; i < n; i++) {
		int d = filter_hexval((unsigned char)p[i]);
		if (d < 0 || (unsigned)d >= base)
			return -1;
		*v = *v * base + (unsigned)d;
		if (*v > 0xffffffffu)
			return -1;
	}
	return 0;
}

int filter_ipv4_parse(const char *host, size_t len, uint32_t *out)
{
	uint64_t part[4];
	size_t np = 0, s = 0;

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && host[i] != '.')
			continue;
		if (np == 4 || ipv4_part(host + s, i - s, &part[np]) < 0)
			return -1;
		np++;
		s = i + 1;
	}
	uint64_t v = 0;
	for (size_t i = 0; i + 1 < np; i++) {
		if (part[i] > 255)
			return -1;
		v |= part[i] << (8 * (3 - i));
	}
	if (part[np - 1] >= (1ull << (8 * (5 - np))))
		return -1;
	*out = (uint32_t)(v | part[np - 1]);
	return 0;
}

/* WHATWG "ends in a number": then the host must be an IPv4 address. */
static bool ends_in_number(const char *h, size_t n)
{
	if (n > 0 && h[n - 1] == '.')
		n--;
	size_t s = n;
	while (s > 0 && h[s - 1] != '.')
		s--;
	if (s == n)
		return false;
	bool digits = true;
	for (size_t i = s; i < n; i++)
		if (h[i] < '0' || h[i] > '9')
			digits = false;
	if (digits)
		return true;
	if (n - s < 2 || h[s] != '0' || (h[s + 1] != 'x' && h[s + 1] != 'X'))
		return false;
	for (size_t i = s + 2; i < n; i++)
		if (filter_hexval((unsigned char)h[i]) < 0)
			return false;
	return true;
}

/* A host that ends in a number: an IPv4 address, or -1 to refuse it
 * (WHATWG URL host parsing). */
static int ipv4_host(const char *h, size_t n, struct filter_url *u)
{
	char tmp[16];
	uint32_t a;

	if (filter_ipv4_parse(h, n, &a) < 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
	u->flags |= FILTER_URL_IP;
	if (strlen(tmp) != n || memcmp(tmp, h, n) != 0)
		u->flags |= FILTER_URL_IP_OBFUSCATED;
	u->host = xstrdup(tmp);
	return 0;
}

/* The host (percent-decoded, lower-cased) into u; 0, or -1 to refuse. */
static int host_normalise(char *h, size_t n, struct filter_url *u)
{
	char tmp[64];

	if (n > 0 && h[0] == '[') {
		struct in6_addr a6;
		if (n < 3 || h[n - 1] != ']' || n - 2 >= sizeof tmp)
			return -1;
		memcpy(tmp, h + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return -1;
		char txt[INET6_ADDRSTRLEN], br[INET6_ADDRSTRLEN + 2];
		inet_ntop(AF_INET6, &a6, txt, sizeof txt);
		snprintf(br, sizeof br, "[%s]", txt);
		u->host = xstrdup(br);
		u->flags |= FILTER_URL_IP;
		return 0;
	}
	while (n > 0 && h[n - 1] == '.')
		n--;
	h[n] = '\0';
	if (n == 0)
		return -1;
	bool ascii = true, idn = strstr(h, "xn--") != NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c >= 0x80)
			ascii = false;
		else if (c <= ' ' || strchr("<>\"'`^{}|\\%/?#@:[]", c))
			return -1;
	}
	/* as browsers: the address check comes after the IDNA mapping */
	if (ascii && ends_in_number(h, n))
		return ipv4_host(h, n, u);
	if (ascii && !idn) {
		u->host = xstrdup(h);
		return 0;
	}
	char *a = NULL, *un = NULL;
	int rc = idn2_to_ascii_8z(h, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		rc = idn2_to_ascii_8z(h, &a, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	if (rc != IDN2_OK) {
		u->flags |= FILTER_URL_BAD_HOST;
		u->host = xstrdup(h);
		u->host_u = xstrdup(h);
		return 0;
	}
	/* characters IDNA ignores may have hidden a trailing dot */
	size_t al = strlen(a);
	while (al > 0 && a[al - 1] == '.')
		a[--al] = '\0';
	if (al == 0) {
		idn2_free(a);
		return -1;
	}
	/* full-width digits map to ASCII ones: an address in disguise */
	if (ends_in_number(a, al)) {
		rc = ipv4_host(a, al, u);
		u->flags |= FILTER_URL_IP_OBFUSCATED;
		idn2_free(a);
		return rc;
	}
	u->host = xstrdup(a);
	idn2_free(a);
	if (idn2_to_unicode_8z8z(u->host, &un, 0) == IDN2_OK) {
		u->host_u = xstrdup(un);
		idn2_free(un);
	}
	if (u->host_u != NULL && strcmp(u->host_u, u->host) != 0)
		u->flags |= FILTER_URL_IDN;
	return 0;
}

/* true and *c if s[i] starts a %XX escape that ends before end */
static bool escape_at(const char *s, size_t i, size_t end, unsigned char *c)
{
	int h1, h2;

	if (s[i] != '%' || i + 2 >= end ||
	    (h1 = filter_hexval((unsigned char)s[i + 1])) < 0 ||
	    (h2 = filter_hexval((unsigned char)s[i + 2])) < 0)
		return false;
	*c = (unsigned char)(h1 << 4 | h2);
	return true;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* path[?query] with escapes normalised, fragment dropped; controls,
 * space, non-ASCII and the characters browsers escape are escaped, so
 * that the normal form is ASCII and has no NUL (out: 1 + 3 * n). */
static void path_normalise(const char *s, size_t n, char *out, size_t *on)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (n == 0 || s[0] != '/')
		out[o++] = '/';
	for (size_t i = 0; i < n && s[i] != '#'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (escape_at(s, i, n, &c)) {
			i += 2;
			if (unreserved(c)) {
				out[o++] = (char)c;
				continue;
			}
		} else if (c > ' ' && c < 0x7f && !strchr("\"<>`%", c)) {
			/* (a '%' that starts no escape is escaped itself, or
			 * "%3%41" would become "%3A" on a second reading) */
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	*on = o;
}

int filter_url_normalise(struct span raw, struct filter_url *u)
{
	memset(u, 0, sizeof *u);
	size_t len = raw.len;
	if (len > FILTER_URL_MAX_LEN) {
		len = FILTER_URL_MAX_LEN;
		u->flags |= FILTER_URL_TRUNCATED;
	}
	/* browsers drop tabs and line breaks anywhere, read '\' as '/' */
	char *s = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = raw.p[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		s[n++] = c == '\\' ? '/' : (char)c;
	}
	size_t b = 0;
	while (b < n && (unsigned char)s[b] <= ' ')
		b++;
	while (n > b && (unsigned char)s[n - 1] <= ' ')
		n--;
	struct span t = span_make(s + b, n - b);
	const char *scheme = "http";
	size_t i = b;
	if (span_prefix_ci(t, "http:") || span_prefix_ci(t, "https:")) {
		bool tls = filter_lower((unsigned char)s[b + 4]) == 's';
		scheme = tls ? "https" : "http";
		i = b + (tls ? 6 : 5);
		if (i >= n || s[i] != '/')
			goto refuse;
		while (i < n && s[i] == '/')
			i++;
	} else if (span_prefix_ci(t, "//")) {
		i = b + 2;
	} else if (!span_prefix_ci(t, "www.")) {
		goto refuse;
	}
	size_t ae = i;
	while (ae < n && s[ae] != '/' && s[ae] != '?' && s[ae] != '#')
		ae++;
	size_t hs = i;
	for (size_t k = i; k < ae; k++)
		if (s[k] == '@')
			hs = k + 1;
	if (hs != i)
		u->flags |= FILTER_URL_USERINFO;
	size_t he = ae, port = 0;
	bool has_port = false;
	for (size_t k = ae; k > hs; k--) {
		if (s[k - 1] == ']')
			break;
		if (s[k - 1] == ':') {
			he = k - 1;
			has_port = true;
			break;
		}
	}
	if (has_port) {
		for (size_t k = he + 1; k < ae; k++) {
			if (s[k] < '0' || s[k] > '9')
				goto refuse;
			port = port * 10 + (size_t)(s[k] - '0');
			if (port > 65535)
				goto refuse;
		}
		if (he + 1 == ae || port == (scheme[4] == 's' ? 443u : 80u))
			has_port = false;
		else
			u->flags |= FILTER_URL_PORT;
	}
	/* the host percent-decoded and lower-cased, in place (shorter) */
	char *h = s + hs;
	size_t hn = 0;
	for (size_t k = hs; k < he; k++) {
		unsigned char c = (unsigned char)s[k];
		if (escape_at(s, k, he, &c))
			k += 2;
		h[hn++] = (char)filter_lower(c);
	}
	char save = s[he];
	s[hs + hn] = '\0';
	if (memchr(h, '\0', hn) != NULL || host_normalise(h, hn, u) < 0)
		goto refuse;
	s[he] = save;
	if (u->host_u == NULL)
		u->host_u = xstrdup(u->host);
	if (filter_url_is_shortener(u->host))
		u->flags |= FILTER_URL_SHORTENER;
	size_t hl = strlen(u->host);
	char *url = xmalloc(strlen(scheme) + 3 + hl + 8 + 3 * (n - ae) + 2);
	size_t o = (size_t)snprintf(url, 16, "%s://", scheme);
	memcpy(url + o, u->host, hl);
	o += hl;
	if (has_port)
		o += (size_t)snprintf(url + o, 8, ":%zu", port);
	size_t pn;
	path_normalise(s + ae, n - ae, url + o, &pn);
	url[o + pn] = '\0';
	u->url = url;
	free(s);
	return 0;
refuse:
	free(s);
	filter_url_clear(u);
	return -1;
}

void filter_url_clear(struct filter_url *u)
{
	free(u->url);
	free(u->host);
	free(u->host_u);
	memset(u, 0, sizeof *u);
}
