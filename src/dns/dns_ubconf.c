/* dns_ubconf.c - the one place a libunbound context gets petrel's DNS
 * settings (see dns_ub.h); the event-loop glue is in dns_resolver.c. */
#include "dns/dns_ub.h"

#include <string.h>

#include <unbound.h>

#include "core/config.h"
#include "core/log.h"

static int set_option(struct ub_ctx *ctx, const char *opt, const char *val,
		      struct err *err)
{
	int rc = ub_ctx_set_option(ctx, opt, val);
	if (rc != 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "dns: %s %s: %s", opt, val,
			       ub_strerror(rc));
	return 0;
}

/* "127.0.0.1@5353, ::1" -> one ub_ctx_set_fwd per address */
static int set_forwarders(struct ub_ctx *ctx, const char *v, struct err *err)
{
	const char *next = v, *p;
	size_t n = 0, len;
	while (cfg_list_next(&next, &p, &len)) {
		char one[80];
		if (len >= sizeof one)
			return err_set(err, ERR_CONFIG, 0, NULL,
				       "dns_forwarder: address too long");
		memcpy(one, p, len);
		one[len] = '\0';
		int rc = ub_ctx_set_fwd(ctx, one);
		if (rc != 0)
			return err_set(err, ERR_CONFIG, 0, NULL,
				       "dns_forwarder: bad address '%s' (%s)", one,
				       ub_strerror(rc));
		n++;
	}
	return n == 0 ? err_set(err, ERR_CONFIG, 0, NULL,
				"dns_forwarder: no address") : 0;
}

int dns_ub_configure(struct ub_ctx *ctx, const struct dns_options *opt,
		     struct err *err)
{
	/* DNSSEC validation comes with DANE; until then the validator
	 * module would only cost time. Forwarders and the resolv.conf of
	 * a systemd or test machine are often on loopback, which unbound
	 * refuses to query by default. */
	if (set_option(ctx, "module-config:", "iterator", err) != 0 ||
	    set_option(ctx, "do-not-query-localhost:", "no", err) != 0)
		return -1;
	if (opt->forwarder != NULL && opt->forwarder[0] != '\0') {
		/* unbound answers the RFC 6761 "test." names NXDOMAIN itself;
		 * a configured forwarder (test set-ups, a lab's own server)
		 * gets to answer them, as RFC 6761 6.2 leaves open */
		if (set_option(ctx, "local-zone:", "test. transparent", err) != 0)
			return -1;
		return set_forwarders(ctx, opt->forwarder, err);
	}
	/* read now, before chroot: libunbound never reopens them */
	int rc = ub_ctx_resolvconf(ctx, NULL);
	if (rc != 0)
		log_warn("dns", NULL, "cannot read /etc/resolv.conf error=\"%s\" "
			 "(resolving from the root servers)", ub_strerror(rc));
	rc = ub_ctx_hosts(ctx, NULL);
	if (rc != 0)
		log_warn("dns", NULL, "cannot read /etc/hosts error=\"%s\"",
			 ub_strerror(rc));
	return 0;
}
