/* sym.c - symbols, their weights and the weights file. */
#include "filter/sym.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "filter/sym_table.h"

/* The weights file is small; a longer one is a mistake. */
#define WEIGHTS_FILE_MAX (256u * 1024)

struct filter_weights {
	size_t n;
	const struct filter_sym_def **def;	/* sorted by name */
	double *w;
};

size_t filter_sym_defs_count(void)
{
	size_t n = 0;

	for (size_t t = 0; t < filter_sym_tables_n; t++)
		n += *filter_sym_tables[t].n;
	return n;
}

const struct filter_sym_def *filter_sym_def_at(size_t i)
{
	for (size_t t = 0; t < filter_sym_tables_n; t++) {
		if (i < *filter_sym_tables[t].n)
			return &filter_sym_tables[t].defs[i];
		i -= *filter_sym_tables[t].n;
	}
	return NULL;
}

const struct filter_sym_def *filter_sym_def_find(const char *name)
{
	size_t n = filter_sym_defs_count();

	for (size_t i = 0; i < n; i++) {
		const struct filter_sym_def *d = filter_sym_def_at(i);

		if (strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

static int def_cmp(const void *a, const void *b)
{
	const struct filter_sym_def *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static long find_index(const struct filter_weights *w, const char *name)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, w->def[mid]->name);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* One "NAME WEIGHT" line (comment and blanks already cut). */
static int weights_line(struct filter_weights *w, char *line,
			const char *path, unsigned lineno, struct err *err)
{
	char *name = line, *val, *end;
	long i;
	double d;

	val = name + strcspn(name, " \t");
	if (*val == '\0')
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "%s:%u: expected \"SYMBOL WEIGHT\"", path,
			       lineno);
	*val++ = '\0';
	val += strspn(val, " \t");
	i = find_index(w, name);
	if (i < 0)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "%s:%u: unknown symbol \"%.40s\"", path, lineno,
			       name);
	errno = 0;
	d = strtod(val, &end);
	end += strspn(end, " \t");
	if (errno != 0 || end == val || *end != '\0' || !isfinite(d) ||
	    d < -1000 || d > 1000)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "%s:%u: bad weight \"%.40s\" (a number from "
			       "-1000 to 1000)", path, lineno, val);
	w->w[i] = d;
	return 0;
}

static int weights_file(struct filter_weights *w, const char *path,
			struct err *err)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned lineno = 0;
	size_t total = 0;
	int rc = 0;

	if (f == NULL)
		return err_set(err, ERR_ENV, 0, NULL, "%s: %s", path,
			       strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		char *p = line, *hash;

		lineno++;
		total += len;
		if (total > WEIGHTS_FILE_MAX) {
			rc = err_set(err, ERR_CONFIG, 0, NULL,
				     "%s: longer than %u bytes", path,
				     WEIGHTS_FILE_MAX);
			break;
		}
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			rc = err_set(err, ERR_CONFIG, 0, NULL,
				     "%s:%u: line too long", path, lineno);
			break;
		}
		hash = strchr(p, '#');
		if (hash != NULL)
			*hash = '\0';
		p += strspn(p, " \t\r\n");
		len = strlen(p);
		while (len > 0 && strchr(" \t\r\n", p[len - 1]) != NULL)
			p[--len] = '\0';
		if (len > 0)
			rc = weights_line(w, p, path, lineno, err);
	}
	if (rc == 0 && ferror(f))
		rc = err_set(err, ERR_ENV, 0, NULL, "%s: read error", path);
	fclose(f);
	return rc;
}

int filter_weights_new(const char *path, struct filter_weights **out,
		       struct err *err)
{
	struct filter_weights *w = xcalloc(1, sizeof(*w));

	*out = NULL;
	w->n = filter_sym_defs_count();
	w->def = xcalloc(w->n ? w->n : 1, sizeof(*w->def));
	w->w = xcalloc(w->n ? w->n : 1, sizeof(*w->w));
	for (size_t i = 0; i < w->n; i++)
		w->def[i] = filter_sym_def_at(i);
	qsort(w->def, w->n, sizeof(*w->def), def_cmp);
	for (size_t i = 0; i < w->n; i++)
		w->w[i] = w->def[i]->weight;
	if (path != NULL && path[0] != '\0' && weights_file(w, path, err) < 0) {
		filter_weights_free(&w);
		return -1;
	}
	*out = w;
	return 0;
}

void filter_weights_free(struct filter_weights **wp)
{
	struct filter_weights *w = *wp;

	if (w == NULL)
		return;
	free(w->def);
	free(w->w);
	free(w);
	*wp = NULL;
}

double filter_weight(const struct filter_weights *w, const char *name)
{
	long i;

	if (w == NULL) {
		const struct filter_sym_def *d = filter_sym_def_find(name);

		return d != NULL ? d->weight : 0;
	}
	i = find_index(w, name);
	return i < 0 ? 0 : w->w[i];
}

void filter_syms_init(struct filter_syms *s)
{
	s->n = 0;
	s->dropped = 0;
	s->total = 0;
}

static void copy_printable(char *dst, size_t dstsz, const char *src)
{
	size_t i = 0;

	for (; src != NULL && src[i] != '\0' && i + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[i] = '\0';
}

double filter_sym_add_score(struct filter_syms *s, const char *name,
			    double score, const char *detail)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].name, name) != 0)
			continue;
		if (fabs(score) <= fabs(s->v[i].score))
			return 0;
		s->total += score - s->v[i].score;
		s->v[i].score = score;
		copy_printable(s->v[i].detail, sizeof(s->v[i].detail), detail);
		return score;
	}
	s->total += score;
	if (s->n == FILTER_SYMS_MAX) {
		s->dropped++;
		return score;
	}
	copy_printable(s->v[s->n].name, sizeof(s->v[s->n].name), name);
	s->v[s->n].score = score;
	copy_printable(s->v[s->n].detail, sizeof(s->v[s->n].detail), detail);
	s->n++;
	return score;
}

double filter_sym_add(struct filter_syms *s, const struct filter_weights *w,
		      const char *name, double factor, const char *fmt, ...)
{
	char detail[FILTER_SYM_DETAIL_MAX] = "";
	double score = filter_weight(w, name) * factor;
	va_list ap;

	if (score == 0)
		return 0;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	return filter_sym_add_score(s, name, score, detail);
}

bool filter_syms_has(const struct filter_syms *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return true;
	return false;
}
