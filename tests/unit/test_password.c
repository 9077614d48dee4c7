/*
 * test_password: the password policy (length in characters 12..128, no
 * truncation, shipped common-password list, case-insensitive) and Argon2id
 * hashing at a cost that meets OWASP (auth/password.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/password.h"

/* out = unit repeated times (out sized by the caller) */
static void repeat(char *out, const char *unit, size_t times)
{
	size_t n = strlen(unit);

	for (size_t i = 0; i < times; i++)
		memcpy(out + i * n, unit, n);
	out[times * n] = '\0';
}

static void test_length_in_characters(void **state)
{
	char pw[1024];
	struct focal_err err;

	(void)state;
	repeat(pw, "k", 11);
	assert_int_equal(password_check_policy(pw, NULL, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "at least 12"));
	snprintf(pw, sizeof(pw), "Zq8!vLw3#pRt");
	assert_int_equal(password_check_policy(pw, NULL, &err), FOCAL_OK);
	/* 128 OK, 129 refused (not cut to 128) */
	repeat(pw, "Zq8!vLw3#pRt9sKu", 8);
	assert_int_equal(strlen(pw), 128);
	assert_int_equal(password_check_policy(pw, NULL, &err), FOCAL_OK);
	pw[128] = 'x';
	pw[129] = '\0';
	assert_int_equal(password_check_policy(pw, NULL, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "at most 128"));
	/* characters, not bytes: 12 two-byte letters pass, 11 do not */
	repeat(pw, "\xc3\xa9", 11);
	assert_int_equal(password_check_policy(pw, NULL, &err), FOCAL_E_INVAL);
	repeat(pw, "\xc3\xa9", 12);
	assert_int_equal(password_check_policy(pw, NULL, &err), FOCAL_OK);
	/* 128 four-byte characters: 512 bytes, allowed */
	repeat(pw, "\xf0\x9f\x9a\x93", 128);
	assert_int_equal(password_check_policy(pw, NULL, &err), FOCAL_OK);
}

static void test_bad_text_refused(void **state)
{
	struct focal_err err;

	(void)state;
	assert_int_equal(password_check_policy("valid start \xff\xfe end", NULL, &err),
			 FOCAL_E_INVAL);
	assert_int_equal(password_check_policy("tab\there is bad", NULL, &err), FOCAL_E_INVAL);
	assert_int_equal(password_check_policy("jpeeters.antwerp", "JPEETERS.antwerp", &err),
			 FOCAL_E_INVAL);
}

static void test_common_passwords_refused_any_case(void **state)
{
	struct focal_err err;

	(void)state;
	assert_true(password_common_count > 1000);
	assert_true(password_is_common("password1234"));
	assert_true(password_is_common("PassWord1234"));
	assert_true(password_is_common("qwertyuiop123"));
	assert_int_equal(password_check_policy("Password1234", NULL, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "common"));
	assert_false(password_is_common("violet tractor umbrella 73"));
	/* the list is sorted (bsearch relies on it) */
	for (size_t i = 1; i < password_common_count; i++)
		assert_true(strcmp(password_common_list[i - 1], password_common_list[i]) < 0);
}

static void test_owasp_minimum_enforced(void **state)
{
	struct password_params p = { 8192, 2 };
	struct focal_err err;

	(void)state;
	assert_false(password_params_ok(8192, 2));
	assert_false(password_params_ok(19455, 2));
	assert_true(password_params_ok(19456, 2));
	assert_true(password_params_ok(47104, 1));
	assert_true(password_params_ok(65536, 3));
	assert_int_equal(password_set_params(&p, &err), FOCAL_E_CONFIG);
}

static void test_hash_verify_no_truncation(void **state)
{
	struct password_params p = { 19456, 2 };
	char pw[128], other[128], hash[PASSWORD_HASH_MAX];
	struct focal_err err;

	(void)state;
	assert_int_equal(password_set_params(&p, &err), FOCAL_OK);
	for (size_t i = 0; i < 100; i++)
		pw[i] = (char)('a' + (i * 7) % 26);
	pw[100] = '\0';
	memcpy(other, pw, sizeof(other));
	other[99] = pw[99] == 'z' ? 'y' : 'z'; /* differs only in the 100th character */
	assert_int_equal(password_hash(pw, hash, &err), FOCAL_OK);
	assert_non_null(strstr(hash, "$argon2id$"));
	assert_non_null(strstr(hash, "m=19456,t=2"));
	assert_true(password_verify(hash, pw));
	assert_false(password_verify(hash, other));
	assert_false(password_verify(NULL, pw)); /* unknown user: dummy hash, false */
	assert_false(password_verify("", pw));
	assert_false(password_needs_rehash(hash));
	p.memory_kib = 47104;
	p.ops = 1;
	assert_int_equal(password_set_params(&p, &err), FOCAL_OK);
	assert_true(password_needs_rehash(hash));
	assert_true(password_verify(hash, pw)); /* old hashes still verify */
	assert_int_equal(password_hash("short", hash, &err), FOCAL_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length_in_characters),
		cmocka_unit_test(test_bad_text_refused),
		cmocka_unit_test(test_common_passwords_refused_any_case),
		cmocka_unit_test(test_owasp_minimum_enforced),
		cmocka_unit_test(test_hash_verify_no_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
