/* url.h - URLs found in mail, normalised so that one site has one
 * spelling for lookups and rules: http and https URLs (and "www." text,
 * read as http) from plain text, and the href/src values an HTML part
 * carries. Normalisation: scheme and host lower-cased; host percent-
 * decoded, IDNA-mapped to its A-label (libidn2, UTS 46 non-transitional)
 * with the Unicode form kept for lookalike checks; numeric IPv4 hosts in
 * any form browsers accept (3232235777, 0xC0A80101, 0300.0250.1.1,
 * 192.168.257) rewritten as dotted quads and flagged; userinfo dropped
 * and flagged (http://bank.com@evil.example/); default ports dropped;
 * backslashes read as '/'; in the path and query, percent-escapes of
 * unreserved characters decoded and the rest upper-cased (RFC 3986
 * 6.2.2), controls, space, non-ASCII and a '%' that starts no escape
 * escaped (the normal form is ASCII and normalising it again changes
 * nothing); the fragment dropped; known shorteners flagged.
 * Bounded: FILTER_URL_MAX_LEN octets per URL, FILTER_URLS_MAX distinct
 * URLs kept per list (more counted), FILTER_URLS_MAX_WORK normalisations
 * per list. Never fails on any input. Thread-safe. */
#ifndef PETREL_FILTER_URL_H
#define PETREL_FILTER_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/span.h"
#include "filter/html.h"

enum filter_url_flags {
	FILTER_URL_IP = 1u << 0,	/* the host is an IP address */
	FILTER_URL_IP_OBFUSCATED = 1u << 1,	/* ... not written as a
						 * dotted quad */
	FILTER_URL_IDN = 1u << 2,	/* the host has Unicode labels */
	FILTER_URL_SHORTENER = 1u << 3,	/* a known URL shortener */
	FILTER_URL_USERINFO = 1u << 4,	/* had user@ before the host */
	FILTER_URL_PORT = 1u << 5,	/* a port other than the default */
	FILTER_URL_BAD_HOST = 1u << 6,	/* the host failed IDNA; kept as
					 * written, lower-cased */
	FILTER_URL_TRUNCATED = 1u << 7,	/* cut at FILTER_URL_MAX_LEN */
	FILTER_URL_HTML = 1u << 8,	/* came from an href or src */
};

/* One normalised URL; all strings NUL-terminated and owned. */
struct filter_url {
	char *url;	/* scheme://host[:port]/path[?query] */
	char *host;	/* A-label form, or the dotted quad, or [v6] */
	char *host_u;	/* Unicode form (same as host when ASCII) */
	unsigned flags;	/* enum filter_url_flags */
};

struct filter_urls {
	struct filter_url *v;
	size_t n;		/* distinct URLs kept, in order of appearance */
	size_t seen;		/* URLs met, duplicates and dropped included */
	size_t dropped;		/* not kept: list full or work bound met */
	size_t work;		/* private: normalisations done */
	uint64_t *hash;		/* private: of each url, to compare */
};

/* Normalise one URL (http:, https:, //host, or www.host). 0 and *out
 * (free with filter_url_clear()), or -1 if it is not such a URL or has
 * no host. */
int filter_url_normalise(struct span raw, struct filter_url *out);
void filter_url_clear(struct filter_url *u);

/* An IPv4 address in the forms WHATWG's URL host parser accepts (1 to 4
 * parts, each decimal, 0x hex or 0 octal; the last fills the remaining
 * octets). 0 and *out (host order), -1 if host is not one. */
int filter_ipv4_parse(const char *host, size_t len, uint32_t *out);
/* true if host (normalised) is on the built-in shortener list. */
bool filter_url_is_shortener(const char *host);

void filter_urls_init(struct filter_urls *l);
void filter_urls_free(struct filter_urls *l);
/* Normalise raw and keep it unless already there; flags are or'ed into
 * the entry's. */
void filter_urls_add(struct filter_urls *l, struct span raw, unsigned flags);
/* The URLs in plain text (UTF-8): http://, https:// (any case) and
 * www. at the start of a word, ended by white space, quotes, angle
 * brackets or trailing punctuation. */
void filter_urls_from_text(struct filter_urls *l, struct span text);
/* The href and src values of a parsed HTML part, and the URLs in its
 * visible text. */
void filter_urls_from_html(struct filter_urls *l, const struct filter_html *h);

#endif
