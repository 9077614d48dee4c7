/*
 * test_query: reading an officer's request (search/query.h): identifier
 * formats, names with birth dates, explicit fields, and the errors a client
 * gets for a bad request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "search/query.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a JSON text (which must be valid JSON) as a request. */
static int req(const char *json, struct query_request **out, struct focal_err *err)
{
	json_error_t jerr;
	json_t *body = json_loads(json, JSON_ALLOW_NUL, &jerr);
	int rc;

	if (body == NULL)
		fail_msg("bad test JSON %s: %s", json, jerr.text);
	rc = query_request_from_json(body, out, err);
	json_decref(body);
	return rc;
}

static void test_names(void **state)
{
	enum query_kind k;
	enum query_param p;

	(void)state;
	for (int i = 0; i < QUERY__COUNT; i++) {
		assert_int_equal(query_kind_parse(query_kind_name((enum query_kind)i), &k), 0);
		assert_int_equal(k, i);
	}
	for (int i = 0; i < QP__COUNT; i++) {
		assert_int_equal(query_param_parse(query_param_name((enum query_param)i), &p), 0);
		assert_int_equal(p, i);
	}
	assert_string_equal(query_kind_name(QUERY_NATIONAL_NUMBER), "national_number");
	assert_string_equal(query_param_name(QP_BIRTH_DATE), "birth_date");
	assert_string_equal(query_kind_name(QUERY__COUNT), "unknown");
	assert_int_equal(query_kind_parse("vehicle", &k), FOCAL_E_INVAL);
	assert_int_equal(query_param_parse("surname", &p), FOCAL_E_INVAL);
}

/* Free text → first interpretation's kind and one parameter. */
static void test_identifiers(void **state)
{
	static const struct {
		const char *q;
		enum query_kind kind;
		enum query_param param;
		const char *value;
		size_t ninterp;
	} table[] = {
		{ "81.03.12-123.75", QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "81031212375", 1 },
		{ "81031212375", QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "81031212375", 1 },
		{ "81 03 12 123 75", QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "81031212375", 1 },
		/* born in 2001: the check uses 2 followed by the nine digits */
		{ "01.02.03-456.03", QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "01020345603", 1 },
		/* 2009, check digits 97 (97 - 0) */
		{ "09.01.01-001.97", QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "09010100197", 1 },
		{ "1-ABC-123", QUERY_PLATE, QP_PLATE, "1ABC123", 2 },
		{ "1abc123", QUERY_PLATE, QP_PLATE, "1ABC123", 2 },
		/* any separators: a plate, and a serial number as well */
		{ "1 abc 123", QUERY_PLATE, QP_PLATE, "1ABC123", 2 },
		{ "ABC-123", QUERY_PLATE, QP_PLATE, "ABC123", 2 },
		{ "123-abc", QUERY_PLATE, QP_PLATE, "123ABC", 2 },
		{ "+32 470 12 34 56", QUERY_PHONE, QP_PHONE, "+32470123456", 1 },
		{ "+32470123456", QUERY_PHONE, QP_PHONE, "+32470123456", 1 },
		{ "+31-20-555-0100", QUERY_PHONE, QP_PHONE, "+31205550100", 1 },
		{ "AB12345X", QUERY_SERIAL, QP_SERIAL, "AB12345X", 1 },
		{ "glock-xk-1234", QUERY_SERIAL, QP_SERIAL, "GLOCKXK1234", 1 },
	};
	struct query_request *r;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		memset(&err, 0, sizeof(err));
		if (query_request_from_text(table[i].q, &r, &err) != 0)
			fail_msg("\"%s\": %s", table[i].q, err.msg);
		if (r->ninterp != table[i].ninterp || r->interp[0].kind != table[i].kind)
			fail_msg("\"%s\": %zu interpretations, first %s", table[i].q, r->ninterp,
				 query_kind_name(r->interp[0].kind));
		assert_non_null(r->interp[0].param[table[i].param]);
		assert_string_equal(r->interp[0].param[table[i].param], table[i].value);
		/* the text as typed travels along for every interpretation */
		for (size_t j = 0; j < r->ninterp; j++)
			assert_string_equal(r->interp[j].param[QP_TEXT], table[i].q);
		assert_non_null(r->interp[0].read_as);
		assert_null(r->interp[0].param[QP_FAMILY_NAME]);
		query_request_free(r);
	}
}

static void test_plate_also_serial(void **state)
{
	struct query_request *r;
	struct focal_err err;

	(void)state;
	assert_int_equal(query_request_from_text("1-ABC-123", &r, &err), 0);
	assert_int_equal(r->ninterp, 2);
	assert_int_equal(r->interp[1].kind, QUERY_SERIAL);
	assert_string_equal(r->interp[1].param[QP_SERIAL], "1ABC123");
	query_request_free(r);
}

static void test_national_number_checksum(void **state)
{
	static const char *const bad[] = {
		"81.03.12-123.76",  /* off by one */
		"01.02.03-456.04",  /* 2001 birth, off by one */
		"00000000000",      /* 97 - (n mod 97) is never 00 */
	};
	struct query_request *r;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		r = (struct query_request *)(uintptr_t)1;
		assert_int_equal(query_request_from_text(bad[i], &r, &err), FOCAL_E_INVAL);
		assert_null(r);
		if (strstr(err.msg, "check digits") == NULL || strstr(err.msg, bad[i]) == NULL)
			fail_msg("\"%s\": %s", bad[i], err.msg);
	}
}

static void test_person(void **state)
{
	static const struct {
		const char *q;
		const char *family, *given, *birth_date, *birth_year;
	} table[] = {
		{ "Jan Peeters 12/03/1981", "Peeters", "Jan", "1981-03-12", NULL },
		{ "Peeters 3-5-81", "Peeters", NULL, "1981-05-03", NULL },
		{ "Peeters 5-3-09", "Peeters", NULL, "2009-03-05", NULL },
		{ "Marie Claire Dubois 1981-03-12", "Dubois", "Marie Claire", "1981-03-12", NULL },
		{ "Dubois 12.03.1981", "Dubois", NULL, "1981-03-12", NULL },
		{ "Jan Peeters 1981", "Peeters", "Jan", NULL, "1981" },
		{ "Peeters", "Peeters", NULL, NULL, NULL },
		/* (month 13 is an error now: see test_errors) */
	};
	struct query_request *r;
	struct focal_err err;
	const struct query *q;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		if (query_request_from_text(table[i].q, &r, &err) != 0)
			fail_msg("\"%s\": %s", table[i].q, err.msg);
		assert_int_equal(r->ninterp, 1);
		q = &r->interp[0];
		assert_int_equal(q->kind, QUERY_PERSON);
#define CHECK(p, want)                                                                       \
	do {                                                                                 \
		if ((want) == NULL)                                                          \
			assert_null(q->param[p]);                                            \
		else if (q->param[p] == NULL || strcmp(q->param[p], (want)) != 0)            \
			fail_msg("\"%s\": %s = %s, want %s", table[i].q, query_param_name(p), \
				 q->param[p] ? q->param[p] : "(none)", (want));              \
	} while (0)
		CHECK(QP_FAMILY_NAME, table[i].family);
		CHECK(QP_GIVEN_NAME, table[i].given);
		CHECK(QP_BIRTH_DATE, table[i].birth_date);
		CHECK(QP_BIRTH_YEAR, table[i].birth_year);
#undef CHECK
		assert_non_null(strstr(q->read_as, table[i].family));
		query_request_free(r);
	}
}

static void test_explicit_fields(void **state)
{
	static const struct {
		const char *json;
		enum query_kind kind;
		enum query_param param;
		const char *value;
	} table[] = {
		{ "{\"fields\": {\"family_name\": \"Peeters\", \"birth_date\": \"1981-03-12\"}}",
		  QUERY_PERSON, QP_BIRTH_DATE, "1981-03-12" },
		{ "{\"fields\": {\"plate\": \"1ABC123\"}}", QUERY_PLATE, QP_PLATE, "1ABC123" },
		{ "{\"fields\": {\"family_name\": \"X\", \"national_number\": \"81031212375\"}}",
		  QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "81031212375" },
		{ "{\"fields\": {\"street\": \"Wetstraat\", \"number\": \"16\", \"city\": \"Brussel\"}}",
		  QUERY_ADDRESS, QP_CITY, "Brussel" },
		{ "{\"fields\": {\"family_name\": \"Peeters\", \"street\": \"Wetstraat\"}, "
		  "\"kind\": \"address\"}", QUERY_ADDRESS, QP_STREET, "Wetstraat" },
		{ "{\"fields\": {\"serial\": \"AB123\"}, \"purpose\": \"control\", "
		  "\"case_ref\": \"PV 123/2026\"}", QUERY_SERIAL, QP_SERIAL, "AB123" },
	};
	struct query_request *r;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		if (req(table[i].json, &r, &err) != 0)
			fail_msg("%s: %s", table[i].json, err.msg);
		assert_int_equal(r->ninterp, 1);
		assert_int_equal(r->interp[0].kind, table[i].kind);
		assert_string_equal(r->interp[0].param[table[i].param], table[i].value);
		assert_string_equal(r->interp[0].read_as, "explicit fields");
		query_request_free(r);
	}
	/* identifiers and dates in fields take their canonical forms */
	assert_int_equal(req("{\"fields\": {\"national_number\": \"85.07.30-033.28\", "
			     "\"plate\": \"1-abc-123\", \"phone\": \"0470 12 34 56\", "
			     "\"birth_date\": \"30/07/1985\", \"family_name\": \"Dubois-Lambert\", "
			     "\"given_name\": \"\u00c9milie\"}}", &r, &err), 0);
	assert_string_equal(r->interp[0].param[QP_NATIONAL_NUMBER], "85073003328");
	assert_string_equal(r->interp[0].param[QP_PLATE], "1-abc-123"); /* as given */
	assert_string_equal(r->interp[0].param[QP_PHONE], "+32470123456");
	assert_string_equal(r->interp[0].param[QP_PHONE_NATIONAL], "0470123456");
	assert_string_equal(r->interp[0].param[QP_BIRTH_DATE], "1985-07-30");
	assert_string_equal(r->interp[0].param[QP_FAMILY_NAME], "Dubois-Lambert");
	assert_string_equal(r->interp[0].param[QP_FAMILY_KEY], "dubois lambert");
	assert_string_equal(r->interp[0].param[QP_GIVEN_KEY], "emilie");
	query_request_free(r);
	assert_int_equal(req("{\"fields\": {\"serial\": \"AB123\"}, \"purpose\": \"control\", "
			     "\"case_ref\": \"PV 1\"}", &r, &err), 0);
	assert_string_equal(r->purpose, "control");
	assert_string_equal(r->case_ref, "PV 1");
	assert_null(r->text);
	query_request_free(r);
}

static void test_errors(void **state)
{
	static const struct {
		const char *json;
		const char *msg; /* substring */
	} table[] = {
		{ "[]", "must be a JSON object" },
		{ "{}", "nothing to search" },
		{ "{\"query\": \"x\"}", "unknown member \"query\"" },
		{ "{\"q\": \"x\", \"extra\": 1}", "unknown member \"extra\"" },
		{ "{\"q\": \"\"}", "\"q\" must be text of 1 to 256 characters" },
		{ "{\"q\": 5}", "\"q\" must be text" },
		{ "{\"q\": \"Jan\\nPeeters\"}", "without control characters" },
		{ "{\"q\": \"Jan\\u0000Peeters\"}", "without control characters" },
		{ "{\"fields\": {\"family_name\": \"Jan\\u0000X\"}}", "field \"family_name\" must be text" },
		{ "{\"q\": \"x\", \"purpose\": \"a\\tb\"}", "\"purpose\" must be text" },
		/* "records" is a JSON boolean: text, numbers and null are refused */
		{ "{\"q\": \"x\", \"records\": \"yes\"}", "\"records\" must be true or false" },
		{ "{\"q\": \"x\", \"records\": 1}", "\"records\" must be true or false" },
		{ "{\"q\": \"x\", \"records\": null}", "\"records\" must be true or false" },
		{ "{\"fields\": {}}", "\"fields\" must be a non-empty object" },
		{ "{\"fields\": [\"x\"]}", "\"fields\" must be a non-empty object" },
		{ "{\"fields\": {\"surname\": \"x\"}}", "unknown field \"surname\"" },
		{ "{\"fields\": {\"text\": \"x\"}}", "unknown field \"text\"" },
		{ "{\"fields\": {\"family_name\": 3}}", "field \"family_name\" must be text" },
		{ "{\"fields\": {\"family_name\": \"\"}}", "field \"family_name\" must be text" },
		{ "{\"fields\": {\"family_name\": \"a\\u0001\"}}", "field \"family_name\" must be text" },
		{ "{\"fields\": {\"family_name\": \"X\"}, \"kind\": \"vehicle\"}", "\"kind\" must be one of" },
		{ "{\"q\": \"1984\"}", "could not read \"1984\"" },
		{ "{\"q\": \"Peeters 12/13/1981\"}", "there is no month 13" },
		{ "{\"q\": \"Jan Peeters\", \"kind\": \"vehicle\"}", "\"kind\" must be one of" },
		{ "{\"q\": \"Jan Peeters\", \"kind\": \"plate\"}",
		  "\"Jan Peeters\" cannot be read as a plate query" },
		/* explicit fields: identifiers and dates are checked */
		{ "{\"fields\": {\"national_number\": \"81.03.12-123.76\"}}",
		  "field \"national_number\": \"81.03.12-123.76\" looks like a national register "
		  "number but its check digits 76" },
		{ "{\"fields\": {\"birth_date\": \"31/02/1981\"}, \"kind\": \"person\"}",
		  "field \"birth_date\": \"31/02/1981\" is not a date" },
		{ "{\"fields\": {\"phone\": \"12345\"}}", "field \"phone\": \"12345\" is not a phone" },
		/* derived parameters are Focal's */
		{ "{\"fields\": {\"family_key\": \"x\"}}", "unknown field \"family_key\"" },
		{ "{\"fields\": {\"phone_national\": \"0470\"}}", "unknown field \"phone_national\"" },
	};
	struct query_request *r;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		memset(&err, 0, sizeof(err));
		r = (struct query_request *)(uintptr_t)1;
		if (req(table[i].json, &r, &err) != FOCAL_E_INVAL)
			fail_msg("%s: accepted", table[i].json);
		assert_null(r);
		if (strstr(err.msg, table[i].msg) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", table[i].json, err.msg, table[i].msg);
	}
}

static void test_length_limits(void **state)
{
	char q[QUERY_TEXT_MAX + 2];
	char field[QUERY_FIELD_MAX + 2];
	json_t *body;
	struct query_request *r;
	struct focal_err err;

	(void)state;
	memset(q, 'a', sizeof(q));
	q[QUERY_TEXT_MAX] = '\0'; /* exactly the limit: accepted */
	assert_int_equal(query_request_from_text(q, &r, &err), 0);
	assert_string_equal(r->text, q);
	query_request_free(r);
	q[QUERY_TEXT_MAX] = 'a';
	q[QUERY_TEXT_MAX + 1] = '\0'; /* one more */
	assert_int_equal(query_request_from_text(q, &r, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "\"q\""));

	memset(field, 'b', sizeof(field));
	field[QUERY_FIELD_MAX + 1] = '\0';
	body = json_pack("{s:{s:s}}", "fields", "family_name", field);
	assert_int_equal(query_request_from_json(body, &r, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "family_name"));
	json_decref(body);
	field[QUERY_FIELD_MAX] = '\0';
	body = json_pack("{s:{s:s}}", "fields", "family_name", field);
	assert_int_equal(query_request_from_json(body, &r, &err), 0);
	query_request_free(r);
	json_decref(body);
	query_request_free(NULL);
}

static void test_request_json(void **state)
{
	struct query_request *r;
	struct focal_err err;
	json_t *j, *interp, *params;

	(void)state;
	assert_int_equal(query_request_from_text("Jan Peeters 12/03/1981", &r, &err), 0);
	j = query_request_json(r);
	assert_string_equal(json_string_value(json_object_get(j, "text")), "Jan Peeters 12/03/1981");
	interp = json_array_get(json_object_get(j, "interpretations"), 0);
	assert_string_equal(json_string_value(json_object_get(interp, "kind")), "person");
	params = json_object_get(interp, "params");
	assert_string_equal(json_string_value(json_object_get(params, "birth_date")), "1981-03-12");
	assert_string_equal(json_string_value(json_object_get(params, "family_name")), "Peeters");
	assert_string_equal(json_string_value(json_object_get(params, "family_key")), "peeters");
	assert_non_null(strstr(json_string_value(json_object_get(interp, "read_as")), "Jan"));
	/* the raw text is not repeated as a parameter */
	assert_null(json_object_get(params, "text"));
	json_decref(j);
	query_request_free(r);

	/* both orders: two interpretations in the answer */
	assert_int_equal(query_request_from_text("Qwerty Zyxw", &r, &err), 0);
	j = query_request_json(r);
	assert_int_equal(json_array_size(json_object_get(j, "interpretations")), 2);
	json_decref(j);
	query_request_free(r);
}

/* "records" (the briefing's records array) is off unless asked for, and
 * not repeated in the interpretations the briefing and the audit log show. */
static void test_records_member(void **state)
{
	static const struct {
		const char *json;
		bool with_records;
	} table[] = {
		{ "{\"q\": \"Peeters\"}", false },
		{ "{\"q\": \"Peeters\", \"records\": false}", false },
		{ "{\"q\": \"Peeters\", \"records\": true}", true },
		{ "{\"fields\": {\"family_name\": \"Peeters\"}, \"records\": true}", true },
	};
	struct query_request *r;
	struct focal_err err;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		if (req(table[i].json, &r, &err) != FOCAL_OK)
			fail_msg("%s: %s", table[i].json, err.msg);
		if (r->with_records != table[i].with_records)
			fail_msg("%s: with_records %d", table[i].json, r->with_records);
		j = query_request_json(r);
		assert_null(json_object_get(j, "records"));
		json_decref(j);
		query_request_free(r);
	}
}

/* Free text with a kind keeps only the readings of that kind. */
static void test_text_with_kind(void **state)
{
	struct query_request *r;
	struct focal_err err;

	(void)state;
	assert_int_equal(req("{\"q\": \"1-ABC-123\", \"kind\": \"serial\"}", &r, &err), 0);
	assert_int_equal(r->ninterp, 1);
	assert_int_equal(r->interp[0].kind, QUERY_SERIAL);
	assert_string_equal(r->interp[0].param[QP_SERIAL], "1ABC123");
	assert_string_equal(r->interp[0].param[QP_TEXT], "1-ABC-123");
	query_request_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_identifiers),
		cmocka_unit_test(test_plate_also_serial),
		cmocka_unit_test(test_national_number_checksum),
		cmocka_unit_test(test_person),
		cmocka_unit_test(test_explicit_fields),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_request_json),
		cmocka_unit_test(test_text_with_kind),
		cmocka_unit_test(test_records_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
