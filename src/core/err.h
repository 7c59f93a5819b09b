/* err.h - error reports that travel upward with a reply for the peer.
 * A function that can fail returns 0 (or 1 when it produced something)
 * or -1 and fills a struct err. On mail paths the err also carries the
 * SMTP reply code and RFC 3463 enhanced status code to send. */
#ifndef PETREL_ERR_H
#define PETREL_ERR_H

#include <stdarg.h>

enum err_kind {
	ERR_NONE = 0,
	ERR_PEER,	/* bad syntax, too long, wrong state: reply and go on */
	ERR_ENV,	/* disk, database, DNS: temporary, 4xx */
	ERR_CONFIG,	/* bad configuration: stop startup */
	ERR_NOTFOUND,	/* a looked-up thing does not exist */
	ERR_LIMIT,	/* a size or count limit was hit */
};

#define ERR_MSG_MAX 256

struct err {
	enum err_kind kind;
	int reply;		/* SMTP reply code, 0 if none */
	char esc[12];		/* enhanced status code "5.5.2", "" if none */
	char msg[ERR_MSG_MAX];	/* human text, never contains CR or LF */
};

/* Fill err (if not NULL) and return -1. msg is formatted with printf rules;
 * CR and LF in the result are replaced by spaces so it is safe in a reply. */
int err_set(struct err *err, enum err_kind kind, int reply, const char *esc,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void err_clear(struct err *err);

#endif
