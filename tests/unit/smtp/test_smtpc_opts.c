/* test_smtpc_opts.c - cmocka tests of the SMTP client's options: the RFC
 * 5321 4.5.3.2 defaults, and the smtp_client_*_timeout configuration keys
 * as smtpc_opts_from_config() maps them (down to 1 s for tests; 0 is
 * refused by the configuration's bounds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/limits.h"
#include "smtp/smtpc.h"

static void test_defaults(void **state)
{
	(void)state;
	struct config cfg;
	struct smtpc_opts o;
	cfg_defaults(&cfg);
	smtpc_opts_from_config(&o, &cfg);
	assert_string_equal(o.helo_name, cfg.hostname);
	assert_int_equal(o.tls, SMTPC_TLS_OPPORTUNISTIC);
	assert_null(o.auth_user);
	assert_int_equal(o.timeouts.connect, 30);
	assert_int_equal(o.timeouts.greeting, 300);
	assert_int_equal(o.timeouts.mail, 300);
	assert_int_equal(o.timeouts.rcpt, 300);
	assert_int_equal(o.timeouts.data_init, 120);
	assert_int_equal(o.timeouts.data_block, 180);
	assert_int_equal(o.timeouts.data_term, 600);
}

static void test_keys(void **state)
{
	(void)state;
	struct config cfg;
	struct smtpc_opts o;
	struct err e;
	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "test", "smtp_client_connect_timeout=1", &e), 0);
	assert_int_equal(cfg_set(&cfg, "test", "smtp_client_command_timeout=2", &e), 0);
	assert_int_equal(cfg_set(&cfg, "test", "smtp_client_data_init_timeout=3", &e), 0);
	assert_int_equal(cfg_set(&cfg, "test", "smtp_client_data_block_timeout=4", &e), 0);
	assert_int_equal(cfg_set(&cfg, "test", "smtp_client_data_done_timeout=1h", &e), 0);
	assert_int_equal(cfg_set(&cfg, "test", "smtp_client_command_timeout=0", &e), -1);
	smtpc_opts_from_config(&o, &cfg);
	assert_int_equal(o.timeouts.connect, 1);
	assert_int_equal(o.timeouts.greeting, 2);
	assert_int_equal(o.timeouts.helo, 2);
	assert_int_equal(o.timeouts.mail, 2);
	assert_int_equal(o.timeouts.rcpt, 2);
	assert_int_equal(o.timeouts.data_init, 3);
	assert_int_equal(o.timeouts.data_block, 4);
	assert_int_equal(o.timeouts.data_term, 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
