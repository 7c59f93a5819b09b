/* config_listen.c - the options after a listen_* key's addresses:
 * "cert=PATH key=PATH", that listener's own certificate and key. Generic
 * over every listen_* key, so a new listener gets them too. */
#include "core/config.h"

#include <stdio.h>
#include <string.h>

int cfg_listen_option(const char *tok, size_t n, struct cfg_listen_list *l,
		      char *why, size_t whysz)
{
	const char *eq = memchr(tok, '=', n);
	size_t nlen = (size_t)(eq - tok), vlen = n - nlen - 1;
	char *dst;
	size_t dstsz;
	if (nlen == 4 && !memcmp(tok, "cert", 4)) {
		dst = l->cert;
		dstsz = sizeof l->cert;
	} else if (nlen == 3 && !memcmp(tok, "key", 3)) {
		dst = l->key;
		dstsz = sizeof l->key;
	} else {
		snprintf(why, whysz, "unknown option '%.*s' (cert= and key= are known)",
			 (int)(nlen > 40 ? 40 : nlen), tok);
		return -1;
	}
	if (dst[0] != '\0') {
		snprintf(why, whysz, "%.*s= is given twice", (int)nlen, tok);
		return -1;
	}
	if (vlen == 0 || vlen >= dstsz) {
		snprintf(why, whysz, "%.*s= is empty or longer than %zu bytes", (int)nlen,
			 tok, dstsz - 1);
		return -1;
	}
	memcpy(dst, eq + 1, vlen);
	dst[vlen] = '\0';
	return 0;
}
