/* fuzz_dkim_verify.c - libFuzzer target for whole-message DKIM
 * verification against a fixed zone (an Ed25519 and an RSA key, a
 * revoked one and a TIMEOUT name): message splitting, canonicalisation,
 * h= selection and every result path, bounded by the DKIM_* limits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dkim.h"
#include "msgauth/ma_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ZONE[] =
	"ed._domainkey.example.com TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"test._domainkey.example.com TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\"\n"
	"gone._domainkey.example.com TXT \"v=DKIM1; p=\"\n"
	"slow._domainkey.example.com TIMEOUT\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ma_zone *z;
	static struct ma_dns dns;
	struct err err;

	if (z == NULL) {
		z = ma_zone_new();
		if (ma_zone_load(z, ZONE, sizeof ZONE - 1, &err) < 0)
			abort();
		ma_zone_dns(z, &dns);
	}
	struct dkim_verdict *v = malloc(sizeof *v);
	struct dkim_verify_opts o = { .now = 1700000000 };
	if (dkim_verify((const char *)data, size, &dns, &o, v, &err) == 0) {
		if (v->n > DKIM_MAX_SIGS)
			abort();
		for (size_t k = 0; k < v->n; k++)
			if (v->r[k].result == DKIM_NONE || v->r[k].result > DKIM_PERMERROR ||
			    memchr(v->r[k].reason, '\0', sizeof v->r[k].reason) == NULL)
				abort();
	}
	free(v);
	return 0;
}
