/* rules.h - the message rules of the spam and phishing filter (issue 7
 * items 3 and 4, decision 0038): authentication results, header
 * anomalies, dangerous attachments, URL tricks and phishing signs, each a
 * named symbol (table filter_syms_rules, docs/filter.md "Rules") whose
 * weight the admin may change in the weights file.
 * Not here: DNS blocklists and URL reputation (their own module), the
 * statistical classifier, the verdict.
 * filter_rules_run() is pure: it reads the message, its tokens and the
 * facts and only adds symbols to *out. It reads the message's MIME
 * structure (parsed once for the tokenizer and the rules by the engine:
 * filter_rules_run_mime) and decodes no
 * more of each attachment than its first FILTER_ATTACH_HEAD_MAX and last
 * FILTER_ATTACH_TAIL_MAX octets (FILTER_ATTACH_DECODE_BUDGET in all); a
 * ZIP archive is read from its central directory only, never unpacked.
 * Time and memory are bounded for any input (core/limits.h FILTER_*);
 * thread-safe; never fails. */
#ifndef PETREL_FILTER_RULES_H
#define PETREL_FILTER_RULES_H

#include <stddef.h>

#include "core/span.h"
#include "filter/facts.h"
#include "filter/sym.h"
#include "filter/token.h"

struct filter_rules_conf {
	/* File name extensions treated as executable besides the built-in
	 * list (rules_attach.c), lower case without the dot; may be NULL. */
	const char *const *extra_exts;
	size_t n_extra_exts;
	/* This server's host name: a stranger that greets with it, or a
	 * Received field from outside that claims it, forges our identity.
	 * NULL or "": not checked. */
	const char *host_name;
};

/* Add the symbols of every rule that fires on msg (the whole message as
 * received), given tok = filter_tokenize(msg) and facts (NULL fields are
 * unknown: a rule that needs one stays silent). conf may be NULL for the
 * defaults. */
void filter_rules_run(const struct filter_rules_conf *conf, struct span msg,
		      const struct filter_tokens *tok,
		      const struct filter_facts *facts,
		      const struct filter_weights *w, struct filter_syms *out);
/* The same on the message already parsed (m = mime_parse(msg)). */
struct mime_message;
void filter_rules_run_mime(const struct filter_rules_conf *conf,
			   const struct mime_message *m,
			   const struct filter_tokens *tok,
			   const struct filter_facts *facts,
			   const struct filter_weights *w,
			   struct filter_syms *out);

#endif
