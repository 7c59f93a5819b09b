/* rep.h - reputation checks of the filter (issue 7 items 3 and 4,
 * decision 0039): the client IP and the registrable domains of the
 * message's URLs against DNS blocklists (RFC 5782), the URLs against
 * local feed files (URLhaus, PhishTank), and optionally an HTTP
 * threat-intelligence API. Each is off until configured; none needs the
 * internet unless the admin points it there.
 *
 * Every check fails open: a DNS error, a 127.255.255.x "error" answer, an
 * unreadable feed or an API that times out, refuses or answers nonsense
 * is "no answer" (logged, never a score). filter_rep_check blocks on DNS
 * and HTTP, so it runs on a thread of the authentication/filter pool,
 * never on an event loop. It is thread-safe: several threads may check
 * messages with one filter_rep at once (the feed set is swapped under a
 * lock when its files change; the API cache has its own lock).
 *
 * DNS blocklist zones, "zone[=CODES][:WEIGHT]":
 *   zen.spamhaus.org                     any 127.0.0.0/8 answer counts
 *   zen.spamhaus.org=127.0.0.2-127.0.0.11:6   codes in these ranges
 *                                        ('|' between ranges), scored 6
 *   multi.uribl.com=&14:5                codes whose last octet has a bit
 *                                        of the mask (URIBL/SURBL style)
 * The weight replaces the symbol's (DNSBL_IP, DNSBL_DOMAIN); a weight
 * of 0 for the symbol in the weights file turns every zone off. */
#ifndef PETREL_FILTER_REP_H
#define PETREL_FILTER_REP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct config;
struct filter_tokens;
struct filter_facts;
struct filter_weights;
struct filter_syms;

struct filter_rep_conf {
	/* zone lists as above, separated by commas or blanks; NULL or ""
	 * for none */
	const char *dnsbl_ip;
	const char *dnsbl_domain;
	unsigned dnsbl_max_lookups;	/* per message; 0: the default */
	/* feed files, separated by commas or blanks; NULL or "" none */
	const char *url_feed;
	/* the threat-intelligence API: "" or NULL off */
	const char *ti_url;		/* http(s)://host[:port]/path?..%u.. */
	const char *ti_key_file;	/* "": no Authorization header */
	const char *ti_ca_file;		/* "": the system trust store */
	unsigned ti_timeout;		/* seconds for one message; 0: default */
	unsigned ti_cache_ttl;		/* seconds; 0: default */
	unsigned ti_cache_size;		/* entries; 0: default */
	unsigned ti_max_urls;		/* per message; 0: default */
	/* relative paths (feeds, key, CA) are taken under it; NULL: cwd */
	const char *dir;
};

/* The conf of a loaded config (pointers into cfg: it must outlive the
 * conf); dir is cfg->data_dir. */
void filter_rep_conf_from_config(const struct config *cfg,
				 struct filter_rep_conf *out);

/* Check the zones, read the feeds, load the API key and the CA file.
 * NULL with err, naming the key or file: ERR_CONFIG for a bad zone, URL
 * template, key or CA file; ERR_ENV for a feed or key that cannot be
 * read; ERR_LIMIT for a feed over FILTER_REP_FEED_FILE_MAX; ERR_PEER for
 * a feed that is not one (startup stops: the admin asked for it). Later
 * feed reloads that fail keep the old set instead. */
struct filter_rep *filter_rep_new(const struct filter_rep_conf *conf,
				  struct err *err);
void filter_rep_free(struct filter_rep **rp);

/* The symbols of one message into out: DNSBL_IP for facts->ip (not for
 * internal mail: an authenticated user's home address is on policy
 * lists), DNSBL_DOMAIN for the registrable domains of tok->urls,
 * URL_FEED / URL_FEED_HOST for URLs in the feeds, URL_TI_MALICIOUS for
 * URLs the API calls malicious. DNS checks need facts->dns (NULL: skip).
 * Feed files are checked for changes at most every
 * FILTER_LIST_CHECK_SECONDS and read again by the calling thread. */
void filter_rep_check(struct filter_rep *r, const struct filter_tokens *tok,
		      const struct filter_facts *facts,
		      const struct filter_weights *w, struct filter_syms *out);

/* Entries of the feed set in use (URLs and hosts), for status and tests. */
size_t filter_rep_feed_entries(struct filter_rep *r);

#endif
