/* imap_cmd_sort.c - SORT, UID SORT, THREAD and UID THREAD (RFC 5256),
 * with DISPLAYFROM / DISPLAYTO (RFC 5957) and ESORT's RETURN options
 * (RFC 5267 3). The search program runs through imap_search_run; the keys
 * of each hit come from the parse cache the store keeps per message
 * (ENVELOPE and References, mime_cache), which is made once if missing,
 * so a sort never reads message bodies again. */
#include "imap/imap_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/imap_context.h"
#include "imap/imap_search.h"
#include "imap/imap_sort.h"
#include "mime/mime.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

/* The most bytes of keys one message keeps (subject, addresses, ids). */
#define SORT_KEYS_MAX (64u * 1024)

void imap_sortset_free(struct imap_sortset *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		buf_release(&ss->mem[i]);
	free(ss->keys);
	free(ss->mem);
	free(ss->v);
	memset(ss, 0, sizeof *ss);
}

/* The parse cache of a message, made and stored if it is missing or
 * stale. 0 and *meta_out (to free) and *c; -1 if the message is gone. */
static int load_cache(struct imap_session *s, const struct imap_msg *m,
		      unsigned char **meta_out, struct mime_cache *c)
{
	struct err err;
	size_t len;
	*meta_out = NULL;
	if (store_meta_get(s->srv->store, s->folder_id, m->uid, meta_out, &len, &err) == 1) {
		/* a record without the search fields (written before they
		 * were kept) is made again: threading needs References */
		if (mime_cache_read(span_make(*meta_out, len), c, &err) == 0 &&
		    c->msg_size == m->size && c->has_search_headers)
			return 0;
		free(*meta_out);
		*meta_out = NULL;
	}
	unsigned char *data;
	size_t dlen;
	if (store_message_read(s->srv->store, s->folder_id, m->uid, &data, &dlen, &err) != 1)
		return -1;
	struct mime_message *mm = mime_parse(data, dlen, NULL);
	struct buf made;
	buf_init(&made, STORE_META_MAX);
	int rc = -1;
	if (mm != NULL && mime_cache_write(mm, &made) == 0 &&
	    mime_cache_read(buf_span(&made), c, &err) == 0) {
		if (store_meta_put(s->srv->store, s->folder_id, m->uid, made.data,
				   made.len, &err) != 0)
			log_warn("imap", s->c->id, "meta_put uid=%u error=\"%s\"",
				 m->uid, err.msg);
		/* c points into made: hand its bytes to the caller */
		*meta_out = xmalloc(made.len ? made.len : 1);
		memcpy(*meta_out, made.data, made.len);
		rc = mime_cache_read(span_make(*meta_out, made.len), c, &err);
	}
	buf_release(&made);
	mime_message_free(&mm);
	free(data);
	return rc;
}

/* Keys of one message from its cache record (NULL: none could be had). */
static void fill_keys(struct imap_sort_msg *k, struct buf *mem, const struct mime_cache *c)
{
	struct span env = span_make("", 0), refs = span_make("", 0);
	if (c != NULL) {
		env = c->envelope;
		/* raw, folds kept: only the <ids> in it count */
		if (!c->has_search_headers ||
		    !mime_header_find(c->search_headers, "References", &refs))
			refs = span_make("", 0);
	}
	/* a message whose keys are partly unreadable still sorts, by what
	 * could be read (empty strings sort first) */
	(void)imap_sort_msg_fill(k, env, refs, mem);
}

/* Streaming the folder's cache records (store_meta_each, UID order) past
 * the hits (ascending indices, so ascending UIDs): one query, not one per
 * message. */
struct sort_load {
	struct imap_session *s;
	const uint32_t *idx;
	size_t n, next;
	struct imap_sortset *ss;
	bool *done;
};

static int on_sort_meta(uint32_t uid, const unsigned char *data, size_t len, void *arg)
{
	struct sort_load *l = arg;
	const struct imap_msg *msgs = l->s->msgs;
	while (l->next < l->n && msgs[l->idx[l->next]].uid < uid)
		l->next++;
	if (l->next == l->n)
		return 1;
	const struct imap_msg *m = &msgs[l->idx[l->next]];
	if (m->uid != uid)
		return 0;
	struct mime_cache c;
	struct err err;
	if (mime_cache_read(span_make(data, len), &c, &err) == 0 &&
	    c.msg_size == m->size && c.has_search_headers) {
		fill_keys(&l->ss->keys[l->next], &l->ss->mem[l->next], &c);
		l->done[l->next] = true;
	}
	l->next++;
	return 0;
}

void imap_sortset_load(struct imap_session *s, const uint32_t *idx, size_t n,
		       bool uid, struct imap_sortset *ss)
{
	ss->n = n;
	ss->keys = xcalloc(n ? n : 1, sizeof *ss->keys);
	ss->mem = xcalloc(n ? n : 1, sizeof *ss->mem);
	ss->v = xcalloc(n ? n : 1, sizeof *ss->v);
	for (size_t i = 0; i < n; i++) {
		const struct imap_msg *m = &s->msgs[idx[i]];
		struct imap_sort_msg *k = &ss->keys[i];
		k->seq = idx[i] + 1;
		k->number = uid ? m->uid : idx[i] + 1;
		k->arrival = m->internal_date;
		k->size = m->size;
		k->modseq = m->modseq;
		buf_init(&ss->mem[i], SORT_KEYS_MAX);
		ss->v[i] = k;
	}
	struct sort_load l = { .s = s, .idx = idx, .n = n, .ss = ss,
			       .done = xcalloc(n ? n : 1, sizeof *l.done) };
	struct err err;
	if (n > 0 && store_meta_each(s->srv->store, s->folder_id, on_sort_meta, &l, &err) != 0)
		log_warn("imap", s->c->id, "sort cache user=%s error=\"%s\"",
			 s->address, err.msg);	/* the rest are made below */
	for (size_t i = 0; i < n; i++) {
		if (l.done[i])
			continue;
		unsigned char *meta;
		struct mime_cache c;
		bool ok = load_cache(s, &s->msgs[idx[i]], &meta, &c) == 0;
		fill_keys(&ss->keys[i], &ss->mem[i], ok ? &c : NULL);
		free(meta);
	}
	free(l.done);
}

static bool check_charset(struct imap_session *s, const char *tag, struct span cs)
{
	if (imap_sort_charset_ok(cs))
		return true;
	imap_no(s, tag, "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
	return false;
}

/* Run the program; the hits (indices into s->msgs) are malloc'd. */
static size_t run_search(struct imap_session *s, const struct imap_search_key *program,
			 uint32_t **idx_out, bool *used_modseq)
{
	*idx_out = xreallocarray(NULL, s->n_msgs ? s->n_msgs : 1, sizeof **idx_out);
	*used_modseq = false;
	return imap_search_run(s, program, *idx_out, used_modseq);
}

static uint64_t max_modseq(const struct imap_sortset *ss)
{
	uint64_t m = 0;
	for (size_t i = 0; i < ss->n; i++)
		if (ss->keys[i].modseq > m)
			m = ss->keys[i].modseq;
	return m;
}

/* numbers v[from..to) as a sequence set in this order: only ascending
 * runs become ranges (RFC 5267 3.2). */
static void out_ordered_set(struct imap_session *s, const struct imap_sortset *ss,
			    size_t from, size_t to)
{
	struct buf *o = &s->out;
	size_t i = from;
	while (i < to) {
		size_t j = i;
		while (j + 1 < to && ss->v[j + 1]->number == ss->v[j]->number + 1)
			j++;
		if (i > from)
			imap_out_str(o, ",");
		if (j == i)
			imap_out_fmt(o, "%u", ss->v[i]->number);
		else
			imap_out_fmt(o, "%u:%u", ss->v[i]->number, ss->v[j]->number);
		i = j + 1;
		if (o->len > 65536)
			imap_flush(s);
	}
}

/* RFC 5267 3.2 and 4.4: ESEARCH for SORT. */
static void out_esort(struct imap_session *s, const struct imap_cmd *cmd,
		      const struct imap_sort_cmd *sc, const struct imap_sortset *ss,
		      bool used_modseq)
{
	struct buf *o = &s->out;
	size_t n = ss->n;
	unsigned ret = sc->ret;
	if (!(ret & (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX | IMAP_SEARCH_RETURN_ALL |
		     IMAP_SEARCH_RETURN_COUNT | IMAP_SEARCH_RETURN_PARTIAL)))
		ret |= IMAP_SEARCH_RETURN_ALL;	/* RETURN (), RETURN (UPDATE) */
	imap_out_str(o, "* ESEARCH (TAG ");
	imap_out_string(o, cmd->tag);
	imap_out_str(o, ")");
	if (cmd->uid)
		imap_out_str(o, " UID");
	if (n > 0 && (ret & IMAP_SEARCH_RETURN_MIN))
		imap_out_fmt(o, " MIN %u", ss->v[0]->number);
	if (n > 0 && (ret & IMAP_SEARCH_RETURN_MAX))
		imap_out_fmt(o, " MAX %u", ss->v[n - 1]->number);
	if (ret & IMAP_SEARCH_RETURN_COUNT)
		imap_out_fmt(o, " COUNT %zu", n);
	if (n > 0 && (ret & IMAP_SEARCH_RETURN_ALL)) {
		imap_out_str(o, " ALL ");
		out_ordered_set(s, ss, 0, n);
	}
	if (ret & IMAP_SEARCH_RETURN_PARTIAL) {
		imap_out_fmt(o, " PARTIAL (%u:%u ", sc->partial_lo, sc->partial_hi);
		size_t from = sc->partial_lo - 1, to = sc->partial_hi;
		if (to > n)
			to = n;
		if (from >= to)
			imap_out_str(o, "NIL");
		else
			out_ordered_set(s, ss, from, to);
		imap_out_str(o, ")");
	}
	if (n > 0 && used_modseq)
		imap_out_fmt(o, " MODSEQ %llu", (unsigned long long)max_modseq(ss));
	imap_out_str(o, "\r\n");
}

void imap_cmd_sort(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	struct imap_search_limits lim;
	struct imap_sort_cmd sc;
	struct err err;
	imap_search_limits_default(&lim);
	if (imap_sort_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &sc, &err) != 0) {
		imap_bad(s, tag, "%s", err.msg);
		return;
	}
	if (!check_charset(s, tag, sc.charset))
		return;
	bool update = sc.ret & IMAP_SEARCH_RETURN_UPDATE;
	if (update && imap_context_tag_active(s, cmd->tag)) {
		imap_bad(s, tag, "Tag reuse");	/* RFC 5267 4.3 */
		return;
	}
	uint32_t *idx;
	bool used_modseq;
	size_t n = run_search(s, &sc.program, &idx, &used_modseq);
	struct imap_sortset ss;
	imap_sortset_load(s, idx, n, cmd->uid, &ss);
	imap_sort_messages(ss.v, ss.n, sc.crit, sc.n_crit);

	struct buf *o = &s->out;
	if (sc.has_return) {
		out_esort(s, cmd, &sc, &ss, used_modseq);
		const char *why;
		if (update && imap_context_add(s, cmd->tag, cmd->uid, &sc.program, sc.crit,
					       sc.n_crit, idx, n, &ss, &why) != 0) {
			imap_out_str(o, "* NO [NOUPDATE ");
			imap_out_string(o, cmd->tag);
			imap_out_fmt(o, "] %s\r\n", why);
		}
	} else {
		imap_out_str(o, "* SORT");
		for (size_t i = 0; i < ss.n; i++) {
			imap_out_fmt(o, " %u", ss.v[i]->number);
			if (o->len > 65536)
				imap_flush(s);
		}
		/* RFC 7162 3.1.5 applies to SORT as to SEARCH */
		if (ss.n > 0 && used_modseq)
			imap_out_fmt(o, " (MODSEQ %llu)", (unsigned long long)max_modseq(&ss));
		imap_out_str(o, "\r\n");
	}
	imap_sortset_free(&ss);
	free(idx);
	imap_ok(s, tag, "%sSORT completed", cmd->uid ? "UID " : "");
}

void imap_cmd_thread(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	struct imap_search_limits lim;
	struct imap_thread_cmd tc;
	struct err err;
	imap_search_limits_default(&lim);
	if (imap_thread_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &tc, &err) != 0) {
		imap_bad(s, tag, "%s", err.msg);
		return;
	}
	if (!check_charset(s, tag, tc.charset))
		return;
	uint32_t *idx;
	bool used_modseq;
	size_t n = run_search(s, &tc.program, &idx, &used_modseq);
	struct imap_sortset ss;
	imap_sortset_load(s, idx, n, cmd->uid, &ss);
	free(idx);

	struct buf threads;
	buf_init(&threads, IMAP_OUT_MAX);
	if (imap_thread_build(tc.alg, ss.v, ss.n, &threads) != 0) {
		buf_release(&threads);
		imap_sortset_free(&ss);
		imap_no(s, tag, "[LIMIT] Too many threads to answer");
		return;
	}
	imap_sortset_free(&ss);
	struct buf *o = &s->out;
	imap_out_str(o, threads.len > 0 ? "* THREAD " : "* THREAD");
	for (size_t off = 0; off < threads.len;) {
		size_t k = threads.len - off < 65536 ? threads.len - off : 65536;
		imap_out_bytes(o, threads.data + off, k);
		off += k;
		imap_flush(s);
	}
	imap_out_str(o, "\r\n");
	buf_release(&threads);
	imap_ok(s, tag, "%sTHREAD completed", cmd->uid ? "UID " : "");
}

/* RFC 5267 4.3.5: CANCELUPDATE "tag" ... */
void imap_cmd_cancelupdate(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	if (cmd->nargs == 0) {
		imap_bad(s, tag, "Syntax: CANCELUPDATE \"tag\" ...");
		return;
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		struct span t;
		if (!imap_arg_astring(&cmd->args[i], &t)) {
			imap_bad(s, tag, "Syntax: CANCELUPDATE \"tag\" ...");
			return;
		}
		if (!imap_context_tag_active(s, t)) {
			imap_no(s, tag, "Unknown tag");
			return;
		}
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		struct span t;
		if (imap_arg_astring(&cmd->args[i], &t))
			(void)imap_context_cancel(s, t);	/* known: checked above */
	}
	imap_ok(s, tag, "CANCELUPDATE completed");
}
