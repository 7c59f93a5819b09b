/* rep_ti.c - the optional threat-intelligence API: one GET per URL to a
 * configured template, answers cached, everything bounded by one
 * deadline per message, and every failure "unknown". What leaves the
 * server is the URL itself (and the admin's key): never the message,
 * its sender or its recipients. Logs name the API's host and the
 * reason, never the URL asked or the key. */
#include "filter/rep_private.h"

#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "filter/sym.h"
#include "filter/token.h"

struct rep_ti {
	char *tmpl;
	char host[256];		/* for logs */
	struct rep_http *http;
	struct rep_cache *cache;
	unsigned timeout;	/* seconds per message */
	unsigned max_urls;
	_Atomic int64_t quiet_until;	/* ms: left alone after a failure */
};

int rep_ti_expand(const char *tmpl, const char *url, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const char *t = tmpl; *t != '\0'; t++) {
		if (t[0] == '%' && t[1] == 'u') {
			for (const unsigned char *u = (const unsigned char *)url;
			     *u != '\0'; u++) {
				bool keep = (*u >= 'A' && *u <= 'Z') ||
					    (*u >= 'a' && *u <= 'z') ||
					    (*u >= '0' && *u <= '9') ||
					    *u == '-' || *u == '.' ||
					    *u == '_' || *u == '~';

				if (n + (keep ? 1 : 3) >= outsz)
					return -1;
				if (keep) {
					out[n++] = (char)*u;
				} else {
					out[n++] = '%';
					out[n++] = hex[*u >> 4];
					out[n++] = hex[*u & 15];
				}
			}
			t++;
			continue;
		}
		if (n + 1 >= outsz)
			return -1;
		out[n++] = *t;
		if (t[0] == '%' && t[1] == '%')
			t++;
	}
	if (n >= outsz)
		return -1;
	out[n] = '\0';
	return 0;
}

enum rep_verdict rep_ti_answer(int status, const unsigned char *body,
			       size_t len, char cat[REP_CATEGORY_MAX])
{
	enum rep_verdict v = REP_UNKNOWN;
	json_t *root, *mal, *c;

	cat[0] = '\0';
	if (status == 404)
		return REP_CLEAN;
	if (status != 200)
		return REP_UNKNOWN;
	root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return REP_UNKNOWN;
	}
	mal = json_object_get(root, "malicious");
	if (json_is_boolean(mal))
		v = json_is_true(mal) ? REP_MALICIOUS : REP_CLEAN;
	c = json_object_get(root, "category");
	if (v == REP_MALICIOUS && json_is_string(c)) {
		const char *s = json_string_value(c);
		size_t n = 0;

		for (; s[n] != '\0' && n < REP_CATEGORY_MAX - 1; n++)
			cat[n] = s[n] > ' ' && s[n] < 0x7f ? s[n] : '?';
		cat[n] = '\0';
	}
	json_decref(root);
	return v;
}

/* The key file's first line: printable ASCII without blanks (it goes
 * into a header line as it is). */
static int read_key(const char *path, char **out, struct err *err)
{
	struct filter_file_stamp st;
	char *text;
	size_t len, n = 0;

	*out = NULL;
	if (filter_file_read(path, FILTER_REP_TI_KEY_MAX, &text, &len, &st,
			     err) != 0)
		return -1;
	if (text == NULL)
		return err_set(err, ERR_ENV, 0, NULL, "%s: no such file", path);
	while (n < len && text[n] != '\n' && text[n] != '\r')
		n++;
	for (size_t i = 0; i < n; i++)
		if (text[i] <= ' ' || text[i] >= 0x7f) {
			sodium_memzero(text, len);
			free(text);
			return err_set(err, ERR_CONFIG, 0, NULL, "%s: the key "
				       "must be one word of printable ASCII",
				       path);
		}
	if (n == 0) {
		free(text);
		return err_set(err, ERR_CONFIG, 0, NULL, "%s: empty", path);
	}
	sodium_memzero(text + n, len - n);
	*out = text;
	return 0;
}

struct rep_ti *rep_ti_new(const struct filter_rep_conf *conf,
			  struct err *err)
{
	struct rep_http_url u;
	char path[4096], *key = NULL;
	char *probe;
	struct rep_ti *t;
	int rc;

	err_clear(err);
	if (conf->ti_url == NULL || conf->ti_url[0] == '\0')
		return NULL;
	if (strstr(conf->ti_url, "%u") == NULL)
		goto bad_url;
	probe = xmalloc(FILTER_REP_TI_URL_MAX);
	rc = rep_ti_expand(conf->ti_url, "http://example.com/", probe,
			   FILTER_REP_TI_URL_MAX);
	if (rc == 0)
		rc = rep_http_url_parse(probe, &u);
	free(probe);
	if (rc != 0)
		goto bad_url;
	if (conf->ti_key_file != NULL && conf->ti_key_file[0] != '\0') {
		if (rep_path(conf->dir, conf->ti_key_file, path,
			     sizeof path) != 0)
			return err_set(err, ERR_CONFIG, 0, NULL, "filter_ti_key_"
				       "file: path too long"), NULL;
		if (read_key(path, &key, err) != 0)
			return NULL;
	}
	t = xcalloc(1, sizeof *t);
	if (conf->ti_ca_file != NULL && conf->ti_ca_file[0] != '\0' &&
	    rep_path(conf->dir, conf->ti_ca_file, path, sizeof path) != 0) {
		err_set(err, ERR_CONFIG, 0, NULL, "filter_ti_ca_file: path "
			"too long");
		goto fail;
	}
	t->http = rep_http_new(conf->ti_ca_file && conf->ti_ca_file[0] ?
			       path : NULL, key, err);
	if (t->http == NULL)
		goto fail;
	t->tmpl = xstrdup(conf->ti_url);
	snprintf(t->host, sizeof t->host, "%s", u.host);
	t->timeout = conf->ti_timeout ? conf->ti_timeout :
		     FILTER_REP_TI_TIMEOUT_DEFAULT;
	t->max_urls = conf->ti_max_urls ? conf->ti_max_urls :
		      FILTER_REP_TI_URLS_DEFAULT;
	if (t->max_urls > FILTER_REP_TI_URLS_MAX)
		t->max_urls = FILTER_REP_TI_URLS_MAX;
	t->cache = rep_cache_new(conf->ti_cache_size ? conf->ti_cache_size :
				 FILTER_REP_TI_CACHE_DEFAULT,
				 conf->ti_cache_ttl ? conf->ti_cache_ttl :
				 FILTER_REP_TI_TTL_DEFAULT);
	if (key != NULL) {
		sodium_memzero(key, strlen(key));
		free(key);
	}
	return t;
fail:
	if (key != NULL) {
		sodium_memzero(key, strlen(key));
		free(key);
	}
	rep_ti_free(&t);
	return NULL;
bad_url:
	return err_set(err, ERR_CONFIG, 0, NULL, "filter_ti_url: expected "
		       "http://host[:port]/path or https://... with %%u where "
		       "the URL goes"), NULL;
}

void rep_ti_free(struct rep_ti **tp)
{
	struct rep_ti *t = *tp;

	if (t == NULL)
		return;
	rep_http_free(&t->http);
	rep_cache_free(&t->cache);
	free(t->tmpl);
	free(t);
	*tp = NULL;
}

enum rep_verdict rep_ti_ask(struct rep_ti *t, const char *url,
			    int64_t deadline_ms, char cat[REP_CATEGORY_MAX])
{
	uint64_t key = filter_token_hash(url, strlen(url));
	int64_t now = rep_now_ms();
	enum rep_verdict v;
	struct rep_http_resp resp;
	struct err err = { 0 };
	unsigned char *body;
	char *req;

	cat[0] = '\0';
	if (rep_cache_get(t->cache, key, (time_t)(now / 1000), &v, cat))
		return v;
	if (now < atomic_load(&t->quiet_until) || now >= deadline_ms)
		return REP_UNKNOWN;
	req = xmalloc(FILTER_REP_TI_URL_MAX);
	if (rep_ti_expand(t->tmpl, url, req, FILTER_REP_TI_URL_MAX) != 0) {
		free(req);
		return REP_UNKNOWN;	/* a URL too long to ask about */
	}
	body = xmalloc(FILTER_REP_TI_RESPONSE_MAX);
	if (rep_http_get(t->http, req, deadline_ms, body,
			 FILTER_REP_TI_RESPONSE_MAX, &resp, &err) != 0) {
		/* fail open; a transport failure leaves the API alone for a
		 * while so every message does not wait the timeout out */
		if (err.kind == ERR_ENV)
			atomic_store(&t->quiet_until,
				     rep_now_ms() + FILTER_REP_TI_BACKOFF * 1000);
		log_warn("filter", NULL, "threat-intelligence api host=%s "
			 "unknown: %s", t->host, err.msg);
		v = REP_UNKNOWN;
	} else {
		v = rep_ti_answer(resp.status, body, resp.body_len, cat);
		if (v == REP_UNKNOWN)
			log_warn("filter", NULL, "threat-intelligence api "
				 "host=%s unknown: status %d or a body without "
				 "\"malicious\"", t->host, resp.status);
		rep_cache_put(t->cache, key, (time_t)(rep_now_ms() / 1000), v,
			      cat);
	}
	free(body);
	free(req);
	return v;
}

void rep_ti_check(struct rep_ti *t, const struct filter_urls *urls,
		  const struct filter_weights *w, struct filter_syms *out)
{
	int64_t deadline = rep_now_ms() + (int64_t)t->timeout * 1000;
	unsigned asked = 0;

	if (urls == NULL || filter_weight(w, "URL_TI_MALICIOUS") == 0)
		return;
	for (size_t i = 0; i < urls->n && asked < t->max_urls; i++) {
		char cat[REP_CATEGORY_MAX];

		asked++;
		if (rep_ti_ask(t, urls->v[i].url, deadline, cat) ==
		    REP_MALICIOUS) {
			/* the return value is the score, not needed here */
			(void)filter_sym_add(out, w, "URL_TI_MALICIOUS", 1,
					     "%s%s%s", cat, cat[0] ? " " : "",
					     urls->v[i].url);
			return;
		}
	}
}
