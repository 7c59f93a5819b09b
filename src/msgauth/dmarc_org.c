/* dmarc_org.c - organisational domains (RFC 7489 3.2) and identifier
 * alignment (3.1). The public suffix list is the system's (Debian's
 * publicsuffix package, updated with the OS) through psl_latest(), which
 * falls back to the copy built into libpsl; it is loaded once and only
 * read afterwards (decision 0028). */
#include "msgauth/dmarc.h"

#include <libpsl.h>
#include <pthread.h>
#include <string.h>

static const psl_ctx_t *org_psl;
static pthread_once_t org_once = PTHREAD_ONCE_INIT;

static void org_load(void)
{
	/* NULL: the distribution's list (PSL_DISTFILE), else the built-in
	 * one when that file is older. psl_builtin() is a static table and
	 * never fails, so there is always a list. */
	psl_ctx_t *p = psl_latest(NULL);

	org_psl = p != NULL ? p : psl_builtin();
}

int dmarc_domain_norm(const char *in, size_t len, char *out)
{
	size_t b = 0, e = len, n = 0;

	while (b < e && in[b] == '.')
		b++;
	while (e > b && in[e - 1] == '.')
		e--;
	if (b == e || e - b > DMARC_DOMAIN_MAX)
		return -1;
	for (size_t i = b; i < e; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '-' || c == '_' || c == '.'))
			return -1;
		if (c == '.' && out[n - 1] == '.')
			return -1;	/* empty label */
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static bool org_ipv4_like(const char *d)
{
	const char *last = strrchr(d, '.');

	last = last ? last + 1 : d;
	for (; *last; last++)
		if (*last < '0' || *last > '9')
			return false;
	return true;	/* no TLD is numeric: an address literal */
}

bool dmarc_org_domain(const char *domain, char *out)
{
	if (strchr(domain, '.') == NULL || org_ipv4_like(domain))
		return false;
	if (pthread_once(&org_once, org_load) != 0)
		return false;
	const char *r = psl_registrable_domain(org_psl, domain);
	if (r == NULL || strlen(r) > DMARC_DOMAIN_MAX)
		return false;
	memcpy(out, r, strlen(r) + 1);	/* r is a suffix of domain */
	return true;
}

bool dmarc_aligned(const char *a, const char *b, enum dmarc_align mode)
{
	char na[DMARC_DOMAIN_MAX + 1], nb[DMARC_DOMAIN_MAX + 1];
	char oa[DMARC_DOMAIN_MAX + 1], ob[DMARC_DOMAIN_MAX + 1];

	if (dmarc_domain_norm(a, strlen(a), na) < 0 ||
	    dmarc_domain_norm(b, strlen(b), nb) < 0)
		return false;
	if (strcmp(na, nb) == 0)
		return true;
	if (mode == DMARC_ALIGN_STRICT)
		return false;
	/* RFC 7489 3.1.1/3.1.2: relaxed means the organisational domains
	 * are equal. A domain with none (a public suffix itself) aligns only
	 * with itself, which was checked above. */
	return dmarc_org_domain(na, oa) && dmarc_org_domain(nb, ob) &&
	       strcmp(oa, ob) == 0;
}
