/* filter.h - the spam and phishing verdict of an incoming message (issue
 * 7 item 5, decision 0043): every check adds named symbols with scores
 * (sym.h); the total, the allow and block lists and the recipient
 * domain's protection level give one action, and header fields explain
 * it to the reader.
 *
 * Actions by level (the "junk quarantine reject" thresholds, each a
 * total score at or above which the action applies; configurable):
 *   standard    6   12   20
 *   enterprise  5    9   15
 *   strict      4    7   12
 * A block-listed sender or client is rejected whatever the score; an
 * allow-listed one that is authenticated for it (lists.h) is delivered
 * whatever the score. The checks run on a thread of the authentication
 * pool: filter_check may block on DNS and the store, never on an event
 * loop. An engine is shared by all pool threads; filter_check is
 * thread-safe. */
#ifndef PETREL_FILTER_FILTER_H
#define PETREL_FILTER_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/span.h"
#include "filter/facts.h"
#include "filter/sym.h"

struct store;
struct filter_engine;

enum filter_action {
	FILTER_DELIVER = 0,
	FILTER_JUNK,		/* to the recipient's Junk folder */
	FILTER_QUARANTINE,	/* held for the admin (or the recipient) */
	FILTER_REJECT,		/* 550 5.7.1 at the end of DATA */
};

enum filter_level {
	FILTER_STANDARD = 0,
	FILTER_ENTERPRISE,
	FILTER_STRICT,
	FILTER_NLEVELS
};

struct filter_thresholds {
	double junk, quarantine, reject;
};

/* Where the verdict came from besides the score. */
enum filter_listed {
	FILTER_NOT_LISTED = 0,
	FILTER_ALLOWED,		/* an allow that applies: delivered */
	FILTER_BLOCKED,		/* a block: rejected */
};

/* What the recipient's domain asks for ("[External]" tag and level). */
enum filter_external_tag {
	FILTER_TAG_OFF = 0,
	FILTER_TAG_SUBJECT,	/* "[External] " before the Subject */
	FILTER_TAG_BANNER,	/* a first line of text in the body */
};

struct filter_verdict {
	double score;
	enum filter_action action;
	enum filter_level level;
	enum filter_listed listed;
	bool external;		/* from outside the organisation */
	enum filter_external_tag tag;
	struct filter_syms syms;
	/* "550 5.7.1 ..." for FILTER_REJECT: one line, printable ASCII */
	char reply[320];
};

/* The engine from cfg (filter_weights, filter_brands, the level
 * thresholds; cfg is borrowed and must outlive it) and st (may be NULL:
 * no classifier, no per-domain settings, no organisation sets; borrowed).
 * -1 with err (ERR_CONFIG for a bad weights file or thresholds). */
struct filter_engine *filter_engine_new(const struct config *cfg,
					struct store *st, struct err *err);
void filter_engine_free(struct filter_engine **e);
/* Give an engine made without a store its store (once, before the first
 * check): petreld reads the weights and feed files before it chroots and
 * opens the store after. */
void filter_engine_set_store(struct filter_engine *e, struct store *st);

/* The verdict of msg (the message as received, our trace fields left
 * out) with facts. Never fails: a check that cannot run adds nothing. */
void filter_check(struct filter_engine *e, struct span msg,
		  const struct filter_facts *facts, struct filter_verdict *out);

/* "junk quarantine reject" of a level, as configured. */
const struct filter_thresholds *filter_level_thresholds(
	const struct filter_engine *e, enum filter_level level);
/* Parse "6 12 20" (three increasing numbers). 0 or -1 with err. */
int filter_thresholds_parse(const char *text, struct filter_thresholds *out,
			    struct err *err);

const char *filter_action_str(enum filter_action a);
const char *filter_level_str(enum filter_level l);
/* -1 when name is not a level. */
int filter_level_parse(const char *name);

/* ----- header fields (filter_header.c) -------------------------------- */

/* Bytes filter_header_format writes at most. */
#define FILTER_HEADER_MAX 2048

/* Append to out the fields that explain v:
 *   X-Spam-Score: 7.3 (junk, level enterprise, thresholds 5/9/15)
 *   X-Spam-Symbols: BAYES_SPAM(6.21; p=0.998), SPF_FAIL(1.00), ...
 * folded at 78 columns, at most FILTER_HEADER_MAX bytes (symbols past it
 * left out, the field still well-formed). 0 or -1 (out full: nothing
 * appended). */
int filter_header_format(const struct filter_verdict *v, struct buf *out);

/* Remove from the header section of msg[start..*len) every field a
 * sender could use to fake our verdict (X-Spam-Score, X-Spam-Symbols,
 * X-Spam-Flag, X-Spam-Status, X-Spam-Level), with continuation lines.
 * *len shrinks; returns the fields removed. */
size_t filter_header_strip(unsigned char *msg, size_t *len, size_t start);

#define FILTER_EXTERNAL_TAG "[External]"
/* Put FILTER_EXTERNAL_TAG and a space at the start of the Subject of
 * the header section of msg from start (a Subject field is added when
 * there is none); nothing when it is there already. 0, or -1 when msg
 * has no room (unchanged). */
int filter_subject_tag(struct buf *msg, size_t start);
/* The banner instead: FILTER_EXTERNAL_BANNER as the first lines of the
 * body, when the message is one text/plain part in 7bit, 8bit or
 * quoted-printable (the banner is ASCII, so valid in all three). 1 put,
 * 0 not such a message (the caller tags the Subject instead), -1 no
 * room. */
#define FILTER_EXTERNAL_BANNER \
	"[External] This message came from outside your organisation. " \
	"Be careful with links and attachments.\r\n\r\n"
int filter_body_banner(struct buf *msg, size_t start);

#endif
