/* guard.h - login protection shared by every protocol: failed logins
 * counted per client address and per account name, across sessions and
 * protocols, with a growing delay before each failure's reply and a
 * temporary lockout (decision 0025).
 *
 * Contract:
 * - Counting: failures within `window` seconds of the first one counted
 *   (a fixed window, restarted after it passes). An IPv4 address counts
 *   alone; IPv6 addresses count per /64, which is what one host usually
 *   holds. Account names are compared case-insensitively, whether or not
 *   they exist (an unknown name is locked like a real one, so a lock says
 *   nothing about existence).
 * - Lockout: at account_max failures of one account, or ip_max of one
 *   address, that account or address is locked for `lockout` seconds.
 *   Every login attempt touching a locked account or address fails,
 *   whatever the password, with the ordinary failure reply; its cost and
 *   delay are those of a wrong password. A success clears the account's
 *   count, not the address's (else an attacker with one account of their
 *   own could reset their address's count).
 * - Delay before a failure's reply: base * 2^(n - 1) seconds, n the larger
 *   of the address's and account's counts, at most delay_max.
 * - Exemptions: ip_ranges gives address ranges their own ip_max; 0 exempts
 *   the range from the per-address count (a webmail front end); its
 *   accounts are still counted. A global ip_max (or account_max) of 0
 *   still counts, for the delay, but never locks.
 * - Bounds: a fixed table of AUTH_GUARD_SLOTS entries, 8-way set
 *   associative under a random hash key; a new entry evicts the least
 *   recently used unlocked entry of its set, or the oldest lock if all
 *   eight are locked. Successful logins of unknown-to-the-table accounts
 *   add nothing.
 * - Events (lock, unlock) go to the callback, with the lock's start or end
 *   time; unlocks are noticed at the next call touching the entry or at a
 *   sweep of the whole table, at most every AUTH_GUARD_SWEEP seconds.
 * All calls are thread-safe (one mutex; no call blocks on I/O). */
#ifndef PETREL_AUTH_GUARD_H
#define PETREL_AUTH_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define AUTH_GUARD_SLOTS 8192
#define AUTH_GUARD_WAYS 8
#define AUTH_GUARD_SWEEP 10
#define AUTH_GUARD_NAME_MAX 320

struct auth_guard_conf {
	unsigned window;	/* seconds failures are counted over */
	unsigned account_max;	/* failures of one account; 0 = never lock */
	unsigned ip_max;	/* failures from one address; 0 = never lock */
	unsigned lockout;	/* seconds a lock lasts */
	unsigned delay;		/* base delay (auth_failure_delay) */
	unsigned delay_max;	/* cap of the growing delay */
	struct cfg_ip_ranges ip_ranges;	/* per-range ip_max, 0 = exempt */
};

/* kind: "login.lockout" or "login.unlock"; subject: the account name or
 * the address ("1.2.3.4", "2001:db8:1:2::/64"); what: "account" or "ip";
 * detail: "failures=10 until=<unix time>" and the like. */
typedef void (*auth_guard_event_fn)(void *arg, const char *kind,
				    const char *subject, const char *what,
				    const char *detail, int64_t when);
/* Seconds since the epoch; tests pass their own. */
typedef int64_t (*auth_guard_clock_fn)(void *arg);

struct auth_guard;

/* slots: AUTH_GUARD_SLOTS, or fewer (rounded down to a multiple of the
 * ways, at least one set) for tests. event may be NULL. */
struct auth_guard *auth_guard_new(const struct auth_guard_conf *conf,
				  size_t slots, auth_guard_event_fn event,
				  void *event_arg);
void auth_guard_set_clock(struct auth_guard *g, auth_guard_clock_fn fn,
			  void *arg);
void auth_guard_free(struct auth_guard **gp);

/* Before checking credentials: true if ip (text form, "" or unparsable:
 * not counted) or account is locked now. */
bool auth_guard_locked(struct auth_guard *g, const char *ip,
		       const char *account);
/* After: the outcome. Returns the seconds to wait before replying to a
 * failure (0 for a success). */
unsigned auth_guard_record(struct auth_guard *g, const char *ip,
			   const char *account, bool ok);
/* Entries in use (tests). */
size_t auth_guard_count(struct auth_guard *g);

#endif
