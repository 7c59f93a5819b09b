/* setup.c - what petreld does before it serves: directories, the
 * first-start certificate and demo mailbox, and giving up root. */
#include "daemon/daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "core/log.h"
#include "net/net.h"
#include "net/tls_check.h"
#include "store/store.h"

static int mkdir_p(const char *path, mode_t mode)
{
	char p[1024];
	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			return -1;
		*c = '/';
	}
	if (mkdir(p, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int daemon_make_dirs(const struct config *cfg, struct err *err)
{
	char tls[1100];
	if (mkdir_p(cfg->data_dir, 0750) != 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "data_dir %s: %s",
			       cfg->data_dir, strerror(errno));
	snprintf(tls, sizeof tls, "%s/tls", cfg->data_dir);
	if (mkdir(tls, 0750) != 0 && errno != EEXIST)
		return err_set(err, ERR_CONFIG, 0, NULL, "%s: %s", tls, strerror(errno));
	return 0;
}

static void resolve(const struct config *cfg, const char *path, char *out,
		    size_t outsz)
{
	tls_check_resolve(cfg->data_dir, path, out, outsz);
}

int daemon_tls_files(const struct config *cfg, char *cert, size_t certsz,
		     char *key, size_t keysz, struct err *err)
{
	resolve(cfg, cfg->tls_cert, cert, certsz);
	resolve(cfg, cfg->tls_key, key, keysz);
	bool defaults = !strcmp(cfg->tls_cert, "tls/cert.pem") &&
			!strcmp(cfg->tls_key, "tls/key.pem");
	if (defaults && access(cert, F_OK) != 0 && access(key, F_OK) != 0) {
		if (net_tls_selfsigned(cert, key, cfg->hostname, err) != 0)
			return -1;
		printf("created a self-signed TLS certificate for %s in %s\n",
		       cfg->hostname, cert);
	}
	return 0;
}

struct tls_findings {
	struct err *err;
	int errors;
};

static void on_finding(void *arg, enum tls_check_level level, const char *line)
{
	struct tls_findings *f = arg;
	if (level == TLS_CHECK_WARN) {
		log_warn("tls", NULL, "%s", line);
	} else if (level == TLS_CHECK_ERROR) {
		/* The first error is the one main() prints; later ones go
		 * out here so that one start shows every problem. */
		if (f->errors++ == 0)
			err_set(f->err, ERR_CONFIG, 0, NULL, "%s", line);
		else
			fprintf(stderr, "petreld: %s\n", line);
	}
}

int daemon_tls_check(const char *cert, const char *key, const char *name,
		     struct err *err)
{
	struct tls_findings f = { err, 0 };
	return tls_check_files(cert, key, name, on_finding, &f) == TLS_CHECK_ERROR ? -1 : 0;
}

/* chown everything under dirfd to uid/gid; the tree is ours (we made it),
 * symlinks are not followed. */
static int chown_tree(int dirfd, uid_t uid, gid_t gid, int depth)
{
	if (depth > 8)
		return 0;
	DIR *d = fdopendir(dirfd);
	if (d == NULL) {
		close(dirfd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((st.st_uid != uid || st.st_gid != gid) &&
		    fchownat(dirfd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
			rc = -1;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0 && chown_tree(sub, uid, gid, depth + 1) != 0)
				rc = -1;
		}
	}
	closedir(d);
	return rc;
}

int daemon_drop_privileges(const struct config *cfg, const char **store_dir_out,
			   struct err *err)
{
	*store_dir_out = cfg->data_dir;
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "user '%s' does not exist: create it (useradd --system %s) or set user in petrel.conf",
			       cfg->user, cfg->user);
	if (pw->pw_uid == 0)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "user '%s' is root: petreld does not serve as root", cfg->user);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (chown(cfg->data_dir, uid, gid) != 0)
		return err_set(err, ERR_ENV, 0, NULL, "chown %s: %s", cfg->data_dir, strerror(errno));
	int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || chown_tree(dfd, uid, gid, 0) != 0)
		return err_set(err, ERR_ENV, 0, NULL, "cannot give %s to user %s",
			       cfg->data_dir, cfg->user);
	/* Load the time zone now: /etc/localtime is outside the chroot. */
	tzset();
	bool do_chroot = cfg->chroot;
#if defined(__SANITIZE_ADDRESS__)
	/* Test builds only: LeakSanitizer reads /proc at exit, which a chroot
	 * hides. Production builds chroot as configured. */
	if (do_chroot)
		log_warn("petreld", NULL, "sanitizer build: chroot skipped");
	do_chroot = false;
#endif
	if (do_chroot) {
		if (chroot(cfg->data_dir) != 0 || chdir("/") != 0)
			return err_set(err, ERR_ENV, 0, NULL, "chroot %s: %s",
				       cfg->data_dir, strerror(errno));
		*store_dir_out = "/";
	}
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		return err_set(err, ERR_ENV, 0, NULL, "dropping to user %s: %s",
			       cfg->user, strerror(errno));
	if (setuid(0) == 0)
		return err_set(err, ERR_ENV, 0, NULL, "could regain root after dropping it");
	/* No exec of set-uid programs can give privileges back. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return err_set(err, ERR_ENV, 0, NULL, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
#if defined(__SANITIZE_ADDRESS__)
	/* Test builds only: LeakSanitizer inspects the process through
	 * /proc, which setuid() closed by making it non-dumpable. A
	 * production build keeps it closed (no ptrace by other processes of
	 * the same user, no core files with mail in them). */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
		return err_set(err, ERR_ENV, 0, NULL, "PR_SET_DUMPABLE: %s", strerror(errno));
#endif
	return 0;
}

int daemon_first_start(const struct config *cfg, struct store *st,
		       struct err *err)
{
	if (cfg->demo_domain[0] == '\0')
		return 0;
	int exists = store_domain_exists(st, cfg->demo_domain, err);
	if (exists < 0)
		return -1;
	if (exists == 0 && store_domain_add(st, cfg->demo_domain, err) != 0)
		return -1;
	char pw[64], hash[AUTH_HASH_MAX];
	const char *env = getenv("DEMO_PASSWORD");
	bool printed = env == NULL || env[0] == '\0';
	if (printed)
		auth_password_random(pw, 16);
	else if (snprintf(pw, sizeof pw, "%s", env) >= (int)sizeof pw)
		return err_set(err, ERR_CONFIG, 0, NULL, "DEMO_PASSWORD is longer than 63 bytes");
	if (auth_password_hash(pw, strlen(pw), hash, sizeof hash, err) != 0)
		return -1;
	int64_t id;
	int rc = store_mailbox_add(st, cfg->demo_user, cfg->demo_domain, hash,
				   cfg->default_quota, &id, err);
	if (rc != 0 || auth_scram_store(st, id, pw, strlen(pw), err) != 0)
		return -1;
	if (printed)
		printf("demo mailbox: %s@%s password: %s\n(shown once; set DEMO_PASSWORD to choose it)\n",
		       cfg->demo_user, cfg->demo_domain, pw);
	else
		printf("demo mailbox: %s@%s (password from DEMO_PASSWORD)\n",
		       cfg->demo_user, cfg->demo_domain);
	explicit_bzero(pw, sizeof pw);
	return 0;
}
