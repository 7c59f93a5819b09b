/* pop3_private.h - what the POP3 server's files share; no other folder
 * includes it. A session belongs to one worker thread; the jobs pool only
 * fills a session's job results and wakes it through wake_ev. */
#ifndef PETREL_POP3_PRIVATE_H
#define PETREL_POP3_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/config.h"
#include "core/jobs.h"
#include "net/conn.h"
#include "pop3/pop3.h"
#include "pop3/pop3_parse.h"
#include "store/store.h"

struct pop3_server {
	const struct config *cfg;
	struct store *store;
	SSL_CTX *tls;
	struct jobs *jobs;
	struct auth *auth;
	/* RFC 1939 8: one POP3 session per maildrop at a time */
	pthread_mutex_t lock_mu;
	int64_t *locked;
	size_t n_locked, cap_locked;
	struct net_iplimit *ips;	/* pop3_max_connections_per_ip */
};

enum pop3_state { POP3_S_AUTH = 0, POP3_S_TRANSACTION, POP3_S_UPDATE };

struct pop3_msg {
	uint32_t uid;
	uint64_t size;
	bool deleted;
};

enum pop3_pending { POP3_P_NONE = 0, POP3_P_LOGIN, POP3_P_UPDATE };

struct pop3_session {
	struct net_conn *c;
	struct pop3_server *srv;
	enum pop3_state state;
	char user[320];		/* from USER, until PASS */
	bool sasl_plain;	/* "AUTH PLAIN" sent, waiting for the response */
	unsigned auth_failures;
	unsigned errors;

	/* the maildrop, once authenticated */
	int64_t mailbox_id;
	int64_t folder_id;
	uint32_t uidvalidity;
	char address[320];
	bool locked;
	struct pop3_msg *msgs;
	uint32_t n_msgs;

	/* work on the jobs pool */
	enum pop3_pending pending;
	struct event *wake_ev;
	struct event *delay_ev;	/* the pause after a failed login */
	struct auth_login login;
	struct pop3_update {
		struct job job;
		struct pop3_session *s;
		uint32_t *uids;
		size_t n;
		int rc;
		struct err err;
	} update;
};

/* pop3_cmd.c */
void pop3_cmd_dispatch(struct pop3_session *s, struct span line);
/* The SASL PLAIN response line after "+ ". */
void pop3_sasl_response(struct pop3_session *s, struct span line);
/* Runs on the worker when the pause after a failed login is over. */
void pop3_delay_done(evutil_socket_t fd, short what, void *arg);
/* Runs on the worker once the pool has finished s->pending. */
void pop3_job_done(evutil_socket_t fd, short what, void *arg);
/* Give the maildrop lock back (close, failed load). */
void pop3_unlock(struct pop3_session *s);

#endif
