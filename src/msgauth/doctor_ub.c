/* doctor_ub.c - libunbound behind struct ma_dns for the DNS doctor, one
 * question at a time with a deadline (doctor_ub.h). */
#include "msgauth/doctor_ub.h"

#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "core/config.h"
#include "core/xmalloc.h"

struct doctor_ub {
	struct ub_ctx *ctx;
	unsigned timeout;
};

static int opt(struct ub_ctx *ctx, const char *o, const char *v,
	       struct err *err)
{
	int rc = ub_ctx_set_option(ctx, o, v);
	return rc == 0 ? 0 : err_set(err, ERR_CONFIG, 0, NULL, "dns: %s %s: %s",
				     o, v, ub_strerror(rc));
}

int doctor_ub_new(const char *forwarder, unsigned timeout,
		  struct doctor_ub **out, struct err *err)
{
	struct doctor_ub *u = xcalloc(1, sizeof *u);
	u->timeout = timeout ? timeout : 5;
	u->ctx = ub_ctx_create();
	if (u->ctx == NULL) {
		free(u);
		return err_set(err, ERR_ENV, 0, NULL, "dns: cannot create "
			       "a resolver");
	}
	/* as src/dns/dns_resolver.c: no validator, loopback forwarders
	 * allowed, a forwarder may answer the RFC 6761 "test." names */
	int rc = opt(u->ctx, "module-config:", "iterator", err);
	if (rc == 0)
		rc = opt(u->ctx, "do-not-query-localhost:", "no", err);
	if (rc == 0 && forwarder[0] != '\0') {
		rc = opt(u->ctx, "local-zone:", "test. transparent", err);
		const char *next = forwarder, *p;
		size_t n;
		while (rc == 0 && cfg_list_next(&next, &p, &n)) {
			char one[80];
			if (n >= sizeof one) {
				rc = err_set(err, ERR_CONFIG, 0, NULL,
					     "dns_forwarder: address too long");
				break;
			}
			memcpy(one, p, n);
			one[n] = '\0';
			if (ub_ctx_set_fwd(u->ctx, one) != 0)
				rc = err_set(err, ERR_CONFIG, 0, NULL,
					     "dns_forwarder: bad address '%s'",
					     one);
		}
	} else if (rc == 0) {
		(void)ub_ctx_resolvconf(u->ctx, NULL);	/* root servers else */
		(void)ub_ctx_hosts(u->ctx, NULL);	/* optional */
	}
	if (rc == 0 && ub_ctx_async(u->ctx, 1) != 0)
		rc = err_set(err, ERR_ENV, 0, NULL, "dns: ub_ctx_async failed");
	if (rc != 0) {
		ub_ctx_delete(u->ctx);
		free(u);
		return -1;
	}
	*out = u;
	return 0;
}

void doctor_ub_free(struct doctor_ub **up)
{
	if (*up == NULL)
		return;
	ub_ctx_delete((*up)->ctx);
	free(*up);
	*up = NULL;
}

/* An uncompressed wire name at p[0..len) filling it exactly, as text
 * without the trailing dot. false if malformed. */
static bool wire_name(const unsigned char *p, size_t len, char *out,
		      size_t outsz, size_t *used)
{
	size_t i = 0, o = 0;
	while (i < len) {
		size_t l = p[i++];
		if (l == 0) {
			out[o] = '\0';
			*used = i;
			return true;
		}
		if (l > 63 || i + l > len || o + l + 2 > outsz)
			return false;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	return false;
}

bool doctor_ub_rdata(enum ma_rr type, const unsigned char *rdata, size_t len,
		     struct ma_rrset *out)
{
	char name[256];
	size_t used;
	switch (type) {
	case MA_RR_A:
	case MA_RR_AAAA:
		if (len != (type == MA_RR_A ? 4u : 16u))
			return false;
		return ma_rrset_add(out, type, rdata, len, 0);
	case MA_RR_MX:
		if (len < 3 || !wire_name(rdata + 2, len - 2, name, sizeof name,
					  &used) || used != len - 2)
			return false;
		return ma_rrset_add(out, type, name, strlen(name),
				    (unsigned)rdata[0] << 8 | rdata[1]);
	case MA_RR_PTR:
	case MA_RR_CNAME:
		if (!wire_name(rdata, len, name, sizeof name, &used) ||
		    used != len)
			return false;
		return ma_rrset_add(out, type, name, strlen(name), 0);
	case MA_RR_TXT: {
		/* RFC 1035 3.3.14: length-prefixed strings, joined (RFC 7208
		 * 3.3, RFC 6376 3.6.2.2) */
		unsigned char text[MA_DNS_BUF];
		size_t n = 0;
		for (size_t i = 0; i < len; ) {
			size_t l = rdata[i++];
			if (i + l > len || n + l > sizeof text)
				return false;
			memcpy(text + n, rdata + i, l);
			n += l;
			i += l;
		}
		return ma_rrset_add(out, type, text, n, 0);
	}
	}
	return false;
}

struct wait {
	bool done;
	enum ma_rr type;
	struct ma_rrset *out;
};

static void answered(void *arg, int rcode, struct ub_result *res)
{
	struct wait *w = arg;
	w->done = true;
	if (rcode != 0 || res == NULL) {
		w->out->rc = MA_DNS_TEMPFAIL;
	} else if (res->rcode == 3) {	/* NXDOMAIN */
		w->out->rc = MA_DNS_NXDOMAIN;
	} else if (res->rcode != 0) {
		w->out->rc = MA_DNS_TEMPFAIL;
	} else {
		w->out->rc = MA_DNS_NODATA;
		for (size_t i = 0; res->havedata && res->data[i] != NULL; i++)
			(void)doctor_ub_rdata(w->type,
					      (const unsigned char *)res->data[i],
					      (size_t)res->len[i], w->out);
		if (w->out->n > 0) {
			w->out->rc = MA_DNS_OK;
			w->out->ttl = res->ttl > 0 ? (unsigned)res->ttl : 0;
		}
	}
	if (res != NULL)
		ub_resolve_free(res);
}

static void lookup(void *arg, const char *name, enum ma_rr type,
		   struct ma_rrset *out)
{
	struct doctor_ub *u = arg;
	struct wait w = { false, type, out };
	int id = 0;
	if (ub_resolve_async(u->ctx, name, (int)type, 1, &w, answered, &id) !=
	    0) {
		out->rc = MA_DNS_TEMPFAIL;
		return;
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!w.done) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (long)u->timeout * 1000 -
			    ((now.tv_sec - start.tv_sec) * 1000 +
			     (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		struct pollfd pfd = { ub_fd(u->ctx), POLLIN, 0 };
		int r = poll(&pfd, 1, (int)left);
		if (r > 0 && ub_process(u->ctx) != 0)
			break;
	}
	if (!w.done) {
		(void)ub_cancel(u->ctx, id);	/* answered may not run now */
		ma_rrset_reset(out);
		out->rc = MA_DNS_TEMPFAIL;
	}
}

void doctor_ub_dns(struct doctor_ub *u, struct ma_dns *d)
{
	d->lookup = lookup;
	d->arg = u;
}
