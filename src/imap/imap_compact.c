/* imap_compact.c - the selected folder of an idling session, kept small.
 *
 * A session that runs a command needs each message's flags, modseq, size
 * and date at hand (struct imap_msg, 40 bytes a message: 400 KB for a
 * 10,000-message INBOX). An IDLE session only needs what it has told the
 * client: the UIDs (as runs of consecutive UIDs: usually a handful of
 * 8-byte ranges) and a modseq K such that every change at or below K has
 * been reported. Changes pushed during IDLE are found with the store's
 * modseq indexes (what expunged and what changed since K), so a delivery
 * that wakes thousands of idling sessions costs each a few index lookups,
 * not a reload of the folder. DONE loads the folder again and reports
 * anything that slipped between the last push and the reload.
 *
 * Why K is safe: the table is compacted right after a full sync (one read
 * snapshot), so every modseq in it is at most the folder's HIGHESTMODSEQ at
 * that snapshot, and any later change gets a greater modseq. Each push
 * reads HIGHESTMODSEQ H before its two queries and moves K to H: a change
 * committed while the queries run may be seen twice (a repeated FETCH
 * FLAGS, harmless; expunges and new UIDs are checked against the ranges,
 * so never twice), never missed. */
#include "imap/imap_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

struct imap_uidrange {
	uint32_t first;
	uint32_t count;
};

static void ranges_add(struct imap_session *s, uint32_t uid, uint32_t *cap)
{
	struct imap_uidrange *last = s->n_ranges ? &s->ranges[s->n_ranges - 1] : NULL;
	if (last != NULL && uid == last->first + last->count) {
		last->count++;
		return;
	}
	if (s->n_ranges == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		s->ranges = xreallocarray(s->ranges, *cap, sizeof *s->ranges);
	}
	s->ranges[s->n_ranges].first = uid;
	s->ranges[s->n_ranges].count = 1;
	s->n_ranges++;
}

static void ranges_fit(struct imap_session *s)
{
	if (s->n_ranges == 0) {
		free(s->ranges);
		s->ranges = NULL;
		return;
	}
	s->ranges = xreallocarray(s->ranges, s->n_ranges, sizeof *s->ranges);
}

void imap_compact(struct imap_session *s)
{
	/* RFC 5267 update contexts re-evaluate searches on the full
	 * table as things change: a session with one idles unshrunk */
	if (s->state != IMAP_S_SELECTED || s->compact || s->contexts != NULL)
		return;
	uint32_t cap = 0;
	uint64_t k = 0;
	s->ranges = NULL;
	s->n_ranges = 0;
	for (uint32_t i = 0; i < s->n_msgs; i++) {
		ranges_add(s, s->msgs[i].uid, &cap);
		if (s->msgs[i].modseq > k)
			k = s->msgs[i].modseq;
	}
	ranges_fit(s);
	s->known_modseq = k;
	free(s->msgs);
	s->msgs = NULL;
	s->cap_msgs = 0;
	free(s->idx);
	s->idx = NULL;
	s->cap_idx = 0;
	free(s->kw);		/* imap_out_flags reloads it when a push needs it */
	s->kw = NULL;
	s->compact = true;
}

void imap_expand(struct imap_session *s)
{
	if (!s->compact)
		return;
	/* the UIDs as the client knows them, flags unknown: imap_sync then
	 * reports every message whose modseq passed K, and what else moved */
	struct imap_msg *m = xreallocarray(NULL, s->n_msgs ? s->n_msgs : 1, sizeof *m);
	uint32_t n = 0;
	for (uint32_t r = 0; r < s->n_ranges; r++)
		for (uint32_t j = 0; j < s->ranges[r].count && n < s->n_msgs; j++) {
			memset(&m[n], 0, sizeof m[n]);
			m[n].uid = s->ranges[r].first + j;
			m[n].flags = IMAP_MSG_STALE;
			n++;
		}
	free(s->ranges);
	s->ranges = NULL;
	s->n_ranges = 0;
	s->msgs = m;
	s->n_msgs = n;
	s->cap_msgs = s->n_msgs ? s->n_msgs : 1;
	s->compact = false;
	imap_keywords_reload(s);
	imap_sync(s, true);
}

/* ---- pushes while idling ---------------------------------------------- */

struct uids {
	uint32_t *v;
	size_t n, cap;
};

static int collect_uid(uint32_t uid, void *arg)
{
	struct uids *u = arg;
	if (u->n > 0 && uid <= u->v[u->n - 1])
		return 0;	/* ascending and unique, whatever the query says */
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 16;
		u->v = xreallocarray(u->v, u->cap, sizeof *u->v);
	}
	u->v[u->n++] = uid;
	return 0;
}

/* Remove the expunged UIDs (ascending) from the ranges and tell the
 * client: EXPUNGE per message, or one VANISHED (QRESYNC). */
static void push_expunges(struct imap_session *s, const struct uids *gone)
{
	struct imap_uidrange *old = s->ranges;
	uint32_t n_old = s->n_ranges, cap = 0;
	uint32_t *told = s->qresync ? xreallocarray(NULL, gone->n ? gone->n : 1,
						    sizeof *told) : NULL;
	size_t n_told = 0, g = 0;
	uint32_t msn_base = 0, removed = 0;
	s->ranges = NULL;
	s->n_ranges = 0;
	for (uint32_t r = 0; r < n_old; r++) {
		uint32_t first = old[r].first, end = old[r].first + old[r].count;
		while (g < gone->n && gone->v[g] < first)
			g++;
		uint32_t uid = first;
		while (g < gone->n && gone->v[g] < end) {
			uint32_t v = gone->v[g++];
			for (; uid < v; uid++)
				ranges_add(s, uid, &cap);
			uint32_t msn = msn_base + (v - first) + 1 - removed;
			if (told != NULL)
				told[n_told++] = v;
			else
				imap_out_fmt(&s->out, "* %u EXPUNGE\r\n", msn);
			removed++;
			uid = v + 1;
		}
		if (uid == first) {
			/* untouched: keep the range whole (ranges_add would
			 * merge it into the previous one only if adjacent) */
			if (s->n_ranges == cap) {
				cap = cap ? cap * 2 : 4;
				s->ranges = xreallocarray(s->ranges, cap, sizeof *s->ranges);
			}
			s->ranges[s->n_ranges++] = old[r];
		} else {
			for (; uid < end; uid++)
				ranges_add(s, uid, &cap);
		}
		msn_base += old[r].count;
	}
	free(old);
	ranges_fit(s);
	s->n_msgs -= removed;
	if (n_told > 0) {
		imap_out_str(&s->out, "* VANISHED ");
		imap_out_uidset(&s->out, told, n_told);
		imap_out_str(&s->out, "\r\n");
	}
	free(told);
}

struct changes {
	struct imap_session *s;
	uint32_t r;		/* current range */
	uint32_t msn_base;	/* messages before range r */
	uint32_t last;		/* greatest UID the client knows */
	uint32_t cap;
	uint32_t added;
};

static int on_changed(const struct store_message *m, void *arg)
{
	struct changes *ch = arg;
	struct imap_session *s = ch->s;
	if (m->uid > ch->last) {
		/* new: after all the ranges; EXISTS once at the end */
		ranges_add(s, m->uid, &ch->cap);
		ch->last = m->uid;
		ch->added++;
		return 0;
	}
	while (ch->r < s->n_ranges &&
	       m->uid >= s->ranges[ch->r].first + s->ranges[ch->r].count) {
		ch->msn_base += s->ranges[ch->r].count;
		ch->r++;
	}
	if (ch->r == s->n_ranges || m->uid < s->ranges[ch->r].first)
		return 0;	/* expunged and told, or never ours */
	struct imap_msg x = {
		.uid = m->uid,
		.flags = m->flags & STORE_FLAGS_STORED,
		.keywords = m->keywords,
		.modseq = m->modseq,
	};
	imap_out_fetch_flags(s, &s->out,
			     ch->msn_base + (m->uid - s->ranges[ch->r].first) + 1, &x);
	return 0;
}

void imap_compact_sync(struct imap_session *s)
{
	struct store_folder f;
	struct err err;
	atomic_store(&s->changed, false);
	int rc = store_folder_find(s->srv->store, s->mailbox_id, s->folder_name, &f, &err);
	if (rc <= 0 || f.id != s->folder_id) {
		if (rc < 0)
			log_error("imap", s->c->id, "idle sync user=%s error=\"%s\"",
				  s->address, err.msg);
		return;	/* deleted or renamed away: the client learns at DONE */
	}
	struct uids gone = { 0 };
	if (store_vanished_since(s->srv->store, s->folder_id, s->known_modseq,
				 collect_uid, &gone, &err) != 0) {
		log_error("imap", s->c->id, "idle sync user=%s error=\"%s\"", s->address, err.msg);
		free(gone.v);
		atomic_store(&s->changed, true);
		return;
	}
	if (gone.n > 0)
		push_expunges(s, &gone);
	free(gone.v);
	struct changes ch = {
		.s = s,
		.last = s->n_ranges ? s->ranges[s->n_ranges - 1].first +
				      s->ranges[s->n_ranges - 1].count - 1 : 0,
		.cap = s->n_ranges,
	};
	if (store_message_changed_since(s->srv->store, s->folder_id, s->known_modseq,
					on_changed, &ch, &err) != 0) {
		/* what was pushed stands; K stays, so the rest comes again */
		log_error("imap", s->c->id, "idle sync user=%s error=\"%s\"", s->address, err.msg);
		atomic_store(&s->changed, true);
	} else if (f.highestmodseq > s->known_modseq) {
		s->known_modseq = f.highestmodseq;
	}
	if (ch.added > 0) {
		ranges_fit(s);
		s->n_msgs += ch.added;
		imap_out_fmt(&s->out, "* %u EXISTS\r\n", s->n_msgs);
	}
	s->highestmodseq = f.highestmodseq;
}
