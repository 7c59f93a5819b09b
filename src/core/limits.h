/* limits.h - every hard limit in petrel, one place, each with its reason
 * (after SQLite's sqliteLimit.h). Configurable limits have their default
 * here and their key in docs/config.md; the rest are compile-time bounds
 * on what a peer can make us hold. */
#ifndef PETREL_LIMITS_H
#define PETREL_LIMITS_H

/* RFC 5321 4.5.3.1.4 allows 512 octets per command line, and each service
 * extension may add to it (SIZE=, BODY=, SMTPUTF8 addresses). Postfix uses
 * 2048; so do we. Configurable: smtp_max_line. */
#define SMTP_MAX_LINE_DEFAULT 2048
#define SMTP_MAX_LINE_MIN 512
#define SMTP_MAX_LINE_MAX 65536

/* RFC 5321 4.5.3.1.6 says 1000 octets per text line, but real mail breaks
 * it (generated HTML); we accept up to 64 KiB so as not to lose mail and
 * still bound what one line can be. Configurable: smtp_max_data_line. */
#define SMTP_MAX_DATA_LINE_DEFAULT 65536

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets. */
#define SMTP_PATH_MAX 256
/* RFC 5321 4.5.3.1.1 and 4.5.3.1.2: local part 64, domain 255 octets. */
#define SMTP_LOCAL_MAX 64
#define SMTP_DOMAIN_MAX 255

/* RFC 5321 4.5.3.1.8: servers must take at least 100 recipients. */
#define SMTP_MAX_RCPT_DEFAULT 100

/* Hosted domain mail commonly takes 50 MiB messages. */
#define SMTP_MAX_MESSAGE_DEFAULT (50u * 1024 * 1024)

/* Commands that failed (syntax, sequence, unknown recipient) before the
 * session is told 421 and closed: stops address harvesting and junk. */
#define SMTP_MAX_ERRORS_DEFAULT 20

/* RFC 5321 4.5.3.2: 5 minutes for a command, 10 for the end of DATA. */
#define SMTP_COMMAND_TIMEOUT_DEFAULT 300
#define SMTP_DATA_TIMEOUT_DEFAULT 600

/* Submission (RFC 6409): what one mailbox may send, so that a stolen
 * password or a runaway script sends hundreds, not millions, of mails
 * before someone notices. Gmail's consumer limit is 500 a day; an
 * employee rarely sends 500 an hour. Configurable:
 * submission_max_messages_per_hour, submission_max_recipients_per_message. */
#define SUBMISSION_MAX_MESSAGES_PER_HOUR_DEFAULT 500
#define SUBMISSION_MAX_RCPT_DEFAULT 100
/* Mailboxes tracked by the in-memory hourly counters; when full, entries
 * whose hour has passed are dropped, then the oldest. */
#define SUBMISSION_RATE_SLOTS 65536

/* RFC 2449 4: 255 octets per POP3 command line; SASL responses (RFC 5034
 * 4) are longer, so lines may take this much. */
#define POP3_MAX_LINE 2048
/* Bad POP3 commands before the session is closed. */
#define POP3_MAX_ERRORS 20

/* Failed logins in one POP3 or IMAP session before it is closed; each
 * failure is answered after AUTH_FAIL_DELAY_DEFAULT seconds, to slow
 * password guessing (Dovecot's auth_failure_delay is 2 s). Configurable:
 * auth_failure_delay. */
#define AUTH_MAX_FAILURES 3
#define AUTH_FAIL_DELAY_DEFAULT 1

/* Login protection across sessions and protocols (src/auth/guard.h,
 * decision 0025): 10 failures of one account or 30 from one address
 * within 15 minutes lock it for 15 minutes; the failure delay doubles per
 * recent failure up to 15 s. Configurable: login_failure_window,
 * login_account_max_failures, login_ip_max_failures, login_lockout,
 * login_failure_delay_max. */
#define LOGIN_FAILURE_WINDOW_DEFAULT (15 * 60)
#define LOGIN_ACCOUNT_MAX_FAILURES_DEFAULT 10
#define LOGIN_IP_MAX_FAILURES_DEFAULT 30
#define LOGIN_LOCKOUT_DEFAULT (15 * 60)
#define LOGIN_FAILURE_DELAY_MAX_DEFAULT 15

/* Seconds a connection may stay idle before it has logged in: a client
 * logs in right after the greeting, and idle unauthenticated connections
 * only hold slots (Dovecot's login processes allow 3 minutes). RFC 1939 3
 * and RFC 9051 5.4 set their minimum autologout times (10 and 30 minutes)
 * for sessions; pop3_timeout and imap_timeout keep them once logged in.
 * Configurable: imap_preauth_timeout, pop3_preauth_timeout. */
#define IMAP_PREAUTH_TIMEOUT_DEFAULT 60
#define POP3_PREAUTH_TIMEOUT_DEFAULT 60

/* RFC 9051 6.3.13: clients re-issue IDLE at least every 29 minutes, so a
 * server may end an IDLE that lasted longer than 30. Configurable:
 * imap_idle_timeout. */
#define IMAP_IDLE_TIMEOUT_DEFAULT 1800

/* Concurrent authenticated IMAP sessions of one user, over all addresses
 * (Dovecot allows 10 per user and client address; a desktop client keeps
 * up to 5 per account, and people have several devices). Past it LOGIN
 * gets NO [LIMIT] (RFC 5530). POP3 needs no such cap: its maildrop lock
 * (RFC 1939 8) already allows one session per mailbox. Configurable:
 * imap_max_sessions_per_user. */
#define IMAP_MAX_SESSIONS_PER_USER_DEFAULT 50

/* Recent successful logins remembered so that mail clients that log in
 * every few minutes do not pay Argon2id each time (Dovecot's auth_cache);
 * direct-mapped slots, each valid this many seconds. */
#define AUTH_CACHE_SLOTS 4096
#define AUTH_CACHE_TTL 3600

/* Login audit entries waiting for the store's audit thread; past this
 * (a password-guessing flood faster than the disk) they are counted and
 * dropped rather than hold memory or a login (decision 0021). */
#define STORE_AUDIT_QUEUE_MAX 8192
/* Entries the audit thread writes in one transaction (one sync). */
#define STORE_AUDIT_BATCH_MAX 512
/* Addresses remembered per mailbox to flag a login from a new one
 * (audit kind login.new_ip); the least recently seen go first. */
#define STORE_KNOWN_IPS_MAX 50
/* TOTP (RFC 6238): 30 s steps, 6 digits, and codes of one step before
 * or after the current one accepted for clock skew (RFC 6238 5.2). */
#define AUTH_TOTP_STEP 30
#define AUTH_TOTP_DIGITS 6
#define AUTH_TOTP_WINDOW 1

/* IMAP: commands answered BAD before the session is closed (Dovecot: 20). */
#define IMAP_MAX_BAD 20
/* IMAP: SEARCH/SORT RETURN (UPDATE) contexts one session keeps (RFC 5267
 * 4.3.1 asks for at least one); each holds its result and is matched
 * again on every change, so a few suffice (Dovecot keeps 10). */
#define IMAP_MAX_UPDATE_CONTEXTS 8
/* IMAP: bytes of one untagged response line built before it is written
 * out (message bodies go out as references, not through it). */
#define IMAP_OUT_MAX (16u * 1024 * 1024)
/* IMAP MULTIAPPEND (RFC 3502): messages in one APPEND, and bytes of the
 * literals of one APPEND streamed to us and held until it commits (each
 * is also held to APPENDLIMIT; one message may always be as large as
 * APPENDLIMIT); past either the command gets NO [LIMIT]. */
#define IMAP_MULTIAPPEND_MAX 100
#define IMAP_APPEND_STREAM_MAX (64u * 1024 * 1024)
/* IMAP APPEND: bytes of parse cache made for one command's messages;
 * past it the rest are stored without one (it is made on first FETCH). */
#define IMAP_APPEND_META_MAX (4u * 1024 * 1024)
/* IMAP: bytes of message text one SEARCH BODY/TEXT looks at per message. */
#define IMAP_SEARCH_TEXT_MAX (4u * 1024 * 1024)

/* Concurrent connections across all listeners; past this new ones get
 * 421 and are closed. Each idle session costs a few KiB. */
#define NET_MAX_CONNECTIONS_DEFAULT 10000

/* Concurrent connections from one client address, so that one host cannot
 * take every slot. 20 is ample for one user's devices or a sending MTA
 * (Postfix opens at most 20 to one destination by default); a gateway or
 * NAT in front of many users gets more with max_connections_per_ip_ranges.
 * Loopback is exempt unless limit_loopback is set, as Postfix exempts
 * $mynetworks. */
#define NET_MAX_CONNECTIONS_PER_IP_DEFAULT 20

/* TCP keep-alive on accepted connections: a peer that vanished without a
 * FIN or RST (power cut, NAT entry dropped) would otherwise hold its slot,
 * and count against its address's cap, until the protocol's idle timer
 * (up to 30 minutes for IMAP IDLE). After NET_KEEPALIVE_IDLE_DEFAULT
 * seconds of silence the kernel probes; NET_KEEPALIVE_PROBES unanswered
 * probes spread over tcp_keepalive_timeout drop the connection. Linux caps
 * TCP_KEEPIDLE and TCP_KEEPINTVL at 32767 s and TCP_KEEPCNT at 127. */
#define NET_KEEPALIVE_IDLE_DEFAULT 30
#define NET_KEEPALIVE_TIMEOUT_DEFAULT 60
#define NET_KEEPALIVE_PROBES 6
#define NET_KEEPALIVE_IDLE_MAX 32767
#define NET_KEEPALIVE_TIMEOUT_MAX 86400

/* Output queued to a slow reader before we stop reading its commands
 * (pipelining clients that never read replies). */
#define NET_MAX_OUTPUT 262144

/* COMPRESS=DEFLATE (RFC 4978, src/net/compress.c). Our deflate stream
 * uses a 2 KiB window and memLevel 4: about 22 KiB per compressed
 * connection instead of zlib's default 256+ KiB (window 15, memLevel 8),
 * for a few points of ratio on IMAP text. Inflate must take what clients
 * send, a 32 KiB window (zlib allocates it on the first data).
 * docs/decisions/0010-compress-deflate.md. */
#define NET_DEFLATE_WINDOW_BITS 11
#define NET_DEFLATE_MEM_LEVEL 4
#define NET_DEFLATE_LEVEL 6

/* Group commit: most messages and bytes committed with one fsync. */
#define STORE_GROUP_MAX_MSGS 1024
#define STORE_GROUP_MAX_BYTES (64u * 1024 * 1024)

/* Recipients (records' metadata entries) in one group, on top of
 * STORE_GROUP_MAX_MSGS and _BYTES: each costs STORE_REC_RCPT_SIZE bytes of
 * scratch, and a group always takes at least one delivery however many it
 * has. */
#define STORE_GROUP_MAX_RCPTS 65536

/* A blob segment file is closed for appends once it passes this size. */
#define STORE_SEGMENT_MAX (256u * 1024 * 1024)

/* MIME parsing (src/mime). */
/* Parts nested deeper than this become leaves (the issue asks that
 * 1,000-deep nesting be capped; Dovecot's default is 100). */
#define MIME_MAX_DEPTH_DEFAULT 100
/* Hard ceiling on max_depth whatever the caller asks: bounds the stack of
 * active boundaries and the recursion of the IMAP builders. */
#define MIME_MAX_DEPTH_CEILING 1000
/* Parts per message; past it the rest of the message is content of the
 * part being read (Dovecot caps at 10,000 too). */
#define MIME_MAX_PARTS_DEFAULT 10000
/* Header fields interpreted per part, and bytes of one header block that
 * are interpreted; the block is still found to its end past either. */
#define MIME_MAX_HEADERS_DEFAULT 1000
#define MIME_MAX_HEADER_SIZE_DEFAULT (1024u * 1024)
/* Parameters kept per Content-Type / Content-Disposition field. */
#define MIME_MAX_PARAMS 128
/* The search fields a parse cache record keeps (mime_cache.c): a message
 * with more (a From: of 500 addresses) is searched by reading it. */
#define MIME_CACHE_HEADERS_MAX (16u * 1024)

/* The outbound queue's default retry schedule (queue_retry_schedule). */
#define QUEUE_RETRY_DEFAULT "5m 10m 20m 40m 1h 2h 4h"

/* Configuration file: longest line and value. */
#define CFG_LINE_MAX 4096

/* Delivery status notifications (src/queue/dsn.c). Lines are folded
 * at 78 columns where there is a space and cut before RFC 5322's 998. */
#define DSN_LINE_MAX 998
/* One remote reply as quoted in a report: Postfix keeps about 4 KB too. */
#define DSN_DIAG_MAX 4096
/* Addresses and host names as written into a report. */
#define DSN_ADDR_MAX 512
/* RET=FULL returns the whole message up to this size, headers beyond
 * (Postfix's bounce_size_limit is 50,000). */
#define DSN_FULL_MAX (128u * 1024)
/* The returned header section, cut at a line end past this. */
#define DSN_HEADERS_MAX (64u * 1024)
/* Outbound DNS (src/dns). */
/* Longest domain name in text, without the trailing dot (RFC 1035 2.3.4:
 * 255 octets on the wire, so at most 253 characters). */
#define DNS_NAME_MAX 253
/* MX targets kept per domain, lowest preferences first: bounds the A/AAAA
 * queries one route starts (2 per target) and the route's size. */
#define DNS_MAX_MX 32
/* MX records read from one answer before choosing the DNS_MAX_MX best;
 * the rest of an oversized answer is ignored. */
#define DNS_MAX_MX_SEEN 1024
/* Addresses kept per host, split evenly between A and AAAA so one
 * family cannot crowd out the other. */
#define DNS_MAX_ADDRS_PER_HOST 16
/* Seconds before an unanswered query reports a temporary failure
 * (dns_timeout). */
#define DNS_TIMEOUT_DEFAULT 30
#define DNS_TIMEOUT_MAX 3600
/* SMTP client (src/smtp/smtpc*.c): what a remote server's replies may
 * make us hold. RFC 5321 4.5.3.1.5 allows 512 octets per reply line;
 * like Postfix (line_length_limit) we take 2048. A reply of more lines or
 * bytes (a server sending "250-" forever) drops the connection. EHLO
 * replies are about 10-20 lines; long banners a few dozen. */
#define SMTPC_LINE_MAX 2048
#define SMTPC_REPLY_LINES_MAX 100
#define SMTPC_REPLY_BYTES_MAX 32768
/* Bytes of stuffed message text queued ahead of the socket while sending
 * DATA: the message is encoded as the socket drains, not all at once. */
#define SMTPC_DATA_CHUNK 65536

/* SMTP client timeouts in seconds, RFC 5321 4.5.3.2: greeting 5 min,
 * MAIL 5, RCPT 5, DATA 2, each data block 3, end of data 10. EHLO and the
 * rest take the greeting's; connect (and a TLS handshake) 30 s, as
 * Postfix's smtp_connect_timeout. */
#define SMTPC_CONNECT_TIMEOUT_DEFAULT 30
#define SMTPC_GREETING_TIMEOUT_DEFAULT 300
#define SMTPC_HELO_TIMEOUT_DEFAULT 300
#define SMTPC_MAIL_TIMEOUT_DEFAULT 300
#define SMTPC_RCPT_TIMEOUT_DEFAULT 300
#define SMTPC_DATA_INIT_TIMEOUT_DEFAULT 120
#define SMTPC_DATA_BLOCK_TIMEOUT_DEFAULT 180
#define SMTPC_DATA_TERM_TIMEOUT_DEFAULT 600
/* After QUIT we wait this long for the 221 before closing anyway. */
#define SMTPC_QUIT_TIMEOUT 5

/* The admin API (src/http/). Request line plus headers: a bearer token
 * and a few standard headers fit in 2 KiB; 16 KiB leaves room for
 * proxies' additions and still bounds what a stranger makes us hold. */
#define HTTP_MAX_HEADERS_SIZE 16384
/* The largest JSON request body an endpoint takes (413 past it). */
#define HTTP_MAX_JSON_BODY (1024 * 1024)
/* What libevent reads at most before any handler runs (a Content-Length
 * beyond it gets libevent's own 413 and a close); bodies between the
 * endpoint's limit and this get our JSON 413. The largest endpoint limit
 * (CSV import, later) sets it. */
#define HTTP_MAX_BODY_BACKSTOP (4 * 1024 * 1024)
/* Seconds to read a request or write a reply, and keep-alive idle time. */
#define HTTP_TIMEOUT 30
/* Open admin connections (scripts, the console); past it new ones wait in
 * the kernel's backlog. */
#define HTTP_MAX_CONNECTIONS 64
/* The request target (path and query) and its parts. */
#define HTTP_MAX_TARGET 2048
#define HTTP_MAX_SEGMENTS 16
#define HTTP_MAX_QUERY_PARAMS 16
/* Nesting of a JSON request body (jansson itself stops at 2048). */
#define HTTP_JSON_MAX_DEPTH 16
/* List pages: ?limit= default and maximum. */
#define HTTP_LIST_LIMIT_DEFAULT 100
#define HTTP_LIST_LIMIT_MAX 1000
/* Failed bearer-token attempts per client address in a window of
 * HTTP_AUTH_FAIL_WINDOW seconds before its requests get 429 until the
 * window ends: a token is 256 random bits, so this only stops a client
 * from hammering the store and the log. Addresses tracked: when full,
 * the oldest window is dropped. */
#define HTTP_AUTH_FAIL_MAX 10
#define HTTP_AUTH_FAIL_WINDOW 60
#define HTTP_AUTH_FAIL_SLOTS 1024
/* Seconds between writes of a token's last_used/last_ip (every request
 * would be a synchronous write). */
#define HTTP_TOKEN_TOUCH_INTERVAL 60
/* Session tokens of mailbox users (POST /api/v1/login): kept in memory
 * by the admin thread, at most this many at once (the oldest is dropped
 * past it), each valid this many seconds (12 hours: a working day). */
#define HTTP_SESSION_MAX 1024
#define HTTP_SESSION_TTL (12 * 3600)

/* DSN values the SMTP client passes on (RFC 3461 4.2, 4.4). */
#define SMTPC_ORCPT_MAX 500
#define SMTPC_ENVID_MAX 100
/* Tenants model (decision 0022). A plan's mailbox limit lies between
 * these; a new domain gets the largest. */
#define STORE_PLAN_MAILBOXES_MIN 20
#define STORE_PLAN_MAILBOXES_MAX 10000
/* Recipient expansion (aliases, groups, forwarding, catch-all): how many
 * hops deep and how many addresses one RCPT may reach. A group larger
 * than this is refused rather than delivered in part; a loop stops at
 * the first address seen again. */
#define STORE_EXPAND_DEPTH 8
#define STORE_EXPAND_MAX 1000
/* Mailboxes and external addresses one SMTP transaction may reach after
 * expansion (the store's log record and queue bounds are far above). */
#define SMTP_EXPANDED_MAX 10000
/* Targets of one alias or members of one group (also the bound of a
 * listing). */
#define STORE_ALIAS_TARGETS_MAX STORE_EXPAND_MAX

/* ---- bulk import of mailboxes (src/admin/, decision 0024) -------------- */
/* Octets of a CSV file the API takes (413 past it); below evhttp's
 * HTTP_MAX_BODY_BACKSTOP so that our JSON 413 is what clients see.
 * 10,000 rows with pre-hashed passwords are about 1.5 MB. */
#define IMPORT_MAX_BYTES (3 * 1024 * 1024)
/* Seconds a request's connection may wait for its handler: a bulk
 * import of 10,000 rows hashes for minutes on a small machine, and
 * evhttp's HTTP_TIMEOUT timers would otherwise expire meanwhile and drop
 * the answer. */
#define HTTP_HANDLER_TIMEOUT 3600
/* Rows of one import: a plan's largest mailbox limit. */
#define IMPORT_MAX_ROWS STORE_PLAN_MAILBOXES_MAX
/* Octets of one CSV record, quotes and line breaks included. */
#define IMPORT_MAX_RECORD 4096
/* Fields of one record (6 known columns and room for mistakes). */
#define IMPORT_MAX_FIELDS 16
/* Groups one row may join, and distinct groups one file may name. */
#define IMPORT_MAX_ROW_GROUPS 16
#define IMPORT_MAX_GROUPS 64
/* Octets of a display name. */
#define IMPORT_DISPLAY_NAME_MAX 255

/* ---- DKIM keys and the DNS doctor (decision 0029) ---- */
/* Keys of one domain that rotation and listing look at; at 4 rotations
 * a year of two keys each, 25 years. Older ones past it are ignored. */
#define DKIM_KEYS_PER_DOMAIN_MAX 200
/* DNS lookups one SPF record check may count, includes and redirects
 * followed (RFC 7208 4.6.4 allows 10; counting goes on past that to
 * report the real number, up to this bound on work). */
#define DOCTOR_SPF_LOOKUPS_MAX 40
/* Depth of include/redirect nesting the doctor follows. */
#define DOCTOR_SPF_DEPTH_MAX 10
/* Findings of one dns check (each a line of text). */
#define DOCTOR_FINDINGS_MAX 128
/* Records `dns records` suggests for one domain. */
#define DOCTOR_RECORDS_MAX 64
/* ---- DMARC (src/msgauth/dmarc*.c, decision 0028) ----------------------- */
/* Octets of a domain name (RFC 1035 2.3.4, text form without the root). */
#define DMARC_DOMAIN_MAX 253
/* Octets of one DMARC TXT record; a longer one is refused (real records
 * are under 300 bytes; this leaves room for a few long report URIs). */
#define DMARC_RECORD_MAX 2048
/* URIs kept from one rua= or ruf= list (RFC 7489 6.2: receivers MUST
 * support at least two); the rest are dropped with a complaint. */
#define DMARC_URIS_MAX 8
/* Octets of one reporting URI. */
#define DMARC_URI_MAX 256
/* Aggregate reports (RFC 7489 7.2, appendix C). Octets of a report as
 * received (gzip or zip included), and of the XML after decompression:
 * the largest sample seen is 0.9 MB for 2,300 rows. */
#define DMARC_REPORT_IN_MAX (10 * 1024 * 1024)
#define DMARC_REPORT_XML_MAX (64 * 1024 * 1024)
/* Octets of a report e-mail (the attachment in base64 is 4/3 its size). */
#define DMARC_REPORT_MAIL_MAX (DMARC_REPORT_IN_MAX / 3 * 4 + 1024 * 1024)
/* Element nesting; the schema is 5 deep. */
#define DMARC_REPORT_DEPTH 16
/* <record> elements of one report (a row takes about 700 bytes here, so
 * 35 MB at most; the largest sample has 2,300). */
#define DMARC_REPORT_RECORDS_MAX 50000
/* Octets of one element's text (longest are human_result and comments). */
#define DMARC_REPORT_TEXT_MAX 1024
/* dkim and spf results kept per record; more are counted, not kept. */
#define DMARC_REPORT_AUTH_MAX 8
/* ---- DMARC aggregate reporting (src/msgauth/dmarc_agg*.c, decision 0032) */
/* Distinct report rows held in memory between two flushes to the store
 * (one a minute): about 2 KB each, so 8 MB at most. Past it, rows are
 * counted as dropped and logged at the flush. */
#define DMARC_AGG_ROWS_MAX 4096
/* Seconds between two flushes of the rows to the store. */
#define DMARC_AGG_FLUSH_SECS 60
/* Rows of one policy domain's report for one day, and reports (policy
 * domains) sent in one run; the rest wait for the next run. */
#define DMARC_SEND_ROWS_MAX 20000
#define DMARC_SEND_REPORTS_MAX 1000
/* Seconds petrelctl dmarc send waits for petreld's answer. */
#define DMARC_SEND_WAIT_SECS 120
/* ---- SPF (src/msgauth/spf*.c, RFC 7208, decision 0026) --------------- */
/* Terms that query DNS (include a mx ptr exists redirect) per check
 * (RFC 7208 4.6.4: "MUST limit ... to 10"); the 11th is a permerror. */
#define SPF_LOOKUPS_MAX 10
/* Lookups answering no records (NXDOMAIN or NODATA) per check: 4.6.4
 * recommends two; the third is a permerror. */
#define SPF_VOID_MAX 2
/* MX names one mx term may look up, PTR names one ptr term (or %{p})
 * may validate (4.6.4). Looking at an 11th MX name is a permerror; PTR
 * names past 10 are ignored, as the RFC says. */
#define SPF_MX_NAMES_MAX 10
#define SPF_PTR_NAMES_MAX 10
/* Octets one macro expansion may produce before it is cut to a domain
 * name (7.3: the left labels go until it fits 253) or an explanation;
 * a record crafted to expand further is a permerror. */
#define SPF_EXPAND_MAX 4096
/* The explanation handed back (exp= text after expansion): an SMTP
 * reply line holds 512 octets (RFC 5321 4.5.3.1.5); we keep more and let
 * the server cut. */
#define SPF_EXPLANATION_MAX 1000
/* <sender> (local-part@domain) the check accepts; a longer MAIL FROM
 * than SMTP allows (RFC 5321 4.5.3.1.3: 256 for the whole path) is
 * answered "none" without asking DNS. */
#define SPF_SENDER_MAX 320
/* Octets of the deciding term copied into the result, and of the reason. */
#define SPF_TERM_SHOW_MAX 127
#define SPF_REASON_MAX 300
/* A Received-SPF header field at most (all parts at their maxima). */
#define SPF_HEADER_MAX 2048
/* ---- DKIM (src/msgauth/dkim*.c, decision 0027) ------------------------ */
/* Signatures checked per message; the rest are counted, not verified
 * (each costs a DNS query and a public-key operation a sender chooses). */
#define DKIM_MAX_SIGS 8
/* Header fields of a message DKIM looks at; past it the message is
 * refused as malformed rather than partly read. */
#define DKIM_MAX_HEADERS 1000
/* Octets of one header field (folded lines included) and of the whole
 * header section. */
#define DKIM_MAX_FIELD (64u * 1024)
#define DKIM_MAX_HEADER_SECTION (1024u * 1024)
/* Names in one h= list (RFC 6376 gives no bound; 64 covers heavy
 * over-signing). */
#define DKIM_MAX_SIGNED_HEADERS 64
/* Decoded signature (b=) and key (p=) sizes: RSA-8192 is 1024 octets of
 * signature and about 1,100 of SubjectPublicKeyInfo. */
#define DKIM_MAX_SIG_BYTES 1024
#define DKIM_MAX_KEY_BYTES 1200
/* Smallest RSA key that verifies (RFC 8301 3.2). */
#define DKIM_MIN_RSA_BITS 1024
/* Seconds past x= a signature still verifies (the clocks of signer and
 * verifier differ a little). */
#define DKIM_CLOCK_SKEW 300
/* Seconds a t= may lie in the future before the signature fails (RFC 6376
 * 3.5 allows ignoring such signatures). Generous: signers with a wrong
 * time zone stamp hours ahead, and Stalwart's vectors carry one 5 hours
 * ahead of their verification clock. */
#define DKIM_FUTURE_SKEW 86400
/* ARC sets one message may carry (RFC 8617 4.2.1: i= is 1 to 50). */
#define ARC_MAX_SETS 50
/* Octets of the i= identity and the s= selector kept for results. */
#define DKIM_MAX_IDENTITY 320
#define DKIM_MAX_SELECTOR 64

/* ---- Filter: lookalike domains and impersonation ---------------------
 * (src/filter/lookalike*.c, decision 0035) */
/* Protected (hosted and brand) domains and allow-listed lookalikes in one
 * set; each check compares the candidate with every protected domain. */
#define FILTER_LOOKALIKE_PROTECTED_MAX 4096
#define FILTER_LOOKALIKE_ALLOW_MAX 4096
/* Octets of a candidate domain as given (a U-label form may be longer
 * than the 253 octets of its A-label form). */
#define FILTER_LOOKALIKE_INPUT_MAX 1024
/* Skeleton units of one label (63 octets of A-label decode to fewer code
 * points; a folded letter such as "ae" may take two units). */
#define FILTER_LOOKALIKE_SKEL_MAX 128
/* Edit distance allowed by the length of the protected name (label left
 * of the public suffix, in skeleton units): shorter than EDIT1_MIN, none
 * (too many honest neighbours: ibm/ibn); from EDIT1_MIN one edit; from
 * EDIT2_MIN two. */
#define FILTER_LOOKALIKE_EDIT1_MIN 4
#define FILTER_LOOKALIKE_EDIT2_MIN 9
/* Octets of a reason text (filter symbol explanation). */
#define FILTER_LOOKALIKE_REASON_MAX 256
/* Users whose names and addresses are protected from impersonation. */
#define FILTER_IMPERSON_USERS_MAX 100000
#define FILTER_IMPERSON_HOSTED_MAX 4096
/* Octets of a display name examined; the rest is ignored. */
#define FILTER_IMPERSON_NAME_MAX 512
/* Name tokens compared; a name with more does not match anyone. */
#define FILTER_IMPERSON_TOKENS_MAX 8
/* Octets of one normalised name key (tokens joined). */
#define FILTER_IMPERSON_KEY_MAX 256
/* ---- Filter allow/block lists (src/filter/lists*.c, decision 0036) ---- */
/* Entries in one list (allow and block together, one level). A user's
 * list is edited through the API; the bound keeps one account from
 * growing the process without end. */
#define FILTER_LIST_MAX 100000
/* Octets of one list file read; past it the file is refused whole. */
#define FILTER_LIST_FILE_MAX (16u * 1024 * 1024)
/* Octets of one line of a list file (comment included); a longer line is
 * reported and skipped. */
#define FILTER_LIST_LINE_MAX 1024
/* Seconds between two stat() checks of the same list files: an edit
 * (by hand, petrelctl or the API) counts from the next second on. */
#define FILTER_LIST_CHECK_SECONDS 1
/* Octets of an entry written out (address: 64 + 1 + 253, IP text + /128),
 * with its NUL. */
#define FILTER_LIST_TEXT_MAX 328
/* ----- filter: content analysis (src/filter/, decision 0034) ----- */
/* HTML read per part; the rest is ignored (and flagged). */
#define FILTER_HTML_MAX_INPUT (2u * 1024 * 1024)
/* Visible and invisible text kept from one HTML part. */
#define FILTER_HTML_MAX_TEXT (512u * 1024)
/* Open elements tracked for style inheritance; deeper ones inherit. */
#define FILTER_HTML_MAX_DEPTH 64
/* Links (href and src) kept per HTML part; more are counted. */
#define FILTER_HTML_MAX_LINKS 256
/* Octets of one attribute value and of one link's visible text kept. */
#define FILTER_HTML_MAX_ATTR 2048
#define FILTER_HTML_MAX_LINK_TEXT 256
/* Octets of one URL as extracted; a longer one is cut and flagged. */
#define FILTER_URL_MAX_LEN 2048
/* Distinct URLs kept per message or text; more are counted. */
#define FILTER_URLS_MAX 256
/* URLs normalised per list (duplicates included): bounds the work when a
 * message repeats one URL 100,000 times. */
#define FILTER_URLS_MAX_WORK 4096
/* Distinct tokens kept per message; more are counted. */
#define FILTER_TOKENS_MAX 4096
/* Token length in octets: shorter are dropped, longer become a class. */
#define FILTER_TOKEN_MIN 2
#define FILTER_TOKEN_MAX 40
/* Octets of each part's body read (before transfer decoding) and parts
 * looked at. */
#define FILTER_PART_MAX_READ (256u * 1024)
#define FILTER_MAX_PARTS 64

/* ----- client autoconfiguration (src/autoconf/, decision 0041) ----- */
/* An Autodiscover request body: Outlook's are under 1 KB; past this the
 * reply is 413 with the protocol's error document. */
#define AUTOCONF_AD_BODY_MAX (64u * 1024)
/* Elements open at once and elements in all in one request. */
#define AUTOCONF_AD_DEPTH_MAX 16
#define AUTOCONF_AD_ELEMENTS_MAX 256
/* What evhttp itself accepts on the public listeners before our 413. */
#define AUTOCONF_HTTP_BODY_BACKSTOP (1024u * 1024)
/* One generated document (XML, plist, HTML page with its QR code). */
#define AUTOCONF_DOC_MAX (256u * 1024)
/* Octets of a local part (RFC 5321 4.5.3.1.1). */
#define AUTOCONF_LOCAL_MAX 64
/* ----- filter: list files, settings and quarantine management
 * (src/filter/listdir.h, store_quar.c, decision 0040) ----- */
/* Levels (the global one, domains, users) whose lists the cache keeps;
 * past it the least recently used level is dropped (and read again when
 * next needed). Each costs its two paths (8 KiB) and its lists. */
#define FILTER_LISTDIR_SLOTS_MAX 1024
/* Entries one add or remove takes (CLI arguments, one API request). */
#define FILTER_LISTDIR_EDIT_MAX 1000
/* Seconds between petreld's runs of the quarantine expiry; release
 * requests from petrelctl are taken every second. */
#define QUARANTINE_EXPIRE_SECS 3600
/* Seconds petrelctl waits for petreld to release a message. */
#define QUARANTINE_RELEASE_WAIT_SECS 10
/* Lines of the text part a quarantine preview shows. */
#define QUARANTINE_PREVIEW_LINES 20
/* ---- Filter reputation: DNS blocklists, URL feeds, threat-intelligence
 * API (src/filter/rep*.c, decision 0039) ---- */
/* Zones of each kind (IP, domain) configured. */
#define FILTER_REP_ZONES_MAX 16
/* Return-code ranges of one zone ("=127.0.0.2-127.0.0.11|127.0.0.20"). */
#define FILTER_REP_ZONE_RANGES_MAX 8
/* DNS queries one message may cause, all zones together (default of
 * filter_dnsbl_max_lookups, and its ceiling). */
#define FILTER_REP_DNS_LOOKUPS_DEFAULT 24
#define FILTER_REP_DNS_LOOKUPS_MAX 256
/* Distinct registrable domains of one message's URLs looked up. */
#define FILTER_REP_DOMAINS_MAX 16
/* Feed files; octets of one file (refused whole past it: keep the old
 * set); entries kept from all files together; octets of one line (a
 * longer one is skipped and counted). */
#define FILTER_REP_FEED_FILES_MAX 8
#define FILTER_REP_FEED_FILE_MAX (64u * 1024 * 1024)
#define FILTER_REP_FEED_ENTRIES_MAX 2000000
#define FILTER_REP_FEED_LINE_MAX 8192
/* Fields of one feed CSV record (URLhaus has 9, PhishTank 8). */
#define FILTER_REP_FEED_FIELDS_MAX 32
/* Octets of one JSON object of a PhishTank JSON feed. */
#define FILTER_REP_FEED_OBJECT_MAX (64u * 1024)
/* Threat-intelligence API: URLs asked per message (default, ceiling);
 * octets of one response, head and body (a longer one is a bad answer);
 * header lines of one response; default timeout for all the questions of
 * one message; cache entries and seconds (default, ceiling); seconds the
 * API is left alone after it failed. */
#define FILTER_REP_TI_URLS_DEFAULT 5
#define FILTER_REP_TI_URLS_MAX 50
#define FILTER_REP_TI_RESPONSE_MAX (64u * 1024)
#define FILTER_REP_TI_HEADERS_MAX 64
#define FILTER_REP_TI_TIMEOUT_DEFAULT 2
#define FILTER_REP_TI_CACHE_DEFAULT 10000
#define FILTER_REP_TI_CACHE_MAX 1000000
#define FILTER_REP_TI_TTL_DEFAULT 3600
#define FILTER_REP_TI_BACKOFF 10
/* Octets of the API's URL after %u is expanded, and of its key. */
#define FILTER_REP_TI_URL_MAX 8192
#define FILTER_REP_TI_KEY_MAX 1024
/* ----- filter: statistical classifier (src/filter/bayes*.c, decision 0037) */
/* How often (milliseconds) a classifier asks the store whether a scope it
 * holds in memory was learned into since (by petrelctl or another
 * process); its own learning drops its copy at once. */
#define BAYES_CHECK_MS 1000
/* Scopes held in memory, and tokens of all of them together; past
 * either the least recently used (not the global one) are dropped and
 * read again when needed. 16 octets a token (a scope's logistic model
 * counts as its octets / 16): 8M tokens = 128 MiB. */
#define BAYES_CACHE_SCOPES 256
#define BAYES_CACHE_TOKENS (8u * 1024 * 1024)
/* Batches of messages (one IMAP MOVE or COPY each) waiting for the
 * learning thread, and messages of one batch learned; more are dropped
 * (logged): learning is a hint, never a reason to hold a session. */
#define BAYES_LEARN_QUEUE_MAX 64
#define BAYES_LEARN_BATCH_MAX 1000
/* Messages learned per store transaction by `petrelctl filter train`. */
#define BAYES_TRAIN_TX 200
/* The logistic model (decision 0044): a judgement moves the message's
 * margin BAYES_LR_MARGIN onto its side (when it is not already); bulk
 * training makes BAYES_LR_EPOCHS passes over the features of the
 * messages given, held in memory (about 12 KiB each): all of them up
 * to BAYES_LR_TRAIN_MAX, past that a uniform sample of that many (the
 * counts learn every message). The symbol
 * (bayes_symbols) has all its weight from margin BAYES_LR_FULL_FEW when
 * the scopes pooled learned BAYES_LR_FEW messages or fewer, from
 * BAYES_LR_FULL_MANY when they learned BAYES_LR_MANY or more, and from
 * a margin in proportion between (bayes_lr_full, decision 0046);
 * BAYES_HAM starts below -BAYES_LR_HAM and is full BAYES_LR_HAM_SPAN
 * further. */
#define BAYES_LR_MARGIN 4.0
/* The model gives the verdict only once the scopes pooled hold this
 * many messages learned (spam and ham together): with fewer, the counts'
 * Robinson-Fisher does better (a generative model reaches its best with
 * less data: Ng and Jordan 2002). */
#define BAYES_LR_MIN_MESSAGES 500
#define BAYES_LR_EPOCHS 10
#define BAYES_LR_TRAIN_MAX 20000
#define BAYES_LR_FULL_FEW 9.0
#define BAYES_LR_FULL_MANY 6.5
#define BAYES_LR_FEW 8000.0
#define BAYES_LR_MANY 24000.0
#define BAYES_LR_HAM 2.0
#define BAYES_LR_HAM_SPAN 4.0
/* ----- filter: message sources (src/filter/msgsrc.c) ----- */
/* Octets of one message read from a file or an mbox; the rest is cut
 * (the tokenizer reads less than this of each part anyway). */
#define MSGSRC_MESSAGE_MAX (16u * 1024 * 1024)
/* Files listed from the paths given, and directory levels followed. */
#define MSGSRC_FILES_MAX 1000000u
#define MSGSRC_DEPTH_MAX 16
/* ----- filter: message rules (src/filter/rules*.c, decision 0038) ----- */
/* HTML links with visible text kept per message for the link-text check,
 * and form action hosts kept per message. */
#define FILTER_TOKEN_LINKS_MAX 128
#define FILTER_FORM_ACTIONS_MAX 8
/* Header fields of one name the rules read (Received, Reply-To, ...). */
#define FILTER_RULES_FIELDS_MAX 64
/* Octets of an attachment decoded from its start (file type magic, OLE
 * macro names) and from its end (a ZIP central directory), and decoded
 * octets per message in all: a large attachment costs its base64 scan
 * and no more. */
#define FILTER_ATTACH_HEAD_MAX (1024u * 1024)
#define FILTER_ATTACH_TAIL_MAX (2u * 1024 * 1024)
#define FILTER_ATTACH_DECODE_BUDGET (16u * 1024 * 1024)
/* ZIP central directory entries read per archive; a directory with more
 * is itself a signal. Names longer than the cap are cut for checking. */
#define FILTER_ZIP_MAX_ENTRIES 4096
#define FILTER_ZIP_NAME_MAX 255
/* URL hosts given to the lookalike check per message. */
#define FILTER_RULES_LOOKALIKE_HOSTS 64

#endif

/* The filter's verdict engine (src/filter/engine*.c, decision 0043).
 * Seconds between rebuilds of the organisation snapshot (hosted domains,
 * users' display names): a new user is protected within this time. */
#define FILTER_ORG_REFRESH 60
/* Header octets `filter score` reads facts from, and Received fields
 * looked through for the client (facts_headers.h). */
#define FILTER_FACTS_HEADER_MAX (256u * 1024)
#define FILTER_FACTS_RECEIVED_MAX 16
/* Header fields the tokenizer reads for the header's shape (field
 * names, Received words, Message-ID domain), and Received fields of
 * them whose words it takes. */
#define FILTER_HDR_FIELDS_MAX 128
#define FILTER_HDR_RECEIVED_MAX 8
