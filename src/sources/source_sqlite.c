/*
 * source_sqlite: the SQLite connector.
 *
 * SQLite has no asynchronous API, so each query runs on the worker pool.
 * Every worker thread keeps its own read-only connection per database file
 * (opened on first use), so workers never share a handle.  The query runs
 * against a private "shadow" call whose row and byte limits are enforced by
 * source_call_add_row exactly as for the other connectors; the records are
 * handed to the real call back on its loop.  A cancelled call (deadline) is
 * interrupted through the progress handler and its job discarded on return.
 *
 * The job holds a reference to the configuration, so a reload while a query
 * runs cannot free the source definition under the worker.
 *
 * `immutable: true` (opt-in, for a file that never changes while focald
 * runs, such as a snapshot an agency delivers) opens it with SQLite's
 * immutable=1: no file locks, no journal checks.  A query then makes no
 * system call at all, against 8 for locking and checks otherwise (measured
 * with strace: 480 of the ~580 system calls of a search over 60 SQLite
 * sources).  On a file that does change, SQLite may then read stale or
 * inconsistent data, which is why it is never the default.
 *
 * Read transactions span queued jobs.  Beginning and ending a read
 * transaction (a shared file lock, a hot-journal check, the change counter
 * read) costs three times an indexed lookup: 11.7 us a query against 2.6 us
 * inside one transaction (bench/README.md).  So a worker that runs several
 * queries on the same file keeps its read transaction open across them,
 * without ever answering from data older than the moment a query was asked:
 *  - in a rollback-journal file (SQLite's default) the transaction's shared
 *    lock keeps every commit out while it is open, so what it reads is the
 *    latest committed state for any query that joins it;
 *  - in a WAL file writers commit while readers read, so a query joins only
 *    a transaction that began after the query was submitted.
 * The transaction ends when the rule no longer holds, after
 * SQLITE_TXN_MAX_NS, on any error, and whenever the worker turns to other
 * work or goes idle (work.leave): no lock is held while the thread is not
 * running queries, and a writer waits at most that long, as it would for a
 * slow query.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/strhash.h"
#include "core/workpool.h"
#include "sources/source.h"

struct sqlite_cfg {
	uint64_t id;                /* unique for the process's life (never reused) */
	char *path;
	/* what sqlite3_open_v2 opens: the path, or with `immutable: true` a
	 * file: URI with immutable=1 (no locking, no journal checks) */
	char *open_name;
	uint64_t open_hash;         /* of open_name: the per-thread cache's key */
	char *sql[QUERY__COUNT];    /* positional SQL wrapped with the row cap */
	int *order[QUERY__COUNT];   /* query parameter of each placeholder */
	size_t nparams[QUERY__COUNT];
};

struct sqlite_job {
	struct work work;          /* first member: the pool hands it back */
	struct source_call *call;  /* NULL once cancelled (loop thread only) */
	atomic_bool cancelled;
	struct config *cfg;        /* reference held while the job lives */
	struct source_call shadow; /* worker-side call: limits and records */
	enum query_kind kind;
	uint64_t submit_ns;        /* when the call was started (loop_now_ns) */
	char *param[QP__COUNT];    /* copies: the worker never reads the search ... */
	char *param_mem;           /* ... all in this one allocation */
	enum source_status status;
	char reason[256];          /* last: not zeroed (sqlite_start) */
};

/* Per worker thread: one connection per database file, closed when the
 * thread ends (pthread key destructor), and with it the statement of each
 * query kind, prepared once: for an indexed lookup, preparing costs more
 * than running (about half of the connector's CPU before it was cached). */
#define SQLITE_MAX_DBS 64
/* The longest a read transaction spans queued queries (see the top). */
#define SQLITE_TXN_MAX_NS (20 * 1000000u)

/* Where the columns a mapping reads are in a statement's rows, so that the
 * getter does not compare every column name for every field of every row
 * (strcasecmp was 2.3% of focald's CPU).  Keyed by the mapping's `from`
 * strings, whose addresses are stable while their configuration lives; the
 * owner id says which configuration that is (an address freed by a reload
 * may come back holding another name).  Column names and positions change
 * only when SQLite re-prepares the statement (a schema change: SELECT *
 * then sees the new columns), which its REPREPARE counter counts: a map
 * made under another count is dropped before any value is read. */
#define SQLITE_COLMAP_MAX 24
struct sqlite_colmap {
	uint64_t owner;   /* sqlite_cfg id of the from strings; 0: empty */
	int reprepares;   /* the statement's SQLITE_STMTSTATUS_REPREPARE ... */
	int ncols;        /* ... and column count when the map was made */
	int n;
	const char *from[SQLITE_COLMAP_MAX];
	short col[SQLITE_COLMAP_MAX]; /* -1: no such column */
};

struct sqlite_conn {
	char *path;      /* open_name; NULL: a free slot */
	uint64_t hash;   /* of path */
	uint64_t owner;  /* id of the sqlite_cfg last found to open this file */
	sqlite3 *db;
	sqlite3_stmt *st[QUERY__COUNT];
	uint64_t st_owner[QUERY__COUNT];  /* sqlite_cfg id whose SQL st[k] is */
	struct sqlite_colmap map[QUERY__COUNT]; /* for st[k]'s rows */
	sqlite3_stmt *begin, *commit, *mode;
	uint64_t txn_ns; /* when the open read transaction began; 0: none */
	bool txn_checked; /* its journal mode is known ... */
	bool txn_locks;   /* ... and is not WAL: its shared lock keeps commits out */
	bool mode_known;  /* mode_locks is the answer for the file ... */
	bool mode_locks;
	unsigned mode_version; /* ... at this SQLITE_FCNTL_DATA_VERSION */
};

struct sqlite_thread {
	struct sqlite_conn conns[SQLITE_MAX_DBS];
};
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void sqlite_thread_free(void *p)
{
	struct sqlite_thread *t = p;

	for (size_t i = 0; i < SQLITE_MAX_DBS; i++) {
		for (int k = 0; k < QUERY__COUNT; k++)
			sqlite3_finalize(t->conns[i].st[k]);
		sqlite3_finalize(t->conns[i].begin);
		sqlite3_finalize(t->conns[i].commit);
		sqlite3_finalize(t->conns[i].mode);
		sqlite3_close(t->conns[i].db);
		free(t->conns[i].path);
	}
	free(t);
}

static void sqlite_thread_key(void)
{
	pthread_key_create(&thread_key, sqlite_thread_free);
}

static struct sqlite_thread *sqlite_thread(void)
{
	struct sqlite_thread *t;

	pthread_once(&thread_once, sqlite_thread_key);
	t = pthread_getspecific(thread_key);
	if (t == NULL && (t = calloc(1, sizeof(*t))) != NULL)
		pthread_setspecific(thread_key, t);
	return t;
}

/* The last sqlite_cfg id handed out: ids tell the worker's caches which
 * configuration they were filled for, without comparing text. */
static atomic_uint_fast64_t sqlite_cfg_ids;

static void sqlite_cfg_free(void *p)
{
	struct sqlite_cfg *c = p;

	if (c == NULL)
		return;
	for (int k = 0; k < QUERY__COUNT; k++) {
		sqlite3_free(c->sql[k]);
		free(c->order[k]);
	}
	sqlite3_free(c->open_name);
	free(c->path);
	free(c);
}

/* "file:<path, percent-encoded>?immutable=1" (sqlite3_free), or NULL. */
static char *sqlite_immutable_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	sqlite3_str *u = sqlite3_str_new(NULL);

	sqlite3_str_appendall(u, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p) != NULL) {
			sqlite3_str_appendchar(u, 1, (char)*p);
		} else {
			sqlite3_str_appendchar(u, 1, '%');
			sqlite3_str_appendchar(u, 1, hex[*p >> 4]);
			sqlite3_str_appendchar(u, 1, hex[*p & 0xF]);
		}
	}
	sqlite3_str_appendall(u, "?immutable=1");
	return sqlite3_str_finish(u);
}

static int sqlite_configure(struct source_def *def, const struct cfg_node *conn,
			    struct focal_err *err)
{
	static const char *const keys[] = { "path", "immutable", NULL };
	struct sqlite_cfg *c;
	struct cfg_node pn;
	bool immutable = false;
	char *sql;
	int rc;

	if ((rc = cfg_check_keys(conn, keys, err)) != 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	c->id = atomic_fetch_add(&sqlite_cfg_ids, 1) + 1;
	def->conn_cfg = c;
	if ((rc = cfg_get_path(conn, "path", true, &c->path, err)) != 0)
		return rc;
	if (access(c->path, R_OK) != 0) {
		cfg_map_get(conn, "path", &pn);
		return cfg_error(&pn, err, "path: cannot read database file %s", c->path);
	}
	if ((rc = cfg_get_bool(conn, "immutable", false, &immutable, err)) != 0)
		return rc;
	c->open_name = immutable ? sqlite_immutable_uri(c->path) : sqlite3_mprintf("%s", c->path);
	if (c->open_name == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	c->open_hash = strhash(c->open_name); /* the path is still compared */
	for (int k = 0; k < QUERY__COUNT; k++) {
		if (!def->queries[k].present)
			continue;
		rc = template_sql(&def->queries[k].tpl, TEMPLATE_DIALECT_SQLITE, &sql, &c->order[k],
				  &c->nparams[k], err);
		if (rc != 0)
			return rc;
		/* the row cap is enforced by the database: one row more tells us the
		 * answer was truncated.  The newline ends a trailing "-- comment" of
		 * the template, which would otherwise swallow ") LIMIT". */
		c->sql[k] = sqlite3_mprintf("SELECT * FROM (%s\n) LIMIT %ld", sql, def->max_rows + 1);
		free(sql);
		if (c->sql[k] == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	return FOCAL_OK;
}

/* Ends conn's read transaction, if one is open. */
static void sqlite_txn_end(struct sqlite_conn *conn)
{
	if (conn->txn_ns == 0)
		return;
	conn->txn_ns = 0;
	if (sqlite3_get_autocommit(conn->db))
		return; /* already ended (an error rolled it back) */
	if (conn->commit == NULL || sqlite3_step(conn->commit) != SQLITE_DONE)
		sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
	if (conn->commit != NULL)
		sqlite3_reset(conn->commit);
}

/* work.leave: the worker turns to other work or waits; no lock stays held. */
static void sqlite_leave(void)
{
	struct sqlite_thread *t;

	pthread_once(&thread_once, sqlite_thread_key);
	t = pthread_getspecific(thread_key);
	for (size_t i = 0; t != NULL && i < SQLITE_MAX_DBS; i++)
		if (t->conns[i].path != NULL)
			sqlite_txn_end(&t->conns[i]);
}

/* Puts conn in a read transaction a query submitted at submit_ns may join
 * (see the top).  On failure the query simply runs in its own. */
static void sqlite_txn_join(struct sqlite_conn *conn, uint64_t submit_ns)
{
	uint64_t now = loop_now_ns();

	if (conn->txn_ns != 0 &&
	    ((!conn->txn_locks && conn->txn_ns < submit_ns) ||
	     now - conn->txn_ns > SQLITE_TXN_MAX_NS || sqlite3_get_autocommit(conn->db)))
		sqlite_txn_end(conn);
	if (conn->txn_ns != 0)
		return;
	if (conn->begin == NULL &&
	    (sqlite3_prepare_v3(conn->db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &conn->begin,
				NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(conn->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &conn->commit,
				NULL) != SQLITE_OK))
		return;
	/* the snapshot is taken by the first read after BEGIN, so after now */
	if (sqlite3_step(conn->begin) == SQLITE_DONE) {
		conn->txn_ns = now;
		conn->txn_checked = conn->txn_locks = false;
	}
	sqlite3_reset(conn->begin);
}

/* After the first query of conn's transaction (when the file has been read
 * and the pager knows its mode): whether the transaction keeps commits out
 * (see the top).  Known per transaction: a file may be switched to WAL.
 * Asking costs a full prepare every time (SQLite re-prepares a journal_mode
 * PRAGMA on each run: 3.6% of focald's instructions per search), so the
 * answer is kept while the file's data version is unchanged: switching the
 * journal mode rewrites the file header, a change the version counts. */
static void sqlite_txn_check(struct sqlite_conn *conn)
{
	const unsigned char *mode;
	unsigned version = 0;
	bool versioned;

	if (conn->txn_ns == 0 || conn->txn_checked)
		return;
	conn->txn_checked = true;
	versioned = sqlite3_file_control(conn->db, NULL /* main */, SQLITE_FCNTL_DATA_VERSION,
					 &version) == SQLITE_OK;
	if (versioned && conn->mode_known && version == conn->mode_version) {
		conn->txn_locks = conn->mode_locks;
		return;
	}
	conn->mode_known = false;
	if (conn->mode == NULL &&
	    sqlite3_prepare_v3(conn->db, "PRAGMA main.journal_mode", -1,
			       SQLITE_PREPARE_PERSISTENT, &conn->mode, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(conn->mode) == SQLITE_ROW &&
	    (mode = sqlite3_column_text(conn->mode, 0)) != NULL) {
		conn->txn_locks = strcasecmp((const char *)mode, "wal") != 0;
		conn->mode_locks = conn->txn_locks;
		conn->mode_version = version;
		conn->mode_known = versioned;
	}
	sqlite3_reset(conn->mode);
}

/* The worker's connection to the file c opens, opened on first use; NULL
 * when the cache is full (*db is then a connection for this query only,
 * closed by the caller) or on failure (*db NULL, reason set).  The cache is
 * an open-addressed table on the name's hash (slots are never freed while
 * the thread lives, so the first free slot ends a search); a slot last
 * found for c itself needs no comparison of names. */
static struct sqlite_conn *sqlite_thread_conn(const struct sqlite_cfg *c, sqlite3 **db,
					      char *reason, size_t rlen)
{
	struct sqlite_thread *t = sqlite_thread();
	struct sqlite_conn *free_slot = NULL, *conn;

	*db = NULL;
	for (size_t j = 0; t != NULL && j < SQLITE_MAX_DBS; j++) {
		conn = &t->conns[(c->open_hash + j) % SQLITE_MAX_DBS];
		if (conn->path == NULL) {
			free_slot = conn;
			break;
		}
		if (conn->owner == c->id ||
		    (conn->hash == c->open_hash && strcmp(conn->path, c->open_name) == 0)) {
			conn->owner = c->id;
			*db = conn->db;
			return conn;
		}
	}
	if (sqlite3_open_v2(c->open_name, db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
			    NULL) != SQLITE_OK) {
		snprintf(reason, rlen, "cannot open database: %s",
			 *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return NULL;
	}
	sqlite3_busy_timeout(*db, 200);
	if (free_slot == NULL || (free_slot->path = strdup(c->open_name)) == NULL)
		return NULL; /* used once: correct, only slower */
	free_slot->hash = c->open_hash;
	free_slot->owner = c->id;
	free_slot->db = *db;
	return free_slot;
}

/* The statement for query kind k of c on conn: the cached one if its text
 * is still c's (a reload may have changed the template; the text, not its
 * address, is compared unless the statement was last found for c itself:
 * ids are never reused), else a new one, cached when conn is.  *cached says
 * whether sqlite_stmt_release must keep it.  NULL on failure (message in
 * db). */
static sqlite3_stmt *sqlite_thread_stmt(struct sqlite_conn *conn, sqlite3 *db,
					enum query_kind k, const struct sqlite_cfg *c,
					bool *cached)
{
	sqlite3_stmt **slot = conn != NULL ? &conn->st[k] : NULL, *st = NULL;

	*cached = false;
	if (slot != NULL && *slot != NULL) {
		if (conn->st_owner[k] == c->id || strcmp(sqlite3_sql(*slot), c->sql[k]) == 0) {
			conn->st_owner[k] = c->id;
			*cached = true;
			return *slot;
		}
		sqlite3_finalize(*slot);
		*slot = NULL;
		conn->st_owner[k] = 0;
	}
	if (sqlite3_prepare_v3(db, c->sql[k], -1, slot ? SQLITE_PREPARE_PERSISTENT : 0, &st,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	if (slot != NULL) {
		*slot = st;
		conn->st_owner[k] = c->id;
		conn->map[k].owner = 0; /* a new statement: its columns are not known */
		*cached = true;
	}
	return st;
}

/* Done with a statement: a cached one is reset at once (so it holds no read
 * transaction of its own while idle) and forgets the job's values; another
 * is freed. */
static void sqlite_stmt_release(sqlite3_stmt *st, bool cached)
{
	if (st == NULL)
		return;
	if (!cached) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int sqlite_progress(void *arg)
{
	struct sqlite_job *job = arg;

	return atomic_load_explicit(&job->cancelled, memory_order_relaxed) ? 1 : 0;
}

/* A row as the mapping getter sees it: the statement, the map of its
 * columns, and their names, read only when the map lacks a `from`. */
#define SQLITE_MAX_COLS 64
struct sqlite_row {
	sqlite3_stmt *st;
	struct sqlite_colmap *map;
	int next;  /* the map entry the next lookup likely wants (same order each row) */
	int ncols; /* -1: names not read yet */
	const char *names[SQLITE_MAX_COLS];
};

/* Before each row is read: map is kept only if it was made for owner's
 * mapping and for the statement as it is now (see struct sqlite_colmap). */
static void sqlite_row_start(struct sqlite_row *row, sqlite3_stmt *st,
			     struct sqlite_colmap *map, uint64_t owner)
{
	int reprepares = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0);
	int ncols = sqlite3_column_count(st);

	row->st = st;
	row->map = map;
	row->next = 0;
	if (map->owner != owner || map->reprepares != reprepares || map->ncols != ncols) {
		map->owner = owner;
		map->reprepares = reprepares;
		map->ncols = ncols;
		map->n = 0;
		row->ncols = -1; /* names may have changed too */
	}
}

/* The index of column `from` (case-insensitive, as SQL names are), or -1. */
static int sqlite_row_find(struct sqlite_row *row, const char *from)
{
	if (row->ncols < 0) {
		row->ncols = sqlite3_column_count(row->st);
		if (row->ncols > SQLITE_MAX_COLS)
			row->ncols = SQLITE_MAX_COLS; /* mapped columns beyond: not found */
		for (int i = 0; i < row->ncols; i++)
			row->names[i] = sqlite3_column_name(row->st, i);
	}
	for (int i = 0; i < row->ncols; i++)
		if (row->names[i] != NULL && strcasecmp(row->names[i], from) == 0)
			return i;
	return -1;
}

/* The mapping getter.  A TEXT or BLOB value is handed over as stored, with
 * its full length (sqlite3_column_bytes counts embedded NULs): bytes that
 * are not UTF-8 text are repaired by mapping_apply (utf8text.h). */
static int sqlite_get(void *rowp, const char *from, const char **val, size_t *len)
{
	struct sqlite_row *row = rowp;
	struct sqlite_colmap *m = row->map;
	int i = row->next, col;

	if (i >= m->n || m->from[i] != from)
		for (i = 0; i < m->n && m->from[i] != from; i++)
			;
	if (i < m->n) {
		col = m->col[i];
		row->next = i + 1;
	} else {
		col = sqlite_row_find(row, from);
		if (m->n < SQLITE_COLMAP_MAX) {
			m->from[m->n] = from;
			m->col[m->n] = (short)col;
			row->next = ++m->n;
		}
	}
	if (col < 0)
		return 0;
	/* NULL only for SQL NULL or out of memory: the type is asked only then */
	*val = (const char *)sqlite3_column_text(row->st, col);
	if (*val == NULL)
		return sqlite3_column_type(row->st, col) == SQLITE_NULL ? 0 : FOCAL_E_NOMEM;
	*len = (size_t)sqlite3_column_bytes(row->st, col);
	return 1;
}

/* Binds the job's parameters; false with the reason set. */
static bool sqlite_bind(struct sqlite_job *job, const struct sqlite_cfg *c, sqlite3 *db,
			sqlite3_stmt *st)
{
	enum query_kind k = job->kind;
	int rc;

	for (size_t i = 0; i < c->nparams[k]; i++) {
		const char *v = job->param[c->order[k][i]];

		rc = v ? sqlite3_bind_text(st, (int)i + 1, v, -1, SQLITE_STATIC)
		       : sqlite3_bind_null(st, (int)i + 1);
		if (rc != SQLITE_OK) {
			snprintf(job->reason, sizeof(job->reason), "bind failed: %s",
				 sqlite3_errmsg(db));
			return false;
		}
	}
	return true;
}

static void sqlite_run(struct work *w)
{
	struct sqlite_job *job = (struct sqlite_job *)w;
	const struct source_def *def = job->shadow.def;
	const struct sqlite_cfg *c = def->conn_cfg;
	enum query_kind k = job->kind;
	struct sqlite_conn *conn;
	struct sqlite_row row = { .ncols = -1 };
	struct sqlite_colmap once = { .owner = 0 }; /* an uncached statement's */
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	bool cached = false;
	int rc = SQLITE_ERROR, add;

	job->status = SOURCE_ERROR;
	if (atomic_load(&job->cancelled))
		return;
	conn = sqlite_thread_conn(c, &db, job->reason, sizeof(job->reason));
	if (db == NULL)
		return;
	if (conn != NULL)
		sqlite_txn_join(conn, job->submit_ns);
	sqlite3_progress_handler(db, 1000, sqlite_progress, job);
	if ((st = sqlite_thread_stmt(conn, db, k, c, &cached)) == NULL) {
		snprintf(job->reason, sizeof(job->reason), "query failed: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (!sqlite_bind(job, c, db, st))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite_row_start(&row, st, cached ? &conn->map[k] : &once, c->id);
		add = source_call_add_row(&job->shadow, sqlite_get, &row);
		if (add < 0) {
			snprintf(job->reason, sizeof(job->reason), "%s", job->shadow.reason);
			goto out;
		}
		if (add == 1)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(job->reason, sizeof(job->reason), "query failed: %s", sqlite3_errmsg(db));
		goto out;
	}
	job->status = SOURCE_OK;
out:
	sqlite_stmt_release(st, cached);
	if (conn != NULL && job->status == SOURCE_OK)
		sqlite_txn_check(conn);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	if (conn == NULL)
		sqlite3_close(db);
	else if (job->status != SOURCE_OK)
		sqlite_txn_end(conn); /* an interrupted or failed query: start afresh */
}

static void sqlite_job_free(struct sqlite_job *job)
{
	record_set_clear(&job->shadow.records);
	free(job->param_mem);
	config_unref(job->cfg);
	free(job);
}

static void sqlite_done(struct work *w)
{
	struct sqlite_job *job = (struct sqlite_job *)w;
	struct source_call *call = job->call;

	if (call == NULL) { /* cancelled while it ran */
		sqlite_job_free(job);
		return;
	}
	call->priv = NULL;
	if (job->status == SOURCE_OK) {
		record_set_move(&call->records, &job->shadow.records);
		call->rows = job->shadow.rows;
		if (job->shadow.status == SOURCE_TRUNCATED)
			call->status = SOURCE_TRUNCATED;
	}
	if (job->status == SOURCE_OK)
		source_call_finish(call, SOURCE_OK, NULL);
	else
		source_call_finish(call, SOURCE_ERROR, "%s", job->reason);
	sqlite_job_free(job);
}

/* Copies q's parameters into job, in one allocation (one malloc and one
 * free per call, not one per parameter). */
static int sqlite_copy_params(struct sqlite_job *job, const struct query *q)
{
	size_t len[QP__COUNT], total = 0;
	char *p;

	for (int i = 0; i < QP__COUNT; i++) {
		len[i] = q->param[i] != NULL ? strlen(q->param[i]) + 1 : 0;
		total += len[i];
	}
	if (total == 0)
		return FOCAL_OK;
	if ((p = job->param_mem = malloc(total)) == NULL)
		return FOCAL_E_NOMEM;
	for (int i = 0; i < QP__COUNT; i++) {
		if (len[i] == 0)
			continue;
		job->param[i] = memcpy(p, q->param[i], len[i]);
		p += len[i];
	}
	return FOCAL_OK;
}

static void sqlite_start(struct source_call *call)
{
	struct workpool *pool = workpool_default();
	struct sqlite_job *job;

	if (pool == NULL) {
		source_call_finish(call, SOURCE_ERROR, "no worker pool");
		return;
	}
	/* zeroed up to the reason, which is text only once written */
	job = malloc(sizeof(*job));
	if (job == NULL) {
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	memset(job, 0, offsetof(struct sqlite_job, reason));
	job->reason[0] = '\0';
	job->work.run = sqlite_run;
	job->work.done = sqlite_done;
	job->work.leave = sqlite_leave;
	job->work.loop = call->loop;
	job->call = call;
	job->cfg = config_ref(call->rt->cfg);
	/* the worker must not read the search's memory: copy the parameters */
	if (sqlite_copy_params(job, call->query) != FOCAL_OK) {
		sqlite_job_free(job);
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	job->kind = call->query->kind;
	job->submit_ns = loop_now_ns();
	source_call_init(&job->shadow, call->rt, NULL, NULL, NULL);
	call->priv = job;
	if (workpool_submit(pool, &job->work) != FOCAL_OK) {
		call->priv = NULL;
		sqlite_job_free(job);
		source_call_finish(call, SOURCE_ERROR, "worker pool saturated");
	}
}

static void sqlite_cancel(struct source_call *call)
{
	struct sqlite_job *job = call->priv;

	if (job == NULL)
		return;
	job->call = NULL;
	atomic_store(&job->cancelled, true);
	call->priv = NULL;
}

const struct connector connector_sqlite = {
	.kind = "sqlite",
	.template_style = TEMPLATE_SQL,
	.mapping_from = MAPPING_FROM_COLUMN,
	.configure = sqlite_configure,
	.config_free = sqlite_cfg_free,
	.start = sqlite_start,
	.cancel = sqlite_cancel,
};
