/*
 * Integration test of the PostgreSQL connector (src/sources/source_pg.c)
 * against a real server on 127.0.0.1.
 *
 * FOCAL_TEST_PG names the server as a libpq conninfo, e.g. as printed by
 *   tests/integration/pg_server.sh start /tmp/pg 55432
 * Without it every test that needs a server is skipped.  The test creates its
 * own tables (Dutch column names, as a Belgian agency would have them), loads
 * a one-source configuration with config_load_string and runs real calls on a
 * real loop: source_call_start, then event_base_dispatch until every call has
 * reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/loop.h"
#include "sources/record.h"
#include "sources/source.h"
#include "sources/source_pg.h"

#define MAX_CALLS 8

/* Enough rows in Brugge to overflow a max_rows of 3. */
static const char schema_sql[] =
	"SET client_min_messages = warning;"
	"DROP TABLE IF EXISTS personen;"
	"DROP SEQUENCE IF EXISTS volgnummer;"
	"CREATE SEQUENCE volgnummer;"
	"CREATE TABLE personen ("
	"  rijksregisternummer text PRIMARY KEY,"
	"  achternaam text NOT NULL,"
	"  voornaam text,"
	"  geboortedatum date,"
	"  woonplaats text,"
	"  signalering text,"
	"  instructie text);"
	"INSERT INTO personen VALUES"
	" ('81031212345', 'Peeters', 'Jan', '1981-03-12', 'Gent', 'gezocht',"
	"  'Voorzichtig benaderen'),"
	" ('90010154321', 'Janssens', 'Marie', '1990-01-01', 'Antwerpen', NULL, NULL),"
	" ('70020200101', 'De Smet', 'An', '1970-02-02', 'Brugge', NULL, NULL),"
	" ('70020200202', 'Claes', 'Luc', '1970-02-02', 'Brugge', NULL, NULL),"
	" ('70020200303', 'Wouters', 'Els', '1970-02-02', 'Brugge', NULL, NULL),"
	" ('70020200404', 'Mertens', 'Tom', '1970-02-02', 'Brugge', NULL, NULL),"
	" ('70020200505', 'Willems', 'Sara', '1970-02-02', 'Brugge', '', NULL);";

static const char *person_sql =
	"SELECT rijksregisternummer, achternaam, voornaam, geboortedatum, signalering, "
	"instructie FROM personen WHERE achternaam = :family_name ORDER BY rijksregisternummer";

struct fixture {
	struct loop loop;
	struct config *cfg;
	struct source_set *set;
	struct source_call calls[MAX_CALLS];
	struct query queries[MAX_CALLS];
	size_t ncalls;
	int pending;
	bool timed_out;
};

static const char *test_pg(void)
{
	const char *s = getenv("FOCAL_TEST_PG");

	return s != NULL && *s != '\0' ? s : NULL;
}

/* The test's own connection for setup and checks (blocking is fine here). */
static PGconn *admin_connect(void)
{
	PGconn *c = PQconnectdb(test_pg());

	assert_non_null(c);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to FOCAL_TEST_PG: %s", PQerrorMessage(c));
	return c;
}

static void admin_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

static long admin_count(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

/* Ends the one session named appname on the server (as a restart or an idle
 * timeout would) and waits until it is gone, without running any loop: a
 * pool still believes its connection idle. */
static void terminate_session(PGconn *adm, const char *appname)
{
	char sql[256];
	int tries = 0;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
		 "pg_stat_activity WHERE application_name = '%s') t", appname);
	assert_int_equal(admin_count(adm, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE "
		 "application_name = '%s'", appname);
	while (admin_count(adm, sql) > 0 && tries++ < 200)
		usleep(10000);
}

/* Copies s into a YAML double-quoted scalar body. */
static void yaml_dq(char *out, size_t len, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
}

struct src_opts {
	const char *name;      /* source name: distinct per test (breakers are by name) */
	const char *conninfo;
	long deadline_ms, max_rows, pool_size;
	const char *person;    /* person query; default person_sql */
};

static void fixture_open(struct fixture *f, const struct src_opts *o)
{
	static char yaml[8192];
	char ci[1024], person[1024];
	struct focal_err err = { 0 };
	int n;

	memset(f, 0, sizeof(*f));
	yaml_dq(ci, sizeof(ci), o->conninfo);
	yaml_dq(person, sizeof(person), o->person != NULL ? o->person : person_sql);
	n = snprintf(yaml, sizeof(yaml),
		     "server: {tls_cert: cert.pem, tls_key: key.pem}\n"
		     "defaults: {breaker_failures: 1000}\n"
		     "sources:\n"
		     "  - name: %s\n"
		     "    kind: postgres\n"
		     "    owner: Federale Politie\n"
		     "    classification: restricted\n"
		     "    deadline_ms: %ld\n"
		     "    max_rows: %ld\n"
		     "    connection: {conninfo: \"%s\", pool_size: %ld}\n"
		     "    queries:\n"
		     "      person: \"%s\"\n"
		     "      address: \"SELECT * FROM personen WHERE woonplaats = :city "
		     "ORDER BY rijksregisternummer;\"\n"
		     "      national_number: \"SELECT p.* FROM personen p, pg_sleep(5) "
		     "WHERE rijksregisternummer = :national_number\"\n"
		     "    map:\n"
		     "      person: {national_number: rijksregisternummer, family_name: achternaam,\n"
		     "               given_name: voornaam, birth_date: geboortedatum}\n"
		     "      alert: {when: signalering, category: signalering,\n"
		     "              instruction: instructie}\n",
		     o->name, o->deadline_ms, o->max_rows, ci, o->pool_size, person);
	assert_true(n > 0 && (size_t)n < sizeof(yaml));
	if (config_load_string("pg-test.yaml", yaml, (size_t)n, &f->cfg, &err) != 0)
		fail_msg("config: %s", err.msg);
	if (loop_init(&f->loop, 0, &err) != 0)
		fail_msg("loop: %s", err.msg);
	if (source_set_new(&f->loop, f->cfg, &f->set, &err) != 0)
		fail_msg("source set: %s", err.msg);
}

static void fixture_close(struct fixture *f)
{
	for (size_t i = 0; i < f->ncalls; i++)
		source_call_clear(&f->calls[i]);
	source_set_unref(f->set); /* closes the pool's connections */
	loop_fini(&f->loop);
	config_unref(f->cfg);
}

static void on_done(struct source_call *call, void *arg)
{
	struct fixture *f = arg;

	(void)call;
	if (--f->pending == 0)
		event_base_loopbreak(f->loop.base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *f = arg;

	(void)fd;
	(void)what;
	f->timed_out = true;
	event_base_loopbreak(f->loop.base);
}

/* Starts n calls of kind k with parameter p = value, runs the loop until all
 * have reported (or a 10 s guard fires) and returns the elapsed ms. */
static double run_calls(struct fixture *f, size_t n, enum query_kind k, enum query_param p,
			const char *value)
{
	struct timeval guard = { 10, 0 };
	struct event *gev;
	uint64_t t0 = loop_now_ns();
	size_t first = f->ncalls;

	assert_true(first + n <= MAX_CALLS);
	f->pending = (int)n;
	for (size_t i = first; i < first + n; i++) {
		memset(&f->queries[i], 0, sizeof(f->queries[i]));
		f->queries[i].kind = k;
		f->queries[i].param[p] = (char *)value;
		source_call_init(&f->calls[i], &f->set->rt[0], &f->queries[i], on_done, f);
	}
	f->ncalls += n;
	for (size_t i = first; i < first + n; i++)
		source_call_start(&f->calls[i], 0);
	gev = evtimer_new(f->loop.base, on_guard, f);
	assert_non_null(gev);
	evtimer_add(gev, &guard);
	if (f->pending > 0)
		event_base_dispatch(f->loop.base);
	event_free(gev);
	assert_false(f->timed_out);
	assert_int_equal(f->pending, 0);
	return loop_ms_since(t0);
}

static const struct record *find_record(const struct source_call *c, enum entity_kind k,
					const char *field, const char *value)
{
	for (size_t i = 0; i < c->records.n; i++) {
		const struct record *r = &c->records.items[i];
		const char *v = record_get(r, field);

		if (r->kind == k && v != NULL && strcmp(v, value) == 0)
			return r;
	}
	return NULL;
}

static int group_setup(void **state)
{
	PGconn *c;

	(void)state;
	if (test_pg() == NULL)
		return 0;
	c = admin_connect();
	admin_exec(c, schema_sql);
	PQfinish(c);
	return 0;
}

#define NEED_SERVER()                                                             \
	do {                                                                      \
		if (test_pg() == NULL) {                                          \
			print_message("FOCAL_TEST_PG not set: skipped\n");        \
			skip();                                                   \
		}                                                                 \
	} while (0)

/* One matching person with an alert: both records, every mapped field; the
 * session is focald's (application_name) and read-only. */
static void test_hit(void **state)
{
	struct fixture f;
	const struct record *p, *a;
	struct src_opts o = { "pg_hit", test_pg(), 2000, 10, 2, NULL };
	PGconn *adm;

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 1);
	assert_int_equal(f.calls[0].records.n, 2);
	p = find_record(&f.calls[0], ENTITY_PERSON, "family_name", "Peeters");
	assert_non_null(p);
	assert_string_equal(record_get(p, "given_name"), "Jan");
	assert_string_equal(record_get(p, "birth_date"), "1981-03-12");
	assert_string_equal(record_get(p, "national_number"), "81031212345");
	a = find_record(&f.calls[0], ENTITY_ALERT, "category", "gezocht");
	assert_non_null(a);
	assert_string_equal(record_get(a, "instruction"), "Voorzichtig benaderen");
	assert_string_equal(a->source, "pg_hit");

	/* the pooled connection is still open, named and read-only */
	adm = admin_connect();
	assert_true(admin_count(adm, "SELECT count(*) FROM pg_stat_activity WHERE "
				     "application_name = 'focald' AND datname = current_database()") >= 1);
	PQfinish(adm);
	fixture_close(&f);
}

/* Writing through the source is refused by the server: the session is read-only
 * (nextval() writes). */
static void test_read_only(void **state)
{
	struct fixture f;
	struct src_opts o = { "pg_ro", test_pg(), 2000, 10, 1,
			      "SELECT nextval('volgnummer') AS n, * FROM personen "
			      "WHERE achternaam = :family_name" };
	PGconn *adm;

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_ERROR);
	assert_non_null(strstr(f.calls[0].reason, "25006")); /* read_only_sql_transaction */
	fixture_close(&f);
	adm = admin_connect();
	assert_int_equal(admin_count(adm, "SELECT count(*) FROM volgnummer WHERE is_called"), 0);
	PQfinish(adm);
}

static void test_no_hit(void **state)
{
	struct fixture f;
	struct src_opts o = { "pg_nohit", test_pg(), 2000, 10, 2, NULL };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Vermeulen");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 0);
	assert_int_equal(f.calls[0].records.n, 0);
	fixture_close(&f);
}

/* Five rows in Brugge, max_rows 3: truncated with exactly 3 persons; the
 * connection drains the rest and serves the next call. */
static void test_row_limit(void **state)
{
	struct fixture f;
	struct src_opts o = { "pg_limit", test_pg(), 2000, 3, 1, NULL };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_ADDRESS, QP_CITY, "Brugge");
	assert_int_equal(f.calls[0].status, SOURCE_TRUNCATED);
	assert_int_equal(f.calls[0].rows, 3);
	assert_int_equal(f.calls[0].records.n, 3); /* '' signalering: no alert */
	assert_non_null(find_record(&f.calls[0], ENTITY_PERSON, "family_name", "De Smet"));
	assert_non_null(find_record(&f.calls[0], ENTITY_PERSON, "family_name", "Claes"));
	assert_non_null(find_record(&f.calls[0], ENTITY_PERSON, "family_name", "Wouters"));
	/* pool of one: the same connection answers again */
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Janssens");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(f.calls[1].rows, 1);
	fixture_close(&f);
}

/* A value is only ever data: the classic injection finds nothing and
 * changes nothing. */
static void test_injection(void **state)
{
	struct fixture f;
	struct src_opts o = { "pg_inject", test_pg(), 2000, 10, 2, NULL };
	PGconn *adm;

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "' OR 1=1 --");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].records.n, 0);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "x'; DROP TABLE personen; --");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(f.calls[1].records.n, 0);
	fixture_close(&f);
	adm = admin_connect();
	assert_int_equal(admin_count(adm, "SELECT count(*) FROM personen"), 7);
	PQfinish(adm);
}

/* pg_sleep(5) under a 300 ms deadline: TIMEOUT soon after 300 ms, the
 * half-used connection is closed (not pooled), and the pool answers again. */
static void test_timeout(void **state)
{
	struct fixture f;
	struct src_opts o = { "pg_slow", test_pg(), 300, 10, 1, NULL };
	double ms;

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	/* warm the pool so the slow call reuses a connection */
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	ms = run_calls(&f, 1, QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "81031212345");
	assert_int_equal(f.calls[1].status, SOURCE_TIMEOUT);
	assert_int_equal(f.calls[1].records.n, 0);
	assert_true(ms >= 250 && ms < 1000);
	ms = run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[2].status, SOURCE_OK);
	assert_int_equal(f.calls[2].rows, 1);
	assert_true(ms < 300);
	fixture_close(&f);
}

/* A port where nothing listens. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(s); /* bound but never listened: connections are refused */
	return port;
}

static void test_refused(void **state)
{
	struct fixture f;
	char ci[256];
	struct src_opts o = { "pg_refused", ci, 2000, 10, 2, NULL };
	double ms;

	(void)state;
	snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d dbname=focal_test user=focal "
		 "password=geheim123", closed_port());
	fixture_open(&f, &o);
	ms = run_calls(&f, 3, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f.calls[i].status, SOURCE_ERROR);
		assert_non_null(strstr(f.calls[i].reason, "refused"));
		assert_null(strstr(f.calls[i].reason, "geheim123"));
	}
	assert_true(ms < 1000);
	fixture_close(&f);
}

/* focal_pw needs a password (pg_server.sh): a wrong one is a clear error that
 * does not contain it. */
static void test_auth_failure(void **state)
{
	struct fixture f;
	char ci[1024];
	struct src_opts o = { "pg_auth", ci, 2000, 10, 2, NULL };

	(void)state;
	NEED_SERVER();
	snprintf(ci, sizeof(ci), "%s user=focal_pw password=verkeerd_wachtwoord", test_pg());
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_ERROR);
	print_message("auth failure reason: %s\n", f.calls[0].reason);
	assert_non_null(strstr(f.calls[0].reason, "authentication failed"));
	assert_null(strstr(f.calls[0].reason, "verkeerd_wachtwoord"));
	fixture_close(&f);
}

/* Six calls at once, pool_size 2: all answer, over exactly two connections. */
static void test_pool_shared(void **state)
{
	struct fixture f;
	char ci[1024];
	struct src_opts o = { "pg_pool", ci, 3000, 10, 2,
			      "SELECT p.* FROM personen p, pg_sleep(0.1) "
			      "WHERE achternaam = :family_name" };
	PGconn *adm;
	double ms;

	(void)state;
	NEED_SERVER();
	snprintf(ci, sizeof(ci), "%s application_name=focal_pool_test", test_pg());
	fixture_open(&f, &o);
	ms = run_calls(&f, 6, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	for (int i = 0; i < 6; i++) {
		assert_int_equal(f.calls[i].status, SOURCE_OK);
		assert_int_equal(f.calls[i].rows, 1);
		assert_non_null(find_record(&f.calls[i], ENTITY_PERSON, "given_name", "Jan"));
	}
	/* 6 x 100 ms over 2 connections: about 300 ms, well under 6 x 100 */
	assert_true(ms < 550);
	adm = admin_connect();
	assert_int_equal(admin_count(adm, "SELECT count(*) FROM pg_stat_activity WHERE "
					  "application_name = 'focal_pool_test'"), 2);
	PQfinish(adm);
	fixture_close(&f);
}

/* The server ends a pooled connection while it idles (restart, idle
 * timeout, pg_terminate_backend): the next call still answers, on a new
 * connection. */
static void test_stale_connection(void **state)
{
	struct fixture f;
	char ci[1024];
	struct src_opts o = { "pg_stale", ci, 2000, 10, 1, NULL };
	PGconn *adm;

	(void)state;
	NEED_SERVER();
	snprintf(ci, sizeof(ci), "%s application_name=focal_stale_test", test_pg());
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	adm = admin_connect();
	/* the pool still believes its connection idle and sends on it */
	terminate_session(adm, "focal_stale_test");
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(f.calls[1].rows, 1);
	assert_int_equal(admin_count(adm, "SELECT count(*) FROM pg_stat_activity WHERE "
					  "application_name = 'focal_stale_test'"), 1);
	PQfinish(adm);
	fixture_close(&f);
}

/* What the pooled session reports about its prepared statements, read
 * through the source itself (prep_sql): "<statements> <executions> <pid>". */
static const char *prep_sql =
	"SELECT s.name AS achternaam, (SELECT count(*) FROM pg_prepared_statements) || ' ' || "
	"(s.generic_plans + s.custom_plans) || ' ' || pg_backend_pid() AS voornaam "
	"FROM pg_prepared_statements s WHERE s.name LIKE 'focal%' AND s.name <> :family_name";

static void prep_state(const struct source_call *c, char *name, size_t namesz, long *nstmts,
		       long *runs, long *pid)
{
	const struct record *r;

	assert_int_equal(c->status, SOURCE_OK);
	assert_int_equal(c->rows, 1);
	r = find_record(c, ENTITY_PERSON, "family_name", record_get(&c->records.items[0],
								      "family_name"));
	assert_non_null(r);
	snprintf(name, namesz, "%s", record_get(r, "family_name"));
	assert_int_equal(sscanf(record_get(r, "given_name"), "%ld %ld %ld", nstmts, runs, pid), 3);
}

/* Each pooled connection prepares the query once and then reuses it: the
 * session holds one statement, named focal_person_..., whose execution count
 * grows by one per call; after the server ends the session, the new
 * connection prepares it again; a changed template (a reload) gets a
 * statement of its own name. */
static void test_prepared_once(void **state)
{
	struct fixture f;
	char ci[1024], name[128], first[128];
	struct src_opts o = { "pg_prep", ci, 2000, 10, 1, prep_sql };
	long n, runs, pid, pid0 = 0;
	PGconn *adm;

	(void)state;
	NEED_SERVER();
	snprintf(ci, sizeof(ci), "%s application_name=focal_prep_test", test_pg());
	fixture_open(&f, &o);
	for (int i = 0; i < 3; i++) {
		run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
		prep_state(&f.calls[i], name, sizeof(name), &n, &runs, &pid);
		assert_int_equal(n, 1);        /* prepared once, not once per call */
		assert_int_equal(runs, i + 1); /* and executed by name each time */
		if (i == 0)
			pid0 = pid;
		assert_int_equal(pid, pid0);   /* on the same pooled session */
	}
	assert_int_equal(strncmp(name, "focal_person_", 13), 0);
	snprintf(first, sizeof(first), "%s", name);

	/* reconnect: the new session prepares the statement afresh */
	adm = admin_connect();
	terminate_session(adm, "focal_prep_test");
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	prep_state(&f.calls[3], name, sizeof(name), &n, &runs, &pid);
	assert_int_equal(n, 1);
	assert_int_equal(runs, 1);
	assert_true(pid != pid0);
	assert_string_equal(name, first);
	fixture_close(&f);

	/* a reload with a changed template: another name, never the old text */
	o.person = "SELECT s.name AS achternaam, (SELECT count(*) FROM pg_prepared_statements) "
		   "|| ' ' || (s.generic_plans + s.custom_plans) || ' ' || pg_backend_pid() AS "
		   "voornaam FROM pg_prepared_statements s WHERE s.name LIKE 'focal%' AND "
		   "s.name <> :family_name AND s.statement LIKE '%reloaded%'";
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	prep_state(&f.calls[0], name, sizeof(name), &n, &runs, &pid);
	assert_int_equal(strncmp(name, "focal_person_", 13), 0);
	assert_string_not_equal(name, first);
	assert_int_equal(runs, 1);
	fixture_close(&f);
	PQfinish(adm);
}

/* Regression (fuzz_pg_answer): a value that is not UTF-8 text (a SQL_ASCII
 * database's Latin-1, a NUL from a broken server) used to reach the records
 * as it was; it is repaired with U+FFFD, and a NUL no longer cuts the value
 * short of what the byte limit counted.  No server needed: the result is
 * built with libpq's own constructors. */
static void test_answer_not_utf8(void **state)
{
	struct fixture f;
	struct src_opts o = { "pg_utf8", "host=127.0.0.1 dbname=x", 2000, 10, 1, NULL };
	PGresAttDesc attrs[3] = {
		{ .name = (char *)"achternaam", .typid = 25, .typlen = -1, .atttypmod = -1 },
		{ .name = (char *)"voornaam", .typid = 25, .typlen = -1, .atttypmod = -1 },
		{ .name = (char *)"signalering", .typid = 25, .typlen = -1, .atttypmod = -1 },
	};
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	const struct record *p, *a;
	enum source_status st;
	char reason[256];
	struct query q = { .kind = QUERY_PERSON };
	struct source_call call;
	int *colidx;

	(void)state;
	fixture_open(&f, &o);
	assert_non_null(res);
	assert_true(PQsetResultAttrs(res, 3, attrs));
	assert_true(PQsetvalue(res, 0, 0, (char *)"Ren\xe9", 4));
	assert_true(PQsetvalue(res, 0, 1, (char *)"a\0b", 3));
	assert_true(PQsetvalue(res, 0, 2, (char *)"\xed\xa0\x80", 3)); /* a surrogate */
	source_call_init(&call, &f.set->rt[0], &q, NULL, NULL);
	colidx = source_pg_colidx_new(call.def);
	assert_non_null(colidx);
	assert_int_equal(source_pg_result(&call, res, colidx, &st, reason, sizeof(reason)),
			 SOURCE_PG_FINISH);
	assert_int_equal(st, SOURCE_OK);
	assert_int_equal(call.rows, 1);
	p = find_record(&call, ENTITY_PERSON, "family_name", "Ren\xef\xbf\xbd");
	assert_non_null(p);
	assert_string_equal(record_get(p, "given_name"), "a\xef\xbf\xbd" "b");
	a = find_record(&call, ENTITY_ALERT, "category", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_non_null(a); /* the alert is kept, not dropped */
	/* family_name 6 + given_name 5 + the alert's category 9 */
	assert_int_equal(call.records.bytes, 6 + 5 + 9);
	free(colidx);
	source_call_clear(&call);
	PQclear(res);
	fixture_close(&f);
}

static void on_done_free_set(struct source_call *call, void *arg)
{
	struct fixture *f = arg;

	(void)call;
	source_set_unref(f->set); /* frees the pool from inside its own callback */
	f->set = NULL;
	if (--f->pending == 0)
		event_base_loopbreak(f->loop.base);
}

/* A search may drop the last reference to its source set from on_done
 * (after a reload): the pool must outlive the callback that is running. */
static void test_free_in_callback(void **state)
{
	struct fixture f;
	struct src_opts o = { "pg_free", test_pg(), 2000, 3, 1, NULL };
	struct timeval guard = { 10, 0 };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	/* truncated: the call finishes while its connection still has rows */
	memset(&f.queries[0], 0, sizeof(f.queries[0]));
	f.queries[0].kind = QUERY_ADDRESS;
	f.queries[0].param[QP_CITY] = (char *)"Brugge";
	source_call_init(&f.calls[0], &f.set->rt[0], &f.queries[0], on_done_free_set, &f);
	f.ncalls = 1;
	f.pending = 1;
	source_call_start(&f.calls[0], 0);
	event_base_loopexit(f.loop.base, &guard);
	event_base_dispatch(f.loop.base);
	assert_int_equal(f.pending, 0);
	assert_null(f.set);
	assert_int_equal(f.calls[0].status, SOURCE_TRUNCATED);
	assert_int_equal(f.calls[0].records.n, 3);
	fixture_close(&f);
}

/* conninfo is checked at load, with the position of the bad value. */
static void test_bad_conninfo(void **state)
{
	static const char yaml[] =
		"server: {tls_cert: cert.pem, tls_key: key.pem}\n"
		"sources:\n"
		"  - name: pg_bad\n"
		"    kind: postgres\n"
		"    owner: Federale Politie\n"
		"    classification: restricted\n"
		"    connection: {conninfo: \"host=127.0.0.1 hots=x password=geheim\"}\n"
		"    queries: {person: \"SELECT * FROM personen WHERE achternaam = :family_name\"}\n"
		"    map: {person: {family_name: achternaam}}\n";
	static const char yaml2[] =
		"server: {tls_cert: cert.pem, tls_key: key.pem}\n"
		"sources:\n"
		"  - name: pg_bad\n"
		"    kind: postgres\n"
		"    owner: Federale Politie\n"
		"    classification: restricted\n"
		"    connection: {conninfo: \"host=127.0.0.1 password geheim\", pool_sise: 2}\n"
		"    queries: {person: \"SELECT * FROM personen WHERE achternaam = :family_name\"}\n"
		"    map: {person: {family_name: achternaam}}\n";
	static const char yaml3[] =
		"server: {tls_cert: cert.pem, tls_key: key.pem}\n"
		"sources:\n"
		"  - name: pg_bad\n"
		"    kind: postgres\n"
		"    owner: Federale Politie\n"
		"    classification: restricted\n"
		"    connection: {conninfo: \"host=127.0.0.1 password geheim\"}\n"
		"    queries: {person: \"SELECT * FROM personen WHERE achternaam = :family_name\"}\n"
		"    map: {person: {family_name: achternaam}}\n";
	struct config *cfg = NULL;
	struct focal_err err = { 0 };

	(void)state;
	assert_int_equal(config_load_string("bad.yaml", yaml, sizeof(yaml) - 1, &cfg, &err),
			 FOCAL_E_CONFIG);
	assert_null(cfg);
	print_message("%s\n", err.msg);
	assert_non_null(strstr(err.msg, "bad.yaml:7:"));
	assert_non_null(strstr(err.msg, "hots"));
	assert_null(strstr(err.msg, "geheim"));

	assert_int_equal(config_load_string("bad.yaml", yaml2, sizeof(yaml2) - 1, &cfg, &err),
			 FOCAL_E_CONFIG);
	assert_non_null(strstr(err.msg, "pool_sise"));

	assert_int_equal(config_load_string("bad.yaml", yaml3, sizeof(yaml3) - 1, &cfg, &err),
			 FOCAL_E_CONFIG);
	print_message("%s\n", err.msg);
	assert_non_null(strstr(err.msg, "bad.yaml:7:"));
	assert_non_null(strstr(err.msg, "conninfo"));
	assert_null(strstr(err.msg, "geheim"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_conninfo),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_answer_not_utf8),
		cmocka_unit_test(test_hit),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_no_hit),
		cmocka_unit_test(test_row_limit),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_auth_failure),
		cmocka_unit_test(test_pool_shared),
		cmocka_unit_test(test_stale_connection),
		cmocka_unit_test(test_free_in_callback),
		cmocka_unit_test(test_prepared_once),
	};
	struct focal_err err;

	if (loop_global_init(&err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
