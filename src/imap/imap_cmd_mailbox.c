/* imap_cmd_mailbox.c - mailbox commands of the authenticated state
 * (RFC 9051 6.3.4-6.3.11): CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
 * LIST with LIST-EXTENDED (RFC 5258) selection SUBSCRIBED / SPECIAL-USE
 * and RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS) (RFC 6154, 5819),
 * LSUB, NAMESPACE (RFC 2342) and STATUS with SIZE (RFC 8438) and
 * HIGHESTMODSEQ (RFC 7162). The hierarchy separator is '/'. */
#include "imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

#define TAG(cmd) ((const char *)(cmd)->tag.p)

/* ---- wildcard matching (RFC 9051 6.3.9) --------------------------------
 * '*' matches anything, '%' anything but the separator. The set of name
 * positions reachable after each pattern byte is tracked, so any pattern
 * costs O(pattern * name): no backtracking blow-up. */
bool imap_list_match(struct span pat, const char *name)
{
	size_t n = strlen(name);
	if (n > STORE_FOLDER_NAME_MAX)
		return false;
	bool cur[STORE_FOLDER_NAME_MAX + 2], nxt[STORE_FOLDER_NAME_MAX + 2];
	memset(cur, 0, sizeof cur);
	cur[0] = true;
	for (size_t k = 0; k < pat.len; k++) {
		unsigned char pc = pat.p[k];
		memset(nxt, 0, sizeof nxt);
		bool any = false;
		if (pc == '*' || pc == '%') {
			bool on = false;
			for (size_t i = 0; i <= n; i++) {
				/* '%' cannot reach past a separator */
				if (pc == '%' && i > 0 && name[i - 1] == IMAP_MAILBOX_SEP)
					on = false;
				if (cur[i])
					on = true;
				nxt[i] = on;
				any = any || on;
			}
		} else {
			for (size_t i = 0; i < n; i++)
				if (cur[i] && (unsigned char)name[i] == pc) {
					nxt[i + 1] = true;
					any = true;
				}
		}
		memcpy(cur, nxt, sizeof cur);
		if (!any)
			return false;
	}
	return cur[n];
}

/* ---- the folder list ------------------------------------------------- */

struct folders {
	struct store_folder *f;
	size_t n, cap;
};

static int add_folder(const struct store_folder *f, void *arg)
{
	struct folders *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->f = xreallocarray(l->f, l->cap, sizeof *l->f);
	}
	l->f[l->n++] = *f;
	return 0;
}

static const struct store_folder *folder_named(const struct folders *l,
					       const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->f[i].name, name))
			return &l->f[i];
	return NULL;
}

static bool has_children(const struct folders *l, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->f[i].name, name, len) &&
		    l->f[i].name[len] == IMAP_MAILBOX_SEP)
			return true;
	return false;
}

static const char *special_attr(enum store_special sp)
{
	switch (sp) {
	case STORE_SPECIAL_SENT: return "\\Sent";
	case STORE_SPECIAL_DRAFTS: return "\\Drafts";
	case STORE_SPECIAL_JUNK: return "\\Junk";
	case STORE_SPECIAL_TRASH: return "\\Trash";
	case STORE_SPECIAL_ARCHIVE: return "\\Archive";
	default: return NULL;
	}
}

enum {
	STATUS_MESSAGES = 1u << 0,
	STATUS_UIDNEXT = 1u << 1,
	STATUS_UIDVALIDITY = 1u << 2,
	STATUS_UNSEEN = 1u << 3,
	STATUS_SIZE = 1u << 4,
	STATUS_HIGHESTMODSEQ = 1u << 5,
	STATUS_RECENT = 1u << 6,
	STATUS_DELETED = 1u << 7,
	STATUS_DELETED_STORAGE = 1u << 8,	/* RFC 9208 4.2 */
	STATUS_MAILBOXID = 1u << 9,		/* RFC 8474 4.2 */
};

static const struct {
	const char *name;
	unsigned bit;
} status_names[] = {
	{ "MESSAGES", STATUS_MESSAGES }, { "UIDNEXT", STATUS_UIDNEXT },
	{ "UIDVALIDITY", STATUS_UIDVALIDITY }, { "UNSEEN", STATUS_UNSEEN },
	{ "SIZE", STATUS_SIZE }, { "HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ },
	{ "RECENT", STATUS_RECENT }, { "DELETED", STATUS_DELETED },
	{ "DELETED-STORAGE", STATUS_DELETED_STORAGE },
	{ "MAILBOXID", STATUS_MAILBOXID },
};

static int status_parse(const struct imap_arg *a, unsigned *out)
{
	*out = 0;
	if (a->type != IMAP_ARG_LIST || a->list_len == 0)
		return -1;
	for (size_t i = 0; i < a->list_len; i++) {
		size_t k;
		for (k = 0; k < sizeof status_names / sizeof *status_names; k++)
			if (imap_arg_atom_is(&a->list[i], status_names[k].name))
				break;
		if (k == sizeof status_names / sizeof *status_names)
			return -1;
		*out |= status_names[k].bit;
	}
	return 0;
}

struct deleted {
	uint32_t n;
	uint64_t bytes;
};

static int count_deleted(const struct store_message *m, void *arg)
{
	struct deleted *d = arg;
	if (m->flags & STORE_FLAG_DELETED) {
		d->n++;
		d->bytes += m->size;
	}
	return 0;
}

static void status_line(struct imap_session *s, const struct store_folder *f,
			unsigned items)
{
	struct buf *o = &s->out;
	imap_out_str(o, "* STATUS ");
	imap_out_mailbox(s, o, f->name);
	imap_out_str(o, " (");
	const char *sp = "";
	if (items & STATUS_MESSAGES) {
		imap_out_fmt(o, "%sMESSAGES %u", sp, f->messages);
		sp = " ";
	}
	if (items & STATUS_RECENT) {
		imap_out_fmt(o, "%sRECENT 0", sp);
		sp = " ";
	}
	if (items & STATUS_UIDNEXT) {
		imap_out_fmt(o, "%sUIDNEXT %u", sp, f->uidnext);
		sp = " ";
	}
	if (items & STATUS_UIDVALIDITY) {
		imap_out_fmt(o, "%sUIDVALIDITY %u", sp, f->uidvalidity);
		sp = " ";
	}
	if (items & STATUS_UNSEEN) {
		imap_out_fmt(o, "%sUNSEEN %u", sp, f->unseen);
		sp = " ";
	}
	struct deleted del = { 0 };
	if (items & (STATUS_DELETED | STATUS_DELETED_STORAGE)) {
		struct err err;
		if (store_message_each(s->srv->store, f->id, count_deleted, &del,
				       &err) != 0)
			del = (struct deleted){ 0 };
	}
	if (items & STATUS_DELETED) {
		imap_out_fmt(o, "%sDELETED %u", sp, del.n);
		sp = " ";
	}
	if (items & STATUS_DELETED_STORAGE) {
		/* RFC 9208 4.2.2: what EXPUNGE frees, in 1024-octet units */
		imap_out_fmt(o, "%sDELETED-STORAGE %llu", sp,
			     (unsigned long long)((del.bytes + 1023) / 1024));
		sp = " ";
	}
	if (items & STATUS_SIZE) {
		imap_out_fmt(o, "%sSIZE %llu", sp, (unsigned long long)f->size);
		sp = " ";
	}
	if (items & STATUS_HIGHESTMODSEQ) {
		imap_out_fmt(o, "%sHIGHESTMODSEQ %llu", sp,
			     (unsigned long long)f->highestmodseq);
		sp = " ";
	}
	if (items & STATUS_MAILBOXID) {
		imap_out_fmt(o, "%sMAILBOXID ", sp);
		imap_out_mailboxid(o, f->id, f->uidvalidity);
	}
	imap_out_str(o, ")\r\n");
}

/* ---- LIST and LSUB --------------------------------------------------- */

enum {
	SEL_SUBSCRIBED = 1u << 0,
	SEL_SPECIAL = 1u << 1,
	RET_SUBSCRIBED = 1u << 2,
	RET_CHILDREN = 1u << 3,
	RET_SPECIAL = 1u << 4,
	RET_STATUS = 1u << 5,
};

struct subs {
	char **names;
	size_t n, cap;
};

static int add_sub(const char *name, void *arg)
{
	struct subs *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->names = xreallocarray(l->names, l->cap, sizeof *l->names);
	}
	l->names[l->n++] = xstrdup(name);
	return 0;
}

static void subs_free(struct subs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
}

static bool subscribed(const struct subs *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return true;
	return false;
}

static void list_line(struct imap_session *s, const char *verb,
		      const struct folders *fl, const struct store_folder *f,
		      const char *name, bool is_sub, unsigned opts,
		      unsigned status_items)
{
	struct buf *o = &s->out;
	imap_out_fmt(o, "* %s (", verb);
	const char *sp = "";
	if (f == NULL) {
		imap_out_str(o, !strcmp(verb, "LSUB") ? "\\Noselect" : "\\NonExistent");
		sp = " ";
	} else if (strcmp(verb, "LSUB")) {
		imap_out_str(o, has_children(fl, name) ? "\\HasChildren" : "\\HasNoChildren");
		sp = " ";
		const char *attr = special_attr(f->special);
		if (attr) {
			imap_out_fmt(o, " %s", attr);
		}
	}
	if (is_sub && (opts & (SEL_SUBSCRIBED | RET_SUBSCRIBED)))
		imap_out_fmt(o, "%s\\Subscribed", sp);
	imap_out_str(o, ") \"/\" ");
	imap_out_mailbox(s, o, name);
	imap_out_str(o, "\r\n");
	if ((opts & RET_STATUS) && f != NULL)
		status_line(s, f, status_items);
}

static int parse_opts(const struct imap_arg *a, bool selection, unsigned *opts,
		      unsigned *status_items)
{
	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (size_t i = 0; i < a->list_len; i++) {
		const struct imap_arg *x = &a->list[i];
		if (selection) {
			if (imap_arg_atom_is(x, "SUBSCRIBED"))
				*opts |= SEL_SUBSCRIBED;
			else if (imap_arg_atom_is(x, "SPECIAL-USE"))
				*opts |= SEL_SPECIAL;
			else if (imap_arg_atom_is(x, "REMOTE") ||
				 imap_arg_atom_is(x, "RECURSIVEMATCH"))
				continue;
			else
				return -1;
		} else {
			if (imap_arg_atom_is(x, "SUBSCRIBED"))
				*opts |= RET_SUBSCRIBED;
			else if (imap_arg_atom_is(x, "CHILDREN"))
				*opts |= RET_CHILDREN;
			else if (imap_arg_atom_is(x, "SPECIAL-USE"))
				*opts |= RET_SPECIAL;
			else if (imap_arg_atom_is(x, "STATUS") && i + 1 < a->list_len &&
				 status_parse(&a->list[i + 1], status_items) == 0) {
				*opts |= RET_STATUS;
				i++;
			} else {
				return -1;
			}
		}
	}
	return 0;
}

static void do_list(struct imap_session *s, const struct imap_cmd *cmd, bool lsub)
{
	const char *verb = lsub ? "LSUB" : "LIST";
	const struct imap_arg *args = cmd->args;
	size_t n = cmd->nargs, i = 0;
	unsigned opts = 0, status_items = 0;
	struct err err;
	if (!lsub && n > 0 && args[0].type == IMAP_ARG_LIST) {
		if (parse_opts(&args[0], true, &opts, &status_items) != 0) {
			imap_bad(s, TAG(cmd), "Unknown LIST selection option");
			return;
		}
		i = 1;
	}
	if (n < i + 2) {
		imap_bad(s, TAG(cmd), "Syntax: %s reference mailbox", verb);
		return;
	}
	struct span ref;
	unsigned pat_opts = IMAP_MAILBOX_PATTERN |
			    (imap_utf8_names(s) ? IMAP_MAILBOX_UTF8 : 0);
	if (imap_parse_mailbox(&args[i], pat_opts, cmd->arena, &ref, &err) == -1 &&
	    !(imap_arg_astring(&args[i], &ref) && ref.len == 0)) {
		imap_bad(s, TAG(cmd), "%s", err.msg);
		return;
	}
	const struct imap_arg *pats = &args[i + 1];
	size_t npats = 1;
	if (pats->type == IMAP_ARG_LIST && !lsub) {
		npats = pats->list_len;
		pats = pats->list;
	}
	i += 2;
	if (i < n) {
		if (lsub || !imap_arg_atom_is(&args[i], "RETURN") || i + 2 != n ||
		    parse_opts(&args[i + 1], false, &opts, &status_items) != 0) {
			imap_bad(s, TAG(cmd), "Unknown LIST return option");
			return;
		}
	}
	struct span *full = imap_arena_calloc(cmd->arena, npats ? npats : 1, sizeof *full);
	if (full == NULL || npats == 0) {
		imap_bad(s, TAG(cmd), "Syntax: LIST reference (patterns)");
		return;
	}
	bool only_empty = true;
	for (size_t k = 0; k < npats; k++) {
		struct span p;
		if (imap_arg_astring(&pats[k], &p) && p.len == 0) {
			full[k] = p;
			continue;
		}
		only_empty = false;
		if (imap_parse_mailbox(&pats[k], pat_opts, cmd->arena, &p, &err) != 0) {
			imap_bad(s, TAG(cmd), "%s", err.msg);
			return;
		}
		unsigned char *cat = imap_arena_alloc(cmd->arena, ref.len + p.len + 1);
		if (cat == NULL) {
			imap_bad(s, TAG(cmd), "Command too complex");
			return;
		}
		memcpy(cat, ref.p, ref.len);
		memcpy(cat + ref.len, p.p, p.len);
		full[k] = span_make(cat, ref.len + p.len);
	}
	if (only_empty && !lsub) {
		/* RFC 9051 6.3.9: "" asks for the separator */
		imap_out_str(&s->out, "* LIST (\\Noselect) \"/\" \"\"\r\n");
		imap_ok(s, TAG(cmd), "LIST completed");
		return;
	}
	struct folders fl = { 0 };
	struct subs subs = { 0 };
	if (store_folder_each(s->srv->store, s->mailbox_id, add_folder, &fl, &err) != 0 ||
	    store_subscription_each(s->srv->store, s->mailbox_id, add_sub, &subs, &err) != 0) {
		free(fl.f);
		subs_free(&subs);
		imap_no_store(s, TAG(cmd), verb, &err);
		return;
	}
	if (lsub || (opts & SEL_SUBSCRIBED)) {
		for (size_t k = 0; k < subs.n; k++) {
			bool match = false;
			for (size_t p = 0; p < npats && !match; p++)
				match = full[p].len > 0 && imap_list_match(full[p], subs.names[k]);
			if (!match)
				continue;
			const struct store_folder *f = folder_named(&fl, subs.names[k]);
			if ((opts & SEL_SPECIAL) && (f == NULL || special_attr(f->special) == NULL))
				continue;
			list_line(s, verb, &fl, f, subs.names[k], true,
				  opts | (lsub ? 0 : SEL_SUBSCRIBED), status_items);
		}
	} else {
		for (size_t k = 0; k < fl.n; k++) {
			const struct store_folder *f = &fl.f[k];
			bool match = false;
			for (size_t p = 0; p < npats && !match; p++)
				match = full[p].len > 0 && imap_list_match(full[p], f->name);
			if (!match)
				continue;
			if ((opts & SEL_SPECIAL) && special_attr(f->special) == NULL)
				continue;
			list_line(s, verb, &fl, f, f->name, subscribed(&subs, f->name),
				  opts, status_items);
		}
	}
	free(fl.f);
	subs_free(&subs);
	imap_ok(s, TAG(cmd), "%s completed", verb);
}

void imap_cmd_list(struct imap_session *s, const struct imap_cmd *cmd)
{
	do_list(s, cmd, false);
}

void imap_cmd_lsub(struct imap_session *s, const struct imap_cmd *cmd)
{
	do_list(s, cmd, true);
}

void imap_cmd_namespace(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(s, TAG(cmd), "NAMESPACE takes no arguments");
		return;
	}
	imap_out_str(&s->out, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_ok(s, TAG(cmd), "NAMESPACE completed");
}

void imap_cmd_status(struct imap_session *s, const struct imap_cmd *cmd)
{
	char name[STORE_FOLDER_NAME_MAX + 1];
	unsigned items;
	if (cmd->nargs != 2) {
		imap_bad(s, TAG(cmd), "Syntax: STATUS mailbox (items)");
		return;
	}
	if (status_parse(&cmd->args[1], &items) != 0) {
		imap_bad(s, TAG(cmd), "Invalid STATUS item");
		return;
	}
	if (imap_arg_mailbox(s, cmd, &cmd->args[0], name, sizeof name) != 0)
		return;
	struct store_folder f;
	struct err err;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err);
	if (rc < 0) {
		imap_no_store(s, TAG(cmd), "STATUS", &err);
		return;
	}
	if (rc == 0) {
		imap_no(s, TAG(cmd), "[NONEXISTENT] Mailbox does not exist");
		return;
	}
	status_line(s, &f, items);
	imap_ok(s, TAG(cmd), "STATUS completed");
}

/* ---- changing the folder list ---------------------------------------- */

static int one_name(struct imap_session *s, const struct imap_cmd *cmd,
		    const char *verb, char *name, size_t namesz)
{
	if (cmd->nargs != 1) {
		imap_bad(s, TAG(cmd), "Syntax: %s mailbox", verb);
		return -1;
	}
	return imap_arg_mailbox(s, cmd, &cmd->args[0], name, namesz);
}

void imap_cmd_create(struct imap_session *s, const struct imap_cmd *cmd)
{
	char name[STORE_FOLDER_NAME_MAX + 2];
	struct err err;
	if (cmd->nargs < 1 || cmd->nargs > 2) {
		imap_bad(s, TAG(cmd), "Syntax: CREATE mailbox");
		return;
	}
	/* RFC 9051 6.3.4: a trailing separator only says it will have
	 * children */
	struct span raw;
	if (imap_arg_astring(&cmd->args[0], &raw) && raw.len > 1 &&
	    raw.p[raw.len - 1] == IMAP_MAILBOX_SEP) {
		struct imap_arg trimmed = cmd->args[0];
		trimmed.str.len--;
		if (imap_arg_mailbox(s, cmd, &trimmed, name, sizeof name) != 0)
			return;
	} else if (imap_arg_mailbox(s, cmd, &cmd->args[0], name, sizeof name) != 0) {
		return;
	}
	enum store_special sp = STORE_SPECIAL_NONE;
	if (cmd->nargs == 2) {
		/* RFC 6154 3: CREATE name (USE (\Sent)) */
		const struct imap_arg *a = &cmd->args[1];
		if (a->type != IMAP_ARG_LIST || a->list_len != 2 ||
		    !imap_arg_atom_is(&a->list[0], "USE") ||
		    a->list[1].type != IMAP_ARG_LIST || a->list[1].list_len != 1) {
			imap_bad(s, TAG(cmd), "Syntax: CREATE mailbox (USE (\\attr))");
			return;
		}
		static const struct { const char *n; enum store_special sp; } uses[] = {
			{ "\\Sent", STORE_SPECIAL_SENT }, { "\\Drafts", STORE_SPECIAL_DRAFTS },
			{ "\\Junk", STORE_SPECIAL_JUNK }, { "\\Trash", STORE_SPECIAL_TRASH },
			{ "\\Archive", STORE_SPECIAL_ARCHIVE },
		};
		for (size_t k = 0; k < sizeof uses / sizeof *uses; k++)
			if (imap_arg_atom_is(&a->list[1].list[0], uses[k].n))
				sp = uses[k].sp;
		if (sp == STORE_SPECIAL_NONE) {
			imap_no(s, TAG(cmd), "[USEATTR] Unsupported special-use attribute");
			return;
		}
	}
	struct store_folder f;
	if (store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err) == 1) {
		imap_no(s, TAG(cmd), "[ALREADYEXISTS] Mailbox already exists");
		return;
	}
	if (store_folder_create(s->srv->store, s->mailbox_id, name, sp, NULL, &err) != 0) {
		if (err.kind == ERR_PEER && sp != STORE_SPECIAL_NONE)
			imap_no(s, TAG(cmd), "[USEATTR] %s", err.msg);
		else
			imap_no_store(s, TAG(cmd), "CREATE", &err);
		return;
	}
	/* RFC 8474 4.1: the new folder's MAILBOXID */
	if (store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err) == 1) {
		struct buf id;
		buf_init(&id, 64);
		imap_out_mailboxid(&id, f.id, f.uidvalidity);
		imap_ok(s, TAG(cmd), "[MAILBOXID %.*s] CREATE completed",
			(int)id.len, (const char *)id.data);
		buf_release(&id);
		return;
	}
	imap_ok(s, TAG(cmd), "CREATE completed");
}

void imap_cmd_delete(struct imap_session *s, const struct imap_cmd *cmd)
{
	char name[STORE_FOLDER_NAME_MAX + 1];
	struct err err;
	if (one_name(s, cmd, "DELETE", name, sizeof name) != 0)
		return;
	struct store_folder f;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, name, &f, &err);
	if (rc == 0) {
		imap_no(s, TAG(cmd), "[NONEXISTENT] Mailbox does not exist");
		return;
	}
	if (rc > 0 && f.special == STORE_SPECIAL_INBOX) {
		imap_no(s, TAG(cmd), "[CANNOT] INBOX cannot be deleted");
		return;
	}
	if (rc < 0 || store_folder_delete(s->srv->store, s->mailbox_id, name, &err) != 0) {
		imap_no_store(s, TAG(cmd), "DELETE", &err);
		return;
	}
	if (s->state == IMAP_S_SELECTED && s->folder_id == f.id)
		imap_unselect(s);
	imap_ok(s, TAG(cmd), "DELETE completed");
}

void imap_cmd_rename(struct imap_session *s, const struct imap_cmd *cmd)
{
	char from[STORE_FOLDER_NAME_MAX + 1], to[STORE_FOLDER_NAME_MAX + 1];
	struct err err;
	if (cmd->nargs != 2) {
		imap_bad(s, TAG(cmd), "Syntax: RENAME from to");
		return;
	}
	if (imap_arg_mailbox(s, cmd, &cmd->args[0], from, sizeof from) != 0 ||
	    imap_arg_mailbox(s, cmd, &cmd->args[1], to, sizeof to) != 0)
		return;
	struct store_folder f;
	int rc = store_folder_find(s->srv->store, s->mailbox_id, from, &f, &err);
	if (rc == 0) {
		imap_no(s, TAG(cmd), "[NONEXISTENT] Mailbox does not exist");
		return;
	}
	if (rc > 0 && store_folder_find(s->srv->store, s->mailbox_id, to, &f, &err) == 1) {
		imap_no(s, TAG(cmd), "[ALREADYEXISTS] Mailbox already exists");
		return;
	}
	if (rc < 0 || store_folder_rename(s->srv->store, s->mailbox_id, from, to, &err) != 0) {
		imap_no_store(s, TAG(cmd), "RENAME", &err);
		return;
	}
	if (s->state == IMAP_S_SELECTED && !strcmp(s->folder_name, from))
		snprintf(s->folder_name, sizeof s->folder_name, "%s", to);
	imap_ok(s, TAG(cmd), "RENAME completed");
}

static void subscribe(struct imap_session *s, const struct imap_cmd *cmd, bool on)
{
	char name[STORE_FOLDER_NAME_MAX + 1];
	struct err err;
	if (one_name(s, cmd, on ? "SUBSCRIBE" : "UNSUBSCRIBE", name, sizeof name) != 0)
		return;
	if (store_subscribe(s->srv->store, s->mailbox_id, name, on, &err) != 0) {
		imap_no_store(s, TAG(cmd), on ? "SUBSCRIBE" : "UNSUBSCRIBE", &err);
		return;
	}
	imap_ok(s, TAG(cmd), "%s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
}

void imap_cmd_subscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
	subscribe(s, cmd, true);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_cmd *cmd)
{
	subscribe(s, cmd, false);
}
