/* imap_cmd_catenate.c - CATENATE (RFC 4469): an APPENDed message made of
 * TEXT literals and URLs of messages, or parts of them, that this user
 * already has (imap_url.h). No URLAUTH: a URL reaches only the logged-in
 * user's own folders, and one that names anything else, or something
 * that does not exist, gets NO [BADURL]. The message is assembled in a
 * buffer held to APPENDLIMIT and then appended like any other. */
#include "imap/imap_private.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imap_parse_fetch.h"
#include "imap/imap_url.h"
#include "mime/mime.h"

/* The bytes of a section (RFC 9051 6.4.5) of msg, as FETCH BODY[...]
 * gives them, from a "BODY[section]" item. 1 found, 0 no such part, -1
 * not a section we take (HEADER.FIELDS). */
static int section_of(struct span msg, const struct imap_fetch_body *b,
		      struct span *out)
{
	if (b->kind == IMAP_SECTION_HEADER_FIELDS ||
	    b->kind == IMAP_SECTION_HEADER_FIELDS_NOT)
		return -1;
	struct mime_message *mm = mime_parse(msg.p, msg.len, NULL);
	if (mm == NULL)
		return 0;
	int rc = 0;
	uint32_t idx = mime_message_section(mm, b->part, b->part_len);
	if (idx == MIME_NONE)
		goto done;
	const struct mime_part *p = mime_message_part(mm, idx);
	if (b->part_len > 0 && b->kind != IMAP_SECTION_ALL &&
	    b->kind != IMAP_SECTION_MIME) {
		/* n.HEADER, n.TEXT: of the message inside a message/rfc822 */
		if (!(p->flags & MIME_PART_MESSAGE) || p->first_child == MIME_NONE)
			goto done;
		p = mime_message_part(mm, p->first_child);
	}
	size_t from = p->body_start, to = p->body_end;
	if (b->kind == IMAP_SECTION_HEADER || b->kind == IMAP_SECTION_MIME) {
		from = p->hdr_start;
		to = p->body_start;
	} else if (b->kind == IMAP_SECTION_ALL && b->part_len == 0) {
		from = 0;
		to = msg.len;
	}
	if (from <= to && to <= msg.len) {
		*out = span_make(msg.p + from, to - from);
		rc = 1;
	}
done:
	mime_message_free(&mm);
	return rc;
}

/* Append what url names to out. 0, or -1 with the reply sent. */
static int add_url(struct imap_session *s, const struct imap_cmd *cmd,
		   struct span text, struct buf *out)
{
	const char *tag = (const char *)cmd->tag.p;
	struct imap_url u;
	struct err err;
	if (imap_url_parse(text, cmd->arena, &u, &err) != 0) {
		imap_no(s, tag, "[BADURL %.*s] %s", (int)(text.len < 200 ? text.len : 200),
			(const char *)text.p, err.msg);
		return -1;
	}
	/* only this user's mail on this server (RFC 4469 5: no URLAUTH) */
	if ((u.host.len > 0 && !span_eq_ci(u.host, s->srv->cfg->hostname) &&
	     !span_eq_ci(u.host, "localhost")) ||
	    (u.user.len > 0 && !span_eq_ci(u.user, s->address))) {
		imap_no(s, tag, "[BADURL] Only URLs of your own messages on this server");
		return -1;
	}
	/* the mailbox as a mailbox argument: UTF-8 when it is not ASCII,
	 * else modified UTF-7 as IMAP4rev1 clients write it */
	bool ascii = true;
	for (size_t i = 0; i < u.mailbox.len; i++)
		ascii = ascii && u.mailbox.p[i] < 0x80;
	struct imap_arg arg = { .type = IMAP_ARG_STRING, .str = u.mailbox };
	struct span name;
	if (imap_parse_mailbox(&arg, ascii ? 0 : IMAP_MAILBOX_UTF8, cmd->arena,
			       &name, &err) != 0) {
		imap_no(s, tag, "[BADURL] %s", err.msg);
		return -1;
	}
	struct store_folder f;
	int rc = store_folder_find(s->srv->store, s->mailbox_id,
				   (const char *)name.p, &f, &err);
	if (rc < 0) {
		imap_no_store(s, tag, "CATENATE", &err);
		return -1;
	}
	if (rc == 0 || (u.uidvalidity != 0 && u.uidvalidity != f.uidvalidity)) {
		imap_no(s, tag, "[BADURL] No such mailbox, or its UIDVALIDITY changed");
		return -1;
	}
	unsigned char *data = NULL;
	size_t len = 0;
	rc = store_message_read(s->srv->store, f.id, u.uid, &data, &len, &err);
	if (rc < 0) {
		imap_no_store(s, tag, "CATENATE", &err);
		return -1;
	}
	if (rc == 0) {
		imap_no(s, tag, "[BADURL] No such message");
		return -1;
	}
	struct span part = span_make(data, len);
	if (u.section.len > 0) {
		/* read the section as FETCH would: BODY[<section>] */
		size_t n = 6 + u.section.len;
		char *item = imap_arena_alloc(cmd->arena, n + 1);
		struct imap_fetch_atts atts;
		rc = -1;
		if (item != NULL) {
			memcpy(item, "BODY[", 5);
			memcpy(item + 5, u.section.p, u.section.len);
			item[n - 1] = ']';
			item[n] = '\0';
			struct imap_arg atom = { .type = IMAP_ARG_ATOM,
						 .str = span_make(item, n) };
			if (imap_parse_fetch_atts(&atom, cmd->arena, &atts, &err) == 0 &&
			    atts.nbodies == 1)
				rc = section_of(span_make(data, len), &atts.bodies[0], &part);
		}
		if (rc != 1) {
			free(data);
			imap_no(s, tag, "[BADURL] No such section");
			return -1;
		}
	}
	if (u.partial) {
		size_t off = u.partial_offset < part.len ? u.partial_offset : part.len;
		size_t l = part.len - off;
		if (u.partial_len != 0 && u.partial_len < l)
			l = u.partial_len;
		part = span_make(part.p + off, l);
	}
	rc = buf_append(out, part.p, part.len);
	free(data);
	if (rc != 0) {
		imap_no(s, tag, "[TOOBIG] Message too large");
		return -1;
	}
	return 0;
}

int imap_catenate(struct imap_session *s, const struct imap_cmd *cmd,
		  const struct imap_arg *list, size_t *next_streamed,
		  struct buf *out)
{
	const char *tag = (const char *)cmd->tag.p;
	if (list->list_len == 0 || list->list_len % 2 != 0) {
		imap_bad(s, tag, "Syntax: CATENATE (TEXT literal / URL url ...)");
		return -1;
	}
	for (size_t i = 0; i < list->list_len; i += 2) {
		const struct imap_arg *kind = &list->list[i], *v = &list->list[i + 1];
		if (imap_arg_atom_is(kind, "TEXT") &&
		    (v->type == IMAP_ARG_LITERAL || v->type == IMAP_ARG_LITERAL8)) {
			struct span d = v->str;
			if (v->streamed) {
				const struct buf *b = imap_append_streamed(s, (*next_streamed)++);
				if (b == NULL || b->len != v->literal_size) {
					imap_no(s, tag, "[TOOBIG] Message too large");
					return -1;
				}
				d = buf_span(b);
			}
			/* RFC 4469 5: TEXT with NUL needs BINARY; we take both */
			if (buf_append(out, d.p, d.len) != 0) {
				imap_no(s, tag, "[TOOBIG] Message too large");
				return -1;
			}
			continue;
		}
		struct span url;
		if (imap_arg_atom_is(kind, "URL") && v->type != IMAP_ARG_LIST &&
		    imap_arg_astring(v, &url)) {
			if (add_url(s, cmd, url, out) != 0)
				return -1;
			continue;
		}
		imap_bad(s, tag, "Syntax: CATENATE (TEXT literal / URL url ...)");
		return -1;
	}
	return 0;
}
