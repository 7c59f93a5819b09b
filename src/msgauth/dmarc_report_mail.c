/* dmarc_report_mail.c - the report inside a report e-mail (RFC 7489
 * 7.2.1.1): found with the MIME parser, its transfer encoding undone, then
 * handed to dmarc_report_read. Only aggregate reports; failure reports
 * (RFC 6591) are not read here. */
#include "msgauth/dmarc_private.h"

#include <string.h>

#include "core/buf.h"
#include "mime/mime.h"

static bool span_suffix_ci(struct span s, const char *suf)
{
	size_t n = strlen(suf);

	return s.len >= n && span_eq_ci(span_make(s.p + s.len - n, n), suf);
}

static bool mail_named_report(const struct mime_part *p)
{
	const struct mime_param *fn = mime_param_find(p->disp_params, p->ndisp_params, "filename");

	if (fn == NULL)
		fn = mime_param_find(p->params, p->nparams, "name");
	return fn != NULL && !fn->extended &&
	       (span_suffix_ci(fn->value, ".xml") || span_suffix_ci(fn->value, ".gz") ||
		span_suffix_ci(fn->value, ".zip"));
}

static bool mail_is_report(const struct mime_part *p)
{
	static const char *const types[] = {
		"gzip", "x-gzip", "zip", "x-zip", "x-zip-compressed", "xml",
	};

	if (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE))
		return false;
	if (span_eq_ci(p->type, "application")) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (span_eq_ci(p->subtype, types[i]))
				return true;
	}
	if (span_eq_ci(p->type, "text") && span_eq_ci(p->subtype, "xml"))
		return true;
	/* application/octet-stream and friends: go by the file name */
	return !(p->flags & MIME_PART_TEXT) && mail_named_report(p);
}

int dmarc_report_read_mail(const void *msg, size_t len, struct dmarc_report *out,
			   struct err *err)
{
	struct buf body;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > DMARC_REPORT_MAIL_MAX)
		return err_set(err, ERR_LIMIT, 0, NULL, "report e-mail larger than %d bytes",
			       DMARC_REPORT_MAIL_MAX);
	struct mime_message *m = mime_parse(msg, len, NULL);
	uint32_t n = mime_message_nparts(m), i;
	for (i = 0; i < n; i++)
		if (mail_is_report(mime_message_part(m, i)))
			break;
	if (i == n) {
		mime_message_free(&m);
		return err_set(err, ERR_PEER, 0, NULL, "no gzip, zip or XML attachment");
	}
	buf_init(&body, DMARC_REPORT_IN_MAX);
	if (mime_part_decode(m, mime_message_part(m, i), &body) < 0)
		rc = err_set(err, ERR_LIMIT, 0, NULL, "report attachment larger than %d bytes",
			     DMARC_REPORT_IN_MAX);
	else
		rc = dmarc_report_read(body.data, body.len, out, err);
	buf_release(&body);
	mime_message_free(&m);
	return rc;
}
