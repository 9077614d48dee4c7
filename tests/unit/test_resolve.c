/*
 * test_resolve: entity resolution (search/resolve.h), table-driven.
 *
 * Each case is a handful of records from several sources, each tagged with a
 * letter: records with the same letter must become one entity, records with
 * different letters different entities.  Possible matches are written
 * "A?B" (entity A, candidate B).  Then facts with their sources and
 * conflicts, related records, what alerts concern, date parsing, the name key
 * against normalize_names_match(), and the cost of one resolution of 200
 * records (printed, never asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "search/normalize.h"
#include "search/resolve.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RECS 12

enum { P = ENTITY_PERSON, V = ENTITY_VEHICLE, F = ENTITY_FIREARM, A = ENTITY_ADDRESS,
       R = ENTITY_REPORT, AL = ENTITY_ALERT };

struct trec {
	int kind;
	const char *source;
	const char *fields; /* "name=value;name=value" */
	char entity;        /* a letter; '-' for alerts */
};

/* Adds "k=v;k=v" fields to a new record of kind k. */
static void add_record(struct record_set *s, const struct trec *t)
{
	struct record *r;
	const char *p = t->fields;

	assert_int_equal(record_set_add(s, (enum entity_kind)t->kind, t->source, &r), 0);
	while (p != NULL && *p != '\0') {
		const char *eq = strchr(p, '='), *end = strchr(p, ';');
		char name[64];
		const char *canon;

		assert_non_null(eq);
		if (end == NULL)
			end = p + strlen(p);
		assert_true((size_t)(eq - p) < sizeof(name));
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		canon = entity_field_lookup((enum entity_kind)t->kind, name);
		if (canon == NULL)
			fail_msg("no field %s in %s", name, entity_kind_name((enum entity_kind)t->kind));
		assert_int_equal(record_add_field(s, r, canon, eq + 1, (size_t)(end - eq - 1)), 0);
		p = *end == ';' ? end + 1 : end;
	}
}

/* Builds the records of a case (pointers into s, which must stay alive). */
static size_t load(struct record_set *s, const struct trec *recs, const struct record **ptrs)
{
	size_t n = 0;

	record_set_init(s);
	while (n < MAX_RECS && recs[n].source != NULL)
		add_record(s, &recs[n++]);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &s->items[i];
	return n;
}

struct tcase {
	const char *name;
	struct trec recs[MAX_RECS];
	const char *possible; /* "A?B,C?D", or "" for none */
};

/* ---- merging and not merging ---- */

static const struct tcase merge_cases[] = {
	{ "national number in every format",
	  { { P, "a", "national_number=85.07.30-033.28;family_name=Peeters", 'A' },
	    { P, "b", "national_number=85073003328;family_name=PEETERS;given_name=Jan", 'A' },
	    { P, "c", "national_number=85 07 30 033 28", 'A' },
	    { P, "d", "national_number=85073003329;family_name=Peeters", 'B' } },
	  "" },
	{ "a national number beats a matching name",
	  { { P, "a", "national_number=85073003328;family_name=Peeters;given_name=Jan;"
		      "birth_date=1985-07-30", 'A' },
	    { P, "b", "national_number=85073003410;family_name=Peeters;given_name=Jan;"
		      "birth_date=1985-07-30", 'B' } },
	  "" },
	{ "name and birth date across diacritics, hyphens, case, word order, date formats",
	  { { P, "a", "family_name=Dubois-Lambert;given_name=Émilie;birth_date=1990-02-03", 'A' },
	    { P, "b", "family_name=DUBOIS LAMBERT;given_name=EMILIE;birth_date=03/02/1990", 'A' },
	    { P, "c", "family_name=Emilie;given_name=Dubois Lambert;birth_date=03.02.1990", 'A' },
	    { P, "d", "family_name=Lambert Dubois;given_name=émilie;birth_date=19900203", 'A' },
	    { P, "e", "family_name=dubois-lambert;given_name=Emilie;birth_date=1990-02-03T00:00:00",
	      'A' } },
	  "" },
	{ "spelling variants with the same birth date",
	  { { P, "a", "family_name=El Amrani;given_name=Mohamed;birth_date=1979-11-02", 'A' },
	    { P, "b", "family_name=El Amrani;given_name=Mohammed;birth_date=02/11/1979", 'A' },
	    { P, "c", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'B' },
	    { P, "d", "family_name=Peters;given_name=Jan;birth_date=30-07-1985", 'B' } },
	  "" },
	{ "particles joined or not",
	  { { P, "a", "family_name=Van Damme;given_name=Luc;birth_date=1970-01-01", 'A' },
	    { P, "b", "family_name=Vandamme;given_name=Luc;birth_date=1970-01-01", 'A' },
	    { P, "c", "family_name=De Smet;given_name=An;birth_date=1971-01-01", 'B' },
	    { P, "d", "family_name=Desmet;given_name=An;birth_date=01/01/1971", 'B' } },
	  "" },
	{ "decoys: same name, other birth dates never merge and are not possible matches",
	  { { P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
	    { P, "b", "family_name=Peeters;given_name=Jan;birth_date=1990-01-01", 'B' },
	    { P, "c", "family_name=Peeters;given_name=Jan;birth_date=30/07/1958", 'C' },
	    { P, "d", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' } },
	  "" },
	{ "different names with the same birth date",
	  { { P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
	    { P, "b", "family_name=Janssens;given_name=Jan;birth_date=1985-07-30", 'B' },
	    { P, "c", "family_name=Peeters;given_name=Marie;birth_date=1985-07-30", 'C' } },
	  "" },
	{ "an initial merges only with an agreeing birth date",
	  { { P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
	    { P, "b", "family_name=Peeters;given_name=J.;birth_date=30/07/1985", 'A' },
	    { P, "c", "family_name=PEETERS;given_name=J;birth_date=1990-01-01", 'B' },
	    { P, "d", "family_name=Peeters;given_name=K.;birth_date=1985-07-30", 'C' },
	    { P, "e", "family_name=Peeters;given_name=J.", 'D' } },
	  "A?D,B?D" }, /* D is "J." like B ("J"): same name, no birth date */
	{ "part of the given names merges only with an agreeing birth date",
	  { { P, "pop", "national_number=69032208942;family_name=Aerts;given_name=Tim Johan;"
		        "birth_date=1969-03-22", 'A' },
	    { P, "pv", "family_name=AERTS;given_name=Tim;birth_date=22/03/1969", 'A' },
	    { P, "pv", "family_name=Aerts;given_name=Johan;birth_date=1969-03-22", 'A' },
	    { P, "pv", "family_name=Aerts;given_name=Tim;birth_date=1970-01-01", 'B' },
	    { P, "pop", "national_number=70010100173;family_name=Aerts;given_name=Tim Karel;"
		        "birth_date=1970-01-01", 'B' },
	    { P, "pv", "family_name=Aerts;given_name=Tim;birth_date=1980-05-05", 'C' },
	    { P, "pv", "family_name=Janssens;given_name=Tim;birth_date=1969-03-22", 'D' } },
	  "" }, /* C: a Tim Aerts with a third birth date is nobody here */
	{ "part of the given names across spelling, case and order",
	  { { P, "a", "family_name=El Amrani;given_name=Mohamed Ali;birth_date=1979-11-02", 'A' },
	    { P, "b", "family_name=EL AMRANI;given_name=MOHAMMED;birth_date=02/11/1979", 'A' },
	    { P, "c", "family_name=Dubois-Lambert;given_name=Marie Émilie;birth_date=1990-02-03",
	      'B' },
	    { P, "d", "family_name=DUBOIS LAMBERT;given_name=EMILIE;birth_date=19900203", 'B' } },
	  "" },
	{ "part of the given names without a birth date: a possible match",
	  { { P, "a", "national_number=69032208942;family_name=Aerts;given_name=Tim Johan;"
		      "birth_date=1969-03-22", 'A' },
	    { P, "b", "family_name=Aerts;given_name=Tim", 'B' } },
	  "A?B" },
	{ "part of the given names that fits two people merges with neither",
	  { { P, "a", "national_number=69032208942;family_name=Aerts;given_name=Tim Johan;"
		      "birth_date=1969-03-22", 'A' },
	    { P, "a", "national_number=69032209041;family_name=Aerts;given_name=Tim Karel;"
		      "birth_date=1969-03-22", 'B' },
	    { P, "b", "family_name=Aerts;given_name=Tim;birth_date=1969-03-22", 'C' } },
	  "A?C,B?C" },
	{ "the exact name wins over part of the given names",
	  { { P, "a", "national_number=69032208942;family_name=Aerts;given_name=Tim;"
		      "birth_date=1969-03-22", 'A' },
	    { P, "a", "national_number=69032209041;family_name=Aerts;given_name=Tim Karel;"
		      "birth_date=1969-03-22", 'B' },
	    { P, "b", "family_name=Aerts;given_name=Tim;birth_date=1969-03-22", 'A' } },
	  "" },
	{ "no part: other given names, a family name alone, initials keep their own rule",
	  { { P, "a", "family_name=Aerts;given_name=Tim Johan;birth_date=1969-03-22", 'A' },
	    { P, "b", "family_name=Aerts;given_name=Tom;birth_date=1969-03-22", 'B' },
	    { P, "c", "family_name=Aerts;given_name=Johan Karel;birth_date=1969-03-22", 'C' },
	    { P, "d", "family_name=Aerts;birth_date=1969-03-22", 'D' } },
	  "" }, /* each of A and C has a name the other lacks: neither is a part */
	{ "part in any order of the given names",
	  { { P, "a", "family_name=Aerts;given_name=Tim Johan;birth_date=1969-03-22", 'A' },
	    { P, "b", "family_name=Aerts;given_name=Karel Johan Tim;birth_date=1969-03-22", 'A' } },
	  "" },
	{ "no birth date on one side: a possible match, not merged",
	  { { P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
	    { P, "b", "family_name=peeters;given_name=jan", 'B' },
	    { P, "c", "family_name=Peeters;given_name=Jan;birth_date=1990-01-01", 'C' } },
	  "A?B,C?B" },
	{ "no birth date on either side",
	  { { P, "a", "family_name=Peeters;given_name=Jan", 'A' },
	    { P, "b", "family_name=Peeters;given_name=Jan", 'B' } },
	  "A?B" },
	{ "different national numbers are never a possible match",
	  { { P, "a", "national_number=85073003328;family_name=Peeters;given_name=Jan", 'A' },
	    { P, "b", "national_number=90010100112;family_name=Peeters;given_name=Jan", 'B' } },
	  "" },
	{ "a birth date gained by merging rules a possible match out",
	  { { P, "a", "national_number=85073003328;family_name=Peeters;given_name=Jan", 'A' },
	    { P, "b", "national_number=85073003328;birth_date=1985-07-30", 'A' },
	    { P, "c", "family_name=Peeters;given_name=Jan;birth_date=1990-01-01", 'B' } },
	  "" },
	{ "transitivity never joins two national numbers",
	  { { P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
	    { P, "b", "national_number=85073003328;family_name=Peeters;given_name=Jan;"
		      "birth_date=1985-07-30", 'A' },
	    { P, "c", "national_number=85073003410;family_name=Peeters;given_name=Jan;"
		      "birth_date=1985-07-30", 'B' } },
	  "" },
	{ "transitivity never joins two birth dates",
	  { { P, "a", "national_number=85073003328;birth_date=1985-07-30", 'A' },
	    { P, "b", "national_number=85073003328;family_name=Peeters;given_name=Jan", 'A' },
	    { P, "c", "family_name=Peeters;given_name=Jan;birth_date=1990-01-01", 'B' },
	    { P, "d", "family_name=Peeters;given_name=Jan;birth_date=1990-01-01", 'B' } },
	  "" },
	{ "same national number, different birth dates: not merged, shown as possible",
	  { { P, "a", "national_number=85073003328;family_name=Peeters;birth_date=1985-07-30", 'A' },
	    { P, "b", "national_number=85073003328;family_name=Peeters;birth_date=1985-07-31", 'B' } },
	  "A?B" },
	{ "vehicles by plate or VIN; a second VIN is not merged",
	  { { V, "a", "plate=1-ABC-123;make=Volvo", 'A' },
	    { V, "b", "plate=1abc123;vin=YV1AS982591234567", 'A' },
	    { V, "c", "vin=yv1as982591234567;colour=red", 'A' },
	    { V, "d", "plate=1-ABC-123;vin=WVWZZZ1JZXW000001", 'B' },
	    { V, "e", "plate=2-XYZ-999", 'C' } },
	  "A?B" },
	{ "firearms by serial; reports by reference; addresses by street, number, postcode",
	  { { F, "a", "serial=AB-1234;make=Glock", 'A' },
	    { F, "b", "serial=ab1234;calibre=9mm", 'A' },
	    { F, "c", "serial=AB1235", 'B' },
	    { R, "a", "reference=GE.12.L5.012345/2024", 'C' },
	    { R, "b", "reference=GE12L5012345 2024", 'C' },
	    { A, "a", "street=Kerkstraat;number=1;postcode=9000;city=Gent", 'D' },
	    { A, "b", "street=KERKSTRAAT;number=1;postcode=9000", 'D' },
	    { A, "c", "street=Kerkstraat;number=1 A;postcode=9000", 'E' },
	    { P, "a", "national_number=85073003328", 'F' } },
	  "" },
	{ "alerts are not entities; kinds never mix",
	  { { AL, "a", "category=wanted;subject_national_number=85073003328", '-' },
	    { P, "a", "national_number=85073003328", 'A' },
	    { V, "a", "plate=85073003328", 'B' } },
	  "" },
};

/* The entity letter of each entity index, or 0. */
static void check_partition(const struct tcase *c, const struct resolve_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool alert = c->recs[i].entity == '-';

		if (alert != (res->entity_of[i] == RESOLVE_NONE))
			fail_msg("%s: record %zu: entity %zu", c->name, i, res->entity_of[i]);
		for (size_t j = 0; j < i && !alert; j++) {
			bool same = c->recs[i].entity == c->recs[j].entity;

			if (c->recs[j].entity == '-')
				continue;
			if (same != (res->entity_of[i] == res->entity_of[j]))
				fail_msg("%s: records %zu (%c) and %zu (%c) %s", c->name, j,
					 c->recs[j].entity, i, c->recs[i].entity,
					 same ? "not merged" : "merged");
		}
	}
}

/* The letter of entity e (from its first record). */
static char letter_of(const struct tcase *c, const struct resolve_result *res, size_t e)
{
	for (size_t i = 0; i < res->nrecords; i++)
		if (res->entity_of[i] == e)
			return c->recs[i].entity;
	return '?';
}

static void check_possible(const struct tcase *c, const struct resolve_result *res)
{
	char got[256] = "";
	size_t off = 0;

	/* possible is sorted by entity index; compare as a sorted set of strings */
	char pairs[RESOLVE_MAX_POSSIBLE][4];
	size_t np = 0;

	for (size_t i = 0; i < res->npossible && np < RESOLVE_MAX_POSSIBLE; i++) {
		pairs[np][0] = letter_of(c, res, res->possible[i].entity);
		pairs[np][1] = '?';
		pairs[np][2] = letter_of(c, res, res->possible[i].candidate);
		pairs[np][3] = '\0';
		np++;
	}
	qsort(pairs, np, sizeof(pairs[0]), (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < np; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s", i ? "," : "", pairs[i]);
	if (strcmp(got, c->possible) != 0)
		fail_msg("%s: possible matches \"%s\", want \"%s\"", c->name, got, c->possible);
	for (size_t i = 0; i < res->npossible; i++)
		assert_true(res->entities[res->possible[i].candidate].candidate);
}

static void test_merge_rules(void **state)
{
	(void)state;
	for (size_t k = 0; k < N(merge_cases); k++) {
		const struct tcase *c = &merge_cases[k];
		const struct record *ptrs[MAX_RECS];
		struct record_set s;
		struct resolve_result *res = NULL;
		struct focal_err err;
		size_t n = load(&s, c->recs, ptrs);

		assert_int_equal(resolve_records(ptrs, n, &res, &err), 0);
		assert_int_equal(res->nrecords, n);
		check_partition(c, res, n);
		check_possible(c, res);
		/* members list exactly the records of each entity */
		for (size_t e = 0; e < res->nentities; e++)
			for (size_t m = 0; m < res->entities[e].nrec; m++)
				assert_int_equal(res->entity_of[res->members[res->entities[e].rec + m]], e);
		resolve_free(res);
		record_set_clear(&s);
	}
}

/* The possible-match reasons. */
static void test_possible_reasons(void **state)
{
	static const struct {
		struct trec recs[3];
		enum resolve_why why;
	} cases[] = {
		{ { { P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
		    { P, "b", "family_name=Peeters;given_name=Jan", 'B' } },
		  RESOLVE_NAME_NO_BIRTH_DATE },
		{ { { P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
		    { P, "b", "family_name=Peeters;given_name=J.", 'B' } },
		  RESOLVE_INITIAL_NO_BIRTH_DATE },
		{ { { P, "a", "national_number=85073003328;birth_date=1985-07-30", 'A' },
		    { P, "b", "national_number=85073003328;birth_date=1985-07-03", 'B' } },
		  RESOLVE_SAME_ID_OTHER_BIRTH_DATE },
		{ { { V, "a", "plate=1ABC123;vin=A1", 'A' }, { V, "b", "plate=1ABC123;vin=B2", 'B' } },
		  RESOLVE_SAME_ID_OTHER_ID },
		{ { { P, "a", "family_name=Aerts;given_name=Tim Johan;birth_date=1969-03-22", 'A' },
		    { P, "b", "family_name=Aerts;given_name=Tim", 'B' } },
		  RESOLVE_GIVEN_NAMES_PART },
		{ { { P, "a", "family_name=Aerts;given_name=Tim;birth_date=1969-03-22", 'A' },
		    { P, "b", "family_name=Aerts;given_name=Tim Johan", 'B' } },
		  RESOLVE_GIVEN_NAMES_PART },
	};

	(void)state;
	for (size_t k = 0; k < N(cases); k++) {
		const struct record *ptrs[MAX_RECS];
		struct record_set s;
		struct resolve_result *res = NULL;
		size_t n = load(&s, cases[k].recs, ptrs);

		assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
		assert_int_equal(res->npossible, 1);
		assert_int_equal(res->possible[0].why, cases[k].why);
		/* the side with a birth date (or listed first) is the entity */
		assert_int_equal(res->possible[0].entity, res->entity_of[0]);
		assert_int_equal(res->possible[0].candidate, res->entity_of[1]);
		assert_false(res->entities[res->entity_of[0]].candidate);
		assert_true(res->entities[res->entity_of[1]].candidate);
		resolve_free(res);
		record_set_clear(&s);
	}
	assert_string_equal(resolve_why_name(RESOLVE_NAME_NO_BIRTH_DATE), "name_no_birth_date");
	assert_string_equal(resolve_why_name(RESOLVE_SAME_ID_OTHER_ID), "same_id_other_id");
	assert_string_equal(resolve_why_name(RESOLVE_GIVEN_NAMES_PART), "given_names_part");
}

/* ---- facts, sources, conflicts ---- */

struct want_fact {
	const char *field, *value, *sources; /* sources "a,b" */
	bool conflict;
};

static void check_facts(const struct resolve_result *res, size_t e, const struct want_fact *want,
			size_t nwant)
{
	const struct resolve_entity *ent = &res->entities[e];

	if (ent->nfact != nwant)
		fail_msg("entity %zu: %zu facts, want %zu", e, ent->nfact, nwant);
	for (size_t i = 0; i < nwant; i++) {
		const struct resolve_fact *f = &res->facts[ent->fact + i];
		char srcs[128] = "";
		size_t off = 0;

		for (size_t s = 0; s < f->nsrc; s++)
			off += (size_t)snprintf(srcs + off, sizeof(srcs) - off, "%s%s", s ? "," : "",
						res->fact_sources[f->src + s]);
		if (strcmp(f->field, want[i].field) != 0 || strcmp(f->value, want[i].value) != 0 ||
		    strcmp(srcs, want[i].sources) != 0 || f->conflict != want[i].conflict)
			fail_msg("fact %zu: %s=%s [%s]%s, want %s=%s [%s]%s", i, f->field, f->value, srcs,
				 f->conflict ? " conflict" : "", want[i].field, want[i].value,
				 want[i].sources, want[i].conflict ? " conflict" : "");
	}
}

static void test_facts_and_conflicts(void **state)
{
	static const struct trec recs[] = {
		{ P, "rr", "national_number=85.07.30-033.28;family_name=Peeters;given_name=Mohamed;"
			   "birth_date=30/07/1985;address=Kerkstraat 1, 9000 Gent;alias=Mo", 'A' },
		{ P, "pol", "national_number=85073003328;family_name=PEETERS;given_name=Mohammed;"
			    "birth_date=1985-07-30;address=Markt 2, 2000 Antwerpen;alias=Jan", 'A' },
		{ P, "city", "national_number=85073003328;family_name=Peeters;"
			     "address=KERKSTRAAT 1 9000 GENT;gender=M", 'A' },
		{ P, "x", "national_number=85073003328;family_name=Janssens", 'A' },
		{ 0 },
	};
	static const struct want_fact want[] = {
		{ "national_number", "85.07.30-033.28", "rr,pol,city,x", false },
		{ "family_name", "Peeters", "rr,pol,city", true },
		{ "family_name", "Janssens", "x", true },
		{ "given_name", "Mohamed", "rr", false }, /* spelling variants: not a conflict */
		{ "given_name", "Mohammed", "pol", false },
		{ "birth_date", "1985-07-30", "rr,pol", false },
		{ "gender", "M", "city", false },
		{ "address", "Kerkstraat 1, 9000 Gent", "rr,city", true },
		{ "address", "Markt 2, 2000 Antwerpen", "pol", true },
		{ "alias", "Mo", "rr", false }, /* several aliases are not a conflict */
		{ "alias", "Jan", "pol", false },
	};
	const struct record *ptrs[MAX_RECS];
	struct record_set s;
	struct resolve_result *res = NULL;
	size_t n = load(&s, recs, ptrs);

	(void)state;
	assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
	assert_int_equal(res->nentities, 1);
	check_facts(res, 0, want, N(want));
	assert_int_equal(res->entities[0].nsrc, 4);
	assert_string_equal(res->entity_sources[res->entities[0].src], "rr");
	assert_string_equal(res->entity_sources[res->entities[0].src + 3], "x");
	assert_int_equal(res->entities[0].birth_date, 19850730);
	resolve_free(res);
	record_set_clear(&s);
}

static void test_initial_is_no_conflict(void **state)
{
	static const struct trec recs[] = {
		{ P, "a", "family_name=Peeters;given_name=Jan;birth_date=1985-07-30", 'A' },
		{ P, "b", "family_name=Peeters;given_name=J.;birth_date=1985-07-30", 'A' },
		{ 0 },
	};
	static const struct want_fact want[] = {
		{ "family_name", "Peeters", "a,b", false },
		{ "given_name", "Jan", "a", false },
		{ "given_name", "J.", "b", false },
		{ "birth_date", "1985-07-30", "a,b", false },
	};
	const struct record *ptrs[MAX_RECS];
	struct record_set s;
	struct resolve_result *res = NULL;
	size_t n = load(&s, recs, ptrs);

	(void)state;
	assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
	check_facts(res, 0, want, N(want));
	resolve_free(res);
	record_set_clear(&s);
}

/* ---- related records and what alerts concern ---- */

static bool has_link(const struct resolve_result *res, size_t from, size_t to,
		     enum resolve_relation rel)
{
	for (size_t i = 0; i < res->nlinks; i++)
		if (res->links[i].from == from && res->links[i].to == to && res->links[i].rel == rel)
			return true;
	return false;
}

static void test_related(void **state)
{
	static const struct trec recs[] = {
		{ P, "rr", "national_number=85.07.30-033.28;family_name=Peeters;given_name=Jan", 'A' },
		{ V, "div", "plate=1-ABC-123;owner_national_number=85073003328", 'B' },
		{ V, "div2", "plate=1ABC123;owner_national_number=85 07 30 033 28", 'B' },
		{ F, "arms", "serial=G123;holder_national_number=85073003328", 'C' },
		{ R, "pv", "reference=PV1;involved_national_number=85073003328", 'D' },
		{ V, "div", "plate=2XYZ999;owner_national_number=99999999999", 'E' },
		{ 0 },
	};
	const struct record *ptrs[MAX_RECS];
	struct record_set s;
	struct resolve_result *res = NULL;
	size_t n = load(&s, recs, ptrs), p, v, f, r, other;

	(void)state;
	assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
	p = res->entity_of[0];
	v = res->entity_of[1];
	f = res->entity_of[3];
	r = res->entity_of[4];
	other = res->entity_of[5];
	/* persons first, then vehicles, firearms, addresses, reports */
	assert_int_equal(p, 0);
	assert_int_equal(v, 1);
	assert_int_equal(other, 2);
	assert_int_equal(f, 3);
	assert_int_equal(r, 4);
	assert_true(has_link(res, p, v, RESOLVE_OWNS));
	assert_true(has_link(res, v, p, RESOLVE_OWNED_BY));
	assert_true(has_link(res, p, f, RESOLVE_HOLDS));
	assert_true(has_link(res, f, p, RESOLVE_HELD_BY));
	assert_true(has_link(res, p, r, RESOLVE_INVOLVED_IN));
	assert_true(has_link(res, r, p, RESOLVE_INVOLVES));
	assert_int_equal(res->nlinks, 6); /* two vehicle records, one link; no owner for 2XYZ999 */
	for (size_t i = 1; i < res->nlinks; i++)
		assert_true(res->links[i - 1].from <= res->links[i].from);
	assert_string_equal(resolve_relation_name(RESOLVE_OWNS), "owns");
	assert_string_equal(resolve_relation_name(RESOLVE_INVOLVES), "involves");
	resolve_free(res);
	record_set_clear(&s);
}

static void test_alert_concerns(void **state)
{
	static const struct trec recs[] = {
		{ P, "rr", "national_number=85073003328;family_name=Peeters;given_name=Jan;"
			   "birth_date=1985-07-30", 'A' },
		{ P, "rr", "national_number=90010100112;family_name=Peeters;given_name=Jan;"
			   "birth_date=1990-01-01", 'B' },
		{ P, "city", "family_name=Peeters;given_name=Jan", 'C' },
		{ V, "div", "plate=1-ABC-123", 'D' },
		{ F, "arms", "serial=G-123", 'E' },
		/* 5: by national number */
		{ AL, "w", "category=wanted;subject_national_number=85.07.30-033.28", '-' },
		/* 6: by plate and by serial */
		{ AL, "w", "category=stolen;plate=1ABC123;serial=g123", '-' },
		/* 7: name and birth date: certain for A; C has no birth date: possibly */
		{ AL, "w", "category=armed;subject_name=PEETERS Jan;subject_birth_date=30/07/1985", '-' },
		/* 8: name only: possibly A, B, C */
		{ AL, "w", "category=missing;subject_name=Jan Peeters", '-' },
		/* 9: family name only: possibly, never certain */
		{ AL, "w", "category=violence;subject_name=Peeters;subject_birth_date=1990-01-01", '-' },
		/* 10: a namesake with another birth date: nothing */
		{ AL, "w", "category=armed;subject_name=Jan Peeters;subject_birth_date=1970-01-01", '-' },
		{ 0 },
	};
	static const struct {
		size_t alert;
		const char *certain, *possibly; /* entity letters */
	} want[] = {
		{ 5, "A", "" }, { 6, "DE", "" }, { 7, "A", "C" }, { 8, "", "ABC" },
		{ 9, "", "BC" }, { 10, "", "C" },
	};
	const struct record *ptrs[MAX_RECS];
	struct record_set s;
	struct resolve_result *res = NULL;
	size_t n = load(&s, recs, ptrs);
	struct tcase c = { "alerts", { { 0 } }, "" };

	(void)state;
	memcpy(c.recs, recs, sizeof(recs));
	assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
	for (size_t k = 0; k < N(want); k++) {
		char certain[16] = "", possibly[16] = "";
		size_t nc = 0, np = 0;
		bool seen_possible = false;

		for (size_t i = 0; i < res->nconcerns; i++) {
			const struct resolve_concern *co = &res->concerns[i];

			if (co->alert != want[k].alert)
				continue;
			if (co->certain) {
				assert_false(seen_possible); /* certain ones first */
				certain[nc++] = letter_of(&c, res, co->entity);
			} else {
				seen_possible = true;
				possibly[np++] = letter_of(&c, res, co->entity);
			}
		}
		if (strcmp(certain, want[k].certain) != 0 || strcmp(possibly, want[k].possibly) != 0)
			fail_msg("alert %zu: certain \"%s\" possibly \"%s\", want \"%s\" / \"%s\"",
				 want[k].alert, certain, possibly, want[k].certain, want[k].possibly);
	}
	for (size_t i = 1; i < res->nconcerns; i++)
		assert_true(res->concerns[i - 1].alert <= res->concerns[i].alert);
	resolve_free(res);
	record_set_clear(&s);
}

/* Two entities sharing name and birth date (different national numbers): an
 * alert by name and birth date designates neither for sure. */
static void test_alert_ambiguous_name(void **state)
{
	static const struct trec recs[] = {
		{ P, "a", "national_number=85073003328;family_name=Peeters;given_name=Jan;"
			  "birth_date=1985-07-30", 'A' },
		{ P, "b", "national_number=85073003410;family_name=Peeters;given_name=Jan;"
			  "birth_date=1985-07-30", 'B' },
		{ AL, "w", "category=armed;subject_name=Jan Peeters;subject_birth_date=1985-07-30", '-' },
		{ AL, "w", "category=armed;subject_name=Jan Peeters;subject_birth_date=1985-07-30;"
			   "subject_national_number=85073003410", '-' },
		{ 0 },
	};
	const struct record *ptrs[MAX_RECS];
	struct record_set s;
	struct resolve_result *res = NULL;
	size_t n = load(&s, recs, ptrs), certain2 = 0, possibly2 = 0, certain3 = 0, other3 = 0;

	(void)state;
	assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
	assert_int_equal(res->nentities, 2);
	for (size_t i = 0; i < res->nconcerns; i++) {
		const struct resolve_concern *co = &res->concerns[i];

		if (co->alert == 2) {
			certain2 += co->certain;
			possibly2 += !co->certain;
		} else if (co->alert == 3) {
			if (co->certain && co->entity == res->entity_of[1])
				certain3++;
			else
				other3++;
		}
	}
	assert_int_equal(certain2, 0);
	assert_int_equal(possibly2, 2);
	assert_int_equal(certain3, 1); /* its national number decides */
	assert_int_equal(other3, 0);
	resolve_free(res);
	record_set_clear(&s);
}

/* ---- dates and name keys ---- */

/* One row answered twice (first level and linked hop) is one record; rows
 * that differ in a source, a kind, a field or a value are not. */
static void test_duplicates(void **state)
{
	static const struct trec recs[] = {
		{ AL, "reports", "category=geweld tegen politie;reference=AN.1/2025", '-' },
		{ P, "reports", "national_number=85073003328;family_name=Verhaegen", 'A' },
		{ AL, "wanted", "category=armé et dangereux;reference=BCS-1", '-' },
		{ AL, "reports", "category=geweld tegen politie;reference=AN.1/2025", '-' },
		{ P, "reports", "national_number=85073003328;family_name=Verhaegen", 'A' },
		{ AL, "reports2", "category=geweld tegen politie;reference=AN.1/2025", '-' },
		{ AL, "reports", "category=geweld tegen politie;reference=AN.2/2025", '-' },
		{ P, "reports", "national_number=85073003328", 'A' },
		{ R, "reports", "reference=AN.1/2025", 'B' },
		{ AL, "reports", "category=geweld tegen politie;reference=AN.1/2025", '-' },
		{ 0, NULL, NULL, 0 },
	};
	static const bool want[] = { false, false, false, true, true, false, false, false, false,
				     true };
	const struct record *ptrs[MAX_RECS];
	struct record_set s;
	bool dup[MAX_RECS];
	size_t n;

	(void)state;
	n = load(&s, recs, ptrs);
	assert_int_equal(n, N(want));
	assert_int_equal(resolve_duplicates(ptrs, n, NULL, dup), 0);
	for (size_t i = 0; i < n; i++)
		if (dup[i] != want[i])
			fail_msg("record %zu: duplicate %d, want %d", i, dup[i], want[i]);
	/* equal rows of one answer are the source's own: only another answer's
	 * copy is a duplicate (0-2 one call, 3-8 a hop, 9 a third call) */
	{
		static const size_t group[] = { 0, 0, 0, 1, 1, 1, 1, 1, 1, 0 };
		static const bool want_g[] = { false, false, false, true, true, false, false, false,
					       false, false };

		assert_int_equal(resolve_duplicates(ptrs, n, group, dup), 0);
		for (size_t i = 0; i < n; i++)
			if (dup[i] != want_g[i])
				fail_msg("grouped: record %zu: duplicate %d, want %d", i, dup[i],
					 want_g[i]);
	}
	assert_true(resolve_same_record(ptrs[0], ptrs[9]));
	assert_false(resolve_same_record(ptrs[0], ptrs[5]));
	assert_false(resolve_same_record(ptrs[1], ptrs[7]));
	assert_int_equal(resolve_duplicates(ptrs, 0, NULL, dup), 0);
	record_set_clear(&s);
}

static void test_parse_date(void **state)
{
	static const struct {
		const char *in;
		int want; /* 0: refused */
	} table[] = {
		{ "1985-07-30", 19850730 }, { "30/07/1985", 19850730 }, { "30.07.1985", 19850730 },
		{ "30-07-1985", 19850730 }, { "19850730", 19850730 }, { "1985/07/30", 19850730 },
		{ " 1985-07-30 ", 19850730 }, { "1985-07-30T00:00:00Z", 19850730 },
		{ "1985-07-30 12:00", 19850730 }, { "3/7/1985", 19850703 }, { "2000-02-29", 20000229 },
		{ "1900-02-29", 0 }, { "1985-02-30", 0 }, { "1985-13-01", 0 }, { "31/04/1985", 0 },
		{ "1985-07", 0 }, { "85-07-30", 0 }, { "30/07/85", 0 }, { "1985-07-30x", 0 },
		{ "30/07.1985", 0 }, { "", 0 }, { "unknown", 0 }, { "0000-00-00", 0 },
		{ "198507301", 0 }, { "1799-12-31", 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		int got = 0;
		bool ok = resolve_parse_date(table[i].in, &got);

		if (ok != (table[i].want != 0) || (ok && got != table[i].want))
			fail_msg("\"%s\": %s %d, want %d", table[i].in, ok ? "ok" : "refused", got,
				 table[i].want);
	}
	assert_false(resolve_parse_date(NULL, &(int){ 0 }));
}

/* Equal name keys always mean normalize_names_match(); the joined reading of
 * particles is the one case the key does not show (resolve uses a second
 * key for it: see "particles joined or not" above). */
static void test_name_key_agrees_with_names_match(void **state)
{
	static const struct {
		const char *g1, *f1, *g2, *f2;
		bool same_key;
	} table[] = {
		{ "Jan", "Peeters", "JAN", "PEETERS", true },
		{ "Émilie", "Dubois-Lambert", "Emilie", "Dubois Lambert", true },
		{ "Peeters", "Jan", "Jan", "Peeters", true },
		{ "Mohamed", "El Amrani", "Mohammed", "El Amrani", true },
		{ "Jan", "Peeters", "Jan", "Peters", true },
		{ NULL, "Jan Peeters", "Jan", "Peeters", true },
		{ "Jan", "Peeters", "Jan", "Janssens", false },
		{ "Jan", "Peeters", "Marie", "Peeters", false },
		{ "Jan", "Claes", "Jan", "Claessens", false },
		{ "Luc", "Van Damme", "Luc", "Vandamme", false }, /* joined: second key */
	};
	char k1[NORMALIZE_MAX], k2[NORMALIZE_MAX], n1[256], n2[256];

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		bool same;

		assert_true(resolve_name_key(table[i].g1, table[i].f1, k1, sizeof(k1)) > 0);
		assert_true(resolve_name_key(table[i].g2, table[i].f2, k2, sizeof(k2)) > 0);
		same = strcmp(k1, k2) == 0;
		snprintf(n1, sizeof(n1), "%s %s", table[i].g1 ? table[i].g1 : "", table[i].f1);
		snprintf(n2, sizeof(n2), "%s %s", table[i].g2 ? table[i].g2 : "", table[i].f2);
		if (same != table[i].same_key)
			fail_msg("%s / %s: keys \"%s\" \"%s\"", n1, n2, k1, k2);
		if (same)
			assert_true(normalize_names_match(n1, n2));
	}
	assert_true(normalize_names_match("Luc Van Damme", "Luc Vandamme"));
	assert_int_equal(resolve_name_key(NULL, NULL, k1, sizeof(k1)), 0);
	assert_int_equal(resolve_name_key("", "", k1, sizeof(k1)), 0);
}

static void test_empty_and_odd_input(void **state)
{
	static const struct trec recs[] = {
		{ P, "a", "", 'A' },                   /* a person with nothing */
		{ P, "b", "", 'B' },
		{ P, "c", "family_name=\xff\xfe;birth_date=1985-07-30", 'C' }, /* not UTF-8 */
		{ P, "d", "family_name=\xff\xfe;birth_date=1985-07-30", 'D' },
		{ V, "e", "plate=---", 'E' },          /* an identifier with no letters */
		{ V, "f", "plate=---", 'F' },
		{ 0 },
	};
	const struct record *ptrs[MAX_RECS];
	struct record_set s;
	struct resolve_result *res = NULL;
	size_t n = load(&s, recs, ptrs);
	struct tcase c = { "odd", { { 0 } }, "" };

	(void)state;
	memcpy(c.recs, recs, sizeof(recs));
	assert_int_equal(resolve_records(NULL, 0, &res, NULL), 0);
	assert_int_equal(res->nentities, 0);
	resolve_free(res);
	resolve_free(NULL);
	assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
	check_partition(&c, res, n);
	assert_int_equal(res->npossible, 0);
	resolve_free(res);
	record_set_clear(&s);
}

/* ---- cost ---- */

/* 200 records as 60 sources might answer one search: a few persons told by
 * many sources in every format, decoys, vehicles, firearms, reports, alerts. */
static void make_search(struct record_set *s, const struct record **ptrs, size_t *n)
{
	static const char *const given[] = { "Jan", "JAN", "J.", "Jan", "jan" };
	static const char *const family[] = { "Peeters", "PEETERS", "Peters", "peeters", "Peeters" };
	static const char *const dates[] = { "1985-07-30", "30/07/1985", "30.07.1985", "19850730" };
	static char src[64][24];
	char buf[256];

	record_set_init(s);
	for (int i = 0; i < 64; i++)
		snprintf(src[i], sizeof(src[i]), "source%02d", i);
	for (int i = 0; *n < 200; i++) {
		struct trec t = { P, src[i % 60], buf, 'A' };

		switch (i % 8) {
		case 0: /* the person asked for, by national number */
			snprintf(buf, sizeof(buf),
				 "national_number=85.07.30-033.28;family_name=%s;given_name=%s;"
				 "birth_date=%s;address=Kerkstraat %d",
				 family[i % 5], given[i % 5], dates[i % 4], i % 3);
			break;
		case 1: /* the same person by name and birth date */
			snprintf(buf, sizeof(buf), "family_name=%s;given_name=%s;birth_date=%s",
				 family[i % 5], given[i % 5], dates[i % 4]);
			break;
		case 2: /* decoys: the same name, other birth dates */
			snprintf(buf, sizeof(buf), "family_name=Peeters;given_name=Jan;birth_date=19%02d-01-%02d",
				 50 + i % 40, 1 + i % 28);
			break;
		case 3: /* no birth date: possible matches */
			snprintf(buf, sizeof(buf), "family_name=%s;given_name=Jan", family[i % 5]);
			break;
		case 4:
			t.kind = V;
			snprintf(buf, sizeof(buf), "plate=1-ABC-%03d;make=Volvo;owner_national_number=85073003328",
				 i % 7);
			break;
		case 5:
			t.kind = F;
			snprintf(buf, sizeof(buf), "serial=G-%d;holder_national_number=85073003328", i % 5);
			break;
		case 6:
			t.kind = AL;
			snprintf(buf, sizeof(buf),
				 "category=gewapend en gevaarlijk;subject_name=Jan Peeters;"
				 "subject_birth_date=1985-07-30;plate=1ABC00%d", i % 7);
			break;
		default:
			t.kind = R;
			snprintf(buf, sizeof(buf), "reference=PV%d;involved_national_number=85073003328;"
				 "summary=Diefstal", i % 11);
			break;
		}
		add_record(s, &t);
		(*n)++;
	}
	for (size_t i = 0; i < *n; i++)
		ptrs[i] = &s->items[i];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_cost_of_200_records(void **state)
{
	const struct record *ptrs[200];
	struct record_set s;
	struct resolve_result *res = NULL;
	size_t n = 0, ent = 0;
	uint64_t t0, best = UINT64_MAX, total = 0;
	const int rounds = 50;

	(void)state;
	make_search(&s, ptrs, &n);
	assert_int_equal(n, 200);
	for (int r = 0; r < rounds; r++) {
		t0 = now_ns();
		assert_int_equal(resolve_records(ptrs, n, &res, NULL), 0);
		t0 = now_ns() - t0;
		total += t0;
		if (t0 < best)
			best = t0;
		ent = res->nentities;
		if (r + 1 < rounds)
			resolve_free(res);
	}
	/* the person asked for is one entity with every source that named them */
	assert_true(res->entities[res->entity_of[0]].nsrc > 10);
	assert_int_equal(res->entity_of[0], res->entity_of[1]);
	assert_true(res->npossible > 0);
	printf("resolve: 200 records -> %zu entities, %zu possible matches, %zu links, "
	       "%zu concerns: %llu ns per search (best), %llu ns mean\n",
	       ent, res->npossible, res->nlinks, res->nconcerns, (unsigned long long)best,
	       (unsigned long long)(total / rounds));
	resolve_free(res);
	record_set_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_possible_reasons),
		cmocka_unit_test(test_facts_and_conflicts),
		cmocka_unit_test(test_initial_is_no_conflict),
		cmocka_unit_test(test_related),
		cmocka_unit_test(test_alert_concerns),
		cmocka_unit_test(test_alert_ambiguous_name),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_name_key_agrees_with_names_match),
		cmocka_unit_test(test_empty_and_odd_input),
		cmocka_unit_test(test_cost_of_200_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
