/* store_fsettings.c - the spam filter's settings per domain (table
 * filter_settings, decision 0040): protection level, quarantine days,
 * whether recipients may release their own quarantined mail, and the
 * "[External]" tag. A domain without a row has the defaults; a domain
 * alias reads its target's. Statements are prepared per call: settings
 * are read per message by the filter's cache, not here. */
#include "store/store_private.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const level_names[] = { "standard", "enterprise",
					   "strict" };
static const char *const tag_names[] = { "off", "subject", "banner" };

const char *store_filter_level_name(enum store_filter_level l)
{
	return (unsigned)l < 3 ? level_names[l] : "?";
}

const char *store_external_tag_name(enum store_external_tag t)
{
	return (unsigned)t < 3 ? tag_names[t] : "?";
}

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; s != NULL && i < 3; i++)
		if (!strcasecmp(names[i], s))
			return i;
	return -1;
}

int store_filter_level_parse(const char *s)
{
	return name_index(level_names, s);
}

int store_external_tag_parse(const char *s)
{
	return name_index(tag_names, s);
}

void store_filter_settings_default(struct store_filter_settings *out)
{
	memset(out, 0, sizeof *out);
	out->level = STORE_FILTER_STANDARD;
	out->quarantine_days = STORE_QUARANTINE_DAYS_DEFAULT;
	out->user_release = false;
	out->external_tag = STORE_EXTERNAL_TAG_OFF;
}

/* The domain whose row applies: name itself, or its alias target. 1,
 * 0 not hosted, -1. */
static int settings_domain(struct store *st, const char *name,
			   struct store_domain *d, struct err *err)
{
	int found = store_domain_get(st, name, d, err);
	if (found == 1 && d->alias_of[0] != '\0')
		snprintf(d->name, sizeof d->name, "%s", d->alias_of);
	return found;
}

int store_filter_settings_get(struct store *st, const char *domain,
			      struct store_filter_settings *out,
			      struct err *err)
{
	store_filter_settings_default(out);
	struct store_domain d;
	int found = settings_domain(st, domain, &d, err);
	if (found != 1)
		return found;
	struct store_conn *c = store_reader_get(st, err);
	if (c == NULL)
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT level, quarantine_days, "
			       "user_release, external_tag FROM "
			       "filter_settings WHERE domain = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		store_db_fail(err, c, "prepare filter settings");
		goto out;
	}
	sqlite3_bind_text(s, 1, d.name, -1, SQLITE_STATIC);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		int level = sqlite3_column_int(s, 0);
		int64_t days = sqlite3_column_int64(s, 1);
		int tag = sqlite3_column_int(s, 3);
		/* values another version wrote are clamped, never trusted */
		if (level >= 0 && level <= STORE_FILTER_STRICT)
			out->level = (enum store_filter_level)level;
		if (days >= 1 && days <= STORE_QUARANTINE_DAYS_MAX)
			out->quarantine_days = (uint32_t)days;
		out->user_release = sqlite3_column_int(s, 2) != 0;
		if (tag >= 0 && tag <= STORE_EXTERNAL_TAG_BANNER)
			out->external_tag = (enum store_external_tag)tag;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		store_db_fail(err, c, "read filter settings");
	else
		rc = 1;
out:
	sqlite3_finalize(s);
	store_reader_put(st, c);
	return rc;
}

struct set_ctx {
	const char *domain;
	const struct store_filter_settings *s;
};

static int set_tx(struct store_conn *c, void *arg, struct err *err)
{
	struct set_ctx *x = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO filter_settings"
			       "(domain, level, quarantine_days, user_release, "
			       "external_tag) VALUES (?1, ?2, ?3, ?4, ?5)", -1,
			       &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "prepare set filter settings");
	sqlite3_bind_text(s, 1, x->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)x->s->level);
	sqlite3_bind_int64(s, 3, x->s->quarantine_days);
	sqlite3_bind_int(s, 4, x->s->user_release ? 1 : 0);
	sqlite3_bind_int(s, 5, (int)x->s->external_tag);
	int rc = store_step_done(c, s, "set filter settings", err);
	sqlite3_finalize(s);
	return rc;
}

int store_filter_settings_set(struct store *st, const char *domain,
			      const struct store_filter_settings *s,
			      struct err *err)
{
	if ((unsigned)s->level > STORE_FILTER_STRICT ||
	    (unsigned)s->external_tag > STORE_EXTERNAL_TAG_BANNER)
		return err_set(err, ERR_PEER, 0, "", "unknown level or tag");
	if (s->quarantine_days < 1 ||
	    s->quarantine_days > STORE_QUARANTINE_DAYS_MAX)
		return err_set(err, ERR_PEER, 0, "",
			       "quarantine days must be 1 to %d",
			       STORE_QUARANTINE_DAYS_MAX);
	struct store_domain d;
	int found = store_domain_get(st, domain, &d, err);
	if (found < 0)
		return -1;
	if (found == 0)
		return err_set(err, ERR_NOTFOUND, 0, "", "no such domain: %s",
			       domain);
	if (d.alias_of[0] != '\0')
		return err_set(err, ERR_PEER, 0, "",
			       "%s is an alias of %s: set the filter there",
			       d.name, d.alias_of);
	struct set_ctx x = { d.name, s };
	if (store_admin_tx(st, set_tx, &x, err) != 0)
		return -1;
	char detail[160];
	snprintf(detail, sizeof detail, "level=%s quarantine_days=%u "
		 "user_release=%s external_tag=%s",
		 store_filter_level_name(s->level), s->quarantine_days,
		 s->user_release ? "yes" : "no",
		 store_external_tag_name(s->external_tag));
	return store_audit_add(st, "filter.settings", d.name, "", detail, err);
}
