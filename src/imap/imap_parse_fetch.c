/* imap_parse_fetch.c - FETCH items and body sections (RFC 9051 6.4.5 and
 * 9: fetch-att, section, section-spec, section-part, partial; RFC 3516
 * section-binary). The reader hands "BODY[HEADER.FIELDS (A B)]<0.10>" over
 * as one atom; this file takes it apart. Literal header names inside the
 * brackets are not supported (no client sends them). */
#include "imap/imap_parse_fetch.h"

#include <string.h>

#include "imap/imap_parse_value.h"

static int bad_item(struct err *err, struct span s)
{
	return err_set(err, ERR_PEER, 0, "", "Invalid fetch item %.*s",
		       (int)(s.len > 40 ? 40 : s.len), (const char *)s.p);
}

static int too_complex(struct err *err)
{
	return err_set(err, ERR_LIMIT, 0, "", "Command too complex");
}

struct cursor {
	struct span s;
	size_t i;
};

static bool at_end(const struct cursor *c)
{
	return c->i >= c->s.len;
}

static unsigned char peek(const struct cursor *c)
{
	return at_end(c) ? 0 : c->s.p[c->i];
}

/* Case-insensitive keyword at the cursor; taken if present. */
static bool take_word(struct cursor *c, const char *w)
{
	size_t n = strlen(w);
	if (c->s.len - c->i < n ||
	    !span_eq_ci(span_make(c->s.p + c->i, n), w))
		return false;
	c->i += n;
	return true;
}

static bool is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Digits at the cursor as a span (possibly empty). */
static struct span take_digits(struct cursor *c)
{
	size_t start = c->i;
	while (!at_end(c) && is_digit(peek(c)))
		c->i++;
	return span_make(c->s.p + start, c->i - start);
}

/* RFC 5322 3.6.8 field-name: printable ASCII except ":" */
static bool field_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != ':';
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")", each an
 * astring (atom or quoted string). */
static int header_list(struct cursor *c, struct imap_arena *a,
		       struct imap_fetch_body *b)
{
	if (peek(c) != ' ')
		return -1;
	c->i++;
	if (peek(c) != '(')
		return -1;
	c->i++;
	size_t cap = 0;
	for (size_t k = c->i; k < c->s.len && c->s.p[k] != ')'; k++)
		if (c->s.p[k] == ' ')
			cap++;
	cap++;
	if (cap > IMAP_FETCH_FIELDS_MAX)
		return -2;
	struct span *f = imap_arena_calloc(a, cap, sizeof *f);
	if (f == NULL)
		return -2;
	/* all names, unquoted, packed into one block as long as the rest */
	unsigned char *pool = imap_arena_alloc(a, c->s.len - c->i + 1);
	if (pool == NULL)
		return -2;
	size_t n = 0;
	for (;;) {
		unsigned char *name = pool;
		size_t len = 0;
		if (peek(c) == '"') {
			c->i++;
			for (;;) {
				unsigned char ch = peek(c);
				if (at_end(c))
					return -1;
				c->i++;
				if (ch == '"')
					break;
				if (ch == '\\') {
					ch = peek(c);
					if (ch != '"' && ch != '\\')
						return -1;
					c->i++;
				}
				name[len++] = ch;
			}
		} else {
			while (!at_end(c) && peek(c) != ' ' && peek(c) != ')' &&
			       peek(c) != '(' && peek(c) != '"')
				name[len++] = c->s.p[c->i++];
		}
		if (len == 0 || n >= cap)
			return -1;
		for (size_t k = 0; k < len; k++)
			if (!field_char(name[k]))
				return -1;
		f[n++] = span_make(name, len);
		pool += len;
		if (peek(c) == ')') {
			c->i++;
			break;
		}
		if (peek(c) != ' ')
			return -1;
		c->i++;
	}
	b->fields = f;
	b->nfields = n;
	return 0;
}

/* The text between "[" and "]". -1 bad syntax, -2 arena full or over a
 * limit. */
static int section_spec(struct span s, struct imap_arena *a,
			struct imap_fetch_body *b)
{
	struct cursor c = { s, 0 };
	b->kind = IMAP_SECTION_ALL;
	uint32_t parts[IMAP_FETCH_PART_DEPTH_MAX];
	size_t np = 0;
	/* section-part = nz-number *("." nz-number) */
	while (is_digit(peek(&c))) {
		if (np >= IMAP_FETCH_PART_DEPTH_MAX)
			return -2;
		if (imap_parse_nz_number(take_digits(&c), &parts[np++]) != 0)
			return -1;
		if (peek(&c) != '.')
			break;
		c.i++;
		if (!is_digit(peek(&c)))
			break;	/* "." section-text follows */
	}
	if (np > 0) {
		uint32_t *p = imap_arena_calloc(a, np, sizeof *p);
		if (p == NULL)
			return -2;
		memcpy(p, parts, np * sizeof *p);
		b->part = p;
		b->part_len = np;
		/* "1." is not a section; "1HEADER" neither */
		if (at_end(&c))
			return c.s.p[c.i - 1] == '.' ? -1 : 0;
		if (c.s.p[c.i - 1] != '.')
			return -1;
	}
	if (at_end(&c))
		return 0;
	if (b->type != IMAP_FETCH_BODY_SECTION)
		return -1;	/* section-binary = "[" [section-part] "]" */
	if (take_word(&c, "HEADER.FIELDS.NOT")) {
		b->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
	} else if (take_word(&c, "HEADER.FIELDS")) {
		b->kind = IMAP_SECTION_HEADER_FIELDS;
	} else if (take_word(&c, "HEADER")) {
		b->kind = IMAP_SECTION_HEADER;
	} else if (take_word(&c, "TEXT")) {
		b->kind = IMAP_SECTION_TEXT;
	} else if (take_word(&c, "MIME")) {
		if (np == 0)
			return -1;	/* section-text "MIME" needs a part */
		b->kind = IMAP_SECTION_MIME;
	} else {
		return -1;
	}
	if (b->kind == IMAP_SECTION_HEADER_FIELDS ||
	    b->kind == IMAP_SECTION_HEADER_FIELDS_NOT) {
		int rc = header_list(&c, a, b);
		if (rc != 0)
			return rc;
	}
	return at_end(&c) ? 0 : -1;
}

/* "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE" followed by
 * "[section]" and, except for BINARY.SIZE, an optional "<n.m>". */
static int section_item(struct span s, struct imap_arena *a,
			struct imap_fetch_atts *out, struct imap_fetch_body *b,
			struct err *err)
{
	struct cursor c = { s, 0 };
	memset(b, 0, sizeof *b);
	if (take_word(&c, "BODY.PEEK")) {
		b->type = IMAP_FETCH_BODY_SECTION;
		b->peek = true;
	} else if (take_word(&c, "BODY")) {
		b->type = IMAP_FETCH_BODY_SECTION;
		if (at_end(&c)) {
			out->items |= IMAP_FETCH_BODY;
			return 1;	/* no section: not a body */
		}
	} else if (take_word(&c, "BINARY.PEEK")) {
		b->type = IMAP_FETCH_BINARY;
		b->peek = true;
	} else if (take_word(&c, "BINARY.SIZE")) {
		b->type = IMAP_FETCH_BINARY_SIZE;
	} else if (take_word(&c, "BINARY")) {
		b->type = IMAP_FETCH_BINARY;
	} else {
		return bad_item(err, s);
	}
	if (peek(&c) != '[')
		return bad_item(err, s);
	c.i++;
	const unsigned char *close = memchr(c.s.p + c.i, ']', c.s.len - c.i);
	if (close == NULL)
		return bad_item(err, s);
	/* a "]" inside a quoted header name would end the section early;
	 * names cannot hold one (RFC 5322 3.6.8 allows it, nobody uses it) */
	size_t end = (size_t)(close - c.s.p);
	b->section = span_make(c.s.p + c.i, end - c.i);
	int rc = section_spec(b->section, a, b);
	if (rc == -2)
		return too_complex(err);
	if (rc != 0)
		return bad_item(err, s);
	c.i = end + 1;
	if (at_end(&c))
		return 0;
	/* partial = "<" number64 "." nz-number64 ">" */
	if (b->type == IMAP_FETCH_BINARY_SIZE || peek(&c) != '<')
		return bad_item(err, s);
	c.i++;
	struct span off = take_digits(&c);
	if (peek(&c) != '.')
		return bad_item(err, s);
	c.i++;
	struct span cnt = take_digits(&c);
	if (peek(&c) != '>' || c.i + 1 != c.s.len ||
	    imap_parse_number64(off, &b->offset) != 0 ||
	    imap_parse_number64(cnt, &b->count) != 0 || b->count == 0)
		return bad_item(err, s);
	b->partial = true;
	return 0;
}

static const struct {
	const char *name;
	unsigned items;
} simple_items[] = {
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
	{ "UID", IMAP_FETCH_UID },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "EMAILID", IMAP_FETCH_EMAILID },
	{ "THREADID", IMAP_FETCH_THREADID },
	{ "SAVEDATE", IMAP_FETCH_SAVEDATE },
};

/* One fetch-att. Returns 0 when b was filled, 1 when only items changed. */
static int fetch_att(const struct imap_arg *arg, struct imap_arena *a,
		     struct imap_fetch_atts *out, struct imap_fetch_body *b,
		     struct err *err)
{
	if (arg->type != IMAP_ARG_ATOM)
		return err_set(err, ERR_PEER, 0, "", "Invalid fetch item");
	struct span s = arg->str;
	for (size_t k = 0; k < sizeof simple_items / sizeof simple_items[0]; k++) {
		if (span_eq_ci(s, simple_items[k].name)) {
			out->items |= simple_items[k].items;
			return 1;
		}
	}
	memset(b, 0, sizeof *b);
	b->type = IMAP_FETCH_BODY_SECTION;
	if (span_eq_ci(s, "RFC822")) {
		b->legacy = IMAP_FETCH_LEGACY_RFC822;
		b->kind = IMAP_SECTION_ALL;
		return 0;
	}
	if (span_eq_ci(s, "RFC822.HEADER")) {
		b->legacy = IMAP_FETCH_LEGACY_HEADER;
		b->kind = IMAP_SECTION_HEADER;
		b->peek = true;
		b->section = span_make("HEADER", 6);
		return 0;
	}
	if (span_eq_ci(s, "RFC822.TEXT")) {
		b->legacy = IMAP_FETCH_LEGACY_TEXT;
		b->kind = IMAP_SECTION_TEXT;
		b->section = span_make("TEXT", 4);
		return 0;
	}
	return section_item(s, a, out, b, err);
}

int imap_parse_fetch_atts(const struct imap_arg *arg, struct imap_arena *a,
			  struct imap_fetch_atts *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	if (arg->type == IMAP_ARG_ATOM) {
		/* RFC 9051 6.4.5 macros, only on their own */
		if (span_eq_ci(arg->str, "ALL")) {
			out->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				     IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE;
			return 0;
		}
		if (span_eq_ci(arg->str, "FAST")) {
			out->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				     IMAP_FETCH_RFC822_SIZE;
			return 0;
		}
		if (span_eq_ci(arg->str, "FULL")) {
			out->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				     IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE |
				     IMAP_FETCH_BODY;
			return 0;
		}
	}
	const struct imap_arg *v = arg;
	size_t n = 1;
	if (arg->type == IMAP_ARG_LIST) {
		v = arg->list;
		n = arg->list_len;
		if (n == 0)
			return err_set(err, ERR_PEER, 0, "", "Empty fetch item list");
	}
	struct imap_fetch_body *bodies = imap_arena_calloc(a, n, sizeof *bodies);
	if (bodies == NULL)
		return too_complex(err);
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = fetch_att(&v[i], a, out, &bodies[nb], err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			nb++;
	}
	out->bodies = bodies;
	out->nbodies = nb;
	return 0;
}

int imap_parse_fetch_modifiers(const struct imap_arg *arg,
			       uint64_t *changedsince_out, bool *vanished_out,
			       struct err *err)
{
	*changedsince_out = 0;
	*vanished_out = false;
	if (arg->type != IMAP_ARG_LIST || arg->list_len == 0)
		return err_set(err, ERR_PEER, 0, "", "Invalid fetch modifiers");
	bool have_since = false;
	for (size_t i = 0; i < arg->list_len; i++) {
		const struct imap_arg *m = &arg->list[i];
		if (imap_arg_atom_is(m, "CHANGEDSINCE") && !have_since &&
		    i + 1 < arg->list_len &&
		    arg->list[i + 1].type == IMAP_ARG_ATOM &&
		    imap_parse_number64(arg->list[i + 1].str, changedsince_out) == 0 &&
		    *changedsince_out > 0) {
			have_since = true;
			i++;
		} else if (imap_arg_atom_is(m, "VANISHED") && !*vanished_out) {
			*vanished_out = true;
		} else {
			return err_set(err, ERR_PEER, 0, "", "Invalid fetch modifiers");
		}
	}
	if (*vanished_out && !have_since)
		return err_set(err, ERR_PEER, 0, "", "VANISHED needs CHANGEDSINCE");
	return 0;
}
