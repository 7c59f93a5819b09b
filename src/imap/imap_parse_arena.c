/* imap_parse_arena.c - the per-command arena of the IMAP reader: a bump
 * allocator over a chain of blocks with a byte budget, reset when the next
 * command starts (Dovecot's per-command pool). It never frees single
 * allocations, and running over budget is a NULL the caller turns into a
 * peer error, not an abort. */
#include "imap/imap_parse.h"

#include <assert.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* Blocks start at this size; a reset keeps one block this big so that an
 * idle connection holds little. */
#define ARENA_BLOCK 4096u
#define ARENA_ALIGN 16u

struct arena_block {
	struct arena_block *next;
	size_t size;		/* bytes of data after the header */
	size_t used;
	size_t pad;		/* keeps data 16-byte aligned */
};

static_assert(sizeof(struct arena_block) % ARENA_ALIGN == 0,
	      "arena block header must keep data aligned");
static_assert(alignof(max_align_t) <= ARENA_ALIGN, "alignment");

struct imap_arena {
	struct arena_block *head;	/* the block being filled */
	size_t spent;			/* bytes handed out since reset */
	size_t budget;
};

static unsigned char *block_data(struct arena_block *b)
{
	return (unsigned char *)(b + 1);
}

struct imap_arena *imap_arena_new(size_t budget)
{
	struct imap_arena *a = xcalloc(1, sizeof *a);
	a->budget = budget;
	return a;
}

void imap_arena_set_budget(struct imap_arena *a, size_t budget)
{
	a->budget = budget;
}

void imap_arena_reset(struct imap_arena *a)
{
	struct arena_block *keep = NULL;
	struct arena_block *b = a->head;
	while (b != NULL) {
		struct arena_block *next = b->next;
		if (keep == NULL && b->size == ARENA_BLOCK) {
			keep = b;
		} else {
			free(b);
		}
		b = next;
	}
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
	}
	a->head = keep;
	a->spent = 0;
}

void imap_arena_trim(struct imap_arena *a)
{
	imap_arena_reset(a);
	free(a->head);
	a->head = NULL;
}

void imap_arena_free(struct imap_arena **ap)
{
	if (*ap == NULL)
		return;
	imap_arena_reset(*ap);
	free((*ap)->head);
	free(*ap);
	*ap = NULL;
}

void *imap_arena_alloc(struct imap_arena *a, size_t n)
{
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need > a->budget - a->spent || a->spent > a->budget)
		return NULL;
	struct arena_block *b = a->head;
	if (b == NULL || b->size - b->used < need) {
		/* Big requests get a block of their own, so a large kept literal
		 * does not leave a large block behind after reset. */
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		/* UNSAFE: size <= budget, which is far below SIZE_MAX */
		b = xmalloc(sizeof *b + size);
		b->size = size;
		b->used = 0;
		b->pad = 0;
		if (a->head != NULL && a->head->size - a->head->used >= ARENA_ALIGN &&
		    size > ARENA_BLOCK) {
			/* keep filling the current block: put the big one behind */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	unsigned char *p = block_data(b) + b->used;
	b->used += need;
	a->spent += need;
	memset(p, 0, n);
	return p;
}

void *imap_arena_calloc(struct imap_arena *a, size_t nmemb, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n))
		return NULL;
	return imap_arena_alloc(a, n);
}

int imap_arena_span(struct imap_arena *a, struct span s, struct span *out)
{
	if (s.len == SIZE_MAX)
		return -1;
	unsigned char *p = imap_arena_alloc(a, s.len + 1);
	if (p == NULL)
		return -1;
	if (s.len > 0)
		memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	*out = span_make(p, s.len);
	return 0;
}
