/* log.c - line-oriented logging to a file descriptor. */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static enum log_level log_level = LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

void log_msg(enum log_level lvl, const char *subsys, const char *sid,
	     const char *fmt, ...)
{
	if (lvl > log_level)
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line,
			 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s%s%s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			 level_names[lvl], subsys, sid ? " " : "", sid ? sid : "");
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	ssize_t w;
	do {
		w = write(log_fd, line, len);
	} while (w < 0 && errno == EINTR);
	/* A failed log write has nowhere to be reported; dropping the line is
	 * better than blocking or killing the server. */
}

char *log_escape(struct span s, char *dst, size_t dstsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (dstsz == 0)
		return dst;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = s.p[i];
		char esc[4];
		size_t k = 0;
		if (c < 0x20 || c >= 0x7f) {
			esc[k++] = '\\';
			esc[k++] = 'x';
			esc[k++] = hex[c >> 4];
			esc[k++] = hex[c & 15];
		} else if (c == '"' || c == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)c;
		} else {
			esc[k++] = (char)c;
		}
		if (o + k + 4 > dstsz) {
			if (dstsz >= 4) {
				size_t at = o < dstsz - 4 ? o : dstsz - 4;
				dst[at] = dst[at + 1] = dst[at + 2] = '.';
				dst[at + 3] = '\0';
			} else {
				dst[0] = '\0';
			}
			return dst;
		}
		for (size_t j = 0; j < k; j++)
			dst[o++] = esc[j];
	}
	dst[o] = '\0';
	return dst;
}
