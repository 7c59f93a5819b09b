/* err.c - filling struct err. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

int err_set(struct err *err, enum err_kind kind, int reply, const char *esc,
	    const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	err->kind = kind;
	err->reply = reply;
	snprintf(err->esc, sizeof err->esc, "%s", esc ? esc : "");
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	for (char *c = err->msg; *c; c++)
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	return -1;
}

void err_clear(struct err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof *err);
}
