/* imap_cmd.c - the IMAP command table: name, handler, the states a command
 * is allowed in (RFC 9051 3, 6) and whether it has a UID form, and
 * CAPABILITY's list, which names only what the handlers implement. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <string.h>

#define ANY (IMAP_S_NOTAUTH | IMAP_S_AUTH | IMAP_S_SELECTED)
#define AUTHED (IMAP_S_AUTH | IMAP_S_SELECTED)
#define SEL IMAP_S_SELECTED

enum {
	CMD_UID = 1u << 0,	/* "UID <name>" exists */
	CMD_NO_SYNC = 1u << 1,	/* no untagged EXPUNGE at its end (7.5.1) */
};

static const struct imap_command {
	const char *name;
	imap_cmd_fn *fn;
	unsigned states;
	unsigned flags;
} commands[] = {
	{ "CAPABILITY", imap_cmd_capability, ANY, 0 },
	{ "NOOP", imap_cmd_noop, ANY, 0 },
	{ "LOGOUT", imap_cmd_logout, ANY, 0 },
	{ "ID", imap_cmd_id, ANY, 0 },
	{ "STARTTLS", imap_cmd_starttls, IMAP_S_NOTAUTH, 0 },
	{ "LOGIN", imap_cmd_login, IMAP_S_NOTAUTH, 0 },
	{ "AUTHENTICATE", imap_cmd_authenticate, IMAP_S_NOTAUTH, 0 },
	{ "ENABLE", imap_cmd_enable, AUTHED, 0 },
	{ "SELECT", imap_cmd_select, AUTHED, 0 },
	{ "EXAMINE", imap_cmd_examine, AUTHED, 0 },
	{ "CREATE", imap_cmd_create, AUTHED, 0 },
	{ "DELETE", imap_cmd_delete, AUTHED, 0 },
	{ "RENAME", imap_cmd_rename, AUTHED, 0 },
	{ "SUBSCRIBE", imap_cmd_subscribe, AUTHED, 0 },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, AUTHED, 0 },
	{ "LIST", imap_cmd_list, AUTHED, 0 },
	{ "LSUB", imap_cmd_lsub, AUTHED, 0 },
	{ "NAMESPACE", imap_cmd_namespace, AUTHED, 0 },
	{ "STATUS", imap_cmd_status, AUTHED, 0 },
	{ "APPEND", imap_cmd_append, AUTHED, 0 },
	{ "IDLE", imap_cmd_idle, AUTHED, 0 },
	{ "CHECK", imap_cmd_check, SEL, 0 },
	{ "CLOSE", imap_cmd_close, SEL, 0 },
	{ "UNSELECT", imap_cmd_unselect, SEL, 0 },
	{ "EXPUNGE", imap_cmd_expunge, SEL, CMD_UID },
	{ "SEARCH", imap_cmd_search, SEL, CMD_UID | CMD_NO_SYNC },
	{ "SORT", imap_cmd_sort, SEL, CMD_UID | CMD_NO_SYNC },
	{ "THREAD", imap_cmd_thread, SEL, CMD_UID | CMD_NO_SYNC },
	{ "CANCELUPDATE", imap_cmd_cancelupdate, SEL, 0 },
	{ "FETCH", imap_cmd_fetch, SEL, CMD_UID | CMD_NO_SYNC },
	{ "STORE", imap_cmd_store, SEL, CMD_UID | CMD_NO_SYNC },
	{ "COPY", imap_cmd_copy, SEL, CMD_UID },
	{ "MOVE", imap_cmd_move, SEL, CMD_UID },
	{ "COMPRESS", imap_cmd_compress, AUTHED, 0 },
	{ "GETQUOTA", imap_cmd_getquota, AUTHED, 0 },
	{ "GETQUOTAROOT", imap_cmd_getquotaroot, AUTHED, 0 },
	{ "SETQUOTA", imap_cmd_setquota, AUTHED, 0 },
};

void imap_capability_text(struct imap_session *s, struct buf *out)
{
	bool tls_offered = s->srv->tls != NULL && !s->c->tls;
	bool login_ok = s->c->tls || s->srv->cfg->imap_plaintext_auth;
	imap_out_str(out, "CAPABILITY IMAP4rev1 IMAP4rev2");
	if (s->state == IMAP_S_NOTAUTH) {
		if (tls_offered)
			imap_out_str(out, " STARTTLS");
		if (login_ok)
			imap_out_str(out, " AUTH=PLAIN");
		else
			imap_out_str(out, " LOGINDISABLED");
	}
	imap_out_str(out, " SASL-IR LITERAL+ ID ENABLE IDLE");
	if (s->state != IMAP_S_NOTAUTH) {
		imap_out_fmt(out, " UIDPLUS MOVE NAMESPACE SPECIAL-USE UNSELECT CHILDREN"
			     " LIST-EXTENDED LIST-STATUS CONDSTORE QRESYNC ESEARCH SEARCHRES BINARY"
			     " APPENDLIMIT=%llu STATUS=SIZE",
			     (unsigned long long)s->srv->cfg->smtp_max_message_size);
		/* RFC 5256, RFC 5957, RFC 5267 (imap_cmd_sort.c,
		 * imap_context.c) */
		imap_out_str(out, " SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT"
			     " THREAD=REFERENCES ESORT CONTEXT=SEARCH CONTEXT=SORT");
		/* RFC 9208, 3502, 6855, 8474, 4469; RFC 4978 until active */
		imap_out_str(out, " QUOTA QUOTA=RES-STORAGE MULTIAPPEND UTF8=ACCEPT"
			     " OBJECTID CATENATE");
		if (!s->c->compressed)
			imap_out_str(out, " COMPRESS=DEFLATE");
	}
}

void imap_cmd_dispatch(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = (const char *)cmd->tag.p;
	const struct imap_command *k = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (span_eq_ci(cmd->name, commands[i].name)) {
			k = &commands[i];
			break;
		}
	if (k == NULL || (cmd->uid && !(k->flags & CMD_UID))) {
		imap_bad(s, tag, "Unknown command %s%.40s", cmd->uid ? "UID " : "",
			 (const char *)cmd->name.p);
		return;
	}
	if (!(k->states & s->state)) {
		imap_bad(s, tag, "%s", s->state == IMAP_S_NOTAUTH ? "Log in first" :
			 s->state == IMAP_S_AUTH ? "No mailbox selected" :
			 "Already logged in");
		return;
	}
	/* the reply (and untagged data) of this command come after what
	 * earlier ones queued, and changes from elsewhere come before it
	 * with the tagged reply */
	s->sync_expunges = !(k->flags & CMD_NO_SYNC) || cmd->uid;
	k->fn(s, cmd);
}
