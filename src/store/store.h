/* store.h - petrel's mailbox store: metadata in SQLite (WAL), message
 * bodies in append-only blob segment files on the local file system.
 *
 * The durability contract: store_deliver_submit() completes with rc == 0
 * only after the message bytes and everything needed to index them (UIDs,
 * folders, size, date) are on stable storage, as one record of the
 * segments' write-ahead log (fdatasync). SQLite's index is updated right
 * after, without a sync; if a crash loses that update, store_open replays
 * it from the log before it returns. A delivery completes with rc == -1
 * only if its record can never be replayed, so a client that retries
 * does not get the message twice. Deliveries submitted by many sessions
 * at once are committed together by one committer thread (group commit),
 * so they share the sync. A message for several local recipients is
 * stored once and reference-counted.
 *
 * Threads: every call is thread-safe. Lookups use a read-only SQLite
 * connection of the calling thread; writes go through the committer
 * thread or (admin calls) a connection of their own. No caller sees SQL.
 */
#ifndef PETREL_STORE_H
#define PETREL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct store;

/* ---- open and close ---------------------------------------------------- */

/* Open (creating if needed) the store in directory dir: dir/petrel.db and
 * dir/blobs/. Recovers (replays the log past what SQLite holds), then
 * starts the committer and checkpointer threads. */
int store_open(const char *dir, struct store **store_out, struct err *err)
	__attribute__((warn_unused_result));
/* Open for administration and reading only (petrelctl): no lock, no
 * committer and no recovery (the log is petreld's), so it works while
 * petreld has the store open; deliveries are refused. Messages that are
 * in the log but not yet replayed are not visible through it. */
int store_open_admin(const char *dir, struct store **store_out,
		     struct err *err) __attribute__((warn_unused_result));
/* Finish pending deliveries, stop the committer, close; *sp = NULL. */
void store_close(struct store **sp);

/* ---- directory: domains and mailboxes ---------------------------------- */

/* Domain names are ASCII, compared case-insensitively; local parts are
 * compared case-insensitively for ASCII letters (RFC 5321 2.4 allows
 * case-sensitive local parts; hosted mail services never use that). */

/* 1 if domain is hosted here, 0 if not, -1 on store error. */
int store_domain_exists(struct store *st, const char *domain, struct err *err);

struct store_mailbox {
	int64_t id;
	char address[320];	/* local@domain as stored */
	uint64_t quota;		/* bytes; 0 = unlimited */
	uint64_t used;		/* bytes of messages stored */
	bool enabled;
};

/* Find mailbox local@domain. 1 found (*out filled), 0 no such mailbox,
 * -1 store error. */
int store_mailbox_find(struct store *st, const char *local, const char *domain,
		       struct store_mailbox *out, struct err *err);

int store_domain_add(struct store *st, const char *domain, struct err *err);
/* Create a mailbox with its special-use folders (INBOX, Sent, Drafts, Junk,
 * Trash, Archive). pw_hash is a crypt-style string (auth_password_hash()).
 * Error ERR_NOTFOUND if the domain is not hosted, 409-like ERR_PEER if the
 * mailbox exists. */
int store_mailbox_add(struct store *st, const char *local, const char *domain,
		      const char *pw_hash, uint64_t quota, int64_t *id_out,
		      struct err *err);
/* Copy the password hash of local@domain into out. 1/0/-1 as _find. */
int store_mailbox_password(struct store *st, const char *local,
			   const char *domain, char *out, size_t outsz,
			   struct err *err);
int store_mailbox_set_quota(struct store *st, const char *address,
			    uint64_t quota, struct err *err);
/* Call fn for each mailbox, ordered by address; stops early if fn != 0. */
int store_mailbox_each(struct store *st,
		       int (*fn)(const struct store_mailbox *mb, void *arg),
		       void *arg, struct err *err);

/* ---- folders and messages (read side, for admins and IMAP later) ------- */

enum store_special {
	STORE_SPECIAL_NONE = 0,
	STORE_SPECIAL_INBOX,
	STORE_SPECIAL_SENT,
	STORE_SPECIAL_DRAFTS,
	STORE_SPECIAL_JUNK,
	STORE_SPECIAL_TRASH,
	STORE_SPECIAL_ARCHIVE,
};

struct store_folder {
	int64_t id;
	char name[256];		/* "INBOX", "Sent", ... hierarchy with '/' */
	enum store_special special;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages;	/* count */
};

/* Message flags, as a bit set. */
#define STORE_FLAG_SEEN     0x01u
#define STORE_FLAG_ANSWERED 0x02u
#define STORE_FLAG_FLAGGED  0x04u
#define STORE_FLAG_DELETED  0x08u
#define STORE_FLAG_DRAFT    0x10u
#define STORE_FLAG_RECENT   0x20u

struct store_message {
	uint32_t uid;
	uint64_t size;
	int64_t internal_date;	/* Unix seconds */
	uint32_t flags;
	uint64_t modseq;
	int64_t blob_id;
};

int store_folder_each(struct store *st, int64_t mailbox_id,
		      int (*fn)(const struct store_folder *f, void *arg),
		      void *arg, struct err *err);
/* 1 found, 0 not, -1 error. */
int store_folder_find(struct store *st, int64_t mailbox_id, const char *name,
		      struct store_folder *out, struct err *err);
/* Messages of a folder in UID order. */
int store_message_each(struct store *st, int64_t folder_id,
		       int (*fn)(const struct store_message *m, void *arg),
		       void *arg, struct err *err);
/* Read a message's bytes into a new malloc'd buffer (*data_out, *len_out;
 * the caller frees). 1 found, 0 no such UID, -1 error. */
int store_message_read(struct store *st, int64_t folder_id, uint32_t uid,
		       unsigned char **data_out, size_t *len_out,
		       struct err *err);

/* ---- delivery (group commit) ------------------------------------------- */

struct store_delivery {
	/* filled by the caller; data must stay valid until done() runs */
	const unsigned char *data;
	size_t len;
	const int64_t *mailbox_ids;	/* each gets the message in INBOX */
	size_t n_mailboxes;
	int64_t internal_date;		/* Unix seconds */
	/* Called once, on the committer thread, when the delivery is durable
	 * (rc 0) or failed (rc -1, err says why: ERR_ENV -> 451 4.3.0). It
	 * must not block; typically it wakes the session's event loop. */
	void (*done)(struct store_delivery *d);
	void *arg;			/* for the caller */

	/* filled by the store before done() */
	int rc;
	struct err err;
	uint32_t *uids_out;		/* if not NULL: n_mailboxes UIDs */

	/* private to the store */
	struct store_delivery *next_;
};

/* Queue d for the next group commit. Returns 0 (done() will be called
 * exactly once) or -1 if the store is closing (done() not called). */
int store_deliver_submit(struct store *st, struct store_delivery *d,
			 struct err *err) __attribute__((warn_unused_result));
/* Submit and wait: for tools and tests. 0 when durable, -1 with err. */
int store_deliver_wait(struct store *st, struct store_delivery *d,
		       struct err *err) __attribute__((warn_unused_result));

/* ---- statistics ------------------------------------------------------- */

struct store_stats {
	uint64_t groups;	/* group commits done (each = one fsync set) */
	uint64_t deliveries;	/* deliveries committed */
	uint64_t failures;	/* deliveries failed */
	uint64_t bytes;		/* blob bytes written */
};
void store_get_stats(struct store *st, struct store_stats *out);

/* ---- integrity --------------------------------------------------------- */

/* Check that every message row points at a blob whose bytes are present
 * in its segment and whose reference count matches, that nothing is
 * indexed past the applied log position, and that every record between
 * that position and the end of the log is either indexed or absent from
 * the index (so that replay can put it there). Fills *problems_out with
 * the number found (0 = consistent). For `petrelctl store check` and the
 * crash tests; works while petreld runs. */
int store_check(struct store *st, uint64_t *problems_out, struct err *err);

#endif
