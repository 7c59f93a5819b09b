/* log.h - one line per event: time, level, subsystem, session id and
 * key=value fields. Thread-safe (one write(2) per line). Peer text must go
 * through log_escape() first. */
#ifndef PETREL_LOG_H
#define PETREL_LOG_H

#include <stddef.h>

#include "core/span.h"

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Where lines go; default stderr (fd 2). */
void log_set_fd(int fd);

void log_msg(enum log_level lvl, const char *subsys, const char *sid,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(sub, sid, ...) log_msg(LOG_ERROR, sub, sid, __VA_ARGS__)
#define log_warn(sub, sid, ...) log_msg(LOG_WARN, sub, sid, __VA_ARGS__)
#define log_info(sub, sid, ...) log_msg(LOG_INFO, sub, sid, __VA_ARGS__)
#define log_debug(sub, sid, ...) \
	do { \
		if (log_get_level() >= LOG_DEBUG) \
			log_msg(LOG_DEBUG, sub, sid, __VA_ARGS__); \
	} while (0)

/* Copy peer bytes into dst as printable ASCII: control and 8-bit bytes
 * become \xNN, '"' and '\\' are escaped, and the result is cut at
 * dstsz - 1 bytes with a trailing "..." when truncated. Returns dst. */
char *log_escape(struct span s, char *dst, size_t dstsz);

#endif
