/* tls_sni.c - the servername callback and its name table. */
#include "net/tls_sni.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct sni_entry {
	char *name;
	SSL_CTX *ctx;
};

struct sni_table {
	size_t n;
	struct sni_entry e[];
};

static int table_idx = -1;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		       long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	struct sni_table *t = ptr;
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].name);
		SSL_CTX_free(t->e[i].ctx);
	}
	free(t);
}

static void table_index(void)
{
	table_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, table_free);
}

static SSL_CTX *lookup(const struct sni_table *t, const char *name)
{
	char low[256];
	size_t len = strnlen(name, sizeof low);
	if (len == 0 || len == sizeof low)
		return NULL;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[len] = '\0';
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, low))
			return t->e[i].ctx;
	/* "*.example" covers exactly one label: a.example, not a.b.example. */
	const char *dot = strchr(low, '.');
	if (dot == NULL || dot == low)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].name[0] == '*' && !strcmp(t->e[i].name + 1, dot))
			return t->e[i].ctx;
	return NULL;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	(void)alert;
	const struct sni_table *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	SSL_CTX *ctx = lookup(t, name);
	/* Unknown names get the default certificate rather than an alert:
	 * an MX is reached under names we cannot foresee. */
	if (ctx != NULL && SSL_set_SSL_CTX(ssl, ctx) == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

int net_tls_sni_attach(SSL_CTX *dflt, const char *const *names, SSL_CTX **ctxs,
		       size_t n, struct err *err)
{
	struct sni_table *t = xcalloc(1, sizeof *t + n * sizeof t->e[0]);
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		t->e[i].name = xstrdup(names[i]);
		t->e[i].ctx = ctxs[i];
	}
	pthread_once(&table_once, table_index);
	if (table_idx < 0 || !SSL_CTX_set_ex_data(dflt, table_idx, t)) {
		table_free(NULL, t, NULL, 0, 0, NULL);
		return err_set(err, ERR_ENV, 0, NULL, "TLS: cannot attach the SNI table");
	}
	SSL_CTX_set_tlsext_servername_callback(dflt, on_servername);
	SSL_CTX_set_tlsext_servername_arg(dflt, t);
	return 0;
}

SSL_CTX *net_tls_sni_lookup(SSL_CTX *dflt, const char *name)
{
	if (table_idx < 0)
		return dflt;
	const struct sni_table *t = SSL_CTX_get_ex_data(dflt, table_idx);
	SSL_CTX *ctx = t ? lookup(t, name) : NULL;
	return ctx ? ctx : dflt;
}
