/* lists.c - one allow/block list and the lookups over it (lists.h).
 * Every entry is a binary key (lists_private.h) in one open-addressing
 * hash table keyed with SipHash under a per-list random key, so entries a
 * user adds through the API cannot be chosen to collide. A lookup probes
 * a bounded number of keys: the address, the domain, one ".parent" per
 * label (at most 127), and one network per prefix length in use (at most
 * 129 per action), each probe O(1) on average. */
#include "filter/lists_private.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "msgauth/dmarc.h"

struct lentry {
	unsigned char *key;
	size_t len;
	unsigned line;
	bool from_file;
};

struct filter_list {
	struct lentry *e;
	size_t n, cap;
	uint32_t *slot;		/* index + 1 into e, 0 for empty */
	size_t nslots;		/* power of two, > 2 * n */
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	/* prefix lengths (0..128) with IP entries, by action */
	uint64_t plen[3][3];
	char *file[3];		/* file name by action, from parse */
};

struct filter_list *filter_list_new(void)
{
	if (sodium_init() < 0)
		abort();	/* no randomness: nothing safe to do */
	struct filter_list *l = xcalloc(1, sizeof *l);
	randombytes_buf(l->hkey, sizeof l->hkey);
	return l;
}

void filter_list_free(struct filter_list **lp)
{
	struct filter_list *l = *lp;
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].key);
	free(l->e);
	free(l->slot);
	for (size_t i = 0; i < 3; i++)
		free(l->file[i]);
	free(l);
	*lp = NULL;
}

size_t filter_list_count(const struct filter_list *l)
{
	return l->n;
}

static size_t hash_key(const struct filter_list *l, const unsigned char *k,
		       size_t len)
{
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, k, len, l->hkey);
	return (size_t)h;
}

static const struct lentry *find(const struct filter_list *l,
				 const unsigned char *k, size_t len)
{
	if (l->nslots == 0)
		return NULL;
	size_t mask = l->nslots - 1;
	for (size_t i = hash_key(l, k, len) & mask;; i = (i + 1) & mask) {
		uint32_t s = l->slot[i];
		if (s == 0)
			return NULL;
		const struct lentry *e = &l->e[s - 1];
		if (e->len == len && memcmp(e->key, k, len) == 0)
			return e;
	}
}

static void slot_put(struct filter_list *l, size_t idx)
{
	size_t mask = l->nslots - 1;
	size_t i = hash_key(l, l->e[idx].key, l->e[idx].len) & mask;
	while (l->slot[i] != 0)
		i = (i + 1) & mask;
	l->slot[i] = (uint32_t)(idx + 1);
}

/* Keep the table at most half full so probe runs stay short. */
static void grow(struct filter_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->e = xreallocarray(l->e, l->cap, sizeof *l->e);
	}
	if (2 * (l->n + 1) < l->nslots)
		return;
	free(l->slot);
	l->nslots = l->nslots ? 2 * l->nslots : 128;
	l->slot = xcalloc(l->nslots, sizeof *l->slot);
	for (size_t i = 0; i < l->n; i++)
		slot_put(l, i);
}

static int add_key(struct filter_list *l, const struct lists_key *k,
		   unsigned line, bool from_file, struct err *err)
{
	if (find(l, k->b, k->len) != NULL)
		return 0;
	if (l->n >= FILTER_LIST_MAX)
		return err_set(err, ERR_LIMIT, 0, NULL,
			       "more than %d entries", FILTER_LIST_MAX);
	grow(l);
	struct lentry *e = &l->e[l->n];
	e->key = xmalloc(k->len);
	memcpy(e->key, k->b, k->len);
	e->len = k->len;
	e->line = line;
	e->from_file = from_file;
	slot_put(l, l->n);
	l->n++;
	if (k->b[1] == FILTER_ENTRY_IP) {
		unsigned p = k->b[2];
		l->plen[k->b[0]][p / 64] |= (uint64_t)1 << (p % 64);
	}
	return 0;
}

int lists_add(struct filter_list *l, enum filter_list_action act,
	      struct span entry, unsigned line, bool from_file,
	      struct err *err)
{
	if (act != FILTER_LIST_ALLOW && act != FILTER_LIST_BLOCK)
		return err_set(err, ERR_PEER, 0, NULL, "no action");
	struct lists_key k;
	if (lists_entry_key(entry, act, &k, err) < 0)
		return -1;
	return add_key(l, &k, line, from_file, err);
}

int filter_list_add(struct filter_list *l, enum filter_list_action act,
		    struct span entry, unsigned line, struct err *err)
{
	return lists_add(l, act, entry, line, false, err);
}

void lists_set_file(struct filter_list *l, enum filter_list_action act,
		    const char *file)
{
	free(l->file[act]);
	l->file[act] = file ? xstrdup(file) : NULL;
}

/* ----- lookups ---------------------------------------------------------- */

/* A query made canonical once, as entries are. */
struct nquery {
	char addr[LISTS_KEY_MAX];	/* "local@domain", "" if none */
	size_t addrlen;
	const char *addr_domain;	/* into addr */
	char domain[FILTER_DOMAIN_MAX + 1];	/* "" if none */
	unsigned char ip[16];
	bool has_ip;
};

static void nquery_make(const struct filter_list_query *q, struct nquery *nq)
{
	memset(nq, 0, sizeof *nq);
	struct span s = q->sender;
	if (s.len >= 2 && s.p[0] == '<' && s.p[s.len - 1] == '>')
		s = span_make(s.p + 1, s.len - 2);
	const unsigned char *at = NULL;
	for (size_t i = s.len; i > 0 && at == NULL; i--)
		if (s.p[i - 1] == '@')
			at = s.p + i - 1;
	char sdom[FILTER_DOMAIN_MAX + 1] = "";
	if (at != NULL) {
		size_t ln = (size_t)(at - s.p);
		if (lists_domain_norm(at + 1, s.len - ln - 1, sdom) < 0)
			sdom[0] = '\0';
		if (sdom[0] != '\0' && ln >= 1 && ln <= LISTS_LOCAL_MAX) {
			for (size_t i = 0; i < ln; i++) {
				unsigned char c = s.p[i];
				nq->addr[i] = (char)((c >= 'A' && c <= 'Z')
						     ? c + 32 : c);
			}
			nq->addr[ln] = '@';
			size_t dl = strlen(sdom);
			memcpy(nq->addr + ln + 1, sdom, dl + 1);
			nq->addrlen = ln + 1 + dl;
			nq->addr_domain = nq->addr + ln + 1;
		}
	}
	if (q->domain.len > 0) {
		if (lists_domain_norm(q->domain.p, q->domain.len,
				      nq->domain) < 0)
			nq->domain[0] = '\0';
	} else {
		memcpy(nq->domain, sdom, sizeof sdom);
	}
	if (q->ip != NULL) {
		memcpy(nq->ip, q->ip, 16);
		nq->has_ip = true;
	}
}

static void match_fill(const struct filter_list *l, const struct lentry *e,
		       const char *domain, struct filter_list_match *m)
{
	struct lists_key k;
	memset(m, 0, sizeof *m);
	k.len = e->len;
	memcpy(k.b, e->key, e->len);
	m->action = (enum filter_list_action)e->key[0];
	m->kind = (enum filter_entry_kind)e->key[1];
	m->line = e->line;
	m->file = e->from_file ? l->file[e->key[0]] : NULL;
	lists_key_text(&k, m->entry, sizeof m->entry);
	if (domain != NULL)
		snprintf(m->domain, sizeof m->domain, "%s", domain);
}

/* How one level's lookup treats allows: all apply (filter_list_lookup),
 * or only those auth proves (filter_lists_decide). */
struct lookup_ctx {
	const struct filter_list *l;
	const struct nquery *nq;
	bool check_auth;
	const struct filter_auth *auth;
	struct filter_list_match *ignored;	/* first allow passed over */
	bool has_ignored;
};

/* One step of the sender walk: block, then allow for key kind+text. 1 and
 * *m when it decided. */
static int sender_step(struct lookup_ctx *c, enum filter_entry_kind kind,
		       const char *text, size_t n, const char *domain,
		       struct filter_list_match *m)
{
	unsigned char k[LISTS_KEY_MAX];
	if (n + 2 > sizeof k)
		return 0;
	k[1] = (unsigned char)kind;
	memcpy(k + 2, text, n);
	k[0] = FILTER_LIST_BLOCK;
	const struct lentry *e = find(c->l, k, n + 2);
	if (e != NULL) {
		match_fill(c->l, e, domain, m);
		return 1;
	}
	k[0] = FILTER_LIST_ALLOW;
	e = find(c->l, k, n + 2);
	if (e == NULL)
		return 0;
	match_fill(c->l, e, domain, m);
	if (!c->check_auth || filter_allow_applies(c->auth, m))
		return 1;
	if (!c->has_ignored && c->ignored != NULL) {
		*c->ignored = *m;
		c->has_ignored = true;
	}
	m->action = FILTER_LIST_NONE;
	return 0;
}

/* Most specific first: address, domain, then ".d" for the domain and
 * each parent. */
static void sender_lookup(struct lookup_ctx *c, struct filter_list_match *m)
{
	const struct nquery *nq = c->nq;
	m->action = FILTER_LIST_NONE;
	if (nq->addrlen > 0 &&
	    sender_step(c, FILTER_ENTRY_ADDRESS, nq->addr, nq->addrlen,
			nq->addr_domain, m))
		return;
	const char *d = nq->domain;
	if (d[0] == '\0')
		return;
	if (sender_step(c, FILTER_ENTRY_DOMAIN, d, strlen(d), d, m))
		return;
	for (const char *p = d; p != NULL; p = strchr(p, '.')) {
		if (*p == '.')
			p++;
		if (sender_step(c, FILTER_ENTRY_SUBDOMAINS, p, strlen(p), d, m))
			return;
	}
	m->action = FILTER_LIST_NONE;
}

/* Longest prefix first; at one length block before allow. */
static void ip_lookup(const struct lookup_ctx *c, struct filter_list_match *m)
{
	m->action = FILTER_LIST_NONE;
	if (!c->nq->has_ip)
		return;
	static const enum filter_list_action order[2] = {
		FILTER_LIST_BLOCK, FILTER_LIST_ALLOW };
	for (int p = 128; p >= 0; p--) {
		for (int a = 0; a < 2; a++) {
			const uint64_t *bits = c->l->plen[order[a]];
			if (!(bits[p / 64] >> (p % 64) & 1))
				continue;
			unsigned char k[3 + 16];
			k[0] = (unsigned char)order[a];
			k[1] = FILTER_ENTRY_IP;
			k[2] = (unsigned char)p;
			memcpy(k + 3, c->nq->ip, 16);
			lists_ip_mask(k + 3, (unsigned)p);
			const struct lentry *e = find(c->l, k, sizeof k);
			if (e != NULL) {
				match_fill(c->l, e, NULL, m);
				return;
			}
		}
	}
}

static void level_lookup(struct lookup_ctx *c, struct filter_list_match *out)
{
	struct filter_list_match s, ip;
	sender_lookup(c, &s);
	ip_lookup(c, &ip);
	if (s.action == FILTER_LIST_BLOCK)
		*out = s;
	else if (ip.action == FILTER_LIST_BLOCK)
		*out = ip;
	else if (s.action == FILTER_LIST_ALLOW)
		*out = s;
	else
		*out = ip;
}

void filter_list_lookup(const struct filter_list *l,
			const struct filter_list_query *q,
			struct filter_list_match *out)
{
	struct nquery nq;
	nquery_make(q, &nq);
	struct lookup_ctx c = { .l = l, .nq = &nq };
	level_lookup(&c, out);
}

bool filter_allow_applies(const struct filter_auth *auth,
			  const struct filter_list_match *m)
{
	if (m == NULL || m->action != FILTER_LIST_ALLOW)
		return false;
	if (m->kind == FILTER_ENTRY_IP)
		return true;
	if (auth == NULL || auth->from_domain == NULL || m->domain[0] == '\0')
		return false;
	const char *from = auth->from_domain;
	if (!dmarc_aligned(m->domain, from, DMARC_ALIGN_RELAXED))
		return false;
	if (auth->spf_pass_domain != NULL &&
	    dmarc_aligned(auth->spf_pass_domain, from, DMARC_ALIGN_RELAXED))
		return true;
	for (size_t i = 0; i < auth->n_dkim; i++)
		if (auth->dkim_pass_domains[i] != NULL &&
		    dmarc_aligned(auth->dkim_pass_domains[i], from,
				  DMARC_ALIGN_RELAXED))
			return true;
	return false;
}

void filter_lists_decide(const struct filter_list *const lists[FILTER_LEVELS],
			 const struct filter_list_query *q,
			 const struct filter_auth *auth,
			 struct filter_list_verdict *out)
{
	memset(out, 0, sizeof *out);
	struct nquery nq;
	nquery_make(q, &nq);
	for (int lv = FILTER_LEVEL_USER; lv >= FILTER_LEVEL_GLOBAL; lv--) {
		if (lists[lv] == NULL)
			continue;
		struct filter_list_match ign;
		struct lookup_ctx c = { .l = lists[lv], .nq = &nq,
					.check_auth = true, .auth = auth,
					.ignored = &ign };
		struct filter_list_match m;
		level_lookup(&c, &m);
		if (c.has_ignored && !out->ignored_allow) {
			out->ignored = ign;
			out->ignored.level = (enum filter_list_level)lv;
			out->ignored_allow = true;
		}
		if (m.action != FILTER_LIST_NONE) {
			out->match = m;
			out->match.level = (enum filter_list_level)lv;
			out->action = m.action;
			return;
		}
	}
}

const char *filter_list_action_str(enum filter_list_action a)
{
	switch (a) {
	case FILTER_LIST_ALLOW:
		return "allow";
	case FILTER_LIST_BLOCK:
		return "block";
	case FILTER_LIST_NONE:
		break;
	}
	return "none";
}

const char *filter_list_level_str(enum filter_list_level l)
{
	switch (l) {
	case FILTER_LEVEL_DOMAIN:
		return "domain";
	case FILTER_LEVEL_USER:
		return "user";
	case FILTER_LEVEL_GLOBAL:
	case FILTER_LEVELS:
		break;
	}
	return "global";
}
