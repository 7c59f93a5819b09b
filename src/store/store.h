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
 * IMAP and POP3 change mail through the calls of "changing mail" below:
 * APPEND is a log record like a delivery; expunge, flags, copy, move and
 * folder changes are transactions of the committer (decision 0004).
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
#include "core/limits.h"

struct store;
struct store_append_req;

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
/* The directory the store was opened in, as this process sees it ("/"
 * inside petreld's chroot): where other files of the data directory
 * are (the filter's list files). 0, or -1 if outsz is too small. */
int store_dir_name(const struct store *st, char *out, size_t outsz);

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
/* The SCRAM-SHA-256 secret of local@domain (auth_scram_secret_make()'s
 * text; "" when none was stored) into out. 1/0/-1 as _find. */
int store_mailbox_scram(struct store *st, const char *local,
			const char *domain, char *out, size_t outsz,
			struct err *err);
int store_mailbox_set_scram(struct store *st, int64_t mailbox_id,
			    const char *secret, struct err *err);
/* The store's random key (64 hex digits, made once by the schema) for
 * the SCRAM salts shown to unknown users; "" if absent. 0 or -1. */
int store_scram_mock_key(struct store *st, char *out, size_t outsz,
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
	uint32_t unseen;	/* messages without \Seen */
	uint64_t size;		/* bytes of its messages (STATUS SIZE) */
	bool subscribed;	/* its name is in the subscriptions */
};

/* Message flags, as a bit set. */
#define STORE_FLAG_SEEN     0x01u
#define STORE_FLAG_ANSWERED 0x02u
#define STORE_FLAG_FLAGGED  0x04u
#define STORE_FLAG_DELETED  0x08u
#define STORE_FLAG_DRAFT    0x10u
#define STORE_FLAG_RECENT   0x20u	/* never stored (gone in IMAP4rev2) */
/* The flags the store keeps; others given to it are ignored. */
#define STORE_FLAGS_STORED  0x1fu

struct store_message {
	uint32_t uid;
	uint64_t size;
	int64_t internal_date;	/* Unix seconds */
	uint32_t flags;
	uint64_t modseq;
	int64_t blob_id;
	uint64_t keywords;	/* bit i: keyword i of the mailbox
				 * (store_keywords_get) */
};

int store_folder_each(struct store *st, int64_t mailbox_id,
		      int (*fn)(const struct store_folder *f, void *arg),
		      void *arg, struct err *err);
/* 1 found, 0 not, -1 error. */
int store_folder_find(struct store *st, int64_t mailbox_id, const char *name,
		      struct store_folder *out, struct err *err);
/* Messages of a folder in UID order, with flags, keywords and modseq:
 * one query, one read snapshot (SELECT of 10,000 messages). fn returning
 * non-zero stops early (still 0). */
int store_message_each(struct store *st, int64_t folder_id,
		       int (*fn)(const struct store_message *m, void *arg),
		       void *arg, struct err *err);
/* CONDSTORE (RFC 7162 3.1.4.1 CHANGEDSINCE): the messages of the folder
 * whose modseq is greater than modseq, in UID order; as _each. */
int store_message_changed_since(struct store *st, int64_t folder_id,
				uint64_t modseq,
				int (*fn)(const struct store_message *m,
					  void *arg),
				void *arg, struct err *err);
/* QRESYNC (RFC 7162 3.2.5.2, VANISHED): UIDs expunged from the folder
 * with a modseq greater than modseq, ascending. Kept for the folder's
 * life (a client that resyncs from modseq 0 learns everything). */
int store_vanished_since(struct store *st, int64_t folder_id,
			 uint64_t modseq,
			 int (*fn)(uint32_t uid, void *arg), void *arg,
			 struct err *err);
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
	/* optional, set by the caller like data: the parse cache of the
	 * message (see store_meta_put), indexed with it, not logged; at most
	 * STORE_META_MAX bytes, else left out */
	const void *meta;
	size_t meta_len;

	/* optional: recipients in other domains, queued for the outbound
	 * runner in the same record as the local copies (src/queue/) */
	const struct store_queue_env *queue;
	/* optional: the local copies go to each mailbox's \Junk folder
	 * (INBOX for a mailbox without one): a quarantine verdict */
	bool junk;

	/* private to the store (a zeroed delivery is an SMTP one) */
	struct store_delivery *next_;
	struct store_append_req *append_;	/* APPEND: its folder, flags, ... */
	unsigned char *qext_;			/* queue: the encoded envelope */
	size_t qext_len_;
	bool quarantine_;	/* qext_ is a quarantine entry (store_quar.c) */
	uint64_t seq_;		/* its log record's sequence number */
};

/* The envelope of a delivery's remote recipients. Strings are copied
 * by store_deliver_submit; the caller may free them once it returns. */
#define STORE_QUEUE_SMTPUTF8 0x01u	/* needs SMTPUTF8 (RFC 6531) */
#define STORE_QUEUE_8BIT     0x02u	/* BODY=8BITMIME */
#define STORE_QUEUE_RET_FULL 0x04u	/* DSN RET=FULL (default HDRS) */
#define STORE_QUEUE_BOUNCE   0x08u	/* a DSN we made: never bounced */
#define STORE_QUEUE_NOTIFY_NEVER 0x01u	/* per recipient (RFC 3461) */
#define STORE_QUEUE_NOTIFY_SUCCESS 0x02u
#define STORE_QUEUE_NOTIFY_FAILURE 0x04u
#define STORE_QUEUE_NOTIFY_DELAY 0x08u
struct store_queue_env {
	const char *sender;		/* "" for the null sender */
	const char *const *rcpts;	/* addresses, local@domain */
	size_t n_rcpts;
	uint32_t flags;			/* STORE_QUEUE_* */
	const char *envid;		/* RFC 3461 ENVID, or NULL */
	const uint8_t *notify;		/* per recipient, or NULL: default */
	const char *const *orcpts;	/* ORCPT per recipient, or NULL */
	int64_t owner_id;		/* submitting mailbox, 0 if none */
};

/* Queue d for the next group commit. Returns 0 (done() will be called
 * exactly once) or -1 if the store is closing or d is malformed (too
 * many or too long queue recipients; done() not called). A delivery may
 * have no local mailbox when it has queue recipients. */
int store_deliver_submit(struct store *st, struct store_delivery *d,
			 struct err *err) __attribute__((warn_unused_result));
/* Submit and wait: for tools and tests. 0 when durable, -1 with err. */
int store_deliver_wait(struct store *st, struct store_delivery *d,
		       struct err *err) __attribute__((warn_unused_result));

/* ---- changing mail (IMAP, POP3) ---------------------------------------
 *
 * Every call below is synchronous and thread-safe: it queues a job for
 * the committer thread (the only writer of messages and of folders'
 * UIDNEXT / HIGHESTMODSEQ, so UIDs and mod-sequences stay strictly
 * increasing and consistent with the log) and waits for its commit. Do
 * not call them from an event loop that must not block: from a helper
 * thread, or accept the wait (it is one group commit, ~1 ms).
 *
 * Durability (decision 0004): APPEND is a log record like a delivery and
 * COPY / MOVE are committed with a WAL sync, so a 0 return survives a
 * crash. Expunge, flag and folder changes are committed the same way:
 * once the call returned 0 they survive too; a crash before that leaves
 * each wholly applied or wholly absent, never half. A message is never
 * lost by the expunge of another.
 *
 * Errors: ERR_NOTFOUND (no such folder / mailbox), ERR_PEER (a bad name,
 * keyword or request: the client's fault, IMAP NO/BAD), ERR_LIMIT (quota,
 * too many keywords or UIDs), ERR_ENV (451 4.3.0: disk or database;
 * nothing changed, retry later).
 */

/* The most keywords a mailbox has (a message keeps them as a 64-bit
 * set); a keyword name is an IMAP atom without '\\' of at most
 * STORE_KEYWORD_LEN bytes, compared case-insensitively (ASCII). */
#define STORE_KEYWORDS_MAX 64
#define STORE_KEYWORD_LEN 100

/* Remove the messages with these UIDs from the folder (UIDs that do not
 * exist are ignored, duplicates are harmless), decrement their blobs'
 * reference counts (a blob at 0 stays until compaction), subtract their
 * sizes from the mailbox's used bytes, raise the folder's HIGHESTMODSEQ
 * once and record each removed UID with that modseq for
 * store_vanished_since. *modseq_out (may be NULL): that modseq, or 0 if
 * none of the UIDs existed (then nothing changed). All or nothing. */
int store_expunge(struct store *st, int64_t folder_id, const uint32_t *uids,
		  size_t n, uint64_t *modseq_out, struct err *err)
	__attribute__((warn_unused_result));

enum store_flags_op {
	STORE_FLAGS_SET = 0,	/* FLAGS: replace */
	STORE_FLAGS_ADD,	/* +FLAGS */
	STORE_FLAGS_REMOVE,	/* -FLAGS */
};

enum store_flags_status {
	STORE_FLAGS_CHANGED = 0,	/* new flags, new modseq */
	STORE_FLAGS_SAME,		/* already so: modseq unchanged */
	STORE_FLAGS_MODIFIED,		/* UNCHANGEDSINCE failed (RFC 7162
					 * 3.1.3): not changed */
	STORE_FLAGS_NOSUCH,		/* no message with that UID */
};

struct store_flags_result {
	uint32_t uid;
	enum store_flags_status status;
	uint32_t flags;		/* after (or as they are), not NOSUCH */
	uint64_t keywords;	/* bit set, as store_message */
	uint64_t modseq;	/* the message's modseq after */
};

/* STORE (RFC 9051 6.4.6) on the messages with these UIDs: op applies
 * flags (STORE_FLAGS_STORED bits; others are ignored) and the keywords
 * (names; SET replaces the message's keywords by these). With
 * unchanged_since != 0 (CONDSTORE), a message whose modseq is greater is
 * left alone and reported MODIFIED (0 means no test: for the IMAP
 * UNCHANGEDSINCE 0, every existing message is MODIFIED without a call). Each message that changes gets its
 * own new modseq, in the order of uids, and the folder's HIGHESTMODSEQ
 * follows. results (may be NULL): n entries, one per uids[i]. A new
 * keyword name is added to the mailbox (ERR_LIMIT past
 * STORE_KEYWORDS_MAX; ERR_PEER for a name that is not an atom). */
int store_flags_update(struct store *st, int64_t folder_id,
		       const uint32_t *uids, size_t n, enum store_flags_op op,
		       uint32_t flags, const char *const *keywords,
		       size_t n_keywords, uint64_t unchanged_since,
		       struct store_flags_result *results, struct err *err)
	__attribute__((warn_unused_result));

/* The keyword names of a mailbox, by bit (PERMANENTFLAGS, FETCH FLAGS). */
struct store_keywords {
	uint64_t defined;	/* bit i set: name[i] is a keyword */
	char name[STORE_KEYWORDS_MAX][STORE_KEYWORD_LEN + 1];
};
int store_keywords_get(struct store *st, int64_t mailbox_id,
		       struct store_keywords *out, struct err *err);

/* APPEND (RFC 9051 6.3.12): a message into a folder, through the group
 * commit exactly as a delivery (one log record, durable before done()
 * or the return), with its flags and keywords in the record so that
 * replay restores them. meta (may be NULL) is the caller's parse cache
 * for the message (see store_meta_put), stored with it but not logged.
 * The mailbox's quota is checked by the committer, counting the appends
 * and deliveries committed before it in the same group: over it, the
 * append fails with ERR_LIMIT, reply 552, "5.2.2" (IMAP OVERQUOTA) and
 * nothing is logged. SMTP deliveries are not held to it here (RCPT and
 * DATA decide, with one message of grace). */
struct store_append_req {
	/* filled by the caller; data, keywords and meta must stay valid
	 * until the append completes */
	int64_t folder_id;
	const unsigned char *data;
	size_t len;
	uint32_t flags;			/* STORE_FLAG_* */
	const char *const *keywords;
	size_t n_keywords;
	int64_t internal_date;		/* Unix seconds */
	const void *meta;
	size_t meta_len;		/* at most STORE_META_MAX */
	/* For store_append_submit: called once on the committer thread
	 * when done (rc 0 durable, -1 with err); must not block. */
	void (*done)(struct store_append_req *a);
	void *arg;

	/* filled by the store */
	int rc;
	struct err err;
	uint32_t uid;
	uint32_t uidvalidity;		/* for APPENDUID (RFC 4315) */
	uint64_t modseq;

	/* private to the store */
	unsigned char *ext_;
	size_t ext_len_;
	int64_t mailbox_id_;
	struct store_delivery d_;
};

/* Queue a for the next group commit. 0 (done() is called exactly once)
 * or -1 (not queued: bad flags/keywords, no such folder, or closing). */
int store_append_submit(struct store *st, struct store_append_req *a,
			struct err *err) __attribute__((warn_unused_result));
/* MULTIAPPEND (RFC 3502): submit all n (their done/arg are used by the
 * store) and wait for all. If any fails, those that were stored are
 * expunged again, so that none is appended (RFC 3502 3), and -1 with the
 * first error. */
int store_append_many(struct store *st, struct store_append_req *a, size_t n,
		      struct err *err) __attribute__((warn_unused_result));
/* One message; *uid_out (may be NULL) gets its UID. */
int store_append(struct store *st, int64_t folder_id, const void *data,
		 size_t len, uint32_t flags, const char *const *keywords,
		 size_t n_keywords, int64_t internal_date, uint32_t *uid_out,
		 struct err *err) __attribute__((warn_unused_result));

/* COPY (RFC 9051 6.4.7): each existing message of uids gets a new UID in
 * dst_folder (same blob, refcount + 1, flags, keywords and internal date
 * kept; the destination's used bytes grow; quota checked: ERR_LIMIT).
 * uid_map_out (may be NULL): n entries, the new UID of uids[i] or 0 if
 * uids[i] did not exist (COPYUID, RFC 4315, lists only the non-zero).
 * *uidvalidity_out (may be NULL): the destination's. Folders must be of
 * the same mailbox. uids must not repeat (a UID given twice is copied
 * twice; an IMAP sequence set expands without repeats). Durable on
 * return. */
int store_copy(struct store *st, int64_t src_folder, const uint32_t *uids,
	       size_t n, int64_t dst_folder, uint32_t *uid_map_out,
	       uint32_t *uidvalidity_out, struct err *err)
	__attribute__((warn_unused_result));
/* MOVE (RFC 6851): copy, then expunge from src, in one transaction: a
 * crash leaves the messages in exactly one of the two folders. No quota
 * check (the mailbox does not grow). *modseq_out (may be NULL): the
 * source's expunge modseq (0 if nothing moved). */
int store_move(struct store *st, int64_t src_folder, const uint32_t *uids,
	       size_t n, int64_t dst_folder, uint32_t *uid_map_out,
	       uint32_t *uidvalidity_out, uint64_t *modseq_out,
	       struct err *err) __attribute__((warn_unused_result));

/* Folder names: UTF-8 (an IMAP server converts modified UTF-7), '/'
 * separates levels; no empty, "." or ".." level, no control characters,
 * no '%' or '*' (LIST wildcards), at most STORE_FOLDER_NAME_MAX bytes and
 * STORE_FOLDER_DEPTH_MAX levels. A first level that is "INBOX" in any
 * case means INBOX (RFC 9051 5.1). */
#define STORE_FOLDER_NAME_MAX 255
#define STORE_FOLDER_DEPTH_MAX 32
/* 0 if name is valid, else -1 with ERR_PEER saying why. */
int store_folder_name_check(const char *name, struct err *err);

/* CREATE (RFC 9051 6.3.4): the folder and any missing parents (plain
 * folders, new UIDVALIDITY each). special: a special use the mailbox has
 * not got yet (RFC 6154 CREATE-SPECIAL-USE), or NONE. ERR_PEER if it
 * exists. *id_out (may be NULL): its id. */
int store_folder_create(struct store *st, int64_t mailbox_id,
			const char *name, enum store_special special,
			int64_t *id_out, struct err *err)
	__attribute__((warn_unused_result));
/* DELETE (RFC 9051 6.3.5): the folder and its messages (expunged as by
 * store_expunge); its children stay. INBOX cannot be deleted (ERR_PEER).
 * Its subscription stays (RFC 9051 6.3.9). */
int store_folder_delete(struct store *st, int64_t mailbox_id,
			const char *name, struct err *err)
	__attribute__((warn_unused_result));
/* RENAME (RFC 9051 6.3.6): the folder and its children to the new name,
 * creating missing parents of it; UIDVALIDITY and UIDs stay. ERR_PEER if
 * the new name exists. Renaming INBOX instead moves all its messages
 * into a new folder of that name (new UIDVALIDITY, same UIDs) and leaves
 * INBOX empty; INBOX's children do not move. */
int store_folder_rename(struct store *st, int64_t mailbox_id,
			const char *from, const char *to, struct err *err)
	__attribute__((warn_unused_result));
/* SUBSCRIBE / UNSUBSCRIBE (RFC 9051 6.3.7-8): any valid name, existing
 * or not. Unsubscribing a name not subscribed is not an error. */
int store_subscribe(struct store *st, int64_t mailbox_id, const char *name,
		    bool on, struct err *err) __attribute__((warn_unused_result));
/* Subscribed names, sorted (bytewise). */
int store_subscription_each(struct store *st, int64_t mailbox_id,
			    int (*fn)(const char *name, void *arg), void *arg,
			    struct err *err);

/* ---- the parse cache --------------------------------------------------- */

/* Opaque bytes per message (ENVELOPE and BODYSTRUCTURE computed by the
 * MIME parser), kept per blob so that copies share them. A cache: it may
 * be missing (never put, or lost in a crash with its commit) and the
 * caller then parses again and puts it. At most STORE_META_MAX bytes. */
#define STORE_META_MAX (256u * 1024)
/* 1 and a malloc'd copy (*data_out, *len_out; caller frees), 0 if there
 * is none or no such message, -1 error. Does not wait for the committer. */
int store_meta_get(struct store *st, int64_t folder_id, uint32_t uid,
		   unsigned char **data_out, size_t *len_out,
		   struct err *err);
/* Every message of the folder that has one, in UID order, in one read
 * snapshot: fn(uid, data, len, arg) with data valid during the call only
 * (SEARCH over a folder's cached headers). Messages without one are not
 * visited. fn returning non-zero stops early (still 0). */
int store_meta_each(struct store *st, int64_t folder_id,
		    int (*fn)(uint32_t uid, const unsigned char *data,
			      size_t len, void *arg),
		    void *arg, struct err *err);
/* Store (replace) it; ERR_NOTFOUND if no such message, ERR_LIMIT if too
 * large. Not synced (a cache). */
int store_meta_put(struct store *st, int64_t folder_id, uint32_t uid,
		   const void *data, size_t len, struct err *err);

/* ---- the outbound queue ------------------------------------------------
 *
 * A delivery with remote recipients (store_delivery.queue) becomes, in
 * the same log record as its local copies, one queue entry: the message
 * (its blob, referenced once by the queue), the envelope, and one row per
 * recipient with its state. Durable before done() like any delivery.
 * A recipient leaves the queue when it is delivered, bounced or deleted;
 * the entry (and its blob reference) when its last recipient leaves.
 * The runner (src/queue/) changes rows through store_queue_update, a
 * durable committer job; administrators through the other calls, which
 * work from petrelctl (store_open_admin) while petreld runs.
 */
#define STORE_QUEUE_REPLY_MAX 1024	/* last reply kept per recipient */

enum store_queue_state {
	STORE_QR_PENDING = 0,	/* due at next_try */
	STORE_QR_BOUNCE = 1,	/* to be bounced now (admin, or expiry) */
};

struct store_queue_msg {
	int64_t id;
	int64_t blob_id;
	char sender[320];
	char envid[101];
	int64_t created;	/* Unix seconds, arrival */
	uint64_t size;
	uint32_t flags;		/* STORE_QUEUE_* */
	bool held;		/* not tried until released */
	int64_t owner_id;
	unsigned n_rcpts;	/* recipients still queued */
	int64_t next_try;	/* earliest of its recipients */
};

struct store_queue_rcpt {
	int64_t queue_id;
	uint32_t idx;		/* index in the envelope */
	char addr[320];
	char orcpt[320];	/* "" if none */
	uint8_t notify;		/* STORE_QUEUE_NOTIFY_*, 0 default */
	enum store_queue_state state;
	unsigned attempts;
	int64_t next_try;
	int64_t last_try;	/* 0: never tried */
	bool delay_notified;
	char last_reply[STORE_QUEUE_REPLY_MAX];
};

/* A place in the order of due recipients (next_try, entry, index). */
struct store_queue_pos {
	int64_t next_try;
	int64_t id;
	uint32_t idx;
};
/* The recipients due at now (next_try <= now, entry not held; BOUNCE
 * ones have next_try 0 and come first, held or not) that come after
 * *after in (next_try, entry, index) order, at most max: fn(msg, rcpt,
 * arg) for each; *after moves to the last one visited (so a scan goes on
 * from there; start from all zeros; fewer than max visited means the
 * end). In msg, n_rcpts and next_try are not filled. fn != 0 stops
 * early. *next_out (may be NULL): the earliest next_try later than now
 * of a recipient of a not held entry, 0 if none. */
int store_queue_due(struct store *st, int64_t now,
		    struct store_queue_pos *after, size_t max,
		    int (*fn)(const struct store_queue_msg *m,
			      const struct store_queue_rcpt *r, void *arg),
		    void *arg, int64_t *next_out, struct err *err);
/* Every entry, oldest first (petrelctl queue list). */
int store_queue_each(struct store *st,
		     int (*fn)(const struct store_queue_msg *m, void *arg),
		     void *arg, struct err *err);
/* One entry and its recipients: 1 found, 0 not, -1 error. rcpt_fn may
 * be NULL. */
int store_queue_get(struct store *st, int64_t id, struct store_queue_msg *out,
		    int (*rcpt_fn)(const struct store_queue_rcpt *r, void *arg),
		    void *arg, struct err *err);
/* The entry's message bytes (malloc'd; the caller frees). 1/0/-1. */
int store_queue_read(struct store *st, int64_t id, unsigned char **data_out,
		     size_t *len_out, struct err *err);
/* Totals for logs and monitoring. */
struct store_queue_stats {
	uint64_t entries, rcpts, held, bytes;
	int64_t oldest;		/* created of the oldest entry, 0 if none */
};
int store_queue_stats(struct store *st, struct store_queue_stats *out,
		      struct err *err);

enum store_queue_outcome_kind {
	STORE_QO_REMOVE = 0,	/* delivered, bounced or given up: leaves */
	STORE_QO_RETRY,		/* tried: attempts+1, next_try, reply */
	STORE_QO_DELAY_NOTIFIED,/* a delay DSN was sent */
};
struct store_queue_outcome {
	int64_t queue_id;
	uint32_t idx;
	enum store_queue_outcome_kind kind;
	int64_t next_try;	/* RETRY */
	int64_t tried;		/* RETRY: when */
	const char *reply;	/* RETRY: the reply (may be NULL) */
};
/* Apply n outcomes in one durable committer job (rows already gone are
 * skipped: an administrator deleted them meanwhile). */
int store_queue_update(struct store *st, const struct store_queue_outcome *o,
		       size_t n, struct err *err)
	__attribute__((warn_unused_result));

/* Administration. Each: 1 done, 0 no such entry, -1 error. They write
 * with a connection of their own (not the committer), so they also work
 * from petrelctl while petreld runs; the runner sees the change on its
 * next scan (at most a second later). */
int store_queue_hold(struct store *st, int64_t id, bool hold, struct err *err);
/* Every recipient due now. */
int store_queue_retry(struct store *st, int64_t id, struct err *err);
/* Every recipient to be bounced now with reply as the reason. */
int store_queue_bounce(struct store *st, int64_t id, const char *reply,
		       struct err *err);
/* Remove the entry without a bounce. */
int store_queue_delete(struct store *st, int64_t id, struct err *err);

/* Call fn(arg) on the committer thread after each group commit that
 * queued recipients (the runner's wake-up; it must only wake a loop).
 * One at a time; fn NULL stops it. */
void store_queue_notify_set(struct store *st, void (*fn)(void *arg),
			    void *arg);

/* ---- admin API tokens (store_token.c) ----------------------------------
 *
 * Bearer tokens of the REST API (src/http/). The store keeps only the
 * SHA-256 of each token; the token itself is shown once when made. Admin
 * writes with a connection of their own, so they work from petrelctl
 * while petreld runs.
 */
#define STORE_TOKEN_HASH_LEN 32
#define STORE_TOKEN_NAME_MAX 64		/* bytes, without the NUL */

struct store_token {
	int64_t id;
	char name[STORE_TOKEN_NAME_MAX + 1];
	char domain[256];	/* "" = global; else the one domain it may see */
	unsigned char hash[STORE_TOKEN_HASH_LEN];
	int64_t created;	/* Unix seconds */
	int64_t last_used;	/* 0 = never */
	char last_ip[64];
	bool revoked;
};

/* Add a token: name printable ASCII, 1-64 bytes; domain "" or a hosted
 * domain (ERR_NOTFOUND if not). *id_out = its id. */
int store_token_add(struct store *st, const char *name, const char *domain,
		    const unsigned char hash[STORE_TOKEN_HASH_LEN],
		    int64_t *id_out, struct err *err)
	__attribute__((warn_unused_result));
/* The token with this hash, revoked or not: 1 found, 0 not, -1 error. */
int store_token_find(struct store *st,
		     const unsigned char hash[STORE_TOKEN_HASH_LEN],
		     struct store_token *out, struct err *err);
/* Every token, by id. fn != 0 stops early. */
int store_token_each(struct store *st,
		     int (*fn)(const struct store_token *t, void *arg),
		     void *arg, struct err *err);
/* Revoke for good: 1 done (or already revoked), 0 no such id, -1 error. */
int store_token_revoke(struct store *st, int64_t id, struct err *err);
/* Record a use: when and from which address (not synced: a hint). */
int store_token_touch(struct store *st, int64_t id, int64_t now,
		      const char *ip, struct err *err);

/* ---- change notification ------------------------------------------------ */

struct store_watch;
/* Call fn(arg, mailbox_id, folder_id) on the committer thread after each
 * commit that changed a folder of mailbox_id: new messages (SMTP, APPEND,
 * COPY, MOVE), expunges, flags; folder_id 0 when the folder list changed
 * (create, delete, rename). fn must only wake an event loop (as
 * event_active): no store calls, no blocking, no store_unwatch. Calls may
 * be coalesced per commit. *w_out is the handle for store_unwatch. */
int store_watch(struct store *st, int64_t mailbox_id,
		void (*fn)(void *arg, int64_t mailbox_id, int64_t folder_id),
		void *arg, struct store_watch **w_out, struct err *err);
/* Stop watching; when it returns fn is not running and will not be
 * called again with that arg. *wp = NULL. Not from inside fn. */
void store_unwatch(struct store *st, struct store_watch **wp);

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

/* ---- tenants: domains, plans, aliases, groups (decision 0022) ---------
 *
 * Addresses are stored with the domain's IDNA A-label ("xn--..."); the
 * calls below that take a domain also accept its Unicode form and
 * convert it (libidn2, IDNA2008 non-transitional). Errors: ERR_PEER a
 * bad name or value, ERR_NOTFOUND no such domain / mailbox / alias,
 * ERR_LIMIT a plan limit, ERR_ENV the store.
 */

#define STORE_ADDR_MAX 320	/* local@domain, with room (as mailbox) */

enum store_domain_status {
	STORE_DOMAIN_ACTIVE = 0,
	STORE_DOMAIN_SUSPENDED = 1,
};

struct store_domain {
	int64_t id;
	char name[SMTP_DOMAIN_MAX + 1];	/* A-label form */
	char unicode[SMTP_DOMAIN_MAX * 4 + 1]; /* U-label form */
	enum store_domain_status status;	/* of the target for an alias */
	uint32_t max_mailboxes;			/* plan */
	uint64_t mailbox_quota;			/* default for new, 0 = config */
	uint64_t domain_quota;			/* total, 0 = unlimited */
	char alias_of[SMTP_DOMAIN_MAX + 1];	/* "" unless a domain alias */
	char catchall[STORE_ADDR_MAX + 1];	/* "" = none */
	int64_t created;			/* Unix seconds */
	uint32_t mailboxes;			/* count now */
	uint64_t used;				/* bytes of all its mailboxes */
};

/* name (A-label or Unicode) into both forms, lower case. 0 or -1
 * (ERR_PEER: not a valid domain name). */
int store_domain_idna(const char *name, char *ascii, size_t asciisz,
		      char *unicode, size_t unicodesz, struct err *err);
/* Add a hosted domain (name in either form) or, with alias_of != NULL,
 * a domain alias: every address local@name then means local@alias_of
 * (which must be a hosted domain, not itself an alias). ascii_out (may
 * be NULL, SMTP_DOMAIN_MAX + 1 bytes) gets the stored name. */
int store_domain_create(struct store *st, const char *name,
			const char *alias_of, char *ascii_out,
			struct err *err);
/* 1 found (*out), 0 no such domain, -1 error. */
int store_domain_get(struct store *st, const char *name,
		     struct store_domain *out, struct err *err);
int store_domain_each(struct store *st,
		      int (*fn)(const struct store_domain *d, void *arg),
		      void *arg, struct err *err);
/* Plan: max_mailboxes in [STORE_PLAN_MAILBOXES_MIN,
 * STORE_PLAN_MAILBOXES_MAX] and not below the mailboxes it has. */
int store_domain_set_plan(struct store *st, const char *name,
			  uint32_t max_mailboxes, uint64_t mailbox_quota,
			  uint64_t domain_quota, struct err *err);
int store_domain_set_status(struct store *st, const char *name,
			    enum store_domain_status status, struct err *err);
/* Catch-all: mail to unknown addresses of the domain goes to address
 * ("" or NULL: none). */
int store_domain_set_catchall(struct store *st, const char *name,
			      const char *address, struct err *err);

struct store_mailbox_info {
	struct store_mailbox mb;
	char display_name[256];
	char forward[STORE_ADDR_MAX + 1];	/* "" = none */
	int64_t created;
};
/* 1/0/-1 as store_mailbox_find; address is local@domain. */
int store_mailbox_info(struct store *st, const char *address,
		       struct store_mailbox_info *out, struct err *err);
int store_mailbox_set_enabled(struct store *st, const char *address,
			      bool enabled, struct err *err);
/* Forwarding: a copy of every message also goes to target (local or
 * external; "" or NULL: off). The mailbox keeps its own copy. */
int store_mailbox_set_forward(struct store *st, const char *address,
			      const char *target, struct err *err);
int store_mailbox_set_display_name(struct store *st, const char *address,
				   const char *name, struct err *err);
/* Replace the password hash (a crypt-style "$argon2id$..." string) of
 * address; audited as "mailbox.password" (store_passwd.c). */
int store_mailbox_set_password(struct store *st, const char *address,
			       const char *pw_hash, struct err *err);

/* What a removal took away (store_remove.c). */
struct store_removed {
	int64_t mailboxes, aliases, messages, bytes;
};
/* Remove a mailbox with all its mail, app passwords, group memberships,
 * alias targets and catch-all naming it; audited "mailbox.remove".
 * ERR_NOTFOUND if there is none. out may be NULL. */
int store_mailbox_remove(struct store *st, const char *address,
			 struct store_removed *out, struct err *err);
/* Remove a domain. Without force, one with mailboxes, aliases, groups or
 * domain aliases is refused (ERR_PEER, saying what it has); with force
 * all of them go too, and API tokens scoped to it are revoked. A domain
 * alias is removed alone. Audited "domain.remove". */
int store_domain_remove(struct store *st, const char *name, bool force,
			struct store_removed *out, struct err *err);

enum store_alias_kind {
	STORE_ALIAS = 0,	/* address -> targets */
	STORE_GROUP = 1,	/* distribution list with a posting policy */
};
enum store_post_policy {
	STORE_POST_ANYONE = 0,
	STORE_POST_MEMBERS = 1,	/* MAIL FROM is a member */
	STORE_POST_SENDERS = 2,	/* MAIL FROM is a listed sender */
};
enum store_target_kind {
	STORE_TARGET_MEMBER = 0,	/* a target of an alias, a member */
	STORE_TARGET_SENDER = 1,	/* may post to / send as a group */
};

struct store_alias {
	int64_t id;
	char address[STORE_ADDR_MAX + 1];
	enum store_alias_kind kind;
	enum store_post_policy post;
	size_t n_targets;			/* members and senders */
	char (*targets)[STORE_ADDR_MAX + 1];	/* owned by the store */
	enum store_target_kind *target_kinds;
};

/* Create an alias or a group at address (its domain hosted, not a
 * domain alias; no mailbox there) with n targets (an alias needs at
 * least one; at most STORE_ALIAS_TARGETS_MAX). Targets are addresses,
 * local or external. ERR_PEER if the address is taken. */
int store_alias_add(struct store *st, const char *address,
		    enum store_alias_kind kind, enum store_post_policy post,
		    const char *const *targets, size_t n, struct err *err);
/* Remove an alias or group with its targets. */
int store_alias_remove(struct store *st, const char *address,
		       struct err *err);
/* Add or remove one target / member / sender of an alias or group. */
int store_alias_target(struct store *st, const char *address,
		       enum store_target_kind kind, const char *target,
		       bool add, struct err *err);
/* The aliases (kind STORE_ALIAS), groups (STORE_GROUP) or both (-1) of
 * domain (NULL: all), ordered by address, each with its targets (valid
 * only during fn). */
int store_alias_each(struct store *st, const char *domain, int kind,
		     int (*fn)(const struct store_alias *a, void *arg),
		     void *arg, struct err *err);
/* 1 found (*out filled; free with store_alias_free), 0, -1. */
int store_alias_get(struct store *st, const char *address,
		    struct store_alias *out, struct err *err);
void store_alias_free(struct store_alias *a);

/* ---- recipient resolution (inbound SMTP) ------------------------------ */

enum store_resolve_status {
	STORE_RESOLVE_OK = 0,		/* targets filled */
	STORE_RESOLVE_NOT_HOSTED,	/* the domain is not ours */
	STORE_RESOLVE_UNKNOWN,		/* no such address (550 5.1.1) */
	STORE_RESOLVE_DISABLED,		/* suspended mailbox or domain */
	STORE_RESOLVE_POLICY,		/* the group refuses this sender */
	STORE_RESOLVE_LOOP,		/* a loop, too deep or too many */
};

struct store_target {
	int64_t mailbox_id;		/* 0: an external address */
	uint64_t quota, used;		/* the mailbox's (0 = unlimited) */
	uint64_t domain_quota, domain_used;	/* its domain's */
	char addr[STORE_ADDR_MAX + 1];	/* the mailbox's or the external */
};

struct store_resolved {
	enum store_resolve_status status;
	struct store_target *targets;	/* n, malloc'd: store_resolved_free */
	size_t n;
	char why[400];			/* for POLICY / LOOP: reply text */
};

/* Where mail for local@domain goes (domain in either form; "" means the
 * first hosted domain, for RFC 5321's bare <Postmaster>): through a
 * domain alias, then the mailbox, then an alias, then a group (whose
 * posting policy is checked against sender, "" for the null sender),
 * then the catch-all; postmaster with none of these reaches the
 * domain's first mailbox. Targets expand recursively (aliases, groups,
 * forwarding) up to STORE_EXPAND_DEPTH hops and STORE_EXPAND_MAX
 * addresses; each mailbox and external address appears once; disabled
 * mailboxes inside a group are skipped. 0 (out->status says) or -1
 * (store error). */
int store_resolve(struct store *st, const char *local, const char *domain,
		  const char *sender, struct store_resolved *out,
		  struct err *err);
void store_resolved_free(struct store_resolved *r);

/* 1 if user (a mailbox address) may send as addr through an alias that
 * delivers to them, a group that lets them (listed sender, or member of
 * a members-only group), or the same local part at a domain alias of
 * their domain; 0 if not; -1 error. */
int store_may_send_as(struct store *st, const char *user, const char *addr,
		      struct err *err);
/* ---- credentials: app passwords, TOTP, two-factor policy (store_cred.c)
 * The store keeps what auth computes: app passwords as a keyed hash
 * (auth_app_password_hash with the key of store_app_password_key), TOTP
 * secrets as base32 text. Changes are audited (store_audit_*). Calls
 * naming a mailbox by address fail ERR_NOTFOUND "no such mailbox". */

#define STORE_APP_PASSWORD_NAME_MAX 64	/* octets of a device name */
#define STORE_APP_PASSWORD_HASH_LEN 32
#define STORE_TOTP_SECRET_MAX 64	/* base32 text of a secret */

struct store_app_password {
	int64_t id;
	char name[STORE_APP_PASSWORD_NAME_MAX + 1];
	int64_t created;
	int64_t last_used;	/* 0: never */
	char last_ip[64];	/* "" never */
	int64_t revoked;	/* time revoked, 0: valid */
};

/* The store's random key for app password hashes (32 bytes). 0 or -1. */
int store_app_password_key(struct store *st, unsigned char key[32],
			   struct err *err);
/* Add an app password (its hash) named name (1 to NAME_MAX printable
 * UTF-8 octets, no control characters) to address; *id_out its id. */
int store_app_password_add(struct store *st, const char *address,
			   const char *name,
			   const unsigned char hash[STORE_APP_PASSWORD_HASH_LEN],
			   int64_t *id_out, struct err *err);
/* Call fn for each app password of address (revoked ones too), by id. */
int store_app_password_each(struct store *st, const char *address,
			    int (*fn)(const struct store_app_password *ap,
				      void *arg),
			    void *arg, struct err *err);
/* Revoke app password id of address: logins with it fail from now on.
 * ERR_NOTFOUND if it has no such valid app password. */
int store_app_password_revoke(struct store *st, const char *address,
			      int64_t id, struct err *err);
/* For logins: 1 and *id_out if mailbox_id has a valid app password of
 * this hash, 0 if not, -1 store error. */
int store_app_password_match(struct store *st, int64_t mailbox_id,
			     const unsigned char hash[STORE_APP_PASSWORD_HASH_LEN],
			     int64_t *id_out, struct err *err);

/* The TOTP secret (base32, "" when 2FA is off) of address and the last
 * time step a code was taken for. 0 or -1. */
int store_totp_get(struct store *st, const char *address, char *secret,
		   size_t secretsz, int64_t *last_step_out, struct err *err);
/* Set (secret non-empty: enable) or clear ("": disable) the secret. */
int store_totp_set(struct store *st, const char *address,
		   const char *secret, struct err *err);
/* Take time step step for address: 1 if it is later than any taken
 * before (the code may be accepted), 0 if not (a replay), -1 error. */
int store_totp_use(struct store *st, const char *address, int64_t step,
		   struct err *err);

/* 1 if domain requires two-factor authentication (mail clients must use
 * app passwords), 0 if not or not hosted, -1 store error. */
int store_domain_2fa(struct store *st, const char *domain, struct err *err);
int store_domain_set_2fa(struct store *st, const char *domain, bool on,
			 struct err *err);

/* ---- the audit log (store_audit.c) ------------------------------------
 * Append-only and hash-chained: entry n carries hash(n - 1) as prev and
 * hash(n) = SHA-256 over prev and its own fields in a canonical form
 * (decision 0021), so that editing, deleting or reordering any entry but
 * the newest breaks verification. Admin calls of the store append their
 * own entries (domain, mailbox, quota, queue, credentials); logins go
 * through store_audit_login, which queues and returns at once. */

#define STORE_AUDIT_FIELD_MAX 320	/* octets of actor, subject, detail */

struct store_audit_entry {
	int64_t id;		/* 1, 2, 3, ... */
	int64_t time;		/* Unix seconds */
	char actor[STORE_AUDIT_FIELD_MAX + 1];	/* who: "petrelctl:root",
						 * the address logging in */
	char kind[48];		/* what: "domain.add", "login.fail", ... */
	char subject[STORE_AUDIT_FIELD_MAX + 1];	/* on what */
	char ip[64];		/* client address of logins, else "" */
	char detail[STORE_AUDIT_FIELD_MAX + 1];
	char prev[65];		/* hex SHA-256 */
	char hash[65];
};

/* The actor of this thread's admin calls (copied; NULL: "petreld").
 * petrelctl sets "petrelctl:USER"; an API thread sets its token's. */
void store_audit_set_actor(const char *actor);
/* Append an entry now, in its own transaction (synchronous=FULL). Fields
 * longer than STORE_AUDIT_FIELD_MAX are cut, control characters become
 * '?'. 0 or -1. */
int store_audit_add(struct store *st, const char *kind, const char *subject,
		    const char *ip, const char *detail, struct err *err);
/* A login's entry and, if app_password_id > 0, that app password's last
 * use: queued (never blocks on the disk) and written by the store's
 * audit thread in batches, one transaction each. When more than
 * STORE_AUDIT_QUEUE_MAX wait, entries are dropped and the next batch
 * records how many ("audit.dropped"). */
void store_audit_login(struct store *st, bool ok, const char *user,
		       const char *ip, const char *detail,
		       int64_t app_password_id, int64_t when);
/* The same for a successful login of mailbox_id: also records the
 * mailbox's last login time and address, and remembers the address among
 * its newest STORE_KNOWN_IPS_MAX; one not among them gets an extra entry
 * of kind "login.new_ip" (the first login too). */
void store_audit_login_ok(struct store *st, int64_t mailbox_id,
			  const char *user, const char *ip, const char *detail,
			  int64_t app_password_id, int64_t when);
/* Any other entry from a pool thread (actor "petreld"), queued the same
 * way: login protection's "login.lockout" and "login.unlock". */
void store_audit_event(struct store *st, const char *kind,
		       const char *subject, const char *ip, const char *detail,
		       int64_t when);
/* The last login of mailbox_id: 1 (*when 0 = never, ip "" then), 0 no
 * such mailbox, -1 error. ip holds 64 bytes. */
int store_mailbox_last_login(struct store *st, int64_t mailbox_id,
			     int64_t *when, char *ip, struct err *err);
/* Wait until every queued login entry is written (tests, shutdown). */
void store_audit_flush(struct store *st);
/* Call fn for each entry with time >= since, oldest first. */
int store_audit_each(struct store *st, int64_t since,
		     int (*fn)(const struct store_audit_entry *e, void *arg),
		     void *arg, struct err *err);
/* A query of the log: entries with time >= since and id > after_id that
 * match every filter given ("" or NULL: any). actor: equal. kind: equal,
 * or its words so far ("login" matches "login.fail"). domain: the
 * subject or actor is the domain or an address in it (case-insensitive),
 * or, for entries about mail clients, the subject is. At most limit
 * entries (0: no limit), oldest first; *more_out says whether more match
 * past the last one given. */
struct store_audit_filter {
	int64_t since;
	int64_t after_id;
	const char *actor;
	const char *domain;
	const char *kind;
	size_t limit;
};
int store_audit_query(struct store *st, const struct store_audit_filter *f,
		      int (*fn)(const struct store_audit_entry *e, void *arg),
		      void *arg, bool *more_out, struct err *err);
/* Whether e passes f's actor, domain and kind filters (not time, id). */
bool store_audit_match(const struct store_audit_entry *e,
		       const struct store_audit_filter *f);
/* Recompute the chain: 1 and *bad_id_out (the first entry that does not
 * check out) if tampered with, 0 if intact (*count_out entries, head the
 * newest hash, "" when empty), -1 store error. */
int store_audit_verify(struct store *st, int64_t *bad_id_out,
		       uint64_t *count_out, char head[65], struct err *err);

/* ---- password policy and bulk creation (store_import.c, decision 0024)
 * The policy is kept per domain; auth_password_policy_check applies it.
 * A domain alias has the policy of its own row (the target's applies to
 * mailboxes, which live in the target). */

struct store_password_policy {
	uint32_t min_length;	/* characters (not octets) */
	uint32_t min_classes;	/* of lower, upper, digit, other: 0..4 */
	bool reject_local;	/* not equal to the local part */
	bool reject_common;	/* not in auth's list of common passwords */
};
#define STORE_PASSWORD_MIN_LENGTH_MAX 128

/* 1 with *out, 0 no such domain, -1 store error. */
int store_domain_password_policy(struct store *st, const char *domain,
				 struct store_password_policy *out,
				 struct err *err);
/* min_length 1..STORE_PASSWORD_MIN_LENGTH_MAX, min_classes 0..4 (ERR_PEER
 * otherwise); ERR_NOTFOUND no such domain. Audited. */
int store_domain_set_password_policy(struct store *st, const char *domain,
				     const struct store_password_policy *p,
				     struct err *err);

/* 0 if local is a local part store_mailbox_add takes, else -1
 * (ERR_PEER with the reason). */
int store_local_part_check(const char *local, struct err *err);

/* One mailbox of a batch. in: everything but id. */
struct store_new_mailbox {
	const char *local;		/* checked as store_mailbox_add does */
	const char *display_name;	/* "" or NULL: none */
	const char *pw_hash;		/* Argon2id string */
	const char *scram;		/* SCRAM secret text, "" none */
	uint64_t quota;			/* bytes, 0 = unlimited */
	const char *const *groups;	/* group addresses to join */
	size_t ngroups;
	int64_t id;			/* out */
};

/* Create the n mailboxes of mbs in domain (A-label form) in one
 * transaction, each joining its groups: all or none. The plan's limit
 * is checked inside the transaction for the whole batch (ERR_LIMIT,
 * nothing created), an existing address is ERR_PEER, a group that is
 * not a group of the store ERR_NOTFOUND; err names the first failure.
 * One audit entry ("mailbox.import") records the count. n at most
 * STORE_PLAN_MAILBOXES_MAX. 0 or -1. */
int store_mailbox_add_batch(struct store *st, const char *domain,
			    struct store_new_mailbox *mbs, size_t n,
			    struct err *err);

/* ---- DKIM signing keys (store_dkim.c, decision 0029) -------------------
 * Keys of a domain with the times that decide their state: published
 * from created, signing from activate_at until retire_at (0: no end
 * yet), published until removed_at (0: no end yet). msgauth/dkim_keys.h
 * makes keys and decides the times; the store only keeps them. The
 * private key is PKCS#8 PEM, read only through store_dkim_private and
 * emptied by store_dkim_wipe; it is never logged or audited. */

#define STORE_DKIM_SELECTOR_MAX 63	/* one DNS label */
#define STORE_DKIM_PUBLIC_MAX 800	/* base64 p= of an RSA-4096 key fits */
#define STORE_DKIM_PEM_MAX 4096		/* PKCS#8 PEM of an RSA-4096 key fits */

struct store_dkim_key {
	int64_t id;
	char domain[SMTP_DOMAIN_MAX + 1];	/* A-label, lower case */
	char selector[STORE_DKIM_SELECTOR_MAX + 1];
	char algorithm[16];			/* "rsa-2048", "ed25519" */
	char public_key[STORE_DKIM_PUBLIC_MAX + 1];	/* the p= value */
	int64_t created, activate_at, retire_at, removed_at;
	bool has_private;			/* not yet wiped */
};

/* Add key k (domain hosted: ERR_NOTFOUND if not; selector unused in the
 * domain: ERR_PEER if taken) with its private key pem; audited as kind
 * (e.g. "dkim.keygen", "dkim.rotate") with the selector and algorithm.
 * *id_out = its id. */
int store_dkim_add(struct store *st, const struct store_dkim_key *k,
		   const char *pem, const char *kind, int64_t *id_out,
		   struct err *err);
/* Call fn for each key of domain (NULL: every domain), by domain, then
 * creation, then id. The key is valid only during fn; fn != 0 stops. */
int store_dkim_each(struct store *st, const char *domain,
		    int (*fn)(const struct store_dkim_key *k, void *arg),
		    void *arg, struct err *err);
/* The private key of key id into pem (pemsz bytes, STORE_DKIM_PEM_MAX + 1
 * is enough): 1, 0 no such key or wiped, -1 error. The caller wipes pem
 * after use. */
int store_dkim_private(struct store *st, int64_t id, char *pem, size_t pemsz,
		       struct err *err);
/* Set when key id stops signing and stops being published. */
int store_dkim_set_retire(struct store *st, int64_t id, int64_t retire_at,
			  int64_t removed_at, struct err *err);
/* Empty the private key of key id (once it is retired). */
int store_dkim_wipe(struct store *st, int64_t id, struct err *err);

/* ---- DMARC aggregate report rows (store_dmarc.c, decision 0032) --------
 * What the inbound checks saw, per UTC day and outcome, counted: the
 * rows of RFC 7489 appendix C's <record>, with the policy the domain
 * published and its rua= at the time. Added in batches (one transaction
 * each), read and deleted by the daily reporter. Enum-valued fields hold
 * msgauth/dmarc.h's and dmarc_report.h's values; the store does not
 * interpret them. Strings are NUL-terminated; unused bytes must be zero
 * (equal rows compare equal byte for byte, see dmarc_agg.h). */
#define STORE_DMARC_RUA_MAX 1024	/* rua URIs, space-separated, !size kept */
#define STORE_DMARC_AUTH_MAX 600	/* dkim results: "d/s/result" space-separated */
#define STORE_DMARC_IP_MAX 45

struct store_dmarc_row {
	int64_t day;				/* UTC midnight, Unix seconds */
	char policy_domain[SMTP_DOMAIN_MAX + 1];
	uint8_t p, sp, np, adkim, aspf;		/* as published */
	uint8_t pct;
	char rua[STORE_DMARC_RUA_MAX + 1];
	char source_ip[STORE_DMARC_IP_MAX + 1];
	char header_from[SMTP_DOMAIN_MAX + 1];
	char envelope_from[SMTP_DOMAIN_MAX + 1];	/* domain, "" for <> */
	uint8_t disposition, dkim, spf;		/* policy_evaluated */
	char dkim_auth[STORE_DMARC_AUTH_MAX + 1];
	char spf_domain[SMTP_DOMAIN_MAX + 1];
	char spf_scope[8];			/* "mfrom", "helo" */
	uint8_t spf_result;
	uint64_t count;				/* last: not part of the key */
};

/* Add rows (n of them) in one transaction; a row equal to a stored one
 * but for count adds its count to it. */
int store_dmarc_add(struct store *st, const struct store_dmarc_row *rows,
		    size_t n, struct err *err);
/* Call fn with each row of day (and of policy domain domain, unless
 * NULL), ordered so that rows of one report come together: by domain,
 * published policy and rua, then source IP; at most max rows. fn != 0
 * stops. The row is valid during fn only. */
int store_dmarc_each(struct store *st, int64_t day, const char *domain,
		     size_t max, int (*fn)(int64_t id,
					  const struct store_dmarc_row *r,
					  void *arg),
		     void *arg, struct err *err);
/* The days (UTC midnights) before `before` that still have rows, oldest
 * first, at most max into days; their number, or -1. */
int store_dmarc_days(struct store *st, int64_t before, int64_t *days,
		     size_t max, struct err *err);
/* Delete rows by id (sent), in one transaction. */
int store_dmarc_delete(struct store *st, const int64_t *ids, size_t n,
		       struct err *err);

/* petrelctl's "dmarc send" for petreld (which alone delivers): a request
 * row, taken by petreld's reporter, answered with a result text (JSON). */
struct store_dmarc_request {
	int64_t id;
	int64_t day;
	char domain[SMTP_DOMAIN_MAX + 1];	/* "" = every domain */
	bool dry_run;
};
int store_dmarc_request_add(struct store *st,
			    const struct store_dmarc_request *rq,
			    int64_t now, int64_t *id_out, struct err *err);
/* The oldest unanswered request: 1 (*out), 0 none, -1. */
int store_dmarc_request_next(struct store *st, struct store_dmarc_request *out,
			     struct err *err);
int store_dmarc_request_answer(struct store *st, int64_t id,
			       const char *result, struct err *err);
/* Request id's answer: 1 with *result_out (malloc'd), 0 not yet, -1.
 * An answered request is deleted when read. */
int store_dmarc_request_result(struct store *st, int64_t id,
			       char **result_out, struct err *err);

/* ---- filter settings per domain (store_fsettings.c, decision 0040) ----
 * What the spam filter does for a domain's mail. A domain without a row
 * has the defaults (store_filter_settings_default); a domain alias has
 * its target's. */

enum store_filter_level {
	STORE_FILTER_STANDARD = 0,
	STORE_FILTER_ENTERPRISE,
	STORE_FILTER_STRICT,
};
enum store_external_tag {
	STORE_EXTERNAL_TAG_OFF = 0,
	STORE_EXTERNAL_TAG_SUBJECT,	/* "[External] " before the subject */
	STORE_EXTERNAL_TAG_BANNER,	/* a banner at the top of the body */
};
#define STORE_QUARANTINE_DAYS_DEFAULT 30
#define STORE_QUARANTINE_DAYS_MAX 3650

struct store_filter_settings {
	enum store_filter_level level;
	uint32_t quarantine_days;	/* 1..STORE_QUARANTINE_DAYS_MAX */
	bool user_release;		/* recipients may release and delete
					 * their own quarantined mail */
	enum store_external_tag external_tag;
};

void store_filter_settings_default(struct store_filter_settings *out);
/* 1 with *out (the defaults when never set), 0 the domain is not hosted,
 * -1 store error. domain in either form. */
int store_filter_settings_get(struct store *st, const char *domain,
			      struct store_filter_settings *out,
			      struct err *err);
/* Replace the settings (ERR_NOTFOUND not hosted, ERR_PEER a domain
 * alias or a value out of range). Audited "filter.settings". */
int store_filter_settings_set(struct store *st, const char *domain,
			      const struct store_filter_settings *s,
			      struct err *err);
/* Names as the CLI and the API spell them, and back (-1: unknown). */
const char *store_filter_level_name(enum store_filter_level l);
int store_filter_level_parse(const char *s);
const char *store_external_tag_name(enum store_external_tag t);
int store_external_tag_parse(const char *s);

/* ---- quarantine (store_quar.c, decision 0040) --------------------------
 * A message the filter held for one recipient, kept out of the mailbox
 * until an administrator (or the recipient, where the domain allows it)
 * releases or deletes it, or it expires. The message is a log record of
 * its own (kind "quarantine") carrying the entry's fields, written and
 * synced by the group commit like a delivery, so an entry is durable
 * before the add completes and replay restores it. Its id is the
 * record's sequence number. Release moves the message into the
 * recipient's INBOX and removes the entry in ONE committer transaction
 * (synced): after a crash the message is in exactly one of the two
 * places. Quarantined bytes do not count against the mailbox's quota. */

#define STORE_QUAR_SUBJECT_MAX 998	/* octets kept (RFC 5322 line) */
#define STORE_QUAR_SYMBOLS_MAX 4096
#define STORE_QUAR_REASON_MAX 320

struct store_quarantine_entry {
	int64_t id;
	int64_t mailbox_id;
	char address[STORE_ADDR_MAX + 1];	/* the recipient */
	char domain[SMTP_DOMAIN_MAX + 1];	/* its domain (A-label) */
	char sender[STORE_ADDR_MAX + 1];	/* envelope, "" for <> */
	char subject[STORE_QUAR_SUBJECT_MAX + 1];
	double score;
	char symbols[STORE_QUAR_SYMBOLS_MAX + 1];
	char reason[STORE_QUAR_REASON_MAX + 1];
	int64_t received, expires;		/* Unix seconds */
	uint64_t size;
	bool release_requested;			/* petrelctl asked petreld */
};

struct store_quarantine_req {
	/* filled by the caller; strings are copied by the submit, data must
	 * stay valid until done() (or the return of _add). Strings longer
	 * than their maximum are cut; control characters become '?'. */
	const unsigned char *data;
	size_t len;
	int64_t mailbox_id;		/* the recipient's mailbox */
	const char *sender;		/* NULL or "" for the null sender */
	const char *subject;		/* decoded, UTF-8; may be NULL */
	double score;
	const char *symbols;		/* e.g. "BAYES_SPAM(5.1) URL_IP(2)" */
	const char *reason;		/* why it was held */
	int64_t received;		/* Unix seconds */
	/* _submit: called once on the committer thread (rc 0 durable, -1
	 * with err); must not block */
	void (*done)(struct store_quarantine_req *q);
	void *arg;

	/* filled by the store */
	int rc;
	struct err err;
	int64_t id;
	int64_t expires;	/* received + the domain's quarantine days */

	/* private to the store */
	struct store_delivery d_;
};

/* Queue q for the next group commit (one SQLite read first: the
 * mailbox's address and its domain's quarantine days). 0 (done() will
 * be called exactly once) or -1 (no such mailbox: ERR_NOTFOUND; closing;
 * done() not called). */
int store_quarantine_submit(struct store *st, struct store_quarantine_req *q,
			    struct err *err) __attribute__((warn_unused_result));
/* Submit and wait: 0 durable (q->id set), -1 with err. */
int store_quarantine_add(struct store *st, struct store_quarantine_req *q,
			 struct err *err) __attribute__((warn_unused_result));

/* The entries matching the filter, newest first (received, then id),
 * at most limit (1..STORE_QUAR_PAGE_MAX), after the cursor (the last
 * entry of the previous page: before_received/before_id, 0/0 for the
 * first page). *more_out (may be NULL): whether more follow. */
#define STORE_QUAR_PAGE_MAX 1000
struct store_quarantine_filter {
	const char *domain;		/* NULL or "": any */
	const char *mailbox;		/* an address; NULL or "": any */
	size_t limit;
	int64_t before_received, before_id;
};
int store_quarantine_list(struct store *st,
			  const struct store_quarantine_filter *f,
			  int (*fn)(const struct store_quarantine_entry *e,
				    void *arg),
			  void *arg, bool *more_out, struct err *err);
/* One entry: 1 (*out; data_out, when not NULL, the message bytes,
 * malloc'd, *len_out), 0 no such entry, -1 error. */
int store_quarantine_get(struct store *st, int64_t id,
			 struct store_quarantine_entry *out,
			 unsigned char **data_out, size_t *len_out,
			 struct err *err);
/* Deliver entry id into its recipient's INBOX and remove the entry, in
 * one durable committer transaction (not from store_open_admin: use
 * _release_request). *uid_out (may be NULL): its UID in INBOX. 1 done,
 * 0 no such entry, -1 (ERR_NOTFOUND: the mailbox is gone). Audited
 * "quarantine.release". */
int store_quarantine_release(struct store *st, int64_t id, uint32_t *uid_out,
			     struct err *err);
/* For petrelctl: mark entry id for petreld to release
 * (store_quarantine_release_pending). 1, 0 no such entry, -1. */
int store_quarantine_release_request(struct store *st, int64_t id,
				     struct err *err);
/* petreld: release every entry marked so; the number released, or -1.
 * An entry that cannot be released (mailbox gone) is unmarked, logged. */
int store_quarantine_release_pending(struct store *st, struct err *err);
/* Remove entry id and its message. 1, 0 no such entry, -1. Audited
 * "quarantine.delete". Works from store_open_admin. */
int store_quarantine_delete(struct store *st, int64_t id, struct err *err);
/* Remove every entry whose expiry is at or before now; *n_out (may be
 * NULL) how many. 0 or -1. Audited "quarantine.expire" when any. */
int store_quarantine_expire(struct store *st, int64_t now, uint64_t *n_out,
			    struct err *err);

/* ---- the statistical classifier's counts (store_bayes.c, decision 0037)
 * Per scope (a name: "global", "domain:D", "user:A"; at most
 * STORE_BAYES_SCOPE_MAX octets) the number of spam and ham messages
 * learned and, per 64-bit token hash (filter/token.h), in how many of
 * each the token was. A message is known by a key (a hash of its bytes)
 * with the label it was learned as. Written with the admin connection
 * (works from petrelctl while petreld runs); src/filter/bayes*.c alone
 * interprets the numbers. */
#define STORE_BAYES_SCOPE_MAX 340
#define STORE_BAYES_KEY_LEN 16

enum store_bayes_label {
	STORE_BAYES_NONE = 0,	/* not learned / forget */
	STORE_BAYES_SPAM = 1,
	STORE_BAYES_HAM = 2,
};

struct store_bayes_scope {
	char name[STORE_BAYES_SCOPE_MAX + 1];
	uint64_t spam, ham;	/* messages learned */
	uint64_t tokens;	/* distinct tokens (store_bayes_scope_each) */
	uint64_t weights;	/* the model's stored weights (same) */
	uint64_t generation;	/* changes with every learning */
};

struct store_bayes_learn {
	/* in */
	const char *scope;
	unsigned char key[STORE_BAYES_KEY_LEN];
	enum store_bayes_label label;	/* NONE: unlearn */
	const uint64_t *hashes;		/* the message's distinct tokens */
	size_t n;
	/* out: what the message was learned as before (label == was:
	 * nothing changed) */
	enum store_bayes_label was;
};

/* Learn n messages in one transaction: each message's tokens leave the
 * counts of the label it had in its scope (if any) and join those of
 * its new label; the scope's totals follow and its generation changes.
 * Counts never go below 0 and a token at 0 and 0 is removed. All or
 * nothing. */
int store_bayes_learn(struct store *st, struct store_bayes_learn *items,
		      size_t n, struct err *err)
	__attribute__((warn_unused_result));
/* The scope's totals and generation (tokens not counted): 1, 0 none
 * (nothing was ever learned in it), -1. */
int store_bayes_scope_get(struct store *st, const char *scope,
			  struct store_bayes_scope *out, struct err *err);
/* Every scope with its distinct tokens counted, by name. fn != 0 stops. */
int store_bayes_scope_each(struct store *st,
			   int (*fn)(const struct store_bayes_scope *s,
				     void *arg),
			   void *arg, struct err *err);
/* The scope's totals (*out; all zero and 0 returned if there is no such
 * scope) and then fn(hash, spam, ham) for each of its tokens, all from
 * one read snapshot. 1 / 0 (no scope) / -1. fn != 0 stops early. */
int store_bayes_load(struct store *st, const char *scope,
		     struct store_bayes_scope *out,
		     int (*fn)(uint64_t hash, uint32_t spam, uint32_t ham,
			       void *arg),
		     void *arg, struct err *err);

/* The scope's logistic model (an opaque blob of src/filter/lr.c,
 * decision 0044) into *blob (malloc'd, free it; NULL and *len 0 when the
 * scope has none) and its generation. 1 the scope exists, 0 it does not
 * (*blob NULL), -1. */
int store_bayes_model_get(struct store *st, const char *scope, void **blob,
			  size_t *len, uint64_t *generation, struct err *err);
/* Read, change and write the scope's model in one admin transaction (so
 * that two learners never lose each other's steps): fn gets the stored
 * blob (NULL, 0 when none) and sets *out (malloc'd; the store frees it)
 * and *out_len, or returns -1 with err to change nothing. The scope is
 * made if it is missing and its generation changes. 0 or -1. */
typedef int (*store_bayes_model_fn)(void *arg, const void *old,
				    size_t old_len, void **out,
				    size_t *out_len, struct err *err);
int store_bayes_model_update(struct store *st, const char *scope,
			     store_bayes_model_fn fn, void *arg,
			     struct err *err)
	__attribute__((warn_unused_result));

#endif
