/* http_tenant.c - what the domain, mailbox, alias and session endpoints
 * share: who may see which domain or mailbox, store errors as HTTP
 * statuses, lists paged by position with a prefix filter, body members
 * of each JSON type, and setting a password (Argon2id plus the SCRAM
 * secret). */
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "core/log.h"
#include "http/http_private.h"

int http_model_error(struct http_ctx *c, const struct err *err,
		     const char *field)
{
	switch (err->kind) {
	case ERR_NOTFOUND:
		return http_error(c, 404, "not_found", field, "%s", err->msg);
	case ERR_LIMIT:
		return http_error(c, 409, "limit_reached", field, "%s", err->msg);
	case ERR_PEER:
		/* the store says "taken" in words; its callers also check
		 * first, so this is for the race between check and write */
		if (strstr(err->msg, "already") || strstr(err->msg, "is a mailbox"))
			return http_error(c, 409, "exists", field, "%s", err->msg);
		return http_error(c, 422, "invalid_value", field, "%s", err->msg);
	default:
		return http_store_error(c, err);
	}
}

int http_require_global(struct http_ctx *c)
{
	if (c->session == NULL && c->token.domain[0] == '\0')
		return 0;
	return http_error(c, 403, "forbidden", NULL,
			  "only a global token may do this");
}

const char *http_addr_domain(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL && at != address && at[1] != '\0' ? at + 1 : NULL;
}

int http_domain_access(struct http_ctx *c, const char *name,
		       struct store_domain *d)
{
	struct err err;
	err_clear(&err);
	int rc = store_domain_get(c->api->st, name, d, &err);
	if (rc < 0)
		return err.kind == ERR_PEER ?
		       http_error(c, 404, "not_found", "domain",
				  "no hosted domain %s", name) :
		       http_store_error(c, &err);
	/* a scoped caller learns nothing about other domains, hosted or
	 * not: 403 before 404 */
	if (c->session != NULL ||
	    !http_scope_allows(c, rc == 1 ? d->name : name))
		return http_error(c, 403, "forbidden", "domain",
				  "this token may not manage domain %s", name);
	if (rc == 0)
		return http_error(c, 404, "not_found", "domain",
				  "no hosted domain %s", name);
	return 0;
}

int http_mailbox_access(struct http_ctx *c, const char *address,
			struct store_mailbox_info *out)
{
	const char *dom = http_addr_domain(address);
	if (dom == NULL)
		return http_error(c, 404, "not_found", "address",
				  "'%s' is not an address", address);
	char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
	struct err err;
	err_clear(&err);
	if (store_domain_idna(dom, ascii, sizeof ascii, uni, sizeof uni,
			      &err) != 0)
		return http_error(c, 404, "not_found", "address",
				  "no mailbox %s", address);
	bool allowed = c->session != NULL ?
		       strcasecmp(c->session->address, address) == 0 :
		       http_scope_allows(c, ascii);
	if (!allowed)
		return http_error(c, 403, "forbidden", "address",
				  "this token may not manage %s", address);
	int rc = store_mailbox_info(c->api->st, address, out, &err);
	if (rc < 0)
		return err.kind == ERR_PEER ?
		       http_error(c, 404, "not_found", "address",
				  "no mailbox %s", address) :
		       http_store_error(c, &err);
	if (rc == 0)
		return http_error(c, 404, "not_found", "address",
				  "no mailbox %s", address);
	return 0;
}

/* ---- lists --------------------------------------------------------------- */

int http_list_begin(struct http_ctx *c, struct http_list *l)
{
	memset(l, 0, sizeof *l);
	if (http_page_begin(c, 1, &l->page) != 0)
		return -1;
	if (l->page.has_cursor && l->page.key[0] < 0)
		return http_error(c, 400, "invalid_parameter", "cursor",
				  "cursor is not one this list gave");
	l->q = http_param(c, "q");
	if (http_params_done(c) != 0)
		return -1;
	l->items = json_array();
	return 0;
}

bool http_list_take(struct http_list *l, const char *name)
{
	if (l->q != NULL && strncasecmp(name, l->q, strlen(l->q)) != 0)
		return false;
	size_t pos = l->matched++;
	size_t start = l->page.has_cursor ? (size_t)l->page.key[0] : 0;
	if (pos < start)
		return false;
	if (pos >= start + l->page.limit) {
		l->more = true;
		return false;
	}
	return true;
}

int http_list_reply(struct http_ctx *c, struct http_list *l)
{
	char next[48];
	if (l->more) {
		int64_t key = (l->page.has_cursor ? l->page.key[0] : 0) +
			      (int64_t)l->page.limit;
		http_cursor_encode(&key, 1, next, sizeof next);
	}
	json_t *items = l->items;
	l->items = NULL;
	return http_reply_page(c, items, l->more ? next : NULL);
}

/* ---- body members ------------------------------------------------------- */

int http_json_uint(struct http_ctx *c, json_t *obj, const char *name,
		   uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, name);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return http_error(c, 422, "wrong_type", name,
				  "%s must be an integer", name);
	json_int_t n = json_integer_value(v);
	if (n < 0 || (uint64_t)n > max)
		return http_error(c, 422, "invalid_value", name,
				  "%s must be from 0 to %llu", name,
				  (unsigned long long)max);
	*out = (uint64_t)n;
	return 1;
}

int http_json_bool(struct http_ctx *c, json_t *obj, const char *name,
		   bool *out)
{
	json_t *v = json_object_get(obj, name);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return http_error(c, 422, "wrong_type", name,
				  "%s must be true or false", name);
	*out = json_is_true(v);
	return 1;
}

int http_json_strings(struct http_ctx *c, json_t *obj, const char *name,
		      const char **out, size_t max, size_t *n_out)
{
	json_t *v = json_object_get(obj, name);
	*n_out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return http_error(c, 422, "wrong_type", name,
				  "%s must be an array of strings", name);
	if (json_array_size(v) > max)
		return http_error(c, 422, "invalid_value", name,
				  "%s has more than %zu entries", name, max);
	size_t i;
	json_t *m;
	json_array_foreach(v, i, m) {
		if (!json_is_string(m))
			return http_error(c, 422, "wrong_type", name,
					  "%s must be an array of strings", name);
		const char *s = json_string_value(m);
		size_t n = json_string_length(m);
		if (n == 0 || n > STORE_ADDR_MAX || strlen(s) != n)
			return http_error(c, 422, "invalid_value", name,
					  "%s holds an empty or overlong entry",
					  name);
		for (size_t k = 0; k < n; k++)
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
				return http_error(c, 422, "invalid_value", name,
						  "%s holds a control character",
						  name);
		out[i] = s;
	}
	*n_out = json_array_size(v);
	return 1;
}

int http_json_request(struct http_ctx *c, const char *const *allowed,
		      bool allow_empty, json_t **out)
{
	*out = NULL;
	if (http_params_done(c) != 0)
		return -1;
	int rc = http_json_body(c, out);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (!allow_empty)
			return http_error(c, 400, "missing_body", NULL,
					  "this request needs a JSON body");
		*out = json_object();
	}
	if (http_json_only(c, *out, allowed) != 0) {
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* ---- passwords ---------------------------------------------------------- */

int http_password_check(struct http_ctx *c, const char *field,
			const char *pw)
{
	size_t n = strlen(pw);
	if (n < HTTP_PASSWORD_MIN || n > HTTP_PASSWORD_MAX)
		return http_error(c, 422, "weak_password", field,
				  "a password has %d to %d characters",
				  HTTP_PASSWORD_MIN, HTTP_PASSWORD_MAX);
	return 0;
}

int http_password_hash(struct http_ctx *c, const char *pw, char *out,
		       size_t outsz, struct err *err)
{
	const struct http_api_options *o = &c->api->opt;
	if (o->pw_opslimit > 0)
		return auth_password_hash_cost(pw, strlen(pw), out, outsz,
					       o->pw_opslimit, o->pw_memlimit,
					       err);
	return auth_password_hash(pw, strlen(pw), out, outsz, err);
}

void http_audit(struct http_ctx *c, const char *kind, const char *subject,
		const char *detail)
{
	struct err err;
	err_clear(&err);
	if (store_audit_add(c->api->st, kind, subject, c->req->peer,
			    detail ? detail : "", &err) != 0)
		log_warn("http", NULL, "audit of %s %s not written: %s", kind,
			 subject, err.msg);
}
