/* imap_cmd_compress.c - COMPRESS DEFLATE (RFC 4978). Only once logged in
 * (RFC 4978 3: the state is "authenticated or selected"), so nothing a
 * stranger sends is inflated. The connection layer (src/net/compress.c)
 * does the deflating; this file only decides when. */
#include "imap/imap_private.h"

#include "core/log.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

void imap_cmd_compress(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	if (cmd->nargs != 1 || cmd->args[0].type != IMAP_ARG_ATOM) {
		imap_bad(s, tag, "Syntax: COMPRESS DEFLATE");
		return;
	}
	if (!imap_arg_atom_is(&cmd->args[0], "DEFLATE")) {
		imap_no(s, tag, "Unknown compression mechanism");
		return;
	}
	if (s->c->compressed) {
		imap_no(s, tag, "[COMPRESSIONACTIVE] DEFLATE is already active");
		return;
	}
	/* RFC 4978 3: the OK is the last thing sent in clear; what the
	 * client sent after the command is already compressed, so what the
	 * reader holds past it goes back to be inflated */
	imap_ok(s, tag, "DEFLATE active");
	struct span pending = imap_parser_pending(s->parser);
	int rc = net_conn_compress(s->c, pending.p, pending.len);
	imap_parser_drop_pending(s->parser);
	if (rc != 0) {
		/* the client already compresses: nothing it could read */
		log_error("imap", s->c->id, "compress setup failed user=%s", s->address);
		net_conn_close_after_flush(s->c);
		return;
	}
	log_info("imap", s->c->id, "compress user=%s", s->address);
}
