/* lookalike_int.h - internals shared by lookalike_*.c: UTF-8 decoding,
 * the confusables map, skeletons, script classes, domain preparation and
 * reason text. Not an interface for other subsystems. */
#ifndef PETREL_FILTER_LOOKALIKE_INT_H
#define PETREL_FILTER_LOOKALIKE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "filter/lookalike.h"

/* Decode one code point at s[*i] (n octets in all) and advance *i; an
 * invalid or truncated sequence gives U+FFFD and advances one octet. */
uint32_t la_utf8_next(const char *s, size_t n, size_t *i);

/* Map one code point to at most 2 lower-case code points into out:
 * diacritics dropped (é -> e, æ -> ae), Cyrillic and Greek letters that
 * look Latin turned Latin, fullwidth to ASCII, and the digit and letter
 * swaps 0 -> o, 1/i -> l; other code points map to themselves (ASCII
 * lower-cased). Returns how many: 1 or 2. */
size_t la_map_cp(uint32_t cp, uint32_t out[2]);

/* One skeleton unit: a code point and the source octets it came from. */
struct la_unit {
	uint32_t cp;
	uint16_t off, len;
};

struct la_skel {
	struct la_unit u[FILTER_LOOKALIKE_SKEL_MAX];
	size_t n;
};

/* Skeleton of a UTF-8 label: la_map_cp on each code point, then "rn" ->
 * m and "vv" -> w. Stops at FILTER_LOOKALIKE_SKEL_MAX units. */
void la_skeleton(const char *s, size_t n, struct la_skel *sk);

enum la_script { LA_SCRIPT_OTHER = 0, LA_SCRIPT_LATIN = 1,
		 LA_SCRIPT_CYRILLIC = 2, LA_SCRIPT_GREEK = 4 };
enum la_script la_script_of(uint32_t cp);

/* A prepared domain. */
struct la_dom {
	char a[LOOKALIKE_DOMAIN_MAX + 1];	/* A-label form */
	char reg[LOOKALIKE_DOMAIN_MAX + 1];	/* registrable, or "" */
	const char *suffix;		/* in reg, after the first label */
	char label_u[256];		/* first label of reg, decoded */
	struct la_skel skel;
};

/* Lower-case, trim a trailing dot and convert to A-labels (libidn2) into
 * out (LOOKALIKE_DOMAIN_MAX + 1). -1 with *why if not a domain name. */
int la_domain_ascii(const char *in, size_t len, char *out, const char **why);
/* la_domain_ascii, then the registrable domain and its label's skeleton. */
int la_dom_prep(const char *in, size_t len, struct la_dom *d, const char **why);
/* true if d is dom or a subdomain of dom (both A-label, lower case). */
bool la_under(const char *d, const char *dom);
/* Decode one A-label (n octets; xn-- or not) into out (outsz). */
void la_label_unicode(const char *l, size_t n, char *out, size_t outsz);

/* Append printf-formatted text to buf (size sz, NUL-terminated),
 * truncating. */
void la_cat(char *buf, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Append n octets of UTF-8 as printable ASCII: ASCII as is, other code
 * points as U+XXXX when hex, else '?'. */
void la_cat_show(char *buf, size_t sz, const char *s, size_t n, bool hex);

#endif
