/* mime_date.c - RFC 5322 3.3 date-time to Unix time and zone, with the
 * obsolete forms of 4.3 (two- and three-digit years, zone names, military
 * zones as -0000) and what real mail adds: missing seconds or weekday,
 * comments anywhere, a numeric month, a Received-style "...; date". */
#include "mime/mime_private.h"

#include <string.h>

struct tok {
	struct span s;
	bool num;
};

/* Next token: a run of digits, a run of letters, a signed zone, or a
 * time "h:m[:s]"; separators (white space, comments, ',', '.') skipped. */
static bool next_tok(struct span v, size_t *i, struct tok *t)
{
	for (;;) {
		mime_skip_cfws(v, i, NULL);
		if (*i < v.len && (v.p[*i] == ',' || v.p[*i] == '.')) {
			(*i)++;
			continue;
		}
		break;
	}
	if (*i >= v.len)
		return false;
	size_t s = *i;
	unsigned char c = v.p[s];
	size_t k = s + 1;
	if (c >= '0' && c <= '9') {
		while (k < v.len && ((v.p[k] >= '0' && v.p[k] <= '9') || v.p[k] == ':'))
			k++;
		t->num = true;
	} else if (c == '+' || c == '-') {
		while (k < v.len && v.p[k] >= '0' && v.p[k] <= '9')
			k++;
		t->num = false;
	} else {
		while (k < v.len && !mime_is_wsp(v.p[k]) && v.p[k] != ',' &&
		       v.p[k] != '(' && !(v.p[k] >= '0' && v.p[k] <= '9') &&
		       v.p[k] != '+' && v.p[k] != '-')
			k++;
		t->num = false;
	}
	*i = k;
	t->s = span_make(v.p + s, k - s);
	return true;
}

static bool parse_uint(struct span s, unsigned *out)
{
	if (s.len == 0 || s.len > 9)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	*out = v;
	return true;
}

static int month_of(struct span s)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	if (s.len < 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (mime_lower(s.p[0]) == names[m * 3] &&
		    mime_lower(s.p[1]) == names[m * 3 + 1] &&
		    mime_lower(s.p[2]) == names[m * 3 + 2])
			return m + 1;
	return 0;
}

/* RFC 5322 4.3 zone names, in minutes east of UTC. */
static bool zone_of(struct span s, int *zone)
{
	static const struct {
		const char *name;
		int min;
	} zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 },
		{ "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 },
	};
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		size_t n = strlen(zones[i].name);
		if (s.len >= n && span_prefix_ci(s, zones[i].name)) {
			*zone = zones[i].min;
			return true;
		}
	}
	/* Military and unknown zones: "-0000", no information. */
	*zone = 0;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int mime_date_parse(struct span v, int64_t *time_out, int *zone_out)
{
	/* Received fields and some broken Date fields carry text before
	 * "; date" (RFC 5321 4.4). */
	for (size_t k = v.len; k > 0; k--)
		if (v.p[k - 1] == ';') {
			v = span_make(v.p + k, v.len - k);
			break;
		}
	size_t i = 0;
	struct tok t;
	unsigned day = 0, month = 0, year = 0, hh = 0, mm = 0, ss = 0;
	bool have_day = false, have_month = false, have_year = false,
	     have_time = false, have_zone = false;
	int zone = 0;
	int ntok = 0;

	while (next_tok(v, &i, &t) && ntok++ < 32) {
		if (t.num && memchr(t.s.p, ':', t.s.len) != NULL) {
			if (have_time)
				break;
			/* h:m[:s] */
			const unsigned char *c1 = memchr(t.s.p, ':', t.s.len);
			size_t a = (size_t)(c1 - t.s.p);
			struct span rest = span_make(c1 + 1, t.s.len - a - 1);
			const unsigned char *c2 = memchr(rest.p, ':', rest.len);
			struct span sm = rest, sss = span_make("0", 1);
			if (c2 != NULL) {
				sm = span_make(rest.p, (size_t)(c2 - rest.p));
				sss = span_make(c2 + 1, rest.len - sm.len - 1);
			}
			if (!parse_uint(span_make(t.s.p, a), &hh) ||
			    !parse_uint(sm, &mm) || !parse_uint(sss, &ss))
				return -1;
			have_time = true;
			continue;
		}
		if (t.num) {
			unsigned n;
			if (!parse_uint(t.s, &n))
				return -1;
			if (!have_day) {
				day = n;
				have_day = true;
			} else if (!have_month) {
				/* obs: a numeric month. */
				if (n < 1 || n > 12)
					return -1;
				month = n;
				have_month = true;
			} else if (!have_year) {
				year = n;
				if (t.s.len <= 2)
					year += n < 50 ? 2000 : 1900;
				else if (t.s.len == 3)
					year += 1900;
				have_year = true;
			} else if (have_time && !have_zone && t.s.len == 4) {
				have_zone = true;	/* "0200" without sign */
				zone = (int)(n / 100 * 60 + n % 100);
			}
			continue;
		}
		if (t.s.p[0] == '+' || t.s.p[0] == '-') {
			unsigned n;
			if (!have_time || have_zone)
				continue;
			if (!parse_uint(span_make(t.s.p + 1, t.s.len - 1), &n) ||
			    t.s.len != 5 || n % 100 > 59)
				return -1;
			zone = (int)(n / 100 * 60 + n % 100);
			if (t.s.p[0] == '-')
				zone = -zone;
			have_zone = true;
			continue;
		}
		/* A word: a month, a weekday, or a zone name after the time. */
		int m = month_of(t.s);
		if (!have_month && have_day && t.s.len >= 3) {
			if (m == 0)
				return -1;
			month = (unsigned)m;
			have_month = true;
			continue;
		}
		if (!have_day && m != 0 && !have_month && t.s.len >= 3) {
			month = (unsigned)m;	/* asctime: "Jul  1 ..." */
			have_month = true;
			continue;
		}
		if (have_time && !have_zone) {
			have_zone = zone_of(t.s, &zone);
			continue;
		}
	}
	if (!have_day || !have_month || !have_year || !have_time)
		return -1;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 ||
	    year < 1000 || year > 9999)
		return -1;
	int64_t days = days_from_civil(year, month, day);
	*time_out = days * 86400 + (int64_t)hh * 3600 + mm * 60 + ss -
		    (int64_t)zone * 60;
	*zone_out = zone;
	return 0;
}
