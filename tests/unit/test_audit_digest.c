/*
 * test_audit_digest: the digest of a record shown (audit_search_record_digest)
 * is written directly in sorted order for speed; it must equal, bit for bit,
 * the definition: the record's briefing JSON as a jansson tree dumped with
 * JSON_SORT_KEYS (audit_search_record_digest_tree).  Compared over thousands
 * of made-up records: repeated fields, names that sort by byte, every byte
 * value in values (quotes, control characters, invalid UTF-8), non-ASCII
 * names (the slow path), and one known answer computed outside focald.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_search.h"
#include "sources/record.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static const char *const names[] = {
	"family_name", "given_name", "birth_date", "national_number", "plate", "a", "ab", "a_b",
	"aB", "Z", "category", "severity", "na\"me", "tab\there", "back\\slash", "ctl\x01",
	"x", "x0", "x_", "~tilde",
};
static const char *const non_ascii[] = { "naïve", "\xC3\xA9t\xC3\xA9", "bad\xFFname" };

/* A random value: mostly text, sometimes any byte 1..255. */
static void random_value(char *out, size_t cap)
{
	static const char *const words[] = { "Peeters", "Jan", "Éloïse", "\"quoted\"", "a\\b",
					     "line\nbreak", "1985-07-30", "\xF0\x9F\x9A\x93",
					     "\xC3", "\xED\xA0\x80", "\xF4\x90\x80\x80" };
	size_t n = 0, len = next() % 24;

	for (size_t i = 0; i < len && n + 8 < cap; i++) {
		if (next() % 3 == 0) {
			out[n++] = (char)(1 + next() % 255);
		} else {
			const char *w = words[next() % (sizeof(words) / sizeof(words[0]))];
			size_t wl = strlen(w);

			if (n + wl + 1 >= cap)
				break;
			memcpy(out + n, w, wl);
			n += wl;
		}
	}
	out[n] = '\0';
}

static void check_same(const struct record *r)
{
	char fast[65], slow[65];

	assert_int_equal(audit_search_record_digest(r, fast), 0);
	assert_int_equal(audit_search_record_digest_tree(r, slow), 0);
	assert_string_equal(fast, slow);
}

static void test_fast_equals_tree(void **state)
{
	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct record_set set;
		struct record *r;
		size_t nf = next() % 40; /* over 32: the sort's array is allocated */
		bool odd = round % 10 == 9;

		record_set_init(&set);
		assert_int_equal(record_set_add(&set, (enum entity_kind)(next() % ENTITY__COUNT),
						round % 7 == 0 ? "src\"7" : "bevolking", &r), 0);
		for (size_t i = 0; i < nf; i++) {
			char v[256];
			const char *name = names[next() % (sizeof(names) / sizeof(names[0]))];

			if (odd && next() % 4 == 0)
				name = non_ascii[next() % (sizeof(non_ascii) / sizeof(non_ascii[0]))];
			random_value(v, sizeof(v));
			assert_int_equal(record_add_field(&set, r, name, v, strlen(v)), 0);
		}
		check_same(r);
		record_set_clear(&set);
	}
}

/* Records whose names are the canonical pointers (entity_fields()), as
 * focald's records are: their order is taken from a table, not compared
 * by text.  Mixed in: another kind's names, a canonical name's text stored
 * elsewhere, repeats, and more than 32 fields. */
static void test_canonical_names(void **state)
{
	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct record_set set;
		struct record *r;
		enum entity_kind k = (enum entity_kind)(next() % ENTITY__COUNT);
		const char *const *own = entity_fields(k);
		size_t nown = 0, nf = next() % 40;

		while (own[nown] != NULL)
			nown++;
		record_set_init(&set);
		assert_int_equal(record_set_add(&set, k, "bevolking", &r), 0);
		for (size_t i = 0; i < nf; i++) {
			char v[256];
			const char *name = own[next() % nown];

			if (round % 5 == 4 && next() % 4 == 0) {
				const char *const *other =
					entity_fields((enum entity_kind)(next() % ENTITY__COUNT));

				name = other[0];
			} else if (round % 5 == 3 && next() % 4 == 0) {
				/* this file's strings: some the text of a canonical name */
				name = names[next() % (sizeof(names) / sizeof(names[0]))];
			}
			random_value(v, sizeof(v));
			assert_int_equal(record_add_field(&set, r, name, v, strlen(v)), 0);
		}
		check_same(r);
		record_set_clear(&set);
	}
}

/* Every byte value alone in a value. */
static void test_every_byte(void **state)
{
	(void)state;
	for (int b = 1; b < 256; b++) {
		struct record_set set;
		struct record *r;
		char v[4] = { 'x', (char)b, 'y', '\0' };

		record_set_init(&set);
		assert_int_equal(record_set_add(&set, ENTITY_PERSON, "s", &r), 0);
		assert_int_equal(record_add_field(&set, r, "given_name", v, 3), 0);
		assert_int_equal(record_add_field(&set, r, "family_name", v + 1, 1), 0);
		check_same(r);
		record_set_clear(&set);
	}
}

/* Known answer: printf '%s' '{"fields":{"family_name":"Peeters","given_name":"Jan"},
 * "source":"bevolking","type":"person"}' | sha256sum (the fields given twice
 * and out of order: one member each, the last value). */
static void test_known_answer(void **state)
{
	struct record_set set;
	struct record *r;
	char d[65];

	(void)state;
	record_set_init(&set);
	assert_int_equal(record_set_add(&set, ENTITY_PERSON, "bevolking", &r), 0);
	assert_int_equal(record_add_field(&set, r, "given_name", "Jean", 4), 0);
	assert_int_equal(record_add_field(&set, r, "family_name", "Peeters", 7), 0);
	assert_int_equal(record_add_field(&set, r, "given_name", "Jan", 3), 0);
	assert_int_equal(audit_search_record_digest(r, d), 0);
	assert_string_equal(d, "3b37558391ac413b2b228f6667c4c8f1ad847f4600d40d340953681d2905d845");
	record_set_clear(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_equals_tree),
		cmocka_unit_test(test_canonical_names),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_known_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
