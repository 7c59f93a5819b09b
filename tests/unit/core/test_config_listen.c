/* test_config_listen.c - listen_* values with cert= and key=: on every
 * listen key alike, both or neither, unknown options, repeats, the
 * length limit, and the text back from the config dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

static struct config cfg;

static int set(const char *kv, struct err *err)
{
	return cfg_set(&cfg, "test", kv, err);
}

static void test_options(void **state)
{
	(void)state;
	struct err err;
	cfg_defaults(&cfg);
	assert_int_equal(set("listen_imaps=127.0.0.1:993 cert=/etc/p/imap.pem key=tls/imap.key", &err), 0);
	assert_int_equal(cfg.listen_imaps.n, 1);
	assert_string_equal(cfg.listen_imaps.cert, "/etc/p/imap.pem");
	assert_string_equal(cfg.listen_imaps.key, "tls/imap.key");
	/* every listen_* key reads them, addresses before or after */
	assert_int_equal(set("listen_pop3s=key=k.pem cert=c.pem 127.0.0.1:995,[::1]:995", &err), 0);
	assert_int_equal(cfg.listen_pop3s.n, 2);
	assert_string_equal(cfg.listen_pop3s.cert, "c.pem");
	/* a new value replaces the options too */
	assert_int_equal(set("listen_imaps=127.0.0.1:993", &err), 0);
	assert_string_equal(cfg.listen_imaps.cert, "");

	char path[] = "/tmp/petrel-cfg-listen-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	cfg_dump(&cfg, fd);
	lseek(fd, 0, SEEK_SET);
	char text[16384];
	ssize_t n = read(fd, text, sizeof text - 1);
	assert_true(n > 0);
	text[n] = '\0';
	close(fd);
	unlink(path);
	assert_non_null(strstr(text, "listen_pop3s = 127.0.0.1:995, [::1]:995 cert=c.pem key=k.pem\n"));
	assert_non_null(strstr(text, "listen_imaps = 127.0.0.1:993\n"));
}

static void test_bad(void **state)
{
	(void)state;
	struct err err;
	cfg_defaults(&cfg);
	static const struct { const char *kv, *why; } bad[] = {
		{ "listen_imaps=127.0.0.1:993 cert=a.pem", "cert= and key= go together" },
		{ "listen_imaps=127.0.0.1:993 key=a.pem", "cert= and key= go together" },
		{ "listen_smtps=127.0.0.1:465 cert=a key=b dir=c", "unknown option 'dir'" },
		{ "listen_smtp=127.0.0.1:25 cert=a cert=b key=c", "cert= is given twice" },
		{ "listen_imaps=127.0.0.1:993 cert= key=b", "cert= is empty" },
		{ "listen_imaps=cert=a key=b", "without an address" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(set(bad[i].kv, &err), -1);
		if (strstr(err.msg, bad[i].why) == NULL)
			fail_msg("%s: got '%s'", bad[i].kv, err.msg);
	}
	char big[700];
	memset(big, 'a', sizeof big);
	memcpy(big, "listen_imaps=1.2.3.4:5 key=k cert=", 34);
	big[sizeof big - 1] = '\0';
	assert_int_equal(set(big, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 511 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
