/* imap_seqset.c - reading, resolving and querying IMAP sequence sets
 * (RFC 9051 9: sequence-set, seq-range, seq-number; RFC 5182 3 "$").
 * Ranges are never expanded; every operation is O(ranges). */
#include "imap/imap_seqset.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imap_parse_value.h"

static int invalid(struct err *err)
{
	return err_set(err, ERR_PEER, 0, "", "Invalid sequence set");
}

/* seq-number = nz-number / "*" */
static int seq_number(struct span s, uint32_t *out)
{
	if (s.len == 1 && s.p[0] == '*') {
		*out = IMAP_SEQ_STAR;
		return 0;
	}
	return imap_parse_nz_number(s, out);
}

int imap_seqset_parse(struct span s, struct imap_arena *a,
		      struct imap_seqset *out, struct err *err)
{
	out->ranges = NULL;
	out->n = 0;
	out->saved = false;
	if (s.len == 1 && s.p[0] == '$') {
		out->saved = true;
		return 0;
	}
	if (s.len == 0)
		return invalid(err);
	size_t n = 1;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == ',')
			n++;
	struct imap_seq_range *r = imap_arena_calloc(a, n, sizeof *r);
	if (r == NULL)
		return err_set(err, ERR_LIMIT, 0, "", "Command too complex");
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= s.len; i++) {
		if (i < s.len && s.p[i] != ',')
			continue;
		struct span el = span_make(s.p + start, i - start);
		start = i + 1;
		const unsigned char *colon = el.len ? memchr(el.p, ':', el.len) : NULL;
		uint32_t lo, hi;
		if (colon == NULL) {
			if (seq_number(el, &lo) != 0)
				return invalid(err);
			hi = lo;
		} else {
			size_t l = (size_t)(colon - el.p);
			if (seq_number(span_make(el.p, l), &lo) != 0 ||
			    seq_number(span_make(colon + 1, el.len - l - 1), &hi) != 0)
				return invalid(err);
		}
		/* RFC 9051 9: "2:4" and "4:2" are the same; keep a star in hi */
		if (lo == IMAP_SEQ_STAR || (hi != IMAP_SEQ_STAR && lo > hi)) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		r[k].lo = lo;
		r[k].hi = hi;
		k++;
	}
	out->ranges = r;
	out->n = k;
	return 0;
}

int imap_seqset_parse_arg(const struct imap_arg *arg, struct imap_arena *a,
			  struct imap_seqset *out, struct err *err)
{
	if (arg->type != IMAP_ARG_ATOM)
		return invalid(err);
	return imap_seqset_parse(arg->str, a, out, err);
}

static void resolve_one(const struct imap_seq_range *r, uint32_t star,
			uint32_t *lo, uint32_t *hi)
{
	uint32_t l = r->lo == IMAP_SEQ_STAR ? star : r->lo;
	uint32_t h = r->hi == IMAP_SEQ_STAR ? star : r->hi;
	*lo = l < h ? l : h;
	*hi = l < h ? h : l;
}

bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n,
			  uint32_t star)
{
	for (size_t i = 0; i < s->n; i++) {
		uint32_t lo, hi;
		resolve_one(&s->ranges[i], star, &lo, &hi);
		if (n >= lo && n <= hi && n != 0)
			return true;
	}
	return false;
}

static int range_cmp(const void *x, const void *y)
{
	const struct imap_seq_range *a = x, *b = y;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (a->hi > b->hi) - (a->hi < b->hi);
}

int imap_seqset_resolve(const struct imap_seqset *in, uint32_t star,
			struct imap_arena *a, struct imap_seqset *out)
{
	out->saved = in->saved;
	out->n = 0;
	out->ranges = NULL;
	if (in->n == 0)
		return 0;
	struct imap_seq_range *r = imap_arena_calloc(a, in->n, sizeof *r);
	if (r == NULL)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < in->n; i++) {
		resolve_one(&in->ranges[i], star, &r[k].lo, &r[k].hi);
		if (r[k].lo == 0)
			r[k].lo = 1;	/* only a "*" of an empty mailbox gives 0 */
		if (r[k].hi != 0)
			k++;
	}
	qsort(r, k, sizeof *r, range_cmp);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m > 0 && (r[m - 1].hi == UINT32_MAX ||
			      r[i].lo <= r[m - 1].hi + 1)) {
			if (r[i].hi > r[m - 1].hi)
				r[m - 1].hi = r[i].hi;
			continue;
		}
		r[m++] = r[i];
	}
	out->ranges = r;
	out->n = m;
	return 0;
}

uint64_t imap_seqset_count(const struct imap_seqset *s)
{
	uint64_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t lo, hi;
		resolve_one(&s->ranges[i], 0, &lo, &hi);
		n += (uint64_t)hi - lo + 1;
	}
	return n;
}
