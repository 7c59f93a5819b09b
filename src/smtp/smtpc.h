/* smtpc.h - the asynchronous SMTP client the outbound queue uses to hand
 * mail to remote MTAs and smarthosts (RFC 5321, PIPELINING RFC 2920,
 * STARTTLS RFC 3207, SIZE RFC 1870, 8BITMIME RFC 6152, SMTPUTF8 RFC 6531,
 * ENHANCEDSTATUSCODES RFC 2034, AUTH PLAIN/LOGIN RFC 4954).
 *
 * One struct smtpc is one TCP connection driven by one state machine on
 * the caller's event_base (one thread). It does not resolve names, choose
 * MX hosts, retry or bounce: the queue does, from the replies it gets here.
 * Everything the remote server says is untrusted input: replies are parsed
 * with bounds (smtpc_reply.h) and kept as bounded, printable text.
 *
 * Callbacks: cb_ready and cb_done are only ever called from the event loop,
 * never from inside smtpc_connect() or smtpc_send(). Inside them the
 * caller may call smtpc_send(), smtpc_quit(), smtpc_free() and the query
 * functions; c stays valid until the callback returns even if it was freed
 * inside (the free then happens on return). */
#ifndef PETREL_SMTPC_H
#define PETREL_SMTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/err.h"

/* Bytes of reply text kept (a multiline reply is joined with spaces and
 * cut here, with "..." marking the cut). Enough for any DSN. */
#define SMTPC_REPLY_TEXT_MAX 512

/* Which command a reply (or a synthetic one) answers: the DSN says
 * "in reply to RCPT TO command". */
enum smtpc_stage {
	SMTPC_STAGE_CONNECT = 0,	/* TCP connect, greeting, TLS */
	SMTPC_STAGE_HELO,		/* EHLO / HELO */
	SMTPC_STAGE_STARTTLS,
	SMTPC_STAGE_AUTH,
	SMTPC_STAGE_MAIL,		/* MAIL FROM */
	SMTPC_STAGE_RCPT,		/* RCPT TO */
	SMTPC_STAGE_DATA,		/* the DATA command */
	SMTPC_STAGE_DATA_END,		/* after <CRLF>.<CRLF> */
	SMTPC_STAGE_LOCAL,		/* our own check before sending */
};

/* One reply. code is 200..599; enhanced is "x.y.z" (RFC 3463) or "".
 * text is NUL-terminated printable ASCII (other bytes become '?'), the
 * reply's lines without codes, joined by spaces. synthetic: we made the
 * reply up (timeout, lost connection, local policy); the remote server
 * never said it, so a DSN must not quote it as the server's words. */
struct smtpc_reply {
	int code;
	char enhanced[16];
	char text[SMTPC_REPLY_TEXT_MAX];
	enum smtpc_stage stage;
	bool synthetic;
};

/* "MAIL FROM command" etc. for DSNs and logs. Static string. */
const char *smtpc_stage_name(enum smtpc_stage stage);
/* "550 5.1.1 text" into out (always terminated, cut to fit). */
void smtpc_reply_format(const struct smtpc_reply *r, char *out, size_t outsz);
/* true for 4xx replies: the queue retries; 5xx fail for good. */
static inline bool smtpc_reply_temporary(const struct smtpc_reply *r)
{
	return r->code >= 400 && r->code < 500;
}

enum smtpc_tls {
	SMTPC_TLS_OPPORTUNISTIC = 0,	/* STARTTLS if offered, else clear */
	SMTPC_TLS_REQUIRED,		/* STARTTLS or fail (4xx, try later) */
	SMTPC_TLS_NONE,			/* never TLS */
	SMTPC_TLS_IMPLICIT,		/* TLS from the first byte (port 465) */
};

/* Timeouts in seconds; RFC 5321 4.5.3.2 minimums are the defaults
 * (smtpc_opts_init). 0 is taken as 1. */
struct smtpc_timeouts {
	unsigned connect;	/* TCP connect and TLS handshake */
	unsigned greeting;	/* 4.5.3.2.1: 5 minutes */
	unsigned helo;		/* EHLO/HELO, STARTTLS, AUTH, RSET, QUIT */
	unsigned mail;		/* 4.5.3.2.2: 5 minutes */
	unsigned rcpt;		/* 4.5.3.2.3: 5 minutes */
	unsigned data_init;	/* 4.5.3.2.4: 2 minutes for the 354 */
	unsigned data_block;	/* 4.5.3.2.5: 3 minutes per write not taken */
	unsigned data_term;	/* 4.5.3.2.6: 10 minutes for the final reply */
};

/* Borrowed by smtpc_connect() for the life of the connection: every
 * pointer must stay valid until the connection is freed. */
struct smtpc_opts {
	const char *helo_name;		/* our name in EHLO/HELO (required) */
	/* For texts and logs: "mx.example" in "mx.example[192.0.2.1]";
	 * NULL: the address alone. */
	const char *peer_name;
	enum smtpc_tls tls;
	/* Client context for TLS (required unless tls is SMTPC_TLS_NONE);
	 * referenced, not owned. smtpc_tls_ctx_new() makes one. */
	SSL_CTX *tls_ctx;
	/* SNI and the name the certificate must match; NULL: peer_name. */
	const char *tls_servername;
	/* Refuse (4xx, nothing sent) a certificate that does not verify for
	 * tls_servername. false: any certificate; smtpc_info() says whether
	 * it verified. */
	bool tls_verify;
	/* Smarthost credentials: AUTH PLAIN (or LOGIN if PLAIN is not
	 * offered) after TLS. Never sent in clear: without TLS, or if the
	 * server offers neither mechanism, the connection fails with a 4xx.
	 * NULL auth_user: no AUTH. */
	const char *auth_user, *auth_pass;
	struct smtpc_timeouts timeouts;
	/* For log lines: "q1a2b3" etc.; NULL: none. */
	const char *log_id;
};

/* Zero opts and set the RFC 5321 default timeouts. */
void smtpc_opts_init(struct smtpc_opts *opts);
struct config;
/* smtpc_opts_init(), then helo_name = cfg->hostname and the timeouts from
 * the smtp_client_*_timeout keys. opts borrows cfg's strings. */
void smtpc_opts_from_config(struct smtpc_opts *opts, const struct config *cfg);

/* A TLS client context: TLS 1.2 or later, the system's CA store plus
 * ca_file (if not NULL). NULL with err set on failure. The caller owns
 * it (SSL_CTX_free). */
SSL_CTX *smtpc_tls_ctx_new(const char *ca_file, struct err *err);

/* ---- connection ---------------------------------------------------------- */

struct smtpc;

/* cb_ready: the session is ready for smtpc_send() (failure NULL), or it
 * failed (failure says why; the only thing left to do with c is
 * smtpc_free()). failure is valid during the callback. */
typedef void (*smtpc_ready_cb)(struct smtpc *c,
			       const struct smtpc_reply *failure, void *arg);

/* Connect to sa and run greeting, EHLO (HELO when EHLO gets 5xx),
 * STARTTLS per opts->tls (then EHLO again), AUTH if configured. Returns
 * the handle at once (never NULL); the outcome comes to cb_ready exactly
 * once, unless c is freed first. */
struct smtpc *smtpc_connect(struct event_base *base, const struct sockaddr *sa,
			    socklen_t salen, const struct smtpc_opts *opts,
			    smtpc_ready_cb cb_ready, void *arg);

/* One recipient of a message. addr: the address without <>, caller-owned
 * until cb_done. reply is filled by smtpc: the RCPT reply if that was not
 * 2xx, else the final reply to the message (after DATA), or a synthetic
 * 4xx if the connection failed before the end. A recipient with a 2xx
 * reply has been accepted by the remote server. */
struct smtpc_rcpt {
	const char *addr;
	/* DSN (RFC 3461), passed on only to a server that offers DSN:
	 * NOTIFY bits (1 NEVER, 2 SUCCESS, 4 FAILURE, 8 DELAY; 0 = not
	 * given) and ORCPT as "type;address", decoded (smtpc encodes the
	 * address as xtext), or NULL */
	unsigned dsn_notify;
	const char *dsn_orcpt;
	struct smtpc_reply reply;
};

/* One message. Every pointer is borrowed until cb_done.
 * data: the message as stored (CRLF lines); smtpc dot-stuffs it, turns any
 * bare CR or LF into CRLF, and makes sure it ends with CRLF before the
 * final ".". mail_from: the envelope sender without <> ("" = null sender,
 * as for bounces). smtputf8: the message needs SMTPUTF8 (UTF-8 headers);
 * a UTF-8 envelope address sets it too. If it is needed and the server
 * does not offer SMTPUTF8, every recipient fails with 553 5.6.7 (RFC 6531
 * 3.2) without anything being sent. */
struct smtpc_msg {
	const char *mail_from;
	struct smtpc_rcpt *rcpts;
	size_t n_rcpts;
	const unsigned char *data;
	size_t len;
	bool smtputf8;
	/* DSN's RET ("FULL", "HDRS" or NULL) and ENVID (decoded, or NULL),
	 * passed on only to a server that offers DSN */
	const char *dsn_ret;
	const char *dsn_envid;
};

/* cb_done: every msg->rcpts[i].reply is set. The connection may take the
 * next message if smtpc_usable(c). */
typedef void (*smtpc_done_cb)(struct smtpc *c, struct smtpc_msg *msg,
			      void *arg);

/* Send one message (MAIL, RCPTs, DATA; pipelined when the server offers
 * PIPELINING). Only after cb_ready said ready and after the previous
 * message's cb_done. On a connection that is not usable, every recipient
 * gets a synthetic 4xx (cb_done is still called, from the loop). A
 * message with no recipients gets cb_done with nothing sent. */
void smtpc_send(struct smtpc *c, struct smtpc_msg *msg, smtpc_done_cb cb_done,
		void *arg);

/* Send QUIT and free c once the reply (or a short wait) is over; c must not
 * be used afterwards. */
void smtpc_quit(struct smtpc *c);
/* Close at once and free; a pending cb_ready/cb_done is not called. */
void smtpc_free(struct smtpc *c);

/* ---- queries ------------------------------------------------------------- */

/* What the session learnt; valid until c is freed. */
struct smtpc_info {
	char peer[300];			/* "mx.example[192.0.2.1]:25" */
	bool esmtp;			/* EHLO worked (else HELO) */
	bool pipelining, starttls_offered, eightbitmime, smtputf8, enhanced;
	bool size_offered;
	uint64_t size_max;		/* SIZE n; 0 = no limit given */
	bool auth_plain, auth_login;
	bool dsn;			/* DSN (RFC 3461) offered */
	bool tls;			/* the session runs over TLS */
	char tls_version[16];		/* "TLSv1.3" */
	char tls_cipher[64];
	bool tls_verified;		/* certificate valid for the name */
	char tls_verify_error[96];	/* why not, "" if verified */
	bool authenticated;
};
const struct smtpc_info *smtpc_info(const struct smtpc *c);
/* true if c can take another message now (connected, ready, not broken
 * and not in a transaction). */
bool smtpc_usable(const struct smtpc *c);

#endif
