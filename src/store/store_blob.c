/* store_blob.c - the bytes of the log: CRC32C, the record format
 * (store_private.h), segment files (listing, creating, pre-allocating
 * with real zero blocks, writing whole aligned blocks with O_DIRECT) and
 * reading a message record back with its checks. What the records mean, replay and the order of syncs and
 * commits are store_log.c's and store_commit.c's business; compaction of
 * expunged blobs is not done yet.
 */
#include "store/store_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

/* ---- record format ----------------------------------------------------- */

static const unsigned char rec_magic[4] = { 'P', 'T', 'R', 'L' };

static void put16le(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static uint16_t get16le(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

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

static void put64le(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void store_rec_encode(unsigned char hdr[STORE_REC_HDR_SIZE],
		      const struct store_rec *r)
{
	memset(hdr, 0, STORE_REC_HDR_SIZE);
	memcpy(hdr, rec_magic, 4);
	put16le(hdr + 4, (uint16_t)r->kind);
	put32le(hdr + 8, r->segment);
	put32le(hdr + 12, r->n_rcpt);
	put64le(hdr + 16, r->offset);
	put64le(hdr + 24, r->seq);
	put64le(hdr + 32, (uint64_t)r->internal_date);
	put64le(hdr + 40, r->data_len);
	put32le(hdr + 48, r->data_crc);
	put32le(hdr + 52, r->meta_crc);
	put32le(hdr + 56, STORE_REC_HAS_EXT(r) ? r->ext_len : 0);
	put32le(hdr + 60, store_crc32c(0, hdr, 60));
}

int store_rec_decode(const unsigned char hdr[STORE_REC_HDR_SIZE],
		     struct store_rec *out)
{
	if (memcmp(hdr, rec_magic, 4) != 0 ||
	    get32le(hdr + 60) != store_crc32c(0, hdr, 60) ||
	    get16le(hdr + 6) != 0)
		return -1;
	struct store_rec r = {
		.kind = (enum store_rec_kind)get16le(hdr + 4),
		.segment = get32le(hdr + 8),
		.n_rcpt = get32le(hdr + 12),
		.offset = load64le(hdr + 16),
		.seq = load64le(hdr + 24),
		.internal_date = (int64_t)load64le(hdr + 32),
		.data_len = load64le(hdr + 40),
		.data_crc = get32le(hdr + 48),
		.meta_crc = get32le(hdr + 52),
		.ext_len = get32le(hdr + 56),
	};
	if (r.seq == 0 || r.segment == 0 ||
	    r.offset % STORE_REC_ALIGN != 0 || r.offset > (uint64_t)INT64_MAX)
		return -1;
	switch (r.kind) {
	case STORE_REC_MESSAGE:
		if (r.n_rcpt == 0 || r.n_rcpt > STORE_REC_RCPT_MAX ||
		    r.data_len > STORE_REC_DATA_MAX || r.ext_len != 0)
			return -1;
		break;
	case STORE_REC_APPEND:
		if (r.n_rcpt != 1 || r.data_len > STORE_REC_DATA_MAX ||
		    r.ext_len < STORE_REC_EXT_HDR ||
		    r.ext_len > STORE_REC_EXT_MAX)
			return -1;
		break;
	case STORE_REC_QUEUE:
		if (r.n_rcpt > STORE_REC_RCPT_MAX ||
		    r.data_len > STORE_REC_DATA_MAX ||
		    r.ext_len < STORE_REC_EXT_HDR ||
		    r.ext_len > STORE_REC_QEXT_MAX)
			return -1;
		break;
	case STORE_REC_QUARANTINE:
		if (r.n_rcpt != 0 || r.data_len > STORE_REC_DATA_MAX ||
		    r.ext_len < STORE_REC_EXT_HDR ||
		    r.ext_len > STORE_REC_QUAR_EXT_MAX)
			return -1;
		break;
	case STORE_REC_ABORT:
		if (r.n_rcpt != 0 || r.data_len != 0 || r.internal_date != 0 ||
		    r.ext_len != 0)
			return -1;
		break;
	default:
		return -1;
	}
	*out = r;
	return 0;
}

void store_rcpt_encode(unsigned char out[STORE_REC_RCPT_SIZE],
		       const struct store_rec_rcpt *r)
{
	put64le(out, (uint64_t)r->mailbox_id);
	put64le(out + 8, (uint64_t)r->folder_id);
	put32le(out + 16, r->uidvalidity);
	put32le(out + 20, r->uid);
	put64le(out + 24, r->modseq);
}

void store_rcpt_decode(const unsigned char in[STORE_REC_RCPT_SIZE],
		       struct store_rec_rcpt *out)
{
	out->mailbox_id = (int64_t)load64le(in);
	out->folder_id = (int64_t)load64le(in + 8);
	out->uidvalidity = get32le(in + 16);
	out->uid = get32le(in + 20);
	out->modseq = load64le(in + 24);
}

void store_abort_encode(unsigned char out[STORE_REC_ABORT_META],
			uint64_t first, uint64_t last)
{
	put64le(out, first);
	put64le(out + 8, last);
}

void store_abort_decode(const unsigned char in[STORE_REC_ABORT_META],
			uint64_t *first_out, uint64_t *last_out)
{
	*first_out = load64le(in);
	*last_out = load64le(in + 8);
}

uint64_t store_rec_meta_len(const struct store_rec *r)
{
	if (r->kind == STORE_REC_ABORT)
		return STORE_REC_ABORT_META;
	return (uint64_t)r->n_rcpt * STORE_REC_RCPT_SIZE +
	       (STORE_REC_HAS_EXT(r) ? r->ext_len : 0);
}

int store_ext_decode(const unsigned char *ext, size_t len,
		     uint32_t *flags_out,
		     int (*fn)(const char *name, size_t n, void *arg),
		     void *arg)
{
	if (len < STORE_REC_EXT_HDR || get16le(ext + 6) != 0)
		return -1;
	*flags_out = get32le(ext);
	unsigned k = get16le(ext + 4);
	size_t at = STORE_REC_EXT_HDR;
	for (unsigned i = 0; i < k; i++) {
		if (at >= len)
			return -1;
		size_t n = ext[at++];
		if (n == 0 || n > len - at)
			return -1;
		if (fn != NULL && fn((const char *)ext + at, n, arg) < 0)
			return -1;
		at += n;
	}
	return at == len ? 0 : -1;
}

uint64_t store_rec_size(const struct store_rec *r)
{
	/* UNSAFE: at most 64 + 100000 * 32 + 4 GiB + 7 for a header that
	 * store_rec_decode accepts or the committer built within the same
	 * bounds; far below 2^64. */
	uint64_t n = STORE_REC_HDR_SIZE + store_rec_meta_len(r) + r->data_len;
	return (n + STORE_REC_ALIGN - 1) & ~(uint64_t)(STORE_REC_ALIGN - 1);
}

/* ---- segment files ----------------------------------------------------- */

/* Written where space is pre-allocated; read-only. Aligned: O_DIRECT
 * writes it straight from here. */
static _Alignas(STORE_DIO_ALIGN) const unsigned char
	zero_block[STORE_ZERO_BLOCK];

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

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int store_segment_list(int blobs_fd, uint32_t **ids_out, size_t *n_out,
		       struct err *err)
{
	*ids_out = NULL;
	*n_out = 0;
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
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		uint32_t id;
		if (!segment_parse(de->d_name, &id))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			uint32_t *p = reallocarray(ids, cap, sizeof *ids);
			if (p == NULL) {
				errno = ENOMEM;
				break;
			}
			ids = p;
		}
		ids[n++] = id;
		errno = 0;
	}
	int e = errno;
	(void)closedir(d); /* read-only directory stream */
	if (e != 0) {
		free(ids);
		return store_sys_fail(err, "read blobs directory", e);
	}
	if (n > 1)
		qsort(ids, n, sizeof *ids, cmp_u32);
	*ids_out = ids;
	*n_out = n;
	return 0;
}

int store_segment_write(int fd, uint64_t off, struct iovec *iov,
			size_t iovcnt, struct err *err)
{
	while (iovcnt > 0 && iov->iov_len == 0) {
		iov++;
		iovcnt--;
	}
	while (iovcnt > 0) {
		int n = iovcnt > IOV_MAX ? IOV_MAX : (int)iovcnt;
		if (off > (uint64_t)INT64_MAX)
			return store_sys_fail(err, "write segment", EFBIG);
		ssize_t w = pwritev(fd, iov, n, (off_t)off);
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

/* Zeros over [from, to) of fd, 4 MiB per system call. */
static int zero_fill(int fd, uint64_t from, uint64_t to, struct err *err)
{
	enum { ZIOV = 64 };
	struct iovec iov[ZIOV];
	while (from < to) {
		size_t cnt = 0;
		uint64_t left = to - from;
		while (cnt < ZIOV && left > 0) {
			size_t n = left < sizeof zero_block ? (size_t)left
							    : sizeof zero_block;
			/* iovec has no const; pwritev only reads from it */
			iov[cnt].iov_base = (void *)(uintptr_t)zero_block;
			iov[cnt].iov_len = n;
			left -= n;
			cnt++;
		}
		uint64_t chunk = to - from - left;
		if (store_segment_write(fd, from, iov, cnt, err) < 0)
			return -1;
		from += chunk;
	}
	return 0;
}

int store_segment_create(int blobs_fd, uint32_t id, const struct iovec *first,
			 size_t iovcnt, bool direct, struct store_segment *seg,
			 struct err *err)
{
	char name[16];
	segment_name(id, name);
	/* O_TRUNC: a file of this name can only be left by an earlier
	 * attempt that failed (recovery appends to the newest segment that
	 * exists), and its bytes were never acknowledged. Not O_APPEND:
	 * pwritev needs its offsets honoured. */
	int fd = openat(blobs_fd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			0600);
	if (fd < 0)
		return store_sys_fail(err, "create segment", errno);
	enum { FIRST_MAX = 4 };
	struct iovec iov[FIRST_MAX];
	uint64_t first_len = 0;
	if (iovcnt > FIRST_MAX) {
		store_sys_fail(err, "create segment", EINVAL);
		goto fail;
	}
	for (size_t i = 0; i < iovcnt; i++) {
		iov[i] = first[i];
		first_len += iov[i].iov_len;
	}
	if (store_segment_write(fd, 0, iov, iovcnt, err) < 0)
		goto fail;
	if (fdatasync(fd) < 0) {
		store_sys_fail(err, "sync new segment", errno);
		goto fail;
	}
	/* The new name must be durable before anything in the file is
	 * acknowledged. */
	if (fsync(blobs_fd) < 0) {
		store_sys_fail(err, "sync blobs directory", errno);
		goto fail;
	}
	struct store_segment s = {
		.id = id, .fd = fd, .end = first_len, .alloc = first_len,
	};
	if (store_segment_writable(&s, direct, err) < 0) {
		free(s.tail);
		goto fail;
	}
	*seg = s;
	log_info("store", NULL, "op=segment-new segment=%u direct=%s",
		 (unsigned)id, s.direct ? "yes" : "no");
	return 0;
fail:
	(void)close(fd); /* never acknowledged: nothing to lose */
	return -1;
}

int store_segment_open_rw(int blobs_fd, uint32_t id, struct store_segment *seg,
			  struct err *err)
{
	char name[16];
	segment_name(id, name);
	int fd = openat(blobs_fd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return store_sys_fail(err, "open segment", errno);
	*seg = (struct store_segment){ .id = id, .fd = fd };
	return 0;
}

static uint64_t block_down(uint64_t v)
{
	return v & ~(uint64_t)(STORE_DIO_ALIGN - 1);
}

static uint64_t block_up(uint64_t v)
{
	/* UNSAFE: segment offsets are below INT64_MAX (checked before any
	 * write) */
	return block_down(v + STORE_DIO_ALIGN - 1);
}

/* Whether the file system of fd takes O_DIRECT writes of our blocks:
 * where statx reports its alignment (Linux 6.1), it must divide
 * STORE_DIO_ALIGN. Where it does not, the fcntl below decides. */
static bool dio_align_ok(int fd)
{
#ifdef STATX_DIOALIGN
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN) != 0)
		return sx.stx_dio_offset_align != 0 &&
		       sx.stx_dio_mem_align != 0 &&
		       STORE_DIO_ALIGN % sx.stx_dio_offset_align == 0 &&
		       STORE_DIO_ALIGN % sx.stx_dio_mem_align == 0;
#endif
	return true;
}

/* Said once per process, not per segment. */
static atomic_bool dio_refused_logged;

int store_segment_writable(struct store_segment *seg, bool direct,
			   struct err *err)
{
	if (seg->tail == NULL) {
		void *p;
		int rc = posix_memalign(&p, STORE_DIO_ALIGN, STORE_DIO_ALIGN);
		if (rc != 0)
			return store_sys_fail(err, "allocate segment tail", rc);
		seg->tail = p;
	}
	memset(seg->tail, 0, STORE_DIO_ALIGN);
	/* Read before O_DIRECT is on: a buffered read needs no alignment. */
	uint64_t at = block_down(seg->end);
	if (seg->end > at &&
	    store_pread_full(seg->fd, seg->tail, (size_t)(seg->end - at),
			     at) < 0)
		return store_sys_fail(err, "read segment tail", errno);
	seg->direct = false;
	if (!direct)
		return 0;
	int fl = fcntl(seg->fd, F_GETFL);
	if (fl < 0)
		return store_sys_fail(err, "get segment flags", errno);
	if (dio_align_ok(seg->fd) &&
	    fcntl(seg->fd, F_SETFL, fl | O_DIRECT) == 0) {
		seg->direct = true;
		return 0;
	}
	/* EINVAL: the file system has no direct I/O (or wants larger
	 * blocks). Same blocks, through the page cache. */
	int e = errno;
	if (!atomic_exchange(&dio_refused_logged, true))
		log_warn("store", NULL, "op=segment-open segment=%u "
			 "error=\"no O_DIRECT: %s\" note=\"writing through "
			 "the page cache\"", (unsigned)seg->id,
			 e == EINVAL ? "refused by the file system"
				     : strerror(e));
	return 0;
}

/* buf[0, n) (n a multiple of the block) at off of seg. */
static int put_blocks(struct store_segment *seg, unsigned char *buf, size_t n,
		      uint64_t off, struct err *err)
{
	struct iovec v = { .iov_base = buf, .iov_len = n };
	return store_segment_write(seg->fd, off, &v, 1, err);
}

int store_segment_put(struct store_segment *seg, unsigned char *buf,
		      const struct iovec *iov, size_t iovcnt, uint64_t zeros,
		      unsigned char *tail_out, uint64_t *rec_end_out,
		      uint64_t *to_out, struct err *err)
{
	/* The buffer is flushed whenever it is full, so any group fits:
	 * STORE_WBUF_SIZE is a multiple of the block, and every write but
	 * the last is a full buffer at an aligned offset. */
	_Static_assert(STORE_WBUF_SIZE % STORE_DIO_ALIGN == 0,
		       "the write buffer is whole blocks");
	uint64_t off = block_down(seg->end);
	size_t fill = (size_t)(seg->end - off);
	memcpy(buf, seg->tail, fill);
	uint64_t rec_end = seg->end;
	for (size_t i = 0; i < iovcnt; i++) {
		const unsigned char *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;
		rec_end += left;
		while (left > 0) {
			size_t n = STORE_WBUF_SIZE - fill;
			if (n > left)
				n = left;
			memcpy(buf + fill, p, n);
			fill += n;
			p += n;
			left -= n;
			if (fill == STORE_WBUF_SIZE) {
				if (put_blocks(seg, buf, fill, off, err) < 0)
					return -1;
				off += fill;
				fill = 0;
			}
		}
	}
	/* rec_end - off == fill: the last block of the records is the
	 * partial block at the end of buf (if any) */
	size_t part = fill % STORE_DIO_ALIGN;
	memcpy(tail_out, buf + fill - part, part);
	memset(tail_out + part, 0, STORE_DIO_ALIGN - part);
	/* zeros, then padding to the block: recovery's walk stops at the
	 * first zero header, which is where the next group goes */
	uint64_t zleft = zeros + (block_up(rec_end + zeros) - (rec_end + zeros));
	while (zleft > 0) {
		size_t n = STORE_WBUF_SIZE - fill;
		if (n > zleft)
			n = (size_t)zleft;
		memset(buf + fill, 0, n);
		fill += n;
		zleft -= n;
		if (fill == STORE_WBUF_SIZE || zleft == 0) {
			if (put_blocks(seg, buf, fill, off, err) < 0)
				return -1;
			off += fill;
			fill = 0;
		}
	}
	if (fill > 0) {
		/* records ended on a block boundary with no zeros after */
		if (put_blocks(seg, buf, fill, off, err) < 0)
			return -1;
		off += fill;
	}
	*rec_end_out = rec_end;
	*to_out = off;
	return 0;
}

void store_segment_advance(struct store_segment *seg, uint64_t end,
			   uint64_t to, const unsigned char *tail)
{
	memcpy(seg->tail, tail, STORE_DIO_ALIGN);
	seg->end = end;
	if (seg->alloc < to)
		seg->alloc = to;
}

int store_segment_zero(struct store_segment *seg, uint64_t from, uint64_t to,
		       struct err *err)
{
	if (seg->direct) {
		/* never the block that holds end: the records in it are
		 * not in zero_block */
		if (from % STORE_DIO_ALIGN != 0 || from < block_up(seg->end))
			return store_sys_fail(err, "pre-allocate segment",
					      EINVAL);
		to = block_up(to);
	}
	return zero_fill(seg->fd, from, to, err);
}

int store_segment_rewind(struct store_segment *seg, uint64_t start,
			 uint64_t bytes, struct err *err)
{
	/* Within the pre-allocated part: zeros again. Past it (the group
	 * appended): cut the file back. Neither needs a new block, so a
	 * full disk does not stop it. In whole blocks: the block that holds
	 * start gets its old bytes back from seg->tail (zeros after start),
	 * the blocks after it zeros, up to the block end of what the group
	 * wrote or of the pre-allocated part, whichever is first. */
	if (start != seg->end)
		return store_sys_fail(err, "rewind segment", EINVAL);
	uint64_t keep = seg->alloc > start ? seg->alloc : start;
	uint64_t first = block_down(start);
	uint64_t zero_to = block_up(start + bytes) < block_up(keep)
				   ? block_up(start + bytes)
				   : block_up(keep);
	if (first < zero_to &&
	    (put_blocks(seg, seg->tail, STORE_DIO_ALIGN, first, err) < 0 ||
	     (first + STORE_DIO_ALIGN < zero_to &&
	      zero_fill(seg->fd, first + STORE_DIO_ALIGN, zero_to, err) < 0)))
		return -1;
	if (keep > (uint64_t)INT64_MAX || ftruncate(seg->fd, (off_t)keep) < 0)
		return store_sys_fail(err, "truncate segment", errno);
	if (fdatasync(seg->fd) < 0)
		return store_sys_fail(err, "sync segment", errno);
	return 0;
}

int store_segment_zero_tail(struct store_segment *seg, uint64_t from,
			    uint64_t to, bool *wrote_out, struct err *err)
{
	*wrote_out = false;
	unsigned char *buf = malloc(sizeof zero_block);
	if (buf == NULL)
		return store_sys_fail(err, "zero segment tail", ENOMEM);
	int rc = 0;
	while (from < to) {
		size_t n = to - from < sizeof zero_block ? (size_t)(to - from)
							 : sizeof zero_block;
		if (store_pread_full(seg->fd, buf, n, from) < 0) {
			rc = store_sys_fail(err, "read segment tail", errno);
			break;
		}
		if (memcmp(buf, zero_block, n) != 0) {
			if (zero_fill(seg->fd, from, from + n, err) < 0) {
				rc = -1;
				break;
			}
			*wrote_out = true;
		}
		from += n;
	}
	free(buf);
	return rc;
}

void store_segment_close(struct store_segment *seg)
{
	if (seg->fd >= 0) {
		/* Everything acknowledged was fdatasync'ed first, so a close
		 * error loses nothing we promised. */
		if (close(seg->fd) < 0)
			log_warn("store", NULL, "op=close-segment segment=%u "
				 "error=\"%s\"", (unsigned)seg->id,
				 strerror(errno));
		seg->fd = -1;
	}
	free(seg->tail);
	seg->tail = NULL;
	seg->direct = false;
}

int store_segment_open_read(int blobs_fd, uint32_t id)
{
	char name[16];
	segment_name(id, name);
	return openat(blobs_fd, name, O_RDONLY | O_CLOEXEC);
}

int store_pread_full(int fd, void *p, size_t n, uint64_t off)
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

int store_crc_range(int fd, uint64_t off, uint64_t n, uint32_t *crc_out)
{
	enum { SMALL = 4096, CHUNK = 65536 };
	if (n <= SMALL) {
		/* metadata and small messages: no allocation */
		unsigned char small[SMALL];
		if (store_pread_full(fd, small, (size_t)n, off) < 0)
			return -1;
		*crc_out = store_crc32c(0, small, (size_t)n);
		return 0;
	}
	unsigned char *chunk = malloc(CHUNK);
	if (chunk == NULL) {
		errno = ENOMEM;
		return -1;
	}
	uint32_t crc = 0;
	uint64_t done = 0;
	int rc = 0;
	while (done < n) {
		size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
		if (store_pread_full(fd, chunk, k, off + done) < 0) {
			rc = -1;
			break;
		}
		crc = store_crc32c(crc, chunk, k);
		done += k;
	}
	int e = errno;
	free(chunk);
	errno = e;
	if (rc == 0)
		*crc_out = crc;
	return rc;
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

static int record_read_fail(struct err *err, uint64_t offset, int errnum,
			    const char *short_why)
{
	return errnum == ENODATA ? record_corrupt(err, offset, short_why)
				 : record_io_fail(err, offset, errnum);
}

int store_record_read(int fd, uint32_t segment, uint64_t offset, uint64_t len,
		      unsigned char **data_out, struct err *err)
{
	unsigned char hdr[STORE_REC_HDR_SIZE];
	struct store_rec r;
	if (store_pread_full(fd, hdr, sizeof hdr, offset) < 0)
		return record_read_fail(err, offset, errno, "file too short");
	if (store_rec_decode(hdr, &r) < 0 || !STORE_REC_HAS_MESSAGE(&r))
		return record_corrupt(err, offset, "bad record header");
	if (r.segment != segment || r.offset != offset)
		return record_corrupt(err, offset, "record of another place");
	if (r.data_len != len)
		return record_corrupt(err, offset, "length differs from index");
	/* UNSAFE: offset <= INT64_MAX and meta + data <= 4 GiB + 3.2 MB by
	 * store_rec_decode; the sums below stay far from 2^64. */
	uint64_t meta_off = offset + STORE_REC_HDR_SIZE;
	uint64_t meta_len = store_rec_meta_len(&r);
	uint64_t data_off = meta_off + meta_len;
	if (data_off > (uint64_t)INT64_MAX || len > SIZE_MAX ||
	    len > (uint64_t)INT64_MAX - data_off)
		return record_corrupt(err, offset, "length out of range");
	uint32_t crc;
	if (store_crc_range(fd, meta_off, meta_len, &crc) < 0)
		return record_read_fail(err, offset, errno, "truncated");
	if (crc != r.meta_crc)
		return record_corrupt(err, offset, "metadata checksum mismatch");

	if (data_out == NULL) {
		if (store_crc_range(fd, data_off, len, &crc) < 0)
			return record_read_fail(err, offset, errno, "truncated");
		if (crc != r.data_crc)
			return record_corrupt(err, offset, "checksum mismatch");
		return 0;
	}
	unsigned char *p = malloc(len ? (size_t)len : 1);
	if (p == NULL)
		return record_io_fail(err, offset, ENOMEM);
	if (store_pread_full(fd, p, (size_t)len, data_off) < 0) {
		int e = errno;
		free(p);
		return record_read_fail(err, offset, e, "truncated");
	}
	if (store_crc32c(0, p, (size_t)len) != r.data_crc) {
		free(p);
		return record_corrupt(err, offset, "checksum mismatch");
	}
	*data_out = p;
	return 0;
}
