/* fuzz_api_request.c - libFuzzer target for the admin API's dispatcher
 * (http_api_handle): the request target (path and query), the
 * Authorization and Content-Type headers and the body, without a network,
 * against a real store in a temporary directory with a global and a
 * scoped token. Input: byte 0 picks the method, byte 1 the credentials,
 * content type and client address; the rest is "target\nbody". Every
 * reply must carry a known status and JSON that parses, and every error
 * the {"error": {"code", "message"}} shape; a breach aborts. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/auth.h"
#include "core/log.h"
#include "http/http.h"
#include "store/store.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static struct http_api *api;
static char global_tok[HTTP_TOKEN_LEN + 1], scoped_tok[HTTP_TOKEN_LEN + 1];

static char dir[] = "/tmp/petrel-fuzz-api-XXXXXX";

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* libFuzzer ends with exit(): leave no store behind in /tmp */
static void cleanup(void)
{
	http_api_free(&api);
	store_close(&st);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void init(void)
{
	struct err err;
	int64_t id;
	log_set_level(LOG_ERROR);
	CHECK(auth_init(&err) == 0);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(store_open(dir, &st, &err) == 0);
	CHECK(store_domain_add(st, "a.test", &err) == 0);
	CHECK(store_domain_add(st, "b.test", &err) == 0);
	CHECK(store_mailbox_add(st, "u", "a.test", "$argon2id$v=19$m=8,t=1,p=1$"
				"c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
				0, &id, &err) == 0);
	unsigned char h[HTTP_TOKEN_HASH_LEN];
	http_token_new(global_tok, h);
	CHECK(store_token_add(st, "g", "", h, &id, &err) == 0);
	http_token_new(scoped_tok, h);
	CHECK(store_token_add(st, "s", "a.test", h, &id, &err) == 0);
	struct http_api_options o;
	http_api_options_default(&o);
	/* new passwords hashed at Argon2id's least cost: the fuzzer makes
	 * mailboxes by the thousand */
	o.pw_opslimit = 1;
	o.pw_memlimit = 8192;
	api = http_api_new(st, &o);
	atexit(cleanup);
}

static const int known[] = { 200, 201, 202, 204, 400, 401, 403, 404, 405, 409,
			     413, 414, 415, 422, 429, 503 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (api == NULL)
		init();
	if (size < 2)
		return 0;
	uint8_t m = data[0], f = data[1];
	data += 2;
	size -= 2;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	size_t blen = nl ? size - tlen - 1 : 0;
	/* exactly sized copies so that ASan sees any overread */
	unsigned char *target = malloc(tlen ? tlen : 1);
	unsigned char *body = malloc(blen ? blen : 1);
	CHECK(target && body);
	memcpy(target, data, tlen);
	if (blen)
		memcpy(body, nl + 1, blen);

	char auth[80];
	struct span authz = span_make(NULL, 0);
	switch (f & 3) {
	case 1: snprintf(auth, sizeof auth, "Bearer %s", global_tok); authz = span_cstr(auth); break;
	case 2: snprintf(auth, sizeof auth, "Bearer %s", scoped_tok); authz = span_cstr(auth); break;
	case 3: authz = span_make(body, blen); break;	/* fuzzed header */
	}
	char peer[32];
	snprintf(peer, sizeof peer, "192.0.2.%u", (unsigned)(f >> 4));
	struct http_request r = {
		.method = (enum http_method)(m % 8),
		.target = span_make(target, tlen),
		.authorization = authz,
		.content_type = (f & 4) ? span_cstr("application/json") :
				(f & 8) ? span_make(body, blen > 40 ? 40 : blen) :
				span_make(NULL, 0),
		.body = span_make(body, blen),
		.peer = peer,
		.now = 1764160000,
	};
	struct http_response resp;
	http_api_handle(api, &r, &resp);
	bool ok = false;
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		ok |= resp.status == known[i];
	CHECK(ok);
	CHECK((resp.body == NULL) == (resp.status == 204));
	if (resp.body != NULL) {
		CHECK(strlen(resp.body) == resp.body_len);
		json_error_t je;
		json_t *v = json_loads(resp.body, 0, &je);
		CHECK(v != NULL);
		if (resp.status >= 400) {
			json_t *e = json_object_get(v, "error");
			CHECK(json_is_string(json_object_get(e, "code")));
			CHECK(json_is_string(json_object_get(e, "message")));
		}
		json_decref(v);
	}
	CHECK(resp.status != 405 || resp.allow[0] != '\0');
	CHECK(resp.status != 401 || resp.www_authenticate[0] != '\0');
	CHECK(resp.status != 429 || resp.retry_after > 0);
	http_response_clear(&resp);
	free(target);
	free(body);
	return 0;
}
