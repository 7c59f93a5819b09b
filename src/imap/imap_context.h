/* imap_context.h - what SORT, THREAD and the updating search contexts
 * (RFC 5267 4.3) share inside src/imap: the sort keys of a set of
 * messages of the selected folder, read from the store's parse cache, and
 * the contexts a SEARCH or SORT RETURN (UPDATE) leaves behind, which tell
 * the client ADDTO / REMOVEFROM as the mailbox changes until CANCELUPDATE
 * or the folder is closed. Everything here runs on the session's worker
 * thread; no other folder includes this header. */
#ifndef PETREL_IMAP_CONTEXT_H
#define PETREL_IMAP_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/span.h"
#include "imap/imap_search.h"
#include "imap/imap_sort.h"

struct imap_session;
struct imap_msg;

/* ---- sort keys (imap_cmd_sort.c) ------------------------------------ */

/* The keys of messages s->msgs[idx[i]], in the order loaded. keys[i]
 * borrows mem[i]; v[i] = &keys[i] until the caller reorders v. */
struct imap_sortset {
	struct imap_sort_msg *keys;
	struct buf *mem;
	const struct imap_sort_msg **v;
	size_t n;
};

/* Load keys for s->msgs[idx[i]] (number: the UID when uid, else the
 * sequence number). A message whose cache cannot be read or made sorts
 * with empty strings and its internal date. */
void imap_sortset_load(struct imap_session *s, const uint32_t *idx, size_t n,
		       bool uid, struct imap_sortset *out);
void imap_sortset_free(struct imap_sortset *ss);

/* ---- updating contexts (imap_context.c) ----------------------------- */

/* Is tag the tag of a live updating context (RFC 5267 4.3: reusing it
 * for another UPDATE is BAD)? */
bool imap_context_tag_active(const struct imap_session *s, struct span tag);

/* Keep an updating context for SEARCH (crit NULL) or SORT. program is
 * copied. The current result: SEARCH the indices idx[0..n) ascending;
 * SORT the keys in ss, sorted in ss->v (taken over: ss is left empty).
 * 0, or -1 when refused (RFC 5267 4.3.1), *why saying why, for the
 * caller's "* NO [NOUPDATE tag]". */
int imap_context_add(struct imap_session *s, struct span tag, bool uid,
		     const struct imap_search_key *program,
		     const struct imap_sort_criterion *crit, size_t n_crit,
		     const uint32_t *idx, size_t n, struct imap_sortset *ss,
		     const char **why);

/* imap_sync, before it tells of expunges: now[0..n_now) is the folder as
 * it is; messages of s->msgs not in it leave every context, told as
 * REMOVEFROM while their sequence numbers are still valid (RFC 5267
 * 4.3.4). */
void imap_context_expunging(struct imap_session *s, const struct imap_msg *now,
			    uint32_t n_now);
/* After EXISTS and flag changes were told (imap_sync's end, and before a
 * tagged reply for the session's own STORE): messages new or changed
 * since a context last looked are matched again and ADDTO / REMOVEFROM
 * told (RFC 5267 4.3.3). Cheap when nothing changed. */
void imap_context_update(struct imap_session *s);
/* CANCELUPDATE of one tag: 0, or -1 if no context has it. */
int imap_context_cancel(struct imap_session *s, struct span tag);
/* All of them (the folder is closed). */
void imap_context_free_all(struct imap_session *s);

#endif
