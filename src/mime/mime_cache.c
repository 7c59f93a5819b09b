/* mime_cache.c - the parse result in a compact, self-checking byte form
 * the store keeps per message: ENVELOPE, BODY and BODYSTRUCTURE text and
 * a fixed-size record per part. Reading it back trusts nothing: every
 * length, offset and tree link is checked so a damaged record makes the
 * caller reparse, never misbehave.
 *
 * Layout, little-endian: "PMC2", u64 message size, u32 parts, u32 lengths
 * of the four texts, the texts, then per part u64 hdr_start, body_start,
 * body_end, u32 parent, first_child, next_sibling, u32 flags | cte << 24.
 * The fourth text is the References field unfolded (for THREAD, RFC 5256
 * 2.2), which ENVELOPE lacks; a "PMC1" record fails to read and is made
 * again by its reader. */
#include "mime/mime_private.h"

#include <string.h>

#define CACHE_MAGIC "PMC2"
#define CACHE_HDR (4 + 8 + 4 + 4 * 4)
#define CACHE_REC 40
#define FLAGS_KNOWN 0x7fu

static void put_u32(unsigned char *d, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		d[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *d, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		d[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *d)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | d[i];
	return v;
}

static uint64_t get_u64(const unsigned char *d)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | d[i];
	return v;
}

/* The References field, unfolded. A longer one keeps its tail from an
 * id's start: the last ids name the nearest ancestors, which threading
 * needs most (RFC 5256 2.2 step 1C takes the last as the parent). */
static void cache_refs(const struct mime_message *m, struct buf *out)
{
	struct span hdr = mime_part_header(m, mime_message_part(m, 0)), v;
	if (!mime_header_find(hdr, "References", &v))
		return;
	struct buf tmp;
	buf_init(&tmp, v.len + 1);
	if (mime_unfold(v, &tmp) == 0) {
		struct span u = buf_span(&tmp);
		size_t from = 0;
		if (u.len > MIME_CACHE_REFS_MAX) {
			from = u.len - MIME_CACHE_REFS_MAX;
			while (from < u.len && u.p[from] != '<')
				from++;
		}
		if (u.len > from && buf_append(out, u.p + from, u.len - from) < 0)
			buf_reset(out);
	}
	buf_release(&tmp);
}

int mime_cache_write(const struct mime_message *m, struct buf *out)
{
	/* The texts are built in scratch buffers bounded by out's room. */
	size_t room = out->max - out->len;
	struct buf env, body, bs, refs;
	buf_init(&env, room);
	buf_init(&body, room);
	buf_init(&bs, room);
	buf_init(&refs, MIME_CACHE_REFS_MAX);
	int rc = -1;
	if (mime_envelope_imap(m, 0, &env) < 0 ||
	    mime_bodystructure_imap(m, 0, false, &body) < 0 ||
	    mime_bodystructure_imap(m, 0, true, &bs) < 0)
		goto done;
	cache_refs(m, &refs);
	if (env.len > UINT32_MAX || body.len > UINT32_MAX || bs.len > UINT32_MAX)
		goto done;
	unsigned char hdr[CACHE_HDR];
	memcpy(hdr, CACHE_MAGIC, 4);
	put_u64(hdr + 4, m->len);
	put_u32(hdr + 12, m->nparts);
	put_u32(hdr + 16, (uint32_t)env.len);
	put_u32(hdr + 20, (uint32_t)body.len);
	put_u32(hdr + 24, (uint32_t)bs.len);
	put_u32(hdr + 28, (uint32_t)refs.len);
	if (buf_append(out, hdr, sizeof hdr) < 0 ||
	    buf_append(out, env.data, env.len) < 0 ||
	    buf_append(out, body.data, body.len) < 0 ||
	    buf_append(out, bs.data, bs.len) < 0 ||
	    buf_append(out, refs.data, refs.len) < 0)
		goto done;
	for (uint32_t i = 0; i < m->nparts; i++) {
		const struct mime_part *p = &m->parts[i];
		unsigned char rec[CACHE_REC];
		put_u64(rec, p->hdr_start);
		put_u64(rec + 8, p->body_start);
		put_u64(rec + 16, p->body_end);
		put_u32(rec + 24, p->parent);
		put_u32(rec + 28, p->first_child);
		put_u32(rec + 32, p->next_sibling);
		put_u32(rec + 36, (p->flags & FLAGS_KNOWN) | ((uint32_t)p->cte << 24));
		if (buf_append(out, rec, sizeof rec) < 0)
			goto done;
	}
	rc = 0;
done:
	buf_release(&env);
	buf_release(&body);
	buf_release(&bs);
	buf_release(&refs);
	return rc;
}

/* A light syntax check of a cached IMAP list: balanced parentheses,
 * closed quoted strings, literals within bounds. What we send a client
 * must never desynchronise its parser. */
static bool imap_text_ok(struct span s)
{
	if (s.len < 2 || s.p[0] != '(')
		return false;
	size_t depth = 0, i = 0;
	while (i < s.len) {
		unsigned char c = s.p[i];
		if (c == '(') {
			depth++;
			i++;
		} else if (c == ')') {
			if (depth == 0)
				return false;
			depth--;
			i++;
			if (depth == 0)
				return i == s.len;
		} else if (c == '"') {
			i++;
			while (i < s.len && s.p[i] != '"') {
				if (s.p[i] == '\\')
					i++;
				else if (s.p[i] == '\r' || s.p[i] == '\n')
					return false;
				i++;
			}
			if (i >= s.len)
				return false;
			i++;
		} else if (c == '{') {
			uint64_t n = 0;
			i++;
			while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9') {
				if (n > UINT32_MAX)
					return false;
				n = n * 10 + (uint64_t)(s.p[i] - '0');
				i++;
			}
			if (i + 3 > s.len || s.p[i] != '}' || s.p[i + 1] != '\r' ||
			    s.p[i + 2] != '\n' || n > s.len - i - 3)
				return false;
			i += 3 + (size_t)n;
		} else if (c == '\r' || c == '\n' || c == 0) {
			return false;
		} else {
			i++;
		}
	}
	return false;
}

int mime_cache_read(struct span in, struct mime_cache *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	if (in.len < CACHE_HDR || memcmp(in.p, CACHE_MAGIC, 4) != 0)
		return err_set(err, ERR_PEER, 0, "", "mime cache: bad header");
	uint64_t msg_size = get_u64(in.p + 4);
	uint32_t nparts = get_u32(in.p + 12);
	uint64_t le = get_u32(in.p + 16), lb = get_u32(in.p + 20),
		 ls = get_u32(in.p + 24), lr = get_u32(in.p + 28);
	uint64_t need = CACHE_HDR + le + lb + ls + lr + (uint64_t)nparts * CACHE_REC;
	if (nparts == 0 || need != in.len || lr > MIME_CACHE_REFS_MAX)
		return err_set(err, ERR_PEER, 0, "", "mime cache: bad length");
	const unsigned char *p = in.p + CACHE_HDR;
	out->envelope = span_make(p, (size_t)le);
	out->body = span_make(p + le, (size_t)lb);
	out->bodystructure = span_make(p + le + lb, (size_t)ls);
	out->references = span_make(p + le + lb + ls, (size_t)lr);
	if (!imap_text_ok(out->envelope) || !imap_text_ok(out->body) ||
	    !imap_text_ok(out->bodystructure))
		return err_set(err, ERR_PEER, 0, "", "mime cache: bad IMAP text");
	out->msg_size = msg_size;
	out->nparts = nparts;
	out->table = p + le + lb + ls + lr;

	for (uint32_t i = 0; i < nparts; i++) {
		struct mime_cache_part cp;
		mime_cache_part(out, i, &cp);
		uint32_t raw_flags = get_u32(out->table + (size_t)i * CACHE_REC + 36);
		if ((raw_flags & 0xffffffu & ~FLAGS_KNOWN) != 0 ||
		    (raw_flags >> 24) > MIME_CTE_UNKNOWN)
			goto bad;
		if (!(cp.hdr_start <= cp.body_start && cp.body_start <= cp.body_end &&
		      cp.body_end <= msg_size))
			goto bad;
		if (i == 0) {
			if (cp.parent != MIME_NONE || cp.next_sibling != MIME_NONE)
				goto bad;
		} else {
			/* Depth-first order: parents come first. */
			if (cp.parent >= i)
				goto bad;
			struct mime_cache_part pp;
			mime_cache_part(out, cp.parent, &pp);
			if (cp.hdr_start < pp.body_start || cp.body_end > pp.body_end)
				goto bad;
		}
		if (cp.first_child != MIME_NONE) {
			if (cp.first_child <= i || cp.first_child >= nparts)
				goto bad;
			struct mime_cache_part ch;
			mime_cache_part(out, cp.first_child, &ch);
			if (ch.parent != i)
				goto bad;
		}
		if (cp.next_sibling != MIME_NONE) {
			if (cp.next_sibling <= i || cp.next_sibling >= nparts)
				goto bad;
			struct mime_cache_part sib;
			mime_cache_part(out, cp.next_sibling, &sib);
			if (sib.parent != cp.parent)
				goto bad;
		}
	}
	return 0;
bad:
	memset(out, 0, sizeof *out);
	return err_set(err, ERR_PEER, 0, "", "mime cache: bad part table");
}

void mime_cache_part(const struct mime_cache *c, uint32_t index,
		     struct mime_cache_part *out)
{
	const unsigned char *r = c->table + (size_t)index * CACHE_REC;
	out->hdr_start = get_u64(r);
	out->body_start = get_u64(r + 8);
	out->body_end = get_u64(r + 16);
	out->parent = get_u32(r + 24);
	out->first_child = get_u32(r + 28);
	out->next_sibling = get_u32(r + 32);
	uint32_t f = get_u32(r + 36);
	out->flags = f & 0xffffffu;
	out->cte = (enum mime_cte)(f >> 24);
}

uint32_t mime_cache_section(const struct mime_cache *c, const uint32_t *path,
			    size_t n)
{
	uint32_t cur = 0;
	struct mime_cache_part p;
	for (size_t i = 0; i < n; i++) {
		mime_cache_part(c, cur, &p);
		if (i > 0) {
			if ((p.flags & MIME_PART_MESSAGE) && p.first_child != MIME_NONE) {
				cur = p.first_child;
				mime_cache_part(c, cur, &p);
			} else if (!(p.flags & MIME_PART_MULTIPART)) {
				return MIME_NONE;
			}
		}
		if (p.flags & MIME_PART_MULTIPART) {
			if (path[i] == 0)
				return MIME_NONE;
			uint32_t k = p.first_child;
			/* Links only point forward (checked), so this ends. */
			for (uint32_t j = 1; j < path[i] && k != MIME_NONE; j++) {
				struct mime_cache_part s;
				mime_cache_part(c, k, &s);
				k = s.next_sibling;
			}
			if (k == MIME_NONE)
				return MIME_NONE;
			cur = k;
		} else if (path[i] != 1) {
			return MIME_NONE;
		}
	}
	return cur;
}
