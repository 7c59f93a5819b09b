/* token_set.c - the bounded set of distinct tokens: an arena of strings
 * and an open-addressing table of indexes, sized once for
 * FILTER_TOKENS_MAX so that nothing rehashes. */
#include "filter/token.h"

#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/xmalloc.h"
#include "filter/chars.h"

/* A power of two at least twice FILTER_TOKENS_MAX: probes stay short. */
#define SLOTS 8192
_Static_assert(SLOTS >= 2 * FILTER_TOKENS_MAX, "token table too small");
#define TOKEN_BYTES (FILTER_TOKEN_MAX + 64)

uint64_t filter_token_hash(const void *p, size_t n)
{
	return filter_fnv64(p, n);
}

void filter_tokens_init(struct filter_tokens *t)
{
	memset(t, 0, sizeof *t);
	t->slots = xcalloc(SLOTS, sizeof t->slots[0]);
	filter_urls_init(&t->urls);
}

void filter_tokens_free(struct filter_tokens *t)
{
	free(t->v);
	free(t->arena);
	free(t->slots);
	filter_urls_free(&t->urls);
	for (size_t i = 0; i < t->nlinks; i++) {
		free(t->links[i].href);
		free(t->links[i].text);
	}
	free(t->links);
	memset(t, 0, sizeof *t);
}

/* The slot holding s, or the empty slot where it would go. */
static size_t find(const struct filter_tokens *t, uint64_t h, const char *s,
		   size_t n)
{
	size_t i = (size_t)h & (SLOTS - 1);

	for (;;) {
		uint32_t x = t->slots[i];
		if (x == 0)
			return i;
		const struct filter_token *k = &t->v[x - 1];
		if (k->hash == h && k->len == n &&
		    memcmp(t->arena + k->off, s, n) == 0)
			return i;
		i = (i + 1) & (SLOTS - 1);
	}
}

static void insert(struct filter_tokens *t, const char *s, size_t n)
{
	uint64_t h = filter_token_hash(s, n);
	size_t slot = find(t, h, s, n);

	if (t->slots[slot] != 0)
		return;
	if (t->n >= FILTER_TOKENS_MAX) {
		t->dropped++;
		return;
	}
	if (t->arena_len + n + 1 > t->arena_cap) {
		size_t cap = t->arena_cap ? t->arena_cap * 2 : 4096;
		while (cap < t->arena_len + n + 1)
			cap *= 2;
		t->arena = xreallocarray(t->arena, cap, 1);
		t->arena_cap = cap;
	}
	if ((t->n & (t->n - 1)) == 0)
		t->v = xreallocarray(t->v, t->n ? t->n * 2 : 1, sizeof t->v[0]);
	struct filter_token *k = &t->v[t->n++];
	k->hash = h;
	k->off = (uint32_t)t->arena_len;
	k->len = (uint32_t)n;
	memcpy(t->arena + t->arena_len, s, n);
	t->arena[t->arena_len + n] = '\0';
	t->arena_len += n + 1;
	t->slots[slot] = (uint32_t)t->n;
}

void filter_tokens_add(struct filter_tokens *t, const char *prefix,
		       const void *word, size_t len)
{
	char s[TOKEN_BYTES];
	size_t pl = strlen(prefix);

	if (pl > TOKEN_BYTES / 2)
		pl = TOKEN_BYTES / 2;
	if (len > TOKEN_BYTES - pl)
		len = TOKEN_BYTES - pl;
	memcpy(s, prefix, pl);
	memcpy(s + pl, word, len);
	insert(t, s, pl + len);
}

bool filter_tokens_has(const struct filter_tokens *t, const char *token)
{
	size_t n = strlen(token);

	return t->slots[find(t, filter_token_hash(token, n), token, n)] != 0;
}
