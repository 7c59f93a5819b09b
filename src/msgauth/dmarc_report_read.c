/* dmarc_report_read.c - the aggregate report reader (RFC 7489 appendix C)
 * on expat. Elements are matched by their path below <feedback> with any
 * namespace prefix dropped (ns1:feedback, xmlns="urn:...dmarc-2.0" and the
 * older drafts all occur); unknown elements are skipped, as the RFC 9990
 * additions (extensions, generator) are. A DTD is refused outright, which
 * rules out entity expansion and external entities. */
#include "msgauth/dmarc_private.h"

#include <arpa/inet.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

/* Strings of one report live in large chunks freed together. */
struct dmarc_report_mem {
	struct dmarc_report_mem *next;
	size_t used, cap;
	char data[];
};

#define MEM_CHUNK 65536

static const char *mem_dup(struct dmarc_report *r, const char *s, size_t n)
{
	struct dmarc_report_mem *m = r->mem;

	if (m == NULL || m->cap - m->used < n + 1) {
		size_t cap = n + 1 > MEM_CHUNK ? n + 1 : MEM_CHUNK;
		m = xmalloc(sizeof(*m) + cap);
		m->next = r->mem;
		m->used = 0;
		m->cap = cap;
		r->mem = m;
	}
	char *p = m->data + m->used;
	memcpy(p, s, n);
	p[n] = '\0';
	m->used += n + 1;
	return p;
}

void dmarc_report_free(struct dmarc_report *r)
{
	while (r->mem != NULL) {
		struct dmarc_report_mem *next = r->mem->next;
		free(r->mem);
		r->mem = next;
	}
	free(r->records);
	memset(r, 0, sizeof(*r));
}

struct rd {
	XML_Parser xp;
	struct dmarc_report *r;
	struct err *err;
	bool failed;
	unsigned depth;
	/* path of the open elements, "feedback/record/row/count" */
	char path[DMARC_REPORT_DEPTH * 40];
	size_t path_len[DMARC_REPORT_DEPTH + 1];
	char text[DMARC_REPORT_TEXT_MAX + 1];
	size_t text_len;
	size_t cap_records;
	bool reason_seen, have_begin, have_end, have_p, have_count;
	uint64_t dkim_seen, spf_seen;	/* per record, beyond what is kept */
};

static void rd_fail(struct rd *d, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rd_fail(struct rd *d, enum err_kind kind, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	if (d->failed)
		return;
	d->failed = true;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *c = msg; n >= 0 && *c; c++)	/* report text is peer text */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	err_set(d->err, kind, 0, NULL, "%s", n < 0 ? "bad report" : msg);
	XML_StopParser(d->xp, XML_FALSE);
}

static struct dmarc_report_row *rd_row(struct rd *d)
{
	return &d->r->records[d->r->n_records - 1];
}

static bool rd_word(const char *s, const char *const *words, size_t n, int *out)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0) {
			*out = (int)i;
			return true;
		}
	return false;
}

/* The schema's enumerations are case-sensitive: "Pass" is refused. */
static enum dmarc_rr rd_result(struct rd *d, const char *s, bool spf)
{
	static const char *const words[] = {
		"", "none", "pass", "fail", "neutral", "softfail", "policy",
		"temperror", "permerror",
	};
	int k;

	if (!rd_word(s, words, sizeof(words) / sizeof(words[0]), &k) || k == 0 ||
	    (spf && k == DMARC_RR_POLICY) || (!spf && k == DMARC_RR_SOFTFAIL)) {
		rd_fail(d, ERR_PEER, "result \"%.40s\" is not in the schema", s);
		return DMARC_RR_ABSENT;
	}
	return (enum dmarc_rr)k;
}

static enum dmarc_rr rd_passfail(struct rd *d, const char *s)
{
	if (strcmp(s, "pass") == 0)
		return DMARC_RR_PASS;
	if (strcmp(s, "fail") == 0)
		return DMARC_RR_FAIL;
	rd_fail(d, ERR_PEER, "policy_evaluated result \"%.40s\" is not pass or fail", s);
	return DMARC_RR_ABSENT;
}

static enum dmarc_policy rd_policy(struct rd *d, const char *s)
{
	static const char *const words[] = { "", "none", "quarantine", "reject" };
	int k;

	if (!rd_word(s, words, 4, &k) || k == 0) {
		rd_fail(d, ERR_PEER, "policy \"%.40s\" is not none, quarantine or reject", s);
		return DMARC_POLICY_UNSET;
	}
	return (enum dmarc_policy)k;
}

static bool rd_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static void rd_number(struct rd *d, const char *s, const char *what, uint64_t max,
		      uint64_t *out)
{
	char tmp[24];
	const char *dot = strchr(s, '.');

	/* 2012 reporters (OpenDMARC's samples) wrote "1337270400.0" */
	if (dot != NULL && dot > s && (size_t)(dot - s) < sizeof(tmp) &&
	    dot[1] != '\0' && strspn(dot + 1, "0") == strlen(dot + 1)) {
		memcpy(tmp, s, (size_t)(dot - s));
		tmp[dot - s] = '\0';
		s = tmp;
	}
	if (!rd_uint(s, max, out))
		rd_fail(d, ERR_PEER, "%s is not a number", what);
}

/* Called at an element's end with its trimmed text. */
static void rd_value(struct rd *d, const char *path, const char *s, size_t n)
{
	struct dmarc_report *r = d->r;
	uint64_t v = 0;

#define IS(p) (strcmp(path, p) == 0)
#define DUP() mem_dup(r, s, n)
	if (IS("feedback/report_metadata/org_name"))
		r->org_name = DUP();
	else if (IS("feedback/report_metadata/email"))
		r->email = DUP();
	else if (IS("feedback/report_metadata/extra_contact_info"))
		r->extra_contact_info = DUP();
	else if (IS("feedback/report_metadata/report_id"))
		r->report_id = DUP();
	else if (IS("feedback/report_metadata/date_range/begin")) {
		rd_number(d, s, "begin", INT64_MAX, &v);
		r->begin = (int64_t)v;
		d->have_begin = true;
	} else if (IS("feedback/report_metadata/date_range/end")) {
		rd_number(d, s, "end", INT64_MAX, &v);
		r->end = (int64_t)v;
		d->have_end = true;
	} else if (IS("feedback/policy_published/domain"))
		r->domain = DUP();
	else if (IS("feedback/policy_published/adkim") || IS("feedback/policy_published/aspf")) {
		enum dmarc_align a = DMARC_ALIGN_RELAXED;
		if (strcmp(s, "s") == 0)
			a = DMARC_ALIGN_STRICT;
		else if (strcmp(s, "r") != 0)
			rd_fail(d, ERR_PEER, "alignment \"%.40s\" is not r or s", s);
		if (IS("feedback/policy_published/adkim"))
			r->adkim = a;
		else
			r->aspf = a;
	} else if (IS("feedback/policy_published/p")) {
		r->p = rd_policy(d, s);
		d->have_p = true;
	} else if (IS("feedback/policy_published/sp")) {
		if (n > 0)
			r->sp = rd_policy(d, s);
	} else if (IS("feedback/policy_published/np")) {
		if (n > 0)
			r->np = rd_policy(d, s);
	} else if (IS("feedback/policy_published/pct")) {
		if (n > 0) {
			rd_number(d, s, "pct", 100, &v);
			r->pct = (unsigned)v;
		}
	} else if (IS("feedback/policy_published/fo"))
		r->fo = DUP();
	else if (r->n_records == 0)
		return;
	else if (IS("feedback/record/row/source_ip")) {
		unsigned char addr[16];
		if (inet_pton(AF_INET, s, addr) != 1 && inet_pton(AF_INET6, s, addr) != 1)
			rd_fail(d, ERR_PEER, "source_ip \"%.60s\" is not an address", s);
		rd_row(d)->source_ip = DUP();
	} else if (IS("feedback/record/row/count")) {
		rd_number(d, s, "count", UINT64_MAX, &rd_row(d)->count);
		d->have_count = true;
	} else if (IS("feedback/record/row/policy_evaluated/disposition"))
		rd_row(d)->disposition = strcmp(s, "pass") == 0
			? DMARC_DISP_PASS : (enum dmarc_disp)(int)rd_policy(d, s);
	else if (IS("feedback/record/row/policy_evaluated/dkim"))
		rd_row(d)->dkim = rd_passfail(d, s);
	else if (IS("feedback/record/row/policy_evaluated/spf"))
		rd_row(d)->spf = rd_passfail(d, s);
	else if (IS("feedback/record/row/policy_evaluated/reason/type")) {
		if (!d->reason_seen && n > 0)
			rd_row(d)->reason_type = DUP();
	} else if (IS("feedback/record/row/policy_evaluated/reason/comment")) {
		if (!d->reason_seen && n > 0)
			rd_row(d)->reason_comment = DUP();
	} else if (IS("feedback/record/identifiers/header_from"))
		rd_row(d)->header_from = DUP();
	else if (IS("feedback/record/identifiers/envelope_from"))
		rd_row(d)->envelope_from = DUP();
	else if (IS("feedback/record/identifiers/envelope_to"))
		rd_row(d)->envelope_to = DUP();
	else if (strncmp(path, "feedback/record/auth_results/dkim/", 34) == 0) {
		struct dmarc_report_row *row = rd_row(d);
		if (d->dkim_seen > DMARC_REPORT_AUTH_MAX)
			return;
		struct dmarc_report_dkim *k = &row->dkim_res[row->n_dkim - 1];
		if (IS("feedback/record/auth_results/dkim/domain"))
			k->domain = DUP();
		else if (IS("feedback/record/auth_results/dkim/selector"))
			k->selector = DUP();
		else if (IS("feedback/record/auth_results/dkim/result"))
			k->result = rd_result(d, s, false);
		else if (IS("feedback/record/auth_results/dkim/human_result") && n > 0)
			k->human_result = DUP();
	} else if (strncmp(path, "feedback/record/auth_results/spf/", 33) == 0) {
		struct dmarc_report_row *row = rd_row(d);
		if (d->spf_seen > DMARC_REPORT_AUTH_MAX)
			return;
		struct dmarc_report_spf *f = &row->spf_res[row->n_spf - 1];
		if (IS("feedback/record/auth_results/spf/domain"))
			f->domain = DUP();
		else if (IS("feedback/record/auth_results/spf/scope")) {
			if (strcmp(s, "helo") != 0 && strcmp(s, "mfrom") != 0)
				rd_fail(d, ERR_PEER, "spf scope \"%.40s\" is not helo or mfrom", s);
			f->scope = DUP();
		} else if (IS("feedback/record/auth_results/spf/result"))
			f->result = rd_result(d, s, true);
	}
#undef IS
#undef DUP
}

/* Checks at the end of each record: what appendix C requires. */
static void rd_record_end(struct rd *d)
{
	const struct dmarc_report_row *row = rd_row(d);

	if (row->source_ip == NULL)
		rd_fail(d, ERR_PEER, "a record has no %s", "source_ip");
	else if (!d->have_count)
		rd_fail(d, ERR_PEER, "a record has no %s", "count");
	else if (row->disposition == DMARC_DISP_ABSENT)
		rd_fail(d, ERR_PEER, "a record has no %s", "disposition");
	else if (row->dkim == DMARC_RR_ABSENT || row->spf == DMARC_RR_ABSENT)
		rd_fail(d, ERR_PEER, "a record has no %s", "policy_evaluated dkim or spf");
	else if (row->header_from == NULL)
		rd_fail(d, ERR_PEER, "a record has no %s", "header_from");
	for (size_t i = 0; i < row->n_dkim && !d->failed; i++)
		if (row->dkim_res[i].domain == NULL || row->dkim_res[i].result == DMARC_RR_ABSENT)
			rd_fail(d, ERR_PEER, "a dkim result has no %s", "domain or result");
	for (size_t i = 0; i < row->n_spf && !d->failed; i++)
		if (row->spf_res[i].domain == NULL || row->spf_res[i].result == DMARC_RR_ABSENT)
			rd_fail(d, ERR_PEER, "an spf result has no %s", "domain or result");
}

static void XMLCALL rd_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct rd *d = arg;
	const char *local = strrchr(name, ':');

	(void)attrs;
	if (d->failed)
		return;
	local = local ? local + 1 : name;
	if (d->depth == DMARC_REPORT_DEPTH) {
		rd_fail(d, ERR_LIMIT, "elements nested deeper than %s", "the limit");
		return;
	}
	if (d->depth == 0 && strcmp(local, "feedback") != 0) {
		rd_fail(d, ERR_PEER, "root element <%.40s> is not <feedback>", local);
		return;
	}
	size_t at = d->path_len[d->depth];
	size_t n = strlen(local);
	if (n > 38)
		n = 38;		/* no schema name is that long: it will not match */
	if (d->depth > 0)
		d->path[at++] = '/';
	memcpy(d->path + at, local, n);
	d->path[at + n] = '\0';
	d->path_len[++d->depth] = at + n;
	d->text_len = 0;

	struct dmarc_report *r = d->r;
	if (strcmp(d->path, "feedback/record") == 0) {
		if (r->n_records == DMARC_REPORT_RECORDS_MAX) {
			rd_fail(d, ERR_LIMIT, "more records than %s", "the limit");
			return;
		}
		if (r->n_records == d->cap_records) {
			d->cap_records = d->cap_records ? d->cap_records * 2 : 16;
			r->records = xreallocarray(r->records, d->cap_records, sizeof(*r->records));
		}
		memset(&r->records[r->n_records++], 0, sizeof(*r->records));
		d->reason_seen = d->have_count = false;
		d->dkim_seen = d->spf_seen = 0;
	} else if (r->n_records > 0 && strcmp(d->path, "feedback/record/auth_results/dkim") == 0) {
		if (++d->dkim_seen <= DMARC_REPORT_AUTH_MAX)
			rd_row(d)->n_dkim++;
	} else if (r->n_records > 0 && strcmp(d->path, "feedback/record/auth_results/spf") == 0) {
		if (++d->spf_seen <= DMARC_REPORT_AUTH_MAX)
			rd_row(d)->n_spf++;
	}
}

static void XMLCALL rd_end(void *arg, const XML_Char *name)
{
	struct rd *d = arg;
	size_t b = 0, e = d->text_len;

	(void)name;
	if (d->failed || d->depth == 0)
		return;
	while (b < e && strchr(" \t\r\n", d->text[b]))
		b++;
	while (e > b && strchr(" \t\r\n", d->text[e - 1]))
		e--;
	d->text[e] = '\0';
	rd_value(d, d->path, d->text + b, e - b);
	if (!d->failed && strcmp(d->path, "feedback/record") == 0)
		rd_record_end(d);
	if (strcmp(d->path, "feedback/record/row/policy_evaluated/reason") == 0)
		d->reason_seen = true;
	d->depth--;
	d->path[d->path_len[d->depth]] = '\0';
	d->text_len = 0;
}

static void XMLCALL rd_chars(void *arg, const XML_Char *s, int len)
{
	struct rd *d = arg;

	if (d->failed || len <= 0)
		return;
	if ((size_t)len > DMARC_REPORT_TEXT_MAX - d->text_len) {
		rd_fail(d, ERR_LIMIT, "element text longer than %s", "the limit");
		return;
	}
	memcpy(d->text + d->text_len, s, (size_t)len);
	d->text_len += (size_t)len;
}

static void XMLCALL rd_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	rd_fail(arg, ERR_PEER, "%s", "a DTD is not allowed in a report");
}

static void XMLCALL rd_entity(void *arg, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len, const XML_Char *base,
			      const XML_Char *sysid, const XML_Char *pubid,
			      const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base;
	(void)sysid, (void)pubid, (void)notation;
	rd_fail(arg, ERR_PEER, "%s", "entity declarations are not allowed");
}

/* windows-1252 (one 2012 sample declares it): Latin-1 except 0x80-0x9f. */
static int XMLCALL rd_encoding(void *arg, const XML_Char *name, XML_Encoding *info)
{
	static const unsigned short cp1252[32] = {
		0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
		0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
		0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
		0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
	};

	(void)arg;
	if (strcasecmp(name, "windows-1252") != 0 && strcasecmp(name, "cp1252") != 0)
		return XML_STATUS_ERROR;
	for (int i = 0; i < 256; i++)
		info->map[i] = i;
	for (int i = 0; i < 32; i++)
		info->map[0x80 + i] = cp1252[i] ? cp1252[i] : -1;
	info->data = NULL;
	info->convert = NULL;
	info->release = NULL;
	return XML_STATUS_OK;
}

static void rd_check(struct rd *d)
{
	const struct dmarc_report *r = d->r;
	const char *miss = NULL;

	if (r->org_name == NULL)
		miss = "report_metadata/org_name";
	else if (r->report_id == NULL)
		miss = "report_metadata/report_id";
	else if (!d->have_begin || !d->have_end)
		miss = "report_metadata/date_range";
	else if (r->domain == NULL)
		miss = "policy_published/domain";
	else if (!d->have_p)
		miss = "policy_published/p";
	else if (r->n_records == 0)
		miss = "record";
	if (miss != NULL)
		rd_fail(d, ERR_PEER, "report has no %s", miss);
	else if (r->end < r->begin)
		rd_fail(d, ERR_PEER, "%s", "date_range ends before it begins");
}

static int rd_parse(const char *xml, size_t len, struct dmarc_report *out, struct err *err)
{
	struct rd *d = xcalloc(1, sizeof(*d));
	int rc = 0;

	d->r = out;
	d->err = err;
	d->xp = XML_ParserCreate(NULL);
	if (d->xp == NULL) {
		free(d);
		return err_set(err, ERR_ENV, 0, NULL, "expat: out of memory");
	}
	XML_SetUserData(d->xp, d);
	XML_SetElementHandler(d->xp, rd_start, rd_end);
	XML_SetCharacterDataHandler(d->xp, rd_chars);
	XML_SetStartDoctypeDeclHandler(d->xp, rd_doctype);
	XML_SetEntityDeclHandler(d->xp, rd_entity);
	XML_SetUnknownEncodingHandler(d->xp, rd_encoding, NULL);
	XML_SetParamEntityParsing(d->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	if (len == 0)
		rd_fail(d, ERR_PEER, "%s", "report is empty");
	/* len <= DMARC_REPORT_XML_MAX < INT_MAX */
	else if (XML_Parse(d->xp, xml, (int)len, XML_TRUE) != XML_STATUS_OK && !d->failed) {
		char msg[160];
		dmarc_say(msg, sizeof(msg), "not well-formed XML: %s at line %lu",
			  XML_ErrorString(XML_GetErrorCode(d->xp)),
			  (unsigned long)XML_GetCurrentLineNumber(d->xp));
		rd_fail(d, ERR_PEER, "%s", msg);
	}
	if (!d->failed)
		rd_check(d);
	if (d->failed)
		rc = -1;
	XML_ParserFree(d->xp);
	free(d);
	return rc;
}

int dmarc_report_read(const void *data, size_t len, struct dmarc_report *out,
		      struct err *err)
{
	unsigned char *xml = NULL;
	size_t xml_len = 0;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	if (dmarc_report_unpack(data, len, &xml, &xml_len, err) < 0)
		return -1;
	if (xml == NULL && len > DMARC_REPORT_XML_MAX)
		return err_set(err, ERR_LIMIT, 0, NULL, "report larger than %d bytes",
			       DMARC_REPORT_XML_MAX);
	int rc = rd_parse(xml ? (const char *)xml : data, xml ? xml_len : len, out, err);
	free(xml);
	if (rc < 0)
		dmarc_report_free(out);
	return rc;
}

const char *dmarc_disp_str(enum dmarc_disp d)
{
	return d == DMARC_DISP_PASS ? "pass" : dmarc_policy_str((enum dmarc_policy)d);
}

const char *dmarc_rr_str(enum dmarc_rr r)
{
	switch (r) {
	case DMARC_RR_NONE: return "none";
	case DMARC_RR_PASS: return "pass";
	case DMARC_RR_FAIL: return "fail";
	case DMARC_RR_NEUTRAL: return "neutral";
	case DMARC_RR_SOFTFAIL: return "softfail";
	case DMARC_RR_POLICY: return "policy";
	case DMARC_RR_TEMPERROR: return "temperror";
	case DMARC_RR_PERMERROR: return "permerror";
	case DMARC_RR_ABSENT: break;
	}
	return "";
}
