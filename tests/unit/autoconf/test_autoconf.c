/* test_autoconf.c - the autoconfig pieces without a network: addresses,
 * domains and Host headers accepted and refused; the Autodiscover
 * request parser on Outlook's request, namespaces and prefixes, junk,
 * XML bombs, external entities, and each bound at the limit and one
 * past it; the documents made from a services table (escaping, the
 * services left out when not offered, public names and ports); and the
 * one table shared with the DNS doctor's SRV records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "autoconf/autoconf.h"
#include "core/buf.h"
#include "msgauth/doctor.h"

static void test_email_parse(void **state)
{
	(void)state;
	struct autoconf_who w;
	assert_int_equal(autoconf_email_parse("Alice@Example.COM", &w), 0);
	assert_string_equal(w.domain, "example.com");
	assert_string_equal(w.email, "Alice@example.com");
	assert_int_equal(autoconf_email_parse("o'brien+x@ex.test", &w), 0);
	assert_int_equal(autoconf_email_parse("a@bücher.example", &w), 0);
	assert_string_equal(w.domain, "xn--bcher-kva.example");
	static const char *const bad[] = {
		"", "alice", "@ex.test", "alice@", "alice@localhost",
		"a b@ex.test", "a<b@ex.test", "\"a\"@ex.test", ".a@ex.test",
		"a.@ex.test", "a..b@ex.test", "a@ex..test", "a@-ex.test",
		"a@ex.test\n", "a@e x.test", "a@ex_test.com", "a@b.", "a@.", "a@1.2.3.4",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(autoconf_email_parse(bad[i], &w), -1);
	/* the local part at its limit and one past it */
	char addr[200];
	memset(addr, 'a', AUTOCONF_LOCAL_MAX);
	snprintf(addr + AUTOCONF_LOCAL_MAX, sizeof addr - AUTOCONF_LOCAL_MAX,
		 "@ex.test");
	assert_int_equal(autoconf_email_parse(addr, &w), 0);
	memset(addr, 'a', AUTOCONF_LOCAL_MAX + 1);
	snprintf(addr + AUTOCONF_LOCAL_MAX + 1, sizeof addr - AUTOCONF_LOCAL_MAX - 1,
		 "@ex.test");
	assert_int_equal(autoconf_email_parse(addr, &w), -1);
}

static void test_host_parse(void **state)
{
	(void)state;
	struct autoconf_who w;
	static const struct { const char *host, *domain; } ok[] = {
		{ "autoconfig.example.com", "example.com" },
		{ "AUTODISCOVER.Example.com:8443", "example.com" },
		{ "example.com", "example.com" },
		{ "example.com.", "example.com" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		assert_int_equal(autoconf_host_parse(span_cstr(ok[i].host), &w), 0);
		assert_string_equal(w.domain, ok[i].domain);
		assert_string_equal(w.email, "");
	}
	static const char *const bad[] = {
		"", "[::1]:8443", "localhost", "autoconfig.", "a b.com",
		"ex.com/x", "127.0.0.1", ":80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(autoconf_host_parse(span_cstr(bad[i]), &w), -1);
}

#define OUTLOOK_REQ(addr) \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n" \
	"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\r\n" \
	"  <Request>\r\n    <EMailAddress>" addr "</EMailAddress>\r\n" \
	"    <AcceptableResponseSchema>" AUTOCONF_AD_OUTLOOK_SCHEMA \
	"</AcceptableResponseSchema>\r\n  </Request>\r\n</Autodiscover>\r\n"

static enum autoconf_ad_status parse(const char *xml,
				     struct autoconf_ad_request *rq)
{
	const char *why = NULL;
	enum autoconf_ad_status s = autoconf_ad_parse(span_cstr(xml), rq, &why);
	if (s != AUTOCONF_AD_OK)
		assert_non_null(why);
	return s;
}

static void test_ad_request(void **state)
{
	(void)state;
	struct autoconf_ad_request rq;
	assert_int_equal(parse(OUTLOOK_REQ("alice@ex.test"), &rq), AUTOCONF_AD_OK);
	assert_string_equal(rq.email, "alice@ex.test");
	assert_string_equal(rq.schema, AUTOCONF_AD_OUTLOOK_SCHEMA);
	/* prefixes, no schema, white space around the value */
	assert_int_equal(parse("<a:Autodiscover xmlns:a=\"urn:x\"><a:Request>"
			       "<a:EMailAddress>\n bob@ex.test \n</a:EMailAddress>"
			       "<Other/></a:Request></a:Autodiscover>", &rq),
			 AUTOCONF_AD_OK);
	assert_string_equal(rq.email, "bob@ex.test");
	assert_string_equal(rq.schema, "");
	/* the mobile (ActiveSync) schema is another protocol */
	assert_int_equal(parse("<Autodiscover><Request><EMailAddress>a@ex.test"
			       "</EMailAddress><AcceptableResponseSchema>"
			       "http://schemas.microsoft.com/exchange/autodiscover/"
			       "mobilesync/responseschema/2006</AcceptableResponseSchema>"
			       "</Request></Autodiscover>", &rq), AUTOCONF_AD_SCHEMA);
	static const char *const bad[] = {
		"", "not xml", "<Autodiscover>", "<Other><Request><EMailAddress>a@b.c"
		"</EMailAddress></Request></Other>",
		"<Autodiscover><Request></Request></Autodiscover>",
		"<Autodiscover><EMailAddress>a@ex.test</EMailAddress></Autodiscover>",
		/* billion laughs: refused at the DTD, before any expansion */
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
		"<Autodiscover><Request><EMailAddress>&lol2;</EMailAddress>"
		"</Request></Autodiscover>",
		/* an external entity */
		"<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<Autodiscover><Request><EMailAddress>&x;</EMailAddress>"
		"</Request></Autodiscover>",
		"<!DOCTYPE Autodiscover SYSTEM \"http://evil.example/x.dtd\">"
		"<Autodiscover/>",
		/* an undeclared entity */
		"<Autodiscover><Request><EMailAddress>&x;</EMailAddress>"
		"</Request></Autodiscover>",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(parse(bad[i], &rq), AUTOCONF_AD_INVALID);
}

/* n nested elements inside the Request */
static char *nested(unsigned n)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append(&b, "<Autodiscover><Request>", 23), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(buf_append(&b, "<x>", 3), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(buf_append(&b, "</x>", 4), 0);
	const char *tail = "<EMailAddress>a@ex.test</EMailAddress>"
			   "</Request></Autodiscover>";
	assert_int_equal(buf_append(&b, tail, strlen(tail) + 1), 0);
	return (char *)b.data;
}

static void test_ad_limits(void **state)
{
	(void)state;
	struct autoconf_ad_request rq;
	/* depth: Autodiscover and Request are two levels */
	char *x = nested(AUTOCONF_AD_DEPTH_MAX - 2);
	assert_int_equal(parse(x, &rq), AUTOCONF_AD_OK);
	free(x);
	x = nested(AUTOCONF_AD_DEPTH_MAX - 1);
	assert_int_equal(parse(x, &rq), AUTOCONF_AD_INVALID);
	free(x);
	/* elements: many siblings */
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append(&b, "<Autodiscover><Request>", 23), 0);
	for (unsigned i = 0; i < AUTOCONF_AD_ELEMENTS_MAX; i++)
		assert_int_equal(buf_append(&b, "<x/>", 4), 0);
	assert_int_equal(buf_append(&b, "</Request></Autodiscover>", 26), 0);
	assert_int_equal(parse((char *)b.data, &rq), AUTOCONF_AD_INVALID);
	buf_release(&b);
	/* the body: at the limit (padded with a comment) and one past it */
	buf_init(&b, 1 << 20);
	const char *req = OUTLOOK_REQ("a@ex.test");
	assert_int_equal(buf_append(&b, req, strlen(req)), 0);
	assert_int_equal(buf_append(&b, "<!--", 4), 0);
	while (b.len < AUTOCONF_AD_BODY_MAX - 3)
		assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(buf_append(&b, "-->", 3), 0);
	const char *why;
	assert_int_equal(autoconf_ad_parse(buf_span(&b), &rq, &why), AUTOCONF_AD_OK);
	assert_int_equal(buf_insert(&b, b.len - 3, "x", 1), 0);
	assert_int_equal(autoconf_ad_parse(buf_span(&b), &rq, &why),
			 AUTOCONF_AD_INVALID);
	buf_release(&b);
	/* an address longer than any address */
	char big[1024] = "<Autodiscover><Request><EMailAddress>";
	size_t n = strlen(big);
	memset(big + n, 'a', 400);
	snprintf(big + n + 400, sizeof big - n - 400,
		 "@ex.test</EMailAddress></Request></Autodiscover>");
	assert_int_equal(parse(big, &rq), AUTOCONF_AD_INVALID);
}

static struct config *config(void)
{
	static struct config cfg;
	cfg_defaults(&cfg);
	snprintf(cfg.hostname, sizeof cfg.hostname, "mx1.host.test");
	snprintf(cfg.public_imap_host, sizeof cfg.public_imap_host, "imap.host.test");
	cfg.public_imaps_port = 993;
	cfg.listen_pop3.n = 0;		/* POP3 without TLS not offered */
	return &cfg;
}

static void test_services_table(void **state)
{
	(void)state;
	struct cfg_client_services svc;
	cfg_client_services(config(), &svc);
	assert_string_equal(svc.s[CFG_SVC_IMAPS].host, "imap.host.test");
	assert_int_equal(svc.s[CFG_SVC_IMAPS].port, 993);
	assert_int_equal(svc.s[CFG_SVC_IMAP].port, 2143);
	assert_string_equal(svc.s[CFG_SVC_SUBMISSIONS].host, "mx1.host.test");
	assert_int_equal(svc.s[CFG_SVC_POP3].port, 0);
	assert_int_equal(svc.https_port, 8443);
	/* the doctor's SRV records say the same */
	struct doctor_site site;
	doctor_site_from_config(config(), &site);
	struct doctor_records rec;
	doctor_records(&site, "ex.test", NULL, 0, 0, &rec);
	bool imaps = false, pop3 = false;
	for (size_t i = 0; i < rec.n; i++) {
		if (!strcmp(rec.r[i].name, "_imaps._tcp.ex.test")) {
			assert_string_equal(rec.r[i].value, "0 1 993 imap.host.test");
			imaps = true;
		}
		if (!strcmp(rec.r[i].name, "_pop3._tcp.ex.test"))
			pop3 = true;
	}
	assert_true(imaps);
	assert_false(pop3);
	struct autoconf_row rows[CFG_SVC_N];
	assert_int_equal(autoconf_rows(&svc, rows), 5);
}

static void test_documents(void **state)
{
	(void)state;
	struct cfg_client_services svc;
	cfg_client_services(config(), &svc);
	struct autoconf_who w;
	assert_int_equal(autoconf_email_parse("o'brien&co@ex.test", &w), 0);
	size_t len;
	char *x = autoconf_mozilla(&svc, &w, &len);
	assert_int_equal(strlen(x), len);
	assert_non_null(strstr(x, "<hostname>imap.host.test</hostname>\n"
				  "      <port>993</port>\n"
				  "      <socketType>SSL</socketType>"));
	assert_non_null(strstr(x, "<username>%EMAILADDRESS%</username>"));
	assert_null(strstr(x, "type=\"pop3\">\n      <hostname>mx1.host.test"
			       "</hostname>\n      <port>2110"));
	free(x);
	x = autoconf_ad_response(&svc, &w, &len);
	assert_non_null(strstr(x, "<LoginName>o&#39;brien&amp;co@ex.test</LoginName>"));
	assert_non_null(strstr(x, "<Type>POP3</Type>\n        <Server>mx1.host.test"
				  "</Server>\n        <Port>2995</Port>"));
	free(x);
	x = autoconf_ad_error(600, "bad <thing>", 0, &len);
	assert_non_null(strstr(x, "<ErrorCode>600</ErrorCode>"));
	assert_non_null(strstr(x, "<Message>bad &lt;thing&gt;</Message>"));
	assert_non_null(strstr(x, "Time=\"00:00:00\""));
	free(x);
	x = autoconf_mobileconfig(&svc, &w, &len);
	assert_non_null(strstr(x, "<string>com.apple.mail.managed</string>"));
	assert_non_null(strstr(x, "<key>IncomingMailServerPortNumber</key>\n"
				  "\t\t\t<integer>993</integer>"));
	/* the same profile, the same UUIDs */
	char *y = autoconf_mobileconfig(&svc, &w, &len);
	assert_string_equal(x, y);
	free(x);
	free(y);
	char url[300];
	autoconf_profile_url(&svc, &w, 8080, url, sizeof url);
	assert_string_equal(url, "https://autoconfig.ex.test:8443/apple/mail.mobileconfig");
	x = autoconf_settings_html(&svc, &w, url, &len);
	assert_non_null(strstr(x, "<td class=\"host\">imap.host.test</td>"
				  "<td class=\"port\">993</td><td>SSL/TLS</td>"));
	assert_non_null(strstr(x, "收信服务器 (IMAP)"));
	assert_non_null(strstr(x, "<svg xmlns="));
	free(x);
	json_t *j = autoconf_ad_json(&svc, &w, 8080);
	assert_string_equal(json_string_value(json_object_get(j, "Url")),
			    "https://autodiscover.ex.test:8443/autodiscover/autodiscover.xml");
	json_decref(j);
	/* without HTTPS: plain HTTP, standard port left out */
	svc.https_port = 0;
	autoconf_profile_url(&svc, &w, 80, url, sizeof url);
	assert_string_equal(url, "http://autoconfig.ex.test/apple/mail.mobileconfig");
}

static void test_sign_needs_certificate(void **state)
{
	(void)state;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	unsigned char *der = (unsigned char *)"x";
	size_t n = 1;
	struct err err;
	assert_int_equal(autoconf_sign(ctx, "abc", 3, &der, &n, &err), -1);
	assert_null(der);
	assert_int_equal(n, 0);
	SSL_CTX_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email_parse),
		cmocka_unit_test(test_host_parse),
		cmocka_unit_test(test_ad_request),
		cmocka_unit_test(test_ad_limits),
		cmocka_unit_test(test_services_table),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_sign_needs_certificate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
