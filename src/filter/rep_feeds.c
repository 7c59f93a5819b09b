/* rep_feeds.c - the configured feed files as one set, read again when a
 * file changes, and the URL_FEED / URL_FEED_HOST checks of a message.
 * Checks read the set under a read lock; a reload builds the new set
 * with no lock held and swaps it under the write lock, so messages are
 * never held up by a large feed being parsed (only the thread that
 * noticed the change is). A reload that fails keeps the old set. */
#include "filter/rep_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "filter/sym.h"

int rep_path(const char *dir, const char *path, char *out, size_t outsz)
{
	int rc;

	if (path[0] == '/' || dir == NULL || dir[0] == '\0')
		rc = snprintf(out, outsz, "%s", path);
	else
		rc = snprintf(out, outsz, "%s/%s", dir, path);
	return rc < 0 || (size_t)rc >= outsz ? -1 : 0;
}

/* Every file into a new set; stamps into st. NULL with err when one
 * fails. */
static struct rep_feed *load_all(struct rep_feeds *fs,
				 struct filter_file_stamp *st, struct err *err)
{
	struct rep_feed *f = xmalloc(sizeof *f);

	rep_feed_init(f);
	for (size_t i = 0; i < fs->n; i++) {
		struct rep_feed_info info;
		char *text;
		size_t len;
		int rc;

		if (filter_file_read(fs->path[i], FILTER_REP_FEED_FILE_MAX, &text,
				     &len, &st[i], err) != 0)
			goto fail;
		if (text == NULL) {
			err_set(err, ERR_ENV, 0, NULL, "%s: no such file",
				fs->path[i]);
			goto fail;
		}
		rc = rep_feed_parse(f, span_make(text, len), &info, err);
		free(text);
		if (rc != 0) {
			struct err e = *err;

			err_set(err, e.kind, 0, NULL, "%s: %s", fs->path[i],
				e.msg);
			goto fail;
		}
		if (info.bad > 0)
			log_warn("filter", NULL, "url feed %s: %zu bad entries "
				 "skipped, the first at %s %zu", fs->path[i],
				 info.bad, info.format == REP_FEED_JSON ?
				 "element" : "line", info.first_bad);
		if (info.full)
			log_warn("filter", NULL, "url feed %s: more than %d "
				 "entries, the rest ignored", fs->path[i],
				 FILTER_REP_FEED_ENTRIES_MAX);
	}
	rep_feed_seal(f);
	return f;
fail:
	rep_feed_free(f);
	free(f);
	return NULL;
}

int rep_feeds_init(struct rep_feeds *fs, const char *list, const char *dir,
		   struct err *err)
{
	const char *p = list ? list : "", *item;
	size_t len;

	memset(fs, 0, sizeof *fs);
	if (pthread_rwlock_init(&fs->lock, NULL) != 0 ||
	    pthread_mutex_init(&fs->reload, NULL) != 0)
		abort();	/* only fails without memory */
	while (cfg_list_next(&p, &item, &len)) {
		char path[4096];

		if (fs->n == FILTER_REP_FEED_FILES_MAX)
			return err_set(err, ERR_CONFIG, 0, NULL, "more than %d "
				       "url feed files", FILTER_REP_FEED_FILES_MAX);
		if (len >= sizeof path)
			return err_set(err, ERR_CONFIG, 0, NULL, "url feed path "
				       "too long");
		memcpy(path, item, len);
		path[len] = '\0';
		if (rep_path(dir, path, fs->path[fs->n], sizeof fs->path[0]) != 0)
			return err_set(err, ERR_CONFIG, 0, NULL, "url feed path "
				       "too long");
		fs->n++;
	}
	if (fs->n == 0)
		return 0;
	fs->cur = load_all(fs, fs->stamp, err);
	if (fs->cur == NULL)
		return -1;
	log_info("filter", NULL, "url feeds loaded files=%zu entries=%zu",
		 fs->n, rep_feed_count(fs->cur));
	return 0;
}

void rep_feeds_fini(struct rep_feeds *fs)
{
	if (fs->cur != NULL) {
		rep_feed_free(fs->cur);
		free(fs->cur);
	}
	fs->cur = NULL;
	pthread_rwlock_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->reload);
}

void rep_feeds_refresh(struct rep_feeds *fs, time_t now)
{
	struct filter_file_stamp st[FILTER_REP_FEED_FILES_MAX];
	struct rep_feed *f, *old;
	struct err err = { 0 };
	bool changed = false;

	if (fs->n == 0 || pthread_mutex_trylock(&fs->reload) != 0)
		return;
	if (fs->last_check != 0 && now >= fs->last_check &&
	    now - fs->last_check < FILTER_LIST_CHECK_SECONDS) {
		pthread_mutex_unlock(&fs->reload);
		return;
	}
	fs->last_check = now;
	for (size_t i = 0; i < fs->n && !changed; i++)
		changed = filter_file_changed(fs->path[i], &fs->stamp[i]);
	if (!changed) {
		pthread_mutex_unlock(&fs->reload);
		return;
	}
	memset(st, 0, sizeof st);
	f = load_all(fs, st, &err);
	if (f == NULL) {
		/* what the files look like now: a broken one is tried again
		 * when it changes again, not every few seconds with the same
		 * complaint */
		for (size_t i = 0; i < fs->n; i++)
			filter_file_stamp_path(fs->path[i], &st[i]);
	}
	memcpy(fs->stamp, st, sizeof fs->stamp);
	if (f == NULL) {
		log_warn("filter", NULL, "url feeds not reloaded, the old set "
			 "is kept: %s", err.msg);
		pthread_mutex_unlock(&fs->reload);
		return;
	}
	pthread_rwlock_wrlock(&fs->lock);
	old = fs->cur;
	fs->cur = f;
	pthread_rwlock_unlock(&fs->lock);
	log_info("filter", NULL, "url feeds reloaded entries=%zu",
		 rep_feed_count(f));
	pthread_mutex_unlock(&fs->reload);
	if (old != NULL) {
		rep_feed_free(old);
		free(old);
	}
}

void rep_feeds_check(struct rep_feeds *fs, const struct filter_urls *urls,
		     const struct filter_weights *w, struct filter_syms *out)
{
	char url_hit[FILTER_SYM_DETAIL_MAX] = "";
	char host_hit[FILTER_SYM_DETAIL_MAX] = "";

	if (fs->n == 0 || urls == NULL)
		return;
	pthread_rwlock_rdlock(&fs->lock);
	for (size_t i = 0; fs->cur != NULL && i < urls->n; i++) {
		const struct filter_url *u = &urls->v[i];
		size_t mlen;

		if (url_hit[0] == '\0' && rep_feed_has_url(fs->cur, u->url))
			snprintf(url_hit, sizeof url_hit, "%s", u->url);
		if (host_hit[0] == '\0' &&
		    rep_feed_has_host(fs->cur, u->host, &mlen))
			snprintf(host_hit, sizeof host_hit, "%s",
				 u->host + strlen(u->host) - mlen);
	}
	pthread_rwlock_unlock(&fs->lock);
	/* the detail is the URL or host as normalised: ASCII, and sym.c
	 * replaces anything unprintable */
	if (url_hit[0] != '\0')
		(void)filter_sym_add(out, w, "URL_FEED", 1, "%s", url_hit);
	if (host_hit[0] != '\0')
		(void)filter_sym_add(out, w, "URL_FEED_HOST", 1, "%s", host_hit);
}

size_t rep_feeds_count(struct rep_feeds *fs)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&fs->lock);
	if (fs->cur != NULL)
		n = rep_feed_count(fs->cur);
	pthread_rwlock_unlock(&fs->lock);
	return n;
}
