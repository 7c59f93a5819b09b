/* token.h - the features a spam classifier learns from: a bounded set of
 * distinct tokens taken from a message.
 * filter_tokenize() parses the message with src/mime/, takes the decoded
 * header fields that carry content (Subject, From, Reply-To, Return-Path,
 * X-Mailer/User-Agent), the content type, charset and attachment name
 * extension of every part, the text of text parts (transfer encoding and
 * charset undone, HTML reduced to visible text) and the URLs of the
 * message. Words: runs of letters and digits (with inner ' - . _),
 * ASCII and common Latin/Greek/Cyrillic capitals lower-cased, full-width
 * ASCII folded, zero-width characters and soft hyphens ignored (they
 * split words only to fool filters), FILTER_TOKEN_MIN..FILTER_TOKEN_MAX
 * octets; longer words become the class token "#long<octets/10*10>",
 * numbers "#n<digits>". Han, Hiragana, Katakana and Hangul have no
 * spaces between words: each run is cut into overlapping character
 * bigrams (a lone character is its own token).
 * Tokens are strings with a prefix naming where they came from: none for
 * body words, "subject:", "from:", "reply-to:", "return-path:",
 * "x-mailer:", "ct:", "charset:", "ext:", "url:" (host and registrable
 * domain), and "#"-names for signals ("html:#hidden", "url:#ip", ...).
 * Each token carries a 64-bit FNV-1a hash of its string: the classifier
 * stores hashes (decision 0034), so the hash function is part of the
 * stored format and must never change; the strings are for debugging
 * and explanations.
 * For the rules (rules.h) the set also keeps the message's URLs, the
 * HTML flags, the <a href> links with visible text and a form summary.
 * Bounds: FILTER_TOKENS_MAX distinct tokens (more counted in dropped),
 * FILTER_MAX_PARTS parts, FILTER_PART_MAX_READ octets of each part, and
 * the HTML and URL bounds. Never fails; memory is O(bounds). */
#ifndef PETREL_FILTER_TOKEN_H
#define PETREL_FILTER_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/span.h"
#include "filter/form.h"
#include "filter/url.h"

struct filter_token {
	uint64_t hash;
	uint32_t off;	/* of the NUL-terminated string in the arena */
	uint32_t len;
};

/* An HTML link whose visible text is not empty, for the check that the
 * text shows one site while the href goes to another: both as the HTML
 * reader gave them (html.h), NUL-terminated, owned by the token set. */
struct filter_tok_link {
	char *href;
	char *text;
};

struct filter_tokens {
	struct filter_token *v;	/* in order of first appearance */
	size_t n;
	size_t dropped;		/* distinct tokens past FILTER_TOKENS_MAX */
	unsigned html_flags;	/* enum filter_html_flags of all HTML parts */
	uint32_t fraud;		/* fraud.h phrase groups in the body's text */
	struct filter_urls urls;	/* the message's URLs, for rules */
	/* for the phishing rules: <a href> links with visible text (at most
	 * FILTER_TOKEN_LINKS_MAX, more counted) and the forms */
	struct filter_tok_link *links;
	size_t nlinks, links_dropped;
	struct filter_forms forms;
	/* private */
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *slots;	/* open addressing: index + 1, 0 empty */
};

/* The string of token i (< n). */
static inline const char *filter_token_str(const struct filter_tokens *t,
					   size_t i)
{
	return t->arena + t->v[i].off;
}

/* The stable hash of a token string. */
uint64_t filter_token_hash(const void *p, size_t n);

/* Tokens of the message msg[0..len) (any bytes) into *out, which the call
 * initialises. Free with filter_tokens_free(). */
void filter_tokenize(struct span msg, struct filter_tokens *out);
/* The same from the message already parsed (mime_parse), for a caller
 * that needs the structure again (filter_rules_run_mime). */
struct mime_message;
void filter_tokenize_mime(const struct mime_message *m,
			  struct filter_tokens *out);

void filter_tokens_init(struct filter_tokens *t);
void filter_tokens_free(struct filter_tokens *t);
/* Add prefix + word (word truncated to fit FILTER_TOKEN_MAX + 64) unless
 * present. */
void filter_tokens_add(struct filter_tokens *t, const char *prefix,
		       const void *word, size_t len);
/* Split UTF-8 text into words and CJK bigrams as above, each added with
 * prefix. */
void filter_tokens_text(struct filter_tokens *t, const char *prefix,
			struct span text);
bool filter_tokens_has(const struct filter_tokens *t, const char *token);

#endif
