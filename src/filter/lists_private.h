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

/* lists_file.c, shared with listdir.c (which edits the files): the
 * entry of a line, the text before a '#' that starts the line or follows
 * a blank ('#' is legal inside a local part), trimmed; and the whole
 * file into *text (caller frees; NULL and 0 when missing, a success)
 * with its stamp from the open descriptor, refused past
 * FILTER_LIST_FILE_MAX (ERR_LIMIT) or when not a regular file. */
struct span lists_line_entry(struct span line);
/* Call fn for each line of text (LF or CRLF) with its number, its raw
 * bytes with the line end, its entry (empty for blank and comment lines
 * and for lines over FILTER_LIST_LINE_MAX, which come with too_long);
 * fn != 0 stops. */
typedef int lists_line_fn(void *arg, unsigned line, struct span raw,
			  struct span entry, bool too_long);
void lists_lines(struct span text, lists_line_fn *fn, void *arg);

#endif
