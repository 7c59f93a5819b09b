/* received.c - the names in a Received field's "from" clause
 * (received.h). */
#include "filter/received.h"

#include <string.h>
#include <strings.h>

static bool word_char(unsigned char ch)
{
	return ch > ' ' && ch != '(' && ch != ')' && ch != ';' && ch < 0x7f;
}

void received_word_after(struct span s, const char *kw, char *out)
{
	size_t k = strlen(kw);

	out[0] = '\0';
	for (size_t i = 0; i + k < s.len; i++) {
		if ((i > 0 && s.p[i - 1] != ' ' && s.p[i - 1] != '\t') ||
		    strncasecmp((const char *)s.p + i, kw, k) != 0 ||
		    (s.p[i + k] != ' ' && s.p[i + k] != '\t'))
			continue;
		size_t j = i + k;
		while (j < s.len && (s.p[j] == ' ' || s.p[j] == '\t'))
			j++;
		size_t n = 0;
		while (j < s.len && word_char(s.p[j]) &&
		       n < RECEIVED_HOST_MAX - 1)
			out[n++] = (char)s.p[j++];
		out[n] = '\0';
		return;
	}
}

/* The word after marker (any case) inside comment c, up to a blank,
 * bracket or parenthesis, into out; false if the marker is not there. */
static bool comment_word(struct span c, const char *marker, char *out)
{
	size_t k = strlen(marker), n = 0;

	for (size_t i = 0; i + k <= c.len; i++) {
		if (strncasecmp((const char *)c.p + i, marker, k) != 0 ||
		    (i > 0 && c.p[i - 1] != ' ' && c.p[i - 1] != '\t' &&
		     c.p[i - 1] != '('))
			continue;
		for (size_t j = i + k; j < c.len && n < RECEIVED_HOST_MAX - 1 &&
		     word_char(c.p[j]) && c.p[j] != '[' && c.p[j] != ']'; j++)
			out[n++] = (char)c.p[j];
		out[n] = '\0';
		return true;
	}
	return false;
}

void received_names(struct span s, struct received_names *r)
{
	size_t i = 0;

	memset(r, 0, sizeof *r);
	if (s.len < 5 || strncasecmp((const char *)s.p, "from", 4) != 0)
		return;
	received_word_after(s, "from", r->from);
	if (r->from[0] == '\0')
		return;
	/* the greeting is the "from" name unless the comment says another */
	memcpy(r->helo, r->from, sizeof r->helo);
	while (i < s.len && s.p[i] != '(')
		i++;
	size_t e = i;
	while (e < s.len && s.p[e] != ')')
		e++;
	if (e >= s.len)
		return;
	struct span c = span_make(s.p + i + 1, e - i - 1);
	if (comment_word(c, "helo=", r->helo) ||
	    comment_word(c, "HELO ", r->helo)) {
		memcpy(r->rdns, r->from, sizeof r->rdns);
	} else {
		size_t n = 0, j = 0;
		while (j < c.len && word_char(c.p[j]) && c.p[j] != '[' &&
		       n < RECEIVED_HOST_MAX - 1)
			r->rdns[n++] = (char)c.p[j++];
		r->rdns[n] = '\0';
		/* the reverse name is followed by the address */
		while (j < c.len && (c.p[j] == ' ' || c.p[j] == '\t'))
			j++;
		if (j >= c.len || c.p[j] != '[')
			r->rdns[0] = '\0';
	}
	/* Sendmail's ident: "root@host [ip]" */
	char *at = strrchr(r->rdns, '@');
	if (at != NULL)
		memmove(r->rdns, at + 1, strlen(at + 1) + 1);
	/* no name: "unknown", a literal, or the address written as one */
	if (strcasecmp(r->rdns, "unknown") == 0 || r->rdns[0] == '[' ||
	    strspn(r->rdns, "0123456789.") == strlen(r->rdns))
		r->rdns[0] = '\0';
}
