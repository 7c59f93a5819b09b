/* daemon.h - petreld's start-up steps, shared by main.c and setup.c. */
#ifndef PETREL_DAEMON_H
#define PETREL_DAEMON_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "core/config.h"
#include "core/err.h"

struct store;

/* Make data_dir (and data_dir/tls) if missing. */
int daemon_make_dirs(const struct config *cfg, struct err *err);
/* Resolve tls_cert/tls_key against data_dir into out buffers; create a
 * self-signed pair when both are missing and the paths are the defaults. */
int daemon_tls_files(const struct config *cfg, char *cert, size_t certsz,
		     char *key, size_t keysz, struct err *err);
/* Run the certificate checks (net/tls_check.h) on one pair: warnings are
 * logged, errors fill err (the first) and stderr (the rest) and return -1.
 * name NULL skips the host name check. */
int daemon_tls_check(const char *cert, const char *key, const char *name,
		     struct err *err);
/* The TLS context petreld serves: tls_cert/tls_key after the checks
 * above, with the tls_sni certificates chosen by server name. Relative
 * paths are under data_dir; chroot_dir (NULL before the chroot) is the
 * directory the process is chrooted into, for a reload. NULL and err on
 * any error finding. */
SSL_CTX *daemon_tls_build(const struct config *cfg, const char *chroot_dir,
			  struct err *err);
/* The same for a listen_* key with cert= and key= (l->cert non-empty):
 * its own pair, checked without a host name, the tls_sni table attached;
 * err names the key and its first address. */
SSL_CTX *daemon_tls_build_listener(const struct config *cfg, const char *chroot_dir,
				   const char *key_name,
				   const struct cfg_listen_list *l, struct err *err);
/* When root: chown the data dir to cfg->user, chroot into it (cfg->chroot),
 * drop to that user for good. *store_dir_out is where the store is now
 * reachable ("/" after chroot). A no-op for other users. */
int daemon_drop_privileges(const struct config *cfg, const char **store_dir_out,
			   struct err *err);
/* First start: create the demo domain and mailbox and print its password. */
int daemon_first_start(const struct config *cfg, struct store *st,
		       struct err *err);

#endif
