/* imap_thread.c - THREAD's half of imap_sort.h: ORDEREDSUBJECT and
 * REFERENCES (RFC 5256 2.2) over keys the caller read, and the thread
 * list they answer with (RFC 5256 4). Trees are arrays of nodes linked by
 * index, walked with explicit stacks: a hostile References chain 10,000
 * deep costs memory in proportion, never C stack. */
#include "imap/imap_sort.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define NONE UINT32_MAX

struct node {
	uint32_t parent, first, last, prev, next;
	uint32_t nchildren;
	uint32_t msg;		/* index into v, NONE for a dummy */
};

struct tree {
	struct node *n;
	size_t len, cap;
	const struct imap_sort_msg *const *v;
};

static uint32_t node_new(struct tree *t, uint32_t msg)
{
	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->n = xreallocarray(t->n, t->cap, sizeof *t->n);
	}
	struct node *x = &t->n[t->len];
	x->parent = x->first = x->last = x->prev = x->next = NONE;
	x->nchildren = 0;
	x->msg = msg;
	return (uint32_t)t->len++;
}

static void node_unlink(struct tree *t, uint32_t c)
{
	struct node *x = &t->n[c];
	if (x->parent == NONE)
		return;
	struct node *p = &t->n[x->parent];
	if (x->prev != NONE)
		t->n[x->prev].next = x->next;
	else
		p->first = x->next;
	if (x->next != NONE)
		t->n[x->next].prev = x->prev;
	else
		p->last = x->prev;
	p->nchildren--;
	x->parent = x->prev = x->next = NONE;
}

/* c (unlinked) as p's child, before `before` (NONE: last). */
static void node_insert(struct tree *t, uint32_t p, uint32_t c, uint32_t before)
{
	struct node *x = &t->n[c], *pp = &t->n[p];
	x->parent = p;
	x->next = before;
	x->prev = before == NONE ? pp->last : t->n[before].prev;
	if (x->prev != NONE)
		t->n[x->prev].next = c;
	else
		pp->first = c;
	if (before != NONE)
		t->n[before].prev = c;
	else
		pp->last = c;
	pp->nchildren++;
}

/* Is a an ancestor of b (or b itself)? A node without children is an
 * ancestor only of itself, which keeps the common case (a new message, a
 * new dummy) O(1) instead of a walk up a long chain. */
static bool is_ancestor(const struct tree *t, uint32_t a, uint32_t b)
{
	if (t->n[a].first == NONE)
		return a == b;
	for (size_t steps = 0; b != NONE && steps <= t->len; steps++) {
		if (b == a)
			return true;
		b = t->n[b].parent;
	}
	return false;
}

/* The message a node sorts by: its own, or for a dummy its first child's
 * (RFC 5256 2.2 steps 4 and 6). NONE for an empty dummy. */
static uint32_t sort_msg(const struct tree *t, uint32_t x)
{
	for (size_t steps = 0; x != NONE && t->n[x].msg == NONE && steps <= t->len; steps++)
		x = t->n[x].first;
	return x == NONE ? NONE : t->n[x].msg;
}

static int date_cmp(const struct tree *t, uint32_t a, uint32_t b)
{
	uint32_t ma = sort_msg(t, a), mb = sort_msg(t, b);
	if (ma == NONE || mb == NONE)
		return (ma == NONE) - (mb == NONE);
	const struct imap_sort_msg *x = t->v[ma], *y = t->v[mb];
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int node_cmp(const void *pa, const void *pb, void *arg)
{
	return date_cmp(arg, *(const uint32_t *)pa, *(const uint32_t *)pb);
}

/* Sort p's children by sent date; scratch has room for all nodes. */
static void sort_children(struct tree *t, uint32_t p, uint32_t *scratch)
{
	size_t k = 0;
	for (uint32_t c = t->n[p].first; c != NONE; c = t->n[c].next)
		scratch[k++] = c;
	if (k < 2)
		return;
	qsort_r(scratch, k, sizeof *scratch, node_cmp, t);
	t->n[p].first = scratch[0];
	t->n[p].last = scratch[k - 1];
	for (size_t i = 0; i < k; i++) {
		t->n[scratch[i]].prev = i ? scratch[i - 1] : NONE;
		t->n[scratch[i]].next = i + 1 < k ? scratch[i + 1] : NONE;
	}
}

/* The nodes under r in pre-order (r excluded) into order; their count. */
static size_t preorder(const struct tree *t, uint32_t r, uint32_t *order,
		       uint32_t *stack)
{
	size_t n = 0, sp = 0;
	for (uint32_t c = t->n[r].last; c != NONE; c = t->n[c].prev)
		stack[sp++] = c;
	while (sp > 0) {
		uint32_t x = stack[--sp];
		order[n++] = x;
		for (uint32_t c = t->n[x].last; c != NONE; c = t->n[c].prev)
			stack[sp++] = c;
	}
	return n;
}

/* ---- the thread list (RFC 5256 4) ---------------------------------------- */

enum { EMIT_NODE, EMIT_NODE_SP, EMIT_OPEN, EMIT_CLOSE };

struct emit_item {
	uint32_t node;
	int what;
};

/* "(" thread ")" for each child of root. A node's one child continues
 * its list ("1 2 3"); several children are nested lists "(4)(5)". */
static int emit(const struct tree *t, uint32_t root, struct buf *out)
{
	struct emit_item *st = xreallocarray(NULL, t->len * 3 + 4, sizeof *st);
	size_t sp = 0;
	int rc = 0;
	for (uint32_t r = t->n[root].last; r != NONE; r = t->n[r].prev) {
		st[sp++] = (struct emit_item){ NONE, EMIT_CLOSE };
		st[sp++] = (struct emit_item){ r, EMIT_NODE };
		st[sp++] = (struct emit_item){ NONE, EMIT_OPEN };
	}
	while (sp > 0 && rc == 0) {
		struct emit_item it = st[--sp];
		if (it.what == EMIT_OPEN) {
			rc = buf_append(out, "(", 1);
			continue;
		}
		if (it.what == EMIT_CLOSE) {
			rc = buf_append(out, ")", 1);
			continue;
		}
		const struct node *x = &t->n[it.node];
		bool sp_before = it.what == EMIT_NODE_SP;
		if (x->msg != NONE) {
			char num[16];
			int k = snprintf(num, sizeof num, "%s%u", sp_before ? " " : "",
					 t->v[x->msg]->number);
			rc = buf_append(out, num, (size_t)k);
			sp_before = true;
		}
		if (rc != 0 || x->nchildren == 0)
			continue;
		if (x->nchildren == 1 && x->msg != NONE) {
			st[sp++] = (struct emit_item){ x->first, EMIT_NODE_SP };
			continue;
		}
		if (sp_before)
			rc = buf_append(out, " ", 1);
		for (uint32_t c = x->last; c != NONE; c = t->n[c].prev) {
			st[sp++] = (struct emit_item){ NONE, EMIT_CLOSE };
			st[sp++] = (struct emit_item){ c, EMIT_NODE };
			st[sp++] = (struct emit_item){ NONE, EMIT_OPEN };
		}
	}
	free(st);
	return rc;
}

/* ---- ORDEREDSUBJECT ------------------------------------------------------ */

static int subject_date_cmp(const void *pa, const void *pb, void *arg)
{
	const struct tree *t = arg;
	const struct imap_sort_msg *a = t->v[*(const uint32_t *)pa];
	const struct imap_sort_msg *b = t->v[*(const uint32_t *)pb];
	size_t n = a->subject.len < b->subject.len ? a->subject.len : b->subject.len;
	int c = n ? memcmp(a->subject.p, b->subject.p, n) : 0;
	if (c == 0 && a->subject.len != b->subject.len)
		c = a->subject.len < b->subject.len ? -1 : 1;
	if (c != 0)
		return c;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool same_subject(const struct imap_sort_msg *a, const struct imap_sort_msg *b)
{
	return a->subject.len == b->subject.len &&
	       (a->subject.len == 0 || memcmp(a->subject.p, b->subject.p, a->subject.len) == 0);
}

/* RFC 5256 2.2 ORDEREDSUBJECT: sort by base subject and sent date; each
 * run of one subject is a thread whose first message is the parent of
 * the others; threads in the order of their first message's date. */
static void ordered_subject(struct tree *t, uint32_t root, size_t n)
{
	uint32_t *ix = xreallocarray(NULL, n ? n : 1, sizeof *ix);
	for (size_t i = 0; i < n; i++)
		ix[i] = (uint32_t)i;
	qsort_r(ix, n, sizeof *ix, subject_date_cmp, t);
	uint32_t parent = NONE;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = node_new(t, ix[i]);
		if (i > 0 && parent != NONE && same_subject(t->v[ix[i - 1]], t->v[ix[i]])) {
			node_insert(t, parent, x, NONE);
		} else {
			node_insert(t, root, x, NONE);
			parent = x;
		}
	}
	free(ix);
	uint32_t *scratch = xreallocarray(NULL, t->len, sizeof *scratch);
	sort_children(t, root, scratch);
	free(scratch);
}

/* ---- REFERENCES ------------------------------------------------------------ */

/* Message ids to containers; open addressing, FNV-1a. */
struct idtab {
	struct span *key;
	uint32_t *node;
	size_t cap, used;
};

static uint64_t hash_span(struct span s)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < s.len; i++) {
		h ^= s.p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool span_same(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static size_t idtab_slot(const struct idtab *h, struct span id)
{
	size_t i = (size_t)hash_span(id) & (h->cap - 1);
	while (h->node[i] != NONE && !span_same(h->key[i], id))
		i = (i + 1) & (h->cap - 1);
	return i;
}

static void idtab_grow(struct idtab *h)
{
	struct idtab old = *h;
	h->cap = old.cap ? old.cap * 2 : 256;
	h->key = xreallocarray(NULL, h->cap, sizeof *h->key);
	h->node = xreallocarray(NULL, h->cap, sizeof *h->node);
	for (size_t i = 0; i < h->cap; i++)
		h->node[i] = NONE;
	for (size_t i = 0; i < old.cap; i++)
		if (old.node[i] != NONE) {
			size_t k = idtab_slot(h, old.key[i]);
			h->key[k] = old.key[i];
			h->node[k] = old.node[i];
		}
	free(old.key);
	free(old.node);
}

static uint32_t idtab_get(const struct idtab *h, struct span id)
{
	if (h->cap == 0)
		return NONE;
	return h->node[idtab_slot(h, id)];
}

static void idtab_put(struct idtab *h, struct span id, uint32_t node)
{
	if ((h->used + 1) * 2 > h->cap)
		idtab_grow(h);
	size_t k = idtab_slot(h, id);
	if (h->node[k] == NONE)
		h->used++;
	h->key[k] = id;
	h->node[k] = node;
}

static void idtab_free(struct idtab *h)
{
	free(h->key);
	free(h->node);
	memset(h, 0, sizeof *h);
}

/* The next "<id>" of a field value: msg-id (RFC 5322 3.6.4) between angle
 * brackets; words outside them (phrases in old In-Reply-To fields) are
 * not ids. 0 at the end. */
static int next_msgid(struct span v, size_t *pos, struct span *id)
{
	size_t i = *pos;
	while (i < v.len) {
		const unsigned char *lt = memchr(v.p + i, '<', v.len - i);
		if (lt == NULL)
			break;
		size_t s = (size_t)(lt - v.p) + 1;
		const unsigned char *gt = memchr(v.p + s, '>', v.len - s);
		if (gt == NULL)
			break;
		size_t e = (size_t)(gt - v.p);
		i = e + 1;
		if (e > s) {
			*id = span_make(v.p + s, e - s);
			*pos = i;
			return 1;
		}
	}
	*pos = v.len;
	return 0;
}

/* The container for id, a new dummy if there is none. */
static uint32_t container_for(struct tree *t, struct idtab *h, struct span id)
{
	uint32_t x = idtab_get(h, id);
	if (x == NONE) {
		x = node_new(t, NONE);
		idtab_put(h, id, x);
	}
	return x;
}

/* RFC 5256 2.2 REFERENCES step 1: containers and their links. */
static void link_messages(struct tree *t, size_t n)
{
	struct idtab h = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct imap_sort_msg *m = t->v[i];
		/* (A) its container: a dummy waiting for its id, or a new
		 * one; a repeated or missing id gets a container of its own */
		struct span id;
		size_t pos = 0;
		uint32_t c;
		if (next_msgid(m->message_id, &pos, &id) == 1) {
			c = idtab_get(&h, id);
			if (c != NONE && t->n[c].msg == NONE) {
				t->n[c].msg = (uint32_t)i;
			} else {
				uint32_t fresh = node_new(t, (uint32_t)i);
				if (c == NONE)
					idtab_put(&h, id, fresh);
				c = fresh;
			}
		} else {
			c = node_new(t, (uint32_t)i);
		}
		/* (B) link the references in order, keeping existing links
		 * and never making a loop; In-Reply-To's first id stands in
		 * for a missing References */
		struct span refs = m->references;
		pos = 0;
		if (next_msgid(refs, &pos, &id) != 1) {
			refs = m->in_reply_to;
			pos = 0;
			if (next_msgid(refs, &pos, &id) == 1)
				refs = span_make(id.p - 1, id.len + 2);
		}
		pos = 0;
		uint32_t prev = NONE;
		while (next_msgid(refs, &pos, &id) == 1) {
			uint32_t r = container_for(t, &h, id);
			if (prev != NONE && t->n[r].parent == NONE &&
			    !is_ancestor(t, r, prev)) {
				node_insert(t, prev, r, NONE);
			}
			prev = r;
		}
		/* (C) this message's parent is its last reference, whatever
		 * a reply said before; no references: a root */
		if (prev == NONE) {
			node_unlink(t, c);
		} else if (!is_ancestor(t, c, prev)) {
			node_unlink(t, c);
			node_insert(t, prev, c, NONE);
		}
	}
	idtab_free(&h);
}

/* Step 3: dummies go; their children move up, but into the root only
 * when there is one (a thread of several under one lost parent stays
 * together). */
static void prune(struct tree *t, uint32_t root, uint32_t *order, uint32_t *stack)
{
	size_t k = preorder(t, root, order, stack);
	/* reversed pre-order: every node after its descendants */
	while (k-- > 0) {
		uint32_t x = order[k];
		struct node *d = &t->n[x];
		if (d->msg != NONE)
			continue;
		if (d->nchildren == 0) {
			node_unlink(t, x);
			continue;
		}
		uint32_t p = d->parent;
		if (p == root && d->nchildren > 1)
			continue;
		while (t->n[x].first != NONE) {
			uint32_t c = t->n[x].first;
			node_unlink(t, c);
			node_insert(t, p, c, x);
		}
		node_unlink(t, x);
	}
}

/* Subjects to the thread that holds them (step 5). */
struct subjtab {
	struct span *key;
	uint32_t *node;
	size_t cap;
};

static size_t subj_slot(const struct subjtab *h, struct span s)
{
	size_t i = (size_t)hash_span(s) & (h->cap - 1);
	while (h->node[i] != NONE && !span_same(h->key[i], s))
		i = (i + 1) & (h->cap - 1);
	return i;
}

static bool is_dummy(const struct tree *t, uint32_t x)
{
	return t->n[x].msg == NONE;
}

static bool is_refwd(const struct tree *t, uint32_t x)
{
	return !is_dummy(t, x) && t->v[t->n[x].msg]->refwd;
}

/* The base subject of a root: its own, or its first child's. */
static struct span root_subject(const struct tree *t, uint32_t x)
{
	uint32_t m = sort_msg(t, x);
	return m == NONE ? span_make("", 0) : t->v[m]->subject;
}

static void move_children(struct tree *t, uint32_t from, uint32_t to)
{
	while (t->n[from].first != NONE) {
		uint32_t c = t->n[from].first;
		node_unlink(t, c);
		node_insert(t, to, c, NONE);
	}
}

/* Step 5: threads whose roots share a base subject are merged. */
static void group_subjects(struct tree *t, uint32_t root, uint32_t *roots)
{
	size_t nr = 0;
	for (uint32_t r = t->n[root].first; r != NONE; r = t->n[r].next)
		roots[nr++] = r;
	struct subjtab h;
	h.cap = 16;
	while (h.cap < nr * 2 + 2)
		h.cap *= 2;
	h.key = xreallocarray(NULL, h.cap, sizeof *h.key);
	h.node = xreallocarray(NULL, h.cap, sizeof *h.node);
	for (size_t i = 0; i < h.cap; i++)
		h.node[i] = NONE;
	/* (B) one thread per subject: a dummy before a message, a
	 * message before a reply or forward */
	for (size_t i = 0; i < nr; i++) {
		uint32_t x = roots[i];
		struct span s = root_subject(t, x);
		if (s.len == 0)
			continue;
		size_t k = subj_slot(&h, s);
		uint32_t old = h.node[k];
		if (old == NONE ||
		    (!is_dummy(t, old) &&
		     (is_dummy(t, x) || (is_refwd(t, old) && !is_refwd(t, x))))) {
			h.key[k] = s;
			h.node[k] = x;
		}
	}
	/* (C) merge the others into it */
	for (size_t i = 0; i < nr; i++) {
		uint32_t x = roots[i];
		if (t->n[x].parent != root)
			continue;	/* merged already */
		struct span s = root_subject(t, x);
		if (s.len == 0)
			continue;
		size_t k = subj_slot(&h, s);
		uint32_t old = h.node[k];
		if (old == x || old == NONE)
			continue;
		if (is_dummy(t, old) && is_dummy(t, x)) {
			move_children(t, x, old);
			node_unlink(t, x);
		} else if (is_dummy(t, old)) {
			node_unlink(t, x);
			node_insert(t, old, x, NONE);
		} else if (is_dummy(t, x)) {
			node_unlink(t, old);
			node_insert(t, x, old, NONE);
			h.node[k] = x;
		} else if (is_refwd(t, x) && !is_refwd(t, old)) {
			node_unlink(t, x);
			node_insert(t, old, x, NONE);
		} else {
			uint32_t d = node_new(t, NONE);
			node_insert(t, root, d, old);
			node_unlink(t, old);
			node_unlink(t, x);
			node_insert(t, d, old, NONE);
			node_insert(t, d, x, NONE);
			h.node[k] = d;
		}
	}
	free(h.key);
	free(h.node);
}

static void references(struct tree *t, uint32_t root, size_t n)
{
	link_messages(t, n);
	/* (2) every container without a parent is a thread under root */
	size_t made = t->len;
	for (size_t x = 0; x < made; x++)
		if (x != root && t->n[x].parent == NONE)
			node_insert(t, root, (uint32_t)x, NONE);
	/* scratch for the walks: step 5 adds at most one node per root */
	size_t room = t->len * 2 + 2;
	uint32_t *order = xreallocarray(NULL, room, sizeof *order);
	uint32_t *stack = xreallocarray(NULL, room, sizeof *stack);
	/* (3) */
	prune(t, root, order, stack);
	/* (4) roots by date, a dummy by its earliest child */
	for (uint32_t r = t->n[root].first; r != NONE; r = t->n[r].next)
		if (is_dummy(t, r))
			sort_children(t, r, stack);
	sort_children(t, root, stack);
	/* (5) */
	group_subjects(t, root, order);
	/* (6) every set of siblings by date, deepest first */
	size_t k = preorder(t, root, order, stack);
	while (k-- > 0)
		sort_children(t, order[k], stack);
	sort_children(t, root, stack);
	free(order);
	free(stack);
}

int imap_thread_build(enum imap_thread_alg alg,
		      const struct imap_sort_msg *const *v, size_t n,
		      struct buf *out)
{
	struct tree t = { .v = v };
	uint32_t root = node_new(&t, NONE);
	if (alg == IMAP_THREAD_ORDEREDSUBJECT)
		ordered_subject(&t, root, n);
	else
		references(&t, root, n);
	int rc = emit(&t, root, out);
	free(t.n);
	return rc;
}
