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
#include "mime/mime.h"

/* "NAME(score) NAME(score) ..." of v into out. */
static void symbols_text(const struct filter_verdict *v, char *out,
			 size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < v->syms.n; i++) {
		int n = snprintf(out + len, outsz - len, "%s%s(%.2f)",
				 i ? " " : "", v->syms.v[i].name,
				 v->syms.v[i].score);
		if (n < 0 || (size_t)n >= outsz - len)
			break;
		len += (size_t)n;
	}
}

/* On the pool thread: hold the message for each local mailbox, as it
 * would have been stored (our trace, the verdict's fields and the
 * Authentication-Results on top; outside copies of both removed).
 * Blocking here is allowed, and the entries are durable before the
 * loop says 250. */
static void quarantine(struct smtp_session *s, struct msgauth_job *j)
{
	const struct filter_verdict *v = s->fv;
	const struct filter_thresholds *t =
		filter_level_thresholds(s->srv->filter, v->level);
	struct buf copy, subj;
	struct span value;
	char symbols[STORE_QUAR_SYMBOLS_MAX], reason[STORE_QUAR_REASON_MAX];
	size_t len;

	s->quar_rc = 0;
	s->quar_id = 0;
	buf_init(&copy, s->msg.len + SMTP_FILTER_ADDED_MAX + AR_MAX +
		 SMTP_RDNS_ADDED_MAX);
	buf_init(&subj, 4 * STORE_QUAR_SUBJECT_MAX);
	if (smtp_trace_copy(s, &j->out, &copy) != 0 ||
	    filter_header_format(v, &copy) != 0 ||
	    (!j->no_checks &&
	     buf_append(&copy, j->out.ar, j->out.ar_len) != 0)) {
		s->quar_rc = err_set(&s->quar_err, ERR_ENV, 451, "4.3.0",
				     "no room for the held copy");
		goto out;
	}
	size_t body_at = copy.len;
	if (buf_append(&copy, j->in.msg, j->in.len) != 0) {
		s->quar_rc = err_set(&s->quar_err, ERR_ENV, 451, "4.3.0",
				     "no room for the held copy");
		goto out;
	}
	len = copy.len;
	(void)filter_header_strip(copy.data, &len, body_at);
	(void)ar_strip(copy.data, &len, body_at, s->srv->cfg->hostname);
	copy.len = len;
	if (!mime_header_find(mime_header_section(span_make(j->in.msg,
							    j->in.len), NULL),
			      "subject", &value) ||
	    mime_header_decode(value, &subj) != 0)
		buf_reset(&subj);
	if (buf_append(&subj, "", 1) != 0)
		buf_reset(&subj);
	symbols_text(v, symbols, sizeof(symbols));
	snprintf(reason, sizeof(reason),
		 "score %.2f at level %s (quarantine from %.1f)", v->score,
		 filter_level_str(v->level), t->quarantine);
	for (size_t i = 0; i < s->n_mailboxes && s->quar_rc == 0; i++) {
		struct store_quarantine_req q = {
			.data = copy.data,
			.len = copy.len,
			.mailbox_id = s->mailbox_ids[i],
			.sender = s->from.null_path ? "" : s->from.addr,
			.subject = subj.len ? (const char *)subj.data : NULL,
			.score = v->score,
			.symbols = symbols,
			.reason = reason,
			.received = (int64_t)j->in.now,
		};
		s->quar_rc = store_quarantine_add(s->srv->store, &q,
						  &s->quar_err);
		if (s->quar_rc == 0 && s->quar_id == 0)
			s->quar_id = q.id;
	}
out:
	buf_release(&subj);
	buf_release(&copy);
}

void smtp_filter_run(struct msgauth_job *j)
{
	struct smtp_session *s = j->arg;
	struct filter_facts f = { 0 };
	struct filter_facts_store fs;
	char user[SMTP_PATH_MAX + 1] = "";

	filter_facts_from_msgauth(&j->in, j->no_checks ? NULL : &j->out, &fs,
				  &f);
	if (!j->no_checks && j->out.rdns != MA_RDNS_UNKNOWN)
		f.rdns = j->out.rdns == MA_RDNS_OK ? j->out.rdns_name : "";
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
	/* A release could reach only the local mailboxes: a message that
	 * also goes on to another domain goes to Junk instead. */
	if (s->fv->action == FILTER_QUARANTINE && s->n_remote > 0)
		s->fv->action = FILTER_JUNK;
	if (s->fv->action == FILTER_QUARANTINE &&
	    (j->no_checks || j->out.action != MSGAUTH_REJECT))
		quarantine(s, j);
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
	if (v->action == FILTER_QUARANTINE) {
		s->n_tx++;
		if (s->quar_rc != 0) {
			log_error("smtp", c->id, "quarantine failed error=\"%s\"",
				  s->quar_err.msg);
			s->failed[verb]++;
			net_conn_reply(c, "451 4.3.0 Temporary failure storing "
				       "the message, try again later");
		} else {
			log_info("smtp", c->id, "quarantined id=%s.%u "
				 "quarantine=%lld rcpts=%zu", c->id, s->n_tx,
				 (long long)s->quar_id, s->n_mailboxes);
			net_conn_reply(c, "250 2.0.0 Ok: queued as %s.%u",
				       c->id, s->n_tx);
		}
		smtp_back_to_commands(s);
		return true;
	}
	if (v->external && v->tag != FILTER_TAG_OFF) {
		int put = v->tag == FILTER_TAG_BANNER ?
			  filter_body_banner(&s->msg, s->trace_len) : 0;
		if (put == 0)
			put = filter_subject_tag(&s->msg, s->trace_len) == 0 ?
			      1 : -1;
		if (put < 0)
			log_warn("smtp", c->id, "no room for the [External] tag");
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
