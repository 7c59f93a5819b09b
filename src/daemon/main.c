/* main.c - petreld: load the config, bind, drop root, open the store,
 * run one event loop per worker thread, stop cleanly on SIGTERM/SIGINT.
 * Signals are taken synchronously by the main thread (sigwait); workers
 * never see them. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "auth/auth.h"
#include "auth/guard.h"
#include "core/config.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "daemon/daemon.h"
#include "http/http.h"
#include "net/net.h"
#include "net/tls_ref.h"
#include "core/jobs.h"
#include "imap/imap.h"
#include "pop3/pop3.h"
#include "queue/queue.h"
#include "filter/filter.h"
#include "msgauth/msgauth_svc.h"
#include "filter/quarkeep.h"
#include "smtp/smtp.h"
#include "store/store.h"

#define PETREL_VERSION "0.1.0"
#define MAX_WORKERS 256

struct listen_set {
	const char *name;		/* config key suffix: "smtp", "pop3s" */
	const char *label;		/* for the server-address table */
	const char *security;
	const struct cfg_listen_list *addrs;
	bool implicit_tls;
	const struct net_proto *proto;
	void *server;			/* the protocol's open_arg */
	int *fds;			/* [addr * workers + worker] */
};

struct worker;

struct listener {
	struct evconnlistener *l;
	struct worker *w;
	const struct listen_set *set;
	struct net_tls_ref *tls;	/* the set's own (cert= key=), or NULL */
};

struct worker {
	pthread_t thread;
	struct event_base *base;
	struct net_worker net;
	struct net_limits *limits;
	struct net_tls_ref *tls;	/* shared; replaced by a reload */
	struct event *stop_ev;
	struct listener *listeners;
	size_t n_listeners;
};

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	(void)l;
	struct listener *li = arg;
	struct worker *w = li->w;
	SSL_CTX *tls = net_tls_ref_get(li->tls ? li->tls : w->tls);
	net_conn_accept(&w->net, w->limits, li->set->proto, li->set->server,
			tls, li->set->implicit_tls, fd, sa, (socklen_t)salen);
	SSL_CTX_free(tls);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)arg;
	(void)l;
	/* EMFILE and friends: libevent retries on the next readiness. */
	log_warn("net", NULL, "accept failed error=\"%s\"", strerror(errno));
}

static void on_idle(void *arg)
{
	struct worker *w = arg;
	event_base_loopexit(w->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *w = arg;
	for (size_t i = 0; i < w->n_listeners; i++)
		evconnlistener_free(w->listeners[i].l);
	w->n_listeners = 0;
	net_worker_shutdown(&w->net);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: petreld [-c FILE] [-o KEY=VALUE]... [-t] [-V]\n"
		"  -c FILE       configuration file (default: ./petrel.conf if present)\n"
		"  -o KEY=VALUE  override one key (after the file)\n"
		"  -t            check the configuration and exit\n"
		"  -V            print the version\n");
}

static void print_addresses(const struct config *cfg,
			    const struct listen_set *sets, size_t nsets)
{
	printf("\npetrel %s is running. Server addresses for mail clients:\n\n",
	       PETREL_VERSION);
	printf("  %-26s %-28s %-6s %s\n", "service", "host", "port", "security");
	for (size_t s = 0; s < nsets; s++)
		for (size_t i = 0; i < sets[s].addrs->n; i++) {
			const struct cfg_listen *a = &sets[s].addrs->addr[i];
			bool any = !strcmp(a->host, "0.0.0.0") || !strcmp(a->host, "::");
			printf("  %-26s %-28s %-6s %s\n", sets[s].label,
			       any ? cfg->hostname : a->host, a->port,
			       sets[s].security);
		}
	for (size_t i = 0; i < cfg->listen_admin.n; i++)
		printf("  %-26s %-28s %-6s %s\n", "admin REST API (/api/v1)",
		       cfg->listen_admin.addr[i].host, cfg->listen_admin.addr[i].port,
		       cfg->admin_plaintext ? "none (plain HTTP)" : "HTTPS");
	for (size_t i = 0; i < cfg->listen_autoconfig.n; i++)
		printf("  %-26s %-28s %-6s %s\n", "autoconfig, settings page",
		       cfg->listen_autoconfig.addr[i].host,
		       cfg->listen_autoconfig.addr[i].port, "HTTPS");
	for (size_t i = 0; i < cfg->listen_autoconfig_http.n; i++)
		printf("  %-26s %-28s %-6s %s\n", "autoconfig, settings page",
		       cfg->listen_autoconfig_http.addr[i].host,
		       cfg->listen_autoconfig_http.addr[i].port, "none (plain HTTP)");
	if (cfg->demo_domain[0] && cfg->listen_autoconfig_http.n)
		printf("\n  settings page: http://127.0.0.1:%s/settings/%s\n",
		       cfg->listen_autoconfig_http.addr[0].port, cfg->demo_domain);
	if (cfg->demo_domain[0])
		printf("\n  hosted domain: %s   demo mailbox: %s@%s\n", cfg->demo_domain,
		       cfg->demo_user, cfg->demo_domain);
	printf("\n  data: %s   stop: Ctrl-C or kill -TERM %d\n\n", cfg->data_dir,
	       (int)getpid());
}

/* SIGHUP: new certificates for new connections; sessions keep the
 * context they started with. The files are read again as named at
 * startup (inside the chroot, if any); other keys need a restart. */
/* The context of every listen_* key with its own cert= and key=; all of
 * them or none (ctxs[s] NULL for the others). */
static int build_listener_tls(const struct config *cfg, const char *chroot_dir,
			      const struct listen_set *sets, size_t nsets,
			      SSL_CTX **ctxs, struct err *err)
{
	for (size_t s = 0; s < nsets; s++) {
		ctxs[s] = NULL;
		if (sets[s].addrs->n == 0 || sets[s].addrs->cert[0] == '\0')
			continue;
		char key[64];
		snprintf(key, sizeof key, "listen_%s", sets[s].name);
		ctxs[s] = daemon_tls_build_listener(cfg, chroot_dir, key, sets[s].addrs, err);
		if (ctxs[s] == NULL) {
			while (s > 0)
				SSL_CTX_free(ctxs[--s]);
			return -1;
		}
	}
	return 0;
}

/* SIGHUP: new certificates for new connections; sessions keep the
 * context they started with. The files are read again as named at
 * startup (inside the chroot, if any); other keys need a restart. One
 * bad file keeps every current certificate. */
static void reload_tls(const struct config *cfg, const char *store_dir,
		       struct net_tls_ref *ref, const struct listen_set *sets,
		       struct net_tls_ref **set_tls, size_t nsets)
{
	struct err err;
	err_clear(&err);
	const char *chroot_dir = strcmp(store_dir, cfg->data_dir) ? cfg->data_dir : NULL;
	SSL_CTX *ctxs[16];
	SSL_CTX *ctx = daemon_tls_build(cfg, chroot_dir, &err);
	if (ctx != NULL && build_listener_tls(cfg, chroot_dir, sets, nsets, ctxs, &err) != 0) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	if (ctx == NULL) {
		log_error("petreld", NULL,
			  "SIGHUP: TLS certificates not reloaded, the current ones stay: %s",
			  err.msg);
		return;
	}
	net_tls_ref_swap(ref, ctx);
	for (size_t s = 0; s < nsets; s++)
		if (ctxs[s] != NULL)
			net_tls_ref_swap(set_tls[s], ctxs[s]);
	log_info("petreld", NULL,
		 "SIGHUP: TLS certificates reloaded; other configuration changes need a restart");
}

/* SIGHUP for an HTTP listener's own certificate (listen_admin or
 * listen_autoconfig with cert= key=). */
static void reload_admin_tls(const struct config *cfg, const char *store_dir,
			     const char *key, const struct cfg_listen_list *l,
			     struct net_tls_ref *ref)
{
	struct err err;
	err_clear(&err);
	const char *chroot_dir = strcmp(store_dir, cfg->data_dir) ? cfg->data_dir : NULL;
	SSL_CTX *ctx = daemon_tls_build_listener(cfg, chroot_dir, key, l, &err);
	if (ctx == NULL) {
		log_error("petreld", NULL, "SIGHUP: %s certificate not "
			  "reloaded, the current one stays: %s", key, err.msg);
		return;
	}
	net_tls_ref_swap(ref, ctx);
}

/* Bind an HTTP listener's addresses (one socket each: its server has
 * one thread) before the privilege drop. */
static int bind_http(const struct cfg_listen_list *l, const char *service,
		     int *fds, struct err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		if (net_listen(l->addr[i].host, l->addr[i].port, &fds[i], 1, err) != 0)
			return -1;
		log_info("net", NULL, "listening service=%s addr=%s port=%s",
			 service, l->addr[i].host, l->addr[i].port);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);
	struct err err;
	const char *conf = NULL;
	bool check_only = false;
	cfg_defaults(cfg);

	/* Overrides apply after the file, so collect them first. */
	const char *overrides[64];
	size_t n_over = 0;
	int opt;
	while ((opt = getopt(argc, argv, "c:o:tVh")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'o':
			if (n_over == 64) {
				fprintf(stderr, "petreld: too many -o options\n");
				return 1;
			}
			overrides[n_over++] = optarg;
			break;
		case 't': check_only = true; break;
		case 'V': printf("petreld %s\n", PETREL_VERSION); return 0;
		default: usage(); return opt == 'h' ? 0 : 1;
		}
	}
	if (optind != argc) {
		usage();
		return 1;
	}
	if (cfg_load_file(cfg, conf ? conf : "petrel.conf", conf == NULL, &err) != 0)
		goto config_error;
	for (size_t i = 0; i < n_over; i++)
		if (cfg_set(cfg, "-o", overrides[i], &err) != 0)
			goto config_error;
	if (cfg_finish(cfg, &err) != 0)
		goto config_error;
	if (check_only) {
		printf("config ok\n");
		free(cfg);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Mail and its metadata are for the service user alone. */
	umask(027);
	log_set_level((enum log_level)cfg->log_level);
	if (auth_init(&err) != 0 || evthread_use_pthreads() != 0) {
		fprintf(stderr, "petreld: %s\n", err.msg[0] ? err.msg : "libevent threads");
		return 1;
	}
	/* Writes that fail must come back as errors, never as signals:
	 * SIGPIPE from a gone client, SIGXFSZ from a file-size limit. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);

	/* Thousands of sessions need thousands of descriptors. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
			log_warn("petreld", NULL, "cannot raise the open-file limit");
	}

	int nworkers = cfg->workers;
	if (nworkers <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nworkers = n > 0 ? (int)n : 1;
	}
	if (nworkers > MAX_WORKERS)
		nworkers = MAX_WORKERS;

	char cert[1200], key[1200];
	if (daemon_make_dirs(cfg, &err) != 0 ||
	    daemon_tls_files(cfg, cert, sizeof cert, key, sizeof key, &err) != 0)
		goto fatal;
	SSL_CTX *tls = daemon_tls_build(cfg, NULL, &err);
	if (tls == NULL)
		goto fatal;
	/* tls itself stays for the servers' "is TLS offered" checks; new
	 * connections take the current one from tls_ref. */
	struct net_tls_ref tls_ref;
	SSL_CTX_up_ref(tls);
	net_tls_ref_init(&tls_ref, tls);

	struct listen_set sets[] = {
		{ "smtp", "SMTP inbound (MX)", "STARTTLS (optional)",
		  &cfg->listen_smtp, false, &smtp_proto, NULL, NULL },
		{ "smtps", "SMTP inbound (MX), TLS", "SSL/TLS",
		  &cfg->listen_smtps, true, &smtp_proto, NULL, NULL },
		{ "submission", "SMTP submission (send)", "STARTTLS (required)",
		  &cfg->listen_submission, false, &smtp_proto, NULL, NULL },
		{ "submissions", "SMTP submission (send)", "SSL/TLS",
		  &cfg->listen_submissions, true, &smtp_proto, NULL, NULL },
		{ "pop3", "POP3", "STARTTLS (STLS, required)",
		  &cfg->listen_pop3, false, &pop3_proto, NULL, NULL },
		{ "pop3s", "POP3", "SSL/TLS",
		  &cfg->listen_pop3s, true, &pop3_proto, NULL, NULL },
		{ "imap", "IMAP", "STARTTLS (required)",
		  &cfg->listen_imap, false, &imap_proto, NULL, NULL },
		{ "imaps", "IMAP", "SSL/TLS",
		  &cfg->listen_imaps, true, &imap_proto, NULL, NULL },
	};
	size_t nsets = sizeof sets / sizeof *sets, total_listeners = 0;
	_Static_assert(sizeof sets / sizeof *sets <= 16, "reload_tls's ctxs[]");
	SSL_CTX *listener_tls[sizeof sets / sizeof *sets];
	struct net_tls_ref *set_tls[sizeof sets / sizeof *sets] = { NULL };
	if (build_listener_tls(cfg, NULL, sets, nsets, listener_tls, &err) != 0)
		goto fatal;
	for (size_t s = 0; s < nsets; s++)
		if (listener_tls[s] != NULL) {
			set_tls[s] = xcalloc(1, sizeof *set_tls[s]);
			net_tls_ref_init(set_tls[s], listener_tls[s]);
		}
	for (size_t s = 0; s < nsets; s++) {
		size_t n = sets[s].addrs->n * (size_t)nworkers;
		sets[s].fds = xcalloc(n ? n : 1, sizeof(int));
		for (size_t i = 0; i < sets[s].addrs->n; i++) {
			const struct cfg_listen *a = &sets[s].addrs->addr[i];
			if (net_listen(a->host, a->port, sets[s].fds + i * (size_t)nworkers,
				       (size_t)nworkers, &err) != 0)
				goto fatal;
			log_info("net", NULL, "listening service=%s addr=%s port=%s",
				 sets[s].name, a->host, a->port);
		}
		total_listeners += sets[s].addrs->n;
	}

	/* the admin API: bound now (before the drop), served from its own
	 * thread once the store is open */
	int admin_fds[CFG_MAX_LISTEN];
	size_t n_admin = cfg->listen_admin.n;
	if (bind_http(&cfg->listen_admin, cfg->admin_plaintext ?
		      "admin plaintext=yes" : "admin", admin_fds, &err) != 0)
		goto fatal;
	/* the public autoconfig listeners (decision 0041) */
	int ac_fds[CFG_MAX_LISTEN], ac_http_fds[CFG_MAX_LISTEN];
	if (bind_http(&cfg->listen_autoconfig, "autoconfig", ac_fds, &err) != 0 ||
	    bind_http(&cfg->listen_autoconfig_http, "autoconfig-http",
		      ac_http_fds, &err) != 0)
		goto fatal;
	struct net_tls_ref ac_own_tls;
	bool ac_has_own = cfg->listen_autoconfig.n > 0 &&
			  cfg->listen_autoconfig.cert[0] != '\0';
	if (ac_has_own) {
		SSL_CTX *ctx = daemon_tls_build_listener(cfg, NULL, "listen_autoconfig",
							 &cfg->listen_autoconfig, &err);
		if (ctx == NULL)
			goto fatal;
		net_tls_ref_init(&ac_own_tls, ctx);
	}
	/* the profile is signed with the certificate autoconfig.DOMAIN
	 * shows: its own when it has one */
	struct net_tls_ref *ac_tls = ac_has_own ? &ac_own_tls : &tls_ref;
	/* its own certificate (listen_admin ... cert= key=), or the default */
	struct net_tls_ref admin_own_tls;
	bool admin_has_own = n_admin > 0 && !cfg->admin_plaintext &&
			     cfg->listen_admin.cert[0] != '\0';
	if (admin_has_own) {
		SSL_CTX *ctx = daemon_tls_build_listener(cfg, NULL, "listen_admin",
							 &cfg->listen_admin, &err);
		if (ctx == NULL)
			goto fatal;
		net_tls_ref_init(&admin_own_tls, ctx);
	}
	struct net_tls_ref *admin_tls = cfg->admin_plaintext ? NULL :
					admin_has_own ? &admin_own_tls : &tls_ref;

	/* reads resolv.conf and the relay's password: before the drop */
	struct queue_runner *runner;
	if (queue_runner_new(cfg, &runner, &err) != 0)
		goto fatal;

	const char *store_dir;
	/* the message checks' resolver reads resolv.conf now, before the
	 * chroot (decision 0026) */
	struct msgauth_svc *msgauth = NULL;
	if ((cfg->msgauth_inbound || cfg->dkim_sign || cfg->filter) &&
	    (msgauth = msgauth_svc_new(cfg, &err)) == NULL)
		goto fatal;
	/* the spam filter runs on the same pool, after those checks; its
	 * weights and feed files are read now, before the chroot */
	struct filter_engine *filter = NULL;
	if (cfg->filter && (filter = filter_engine_new(cfg, NULL, &err)) == NULL)
		goto fatal;
	if (daemon_drop_privileges(cfg, &store_dir, &err) != 0)
		goto fatal;

	char dbpath[1200];
	snprintf(dbpath, sizeof dbpath, "%s/petrel.db", store_dir);
	bool first = access(dbpath, F_OK) != 0;
	struct store *st;
	if (store_open(store_dir, &st, &err) != 0)
		goto fatal;
	if (first && daemon_first_start(cfg, st, &err) != 0)
		goto fatal;

	/* Block the stop signals in every thread; main takes them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (queue_runner_start(runner, st, &err) != 0)
		goto fatal;
	struct filter_quarkeep *quarkeep = filter_quarkeep_start(st, &err);
	if (quarkeep == NULL)
		goto fatal;
	struct smtp_server *srv = smtp_server_new(cfg, st, tls);
	if (msgauth != NULL)
		msgauth_svc_set_store(msgauth, st);
	if (filter != NULL)
		filter_engine_set_store(filter, st);
	smtp_server_set_msgauth(srv, cfg->msgauth_inbound || cfg->filter ?
				msgauth : NULL);
	smtp_server_set_checks(srv, cfg->msgauth_inbound, filter);
	struct jobs *jobs = jobs_new(2);
	struct auth *auth = auth_new(st, jobs);
	struct auth_guard_conf gconf = {
		.window = cfg->login_failure_window,
		.account_max = cfg->login_account_max_failures,
		.ip_max = cfg->login_ip_max_failures,
		.lockout = cfg->login_lockout,
		.delay = cfg->auth_failure_delay,
		.delay_max = cfg->login_failure_delay_max,
		.ip_ranges = cfg->login_ip_max_failures_ranges,
	};
	auth_set_guard(auth, &gconf);
	/* the HTTP listeners count per address with the mail ones */
	struct net_limits limits;
	net_limits_init(&limits, cfg->max_connections, cfg->max_connections_per_ip,
			cfg->limit_loopback);
	net_limits_set_keepalive(&limits, cfg->tcp_keepalive_idle,
				 cfg->tcp_keepalive_timeout);
	net_limits_set_ranges(&limits, &cfg->max_connections_per_ip_ranges);
	/* the API's logins count and lock with the mail protocols' */
	struct http_server *admin = NULL;
	if (n_admin > 0 &&
	    http_server_start(cfg, st, auth, admin_tls, &limits, admin_fds,
			      n_admin, &admin, &err) != 0)
		goto fatal;
	struct http_server *ac = NULL, *ac_http = NULL;
	if (cfg->listen_autoconfig.n > 0 &&
	    http_server_start_public(cfg, st, ac_tls, ac_tls, &limits, ac_fds,
				     cfg->listen_autoconfig.n, &ac, &err) != 0)
		goto fatal;
	if (cfg->listen_autoconfig_http.n > 0 &&
	    http_server_start_public(cfg, st, NULL, ac_tls, &limits,
				     ac_http_fds, cfg->listen_autoconfig_http.n,
				     &ac_http, &err) != 0)
		goto fatal;
	struct pop3_server *pop3 = pop3_server_new(cfg, st, tls, jobs, auth);
	struct imap_server *imap = imap_server_new(cfg, st, tls, auth);
	struct smtp_server *subm = smtp_submission_new(cfg, st, tls, auth);
	smtp_server_set_msgauth(subm, cfg->dkim_sign ? msgauth : NULL);
	for (size_t s = 0; s < nsets; s++)
		sets[s].server = sets[s].proto == &smtp_proto ? (void *)srv :
				 sets[s].proto == &imap_proto ? (void *)imap : (void *)pop3;
	for (size_t s = 0; s < nsets; s++)
		if (!strncmp(sets[s].name, "submission", 10))
			sets[s].server = subm;
	struct worker *workers = xcalloc((size_t)nworkers, sizeof *workers);
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];
		w->base = event_base_new();
		if (w->base == NULL) {
			err_set(&err, ERR_ENV, 0, NULL, "event_base_new failed");
			goto fatal;
		}
		net_worker_init(&w->net, w->base, on_idle, w);
		w->limits = &limits;
		w->tls = &tls_ref;
		w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
		w->listeners = xcalloc(total_listeners, sizeof *w->listeners);
		for (size_t s = 0; s < nsets; s++)
			for (size_t a = 0; a < sets[s].addrs->n; a++) {
				int fd = sets[s].fds[a * (size_t)nworkers + (size_t)i];
				struct listener *li = &w->listeners[w->n_listeners];
				li->w = w;
				li->set = &sets[s];
				li->tls = set_tls[s];
				li->l = evconnlistener_new(
					w->base, on_accept, li,
					LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
				if (li->l == NULL) {
					err_set(&err, ERR_ENV, 0, NULL, "evconnlistener_new failed");
					goto fatal;
				}
				evconnlistener_set_error_cb(li->l, on_accept_error);
				w->n_listeners++;
			}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			err_set(&err, ERR_ENV, 0, NULL, "pthread_create: %s", strerror(errno));
			goto fatal;
		}
	}
	log_info("petreld", NULL, "started version=%s workers=%d pid=%d",
		 PETREL_VERSION, nworkers, (int)getpid());
	print_addresses(cfg, sets, nsets);
	printf("petreld ready\n");

	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_tls(cfg, store_dir, &tls_ref, sets, set_tls, nsets);
			if (admin_has_own)
				reload_admin_tls(cfg, store_dir, "listen_admin",
						 &cfg->listen_admin, &admin_own_tls);
			if (ac_has_own)
				reload_admin_tls(cfg, store_dir, "listen_autoconfig",
						 &cfg->listen_autoconfig, &ac_own_tls);
			continue;
		}
		log_info("petreld", NULL, "stopping signal=%d", sig);
		break;
	}
	for (int i = 0; i < nworkers; i++)
		event_active(workers[i].stop_ev, EV_READ, 0);
	for (int i = 0; i < nworkers; i++) {
		pthread_join(workers[i].thread, NULL);
		event_free(workers[i].stop_ev);
		event_base_free(workers[i].base);
		free(workers[i].listeners);
	}
	free(workers);
	http_server_stop(&admin);
	http_server_stop(&ac);
	http_server_stop(&ac_http);
	smtp_server_free(&srv);
	smtp_server_free(&subm);
	msgauth_svc_free(&msgauth);	/* its jobs use the filter */
	filter_engine_free(&filter);
	pop3_server_free(&pop3);
	imap_server_free(&imap);
	jobs_free(&jobs);
	auth_free(&auth);
	net_limits_release(&limits);
	queue_runner_stop(&runner);
	filter_quarkeep_stop(&quarkeep);
	store_close(&st);
	net_tls_ref_destroy(&tls_ref);
	if (admin_has_own)
		net_tls_ref_destroy(&admin_own_tls);
	if (ac_has_own)
		net_tls_ref_destroy(&ac_own_tls);
	SSL_CTX_free(tls);
	for (size_t s = 0; s < nsets; s++) {
		free(sets[s].fds);
		if (set_tls[s] != NULL) {
			net_tls_ref_destroy(set_tls[s]);
			free(set_tls[s]);
		}
	}
	log_info("petreld", NULL, "stopped");
	free(cfg);
	return 0;

config_error:
	fprintf(stderr, "%s\n", err.msg);
	free(cfg);
	return 1;
fatal:
	fprintf(stderr, "petreld: %s\n", err.msg);
	free(cfg);
	return 1;
}
