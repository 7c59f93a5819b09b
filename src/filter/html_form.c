/* html_form.c - the <form> and <input> tags of an HTML part (form.h).
 * Not the text reader of html_text.c: that one keeps what a reader sees,
 * this one only what a form asks for, so neither grows the other's
 * state. Attribute values are read raw (no entities): an action hidden
 * behind entities is still a form, and the type of an input is plain
 * ASCII in every real form. */
#include "filter/form.h"

#include <stdbool.h>
#include <string.h>

#include "filter/url.h"

#define ATTR_NAME_MAX 16

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Does s[i..n) start with lit, case-insensitively? */
static bool at_ci(const unsigned char *s, size_t n, size_t i, const char *lit)
{
	size_t k = strlen(lit);

	if (n - i < k)
		return false;
	for (size_t j = 0; j < k; j++)
		if (lower(s[i + j]) != (unsigned char)lit[j])
			return false;
	return true;
}

/* Index just past the first occurrence of lit at or after i (case-
 * insensitive), or n. */
static size_t skip_past(const unsigned char *s, size_t n, size_t i,
			const char *lit)
{
	for (; i < n; i++)
		if (lower(s[i]) == (unsigned char)lit[0] && at_ci(s, n, i, lit))
			return i + strlen(lit);
	return n;
}

static void inc(unsigned *c)
{
	if (*c < 1000000)
		(*c)++;
}

static void add_action(struct filter_forms *f, struct span v)
{
	struct filter_url u;

	if (v.len == 0 || v.len > FILTER_URL_MAX_LEN ||
	    !(span_prefix_ci(v, "http://") || span_prefix_ci(v, "https://") ||
	      span_prefix_ci(v, "//")))
		return;
	if (filter_url_normalise(v, &u) < 0)
		return;
	size_t hl = strlen(u.host);
	bool dup = hl >= FILTER_FORM_HOST_MAX;
	for (size_t i = 0; i < f->nactions && !dup; i++)
		dup = strcmp(f->actions[i], u.host) == 0;
	if (!dup && f->nactions < FILTER_FORM_ACTIONS_MAX)
		memcpy(f->actions[f->nactions++], u.host, hl + 1);
	filter_url_clear(&u);
}

static const char *const typed_inputs[] = {
	"text", "email", "password", "tel", "number", "",
};

/* Attributes of the tag whose name ends at i; returns the index after
 * its '>'. */
static size_t tag_attrs(const unsigned char *s, size_t n, size_t i,
			bool form, struct filter_forms *f)
{
	struct span type = { NULL, 0 };
	bool typed = false;

	while (i < n && s[i] != '>') {
		if (is_space(s[i]) || s[i] == '/') {
			i++;
			continue;
		}
		char name[ATTR_NAME_MAX];
		size_t nl = 0;
		while (i < n && !is_space(s[i]) && s[i] != '=' && s[i] != '>' &&
		       s[i] != '/') {
			if (nl < sizeof name - 1)
				name[nl++] = (char)lower(s[i]);
			i++;
		}
		name[nl] = '\0';
		while (i < n && is_space(s[i]))
			i++;
		struct span v = { NULL, 0 };
		if (i < n && s[i] == '=') {
			i++;
			while (i < n && is_space(s[i]))
				i++;
			size_t st;
			if (i < n && (s[i] == '"' || s[i] == '\'')) {
				unsigned char q = s[i++];
				st = i;
				while (i < n && s[i] != q)
					i++;
				v = span_make(s + st, i - st);
				if (i < n)
					i++;
			} else {
				st = i;
				while (i < n && !is_space(s[i]) && s[i] != '>')
					i++;
				v = span_make(s + st, i - st);
			}
		}
		v = span_trim(v);
		if (form && strcmp(name, "action") == 0)
			add_action(f, v);
		else if (!form && strcmp(name, "type") == 0) {
			type = v;
			typed = true;
		}
	}
	if (!form) {
		if (typed && span_eq_ci(type, "password"))
			inc(&f->passwords);
		for (size_t k = 0; k < sizeof typed_inputs / sizeof typed_inputs[0]; k++)
			if (!typed || span_eq_ci(type, typed_inputs[k])) {
				inc(&f->inputs);
				break;
			}
	}
	return i < n ? i + 1 : n;
}

void filter_forms_scan(struct span html, struct filter_forms *f)
{
	const unsigned char *s = html.p;
	size_t n = html.len < FILTER_HTML_MAX_INPUT ? html.len :
						      FILTER_HTML_MAX_INPUT;
	size_t i = 0;

	while (i < n) {
		const unsigned char *lt = memchr(s + i, '<', n - i);
		if (lt == NULL)
			break;
		i = (size_t)(lt - s) + 1;
		if (at_ci(s, n, i, "!--")) {
			i = skip_past(s, n, i + 3, "-->");
			continue;
		}
		bool form = at_ci(s, n, i, "form");
		bool input = at_ci(s, n, i, "input");
		size_t nl = form ? 4 : input ? 5 : 0;
		if (at_ci(s, n, i, "script") || at_ci(s, n, i, "style")) {
			i = skip_past(s, n, i, at_ci(s, n, i, "script") ?
				      "</script" : "</style");
			continue;
		}
		if (nl == 0 || i + nl >= n ||
		    !(is_space(s[i + nl]) || s[i + nl] == '>' || s[i + nl] == '/'))
			continue;
		if (form)
			inc(&f->forms);
		i = tag_attrs(s, n, i + nl, form, f);
	}
}
