/* config_ranges.c - max_connections_per_ip_ranges: "CIDR=limit" pairs
 * separated by commas, and the longest-prefix lookup over them. Every
 * address is held as 16 bytes with IPv4 as ::ffff:a.b.c.d (prefix + 96),
 * so an IPv4-mapped IPv6 peer matches the IPv4 ranges. The value comes
 * from the config file or -o (at most CFG_LINE_MAX bytes); every piece
 * is copied into a fixed buffer only after its length is checked. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* 0 (and *out) or -1: digits only, at most max. */
static int parse_num(const char *s, size_t n, unsigned max, unsigned *out)
{
	if (n == 0 || n > 7)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static bool bit(const unsigned char *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* One "address[/prefix]=limit" of n bytes at p. */
static int parse_one(const char *p, size_t n, struct cfg_ip_range *r,
		     char *why, size_t whysz)
{
	const char *eq = memchr(p, '=', n);
	if (eq == NULL) {
		snprintf(why, whysz, "expected address/prefix=limit, got '%.*s'",
			 (int)(n < 64 ? n : 64), p);
		return -1;
	}
	size_t cidr_len = (size_t)(eq - p), lim_len = n - cidr_len - 1;
	const char *slash = memchr(p, '/', cidr_len);
	size_t alen = slash ? (size_t)(slash - p) : cidr_len;
	char text[INET6_ADDRSTRLEN];
	if (alen == 0 || alen >= sizeof text) {
		snprintf(why, whysz, "bad address '%.*s'",
			 (int)(cidr_len < 64 ? cidr_len : 64), p);
		return -1;
	}
	memcpy(text, p, alen);
	text[alen] = '\0';
	bool v6 = memchr(text, ':', alen) != NULL;
	memset(r, 0, sizeof *r);
	unsigned bits = v6 ? 128 : 32;
	if (v6) {
		if (inet_pton(AF_INET6, text, r->net) != 1) {
			snprintf(why, whysz, "bad IPv6 address '%s'", text);
			return -1;
		}
	} else {
		r->net[10] = r->net[11] = 0xff;
		if (inet_pton(AF_INET, text, r->net + 12) != 1) {
			snprintf(why, whysz, "bad IPv4 address '%s'", text);
			return -1;
		}
	}
	unsigned prefix = bits;
	if (slash && parse_num(slash + 1, cidr_len - alen - 1, bits, &prefix) != 0) {
		snprintf(why, whysz, "bad prefix length in '%.*s' (0-%u)",
			 (int)(cidr_len < 64 ? cidr_len : 64), p, bits);
		return -1;
	}
	r->prefix = prefix + (128 - bits);
	for (unsigned i = r->prefix; i < 128; i++)
		if (bit(r->net, i)) {
			snprintf(why, whysz,
				 "'%.*s' has address bits set past the prefix",
				 (int)(cidr_len < 64 ? cidr_len : 64), p);
			return -1;
		}
	if (parse_num(eq + 1, lim_len, CFG_IP_RANGE_LIMIT_MAX, &r->limit) != 0) {
		snprintf(why, whysz, "bad limit '%.*s' for %.*s (0-%u)",
			 (int)(lim_len < 16 ? lim_len : 16), eq + 1,
			 (int)(cidr_len < 64 ? cidr_len : 64), p,
			 CFG_IP_RANGE_LIMIT_MAX);
		return -1;
	}
	return 0;
}

int cfg_parse_ip_ranges(const char *v, struct cfg_ip_ranges *out, char *why,
			size_t whysz)
{
	struct cfg_ip_ranges l;
	memset(&l, 0, sizeof l);
	const char *next = v, *p;
	size_t len;
	while (cfg_list_next(&next, &p, &len)) {
		const char *e = p + len;
		if (l.n == CFG_MAX_IP_RANGES) {
			snprintf(why, whysz, "more than %d ranges", CFG_MAX_IP_RANGES);
			return -1;
		}
		struct cfg_ip_range *r = &l.r[l.n];
		if (parse_one(p, (size_t)(e - p), r, why, whysz) != 0)
			return -1;
		for (size_t i = 0; i < l.n; i++)
			if (l.r[i].prefix == r->prefix &&
			    !memcmp(l.r[i].net, r->net, sizeof r->net)) {
				snprintf(why, whysz, "'%.*s' is listed twice",
					 (int)((e - p) < 64 ? (e - p) : 64), p);
				return -1;
			}
		l.n++;
	}
	*out = l;
	return 0;
}

const struct cfg_ip_range *cfg_ip_range_find(const struct cfg_ip_range *r,
					     size_t n, const unsigned char addr[16])
{
	const struct cfg_ip_range *best = NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned whole = r[i].prefix / 8, rest = r[i].prefix % 8;
		if (memcmp(r[i].net, addr, whole) != 0)
			continue;
		if (rest) {
			unsigned char mask = (unsigned char)(0xff << (8 - rest));
			if ((r[i].net[whole] ^ addr[whole]) & mask)
				continue;
		}
		if (best == NULL || r[i].prefix > best->prefix)
			best = &r[i];
	}
	return best;
}

void cfg_format_ip_range(const struct cfg_ip_range *r, char *buf, size_t sz)
{
	char text[INET6_ADDRSTRLEN] = "?";
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (r->prefix >= 96 && !memcmp(r->net, mapped, 12)) {
		inet_ntop(AF_INET, r->net + 12, text, sizeof text);
		snprintf(buf, sz, "%s/%u=%u", text, r->prefix - 96, r->limit);
	} else {
		inet_ntop(AF_INET6, r->net, text, sizeof text);
		snprintf(buf, sz, "%s/%u=%u", text, r->prefix, r->limit);
	}
}
