/* fuzz_arc.c - libFuzzer target for ARC: chain reading and validation
 * against a fixed zone, then sealing the same bytes with a fixed Ed25519
 * key and validating the result. Whatever the input, work stays within
 * ARC_MAX_SETS and the DKIM limits, and a set we add to a chain that
 * validated validates again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/arc.h"
#include "msgauth/ma_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 8032 7.1 test 1: the RFC 8463 example key */
static const unsigned char SEED[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4,
	0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
	0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};

static const char ZONE[] =
	"ed._domainkey.example.com TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"slow._domainkey.example.com TIMEOUT\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ma_zone *z;
	static struct ma_dns dns;
	static EVP_PKEY *key;
	struct err err;
	struct arc_result r;

	if (z == NULL) {
		z = ma_zone_new();
		if (ma_zone_load(z, ZONE, sizeof ZONE - 1, &err) < 0)
			abort();
		ma_zone_dns(z, &dns);
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, SEED, 32);
		if (key == NULL)
			abort();
	}
	if (arc_verify((const char *)data, size, &dns, 1700000000, &r, &err) < 0)
		return 0;
	if (r.sets > ARC_MAX_SETS || (r.cv == ARC_PASS && r.sets == 0) ||
	    (r.cv == ARC_NONE && r.sets != 0))
		abort();
	struct arc_seal_opts o = {
		.domain = "example.com", .selector = "ed", .key = key, .t = 1700000000,
		.aar = "mx.example.com; arc=fuzz", .cv = r.cv,
	};
	char *fields = NULL;
	int rc = arc_seal((const char *)data, size, &o, &fields, &err);
	if (rc == 1 && r.cv != ARC_FAIL) {
		size_t fl = strlen(fields);
		char *m = malloc(fl + size);
		memcpy(m, fields, fl);
		memcpy(m + fl, data, size);
		struct arc_result again;
		if (arc_verify(m, fl + size, &dns, 1700000000, &again, &err) < 0 ||
		    again.cv != ARC_PASS || again.sets != r.sets + 1)
			abort();
		free(m);
	}
	free(fields);
	return 0;
}
