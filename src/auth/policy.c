/* policy.c - a domain's password policy (decision 0024): length in
 * characters, character classes, not the local part, not one of the
 * passwords attackers try first. It judges a password, it does not store
 * one; the policy's values come from the store. */
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "store/store.h"

/* The most common passwords of public breach corpora (lists such as
 * NCSC's top 100k and SecLists' 10k-most-common), those of 8 or more
 * characters, since shorter ones fail the length rule anyway; compared
 * ignoring ASCII case. */
static const char *const common[] = {
	"12345678", "123456789", "1234567890", "12345678910", "123123123",
	"1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "1qaz2wsx3edc", "11111111",
	"111111111", "1111111111", "00000000", "0000000000", "87654321",
	"987654321", "0987654321", "11223344", "12341234", "123qweasd",
	"123456abc", "abc12345", "abcd1234", "abcdefgh", "aa123456",
	"a1b2c3d4", "admin123", "administrator", "asdfghjkl", "asdf1234",
	"baseball", "basketball", "charlie1", "computer", "corvette",
	"dragon123", "football", "football1", "freedom1", "iloveyou",
	"iloveyou1", "jennifer", "jordan23", "letmein1", "letmein123",
	"liverpool", "login123", "master123", "michael1", "midnight",
	"monkey123", "mustang1", "passw0rd", "password", "password1",
	"password12", "password123", "password1234", "password!",
	"p@ssw0rd", "p@ssword", "p@ssword1", "p@ssw0rd1", "princess",
	"princess1", "qazwsxedc", "qwer1234", "qwerty12", "qwerty123",
	"qwerty1234", "qwertyui", "qwertyuiop", "q1w2e3r4", "q1w2e3r4t5",
	"shadow123", "starwars", "sunshine", "sunshine1", "superman",
	"trustno1", "welcome1", "welcome123", "whatever", "zaq12wsx",
	"zxcvbnm1", "zxcvbnm123", "Aa123456", "Aa123456!", "Abc12345",
	"Abcd1234", "Abcd@1234", "Admin@123", "Passw0rd!", "Password1!",
	"Password@123", "P@ssw0rd!", "P@ssw0rd123", "Qwerty123!",
	"Welcome@123", "Welcome1!", "Changeme1", "changeme123",
	"Summer2024!", "Winter2024!", "Spring2024!", "Autumn2024!",
	"Summer2025!", "Winter2025!", "Summer2026!", "Winter2026!",
	"Qwerty@123", "Test@1234", "test12345", "Temp1234",
};

void auth_password_policy_default(struct store_password_policy *p)
{
	p->min_length = 10;
	p->min_classes = 3;
	p->reject_local = true;
	p->reject_common = true;
}

/* UTF-8 characters of s: every octet that is not a continuation. */
static size_t characters(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static unsigned classes(const char *s, size_t len)
{
	bool lower = false, upper = false, digit = false, other = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'a' && c <= 'z')
			lower = true;
		else if (c >= 'A' && c <= 'Z')
			upper = true;
		else if (c >= '0' && c <= '9')
			digit = true;
		else
			other = true;
	}
	return (unsigned)lower + upper + digit + other;
}

static bool same_ci(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

int auth_password_policy_check(const struct store_password_policy *p,
			       const char *password, size_t len,
			       const char *local, const char **why)
{
	if (len > AUTH_PASSWORD_MAX) {
		*why = "longer than 256 octets";
		return -1;
	}
	if (memchr(password, '\0', len) != NULL) {
		*why = "contains a NUL character";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)password[i] < 0x20 ||
		    (unsigned char)password[i] == 0x7f) {
			*why = "contains a control character";
			return -1;
		}
	if (characters(password, len) < p->min_length) {
		*why = "shorter than the domain's minimum length";
		return -1;
	}
	if (classes(password, len) < p->min_classes) {
		*why = "needs more kinds of characters (lower case, upper "
		       "case, digits, others)";
		return -1;
	}
	if (p->reject_local && local != NULL && same_ci(password, len, local)) {
		*why = "the same as the mailbox's name";
		return -1;
	}
	if (p->reject_common)
		for (size_t i = 0; i < sizeof common / sizeof *common; i++)
			if (same_ci(password, len, common[i])) {
				*why = "one of the most common passwords";
				return -1;
			}
	return 0;
}

bool auth_password_hash_valid(const char *s)
{
	if (strncmp(s, "$argon2id$", 10) != 0 ||
	    strnlen(s, AUTH_HASH_MAX) >= AUTH_HASH_MAX)
		return false;
	/* -1 when libsodium cannot read the string's parameters */
	return crypto_pwhash_str_needs_rehash(s, crypto_pwhash_OPSLIMIT_MIN,
					      crypto_pwhash_MEMLIMIT_MIN) >= 0;
}

void auth_password_generate(const struct store_password_policy *p,
			    char *out, size_t outsz)
{
	size_t n = p->min_length > 16 ? p->min_length : 16;
	if (n >= outsz)
		n = outsz - 1;
	/* the alphabet has three classes (a symbol makes the fourth);
	 * redraw the rare miss */
	do {
		auth_password_random(out, n);
		if (p->min_classes >= 4)
			out[randombytes_uniform((uint32_t)n)] =
				"-_.+!"[randombytes_uniform(5)];
	} while (classes(out, n) < p->min_classes);
}
