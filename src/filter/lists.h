/* lists.h - allow and block lists of the filter (issue 7 item 6,
 * decision 0036): entries for sender addresses, domains (with or without
 * their subdomains) and client IPs/CIDRs; one list per level (global,
 * domain, user); lookups, the precedence across levels, the rule that an
 * allow needs authentication, and the plain-file format with change
 * detection. It does not store lists or talk SMTP: the caller does.
 *
 * Entry syntax (one per line in a file, or one string to the API):
 *   alice@example.com     that address. The domain is matched without
 *                         case; the local part too (ASCII letters), since
 *                         RFC 5321 2.4 lets a host tell "Alice" from
 *                         "alice" but none does, and a block must not be
 *                         slipped past by changing case. No "+tag" folding.
 *   example.com           that domain only ("@example.com" and
 *                         "*@example.com" mean the same).
 *   .example.com          example.com and every subdomain ("*.example.com"
 *                         and "*@*.example.com" mean the same).
 *   192.0.2.7, 2001:db8::1          one address;
 *   192.0.2.0/24, 2001:db8::/32     a network. Bits set past the prefix
 *                         are an error (192.0.2.1/24 is a typo for
 *                         something). IPv4 is held as ::ffff:a.b.c.d, so
 *                         a mapped IPv6 peer matches IPv4 entries, and
 *                         ::/0 matches every peer, 0.0.0.0/0 every IPv4 one.
 * Domains in U-labels are turned into A-labels (IDNA 2008).
 *
 * Precedence, as an admin reads it:
 *  - Across levels the closest level that matches decides: user, then
 *    domain, then global. A user's allow beats the domain's block for
 *    that user's mail only; an allow still needs authentication (below),
 *    so it cannot let a spoofer in.
 *  - Within a level the most specific sender entry decides: address, then
 *    exact domain, then ".domain" entries from the deepest parent up; an
 *    allow for alice@example.com beats a block of example.com. Among IP
 *    entries the longest prefix decides.
 *  - Between the sender entry and the IP entry of one level, and between
 *    an allow and a block of the same entry, block wins.
 *
 * The rule for the caller: an allow-listed sender skips the spam score
 * only when the message is authenticated for that sender: SPF passed for,
 * or a DKIM signature verified for, a domain aligned (relaxed, as DMARC)
 * with the From domain, and the matched sender domain is aligned with it
 * too (filter_allow_applies). IP allows need no such proof (a TCP peer
 * address cannot be forged). filter_lists_decide applies the rule itself:
 * an allow that does not apply is passed over, so a less specific block
 * or a block at a lower level still counts, and it is reported as
 * ignored for the explanation.
 *
 * A list is built (add/parse/load) and then only read: lookups on one
 * list from several threads are safe once it is built. Changes make a
 * new list that replaces the old one whole. */
#ifndef PETREL_FILTER_LISTS_H
#define PETREL_FILTER_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/span.h"

enum filter_list_action {
	FILTER_LIST_NONE = 0,
	FILTER_LIST_ALLOW,
	FILTER_LIST_BLOCK,
};

enum filter_list_level {
	FILTER_LEVEL_GLOBAL = 0,
	FILTER_LEVEL_DOMAIN,
	FILTER_LEVEL_USER,
	FILTER_LEVELS
};

enum filter_entry_kind {
	FILTER_ENTRY_ADDRESS = 0,
	FILTER_ENTRY_DOMAIN,		/* the domain only */
	FILTER_ENTRY_SUBDOMAINS,	/* the domain and its subdomains */
	FILTER_ENTRY_IP,		/* address or network */
};

/* Longest domain kept (RFC 1035 2.3.4, without the root dot). */
#define FILTER_DOMAIN_MAX 253

struct filter_list;

/* ----- create and free ------------------------------------------------ */

/* An empty list; never NULL (aborts when out of memory). */
struct filter_list *filter_list_new(void);
void filter_list_free(struct filter_list **lp);

/* ----- build ---------------------------------------------------------- */

/* Add one entry (syntax above; surrounding blanks ignored). line is where
 * it came from (0 if not from a file), shown in matches. Adding an entry
 * already present is a success that changes nothing. -1 with err
 * (ERR_PEER and the reason, or ERR_LIMIT past FILTER_LIST_MAX). */
int filter_list_add(struct filter_list *l, enum filter_list_action act,
		    struct span entry, unsigned line, struct err *err)
	__attribute__((warn_unused_result));

/* Called once per bad line of a file: file is the name given to the
 * parser, reason a short text (the entry in it escaped and cut). */
typedef void filter_list_bad_fn(void *ctx, const char *file, unsigned line,
				const char *reason);

/* Add every entry of a file's text: one entry per line, '#' at the start
 * of a line or after a blank starts a comment ('#' is legal inside a
 * local part), blanks and empty lines ignored, LF or CRLF. Every bad line is reported through bad (may be NULL) and the
 * others added; lines over FILTER_LIST_LINE_MAX are bad. file (kept by
 * the list for matches) names the source. Returns the number of bad
 * lines (0: all good); entries past FILTER_LIST_MAX are reported once. */
size_t filter_list_parse(struct filter_list *l, enum filter_list_action act,
			 struct span text, const char *file,
			 filter_list_bad_fn *bad, void *ctx);

/* Entries held (allow and block). */
size_t filter_list_count(const struct filter_list *l);

/* Write entry in its canonical form (as the list shows it) into out
 * (FILTER_LIST_TEXT_MAX): 0, or -1 with the reason in err when invalid.
 * For "remove" and for showing what an admin typed. */
int filter_entry_canonical(struct span entry, char *out, size_t outsz,
			   enum filter_entry_kind *kind_out, struct err *err);

/* ----- look up -------------------------------------------------------- */

/* What a message is checked by. Every part may be absent. */
struct filter_list_query {
	struct span sender;	/* "local@domain" (MAIL FROM or the From
				 * address), empty for the null sender */
	struct span domain;	/* domain for domain entries; empty: the
				 * sender's domain */
	const unsigned char *ip;	/* client IP, 16 bytes, IPv4 as
					 * ::ffff:a.b.c.d; NULL if unknown */
};

/* The entry that decided, for the explanation. */
struct filter_list_match {
	enum filter_list_action action;	/* NONE: nothing matched */
	enum filter_list_level level;	/* set by filter_lists_decide */
	enum filter_entry_kind kind;
	unsigned line;			/* line in its file, 0 if none */
	const char *file;		/* its file, NULL if none; lives as
					 * long as the list */
	char entry[FILTER_LIST_TEXT_MAX];	/* canonical entry text */
	char domain[FILTER_DOMAIN_MAX + 1];	/* sender domain it matched
						 * ("" for IP entries) */
};

/* Look up one list, every allow taken as applying (to show what a list
 * says). Fills *out (action NONE when nothing matched). */
void filter_list_lookup(const struct filter_list *l,
			const struct filter_list_query *q,
			struct filter_list_match *out);

/* What the authentication checks proved; any part may be NULL/0. Domains
 * in any case, with or without trailing dot. */
struct filter_auth {
	const char *spf_pass_domain;	/* domain SPF passed for */
	const char *const *dkim_pass_domains;	/* d= of verified signatures */
	size_t n_dkim;
	const char *from_domain;	/* RFC 5322.From domain */
};

/* Whether the allow match m lets the message skip the spam score (rule
 * above). false for anything but an allow; true for an IP allow; NULL
 * auth proves nothing. */
bool filter_allow_applies(const struct filter_auth *auth,
			  const struct filter_list_match *m);

struct filter_list_verdict {
	enum filter_list_action action;	/* NONE, ALLOW (applies), BLOCK */
	struct filter_list_match match;	/* the deciding entry */
	bool ignored_allow;		/* an allow matched without auth */
	struct filter_list_match ignored;	/* the first such allow */
};

/* Combine the lists of the three levels (index enum filter_list_level,
 * any may be NULL) by the precedence above, passing over allows that do
 * not apply for auth. Fills *out. */
void filter_lists_decide(const struct filter_list *const lists[FILTER_LEVELS],
			 const struct filter_list_query *q,
			 const struct filter_auth *auth,
			 struct filter_list_verdict *out);

const char *filter_list_action_str(enum filter_list_action a);
const char *filter_list_level_str(enum filter_list_level l);

/* ----- files and reload ----------------------------------------------- */

/* What a file looked like when read: compared to notice an edit,
 * including one that keeps size and mtime second (nanoseconds, ctime,
 * inode for an editor's rename). exists false: it was missing. */
struct filter_file_stamp {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

/* The whole regular file at path into *text (NUL-terminated after *len
 * octets; the caller frees it) and its stamp, taken from the open
 * descriptor. A missing file is 0 with *text NULL, *len 0 and the stamp
 * "not there". -1 with err (ERR_ENV: unreadable or not a regular file;
 * ERR_LIMIT: larger than max). Shared by every filter file that is
 * reloaded when it changes (lists, URL feeds). */
int filter_file_read(const char *path, size_t max, char **text, size_t *len,
		     struct filter_file_stamp *s, struct err *err)
	__attribute__((warn_unused_result));
/* true when path does not look as s recorded it (appeared, vanished,
 * replaced, edited; a stat() error other than "missing" counts). */
bool filter_file_changed(const char *path, const struct filter_file_stamp *s);
/* What path looks like now (stat), for a file whose read failed: it is
 * then read again only once it changes. */
void filter_file_stamp_path(const char *path, struct filter_file_stamp *s);

/* A level's two files, allow.conf and block.conf by habit (either path
 * may be "" for none). Fill the paths, then load; keep it for checks. */
struct filter_list_files {
	char allow_path[4096];
	char block_path[4096];
	struct filter_file_stamp allow_stamp, block_stamp;
	time_t last_check;
};

/* Read both files (a missing file is an empty list) into a new list in
 * *out and remember their stamps, taken from the open descriptor so an
 * edit during the read is seen by the next check. Bad lines go to bad.
 * -1 with err (ERR_ENV: unreadable; ERR_LIMIT: over FILTER_LIST_FILE_MAX)
 * and *out NULL when a file cannot be read: keep the old list then. */
int filter_list_files_load(struct filter_list_files *f,
			   filter_list_bad_fn *bad, void *ctx,
			   struct filter_list **out, struct err *err)
	__attribute__((warn_unused_result));

/* true when a file changed (appeared, vanished, replaced, edited) since
 * the last load. stat()s at most once per FILTER_LIST_CHECK_SECONDS
 * (false in between); now is the caller's clock in seconds. Only checks:
 * the caller loads again and swaps the lists. */
bool filter_list_files_changed(struct filter_list_files *f, time_t now);

#endif
