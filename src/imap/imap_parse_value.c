/* imap_parse_value.c - numbers, dates, date-times and flag lists read out
 * of a parsed IMAP command (RFC 9051 9 formal syntax). Mailbox names and
 * modified UTF-7 are in imap_parse_mailbox.c. */
#include "imap/imap_parse_value.h"

#include <string.h>

/* ----- numbers ------------------------------------------------------------ */

static int parse_digits(struct span s, uint64_t max, uint64_t *out)
{
	if (s.len == 0 || (s.len > 1 && s.p[0] == '0'))
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		unsigned d = (unsigned)(s.p[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int imap_parse_number(struct span s, uint32_t *out)
{
	uint64_t v;
	if (parse_digits(s, UINT32_MAX, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int imap_parse_nz_number(struct span s, uint32_t *out)
{
	uint32_t v;
	if (imap_parse_number(s, &v) != 0 || v == 0)
		return -1;
	*out = v;
	return 0;
}

int imap_parse_number64(struct span s, uint64_t *out)
{
	return parse_digits(s, (uint64_t)INT64_MAX, out);
}

/* ----- dates ------------------------------------------------------------ */

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int month_of(struct span s)
{
	for (int m = 0; m < 12; m++)
		if (span_eq_ci(s, months[m]))
			return m + 1;
	return 0;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return (m == 2 && leap(y)) ? 29 : dm[m - 1];
}

/* n decimal digits at s.p[*i], advancing *i; -1 if not all digits. */
static int take_digits(struct span s, size_t *i, size_t n, int *out)
{
	if (s.len - *i < n)
		return -1;
	int v = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = s.p[*i + k];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*i += n;
	*out = v;
	return 0;
}

/* date-day "-" date-month "-" date-year, from s.p[*i]. fixed: the day is
 * two characters, the first maybe a space (date-day-fixed). */
static int parse_date_text(struct span s, size_t *i, bool fixed,
			   struct imap_date *d)
{
	int day = 0;
	if (fixed) {
		if (s.len - *i >= 2 && s.p[*i] == ' ') {
			(*i)++;
			if (take_digits(s, i, 1, &day) != 0)
				return -1;
		} else if (take_digits(s, i, 2, &day) != 0) {
			return -1;
		}
	} else {
		/* date-day = 1*2DIGIT */
		if (take_digits(s, i, 1, &day) != 0)
			return -1;
		int second;
		size_t j = *i;
		if (take_digits(s, &j, 1, &second) == 0) {
			day = day * 10 + second;
			*i = j;
		}
	}
	if (s.len - *i < 5 || s.p[*i] != '-' || s.p[*i + 4] != '-')
		return -1;
	int m = month_of(span_make(s.p + *i + 1, 3));
	if (m == 0)
		return -1;
	*i += 5;
	int y;
	if (take_digits(s, i, 4, &y) != 0)
		return -1;
	if (day < 1 || day > days_in_month(y, m))
		return -1;
	d->year = y;
	d->month = m;
	d->day = day;
	return 0;
}

int imap_parse_date(const struct imap_arg *arg, struct imap_date *out,
		    struct err *err)
{
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_STRING)
		return err_set(err, ERR_PEER, 0, "", "Invalid date");
	size_t i = 0;
	if (parse_date_text(arg->str, &i, false, out) != 0 || i != arg->str.len)
		return err_set(err, ERR_PEER, 0, "", "Invalid date");
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t imap_date_unix(const struct imap_date *d)
{
	return days_from_civil(d->year, d->month, d->day) * 86400;
}

int imap_parse_datetime(const struct imap_arg *arg, int64_t *unix_out,
			int *zone_out, struct err *err)
{
	struct span s;
	if ((arg->type != IMAP_ARG_STRING && arg->type != IMAP_ARG_LITERAL) ||
	    !imap_arg_astring(arg, &s))
		return err_set(err, ERR_PEER, 0, "", "Invalid date-time");
	struct imap_date d;
	size_t i = 0;
	int hh = 0, mm = 0, ss = 0, zh = 0, zm = 0;
	if (parse_date_text(s, &i, true, &d) != 0 ||
	    s.len - i != 15 || s.p[i] != ' ' || s.p[i + 3] != ':' ||
	    s.p[i + 6] != ':' || s.p[i + 9] != ' ' ||
	    (s.p[i + 10] != '+' && s.p[i + 10] != '-'))
		return err_set(err, ERR_PEER, 0, "", "Invalid date-time");
	size_t j = i + 1;
	int ok = take_digits(s, &j, 2, &hh);
	j++;
	ok |= take_digits(s, &j, 2, &mm);
	j++;
	ok |= take_digits(s, &j, 2, &ss);
	j += 2;
	ok |= take_digits(s, &j, 2, &zh);
	ok |= take_digits(s, &j, 2, &zm);
	/* RFC 9051 9 time = 2DIGIT ":" 2DIGIT ":" 2DIGIT; a leap second 60
	 * is let through as clients copy it from Date: headers */
	if (ok != 0 || hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
		return err_set(err, ERR_PEER, 0, "", "Invalid date-time");
	int zone = zh * 60 + zm;
	if (s.p[i + 10] == '-')
		zone = -zone;
	*unix_out = imap_date_unix(&d) + hh * 3600 + mm * 60 + ss -
		    (int64_t)zone * 60;
	if (zone_out != NULL)
		*zone_out = zone;
	return 0;
}

/* ----- flags ------------------------------------------------------------ */

static const struct {
	const char *name;
	unsigned bit;
} sysflags[] = {
	{ "\\Seen", IMAP_FLAG_SEEN },
	{ "\\Answered", IMAP_FLAG_ANSWERED },
	{ "\\Flagged", IMAP_FLAG_FLAGGED },
	{ "\\Deleted", IMAP_FLAG_DELETED },
	{ "\\Draft", IMAP_FLAG_DRAFT },
};

static bool keyword_char(unsigned char c)
{
	/* ATOM-CHAR (RFC 9051 9): what our reader lets into atoms, less
	 * list-wildcards, quoted-specials and resp-specials */
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	       c != '%' && c != '*' && c != '"' && c != '\\' && c != ']';
}

static int flag_one(const struct imap_arg *f, struct imap_flags *out,
		    struct span *kw, struct err *err)
{
	if (f->type != IMAP_ARG_ATOM && f->type != IMAP_ARG_NIL)
		return err_set(err, ERR_PEER, 0, "", "Invalid flag");
	struct span s = f->str;
	if (s.len > 0 && s.p[0] == '\\') {
		for (size_t k = 0; k < sizeof sysflags / sizeof sysflags[0]; k++) {
			if (span_eq_ci(s, sysflags[k].name)) {
				out->system |= sysflags[k].bit;
				return 0;
			}
		}
		return err_set(err, ERR_PEER, 0, "", "Invalid system flag %.40s",
			       (const char *)s.p);
	}
	for (size_t k = 0; k < s.len; k++)
		if (!keyword_char(s.p[k]))
			return err_set(err, ERR_PEER, 0, "", "Invalid keyword");
	kw[out->nkeywords++] = s;
	return 0;
}

int imap_parse_flags(const struct imap_arg *args, size_t n,
		     struct imap_arena *a, struct imap_flags *out,
		     struct err *err)
{
	memset(out, 0, sizeof *out);
	if (n == 1 && args[0].type == IMAP_ARG_LIST) {
		n = args[0].list_len;
		args = args[0].list;
	}
	if (n == 0)
		return 0;
	struct span *kw = imap_arena_calloc(a, n, sizeof *kw);
	if (kw == NULL)
		return err_set(err, ERR_LIMIT, 0, "", "Command too complex");
	for (size_t i = 0; i < n; i++)
		if (flag_one(&args[i], out, kw, err) != 0)
			return -1;
	out->keywords = kw;
	return 0;
}
