/* fuzz_quar_preview.c - the preview of a quarantined message
 * (admin_quarantine_preview_json): any bytes as the message give a JSON
 * object with every preview member, text of at most
 * QUARANTINE_PREVIEW_LINES lines, and a document jansson can write. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/admin_filter.h"
#include "core/limits.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store_quarantine_entry e;
	e.id = 1;
	json_t *o = admin_quarantine_preview_json(&e, data, size);
	CHECK(json_is_object(o));
	json_t *pv = json_object_get(o, "preview");
	CHECK(json_is_object(pv));
	static const char *const keys[] = { "from", "to", "cc", "date",
					    "message_id", "subject", "text" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		json_t *v = json_object_get(pv, keys[i]);
		CHECK(v != NULL && (json_is_null(v) || json_is_string(v)));
	}
	const char *text = json_string_value(json_object_get(pv, "text"));
	if (text != NULL) {
		size_t lines = 0;
		for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
			lines++;
		CHECK(lines <= QUARANTINE_PREVIEW_LINES);
	}
	char *dump = json_dumps(o, JSON_COMPACT);
	CHECK(dump != NULL);
	free(dump);
	json_decref(o);
	return 0;
}
