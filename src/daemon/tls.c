/* tls.c - the daemon's TLS contexts: the default certificate, the
 * per-listener ones (listen_* cert= key=) and the tls_sni ones, each
 * checked (net/tls_check.h) before it is loaded. */
#include "daemon/daemon.h"

#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "net/tls_check.h"
#include "net/tls_sni.h"

/* A configured path as this process sees it: under data_dir when
 * relative, and inside the chroot once chroot_dir is set (after the
 * privilege drop, for a reload). */
static void tls_path(const struct config *cfg, const char *chroot_dir,
		     const char *path, char *out, size_t outsz)
{
	char abs[1100];
	tls_check_resolve(cfg->data_dir, path, abs, sizeof abs);
	size_t n = chroot_dir ? strlen(chroot_dir) : 0;
	while (n > 1 && chroot_dir[n - 1] == '/')
		n--;
	if (n > 0 && !strncmp(abs, chroot_dir, n) && abs[n] == '/')
		snprintf(out, outsz, "%s", abs + n);
	else
		snprintf(out, outsz, "%s", abs);
}

/* cert_cfg/key_cfg as configured, with the tls_sni table attached. */
static SSL_CTX *build(const struct config *cfg, const char *chroot_dir,
		      const char *cert_cfg, const char *key_cfg,
		      const char *check_name, struct err *err)
{
	char cert[1100], key[1100];
	tls_path(cfg, chroot_dir, cert_cfg, cert, sizeof cert);
	tls_path(cfg, chroot_dir, key_cfg, key, sizeof key);
	if (daemon_tls_check(cert, key, check_name, err) != 0)
		return NULL;
	SSL_CTX *dflt = net_tls_server_ctx(cert, key, cfg->tls_min_version,
					   cfg->tls_ciphers, err);
	if (dflt == NULL)
		return NULL;
	const char *names[CFG_MAX_SNI];
	SSL_CTX *ctxs[CFG_MAX_SNI];
	size_t n = 0;
	for (size_t i = 0; i < cfg->tls_sni.n; i++) {
		const struct cfg_sni *s = &cfg->tls_sni.e[i];
		char c[1100], k[1100];
		tls_path(cfg, chroot_dir, s->cert, c, sizeof c);
		tls_path(cfg, chroot_dir, s->key, k, sizeof k);
		/* A wildcard entry has no one name to check against. */
		if (daemon_tls_check(c, k, s->name[0] == '*' ? NULL : s->name, err) != 0)
			goto fail;
		ctxs[n] = net_tls_server_ctx(c, k, cfg->tls_min_version,
					     cfg->tls_ciphers, err);
		if (ctxs[n] == NULL)
			goto fail;
		names[n++] = s->name;
	}
	if (n > 0 && net_tls_sni_attach(dflt, names, ctxs, n, err) != 0) {
		SSL_CTX_free(dflt);
		return NULL;
	}
	return dflt;
fail:
	for (size_t i = 0; i < n; i++)
		SSL_CTX_free(ctxs[i]);
	SSL_CTX_free(dflt);
	return NULL;
}

SSL_CTX *daemon_tls_build(const struct config *cfg, const char *chroot_dir,
			  struct err *err)
{
	return build(cfg, chroot_dir, cfg->tls_cert, cfg->tls_key, cfg->hostname, err);
}

SSL_CTX *daemon_tls_build_listener(const struct config *cfg, const char *chroot_dir,
				   const char *key_name,
				   const struct cfg_listen_list *l, struct err *err)
{
	/* Clients reach a listener under names we cannot know (imap.,
	 * mail., ...): no host name check, as for a wildcard tls_sni. */
	SSL_CTX *ctx = build(cfg, chroot_dir, l->cert, l->key, NULL, err);
	if (ctx == NULL && err != NULL) {
		char msg[sizeof err->msg];
		snprintf(msg, sizeof msg, "%s", err->msg);
		err_set(err, err->kind, 0, NULL, "%s (%s:%s): %s", key_name,
			l->addr[0].host, l->addr[0].port, msg);
	}
	return ctx;
}
