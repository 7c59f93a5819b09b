/* dmarc_reporter.h - petreld's DMARC aggregate reporting (RFC 7489 7.2,
 * decision 0032): a thread that flushes the rows counted in memory
 * (dmarc_agg.h) to the store every DMARC_AGG_FLUSH_SECS, sends each
 * day's reports once the configured hour (UTC) of the next day has come,
 * and answers petrelctl's "dmarc send" requests (store_dmarc_request_*).
 * Reports go out as mail through the store: local rua addresses are
 * delivered into their mailboxes, others queued for the outbound runner.
 * Sent rows are deleted. A crash loses the rows of the last minute at
 * most (reports are statistics, not mail). */
#ifndef PETREL_DMARC_REPORTER_H
#define PETREL_DMARC_REPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "msgauth/dmarc_agg.h"
#include "msgauth/ma_dns.h"

typedef struct json_t json_t;
struct dmarc_reporter;
struct store;

/* Start the thread. cfg (dmarc_reports, dmarc_report_hour, _org,
 * _email, hostname), dns, agg and st are borrowed and must outlive the
 * reporter. NULL with err if the thread could not start. */
struct dmarc_reporter *dmarc_reporter_start(const struct config *cfg,
					    struct store *st,
					    const struct ma_dns *dns,
					    struct dmarc_agg *agg,
					    struct err *err);
/* Stop the thread, flush the rows in memory one last time; *rp = NULL. */
void dmarc_reporter_stop(struct dmarc_reporter **rp);

/* Write agg's rows to st in one transaction (logging drops). */
void dmarc_reporter_flush(struct store *st, struct dmarc_agg *agg);
/* Send the reports of day (UTC midnight) for domain (NULL or "": all),
 * or with dry_run only build them; what was done is described in a new
 * JSON object (*result_out): {"day", "reports": [{"domain",
 * "report_id", "records", "messages", "bytes", "sent": [address...],
 * "skipped": [{"address", "reason"}]}]}. 0, or -1 with err (store). */
int dmarc_reporter_send(const struct config *cfg, struct store *st,
			const struct ma_dns *dns, int64_t day,
			const char *domain, bool dry_run, json_t **result_out,
			struct err *err);

#endif
