/* imap_objectid.c - OBJECTID (RFC 8474) identifiers made from what the
 * store already keeps stable, so no schema change is needed: a folder's
 * id is never given twice and stays through RENAME (with its
 * UIDVALIDITY), and a message body's blob is shared by every copy of it
 * and its id is never reused (blob rows are never deleted; compaction,
 * when it comes, must keep them). Threads are not tracked: THREADID is
 * NIL (RFC 8474 5.2). */
#include "imap/imap_private.h"

#include <stdio.h>
#include <string.h>

/* RFC 8474 4: objectid = 1*255(ALPHA / DIGIT / "_" / "-") */
static int mailboxid_text(char *out, size_t outsz, int64_t folder_id,
			  uint32_t uidvalidity)
{
	return snprintf(out, outsz, "F%llx-%x", (unsigned long long)folder_id,
			uidvalidity);
}

static int emailid_text(char *out, size_t outsz, int64_t blob_id)
{
	return snprintf(out, outsz, "M%llx", (unsigned long long)blob_id);
}

void imap_out_mailboxid(struct buf *o, int64_t folder_id, uint32_t uidvalidity)
{
	char id[48];
	mailboxid_text(id, sizeof id, folder_id, uidvalidity);
	imap_out_fmt(o, "(%s)", id);
}

void imap_out_emailid(struct buf *o, int64_t blob_id)
{
	char id[32];
	emailid_text(id, sizeof id, blob_id);
	imap_out_fmt(o, "(%s)", id);
}

bool imap_emailid_is(struct span id, int64_t blob_id)
{
	char text[32];
	int n = emailid_text(text, sizeof text, blob_id);
	/* RFC 8474 5.3: object identifiers are compared as they are */
	return n > 0 && (size_t)n == id.len && memcmp(text, id.p, id.len) == 0;
}
