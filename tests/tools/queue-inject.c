/* queue-inject.c - test driver: put one message into a stopped petreld's
 * outbound queue with an envelope submission would never make (another
 * domain's sender, the null sender, a report's flag), so that tests can
 * see what the runner does with it: a report for a report must never be
 * made. Built into build/tests/tools/, never installed.
 *
 *   queue-inject DATA_DIR SENDER [--report] RCPT... < MESSAGE
 *
 * SENDER "" is the null sender. Exit 0 once the message is durable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: queue-inject DATA_DIR SENDER [--report] RCPT... < MESSAGE\n");
		return 2;
	}
	uint32_t flags = 0;
	int first = 3;
	if (strcmp(argv[3], "--report") == 0) {
		flags |= STORE_QUEUE_BOUNCE;
		first = 4;
	}
	if (first >= argc) {
		fprintf(stderr, "queue-inject: no recipient\n");
		return 2;
	}
	size_t cap = 1 << 16, len = 0;
	unsigned char *data = malloc(cap);
	size_t n;
	while (data != NULL && (n = fread(data + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			unsigned char *p = realloc(data, cap * 2);
			if (p == NULL)
				break;
			data = p;
			cap *= 2;
		}
	}
	if (data == NULL) {
		fprintf(stderr, "queue-inject: out of memory\n");
		return 1;
	}
	log_set_level(LOG_WARN);
	struct err err;
	struct store *st;
	if (store_open(argv[1], &st, &err) != 0) {
		fprintf(stderr, "queue-inject: %s\n", err.msg);
		return 1;
	}
	struct store_queue_env env = {
		.sender = argv[2],
		.rcpts = (const char *const *)argv + first,
		.n_rcpts = (size_t)(argc - first),
		.flags = flags,
	};
	struct store_delivery d = {
		.data = data, .len = len, .internal_date = (int64_t)time(NULL),
		.queue = &env,
	};
	int rc = store_deliver_wait(st, &d, &err);
	if (rc != 0)
		fprintf(stderr, "queue-inject: %s\n", err.msg);
	store_close(&st);
	free(data);
	return rc == 0 ? 0 : 1;
}
