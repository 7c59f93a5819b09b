/* imap_url.c - the IMAP URL reader for CATENATE (see imap_url.h). Every
 * part is bounded by the URL's length, which is held to IMAP_URL_MAX;
 * percent-decoding never grows a part. */
#include "imap/imap_url.h"

#include <string.h>

#include "imap/imap_parse_value.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 5092 bchar / achar after %-decoding, into the arena; NUL bytes
 * and control characters are refused (they would end up in names). */
static int decode(struct span in, struct imap_arena *a, struct span *out,
		  struct err *err)
{
	unsigned char *d = imap_arena_alloc(a, in.len + 1);
	if (d == NULL)
		return err_set(err, ERR_PEER, 0, "", "URL too complex");
	size_t n = 0;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = in.p[i];
		if (c == '%') {
			if (in.len - i < 3)
				return err_set(err, ERR_PEER, 0, "", "bad %%-escape in URL");
			int hi = hexval(in.p[i + 1]);
			int lo = hexval(in.p[i + 2]);
			if (hi < 0 || lo < 0)
				return err_set(err, ERR_PEER, 0, "", "bad %%-escape in URL");
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			return err_set(err, ERR_PEER, 0, "", "bad character in URL");
		}
		if (c < 0x20 || c == 0x7f)
			return err_set(err, ERR_PEER, 0, "", "control character in URL");
		d[n++] = c;
	}
	d[n] = '\0';
	*out = span_make(d, n);
	return 0;
}

/* Position of the first case-insensitive occurrence of lit in s at or
 * after from, or s.len. */
static size_t find_ci(struct span s, size_t from, const char *lit)
{
	size_t l = strlen(lit);
	for (size_t i = from; i + l <= s.len; i++)
		if (span_prefix_ci(span_make(s.p + i, s.len - i), lit))
			return i;
	return s.len;
}

static int number(struct span s, bool nz, uint32_t *out, struct err *err)
{
	int rc = nz ? imap_parse_nz_number(s, out) : imap_parse_number(s, out);
	if (rc != 0)
		return err_set(err, ERR_PEER, 0, "", "bad number in URL");
	return 0;
}

int imap_url_parse(struct span in, struct imap_arena *a, struct imap_url *out,
		   struct err *err)
{
	memset(out, 0, sizeof *out);
	if (in.len == 0 || in.len > IMAP_URL_MAX)
		return err_set(err, ERR_PEER, 0, "", "URL empty or too long");
	struct span s = in;
	if (span_prefix_ci(s, "imap://")) {
		s = span_make(s.p + 7, s.len - 7);
		size_t slash = 0;
		while (slash < s.len && s.p[slash] != '/')
			slash++;
		if (slash == s.len)
			return err_set(err, ERR_PEER, 0, "", "URL names no message");
		struct span server = span_make(s.p, slash);
		size_t at = server.len;
		for (size_t i = 0; i < server.len; i++)
			if (server.p[i] == '@')
				at = i;
		struct span host = server;
		if (at < server.len) {
			struct span ui = span_make(server.p, at);
			size_t semi = find_ci(ui, 0, ";AUTH=");
			if (semi < ui.len && !span_eq_ci(span_make(ui.p + semi, ui.len - semi), ";AUTH=*"))
				return err_set(err, ERR_PEER, 0, "", "URL authentication not supported");
			if (decode(span_make(ui.p, semi), a, &out->user, err) != 0)
				return -1;
			host = span_make(server.p + at + 1, server.len - at - 1);
		}
		size_t colon = host.len;
		for (size_t i = 0; i < host.len; i++)
			if (host.p[i] == ':')
				colon = i;
		if (host.len > 0 && host.p[0] == '[') {
			/* an IPv6 literal: the port, if any, follows "]" */
			colon = host.len;
			for (size_t i = 0; i < host.len; i++)
				if (host.p[i] == ']')
					colon = i + 1 < host.len && host.p[i + 1] == ':' ? i + 1 : host.len;
		}
		if (colon < host.len) {
			uint32_t port;
			if (number(span_make(host.p + colon + 1, host.len - colon - 1), true, &port, err) != 0 ||
			    port > 65535)
				return err_set(err, ERR_PEER, 0, "", "bad port in URL");
		}
		out->host = span_make(host.p, colon);
		if (out->host.len == 0)
			return err_set(err, ERR_PEER, 0, "", "URL without a host");
		s = span_make(s.p + slash, s.len - slash);
	}
	if (s.len == 0 || s.p[0] != '/')
		return err_set(err, ERR_PEER, 0, "", "URL must name a message");
	s = span_make(s.p + 1, s.len - 1);
	if (s.len > 0 && s.p[0] == '/')
		return err_set(err, ERR_PEER, 0, "", "network-path URL not supported");
	/* URLAUTH (RFC 4467) is not offered */
	if (find_ci(s, 0, ";EXPIRE=") < s.len || find_ci(s, 0, ";URLAUTH=") < s.len ||
	    find_ci(s, 0, ";ACCESS=") < s.len)
		return err_set(err, ERR_PEER, 0, "", "URLAUTH not supported");
	size_t uid_at = find_ci(s, 0, "/;UID=");
	if (uid_at == s.len)
		return err_set(err, ERR_PEER, 0, "", "URL without ;UID=");
	struct span mb = span_make(s.p, uid_at);
	size_t v = find_ci(mb, 0, ";UIDVALIDITY=");
	if (v < mb.len) {
		if (number(span_make(mb.p + v + 13, mb.len - v - 13), true,
			   &out->uidvalidity, err) != 0)
			return -1;
		mb.len = v;
	}
	if (mb.len == 0)
		return err_set(err, ERR_PEER, 0, "", "URL without a mailbox");
	if (decode(mb, a, &out->mailbox, err) != 0)
		return -1;
	/* the rest: UID, then optional /;SECTION= and /;PARTIAL= */
	struct span rest = span_make(s.p + uid_at + 6, s.len - uid_at - 6);
	size_t end = 0;
	while (end < rest.len && rest.p[end] != '/')
		end++;
	if (number(span_make(rest.p, end), true, &out->uid, err) != 0)
		return -1;
	rest = span_make(rest.p + end, rest.len - end);
	if (span_prefix_ci(rest, "/;SECTION=")) {
		rest = span_make(rest.p + 10, rest.len - 10);
		size_t p = find_ci(rest, 0, "/;PARTIAL=");
		if (p == 0 || decode(span_make(rest.p, p), a, &out->section, err) != 0)
			return p == 0 ? err_set(err, ERR_PEER, 0, "", "empty section in URL") : -1;
		rest = span_make(rest.p + p, rest.len - p);
	}
	if (span_prefix_ci(rest, "/;PARTIAL=")) {
		rest = span_make(rest.p + 10, rest.len - 10);
		size_t dot = 0;
		while (dot < rest.len && rest.p[dot] != '.')
			dot++;
		if (number(span_make(rest.p, dot), false, &out->partial_offset, err) != 0)
			return -1;
		if (dot < rest.len &&
		    number(span_make(rest.p + dot + 1, rest.len - dot - 1), true,
			   &out->partial_len, err) != 0)
			return -1;
		out->partial = true;
		rest = span_make(rest.p, 0);
	}
	if (rest.len != 0)
		return err_set(err, ERR_PEER, 0, "", "unexpected text at the end of the URL");
	return 0;
}
