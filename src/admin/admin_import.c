/* admin_import.c - bulk creation of mailboxes from CSV (decision 0024):
 * read and check every row, then hash the passwords on threads of our
 * own, then create everything in one store transaction. All or nothing:
 * one bad row and the store is not touched, and every bad row is
 * reported. Passwords live in memory only for the run and are wiped. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin/admin.h"
#include "auth/auth.h"
#include "core/config.h"
#include "core/csv.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "store/store.h"

enum col { COL_ADDRESS, COL_LOCAL, COL_NAME, COL_PASSWORD, COL_QUOTA,
	   COL_GROUPS, COL_N };

static const struct {
	const char *name;
	enum col col;
} col_names[] = {
	{ "address", COL_ADDRESS }, { "email", COL_ADDRESS },
	{ "local_part", COL_LOCAL }, { "local", COL_LOCAL },
	{ "display_name", COL_NAME }, { "name", COL_NAME },
	{ "password", COL_PASSWORD }, { "quota", COL_QUOTA },
	{ "groups", COL_GROUPS },
};

struct row {
	size_t line;
	char local[SMTP_LOCAL_MAX + 1];
	char display[IMPORT_DISPLAY_NAME_MAX + 1];
	char *password;		/* malloc'd, wiped; NULL: none given */
	size_t password_len;
	bool generated;
	bool prehashed;
	uint64_t quota;
	size_t groups[IMPORT_MAX_ROW_GROUPS];	/* indexes into groups */
	size_t ngroups;
	char hash[AUTH_HASH_MAX];
	char scram[AUTH_SCRAM_SECRET_MAX];
};

struct group {
	char address[STORE_ADDR_MAX + 1];
	bool ok;		/* a group of the store */
	size_t members;		/* now, plus those of this file */
};

struct run {
	struct store *st;
	const struct admin_import_opts *o;
	struct admin_import_result *out;
	struct store_domain dom;
	struct store_password_policy policy;
	int colidx[COL_N];	/* field index of each column, -1 absent */
	size_t nheader;
	struct row *rows;
	size_t nrows, caprows;
	struct group groups[IMPORT_MAX_GROUPS];
	size_t ngroups;
	size_t caperr;
	/* duplicates: open addressing over lower-cased local parts */
	size_t *seen;		/* row index + 1, 0 empty */
	size_t seen_cap;
};

static void add_error(struct run *r, size_t line, const char *column,
		      const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add_error(struct run *r, size_t line, const char *column,
		      const char *value, const char *fmt, ...)
{
	struct admin_import_result *out = r->out;
	if (out->nerrors == r->caperr) {
		r->caperr = r->caperr ? r->caperr * 2 : 16;
		out->errors = xreallocarray(out->errors, r->caperr,
					    sizeof *out->errors);
	}
	struct admin_import_error *e = &out->errors[out->nerrors++];
	memset(e, 0, sizeof *e);
	e->line = line;
	snprintf(e->column, sizeof e->column, "%s", column ? column : "");
	snprintf(e->value, sizeof e->value, "%s", value ? value : "");
	size_t n = strlen(e->value);
	if (n == sizeof e->value - 1) {
		/* cut on a character boundary, so the value stays UTF-8 */
		while (n > 0 && ((unsigned char)e->value[n] & 0xc0) == 0x80)
			n--;
		e->value[n] = '\0';
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
}

static void progress(struct run *r, const char *phase, size_t done,
		     size_t total)
{
	if (r->o->progress != NULL)
		r->o->progress(r->o->progress_arg, phase, done, total);
}

/* ---- the header ----------------------------------------------------------- */

static int read_header(struct run *r, const struct csv_record *h)
{
	for (int i = 0; i < COL_N; i++)
		r->colidx[i] = -1;
	r->nheader = h->nfields;
	int bad = 0;
	for (size_t f = 0; f < h->nfields; f++) {
		char name[32];
		const char *v = h->field[f];
		while (*v == ' ')
			v++;
		snprintf(name, sizeof name, "%s", v);
		size_t n = strlen(name);
		while (n > 0 && name[n - 1] == ' ')
			name[--n] = '\0';
		int col = -1;
		for (size_t k = 0; k < sizeof col_names / sizeof *col_names; k++)
			if (strcasecmp(name, col_names[k].name) == 0)
				col = (int)col_names[k].col;
		if (col < 0) {
			add_error(r, h->line, "", h->field[f], "unknown column "
				  "(known: address or local_part, display_name, "
				  "password, quota, groups)");
			bad = -1;
		} else if (r->colidx[col] >= 0) {
			add_error(r, h->line, "", h->field[f],
				  "column given twice");
			bad = -1;
		} else {
			r->colidx[col] = (int)f;
		}
	}
	if (bad == 0 && (r->colidx[COL_ADDRESS] < 0) == (r->colidx[COL_LOCAL] < 0)) {
		add_error(r, h->line, "", "", "the header needs one column "
			  "address or local_part");
		bad = -1;
	}
	if (bad == 0 && r->colidx[COL_LOCAL] >= 0 && r->o->domain == NULL) {
		add_error(r, h->line, "local_part", "", "local parts need the "
			  "domain (--domain, or the URL's)");
		bad = -1;
	}
	return bad;
}

/* ---- one row -------------------------------------------------------------- */

static const char *field(const struct run *r, const struct csv_record *rec,
			 enum col c)
{
	return r->colidx[c] < 0 ? NULL : rec->field[r->colidx[c]];
}

/* s without leading and trailing blanks into out. */
static void trim_copy(const char *s, char *out, size_t outsz)
{
	while (*s == ' ' || *s == '\t')
		s++;
	snprintf(out, outsz, "%s", s);
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
}

/* A display name from a spreadsheet cell may span lines: one line of
 * text, with other control characters refused. */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\r' &&
		     *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/* 1 if the local part was seen before (then *first = its line), else
 * remembered. */
static int seen_before(struct run *r, size_t idx, size_t *first)
{
	if (r->seen == NULL) {
		r->seen_cap = 2 * IMPORT_MAX_ROWS + 1;
		r->seen = xcalloc(r->seen_cap, sizeof *r->seen);
	}
	const char *l = r->rows[idx].local;
	uint64_t h = 1469598103934665603ull;
	for (const char *p = l; *p; p++)
		h = (h ^ (unsigned char)tolower((unsigned char)*p)) *
		    1099511628211ull;
	for (size_t i = h % r->seen_cap;; i = (i + 1) % r->seen_cap) {
		if (r->seen[i] == 0) {
			r->seen[i] = idx + 1;
			return 0;
		}
		if (strcasecmp(r->rows[r->seen[i] - 1].local, l) == 0) {
			*first = r->rows[r->seen[i] - 1].line;
			return 1;
		}
	}
}

static int check_address(struct run *r, const struct csv_record *rec,
			 struct row *w)
{
	char addr[STORE_ADDR_MAX + 1];
	struct err e;
	const char *col = r->colidx[COL_ADDRESS] >= 0 ? "address" : "local_part";
	const char *raw = field(r, rec, r->colidx[COL_ADDRESS] >= 0 ?
				COL_ADDRESS : COL_LOCAL);
	trim_copy(raw, addr, sizeof addr);
	if (strlen(raw) > STORE_ADDR_MAX) {
		add_error(r, rec->line, col, raw, "invalid address: too long");
		return -1;
	}
	const char *local = addr;
	if (r->colidx[COL_ADDRESS] >= 0) {
		char *at = strrchr(addr, '@');
		if (at == NULL) {
			add_error(r, rec->line, col, raw, "invalid address: "
				  "no '@'");
			return -1;
		}
		*at = '\0';
		char ascii[SMTP_DOMAIN_MAX + 1], uni[SMTP_DOMAIN_MAX * 4 + 1];
		if (store_domain_idna(at + 1, ascii, sizeof ascii, uni,
				      sizeof uni, &e) < 0) {
			add_error(r, rec->line, col, raw, "invalid address: "
				  "bad domain");
			return -1;
		}
		if (strcasecmp(ascii, r->dom.name) != 0) {
			add_error(r, rec->line, col, raw, "not in domain %s",
				  r->dom.name);
			return -1;
		}
	}
	if (store_local_part_check(local, &e) < 0) {
		add_error(r, rec->line, col, raw, "invalid address: %s", e.msg);
		return -1;
	}
	if (strlen(local) + 1 + strlen(r->dom.name) > SMTP_PATH_MAX - 2) {
		add_error(r, rec->line, col, raw, "invalid address: too long");
		return -1;
	}
	size_t llen = strlen(local);	/* <= SMTP_LOCAL_MAX: checked */
	memcpy(w->local, local, llen < sizeof w->local ? llen : 0);
	w->local[llen < sizeof w->local ? llen : 0] = '\0';
	size_t first;
	if (seen_before(r, (size_t)(w - r->rows), &first)) {
		add_error(r, rec->line, col, raw, "duplicate in file (line %zu)",
			  first);
		return -1;
	}
	struct store_mailbox mb;
	int rc = store_mailbox_find(r->st, w->local, r->dom.name, &mb, &e);
	if (rc < 0)
		return -2;
	if (rc == 1) {
		add_error(r, rec->line, col, raw, "already exists");
		return -1;
	}
	char full[STORE_ADDR_MAX + 1];
	snprintf(full, sizeof full, "%s@%s", w->local, r->dom.name);
	struct store_alias a;
	rc = store_alias_get(r->st, full, &a, &e);
	if (rc == 1) {
		bool group = a.kind == STORE_GROUP;
		store_alias_free(&a);
		add_error(r, rec->line, col, raw, "already exists as %s",
			  group ? "a group" : "an alias");
		return -1;
	}
	return rc < 0 ? -2 : 0;
}

static int check_password(struct run *r, const struct csv_record *rec,
			  struct row *w)
{
	const char *pw = field(r, rec, COL_PASSWORD);
	if (pw == NULL || pw[0] == '\0') {
		w->generated = true;
		return 0;
	}
	size_t len = strlen(pw);
	if (strncmp(pw, "$argon2id$", 10) == 0) {
		if (!auth_password_hash_valid(pw)) {
			add_error(r, rec->line, "password", "(hidden)",
				  "not a valid Argon2id hash");
			return -1;
		}
		w->prehashed = true;
		snprintf(w->hash, sizeof w->hash, "%s", pw);
		return 0;
	}
	const char *why;
	/* without a valid local part, the rest of the policy still applies */
	if (auth_password_policy_check(&r->policy, pw, len,
				       w->local[0] ? w->local : NULL, &why) < 0) {
		add_error(r, rec->line, "password", "(hidden)",
			  "weak password: %s", why);
		return -1;
	}
	w->password = xmalloc(len + 1);
	memcpy(w->password, pw, len + 1);
	w->password_len = len;
	return 0;
}

static int check_quota(struct run *r, const struct csv_record *rec,
		       struct row *w)
{
	char q[64];
	const char *raw = field(r, rec, COL_QUOTA);
	w->quota = r->dom.mailbox_quota ? r->dom.mailbox_quota
					: r->o->default_quota;
	if (raw == NULL)
		return 0;
	trim_copy(raw, q, sizeof q);
	if (q[0] == '\0')
		return 0;
	uint64_t v;
	if (strlen(raw) >= sizeof q || cfg_parse_size(q, &v) != 0 ||
	    v > (uint64_t)INT64_MAX) {
		add_error(r, rec->line, "quota", raw, "bad quota (a size such "
			  "as 500M, 2G or 0 for none)");
		return -1;
	}
	w->quota = v;
	return 0;
}

/* The index of group address g in r->groups, looked up once; -1 with
 * the row's error. */
static int group_index(struct run *r, size_t line, const char *g,
		       const char *raw)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcasecmp(r->groups[i].address, g) == 0)
			return r->groups[i].ok ? (int)i : -1;
	if (r->ngroups == IMPORT_MAX_GROUPS) {
		add_error(r, line, "groups", raw, "more than %d different "
			  "groups in one file", IMPORT_MAX_GROUPS);
		return -1;
	}
	struct group *grp = &r->groups[r->ngroups++];
	snprintf(grp->address, sizeof grp->address, "%s", g);
	struct store_alias a;
	struct err e;
	int rc = store_alias_get(r->st, g, &a, &e);
	if (rc == 1) {
		grp->ok = a.kind == STORE_GROUP;
		grp->members = a.n_targets;
		store_alias_free(&a);
	}
	return grp->ok ? (int)(grp - r->groups) : -1;
}

static int check_groups(struct run *r, const struct csv_record *rec,
			struct row *w)
{
	const char *raw = field(r, rec, COL_GROUPS);
	if (raw == NULL)
		return 0;
	int bad = 0;
	const char *p = raw;
	while (*p) {
		size_t skip = strspn(p, " ;,\t");
		p += skip;
		size_t n = strcspn(p, " ;,\t");
		if (n == 0)
			break;
		char g[STORE_ADDR_MAX + 1];
		if (n > STORE_ADDR_MAX) {
			add_error(r, rec->line, "groups", raw, "a group address "
				  "is too long");
			return -1;
		}
		memcpy(g, p, n);
		g[n] = '\0';
		p += n;
		size_t before = r->out->nerrors;
		int i = group_index(r, rec->line, g, raw);
		if (i < 0) {
			if (r->out->nerrors == before)
				add_error(r, rec->line, "groups", g,
					  "unknown group");
			bad = -1;
			continue;
		}
		if (w->ngroups == IMPORT_MAX_ROW_GROUPS) {
			add_error(r, rec->line, "groups", raw, "more than %d "
				  "groups", IMPORT_MAX_ROW_GROUPS);
			return -1;
		}
		bool dup = false;
		for (size_t k = 0; k < w->ngroups; k++)
			dup |= w->groups[k] == (size_t)i;
		if (dup)
			continue;
		if (r->groups[i].members >= STORE_ALIAS_TARGETS_MAX) {
			add_error(r, rec->line, "groups", g, "group is full "
				  "(%d members)", STORE_ALIAS_TARGETS_MAX);
			bad = -1;
			continue;
		}
		r->groups[i].members++;
		w->groups[w->ngroups++] = (size_t)i;
	}
	return bad;
}

/* -2 store error, -1 bad row (reported), 0 good. */
static int check_row(struct run *r, const struct csv_record *rec)
{
	if (rec->nfields != r->nheader) {
		add_error(r, rec->line, "", "", "has %zu fields, the header "
			  "has %zu", rec->nfields, r->nheader);
		return -1;
	}
	if (r->nrows == r->caprows) {
		r->caprows = r->caprows ? r->caprows * 2 : 64;
		r->rows = xreallocarray(r->rows, r->caprows, sizeof *r->rows);
	}
	struct row *w = &r->rows[r->nrows++];
	memset(w, 0, sizeof *w);
	w->line = rec->line;
	int bad = check_address(r, rec, w);
	if (bad == -2)
		return -2;
	const char *name = field(r, rec, COL_NAME);
	if (name != NULL) {
		if (strlen(name) > IMPORT_DISPLAY_NAME_MAX || has_control(name)) {
			add_error(r, rec->line, "display_name", name, "a display "
				  "name is at most %d octets without control "
				  "characters", IMPORT_DISPLAY_NAME_MAX);
			bad = -1;
		} else {
			trim_copy(name, w->display, sizeof w->display);
			one_line(w->display);
		}
	}
	if (check_password(r, rec, w) < 0)
		bad = -1;
	if (check_quota(r, rec, w) < 0)
		bad = -1;
	if (check_groups(r, rec, w) < 0)
		bad = -1;
	return bad;
}

/* ---- hashing ------------------------------------------------------------- */

struct hasher {
	struct run *r;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next, done, total;
	size_t *todo;		/* row indexes to hash */
	bool failed;
};

static void *hash_main(void *arg)
{
	struct hasher *h = arg;
	/* an import must not take the CPU from the mail protocols */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0) {
		/* not allowed to lower our own priority: hash anyway */
	}
	for (;;) {
		pthread_mutex_lock(&h->mu);
		size_t i = h->next < h->total && !h->failed ? h->next++ : SIZE_MAX;
		pthread_mutex_unlock(&h->mu);
		if (i == SIZE_MAX)
			break;
		struct row *w = &h->r->rows[h->todo[i]];
		struct err e;
		bool ok = auth_password_hash(w->password, w->password_len,
					     w->hash, sizeof w->hash, &e) == 0 &&
			  auth_scram_secret_make(w->password, w->password_len,
						 AUTH_SCRAM_ITERATIONS, w->scram,
						 sizeof w->scram, &e) == 0;
		pthread_mutex_lock(&h->mu);
		h->done++;
		if (!ok)
			h->failed = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
	return NULL;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int hash_all(struct run *r, struct err *err)
{
	struct hasher h = { .r = r };
	h.todo = xreallocarray(NULL, r->nrows ? r->nrows : 1, sizeof *h.todo);
	for (size_t i = 0; i < r->nrows; i++)
		if (!r->rows[i].prehashed)
			h.todo[h.total++] = i;
	unsigned n = r->o->threads;
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (n > 64)
		n = 64;
	if (n > h.total)
		n = h.total ? (unsigned)h.total : 1;
	pthread_mutex_init(&h.mu, NULL);
	pthread_cond_init(&h.cv, NULL);
	pthread_t tid[64];
	unsigned started = 0;
	double t0 = now_seconds();
	for (unsigned i = 0; i < n && h.total > 0; i++)
		if (pthread_create(&tid[i], NULL, hash_main, &h) == 0)
			started++;
	progress(r, "hashing", 0, h.total);
	pthread_mutex_lock(&h.mu);
	size_t shown = 0;
	while (started > 0 && h.done < h.total && !h.failed) {
		pthread_cond_wait(&h.cv, &h.mu);
		/* about a hundred updates in all, each outside the lock */
		if (h.done - shown >= (h.total + 99) / 100 || h.done == h.total) {
			shown = h.done;
			pthread_mutex_unlock(&h.mu);
			progress(r, "hashing", shown, h.total);
			pthread_mutex_lock(&h.mu);
		}
	}
	/* the last ones may have finished while the update above was being
	 * shown (the lock let go): show where it ended */
	size_t last = h.done;
	pthread_mutex_unlock(&h.mu);
	if (last != shown)
		progress(r, "hashing", last, h.total);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	r->out->hash_seconds = now_seconds() - t0;
	r->out->hashed = h.done;
	pthread_mutex_destroy(&h.mu);
	pthread_cond_destroy(&h.cv);
	free(h.todo);
	if (h.total > 0 && started == 0)
		return err_set(err, ERR_ENV, 0, NULL, "cannot start hashing "
			       "threads");
	if (h.failed)
		return err_set(err, ERR_ENV, 0, NULL, "out of memory hashing "
			       "passwords");
	return 0;
}

/* ---- the run --------------------------------------------------------------- */

static void plan_errors(struct run *r)
{
	size_t room = r->dom.max_mailboxes > r->dom.mailboxes ?
		      r->dom.max_mailboxes - r->dom.mailboxes : 0;
	for (size_t i = room; i < r->nrows; i++)
		add_error(r, r->rows[i].line, r->colidx[COL_ADDRESS] >= 0 ?
			  "address" : "local_part", r->rows[i].local,
			  "over the plan's limit of %u mailboxes (%u exist)",
			  r->dom.max_mailboxes, r->dom.mailboxes);
}

static int cmp_error(const void *a, const void *b)
{
	const struct admin_import_error *x = a, *y = b;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int read_all(struct run *r, struct span csv, struct err *err)
{
	struct csv_limits lim = {
		.max_record = IMPORT_MAX_RECORD,
		.max_fields = IMPORT_MAX_FIELDS,
		.max_records = IMPORT_MAX_ROWS + 1,
	};
	struct csv_reader *cr = csv_new(csv, &lim);
	struct csv_record rec;
	int rc = csv_next(cr, &rec), ret = 0;
	if (rc == 0) {
		add_error(r, 1, "", "", "the file is empty");
	} else if (rc == 1 && read_header(r, &rec) == 0) {
		size_t n = 0;
		while ((rc = csv_next(cr, &rec)) == 1) {
			if (check_row(r, &rec) == -2) {
				ret = err_set(err, ERR_ENV, 0, NULL,
					      "store error checking line %zu",
					      rec.line);
				break;
			}
			if (++n % 500 == 0)
				progress(r, "checking", n, 0);
		}
		if (rc == 0 && r->nrows == 0 && r->out->nerrors == 0)
			add_error(r, 1, "", "", "no rows after the header");
	}
	if (rc < 0) {
		size_t line;
		const char *why = csv_error(cr, &line);
		add_error(r, line, "", "", "not CSV: %s", why);
	}
	csv_free(&cr);
	return ret;
}

int admin_import(struct store *st, struct span csv,
		 const struct admin_import_opts *o,
		 struct admin_import_result *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	out->dry_run = o->dry_run;
	struct run *r = xcalloc(1, sizeof *r);
	r->st = st;
	r->o = o;
	r->out = out;
	int ret = -1;
	const char *domain = o->domain;
	char first[STORE_ADDR_MAX + 1];
	if (domain == NULL) {
		/* the domain of the first data row's address column */
		struct csv_limits lim = { IMPORT_MAX_RECORD, IMPORT_MAX_FIELDS, 2 };
		struct csv_reader *cr = csv_new(csv, &lim);
		struct csv_record h, rec;
		first[0] = '\0';
		size_t col = SIZE_MAX;
		if (csv_next(cr, &h) == 1)
			for (size_t f = 0; f < h.nfields; f++) {
				char name[16];
				trim_copy(h.field[f], name, sizeof name);
				if (strcasecmp(name, "address") == 0 ||
				    strcasecmp(name, "email") == 0)
					col = f;
			}
		/* rec reuses the reader's buffer: h is gone from here on */
		if (col != SIZE_MAX && csv_next(cr, &rec) == 1 &&
		    col < rec.nfields) {
			const char *at = strrchr(rec.field[col], '@');
			trim_copy(at ? at + 1 : "", first, sizeof first);
		}
		csv_free(&cr);
		domain = first;
		if (first[0] == '\0') {
			err_set(err, ERR_PEER, 0, NULL, "no domain: give one "
				"(--domain) or an address column");
			goto out;
		}
	}
	int rc = store_domain_get(st, domain, &r->dom, err);
	if (rc <= 0) {
		if (rc == 0)
			err_set(err, ERR_NOTFOUND, 0, NULL, "domain %s is not "
				"hosted here", domain);
		goto out;
	}
	if (r->dom.alias_of[0] != '\0') {
		err_set(err, ERR_PEER, 0, NULL, "%s is a domain alias: import "
			"into %s", domain, r->dom.alias_of);
		goto out;
	}
	snprintf(out->domain, sizeof out->domain, "%s", r->dom.name);
	if (store_domain_password_policy(st, r->dom.name, &r->policy, err) <= 0) {
		if (err->kind != ERR_ENV)
			auth_password_policy_default(&r->policy);
		else
			goto out;
	}
	if (read_all(r, csv, err) < 0)
		goto out;
	out->rows = r->nrows;
	if (out->nerrors == 0)
		plan_errors(r);
	if (out->nerrors > 0) {
		qsort(out->errors, out->nerrors, sizeof *out->errors, cmp_error);
		ret = 0;
		goto out;
	}
	if (o->dry_run) {
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		if (!w->generated)
			continue;
		w->password = xmalloc(sizeof out->generated[0].password);
		auth_password_generate(&r->policy, w->password,
				       sizeof out->generated[0].password);
		w->password_len = strlen(w->password);
	}
	if (hash_all(r, err) < 0)
		goto out;
	progress(r, "creating", 0, r->nrows);
	struct store_new_mailbox *mbs = xcalloc(r->nrows ? r->nrows : 1,
						sizeof *mbs);
	const char *(*gp)[IMPORT_MAX_ROW_GROUPS] =
		xcalloc(r->nrows ? r->nrows : 1, sizeof *gp);
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		for (size_t g = 0; g < w->ngroups; g++)
			gp[i][g] = r->groups[w->groups[g]].address;
		mbs[i] = (struct store_new_mailbox){
			.local = w->local, .display_name = w->display,
			.pw_hash = w->hash, .scram = w->scram,
			.quota = w->quota, .groups = gp[i],
			.ngroups = w->ngroups,
		};
	}
	rc = store_mailbox_add_batch(st, r->dom.name, mbs, r->nrows, err);
	free(mbs);
	free(gp);
	if (rc < 0) {
		if (err->kind == ERR_ENV)
			goto out;
		/* someone else changed the domain since the checks */
		add_error(r, 0, "", "", "%s", err->msg);
		ret = 0;
		goto out;
	}
	progress(r, "creating", r->nrows, r->nrows);
	out->created = r->nrows;
	for (size_t i = 0; i < r->nrows; i++)
		out->ngenerated += r->rows[i].generated;
	out->generated = xcalloc(out->ngenerated ? out->ngenerated : 1,
				 sizeof *out->generated);
	for (size_t i = 0, k = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		if (!w->generated)
			continue;
		snprintf(out->generated[k].address,
			 sizeof out->generated[k].address, "%s@%s", w->local,
			 r->dom.name);
		snprintf(out->generated[k].password,
			 sizeof out->generated[k].password, "%s", w->password);
		k++;
	}
	ret = 0;
out:
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		if (w->password != NULL) {
			sodium_memzero(w->password, w->password_len);
			free(w->password);
		}
		sodium_memzero(w->scram, sizeof w->scram);
	}
	free(r->rows);
	free(r->seen);
	free(r);
	return ret;
}

void admin_import_result_free(struct admin_import_result *out)
{
	if (out->generated != NULL)
		sodium_memzero(out->generated,
			       out->ngenerated * sizeof *out->generated);
	free(out->generated);
	free(out->errors);
	memset(out, 0, sizeof *out);
}
