/* ma_dns.c - the bounded answer set shared by every DNS backend. */
#include "msgauth/ma_dns.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void ma_rrset_reset(struct ma_rrset *s)
{
	s->rc = MA_DNS_NXDOMAIN;
	s->truncated = false;
	s->ttl = 0;
	s->n = 0;
	s->used = 0;
}

bool ma_rrset_add(struct ma_rrset *s, enum ma_rr type, const void *data,
		  size_t len, unsigned pref)
{
	bool name = type == MA_RR_MX || type == MA_RR_PTR || type == MA_RR_CNAME;

	if (name && len > 0 && ((const char *)data)[len - 1] == '.')
		len--;
	if (s->n == MA_DNS_MAX_RR || len + 1 > sizeof s->buf - s->used) {
		s->truncated = true;
		return false;
	}
	unsigned char *p = s->buf + s->used;
	memcpy(p, data, len);
	if (name)
		for (size_t i = 0; i < len; i++)
			p[i] = (unsigned char)tolower(p[i]);
	p[len] = '\0';
	s->rr[s->n].data = p;
	s->rr[s->n].len = len;
	s->rr[s->n].pref = pref;
	s->n++;
	s->used += len + 1;
	s->rc = MA_DNS_OK;
	return true;
}

int ma_srv_format(unsigned priority, unsigned weight, unsigned port,
		  const char *target, size_t target_len, char *out, size_t outsz)
{
	if (priority > 65535 || weight > 65535 || port > 65535)
		return -1;
	if (target_len > 1 && target[target_len - 1] == '.')
		target_len--;
	if (target_len == 0) {
		target = ".";
		target_len = 1;
	}
	int n = snprintf(out, outsz, "%u %u %u ", priority, weight, port);
	if (n < 0 || (size_t)n + target_len + 1 > outsz)
		return -1;
	for (size_t i = 0; i < target_len; i++)
		out[n + (int)i] = (char)tolower((unsigned char)target[i]);
	out[(size_t)n + target_len] = '\0';
	return n + (int)target_len;
}

void ma_dns_query(const struct ma_dns *d, const char *name, enum ma_rr type,
		  struct ma_rrset *out)
{
	ma_rrset_reset(out);
	d->lookup(d->arg, name, type, out);
	if (out->rc == MA_DNS_OK && out->n == 0)
		out->rc = MA_DNS_NODATA;
}

const char *ma_dns_rc_str(enum ma_dns_rc rc)
{
	switch (rc) {
	case MA_DNS_OK: return "ok";
	case MA_DNS_NODATA: return "nodata";
	case MA_DNS_NXDOMAIN: return "nxdomain";
	case MA_DNS_TEMPFAIL: return "tempfail";
	}
	return "?";
}
