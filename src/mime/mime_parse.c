/* mime_parse.c - the MIME tree: one pass over the lines of a message with
 * a stack of active multipart boundaries (RFC 2046 5.1), header blocks
 * read as they come (RFC 5322 2.2), message/rfc822 bodies parsed as
 * messages (RFC 2046 5.2.1). Only offsets and a few field values are
 * kept; the message itself is never copied. Header text decoding and the
 * IMAP views live in the other mime_*.c files. */
#include "mime/mime_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* ----- arena ---------------------------------------------------------- */

struct mime_chunk {
	struct mime_chunk *next;
	size_t size, used;
	unsigned char data[];
};

void *mime_arena_alloc(struct mime_fields *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct mime_chunk *c = a->head;
	if (c == NULL || c->size - c->used < n) {
		size_t sz = a->next_size < 1024 ? 1024 : a->next_size;
		while (sz < n)
			sz *= 2;
		c = xmalloc(sizeof *c + sz);
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		if (sz <= (SIZE_MAX / 4))
			a->next_size = sz * 2 > 65536 ? 65536 : sz * 2;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

void mime_arena_release(struct mime_fields *a)
{
	struct mime_chunk *c = a->head;
	while (c != NULL) {
		struct mime_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->next_size = 0;
}

struct span mime_arena_dup(struct mime_fields *a, const void *p, size_t n)
{
	unsigned char *d = mime_arena_alloc(a, n ? n : 1);
	if (n)
		memcpy(d, p, n);
	return span_make(d, n);
}

void mime_fields_free(struct mime_fields **ctxp)
{
	if (*ctxp == NULL)
		return;
	mime_arena_release(*ctxp);
	free(*ctxp);
	*ctxp = NULL;
}

void mime_limits_default(struct mime_limits *lim)
{
	lim->max_depth = MIME_MAX_DEPTH_DEFAULT;
	lim->max_parts = MIME_MAX_PARTS_DEFAULT;
	lim->max_headers = MIME_MAX_HEADERS_DEFAULT;
	lim->max_header_size = MIME_MAX_HEADER_SIZE_DEFAULT;
}

/* ----- parser state ---------------------------------------------------- */

struct boundary {
	struct span b;		/* without the leading "--" */
	uint32_t part;		/* the multipart it delimits */
};

struct pctx {
	const unsigned char *p;
	size_t len;
	struct mime_limits lim;
	struct mime_message *m;
	struct boundary *stack;
	unsigned nb;
	size_t lineno;		/* LFs before the current position */
	uint32_t *last_child;	/* per part: its last child so far */
};

static uint32_t part_new(struct pctx *c, uint32_t parent, size_t hdr_start)
{
	struct mime_message *m = c->m;
	if (m->nparts == m->cap) {
		uint32_t ncap = m->cap ? m->cap * 2 : 8;
		m->parts = xreallocarray(m->parts, ncap, sizeof *m->parts);
		c->last_child = xreallocarray(c->last_child, ncap,
					      sizeof *c->last_child);
		m->cap = ncap;
	}
	uint32_t idx = m->nparts++;
	struct mime_part *part = &m->parts[idx];
	memset(part, 0, sizeof *part);
	part->parent = parent;
	part->first_child = part->next_sibling = MIME_NONE;
	part->hdr_start = part->body_start = part->body_end = hdr_start;
	part->type = part->subtype = span_make("", 0);
	if (parent != MIME_NONE) {
		struct mime_part *pp = &m->parts[parent];
		part->depth = pp->depth + 1;
		if (pp->first_child == MIME_NONE)
			pp->first_child = idx;
		else
			m->parts[c->last_child[parent]].next_sibling = idx;
		c->last_child[parent] = idx;
		pp->nchildren++;
	}
	return idx;
}

/* A span trimmed of white space at both ends, CR and LF included. */
static struct span trim_all(struct span s)
{
	while (s.len > 0 && mime_is_wsp(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && mime_is_wsp(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* The first token of a value (Content-Transfer-Encoding), comments and
 * white space skipped. */
static struct span first_token(struct span v)
{
	size_t i = 0;
	mime_skip_cfws(v, &i, NULL);
	size_t s = i;
	while (i < v.len && !mime_is_wsp(v.p[i]) && v.p[i] != '(' &&
	       v.p[i] != ';')
		i++;
	return span_make(v.p + s, i - s);
}

static enum mime_cte cte_of(struct span t)
{
	if (t.len == 0 || span_eq_ci(t, "7bit"))
		return MIME_CTE_7BIT;
	if (span_eq_ci(t, "8bit"))
		return MIME_CTE_8BIT;
	if (span_eq_ci(t, "binary"))
		return MIME_CTE_BINARY;
	if (span_eq_ci(t, "quoted-printable"))
		return MIME_CTE_QP;
	if (span_eq_ci(t, "base64"))
		return MIME_CTE_BASE64;
	return MIME_CTE_UNKNOWN;
}

/* Record a field of interest in part; names are matched only when they
 * start with "content-" so the common fields cost one comparison. */
static void header_field(struct pctx *c, struct mime_part *part,
			 struct span name, struct span value)
{
	if (name.len < 10 || !span_prefix_ci(name, "content-"))
		return;
	struct span n = span_make(name.p + 8, name.len - 8);
	struct span v = trim_all(value);
	if (span_eq_ci(n, "type")) {
		if (part->type.len > 0)
			return;	/* the first one counts */
		mime_ct_parse(v, true, &c->m->arena, &part->type,
			      &part->subtype, &part->params, &part->nparams);
	} else if (span_eq_ci(n, "transfer-encoding")) {
		if (part->cte_raw.len == 0) {
			/* One token and nothing else ("8 bit" is not one):
			 * otherwise ignore it, as Dovecot does. */
			struct span t = first_token(v);
			size_t rest = (size_t)(t.p + t.len - v.p);
			mime_skip_cfws(v, &rest, NULL);
			if (rest == v.len) {
				part->cte_raw = t;
				part->cte = cte_of(t);
			}
		}
	} else if (span_eq_ci(n, "disposition")) {
		if (part->disposition.len == 0) {
			struct span sub;
			mime_ct_parse(v, false, &c->m->arena,
				      &part->disposition, &sub,
				      &part->disp_params, &part->ndisp_params);
		}
	} else if (span_eq_ci(n, "id")) {
		if (part->id.len == 0)
			part->id = v;
	} else if (span_eq_ci(n, "description")) {
		if (part->description.len == 0)
			part->description = v;
	} else if (span_eq_ci(n, "md5")) {
		if (part->md5.len == 0)
			part->md5 = v;
	} else if (span_eq_ci(n, "language")) {
		if (part->language.len == 0)
			part->language = v;
	} else if (span_eq_ci(n, "location")) {
		if (part->location.len == 0)
			part->location = v;
	}
}

/* Does the line at [ls, le) (le excludes the LF) open with "--" and an
 * active boundary? Returns the stack index, preferring the longest match
 * (a child's boundary may extend its parent's), or -1. *close_out says
 * whether it is the close delimiter "--boundary--". Matching is by
 * prefix, as Dovecot does: real mail has junk after boundaries. */
static int boundary_match(const struct pctx *c, size_t ls, size_t le,
			  bool *close_out)
{
	if (c->nb == 0 || le - ls < 2 || c->p[ls] != '-' || c->p[ls + 1] != '-')
		return -1;
	const unsigned char *l = c->p + ls + 2;
	size_t n = le - ls - 2;
	int best = -1;
	size_t best_len = 0;
	for (unsigned k = c->nb; k-- > 0;) {
		struct span b = c->stack[k].b;
		if (b.len <= n && memcmp(l, b.p, b.len) == 0 &&
		    (best < 0 || b.len > best_len)) {
			best = (int)k;
			best_len = b.len;
		}
	}
	if (best >= 0)
		*close_out = n - best_len >= 2 && l[best_len] == '-' &&
			     l[best_len + 1] == '-';
	return best;
}

/* Read the header block of part from pos. It ends at an empty line, at a
 * line that cannot be a header field, at a boundary line of an enclosing
 * multipart, or at the end. Returns the body start. */
static size_t parse_header(struct pctx *c, uint32_t idx, size_t pos)
{
	size_t fields = 0;
	size_t hdr_start = pos;
	bool ignored = false;
	struct span name = { 0 };
	size_t value_start = 0, field_end = 0;
	bool have_field = false;

	for (;;) {
		if (pos >= c->len)
			break;
		const unsigned char *nl = memchr(c->p + pos, '\n', c->len - pos);
		size_t le = nl ? (size_t)(nl - c->p) : c->len;
		size_t next = nl ? le + 1 : c->len;
		size_t content_end = (le > pos && c->p[le - 1] == '\r') ? le - 1 : le;
		bool cont = c->p[pos] == ' ' || c->p[pos] == '\t';
		bool dummy;

		if (content_end == pos && !cont) {
			/* The empty line ending the header (RFC 5322 2.1). */
			if (have_field)
				header_field(c, &c->m->parts[idx], name,
					     span_make(c->p + value_start,
						       field_end - value_start));
			if (ignored)
				c->m->parts[idx].flags |= MIME_PART_HDR_LIMIT;
			if (nl)
				c->lineno++;
			return next;
		}
		if (!cont && boundary_match(c, pos, content_end, &dummy) >= 0)
			break;	/* a part with a header and no body */
		if (cont) {
			if (have_field)
				field_end = content_end;
			if (nl)
				c->lineno++;
			pos = next;
			continue;
		}
		const unsigned char *colon = memchr(c->p + pos, ':', content_end - pos);
		size_t nlen = colon ? (size_t)(colon - (c->p + pos)) : 0;
		/* obs-optional allows WSP before the colon (RFC 5322 4.5.8). */
		while (nlen > 0 && (c->p[pos + nlen - 1] == ' ' ||
				    c->p[pos + nlen - 1] == '\t'))
			nlen--;
		bool field_ok = colon != NULL && nlen > 0;
		for (size_t i = 0; field_ok && i < nlen; i++) {
			unsigned char ch = c->p[pos + i];
			if (ch <= ' ' || ch == 0x7f)
				field_ok = false;
		}
		if (!field_ok) {
			/* Not a field (no colon, or a bad name): Dovecot reads
			 * it as a broken header line and goes on, so do we;
			 * it also covers an mbox "From " line. */
			if (have_field)
				header_field(c, &c->m->parts[idx], name,
					     span_make(c->p + value_start,
						       field_end - value_start));
			have_field = false;
			if (nl)
				c->lineno++;
			pos = next;
			continue;
		}
		if (have_field)
			header_field(c, &c->m->parts[idx], name,
				     span_make(c->p + value_start,
					       field_end - value_start));
		have_field = false;
		fields++;
		if (fields > c->lim.max_headers ||
		    pos - hdr_start > c->lim.max_header_size) {
			ignored = true;
		} else {
			name = span_make(c->p + pos, nlen);
			value_start = (size_t)(colon - c->p) + 1;
			field_end = content_end;
			have_field = true;
		}
		if (nl)
			c->lineno++;
		pos = next;
	}
	if (have_field)
		header_field(c, &c->m->parts[idx], name,
			     span_make(c->p + value_start, field_end - value_start));
	if (ignored)
		c->m->parts[idx].flags |= MIME_PART_HDR_LIMIT;
	return pos;
}

/* After its header: classify the part and decide how its body is read.
 * Multiparts push their boundary; message/rfc822 parts open their child
 * at once. Returns the part whose body the following lines belong to. */
static uint32_t begin_body(struct pctx *c, uint32_t idx, size_t body_start,
			   size_t *pos_io)
{
	for (;;) {
		struct mime_part *part = &c->m->parts[idx];
		part->body_start = body_start;
		part->body_end = body_start;
		part->body_lines = c->lineno;	/* start line; fixed on close */
		bool digest_child = false;
		if (part->parent != MIME_NONE) {
			const struct mime_part *pp = &c->m->parts[part->parent];
			digest_child = (pp->flags & MIME_PART_MULTIPART) &&
				       span_eq_ci(pp->subtype, "digest");
		}
		if (part->type.len == 0 || part->subtype.len == 0) {
			part->flags |= MIME_PART_NO_TYPE;
			/* RFC 2046 5.1.5: digest parts default to messages. */
			if (digest_child) {
				part->type = span_cstr("message");
				part->subtype = span_cstr("rfc822");
			} else {
				part->type = span_cstr("text");
				part->subtype = span_cstr("plain");
			}
		}
		bool deep = part->depth + 1 >= c->lim.max_depth ||
			    c->m->nparts >= c->lim.max_parts;
		if (span_eq_ci(part->type, "multipart")) {
			const struct mime_param *bp =
				mime_param_find(part->params, part->nparams, "boundary");
			if (bp == NULL || bp->value.len == 0 || bp->extended) {
				part->flags |= MIME_PART_BROKEN;
				return idx;
			}
			if (deep || c->nb >= c->lim.max_depth) {
				part->flags |= MIME_PART_LIMIT;
				return idx;
			}
			part->flags |= MIME_PART_MULTIPART;
			c->stack[c->nb].b = bp->value;
			c->stack[c->nb].part = idx;
			c->nb++;
			return idx;
		}
		if (span_eq_ci(part->type, "message") &&
		    (span_eq_ci(part->subtype, "rfc822") ||
		     span_eq_ci(part->subtype, "global"))) {
			/* Even when (wrongly) encoded, as Dovecot does: the
			 * client sees a message/rfc822 with an empty inside. */
			if (deep) {
				part->flags |= MIME_PART_LIMIT;
				return idx;
			}
			part->flags |= MIME_PART_MESSAGE;
			uint32_t child = part_new(c, idx, body_start);
			size_t bs = parse_header(c, child, body_start);
			*pos_io = bs;
			idx = child;
			body_start = bs;
			continue;
		}
		if (span_eq_ci(part->type, "text"))
			part->flags |= MIME_PART_TEXT;
		return idx;
	}
}

/* Close the open parts from cur up to (not including) stop at end; each
 * part's end is clamped to its own body start. */
static void close_parts(struct pctx *c, uint32_t cur, uint32_t stop,
			size_t end, size_t end_line)
{
	while (cur != stop && cur != MIME_NONE) {
		struct mime_part *part = &c->m->parts[cur];
		if (end <= part->body_start) {
			/* Empty body; a header that ran into the boundary
			 * also pushes its parents' ends so parts stay nested. */
			end = part->body_start;
			end_line = part->body_lines;	/* its start line */
			part->body_end = end;
			part->body_lines = 0;
		} else {
			part->body_end = end;
			size_t start_line = part->body_lines;
			/* IMAP body-fld-lines: Dovecot counts LFs, so a last
			 * line without one does not count. */
			part->body_lines = end_line >= start_line ? end_line - start_line : 0;
		}
		if ((part->flags & MIME_PART_MULTIPART) && part->nchildren == 0) {
			/* No boundary line was ever seen: one text part. */
			part->flags &= ~(uint32_t)MIME_PART_MULTIPART;
			part->flags |= MIME_PART_BROKEN;
		}
		cur = part->parent;
	}
}

struct mime_message *mime_parse(const void *msg, size_t len,
				const struct mime_limits *lim)
{
	struct pctx c;
	memset(&c, 0, sizeof c);
	c.p = msg;
	c.len = len;
	if (lim != NULL)
		c.lim = *lim;
	else
		mime_limits_default(&c.lim);
	if (c.lim.max_depth == 0)
		c.lim.max_depth = 1;
	if (c.lim.max_depth > MIME_MAX_DEPTH_CEILING)
		c.lim.max_depth = MIME_MAX_DEPTH_CEILING;
	if (c.lim.max_parts == 0)
		c.lim.max_parts = 1;
	c.m = xcalloc(1, sizeof *c.m);
	c.m->p = msg;
	c.m->len = len;
	c.stack = xcalloc(c.lim.max_depth, sizeof *c.stack);

	uint32_t root = part_new(&c, MIME_NONE, 0);
	size_t pos = parse_header(&c, root, 0);
	uint32_t cur = begin_body(&c, root, pos, &pos);
	size_t after_close = SIZE_MAX;

	while (pos < len) {
		const unsigned char *nl = memchr(c.p + pos, '\n', len - pos);
		size_t le = nl ? (size_t)(nl - c.p) : len;
		size_t next = nl ? le + 1 : len;
		size_t content_end = (le > pos && c.p[le - 1] == '\r') ? le - 1 : le;
		bool is_close = false;
		int k = boundary_match(&c, pos, content_end, &is_close);
		if (k < 0) {
			if (nl)
				c.lineno++;
			pos = next;
			continue;
		}
		/* RFC 2046 5.1.1: the line break before the boundary is part
		 * of the boundary. */
		size_t end = pos, end_line = c.lineno;
		/* Right after an inner close delimiter, its line break stays
		 * with it (Dovecot counts so; RFC 2046 is silent). */
		if (end > 0 && c.p[end - 1] == '\n' && pos != after_close) {
			end--;
			end_line--;
			if (end > 0 && c.p[end - 1] == '\r')
				end--;
		}
		uint32_t mp = c.stack[k].part;
		close_parts(&c, cur, mp, end, end_line);
		cur = mp;
		c.nb = (unsigned)k + 1;
		if (nl)
			c.lineno++;
		pos = next;
		if (is_close) {
			c.nb = (unsigned)k;	/* what follows is epilogue */
			after_close = pos;
			continue;
		}
		if (c.m->nparts >= c.lim.max_parts) {
			/* Out of parts: stop splitting; the rest is content of
			 * this multipart. */
			c.m->parts[mp].flags |= MIME_PART_LIMIT;
			c.nb = 0;
			continue;
		}
		uint32_t child = part_new(&c, mp, pos);
		pos = parse_header(&c, child, pos);
		cur = begin_body(&c, child, pos, &pos);
	}
	close_parts(&c, cur, MIME_NONE, len, c.lineno);
	free(c.stack);
	free(c.last_child);
	return c.m;
}

void mime_message_free(struct mime_message **mp)
{
	struct mime_message *m = *mp;
	if (m == NULL)
		return;
	mime_arena_release(&m->arena);
	free(m->parts);
	free(m);
	*mp = NULL;
}

uint32_t mime_message_nparts(const struct mime_message *m)
{
	return m->nparts;
}

const struct mime_part *mime_message_part(const struct mime_message *m,
					  uint32_t index)
{
	return index < m->nparts ? &m->parts[index] : NULL;
}

struct span mime_message_bytes(const struct mime_message *m)
{
	return span_make(m->p, m->len);
}

struct span mime_part_header(const struct mime_message *m,
			     const struct mime_part *part)
{
	return span_make(m->p + part->hdr_start,
			 part->body_start - part->hdr_start);
}

struct span mime_part_body(const struct mime_message *m,
			   const struct mime_part *part)
{
	return span_make(m->p + part->body_start,
			 part->body_end - part->body_start);
}

/* RFC 9051 6.4.5 section numbers: a multipart's n-th child; inside a
 * message/rfc822 part, its encapsulated message's body (its children if
 * multipart, else the body itself as part 1). */
uint32_t mime_message_section(const struct mime_message *m,
			      const uint32_t *path, size_t n)
{
	uint32_t cur = 0;
	for (size_t i = 0; i < n; i++) {
		const struct mime_part *p = &m->parts[cur];
		if (i > 0) {
			if (p->flags & MIME_PART_MESSAGE) {
				cur = p->first_child;
				p = &m->parts[cur];
			} else if (!(p->flags & MIME_PART_MULTIPART)) {
				return MIME_NONE;
			}
		}
		if (p->flags & MIME_PART_MULTIPART) {
			uint32_t k = p->first_child;
			for (uint32_t j = 1; j < path[i] && k != MIME_NONE; j++)
				k = m->parts[k].next_sibling;
			if (path[i] == 0 || k == MIME_NONE)
				return MIME_NONE;
			cur = k;
		} else if (path[i] != 1) {
			return MIME_NONE;
		}
	}
	return cur;
}
