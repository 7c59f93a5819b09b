/* imap_cmd_quota.c - QUOTA (RFC 9208) with the STORAGE resource: one
 * quota root per account, named "", whose limit is the mailbox quota
 * that petrelctl sets and SMTP and the store enforce. Reading only:
 * SETQUOTA is for administrators, and an IMAP user is never one, so
 * QUOTASET is not advertised. The store counts no messages, so there is
 * no MESSAGE resource. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <string.h>

#define TAG(cmd) ((const char *)(cmd)->tag.p)

/* The session's mailbox: 1 (quota and used in bytes; quota 0 means
 * none), or -1 with the reply sent. */
static int account(struct imap_session *s, const char *tag,
		   struct store_mailbox *mb)
{
	char local[sizeof s->address];
	struct err err;
	snprintf(local, sizeof local, "%s", s->address);
	char *at = strrchr(local, '@');
	if (at == NULL) {
		imap_no(s, tag, "[UNAVAILABLE] No quota information");
		return -1;
	}
	*at = '\0';
	int rc = store_mailbox_find(s->srv->store, local, at + 1, mb, &err);
	if (rc < 0) {
		imap_no_store(s, tag, "quota", &err);
		return -1;
	}
	if (rc == 0) {
		imap_no(s, tag, "[UNAVAILABLE] No quota information");
		return -1;
	}
	return 1;
}

/* RFC 9208 5.1: STORAGE in units of 1024 octets; usage rounds up so
 * that a full mailbox never looks as if it had room. */
static void quota_line(struct buf *o, const struct store_mailbox *mb)
{
	imap_out_fmt(o, "* QUOTA \"\" (STORAGE %llu %llu)\r\n",
		     (unsigned long long)((mb->used + 1023) / 1024),
		     (unsigned long long)(mb->quota / 1024));
}

void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	char name[STORE_FOLDER_NAME_MAX + 1];
	if (cmd->nargs != 1) {
		imap_bad(s, tag, "Syntax: GETQUOTAROOT mailbox");
		return;
	}
	if (imap_arg_mailbox(s, cmd, &cmd->args[0], name, sizeof name) != 0)
		return;
	struct store_folder f;
	struct err err;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err);
	if (rc < 0) {
		imap_no_store(s, tag, "GETQUOTAROOT", &err);
		return;
	}
	if (rc == 0) {
		imap_no(s, tag, "[NONEXISTENT] Mailbox does not exist");
		return;
	}
	struct store_mailbox mb;
	if (account(s, tag, &mb) < 0)
		return;
	/* RFC 9208 4.1.2: a mailbox without a quota has no root */
	imap_out_str(&s->out, "* QUOTAROOT ");
	imap_out_mailbox(s, &s->out, f.name);
	imap_out_str(&s->out, mb.quota > 0 ? " \"\"\r\n" : "\r\n");
	if (mb.quota > 0)
		quota_line(&s->out, &mb);
	imap_ok(s, tag, "GETQUOTAROOT completed");
}

void imap_cmd_getquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	struct span root;
	if (cmd->nargs != 1 || !imap_arg_astring(&cmd->args[0], &root)) {
		imap_bad(s, tag, "Syntax: GETQUOTA root");
		return;
	}
	struct store_mailbox mb;
	if (root.len != 0) {
		imap_no(s, tag, "[NONEXISTENT] No such quota root");
		return;
	}
	if (account(s, tag, &mb) < 0)
		return;
	if (mb.quota == 0) {
		imap_no(s, tag, "[NONEXISTENT] No quota on this account");
		return;
	}
	quota_line(&s->out, &mb);
	imap_ok(s, tag, "GETQUOTA completed");
}

void imap_cmd_setquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST) {
		imap_bad(s, tag, "Syntax: SETQUOTA root (resource limit ...)");
		return;
	}
	/* RFC 9208 4.1.3: "a NO response if the user does not have
	 * permission"; quotas are set with `petrelctl mailbox quota` */
	imap_no(s, tag, "[NOPERM] Only an administrator can change quotas");
}
