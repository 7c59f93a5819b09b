/* test_config.c - cmocka tests of src/core/config.c: defaults, the file
 * reader (comments, blank lines, CRLF, "file:line: message" for unknown
 * keys and bad values, the line length limit at limit and limit + 1),
 * -o overrides, each value type and its bounds, cfg_finish and cfg_dump.
 * Files are written to a fresh directory under $TMPDIR (or /tmp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/limits.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/petrel-cfg-XXXXXX",
		 base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

/* Write text to tmpdir/name; the path goes to path (size pathsz). */
static void write_file(const char *name, const char *text, size_t len,
		       char *path, size_t pathsz)
{
	int n = snprintf(path, pathsz, "%s/%s", tmpdir, name);
	assert_true(n > 0 && (size_t)n < pathsz);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Load text as a config file over the defaults; returns cfg_load_file's
 * result and leaves the message in e. */
static int load_text(struct config *cfg, const char *text, struct err *e,
		     char *path, size_t pathsz)
{
	cfg_defaults(cfg);
	err_clear(e);
	write_file("petrel.conf", text, strlen(text), path, pathsz);
	int rc = cfg_load_file(cfg, path, false, e);
	assert_int_equal(unlink(path), 0);
	return rc;
}

/* err->msg must be exactly "path:line: rest". */
static void expect_msg(const struct err *e, const char *path, unsigned line,
		       const char *rest)
{
	char want[1024];
	snprintf(want, sizeof want, "%s:%u: %s", path, line, rest);
	assert_string_equal(e->msg, want);
	assert_int_equal(e->kind, ERR_CONFIG);
}

static void test_defaults(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	cfg_defaults(&cfg);
	assert_true(cfg.hostname[0] != '\0');
	assert_string_equal(cfg.data_dir, "./var");
	assert_int_equal(cfg.listen_smtp.n, 1);
	assert_string_equal(cfg.listen_smtp.addr[0].port, "2525");
	assert_true(cfg.smtp_max_message_size == SMTP_MAX_MESSAGE_DEFAULT);
	assert_int_equal(cfg.smtp_max_line, SMTP_MAX_LINE_DEFAULT);
	assert_int_equal(cfg.smtp_max_data_line, SMTP_MAX_DATA_LINE_DEFAULT);
	assert_int_equal(cfg.smtp_max_recipients, SMTP_MAX_RCPT_DEFAULT);
	assert_int_equal(cfg.smtp_max_errors, SMTP_MAX_ERRORS_DEFAULT);
	assert_int_equal(cfg.smtp_command_timeout, SMTP_COMMAND_TIMEOUT_DEFAULT);
	assert_int_equal(cfg.smtp_data_timeout, SMTP_DATA_TIMEOUT_DEFAULT);
	assert_int_equal(cfg.max_connections, NET_MAX_CONNECTIONS_DEFAULT);
	assert_int_equal(cfg.imap_timeout, 1800);
	assert_int_equal(cfg.imap_preauth_timeout, IMAP_PREAUTH_TIMEOUT_DEFAULT);
	assert_int_equal(cfg.imap_idle_timeout, IMAP_IDLE_TIMEOUT_DEFAULT);
	assert_int_equal(cfg.imap_max_sessions_per_user, IMAP_MAX_SESSIONS_PER_USER_DEFAULT);
	assert_int_equal(cfg.imap_max_connections_per_ip, 0);
	assert_int_equal(cfg.pop3_timeout, 600);
	assert_int_equal(cfg.pop3_preauth_timeout, POP3_PREAUTH_TIMEOUT_DEFAULT);
	assert_int_equal(cfg.pop3_max_connections_per_ip, 0);
	assert_int_equal(cfg.auth_failure_delay, AUTH_FAIL_DELAY_DEFAULT);
	assert_int_equal(cfg.tcp_keepalive_idle, 30);
	assert_int_equal(cfg.tcp_keepalive_timeout, 60);
	assert_int_equal(cfg_finish(&cfg, &e), 0);
}

/* Durations with units, 0 (off) allowed, the kernel's limits enforced. */
static void test_keepalive_keys(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "-o", "tcp_keepalive_idle=2m", &e), 0);
	assert_int_equal(cfg.tcp_keepalive_idle, 120);
	assert_int_equal(cfg_set(&cfg, "-o", "tcp_keepalive_timeout=0", &e), 0);
	assert_int_equal(cfg.tcp_keepalive_timeout, 0);
	assert_int_equal(cfg_set(&cfg, "-o", "tcp_keepalive_idle=32767", &e), 0);
	assert_int_equal(cfg_set(&cfg, "-o", "tcp_keepalive_idle=32768", &e), -1);
	assert_string_equal(e.msg,
			    "-o: bad value for tcp_keepalive_idle: must be between 0 and 32767");
	assert_int_equal(cfg_set(&cfg, "-o", "tcp_keepalive_timeout=1d", &e), 0);
	assert_int_equal(cfg_set(&cfg, "-o", "tcp_keepalive_timeout=86401", &e), -1);
}

/* dns_timeout: 30 s by default, 1 s to 1 h; dns_forwarder: free text
 * checked by the resolver (test_dns_rdata's bad forwarders). */
static void test_dns_keys(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	cfg_defaults(&cfg);
	assert_int_equal(cfg.dns_timeout, 30);
	assert_string_equal(cfg.dns_forwarder, "");
	assert_int_equal(cfg_set(&cfg, "-o", "dns_timeout=1h", &e), 0);
	assert_int_equal(cfg.dns_timeout, 3600);
	assert_int_equal(cfg_set(&cfg, "-o", "dns_timeout=3601", &e), -1);
	assert_int_equal(cfg_set(&cfg, "-o", "dns_timeout=0", &e), -1);
	assert_int_equal(cfg_set(&cfg, "-o", "dns_forwarder=127.0.0.1@5353, ::1", &e), 0);
	assert_string_equal(cfg.dns_forwarder, "127.0.0.1@5353, ::1");
}

static void test_load_good(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	char path[512];
	static const char text[] =
		"# petrel test configuration\n"
		"\n"
		"   \t\n"
		"hostname = mx.example.test\n"
		"smtp_max_message_size=64M   # trailing comment\n"
		"smtp_max_line = 4096\r\n"
		"\tsmtp_max_recipients =  500  \n"
		"smtp_command_timeout = 5m\n"
		"smtp_data_timeout = 1h\n"
		"chroot = no\n"
		"log_level = debug\n"
		"tls_min_version = TLSv1.3\n"
		"listen_smtp = 127.0.0.1:2525, [::1]:2526 2527\n"
		"tls_ciphers = HIGH:!aNULL#not-a-comment\n"
		"demo_domain =\n"
		"default_quota = 0\n"
		"imap_preauth_timeout = 2m\n"
		"imap_idle_timeout = 29m\n"
		"imap_max_sessions_per_user = 0\n"
		"imap_max_connections_per_ip = 7\n"
		"pop3_preauth_timeout = 1\n"
		"pop3_max_connections_per_ip = 3\n"
		"auth_failure_delay = 0\n";
	assert_int_equal(load_text(&cfg, text, &e, path, sizeof path), 0);
	assert_string_equal(cfg.hostname, "mx.example.test");
	assert_true(cfg.smtp_max_message_size == 64u * 1024 * 1024);
	assert_int_equal(cfg.smtp_max_line, 4096);
	assert_int_equal(cfg.smtp_max_recipients, 500);
	assert_int_equal(cfg.smtp_command_timeout, 300);
	assert_int_equal(cfg.smtp_data_timeout, 3600);
	assert_false(cfg.chroot);
	assert_int_equal(cfg.log_level, 3);
	assert_int_equal(cfg.listen_smtp.n, 3);
	assert_string_equal(cfg.listen_smtp.addr[0].host, "127.0.0.1");
	assert_string_equal(cfg.listen_smtp.addr[0].port, "2525");
	assert_string_equal(cfg.listen_smtp.addr[1].host, "::1");
	assert_string_equal(cfg.listen_smtp.addr[1].port, "2526");
	assert_string_equal(cfg.listen_smtp.addr[2].host, "0.0.0.0");
	assert_string_equal(cfg.listen_smtp.addr[2].port, "2527");
	/* '#' starts a comment only after whitespace */
	assert_string_equal(cfg.tls_ciphers, "HIGH:!aNULL#not-a-comment");
	assert_string_equal(cfg.demo_domain, "");
	assert_true(cfg.default_quota == 0);
	assert_int_equal(cfg.imap_preauth_timeout, 120);
	assert_int_equal(cfg.imap_idle_timeout, 29 * 60);
	assert_int_equal(cfg.imap_max_sessions_per_user, 0);
	assert_int_equal(cfg.imap_max_connections_per_ip, 7);
	assert_int_equal(cfg.pop3_preauth_timeout, 1);
	assert_int_equal(cfg.pop3_max_connections_per_ip, 3);
	assert_int_equal(cfg.auth_failure_delay, 0);
	assert_int_equal(cfg_finish(&cfg, &e), 0);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *msg;	/* after "path:line: " */
};

static const struct bad_case bad_cases[] = {
	{ "hostname = a\nfoo = bar\n", 2, "unknown key 'foo'" },
	{ "\n\n# c\nHostname = x\n", 4, "unknown key 'Hostname'" },
	{ "just words\n", 1, "expected 'key = value'" },
	{ "= value\n", 1, "unknown key ''" },
	{ "smtp_max_line = 511\n", 1,
	  "bad value for smtp_max_line: must be between 512 and 65536" },
	{ "smtp_max_line = 65537\n", 1,
	  "bad value for smtp_max_line: must be between 512 and 65536" },
	{ "smtp_max_line = lots\n", 1,
	  "bad value for smtp_max_line: expected a size (e.g. 512, 64K, 50M, 2G)" },
	{ "smtp_max_message_size = 1023\n", 1,
	  "bad value for smtp_max_message_size: must be between 1024 and 2147483648" },
	{ "smtp_max_message_size = 3G\n", 1,
	  "bad value for smtp_max_message_size: must be between 1024 and 2147483648" },
	{ "smtp_max_message_size = -1\n", 1,
	  "bad value for smtp_max_message_size: expected a size (e.g. 512, 64K, 50M, 2G)" },
	{ "smtp_max_message_size = 10 M\n", 1,
	  "bad value for smtp_max_message_size: expected a size (e.g. 512, 64K, 50M, 2G)" },
	{ "smtp_max_recipients = 0\n", 1,
	  "bad value for smtp_max_recipients: must be between 1 and 100000" },
	{ "smtp_max_recipients = 100001\n", 1,
	  "bad value for smtp_max_recipients: must be between 1 and 100000" },
	{ "smtp_max_recipients = 5x\n", 1,
	  "bad value for smtp_max_recipients: expected a non-negative integer" },
	{ "workers = 257\n", 1, "bad value for workers: must be between 0 and 256" },
	{ "smtp_command_timeout = 0\n", 1,
	  "bad value for smtp_command_timeout: must be between 1 and 86400" },
	{ "smtp_command_timeout = 2d\n", 1,
	  "bad value for smtp_command_timeout: must be between 1 and 86400" },
	{ "smtp_command_timeout = 5w\n", 1,
	  "bad value for smtp_command_timeout: expected a duration (e.g. 30s, 5m, 1h)" },
	{ "imap_preauth_timeout = 0\n", 1,
	  "bad value for imap_preauth_timeout: must be between 1 and 86400" },
	{ "imap_idle_timeout = 2d\n", 1,
	  "bad value for imap_idle_timeout: must be between 1 and 86400" },
	{ "auth_failure_delay = 61\n", 1,
	  "bad value for auth_failure_delay: must be between 0 and 60" },
	{ "imap_max_sessions_per_user = -1\n", 1,
	  "bad value for imap_max_sessions_per_user: expected a non-negative integer" },
	{ "chroot = maybe\n", 1, "bad value for chroot: expected yes or no" },
	{ "log_level = loud\n", 1,
	  "bad value for log_level: expected error, warn, info or debug" },
	{ "tls_min_version = TLSv1.1\n", 1,
	  "bad value for tls_min_version: expected TLSv1.2 or TLSv1.3" },
	{ "listen_smtp = 127.0.0.1:99999\n", 1, "bad value for listen_smtp: bad port '99999'" },
	{ "listen_smtp = 127.0.0.1:0\n", 1, "bad value for listen_smtp: bad port '0'" },
	{ "listen_smtp = [::1]2525\n", 1, "bad value for listen_smtp: expected [ipv6]:port" },
	{ "listen_smtp = :2525\n", 1, "bad value for listen_smtp: expected host:port" },
	{ "listen_smtp = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n", 1,
	  "bad value for listen_smtp: more than 16 addresses" },
	{ "user = 0123456789012345678901234567890123456789012345678901234567890123\n", 1,
	  "bad value for user: value longer than 63 bytes" },
};

static void test_load_bad(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	char path[512];
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		const struct bad_case *c = &bad_cases[i];
		if (load_text(&cfg, c->text, &e, path, sizeof path) != -1)
			fail_msg("case %zu accepted: %s", i, c->text);
		expect_msg(&e, path, c->line, c->msg);
	}
}

/* CFG_LINE_MAX bytes before the LF are fine; one more is an error. */
static void test_line_limit(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	char path[512];
	char *text = malloc(CFG_LINE_MAX + 64);
	assert_non_null(text);

	memset(text, 'c', CFG_LINE_MAX);
	text[0] = '#';
	memcpy(text + CFG_LINE_MAX, "\nworkers = 2\n", 14);
	assert_int_equal(load_text(&cfg, text, &e, path, sizeof path), 0);
	assert_int_equal(cfg.workers, 2);

	memset(text, 'c', CFG_LINE_MAX + 1);
	text[0] = '#';
	memcpy(text + CFG_LINE_MAX + 1, "\nworkers = 2\n", 14);
	assert_int_equal(load_text(&cfg, text, &e, path, sizeof path), -1);
	char rest[64];
	snprintf(rest, sizeof rest, "line longer than %d bytes", CFG_LINE_MAX);
	expect_msg(&e, path, 1, rest);

	/* the same on a later line: the line number is right */
	memcpy(text, "workers = 1\n#", 13);
	memset(text + 13, 'c', CFG_LINE_MAX);
	memcpy(text + 13 + CFG_LINE_MAX, "\n", 2);
	assert_int_equal(load_text(&cfg, text, &e, path, sizeof path), -1);
	expect_msg(&e, path, 2, rest);

	/* a last line without LF at the limit is fine */
	memset(text, 'c', CFG_LINE_MAX);
	text[0] = '#';
	text[CFG_LINE_MAX] = '\0';
	assert_int_equal(load_text(&cfg, text, &e, path, sizeof path), 0);
	free(text);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	char path[512];
	snprintf(path, sizeof path, "%s/does-not-exist.conf", tmpdir);
	cfg_defaults(&cfg);
	assert_int_equal(cfg_load_file(&cfg, path, true, &e), 0);
	assert_int_equal(cfg_load_file(&cfg, path, false, &e), -1);
	char want[600];
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	assert_string_equal(e.msg, want);
}

static void test_cfg_set(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "-o", "smtp_max_recipients=42", &e), 0);
	assert_int_equal(cfg.smtp_max_recipients, 42);
	assert_int_equal(cfg_set(&cfg, "-o", " hostname = a.test ", &e), 0);
	assert_string_equal(cfg.hostname, "a.test");
	assert_int_equal(cfg_set(&cfg, "-o", "nokey=1", &e), -1);
	assert_string_equal(e.msg, "-o: unknown key 'nokey'");
	assert_int_equal(cfg_set(&cfg, "-o", "workers", &e), -1);
	assert_string_equal(e.msg, "-o: expected key=value, got 'workers'");
	assert_int_equal(cfg_set(&cfg, "-o", "workers=many", &e), -1);
	assert_string_equal(e.msg,
			    "-o: bad value for workers: expected a non-negative integer");
	char *big = malloc(CFG_LINE_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', CFG_LINE_MAX + 1);
	big[CFG_LINE_MAX + 1] = '\0';
	big[1] = '=';
	assert_int_equal(cfg_set(&cfg, "-o", big, &e), -1);
	assert_string_equal(e.msg, "-o: option too long");
	free(big);
}

static void test_parse_size_seconds(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(cfg_parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(cfg_parse_size("512", &v), 0);
	assert_true(v == 512);
	assert_int_equal(cfg_parse_size("64K", &v), 0);
	assert_true(v == 65536);
	assert_int_equal(cfg_parse_size("64k", &v), 0);
	assert_int_equal(cfg_parse_size("50M", &v), 0);
	assert_true(v == 50u * 1024 * 1024);
	assert_int_equal(cfg_parse_size("2G", &v), 0);
	assert_true(v == 2ull * 1024 * 1024 * 1024);
	assert_int_equal(cfg_parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cfg_parse_size("18446744073709551616", &v), -1);
	assert_int_equal(cfg_parse_size("17179869184G", &v), -1);	/* 2^34 G */
	assert_int_equal(cfg_parse_size("", &v), -1);
	assert_int_equal(cfg_parse_size("K", &v), -1);
	assert_int_equal(cfg_parse_size("-1", &v), -1);
	assert_int_equal(cfg_parse_size("+1", &v), -1);
	assert_int_equal(cfg_parse_size(" 1", &v), -1);
	assert_int_equal(cfg_parse_size("1KB", &v), -1);
	assert_int_equal(cfg_parse_size("1T", &v), -1);

	assert_int_equal(cfg_parse_seconds("10", &v), 0);
	assert_true(v == 10);
	assert_int_equal(cfg_parse_seconds("30s", &v), 0);
	assert_true(v == 30);
	assert_int_equal(cfg_parse_seconds("5m", &v), 0);
	assert_true(v == 300);
	assert_int_equal(cfg_parse_seconds("1h", &v), 0);
	assert_true(v == 3600);
	assert_int_equal(cfg_parse_seconds("1d", &v), 0);
	assert_true(v == 86400);
	assert_int_equal(cfg_parse_seconds("5M", &v), -1);
	assert_int_equal(cfg_parse_seconds("5x", &v), -1);
	assert_int_equal(cfg_parse_seconds("", &v), -1);
	assert_int_equal(cfg_parse_seconds("1ms", &v), -1);
	assert_int_equal(cfg_parse_seconds("999999999999999999d", &v), -1);
}

static void test_finish(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	char path[512];
	assert_int_equal(load_text(&cfg, "listen_smtp =\nlisten_pop3 =\nlisten_pop3s =\n"
				   "listen_imap =\nlisten_imaps =\n"
				   "listen_submission =\nlisten_submissions =\n",
				   &e, path, sizeof path), 0);
	assert_int_equal(cfg.listen_smtp.n, 0);
	assert_int_equal(cfg_finish(&cfg, &e), -1);
	assert_string_equal(e.msg, "no listener: set listen_smtp, listen_smtps, listen_submission, listen_submissions, listen_pop3, listen_pop3s, listen_imap or listen_imaps");
	assert_int_equal(cfg_set(&cfg, "-o", "listen_smtps=465", &e), 0);
	assert_int_equal(cfg_finish(&cfg, &e), 0);
	assert_int_equal(cfg_set(&cfg, "-o", "data_dir=", &e), 0);
	assert_int_equal(cfg_finish(&cfg, &e), -1);
	assert_string_equal(e.msg, "data_dir must not be empty");
	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "-o", "demo_user=", &e), 0);
	assert_int_equal(cfg_finish(&cfg, &e), -1);
	assert_string_equal(e.msg, "demo_domain is set but demo_user is empty");
}

static void test_dump(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	char path[512];
	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "-o", "listen_smtp=127.0.0.1:25,[::1]:25", &e), 0);
	snprintf(path, sizeof path, "%s/dump.txt", tmpdir);
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	cfg_dump(&cfg, fileno(f));
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	char text[8192];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "smtp_max_line = 2048\n"));
	assert_non_null(strstr(text, "listen_smtp = 127.0.0.1:25, [::1]:25\n"));
	assert_non_null(strstr(text, "tls_min_version = TLSv1.2\n"));

	/* what cfg_dump says reads back as the same configuration */
	struct config back;
	cfg_defaults(&back);
	assert_int_equal(cfg_load_file(&back, path, false, &e), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(back.listen_smtp.n, 2);
	assert_string_equal(back.listen_smtp.addr[1].host, "::1");
	assert_int_equal(back.smtp_max_line, cfg.smtp_max_line);
	assert_true(back.smtp_max_message_size == cfg.smtp_max_message_size);
	assert_string_equal(back.tls_ciphers, cfg.tls_ciphers);
}

/* Two listeners on one port (the same address, or one of them on the
 * wildcard) are refused, naming both keys. */
static void test_listen_port_clash(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "-o", "listen_admin=127.0.0.1:2525", &e), 0);
	assert_int_equal(cfg_finish(&cfg, &e), -1);
	assert_non_null(strstr(e.msg, "listen_smtp"));
	assert_non_null(strstr(e.msg, "listen_admin"));
	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "-o", "listen_smtp=127.0.0.1:3000", &e), 0);
	assert_int_equal(cfg_set(&cfg, "-o", "listen_admin=127.0.0.2:3000", &e), 0);
	assert_int_equal(cfg_finish(&cfg, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_cfg_set),
		cmocka_unit_test(test_parse_size_seconds),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_keepalive_keys),
		cmocka_unit_test(test_dns_keys),
		cmocka_unit_test(test_listen_port_clash),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
