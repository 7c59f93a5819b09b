/* config.c - petrel.conf reader. Table-driven: each key names its type,
 * where it lives in struct config, and its bounds. Values are plain text
 * to the end of the line (no quoting); a '#' starts a comment only at the
 * start of a line or after whitespace. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "core/limits.h"
#include "core/log.h"

enum cfg_type { T_STR, T_BOOL, T_UINT, T_SIZE, T_SECS, T_LISTEN, T_LEVEL,
		T_TLSVER, T_IPRANGES, T_SNI, T_RETRY, T_NEXTHOP,
		T_TRANSPORTS, T_DOMAINS, T_TLSMODE };

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	size_t size;		/* T_STR: buffer size; numbers: sizeof field */
	uint64_t min, max;	/* numbers */
};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

static const struct cfg_key keys[] = {
	{ "hostname", T_STR, F(hostname), 0, 0 },
	{ "data_dir", T_STR, F(data_dir), 0, 0 },
	{ "user", T_STR, F(user), 0, 0 },
	{ "chroot", T_BOOL, F(chroot), 0, 0 },
	{ "workers", T_UINT, F(workers), 0, 256 },
	{ "log_level", T_LEVEL, F(log_level), 0, 0 },
	{ "listen_smtp", T_LISTEN, F(listen_smtp), 0, 0 },
	{ "listen_smtps", T_LISTEN, F(listen_smtps), 0, 0 },
	{ "listen_submission", T_LISTEN, F(listen_submission), 0, 0 },
	{ "listen_submissions", T_LISTEN, F(listen_submissions), 0, 0 },
	{ "auth_scram", T_BOOL, F(auth_scram), 0, 0 },
	{ "submission_hide_client_ip", T_BOOL, F(submission_hide_client_ip), 0, 0 },
	{ "submission_max_messages_per_hour", T_UINT,
	  F(submission_max_messages_per_hour), 1, 10000000 },
	{ "submission_max_recipients_per_message", T_UINT,
	  F(submission_max_recipients_per_message), 1, 100000 },
	{ "listen_pop3", T_LISTEN, F(listen_pop3), 0, 0 },
	{ "listen_pop3s", T_LISTEN, F(listen_pop3s), 0, 0 },
	{ "pop3_timeout", T_SECS, F(pop3_timeout), 1, 86400 },
	{ "pop3_preauth_timeout", T_SECS, F(pop3_preauth_timeout), 1, 86400 },
	{ "pop3_max_connections_per_ip", T_UINT, F(pop3_max_connections_per_ip), 0, 1000000 },
	{ "pop3_plaintext_auth", T_BOOL, F(pop3_plaintext_auth), 0, 0 },
	{ "listen_imap", T_LISTEN, F(listen_imap), 0, 0 },
	{ "listen_imaps", T_LISTEN, F(listen_imaps), 0, 0 },
	{ "imap_timeout", T_SECS, F(imap_timeout), 1, 86400 },
	{ "imap_preauth_timeout", T_SECS, F(imap_preauth_timeout), 1, 86400 },
	{ "imap_idle_timeout", T_SECS, F(imap_idle_timeout), 1, 86400 },
	{ "imap_max_sessions_per_user", T_UINT, F(imap_max_sessions_per_user), 0, 1000000 },
	{ "imap_max_connections_per_ip", T_UINT, F(imap_max_connections_per_ip), 0, 1000000 },
	{ "imap_plaintext_auth", T_BOOL, F(imap_plaintext_auth), 0, 0 },
	{ "listen_admin", T_LISTEN, F(listen_admin), 0, 0 },
	{ "admin_plaintext", T_BOOL, F(admin_plaintext), 0, 0 },
	{ "tls_cert", T_STR, F(tls_cert), 0, 0 },
	{ "tls_key", T_STR, F(tls_key), 0, 0 },
	{ "tls_min_version", T_TLSVER, F(tls_min_version), 0, 0 },
	{ "tls_ciphers", T_STR, F(tls_ciphers), 0, 0 },
	{ "tls_sni", T_SNI, F(tls_sni), 0, 0 },
	{ "smtp_max_message_size", T_SIZE, F(smtp_max_message_size), 1024,
	  (uint64_t)2 * 1024 * 1024 * 1024 },
	{ "smtp_max_line", T_SIZE, F(smtp_max_line), SMTP_MAX_LINE_MIN,
	  SMTP_MAX_LINE_MAX },
	{ "smtp_max_data_line", T_SIZE, F(smtp_max_data_line), 1000,
	  16 * 1024 * 1024 },
	{ "smtp_max_recipients", T_UINT, F(smtp_max_recipients), 1, 100000 },
	{ "smtp_max_errors", T_UINT, F(smtp_max_errors), 1, 100000 },
	{ "smtp_command_timeout", T_SECS, F(smtp_command_timeout), 1, 86400 },
	{ "smtp_data_timeout", T_SECS, F(smtp_data_timeout), 1, 86400 },
	{ "smtp_client_connect_timeout", T_SECS, F(smtp_client_connect_timeout), 1, 86400 },
	{ "smtp_client_command_timeout", T_SECS, F(smtp_client_command_timeout), 1, 86400 },
	{ "smtp_client_data_init_timeout", T_SECS, F(smtp_client_data_init_timeout), 1, 86400 },
	{ "smtp_client_data_block_timeout", T_SECS, F(smtp_client_data_block_timeout), 1, 86400 },
	{ "smtp_client_data_done_timeout", T_SECS, F(smtp_client_data_done_timeout), 1, 86400 },
	{ "max_connections", T_UINT, F(max_connections), 1, 1000000 },
	{ "max_connections_per_ip", T_UINT, F(max_connections_per_ip), 0, 1000000 },
	{ "max_connections_per_ip_ranges", T_IPRANGES,
	  F(max_connections_per_ip_ranges), 0, 0 },
	{ "limit_loopback", T_BOOL, F(limit_loopback), 0, 0 },
	{ "tcp_keepalive_idle", T_SECS, F(tcp_keepalive_idle), 0, NET_KEEPALIVE_IDLE_MAX },
	{ "tcp_keepalive_timeout", T_SECS, F(tcp_keepalive_timeout), 0,
	  NET_KEEPALIVE_TIMEOUT_MAX },
	{ "auth_failure_delay", T_SECS, F(auth_failure_delay), 0, 60 },
	{ "login_failure_window", T_SECS, F(login_failure_window), 1, 86400 },
	{ "login_account_max_failures", T_UINT, F(login_account_max_failures), 0, 100000 },
	{ "login_ip_max_failures", T_UINT, F(login_ip_max_failures), 0, 100000 },
	{ "login_ip_max_failures_ranges", T_IPRANGES,
	  F(login_ip_max_failures_ranges), 0, 0 },
	{ "login_lockout", T_SECS, F(login_lockout), 0, 86400 },
	{ "login_failure_delay_max", T_SECS, F(login_failure_delay_max), 0, 600 },
	{ "queue_retry_schedule", T_RETRY, F(queue_retry_schedule), 0, 0 },
	{ "queue_lifetime", T_SECS, F(queue_lifetime), 1, 30 * 86400 },
	{ "queue_delay_warning", T_SECS, F(queue_delay_warning), 0, 30 * 86400 },
	{ "queue_max_connections", T_UINT, F(queue_max_connections), 1, 10000 },
	{ "queue_max_connections_per_destination", T_UINT,
	  F(queue_max_connections_per_destination), 1, 10000 },
	{ "queue_messages_per_connection", T_UINT, F(queue_messages_per_connection), 1, 100000 },
	{ "outbound_port", T_UINT, F(outbound_port), 1, 65535 },
	{ "outbound_tls_required", T_DOMAINS, F(outbound_tls_required), 0, 0 },
	{ "transports", T_TRANSPORTS, F(transports), 0, 0 },
	{ "relay_host", T_NEXTHOP, F(relay_host), 0, 0 },
	{ "relay_tls", T_TLSMODE, F(relay_tls), 0, 0 },
	{ "relay_auth_user", T_STR, F(relay_auth_user), 0, 0 },
	{ "relay_auth_password_file", T_STR, F(relay_auth_password_file), 0, 0 },
	{ "dns_forwarder", T_STR, F(dns_forwarder), 0, 0 },
	{ "dns_timeout", T_SECS, F(dns_timeout), 1, DNS_TIMEOUT_MAX },
	{ "default_quota", T_SIZE, F(default_quota), 0, UINT64_MAX },
	{ "demo_domain", T_STR, F(demo_domain), 0, 0 },
	{ "demo_user", T_STR, F(demo_user), 0, 0 },
	{ "dkim_rotate_days", T_UINT, F(dkim_rotate_days), 0, 3650 },
	{ "dkim_publish_ahead", T_SECS, F(dkim_publish_ahead), 0, 365 * 86400 },
	{ "dkim_retire_after", T_SECS, F(dkim_retire_after), 0, 365 * 86400 },
	{ "mx_backup", T_STR, F(mx_backup), 0, 0 },
	{ "public_ipv4", T_STR, F(public_ipv4), 0, 0 },
	{ "public_ipv6", T_STR, F(public_ipv6), 0, 0 },
	{ "dmarc_rua", T_STR, F(dmarc_rua), 0, 0 },
	{ "tlsrpt_rua", T_STR, F(tlsrpt_rua), 0, 0 },
	{ "dns_record_ttl", T_SECS, F(dns_record_ttl), 60, 7 * 86400 },
	{ "msgauth_inbound", T_BOOL, F(msgauth_inbound), 0, 0 },
	{ "dmarc_enforce", T_BOOL, F(dmarc_enforce), 0, 0 },
	{ "arc_seal", T_BOOL, F(arc_seal), 0, 0 },
	{ "msgauth_threads", T_UINT, F(msgauth_threads), 1, 256 },
	{ "arc_trusted_sealers", T_DOMAINS, F(arc_trusted_sealers), 0, 0 },
	{ "dkim_sign", T_BOOL, F(dkim_sign), 0, 0 },
	{ "dmarc_reports", T_BOOL, F(dmarc_reports), 0, 0 },
	{ "dmarc_report_hour", T_UINT, F(dmarc_report_hour), 0, 23 },
	{ "dmarc_report_org", T_STR, F(dmarc_report_org), 0, 0 },
	{ "dmarc_report_email", T_STR, F(dmarc_report_email), 0, 0 },
	{ "filter", T_BOOL, F(filter), 0, 0 },
	{ "filter_weights", T_STR, F(filter_weights), 0, 0 },
	{ "filter_brands", T_DOMAINS, F(filter_brands), 0, 0 },
	{ "filter_standard", T_STR, F(filter_standard), 0, 0 },
	{ "filter_enterprise", T_STR, F(filter_enterprise), 0, 0 },
	{ "filter_strict", T_STR, F(filter_strict), 0, 0 },
	{ "listen_autoconfig", T_LISTEN, F(listen_autoconfig), 0, 0 },
	{ "listen_autoconfig_http", T_LISTEN, F(listen_autoconfig_http), 0, 0 },
	{ "public_imap_host", T_STR, F(public_imap_host), 0, 0 },
	{ "public_pop3_host", T_STR, F(public_pop3_host), 0, 0 },
	{ "public_smtp_host", T_STR, F(public_smtp_host), 0, 0 },
	{ "public_imaps_port", T_UINT, F(public_imaps_port), 0, 65535 },
	{ "public_imap_port", T_UINT, F(public_imap_port), 0, 65535 },
	{ "public_pop3s_port", T_UINT, F(public_pop3s_port), 0, 65535 },
	{ "public_pop3_port", T_UINT, F(public_pop3_port), 0, 65535 },
	{ "public_submissions_port", T_UINT, F(public_submissions_port), 0, 65535 },
	{ "public_submission_port", T_UINT, F(public_submission_port), 0, 65535 },
	{ "public_autoconfig_port", T_UINT, F(public_autoconfig_port), 0, 65535 },
	{ "filter_dnsbl_ip", T_STR, F(filter_dnsbl_ip), 0, 0 },
	{ "filter_dnsbl_domain", T_STR, F(filter_dnsbl_domain), 0, 0 },
	{ "filter_dnsbl_max_lookups", T_UINT, F(filter_dnsbl_max_lookups), 1,
	  FILTER_REP_DNS_LOOKUPS_MAX },
	{ "filter_url_feed", T_STR, F(filter_url_feed), 0, 0 },
	{ "filter_ti_url", T_STR, F(filter_ti_url), 0, 0 },
	{ "filter_ti_key_file", T_STR, F(filter_ti_key_file), 0, 0 },
	{ "filter_ti_ca_file", T_STR, F(filter_ti_ca_file), 0, 0 },
	{ "filter_ti_timeout", T_SECS, F(filter_ti_timeout), 1, 60 },
	{ "filter_ti_cache_ttl", T_SECS, F(filter_ti_cache_ttl), 1, 7 * 86400 },
	{ "filter_ti_cache_size", T_UINT, F(filter_ti_cache_size), 1,
	  FILTER_REP_TI_CACHE_MAX },
	{ "filter_ti_max_urls", T_UINT, F(filter_ti_max_urls), 1,
	  FILTER_REP_TI_URLS_MAX },
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void listen_default(struct cfg_listen_list *l, const char *host,
			   const char *port)
{
	l->n = 1;
	snprintf(l->addr[0].host, sizeof l->addr[0].host, "%s", host);
	snprintf(l->addr[0].port, sizeof l->addr[0].port, "%s", port);
}

void cfg_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	if (gethostname(cfg->hostname, sizeof cfg->hostname) != 0 ||
	    cfg->hostname[0] == '\0')
		snprintf(cfg->hostname, sizeof cfg->hostname, "localhost");
	cfg->hostname[sizeof cfg->hostname - 1] = '\0';
	snprintf(cfg->data_dir, sizeof cfg->data_dir, "./var");
	snprintf(cfg->user, sizeof cfg->user, "nobody");
	cfg->chroot = true;
	cfg->workers = 0;
	cfg->log_level = LOG_INFO;
	cfg->listen_smtp.n = 1;
	snprintf(cfg->listen_smtp.addr[0].host, sizeof cfg->listen_smtp.addr[0].host, "0.0.0.0");
	snprintf(cfg->listen_smtp.addr[0].port, sizeof cfg->listen_smtp.addr[0].port, "2525");
	cfg->listen_submission.n = 1;
	snprintf(cfg->listen_submission.addr[0].host, sizeof cfg->listen_submission.addr[0].host, "0.0.0.0");
	snprintf(cfg->listen_submission.addr[0].port, sizeof cfg->listen_submission.addr[0].port, "2587");
	cfg->listen_submissions.n = 1;
	snprintf(cfg->listen_submissions.addr[0].host, sizeof cfg->listen_submissions.addr[0].host, "0.0.0.0");
	snprintf(cfg->listen_submissions.addr[0].port, sizeof cfg->listen_submissions.addr[0].port, "2465");
	cfg->auth_scram = true;
	cfg->submission_hide_client_ip = true;
	cfg->submission_max_messages_per_hour = SUBMISSION_MAX_MESSAGES_PER_HOUR_DEFAULT;
	cfg->submission_max_recipients_per_message = SUBMISSION_MAX_RCPT_DEFAULT;
	cfg->listen_pop3.n = 1;
	snprintf(cfg->listen_pop3.addr[0].host, sizeof cfg->listen_pop3.addr[0].host, "0.0.0.0");
	snprintf(cfg->listen_pop3.addr[0].port, sizeof cfg->listen_pop3.addr[0].port, "2110");
	cfg->listen_pop3s.n = 1;
	snprintf(cfg->listen_pop3s.addr[0].host, sizeof cfg->listen_pop3s.addr[0].host, "0.0.0.0");
	snprintf(cfg->listen_pop3s.addr[0].port, sizeof cfg->listen_pop3s.addr[0].port, "2995");
	/* RFC 1939 3: the autologout timer is at least 10 minutes */
	cfg->pop3_timeout = 600;
	cfg->pop3_preauth_timeout = POP3_PREAUTH_TIMEOUT_DEFAULT;
	cfg->listen_imap.n = 1;
	snprintf(cfg->listen_imap.addr[0].host, sizeof cfg->listen_imap.addr[0].host, "0.0.0.0");
	snprintf(cfg->listen_imap.addr[0].port, sizeof cfg->listen_imap.addr[0].port, "2143");
	cfg->listen_imaps.n = 1;
	snprintf(cfg->listen_imaps.addr[0].host, sizeof cfg->listen_imaps.addr[0].host, "0.0.0.0");
	snprintf(cfg->listen_imaps.addr[0].port, sizeof cfg->listen_imaps.addr[0].port, "2993");
	/* RFC 9051 5.4: the autologout timer is at least 30 minutes */
	cfg->imap_timeout = 1800;
	cfg->imap_preauth_timeout = IMAP_PREAUTH_TIMEOUT_DEFAULT;
	cfg->imap_idle_timeout = IMAP_IDLE_TIMEOUT_DEFAULT;
	cfg->imap_max_sessions_per_user = IMAP_MAX_SESSIONS_PER_USER_DEFAULT;
	/* the admin API: loopback only unless configured otherwise */
	cfg->listen_admin.n = 1;
	snprintf(cfg->listen_admin.addr[0].host, sizeof cfg->listen_admin.addr[0].host, "127.0.0.1");
	snprintf(cfg->listen_admin.addr[0].port, sizeof cfg->listen_admin.addr[0].port, "2080");
	snprintf(cfg->tls_cert, sizeof cfg->tls_cert, "tls/cert.pem");
	snprintf(cfg->tls_key, sizeof cfg->tls_key, "tls/key.pem");
	cfg->tls_min_version = TLS1_2_VERSION;
	snprintf(cfg->tls_ciphers, sizeof cfg->tls_ciphers,
		 "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES");
	cfg->smtp_max_message_size = SMTP_MAX_MESSAGE_DEFAULT;
	cfg->smtp_max_line = SMTP_MAX_LINE_DEFAULT;
	cfg->smtp_max_data_line = SMTP_MAX_DATA_LINE_DEFAULT;
	cfg->smtp_max_recipients = SMTP_MAX_RCPT_DEFAULT;
	cfg->smtp_max_errors = SMTP_MAX_ERRORS_DEFAULT;
	cfg->smtp_command_timeout = SMTP_COMMAND_TIMEOUT_DEFAULT;
	cfg->smtp_data_timeout = SMTP_DATA_TIMEOUT_DEFAULT;
	cfg->smtp_client_connect_timeout = SMTPC_CONNECT_TIMEOUT_DEFAULT;
	cfg->smtp_client_command_timeout = SMTPC_MAIL_TIMEOUT_DEFAULT;
	cfg->smtp_client_data_init_timeout = SMTPC_DATA_INIT_TIMEOUT_DEFAULT;
	cfg->smtp_client_data_block_timeout = SMTPC_DATA_BLOCK_TIMEOUT_DEFAULT;
	cfg->smtp_client_data_done_timeout = SMTPC_DATA_TERM_TIMEOUT_DEFAULT;
	cfg->max_connections = NET_MAX_CONNECTIONS_DEFAULT;
	cfg->max_connections_per_ip = NET_MAX_CONNECTIONS_PER_IP_DEFAULT;
	cfg->tcp_keepalive_idle = NET_KEEPALIVE_IDLE_DEFAULT;
	cfg->tcp_keepalive_timeout = NET_KEEPALIVE_TIMEOUT_DEFAULT;
	cfg->auth_failure_delay = AUTH_FAIL_DELAY_DEFAULT;
	cfg->login_failure_window = LOGIN_FAILURE_WINDOW_DEFAULT;
	cfg->login_account_max_failures = LOGIN_ACCOUNT_MAX_FAILURES_DEFAULT;
	cfg->login_ip_max_failures = LOGIN_IP_MAX_FAILURES_DEFAULT;
	cfg->login_lockout = LOGIN_LOCKOUT_DEFAULT;
	cfg->login_failure_delay_max = LOGIN_FAILURE_DELAY_MAX_DEFAULT;
	/* Postfix's rhythm, roughly: soon at first, then every 4 hours,
	 * for 5 days (RFC 5321 4.5.4.1: at least 30 minutes apart after
	 * the first, give up after 4-5 days) */
	char why[128];
	if (cfg_parse_retry(QUEUE_RETRY_DEFAULT, &cfg->queue_retry_schedule,
			    why, sizeof why) != 0)
		abort();	/* the built-in default is valid */
	cfg->queue_lifetime = 5 * 86400;
	cfg->queue_delay_warning = 4 * 3600;
	cfg->queue_max_connections = 100;
	cfg->queue_max_connections_per_destination = 20;
	cfg->queue_messages_per_connection = 100;
	cfg->outbound_port = 25;
	cfg->relay_tls = CFG_TLS_STARTTLS;
	cfg->dns_timeout = DNS_TIMEOUT_DEFAULT;
	cfg->default_quota = (uint64_t)1024 * 1024 * 1024;
	snprintf(cfg->demo_domain, sizeof cfg->demo_domain, "example.test");
	snprintf(cfg->demo_user, sizeof cfg->demo_user, "demo");
	cfg->dkim_rotate_days = 90;
	cfg->msgauth_inbound = true;
	cfg->dmarc_enforce = true;
	cfg->arc_seal = true;
	cfg->msgauth_threads = 8;
	cfg->dkim_sign = true;
	cfg->dkim_publish_ahead = 7 * 86400;
	cfg->dkim_retire_after = 7 * 86400;
	cfg->dns_record_ttl = 3600;
	cfg->dmarc_reports = true;
	cfg->dmarc_report_hour = 1;
	cfg->filter = true;
	snprintf(cfg->filter_standard, sizeof cfg->filter_standard, "6 12 20");
	snprintf(cfg->filter_enterprise, sizeof cfg->filter_enterprise,
		 "5 9 15");
	snprintf(cfg->filter_strict, sizeof cfg->filter_strict, "4 7 12");
	/* autoconfig on unprivileged ports for the demo; production sets
	 * 443 and 80 (decision 0041) */
	listen_default(&cfg->listen_autoconfig, "0.0.0.0", "8443");
	listen_default(&cfg->listen_autoconfig_http, "0.0.0.0", "8080");
	cfg->filter_dnsbl_max_lookups = FILTER_REP_DNS_LOOKUPS_DEFAULT;
	cfg->filter_ti_timeout = FILTER_REP_TI_TIMEOUT_DEFAULT;
	cfg->filter_ti_cache_ttl = FILTER_REP_TI_TTL_DEFAULT;
	cfg->filter_ti_cache_size = FILTER_REP_TI_CACHE_DEFAULT;
	cfg->filter_ti_max_urls = FILTER_REP_TI_URLS_DEFAULT;
}

static int parse_uint(const char *s, uint64_t *out, const char **end_out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	*out = v;
	*end_out = end;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, mul = 1;
	if (parse_uint(s, &v, &end) != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1024; end++; break;
	case 'm': case 'M': mul = 1024 * 1024; end++; break;
	case 'g': case 'G': mul = 1024 * 1024 * 1024; end++; break;
	default: return -1;
	}
	if (*end != '\0' || __builtin_mul_overflow(v, mul, out))
		return -1;
	return 0;
}

int cfg_parse_seconds(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, mul = 1;
	if (parse_uint(s, &v, &end) != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 's': end++; break;
	case 'm': mul = 60; end++; break;
	case 'h': mul = 3600; end++; break;
	case 'd': mul = 86400; end++; break;
	default: return -1;
	}
	if (*end != '\0' || __builtin_mul_overflow(v, mul, out))
		return -1;
	return 0;
}

/* "host:port", "[v6]:port" or "port"; several separated by commas. An empty
 * value turns the listener off. */
static int parse_listen(const char *v, struct cfg_listen_list *l,
			char *why, size_t whysz)
{
	memset(l, 0, sizeof *l);
	const char *next = v, *p;
	size_t n;
	while (cfg_list_next(&next, &p, &n)) {
		const char *e = p + n;
		if (memchr(p, '=', n) != NULL) {
			if (cfg_listen_option(p, n, l, why, whysz) != 0)
				return -1;
			continue;
		}
		if (l->n == CFG_MAX_LISTEN) {
			snprintf(why, whysz, "more than %d addresses", CFG_MAX_LISTEN);
			return -1;
		}
		struct cfg_listen *a = &l->addr[l->n];
		const char *host = p, *port;
		size_t hlen;
		if (*p == '[') {
			const char *rb = memchr(p, ']', n);
			if (rb == NULL || rb + 1 >= e || rb[1] != ':') {
				snprintf(why, whysz, "expected [ipv6]:port");
				return -1;
			}
			host = p + 1;
			hlen = (size_t)(rb - host);
			port = rb + 2;
		} else {
			const char *colon = NULL;
			for (const char *c = p; c < e; c++)
				if (*c == ':')
					colon = c;
			if (colon == NULL) {
				host = "0.0.0.0";
				hlen = 7;
				port = p;
			} else {
				hlen = (size_t)(colon - p);
				port = colon + 1;
			}
		}
		size_t plen = (size_t)(e - port);
		if (hlen == 0 || hlen >= sizeof a->host || plen == 0 ||
		    plen >= sizeof a->port) {
			snprintf(why, whysz, "expected host:port");
			return -1;
		}
		memcpy(a->host, host, hlen);
		a->host[hlen] = '\0';
		memcpy(a->port, port, plen);
		a->port[plen] = '\0';
		uint64_t pn;
		const char *pend;
		if (parse_uint(a->port, &pn, &pend) != 0 || *pend != '\0' ||
		    pn == 0 || pn > 65535) {
			snprintf(why, whysz, "bad port '%s'", a->port);
			return -1;
		}
		l->n++;
	}
	if ((l->cert[0] != '\0') != (l->key[0] != '\0')) {
		snprintf(why, whysz, "cert= and key= go together");
		return -1;
	}
	if (l->cert[0] != '\0' && l->n == 0) {
		snprintf(why, whysz, "cert= and key= without an address");
		return -1;
	}
	return 0;
}

static int set_key(struct config *cfg, const struct cfg_key *k, const char *v,
		   char *why, size_t whysz)
{
	void *field = (char *)cfg + k->off;
	uint64_t n;
	switch (k->type) {
	case T_STR:
		if (strlen(v) >= k->size) {
			snprintf(why, whysz, "value longer than %zu bytes", k->size - 1);
			return -1;
		}
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case T_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
			*(bool *)field = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
			*(bool *)field = false;
		else {
			snprintf(why, whysz, "expected yes or no");
			return -1;
		}
		return 0;
	case T_UINT:
	case T_SIZE:
	case T_SECS: {
		int rc;
		if (k->type == T_SIZE)
			rc = cfg_parse_size(v, &n);
		else if (k->type == T_SECS)
			rc = cfg_parse_seconds(v, &n);
		else {
			const char *end;
			rc = parse_uint(v, &n, &end);
			if (rc == 0 && *end != '\0')
				rc = -1;
		}
		if (rc != 0) {
			snprintf(why, whysz, "expected a %s",
				 k->type == T_SIZE ? "size (e.g. 512, 64K, 50M, 2G)" :
				 k->type == T_SECS ? "duration (e.g. 30s, 5m, 1h)" :
				 "non-negative integer");
			return -1;
		}
		if (n < k->min || n > k->max) {
			snprintf(why, whysz, "must be between %llu and %llu",
				 (unsigned long long)k->min, (unsigned long long)k->max);
			return -1;
		}
		if (k->size == sizeof(uint64_t))
			*(uint64_t *)field = n;
		else if (k->size == sizeof(unsigned))
			*(unsigned *)field = (unsigned)n;
		else
			return snprintf(why, whysz, "internal: bad field size"), -1;
		return 0;
	}
	case T_LISTEN:
		return parse_listen(v, field, why, whysz);
	case T_SNI:
		return cfg_parse_sni(v, field, why, whysz);
	case T_LEVEL:
		for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++)
			if (!strcmp(v, level_names[i])) {
				*(int *)field = (int)i;
				return 0;
			}
		snprintf(why, whysz, "expected error, warn, info or debug");
		return -1;
	case T_IPRANGES:
		return cfg_parse_ip_ranges(v, field, why, whysz);
	case T_RETRY:
		return cfg_parse_retry(v, field, why, whysz);
	case T_NEXTHOP:
		return cfg_parse_relay(v, field, why, whysz);
	case T_TRANSPORTS:
		return cfg_parse_transports(v, field, why, whysz);
	case T_DOMAINS:
		return cfg_parse_domains(v, field, why, whysz);
	case T_TLSMODE:
		return cfg_parse_tls_mode(v, field, why, whysz);
	case T_TLSVER:
		if (!strcmp(v, "TLSv1.2"))
			*(int *)field = TLS1_2_VERSION;
		else if (!strcmp(v, "TLSv1.3"))
			*(int *)field = TLS1_3_VERSION;
		else {
			snprintf(why, whysz, "expected TLSv1.2 or TLSv1.3");
			return -1;
		}
		return 0;
	}
	return -1;
}

static const struct cfg_key *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* Parse "key = value" in line (modified in place). 0 ok or blank. */
static int apply_line(struct config *cfg, char *line, char *why, size_t whysz)
{
	char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	char *eq = strchr(p, '=');
	if (eq == NULL) {
		snprintf(why, whysz, "expected 'key = value'");
		return -1;
	}
	char *kend = eq;
	while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t'))
		kend--;
	*kend = '\0';
	char *v = eq + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	/* strip a trailing comment that follows whitespace, then trailing space */
	for (char *c = v; *c; c++)
		if (*c == '#' && c > v && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	size_t vl = strlen(v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		v[--vl] = '\0';
	const struct cfg_key *k = find_key(p);
	if (k == NULL) {
		snprintf(why, whysz, "unknown key '%.64s'", p);
		return -1;
	}
	char inner[384];
	if (set_key(cfg, k, v, inner, sizeof inner) != 0) {
		snprintf(why, whysz, "bad value for %s: %s", k->name, inner);
		return -1;
	}
	return 0;
}

int cfg_load_file(struct config *cfg, const char *path, bool optional,
		  struct err *err)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		return err_set(err, ERR_CONFIG, 0, NULL, "%s: %s", path, strerror(errno));
	}
	char line[CFG_LINE_MAX + 3];	/* text, CR, LF, NUL */
	unsigned lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		size_t n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f) || n > CFG_LINE_MAX) {
			rc = err_set(err, ERR_CONFIG, 0, NULL,
				     "%s:%u: line longer than %d bytes", path,
				     lineno, CFG_LINE_MAX);
			break;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n > CFG_LINE_MAX) {
			rc = err_set(err, ERR_CONFIG, 0, NULL,
				     "%s:%u: line longer than %d bytes", path,
				     lineno, CFG_LINE_MAX);
			break;
		}
		char why[448];
		if (apply_line(cfg, line, why, sizeof why) != 0) {
			rc = err_set(err, ERR_CONFIG, 0, NULL, "%s:%u: %s", path,
				     lineno, why);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = err_set(err, ERR_CONFIG, 0, NULL, "%s: read error", path);
	fclose(f);
	return rc;
}

int cfg_set(struct config *cfg, const char *origin, const char *kv,
	    struct err *err)
{
	char line[CFG_LINE_MAX + 1], why[448];
	if (strlen(kv) > CFG_LINE_MAX)
		return err_set(err, ERR_CONFIG, 0, NULL, "%s: option too long", origin);
	memcpy(line, kv, strlen(kv) + 1);
	if (strchr(line, '=') == NULL)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "%s: expected key=value, got '%.64s'", origin, kv);
	if (apply_line(cfg, line, why, sizeof why) != 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "%s: %s", origin, why);
	return 0;
}

/* Two listeners on one port would both bind it (SO_REUSEPORT spreads a
 * port over the workers) and split its connections between two
 * protocols: refuse the configuration instead. */
struct listen_seen {
	struct {
		const char *key;
		const struct cfg_listen *a;
	} e[CFG_MAX_LISTEN * 16];
	size_t n;
	char why[512];
};

static void listen_dup(void *arg, const char *key, const struct cfg_listen_list *l)
{
	struct listen_seen *v = arg;
	for (size_t i = 0; i < l->n && v->why[0] == '\0'; i++) {
		const struct cfg_listen *a = &l->addr[i];
		for (size_t k = 0; k < v->n; k++) {
			const struct cfg_listen *b = v->e[k].a;
			bool wild = !strcmp(a->host, "0.0.0.0") || !strcmp(b->host, "0.0.0.0") ||
				    !strcmp(a->host, "::") || !strcmp(b->host, "::");
			if (!strcmp(a->port, b->port) && (wild || !strcmp(a->host, b->host))) {
				snprintf(v->why, sizeof v->why, "%s and %s both listen on "
					 "port %s (%s, %s)", v->e[k].key, key, a->port,
					 b->host, a->host);
				return;
			}
		}
		if (v->n < sizeof v->e / sizeof *v->e)
			v->e[v->n++] = (__typeof__(v->e[0])){ key, a };
	}
}

int cfg_finish(struct config *cfg, struct err *err)
{
	struct listen_seen *seen = calloc(1, sizeof *seen);
	if (seen != NULL) {
		cfg_each_listen(cfg, listen_dup, seen);
		if (seen->why[0] != '\0') {
			err_set(err, ERR_CONFIG, 0, NULL, "%s", seen->why);
			free(seen);
			return -1;
		}
		free(seen);
	}
	if (cfg->listen_smtp.n + cfg->listen_smtps.n + cfg->listen_submission.n +
	    cfg->listen_submissions.n + cfg->listen_pop3.n +
	    cfg->listen_pop3s.n + cfg->listen_imap.n + cfg->listen_imaps.n == 0)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "no listener: set listen_smtp, listen_smtps, listen_submission, listen_submissions, listen_pop3, listen_pop3s, listen_imap or listen_imaps");
	if (cfg->data_dir[0] == '\0')
		return err_set(err, ERR_CONFIG, 0, NULL, "data_dir must not be empty");
	if (cfg->hostname[0] == '\0')
		return err_set(err, ERR_CONFIG, 0, NULL, "hostname must not be empty");
	for (const char *c = cfg->hostname; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
			return err_set(err, ERR_CONFIG, 0, NULL,
				       "hostname '%.64s' may only hold letters, digits, '.' and '-'",
				       cfg->hostname);
	if (cfg_public_check(cfg, err) != 0)
		return -1;
	if (cfg->demo_domain[0] != '\0' && cfg->demo_user[0] == '\0')
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "demo_domain is set but demo_user is empty");
	unsigned char ip[16];
	if (cfg->public_ipv4[0] != '\0' &&
	    inet_pton(AF_INET, cfg->public_ipv4, ip) != 1)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "public_ipv4 '%.64s' is not an IPv4 address",
			       cfg->public_ipv4);
	if (cfg->public_ipv6[0] != '\0' &&
	    inet_pton(AF_INET6, cfg->public_ipv6, ip) != 1)
		return err_set(err, ERR_CONFIG, 0, NULL,
			       "public_ipv6 '%.64s' is not an IPv6 address",
			       cfg->public_ipv6);
	return 0;
}

void cfg_dump(const struct config *cfg, int fd)
{
	FILE *f = fdopen(dup(fd), "w");
	if (f == NULL)
		return;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const struct cfg_key *k = &keys[i];
		const void *field = (const char *)cfg + k->off;
		fprintf(f, "%s = ", k->name);
		switch (k->type) {
		case T_STR: fprintf(f, "%s", (const char *)field); break;
		case T_BOOL: fprintf(f, "%s", *(const bool *)field ? "yes" : "no"); break;
		case T_UINT: case T_SIZE: case T_SECS:
			if (k->size == sizeof(uint64_t))
				fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)field);
			else
				fprintf(f, "%u", *(const unsigned *)field);
			break;
		case T_LISTEN: {
			const struct cfg_listen_list *l = field;
			for (size_t j = 0; j < l->n; j++)
				fprintf(f, j ? ", %s%s%s:%s" : "%s%s%s:%s",
					strchr(l->addr[j].host, ':') ? "[" : "",
					l->addr[j].host,
					strchr(l->addr[j].host, ':') ? "]" : "",
					l->addr[j].port);
			if (l->cert[0] != '\0')
				fprintf(f, " cert=%s key=%s", l->cert, l->key);
			break;
		}
		case T_LEVEL: fprintf(f, "%s", level_names[*(const int *)field]); break;
		case T_TLSVER:
			fprintf(f, "%s", *(const int *)field == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2");
			break;
		case T_IPRANGES: {
			const struct cfg_ip_ranges *l = field;
			for (size_t j = 0; j < l->n; j++) {
				char r[INET6_ADDRSTRLEN + 32];
				cfg_format_ip_range(&l->r[j], r, sizeof r);
				fprintf(f, j ? ", %s" : "%s", r);
			}
			break;
		}
		case T_SNI: {
			/* n names of up to ~1.3 KB each */
			static char text[CFG_MAX_SNI * 1300];
			cfg_format_sni(field, text, sizeof text);
			fprintf(f, "%s", text);
			break;
		}
		case T_RETRY: case T_NEXTHOP: case T_TRANSPORTS: case T_DOMAINS: {
			static char text[CFG_MAX_TRANSPORTS * 600];
			if (k->type == T_RETRY)
				cfg_format_retry(field, text, sizeof text);
			else if (k->type == T_NEXTHOP)
				cfg_format_nexthop(field, text, sizeof text);
			else if (k->type == T_TRANSPORTS)
				cfg_format_transports(field, text, sizeof text);
			else
				cfg_format_domains(field, text, sizeof text);
			fprintf(f, "%s", text);
			break;
		}
		case T_TLSMODE:
			fprintf(f, "%s", cfg_tls_mode_name(*(const enum cfg_tls_mode *)field));
			break;
		}
		fputc('\n', f);
	}
	fclose(f);
}

void cfg_each_listen(const struct config *cfg,
		     void (*fn)(void *arg, const char *key,
				const struct cfg_listen_list *l),
		     void *arg)
{
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (keys[i].type == T_LISTEN)
			fn(arg, keys[i].name,
			   (const void *)((const char *)cfg + keys[i].off));
}
