/* imap_cmd_select.c - the selected state (RFC 9051 6.3.2, 6.3.3, 6.4.1-3;
 * RFC 3691 UNSELECT; RFC 4315 UID EXPUNGE; RFC 7162 CONDSTORE and QRESYNC
 * with VANISHED): SELECT,
 * EXAMINE, CLOSE, UNSELECT, EXPUNGE, and the sync that keeps the
 * session's sequence-number map right. The map is the list of UIDs the
 * client has been told of; a sync reads the folder again (one indexed
 * query) and reports the difference as EXPUNGE, FETCH FLAGS and EXISTS. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/imap_context.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

void imap_keywords_reload(struct imap_session *s)
{
	struct err err;
	if (s->kw == NULL)
		s->kw = xcalloc(1, sizeof *s->kw);
	if (store_keywords_get(s->srv->store, s->mailbox_id, s->kw, &err) != 0) {
		log_error("imap", s->c->id, "keywords user=%s error=\"%s\"", s->address, err.msg);
		s->kw->defined = 0;
	}
	if (s->kw->defined == 0) {
		/* most mailboxes have none: 6.5 KB less per selected session */
		free(s->kw);
		s->kw = NULL;
	}
}

void imap_unselect(struct imap_session *s)
{
	free(s->msgs);
	s->msgs = NULL;
	s->n_msgs = s->cap_msgs = 0;
	free(s->ranges);
	s->ranges = NULL;
	s->n_ranges = 0;
	s->compact = false;
	free(s->kw);
	s->kw = NULL;
	free(s->saved);
	s->saved = NULL;
	s->n_saved = 0;
	free(s->idx);
	s->idx = NULL;
	s->cap_idx = 0;
	imap_context_free_all(s);	/* RFC 5267 4.3: updates end here */
	s->folder_id = 0;
	s->folder_name[0] = '\0';
	if (s->state == IMAP_S_SELECTED)
		s->state = IMAP_S_AUTH;
}

struct load {
	struct imap_msg *msgs;
	uint32_t n, cap;
};

static int add_msg(const struct store_message *m, void *arg)
{
	struct load *l = arg;
	if (l->n == UINT32_MAX)
		return 1;
	if (l->n == l->cap) {
		l->cap = l->cap ? (l->cap > UINT32_MAX / 2 ? UINT32_MAX : l->cap * 2) : 64;
		l->msgs = xreallocarray(l->msgs, l->cap, sizeof *l->msgs);
	}
	struct imap_msg *x = &l->msgs[l->n++];
	x->uid = m->uid;
	x->flags = m->flags & STORE_FLAGS_STORED;
	x->keywords = m->keywords;
	x->modseq = m->modseq;
	x->size = m->size;
	x->internal_date = m->internal_date;
	x->blob_id = m->blob_id;
	return 0;
}

void imap_out_fetch_flags(struct imap_session *s, struct buf *o, uint32_t msn,
			  const struct imap_msg *m)
{
	imap_out_fmt(o, "* %u FETCH (UID %u FLAGS ", msn, m->uid);
	imap_out_flags(s, o, m->flags, m->keywords);
	if (s->condstore)
		imap_out_fmt(o, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	imap_out_str(o, ")\r\n");
}

void imap_sync(struct imap_session *s, bool expunges)
{
	if (s->state != IMAP_S_SELECTED)
		return;
	if (s->compact) {
		imap_compact_sync(s);
		return;
	}
	atomic_store(&s->changed, false);
	struct load now = { 0 };
	struct err err;
	if (store_message_each(s->srv->store, s->folder_id, add_msg, &now, &err) != 0) {
		log_error("imap", s->c->id, "sync user=%s error=\"%s\"", s->address, err.msg);
		free(now.msgs);
		atomic_store(&s->changed, true);
		return;
	}
	if (expunges)
		imap_context_expunging(s, now.msgs, now.n);
	struct store_folder f;
	if (store_folder_find(s->srv->store, s->mailbox_id, s->folder_name, &f, &err) == 1 &&
	    f.id == s->folder_id)
		s->highestmodseq = f.highestmodseq;
	/* merge: both lists ascend by UID; UIDs only grow, so what is new
	 * lies past the last UID we know */
	struct load kept = { 0 };
	kept.cap = s->n_msgs + now.n;
	kept.msgs = xreallocarray(NULL, kept.cap ? kept.cap : 1, sizeof *kept.msgs);
	uint32_t i = 0, j = 0, removed = 0;
	/* QRESYNC: one VANISHED with the UIDs (RFC 7162 3.2.10) */
	uint32_t *gone = s->qresync ? xreallocarray(NULL, s->n_msgs ? s->n_msgs : 1,
						    sizeof *gone) : NULL;
	size_t n_gone = 0;
	/* with VANISHED at the end, the FETCHes (numbered after it) wait */
	struct buf later;
	buf_init(&later, IMAP_OUT_MAX);
	struct buf *fo = gone != NULL ? &later : &s->out;
	bool deferred = false;
	uint32_t last = s->n_msgs ? s->msgs[s->n_msgs - 1].uid : 0;
	while (i < s->n_msgs) {
		struct imap_msg *old = &s->msgs[i];
		while (j < now.n && now.msgs[j].uid < old->uid)
			j++;	/* not ours to know yet (cannot happen) */
		if (j < now.n && now.msgs[j].uid == old->uid) {
			struct imap_msg *cur = &now.msgs[j++];
			kept.msgs[kept.n++] = *cur;
			if ((old->flags & IMAP_MSG_STALE) ?
			    cur->modseq > s->known_modseq :
			    (cur->flags != old->flags || cur->keywords != old->keywords ||
			     (s->condstore && cur->modseq != old->modseq)))
				imap_out_fetch_flags(s, fo, kept.n, cur);
		} else if (expunges) {
			if (gone != NULL)
				gone[n_gone++] = old->uid;
			else
				imap_out_fmt(&s->out, "* %u EXPUNGE\r\n", i + 1 - removed);
			removed++;
		} else {
			/* told later; until then it stays as it was */
			kept.msgs[kept.n++] = *old;
			deferred = true;
		}
		i++;
	}
	if (n_gone > 0) {
		imap_out_str(&s->out, "* VANISHED ");
		imap_out_uidset(&s->out, gone, n_gone);
		imap_out_str(&s->out, "\r\n");
	}
	free(gone);
	imap_out_bytes(&s->out, later.data, later.len);
	buf_release(&later);
	uint32_t before = kept.n;
	for (; j < now.n; j++)
		if (now.msgs[j].uid > last)
			kept.msgs[kept.n++] = now.msgs[j];
	if (kept.n != before)
		imap_out_fmt(&s->out, "* %u EXISTS\r\n", kept.n);
	free(now.msgs);
	free(s->msgs);
	s->msgs = kept.msgs;
	s->n_msgs = kept.n;
	s->cap_msgs = kept.cap;
	if (deferred)
		atomic_store(&s->changed, true);
	imap_context_update(s);
}

/* SELECT's (QRESYNC (uidvalidity modseq [known-uids])) (RFC 7162
 * 3.2.5); the optional sequence match data is read and not used: we
 * keep every expunged UID, so the client's known-uids bound suffices. */
struct qresync_params {
	bool given;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset known;
	bool has_known;
};

static int qresync_parse(const struct imap_arg *a, const struct imap_cmd *cmd,
			 struct qresync_params *qr)
{
	struct err err;
	if (a->type != IMAP_ARG_LIST || a->list_len < 2 || a->list_len > 4 ||
	    a->list[0].type != IMAP_ARG_ATOM || a->list[1].type != IMAP_ARG_ATOM ||
	    imap_parse_nz_number(a->list[0].str, &qr->uidvalidity) != 0 ||
	    imap_parse_number64(a->list[1].str, &qr->modseq) != 0)
		return -1;
	if (a->list_len >= 3) {
		if (a->list[2].type != IMAP_ARG_ATOM ||
		    imap_seqset_parse_arg(&a->list[2], cmd->arena, &qr->known, &err) != 0 ||
		    qr->known.saved)
			return -1;
		qr->has_known = true;
	}
	if (a->list_len == 4 && a->list[3].type != IMAP_ARG_LIST)
		return -1;
	qr->given = true;
	return 0;
}

struct vanished {
	const struct qresync_params *qr;
	uint32_t *uids;
	size_t n, cap;
};

static int add_vanished(uint32_t uid, void *arg)
{
	struct vanished *v = arg;
	if (v->qr->has_known && !imap_seqset_contains(&v->qr->known, uid, UINT32_MAX))
		return 0;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->uids = xreallocarray(v->uids, v->cap, sizeof *v->uids);
	}
	v->uids[v->n++] = uid;
	return 0;
}

/* VANISHED (EARLIER) and the FETCHes of what changed since qr->modseq. */
static void qresync_report(struct imap_session *s, const struct qresync_params *qr)
{
	struct vanished v = { .qr = qr };
	struct err err;
	if (store_vanished_since(s->srv->store, s->folder_id, qr->modseq, add_vanished,
				 &v, &err) == 0 && v.n > 0) {
		imap_out_str(&s->out, "* VANISHED (EARLIER) ");
		imap_out_uidset(&s->out, v.uids, v.n);
		imap_out_str(&s->out, "\r\n");
	}
	free(v.uids);
	for (uint32_t i = 0; i < s->n_msgs; i++)
		if (s->msgs[i].modseq > qr->modseq)
			imap_out_fetch_flags(s, &s->out, i + 1, &s->msgs[i]);
}

static void do_select(struct imap_session *s, const struct imap_cmd *cmd,
		      bool readonly)
{
	char name[STORE_FOLDER_NAME_MAX + 1];
	if (cmd->nargs < 1 || cmd->nargs > 2) {
		imap_bad(s, TAG(cmd), "Syntax: SELECT mailbox [(CONDSTORE)]");
		return;
	}
	struct qresync_params qr = { 0 };
	if (cmd->nargs == 2) {
		const struct imap_arg *p = &cmd->args[1];
		if (p->type == IMAP_ARG_LIST && p->list_len == 1 &&
		    imap_arg_atom_is(&p->list[0], "CONDSTORE")) {
			s->condstore = true;
		} else if (p->type == IMAP_ARG_LIST && p->list_len == 2 &&
			   imap_arg_atom_is(&p->list[0], "QRESYNC")) {
			if (!s->qresync) {
				/* RFC 7162 3.2.5: only once enabled */
				imap_bad(s, TAG(cmd), "QRESYNC is not enabled");
				return;
			}
			if (qresync_parse(&p->list[1], cmd, &qr) != 0) {
				imap_bad(s, TAG(cmd), "Invalid QRESYNC parameters");
				return;
			}
		} else {
			imap_bad(s, TAG(cmd), "Unknown SELECT parameter");
			return;
		}
	}
	/* RFC 9051 6.3.2: a failed SELECT leaves no mailbox selected, and
	 * an IMAP4rev2 client is told the old one is closed (7.1) */
	if (s->state == IMAP_S_SELECTED && (s->rev2 || s->qresync))
		imap_out_str(&s->out, "* OK [CLOSED] Previous mailbox closed\r\n");
	imap_unselect(s);
	if (imap_arg_mailbox(s, cmd, &cmd->args[0], name, sizeof name) != 0)
		return;
	struct store_folder f;
	struct err err;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err);
	if (rc < 0) {
		imap_no_store(s, TAG(cmd), "SELECT", &err);
		return;
	}
	if (rc == 0) {
		imap_no(s, TAG(cmd), "[NONEXISTENT] Mailbox does not exist");
		return;
	}
	struct load l = { 0 };
	atomic_store(&s->changed, false);
	if (store_message_each(s->srv->store, f.id, add_msg, &l, &err) != 0) {
		free(l.msgs);
		imap_no_store(s, TAG(cmd), "SELECT", &err);
		return;
	}
	s->msgs = l.msgs;
	s->n_msgs = l.n;
	s->cap_msgs = l.cap;
	s->folder_id = f.id;
	snprintf(s->folder_name, sizeof s->folder_name, "%s", f.name);
	s->uidvalidity = f.uidvalidity;
	s->highestmodseq = f.highestmodseq;
	s->readonly = readonly;
	s->state = IMAP_S_SELECTED;
	imap_keywords_reload(s);

	struct buf *o = &s->out;
	imap_out_str(o, "* FLAGS ");
	imap_out_flag_list(s, o, false);
	imap_out_str(o, "\r\n");
	if (readonly) {
		imap_out_str(o, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	} else {
		imap_out_str(o, "* OK [PERMANENTFLAGS ");
		imap_out_flag_list(s, o, true);
		imap_out_str(o, "] Flags permitted\r\n");
	}
	imap_out_fmt(o, "* %u EXISTS\r\n", s->n_msgs);
	if (s->rev2) {
		/* RFC 9051 6.3.2: LIST with the name as we know it, and no
		 * RECENT or UNSEEN */
		imap_out_str(o, "* LIST () \"/\" ");
		imap_out_mailbox(s, o, f.name);
		imap_out_str(o, "\r\n");
	} else {
		imap_out_str(o, "* 0 RECENT\r\n");
		for (uint32_t i = 0; i < s->n_msgs; i++)
			if (!(s->msgs[i].flags & STORE_FLAG_SEEN)) {
				imap_out_fmt(o, "* OK [UNSEEN %u] First unseen\r\n", i + 1);
				break;
			}
	}
	imap_out_fmt(o, "* OK [UIDVALIDITY %u] UIDs valid\r\n", f.uidvalidity);
	/* RFC 8474 4.1 */
	imap_out_str(o, "* OK [MAILBOXID ");
	imap_out_mailboxid(o, f.id, f.uidvalidity);
	imap_out_str(o, "] Ok\r\n");
	imap_out_fmt(o, "* OK [UIDNEXT %u] Predicted next UID\r\n", f.uidnext);
	imap_out_fmt(o, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		     (unsigned long long)f.highestmodseq);
	if (qr.given && qr.uidvalidity == f.uidvalidity)
		qresync_report(s, &qr);
	log_info("imap", s->c->id, "select user=%s folder=\"%s\" messages=%u%s",
		 s->address, f.name, s->n_msgs, readonly ? " readonly" : "");
	imap_ok(s, TAG(cmd), "[%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE",
		readonly ? "EXAMINE" : "SELECT");
}

void imap_cmd_select(struct imap_session *s, const struct imap_cmd *cmd)
{
	do_select(s, cmd, false);
}

void imap_cmd_examine(struct imap_session *s, const struct imap_cmd *cmd)
{
	do_select(s, cmd, true);
}

/* Expunge the \Deleted messages among idx (all when idx is NULL). */
static int expunge_deleted(struct imap_session *s, const uint32_t *idx,
			   size_t n, struct err *err)
{
	size_t total = idx ? n : s->n_msgs;
	uint32_t *uids = xreallocarray(NULL, total ? total : 1, sizeof *uids);
	size_t k = 0;
	for (size_t i = 0; i < total; i++) {
		const struct imap_msg *m = &s->msgs[idx ? idx[i] : i];
		if (m->flags & STORE_FLAG_DELETED)
			uids[k++] = m->uid;
	}
	int rc = 0;
	if (k > 0)
		rc = store_expunge(s->srv->store, s->folder_id, uids, k, NULL, err);
	free(uids);
	return rc;
}

void imap_cmd_close(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct err err;
	if (cmd->nargs != 0) {
		imap_bad(s, TAG(cmd), "CLOSE takes no arguments");
		return;
	}
	/* RFC 9051 6.4.1: expunged silently, no untagged EXPUNGE */
	if (!s->readonly && expunge_deleted(s, NULL, 0, &err) != 0)
		log_error("imap", s->c->id, "close expunge user=%s error=\"%s\"",
			  s->address, err.msg);
	imap_unselect(s);
	imap_ok(s, TAG(cmd), "CLOSE completed");
}

void imap_cmd_unselect(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(s, TAG(cmd), "UNSELECT takes no arguments");
		return;
	}
	imap_unselect(s);
	imap_ok(s, TAG(cmd), "UNSELECT completed");
}

void imap_cmd_expunge(struct imap_session *s, const struct imap_cmd *cmd)
{
	struct err err;
	uint32_t *idx = NULL;
	size_t n = 0;
	if (cmd->nargs != (cmd->uid ? 1u : 0u)) {
		imap_bad(s, TAG(cmd), "%s", cmd->uid ? "Syntax: UID EXPUNGE uid-set" :
			 "EXPUNGE takes no arguments");
		return;
	}
	if (s->readonly) {
		imap_no(s, TAG(cmd), "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (cmd->uid && imap_arg_messages(s, cmd, &cmd->args[0], true, &idx, &n) != 0)
		return;
	if (expunge_deleted(s, cmd->uid ? idx : NULL, n, &err) != 0) {
		imap_no_store(s, TAG(cmd), "EXPUNGE", &err);
		return;
	}
	/* the untagged EXPUNGEs come from the sync before the reply */
	imap_sync(s, true);
	imap_ok(s, TAG(cmd), "EXPUNGE completed");
}
