/* fuzz_imap_session.c - libFuzzer target for whole IMAP sessions: the
 * input is everything one client sends (usually starting with a LOGIN as
 * fuzz@example.test, password "pw"), run through the real connection
 * layer, command reader, dispatcher, commands, store and login checker on
 * a fresh store each time (fuzz_session.h). Replies are read and dropped;
 * what is checked is what ASan/UBSan and the loop's end see: no memory
 * error, no undefined behaviour, no leak, and a session that ends. */
#include "fuzz_session.h"

#include "imap/imap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	struct fuzz_run r;
	fuzz_run_open(&r);
	struct imap_server *srv = imap_server_new(&fz.cfg, r.st, NULL, r.auth);
	fuzz_session(&imap_proto, srv, data, size);
	imap_server_free(&srv);
	fuzz_run_close(&r);
	return 0;
}
