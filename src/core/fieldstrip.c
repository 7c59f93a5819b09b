/* fieldstrip.c - removing header fields in place. */
#include "core/fieldstrip.h"

#include <string.h>

size_t field_strip(unsigned char *msg, size_t *len, size_t start,
		   field_match_fn *match, void *ctx)
{
	size_t removed = 0, i = start;

	while (i < *len) {
		if (msg[i] == '\n' ||
		    (msg[i] == '\r' && i + 1 < *len && msg[i + 1] == '\n'))
			break;		/* the empty line: the body follows */
		/* the field at i: up to the next line not starting with WSP */
		size_t end = i;
		for (;;) {
			unsigned char *nl = memchr(msg + end, '\n', *len - end);
			end = nl ? (size_t)(nl - msg) + 1 : *len;
			if (end >= *len || (msg[end] != ' ' && msg[end] != '\t'))
				break;
		}
		size_t flen = end - i;
		const unsigned char *colon = memchr(msg + i, ':', flen);
		if (colon != NULL) {
			size_t nl = (size_t)(colon - (msg + i));
			while (nl > 0 && (msg[i + nl - 1] == ' ' ||
					  msg[i + nl - 1] == '\t'))
				nl--;
			if (match(msg + i, nl, colon + 1,
				  end - (size_t)(colon + 1 - msg), ctx)) {
				memmove(msg + i, msg + end, *len - end);
				*len -= flen;
				removed++;
				continue;
			}
		}
		i = end;
	}
	return removed;
}
