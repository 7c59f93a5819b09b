/* imap_parse.h - the IMAP command reader (RFC 9051 2.2, 4, 9; RFC 3501).
 * Bytes arrive in arbitrary pieces; out comes one command at a time: a
 * tag, a command name and a tree of arguments (atoms, strings, literals,
 * NIL, lists) in a per-command arena. Like Dovecot's imap-parser it knows
 * no command's grammar: sequence sets, FETCH items, SEARCH keys, mailbox
 * names, flags and dates are read from the tree by imap_seqset.h,
 * imap_parse_fetch.h, imap_search.h and imap_parse_value.h. It checks
 * syntax and limits only and never acts, so server and fuzzer share it. */
#ifndef PETREL_IMAP_PARSE_H
#define PETREL_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"

/* ----- limits ------------------------------------------------------------
 * Defaults; petrel's limits.h is shared and not ours to edit, so they live
 * here until they move there. Every limit is checked at limit + 1. */

/* One command line, literal bytes excluded. RFC 9051 4 sets no maximum;
 * RFC 7162 4 asks servers to take at least 8192 octets, and a UID FETCH
 * of a fragmented set can be long, so 64 KiB as Dovecot does. */
#define IMAP_MAX_LINE_DEFAULT 65536u
/* One literal (APPEND message): APPENDLIMIT, RFC 7889. */
#define IMAP_MAX_LITERAL_DEFAULT (50u * 1024 * 1024)
/* Literals up to this size are held in the command; bigger ones are
 * streamed to the caller in chunks (when stream_literals is set). */
#define IMAP_MAX_LITERAL_KEPT_DEFAULT 65536u
/* Bytes one command may hold: its lines plus kept literals. */
#define IMAP_MAX_COMMAND_DEFAULT (1024u * 1024)
/* List nesting; SEARCH programs and BODYSTRUCTURE-like input in CATENATE
 * never need more. */
#define IMAP_MAX_DEPTH_DEFAULT 32u
/* Arguments (atoms, strings, literals, lists) in one command. */
#define IMAP_MAX_ARGS_DEFAULT 10000u
/* Bytes we read and throw away to get back in step after an error
 * (the rest of a line, a non-synchronising literal we refused). Over
 * it the connection is closed instead. */
#define IMAP_MAX_SKIP_DEFAULT (1024u * 1024)
/* Before authentication (Redis's rule): a login needs little. */
#define IMAP_PREAUTH_MAX_LINE 8192u
#define IMAP_PREAUTH_MAX_LITERAL 8192u
#define IMAP_PREAUTH_MAX_COMMAND 65536u
#define IMAP_PREAUTH_MAX_DEPTH 8u
#define IMAP_PREAUTH_MAX_ARGS 256u
#define IMAP_PREAUTH_MAX_SKIP 65536u
/* RFC 7888 4: with LITERAL- a non-synchronising literal is at most 4096
 * octets. */
#define IMAP_LITERAL_MINUS_MAX 4096u
/* A tag longer than this is refused (Dovecot allows 100 too). */
#define IMAP_TAG_MAX 100u
/* Bytes the reader buffers ahead of parsing; imap_parser_push() takes at
 * most this many at a time. */
#define IMAP_PARSE_WINDOW 65536u

struct imap_parse_limits {
	size_t max_line;	/* one line, literals excluded */
	uint64_t max_literal;	/* one literal, kept or streamed */
	size_t max_literal_kept;/* kept in the command if <= this (and the
				 * command budget allows), else streamed */
	size_t max_command;	/* lines + kept literals of one command */
	unsigned max_depth;	/* nested lists */
	unsigned max_args;	/* arguments, lists included */
	uint64_t max_skip;	/* bytes to discard when resynchronising */
	bool stream_literals;	/* false: a literal that cannot be kept is an
				 * error (before authentication) */
	bool literal_minus;	/* LITERAL- (RFC 7888) rather than LITERAL+:
				 * {N+} with N > 4096 is refused */
	bool utf8;		/* IMAP4rev2 or UTF8=ACCEPT: UTF-8 in quoted
				 * strings (RFC 9051 9 QUOTED-CHAR, RFC 6855) */
};

/* The defaults above, after and before authentication. */
void imap_parse_limits_default(struct imap_parse_limits *lim);
void imap_parse_limits_preauth(struct imap_parse_limits *lim);

/* ----- arena -------------------------------------------------------------
 * The per-command arena: everything the reader and the imap_parse_*,
 * imap_seqset_* and imap_search_* readers build for one command lives here
 * and is dropped when the next command starts. It has a byte budget; an
 * allocation over it returns NULL, which those readers report as a peer
 * error ("Command too complex"), never an abort. */
struct imap_arena;

/* An arena that will hand out at most budget bytes in all (the reader
 * makes its own; this is for tests and for callers that parse values
 * outside a command). */
struct imap_arena *imap_arena_new(size_t budget);
void imap_arena_free(struct imap_arena **ap);
/* Forget every allocation; keeps one small block for reuse. */
void imap_arena_reset(struct imap_arena *a);
void imap_arena_set_budget(struct imap_arena *a, size_t budget);
/* Forget every allocation and free every block. */
void imap_arena_trim(struct imap_arena *a);

/* n zeroed bytes aligned for any type, or NULL when over budget. */
void *imap_arena_alloc(struct imap_arena *a, size_t n)
	__attribute__((warn_unused_result));
/* nmemb * size, checked for overflow. */
void *imap_arena_calloc(struct imap_arena *a, size_t nmemb, size_t size)
	__attribute__((warn_unused_result));
/* A copy of s followed by a NUL (not counted in the span's length). */
int imap_arena_span(struct imap_arena *a, struct span s, struct span *out)
	__attribute__((warn_unused_result));

/* ----- the argument tree ------------------------------------------------ */

enum imap_arg_type {
	IMAP_ARG_ATOM = 1,	/* also "\Seen", "1:*", "BODY[HEADER]<0.10>" */
	IMAP_ARG_NIL,		/* the atom NIL in any case; str holds it, as an
				 * astring may be the mailbox called "NIL" */
	IMAP_ARG_STRING,	/* quoted, with \" and \\ undone */
	IMAP_ARG_LITERAL,	/* {N} or {N+} */
	IMAP_ARG_LITERAL8,	/* ~{N} (RFC 3516, RFC 9051 BINARY) */
	IMAP_ARG_LIST,		/* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type type;
	/* Literal whose bytes went to the caller as IMAP_PARSE_LITERAL
	 * chunks; str is then empty and only size is known. */
	bool streamed;
	/* Atom, NIL, string, kept literal: the bytes, in the arena, followed
	 * by a NUL that is not counted (literals may hold NULs: use len). */
	struct span str;
	uint64_t literal_size;	/* literals: N as announced */
	const struct imap_arg *list;	/* LIST: its items */
	size_t list_len;
};

struct imap_cmd {
	struct span tag;	/* NUL-terminated, as sent */
	struct span name;	/* NUL-terminated, upper-cased */
	bool uid;		/* "UID FETCH ...": uid set, name "FETCH" */
	const struct imap_arg *args;
	size_t nargs;
	struct imap_arena *arena;	/* for the readers of the arguments */
};

/* The bytes of an atom, NIL, string or kept literal (RFC 9051 astring and
 * string); false for lists and streamed literals. */
bool imap_arg_astring(const struct imap_arg *a, struct span *out);
/* An atom (or NIL) equal to word, ASCII case-insensitively. */
bool imap_arg_atom_is(const struct imap_arg *a, const char *word);

/* ----- the reader --------------------------------------------------------
 * Not thread-safe; one per connection. */
struct imap_parser;

enum imap_parse_result {
	IMAP_PARSE_ERROR = -1,	/* see imap_parser_error() */
	IMAP_PARSE_MORE = 0,	/* every buffered byte is used: push more */
	IMAP_PARSE_COMMAND = 1,	/* a whole command: *cmd_out */
	/* A synchronising literal {N} was announced and fits the limits:
	 * send "+ OK" (RFC 9051 7.5) and go on, or call
	 * imap_parser_refuse_literal() and reply NO/BAD (the client then does
	 * not send it, RFC 9051 4.3). imap_parser_partial() and
	 * imap_parser_literal() tell what the literal is for. */
	IMAP_PARSE_CONTINUE = 2,
	/* A piece of a streamed literal: imap_parser_literal(). */
	IMAP_PARSE_LITERAL = 3,
};

struct imap_parse_error {
	struct err err;		/* kind ERR_PEER (syntax) or ERR_LIMIT (size);
				 * msg is the text for "<tag> BAD <msg>" */
	const char *code;	/* response code ("TOOBIG", "LIMIT") or NULL */
	/* false: the rest of the command has been read and thrown away; the
	 * next imap_parser_next() starts on the next command. true: the
	 * stream cannot be resynchronised (a literal too big to skip, too
	 * much to skip): reply "* BYE" and close. */
	bool close;
	char tag[IMAP_TAG_MAX + 1];	/* "" if no tag was read: "* BAD" */
};

struct imap_literal_info {
	struct span chunk;	/* IMAP_PARSE_LITERAL: these bytes, valid until
				 * the next call on the parser */
	uint64_t offset;	/* of chunk within the literal */
	uint64_t size;		/* whole literal */
	bool binary;		/* literal8 */
	bool sync;		/* {N}: needed a continuation */
	unsigned depth;		/* lists open around it (0: top level) */
};

/* A reader with these limits (copied). Never NULL. */
struct imap_parser *imap_parser_new(const struct imap_parse_limits *lim);
void imap_parser_free(struct imap_parser **pp);
/* New limits from the next command on (after LOGIN, ENABLE UTF8=ACCEPT). */
void imap_parser_set_limits(struct imap_parser *p,
			    const struct imap_parse_limits *lim);

/* Buffer up to len bytes; returns how many were taken (fewer when the
 * IMAP_PARSE_WINDOW is full: call imap_parser_next(), then push the rest). */
size_t imap_parser_push(struct imap_parser *p, const void *data, size_t len);

/* Parse what has been pushed. Returns an enum imap_parse_result. A
 * command, its arguments and its arena stay valid until the next call of
 * imap_parser_next(), imap_parser_read_line() or imap_parser_free().
 * After IMAP_PARSE_ERROR with close == false, call again for the next
 * command; with close == true every later call returns it again. */
int imap_parser_next(struct imap_parser *p, const struct imap_cmd **cmd_out)
	__attribute__((warn_unused_result));

/* After IMAP_PARSE_ERROR: why, and what to do. */
const struct imap_parse_error *imap_parser_error(const struct imap_parser *p);

/* After IMAP_PARSE_CONTINUE or IMAP_PARSE_LITERAL: the command read so far
 * (tag, name, top-level arguments before the literal; an argument list
 * still open is not included). Valid until the next call on p. */
const struct imap_cmd *imap_parser_partial(struct imap_parser *p);
const struct imap_literal_info *imap_parser_literal(const struct imap_parser *p);

/* After IMAP_PARSE_CONTINUE: the server will not take this literal. The
 * command is forgotten; the caller sends the tagged NO/BAD itself. */
void imap_parser_refuse_literal(struct imap_parser *p);
/* After IMAP_PARSE_LITERAL: the server has given up on this command
 * (APPEND over quota) and replied itself; the reader throws away the rest
 * of the literal and of the command quietly (bounded by max_literal, then
 * max_skip) and then goes on with the next one. Right after
 * IMAP_PARSE_CONTINUE it is imap_parser_refuse_literal(). */
void imap_parser_skip_command(struct imap_parser *p);

/* Between commands: one raw line without its CRLF, for AUTHENTICATE
 * responses (RFC 9051 6.2.2) and IDLE's "DONE". 1: *line_out valid until
 * the next call on p; 0: need more; -1: longer than max_line (error set,
 * close == true). */
int imap_parser_read_line(struct imap_parser *p, struct span *line_out)
	__attribute__((warn_unused_result));

/* Between commands, give back the buffers an idle connection does not
 * need (before a long IDLE); they are allocated again on demand. The last
 * command returned is no longer valid. Does nothing mid-command. */
void imap_parser_shrink(struct imap_parser *p);

/* Bytes pushed but not parsed yet. After STARTTLS they must be dropped
 * (RFC 9051 6.2.1: plaintext injection); after COMPRESS they are
 * compressed data the caller takes back. Only between commands. */
struct span imap_parser_pending(const struct imap_parser *p);
void imap_parser_drop_pending(struct imap_parser *p);

#endif
