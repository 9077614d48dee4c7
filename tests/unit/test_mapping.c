/*
 * test_mapping: source rows to canonical records (sources/mapping.h): the
 * `map` syntax and its errors, applying a mapping to a row through a getter,
 * and RFC 6901 JSON pointers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "sources/mapping.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A fake row: key/value pairs; a NULL value is an SQL NULL. */
struct kv {
	const char *k, *v;
};
struct fake_row {
	const struct kv *kv;
	size_t n;
	int calls;
};

static int fake_get(void *row, const char *from, const char **val, size_t *len)
{
	struct fake_row *r = row;

	r->calls++;
	if (strcmp(from, "boom") == 0)
		return FOCAL_E_SOURCE;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->kv[i].k, from) != 0)
			continue;
		if (r->kv[i].v == NULL)
			return 0;
		*val = r->kv[i].v;
		*len = strlen(r->kv[i].v);
		return 1;
	}
	return 0;
}

/* Parses the `map` node of yaml ("map: ..."); returns the rc. */
static int parse(const char *yaml, enum mapping_from from, struct mapping *m,
		 struct focal_err *err)
{
	struct cfg_doc doc;
	struct cfg_node root, map;
	int rc;

	if (cfg_doc_load_string(&doc, "m.yaml", yaml, strlen(yaml), err) != 0)
		fail_msg("yaml: %s", err->msg);
	assert_int_equal(cfg_doc_root(&doc, &root, err), 0);
	assert_true(cfg_map_get(&root, "map", &map));
	rc = mapping_parse(&map, from, m, err);
	cfg_doc_free(&doc);
	return rc;
}

static void test_parse_ok(void **state)
{
	struct mapping m;
	struct focal_err err;

	(void)state;
	if (parse("map:\n"
		  "  rows: /results\n"
		  "  vehicle: {plate: /kenteken, make: /merk/naam}\n"
		  "  alert: {when: /signal, category: /signal, instruction: {value: Approach}}\n",
		  MAPPING_FROM_POINTER, &m, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(m.rows, "/results");
	assert_int_equal(m.nentities, 2);
	assert_int_equal(m.entities[0].kind, ENTITY_VEHICLE);
	assert_int_equal(m.entities[0].nfields, 2);
	assert_string_equal(m.entities[0].fields[1].target, "make");
	assert_string_equal(m.entities[0].fields[1].from, "/merk/naam");
	assert_null(m.entities[0].when);
	assert_int_equal(m.entities[1].kind, ENTITY_ALERT);
	assert_string_equal(m.entities[1].when, "/signal");
	assert_int_equal(m.entities[1].nfields, 2); /* when is not a field */
	assert_null(m.entities[1].fields[1].from);
	assert_string_equal(m.entities[1].fields[1].constant, "Approach");
	mapping_free(&m);
	mapping_free(&m);
	mapping_free(NULL);
}

static void test_parse_errors(void **state)
{
	static const struct {
		enum mapping_from from;
		const char *yaml;
		const char *msg; /* full message or its start */
	} table[] = {
		{ MAPPING_FROM_COLUMN, "map: text\n", "m.yaml:1:6: map: expected a mapping" },
		{ MAPPING_FROM_COLUMN, "map: {suspect: {family_name: a}}\n",
		  "m.yaml:1:7: unknown key 'suspect' in map; expected rows or an entity" },
		{ MAPPING_FROM_COLUMN, "map: {person: {surname: a}}\n",
		  "m.yaml:1:16: person has no field 'surname'; canonical fields: national_number, "
		  "family_name" },
		{ MAPPING_FROM_COLUMN, "map: {person: {plate: a}}\n",
		  "m.yaml:1:16: person has no field 'plate'" },
		{ MAPPING_FROM_COLUMN, "map: {person: x}\n", "m.yaml:1:15: person: expected a mapping" },
		{ MAPPING_FROM_COLUMN, "map: {person: {family_name: {val: x}}}\n",
		  "m.yaml:1:30: unknown key 'val'; expected one of: value" },
		{ MAPPING_FROM_COLUMN, "map: {person: {family_name: [a]}}\n",
		  "m.yaml:1:29: family_name: expected text" },
		{ MAPPING_FROM_COLUMN, "map: {person: {family_name: \"\"}}\n",
		  "m.yaml:1:29: empty reference" },
		{ MAPPING_FROM_COLUMN, "map: {person: {when: a}}\n", "m.yaml:1:15: person maps no field" },
		{ MAPPING_FROM_COLUMN, "map: {}\n", "m.yaml:1:6: map yields no entity" },
		{ MAPPING_FROM_COLUMN, "map: {rows: /x, person: {family_name: a}}\n",
		  "m.yaml:1:7: rows applies to http sources only" },
		{ MAPPING_FROM_COLUMN, "map:\n  person: {family_name: a}\n  person: {given_name: b}\n",
		  "m.yaml:3:3: duplicate key 'person'" },
		{ MAPPING_FROM_POINTER, "map: {rows: results, person: {family_name: /a}}\n",
		  "m.yaml:1:13: rows: \"results\" is not a JSON pointer" },
		{ MAPPING_FROM_POINTER, "map: {person: {family_name: naam}}\n",
		  "m.yaml:1:29: \"naam\" is not a JSON pointer (RFC 6901)" },
		{ MAPPING_FROM_POINTER, "map: {person: {family_name: /a~2b}}\n",
		  "m.yaml:1:29: \"/a~2b\" is not a JSON pointer" },
		{ MAPPING_FROM_POINTER, "map: {alert: {when: signal, category: /c}}\n",
		  "m.yaml:1:21: \"signal\" is not a JSON pointer" },
		{ MAPPING_FROM_POINTER, "map: {rows: /r}\n", "m.yaml:1:6: map yields no entity" },
	};
	struct mapping m;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(parse(table[i].yaml, table[i].from, &m, &err), FOCAL_E_CONFIG);
		if (strncmp(err.msg, table[i].msg, strlen(table[i].msg)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.msg, table[i].msg);
		mapping_free(&m);
	}
}

static const char wanted_map[] =
	"map:\n"
	"  person: {family_name: achternaam, given_name: voornaam, birth_date: geboren}\n"
	"  alert:\n"
	"    when: signal\n"
	"    category: signal\n"
	"    instruction: {value: Approach with care}\n";

static void test_apply_when_gated(void **state)
{
	static const struct kv armed[] = {
		{ "achternaam", "  Peeters \t" }, { "voornaam", "Jan" },
		{ "geboren", NULL }, { "signal", "Gewapend" },
	};
	static const struct kv blank[] = {
		{ "achternaam", "Janssens" }, { "signal", " \r\n" },
	};
	static const struct kv none[] = { { "ACHTERNAAM", "x" }, { "achternaam", "Maes" } };
	struct fake_row r1 = { armed, N(armed), 0 }, r2 = { blank, N(blank), 0 },
			r3 = { none, N(none), 0 };
	struct record_set out;
	struct mapping m;
	struct focal_err err;
	struct record *p, *a;

	(void)state;
	assert_int_equal(parse(wanted_map, MAPPING_FROM_COLUMN, &m, &err), 0);
	record_set_init(&out);

	assert_int_equal(mapping_apply(&m, "wanted_db", fake_get, &r1, &out, &err), 0);
	assert_int_equal(out.n, 2);
	p = &out.items[0];
	a = &out.items[1];
	assert_int_equal(p->kind, ENTITY_PERSON);
	assert_string_equal(p->source, "wanted_db");
	assert_string_equal(record_get(p, "family_name"), "Peeters"); /* trimmed */
	assert_string_equal(record_get(p, "given_name"), "Jan");
	assert_null(record_get(p, "birth_date")); /* NULL column: no field */
	assert_int_equal(p->nfields, 2);
	assert_int_equal(a->kind, ENTITY_ALERT);
	assert_string_equal(record_get(a, "category"), "Gewapend");
	assert_string_equal(record_get(a, "instruction"), "Approach with care");
	assert_int_equal(out.bytes, strlen("Peeters") + strlen("Jan") + strlen("Gewapend") +
					    strlen("Approach with care"));

	/* a blank or absent `when` yields no alert, the person still maps */
	assert_int_equal(mapping_apply(&m, "wanted_db", fake_get, &r2, &out, &err), 0);
	assert_int_equal(mapping_apply(&m, "wanted_db", fake_get, &r3, &out, &err), 0);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.items[2].kind, ENTITY_PERSON);
	assert_string_equal(record_get(&out.items[2], "family_name"), "Janssens");
	assert_int_equal(out.items[3].kind, ENTITY_PERSON);
	assert_string_equal(record_get(&out.items[3], "family_name"), "Maes");
	record_set_clear(&out);
	mapping_free(&m);
}

static void test_apply_constants_only(void **state)
{
	static const struct kv row[] = { { "naam", "Peeters" } };
	static const struct kv flagged[] = { { "naam", "Peeters" }, { "signal", "gezocht" } };
	struct fake_row r = { row, N(row), 0 }, rf = { flagged, N(flagged), 0 };
	struct record_set out;
	struct mapping m;
	struct focal_err err;

	(void)state;
	record_set_init(&out);
	/* an entity made only of constants says nothing about the row */
	assert_int_equal(parse("map:\n  person: {family_name: naam}\n"
			       "  alert: {category: {value: wanted}}\n",
			       MAPPING_FROM_COLUMN, &m, &err), 0);
	assert_int_equal(mapping_apply(&m, "s", fake_get, &r, &out, &err), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].kind, ENTITY_PERSON);
	assert_int_equal(out.bytes, strlen("Peeters"));
	mapping_free(&m);
	record_set_clear(&out);

	/* nor does one whose row values are all absent: only the constant
	 * instruction would be left, an alert about nothing */
	assert_int_equal(parse("map:\n  person: {family_name: naam}\n"
			       "  alert: {category: signal, instruction: {value: Approach}}\n",
			       MAPPING_FROM_COLUMN, &m, &err), 0);
	assert_int_equal(mapping_apply(&m, "s", fake_get, &r, &out, &err), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].kind, ENTITY_PERSON);
	assert_int_equal(out.bytes, strlen("Peeters"));
	/* with the value present the alert carries the constant too */
	assert_int_equal(mapping_apply(&m, "s", fake_get, &rf, &out, &err), 0);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.items[2].kind, ENTITY_ALERT);
	assert_string_equal(record_get(&out.items[2], "category"), "gezocht");
	assert_string_equal(record_get(&out.items[2], "instruction"), "Approach");
	mapping_free(&m);
	record_set_clear(&out);

	/* with `when`, the constants of a flagged row are the point */
	assert_int_equal(parse("map:\n  alert: {when: signal, category: {value: wanted}}\n",
			       MAPPING_FROM_COLUMN, &m, &err), 0);
	assert_int_equal(mapping_apply(&m, "s", fake_get, &rf, &out, &err), 0);
	assert_int_equal(out.n, 1);
	assert_string_equal(record_get(&out.items[0], "category"), "wanted");
	assert_int_equal(mapping_apply(&m, "s", fake_get, &r, &out, &err), 0);
	assert_int_equal(out.n, 1);
	mapping_free(&m);
	record_set_clear(&out);
}

static void test_apply_utf8_cut(void **state)
{
	char *ascii = malloc(MAPPING_VALUE_MAX + 100);
	char *utf8 = malloc(MAPPING_VALUE_MAX + 10);
	char *exact = malloc(MAPPING_VALUE_MAX + 1);
	struct kv kv[3];
	struct fake_row r = { kv, 3, 0 };
	struct record_set out;
	struct mapping m;
	struct focal_err err;
	const char *v;

	(void)state;
	assert_non_null(ascii);
	assert_non_null(utf8);
	assert_non_null(exact);
	memset(ascii, 'a', MAPPING_VALUE_MAX + 99);
	ascii[MAPPING_VALUE_MAX + 99] = '\0';
	/* 4095 bytes, then "é" (2 bytes) straddling the limit, then more */
	memset(utf8, 'b', MAPPING_VALUE_MAX - 1);
	memcpy(utf8 + MAPPING_VALUE_MAX - 1, "\xc3\xa9xyz", 6);
	memset(exact, 'c', MAPPING_VALUE_MAX);
	exact[MAPPING_VALUE_MAX] = '\0';
	kv[0] = (struct kv){ "a", ascii };
	kv[1] = (struct kv){ "u", utf8 };
	kv[2] = (struct kv){ "e", exact };
	assert_int_equal(parse("map: {report: {summary: a, location: u, unit: e}}\n",
			       MAPPING_FROM_COLUMN, &m, &err), 0);
	record_set_init(&out);
	assert_int_equal(mapping_apply(&m, "s", fake_get, &r, &out, &err), 0);
	assert_int_equal(out.n, 1);
	v = record_get(&out.items[0], "summary");
	assert_int_equal(strlen(v), MAPPING_VALUE_MAX);
	v = record_get(&out.items[0], "location");
	assert_int_equal(strlen(v), MAPPING_VALUE_MAX - 1); /* "é" not split */
	assert_int_equal(v[MAPPING_VALUE_MAX - 2], 'b');
	v = record_get(&out.items[0], "unit");
	assert_int_equal(strlen(v), MAPPING_VALUE_MAX); /* exactly the limit: whole */
	assert_int_equal(out.bytes, 3 * MAPPING_VALUE_MAX - 1);
	record_set_clear(&out);
	mapping_free(&m);
	free(ascii);
	free(utf8);
	free(exact);
}

static void test_apply_getter_error(void **state)
{
	static const struct kv row[] = { { "naam", "Peeters" } };
	struct fake_row r = { row, N(row), 0 };
	struct record_set out;
	struct mapping m;
	struct focal_err err;

	(void)state;
	assert_int_equal(parse("map: {person: {family_name: naam, alias: boom}}\n",
			       MAPPING_FROM_COLUMN, &m, &err), 0);
	record_set_init(&out);
	assert_int_equal(mapping_apply(&m, "s", fake_get, &r, &out, &err), FOCAL_E_SOURCE);
	assert_string_equal(err.msg, "cannot read 'boom'");
	record_set_clear(&out);
	mapping_free(&m);
}

static void test_json_pointer_rfc6901(void **state)
{
	static const char doc[] =
		"{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3, "
		"\"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, \"m~n\": 8, \"~1\": 9, "
		"\"nest\": {\"list\": [{\"x\": \"deep\"}]}}";
	static const struct {
		const char *ptr;
		long long want; /* integer value; -1: string "bar"/"baz"/"deep"; -2: absent */
		const char *str;
	} table[] = {
		{ "/", 0, NULL },     { "/a~1b", 1, NULL }, { "/c%d", 2, NULL },
		{ "/e^f", 3, NULL },  { "/g|h", 4, NULL },  { "/i\\j", 5, NULL },
		{ "/k\"l", 6, NULL }, { "/ ", 7, NULL },    { "/m~0n", 8, NULL },
		{ "/~01", 9, NULL }, /* ~0 then 1, not ~ then ~1 */
		{ "/foo/0", -1, "bar" },  { "/foo/1", -1, "baz" },
		{ "/nest/list/0/x", -1, "deep" },
		{ "/foo/2", -2, NULL },   /* out of range */
		{ "/foo/01", -2, NULL },  /* leading zero */
		{ "/foo/00", -2, NULL },
		{ "/foo/-", -2, NULL },   /* past the end: never an element */
		{ "/foo/+1", -2, NULL },  /* RFC 6901 indexes are digits only */
		{ "/foo/ 1", -2, NULL },
		{ "/foo/-0", -2, NULL },
		{ "/foo/", -2, NULL },
		{ "/foo/0/x", -2, NULL }, /* a string has no members */
		{ "/missing", -2, NULL },
		{ "foo", -2, NULL },      /* must start with '/' */
		{ "/m~2n", -2, NULL },    /* bad escape */
		{ "/m~", -2, NULL },
	};
	json_error_t jerr;
	json_t *root = json_loads(doc, 0, &jerr), *v;

	(void)state;
	assert_non_null(root);
	assert_ptr_equal(mapping_json_pointer(root, ""), root);
	assert_true(json_is_array(mapping_json_pointer(root, "/foo")));
	assert_null(mapping_json_pointer(NULL, "/foo"));
	for (size_t i = 0; i < N(table); i++) {
		v = mapping_json_pointer(root, table[i].ptr);
		if (table[i].want == -2) {
			if (v != NULL)
				fail_msg("\"%s\" resolved, want absent", table[i].ptr);
		} else if (table[i].want == -1) {
			assert_true(json_is_string(v));
			assert_string_equal(json_string_value(v), table[i].str);
		} else {
			if (!json_is_integer(v) || json_integer_value(v) != table[i].want)
				fail_msg("\"%s\": want %lld", table[i].ptr, table[i].want);
		}
	}
	json_decref(root);
}

static void test_pointer_valid(void **state)
{
	static const struct {
		const char *ptr;
		bool valid;
	} table[] = {
		{ "", true },   { "/", true },    { "/a/b", true }, { "/a~0b", true },
		{ "/a~1", true }, { "a", false }, { "a/b", false }, { "/a~", false },
		{ "/a~2", false }, { "/~x", false },
	};

	(void)state;
	for (size_t i = 0; i < N(table); i++)
		if (mapping_pointer_valid(table[i].ptr) != table[i].valid)
			fail_msg("\"%s\": want %d", table[i].ptr, table[i].valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_apply_when_gated),
		cmocka_unit_test(test_apply_constants_only),
		cmocka_unit_test(test_apply_utf8_cut),
		cmocka_unit_test(test_apply_getter_error),
		cmocka_unit_test(test_json_pointer_rfc6901),
		cmocka_unit_test(test_pointer_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
