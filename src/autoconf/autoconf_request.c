/* autoconf_request.c - the Autodiscover POX request ([MS-OXDSCLI]
 * 2.2.3) on expat:
 *   <Autodiscover xmlns=".../outlook/requestschema/2006">
 *     <Request><EMailAddress>..</EMailAddress>
 *       <AcceptableResponseSchema>..</AcceptableResponseSchema>
 *   </Request></Autodiscover>
 * Elements are matched by local name (clients differ in namespaces and
 * prefixes); others are skipped. It runs before any authentication on a
 * public port, so everything is bounded and a DTD is refused outright:
 * no entity can be declared, so none can expand (billion laughs) or
 * reach outside (external entities). */
#include "autoconf/autoconf_private.h"

#include <expat.h>
#include <string.h>

enum field { F_NONE, F_EMAIL, F_SCHEMA };

struct rq {
	XML_Parser xp;
	struct autoconf_ad_request *out;
	const char *why;		/* set: refused */
	unsigned depth, elements;
	bool in_request;
	enum field field;
	char text[AUTOCONF_LOCAL_MAX + SMTP_DOMAIN_MAX + 2];
	size_t text_len;
	bool text_long;
	bool have_email;
};

static void rq_fail(struct rq *r, const char *why)
{
	if (r->why == NULL)
		r->why = why;
	XML_StopParser(r->xp, XML_FALSE);
}

/* "uri local" (XML_ParserCreateNS with ' ') or "local": the local name */
static const char *local_name(const XML_Char *name)
{
	const char *sp = strrchr(name, ' ');
	return sp ? sp + 1 : name;
}

static void XMLCALL rq_start(void *arg, const XML_Char *name,
			     const XML_Char **attrs)
{
	(void)attrs;
	struct rq *r = arg;
	const char *ln = local_name(name);
	if (++r->depth > AUTOCONF_AD_DEPTH_MAX ||
	    ++r->elements > AUTOCONF_AD_ELEMENTS_MAX) {
		rq_fail(r, "the request nests or holds too many elements");
		return;
	}
	if (r->depth == 1) {
		if (strcmp(ln, "Autodiscover") != 0)
			rq_fail(r, "the root element is not Autodiscover");
		return;
	}
	if (r->depth == 2 && !strcmp(ln, "Request")) {
		r->in_request = true;
		return;
	}
	if (r->depth == 3 && r->in_request) {
		r->field = !strcmp(ln, "EMailAddress") ? F_EMAIL :
			   !strcmp(ln, "AcceptableResponseSchema") ? F_SCHEMA :
			   F_NONE;
		r->text_len = 0;
		r->text_long = false;
	}
}

static void XMLCALL rq_end(void *arg, const XML_Char *name)
{
	(void)name;
	struct rq *r = arg;
	if (r->depth == 3 && r->field != F_NONE) {
		if (r->text_long) {
			rq_fail(r, "an element's text is too long");
		} else if (r->field == F_EMAIL) {
			memcpy(r->out->email, r->text, r->text_len);
			r->out->email[r->text_len] = '\0';
			r->have_email = true;
		} else if (r->text_len < sizeof r->out->schema) {
			memcpy(r->out->schema, r->text, r->text_len);
			r->out->schema[r->text_len] = '\0';
		} else {
			rq_fail(r, "AcceptableResponseSchema is too long");
		}
		r->field = F_NONE;
	}
	if (r->depth == 2)
		r->in_request = false;
	r->depth--;
}

static void XMLCALL rq_chars(void *arg, const XML_Char *s, int len)
{
	struct rq *r = arg;
	if (r->field == F_NONE || len <= 0)
		return;
	/* leading and trailing white space of a value is layout */
	size_t n = (size_t)len;
	if (r->text_len + n >= sizeof r->text) {
		r->text_long = true;
		return;
	}
	memcpy(r->text + r->text_len, s, n);
	r->text_len += n;
}

static void XMLCALL rq_doctype(void *arg, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	rq_fail(arg, "a DTD is not allowed in a request");
}

static void XMLCALL rq_entity(void *arg, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len,
			      const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base;
	(void)sysid, (void)pubid, (void)notation;
	rq_fail(arg, "entity declarations are not allowed");
}

static void trim(char *s)
{
	size_t n = strlen(s), a = 0;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	while (a < n && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' ||
			 s[a] == '\n'))
		a++;
	memmove(s, s + a, n - a);
	s[n - a] = '\0';
}

enum autoconf_ad_status autoconf_ad_parse(struct span body,
					  struct autoconf_ad_request *out,
					  const char **why)
{
	memset(out, 0, sizeof *out);
	if (body.len == 0 || body.len > AUTOCONF_AD_BODY_MAX) {
		*why = body.len ? "the request is too large" : "no request body";
		return AUTOCONF_AD_INVALID;
	}
	struct rq r;
	memset(&r, 0, sizeof r);
	r.out = out;
	r.xp = XML_ParserCreateNS(NULL, ' ');
	if (r.xp == NULL) {
		*why = "out of memory";
		return AUTOCONF_AD_INVALID;
	}
	XML_SetUserData(r.xp, &r);
	XML_SetElementHandler(r.xp, rq_start, rq_end);
	XML_SetCharacterDataHandler(r.xp, rq_chars);
	XML_SetStartDoctypeDeclHandler(r.xp, rq_doctype);
	XML_SetEntityDeclHandler(r.xp, rq_entity);
	XML_SetParamEntityParsing(r.xp, XML_PARAM_ENTITY_PARSING_NEVER);
	/* body.len <= AUTOCONF_AD_BODY_MAX < INT_MAX */
	enum XML_Status st = XML_Parse(r.xp, (const char *)body.p,
				       (int)body.len, XML_TRUE);
	if (st != XML_STATUS_OK && r.why == NULL)
		r.why = "the request is not well-formed XML";
	XML_ParserFree(r.xp);
	if (r.why == NULL && !r.have_email)
		r.why = "the request has no Request/EMailAddress";
	if (r.why != NULL) {
		memset(out, 0, sizeof *out);
		*why = r.why;
		return AUTOCONF_AD_INVALID;
	}
	trim(out->email);
	trim(out->schema);
	if (out->schema[0] != '\0' &&
	    strcmp(out->schema, AUTOCONF_AD_OUTLOOK_SCHEMA) != 0) {
		*why = "only the Outlook response schema (2006a) is provided";
		return AUTOCONF_AD_SCHEMA;
	}
	return AUTOCONF_AD_OK;
}
