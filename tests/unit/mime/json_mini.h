/* json_mini.h - just enough JSON (RFC 8259) to read the Stalwart
 * mail-parser test vectors: values into a tree of nodes, strings decoded
 * to UTF-8. Test code only (header-only, each test is its own binary);
 * aborts the test on malformed input rather than recovering. */
#ifndef PETREL_JSON_MINI_H
#define PETREL_JSON_MINI_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype type;
	double num;
	bool b;
	char *str;		/* J_STR: UTF-8, NUL-terminated; len below */
	size_t len;
	struct jnode **items;	/* J_ARR, J_OBJ values */
	char **keys;		/* J_OBJ */
	size_t n;
};

struct jparse {
	const char *p, *end;
	bool bad;
};

static void j_ws(struct jparse *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
				 *j->p == '\r'))
		j->p++;
}

static void j_utf8(char *d, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		d[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		d[(*n)++] = (char)(0xC0 | (cp >> 6));
		d[(*n)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		d[(*n)++] = (char)(0xE0 | (cp >> 12));
		d[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		d[(*n)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		d[(*n)++] = (char)(0xF0 | (cp >> 18));
		d[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		d[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		d[(*n)++] = (char)(0x80 | (cp & 0x3F));
	}
}

static unsigned j_hex4(struct jparse *j)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		if (j->p >= j->end) {
			j->bad = true;
			return 0;
		}
		char c = *j->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			j->bad = true;
	}
	return v;
}

static char *j_string(struct jparse *j, size_t *len_out)
{
	j->p++;	/* '"' */
	char *d = malloc((size_t)(j->end - j->p) * 2 + 4);
	size_t n = 0;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if (c != '\\') {
			d[n++] = c;
			continue;
		}
		if (j->p >= j->end)
			break;
		c = *j->p++;
		switch (c) {
		case 'n': d[n++] = '\n'; break;
		case 'r': d[n++] = '\r'; break;
		case 't': d[n++] = '\t'; break;
		case 'b': d[n++] = '\b'; break;
		case 'f': d[n++] = '\f'; break;
		case 'u': {
			unsigned cp = j_hex4(j);
			if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 &&
			    j->p[0] == '\\' && j->p[1] == 'u') {
				j->p += 2;
				unsigned lo = j_hex4(j);
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			j_utf8(d, &n, cp);
			break;
		}
		default: d[n++] = c; break;
		}
	}
	if (j->p < j->end)
		j->p++;
	else
		j->bad = true;
	d[n] = '\0';
	*len_out = n;
	return d;
}

static struct jnode *j_value(struct jparse *j, int depth)
{
	struct jnode *v = calloc(1, sizeof *v);
	j_ws(j);
	if (j->p >= j->end || depth > 200) {
		j->bad = true;
		return v;
	}
	char c = *j->p;
	if (c == '"') {
		v->type = J_STR;
		v->str = j_string(j, &v->len);
	} else if (c == '[' || c == '{') {
		bool obj = c == '{';
		v->type = obj ? J_OBJ : J_ARR;
		j->p++;
		size_t cap = 0;
		for (;;) {
			j_ws(j);
			if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
				j->p++;
				break;
			}
			if (j->p >= j->end || j->bad) {
				j->bad = true;
				break;
			}
			if (v->n == cap) {
				cap = cap ? cap * 2 : 8;
				v->items = realloc(v->items, cap * sizeof *v->items);
				if (obj)
					v->keys = realloc(v->keys, cap * sizeof *v->keys);
			}
			if (obj) {
				size_t kl;
				if (*j->p != '"') {
					j->bad = true;
					break;
				}
				v->keys[v->n] = j_string(j, &kl);
				j_ws(j);
				if (j->p < j->end && *j->p == ':')
					j->p++;
			}
			v->items[v->n++] = j_value(j, depth + 1);
			j_ws(j);
			if (j->p < j->end && *j->p == ',')
				j->p++;
		}
	} else if (c == 'n') {
		v->type = J_NULL;
		j->p += 4;
	} else if (c == 't' || c == 'f') {
		v->type = J_BOOL;
		v->b = c == 't';
		j->p += c == 't' ? 4 : 5;
	} else {
		v->type = J_NUM;
		char *e;
		v->num = strtod(j->p, &e);
		if (e == j->p)
			j->bad = true;
		j->p = e;
	}
	return v;
}

static struct jnode *json_parse(const char *p, size_t len)
{
	struct jparse j = { p, p + len, false };
	struct jnode *v = j_value(&j, 0);
	return j.bad ? NULL : v;
}

static void json_free(struct jnode *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

/* Member of an object, or NULL. */
static struct jnode *json_get(const struct jnode *o, const char *key)
{
	if (o == NULL || o->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->keys[i], key) == 0)
			return o->items[i];
	return NULL;
}

#endif
