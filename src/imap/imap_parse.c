/* imap_parse.c - the incremental IMAP command reader (RFC 9051 2.2, 4,
 * 9; RFC 3501 9; RFC 7888 LITERAL+/-; RFC 3516 literal8). A byte-at-a-time
 * state machine, so a command may be cut anywhere; every byte is looked at
 * once, literal data is copied or streamed in bulk. Values are copied into
 * the per-command arena as they complete. After a syntax error the reader
 * skips the rest of the command (following literals) before it reports, so
 * the reply comes when the client is listening and the stream stays in
 * step. It knows no command's grammar beyond "UID <command>". */
#include "imap/imap_parse.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"

enum pstate {
	PS_START,	/* before a tag */
	PS_TAG,
	PS_NAME,	/* command name (and the command after "UID") */
	PS_ARG,		/* before an argument, a ')' or the end of line */
	PS_AFTER,	/* after an argument: SP, ')' or end of line */
	PS_ATOM,
	PS_BRACKET,	/* inside BODY[...] */
	PS_BRACKET_Q,	/* a quoted string inside the brackets */
	PS_BRACKET_QE,	/* after a backslash there */
	PS_QUOTED,
	PS_QUOTED_ESC,
	PS_TILDE,	/* "~" opening an argument: literal8 or an atom */
	PS_LIT_OPEN,	/* after "{": the first digit */
	PS_LIT_DIGITS,
	PS_LIT_PLUS,	/* after "+": "}" */
	PS_LIT_CR,	/* after "}": CR or LF */
	PS_LIT_LF,	/* after "}" CR: LF */
	PS_LIT_DATA,
	PS_EOL_LF,	/* CR ending a line: LF */
	PS_SKIP,	/* resynchronising after an error */
	PS_SKIP_LIT,	/* skipping a literal's bytes while resynchronising */
	PS_CLOSED,	/* fatal error reported; nothing more is read */
};

/* What a state handler did with the byte it was given. */
enum step {
	STEP_TAKE,	/* consumed */
	STEP_AGAIN,	/* not consumed: look at it again in the new state */
	STEP_TAKE_RET,	/* consumed, and p->ret is to be returned */
	STEP_AGAIN_RET,	/* not consumed, and p->ret is to be returned */
};

struct imap_parser {
	struct imap_parse_limits lim;
	struct imap_parse_limits next_lim;	/* applied at the next command */
	enum pstate state;
	int ret;			/* result to return with STEP_*_RET */

	struct buf in;			/* pushed, not yet parsed */
	size_t defer;			/* bytes of in still lent to the caller
					 * (a chunk, a raw line): consumed first
					 * thing on the next call */
	bool cmd_over;			/* a command or error was returned: reset
					 * before reading on */
	bool raw_line;			/* tok holds a line lent to the caller */

	struct imap_arena *arena;
	struct buf tok;			/* the value being read */
	char tag[IMAP_TAG_MAX + 1];
	size_t tag_len;
	struct span name;		/* in the arena */
	bool uid;

	struct imap_arg *stack;		/* finished arguments, innermost last */
	size_t nstack, stack_cap;
	size_t *list_start;		/* stack index where each open list's
					 * items start; max_depth entries */
	unsigned list_cap;
	unsigned depth;
	size_t nargs;			/* arguments so far, lists included */
	size_t line_len;		/* bytes of this line (no CR/LF) */
	size_t cmd_bytes;		/* line bytes and kept literal bytes */

	/* UTF-8 check inside a quoted string (RFC 3629 4) */
	unsigned u8_need;
	unsigned char u8_lo, u8_hi;

	/* the literal being read */
	uint64_t lit_size;
	bool lit_overflow, lit_digits, lit_plus, lit_binary;
	bool lit_keep;
	bool lit_nul;			/* a NUL seen in a non-binary literal */
	unsigned char *lit_dst;		/* kept: arena space of lit_size + 1 */
	uint64_t lit_off;		/* bytes read so far */
	struct imap_literal_info info;

	/* resynchronisation */
	bool err_pending;		/* report the error when skipping ends */
	bool silent;			/* imap_parser_skip_command(): no report */
	bool sk_quote, sk_esc;
	int sk_lit;			/* 0, 1 "{digits", 2 "+", 3 "}" */
	bool sk_plus, sk_digits;
	uint64_t sk_n;
	uint64_t skipped;
	uint64_t skip_left;		/* PS_SKIP_LIT */

	struct imap_parse_error error;
	struct imap_cmd cmd;
};

/* ----- limits ------------------------------------------------------------ */

void imap_parse_limits_default(struct imap_parse_limits *lim)
{
	memset(lim, 0, sizeof *lim);
	lim->max_line = IMAP_MAX_LINE_DEFAULT;
	lim->max_literal = IMAP_MAX_LITERAL_DEFAULT;
	lim->max_literal_kept = IMAP_MAX_LITERAL_KEPT_DEFAULT;
	lim->max_command = IMAP_MAX_COMMAND_DEFAULT;
	lim->max_depth = IMAP_MAX_DEPTH_DEFAULT;
	lim->max_args = IMAP_MAX_ARGS_DEFAULT;
	lim->max_skip = IMAP_MAX_SKIP_DEFAULT;
	lim->stream_literals = true;
	lim->literal_minus = false;
	lim->utf8 = false;
}

void imap_parse_limits_preauth(struct imap_parse_limits *lim)
{
	imap_parse_limits_default(lim);
	lim->max_line = IMAP_PREAUTH_MAX_LINE;
	lim->max_literal = IMAP_PREAUTH_MAX_LITERAL;
	lim->max_literal_kept = IMAP_PREAUTH_MAX_LITERAL;
	lim->max_command = IMAP_PREAUTH_MAX_COMMAND;
	lim->max_depth = IMAP_PREAUTH_MAX_DEPTH;
	lim->max_args = IMAP_PREAUTH_MAX_ARGS;
	lim->max_skip = IMAP_PREAUTH_MAX_SKIP;
	lim->stream_literals = false;
}

/* The arena holds copies of the command's bytes, the argument nodes, and
 * what the value readers build from them (a sequence set of n bytes takes
 * at most 4n bytes of ranges). */
static size_t arena_budget(const struct imap_parse_limits *lim)
{
	size_t nodes, bytes, total;
	if (__builtin_mul_overflow((size_t)lim->max_args + 1,
				   2 * sizeof(struct imap_arg), &nodes) ||
	    __builtin_mul_overflow(lim->max_command, (size_t)4, &bytes) ||
	    __builtin_add_overflow(nodes, bytes, &total) ||
	    __builtin_add_overflow(total, (size_t)65536, &total))
		return SIZE_MAX / 2;
	return total;
}

static void apply_limits(struct imap_parser *p)
{
	p->lim = p->next_lim;
	if (p->lim.max_depth > p->list_cap) {
		p->list_start = xreallocarray(p->list_start, p->lim.max_depth,
					      sizeof *p->list_start);
		p->list_cap = p->lim.max_depth;
	}
	imap_arena_set_budget(p->arena, arena_budget(&p->lim));
	/* tok holds one line's value or a raw line and its CRLF */
	size_t tok_max = p->lim.max_line > SIZE_MAX - 2 ? SIZE_MAX : p->lim.max_line + 2;
	buf_reset_max(&p->tok, tok_max);
}

/* ----- create and free -------------------------------------------------- */

struct imap_parser *imap_parser_new(const struct imap_parse_limits *lim)
{
	struct imap_parser *p = xcalloc(1, sizeof *p);
	p->next_lim = *lim;
	p->arena = imap_arena_new(0);
	buf_init(&p->in, IMAP_PARSE_WINDOW);
	buf_init(&p->tok, 0);
	apply_limits(p);
	p->state = PS_START;
	return p;
}

void imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;
	if (p == NULL)
		return;
	buf_release(&p->in);
	buf_release(&p->tok);
	imap_arena_free(&p->arena);
	free(p->stack);
	free(p->list_start);
	free(p);
	*pp = NULL;
}

void imap_parser_set_limits(struct imap_parser *p,
			    const struct imap_parse_limits *lim)
{
	p->next_lim = *lim;
	if (p->state == PS_START && p->tag_len == 0 && !p->cmd_over)
		apply_limits(p);
}

size_t imap_parser_push(struct imap_parser *p, const void *data, size_t len)
{
	size_t room = p->in.max - p->in.len;
	size_t n = len < room ? len : room;
	if (n > 0 && buf_append(&p->in, data, n) != 0)
		return 0;	/* cannot happen: n fits the room */
	return n;
}

/* ----- per-command state ------------------------------------------------- */

static void reset_command(struct imap_parser *p)
{
	imap_arena_reset(p->arena);
	apply_limits(p);
	/* An idle connection should hold little: give back big buffers. */
	if (p->tok.cap > 4096)
		buf_release(&p->tok);
	if (p->in.len == 0 && p->in.cap > 4096)
		buf_release(&p->in);
	if (p->stack_cap > 64) {
		free(p->stack);
		p->stack = NULL;
		p->stack_cap = 0;
	}
	p->nstack = 0;
	p->depth = 0;
	p->nargs = 0;
	p->tag[0] = '\0';
	p->tag_len = 0;
	p->name = span_make("", 0);
	p->uid = false;
	p->line_len = 0;
	p->cmd_bytes = 0;
	p->err_pending = false;
	p->silent = false;
	p->skipped = 0;
	p->skip_left = 0;
	memset(&p->info, 0, sizeof p->info);
	memset(&p->cmd, 0, sizeof p->cmd);
	p->state = PS_START;
	p->cmd_over = false;
}

/* Give back what the previous call lent out, start afresh after a command. */
static void prepare(struct imap_parser *p)
{
	if (p->defer > 0) {
		buf_consume(&p->in, p->defer);
		p->defer = 0;
	}
	if (p->raw_line) {
		buf_reset(&p->tok);
		p->raw_line = false;
	}
	if (p->cmd_over)
		reset_command(p);
}

/* ----- errors ------------------------------------------------------------ */

static void set_error(struct imap_parser *p, enum err_kind kind,
		      const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_error(struct imap_parser *p, enum err_kind kind,
		      const char *code, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	err_set(&p->error.err, kind, 0, "", "%s", msg);
	p->error.code = code;
	p->error.close = false;
	memcpy(p->error.tag, p->tag, p->tag_len);
	p->error.tag[p->tag_len] = '\0';
	p->err_pending = true;
	p->silent = false;
}

/* Start skipping the rest of the command; the byte in hand is looked at
 * again by the skipper (it may be the LF that ends the line). */
static enum step fail(struct imap_parser *p, enum err_kind kind,
		      const char *code, const char *msg)
{
	set_error(p, kind, code, "%s", msg);
	p->sk_quote = (p->state == PS_QUOTED || p->state == PS_QUOTED_ESC);
	p->sk_esc = (p->state == PS_QUOTED_ESC);
	p->sk_lit = 0;
	p->state = PS_SKIP;
	return STEP_AGAIN;
}

/* The error is at the end of a line that ends the command: report now. */
static enum step fail_eol(struct imap_parser *p, enum err_kind kind,
			  const char *code, const char *msg)
{
	set_error(p, kind, code, "%s", msg);
	p->err_pending = false;
	p->cmd_over = true;
	p->state = PS_START;
	p->ret = IMAP_PARSE_ERROR;
	return STEP_TAKE_RET;
}

static void fatal(struct imap_parser *p, enum err_kind kind, const char *code,
		  const char *msg)
{
	set_error(p, kind, code, "%s", msg);
	p->error.close = true;
	p->err_pending = false;
	p->state = PS_CLOSED;
}

/* Skip n literal bytes the client sends whatever we say ({N+}). */
static void skip_literal(struct imap_parser *p, uint64_t n)
{
	if (n > p->lim.max_skip || p->skipped > p->lim.max_skip - n) {
		if (p->silent || !p->err_pending)
			set_error(p, ERR_LIMIT, "TOOBIG", "Literal too large");
		fatal(p, p->error.err.kind, p->error.code, p->error.err.msg);
		return;
	}
	p->skipped += n;
	p->skip_left = n;
	p->state = PS_SKIP_LIT;
}

/* The skipper reached the end of the command. */
static enum step skip_done(struct imap_parser *p)
{
	if (p->silent) {
		reset_command(p);
		return STEP_TAKE;
	}
	p->err_pending = false;
	p->cmd_over = true;
	p->ret = IMAP_PARSE_ERROR;
	return STEP_TAKE_RET;
}

/* Resynchronising: find the end of the command, which is the first LF that
 * does not follow "{N+}" (then N bytes are skipped and the line goes on).
 * A "{N}" at the end of a line also ends it: the client waits for a "+"
 * that it will not get (RFC 9051 4.3). Quoted strings are followed so that
 * a "{5+}" inside one is not taken for a literal. */
static enum step skip_byte(struct imap_parser *p, unsigned char c)
{
	if (p->skipped >= p->lim.max_skip) {
		if (p->silent)
			set_error(p, ERR_LIMIT, NULL, "Command too long");
		fatal(p, p->error.err.kind, p->error.code, p->error.err.msg);
		p->ret = IMAP_PARSE_ERROR;
		return STEP_AGAIN_RET;
	}
	p->skipped++;
	if (p->sk_quote) {
		if (p->sk_esc)
			p->sk_esc = false;
		else if (c == '\\')
			p->sk_esc = true;
		else if (c == '"')
			p->sk_quote = false;
		else if (c == '\n')
			return skip_done(p);
		return STEP_TAKE;
	}
	switch (c) {
	case '"':
		p->sk_quote = true;
		p->sk_lit = 0;
		break;
	case '{':
		p->sk_lit = 1;
		p->sk_n = 0;
		p->sk_digits = false;
		p->sk_plus = false;
		break;
	case '+':
		p->sk_lit = (p->sk_lit == 1 && p->sk_digits) ? 2 : 0;
		break;
	case '}':
		if ((p->sk_lit == 1 && p->sk_digits) || p->sk_lit == 2) {
			p->sk_plus = (p->sk_lit == 2);
			p->sk_lit = 3;
		} else {
			p->sk_lit = 0;
		}
		break;
	case '\r':
		if (p->sk_lit != 3)
			p->sk_lit = 0;
		break;
	case '\n':
		if (p->sk_lit == 3 && p->sk_plus) {
			p->sk_lit = 0;
			skip_literal(p, p->sk_n);
			if (p->state == PS_CLOSED) {
				p->ret = IMAP_PARSE_ERROR;
				return STEP_TAKE_RET;
			}
			return STEP_TAKE;
		}
		return skip_done(p);
	default:
		if (c >= '0' && c <= '9' && p->sk_lit == 1) {
			unsigned d = (unsigned)(c - '0');
			if (p->sk_n > (UINT64_MAX - d) / 10)
				p->sk_n = UINT64_MAX;	/* too big to skip anyway */
			else
				p->sk_n = p->sk_n * 10 + d;
			p->sk_digits = true;
		} else {
			p->sk_lit = 0;
		}
		break;
	}
	return STEP_TAKE;
}

/* ----- building the tree ------------------------------------------------- */

static bool count_arg(struct imap_parser *p)
{
	if (p->nargs >= p->lim.max_args)
		return false;
	p->nargs++;
	return true;
}

static void push_arg(struct imap_parser *p, const struct imap_arg *a)
{
	if (p->nstack == p->stack_cap) {
		size_t cap = p->stack_cap ? p->stack_cap * 2 : 16;
		p->stack = xreallocarray(p->stack, cap, sizeof *p->stack);
		p->stack_cap = cap;
	}
	p->stack[p->nstack++] = *a;
}

/* Copy stack[from..nstack) into the arena; NULL when over budget. */
static const struct imap_arg *pop_items(struct imap_parser *p, size_t from,
					size_t *n_out)
{
	size_t n = p->nstack - from;
	*n_out = n;
	if (n == 0)
		return NULL;
	struct imap_arg *v = imap_arena_calloc(p->arena, n, sizeof *v);
	if (v == NULL)
		return NULL;
	memcpy(v, p->stack + from, n * sizeof *v);
	p->nstack = from;
	return v;
}

static bool is_atom_char(unsigned char c)
{
	/* RFC 9051 9 ATOM-CHAR, plus what readers of the tree take apart
	 * themselves: list-wildcards (LIST patterns, "*" in sequence sets),
	 * "]" (ASTRING-CHAR) and "\" (flags). */
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	       c != '"';
}

static bool is_tag_char(unsigned char c)
{
	/* tag = 1*<any ASTRING-CHAR except "+"> */
	return is_atom_char(c) && c != '%' && c != '*' && c != '\\' &&
	       c != '+';
}

static enum step tok_add(struct imap_parser *p, unsigned char c)
{
	if (buf_append(&p->tok, &c, 1) != 0)
		return fail(p, ERR_LIMIT, NULL, "Line too long");
	return STEP_TAKE;
}

static enum step too_complex(struct imap_parser *p)
{
	return fail(p, ERR_LIMIT, "LIMIT", "Command too complex");
}

/* The value in tok is complete. */
static enum step finish_value(struct imap_parser *p, enum imap_arg_type type)
{
	struct imap_arg a = { 0 };
	a.type = type;
	if (type == IMAP_ARG_ATOM && span_eq_ci(buf_span(&p->tok), "NIL"))
		a.type = IMAP_ARG_NIL;
	if (!count_arg(p))
		return fail(p, ERR_LIMIT, "LIMIT", "Too many arguments");
	if (imap_arena_span(p->arena, buf_span(&p->tok), &a.str) != 0)
		return too_complex(p);
	push_arg(p, &a);
	buf_reset(&p->tok);
	p->state = PS_AFTER;
	return STEP_AGAIN;
}

static enum step finish_name(struct imap_parser *p)
{
	if (p->tok.len == 0)
		return fail(p, ERR_PEER, NULL, "Missing command name");
	unsigned char *s = imap_arena_alloc(p->arena, p->tok.len + 1);
	if (s == NULL)
		return too_complex(p);
	for (size_t i = 0; i < p->tok.len; i++) {
		unsigned char c = p->tok.data[i];
		s[i] = (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
	}
	p->name = span_make(s, p->tok.len);
	buf_reset(&p->tok);
	if (!p->uid && span_eq_ci(p->name, "UID")) {
		/* "UID" SP (copy / move / fetch / search / store / expunge) */
		p->uid = true;
		p->state = PS_NAME;
		return STEP_AGAIN;
	}
	p->state = PS_ARG;
	return STEP_AGAIN;
}

static enum step command_done(struct imap_parser *p)
{
	size_t n;
	const struct imap_arg *args = pop_items(p, 0, &n);
	if (n > 0 && args == NULL)
		return fail_eol(p, ERR_LIMIT, "LIMIT", "Command too complex");
	p->cmd.tag = span_make(p->tag, p->tag_len);
	p->cmd.name = p->name;
	p->cmd.uid = p->uid;
	p->cmd.args = args;
	p->cmd.nargs = n;
	p->cmd.arena = p->arena;
	p->cmd_over = true;
	p->state = PS_START;
	p->ret = IMAP_PARSE_COMMAND;
	return STEP_TAKE_RET;
}

static enum step end_of_line(struct imap_parser *p)
{
	if (p->depth > 0)
		return fail_eol(p, ERR_PEER, NULL, "Missing ')'");
	return command_done(p);
}

/* ----- literals ---------------------------------------------------------- */

/* A literal we will not read: a synchronising one ends the command here
 * (the client waits for a "+" that never comes); the bytes of a
 * non-synchronising one are on their way and are skipped. */
static enum step refuse_literal(struct imap_parser *p, enum err_kind kind,
				const char *code, const char *msg)
{
	set_error(p, kind, code, "%s", msg);
	if (!p->lit_plus) {
		p->err_pending = false;
		p->cmd_over = true;
		p->state = PS_START;
		p->ret = IMAP_PARSE_ERROR;
		return STEP_TAKE_RET;
	}
	p->sk_quote = p->sk_esc = false;
	p->sk_lit = 0;
	skip_literal(p, p->lit_overflow ? UINT64_MAX : p->lit_size);
	if (p->state == PS_CLOSED) {
		p->ret = IMAP_PARSE_ERROR;
		return STEP_TAKE_RET;
	}
	return STEP_TAKE;
}

/* "{N}" CRLF has been read (the LF is the byte in hand). */
static enum step literal_header(struct imap_parser *p)
{
	uint64_t n = p->lit_size;
	p->line_len = 0;	/* the line after the literal is a new line */
	if (p->lit_overflow || n > p->lim.max_literal)
		return refuse_literal(p, ERR_LIMIT, "TOOBIG", "Literal too large");
	if (p->lit_plus && p->lim.literal_minus && n > IMAP_LITERAL_MINUS_MAX)
		return refuse_literal(p, ERR_LIMIT, "TOOBIG",
				      "Non-synchronizing literal over 4096 octets");
	if (!count_arg(p))
		return refuse_literal(p, ERR_LIMIT, "LIMIT", "Too many arguments");
	bool fits = n <= p->lim.max_literal_kept &&
		    p->cmd_bytes <= p->lim.max_command &&
		    n <= p->lim.max_command - p->cmd_bytes;
	if (!fits && !p->lim.stream_literals)
		return refuse_literal(p, ERR_LIMIT, "TOOBIG",
				      n > p->lim.max_literal_kept ?
				      "Literal too large" : "Command too long");
	p->lit_keep = fits;
	p->lit_dst = NULL;
	if (fits) {
		/* UNSAFE: n <= max_literal_kept, a size_t */
		p->lit_dst = imap_arena_alloc(p->arena, (size_t)n + 1);
		if (p->lit_dst == NULL)
			return refuse_literal(p, ERR_LIMIT, "LIMIT",
					      "Command too complex");
		p->cmd_bytes += (size_t)n;
	}
	p->lit_off = 0;
	p->lit_nul = false;
	memset(&p->info, 0, sizeof p->info);
	p->info.size = n;
	p->info.binary = p->lit_binary;
	p->info.sync = !p->lit_plus;
	p->info.depth = p->depth;
	p->state = PS_LIT_DATA;
	if (!p->lit_plus) {
		p->ret = IMAP_PARSE_CONTINUE;
		return STEP_TAKE_RET;
	}
	return STEP_TAKE;
}

/* All of the literal's bytes are in. */
static void literal_done(struct imap_parser *p)
{
	if (p->lit_nul) {
		/* RFC 9051 9: literal = ... *CHAR8, and CHAR8 excludes NUL */
		set_error(p, ERR_PEER, NULL,
			  "NUL octet in literal (use literal8)");
		p->sk_quote = p->sk_esc = false;
		p->sk_lit = 0;
		p->state = PS_SKIP;
		return;
	}
	struct imap_arg a = { 0 };
	a.type = p->lit_binary ? IMAP_ARG_LITERAL8 : IMAP_ARG_LITERAL;
	a.literal_size = p->lit_size;
	if (p->lit_keep) {
		p->lit_dst[p->lit_size] = '\0';
		a.str = span_make(p->lit_dst, (size_t)p->lit_size);
	} else {
		a.streamed = true;
		a.str = span_make("", 0);
	}
	push_arg(p, &a);
	p->state = PS_AFTER;
}

/* ----- the state machine ------------------------------------------------- */

static enum step open_list(struct imap_parser *p)
{
	if (p->depth >= p->lim.max_depth)
		return fail(p, ERR_LIMIT, "LIMIT", "Too many nested lists");
	if (!count_arg(p))
		return fail(p, ERR_LIMIT, "LIMIT", "Too many arguments");
	p->list_start[p->depth++] = p->nstack;
	return STEP_TAKE;
}

static enum step close_list(struct imap_parser *p)
{
	if (p->depth == 0)
		return fail(p, ERR_PEER, NULL, "Unexpected ')'");
	size_t n;
	const struct imap_arg *items = pop_items(p, p->list_start[--p->depth], &n);
	if (n > 0 && items == NULL)
		return too_complex(p);
	struct imap_arg a = { 0 };
	a.type = IMAP_ARG_LIST;
	a.list = items;
	a.list_len = n;
	a.str = span_make("", 0);
	push_arg(p, &a);
	p->state = PS_AFTER;
	return STEP_TAKE;
}

static enum step bad_char(struct imap_parser *p, unsigned char c,
			  const char *where)
{
	char msg[96];
	if (c >= 0x80)
		snprintf(msg, sizeof msg, "8-bit data in %s", where);
	else if (c < 0x20 || c == 0x7f)
		snprintf(msg, sizeof msg, "Control character in %s", where);
	else
		snprintf(msg, sizeof msg, "Unexpected '%c' in %s", c, where);
	return fail(p, ERR_PEER, NULL, msg);
}

static enum step st_arg(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case ' ':
		return STEP_TAKE;
	case '(':
		return open_list(p);
	case ')':
		return close_list(p);
	case '"':
		buf_reset(&p->tok);
		p->u8_need = 0;
		p->state = PS_QUOTED;
		return STEP_TAKE;
	case '{':
		p->lit_binary = false;
		p->lit_size = 0;
		p->lit_overflow = p->lit_digits = p->lit_plus = false;
		p->state = PS_LIT_OPEN;
		return STEP_TAKE;
	case '~':
		buf_reset(&p->tok);
		p->state = PS_TILDE;
		return tok_add(p, c);
	case '\r':
		p->state = PS_EOL_LF;
		return STEP_TAKE;
	case '\n':
		return end_of_line(p);
	default:
		if (!is_atom_char(c))
			return bad_char(p, c, "argument");
		buf_reset(&p->tok);
		p->state = PS_ATOM;
		return STEP_AGAIN;
	}
}

/* FETCH items whose brackets hold spaces and lists:
 * BODY[HEADER.FIELDS (A B)]. Elsewhere "[" is an ordinary ATOM-CHAR. */
static bool bracket_item(struct span s)
{
	return span_eq_ci(s, "BODY") || span_eq_ci(s, "BODY.PEEK") ||
	       span_eq_ci(s, "BINARY") || span_eq_ci(s, "BINARY.PEEK") ||
	       span_eq_ci(s, "BINARY.SIZE");
}

static enum step st_atom(struct imap_parser *p, unsigned char c)
{
	if (c == '[' && bracket_item(buf_span(&p->tok))) {
		p->state = PS_BRACKET;
		return tok_add(p, c);
	}
	if (is_atom_char(c))
		return tok_add(p, c);
	return finish_value(p, IMAP_ARG_ATOM);
}

static enum step st_bracket(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case ']':
		p->state = PS_ATOM;
		break;
	case '"':
		p->state = PS_BRACKET_Q;
		break;
	case '\r':
	case '\n':
		return fail(p, ERR_PEER, NULL, "Missing ']'");
	case '[':
	case '{':
		return bad_char(p, c, "section");
	default:
		if (c < 0x20 || c >= 0x7f)
			return bad_char(p, c, "section");
		break;
	}
	return tok_add(p, c);
}

static enum step st_bracket_q(struct imap_parser *p, unsigned char c)
{
	if (c == '\r' || c == '\n')
		return fail(p, ERR_PEER, NULL, "Missing '\"'");
	if (c == 0 || c >= 0x80)
		return bad_char(p, c, "section");
	if (p->state == PS_BRACKET_QE)
		p->state = PS_BRACKET_Q;
	else if (c == '\\')
		p->state = PS_BRACKET_QE;
	else if (c == '"')
		p->state = PS_BRACKET;
	return tok_add(p, c);
}

/* RFC 3629 4: the range of the byte after a lead byte. */
static bool utf8_lead(struct imap_parser *p, unsigned char c)
{
	p->u8_lo = 0x80;
	p->u8_hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		p->u8_need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		p->u8_need = 2;
		if (c == 0xe0)
			p->u8_lo = 0xa0;
		if (c == 0xed)
			p->u8_hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		p->u8_need = 3;
		if (c == 0xf0)
			p->u8_lo = 0x90;
		if (c == 0xf4)
			p->u8_hi = 0x8f;
	} else {
		return false;
	}
	return true;
}

static enum step st_quoted(struct imap_parser *p, unsigned char c)
{
	if (p->u8_need > 0) {
		if (c < p->u8_lo || c > p->u8_hi)
			return fail(p, ERR_PEER, NULL, "Invalid UTF-8 in quoted string");
		p->u8_need--;
		p->u8_lo = 0x80;
		p->u8_hi = 0xbf;
		return tok_add(p, c);
	}
	if (p->state == PS_QUOTED_ESC) {
		/* RFC 9051 9: only "\" quoted-specials */
		if (c != '"' && c != '\\')
			return fail(p, ERR_PEER, NULL, "Invalid escape in quoted string");
		p->state = PS_QUOTED;
		return tok_add(p, c);
	}
	switch (c) {
	case '"':
		p->state = PS_ATOM;	/* finish_value moves on to PS_AFTER */
		finish_value(p, IMAP_ARG_STRING);
		return STEP_TAKE;
	case '\\':
		p->state = PS_QUOTED_ESC;
		return STEP_TAKE;
	case '\r':
	case '\n':
		return fail(p, ERR_PEER, NULL, "Missing '\"'");
	case 0:
		return fail(p, ERR_PEER, NULL, "NUL in quoted string");
	default:
		break;
	}
	if (c >= 0x80) {
		if (!p->lim.utf8)
			return fail(p, ERR_PEER, NULL,
				    "8-bit data in quoted string (use a literal)");
		if (!utf8_lead(p, c))
			return fail(p, ERR_PEER, NULL, "Invalid UTF-8 in quoted string");
	}
	return tok_add(p, c);
}

static enum step st_literal_hdr(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case PS_LIT_OPEN:
	case PS_LIT_DIGITS:
		if (c >= '0' && c <= '9') {
			unsigned d = (unsigned)(c - '0');
			if (p->lit_size > (UINT64_MAX - d) / 10)
				p->lit_overflow = true;
			else
				p->lit_size = p->lit_size * 10 + d;
			p->lit_digits = true;
			p->state = PS_LIT_DIGITS;
			return STEP_TAKE;
		}
		if (p->state == PS_LIT_DIGITS && c == '+') {
			p->lit_plus = true;
			p->state = PS_LIT_PLUS;
			return STEP_TAKE;
		}
		if (p->state == PS_LIT_DIGITS && c == '}') {
			p->state = PS_LIT_CR;
			return STEP_TAKE;
		}
		return fail(p, ERR_PEER, NULL, "Invalid literal size");
	case PS_LIT_PLUS:
		if (c == '}') {
			p->state = PS_LIT_CR;
			return STEP_TAKE;
		}
		return fail(p, ERR_PEER, NULL, "Invalid literal size");
	case PS_LIT_CR:
		if (c == '\r') {
			p->state = PS_LIT_LF;
			return STEP_TAKE;
		}
		if (c == '\n')
			return literal_header(p);
		return fail(p, ERR_PEER, NULL, "Missing CRLF after literal size");
	case PS_LIT_LF:
		if (c == '\n')
			return literal_header(p);
		return fail(p, ERR_PEER, NULL, "Missing CRLF after literal size");
	default:
		assert(!"not a literal header state");
		return STEP_TAKE;
	}
}

static enum step step_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case PS_START:
		if (c == '\r' || c == '\n')
			return STEP_TAKE;	/* empty lines are ignored */
		if (!is_tag_char(c))
			return bad_char(p, c, "tag");
		p->state = PS_TAG;
		return STEP_AGAIN;
	case PS_TAG:
		if (is_tag_char(c)) {
			if (p->tag_len >= IMAP_TAG_MAX) {
				p->tag_len = 0;
				p->tag[0] = '\0';
				return fail(p, ERR_LIMIT, NULL, "Tag too long");
			}
			p->tag[p->tag_len++] = (char)c;
			p->tag[p->tag_len] = '\0';
			return STEP_TAKE;
		}
		if (c == ' ') {
			buf_reset(&p->tok);
			p->state = PS_NAME;
			return STEP_TAKE;
		}
		if (c == '\r' || c == '\n')
			return fail(p, ERR_PEER, NULL, "Missing command name");
		/* not a tag we can answer with: "* BAD" */
		p->tag_len = 0;
		p->tag[0] = '\0';
		return bad_char(p, c, "tag");
	case PS_NAME:
		if (c == ' ' || c == '\r' || c == '\n') {
			enum step s = finish_name(p);
			return (s == STEP_AGAIN && c == ' ') ? STEP_TAKE : s;
		}
		if (is_atom_char(c) && c != '[' && c != ']' && c != '%' &&
		    c != '*' && c != '\\')
			return tok_add(p, c);
		return bad_char(p, c, "command name");
	case PS_ARG:
		return st_arg(p, c);
	case PS_AFTER:
		if (c == ' ' || c == ')' || c == '\r' || c == '\n') {
			p->state = PS_ARG;
			return STEP_AGAIN;
		}
		if (c < 0x20 || c >= 0x7f)
			return bad_char(p, c, "argument");
		return fail(p, ERR_PEER, NULL, "Missing space between arguments");
	case PS_ATOM:
		return st_atom(p, c);
	case PS_BRACKET:
		return st_bracket(p, c);
	case PS_BRACKET_Q:
	case PS_BRACKET_QE:
		return st_bracket_q(p, c);
	case PS_QUOTED:
	case PS_QUOTED_ESC:
		return st_quoted(p, c);
	case PS_TILDE:
		if (c == '{') {
			buf_reset(&p->tok);
			p->lit_binary = true;
			p->lit_size = 0;
			p->lit_overflow = p->lit_digits = p->lit_plus = false;
			p->state = PS_LIT_OPEN;
			return STEP_TAKE;
		}
		p->state = PS_ATOM;
		return STEP_AGAIN;
	case PS_LIT_OPEN:
	case PS_LIT_DIGITS:
	case PS_LIT_PLUS:
	case PS_LIT_CR:
	case PS_LIT_LF:
		return st_literal_hdr(p, c);
	case PS_EOL_LF:
		if (c == '\n')
			return end_of_line(p);
		return fail(p, ERR_PEER, NULL, "CR not followed by LF");
	case PS_SKIP:
		return skip_byte(p, c);
	case PS_LIT_DATA:
	case PS_SKIP_LIT:
	case PS_CLOSED:
		break;
	}
	assert(!"bulk state in step_byte");
	return STEP_TAKE;
}

/* Is this state inside a command line (its bytes count against
 * max_line)? */
static bool line_state(enum pstate s)
{
	return s != PS_LIT_DATA && s != PS_SKIP && s != PS_SKIP_LIT &&
	       s != PS_CLOSED;
}

int imap_parser_next(struct imap_parser *p, const struct imap_cmd **cmd_out)
{
	if (cmd_out != NULL)
		*cmd_out = NULL;
	prepare(p);
	size_t i = 0;
	int rc = IMAP_PARSE_MORE;
	for (;;) {
		if (p->state == PS_CLOSED) {
			rc = IMAP_PARSE_ERROR;
			break;
		}
		if (p->state == PS_LIT_DATA) {
			uint64_t left = p->lit_size - p->lit_off;
			if (left == 0) {
				literal_done(p);
				continue;
			}
			size_t avail = p->in.len - i;
			if (avail == 0)
				break;
			size_t n = left < avail ? (size_t)left : avail;
			const unsigned char *src = p->in.data + i;
			if (!p->lit_binary && !p->lit_nul && memchr(src, 0, n))
				p->lit_nul = true;
			if (p->lit_keep) {
				memcpy(p->lit_dst + p->lit_off, src, n);
				p->lit_off += n;
				i += n;
				continue;
			}
			/* Streamed: lend the bytes out; they are consumed
			 * (and lit_off advanced) on the next call. */
			buf_consume(&p->in, i);
			i = 0;
			p->info.chunk = span_make(p->in.data, n);
			p->info.offset = p->lit_off;
			p->lit_off += n;
			p->defer = n;
			rc = IMAP_PARSE_LITERAL;
			return rc;
		}
		if (p->state == PS_SKIP_LIT) {
			size_t avail = p->in.len - i;
			if (p->skip_left == 0) {
				p->state = PS_SKIP;
				continue;
			}
			if (avail == 0)
				break;
			size_t n = p->skip_left < avail ? (size_t)p->skip_left : avail;
			p->skip_left -= n;
			i += n;
			continue;
		}
		if (i >= p->in.len)
			break;
		unsigned char c = p->in.data[i];
		bool counted = line_state(p->state);
		enum step s = step_byte(p, c);
		if (s == STEP_TAKE || s == STEP_TAKE_RET) {
			i++;
			if (counted && c != '\r' && c != '\n') {
				p->cmd_bytes++;
				if (++p->line_len > p->lim.max_line &&
				    line_state(p->state)) {
					fail(p, ERR_LIMIT, NULL, "Line too long");
				} else if (p->cmd_bytes > p->lim.max_command &&
					   line_state(p->state)) {
					fail(p, ERR_LIMIT, NULL, "Command too long");
				}
			}
		}
		if (s == STEP_TAKE_RET || s == STEP_AGAIN_RET) {
			rc = p->ret;
			break;
		}
	}
	buf_consume(&p->in, i);
	if (rc == IMAP_PARSE_COMMAND && cmd_out != NULL)
		*cmd_out = &p->cmd;
	return rc;
}

/* ----- queries and caller decisions -------------------------------------- */

const struct imap_parse_error *imap_parser_error(const struct imap_parser *p)
{
	return &p->error;
}

const struct imap_cmd *imap_parser_partial(struct imap_parser *p)
{
	p->cmd.tag = span_make(p->tag, p->tag_len);
	p->cmd.name = p->name;
	p->cmd.uid = p->uid;
	p->cmd.args = p->stack;
	p->cmd.nargs = p->depth > 0 ? p->list_start[0] : p->nstack;
	p->cmd.arena = p->arena;
	return &p->cmd;
}

const struct imap_literal_info *imap_parser_literal(const struct imap_parser *p)
{
	return &p->info;
}

void imap_parser_refuse_literal(struct imap_parser *p)
{
	if (p->state != PS_LIT_DATA || !p->info.sync || p->lit_off != 0)
		return;
	p->cmd_over = true;
}

void imap_parser_skip_command(struct imap_parser *p)
{
	if (p->state == PS_LIT_DATA && p->lit_off == 0 && p->info.sync &&
	    p->defer == 0) {
		/* nothing of the literal was asked for yet: just forget it */
		p->cmd_over = true;
		return;
	}
	if (p->state != PS_LIT_DATA)
		return;
	/* the deferred chunk is consumed by prepare(); skip what follows */
	p->silent = true;
	p->err_pending = false;
	p->sk_quote = p->sk_esc = false;
	p->sk_lit = 0;
	p->skipped = 0;
	p->skip_left = p->lit_size - p->lit_off;
	p->state = PS_SKIP_LIT;
}

int imap_parser_read_line(struct imap_parser *p, struct span *line_out)
{
	prepare(p);
	if (p->state == PS_CLOSED)
		return -1;
	size_t len = p->in.len;
	const unsigned char *nl = len ? memchr(p->in.data, '\n', len) : NULL;
	size_t n = nl ? (size_t)(nl - p->in.data) + 1 : len;
	/* without its LF the line may hold max_line bytes and a CR */
	if (buf_append(&p->tok, p->in.data, n) != 0 ||
	    (nl == NULL && p->tok.len > p->lim.max_line &&
	     (p->tok.len > p->lim.max_line + 1 ||
	      p->tok.data[p->tok.len - 1] != '\r'))) {
		fatal(p, ERR_LIMIT, NULL, "Line too long");
		return -1;
	}
	buf_consume(&p->in, n);
	if (nl == NULL)
		return 0;
	size_t l = p->tok.len - 1;
	if (l > 0 && p->tok.data[l - 1] == '\r')
		l--;
	if (l > p->lim.max_line) {
		fatal(p, ERR_LIMIT, NULL, "Line too long");
		return -1;
	}
	*line_out = span_make(p->tok.data, l);
	p->raw_line = true;
	return 1;
}

void imap_parser_shrink(struct imap_parser *p)
{
	/* the command just returned is over: its tag and state go first, or
	 * an IDLE (shrunk right after its command) would keep everything */
	if (p->cmd_over)
		reset_command(p);
	if (p->state != PS_START || p->tag_len != 0 || p->defer != 0 ||
	    p->raw_line || p->tok.len != 0)
		return;
	if (p->in.len == 0)
		buf_release(&p->in);
	buf_release(&p->tok);
	imap_arena_reset(p->arena);
	imap_arena_trim(p->arena);
	free(p->stack);
	p->stack = NULL;
	p->stack_cap = 0;
}

struct span imap_parser_pending(const struct imap_parser *p)
{
	return span_make(p->in.data + p->defer, p->in.len - p->defer);
}

void imap_parser_drop_pending(struct imap_parser *p)
{
	buf_consume(&p->in, p->in.len);
	p->defer = 0;
}

bool imap_arg_astring(const struct imap_arg *a, struct span *out)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
	case IMAP_ARG_STRING:
		*out = a->str;
		return true;
	case IMAP_ARG_LITERAL:
	case IMAP_ARG_LITERAL8:
		if (a->streamed)
			return false;
		*out = a->str;
		return true;
	case IMAP_ARG_LIST:
		break;
	}
	return false;
}

bool imap_arg_atom_is(const struct imap_arg *a, const char *word)
{
	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
	       span_eq_ci(a->str, word);
}
