/* imap_cmd_idle.c - IDLE (RFC 2177, RFC 9051 6.3.13): changes from other
 * sessions and SMTP are pushed as they are committed (the store watcher
 * wakes the session, imap_session.c) until the client sends DONE. The
 * reader's buffers are given back meanwhile: an idling session is small. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <string.h>

#define TAG(cmd) ((const char *)(cmd)->tag.p)

void imap_cmd_idle(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(s, TAG(cmd), "IDLE takes no arguments");
		return;
	}
	snprintf(s->tag, sizeof s->tag, "%s", TAG(cmd));
	if (s->state == IMAP_S_SELECTED)
		imap_sync(s, true);
	imap_out_str(&s->out, "+ idling\r\n");
	imap_flush(s);
	s->mode = IMAP_M_IDLE;
	net_conn_set_timeout(s->c, s->srv->cfg->imap_idle_timeout);
	/* an idling session should be small: give back what it can */
	imap_parser_shrink(s->parser);	/* cmd is not used after this */
	imap_compact(s);
	buf_release(&s->out);
	buf_init(&s->out, IMAP_OUT_MAX);
	buf_release(&s->literal);
}

void imap_idle_line(struct imap_session *s, struct span line)
{
	char tag[sizeof s->tag];
	memcpy(tag, s->tag, sizeof tag);
	s->mode = IMAP_M_COMMAND;
	imap_expand(s);
	net_conn_set_timeout(s->c, s->srv->cfg->imap_timeout);
	if (!span_eq_ci(line, "DONE")) {
		imap_bad(s, tag, "Expected DONE");
		return;
	}
	s->sync_expunges = true;
	imap_ok(s, tag, "IDLE terminated");
}
