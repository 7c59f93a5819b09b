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
#include "msgauth/dkim_keys.h"
#include "msgauth/msgauth.h"

struct msgauth_svc;
struct store;

/* What a signing job gives: the DKIM-Signature fields to put on top of
 * the message (one per active key of the From domain: RSA and Ed25519,
 * RFC 8463 dual signing), or none with why. */
#define MSGAUTH_SIGN_MAX 8192
struct msgauth_signed {
	char fields[MSGAUTH_SIGN_MAX];
	size_t len;			/* 0: not signed */
	unsigned n;			/* signatures made */
	char domain[DNS_NAME_MAX + 1];	/* d= */
	char selectors[64];		/* "p202611a e202611a" */
	char why[160];			/* not signed: the reason ("" ok) */
};

/* What sealing a forwarded message gives (a CHECK job with seal_domain):
 * the ARC set to put on top (ARC-Seal, ARC-Message-Signature,
 * ARC-Authentication-Results, RFC 8617 5.1), or none with why. */
#define MSGAUTH_SEAL_MAX (AR_MAX + 6144)
struct msgauth_sealed {
	char fields[MSGAUTH_SEAL_MAX];
	size_t len;			/* 0: not sealed */
	unsigned instance;		/* i= of the new set */
	char domain[DNS_NAME_MAX + 1];	/* d= */
	char selector[64];		/* s= */
	char why[160];			/* not sealed: the reason */
};

enum msgauth_kind {
	MSGAUTH_CHECK = 0,		/* incoming: msgauth_inbound */
	MSGAUTH_SIGN,			/* submitted: DKIM-sign as the From domain */
};

struct msgauth_job {
	struct job job;			/* private */
	struct msgauth_svc *svc_;	/* private */
	enum msgauth_kind kind;
	struct msgauth_in in;		/* the caller's; its buffers must stay
					 * valid and unchanged until done (SIGN
					 * uses msg, len and now) */
	struct msgauth_out out;		/* CHECK */
	/* CHECK: also ARC-seal the message (it goes on to another domain)
	 * as the first of these hosted domains that has an RSA DKIM key;
	 * NULL/"" entries are skipped. Not when out says REJECT. */
	const char *seal_domain[2];
	struct msgauth_sealed seal;	/* CHECK with seal_domain */
	struct msgauth_signed sig;	/* SIGN */
	/* CHECK: leave SPF, DKIM, ARC and DMARC out (msgauth_inbound = no;
	 * out says deliver with no Authentication-Results) */
	bool no_checks;
	/* CHECK: more work on the pool thread once out is filled (the spam
	 * filter), before done; NULL: none. May block. */
	void (*after)(struct msgauth_job *j);
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
/* The store holding the DKIM keys (signing needs it; borrowed, must
 * outlive svc's jobs): set once it is open. */
void msgauth_svc_set_store(struct msgauth_svc *svc, struct store *st);
/* Run j on the pool: msgauth_inbound or DKIM signing, as j->kind says. */
/* The pool's resolver, for other checks on its threads (DNS blocklists);
 * valid as long as svc. */
const struct ma_dns *msgauth_svc_dns(const struct msgauth_svc *svc);
void msgauth_submit(struct msgauth_svc *svc, struct msgauth_job *j);
/* The signing step itself (what a SIGN job runs): sign msg as its From
 * domain with that domain's active keys, made on first need. */
void msgauth_sign(struct store *st, const struct dkim_key_policy *policy,
		  const char *msg, size_t len, time_t now,
		  struct msgauth_signed *out);

/* The sealing step of a CHECK job: an ARC set for in->msg as the first
 * of domains[0..n) with an active RSA key (RFC 8617 defines rsa-sha256
 * only), its cv= from the chain checks found and its AAR the results
 * of checks (their Authentication-Results). */
void msgauth_seal(struct store *st, const struct dkim_key_policy *policy,
		  const char *const *domains, size_t n,
		  const struct msgauth_in *in, const struct msgauth_out *checks,
		  struct msgauth_sealed *out);

#endif
