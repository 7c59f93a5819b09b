/* imap_cmd_search.c - SEARCH and UID SEARCH (RFC 9051 6.4.4; RFC 3501
 * keys; RFC 7162 MODSEQ; RFC 5032 OLDER/YOUNGER; RFC 4731 ESEARCH
 * RETURN (MIN MAX COUNT ALL); RFC 5182 SEARCHRES: RETURN (SAVE) and "$";
 * RFC 5267 PARTIAL and UPDATE, whose contexts imap_context.c keeps).
 * The program comes from imap_search.h.
 * Flags, UIDs, sizes, dates and modseqs are answered from the session's
 * message list; header keys read the search fields the parse cache keeps
 * (mime_cache.h: Subject, From, To, Date, ...), streamed for the whole
 * folder in one store query, so SEARCH SUBJECT over 10,000 messages reads
 * no message; other HEADER fields, BODY and TEXT read the message and the
 * decoded text of its parts (mime_text_extract), each message read and
 * parsed at most once and only if a key needs it. Matching of text is
 * case-insensitive for ASCII, on UTF-8. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/imap_context.h"
#include "imap/imap_search.h"
#include "imap/imap_sort.h"
#include "mime/mime.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

struct eval {
	struct imap_session *s;
	uint32_t msn;
	const struct imap_msg *m;
	unsigned char *data;
	size_t len;
	bool tried;
	struct mime_message *mime;
	struct buf text;	/* decoded text, for BODY / TEXT */
	unsigned text_flags;
	bool used_modseq;
	int64_t now;
	/* the cached search fields, when the store had them */
	struct span cached_hdr;
	bool has_cached_hdr;
};

static bool load(struct eval *e)
{
	if (!e->tried) {
		e->tried = true;
		struct err err;
		if (store_message_read(e->s->srv->store, e->s->folder_id, e->m->uid,
				       &e->data, &e->len, &err) == 1)
			e->mime = mime_parse(e->data, e->len, NULL);
	}
	return e->mime != NULL;
}

static bool contains_ci(struct span hay, struct span needle)
{
	if (needle.len == 0)
		return true;
	if (needle.len > hay.len)
		return false;
	for (size_t i = 0; i + needle.len <= hay.len; i++) {
		size_t k = 0;
		while (k < needle.len) {
			unsigned char a = hay.p[i + k], b = needle.p[k];
			if (a >= 'A' && a <= 'Z')
				a = (unsigned char)(a + 32);
			if (b >= 'A' && b <= 'Z')
				b = (unsigned char)(b + 32);
			if (a != b)
				break;
			k++;
		}
		if (k == needle.len)
			return true;
	}
	return false;
}

/* The top-level header block to look for name in: the cached search
 * fields when they hold it, else the message's own. */
static bool header_of(struct eval *e, const char *name, struct span *hdr)
{
	if (e->has_cached_hdr && mime_cache_search_field(span_cstr(name))) {
		*hdr = e->cached_hdr;
		return true;
	}
	if (!load(e))
		return false;
	*hdr = mime_part_header(e->mime, mime_message_part(e->mime, 0));
	return true;
}

/* Any field called name whose decoded value contains str. */
static bool header_has(struct eval *e, const char *name, struct span str)
{
	struct span hdr;
	if (!header_of(e, name, &hdr))
		return false;
	size_t pos = 0;
	struct span fname, value;
	bool found = false;
	while (!found && mime_header_next(hdr, &pos, &fname, &value) == 1) {
		if (!span_eq_ci(fname, name))
			continue;
		if (str.len == 0)
			return true;
		struct buf dec;
		buf_init(&dec, 65536);
		if (mime_header_decode(value, &dec) != 0) {
			/* what fitted is there */
		}
		found = contains_ci(buf_span(&dec), str) || contains_ci(value, str);
		buf_release(&dec);
	}
	return found;
}

static bool text_has(struct eval *e, unsigned flags, struct span str)
{
	if (!load(e))
		return false;
	if (e->text_flags != flags) {
		buf_release(&e->text);
		buf_init(&e->text, IMAP_SEARCH_TEXT_MAX);
		if (mime_text_extract(e->mime, flags, &e->text) != 0) {
			/* searched as far as it fitted */
		}
		e->text_flags = flags;
	}
	return contains_ci(buf_span(&e->text), str);
}

static int64_t day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : (t - 86399) / 86400;
}

static bool sent_day(struct eval *e, int64_t *day)
{
	struct span v, hdr;
	if (!header_of(e, "Date", &hdr))
		return false;
	int64_t t;
	int zone;
	if (!mime_header_find(hdr, "Date", &v) || mime_date_parse(v, &t, &zone) != 0)
		return false;
	/* RFC 9051 6.4.4: the date in the sender's zone, without the time */
	*day = day_of(t + (int64_t)zone * 60);
	return true;
}

static bool match(struct eval *e, const struct imap_search_key *k)
{
	const struct imap_msg *m = e->m;
	switch (k->type) {
	case IMAP_SEARCH_AND:
		for (size_t i = 0; i < k->nchildren; i++)
			if (!match(e, &k->children[i]))
				return false;
		return true;
	case IMAP_SEARCH_OR:
		return match(e, &k->children[0]) || match(e, &k->children[1]);
	case IMAP_SEARCH_NOT:
		return !match(e, &k->children[0]);
	case IMAP_SEARCH_ALL:
	case IMAP_SEARCH_OLD:
		return true;
	case IMAP_SEARCH_NEW:
	case IMAP_SEARCH_RECENT:
		return false;	/* no session gets \Recent (RFC 9051 drops it) */
	case IMAP_SEARCH_ANSWERED: return m->flags & STORE_FLAG_ANSWERED;
	case IMAP_SEARCH_DELETED: return m->flags & STORE_FLAG_DELETED;
	case IMAP_SEARCH_DRAFT: return m->flags & STORE_FLAG_DRAFT;
	case IMAP_SEARCH_FLAGGED: return m->flags & STORE_FLAG_FLAGGED;
	case IMAP_SEARCH_SEEN: return m->flags & STORE_FLAG_SEEN;
	case IMAP_SEARCH_UNANSWERED: return !(m->flags & STORE_FLAG_ANSWERED);
	case IMAP_SEARCH_UNDELETED: return !(m->flags & STORE_FLAG_DELETED);
	case IMAP_SEARCH_UNDRAFT: return !(m->flags & STORE_FLAG_DRAFT);
	case IMAP_SEARCH_UNFLAGGED: return !(m->flags & STORE_FLAG_FLAGGED);
	case IMAP_SEARCH_UNSEEN: return !(m->flags & STORE_FLAG_SEEN);
	case IMAP_SEARCH_KEYWORD:
	case IMAP_SEARCH_UNKEYWORD: {
		int bit = imap_keyword_bit(e->s, k->str);
		bool has = bit >= 0 && (m->keywords & ((uint64_t)1 << bit));
		return k->type == IMAP_SEARCH_KEYWORD ? has : !has;
	}
	case IMAP_SEARCH_BCC: return header_has(e, "Bcc", k->str);
	case IMAP_SEARCH_CC: return header_has(e, "Cc", k->str);
	case IMAP_SEARCH_FROM: return header_has(e, "From", k->str);
	case IMAP_SEARCH_TO: return header_has(e, "To", k->str);
	case IMAP_SEARCH_SUBJECT: return header_has(e, "Subject", k->str);
	case IMAP_SEARCH_HEADER: {
		char field[256];
		if (span_to_cstr(k->field, field, sizeof field) != 0)
			return false;
		return header_has(e, field, k->str);
	}
	case IMAP_SEARCH_BODY: return text_has(e, MIME_TEXT_BODY, k->str);
	case IMAP_SEARCH_TEXT:
		return text_has(e, MIME_TEXT_HEADERS | MIME_TEXT_BODY, k->str);
	case IMAP_SEARCH_BEFORE:
		return day_of(m->internal_date) < imap_date_unix(&k->date) / 86400;
	case IMAP_SEARCH_ON:
		return day_of(m->internal_date) == imap_date_unix(&k->date) / 86400;
	case IMAP_SEARCH_SINCE:
		return day_of(m->internal_date) >= imap_date_unix(&k->date) / 86400;
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE: {
		int64_t d, want = imap_date_unix(&k->date) / 86400;
		if (!sent_day(e, &d))
			return false;
		return k->type == IMAP_SEARCH_SENTBEFORE ? d < want :
		       k->type == IMAP_SEARCH_SENTON ? d == want : d >= want;
	}
	case IMAP_SEARCH_LARGER: return m->size > k->number;
	case IMAP_SEARCH_SMALLER: return m->size < k->number;
	case IMAP_SEARCH_UID:
		if (k->seqset.saved)
			return imap_saved_has(e->s, m->uid);
		return imap_seqset_contains(&k->seqset, m->uid,
					    e->s->n_msgs ? e->s->msgs[e->s->n_msgs - 1].uid : 0);
	case IMAP_SEARCH_SEQSET:
		if (k->seqset.saved)
			return imap_saved_has(e->s, m->uid);
		return imap_seqset_contains(&k->seqset, e->msn, e->s->n_msgs);
	case IMAP_SEARCH_OLDER:
		return e->now - m->internal_date >= (int64_t)k->number;
	case IMAP_SEARCH_YOUNGER:
		return e->now - m->internal_date <= (int64_t)k->number;
	case IMAP_SEARCH_MODSEQ:
		e->used_modseq = true;
		return m->modseq >= k->number;
	case IMAP_SEARCH_EMAILID:
		return imap_emailid_is(k->str, m->blob_id);
	case IMAP_SEARCH_THREADID:
		return false;	/* THREADID is NIL: nothing has one */
	}
	return false;
}

/* Whether a key looks into messages (headers or text). */
static bool reads_message(const struct imap_search_key *k)
{
	switch (k->type) {
	case IMAP_SEARCH_AND:
	case IMAP_SEARCH_OR:
	case IMAP_SEARCH_NOT:
		for (size_t i = 0; i < k->nchildren; i++)
			if (reads_message(&k->children[i]))
				return true;
		return false;
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_HEADER:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		return true;
	default:
		return false;
	}
}

/* One SEARCH over the session's messages, in order. */
struct run {
	struct imap_session *s;
	const struct imap_search_key *program;
	uint32_t *idx;
	size_t n;
	bool used_modseq;
	int64_t now;
	uint32_t next;		/* the next message to evaluate */
};

static void eval_one(struct run *r, uint32_t i, struct span cached, bool has_cached)
{
	struct imap_session *s = r->s;
	struct eval e = { .s = s, .msn = i + 1, .m = &s->msgs[i], .now = r->now,
			  .cached_hdr = cached, .has_cached_hdr = has_cached };
	if (match(&e, r->program))
		r->idx[r->n++] = i;
	r->used_modseq = r->used_modseq || e.used_modseq;
	mime_message_free(&e.mime);
	free(e.data);
	buf_release(&e.text);
}

/* The store streams the folder's parse cache records in UID order; the
 * session's messages are in UID order too: those without a record are
 * evaluated from the message, those with one from its search fields. */
static int on_meta(uint32_t uid, const unsigned char *data, size_t len, void *arg)
{
	struct run *r = arg;
	struct imap_session *s = r->s;
	while (r->next < s->n_msgs && s->msgs[r->next].uid < uid)
		eval_one(r, r->next++, span_make("", 0), false);
	if (r->next == s->n_msgs)
		return 1;	/* the rest are newer than this session knows */
	if (s->msgs[r->next].uid == uid) {
		struct span hdr;
		bool ok = mime_cache_search_headers(span_make(data, len), &hdr) == 1;
		eval_one(r, r->next++, hdr, ok);
	}
	return 0;
}

bool imap_search_match(struct imap_session *s, const struct imap_search_key *program,
		       uint32_t idx)
{
	struct run r = { .s = s, .program = program, .idx = &idx,
			 .now = (int64_t)time(NULL) };
	eval_one(&r, idx, span_make("", 0), false);
	return r.n == 1;
}

size_t imap_search_run(struct imap_session *s,
		       const struct imap_search_key *program, uint32_t *idx_out,
		       bool *used_modseq_out)
{
	struct run r = { .s = s, .program = program, .idx = idx_out,
			 .now = (int64_t)time(NULL) };
	struct err err;
	if (reads_message(program) &&
	    store_meta_each(s->srv->store, s->folder_id, on_meta, &r, &err) != 0)
		log_warn("imap", s->c->id, "search cache user=%s error=\"%s\"",
			 s->address, err.msg);	/* the rest read the messages */
	while (r.next < s->n_msgs)
		eval_one(&r, r.next++, span_make("", 0), false);
	if (r.used_modseq && used_modseq_out != NULL)
		*used_modseq_out = true;
	return r.n;
}

void imap_cmd_search(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	struct imap_search_limits lim;
	struct imap_search_cmd sc;
	struct err err;
	imap_search_limits_default(&lim);
	if (imap_search_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &sc, &err) != 0) {
		imap_bad(s, tag, "%s", err.msg);
		return;
	}
	if (sc.charset.len > 0 && !imap_sort_charset_ok(sc.charset)) {
		imap_no(s, tag, "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
		return;
	}
	bool update = sc.ret & IMAP_SEARCH_RETURN_UPDATE;
	if (update && imap_context_tag_active(s, cmd->tag)) {
		imap_bad(s, tag, "Tag reuse");	/* RFC 5267 4.3 */
		return;
	}
	uint32_t *hits = xreallocarray(NULL, s->n_msgs ? s->n_msgs : 1, sizeof *hits);
	uint32_t *uids = xreallocarray(NULL, s->n_msgs ? s->n_msgs : 1, sizeof *uids);
	uint64_t maxmod = 0;
	bool used_modseq = false;
	size_t n = imap_search_run(s, &sc.program, hits, &used_modseq);
	/* RFC 5267 4.3.1: a refused UPDATE is told after the answer */
	const char *why = NULL;
	bool refused = update && imap_context_add(s, cmd->tag, cmd->uid, &sc.program, NULL,
						  0, hits, n, NULL, &why) != 0;
	for (size_t i = 0; i < n; i++) {
		const struct imap_msg *m = &s->msgs[hits[i]];
		uids[i] = m->uid;
		if (m->modseq > maxmod)
			maxmod = m->modseq;
		hits[i] = cmd->uid ? m->uid : hits[i] + 1;
	}
	struct buf *o = &s->out;
	unsigned ret = sc.ret & (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX |
				 IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT |
				 IMAP_SEARCH_RETURN_PARTIAL);
	if (sc.ret & IMAP_SEARCH_RETURN_SAVE) {
		/* RFC 5182 2.4: with MIN/MAX only, only those are saved */
		free(s->saved);
		s->saved = NULL;
		s->n_saved = 0;
		bool minmax = ret && !(ret & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT));
		if (n > 0) {
			s->saved = xreallocarray(NULL, n, sizeof *s->saved);
			if (!minmax) {
				memcpy(s->saved, uids, n * sizeof *uids);
				s->n_saved = n;
			} else {
				if (ret & IMAP_SEARCH_RETURN_MIN)
					s->saved[s->n_saved++] = uids[0];
				if ((ret & IMAP_SEARCH_RETURN_MAX) && (s->n_saved == 0 || uids[n - 1] != uids[0]))
					s->saved[s->n_saved++] = uids[n - 1];
			}
		}
	}
	free(uids);
	if ((sc.ret & IMAP_SEARCH_RETURN_SAVE) && ret == 0 && !update) {
		/* RFC 5182 2.1: SAVE alone gives no ESEARCH */
	} else if (sc.has_return || s->rev2) {
		/* RFC 4731 3.1: RETURN () means ALL, and so does RETURN
		 * (UPDATE) (RFC 5267 4.3: the client needs a start);
		 * IMAP4rev2 answers with ESEARCH always (RFC 9051 7.3.4) */
		if (ret == 0)
			ret = IMAP_SEARCH_RETURN_ALL;
		imap_out_str(o, "* ESEARCH (TAG ");
		imap_out_string(o, cmd->tag);
		imap_out_str(o, ")");
		if (cmd->uid)
			imap_out_str(o, " UID");
		if (n > 0 && (ret & IMAP_SEARCH_RETURN_MIN))
			imap_out_fmt(o, " MIN %u", hits[0]);
		if (n > 0 && (ret & IMAP_SEARCH_RETURN_MAX))
			imap_out_fmt(o, " MAX %u", hits[n - 1]);
		if (ret & IMAP_SEARCH_RETURN_COUNT)
			imap_out_fmt(o, " COUNT %zu", n);
		if (n > 0 && (ret & IMAP_SEARCH_RETURN_ALL)) {
			imap_out_str(o, " ALL ");
			imap_out_uidset(o, hits, n);
		}
		if (ret & IMAP_SEARCH_RETURN_PARTIAL) {
			/* RFC 5267 4.4: the lo-th to hi-th result */
			imap_out_fmt(o, " PARTIAL (%u:%u ", sc.partial_lo, sc.partial_hi);
			size_t from = sc.partial_lo - 1, to = sc.partial_hi;
			if (to > n)
				to = n;
			if (from >= to)
				imap_out_str(o, "NIL");
			else
				imap_out_uidset(o, hits + from, to - from);
			imap_out_str(o, ")");
		}
		if (n > 0 && used_modseq)
			imap_out_fmt(o, " MODSEQ %llu", (unsigned long long)maxmod);
		imap_out_str(o, "\r\n");
	} else {
		imap_out_str(o, "* SEARCH");
		for (size_t i = 0; i < n; i++) {
			imap_out_fmt(o, " %u", hits[i]);
			if (o->len > 65536)
				imap_flush(s);
		}
		/* RFC 7162 3.1.5 */
		if (n > 0 && used_modseq)
			imap_out_fmt(o, " (MODSEQ %llu)", (unsigned long long)maxmod);
		imap_out_str(o, "\r\n");
	}
	free(hits);
	if (refused) {
		imap_out_str(o, "* NO [NOUPDATE ");
		imap_out_string(o, cmd->tag);
		imap_out_fmt(o, "] %s\r\n", why);
	}
	imap_ok(s, tag, "%sSEARCH completed", cmd->uid ? "UID " : "");
}
