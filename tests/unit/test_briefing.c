/*
 * test_briefing: the officer's briefing (search/briefing.h).  Alerts are
 * ranked from their category in Dutch, French or English and read first,
 * armed before wanted before missing, whichever source said them; words, not
 * substrings, with negations.  The whole briefing is checked through a real
 * search (fanout) over five SQLite sources: alerts with what they concern,
 * entities merged across sources with the provenance of each fact and their
 * conflicts, possible matches, related vehicles, per-source status.
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
		/* substrings are not words */
		{ "Gendarmerie", NULL, ALERT_OTHER },
		{ "contrôle gendarmerie nationale", NULL, ALERT_OTHER },
		{ "désarmé", NULL, ALERT_OTHER },
		{ "alarmeringsnummer", NULL, ALERT_OTHER },
		/* negations */
		{ "unarmed", NULL, ALERT_OTHER },
		{ "not armed", NULL, ALERT_OTHER },
		{ "Not known to be armed", NULL, ALERT_ARMED }, /* beyond the reach: safety first */
		{ "niet gewapend", NULL, ALERT_OTHER },
		{ "ongewapend", NULL, ALERT_OTHER },
		{ "ongevaarlijk", NULL, ALERT_OTHER },
		{ "pas armé", NULL, ALERT_OTHER },
		{ "n'est pas armé", NULL, ALERT_OTHER },
		{ "non-armé", NULL, ALERT_OTHER },
		{ "sans arme", NULL, ALERT_OTHER },
		{ "geen wapens", NULL, ALERT_OTHER },
		{ "no weapon", NULL, ALERT_OTHER },
		{ "ni armé ni dangereux", NULL, ALERT_OTHER },
		{ "niet meer gezocht", NULL, ALERT_OTHER },
		{ "nonviolent", NULL, ALERT_OTHER },
		{ "not armed but dangerous", NULL, ALERT_ARMED },
		{ "armé, pas dangereux", NULL, ALERT_ARMED },
		{ "niet gewapend, wel gezocht", NULL, ALERT_WANTED },
		/* the most severe category present; generic words only alone */
		{ "signalering vermist", NULL, ALERT_VULNERABLE },
		{ "Signalering: gewapend", NULL, ALERT_ARMED },
		{ "vermist, gezocht door familie", NULL, ALERT_VULNERABLE },
		{ "recherche dans l'intérêt des familles - disparue", NULL, ALERT_VULNERABLE },
		{ "personne vulnérable recherchée", NULL, ALERT_VULNERABLE },
		{ "seining", NULL, ALERT_WANTED },
		{ "wanted, missing", NULL, ALERT_WANTED },
		{ "MISSING - ARMED", NULL, ALERT_ARMED },
		{ "vermist", "gevaarlijk", ALERT_ARMED },
		{ "gezocht", "kwetsbaar", ALERT_VULNERABLE },
		{ "signalement", "violence contre la police", ALERT_VIOLENCE_POLICE },
		{ "Weerspannigheid", NULL, ALERT_VIOLENCE_POLICE },
		{ "vuurwapenbezit", NULL, ALERT_ARMED },
		{ "steekwapen", NULL, ALERT_ARMED },
		{ "mandat d'arrêt européen", NULL, ALERT_WANTED },
		{ "évadé", NULL, ALERT_WANTED },
		{ "dementie", NULL, ALERT_VULNERABLE },
		{ "ARMÉE ET DANGEREUSE", NULL, ALERT_ARMED },
		{ "\xff\xfe armed", NULL, ALERT_ARMED }, /* not UTF-8: still read */
		/* German (the Eupen zone) */
		{ "Bewaffnet und gefährlich", NULL, ALERT_ARMED },
		{ "Schusswaffe", NULL, ALERT_ARMED },
		{ "unbewaffnet", NULL, ALERT_OTHER },
		{ "nicht bewaffnet", NULL, ALERT_OTHER },
		{ "ungefährlich", NULL, ALERT_OTHER },
		{ "Haftbefehl", NULL, ALERT_WANTED },
		{ "zur Festnahme ausgeschrieben", NULL, ALERT_WANTED },
		{ "flüchtig", NULL, ALERT_WANTED },
		{ "Gewalt gegen Polizeibeamte", NULL, ALERT_VIOLENCE_POLICE },
		{ "Widerstand gegen Vollstreckungsbeamte", NULL, ALERT_VIOLENCE_POLICE },
		{ "Vermisste Person", NULL, ALERT_VULNERABLE },
		{ "Suizidgefahr", NULL, ALERT_VULNERABLE },
		{ "vermisst, gesucht von der Familie", NULL, ALERT_VULNERABLE },
		{ "Personenfahndung", NULL, ALERT_WANTED },
		{ "nicht mehr gesucht", NULL, ALERT_OTHER },
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
	"INSERT INTO federaal VALUES ('Peeters', 'Gewapend en gevaarlijk');"
	/* the national register: two namesakes, told apart by birth date */
	"CREATE TABLE register (rrn TEXT, achternaam TEXT, voornaam TEXT, geboren TEXT,"
	"  adres TEXT);"
	"INSERT INTO register VALUES"
	"  ('85.07.30-033.28', 'Peeters', 'Jan', '30/07/1985', 'Kerkstraat 1, 9000 Gent'),"
	"  ('90010100112', 'Peeters', 'Jan', '1990-01-01', 'Markt 2, 2000 Antwerpen');"
	/* another police database: the same Jan (other formats, another address,
	 * armed), and a Jan Peeters without birth date */
	"CREATE TABLE police (nn TEXT, nom TEXT, prenom TEXT, ne TEXT, adresse TEXT,"
	"  signalement TEXT, consigne TEXT);"
	"INSERT INTO police VALUES"
	"  ('85073003328', 'PEETERS', 'Jan', '1985-07-30', 'Veldstraat 9, 9000 Gent',"
	"   'armé et dangereux', 'Ne pas intervenir seul'),"
	"  (NULL, 'Peeters', 'Jan', NULL, NULL, NULL, NULL);"
	/* vehicles, found by their owner's name */
	"CREATE TABLE voertuigen (plaat TEXT, merk TEXT, eigenaar TEXT, eigenaar_naam TEXT);"
	"INSERT INTO voertuigen VALUES ('1-ABC-123', 'Volvo', '85073003328', 'Peeters');";

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
	"    map: {vehicle: {plate: naam}}\n"
	"  - name: registry\n"
	"    kind: sqlite\n"
	"    owner: National Register\n"
	"    classification: restricted\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM register WHERE achternaam = :family_name\"}\n"
	"    map:\n"
	"      person: {national_number: rrn, family_name: achternaam, given_name: voornaam,\n"
	"               birth_date: geboren, address: adres}\n"
	"  - name: police\n"
	"    kind: sqlite\n"
	"    owner: Police\n"
	"    classification: strictly_confidential\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM police WHERE lower(nom) = lower(:family_name)\"}\n"
	"    map:\n"
	"      person: {national_number: nn, family_name: nom, given_name: prenom,\n"
	"               birth_date: ne, address: adresse}\n"
	"      alert: {when: signalement, category: signalement, instruction: consigne,\n"
	"              subject_national_number: nn, subject_name: nom}\n"
	"  - name: vehicles\n"
	"    kind: sqlite\n"
	"    owner: DIV\n"
	"    classification: not_sensitive\n"
	"    connection: {path: %s}\n"
	"    queries: {person: \"SELECT * FROM voertuigen WHERE eigenaar_naam = :family_name\"}\n"
	"    map: {vehicle: {plate: plaat, make: merk, owner_national_number: eigenaar}}\n";

static int setup(void **state)
{
	char text[sizeof(config_fmt) + 6 * 128];
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
	snprintf(text, sizeof(text), config_fmt, dbpath, dbpath, dbpath, dbpath, dbpath, dbpath);
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

/* The entity (or possible match) of briefing b whose label is label. */
static json_t *entity_labelled(json_t *b, const char *list, const char *label)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(b, list), i, e)
		if (strcmp(json_string_value(json_object_get(e, "label")), label) == 0)
			return e;
	fail_msg("no %s labelled \"%s\"", list, label);
	return NULL;
}

static const char *sval(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* "value [src,src]; value [src]" of one field's facts, "!" before a conflict. */
static void fact_text(const json_t *e, const char *field, char *out, size_t outlen)
{
	size_t i, off = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(json_object_get(json_object_get(e, "facts"), field), i, v) {
		size_t k;
		json_t *src;

		off += (size_t)snprintf(out + off, outlen - off, "%s%s%s [", i ? "; " : "",
					json_is_true(json_object_get(v, "conflict")) ? "!" : "",
					sval(v, "value"));
		json_array_foreach(json_object_get(v, "sources"), k, src)
			off += (size_t)snprintf(out + off, outlen - off, "%s%s", k ? "," : "",
						json_string_value(src));
		off += (size_t)snprintf(out + off, outlen - off, "]");
	}
}

static bool array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
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
	json_t *b, *alerts, *sources, *records, *summary, *src, *jan, *jan90, *anon, *car, *x, *y;
	char text[512];
	const char *jan_id, *car_id;

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
	assert_int_equal(prog.sources_reported, 5); /* plates is not asked */

	b = briefing_json(s);
	assert_non_null(b);

	/* entities: Jan Peeters of 1985 from the register and the police (two
	 * number formats, two date formats), his namesake of 1990, the local
	 * "Peeters", the Volvo */
	jan = entity_labelled(b, "entities", "Jan Peeters, 1985-07-30");
	jan90 = entity_labelled(b, "entities", "Jan Peeters, 1990-01-01");
	car = entity_labelled(b, "entities", "1-ABC-123 Volvo");
	(void)entity_labelled(b, "entities", "Peeters");
	assert_int_equal(json_array_size(json_object_get(b, "entities")), 4);
	assert_ptr_equal(json_array_get(json_object_get(b, "entities"), 0), jan); /* most sources */
	jan_id = sval(jan, "id");
	car_id = sval(car, "id");
	assert_string_equal(sval(jan, "type"), "person");
	assert_int_equal(json_array_size(json_object_get(jan, "sources")), 2);
	{
		static const struct {
			const char *field, *want;
		} facts[] = {
			{ "national_number", "85.07.30-033.28 [registry,police]" },
			{ "family_name", "Peeters [registry,police]" },
			{ "given_name", "Jan [registry,police]" },
			{ "birth_date", "1985-07-30 [registry,police]" },
			{ "address", "!Kerkstraat 1, 9000 Gent [registry]; "
				     "!Veldstraat 9, 9000 Gent [police]" },
		};

		assert_int_equal(json_object_size(json_object_get(jan, "facts")), N(facts));
		for (size_t i = 0; i < N(facts); i++) {
			fact_text(jan, facts[i].field, text, sizeof(text));
			if (strcmp(text, facts[i].want) != 0)
				fail_msg("%s: \"%s\", want \"%s\"", facts[i].field, text, facts[i].want);
		}
	}
	assert_int_equal(json_array_size(json_object_get(jan, "conflicts")), 1);
	assert_true(array_has(json_object_get(jan, "conflicts"), "address"));
	assert_int_equal(json_array_size(json_object_get(jan90, "conflicts")), 0);
	/* his vehicle, both ways */
	x = json_array_get(json_object_get(jan, "related"), 0);
	assert_string_equal(sval(x, "entity"), car_id);
	assert_string_equal(sval(x, "type"), "vehicle");
	assert_string_equal(sval(x, "relation"), "owns");
	x = json_array_get(json_object_get(car, "related"), 0);
	assert_string_equal(sval(x, "entity"), jan_id);
	assert_string_equal(sval(x, "relation"), "owned_by");
	assert_int_equal(json_array_size(json_object_get(jan90, "related")), 0);

	/* possible matches: the police's Jan Peeters without birth date may be
	 * either Jan; two more local "Peeters" may be the first */
	{
		json_t *pm = json_object_get(b, "possible_matches");
		json_t *may;

		assert_int_equal(json_array_size(pm), 3);
		anon = entity_labelled(b, "possible_matches", "Jan Peeters");
		may = json_object_get(anon, "may_be");
		assert_int_equal(json_array_size(may), 2);
		for (size_t i = 0; i < 2; i++) {
			x = json_array_get(may, i);
			assert_string_equal(sval(x, "reason"), "name_no_birth_date");
			assert_true(strcmp(sval(x, "entity"), jan_id) == 0 ||
				    strcmp(sval(x, "entity"), sval(jan90, "id")) == 0);
			assert_true(strlen(sval(x, "explanation")) > 0);
		}
		assert_true(array_has(json_object_get(jan, "possible_matches"), sval(anon, "id")));
		assert_true(array_has(json_object_get(jan90, "possible_matches"), sval(anon, "id")));
		fact_text(anon, "family_name", text, sizeof(text));
		assert_string_equal(text, "Peeters [police]");
	}

	/* alerts: armed (federal, then police: arrival order) before wanted
	 * before missing (local), though local is listed first and lists missing
	 * first */
	alerts = json_object_get(b, "alerts");
	assert_int_equal(json_array_size(alerts), 4);
	{
		static const struct {
			const char *rank, *category, *source;
		} want[] = {
			{ "armed_dangerous", "Gewapend en gevaarlijk", "federal" },
			{ "armed_dangerous", "armé et dangereux", "police" },
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
	/* what they concern: the police alert names Jan by national number; the
	 * federal one only says "Peeters"; the local ones name nobody */
	x = json_array_get(alerts, 1);
	assert_int_equal(json_array_size(json_object_get(x, "concerns")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(x, "concerns"), 0)),
			    jan_id);
	assert_int_equal(json_array_size(json_object_get(x, "possibly_concerns")), 0);
	assert_string_equal(sval(json_object_get(x, "fields"), "instruction"),
			    "Ne pas intervenir seul");
	x = json_array_get(alerts, 0);
	assert_int_equal(json_array_size(json_object_get(x, "concerns")), 0);
	assert_true(array_has(json_object_get(x, "possibly_concerns"), jan_id));
	assert_true(array_has(json_object_get(x, "possibly_concerns"), sval(jan90, "id")));
	assert_int_equal(json_array_size(json_object_get(json_array_get(alerts, 2), "concerns")), 0);
	/* and from the entity's side: alert positions */
	assert_int_equal(json_array_size(json_object_get(jan, "alerts")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(jan, "alerts"), 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(jan, "possible_alerts"), 0)),
			 0);

	/* the records array only when the request asked for it ("records": true,
	 * which query_request_from_json sets; req is the search's, so changing it
	 * here is what the request would have said) */
	assert_null(json_object_get(b, "records"));
	req->with_records = true;
	x = briefing_json(s);
	req->with_records = false;
	assert_non_null(x);
	/* the other records as the sources gave them, each naming its entity */
	records = json_object_get(x, "records");
	assert_int_equal(json_array_size(records), 3 + 2 + 2 + 1);
	for (size_t i = 0; i < json_array_size(records); i++) {
		json_t *r = json_array_get(records, i);

		assert_string_not_equal(sval(r, "type"), "alert");
		assert_true(strlen(sval(r, "entity")) > 1);
	}
	assert_string_equal(sval(json_array_get(records, 0), "type"), "person");
	assert_string_equal(sval(json_array_get(records, 0), "source"), "local");
	assert_string_equal(sval(json_array_get(records, 3), "entity"), jan_id); /* registry */
	assert_string_equal(sval(json_array_get(records, 5), "entity"), jan_id); /* police */
	assert_string_equal(sval(json_array_get(records, 7), "entity"), car_id);
	/* and otherwise the same briefing: records is the only key it adds */
	json_object_del(x, "records");
	json_object_del(x, "elapsed_ms");
	json_object_del(json_object_get(x, "summary"), "resolve_ms");
	y = json_deep_copy(b);
	json_object_del(y, "elapsed_ms");
	json_object_del(json_object_get(y, "summary"), "resolve_ms");
	assert_true(json_equal(x, y));
	json_decref(y);
	json_decref(x);

	/* one status line per source asked */
	sources = json_object_get(b, "sources");
	assert_int_equal(json_array_size(sources), 5);
	for (size_t i = 0; i < json_array_size(sources); i++) {
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
	assert_int_equal(json_integer_value(json_object_get(summary, "sources_asked")), 5);
	assert_int_equal(json_integer_value(json_object_get(summary, "calls_ok")), 5);
	assert_int_equal(json_integer_value(json_object_get(summary, "calls_failed")), 0);
	assert_int_equal(json_integer_value(json_object_get(summary, "sources_not_searched")), 1);
	assert_int_equal(json_integer_value(json_object_get(summary, "entities")), 4);
	assert_int_equal(json_integer_value(json_object_get(summary, "possible_matches")), 3);
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
