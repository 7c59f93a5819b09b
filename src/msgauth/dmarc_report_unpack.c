/* dmarc_report_unpack.c - the compressed forms aggregate reports arrive in
 * (RFC 7489 7.2.1.1 names gzip; zip is what many senders use anyway):
 * gzip (several members too) and the first entry of a zip archive, stored
 * or deflated, inflated with zlib into at most DMARC_REPORT_XML_MAX bytes.
 * Encrypted, split and other-method zips are refused. */
#include "msgauth/dmarc_private.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/xmalloc.h"

static int unpack_inflate(const unsigned char *in, size_t len, int wbits,
			  unsigned char **out, size_t *out_len, struct err *err)
{
	z_stream z;
	size_t cap = len * 4 + 4096, used = 0;
	int rc;

	if (cap > DMARC_REPORT_XML_MAX)
		cap = DMARC_REPORT_XML_MAX;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, wbits) != Z_OK)
		return err_set(err, ERR_ENV, 0, NULL, "zlib: cannot start inflate");
	unsigned char *buf = xmalloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)in;	/* zlib does not write it */
	z.avail_in = (uInt)len;
	for (;;) {
		if (used == cap) {
			if (cap == DMARC_REPORT_XML_MAX) {
				rc = err_set(err, ERR_LIMIT, 0, NULL,
					     "report larger than %d bytes uncompressed",
					     DMARC_REPORT_XML_MAX);
				goto fail;
			}
			cap = cap * 2 > DMARC_REPORT_XML_MAX ? DMARC_REPORT_XML_MAX : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		z.next_out = buf + used;
		z.avail_out = (uInt)(cap - used);
		rc = inflate(&z, Z_NO_FLUSH);
		used = cap - z.avail_out;
		if (rc == Z_STREAM_END) {
			/* gzip: another member may follow (RFC 1952 2.2) */
			if (wbits > 15 && z.avail_in >= 2 && z.next_in[0] == 0x1f &&
			    z.next_in[1] == 0x8b && inflateReset(&z) == Z_OK)
				continue;
			break;
		}
		if (rc == Z_BUF_ERROR && z.avail_in == 0) {
			rc = err_set(err, ERR_PEER, 0, NULL, "compressed report is cut short");
			goto fail;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			rc = err_set(err, ERR_PEER, 0, NULL, "compressed report is corrupt: %s",
				     z.msg ? z.msg : "inflate failed");
			goto fail;
		}
	}
	inflateEnd(&z);
	*out = buf;
	*out_len = used;
	return 0;
fail:
	inflateEnd(&z);
	free(buf);
	return rc;
}

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The first local file header (APPNOTE 4.3.7). */
static int unpack_zip(const unsigned char *in, size_t len, unsigned char **out,
		      size_t *out_len, struct err *err)
{
	if (len < 30)
		return err_set(err, ERR_PEER, 0, NULL, "zip archive is cut short");
	unsigned flags = le16(in + 6), method = le16(in + 8);
	uint32_t csize = le32(in + 18);
	size_t off = 30 + (size_t)le16(in + 26) + le16(in + 28);
	if (flags & 0x1)
		return err_set(err, ERR_PEER, 0, NULL, "zip entry is encrypted");
	if (off > len)
		return err_set(err, ERR_PEER, 0, NULL, "zip archive is cut short");
	if (method == 8)	/* deflate: the stream says where it ends */
		return unpack_inflate(in + off, len - off, -15, out, out_len, err);
	if (method != 0)
		return err_set(err, ERR_PEER, 0, NULL,
			       "zip entry uses compression method %u", method);
	if ((flags & 0x8) || csize > len - off)
		return err_set(err, ERR_PEER, 0, NULL, "stored zip entry has no usable size");
	if (csize > DMARC_REPORT_XML_MAX)
		return err_set(err, ERR_LIMIT, 0, NULL, "report larger than %d bytes",
			       DMARC_REPORT_XML_MAX);
	*out = xmalloc(csize + 1);
	memcpy(*out, in + off, csize);
	*out_len = csize;
	return 0;
}

int dmarc_report_unpack(const unsigned char *in, size_t len, unsigned char **out,
			size_t *out_len, struct err *err)
{
	*out = NULL;
	*out_len = 0;
	if (len > DMARC_REPORT_IN_MAX)
		return err_set(err, ERR_LIMIT, 0, NULL, "report larger than %d bytes",
			       DMARC_REPORT_IN_MAX);
	if (len >= 2 && in[0] == 0x1f && in[1] == 0x8b)
		return unpack_inflate(in, len, 16 + 15, out, out_len, err);
	if (len >= 4 && memcmp(in, "PK\3\4", 4) == 0)
		return unpack_zip(in, len, out, out_len, err);
	return 0;	/* plain XML: *out stays NULL */
}
