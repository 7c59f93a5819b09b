/* engine_syms.c - the symbols the verdict step itself adds. */
#include "filter/sym_table.h"

const struct filter_sym_def filter_syms_engine[] = {
	{ "ALLOW_LIST", -100, "the sender or client is on an allow list and "
	  "the message is authenticated for it" },
	{ "ALLOW_LIST_UNAUTH", 0.5, "the sender is on an allow list but the "
	  "message is not authenticated for it, so the allow is ignored" },
	{ "BLOCK_LIST", 100, "the sender or client is on a block list" },
};

const size_t filter_syms_engine_n =
	sizeof(filter_syms_engine) / sizeof(filter_syms_engine[0]);
