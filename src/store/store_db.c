/* store_db.c - the store's SQLite side: opening connections with the
 * right pragmas, the table of every SQL statement the store runs (prepared
 * once per connection and cached), the pool of read-only connections, and
 * the numbered schema migrations. No SQL text lives outside this file.
 */
#include "store/store_private.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"

static const char *const store_sql[STMT_COUNT] = {
	/* IMMEDIATE takes the write lock at BEGIN: a deferred transaction that
	 * read first could not upgrade later when another writer committed,
	 * and SQLite would fail it without waiting for busy_timeout. */
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	/* store_check: one snapshot for all its queries */
	[STMT_BEGIN_READ] = "BEGIN",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT delivery",
	[STMT_RELEASE] = "RELEASE delivery",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO delivery",
	[STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[STMT_META_SET] =
		"INSERT INTO meta(key, value) VALUES (?1, ?2) "
		"ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[STMT_DOMAIN_FIND] = "SELECT id FROM domains WHERE name = ?1",
	[STMT_DOMAIN_ADD] =
		"INSERT INTO domains(name, created) VALUES (?1, ?2)",
	[STMT_MAILBOX_FIND] =
		"SELECT m.id, m.local_part, d.name, m.quota, m.used, m.enabled "
		"FROM mailboxes m JOIN domains d ON d.id = m.domain_id "
		"WHERE d.name = ?2 AND m.local_part = ?1",
	[STMT_MAILBOX_PASSWORD] =
		"SELECT m.password_hash "
		"FROM mailboxes m JOIN domains d ON d.id = m.domain_id "
		"WHERE d.name = ?2 AND m.local_part = ?1",
	[STMT_MAILBOX_ADD] =
		"INSERT INTO mailboxes(domain_id, local_part, password_hash, "
		"quota, used, enabled, created) VALUES (?1, ?2, ?3, ?4, 0, 1, ?5)",
	[STMT_MAILBOX_SET_QUOTA] =
		"UPDATE mailboxes SET quota = ?3 WHERE local_part = ?1 AND "
		"domain_id = (SELECT id FROM domains WHERE name = ?2)",
	[STMT_MAILBOX_EACH] =
		"SELECT m.id, m.local_part, d.name, m.quota, m.used, m.enabled "
		"FROM mailboxes m JOIN domains d ON d.id = m.domain_id "
		"ORDER BY (m.local_part || '@' || d.name) COLLATE NOCASE, m.id",
	[STMT_MAILBOX_SCRAM] =
		"SELECT m.scram_secret "
		"FROM mailboxes m JOIN domains d ON d.id = m.domain_id "
		"WHERE d.name = ?2 AND m.local_part = ?1",
	[STMT_MAILBOX_SET_SCRAM] =
		"UPDATE mailboxes SET scram_secret = ?2 WHERE id = ?1",
	[STMT_MAILBOX_USED] =
		"UPDATE mailboxes SET used = used + ?2 WHERE id = ?1",
	/* Folder ids are never given twice (a session or watcher may still
	 * hold the id of a deleted folder): past the highest id ever
	 * deleted, which trigger folders_id_high keeps in meta. */
	[STMT_FOLDER_ADD] =
		"INSERT INTO folders(id, mailbox_id, name, special_use, "
		"uidvalidity, uidnext, highestmodseq, subscribed) "
		"VALUES ((SELECT max(coalesce(max(id), 0), coalesce((SELECT "
		"value FROM meta WHERE key = 'folder_id_high'), 0)) + 1 "
		"FROM folders), ?1, ?2, ?3, ?4, 1, 1, 1)",
	/* Counts for LIST-STATUS / STATUS (RFC 9051 6.3.11, RFC 8438
	 * SIZE) in one pass over the folder's messages. */
#define STORE_FOLDER_COLUMNS                                                 \
	"SELECT f.id, f.name, f.special_use, f.uidvalidity, f.uidnext, "     \
	"f.highestmodseq, count(m.id), coalesce(sum((m.flags & 1) = 0), 0), " \
	"coalesce(sum(m.size), 0), EXISTS (SELECT 1 FROM subscriptions s "   \
	"WHERE s.mailbox_id = f.mailbox_id AND s.name = f.name) "            \
	"FROM folders f LEFT JOIN messages m ON m.folder_id = f.id "
	[STMT_FOLDER_EACH] = STORE_FOLDER_COLUMNS
		"WHERE f.mailbox_id = ?1 GROUP BY f.id ORDER BY f.id",
	[STMT_FOLDER_FIND] = STORE_FOLDER_COLUMNS
		"WHERE f.mailbox_id = ?1 AND f.name = ?2 GROUP BY f.id",
	/* The committer gives UIDs and mod-sequences from this before it
	 * writes a group to the log (store_commit.c). */
	[STMT_INBOX_STATE] =
		"SELECT id, uidvalidity, uidnext, highestmodseq FROM folders "
		"WHERE mailbox_id = ?1 AND special_use = 1",
	[STMT_JUNK_ID] =
		"SELECT id FROM folders WHERE mailbox_id = ?1 AND special_use = 4",
	/* Raise, never lower: replaying a record again, or after later
	 * ones, must leave UIDNEXT and HIGHESTMODSEQ where they are. The
	 * folder must be the one the record was written for: same id, same
	 * mailbox, same UIDVALIDITY (unique in the store). */
	[STMT_FOLDER_ADVANCE] =
		"UPDATE folders SET uidnext = max(uidnext, ?4 + 1), "
		"highestmodseq = max(highestmodseq, ?5) "
		"WHERE id = ?1 AND mailbox_id = ?2 AND uidvalidity = ?3",
	/* OR IGNORE with the unique (segment, offset): a record indexed
	 * before makes no second row (store_log_apply). */
	[STMT_BLOB_ADD] =
		"INSERT OR IGNORE INTO blobs(segment, offset, length, refcount) "
		"VALUES (?1, ?2, ?3, ?4)",
	[STMT_BLOB_AT] = "SELECT id FROM blobs WHERE segment = ?1 AND offset = ?2",
	[STMT_BLOBS_PAST] =
		"SELECT count(*) FROM blobs "
		"WHERE segment > ?1 OR (segment = ?1 AND offset >= ?2)",
	[STMT_MESSAGE_ADD] =
		"INSERT OR IGNORE INTO messages(folder_id, uid, blob_id, size, "
		"internal_date, flags, keywords, modseq) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?8, ?6)",
	/* SELECT of a large folder: one pass in UID order over the
	 * (folder_id, uid) index */
	[STMT_MESSAGE_EACH] =
		"SELECT uid, size, internal_date, flags, modseq, blob_id, "
		"keywords FROM messages WHERE folder_id = ?1 ORDER BY uid",
	[STMT_MESSAGE_BLOB] =
		"SELECT b.id, b.segment, b.offset, b.length "
		"FROM messages m JOIN blobs b ON b.id = m.blob_id "
		"WHERE m.folder_id = ?1 AND m.uid = ?2",
	[STMT_MESSAGE_AT] =
		"SELECT blob_id FROM messages WHERE folder_id = ?1 AND uid = ?2",
	[STMT_LOG_GET] = "SELECT segment, offset, seq FROM log_applied "
			 "WHERE id = 1",
	[STMT_LOG_SET] = "UPDATE log_applied SET segment = ?1, offset = ?2, "
			 "seq = ?3 WHERE id = 1",
	[STMT_CHECK_MESSAGES] =
		"SELECT m.id, m.blob_id, b.id IS NULL "
		"FROM messages m LEFT JOIN blobs b ON b.id = m.blob_id "
		"WHERE b.id IS NULL OR b.length != m.size",
	/* uses: the messages and the queue entry that hold the blob */
	[STMT_CHECK_BLOBS] =
		"SELECT b.id, b.segment, b.offset, b.length, b.refcount, "
		"(SELECT count(*) FROM messages m WHERE m.blob_id = b.id) + "
		"(SELECT count(*) FROM queue q WHERE q.blob_id = b.id) + "
		"(SELECT count(*) FROM quarantine q WHERE q.blob_id = b.id) "
		"FROM blobs b ORDER BY b.segment, b.offset",

	/* ---- mail mutations: committer jobs (decision 0004) ---- */
	[STMT_SYNC_FULL] = "PRAGMA synchronous = FULL",
	[STMT_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[STMT_JOB_SAVEPOINT] = "SAVEPOINT job",
	[STMT_JOB_RELEASE] = "RELEASE job",
	[STMT_JOB_ROLLBACK_TO] = "ROLLBACK TO job",
	[STMT_FOLDER_STATE] =
		"SELECT mailbox_id, uidvalidity, uidnext, highestmodseq, "
		"special_use, name FROM folders WHERE id = ?1",
	[STMT_FOLDER_SET_MODSEQ] =
		"UPDATE folders SET highestmodseq = ?2 WHERE id = ?1",
	[STMT_MESSAGE_GET] =
		"SELECT id, blob_id, size, flags, keywords, modseq, "
		"internal_date FROM messages WHERE folder_id = ?1 AND uid = ?2",
	[STMT_MESSAGE_DELETE] = "DELETE FROM messages WHERE id = ?1",
	[STMT_MESSAGE_SET_FLAGS] =
		"UPDATE messages SET flags = ?2, keywords = ?3, modseq = ?4 "
		"WHERE id = ?1",
	[STMT_MESSAGE_COPY] =
		"INSERT INTO messages(folder_id, uid, blob_id, size, "
		"internal_date, flags, keywords, modseq) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	/* refcount 0 keeps the row (and the record's bytes) until
	 * compaction: replay finds it and does not index the record again */
	[STMT_BLOB_REF] =
		"UPDATE blobs SET refcount = refcount + ?2 WHERE id = ?1",
	[STMT_EXPUNGED_ADD] =
		"INSERT OR REPLACE INTO expunged(folder_id, uid, modseq) "
		"VALUES (?1, ?2, ?3)",
	[STMT_MAILBOX_QUOTA] =
		"SELECT quota, used FROM mailboxes WHERE id = ?1",
	[STMT_KEYWORD_FIND] =
		"SELECT bit FROM keywords WHERE mailbox_id = ?1 AND name = ?2",
	/* bits are never freed: a bit means one name for the mailbox's
	 * life; CHECK (bit < 64) fails the 65th */
	[STMT_KEYWORD_ADD] =
		"INSERT INTO keywords(mailbox_id, bit, name) "
		"SELECT ?1, coalesce(max(bit) + 1, 0), ?2 FROM keywords "
		"WHERE mailbox_id = ?1 RETURNING bit",
	[STMT_KEYWORD_EACH] =
		"SELECT bit, name FROM keywords WHERE mailbox_id = ?1 "
		"ORDER BY bit",
	[STMT_FOLDER_BY_NAME] =
		"SELECT id, special_use FROM folders "
		"WHERE mailbox_id = ?1 AND name = ?2",
	[STMT_FOLDER_CREATE] =
		"INSERT INTO folders(id, mailbox_id, name, special_use, "
		"uidvalidity, uidnext, highestmodseq, subscribed) "
		"VALUES ((SELECT max(coalesce(max(id), 0), coalesce((SELECT "
		"value FROM meta WHERE key = 'folder_id_high'), 0)) + 1 "
		"FROM folders), ?1, ?2, ?3, ?4, 1, 1, 0) RETURNING id",
	/* names under ?2 (which ends with '/'); substr and length count
	 * characters alike, and no LIKE/GLOB wildcards get in the way */
	[STMT_FOLDER_CHILDREN] =
		"SELECT id, name FROM folders WHERE mailbox_id = ?1 AND "
		"substr(name, 1, length(?2)) = ?2 ORDER BY name",
	[STMT_FOLDER_RENAME] = "UPDATE folders SET name = ?2 WHERE id = ?1",
	[STMT_FOLDER_UNREF] =
		"UPDATE blobs SET refcount = refcount - (SELECT count(*) "
		"FROM messages m WHERE m.blob_id = blobs.id AND "
		"m.folder_id = ?1) WHERE id IN (SELECT blob_id FROM messages "
		"WHERE folder_id = ?1)",
	[STMT_FOLDER_UNUSE] =
		"UPDATE mailboxes SET used = used - (SELECT coalesce(sum(size), "
		"0) FROM messages WHERE folder_id = ?1) WHERE id = ?2",
	[STMT_FOLDER_DROP_MESSAGES] = "DELETE FROM messages WHERE folder_id = ?1",
	[STMT_FOLDER_DROP_EXPUNGED] = "DELETE FROM expunged WHERE folder_id = ?1",
	[STMT_FOLDER_DROP] = "DELETE FROM folders WHERE id = ?1",
	[STMT_FOLDER_EXPUNGE_ALL] =
		"INSERT OR REPLACE INTO expunged(folder_id, uid, modseq) "
		"SELECT folder_id, uid, ?2 FROM messages WHERE folder_id = ?1",
	[STMT_FOLDER_MOVE_ALL] =
		"UPDATE messages SET folder_id = ?2 WHERE folder_id = ?1",
	[STMT_FOLDER_COPY_STATE] =
		"UPDATE folders SET (uidnext, highestmodseq) = (SELECT uidnext, "
		"highestmodseq FROM folders WHERE id = ?2) WHERE id = ?1",
	[STMT_SUBSCRIBE] =
		"INSERT OR IGNORE INTO subscriptions(mailbox_id, name) "
		"VALUES (?1, ?2)",
	[STMT_UNSUBSCRIBE] =
		"DELETE FROM subscriptions WHERE mailbox_id = ?1 AND name = ?2",
	[STMT_SUBSCRIPTION_EACH] =
		"SELECT name FROM subscriptions WHERE mailbox_id = ?1 "
		"ORDER BY name",
	/* CONDSTORE CHANGEDSINCE (RFC 7162 3.1.4.1): index messages_modseq */
	/* few rows past a recent modseq (an idling session's push): the
	 * modseq index, not a walk of the whole folder's list */
	[STMT_MESSAGE_CHANGED] =
		"SELECT uid, size, internal_date, flags, modseq, blob_id, "
		"keywords FROM messages INDEXED BY messages_modseq "
		"WHERE folder_id = ?1 AND modseq > ?2 ORDER BY uid",
	/* QRESYNC VANISHED (RFC 7162 3.2.10) */
	[STMT_VANISHED] =
		"SELECT uid FROM expunged INDEXED BY expunged_modseq "
		"WHERE folder_id = ?1 AND modseq > ?2 ORDER BY uid",
	[STMT_META_PUT] =
		"INSERT OR REPLACE INTO blob_meta(blob_id, data) VALUES (?1, ?2)",
	[STMT_META_GET_MSG] =
		"SELECT bm.data FROM messages m JOIN blob_meta bm "
		"ON bm.blob_id = m.blob_id WHERE m.folder_id = ?1 AND m.uid = ?2",
	[STMT_META_EACH] =
		"SELECT m.uid, bm.data FROM messages m JOIN blob_meta bm "
		"ON bm.blob_id = m.blob_id WHERE m.folder_id = ?1 ORDER BY m.uid",
	/* store_check: the invariants the mutations keep */
	[STMT_CHECK_USED] =
		"SELECT id, used, s FROM (SELECT mb.id, mb.used, (SELECT "
		"coalesce(sum(m.size), 0) FROM messages m JOIN folders f "
		"ON f.id = m.folder_id WHERE f.mailbox_id = mb.id) AS s "
		"FROM mailboxes mb) WHERE used != s",
	[STMT_CHECK_EXPUNGED] =
		"SELECT e.folder_id, e.uid, CASE WHEN f.id IS NULL THEN 1 "
		"WHEN e.modseq > f.highestmodseq THEN 2 "
		"WHEN e.uid >= f.uidnext THEN 3 ELSE 4 END "
		"FROM expunged e LEFT JOIN folders f ON f.id = e.folder_id "
		"WHERE f.id IS NULL OR e.modseq > f.highestmodseq OR "
		"e.uid >= f.uidnext OR EXISTS (SELECT 1 FROM messages m "
		"WHERE m.folder_id = e.folder_id AND m.uid = e.uid)",
	[STMT_CHECK_COUNTERS] =
		"SELECT m.id, CASE WHEN f.id IS NULL THEN 1 "
		"WHEN m.uid >= f.uidnext THEN 2 ELSE 3 END "
		"FROM messages m LEFT JOIN folders f ON f.id = m.folder_id "
		"WHERE f.id IS NULL OR m.uid >= f.uidnext OR "
		"m.modseq > f.highestmodseq",
	[STMT_CHECK_KEYWORDS] =
		"SELECT m.id FROM messages m JOIN folders f ON f.id = m.folder_id "
		"WHERE m.keywords & ~(SELECT coalesce(sum(1 << k.bit), 0) "
		"FROM keywords k WHERE k.mailbox_id = f.mailbox_id) != 0",
	[STMT_CHECK_META] =
		"SELECT bm.blob_id FROM blob_meta bm LEFT JOIN blobs b "
		"ON b.id = bm.blob_id WHERE b.id IS NULL",

	/* ---- the outbound queue (store_queue.c, decision 0019) ---- */
	[STMT_QUEUE_ADD] =
		"INSERT INTO queue(id, blob_id, sender, envid, created, size, "
		"flags, owner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[STMT_QUEUE_RCPT_ADD] =
		"INSERT INTO queue_rcpts(queue_id, idx, addr, domain, orcpt, "
		"notify, next_try) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
#define STORE_QUEUE_RCPT_COLS                                               \
	"r.queue_id, r.idx, r.addr, r.orcpt, r.notify, r.state, r.attempts, " \
	"r.next_try, r.last_try, r.delay_notified, r.last_reply "
	/* keyset paging over the due index: a scan goes on where the last
	 * one stopped, past the recipients the runner holds in flight */
	[STMT_QUEUE_DUE] =
		"SELECT q.id, q.blob_id, q.sender, q.envid, q.created, q.size, "
		"q.flags, q.held, q.owner_id, 0, 0, " STORE_QUEUE_RCPT_COLS
		"FROM queue_rcpts r JOIN queue q ON q.id = r.queue_id "
		"WHERE r.next_try <= ?1 AND (r.next_try, r.queue_id, r.idx) > "
		"(?2, ?3, ?4) AND (q.held = 0 OR r.state = 1) "
		"ORDER BY r.next_try, r.queue_id, r.idx LIMIT ?5",
	[STMT_QUEUE_NEXT] =
		"SELECT min(r.next_try) FROM queue_rcpts r JOIN queue q "
		"ON q.id = r.queue_id WHERE r.next_try > ?1 AND q.held = 0",
#define STORE_QUEUE_MSG_COLS                                                \
	"SELECT q.id, q.blob_id, q.sender, q.envid, q.created, q.size, "     \
	"q.flags, q.held, q.owner_id, (SELECT count(*) FROM queue_rcpts r "  \
	"WHERE r.queue_id = q.id), (SELECT min(r.next_try) FROM "            \
	"queue_rcpts r WHERE r.queue_id = q.id) FROM queue q "
	[STMT_QUEUE_EACH] = STORE_QUEUE_MSG_COLS "ORDER BY q.created, q.id",
	[STMT_QUEUE_GET] = STORE_QUEUE_MSG_COLS "WHERE q.id = ?1",
	[STMT_QUEUE_RCPTS] =
		"SELECT " STORE_QUEUE_RCPT_COLS "FROM queue_rcpts r "
		"WHERE r.queue_id = ?1 ORDER BY r.idx",
	[STMT_QUEUE_BLOB] =
		"SELECT b.id, b.segment, b.offset, b.length FROM queue q "
		"JOIN blobs b ON b.id = q.blob_id WHERE q.id = ?1",
	[STMT_QUEUE_STATS] =
		"SELECT (SELECT count(*) FROM queue), (SELECT count(*) FROM "
		"queue_rcpts), (SELECT count(*) FROM queue WHERE held != 0), "
		"(SELECT coalesce(sum(size), 0) FROM queue), "
		"(SELECT coalesce(min(created), 0) FROM queue)",
	[STMT_QUEUE_RELEASE_BLOB] =
		"UPDATE blobs SET refcount = refcount - 1 WHERE id = (SELECT "
		"blob_id FROM queue WHERE id = ?1) AND NOT EXISTS (SELECT 1 "
		"FROM queue_rcpts WHERE queue_id = ?1)",
	[STMT_QUEUE_DROP_IF_EMPTY] =
		"DELETE FROM queue WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM "
		"queue_rcpts WHERE queue_id = ?1)",
	[STMT_QUEUE_RCPT_DROP] =
		"DELETE FROM queue_rcpts WHERE queue_id = ?1 AND idx = ?2",
	/* a bounce asked for meanwhile (state 1) stays due now */
	[STMT_QUEUE_RCPT_RETRY] =
		"UPDATE queue_rcpts SET attempts = attempts + 1, next_try = "
		"CASE WHEN state = 1 THEN 0 ELSE ?3 END, last_try = ?4, "
		"last_reply = CASE WHEN state = 1 THEN last_reply "
		"ELSE coalesce(?5, last_reply) END "
		"WHERE queue_id = ?1 AND idx = ?2",
	[STMT_QUEUE_RCPT_NOTIFIED] =
		"UPDATE queue_rcpts SET delay_notified = 1 "
		"WHERE queue_id = ?1 AND idx = ?2",
	[STMT_QUEUE_EXISTS] = "SELECT 1 FROM queue WHERE id = ?1",
	[STMT_QUEUE_HOLD] = "UPDATE queue SET held = 1 WHERE id = ?1",
	[STMT_QUEUE_UNHOLD] = "UPDATE queue SET held = 0 WHERE id = ?1",
	[STMT_QUEUE_RETRY_NOW] =
		"UPDATE queue_rcpts SET next_try = 0 WHERE queue_id = ?1",
	[STMT_QUEUE_BOUNCE_ALL] =
		"UPDATE queue_rcpts SET state = 1, next_try = 0, "
		"last_reply = ?2 WHERE queue_id = ?1",
	[STMT_QUEUE_RCPT_DROP_ALL] =
		"DELETE FROM queue_rcpts WHERE queue_id = ?1",
	/* tenants model (issue 5) */
#define STORE_DOMAIN_COLUMNS                                                 \
	"SELECT d.id, d.name, d.unicode, d.status, d.max_mailboxes, "         \
	"d.mailbox_quota, d.domain_quota, coalesce(t.name, ''), d.catchall, " \
	"d.created, (SELECT count(*) FROM mailboxes m "                       \
	"WHERE m.domain_id = d.id), (SELECT coalesce(sum(m.used), 0) "        \
	"FROM mailboxes m WHERE m.domain_id = d.id), "                        \
	"coalesce(t.status, d.status) "                                       \
	"FROM domains d LEFT JOIN domains t ON t.id = d.alias_of "
	[STMT_MODEL_DOMAIN_GET] = STORE_DOMAIN_COLUMNS "WHERE d.name = ?1",
	[STMT_MODEL_DOMAIN_EACH] = STORE_DOMAIN_COLUMNS "ORDER BY d.name",
	[STMT_MODEL_DOMAIN_ADD] =
		"INSERT INTO domains(name, unicode, created, alias_of) "
		"VALUES (?1, ?2, ?3, (SELECT id FROM domains WHERE name = ?4 "
		"AND alias_of IS NULL))",
	[STMT_MODEL_DOMAIN_PLAN] =
		"UPDATE domains SET max_mailboxes = ?2, mailbox_quota = ?3, "
		"domain_quota = ?4 WHERE name = ?1 AND alias_of IS NULL",
	[STMT_MODEL_DOMAIN_STATUS] =
		"UPDATE domains SET status = ?2 WHERE name = ?1",
	[STMT_MODEL_DOMAIN_CATCHALL] =
		"UPDATE domains SET catchall = ?2 WHERE name = ?1 "
		"AND alias_of IS NULL",
	[STMT_MODEL_DOMAIN_MAILBOXES] =
		"SELECT d.max_mailboxes, (SELECT count(*) FROM mailboxes m "
		"WHERE m.domain_id = d.id), d.alias_of IS NOT NULL "
		"FROM domains d WHERE d.name = ?1",
	[STMT_MODEL_FIRST_DOMAIN] =
		"SELECT name FROM domains WHERE alias_of IS NULL "
		"ORDER BY id LIMIT 1",
	[STMT_MODEL_MAILBOX_GET] =
		"SELECT m.id, m.local_part, d.name, m.quota, m.used, m.enabled, "
		"m.display_name, m.forward, m.created "
		"FROM mailboxes m JOIN domains d ON d.id = m.domain_id "
		"WHERE d.name = ?2 AND m.local_part = ?1",
	[STMT_MODEL_MAILBOX_ENABLED] =
		"UPDATE mailboxes SET enabled = ?3 WHERE local_part = ?1 AND "
		"domain_id = (SELECT id FROM domains WHERE name = ?2)",
	[STMT_MODEL_MAILBOX_FORWARD] =
		"UPDATE mailboxes SET forward = ?3 WHERE local_part = ?1 AND "
		"domain_id = (SELECT id FROM domains WHERE name = ?2)",
	[STMT_MODEL_MAILBOX_NAME] =
		"UPDATE mailboxes SET display_name = ?3 WHERE local_part = ?1 "
		"AND domain_id = (SELECT id FROM domains WHERE name = ?2)",
	/* RFC 5321 4.5.1: postmaster without a mailbox or alias of its own
	 * reaches the domain's first mailbox (decision 0022). */
	[STMT_MODEL_POSTMASTER] =
		"SELECT m.local_part FROM mailboxes m "
		"JOIN domains d ON d.id = m.domain_id "
		"WHERE d.name = ?1 AND m.enabled != 0 ORDER BY m.id LIMIT 1",
	[STMT_MODEL_ALIAS_FIND] =
		"SELECT a.id, a.kind, a.post FROM aliases a "
		"JOIN domains d ON d.id = a.domain_id "
		"WHERE d.name = ?2 AND a.local_part = ?1",
	[STMT_MODEL_ALIAS_ADD] =
		"INSERT INTO aliases(domain_id, local_part, kind, post, created) "
		"VALUES ((SELECT id FROM domains WHERE name = ?1 "
		"AND alias_of IS NULL), ?2, ?3, ?4, ?5)",
	[STMT_MODEL_ALIAS_DEL] = "DELETE FROM aliases WHERE id = ?1",
	[STMT_MODEL_ALIAS_EACH] =
		"SELECT a.id, a.local_part, d.name, a.kind, a.post "
		"FROM aliases a JOIN domains d ON d.id = a.domain_id "
		"WHERE (?1 = '' OR d.name = ?1) AND (?2 < 0 OR a.kind = ?2) "
		"ORDER BY d.name, a.local_part",
	[STMT_MODEL_TARGET_EACH] =
		"SELECT kind, addr FROM alias_targets WHERE alias_id = ?1 "
		"ORDER BY kind, addr",
	[STMT_MODEL_TARGET_ADD] =
		"INSERT OR IGNORE INTO alias_targets(alias_id, kind, addr) "
		"VALUES (?1, ?2, ?3)",
	[STMT_MODEL_TARGET_DEL] =
		"DELETE FROM alias_targets WHERE alias_id = ?1 AND kind = ?2 "
		"AND addr = ?3",
	/* May user ?3 send as ?1@?2: an alias that delivers to them, or a
	 * group that lists them as a sender, or whose members may post and
	 * they are one. */
	[STMT_MODEL_SEND_AS] =
		"SELECT 1 FROM aliases a JOIN domains d ON d.id = a.domain_id "
		"JOIN alias_targets t ON t.alias_id = a.id "
		"WHERE d.name = ?2 AND a.local_part = ?1 AND t.addr = ?3 AND "
		"((a.kind = 0 AND t.kind = 0) OR (a.kind = 1 AND "
		"(t.kind = 1 OR (t.kind = 0 AND a.post = 1)))) LIMIT 1",
	/* credentials and the audit log (store_cred.c, store_audit.c) */
	[STMT_APP_PASSWORD_ADD] =
		"INSERT INTO app_passwords(mailbox_id, name, hash, created) "
		"VALUES (?1, ?2, ?3, ?4)",
	[STMT_APP_PASSWORD_EACH] =
		"SELECT id, name, created, last_used, last_ip, revoked "
		"FROM app_passwords WHERE mailbox_id = ?1 ORDER BY id",
	[STMT_APP_PASSWORD_REVOKE] =
		"UPDATE app_passwords SET revoked = ?3 "
		"WHERE id = ?2 AND mailbox_id = ?1 AND revoked = 0",
	[STMT_APP_PASSWORD_MATCH] =
		"SELECT id FROM app_passwords "
		"WHERE mailbox_id = ?1 AND hash = ?2 AND revoked = 0",
	[STMT_APP_PASSWORD_USED] =
		"UPDATE app_passwords SET last_used = ?2, last_ip = ?3 "
		"WHERE id = ?1 AND last_used <= ?2",
	[STMT_MAILBOX_ID] =
		"SELECT m.id FROM mailboxes m JOIN domains d "
		"ON d.id = m.domain_id WHERE m.local_part = ?1 AND d.name = ?2",
	[STMT_TOTP_GET] =
		"SELECT totp_secret, totp_last_step FROM mailboxes WHERE id = ?1",
	[STMT_TOTP_SET] =
		"UPDATE mailboxes SET totp_secret = ?2, totp_last_step = 0 "
		"WHERE id = ?1",
	/* the replay guard: a step is taken once, and never one before */
	[STMT_TOTP_USE] =
		"UPDATE mailboxes SET totp_last_step = ?2 "
		"WHERE id = ?1 AND totp_secret != '' AND totp_last_step < ?2",
	[STMT_DOMAIN_2FA_GET] =
		"SELECT twofa_required FROM domains WHERE name = ?1",
	[STMT_DOMAIN_2FA_SET] =
		"UPDATE domains SET twofa_required = ?2 WHERE name = ?1",
	[STMT_AUDIT_LAST] =
		"SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
	[STMT_AUDIT_ADD] =
		"INSERT INTO audit(id, time, actor, kind, subject, ip, detail, "
		"prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[STMT_AUDIT_EACH] =
		"SELECT id, time, actor, kind, subject, ip, detail, prev, hash "
		"FROM audit WHERE time >= ?1 ORDER BY id",
	[STMT_LOGIN_LAST] =
		"UPDATE mailboxes SET last_login = ?2, last_login_ip = ?3 "
		"WHERE id = ?1 AND last_login <= ?2",
	/* changes() is 1 for a new address, 0 for a known one */
	[STMT_LOGIN_IP_NEW] =
		"INSERT OR IGNORE INTO mailbox_ips(mailbox_id, ip, last_seen) "
		"VALUES (?1, ?2, ?3)",
	[STMT_LOGIN_IP_SEEN] =
		"UPDATE mailbox_ips SET last_seen = max(last_seen, ?3) "
		"WHERE mailbox_id = ?1 AND ip = ?2",
	[STMT_LOGIN_IP_PRUNE] =
		"DELETE FROM mailbox_ips WHERE mailbox_id = ?1 AND ip NOT IN "
		"(SELECT ip FROM mailbox_ips WHERE mailbox_id = ?1 "
		"ORDER BY last_seen DESC, ip LIMIT ?3)",
	[STMT_LOGIN_LAST_GET] =
		"SELECT last_login, last_login_ip FROM mailboxes WHERE id = ?1",
};

/* Schema migrations: step i brings schema_version from i to i + 1. All
 * pending steps run in one transaction, so a store is never left between
 * two versions. Append new steps; never edit a released one. */
static const char *const store_migrations[] = {
	/* 1: directory, folders, blobs and the message index. */
	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE mailboxes ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	/* NOCASE on the column (not only in the UNIQUE) so that lookups
	 * compare case-insensitively and use the index. */
	"  local_part TEXT NOT NULL COLLATE NOCASE,"
	"  password_hash TEXT NOT NULL,"
	"  quota INTEGER NOT NULL DEFAULT 0,"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (domain_id, local_part COLLATE NOCASE));"
	"CREATE TABLE folders ("
	"  id INTEGER PRIMARY KEY,"
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	"  name TEXT NOT NULL,"
	"  special_use INTEGER NOT NULL DEFAULT 0,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uidnext INTEGER NOT NULL DEFAULT 1,"
	"  highestmodseq INTEGER NOT NULL DEFAULT 1,"
	"  subscribed INTEGER NOT NULL DEFAULT 1,"
	"  UNIQUE (mailbox_id, name));"
	/* At most one folder per special use in a mailbox; also the index
	 * the committer finds INBOX by. */
	"CREATE UNIQUE INDEX folders_special ON folders(mailbox_id, special_use)"
	"  WHERE special_use != 0;"
	"CREATE TABLE blobs ("
	"  id INTEGER PRIMARY KEY,"
	"  segment INTEGER NOT NULL,"
	"  offset INTEGER NOT NULL,"
	"  length INTEGER NOT NULL,"
	"  refcount INTEGER NOT NULL);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  folder_id INTEGER NOT NULL REFERENCES folders(id),"
	"  uid INTEGER NOT NULL,"
	"  blob_id INTEGER NOT NULL REFERENCES blobs(id),"
	"  size INTEGER NOT NULL,"
	"  internal_date INTEGER NOT NULL,"
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  modseq INTEGER NOT NULL,"
	"  UNIQUE (folder_id, uid));"
	"CREATE INDEX messages_blob ON messages(blob_id);",
	/* 2: the segments become the write-ahead log (decision 0002): blob
	 * rows are keyed by their place so that replay is idempotent, and
	 * SQLite records how far into the log it holds. Stores of version 1
	 * with messages are refused (store_schema_migrate): their records
	 * have the old format. */
	"CREATE UNIQUE INDEX blobs_location ON blobs(segment, offset);"
	"CREATE TABLE log_applied ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  segment INTEGER NOT NULL,"
	"  offset INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL);"
	"INSERT INTO log_applied(id, segment, offset, seq) VALUES (1, 0, 0, 0);",
	/* 3: what IMAP and POP3 change (decision 0004): keywords as a bit
	 * set per message with names per mailbox, expunged UIDs for
	 * QRESYNC, subscriptions apart from folders (they may name folders
	 * that do not exist, RFC 9051 6.3.7), folder ids that are never
	 * given twice, and a bounded parse cache per blob. folders.subscribed
	 * now only seeds subscriptions for the folders of a new mailbox. */
	"ALTER TABLE messages ADD COLUMN keywords INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX messages_modseq ON messages(folder_id, modseq);"
	"CREATE TABLE expunged ("
	"  folder_id INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  modseq INTEGER NOT NULL,"
	"  PRIMARY KEY (folder_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX expunged_modseq ON expunged(folder_id, modseq);"
	"CREATE TABLE keywords ("
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	"  bit INTEGER NOT NULL CHECK (bit >= 0 AND bit < 64),"
	"  name TEXT NOT NULL COLLATE NOCASE,"
	"  PRIMARY KEY (mailbox_id, bit),"
	"  UNIQUE (mailbox_id, name)) WITHOUT ROWID;"
	"CREATE TABLE subscriptions ("
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	"  name TEXT NOT NULL,"
	"  PRIMARY KEY (mailbox_id, name)) WITHOUT ROWID;"
	"INSERT INTO subscriptions(mailbox_id, name) "
	"  SELECT mailbox_id, name FROM folders WHERE subscribed != 0;"
	"CREATE TRIGGER folders_subscribe AFTER INSERT ON folders "
	"  WHEN NEW.subscribed != 0 BEGIN "
	"  INSERT OR IGNORE INTO subscriptions(mailbox_id, name) "
	"  VALUES (NEW.mailbox_id, NEW.name); END;"
	"CREATE TRIGGER folders_id_high AFTER DELETE ON folders BEGIN "
	"  INSERT OR REPLACE INTO meta(key, value) VALUES ('folder_id_high', "
	"  max(OLD.id, coalesce((SELECT value FROM meta "
	"  WHERE key = 'folder_id_high'), 0))); END;"
	"CREATE TABLE blob_meta ("
	"  blob_id INTEGER PRIMARY KEY REFERENCES blobs(id),"
	"  data BLOB NOT NULL);",
	/* 4: a folder's message list (SELECT, every IMAP sync, SEARCH's
	 * cache scan) read from one covering index: the rows of a folder
	 * lie together there, while in the table they are interleaved with
	 * every other folder's in delivery order (a message to 50
	 * colleagues is 50 rows side by side), one page read per message. */
	"CREATE INDEX messages_list ON messages(folder_id, uid, size, "
	"  internal_date, flags, modseq, blob_id, keywords);",
	/* 5: the outbound queue (decision 0019): an entry per queue record
	 * (its id is the record's sequence number, so replay is
	 * idempotent), holding one reference to the blob, and a row per
	 * remote recipient with its delivery state; the runner walks the
	 * due index in order. */
	"CREATE TABLE queue ("
	"  id INTEGER PRIMARY KEY,"
	"  blob_id INTEGER NOT NULL REFERENCES blobs(id),"
	"  sender TEXT NOT NULL,"
	"  envid TEXT,"
	"  created INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  held INTEGER NOT NULL DEFAULT 0,"
	"  owner_id INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE queue_rcpts ("
	"  queue_id INTEGER NOT NULL REFERENCES queue(id),"
	"  idx INTEGER NOT NULL,"
	"  addr TEXT NOT NULL,"
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  orcpt TEXT,"
	"  notify INTEGER NOT NULL DEFAULT 0,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL,"
	"  last_try INTEGER NOT NULL DEFAULT 0,"
	"  delay_notified INTEGER NOT NULL DEFAULT 0,"
	"  last_reply TEXT,"
	"  PRIMARY KEY (queue_id, idx)) WITHOUT ROWID;"
	"CREATE INDEX queue_rcpts_due ON queue_rcpts(next_try, queue_id, idx);",
	/* 6: SCRAM-SHA-256
	 * secrets for submission AUTH (decision 0015):
	 * salt, iterations, StoredKey and ServerKey, never the password;
	 * '' until a password is set again. The mock key makes the salt
	 * shown for an unknown user the same across restarts. */
	"ALTER TABLE mailboxes ADD COLUMN scram_secret TEXT NOT NULL DEFAULT '';"
	"INSERT OR IGNORE INTO meta(key, value) "
	"  VALUES ('scram_mock_key', lower(hex(randomblob(32))));",
	/* 7: admin API bearer tokens (decision 0020): only the SHA-256 of
	 * each token; domain '' = global, else the one domain it may see. */
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  domain TEXT NOT NULL DEFAULT '' COLLATE NOCASE,"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL DEFAULT 0,"
	"  last_ip TEXT NOT NULL DEFAULT '',"
	"  revoked INTEGER NOT NULL DEFAULT 0);",
	/* 8: tenants model (issue 5) */
	/* Decision 0022: a domain's Unicode name, status (0 active, 1 suspended), plan (mailbox limit, default
	 * quota of a new mailbox, total of the domain; 0 = none), catch-all
	 * address and, for a domain alias, the domain it stands for; a
	 * mailbox's display name and forwarding address; aliases and groups
	 * (kind 0 alias, 1 group; post 0 anyone, 1 members, 2 listed
	 * senders) with their targets (kind 0 target or member, 1 allowed
	 * sender). */
	"ALTER TABLE domains ADD COLUMN unicode TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE domains ADD COLUMN status INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE domains ADD COLUMN max_mailboxes INTEGER NOT NULL "
	"  DEFAULT 10000;"
	"ALTER TABLE domains ADD COLUMN mailbox_quota INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE domains ADD COLUMN domain_quota INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE domains ADD COLUMN catchall TEXT NOT NULL DEFAULT '';"
	/* no REFERENCES: SQLite cannot drop such a column, and the tests
	 * rewind stores to older schemas; store_model.c keeps it valid */
	"ALTER TABLE domains ADD COLUMN alias_of INTEGER;"
	"ALTER TABLE mailboxes ADD COLUMN display_name TEXT NOT NULL "
	"  DEFAULT '';"
	"ALTER TABLE mailboxes ADD COLUMN forward TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE aliases ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  local_part TEXT NOT NULL COLLATE NOCASE,"
	"  kind INTEGER NOT NULL DEFAULT 0,"
	"  post INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (domain_id, local_part));"
	"CREATE TABLE alias_targets ("
	"  alias_id INTEGER NOT NULL REFERENCES aliases(id) ON DELETE CASCADE,"
	"  kind INTEGER NOT NULL DEFAULT 0,"
	"  addr TEXT NOT NULL COLLATE NOCASE,"
	"  PRIMARY KEY (alias_id, kind, addr)) WITHOUT ROWID;",
	/* 9: app passwords, TOTP, audit log (issue 5) */
	/* App passwords are random (75 bits), so a keyed BLAKE2b of them is
	 * what is kept, not Argon2id (decision 0021); the key is the store's.
	 * revoked is the time of revocation, 0 while valid. The audit log
	 * is a hash chain (store_audit.c): rows are only ever inserted. */
	"CREATE TABLE app_passwords ("
	"  id INTEGER PRIMARY KEY,"
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	"  name TEXT NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL DEFAULT 0,"
	"  last_ip TEXT NOT NULL DEFAULT '',"
	"  revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX app_passwords_mailbox ON app_passwords(mailbox_id, hash);"
	"ALTER TABLE mailboxes ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE mailboxes ADD COLUMN totp_last_step INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE domains ADD COLUMN twofa_required INTEGER NOT NULL "
	"  DEFAULT 0;"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE INDEX audit_time ON audit(time);"
	"INSERT OR IGNORE INTO meta(key, value) "
	"  VALUES ('app_password_key', lower(hex(randomblob(32))));",
	/* 10: last login per mailbox, and the addresses it logged in from
	 * (the newest STORE_KNOWN_IPS_MAX), to flag a login from a new one */
	"ALTER TABLE mailboxes ADD COLUMN last_login INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE mailboxes ADD COLUMN last_login_ip TEXT NOT NULL "
	"  DEFAULT '';"
	"CREATE TABLE mailbox_ips ("
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) "
	"    ON DELETE CASCADE,"
	"  ip TEXT NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox_id, ip));",
	/* 11: password policy per domain (decision 0024): minimum length
	 * in characters, character classes required of 4, and checks
	 * (bit 0: not the local part, bit 1: not a common password). */
	"ALTER TABLE domains ADD COLUMN pw_min_length INTEGER NOT NULL "
	"  DEFAULT 10;"
	"ALTER TABLE domains ADD COLUMN pw_min_classes INTEGER NOT NULL "
	"  DEFAULT 3;"
	"ALTER TABLE domains ADD COLUMN pw_checks INTEGER NOT NULL "
	"  DEFAULT 3;",
	/* 12: DKIM signing keys per domain (decision 0029). The private
	 * key is PKCS#8 PEM, kept here (not in files) so that one backup
	 * of the store holds keys and their rotation state together; it is
	 * emptied once the key is retired. The state is not stored: it
	 * follows from the times (store_dkim.c). The domain is by name, not
	 * id, so removing a domain leaves nothing dangling to refuse it. */
	"CREATE TABLE dkim_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  selector TEXT NOT NULL COLLATE NOCASE,"
	"  algorithm TEXT NOT NULL,"
	"  private_key TEXT NOT NULL,"
	"  public_key TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  activate_at INTEGER NOT NULL,"
	"  retire_at INTEGER NOT NULL DEFAULT 0,"
	"  removed_at INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (domain, selector));",
	/* 13: DMARC aggregate report rows (decision 0032): what inbound
	 * checks saw per UTC day, policy domain and outcome, counted; the
	 * reporter deletes them once sent. The published policy and rua=
	 * are kept as they were when the mail came, so a report says what
	 * the domain asked for then. dmarc_requests carries petrelctl's
	 * "dmarc send" to petreld (which alone can deliver) and its answer
	 * back. */
	"CREATE TABLE dmarc_rows ("
	"  id INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL,"
	"  policy_domain TEXT NOT NULL,"
	"  p INTEGER NOT NULL, sp INTEGER NOT NULL, np INTEGER NOT NULL,"
	"  pct INTEGER NOT NULL, adkim INTEGER NOT NULL,"
	"  aspf INTEGER NOT NULL, rua TEXT NOT NULL,"
	"  source_ip TEXT NOT NULL,"
	"  header_from TEXT NOT NULL,"
	"  envelope_from TEXT NOT NULL,"
	"  disposition INTEGER NOT NULL,"
	"  dkim INTEGER NOT NULL, spf INTEGER NOT NULL,"
	"  dkim_auth TEXT NOT NULL,"
	"  spf_domain TEXT NOT NULL, spf_scope TEXT NOT NULL,"
	"  spf_result INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  UNIQUE (day, policy_domain, p, sp, np, pct, adkim, aspf, rua,"
	"    source_ip, header_from, envelope_from, disposition, dkim, spf,"
	"    dkim_auth, spf_domain, spf_scope, spf_result));"
	"CREATE TABLE dmarc_requests ("
	"  id INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL,"
	"  domain TEXT NOT NULL,"
	"  dry_run INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  done INTEGER NOT NULL DEFAULT 0,"
	"  result TEXT NOT NULL DEFAULT '');",
	/* 14: the
	 * filter's settings per domain and the quarantine (decision 0040).
	 * Both name the domain by text, as dkim_keys does, so removing a
	 * domain finds nothing to refuse it; an entry outlives its mailbox
	 * until it expires or is deleted. A quarantine row holds one
	 * reference to its blob, as a queue entry does; its id is the
	 * sequence number of the log record that made it. */
	"CREATE TABLE filter_settings ("
	"  domain TEXT PRIMARY KEY COLLATE NOCASE,"
	"  level INTEGER NOT NULL DEFAULT 0,"
	"  quarantine_days INTEGER NOT NULL DEFAULT 30,"
	"  user_release INTEGER NOT NULL DEFAULT 0,"
	"  external_tag INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE quarantine ("
	"  id INTEGER PRIMARY KEY,"
	"  blob_id INTEGER NOT NULL REFERENCES blobs(id),"
	"  mailbox_id INTEGER NOT NULL,"
	"  address TEXT NOT NULL COLLATE NOCASE,"
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  sender TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  score REAL NOT NULL,"
	"  symbols TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  release_requested INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX quarantine_newest ON quarantine(received, id);"
	"CREATE INDEX quarantine_domain ON quarantine(domain, received, id);"
	"CREATE INDEX quarantine_address ON quarantine(address, received, id);"
	"CREATE INDEX quarantine_expires ON quarantine(expires);"
	"CREATE INDEX quarantine_requested ON quarantine(release_requested) "
	"  WHERE release_requested != 0;",
	/* 15: the statistical classifier's counts (decision 0037): per
	 * scope ("global", "domain:D", "user:A") the messages learned and,
	 * per token hash, in how many spam and ham messages it was; and
	 * what each message (by a hash of its bytes) was learned as, so
	 * that learning it again or the other way moves its counts rather
	 * than adding them twice. generation changes with every learning
	 * so that a classifier's in-memory copy knows when to reload. */
	"CREATE TABLE bayes_scopes ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  spam INTEGER NOT NULL DEFAULT 0,"
	"  ham INTEGER NOT NULL DEFAULT 0,"
	"  generation INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE bayes_tokens ("
	"  scope_id INTEGER NOT NULL,"
	"  hash INTEGER NOT NULL,"
	"  spam INTEGER NOT NULL,"
	"  ham INTEGER NOT NULL,"
	"  PRIMARY KEY (scope_id, hash)) WITHOUT ROWID;"
	"CREATE TABLE bayes_learned ("
	"  scope_id INTEGER NOT NULL,"
	"  key BLOB NOT NULL,"
	"  label INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  PRIMARY KEY (scope_id, key)) WITHOUT ROWID;",
	/* 16: the classifier's logistic model per scope (decision 0044), a
	 * blob only src/filter/lr.c reads; written with the scope's
	 * generation bumped so that cached copies are read again. */
	"ALTER TABLE bayes_scopes ADD COLUMN model BLOB;",
};

#define STORE_SCHEMA_VERSION \
	((int64_t)(sizeof store_migrations / sizeof store_migrations[0]))

int store_db_fail(struct err *err, struct store_conn *c, const char *what)
{
	const char *why = c != NULL && c->db != NULL ? sqlite3_errmsg(c->db)
						     : "out of memory";
	log_error("store", NULL, "op=\"%s\" error=\"%s\"", what, why);
	return err_set(err, ERR_ENV, 451, "4.3.0", "store: %s: %s", what, why);
}

int store_admin_tx(struct store *st,
		   int (*fn)(struct store_conn *c, void *arg, struct err *err),
		   void *arg, struct err *err)
{
	pthread_mutex_lock(&st->admin_mu);
	struct store_conn *c = st->admin;
	int ret = -1;
	if (store_exec(c, STMT_BEGIN, err) == 0) {
		if (fn(c, arg, err) == 0 && store_exec(c, STMT_COMMIT, err) == 0)
			ret = 0;
		else
			store_rollback(c);
	}
	pthread_mutex_unlock(&st->admin_mu);
	return ret;
}

int store_sys_fail(struct err *err, const char *what, int errnum)
{
	log_error("store", NULL, "op=\"%s\" error=\"%s\"", what,
		  strerror(errnum));
	return err_set(err, ERR_ENV, 451, "4.3.0", "store: %s: %s", what,
		       strerror(errnum));
}

/* Run one pragma (which may return a row) and check it succeeded. */
static int conn_pragma(struct store_conn *c, const char *sql,
		       const char *expect, struct err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, sql);
	int rc = sqlite3_step(s);
	bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	if (ok && expect != NULL) {
		const unsigned char *v =
			rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
		ok = v != NULL && strcmp((const char *)v, expect) == 0;
		if (!ok) {
			sqlite3_finalize(s);
			return err_set(err, ERR_CONFIG, 0, "",
				       "store: %s did not give %s (does the "
				       "file system support shared memory?)",
				       sql, expect);
		}
	}
	if (!ok) {
		store_db_fail(err, c, sql);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int store_conn_open(const char *db_path, enum store_conn_mode mode,
		    struct store_conn **out, struct err *err)
{
	struct store_conn *c = xcalloc(1, sizeof *c);
	/* NOMUTEX: a connection is only ever used by one thread at a time
	 * (the committer, the admin mutex holder, or a pool borrower). */
	int flags = SQLITE_OPEN_NOMUTEX |
		    (mode != STORE_CONN_READ
			     ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
			     : SQLITE_OPEN_READONLY);
	if (sqlite3_open_v2(db_path, &c->db, flags, NULL) != SQLITE_OK) {
		store_db_fail(err, c, "open database");
		store_conn_close(&c);
		return -1;
	}
	sqlite3_extended_result_codes(c->db, 1);
	if (sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
		goto fail;
	/* After chroot there may be no /tmp: sorts and temporary tables stay
	 * in memory. */
	if (conn_pragma(c, "PRAGMA temp_store = MEMORY", NULL, err) < 0 ||
	    conn_pragma(c, "PRAGMA foreign_keys = ON", NULL, err) < 0)
		goto fail_err;
	/* Admin writes are FULL: each commit syncs the WAL, and with it
	 * every committer transaction before it. The committer's are NORMAL
	 * (see STORE_CONN_COMMIT): WAL order means a crash loses at most the
	 * committer transactions after the last synced commit, never an admin
	 * one, which store_log.c relies on. */
	if (mode != STORE_CONN_READ) {
		if (conn_pragma(c, "PRAGMA journal_mode = WAL", "wal", err) < 0 ||
		    conn_pragma(c, mode == STORE_CONN_COMMIT
					   ? "PRAGMA synchronous = NORMAL"
					   : "PRAGMA synchronous = FULL",
				NULL, err) < 0)
			goto fail_err;
	}
	*out = c;
	return 0;
fail:
	store_db_fail(err, c, "configure database");
fail_err:
	store_conn_close(&c);
	return -1;
}

void store_conn_close(struct store_conn **cp)
{
	struct store_conn *c = *cp;
	if (c == NULL)
		return;
	for (size_t i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	/* sqlite3_close_v2 only fails for unfinalized statements, and all of
	 * ours are finalized above. */
	if (sqlite3_close_v2(c->db) != SQLITE_OK)
		log_error("store", NULL, "op=close error=\"%s\"",
			  sqlite3_errmsg(c->db));
	free(c);
	*cp = NULL;
}

sqlite3_stmt *store_stmt(struct store_conn *c, enum store_stmt id,
			 struct err *err)
{
	if (c->stmt[id] == NULL) {
		if (sqlite3_prepare_v3(c->db, store_sql[id], -1,
				       SQLITE_PREPARE_PERSISTENT, &c->stmt[id],
				       NULL) != SQLITE_OK) {
			store_db_fail(err, c, store_sql[id]);
			return NULL;
		}
		return c->stmt[id];
	}
	/* reset returns the previous step's error, already handled then */
	(void)sqlite3_reset(c->stmt[id]);
	return c->stmt[id];
}

int store_exec(struct store_conn *c, enum store_stmt id, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, id, err);
	if (s == NULL)
		return -1;
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* the step's code is checked below */
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_fail(err, c, store_sql[id]);
	return 0;
}

void store_rollback(struct store_conn *c)
{
	if (sqlite3_get_autocommit(c->db))
		return;	/* SQLite already rolled back (e.g. SQLITE_FULL) */
	struct err e;
	/* A failed ROLLBACK is logged by store_exec; the connection then has
	 * no usable transaction either way and the next BEGIN will say. */
	(void)store_exec(c, STMT_ROLLBACK, &e);
}

struct store_conn *store_reader_get(struct store *st, struct err *err)
{
	pthread_mutex_lock(&st->pool_mu);
	struct store_conn *c = st->pool;
	if (c != NULL) {
		st->pool = c->next;
		st->pool_len--;
	}
	pthread_mutex_unlock(&st->pool_mu);
	if (c != NULL) {
		c->next = NULL;
		return c;
	}
	if (store_conn_open(st->db_path, STORE_CONN_READ, &c, err) < 0)
		return NULL;
	return c;
}

void store_reader_put(struct store *st, struct store_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&st->pool_mu);
	if (st->pool_len < STORE_READER_POOL_MAX) {
		c->next = st->pool;
		st->pool = c;
		st->pool_len++;
		c = NULL;
	}
	pthread_mutex_unlock(&st->pool_mu);
	store_conn_close(&c);
}

static int meta_get_int(struct store_conn *c, const char *key, int64_t dflt,
			int64_t *out, struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_META_GET, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*out = dflt;
	(void)sqlite3_reset(s);	/* rc is checked below */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(err, c, "read meta");
	return 0;
}

static int meta_set_int(struct store_conn *c, const char *key, int64_t v,
			struct err *err)
{
	sqlite3_stmt *s = store_stmt(c, STMT_META_SET, err);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc is checked below */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, "write meta");
	return 0;
}

/* UIDVALIDITY (RFC 3501 2.3.1.1) must change whenever a folder name is
 * reused with other UIDs. Taking max(now, last + 1) from a counter in meta
 * keeps the values time-based, non-zero and strictly increasing across the
 * whole store, even for folders created within the same second. Runs
 * inside the caller's write transaction. */
int store_meta_next_uidvalidity(struct store_conn *c, int64_t now,
				uint32_t *out, struct err *err)
{
	int64_t last;
	if (meta_get_int(c, "uidvalidity_last", 0, &last, err) < 0)
		return -1;
	int64_t v = now > last ? now : last + 1;
	if (v < 1)
		v = 1;
	if (v > (int64_t)UINT32_MAX)
		return err_set(err, ERR_LIMIT, 451, "4.3.0",
			       "store: UIDVALIDITY values are exhausted");
	if (meta_set_int(c, "uidvalidity_last", v, err) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* One integer from sql (no parameters), for migration checks. */
static int count_rows(struct store_conn *c, const char *sql, int64_t *out,
		      struct err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_db_fail(err, c, sql);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_db_fail(err, c, sql);
	return 0;
}

int store_schema_migrate(struct store_conn *c, struct err *err)
{
	if (sqlite3_exec(c->db,
			 "CREATE TABLE IF NOT EXISTS meta ("
			 "  key TEXT PRIMARY KEY, value)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return store_db_fail(err, c, "create meta table");
	if (store_exec(c, STMT_BEGIN, err) < 0)
		return -1;
	int64_t version;
	if (meta_get_int(c, "schema_version", 0, &version, err) < 0)
		goto fail;
	if (version < 0 || version > STORE_SCHEMA_VERSION) {
		err_set(err, ERR_CONFIG, 0, "",
			"store: schema version %lld is not one this petrel "
			"knows (newest %lld)",
			(long long)version, (long long)STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version == STORE_SCHEMA_VERSION) {
		store_rollback(c);
		return 0;
	}
	if (version == 1) {
		int64_t blobs = 0;
		if (count_rows(c, "SELECT count(*) FROM blobs", &blobs, err) < 0)
			goto fail;
		if (blobs > 0) {
			err_set(err, ERR_CONFIG, 0, "",
				"store: it holds messages in the segment format "
				"of schema 1, which this petrel cannot replay; "
				"recreate the store");
			goto fail;
		}
	}
	for (int64_t v = version; v < STORE_SCHEMA_VERSION; v++) {
		char *msg = NULL;
		if (sqlite3_exec(c->db, store_migrations[v], NULL, NULL, &msg) !=
		    SQLITE_OK) {
			log_error("store", NULL,
				  "op=migrate step=%lld error=\"%s\"",
				  (long long)v + 1, msg ? msg : "?");
			err_set(err, ERR_ENV, 451, "4.3.0",
				"store: schema migration %lld failed: %s",
				(long long)v + 1, msg ? msg : "?");
			sqlite3_free(msg);
			goto fail;
		}
	}
	if (meta_set_int(c, "schema_version", STORE_SCHEMA_VERSION, err) < 0 ||
	    store_exec(c, STMT_COMMIT, err) < 0)
		goto fail;
	log_info("store", NULL, "op=migrate from=%lld to=%lld",
		 (long long)version, (long long)STORE_SCHEMA_VERSION);
	return 0;
fail:
	store_rollback(c);
	return -1;
}

/* ---- checkpointer ------------------------------------------------------- */

/* On the committer's thread, inside its COMMIT: only a signal, once per
 * STORE_CHECKPOINT_PAGES new pages (a pass does not shrink the WAL; only
 * a transaction that begins when all of it is copied does). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	struct store *st = arg;
	if (pages < st->ckpt_last)	/* SQLite started the WAL over */
		st->ckpt_next = STORE_CHECKPOINT_PAGES;
	st->ckpt_last = pages;
	if (pages >= st->ckpt_next) {
		st->ckpt_next = pages + STORE_CHECKPOINT_PAGES;
		pthread_mutex_lock(&st->ckpt_mu);
		st->ckpt_wanted = true;
		pthread_cond_signal(&st->ckpt_cv);
		pthread_mutex_unlock(&st->ckpt_mu);
	}
	return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->ckpt_mu);
	for (;;) {
		while (!st->ckpt_wanted && !st->ckpt_stop)
			pthread_cond_wait(&st->ckpt_cv, &st->ckpt_mu);
		if (st->ckpt_stop)
			break;
		st->ckpt_wanted = false;
		pthread_mutex_unlock(&st->ckpt_mu);
		/* PASSIVE: copies what no reader still needs, without waiting
		 * for readers or the writer. Busy (another connection
		 * checkpointing) is normal. */
		int wal_pages = 0, done = 0;
		int rc = sqlite3_wal_checkpoint_v2(st->ckpt_conn->db, NULL,
						   SQLITE_CHECKPOINT_PASSIVE,
						   &wal_pages, &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("store", NULL, "op=checkpoint error=\"%s\"",
				 sqlite3_errmsg(st->ckpt_conn->db));
		else
			log_debug("store", NULL, "op=checkpoint wal=%d done=%d",
				  wal_pages, done);
		pthread_mutex_lock(&st->ckpt_mu);
		if (rc == SQLITE_OK)
			st->ckpt_finish = true;
	}
	pthread_mutex_unlock(&st->ckpt_mu);
	return NULL;
}

void store_checkpoint_finish(struct store *st)
{
	pthread_mutex_lock(&st->ckpt_mu);
	bool finish = st->ckpt_finish;
	st->ckpt_finish = false;
	pthread_mutex_unlock(&st->ckpt_mu);
	if (!finish)
		return;
	int rc = sqlite3_wal_checkpoint_v2(st->writer->db, NULL,
					   SQLITE_CHECKPOINT_PASSIVE, NULL,
					   NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("store", NULL, "op=checkpoint-finish error=\"%s\"",
			 sqlite3_errmsg(st->writer->db));
}

int store_checkpointer_start(struct store *st, struct err *err)
{
	if (store_conn_open(st->db_path, STORE_CONN_WRITE, &st->ckpt_conn,
			    err) < 0)
		return -1;
	if (store_thread_start(&st->ckpt_thread, checkpointer_main, st,
			       "petrel-ckpt", err) < 0)
		return -1;
	st->ckpt_running = true;
	st->ckpt_next = STORE_CHECKPOINT_PAGES;
	st->ckpt_last = 0;
	sqlite3_wal_hook(st->writer->db, wal_hook, st);
	return 0;
}

void store_checkpointer_stop(struct store *st)
{
	if (st->writer != NULL)
		sqlite3_wal_hook(st->writer->db, NULL, NULL);
	if (st->ckpt_running) {
		pthread_mutex_lock(&st->ckpt_mu);
		st->ckpt_stop = true;
		pthread_cond_signal(&st->ckpt_cv);
		pthread_mutex_unlock(&st->ckpt_mu);
		int rc = pthread_join(st->ckpt_thread, NULL);
		if (rc != 0)
			log_error("store", NULL, "op=join-checkpointer "
				  "error=\"%s\"", strerror(rc));
		st->ckpt_running = false;
	}
	store_conn_close(&st->ckpt_conn);
}

int store_rows(struct store_conn *c, sqlite3_stmt *s,
	       int (*row)(sqlite3_stmt *s, void *arg), void *arg,
	       const char *what, struct err *err)
{
	int rc, r = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = row(s, arg)) != 0)
			break;
	(void)sqlite3_reset(s);	/* rc handled below */
	if (r < 0)
		return -1;
	if (r > 0 || rc == SQLITE_DONE)
		return 0;
	return store_db_fail(err, c, what);
}

int store_step_done(struct store_conn *c, sqlite3_stmt *s, const char *what,
		    struct err *err)
{
	int rc = sqlite3_step(s);
	(void)sqlite3_reset(s);	/* rc checked here */
	if (rc != SQLITE_DONE)
		return store_db_fail(err, c, what);
	return 0;
}
