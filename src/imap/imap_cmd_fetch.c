/* imap_cmd_fetch.c - FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2; RFC 3501
 * RFC822*; RFC 3516 BINARY; RFC 7162 MODSEQ, CHANGEDSINCE and VANISHED).
 * ENVELOPE, BODY and BODYSTRUCTURE come from the MIME cache the store
 * keeps with each message (store_meta_get), made and stored on first use
 * when it is missing; body sections are sliced out of the message bytes
 * by the cache's part table. Message bytes go out as literals referenced
 * by the connection's output, not copied again. A FETCH over many
 * messages pauses while the client's output queue is full and goes on
 * when it drains. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/imap_parse_fetch.h"
#include "mime/mime.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

/* Message bytes shared by the literals that reference them. */
struct blobref {
	unsigned refs;
	unsigned char *data;
};

static void blobref_put(struct blobref *b)
{
	if (b != NULL && --b->refs == 0) {
		free(b->data);
		free(b);
	}
}

static void blobref_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	blobref_put(arg);
}

/* What one message needs, loaded on first use. */
struct msgview {
	const struct imap_msg *m;
	struct blobref *blob;
	size_t len;
	bool tried_blob;
	unsigned char *meta;		/* from store_meta_get */
	struct buf made;		/* or made here */
	struct mime_cache cache;
	bool have_cache, tried_cache;
	struct mime_message *mime;	/* BINARY, or no cache possible */
	struct buf tmp;
};

struct fetch_state {
	const struct imap_cmd *cmd;
	struct imap_fetch_atts atts;
	uint64_t changedsince;
	uint32_t *idx;
	size_t n, pos;
};

static void view_free(struct msgview *v)
{
	blobref_put(v->blob);
	free(v->meta);
	buf_release(&v->made);
	buf_release(&v->tmp);
	mime_message_free(&v->mime);
	memset(v, 0, sizeof *v);
}

static int view_blob(struct imap_session *s, struct msgview *v)
{
	if (v->blob)
		return 0;
	if (v->tried_blob)
		return -1;
	v->tried_blob = true;
	unsigned char *data;
	size_t len;
	struct err err;
	int rc = store_message_read(s->srv->store, s->folder_id, v->m->uid, &data, &len, &err);
	if (rc != 1) {
		log_error("imap", s->c->id, "read uid=%u error=\"%s\"", v->m->uid,
			  rc < 0 ? err.msg : "gone");
		return -1;
	}
	v->blob = xcalloc(1, sizeof *v->blob);
	v->blob->refs = 1;
	v->blob->data = data;
	v->len = len;
	return 0;
}

static struct mime_message *view_mime(struct imap_session *s, struct msgview *v)
{
	if (v->mime == NULL && view_blob(s, v) == 0)
		v->mime = mime_parse(v->blob->data, v->len, NULL);
	return v->mime;
}

static int view_cache(struct imap_session *s, struct msgview *v)
{
	if (v->have_cache)
		return 0;
	if (v->tried_cache)
		return -1;
	v->tried_cache = true;
	struct err err;
	size_t len;
	if (store_meta_get(s->srv->store, s->folder_id, v->m->uid, &v->meta, &len, &err) == 1) {
		if (mime_cache_read(span_make(v->meta, len), &v->cache, &err) == 0 &&
		    v->cache.msg_size == v->m->size) {
			v->have_cache = true;
			return 0;
		}
		free(v->meta);
		v->meta = NULL;
	}
	/* missing or unusable: parse once and keep it for next time */
	struct mime_message *mm = view_mime(s, v);
	if (mm == NULL)
		return -1;
	buf_init(&v->made, STORE_META_MAX);
	if (mime_cache_write(mm, &v->made) != 0 ||
	    mime_cache_read(buf_span(&v->made), &v->cache, &err) != 0)
		return -1;
	v->have_cache = true;
	if (store_meta_put(s->srv->store, s->folder_id, v->m->uid, v->made.data,
			   v->made.len, &err) != 0)
		log_warn("imap", s->c->id, "meta_put uid=%u error=\"%s\"", v->m->uid, err.msg);
	return 0;
}

/* ENVELOPE / BODY / BODYSTRUCTURE text of the whole message. */
static int view_struct(struct imap_session *s, struct msgview *v, unsigned which,
		       struct span *out)
{
	if (view_cache(s, v) == 0) {
		*out = which == IMAP_FETCH_ENVELOPE ? v->cache.envelope :
		       which == IMAP_FETCH_BODY ? v->cache.body : v->cache.bodystructure;
		return 0;
	}
	struct mime_message *mm = view_mime(s, v);
	if (mm == NULL)
		return -1;
	buf_release(&v->tmp);
	buf_init(&v->tmp, IMAP_OUT_MAX / 2);
	int rc = which == IMAP_FETCH_ENVELOPE ? mime_envelope_imap(mm, 0, &v->tmp) :
		 mime_bodystructure_imap(mm, 0, which != IMAP_FETCH_BODY, &v->tmp);
	if (rc != 0)
		return -1;
	*out = buf_span(&v->tmp);
	return 0;
}

/* Offsets of part idx: from the cache, or from a parse. */
static bool part_offsets(struct msgview *v, uint32_t idx, size_t *hdr,
			 size_t *body, size_t *end, uint32_t *flags,
			 uint32_t *child)
{
	if (v->have_cache) {
		struct mime_cache_part cp;
		mime_cache_part(&v->cache, idx, &cp);
		if (cp.body_end > v->len || cp.hdr_start > cp.body_start ||
		    cp.body_start > cp.body_end)
			return false;
		*hdr = (size_t)cp.hdr_start;
		*body = (size_t)cp.body_start;
		*end = (size_t)cp.body_end;
		*flags = cp.flags;
		*child = cp.first_child;
		return true;
	}
	const struct mime_part *p = mime_message_part(v->mime, idx);
	*hdr = p->hdr_start;
	*body = p->body_start;
	*end = p->body_end;
	*flags = p->flags;
	*child = p->first_child;
	return true;
}

static bool field_listed(struct span name, const struct imap_fetch_body *b)
{
	for (size_t i = 0; i < b->nfields; i++)
		if (b->fields[i].len == name.len &&
		    !strncasecmp((const char *)b->fields[i].p, (const char *)name.p, name.len))
			return true;
	return false;
}

/* The raw lines of the header fields named (or not named) in b, and the
 * blank line (RFC 9051 6.4.5 HEADER.FIELDS). */
static void header_fields(struct span hdr, const struct imap_fetch_body *b,
			  bool not, struct buf *out)
{
	size_t i = 0;
	while (i < hdr.len) {
		size_t start = i;
		/* a field: its first line and the folded ones after it */
		do {
			const unsigned char *nl = memchr(hdr.p + i, '\n', hdr.len - i);
			i = nl ? (size_t)(nl - hdr.p) + 1 : hdr.len;
		} while (i < hdr.len && (hdr.p[i] == ' ' || hdr.p[i] == '\t'));
		const unsigned char *colon = memchr(hdr.p + start, ':', i - start);
		if (colon == NULL)
			continue;	/* the blank line, or not a field */
		struct span name = span_trim(span_make(hdr.p + start,
						       (size_t)(colon - hdr.p) - start));
		if (field_listed(name, b) != not)
			imap_out_bytes(out, hdr.p + start, i - start);
	}
	imap_out_str(out, "\r\n");
}

/* The bytes of a section: 1 with *out, 0 if there is no such part (NIL),
 * -1 on a store error. */
static int section_bytes(struct imap_session *s, struct msgview *v,
			 const struct imap_fetch_body *b, struct span *out)
{
	if (view_blob(s, v) != 0)
		return -1;
	const unsigned char *d = v->blob->data;
	if (b->part_len == 0 && b->kind == IMAP_SECTION_ALL) {
		*out = span_make(d, v->len);
		return 1;
	}
	if (view_cache(s, v) != 0 && view_mime(s, v) == NULL)
		return -1;
	uint32_t idx = v->have_cache ? mime_cache_section(&v->cache, b->part, b->part_len) :
		       mime_message_section(v->mime, b->part, b->part_len);
	if (idx == MIME_NONE)
		return 0;
	size_t hdr, body, end;
	uint32_t flags, child;
	if (!part_offsets(v, idx, &hdr, &body, &end, &flags, &child))
		return 0;
	if (b->part_len > 0 && b->kind != IMAP_SECTION_ALL && b->kind != IMAP_SECTION_MIME) {
		/* n.HEADER, n.TEXT: of the message inside a message/rfc822 */
		if (!(flags & MIME_PART_MESSAGE) || child == MIME_NONE)
			return 0;
		if (!part_offsets(v, child, &hdr, &body, &end, &flags, &child))
			return 0;
	}
	switch (b->kind) {
	case IMAP_SECTION_ALL:
		*out = span_make(d + body, end - body);
		return 1;
	case IMAP_SECTION_MIME:
	case IMAP_SECTION_HEADER:
		*out = span_make(d + hdr, body - hdr);
		return 1;
	case IMAP_SECTION_TEXT:
		*out = span_make(d + body, end - body);
		return 1;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		buf_release(&v->tmp);
		buf_init(&v->tmp, body - hdr + 2);
		header_fields(span_make(d + hdr, body - hdr), b,
			      b->kind == IMAP_SECTION_HEADER_FIELDS_NOT, &v->tmp);
		*out = buf_span(&v->tmp);
		return 1;
	}
	return 0;
}

/* BINARY[part]: the part with its transfer encoding undone. */
static int binary_bytes(struct imap_session *s, struct msgview *v,
			const struct imap_fetch_body *b, struct span *out)
{
	struct mime_message *mm = view_mime(s, v);
	if (mm == NULL)
		return -1;
	uint32_t idx = mime_message_section(mm, b->part, b->part_len);
	if (idx == MIME_NONE)
		return 0;
	const struct mime_part *p = mime_message_part(mm, idx);
	if (b->part_len == 0 && b->kind == IMAP_SECTION_ALL) {
		*out = span_make(v->blob->data, v->len);
		return 1;
	}
	if (p->flags & MIME_PART_MULTIPART)
		return 0;
	buf_release(&v->tmp);
	buf_init(&v->tmp, v->len + 16);
	if (mime_part_decode(mm, p, &v->tmp) != 0)
		return -1;
	*out = buf_span(&v->tmp);
	return 1;
}

/* A literal of bytes inside the message (referenced, not copied, when
 * large), else a copy. */
static void out_literal(struct imap_session *s, struct msgview *v, struct span d,
			bool binary)
{
	bool nul = binary && memchr(d.p, 0, d.len) != NULL;
	imap_out_fmt(&s->out, "%s{%zu}\r\n", nul ? "~" : "", d.len);
	bool inside = v->blob && d.p >= v->blob->data && d.p + d.len <= v->blob->data + v->len;
	if (inside && d.len >= 65536) {
		imap_flush(s);
		v->blob->refs++;
		if (net_conn_write_reference(s->c, d.p, d.len, blobref_cleanup,
					     v->blob) != 0) {
			v->blob->refs--;
			net_conn_write(s->c, d.p, d.len);
		}
		return;
	}
	imap_out_bytes(&s->out, d.p, d.len);
}

static void body_item(struct imap_session *s, struct msgview *v,
		      const struct imap_fetch_body *b)
{
	struct buf *o = &s->out;
	struct span d = { 0 };
	int rc;
	if (b->type == IMAP_FETCH_BODY_SECTION)
		rc = section_bytes(s, v, b, &d);
	else
		rc = binary_bytes(s, v, b, &d);
	if (b->type == IMAP_FETCH_BINARY_SIZE) {
		imap_out_fmt(o, "BINARY.SIZE[%.*s] %zu", (int)b->section.len,
			     (const char *)b->section.p, rc == 1 ? d.len : 0);
		return;
	}
	switch (b->legacy) {
	case IMAP_FETCH_LEGACY_RFC822: imap_out_str(o, "RFC822 "); break;
	case IMAP_FETCH_LEGACY_HEADER: imap_out_str(o, "RFC822.HEADER "); break;
	case IMAP_FETCH_LEGACY_TEXT: imap_out_str(o, "RFC822.TEXT "); break;
	default:
		imap_out_fmt(o, "%s[", b->type == IMAP_FETCH_BINARY ? "BINARY" : "BODY");
		imap_out_bytes(o, b->section.p, b->section.len);
		imap_out_str(o, "]");
		if (b->partial)
			imap_out_fmt(o, "<%llu>", (unsigned long long)b->offset);
		imap_out_str(o, " ");
	}
	if (rc != 1) {
		imap_out_str(o, rc == 0 ? "NIL" : "\"\"");
		return;
	}
	if (b->partial) {
		uint64_t off = b->offset < d.len ? b->offset : d.len;
		uint64_t cnt = b->count < d.len - off ? b->count : d.len - off;
		d = span_make(d.p + off, (size_t)cnt);
	}
	out_literal(s, v, d, b->type == IMAP_FETCH_BINARY);
}

/* Answer for one message. */
static void fetch_one(struct imap_session *s, struct fetch_state *st, uint32_t i)
{
	const struct imap_fetch_atts *a = &st->atts;
	struct msgview v = { .m = &s->msgs[i] };
	const struct imap_msg *m = v.m;
	struct buf *o = &s->out;
	const char *sp = "";
	imap_out_fmt(o, "* %u FETCH (", i + 1);
	if (st->cmd->uid || (a->items & IMAP_FETCH_UID)) {
		imap_out_fmt(o, "UID %u", m->uid);
		sp = " ";
	}
	if (a->items & IMAP_FETCH_FLAGS) {
		imap_out_fmt(o, "%sFLAGS ", sp);
		imap_out_flags(s, o, m->flags, m->keywords);
		sp = " ";
	}
	if (a->items & IMAP_FETCH_INTERNALDATE) {
		imap_out_fmt(o, "%sINTERNALDATE ", sp);
		imap_out_date(o, m->internal_date);
		sp = " ";
	}
	if (a->items & IMAP_FETCH_RFC822_SIZE) {
		imap_out_fmt(o, "%sRFC822.SIZE %llu", sp, (unsigned long long)m->size);
		sp = " ";
	}
	if (a->items & IMAP_FETCH_MODSEQ || st->changedsince) {
		imap_out_fmt(o, "%sMODSEQ (%llu)", sp, (unsigned long long)m->modseq);
		sp = " ";
	}
	if (a->items & IMAP_FETCH_EMAILID) {
		imap_out_fmt(o, "%sEMAILID ", sp);
		imap_out_emailid(o, m->blob_id);
		sp = " ";
	}
	if (a->items & IMAP_FETCH_THREADID) {
		/* RFC 8474 5.2: no threads kept */
		imap_out_fmt(o, "%sTHREADID NIL", sp);
		sp = " ";
	}
	static const struct { unsigned bit; const char *name; } structs[] = {
		{ IMAP_FETCH_ENVELOPE, "ENVELOPE" },
		{ IMAP_FETCH_BODY, "BODY" },
		{ IMAP_FETCH_BODYSTRUCTURE, "BODYSTRUCTURE" },
	};
	for (size_t k = 0; k < 3; k++) {
		if (!(a->items & structs[k].bit))
			continue;
		struct span t;
		imap_out_fmt(o, "%s%s ", sp, structs[k].name);
		if (view_struct(s, &v, structs[k].bit, &t) == 0)
			imap_out_bytes(o, t.p, t.len);
		else
			imap_out_str(o, "NIL");
		sp = " ";
	}
	for (size_t k = 0; k < a->nbodies; k++) {
		imap_out_str(o, sp);
		body_item(s, &v, &a->bodies[k]);
		sp = " ";
	}
	imap_out_str(o, ")\r\n");
	imap_flush(s);
	view_free(&v);
}

static void fetch_resume(struct imap_session *s)
{
	struct fetch_state *st = s->resume_state;
	while (st->pos < st->n) {
		if (net_conn_output_full(s->c))
			return;		/* on_input calls again when it drains */
		uint32_t i = st->idx[st->pos++];
		if (i >= s->n_msgs)
			continue;
		if (st->changedsince && s->msgs[i].modseq <= st->changedsince)
			continue;
		fetch_one(s, st, i);
	}
	const char *tag = TAG(st->cmd);
	bool uid = st->cmd->uid;
	s->resume = NULL;
	s->resume_state = NULL;
	free(st);
	imap_ok(s, tag, "%sFETCH completed", uid ? "UID " : "");
}

struct vanished_in {
	struct imap_seqset set;
	uint32_t star;
	uint32_t *uids;
	size_t n, cap;
};

static int add_vanished(uint32_t uid, void *arg)
{
	struct vanished_in *v = arg;
	if (!imap_seqset_contains(&v->set, uid, v->star))
		return 0;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->uids = xreallocarray(v->uids, v->cap, sizeof *v->uids);
	}
	v->uids[v->n++] = uid;
	return 0;
}

/* UID FETCH ... (CHANGEDSINCE n VANISHED): the UIDs of the set expunged
 * since n, before the FETCHes (RFC 7162 3.2.6). */
static void fetch_vanished(struct imap_session *s, const struct imap_cmd *cmd,
			   uint64_t since)
{
	struct vanished_in v = { 0 };
	struct err err;
	if (imap_seqset_parse_arg(&cmd->args[0], cmd->arena, &v.set, &err) != 0 || v.set.saved)
		return;
	v.star = UINT32_MAX;	/* expunged UIDs above the last one count too */
	if (store_vanished_since(s->srv->store, s->folder_id, since, add_vanished, &v,
				 &err) == 0 && v.n > 0) {
		imap_out_str(&s->out, "* VANISHED (EARLIER) ");
		imap_out_uidset(&s->out, v.uids, v.n);
		imap_out_str(&s->out, "\r\n");
	}
	free(v.uids);
}

void imap_cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct err err;
	if (cmd->nargs < 2 || cmd->nargs > 3) {
		imap_bad(s, TAG(cmd), "Syntax: FETCH sequence-set items");
		return;
	}
	struct fetch_state *st = xcalloc(1, sizeof *st);
	st->cmd = cmd;
	if (imap_parse_fetch_atts(&cmd->args[1], cmd->arena, &st->atts, &err) != 0) {
		free(st);
		imap_bad(s, TAG(cmd), "%s", err.msg);
		return;
	}
	bool vanished = false;
	if (cmd->nargs == 3 &&
	    imap_parse_fetch_modifiers(&cmd->args[2], &st->changedsince, &vanished, &err) != 0) {
		free(st);
		imap_bad(s, TAG(cmd), "%s", err.msg);
		return;
	}
	if (vanished && (!s->qresync || !cmd->uid)) {
		/* RFC 7162 3.2.6 */
		free(st);
		imap_bad(s, TAG(cmd), "VANISHED needs UID FETCH and QRESYNC enabled");
		return;
	}
	if (st->changedsince || (st->atts.items & IMAP_FETCH_MODSEQ))
		s->condstore = true;	/* RFC 7162 3.1: CONDSTORE enabling */
	if (imap_arg_messages(s, cmd, &cmd->args[0], cmd->uid, &st->idx, &st->n) != 0) {
		free(st);
		return;
	}
	/* RFC 9051 6.4.5: a body fetch without .PEEK sets \Seen; set it for
	 * all of them in one store call, before the answers */
	bool sets_seen = false;
	for (size_t k = 0; k < st->atts.nbodies; k++)
		if (!st->atts.bodies[k].peek &&
		    st->atts.bodies[k].type != IMAP_FETCH_BINARY_SIZE)
			sets_seen = true;
	if (sets_seen && !s->readonly) {
		uint32_t *uids = xreallocarray(NULL, st->n ? st->n : 1, sizeof *uids);
		size_t k = 0;
		for (size_t j = 0; j < st->n; j++)
			if (!(s->msgs[st->idx[j]].flags & STORE_FLAG_SEEN))
				uids[k++] = s->msgs[st->idx[j]].uid;
		struct store_flags_result *res = k ? xreallocarray(NULL, k, sizeof *res) : NULL;
		if (k > 0 && store_flags_update(s->srv->store, s->folder_id, uids, k,
						STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0, 0,
						res, &err) == 0) {
			for (size_t j = 0; j < k; j++) {
				long x = imap_msg_find(s, res[j].uid);
				if (x < 0 || res[j].status != STORE_FLAGS_CHANGED)
					continue;
				s->msgs[x].flags = res[j].flags & STORE_FLAGS_STORED;
				s->msgs[x].keywords = res[j].keywords;
				s->msgs[x].modseq = res[j].modseq;
			}
			st->atts.items |= IMAP_FETCH_FLAGS;
		} else if (k > 0) {
			log_error("imap", s->c->id, "set seen user=%s error=\"%s\"", s->address, err.msg);
		}
		free(uids);
		free(res);
	}
	if (vanished)
		fetch_vanished(s, cmd, st->changedsince);
	s->resume = fetch_resume;
	s->resume_state = st;
	fetch_resume(s);
}
