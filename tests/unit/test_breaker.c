/*
 * test_breaker: the per-source circuit breaker (sources/breaker.h), driven
 * with explicit clock values so that no test sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sources/breaker.h"

#define MS 1000000ull
#define T0 (1000000 * MS) /* an arbitrary monotonic "now" */

static void fail_n(struct breaker *b, int n, uint64_t now)
{
	for (int i = 0; i < n; i++) {
		assert_true(breaker_allow(b, now));
		breaker_record(b, false, 3, 1000, now);
	}
}

static void test_opens_after_n_failures(void **state)
{
	struct breaker *b = breaker_get("open_after_n");

	(void)state;
	assert_non_null(b);
	assert_false(breaker_is_open(b));
	fail_n(b, 2, T0);
	assert_false(breaker_is_open(b));
	assert_true(breaker_allow(b, T0));
	breaker_record(b, false, 3, 1000, T0);
	assert_true(breaker_is_open(b));
	/* open: nobody is let through during the cooldown */
	assert_false(breaker_allow(b, T0));
	assert_false(breaker_allow(b, T0 + 999 * MS));
}

static void test_success_resets_count(void **state)
{
	struct breaker *b = breaker_get("reset_count");

	(void)state;
	fail_n(b, 2, T0);
	assert_true(breaker_allow(b, T0));
	breaker_record(b, true, 3, 1000, T0);
	/* failures must be consecutive */
	fail_n(b, 2, T0);
	assert_false(breaker_is_open(b));
	fail_n(b, 1, T0);
	assert_true(breaker_is_open(b));
}

static void test_half_open_single_probe(void **state)
{
	struct breaker *b = breaker_get("half_open");

	(void)state;
	fail_n(b, 3, T0);
	assert_true(breaker_is_open(b));
	/* after the cooldown exactly one probe goes out */
	assert_true(breaker_allow(b, T0 + 1000 * MS));
	assert_false(breaker_allow(b, T0 + 1000 * MS));
	assert_false(breaker_allow(b, T0 + 5000 * MS)); /* however long it takes */
	assert_true(breaker_is_open(b));
	/* its success closes the circuit for everyone */
	breaker_record(b, true, 3, 1000, T0 + 1100 * MS);
	assert_false(breaker_is_open(b));
	for (int i = 0; i < 5; i++)
		assert_true(breaker_allow(b, T0 + 1100 * MS));
	/* and the failure count starts again from zero */
	breaker_record(b, false, 3, 1000, T0 + 1200 * MS);
	breaker_record(b, false, 3, 1000, T0 + 1200 * MS);
	assert_false(breaker_is_open(b));
}

static void test_probe_failure_reopens(void **state)
{
	struct breaker *b = breaker_get("probe_fails");
	uint64_t t1 = T0 + 1500 * MS;

	(void)state;
	fail_n(b, 3, T0);
	assert_true(breaker_allow(b, t1));
	/* one failed probe is enough: no new count of 3 */
	breaker_record(b, false, 3, 1000, t1);
	assert_true(breaker_is_open(b));
	/* the cooldown restarts from the probe's failure */
	assert_false(breaker_allow(b, t1 + 1 * MS));
	assert_false(breaker_allow(b, t1 + 999 * MS));
	assert_true(breaker_allow(b, t1 + 1000 * MS));
	assert_false(breaker_allow(b, t1 + 1000 * MS));
	breaker_record(b, true, 3, 1000, t1 + 1001 * MS);
	assert_false(breaker_is_open(b));
}

struct seen {
	int a, c;
	bool a_open, c_open;
};

static void seen_cb(const char *name, bool open, void *arg)
{
	struct seen *s = arg;

	if (strcmp(name, "reg_a") == 0) {
		s->a++;
		s->a_open = open;
	} else if (strcmp(name, "reg_c") == 0) {
		s->c++;
		s->c_open = open;
	}
}

static void test_registry(void **state)
{
	struct breaker *a = breaker_get("reg_a"), *a2 = breaker_get("reg_a");
	struct breaker *c = breaker_get("reg_c");
	struct seen seen = { 0 };

	(void)state;
	assert_ptr_equal(a, a2);
	assert_ptr_not_equal(a, c);
	fail_n(c, 3, T0);
	breaker_foreach(seen_cb, &seen);
	assert_int_equal(seen.a, 1);
	assert_int_equal(seen.c, 1);
	assert_false(seen.a_open);
	assert_true(seen.c_open);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opens_after_n_failures),
		cmocka_unit_test(test_success_resets_count),
		cmocka_unit_test(test_half_open_single_probe),
		cmocka_unit_test(test_probe_failure_reopens),
		cmocka_unit_test(test_registry),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	breaker_shutdown();
	return rc;
}
