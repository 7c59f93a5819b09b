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
#include "smtp/smtp.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_parse.h"
#include "store/store.h"

struct smtp_server {
	const struct config *cfg;
	struct store *store;
	SSL_CTX *tls;
};

enum smtp_state {
	SMTP_S_CMD = 0,		/* reading commands */
	SMTP_S_DATA,		/* reading a DATA body */
	SMTP_S_BDAT,		/* reading a BDAT chunk */
	SMTP_S_COMMIT,		/* waiting for the store; input paused */
};

struct smtp_rcpt {
	int64_t mailbox_id;
	char addr[SMTP_PATH_MAX + 1];
};

#define SMTP_NVERBS (SMTP_VERB_AUTH + 1)

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
	struct smtp_data data;
	bool bdat_active;	/* a BDAT transaction has started */
	bool bdat_discard;	/* chunk to be read and thrown away */
	bool bdat_last;
	uint64_t bdat_left;
	struct err bdat_err;	/* the reply for a discarded chunk */

	/* delivery in flight */
	struct store_delivery dlv;
	struct event *commit_ev;
};

/* smtp_session.c */
void smtp_reply_err(struct smtp_session *s, const struct err *err);
void smtp_tx_reset(struct smtp_session *s);

/* smtp_cmd.c: handle one command line (without CRLF). */
void smtp_cmd_dispatch(struct smtp_session *s, struct span line);

/* smtp_deliver.c */
/* Put Return-Path and Received at the start of s->msg (at DATA / first
 * BDAT) and begin reading the body after them. */
void smtp_msg_begin(struct smtp_session *s, bool bdat);
/* The body is complete: check it, then hand it to the store (state COMMIT)
 * or reply with the error. */
void smtp_msg_finish(struct smtp_session *s);
/* Runs on the worker when the store has finished with s->dlv. */
void smtp_commit_done(evutil_socket_t fd, short what, void *arg);

#endif
