/* http_api_queue.c - /api/v1/queue: the outbound queue as petrelctl
 * queue shows and changes it (list, show, stats, retry, hold, release,
 * bounce, delete, retry-all), through the store's queue calls. A token
 * scoped to a domain sees the entries whose sender is in that domain and
 * nothing else: lists and stats leave the others out, and asking for one
 * of them by id is 403. Changes take effect on the runner's next scan. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_private.h"

/* The sender's domain, or NULL for the null sender (bounces). */
static const char *sender_domain(const char *sender)
{
	const char *at = strrchr(sender, '@');
	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

static bool visible(const struct http_ctx *c, const struct store_queue_msg *m)
{
	return http_scope_allows(c, sender_domain(m->sender));
}

static int rcpt_json(const struct store_queue_rcpt *r, void *arg)
{
	json_array_append_new(arg, admin_queue_rcpt_json(r));
	return 0;
}

/* {id} as a queue id: 0, or -1 with 400. */
static int parse_id(struct http_ctx *c, int64_t *out)
{
	const char *s = c->cap[0];
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (s[0] < '1' || s[0] > '9' || *end != '\0' || errno != 0 || v <= 0)
		return http_error(c, 400, "invalid_id", "id",
				  "a queue id is a positive number");
	*out = v;
	return 0;
}

/* The entry {id} names, if the caller may see it: 0 with *m, -1 with
 * 400/403/404/503. */
static int find_entry(struct http_ctx *c, struct store_queue_msg *m)
{
	int64_t id = 0;
	if (parse_id(c, &id) != 0)
		return -1;
	struct err err;
	err_clear(&err);
	int rc = store_queue_get(c->api->st, id, m, NULL, NULL, &err);
	if (rc < 0)
		return http_store_error(c, &err);
	if (rc == 0)
		return http_error(c, 404, "not_found", "id",
				  "no queue entry %lld", (long long)id);
	if (!visible(c, m))
		return http_error(c, 403, "forbidden", "id",
				  "queue entry %lld is not from your domain",
				  (long long)id);
	return 0;
}

/* ---- GET /api/v1/queue ---------------------------------------------------- */

struct list_walk {
	struct http_ctx *c;
	struct http_page page;
	const char *sender;	/* filter or NULL */
	int held;		/* -1 any, 0, 1 */
	json_t *items;
	size_t n;
	int64_t last[2];	/* (created, id) of the last item taken */
	bool more;
};

static int list_one(const struct store_queue_msg *m, void *arg)
{
	struct list_walk *w = arg;
	/* the store walks in (created, id) order: the cursor's keys */
	if (w->page.has_cursor &&
	    (m->created < w->page.key[0] ||
	     (m->created == w->page.key[0] && m->id <= w->page.key[1])))
		return 0;
	if (!visible(w->c, m) || (w->held >= 0 && (int)m->held != w->held) ||
	    (w->sender != NULL && strcasecmp(w->sender, m->sender) != 0))
		return 0;
	if (w->n == w->page.limit) {
		w->more = true;
		return 1;
	}
	json_array_append_new(w->items, admin_queue_msg_json(m));
	w->n++;
	w->last[0] = m->created;
	w->last[1] = m->id;
	return 0;
}

static int queue_list(struct http_ctx *c)
{
	struct list_walk w = { .c = c, .held = -1 };
	bool held;
	int rc = http_param_bool(c, "held", &held);
	if (rc < 0 || http_page_begin(c, 2, &w.page) != 0)
		return -1;
	if (rc == 1)
		w.held = held;
	w.sender = http_param(c, "sender");
	if (http_params_done(c) != 0)
		return -1;
	w.items = json_array();
	struct err err;
	err_clear(&err);
	if (store_queue_each(c->api->st, list_one, &w, &err) != 0) {
		json_decref(w.items);
		return http_store_error(c, &err);
	}
	char next[48];
	if (w.more)
		http_cursor_encode(w.last, 2, next, sizeof next);
	return http_reply_page(c, w.items, w.more ? next : NULL);
}

/* ---- GET /api/v1/queue/stats -------------------------------------------- */

struct stats_walk {
	struct http_ctx *c;
	struct store_queue_stats s;
};

static int stats_one(const struct store_queue_msg *m, void *arg)
{
	struct stats_walk *w = arg;
	if (!visible(w->c, m))
		return 0;
	w->s.entries++;
	w->s.rcpts += m->n_rcpts;
	w->s.bytes += m->size;
	w->s.held += m->held;
	if (w->s.oldest == 0 || m->created < w->s.oldest)
		w->s.oldest = m->created;
	return 0;
}

static int queue_stats(struct http_ctx *c)
{
	if (http_params_done(c) != 0)
		return -1;
	struct stats_walk w = { .c = c };
	struct err err;
	err_clear(&err);
	int rc = c->token.domain[0] == '\0' ?
		 store_queue_stats(c->api->st, &w.s, &err) :
		 store_queue_each(c->api->st, stats_one, &w, &err);
	if (rc != 0)
		return http_store_error(c, &err);
	json_t *o = json_object();
	json_object_set_new(o, "entries", json_integer((json_int_t)w.s.entries));
	json_object_set_new(o, "recipients", json_integer((json_int_t)w.s.rcpts));
	json_object_set_new(o, "bytes", json_integer((json_int_t)w.s.bytes));
	json_object_set_new(o, "held", json_integer((json_int_t)w.s.held));
	json_object_set_new(o, "oldest", admin_json_time(w.s.oldest));
	json_object_set_new(o, "oldest_age", w.s.oldest > 0 ?
			    json_integer(c->req->now > w.s.oldest ?
					 c->req->now - w.s.oldest : 0) :
			    json_null());
	return http_reply(c, 200, o);
}

/* ---- GET /api/v1/queue/{id} --------------------------------------------- */

static int queue_show(struct http_ctx *c)
{
	struct store_queue_msg m;
	if (http_params_done(c) != 0 || find_entry(c, &m) != 0)
		return -1;
	json_t *rcpts = json_array();
	struct err err;
	err_clear(&err);
	int rc = store_queue_get(c->api->st, m.id, &m, rcpt_json, rcpts, &err);
	if (rc <= 0) {
		json_decref(rcpts);
		if (rc == 0)
			return http_error(c, 404, "not_found", "id",
					  "no queue entry %lld", (long long)m.id);
		return http_store_error(c, &err);
	}
	json_t *o = admin_queue_msg_json(&m);
	if (m.envid[0] != '\0')
		json_object_set_new(o, "envelope_id", admin_json_text(m.envid));
	json_object_set_new(o, "recipients", rcpts);
	return http_reply(c, 200, o);
}

/* ---- changes ------------------------------------------------------------- */

enum change { CH_RETRY, CH_HOLD, CH_RELEASE, CH_BOUNCE, CH_DELETE };

static int change(struct http_ctx *c, enum change what, const char *reason)
{
	struct store_queue_msg m;
	if (find_entry(c, &m) != 0)
		return -1;
	struct store *st = c->api->st;
	struct err err;
	err_clear(&err);
	int rc;
	switch (what) {
	case CH_RETRY: rc = store_queue_retry(st, m.id, &err); break;
	case CH_HOLD: rc = store_queue_hold(st, m.id, true, &err); break;
	case CH_RELEASE: rc = store_queue_hold(st, m.id, false, &err); break;
	case CH_BOUNCE: rc = store_queue_bounce(st, m.id, reason, &err); break;
	default: rc = store_queue_delete(st, m.id, &err); break;
	}
	if (rc < 0)
		return http_store_error(c, &err);
	if (rc == 0)	/* gone between the look-up and the change */
		return http_error(c, 404, "not_found", "id",
				  "no queue entry %lld", (long long)m.id);
	if (what == CH_DELETE)
		return http_reply(c, 204, NULL);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(m.id));
	if (what == CH_HOLD || what == CH_RELEASE) {
		json_object_set_new(o, "held", json_boolean(what == CH_HOLD));
		return http_reply(c, 200, o);
	}
	/* the runner does the work on its next scan */
	json_object_set_new(o, "status", json_string(what == CH_RETRY ?
						     "due now" : "bouncing"));
	return http_reply(c, 202, o);
}

/* A change that takes no body and no parameters. */
static int plain_change(struct http_ctx *c, enum change what)
{
	if (http_params_done(c) != 0)
		return -1;
	if (c->req->body.len > 0)
		return http_error(c, 400, "unexpected_body", NULL,
				  "this request takes no body");
	return change(c, what, NULL);
}

static int queue_retry(struct http_ctx *c) { return plain_change(c, CH_RETRY); }
static int queue_hold(struct http_ctx *c) { return plain_change(c, CH_HOLD); }
static int queue_release(struct http_ctx *c) { return plain_change(c, CH_RELEASE); }
static int queue_delete(struct http_ctx *c) { return plain_change(c, CH_DELETE); }

#define BOUNCE_REASON_MAX 200
#define BOUNCE_PREFIX "delivery cancelled by the postmaster"

static int queue_bounce(struct http_ctx *c)
{
	static const char *const fields[] = { "reason", NULL };
	json_t *body = NULL;
	const char *reason = NULL;
	if (http_params_done(c) != 0 || http_json_body(c, &body) < 0)
		return -1;
	if (body != NULL &&
	    (http_json_only(c, body, fields) != 0 ||
	     http_json_string(c, body, "reason", false, BOUNCE_REASON_MAX,
			      &reason) < 0)) {
		json_decref(body);
		return -1;
	}
	/* the reason goes into the DSN (RFC 3464 fields are ASCII) */
	for (const char *p = reason; p != NULL && *p; p++)
		if ((unsigned char)*p > 0x7e) {
			json_decref(body);
			return http_error(c, 422, "invalid_value", "reason",
					  "reason is printable ASCII");
		}
	char text[sizeof BOUNCE_PREFIX + BOUNCE_REASON_MAX + 4];
	snprintf(text, sizeof text, "%s%s%s", BOUNCE_PREFIX,
		 reason ? ": " : "", reason ? reason : "");
	json_decref(body);
	return change(c, CH_BOUNCE, text);
}

/* ---- POST /api/v1/queue/retry-all --------------------------------------- */

struct ids {
	struct http_ctx *c;
	int64_t *id;
	size_t n, cap;
};

static int collect(const struct store_queue_msg *m, void *arg)
{
	struct ids *w = arg;
	if (!visible(w->c, m))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		int64_t *p = reallocarray(w->id, cap, sizeof *p);
		if (p == NULL)
			abort();
		w->id = p;
		w->cap = cap;
	}
	w->id[w->n++] = m->id;
	return 0;
}

static int queue_retry_all(struct http_ctx *c)
{
	if (http_params_done(c) != 0)
		return -1;
	if (c->req->body.len > 0)
		return http_error(c, 400, "unexpected_body", NULL,
				  "this request takes no body");
	struct ids w = { .c = c };
	struct err err;
	err_clear(&err);
	int rc = store_queue_each(c->api->st, collect, &w, &err);
	size_t done = 0;
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		int one = store_queue_retry(c->api->st, w.id[i], &err);
		if (one < 0)
			rc = -1;
		done += one == 1;
	}
	free(w.id);
	if (rc != 0)
		return http_store_error(c, &err);
	json_t *o = json_object();
	json_object_set_new(o, "retried", json_integer((json_int_t)done));
	return http_reply(c, 202, o);
}

static const struct http_route routes[] = {
	{ HTTP_M_GET, "/api/v1/queue", queue_list, 0 },
	{ HTTP_M_GET, "/api/v1/queue/stats", queue_stats, 0 },
	{ HTTP_M_POST, "/api/v1/queue/retry-all", queue_retry_all, 0 },
	{ HTTP_M_GET, "/api/v1/queue/{id}", queue_show, 0 },
	{ HTTP_M_DELETE, "/api/v1/queue/{id}", queue_delete, 0 },
	{ HTTP_M_POST, "/api/v1/queue/{id}/retry", queue_retry, 0 },
	{ HTTP_M_POST, "/api/v1/queue/{id}/hold", queue_hold, 0 },
	{ HTTP_M_POST, "/api/v1/queue/{id}/release", queue_release, 0 },
	{ HTTP_M_POST, "/api/v1/queue/{id}/bounce", queue_bounce, 0 },
};

const struct http_route_table http_queue_routes = {
	routes, sizeof routes / sizeof *routes
};
