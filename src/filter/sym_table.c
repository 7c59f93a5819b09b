/* sym_table.c - the list of every symbol table: one line per check
 * module. A module's table is declared next to its code. */
#include "filter/sym_table.h"

const struct filter_sym_table filter_sym_tables[] = {
	{ filter_syms_engine, &filter_syms_engine_n },
	{ filter_syms_rep, &filter_syms_rep_n },
	{ filter_syms_bayes, &filter_syms_bayes_n },
	{ filter_syms_rules, &filter_syms_rules_n },
};

const size_t filter_sym_tables_n =
	sizeof(filter_sym_tables) / sizeof(filter_sym_tables[0]);
