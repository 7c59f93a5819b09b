/* spf_header.c - the Received-SPF header field (RFC 7208 9.1) from a
 * check's result. Peer text (HELO, MAIL FROM, record terms) goes into
 * quoted-strings and comments with quoting, and anything that is not
 * printable US-ASCII becomes '?', so the field is always one valid
 * header whatever the peer sent. Lines are folded near 78 columns. */
#include "msgauth/spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define FOLD_AT 78

struct hdr {
	char *p;
	size_t n, cap, line;
	bool over;
};

static void raw(struct hdr *h, const char *s, size_t len)
{
	if (h->over || len >= h->cap - h->n) {
		h->over = true;
		return;
	}
	memcpy(h->p + h->n, s, len);
	h->n += len;
	h->line += len;
}

/* a word, after a space or a fold (CRLF TAB) when the line is full */
static void word(struct hdr *h, const char *s, size_t len)
{
	if (h->line + 1 + len > FOLD_AT && h->line > 1) {
		raw(h, "\r\n\t", 3);
		h->line = 1;
	} else {
		raw(h, " ", 1);
	}
	raw(h, s, len);
}

static bool atext(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* dot-atom (RFC 5322 3.2.3) */
static bool dot_atom(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' ? s[i + 1] == '.' : !atext(c))
			return false;
	}
	return true;
}

/* key=value; with value a dot-atom or a quoted-string */
static void pair(struct hdr *h, const char *key, const char *val, bool last)
{
	char w[SPF_HEADER_MAX];
	size_t n = (size_t)snprintf(w, sizeof w, "%s=", key);

	if (dot_atom(val)) {
		n += (size_t)snprintf(w + n, sizeof w - n, "%s", val);
	} else {
		w[n++] = '"';
		for (const char *p = val; *p != '\0' && n + 4 < sizeof w; p++) {
			unsigned char c = (unsigned char)*p;
			if (c == '"' || c == '\\')
				w[n++] = '\\';
			w[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		w[n++] = '"';
	}
	if (!last)
		w[n++] = ';';
	word(h, w, n);
}

/* "(receiver: reason)" split into words so it folds */
static void comment(struct hdr *h, const char *receiver, const char *why)
{
	char c[SPF_HEADER_MAX];
	size_t n = 0;
	int part = 0;

	c[n++] = '(';
	for (const char *s = receiver; part < 2; s = why, part++) {
		for (; *s != '\0' && n + 4 < sizeof c; s++) {
			unsigned char ch = (unsigned char)*s;
			if (ch == '(' || ch == ')' || ch == '\\')
				c[n++] = '\\';
			c[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		if (part == 0) {
			c[n++] = ':';
			c[n++] = ' ';
		}
	}
	c[n++] = ')';
	size_t s = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && c[i] != ' ')
			continue;
		if (i > s)
			word(h, c + s, i - s);
		s = i + 1;
	}
}

int spf_received_spf(const struct spf_request *req, const struct spf_out *out,
		     char *buf, size_t bufsz)
{
	struct hdr h = { .p = buf, .cap = bufsz };
	const char *receiver = req->receiver ? req->receiver : "unknown";
	char ip[48];

	if (bufsz == 0)
		return -1;
	raw(&h, "Received-SPF:", 13);
	word(&h, spf_result_str(out->result), strlen(spf_result_str(out->result)));
	comment(&h, receiver, out->reason);
	/* the client address as the check saw it (IPv4-mapped as IPv4) */
	if (req->family == AF_INET6 &&
	    memcmp(req->ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0)
		inet_ntop(AF_INET6, req->ip, ip, sizeof ip);
	else
		inet_ntop(AF_INET, req->family == AF_INET6 ? req->ip + 12 : req->ip,
			  ip, sizeof ip);
	pair(&h, "client-ip", ip, false);
	if (req->sender != NULL && req->sender[0] != '\0')
		pair(&h, "envelope-from", req->sender, false);
	if (req->helo != NULL && req->helo[0] != '\0')
		pair(&h, "helo", req->helo, false);
	pair(&h, "receiver", receiver, false);
	bool more = out->mechanism[0] != '\0' || out->result == SPF_PERMERROR ||
		    out->result == SPF_TEMPERROR;
	pair(&h, "identity", out->identity == SPF_ID_HELO ? "helo" : "mailfrom", !more);
	bool problem = out->result == SPF_PERMERROR || out->result == SPF_TEMPERROR;
	if (out->mechanism[0] != '\0')
		pair(&h, "mechanism", out->mechanism, !problem);
	if (problem)
		pair(&h, "problem", out->reason, true);
	if (h.over)
		return -1;
	buf[h.n] = '\0';
	return (int)h.n;
}
