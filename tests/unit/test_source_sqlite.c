/*
 * test_source_sqlite: the SQLite connector end to end (sources/source_sqlite.c
 * through sources/source.c): a real database file in a temporary folder, a
 * configuration loaded with config_load_string, a real loop and worker pool.
 * Covers mapping, the row limit, bound parameters (no injection), deadlines
 * that interrupt the worker, query errors and the circuit breaker.
 *
 * The pool has ONE worker on purpose: a slow query that was not interrupted
 * would hold up the call after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <sqlite3.h>
#include <utf8proc.h>

#include "core/config.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/workpool.h"
#include "search/briefing.h"
#include "sources/breaker.h"
#include "sources/mapping.h"
#include "sources/source.h"
#include "sources/utf8text.h"

static char tmpdir[64], dbpath[128], snappath[160], walpath[128], switchpath[128],
	modepath[128], colpath[128];
static struct loop loop;
static struct workpool *pool;
static struct config *cfg;
static struct source_set *set;

static const char schema[] =
	"CREATE TABLE gezocht (rijksregisternummer TEXT, achternaam TEXT, voornaam TEXT,"
	"  signalering TEXT);"
	"INSERT INTO gezocht VALUES ('81031212375', 'Peeters', 'Jan', 'Gewapend en gevaarlijk'),"
	"  ('90010154321', 'Janssens  ', 'Marie', NULL),"
	"  ('70020200101', 'De Smet', 'An', '');"
	"CREATE TABLE veel (n INTEGER);"
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50)"
	"  INSERT INTO veel SELECT x FROM c;"
	/* values that are not NUL-free UTF-8 text: Latin-1 and an embedded
	 * NUL in TEXT columns, a surrogate, a broken sequence, a lone NUL and
	 * an empty value in BLOB columns, 3000 NUL bytes (repaired past the
	 * 4096-byte value limit) */
	"CREATE TABLE kapot (n INTEGER, achternaam, voornaam, signalering);"
	"INSERT INTO kapot VALUES"
	"  (1, CAST(X'52656EE9' AS TEXT), CAST(X'610062' AS TEXT), X'EDA080'),"
	"  (2, X'', X'C328', X'00'),"
	"  (3, CAST(zeroblob(3000) AS TEXT), 'Jan', NULL);";

/* Two sources on one file (paths: two %s) for the freshness tests: <name>_wanted
 * finds persons by name, <name>_busy keeps the worker in a read transaction
 * for a while. */
#define WANTED_AND_BUSY(name)                                                               \
	"  - name: " name "_wanted\n"                                                       \
	"    kind: sqlite\n"                                                                \
	"    owner: Local Police\n"                                                         \
	"    classification: not_sensitive\n"                                               \
	"    deadline_ms: 20000\n"                                                          \
	"    connection: {path: %s}\n"                                                      \
	"    queries: {person: \"SELECT * FROM gezocht WHERE achternaam = :family_name\"}\n" \
	"    map: {person: {family_name: achternaam, given_name: voornaam}}\n"              \
	"  - name: " name "_busy\n"                                                         \
	"    kind: sqlite\n"                                                                \
	"    owner: Local Police\n"                                                         \
	"    classification: not_sensitive\n"                                               \
	"    deadline_ms: 20000\n"                                                          \
	"    connection: {path: %s}\n"                                                      \
	"    queries:\n"                                                                    \
	"      person: >-\n"                                                                \
	"        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c\n"          \
	"        WHERE x < 1500000) SELECT max(x) + (SELECT count(*) FROM gezocht) AS n\n"  \
	"        FROM c WHERE :family_name IS NOT NULL\n"                                   \
	"    map: {report: {reference: n}}\n"

/* Sources (names are unique per test: breakers live as long as the process). */
static const char config_fmt[] =
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"
	"sources:\n"
	"  - name: wanted\n"
	"    kind: sqlite\n"
	"    owner: Federal Police\n"
	"    classification: restricted\n"
	"    connection: {path: %s}\n"
	"    queries:\n"
	/* a trailing comment must not swallow the connector's wrapping */
	"      person: \"SELECT * FROM gezocht WHERE achternaam = :family_name -- by name\"\n"
	"      national_number: SELECT * FROM gezocht WHERE rijksregisternummer = :national_number\n"
	"    map:\n"
	"      person: {national_number: rijksregisternummer, family_name: achternaam,\n"
	"               given_name: voornaam}\n"
	"      alert: {when: signalering, category: signalering,\n"
	"              instruction: {value: Approach with care}}\n"
	"  - name: many\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    max_rows: 5\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT n FROM veel WHERE :family_name IS NOT NULL ORDER BY n\"}\n"
	"    map: {report: {reference: n}}\n"
	"  - name: slow\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    connection: {path: %s}\n"
	"    queries:\n"
	"      person: >-\n"
	"        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c\n"
	"        WHERE x < 4000000000) SELECT max(x) AS n FROM c WHERE :family_name IS NOT NULL\n"
	"    map: {report: {reference: n}}\n"
	"  - name: broken\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM no_such_table WHERE a = :family_name\"}\n"
	"    map: {person: {family_name: a}}\n"
	"  - name: flaky\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    breaker_failures: 2\n"
	"    breaker_cooldown_ms: 60000\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM missing_too WHERE a = :family_name\"}\n"
	"    map: {person: {family_name: a}}\n"
	"  - name: snapshot\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    connection: {path: \"%s\", immutable: true}\n"
	"    queries: {person: \"SELECT * FROM gezocht WHERE achternaam = :family_name\"}\n"
	"    map: {person: {family_name: achternaam, given_name: voornaam}}\n"
	"  - name: kapot\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM kapot WHERE :family_name IS NOT NULL ORDER BY n\"}\n"
	"    map:\n"
	"      person: {family_name: achternaam, given_name: voornaam}\n"
	"      alert: {when: signalering, category: signalering}\n"
	/* a file in WAL mode, whose writers commit while reads run */
	WANTED_AND_BUSY("wal");

/* More sources (one string literal would pass the length C17 guarantees). */
static const char config_more_fmt[] =
	/* a file switched from a rollback journal to WAL while focald runs */
	WANTED_AND_BUSY("switch")
	/* SELECT *: where each column is depends on the table as it is now */
	"  - name: kolommen\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM kol WHERE :family_name IS NOT NULL\"}\n"
	"    map: {person: {family_name: a, given_name: B, birth_date: c}}\n"
	"  - name: kolommen_ander\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM kol WHERE 0 AND :family_name IS NULL\"}\n"
	"    map: {person: {family_name: a}}\n";

enum {
	SRC_WANTED, SRC_MANY, SRC_SLOW, SRC_BROKEN, SRC_FLAKY, SRC_SNAPSHOT, SRC_KAPOT,
	SRC_WAL_WANTED, SRC_WAL_BUSY, SRC_SWITCH_WANTED, SRC_SWITCH_BUSY, SRC_KOLOMMEN,
	SRC_KOLOMMEN_ANDER
};

/* The database at path with the schema; false on failure. */
static bool make_db(const char *path)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
		  sqlite3_exec(db, schema, NULL, NULL, &msg) == SQLITE_OK;

	if (!ok)
		fprintf(stderr, "schema: %s\n", msg ? msg : "open failed");
	sqlite3_free(msg);
	sqlite3_close(db);
	return ok;
}

/* Runs sql on the file at path as another writer would, waiting at most
 * busy_ms for locks; false on failure. */
static bool exec_sql(const char *path, const char *sql, int busy_ms)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
		  sqlite3_busy_timeout(db, busy_ms) == SQLITE_OK &&
		  sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;

	if (!ok)
		fprintf(stderr, "%s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_close(db);
	return ok;
}

/* Removes the database file at path and what WAL mode leaves beside it. */
static void unlink_db(const char *path)
{
	char side[200];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static int setup(void **state)
{
	char text[sizeof(config_fmt) + sizeof(config_more_fmt) + 13 * 160];
	size_t len;
	struct focal_err err;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/focal-sqlite-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/regs.db", tmpdir);
	/* characters a file: URI must escape */
	snprintf(snappath, sizeof(snappath), "%s/snap shot %%41#?&.db", tmpdir);
	snprintf(walpath, sizeof(walpath), "%s/wal.db", tmpdir);
	snprintf(switchpath, sizeof(switchpath), "%s/switch.db", tmpdir);
	snprintf(modepath, sizeof(modepath), "%s/mode.db", tmpdir);
	snprintf(colpath, sizeof(colpath), "%s/kol.db", tmpdir);
	if (!make_db(dbpath) || !make_db(snappath) || !make_db(walpath) || !make_db(switchpath) ||
	    !exec_sql(colpath, "CREATE TABLE kol (a TEXT, b TEXT, c TEXT);"
			       "INSERT INTO kol VALUES ('A', 'B', 'C')", 0) ||
	    !exec_sql(walpath, "PRAGMA journal_mode=WAL", 0))
		return -1;
	len = (size_t)snprintf(text, sizeof(text), config_fmt, dbpath, dbpath, dbpath, dbpath, dbpath,
			       snappath, dbpath, walpath, walpath);
	snprintf(text + len, sizeof(text) - len, config_more_fmt, switchpath, switchpath, colpath,
		 colpath);
	if (loop_global_init(&err) != 0 || loop_init(&loop, 0, &err) != 0 ||
	    workpool_create(1, 16, &pool, &err) != 0 ||
	    config_load_string("focal.yaml", text, strlen(text), &cfg, &err) != 0 ||
	    source_set_new(&loop, cfg, &set, &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	workpool_set_default(pool);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	source_set_unref(set);
	config_unref(cfg);
	workpool_destroy(pool); /* joins: worker connections close with their threads */
	loop_fini(&loop);
	breaker_shutdown();
	metrics_shutdown();
	unlink(dbpath);
	unlink(snappath);
	unlink_db(walpath);
	unlink_db(switchpath);
	unlink_db(modepath);
	unlink_db(colpath);
	rmdir(tmpdir);
	return 0;
}

struct result {
	bool done;
	int ncallbacks;
	uint64_t done_ns;
};

static void on_done(struct source_call *call, void *arg)
{
	struct result *r = arg;

	(void)call;
	r->done = true;
	r->ncallbacks++;
	r->done_ns = loop_now_ns();
	event_base_loopbreak(loop.base);
}

static void on_safety(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
	event_base_loopbreak(loop.base);
}

/* Runs one call of source `src` to completion (at most 10 s); returns its
 * duration in ms.  The caller checks and clears *call. */
static double run_call(struct source_call *call, size_t src, struct query *q, long deadline_ms,
		       struct result *res)
{
	struct timeval tv = { 10, 0 };
	bool expired = false;
	struct event *safety = evtimer_new(loop.base, on_safety, &expired);
	uint64_t t0;

	memset(res, 0, sizeof(*res));
	evtimer_add(safety, &tv);
	source_call_init(call, &set->rt[src], q, on_done, res);
	t0 = loop_now_ns();
	source_call_start(call, deadline_ms);
	while (!res->done && !expired)
		event_base_loop(loop.base, EVLOOP_ONCE);
	event_free(safety);
	if (!res->done)
		fail_msg("source %s did not finish within 10 s", call->def->name);
	return (double)(res->done_ns - t0) / 1e6;
}

/* Lets posted tasks (a cancelled job's done) run. */
static void settle(void)
{
	event_base_loop(loop.base, EVLOOP_NONBLOCK);
}

static void person(struct query *q, const char *family)
{
	memset(q, 0, sizeof(*q));
	q->kind = QUERY_PERSON;
	q->param[QP_FAMILY_NAME] = (char *)family;
}

static void test_mapped_records(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;
	const struct record *p, *a;

	(void)state;
	person(&q, "Peeters");
	run_call(&call, SRC_WANTED, &q, 0, &res);
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(res.ncallbacks, 1);
	assert_int_equal(call.rows, 1);
	assert_int_equal(call.records.n, 2);
	p = &call.records.items[0];
	a = &call.records.items[1];
	assert_int_equal(p->kind, ENTITY_PERSON);
	assert_string_equal(p->source, "wanted");
	assert_string_equal(record_get(p, "national_number"), "81031212375");
	assert_string_equal(record_get(p, "family_name"), "Peeters");
	assert_string_equal(record_get(p, "given_name"), "Jan");
	assert_int_equal(a->kind, ENTITY_ALERT);
	assert_string_equal(record_get(a, "category"), "Gewapend en gevaarlijk");
	assert_string_equal(record_get(a, "instruction"), "Approach with care");
	assert_true(call.ms >= 0);
	source_call_clear(&call);

	/* NULL and empty signalering: a person and no alert */
	memset(&q, 0, sizeof(q));
	q.kind = QUERY_NATIONAL_NUMBER;
	q.param[QP_NATIONAL_NUMBER] = "70020200101";
	run_call(&call, SRC_WANTED, &q, 0, &res);
	assert_int_equal(call.status, SOURCE_OK);
	assert_int_equal(call.records.n, 1);
	assert_string_equal(record_get(&call.records.items[0], "family_name"), "De Smet");
	source_call_clear(&call);

	/* a CHAR-padded value is trimmed */
	person(&q, "Janssens  ");
	run_call(&call, SRC_WANTED, &q, 0, &res);
	assert_int_equal(call.status, SOURCE_OK);
	assert_int_equal(call.records.n, 1);
	assert_string_equal(record_get(&call.records.items[0], "family_name"), "Janssens");
	source_call_clear(&call);
}

/* immutable: true opens the file through a file: URI with immutable=1; the
 * path is escaped, so a name with %, #, ?, & and spaces still opens that file
 * and nothing else. */
static void test_immutable_snapshot(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;

	(void)state;
	person(&q, "Peeters");
	run_call(&call, SRC_SNAPSHOT, &q, 0, &res);
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(call.rows, 1);
	assert_string_equal(record_get(&call.records.items[0], "given_name"), "Jan");
	source_call_clear(&call);
}

/* Regression: the SQLite getter passed a TEXT or BLOB column's bytes on as
 * they were, so a value that was not UTF-8, or held a NUL, reached the
 * records (and a NUL cut the value short of what the byte limit counted).
 * mapping_apply now repairs every connector's values with U+FFFD (as the
 * PostgreSQL connector did alone before); the alert is kept, the byte
 * account matches the stored text, and the briefing's JSON parses. */
static void test_not_utf8(void **state)
{
	static const char fffd[] = "\xef\xbf\xbd";
	struct source_call call;
	struct result res;
	struct query q;
	const struct record *r;
	size_t bytes = 0, alerts = 0, len;
	json_t *j, *recs;
	char want[16];

	(void)state;
	person(&q, "x");
	run_call(&call, SRC_KAPOT, &q, 0, &res);
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(call.rows, 3);
	for (size_t i = 0; i < call.records.n; i++) {
		r = &call.records.items[i];
		for (size_t k = 0; k < r->nfields; k++) {
			len = strlen(r->fields[k].value);
			assert_true(len <= MAPPING_VALUE_MAX);
			if (!utf8text_valid(r->fields[k].value, len))
				fail_msg("record %zu field %s: %zu bytes not text", i, r->fields[k].name, len);
			bytes += len;
		}
		alerts += r->kind == ENTITY_ALERT;
	}
	assert_int_equal(call.records.bytes, bytes);
	assert_int_equal(alerts, 2); /* the surrogate and the lone NUL: flags kept */

	/* row 1: person, alert */
	r = &call.records.items[0];
	assert_int_equal(r->kind, ENTITY_PERSON);
	snprintf(want, sizeof(want), "Ren%s", fffd);
	assert_string_equal(record_get(r, "family_name"), want);
	snprintf(want, sizeof(want), "a%sb", fffd);
	assert_string_equal(record_get(r, "given_name"), want);
	r = &call.records.items[1];
	assert_int_equal(r->kind, ENTITY_ALERT);
	snprintf(want, sizeof(want), "%s%s%s", fffd, fffd, fffd);
	assert_string_equal(record_get(r, "category"), want);
	/* row 2: the empty BLOB is absent, not an error */
	r = &call.records.items[2];
	assert_int_equal(r->kind, ENTITY_PERSON);
	assert_null(record_get(r, "family_name"));
	snprintf(want, sizeof(want), "%s(", fffd);
	assert_string_equal(record_get(r, "given_name"), want);
	r = &call.records.items[3];
	assert_int_equal(r->kind, ENTITY_ALERT);
	assert_string_equal(record_get(r, "category"), fffd);
	/* row 3: 3000 NULs, 1365 replacement characters (4095 bytes) */
	r = &call.records.items[4];
	assert_int_equal(strlen(record_get(r, "family_name")), 1365 * 3);

	/* the source's part of the briefing is valid JSON (jansson refuses
	 * invalid UTF-8 and \u0000) and carries the repaired text */
	j = briefing_source_json(&call, true);
	assert_non_null(j);
	recs = json_object_get(j, "records");
	assert_int_equal(json_array_size(recs), call.records.n);
	snprintf(want, sizeof(want), "Ren%s", fffd);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(recs, 0), "fields"), "family_name")),
			    want);
	json_decref(j);
	source_call_clear(&call);
}

static void test_skipped(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.kind = QUERY_PLATE;
	q.param[QP_PLATE] = "1ABC123";
	run_call(&call, SRC_WANTED, &q, 0, &res);
	assert_int_equal(call.status, SOURCE_SKIPPED);
	assert_non_null(strstr(call.reason, "does not answer plate"));
	source_call_clear(&call);
}

static void test_row_limit(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;

	(void)state;
	person(&q, "x");
	run_call(&call, SRC_MANY, &q, 0, &res);
	assert_int_equal(call.status, SOURCE_TRUNCATED);
	assert_int_equal(call.rows, 5);
	assert_int_equal(call.records.n, 5);
	assert_string_equal(record_get(&call.records.items[0], "reference"), "1");
	assert_string_equal(record_get(&call.records.items[4], "reference"), "5");
	assert_non_null(strstr(call.reason, "limit"));
	source_call_clear(&call);
}

static void test_injection(void **state)
{
	static const char *const evil[] = {
		"' OR 1=1 --",
		"Peeters' OR '1'='1",
		"x'; DROP TABLE gezocht; --",
		"Peeters\" OR \"\"=\"",
	};
	struct source_call call;
	struct result res;
	struct query q;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		person(&q, evil[i]);
		run_call(&call, SRC_WANTED, &q, 0, &res);
		if (call.status != SOURCE_OK || call.rows != 0)
			fail_msg("\"%s\": %s, %zu rows", evil[i], source_status_name(call.status),
				 call.rows);
		assert_int_equal(call.records.n, 0);
		source_call_clear(&call);
	}
	/* the table is intact */
	assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM gezocht", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	sqlite3_finalize(st);
	sqlite3_close(db);
	person(&q, "Peeters");
	run_call(&call, SRC_WANTED, &q, 0, &res);
	assert_int_equal(call.rows, 1);
	source_call_clear(&call);
}

static void test_timeout_interrupts_worker(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;
	double ms;

	(void)state;
	person(&q, "x");
	ms = run_call(&call, SRC_SLOW, &q, 200, &res);
	if (call.status != SOURCE_TIMEOUT)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(res.ncallbacks, 1);
	if (ms < 195 || ms > 600)
		fail_msg("timed out after %.1f ms, want about 200", ms);
	assert_int_equal(call.records.n, 0);
	/* the reason gives the deadline that applied, not the source's default */
	if (strstr(call.reason, "2000") != NULL || strstr(call.reason, "ms") == NULL)
		fail_msg("reason: %s", call.reason);
	source_call_clear(&call);

	/* the single worker is free again: the next query answers at once
	 * rather than after a count to four billion */
	person(&q, "Peeters");
	ms = run_call(&call, SRC_WANTED, &q, 0, &res);
	if (call.status != SOURCE_OK)
		fail_msg("after timeout: %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(call.rows, 1);
	if (ms > 1000)
		fail_msg("next query took %.1f ms: the worker was not interrupted", ms);
	source_call_clear(&call);
	settle();
}

static void test_query_error(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;

	(void)state;
	person(&q, "x");
	run_call(&call, SRC_BROKEN, &q, 0, &res);
	assert_int_equal(call.status, SOURCE_ERROR);
	if (strstr(call.reason, "no such table: no_such_table") == NULL)
		fail_msg("reason: %s", call.reason);
	assert_int_equal(call.records.n, 0);
	source_call_clear(&call);
	assert_false(breaker_is_open(cfg->sources[SRC_BROKEN].breaker));
}

static void test_breaker_opens(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;

	(void)state;
	person(&q, "x");
	for (int i = 0; i < 2; i++) {
		run_call(&call, SRC_FLAKY, &q, 0, &res);
		assert_int_equal(call.status, SOURCE_ERROR);
		source_call_clear(&call);
	}
	assert_true(breaker_is_open(cfg->sources[SRC_FLAKY].breaker));
	/* open: answered at once, without asking the database */
	memset(&res, 0, sizeof(res));
	source_call_init(&call, &set->rt[SRC_FLAKY], &q, on_done, &res);
	source_call_start(&call, 0);
	assert_true(res.done); /* synchronously: no job was queued */
	assert_int_equal(res.ncallbacks, 1);
	assert_int_equal(call.status, SOURCE_UNAVAILABLE);
	assert_non_null(strstr(call.reason, "circuit open"));
	assert_null(call.priv);
	source_call_clear(&call);
	/* other sources are not affected */
	person(&q, "Peeters");
	run_call(&call, SRC_WANTED, &q, 0, &res);
	assert_int_equal(call.status, SOURCE_OK);
	source_call_clear(&call);
}

/* A worker keeps its read transaction open across queued queries on the
 * same file (source_sqlite.c).  Once it has nothing left to run it lets the
 * file go: a writer then gets an exclusive lock at once, with no wait. */
static void test_idle_worker_holds_no_lock(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;

	(void)state;
	for (int i = 0; i < 3; i++) {
		person(&q, "Peeters");
		run_call(&call, SRC_WANTED, &q, 0, &res);
		assert_int_equal(call.status, SOURCE_OK);
		source_call_clear(&call);
	}
	assert_true(exec_sql(dbpath, "BEGIN EXCLUSIVE; INSERT INTO veel VALUES (51);"
				     "DELETE FROM veel WHERE n = 51; COMMIT", 0));
}

/* A query never joins a read transaction that began before it was asked:
 * a row committed before the search started is always seen, even while the
 * worker is still busy in a transaction on the same file (WAL mode, where
 * writers commit while reads run). */
/* busy runs on the only worker, inside a read transaction on path's file;
 * meanwhile a row is committed, then wanted asks for it: it must see it. */
static void check_snapshot_fresh(const char *path, size_t src_busy, size_t src_wanted)
{
	struct source_call busy, call;
	struct result rbusy, res;
	struct timeval tv = { 10, 0 };
	bool expired = false;
	struct event *safety = evtimer_new(loop.base, on_safety, &expired);
	struct query qb, q;

	person(&qb, "x");
	memset(&rbusy, 0, sizeof(rbusy));
	source_call_init(&busy, &set->rt[src_busy], &qb, on_done, &rbusy);
	source_call_start(&busy, 60000);
	usleep(50 * 1000); /* the worker is inside busy's transaction */
	assert_true(exec_sql(path, "INSERT INTO gezocht VALUES ('1', 'Peeters', 'Piet', NULL)",
			     2000));
	memset(&res, 0, sizeof(res));
	person(&q, "Peeters");
	source_call_init(&call, &set->rt[src_wanted], &q, on_done, &res);
	source_call_start(&call, 60000);
	evtimer_add(safety, &tv);
	while (!(rbusy.done && res.done) && !expired)
		event_base_loop(loop.base, EVLOOP_ONCE);
	event_free(safety);
	assert_true(rbusy.done && res.done);
	assert_int_equal(busy.status, SOURCE_OK);
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(call.rows, 2); /* Jan, and Piet committed before the ask */
	source_call_clear(&busy);
	source_call_clear(&call);
	assert_true(exec_sql(path, "DELETE FROM gezocht WHERE rijksregisternummer = '1'", 2000));
}

/* A query never joins a read transaction that began before it was asked:
 * a row committed before the search started is always seen, even while the
 * worker is still busy in a transaction on the same file (WAL mode, where
 * writers commit while reads run). */
static void test_snapshot_never_older_than_query(void **state)
{
	(void)state;
	check_snapshot_fresh(walpath, SRC_WAL_BUSY, SRC_WAL_WANTED);
}

/* What a read-only connection sees of the file at path in a read
 * transaction: its data version and whether it is in WAL mode. */
static void read_mode(sqlite3 *db, unsigned *version, bool *wal)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_exec(db, "BEGIN; SELECT count(*) FROM gezocht", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_DATA_VERSION, version),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA main.journal_mode", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

/* The worker remembers a file's journal mode while the file is unchanged
 * (source_sqlite.c: sqlite_txn_check).  A file switched to WAL after the
 * worker knew it in rollback mode must be treated as WAL from then on. */
static void test_switch_to_wal(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;
	unsigned v1, v2;
	bool wal;
	sqlite3 *db;

	(void)state;
	/* what the worker relies on: SQLite's data version of the file, as a
	 * reader sees it, changes when another connection switches the mode */
	assert_true(make_db(modepath));
	assert_int_equal(sqlite3_open_v2(modepath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	read_mode(db, &v1, &wal);
	assert_false(wal);
	read_mode(db, &v2, &wal);
	assert_int_equal(v1, v2);
	assert_true(exec_sql(modepath, "PRAGMA journal_mode=WAL", 2000));
	read_mode(db, &v2, &wal);
	assert_true(wal);
	assert_int_not_equal(v1, v2);
	sqlite3_close(db);
	unlink_db(modepath);

	for (int i = 0; i < 2; i++) { /* the mode is asked, then remembered */
		person(&q, "Peeters");
		run_call(&call, SRC_SWITCH_WANTED, &q, 0, &res);
		assert_int_equal(call.status, SOURCE_OK);
		assert_int_equal(call.rows, 1);
		source_call_clear(&call);
	}
	assert_true(exec_sql(switchpath, "PRAGMA journal_mode=WAL", 2000));
	check_snapshot_fresh(switchpath, SRC_SWITCH_BUSY, SRC_SWITCH_WANTED);
}

/* Runs source kolommen; checks its one person's fields (NULL: absent). */
static void check_kolommen(const char *family, const char *given, const char *birth)
{
	struct source_call call;
	struct result res;
	struct query q;
	const struct record *r;

	person(&q, "x");
	run_call(&call, SRC_KOLOMMEN, &q, 0, &res);
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(call.records.n, 1);
	r = &call.records.items[0];
	if (family != NULL)
		assert_string_equal(record_get(r, "family_name"), family);
	else
		assert_null(record_get(r, "family_name"));
	assert_string_equal(record_get(r, "given_name"), given);
	if (birth != NULL)
		assert_string_equal(record_get(r, "birth_date"), birth);
	else
		assert_null(record_get(r, "birth_date"));
	source_call_clear(&call);
}

/* The worker remembers where a statement's mapped columns are (source_sqlite.c:
 * struct sqlite_colmap).  When the table changes under a cached SELECT *,
 * SQLite re-prepares the statement and the columns move: every value must
 * still land in its own field, never in the one the old position had. */
static void test_columns_move(void **state)
{
	struct source_call call;
	struct result res;
	struct query q;

	(void)state;
	check_kolommen("A", "B", "C");
	check_kolommen("A", "B", "C"); /* from the map */
	/* the table changes; another source takes the worker's statement slot
	 * for this file (its run loads the new schema; it reads no row), and
	 * kolommen's statement is prepared afresh: the map made for the old
	 * one must not be used */
	assert_true(exec_sql(colpath, "CREATE TABLE nieuw (c TEXT, b TEXT, a TEXT);"
				      "INSERT INTO nieuw SELECT c, b, a FROM kol; DROP TABLE kol;"
				      "ALTER TABLE nieuw RENAME TO kol", 0));
	memset(&q, 0, sizeof(q));
	q.kind = QUERY_PERSON;
	run_call(&call, SRC_KOLOMMEN_ANDER, &q, 0, &res);
	assert_int_equal(call.status, SOURCE_OK);
	assert_int_equal(call.rows, 0);
	source_call_clear(&call);
	check_kolommen("A", "B", "C");
	check_kolommen("A", "B", "C");
	/* the same names in another order under the cached statement: SQLite
	 * re-prepares it */
	assert_true(exec_sql(colpath, "CREATE TABLE nieuw (b TEXT, a TEXT, c TEXT);"
				      "INSERT INTO nieuw SELECT b, a, c FROM kol; DROP TABLE kol;"
				      "ALTER TABLE nieuw RENAME TO kol", 0));
	check_kolommen("A", "B", "C");
	check_kolommen("A", "B", "C");
	/* a mapped column dropped, the count unchanged */
	assert_true(exec_sql(colpath, "CREATE TABLE nieuw (b TEXT, x TEXT, c TEXT);"
				      "INSERT INTO nieuw SELECT b, a, c FROM kol; DROP TABLE kol;"
				      "ALTER TABLE nieuw RENAME TO kol", 0));
	check_kolommen(NULL, "B", "C");
}

/* utf8text_valid as it was written before its eight-byte ASCII step: one
 * character at a time through utf8proc, refusing NUL. */
static bool utf8_valid_slow(const unsigned char *p, size_t len)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	for (size_t i = 0; i < len; i += (size_t)k) {
		k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0 || cp == 0)
			return false;
	}
	return true;
}

/* utf8text_valid takes eight ASCII bytes at a time: a NUL, a high byte or a
 * broken or valid sequence at any offset of a word, and a cut anywhere,
 * give the same answer as the character-by-character check. */
static void test_utf8text_words(void **state)
{
	static const char *const inserts[] = {
		"\0", "\x80", "\xff", "\xc3\xa9", "\xc3", "\xe2\x82\xac", "\xed\xa0\x80",
		"\xf0\x9f\x98\x80", "\xc0\xaf", "\x7f", "\x01",
	};
	unsigned char buf[40];
	size_t n;

	(void)state;
	for (size_t k = 0; k < sizeof(inserts) / sizeof(inserts[0]); k++) {
		size_t ilen = inserts[k][0] == '\0' ? 1 : strlen(inserts[k]);

		for (size_t at = 0; at + ilen <= 24; at++) {
			memset(buf, 'a', sizeof(buf));
			memcpy(buf + at, inserts[k], ilen);
			for (n = 0; n <= 24; n++)
				if (utf8text_valid((const char *)buf, n) != utf8_valid_slow(buf, n))
					fail_msg("insert %zu at %zu, length %zu", k, at, n);
		}
	}
	assert_true(utf8text_valid("abcdefghijklmnopq", 17));
	assert_false(utf8text_valid("abcdefgh\0ijklmnopq", 17));
	assert_false(utf8text_valid("abcdefghijklmnop\x80", 17));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapped_records),
		cmocka_unit_test(test_immutable_snapshot),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_row_limit),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_timeout_interrupts_worker),
		cmocka_unit_test(test_query_error),
		cmocka_unit_test(test_breaker_opens),
		cmocka_unit_test(test_idle_worker_holds_no_lock),
		cmocka_unit_test(test_snapshot_never_older_than_query),
		cmocka_unit_test(test_switch_to_wal),
		cmocka_unit_test(test_columns_move),
		cmocka_unit_test(test_utf8text_words),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
