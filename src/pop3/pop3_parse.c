/* pop3_parse.c - POP3 command-line syntax. */
#include "pop3/pop3_parse.h"

#include <string.h>

static const char *const verbs[POP3_NVERBS] = {
	"", "USER", "PASS", "AUTH", "STLS", "CAPA", "QUIT", "STAT", "LIST",
	"RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL",
};

int pop3_cmd_parse(struct span line, struct pop3_cmd *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < line.len; i++)
		if (line.p[i] < 0x20 || line.p[i] == 0x7f)
			return err_set(err, ERR_PEER, 0, NULL, "Control characters in command");
	size_t k = 0;
	while (k < line.len && line.p[k] != ' ')
		k++;
	struct span kw = span_make(line.p, k);
	out->verb = POP3_UNKNOWN;
	for (int v = 1; v < POP3_NVERBS; v++)
		if (span_eq_ci(kw, verbs[v]))
			out->verb = (enum pop3_verb)v;
	if (k < line.len)
		k++;	/* the separating space */
	out->rest = span_make(line.p + k, line.len - k);
	size_t p = k;
	while (p < line.len) {
		size_t e = p;
		while (e < line.len && line.p[e] != ' ')
			e++;
		if (e > p) {
			if (out->nargs == 2) {
				if (out->verb == POP3_PASS || out->verb == POP3_AUTH)
					break;	/* they read rest / args[0..1] */
				return err_set(err, ERR_PEER, 0, NULL, "Too many arguments");
			}
			out->args[out->nargs++] = span_make(line.p + p, e - p);
		}
		p = e + 1;
	}
	return 0;
}

bool pop3_parse_msgno(struct span s, uint32_t max, uint32_t *out)
{
	uint64_t n = 0;
	if (s.len == 0 || s.len > 10)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (n == 0 || n > max)
		return false;
	*out = (uint32_t)n;
	return true;
}

bool pop3_parse_count(struct span s, uint32_t *out)
{
	uint64_t n = 0;
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		if (n < UINT32_MAX)
			n = n * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return true;
}
