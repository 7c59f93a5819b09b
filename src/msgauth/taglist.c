/* taglist.c - the tag=value list parser (RFC 6376 3.2). */
#include "msgauth/taglist.h"

#include <ctype.h>
#include <string.h>

static bool tl_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool tl_name_ok(const char *s, size_t n)
{
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

int taglist_parse(const char *s, size_t len, struct taglist *tl, const char **why)
{
	size_t i = 0;

	tl->n = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && s[i] != ';')
			i++;
		size_t b = start, e = i;
		i++;			/* past ';' */
		while (b < e && tl_ws(s[b]))
			b++;
		while (e > b && tl_ws(s[e - 1]))
			e--;
		if (b == e)
			continue;	/* empty spec: trailing ';' or ";;" */
		const char *eq = memchr(s + b, '=', e - b);
		if (eq == NULL) {
			*why = "tag without '='";
			return -1;
		}
		size_t ne = (size_t)(eq - s), vb = ne + 1;
		while (ne > b && tl_ws(s[ne - 1]))
			ne--;
		while (vb < e && tl_ws(s[vb]))
			vb++;
		if (!tl_name_ok(s + b, ne - b)) {
			*why = "bad tag name";
			return -1;
		}
		for (size_t k = 0; k < tl->n; k++)
			if (tl->t[k].name_len == ne - b &&
			    memcmp(tl->t[k].name, s + b, ne - b) == 0) {
				*why = "duplicate tag";
				return -1;
			}
		if (tl->n == TAGLIST_MAX) {
			*why = "too many tags";
			return -1;
		}
		tl->t[tl->n++] = (struct tag){ s + b, ne - b, s + vb, e - vb };
	}
	return 0;
}

const struct tag *taglist_get(const struct taglist *tl, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < tl->n; i++)
		if (tl->t[i].name_len == n && memcmp(tl->t[i].name, name, n) == 0)
			return &tl->t[i];
	return NULL;
}

bool tag_is(const struct tag *t, const char *v)
{
	size_t n = strlen(v);

	return t != NULL && t->val_len == n && memcmp(t->val, v, n) == 0;
}
