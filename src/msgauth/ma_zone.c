/* ma_zone.c - a table of DNS records answering like a resolver would:
 * CNAMEs followed (at most 8), TIMEOUT names fail temporarily for the
 * types they have no records of. */
#include "msgauth/ma_zone.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/xmalloc.h"

#define ZONE_CNAME_DEPTH 8
#define ZONE_TIMEOUT 0		/* type value for a TIMEOUT entry */

struct zone_rec {
	char *name;
	int type;
	unsigned pref;
	size_t len;
	unsigned char *data;
};

struct ma_zone {
	struct zone_rec *r;
	size_t n, cap;
	size_t queries;
};

struct ma_zone *ma_zone_new(void)
{
	return xcalloc(1, sizeof(struct ma_zone));
}

void ma_zone_free(struct ma_zone **zp)
{
	struct ma_zone *z = *zp;

	if (z == NULL)
		return;
	for (size_t i = 0; i < z->n; i++) {
		free(z->r[i].name);
		free(z->r[i].data);
	}
	free(z->r);
	free(z);
	*zp = NULL;
}

size_t ma_zone_queries(const struct ma_zone *z)
{
	return z->queries;
}

/* A name lower-cased without its final dot; "\DDD" and "\X" escapes
 * (as in zone files) give octets a text line cannot hold, like spaces. */
static char *zone_name(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *p = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' && i + 3 < n && isdigit((unsigned char)s[i + 1]) &&
		    isdigit((unsigned char)s[i + 2]) && isdigit((unsigned char)s[i + 3])) {
			int v = (s[i + 1] - '0') * 100 + (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
			c = (unsigned char)(v > 255 ? '?' : v);
			i += 3;
		} else if (c == '\\' && i + 1 < n) {
			c = (unsigned char)s[++i];
		} else if (c == '.' && i == n - 1) {
			break;
		}
		p[k++] = (char)tolower(c);
	}
	p[k] = '\0';
	return p;
}

/* The character-strings of a TXT value, concatenated; unquoted words are
 * taken as they are. */
static int zone_txt(const char *v, unsigned char **out, size_t *outlen)
{
	size_t cap = strlen(v) + 1, n = 0;
	unsigned char *b = xmalloc(cap);

	while (*v != '\0') {
		if (*v == ' ' || *v == '\t') {
			v++;
			continue;
		}
		if (*v != '"') {
			while (*v != '\0' && *v != ' ' && *v != '\t')
				b[n++] = (unsigned char)*v++;
			continue;
		}
		v++;
		while (*v != '"') {
			if (*v == '\0') {
				free(b);
				return -1;
			}
			if (*v == '\\' && isdigit((unsigned char)v[1]) &&
			    isdigit((unsigned char)v[2]) && isdigit((unsigned char)v[3])) {
				int c = (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
				if (c > 255) {
					free(b);
					return -1;
				}
				b[n++] = (unsigned char)c;
				v += 4;
			} else if (*v == '\\' && v[1] != '\0') {
				b[n++] = (unsigned char)v[1];
				v += 2;
			} else {
				b[n++] = (unsigned char)*v++;
			}
		}
		v++;
	}
	*out = b;
	*outlen = n;
	return 0;
}

static int zone_type(const char *t)
{
	static const struct { const char *s; int v; } tab[] = {
		{ "A", MA_RR_A }, { "AAAA", MA_RR_AAAA }, { "MX", MA_RR_MX },
		{ "TXT", MA_RR_TXT }, { "PTR", MA_RR_PTR },
		{ "CNAME", MA_RR_CNAME }, { "SRV", MA_RR_SRV },
		{ "TIMEOUT", ZONE_TIMEOUT },
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcasecmp(t, tab[i].s) == 0)
			return tab[i].v;
	return -1;
}

int ma_zone_add(struct ma_zone *z, const char *name, const char *type,
		const char *value, struct err *err)
{
	struct zone_rec rec = { .type = zone_type(type) };
	unsigned char a[16];

	if (rec.type < 0)
		return err_set(err, ERR_PEER, 0, "", "unknown record type %s", type);
	if (strlen(name) > DNS_NAME_MAX + 1)
		return err_set(err, ERR_PEER, 0, "", "name too long");
	switch (rec.type) {
	case MA_RR_A:
	case MA_RR_AAAA: {
		int af = rec.type == MA_RR_A ? AF_INET : AF_INET6;
		if (inet_pton(af, value, a) != 1)
			return err_set(err, ERR_PEER, 0, "", "bad address %s", value);
		rec.len = af == AF_INET ? 4 : 16;
		rec.data = xmalloc(rec.len);
		memcpy(rec.data, a, rec.len);
		break;
	}
	case MA_RR_MX: {
		char *end;
		unsigned long pref = strtoul(value, &end, 10);
		if (end == value || pref > 65535 || (*end != ' ' && *end != '\t'))
			return err_set(err, ERR_PEER, 0, "", "bad MX %s", value);
		while (*end == ' ' || *end == '\t')
			end++;
		rec.pref = (unsigned)pref;
		rec.data = (unsigned char *)zone_name(end);
		rec.len = strlen((char *)rec.data);
		break;
	}
	case MA_RR_SRV: {
		/* "priority weight port target" */
		unsigned long v[3];
		const char *p = value;
		char *end, text[DNS_NAME_MAX + 24];
		for (size_t k = 0; k < 3; k++) {
			v[k] = strtoul(p, &end, 10);
			if (end == p || v[k] > 65535 || (*end != ' ' && *end != '\t'))
				return err_set(err, ERR_PEER, 0, "", "bad SRV %s", value);
			for (p = end; *p == ' ' || *p == '\t'; p++)
				;
		}
		int n = ma_srv_format((unsigned)v[0], (unsigned)v[1], (unsigned)v[2],
				      p, strlen(p), text, sizeof text);
		if (n < 0 || strlen(p) > DNS_NAME_MAX + 1)
			return err_set(err, ERR_PEER, 0, "", "bad SRV %s", value);
		rec.pref = (unsigned)v[0];
		rec.data = (unsigned char *)xstrdup(text);
		rec.len = (size_t)n;
		break;
	}
	case MA_RR_PTR:
	case MA_RR_CNAME:
		rec.data = (unsigned char *)zone_name(value);
		rec.len = strlen((char *)rec.data);
		break;
	case MA_RR_TXT:
		if (zone_txt(value, &rec.data, &rec.len) < 0)
			return err_set(err, ERR_PEER, 0, "", "bad TXT string");
		break;
	default:
		break;
	}
	if (z->n == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 16;
		z->r = xreallocarray(z->r, z->cap, sizeof *z->r);
	}
	rec.name = zone_name(name);
	z->r[z->n++] = rec;
	return 0;
}

int ma_zone_load(struct ma_zone *z, const char *text, size_t len, struct err *err)
{
	size_t lineno = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[8192], name[DNS_NAME_MAX + 3], type[16];
		int off = 0;

		lineno++;
		if (n >= sizeof line)
			return err_set(err, ERR_PEER, 0, "", "line %zu: too long", lineno);
		memcpy(line, p, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		p += n + (nl != NULL);
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if (sscanf(s, "%255s %15s %n", name, type, &off) < 2)
			return err_set(err, ERR_PEER, 0, "", "line %zu: want NAME TYPE VALUE", lineno);
		if (strlen(name) > DNS_NAME_MAX + 1)
			return err_set(err, ERR_PEER, 0, "", "line %zu: name too long", lineno);
		if (ma_zone_add(z, name, type, s + off, err) < 0) {
			struct err e = *err;
			return err_set(err, ERR_PEER, 0, "", "line %zu: %s", lineno, e.msg);
		}
	}
	return 0;
}

static void zone_lookup(void *arg, const char *qname, enum ma_rr type,
			struct ma_rrset *out)
{
	struct ma_zone *z = arg;
	char *name = zone_name(qname);

	z->queries++;
	for (int depth = 0; depth <= ZONE_CNAME_DEPTH; depth++) {
		bool exists = false, timeout = false;
		const struct zone_rec *cname = NULL;

		for (size_t i = 0; i < z->n; i++) {
			const struct zone_rec *r = &z->r[i];
			if (strcmp(r->name, name) != 0)
				continue;
			exists = true;
			if (r->type == ZONE_TIMEOUT)
				timeout = true;
			else if (r->type == (int)type)
				ma_rrset_add(out, type, r->data, r->len, r->pref);
			else if (r->type == MA_RR_CNAME)
				cname = r;
		}
		/* a server that answers some types and times out on the
		 * rest (the SPF suite's "spftimeout") */
		if (timeout && out->n == 0) {
			out->rc = MA_DNS_TEMPFAIL;
			free(name);
			return;
		}
		if (out->n > 0 || cname == NULL || type == MA_RR_CNAME) {
			if (out->n == 0)
				out->rc = exists ? MA_DNS_NODATA : MA_DNS_NXDOMAIN;
			free(name);
			return;
		}
		free(name);
		name = zone_name((const char *)cname->data);
	}
	/* a CNAME chain too long or looping: what a resolver reports */
	out->rc = MA_DNS_TEMPFAIL;
	free(name);
}

void ma_zone_dns(struct ma_zone *z, struct ma_dns *d)
{
	d->lookup = zone_lookup;
	d->arg = z;
}
