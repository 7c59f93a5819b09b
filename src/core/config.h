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

struct cfg_listen_list {
	size_t n;
	struct cfg_listen addr[CFG_MAX_LISTEN];
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

struct config {
	char hostname[256];	/* our name in greetings and Received: */
	char data_dir[1024];
	char user[64];		/* account to run as when started as root */
	bool chroot;		/* chroot into data_dir when started as root */
	int workers;		/* 0: one per core */
	int log_level;		/* enum log_level */

	struct cfg_listen_list listen_smtp;	/* MX, STARTTLS offered */
	struct cfg_listen_list listen_smtps;	/* MX, implicit TLS */
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

	uint64_t default_quota;	/* bytes; 0 = unlimited */
	char demo_domain[256];	/* created on first start; "" = none */
	char demo_user[64];
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

#endif
