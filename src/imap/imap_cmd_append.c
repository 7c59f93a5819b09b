/* imap_cmd_append.c - APPEND (RFC 9051 6.3.12) with APPENDUID (RFC 4315)
 * and APPENDLIMIT (RFC 7889). A message literal up to the reader's kept
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
	    li->depth == 0 && !quota_allows(s, li->size)) {
		imap_parser_refuse_literal(s->parser);
		imap_no(s, (const char *)partial->tag.p, "[OVERQUOTA] Mailbox is full");
		return -1;
	}
	return 0;
}

void imap_append_chunk(struct imap_session *s, const struct imap_literal_info *li)
{
	const struct imap_cmd *partial = imap_parser_partial(s->parser);
	if (!span_eq_ci(partial->name, "APPEND") || li->depth != 0) {
		/* only a message is worth streaming */
		imap_no(s, (const char *)partial->tag.p, "[TOOBIG] Literal too large for %.20s",
			(const char *)partial->name.p);
		imap_parser_skip_command(s->parser);
		return;
	}
	if (li->offset == 0) {
		buf_reset_max(&s->literal, (size_t)li->size);
		s->literal_refused = false;
	}
	if (s->literal_refused)
		return;
	if (buf_append(&s->literal, li->chunk.p, li->chunk.len) != 0) {
		s->literal_refused = true;
		imap_no(s, (const char *)partial->tag.p, "[TOOBIG] Message too large");
		imap_parser_skip_command(s->parser);
	}
}

void imap_cmd_append(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	char name[STORE_FOLDER_NAME_MAX + 1];
	struct err err;
	if (cmd->nargs < 2 || cmd->nargs > 4) {
		imap_bad(s, tag, "Syntax: APPEND mailbox [(flags)] [date-time] message");
		return;
	}
	const struct imap_arg *msg = &cmd->args[cmd->nargs - 1];
	struct span data;
	if (msg->type == IMAP_ARG_LIST || msg->type == IMAP_ARG_ATOM || msg->type == IMAP_ARG_NIL) {
		imap_bad(s, tag, "APPEND needs the message as a literal");
		return;
	}
	if (msg->streamed) {
		if (s->literal.len != msg->literal_size) {
			imap_no(s, tag, "[TOOBIG] Message too large");
			return;
		}
		data = buf_span(&s->literal);
	} else {
		data = msg->str;
	}
	struct imap_flags fl = { 0 };
	int64_t when = (int64_t)time(NULL);
	for (size_t i = 1; i + 1 < cmd->nargs; i++) {
		const struct imap_arg *a = &cmd->args[i];
		if (a->type == IMAP_ARG_LIST && i == 1) {
			if (imap_parse_flags(a, 1, cmd->arena, &fl, &err) != 0) {
				imap_bad(s, tag, "%s", err.msg);
				return;
			}
		} else if (a->type == IMAP_ARG_STRING) {
			if (imap_parse_datetime(a, &when, NULL, &err) != 0) {
				imap_bad(s, tag, "%s", err.msg);
				return;
			}
		} else {
			imap_bad(s, tag, "Syntax: APPEND mailbox [(flags)] [date-time] message");
			return;
		}
	}
	if (imap_arg_mailbox(s, cmd, &cmd->args[0], name, sizeof name) != 0)
		return;
	if (data.len > s->srv->cfg->smtp_max_message_size) {
		imap_no(s, tag, "[TOOBIG] Message too large");
		return;
	}
	struct store_folder f;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err);
	if (rc < 0) {
		imap_no_store(s, tag, "APPEND", &err);
		return;
	}
	if (rc == 0) {
		imap_no(s, tag, "[TRYCREATE] Mailbox does not exist");
		return;
	}
	const char **kw = imap_arena_calloc(cmd->arena, fl.nkeywords ? fl.nkeywords : 1,
					    sizeof *kw);
	if (kw == NULL) {
		imap_bad(s, tag, "Command too complex");
		return;
	}
	for (size_t k = 0; k < fl.nkeywords; k++)
		kw[k] = (const char *)fl.keywords[k].p;
	/* the parse cache goes in with the message */
	struct mime_message *mm = mime_parse(data.p, data.len, NULL);
	struct buf meta;
	buf_init(&meta, STORE_META_MAX);
	bool have_meta = mime_cache_write(mm, &meta) == 0;
	mime_message_free(&mm);
	struct store_append_req req = {
		.folder_id = f.id,
		.data = data.p,
		.len = data.len,
		.flags = fl.system & STORE_FLAGS_STORED,
		.keywords = kw,
		.n_keywords = fl.nkeywords,
		.internal_date = when,
		.meta = have_meta ? meta.data : NULL,
		.meta_len = have_meta ? meta.len : 0,
	};
	rc = store_append_many(s->srv->store, &req, 1, &err);
	buf_release(&meta);
	buf_reset_max(&s->literal, 0);
	buf_release(&s->literal);
	if (rc != 0) {
		imap_no_store(s, tag, "APPEND", &err);
		return;
	}
	log_info("imap", s->c->id, "append user=%s folder=\"%s\" uid=%u size=%zu",
		 s->address, f.name, req.uid, data.len);
	imap_ok(s, tag, "[APPENDUID %u %u] APPEND completed", req.uidvalidity, req.uid);
}
