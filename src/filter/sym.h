/* sym.h - the explanation of a filter verdict: named symbols, each with
 * a score, that add up to the message's total (issue 7 items 3 and 5).
 * Every check that can add to a score declares its symbols once, with a
 * default weight and a one-line description, in a table of its own
 * (struct filter_sym_def arrays); sym_table.c lists the tables. The
 * admin may change any weight in a weights file (filter_weights key):
 * one "NAME WEIGHT" per line, '#' comments; an unknown name or a bad
 * number stops startup with file:line.
 * Symbol names are upper case ASCII letters, digits and '_' (at most
 * FILTER_SYM_NAME_MAX - 1 octets); details are printable ASCII (other
 * octets are replaced by '?') so both go into a header as they are.
 * A weights object is immutable once built and shared between threads;
 * a filter_syms belongs to one message. */
#ifndef PETREL_FILTER_SYM_H
#define PETREL_FILTER_SYM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define FILTER_SYM_NAME_MAX 32
#define FILTER_SYM_DETAIL_MAX 160
#define FILTER_SYMS_MAX 48

struct filter_sym_def {
	const char *name;
	double weight;		/* default score when the symbol fires */
	const char *what;	/* one line for docs and `filter symbols` */
};

struct filter_sym {
	char name[FILTER_SYM_NAME_MAX];
	double score;
	char detail[FILTER_SYM_DETAIL_MAX];	/* "" or why it fired */
};

struct filter_syms {
	size_t n;
	size_t dropped;		/* past FILTER_SYMS_MAX: still scored */
	double total;		/* sum of every score, dropped included */
	struct filter_sym v[FILTER_SYMS_MAX];
};

struct filter_weights;

/* Every symbol known (all tables), for docs and listing. */
size_t filter_sym_defs_count(void);
const struct filter_sym_def *filter_sym_def_at(size_t i);
const struct filter_sym_def *filter_sym_def_find(const char *name);

/* The default weights, then those of the file at path (NULL or "": none).
 * -1 with err (ERR_CONFIG "path:line: ...", ERR_ENV unreadable). */
int filter_weights_new(const char *path, struct filter_weights **out,
		       struct err *err) __attribute__((warn_unused_result));
void filter_weights_free(struct filter_weights **w);
/* The weight of a declared symbol; 0 for an unknown name (a bug: the
 * unit test checks every name used is declared). */
double filter_weight(const struct filter_weights *w, const char *name);

void filter_syms_init(struct filter_syms *s);
/* Add symbol name scored weight(name) * factor, with a printf detail
 * (fmt may be NULL). A symbol already present is not added twice: the
 * larger score is kept. A weight of 0 (disabled by the admin) adds
 * nothing. Returns the score added. */
double filter_sym_add(struct filter_syms *s, const struct filter_weights *w,
		      const char *name, double factor, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Add with an explicit score (the classifier's graded one), same rules. */
double filter_sym_add_score(struct filter_syms *s, const char *name,
			    double score, const char *detail);
bool filter_syms_has(const struct filter_syms *s, const char *name);

#endif
