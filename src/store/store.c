/*
 * store: see store.h.
 *
 * SQLite is opened once per connection in WAL mode (readers never wait for
 * the writer, and a commit is one append to the log) with synchronous=FULL
 * for durability, foreign keys on and a busy timeout, so two processes (focald
 * and the `focal user` CLI) can share the file.  Connections are pooled: a
 * worker takes one, runs its statements, and gives it back; at most
 * STORE_POOL_MAX idle connections are kept.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cfgnode.h"

#define STORE_POOL_MAX 8
#define STORE_DEFAULT_FILE "focal.db"

struct store_config {
	char *path;           /* absolute (resolved against the config file) */
	bool wal;             /* journal_mode=WAL (default true) */
	long busy_timeout_ms; /* default 5000 */
};

struct store {
	char *path;
	bool wal;
	long busy_timeout_ms;
	pthread_mutex_t mu;
	sqlite3 *idle[STORE_POOL_MAX];
	size_t nidle;
};

int store_config_parse(const struct cfg_node *n, struct store_config **out, struct focal_err *err)
{
	static const char *const keys[] = { "backend", "path", "wal", "busy_timeout_ms", NULL };
	static const char *const backends[] = { "sqlite", "postgresql", NULL };
	struct store_config *c = NULL;
	int backend = 0, rc;

	*out = NULL;
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_map(n, "store", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	c->wal = true;
	c->busy_timeout_ms = 5000;
	if ((rc = cfg_get_enum(n, "backend", false, backends, &backend, err)) != 0 ||
	    (rc = cfg_get_path(n, "path", false, &c->path, err)) != 0 ||
	    (rc = cfg_get_bool(n, "wal", false, &c->wal, err)) != 0 ||
	    (rc = cfg_get_long(n, "busy_timeout_ms", false, 0, 600000, &c->busy_timeout_ms, err)) != 0)
		goto fail;
	if (backend != 0) {
		struct cfg_node b;

		cfg_map_get(n, "backend", &b);
		rc = cfg_error(&b, err, "backend: postgresql is not supported by this build yet "
					"(use sqlite)");
		goto fail;
	}
	*out = c;
	return FOCAL_OK;
fail:
	store_config_free(c);
	return rc;
}

void store_config_free(struct store_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c);
}

int64_t store_now(void)
{
	return (int64_t)time(NULL);
}

int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_err(sqlite3 *db, struct focal_err *err, const char *what)
{
	return focal_err_set(err, FOCAL_E_IO, "store: %s: %s", what,
			     db ? sqlite3_errmsg(db) : "no connection");
}

int store_exec(sqlite3 *db, const char *sql, struct focal_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		focal_err_set(err, FOCAL_E_IO, "store: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return FOCAL_E_IO;
	}
	return FOCAL_OK;
}

int store_begin(sqlite3 *db, struct focal_err *err)
{
	/* IMMEDIATE takes the write lock now, so a read-then-write unit of work
	 * never fails half-way with SQLITE_BUSY on the upgrade */
	return store_exec(db, "BEGIN IMMEDIATE", err);
}

/* Audit events staged by this thread for its next commit (store.h). */
struct store_staged {
	char *type;
	char *body;
	int64_t ts_ms;
	struct store_staged *next;
};
static _Thread_local struct store_staged *store_staged_head, *store_staged_tail;

int store_outbox_stage(const char *type, const char *body, struct focal_err *err)
{
	struct store_staged *e = calloc(1, sizeof(*e));

	if (e == NULL || (e->type = strdup(type)) == NULL || (e->body = strdup(body)) == NULL) {
		if (e != NULL)
			free(e->type);
		free(e);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	e->ts_ms = store_now_ms();
	if (store_staged_tail != NULL)
		store_staged_tail->next = e;
	else
		store_staged_head = e;
	store_staged_tail = e;
	return FOCAL_OK;
}

void store_outbox_discard(void)
{
	while (store_staged_head != NULL) {
		struct store_staged *e = store_staged_head;

		store_staged_head = e->next;
		free(e->type);
		free(e->body);
		free(e);
	}
	store_staged_tail = NULL;
}

/* Inserts the staged events into audit_outbox inside db's open transaction. */
static int store_outbox_write(sqlite3 *db, struct focal_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = FOCAL_OK;

	if (store_staged_head == NULL)
		return FOCAL_OK;
	if (sqlite3_prepare_v2(db, "INSERT INTO audit_outbox (ts_ms, type, body) VALUES (?1, ?2, ?3)",
			       -1, &st, NULL) != SQLITE_OK)
		return store_err(db, err, "staging an audit event");
	for (struct store_staged *e = store_staged_head; e != NULL; e = e->next) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, e->ts_ms);
		sqlite3_bind_text(st, 2, e->type, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, e->body, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = store_err(db, err, "staging an audit event");
			break;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int store_commit(sqlite3 *db, struct focal_err *err)
{
	int rc;

	/* the change and its audit record commit together, or neither does */
	if ((rc = store_outbox_write(db, err)) != 0 || (rc = store_exec(db, "COMMIT", err)) != 0)
		return rc;
	store_outbox_discard();
	return FOCAL_OK;
}

void store_rollback(sqlite3 *db)
{
	if (db != NULL && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Schema migrations, applied in order; PRAGMA user_version counts how many
 * have run.  Never edit a published step: append a new one. */
static const char *const store_migrations[] = {
	/* 1: accounts, MFA, recovery codes, login failures, sessions */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  unit TEXT NOT NULL DEFAULT '',"
	"  roles TEXT NOT NULL DEFAULT '',"         /* comma-separated */
	"  clearance INTEGER NOT NULL DEFAULT 0,"   /* enum classification */
	"  status INTEGER NOT NULL DEFAULT 0,"      /* enum user_status */
	"  locked INTEGER NOT NULL DEFAULT 0,"
	"  valid_from INTEGER NOT NULL DEFAULT 0,"
	"  valid_until INTEGER NOT NULL DEFAULT 0,"
	"  last_used INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  password_hash TEXT,"                     /* crypto_pwhash_str (Argon2id) */
	"  totp_secret BLOB,"                       /* sealed (auth/secret.h) */
	"  totp_enrolled INTEGER NOT NULL DEFAULT 0,"
	"  totp_last_step INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE recovery_codes ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  hash BLOB NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX recovery_codes_user ON recovery_codes(user_id);"
	"CREATE TABLE login_failures ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL"
	");"
	"CREATE INDEX login_failures_user ON login_failures(user_id, at);"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  token_hash BLOB NOT NULL UNIQUE,"        /* SHA-256 of the token */
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  cert_fp TEXT NOT NULL DEFAULT '',"
	"  addr TEXT NOT NULL DEFAULT '',"
	"  device TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  auth_time_ms INTEGER NOT NULL"
	");"
	"CREATE INDEX sessions_user ON sessions(user_id);",
	/* 2: audit events of admin changes made by the CLI, which has no audit
	 * log of its own; focald moves them into its log (audit_outbox.c) */
	"CREATE TABLE audit_outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  ts_ms INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  body TEXT NOT NULL"                     /* the entry's fields, JSON */
	");",
};

static int store_migrate(sqlite3 *db, struct focal_err *err)
{
	const size_t nsteps = sizeof(store_migrations) / sizeof(store_migrations[0]);
	sqlite3_stmt *st = NULL;
	int64_t version = 0;
	int rc;

	if ((rc = store_begin(db, err)) != 0)
		return rc;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = store_err(db, err, "reading the schema version");
		goto out;
	}
	version = sqlite3_column_int64(st, 0);
	if (version < 0 || (uint64_t)version > nsteps) {
		rc = focal_err_set(err, FOCAL_E_IO,
				   "store: schema version %lld is newer than this build (%zu)",
				   (long long)version, nsteps);
		goto out;
	}
	for (size_t i = (size_t)version; i < nsteps; i++) {
		char sql[64];

		if ((rc = store_exec(db, store_migrations[i], err)) != 0)
			goto out;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if ((rc = store_exec(db, sql, err)) != 0)
			goto out;
	}
	rc = store_commit(db, err);
out:
	sqlite3_finalize(st);
	if (rc != 0)
		store_rollback(db);
	return rc;
}

static int store_connect(struct store *s, sqlite3 **out, struct focal_err *err)
{
	sqlite3 *db = NULL;
	char pragmas[256];
	int rc, fd;

	*out = NULL;
	/* the file holds password hashes and sealed secrets: owner only (SQLite
	 * gives its -wal and -shm files the same mode).  Only when it does not
	 * exist yet: closing any descriptor of a file drops every POSIX lock
	 * this process holds on it, SQLite's included, and another process
	 * would then take the WAL for unused and delete it. */
	if ((fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	else if (errno != EEXIST)
		return focal_err_set(err, FOCAL_E_IO, "store: cannot create %s: %s", s->path,
				     strerror(errno));
	if (sqlite3_open_v2(s->path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = focal_err_set(err, FOCAL_E_IO, "store: cannot open %s: %s", s->path,
				   db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, (int)s->busy_timeout_ms);
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=%s; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
		 "PRAGMA secure_delete=ON;",
		 s->wal ? "WAL" : "DELETE");
	if ((rc = store_exec(db, pragmas, err)) != 0) {
		focal_err_prefix(err, "%s", s->path);
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return FOCAL_OK;
}

static int store_create(const char *path, bool wal, long busy_ms, struct store **out,
			struct focal_err *err)
{
	struct store *s = NULL;
	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	s->wal = wal;
	s->busy_timeout_ms = busy_ms;
	pthread_mutex_init(&s->mu, NULL);
	if ((rc = store_connect(s, &db, err)) != 0 || (rc = store_migrate(db, err)) != 0) {
		sqlite3_close(db);
		store_close(s);
		return rc;
	}
	store_release(s, db);
	*out = s;
	return FOCAL_OK;
}

int store_open_path(const char *path, struct store **out, struct focal_err *err)
{
	return store_create(path, true, 5000, out, err);
}

int store_open(const struct store_config *c, const char *config_path, struct store **out,
	       struct focal_err *err)
{
	char *path = NULL;
	int rc;

	*out = NULL;
	if (c != NULL && c->path != NULL)
		return store_create(c->path, c->wal, c->busy_timeout_ms, out, err);
	/* default: focal.db next to the configuration file */
	{
		const char *slash = config_path ? strrchr(config_path, '/') : NULL;
		size_t dir = slash ? (size_t)(slash - config_path) + 1 : 0;
		size_t len = dir + sizeof(STORE_DEFAULT_FILE);

		if ((path = malloc(len)) == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		memcpy(path, config_path ? config_path : "", dir);
		memcpy(path + dir, STORE_DEFAULT_FILE, sizeof(STORE_DEFAULT_FILE));
	}
	rc = store_create(path, c ? c->wal : true, c ? c->busy_timeout_ms : 5000, out, err);
	free(path);
	return rc;
}

const char *store_path(const struct store *st)
{
	return st->path;
}

int store_acquire(struct store *st, sqlite3 **out, struct focal_err *err)
{
	*out = NULL;
	pthread_mutex_lock(&st->mu);
	if (st->nidle > 0)
		*out = st->idle[--st->nidle];
	pthread_mutex_unlock(&st->mu);
	if (*out != NULL)
		return FOCAL_OK;
	return store_connect(st, out, err);
}

void store_release(struct store *st, sqlite3 *db)
{
	if (db == NULL)
		return;
	if (!sqlite3_get_autocommit(db))
		store_outbox_discard(); /* their change is rolled back: so are they */
	store_rollback(db); /* never hand on an open transaction */
	pthread_mutex_lock(&st->mu);
	if (st->nidle < STORE_POOL_MAX) {
		st->idle[st->nidle++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	sqlite3_close(db);
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nidle; i++)
		sqlite3_close(st->idle[i]);
	pthread_mutex_destroy(&st->mu);
	free(st->path);
	free(st);
}
