/* fraud.h - the phrases of advance-fee fraud ("419") letters, found in
 * the body's words as the tokenizer splits them (token_words.c), for the
 * ADVANCE_FEE rule (rules_phish.c).
 *
 * A phrase is one to four words in a row ("next of kin", "barrister",
 * "million united states dollars"); phrases fall in groups, and a
 * message's result is the set of groups it has a phrase of. Groups are
 * of two kinds: those that belong to the fraud itself (secrecy, a next
 * of kin, a deceased client, a barrister, a foreign partner, millions
 * of dollars, West African places, ...) and those that ordinary business
 * mail uses as well (a beneficiary, a fund transfer, "dear sir"); the
 * rule needs several of the first kind. English only: the letters are
 * written in English. */
#ifndef PETREL_FILTER_FRAUD_H
#define PETREL_FILTER_FRAUD_H

#include <stddef.h>
#include <stdint.h>

/* Words longer than this are never part of a phrase. */
#define FRAUD_WORD_MAX 16
/* The groups found: bits 0..15 the fraud's own, 16..31 common ones. */
#define FRAUD_OWN_MASK 0x0000ffffu
#define FRAUD_COMMON_MASK 0xffff0000u

/* The last words of one run of text. Zero it to start. */
struct fraud_seq {
	char w[3][FRAUD_WORD_MAX + 1];	/* w[0] the newest */
	uint8_t len[3];
};

/* The next word of the text (lower case, as the tokenizer folds it):
 * adds to *found the groups of the phrases that end with it. */
void fraud_word(struct fraud_seq *s, const unsigned char *w, size_t n,
		uint32_t *found);
/* A break in the text (another part): no phrase runs across it. */
void fraud_break(struct fraud_seq *s);

/* How many of the fraud's own groups and of the common ones are in
 * found. */
unsigned fraud_own(uint32_t found);
unsigned fraud_common(uint32_t found);

/* For the rule's detail: the names of the groups found, space-separated,
 * into out (cut to fit). */
void fraud_names(uint32_t found, char *out, size_t size);

/* For the unit test: 1 if every phrase is lower-case ASCII of at most
 * FRAUD_WORD_MAX octets a word and indexed. */
int fraud_table_ok(void);

#endif
