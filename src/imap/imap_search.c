/* imap_search.c - SEARCH keys into a tree (RFC 9051 6.4.4, 9 search-key;
 * RFC 3501 6.4.4; RFC 7162 3.1.5; RFC 5032 3; RFC 8474 6; RFC 4731 3.1).
 * A recursive descent over the argument tree whose depth and key count
 * are capped, so a hostile "NOT NOT NOT ..." or ten thousand keys end in a
 * clear error, not a deep stack or a long evaluation. */
#include "imap/imap_search.h"

#include <string.h>

void imap_search_limits_default(struct imap_search_limits *lim)
{
	lim->max_keys = IMAP_SEARCH_MAX_KEYS_DEFAULT;
	lim->max_depth = IMAP_SEARCH_MAX_DEPTH_DEFAULT;
}

struct ctx {
	const struct imap_search_limits *lim;
	struct imap_arena *a;
	struct err *err;
	unsigned keys;
};

/* A cursor over one level of arguments. */
struct level {
	const struct imap_arg *v;
	size_t n, i;
};

enum argkind { ARG_NONE, ARG_STRING, ARG_DATE, ARG_NUMBER, ARG_SEQSET,
	       ARG_HEADER, ARG_ATOM, ARG_MODSEQ, ARG_NZ };

static const struct {
	const char *name;
	enum imap_search_type type;
	enum argkind arg;
} keys[] = {
	{ "ALL", IMAP_SEARCH_ALL, ARG_NONE },
	{ "ANSWERED", IMAP_SEARCH_ANSWERED, ARG_NONE },
	{ "DELETED", IMAP_SEARCH_DELETED, ARG_NONE },
	{ "DRAFT", IMAP_SEARCH_DRAFT, ARG_NONE },
	{ "FLAGGED", IMAP_SEARCH_FLAGGED, ARG_NONE },
	{ "SEEN", IMAP_SEARCH_SEEN, ARG_NONE },
	{ "NEW", IMAP_SEARCH_NEW, ARG_NONE },
	{ "OLD", IMAP_SEARCH_OLD, ARG_NONE },
	{ "RECENT", IMAP_SEARCH_RECENT, ARG_NONE },
	{ "UNANSWERED", IMAP_SEARCH_UNANSWERED, ARG_NONE },
	{ "UNDELETED", IMAP_SEARCH_UNDELETED, ARG_NONE },
	{ "UNDRAFT", IMAP_SEARCH_UNDRAFT, ARG_NONE },
	{ "UNFLAGGED", IMAP_SEARCH_UNFLAGGED, ARG_NONE },
	{ "UNSEEN", IMAP_SEARCH_UNSEEN, ARG_NONE },
	{ "KEYWORD", IMAP_SEARCH_KEYWORD, ARG_ATOM },
	{ "UNKEYWORD", IMAP_SEARCH_UNKEYWORD, ARG_ATOM },
	{ "BCC", IMAP_SEARCH_BCC, ARG_STRING },
	{ "BODY", IMAP_SEARCH_BODY, ARG_STRING },
	{ "CC", IMAP_SEARCH_CC, ARG_STRING },
	{ "FROM", IMAP_SEARCH_FROM, ARG_STRING },
	{ "SUBJECT", IMAP_SEARCH_SUBJECT, ARG_STRING },
	{ "TEXT", IMAP_SEARCH_TEXT, ARG_STRING },
	{ "TO", IMAP_SEARCH_TO, ARG_STRING },
	{ "HEADER", IMAP_SEARCH_HEADER, ARG_HEADER },
	{ "BEFORE", IMAP_SEARCH_BEFORE, ARG_DATE },
	{ "ON", IMAP_SEARCH_ON, ARG_DATE },
	{ "SINCE", IMAP_SEARCH_SINCE, ARG_DATE },
	{ "SENTBEFORE", IMAP_SEARCH_SENTBEFORE, ARG_DATE },
	{ "SENTON", IMAP_SEARCH_SENTON, ARG_DATE },
	{ "SENTSINCE", IMAP_SEARCH_SENTSINCE, ARG_DATE },
	{ "LARGER", IMAP_SEARCH_LARGER, ARG_NUMBER },
	{ "SMALLER", IMAP_SEARCH_SMALLER, ARG_NUMBER },
	{ "UID", IMAP_SEARCH_UID, ARG_SEQSET },
	{ "OLDER", IMAP_SEARCH_OLDER, ARG_NZ },
	{ "YOUNGER", IMAP_SEARCH_YOUNGER, ARG_NZ },
	{ "MODSEQ", IMAP_SEARCH_MODSEQ, ARG_MODSEQ },
	{ "EMAILID", IMAP_SEARCH_EMAILID, ARG_ATOM },
	{ "THREADID", IMAP_SEARCH_THREADID, ARG_ATOM },
};

static int bad(struct ctx *c, const char *msg)
{
	return err_set(c->err, ERR_PEER, 0, "", "%s", msg);
}

static int complex_(struct ctx *c)
{
	return err_set(c->err, ERR_LIMIT, 0, "", "Command too complex");
}

/* The next argument of the level, or NULL with err set. */
static const struct imap_arg *next_arg(struct ctx *c, struct level *l,
				       const char *key)
{
	if (l->i >= l->n) {
		err_set(c->err, ERR_PEER, 0, "", "Missing argument for %s", key);
		return NULL;
	}
	return &l->v[l->i++];
}

/* An astring argument copied into the key (already NUL-terminated in the
 * arena: the command's own bytes are used). */
static int take_string(struct ctx *c, struct level *l, const char *key,
		       struct span *out)
{
	const struct imap_arg *a = next_arg(c, l, key);
	if (a == NULL)
		return -1;
	if (!imap_arg_astring(a, out))
		return err_set(c->err, ERR_PEER, 0, "", "Invalid argument for %s",
			       key);
	return 0;
}

static int parse_key(struct ctx *c, struct level *l, unsigned depth,
		     struct imap_search_key *k);

/* Keys of a level ANDed into k (a parenthesised list or the program). */
static int parse_and(struct ctx *c, struct level *l, unsigned depth,
		     struct imap_search_key *k)
{
	k->type = IMAP_SEARCH_AND;
	if (l->n == 0)
		return bad(c, "Empty search program");
	struct imap_search_key *v = imap_arena_calloc(c->a, l->n, sizeof *v);
	if (v == NULL)
		return complex_(c);
	size_t m = 0;
	while (l->i < l->n) {
		if (parse_key(c, l, depth, &v[m]) != 0)
			return -1;
		m++;
	}
	k->children = v;
	k->nchildren = m;
	return 0;
}

static int modseq_args(struct ctx *c, struct level *l,
		       struct imap_search_key *k)
{
	/* "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer */
	const struct imap_arg *a = next_arg(c, l, "MODSEQ");
	if (a == NULL)
		return -1;
	if (a->type == IMAP_ARG_STRING) {
		k->entry = a->str;
		const struct imap_arg *t = next_arg(c, l, "MODSEQ");
		if (t == NULL)
			return -1;
		if (imap_arg_atom_is(t, "priv"))
			k->entry_type = IMAP_SEARCH_ENTRY_PRIV;
		else if (imap_arg_atom_is(t, "shared"))
			k->entry_type = IMAP_SEARCH_ENTRY_SHARED;
		else if (imap_arg_atom_is(t, "all"))
			k->entry_type = IMAP_SEARCH_ENTRY_ALL;
		else
			return bad(c, "Invalid MODSEQ entry type");
		a = next_arg(c, l, "MODSEQ");
		if (a == NULL)
			return -1;
	}
	if (a->type != IMAP_ARG_ATOM ||
	    imap_parse_number64(a->str, &k->number) != 0)
		return bad(c, "Invalid MODSEQ value");
	return 0;
}

static int key_args(struct ctx *c, struct level *l, const char *name,
		    enum argkind kind, struct imap_search_key *k)
{
	const struct imap_arg *a;
	switch (kind) {
	case ARG_NONE:
		return 0;
	case ARG_STRING:
		return take_string(c, l, name, &k->str);
	case ARG_ATOM:
		if ((a = next_arg(c, l, name)) == NULL)
			return -1;
		if (a->type != IMAP_ARG_ATOM || a->str.len == 0)
			return err_set(c->err, ERR_PEER, 0, "",
				       "Invalid argument for %s", name);
		k->str = a->str;
		return 0;
	case ARG_HEADER:
		if (take_string(c, l, name, &k->field) != 0 ||
		    take_string(c, l, name, &k->str) != 0)
			return -1;
		return 0;
	case ARG_DATE:
		if ((a = next_arg(c, l, name)) == NULL)
			return -1;
		return imap_parse_date(a, &k->date, c->err);
	case ARG_NUMBER:
	case ARG_NZ:
		if ((a = next_arg(c, l, name)) == NULL)
			return -1;
		if (a->type != IMAP_ARG_ATOM ||
		    imap_parse_number64(a->str, &k->number) != 0 ||
		    (kind == ARG_NZ && k->number == 0))
			return err_set(c->err, ERR_PEER, 0, "",
				       "Invalid number for %s", name);
		return 0;
	case ARG_SEQSET:
		if ((a = next_arg(c, l, name)) == NULL)
			return -1;
		return imap_seqset_parse_arg(a, c->a, &k->seqset, c->err);
	case ARG_MODSEQ:
		return modseq_args(c, l, k);
	}
	return bad(c, "Invalid search key");
}

static int parse_key(struct ctx *c, struct level *l, unsigned depth,
		     struct imap_search_key *k)
{
	if (depth >= c->lim->max_depth)
		return err_set(c->err, ERR_LIMIT, 0, "", "Search program too deep");
	if (c->keys >= c->lim->max_keys)
		return err_set(c->err, ERR_LIMIT, 0, "", "Too many search keys");
	c->keys++;
	memset(k, 0, sizeof *k);
	const struct imap_arg *a = &l->v[l->i++];
	if (a->type == IMAP_ARG_LIST) {
		struct level sub = { a->list, a->list_len, 0 };
		return parse_and(c, &sub, depth + 1, k);
	}
	if (a->type != IMAP_ARG_ATOM)
		return bad(c, "Invalid search key");
	struct span s = a->str;
	if (s.len > 0 && ((s.p[0] >= '0' && s.p[0] <= '9') || s.p[0] == '*' ||
			  s.p[0] == '$')) {
		k->type = IMAP_SEARCH_SEQSET;
		return imap_seqset_parse(s, c->a, &k->seqset, c->err);
	}
	if (span_eq_ci(s, "NOT") || span_eq_ci(s, "OR")) {
		bool is_or = span_eq_ci(s, "OR");
		size_t n = is_or ? 2 : 1;
		struct imap_search_key *v = imap_arena_calloc(c->a, n, sizeof *v);
		if (v == NULL)
			return complex_(c);
		for (size_t i = 0; i < n; i++) {
			if (l->i >= l->n)
				return err_set(c->err, ERR_PEER, 0, "",
					       "Missing argument for %s",
					       is_or ? "OR" : "NOT");
			if (parse_key(c, l, depth + 1, &v[i]) != 0)
				return -1;
		}
		k->type = is_or ? IMAP_SEARCH_OR : IMAP_SEARCH_NOT;
		k->children = v;
		k->nchildren = n;
		return 0;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (span_eq_ci(s, keys[i].name)) {
			k->type = keys[i].type;
			return key_args(c, l, keys[i].name, keys[i].arg, k);
		}
	}
	return err_set(c->err, ERR_PEER, 0, "", "Unknown search key %.*s",
		       (int)(s.len > 40 ? 40 : s.len), (const char *)s.p);
}

int imap_search_parse(const struct imap_arg *args, size_t n,
		      const struct imap_search_limits *lim,
		      struct imap_arena *a, struct imap_search_key *out,
		      struct err *err)
{
	struct ctx c = { lim, a, err, 0 };
	struct level l = { args, n, 0 };
	memset(out, 0, sizeof *out);
	return parse_and(&c, &l, 0, out);
}

static const struct {
	const char *name;
	unsigned bit;
} return_opts[] = {
	{ "MIN", IMAP_SEARCH_RETURN_MIN },
	{ "MAX", IMAP_SEARCH_RETURN_MAX },
	{ "ALL", IMAP_SEARCH_RETURN_ALL },
	{ "COUNT", IMAP_SEARCH_RETURN_COUNT },
	{ "SAVE", IMAP_SEARCH_RETURN_SAVE },
	{ "PARTIAL", IMAP_SEARCH_RETURN_PARTIAL },
	{ "UPDATE", IMAP_SEARCH_RETURN_UPDATE },
	{ "CONTEXT", IMAP_SEARCH_RETURN_CONTEXT },
};

/* partial-range = nz-number ":" nz-number (RFC 5267 5) */
static int partial_range(const struct imap_arg *a, uint32_t *lo, uint32_t *hi)
{
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	const unsigned char *colon = memchr(a->str.p, ':', a->str.len);
	if (colon == NULL)
		return -1;
	size_t k = (size_t)(colon - a->str.p);
	uint32_t x, y;
	if (imap_parse_number(span_make(a->str.p, k), &x) != 0 ||
	    imap_parse_number(span_make(colon + 1, a->str.len - k - 1), &y) != 0 ||
	    x == 0 || y == 0)
		return -1;
	*lo = x < y ? x : y;
	*hi = x < y ? y : x;
	return 0;
}

int imap_search_parse_return(const struct imap_arg *list, unsigned allowed,
			     unsigned *ret_out, uint32_t *lo_out,
			     uint32_t *hi_out, struct err *err)
{
	*ret_out = 0;
	*lo_out = *hi_out = 0;
	if (list->type != IMAP_ARG_LIST)
		return err_set(err, ERR_PEER, 0, "", "Invalid RETURN options");
	for (size_t k = 0; k < list->list_len; k++) {
		size_t j = 0;
		for (; j < sizeof return_opts / sizeof return_opts[0]; j++)
			if (imap_arg_atom_is(&list->list[k], return_opts[j].name))
				break;
		if (j == sizeof return_opts / sizeof return_opts[0] ||
		    !(return_opts[j].bit & allowed))
			return err_set(err, ERR_PEER, 0, "", "Invalid RETURN option");
		unsigned bit = return_opts[j].bit;
		if ((bit & (IMAP_SEARCH_RETURN_PARTIAL | IMAP_SEARCH_RETURN_UPDATE)) &&
		    (*ret_out & bit))
			return err_set(err, ERR_PEER, 0, "", "Repeated RETURN option");
		if (bit == IMAP_SEARCH_RETURN_PARTIAL &&
		    (k + 1 >= list->list_len ||
		     partial_range(&list->list[++k], lo_out, hi_out) != 0))
			return err_set(err, ERR_PEER, 0, "", "Invalid PARTIAL range");
		*ret_out |= bit;
	}
	if ((*ret_out & IMAP_SEARCH_RETURN_PARTIAL) && (*ret_out & IMAP_SEARCH_RETURN_ALL))
		return err_set(err, ERR_PEER, 0, "", "PARTIAL conflicts with ALL");
	return 0;
}

int imap_search_parse_command(const struct imap_arg *args, size_t n,
			      const struct imap_search_limits *lim,
			      struct imap_arena *a, struct imap_search_cmd *out,
			      struct err *err)
{
	memset(out, 0, sizeof *out);
	size_t i = 0;
	if (i + 1 < n && imap_arg_atom_is(&args[i], "RETURN")) {
		if (imap_search_parse_return(&args[i + 1], ~0u, &out->ret,
					     &out->partial_lo, &out->partial_hi, err) != 0)
			return -1;
		out->has_return = true;
		i += 2;
	}
	if (i + 1 < n && imap_arg_atom_is(&args[i], "CHARSET")) {
		if (!imap_arg_astring(&args[i + 1], &out->charset) ||
		    out->charset.len == 0)
			return err_set(err, ERR_PEER, 0, "", "Invalid CHARSET");
		i += 2;
	}
	/* args may be NULL when n is 0: no pointer arithmetic on it */
	return imap_search_parse(i < n ? args + i : NULL, n - i, lim, a,
				 &out->program, err);
}
