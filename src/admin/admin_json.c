/* admin_json.c - the JSON form of an import's result, one shape for the
 * API's reply and petrelctl's --json. */
#include <jansson.h>

#include "admin/admin.h"

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
