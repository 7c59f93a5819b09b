/* fuzz_imap_parse.c - libFuzzer target for the IMAP command reader and
 * the readers of its argument trees (src/imap/imap_parse*.c,
 * imap_seqset.c, imap_search.c, imap_sort.c's SORT and THREAD arguments,
 * base subjects and cached-ENVELOPE keys, imap_thread.c over the keys). The first byte picks the limits and how
 * the rest is cut into pieces; the rest is what a client sends. Checked:
 * the events do not depend on the cuts (a run fed whole must agree),
 * literal chunks are contiguous and within the announced size, a closed
 * reader stays closed, every value is NUL-terminated, sequence sets hold
 * no 0 and ordered ranges, modified UTF-7 round-trips. A breach aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_parse.h"
#include "imap/imap_parse_fetch.h"
#include "imap/imap_parse_value.h"
#include "imap/imap_search.h"
#include "imap/imap_seqset.h"
#include "imap/imap_sort.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t piece_sets[8][4] = {
	{ 1, 1, 1, 1 }, { 2, 3, 5, 7 }, { 3, 1, 4, 1 }, { 5, 9, 2, 6 },
	{ 64, 1, 64, 2 }, { 4096, 4096, 4096, 4096 }, { 13, 17, 19, 23 },
	{ SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX },
};

/* FNV-1a over the events, so two runs can be compared. */
static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ull;
	}
}

static void check_seqset(const struct imap_seqset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct imap_seq_range *r = &s->ranges[i];
		if (r->lo != IMAP_SEQ_STAR && r->hi != IMAP_SEQ_STAR)
			CHECK(r->lo <= r->hi);
		CHECK(!(r->lo == IMAP_SEQ_STAR && r->hi != IMAP_SEQ_STAR));
	}
}

/* Run every value reader over an argument and its children. */
static void readers(const struct imap_arg *a, struct imap_arena *arena,
		    unsigned depth)
{
	struct err e;
	struct span s;
	if (a->type != IMAP_ARG_LIST && !a->streamed)
		CHECK(a->str.p[a->str.len] == '\0');
	if (a->type == IMAP_ARG_ATOM) {
		struct imap_seqset set, res;
		if (imap_seqset_parse_arg(a, arena, &set, &e) == 0) {
			check_seqset(&set);
			if (imap_seqset_resolve(&set, 1000, arena, &res) == 0) {
				for (size_t i = 0; i < res.n; i++) {
					CHECK(res.ranges[i].lo >= 1);
					CHECK(res.ranges[i].lo <= res.ranges[i].hi);
					if (i > 0)
						CHECK(res.ranges[i].lo > res.ranges[i - 1].hi);
				}
			}
		}
		struct imap_date d;
		if (imap_parse_date(a, &d, &e) == 0)
			CHECK(d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= 31);
	}
	struct imap_fetch_atts f;
	if (imap_parse_fetch_atts(a, arena, &f, &e) == 0)
		for (size_t i = 0; i < f.nbodies; i++)
			CHECK(!f.bodies[i].partial || f.bodies[i].count > 0);
	struct span name;
	for (unsigned opts = 0; opts < 4; opts++)
		if (imap_parse_mailbox(a, opts, arena, &name, &e) == 0)
			for (size_t i = 0; i < name.len; i++)
				CHECK(name.p[i] >= 0x20 && name.p[i] != 0x7f);
	if (imap_arg_astring(a, &s)) {
		struct span u, m, back;
		if (imap_mutf7_decode(s, arena, &u) == 0) {
			CHECK(imap_utf8_valid(u));
			CHECK(imap_mutf7_encode(u, arena, &m) == 0);
			CHECK(imap_mutf7_decode(m, arena, &back) == 0);
			CHECK(back.len == u.len && memcmp(back.p, u.p, u.len) == 0);
		}
		int64_t t;
		(void)imap_parse_datetime(a, &t, NULL, &e);	/* no crash is all */
	}
	if (a->type == IMAP_ARG_LIST) {
		struct imap_flags fl;
		(void)imap_parse_flags(a, 1, arena, &fl, &e);	/* no crash is all */
		uint64_t since;
		bool vanished;
		(void)imap_parse_fetch_modifiers(a, &since, &vanished, &e);
		if (depth < 4)
			for (size_t i = 0; i < a->list_len; i++)
				readers(&a->list[i], arena, depth + 1);
	}
}

/* SORT / THREAD arguments; every string argument as a subject and as a
 * cached ENVELOPE (a damaged cache must never misbehave); and threads
 * over the keys so made, whose output must balance its parentheses. */
static void sort_readers(const struct imap_cmd *cmd)
{
	struct imap_search_limits sl;
	imap_search_limits_default(&sl);
	struct err e;
	struct imap_sort_cmd so;
	if (imap_sort_parse_command(cmd->args, cmd->nargs, &sl, cmd->arena, &so, &e) == 0)
		CHECK(so.n_crit >= 1 && so.n_crit <= IMAP_SORT_MAX_CRITERIA);
	struct imap_thread_cmd th;
	(void)imap_thread_parse_command(cmd->args, cmd->nargs, &sl, cmd->arena, &th, &e);

	enum { K = 8 };
	struct imap_sort_msg m[K];
	const struct imap_sort_msg *v[K];
	struct buf mem[K];
	size_t n = 0;
	for (size_t i = 0; i < cmd->nargs && n < K; i++) {
		struct span s;
		if (!imap_arg_astring(&cmd->args[i], &s))
			continue;
		struct buf out;
		buf_init(&out, s.len * 4 + 64);
		bool refwd;
		CHECK(imap_base_subject(s, &out, &refwd) == 0);
		CHECK(out.len == 0 || (out.data[0] != ' ' && out.data[out.len - 1] != ' '));
		buf_release(&out);
		memset(&m[n], 0, sizeof m[n]);
		m[n].seq = m[n].number = (uint32_t)n + 1;
		buf_init(&mem[n], 1u << 20);
		(void)imap_sort_msg_fill(&m[n], s, s, &mem[n]);
		for (size_t k = 0; k < m[n].subject.len; k++)
			CHECK(!(m[n].subject.p[k] >= 'a' && m[n].subject.p[k] <= 'z'));
		v[n] = &m[n];
		n++;
	}
	for (int alg = IMAP_THREAD_ORDEREDSUBJECT; alg <= IMAP_THREAD_REFERENCES; alg++) {
		struct buf out;
		buf_init(&out, 1u << 20);
		CHECK(imap_thread_build((enum imap_thread_alg)alg, v, n, &out) == 0);
		long depth = 0;
		size_t numbers = 0;
		for (size_t k = 0; k < out.len; k++) {
			depth += out.data[k] == '(' ? 1 : out.data[k] == ')' ? -1 : 0;
			CHECK(depth >= 0);
			numbers += out.data[k] >= '1' && out.data[k] <= '8' &&
				   (k == 0 || out.data[k - 1] == ' ' || out.data[k - 1] == '(');
		}
		CHECK(depth == 0 && numbers == n);
		buf_release(&out);
	}
	struct imap_sort_criterion crit[2] = { { IMAP_SORT_SUBJECT, true },
					       { IMAP_SORT_DISPLAYFROM, false } };
	imap_sort_messages(v, n, crit, 2);
	for (size_t i = 0; i < n; i++)
		buf_release(&mem[i]);
}

static void on_command(const struct imap_cmd *cmd, uint64_t *h)
{
	CHECK(cmd->tag.len > 0 && cmd->tag.len <= IMAP_TAG_MAX);
	CHECK(cmd->tag.p[cmd->tag.len] == '\0');
	CHECK(cmd->name.len > 0 && cmd->name.p[cmd->name.len] == '\0');
	mix(h, "C", 1);
	mix(h, cmd->tag.p, cmd->tag.len);
	mix(h, cmd->name.p, cmd->name.len);
	mix(h, &cmd->nargs, sizeof cmd->nargs);
	for (size_t i = 0; i < cmd->nargs; i++) {
		const struct imap_arg *a = &cmd->args[i];
		mix(h, &a->type, sizeof a->type);
		mix(h, a->str.p, a->str.len);
		readers(a, cmd->arena, 0);
	}
	struct imap_search_limits sl;
	imap_search_limits_default(&sl);
	struct imap_search_cmd sc;
	struct err e;
	(void)imap_search_parse_command(cmd->args, cmd->nargs, &sl, cmd->arena, &sc, &e);
	sort_readers(cmd);
	if (cmd->nargs > 0) {
		struct imap_flags fl;
		(void)imap_parse_flags(cmd->args, cmd->nargs, cmd->arena, &fl, &e);
	}
}

static uint64_t run(const struct imap_parse_limits *lim, const uint8_t *in,
		    size_t len, const size_t *pieces, bool values)
{
	struct imap_parser *p = imap_parser_new(lim);
	uint64_t h = 1469598103934665603ull;
	uint64_t lit_next = 0, lit_size = 0;
	bool closed = false;
	size_t off = 0;
	for (unsigned k = 0; off < len && !closed; k++) {
		size_t n = pieces[k % 4];
		if (n > len - off)
			n = len - off;
		uint8_t *piece = malloc(n);
		CHECK(piece != NULL);
		memcpy(piece, in + off, n);
		size_t done = 0;
		while (done < n && !closed) {
			done += imap_parser_push(p, piece + done, n - done);
			for (;;) {
				const struct imap_cmd *cmd;
				int rc = imap_parser_next(p, &cmd);
				if (rc == IMAP_PARSE_MORE)
					break;
				if (rc == IMAP_PARSE_LITERAL) {
					const struct imap_literal_info *li = imap_parser_literal(p);
					CHECK(li->chunk.len > 0);
					if (li->offset == 0) {
						lit_size = li->size;
						lit_next = 0;
						mix(&h, "L", 1);
					}
					CHECK(li->offset == lit_next && li->size == lit_size);
					CHECK(li->offset + li->chunk.len <= li->size);
					lit_next += li->chunk.len;
					mix(&h, li->chunk.p, li->chunk.len);
					continue;
				}
				if (rc == IMAP_PARSE_CONTINUE) {
					CHECK(imap_parser_literal(p)->sync);
					mix(&h, "+", 1);
					continue;
				}
				if (rc == IMAP_PARSE_COMMAND) {
					CHECK(cmd != NULL);
					if (values)
						on_command(cmd, &h);
					else
						mix(&h, "C", 1);
					continue;
				}
				CHECK(rc == IMAP_PARSE_ERROR);
				const struct imap_parse_error *e = imap_parser_error(p);
				mix(&h, "E", 1);
				mix(&h, e->err.msg, strlen(e->err.msg));
				mix(&h, e->tag, strlen(e->tag));
				if (e->close) {
					CHECK(imap_parser_next(p, &cmd) == IMAP_PARSE_ERROR);
					closed = true;
					break;
				}
			}
		}
		free(piece);
		off += n;
	}
	imap_parser_free(&p);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t sel = data[0];
	struct imap_parse_limits lim;
	if (sel & 0x08) {
		imap_parse_limits_preauth(&lim);
	} else {
		imap_parse_limits_default(&lim);
		lim.max_literal_kept = 16;	/* streaming gets exercised */
	}
	if (sel & 0x10) {
		lim.max_line = 64;
		lim.max_depth = 4;
		lim.max_args = 20;
		lim.max_skip = 256;
		lim.max_literal = 300;
		lim.max_command = 200;
	}
	lim.utf8 = (sel & 0x20) != 0;
	lim.literal_minus = (sel & 0x40) != 0;
	const uint8_t *in = data + 1;
	size_t len = size - 1;
	static const size_t all[4] = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX };
	uint64_t split = run(&lim, in, len, piece_sets[sel & 7], (sel & 0x80) != 0);
	uint64_t whole = run(&lim, in, len, all, (sel & 0x80) != 0);
	CHECK(split == whole);
	return 0;
}
