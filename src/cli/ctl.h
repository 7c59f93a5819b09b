/* ctl.h - what petrelctl's command files share: the context every
 * command gets (configuration, the store opened for administration, the
 * last error) and the two ways a command ends in failure. Commands are
 * int fn(struct ctl *c, int argc, char **argv), listed in petrelctl.c's
 * table; 0 success, 1 failure, 2 usage. */
#ifndef PETREL_CLI_CTL_H
#define PETREL_CLI_CTL_H

#include "core/config.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

struct store;
typedef struct json_t json_t;

struct ctl {
	struct config cfg;
	struct store *st;	/* NULL for commands that need no store */
	struct err err;
	bool json;		/* --json: one JSON document on stdout */
	json_t *out;		/* that document, built by the calls below */
	bool printed;		/* the command printed its document itself */
};

/* ctl_out.c: a command's answer. ctl_say prints a sentence (with --json:
 * the document's "message"); ctl_set adds key (with --json only; steals
 * v); ctl_item appends to a list document (with --json; steals item);
 * ctl_list_begin makes an empty list the answer (so no items is "[]");
 * ctl_doc makes doc the whole answer. main prints it (ctl_out_finish). */
void ctl_say(struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_set(struct ctl *c, const char *key, json_t *v);
void ctl_item(struct ctl *c, json_t *item);
void ctl_list_begin(struct ctl *c);
void ctl_doc(struct ctl *c, json_t *doc);
void ctl_out_finish(struct ctl *c, int rc);
/* Print c->err (and with --json an error document) and return 1. */
int ctl_fail(struct ctl *c);
/* Print "usage: petrelctl what" and return 2. */
int ctl_usage_error(const char *what);

/* ctl_queue.c: queue list|show|retry|hold|release|delete|bounce */
int ctl_queue_list(struct ctl *c, int argc, char **argv);
int ctl_queue_show(struct ctl *c, int argc, char **argv);
int ctl_queue_retry(struct ctl *c, int argc, char **argv);
int ctl_queue_hold(struct ctl *c, int argc, char **argv);
int ctl_queue_release(struct ctl *c, int argc, char **argv);
int ctl_queue_delete(struct ctl *c, int argc, char **argv);
int ctl_queue_bounce(struct ctl *c, int argc, char **argv);

/* ctl_token.c: token create|list|revoke (the admin API's bearer tokens) */
int ctl_token_create(struct ctl *c, int argc, char **argv);
int ctl_token_list(struct ctl *c, int argc, char **argv);
int ctl_token_revoke(struct ctl *c, int argc, char **argv);
/* ctl_model.c: domains, aliases, groups, catch-all, mailbox settings */
int ctl_domain_list(struct ctl *c, int argc, char **argv);
int ctl_domain_show(struct ctl *c, int argc, char **argv);
int ctl_domain_plan(struct ctl *c, int argc, char **argv);
int ctl_domain_suspend(struct ctl *c, int argc, char **argv);
int ctl_domain_activate(struct ctl *c, int argc, char **argv);
int ctl_domain_alias(struct ctl *c, int argc, char **argv);
int ctl_alias_add(struct ctl *c, int argc, char **argv);
int ctl_alias_list(struct ctl *c, int argc, char **argv);
int ctl_alias_remove(struct ctl *c, int argc, char **argv);
int ctl_group_add(struct ctl *c, int argc, char **argv);
int ctl_group_member(struct ctl *c, int argc, char **argv);
int ctl_group_sender(struct ctl *c, int argc, char **argv);
int ctl_group_list(struct ctl *c, int argc, char **argv);
int ctl_catchall_set(struct ctl *c, int argc, char **argv);
int ctl_mailbox_suspend(struct ctl *c, int argc, char **argv);
int ctl_mailbox_activate(struct ctl *c, int argc, char **argv);
int ctl_mailbox_forward(struct ctl *c, int argc, char **argv);
int ctl_mailbox_show(struct ctl *c, int argc, char **argv);
/* ctl_cred.c: app-password add|list|revoke, totp enable|disable|verify,
 * domain 2fa */
int ctl_app_password_add(struct ctl *c, int argc, char **argv);
int ctl_app_password_list(struct ctl *c, int argc, char **argv);
int ctl_app_password_revoke(struct ctl *c, int argc, char **argv);
int ctl_totp_enable(struct ctl *c, int argc, char **argv);
int ctl_totp_disable(struct ctl *c, int argc, char **argv);
int ctl_totp_verify(struct ctl *c, int argc, char **argv);
int ctl_domain_2fa(struct ctl *c, int argc, char **argv);

/* ctl_import.c: mailbox import, domain password-policy */
int ctl_mailbox_import(struct ctl *c, int argc, char **argv);
int ctl_domain_password_policy(struct ctl *c, int argc, char **argv);

/* ctl_audit.c: audit list|verify */
int ctl_audit_list(struct ctl *c, int argc, char **argv);
int ctl_audit_verify(struct ctl *c, int argc, char **argv);
/* The audit log's actor of this run: "petrelctl:USER". */
void ctl_set_actor(void);
/* Unix time t as "2026-11-26 13:00:00Z", "-" for 0. */
void ctl_time_text(int64_t t, char *out, size_t outsz);

/* ctl_dkim.c: dkim keygen|list|rotate; ctl_doctor.c: dns records|check */
int ctl_dkim_keygen(struct ctl *c, int argc, char **argv);
int ctl_dkim_list(struct ctl *c, int argc, char **argv);
int ctl_dkim_rotate(struct ctl *c, int argc, char **argv);
int ctl_dns_records(struct ctl *c, int argc, char **argv);
int ctl_dns_check(struct ctl *c, int argc, char **argv);

/* --since: "30m", "2h", "7d" ago, or a UTC date "2026-11-26" or
 * "2026-11-26T13:00:00". -1 if neither. (ctl_audit.c) */
int64_t ctl_parse_since(const char *s, int64_t now);
/* ctl_dmarc.c: dmarc send (petreld sends), dmarc report (reports received) */
int ctl_dmarc_send(struct ctl *c, int argc, char **argv);
int ctl_dmarc_report(struct ctl *c, int argc, char **argv);

/* ctl_settings.c: domain settings (the server addresses for clients) */
int ctl_domain_settings(struct ctl *c, int argc, char **argv);
/* ctl_filter.c: filter settings | allow | block (decision 0040) */
int ctl_filter_settings(struct ctl *c, int argc, char **argv);
int ctl_filter_allow(struct ctl *c, int argc, char **argv);
int ctl_filter_block(struct ctl *c, int argc, char **argv);
/* ctl_quar.c: quarantine list|show|release|delete|expire */
int ctl_quarantine_list(struct ctl *c, int argc, char **argv);
int ctl_quarantine_show(struct ctl *c, int argc, char **argv);
int ctl_quarantine_release(struct ctl *c, int argc, char **argv);
int ctl_quarantine_delete(struct ctl *c, int argc, char **argv);
int ctl_quarantine_expire(struct ctl *c, int argc, char **argv);
/* ctl_filter_learn.c: filter train|untrain|score|stats (the classifier) */
int ctl_filter_train(struct ctl *c, int argc, char **argv);
int ctl_filter_untrain(struct ctl *c, int argc, char **argv);
int ctl_filter_score(struct ctl *c, int argc, char **argv);
int ctl_filter_stats(struct ctl *c, int argc, char **argv);
int ctl_filter_symbols(struct ctl *c, int argc, char **argv);

#endif
