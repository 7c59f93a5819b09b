/* admin_json.h - the JSON form of the tenants model, the queue and the
 * audit log: one shape for the REST API's answers and petrelctl --json,
 * so a script can move between them. Each returns a new reference
 * (never NULL: jansson only fails to allocate, and then we abort). */
#ifndef PETREL_ADMIN_JSON_H
#define PETREL_ADMIN_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

/* "2026-11-26T13:00:00Z" (UTC), null for 0 or less. */
json_t *admin_json_time(int64_t t);
/* Text from the store or a peer: as it is when UTF-8, else with every
 * byte outside printable ASCII as '?'. */
json_t *admin_json_text(const char *s);

json_t *admin_domain_json(const struct store_domain *d);
json_t *admin_mailbox_json(const struct store_mailbox_info *i);
json_t *admin_alias_json(const struct store_alias *a);
json_t *admin_app_password_json(const struct store_app_password *ap);
json_t *admin_queue_msg_json(const struct store_queue_msg *m);
json_t *admin_queue_rcpt_json(const struct store_queue_rcpt *r);
json_t *admin_audit_json(const struct store_audit_entry *e);

#endif
