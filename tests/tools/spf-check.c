/* spf-check.c - run SPF checks (src/msgauth/spf.h) from the command line,
 * against a zone file (ma_zone text) or a real DNS server (libunbound).
 * Test driver for the third-party suites and the NSD interop test.
 *
 *   spf-check (--zone FILE | --forwarder ADDR [--timeout S])
 *             [--receiver NAME] [--now T] IP SENDER HELO [helo]
 *       one MAIL FROM check (or the HELO check with a final "helo"):
 *       result, reason, explanation, Received-SPF
 *   spf-check (--zone FILE | --forwarder ADDR) ... --batch
 *       reads "mailfrom|helo TAB IP TAB SENDER TAB HELO" lines on stdin
 *       and prints one JSON object per line: result, explanation,
 *       explanation_default, mechanism, reason, lookups, void_lookups,
 *       queries, zone_queries (zone backend: all queries so far),
 *       received_spf.
 * Exit 0, or 2 on a usage or setup error. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/err.h"
#include "msgauth/ma_dns_ub.h"
#include "msgauth/ma_zone.h"
#include "msgauth/spf.h"

#define LINE_MAX_BYTES 4096
#define ZONE_MAX_BYTES (16u * 1024 * 1024)

static void usage(void)
{
	fprintf(stderr, "usage: spf-check (--zone FILE | --forwarder ADDR "
		"[--timeout S]) [--receiver NAME] [--now T]\n"
		"                 (--batch | IP SENDER HELO [helo])\n");
	exit(2);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = malloc(ZONE_MAX_BYTES);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, ZONE_MAX_BYTES, f);
	int bad = ferror(f) || *len == ZONE_MAX_BYTES;
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int parse_ip(const char *s, struct spf_request *req)
{
	if (inet_pton(AF_INET, s, req->ip) == 1) {
		req->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, req->ip) == 1) {
		req->family = AF_INET6;
		return 0;
	}
	return -1;
}

static void json_str(const char *key, const char *s, bool last)
{
	printf("\"%s\": \"", key);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	printf("\"%s", last ? "" : ", ");
}

static void run_batch(const struct ma_dns *dns, const struct ma_zone *zone,
		      struct spf_request *req)
{
	char line[LINE_MAX_BYTES];

	while (fgets(line, sizeof line, stdin) != NULL) {
		size_t n = strcspn(line, "\r\n");
		if (line[n] == '\0' && n == sizeof line - 1) {
			fprintf(stderr, "spf-check: line too long\n");
			exit(2);
		}
		line[n] = '\0';
		char *f[4] = { line, NULL, NULL, NULL };
		for (int k = 1; k < 4; k++) {
			char *tab = f[k - 1] ? strchr(f[k - 1], '\t') : NULL;
			if (tab == NULL) {
				fprintf(stderr, "spf-check: want 4 tab-separated fields\n");
				exit(2);
			}
			*tab = '\0';
			f[k] = tab + 1;
		}
		if (parse_ip(f[1], req) < 0) {
			fprintf(stderr, "spf-check: bad address %s\n", f[1]);
			exit(2);
		}
		req->sender = f[2];
		req->helo = f[3];
		struct spf_out out;
		if (strcmp(f[0], "helo") == 0)
			spf_check_helo(dns, req, &out);
		else
			spf_check_mailfrom(dns, req, &out);
		char hdr[SPF_HEADER_MAX];
		if (spf_received_spf(req, &out, hdr, sizeof hdr) < 0)
			snprintf(hdr, sizeof hdr, "(too long)");
		printf("{");
		json_str("result", spf_result_str(out.result), false);
		json_str("explanation", out.explanation, false);
		printf("\"explanation_default\": %s, ", out.explanation_default ? "true" : "false");
		json_str("mechanism", out.mechanism, false);
		json_str("reason", out.reason, false);
		json_str("domain", out.domain, false);
		json_str("received_spf", hdr, false);
		printf("\"lookups\": %u, \"void_lookups\": %u, \"queries\": %u, "
		       "\"zone_queries\": %zu}\n", out.lookups, out.void_lookups,
		       out.queries, zone ? ma_zone_queries(zone) : (size_t)0);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	const char *zone_path = NULL, *forwarder = NULL;
	struct spf_request req = { .receiver = NULL };
	unsigned timeout = 0;
	bool batch = false;
	int i;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--batch") == 0) {
			batch = true;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (strcmp(o, "--zone") == 0)
			zone_path = v;
		else if (strcmp(o, "--forwarder") == 0)
			forwarder = v;
		else if (strcmp(o, "--timeout") == 0)
			timeout = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--receiver") == 0)
			req.receiver = v;
		else if (strcmp(o, "--now") == 0)
			req.now = strtoll(v, NULL, 10);
		else
			usage();
	}
	if ((zone_path == NULL) == (forwarder == NULL))
		usage();
	if (!batch && argc - i != 3 && argc - i != 4)
		usage();

	struct ma_dns dns;
	struct ma_zone *zone = NULL;
	struct ma_dns_ub *ub = NULL;
	struct err err = { 0 };
	if (zone_path != NULL) {
		size_t len;
		char *text = read_file(zone_path, &len);
		if (text == NULL) {
			fprintf(stderr, "spf-check: cannot read %s\n", zone_path);
			return 2;
		}
		zone = ma_zone_new();
		if (ma_zone_load(zone, text, len, &err) < 0) {
			fprintf(stderr, "spf-check: %s: %s\n", zone_path, err.msg);
			return 2;
		}
		free(text);
		ma_zone_dns(zone, &dns);
	} else {
		struct dns_options opt = { .forwarder = forwarder, .timeout = timeout };
		ub = ma_dns_ub_new(&opt, &err);
		if (ub == NULL) {
			fprintf(stderr, "spf-check: %s\n", err.msg);
			return 2;
		}
		ma_dns_ub_dns(ub, &dns);
	}

	if (batch) {
		run_batch(&dns, zone, &req);
	} else {
		if (parse_ip(argv[i], &req) < 0) {
			fprintf(stderr, "spf-check: bad address %s\n", argv[i]);
			return 2;
		}
		req.sender = argv[i + 1];
		req.helo = argv[i + 2];
		struct spf_out out;
		if (argc - i == 4 && strcmp(argv[i + 3], "helo") == 0)
			spf_check_helo(&dns, &req, &out);
		else
			spf_check_mailfrom(&dns, &req, &out);
		char hdr[SPF_HEADER_MAX];
		printf("%s\n%s\n", spf_result_str(out.result), out.reason);
		if (out.result == SPF_FAIL)
			printf("explanation: %s\n", out.explanation);
		if (spf_received_spf(&req, &out, hdr, sizeof hdr) >= 0)
			printf("%s\n", hdr);
	}
	ma_zone_free(&zone);
	ma_dns_ub_free(&ub);
	return 0;
}
