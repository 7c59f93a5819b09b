/* admin.h - administrative operations that petrelctl and the REST API
 * share and that are more than one store call: the bulk import of
 * mailboxes from CSV (decision 0024). Above src/store/ and src/auth/;
 * below src/cli/ and src/http/. No network, no event loop. */
#ifndef PETREL_ADMIN_H
#define PETREL_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/span.h"

struct store;

struct admin_import_opts {
	/* The domain the mailboxes go to (either form); NULL: the domain of
	 * the first row's address. Every row must be in it. */
	const char *domain;
	bool dry_run;			/* validate only */
	uint64_t default_quota;		/* when neither row nor plan has one */
	unsigned threads;		/* hashing threads; 0: one per core */
	/* Called on the calling thread now and then with the phase
	 * ("checking", "hashing", "creating") and its progress; NULL: none. */
	void (*progress)(void *arg, const char *phase, size_t done,
			 size_t total);
	void *progress_arg;
};

/* One bad row (or one bad file: line of the syntax error, column ""). */
struct admin_import_error {
	size_t line;			/* physical line, from 1 (the header) */
	char column[24];		/* the header's name, "" for the row */
	char value[128];		/* the value as given, cut; never a
					 * password ("(hidden)") */
	char reason[160];
};

/* A password the import made: shown once, then wiped by _result_free. */
struct admin_import_password {
	char address[SMTP_LOCAL_MAX + 1 + SMTP_DOMAIN_MAX + 1];
	char password[130];
};

struct admin_import_result {
	char domain[SMTP_DOMAIN_MAX + 1];	/* A-label form */
	size_t rows;			/* data rows read */
	size_t created;			/* 0 on a dry run or with errors */
	bool dry_run;
	struct admin_import_error *errors;	/* nerrors, in line order */
	size_t nerrors;
	struct admin_import_password *generated;	/* ngenerated */
	size_t ngenerated;
	double hash_seconds;		/* wall time of the hashing phase */
	size_t hashed;			/* passwords hashed */
};

/* Import the mailboxes of csv (UTF-8, with or without BOM, ',' or ';'):
 * a header row naming columns (address or local_part, and optionally
 * display_name, password, quota, groups; any order, any case), then one
 * mailbox a row. Every row is checked first (address, duplicates in the
 * file, existing addresses, plan limit, the domain's password policy,
 * quota, groups); any error and nothing is created, with every bad row
 * in out->errors. Otherwise passwords are hashed (Argon2id and SCRAM)
 * on opts->threads threads of its own, never the caller's, and all
 * mailboxes are created in one store transaction; blank passwords are
 * generated and returned in out->generated. Blocks for the whole run
 * (minutes for 10,000 rows): call it where blocking is allowed.
 * 0: done (look at nerrors); -1 with err: the domain is not hosted
 * (ERR_NOTFOUND) or the store failed (ERR_ENV), nothing created.
 * Free out with admin_import_result_free either way. */
int admin_import(struct store *st, struct span csv,
		 const struct admin_import_opts *opts,
		 struct admin_import_result *out, struct err *err)
	__attribute__((warn_unused_result));
/* Wipe the generated passwords and free; out is zeroed. */
void admin_import_result_free(struct admin_import_result *out);

/* The result as the API answers it and petrelctl --json prints it:
 * {"domain", "rows", "created", "dry_run", "hashed", "hash_seconds",
 * "passwords": [{"address",
 * "password"}], "errors": [{"line", "column", "value", "reason"}]}; a
 * new reference (never NULL). */
typedef struct json_t json_t;
json_t *admin_import_json(const struct admin_import_result *r);

#endif
