/* lists_entry.c - the syntax of one allow/block entry (lists.h): text to
 * the binary key the list hashes, and back to the canonical text. Input
 * is admin or API text, so every piece is length-checked before it is
 * copied; nothing here allocates except libidn2 for U-labels. */
#include "filter/lists_private.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdio.h>
#include <string.h>

#include "msgauth/dmarc.h"

/* A U-label domain may be longer in UTF-8 than its A-label form. */
#define LISTS_ULABEL_IN_MAX 1024

static bool is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

int lists_domain_norm(const unsigned char *p, size_t n, char *out)
{
	bool ascii = true;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\0')
			return -1;
		if (p[i] >= 0x80)
			ascii = false;
	}
	if (ascii) {
		if (dmarc_domain_norm((const char *)p, n, out) < 0)
			return -1;
	} else {
		char in[LISTS_ULABEL_IN_MAX + 1];
		if (n > LISTS_ULABEL_IN_MAX)
			return -1;
		memcpy(in, p, n);
		in[n] = '\0';
		char *a = NULL;
		if (idn2_to_ascii_8z(in, &a, IDN2_NFC_INPUT |
				     IDN2_NONTRANSITIONAL) != IDN2_OK)
			return -1;
		int rc = dmarc_domain_norm(a, strlen(a), out);
		idn2_free(a);
		if (rc < 0)
			return -1;
	}
	/* RFC 1123 2.1: labels of 1..63 octets, no '-' at either end */
	const char *label = out;
	for (;;) {
		const char *dot = strchr(label, '.');
		size_t ll = dot ? (size_t)(dot - label) : strlen(label);
		if (ll == 0 || ll > 63 || label[0] == '-' ||
		    label[ll - 1] == '-')
			return -1;
		if (dot == NULL)
			break;
		label = dot + 1;
	}
	/* "192.0.2.300" is LDH text but no domain: a TLD is never numeric */
	return is_digits(label, strlen(label)) ? -1 : 0;
}

void lists_ip_mask(unsigned char ip[16], unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix > 8 * i ? prefix - 8 * i : 0;
		if (keep < 8)
			ip[i] &= (unsigned char)(0xff00u >> keep);
	}
}

/* 0 and the prefix, or -1: digits only, at most max. */
static int parse_prefix(const unsigned char *s, size_t n, unsigned max,
			unsigned *out)
{
	if (n == 0 || n > 3)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* 1: e is an IP entry, key filled; 0: it is not an IP; -1: it looks like
 * one but is wrong (err filled). */
static int ip_key(struct span e, struct lists_key *k, struct err *err)
{
	const unsigned char *slash = memchr(e.p, '/', e.len);
	size_t alen = slash ? (size_t)(slash - e.p) : e.len;
	char a[INET6_ADDRSTRLEN + 1];
	if (alen == 0 || alen >= sizeof a)
		return slash ? err_set(err, ERR_PEER, 0, NULL,
				       "not an IP network") : 0;
	memcpy(a, e.p, alen);
	a[alen] = '\0';
	unsigned char ip[16] = { 0 };
	unsigned max, base;
	if (inet_pton(AF_INET, a, ip + 12) == 1) {
		ip[10] = ip[11] = 0xff;
		max = 32;
		base = 96;
	} else if (inet_pton(AF_INET6, a, ip) == 1) {
		max = 128;
		base = 0;
	} else {
		return slash ? err_set(err, ERR_PEER, 0, NULL,
				       "not an IP network") : 0;
	}
	unsigned prefix = max;
	if (slash && parse_prefix(slash + 1, e.len - alen - 1, max,
				  &prefix) < 0)
		return err_set(err, ERR_PEER, 0, NULL,
			       "prefix length must be 0 to %u", max);
	prefix += base;
	unsigned char masked[16];
	memcpy(masked, ip, 16);
	lists_ip_mask(masked, prefix);
	if (memcmp(masked, ip, 16) != 0)
		return err_set(err, ERR_PEER, 0, NULL,
			       "address has bits set past the prefix");
	k->b[1] = FILTER_ENTRY_IP;
	k->b[2] = (unsigned char)prefix;
	memcpy(k->b + 3, ip, 16);
	k->len = 3 + 16;
	return 1;
}

/* The domain part of a domain entry ("example.com", ".example.com",
 * "*.example.com") into k. */
static int domain_key(const unsigned char *p, size_t n, struct lists_key *k,
		      struct err *err)
{
	k->b[1] = FILTER_ENTRY_DOMAIN;
	if (n >= 2 && p[0] == '*' && p[1] == '.') {
		p += 2;
		n -= 2;
		k->b[1] = FILTER_ENTRY_SUBDOMAINS;
	} else if (n >= 1 && p[0] == '.') {
		p++;
		n--;
		k->b[1] = FILTER_ENTRY_SUBDOMAINS;
	}
	char d[FILTER_DOMAIN_MAX + 1];
	if (n == 0 || p[0] == '.' || lists_domain_norm(p, n, d) < 0)
		return err_set(err, ERR_PEER, 0, NULL,
			       "not a domain, address or IP");
	size_t dl = strlen(d);
	memcpy(k->b + 2, d, dl);
	k->len = 2 + dl;
	return 0;
}

/* "local@domain": local lower-cased (ASCII), 1..64 octets of anything
 * printable but '@' (RFC 6531 lets UTF-8 in). */
static int address_key(const unsigned char *l, size_t ln,
		       const unsigned char *d, size_t dn, struct lists_key *k,
		       struct err *err)
{
	if (ln > LISTS_LOCAL_MAX)
		return err_set(err, ERR_PEER, 0, NULL,
			       "local part longer than %d octets",
			       LISTS_LOCAL_MAX);
	k->b[1] = FILTER_ENTRY_ADDRESS;
	for (size_t i = 0; i < ln; i++) {
		unsigned char c = l[i];
		if (c <= 0x20 || c == 0x7f || c == '@')
			return err_set(err, ERR_PEER, 0, NULL,
				       "bad character in local part");
		k->b[2 + i] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32)
						     : c;
	}
	k->b[2 + ln] = '@';
	char dom[FILTER_DOMAIN_MAX + 1];
	if (lists_domain_norm(d, dn, dom) < 0)
		return err_set(err, ERR_PEER, 0, NULL,
			       "not a domain after '@'");
	size_t dl = strlen(dom);
	memcpy(k->b + 3 + ln, dom, dl);
	k->len = 3 + ln + dl;
	return 0;
}

int lists_entry_key(struct span e, enum filter_list_action act,
		    struct lists_key *k, struct err *err)
{
	e = span_trim(e);
	k->len = 0;
	k->b[0] = (unsigned char)act;
	if (e.len == 0)
		return err_set(err, ERR_PEER, 0, NULL, "empty entry");
	if (e.len >= FILTER_LIST_TEXT_MAX)
		return err_set(err, ERR_PEER, 0, NULL, "entry too long");
	const unsigned char *at = NULL;
	for (size_t i = e.len; i > 0; i--)
		if (e.p[i - 1] == '@') {
			at = e.p + i - 1;
			break;
		}
	if (at != NULL) {
		size_t ln = (size_t)(at - e.p);
		const unsigned char *d = at + 1;
		size_t dn = e.len - ln - 1;
		if (ln == 0 || (ln == 1 && e.p[0] == '*'))
			return domain_key(d, dn, k, err);
		if (dn > 0 && (d[0] == '*' || d[0] == '.'))
			return err_set(err, ERR_PEER, 0, NULL,
				       "subdomain wildcard only with '*@' "
				       "or no local part");
		return address_key(e.p, ln, d, dn, k, err);
	}
	int rc = ip_key(e, k, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return domain_key(e.p, e.len, k, err);
}

void lists_key_text(const struct lists_key *k, char *out, size_t outsz)
{
	int n;
	if (k->len < 2) {
		n = snprintf(out, outsz, "?");
	} else if (k->b[1] == FILTER_ENTRY_IP) {
		unsigned prefix = k->b[2];
		const unsigned char *ip = k->b + 3;
		static const unsigned char mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		char a[INET6_ADDRSTRLEN];
		if (prefix >= 96 && memcmp(ip, mapped, 12) == 0) {
			prefix -= 96;
			if (inet_ntop(AF_INET, ip + 12, a, sizeof a) == NULL)
				a[0] = '\0';
			n = prefix == 32 ? snprintf(out, outsz, "%s", a)
					 : snprintf(out, outsz, "%s/%u", a, prefix);
		} else {
			if (inet_ntop(AF_INET6, ip, a, sizeof a) == NULL)
				a[0] = '\0';
			n = prefix == 128 ? snprintf(out, outsz, "%s", a)
					  : snprintf(out, outsz, "%s/%u", a, prefix);
		}
	} else {
		const char *dot = k->b[1] == FILTER_ENTRY_SUBDOMAINS ? "." : "";
		n = snprintf(out, outsz, "%s%.*s", dot, (int)(k->len - 2),
			     (const char *)k->b + 2);
	}
	if (n < 0 && outsz > 0)
		out[0] = '\0';
}

int filter_entry_canonical(struct span entry, char *out, size_t outsz,
			   enum filter_entry_kind *kind_out, struct err *err)
{
	struct lists_key k;
	if (lists_entry_key(entry, FILTER_LIST_NONE, &k, err) < 0)
		return -1;
	lists_key_text(&k, out, outsz);
	if (kind_out != NULL)
		*kind_out = (enum filter_entry_kind)k.b[1];
	return 0;
}
