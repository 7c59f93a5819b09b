/* imap_util.c - building IMAP responses (strings, literals, flag lists,
 * mailbox names, UID sets, dates) and reading the arguments most commands
 * share (mailbox names, sequence sets) against the session's state. */
#include "imap/imap_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"

/* ---- output ------------------------------------------------------------ */

void imap_out_bytes(struct buf *o, const void *p, size_t n)
{
	if (buf_append(o, p, n) != 0)
		/* IMAP_OUT_MAX is far above any line we build; hitting it is
		 * a bug, and a truncated response would be worse than none */
		abort();
}

void imap_out_str(struct buf *o, const char *str)
{
	imap_out_bytes(o, str, strlen(str));
}

void imap_out_fmt(struct buf *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof tmp)
		n = (int)sizeof tmp - 1;
	imap_out_bytes(o, tmp, (size_t)n);
}

void imap_out_string(struct buf *o, struct span s)
{
	bool quotable = s.len < 1024;
	for (size_t i = 0; quotable && i < s.len; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == 0 || s.p[i] >= 0x80)
			quotable = false;
	if (!quotable) {
		imap_out_fmt(o, "{%zu}\r\n", s.len);
		imap_out_bytes(o, s.p, s.len);
		return;
	}
	imap_out_bytes(o, "\"", 1);
	size_t start = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '"' || s.p[i] == '\\') {
			imap_out_bytes(o, s.p + start, i - start);
			imap_out_bytes(o, "\\", 1);
			start = i;
		}
	}
	imap_out_bytes(o, s.p + start, s.len - start);
	imap_out_bytes(o, "\"", 1);
}

void imap_out_nstring(struct buf *o, const struct span *s)
{
	if (s == NULL)
		imap_out_str(o, "NIL");
	else
		imap_out_string(o, *s);
}

void imap_out_mailbox(struct imap_session *s, struct buf *o, const char *name)
{
	if (imap_utf8_names(s)) {
		/* RFC 9051 5.1, RFC 6855 3: UTF-8 (a literal when not ASCII) */
		imap_out_string(o, span_cstr(name));
		return;
	}
	/* IMAP4rev1 without UTF8=ACCEPT: modified UTF-7 (RFC 3501 5.1.3) */
	struct imap_arena *a = imap_arena_new(4 * STORE_FOLDER_NAME_MAX + 64);
	struct span enc;
	if (imap_mutf7_encode(span_cstr(name), a, &enc) != 0)
		enc = span_cstr(name);
	imap_out_string(o, enc);
	imap_arena_free(&a);
}

static const char *const sysflag_names[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft",
};

void imap_out_flags(struct imap_session *s, struct buf *o, uint32_t flags,
		    uint64_t keywords)
{
	bool first = true;
	imap_out_bytes(o, "(", 1);
	for (unsigned i = 0; i < 5; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (!first)
			imap_out_bytes(o, " ", 1);
		imap_out_str(o, sysflag_names[i]);
		first = false;
	}
	for (unsigned i = 0; i < STORE_KEYWORDS_MAX && keywords; i++) {
		if (!(keywords & ((uint64_t)1 << i)))
			continue;
		if (s->kw == NULL || !(s->kw->defined & ((uint64_t)1 << i)))
			imap_keywords_reload(s);
		if (s->kw == NULL || !(s->kw->defined & ((uint64_t)1 << i)))
			continue;
		if (!first)
			imap_out_bytes(o, " ", 1);
		imap_out_str(o, s->kw->name[i]);
		first = false;
	}
	imap_out_bytes(o, ")", 1);
}

void imap_out_flag_list(struct imap_session *s, struct buf *o, bool star)
{
	imap_out_str(o, "(\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (unsigned i = 0; s->kw != NULL && i < STORE_KEYWORDS_MAX; i++)
		if (s->kw->defined & ((uint64_t)1 << i))
			imap_out_fmt(o, " %s", s->kw->name[i]);
	imap_out_str(o, star ? " \\*)" : ")");
}

void imap_out_uidset(struct buf *o, const uint32_t *uids, size_t n)
{
	size_t i = 0;
	bool first = true;
	while (i < n) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (!first)
			imap_out_bytes(o, ",", 1);
		if (j == i)
			imap_out_fmt(o, "%u", uids[i]);
		else
			imap_out_fmt(o, "%u:%u", uids[i], uids[j]);
		first = false;
		i = j + 1;
	}
}

void imap_out_date(struct buf *o, int64_t t)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	imap_out_fmt(o, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
		     mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		     tm.tm_sec);
}

void imap_flush(struct imap_session *s)
{
	if (s->out.len == 0)
		return;
	net_conn_write(s->c, s->out.data, s->out.len);
	buf_reset(&s->out);
}

/* ---- arguments ---------------------------------------------------------- */

int imap_arg_mailbox(struct imap_session *s, const struct imap_cmd *cmd,
		     const struct imap_arg *arg, char *out, size_t outsz)
{
	struct span name;
	struct err err;
	int rc = imap_parse_mailbox(arg, imap_utf8_names(s) ? IMAP_MAILBOX_UTF8 : 0, cmd->arena,
				    &name, &err);
	if (rc == -1) {
		imap_bad(s, (const char *)cmd->tag.p, "%s", err.msg);
		return -1;
	}
	if (rc != 0) {
		imap_no(s, (const char *)cmd->tag.p, "[CANNOT] %s", err.msg);
		return -1;
	}
	if (span_to_cstr(name, out, outsz) != 0 ||
	    store_folder_name_check(out, &err) != 0) {
		imap_no(s, (const char *)cmd->tag.p, "[CANNOT] %s",
			name.len >= outsz ? "Mailbox name too long" : err.msg);
		return -1;
	}
	return 0;
}

long imap_msg_find(const struct imap_session *s, uint32_t uid)
{
	size_t lo = 0, hi = s->n_msgs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_msgs && s->msgs[lo].uid == uid ? (long)lo : -1;
}

int imap_arg_messages(struct imap_session *s, const struct imap_cmd *cmd,
		      const struct imap_arg *arg, bool uid, uint32_t **idx_out,
		      size_t *n_out)
{
	const char *tag = (const char *)cmd->tag.p;
	struct imap_seqset set, res;
	struct err err;
	*idx_out = NULL;
	*n_out = 0;
	if (imap_seqset_parse_arg(arg, cmd->arena, &set, &err) != 0) {
		imap_bad(s, tag, "%s", err.msg);
		return -1;
	}
	if (set.saved) {
		/* RFC 5182 2.1: the saved messages that still exist */
		if (s->cap_idx < s->n_saved || s->idx == NULL) {
			s->cap_idx = s->n_saved ? s->n_saved : 1;
			s->idx = xreallocarray(s->idx, s->cap_idx, sizeof *s->idx);
		}
		uint32_t *sidx = s->idx;
		size_t k = 0;
		for (size_t i = 0; i < s->n_saved; i++) {
			long x = imap_msg_find(s, s->saved[i]);
			if (x >= 0)
				sidx[k++] = (uint32_t)x;
		}
		*idx_out = sidx;
		*n_out = k;
		return 0;
	}
	uint32_t star = uid ? (s->n_msgs ? s->msgs[s->n_msgs - 1].uid : 0) : s->n_msgs;
	if (imap_seqset_resolve(&set, star, cmd->arena, &res) != 0) {
		imap_bad(s, tag, "Command too complex");
		return -1;
	}
	if (!uid) {
		for (size_t i = 0; i < res.n; i++)
			if (res.ranges[i].hi > s->n_msgs) {
				imap_bad(s, tag, "Invalid message sequence number: %u",
					 res.ranges[i].hi);
				return -1;
			}
		if (res.n == 0 && s->n_msgs == 0) {
			/* "1:*" or "*" in an empty mailbox: nothing to do */
		}
	}
	size_t cap = s->n_msgs;
	if (s->cap_idx < cap || s->idx == NULL) {
		s->cap_idx = cap ? cap : 1;
		s->idx = xreallocarray(s->idx, s->cap_idx, sizeof *s->idx);
	}
	uint32_t *idx = s->idx;
	size_t n = 0;
	for (size_t r = 0; r < res.n; r++) {
		uint32_t lo = res.ranges[r].lo, hi = res.ranges[r].hi;
		if (!uid) {
			for (uint64_t m = lo; m <= hi && n < cap; m++)
				idx[n++] = (uint32_t)(m - 1);
			continue;
		}
		size_t a = 0, b = s->n_msgs;
		while (a < b) {
			size_t mid = a + (b - a) / 2;
			if (s->msgs[mid].uid < lo)
				a = mid + 1;
			else
				b = mid;
		}
		for (; a < s->n_msgs && s->msgs[a].uid <= hi && n < cap; a++)
			idx[n++] = (uint32_t)a;
	}
	*idx_out = idx;
	*n_out = n;
	return 0;
}

bool imap_saved_has(const struct imap_session *s, uint32_t uid)
{
	size_t lo = 0, hi = s->n_saved;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->saved[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_saved && s->saved[lo] == uid;
}

int imap_keyword_bit(const struct imap_session *s, struct span name)
{
	if (s->kw == NULL)
		return -1;
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++)
		if ((s->kw->defined & ((uint64_t)1 << i)) &&
		    span_eq_ci(name, s->kw->name[i]))
			return i;
	return -1;
}
