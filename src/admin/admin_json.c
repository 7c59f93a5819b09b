/* admin_json.c - the JSON forms petrelctl --json and the REST API share
 * (admin_json.h), and an import's result (admin.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin/admin.h"
#include "admin/admin_json.h"

static const char *const post_names[] = { "anyone", "members", "senders" };

json_t *admin_json_time(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(buf);
}

json_t *admin_domain_json(const struct store_domain *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "unicode", json_string(d->unicode));
	json_object_set_new(o, "created", admin_json_time(d->created));
	if (d->alias_of[0] != '\0') {
		json_object_set_new(o, "alias_of", json_string(d->alias_of));
		return o;
	}
	json_object_set_new(o, "alias_of", json_null());
	json_object_set_new(o, "status", json_string(
		d->status == STORE_DOMAIN_SUSPENDED ? "suspended" : "active"));
	json_t *plan = json_object();
	json_object_set_new(plan, "max_mailboxes", json_integer(d->max_mailboxes));
	json_object_set_new(plan, "mailbox_quota",
			    json_integer((json_int_t)d->mailbox_quota));
	json_object_set_new(plan, "domain_quota",
			    json_integer((json_int_t)d->domain_quota));
	json_object_set_new(o, "plan", plan);
	json_object_set_new(o, "catchall", d->catchall[0] ?
			    json_string(d->catchall) : json_null());
	json_object_set_new(o, "mailboxes", json_integer(d->mailboxes));
	json_object_set_new(o, "used", json_integer((json_int_t)d->used));
	return o;
}

json_t *admin_mailbox_json(const struct store_mailbox_info *i)
{
	json_t *o = json_object();
	json_object_set_new(o, "address", json_string(i->mb.address));
	json_object_set_new(o, "display_name", json_string(i->display_name));
	json_object_set_new(o, "quota", json_integer((json_int_t)i->mb.quota));
	json_object_set_new(o, "used", json_integer((json_int_t)i->mb.used));
	json_object_set_new(o, "enabled", json_boolean(i->mb.enabled));
	json_object_set_new(o, "forward", i->forward[0] ?
			    json_string(i->forward) : json_null());
	json_object_set_new(o, "created", admin_json_time(i->created));
	return o;
}

json_t *admin_app_password_json(const struct store_app_password *ap)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(ap->id));
	json_object_set_new(o, "name", json_string(ap->name));
	json_object_set_new(o, "created", admin_json_time(ap->created));
	json_object_set_new(o, "last_used", admin_json_time(ap->last_used));
	json_object_set_new(o, "last_ip", ap->last_ip[0] ?
			    json_string(ap->last_ip) : json_null());
	json_object_set_new(o, "revoked", admin_json_time(ap->revoked));
	return o;
}

json_t *admin_alias_json(const struct store_alias *a)
{
	json_t *o = json_object();
	json_t *members = json_array(), *senders = json_array();
	json_object_set_new(o, "address", json_string(a->address));
	for (size_t i = 0; i < a->n_targets; i++)
		json_array_append_new(a->target_kinds[i] == STORE_TARGET_SENDER ?
				      senders : members,
				      json_string(a->targets[i]));
	if (a->kind == STORE_GROUP) {
		json_object_set_new(o, "members", members);
		json_object_set_new(o, "senders", senders);
		json_object_set_new(o, "posting", json_string(
			(unsigned)a->post < 3 ? post_names[a->post] : "anyone"));
	} else {
		json_object_set_new(o, "targets", members);
		json_decref(senders);
	}
	return o;
}

/* Text from the store or a remote server as a JSON string: as it is when
 * it is UTF-8, else with every byte outside printable ASCII as '?'. */
json_t *admin_json_text(const char *s)
{
	json_t *v = json_string(s);
	if (v != NULL)
		return v;
	size_t n = strlen(s);
	char *copy = malloc(n + 1);
	if (copy == NULL)
		abort();
	for (size_t i = 0; i <= n; i++)
		copy[i] = (i < n && (s[i] < 0x20 || s[i] > 0x7e)) ? '?' : s[i];
	v = json_string(copy);
	free(copy);
	return v;
}

json_t *admin_queue_msg_json(const struct store_queue_msg *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "sender", admin_json_text(m->sender));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "created", admin_json_time(m->created));
	json_object_set_new(o, "recipient_count", json_integer(m->n_rcpts));
	json_object_set_new(o, "next_try", admin_json_time(m->next_try));
	json_object_set_new(o, "held", json_boolean(m->held));
	return o;
}


json_t *admin_queue_rcpt_json(const struct store_queue_rcpt *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "address", admin_json_text(r->addr));
	if (r->orcpt[0] != '\0')
		json_object_set_new(o, "original_recipient", admin_json_text(r->orcpt));
	json_object_set_new(o, "state", json_string(r->state == STORE_QR_BOUNCE ?
						    "bounce" : "pending"));
	json_object_set_new(o, "attempts", json_integer(r->attempts));
	json_object_set_new(o, "last_try", admin_json_time(r->last_try));
	json_object_set_new(o, "next_try", r->state == STORE_QR_BOUNCE ?
			    json_null() : admin_json_time(r->next_try));
	json_object_set_new(o, "last_reply", r->last_reply[0] ?
			    admin_json_text(r->last_reply) : json_null());
	return o;
}

json_t *admin_audit_json(const struct store_audit_entry *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "time", admin_json_time(e->time));
	json_object_set_new(o, "actor", admin_json_text(e->actor));
	json_object_set_new(o, "kind", admin_json_text(e->kind));
	json_object_set_new(o, "subject", admin_json_text(e->subject));
	json_object_set_new(o, "ip", admin_json_text(e->ip));
	json_object_set_new(o, "detail", admin_json_text(e->detail));
	json_object_set_new(o, "hash", json_string(e->hash));
	return o;
}

json_t *admin_import_json(const struct admin_import_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(o, "rows", json_integer((json_int_t)r->rows));
	json_object_set_new(o, "created", json_integer((json_int_t)r->created));
	json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
	json_object_set_new(o, "hashed", json_integer((json_int_t)r->hashed));
	json_object_set_new(o, "hash_seconds", json_real(r->hash_seconds));
	json_t *pw = json_array();
	for (size_t i = 0; i < r->ngenerated; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "address",
				    json_string(r->generated[i].address));
		json_object_set_new(p, "password",
				    json_string(r->generated[i].password));
		json_array_append_new(pw, p);
	}
	json_object_set_new(o, "passwords", pw);
	json_t *errs = json_array();
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct admin_import_error *e = &r->errors[i];
		json_t *x = json_object();
		json_object_set_new(x, "line", json_integer((json_int_t)e->line));
		json_object_set_new(x, "column", json_string(e->column));
		/* a value cut inside a UTF-8 sequence is not a JSON string */
		json_t *v = json_string(e->value);
		json_object_set_new(x, "value", v ? v : json_string("(not UTF-8)"));
		json_object_set_new(x, "reason", json_string(e->reason));
		json_array_append_new(errs, x);
	}
	json_object_set_new(o, "errors", errs);
	return o;
}
