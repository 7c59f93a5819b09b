/* lr_window.c - the octets whose 4-grams are the model's raw features
 * (lr.h): the start of the message as sent, less the random parts of
 * signatures.
 *
 * A signature's b= and bh= values are base64 of hashes: their 4-grams
 * are new in every message, noise that also takes the window's room.
 * Mail of today carries several (DKIM-Signature, ARC-Seal,
 * ARC-Message-Signature, a provider's own), 2-4 KB that would fill a
 * 2,000-octet window before the From, Subject or body are reached.
 * Their t= and x= are times, new in every message too, and the rest
 * (a=, c=, h=) the same in all of one sender's mail. So a signature
 * field keeps its name and who signed (d=, s=): whether and by whom a
 * message is signed says something. Fields that are opaque state of
 * one provider keep only their name. */
#include "filter/lr.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Header octets looked at: past this, the window is what it is. */
#define LR_SCAN_MAX (256 * 1024)

static const char *const signed_fields[] = {
	"DKIM-Signature", "DomainKey-Signature", "ARC-Seal",
	"ARC-Message-Signature", "X-Google-DKIM-Signature",
};
static const char *const opaque_fields[] = {
	"X-Gm-Message-State", "X-Google-Smtp-Source",
};

static bool name_in(const unsigned char *p, size_t n,
		    const char *const *set, size_t nset)
{
	for (size_t i = 0; i < nset; i++)
		if (strlen(set[i]) == n &&
		    strncasecmp((const char *)p, set[i], n) == 0)
			return true;
	return false;
}

struct out {
	unsigned char *p;
	size_t n;
};

static bool put(struct out *o, const unsigned char *p, size_t n)
{
	size_t room = LR_PREFIX - o->n;
	if (n > room)
		n = room;
	memcpy(o->p + o->n, p, n);
	o->n += n;
	return o->n < LR_PREFIX;
}

/* A signature field [p, e): its name and the tags that say who signed
 * (d=, s=); the rest is hashes, times and lists of fields. */
static bool put_signed(struct out *o, const unsigned char *p,
		       const unsigned char *e)
{
	const unsigned char *colon = memchr(p, ':', (size_t)(e - p));
	const unsigned char *q = colon + 1;

	if (!put(o, p, (size_t)(q - p)))
		return false;
	while (q < e) {
		/* a tag: blanks, its name, blanks, '=', its value to ';' */
		const unsigned char *t = q;
		while (t < e && (*t == ' ' || *t == '\t' || *t == '\r' ||
				 *t == '\n'))
			t++;
		const unsigned char *v = memchr(t, ';', (size_t)(e - t));
		const unsigned char *end = v ? v + 1 : e;
		if (end - t >= 2 && (t[0] == 'd' || t[0] == 's') && t[1] == '=') {
			/* " d=example.com;" with the value's folding dropped */
			if (!put(o, (const unsigned char *)" ", 1))
				return false;
			for (const unsigned char *c = t; c < end; c++)
				if (*c > ' ' && !put(o, c, 1))
					return false;
		}
		q = end;
	}
	return put(o, (const unsigned char *)"\r\n", 2);
}

size_t lr_window(struct span msg, unsigned char *out)
{
	struct out o = { out, 0 };
	const unsigned char *p = msg.p, *end = msg.p + msg.len;
	const unsigned char *scan_end = msg.len > LR_SCAN_MAX ?
					msg.p + LR_SCAN_MAX : end;

	while (p < scan_end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *e = nl ? nl + 1 : end;
		if (e - p == 1 || (e - p == 2 && p[0] == '\r'))
			break;	/* the header's end: the body follows */
		/* the field with its continuation lines */
		while (e < end && (*e == ' ' || *e == '\t')) {
			nl = memchr(e, '\n', (size_t)(end - e));
			e = nl ? nl + 1 : end;
		}
		const unsigned char *colon = memchr(p, ':', (size_t)(e - p));
		size_t nlen = colon ? (size_t)(colon - p) : 0;
		bool more;
		if (colon != NULL &&
		    name_in(p, nlen, signed_fields, sizeof signed_fields /
			    sizeof signed_fields[0]))
			more = put_signed(&o, p, e);
		else if (colon != NULL &&
			 name_in(p, nlen, opaque_fields, sizeof opaque_fields /
				 sizeof opaque_fields[0]))
			more = put(&o, p, nlen + 1) &&
			       put(&o, (const unsigned char *)"\r\n", 2);
		else
			more = put(&o, p, (size_t)(e - p));
		if (!more)
			return o.n;
		p = e;
	}
	if (p < end)
		put(&o, p, (size_t)(end - p));
	return o.n;
}
