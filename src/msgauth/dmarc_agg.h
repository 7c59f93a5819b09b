/* dmarc_agg.h - the rows of DMARC aggregate reports (RFC 7489 7.2,
 * appendix C <record>) as petreld's inbound checks produce them, counted
 * in memory between flushes to the store (decision 0032).
 *
 * dmarc_agg_row turns one checked message into a row (when the policy
 * domain asked for aggregate reports with rua=); dmarc_agg_add counts it
 * with the equal rows seen since the last flush; dmarc_agg_take hands the
 * rows over for one store transaction. The table is bounded
 * (DMARC_AGG_ROWS_MAX distinct rows): past it rows are dropped and
 * counted, never blocking a message. Thread-safe (one mutex, held for a
 * hash probe). Rows compare byte for byte up to count, so they must come
 * from dmarc_agg_row or be zeroed before being filled. */
#ifndef PETREL_DMARC_AGG_H
#define PETREL_DMARC_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msgauth/msgauth.h"
#include "msgauth/dmarc_report.h"
#include "store/store.h"

/* The row for a message checked by msgauth_inbound (in, out): true and
 * *row filled (count 1, day: in->now's UTC day) when out's DMARC
 * evaluation found a record with rua=; false otherwise. */
bool dmarc_agg_row(const struct msgauth_in *in, const struct msgauth_out *out,
		   struct store_dmarc_row *row);

struct dmarc_agg;

/* A table of at most max_rows distinct rows (0: DMARC_AGG_ROWS_MAX). */
struct dmarc_agg *dmarc_agg_new(size_t max_rows);
void dmarc_agg_free(struct dmarc_agg **ap);
/* Count row (its count added to an equal one's, or a new row). false
 * when the table is full and row is new: dropped, and counted. */
bool dmarc_agg_add(struct dmarc_agg *a, const struct store_dmarc_row *row);
/* Take every row out (malloc'd array, the caller frees; NULL when none)
 * and empty the table. *dropped_out: messages dropped since the last
 * take. Returns the number of rows. */
size_t dmarc_agg_take(struct dmarc_agg *a, struct store_dmarc_row **rows_out,
		      uint64_t *dropped_out);

/* The DKIM results of a row (dkim_auth, "domain/selector/result ..."),
 * at most max into domains, selectors (each DMARC_DOMAIN_MAX + 1 bytes
 * and DKIM_MAX_SELECTOR + 1 bytes) and results. Returns how many. */
size_t dmarc_agg_dkim_results(const char *dkim_auth,
			      char (*domains)[DMARC_DOMAIN_MAX + 1],
			      char (*selectors)[DKIM_MAX_SELECTOR + 1], enum dmarc_rr *results,
			      size_t max);
/* dmarc_rr_str's inverse; DMARC_RR_ABSENT if s is none of them. */
enum dmarc_rr dmarc_rr_parse(const char *s);

#endif
