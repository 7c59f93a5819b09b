/* lists_private.h - shared by src/filter/lists*.c only: the binary key an
 * entry is hashed under, and the entry syntax helpers that make it. */
#ifndef PETREL_FILTER_LISTS_PRIVATE_H
#define PETREL_FILTER_LISTS_PRIVATE_H

#include "filter/lists.h"

/* Local part octets (RFC 5321 4.5.3.1.1). */
#define LISTS_LOCAL_MAX 64
/* A key: action byte, kind byte, then "local@domain" or the domain text,
 * or the prefix length (0..128) and 16 address bytes masked to it. */
#define LISTS_KEY_MAX (2 + LISTS_LOCAL_MAX + 1 + FILTER_DOMAIN_MAX)

struct lists_key {
	size_t len;
	unsigned char b[LISTS_KEY_MAX];
};

/* Entry text (trimmed by the caller) to its key with action act. -1 with
 * the reason in err (ERR_PEER). */
int lists_entry_key(struct span entry, enum filter_list_action act,
		    struct lists_key *k, struct err *err);
/* The canonical text of a key into out (FILTER_LIST_TEXT_MAX). */
void lists_key_text(const struct lists_key *k, char *out, size_t outsz);
/* Domain to lower-case A-labels without outer dots into out
 * (FILTER_DOMAIN_MAX + 1): 0, or -1 when it is not a domain. */
int lists_domain_norm(const unsigned char *p, size_t n, char *out);
/* Clear the bits of a 16-byte address past prefix. */
void lists_ip_mask(unsigned char ip[16], unsigned prefix);

/* filter_list_add with the entry marked as coming from the list's file
 * for act (named by lists_set_file, a copy kept). */
int lists_add(struct filter_list *l, enum filter_list_action act,
	      struct span entry, unsigned line, bool from_file,
	      struct err *err);
void lists_set_file(struct filter_list *l, enum filter_list_action act,
		    const char *file);

#endif
