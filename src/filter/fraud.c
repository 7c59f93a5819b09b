/* fraud.c - advance-fee fraud phrases (fraud.h). The table is indexed
 * once by the first letter of each phrase's last word, so a word costs
 * a look at the few phrases that could end with it: the tokenizer runs
 * this on every word of the body. */
#include "filter/fraud.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum {
	G_SECRECY, G_KIN, G_FOREIGN, G_DECEASED, G_BARRISTER, G_BLESS,
	G_URGENT, G_COMPANY, G_CONTRACT, G_MILLIONS, G_PLACE,
	G_TRANSFER = 16, G_BENEFICIARY, G_BANK, G_GREETING, G_PROPOSAL,
};

static const char *const group_name[32] = {
	[G_SECRECY] = "secrecy", [G_KIN] = "next-of-kin",
	[G_FOREIGN] = "foreign-partner", [G_DECEASED] = "deceased",
	[G_BARRISTER] = "barrister", [G_BLESS] = "god-bless",
	[G_URGENT] = "urgency", [G_COMPANY] = "security-company",
	[G_CONTRACT] = "contract", [G_MILLIONS] = "millions",
	[G_PLACE] = "west-africa", [G_TRANSFER] = "transfer",
	[G_BENEFICIARY] = "beneficiary", [G_BANK] = "central-bank",
	[G_GREETING] = "greeting", [G_PROPOSAL] = "proposal",
};

/* words in reading order, NULL after the last */
struct phrase {
	const char *w[4];
	unsigned group;
};

static const struct phrase phrases[] = {
	{ { "strict", "confidence" }, G_SECRECY },
	{ { "strictest", "confidence" }, G_SECRECY },
	{ { "utmost", "confidence" }, G_SECRECY },
	{ { "utmost", "secrecy" }, G_SECRECY },
	{ { "absolute", "confidence" }, G_SECRECY },
	{ { "strictly", "confidential" }, G_SECRECY },
	{ { "top", "secret" }, G_SECRECY },
	{ { "next", "of", "kin" }, G_KIN },
	{ { "foreign", "partner" }, G_FOREIGN },
	{ { "foreign", "account" }, G_FOREIGN },
	{ { "overseas", "partner" }, G_FOREIGN },
	{ { "overseas", "account" }, G_FOREIGN },
	{ { "late", "client" }, G_DECEASED },
	{ { "deceased", "client" }, G_DECEASED },
	{ { "late", "husband" }, G_DECEASED },
	{ { "deceased", "husband" }, G_DECEASED },
	{ { "late", "father" }, G_DECEASED },
	{ { "deceased", "father" }, G_DECEASED },
	{ { "plane", "crash" }, G_DECEASED },
	{ { "barrister" }, G_BARRISTER },
	{ { "god", "bless" }, G_BLESS },
	{ { "reply", "urgently" }, G_URGENT },
	{ { "reply", "immediately" }, G_URGENT },
	{ { "urgent", "reply" }, G_URGENT },
	{ { "urgent", "response" }, G_URGENT },
	{ { "urgent", "business" }, G_URGENT },
	{ { "security", "company" }, G_COMPANY },
	{ { "finance", "company" }, G_COMPANY },
	{ { "diplomatic" }, G_COMPANY },
	{ { "contract", "review" }, G_CONTRACT },
	{ { "contract", "award" }, G_CONTRACT },
	{ { "over-invoiced" }, G_CONTRACT },
	{ { "overinvoiced" }, G_CONTRACT },
	{ { "over", "invoiced" }, G_CONTRACT },
	{ { "million", "dollars" }, G_MILLIONS },
	{ { "million", "us", "dollars" }, G_MILLIONS },
	{ { "million", "united", "states", "dollars" }, G_MILLIONS },
	{ { "million", "usd" }, G_MILLIONS },
	{ { "million", "pounds" }, G_MILLIONS },
	{ { "million", "euros" }, G_MILLIONS },
	{ { "nigeria" }, G_PLACE },
	{ { "lagos" }, G_PLACE },
	{ { "abuja" }, G_PLACE },
	{ { "ivory", "coast" }, G_PLACE },
	{ { "d'ivoire" }, G_PLACE },
	{ { "sierra", "leone" }, G_PLACE },
	{ { "zimbabwe" }, G_PLACE },
	{ { "burkina", "faso" }, G_PLACE },
	{ { "benin", "republic" }, G_PLACE },
	{ { "transfer", "of", "the", "fund" }, G_TRANSFER },
	{ { "transfer", "of", "this", "fund" }, G_TRANSFER },
	{ { "transfer", "of", "funds" }, G_TRANSFER },
	{ { "transfer", "the", "fund" }, G_TRANSFER },
	{ { "transfer", "this", "fund" }, G_TRANSFER },
	{ { "fund", "transfer" }, G_TRANSFER },
	{ { "money", "transfer" }, G_TRANSFER },
	{ { "beneficiary" }, G_BENEFICIARY },
	{ { "central", "bank" }, G_BANK },
	{ { "reserve", "bank" }, G_BANK },
	{ { "dear", "sir" }, G_GREETING },
	{ { "dear", "friend" }, G_GREETING },
	{ { "dear", "beloved" }, G_GREETING },
	{ { "attn", "sir" }, G_GREETING },
	{ { "mutual", "benefit" }, G_PROPOSAL },
	{ { "business", "transaction" }, G_PROPOSAL },
	{ { "business", "proposal" }, G_PROPOSAL },
};

#define NPHRASES (sizeof phrases / sizeof phrases[0])
#define BUCKET_MAX 16

/* by the first letter of the last word: indices into phrases */
static uint8_t bucket[26][BUCKET_MAX];
static uint8_t bucket_n[26];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static size_t words_of(const struct phrase *p)
{
	size_t n = 0;
	while (n < 4 && p->w[n] != NULL)
		n++;
	return n;
}

static void index_phrases(void)
{
	for (size_t i = 0; i < NPHRASES; i++) {
		const char *last = phrases[i].w[words_of(&phrases[i]) - 1];
		unsigned b = (unsigned)(last[0] - 'a');
		/* the table is ours; a unit test checks it fits */
		if (b < 26 && bucket_n[b] < BUCKET_MAX)
			bucket[b][bucket_n[b]++] = (uint8_t)i;
	}
}

static bool same(const char *want, const char *w, size_t n)
{
	return strlen(want) == n && memcmp(want, w, n) == 0;
}

void fraud_word(struct fraud_seq *s, const unsigned char *w, size_t n,
		uint32_t *found)
{
	if (n == 0 || n > FRAUD_WORD_MAX) {
		fraud_break(s);
		return;
	}
	pthread_once(&once, index_phrases);
	if (w[0] >= 'a' && w[0] <= 'z') {
		unsigned b = (unsigned)(w[0] - 'a');
		for (unsigned k = 0; k < bucket_n[b]; k++) {
			const struct phrase *p = &phrases[bucket[b][k]];
			size_t pn = words_of(p);
			if (!same(p->w[pn - 1], (const char *)w, n))
				continue;
			bool ok = true;
			/* the earlier words, newest first, against s->w[] */
			for (size_t j = 1; j < pn && ok; j++)
				ok = same(p->w[pn - 1 - j], s->w[j - 1],
					  s->len[j - 1]);
			if (ok)
				*found |= 1u << p->group;
		}
	}
	memmove(s->w[1], s->w[0], 2 * sizeof s->w[0]);
	memmove(s->len + 1, s->len, 2 * sizeof s->len[0]);
	memcpy(s->w[0], w, n);
	s->w[0][n] = '\0';
	s->len[0] = (uint8_t)n;
}

void fraud_break(struct fraud_seq *s)
{
	memset(s->len, 0, sizeof s->len);
}

static unsigned bits(uint32_t x)
{
	unsigned n = 0;
	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

unsigned fraud_own(uint32_t found)
{
	return bits(found & FRAUD_OWN_MASK);
}

unsigned fraud_common(uint32_t found)
{
	return bits(found & FRAUD_COMMON_MASK);
}

void fraud_names(uint32_t found, char *out, size_t size)
{
	size_t len = 0;
	if (size == 0)
		return;
	out[0] = '\0';
	for (unsigned g = 0; g < 32; g++) {
		if (!(found & (1u << g)) || group_name[g] == NULL)
			continue;
		int k = snprintf(out + len, size - len, "%s%s",
				 len ? " " : "", group_name[g]);
		if (k < 0 || (size_t)k >= size - len) {
			out[len] = '\0';
			return;
		}
		len += (size_t)k;
	}
}

int fraud_table_ok(void)
{
	pthread_once(&once, index_phrases);
	size_t indexed = 0;
	for (unsigned b = 0; b < 26; b++)
		indexed += bucket_n[b];
	if (indexed != NPHRASES)
		return 0;
	for (size_t i = 0; i < NPHRASES; i++)
		for (size_t j = 0; j < words_of(&phrases[i]); j++) {
			const char *w = phrases[i].w[j];
			if (strlen(w) == 0 || strlen(w) > FRAUD_WORD_MAX)
				return 0;
			for (const char *c = w; *c; c++)
				if (!((*c >= 'a' && *c <= 'z') || *c == '-' ||
				      *c == '\''))
					return 0;
		}
	return 1;
}
