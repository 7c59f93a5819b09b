/* ma_rdns.c - reverse names: the PTR owner of an address, and the
 * client's forward-confirmed name (ma_dns.h). */
#include "msgauth/ma_dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/xmalloc.h"

void ma_reverse_name(const unsigned char *ip, bool v6, char *out,
		     size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t j = 0;

	if (!v6) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2],
			 ip[1], ip[0]);
		return;
	}
	for (int i = 15; i >= 0 && j + 4 < outsz; i--) {
		out[j++] = hex[ip[i] & 15];
		out[j++] = '.';
		out[j++] = hex[ip[i] >> 4];
		out[j++] = '.';
	}
	snprintf(out + j, outsz - j, "ip6.arpa");
}

/* A host name as a Received field may carry it: letters, digits, '-',
 * '_' and dots. DNS allows any printable octet in a label (ma_dns_ub.c
 * lets through no blank or control), and the owner of a reverse zone
 * writes what they like; "(", ")" or "[" would change how readers of
 * the field, ours included, split it. */
static bool host_syntax(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return len > 0;
}

enum ma_rdns ma_rdns_lookup(const struct ma_dns *d, int family,
			    const unsigned char *ip, char *name, size_t namesz)
{
	char rev[MA_REVERSE_NAME_MAX];
	bool v6 = family == AF_INET6, trouble = false;
	size_t alen = v6 ? 16 : 4;
	enum ma_rdns r = MA_RDNS_UNKNOWN;

	name[0] = '\0';
	if (family != AF_INET && family != AF_INET6)
		return MA_RDNS_UNKNOWN;
	/* two answer sets of 16 KB: off the pool thread's stack */
	struct ma_rrset *ptr = xmalloc(2 * sizeof *ptr), *addr = ptr + 1;
	ma_reverse_name(ip, v6, rev, sizeof rev);
	ma_dns_query(d, rev, MA_RR_PTR, ptr);
	if (ptr->rc == MA_DNS_TEMPFAIL)
		goto out;
	r = MA_RDNS_NONE;
	for (size_t i = 0; i < ptr->n && i < MA_RDNS_NAMES_MAX; i++) {
		const char *host = (const char *)ptr->rr[i].data;
		if (!host_syntax(host, ptr->rr[i].len) ||
		    ptr->rr[i].len >= namesz)
			continue;
		ma_dns_query(d, host, v6 ? MA_RR_AAAA : MA_RR_A, addr);
		if (addr->rc == MA_DNS_TEMPFAIL)
			trouble = true;
		for (size_t k = 0; addr->rc == MA_DNS_OK && k < addr->n; k++)
			if (addr->rr[k].len == alen &&
			    memcmp(addr->rr[k].data, ip, alen) == 0) {
				memcpy(name, host, ptr->rr[i].len + 1);
				r = MA_RDNS_OK;
				goto out;
			}
	}
	if (trouble)
		r = MA_RDNS_UNKNOWN;
out:
	free(ptr);
	return r;
}
