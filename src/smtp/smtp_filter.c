/* smtp_filter.c - the spam and phishing verdict of a message on the MX
 * port (filter.h, decision 0043). It runs on the authentication pool
 * right after SPF, DKIM, ARC and DMARC, whose results it uses; the
 * session is waiting in state CHECK meanwhile, so the message and the
 * envelope are not touched by anyone else. Then, on the loop: a refusal
 * (550 5.7.1, nothing stored), or the message stored with the fields
 * that explain the verdict (outside copies removed first), in Junk when
 * the verdict says so. */
#include "smtp/smtp_private.h"

#include <string.h>

#include "core/log.h"
#include "filter/facts_msgauth.h"

void smtp_filter_run(struct msgauth_job *j)
{
	struct smtp_session *s = j->arg;
	struct filter_facts f = { 0 };
	struct filter_facts_store fs;
	char user[SMTP_PATH_MAX + 1] = "";

	filter_facts_from_msgauth(&j->in, j->no_checks ? NULL : &j->out, &fs,
				  &f);
	f.rcpt_domain = s->rcpt_domain[0] ? s->rcpt_domain : NULL;
	if (s->n_mailboxes == 1) {
		for (size_t i = 0; i < s->n_rcpts; i++) {
			if (s->rcpts[i].mailbox_id == 0)
				continue;
			memcpy(user, s->rcpts[i].addr, sizeof(user));
			break;
		}
		f.rcpt_user = user[0] ? user : NULL;
	}
	f.dns = msgauth_svc_dns(s->srv->msgauth);
	filter_check(s->srv->filter, span_make(j->in.msg, j->in.len), &f,
		     s->fv);
}

/* The symbols for the log line, most telling first would be nicer but
 * the order of the checks is stable and short enough. */
static void log_verdict(struct smtp_session *s, const struct filter_verdict *v)
{
	char syms[512];
	size_t len = 0;

	syms[0] = '\0';
	for (size_t i = 0; i < v->syms.n; i++) {
		int n = snprintf(syms + len, sizeof syms - len, "%s%s(%.2f)",
				 i ? "," : "", v->syms.v[i].name,
				 v->syms.v[i].score);
		if (n < 0 || (size_t)n >= sizeof syms - len)
			break;
		len += (size_t)n;
	}
	log_info("smtp", s->c->id, "filter score=%.2f action=%s level=%s "
		 "symbols=\"%s\"", v->score, filter_action_str(v->action),
		 filter_level_str(v->level), syms);
}

bool smtp_filter_apply(struct smtp_session *s)
{
	const struct filter_verdict *v = s->fv;
	struct net_conn *c = s->c;
	enum smtp_verb verb = s->bdat_active ? SMTP_VERB_BDAT : SMTP_VERB_DATA;
	struct buf fields;
	size_t len;

	log_verdict(s, v);
	if (v->action == FILTER_REJECT) {
		log_info("smtp", c->id, "reject reason=filter ip=%s", c->ip);
		s->failed[verb]++;
		net_conn_reply(c, "%s", v->reply);
		smtp_back_to_commands(s);
		return true;
	}
	len = s->msg.len;
	if (filter_header_strip(s->msg.data, &len, s->trace_len) > 0)
		log_info("smtp", c->id, "removed outside X-Spam fields");
	s->msg.len = len;
	buf_init(&fields, FILTER_HEADER_MAX);
	/* room for it was reserved at DATA (smtp_msg_begin) */
	if (filter_header_format(v, &fields) != 0 ||
	    buf_insert(&s->msg, s->trace_len, fields.data, fields.len) != 0)
		log_warn("smtp", c->id, "no room for the filter's fields");
	buf_release(&fields);
	if (v->action >= FILTER_JUNK)
		s->junk = true;
	return false;
}
