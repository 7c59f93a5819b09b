/* imap_private.h - what the IMAP server's files share; no other folder
 * includes it. A session belongs to one worker thread; the jobs pool only
 * checks passwords and wakes the session through wake_ev, and the store's
 * watcher only sets `changed` and wakes it through watch_ev. */
#ifndef PETREL_IMAP_PRIVATE_H
#define PETREL_IMAP_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/jobs.h"
#include "core/limits.h"
#include "imap/imap.h"
#include "imap/imap_parse.h"
#include "imap/imap_parse_value.h"
#include "imap/imap_seqset.h"
#include "net/conn.h"
#include "store/store.h"

struct imap_server {
	const struct config *cfg;
	struct store *store;
	SSL_CTX *tls;
	struct auth *auth;
	struct net_userlimit *users;	/* imap_max_sessions_per_user */
	struct net_iplimit *ips;	/* imap_max_connections_per_ip */
	struct bayes_learner *learner;	/* moves into / out of Junk */
};

enum imap_state {
	IMAP_S_NOTAUTH = 1u << 0,
	IMAP_S_AUTH = 1u << 1,
	IMAP_S_SELECTED = 1u << 2,
	IMAP_S_LOGOUT = 1u << 3,
};

/* How the next input is read. */
enum imap_mode {
	IMAP_M_COMMAND = 0,
	IMAP_M_SASL,		/* AUTHENTICATE waits for "+ " response line */
	IMAP_M_IDLE,		/* IDLE waits for "DONE" */
};

/* One message of the selected folder as this session last told the
 * client; the index + 1 is its sequence number. */
struct imap_msg {
	uint32_t uid;
	uint32_t flags;		/* STORE_FLAG_* */
	uint64_t keywords;
	uint64_t modseq;
	uint64_t size;
	int64_t internal_date;
	int64_t blob_id;	/* its body: EMAILID (imap_objectid.c) */
};
/* In imap_msg.flags: restored from an idling session's UID ranges, flags
 * not known; imap_sync reports it if its modseq passed known_modseq. */
#define IMAP_MSG_STALE 0x80000000u
struct imap_uidrange;

struct imap_session {
	struct net_conn *c;
	struct imap_server *srv;
	struct imap_parser *parser;
	enum imap_state state;
	enum imap_mode mode;
	char tag[IMAP_TAG_MAX + 1];	/* of AUTHENTICATE, IDLE, LOGIN */
	unsigned bad;			/* BAD replies so far */
	unsigned auth_failures;
	bool condstore;			/* ENABLE CONDSTORE / SELECT (CONDSTORE) */
	bool rev2;			/* ENABLE IMAP4rev2 (RFC 9051 rules) */
	bool qresync;			/* ENABLE QRESYNC: VANISHED, not EXPUNGE */
	bool utf8_accept;		/* ENABLE UTF8=ACCEPT (RFC 6855) */
	bool login_busy;		/* a password check is on the pool */
	bool sync_expunges;		/* the command may be told EXPUNGEs */
	bool user_counted;		/* in srv->users, for mailbox_id */

	/* once authenticated */
	int64_t mailbox_id;
	char address[320];
	struct store_watch *watch;
	atomic_bool changed;		/* the store changed this mailbox */

	/* the selected folder */
	int64_t folder_id;
	char folder_name[STORE_FOLDER_NAME_MAX + 1];
	bool readonly;
	uint32_t uidvalidity;
	uint64_t highestmodseq;
	struct imap_msg *msgs;
	uint32_t n_msgs, cap_msgs;
	/* while idling (imap_compact.c): msgs is NULL, the UIDs are runs in
	 * ranges, and every change up to known_modseq has been told */
	bool compact;
	struct imap_uidrange *ranges;
	uint32_t n_ranges;
	uint64_t known_modseq;
	struct store_keywords *kw;	/* names of the mailbox's keywords */
	/* SEARCHRES (RFC 5182): UIDs of the last SEARCH RETURN (SAVE),
	 * ascending; "$" names them. Cleared when the folder changes. */
	uint32_t *saved;
	size_t n_saved;
	uint32_t *idx;			/* imap_arg_messages' result */
	size_t cap_idx;
	/* RFC 5267 updating contexts (imap_context.h); NULL if none */
	struct imap_contexts *contexts;

	/* a command that paused while the output queue was full (FETCH):
	 * on_input calls resume before reading anything else; the state is
	 * one malloc'd block (freed with the session) */
	void (*resume)(struct imap_session *s);
	void *resume_state;

	/* output of the command being answered */
	struct buf out;

	/* APPEND: a streamed literal collects here; with MULTIAPPEND the
	 * earlier ones of the same command wait in literals_done, in order.
	 * All are freed when the command ends (imap_append_reset). */
	struct buf literal;
	struct buf *literals_done;
	size_t n_literals_done;
	uint64_t literal_total;		/* bytes of this command's streamed
					 * literals, held to
					 * IMAP_APPEND_STREAM_MAX */

	/* work on the jobs pool */
	struct event *wake_ev;
	struct event *delay_ev;
	struct event *watch_ev;
	struct auth_login login;
};

/* Mailbox names travel as UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled), not
 * modified UTF-7. */
static inline bool imap_utf8_names(const struct imap_session *s)
{
	return s->rev2 || s->utf8_accept;
}

/* ---- imap_cmd.c: the command table ---------------------------------- */
void imap_cmd_dispatch(struct imap_session *s, const struct imap_cmd *cmd);
/* "CAPABILITY ..." without "* " for the current state. */
void imap_capability_text(struct imap_session *s, struct buf *out);

/* ---- replies (imap_session.c) ---------------------------------------- */
/* The tagged reply; BAD counts towards IMAP_MAX_BAD. */
void imap_ok(struct imap_session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void imap_no(struct imap_session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void imap_bad(struct imap_session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An error from a store call, as NO with a response code. */
void imap_no_store(struct imap_session *s, const char *tag,
		   const char *what, const struct err *err);

/* ---- building responses (imap_util.c) -------------------------------- */
void imap_out_str(struct buf *o, const char *str);
void imap_out_fmt(struct buf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void imap_out_bytes(struct buf *o, const void *p, size_t n);
/* A string as a quoted string when it can be one, else a literal. */
void imap_out_string(struct buf *o, struct span s);
/* NIL or a string. */
void imap_out_nstring(struct buf *o, const struct span *s);
/* A mailbox name from the store (UTF-8), in modified UTF-7 unless the
 * client sends UTF-8. */
void imap_out_mailbox(struct imap_session *s, struct buf *o,
		      const char *name);
/* "(\Seen kw ...)" */
void imap_out_flags(struct imap_session *s, struct buf *o, uint32_t flags,
		    uint64_t keywords);
/* The mailbox's flag list for FLAGS / PERMANENTFLAGS: "(\Answered ...
 * keywords)", with "\*" before the ")" when star is set. */
void imap_out_flag_list(struct imap_session *s, struct buf *o, bool star);
/* uids as a compact set "1:3,7". */
void imap_out_uidset(struct buf *o, const uint32_t *uids, size_t n);
/* Send s->out (one or more complete lines) and empty it. */
void imap_flush(struct imap_session *s);

/* LIST pattern match (RFC 9051 6.3.9): '*' anything, '%' anything but
 * '/'; O(pattern * name), no backtracking. */
bool imap_list_match(struct span pattern, const char *name);

/* Read a mailbox name argument. 0 ok; otherwise the reply has been sent. */
int imap_arg_mailbox(struct imap_session *s, const struct imap_cmd *cmd,
		     const struct imap_arg *arg, char *out, size_t outsz);
/* The messages a sequence set names: indices into s->msgs, ascending, in
 * s->idx (valid until the next call; not in the command's arena, whose
 * budget a large mailbox would exceed). 0 ok (*n_out may be 0); -1: BAD
 * sent. */
int imap_arg_messages(struct imap_session *s, const struct imap_cmd *cmd,
		      const struct imap_arg *arg, bool uid, uint32_t **idx_out,
		      size_t *n_out);
/* Index of uid in s->msgs, or -1. */
long imap_msg_find(const struct imap_session *s, uint32_t uid);
/* Is uid in the saved search result? */
bool imap_saved_has(const struct imap_session *s, uint32_t uid);
/* Keyword bit for a name, or -1. */
int imap_keyword_bit(const struct imap_session *s, struct span name);
/* "17-Jul-1996 02:44:25 +0000" */
void imap_out_date(struct buf *o, int64_t t);

/* ---- OBJECTID, RFC 8474 (imap_objectid.c) ----------------------------- */
/* "(F...)" for a folder: MAILBOXID. */
void imap_out_mailboxid(struct buf *o, int64_t folder_id, uint32_t uidvalidity);
/* "(M...)" for a message body: EMAILID. */
void imap_out_emailid(struct buf *o, int64_t blob_id);
/* Is id the EMAILID of blob_id? */
bool imap_emailid_is(struct span id, int64_t blob_id);

/* ---- the selected folder (imap_cmd_select.c) ------------------------- */
/* Tell the client what changed in the selected folder since it last
 * heard (EXPUNGE, EXISTS, FETCH FLAGS). expunges false: during FETCH,
 * STORE and SEARCH by sequence number (RFC 9051 7.5.1), only new
 * messages and flags are told and expunges wait. */
void imap_sync(struct imap_session *s, bool expunges);
/* "* msn FETCH (UID FLAGS [MODSEQ])" for an unsolicited flag change. */
void imap_out_fetch_flags(struct imap_session *s, struct buf *o, uint32_t msn,
			  const struct imap_msg *m);

/* ---- imap_compact.c: an idling session's small selected state ------- */
/* Right after a full sync: keep only UID runs and the modseq told. */
void imap_compact(struct imap_session *s);
/* While idling: push what changed since, from the store's indexes. */
void imap_compact_sync(struct imap_session *s);
/* Leaving IDLE: the full table again, reporting what moved meanwhile. */
void imap_expand(struct imap_session *s);
void imap_unselect(struct imap_session *s);
/* Reload the mailbox's keyword names (after a new one appeared). */
void imap_keywords_reload(struct imap_session *s);

/* ---- commands -------------------------------------------------------- */
typedef void imap_cmd_fn(struct imap_session *s, const struct imap_cmd *cmd);

imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout,
	imap_cmd_starttls, imap_cmd_login, imap_cmd_authenticate, imap_cmd_id,
	imap_cmd_enable;
imap_cmd_fn imap_cmd_list, imap_cmd_lsub, imap_cmd_namespace,
	imap_cmd_create, imap_cmd_delete, imap_cmd_rename, imap_cmd_subscribe,
	imap_cmd_unsubscribe, imap_cmd_status;
imap_cmd_fn imap_cmd_select, imap_cmd_examine, imap_cmd_close,
	imap_cmd_unselect, imap_cmd_expunge, imap_cmd_check;
imap_cmd_fn imap_cmd_fetch;
imap_cmd_fn imap_cmd_store, imap_cmd_copy, imap_cmd_move;
imap_cmd_fn imap_cmd_search;
imap_cmd_fn imap_cmd_sort, imap_cmd_thread,	/* imap_cmd_sort.c */
	imap_cmd_cancelupdate;
imap_cmd_fn imap_cmd_append;
imap_cmd_fn imap_cmd_idle;
imap_cmd_fn imap_cmd_compress;
imap_cmd_fn imap_cmd_getquota, imap_cmd_getquotaroot, imap_cmd_setquota;

/* imap_cmd_search.c: the messages of the selected folder that program
 * matches, as indices into s->msgs, ascending, into idx_out (room for
 * s->n_msgs); returns how many. *used_modseq_out (may be NULL) is set
 * when a MODSEQ key was evaluated (RFC 7162 3.1.5). */
struct imap_search_key;
size_t imap_search_run(struct imap_session *s,
		       const struct imap_search_key *program, uint32_t *idx_out,
		       bool *used_modseq_out);
/* Does program match the message s->msgs[idx]? */
bool imap_search_match(struct imap_session *s, const struct imap_search_key *program,
		       uint32_t idx);

/* imap_cmd_auth.c: the SASL response line after "+ " */
void imap_sasl_response(struct imap_session *s, struct span line);
/* imap_cmd_idle.c: a line while idling */
void imap_idle_line(struct imap_session *s, struct span line);
/* imap_cmd_append.c: a piece of a streamed literal */
void imap_append_chunk(struct imap_session *s,
		       const struct imap_literal_info *li);
/* The command is over (answered, failed or thrown away): free what its
 * streamed literals hold. */
void imap_append_reset(struct imap_session *s);
/* The i-th streamed literal of the command (complete once the command
 * is), or NULL. */
const struct buf *imap_append_streamed(struct imap_session *s, size_t i);
/* imap_cmd_catenate.c: RFC 4469 CATENATE's parts (list) into out, whose
 * maximum bounds the message; *next_streamed counts the streamed
 * literals used. 0, or -1 with the reply sent. */
int imap_catenate(struct imap_session *s, const struct imap_cmd *cmd,
		  const struct imap_arg *list, size_t *next_streamed,
		  struct buf *out);
/* A synchronising literal is announced: 0 to take it, -1 refused (the
 * reply has been sent). */
int imap_literal_check(struct imap_session *s, const struct imap_cmd *partial,
		       const struct imap_literal_info *li);

/* imap_session.c: pool and timer completions */
void imap_job_done(evutil_socket_t fd, short what, void *arg);
void imap_delay_done(evutil_socket_t fd, short what, void *arg);

#endif
