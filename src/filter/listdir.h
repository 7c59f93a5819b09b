/* listdir.h - where the allow/block list files live under data_dir, how
 * an administrator's add and remove edit them, and the cache the
 * verdict engine reads them through (issue 7 item 6, decision 0040).
 *
 * Layout (lists.h has the line format):
 *   DATA/filter/allow.conf, DATA/filter/block.conf              global
 *   DATA/filter/domains/<domain>/{allow,block}.conf             a domain
 *   DATA/filter/users/<address>/{allow,block}.conf              a user
 * <domain> is the hosted domain's A-label in lower case, <address> the
 * mailbox's address in lower case. Files are edited by hand too: the
 * cache notices (filter_list_files_changed) and reads them again.
 *
 * It does not decide anything (lists.h does) and does not know the
 * store: callers check that a domain or mailbox exists. */
#ifndef PETREL_FILTER_LISTDIR_H
#define PETREL_FILTER_LISTDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"
#include "core/span.h"
#include "filter/lists.h"

/* ----- paths ------------------------------------------------------------ */

/* 0 if name may name a level's directory: 1 to 320 octets, printable
 * ASCII, no '/', not starting with '.'; else -1 (ERR_PEER, why). */
int filter_listdir_name_check(const char *name, struct err *err);

/* The file of act at level (name: NULL for GLOBAL, else the domain or
 * address, lower-cased here) into out. -1 (ERR_PEER) for a bad name,
 * ERR_LIMIT when the path does not fit. */
int filter_listdir_path(const char *data_dir, enum filter_list_level level,
			const char *name, enum filter_list_action act,
			char *out, size_t outsz, struct err *err);

/* ----- editing ---------------------------------------------------------- */

/* Add entry (lists.h syntax) to the file at path in its canonical form,
 * creating the file and its directories (owned like their parent when
 * run as root, so petreld can read what root's petrelctl wrote). 1
 * added, 0 present already (nothing written), -1 with err (ERR_PEER
 * "bad entry "...": why" for an invalid entry; ERR_ENV, ERR_LIMIT).
 * Other lines, comments included, are kept byte for byte. The new file
 * replaces the old one atomically (temporary file, fsync, rename, fsync
 * of the directory); edits of one directory are serialised (flock). */
int filter_listdir_add(const char *path, struct span entry, struct err *err);
/* Remove every line whose entry has entry's canonical form. 1 removed,
 * 0 not in the file (or no file), -1 as _add. */
int filter_listdir_remove(const char *path, struct span entry,
			  struct err *err);

/* Call fn for each entry line of the file at path (none if missing):
 * the entry's canonical form and its line, or for a bad line its text
 * (escaped, cut) and the reason in bad (NULL for a good line). fn != 0
 * stops. 0 or -1 (the file cannot be read). */
typedef int filter_listdir_fn(void *arg, const char *entry, unsigned line,
			      const char *bad);
int filter_listdir_each(const char *path, filter_listdir_fn *fn, void *arg,
			struct err *err);

/* ----- the cache the engine reads ---------------------------------------
 * One level's lists are read when first asked for and again when its
 * files change (checked at most every FILTER_LIST_CHECK_SECONDS); bad
 * lines are logged with file:line; a file that cannot be read keeps the
 * lists it had (logged). Lists are shared read-only between threads and
 * reference counted: a reader holds the ones it got until it puts them
 * back, however many reloads happen meanwhile. Thread-safe. */
struct filter_listdir_cache;

struct filter_listdir_lists {
	/* by enum filter_list_level; NULL where the level has no entries
	 * (as filter_lists_decide takes them) */
	const struct filter_list *l[FILTER_LEVELS];
	void *ref_[FILTER_LEVELS];	/* private */
};

/* data_dir is copied. Never NULL. */
struct filter_listdir_cache *filter_listdir_cache_new(const char *data_dir);
/* Every reader must have put its lists back. *cp = NULL. */
void filter_listdir_cache_free(struct filter_listdir_cache **cp);
/* The lists for mail to user (an address; NULL or "": no user level) in
 * domain (NULL or "": no domain level), now being the caller's clock.
 * A name that fails filter_listdir_name_check gives no list for its
 * level. Give them back with filter_listdir_put. */
void filter_listdir_get(struct filter_listdir_cache *c, const char *domain,
			const char *user, time_t now,
			struct filter_listdir_lists *out);
void filter_listdir_put(struct filter_listdir_cache *c,
			struct filter_listdir_lists *l);

#endif
