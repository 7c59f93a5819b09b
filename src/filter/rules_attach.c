/* rules_attach.c - dangerous attachments: executables and scripts by
 * name and by content, macro documents, names that hide their type, and
 * what a ZIP archive holds (zipdir.h). Only the start and the end of an
 * attachment are decoded, within a budget per message; nothing is ever
 * unpacked. */
#include "filter/rules_private.h"

#include <string.h>

#include "core/buf.h"
#include "filter/zipdir.h"

#define NAME_MAX_OCTETS 1024
#define EXT_MAX 12
/* A ZIP that claims to unpack to more than this, at more than RATIO
 * times its packed size, is a bomb whatever its names say. */
#define BOMB_SIZE (1024ull * 1024 * 1024)
#define BOMB_RATIO 1000u

/* What Windows (and macOS, for .app and .command) runs or mounts on a
 * double-click, or opens with a script host. */
static const char *const executable[] = {
	"exe", "scr", "com", "pif", "bat", "cmd", "js", "jse", "vbs", "vbe",
	"wsf", "wsh", "wsc", "hta", "ps1", "psm1", "msi", "msp", "msc", "jar",
	"lnk", "iso", "img", "vhd", "vhdx", "cpl", "reg", "scf", "inf", "dll",
	"sys", "chm", "appx", "msix", "appref-ms", "application", "gadget",
	"url", "library-ms", "settingcontent-ms", "xll", "hlp", "app",
	"command", "sh", "apk", "dmg",
};
/* Office formats whose name says "with macros". */
static const char *const macro_docs[] = {
	"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam",
	"ppsm", "sldm", "xlsb",
};
/* Containers a ZIP may hold to hide its content one level deeper. */
static const char *const archives[] = {
	"zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "cab", "ace",
	"arj", "lzh", "z", "zipx",
};
/* Types a name pretends to have before its real extension. */
static const char *const decoys[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf",
	"jpg", "jpeg", "png", "gif", "htm", "html", "zip", "csv", "mp3",
	"mp4", "avi", "odt",
};

static bool in(const char *ext, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ext, list[i]) == 0)
			return true;
	return false;
}

#define IN(ext, list) in(ext, list, sizeof list / sizeof list[0])

bool rules_ext_executable(const struct filter_rules_conf *conf,
			  const char *ext)
{
	if (IN(ext, executable))
		return true;
	for (size_t i = 0; i < conf->n_extra_exts; i++)
		if (conf->extra_exts[i] != NULL &&
		    strcmp(ext, conf->extra_exts[i]) == 0)
			return true;
	return false;
}

/* The extension before end (exclusive) in name[0..end), lower case, into
 * ext; its dot's index, or -1 when there is none (or it is too long). */
static long ext_at(const char *name, size_t end, char *ext)
{
	size_t i = end;

	while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/' &&
	       name[i - 1] != '\\' && end - i < EXT_MAX)
		i--;
	if (i == 0 || name[i - 1] != '.' || end - i >= EXT_MAX)
		return -1;
	for (size_t k = i; k < end; k++) {
		char ch = name[k];
		ext[k - i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	ext[end - i] = '\0';
	return (long)i - 1;
}

/* Windows drops trailing dots and spaces: "run.exe. " runs run.exe. */
static size_t name_end(const char *name)
{
	size_t n = strlen(name);

	while (n > 0 && (name[n - 1] == '.' || name[n - 1] == ' '))
		n--;
	return n;
}

struct att {
	struct rules_ctx *c;
	const char *name;	/* attachment name, for details */
	size_t budget;		/* decoded octets left for this message */
};

/* Checks on a file name (an attachment's or an archive entry's). */
static void check_name(struct att *a, const char *name, bool in_zip)
{
	char ext[EXT_MAX], prev[EXT_MAX];
	size_t end = name_end(name);
	long dot = ext_at(name, end, ext);

	if (dot < 0)
		return;
	bool exe = rules_ext_executable(a->c->conf, ext);
	if (in_zip) {
		if (exe)
			RULES_ADD(a->c, "ARCHIVE_EXECUTABLE", "%s: %s", a->name,
				  name);
		else if (IN(ext, archives))
			RULES_ADD(a->c, "ARCHIVE_NESTED", "%s: %s", a->name,
				  name);
		else if (IN(ext, macro_docs))
			RULES_ADD(a->c, "ATTACH_MACRO", "%s: %s", a->name, name);
		return;
	}
	if (exe)
		RULES_ADD(a->c, "ATTACH_EXECUTABLE", "%s", name);
	if (IN(ext, macro_docs))
		RULES_ADD(a->c, "ATTACH_MACRO", "%s", name);
	/* invoice.pdf.exe, and invoice.pdf     .exe that a narrow column
	 * shows as invoice.pdf */
	size_t p = (size_t)dot;
	bool spaces = p >= 3 && name[p - 1] == ' ' && name[p - 2] == ' ' &&
		      name[p - 3] == ' ';
	while (p > 0 && name[p - 1] == ' ')
		p--;
	if (exe && (spaces || (ext_at(name, p, prev) >= 0 && IN(prev, decoys))))
		RULES_ADD(a->c, "ATTACH_DOUBLE_EXT", "%s", name);
	/* U+202E RIGHT-TO-LEFT OVERRIDE shows "exe.pdf" for "fdp.exe" */
	if (strstr(name, "\xe2\x80\xae") != NULL)
		RULES_ADD(a->c, "ATTACH_DOUBLE_EXT", "right-to-left override "
			  "in %s", name);
}

static bool zip_entry(const struct zipdir_entry *e, void *arg)
{
	struct att *a = arg;
	size_t n = strlen(e->name);

	if (e->encrypted)
		RULES_ADD(a->c, "ARCHIVE_ENCRYPTED", "%s: %s", a->name, e->name);
	if (e->usize > BOMB_SIZE && e->usize / BOMB_RATIO > e->csize)
		RULES_ADD(a->c, "ARCHIVE_BOMB", "%s: %s", a->name, e->name);
	/* OOXML keeps its macros in vbaProject.bin */
	if (n >= 14 && strcmp(e->name + n - 14, "vbaProject.bin") == 0)
		RULES_ADD(a->c, "ATTACH_MACRO", "%s: %s", a->name, e->name);
	if (n > 0 && e->name[n - 1] != '/')
		check_name(a, e->name, true);
	return true;
}

static bool b64(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/* Decode at most max octets of the body's start (tail false) or end
 * (tail true) into out. Base64 is decoded from a quantum boundary
 * counted over the whole body, so the end is cut exactly; quoted-
 * printable is decoded whole within the budget. */
static void decode(struct att *a, struct span body, enum mime_cte cte,
		   bool tail, size_t max, struct buf *out)
{
	buf_init(out, max + 1024);
	if (a->budget == 0)
		return;
	if (max > a->budget)
		max = a->budget;
	struct span s = body;
	if (cte == MIME_CTE_BASE64) {
		size_t need = (max + 2) / 3 * 4;
		if (!tail) {
			size_t raw = 0, cnt = 0;
			while (raw < s.len && cnt < need)
				cnt += b64(s.p[raw++]);
			s.len = raw;
		} else {
			size_t total = 0, cnt = 0, raw = 0;
			for (size_t i = 0; i < s.len; i++)
				total += b64(s.p[i]);
			size_t skip = total > need ? (total - need + 3) / 4 * 4 : 0;
			while (raw < s.len && cnt < skip)
				cnt += b64(s.p[raw++]);
			s = span_make(s.p + raw, s.len - raw);
		}
		if (mime_base64_decode(s, out) < 0)
			buf_reset(out);
	} else if (cte == MIME_CTE_QP) {
		if (s.len > a->budget || mime_qp_decode(s, out) < 0)
			buf_reset(out);	/* buf sized max: a larger part */
	} else {
		if (s.len > max)
			s = tail ? span_make(s.p + s.len - max, max) :
				   span_make(s.p, max);
		if (buf_append(out, s.p, s.len) < 0)
			buf_reset(out);
	}
	if (tail && out->len > max)
		buf_consume(out, out->len - max);
	a->budget -= out->len < a->budget ? out->len : a->budget;
}

static bool has_utf16(struct span s, const char *ascii)
{
	unsigned char pat[32];
	size_t n = strlen(ascii);

	for (size_t i = 0; i < n; i++) {
		pat[2 * i] = (unsigned char)ascii[i];
		pat[2 * i + 1] = 0;
	}
	return s.len >= 2 * n && memmem(s.p, s.len, pat, 2 * n) != NULL;
}

/* A PE image: "MZ" and at 0x3C the offset of "PE\0\0". */
static bool is_pe(struct span h)
{
	if (h.len < 0x40 || h.p[0] != 'M' || h.p[1] != 'Z')
		return false;
	size_t off = (size_t)h.p[0x3c] | (size_t)h.p[0x3d] << 8 |
		     (size_t)h.p[0x3e] << 16 | (size_t)h.p[0x3f] << 24;
	return off <= h.len - 4 && memcmp(h.p + off, "PE\0\0", 4) == 0;
}

static void content(struct att *a, const struct mime_part *p)
{
	struct span body = mime_part_body(a->c->m, p);
	struct buf head, tail;

	decode(a, body, p->cte, false, FILTER_ATTACH_HEAD_MAX, &head);
	struct span h = buf_span(&head);
	if (h.len > FILTER_ATTACH_HEAD_MAX)	/* a last partial quantum */
		h.len = FILTER_ATTACH_HEAD_MAX;
	if (is_pe(h))
		RULES_ADD(a->c, "ATTACH_EXECUTABLE", "%s: a Windows program",
			  a->name);
	else if (h.len >= 8 && memcmp(h.p, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
				      8) == 0 && has_utf16(h, "_VBA_PROJECT"))
		RULES_ADD(a->c, "ATTACH_MACRO", "%s: VBA in an OLE document",
			  a->name);
	else if (h.len >= 4 && memcmp(h.p, "PK\x03\x04", 4) == 0) {
		decode(a, body, p->cte, true, FILTER_ATTACH_TAIL_MAX, &tail);
		struct zipdir_info info;
		if (zipdir_read(buf_span(&tail), zip_entry, a, &info) == 1 &&
		    info.cut)
			RULES_ADD(a->c, "ARCHIVE_OVERSIZE", "%s: %llu entries",
				  a->name, (unsigned long long)info.declared);
		buf_release(&tail);
	}
	buf_release(&head);
}

void rules_attach(struct rules_ctx *c)
{
	struct att a = { c, "", FILTER_ATTACH_DECODE_BUDGET };
	uint32_t n = mime_message_nparts(c->m);
	char name[NAME_MAX_OCTETS + 1];

	for (uint32_t i = 0; i < n; i++) {
		const struct mime_part *p = mime_message_part(c->m, i);
		if (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE))
			continue;
		const struct mime_param *fn = mime_param_find(
			p->disp_params, p->ndisp_params, "filename");
		if (fn == NULL)
			fn = mime_param_find(p->params, p->nparams, "name");
		name[0] = '\0';
		if (fn != NULL) {
			struct buf b;
			buf_init(&b, NAME_MAX_OCTETS);
			if (mime_param_utf8(fn, &b) == 0 || b.len > 0) {
				size_t k = 0;
				for (size_t j = 0; j < b.len; j++)
					if (b.data[j] != '\0')
						name[k++] = (char)b.data[j];
				name[k] = '\0';
			}
			buf_release(&b);
		}
		a.name = name[0] ? name : "(unnamed)";
		if (name[0] != '\0')
			check_name(&a, name, false);
		/* text the reader sees is not an attachment to run */
		if (name[0] != '\0' || !(p->flags & MIME_PART_TEXT))
			content(&a, p);
	}
}
