/* dns_rdata.c - the parts of a DNS answer petrel reads itself: MX and
 * address rdata, name text and address literals, and the delivery order
 * of MX targets. Everything here is bounded by its arguments; nothing
 * allocates or needs libunbound (see dns_private.h). */
#include "dns/dns_private.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static bool label_char(unsigned char c)
{
	/* LDH (RFC 1123 2.1) plus '_', which real zones use for hosts */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static char lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

int dns_mx_decode(const unsigned char *rdata, size_t len, unsigned *pref_out,
		  char *name, size_t namesz)
{
	if (len < 3 || namesz < DNS_NAME_MAX + 1)
		return -1;
	*pref_out = (unsigned)rdata[0] << 8 | rdata[1];
	size_t i = 2, out = 0, wire = 0;
	for (;;) {
		if (i >= len)
			return -1;
		unsigned l = rdata[i++];
		wire++;
		if (l == 0)
			break;
		/* 0xC0 pointers and the 0x40/0x80 extended types: libunbound
		 * hands names uncompressed, so anything else is malformed */
		if (l > 63 || l > len - i)
			return -1;
		wire += l;
		if (wire > 255)		/* RFC 1035 3.1 */
			return -1;
		if (out != 0)
			name[out++] = '.';
		if (out + l >= namesz)
			return -1;
		for (unsigned k = 0; k < l; k++) {
			unsigned char c = rdata[i + k];
			if (!label_char(c))
				return -1;
			name[out++] = lower(c);
		}
		i += l;
	}
	if (i != len)
		return -1;
	name[out] = '\0';
	return 0;
}

int dns_addr_decode(int family, const unsigned char *rdata, size_t len,
		    struct dns_addr *out)
{
	size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	if (want == 0 || len != want)
		return -1;
	memset(out, 0, sizeof *out);
	out->family = family;
	memcpy(out->a, rdata, want);
	return 0;
}

bool dns_name_valid(const char *s, char out[DNS_NAME_MAX + 1])
{
	size_t n = strnlen(s, DNS_NAME_MAX + 2);
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (label_char(c)) {
			if (++label > 63)
				return false;
		} else
			return false;
		out[i] = lower(c);
	}
	if (label == 0)
		return false;
	out[n] = '\0';
	return true;
}

int dns_literal_parse(const char *s, bool bracketed, struct dns_addr *out)
{
	char text[64];
	size_t n = strnlen(s, sizeof text + 8);
	memset(out, 0, sizeof *out);
	if (bracketed) {
		if (n == 0 || s[0] != '[')
			return 0;
		if (n < 3 || s[n - 1] != ']')
			return -1;
		s++;
		n -= 2;
		/* RFC 5321 4.1.3: "IPv6:" tags an IPv6 literal; the tag is
		 * case-insensitive like the rest of SMTP */
		bool v6 = n > 5 && strncasecmp(s, "IPv6:", 5) == 0;
		if (v6) {
			s += 5;
			n -= 5;
		}
		if (n == 0 || n >= sizeof text)
			return -1;
		memcpy(text, s, n);
		text[n] = '\0';
		int fam = v6 ? AF_INET6 : AF_INET;
		if (inet_pton(fam, text, out->a) != 1)
			return -1;
		out->family = fam;
		return 1;
	}
	if (n > 0 && s[n - 1] == '.')	/* an MX "192.0.2.1." */
		n--;
	if (n == 0 || n >= sizeof text)
		return 0;
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, out->a) == 1) {
		out->family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, text, out->a) == 1) {
		out->family = AF_INET6;
		return 1;
	}
	memset(out, 0, sizeof *out);
	return 0;
}

static int by_pref(const void *a, const void *b)
{
	const struct dns_target *x = a, *y = b;
	return (x->pref > y->pref) - (x->pref < y->pref);
}

/* RFC 5321 5.1: equal preferences are tried in random order to spread
 * load. qsort is not stable, so the shuffle comes after it, per run. */
size_t dns_targets_order(struct dns_target *t, size_t n, size_t max,
			 dns_random_fn *rnd, void *arg)
{
	if (n == 0)
		return 0;
	qsort(t, n, sizeof *t, by_pref);
	for (size_t start = 0; start < n;) {
		size_t end = start + 1;
		while (end < n && t[end].pref == t[start].pref)
			end++;
		for (size_t i = end - start; i > 1; i--) {
			size_t j = rnd(arg, (uint32_t)i);
			if (j >= i)	/* a broken source must not break us */
				j = i - 1;
			struct dns_target swap = t[start + i - 1];
			t[start + i - 1] = t[start + j];
			t[start + j] = swap;
		}
		start = end;
	}
	/* a host named twice keeps its first (best) place */
	size_t kept = 0;
	for (size_t i = 0; i < n && kept < max; i++) {
		bool dup = false;
		for (size_t k = 0; k < kept && !dup; k++)
			dup = strcmp(t[k].host, t[i].host) == 0;
		if (!dup) {
			if (kept != i)
				t[kept] = t[i];
			kept++;
		}
	}
	return kept;
}

const char *dns_status_str(enum dns_status s)
{
	switch (s) {
	case DNS_OK: return "ok";
	case DNS_NULLMX: return "nullmx";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NOADDR: return "noaddr";
	case DNS_BADNAME: return "badname";
	case DNS_TEMPFAIL: return "tempfail";
	}
	return "?";
}

const char *dns_addr_str(const struct dns_addr *a, char *buf, size_t bufsz)
{
	if (inet_ntop(a->family, a->a, buf, (socklen_t)bufsz) == NULL)
		snprintf(buf, bufsz, "?");
	return buf;
}
