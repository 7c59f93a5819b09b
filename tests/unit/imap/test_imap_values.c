/* test_imap_values.c - cmocka tests of the readers of a parsed IMAP
 * command: sequence sets (imap_seqset.c), FETCH items
 * (imap_parse_fetch.c), SEARCH programs (imap_search.c), mailbox names and
 * modified UTF-7 (imap_parse_mailbox.c), dates, numbers and flags
 * (imap_parse_value.c). Each table row is a command line run through the
 * real reader, so the tests see the argument trees a server sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap_parse.h"
#include "imap/imap_parse_fetch.h"
#include "imap/imap_parse_value.h"
#include "imap/imap_search.h"
#include "imap/imap_seqset.h"

/* Parse one command line; the parser stays alive until the next call. */
static struct imap_parser *g_parser;

static const struct imap_cmd *parse(const char *line)
{
	if (g_parser == NULL) {
		struct imap_parse_limits lim;
		imap_parse_limits_default(&lim);
		lim.utf8 = true;
		g_parser = imap_parser_new(&lim);
	}
	size_t n = strlen(line);
	assert_int_equal(imap_parser_push(g_parser, line, n), n);
	const struct imap_cmd *cmd = NULL;
	int rc = imap_parser_next(g_parser, &cmd);
	if (rc != IMAP_PARSE_COMMAND)
		fail_msg("\"%s\" did not parse: %d %s", line, rc,
			 imap_parser_error(g_parser)->err.msg);
	return cmd;
}

static int teardown(void **state)
{
	(void)state;	/* unused */
	imap_parser_free(&g_parser);
	return 0;
}

/* ----- sequence sets ------------------------------------------------------ */

struct seq_case {
	const char *in;
	int rc;
	const char *ranges;	/* "lo-hi,..." with * for STAR, "$" for saved */
};

static const struct seq_case seq_cases[] = {
	{ "1", 0, "1-1" },
	{ "1,3:5,*", 0, "1-1,3-5,*-*" },
	{ "5:3", 0, "3-5" },
	{ "*:4", 0, "4-*" },
	{ "4:*", 0, "4-*" },
	{ "*:*", 0, "*-*" },
	{ "1:4294967295", 0, "1-4294967295" },
	{ "4294967295", 0, "4294967295-4294967295" },
	{ "$", 0, "$" },
	{ "0", -1, NULL },
	{ "0:5", -1, NULL },
	{ "5:0", -1, NULL },
	{ "4294967296", -1, NULL },
	{ "1:4294967296", -1, NULL },
	{ "99999999999999999999", -1, NULL },
	{ "01", -1, NULL },
	{ "1,", -1, NULL },
	{ ",1", -1, NULL },
	{ "1,,2", -1, NULL },
	{ "1:", -1, NULL },
	{ ":1", -1, NULL },
	{ "1:2:3", -1, NULL },
	{ "1::2", -1, NULL },
	{ "**", -1, NULL },
	{ "1,$", -1, NULL },
	{ "$:1", -1, NULL },
	{ "-1", -1, NULL },
	{ "+1", -1, NULL },
	{ "1 ", -1, NULL },
	{ "a", -1, NULL },
	{ "", -1, NULL },
};

static void dump_ranges(const struct imap_seqset *s, char *out, size_t outsz)
{
	size_t k = 0;
	out[0] = '\0';
	if (s->saved) {
		snprintf(out, outsz, "$");
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		char lo[16], hi[16];
		if (s->ranges[i].lo == IMAP_SEQ_STAR)
			snprintf(lo, sizeof lo, "*");
		else
			snprintf(lo, sizeof lo, "%u", s->ranges[i].lo);
		if (s->ranges[i].hi == IMAP_SEQ_STAR)
			snprintf(hi, sizeof hi, "*");
		else
			snprintf(hi, sizeof hi, "%u", s->ranges[i].hi);
		k += (size_t)snprintf(out + k, outsz - k, "%s%s-%s", i ? "," : "", lo, hi);
		assert_true(k < outsz);
	}
}

static void test_seqset_table(void **state)
{
	(void)state;	/* unused */
	struct imap_arena *a = imap_arena_new(1 << 20);
	for (size_t i = 0; i < sizeof seq_cases / sizeof seq_cases[0]; i++) {
		const struct seq_case *c = &seq_cases[i];
		/* an exactly sized copy so that ASan sees reads past the end */
		size_t n = strlen(c->in);
		unsigned char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, c->in, n);
		struct imap_seqset s;
		struct err e = { 0 };
		int rc = imap_seqset_parse(span_make(copy, n), a, &s, &e);
		free(copy);
		if (rc != c->rc)
			fail_msg("seqset \"%s\": rc %d, want %d", c->in, rc, c->rc);
		if (rc != 0) {
			assert_string_equal(e.msg, "Invalid sequence set");
			continue;
		}
		char got[256];
		dump_ranges(&s, got, sizeof got);
		if (strcmp(got, c->ranges) != 0)
			fail_msg("seqset \"%s\": got %s, want %s", c->in, got, c->ranges);
	}
	imap_arena_free(&a);
	assert_null(a);
}

static void test_seqset_ops(void **state)
{
	(void)state;	/* unused */
	const struct imap_cmd *cmd = parse("a FETCH 7:*,2,1:3,10:9,4294967295 FLAGS\r\n");
	struct imap_seqset s, r;
	struct err e;
	assert_int_equal(imap_seqset_parse_arg(&cmd->args[0], cmd->arena, &s, &e), 0);
	assert_true(imap_seqset_contains(&s, 1, 20));
	assert_true(imap_seqset_contains(&s, 3, 20));
	assert_false(imap_seqset_contains(&s, 4, 20));
	assert_true(imap_seqset_contains(&s, 20, 20));
	assert_false(imap_seqset_contains(&s, 21, 20));
	assert_false(imap_seqset_contains(&s, 0, 20));
	assert_true(imap_seqset_contains(&s, 4294967295u, 20));
	/* "7:*" with * = 5 is 5:7 (RFC 9051 9) */
	assert_true(imap_seqset_contains(&s, 6, 5));
	assert_int_equal(imap_seqset_resolve(&s, 20, cmd->arena, &r), 0);
	char got[256];
	dump_ranges(&r, got, sizeof got);
	assert_string_equal(got, "1-3,7-20,4294967295-4294967295");
	assert_int_equal(imap_seqset_count(&r), 3 + 14 + 1);
	/* a "*" of an empty mailbox is nothing */
	assert_int_equal(imap_seqset_parse(span_cstr("*"), cmd->arena, &s, &e), 0);
	assert_int_equal(imap_seqset_resolve(&s, 0, cmd->arena, &r), 0);
	assert_int_equal(r.n, 0);
	/* huge ranges stay ranges */
	assert_int_equal(imap_seqset_parse(span_cstr("1:*,5:4294967295"), cmd->arena, &s, &e), 0);
	assert_int_equal(imap_seqset_resolve(&s, 4294967295u, cmd->arena, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(imap_seqset_count(&r), 4294967295u);
	/* not an atom */
	cmd = parse("a FETCH \"1\" FLAGS\r\n");
	assert_int_equal(imap_seqset_parse_arg(&cmd->args[0], cmd->arena, &s, &e), -1);
}

/* ----- FETCH items ------------------------------------------------------- */

static void test_fetch_ok(void **state)
{
	(void)state;	/* unused */
	struct imap_fetch_atts f;
	struct err e;
	const struct imap_cmd *cmd = parse("a FETCH 1 ALL\r\n");
	assert_int_equal(imap_parse_fetch_atts(&cmd->args[1], cmd->arena, &f, &e), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			 IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE);
	cmd = parse("a FETCH 1 full\r\n");
	assert_int_equal(imap_parse_fetch_atts(&cmd->args[1], cmd->arena, &f, &e), 0);
	assert_true(f.items & IMAP_FETCH_BODY);
	cmd = parse("a FETCH 1 (UID FLAGS BODY BODYSTRUCTURE MODSEQ EMAILID)\r\n");
	assert_int_equal(imap_parse_fetch_atts(&cmd->args[1], cmd->arena, &f, &e), 0);
	assert_int_equal(f.nbodies, 0);
	assert_int_equal(f.items, IMAP_FETCH_UID | IMAP_FETCH_FLAGS | IMAP_FETCH_BODY |
			 IMAP_FETCH_BODYSTRUCTURE | IMAP_FETCH_MODSEQ | IMAP_FETCH_EMAILID);

	cmd = parse("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\" x-Spam)]<0.100> "
		    "BODY[] BODY[1.2.MIME] body[2.text]<10.5> BINARY[1] "
		    "BINARY.PEEK[]<0.9> BINARY.SIZE[3] RFC822.HEADER RFC822 BODY[3] "
		    "BODY[HEADER.FIELDS.NOT (A)] BODY[HEADER] BODY[TEXT])\r\n");
	assert_int_equal(imap_parse_fetch_atts(&cmd->args[1], cmd->arena, &f, &e), 0);
	assert_int_equal(f.nbodies, 13);
	const struct imap_fetch_body *b = f.bodies;
	assert_true(b[0].peek);
	assert_int_equal(b[0].kind, IMAP_SECTION_HEADER_FIELDS);
	assert_int_equal(b[0].nfields, 3);
	assert_int_equal(b[0].fields[1].len, 2);
	assert_memory_equal(b[0].fields[1].p, "To", 2);
	assert_memory_equal(b[0].fields[2].p, "x-Spam", 6);
	assert_true(b[0].partial);
	assert_int_equal(b[0].offset, 0);
	assert_int_equal(b[0].count, 100);
	assert_int_equal(b[0].section.len, strlen("HEADER.FIELDS (From \"To\" x-Spam)"));
	assert_int_equal(b[1].kind, IMAP_SECTION_ALL);
	assert_int_equal(b[1].part_len, 0);
	assert_false(b[1].peek);
	assert_int_equal(b[2].kind, IMAP_SECTION_MIME);
	assert_int_equal(b[2].part_len, 2);
	assert_int_equal(b[2].part[1], 2);
	assert_int_equal(b[3].kind, IMAP_SECTION_TEXT);
	assert_int_equal(b[3].offset, 10);
	assert_int_equal(b[4].type, IMAP_FETCH_BINARY);
	assert_int_equal(b[4].part[0], 1);
	assert_true(b[5].peek && b[5].partial);
	assert_int_equal(b[6].type, IMAP_FETCH_BINARY_SIZE);
	assert_int_equal(b[7].legacy, IMAP_FETCH_LEGACY_HEADER);
	assert_true(b[7].peek);
	assert_int_equal(b[8].legacy, IMAP_FETCH_LEGACY_RFC822);
	assert_int_equal(b[9].kind, IMAP_SECTION_ALL);
	assert_int_equal(b[9].part_len, 1);
	assert_int_equal(b[10].kind, IMAP_SECTION_HEADER_FIELDS_NOT);
	assert_int_equal(b[11].kind, IMAP_SECTION_HEADER);
	assert_int_equal(b[12].kind, IMAP_SECTION_TEXT);

	uint64_t since;
	bool vanished;
	cmd = parse("a UID FETCH 1:* FLAGS (CHANGEDSINCE 12345 VANISHED)\r\n");
	assert_int_equal(imap_parse_fetch_modifiers(&cmd->args[2], &since, &vanished, &e), 0);
	assert_int_equal(since, 12345);
	assert_true(vanished);
}

static const char *const fetch_bad[] = {
	"BODY[", "BODY[]]", "BODY[MIME]", "BODY[0]", "BODY[1.]", "BODY[1..2]",
	"BODY[01]", "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
	"BODY[HEADER.FIELDS (A:B)]", "BODY[HEADER.FIELDS (A)x]", "BODY[TEXTX]",
	"BODY[1HEADER]", "BODY[]<>", "BODY[]<1>", "BODY[]<1.0>", "BODY[]<1.2",
	"BODY[]<1.2>x", "BODY[]<a.2>", "BODY[]<1.99999999999999999999>",
	"BINARY", "BINARY[HEADER]", "BINARY[1.MIME]", "BINARY.SIZE[1]<0.1>",
	"BODY.PEEK", "FOO", "RFC822.PEEK", "BODYX[]", "ENVELOPE[]", "()",
	"(ALL)", "\"FLAGS\"", "(FLAGS (UID))", "NIL",
};

static void test_fetch_bad(void **state)
{
	(void)state;	/* unused */
	for (size_t i = 0; i < sizeof fetch_bad / sizeof fetch_bad[0]; i++) {
		char line[256];
		snprintf(line, sizeof line, "a FETCH 1 %s\r\n", fetch_bad[i]);
		struct imap_parser *p;
		struct imap_parse_limits lim;
		imap_parse_limits_default(&lim);
		p = imap_parser_new(&lim);
		assert_int_equal(imap_parser_push(p, line, strlen(line)), strlen(line));
		const struct imap_cmd *cmd;
		int rc = imap_parser_next(p, &cmd);
		if (rc == IMAP_PARSE_COMMAND) {
			struct imap_fetch_atts f;
			struct err e = { 0 };
			if (cmd->nargs != 2 ||
			    imap_parse_fetch_atts(&cmd->args[1], cmd->arena, &f, &e) == 0)
				fail_msg("fetch item \"%s\" accepted", fetch_bad[i]);
			assert_true(e.msg[0] != '\0');
		}
		imap_parser_free(&p);
	}
	const struct imap_cmd *cmd;
	uint64_t since;
	bool vanished;
	struct err e;
	static const char *const mods[] = {
		"(VANISHED)", "(CHANGEDSINCE)", "(CHANGEDSINCE 0)", "(CHANGEDSINCE x)",
		"(CHANGEDSINCE 1 CHANGEDSINCE 2)", "(FOO)", "()", "CHANGEDSINCE",
		"(CHANGEDSINCE 9223372036854775808)",
	};
	for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "a FETCH 1 FLAGS %s\r\n", mods[i]);
		cmd = parse(line);
		if (imap_parse_fetch_modifiers(&cmd->args[2], &since, &vanished, &e) == 0)
			fail_msg("modifiers %s accepted", mods[i]);
	}
}

/* ----- SEARCH ------------------------------------------------------------ */

/* The tree as text: types by name, arguments in brackets. */
static const char *const type_names[] = {
	[IMAP_SEARCH_AND] = "AND", [IMAP_SEARCH_OR] = "OR", [IMAP_SEARCH_NOT] = "NOT",
	[IMAP_SEARCH_ALL] = "ALL", [IMAP_SEARCH_ANSWERED] = "ANSWERED",
	[IMAP_SEARCH_DELETED] = "DELETED", [IMAP_SEARCH_DRAFT] = "DRAFT",
	[IMAP_SEARCH_FLAGGED] = "FLAGGED", [IMAP_SEARCH_SEEN] = "SEEN",
	[IMAP_SEARCH_NEW] = "NEW", [IMAP_SEARCH_OLD] = "OLD",
	[IMAP_SEARCH_RECENT] = "RECENT", [IMAP_SEARCH_UNANSWERED] = "UNANSWERED",
	[IMAP_SEARCH_UNDELETED] = "UNDELETED", [IMAP_SEARCH_UNDRAFT] = "UNDRAFT",
	[IMAP_SEARCH_UNFLAGGED] = "UNFLAGGED", [IMAP_SEARCH_UNSEEN] = "UNSEEN",
	[IMAP_SEARCH_KEYWORD] = "KEYWORD", [IMAP_SEARCH_UNKEYWORD] = "UNKEYWORD",
	[IMAP_SEARCH_BCC] = "BCC", [IMAP_SEARCH_BODY] = "BODY", [IMAP_SEARCH_CC] = "CC",
	[IMAP_SEARCH_FROM] = "FROM", [IMAP_SEARCH_SUBJECT] = "SUBJECT",
	[IMAP_SEARCH_TEXT] = "TEXT", [IMAP_SEARCH_TO] = "TO",
	[IMAP_SEARCH_HEADER] = "HEADER", [IMAP_SEARCH_BEFORE] = "BEFORE",
	[IMAP_SEARCH_ON] = "ON", [IMAP_SEARCH_SINCE] = "SINCE",
	[IMAP_SEARCH_SENTBEFORE] = "SENTBEFORE", [IMAP_SEARCH_SENTON] = "SENTON",
	[IMAP_SEARCH_SENTSINCE] = "SENTSINCE", [IMAP_SEARCH_LARGER] = "LARGER",
	[IMAP_SEARCH_SMALLER] = "SMALLER", [IMAP_SEARCH_UID] = "UID",
	[IMAP_SEARCH_SEQSET] = "SET", [IMAP_SEARCH_OLDER] = "OLDER",
	[IMAP_SEARCH_YOUNGER] = "YOUNGER", [IMAP_SEARCH_MODSEQ] = "MODSEQ",
	[IMAP_SEARCH_EMAILID] = "EMAILID", [IMAP_SEARCH_THREADID] = "THREADID",
};

static void dump_key(const struct imap_search_key *k, char *out, size_t outsz,
		     size_t *pos)
{
	*pos += (size_t)snprintf(out + *pos, outsz - *pos, "%s", type_names[k->type]);
	switch (k->type) {
	case IMAP_SEARCH_HEADER:
		*pos += (size_t)snprintf(out + *pos, outsz - *pos, "[%s:%s]",
					 (const char *)k->field.p, (const char *)k->str.p);
		break;
	case IMAP_SEARCH_BEFORE: case IMAP_SEARCH_ON: case IMAP_SEARCH_SINCE:
	case IMAP_SEARCH_SENTBEFORE: case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		*pos += (size_t)snprintf(out + *pos, outsz - *pos, "[%04d-%02d-%02d]",
					 k->date.year, k->date.month, k->date.day);
		break;
	case IMAP_SEARCH_LARGER: case IMAP_SEARCH_SMALLER: case IMAP_SEARCH_OLDER:
	case IMAP_SEARCH_YOUNGER:
		*pos += (size_t)snprintf(out + *pos, outsz - *pos, "[%llu]",
					 (unsigned long long)k->number);
		break;
	case IMAP_SEARCH_MODSEQ:
		*pos += (size_t)snprintf(out + *pos, outsz - *pos, "[%s/%d/%llu]",
					 k->entry.p ? (const char *)k->entry.p : "",
					 (int)k->entry_type, (unsigned long long)k->number);
		break;
	case IMAP_SEARCH_UID: case IMAP_SEARCH_SEQSET:
		*pos += (size_t)snprintf(out + *pos, outsz - *pos, "[%zu%s]",
					 k->seqset.n, k->seqset.saved ? "$" : "");
		break;
	case IMAP_SEARCH_AND: case IMAP_SEARCH_OR: case IMAP_SEARCH_NOT:
		*pos += (size_t)snprintf(out + *pos, outsz - *pos, "(");
		for (size_t i = 0; i < k->nchildren; i++) {
			if (i)
				*pos += (size_t)snprintf(out + *pos, outsz - *pos, " ");
			dump_key(&k->children[i], out, outsz, pos);
		}
		*pos += (size_t)snprintf(out + *pos, outsz - *pos, ")");
		break;
	default:
		if (k->str.p != NULL)
			*pos += (size_t)snprintf(out + *pos, outsz - *pos, "[%s]",
						 (const char *)k->str.p);
		break;
	}
	assert_true(*pos < outsz);
}

struct search_case {
	const char *line;
	const char *want;	/* tree, or "!message" for an error */
};

static const struct search_case search_cases[] = {
	{ "ALL", "AND(ALL)" },
	{ "1:5 UNSEEN", "AND(SET[1] UNSEEN)" },
	{ "answered deleted draft flagged seen new old recent",
	  "AND(ANSWERED DELETED DRAFT FLAGGED SEEN NEW OLD RECENT)" },
	{ "UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN",
	  "AND(UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN)" },
	{ "KEYWORD $Junk UNKEYWORD Work", "AND(KEYWORD[$Junk] UNKEYWORD[Work])" },
	{ "BCC a CC \"b c\" FROM {1+}\r\nd TO e SUBJECT f BODY g TEXT h",
	  "AND(BCC[a] CC[b c] FROM[d] TO[e] SUBJECT[f] BODY[g] TEXT[h])" },
	{ "HEADER Message-ID \"<x@y>\"", "AND(HEADER[Message-ID:<x@y>])" },
	{ "HEADER X-Spam \"\"", "AND(HEADER[X-Spam:])" },
	{ "BEFORE 1-Feb-1994 ON \"29-feb-2000\" SINCE 31-Dec-1999",
	  "AND(BEFORE[1994-02-01] ON[2000-02-29] SINCE[1999-12-31])" },
	{ "SENTBEFORE 01-Jan-2024 SENTON 1-Jan-2024 SENTSINCE 1-Jan-2024",
	  "AND(SENTBEFORE[2024-01-01] SENTON[2024-01-01] SENTSINCE[2024-01-01])" },
	{ "LARGER 100 SMALLER 9223372036854775807",
	  "AND(LARGER[100] SMALLER[9223372036854775807])" },
	{ "UID 1:* UID $ $", "AND(UID[1] UID[0$] SET[0$])" },
	{ "OLDER 3600 YOUNGER 60", "AND(OLDER[3600] YOUNGER[60])" },
	{ "MODSEQ 5 MODSEQ \"/flags/\\\\seen\" all 7",
	  "AND(MODSEQ[/0/5] MODSEQ[/flags/\\seen/3/7])" },
	{ "EMAILID M123 THREADID T9", "AND(EMAILID[M123] THREADID[T9])" },
	{ "NOT SEEN", "AND(NOT(SEEN))" },
	{ "OR SEEN FLAGGED", "AND(OR(SEEN FLAGGED))" },
	{ "OR (SEEN FLAGGED) NOT (DELETED)", "AND(OR(AND(SEEN FLAGGED) NOT(AND(DELETED))))" },
	{ "OR OR OR SEEN DRAFT DELETED FLAGGED",
	  "AND(OR(OR(OR(SEEN DRAFT) DELETED) FLAGGED))" },
	{ "(((ALL)))", "AND(AND(AND(AND(ALL))))" },
	/* errors */
	{ "", "!Empty search program" },
	{ "()", "!Empty search program" },
	{ "FOO", "!Unknown search key FOO" },
	{ "FROM", "!Missing argument for FROM" },
	{ "NOT", "!Missing argument for NOT" },
	{ "OR SEEN", "!Missing argument for OR" },
	{ "HEADER Subject", "!Missing argument for HEADER" },
	{ "FROM (a)", "!Invalid argument for FROM" },
	{ "KEYWORD \"a\"", "!Invalid argument for KEYWORD" },
	{ "BEFORE 32-Jan-2000", "!Invalid date" },
	{ "BEFORE 29-Feb-1900", "!Invalid date" },
	{ "BEFORE 1-Fev-2000", "!Invalid date" },
	{ "BEFORE 1-Feb-94", "!Invalid date" },
	{ "BEFORE 001-Feb-1994", "!Invalid date" },
	{ "BEFORE \"1-Feb-1994 \"", "!Invalid date" },
	{ "LARGER x", "!Invalid number for LARGER" },
	{ "LARGER -1", "!Invalid number for LARGER" },
	{ "SMALLER 9223372036854775808", "!Invalid number for SMALLER" },
	{ "OLDER 0", "!Invalid number for OLDER" },
	{ "UID 0", "!Invalid sequence set" },
	{ "0", "!Invalid sequence set" },
	{ "*:0", "!Invalid sequence set" },
	{ "MODSEQ \"/flags/x\" bogus 5", "!Invalid MODSEQ entry type" },
	{ "MODSEQ x", "!Invalid MODSEQ value" },
	{ "\"SEEN\"", "!Invalid search key" },
};

static void test_search_table(void **state)
{
	(void)state;	/* unused */
	struct imap_search_limits lim;
	imap_search_limits_default(&lim);
	for (size_t i = 0; i < sizeof search_cases / sizeof search_cases[0]; i++) {
		const struct search_case *c = &search_cases[i];
		char line[512];
		snprintf(line, sizeof line, "a SEARCH %s\r\n", c->line);
		const struct imap_cmd *cmd = parse(line);
		struct imap_search_key k;
		struct err e = { 0 };
		int rc = imap_search_parse(cmd->args, cmd->nargs, &lim, cmd->arena, &k, &e);
		char got[1024];
		if (rc == 0) {
			size_t pos = 0;
			dump_key(&k, got, sizeof got, &pos);
		} else {
			snprintf(got, sizeof got, "!%s", e.msg);
		}
		if (strcmp(got, c->want) != 0)
			fail_msg("search \"%s\":\n got %s\nwant %s", c->line, got, c->want);
	}
}

static void test_search_command(void **state)
{
	(void)state;	/* unused */
	struct imap_search_limits lim;
	imap_search_limits_default(&lim);
	struct imap_search_cmd s;
	struct err e;
	const struct imap_cmd *cmd = parse("a SEARCH RETURN (MIN max COUNT SAVE ALL) CHARSET UTF-8 SEEN\r\n");
	assert_int_equal(imap_search_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &s, &e), 0);
	assert_true(s.has_return);
	assert_int_equal(s.ret, IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX |
			 IMAP_SEARCH_RETURN_COUNT | IMAP_SEARCH_RETURN_SAVE |
			 IMAP_SEARCH_RETURN_ALL);
	assert_memory_equal(s.charset.p, "UTF-8", 5);
	assert_int_equal(s.program.nchildren, 1);
	cmd = parse("a SEARCH RETURN () ALL\r\n");
	assert_int_equal(imap_search_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &s, &e), 0);
	assert_true(s.has_return);
	assert_int_equal(s.ret, 0);
	assert_int_equal(s.charset.len, 0);
	cmd = parse("a SEARCH RETURN (BOGUS) ALL\r\n");
	assert_int_equal(imap_search_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &s, &e), -1);
	cmd = parse("a SEARCH CHARSET\r\n");
	assert_int_equal(imap_search_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &s, &e), -1);
}

static void test_search_limits(void **state)
{
	(void)state;	/* unused */
	struct imap_search_limits lim = { 100, 10 };
	struct imap_search_key k;
	struct err e;
	char line[2048];
	/* keys: at the limit, and one over */
	for (unsigned n = 100; n <= 101; n++) {
		size_t pos = (size_t)snprintf(line, sizeof line, "a SEARCH");
		for (unsigned i = 0; i < n; i++)
			pos += (size_t)snprintf(line + pos, sizeof line - pos, " SEEN");
		snprintf(line + pos, sizeof line - pos, "\r\n");
		const struct imap_cmd *cmd = parse(line);
		int rc = imap_search_parse(cmd->args, cmd->nargs, &lim, cmd->arena, &k, &e);
		assert_int_equal(rc, n == 100 ? 0 : -1);
		if (rc != 0)
			assert_string_equal(e.msg, "Too many search keys");
	}
	/* depth: NOT chains and parentheses both count */
	for (unsigned n = 9; n <= 10; n++) {
		size_t pos = (size_t)snprintf(line, sizeof line, "a SEARCH");
		for (unsigned i = 0; i < n; i++)
			pos += (size_t)snprintf(line + pos, sizeof line - pos, " NOT");
		snprintf(line + pos, sizeof line - pos, " SEEN\r\n");
		const struct imap_cmd *cmd = parse(line);
		int rc = imap_search_parse(cmd->args, cmd->nargs, &lim, cmd->arena, &k, &e);
		assert_int_equal(rc, n == 9 ? 0 : -1);
		if (rc != 0)
			assert_string_equal(e.msg, "Search program too deep");
	}
	const struct imap_cmd *cmd = parse("a SEARCH ((((((((((SEEN))))))))))\r\n");
	assert_int_equal(imap_search_parse(cmd->args, cmd->nargs, &lim, cmd->arena, &k, &e), -1);
	/* thousands of keys with the default limits */
	struct imap_search_limits def;
	imap_search_limits_default(&def);
	size_t n = def.max_keys + 1;
	char *big = malloc(n * 5 + 32);
	assert_non_null(big);
	size_t pos = (size_t)snprintf(big, 32, "a SEARCH");
	for (size_t i = 0; i < n; i++) {
		memcpy(big + pos, " ALL", 4);
		pos += 4;
	}
	memcpy(big + pos, "\r\n", 3);
	struct imap_parse_limits plim;
	imap_parse_limits_default(&plim);
	plim.max_args = (unsigned)n + 1;
	struct imap_parser *p = imap_parser_new(&plim);
	assert_int_equal(imap_parser_push(p, big, pos + 2), pos + 2);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_int_equal(imap_search_parse(cmd->args, cmd->nargs, &def, cmd->arena, &k, &e), -1);
	assert_string_equal(e.msg, "Too many search keys");
	imap_parser_free(&p);
	free(big);
}

/* ----- mailbox names and modified UTF-7 ---------------------------------- */

static void test_mutf7(void **state)
{
	(void)state;	/* unused */
	struct imap_arena *a = imap_arena_new(1 << 20);
	static const struct {
		const char *mutf7, *utf8;
	} pairs[] = {
		/* RFC 3501 5.1.3 */
		{ "~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
		/* 台北日本語 in one run; 中國書店 (checked against Python's UTF-7
		 * codec, which differs only in using "/" and "+") */
		{ "&U,BTF2XlZyyKng-", "\xe5\x8f\xb0\xe5\x8c\x97\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
		{ "&Ti1XC2b4Xpc-", "\xe4\xb8\xad\xe5\x9c\x8b\xe6\x9b\xb8\xe5\xba\x97" },
		{ "A&-B", "A&B" },
		{ "&-&-", "&&" },
		{ "Entw&APw-rfe", "Entw\xc3\xbc" "rfe" },
		{ "&2D3eAA-", "\xf0\x9f\x98\x80" },	/* a surrogate pair */
		{ "&AOkA6QDp-", "\xc3\xa9\xc3\xa9\xc3\xa9" },
		{ "", "" },
		{ "plain", "plain" },
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct span out;
		assert_int_equal(imap_mutf7_decode(span_cstr(pairs[i].mutf7), a, &out), 0);
		assert_int_equal(out.len, strlen(pairs[i].utf8));
		assert_memory_equal(out.p, pairs[i].utf8, out.len);
		assert_int_equal(imap_mutf7_encode(span_cstr(pairs[i].utf8), a, &out), 0);
		assert_string_equal((const char *)out.p, pairs[i].mutf7);
	}
	static const char *const bad[] = {
		"&", "&Ti1XC2b4Xpc", "&U,BTFw-&ZeVnLIqe-", "&AGE-", "&2D0-", "&3gA-",
		"&2D3YPQ-", "&A-", "&AOk", "&AOl-", "&*-", "caf\xc3\xa9", "a\tb",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct span out;
		if (imap_mutf7_decode(span_cstr(bad[i]), a, &out) == 0)
			fail_msg("mutf7 \"%s\" accepted", bad[i]);
	}
	struct span out;
	assert_int_equal(imap_mutf7_encode(span_cstr("\xc3"), a, &out), -1);
	assert_int_equal(imap_mutf7_encode(span_cstr("\xed\xa0\x80"), a, &out), -1);
	imap_arena_free(&a);
}

struct mbox_case {
	unsigned opts;
	const char *arg;	/* as it appears on the command line */
	int rc;
	const char *want;	/* name, or error text */
};

#define U IMAP_MAILBOX_UTF8
#define P IMAP_MAILBOX_PATTERN
#define R IMAP_MAILBOX_REFUSED

static const struct mbox_case mbox_cases[] = {
	{ 0, "INBOX", 0, "INBOX" },
	{ 0, "inbox", 0, "INBOX" },
	{ 0, "Inbox/Sub", 0, "INBOX/Sub" },
	{ 0, "inboxes", 0, "inboxes" },
	{ 0, "NIL", 0, "NIL" },
	{ 0, "\"Sent Items\"", 0, "Sent Items" },
	{ 0, "{4+}\r\nJunk", 0, "Junk" },
	{ 0, "&U,BTF2XlZyyKng-", 0, "\xe5\x8f\xb0\xe5\x8c\x97\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
	{ U, "&Ti1XC2b4Xpc-", 0, "&Ti1XC2b4Xpc-" },
	{ U, "\"\xe5\x8f\xb0\xe5\x8c\x97\"", 0, "\xe5\x8f\xb0\xe5\x8c\x97" },
	{ 0, "\"\xe5\x8f\xb0\xe5\x8c\x97\"", -1, "Mailbox name is not valid modified UTF-7" },
	{ 0, "&Ti1XC2b4Xpc", -1, "Mailbox name is not valid modified UTF-7" },
	{ U, "{2+}\r\n\xc3\x28", -1, "Mailbox name is not UTF-8" },
	{ 0, "(a)", -1, "Invalid mailbox name" },
	{ 0, "a/b/c", 0, "a/b/c" },
	{ 0, "\"\"", R, "Empty mailbox name" },
	{ 0, "/etc/passwd", R, "Mailbox name starts with '/'" },
	{ 0, "../x", R, "Mailbox name has a '.' or '..' component" },
	{ 0, "a/../../x", R, "Mailbox name has a '.' or '..' component" },
	{ 0, "a/./b", R, "Mailbox name has a '.' or '..' component" },
	{ 0, "a/..", R, "Mailbox name has a '.' or '..' component" },
	{ 0, "a..b/...", 0, "a..b/..." },
	{ 0, "a//b", R, "Mailbox name has an empty component" },
	{ 0, "a/", R, "Mailbox name has an empty component" },
	{ 0, "a%", R, "Mailbox name contains a wildcard" },
	{ 0, "\"a*b\"", R, "Mailbox name contains a wildcard" },
	{ 0, "{3+}\r\na\nb", R, "Mailbox name has control characters" },
	{ 0, "{3+}\r\na\rb", R, "Mailbox name has control characters" },
	{ U, "{3+}\r\na\rb", R, "Mailbox name has control characters" },
	{ 0, "&AAA-", R, "Mailbox name has control characters" },
	{ 0, "&AAo-", R, "Mailbox name has control characters" },
	{ P, "%", 0, "%" },
	{ P, "*", 0, "*" },
	{ P, "\"\"", 0, "" },
	{ P, "inbox/%", 0, "INBOX/%" },
	{ P, "{3+}\r\na\nb", R, "Mailbox name has control characters" },
};

static void test_mailbox_table(void **state)
{
	(void)state;	/* unused */
	for (size_t i = 0; i < sizeof mbox_cases / sizeof mbox_cases[0]; i++) {
		const struct mbox_case *c = &mbox_cases[i];
		char line[256];
		snprintf(line, sizeof line, "a SELECT %s\r\n", c->arg);
		const struct imap_cmd *cmd = parse(line);
		struct span out;
		struct err e = { 0 };
		int rc = imap_parse_mailbox(&cmd->args[0], c->opts, cmd->arena, &out, &e);
		if (rc != c->rc)
			fail_msg("mailbox %zu \"%s\": rc %d (%s), want %d", i, c->arg,
				 rc, e.msg, c->rc);
		if (rc == 0) {
			if (out.len != strlen(c->want) || memcmp(out.p, c->want, out.len) != 0)
				fail_msg("mailbox %zu: got \"%.*s\"", i, (int)out.len, out.p);
			assert_int_equal(out.p[out.len], 0);
		} else {
			assert_string_equal(e.msg, c->want);
		}
	}
	/* length and depth at the limit and one over */
	char *line = malloc(IMAP_MAILBOX_MAX + 64);
	assert_non_null(line);
	for (size_t n = IMAP_MAILBOX_MAX; n <= IMAP_MAILBOX_MAX + 1; n++) {
		memcpy(line, "a SELECT ", 9);
		memset(line + 9, 'm', n);
		memcpy(line + 9 + n, "\r\n", 3);
		const struct imap_cmd *cmd = parse(line);
		struct span out;
		struct err e;
		assert_int_equal(imap_parse_mailbox(&cmd->args[0], 0, cmd->arena, &out, &e),
				 n == IMAP_MAILBOX_MAX ? 0 : R);
	}
	for (size_t d = IMAP_MAILBOX_DEPTH_MAX; d <= IMAP_MAILBOX_DEPTH_MAX + 1; d++) {
		size_t pos = 9;
		memcpy(line, "a SELECT ", 9);
		for (size_t i = 0; i < d; i++) {
			if (i)
				line[pos++] = '/';
			line[pos++] = 'd';
		}
		memcpy(line + pos, "\r\n", 3);
		const struct imap_cmd *cmd = parse(line);
		struct span out;
		struct err e;
		assert_int_equal(imap_parse_mailbox(&cmd->args[0], 0, cmd->arena, &out, &e),
				 d == IMAP_MAILBOX_DEPTH_MAX ? 0 : R);
	}
	free(line);
}

/* ----- dates, numbers, flags -------------------------------------------- */

static void test_datetime(void **state)
{
	(void)state;	/* unused */
	static const struct {
		const char *arg;
		int rc;
		int64_t t;
		int zone;
	} cases[] = {
		{ "\"01-Feb-1994 12:00:00 +0000\"", 0, 760104000, 0 },
		{ "\" 1-Feb-1994 12:00:00 +0000\"", 0, 760104000, 0 },
		{ "\"17-Jul-1996 02:44:25 -0700\"", 0, 837596665, -420 },
		{ "\"01-Jan-1970 01:00:00 +0100\"", 0, 0, 60 },
		{ "\"29-Feb-2024 23:59:60 +0000\"", 0, 1709251200, 0 },
		{ "\"1-Feb-1994 12:00:00 +0000\"", -1, 0, 0 },
		{ "\"01-Feb-1994 12:00 +0000\"", -1, 0, 0 },
		{ "\"01-Feb-1994 24:00:00 +0000\"", -1, 0, 0 },
		{ "\"01-Feb-1994 12:00:00 0000\"", -1, 0, 0 },
		{ "\"01-Feb-1994 12:00:00 +00000\"", -1, 0, 0 },
		{ "\"30-Feb-1994 12:00:00 +0000\"", -1, 0, 0 },
		{ "\"01-Feb-1994  12:00:00 +0000\"", -1, 0, 0 },
		{ "01-Feb-1994", -1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "a APPEND x %s\r\n", cases[i].arg);
		const struct imap_cmd *cmd = parse(line);
		int64_t t = -1;
		int zone = 99;
		struct err e;
		int rc = imap_parse_datetime(&cmd->args[1], &t, &zone, &e);
		if (rc != cases[i].rc)
			fail_msg("date-time %s: rc %d", cases[i].arg, rc);
		if (rc == 0) {
			assert_int_equal(t, cases[i].t);
			assert_int_equal(zone, cases[i].zone);
		}
	}
	struct imap_date d = { 2000, 3, 1 };
	assert_int_equal(imap_date_unix(&d), 951868800);
}

static void test_numbers(void **state)
{
	(void)state;	/* unused */
	uint32_t v;
	uint64_t w;
	assert_int_equal(imap_parse_number(span_cstr("0"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(imap_parse_number(span_cstr("4294967295"), &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(imap_parse_number(span_cstr("4294967296"), &v), -1);
	assert_int_equal(imap_parse_number(span_cstr("00"), &v), -1);
	assert_int_equal(imap_parse_number(span_cstr(""), &v), -1);
	assert_int_equal(imap_parse_nz_number(span_cstr("0"), &v), -1);
	assert_int_equal(imap_parse_number64(span_cstr("9223372036854775807"), &w), 0);
	assert_int_equal(w, INT64_MAX);
	assert_int_equal(imap_parse_number64(span_cstr("9223372036854775808"), &w), -1);
	assert_int_equal(imap_parse_number64(span_cstr("18446744073709551616"), &w), -1);
}

static void test_flags(void **state)
{
	(void)state;	/* unused */
	struct imap_flags f;
	struct err e;
	const struct imap_cmd *cmd = parse("a STORE 1 +FLAGS (\\Seen \\answered \\FLAGGED \\Deleted \\Draft $Forwarded Junk)\r\n");
	assert_int_equal(imap_parse_flags(&cmd->args[2], 1, cmd->arena, &f, &e), 0);
	assert_int_equal(f.system, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED |
			 IMAP_FLAG_FLAGGED | IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT);
	assert_int_equal(f.nkeywords, 2);
	assert_memory_equal(f.keywords[0].p, "$Forwarded", 10);
	cmd = parse("a STORE 1 FLAGS \\Seen $Junk\r\n");
	assert_int_equal(imap_parse_flags(&cmd->args[2], 2, cmd->arena, &f, &e), 0);
	assert_int_equal(f.system, IMAP_FLAG_SEEN);
	assert_int_equal(f.nkeywords, 1);
	cmd = parse("a STORE 1 FLAGS ()\r\n");
	assert_int_equal(imap_parse_flags(&cmd->args[2], 1, cmd->arena, &f, &e), 0);
	assert_int_equal(f.system, 0);
	static const char *const bad[] = {
		"(\\Recent)", "(\\*)", "(\\Bogus)", "(\"Junk\")", "(a*)", "(a%)",
		"(a])", "((\\Seen))", "(\\)",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[64];
		snprintf(line, sizeof line, "a STORE 1 FLAGS %s\r\n", bad[i]);
		cmd = parse(line);
		if (imap_parse_flags(&cmd->args[2], 1, cmd->arena, &f, &e) == 0)
			fail_msg("flags %s accepted", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seqset_table),
		cmocka_unit_test(test_seqset_ops),
		cmocka_unit_test(test_fetch_ok),
		cmocka_unit_test(test_fetch_bad),
		cmocka_unit_test(test_search_table),
		cmocka_unit_test(test_search_command),
		cmocka_unit_test(test_search_limits),
		cmocka_unit_test(test_mutf7),
		cmocka_unit_test(test_mailbox_table),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_flags),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
