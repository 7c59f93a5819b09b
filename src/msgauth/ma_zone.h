/* ma_zone.h - a DNS backend from a table of records, for tests, the
 * third-party suites and the fuzzers: no network, exact answers.
 *
 * Text form, one record a line ('#' starts a comment line):
 *     example.com TXT "v=spf1 " "-all"     quoted strings, \" \\ \DDD
 *     example.com A 192.0.2.1
 *     example.com AAAA 2001:db8::1
 *     example.com MX 10 mx.example.com
 *     _imaps._tcp.example.com SRV 0 1 993 mail.example.com
 *     1.2.0.192.in-addr.arpa PTR host.example.com
 *     www.example.com CNAME example.com
 *     slow.example.com TIMEOUT              MA_DNS_TEMPFAIL for every type
 *                                           the name has no records of
 * Names compare without case and without a trailing dot; in names,
 * "\DDD" (decimal) and "\X" escapes stand for octets such as spaces. A name with no
 * record at all is NXDOMAIN; with records of other types only, NODATA. */
#ifndef PETREL_MA_ZONE_H
#define PETREL_MA_ZONE_H

#include <stddef.h>

#include "core/err.h"
#include "msgauth/ma_dns.h"

struct ma_zone;

struct ma_zone *ma_zone_new(void);
void ma_zone_free(struct ma_zone **zp);
/* Parse text (len bytes) and add its records; -1 with err naming the line. */
int ma_zone_load(struct ma_zone *z, const char *text, size_t len, struct err *err);
/* Add one record: value as in the text form after the type. */
int ma_zone_add(struct ma_zone *z, const char *name, const char *type,
		const char *value, struct err *err);
/* Number of queries answered so far (tests check bounded work). */
size_t ma_zone_queries(const struct ma_zone *z);
/* The backend: d->arg = z. */
void ma_zone_dns(struct ma_zone *z, struct ma_dns *d);

#endif
