/* test_smtp_data.c - cmocka tests of src/smtp/smtp_data.c, the DATA/BDAT
 * body reader. Each input is fed whole, byte by byte and split at every
 * position (Dovecot style); every end-of-data smuggling variant of
 * ../shared/testdata/smtp-smuggling/eod-variants.yaml is read at run time
 * and must not end the data; size and line limits are tried at limit and
 * limit + 1; and random inputs are checked against a naive reference
 * decoder written here from RFC 5321 4.1.1.4, 4.5.2 and 2.3.8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "smtp/smtp_data.h"

#define B(s) s, sizeof(s) - 1
#define BIG_LINE 65536
#define BIG_SIZE (1u << 20)

/* ----- feeding --------------------------------------------------------- */

struct outcome {
	bool ended;
	size_t used;		/* bytes consumed in all (== len if !ended) */
	enum smtp_data_error error;
	uint64_t size;
	unsigned char *out;	/* copy of the output buffer */
	size_t out_len;
};

static void outcome_free(struct outcome *o)
{
	free(o->out);
	o->out = NULL;
}

/* Feed in[0..len) to a DATA reader in pieces cut at cuts[0..ncuts)
 * (increasing offsets). Each piece lives in an exactly sized heap block
 * so that ASan sees any read outside it. */
static struct outcome feed_data(const unsigned char *in, size_t len,
				const size_t *cuts, size_t ncuts,
				uint64_t max_size, size_t max_line, size_t buf_max)
{
	struct outcome o = { 0 };
	struct smtp_data d;
	struct buf out;
	buf_init(&out, buf_max);
	smtp_data_begin(&d, &out, max_size, max_line);
	size_t off = 0;
	for (size_t k = 0; k <= ncuts && !o.ended; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		size_t n = end - off;
		unsigned char *piece = malloc(n ? n : 1);
		assert_non_null(piece);
		memcpy(piece, in + off, n);
		size_t used = 12345;
		int rc = smtp_data_push(&d, piece, n, &used);
		free(piece);
		assert_true(rc == 0 || rc == 1);
		assert_true(used <= n);
		/* memory never holds more than the message may have */
		assert_true(out.len <= max_size);
		if (rc == 1) {
			o.ended = true;
			off += used;
			/* ended stays ended and consumes nothing more */
			size_t again = 99;
			assert_int_equal(smtp_data_push(&d, (const unsigned char *)"x", 1, &again), 1);
			assert_int_equal(again, 0);
		} else {
			assert_int_equal(used, n);
			off = end;
		}
	}
	o.used = off;
	o.error = d.error;
	o.size = d.size;
	o.out_len = out.len;
	o.out = malloc(out.len ? out.len : 1);
	assert_non_null(o.out);
	if (out.len)
		memcpy(o.out, out.data, out.len);
	buf_release(&out);
	return o;
}

static struct outcome feed_bdat(const unsigned char *in, size_t len,
				const size_t *cuts, size_t ncuts,
				uint64_t max_size, size_t max_line)
{
	struct outcome o = { 0 };
	struct smtp_data d;
	struct buf out;
	buf_init(&out, BIG_SIZE * 4);
	smtp_data_bdat_begin(&d, &out, max_size, max_line);
	size_t off = 0;
	for (size_t k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		size_t n = end - off;
		unsigned char *piece = malloc(n ? n : 1);
		assert_non_null(piece);
		memcpy(piece, in + off, n);
		smtp_data_bdat_push(&d, piece, n);
		free(piece);
		assert_true(out.len <= max_size);
		off = end;
	}
	smtp_data_bdat_end(&d);
	o.ended = true;
	o.used = len;
	o.error = d.error;
	o.size = d.size;
	o.out_len = out.len;
	o.out = malloc(out.len ? out.len : 1);
	assert_non_null(o.out);
	if (out.len)
		memcpy(o.out, out.data, out.len);
	buf_release(&out);
	return o;
}

/* ----- the reference decoder ------------------------------------------ */

/* Straight from the RFC text, one byte at a time with look-behind and
 * look-ahead on the whole input, no state machine: the end is the first
 * ".\r\n" at offset 0 or right after a "\r\n"; a bare CR/LF is a CR not
 * followed by LF or an LF not preceded by CR; lines start after "\r\n". */
static struct outcome ref_data(const unsigned char *in, size_t len,
			       uint64_t max_size, size_t max_line)
{
	struct outcome o = { 0 };
	size_t k;
	for (k = 0; k + 3 <= len; k++)
		if (in[k] == '.' && in[k + 1] == '\r' && in[k + 2] == '\n' &&
		    (k == 0 || (k >= 2 && in[k - 2] == '\r' && in[k - 1] == '\n')))
			break;
	assert_true(k + 3 <= len);	/* callers always end their input */
	o.ended = true;
	o.used = k + 3;
	o.out = malloc(k + 1);
	assert_non_null(o.out);
	size_t line = 0;
	bool bol = true, too_long = false;
	for (size_t i = 0; i < o.used; i++) {
		unsigned char c = in[i];
		if (o.error == SMTP_DATA_OK) {
			if (c == '\r' && in[i + 1] != '\n')
				o.error = SMTP_DATA_BARE_CR;
			if (c == '\n' && (i == 0 || in[i - 1] != '\r'))
				o.error = SMTP_DATA_BARE_LF;
		}
		if (i >= k)
			continue;
		if (bol && c == '.') {
			bol = false;
			continue;	/* stuffing */
		}
		bol = false;
		o.out[o.out_len++] = c;
		if (c == '\n' && i > 0 && in[i - 1] == '\r') {
			bol = true;
			line = 0;
		} else if (c != '\r' || in[i + 1] != '\n') {
			if (++line > max_line)
				too_long = true;
		}
	}
	o.size = o.out_len;
	if (o.error == SMTP_DATA_OK && o.out_len > max_size)
		o.error = SMTP_DATA_TOO_BIG;
	if (o.error == SMTP_DATA_OK && too_long)
		o.error = SMTP_DATA_LINE_TOO_LONG;
	return o;
}

static struct outcome ref_bdat(const unsigned char *in, size_t len,
			       uint64_t max_size, size_t max_line)
{
	struct outcome o = { 0 };
	o.ended = true;
	o.used = len;
	o.out = malloc(len + 1);
	assert_non_null(o.out);
	if (len)
		memcpy(o.out, in, len);
	o.out_len = len;
	o.size = len;
	size_t line = 0;
	bool too_long = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		if (o.error == SMTP_DATA_OK) {
			if (c == '\r' && (i + 1 == len || in[i + 1] != '\n'))
				o.error = SMTP_DATA_BARE_CR;
			if (c == '\n' && (i == 0 || in[i - 1] != '\r'))
				o.error = SMTP_DATA_BARE_LF;
		}
		if (c == '\n' && i > 0 && in[i - 1] == '\r')
			line = 0;
		else if (!(c == '\r' && i + 1 < len && in[i + 1] == '\n') &&
			 ++line > max_line)
			too_long = true;
	}
	if (o.error == SMTP_DATA_OK && len > max_size)
		o.error = SMTP_DATA_TOO_BIG;
	if (o.error == SMTP_DATA_OK && too_long)
		o.error = SMTP_DATA_LINE_TOO_LONG;
	return o;
}

static void print_bytes(const char *what, const unsigned char *p, size_t n)
{
	fprintf(stderr, "%s (%zu): \"", what, n);
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			fputc(p[i], stderr);
		else
			fprintf(stderr, "\\x%02x", p[i]);
	}
	fprintf(stderr, "\"\n");
}

/* got must match want: same end, error, and (when good) same bytes. What
 * a failed message left in out is unspecified (the caller drops it). */
static void expect_same(const char *how, const unsigned char *in, size_t len,
			const struct outcome *got, const struct outcome *want)
{
	bool ok = got->ended == want->ended && got->used == want->used &&
		  got->error == want->error;
	if (ok && want->error == SMTP_DATA_OK)
		ok = got->out_len == want->out_len && got->size == want->size &&
		     memcmp(got->out, want->out, want->out_len) == 0;
	if (!ok) {
		print_bytes("input", in, len);
		print_bytes("got out", got->out, got->out_len);
		print_bytes("want out", want->out, want->out_len);
		fail_msg("%s: ended %d/%d used %zu/%zu error %d/%d", how,
			 got->ended, want->ended, got->used, want->used,
			 got->error, want->error);
	}
}

/* Whole, byte by byte, at every single cut and (short inputs) every pair
 * of cuts: all must give want. */
static void check_all_splits(const unsigned char *in, size_t len,
			     const struct outcome *want, uint64_t max_size,
			     size_t max_line, bool bdat)
{
	struct outcome got;
#define RUN(how, cuts, n) do { \
		got = bdat ? feed_bdat(in, len, cuts, n, max_size, max_line) \
			   : feed_data(in, len, cuts, n, max_size, max_line, BIG_SIZE * 4); \
		expect_same(how, in, len, &got, want); \
		outcome_free(&got); \
	} while (0)

	RUN("whole", NULL, 0);
	size_t *cuts = malloc((len + 2) * sizeof *cuts);
	assert_non_null(cuts);
	for (size_t i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	RUN("byte by byte", cuts, len > 0 ? len - 1 : 0);
	for (size_t i = 0; i <= len; i++) {
		cuts[0] = i;
		RUN("one cut", cuts, 1);
	}
	if (len <= 48) {
		for (size_t i = 0; i <= len; i++)
			for (size_t j = i; j <= len; j++) {
				cuts[0] = i;
				cuts[1] = j;
				RUN("two cuts", cuts, 2);
			}
	}
	free(cuts);
#undef RUN
}

/* ----- DATA table ------------------------------------------------------ */

struct data_case {
	const char *in;
	size_t len;
	size_t used;		/* where the end of data is (0: not ended) */
	const char *out;
	size_t out_len;
	enum smtp_data_error error;
};

#define OKD(in, used, out) { B(in), used, B(out), SMTP_DATA_OK }
#define BADD(in, used, e) { B(in), used, B(""), e }

static const struct data_case data_cases[] = {
	OKD(".\r\n", 3, ""),
	OKD(".\r\nQUIT\r\n", 3, ""),
	OKD("a\r\n.\r\n", 6, "a\r\n"),
	OKD("a\r\n.\r\nMAIL FROM:<x@y.test>\r\n", 6, "a\r\n"),
	OKD("\r\n.\r\n", 5, "\r\n"),
	OKD("..\r\n.\r\n", 7, ".\r\n"),
	OKD("..x\r\n.\r\n", 8, ".x\r\n"),
	OKD(".x\r\n.\r\n", 7, "x\r\n"),
	OKD(". \r\n.\r\n", 7, " \r\n"),
	OKD("...\r\n.\r\n", 8, "..\r\n"),
	OKD("a\r\n..\r\n.\r\n", 10, "a\r\n.\r\n"),
	OKD("a\r\n.a\r\n.\r\n", 10, "a\r\na\r\n"),
	OKD("a.\r\n.\r\n", 7, "a.\r\n"),
	OKD("a\r\n .\r\n.\r\n", 10, "a\r\n .\r\n"),
	OKD("a\0b\r\n.\r\n", 8, "a\0b\r\n"),
	OKD("\0.\r\n.\r\n", 7, "\0.\r\n"),
	OKD("caf\xc3\xa9\r\n.\r\n", 10, "caf\xc3\xa9\r\n"),
	OKD("Subject: x\r\n\r\nbody\r\n\r\n.\r\n", 25, "Subject: x\r\n\r\nbody\r\n\r\n"),
	OKD("a\r\n.\r\n.\r\n", 6, "a\r\n"),
	/* not ended yet */
	OKD("a\r\n.\r", 0, "a\r\n"),
	OKD("a\r\n.", 0, "a\r\n"),
	OKD("a\r\n", 0, "a\r\n"),
	OKD("a\r", 0, "a\r"),
	OKD("", 0, ""),
	/* bare LF / CR: error, and only a true CRLF.CRLF ends */
	BADD("a\n.\n\r\n.\r\n", 9, SMTP_DATA_BARE_LF),
	BADD("a\r.\r\n.\r\n", 8, SMTP_DATA_BARE_CR),
	BADD("a\r\r\n.\r\n", 7, SMTP_DATA_BARE_CR),
	BADD("\n.\r\n.\r\n", 7, SMTP_DATA_BARE_LF),
	BADD("\n.\r\n\r\n.\r\n", 9, SMTP_DATA_BARE_LF),
	BADD(".\n.\r\n\r\n.\r\n", 10, SMTP_DATA_BARE_LF),
	BADD(".\r.\r\n", 0, SMTP_DATA_BARE_CR),
	BADD(".\r\r\n.\r\n", 7, SMTP_DATA_BARE_CR),
	BADD("a\nb\r\n.\r\n", 8, SMTP_DATA_BARE_LF),
	BADD("a\rb\r\n.\r\n", 8, SMTP_DATA_BARE_CR),
	BADD("a\n\r\n.\r\n", 7, SMTP_DATA_BARE_LF),
	BADD("a\r\n\n.\r\n", 0, SMTP_DATA_BARE_LF),
	BADD("a\r\n.\n", 0, SMTP_DATA_BARE_LF),
	BADD("a\r\n.\r.\r\n", 0, SMTP_DATA_BARE_CR),
	BADD("a\r\n.\rx\r\n.\r\n", 11, SMTP_DATA_BARE_CR),
	/* the first bare character decides which is named */
	BADD("\r\n\r\r\n.\r\n\n\r\n.\r\n", 8, SMTP_DATA_BARE_CR),
	BADD("x\nx\rx\r\n.\r\n", 10, SMTP_DATA_BARE_LF),
};

static void test_data_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof data_cases / sizeof *data_cases; i++) {
		const struct data_case *c = &data_cases[i];
		struct outcome want = { 0 };
		want.ended = c->used > 0;
		want.used = c->used > 0 ? c->used : c->len;
		want.error = c->error;
		want.out = (unsigned char *)(uintptr_t)c->out;
		want.out_len = c->out_len;
		want.size = c->out_len;
		if (want.ended) {
			/* the table and the reference decoder agree */
			struct outcome ref = ref_data((const unsigned char *)c->in,
						      c->len, BIG_SIZE, BIG_LINE);
			expect_same("table vs reference", (const unsigned char *)c->in,
				    c->len, &want, &ref);
			outcome_free(&ref);
		}
		check_all_splits((const unsigned char *)c->in, c->len, &want,
				 BIG_SIZE, BIG_LINE, false);
	}
}

/* "a\r\n.\n" is a bare LF after a stuffed dot, not an end: the data goes
 * on to the real end and fails. */
static void test_data_dot_lf(void **state)
{
	(void)state;
	static const char in[] = "a\r\n.\nMAIL FROM:<e@vil.test>\r\n.\r\nQUIT\r\n";
	struct outcome want = { .ended = true, .used = sizeof in - 1 - 6,
				.error = SMTP_DATA_BARE_LF };
	check_all_splits((const unsigned char *)in, sizeof in - 1, &want,
			 BIG_SIZE, BIG_LINE, false);
}

/* ----- eod-variants.yaml ------------------------------------------------ */

#define YAML_MAX (1u << 20)
#define SEQ_MAX 64

struct variant {
	char id[64];
	unsigned char seq[SEQ_MAX];
	size_t len;
};

static FILE *open_testdata(const char *rel)
{
	static const char *const roots[] = {
		"../shared/testdata", "../../shared/testdata",
		"../../../shared/testdata", "../../../../shared/testdata",
	};
	char path[1024];
	const char *env = getenv("PETREL_TESTDATA");
	if (env != NULL) {
		snprintf(path, sizeof path, "%s/%s", env, rel);
		return fopen(path, "rb");
	}
	for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
		snprintf(path, sizeof path, "%s/%s", roots[i], rel);
		FILE *f = fopen(path, "rb");
		if (f != NULL)
			return f;
	}
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A YAML double-quoted scalar starting after its opening quote; the
 * escapes the file uses (\r \n \0 \t \\ \" \xNN). -1 on anything else. */
static int yaml_dq(const char *s, unsigned char *out, size_t outsz, size_t *len)
{
	size_t n = 0;
	for (; *s != '"'; s++) {
		if (*s == '\0' || *s == '\n' || n == outsz)
			return -1;
		if (*s != '\\') {
			out[n++] = (unsigned char)*s;
			continue;
		}
		s++;
		switch (*s) {
		case 'r': out[n++] = '\r'; break;
		case 'n': out[n++] = '\n'; break;
		case '0': out[n++] = '\0'; break;
		case 't': out[n++] = '\t'; break;
		case '\\': out[n++] = '\\'; break;
		case '"': out[n++] = '"'; break;
		case 'x': {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
			if (lo < 0)
				return -1;
			out[n++] = (unsigned char)(hi * 16 + lo);
			s += 2;
			break;
		}
		default:
			return -1;
		}
	}
	*len = n;
	return 0;
}

static size_t load_variants(struct variant *v, size_t max)
{
	FILE *f = open_testdata("smtp-smuggling/eod-variants.yaml");
	if (f == NULL)
		fail_msg("cannot open ../shared/testdata/smtp-smuggling/eod-variants.yaml "
			 "(run from the repository root, or set PETREL_TESTDATA)");
	char *text = malloc(YAML_MAX + 1);
	assert_non_null(text);
	size_t n = fread(text, 1, YAML_MAX, f);
	fclose(f);
	text[n] = '\0';
	size_t count = 0;
	for (char *line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		char *seq = strstr(line, "sequence: \"");
		if (seq != NULL && line[strspn(line, " ")] != '#') {
			assert_true(count < max);
			struct variant *x = &v[count];
			memset(x, 0, sizeof *x);
			char *id = strstr(line, "id:");
			if (id != NULL) {
				id += 3;
				id += strspn(id, " ");
				size_t il = strcspn(id, ",}");
				snprintf(x->id, sizeof x->id, "%.*s", (int)il, id);
			}
			if (yaml_dq(seq + 11, x->seq, sizeof x->seq, &x->len) != 0)
				fail_msg("cannot parse the sequence of variant '%s'", x->id);
			assert_true(x->len > 0);
			count++;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return count;
}

static size_t append(unsigned char *dst, size_t off, const void *p, size_t n)
{
	memcpy(dst + off, p, n);
	return off + n;
}

static void test_eod_variants(void **state)
{
	(void)state;
	struct variant v[64];
	size_t nv = load_variants(v, 64);
	if (nv == 0)
		fail_msg("no 'sequence:' entries found in eod-variants.yaml");
	static const char head[] =
		"From: a@sender.test\r\nTo: b@ourdomain.test\r\nSubject: hi\r\n\r\nline one";
	static const char smuggled[] =
		"mail FROM:<smuggled@sender.test>\r\n"
		"rcpt TO:<victim@ourdomain.test>\r\n"
		"data\r\n"
		"From: smuggled@sender.test\r\n\r\nsmuggled body";
	static const char tail[] = "\r\n.\r\n";
	static const char next[] = "QUIT\r\n";

	for (size_t i = 0; i < nv; i++) {
		unsigned char msg[512];
		size_t len = 0;
		len = append(msg, len, head, sizeof head - 1);
		len = append(msg, len, v[i].seq, v[i].len);
		len = append(msg, len, smuggled, sizeof smuggled - 1);
		len = append(msg, len, tail, sizeof tail - 1);
		len = append(msg, len, next, sizeof next - 1);

		struct outcome want = ref_data(msg, len, BIG_SIZE, BIG_LINE);
		/* The variant must not end the data: the end is the real one. */
		if (want.used != len - (sizeof next - 1))
			fail_msg("variant %s: reference ends at %zu", v[i].id, want.used);
		/* A variant with a lone CR or LF fails the message; one without
		 * (NUL before the dot) is content, smuggled lines included. */
		bool lone = false;
		for (size_t k = 0; k < v[i].len; k++) {
			unsigned char c = v[i].seq[k];
			if ((c == '\r' && (k + 1 == v[i].len || v[i].seq[k + 1] != '\n')) ||
			    (c == '\n' && (k == 0 || v[i].seq[k - 1] != '\r')))
				lone = true;
		}
		if (lone)
			assert_true(want.error == SMTP_DATA_BARE_CR ||
				    want.error == SMTP_DATA_BARE_LF);
		else
			assert_int_equal(want.error, SMTP_DATA_OK);

		struct outcome got = feed_data(msg, len, NULL, 0, BIG_SIZE, BIG_LINE,
					       BIG_SIZE);
		expect_same(v[i].id, msg, len, &got, &want);
		if (got.error == SMTP_DATA_OK)
			assert_non_null(memmem(got.out, got.out_len, "mail FROM:<smuggled", 19));
		/* what is left for the command reader is the next command only */
		assert_memory_equal(msg + got.used, next, sizeof next - 1);
		outcome_free(&got);

		check_all_splits(msg, len, &want, BIG_SIZE, BIG_LINE, false);
		outcome_free(&want);
	}
	print_message("%zu eod variants checked\n", nv);
}

/* ----- limits ----------------------------------------------------------- */

static void test_line_limit(void **state)
{
	(void)state;
	const size_t max = 10;
	struct outcome want;
	/* exactly max octets, CRLF not counted */
	static const char at[] = "0123456789\r\n.\r\n";
	want = ref_data((const unsigned char *)at, sizeof at - 1, BIG_SIZE, max);
	assert_int_equal(want.error, SMTP_DATA_OK);
	check_all_splits((const unsigned char *)at, sizeof at - 1, &want, BIG_SIZE, max, false);
	outcome_free(&want);
	/* a stuffed dot is not counted: the line decodes to max octets */
	static const char dot[] = "..123456789\r\n.\r\n";
	want = ref_data((const unsigned char *)dot, sizeof dot - 1, BIG_SIZE, max);
	assert_int_equal(want.error, SMTP_DATA_OK);
	check_all_splits((const unsigned char *)dot, sizeof dot - 1, &want, BIG_SIZE, max, false);
	outcome_free(&want);
	/* max + 1 */
	static const char over[] = "x\r\n0123456789A\r\nok\r\n.\r\nQUIT\r\n";
	want = ref_data((const unsigned char *)over, sizeof over - 1, BIG_SIZE, max);
	assert_int_equal(want.error, SMTP_DATA_LINE_TOO_LONG);
	assert_int_equal(want.used, sizeof over - 1 - 6);
	check_all_splits((const unsigned char *)over, sizeof over - 1, &want, BIG_SIZE, max, false);
	outcome_free(&want);

	struct outcome got = feed_data((const unsigned char *)over, sizeof over - 1,
				       NULL, 0, BIG_SIZE, max, BIG_SIZE);
	struct smtp_data d = { .error = got.error, .max_line = max };
	struct err e;
	assert_int_equal(smtp_data_result(&d, &e), -1);
	assert_int_equal(e.reply, 554);
	assert_string_equal(e.esc, "5.6.0");
	assert_non_null(strstr(e.msg, "line too long"));
	outcome_free(&got);

	/* BDAT: the same limit, across chunks */
	static const char b_at[] = "0123456789\r\n0123456789";
	want = ref_bdat((const unsigned char *)b_at, sizeof b_at - 1, BIG_SIZE, max);
	assert_int_equal(want.error, SMTP_DATA_OK);
	check_all_splits((const unsigned char *)b_at, sizeof b_at - 1, &want, BIG_SIZE, max, true);
	outcome_free(&want);
	static const char b_over[] = "0123456789\r\n0123456789A";
	want = ref_bdat((const unsigned char *)b_over, sizeof b_over - 1, BIG_SIZE, max);
	assert_int_equal(want.error, SMTP_DATA_LINE_TOO_LONG);
	check_all_splits((const unsigned char *)b_over, sizeof b_over - 1, &want, BIG_SIZE, max, true);
	outcome_free(&want);
}

static void test_size_limit(void **state)
{
	(void)state;
	/* decoded: "ab\r\n.c\r\n" = 8 octets (the stuffed dot is not counted) */
	static const char in[] = "ab\r\n..c\r\n.\r\nQUIT\r\n";
	const size_t len = sizeof in - 1;
	struct outcome want = ref_data((const unsigned char *)in, len, 8, BIG_LINE);
	assert_int_equal(want.error, SMTP_DATA_OK);
	assert_int_equal(want.out_len, 8);
	check_all_splits((const unsigned char *)in, len, &want, 8, BIG_LINE, false);
	outcome_free(&want);

	want = ref_data((const unsigned char *)in, len, 7, BIG_LINE);
	assert_int_equal(want.error, SMTP_DATA_TOO_BIG);
	/* reading goes on to the end, so QUIT is still a command */
	assert_int_equal(want.used, len - 6);
	check_all_splits((const unsigned char *)in, len, &want, 7, BIG_LINE, false);
	outcome_free(&want);

	struct outcome got = feed_data((const unsigned char *)in, len, NULL, 0, 7,
				       BIG_LINE, BIG_SIZE);
	assert_int_equal(got.size, 8);	/* counted, though not kept */
	struct smtp_data d = { .error = got.error };
	struct err e;
	assert_int_equal(smtp_data_result(&d, &e), -1);
	assert_int_equal(e.reply, 552);
	assert_string_equal(e.esc, "5.3.4");
	outcome_free(&got);

	/* an out buffer smaller than max_size: a full buffer is "too big" */
	got = feed_data((const unsigned char *)in, len, NULL, 0, 100, BIG_LINE, 8);
	assert_int_equal(got.error, SMTP_DATA_OK);
	outcome_free(&got);
	got = feed_data((const unsigned char *)in, len, NULL, 0, 100, BIG_LINE, 7);
	assert_int_equal(got.error, SMTP_DATA_TOO_BIG);
	assert_int_equal(got.used, len - 6);
	outcome_free(&got);

	/* BDAT at the limit and over it, chunks of any size */
	static const char b[] = "0123456789\r\n";
	want = ref_bdat((const unsigned char *)b, sizeof b - 1, 12, BIG_LINE);
	assert_int_equal(want.error, SMTP_DATA_OK);
	check_all_splits((const unsigned char *)b, sizeof b - 1, &want, 12, BIG_LINE, true);
	outcome_free(&want);
	want = ref_bdat((const unsigned char *)b, sizeof b - 1, 11, BIG_LINE);
	assert_int_equal(want.error, SMTP_DATA_TOO_BIG);
	check_all_splits((const unsigned char *)b, sizeof b - 1, &want, 11, BIG_LINE, true);
	outcome_free(&want);
}

/* Several errors at once: the reply names the worst, whatever the split. */
static void test_error_precedence(void **state)
{
	(void)state;
	static const char in[] = "0123456789AB\r\nx\ny\r\n.\r\n";
	const size_t len = sizeof in - 1;
	struct outcome want = ref_data((const unsigned char *)in, len, 5, 10);
	assert_int_equal(want.error, SMTP_DATA_BARE_LF);
	check_all_splits((const unsigned char *)in, len, &want, 5, 10, false);
	outcome_free(&want);
	want = ref_data((const unsigned char *)"0123456789AB\r\n.\r\n", 17, 5, 10);
	assert_int_equal(want.error, SMTP_DATA_TOO_BIG);
	check_all_splits((const unsigned char *)"0123456789AB\r\n.\r\n", 17, &want, 5, 10, false);
	outcome_free(&want);
}

/* ----- BDAT ------------------------------------------------------------- */

struct bdat_case {
	const char *in;
	size_t len;
	enum smtp_data_error error;
};

static const struct bdat_case bdat_cases[] = {
	{ B(""), SMTP_DATA_OK },
	{ B("a\r\nb\r\n"), SMTP_DATA_OK },
	{ B("..\r\n.\r\n"), SMTP_DATA_OK },	/* no unstuffing, no end */
	{ B("a\r\n.\r\nMAIL FROM:<x@y.test>\r\n"), SMTP_DATA_OK },
	{ B("a\0b"), SMTP_DATA_OK },
	{ B("no final CRLF"), SMTP_DATA_OK },
	{ B("a\r"), SMTP_DATA_BARE_CR },	/* CR pending at LAST */
	{ B("a\rb"), SMTP_DATA_BARE_CR },
	{ B("a\r\r\n"), SMTP_DATA_BARE_CR },
	{ B("\n"), SMTP_DATA_BARE_LF },
	{ B("a\n.\nb"), SMTP_DATA_BARE_LF },
	{ B("a\r\n\n"), SMTP_DATA_BARE_LF },
};

static void test_bdat_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bdat_cases / sizeof *bdat_cases; i++) {
		const struct bdat_case *c = &bdat_cases[i];
		const unsigned char *in = (const unsigned char *)c->in;
		struct outcome want = ref_bdat(in, c->len, BIG_SIZE, BIG_LINE);
		if (want.error != c->error)
			fail_msg("case %zu: reference says %d", i, want.error);
		check_all_splits(in, c->len, &want, BIG_SIZE, BIG_LINE, true);
		outcome_free(&want);
	}
}

static void test_bdat_after_end(void **state)
{
	(void)state;
	struct smtp_data d;
	struct buf out;
	struct err e;
	buf_init(&out, 100);
	smtp_data_bdat_begin(&d, &out, 100, 100);
	smtp_data_bdat_push(&d, (const unsigned char *)"ab\r", 3);
	smtp_data_bdat_push(&d, (const unsigned char *)"\n", 1);
	smtp_data_bdat_end(&d);
	assert_int_equal(smtp_data_result(&d, &e), 0);
	assert_int_equal(out.len, 4);
	smtp_data_bdat_push(&d, (const unsigned char *)"zz", 2);	/* ignored */
	assert_int_equal(out.len, 4);
	assert_int_equal(d.size, 4);

	smtp_data_bdat_begin(&d, &out, 100, 100);
	buf_reset(&out);
	smtp_data_bdat_push(&d, (const unsigned char *)"ab\r", 3);
	smtp_data_bdat_end(&d);
	assert_int_equal(smtp_data_result(&d, &e), -1);
	assert_int_equal(e.reply, 554);
	assert_string_equal(e.esc, "5.6.0");
	assert_non_null(strstr(e.msg, "bare CR"));
	buf_release(&out);
}

static void test_result_messages(void **state)
{
	(void)state;
	struct smtp_data d = { 0 };
	struct err e;
	d.error = SMTP_DATA_BARE_LF;
	assert_int_equal(smtp_data_result(&d, &e), -1);
	assert_int_equal(e.reply, 554);
	assert_string_equal(e.esc, "5.6.0");
	assert_non_null(strstr(e.msg, "bare LF"));
	d.error = SMTP_DATA_BARE_CR;
	assert_int_equal(smtp_data_result(&d, &e), -1);
	assert_non_null(strstr(e.msg, "bare CR"));
	d.error = SMTP_DATA_OK;
	assert_int_equal(smtp_data_result(&d, &e), 0);
}

/* The session puts a trace header in out before the body: it stays, and
 * max_size counts the body alone. */
static void test_prefix_kept(void **state)
{
	(void)state;
	static const char trace[] = "Received: from x by y\r\n";
	static const char body[] = "Subject: s\r\n\r\nhello\r\n.\r\n";
	const size_t tl = sizeof trace - 1, bl = sizeof body - 1;
	struct smtp_data d;
	struct buf out;
	struct err e;
	size_t used;

	buf_init(&out, tl + 100);
	assert_int_equal(buf_append(&out, trace, tl), 0);
	smtp_data_begin(&d, &out, 100, 1000);
	assert_int_equal(smtp_data_push(&d, (const unsigned char *)body, bl, &used), 1);
	assert_int_equal(used, bl);
	assert_int_equal(smtp_data_result(&d, &e), 0);
	assert_int_equal(out.len, tl + bl - 3);
	assert_memory_equal(out.data, trace, tl);
	assert_memory_equal(out.data + tl, body, bl - 3);
	assert_true(d.size == bl - 3);

	/* the body is one octet over: refused, the trace still there and
	 * nothing past max_size held */
	buf_reset(&out);
	assert_int_equal(buf_append(&out, trace, tl), 0);
	smtp_data_begin(&d, &out, bl - 4, 1000);
	for (size_t i = 0; i < bl; i++) {
		int rc = smtp_data_push(&d, (const unsigned char *)body + i, 1, &used);
		assert_int_equal(rc, i + 1 == bl);
		assert_true(out.len <= tl + bl - 4);
	}
	assert_int_equal(smtp_data_result(&d, &e), -1);
	assert_int_equal(e.reply, 552);
	assert_memory_equal(out.data, trace, tl);
	buf_release(&out);
}

/* ----- random inputs against the reference ------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void random_cuts(size_t len, size_t *cuts, size_t *ncuts)
{
	size_t n = 0, at = 0;
	while (at < len) {
		at += 1 + rng() % 5;
		if (at < len)
			cuts[n++] = at;
	}
	*ncuts = n;
}

static void test_random_vs_reference(void **state)
{
	(void)state;
	static const unsigned char alphabet[] = { '\r', '\n', '.', 'a', '\0', '\r', '\n', '.' };
	unsigned char in[64];
	size_t cuts[64], ncuts;
	for (int iter = 0; iter < 40000; iter++) {
		size_t len = rng() % 24;
		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rng() % sizeof alphabet];
		uint64_t max_size = (rng() % 4) ? BIG_SIZE : rng() % 24;
		size_t max_line = (rng() % 4) ? BIG_LINE : rng() % 8;
		bool bdat = rng() % 3 == 0;
		if (!bdat) {
			memcpy(in + len, "\r\n.\r\nNEXT", 9);
			len += 9;
		}
		struct outcome want = bdat ? ref_bdat(in, len, max_size, max_line)
					   : ref_data(in, len, max_size, max_line);
		random_cuts(len, cuts, &ncuts);
		struct outcome got = bdat ? feed_bdat(in, len, cuts, ncuts, max_size, max_line)
					  : feed_data(in, len, cuts, ncuts, max_size, max_line,
						      BIG_SIZE);
		expect_same("random", in, len, &got, &want);
		outcome_free(&got);
		got = bdat ? feed_bdat(in, len, NULL, 0, max_size, max_line)
			   : feed_data(in, len, NULL, 0, max_size, max_line, BIG_SIZE);
		expect_same("random whole", in, len, &got, &want);
		outcome_free(&got);
		outcome_free(&want);
	}
}

/* ----- a 100 KB message ------------------------------------------------- */

static void test_large_message(void **state)
{
	(void)state;
	const size_t target = 100 * 1024;
	unsigned char *wire = malloc(target * 2);
	unsigned char *expect = malloc(target * 2);
	assert_non_null(wire);
	assert_non_null(expect);
	size_t wl = 0, el = 0;
	for (size_t line = 0; el < target; line++) {
		char text[80];
		int n = snprintf(text, sizeof text, "%s%05zu %s", line % 7 == 0 ? "." : "",
				 line, "the quick brown fox jumps over the lazy dog 0123456789");
		assert_true(n > 0 && (size_t)n < sizeof text);
		if (text[0] == '.')
			wire[wl++] = '.';	/* stuffed */
		memcpy(wire + wl, text, (size_t)n);
		memcpy(expect + el, text, (size_t)n);
		wl += (size_t)n;
		el += (size_t)n;
		memcpy(wire + wl, "\r\n", 2);
		memcpy(expect + el, "\r\n", 2);
		wl += 2;
		el += 2;
	}
	memcpy(wire + wl, ".\r\n", 3);
	wl += 3;

	struct outcome want = { .ended = true, .used = wl, .error = SMTP_DATA_OK,
				.out = expect, .out_len = el, .size = el };
	struct outcome got = feed_data(wire, wl, NULL, 0, SMTP_MAX_MESSAGE_DEFAULT,
				       1000, BIG_SIZE);
	expect_same("100 KB whole", wire, 0, &got, &want);
	outcome_free(&got);
	/* as a socket would hand it over: 4 KiB reads */
	size_t cuts[64], nc = 0;
	for (size_t at = 4096; at < wl; at += 4096)
		cuts[nc++] = at;
	got = feed_data(wire, wl, cuts, nc, SMTP_MAX_MESSAGE_DEFAULT, 1000, BIG_SIZE);
	expect_same("100 KB in 4 KiB reads", wire, 0, &got, &want);
	outcome_free(&got);
	free(wire);
	free(expect);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_table),
		cmocka_unit_test(test_data_dot_lf),
		cmocka_unit_test(test_eod_variants),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_error_precedence),
		cmocka_unit_test(test_bdat_table),
		cmocka_unit_test(test_bdat_after_end),
		cmocka_unit_test(test_result_messages),
		cmocka_unit_test(test_prefix_kept),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_large_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
