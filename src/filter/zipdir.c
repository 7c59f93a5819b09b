/* zipdir.c - a ZIP central directory read from the end of an archive
 * (zipdir.h). The end record is found by searching back over at most
 * its 65,535-octet comment; ZIP64 archives are followed when their end
 * record sits right before the locator, as every writer puts it. */
#include "filter/zipdir.h"

#include <string.h>

#define EOCD_LEN 22
#define LOC64_LEN 20
#define EOCD64_LEN 56
#define CDH_LEN 46
#define COMMENT_MAX 65535u

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool sig(const unsigned char *p, unsigned char a, unsigned char b)
{
	return p[0] == 'P' && p[1] == 'K' && p[2] == a && p[3] == b;
}

/* The end of central directory record: its offset, or -1. */
static long find_eocd(struct span t)
{
	if (t.len < EOCD_LEN)
		return -1;
	size_t i = t.len - EOCD_LEN;
	size_t stop = i > COMMENT_MAX ? i - COMMENT_MAX : 0;
	for (;; i--) {
		/* the comment must end the archive exactly */
		if (sig(t.p + i, 5, 6) &&
		    i + EOCD_LEN + le16(t.p + i + 20) == t.len)
			return (long)i;
		if (i == stop)
			return -1;
	}
}

/* ZIP64 extended information (APPNOTE 4.5.3): the sizes that the header
 * marked 0xFFFFFFFF, in order. */
static void zip64_sizes(const unsigned char *x, size_t n,
			struct zipdir_entry *e)
{
	while (n >= 4) {
		uint32_t id = le16(x), len = le16(x + 2);
		if (len > n - 4)
			return;
		if (id == 1) {
			const unsigned char *v = x + 4;
			uint32_t left = len;
			if (e->usize == 0xFFFFFFFFu && left >= 8) {
				e->usize = le64(v);
				v += 8;
				left -= 8;
			}
			if (e->csize == 0xFFFFFFFFu && left >= 8)
				e->csize = le64(v);
			return;
		}
		x += 4 + len;
		n -= 4 + len;
	}
}

int zipdir_read(struct span t, zipdir_fn fn, void *arg,
		struct zipdir_info *info)
{
	memset(info, 0, sizeof *info);
	long eo = find_eocd(t);
	if (eo < 0)
		return 0;
	const unsigned char *r = t.p + eo;
	uint64_t total = le16(r + 10), size = le32(r + 12);
	size_t end = (size_t)eo;
	if (end >= LOC64_LEN + EOCD64_LEN && sig(t.p + end - LOC64_LEN, 6, 7) &&
	    sig(t.p + end - LOC64_LEN - EOCD64_LEN, 6, 6)) {
		const unsigned char *z = t.p + end - LOC64_LEN - EOCD64_LEN;
		total = le64(z + 32);
		size = le64(z + 40);
		end -= LOC64_LEN + EOCD64_LEN;
	}
	info->declared = total;
	if (size > end) {	/* starts before the octets we were given */
		info->cut = total > 0;
		return 1;
	}
	/* Located from its end, not from its recorded offset: data
	 * prepended to the archive (self-extractors) moves the offset. */
	size_t p = end - (size_t)size;
	while (p + CDH_LEN <= end && sig(t.p + p, 1, 2)) {
		if (info->read >= FILTER_ZIP_MAX_ENTRIES) {
			info->cut = true;
			return 1;
		}
		const unsigned char *h = t.p + p;
		size_t nl = le16(h + 28), xl = le16(h + 30), cl = le16(h + 32);
		if (nl + xl + cl > end - p - CDH_LEN)
			break;
		struct zipdir_entry e;
		e.encrypted = (le16(h + 8) & 1) != 0;
		e.csize = le32(h + 20);
		e.usize = le32(h + 24);
		size_t keep = nl < FILTER_ZIP_NAME_MAX ? nl : FILTER_ZIP_NAME_MAX;
		for (size_t k = 0; k < keep; k++)
			e.name[k] = h[CDH_LEN + k] ? (char)h[CDH_LEN + k] : '?';
		e.name[keep] = '\0';
		zip64_sizes(h + CDH_LEN + nl, xl, &e);
		info->read++;
		if (!fn(&e, arg))
			return 1;
		p += CDH_LEN + nl + xl + cl;
	}
	if (info->read < total)
		info->cut = true;
	return 1;
}
