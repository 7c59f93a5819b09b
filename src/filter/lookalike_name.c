/* lookalike_name.c - display-name impersonation: an outside From that
 * carries one of the organisation's own names (the CEO-fraud case,
 * decision 0035). Names become keys (tokens folded through the
 * confusables map, initials dropped, sorted) in one hash table with the
 * users' addresses and the hosted domains, so a check is a handful of
 * look-ups whatever the number of users. */
#include "filter/lookalike_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define TOKEN_MAX 64
#define ADDR_MAX (64 + 1 + LOOKALIKE_DOMAIN_MAX)

struct slot {
	char *key;		/* kind letter, then the key; NULL: empty */
	uint32_t user;
	uint8_t via;
};

struct imperson_set {
	struct slot *slots;
	size_t cap;		/* a power of two, at least twice the keys */
	char **addr;		/* users' normalised addresses */
	size_t n_users;
};

static uint64_t fnv(const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 0x100000001b3ull;
	return h;
}

static struct slot *find(const struct imperson_set *s, char kind,
			 const char *k, size_t n)
{
	char key[FILTER_IMPERSON_KEY_MAX + ADDR_MAX + 2];

	if (n + 1 >= sizeof key)
		return NULL;
	key[0] = kind;
	memcpy(key + 1, k, n);
	key[n + 1] = '\0';
	for (size_t i = fnv(key, n + 1) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		struct slot *sl = &s->slots[i];
		if (sl->key == NULL || strcmp(sl->key, key) == 0)
			return sl;
	}
}

static void put(struct imperson_set *s, char kind, const char *k,
		size_t user, enum imperson_via via)
{
	struct slot *sl = find(s, kind, k, strlen(k));

	if (sl == NULL || sl->key != NULL)
		return;		/* the first user with a name keeps it */
	sl->key = xmalloc(strlen(k) + 2);
	sl->key[0] = kind;
	memcpy(sl->key + 1, k, strlen(k) + 1);
	sl->user = (uint32_t)user;
	sl->via = (uint8_t)via;
}

static bool is_sep(uint32_t c)
{
	if (c < 0x80)
		return !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
	return c < 0xc0 || c == 0xd7 || c == 0xf7 || (c >= 0x2000 && c <= 0x206f) ||
	       (c >= 0x3000 && c <= 0x3003) || c == 0xfffd;
}

static int cmp_tok(const void *a, const void *b)
{
	return strcmp(a, b);
}

struct toks {
	char t[FILTER_IMPERSON_TOKENS_MAX][TOKEN_MAX];
	size_t nt, len, cps;
	bool wide, over;
};

static void tok_add(struct toks *k, uint32_t c)
{
	char u[4];
	size_t ul = 0;

	if (k->cps == 0 && k->nt == FILTER_IMPERSON_TOKENS_MAX)
		k->over = true;
	if (k->over)
		return;
	k->cps++;
	if (c < 0x80) {
		u[ul++] = (char)c;
	} else {
		k->wide = true;
		if (c < 0x800) {
			u[ul++] = (char)(0xc0 | (c >> 6));
		} else {
			if (c < 0x10000) {
				u[ul++] = (char)(0xe0 | (c >> 12));
			} else {
				u[ul++] = (char)(0xf0 | (c >> 18));
				u[ul++] = (char)(0x80 | ((c >> 12) & 0x3f));
			}
			u[ul++] = (char)(0x80 | ((c >> 6) & 0x3f));
		}
		u[ul++] = (char)(0x80 | (c & 0x3f));
	}
	if (k->len + ul < TOKEN_MAX) {
		memcpy(k->t[k->nt] + k->len, u, ul);
		k->len += ul;
	}
}

static void tok_end(struct toks *k)
{
	/* An ASCII initial ("Q.") says little and is often added or left
	 * out; drop it. */
	if (!k->over && (k->cps > 1 || (k->cps == 1 && k->wide)))
		k->t[k->nt++][k->len] = '\0';
	k->len = k->cps = 0;
	k->wide = false;
}

/* The key of a name: its tokens, sorted and joined by spaces, into key
 * (FILTER_IMPERSON_KEY_MAX). 0 when the name is too weak to protect
 * (under two tokens, unless one token of several non-ASCII letters, as
 * CJK names are written) or has more than FILTER_IMPERSON_TOKENS_MAX
 * tokens; else the number of tokens. */
static int name_key(const char *s, size_t n, char *key)
{
	struct toks k;
	size_t i = 0;
	bool wide1 = false;

	memset(&k, 0, sizeof k);
	if (n > FILTER_IMPERSON_NAME_MAX)
		n = FILTER_IMPERSON_NAME_MAX;
	while (i < n) {
		uint32_t m[2];
		size_t c = la_map_cp(la_utf8_next(s, n, &i), m);
		for (size_t j = 0; j < c; j++) {
			if (is_sep(m[j])) {
				tok_end(&k);
				continue;
			}
			tok_add(&k, m[j]);
			if (k.nt == 0 && k.cps == 2 && k.wide)
				wide1 = true;
		}
	}
	tok_end(&k);
	if (k.over || k.nt == 0 || (k.nt == 1 && !wide1))
		return 0;
	qsort(k.t, k.nt, sizeof k.t[0], cmp_tok);
	key[0] = '\0';
	for (size_t t = 0; t < k.nt; t++)
		la_cat(key, FILTER_IMPERSON_KEY_MAX, "%s%s", t ? " " : "", k.t[t]);
	return (int)k.nt;
}

/* local@domain lower-cased with the domain in A-labels, into out
 * (ADDR_MAX + 1); *dom points at the domain in out. */
static int addr_norm(const char *a, size_t n, char *out, const char **dom)
{
	const char *why;
	const char *at = memrchr(a, '@', n);

	if (at == NULL || at == a || (size_t)(at - a) > 64)
		return -1;
	size_t ln = (size_t)(at - a);
	for (size_t i = 0; i < ln; i++) {
		char c = a[i];
		if (c == '\0')
			return -1;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[ln] = '@';
	*dom = out + ln + 1;
	return la_domain_ascii(at + 1, n - ln - 1, out + ln + 1, &why);
}

static bool hosted(const struct imperson_set *s, const char *dom)
{
	const char *d = dom;

	for (;;) {
		struct slot *sl = find(s, 'd', d, strlen(d));
		if (sl && sl->key)
			return true;
		d = strchr(d, '.');
		if (d == NULL)
			return false;
		d++;
	}
}

void imperson_set_free(struct imperson_set **set)
{
	struct imperson_set *s = *set;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i].key);
	for (size_t i = 0; i < s->n_users; i++)
		free(s->addr[i]);
	free(s->slots);
	free(s->addr);
	free(s);
	*set = NULL;
}

int imperson_set_new(const struct imperson_user *users, size_t n_users,
		     const char *const *hosted_doms, size_t n_hosted,
		     struct imperson_set **set_r, struct err *err)
{
	const char *why, *dom;
	char a[ADDR_MAX + 1], key[FILTER_IMPERSON_KEY_MAX];

	*set_r = NULL;
	if (n_users > FILTER_IMPERSON_USERS_MAX || n_hosted > FILTER_IMPERSON_HOSTED_MAX)
		return err_set(err, ERR_LIMIT, 0, NULL,
			       "impersonation: more than %d users or %d domains",
			       FILTER_IMPERSON_USERS_MAX, FILTER_IMPERSON_HOSTED_MAX);
	struct imperson_set *s = xcalloc(1, sizeof *s);
	/* Each user adds at most four keys: name, local part, address and
	 * domain. */
	s->cap = 16;
	while (s->cap < 2 * (4 * n_users + n_hosted))
		s->cap *= 2;
	s->slots = xcalloc(s->cap, sizeof *s->slots);
	s->addr = xcalloc(n_users ? n_users : 1, sizeof *s->addr);
	for (size_t i = 0; i < n_hosted; i++) {
		if (la_domain_ascii(hosted_doms[i], strlen(hosted_doms[i]), a, &why) < 0) {
			err_set(err, ERR_CONFIG, 0, NULL,
				"impersonation: hosted domain %zu: %s", i + 1, why);
			goto bad;
		}
		put(s, 'd', a, 0, IMPERSON_NONE);
	}
	for (size_t i = 0; i < n_users; i++, s->n_users++) {
		const char *ad = users[i].address ? users[i].address : "";
		if (addr_norm(ad, strlen(ad), a, &dom) < 0) {
			err_set(err, ERR_CONFIG, 0, NULL,
				"impersonation: user %zu: bad address", i + 1);
			goto bad;
		}
		s->addr[i] = xstrdup(a);
		put(s, 'd', dom, i, IMPERSON_NONE);
		put(s, 'a', a, i, IMPERSON_ADDRESS);
		if (users[i].name &&
		    name_key(users[i].name, strlen(users[i].name), key) > 0)
			put(s, 'n', key, i, IMPERSON_NAME);
		if (name_key(a, (size_t)(dom - 1 - a), key) > 0)
			put(s, 'n', key, i, IMPERSON_LOCALPART);
	}
	*set_r = s;
	return 0;
bad:
	imperson_set_free(&s);
	return -1;
}

static bool addr_char(char c, bool local)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       (local && (c == '_' || c == '+' || c == '%' || c == '\''));
}

/* A user's address written inside the display name ("ceo@example.com
 * via Docs"), at any '@'. */
static const struct slot *addr_in_name(const struct imperson_set *s,
				       const char *n, size_t len)
{
	char a[ADDR_MAX + 1];
	const char *dom;

	for (size_t k = 0; k < len; k++) {
		if (n[k] != '@')
			continue;
		size_t b = k, e = k + 1;
		while (b > 0 && k - b < 64 && addr_char(n[b - 1], true))
			b--;
		while (e < len && e - k <= LOOKALIKE_DOMAIN_MAX && addr_char(n[e], false))
			e++;
		if (addr_norm(n + b, e - b, a, &dom) < 0)
			continue;
		const struct slot *sl = find(s, 'a', a, strlen(a));
		if (sl && sl->key)
			return sl;
	}
	return NULL;
}

int imperson_check(const struct imperson_set *s, const char *name,
		   size_t name_len, const char *addr, size_t addr_len,
		   struct imperson_result *r)
{
	char a[ADDR_MAX + 1], key[FILTER_IMPERSON_KEY_MAX];
	const char *dom;
	const struct slot *sl = NULL;

	memset(r, 0, sizeof *r);
	/* A From that is not an address at all is not in a hosted domain. */
	if (addr_norm(addr, addr_len, a, &dom) == 0 && hosted(s, dom))
		return 0;
	if (name_len > FILTER_IMPERSON_NAME_MAX)
		name_len = FILTER_IMPERSON_NAME_MAX;
	if (name_key(name, name_len, key) > 0)
		sl = find(s, 'n', key, strlen(key));
	if (sl == NULL || sl->key == NULL)
		sl = addr_in_name(s, name, name_len);
	if (sl == NULL || sl->key == NULL)
		return 0;
	r->via = (enum imperson_via)sl->via;
	snprintf(r->user, sizeof r->user, "%s", s->addr[sl->user]);
	la_cat(r->reason, sizeof r->reason, "display name \"");
	la_cat_show(r->reason, sizeof r->reason - 100, name, name_len < 80 ? name_len : 80, false);
	la_cat(r->reason, sizeof r->reason, "\" of ");
	la_cat_show(r->reason, sizeof r->reason - 60, addr, addr_len < 120 ? addr_len : 120, false);
	la_cat(r->reason, sizeof r->reason, " (outside) %s user %s",
	       r->via == IMPERSON_ADDRESS ? "names" : "is", r->user);
	return 1;
}
