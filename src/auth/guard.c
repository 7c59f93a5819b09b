/* guard.c - failed-login counting and lockouts (contract in guard.h). */
#include "auth/guard.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"

enum { G_IP = 1, G_ACCOUNT = 2 };

struct gentry {
	uint64_t h;		/* keyed hash of kind and name; 0 = free */
	unsigned kind;
	unsigned fails;
	unsigned max;		/* lock threshold when counted */
	int64_t window_start;
	int64_t locked_until;	/* 0 = not locked */
	int64_t used;		/* last touched, for eviction */
	char name[AUTH_GUARD_NAME_MAX + 1];
};

struct auth_guard {
	pthread_mutex_t mu;
	struct auth_guard_conf conf;
	size_t nsets;
	struct gentry *e;
	unsigned char key[crypto_shorthash_KEYBYTES];
	auth_guard_event_fn event;
	void *event_arg;
	auth_guard_clock_fn clock;
	void *clock_arg;
	int64_t last_sweep;
};

static int64_t wall_clock(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

struct auth_guard *auth_guard_new(const struct auth_guard_conf *conf,
				  size_t slots, auth_guard_event_fn event,
				  void *event_arg)
{
	struct auth_guard *g = xcalloc(1, sizeof *g);
	pthread_mutex_init(&g->mu, NULL);
	g->conf = *conf;
	if (slots > AUTH_GUARD_SLOTS)
		slots = AUTH_GUARD_SLOTS;
	g->nsets = slots / AUTH_GUARD_WAYS ? slots / AUTH_GUARD_WAYS : 1;
	g->e = xcalloc(g->nsets * AUTH_GUARD_WAYS, sizeof *g->e);
	randombytes_buf(g->key, sizeof g->key);
	g->event = event;
	g->event_arg = event_arg;
	g->clock = wall_clock;
	return g;
}

void auth_guard_set_clock(struct auth_guard *g, auth_guard_clock_fn fn,
			  void *arg)
{
	pthread_mutex_lock(&g->mu);
	g->clock = fn ? fn : wall_clock;
	g->clock_arg = arg;
	pthread_mutex_unlock(&g->mu);
}

void auth_guard_free(struct auth_guard **gp)
{
	struct auth_guard *g = *gp;
	if (g == NULL)
		return;
	free(g->e);
	pthread_mutex_destroy(&g->mu);
	free(g);
	*gp = NULL;
}

/* The counted form of ip into name, its threshold into *max: 0, 1 if
 * its range is exempt, -1 if it is not an address (neither counted). */
static int ip_key(const struct auth_guard *g, const char *ip, char *name,
		  size_t namesz, unsigned *max)
{
	unsigned char a[16];
	memset(a, 0, sizeof a);
	if (inet_pton(AF_INET, ip, a + 12) == 1) {
		a[10] = a[11] = 0xff;
	} else if (inet_pton(AF_INET6, ip, a) != 1) {
		return -1;
	}
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (!memcmp(a, mapped, sizeof mapped)) {
		inet_ntop(AF_INET, a + 12, name, (socklen_t)namesz);
	} else {
		/* one host usually holds a whole /64 */
		char t[INET6_ADDRSTRLEN];
		memset(a + 8, 0, 8);
		inet_ntop(AF_INET6, a, t, sizeof t);
		snprintf(name, namesz, "%s/64", t);
	}
	*max = g->conf.ip_max;
	const struct cfg_ip_range *r =
		cfg_ip_range_find(g->conf.ip_ranges.r, g->conf.ip_ranges.n, a);
	if (r != NULL && r->limit == 0)
		return 1;
	if (r != NULL)
		*max = r->limit;
	return 0;
}

static void account_key(const char *account, char *name, size_t namesz)
{
	size_t i = 0;
	for (; account[i] != '\0' && i + 1 < namesz; i++) {
		char ch = account[i];
		name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	name[i] = '\0';
}

static uint64_t name_hash(const struct auth_guard *g, unsigned kind,
			  const char *name)
{
	unsigned char buf[AUTH_GUARD_NAME_MAX + 2], out[8];
	size_t n = strlen(name);
	buf[0] = (unsigned char)kind;
	memcpy(buf + 1, name, n);
	crypto_shorthash(out, buf, n + 1, g->key);
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | out[i];
	return h ? h : 1;
}

static void emit(struct auth_guard *g, const char *kind,
		 const struct gentry *e, const char *detail, int64_t when)
{
	if (g->event != NULL)
		g->event(g->event_arg, kind, e->name,
			 e->kind == G_IP ? "ip" : "account", detail, when);
}

/* A lock that has run out ends here: audited with its own end time. */
static void expire(struct auth_guard *g, struct gentry *e, int64_t now,
		   const char *how)
{
	if (e->locked_until == 0 || (now < e->locked_until && how == NULL))
		return;
	char detail[96];
	snprintf(detail, sizeof detail, "what=%s%s%s",
		 e->kind == G_IP ? "ip" : "account", how ? " reason=" : "",
		 how ? how : "");
	emit(g, "login.unlock", e, detail, how ? now : e->locked_until);
	e->locked_until = 0;
	e->fails = 0;
	e->window_start = now;
}

static void sweep(struct auth_guard *g, int64_t now)
{
	if (now - g->last_sweep < AUTH_GUARD_SWEEP && now >= g->last_sweep)
		return;
	g->last_sweep = now;
	size_t n = g->nsets * AUTH_GUARD_WAYS;
	for (size_t i = 0; i < n; i++) {
		struct gentry *e = &g->e[i];
		if (e->h == 0)
			continue;
		expire(g, e, now, NULL);
		/* nothing left to remember: free the slot */
		if (e->locked_until == 0 &&
		    (e->fails == 0 || now - e->window_start >= g->conf.window))
			e->h = 0;
	}
}

/* Is e a better slot to reuse than v? Free slots first, then the least
 * recently used unlocked entry, then the lock that ends first. */
static bool better_victim(const struct gentry *v, const struct gentry *e)
{
	if (v->h == 0)
		return false;
	if (e->h == 0)
		return true;
	bool vl = v->locked_until != 0, el = e->locked_until != 0;
	if (vl != el)
		return vl;
	return el ? e->locked_until < v->locked_until : e->used < v->used;
}

/* The entry of (kind, name), or NULL; with create, a new or evicted one. */
static struct gentry *find(struct auth_guard *g, unsigned kind,
			   const char *name, bool create, int64_t now)
{
	uint64_t h = name_hash(g, kind, name);
	struct gentry *set = &g->e[(h % g->nsets) * AUTH_GUARD_WAYS];
	struct gentry *victim = NULL;
	for (size_t i = 0; i < AUTH_GUARD_WAYS; i++) {
		struct gentry *e = &set[i];
		if (e->h == h && e->kind == kind && !strcmp(e->name, name)) {
			e->used = now;
			expire(g, e, now, NULL);
			return e;
		}
		if (victim == NULL || better_victim(victim, e))
			victim = e;
	}
	if (!create)
		return NULL;
	if (victim->h != 0)
		expire(g, victim, now, "evicted");
	memset(victim, 0, sizeof *victim);
	victim->h = h;
	victim->kind = kind;
	victim->window_start = now;
	victim->used = now;
	snprintf(victim->name, sizeof victim->name, "%s", name);
	return victim;
}

static bool is_locked(const struct gentry *e, int64_t now)
{
	return e != NULL && e->locked_until != 0 && now < e->locked_until;
}

bool auth_guard_locked(struct auth_guard *g, const char *ip,
		       const char *account)
{
	char name[AUTH_GUARD_NAME_MAX + 1];
	unsigned max;
	bool locked = false;
	pthread_mutex_lock(&g->mu);
	int64_t now = g->clock(g->clock_arg);
	sweep(g, now);
	if (ip != NULL && ip_key(g, ip, name, sizeof name, &max) == 0)
		locked = is_locked(find(g, G_IP, name, false, now), now);
	if (account != NULL && account[0] != '\0') {
		account_key(account, name, sizeof name);
		locked |= is_locked(find(g, G_ACCOUNT, name, false, now), now);
	}
	pthread_mutex_unlock(&g->mu);
	return locked;
}

/* One failure on e (threshold max, 0 = none); its count after. */
static unsigned fail_one(struct auth_guard *g, struct gentry *e, unsigned max,
			 int64_t now)
{
	if (is_locked(e, now))
		return e->fails;
	if (now - e->window_start >= g->conf.window || now < e->window_start) {
		e->fails = 0;
		e->window_start = now;
	}
	e->fails++;
	e->max = max;
	if (max > 0 && e->fails >= max && g->conf.lockout > 0) {
		e->locked_until = now + g->conf.lockout;
		char detail[96];
		snprintf(detail, sizeof detail, "what=%s failures=%u until=%lld",
			 e->kind == G_IP ? "ip" : "account", e->fails,
			 (long long)e->locked_until);
		emit(g, "login.lockout", e, detail, now);
	}
	return e->fails;
}

unsigned auth_guard_record(struct auth_guard *g, const char *ip,
			   const char *account, bool ok)
{
	char name[AUTH_GUARD_NAME_MAX + 1];
	unsigned max = 0, n = 0;
	pthread_mutex_lock(&g->mu);
	int64_t now = g->clock(g->clock_arg);
	sweep(g, now);
	bool have_acct = account != NULL && account[0] != '\0';
	if (ok) {
		if (have_acct) {
			account_key(account, name, sizeof name);
			struct gentry *e = find(g, G_ACCOUNT, name, false, now);
			if (e != NULL && !is_locked(e, now))
				e->h = 0;
		}
		pthread_mutex_unlock(&g->mu);
		return 0;
	}
	if (ip != NULL && ip_key(g, ip, name, sizeof name, &max) == 0) {
		n = fail_one(g, find(g, G_IP, name, true, now), max, now);
	}
	if (have_acct) {
		account_key(account, name, sizeof name);
		unsigned c = fail_one(g, find(g, G_ACCOUNT, name, true, now),
				      g->conf.account_max, now);
		if (c > n)
			n = c;
	}
	pthread_mutex_unlock(&g->mu);
	if (g->conf.delay == 0 || n == 0)
		return 0;
	unsigned d = g->conf.delay;
	for (unsigned i = 1; i < n && d < g->conf.delay_max; i++)
		d *= 2;
	if (d > g->conf.delay_max && g->conf.delay_max >= g->conf.delay)
		d = g->conf.delay_max;
	return d;
}

size_t auth_guard_count(struct auth_guard *g)
{
	size_t n = 0;
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < g->nsets * AUTH_GUARD_WAYS; i++)
		n += g->e[i].h != 0;
	pthread_mutex_unlock(&g->mu);
	return n;
}
