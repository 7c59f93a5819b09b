/* msgauth-bench.c - the loops bench/msgauth times: DKIM signing and
 * verification of one message N times, and the whole inbound step (SPF,
 * DKIM, ARC, DMARC and the Authentication-Results field) N times, with
 * DNS answered from a zone table so that the figure is the CPU cost, not
 * a resolver's latency. Built into build/tests/tools/, never installed.
 *
 *   msgauth-bench sign --key PEM --domain D --selector S --count N MSG
 *   msgauth-bench verify --zone FILE --count N MSG
 *   msgauth-bench inbound --zone FILE --count N --ip A --from ADDR
 *       --helo NAME MSG
 * Each prints "ops=N seconds=S per_second=R" and exits 1 if any
 * operation failed (a verification that did not pass counts). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "msgauth/msgauth.h"
#include "msgauth/ma_zone.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0, r;
	char *p = malloc(cap);
	while (p != NULL && (r = fread(p + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap && (p = realloc(p, cap *= 2)) == NULL)
			break;
	}
	fclose(f);
	*len = n;
	return p;
}

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 2; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: see the comment in msgauth-bench.c\n");
		return 2;
	}
	const char *mode = argv[1], *count_s = opt(argc, argv, "--count");
	long count = count_s ? strtol(count_s, NULL, 10) : 100;
	size_t len;
	char *msg = slurp(argv[argc - 1], &len);
	if (msg == NULL || count < 1 || count > 10000000) {
		fprintf(stderr, "msgauth-bench: bad message or count\n");
		return 2;
	}
	struct ma_zone *z = ma_zone_new();
	struct ma_dns dns;
	ma_zone_dns(z, &dns);
	const char *zpath = opt(argc, argv, "--zone");
	if (zpath != NULL) {
		size_t zl;
		char *zt = slurp(zpath, &zl);
		struct err err;
		if (zt == NULL || ma_zone_load(z, zt, zl, &err) != 0) {
			fprintf(stderr, "msgauth-bench: zone: %s\n",
				zt ? err.msg : "unreadable");
			return 2;
		}
		free(zt);
	}
	long failed = 0;
	double t0 = now_s();
	if (strcmp(mode, "sign") == 0) {
		FILE *kf = fopen(opt(argc, argv, "--key"), "r");
		EVP_PKEY *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
		if (kf)
			fclose(kf);
		if (key == NULL) {
			fprintf(stderr, "msgauth-bench: no key\n");
			return 2;
		}
		struct dkim_sign_opts o = {
			.domain = opt(argc, argv, "--domain"),
			.selector = opt(argc, argv, "--selector"),
			.key = key, .t = time(NULL),
		};
		t0 = now_s();
		for (long i = 0; i < count; i++) {
			char *field = NULL;
			struct err err;
			if (dkim_sign(msg, len, &o, &field, &err) != 0)
				failed++;
			free(field);
		}
		EVP_PKEY_free(key);
	} else if (strcmp(mode, "verify") == 0) {
		struct dkim_verify_opts o = { .now = time(NULL) };
		static struct dkim_verdict v;
		for (long i = 0; i < count; i++) {
			struct err err;
			if (dkim_verify(msg, len, &dns, &o, &v, &err) != 0 ||
			    v.n == 0 || v.r[0].result != DKIM_PASS)
				failed++;
		}
	} else if (strcmp(mode, "inbound") == 0) {
		struct msgauth_conf conf = { .authserv_id = "mx.bench.test",
					     .dmarc_enforce = true };
		struct msgauth_in in = {
			.helo = opt(argc, argv, "--helo"),
			.mail_from = opt(argc, argv, "--from"),
			.msg = msg, .len = len, .now = time(NULL),
		};
		const char *ip = opt(argc, argv, "--ip");
		in.family = ip && strchr(ip, ':') ? AF_INET6 : AF_INET;
		if (ip == NULL || inet_pton(in.family, ip, in.ip) != 1) {
			fprintf(stderr, "msgauth-bench: --ip\n");
			return 2;
		}
		static struct msgauth_out out;
		for (long i = 0; i < count; i++) {
			msgauth_inbound(&dns, &conf, &in, &out);
			if (out.spf.result != SPF_PASS || out.dkim.n == 0 ||
			    out.dkim.r[0].result != DKIM_PASS ||
			    out.dmarc.result != DMARC_RESULT_PASS)
				failed++;
		}
	} else {
		fprintf(stderr, "msgauth-bench: unknown mode %s\n", mode);
		return 2;
	}
	double secs = now_s() - t0;
	printf("ops=%ld seconds=%.4f per_second=%.1f failed=%ld\n", count, secs,
	       (double)count / secs, failed);
	ma_zone_free(&z);
	free(msg);
	return failed ? 1 : 0;
}
