/* dmarc_agg.c - report rows from inbound checks, counted in memory. */
#include "msgauth/dmarc_agg.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/xmalloc.h"

/* RFC 7489 appendix C: SPFResultType and DKIMResultType words. */
static enum dmarc_rr spf_rr(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return DMARC_RR_NONE;
	case SPF_NEUTRAL: return DMARC_RR_NEUTRAL;
	case SPF_PASS: return DMARC_RR_PASS;
	case SPF_FAIL: return DMARC_RR_FAIL;
	case SPF_SOFTFAIL: return DMARC_RR_SOFTFAIL;
	case SPF_TEMPERROR: return DMARC_RR_TEMPERROR;
	case SPF_PERMERROR: return DMARC_RR_PERMERROR;
	}
	return DMARC_RR_NONE;
}

static enum dmarc_rr dkim_rr(enum dkim_result r)
{
	switch (r) {
	case DKIM_NONE: return DMARC_RR_NONE;
	case DKIM_PASS: return DMARC_RR_PASS;
	case DKIM_FAIL: return DMARC_RR_FAIL;
	case DKIM_NEUTRAL: return DMARC_RR_NEUTRAL;
	case DKIM_POLICY: return DMARC_RR_POLICY;
	case DKIM_TEMPERROR: return DMARC_RR_TEMPERROR;
	case DKIM_PERMERROR: return DMARC_RR_PERMERROR;
	}
	return DMARC_RR_NONE;
}

enum dmarc_rr dmarc_rr_parse(const char *s)
{
	for (int r = DMARC_RR_NONE; r <= DMARC_RR_PERMERROR; r++)
		if (strcmp(s, dmarc_rr_str((enum dmarc_rr)r)) == 0)
			return (enum dmarc_rr)r;
	return DMARC_RR_ABSENT;
}

/* Append " word" (or "word" first) to out if it fits whole. */
static void append_word(char *out, size_t outsz, const char *word)
{
	size_t n = strlen(out), w = strlen(word);
	if (n + (n > 0) + w >= outsz)
		return;
	if (n > 0)
		out[n++] = ' ';
	memcpy(out + n, word, w + 1);
}

/* Only the characters of a domain or selector go into dkim_auth, so
 * that its spaces and slashes stay separators. */
static bool token_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '/' || (unsigned char)*s < 0x21 ||
		    (unsigned char)*s > 0x7e)
			return false;
	return true;
}

bool dmarc_agg_row(const struct msgauth_in *in, const struct msgauth_out *out,
		   struct store_dmarc_row *row)
{
	const struct dmarc_eval *ev = &out->dmarc;
	if (!out->dmarc_checked || !ev->have_record || ev->rec.n_rua == 0)
		return false;
	memset(row, 0, sizeof *row);
	row->day = (int64_t)in->now - (int64_t)in->now % 86400;
	snprintf(row->policy_domain, sizeof row->policy_domain, "%s",
		 ev->policy_domain);
	row->p = (uint8_t)ev->rec.p;
	row->sp = (uint8_t)ev->rec.sp;
	row->np = (uint8_t)ev->rec.np;
	row->pct = (uint8_t)ev->rec.pct;
	row->adkim = (uint8_t)ev->rec.adkim;
	row->aspf = (uint8_t)ev->rec.aspf;
	for (size_t i = 0; i < ev->rec.n_rua; i++) {
		char u[DMARC_URI_MAX + 32];
		if (ev->rec.rua[i].max_size > 0)
			snprintf(u, sizeof u, "%s!%llu", ev->rec.rua[i].uri,
				 (unsigned long long)ev->rec.rua[i].max_size);
		else
			snprintf(u, sizeof u, "%s", ev->rec.rua[i].uri);
		if (token_ok(u))
			append_word(row->rua, sizeof row->rua, u);
	}
	if (inet_ntop(in->family == AF_INET6 ? AF_INET6 : AF_INET, in->ip,
		      row->source_ip, sizeof row->source_ip) == NULL)
		snprintf(row->source_ip, sizeof row->source_ip, "0.0.0.0");
	snprintf(row->header_from, sizeof row->header_from, "%s",
		 ev->from_domain);
	const char *at = in->mail_from != NULL ? strrchr(in->mail_from, '@')
					       : NULL;
	if (at != NULL)
		dmarc_domain_norm(at + 1, strlen(at + 1), row->envelope_from);
	/* what was done to the message (RFC 7489 appendix C "the final
	 * policy action applied"), not what was asked */
	row->disposition = out->action == MSGAUTH_REJECT ? DMARC_DISP_REJECT :
			   out->action == MSGAUTH_JUNK ? DMARC_DISP_QUARANTINE :
							 DMARC_DISP_NONE;
	row->dkim = ev->dkim_aligned[0] != '\0' ? DMARC_RR_PASS : DMARC_RR_FAIL;
	row->spf = ev->spf_aligned[0] != '\0' ? DMARC_RR_PASS : DMARC_RR_FAIL;
	for (size_t i = 0; i < out->dkim.n && i < DMARC_REPORT_AUTH_MAX; i++) {
		const struct dkim_sig_result *r = &out->dkim.r[i];
		char w[DNS_NAME_MAX + DKIM_MAX_SELECTOR + 32];
		if (r->d[0] == '\0' || !token_ok(r->d) || !token_ok(r->s))
			continue;
		snprintf(w, sizeof w, "%s/%s/%s", r->d, r->s,
			 dmarc_rr_str(dkim_rr(r->result)));
		append_word(row->dkim_auth, sizeof row->dkim_auth, w);
	}
	snprintf(row->spf_domain, sizeof row->spf_domain, "%s", out->spf.domain);
	snprintf(row->spf_scope, sizeof row->spf_scope, "%s",
		 out->spf.identity == SPF_ID_HELO ? "helo" : "mfrom");
	row->spf_result = (uint8_t)spf_rr(out->spf.result);
	row->count = 1;
	return true;
}

size_t dmarc_agg_dkim_results(const char *dkim_auth,
			      char (*domains)[DMARC_DOMAIN_MAX + 1],
			      char (*selectors)[DKIM_MAX_SELECTOR + 1],
			      enum dmarc_rr *results, size_t max)
{
	size_t n = 0;
	const char *p = dkim_auth;
	while (*p != '\0' && n < max) {
		const char *end = strchr(p, ' ');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *s1 = memchr(p, '/', len);
		const char *s2 = s1 != NULL ? memchr(s1 + 1, '/',
						      len - (size_t)(s1 + 1 - p))
					    : NULL;
		if (s2 != NULL && (size_t)(s1 - p) <= DMARC_DOMAIN_MAX &&
		    (size_t)(s2 - s1 - 1) <= DKIM_MAX_SELECTOR &&
		    (size_t)(p + len - s2 - 1) < 16) {
			char word[16];
			memcpy(domains[n], p, (size_t)(s1 - p));
			domains[n][s1 - p] = '\0';
			memcpy(selectors[n], s1 + 1, (size_t)(s2 - s1 - 1));
			selectors[n][s2 - s1 - 1] = '\0';
			memcpy(word, s2 + 1, (size_t)(p + len - s2 - 1));
			word[p + len - s2 - 1] = '\0';
			results[n] = dmarc_rr_parse(word);
			if (results[n] != DMARC_RR_ABSENT)
				n++;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return n;
}

/* ---- the table ---------------------------------------------------------- */

struct dmarc_agg {
	pthread_mutex_t mu;
	size_t max, n;
	struct store_dmarc_row *rows;	/* n used, grown on need up to max */
	size_t cap;
	uint32_t *slots;		/* open addressing: row index + 1, 0 free */
	size_t n_slots;			/* a power of two >= 2 * max */
	uint64_t dropped;
};

#define KEY_LEN offsetof(struct store_dmarc_row, count)

static uint64_t key_hash(const struct store_dmarc_row *r)
{
	/* FNV-1a over the key bytes: rows are zero-filled, so equal keys
	 * are equal bytes */
	const unsigned char *p = (const unsigned char *)r;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < KEY_LEN; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

struct dmarc_agg *dmarc_agg_new(size_t max_rows)
{
	struct dmarc_agg *a = xcalloc(1, sizeof *a);
	pthread_mutex_init(&a->mu, NULL);
	a->max = max_rows != 0 ? max_rows : DMARC_AGG_ROWS_MAX;
	a->n_slots = 16;
	while (a->n_slots < 2 * a->max)
		a->n_slots *= 2;
	a->slots = xcalloc(a->n_slots, sizeof *a->slots);
	return a;
}

void dmarc_agg_free(struct dmarc_agg **ap)
{
	struct dmarc_agg *a = *ap;
	if (a == NULL)
		return;
	pthread_mutex_destroy(&a->mu);
	free(a->rows);
	free(a->slots);
	free(a);
	*ap = NULL;
}

bool dmarc_agg_add(struct dmarc_agg *a, const struct store_dmarc_row *row)
{
	size_t mask = a->n_slots - 1;
	size_t i = (size_t)key_hash(row) & mask;
	bool ok = true;
	pthread_mutex_lock(&a->mu);
	for (;; i = (i + 1) & mask) {
		uint32_t s = a->slots[i];
		if (s == 0)
			break;
		struct store_dmarc_row *r = &a->rows[s - 1];
		if (memcmp(r, row, KEY_LEN) == 0) {
			r->count += row->count;
			goto out;
		}
	}
	if (a->n == a->max) {
		a->dropped += row->count;
		ok = false;
		goto out;
	}
	if (a->n == a->cap) {
		a->cap = a->cap == 0 ? 64 : a->cap * 2;
		if (a->cap > a->max)
			a->cap = a->max;
		a->rows = xreallocarray(a->rows, a->cap, sizeof *a->rows);
	}
	a->rows[a->n] = *row;
	a->slots[i] = (uint32_t)++a->n;
out:
	pthread_mutex_unlock(&a->mu);
	return ok;
}

size_t dmarc_agg_take(struct dmarc_agg *a, struct store_dmarc_row **rows_out,
		      uint64_t *dropped_out)
{
	pthread_mutex_lock(&a->mu);
	size_t n = a->n;
	*rows_out = a->rows;
	*dropped_out = a->dropped;
	a->rows = NULL;
	a->n = a->cap = 0;
	a->dropped = 0;
	if (n > 0)
		memset(a->slots, 0, a->n_slots * sizeof *a->slots);
	pthread_mutex_unlock(&a->mu);
	return n;
}
