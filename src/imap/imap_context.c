/* imap_context.c - updating search contexts (RFC 5267 4.3): a SEARCH or
 * SORT with RETURN (UPDATE) keeps its program and result here, by UID,
 * and the session's syncs tell the client how the result changes:
 * REMOVEFROM before the EXPUNGE of a member, ADDTO after the EXISTS of a
 * new match, either when flags change what matches. SEARCH results carry
 * context position 0 (RFC 5267 4.3.3); SORT results the 1-based position
 * in sort order, each pair applied in turn. Only messages whose modseq
 * rose since a context last looked are matched again, so an idle context
 * costs one pass over the modseqs per reply.
 *
 * Programs whose result depends on sequence numbers, the saved result
 * ("$") or the clock (OLDER, YOUNGER) could not be kept right by looking
 * at changed messages only; such an UPDATE is refused with NOUPDATE
 * (RFC 5267 4.3.1 lets a server refuse) and the command still answers. */
#include "imap/imap_private.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "imap/imap_context.h"

struct centry {
	struct imap_sort_msg k;	/* k.seq holds the UID: it orders as the
				 * sequence number does and never changes */
	struct buf mem;
};

struct context {
	char tag[IMAP_TAG_MAX + 1];
	size_t tag_len;
	bool uid;
	bool sort;
	struct imap_sort_criterion crit[IMAP_SORT_MAX_CRITERIA];
	size_t n_crit;
	struct imap_search_key *program;
	void **blocks;		/* the program's memory */
	size_t n_blocks;
	uint64_t seen_modseq;	/* messages above it are matched again */
	uint32_t seen_uid;	/* and messages past it */
	uint32_t *uids;		/* the result, ascending */
	size_t n, cap;
	struct centry **order;	/* SORT: the result in sort order */
	struct centry **byuid;	/* SORT: the same, as uids[] */
};

struct imap_contexts {
	struct context *v[IMAP_MAX_UPDATE_CONTEXTS];
	size_t n;
};

/* ---- the program, copied out of the command's arena ---------------------- */

static void *block(struct context *c, size_t n)
{
	c->blocks = xreallocarray(c->blocks, c->n_blocks + 1, sizeof *c->blocks);
	void *p = xcalloc(1, n ? n : 1);
	c->blocks[c->n_blocks++] = p;
	return p;
}

static struct span copy_span(struct context *c, struct span s)
{
	unsigned char *p = block(c, s.len + 1);
	if (s.len > 0)
		memcpy(p, s.p, s.len);
	return span_make(p, s.len);
}

/* Depth is bounded by the search parser's IMAP_SEARCH_MAX_DEPTH. */
static void copy_key(struct context *c, struct imap_search_key *dst,
		     const struct imap_search_key *src)
{
	*dst = *src;
	dst->str = copy_span(c, src->str);
	dst->field = copy_span(c, src->field);
	dst->entry = copy_span(c, src->entry);
	dst->seqset.ranges = NULL;
	dst->children = NULL;
	if (src->seqset.n > 0) {
		struct imap_seq_range *r = block(c, src->seqset.n * sizeof *r);
		memcpy(r, src->seqset.ranges, src->seqset.n * sizeof *r);
		dst->seqset.ranges = r;
	}
	if (src->nchildren > 0) {
		struct imap_search_key *ch = block(c, src->nchildren * sizeof *ch);
		for (size_t i = 0; i < src->nchildren; i++)
			copy_key(c, &ch[i], &src->children[i]);
		dst->children = ch;
	}
}

/* Can changes be followed by matching changed messages only? */
static bool updatable(const struct imap_search_key *k)
{
	switch (k->type) {
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_OLDER:
	case IMAP_SEARCH_YOUNGER:
		return false;
	case IMAP_SEARCH_UID:
		if (k->seqset.saved)
			return false;
		break;
	default:
		break;
	}
	for (size_t i = 0; i < k->nchildren; i++)
		if (!updatable(&k->children[i]))
			return false;
	return true;
}

static void context_free(struct context *c)
{
	for (size_t i = 0; i < c->n_blocks; i++)
		free(c->blocks[i]);
	free(c->blocks);
	if (c->order != NULL)
		for (size_t i = 0; i < c->n; i++) {
			buf_release(&c->order[i]->mem);
			free(c->order[i]);
		}
	free(c->order);
	free(c->byuid);
	free(c->uids);
	free(c);
}

/* ---- registry ------------------------------------------------------------- */

static struct context *find(const struct imap_session *s, struct span tag, size_t *pos)
{
	if (s->contexts == NULL)
		return NULL;
	for (size_t i = 0; i < s->contexts->n; i++) {
		struct context *c = s->contexts->v[i];
		if (c->tag_len == tag.len && memcmp(c->tag, tag.p, tag.len) == 0) {
			if (pos != NULL)
				*pos = i;
			return c;
		}
	}
	return NULL;
}

bool imap_context_tag_active(const struct imap_session *s, struct span tag)
{
	return find(s, tag, NULL) != NULL;
}

int imap_context_add(struct imap_session *s, struct span tag, bool uid,
		     const struct imap_search_key *program,
		     const struct imap_sort_criterion *crit, size_t n_crit,
		     const uint32_t *idx, size_t n, struct imap_sortset *ss,
		     const char **why)
{
	if (!updatable(program)) {
		*why = "Cannot follow message numbers, $ or time";
		return -1;
	}
	if (s->contexts != NULL && s->contexts->n == IMAP_MAX_UPDATE_CONTEXTS) {
		*why = "Too many contexts";
		return -1;
	}
	if (tag.len > IMAP_TAG_MAX || n_crit > IMAP_SORT_MAX_CRITERIA) {
		*why = "Cannot keep this context";
		return -1;
	}
	if (s->contexts == NULL)
		s->contexts = xcalloc(1, sizeof *s->contexts);
	struct context *c = xcalloc(1, sizeof *c);
	memcpy(c->tag, tag.p, tag.len);
	c->tag_len = tag.len;
	c->uid = uid;
	c->program = block(c, sizeof *c->program);
	copy_key(c, c->program, program);
	c->cap = n ? n : 1;
	c->uids = xreallocarray(NULL, c->cap, sizeof *c->uids);
	for (size_t i = 0; i < n; i++)
		c->uids[i] = s->msgs[idx[i]].uid;
	c->n = n;
	if (crit != NULL) {
		c->sort = true;
		memcpy(c->crit, crit, n_crit * sizeof *crit);
		c->n_crit = n_crit;
		c->order = xreallocarray(NULL, c->cap, sizeof *c->order);
		c->byuid = xreallocarray(NULL, c->cap, sizeof *c->byuid);
		for (size_t i = 0; i < n; i++) {
			/* keys[k] belongs to idx[k], and idx ascends as uids */
			size_t k = (size_t)(ss->v[i] - ss->keys);
			struct centry *e = xcalloc(1, sizeof *e);
			e->k = ss->keys[k];
			e->k.seq = s->msgs[idx[k]].uid;
			e->mem = ss->mem[k];	/* the spans move with it */
			memset(&ss->mem[k], 0, sizeof ss->mem[k]);
			c->order[i] = e;
			c->byuid[k] = e;
		}
		imap_sortset_free(ss);
	}
	for (uint32_t i = 0; i < s->n_msgs; i++)
		if (s->msgs[i].modseq > c->seen_modseq)
			c->seen_modseq = s->msgs[i].modseq;
	c->seen_uid = s->n_msgs ? s->msgs[s->n_msgs - 1].uid : 0;
	s->contexts->v[s->contexts->n++] = c;
	return 0;
}

int imap_context_cancel(struct imap_session *s, struct span tag)
{
	size_t pos;
	struct context *c = find(s, tag, &pos);
	if (c == NULL)
		return -1;
	context_free(c);
	struct imap_contexts *cs = s->contexts;
	memmove(&cs->v[pos], &cs->v[pos + 1], (cs->n - pos - 1) * sizeof cs->v[0]);
	cs->n--;
	return 0;
}

void imap_context_free_all(struct imap_session *s)
{
	if (s->contexts == NULL)
		return;
	for (size_t i = 0; i < s->contexts->n; i++)
		context_free(s->contexts->v[i]);
	free(s->contexts);
	s->contexts = NULL;
}

/* ---- the result ----------------------------------------------------------- */

/* Index of uid in c->uids, or where it would go (*found false). */
static size_t uid_pos(const struct context *c, uint32_t uid, bool *found)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < c->n && c->uids[lo] == uid;
	return lo;
}

static void uid_insert(struct context *c, size_t at, uint32_t uid)
{
	if (c->n == c->cap) {
		c->cap *= 2;
		c->uids = xreallocarray(c->uids, c->cap, sizeof *c->uids);
		if (c->order != NULL) {
			c->order = xreallocarray(c->order, c->cap, sizeof *c->order);
			c->byuid = xreallocarray(c->byuid, c->cap, sizeof *c->byuid);
		}
	}
	memmove(&c->uids[at + 1], &c->uids[at], (c->n - at) * sizeof *c->uids);
	c->uids[at] = uid;
	if (c->byuid != NULL)
		memmove(&c->byuid[at + 1], &c->byuid[at], (c->n - at) * sizeof *c->byuid);
}

/* What the client calls uid: the UID, or its sequence number now. */
static uint32_t number(const struct imap_session *s, const struct context *c,
		       uint32_t uid)
{
	if (c->uid)
		return uid;
	long i = imap_msg_find(s, uid);
	return i < 0 ? 0 : (uint32_t)i + 1;
}

/* One update line in the making. SORT contexts tell each change as a
 * (position number) pair in turn; SEARCH ones (position 0) collect the
 * numbers and tell them as two sets, removals first. */
struct line {
	struct buf b;
	const char *item;	/* the open item, NULL if none */
	bool any;
	uint32_t *rm, *add;
	size_t n_rm, n_add, cap_rm, cap_add;
};

static const char REMOVEFROM[] = "REMOVEFROM";
static const char ADDTO[] = "ADDTO";

static void line_begin(struct line *l, const struct context *c)
{
	memset(l, 0, sizeof *l);
	buf_init(&l->b, IMAP_OUT_MAX);
	imap_out_str(&l->b, "* ESEARCH (TAG ");
	imap_out_string(&l->b, span_make(c->tag, c->tag_len));
	imap_out_str(&l->b, c->uid ? ") UID" : ")");
}

static void line_pair(struct line *l, const char *item, uint32_t pos, uint32_t num)
{
	if (l->item != NULL && l->item != item) {
		imap_out_str(&l->b, ")");
		l->item = NULL;
	}
	if (l->item != NULL)
		imap_out_fmt(&l->b, " %u %u", pos, num);
	else
		imap_out_fmt(&l->b, " %s (%u %u", item, pos, num);
	l->item = item;
	l->any = true;
}

static void push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*n)++] = x;
}

static void line_note(struct line *l, const char *item, uint32_t num)
{
	if (item == REMOVEFROM)
		push(&l->rm, &l->n_rm, &l->cap_rm, num);
	else
		push(&l->add, &l->n_add, &l->cap_add, num);
}

static void line_end(struct imap_session *s, struct line *l)
{
	if (l->item != NULL)
		imap_out_str(&l->b, ")");
	if (l->n_rm > 0) {
		imap_out_str(&l->b, " REMOVEFROM (0 ");
		imap_out_uidset(&l->b, l->rm, l->n_rm);
		imap_out_str(&l->b, ")");
	}
	if (l->n_add > 0) {
		imap_out_str(&l->b, " ADDTO (0 ");
		imap_out_uidset(&l->b, l->add, l->n_add);
		imap_out_str(&l->b, ")");
	}
	if (l->any || l->n_rm > 0 || l->n_add > 0) {
		imap_out_str(&l->b, "\r\n");
		imap_out_bytes(&s->out, l->b.data, l->b.len);
	}
	buf_release(&l->b);
	free(l->rm);
	free(l->add);
}

/* SORT: where e sits in c->order (by sort order, UID breaking ties). */
static size_t order_pos(const struct context *c, const struct centry *e)
{
	size_t lo = 0, hi = c->n;
	const struct imap_sort_msg *x = &e->k;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (imap_sort_compare(x, &c->order[mid]->k, c->crit, c->n_crit) < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Remove uid (a member at uids[at]); told in l. */
static void remove_member(struct imap_session *s, struct context *c, size_t at,
			  struct line *l)
{
	uint32_t uid = c->uids[at];
	uint32_t num = number(s, c, uid);
	if (c->sort) {
		/* its keys are unique (the UID breaks ties) and unchanged, so
		 * a binary search finds it: just past it is where it would go */
		struct centry *e = c->byuid[at];
		size_t p = order_pos(c, e);
		assert(p > 0 && c->order[p - 1] == e);
		p--;
		memmove(&c->order[p], &c->order[p + 1], (c->n - p - 1) * sizeof *c->order);
		memmove(&c->byuid[at], &c->byuid[at + 1], (c->n - at - 1) * sizeof *c->byuid);
		buf_release(&e->mem);
		free(e);
		line_pair(l, REMOVEFROM, (uint32_t)p + 1, num);
	} else {
		line_note(l, REMOVEFROM, num);
	}
	memmove(&c->uids[at], &c->uids[at + 1], (c->n - at - 1) * sizeof *c->uids);
	c->n--;
}

/* Add s->msgs[i] (not a member; its UID goes at uids[at]); told in l. */
static void add_member(struct imap_session *s, struct context *c, uint32_t i,
		       size_t at, struct line *l)
{
	uint32_t uid = s->msgs[i].uid;
	uint32_t num = number(s, c, uid);
	uid_insert(c, at, uid);
	if (c->sort) {
		struct imap_sortset one;
		imap_sortset_load(s, &i, 1, c->uid, &one);
		struct centry *e = xcalloc(1, sizeof *e);
		e->k = one.keys[0];
		e->k.seq = uid;
		e->mem = one.mem[0];
		memset(&one.mem[0], 0, sizeof one.mem[0]);
		imap_sortset_free(&one);
		size_t p = order_pos(c, e);
		memmove(&c->order[p + 1], &c->order[p], (c->n - p) * sizeof *c->order);
		c->order[p] = e;
		c->byuid[at] = e;
		c->n++;
		line_pair(l, ADDTO, (uint32_t)p + 1, num);
	} else {
		c->n++;
		line_note(l, ADDTO, num);
	}
}

void imap_context_expunging(struct imap_session *s, const struct imap_msg *now,
			    uint32_t n_now)
{
	if (s->contexts == NULL || s->contexts->n == 0)
		return;
	for (size_t k = 0; k < s->contexts->n; k++) {
		struct context *c = s->contexts->v[k];
		struct line l;
		line_begin(&l, c);
		/* both ascend by UID */
		size_t j = 0, i = 0;
		while (i < c->n) {
			uint32_t uid = c->uids[i];
			while (j < n_now && now[j].uid < uid)
				j++;
			if (j < n_now && now[j].uid == uid)
				i++;
			else
				remove_member(s, c, i, &l);
		}
		line_end(s, &l);
	}
}

void imap_context_update(struct imap_session *s)
{
	if (s->contexts == NULL || s->contexts->n == 0 || s->state != IMAP_S_SELECTED)
		return;
	for (size_t k = 0; k < s->contexts->n; k++) {
		struct context *c = s->contexts->v[k];
		uint64_t top = c->seen_modseq;
		uint32_t last = c->seen_uid;
		struct line l;
		line_begin(&l, c);
		for (uint32_t i = 0; i < s->n_msgs; i++) {
			const struct imap_msg *m = &s->msgs[i];
			if (m->modseq <= c->seen_modseq && m->uid <= c->seen_uid)
				continue;
			if (m->modseq > top)
				top = m->modseq;
			if (m->uid > last)
				last = m->uid;
			bool member;
			size_t at = uid_pos(c, m->uid, &member);
			bool hit = imap_search_match(s, c->program, i);
			if (hit && !member)
				add_member(s, c, i, at, &l);
			else if (!hit && member)
				remove_member(s, c, at, &l);
		}
		line_end(s, &l);
		c->seen_modseq = top;
		c->seen_uid = last;
	}
}
