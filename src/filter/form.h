/* form.h - the HTML forms of a message, summarised for the phishing
 * rules: a form in mail that asks for a password, or posts to some other
 * site, is how credential phishing collects its catch (issue 7 item 4).
 * filter_forms_scan() is one bounded pass over an HTML part that reads
 * only <form> and <input> tags (comments, script and style skipped); the
 * tokenizer calls it for every HTML part. Never fails; thread-safe on
 * distinct objects. */
#ifndef PETREL_FILTER_FORM_H
#define PETREL_FILTER_FORM_H

#include <stddef.h>

#include "core/limits.h"
#include "core/span.h"

#define FILTER_FORM_HOST_MAX 254

struct filter_forms {
	unsigned forms;		/* <form> tags */
	unsigned inputs;	/* inputs a person types into (text, email,
				 * password, tel, number; no type = text) */
	unsigned passwords;	/* <input type=password> */
	/* normalised hosts of absolute http(s) action URLs, distinct */
	size_t nactions;
	char actions[FILTER_FORM_ACTIONS_MAX][FILTER_FORM_HOST_MAX];
};

/* Add what html (UTF-8 or any bytes; at most FILTER_HTML_MAX_INPUT read)
 * holds to *f; zero *f before the first call. Counts saturate. */
void filter_forms_scan(struct span html, struct filter_forms *f);

#endif
