/*
 * test_err: the error convention (core/err.h) — messages, prefixes, NULL
 * error pointers and the stable names used in logs and JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"

static void test_set_formats_and_returns_code(void **state)
{
	struct focal_err err;

	(void)state;
	focal_err_clear(&err);
	assert_int_equal(focal_err_set(&err, FOCAL_E_INVAL, "bad %s at %d", "plate", 7),
			 FOCAL_E_INVAL);
	assert_int_equal(err.code, FOCAL_E_INVAL);
	assert_string_equal(err.msg, "bad plate at 7");
}

static void test_set_truncates_long_message(void **state)
{
	struct focal_err err;
	char big[FOCAL_ERR_MSG_MAX * 2];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	focal_err_set(&err, FOCAL_E_LIMIT, "%s", big);
	assert_int_equal(strlen(err.msg), FOCAL_ERR_MSG_MAX - 1);
	assert_int_equal(err.code, FOCAL_E_LIMIT);
}

static void test_prefix_prepends_context(void **state)
{
	struct focal_err err;

	(void)state;
	focal_err_set(&err, FOCAL_E_SOURCE, "connection refused");
	assert_int_equal(focal_err_prefix(&err, "source %s", "vehicles"), FOCAL_E_SOURCE);
	assert_string_equal(err.msg, "source vehicles: connection refused");
	focal_err_prefix(&err, "search");
	assert_string_equal(err.msg, "search: source vehicles: connection refused");
	assert_int_equal(err.code, FOCAL_E_SOURCE);
}

static void test_prefix_truncates_safely(void **state)
{
	struct focal_err err;
	char big[FOCAL_ERR_MSG_MAX];

	(void)state;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	focal_err_set(&err, FOCAL_E_IO, "%s", big);
	focal_err_prefix(&err, "ctx");
	assert_int_equal(strlen(err.msg), FOCAL_ERR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "ctx: yyy", 8);
}

static void test_clear(void **state)
{
	struct focal_err err;

	(void)state;
	focal_err_set(&err, FOCAL_E_TLS, "handshake");
	focal_err_clear(&err);
	assert_int_equal(err.code, FOCAL_OK);
	assert_string_equal(err.msg, "");
}

static void test_null_err_is_allowed(void **state)
{
	(void)state;
	/* the code still travels back when nobody wants the message */
	assert_int_equal(focal_err_set(NULL, FOCAL_E_TIMEOUT, "late %d", 1), FOCAL_E_TIMEOUT);
	assert_int_equal(focal_err_prefix(NULL, "x"), 0);
	focal_err_clear(NULL);
}

static void test_rc_names(void **state)
{
	static const struct {
		int code;
		const char *name;
	} table[] = {
		{ FOCAL_OK, "ok" },
		{ FOCAL_E_NOMEM, "nomem" },
		{ FOCAL_E_INVAL, "invalid" },
		{ FOCAL_E_IO, "io" },
		{ FOCAL_E_CONFIG, "config" },
		{ FOCAL_E_TIMEOUT, "timeout" },
		{ FOCAL_E_SOURCE, "source" },
		{ FOCAL_E_LIMIT, "limit" },
		{ FOCAL_E_TLS, "tls" },
		{ FOCAL_E_INTERNAL, "internal" },
		{ FOCAL_E_DENIED, "denied" },
		{ FOCAL_E_UNAVAIL, "unavailable" },
		{ -12, "unknown" },
		{ 1, "unknown" },
		{ -1000, "unknown" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_string_equal(focal_rc_name(table[i].code), table[i].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_formats_and_returns_code),
		cmocka_unit_test(test_set_truncates_long_message),
		cmocka_unit_test(test_prefix_prepends_context),
		cmocka_unit_test(test_prefix_truncates_safely),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_null_err_is_allowed),
		cmocka_unit_test(test_rc_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
