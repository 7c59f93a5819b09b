/* login.c - checking a mail client's user name and password off the event
 * loop (jobs pool). The user name is the full address. */
#include "auth/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"

/* An Argon2id hash of a random password, made once, verified against when
 * the user does not exist so that both cases cost the same. */
static char dummy_hash[AUTH_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	char pw[33];
	struct err err;
	auth_password_random(pw, 32);
	if (auth_password_hash(pw, 32, dummy_hash, sizeof dummy_hash, &err) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof pw);
}

static int split_user(const char *user, char *local, size_t lsz, char *domain,
		      size_t dsz)
{
	const char *at = strrchr(user, '@');
	if (at == NULL || at == user || at[1] == '\0')
		return -1;
	size_t ll = (size_t)(at - user), dl = strlen(at + 1);
	if (ll >= lsz || dl >= dsz)
		return -1;
	memcpy(local, user, ll);
	local[ll] = '\0';
	for (size_t i = 0; i <= dl; i++) {
		char ch = at[1 + i];
		domain[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	return 0;
}

static void login_run(struct job *j)
{
	struct auth_login *a = (struct auth_login *)(void *)j;
	char local[128], domain[256], hash[AUTH_HASH_MAX];
	struct err err;
	a->ok = false;
	a->temp_fail = false;
	pthread_once(&dummy_once, make_dummy);
	int found = 0;
	struct store_mailbox mb;
	if (split_user(a->user, local, sizeof local, domain, sizeof domain) == 0) {
		found = store_mailbox_password(a->store, local, domain, hash,
					       sizeof hash, &err);
		if (found == 1 && store_mailbox_find(a->store, local, domain, &mb,
						     &err) != 1)
			found = -1;
	}
	if (found < 0) {
		a->temp_fail = true;
		log_error("auth", NULL, "store error=\"%s\"", err.msg);
	} else if (found == 1) {
		a->ok = auth_password_check(hash, a->password, a->password_len) &&
			mb.enabled;
		a->mailbox_id = mb.id;
		snprintf(a->address, sizeof a->address, "%s", mb.address);
	} else if (dummy_hash[0] != '\0') {
		(void)auth_password_check(dummy_hash, a->password, a->password_len);
	}
	sodium_memzero(a->password, sizeof a->password);
	a->password_len = 0;
	sodium_memzero(hash, sizeof hash);
}

static void login_done(struct job *j)
{
	struct auth_login *a = (struct auth_login *)(void *)j;
	a->done(a);
}

void auth_login_submit(struct jobs *jp, struct auth_login *a)
{
	a->job.run = login_run;
	a->job.done = login_done;
	jobs_submit(jp, &a->job);
}
