/* fuzz_pop3_session.c - libFuzzer target for whole POP3 sessions: the
 * input is everything one client sends (usually USER fuzz@example.test,
 * PASS pw or AUTH PLAIN first), run through the real connection layer,
 * command loop, commands, maildrop lock, store and login checker on a
 * fresh store each time (fuzz_session.h). Replies are read and dropped;
 * ASan/UBSan, the leak check and the loop's end are the oracle. */
#include "fuzz_session.h"

#include "pop3/pop3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	struct fuzz_run r;
	fuzz_run_open(&r);
	struct pop3_server *srv = pop3_server_new(&fz.cfg, r.st, NULL, fz.jobs,
						  r.auth);
	fuzz_session(&pop3_proto, srv, data, size);
	pop3_server_free(&srv);
	fuzz_run_close(&r);
	return 0;
}
