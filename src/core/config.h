/* config.h - petrel.conf: "key = value" lines, '#' comments.
 * Every key has a built-in default (the embedded demo set-up of
 * `make run`); the file and then -o key=value overrides replace them.
 * An unknown key or bad value stops startup with "file:line: message".
 * The loaded config is read-only; a reload builds a new one whole. */
#ifndef PETREL_CONFIG_H
#define PETREL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CFG_MAX_LISTEN 16

struct cfg_listen {
	char host[256];		/* "0.0.0.0", "::", "127.0.0.1", ... */
	char port[8];
};

/* A listen_* value: addresses, then optional "cert=PATH key=PATH" (both
 * or neither; paths without spaces or commas, relative ones under
 * data_dir): that listener's own certificate instead of tls_cert/tls_key
 * (tls_sni names still win for clients that ask for them). */
struct cfg_listen_list {
	size_t n;
	struct cfg_listen addr[CFG_MAX_LISTEN];
	char cert[512];		/* "" = tls_cert */
	char key[512];
};

/* max_connections_per_ip_ranges (config_ranges.c) */
#define CFG_MAX_IP_RANGES 64
#define CFG_IP_RANGE_LIMIT_MAX 1000000
struct cfg_ip_range {
	unsigned char net[16];	/* IPv4 as ::ffff:a.b.c.d */
	unsigned prefix;	/* leading bits of net that count, 0-128;
				 * IPv4 a.b.c.d/n is 96 + n */
	unsigned limit;		/* per address; 0 = no limit */
};

struct cfg_ip_ranges {
	size_t n;
	struct cfg_ip_range r[CFG_MAX_IP_RANGES];
};

/* tls_sni: a server name (exact, or "*.domain" for one more label) and
 * the certificate and key served to clients asking for it. */
#define CFG_MAX_SNI 32

struct cfg_sni {
	char name[256];		/* lower case */
	char cert[512];		/* relative paths are under data_dir */
	char key[512];
};

struct cfg_sni_list {
	size_t n;
	struct cfg_sni e[CFG_MAX_SNI];
};

/* The outbound queue's values (config_outbound.c). */
#define CFG_MAX_RETRY_STEPS 32
struct cfg_retry {
	size_t n;
	unsigned step[CFG_MAX_RETRY_STEPS];	/* seconds; the last repeats */
};

/* A next hop: "host" (its MX records are looked up), "[host]" (its
 * addresses only, no MX), an IP address; port 0 = outbound_port. */
struct cfg_nexthop {
	char host[256];		/* lower case; "" = none */
	uint16_t port;
	bool literal;		/* no MX lookup */
};

#define CFG_MAX_TRANSPORTS 64
struct cfg_transport {
	char domain[256];	/* "example.com" or "*.example.com" */
	struct cfg_nexthop hop;
};
struct cfg_transports {
	size_t n;
	struct cfg_transport e[CFG_MAX_TRANSPORTS];
};

#define CFG_MAX_DOMAINS 64
struct cfg_domains {
	size_t n;
	char name[CFG_MAX_DOMAINS][256];
};

enum cfg_tls_mode {
	CFG_TLS_OPPORTUNISTIC = 0,	/* STARTTLS when offered */
	CFG_TLS_STARTTLS,		/* STARTTLS or no delivery */
	CFG_TLS_IMPLICIT,		/* TLS from the first byte (465) */
	CFG_TLS_NONE,
};

struct config {
	char hostname[256];	/* our name in greetings and Received: */
	char data_dir[1024];
	char user[64];		/* account to run as when started as root */
	bool chroot;		/* chroot into data_dir when started as root */
	int workers;		/* 0: one per core */
	int log_level;		/* enum log_level */

	struct cfg_listen_list listen_smtp;	/* MX, STARTTLS offered */
	struct cfg_listen_list listen_smtps;	/* MX, implicit TLS */
	struct cfg_listen_list listen_submission;	/* RFC 6409, STARTTLS */
	struct cfg_listen_list listen_submissions;	/* RFC 8314, implicit TLS */
	bool auth_scram;		/* offer SCRAM-SHA-256 on submission */
	bool submission_hide_client_ip;	/* Received: from [authenticated] */
	unsigned submission_max_messages_per_hour;	/* per mailbox */
	unsigned submission_max_recipients_per_message;
	struct cfg_listen_list listen_pop3;	/* POP3, STLS offered */
	struct cfg_listen_list listen_pop3s;	/* POP3, implicit TLS */
	unsigned pop3_timeout;		/* seconds, once logged in */
	unsigned pop3_preauth_timeout;	/* seconds, before login */
	unsigned pop3_max_connections_per_ip;	/* 0 = only the global cap */
	bool pop3_plaintext_auth;	/* allow USER/PASS without TLS */
	struct cfg_listen_list listen_imap;	/* IMAP, STARTTLS offered */
	struct cfg_listen_list listen_imaps;	/* IMAP, implicit TLS */
	unsigned imap_timeout;		/* seconds, autologout once logged in */
	unsigned imap_preauth_timeout;	/* seconds, before login */
	unsigned imap_idle_timeout;	/* seconds, during IDLE */
	unsigned imap_max_sessions_per_user;	/* 0 = no limit */
	unsigned imap_max_connections_per_ip;	/* 0 = only the global cap */
	bool imap_plaintext_auth;	/* allow LOGIN without TLS */
	struct cfg_listen_list listen_admin;	/* REST API (src/http/), HTTPS */
	bool admin_plaintext;		/* serve it over plain HTTP */

	char tls_cert[1024];	/* relative paths are under data_dir */
	char tls_key[1024];
	int tls_min_version;	/* OpenSSL TLS1_2_VERSION etc. */
	char tls_ciphers[512];	/* TLS 1.2 cipher list */
	struct cfg_sni_list tls_sni;	/* per-name certificates */

	uint64_t smtp_max_message_size;
	size_t smtp_max_line;
	size_t smtp_max_data_line;
	unsigned smtp_max_recipients;
	unsigned smtp_max_errors;
	unsigned smtp_command_timeout;	/* seconds */
	unsigned smtp_data_timeout;	/* seconds */
	/* outbound SMTP client (smtpc_opts_from_config), seconds */
	unsigned smtp_client_connect_timeout;	/* TCP connect, TLS handshake */
	unsigned smtp_client_command_timeout;	/* greeting, EHLO, MAIL, RCPT, ... */
	unsigned smtp_client_data_init_timeout;	/* the 354 to DATA */
	unsigned smtp_client_data_block_timeout;	/* a write not taken */
	unsigned smtp_client_data_done_timeout;	/* the reply after the "." */
	unsigned max_connections;
	unsigned max_connections_per_ip;	/* 0 = no limit */
	/* per-address caps for address ranges, longest prefix first */
	struct cfg_ip_ranges max_connections_per_ip_ranges;
	bool limit_loopback;	/* apply it to 127.0.0.0/8 and ::1 too */
	unsigned tcp_keepalive_idle;	/* seconds of silence before probing; 0 = off */
	unsigned tcp_keepalive_timeout;	/* seconds of probing before dropping; 0 = off */
	unsigned auth_failure_delay;	/* seconds before a failed login's reply */
	/* login protection (src/auth/guard.h) */
	unsigned login_failure_window;		/* seconds failures count over */
	unsigned login_account_max_failures;	/* 0 = never lock an account */
	unsigned login_ip_max_failures;		/* 0 = never lock an address */
	struct cfg_ip_ranges login_ip_max_failures_ranges;	/* 0 = exempt */
	unsigned login_lockout;			/* seconds */
	unsigned login_failure_delay_max;	/* cap of the growing delay */

	/* the outbound queue */
	struct cfg_retry queue_retry_schedule;
	unsigned queue_lifetime;	/* seconds before a bounce */
	unsigned queue_delay_warning;	/* seconds before a delay DSN; 0 = none */
	unsigned queue_max_connections;
	unsigned queue_max_connections_per_destination;
	unsigned queue_messages_per_connection;
	unsigned outbound_port;		/* remote SMTP port, 25 */
	struct cfg_domains outbound_tls_required;
	struct cfg_transports transports;
	struct cfg_nexthop relay_host;	/* host "" = deliver by MX */
	enum cfg_tls_mode relay_tls;
	char relay_auth_user[256];
	char relay_auth_password_file[1024];
	char dns_forwarder[256];	/* "127.0.0.1@5353"; "" = resolv.conf */
	unsigned dns_timeout;		/* seconds per DNS query */

	uint64_t default_quota;	/* bytes; 0 = unlimited */
	char demo_domain[256];	/* created on first start; "" = none */
	char demo_user[64];

	/* DKIM keys and the DNS doctor (decision 0029) */
	unsigned dkim_rotate_days;	/* age of an active key that starts a
					 * rotation; 0 = never */
	unsigned dkim_publish_ahead;	/* seconds a new key is in DNS before
					 * it signs */
	unsigned dkim_retire_after;	/* seconds an old key stays in DNS
					 * after it stopped signing */
	char mx_backup[256];		/* backup MX host, "" = none */
	char public_ipv4[64];		/* this server's public addresses, for */
	char public_ipv6[64];		/* SPF and PTR checks; "" = unknown */
	char dmarc_rua[256];		/* "" = dmarc-reports@DOMAIN */
	char tlsrpt_rua[256];		/* "" = tls-reports@DOMAIN */
	unsigned dns_record_ttl;	/* seconds, of the records suggested */

	/* checking incoming mail (docs/msgauth.md, "Incoming mail") */
	bool msgauth_inbound;		/* SPF, DKIM, ARC, DMARC on the MX port */
	bool dmarc_enforce;		/* act on p=reject / p=quarantine */
	unsigned msgauth_threads;	/* checks running at once (DNS waits) */
	struct cfg_domains arc_trusted_sealers;	/* their ARC passes vouch */
	bool arc_seal;			/* ARC-seal mail we forward (MX port) */
	bool dkim_sign;			/* sign submitted mail (From domain) */
	/* DMARC aggregate reports (docs/msgauth.md, decision 0032) */
	bool dmarc_reports;		/* record and send them daily */
	unsigned dmarc_report_hour;	/* UTC hour the day's run starts */
	char dmarc_report_org[256];	/* org_name; "" = hostname's org */
	char dmarc_report_email[320];	/* "" = dmarc-noreply@hostname */

	/* the spam and phishing filter (docs/filter.md, decision 0043) */
	bool filter;			/* give incoming mail a verdict */
	char filter_weights[1024];	/* symbol weights file; "" = defaults */
	struct cfg_domains filter_brands;	/* protected from lookalikes */
	/* "junk quarantine reject" score thresholds of each level */
	char filter_standard[64];
	char filter_enterprise[64];
	char filter_strict[64];
	/* client autoconfiguration (docs/autoconfig.md, decision 0041):
	 * public HTTP listeners serving only the autoconfig documents and
	 * the settings page, and the names and ports clients are told */
	struct cfg_listen_list listen_autoconfig;	/* HTTPS */
	struct cfg_listen_list listen_autoconfig_http;	/* plain HTTP */
	char public_imap_host[256];	/* "" = hostname */
	char public_pop3_host[256];
	char public_smtp_host[256];
	unsigned public_imaps_port, public_imap_port;	/* 0 = the listener's */
	unsigned public_pop3s_port, public_pop3_port;
	unsigned public_submissions_port, public_submission_port;
	unsigned public_autoconfig_port;	/* 0 = listen_autoconfig's */
	/* filter reputation (docs/filter.md, decision 0039) */
	char filter_dnsbl_ip[1024];	/* "zone[=codes][:weight]", ... */
	char filter_dnsbl_domain[1024];
	unsigned filter_dnsbl_max_lookups;	/* DNS queries per message */
	char filter_url_feed[2048];	/* feed files; "" = none */
	char filter_ti_url[2048];	/* API template with %u; "" = off */
	char filter_ti_key_file[1024];	/* "" = no Authorization */
	char filter_ti_ca_file[1024];	/* "" = system trust store */
	unsigned filter_ti_timeout;	/* seconds for one message */
	unsigned filter_ti_cache_ttl;	/* seconds */
	unsigned filter_ti_cache_size;	/* answers */
	unsigned filter_ti_max_urls;	/* URLs per message */
};

/* Fill cfg with the built-in defaults. */
void cfg_defaults(struct config *cfg);
/* Read a file over the current values. A missing file is an error unless
 * optional is true. err->msg is "path:line: message". */
int cfg_load_file(struct config *cfg, const char *path, bool optional,
		  struct err *err) __attribute__((warn_unused_result));
/* Apply one "key=value" (from the command line, origin for messages). */
int cfg_set(struct config *cfg, const char *origin, const char *kv,
	    struct err *err) __attribute__((warn_unused_result));
/* Checks across keys (e.g. at least one listener); call after loading. */
int cfg_finish(struct config *cfg, struct err *err)
	__attribute__((warn_unused_result));
/* Print every key with its current value, as a config file would say it. */
void cfg_dump(const struct config *cfg, int fd);

/* Parsers shared with other modules: "64M", "1G", "100" -> bytes;
 * "30s", "5m", "1h", "10" -> seconds. 0 on success, -1 on bad input. */
int cfg_parse_size(const char *s, uint64_t *out);
int cfg_parse_seconds(const char *s, uint64_t *out);

/* ---- list values and the outbound keys (config_outbound.c) ---- */
/* The next item of a list separated by commas, spaces or tabs: 1 with
 * *item and *len, 0 at the end. *p moves on. */
int cfg_list_next(const char **p, const char **item, size_t *len);
/* "5m 10m 30m 1h": the intervals between tries; the last repeats. */
int cfg_parse_retry(const char *v, struct cfg_retry *out, char *why,
		    size_t whysz);
void cfg_format_retry(const struct cfg_retry *r, char *out, size_t outsz);
/* Seconds to wait after the attempts-th failed try (0-based). */
unsigned cfg_retry_delay(const struct cfg_retry *r, unsigned attempts);
int cfg_parse_nexthop(const char *s, size_t len, struct cfg_nexthop *out,
		      char *why, size_t whysz);
void cfg_format_nexthop(const struct cfg_nexthop *h, char *out, size_t outsz);
/* A next hop or "" (none). */
int cfg_parse_relay(const char *v, struct cfg_nexthop *out, char *why,
		    size_t whysz);
/* "partner.example=10.0.0.5:25, *.corp.example=[gw.corp]:2525" */
int cfg_parse_transports(const char *v, struct cfg_transports *out, char *why,
			 size_t whysz);
void cfg_format_transports(const struct cfg_transports *t, char *out,
			   size_t outsz);
/* "bank.example, *.gov.example" */
int cfg_parse_domains(const char *v, struct cfg_domains *out, char *why,
		      size_t whysz);
void cfg_format_domains(const struct cfg_domains *d, char *out, size_t outsz);
/* domain matches pattern ("name" exactly or "*.name" below it), ASCII
 * case-insensitively. */
bool cfg_domain_match(const char *pattern, const char *domain);
int cfg_parse_tls_mode(const char *v, enum cfg_tls_mode *out, char *why,
		       size_t whysz);
const char *cfg_tls_mode_name(enum cfg_tls_mode m);

/* "10.0.0.0/8=50, 192.0.2.7=200, 2001:db8::/32=0": address/prefix=limit
 * pairs (no /prefix: one address), separated by commas or spaces; IPv4
 * stored as IPv4-mapped IPv6. 0, or -1 with the reason in why. out is
 * only written on success. */
int cfg_parse_ip_ranges(const char *v, struct cfg_ip_ranges *out, char *why,
			size_t whysz);
/* The range of r[0..n) with the longest prefix holding addr (16 bytes,
 * IPv4 as ::ffff:a.b.c.d), or NULL. */
const struct cfg_ip_range *cfg_ip_range_find(const struct cfg_ip_range *r,
					     size_t n, const unsigned char addr[16]);
/* "10.0.0.0/8=50", as cfg_parse_ip_ranges reads it back. */
void cfg_format_ip_range(const struct cfg_ip_range *r, char *buf, size_t sz);
/* "name:cert:key, name:cert:key": the tls_sni value (config_sni.c). */
int cfg_parse_sni(const char *v, struct cfg_sni_list *l, char *why, size_t whysz);
/* The same text back, for cfg_dump. */
void cfg_format_sni(const struct cfg_sni_list *l, char *out, size_t outsz);
/* One "name=value" option of a listen_* value (config_listen.c): cert=
 * or key=. 0, or -1 with the reason in why. */
int cfg_listen_option(const char *tok, size_t n, struct cfg_listen_list *l,
		      char *why, size_t whysz);
/* Every listen_* key, generically: calls fn with the key's name and
 * value in table order. */
void cfg_each_listen(const struct config *cfg,
		     void (*fn)(void *arg, const char *key,
				const struct cfg_listen_list *l),
		     void *arg);


/* ---- the client services as mail clients see them (config_public.c) ----
 * One source for the autoconfig documents, the settings page and the
 * DNS doctor's SRV records. */
enum cfg_svc {
	CFG_SVC_IMAPS, CFG_SVC_IMAP, CFG_SVC_POP3S, CFG_SVC_POP3,
	CFG_SVC_SUBMISSIONS, CFG_SVC_SUBMISSION, CFG_SVC_N
};
struct cfg_client_service {
	const char *name;	/* "imaps", ...: the listen_ key's suffix */
	const char *srv;	/* "_imaps._tcp" (RFC 6186, RFC 8314) */
	const char *proto;	/* "imap", "pop3", "smtp" */
	bool implicit_tls;	/* TLS from the first byte, else STARTTLS */
	char host[256];		/* public_*_host, else hostname */
	unsigned port;		/* public_*_port, else the first listener's
				 * port; 0 = not offered (no listener) */
};
struct cfg_client_services {
	struct cfg_client_service s[CFG_SVC_N];	/* in enum cfg_svc order:
						 * TLS first (RFC 8314) */
	unsigned https_port;	/* public_autoconfig_port, else the first
				 * listen_autoconfig port; 0 = no HTTPS */
};
void cfg_client_services(const struct config *cfg,
			 struct cfg_client_services *out);
/* public_*_host are host names (letters, digits, '.', '-'): cfg_finish. */
int cfg_public_check(const struct config *cfg, struct err *err);
/* The port of a listen_* value's first address, 0 if none. */
unsigned cfg_listen_first_port(const struct cfg_listen_list *l);

#endif
