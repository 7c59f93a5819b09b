/* test_mime_corpus.c - the MIME parser over every message of the shared
 * corpora (Stalwart mail-parser, CPython email, MimeKit, nodemailer), read
 * in place from ../shared/testdata: no crash, a sane tree (offsets in
 * bounds and nested), every IMAP view and the cache round trip built. Where
 * a suite states expected results they are compared: Stalwart's part trees
 * (NNN.json offsets, for the message with CRs removed) and its header
 * vectors (addresses, content types, dates, ids, unstructured text). Each
 * suite reports "N passed, N failed"; deviations we keep on purpose are
 * listed with their reason, and any other failure fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "mime/mime.h"
#include "json_mini.h"
#include "mime_test_util.h"

/* ----- invariants ------------------------------------------------------ */

static bool tree_sane(const struct mime_message *m, size_t len,
		      const struct mime_limits *lim, const char **why)
{
	uint32_t n = mime_message_nparts(m);
	if (n == 0 || n > lim->max_parts + 1) {
		*why = "part count";
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct mime_part *p = mime_message_part(m, i);
		if (!(p->hdr_start <= p->body_start && p->body_start <= p->body_end &&
		      p->body_end <= len)) {
			*why = "offsets out of order or bounds";
			return false;
		}
		if (p->depth > lim->max_depth) {
			*why = "too deep";
			return false;
		}
		if (i == 0) {
			if (p->parent != MIME_NONE || p->hdr_start != 0 || p->body_end != len) {
				*why = "root";
				return false;
			}
			continue;
		}
		if (p->parent >= i) {
			*why = "parent after child";
			return false;
		}
		const struct mime_part *pp = mime_message_part(m, p->parent);
		if (p->depth != pp->depth + 1 || p->hdr_start < pp->body_start ||
		    p->body_end > pp->body_end) {
			*why = "child outside its parent";
			return false;
		}
		if (p->next_sibling != MIME_NONE) {
			const struct mime_part *s = mime_message_part(m, p->next_sibling);
			if (s == NULL || s->parent != p->parent || s->hdr_start < p->body_end) {
				*why = "siblings overlap";
				return false;
			}
		}
	}
	return true;
}

/* Everything a caller may do with a parse; false and *why on a problem. */
static bool exercise(const unsigned char *msg, size_t len, const char **why)
{
	struct mime_limits lim;
	mime_limits_default(&lim);
	struct mime_message *m = mime_parse(msg, len, &lim);
	bool ok = tree_sane(m, len, &lim, why);
	struct buf out, cache, text;
	buf_init(&out, 1u << 26);
	buf_init(&cache, 1u << 26);
	buf_init(&text, 1u << 26);
	if (ok && (mime_envelope_imap(m, 0, &out) < 0 ||
		   mime_bodystructure_imap(m, 0, true, &out) < 0 ||
		   mime_bodystructure_imap(m, 0, false, &out) < 0)) {
		*why = "IMAP views";
		ok = false;
	}
	if (ok && mime_cache_write(m, &cache) < 0) {
		*why = "cache write";
		ok = false;
	}
	struct mime_cache c;
	struct err err;
	if (ok && mime_cache_read(buf_span(&cache), &c, &err) < 0) {
		*why = "cache read";
		ok = false;
	}
	if (ok && (c.nparts != mime_message_nparts(m) || c.msg_size != len)) {
		*why = "cache contents";
		ok = false;
	}
	/* Every section the tree has resolves the same on the cache. */
	for (uint32_t a = 1; ok && a <= 4; a++)
		for (uint32_t b = 0; ok && b <= 4; b++) {
			uint32_t path[2] = { a, b };
			size_t pn = b ? 2 : 1;
			if (mime_message_section(m, path, pn) != mime_cache_section(&c, path, pn)) {
				*why = "section lookup";
				ok = false;
			}
		}
	if (ok && mime_text_extract(m, MIME_TEXT_HEADERS | MIME_TEXT_BODY, &text) < 0) {
		*why = "text extract";
		ok = false;
	}
	buf_release(&out);
	buf_release(&cache);
	buf_release(&text);
	mime_message_free(&m);
	return ok;
}

/* ----- walking the corpora --------------------------------------------- */

struct tally {
	unsigned passed, failed;
};

static bool is_message_file(const char *name)
{
	size_t n = strlen(name);
	if (strcmp(name, "README.md") == 0 || name[0] == '.')
		return false;
	return !(n > 5 && strcmp(name + n - 5, ".json") == 0) &&
	       strncmp(name, "LICENSE", 7) != 0 && strcmp(name, "COPYING") != 0;
}

static void walk(const char *dir, struct tally *t)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, t);
			continue;
		}
		if (!is_message_file(e->d_name))
			continue;
		size_t len = 0, clen = 0;
		unsigned char *raw = read_file(path, &len);
		assert_non_null(raw);
		unsigned char *crlf = to_crlf(raw, len, &clen);
		const char *why = "";
		bool ok = exercise(raw, len, &why) && exercise(crlf, clen, &why);
		/* And every prefix cut of small messages (truncated mail). */
		for (size_t cut = 0; ok && len < 4096 && cut < len; cut += 7) {
			unsigned char *pre = malloc(cut ? cut : 1);
			memcpy(pre, raw, cut);
			ok = exercise(pre, cut, &why);
			free(pre);
		}
		if (ok) {
			t->passed++;
		} else {
			t->failed++;
			print_message("FAIL %s: %s\n", path, why);
		}
		free(raw);
		free(crlf);
	}
	closedir(d);
}

static void test_corpora_sane(void **state)
{
	(void)state;
	static const char *suites[] = {
		"mime-stalwart-mailparser", "mime-cpython-email", "mime-mimekit",
		"mime-nodemailer-mailparser",
	};
	unsigned failed = 0;
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
		char dir[512];
		snprintf(dir, sizeof dir, "%s/%s", TESTDATA, suites[i]);
		struct tally t = { 0, 0 };
		walk(dir, &t);
		print_message("%s (parse, sane tree, IMAP, cache): %u passed, %u failed\n",
			      suites[i], t.passed, t.failed);
		assert_true(t.passed > 0);
		failed += t.failed;
	}
	assert_int_equal(failed, 0);
}

/* ----- Stalwart part trees ---------------------------------------------- */

/* Stalwart files whose trees we build differently on purpose: all are
 * cases where Dovecot (whose BODYSTRUCTURE sizes we match, see
 * test_mime_dovecot.c) and Stalwart disagree, and we side with Dovecot. */
#define AFTER_CLOSE "the line break after an inner close delimiter stays " \
	"with the inner part (Dovecot's sizes); Stalwart gives it to the " \
	"outer boundary"
#define MALFORMED "deliberately broken boundaries or headers: we read " \
	"them as Dovecot does (lines without a colon stay in the header, " \
	"longest boundary wins, no boundary line means one text part)"
static const struct {
	const char *file, *why;
} tree_deviations[] = {
	{ "malformed/019", AFTER_CLOSE },
	{ "malformed/020", AFTER_CLOSE },
	{ "malformed/021", AFTER_CLOSE },
	{ "rfc/008", AFTER_CLOSE },
	{ "thirdparty/005", AFTER_CLOSE },
	{ "thirdparty/007", AFTER_CLOSE },
	{ "thirdparty/008", AFTER_CLOSE },
	{ "malformed/000", MALFORMED },
	{ "malformed/001", MALFORMED },
	{ "malformed/004", MALFORMED },
	{ "malformed/007", MALFORMED },
	{ "malformed/008", MALFORMED },
	{ "malformed/009", MALFORMED },
	{ "malformed/011", MALFORMED },
	{ "malformed/012", MALFORMED },
	{ "malformed/013", MALFORMED },
	{ "malformed/014", MALFORMED },
	{ "malformed/016", MALFORMED },
	{ "malformed/017", MALFORMED },
	{ "malformed/022", MALFORMED },
	{ "thirdparty/015", MALFORMED },
	{ NULL, NULL },
};

static bool tree_deviation(const char *file)
{
	for (size_t i = 0; tree_deviations[i].file != NULL; i++)
		if (strcmp(tree_deviations[i].file, file) == 0)
			return true;
	return false;
}

static double jnum(const struct jnode *o, const char *key)
{
	const struct jnode *v = json_get(o, key);
	return v != NULL && v->type == J_NUM ? v->num : -1;
}

/* Compare Stalwart's part parts[idx] (of message object msg) with our part
 * ours, recursively. */
static bool same_tree(const struct mime_message *m, uint32_t ours,
		      const struct jnode *msg, size_t idx, char *diag, size_t dsz)
{
	const struct jnode *parts = json_get(msg, "parts");
	if (parts == NULL || idx >= parts->n)
		return false;
	const struct jnode *jp = parts->items[idx];
	const struct mime_part *p = mime_message_part(m, ours);
	double h = jnum(jp, "offset_header"), b = jnum(jp, "offset_body"),
	       e = jnum(jp, "offset_end");
	if (h != (double)p->hdr_start || b != (double)p->body_start ||
	    e != (double)p->body_end) {
		snprintf(diag, dsz, "part %u: want %.0f/%.0f/%.0f got %zu/%zu/%zu",
			 ours, h, b, e, p->hdr_start, p->body_start, p->body_end);
		return false;
	}
	const struct jnode *body = json_get(jp, "body");
	const struct jnode *multi = json_get(body, "Multipart");
	const struct jnode *inner = json_get(body, "Message");
	if (multi != NULL) {
		uint32_t c = p->first_child;
		for (size_t k = 0; k < multi->n; k++) {
			if (c == MIME_NONE) {
				snprintf(diag, dsz, "part %u: fewer children", ours);
				return false;
			}
			if (!same_tree(m, c, msg, (size_t)multi->items[k]->num, diag, dsz))
				return false;
			c = mime_message_part(m, c)->next_sibling;
		}
		if (c != MIME_NONE) {
			snprintf(diag, dsz, "part %u: more children", ours);
			return false;
		}
		return true;
	}
	if (inner != NULL) {
		if (p->first_child == MIME_NONE) {
			snprintf(diag, dsz, "part %u: message not parsed", ours);
			return false;
		}
		return same_tree(m, p->first_child, inner, 0, diag, dsz);
	}
	if (p->first_child != MIME_NONE) {
		snprintf(diag, dsz, "part %u: leaf has children", ours);
		return false;
	}
	return true;
}

static unsigned char *read_text(const char *path, size_t *len)
{
	unsigned char *d = read_file(path, len);
	if (d == NULL)
		return NULL;
	unsigned char *z = malloc(*len + 1);
	memcpy(z, d, *len);
	z[*len] = '\0';
	free(d);
	return z;
}

static void test_stalwart_trees(void **state)
{
	(void)state;
	static const char *dirs[] = { "legacy", "malformed", "rfc", "thirdparty" };
	unsigned passed = 0, failed = 0, known = 0;
	for (size_t di = 0; di < 4; di++) {
		for (unsigned n = 0; n < 1000; n++) {
			char eml[512], js[512], rel[64];
			snprintf(rel, sizeof rel, "%s/%03u", dirs[di], n);
			snprintf(eml, sizeof eml, "%s/mime-stalwart-mailparser/eml/%s.eml", TESTDATA, rel);
			snprintf(js, sizeof js, "%s/mime-stalwart-mailparser/eml/%s.json", TESTDATA, rel);
			size_t len = 0, jlen = 0;
			unsigned char *raw = read_file(eml, &len);
			if (raw == NULL)
				break;
			unsigned char *jtext = read_text(js, &jlen);
			assert_non_null(jtext);
			struct jnode *j = json_parse((const char *)jtext, jlen);
			assert_non_null(j);
			/* Upstream removes every CR before parsing. */
			size_t k = 0;
			for (size_t i = 0; i < len; i++)
				if (raw[i] != '\r')
					raw[k++] = raw[i];
			unsigned char *msg = malloc(k ? k : 1);
			memcpy(msg, raw, k);
			struct mime_message *m = mime_parse(msg, k, NULL);
			char diag[200] = "";
			if (same_tree(m, 0, j, 0, diag, sizeof diag)) {
				passed++;
			} else if (tree_deviation(rel)) {
				known++;
			} else {
				failed++;
				print_message("TREE %s: %s\n", rel, diag);
			}
			mime_message_free(&m);
			free(msg);
			free(raw);
			free(jtext);
			json_free(j);
		}
	}
	print_message("stalwart part trees: %u passed, %u failed, %u known deviations\n",
		      passed, failed, known);
	assert_int_equal(failed, 0);
}

/* ----- Stalwart header vectors ------------------------------------------ */

/* A vector's "header" is a field value as it follows "Name:", possibly
 * with the next field after it: cut at the first line break not followed
 * by white space. */
static struct span field_value(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (s[i] == '\n' && (i + 1 >= len || (s[i + 1] != ' ' && s[i + 1] != '\t'))) {
			size_t e = i;
			if (e > 0 && s[e - 1] == '\r')
				e--;
			return span_make(s, e);
		}
		i++;
	}
	return span_make(s, len);
}

struct hvec_ctx {
	const char *kind;
	unsigned passed, failed, known;
};

/* Vectors (kind, index) we answer differently on purpose. */
static const struct {
	const char *kind;
	size_t index;
	const char *why;
} hdr_deviations[] = {
	{ "unstructured", 21, "an encoded word glued to text: Stalwart inserts a space, we decode in place" },
	{ "unstructured", 27, "an encoded word glued to text: Stalwart inserts a space, we decode in place" },
	{ "unstructured", 28, "an encoded word glued to text: Stalwart inserts a space, we decode in place" },
	{ "unstructured", 22, "empty encoded word then text: Stalwart keeps a double space" },
	{ "date", 12, "six bare numbers: Stalwart guesses a date, we find no month and refuse" },
	{ "content_type", 23, "parameters without ';' between them: the rest is junk, as Dovecot reads it" },
	{ "content_type", 30, "parameters without ';' between them: the rest is junk, as Dovecot reads it" },
	{ "content_type", 29, "RFC 2231 language: Stalwart adds a synthetic name-language parameter" },
	{ "content_type", 30, "RFC 2231 language: Stalwart adds a synthetic name-language parameter" },
	{ "content_type", 31, "RFC 2231 language: Stalwart adds a synthetic name-language parameter" },
	{ "content_type", 59, "RFC 2231 language: Stalwart adds a synthetic name-language parameter" },
	{ "content_type", 34, "spaces between encoded words in a quoted value: Stalwart keeps them, we drop them as in headers (RFC 2047 6.2)" },
	{ "content_type", 40, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 43, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 62, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 63, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 65, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 66, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 70, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 71, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 72, "empty type or subtype: Stalwart keeps the halves, we report no type so the RFC 2045 5.2 default applies" },
	{ "content_type", 49, "empty or unterminated value: Stalwart drops the parameter, we keep it empty or to the end" },
	{ "content_type", 55, "empty or unterminated value: Stalwart drops the parameter, we keep it empty or to the end" },
	{ "content_type", 56, "empty or unterminated value: Stalwart drops the parameter, we keep it empty or to the end" },
	{ "content_type", 57, "empty or unterminated value: Stalwart drops the parameter, we keep it empty or to the end" },
	{ "content_type", 35, "an unquoted value is a token and ends at white space (RFC 2045 5.1, as Dovecot reads it)" },
	{ "content_type", 61, "hostile RFC 2231 section names: we drop sections past 128 and odd names differently" },
	{ "address", 8, "comments next to a display name: Stalwart appends them to the name, IMAP (and Dovecot) ignore them" },
	{ "address", 9, "comments next to a display name: Stalwart appends them to the name, IMAP (and Dovecot) ignore them" },
	{ "address", 10, "comments next to a display name: Stalwart appends them to the name, IMAP (and Dovecot) ignore them" },
	{ "address", 14, "comments next to a display name: Stalwart appends them to the name, IMAP (and Dovecot) ignore them" },
	{ "address", 22, "comments next to a display name: Stalwart appends them to the name, IMAP (and Dovecot) ignore them" },
	{ "address", 56, "comments next to a display name: Stalwart appends them to the name, IMAP (and Dovecot) ignore them" },
	{ "address", 11, "a group holding only a comment: Stalwart makes it a nameless member, we an empty group" },
	{ "address", 13, "obs-domain with white space: we give the domain without it (test.example), Stalwart keeps it raw" },
	{ "address", 33, "a mailbox before a group: Stalwart puts it in a nameless group, we list it plainly" },
	{ "address", 55, "words after an angle address: Stalwart makes them the name, we ignore them as Dovecot does" },
	{ NULL, 0, NULL },
};

static bool hdr_deviation(const char *kind, size_t index)
{
	for (size_t i = 0; hdr_deviations[i].kind != NULL; i++)
		if (strcmp(hdr_deviations[i].kind, kind) == 0 &&
		    hdr_deviations[i].index == index)
			return true;
	return false;
}

static bool span_is(struct span s, const struct jnode *v)
{
	if (v == NULL || v->type == J_NULL)
		return s.len == 0;
	return v->type == J_STR && s.len == v->len && memcmp(s.p, v->str, s.len) == 0;
}

/* Stalwart lowercases types and parameter names; we keep them as written
 * (Dovecot does), so those compare without case. */
static bool span_is_ci(struct span s, const struct jnode *v)
{
	if (v == NULL || v->type == J_NULL)
		return s.len == 0;
	return v->type == J_STR && s.len == v->len &&
	       strncasecmp((const char *)s.p, v->str, s.len) == 0;
}

static bool check_unstructured(struct span v, const struct jnode *want)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	assert_int_equal(mime_header_decode(v, &out), 0);
	bool ok = span_is(buf_span(&out), want);
	buf_release(&out);
	return ok;
}

static bool check_id(struct span v, const struct jnode *want)
{
	size_t pos = 0, k = 0;
	struct span id;
	while (mime_msgid_next(v, &pos, &id) == 1) {
		if (want == NULL || want->type != J_ARR || k >= want->n ||
		    !span_is(id, want->items[k]))
			return false;
		k++;
	}
	return want == NULL || want->type == J_NULL ? k == 0 : k == want->n;
}

static bool check_date(struct span v, const struct jnode *want)
{
	int64_t t;
	int zone;
	int rc = mime_date_parse(v, &t, &zone);
	if (want == NULL || want->type == J_NULL)
		return rc < 0;
	if (rc < 0)
		return false;
	/* Back to the local fields the vector gives. */
	time_t local = (time_t)(t + (int64_t)zone * 60);
	struct tm tm;
	gmtime_r(&local, &tm);
	int tz_abs = zone < 0 ? -zone : zone;
	const struct jnode *before = json_get(want, "tz_before_gmt");
	bool tz_ok = jnum(want, "tz_hour") == tz_abs / 60 &&
		     jnum(want, "tz_minute") == tz_abs % 60 &&
		     (tz_abs == 0 || (before && before->b == (zone < 0)));
	return jnum(want, "year") == tm.tm_year + 1900 &&
	       jnum(want, "month") == tm.tm_mon + 1 && jnum(want, "day") == tm.tm_mday &&
	       jnum(want, "hour") == tm.tm_hour && jnum(want, "minute") == tm.tm_min &&
	       jnum(want, "second") == tm.tm_sec && tz_ok;
}

static bool check_content_type(struct span v, const struct jnode *want)
{
	struct mime_fields *mem;
	struct mime_content_type ct;
	mime_content_type_parse(v, &mem, &ct);
	bool ok = span_is_ci(ct.type, json_get(want, "c_type")) &&
		  span_is_ci(ct.subtype, json_get(want, "c_subtype"));
	const struct jnode *attrs = json_get(want, "attributes");
	size_t want_n = attrs && attrs->type == J_ARR ? attrs->n : 0;
	if (ok && ct.nparams != want_n)
		ok = false;
	for (size_t i = 0; ok && i < want_n; i++) {
		const struct jnode *pair = attrs->items[i];
		struct buf val;
		buf_init(&val, 1 << 16);
		assert_int_equal(mime_param_utf8(&ct.params[i], &val), 0);
		ok = pair->n == 2 && span_is_ci(ct.params[i].name, pair->items[0]) &&
		     span_is(buf_span(&val), pair->items[1]);
		buf_release(&val);
	}
	mime_fields_free(&mem);
	return ok;
}

/* Addresses: compare mailbox@domain (with route) of every mailbox in
 * order, groups by name, and display names decoded from RFC 2047. */
static bool check_address(struct span v, const struct jnode *want)
{
	struct mime_addr_list l;
	mime_addr_parse(v, &l);
	const struct jnode *list = json_get(want, "List");
	const struct jnode *groups = json_get(want, "Group");
	/* Flatten the expectation into (group?, name, address) rows. */
	struct row {
		const struct jnode *name, *addr;
		bool group_start, group_end;
	} rows[64];
	size_t nr = 0;
	if (list != NULL) {
		for (size_t i = 0; i < list->n && nr < 64; i++)
			rows[nr++] = (struct row){ json_get(list->items[i], "name"),
						   json_get(list->items[i], "address"), false, false };
	} else if (groups != NULL) {
		for (size_t g = 0; g < groups->n && nr < 60; g++) {
			const struct jnode *gn = json_get(groups->items[g], "name");
			const struct jnode *as = json_get(groups->items[g], "addresses");
			bool real = gn != NULL && gn->type == J_STR;
			if (real)
				rows[nr++] = (struct row){ gn, NULL, true, false };
			for (size_t i = 0; as && i < as->n && nr < 62; i++)
				rows[nr++] = (struct row){ json_get(as->items[i], "name"),
							   json_get(as->items[i], "address"), false, false };
			if (real)
				rows[nr++] = (struct row){ NULL, NULL, false, true };
		}
	}
	bool ok = l.n == nr;
	for (size_t i = 0; ok && i < nr; i++) {
		const struct mime_addr *a = &l.addrs[i];
		struct buf s;
		buf_init(&s, 1 << 16);
		if (rows[i].group_start) {
			ok = a->kind == MIME_ADDR_GROUP_START &&
			     mime_header_decode(a->name, &s) == 0 &&
			     span_is(buf_span(&s), rows[i].name);
		} else if (rows[i].group_end) {
			ok = a->kind == MIME_ADDR_GROUP_END;
		} else {
			ok = a->kind == MIME_ADDR_MAILBOX;
			if (ok && a->route.len)
				ok = buf_append(&s, a->route.p, a->route.len) == 0 &&
				     buf_append(&s, ":", 1) == 0;
			if (ok)
				ok = buf_append(&s, a->mailbox.p, a->mailbox.len) == 0;
			if (ok && a->domain.len)
				ok = buf_append(&s, "@", 1) == 0 &&
				     buf_append(&s, a->domain.p, a->domain.len) == 0;
			if (ok)
				ok = span_is(buf_span(&s), rows[i].addr);
			buf_reset(&s);
			if (ok)
				ok = mime_header_decode(a->name, &s) == 0 &&
				     span_is(buf_span(&s), rows[i].name);
		}
		buf_release(&s);
	}
	mime_addr_list_free(&l);
	return ok;
}

static void run_vectors(const char *kind, bool (*check)(struct span, const struct jnode *),
			unsigned *failed_total)
{
	char path[512];
	snprintf(path, sizeof path, "%s/mime-stalwart-mailparser/header-%s.json", TESTDATA, kind);
	size_t len;
	unsigned char *text = read_text(path, &len);
	assert_non_null(text);
	struct jnode *j = json_parse((const char *)text, len);
	assert_non_null(j);
	unsigned passed = 0, failed = 0, known = 0;
	for (size_t i = 0; i < j->n; i++) {
		const struct jnode *h = json_get(j->items[i], "header");
		const struct jnode *want = json_get(j->items[i], "expected");
		assert_non_null(h);
		/* Exactly sized copy, so ASan sees reads past the value. */
		struct span fv = field_value(h->str, h->len);
		unsigned char *copy = malloc(fv.len ? fv.len : 1);
		memcpy(copy, fv.p, fv.len);
		bool ok = check(span_make(copy, fv.len), want);
		free(copy);
		if (ok) {
			passed++;
		} else if (hdr_deviation(kind, i)) {
			known++;
		} else {
			failed++;
			print_message("VECTOR %s #%zu: %s\n", kind, i, h->str);
			if (getenv("MIME_TEST_VERBOSE") && want != NULL)
				print_message("  (see the vector's expected value)\n");
		}
	}
	print_message("stalwart header-%s: %u passed, %u failed, %u known deviations\n",
		      kind, passed, failed, known);
	*failed_total += failed;
	json_free(j);
	free(text);
}

static void test_stalwart_headers(void **state)
{
	(void)state;
	unsigned failed = 0;
	run_vectors("unstructured", check_unstructured, &failed);
	run_vectors("id", check_id, &failed);
	run_vectors("date", check_date, &failed);
	run_vectors("content_type", check_content_type, &failed);
	run_vectors("address", check_address, &failed);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpora_sane),
		cmocka_unit_test(test_stalwart_trees),
		cmocka_unit_test(test_stalwart_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
