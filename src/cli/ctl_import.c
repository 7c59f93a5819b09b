/* ctl_import.c - petrelctl mailbox import (CSV bulk creation through
 * src/admin/, with progress on stderr) and domain password-policy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/admin.h"
#include "auth/auth.h"
#include "cli/ctl.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "store/store.h"

#define IMPORT_USAGE "mailbox import FILE.csv [--domain DOMAIN] [--dry-run] [--json]"

/* The file, at most IMPORT_MAX_BYTES: 0 with *out (malloc'd), -1. */
static int read_file(const char *path, char **out, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "petrelctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char *buf = xmalloc(IMPORT_MAX_BYTES + 1);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, IMPORT_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "petrelctl: %s: %s\n", path, strerror(errno));
			break;
		}
		if (n == 0) {
			close(fd);	/* read-only: nothing to lose */
			*out = buf;
			*len_out = len;
			return 0;
		}
		len += (size_t)n;
		if (len > IMPORT_MAX_BYTES) {
			fprintf(stderr, "petrelctl: %s is larger than %d bytes; "
				"split it\n", path, IMPORT_MAX_BYTES);
			break;
		}
	}
	close(fd);	/* read-only: nothing to lose */
	free(buf);
	return -1;
}

struct progress {
	bool tty;
	const char *phase;
	size_t last;
};

static void show_progress(void *arg, const char *phase, size_t done,
			  size_t total)
{
	struct progress *p = arg;
	bool new_phase = p->phase == NULL || strcmp(p->phase, phase) != 0;
	if (p->tty) {
		if (!new_phase || p->phase == NULL)
			fputc('\r', stderr);
		else
			fputc('\n', stderr);
	} else if (!new_phase && total > 0 && done < total &&
		   done - p->last < total / 10) {
		return;		/* a log gets a line every tenth */
	}
	if (total > 0)
		fprintf(stderr, "%s %zu/%zu", phase, done, total);
	else
		fprintf(stderr, "%s %zu rows", phase, done);
	if (!p->tty)
		fputc('\n', stderr);
	fflush(stderr);
	p->phase = phase;
	p->last = done;
}

int ctl_mailbox_import(struct ctl *c, int argc, char **argv)
{
	const char *path = NULL;
	struct admin_import_opts o = { .default_quota = c->cfg.default_quota };
	bool json = c->json;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--domain") && i + 1 < argc)
			o.domain = argv[++i];
		else if (!strcmp(argv[i], "--dry-run"))
			o.dry_run = true;
		else if (path == NULL && argv[i][0] != '-')
			path = argv[i];
		else
			return ctl_usage_error(IMPORT_USAGE);
	}
	if (path == NULL)
		return ctl_usage_error(IMPORT_USAGE);
	char *text;
	size_t len;
	if (read_file(path, &text, &len) != 0)
		return 1;
	struct progress p = { .tty = isatty(STDERR_FILENO) == 1 };
	o.progress = show_progress;
	o.progress_arg = &p;
	struct admin_import_result r;
	int rc = admin_import(c->st, span_make(text, len), &o, &r, &c->err);
	if (p.tty && p.phase != NULL)
		fputc('\n', stderr);
	explicit_bzero(text, len);	/* it may hold passwords */
	free(text);
	if (rc != 0) {
		admin_import_result_free(&r);
		return ctl_fail(c);
	}
	if (json) {
		c->printed = true;
		json_t *j = admin_import_json(&r);
		char *s = json_dumps(j, JSON_INDENT(2));
		json_decref(j);
		if (s != NULL) {
			printf("%s\n", s);
			explicit_bzero(s, strlen(s));
			free(s);
		}
	} else {
		for (size_t i = 0; i < r.nerrors; i++) {
			const struct admin_import_error *e = &r.errors[i];
			fprintf(stderr, "line %zu", e->line);
			if (e->column[0])
				fprintf(stderr, ", %s", e->column);
			if (e->value[0])
				fprintf(stderr, " \"%s\"", e->value);
			fprintf(stderr, ": %s\n", e->reason);
		}
		if (r.nerrors > 0)
			fprintf(stderr, "petrelctl: %zu error%s in %s; nothing "
				"created\n", r.nerrors, r.nerrors == 1 ? "" : "s",
				path);
		else if (r.dry_run)
			printf("%zu rows checked, no errors (dry run: nothing "
			       "created)\n", r.rows);
		else
			printf("%zu mailboxes created in %s\n", r.created,
			       r.domain);
		if (r.ngenerated > 0)
			printf("generated passwords (shown once):\n");
		for (size_t i = 0; i < r.ngenerated; i++)
			printf("%-40s %s\n", r.generated[i].address,
			       r.generated[i].password);
	}
	rc = r.nerrors > 0 ? 1 : 0;
	admin_import_result_free(&r);
	return rc;
}

#define POLICY_USAGE "domain password-policy DOMAIN [--min-length N] " \
	"[--classes N] [--local-part allow|reject] [--common allow|reject]"

static int parse_uint(const char *s, unsigned max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_choice(const char *s, bool *reject)
{
	if (!strcmp(s, "reject"))
		*reject = true;
	else if (!strcmp(s, "allow"))
		*reject = false;
	else
		return -1;
	return 0;
}

int ctl_domain_password_policy(struct ctl *c, int argc, char **argv)
{
	if (argc < 1 || argv[0][0] == '-')
		return ctl_usage_error(POLICY_USAGE);
	const char *domain = argv[0];
	struct store_password_policy p;
	int rc = store_domain_password_policy(c->st, domain, &p, &c->err);
	if (rc < 0)
		return ctl_fail(c);
	if (rc == 0) {
		err_set(&c->err, ERR_NOTFOUND, 0, NULL, "domain %s is not "
			"hosted here", domain);
		return ctl_fail(c);
	}
	for (int i = 1; i < argc; i++) {
		int bad = i + 1 >= argc;
		if (!bad && !strcmp(argv[i], "--min-length"))
			bad = parse_uint(argv[++i], STORE_PASSWORD_MIN_LENGTH_MAX,
					 &p.min_length);
		else if (!bad && !strcmp(argv[i], "--classes"))
			bad = parse_uint(argv[++i], 4, &p.min_classes);
		else if (!bad && !strcmp(argv[i], "--local-part"))
			bad = parse_choice(argv[++i], &p.reject_local);
		else if (!bad && !strcmp(argv[i], "--common"))
			bad = parse_choice(argv[++i], &p.reject_common);
		else
			bad = -1;
		if (bad)
			return ctl_usage_error(POLICY_USAGE);
	}
	if (argc > 1 &&
	    store_domain_set_password_policy(c->st, domain, &p, &c->err) != 0)
		return ctl_fail(c);
	printf("password policy of %s: at least %u characters, %u of 4 "
	       "kinds (lower, upper, digits, others), local part %s, common "
	       "passwords %s\n", domain, p.min_length, p.min_classes,
	       p.reject_local ? "rejected" : "allowed",
	       p.reject_common ? "rejected" : "allowed");
	return 0;
}
