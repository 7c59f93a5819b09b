/* config_sni.c - the tls_sni value: "name:cert:key" entries separated by
 * commas, names exact or "*.domain". Paths may not hold ':' or ','. */
#include "core/config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int valid_name(const char *n, size_t len)
{
	size_t i = 0;
	if (len >= 2 && n[0] == '*' && n[1] == '.')
		i = 2;
	if (i == len || n[i] == '.' || n[len - 1] == '.')
		return 0;
	for (; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '-' && n[i] != '.')
			return 0;
	return 1;
}

static int copy_part(char *dst, size_t dstsz, const char *p, size_t n,
		     const char *what, char *why, size_t whysz)
{
	if (n == 0 || n >= dstsz) {
		snprintf(why, whysz, "%s is empty or longer than %zu bytes", what,
			 dstsz - 1);
		return -1;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int cfg_parse_sni(const char *v, struct cfg_sni_list *l, char *why, size_t whysz)
{
	memset(l, 0, sizeof *l);
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *end = e;
		while (end > p && end[-1] == ' ')
			end--;
		if (l->n == CFG_MAX_SNI) {
			snprintf(why, whysz, "more than %d names", CFG_MAX_SNI);
			return -1;
		}
		struct cfg_sni *s = &l->e[l->n];
		const char *c1 = memchr(p, ':', (size_t)(end - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c2 == NULL || memchr(c2 + 1, ':', (size_t)(end - c2 - 1)) != NULL) {
			snprintf(why, whysz, "expected name:cert:key, got '%.*s'",
				 (int)(end - p > 80 ? 80 : end - p), p);
			return -1;
		}
		if (copy_part(s->name, sizeof s->name, p, (size_t)(c1 - p), "name", why, whysz) ||
		    copy_part(s->cert, sizeof s->cert, c1 + 1, (size_t)(c2 - c1 - 1),
			      "certificate path", why, whysz) ||
		    copy_part(s->key, sizeof s->key, c2 + 1, (size_t)(end - c2 - 1),
			      "key path", why, whysz))
			return -1;
		if (!valid_name(s->name, strlen(s->name))) {
			snprintf(why, whysz, "'%s' is not a host name or *.domain", s->name);
			return -1;
		}
		for (char *c = s->name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		for (size_t i = 0; i < l->n; i++)
			if (!strcmp(l->e[i].name, s->name)) {
				snprintf(why, whysz, "'%s' is given twice", s->name);
				return -1;
			}
		l->n++;
		p = e;
	}
	return 0;
}

void cfg_format_sni(const struct cfg_sni_list *l, char *out, size_t outsz)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n && used < outsz; i++) {
		int n = snprintf(out + used, outsz - used, "%s%s:%s:%s", i ? ", " : "",
				 l->e[i].name, l->e[i].cert, l->e[i].key);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
