/* ctl_out.c - how petrelctl answers: sentences and tables for people, or
 * with --json one JSON document on standard output for scripts (the same
 * objects the REST API returns, admin_json.h). Errors are one line on
 * standard error either way, and with --json also {"error": {...}} on
 * standard output so a script reading it never gets nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/ctl.h"

static json_t *out_object(struct ctl *c)
{
	if (c->out == NULL)
		c->out = json_object();
	return c->out;
}

void ctl_say(struct ctl *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (!c->json) {
		printf("%s\n", line);
		return;
	}
	if (!json_is_object(out_object(c)))
		return;
	json_t *m = json_object_get(c->out, "message");
	if (m != NULL) {
		size_t n = strlen(json_string_value(m));
		char *both = malloc(n + strlen(line) + 2);
		if (both == NULL)
			abort();
		memcpy(both, json_string_value(m), n);
		both[n] = '\n';
		memcpy(both + n + 1, line, strlen(line) + 1);
		json_object_set_new(c->out, "message", json_string(both));
		free(both);
	} else {
		json_object_set_new(c->out, "message", json_string(line));
	}
}

void ctl_set(struct ctl *c, const char *key, json_t *v)
{
	if (c->json && json_is_object(out_object(c)))
		json_object_set_new(c->out, key, v);
	else
		json_decref(v);
}

void ctl_item(struct ctl *c, json_t *item)
{
	if (c->out == NULL)
		c->out = json_array();
	if (json_is_array(c->out))
		json_array_append_new(c->out, item);
	else
		json_decref(item);
}

void ctl_list_begin(struct ctl *c)
{
	if (c->json && c->out == NULL)
		c->out = json_array();
}

void ctl_doc(struct ctl *c, json_t *doc)
{
	json_decref(c->out);
	c->out = doc;
}

int ctl_fail(struct ctl *c)
{
	fprintf(stderr, "petrelctl: %s\n", c->err.msg);
	if (c->json) {
		static const char *const kinds[] = {
			[ERR_NONE] = "error", [ERR_PEER] = "invalid",
			[ERR_ENV] = "unavailable", [ERR_CONFIG] = "config",
			[ERR_NOTFOUND] = "not_found", [ERR_LIMIT] = "limit_reached",
		};
		unsigned k = (unsigned)c->err.kind;
		ctl_doc(c, json_pack("{s:{s:s, s:s}}", "error", "code",
				     k < sizeof kinds / sizeof *kinds && kinds[k] ?
				     kinds[k] : "error", "message", c->err.msg));
	}
	return 1;
}

void ctl_out_finish(struct ctl *c, int rc)
{
	if (!c->json || rc == 2 || (c->printed && c->out == NULL))
		return;
	if (c->out == NULL)
		c->out = json_pack("{s:b}", "ok", rc == 0);
	char *text = json_dumps(c->out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (text != NULL) {
		printf("%s\n", text);
		free(text);
	}
	json_decref(c->out);
	c->out = NULL;
}
