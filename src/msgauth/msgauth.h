/* msgauth.h - the authentication step of an incoming message: SPF for
 * the envelope, DKIM for the signatures, ARC for a forwarder's chain and
 * DMARC over all of them, turned into one decision and the
 * Authentication-Results field to add (RFC 8601).
 *
 * It is a pure function of the message, its envelope, DNS (ma_dns.h) and
 * the clock, so it runs on a thread of the authentication pool where
 * blocking on DNS is allowed (decision 0026); the SMTP server waits for
 * it without blocking its loop (smtp_msgauth.c). */
#ifndef PETREL_MSGAUTH_H
#define PETREL_MSGAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "msgauth/ar.h"
#include "msgauth/arc.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/ma_dns.h"
#include "msgauth/spf.h"

struct msgauth_conf {
	const char *authserv_id;	/* our host name, in A-R and SPF %{r} */
	/* Act on DMARC: p=reject refused (550 5.7.1), p=quarantine to Junk.
	 * Off: results are only recorded in Authentication-Results. */
	bool dmarc_enforce;
	/* Sealers (ARC d= domains) whose ARC chain is trusted to vouch for
	 * a message whose DMARC fails only because a list or forwarder
	 * changed it (RFC 8617 7.2): the policy is then not applied. */
	const char *const *arc_trusted;
	size_t n_arc_trusted;
};

struct msgauth_in {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char ip[16];		/* the client, network order */
	const char *helo;		/* as given */
	const char *mail_from;		/* without <>; "" for the null path */
	const char *msg;		/* the message as received (no trace
					 * header of ours), len bytes */
	size_t len;
	time_t now;
};

enum msgauth_action {
	MSGAUTH_DELIVER = 0,
	MSGAUTH_JUNK,			/* DMARC quarantine */
	MSGAUTH_REJECT,			/* DMARC reject: reply says why */
};

struct msgauth_out {
	enum msgauth_action action;
	char reply[400];		/* REJECT: "550 5.7.1 ..." (one line) */
	char ar[AR_MAX];		/* "Authentication-Results: ...\r\n" */
	size_t ar_len;
	/* what each check said, for logs and DMARC aggregate reports */
	struct spf_out spf;		/* MAIL FROM (HELO for the null path) */
	bool spf_helo_checked;		/* and HELO on its own (RFC 7208 2.3) */
	struct spf_out spf_helo;
	struct dkim_verdict dkim;
	bool dkim_bad_message;		/* the message could not be parsed */
	struct arc_result arc;
	bool dmarc_checked;		/* a From domain to check */
	struct dmarc_eval dmarc;
	bool arc_override;		/* DMARC failed, a trusted ARC chain vouched */
	/* the client's forward-confirmed reverse name (ma_rdns_lookup): for
	 * our Received field and the filter; filled by the pool job
	 * (msgauth_svc.h), not by msgauth_inbound */
	enum ma_rdns rdns;
	char rdns_name[DNS_NAME_MAX + 1];
};

/* Run every check on in and decide. Never fails: DNS trouble becomes
 * temperror results, which never refuse a message. */
void msgauth_inbound(const struct ma_dns *dns, const struct msgauth_conf *conf,
		     const struct msgauth_in *in, struct msgauth_out *out);

/* One line for the log: "spf=pass dkim=pass dmarc=pass action=deliver". */
void msgauth_summary(const struct msgauth_out *out, char *buf, size_t bufsz);

#endif
