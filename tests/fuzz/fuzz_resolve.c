/* fuzz_resolve.c - libFuzzer target for recipient resolution
 * (src/store/store_resolve.c, store_model.c's IDNA): what a peer's RCPT
 * and MAIL FROM bring. A store in a directory under /tmp is made once
 * with a domain alias, aliases in a loop, a group with a posting policy
 * and a catch-all; each input is "local\0domain\0sender" (missing parts
 * empty). Results are checked against store.h's contract; a breach
 * aborts. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static char dir[] = "/tmp/petrel-fuzz-resolve-XXXXXX";

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The store's directory goes with the fuzzer. */
static void cleanup(void)
{
	store_close(&st);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	CHECK(mkdtemp(dir) != NULL);
	atexit(cleanup);
	struct err err;
	log_set_level(LOG_ERROR);
	CHECK(store_open(dir, &st, &err) == 0);
	int64_t id;
	CHECK(store_domain_add(st, "example.com", &err) == 0);
	CHECK(store_domain_add(st, "例子.公司", &err) == 0);
	CHECK(store_domain_create(st, "example.cn", "example.com", NULL, &err) == 0);
	CHECK(store_mailbox_add(st, "alice", "example.com", "", 0, &id, &err) == 0);
	CHECK(store_mailbox_add(st, "bob", "example.com", "", 0, &id, &err) == 0);
	const char *a[] = { "b@example.com", "alice@example.com" };
	const char *b[] = { "a@example.com", "far@remote.test" };
	CHECK(store_alias_add(st, "a@example.com", STORE_ALIAS,
			      STORE_POST_ANYONE, a, 2, &err) == 0);
	CHECK(store_alias_add(st, "b@example.com", STORE_ALIAS,
			      STORE_POST_ANYONE, b, 2, &err) == 0);
	CHECK(store_alias_add(st, "all@example.com", STORE_GROUP,
			      STORE_POST_MEMBERS, a, 2, &err) == 0);
	CHECK(store_domain_set_catchall(st, "例子.公司", "bob@example.com",
					&err) == 0);
	CHECK(store_mailbox_set_forward(st, "bob@example.com", "a@example.cn",
					&err) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (st == NULL)
		setup();
	/* RCPT's parser bounds what reaches the store: a path of 256 */
	if (size > 600)
		return 0;
	char buf[604];
	memcpy(buf, data, size);
	memset(buf + size, 0, 4);
	const char *local = buf;
	const char *domain = local + strlen(local) + 1;
	if (domain > buf + size)
		domain = "";
	const char *sender = domain[0] ? domain + strlen(domain) + 1 : "";
	if (sender > buf + size)
		sender = "";
	struct store_resolved r;
	struct err err;
	CHECK(store_resolve(st, local, domain, sender, &r, &err) == 0);
	CHECK(r.status <= STORE_RESOLVE_LOOP);
	CHECK(r.status == STORE_RESOLVE_OK ? r.n > 0 : r.n == 0);
	CHECK(r.n <= STORE_EXPAND_MAX);
	for (size_t i = 0; i < r.n; i++) {
		CHECK(memchr(r.targets[i].addr, '\0', sizeof r.targets[i].addr));
		for (size_t j = 0; j < i; j++)
			CHECK(r.targets[i].mailbox_id == 0 ||
			      r.targets[i].mailbox_id != r.targets[j].mailbox_id);
	}
	CHECK(memchr(r.why, '\0', sizeof r.why) != NULL);
	store_resolved_free(&r);
	(void)store_may_send_as(st, local, domain, &err);
	return 0;
}
