/* fuzz_sasl.c - libFuzzer target for the SASL decoders that read what a
 * client sends to AUTH: auth_sasl_decode (base64), auth_sasl_plain
 * (RFC 4616), the SCRAM-SHA-256 client-first and client-final parsers
 * (RFC 5802) with a real exchange state in between, the stored-secret
 * reader, and the From: check that runs on submitted headers. The first
 * byte picks the split point between the two SCRAM messages. Results
 * are checked against the headers' contracts; a breach aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "smtp/smtp_sender.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_plain(const uint8_t *data, size_t size)
{
	unsigned char raw[AUTH_SASL_MAX];
	size_t len = 12345;
	enum auth_sasl_result rc = auth_sasl_decode(span_make(data, size), raw, sizeof raw, &len);
	CHECK(rc == AUTH_SASL_OK || rc == AUTH_SASL_BAD_BASE64);
	CHECK(rc != AUTH_SASL_OK || len <= sizeof raw);
	CHECK(rc == AUTH_SASL_OK || len == 0);

	char user[320], pw[256];
	size_t pwlen = 0;
	rc = auth_sasl_plain(span_make(data, size), user, sizeof user, pw, sizeof pw, &pwlen);
	if (rc == AUTH_SASL_OK) {
		CHECK(memchr(user, '\0', sizeof user) != NULL && user[0] != '\0');
		CHECK(pwlen < sizeof pw && pw[pwlen] == '\0');
	}
}

static void fuzz_scram(const uint8_t *data, size_t size)
{
	static struct auth_scram_secret secret;
	static int ready;
	if (!ready) {
		static const unsigned char salt[16] = "fuzz-salt-16-byt";
		CHECK(auth_scram_secret_derive("pencil", 6, salt, sizeof salt, 4096, &secret) == 0);
		ready = 1;
	}
	size_t split = size ? data[0] : 0;
	if (size)
		data++, size--;
	if (split > size)
		split = size;
	struct auth_scram *sc = calloc(1, sizeof *sc);
	CHECK(sc != NULL);
	/* exactly sized copies so that ASan sees any overread */
	unsigned char *a = malloc(split ? split : 1), *b = malloc(size - split ? size - split : 1);
	CHECK(a != NULL && b != NULL);
	memcpy(a, data, split);
	memcpy(b, data + split, size - split);
	enum auth_sasl_result rc = auth_scram_client_first(sc, a, split);
	CHECK(rc == AUTH_SASL_OK || rc == AUTH_SASL_MALFORMED || rc == AUTH_SASL_AUTHZ);
	if (rc == AUTH_SASL_OK) {
		CHECK(memchr(sc->user, '\0', sizeof sc->user) != NULL && sc->user[0] != '\0');
		CHECK(sc->bare_len <= sizeof sc->bare && sc->gs2_len <= sizeof sc->gs2);
		sc->secret = secret;
		char out[2048];
		if (auth_scram_server_first(sc, out, sizeof out) == 0) {
			bool ok = true;
			char fin[256];
			rc = auth_scram_client_final(sc, b, size - split, &ok, fin, sizeof fin);
			CHECK(rc == AUTH_SASL_OK || rc == AUTH_SASL_MALFORMED);
			/* nobody guesses a proof: the nonce is random */
			CHECK(!ok);
		}
	}
	free(a);
	free(b);
	free(sc);
}

static void fuzz_text(const uint8_t *data, size_t size)
{
	char text[AUTH_SCRAM_SECRET_MAX + 8];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	struct auth_scram_secret s;
	if (auth_scram_secret_parse(text, &s) == 0) {
		CHECK(s.iterations >= AUTH_SCRAM_ITERATIONS_MIN);
		CHECK(s.salt_len > 0 && s.salt_len <= sizeof s.salt);
	}
	unsigned char *p = malloc(size ? size : 1);
	CHECK(p != NULL);
	memcpy(p, data, size);
	char bad[64];
	struct span hdr = smtp_header_block(span_make(p, size));
	CHECK(hdr.len <= size);
	enum smtp_from_result r = smtp_from_check(hdr, NULL, "demo@example.test", bad, sizeof bad);
	CHECK(r == SMTP_FROM_OK || r == SMTP_FROM_MISSING || r == SMTP_FROM_FOREIGN);
	CHECK(memchr(bad, '\0', sizeof bad) != NULL);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	fuzz_plain(data, size);
	fuzz_scram(data, size);
	fuzz_text(data, size);
	return 0;
}
