/* span.c - helpers on borrowed byte runs. */
#include "core/span.h"

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool span_eq_ci(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower((unsigned char)lit[i]))
			return false;
	return true;
}

bool span_prefix_ci(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower((unsigned char)lit[i]))
			return false;
	return true;
}

struct span span_trim(struct span s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

int span_to_cstr(struct span s, char *dst, size_t dstsz)
{
	if (dstsz == 0 || s.len >= dstsz || memchr(s.p, 0, s.len) != NULL)
		return -1;
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}
