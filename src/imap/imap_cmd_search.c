/* imap_cmd_search.c - SEARCH and UID SEARCH (RFC 9051 6.4.4; RFC 3501
 * keys; RFC 7162 MODSEQ; RFC 5032 OLDER/YOUNGER; RFC 4731 ESEARCH
 * RETURN (MIN MAX COUNT ALL); RFC 5182 SEARCHRES: RETURN (SAVE) and "$"). The program comes from imap_search.h.
 * Flags, UIDs, sizes, dates and modseqs are answered from the session's
 * message list; header keys read the message header, BODY and TEXT the
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
#include "imap/imap_search.h"
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

/* Any field called name whose decoded value contains str. */
static bool header_has(struct eval *e, const char *name, struct span str)
{
	if (!load(e))
		return false;
	struct span hdr = mime_part_header(e->mime, mime_message_part(e->mime, 0));
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
	struct span v;
	if (!load(e))
		return false;
	struct span hdr = mime_part_header(e->mime, mime_message_part(e->mime, 0));
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
	if (sc.charset.len > 0 && !span_eq_ci(sc.charset, "UTF-8") &&
	    !span_eq_ci(sc.charset, "US-ASCII")) {
		imap_no(s, tag, "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
		return;
	}
	uint32_t *hits = xreallocarray(NULL, s->n_msgs ? s->n_msgs : 1, sizeof *hits);
	uint32_t *uids = xreallocarray(NULL, s->n_msgs ? s->n_msgs : 1, sizeof *uids);
	size_t n = 0;
	uint64_t maxmod = 0;
	bool used_modseq = false;
	for (uint32_t i = 0; i < s->n_msgs; i++) {
		struct eval e = { .s = s, .msn = i + 1, .m = &s->msgs[i],
				  .now = (int64_t)time(NULL) };
		if (match(&e, &sc.program)) {
			uids[n] = s->msgs[i].uid;
			hits[n++] = cmd->uid ? s->msgs[i].uid : i + 1;
			if (s->msgs[i].modseq > maxmod)
				maxmod = s->msgs[i].modseq;
		}
		used_modseq = used_modseq || e.used_modseq;
		mime_message_free(&e.mime);
		free(e.data);
		buf_release(&e.text);
	}
	struct buf *o = &s->out;
	unsigned ret = sc.ret & ~(unsigned)IMAP_SEARCH_RETURN_SAVE;
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
	if ((sc.ret & IMAP_SEARCH_RETURN_SAVE) && ret == 0) {
		/* RFC 5182 2.1: SAVE alone gives no ESEARCH */
	} else if (sc.has_return || s->rev2) {
		/* RFC 4731 3.1: RETURN () means ALL; IMAP4rev2 answers with
		 * ESEARCH always (RFC 9051 7.3.4) */
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
	imap_ok(s, tag, "%sSEARCH completed", cmd->uid ? "UID " : "");
}
