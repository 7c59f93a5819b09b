/* engine_org.c - the organisation snapshot of the filter. */
#include "filter/engine_org.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "filter/lookalike.h"
#include "store/store.h"

struct org_build {
	char **names;
	size_t n, cap;
	struct imperson_user *users;	/* pointing into owned */
	char **owned;			/* name, address of each user */
	size_t n_users, cap_users;
};

static void add_name(char ***v, size_t *n, size_t *cap, const char *s)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	(*v)[(*n)++] = d;
}

static int domain_fn(const struct store_domain *d, void *arg)
{
	struct org_build *b = arg;
	if (b->n < FILTER_IMPERSON_HOSTED_MAX)
		add_name(&b->names, &b->n, &b->cap, d->name);
	return 0;
}

struct mb_ctx {
	struct org_build *b;
	struct store *st;
};

static int mailbox_fn(const struct store_mailbox *mb, void *arg)
{
	struct mb_ctx *m = arg;
	struct org_build *b = m->b;
	struct store_mailbox_info info;
	struct err err;
	if (b->n_users >= FILTER_IMPERSON_USERS_MAX)
		return 1;
	if (store_mailbox_info(m->st, mb->address, &info, &err) != 1 ||
	    info.display_name[0] == '\0')
		return 0;
	if (b->n_users == b->cap_users) {
		b->cap_users = b->cap_users ? b->cap_users * 2 : 16;
		b->users = xreallocarray(b->users, b->cap_users,
					 sizeof(*b->users));
		b->owned = xreallocarray(b->owned, b->cap_users * 2,
					 sizeof(*b->owned));
	}
	b->owned[2 * b->n_users] = xstrdup(info.display_name);
	b->owned[2 * b->n_users + 1] = xstrdup(mb->address);
	b->users[b->n_users].name = b->owned[2 * b->n_users];
	b->users[b->n_users].address = b->owned[2 * b->n_users + 1];
	b->n_users++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void org_free(struct filter_org *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n_hosted; i++)
		free(o->hosted[i]);
	free(o->hosted);
	lookalike_set_free(&o->lookalike);
	imperson_set_free(&o->imperson);
	free(o);
}

static struct filter_org *org_build(struct filter_org_holder *h, time_t now)
{
	struct filter_org *o = xcalloc(1, sizeof(*o));
	struct org_build b = { 0 };
	struct mb_ctx m = { &b, h->st };
	struct err err;
	char **prot = NULL;
	size_t n_prot = 0, cap_prot = 0;

	o->built = now;
	if (h->st != NULL) {
		if (store_domain_each(h->st, domain_fn, &b, &err) < 0)
			log_warn("filter", NULL, "op=org domains error=\"%s\"",
				 err.msg);
		if (store_mailbox_each(h->st, mailbox_fn, &m, &err) < 0)
			log_warn("filter", NULL, "op=org users error=\"%s\"",
				 err.msg);
	}
	qsort(b.names, b.n, sizeof(*b.names), cmp_str);
	o->hosted = b.names;
	o->n_hosted = b.n;
	for (size_t i = 0; i < b.n; i++)
		add_name(&prot, &n_prot, &cap_prot, b.names[i]);
	for (size_t i = 0; h->brands != NULL && i < h->brands->n; i++)
		add_name(&prot, &n_prot, &cap_prot, h->brands->name[i]);
	if (n_prot > 0 &&
	    lookalike_set_new((const char *const *)prot, n_prot, NULL, 0,
			      &o->lookalike, &err) < 0)
		log_warn("filter", NULL, "op=org lookalike error=\"%s\"",
			 err.msg);
	if (b.n_users > 0 &&
	    imperson_set_new(b.users, b.n_users,
			     (const char *const *)o->hosted, o->n_hosted,
			     &o->imperson, &err) < 0)
		log_warn("filter", NULL, "op=org users error=\"%s\"", err.msg);
	for (size_t i = 0; i < n_prot; i++)
		free(prot[i]);
	free(prot);
	for (size_t i = 0; i < 2 * b.n_users; i++)
		free(b.owned[i]);
	free(b.owned);
	free(b.users);
	return o;
}

void filter_org_holder_init(struct filter_org_holder *h, struct store *st,
			    const struct cfg_domains *brands)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->st = st;
	h->brands = brands;
}

void filter_org_holder_free(struct filter_org_holder *h)
{
	org_free(h->cur);
	h->cur = NULL;
	pthread_mutex_destroy(&h->lock);
}

struct filter_org *filter_org_get(struct filter_org_holder *h, time_t now)
{
	struct filter_org *o;
	bool rebuild;

	pthread_mutex_lock(&h->lock);
	rebuild = !h->building &&
		  (h->cur == NULL || now - h->cur->built >= FILTER_ORG_REFRESH ||
		   now < h->cur->built);
	if (rebuild)
		h->building = true;
	pthread_mutex_unlock(&h->lock);
	if (rebuild) {
		/* Built outside the lock: other checks go on with the old
		 * snapshot meanwhile. */
		struct filter_org *n = org_build(h, now), *old;
		pthread_mutex_lock(&h->lock);
		old = h->cur;
		n->refs = 1;
		h->cur = n;
		h->building = false;
		if (old != NULL && --old->refs == 0)
			org_free(old);
		pthread_mutex_unlock(&h->lock);
	}
	pthread_mutex_lock(&h->lock);
	o = h->cur;
	if (o == NULL) {
		/* another thread is building the first one: use an empty one
		 * for this message rather than wait */
		o = xcalloc(1, sizeof(*o));
		o->refs = 1;
		o->built = now;
		pthread_mutex_unlock(&h->lock);
		return o;
	}
	o->refs++;
	pthread_mutex_unlock(&h->lock);
	return o;
}

void filter_org_put(struct filter_org_holder *h, struct filter_org *o)
{
	bool last;

	pthread_mutex_lock(&h->lock);
	last = --o->refs == 0;
	pthread_mutex_unlock(&h->lock);
	if (last)
		org_free(o);
}

bool filter_org_hosted(const struct filter_org *o, const char *domain)
{
	char low[LOOKALIKE_DOMAIN_MAX + 1];
	size_t n = strlen(domain);

	if (n == 0 || n > LOOKALIKE_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)domain[i]);
	if (low[n - 1] == '.')
		low[--n] = '\0';
	for (const char *p = low; p != NULL; ) {
		const char *key = p;
		if (bsearch(&key, o->hosted, o->n_hosted, sizeof(*o->hosted),
			    cmp_str) != NULL)
			return true;
		p = strchr(p, '.');
		if (p != NULL)
			p++;
	}
	return false;
}
