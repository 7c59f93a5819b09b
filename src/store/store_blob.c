/* store_blob.c - blob segment files: the record format with its CRC32C,
 * finding and rolling the segment the committer appends to, writing a
 * group's records, and reading a record back with its checks. Syncing and
 * the metadata that points at records are the committer's business
 * (store_commit.c); compaction of expunged blobs is not done yet.
 */
#include "store/store_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/log.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* ---- CRC32C (Castagnoli, as in iSCSI and ext4 metadata) -------------------
 * Software: slicing-by-8 tables built once. On x86-64 with SSE4.2 the crc32
 * instruction does the same polynomial about ten times faster. */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
}

static uint64_t load64le(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = load64le(p) ^ crc;
		crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
		      crc_table[5][(v >> 16) & 0xff] ^
		      crc_table[4][(v >> 24) & 0xff] ^
		      crc_table[3][(v >> 32) & 0xff] ^
		      crc_table[2][(v >> 40) & 0xff] ^
		      crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t c = crc;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n-- > 0)
		c32 = _mm_crc32_u8(c32, *p++);
	return c32;
}
#endif

uint32_t store_crc32c_portable(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	return ~crc32c_sw(~crc, p, n);
}

uint32_t store_crc32c(uint32_t crc, const void *p, size_t n)
{
	crc = ~crc;
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_hw(crc, p, n);
#endif
	pthread_once(&crc_once, crc_init);
	return ~crc32c_sw(crc, p, n);
}

/* ---- record headers ---------------------------------------------------- */

static const unsigned char rec_magic[4] = { 'P', 'T', 'R', 'B' };

static void put32le(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void store_rec_encode(unsigned char hdr[STORE_REC_HDR_SIZE],
		      const unsigned char *data, size_t len)
{
	memcpy(hdr, rec_magic, 4);
	put32le(hdr + 4, store_crc32c(0, data, len));
	put32le(hdr + 8, (uint32_t)((uint64_t)len & 0xffffffffu));
	put32le(hdr + 12, (uint32_t)((uint64_t)len >> 32));
	put32le(hdr + 16, 0);
	put32le(hdr + 20, store_crc32c(0, hdr, 20));
}

int store_rec_decode(const unsigned char hdr[STORE_REC_HDR_SIZE],
		     uint64_t *len_out, uint32_t *crc_out)
{
	if (memcmp(hdr, rec_magic, 4) != 0 ||
	    get32le(hdr + 20) != store_crc32c(0, hdr, 20) ||
	    get32le(hdr + 16) != 0)
		return -1;
	*crc_out = get32le(hdr + 4);
	*len_out = load64le(hdr + 8);
	return 0;
}

/* ---- segment files ----------------------------------------------------- */

static void segment_name(uint32_t id, char name[16])
{
	/* 8 digits + ".seg" + NUL fits 16 for every uint32_t (10 digits) */
	snprintf(name, 16, "%08u.seg", (unsigned)id);
}

/* 1 and *id_out if name is a segment file name ("00000001.seg"), else 0.
 * Strict: digits only, no sign, no overflow. */
static int segment_parse(const char *name, uint32_t *id_out)
{
	size_t len = strlen(name);
	if (len < 12 || len > 14 || strcmp(name + len - 4, ".seg") != 0)
		return 0;
	uint64_t v = 0;
	for (size_t i = 0; i < len - 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return 0;
	*id_out = (uint32_t)v;
	return 1;
}

int store_segment_open_last(int blobs_fd, struct store_segment *seg,
			    struct err *err)
{
	seg->id = 0;
	seg->fd = -1;
	seg->size = 0;
	seg->retire = false;
	int fd = dup(blobs_fd);
	if (fd < 0)
		return store_sys_fail(err, "dup blobs directory", errno);
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		(void)close(fd); /* a directory descriptor: nothing to lose */
		return store_sys_fail(err, "open blobs directory", e);
	}
	/* fdopendir shares the offset of the dup'd descriptor: start over. */
	rewinddir(d);
	uint32_t last = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		uint32_t id;
		if (segment_parse(de->d_name, &id) && id > last)
			last = id;
	}
	int e = errno;
	(void)closedir(d); /* read-only directory stream */
	if (e != 0)
		return store_sys_fail(err, "read blobs directory", e);
	if (last == 0)
		return 0;
	char name[16];
	segment_name(last, name);
	seg->fd = openat(blobs_fd, name, O_WRONLY | O_CLOEXEC);
	if (seg->fd < 0)
		return store_sys_fail(err, "open segment", errno);
	struct stat sb;
	if (fstat(seg->fd, &sb) < 0) {
		e = errno;
		store_segment_close(seg);
		return store_sys_fail(err, "stat segment", e);
	}
	seg->id = last;
	seg->size = (uint64_t)sb.st_size;
	return 0;
}

int store_segment_prepare(int blobs_fd, struct store_segment *seg,
			  struct err *err)
{
	if (seg->fd >= 0 && !seg->retire && seg->size < STORE_SEGMENT_MAX)
		return 0;
	if (seg->id == UINT32_MAX)
		return err_set(err, ERR_ENV, 451, "4.3.0",
			       "store: segment numbers are exhausted");
	uint32_t id = seg->id + 1;
	char name[16];
	segment_name(id, name);
	/* Not O_EXCL: a file left by an earlier attempt whose directory sync
	 * failed is reused from its end. Not O_APPEND: pwritev needs its
	 * offsets honoured. */
	int fd = openat(blobs_fd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return store_sys_fail(err, "create segment", errno);
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		(void)close(fd); /* nothing written to it yet */
		return store_sys_fail(err, "stat segment", e);
	}
	/* The new name must be durable before any record in it is
	 * referenced by a committed transaction. */
	if (fsync(blobs_fd) < 0) {
		int e = errno;
		(void)close(fd); /* nothing written to it yet */
		return store_sys_fail(err, "sync blobs directory", e);
	}
	store_segment_close(seg);
	seg->id = id;
	seg->fd = fd;
	seg->size = (uint64_t)sb.st_size;
	seg->retire = false;
	log_info("store", NULL, "op=segment-new segment=%u", (unsigned)id);
	return 0;
}

int store_segment_write(struct store_segment *seg, struct iovec *iov,
			size_t iovcnt, struct err *err)
{
	uint64_t off = seg->size;
	while (iovcnt > 0 && iov->iov_len == 0) {
		iov++;
		iovcnt--;
	}
	while (iovcnt > 0) {
		int n = iovcnt > IOV_MAX ? IOV_MAX : (int)iovcnt;
		if (off > (uint64_t)INT64_MAX)
			return store_sys_fail(err, "write segment", EFBIG);
		ssize_t w = pwritev(seg->fd, iov, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return store_sys_fail(err, "write segment", errno);
		}
		if (w == 0)
			return store_sys_fail(err, "write segment", EIO);
		off += (uint64_t)w;
		/* a short write (file size limit, disk full) resumes where it
		 * stopped; the next call then reports the error */
		size_t left = (size_t)w;
		while (iovcnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (left > 0) {
			iov->iov_base = (unsigned char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
		while (iovcnt > 0 && iov->iov_len == 0) {
			iov++;
			iovcnt--;
		}
	}
	return 0;
}

void store_segment_close(struct store_segment *seg)
{
	if (seg->fd >= 0) {
		/* Everything referenced was fdatasync'ed before it was
		 * committed, so a close error loses nothing we promised. */
		if (close(seg->fd) < 0)
			log_warn("store", NULL, "op=close-segment segment=%u "
				 "error=\"%s\"", (unsigned)seg->id,
				 strerror(errno));
		seg->fd = -1;
	}
}

int store_segment_open_read(int blobs_fd, uint32_t id)
{
	char name[16];
	segment_name(id, name);
	return openat(blobs_fd, name, O_RDONLY | O_CLOEXEC);
}

/* Read exactly n bytes at off; -1 with errno (EIO-like ENODATA for a file
 * that ends early). */
static int pread_full(int fd, void *p, size_t n, uint64_t off)
{
	unsigned char *q = p;
	while (n > 0) {
		if (off > (uint64_t)INT64_MAX) {
			errno = EOVERFLOW;
			return -1;
		}
		ssize_t r = pread(fd, q, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ENODATA;
			return -1;
		}
		q += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Not logged here: the caller knows which blob this is and logs once. */
static int record_corrupt(struct err *err, uint64_t offset, const char *why)
{
	return err_set(err, ERR_ENV, 451, "4.3.0",
		       "store: blob record at offset %llu: %s",
		       (unsigned long long)offset, why);
}

static int record_io_fail(struct err *err, uint64_t offset, int errnum)
{
	return err_set(err, ERR_ENV, 451, "4.3.0",
		       "store: read blob record at offset %llu: %s",
		       (unsigned long long)offset, strerror(errnum));
}

int store_record_read(int fd, uint64_t offset, uint64_t len,
		      unsigned char **data_out, struct err *err)
{
	unsigned char hdr[STORE_REC_HDR_SIZE];
	uint64_t hlen;
	uint32_t hcrc;
	if (pread_full(fd, hdr, sizeof hdr, offset) < 0)
		return errno == ENODATA
			       ? record_corrupt(err, offset, "file too short")
			       : record_io_fail(err, offset, errno);
	if (store_rec_decode(hdr, &hlen, &hcrc) < 0)
		return record_corrupt(err, offset, "bad record header");
	if (hlen != len)
		return record_corrupt(err, offset, "length differs from index");
	uint64_t data_off;
	if (__builtin_add_overflow(offset, (uint64_t)STORE_REC_HDR_SIZE,
				   &data_off) ||
	    data_off > (uint64_t)INT64_MAX || len > SIZE_MAX ||
	    len > (uint64_t)INT64_MAX - data_off)
		return record_corrupt(err, offset, "length out of range");

	if (data_out != NULL) {
		unsigned char *p = malloc(len ? (size_t)len : 1);
		if (p == NULL)
			return record_io_fail(err, offset, ENOMEM);
		if (pread_full(fd, p, (size_t)len, data_off) < 0) {
			int e = errno;
			free(p);
			return e == ENODATA
				       ? record_corrupt(err, offset, "truncated")
				       : record_io_fail(err, offset, e);
		}
		if (store_crc32c(0, p, (size_t)len) != hcrc) {
			free(p);
			return record_corrupt(err, offset, "checksum mismatch");
		}
		*data_out = p;
		return 0;
	}

	/* verify only: stream through a bounded buffer */
	enum { CHUNK = 65536 };
	unsigned char *chunk = malloc(CHUNK);
	if (chunk == NULL)
		return record_io_fail(err, offset, ENOMEM);
	uint32_t crc = 0;
	uint64_t done = 0;
	int rc = 0;
	while (done < len) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		if (pread_full(fd, chunk, n, data_off + done) < 0) {
			rc = errno == ENODATA
				     ? record_corrupt(err, offset, "truncated")
				     : record_io_fail(err, offset, errno);
			break;
		}
		crc = store_crc32c(crc, chunk, n);
		done += n;
	}
	free(chunk);
	if (rc == 0 && crc != hcrc)
		rc = record_corrupt(err, offset, "checksum mismatch");
	return rc;
}
