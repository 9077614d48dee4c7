/*
 * session: see session.h.
 *
 * Threads: event loops call session_create/lookup/revoke (memory only, under
 * session_mu); the maintenance thread owns one SQLite connection and does all
 * session I/O: it writes queued inserts and deletes, saves idle timers, and
 * re-reads users and sessions when another connection changed the file
 * (PRAGMA data_version), so a change made by `focal user disable` in another
 * process or by an admin request on a worker reaches every loop within
 * SESSION_POLL_MS.
 *
 * Only the SHA-256 of a token is kept, in memory as in the store: a copy of
 * the database does not yield usable tokens.
 */
#include "auth/session.h"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "audit/audit_outbox.h"
#include "auth/user.h"
#include "core/log.h"
#include "store/store.h"

#define SESSION_BUCKETS 1024
#define SESSION_POLL_MS 250
#define SESSION_FULL_RELOAD_S 5      /* validity dates pass without any write */
#define SESSION_TOUCH_SAVE_S 30      /* how often idle timers reach the store */
#define SESSION_INACTIVE_CHECK_S 3600
#define SESSION_MAX 100000           /* memory bound: refuse new sessions beyond */

struct sess {
	unsigned char th[32];          /* SHA-256 of the token */
	char id[PRINCIPAL_ID_MAX];
	struct auth_principal p;
	char csrf[SESSION_CSRF_HEX + 1];
	char cert_fp[65];
	int64_t created_ms, last_seen_ms, expires_ms;
	bool persisted;                /* the store has its row */
	bool touched;                  /* last_seen changed since saved */
	struct sess *next;
};

enum sess_op_kind { OP_INSERT, OP_DELETE };

struct sess_op {
	enum sess_op_kind kind;
	unsigned char th[32];
	struct sess snap; /* OP_INSERT: what to write */
	struct sess_op *next;
};

struct user_state {
	char name[PRINCIPAL_ID_MAX];
};

static pthread_mutex_t session_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t session_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t session_done_cv = PTHREAD_COND_INITIALIZER;
static struct sess *session_tab[SESSION_BUCKETS];
static size_t session_n;
static struct sess_op *session_ops_head, *session_ops_tail;
static struct user_state *session_active; /* sorted names of active users */
static size_t session_nactive;
static struct session_limits session_lim = { 1800, 43200, 90 };
static struct store *session_store;
static pthread_t session_thread;
static bool session_running, session_stop, session_force;
static uint64_t session_reloads;

static int64_t session_now_ms(void)
{
	return store_now_ms();
}

static size_t session_bucket(const unsigned char th[32])
{
	return ((size_t)th[0] | (size_t)th[1] << 8) % SESSION_BUCKETS;
}

/* Hash of a presented token; false when it is not 64 hex digits. */
static bool session_token_hash(const char *token, unsigned char th[32])
{
	size_t n = strlen(token);

	if (n != SESSION_TOKEN_HEX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = token[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	crypto_hash_sha256(th, (const unsigned char *)token, n);
	return true;
}

/* Under session_mu. */
static struct sess **session_find(const unsigned char th[32])
{
	struct sess **pp = &session_tab[session_bucket(th)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (sodium_memcmp((*pp)->th, th, 32) == 0)
			return pp;
	return NULL;
}

/* Under session_mu: queues a store operation for the maintenance thread. */
static void session_queue(enum sess_op_kind kind, const struct sess *s)
{
	struct sess_op *op = calloc(1, sizeof(*op));

	if (op == NULL) {
		/* the next reload drops it from memory anyway if it is gone from
		 * the store; a lost insert only loses the session at a restart */
		log_error("session.queue", "out of memory");
		return;
	}
	op->kind = kind;
	memcpy(op->th, s->th, 32);
	if (kind == OP_INSERT)
		op->snap = *s;
	if (session_ops_tail != NULL)
		session_ops_tail->next = op;
	else
		session_ops_head = op;
	session_ops_tail = op;
	pthread_cond_signal(&session_cv);
}

/* Under session_mu: unlinks and frees *pp. */
static void session_unlink(struct sess **pp, bool queue_delete, const char *reason)
{
	struct sess *s = *pp;

	*pp = s->next;
	session_n--;
	if (queue_delete)
		session_queue(OP_DELETE, s);
	log_info("session.end", "session %s of %s ended: %s", s->id, s->p.user, reason);
	/* audit_event returns at once (it queues), so holding session_mu is fine */
	audit_event("auth.session.end", &s->p,
		    json_pack("{s:s, s:s}", "session", s->id, "reason", reason), NULL);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

static int session_cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct user_state *)a)->name, ((const struct user_state *)b)->name);
}

bool session_user_active(const char *user)
{
	struct user_state key;
	bool found;

	snprintf(key.name, sizeof(key.name), "%s", user);
	pthread_mutex_lock(&session_mu);
	found = session_active != NULL &&
		bsearch(&key, session_active, session_nactive, sizeof(key), session_cmp_user) !=
			NULL;
	pthread_mutex_unlock(&session_mu);
	return found;
}

int session_create(const struct auth_principal *p, const char *cert_fp,
		   struct session_grant *out, struct focal_err *err)
{
	unsigned char tok[32], idb[16], csrf[32];
	struct sess *s;
	int64_t now = session_now_ms();

	memset(out, 0, sizeof(*out));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	randombytes_buf(tok, sizeof(tok));
	randombytes_buf(idb, sizeof(idb));
	randombytes_buf(csrf, sizeof(csrf));
	sodium_bin2hex(out->token, sizeof(out->token), tok, sizeof(tok));
	sodium_bin2hex(out->id, sizeof(out->id), idb, sizeof(idb));
	sodium_bin2base64(out->csrf, sizeof(out->csrf), csrf, sizeof(csrf),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(csrf, sizeof(csrf));
	session_token_hash(out->token, s->th);
	memcpy(s->id, out->id, sizeof(s->id));
	memcpy(s->csrf, out->csrf, sizeof(s->csrf));
	s->p = *p;
	snprintf(s->p.session_id, sizeof(s->p.session_id), "%s", out->id);
	snprintf(s->cert_fp, sizeof(s->cert_fp), "%s", cert_fp ? cert_fp : "");
	s->created_ms = s->last_seen_ms = now;
	if (s->p.auth_time_ms == 0)
		s->p.auth_time_ms = now;
	pthread_mutex_lock(&session_mu);
	s->expires_ms = now + (int64_t)session_lim.absolute_timeout_s * 1000;
	out->expires_at = s->expires_ms / 1000;
	out->idle_timeout_s = session_lim.idle_timeout_s;
	if (!session_running || session_n >= SESSION_MAX) {
		pthread_mutex_unlock(&session_mu);
		sodium_memzero(out, sizeof(*out));
		free(s);
		return focal_err_set(err, FOCAL_E_UNAVAIL, "sessions unavailable");
	}
	s->next = session_tab[session_bucket(s->th)];
	session_tab[session_bucket(s->th)] = s;
	session_n++;
	session_queue(OP_INSERT, s);
	pthread_mutex_unlock(&session_mu);
	return FOCAL_OK;
}

int session_lookup(const char *token, const char *cert_fp, struct auth_principal *out,
		   char *csrf_out, int64_t *expires_at, struct focal_err *err)
{
	unsigned char th[32];
	struct sess **pp, *s;
	int64_t now = session_now_ms();
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	if (csrf_out != NULL)
		csrf_out[0] = '\0';
	if (!session_token_hash(token, th))
		return focal_err_set(err, FOCAL_E_DENIED, "invalid session");
	pthread_mutex_lock(&session_mu);
	if ((pp = session_find(th)) == NULL) {
		pthread_mutex_unlock(&session_mu);
		return focal_err_set(err, FOCAL_E_DENIED, "invalid or expired session");
	}
	s = *pp;
	if (now >= s->expires_ms)
		why = "absolute timeout";
	else if (now - s->last_seen_ms >= (int64_t)session_lim.idle_timeout_s * 1000)
		why = "idle timeout";
	if (why != NULL) {
		session_unlink(pp, true, why);
		pthread_mutex_unlock(&session_mu);
		return focal_err_set(err, FOCAL_E_DENIED, "session expired (%s): log in again", why);
	}
	if (s->cert_fp[0] != '\0' &&
	    (cert_fp == NULL || strlen(cert_fp) != strlen(s->cert_fp) ||
	     sodium_memcmp(cert_fp, s->cert_fp, strlen(s->cert_fp)) != 0)) {
		pthread_mutex_unlock(&session_mu);
		log_warn("session.cert", "session %s of %s presented without its certificate",
			 s->id, s->p.user);
		return focal_err_set(err, FOCAL_E_DENIED,
				     "session bound to another client certificate");
	}
	s->last_seen_ms = now;
	s->touched = true;
	*out = s->p;
	out->device_cert = s->cert_fp[0] != '\0';
	if (csrf_out != NULL)
		memcpy(csrf_out, s->csrf, SESSION_CSRF_HEX + 1);
	if (expires_at != NULL)
		*expires_at = s->expires_ms / 1000;
	pthread_mutex_unlock(&session_mu);
	return FOCAL_OK;
}

int session_revoke(const char *token, const char *reason)
{
	unsigned char th[32];
	struct sess **pp;

	if (!session_token_hash(token, th))
		return FOCAL_OK;
	pthread_mutex_lock(&session_mu);
	if ((pp = session_find(th)) != NULL)
		session_unlink(pp, true, reason);
	pthread_mutex_unlock(&session_mu);
	return FOCAL_OK;
}

/* Under session_mu. */
static size_t session_drop_user_locked(const char *user, bool queue, const char *reason)
{
	size_t n = 0;

	for (size_t b = 0; b < SESSION_BUCKETS; b++) {
		struct sess **pp = &session_tab[b];

		while (*pp != NULL) {
			if (strcmp((*pp)->p.user, user) == 0) {
				session_unlink(pp, queue, reason);
				n++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	return n;
}

size_t session_revoke_user(const char *user, const char *reason)
{
	size_t n;

	pthread_mutex_lock(&session_mu);
	n = session_drop_user_locked(user, true, reason);
	/* revocation must not wait for the next poll: wake the thread so the
	 * store (and thus other processes) follows at once */
	session_force = true;
	pthread_cond_signal(&session_cv);
	pthread_mutex_unlock(&session_mu);
	return n;
}

size_t session_count(void)
{
	size_t n;

	pthread_mutex_lock(&session_mu);
	n = session_n;
	pthread_mutex_unlock(&session_mu);
	return n;
}

void session_get_limits(struct session_limits *out)
{
	pthread_mutex_lock(&session_mu);
	*out = session_lim;
	pthread_mutex_unlock(&session_mu);
}

/* ---- maintenance thread ---- */

static void session_op_run(sqlite3 *db, const struct sess_op *op)
{
	sqlite3_stmt *st = NULL;
	const char *sql =
		op->kind == OP_INSERT
			? "INSERT OR IGNORE INTO sessions (id, token_hash, user_id, csrf, cert_fp,"
			  " addr, device, created, last_seen, expires, auth_time_ms)"
			  " SELECT ?1, ?2, id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM users"
			  " WHERE username = ?11"
			: "DELETE FROM sessions WHERE token_hash = ?2";

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_blob(st, 2, op->th, 32, SQLITE_STATIC);
	if (op->kind == OP_INSERT) {
		const struct sess *s = &op->snap;

		sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, s->csrf, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, s->cert_fp, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, s->p.addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, s->p.device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, s->created_ms / 1000);
		sqlite3_bind_int64(st, 8, s->last_seen_ms / 1000);
		sqlite3_bind_int64(st, 9, s->expires_ms / 1000);
		sqlite3_bind_int64(st, 10, s->p.auth_time_ms);
		sqlite3_bind_text(st, 11, s->p.user, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	return;
fail:
	log_error("session.store", "writing a session: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

/* Writes the queued operations (in one transaction) and marks inserted
 * sessions persisted. */
static void session_flush(sqlite3 *db)
{
	struct sess_op *ops;

	pthread_mutex_lock(&session_mu);
	ops = session_ops_head;
	session_ops_head = session_ops_tail = NULL;
	pthread_mutex_unlock(&session_mu);
	if (ops == NULL)
		return;
	if (store_begin(db, NULL) != 0) {
		log_error("session.store", "begin: %s", sqlite3_errmsg(db));
	} else {
		for (struct sess_op *op = ops; op != NULL; op = op->next)
			session_op_run(db, op);
		if (store_commit(db, NULL) != 0)
			log_error("session.store", "commit: %s", sqlite3_errmsg(db));
	}
	pthread_mutex_lock(&session_mu);
	for (struct sess_op *op = ops; op != NULL; op = op->next) {
		struct sess **pp;

		if (op->kind == OP_INSERT && (pp = session_find(op->th)) != NULL)
			(*pp)->persisted = true;
	}
	pthread_mutex_unlock(&session_mu);
	while (ops != NULL) {
		struct sess_op *next = ops->next;

		sodium_memzero(ops, sizeof(*ops));
		free(ops);
		ops = next;
	}
}

/* Saves the idle timers that moved. */
static void session_save_touched(sqlite3 *db)
{
	struct upd {
		char id[PRINCIPAL_ID_MAX];
		int64_t last_seen;
	} *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;

	pthread_mutex_lock(&session_mu);
	for (size_t b = 0; b < SESSION_BUCKETS; b++)
		for (struct sess *s = session_tab[b]; s != NULL; s = s->next) {
			if (!s->touched || !s->persisted)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct upd *nv = realloc(v, ncap * sizeof(*v));

				if (nv == NULL)
					goto unlock;
				v = nv;
				cap = ncap;
			}
			memcpy(v[n].id, s->id, sizeof(v[n].id));
			v[n++].last_seen = s->last_seen_ms / 1000;
			s->touched = false;
		}
unlock:
	pthread_mutex_unlock(&session_mu);
	if (n > 0 && store_begin(db, NULL) == 0 &&
	    sqlite3_prepare_v2(db, "UPDATE sessions SET last_seen = ?2 WHERE id = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		for (size_t i = 0; i < n; i++) {
			sqlite3_bind_text(st, 1, v[i].id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, v[i].last_seen);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		store_commit(db, NULL);
	}
	store_rollback(db);
	free(v);
}

static int session_cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Reads the live sessions (of active users) and the active users.  initial:
 * the sessions are loaded into memory (start-up); otherwise memory keeps
 * only the sessions the store still has (or has not been told about yet). */
static void session_reload(sqlite3 *db, bool initial)
{
	sqlite3_stmt *st = NULL;
	struct user_state *users = NULL;
	struct sess *loaded = NULL; /* list of rows read */
	unsigned char *hashes = NULL;
	size_t nusers = 0, cap = 0, nloaded = 0;
	int64_t now = store_now();
	int r;

	/* a consistent snapshot of both tables */
	if (store_exec(db, "BEGIN", NULL) != 0)
		return;
	if (sqlite3_prepare_v2(db,
			       "SELECT username FROM users WHERE status = 0 AND locked = 0 AND"
			       " valid_from <= ?1 AND (valid_until = 0 OR valid_until > ?1)"
			       " ORDER BY username",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (nusers == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct user_state *nv = realloc(users, ncap * sizeof(*users));

			if (nv == NULL)
				goto fail;
			users = nv;
			cap = ncap;
		}
		snprintf(users[nusers++].name, sizeof(users[0].name), "%s",
			 (const char *)sqlite3_column_text(st, 0));
	}
	if (r != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	/* sessions of users who may still work (a locked account keeps its
	 * sessions: lockout is about guessing passwords, not about the holder) */
	if (sqlite3_prepare_v2(db,
			       "SELECT s.token_hash, s.id, s.csrf, s.cert_fp, s.addr, s.device,"
			       " s.created, s.last_seen, s.expires, s.auth_time_ms, u.username"
			       " FROM sessions s JOIN users u ON u.id = s.user_id"
			       " WHERE u.status = 0 AND u.valid_from <= ?1 AND"
			       " (u.valid_until = 0 OR u.valid_until > ?1) AND s.expires > ?1",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct sess *s = calloc(1, sizeof(*s));
		const void *th = sqlite3_column_blob(st, 0);

		if (s == NULL)
			goto fail;
		if (th == NULL || sqlite3_column_bytes(st, 0) != 32) {
			free(s);
			continue;
		}
		memcpy(s->th, th, 32);
		snprintf(s->id, sizeof(s->id), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(s->csrf, sizeof(s->csrf), "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(s->cert_fp, sizeof(s->cert_fp), "%s",
			 (const char *)sqlite3_column_text(st, 3));
		snprintf(s->p.addr, sizeof(s->p.addr), "%s",
			 (const char *)sqlite3_column_text(st, 4));
		snprintf(s->p.device, sizeof(s->p.device), "%s",
			 (const char *)sqlite3_column_text(st, 5));
		s->created_ms = sqlite3_column_int64(st, 6) * 1000;
		s->last_seen_ms = sqlite3_column_int64(st, 7) * 1000;
		s->expires_ms = sqlite3_column_int64(st, 8) * 1000;
		s->p.auth_time_ms = sqlite3_column_int64(st, 9);
		snprintf(s->p.user, sizeof(s->p.user), "%s",
			 (const char *)sqlite3_column_text(st, 10));
		s->persisted = true;
		s->next = loaded;
		loaded = s;
	}
	if (r != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	/* principals of loaded sessions at start-up: from the user rows */
	if (initial) {
		for (struct sess *s = loaded; s != NULL; s = s->next) {
			struct user u;
			char sid[PRINCIPAL_ID_MAX], addr[64], dev[PRINCIPAL_NAME_MAX];
			int64_t at = s->p.auth_time_ms;

			if (user_get_db(db, s->p.user, &u, NULL, NULL) != 0)
				continue;
			memcpy(addr, s->p.addr, sizeof(addr));
			memcpy(dev, s->p.device, sizeof(dev));
			memcpy(sid, s->id, sizeof(sid));
			user_to_principal(&u, &s->p);
			memcpy(s->p.addr, addr, sizeof(addr));
			memcpy(s->p.device, dev, sizeof(dev));
			memcpy(s->p.session_id, sid, sizeof(sid));
			s->p.auth_time_ms = at;
			s->p.mfa = true;
		}
	}
	store_exec(db, "COMMIT", NULL);
	/* the store's hashes, sorted, so the comparison below under the lock is
	 * n log n rather than n * m */
	if (!initial) {
		for (struct sess *l = loaded; l != NULL; l = l->next)
			nloaded++;
		if (nloaded > 0 && (hashes = malloc(nloaded * 32)) == NULL)
			goto fail; /* keep memory as it is until the next reload */
		nloaded = 0;
		for (struct sess *l = loaded; l != NULL; l = l->next)
			memcpy(hashes + 32 * nloaded++, l->th, 32);
		if (nloaded > 0)
			qsort(hashes, nloaded, 32, session_cmp_hash);
	}

	pthread_mutex_lock(&session_mu);
	free(session_active);
	session_active = users;
	session_nactive = nusers;
	users = NULL;
	if (initial) {
		while (loaded != NULL) {
			struct sess *s = loaded;

			loaded = s->next;
			s->next = session_tab[session_bucket(s->th)];
			session_tab[session_bucket(s->th)] = s;
			session_n++;
		}
	} else {
		/* keep a session only if the store still has it, or if its
		 * insert is still queued and its user is still active */
		for (size_t b = 0; b < SESSION_BUCKETS; b++) {
			struct sess **pp = &session_tab[b];

			while (*pp != NULL) {
				bool keep = false;

				if ((*pp)->persisted) {
					keep = hashes != NULL &&
					       bsearch((*pp)->th, hashes, nloaded, 32,
						       session_cmp_hash) != NULL;
				} else {
					struct user_state key;

					snprintf(key.name, sizeof(key.name), "%s", (*pp)->p.user);
					keep = bsearch(&key, session_active, session_nactive,
						       sizeof(key), session_cmp_user) != NULL;
				}
				if (keep)
					pp = &(*pp)->next;
				else
					session_unlink(pp, false, "revoked in the store");
			}
		}
	}
	session_reloads++;
	pthread_cond_broadcast(&session_done_cv);
	pthread_mutex_unlock(&session_mu);
fail:
	sqlite3_finalize(st);
	store_rollback(db);
	free(hashes);
	free(users);
	while (loaded != NULL) {
		struct sess *s = loaded;

		loaded = s->next;
		sodium_memzero(s, sizeof(*s));
		free(s);
	}
}

static int64_t session_data_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Ends the sessions that timed out (memory and store). */
static void session_expire(sqlite3 *db)
{
	int64_t now = session_now_ms();
	sqlite3_stmt *st = NULL;

	pthread_mutex_lock(&session_mu);
	for (size_t b = 0; b < SESSION_BUCKETS; b++) {
		struct sess **pp = &session_tab[b];

		while (*pp != NULL) {
			if (now >= (*pp)->expires_ms)
				session_unlink(pp, true, "absolute timeout");
			else if (now - (*pp)->last_seen_ms >=
				 (int64_t)session_lim.idle_timeout_s * 1000)
				session_unlink(pp, true, "idle timeout");
			else
				pp = &(*pp)->next;
		}
	}
	pthread_mutex_unlock(&session_mu);
	if (sqlite3_prepare_v2(db, "DELETE FROM sessions WHERE expires <= ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now / 1000);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

static void *session_main(void *arg)
{
	sqlite3 *db = arg;
	int64_t version = session_data_version(db);
	int64_t last_full = store_now(), last_save = last_full, last_inactive = 0;
	bool outbox_pending = true; /* rows the CLI may have left while focald was down */

	pthread_mutex_lock(&session_mu);
	while (!session_stop) {
		struct timespec ts;
		bool force;

		if (session_ops_head == NULL && !session_force) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += SESSION_POLL_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&session_cv, &session_mu, &ts);
		}
		force = session_force;
		session_force = false;
		pthread_mutex_unlock(&session_mu);

		session_flush(db);
		{
			int64_t now = store_now(), v;

			if (session_lim.inactive_days > 0 &&
			    now - last_inactive >= SESSION_INACTIVE_CHECK_S) {
				size_t n = 0;

				if (user_disable_inactive(session_store, session_lim.inactive_days,
							  now, &n, NULL) == 0 && n > 0)
					log_info("user.inactive",
						 "%zu account(s) disabled after %ld days unused", n,
						 session_lim.inactive_days);
				last_inactive = now;
			}
			if (now - last_save >= SESSION_TOUCH_SAVE_S) {
				session_save_touched(db);
				session_expire(db);
				last_save = now;
			}
			v = session_data_version(db);
			if (force || v != version || now - last_full >= SESSION_FULL_RELOAD_S) {
				version = v;
				last_full = now;
				session_reload(db, false);
				outbox_pending = true;
			}
			/* admin changes made by the CLI reach the audit log here */
			if (outbox_pending) {
				struct focal_err oerr;

				outbox_pending = audit_dir() == NULL ||
						 audit_outbox_drain(db, NULL, &oerr) != FOCAL_OK;
			}
		}
		pthread_mutex_lock(&session_mu);
	}
	pthread_mutex_unlock(&session_mu);
	session_flush(db);
	session_save_touched(db);
	store_release(session_store, db);
	return NULL;
}

int session_init(struct store *st, const struct session_limits *lim, struct focal_err *err)
{
	sqlite3 *db = NULL;
	int rc;

	if (session_running)
		return focal_err_set(err, FOCAL_E_INTERNAL, "sessions already initialised");
	if ((rc = store_acquire(st, &db, err)) != 0)
		return rc;
	if (lim != NULL)
		session_lim = *lim;
	session_store = st;
	session_reload(db, true);
	session_stop = false;
	session_running = true;
	if (pthread_create(&session_thread, NULL, session_main, db) != 0) {
		session_running = false;
		store_release(st, db);
		return focal_err_set(err, FOCAL_E_INTERNAL, "cannot start the session thread");
	}
	return FOCAL_OK;
}

void session_refresh(void)
{
	uint64_t gen;

	pthread_mutex_lock(&session_mu);
	if (!session_running) {
		pthread_mutex_unlock(&session_mu);
		return;
	}
	gen = session_reloads;
	session_force = true;
	pthread_cond_signal(&session_cv);
	while (session_reloads == gen && session_running)
		pthread_cond_wait(&session_done_cv, &session_mu);
	pthread_mutex_unlock(&session_mu);
}

void session_shutdown(void)
{
	pthread_mutex_lock(&session_mu);
	if (!session_running) {
		pthread_mutex_unlock(&session_mu);
		return;
	}
	session_stop = true;
	pthread_cond_signal(&session_cv);
	pthread_mutex_unlock(&session_mu);
	pthread_join(session_thread, NULL);

	pthread_mutex_lock(&session_mu);
	session_running = false;
	pthread_cond_broadcast(&session_done_cv);
	for (size_t b = 0; b < SESSION_BUCKETS; b++)
		while (session_tab[b] != NULL) {
			struct sess *s = session_tab[b];

			session_tab[b] = s->next;
			sodium_memzero(s, sizeof(*s));
			free(s);
		}
	session_n = 0;
	free(session_active);
	session_active = NULL;
	session_nactive = 0;
	session_store = NULL;
	pthread_mutex_unlock(&session_mu);
}
