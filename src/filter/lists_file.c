/* lists_file.c - allow/block list files (lists.h): the line format, the
 * bounded read of a level's allow.conf and block.conf, and the stat()
 * check that tells petreld to read them again. No threads and no
 * watching here: the caller polls filter_list_files_changed. */
#include "filter/lists_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

/* Octets of a bad entry quoted in a report. */
#define LISTS_SHOW_MAX 64

/* s made safe to quote in a log line: printable ASCII, the rest '?',
 * cut with "..." past LISTS_SHOW_MAX. */
static void show(struct span s, char *out, size_t outsz)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len && n + 4 < outsz; i++) {
		if (i == LISTS_SHOW_MAX) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		unsigned char c = s.p[i];
		out[n++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	out[n] = '\0';
}

struct span lists_line_entry(struct span line)
{
	for (size_t i = 0; i < line.len; i++)
		if (line.p[i] == '#' &&
		    (i == 0 || line.p[i - 1] == ' ' || line.p[i - 1] == '\t')) {
			line.len = i;
			break;
		}
	return span_trim(line);
}

/* Report one bad line; the reason is formatted here so every caller
 * bounds it the same way. */
static void report(filter_list_bad_fn *bad, void *ctx, const char *file,
		   unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void report(filter_list_bad_fn *bad, void *ctx, const char *file,
		   unsigned line, const char *fmt, ...)
{
	if (bad == NULL)
		return;
	char why[ERR_MSG_MAX + 3 * LISTS_SHOW_MAX];
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(why, sizeof why, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
	bad(ctx, file ? file : "-", line, why);
}

void lists_lines(struct span text, lists_line_fn *fn, void *arg)
{
	size_t pos = 0;
	unsigned line = 0;
	while (pos < text.len) {
		const unsigned char *p = text.p + pos;
		const unsigned char *nl = memchr(p, '\n', text.len - pos);
		size_t len = nl ? (size_t)(nl - p) : text.len - pos;
		struct span raw = span_make(p, len + (nl != NULL));
		pos += raw.len;
		if (line < UINT32_MAX)
			line++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		struct span e = len > FILTER_LIST_LINE_MAX
					? span_make(NULL, 0)
					: lists_line_entry(span_make(p, len));
		if (fn(arg, line, raw, e, len > FILTER_LIST_LINE_MAX) != 0)
			return;
	}
}

struct parse_ctx {
	struct filter_list *l;
	enum filter_list_action act;
	const char *file;
	filter_list_bad_fn *bad;
	void *ctx;
	size_t nbad;
	bool full;
};

static int parse_line(void *arg, unsigned line, struct span raw,
		      struct span e, bool too_long)
{
	struct parse_ctx *c = arg;
	(void)raw;
	if (too_long) {
		c->nbad++;
		report(c->bad, c->ctx, c->file, line,
		       "line longer than %d octets", FILTER_LIST_LINE_MAX);
		return 0;
	}
	if (e.len == 0)
		return 0;
	struct err err = { 0 };
	if (lists_add(c->l, c->act, e, line, true, &err) == 0)
		return 0;
	c->nbad++;
	if (err.kind == ERR_LIMIT) {
		if (!c->full)
			report(c->bad, c->ctx, c->file, line, "%s; this and "
			       "later entries dropped", err.msg);
		c->full = true;
		return 0;
	}
	char shown[3 * LISTS_SHOW_MAX];
	show(e, shown, sizeof shown);
	report(c->bad, c->ctx, c->file, line, "\"%s\": %s", shown, err.msg);
	return 0;
}

size_t filter_list_parse(struct filter_list *l, enum filter_list_action act,
			 struct span text, const char *file,
			 filter_list_bad_fn *bad, void *ctx)
{
	lists_set_file(l, act, file);
	struct parse_ctx c = { .l = l, .act = act, .file = file, .bad = bad,
			       .ctx = ctx };
	lists_lines(text, parse_line, &c);
	return c.nbad;
}

static bool stamp_eq(const struct filter_file_stamp *a,
		     const struct filter_file_stamp *b)
{
	if (a->exists != b->exists)
		return false;
	if (!a->exists)
		return true;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void stamp_of(const struct stat *st, struct filter_file_stamp *s)
{
	memset(s, 0, sizeof *s);
	s->exists = true;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime = st->st_mtim;
	s->ctime = st->st_ctim;
}

/* A stat() error other than "not there" counts as a change, so the
 * load that follows reports it. */
void filter_file_stamp_path(const char *path, struct filter_file_stamp *s)
{
	struct stat st;
	memset(s, 0, sizeof *s);
	if (stat(path, &st) == 0)
		stamp_of(&st, s);
	else if (errno != ENOENT)
		s->size = -1;
}

int filter_file_read(const char *path, size_t max, char **text, size_t *len,
		     struct filter_file_stamp *s, struct err *err)
{
	*text = NULL;
	*len = 0;
	memset(s, 0, sizeof *s);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, ERR_ENV, 0, NULL, "%s: %s", path,
			       strerror(errno));
	}
	struct stat st;
	int rc = -1;
	if (fstat(fd, &st) < 0) {
		err_set(err, ERR_ENV, 0, NULL, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		err_set(err, ERR_ENV, 0, NULL, "%s: not a regular file", path);
	} else if ((uintmax_t)st.st_size > max) {
		err_set(err, ERR_LIMIT, 0, NULL, "%s: larger than %zu octets",
			path, max);
	} else {
		/* A file that grows while read is cut at the size fstat saw;
		 * its new stamp makes the next check read it again. */
		size_t want = (size_t)st.st_size, got = 0;
		char *b = xmalloc(want + 1);
		int rerr = 0;
		while (got < want) {
			ssize_t r = read(fd, b + got, want - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				rerr = errno;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (rerr != 0) {
			free(b);
			errno = rerr;
			err_set(err, ERR_ENV, 0, NULL, "%s: %s", path,
				strerror(errno));
		} else {
			b[got] = '\0';
			*text = b;
			*len = got;
			stamp_of(&st, s);
			rc = 0;
		}
	}
	if (close(fd) < 0 && rc == 0) {
		free(*text);
		*text = NULL;
		return err_set(err, ERR_ENV, 0, NULL, "%s: %s", path,
			       strerror(errno));
	}
	return rc;
}

int filter_list_files_load(struct filter_list_files *f,
			   filter_list_bad_fn *bad, void *ctx,
			   struct filter_list **out, struct err *err)
{
	const char *path[2] = { f->allow_path, f->block_path };
	static const enum filter_list_action act[2] = {
		FILTER_LIST_ALLOW, FILTER_LIST_BLOCK };
	struct filter_file_stamp st[2] = { { 0 }, { 0 } };
	struct filter_list *l = filter_list_new();
	*out = NULL;
	for (int i = 0; i < 2; i++) {
		if (path[i][0] == '\0')
			continue;
		char *text;
		size_t len;
		if (filter_file_read(path[i], FILTER_LIST_FILE_MAX, &text, &len,
				     &st[i], err) < 0) {
			filter_list_free(&l);
			return -1;
		}
		(void)filter_list_parse(l, act[i], span_make(text, len),
					path[i], bad, ctx); /* bad lines went
							     * to bad */
		free(text);
	}
	f->allow_stamp = st[0];
	f->block_stamp = st[1];
	*out = l;
	return 0;
}

bool filter_list_files_changed(struct filter_list_files *f, time_t now)
{
	if (f->last_check != 0 && now >= f->last_check &&
	    now - f->last_check < FILTER_LIST_CHECK_SECONDS)
		return false;
	f->last_check = now;
	bool changed = false;
	if (f->allow_path[0] != '\0')
		changed |= filter_file_changed(f->allow_path, &f->allow_stamp);
	if (f->block_path[0] != '\0')
		changed |= filter_file_changed(f->block_path, &f->block_stamp);
	return changed;
}

bool filter_file_changed(const char *path, const struct filter_file_stamp *s)
{
	struct filter_file_stamp now;
	filter_file_stamp_path(path, &now);
	return !stamp_eq(&now, s);
}
