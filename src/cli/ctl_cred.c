/* ctl_cred.c - petrelctl app-password, totp and domain 2fa: the
 * credentials besides the mailbox password. App passwords and TOTP
 * secrets are printed once, when made, and never again. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth.h"
#include "admin/admin_json.h"
#include "cli/ctl.h"
#include "store/store.h"

#define QRENCODE "/usr/bin/qrencode"

extern char **environ;

int ctl_app_password_add(struct ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return ctl_usage_error("apppass add ADDRESS NAME");
	char pw[AUTH_APP_PASSWORD_TEXT];
	int64_t id = 0;
	if (auth_app_password_create(c->st, argv[0], argv[1], pw, &id,
				     &c->err) != 0)
		return ctl_fail(c);
	if (c->json)
		ctl_doc(c, json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id,
				     "address", argv[0], "name", argv[1],
				     "password", pw));
	else
		printf("app password %lld for %s (%s):\n\n    %s\n\n"
		       "Shown only this once. Use it in the mail client instead "
		       "of the mailbox password.\n", (long long)id, argv[0],
		       argv[1], pw);
	sodium_memzero(pw, sizeof pw);
	return 0;
}

static int print_app_password(const struct store_app_password *ap, void *arg)
{
	struct ctl *c = arg;
	if (c->json) {
		ctl_item(c, admin_app_password_json(ap));
		return 0;
	}
	char created[32], used[32];
	ctl_time_text(ap->created, created, sizeof created);
	ctl_time_text(ap->last_used, used, sizeof used);
	printf("%-6lld %-8s %-20s %-20s %-15s %s\n", (long long)ap->id,
	       ap->revoked ? "revoked" : "valid", created, used,
	       ap->last_ip[0] ? ap->last_ip : "-", ap->name);
	return 0;
}

int ctl_app_password_list(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("apppass list ADDRESS");
	ctl_list_begin(c);
	if (!c->json)
		printf("%-6s %-8s %-20s %-20s %-15s %s\n", "ID", "STATUS",
		       "CREATED", "LAST USED", "LAST IP", "NAME");
	if (store_app_password_each(c->st, argv[0], print_app_password, c,
				    &c->err) != 0)
		return ctl_fail(c);
	return 0;
}

int ctl_app_password_revoke(struct ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return ctl_usage_error("apppass revoke ADDRESS ID");
	char *end;
	errno = 0;
	long long id = strtoll(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0) {
		fprintf(stderr, "petrelctl: bad app password id '%s'\n", argv[1]);
		return 2;
	}
	if (store_app_password_revoke(c->st, argv[0], id, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "app password %lld of %s revoked", id, argv[0]);
	return 0;
}

/* The URI as a QR code on the terminal, by qrencode if it is installed:
 * run directly (no shell), the URI one argument of its own. */
static void print_qr(const char *uri)
{
	if (access(QRENCODE, X_OK) != 0) {
		printf("(install qrencode to see this as a QR code)\n");
		return;
	}
	char *const args[] = { "qrencode", "-t", "UTF8", "-o", "-",
			       (char *)(uintptr_t)uri, NULL };
	pid_t pid;
	fflush(stdout);
	int rc = posix_spawn(&pid, QRENCODE, NULL, NULL, args, environ);
	if (rc != 0) {
		fprintf(stderr, "petrelctl: cannot run %s: %s\n", QRENCODE,
			strerror(rc));
		return;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

int ctl_totp_enable(struct ctl *c, int argc, char **argv)
{
	bool qr = isatty(STDOUT_FILENO), ok = argc >= 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--qr"))
			qr = true;
		else if (!strcmp(argv[i], "--no-qr"))
			qr = false;
		else
			ok = false;
	}
	if (!ok)
		return ctl_usage_error("2fa enable ADDRESS [--qr|--no-qr]");
	char secret[64], uri[AUTH_TOTP_URI_MAX];
	if (auth_totp_enable(c->st, argv[0], secret, sizeof secret, &c->err) != 0)
		return ctl_fail(c);
	if (auth_totp_uri(argv[0], secret, uri, sizeof uri) != 0) {
		fprintf(stderr, "petrelctl: address too long for a TOTP URI\n");
		return 1;
	}
	if (c->json) {
		ctl_doc(c, json_pack("{s:s, s:s, s:s}", "address", argv[0],
				     "secret", secret, "uri", uri));
		qr = false;
	} else {
		printf("TOTP enabled for %s; add it to an authenticator app "
		       "(shown only this once):\nsecret: %s\nuri: %s\n",
		       argv[0], secret, uri);
	}
	if (qr)
		print_qr(uri);
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(uri, sizeof uri);
	return 0;
}

int ctl_totp_disable(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("2fa disable ADDRESS");
	if (store_totp_set(c->st, argv[0], "", &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "TOTP disabled for %s", argv[0]);
	return 0;
}

int ctl_totp_verify(struct ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return ctl_usage_error("2fa verify ADDRESS CODE");
	int rc = auth_totp_verify(c->st, argv[0], argv[1], (int64_t)time(NULL),
				  &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0) {
		ctl_say(c, "code rejected (wrong, expired or already used)");
		ctl_set(c, "accepted", json_false());
		return 1;
	}
	ctl_say(c, "code accepted");
	ctl_set(c, "accepted", json_true());
	return 0;
}

int ctl_domain_2fa(struct ctl *c, int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return ctl_usage_error("domain 2fa DOMAIN on|off");
	bool on = !strcmp(argv[1], "on");
	if (store_domain_set_2fa(c->st, argv[0], on, &c->err) != 0)
		return ctl_fail(c);
	ctl_say(c, "domain %s: two-factor authentication %s", argv[0],
	       on ? "required; mail clients must use app passwords"
		  : "not required");
	return 0;
}
