/*
 * test_briefing: the officer's briefing (search/briefing.h).  Alerts are
 * ranked from their category in Dutch, French or English and read first,
 * armed before wanted before missing, whichever source said them.  The whole
 * briefing is checked through a real search (fanout) over two SQLite sources.
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

#include "core/config.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/workpool.h"
#include "search/briefing.h"
#include "search/fanout.h"
#include "sources/breaker.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* An alert record with category and severity (either may be NULL). */
static struct record *alert(struct record_set *s, const char *source, const char *category,
			    const char *severity)
{
	struct record *r;

	assert_int_equal(record_set_add(s, ENTITY_ALERT, source, &r), 0);
	if (category != NULL)
		assert_int_equal(record_add_field(s, r, entity_field_lookup(ENTITY_ALERT, "category"),
						  category, strlen(category)), 0);
	if (severity != NULL)
		assert_int_equal(record_add_field(s, r, entity_field_lookup(ENTITY_ALERT, "severity"),
						  severity, strlen(severity)), 0);
	return r;
}

static void test_alert_rank(void **state)
{
	static const struct {
		const char *category, *severity;
		enum alert_rank rank;
	} table[] = {
		{ "Gewapend", NULL, ALERT_ARMED },
		{ "GEWAPEND EN GEVAARLIJK", NULL, ALERT_ARMED },
		{ "zwaargewapend", NULL, ALERT_ARMED },
		{ "armé", NULL, ALERT_ARMED },
		{ "ARMÉ", NULL, ALERT_ARMED },
		{ "individu armé", NULL, ALERT_ARMED },
		{ "porteur d'une arme", NULL, ALERT_ARMED },
		{ "Armed", NULL, ALERT_ARMED },
		{ "dangereux", NULL, ALERT_ARMED },
		{ "firearm holder", NULL, ALERT_ARMED },
		{ "wanted and armed", NULL, ALERT_ARMED }, /* armed wins over wanted */
		{ "notice", "Dangerous", ALERT_ARMED },    /* from the severity */
		{ "wanted", NULL, ALERT_WANTED },
		{ "Gezocht", NULL, ALERT_WANTED },
		{ "signalering", NULL, ALERT_WANTED },
		{ "Recherché", NULL, ALERT_WANTED },
		{ "Aanhouding", NULL, ALERT_WANTED },
		{ "arrest warrant", NULL, ALERT_WANTED },
		{ "Geweld tegen politie", NULL, ALERT_VIOLENCE_POLICE },
		{ "violence", NULL, ALERT_VIOLENCE_POLICE },
		{ "rebellie", NULL, ALERT_VIOLENCE_POLICE },
		{ "disparu", NULL, ALERT_VULNERABLE },
		{ "Personne DISPARUE", NULL, ALERT_VULNERABLE },
		{ "Vermist", NULL, ALERT_VULNERABLE },
		{ "missing person", NULL, ALERT_VULNERABLE },
		{ "vulnérable", NULL, ALERT_VULNERABLE },
		{ "VULNÉRABLE", NULL, ALERT_VULNERABLE },
		{ "kwetsbaar", NULL, ALERT_VULNERABLE },
		{ "risque suicidaire", NULL, ALERT_VULNERABLE },
		{ "verkeersboete", NULL, ALERT_OTHER },
		{ "information", "low", ALERT_OTHER },
		{ NULL, NULL, ALERT_OTHER },
	};
	struct record_set s;

	(void)state;
	record_set_init(&s);
	for (size_t i = 0; i < N(table); i++) {
		struct record *r = alert(&s, "src", table[i].category, table[i].severity);
		enum alert_rank got = briefing_alert_rank(r);

		if (got != table[i].rank)
			fail_msg("\"%s\"/\"%s\": rank %s, want %s",
				 table[i].category ? table[i].category : "-",
				 table[i].severity ? table[i].severity : "-",
				 briefing_alert_rank_name(got), briefing_alert_rank_name(table[i].rank));
	}
	record_set_clear(&s);
	assert_string_equal(briefing_alert_rank_name(ALERT_ARMED), "armed_dangerous");
	assert_string_equal(briefing_alert_rank_name(ALERT_WANTED), "wanted");
	assert_string_equal(briefing_alert_rank_name(ALERT_VIOLENCE_POLICE),
			    "violence_against_police");
	assert_string_equal(briefing_alert_rank_name(ALERT_VULNERABLE), "vulnerable_missing");
	assert_string_equal(briefing_alert_rank_name(ALERT_OTHER), "other");
	assert_string_equal(briefing_alert_rank_name((enum alert_rank)0), "other");
}

static void test_record_json(void **state)
{
	struct record_set s;
	struct record *r;
	json_t *j, *fields;

	(void)state;
	record_set_init(&s);
	r = alert(&s, "wanted_db", "Gewapend", NULL);
	assert_int_equal(record_add_field(&s, r, entity_field_lookup(ENTITY_ALERT, "instruction"),
					  "Niet benaderen \"alleen\"", 24), 0);
	j = briefing_record_json(r);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "alert");
	assert_string_equal(json_string_value(json_object_get(j, "source")), "wanted_db");
	fields = json_object_get(j, "fields");
	assert_int_equal(json_object_size(fields), 2);
	assert_string_equal(json_string_value(json_object_get(fields, "category")), "Gewapend");
	assert_string_equal(json_string_value(json_object_get(fields, "instruction")),
			    "Niet benaderen \"alleen\"");
	json_decref(j);
	record_set_clear(&s);
}

/* ---- a real search over two SQLite sources ---- */

static char tmpdir[64], dbpath[128];
static struct loop loop;
static struct workpool *pool;
static struct config *cfg;

static const char schema[] =
	"CREATE TABLE lokaal (naam TEXT, signaal TEXT, instructie TEXT);"
	/* the first source lists missing before wanted */
	"INSERT INTO lokaal VALUES ('Peeters', 'Vermist', 'Contact family'),"
	"  ('Peeters', 'Gezocht', 'Arrest'), ('Peeters', NULL, NULL);"
	"CREATE TABLE federaal (naam TEXT, signaal TEXT);"
	"INSERT INTO federaal VALUES ('Peeters', 'Gewapend en gevaarlijk');";

static const char config_fmt[] =
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"
	"sources:\n"
	"  - name: local\n"
	"    kind: sqlite\n"
	"    owner: Local Police Gent\n"
	"    classification: restricted\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM lokaal WHERE naam = :family_name\"}\n"
	"    map:\n"
	"      person: {family_name: naam}\n"
	"      alert: {when: signaal, category: signaal, instruction: instructie}\n"
	"  - name: federal\n"
	"    kind: sqlite\n"
	"    owner: Federal Police\n"
	"    classification: strictly_confidential\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM federaal WHERE naam = :family_name\"}\n"
	"    map: {alert: {when: signaal, category: signaal, subject_name: naam}}\n"
	"  - name: plates\n"
	"    kind: sqlite\n"
	"    owner: DIV\n"
	"    classification: not_sensitive\n"
	"    connection: {path: %s}\n"
	"    queries: {plate: \"SELECT naam FROM federaal WHERE naam = :plate\"}\n"
	"    map: {vehicle: {plate: naam}}\n";

static int setup(void **state)
{
	char text[sizeof(config_fmt) + 3 * 128];
	struct focal_err err;
	sqlite3 *db = NULL;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/focal-briefing-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/regs.db", tmpdir);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	snprintf(text, sizeof(text), config_fmt, dbpath, dbpath, dbpath);
	if (loop_global_init(&err) != 0 || loop_init(&loop, 0, &err) != 0 ||
	    workpool_create(2, 16, &pool, &err) != 0 ||
	    config_load_string("focal.yaml", text, strlen(text), &cfg, &err) != 0 ||
	    source_set_new(&loop, cfg, &loop.sources, &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	workpool_set_default(pool);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	source_set_unref(loop.sources);
	loop.sources = NULL;
	config_unref(cfg);
	workpool_destroy(pool);
	loop_fini(&loop);
	breaker_shutdown();
	metrics_shutdown();
	unlink(dbpath);
	rmdir(tmpdir);
	return 0;
}

struct progress {
	bool done;
	int sources_reported;
};

static void on_source(struct search *s, const struct source_call *call, void *arg)
{
	(void)s;
	(void)call;
	((struct progress *)arg)->sources_reported++;
}

static void on_search_done(struct search *s, void *arg)
{
	(void)s;
	((struct progress *)arg)->done = true;
	event_base_loopbreak(loop.base);
}

static void on_safety(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
	event_base_loopbreak(loop.base);
}

static void test_briefing_of_search(void **state)
{
	struct progress prog = { 0 };
	struct search_hooks hooks = { on_source, on_search_done, &prog };
	struct query_request *req = NULL;
	struct search *s = NULL;
	struct focal_err err;
	struct timeval tv = { 10, 0 };
	bool expired = false;
	struct event *safety;
	json_t *b, *alerts, *sources, *records, *summary, *src;

	(void)state;
	assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
	if (search_start(&loop, req, 3000, &hooks, &s, &err) != 0)
		fail_msg("search_start: %s", err.msg);
	safety = evtimer_new(loop.base, on_safety, &expired);
	evtimer_add(safety, &tv);
	while (!prog.done && !expired)
		event_base_loop(loop.base, EVLOOP_ONCE);
	event_free(safety);
	assert_true(prog.done);
	assert_int_equal(prog.sources_reported, 2); /* plates is not asked */

	b = briefing_json(s);
	assert_non_null(b);
	/* alerts: armed (federal) before wanted before missing (local), though
	 * local is listed first and lists missing first */
	alerts = json_object_get(b, "alerts");
	assert_int_equal(json_array_size(alerts), 3);
	{
		static const struct {
			const char *rank, *category, *source;
		} want[] = {
			{ "armed_dangerous", "Gewapend en gevaarlijk", "federal" },
			{ "wanted", "Gezocht", "local" },
			{ "vulnerable_missing", "Vermist", "local" },
		};

		for (size_t i = 0; i < N(want); i++) {
			json_t *a = json_array_get(alerts, i);

			assert_string_equal(json_string_value(json_object_get(a, "rank")), want[i].rank);
			assert_string_equal(json_string_value(json_object_get(a, "source")),
					    want[i].source);
			assert_string_equal(json_string_value(json_object_get(
						    json_object_get(a, "fields"), "category")),
					    want[i].category);
		}
	}
	/* the other records: three persons from local, no alert among them */
	records = json_object_get(b, "records");
	assert_int_equal(json_array_size(records), 3);
	for (size_t i = 0; i < json_array_size(records); i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(records, i),
								       "type")), "person");
	/* one status line per source asked */
	sources = json_object_get(b, "sources");
	assert_int_equal(json_array_size(sources), 2);
	for (size_t i = 0; i < 2; i++) {
		src = json_array_get(sources, i);
		assert_string_equal(json_string_value(json_object_get(src, "status")), "ok");
		assert_string_equal(json_string_value(json_object_get(src, "query_kind")), "person");
	}
	src = json_array_get(sources, 0);
	assert_string_equal(json_string_value(json_object_get(src, "name")), "local");
	assert_int_equal(json_integer_value(json_object_get(src, "rows")), 3);
	assert_string_equal(json_string_value(json_object_get(src, "owner")), "Local Police Gent");
	assert_string_equal(json_string_value(json_object_get(src, "classification")),
			    "restricted");
	src = json_array_get(sources, 1);
	assert_string_equal(json_string_value(json_object_get(src, "name")), "federal");
	assert_int_equal(json_integer_value(json_object_get(src, "rows")), 1);
	summary = json_object_get(b, "summary");
	assert_int_equal(json_integer_value(json_object_get(summary, "sources_asked")), 2);
	assert_int_equal(json_integer_value(json_object_get(summary, "calls_ok")), 2);
	assert_int_equal(json_integer_value(json_object_get(summary, "calls_failed")), 0);
	assert_int_equal(json_integer_value(json_object_get(summary, "sources_not_searched")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(json_object_get(b, "query"),
								   "interpretations"), 0),
				    "kind")),
			    "person");
	assert_true(json_is_real(json_object_get(b, "elapsed_ms")));
	json_decref(b);

	/* the stream's per-source line carries that source's records */
	src = briefing_source_json(search_call(s, 1), true);
	assert_string_equal(json_string_value(json_object_get(src, "name")), "federal");
	assert_int_equal(json_array_size(json_object_get(src, "records")), 1);
	json_decref(src);
	src = briefing_source_json(search_call(s, 1), false);
	assert_null(json_object_get(src, "records"));
	json_decref(src);
	search_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_rank),
		cmocka_unit_test(test_record_json),
		cmocka_unit_test(test_briefing_of_search),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
