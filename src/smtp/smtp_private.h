/* smtp_private.h - what the SMTP server's files share; no other folder
 * includes it. A session belongs to one worker thread and is touched only
 * there, except that the store's committer thread activates commit_ev. */
#ifndef PETREL_SMTP_PRIVATE_H
#define PETREL_SMTP_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/buf.h"
#include "core/config.h"
#include "net/conn.h"
#include "auth/auth.h"
#include "smtp/smtp.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_parse.h"
#include "filter/filter.h"
#include "msgauth/msgauth_svc.h"
#include "store/store.h"

struct smtp_rate;

struct smtp_server {
	const struct config *cfg;
	struct store *store;
	SSL_CTX *tls;
	/* submission (RFC 6409): AUTH required before MAIL, senders
	 * checked, Message-ID and Date added, per-user limits */
	bool submission;
	struct auth *auth;
	struct smtp_rate *rate;
	/* Accept recipients in other domains. Off until the outbound queue
	 * takes them (store_delivery.queue): accepting one now would lose
	 * the message. */
	bool remote_rcpt;
	/* SPF, DKIM, ARC and DMARC of incoming mail (msgauth_svc.h); NULL:
	 * none (submission, or msgauth_inbound = no) */
	struct msgauth_svc *msgauth;
	bool msgauth_checks;		/* run them (msgauth_inbound) */
	/* the spam filter on the msgauth pool (filter.h); NULL: none */
	struct filter_engine *filter;
};

enum smtp_auth_step {
	SMTP_AUTH_NONE = 0,	/* reading commands */
	SMTP_AUTH_PLAIN,	/* 334 sent, waiting for the PLAIN response */
	SMTP_AUTH_LOGIN_USER,
	SMTP_AUTH_LOGIN_PASS,
	SMTP_AUTH_SCRAM_FIRST,	/* waiting for client-first */
	SMTP_AUTH_SCRAM_FINAL,	/* server-first sent */
	SMTP_AUTH_SCRAM_ACK,	/* server-final sent, waiting for "" */
};

enum smtp_state {
	SMTP_S_CMD = 0,		/* reading commands */
	SMTP_S_DATA,		/* reading a DATA body */
	SMTP_S_BDAT,		/* reading a BDAT chunk */
	SMTP_S_CHECK,		/* waiting for the message checks; paused */
	SMTP_S_COMMIT,		/* waiting for the store; input paused */
};

struct smtp_rcpt {
	int64_t mailbox_id;
	char addr[SMTP_PATH_MAX + 1];
	struct smtp_rcpt_params dsn;	/* NOTIFY, ORCPT (submission) */
};

#define SMTP_NVERBS (SMTP_VERB_AUTH + 1)

/* Room for the header fields submission adds (From, Date, Message-ID:
 * an address of 320, a date of 40, an id of 32 + host name 255). */
#define SMTP_SUBMIT_ADDED_MAX 1024
/* Room for the filter's fields and the [External] tag or banner. */
#define SMTP_FILTER_ADDED_MAX (FILTER_HEADER_MAX + 256)
/* the client's reverse name and a blank in our Received field */
#define SMTP_RDNS_ADDED_MAX (DNS_NAME_MAX + 2)

struct smtp_session {
	struct net_conn *c;
	struct smtp_server *srv;

	enum smtp_state state;
	bool helo_done;
	bool esmtp;
	char helo[256];
	unsigned errors;
	unsigned n_tx;
	unsigned count[SMTP_NVERBS];	/* commands, for the disconnect line */
	unsigned failed[SMTP_NVERBS];

	/* the current transaction (MAIL to end of message or RSET) */
	bool has_mail;
	struct smtp_path from;
	struct smtp_mail_params mail;
	struct smtp_rcpt *rcpts;
	size_t n_rcpts;
	size_t cap_rcpts;
	int64_t *mailbox_ids;	/* distinct recipients' mailboxes */
	size_t n_mailboxes;
	struct buf msg;		/* trace headers + body */
	struct buf meta;	/* the MIME parse cache stored with msg */
	size_t trace_len;	/* bytes of msg that are our trace headers */
	size_t trace_rdns_at;	/* where in them the client's reverse name
				 * goes: "(" here "[ip])"; 0 none */
	struct smtp_data data;
	bool bdat_active;	/* a BDAT transaction has started */
	bool bdat_discard;	/* chunk to be read and thrown away */
	bool bdat_last;
	uint64_t bdat_left;
	struct err bdat_err;	/* the reply for a discarded chunk */

	/* submission: the login (smtp_auth.c) */
	bool authenticated;
	int64_t user_id;		/* the mailbox logged in */
	char user[AUTH_USER_MAX];	/* its address, as stored */
	const char *auth_mech;		/* for logs */
	enum smtp_auth_step auth_step;
	unsigned auth_failures;
	bool login_busy;		/* a check is on the jobs pool */
	struct auth_login login;
	struct auth_scram *scram;	/* during a SCRAM exchange */
	struct event *wake_ev;		/* the pool finished the check */
	struct event *delay_ev;		/* auth_failure_delay before 535 */
	size_t n_remote;		/* recipients in other domains */
	size_t n_named;			/* RCPTs accepted (before expansion) */
	const char **qrcpts;		/* their addresses for the queue */
	const char **qorcpts;		/* and their DSN parameters */
	uint8_t *qnotify;
	struct store_queue_env qenv;

	/* the message checks in flight (smtp_msgauth.c) */
	struct msgauth_job *ma;		/* allocated at the first message */
	struct event *ma_ev;		/* the pool finished them */
	bool junk;			/* their verdict: deliver to Junk */
	struct filter_verdict *fv;	/* the filter's, with ma */
	/* a quarantine verdict: held on the pool thread (smtp_filter.c);
	 * 0 held for every mailbox, -1 failed (quar_err) */
	int quar_rc;
	struct err quar_err;
	int64_t quar_id;		/* the first entry's id */
	/* whom an ARC seal speaks for (decision 0033): the domain of the
	 * first RCPT whose expansion reached another domain, and of the
	 * first RCPT at all; "" none yet */
	char fwd_domain[SMTP_DOMAIN_MAX + 1];
	char rcpt_domain[SMTP_DOMAIN_MAX + 1];

	/* delivery in flight */
	struct store_delivery dlv;
	struct event *commit_ev;
};

/* smtp_session.c */
void smtp_reply_err(struct smtp_session *s, const struct err *err);
void smtp_tx_reset(struct smtp_session *s);

/* smtp_dsn.c: DSN (RFC 3461) on submission. */
/* A recipient's NOTIFY bits as the queue keeps them. */
uint8_t smtp_dsn_notify_flags(unsigned notify);
/* The transaction is committed: a "delivered" report to the sender for
 * each local recipient that asked NOTIFY=SUCCESS (remote ones get theirs
 * from the outbound queue), queued like any mail, not waited for. */
void smtp_dsn_delivered(struct smtp_session *s);

/* smtp_cmd.c: handle one command line (without CRLF). */
void smtp_cmd_dispatch(struct smtp_session *s, struct span line);

/* smtp_auth.c (submission) */
void smtp_cmd_auth(struct smtp_session *s, struct span arg);
/* A line while an AUTH exchange waits for the client (auth_step set). */
void smtp_auth_line(struct smtp_session *s, struct span line);
void smtp_auth_wake(evutil_socket_t fd, short what, void *arg);
void smtp_auth_delay_done(evutil_socket_t fd, short what, void *arg);
/* The mechanisms offered: "PLAIN LOGIN SCRAM-SHA-256". */
const char *smtp_auth_mechs(const struct smtp_session *s);

/* smtp_submit.c (submission) */
struct smtp_rate *smtp_rate_new(void);
void smtp_rate_free(struct smtp_rate **rp);
/* false (and logged) once mailbox_id sent limit messages this hour. */
bool smtp_rate_allow(struct smtp_rate *r, int64_t mailbox_id, unsigned limit);
/* One more message sent by mailbox_id. */
void smtp_rate_count(struct smtp_rate *r, int64_t mailbox_id);
/* At the end of DATA/BDAT: every From: address owned by the user
 * (else false, 553 replied), Date, Message-ID (and From) added when
 * missing, after the trace headers. */
bool smtp_submit_headers(struct smtp_session *s);

/* smtp_deliver.c */
/* Put Return-Path and Received at the start of s->msg (at DATA / first
 * BDAT) and begin reading the body after them. */
void smtp_msg_begin(struct smtp_session *s, bool bdat);
/* Our trace fields with the client's reverse name from the checks put in
 * (the held copy of a quarantined message), appended to dst; and the
 * same into msg itself, on the loop once the checks are done. */
int smtp_trace_copy(const struct smtp_session *s,
		    const struct msgauth_out *out, struct buf *dst);
void smtp_trace_rdns(struct smtp_session *s, const struct msgauth_out *out);
/* The body is complete: check it, then hand it to the store (state COMMIT)
 * or reply with the error. */
void smtp_msg_finish(struct smtp_session *s);
/* Runs on the worker when the store has finished with s->dlv. */
void smtp_commit_done(evutil_socket_t fd, short what, void *arg);
/* After the checks (or without them): hand s->msg to the store. */
void smtp_msg_commit(struct smtp_session *s);
/* Back to reading commands after a message (accepted or not). */
void smtp_back_to_commands(struct smtp_session *s);

/* smtp_msgauth.c */
/* Start the checks of the message in s->msg on the pool (state CHECK):
 * true, and smtp_msg_commit or a refusal follows; false when there is
 * nothing to check (no service, no local recipient). */
bool smtp_msgauth_start(struct smtp_session *s);
void smtp_msgauth_done(evutil_socket_t fd, short what, void *arg);

/* smtp_filter.c */
/* On the pool thread after the checks: the filter's verdict into s->fv. */
void smtp_filter_run(struct msgauth_job *j);
/* On the loop: act on s->fv. true when it replied (refused, or held in
 * quarantine) and went back to commands; false: go on to the commit
 * (fields and tag added, s->junk set as the verdict says). */
bool smtp_filter_apply(struct smtp_session *s);

#endif
