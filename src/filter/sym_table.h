/* sym_table.h - where the symbol tables of the check modules are listed
 * (sym_table.c). Each module defines its table and its length:
 *   const struct filter_sym_def filter_syms_X[] = { ... };
 *   const size_t filter_syms_X_n = sizeof ... ;
 * declares both here and adds one line to sym_table.c. */
#ifndef PETREL_FILTER_SYM_TABLE_H
#define PETREL_FILTER_SYM_TABLE_H

#include <stddef.h>

#include "filter/sym.h"

struct filter_sym_table {
	const struct filter_sym_def *defs;
	const size_t *n;
};

extern const struct filter_sym_table filter_sym_tables[];
extern const size_t filter_sym_tables_n;

/* engine_syms.c: the allow and block lists */
extern const struct filter_sym_def filter_syms_engine[];
extern const size_t filter_syms_engine_n;
/* bayes.c: the statistical classifier */
extern const struct filter_sym_def filter_syms_bayes[];
extern const size_t filter_syms_bayes_n;

/* rep.c: DNS blocklists, URL feeds, threat-intelligence API */
extern const struct filter_sym_def filter_syms_rep[];
extern const size_t filter_syms_rep_n;

/* rules_syms.c: the message rules (rules.h) */
extern const struct filter_sym_def filter_syms_rules[];
extern const size_t filter_syms_rules_n;

#endif
