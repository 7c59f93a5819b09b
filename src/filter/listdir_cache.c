/* listdir_cache.c - the lists of each level, read from their files on
 * first use and again when they change, shared by the threads that
 * score mail (listdir.h). A level is a slot: its two files' stamps and
 * the current lists, held by a reference count so that a reload swaps
 * in a new one while readers finish with the old. The slot table is
 * bounded (FILTER_LISTDIR_SLOTS_MAX, least recently used dropped). */
#include "filter/listdir.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define LISTDIR_BUCKETS 256

/* One version of a level's lists. */
struct lref {
	_Atomic unsigned refs;
	struct filter_list *list;	/* NULL: no entries */
};

struct slot {
	enum filter_list_level level;
	char name[336];			/* domain or address, lower case */
	pthread_mutex_t mu;		/* files and cur */
	struct filter_list_files files;
	bool loaded;
	struct lref *cur;		/* the slot's reference */
	uint64_t used;			/* cache tick of the last get */
	struct slot *next;		/* bucket chain */
};

struct filter_listdir_cache {
	char *data_dir;
	pthread_mutex_t mu;		/* the table, tick, n */
	struct slot *bucket[LISTDIR_BUCKETS];
	size_t n;
	uint64_t tick;
};

static void lref_put(struct lref *r)
{
	if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1) {
		filter_list_free(&r->list);
		free(r);
	}
}

static void slot_free(struct slot *s)
{
	lref_put(s->cur);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct filter_listdir_cache *filter_listdir_cache_new(const char *data_dir)
{
	struct filter_listdir_cache *c = xcalloc(1, sizeof *c);
	c->data_dir = xstrdup(data_dir);
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void filter_listdir_cache_free(struct filter_listdir_cache **cp)
{
	struct filter_listdir_cache *c = *cp;
	if (c == NULL)
		return;
	for (size_t b = 0; b < LISTDIR_BUCKETS; b++)
		while (c->bucket[b] != NULL) {
			struct slot *s = c->bucket[b];
			c->bucket[b] = s->next;
			slot_free(s);
		}
	pthread_mutex_destroy(&c->mu);
	free(c->data_dir);
	free(c);
	*cp = NULL;
}

static size_t hash(enum filter_list_level level, const char *name)
{
	uint64_t h = 14695981039346656037u ^ (uint64_t)level;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return (size_t)(h % LISTDIR_BUCKETS);
}

/* Under c->mu: drop the least recently used slot (its readers keep the
 * lists they hold: those are counted apart). */
static void evict_one(struct filter_listdir_cache *c)
{
	struct slot **victim = NULL;
	for (size_t b = 0; b < LISTDIR_BUCKETS; b++)
		for (struct slot **sp = &c->bucket[b]; *sp; sp = &(*sp)->next)
			if (victim == NULL || (*sp)->used < (*victim)->used)
				victim = sp;
	if (victim == NULL)
		return;
	struct slot *s = *victim;
	*victim = s->next;
	c->n--;
	/* a get that found s holds s->mu (taken before it let c->mu go):
	 * wait until it is done; no one can find s after this */
	pthread_mutex_lock(&s->mu);
	pthread_mutex_unlock(&s->mu);
	slot_free(s);
}

/* The slot of level/name, made if new; its mutex held on return, or
 * NULL when the name is not one a path may hold. */
static struct slot *slot_get(struct filter_listdir_cache *c,
			     enum filter_list_level level, const char *name)
{
	char lower[336];
	size_t n = strlen(name);
	if (n >= sizeof lower)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z')
					  ? name[i] - 'A' + 'a' : name[i]);
	size_t b = hash(level, lower);
	pthread_mutex_lock(&c->mu);
	struct slot *s = c->bucket[b];
	while (s != NULL && (s->level != level || strcmp(s->name, lower)))
		s = s->next;
	if (s == NULL) {
		struct err err;
		s = xcalloc(1, sizeof *s);
		s->level = level;
		memcpy(s->name, lower, n + 1);
		pthread_mutex_init(&s->mu, NULL);
		if (filter_listdir_path(c->data_dir, level, lower,
					FILTER_LIST_ALLOW, s->files.allow_path,
					sizeof s->files.allow_path, &err) < 0 ||
		    filter_listdir_path(c->data_dir, level, lower,
					FILTER_LIST_BLOCK, s->files.block_path,
					sizeof s->files.block_path, &err) < 0) {
			pthread_mutex_unlock(&c->mu);
			slot_free(s);
			return NULL;
		}
		if (c->n >= FILTER_LISTDIR_SLOTS_MAX)
			evict_one(c);
		s->next = c->bucket[b];
		c->bucket[b] = s;
		c->n++;
	}
	s->used = ++c->tick;
	/* taken before the table is let go, so eviction waits for us */
	pthread_mutex_lock(&s->mu);
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void bad_line(void *ctx, const char *file, unsigned line,
		     const char *reason)
{
	(void)ctx;
	log_warn("filter", NULL, "op=list-load file=%s:%u error=\"%s\"", file,
		 line, reason);
}

/* Under s->mu: read the files again if they changed (or never were). */
static void slot_refresh(struct slot *s, time_t now)
{
	if (s->loaded && !filter_list_files_changed(&s->files, now))
		return;
	if (!s->loaded)
		s->files.last_check = now;
	struct filter_list *l = NULL;
	struct err err;
	if (filter_list_files_load(&s->files, bad_line, NULL, &l, &err) < 0) {
		/* keep what we had; the stamps are unchanged, so the next
		 * check tries again */
		log_error("filter", NULL, "op=list-load level=%s name=\"%s\" "
			  "error=\"%s\" keeping=previous",
			  filter_list_level_str(s->level), s->name, err.msg);
		s->loaded = true;
		return;
	}
	struct lref *r = xcalloc(1, sizeof *r);
	atomic_init(&r->refs, 1);
	if (filter_list_count(l) > 0)
		r->list = l;
	else
		filter_list_free(&l);
	lref_put(s->cur);
	s->cur = r;
	s->loaded = true;
}

static void take(struct filter_listdir_cache *c, enum filter_list_level level,
		 const char *name, time_t now, struct filter_listdir_lists *out)
{
	struct slot *s = slot_get(c, level, name);
	if (s == NULL)
		return;
	slot_refresh(s, now);
	struct lref *r = s->cur;
	if (r != NULL && r->list != NULL) {
		atomic_fetch_add(&r->refs, 1);
		out->l[level] = r->list;
		out->ref_[level] = r;
	}
	pthread_mutex_unlock(&s->mu);
}

void filter_listdir_get(struct filter_listdir_cache *c, const char *domain,
			const char *user, time_t now,
			struct filter_listdir_lists *out)
{
	memset(out, 0, sizeof *out);
	struct err err;
	take(c, FILTER_LEVEL_GLOBAL, "", now, out);
	if (domain != NULL && domain[0] != '\0' &&
	    filter_listdir_name_check(domain, &err) == 0)
		take(c, FILTER_LEVEL_DOMAIN, domain, now, out);
	if (user != NULL && user[0] != '\0' &&
	    filter_listdir_name_check(user, &err) == 0)
		take(c, FILTER_LEVEL_USER, user, now, out);
}

void filter_listdir_put(struct filter_listdir_cache *c,
			struct filter_listdir_lists *l)
{
	(void)c;
	for (int i = 0; i < FILTER_LEVELS; i++) {
		lref_put(l->ref_[i]);
		l->ref_[i] = NULL;
		l->l[i] = NULL;
	}
}
