/* taglist.h - RFC 6376 3.2 tag=value lists, the syntax shared by
 * DKIM-Signature, DKIM key records, ARC headers and DMARC records.
 *
 *   tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *
 * Values are borrowed spans of the input with surrounding whitespace
 * removed (inner folding whitespace stays: callers that need it gone,
 * like b= and p=, strip it). A duplicate tag name, a tag without "=", or
 * an invalid tag name is an error (RFC 6376 3.2: "MUST be ... permfail"
 * for duplicates). At most TAGLIST_MAX tags. */
#ifndef PETREL_TAGLIST_H
#define PETREL_TAGLIST_H

#include <stdbool.h>
#include <stddef.h>

#define TAGLIST_MAX 32

struct tag {
	const char *name;
	size_t name_len;
	const char *val;
	size_t val_len;
};

struct taglist {
	size_t n;
	struct tag t[TAGLIST_MAX];
};

/* 0, or -1 with *why set to a static reason. */
int taglist_parse(const char *s, size_t len, struct taglist *tl, const char **why);
/* The tag named name (exact, case-sensitive as RFC 6376 says), or NULL. */
const struct tag *taglist_get(const struct taglist *tl, const char *name);
/* value == v (length-checked). */
bool tag_is(const struct tag *t, const char *v);

#endif
