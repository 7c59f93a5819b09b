/* smtpc_private.h - the SMTP client's connection state, shared by
 * smtpc.c (connection: connect, greeting, EHLO, TLS, AUTH, QUIT) and
 * smtpc_tx.c (one mail transaction). Nothing outside src/smtp uses it. */
#ifndef PETREL_SMTPC_PRIVATE_H
#define PETREL_SMTPC_PRIVATE_H

#include <stdarg.h>

#include <event2/bufferevent.h>

#include "smtp/smtpc.h"
#include "smtp/smtpc_reply.h"

/* What the connection waits for; each state names the reply it expects. */
enum smtpc_state {
	SMTPC_ST_CONNECTING = 0,	/* TCP connect */
	SMTPC_ST_HANDSHAKE,		/* TLS handshake */
	SMTPC_ST_GREETING,
	SMTPC_ST_EHLO,
	SMTPC_ST_HELO,
	SMTPC_ST_STARTTLS,
	SMTPC_ST_AUTH_PLAIN,
	SMTPC_ST_AUTH_LOGIN,		/* 334 for the user name */
	SMTPC_ST_AUTH_LOGIN_USER,	/* 334 for the password */
	SMTPC_ST_AUTH_LOGIN_PASS,	/* 235 */
	SMTPC_ST_READY,			/* idle, no reply expected */
	SMTPC_ST_TX,			/* in smtpc_tx.c's hands */
	SMTPC_ST_RSET,
	SMTPC_ST_QUIT,
	SMTPC_ST_CLOSED,		/* socket gone; only freeing is left */
};

/* Which reply a transaction waits for next (RFC 2920: in order). */
enum smtpc_want {
	SMTPC_WANT_MAIL = 0,
	SMTPC_WANT_RCPT,
	SMTPC_WANT_DATA,
	SMTPC_WANT_END,		/* the reply after <CRLF>.<CRLF> */
};

/* One transaction (smtpc_tx.c). */
struct smtpc_tx {
	struct smtpc_msg *msg;
	smtpc_done_cb cb;
	void *arg;
	enum smtpc_want want;
	size_t rcpt_send;	/* next recipient to send RCPT for */
	size_t rcpt_reply;	/* recipient the next RCPT reply is for */
	size_t accepted;	/* RCPTs with 2xx */
	bool mail_ok;
	bool pipelined;
	bool body;		/* writing the message text */
	size_t body_off;
	struct smtpc_dot dot;
	bool dot_only;		/* 354 with no recipient: "." sent, reply ignored */
	struct smtpc_reply mail_reply;
	bool finished;		/* every reply set; cb_done pending */
};

struct smtpc {
	struct event_base *base;
	struct smtpc_opts opts;		/* a copy; strings borrowed */
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;
	struct bufferevent *bev;
	bool bev_owns_fd;
	struct event *timer;		/* connect or reply deadline */
	struct event *defer;		/* callbacks that must not run inline */
	enum smtpc_state state;
	struct smtpc_reply_parser parser;
	struct smtpc_reply reply;	/* being read */
	struct smtpc_caps caps;
	unsigned ehlo_lines;
	struct smtpc_info info;
	bool broken;			/* no more transactions */
	bool need_rset;			/* a failed transaction left state */
	bool after_starttls;
	smtpc_ready_cb cb_ready;
	void *ready_arg;
	bool ready_failed;		/* deferred cb_ready with failure */
	bool ready_done;		/* cb_ready has been called */
	struct smtpc_reply failure;
	unsigned depth;			/* our frames on the stack */
	bool freed;			/* smtpc_free() called inside them */
	struct smtpc_tx tx;
	bool tx_active;
};

/* ---- smtpc.c, for smtpc_tx.c ---- */
/* Queue a command line (CRLF added). */
void smtpc_write(struct smtpc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Wait for a reply for at most seconds. */
void smtpc_expect(struct smtpc *c, unsigned seconds);
/* Make a synthetic reply. */
void smtpc_synth(struct smtpc_reply *r, int code, const char *esc,
		 enum smtpc_stage stage, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The connection failed: synthetic reply (stage: what we were doing),
 * close the socket, tell whoever waits. */
void smtpc_fail(struct smtpc *c, int code, const char *esc,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Ask for the deferred event (cb_ready failure, finished tx). */
void smtpc_schedule(struct smtpc *c);
/* The transaction is over and the connection idle (or resetting). */
void smtpc_tx_over(struct smtpc *c);

/* ---- smtpc_tx.c ---- */
/* Start the transaction in c->tx (the connection is idle). */
void smtpc_tx_start(struct smtpc *c);
void smtpc_tx_reply(struct smtpc *c, const struct smtpc_reply *r);
/* Output drained: write more of the message. */
void smtpc_tx_write_more(struct smtpc *c);
/* The connection failed: every unfinished recipient gets r. */
void smtpc_tx_abort(struct smtpc *c, const struct smtpc_reply *r);
/* What we were doing, for "lost connection ... while X". */
const char *smtpc_tx_doing(const struct smtpc *c);
enum smtpc_stage smtpc_tx_stage(const struct smtpc *c);

#endif
