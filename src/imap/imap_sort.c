/* imap_sort.c - SORT's half of imap_sort.h: the SORT and THREAD arguments
 * (RFC 5256 4, RFC 5267 3.1), base subject extraction (RFC 5256 2.1), the
 * keys of one message read from its cached ENVELOPE, and the ordering.
 * It reads no store and writes no response; imap_cmd_sort.c does. */
#include "imap/imap_sort.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "mime/mime.h"

/* ---- arguments ----------------------------------------------------------- */

static const struct {
	const char *name;
	enum imap_sort_key key;
} sort_keys[] = {
	{ "ARRIVAL", IMAP_SORT_ARRIVAL },
	{ "CC", IMAP_SORT_CC },
	{ "DATE", IMAP_SORT_DATE },
	{ "FROM", IMAP_SORT_FROM },
	{ "SIZE", IMAP_SORT_SIZE },
	{ "SUBJECT", IMAP_SORT_SUBJECT },
	{ "TO", IMAP_SORT_TO },
	{ "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
	{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
};

bool imap_sort_charset_ok(struct span charset)
{
	return span_eq_ci(charset, "UTF-8") || span_eq_ci(charset, "US-ASCII");
}

static int parse_criteria(const struct imap_arg *list, struct imap_sort_cmd *out,
			  struct err *err)
{
	if (list->type != IMAP_ARG_LIST)
		return err_set(err, ERR_PEER, 0, "", "Sort criteria must be a list");
	if (list->list_len == 0)
		return err_set(err, ERR_PEER, 0, "", "Empty sort criteria");
	bool reverse = false;
	for (size_t i = 0; i < list->list_len; i++) {
		const struct imap_arg *a = &list->list[i];
		if (imap_arg_atom_is(a, "REVERSE")) {
			if (reverse)
				return err_set(err, ERR_PEER, 0, "", "REVERSE REVERSE");
			reverse = true;
			continue;
		}
		size_t k = 0;
		for (; k < sizeof sort_keys / sizeof sort_keys[0]; k++)
			if (imap_arg_atom_is(a, sort_keys[k].name))
				break;
		if (k == sizeof sort_keys / sizeof sort_keys[0])
			return err_set(err, ERR_PEER, 0, "", "Unknown sort key");
		if (out->n_crit == IMAP_SORT_MAX_CRITERIA)
			return err_set(err, ERR_LIMIT, 0, "", "Too many sort criteria");
		out->crit[out->n_crit].key = sort_keys[k].key;
		out->crit[out->n_crit].reverse = reverse;
		out->n_crit++;
		reverse = false;
	}
	if (reverse)
		return err_set(err, ERR_PEER, 0, "", "REVERSE without a sort key");
	return 0;
}

static int take_charset(const struct imap_arg *args, size_t n, size_t *i,
			struct span *out, struct err *err)
{
	if (*i >= n || !imap_arg_astring(&args[*i], out) || out->len == 0)
		return err_set(err, ERR_PEER, 0, "", "Missing or invalid charset");
	(*i)++;
	return 0;
}

int imap_sort_parse_command(const struct imap_arg *args, size_t n,
			    const struct imap_search_limits *lim,
			    struct imap_arena *a, struct imap_sort_cmd *out,
			    struct err *err)
{
	memset(out, 0, sizeof *out);
	size_t i = 0;
	if (i < n && imap_arg_atom_is(&args[i], "RETURN")) {
		if (i + 1 >= n)
			return err_set(err, ERR_PEER, 0, "", "Invalid RETURN options");
		if (imap_search_parse_return(&args[i + 1], IMAP_SORT_RETURN_OPTIONS,
					     &out->ret, &out->partial_lo,
					     &out->partial_hi, err) != 0)
			return -1;
		out->has_return = true;
		i += 2;
	}
	if (i >= n)
		return err_set(err, ERR_PEER, 0, "", "Missing sort criteria");
	if (parse_criteria(&args[i], out, err) != 0)
		return -1;
	i++;
	if (take_charset(args, n, &i, &out->charset, err) != 0)
		return -1;
	return imap_search_parse(i < n ? args + i : NULL, n - i, lim, a,
				 &out->program, err);
}

int imap_thread_parse_command(const struct imap_arg *args, size_t n,
			      const struct imap_search_limits *lim,
			      struct imap_arena *a, struct imap_thread_cmd *out,
			      struct err *err)
{
	memset(out, 0, sizeof *out);
	size_t i = 0;
	if (n == 0)
		return err_set(err, ERR_PEER, 0, "", "Missing threading algorithm");
	if (imap_arg_atom_is(&args[0], "ORDEREDSUBJECT"))
		out->alg = IMAP_THREAD_ORDEREDSUBJECT;
	else if (imap_arg_atom_is(&args[0], "REFERENCES"))
		out->alg = IMAP_THREAD_REFERENCES;
	else
		return err_set(err, ERR_PEER, 0, "", "Unknown threading algorithm");
	i++;
	if (take_charset(args, n, &i, &out->charset, err) != 0)
		return -1;
	return imap_search_parse(i < n ? args + i : NULL, n - i, lim, a,
				 &out->program, err);
}

/* ---- base subject (RFC 5256 2.1) ----------------------------------------- */

static unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

static bool has_prefix_ci(const unsigned char *p, size_t len, const char *lit)
{
	size_t k = strlen(lit);
	if (len < k)
		return false;
	for (size_t i = 0; i < k; i++)
		if (upper(p[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at p[i]: the index after it, or 0
 * (a blob is never at index 0 of what follows it, so 0 means none). */
static size_t blob_end(const unsigned char *p, size_t i, size_t end)
{
	if (i >= end || p[i] != '[')
		return 0;
	size_t k = i + 1;
	while (k < end && p[k] != '[' && p[k] != ']')
		k++;
	if (k >= end || p[k] != ']')
		return 0;
	k++;
	while (k < end && p[k] == ' ')
		k++;
	return k;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at p[i]: the
 * index after the colon, or 0. */
static size_t refwd_end(const unsigned char *p, size_t i, size_t end)
{
	size_t k;
	if (has_prefix_ci(p + i, end - i, "RE"))
		k = i + 2;
	else if (has_prefix_ci(p + i, end - i, "FWD"))
		k = i + 3;
	else if (has_prefix_ci(p + i, end - i, "FW"))
		k = i + 2;
	else
		return 0;
	while (k < end && p[k] == ' ')
		k++;
	size_t b = blob_end(p, k, end);
	if (b != 0)
		k = b;
	if (k < end && p[k] == ':')
		return k + 1;
	return 0;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP at p[i]: the index after
 * it, or 0. */
static size_t leader_end(const unsigned char *p, size_t i, size_t end,
			 bool *refwd)
{
	if (i < end && p[i] == ' ')
		return i + 1;
	size_t k = i, b;
	while ((b = blob_end(p, k, end)) != 0)
		k = b;
	size_t r = refwd_end(p, k, end);
	if (r != 0)
		*refwd = true;
	return r;
}

int imap_base_subject(struct span subject, struct buf *out, bool *refwd_out)
{
	bool refwd = false;
	struct buf dec;
	buf_init(&dec, subject.len * 4 + 16);
	if (mime_header_decode(subject, &dec) != 0) {
		buf_release(&dec);
		return -1;
	}
	/* (1) tabs and continuations to a space, runs of spaces to one */
	unsigned char *p = xmalloc(dec.len + 1);
	size_t end = 0;
	for (size_t i = 0; i < dec.len; i++) {
		unsigned char c = dec.data[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && end > 0 && p[end - 1] == ' ')
			continue;
		p[end++] = c;
	}
	buf_release(&dec);
	size_t start = 0;
	for (;;) {
		/* (2) subj-trailer = "(fwd)" / WSP, from the end */
		for (;;) {
			if (end > start && p[end - 1] == ' ') {
				end--;
			} else if (end - start >= 5 &&
				   has_prefix_ci(p + end - 5, 5, "(FWD)")) {
				end -= 5;
				refwd = true;
			} else {
				break;
			}
		}
		/* (3)-(5): leaders, then one blob if a subj-base remains */
		bool again = true;
		while (again) {
			again = false;
			size_t k;
			while ((k = leader_end(p, start, end, &refwd)) != 0)
				start = k;
			k = blob_end(p, start, end);
			if (k != 0 && k < end) {
				start = k;
				again = true;
			}
		}
		/* (6) "[fwd:" subject "]" */
		if (end - start >= 6 && has_prefix_ci(p + start, end - start, "[FWD:") &&
		    p[end - 1] == ']') {
			start += 5;
			end--;
			refwd = true;
			continue;
		}
		break;
	}
	int rc = buf_append(out, p + start, end - start);
	free(p);
	if (refwd_out != NULL)
		*refwd_out = refwd;
	return rc;
}

/* ---- the keys of one message ------------------------------------------- */

/* A string of the cached ENVELOPE: raw bytes (quoted: between the quotes,
 * escapes still in; literal: its bytes) or absent (NIL). */
struct env_str {
	struct span v;
	bool present, quoted;
};

struct env_cur {
	const unsigned char *p;
	size_t len, i;
};

static void env_sp(struct env_cur *c)
{
	while (c->i < c->len && c->p[c->i] == ' ')
		c->i++;
}

static int env_nstring(struct env_cur *c, struct env_str *out)
{
	memset(out, 0, sizeof *out);
	env_sp(c);
	if (c->i + 3 <= c->len && memcmp(c->p + c->i, "NIL", 3) == 0) {
		c->i += 3;
		return 0;
	}
	if (c->i < c->len && c->p[c->i] == '"') {
		size_t k = ++c->i;
		while (k < c->len && c->p[k] != '"')
			k += c->p[k] == '\\' ? 2 : 1;
		if (k >= c->len)
			return -1;
		out->v = span_make(c->p + c->i, k - c->i);
		out->present = out->quoted = true;
		c->i = k + 1;
		return 0;
	}
	if (c->i < c->len && c->p[c->i] == '{') {
		size_t k = c->i + 1, n = 0;
		while (k < c->len && c->p[k] >= '0' && c->p[k] <= '9') {
			if (n > c->len)
				return -1;
			n = n * 10 + (size_t)(c->p[k] - '0');
			k++;
		}
		if (k + 3 > c->len || c->p[k] != '}' || n > c->len - k - 3)
			return -1;
		out->v = span_make(c->p + k + 3, n);
		out->present = true;
		c->i = k + 3 + n;
		return 0;
	}
	return -1;
}

static int env_char(struct env_cur *c, unsigned char ch)
{
	env_sp(c);
	if (c->i >= c->len || c->p[c->i] != ch)
		return -1;
	c->i++;
	return 0;
}

/* The first address of an address list that is a mailbox (group markers,
 * RFC 9051 7.5.2, are passed over); *name, *mailbox, *host absent if none. */
static int env_first_addr(struct env_cur *c, struct env_str *name,
			  struct env_str *mailbox, struct env_str *host)
{
	memset(name, 0, sizeof *name);
	memset(mailbox, 0, sizeof *mailbox);
	memset(host, 0, sizeof *host);
	env_sp(c);
	if (c->i + 3 <= c->len && memcmp(c->p + c->i, "NIL", 3) == 0) {
		c->i += 3;
		return 0;
	}
	if (env_char(c, '(') != 0)
		return -1;
	bool found = false;
	for (;;) {
		env_sp(c);
		if (c->i < c->len && c->p[c->i] == ')') {
			c->i++;
			return 0;
		}
		struct env_str f[4];
		if (env_char(c, '(') != 0)
			return -1;
		for (int k = 0; k < 4; k++)
			if (env_nstring(c, &f[k]) != 0)
				return -1;
		if (env_char(c, ')') != 0)
			return -1;
		if (!found && f[3].present) {
			*name = f[0];
			*mailbox = f[2];
			*host = f[3];
			found = true;
		}
	}
}

/* Append s to mem without IMAP quoting. */
static int put_raw(struct buf *mem, const struct env_str *s)
{
	if (s->v.len == 0)
		return 0;
	if (!s->quoted)
		return buf_append(mem, s->v.p, s->v.len);
	for (size_t i = 0; i < s->v.len; i++) {
		size_t k = s->v.p[i] == '\\' && i + 1 < s->v.len ? ++i : i;
		if (buf_append(mem, s->v.p + k, 1) != 0)
			return -1;
	}
	return 0;
}

/* Append s to mem with a-z mapped to A-Z (i;ascii-casemap). */
static int append_upper(struct buf *mem, struct span s)
{
	unsigned char chunk[256];
	size_t i = 0;
	while (i < s.len) {
		size_t n = s.len - i < sizeof chunk ? s.len - i : sizeof chunk;
		for (size_t k = 0; k < n; k++)
			chunk[k] = upper(s.p[i + k]);
		if (buf_append(mem, chunk, n) != 0)
			return -1;
		i += n;
	}
	return 0;
}

/* Where a key lives in mem while mem may still move. */
struct keyref {
	size_t off, len;
};

static struct keyref key_begin(const struct buf *mem)
{
	struct keyref r = { mem->len, 0 };
	return r;
}

static void key_end(const struct buf *mem, struct keyref *r)
{
	r->len = mem->len - r->off;
}

/* The raw value unescaped, decoded (RFC 2047) into mem. */
static int put_decoded(struct buf *mem, const struct env_str *s)
{
	struct buf raw;
	buf_init(&raw, s->v.len + 1);
	int rc = put_raw(&raw, s);
	if (rc == 0)
		rc = mime_header_decode(buf_span(&raw), mem);
	buf_release(&raw);
	return rc;
}

/* RFC 5957 3: the decoded display name when there is a non-empty one,
 * else addr-mailbox "@" addr-host, else the empty string. */
static int put_display(struct buf *mem, const struct env_str *name,
		       const struct env_str *mailbox, const struct env_str *host)
{
	size_t before = mem->len;
	if (name->present && name->v.len > 0) {
		if (put_decoded(mem, name) != 0)
			return -1;
		if (mem->len > before)
			return 0;
	}
	if (!mailbox->present)
		return 0;
	if (put_raw(mem, mailbox) != 0 || buf_append(mem, "@", 1) != 0 ||
	    put_raw(mem, host) != 0)
		return -1;
	return 0;
}

enum { ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO,
       ENV_CC, ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_FIELDS };

int imap_sort_msg_fill(struct imap_sort_msg *m, struct span envelope,
		       struct span references, struct buf *mem)
{
	buf_reset(mem);
	m->date = m->arrival;
	m->refwd = false;
	m->subject = m->from = m->to = m->cc = m->dispfrom = m->dispto =
		m->message_id = m->in_reply_to = m->references = span_make("", 0);

	struct env_cur c = { envelope.p, envelope.len, 0 };
	struct env_str str[ENV_FIELDS];
	struct env_str addr[ENV_FIELDS][3];
	memset(str, 0, sizeof str);
	memset(addr, 0, sizeof addr);
	int rc = env_char(&c, '(');
	for (int f = 0; rc == 0 && f < ENV_FIELDS; f++) {
		if (f >= ENV_FROM && f <= ENV_BCC)
			rc = env_first_addr(&c, &addr[f][0], &addr[f][1], &addr[f][2]);
		else
			rc = env_nstring(&c, &str[f]);
	}
	/* what was read before a damaged part is still used */

	/* each key is made in tmp, then casemapped into mem */
	struct keyref subj, from, to, cc, dfrom, dto, mid, irt, refs;
	struct buf tmp;
	buf_init(&tmp, envelope.len * 4 + 16);
	int w = 0;
	subj = key_begin(mem);
	if (str[ENV_SUBJECT].present) {
		struct buf raw;
		buf_init(&raw, str[ENV_SUBJECT].v.len + 1);
		w |= put_raw(&raw, &str[ENV_SUBJECT]);
		w |= imap_base_subject(buf_span(&raw), &tmp, &m->refwd);
		buf_release(&raw);
		w |= append_upper(mem, buf_span(&tmp));
	}
	key_end(mem, &subj);
	struct keyref *addr_keys[] = { &from, &to, &cc };
	const int addr_fields[] = { ENV_FROM, ENV_TO, ENV_CC };
	for (size_t k = 0; k < 3; k++) {
		buf_reset(&tmp);
		*addr_keys[k] = key_begin(mem);
		if (addr[addr_fields[k]][1].present)
			w |= put_raw(&tmp, &addr[addr_fields[k]][1]);
		w |= append_upper(mem, buf_span(&tmp));
		key_end(mem, addr_keys[k]);
	}
	struct keyref *disp_keys[] = { &dfrom, &dto };
	const int disp_fields[] = { ENV_FROM, ENV_TO };
	for (size_t k = 0; k < 2; k++) {
		const struct env_str *a = addr[disp_fields[k]];
		buf_reset(&tmp);
		*disp_keys[k] = key_begin(mem);
		w |= put_display(&tmp, &a[0], &a[1], &a[2]);
		w |= append_upper(mem, buf_span(&tmp));
		key_end(mem, disp_keys[k]);
	}
	buf_release(&tmp);
	mid = key_begin(mem);
	if (str[ENV_MESSAGE_ID].present)
		w |= put_raw(mem, &str[ENV_MESSAGE_ID]);
	key_end(mem, &mid);
	irt = key_begin(mem);
	if (str[ENV_IN_REPLY_TO].present)
		w |= put_raw(mem, &str[ENV_IN_REPLY_TO]);
	key_end(mem, &irt);
	refs = key_begin(mem);
	if (references.len > 0)
		w |= buf_append(mem, references.p, references.len);
	key_end(mem, &refs);

	if (str[ENV_DATE].present) {
		struct buf raw;
		buf_init(&raw, str[ENV_DATE].v.len + 1);
		int64_t t;
		int zone;
		if (put_raw(&raw, &str[ENV_DATE]) == 0 &&
		    mime_date_parse(buf_span(&raw), &t, &zone) == 0)
			m->date = t;
		buf_release(&raw);
	}

	/* mem does not move any more */
	const unsigned char *base = mem->data != NULL ? mem->data
				    : (const unsigned char *)"";
	m->subject = span_make(base + subj.off, subj.len);
	m->from = span_make(base + from.off, from.len);
	m->to = span_make(base + to.off, to.len);
	m->cc = span_make(base + cc.off, cc.len);
	m->dispfrom = span_make(base + dfrom.off, dfrom.len);
	m->dispto = span_make(base + dto.off, dto.len);
	m->message_id = span_make(base + mid.off, mid.len);
	m->in_reply_to = span_make(base + irt.off, irt.len);
	m->references = span_make(base + refs.off, refs.len);
	return rc == 0 && w == 0 ? 0 : -1;
}

/* ---- ordering -------------------------------------------------------------- */

static int span_cmp(struct span a, struct span b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.p, b.p, n) : 0;
	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

static int num_cmp(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int snum_cmp(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int key_cmp(const struct imap_sort_msg *a, const struct imap_sort_msg *b,
		   enum imap_sort_key key)
{
	switch (key) {
	case IMAP_SORT_ARRIVAL: return snum_cmp(a->arrival, b->arrival);
	case IMAP_SORT_DATE: return snum_cmp(a->date, b->date);
	case IMAP_SORT_SIZE: return num_cmp(a->size, b->size);
	case IMAP_SORT_SUBJECT: return span_cmp(a->subject, b->subject);
	case IMAP_SORT_FROM: return span_cmp(a->from, b->from);
	case IMAP_SORT_TO: return span_cmp(a->to, b->to);
	case IMAP_SORT_CC: return span_cmp(a->cc, b->cc);
	case IMAP_SORT_DISPLAYFROM: return span_cmp(a->dispfrom, b->dispfrom);
	case IMAP_SORT_DISPLAYTO: return span_cmp(a->dispto, b->dispto);
	}
	return 0;
}

struct sort_ctx {
	const struct imap_sort_criterion *crit;
	size_t n;
};

int imap_sort_compare(const struct imap_sort_msg *a, const struct imap_sort_msg *b,
		      const struct imap_sort_criterion *crit, size_t n_crit)
{
	for (size_t i = 0; i < n_crit; i++) {
		int r = key_cmp(a, b, crit[i].key);
		if (r != 0)
			return crit[i].reverse ? -r : r;
	}
	return num_cmp(a->seq, b->seq);
}

static int msg_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	return imap_sort_compare(*(const struct imap_sort_msg *const *)pa,
				 *(const struct imap_sort_msg *const *)pb, c->crit, c->n);
}

void imap_sort_messages(const struct imap_sort_msg **v, size_t n,
			const struct imap_sort_criterion *crit, size_t n_crit)
{
	struct sort_ctx c = { crit, n_crit };
	if (n > 1)
		qsort_r(v, n, sizeof *v, msg_cmp, &c);
}
