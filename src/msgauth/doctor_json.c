/* doctor_json.c - the DNS doctor's records and findings as JSON, the
 * same for `petrelctl dns records|check --json` and the API. */
#include "msgauth/doctor.h"

json_t *doctor_records_json(const struct doctor_records *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct doctor_record *d = &r->r[i];
		char line[DOCTOR_VALUE_MAX * 2 + 400];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(d->name));
		json_object_set_new(o, "type",
				    json_string(doctor_rtype_name(d->type)));
		json_object_set_new(o, "value", json_string(d->value));
		json_object_set_new(o, "ttl", json_integer(d->ttl));
		json_object_set_new(o, "purpose", json_string(d->purpose));
		if (doctor_zone_line(d, line, sizeof line) == 0)
			json_object_set_new(o, "zone", json_string(line));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *doctor_report_json(const struct doctor_report *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct doctor_finding *f = &r->f[i];
		json_t *o = json_object();
		json_object_set_new(o, "check", json_string(f->check));
		json_object_set_new(o, "status",
				    json_string(doctor_status_name(f->status)));
		json_object_set_new(o, "name", json_string(f->name));
		json_object_set_new(o, "found", json_string(f->what));
		json_object_set_new(o, "fix", f->fix[0] ? json_string(f->fix)
							: json_null());
		json_object_set_new(o, "ttl", json_integer(f->ttl));
		json_array_append_new(a, o);
	}
	return a;
}
