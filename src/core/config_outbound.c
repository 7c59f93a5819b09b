/* config_outbound.c - the values of the outbound queue's keys: the retry
 * schedule, next hops ("host", "host:port", "[host]:port", IP literals),
 * per-domain transports, domain lists and the relay's TLS mode. Each is
 * parsed into struct config at load time so that a bad value stops
 * startup with its file and line, and formatted back for config dump. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_list_next(const char **p, const char **item, size_t *len)
{
	const char *s = *p;
	while (*s == ' ' || *s == ',' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return 0;
	}
	const char *e = s;
	while (*e != '\0' && *e != ' ' && *e != ',' && *e != '\t')
		e++;
	*item = s;
	*len = (size_t)(e - s);
	*p = e;
	return 1;
}

/* ---- retry schedule ----------------------------------------------------- */

int cfg_parse_retry(const char *v, struct cfg_retry *out, char *why,
		    size_t whysz)
{
	struct cfg_retry r = { 0 };
	const char *p = v, *item;
	size_t len;
	while (cfg_list_next(&p, &item, &len)) {
		char tok[32];
		uint64_t secs;
		if (len >= sizeof tok) {
			snprintf(why, whysz, "'%.*s' is not a duration",
				 (int)(len > 40 ? 40 : len), item);
			return -1;
		}
		memcpy(tok, item, len);
		tok[len] = '\0';
		if (cfg_parse_seconds(tok, &secs) != 0 || secs == 0 ||
		    secs > 7 * 86400) {
			snprintf(why, whysz, "'%s' is not a duration between 1s "
				 "and 7d", tok);
			return -1;
		}
		if (r.n == CFG_MAX_RETRY_STEPS) {
			snprintf(why, whysz, "more than %d steps",
				 CFG_MAX_RETRY_STEPS);
			return -1;
		}
		r.step[r.n++] = (unsigned)secs;
	}
	if (r.n == 0) {
		snprintf(why, whysz, "at least one interval is needed");
		return -1;
	}
	*out = r;
	return 0;
}

unsigned cfg_retry_delay(const struct cfg_retry *r, unsigned attempts)
{
	if (r->n == 0)
		return 300;
	return r->step[attempts < r->n ? attempts : r->n - 1];
}

static void format_secs(unsigned s, char *out, size_t outsz)
{
	if (s % 86400 == 0)
		snprintf(out, outsz, "%ud", s / 86400);
	else if (s % 3600 == 0)
		snprintf(out, outsz, "%uh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, outsz, "%um", s / 60);
	else
		snprintf(out, outsz, "%us", s);
}

void cfg_format_retry(const struct cfg_retry *r, char *out, size_t outsz)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->n && at < outsz; i++) {
		char one[24];
		format_secs(r->step[i], one, sizeof one);
		int n = snprintf(out + at, outsz - at, i ? " %s" : "%s", one);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

/* ---- names and next hops ------------------------------------------------ */

/* A host name (letters, digits, '-', '.', not starting or ending with a
 * dot), or with wildcard "*.name"; lower-cased into out. */
static int copy_domain(const char *s, size_t len, bool wildcard, char *out,
		       size_t outsz)
{
	size_t i = 0;
	if (wildcard && len >= 2 && s[0] == '*' && s[1] == '.')
		i = 2;
	if (len == 0 || len >= outsz || i == len || s[i] == '.' ||
	    s[len - 1] == '.')
		return -1;
	for (size_t k = i; k < len; k++)
		if (!isalnum((unsigned char)s[k]) && s[k] != '-' && s[k] != '.')
			return -1;
	for (size_t k = 0; k < len; k++)
		out[k] = (char)tolower((unsigned char)s[k]);
	out[len] = '\0';
	return 0;
}

int cfg_parse_nexthop(const char *s, size_t len, struct cfg_nexthop *out,
		      char *why, size_t whysz)
{
	struct cfg_nexthop h = { 0 };
	const char *host = s, *port = NULL;
	size_t hl = len;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL)
			goto bad;
		host = s + 1;
		hl = (size_t)(close - host);
		h.literal = true;
		size_t rest = len - (size_t)(close + 1 - s);
		if (rest > 0) {
			if (close[1] != ':')
				goto bad;
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', len);
		if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)) == NULL) {
			hl = (size_t)(colon - s);
			port = colon + 1;
		}
	}
	if (hl == 0 || hl >= sizeof h.host)
		goto bad;
	memcpy(h.host, host, hl);
	h.host[hl] = '\0';
	unsigned char addr[16];
	if (inet_pton(AF_INET, h.host, addr) == 1 ||
	    inet_pton(AF_INET6, h.host, addr) == 1)
		h.literal = true;	/* an address: no lookup at all */
	else if (copy_domain(host, hl, false, h.host, sizeof h.host) != 0)
		goto bad;
	if (port != NULL) {
		size_t pl = len - (size_t)(port - s);
		char tmp[8];
		char *end;
		if (pl == 0 || pl >= sizeof tmp)
			goto bad;
		memcpy(tmp, port, pl);
		tmp[pl] = '\0';
		unsigned long n = strtoul(tmp, &end, 10);
		if (*end != '\0' || n == 0 || n > 65535)
			goto bad;
		h.port = (uint16_t)n;
	}
	*out = h;
	return 0;
bad:
	snprintf(why, whysz, "'%.*s' is not host, host:port, [host]:port or "
		 "an IP address", (int)(len > 80 ? 80 : len), s);
	return -1;
}

void cfg_format_nexthop(const struct cfg_nexthop *h, char *out, size_t outsz)
{
	bool v6 = strchr(h->host, ':') != NULL;
	bool brackets = v6 || (h->literal && !isdigit((unsigned char)h->host[0]));
	char port[8] = "";
	if (h->port != 0)
		snprintf(port, sizeof port, ":%u", h->port);
	if (h->host[0] == '\0')
		out[0] = '\0';
	else
		snprintf(out, outsz, "%s%s%s%s", brackets ? "[" : "", h->host,
			 brackets ? "]" : "", port);
}

int cfg_parse_relay(const char *v, struct cfg_nexthop *out, char *why,
		    size_t whysz)
{
	if (v[0] == '\0') {
		memset(out, 0, sizeof *out);
		return 0;
	}
	return cfg_parse_nexthop(v, strlen(v), out, why, whysz);
}

/* ---- transports and domain lists ---------------------------------------- */

int cfg_parse_transports(const char *v, struct cfg_transports *out, char *why,
			 size_t whysz)
{
	struct cfg_transports t;
	memset(&t, 0, sizeof t);
	const char *p = v, *item;
	size_t len;
	while (cfg_list_next(&p, &item, &len)) {
		const char *eq = memchr(item, '=', len);
		if (eq == NULL) {
			snprintf(why, whysz, "expected domain=host[:port], got "
				 "'%.*s'", (int)(len > 80 ? 80 : len), item);
			return -1;
		}
		if (t.n == CFG_MAX_TRANSPORTS) {
			snprintf(why, whysz, "more than %d transports",
				 CFG_MAX_TRANSPORTS);
			return -1;
		}
		struct cfg_transport *e = &t.e[t.n];
		size_t dl = (size_t)(eq - item);
		if (copy_domain(item, dl, true, e->domain, sizeof e->domain)) {
			snprintf(why, whysz, "'%.*s' is not a domain or "
				 "*.domain", (int)(dl > 80 ? 80 : dl), item);
			return -1;
		}
		if (cfg_parse_nexthop(eq + 1, len - dl - 1, &e->hop, why,
				      whysz) != 0)
			return -1;
		for (size_t i = 0; i < t.n; i++)
			if (!strcmp(t.e[i].domain, e->domain)) {
				snprintf(why, whysz, "'%s' is given twice",
					 e->domain);
				return -1;
			}
		t.n++;
	}
	*out = t;
	return 0;
}

void cfg_format_transports(const struct cfg_transports *t, char *out,
			   size_t outsz)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < t->n && at < outsz; i++) {
		char hop[300];
		cfg_format_nexthop(&t->e[i].hop, hop, sizeof hop);
		int n = snprintf(out + at, outsz - at, i ? ", %s=%s" : "%s=%s",
				 t->e[i].domain, hop);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

int cfg_parse_domains(const char *v, struct cfg_domains *out, char *why,
		      size_t whysz)
{
	struct cfg_domains d;
	memset(&d, 0, sizeof d);
	const char *p = v, *item;
	size_t len;
	while (cfg_list_next(&p, &item, &len)) {
		if (d.n == CFG_MAX_DOMAINS) {
			snprintf(why, whysz, "more than %d domains",
				 CFG_MAX_DOMAINS);
			return -1;
		}
		if (copy_domain(item, len, true, d.name[d.n],
				sizeof d.name[d.n]) != 0) {
			snprintf(why, whysz, "'%.*s' is not a domain or "
				 "*.domain", (int)(len > 80 ? 80 : len), item);
			return -1;
		}
		d.n++;
	}
	*out = d;
	return 0;
}

void cfg_format_domains(const struct cfg_domains *d, char *out, size_t outsz)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < d->n && at < outsz; i++) {
		int n = snprintf(out + at, outsz - at, i ? ", %s" : "%s",
				 d->name[i]);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

bool cfg_domain_match(const char *pattern, const char *domain)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com": any name below it, one or more labels */
		size_t pl = strlen(pattern + 1), dl = strlen(domain);
		return dl > pl && strcasecmp(domain + dl - pl, pattern + 1) == 0;
	}
	return strcasecmp(pattern, domain) == 0;
}

static const char *const tls_mode_names[] = {
	[CFG_TLS_OPPORTUNISTIC] = "opportunistic",
	[CFG_TLS_STARTTLS] = "starttls",
	[CFG_TLS_IMPLICIT] = "implicit",
	[CFG_TLS_NONE] = "none",
};

int cfg_parse_tls_mode(const char *v, enum cfg_tls_mode *out, char *why,
		       size_t whysz)
{
	for (size_t i = 0; i < sizeof tls_mode_names / sizeof *tls_mode_names; i++)
		if (strcmp(v, tls_mode_names[i]) == 0) {
			*out = (enum cfg_tls_mode)i;
			return 0;
		}
	snprintf(why, whysz, "expected starttls, implicit, opportunistic or none");
	return -1;
}

const char *cfg_tls_mode_name(enum cfg_tls_mode m)
{
	return (size_t)m < sizeof tls_mode_names / sizeof *tls_mode_names
		       ? tls_mode_names[m] : "?";
}
