/* imap_cmd_store.c - changing messages of the selected folder: STORE
 * (RFC 9051 6.4.6, with UNCHANGEDSINCE and MODIFIED from RFC 7162 3.1.3),
 * COPY (6.4.7, COPYUID from RFC 4315) and MOVE (RFC 6851), with their UID
 * forms. Each is one store call: one committer transaction. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "filter/bayes.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

void imap_cmd_store(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *tag = TAG(cmd);
	struct err err;
	size_t i = 1;
	uint64_t unchanged_since = 0;
	bool has_unchanged = false;
	if (cmd->nargs < 3) {
		imap_bad(s, tag, "Syntax: STORE sequence-set [(UNCHANGEDSINCE n)] item flags");
		return;
	}
	if (cmd->args[1].type == IMAP_ARG_LIST) {
		const struct imap_arg *m = &cmd->args[1];
		if (m->list_len != 2 || !imap_arg_atom_is(&m->list[0], "UNCHANGEDSINCE") ||
		    m->list[1].type != IMAP_ARG_ATOM ||
		    imap_parse_number64(m->list[1].str, &unchanged_since) != 0) {
			imap_bad(s, tag, "Invalid STORE modifier");
			return;
		}
		has_unchanged = true;
		s->condstore = true;
		i = 2;
	}
	if (cmd->nargs < i + 2 || cmd->args[i].type != IMAP_ARG_ATOM) {
		imap_bad(s, tag, "Syntax: STORE sequence-set item flags");
		return;
	}
	struct span item = cmd->args[i].str;
	enum store_flags_op op = STORE_FLAGS_SET;
	if (item.len > 0 && (item.p[0] == '+' || item.p[0] == '-')) {
		op = item.p[0] == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
		item.p++;
		item.len--;
	}
	bool silent = false;
	if (span_eq_ci(item, "FLAGS.SILENT"))
		silent = true;
	else if (!span_eq_ci(item, "FLAGS")) {
		imap_bad(s, tag, "Invalid STORE item");
		return;
	}
	struct imap_flags fl;
	if (imap_parse_flags(&cmd->args[i + 1], cmd->nargs - i - 1, cmd->arena, &fl, &err) != 0) {
		imap_bad(s, tag, "%s", err.msg);
		return;
	}
	uint32_t *idx;
	size_t n;
	if (imap_arg_messages(s, cmd, &cmd->args[0], cmd->uid, &idx, &n) != 0)
		return;
	if (s->readonly) {
		imap_no(s, tag, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (n == 0) {
		imap_ok(s, tag, "STORE completed");
		return;
	}
	const char **kw = imap_arena_calloc(cmd->arena, fl.nkeywords ? fl.nkeywords : 1, sizeof *kw);
	if (kw == NULL) {
		imap_bad(s, tag, "Command too complex");
		return;
	}
	uint32_t *uids = xreallocarray(NULL, n, sizeof *uids);
	for (size_t k = 0; k < fl.nkeywords; k++)
		kw[k] = (const char *)fl.keywords[k].p;	/* arena atoms end in NUL */
	for (size_t k = 0; k < n; k++)
		uids[k] = s->msgs[idx[k]].uid;
	struct store_flags_result *res = xreallocarray(NULL, n, sizeof *res);
	if (has_unchanged && unchanged_since == 0) {
		/* RFC 7162 3.1.3: nothing has a modseq of 0 or less */
		for (size_t k = 0; k < n; k++) {
			res[k].uid = uids[k];
			res[k].status = STORE_FLAGS_MODIFIED;
		}
	} else if (store_flags_update(s->srv->store, s->folder_id, uids, n, op,
				      fl.system & STORE_FLAGS_STORED, kw, fl.nkeywords,
				      unchanged_since, res, &err) != 0) {
		free(res);
		free(uids);
		imap_no_store(s, tag, "STORE", &err);
		return;
	}
	uint64_t old_defined = s->kw ? s->kw->defined : 0;
	/* the uids array is free again: MODIFIED collects there */
	uint32_t *modified = uids;
	size_t n_modified = 0;
	bool reload = false;
	for (size_t k = 0; k < n; k++) {
		long x = imap_msg_find(s, res[k].uid);
		if (x < 0 || res[k].status == STORE_FLAGS_NOSUCH)
			continue;
		struct imap_msg *m = &s->msgs[x];
		if (res[k].status == STORE_FLAGS_MODIFIED) {
			modified[n_modified++] = m->uid;
			continue;
		}
		m->flags = res[k].flags & STORE_FLAGS_STORED;
		m->keywords = res[k].keywords;
		m->modseq = res[k].modseq;
		if (m->keywords & ~old_defined)
			reload = true;
	}
	if (reload) {
		/* RFC 9051 7.3.5: a new keyword means a new FLAGS list */
		imap_keywords_reload(s);
		imap_out_str(&s->out, "* FLAGS ");
		imap_out_flag_list(s, &s->out, false);
		imap_out_str(&s->out, "\r\n");
		if (!s->readonly) {
			imap_out_str(&s->out, "* OK [PERMANENTFLAGS ");
			imap_out_flag_list(s, &s->out, true);
			imap_out_str(&s->out, "] Flags permitted\r\n");
		}
	}
	for (size_t k = 0; k < n; k++) {
		long x = imap_msg_find(s, res[k].uid);
		if (x < 0 || res[k].status == STORE_FLAGS_NOSUCH ||
		    res[k].status == STORE_FLAGS_MODIFIED)
			continue;
		/* .SILENT still tells of modseq changes (RFC 7162 3.2) */
		if (silent && !(s->condstore && res[k].status == STORE_FLAGS_CHANGED))
			continue;
		const struct imap_msg *m = &s->msgs[x];
		imap_out_fmt(&s->out, "* %ld FETCH (", x + 1);
		if (cmd->uid)
			imap_out_fmt(&s->out, "UID %u ", m->uid);
		imap_out_str(&s->out, "FLAGS ");
		imap_out_flags(s, &s->out, m->flags, m->keywords);
		if (s->condstore)
			imap_out_fmt(&s->out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
		imap_out_str(&s->out, ")\r\n");
	}
	free(res);
	if (n_modified > 0) {
		/* MODIFIED lists UIDs for UID STORE, sequence numbers otherwise */
		struct buf set;
		buf_init(&set, IMAP_OUT_MAX);
		if (cmd->uid) {
			imap_out_uidset(&set, modified, n_modified);
		} else {
			for (size_t k = 0; k < n_modified; k++)
				modified[k] = (uint32_t)imap_msg_find(s, modified[k]) + 1;
			imap_out_uidset(&set, modified, n_modified);
		}
		imap_ok(s, tag, "[MODIFIED %.*s] Conditional STORE failed", (int)set.len,
			(const char *)set.data);
		buf_release(&set);
		free(modified);
		return;
	}
	free(modified);
	imap_ok(s, tag, "%sSTORE completed", cmd->uid ? "UID " : "");
}

/* A user moving mail into Junk, or out of it, teaches the classifier
 * (decision 0037); the learner's thread reads and learns the copies in
 * dst, so the command does not wait for it. */
static void learn_junk(struct imap_session *s, const struct store_folder *dst,
		       const uint32_t *new_uids, size_t n, bool move)
{
	struct store_folder src;
	struct err err;
	char scope[STORE_BAYES_SCOPE_MAX + 1];
	if (n == 0 || s->srv->learner == NULL ||
	    store_folder_find(s->srv->store, s->mailbox_id, s->folder_name,
			      &src, &err) != 1)
		return;
	enum store_bayes_label label = bayes_label_for_move(src.special,
							    dst->special, move);
	if (label != STORE_BAYES_NONE &&
	    bayes_scope_name(NULL, s->address, scope, sizeof scope, &err) == 0)
		bayes_learner_submit(s->srv->learner, scope, dst->id, new_uids,
				     n, label);
}

static void copy_or_move(struct imap_session *s, const struct imap_cmd *cmd,
			 bool move)
{
	const char *tag = TAG(cmd);
	const char *verb = move ? "MOVE" : "COPY";
	char name[STORE_FOLDER_NAME_MAX + 1];
	struct err err;
	if (cmd->nargs != 2) {
		imap_bad(s, tag, "Syntax: %s sequence-set mailbox", verb);
		return;
	}
	uint32_t *idx;
	size_t n;
	if (imap_arg_messages(s, cmd, &cmd->args[0], cmd->uid, &idx, &n) != 0 ||
	    imap_arg_mailbox(s, cmd, &cmd->args[1], name, sizeof name) != 0)
		return;
	if (move && s->readonly) {
		imap_no(s, tag, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	struct store_folder dst;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, name, &dst, &err);
	if (rc < 0) {
		imap_no_store(s, tag, verb, &err);
		return;
	}
	if (rc == 0) {
		imap_no(s, tag, "[TRYCREATE] Mailbox does not exist");
		return;
	}
	if (n == 0) {
		imap_ok(s, tag, "%s completed", verb);
		return;
	}
	uint32_t *uids = xreallocarray(NULL, n, sizeof *uids);
	uint32_t *map = xreallocarray(NULL, n, sizeof *map);
	for (size_t k = 0; k < n; k++)
		uids[k] = s->msgs[idx[k]].uid;
	uint32_t uidvalidity = 0;
	if (move)
		rc = store_move(s->srv->store, s->folder_id, uids, n, dst.id, map,
				&uidvalidity, NULL, &err);
	else
		rc = store_copy(s->srv->store, s->folder_id, uids, n, dst.id, map,
				&uidvalidity, &err);
	if (rc != 0) {
		free(uids);
		free(map);
		imap_no_store(s, tag, verb, &err);
		return;
	}
	/* keep the pairs that were copied, in place (m <= k) */
	uint32_t *src = uids;
	size_t m = 0;
	for (size_t k = 0; k < n; k++)
		if (map[k] != 0) {
			src[m] = uids[k];
			map[m] = map[k];
			m++;
		}
	learn_junk(s, &dst, map, m, move);
	struct buf code;
	buf_init(&code, IMAP_OUT_MAX);
	if (m > 0) {
		imap_out_fmt(&code, "[COPYUID %u ", uidvalidity);
		imap_out_uidset(&code, src, m);
		imap_out_str(&code, " ");
		/* new UIDs are given in the order of the source's, so both
		 * sets ascend together */
		imap_out_uidset(&code, map, m);
		imap_out_str(&code, "] ");
	}
	free(uids);
	free(map);
	if (move) {
		/* RFC 6851 4.3: COPYUID in an untagged OK before the EXPUNGEs */
		if (m > 0)
			imap_out_fmt(&s->out, "* OK %.*s Moved\r\n", (int)code.len,
				     (const char *)code.data);
		imap_sync(s, true);
		imap_ok(s, tag, "%sMOVE completed", cmd->uid ? "UID " : "");
	} else {
		imap_ok(s, tag, "%.*s%sCOPY completed", (int)code.len, (const char *)code.data,
			cmd->uid ? "UID " : "");
	}
	buf_release(&code);
}

void imap_cmd_copy(struct imap_session *s, const struct imap_cmd *cmd)
{
	copy_or_move(s, cmd, false);
}

void imap_cmd_move(struct imap_session *s, const struct imap_cmd *cmd)
{
	copy_or_move(s, cmd, true);
}
