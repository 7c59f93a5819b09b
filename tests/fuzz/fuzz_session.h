/* fuzz_session.h - the harness shared by the whole-session fuzz targets
 * (fuzz_imap_session.c, fuzz_pop3_session.c): each input is what one
 * client sends to a real session of petreld's code, nothing mocked. Per
 * input: a fresh store in a tmpfs directory with the mailbox
 * fuzz@example.test (password "pw") holding three messages, a login
 * checker on it, and the protocol's server; a socketpair whose one end
 * goes through the connection layer (net_conn_accept) as petreld's
 * listeners do and whose other end is the client, driven by the same
 * event loop: it writes the input, then closes its sending side, and
 * reads and throws away every reply (an input whose last byte is 0x04
 * also makes the client close the whole socket at the first reply after
 * it is written: a peer that vanishes mid-session, whose next write from
 * the server fails). The run ends when the server has
 * closed the connection; the store, checker and server are then freed
 * and the directory removed, so no state passes from one input to the
 * next. Passwords are hashed at libsodium's minimum Argon2id cost (stored
 * hash and the dummy hash of unknown users alike) and a failed login is
 * answered at once (auth_failure_delay = 0), so each input runs in
 * milliseconds. Not a header for anything else: every function is static. */
#ifndef PETREL_FUZZ_SESSION_H
#define PETREL_FUZZ_SESSION_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sodium.h>

#include "auth/auth.h"
#include "core/config.h"
#include "core/jobs.h"
#include "core/log.h"
#include "net/conn.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_USER "fuzz"
#define FUZZ_DOMAIN "example.test"
#define FUZZ_PASSWORD "pw"

/* what lives across inputs: nothing that a session can change */
static struct {
	bool ready;
	char base[256];
	unsigned runs;
	struct config cfg;
	struct jobs *jobs;
	struct event_base *evb;
	struct net_worker w;
	struct net_limits limits;
	char hash[AUTH_HASH_MAX];
} fz;

/* per input */
struct fuzz_run {
	char dir[300];
	struct store *st;
	struct auth *auth;
};

struct fuzz_client {
	int fd;
	const uint8_t *data;
	size_t len, off;
	bool vanish;		/* close all at the end of input, unread */
	bool closed;		/* the server closed its end, or we did */
	struct event *rev, *wev;
};

static void fuzz_die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", what, why);
	abort();
}

/* the runs' directories are removed after each; a crash leaves its own
 * behind for a look, and an empty base is removed at exit */
static void fuzz_exit(void)
{
	(void)rmdir(fz.base);	/* not empty after a crash: kept */
}

static void fuzz_init(void)
{
	struct err err;
	if (fz.ready)
		return;
	if (auth_init(&err) != 0)
		fuzz_die("auth_init", err.msg);
	if (evthread_use_pthreads() != 0)
		fuzz_die("evthread_use_pthreads", "failed");
	signal(SIGPIPE, SIG_IGN);
	/* FUZZ_VERBOSE=1 shows the session's log, to follow a reproducer */
	log_set_level(getenv("FUZZ_VERBOSE") ? LOG_DEBUG : LOG_ERROR);
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz.base, sizeof fz.base, "%s/petrel-fuzz-XXXXXX", tmp);
	if (mkdtemp(fz.base) == NULL)
		fuzz_die("mkdtemp", strerror(errno));
	atexit(fuzz_exit);
	cfg_defaults(&fz.cfg);
	fz.cfg.imap_plaintext_auth = true;	/* no TLS on a socketpair */
	fz.cfg.pop3_plaintext_auth = true;
	fz.cfg.auth_failure_delay = 0;
	fz.cfg.smtp_max_message_size = 1024 * 1024;	/* APPENDLIMIT */
	fz.jobs = jobs_new(1);
	fz.evb = event_base_new();
	if (fz.evb == NULL)
		fuzz_die("event_base_new", "failed");
	net_worker_init(&fz.w, fz.evb, NULL, NULL);
	net_limits_init(&fz.limits, 1000, 0, false);
	if (auth_password_hash_cost(FUZZ_PASSWORD, strlen(FUZZ_PASSWORD), fz.hash,
				    sizeof fz.hash, crypto_pwhash_OPSLIMIT_MIN,
				    crypto_pwhash_MEMLIMIT_MIN, &err) != 0)
		fuzz_die("hash", err.msg);
	fz.ready = true;
}

static const char *const fuzz_messages[] = {
	"Return-Path: <alice@remote.test>\r\n"
	"From: Alice <alice@remote.test>\r\n"
	"To: fuzz@example.test\r\n"
	"Subject: plain\r\n"
	"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
	"Message-ID: <1@remote.test>\r\n"
	"\r\n"
	"Hello there.\r\n"
	".a dot line\r\n",

	"From: Bob <bob@remote.test>\r\n"
	"To: fuzz@example.test, Carol <carol@remote.test>\r\n"
	"Cc: dave@remote.test\r\n"
	"Subject: =?UTF-8?B?w6l0w6k=?= multipart\r\n"
	"Date: Tue, 8 Feb 1994 10:00:00 +0100\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"caf=C3=A9 search me\r\n"
	"--b1\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner\r\n"
	"From: inner@remote.test\r\n"
	"\r\n"
	"inner body\r\n"
	"--b1\r\n"
	"Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
	"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"AAECAwQFBgcICQ==\r\n"
	"--b1--\r\n"
	"epilogue\r\n",

	"From: eve@remote.test\r\n"
	"Subject: short\r\n"
	"\r\n"
	"x\r\n",
};

static int fuzz_rm(const char *path, const struct stat *sb, int flag,
		   struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* A fresh store with the mailbox and its messages. */
static void fuzz_run_open(struct fuzz_run *r)
{
	struct err err;
	int64_t id;
	memset(r, 0, sizeof *r);
	snprintf(r->dir, sizeof r->dir, "%s/run%u", fz.base, fz.runs++);
	if (mkdir(r->dir, 0700) != 0)
		fuzz_die("mkdir", strerror(errno));
	if (store_open(r->dir, &r->st, &err) != 0)
		fuzz_die("store_open", err.msg);
	if (store_domain_add(r->st, FUZZ_DOMAIN, &err) != 0 ||
	    store_mailbox_add(r->st, FUZZ_USER, FUZZ_DOMAIN, fz.hash,
			      256 * 1024, &id, &err) != 0)
		fuzz_die("mailbox", err.msg);
	for (size_t i = 0; i < sizeof fuzz_messages / sizeof *fuzz_messages; i++) {
		struct store_delivery d;
		memset(&d, 0, sizeof d);
		d.data = (const unsigned char *)fuzz_messages[i];
		d.len = strlen(fuzz_messages[i]);
		d.mailbox_ids = &id;
		d.n_mailboxes = 1;
		d.internal_date = 760000000 + (int64_t)i * 86400;
		if (store_deliver_wait(r->st, &d, &err) != 0)
			fuzz_die("deliver", err.msg);
	}
	r->auth = auth_new_cost(r->st, fz.jobs, crypto_pwhash_OPSLIMIT_MIN,
				crypto_pwhash_MEMLIMIT_MIN);
}

static void fuzz_run_close(struct fuzz_run *r)
{
	auth_free(&r->auth);
	store_close(&r->st);
	if (nftw(r->dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fuzz_die("remove", r->dir);
}

static void fuzz_client_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fuzz_client *cl = arg;
	char buf[65536];
	bool got = false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			got = true;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			/* a reply after the whole input went: vanish now, with
			 * nothing unread (closing a unix socket with unread
			 * data would reset the peer before it read our input) */
			if (got && cl->vanish && cl->off == cl->len)
				break;
			return;
		}
		break;
	}
	cl->closed = true;
	event_del(cl->rev);
	event_del(cl->wev);
	if (cl->vanish && close(fd) != 0)
		fuzz_die("close", strerror(errno));
	if (cl->vanish)
		cl->fd = -1;
}

static void fuzz_client_write(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fuzz_client *cl = arg;
	while (cl->off < cl->len) {
		ssize_t n = send(fd, cl->data + cl->off, cl->len - cl->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			cl->off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		break;		/* the server went: the rest is not read */
	}
	cl->off = cl->len;
	event_del(cl->wev);
	/* end of input: the server sees EOF once it has read everything */
	if (shutdown(fd, SHUT_WR) != 0 && errno != ENOTCONN)
		fuzz_die("shutdown", strerror(errno));
}

/* One session of proto (open_arg: its server) fed data. */
static void fuzz_session(const struct net_proto *proto, void *server,
			 const uint8_t *data, size_t size)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		fuzz_die("socketpair", strerror(errno));
	struct fuzz_client cl = { .fd = sv[1], .data = data, .len = size,
				  .vanish = size > 0 && data[size - 1] == 0x04 };
	cl.rev = event_new(fz.evb, sv[1], EV_READ | EV_PERSIST, fuzz_client_read, &cl);
	cl.wev = event_new(fz.evb, sv[1], EV_WRITE | EV_PERSIST, fuzz_client_write, &cl);
	if (cl.rev == NULL || cl.wev == NULL)
		fuzz_die("event_new", "failed");
	event_add(cl.rev, NULL);
	event_add(cl.wev, NULL);
	struct sockaddr_storage sa;
	memset(&sa, 0, sizeof sa);
	sa.ss_family = AF_UNIX;
	net_conn_accept(&fz.w, &fz.limits, proto, server, NULL, false, sv[0],
			(struct sockaddr *)&sa, sizeof(sa_family_t));
	/* until the server has closed and nothing of the session is left
	 * (a connection busy with a job stays until the job is done) */
	while (!cl.closed || fz.w.n_conns > 0)
		if (event_base_loop(fz.evb, EVLOOP_ONCE) < 0)
			fuzz_die("event_base_loop", "failed");
	event_free(cl.rev);
	event_free(cl.wev);
	if (cl.fd >= 0 && close(cl.fd) != 0)
		fuzz_die("close", strerror(errno));
}

#endif
