/*
 * test_config: loading and validating focald's configuration (core/config.h).
 * A valid file loads with inherited defaults and paths relative to the file;
 * every invalid file is rejected with "name:LINE:COL:" of the culprit and a
 * message that says what is wrong.
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
#include <sqlite3.h>

#include "core/config.h"
#include "core/metrics.h"
#include "sources/breaker.h"
#include "sources/source.h"
#include "testutil.h"

static char tmpdir[64];
static char dbpath[128];

static int setup(void **state)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/focal-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/regs.db", tmpdir);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE wanted (family_name TEXT, given_name TEXT);", NULL,
			 NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	return 0;
}

static int teardown(void **state)
{
	char path[256];

	(void)state;
	unlink(dbpath);
	snprintf(path, sizeof(path), "%s/focal.yaml", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	breaker_shutdown();
	metrics_shutdown();
	return 0;
}

/* Replaces every "@DB@" in text by dbpath (caller frees). */
static char *with_db(const char *text)
{
	return testutil_replace(text, "@DB@", dbpath);
}

static const char valid_text[] =
	"server:\n"
	"  listen: 127.0.0.1\n"
	"  port: 9443\n"
	"  tls_cert: certs/server.pem\n"
	"  tls_key: /etc/focal/key.pem\n"
	"defaults: {deadline_ms: 1500, max_rows: 20, breaker_failures: 3}\n"
	"sources:\n"
	"  - name: wanted_db\n"
	"    kind: sqlite\n"
	"    owner: Federal Police\n"
	"    classification: strictly_confidential\n"
	"    max_rows: 7\n"
	"    connection: {path: @DB@}\n"
	"    queries:\n"
	"      person: \"SELECT * FROM wanted WHERE family_name = :family_name\"\n"
	"      national_number: SELECT * FROM wanted WHERE rrn = :national_number\n"
	"    map:\n"
	"      person: {family_name: family_name, given_name: given_name}\n"
	"  - name: second-db\n"
	"    kind: sqlite\n"
	"    owner: Local Police\n"
	"    classification: not_sensitive\n"
	"    connection: {path: @DB@}\n"
	"    queries: {plate: \"SELECT 1 AS p WHERE :plate IS NOT NULL\"}\n"
	"    map: {vehicle: {plate: p}}\n";

static void test_valid_config(void **state)
{
	struct config *c = NULL;
	struct focal_err err;
	const struct source_def *d;
	char *text = with_db(valid_text);

	(void)state;
	if (config_load_string("/etc/focal/focal.yaml", text, strlen(text), &c, &err) != 0)
		fail_msg("load: %s", err.msg);
	free(text);
	assert_non_null(c);
	assert_string_equal(c->path, "/etc/focal/focal.yaml");
	assert_string_equal(c->server.listen_host, "127.0.0.1");
	assert_int_equal(c->server.port, 9443);
	/* tls paths are relative to the configuration file's folder */
	assert_string_equal(c->server.tls_cert, "/etc/focal/certs/server.pem");
	assert_string_equal(c->server.tls_key, "/etc/focal/key.pem");
	assert_int_equal(c->server.search_deadline_ms, 5000); /* default */
	assert_int_equal(c->defaults.deadline_ms, 1500);
	assert_int_equal(c->defaults.max_bytes, 1024 * 1024);

	assert_int_equal(c->nsources, 2);
	d = config_source(c, "wanted_db");
	assert_ptr_equal(d, &c->sources[0]);
	assert_int_equal(d->index, 0);
	assert_ptr_equal(d->conn, &connector_sqlite);
	assert_string_equal(d->owner, "Federal Police");
	assert_int_equal(d->classification, CLASS_STRICTLY_CONFIDENTIAL);
	assert_string_equal(classification_name(d->classification), "strictly_confidential");
	assert_int_equal(d->deadline_ms, 1500); /* from defaults */
	assert_int_equal(d->max_rows, 7);        /* own value wins */
	assert_int_equal(d->breaker_failures, 3);
	assert_int_equal(d->breaker_cooldown_ms, 10000);
	assert_true(d->queries[QUERY_PERSON].present);
	assert_true(d->queries[QUERY_NATIONAL_NUMBER].present);
	assert_false(d->queries[QUERY_PLATE].present);
	assert_int_equal(d->queries[QUERY_PERSON].line, 15);
	assert_int_equal(d->queries[QUERY_PERSON].col, 15);
	assert_int_equal(d->queries[QUERY_PERSON].tpl.params_used, 1u << QP_FAMILY_NAME);
	assert_int_equal(d->map.nentities, 1);
	assert_int_equal(d->map.entities[0].kind, ENTITY_PERSON);
	assert_int_equal(d->map.entities[0].nfields, 2);
	assert_non_null(d->conn_cfg);
	assert_non_null(d->breaker);
	assert_non_null(d->metrics);

	d = config_source(c, "second-db");
	assert_non_null(d);
	assert_int_equal(d->index, 1);
	assert_int_equal(d->max_rows, 20);
	assert_int_equal(d->classification, CLASS_NOT_SENSITIVE);
	assert_null(config_source(c, "third"));
	/* breakers are found by name: the same one after a reload */
	assert_ptr_equal(d->breaker, breaker_get("second-db"));
	config_unref(c);
}

static void test_load_file_relative_path(void **state)
{
	static const char text[] =
		"server: {tls_cert: c.pem, tls_key: k.pem}\n"
		"sources:\n"
		"  - name: rel\n"
		"    kind: sqlite\n"
		"    owner: X\n"
		"    classification: restricted\n"
		"    connection: {path: regs.db}\n"
		"    queries: {person: \"SELECT 1 AS a WHERE :family_name\"}\n"
		"    map: {person: {family_name: a}}\n";
	char path[256], want[256];
	struct config *c = NULL;
	struct focal_err err;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/focal.yaml", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	/* regs.db exists next to focal.yaml, not in the working directory */
	if (config_load(path, &c, &err) != 0)
		fail_msg("load: %s", err.msg);
	snprintf(want, sizeof(want), "%s/c.pem", tmpdir);
	assert_string_equal(c->server.tls_cert, want);
	assert_string_equal(c->path, path);
	config_unref(c);

	snprintf(path, sizeof(path), "%s/absent.yaml", tmpdir);
	assert_int_equal(config_load(path, &c, &err), FOCAL_E_IO);
	assert_null(c);
}

/* Lines 1-9 of a valid one-source file, for the table below:
 *  1 server: {tls_cert: c.pem, tls_key: k.pem}
 *  2 sources:
 *  3   - name: s1
 *  4     kind: sqlite
 *  5     owner: X
 *  6     classification: restricted
 *  7     connection: {path: @DB@}
 *  8     queries: {person: "SELECT 1 AS a WHERE :family_name"}
 *  9     map: {person: {family_name: a}}
 */
#define L1 "server: {tls_cert: c.pem, tls_key: k.pem}\n"
#define L2 "sources:\n"
#define L3 "  - name: s1\n"
#define L4 "    kind: sqlite\n"
#define L5 "    owner: X\n"
#define L6 "    classification: restricted\n"
#define L7 "    connection: {path: @DB@}\n"
#define L8 "    queries: {person: \"SELECT 1 AS a WHERE :family_name\"}\n"
#define L9 "    map: {person: {family_name: a}}\n"

static void test_valid_base(void **state)
{
	struct config *c = NULL;
	struct focal_err err;
	char *text = with_db(L1 L2 L3 L4 L5 L6 L7 L8 L9);

	(void)state;
	/* the table below only makes sense if its base is valid */
	if (config_load_string("bad.yaml", text, strlen(text), &c, &err) != 0)
		fail_msg("base: %s", err.msg);
	free(text);
	config_unref(c);
}

static void test_invalid_configs(void **state)
{
	static const struct {
		const char *what;
		const char *text;
		const char *prefix; /* "bad.yaml:LINE:COL: " */
		const char *phrase;
	} table[] = {
		{ "unknown top-level key", "extra: 1\n" L1 L2 L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:1:1: ", "unknown key 'extra'; expected one of: server, defaults, sources" },
		{ "missing server", L2 L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:1:1: ", "missing required section 'server'" },
		{ "missing sources", L1, "bad.yaml:1:1: ", "missing required section 'sources'" },
		{ "bad port", "server: {port: 70000, tls_cert: c, tls_key: k}\n" L2 L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:1:16: ", "port: expected an integer from 1 to 65535, got \"70000\"" },
		{ "missing tls_key", "server: {tls_cert: c}\n" L2 L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:1:9: ", "missing required key 'tls_key'" },
		{ "unknown server key", "server: {tls_cert: c, tls_key: k, treads: 2}\n" L2 L3,
		  "bad.yaml:1:35: ", "unknown key 'treads'" },
		{ "bad metrics_allow network",
		  "server: {tls_cert: c, tls_key: k, metrics_allow: [127.0.0.1, 10.0.0.0/33]}\n"
		  L2 L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:1:62: ", "'10.0.0.0/33' is not an IPv4 address or network" },
		{ "metrics_allow not a list",
		  "server: {tls_cert: c, tls_key: k, metrics_allow: localhost}\n" L2 L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:1:50: ", "metrics_allow: expected a list" },
		{ "bad defaults", L1 "defaults: {deadline_ms: 0}\n" L2 L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:2:25: ", "deadline_ms: expected an integer from 1 to 60000" },
		{ "sources not a list", L1 "sources: {a: 1}\n",
		  "bad.yaml:2:10: ", "sources: expected a list" },
		{ "unknown source kind", L1 L2 L3 "    kind: mysql\n" L5 L6 L7 L8 L9,
		  "bad.yaml:4:11: ",
		  "unknown source kind \"mysql\"; expected one of: sqlite, postgres, http, ldap" },
		{ "unknown source key", L1 L2 L3 L4 L5 L6 "    deadlin_ms: 5\n" L7 L8 L9,
		  "bad.yaml:7:5: ", "unknown key 'deadlin_ms'" },
		{ "unknown query kind", L1 L2 L3 L4 L5 L6 L7
		  "    queries: {car: \"SELECT 1 AS a WHERE :plate\"}\n" L9,
		  "bad.yaml:8:15: ", "unknown query kind 'car'" },
		{ "unknown template parameter", L1 L2 L3 L4 L5 L6 L7
		  "    queries: {person: \"SELECT 1 AS a WHERE :nam\"}\n" L9,
		  "bad.yaml:8:23: ", "person: unknown parameter 'nam' at column 21; known: family_name" },
		{ "positional placeholder", L1 L2 L3 L4 L5 L6 L7
		  "    queries: {person: \"SELECT 1 AS a WHERE ?\"}\n" L9,
		  "bad.yaml:8:23: ", "positional placeholder '?' at column 21" },
		{ "no query", L1 L2 L3 L4 L5 L6 L7 "    queries: {}\n" L9,
		  "bad.yaml:8:14: ", "at least one query kind" },
		{ "map with unknown entity", L1 L2 L3 L4 L5 L6 L7 L8
		  "    map: {suspect: {family_name: a}}\n",
		  "bad.yaml:9:11: ", "unknown key 'suspect' in map" },
		{ "unknown canonical field", L1 L2 L3 L4 L5 L6 L7 L8
		  "    map: {person: {surname: a}}\n",
		  "bad.yaml:9:20: ", "person has no field 'surname'; canonical fields: national_number" },
		{ "bad JSON pointer (http)", L1 L2 L3 "    kind: http\n" L5 L6
		  "    connection: {base_url: \"http://127.0.0.1:9\"}\n"
		  "    queries: {plate: \"http://127.0.0.1:9/v?p={plate}\"}\n"
		  "    map: {vehicle: {plate: kenteken}}\n",
		  "bad.yaml:9:28: ", "\"kenteken\" is not a JSON pointer (RFC 6901)" },
		{ "rows in a sqlite map", L1 L2 L3 L4 L5 L6 L7 L8
		  "    map: {rows: /x, person: {family_name: a}}\n",
		  "bad.yaml:9:11: ", "rows applies to http sources only" },
		{ "duplicate source names", L1 L2 L3 L4 L5 L6 L7 L8 L9
		  L3 L4 L5 L6 L7 L8 L9,
		  "bad.yaml:10:5: ", "a source named \"s1\" already exists" },
		{ "invalid source name", L1 L2 "  - name: Wanted DB\n" L4 L5 L6 L7 L8 L9,
		  "bad.yaml:3:5: ", "source name \"Wanted DB\": use lower-case letters" },
		{ "missing owner", L1 L2 L3 L4 L6 L7 L8 L9,
		  "bad.yaml:3:5: ", "missing required key 'owner'" },
		{ "bad classification", L1 L2 L3 L4 L5 "    classification: secret\n" L7 L8 L9,
		  "bad.yaml:6:21: ",
		  "classification: expected one of not_sensitive, restricted, "
		  "strictly_confidential, got \"secret\"" },
		{ "missing queries", L1 L2 L3 L4 L5 L6 L7 L9,
		  "bad.yaml:3:5: ", "missing required key 'queries'" },
		{ "sqlite path missing file", L1 L2 L3 L4 L5 L6
		  "    connection: {path: /nonexistent/focal/x.db}\n" L8 L9,
		  "bad.yaml:7:24: ", "path: cannot read database file /nonexistent/focal/x.db" },
		{ "sqlite unknown connection key", L1 L2 L3 L4 L5 L6
		  "    connection: {path: @DB@, user: x}\n" L8 L9,
		  "bad.yaml:7:", "unknown key 'user'; expected one of: path" },
		{ "yaml syntax", L1 L2 "  - name: [s1\n", "bad.yaml:4:1: ", "" },
	};
	struct config *c;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *text = with_db(table[i].text);
		int rc;

		c = (struct config *)(uintptr_t)1; /* must be reset to NULL */
		memset(&err, 0, sizeof(err));
		rc = config_load_string("bad.yaml", text, strlen(text), &c, &err);
		free(text);
		if (rc != FOCAL_E_CONFIG)
			fail_msg("%s: rc %d (%s), want config error", table[i].what, rc, err.msg);
		assert_null(c);
		if (strncmp(err.msg, table[i].prefix, strlen(table[i].prefix)) != 0)
			fail_msg("%s: \"%s\" does not start with \"%s\"", table[i].what, err.msg,
				 table[i].prefix);
		if (strstr(err.msg, table[i].phrase) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", table[i].what, err.msg,
				 table[i].phrase);
	}
}

static void test_refcount(void **state)
{
	struct config *c = NULL;
	struct focal_err err;
	char *text = with_db(L1 L2 L3 L4 L5 L6 L7 L8 L9);

	(void)state;
	assert_int_equal(config_load_string("rc.yaml", text, strlen(text), &c, &err), 0);
	free(text);
	assert_int_equal(atomic_load(&c->refs), 1);
	assert_ptr_equal(config_ref(c), c);
	assert_int_equal(atomic_load(&c->refs), 2);
	config_unref(c);
	assert_int_equal(atomic_load(&c->refs), 1);
	/* still usable with one reference left */
	assert_non_null(config_source(c, "s1"));
	config_unref(c); /* frees; ASan reports a use after free or a leak otherwise */
	config_unref(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_config),
		cmocka_unit_test(test_load_file_relative_path),
		cmocka_unit_test(test_valid_base),
		cmocka_unit_test(test_invalid_configs),
		cmocka_unit_test(test_refcount),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
