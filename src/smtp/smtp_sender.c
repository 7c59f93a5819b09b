/* smtp_sender.c - may this user send as this address? See smtp_sender.h. */
#include "smtp/smtp_sender.h"

#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "mime/mime.h"
#include "store/store.h"

static bool eq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

bool smtp_sender_owned(struct store *st, const char *user, const char *addr)
{
	if (user == NULL || addr == NULL || user[0] == '\0')
		return false;
	/* The user's own address: one '@' in both, after a non-empty
	 * local part. */
	const char *ua = strrchr(user, '@'), *aa = strrchr(addr, '@');
	if (ua == NULL || aa == NULL || ua == user || aa == addr)
		return false;
	size_t ul = (size_t)(ua - user), al = (size_t)(aa - addr);
	if (eq_ci(user, ul, addr, al) &&
	    eq_ci(ua + 1, strlen(ua + 1), aa + 1, strlen(aa + 1)))
		return true;
	struct err err;
	return st != NULL && store_may_send_as(st, user, addr, &err) == 1;
}

struct span smtp_header_block(struct span msg)
{
	const unsigned char *p = msg.p;
	size_t n = msg.len;
	if (n >= 2 && p[0] == '\r' && p[1] == '\n')
		return span_make(p, 2);
	if (n >= 1 && p[0] == '\n')
		return span_make(p, 1);
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return span_make(p, i + 2);
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return span_make(p, i + 3);
	}
	return msg;
}

enum smtp_from_result smtp_from_check(struct span hdr, struct store *st,
				      const char *user, char *bad, size_t badsz)
{
	size_t pos = 0;
	struct span name, value;
	bool seen = false;
	bad[0] = '\0';
	while (mime_header_next(hdr, &pos, &name, &value) == 1) {
		if (!span_eq_ci(name, "From"))
			continue;
		seen = true;
		struct mime_addr_list list;
		mime_addr_parse(value, &list);
		enum smtp_from_result rc = SMTP_FROM_OK;
		size_t mailboxes = 0;
		for (size_t i = 0; i < list.n && rc == SMTP_FROM_OK; i++) {
			const struct mime_addr *a = &list.addrs[i];
			if (a->kind != MIME_ADDR_MAILBOX)
				continue;
			mailboxes++;
			char addr[SMTP_PATH_MAX + 1];
			int n = snprintf(addr, sizeof addr, "%.*s@%.*s",
					 (int)a->mailbox.len, (const char *)a->mailbox.p,
					 (int)a->domain.len, (const char *)a->domain.p);
			if (a->invalid || a->mailbox.len == 0 || a->domain.len == 0 ||
			    n < 0 || (size_t)n >= sizeof addr ||
			    !smtp_sender_owned(st, user, addr)) {
				snprintf(bad, badsz, "%s", addr);
				rc = SMTP_FROM_FOREIGN;
			}
		}
		mime_addr_list_free(&list);
		/* a From: without any mailbox hides who sent it */
		if (rc == SMTP_FROM_OK && mailboxes == 0)
			rc = SMTP_FROM_FOREIGN;
		if (rc != SMTP_FROM_OK)
			return rc;
	}
	return seen ? SMTP_FROM_OK : SMTP_FROM_MISSING;
}
