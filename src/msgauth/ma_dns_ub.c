/* ma_dns_ub.c - blocking libunbound lookups into struct ma_rrset (see
 * ma_dns_ub.h). The rdata libunbound returns is untrusted wire data:
 * every length is checked and anything malformed is skipped. */
#include "msgauth/ma_dns_ub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "core/xmalloc.h"
#include "dns/dns_ub.h"

struct ma_dns_ub {
	struct ub_ctx *ctx;
};

struct ma_dns_ub *ma_dns_ub_new(const struct dns_options *opt, struct err *err)
{
	struct ma_dns_ub *u = xcalloc(1, sizeof *u);
	unsigned timeout = opt->timeout ? opt->timeout : DNS_TIMEOUT_DEFAULT;
	char ms[24];

	u->ctx = ub_ctx_create();
	if (u->ctx == NULL) {
		err_set(err, ERR_ENV, 0, NULL, "dns: cannot create libunbound context");
		free(u);
		return NULL;
	}
	/* the longest wait for one server before retrying elsewhere */
	snprintf(ms, sizeof ms, "%u", timeout * 1000);
	int rc = ub_ctx_set_option(u->ctx, "infra-cache-max-rtt:", ms);
	if (rc != 0) {
		err_set(err, ERR_CONFIG, 0, NULL, "dns: infra-cache-max-rtt: %s",
			ub_strerror(rc));
		goto fail;
	}
	if (dns_ub_configure(u->ctx, opt, err) != 0)
		goto fail;
	if (opt->forwarder != NULL && opt->forwarder[0] != '\0') {
		/* libunbound answers the RFC 6303 reverse zones of loopback,
		 * private and documentation addresses itself (NXDOMAIN); a
		 * configured forwarder (a lab, the tests) gets to answer
		 * their PTR queries, which the SPF ptr mechanism and %{p} ask */
		static const char *const zones[] = {
			"127.in-addr.arpa. transparent", "10.in-addr.arpa. transparent",
			"168.192.in-addr.arpa. transparent",
			"2.0.192.in-addr.arpa. transparent",
			"100.51.198.in-addr.arpa. transparent",
			"113.0.203.in-addr.arpa. transparent",
		};
		for (size_t k = 0; k < sizeof zones / sizeof zones[0]; k++) {
			rc = ub_ctx_set_option(u->ctx, "local-zone:", zones[k]);
			if (rc != 0) {
				err_set(err, ERR_CONFIG, 0, NULL, "dns: local-zone %s: %s",
					zones[k], ub_strerror(rc));
				goto fail;
			}
		}
	}
	return u;
fail:
	ub_ctx_delete(u->ctx);
	free(u);
	return NULL;
}

void ma_dns_ub_free(struct ma_dns_ub **up)
{
	struct ma_dns_ub *u = *up;

	if (u == NULL)
		return;
	*up = NULL;
	ub_ctx_delete(u->ctx);
	free(u);
}

/* An uncompressed wire name filling rdata[0..len) exactly into text
 * (lower case, no final dot; the root is ""). -1 when malformed. */
static int wire_name(const unsigned char *p, size_t len, char *out, size_t outsz)
{
	size_t i = 0, n = 0;

	for (;;) {
		if (i >= len)
			return -1;
		size_t l = p[i++];
		if (l == 0)
			break;
		/* 0xc0: a compression pointer, never in libunbound's rdata */
		if (l > 63 || l > len - i || n + l + 2 > outsz)
			return -1;
		if (n > 0)
			out[n++] = '.';
		for (size_t k = 0; k < l; k++) {
			unsigned char c = p[i + k];
			/* a dot or a NUL inside a label cannot be written as text */
			if (c == '.' || c < 0x21 || c > 0x7e)
				return -1;
			out[n++] = (char)c;
		}
		i += l;
	}
	if (i != len || n > DNS_NAME_MAX)
		return -1;
	out[n] = '\0';
	return 0;
}

/* TXT rdata: character-strings (RFC 1035 3.3.14), concatenated */
static bool add_txt(struct ma_rrset *s, const unsigned char *p, size_t len)
{
	unsigned char buf[MA_DNS_BUF];
	size_t i = 0, n = 0;

	while (i < len) {
		size_t l = p[i++];
		if (l > len - i || l > sizeof buf - n)
			return false;	/* malformed or larger than an answer holds */
		memcpy(buf + n, p + i, l);
		n += l;
		i += l;
	}
	return ma_rrset_add(s, MA_RR_TXT, buf, n, 0);
}

bool ma_dns_ub_rdata(enum ma_rr type, const unsigned char *p, size_t len,
		     struct ma_rrset *s)
{
	char name[DNS_NAME_MAX + 2], srv[DNS_NAME_MAX + 24];

	switch (type) {
	case MA_RR_A:
	case MA_RR_AAAA:
		return len == (type == MA_RR_A ? 4u : 16u) &&
		       ma_rrset_add(s, type, p, len, 0);
	case MA_RR_TXT:
		return add_txt(s, p, len);
	case MA_RR_MX:
		return len >= 3 && wire_name(p + 2, len - 2, name, sizeof name) == 0 &&
		       ma_rrset_add(s, type, name, strlen(name),
				    (unsigned)p[0] << 8 | p[1]);
	case MA_RR_SRV: {
		/* RFC 2782: priority, weight, port (16 bits each), target */
		if (len < 7 || wire_name(p + 6, len - 6, name, sizeof name) != 0)
			return false;
		unsigned prio = (unsigned)p[0] << 8 | p[1];
		int n = ma_srv_format(prio, (unsigned)p[2] << 8 | p[3],
				      (unsigned)p[4] << 8 | p[5], name, strlen(name),
				      srv, sizeof srv);
		return n > 0 && ma_rrset_add(s, type, srv, (size_t)n, prio);
	}
	case MA_RR_PTR:
	case MA_RR_CNAME:
		return wire_name(p, len, name, sizeof name) == 0 &&
		       ma_rrset_add(s, type, name, strlen(name), 0);
	}
	return false;
}

static void ub_lookup(void *arg, const char *name, enum ma_rr type,
		      struct ma_rrset *out)
{
	struct ma_dns_ub *u = arg;
	struct ub_result *res = NULL;

	int rc = ub_resolve(u->ctx, name, (int)type, 1 /* IN */, &res);
	if (rc != 0 || res == NULL) {
		out->rc = MA_DNS_TEMPFAIL;
		if (res != NULL)
			ub_resolve_free(res);
		return;
	}
	switch (res->rcode) {
	case 0:	/* NOERROR */
		out->rc = MA_DNS_NODATA;
		for (size_t k = 0; res->havedata && res->data[k] != NULL; k++)
			(void)ma_dns_ub_rdata(type, (const unsigned char *)res->data[k],
					      (size_t)res->len[k], out);
		/* what the DNS doctor compares with the TTL it suggests */
		out->ttl = res->ttl > 0 ? (unsigned)res->ttl : 0;
		break;
	case 3:	/* NXDOMAIN */
		out->rc = MA_DNS_NXDOMAIN;
		break;
	default:	/* SERVFAIL, REFUSED, ...: try again later */
		out->rc = MA_DNS_TEMPFAIL;
		break;
	}
	ub_resolve_free(res);
}

void ma_dns_ub_dns(struct ma_dns_ub *u, struct ma_dns *d)
{
	d->lookup = ub_lookup;
	d->arg = u;
}
