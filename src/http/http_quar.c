/* http_quar.c - /api/v1/quarantine: messages the spam filter held
 * (decision 0040). Administrators list, preview, release and delete
 * them (a domain token: its domain's only), and add one themselves (a
 * message a user reported, held out of sight until it is looked at).
 * A mailbox user's session reaches its own held mail when its domain
 * lets recipients release it (filter settings "user_release"); else
 * 403. Release runs as a committer job of the store (petreld is the
 * process that can deliver; this thread waits for one group commit). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "admin/admin_filter.h"
#include "http/http_private.h"

/* Whether a session's domain lets recipients manage their held mail:
 * 0 yes, -1 with 403 (or 503) sent. Tokens pass. */
static int user_allowed(struct http_ctx *c)
{
	if (c->session == NULL)
		return 0;
	struct store_filter_settings s;
	struct err err;
	err_clear(&err);
	int rc = store_filter_settings_get(c->api->st,
					   http_addr_domain(c->session->address),
					   &s, &err);
	if (rc < 0)
		return http_store_error(c, &err);
	if (rc == 0 || !s.user_release)
		return http_error(c, 403, "forbidden", NULL, "your domain does "
				  "not let recipients manage quarantined mail; "
				  "ask its administrator");
	return 0;
}

static bool visible(const struct http_ctx *c,
		    const struct store_quarantine_entry *e)
{
	if (c->session != NULL)
		return strcasecmp(c->session->address, e->address) == 0;
	return http_scope_allows(c, e->domain);
}

/* The entry {id} names, if the caller may see it: 0 with *e (and the
 * message when msg is not NULL), -1 with 400/403/404/503 sent. */
static int find_entry(struct http_ctx *c, struct store_quarantine_entry *e,
		      unsigned char **msg, size_t *len)
{
	const char *s = c->cap[0];
	char *end;
	errno = 0;
	long long id = strtoll(s, &end, 10);
	if (s[0] < '1' || s[0] > '9' || *end != '\0' || errno != 0)
		return http_error(c, 400, "invalid_id", "id",
				  "a quarantine id is a positive number");
	if (user_allowed(c) != 0)
		return -1;
	struct err err;
	err_clear(&err);
	int rc = store_quarantine_get(c->api->st, id, e, msg, len, &err);
	if (rc < 0)
		return http_store_error(c, &err);
	if (rc == 1 && !visible(c, e)) {
		if (msg != NULL) {
			free(*msg);
			*msg = NULL;
		}
		/* as for a missing one: no hint of others' mail to users */
		if (c->session != NULL)
			rc = 0;
		else
			return http_error(c, 403, "forbidden", "id", "quarantined "
					  "message %lld is not in your domain",
					  id);
	}
	if (rc == 0)
		return http_error(c, 404, "not_found", "id",
				  "no quarantined message %lld", id);
	return 0;
}

/* ---- GET /api/v1/quarantine ----------------------------------------------- */

struct list_walk {
	json_t *items;
	int64_t last[2];
};

static int list_one(const struct store_quarantine_entry *e, void *arg)
{
	struct list_walk *w = arg;
	json_array_append_new(w->items, admin_quarantine_json(e));
	w->last[0] = e->received;
	w->last[1] = e->id;
	return 0;
}

static int quar_list(struct http_ctx *c)
{
	struct http_page page;
	if (http_page_begin(c, 2, &page) != 0)
		return -1;
	const char *domain = http_param(c, "domain");
	const char *mailbox = http_param(c, "mailbox");
	if (http_params_done(c) != 0 || user_allowed(c) != 0)
		return -1;
	char ascii[SMTP_DOMAIN_MAX + 1];
	struct store_domain d;
	if (c->session != NULL) {
		/* a user sees its own mailbox's only */
		if ((domain != NULL &&
		     strcasecmp(domain, http_addr_domain(c->session->address))) ||
		    (mailbox != NULL &&
		     strcasecmp(mailbox, c->session->address)))
			return http_error(c, 403, "forbidden", NULL,
					  "you may list your own mail only");
		mailbox = c->session->address;
		domain = NULL;
	} else if (domain != NULL) {
		if (http_domain_access(c, domain, &d) != 0)
			return -1;
		memcpy(ascii, d.name, sizeof ascii);
		domain = ascii;
	} else if (mailbox != NULL) {
		struct store_mailbox_info mi;
		if (http_mailbox_access(c, mailbox, &mi) != 0)
			return -1;
	} else if (c->token.domain[0] != '\0') {
		domain = c->token.domain;	/* a domain token: its own */
	}
	struct store_quarantine_filter f = {
		.domain = domain, .mailbox = mailbox, .limit = page.limit,
		.before_received = page.has_cursor ? page.key[0] : 0,
		.before_id = page.has_cursor ? page.key[1] : 0,
	};
	struct list_walk w = { .items = json_array() };
	bool more = false;
	struct err err;
	err_clear(&err);
	if (store_quarantine_list(c->api->st, &f, list_one, &w, &more,
				  &err) != 0) {
		json_decref(w.items);
		return http_store_error(c, &err);
	}
	char next[48];
	if (more)
		http_cursor_encode(w.last, 2, next, sizeof next);
	return http_reply_page(c, w.items, more ? next : NULL);
}

/* ---- one entry ---------------------------------------------------------------- */

static int quar_show(struct http_ctx *c)
{
	struct store_quarantine_entry *e = malloc(sizeof *e);
	unsigned char *msg = NULL;
	size_t len = 0;
	if (e == NULL)
		return http_error(c, 503, "unavailable", NULL, "out of memory");
	int rc = http_params_done(c) != 0 || find_entry(c, e, &msg, &len) != 0
			 ? -1
			 : http_reply(c, 200,
				      admin_quarantine_preview_json(e, msg, len));
	free(msg);
	free(e);
	return rc;
}

static int quar_release(struct http_ctx *c)
{
	struct store_quarantine_entry *e = malloc(sizeof *e);
	if (e == NULL)
		return http_error(c, 503, "unavailable", NULL, "out of memory");
	int rc = -1;
	if (http_params_done(c) == 0 && find_entry(c, e, NULL, NULL) == 0) {
		uint32_t uid = 0;
		struct err err;
		err_clear(&err);
		int got = store_quarantine_release(c->api->st, e->id, &uid, &err);
		if (got < 0)
			rc = err.kind == ERR_NOTFOUND
				     ? http_error(c, 409, "mailbox_gone", "id",
						  "%s", err.msg)
				     : http_store_error(c, &err);
		else if (got == 0)	/* released or deleted meanwhile */
			rc = http_error(c, 404, "not_found", "id",
					"no quarantined message %lld",
					(long long)e->id);
		else
			rc = http_reply(c, 200, json_pack(
				"{s:I, s:s, s:s, s:I}", "id", (json_int_t)e->id,
				"mailbox", e->address, "folder", "INBOX", "uid",
				(json_int_t)uid));
	}
	free(e);
	return rc;
}

static int quar_delete(struct http_ctx *c)
{
	struct store_quarantine_entry *e = malloc(sizeof *e);
	if (e == NULL)
		return http_error(c, 503, "unavailable", NULL, "out of memory");
	int rc = -1;
	if (http_params_done(c) == 0 && find_entry(c, e, NULL, NULL) == 0) {
		struct err err;
		err_clear(&err);
		int got = store_quarantine_delete(c->api->st, e->id, &err);
		rc = got < 0 ? http_store_error(c, &err)
		     : got == 0 ? http_error(c, 404, "not_found", "id",
					     "no quarantined message %lld",
					     (long long)e->id)
				: http_reply(c, 204, NULL);
	}
	free(e);
	return rc;
}

/* ---- POST /api/v1/quarantine: an administrator holds a message ------------ */

static int quar_add(struct http_ctx *c)
{
	static const char *const fields[] = { "mailbox", "message_base64",
					      "reason", NULL };
	json_t *body;
	if (c->session != NULL)
		return http_error(c, 403, "forbidden", NULL,
				  "only administrators may quarantine mail");
	if (http_params_done(c) != 0 ||
	    http_json_request(c, fields, false, &body) != 0)
		return -1;
	const char *mailbox, *b64, *reason = NULL;
	struct store_mailbox_info mi;
	int rc = -1;
	if (http_json_string(c, body, "mailbox", true, STORE_ADDR_MAX,
			     &mailbox) < 0 ||
	    http_json_string(c, body, "reason", false, STORE_QUAR_REASON_MAX,
			     &reason) < 0 ||
	    http_mailbox_access(c, mailbox, &mi) != 0)
		goto out;
	json_t *m = json_object_get(body, "message_base64");
	if (!json_is_string(m) || json_string_length(m) == 0) {
		http_error(c, 422, "missing_field", "message_base64",
			   "message_base64: the message, base64-encoded");
		goto out;
	}
	b64 = json_string_value(m);
	size_t b64len = json_string_length(m), len = 0;
	/* UNSAFE: base64 decodes to at most 3/4 of its length */
	unsigned char *msg = malloc(b64len / 4 * 3 + 3);
	if (msg == NULL ||
	    sodium_base642bin(msg, b64len / 4 * 3 + 3, b64, b64len, " \r\n",
			      &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len == 0) {
		free(msg);
		http_error(c, 422, "invalid_value", "message_base64",
			   "message_base64 is not base64");
		goto out;
	}
	char sender[STORE_ADDR_MAX + 1] = "";
	struct store_quarantine_req q = {
		.data = msg, .len = len, .mailbox_id = mi.mb.id,
		.sender = sender, .score = 0, .symbols = "",
		.reason = reason != NULL && reason[0] ? reason
			  : "held by an administrator",
		.received = (int64_t)time(NULL),
	};
	struct err err;
	err_clear(&err);
	if (store_quarantine_add(c->api->st, &q, &err) != 0) {
		free(msg);
		http_store_error(c, &err);
		goto out;
	}
	free(msg);
	struct store_quarantine_entry *e = malloc(sizeof *e);
	if (e != NULL &&
	    store_quarantine_get(c->api->st, q.id, e, NULL, NULL, &err) == 1) {
		http_audit(c, "quarantine.add", e->address, e->reason);
		rc = http_reply(c, 201, admin_quarantine_json(e));
	} else {
		rc = http_store_error(c, &err);
	}
	free(e);
out:
	json_decref(body);
	return rc;
}

#define S HTTP_ROUTE_SESSION
static const struct http_route routes[] = {
	{ HTTP_M_GET, "/api/v1/quarantine", quar_list, S },
	{ HTTP_M_POST, "/api/v1/quarantine", quar_add, 0 },
	{ HTTP_M_GET, "/api/v1/quarantine/{id}", quar_show, S },
	{ HTTP_M_DELETE, "/api/v1/quarantine/{id}", quar_delete, S },
	{ HTTP_M_POST, "/api/v1/quarantine/{id}/release", quar_release, S },
};
#undef S

const struct http_route_table http_quarantine_routes = {
	routes, sizeof routes / sizeof *routes
};
