/* rep_private.h - shared by src/filter/rep*.c, their unit tests and
 * fuzzers only: DNS blocklist zones, the feed set and its parser, the
 * small blocking HTTP client, the threat-intelligence answers and their
 * cache. */
#ifndef PETREL_FILTER_REP_PRIVATE_H
#define PETREL_FILTER_REP_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/span.h"
#include "filter/lists.h"
#include "filter/rep.h"
#include "filter/url.h"

struct ma_dns;
struct ma_rrset;
struct filter_facts;
struct filter_syms;
struct filter_weights;

/* Milliseconds of CLOCK_MONOTONIC: deadlines. */
int64_t rep_now_ms(void);
/* path under dir when relative (dir NULL or "": as it is) into out; -1
 * when it does not fit. */
int rep_path(const char *dir, const char *path, char *out, size_t outsz);

/* ----- DNS blocklists (rep_dnsbl.c) ----------------------------------- */

struct rep_zone {
	char name[254];		/* lower case, no outer dots */
	double weight;		/* 0 to 1000; < 0: the symbol's weight */
	unsigned mask;		/* != 0: codes whose last octet & mask */
	size_t nranges;		/* 0 and mask 0: any 127.0.0.0/8 code */
	uint32_t lo[FILTER_REP_ZONE_RANGES_MAX];	/* host order */
	uint32_t hi[FILTER_REP_ZONE_RANGES_MAX];
};

struct rep_zones {
	size_t n;
	struct rep_zone z[FILTER_REP_ZONES_MAX];
};

/* A zone list (rep.h syntax) into out. -1 with err (ERR_CONFIG, naming
 * the zone). NULL or "" is an empty list. */
int rep_zones_parse(const char *spec, struct rep_zones *out, struct err *err)
	__attribute__((warn_unused_result));
/* The RFC 5782 query name of ip (16 bytes, IPv4 as ::ffff:a.b.c.d:
 * reversed octets; IPv6: 32 reversed nibbles) in zone. -1 when it does
 * not fit outsz. */
int rep_ip_qname(const unsigned char ip[16], const char *zone, char *out,
		 size_t outsz);
/* Whether code (host order) is one zone z counts. 127.255.255.0/24
 * (error codes, e.g. Spamhaus' "public resolver refused") and anything
 * outside 127.0.0.0/8 never count. */
bool rep_zone_code_counts(const struct rep_zone *z, uint32_t code);

/* A listing: the first code that counts (host order), in *code_out. */
enum rep_listed { REP_NOT_LISTED = 0, REP_LISTED };
/* Ask d for the A records of name; REP_LISTED if one counts for z.
 * NXDOMAIN, errors and codes that do not count are REP_NOT_LISTED
 * (fail open). rrs is scratch space. */
enum rep_listed rep_dnsbl_ask(const struct ma_dns *d, const struct rep_zone *z,
			      const char *name, struct ma_rrset *rrs,
			      uint32_t *code_out);
/* true when the client address is not worth asking about: loopback,
 * private, link-local, unspecified (RFC 1918, 4193, 4291). */
bool rep_ip_is_local(const unsigned char ip[16]);
/* The DNSBL_IP and DNSBL_DOMAIN symbols of one message into out: at most
 * max_lookups queries, FILTER_REP_DOMAINS_MAX registrable domains. */
void rep_dnsbl_check(const struct rep_zones *ipz, const struct rep_zones *dz,
		     unsigned max_lookups, const struct filter_urls *urls,
		     const struct filter_facts *facts,
		     const struct filter_weights *w, struct filter_syms *out);

/* ----- URL feeds (rep_feed.c: parsing; rep_feeds.c: files) ------------ */

/* A set of feed entries: 64-bit hashes (filter_token_hash) of normalised
 * URLs and of hosts, sorted once built. Read-only once sealed. */
struct rep_feed {
	uint64_t *url;
	size_t n_url, cap_url;
	uint64_t *host;
	size_t n_host, cap_host;
};

enum rep_feed_format {
	REP_FEED_EMPTY = 0,	/* nothing but comments and blank lines */
	REP_FEED_TEXT,		/* one URL (or host) a line */
	REP_FEED_CSV,		/* URLhaus or PhishTank CSV */
	REP_FEED_JSON,		/* PhishTank JSON: [{"url": ...}, ...] */
};

struct rep_feed_info {
	enum rep_feed_format format;
	size_t added;		/* entries added (duplicates included) */
	size_t bad;		/* lines or objects skipped */
	size_t first_bad;	/* line (CSV/text) or object (JSON), from 1 */
	bool full;		/* FILTER_REP_FEED_ENTRIES_MAX reached */
};

void rep_feed_init(struct rep_feed *f);
void rep_feed_free(struct rep_feed *f);
/* Add the entries of one feed file's text (format detected). A URL
 * whose path is "/" without a query, or a bare host name line, is a host
 * entry: every URL on that host and its subdomains matches. 0, or -1
 * with err (ERR_PEER) when the text is not a feed: JSON that does not
 * parse, or bad lines and no good one. */
int rep_feed_parse(struct rep_feed *f, struct span text,
		   struct rep_feed_info *info, struct err *err)
	__attribute__((warn_unused_result));
/* Sort and drop duplicates: call once after the last parse. */
void rep_feed_seal(struct rep_feed *f);
size_t rep_feed_count(const struct rep_feed *f);
/* A normalised URL (filter_url.url) in the set. */
bool rep_feed_has_url(const struct rep_feed *f, const char *url);
/* host (normalised) or a parent of it down to its registrable domain is
 * a host entry; *matched_len is the length of the suffix of host that
 * matched. */
bool rep_feed_has_host(const struct rep_feed *f, const char *host,
		       size_t *matched_len);

/* The feed files and the set in use, reloaded when they change. */
struct rep_feeds {
	size_t n;
	char path[FILTER_REP_FEED_FILES_MAX][4096];
	struct filter_file_stamp stamp[FILTER_REP_FEED_FILES_MAX];
	pthread_rwlock_t lock;		/* guards cur */
	struct rep_feed *cur;
	pthread_mutex_t reload;		/* one reloader; guards the rest */
	time_t last_check;
};

/* Read the files of list (paths under dir). -1 with err when one
 * cannot be read or is not a feed. */
int rep_feeds_init(struct rep_feeds *fs, const char *list, const char *dir,
		   struct err *err) __attribute__((warn_unused_result));
void rep_feeds_fini(struct rep_feeds *fs);
/* Read the files again when one changed (checked at most every
 * FILTER_LIST_CHECK_SECONDS of now, monotonic seconds); a failure is
 * logged and the old set kept. Skips when another thread is at it. */
void rep_feeds_refresh(struct rep_feeds *fs, time_t now);
/* Matches of the message's URLs into out (URL_FEED, URL_FEED_HOST). */
void rep_feeds_check(struct rep_feeds *fs, const struct filter_urls *urls,
		     const struct filter_weights *w, struct filter_syms *out);
size_t rep_feeds_count(struct rep_feeds *fs);

/* ----- HTTP client (rep_http.c, rep_http_parse.c) --------------------- */

struct rep_http_url {
	bool tls;
	char host[256];		/* without brackets for IPv6 */
	char port[6];
	const char *path;	/* into the parsed text: "/..." */
};

/* "http://host[:port]/path" or https. -1 when it is not one (userinfo,
 * fragments and other schemes refused). */
int rep_http_url_parse(const char *url, struct rep_http_url *out);

struct rep_http_resp {
	int status;
	size_t body_len;	/* octets of the decoded body in body */
};

/* Parse the response p[0..len) (what was read so far; eof: the peer
 * closed). Framing: Content-Length, chunked, or until close; 1xx, folded
 * headers, more than FILTER_REP_TI_HEADERS_MAX lines, a bad or doubled
 * length, both framings, or a body longer than bodycap are errors.
 * 1: complete, status and body (decoded) filled; 0: need more; -1: bad. */
int rep_http_parse(const unsigned char *p, size_t len, bool eof,
		   unsigned char *body, size_t bodycap,
		   struct rep_http_resp *out);

struct rep_http;
/* A client: TLS verified against ca_file ("" or NULL: the system store);
 * auth (NULL: none) is sent as "Authorization: Bearer AUTH". */
struct rep_http *rep_http_new(const char *ca_file, const char *auth,
			      struct err *err);
void rep_http_free(struct rep_http **hp);
/* GET url, done by deadline_ms (rep_now_ms clock). 0 and *out with the
 * body in body (bodycap octets), or -1 with err (ERR_ENV: connect, TLS,
 * timeout; ERR_PEER: a bad answer; ERR_LIMIT: too long). Blocking;
 * thread-safe. err never holds the URL's path or query. */
int rep_http_get(const struct rep_http *h, const char *url,
		 int64_t deadline_ms, unsigned char *body, size_t bodycap,
		 struct rep_http_resp *out, struct err *err)
	__attribute__((warn_unused_result));

/* ----- threat-intelligence API (rep_ti.c, rep_cache.c) ---------------- */

enum rep_verdict { REP_UNKNOWN = 0, REP_CLEAN, REP_MALICIOUS };

#define REP_CATEGORY_MAX 32

/* The protocol (docs/filter.md): 200 with a JSON object whose
 * "malicious" is true or false (an optional "category" string kept,
 * printable ASCII, cut); 404: clean; anything else unknown. */
enum rep_verdict rep_ti_answer(int status, const unsigned char *body,
			       size_t len, char cat[REP_CATEGORY_MAX]);
/* The template with each "%u" replaced by url percent-encoded (all but
 * RFC 3986 unreserved characters) and "%%" by "%". -1 when it does not
 * fit outsz. */
int rep_ti_expand(const char *tmpl, const char *url, char *out, size_t outsz);

/* A bounded LRU of answers keyed by URL hash; thread-safe. */
struct rep_cache;
struct rep_cache *rep_cache_new(size_t cap, unsigned ttl);
void rep_cache_free(struct rep_cache **cp);
/* true and the cached answer when key has one younger than ttl. */
bool rep_cache_get(struct rep_cache *c, uint64_t key, time_t now,
		   enum rep_verdict *v, char cat[REP_CATEGORY_MAX]);
void rep_cache_put(struct rep_cache *c, uint64_t key, time_t now,
		   enum rep_verdict v, const char *cat);
size_t rep_cache_count(struct rep_cache *c);

struct rep_ti;
/* NULL and err ERR_NONE when conf has no ti_url (off). */
struct rep_ti *rep_ti_new(const struct filter_rep_conf *conf,
			  struct err *err);
void rep_ti_free(struct rep_ti **tp);
/* What the API (or the cache) says of url, asked by deadline_ms.
 * Unknown on any trouble, which is logged and, for transport failures,
 * leaves the API alone for FILTER_REP_TI_BACKOFF seconds. */
enum rep_verdict rep_ti_ask(struct rep_ti *t, const char *url,
			    int64_t deadline_ms, char cat[REP_CATEGORY_MAX]);
/* The message's URLs (at most ti_max_urls asked, all within the
 * timeout) into out as URL_TI_MALICIOUS. */
void rep_ti_check(struct rep_ti *t, const struct filter_urls *urls,
		  const struct filter_weights *w, struct filter_syms *out);

#endif
