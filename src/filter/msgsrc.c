/* msgsrc.c - messages from files, directories and mbox files (msgsrc.h):
 * the listing of the paths, mapping each file, and splitting mboxes. */
#include "filter/msgsrc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/xmalloc.h"

/* How far into a "From " line the time is looked for. */
#define SEP_LINE_MAX 1000

struct msgsrc {
	char **files;
	size_t n, cap, next;	/* next: the file after the current one */
	/* the current file */
	char *name;		/* "FILE#N" for mbox messages */
	size_t name_cap;
	unsigned char *map;
	size_t map_len;
	size_t pos;		/* in the map */
	bool mbox;
	size_t count;		/* messages given from it */
};

/* ---- splitting -------------------------------------------------------- */

bool msgsrc_is_mbox(struct span data)
{
	return data.len >= 5 && memcmp(data.p, "From ", 5) == 0;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The line at p (n octets to the end of data) is a "From " separator
 * with a time "h:mm:ss" in it. */
static bool is_sep(const unsigned char *p, size_t n)
{
	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return false;
	if (n > SEP_LINE_MAX)
		n = SEP_LINE_MAX;
	for (size_t i = 5; i + 5 <= n && p[i] != '\n'; i++)
		if (is_digit(p[i]) && p[i + 1] == ':' && is_digit(p[i + 2]) &&
		    is_digit(p[i + 3]) && p[i + 4] == ':' && i + 6 <= n &&
		    is_digit(p[i + 5]))
			return true;
	return false;
}

int msgsrc_mbox_next(struct span data, size_t *pos, struct span *msg)
{
	size_t start = *pos;
	if (start >= data.len)
		return 0;
	if (!msgsrc_is_mbox(data)) {
		*msg = span_make(data.p + start, data.len - start);
		*pos = data.len;
		return 1;
	}
	/* at the start or at a separator: leave its line out */
	if (data.len - start >= 5 && memcmp(data.p + start, "From ", 5) == 0) {
		const unsigned char *nl = memchr(data.p + start, '\n',
						 data.len - start);
		start = nl != NULL ? (size_t)(nl - data.p) + 1 : data.len;
	}
	if (start >= data.len) {
		*pos = data.len;
		return 0;
	}
	size_t i = start;
	for (;;) {
		const unsigned char *q = memmem(data.p + i, data.len - i,
						"\nFrom ", 6);
		if (q == NULL)
			break;
		size_t line = (size_t)(q - data.p) + 1;
		i = line;
		/* the line before must be empty: "\n\n" or "\n\r\n" */
		size_t end;
		if (line >= 2 && line - 1 >= start && data.p[line - 2] == '\n')
			end = line - 1;
		else if (line >= 3 && line - 2 >= start &&
			 data.p[line - 2] == '\r' && data.p[line - 3] == '\n')
			end = line - 2;
		else
			continue;
		if (!is_sep(data.p + line, data.len - line))
			continue;
		*msg = span_make(data.p + start, end - start);
		*pos = line;
		return 1;
	}
	*msg = span_make(data.p + start, data.len - start);
	*pos = data.len;
	return 1;
}

/* ---- listing ---------------------------------------------------------- */

static int add_file(struct msgsrc *m, const char *path, struct err *err)
{
	if (m->n == MSGSRC_FILES_MAX)
		return err_set(err, ERR_LIMIT, 0, "", "more than %u files",
			       MSGSRC_FILES_MAX);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->files = xreallocarray(m->files, m->cap, sizeof *m->files);
	}
	m->files[m->n++] = xstrdup(path);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(struct msgsrc *m, const char *path, unsigned depth,
		    bool top, struct err *err);

static int add_dir(struct msgsrc *m, const char *path, unsigned depth,
		   struct err *err)
{
	if (depth >= MSGSRC_DEPTH_MAX)
		return err_set(err, ERR_LIMIT, 0, "", "%s: more than %u "
			       "directory levels", path, MSGSRC_DEPTH_MAX);
	DIR *d = opendir(path);
	if (d == NULL)
		return err_set(err, ERR_ENV, 0, "", "%s: %s", path,
			       strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == MSGSRC_FILES_MAX) {
			rc = err_set(err, ERR_LIMIT, 0, "", "%s: more than %u "
				     "entries", path, MSGSRC_FILES_MAX);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (rc == 0)
		qsort(names, n, sizeof *names, name_cmp);
	size_t plen = strlen(path);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0) {
			size_t len = plen + strlen(names[i]) + 2;
			char *sub = xmalloc(len);
			snprintf(sub, len, "%s%s%s", path,
				 plen && path[plen - 1] == '/' ? "" : "/",
				 names[i]);
			rc = add_path(m, sub, depth + 1, false, err);
			free(sub);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int add_path(struct msgsrc *m, const char *path, unsigned depth,
		    bool top, struct err *err)
{
	struct stat sb;
	/* paths given are followed; links inside directories are not, so a
	 * loop of links cannot make the listing endless */
	if ((top ? stat(path, &sb) : lstat(path, &sb)) != 0)
		return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_ENV, 0,
			       "", "%s: %s", path, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return add_dir(m, path, depth, err);
	if (S_ISREG(sb.st_mode))
		return add_file(m, path, err);
	return 0;
}

int msgsrc_open(const char *const *paths, size_t n, struct msgsrc **out,
		struct err *err)
{
	struct msgsrc *m = xcalloc(1, sizeof *m);
	for (size_t i = 0; i < n; i++)
		if (add_path(m, paths[i], 0, true, err) != 0) {
			msgsrc_close(&m);
			return -1;
		}
	*out = m;
	return 0;
}

/* ---- reading ---------------------------------------------------------- */

static void unmap(struct msgsrc *m)
{
	if (m->map != NULL && munmap(m->map, m->map_len) != 0)
		abort();	/* our own mapping: a bug */
	m->map = NULL;
	m->map_len = 0;
}

static int map_file(struct msgsrc *m, const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERR_ENV, 0, "", "%s: %s", path,
			       strerror(errno));
	struct stat sb;
	int rc = 0;
	if (fstat(fd, &sb) != 0) {
		rc = err_set(err, ERR_ENV, 0, "", "%s: %s", path,
			     strerror(errno));
	} else if (sb.st_size > 0) {
		void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE,
			       fd, 0);
		if (p == MAP_FAILED) {
			rc = err_set(err, ERR_ENV, 0, "", "%s: %s", path,
				     strerror(errno));
		} else {
			m->map = p;
			m->map_len = (size_t)sb.st_size;
		}
	}
	if (close(fd) != 0 && rc == 0)
		rc = err_set(err, ERR_ENV, 0, "", "%s: %s", path,
			     strerror(errno));
	return rc;
}

static void set_name(struct msgsrc *m, const char *file, size_t number)
{
	size_t len = strlen(file) + 24;
	if (len > m->name_cap) {
		free(m->name);
		m->name = xmalloc(len);
		m->name_cap = len;
	}
	if (number == 0)
		snprintf(m->name, len, "%s", file);
	else
		snprintf(m->name, len, "%s#%zu", file, number);
}

int msgsrc_next(struct msgsrc *m, struct msgsrc_msg *out, struct err *err)
{
	for (;;) {
		struct span data = span_make(m->map, m->map_len), msg;
		if (m->map != NULL && msgsrc_mbox_next(data, &m->pos, &msg)) {
			const char *file = m->files[m->next - 1];
			m->count++;
			if (msg.len == 0)
				continue;
			/* a lone message of a "From " file is named by its file */
			bool more = m->pos < m->map_len || m->count > 1;
			set_name(m, file, m->mbox && more ? m->count : 0);
			out->name = m->name;
			out->cut = msg.len > MSGSRC_MESSAGE_MAX;
			if (out->cut)
				msg.len = MSGSRC_MESSAGE_MAX;
			out->data = msg;
			return 1;
		}
		unmap(m);
		if (m->next == m->n)
			return 0;
		const char *file = m->files[m->next++];
		m->pos = 0;
		m->count = 0;
		if (map_file(m, file, err) != 0)
			return -1;
		m->mbox = msgsrc_is_mbox(span_make(m->map, m->map_len));
	}
}

void msgsrc_close(struct msgsrc **mp)
{
	struct msgsrc *m = *mp;
	if (m == NULL)
		return;
	unmap(m);
	for (size_t i = 0; i < m->n; i++)
		free(m->files[i]);
	free(m->files);
	free(m->name);
	free(m);
	*mp = NULL;
}
