/* rules_phish.c - phishing and impersonation: forms that collect
 * credentials, From and Reply-To domains that look like a protected
 * domain (lookalike.h), and an outside sender using the name of one of
 * the organisation's users. */
#include "filter/rules_private.h"

#include <string.h>

#include "core/buf.h"
#include "filter/fraud.h"
#include "filter/lookalike.h"

/* Words of the "verify your account" request a credential form comes
 * with: one of each group among the body's tokens. */
static const char *const verbs[] = {
	"verify", "confirm", "validate", "unlock", "reactivate", "re-activate",
};
static const char *const objects[] = {
	"password", "identity", "mailbox", "credentials", "suspended",
	"locked",
};

static bool any_token(const struct filter_tokens *t, const char *const *w,
		      size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (filter_tokens_has(t, w[i]))
			return true;
	return false;
}

static void forms(struct rules_ctx *c)
{
	const struct filter_forms *f = &c->tok->forms;
	char norm[DMARC_DOMAIN_MAX + 1], org[DMARC_DOMAIN_MAX + 1];

	if (f->forms == 0 && f->passwords == 0)
		return;
	if (f->passwords > 0)
		RULES_ADD(c, "FORM_PASSWORD", "%u password fields", f->passwords);
	/* one input is a search or subscribe box; credentials take two */
	if (f->inputs < 2)
		return;
	for (size_t i = 0; i < f->nactions; i++)
		if (rules_org(f->actions[i], strlen(f->actions[i]), norm, org) &&
		    strcmp(org, c->from_org) != 0) {
			RULES_ADD(c, "FORM_EXTERNAL", "posts to %s", norm);
			break;
		}
	if (any_token(c->tok, verbs, sizeof verbs / sizeof verbs[0]) &&
	    any_token(c->tok, objects, sizeof objects / sizeof objects[0]))
		RULES_ADD(c, "FORM_VERIFY_ACCOUNT", NULL);
}

static void lookalikes(struct rules_ctx *c)
{
	const struct lookalike_set *set = c->facts->lookalike;
	struct lookalike_result r;
	char norm[DMARC_DOMAIN_MAX + 1], org[DMARC_DOMAIN_MAX + 1];

	if (set == NULL)
		return;
	if (c->from_domain[0] != '\0' &&
	    lookalike_check(set, c->from_domain, strlen(c->from_domain),
			    &r) == 1)
		RULES_ADD(c, "FROM_LOOKALIKE", "%s", r.reason);
	if (rules_field_domain(c->hdr, "Reply-To", norm, org) &&
	    lookalike_check(set, norm, strlen(norm), &r) == 1)
		RULES_ADD(c, "REPLYTO_LOOKALIKE", "%s", r.reason);
}

static void impersonation(struct rules_ctx *c)
{
	struct imperson_result r;
	struct buf b;

	if (c->facts->imperson == NULL || c->facts->internal ||
	    c->from_name.len == 0 || c->from_addr[0] == '\0')
		return;
	buf_init(&b, FILTER_IMPERSON_NAME_MAX * 4);
	if ((mime_header_decode(c->from_name, &b) == 0 || b.len > 0) &&
	    imperson_check(c->facts->imperson, (const char *)b.data, b.len,
			   c->from_addr, strlen(c->from_addr), &r) == 1)
		RULES_ADD(c, "FROM_IMPERSONATION", "%s", r.reason);
	buf_release(&b);
}

/* An advance-fee ("419") letter: three groups of its phrases, two of
 * them the fraud's own. Measured on the training corpus, the fraud's
 * own groups come two at a time in a few ham (a news item on Nigeria's
 * diplomats); no ham had three groups with two of them its own. */
static void advance_fee(struct rules_ctx *c)
{
	uint32_t f = c->tok->fraud;
	unsigned own = fraud_own(f), all = own + fraud_common(f);
	if (own < 2 || all < 3)
		return;
	char names[FILTER_SYM_DETAIL_MAX];
	fraud_names(f, names, sizeof names);
	RULES_ADD(c, "ADVANCE_FEE", "%s", names);
}

void rules_phish(struct rules_ctx *c)
{
	if (c->tok != NULL) {
		forms(c);
		advance_fee(c);
	}
	lookalikes(c);
	impersonation(c);
}
