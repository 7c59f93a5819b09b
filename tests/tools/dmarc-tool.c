/* dmarc-tool.c - test driver for src/msgauth/dmarc*.c: runs one DMARC
 * operation and prints the outcome as one JSON object, for the vector
 * runner (tests/integration/test_dmarc_vectors.py). DNS comes from an
 * ma_zone text file; every name asked is listed in "queries".
 * Built into build/tests/tools/, never installed.
 *
 *   dmarc-tool eval ZONE (--from DOMAIN | --from-header TEXT)
 *              [--spf DOMAIN] [--dkim DOMAIN[:fail][:weak=BITS]]...
 *              [--arc RESULT] [--rand N]
 *   dmarc-tool discover ZONE DOMAIN
 *   dmarc-tool parse RECORD
 *   dmarc-tool align A B strict|relaxed
 *   dmarc-tool report FILE            (aggregate report -> JSON; *.eml: the
 *                                      report attached to that e-mail)
 *   dmarc-tool regz FILE RECEIVER DIR (read, write back as .xml.gz in DIR) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "msgauth/dmarc.h"
#include "msgauth/dmarc_report.h"
#include "msgauth/ma_zone.h"

struct logdns {
	struct ma_dns inner;
	json_t *queries;
};

static void log_lookup(void *arg, const char *name, enum ma_rr type, struct ma_rrset *out)
{
	struct logdns *l = arg;
	char q[300];

	snprintf(q, sizeof(q), "%s %s", name,
		 type == MA_RR_TXT ? "TXT" : type == MA_RR_A ? "A" :
		 type == MA_RR_AAAA ? "AAAA" : type == MA_RR_MX ? "MX" : "?");
	json_array_append_new(l->queries, json_string(q));
	ma_dns_query(&l->inner, name, type, out);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	char *p = malloc(cap + 1);

	if (f == NULL || p == NULL) {
		fprintf(stderr, "dmarc-tool: cannot read %s\n", path);
		exit(2);
	}
	while ((got = fread(p + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap + 1);
			if (p == NULL)
				exit(2);
		}
	}
	fclose(f);
	p[n] = '\0';
	*len = n;
	return p;
}

static struct ma_zone *load_zone(const char *path)
{
	struct ma_zone *z = ma_zone_new();
	struct err err;
	size_t len;
	char *text = slurp(path, &len);

	if (ma_zone_load(z, text, len, &err) < 0) {
		fprintf(stderr, "dmarc-tool: zone: %s\n", err.msg);
		exit(2);
	}
	free(text);
	return z;
}

static void print(json_t *o)
{
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	puts(s);
	free(s);
	json_decref(o);
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *uris(const struct dmarc_uri *u, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:I}", "uri", u[i].uri,
						   "max_size", (json_int_t)u[i].max_size));
	return a;
}

static json_t *record_json(const struct dmarc_record *r)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:i,s:b,s:i,s:i,s:I,s:o,s:o,s:i,s:s}",
			 "p", dmarc_policy_str(r->p), "sp", dmarc_policy_str(r->sp),
			 "np", dmarc_policy_str(r->np), "p_from_rua", r->p_from_rua,
			 "adkim", r->adkim == DMARC_ALIGN_STRICT ? "s" : "r",
			 "aspf", r->aspf == DMARC_ALIGN_STRICT ? "s" : "r",
			 "pct", (int)r->pct, "testing", r->testing, "fo", (int)r->fo,
			 "rf", (int)r->rf, "ri", (json_int_t)r->ri,
			 "rua", uris(r->rua, r->n_rua), "ruf", uris(r->ruf, r->n_ruf),
			 "n_ignored", (int)r->n_ignored, "complaint", r->complaint);
}

static int cmd_parse(const char *rec)
{
	struct dmarc_record r;
	const char *why = NULL;

	if (dmarc_record_parse(rec, strlen(rec), &r, &why) < 0)
		print(json_pack("{s:b,s:s,s:b}", "ok", 0, "why", why,
				"is_dmarc", dmarc_record_is_dmarc(rec, strlen(rec))));
	else
		print(json_pack("{s:b,s:o}", "ok", 1, "record", record_json(&r)));
	return 0;
}

static int cmd_discover(const char *zone, const char *domain)
{
	struct ma_zone *z = load_zone(zone);
	struct logdns l = { .queries = json_array() };
	struct ma_dns d = { log_lookup, &l };
	struct dmarc_discovery *out = malloc(sizeof(*out));
	char dom[DMARC_DOMAIN_MAX + 1];

	ma_zone_dns(z, &l.inner);
	if (dmarc_domain_norm(domain, strlen(domain), dom) < 0) {
		print(json_pack("{s:s,s:s,s:o}", "found", "invalid", "why", "bad domain",
				"queries", l.queries));
	} else {
		dmarc_discover(&d, dom, out);
		static const char *const found[] = { "found", "none", "temperror" };
		json_t *o = json_pack("{s:s,s:s,s:b,s:s,s:s,s:o}", "found", found[out->found],
				      "why", out->why, "org_record", out->org_record,
				      "domain", out->domain, "text", out->text,
				      "queries", l.queries);
		if (out->found == DMARC_FOUND)
			json_object_set_new(o, "record", record_json(&out->rec));
		print(o);
	}
	free(out);
	ma_zone_free(&z);
	return 0;
}

static unsigned fixed_rand(void *arg)
{
	return *(unsigned *)arg;
}

static int cmd_eval(int argc, char **argv)
{
	struct ma_zone *z = load_zone(argv[0]);
	struct logdns l = { .queries = json_array() };
	struct ma_dns d = { log_lookup, &l };
	struct dmarc_dkim_sig sigs[32];
	struct dmarc_input in = { 0 };
	struct dmarc_eval *ev = malloc(sizeof(*ev));
	char from[DMARC_DOMAIN_MAX + 1];
	unsigned fixed = 0;
	bool have_fixed = false;
	const char *from_header = NULL;

	ma_zone_dns(z, &l.inner);
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--from") == 0) {
			in.from_domain = v;
		} else if (strcmp(k, "--from-header") == 0) {
			from_header = v;
		} else if (strcmp(k, "--spf") == 0) {
			in.spf_domain = v;
			in.spf_pass = true;
		} else if (strcmp(k, "--dkim") == 0 && in.n_dkim < 32) {
			struct dmarc_dkim_sig *s = &sigs[in.n_dkim++];
			char *dup = strdup(v), *c = strchr(dup, ':');
			s->domain = dup;
			s->pass = true;
			s->weak_key_bits = 0;
			while (c != NULL) {
				*c++ = '\0';
				if (strncmp(c, "weak=", 5) == 0) {
					s->weak_key_bits = (unsigned)atoi(c + 5);
					s->pass = false;
				} else if (strncmp(c, "fail", 4) == 0) {
					s->pass = false;
				}
				c = strchr(c, ':');
			}
		} else if (strcmp(k, "--arc") == 0) {
			in.arc = v;
		} else if (strcmp(k, "--rand") == 0) {
			fixed = (unsigned)atoi(v);
			have_fixed = true;
		}
	}
	in.dkim = sigs;
	if (have_fixed) {
		in.rand = fixed_rand;
		in.rand_arg = &fixed;
	}
	if (from_header != NULL) {
		const char *why;
		enum dmarc_from_rc rc = dmarc_from_domain(span_cstr(from_header), from, &why);
		if (rc != DMARC_FROM_OK) {
			static const char *const rcs[] = { "ok", "missing", "multiple", "invalid" };
			print(json_pack("{s:s,s:s,s:s,s:o}", "from_rc", rcs[rc], "why", why,
					"result", "none", "queries", l.queries));
			goto out;
		}
		in.from_domain = from;
	}
	dmarc_evaluate(&d, &in, ev);
	char ar[600];
	if (dmarc_auth_results(ev, ar, sizeof(ar)) < 0)
		snprintf(ar, sizeof(ar), "(did not fit)");
	json_t *o = json_pack(
		"{s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:b,s:s,s:s,s:i,s:b,s:s,s:s,s:s,s:s,s:o}",
		"from_rc", "ok", "result", dmarc_result_str(ev->result),
		"policy", ev->have_record ? dmarc_policy_str(ev->policy) : "",
		"which", dmarc_which_str(ev->which), "sampled_out", ev->sampled_out,
		"nonexistent", ev->nonexistent, "disposition", dmarc_policy_str(ev->disposition),
		"from_domain", ev->from_domain, "org_record", ev->org_record,
		"dkim_aligned", ev->dkim_aligned, "spf_aligned", ev->spf_aligned,
		"weak_key_bits", (int)ev->weak_key_bits, "have_record", ev->have_record,
		"policy_domain", ev->policy_domain, "record_text", ev->record_text,
		"reason", ev->reason, "auth_results", ar, "queries", l.queries);
	if (ev->have_record)
		json_object_set_new(o, "record", record_json(&ev->rec));
	print(o);
out:
	for (size_t i = 0; i < in.n_dkim; i++)
		free((char *)(uintptr_t)sigs[i].domain);
	free(ev);
	ma_zone_free(&z);
	return 0;
}

static json_t *report_json(const struct dmarc_report *r)
{
	json_t *recs = json_array();

	for (size_t i = 0; i < r->n_records; i++) {
		const struct dmarc_report_row *w = &r->records[i];
		json_t *dk = json_array(), *sp = json_array();
		for (size_t k = 0; k < w->n_dkim; k++)
			json_array_append_new(dk, json_pack("{s:o,s:o,s:s,s:o}",
				"domain", jstr_or_null(w->dkim_res[k].domain),
				"selector", jstr_or_null(w->dkim_res[k].selector),
				"result", dmarc_rr_str(w->dkim_res[k].result),
				"human_result", jstr_or_null(w->dkim_res[k].human_result)));
		for (size_t k = 0; k < w->n_spf; k++)
			json_array_append_new(sp, json_pack("{s:o,s:o,s:s}",
				"domain", jstr_or_null(w->spf_res[k].domain),
				"scope", jstr_or_null(w->spf_res[k].scope),
				"result", dmarc_rr_str(w->spf_res[k].result)));
		json_array_append_new(recs, json_pack(
			"{s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			"source_ip", w->source_ip, "count", (json_int_t)w->count,
			"disposition", dmarc_disp_str(w->disposition),
			"dkim", dmarc_rr_str(w->dkim), "spf", dmarc_rr_str(w->spf),
			"reason_type", jstr_or_null(w->reason_type),
			"reason_comment", jstr_or_null(w->reason_comment),
			"header_from", jstr_or_null(w->header_from),
			"envelope_from", jstr_or_null(w->envelope_from),
			"envelope_to", jstr_or_null(w->envelope_to),
			"dkim_results", dk, "spf_results", sp));
	}
	return json_pack("{s:b,s:o,s:o,s:o,s:o,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:o,s:o}",
		"ok", 1, "org_name", jstr_or_null(r->org_name), "email", jstr_or_null(r->email),
		"extra_contact_info", jstr_or_null(r->extra_contact_info),
		"report_id", jstr_or_null(r->report_id),
		"begin", (json_int_t)r->begin, "end", (json_int_t)r->end,
		"domain", r->domain, "adkim", r->adkim == DMARC_ALIGN_STRICT ? "s" : "r",
		"aspf", r->aspf == DMARC_ALIGN_STRICT ? "s" : "r",
		"p", dmarc_policy_str(r->p), "sp", dmarc_policy_str(r->sp),
		"np", dmarc_policy_str(r->np), "pct", (int)r->pct, "fo", jstr_or_null(r->fo),
		"records", recs);
}

static int cmd_report(const char *path, const char *receiver, const char *dir)
{
	struct dmarc_report r;
	struct err err;
	size_t len;
	char *data = slurp(path, &len);

	size_t pl = strlen(path);
	bool mail = pl > 4 && strcmp(path + pl - 4, ".eml") == 0;
	if ((mail ? dmarc_report_read_mail(data, len, &r, &err)
		  : dmarc_report_read(data, len, &r, &err)) < 0) {
		print(json_pack("{s:b,s:s,s:s}", "ok", 0, "why", err.msg,
				"kind", err.kind == ERR_LIMIT ? "limit" : "peer"));
		free(data);
		return 0;
	}
	free(data);
	if (dir == NULL) {
		print(report_json(&r));
		dmarc_report_free(&r);
		return 0;
	}
	char name[600], full[1200];
	unsigned char *gz;
	size_t gzlen;
	if (dmarc_report_filename(receiver, &r, NULL, name, sizeof(name), &err) < 0 ||
	    dmarc_report_gzip(&r, &gz, &gzlen, &err) < 0) {
		print(json_pack("{s:b,s:s}", "ok", 0, "why", err.msg));
		dmarc_report_free(&r);
		return 1;
	}
	snprintf(full, sizeof(full), "%s/%s", dir, name);
	FILE *f = fopen(full, "wb");
	if (f == NULL || fwrite(gz, 1, gzlen, f) != gzlen || fclose(f) != 0) {
		fprintf(stderr, "dmarc-tool: cannot write %s\n", full);
		return 2;
	}
	free(gz);
	dmarc_report_free(&r);
	print(json_pack("{s:b,s:s,s:s}", "ok", 1, "file", full, "name", name));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "parse") == 0)
		return cmd_parse(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "discover") == 0)
		return cmd_discover(argv[2], argv[3]);
	if (argc >= 3 && strcmp(argv[1], "eval") == 0)
		return cmd_eval(argc - 2, argv + 2);
	if (argc >= 5 && strcmp(argv[1], "align") == 0) {
		bool a = dmarc_aligned(argv[2], argv[3], strcmp(argv[4], "strict") == 0
				       ? DMARC_ALIGN_STRICT : DMARC_ALIGN_RELAXED);
		puts(a ? "aligned" : "not_aligned");
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "report") == 0)
		return cmd_report(argv[2], NULL, NULL);
	if (argc >= 5 && strcmp(argv[1], "regz") == 0)
		return cmd_report(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: dmarc-tool eval|discover|parse|align|report|regz ...\n");
	return 2;
}
