/* listdir.c - the list files' places under data_dir and the edits an
 * administrator makes to them (listdir.h): add and remove rewrite the
 * whole file through a temporary file and a rename, so that petreld (or
 * an editor) reads either the old file or the new one, never half. The
 * cache the engine reads through is listdir_cache.c. */
#include "filter/listdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "filter/lists_private.h"

/* Octets of a directory name: an address (local@domain, 64 + 1 + 255). */
#define LISTDIR_NAME_MAX 320

/* ---- paths --------------------------------------------------------------- */

int filter_listdir_name_check(const char *name, struct err *err)
{
	size_t n = name != NULL ? strnlen(name, LISTDIR_NAME_MAX + 1) : 0;
	if (n == 0 || n > LISTDIR_NAME_MAX)
		return err_set(err, ERR_PEER, 0, "", "a domain or address of "
			       "1 to %d octets is needed", LISTDIR_NAME_MAX);
	if (name[0] == '.')
		return err_set(err, ERR_PEER, 0, "",
			       "a name may not start with '.'");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c <= 0x20 || c >= 0x7f)
			return err_set(err, ERR_PEER, 0, "", "a name may not "
				       "hold '/', blanks or non-ASCII octets");
	}
	return 0;
}

int filter_listdir_path(const char *data_dir, enum filter_list_level level,
			const char *name, enum filter_list_action act,
			char *out, size_t outsz, struct err *err)
{
	const char *file = act == FILTER_LIST_BLOCK ? "block.conf"
						    : "allow.conf";
	char lower[LISTDIR_NAME_MAX + 1] = "";
	if (level != FILTER_LEVEL_GLOBAL) {
		if (filter_listdir_name_check(name, err) < 0)
			return -1;
		size_t n = strlen(name);
		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z')
						  ? name[i] - 'A' + 'a'
						  : name[i]);
	}
	int w;
	if (level == FILTER_LEVEL_GLOBAL)
		w = snprintf(out, outsz, "%s/filter/%s", data_dir, file);
	else
		w = snprintf(out, outsz, "%s/filter/%s/%s/%s", data_dir,
			     level == FILTER_LEVEL_DOMAIN ? "domains" : "users",
			     lower, file);
	if (w < 0 || (size_t)w >= outsz)
		return err_set(err, ERR_LIMIT, 0, "", "list path too long");
	return 0;
}

/* ---- directories and the atomic rewrite ----------------------------------- */

/* Make dir and its missing parents; as root, each new one gets the
 * owner of the directory it is made in. */
static int mkdirs(const char *dir, struct err *err)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : err_set(err, ERR_ENV, 0, "",
							 "%s: not a directory",
							 dir);
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent)
		return err_set(err, ERR_ENV, 0, "", "%s: cannot be made", dir);
	*slash = '\0';
	if (mkdirs(parent, err) < 0)
		return -1;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return err_set(err, ERR_ENV, 0, "", "mkdir %s: %s", dir,
			       strerror(errno));
	if (geteuid() == 0 && stat(parent, &st) == 0 &&
	    chown(dir, st.st_uid, st.st_gid) < 0)
		return err_set(err, ERR_ENV, 0, "", "chown %s: %s", dir,
			       strerror(errno));
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replace path (in directory dirfd's dir) by text: a temporary file of
 * the old file's mode and owner (or 0640 and the directory's owner),
 * synced, renamed over it, the directory synced. */
static int replace_file(const char *path, int dirfd, const char *text,
			size_t len, struct err *err)
{
	char tmp[4200];
	int w = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
	if (w < 0 || (size_t)w >= sizeof tmp)
		return err_set(err, ERR_LIMIT, 0, "", "list path too long");
	int fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(err, ERR_ENV, 0, "", "%s: %s", tmp,
			       strerror(errno));
	struct stat old, dir;
	bool have_old = stat(path, &old) == 0;
	int rc = -1;
	if (fchmod(fd, have_old ? (old.st_mode & 07777) : 0640) < 0) {
		err_set(err, ERR_ENV, 0, "", "chmod %s: %s", tmp, strerror(errno));
	} else if (geteuid() == 0 && fstat(dirfd, &dir) == 0 &&
		   fchown(fd, have_old ? old.st_uid : dir.st_uid,
			  have_old ? old.st_gid : dir.st_gid) < 0) {
		err_set(err, ERR_ENV, 0, "", "chown %s: %s", tmp, strerror(errno));
	} else if (write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		err_set(err, ERR_ENV, 0, "", "write %s: %s", tmp, strerror(errno));
	} else {
		rc = 0;
	}
	if (close(fd) < 0 && rc == 0)
		rc = err_set(err, ERR_ENV, 0, "", "close %s: %s", tmp,
			     strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = err_set(err, ERR_ENV, 0, "", "rename %s: %s", path,
			     strerror(errno));
	if (rc < 0) {
		if (unlink(tmp) < 0)	/* nothing more to do: logged */
			log_warn("filter", NULL, "op=list-edit file=%s "
				 "error=\"unlink: %s\"", tmp, strerror(errno));
		return -1;
	}
	if (fsync(dirfd) < 0)
		return err_set(err, ERR_ENV, 0, "", "fsync of %s's directory: %s",
			       path, strerror(errno));
	return 0;
}

/* ---- editing ---------------------------------------------------------------- */

struct edit {
	char want[FILTER_LIST_TEXT_MAX];	/* canonical entry */
	bool found;
	/* remove: the text without the matching lines */
	bool removing;
	char *out;
	size_t out_len;
};

static int edit_line(void *arg, unsigned line, struct span raw,
		     struct span e, bool too_long)
{
	struct edit *x = arg;
	(void)line;
	char canon[FILTER_LIST_TEXT_MAX];
	struct err err;
	bool match = !too_long && e.len > 0 &&
		     filter_entry_canonical(e, canon, sizeof canon, NULL,
					    &err) == 0 &&
		     !strcmp(canon, x->want);
	if (match)
		x->found = true;
	if (x->removing && !match) {
		memcpy(x->out + x->out_len, raw.p, raw.len);
		x->out_len += raw.len;
	}
	return 0;
}

static int edit(const char *path, struct span entry, bool add,
		struct err *err)
{
	struct edit x = { .removing = !add };
	if (filter_entry_canonical(span_trim(entry), x.want, sizeof x.want,
				   NULL, err) < 0) {
		char shown[3 * 64];
		log_escape(span_trim(entry), shown, sizeof shown);
		return err_set(err, ERR_PEER, 0, "", "bad entry \"%s\": %.180s",
			       shown, err->msg);
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		return err_set(err, ERR_PEER, 0, "", "%s: not a path", path);
	*slash = '\0';
	if (add && mkdirs(dir, err) < 0)
		return -1;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		if (errno == ENOENT && !add)
			return 0;	/* no directory: nothing to remove */
		return err_set(err, ERR_ENV, 0, "", "%s: %s", dir,
			       strerror(errno));
	}
	/* one editor at a time per directory: petrelctl and the API */
	while (flock(dirfd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_set(err, ERR_ENV, 0, "", "lock %s: %s", dir,
				strerror(errno));
			close(dirfd);
			return -1;
		}
	}
	char *text = NULL;
	size_t len = 0;
	struct filter_file_stamp stamp;
	int rc = filter_file_read(path, FILTER_LIST_FILE_MAX, &text, &len, &stamp, err);
	if (rc == 0) {
		if (!add)
			x.out = xmalloc(len + 1);
		lists_lines(span_make(text, len), edit_line, &x);
		if (add && !x.found) {
			/* UNSAFE: len + a newline + the entry + a newline */
			size_t n = strlen(x.want);
			char *nt = xmalloc(len + n + 2);
			size_t at = 0;
			if (len > 0) {
				memcpy(nt, text, len);
				at = len;
				if (text[len - 1] != '\n')
					nt[at++] = '\n';
			}
			memcpy(nt + at, x.want, n);
			at += n;
			nt[at++] = '\n';
			rc = replace_file(path, dirfd, nt, at, err);
			free(nt);
		} else if (!add && x.found) {
			rc = replace_file(path, dirfd, x.out, x.out_len, err);
		}
	}
	free(x.out);
	free(text);
	/* closing drops the lock; a read-only descriptor loses nothing */
	close(dirfd);
	if (rc < 0)
		return -1;
	return add ? !x.found : x.found;
}

int filter_listdir_add(const char *path, struct span entry, struct err *err)
{
	return edit(path, entry, true, err);
}

int filter_listdir_remove(const char *path, struct span entry,
			  struct err *err)
{
	return edit(path, entry, false, err);
}

/* ---- listing ------------------------------------------------------------------ */

struct each {
	filter_listdir_fn *fn;
	void *arg;
	int stop;
};

static int each_line(void *arg, unsigned line, struct span raw,
		     struct span e, bool too_long)
{
	struct each *x = arg;
	char canon[FILTER_LIST_TEXT_MAX];
	struct err err;
	if (too_long) {
		log_escape(span_make(raw.p, 60), canon, sizeof canon);
		x->stop = x->fn(x->arg, canon, line, "line too long");
	} else if (e.len == 0) {
		return 0;
	} else if (filter_entry_canonical(e, canon, sizeof canon, NULL,
					  &err) == 0) {
		x->stop = x->fn(x->arg, canon, line, NULL);
	} else {
		log_escape(e, canon, sizeof canon);
		x->stop = x->fn(x->arg, canon, line, err.msg);
	}
	return x->stop;
}

int filter_listdir_each(const char *path, filter_listdir_fn *fn, void *arg,
			struct err *err)
{
	char *text = NULL;
	size_t len = 0;
	struct filter_file_stamp stamp;
	if (filter_file_read(path, FILTER_LIST_FILE_MAX, &text, &len, &stamp, err) < 0)
		return -1;
	struct each x = { fn, arg, 0 };
	lists_lines(span_make(text, len), each_line, &x);
	free(text);
	return 0;
}
