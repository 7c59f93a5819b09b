/* admin_filter.h - what petrelctl and the REST API share for the spam
 * filter's administration (decision 0040): the JSON of filter settings
 * and quarantine entries (with a preview of the held message), and list
 * edits by level with their checks (the domain is hosted, the mailbox
 * exists), their audit entries and the listing with file:line. Above
 * src/store/ and src/filter/; below src/cli/ and src/http/. */
#ifndef PETREL_ADMIN_FILTER_H
#define PETREL_ADMIN_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "filter/lists.h"
#include "store/store.h"

/* {"domain", "level", "quarantine_days", "user_release", "external_tag"} */
json_t *admin_filter_settings_json(const char *domain,
				   const struct store_filter_settings *s);

/* {"id", "mailbox", "domain", "sender", "subject", "score", "symbols",
 * "reason", "received", "expires", "size", "release_requested"} */
json_t *admin_quarantine_json(const struct store_quarantine_entry *e);
/* The same with "preview": {"from", "to", "cc", "date", "message_id",
 * "subject" (decoded), "text": the first QUARANTINE_PREVIEW_LINES lines
 * of the first text part, decoded to UTF-8, HTML as it is}. The message
 * is untrusted: parsed within mime's limits, the text capped. */
json_t *admin_quarantine_preview_json(const struct store_quarantine_entry *e,
				      const unsigned char *msg, size_t len);

/* The list level named by domain or user (at most one; neither: global),
 * checked against the store: ERR_NOTFOUND "no such domain/mailbox",
 * ERR_PEER for a domain alias or both given. Fills the file of act under
 * data_dir, the level and its name (domain A-label or address, lower
 * case; "" for global; STORE_ADDR_MAX + 1 bytes). */
int admin_list_level(struct store *st, const char *data_dir,
		     const char *domain, const char *user,
		     enum filter_list_action act, char *path, size_t pathsz,
		     enum filter_list_level *level_out, char *name_out,
		     struct err *err);

/* Add (or remove) the n entries (1..FILTER_LISTDIR_EDIT_MAX) to the list
 * of act at the level named by domain/user. Every entry is checked
 * first: one bad entry changes nothing (ERR_PEER naming it). *result_out
 * (new, may be NULL): {"level", "name", "list", "file", "added" or
 * "removed": [entries changed], "unchanged": [entries that were present
 * already / not there]}. One audit entry ("filter.list") per call that
 * changed something. */
int admin_list_edit(struct store *st, const char *data_dir,
		    const char *domain, const char *user,
		    enum filter_list_action act, bool add,
		    const char *const *entries, size_t n, json_t **result_out,
		    struct err *err);

/* The entries of both lists of the level: [{"list": "allow"|"block",
 * "entry", "level", "name", "file", "line", "error" (bad lines only)}]
 * in file order, allow first. 0 with *out (new), or -1. */
int admin_list_show(struct store *st, const char *data_dir,
		    const char *domain, const char *user, json_t **out,
		    struct err *err);

#endif
