/* admin_filter.c - the filter's administration shared by petrelctl and
 * the REST API (admin_filter.h): settings and quarantine JSON, the
 * preview of a held message, and list edits by level. */
#include "admin/admin_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_json.h"
#include "core/buf.h"
#include "core/limits.h"
#include "filter/listdir.h"
#include "mime/mime.h"

/* Octets of a decoded header shown in a preview, and of its text. */
#define PREVIEW_HEADER_MAX 1024
#define PREVIEW_TEXT_MAX (16u * 1024)

json_t *admin_filter_settings_json(const char *domain,
				   const struct store_filter_settings *s)
{
	return json_pack("{s:s, s:s, s:I, s:b, s:s}", "domain", domain,
			 "level", store_filter_level_name(s->level),
			 "quarantine_days", (json_int_t)s->quarantine_days,
			 "user_release", s->user_release, "external_tag",
			 store_external_tag_name(s->external_tag));
}

json_t *admin_quarantine_json(const struct store_quarantine_entry *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "mailbox", admin_json_text(e->address));
	json_object_set_new(o, "domain", admin_json_text(e->domain));
	json_object_set_new(o, "sender", admin_json_text(e->sender));
	json_object_set_new(o, "subject", admin_json_text(e->subject));
	json_object_set_new(o, "score", json_real(e->score));
	json_object_set_new(o, "symbols", admin_json_text(e->symbols));
	json_object_set_new(o, "reason", admin_json_text(e->reason));
	json_object_set_new(o, "received", admin_json_time(e->received));
	json_object_set_new(o, "expires", admin_json_time(e->expires));
	json_object_set_new(o, "size", json_integer((json_int_t)e->size));
	json_object_set_new(o, "release_requested",
			    json_boolean(e->release_requested));
	return o;
}

/* The decoded value of header field name, or null when absent. */
static json_t *header_json(struct span hdr, const char *name)
{
	struct span v;
	if (!mime_header_find(hdr, name, &v))
		return json_null();
	struct buf b;
	buf_init(&b, PREVIEW_HEADER_MAX);
	json_t *j = json_null();
	/* a field longer than the preview shows is left out */
	if (mime_header_decode(v, &b) == 0) {
		char *t = strndup((const char *)b.data, b.len);
		if (t != NULL)
			j = admin_json_text(t);
		free(t);
	}
	buf_release(&b);
	return j;
}

/* The first text/plain part, else the first text part; MIME_NONE. */
static uint32_t text_part(const struct mime_message *m)
{
	uint32_t any = MIME_NONE;
	for (uint32_t i = 0; i < mime_message_nparts(m); i++) {
		const struct mime_part *p = mime_message_part(m, i);
		if (!(p->flags & MIME_PART_TEXT) ||
		    (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)))
			continue;
		if (p->subtype.len == 0 || span_eq_ci(p->subtype, "plain"))
			return i;
		if (any == MIME_NONE)
			any = i;
	}
	return any;
}

/* The first lines of part i, decoded to UTF-8: only the first
 * PREVIEW_TEXT_MAX octets of its body are decoded, into buffers that
 * cannot fill up (decoding never grows base64 or QP; a charset at most
 * quadruples), so a large part costs no more than a small one. */
static json_t *text_json(const struct mime_message *m, uint32_t i)
{
	if (i == MIME_NONE)
		return json_null();
	const struct mime_part *p = mime_message_part(m, i);
	struct span body = mime_part_body(m, p);
	if (body.len > PREVIEW_TEXT_MAX)
		body.len = PREVIEW_TEXT_MAX;
	struct buf raw, utf8;
	buf_init(&raw, PREVIEW_TEXT_MAX);
	buf_init(&utf8, 4 * PREVIEW_TEXT_MAX);
	int rc = p->cte == MIME_CTE_BASE64 ? mime_base64_decode(body, &raw)
		 : p->cte == MIME_CTE_QP  ? mime_qp_decode(body, &raw)
					  : buf_append(&raw, body.p, body.len);
	const struct mime_param *cs = mime_param_find(p->params, p->nparams,
						      "charset");
	if (rc == 0)
		rc = mime_charset_to_utf8(cs != NULL ? cs->value
						     : span_cstr("us-ascii"),
					  buf_span(&raw), &utf8);
	size_t end = 0, lines = 0;
	while (rc == 0 && end < utf8.len && lines < QUARANTINE_PREVIEW_LINES) {
		const unsigned char *nl = memchr(utf8.data + end, '\n',
						 utf8.len - end);
		end = nl ? (size_t)(nl - utf8.data) + 1 : utf8.len;
		lines++;
	}
	char *text = malloc(end + 1);
	size_t n = 0;
	for (size_t k = 0; text != NULL && k < end; k++)
		if (utf8.data[k] != '\r')
			text[n++] = (char)utf8.data[k];
	json_t *j = json_null();
	if (text != NULL) {
		text[n] = '\0';
		j = admin_json_text(text);
		free(text);
	}
	buf_release(&raw);
	buf_release(&utf8);
	return j;
}

json_t *admin_quarantine_preview_json(const struct store_quarantine_entry *e,
				      const unsigned char *msg, size_t len)
{
	json_t *o = admin_quarantine_json(e);
	struct mime_message *m = mime_parse(msg, len, NULL);
	struct span hdr = mime_part_header(m, mime_message_part(m, 0));
	json_t *pv = json_object();
	static const char *const fields[][2] = {
		{ "from", "From" }, { "to", "To" }, { "cc", "Cc" },
		{ "date", "Date" }, { "message_id", "Message-ID" },
		{ "subject", "Subject" },
	};
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		json_object_set_new(pv, fields[i][0],
				    header_json(hdr, fields[i][1]));
	json_object_set_new(pv, "text", text_json(m, text_part(m)));
	mime_message_free(&m);
	json_object_set_new(o, "preview", pv);
	return o;
}

/* ---- lists ------------------------------------------------------------------- */

int admin_list_level(struct store *st, const char *data_dir,
		     const char *domain, const char *user,
		     enum filter_list_action act, char *path, size_t pathsz,
		     enum filter_list_level *level_out, char *name_out,
		     struct err *err)
{
	bool has_d = domain != NULL && domain[0] != '\0';
	bool has_u = user != NULL && user[0] != '\0';
	name_out[0] = '\0';
	*level_out = FILTER_LEVEL_GLOBAL;
	if (has_d && has_u)
		return err_set(err, ERR_PEER, 0, "",
			       "give a domain or a user, not both");
	if (has_d) {
		struct store_domain d;
		int found = store_domain_get(st, domain, &d, err);
		if (found < 0)
			return -1;
		if (found == 0)
			return err_set(err, ERR_NOTFOUND, 0, "",
				       "no such domain: %.200s", domain);
		if (d.alias_of[0] != '\0')
			return err_set(err, ERR_PEER, 0, "", "%s is an alias "
				       "of %s: edit that domain's lists",
				       d.name, d.alias_of);
		snprintf(name_out, STORE_ADDR_MAX + 1, "%s", d.name);
		*level_out = FILTER_LEVEL_DOMAIN;
	} else if (has_u) {
		struct store_mailbox_info mi;
		int found = store_mailbox_info(st, user, &mi, err);
		if (found < 0)
			return -1;
		if (found == 0)
			return err_set(err, ERR_NOTFOUND, 0, "",
				       "no such mailbox: %.200s", user);
		snprintf(name_out, STORE_ADDR_MAX + 1, "%s", mi.mb.address);
		*level_out = FILTER_LEVEL_USER;
	}
	for (char *p = name_out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return filter_listdir_path(data_dir, *level_out, name_out, act, path,
				   pathsz, err);
}

int admin_list_edit(struct store *st, const char *data_dir,
		    const char *domain, const char *user,
		    enum filter_list_action act, bool add,
		    const char *const *entries, size_t n, json_t **result_out,
		    struct err *err)
{
	if (result_out != NULL)
		*result_out = NULL;
	if (n == 0 || n > FILTER_LISTDIR_EDIT_MAX)
		return err_set(err, ERR_PEER, 0, "", "give 1 to %d entries",
			       FILTER_LISTDIR_EDIT_MAX);
	char path[4096], name[STORE_ADDR_MAX + 1];
	enum filter_list_level level;
	if (admin_list_level(st, data_dir, domain, user, act, path,
			     sizeof path, &level, name, err) < 0)
		return -1;
	/* all checked before any is written: one bad entry changes nothing */
	char canon[FILTER_LIST_TEXT_MAX];
	for (size_t i = 0; i < n; i++)
		if (filter_entry_canonical(span_trim(span_cstr(entries[i])),
					   canon, sizeof canon, NULL, err) < 0)
			return err_set(err, ERR_PEER, 0, "",
				       "bad entry \"%.100s\": %.120s",
				       entries[i], err->msg);
	json_t *changed = json_array(), *same = json_array();
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct span e = span_cstr(entries[i]);
		int got = add ? filter_listdir_add(path, e, err)
			      : filter_listdir_remove(path, e, err);
		if (got < 0) {
			rc = -1;
			break;
		}
		(void)filter_entry_canonical(span_trim(e), canon, sizeof canon,
					     NULL, err);	/* checked above */
		json_array_append_new(got ? changed : same, json_string(canon));
	}
	if (json_array_size(changed) > 0) {
		/* the files are the record; the audit says who changed them */
		char detail[STORE_AUDIT_FIELD_MAX + 1];
		int w = snprintf(detail, sizeof detail, "%s %s",
				 filter_list_action_str(act),
				 add ? "add" : "remove");
		for (size_t i = 0; i < json_array_size(changed) && w > 0 &&
				   (size_t)w < sizeof detail; i++)
			w += snprintf(detail + w, sizeof detail - (size_t)w,
				      " %s", json_string_value(
					      json_array_get(changed, i)));
		struct err aerr;
		if (store_audit_add(st, "filter.list", level ==
				    FILTER_LEVEL_GLOBAL ? "global" : name, "",
				    detail, &aerr) < 0 && rc == 0) {
			*err = aerr;
			rc = -1;
		}
	}
	if (rc == 0 && result_out != NULL) {
		*result_out = json_pack(
			"{s:s, s:s, s:s, s:s, s:O, s:O}", "level",
			filter_list_level_str(level), "name", name, "list",
			filter_list_action_str(act), "file", path,
			add ? "added" : "removed", changed, "unchanged", same);
	}
	json_decref(changed);
	json_decref(same);
	return rc;
}

struct show_ctx {
	json_t *items;
	const char *list, *level, *name, *file;
};

static int show_line(void *arg, const char *entry, unsigned line,
		     const char *bad)
{
	struct show_ctx *s = arg;
	json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:I}", "list",
			      s->list, "entry", admin_json_text(entry),
			      "level", s->level, "name", s->name, "file",
			      s->file, "line", (json_int_t)line);
	if (bad != NULL)
		json_object_set_new(o, "error", admin_json_text(bad));
	json_array_append_new(s->items, o);
	return 0;
}

int admin_list_show(struct store *st, const char *data_dir,
		    const char *domain, const char *user, json_t **out,
		    struct err *err)
{
	*out = NULL;
	json_t *items = json_array();
	static const enum filter_list_action acts[2] = { FILTER_LIST_ALLOW,
							 FILTER_LIST_BLOCK };
	for (int i = 0; i < 2; i++) {
		char path[4096], name[STORE_ADDR_MAX + 1];
		enum filter_list_level level;
		if (admin_list_level(st, data_dir, domain, user, acts[i], path,
				     sizeof path, &level, name, err) < 0 ||
		    filter_listdir_each(path, show_line, &(struct show_ctx){
			    items, filter_list_action_str(acts[i]),
			    filter_list_level_str(level), name, path },
			    err) < 0) {
			json_decref(items);
			return -1;
		}
	}
	*out = items;
	return 0;
}
