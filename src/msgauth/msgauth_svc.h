/* msgauth_svc.h - where the checks of msgauth.h run in petreld: a pool of
 * threads of their own (they wait on DNS; the connection threads never
 * do, DESIGN.md "Mail flow") sharing one libunbound resolver. A caller
 * fills a job, submits it, and is told on a pool thread when it is done
 * (typically by activating an event of its own loop). */
#ifndef PETREL_MSGAUTH_SVC_H
#define PETREL_MSGAUTH_SVC_H

#include "core/config.h"
#include "core/err.h"
#include "core/jobs.h"
#include "msgauth/msgauth.h"

struct msgauth_svc;

struct msgauth_job {
	struct job job;			/* private */
	struct msgauth_svc *svc_;	/* private */
	struct msgauth_in in;		/* the caller's; its buffers must stay
					 * valid and unchanged until done */
	struct msgauth_out out;
	/* Called once on a pool thread when out is filled: must not block. */
	void (*done)(struct msgauth_job *j);
	void *arg;
};

/* The pool (cfg->msgauth_threads threads) and its resolver, configured
 * from cfg (dns_forwarder, dns_timeout): resolv.conf and hosts are read
 * now, so call before the chroot. cfg is borrowed. NULL with err. */
struct msgauth_svc *msgauth_svc_new(const struct config *cfg, struct err *err);
/* Waits for running jobs (their done() runs), then frees; *sp = NULL. */
void msgauth_svc_free(struct msgauth_svc **sp);
/* Run j->in through msgauth_inbound on the pool. */
void msgauth_submit(struct msgauth_svc *svc, struct msgauth_job *j);

#endif
