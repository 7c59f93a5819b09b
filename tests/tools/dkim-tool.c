/* dkim-tool.c - test driver for src/msgauth/dkim*: verify a message file
 * against a zone file (ma_zone text), sign one with a PEM key or an
 * Ed25519 seed, or print a canonical form (for the third-party tables).
 * Built into build/tests/tools/, never installed.
 *
 *   dkim-tool verify [--zone FILE] [--now T] [--max-sigs N] MSG
 *       one line per signature: RESULT d= s= a= i= b= bits= testing= reason=
 *       then "unchecked=N" when signatures were left over; exit 2 when
 *       MSG is not a message
 *   dkim-tool sign --domain D --selector S (--key PEM | --seed B64FILE)
 *       [--t T] [--x X] [--canon H/B] [--headers LIST] [--identity I] MSG
 *       prints the DKIM-Signature field and then MSG
 *   dkim-tool arc-verify [--zone FILE] [--now T] MSG
 *       "CV sets=N oldest-pass=K temporary=0|1 d= s= reason=..."
 *   dkim-tool arc-seal --domain D --selector S (--key PEM | --seed B64FILE)
 *       --cv none|pass|fail --aar-file FILE [--t T] [--headers LIST] MSG
 *       prints the new ARC set and then MSG ("chain ended" on stderr,
 *       exit 3, when nothing may be added)
 *   dkim-tool canon-body simple|relaxed FILE     the canonical body
 *   dkim-tool canon-header simple|relaxed FILE   one canonical field
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "msgauth/arc.h"
#include "msgauth/dkim.h"
#include "msgauth/dkim_private.h"
#include "msgauth/ma_zone.h"

#define FILE_MAX (256u * 1024 * 1024)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, r;
	char *p = malloc(cap);

	if (f == NULL || p == NULL) {
		fprintf(stderr, "dkim-tool: cannot read %s\n", path);
		exit(2);
	}
	while ((r = fread(p + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			if (cap >= FILE_MAX) {
				fprintf(stderr, "dkim-tool: %s too large\n", path);
				exit(2);
			}
			cap *= 2;
			p = realloc(p, cap);
			if (p == NULL)
				exit(2);
		}
	}
	fclose(f);
	*len = n;
	return p;
}

static const char *arg(int argc, char **argv, const char *name)
{
	for (int i = 2; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static enum dkim_canon canon(const char *s)
{
	return strcmp(s, "relaxed") == 0 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
}

static void out_put(void *arg, const void *p, size_t n)
{
	fwrite(p, 1, n, arg);
}

static struct ma_zone *load_zone(int argc, char **argv, struct ma_dns *dns)
{
	struct ma_zone *z = ma_zone_new();
	const char *zone = arg(argc, argv, "--zone");
	struct err err = { 0 };
	size_t len;

	if (zone != NULL) {
		char *text = slurp(zone, &len);
		if (ma_zone_load(z, text, len, &err) < 0) {
			fprintf(stderr, "dkim-tool: %s: %s\n", zone, err.msg);
			exit(2);
		}
		free(text);
	}
	ma_zone_dns(z, dns);
	return z;
}

static time_t now_arg(int argc, char **argv)
{
	const char *now = arg(argc, argv, "--now");

	return now ? (time_t)strtoll(now, NULL, 10) : time(NULL);
}

static int verify(int argc, char **argv)
{
	struct ma_dns dns;
	struct ma_zone *z = load_zone(argc, argv, &dns);
	struct err err = { 0 };
	const char *max = arg(argc, argv, "--max-sigs");
	size_t len;

	char *msg = slurp(argv[argc - 1], &len);
	struct dkim_verify_opts o = {
		.now = now_arg(argc, argv),
		.max_sigs = max ? (unsigned)strtoul(max, NULL, 10) : 0,
	};
	struct dkim_verdict *v = malloc(sizeof *v);
	int rc = 0;
	if (v == NULL)
		exit(2);
	if (dkim_verify(msg, len, &dns, &o, v, &err) < 0) {
		printf("error %s\n", err.msg);
		rc = 2;
		v->n = v->unchecked = 0;
	}
	for (size_t k = 0; k < v->n; k++) {
		const struct dkim_sig_result *r = &v->r[k];
		printf("%s d=%s s=%s a=%s i=%s b=%s bits=%u testing=%d reason=%s\n",
		       dkim_result_str(r->result), r->d, r->s, r->a, r->i, r->b8,
		       r->key_bits, r->testing, r->reason);
	}
	if (v->unchecked)
		printf("unchecked=%zu\n", v->unchecked);
	free(v);
	free(msg);
	ma_zone_free(&z);
	return rc;
}

static int arc_verify_cmd(int argc, char **argv)
{
	struct ma_dns dns;
	struct ma_zone *z = load_zone(argc, argv, &dns);
	struct err err = { 0 };
	struct arc_result r;
	size_t len;
	char *msg = slurp(argv[argc - 1], &len);
	int rc = 0;

	if (arc_verify(msg, len, &dns, now_arg(argc, argv), &r, &err) < 0) {
		printf("error %s\n", err.msg);
		rc = 2;
	} else {
		printf("%s sets=%u oldest-pass=%u temporary=%d d=%s s=%s reason=%s\n",
		       arc_cv_str(r.cv), r.sets, r.oldest_pass, r.temporary, r.d, r.s, r.reason);
	}
	free(msg);
	ma_zone_free(&z);
	return rc;
}

static EVP_PKEY *load_key(int argc, char **argv)
{
	const char *pem = arg(argc, argv, "--key"), *seed = arg(argc, argv, "--seed");
	EVP_PKEY *key = NULL;

	if (pem != NULL) {
		FILE *f = fopen(pem, "r");
		if (f != NULL) {
			key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
			fclose(f);
		}
	} else if (seed != NULL) {
		size_t len, n = 0;
		unsigned char raw[64];
		char *text = slurp(seed, &len);
		if (dkim_b64_decode(text, len, raw, sizeof raw, &n) == 0 && n == 32)
			key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
		free(text);
	}
	if (key == NULL) {
		fprintf(stderr, "dkim-tool: no usable key\n");
		exit(2);
	}
	return key;
}

static int sign(int argc, char **argv)
{
	struct err err = { 0 };
	const char *t = arg(argc, argv, "--t"), *x = arg(argc, argv, "--x");
	const char *c = arg(argc, argv, "--canon");
	char hc[16] = "relaxed", *bc = NULL;
	size_t len;

	if (c != NULL) {
		snprintf(hc, sizeof hc, "%s", c);
		bc = strchr(hc, '/');
		if (bc != NULL)
			*bc++ = '\0';
	}
	struct dkim_sign_opts o = {
		.domain = arg(argc, argv, "--domain"),
		.selector = arg(argc, argv, "--selector"),
		.key = load_key(argc, argv),
		.t = t ? (time_t)strtoll(t, NULL, 10) : time(NULL),
		.x = x ? (time_t)strtoll(x, NULL, 10) : 0,
		.identity = arg(argc, argv, "--identity"),
		.headers = arg(argc, argv, "--headers"),
		.hcanon = canon(hc),
		.bcanon = canon(bc ? bc : (c ? "simple" : "relaxed")),
	};
	char *msg = slurp(argv[argc - 1], &len), *field = NULL;
	int rc = 0;
	if (dkim_sign(msg, len, &o, &field, &err) < 0) {
		fprintf(stderr, "dkim-tool: %s\n", err.msg);
		rc = 1;
	} else {
		fputs(field, stdout);
		fwrite(msg, 1, len, stdout);
	}
	free(field);
	free(msg);
	EVP_PKEY_free(o.key);
	return rc;
}

static int arc_seal_cmd(int argc, char **argv)
{
	struct err err = { 0 };
	const char *t = arg(argc, argv, "--t"), *cv = arg(argc, argv, "--cv");
	const char *aarf = arg(argc, argv, "--aar-file");
	size_t len, alen;

	if (cv == NULL || aarf == NULL) {
		fprintf(stderr, "dkim-tool: arc-seal needs --cv and --aar-file\n");
		return 2;
	}
	char *aar = slurp(aarf, &alen);
	aar = realloc(aar, alen + 1);
	aar[alen] = '\0';
	struct arc_seal_opts o = {
		.domain = arg(argc, argv, "--domain"),
		.selector = arg(argc, argv, "--selector"),
		.key = load_key(argc, argv),
		.t = t ? (time_t)strtoll(t, NULL, 10) : time(NULL),
		.aar = aar,
		.headers = arg(argc, argv, "--headers"),
		.cv = strcmp(cv, "pass") == 0 ? ARC_PASS : strcmp(cv, "fail") == 0 ? ARC_FAIL : ARC_NONE,
	};
	char *msg = slurp(argv[argc - 1], &len), *fields = NULL;
	int rc = arc_seal(msg, len, &o, &fields, &err);
	if (rc < 0) {
		fprintf(stderr, "dkim-tool: %s\n", err.msg);
	} else if (rc == 0) {
		fprintf(stderr, "dkim-tool: chain ended, no set added\n");
	} else {
		fputs(fields, stdout);
		fwrite(msg, 1, len, stdout);
	}
	free(fields);
	free(msg);
	free(aar);
	EVP_PKEY_free(o.key);
	return rc < 0 ? 1 : rc == 0 ? 3 : 0;
}

static int canon_cmd(int argc, char **argv, bool body)
{
	struct dkim_sink out = { out_put, stdout };
	size_t len;

	if (argc < 4)
		return 2;
	char *text = slurp(argv[3], &len);
	if (body)
		dkim_canon_body(canon(argv[2]), text, len, UINT64_MAX, &out);
	else {
		/* one field: drop its final line end, the canonicaliser adds CRLF */
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			len--;
		dkim_canon_header(canon(argv[2]), text, len, true, &out);
	}
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: dkim-tool verify|sign|canon-body|canon-header ...\n");
		return 2;
	}
	if (strcmp(argv[1], "verify") == 0)
		return verify(argc, argv);
	if (strcmp(argv[1], "sign") == 0)
		return sign(argc, argv);
	if (strcmp(argv[1], "arc-verify") == 0)
		return arc_verify_cmd(argc, argv);
	if (strcmp(argv[1], "arc-seal") == 0)
		return arc_seal_cmd(argc, argv);
	if (strcmp(argv[1], "canon-body") == 0)
		return canon_cmd(argc, argv, true);
	if (strcmp(argv[1], "canon-header") == 0)
		return canon_cmd(argc, argv, false);
	fprintf(stderr, "dkim-tool: unknown command %s\n", argv[1]);
	return 2;
}
