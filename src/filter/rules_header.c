/* rules_header.c - header anomalies: Date, Message-ID, the address
 * fields, Subject, and From / Reply-To / Return-Path that point to
 * different owners. The Received chain is in rules_received.c. */
#include "filter/rules_private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

#define DAY (24 * 3600)
/* A Date ahead of its arrival by more than time zone mistakes explain. */
#define FUTURE_SLACK (1 * DAY)
/* Mail sits in outboxes and queues for days; a month is not that. */
#define PAST_SLACK (30 * DAY)
/* A Subject shorter than this in capitals is an acronym, not shouting. */
#define CAPS_MIN_LETTERS 10
/* Zones in use run from UTC-12 to UTC+14. */
#define ZONE_WEST_MAX (12 * 60)
#define ZONE_EAST_MAX (14 * 60)
/* Blanks in a row inside a Subject: nobody types them; mass mailers
 * pad a subject to push a per-copy tag out of sight. */
#define PAD_MIN 8

static void date(struct rules_ctx *c)
{
	struct span v;
	int64_t t, ref;
	int zone;

	if (!mime_header_find(c->hdr, "Date", &v)) {
		RULES_ADD(c, "DATE_MISSING", NULL);
		return;
	}
	if (mime_date_parse(v, &t, &zone) < 0) {
		RULES_ADD(c, "DATE_INVALID", NULL);
		return;
	}
	/* "-1900": a sending program that computes its zone wrongly; the
	 * time it gives is no basis for judging the age */
	if (zone < -ZONE_WEST_MAX || zone > ZONE_EAST_MAX) {
		RULES_ADD(c, "DATE_ZONE_BAD", "zone %c%02d%02d",
			  zone < 0 ? '-' : '+', abs(zone) / 60, abs(zone) % 60);
		return;
	}
	/* Judge the Date by when the message arrived: its newest Received
	 * field, else the clock; but only a Received date can say a Date is
	 * old (a message read from an archive is old by today's clock). */
	bool rcvd = c->have_rcvd_date;
	ref = c->rcvd_date;
	if (!rcvd) {
		if (c->facts->now <= 0)
			return;
		ref = (int64_t)c->facts->now;
	}
	if (t > ref + FUTURE_SLACK)
		RULES_ADD(c, "DATE_FUTURE", "%lld days ahead",
			  (long long)((t - ref) / DAY));
	else if (rcvd && t < ref - PAST_SLACK)
		RULES_ADD(c, "DATE_PAST", "%lld days before arrival",
			  (long long)((ref - t) / DAY));
}

/* RFC 5322 3.6.4: "<" id-left "@" id-right ">", no white space inside. */
static bool msgid_valid(struct span v)
{
	v = span_trim(v);
	while (v.len > 0 && (v.p[v.len - 1] == '\r' || v.p[v.len - 1] == '\n'))
		v.len--;
	if (v.len < 5 || v.p[0] != '<' || v.p[v.len - 1] != '>')
		return false;
	size_t at = 0, nat = 0;
	for (size_t i = 1; i + 1 < v.len; i++) {
		unsigned char ch = v.p[i];
		if (ch <= ' ' || ch == '<' || ch == '>' || ch >= 0x7f)
			return false;
		if (ch == '@') {
			at = i;
			nat++;
		}
	}
	return nat == 1 && at > 1 && at < v.len - 2;
}

static void msgid(struct rules_ctx *c)
{
	struct span v;

	if (!mime_header_find(c->hdr, "Message-ID", &v))
		RULES_ADD(c, "MSGID_MISSING", NULL);
	else if (!msgid_valid(v))
		RULES_ADD(c, "MSGID_INVALID", NULL);
}

/* A run of PAD_MIN blanks between text, in the raw field: a line
 * break and the blanks that continue the field count as one (folding
 * indents with as many as the folder likes). */
static bool subject_padded(struct span v)
{
	size_t run = 0;

	v = span_trim(v);
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = v.p[i];
		if (ch == '\r' || ch == '\n') {
			while (i + 1 < v.len && (v.p[i + 1] == '\r' ||
						 v.p[i + 1] == '\n' ||
						 v.p[i + 1] == ' ' ||
						 v.p[i + 1] == '\t'))
				i++;
			run++;
		} else if (ch == ' ' || ch == '\t') {
			run++;
		} else {
			if (run >= PAD_MIN)
				return true;
			run = 0;
		}
	}
	return false;
}

/* "ADV:" opens the subject of an advertisement where laws ask senders
 * of unsolicited ones to label them so. */
static bool subject_adv(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < 4 || strncasecmp((const char *)p + i, "adv", 3) != 0)
		return false;
	for (i += 3; i < n && p[i] == ' '; i++)
		;
	return i < n && p[i] == ':';
}

static void subject(struct rules_ctx *c)
{
	struct span v;
	struct buf b;
	size_t upper = 0, lower = 0;

	if (!mime_header_find(c->hdr, "Subject", &v)) {
		RULES_ADD(c, "SUBJECT_MISSING", NULL);
		return;
	}
	buf_init(&b, 4096);
	if (mime_header_decode(v, &b) == 0 || b.len > 0)
		for (size_t i = 0; i < b.len; i++) {
			unsigned char ch = b.data[i];
			upper += ch >= 'A' && ch <= 'Z';
			lower += ch >= 'a' && ch <= 'z';
		}
	bool words = b.len > 0 && memchr(b.data, ' ', b.len) != NULL;
	bool adv = subject_adv(b.data, b.len);
	buf_release(&b);
	if (upper >= CAPS_MIN_LETTERS && lower == 0 && words)
		RULES_ADD(c, "SUBJECT_CAPS", NULL);
	if (adv)
		RULES_ADD(c, "SUBJECT_ADV", NULL);
	if (subject_padded(v))
		RULES_ADD(c, "SUBJECT_PADDED", NULL);
}

/* "support@bank.example" <x@elsewhere.example>: the name shows an
 * address whose registrable domain is not the sender's. */
static void from_name_addr(struct rules_ctx *c)
{
	struct buf b;

	if (c->from_name.len == 0 || c->from_org[0] == '\0')
		return;
	buf_init(&b, 1024);
	if ((mime_header_decode(c->from_name, &b) == 0 || b.len > 0) &&
	    b.len > 0) {
		const unsigned char *at = memchr(b.data, '@', b.len);
		if (at != NULL) {
			size_t s = (size_t)(at - b.data) + 1, e = s;
			while (e < b.len && (b.data[e] == '.' || b.data[e] == '-' ||
					     (b.data[e] >= '0' && b.data[e] <= '9') ||
					     ((b.data[e] | 0x20) >= 'a' &&
					      (b.data[e] | 0x20) <= 'z')))
				e++;
			char norm[DMARC_DOMAIN_MAX + 1], org[DMARC_DOMAIN_MAX + 1];
			if (e > s && memchr(b.data + s, '.', e - s) != NULL &&
			    rules_org((const char *)b.data + s, e - s, norm, org) &&
			    strcmp(org, c->from_org) != 0)
				RULES_ADD(c, "FROM_NAME_ADDR", "%s in the name, "
					  "from %s", norm, c->from_domain);
		}
	}
	buf_release(&b);
}

static void addresses(struct rules_ctx *c)
{
	struct span v;
	char norm[DMARC_DOMAIN_MAX + 1], org[DMARC_DOMAIN_MAX + 1];

	if (c->from_domain[0] == '\0')
		RULES_ADD(c, "FROM_MISSING", NULL);
	if (!c->bulk && !mime_header_find(c->hdr, "To", &v) &&
	    !mime_header_find(c->hdr, "Cc", &v))
		RULES_ADD(c, "TO_MISSING", NULL);
	from_name_addr(c);
	if (c->from_org[0] == '\0' || c->bulk)
		return;
	if (rules_field_domain(c->hdr, "Reply-To", norm, org) &&
	    strcmp(org, c->from_org) != 0) {
		if (rules_freemail(org) && !rules_freemail(c->from_org))
			RULES_ADD(c, "REPLYTO_FREEMAIL", "%s, from %s", norm,
				  c->from_domain);
		else
			RULES_ADD(c, "REPLYTO_DIFF", "%s, from %s", norm,
				  c->from_domain);
	}
	/* the envelope sender: from SMTP, else the Return-Path it left */
	const char *mf = c->facts->mail_from;
	const char *at = mf ? strrchr(mf, '@') : NULL;
	bool have = false;
	if (at != NULL)
		have = rules_org(at + 1, strlen(at + 1), norm, org);
	else if (mf == NULL)
		have = rules_field_domain(c->hdr, "Return-Path", norm, org);
	if (have && strcmp(org, c->from_org) != 0)
		RULES_ADD(c, "RETURNPATH_DIFF", "%s, from %s", norm,
			  c->from_domain);
}

/* Outlook Express 4 to 6 for Windows and Outlook 98 to 2003 ("Outlook,
 * Build 10.0.2616", "Outlook IMO, Build 9.0.2416") wrote their MIME with
 * Microsoft's MimeOLE and always named it in X-MimeOLE. Bulk mailers
 * copy the X-Mailer line alone. Outlook Express for the Macintosh and
 * Outlook from 2007 write no X-MimeOLE and are not judged. */
static bool mailer_writes_mimeole(struct span xm)
{
	static const char *const builds[] = { ", Build ", " Build ",
		" IMO, Build ", " IMO Build ", " CWS, Build ", " CWS Build " };
	const unsigned char *p = memmem(xm.p, xm.len, "Outlook", 7);

	if (p == NULL)
		return false;
	p += 7;
	size_t rest = xm.len - (size_t)(p - xm.p);
	if (rest >= 11 && memcmp(p, " Express ", 9) == 0)
		return p[9] >= '4' && p[9] <= '6' && p[10] == '.';
	for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++) {
		size_t n = strlen(builds[i]);
		if (rest > n && memcmp(p, builds[i], n) == 0)
			return p[n] >= '0' && p[n] <= '9';
	}
	return false;
}

/* Those Outlooks also sent HTML only beside a plain text copy
 * (multipart/alternative), never as the whole message. */
static void mailer(struct rules_ctx *c)
{
	struct span v, ole;

	if (!mime_header_find(c->hdr, "X-Mailer", &v) ||
	    !mailer_writes_mimeole(v))
		return;
	const char *which = memmem(v.p, v.len, "Express", 7) ? " Express" : "";
	const struct mime_part *top = mime_message_part(c->m, 0);
	if (!mime_header_find(c->hdr, "X-MimeOLE", &ole))
		RULES_ADD(c, "MUA_FORGED", "an Outlook%s without X-MimeOLE",
			  which);
	else if (top != NULL && span_eq_ci(top->type, "text") &&
		 span_eq_ci(top->subtype, "html"))
		RULES_ADD(c, "MUA_FORGED", "an Outlook%s sending HTML without "
			  "its plain text copy", which);
}

void rules_headers(struct rules_ctx *c)
{
	date(c);
	msgid(c);
	mailer(c);
	subject(c);
	addresses(c);
}
