/* imap_cmd_append.c - APPEND (RFC 9051 6.3.12) with APPENDUID (RFC 4315),
 * APPENDLIMIT (RFC 7889) and MULTIAPPEND (RFC 3502: several messages in
 * one command, stored all or none). A message literal up to the reader's kept
 * size arrives inside the command; a larger one is streamed to us in
 * chunks and collected in a buffer bounded by its announced size, which
 * the reader has already held to APPENDLIMIT (smtp_max_message_size).
 * The MIME cache is made here and stored with the message. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "mime/mime.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

/* RFC 9208 / RFC 5530 OVERQUOTA, early: would size more bytes fit the
 * mailbox's quota? Only to refuse a synchronising literal before the
 * client sends it; the store decides when it commits (APPEND, COPY). On
 * a store error the answer is yes: the append itself will then tell. */
static bool quota_allows(struct imap_session *s, uint64_t size)
{
	char local[320];
	struct store_mailbox mb;
	struct err err;
	snprintf(local, sizeof local, "%s", s->address);
	char *at = strrchr(local, '@');
	if (at == NULL)
		return true;
	*at = '\0';
	if (store_mailbox_find(s->srv->store, local, at + 1, &mb, &err) != 1 ||
	    mb.quota == 0)
		return true;
	return mb.used <= mb.quota && size <= mb.quota - mb.used;
}

int imap_literal_check(struct imap_session *s, const struct imap_cmd *partial,
		       const struct imap_literal_info *li)
{
	/* the reader has held the size to max_literal (APPENDLIMIT); an
	 * APPEND that cannot fit is refused before the client sends it
	 * (RFC 9051 4.3: it then does not) */
	if (s->state != IMAP_S_NOTAUTH && span_eq_ci(partial->name, "APPEND") &&
	    li->depth <= 1 && !quota_allows(s, li->size + s->literal_total)) {
		imap_parser_refuse_literal(s->parser);
		imap_no(s, (const char *)partial->tag.p, "[OVERQUOTA] Mailbox is full");
		imap_append_reset(s);	/* the command is forgotten */
		return -1;
	}
	return 0;
}

void imap_append_reset(struct imap_session *s)
{
	for (size_t i = 0; i < s->n_literals_done; i++)
		buf_release(&s->literals_done[i]);
	free(s->literals_done);
	s->literals_done = NULL;
	s->n_literals_done = 0;
	s->literal_total = 0;
	buf_reset_max(&s->literal, 0);
	buf_release(&s->literal);
}

/* The reader throws the rest of the command away without a word, so
 * this is the command's end for us too. */
static void refuse_stream(struct imap_session *s, const char *tag,
			  const char *code, const char *text)
{
	imap_no(s, tag, "[%s] %s", code, text);
	imap_parser_skip_command(s->parser);
	imap_append_reset(s);
}

void imap_append_chunk(struct imap_session *s, const struct imap_literal_info *li)
{
	const struct imap_cmd *partial = imap_parser_partial(s->parser);
	const char *tag = (const char *)partial->tag.p;
	/* a message is at the top level, in RFC 6855's UTF8 (~{n}) or a
	 * TEXT part of RFC 4469's CATENATE (...) */
	if (!span_eq_ci(partial->name, "APPEND") || li->depth > 1) {
		/* only a message is worth streaming */
		refuse_stream(s, tag, "TOOBIG", "Literal too large here");
		return;
	}
	if (li->offset == 0) {
		if (s->literal_total > 0) {
			/* MULTIAPPEND: the one before is whole */
			if (s->n_literals_done + 1 >= IMAP_MULTIAPPEND_MAX) {
				refuse_stream(s, tag, "LIMIT", "Too many messages in one APPEND");
				return;
			}
			s->literals_done = xreallocarray(s->literals_done,
							 s->n_literals_done + 1,
							 sizeof *s->literals_done);
			s->literals_done[s->n_literals_done++] = s->literal;
			buf_init(&s->literal, 0);
		}
		uint64_t cap = s->srv->cfg->smtp_max_message_size;
		if (cap < IMAP_APPEND_STREAM_MAX)
			cap = IMAP_APPEND_STREAM_MAX;
		if (li->size > cap - s->literal_total) {
			refuse_stream(s, tag, "LIMIT", "Messages of one APPEND too large together");
			return;
		}
		s->literal_total += li->size;
		buf_reset_max(&s->literal, (size_t)li->size);
	}
	if (buf_append(&s->literal, li->chunk.p, li->chunk.len) != 0)
		refuse_stream(s, tag, "TOOBIG", "Message too large");
}

const struct buf *imap_append_streamed(struct imap_session *s, size_t i)
{
	if (i < s->n_literals_done)
		return &s->literals_done[i];
	if (i == s->n_literals_done && s->literal_total > 0)
		return &s->literal;
	return NULL;
}

/* One message of an APPEND: RFC 3502 append-message. */
struct append_msg {
	const struct imap_arg *flags;	/* NULL: none */
	const struct imap_arg *date;	/* NULL: now */
	const struct imap_arg *msg;	/* NULL with cat */
	const struct imap_arg *cat;	/* RFC 4469 CATENATE's list */
	struct span data;
};

static bool is_literal(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_LITERAL || a->type == IMAP_ARG_LITERAL8;
}

/* RFC 6855 4: "UTF8" SP "(" literal8 ")" at i: the literal8, or NULL. */
static const struct imap_arg *utf8_data(const struct imap_cmd *cmd, size_t i)
{
	if (i + 1 >= cmd->nargs || !imap_arg_atom_is(&cmd->args[i], "UTF8"))
		return NULL;
	const struct imap_arg *l = &cmd->args[i + 1];
	if (l->type != IMAP_ARG_LIST || l->list_len != 1 ||
	    l->list[0].type != IMAP_ARG_LITERAL8)
		return NULL;
	return &l->list[0];
}

/* RFC 4469 "CATENATE" SP "(" cat-part *(SP cat-part) ")" at i. */
static bool catenate_at(const struct imap_cmd *cmd, size_t i)
{
	return i + 1 < cmd->nargs && imap_arg_atom_is(&cmd->args[i], "CATENATE") &&
	       cmd->args[i + 1].type == IMAP_ARG_LIST;
}

/* Split args[1..] into messages (RFC 3502 2: 1*(SP append-message)).
 * A quoted string is a date when a literal follows it, else a message
 * (as a single APPEND has always taken it). -1: BAD sent. */
static int split_messages(struct imap_session *s, const struct imap_cmd *cmd,
			  struct append_msg **out, size_t *n_out)
{
	const char *tag = TAG(cmd);
	size_t cap = (cmd->nargs - 1 < IMAP_MULTIAPPEND_MAX) ? cmd->nargs - 1
							     : IMAP_MULTIAPPEND_MAX;
	struct append_msg *m = imap_arena_calloc(cmd->arena, cap, sizeof *m);
	if (m == NULL) {
		imap_bad(s, tag, "Command too complex");
		return -1;
	}
	size_t n = 0, i = 1;
	while (i < cmd->nargs) {
		if (n == cap) {
			imap_no(s, tag, "[LIMIT] At most %d messages in one APPEND",
				IMAP_MULTIAPPEND_MAX);
			return -1;
		}
		struct append_msg *am = &m[n];
		if (cmd->args[i].type == IMAP_ARG_LIST)
			am->flags = &cmd->args[i++];
		if (i + 1 < cmd->nargs && cmd->args[i].type == IMAP_ARG_STRING &&
		    (is_literal(&cmd->args[i + 1]) || utf8_data(cmd, i + 1) ||
		     catenate_at(cmd, i + 1)))
			am->date = &cmd->args[i++];
		if (catenate_at(cmd, i)) {
			am->cat = &cmd->args[i + 1];
			i += 2;
			n++;
			continue;
		}
		const struct imap_arg *u8 = utf8_data(cmd, i);
		if (u8 != NULL) {
			if (!s->utf8_accept) {
				imap_bad(s, tag, "APPEND UTF8 needs ENABLE UTF8=ACCEPT");
				return -1;
			}
			am->msg = u8;
			i += 2;
			n++;
			continue;
		}
		if (i >= cmd->nargs || !(is_literal(&cmd->args[i]) ||
					 cmd->args[i].type == IMAP_ARG_STRING)) {
			imap_bad(s, tag, "Syntax: APPEND mailbox 1*([(flags)] [date-time] message)");
			return -1;
		}
		am->msg = &cmd->args[i++];
		n++;
	}
	if (n == 0) {
		imap_bad(s, tag, "Syntax: APPEND mailbox 1*([(flags)] [date-time] message)");
		return -1;
	}
	*out = m;
	*n_out = n;
	return 0;
}

/* The bytes of each message: kept in the command, streamed (in order:
 * literals_done, then literal), or put together from CATENATE's parts
 * into owned[k]. -1: NO or BAD sent. */
static int message_bytes(struct imap_session *s, const struct imap_cmd *cmd,
			 struct append_msg *m, size_t n, struct buf *owned)
{
	const char *tag = TAG(cmd);
	size_t next = 0;
	uint64_t room = s->srv->cfg->smtp_max_message_size;
	if (room < IMAP_APPEND_STREAM_MAX)
		room = IMAP_APPEND_STREAM_MAX;
	room = room > s->literal_total ? room - s->literal_total : 0;
	for (size_t k = 0; k < n; k++) {
		const struct imap_arg *a = m[k].msg;
		if (m[k].cat != NULL) {
			uint64_t max = s->srv->cfg->smtp_max_message_size;
			buf_init(&owned[k], (size_t)(max < room ? max : room));
			if (imap_catenate(s, cmd, m[k].cat, &next, &owned[k]) != 0)
				return -1;
			room -= owned[k].len;
			m[k].data = buf_span(&owned[k]);
		} else if (!a->streamed) {
			m[k].data = a->str;
		} else {
			const struct buf *b = next < s->n_literals_done
						      ? &s->literals_done[next]
						      : next == s->n_literals_done
							? &s->literal
							: NULL;
			next++;
			if (b == NULL || b->len != a->literal_size) {
				imap_no(s, tag, "[TOOBIG] Message too large");
				return -1;
			}
			m[k].data = buf_span(b);
		}
		if (m[k].data.len > s->srv->cfg->smtp_max_message_size) {
			imap_no(s, tag, "[TOOBIG] Message too large");
			return -1;
		}
	}
	return 0;
}

static void release_all(struct buf *b, size_t n)
{
	for (size_t k = 0; k < n; k++)
		buf_release(&b[k]);
	free(b);
}

void imap_cmd_append(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	char name[STORE_FOLDER_NAME_MAX + 1];
	struct err err;
	if (cmd->nargs < 2) {
		imap_bad(s, tag, "Syntax: APPEND mailbox [(flags)] [date-time] message");
		return;
	}
	struct append_msg *m;
	size_t n;
	if (split_messages(s, cmd, &m, &n) != 0)
		return;
	struct store_append_req *req = imap_arena_calloc(cmd->arena, n, sizeof *req);
	if (req == NULL) {
		imap_bad(s, tag, "Command too complex");
		return;
	}
	for (size_t k = 0; k < n; k++) {
		struct imap_flags fl = { 0 };
		int64_t when = (int64_t)time(NULL);
		if (m[k].flags != NULL &&
		    imap_parse_flags(m[k].flags, 1, cmd->arena, &fl, &err) != 0) {
			imap_bad(s, tag, "%s", err.msg);
			return;
		}
		if (m[k].date != NULL &&
		    imap_parse_datetime(m[k].date, &when, NULL, &err) != 0) {
			imap_bad(s, tag, "%s", err.msg);
			return;
		}
		const char **kw = imap_arena_calloc(cmd->arena,
						    fl.nkeywords ? fl.nkeywords : 1,
						    sizeof *kw);
		if (kw == NULL) {
			imap_bad(s, tag, "Command too complex");
			return;
		}
		for (size_t j = 0; j < fl.nkeywords; j++)
			kw[j] = (const char *)fl.keywords[j].p;
		req[k] = (struct store_append_req){
			.flags = fl.system & STORE_FLAGS_STORED,
			.keywords = kw,
			.n_keywords = fl.nkeywords,
			.internal_date = when,
		};
	}
	if (imap_arg_mailbox(s, cmd, &cmd->args[0], name, sizeof name) != 0)
		return;
	struct buf *owned = xcalloc(n, sizeof *owned);
	if (message_bytes(s, cmd, m, n, owned) != 0) {
		release_all(owned, n);
		return;
	}
	struct store_folder f;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err);
	if (rc <= 0) {
		release_all(owned, n);
		if (rc < 0)
			imap_no_store(s, tag, "APPEND", &err);
		else
			imap_no(s, tag, "[TRYCREATE] Mailbox does not exist");
		return;
	}
	/* the parse caches go in with the messages, as far as they fit */
	struct buf *meta = xcalloc(n, sizeof *meta);
	size_t meta_total = 0;
	for (size_t k = 0; k < n; k++) {
		req[k].folder_id = f.id;
		req[k].data = m[k].data.p;
		req[k].len = m[k].data.len;
		buf_init(&meta[k], STORE_META_MAX);
		if (meta_total >= IMAP_APPEND_META_MAX)
			continue;
		struct mime_message *mm = mime_parse(m[k].data.p, m[k].data.len, NULL);
		if (mime_cache_write(mm, &meta[k]) == 0) {
			req[k].meta = meta[k].data;
			req[k].meta_len = meta[k].len;
			meta_total += meta[k].len;
		}
		mime_message_free(&mm);
	}
	/* RFC 3502 3: all or none */
	rc = store_append_many(s->srv->store, req, n, &err);
	for (size_t k = 0; k < n; k++)
		buf_release(&meta[k]);
	free(meta);
	release_all(owned, n);
	if (rc != 0) {
		imap_no_store(s, tag, "APPEND", &err);
		return;
	}
	size_t bytes = 0;
	uint32_t *uids = imap_arena_calloc(cmd->arena, n, sizeof *uids);
	for (size_t k = 0; k < n; k++) {
		bytes += req[k].len;
		if (uids != NULL)
			uids[k] = req[k].uid;
	}
	log_info("imap", s->c->id, "append user=%s folder=\"%s\" uid=%u messages=%zu size=%zu",
		 s->address, f.name, req[0].uid, n, bytes);
	if (n == 1 || uids == NULL) {
		imap_ok(s, tag, "[APPENDUID %u %u] APPEND completed",
			req[0].uidvalidity, req[0].uid);
		return;
	}
	/* RFC 4315 3: the UIDs in the order of the messages */
	struct buf set;
	buf_init(&set, IMAP_OUT_MAX);
	imap_out_uidset(&set, uids, n);
	imap_ok(s, tag, "[APPENDUID %u %.*s] APPEND completed", req[0].uidvalidity,
		(int)set.len, (const char *)set.data);
	buf_release(&set);
}
