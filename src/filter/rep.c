/* rep.c - the reputation checks as one object (rep.h): its symbols, its
 * configuration, and the order of the checks in one message. The local
 * feeds go first (no network), then DNS, then the API. */
#include "filter/rep_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/xmalloc.h"
#include "filter/sym.h"
#include "filter/sym_table.h"
#include "filter/token.h"

const struct filter_sym_def filter_syms_rep[] = {
	{ "DNSBL_IP", 4, "the client address is on a configured DNS "
	  "blocklist (a zone's own weight replaces this one)" },
	{ "DNSBL_DOMAIN", 5, "the registrable domain of a URL in the message "
	  "is on a configured domain blocklist (a zone's own weight replaces "
	  "this one)" },
	{ "URL_FEED", 10, "a URL in the message is listed in a local URL feed "
	  "(URLhaus, PhishTank)" },
	{ "URL_FEED_HOST", 7, "a URL in the message is on a host (or under a "
	  "domain) listed whole in a local URL feed" },
	{ "URL_TI_MALICIOUS", 10, "the threat-intelligence API says a URL in "
	  "the message is malicious" },
};

const size_t filter_syms_rep_n =
	sizeof(filter_syms_rep) / sizeof(filter_syms_rep[0]);

struct filter_rep {
	struct rep_zones ip_zones, domain_zones;
	unsigned max_lookups;
	struct rep_feeds feeds;
	struct rep_ti *ti;		/* NULL: off */
};

void filter_rep_conf_from_config(const struct config *cfg,
				 struct filter_rep_conf *out)
{
	memset(out, 0, sizeof *out);
	out->dnsbl_ip = cfg->filter_dnsbl_ip;
	out->dnsbl_domain = cfg->filter_dnsbl_domain;
	out->dnsbl_max_lookups = cfg->filter_dnsbl_max_lookups;
	out->url_feed = cfg->filter_url_feed;
	out->ti_url = cfg->filter_ti_url;
	out->ti_key_file = cfg->filter_ti_key_file;
	out->ti_ca_file = cfg->filter_ti_ca_file;
	out->ti_timeout = cfg->filter_ti_timeout;
	out->ti_cache_ttl = cfg->filter_ti_cache_ttl;
	out->ti_cache_size = cfg->filter_ti_cache_size;
	out->ti_max_urls = cfg->filter_ti_max_urls;
	out->dir = cfg->data_dir;
}

struct filter_rep *filter_rep_new(const struct filter_rep_conf *conf,
				  struct err *err)
{
	struct filter_rep *r = xcalloc(1, sizeof *r);
	struct err e = { 0 };

	if (rep_zones_parse(conf->dnsbl_ip, &r->ip_zones, &e) != 0 ||
	    rep_zones_parse(conf->dnsbl_domain, &r->domain_zones, &e) != 0) {
		err_set(err, ERR_CONFIG, 0, NULL, "filter_dnsbl: %s", e.msg);
		free(r);
		return NULL;
	}
	r->max_lookups = conf->dnsbl_max_lookups ? conf->dnsbl_max_lookups :
			 FILTER_REP_DNS_LOOKUPS_DEFAULT;
	if (r->max_lookups > FILTER_REP_DNS_LOOKUPS_MAX)
		r->max_lookups = FILTER_REP_DNS_LOOKUPS_MAX;
	if (rep_feeds_init(&r->feeds, conf->url_feed, conf->dir, err) != 0) {
		rep_feeds_fini(&r->feeds);
		free(r);
		return NULL;
	}
	r->ti = rep_ti_new(conf, &e);
	if (r->ti == NULL && e.kind != ERR_NONE) {
		*err = e;
		filter_rep_free(&r);
		return NULL;
	}
	return r;
}

void filter_rep_free(struct filter_rep **rp)
{
	struct filter_rep *r = *rp;

	if (r == NULL)
		return;
	rep_feeds_fini(&r->feeds);
	rep_ti_free(&r->ti);
	free(r);
	*rp = NULL;
}

void filter_rep_check(struct filter_rep *r, const struct filter_tokens *tok,
		      const struct filter_facts *facts,
		      const struct filter_weights *w, struct filter_syms *out)
{
	const struct filter_urls *urls = tok ? &tok->urls : NULL;

	rep_feeds_refresh(&r->feeds, (time_t)(rep_now_ms() / 1000));
	rep_feeds_check(&r->feeds, urls, w, out);
	rep_dnsbl_check(&r->ip_zones, &r->domain_zones, r->max_lookups, urls,
			facts, w, out);
	if (r->ti != NULL)
		rep_ti_check(r->ti, urls, w, out);
}

size_t filter_rep_feed_entries(struct filter_rep *r)
{
	return rep_feeds_count(&r->feeds);
}
