/* lookalike_domain.c - is a domain a lookalike of a protected one
 * (decision 0035)? Skeletons and edit distance on the label left of the
 * public suffix, mixed scripts on every label. */
#include "filter/lookalike_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct lookalike_set {
	struct la_dom *prot;
	size_t n_prot;
	char (*allow)[LOOKALIKE_DOMAIN_MAX + 1];
	size_t n_allow;
};

void lookalike_set_free(struct lookalike_set **set)
{
	if (*set == NULL)
		return;
	free((*set)->prot);
	free((*set)->allow);
	free(*set);
	*set = NULL;
}

int lookalike_set_new(const char *const *prot, size_t n_prot,
		      const char *const *allow, size_t n_allow,
		      struct lookalike_set **set_r, struct err *err)
{
	const char *why;

	*set_r = NULL;
	if (n_prot > FILTER_LOOKALIKE_PROTECTED_MAX ||
	    n_allow > FILTER_LOOKALIKE_ALLOW_MAX)
		return err_set(err, ERR_LIMIT, 0, NULL,
			       "lookalike: more than %d protected or %d allowed domains",
			       FILTER_LOOKALIKE_PROTECTED_MAX, FILTER_LOOKALIKE_ALLOW_MAX);
	struct lookalike_set *s = xcalloc(1, sizeof *s);
	s->prot = xcalloc(n_prot ? n_prot : 1, sizeof *s->prot);
	s->allow = xcalloc(n_allow ? n_allow : 1, sizeof *s->allow);
	for (size_t i = 0; i < n_prot; i++, s->n_prot++)
		if (la_dom_prep(prot[i], strlen(prot[i]), &s->prot[i], &why) < 0)
			goto bad;
	for (size_t i = 0; i < n_allow; i++, s->n_allow++)
		if (la_domain_ascii(allow[i], strlen(allow[i]), s->allow[i], &why) < 0)
			goto bad;
	*set_r = s;
	return 0;
bad:
	err_set(err, ERR_CONFIG, 0, NULL, "lookalike: %s entry %zu: %s",
		s->n_prot < n_prot ? "protected" : "allowed",
		s->n_prot < n_prot ? s->n_prot + 1 : s->n_allow + 1, why);
	lookalike_set_free(&s);
	return -1;
}

/* Optimal string alignment distance of two skeletons, or max + 1 when
 * over max. Only the band |i - j| <= max of the matrix can hold a value
 * within max, so only it is computed (cells beside it count as over),
 * and work stops once a whole row is over max. */
static unsigned osa(const struct la_skel *a, const struct la_skel *b,
		    unsigned max)
{
	unsigned d[3][FILTER_LOOKALIKE_SKEL_MAX + 2];
	size_t n = a->n, m = b->n;

	if ((n > m ? n - m : m - n) > max)
		return max + 1;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		unsigned *cur = d[i % 3], *p1 = d[(i - 1) % 3], *p2 = d[(i + 1) % 3];
		size_t lo = i > max ? i - max : 1, hi = i + max < m ? i + max : m;
		unsigned low = i <= max ? (unsigned)i : max + 1;	/* cur[0] */
		cur[0] = (unsigned)i;
		cur[lo - 1] = lo > 1 ? max + 1 : (unsigned)i;
		cur[hi + 1] = max + 1;
		for (size_t j = lo; j <= hi; j++) {
			unsigned cost = a->u[i - 1].cp != b->u[j - 1].cp;
			unsigned v = p1[j - 1] + cost;
			if (p1[j] + 1 < v)
				v = p1[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a->u[i - 1].cp == b->u[j - 2].cp &&
			    a->u[i - 2].cp == b->u[j - 1].cp && p2[j - 2] + 1 < v)
				v = p2[j - 2] + 1;
			cur[j] = v;
			if (v < low)
				low = v;
		}
		if (low > max)
			return max + 1;
	}
	return d[n % 3][m] > max ? max + 1 : d[n % 3][m];
}

static unsigned edit_max(size_t len)
{
	if (len >= FILTER_LOOKALIKE_EDIT2_MIN)
		return 2;
	return len >= FILTER_LOOKALIKE_EDIT1_MIN ? 1 : 0;
}

static bool same_skel(const struct la_skel *a, const struct la_skel *b)
{
	if (a->n != b->n || a->n == 0)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->u[i].cp != b->u[i].cp)
			return false;
	return true;
}

/* "(1 = l, rn = m)": the source letters that differ at equal skeleton
 * positions, at most three. */
static void explain_glyphs(const struct la_dom *c, const struct la_dom *p,
			   char *buf, size_t sz)
{
	int shown = 0;
	size_t last_off = (size_t)-1;

	for (size_t i = 0; i < c->skel.n && shown < 3; i++) {
		const struct la_unit *x = &c->skel.u[i], *y = &p->skel.u[i];
		if (x->off == last_off)
			continue;	/* second half of a two-letter fold */
		if (x->len == y->len &&
		    memcmp(c->label_u + x->off, p->label_u + y->off, x->len) == 0)
			continue;
		last_off = x->off;
		la_cat(buf, sz, shown++ ? ", " : " (");
		la_cat_show(buf, sz, c->label_u + x->off, x->len, true);
		la_cat(buf, sz, " = ");
		la_cat_show(buf, sz, p->label_u + y->off, y->len, true);
	}
	if (shown)
		la_cat(buf, sz, ")");
}

/* The scripts of a label's letters mixed: Latin with Cyrillic or Greek,
 * or Cyrillic with Greek. Names in other scripts legitimately carry Latin
 * (Japanese brand names, for one) and are left alone. */
static bool mixed_label(const char *u, size_t n, unsigned *scripts)
{
	size_t i = 0;

	*scripts = 0;
	while (i < n)
		*scripts |= la_script_of(la_utf8_next(u, n, &i));
	unsigned s = *scripts;
	return (s & LA_SCRIPT_LATIN ? 1 : 0) + (s & LA_SCRIPT_CYRILLIC ? 1 : 0) +
	       (s & LA_SCRIPT_GREEK ? 1 : 0) >= 2;
}

static const char *script_names(unsigned s)
{
	switch (s & (LA_SCRIPT_LATIN | LA_SCRIPT_CYRILLIC | LA_SCRIPT_GREEK)) {
	case LA_SCRIPT_LATIN | LA_SCRIPT_CYRILLIC: return "Latin and Cyrillic";
	case LA_SCRIPT_LATIN | LA_SCRIPT_GREEK: return "Latin and Greek";
	case LA_SCRIPT_CYRILLIC | LA_SCRIPT_GREEK: return "Cyrillic and Greek";
	default: return "Latin, Cyrillic and Greek";
	}
}

static void check_mixed(const struct la_dom *c, struct lookalike_result *r)
{
	const char *l = c->a;

	while (*l) {
		const char *dot = strchr(l, '.');
		size_t n = dot ? (size_t)(dot - l) : strlen(l);
		char u[256];
		unsigned scripts;
		la_label_unicode(l, n, u, sizeof u);
		if (mixed_label(u, strlen(u), &scripts)) {
			r->why |= LOOKALIKE_MIXED;
			if (r->reason[0] == '\0')
				la_cat(r->reason, sizeof r->reason,
				       "%s mixes %s letters in label %.*s",
					 c->a, script_names(scripts), (int)n, l);
			return;
		}
		l += n + (dot != NULL);
	}
}

/* Never a lookalike: a protected domain's own registrable domain, or an
 * allow-listed domain. */
static bool exempt(const struct lookalike_set *set, const struct la_dom *c)
{
	for (size_t i = 0; i < set->n_allow; i++)
		if (la_under(c->a, set->allow[i]))
			return true;
	for (size_t i = 0; i < set->n_prot; i++) {
		const struct la_dom *p = &set->prot[i];
		if (la_under(c->a, p->a) ||
		    (c->reg[0] && strcmp(c->reg, p->reg) == 0))
			return true;
	}
	return false;
}

static void check_protected(const struct lookalike_set *set,
			    const struct la_dom *c, struct lookalike_result *r)
{
	const struct la_dom *best = NULL;
	unsigned best_d = 0;

	if (c->reg[0] == '\0')
		return;
	for (size_t i = 0; i < set->n_prot; i++) {
		const struct la_dom *p = &set->prot[i];
		if (p->reg[0] == '\0')
			continue;
		if (same_skel(&c->skel, &p->skel) &&
		    strcmp(c->label_u, p->label_u) != 0) {
			best = p, best_d = 0;
			break;
		}
		unsigned max = edit_max(p->skel.n);
		if (max == 0 || strcmp(c->suffix, p->suffix) != 0)
			continue;
		unsigned d = osa(&c->skel, &p->skel, max);
		if (d >= 1 && d <= max && (best == NULL || d < best_d))
			best = p, best_d = d;
	}
	if (best == NULL)
		return;
	snprintf(r->match, sizeof r->match, "%s", best->reg);
	if (best_d == 0) {
		r->why |= LOOKALIKE_HOMOGLYPH;
		la_cat(r->reason, sizeof r->reason, "%s looks like %s",
			 c->a, best->reg);
		explain_glyphs(c, best, r->reason, sizeof r->reason);
	} else {
		r->why |= LOOKALIKE_EDIT;
		r->distance = best_d;
		la_cat(r->reason, sizeof r->reason, "%s is %u edit%s from %s",
			 c->a, best_d, best_d > 1 ? "s" : "", best->reg);
	}
}

int lookalike_check(const struct lookalike_set *set, const char *cand,
		    size_t len, struct lookalike_result *r)
{
	struct la_dom c;
	const char *why;

	memset(r, 0, sizeof *r);
	if (la_dom_prep(cand, len, &c, &why) < 0) {
		snprintf(r->reason, sizeof r->reason, "%s", why);
		return -1;
	}
	snprintf(r->domain, sizeof r->domain, "%s", c.a);
	if (exempt(set, &c))
		return 0;
	check_protected(set, &c, r);
	check_mixed(&c, r);
	return r->why != 0;
}
