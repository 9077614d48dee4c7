/*
 * test_record: the canonical schema and record sets (sources/record.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sources/record.h"

static void test_entity_names(void **state)
{
	static const struct {
		enum entity_kind kind;
		const char *name;
	} table[] = {
		{ ENTITY_PERSON, "person" },   { ENTITY_VEHICLE, "vehicle" },
		{ ENTITY_FIREARM, "firearm" }, { ENTITY_ADDRESS, "address" },
		{ ENTITY_REPORT, "report" },   { ENTITY_ALERT, "alert" },
	};
	enum entity_kind k;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_string_equal(entity_kind_name(table[i].kind), table[i].name);
		k = ENTITY__COUNT;
		assert_int_equal(entity_kind_parse(table[i].name, &k), 0);
		assert_int_equal(k, table[i].kind);
	}
	assert_string_equal(entity_kind_name(ENTITY__COUNT), "unknown");
	k = ENTITY_ALERT;
	assert_int_equal(entity_kind_parse("suspect", &k), FOCAL_E_INVAL);
	assert_int_equal(entity_kind_parse("Person", &k), FOCAL_E_INVAL);
	assert_int_equal(k, ENTITY_ALERT);
}

static void test_field_lookup(void **state)
{
	static const struct {
		enum entity_kind kind;
		const char *field;
		bool known;
	} table[] = {
		{ ENTITY_PERSON, "family_name", true },
		{ ENTITY_PERSON, "national_number", true },
		{ ENTITY_PERSON, "plate", false },
		{ ENTITY_VEHICLE, "plate", true },
		{ ENTITY_VEHICLE, "vin", true },
		{ ENTITY_FIREARM, "serial", true },
		{ ENTITY_FIREARM, "calibre", true },
		{ ENTITY_ADDRESS, "postcode", true },
		{ ENTITY_REPORT, "reference", true },
		{ ENTITY_ALERT, "instruction", true },
		{ ENTITY_ALERT, "category", true },
		{ ENTITY_ALERT, "family_name", false },
		{ ENTITY_ALERT, "", false },
		{ ENTITY_ALERT, "Category", false },
	};
	const char *const *fields;
	const char *found;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char copy[32];

		snprintf(copy, sizeof(copy), "%s", table[i].field);
		found = entity_field_lookup(table[i].kind, copy);
		if (!table[i].known) {
			assert_null(found);
			continue;
		}
		assert_non_null(found);
		assert_string_equal(found, table[i].field);
		/* the static canonical pointer, not the caller's string */
		assert_ptr_not_equal(found, copy);
		fields = entity_fields(table[i].kind);
		for (; *fields != NULL && *fields != found; fields++)
			;
		assert_ptr_equal(*fields, found);
	}
	assert_null(entity_fields(ENTITY__COUNT));
	assert_null(entity_field_lookup(ENTITY__COUNT, "plate"));
}

static void test_add_get_and_bytes(void **state)
{
	struct record_set s;
	struct record *r, *r2;
	const char *fam = entity_field_lookup(ENTITY_PERSON, "family_name");
	const char *giv = entity_field_lookup(ENTITY_PERSON, "given_name");

	(void)state;
	record_set_init(&s);
	assert_int_equal(record_set_add(&s, ENTITY_PERSON, "src_a", &r), 0);
	assert_int_equal(r->kind, ENTITY_PERSON);
	assert_string_equal(r->source, "src_a");
	assert_int_equal(r->nfields, 0);
	/* only len bytes are copied, and they are NUL-terminated */
	assert_int_equal(record_add_field(&s, r, fam, "Peeters-XXXX", 7), 0);
	assert_int_equal(record_add_field(&s, r, giv, "Jan", 3), 0);
	assert_string_equal(record_get(r, "family_name"), "Peeters");
	assert_string_equal(record_get(r, "given_name"), "Jan");
	assert_null(record_get(r, "birth_date"));
	assert_int_equal(s.bytes, 10);
	assert_int_equal(s.n, 1);

	/* growing past the first capacity keeps earlier records intact */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(record_set_add(&s, ENTITY_VEHICLE, "src_b", &r2), 0);
		assert_int_equal(record_add_field(&s, r2, entity_field_lookup(ENTITY_VEHICLE, "plate"),
						  "1ABC123", 7), 0);
	}
	assert_int_equal(s.n, 21);
	assert_int_equal(s.bytes, 10 + 20 * 7);
	assert_string_equal(record_get(&s.items[0], "family_name"), "Peeters");
	assert_string_equal(record_get(&s.items[20], "plate"), "1ABC123");

	record_set_clear(&s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.bytes, 0);
	assert_null(s.items);
	/* reusable after clear */
	assert_int_equal(record_set_add(&s, ENTITY_ALERT, "src_c", &r), 0);
	assert_int_equal(s.n, 1);
	record_set_clear(&s);
}

static void fill(struct record_set *s, const char *source, int n)
{
	struct record *r;
	char v[16];

	for (int i = 0; i < n; i++) {
		snprintf(v, sizeof(v), "%s-%d", source, i);
		assert_int_equal(record_set_add(s, ENTITY_REPORT, source, &r), 0);
		assert_int_equal(record_add_field(s, r, entity_field_lookup(ENTITY_REPORT,
									   "reference"),
						  v, strlen(v)), 0);
	}
}

static void test_move(void **state)
{
	struct record_set a, b, empty;
	size_t bytes_a, bytes_b;

	(void)state;
	record_set_init(&a);
	record_set_init(&b);
	record_set_init(&empty);
	fill(&a, "a", 3);
	fill(&b, "bb", 9);
	bytes_a = a.bytes;
	bytes_b = b.bytes;
	assert_int_equal(record_set_move(&a, &b), 0);
	assert_int_equal(a.n, 12);
	assert_int_equal(a.bytes, bytes_a + bytes_b);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.bytes, 0);
	assert_null(b.items);
	/* order: dst's records first, then src's in their order */
	assert_string_equal(record_get(&a.items[0], "reference"), "a-0");
	assert_string_equal(record_get(&a.items[2], "reference"), "a-2");
	assert_string_equal(record_get(&a.items[3], "reference"), "bb-0");
	assert_string_equal(record_get(&a.items[11], "reference"), "bb-8");
	assert_string_equal(a.items[11].source, "bb");

	/* moving an empty set changes nothing */
	assert_int_equal(record_set_move(&a, &empty), 0);
	assert_int_equal(a.n, 12);
	/* moving into an empty set */
	assert_int_equal(record_set_move(&empty, &a), 0);
	assert_int_equal(empty.n, 12);
	assert_int_equal(a.n, 0);
	/* and adding after a move still works (capacity is consistent) */
	fill(&empty, "c", 5);
	assert_int_equal(empty.n, 17);
	assert_string_equal(record_get(&empty.items[16], "reference"), "c-4");
	record_set_clear(&empty);
	record_set_clear(&a);
	record_set_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entity_names),
		cmocka_unit_test(test_field_lookup),
		cmocka_unit_test(test_add_get_and_bytes),
		cmocka_unit_test(test_move),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
