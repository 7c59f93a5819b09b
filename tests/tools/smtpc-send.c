/* smtpc-send.c - test driver for the SMTP client (src/smtp/smtpc.h): one
 * connection, one or more messages over it, results printed one per line
 * (tab-separated) for tests/integration/test_smtpc.py. Built into
 * build/tests/, never installed.
 *
 *   smtpc-send --server 127.0.0.1:2525 [--tls none|opportunistic|required|
 *     implicit] [--ca FILE] [--verify] [--servername NAME] [--peer-name NAME]
 *     [--helo NAME] [--auth USER:PASS] [--timeout SECONDS] [--smtputf8]
 *     --from ADDR --to ADDR... --msg FILE...
 *
 * Output: "ready\t..." or "failed\tCODE\tESC\tSTAGE\tSYNTH\tTEXT", then per
 * message and recipient "rcpt\tN\tADDR\tCODE\tESC\tSTAGE\tSYNTH\tTEXT" and
 * "usable\tN\t0|1". Exit 0 when the run finished, 2 on bad usage. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/err.h"
#include "smtp/smtpc.h"

#define MAX_ITEMS 64

struct run {
	struct smtpc_msg msgs[MAX_ITEMS];
	unsigned char *data[MAX_ITEMS];
	size_t n_msgs, next;
	struct smtpc_rcpt rcpts[MAX_ITEMS][MAX_ITEMS];
	const char *to[MAX_ITEMS];
	size_t n_to;
};

static void usage(void)
{
	fprintf(stderr, "usage: smtpc-send --server IP:PORT --from A --to B... --msg FILE...\n");
	exit(2);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	unsigned char *p = malloc(cap);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap);
		}
		size_t r = fread(p + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return p;
}

static void print_reply(const struct smtpc_reply *r)
{
	printf("%d\t%s\t%s\t%d\t%s\n", r->code, r->enhanced[0] ? r->enhanced : "-",
	       smtpc_stage_name(r->stage), r->synthetic, r->text);
}

static void send_next(struct smtpc *c, struct run *run);

static void done(struct smtpc *c, struct smtpc_msg *msg, void *arg)
{
	struct run *run = arg;
	size_t n = (size_t)(msg - run->msgs);
	for (size_t i = 0; i < msg->n_rcpts; i++) {
		printf("rcpt\t%zu\t%s\t", n, msg->rcpts[i].addr);
		print_reply(&msg->rcpts[i].reply);
	}
	printf("usable\t%zu\t%d\n", n, smtpc_usable(c));
	fflush(stdout);
	send_next(c, run);
}

static void send_next(struct smtpc *c, struct run *run)
{
	if (run->next == run->n_msgs) {
		smtpc_quit(c);
		return;
	}
	smtpc_send(c, &run->msgs[run->next++], done, run);
}

static void ready(struct smtpc *c, const struct smtpc_reply *failure, void *arg)
{
	if (failure) {
		printf("failed\t");
		print_reply(failure);
		fflush(stdout);
		smtpc_free(c);
		return;
	}
	const struct smtpc_info *i = smtpc_info(c);
	printf("ready\tesmtp=%d\tpipelining=%d\ttls=%s\tcipher=%s\tverified=%d\t"
	       "verify_error=%s\tauth=%d\tsize=%llu\n", i->esmtp, i->pipelining,
	       i->tls ? i->tls_version : "none", i->tls ? i->tls_cipher : "-",
	       i->tls_verified, i->tls_verify_error[0] ? i->tls_verify_error : "-",
	       i->authenticated, (unsigned long long)i->size_max);
	fflush(stdout);
	send_next(c, arg);
}

static int parse_server(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	int port = atoi(colon + 1);
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		h++;
	}
	if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof *a6;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct run run;
	struct smtpc_opts o;
	smtpc_opts_init(&o);
	o.helo_name = "client.petrel.test";
	const char *server = NULL, *from = NULL, *ca = NULL;
	bool smtputf8 = false;
	char *auth = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--verify") == 0) {
			o.tls_verify = true;
			continue;
		}
		if (strcmp(a, "--smtputf8") == 0) {
			smtputf8 = true;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--server") == 0)
			server = v;
		else if (strcmp(a, "--from") == 0)
			from = v;
		else if (strcmp(a, "--to") == 0 && run.n_to < MAX_ITEMS)
			run.to[run.n_to++] = v;
		else if (strcmp(a, "--msg") == 0 && run.n_msgs < MAX_ITEMS) {
			size_t len = 0;
			run.data[run.n_msgs] = slurp(v, &len);
			if (run.data[run.n_msgs] == NULL) {
				perror(v);
				return 2;
			}
			run.msgs[run.n_msgs].data = run.data[run.n_msgs];
			run.msgs[run.n_msgs].len = len;
			run.n_msgs++;
		} else if (strcmp(a, "--tls") == 0) {
			if (strcmp(v, "none") == 0)
				o.tls = SMTPC_TLS_NONE;
			else if (strcmp(v, "opportunistic") == 0)
				o.tls = SMTPC_TLS_OPPORTUNISTIC;
			else if (strcmp(v, "required") == 0)
				o.tls = SMTPC_TLS_REQUIRED;
			else if (strcmp(v, "implicit") == 0)
				o.tls = SMTPC_TLS_IMPLICIT;
			else
				usage();
		} else if (strcmp(a, "--ca") == 0)
			ca = v;
		else if (strcmp(a, "--servername") == 0)
			o.tls_servername = v;
		else if (strcmp(a, "--peer-name") == 0)
			o.peer_name = v;
		else if (strcmp(a, "--helo") == 0)
			o.helo_name = v;
		else if (strcmp(a, "--auth") == 0)
			auth = strdup(v);
		else if (strcmp(a, "--timeout") == 0) {
			unsigned t = (unsigned)atoi(v);
			struct smtpc_timeouts *to = &o.timeouts;
			to->connect = to->greeting = to->helo = to->mail = to->rcpt =
				to->data_init = to->data_block = to->data_term = t;
		} else
			usage();
	}
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (server == NULL || from == NULL || parse_server(server, &ss, &sslen) != 0)
		usage();
	if (auth) {
		char *colon = strchr(auth, ':');
		if (colon == NULL)
			usage();
		*colon = '\0';
		o.auth_user = auth;
		o.auth_pass = colon + 1;
	}
	for (size_t m = 0; m < run.n_msgs; m++) {
		for (size_t r = 0; r < run.n_to; r++)
			run.rcpts[m][r].addr = run.to[r];
		run.msgs[m].mail_from = from;
		run.msgs[m].rcpts = run.rcpts[m];
		run.msgs[m].n_rcpts = run.n_to;
		run.msgs[m].smtputf8 = smtputf8;
	}
	SSL_CTX *ctx = NULL;
	if (o.tls != SMTPC_TLS_NONE) {
		struct err err;
		ctx = smtpc_tls_ctx_new(ca, &err);
		if (ctx == NULL) {
			fprintf(stderr, "%s\n", err.msg);
			return 2;
		}
		o.tls_ctx = ctx;
	}
	struct event_base *base = event_base_new();
	smtpc_connect(base, (struct sockaddr *)&ss, sslen, &o, ready, &run);
	event_base_dispatch(base);
	event_base_free(base);
	SSL_CTX_free(ctx);
	for (size_t m = 0; m < run.n_msgs; m++)
		free(run.data[m]);
	free(auth);
	return 0;
}
