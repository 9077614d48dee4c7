/*
 * test_template: query templates (sources/template.h).  SQL templates become
 * prepared statements with positional placeholders; URL and LDAP values are
 * escaped so that a value can only ever be data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sources/template.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_sql_compile(void **state)
{
	static const struct {
		const char *text;
		const char *sqlite;
		const char *pg;
		size_t nparams;
		int order[3];
	} table[] = {
		{ "SELECT * FROM t WHERE a = :family_name AND b = :given_name OR c = :family_name",
		  "SELECT * FROM t WHERE a = ?1 AND b = ?2 OR c = ?1",
		  "SELECT * FROM t WHERE a = $1 AND b = $2 OR c = $1", 2,
		  { QP_FAMILY_NAME, QP_GIVEN_NAME } },
		/* '::' is a PostgreSQL cast, not a parameter */
		{ "SELECT birth::text FROM t WHERE p = :plate::text",
		  "SELECT birth::text FROM t WHERE p = ?1::text",
		  "SELECT birth::text FROM t WHERE p = $1::text", 1, { QP_PLATE } },
		/* quoted text and comments are left alone */
		{ "SELECT ':family_name', \"a:given_name\" FROM t -- :city\nWHERE /* :street */ x = :serial",
		  "SELECT ':family_name', \"a:given_name\" FROM t -- :city\nWHERE /* :street */ x = ?1",
		  "SELECT ':family_name', \"a:given_name\" FROM t -- :city\nWHERE /* :street */ x = $1",
		  1, { QP_SERIAL } },
		/* a doubled quote stays inside the string */
		{ "SELECT 'it''s :plate' WHERE n = :national_number AND c = :city",
		  "SELECT 'it''s :plate' WHERE n = ?1 AND c = ?2",
		  "SELECT 'it''s :plate' WHERE n = $1 AND c = $2", 2,
		  { QP_NATIONAL_NUMBER, QP_CITY } },
		/* a parameter at the very start and end, adjacent text */
		{ ":phone||:text", "?1||?2", "$1||$2", 2, { QP_PHONE, QP_TEXT } },
		{ "SELECT 1", "SELECT 1", "SELECT 1", 0, { 0 } },
		/* ':' not followed by a name start is literal */
		{ "SELECT '1' || ':' || :city WHERE x = :1", "SELECT '1' || ':' || ?1 WHERE x = :1",
		  "SELECT '1' || ':' || $1 WHERE x = :1", 1, { QP_CITY } },
	};
	struct template t;
	struct focal_err err;
	char *sql;
	int *order;
	size_t n;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		if (template_compile(table[i].text, TEMPLATE_SQL, &t, &err) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(template_sql(&t, TEMPLATE_DIALECT_SQLITE, &sql, &order, &n, &err), 0);
		assert_string_equal(sql, table[i].sqlite);
		assert_int_equal(n, table[i].nparams);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(order[j], table[i].order[j]);
		free(sql);
		free(order);
		assert_int_equal(template_sql(&t, TEMPLATE_DIALECT_PG, &sql, &order, &n, &err), 0);
		assert_string_equal(sql, table[i].pg);
		assert_int_equal(n, table[i].nparams);
		free(sql);
		free(order);
		template_free(&t);
	}
}

static void test_params_used(void **state)
{
	struct template t;
	struct focal_err err;

	(void)state;
	assert_int_equal(template_compile("WHERE a = :plate OR b = :plate AND c = :city",
					  TEMPLATE_SQL, &t, &err), 0);
	assert_int_equal(t.params_used, (1u << QP_PLATE) | (1u << QP_CITY));
	template_free(&t);
	template_free(&t); /* idempotent */
	template_free(NULL);
}

static void test_compile_errors(void **state)
{
	static const struct {
		enum template_style style;
		const char *text;
		const char *msg; /* substring of the message */
	} table[] = {
		{ TEMPLATE_SQL, "SELECT * FROM t WHERE a = :nam", "unknown parameter 'nam' at column 27; known: family_name, given_name" },
		{ TEMPLATE_SQL, "SELECT * FROM t WHERE a = :family_namex", "unknown parameter 'family_namex' at column 27" },
		{ TEMPLATE_SQL, "SELECT * FROM t WHERE a = ?", "positional placeholder '?' at column 27" },
		{ TEMPLATE_SQL, "SELECT * FROM t WHERE a = $1", "positional placeholder '$' at column 27" },
		{ TEMPLATE_SQL, "SELECT 'x' WHERE b = ?2", "positional placeholder '?' at column 22" },
		{ TEMPLATE_BRACE, "http://h/v?p={plate", "unterminated parameter at column 14" },
		{ TEMPLATE_BRACE, "http://h/v?p={pla te}", "unterminated parameter at column 14" },
		{ TEMPLATE_BRACE, "http://h/v?p=plate}", "unmatched '}' at column 19" },
		{ TEMPLATE_BRACE, "(sn={surname})", "unknown parameter 'surname' at column 5" },
		{ TEMPLATE_BRACE, "(sn={})", "bad parameter name at column 5" },
	};
	struct template t;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(template_compile(table[i].text, table[i].style, &t, &err),
				 FOCAL_E_CONFIG);
		if (strstr(err.msg, table[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, table[i].msg);
		template_free(&t);
	}
}

static void test_brace_render(void **state)
{
	static const struct {
		const char *text;
		const char *plate; /* value of {plate}, NULL = absent */
		const char *want;
	} table[] = {
		{ "http://127.0.0.1:9000/v1/vehicles?plate={plate}", "1ABC123",
		  "http://127.0.0.1:9000/v1/vehicles?plate=1ABC123" },
		{ "{{\"plate\": \"{plate}\"}}", "1ABC123", "{\"plate\": \"1ABC123\"}" },
		{ "a{{b}}c{plate}", "X", "a{b}cX" },
		{ "{plate}{plate}", "A B", "A%20BA%20B" },
		{ "http://h/v?plate={plate}&x=1", NULL, "http://h/v?plate=&x=1" },
		{ "no params", "X", "no params" },
	};
	struct template t;
	struct query q;
	struct focal_err err;
	char *out;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		memset(&q, 0, sizeof(q));
		q.kind = QUERY_PLATE;
		q.param[QP_PLATE] = (char *)table[i].plate;
		if (template_compile(table[i].text, TEMPLATE_BRACE, &t, &err) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(template_render_url(&t, &q, &out, &err), 0);
		assert_string_equal(out, table[i].want);
		free(out);
		template_free(&t);
	}
}

static void test_pct_encode(void **state)
{
	static const struct {
		const char *in, *out;
	} table[] = {
		{ "", "" },
		{ "AZaz09-._~", "AZaz09-._~" },
		{ " ", "%20" },
		{ "/", "%2F" },
		{ "?", "%3F" },
		{ "&", "%26" },
		{ "=", "%3D" },
		{ "#", "%23" },
		{ "%", "%25" },
		{ "+", "%2B" },
		{ ":@!$'()*,;", "%3A%40%21%24%27%28%29%2A%2C%3B" },
		{ "\x01\x7f", "%01%7F" },
		{ "Jos\xc3\xa9", "Jos%C3%A9" },            /* é */
		{ "\xe2\x82\xac", "%E2%82%AC" },            /* € */
		{ "../../x?y=z&a=", "..%2F..%2Fx%3Fy%3Dz%26a%3D" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		s = template_pct_encode(table[i].in);
		assert_non_null(s);
		assert_string_equal(s, table[i].out);
		free(s);
	}
}

static void test_ldap_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} table[] = {
		{ "", "" },
		{ "Peeters", "Peeters" },
		{ "*", "\\2a" },
		{ "(", "\\28" },
		{ ")", "\\29" },
		{ "\\", "\\5c" },
		{ "a\x01z", "a\\01z" },
		{ "Jos\xc3\xa9", "Jos\xc3\xa9" }, /* UTF-8 is valid in a filter value */
		{ "*)(uid=*))(|(uid=*", "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		s = template_ldap_escape(table[i].in);
		assert_non_null(s);
		assert_string_equal(s, table[i].out);
		free(s);
	}
}

static void test_ldap_render_injection(void **state)
{
	struct template t;
	struct query q;
	struct focal_err err;
	char *out;
	int depth = 0;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.param[QP_FAMILY_NAME] = "*)(uid=*))(|(uid=*";
	assert_int_equal(template_compile("(&(objectClass=person)(sn={family_name}))",
					  TEMPLATE_BRACE, &t, &err), 0);
	assert_int_equal(template_render_ldap(&t, &q, &out, &err), 0);
	assert_string_equal(out, "(&(objectClass=person)(sn=\\2a\\29\\28uid=\\2a\\29\\29\\28|"
				 "\\28uid=\\2a))");
	/* the filter's structure is the template's: parentheses balance and no
	 * '*' wildcard came from the value */
	for (const char *p = out; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		assert_true(depth >= 0);
		assert_int_not_equal(*p, '*');
	}
	assert_int_equal(depth, 0);
	free(out);
	template_free(&t);
}

static void test_url_render_injection(void **state)
{
	struct template t;
	struct query q;
	struct focal_err err;
	char *out;
	const char *qm;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.kind = QUERY_PLATE;
	q.param[QP_PLATE] = "../../x?y=z&a=";
	q.param[QP_CITY] = "Bruxelles / Brussel";
	assert_int_equal(template_compile("http://127.0.0.1:9000/v1/vehicles/{plate}?fmt=json&c={city}",
					  TEMPLATE_BRACE, &t, &err), 0);
	assert_int_equal(template_render_url(&t, &q, &out, &err), 0);
	assert_string_equal(out, "http://127.0.0.1:9000/v1/vehicles/..%2F..%2Fx%3Fy%3Dz%26a%3D"
				 "?fmt=json&c=Bruxelles%20%2F%20Brussel");
	qm = strchr(out, '?');
	assert_non_null(qm);
	assert_null(strchr(qm + 1, '?'));
	/* the path keeps exactly its template segments */
	{
		int slashes = 0;

		for (const char *p = out; p < qm; p++)
			slashes += *p == '/';
		assert_int_equal(slashes, 5);
	}
	/* only the template's own '&' separates the query */
	{
		int amps = 0;

		for (const char *p = qm; *p != '\0'; p++)
			amps += *p == '&';
		assert_int_equal(amps, 1);
	}
	free(out);
	template_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_compile),
		cmocka_unit_test(test_params_used),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_brace_render),
		cmocka_unit_test(test_pct_encode),
		cmocka_unit_test(test_ldap_escape),
		cmocka_unit_test(test_ldap_render_injection),
		cmocka_unit_test(test_url_render_injection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
