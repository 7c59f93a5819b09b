/* rep_feed.c - URL feed files into a set of hashes: URLhaus' plain URL
 * list and CSV dump ('#' comments, a commented header naming the "url"
 * column), PhishTank's CSV (header "phish_id,url,...") and JSON array of
 * objects with "url". The format is told from the first line that is
 * not a comment. Feed URLs go through filter_url_normalise, as the
 * message's do, so one site has one spelling on both sides. A bad line
 * or object is skipped and counted; only a file that is not a feed at
 * all (bad JSON, no good line) fails. */
#include "filter/rep_private.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/xmalloc.h"
#include "filter/token.h"
#include "msgauth/dmarc.h"

void rep_feed_init(struct rep_feed *f)
{
	memset(f, 0, sizeof *f);
}

void rep_feed_free(struct rep_feed *f)
{
	free(f->url);
	free(f->host);
	memset(f, 0, sizeof *f);
}

static void push(uint64_t **v, size_t *n, size_t *cap, uint64_t h)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*n)++] = h;
}

static uint64_t hash_str(const char *s)
{
	return filter_token_hash(s, strlen(s));
}

/* A host name standing alone on a line ("evil.example"): letters,
 * digits, '-', '.', '_' and at least one dot. */
static bool bare_host(struct span s)
{
	bool dot = false;

	if (s.len == 0 || s.len > 253)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = s.p[i];

		if (c == '.')
			dot = true;
		else if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
			 !(c >= '0' && c <= '9') && c != '-' && c != '_' &&
			 c < 0x80)
			return false;
	}
	return dot;
}

/* The normalised URL of a feed entry, a bare host read as http://host/.
 * 0 and *u (clear it), -1 when it is neither. */
static int normalise(struct span s, struct filter_url *u)
{
	char b[FILTER_REP_FEED_LINE_MAX + 8];

	s = span_trim(s);
	if (s.len == 0)
		return -1;
	if (filter_url_normalise(s, u) == 0)
		return 0;
	if (!bare_host(s) || s.len + 8 > sizeof b)
		return -1;
	memcpy(b, "http://", 7);
	memcpy(b + 7, s.p, s.len);
	return filter_url_normalise(span_make(b, s.len + 7), u);
}

/* Add one entry; -1 when it is not a URL or host. */
static int add_entry(struct rep_feed *f, struct span s,
		     struct rep_feed_info *info)
{
	struct filter_url u;
	const char *rest;

	if (f->n_url + f->n_host >= FILTER_REP_FEED_ENTRIES_MAX) {
		info->full = true;
		return 0;
	}
	if (normalise(s, &u) != 0)
		return -1;
	/* "scheme://host[:port]" then the path: "/" alone is the site */
	rest = strstr(u.url, "://");
	rest = rest ? strchr(rest + 3, '/') : NULL;
	if (rest != NULL && strcmp(rest, "/") == 0)
		push(&f->host, &f->n_host, &f->cap_host, hash_str(u.host));
	else
		push(&f->url, &f->n_url, &f->cap_url, hash_str(u.url));
	filter_url_clear(&u);
	info->added++;
	return 0;
}

static void bad(struct rep_feed_info *info, size_t where)
{
	if (info->bad++ == 0)
		info->first_bad = where;
}

static bool looks_like_url(const char *s)
{
	return span_prefix_ci(span_cstr(s), "http://") ||
	       span_prefix_ci(span_cstr(s), "https://");
}

/* One CSV line's fields, or NULL when it is not CSV; *r to free. */
static const struct csv_record *csv_line(struct span line,
					 struct csv_reader **r,
					 struct csv_record *rec)
{
	static const struct csv_limits lim = {
		FILTER_REP_FEED_LINE_MAX, FILTER_REP_FEED_FIELDS_MAX, 2
	};

	*r = csv_new(line, &lim);
	return csv_next(*r, rec) == 1 ? rec : NULL;
}

/* The column named "url" of a header line, or -1. */
static long url_column(struct span line)
{
	struct csv_reader *r;
	struct csv_record rec;
	long col = -1;

	if (csv_line(line, &r, &rec) != NULL)
		for (size_t i = 0; i < rec.nfields && col < 0; i++)
			if (span_eq_ci(span_cstr(rec.field[i]), "url"))
				col = (long)i;
	csv_free(&r);
	return col;
}

/* One CSV data line: the url column when a header named it, otherwise
 * the first field that is an http(s) URL (both feeds put the reported
 * URL before their own detail link). A header line itself is taken as
 * one and not counted bad. */
static void csv_entry(struct rep_feed *f, struct span line, long *col,
		      size_t lineno, struct rep_feed_info *info)
{
	struct csv_reader *r;
	struct csv_record rec;
	const char *val = NULL;

	if (csv_line(line, &r, &rec) == NULL) {
		csv_free(&r);
		bad(info, lineno);
		return;
	}
	if (*col >= 0 && (size_t)*col < rec.nfields &&
	    looks_like_url(rec.field[*col])) {
		val = rec.field[*col];
	} else {
		for (size_t i = 0; i < rec.nfields && val == NULL; i++)
			if (looks_like_url(rec.field[i]))
				val = rec.field[i];
	}
	if (val == NULL && *col < 0) {
		csv_free(&r);
		*col = url_column(line);
		if (*col < 0)
			bad(info, lineno);
		return;
	}
	if (val == NULL || add_entry(f, span_cstr(val), info) != 0)
		bad(info, lineno);
	csv_free(&r);
}

/* The first line that is neither blank nor a comment tells the format. */
static enum rep_feed_format detect(struct span line)
{
	struct filter_url u;

	if (line.p[0] == '[' || line.p[0] == '{')
		return REP_FEED_JSON;
	if (line.p[0] != '"' && normalise(line, &u) == 0) {
		filter_url_clear(&u);
		return REP_FEED_TEXT;
	}
	return REP_FEED_CSV;
}

/* The position of the first octet at or after pos that is not JSON
 * white space (RFC 8259 2). */
static size_t skip_ws(struct span t, size_t pos)
{
	while (pos < t.len && (t.p[pos] == ' ' || t.p[pos] == '\t' ||
			       t.p[pos] == '\r' || t.p[pos] == '\n'))
		pos++;
	return pos;
}

static int parse_json(struct rep_feed *f, struct span text,
		      struct rep_feed_info *info, struct err *err)
{
	size_t pos = skip_ws(text, 0), obj = 0;

	if (pos == text.len || text.p[pos] != '[')
		return err_set(err, ERR_PEER, 0, NULL, "JSON feed: expected an "
			       "array of objects");
	pos = skip_ws(text, pos + 1);
	if (pos < text.len && text.p[pos] == ']') {
		pos++;
		goto end;
	}
	for (;;) {
		/* one element at a time: memory stays O(one object) however
		 * large the feed */
		size_t avail = text.len - pos;
		json_error_t je;
		json_t *v;

		if (avail > FILTER_REP_FEED_OBJECT_MAX)
			avail = FILTER_REP_FEED_OBJECT_MAX;
		v = json_loadb((const char *)text.p + pos, avail,
			       JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY |
			       JSON_REJECT_DUPLICATES,
			       &je);
		obj++;
		if (v == NULL)
			return err_set(err, ERR_PEER, 0, NULL, "JSON feed: "
				       "element %zu: %.80s", obj, je.text);
		pos += (size_t)je.position;
		json_t *url = json_is_object(v) ? json_object_get(v, "url")
						: NULL;
		if (!json_is_string(url) ||
		    add_entry(f, span_make(json_string_value(url),
					   json_string_length(url)),
			      info) != 0)
			bad(info, obj);
		json_decref(v);
		pos = skip_ws(text, pos);
		if (pos < text.len && text.p[pos] == ',') {
			pos = skip_ws(text, pos + 1);
			continue;
		}
		if (pos < text.len && text.p[pos] == ']') {
			pos++;
			break;
		}
		return err_set(err, ERR_PEER, 0, NULL, "JSON feed: expected ',' "
			       "or ']' after element %zu", obj);
	}
end:
	if (skip_ws(text, pos) != text.len)
		return err_set(err, ERR_PEER, 0, NULL, "JSON feed: text after "
			       "the array");
	return 0;
}

int rep_feed_parse(struct rep_feed *f, struct span text,
		   struct rep_feed_info *info, struct err *err)
{
	size_t pos = 0, lineno = 0;
	long col = -1;

	memset(info, 0, sizeof *info);
	while (pos < text.len) {
		const unsigned char *p = text.p + pos;
		const unsigned char *nl = memchr(p, '\n', text.len - pos);
		size_t len = nl ? (size_t)(nl - p) : text.len - pos;
		struct span line;

		pos += len + (nl != NULL);
		lineno++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > FILTER_REP_FEED_LINE_MAX) {
			bad(info, lineno);
			continue;
		}
		line = span_trim(span_make(p, len));
		if (line.len == 0)
			continue;
		if (line.p[0] == '#') {
			/* URLhaus' header is a comment: "# id,dateadded,url,..." */
			if (col < 0 && info->format == REP_FEED_EMPTY &&
			    line.len > 1 && memchr(line.p, ',', line.len))
				col = url_column(span_trim(span_make(
					line.p + 1, line.len - 1)));
			continue;
		}
		if (info->format == REP_FEED_EMPTY) {
			info->format = detect(line);
			if (info->format == REP_FEED_JSON) {
				if (parse_json(f, span_make(p, text.len -
							    (size_t)(p - text.p)),
					       info, err) != 0)
					return -1;
				break;
			}
		}
		if (info->format == REP_FEED_TEXT) {
			if (add_entry(f, line, info) != 0)
				bad(info, lineno);
		} else {
			csv_entry(f, line, &col, lineno, info);
		}
	}
	if (info->added == 0 && info->bad > 0)
		return err_set(err, ERR_PEER, 0, NULL, "no URL in the feed (%zu "
			       "bad lines, the first on line %zu)", info->bad,
			       info->first_bad);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void sort_unique(uint64_t *v, size_t *n)
{
	size_t k = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof *v, cmp_u64);
	for (size_t i = 1; i < *n; i++)
		if (v[i] != v[k])
			v[++k] = v[i];
	*n = k + 1;
}

void rep_feed_seal(struct rep_feed *f)
{
	sort_unique(f->url, &f->n_url);
	sort_unique(f->host, &f->n_host);
}

size_t rep_feed_count(const struct rep_feed *f)
{
	return f->n_url + f->n_host;
}

static bool has(const uint64_t *v, size_t n, uint64_t h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == h)
			return true;
		if (v[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool rep_feed_has_url(const struct rep_feed *f, const char *url)
{
	return has(f->url, f->n_url, hash_str(url));
}

bool rep_feed_has_host(const struct rep_feed *f, const char *host,
		       size_t *matched_len)
{
	char org[DMARC_DOMAIN_MAX + 1];
	size_t len = strlen(host), stop = len;
	const char *s = host;

	if (f->n_host == 0)
		return false;
	/* parents down to the registrable domain, never a public suffix:
	 * a feed line "com" must not list the whole TLD */
	if (dmarc_org_domain(host, org))
		stop = strlen(org);
	for (;;) {
		size_t n = len - (size_t)(s - host);

		if (has(f->host, f->n_host, filter_token_hash(s, n))) {
			*matched_len = n;
			return true;
		}
		if (n <= stop)
			return false;
		s = memchr(s, '.', n);
		if (s == NULL)
			return false;
		s++;
	}
}
