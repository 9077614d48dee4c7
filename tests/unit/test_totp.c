/*
 * test_totp: RFC 6238 codes (the RFC's SHA-1 vectors), the ±1 step window,
 * refusal of expired and replayed codes, otpauth URIs, QR codes (PNG data
 * URI and terminal), recovery codes (auth/totp.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdlib.h>

#include "auth/totp.h"

/* RFC 6238 appendix B: the SHA-1 key, 8-digit codes; we use the last 6 */
static const unsigned char rfc_key[] = "12345678901234567890";

static void test_rfc6238_vectors(void **state)
{
	static const struct {
		int64_t t;
		const char *code;
	} v[] = {
		{ 59, "287082" },         { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" }, { 20000000000, "353130" },
	};
	char code[TOTP_DIGITS + 1];
	int64_t step;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(totp_code(rfc_key, 20, totp_step(v[i].t), code), FOCAL_OK);
		assert_string_equal(code, v[i].code);
		assert_int_equal(totp_verify(rfc_key, 20, v[i].code, v[i].t, 0, &step), FOCAL_OK);
		assert_int_equal(step, totp_step(v[i].t));
	}
}

static void test_window_expiry_and_replay(void **state)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char prev[7], cur[7], next[7], old[7], ahead[7];
	int64_t now = 1700000015, s = totp_step(now), step;

	(void)state;
	totp_secret_new(secret);
	totp_code(secret, sizeof(secret), s - 1, prev);
	totp_code(secret, sizeof(secret), s, cur);
	totp_code(secret, sizeof(secret), s + 1, next);
	totp_code(secret, sizeof(secret), s - 2, old);
	totp_code(secret, sizeof(secret), s + 2, ahead);
	assert_int_equal(totp_verify(secret, sizeof(secret), cur, now, 0, &step), FOCAL_OK);
	assert_int_equal(step, s);
	assert_int_equal(totp_verify(secret, sizeof(secret), prev, now, 0, &step), FOCAL_OK);
	assert_int_equal(step, s - 1);
	assert_int_equal(totp_verify(secret, sizeof(secret), next, now, 0, &step), FOCAL_OK);
	assert_int_equal(step, s + 1);
	/* expired, and too far ahead (unless they collide with a valid code) */
	if (strcmp(old, prev) && strcmp(old, cur) && strcmp(old, next))
		assert_int_equal(totp_verify(secret, sizeof(secret), old, now, 0, &step),
				 FOCAL_E_DENIED);
	if (strcmp(ahead, prev) && strcmp(ahead, cur) && strcmp(ahead, next))
		assert_int_equal(totp_verify(secret, sizeof(secret), ahead, now, 0, &step),
				 FOCAL_E_DENIED);
	/* each code once: after step s was used, s and s-1 are refused */
	assert_int_equal(totp_verify(secret, sizeof(secret), cur, now, s, &step), FOCAL_E_DENIED);
	assert_int_equal(totp_verify(secret, sizeof(secret), prev, now, s, &step), FOCAL_E_DENIED);
	assert_int_equal(totp_verify(secret, sizeof(secret), next, now, s, &step), FOCAL_OK);
	/* malformed */
	assert_int_equal(totp_verify(secret, sizeof(secret), "12345", now, 0, &step), FOCAL_E_DENIED);
	assert_int_equal(totp_verify(secret, sizeof(secret), "1234567", now, 0, &step),
			 FOCAL_E_DENIED);
	assert_int_equal(totp_verify(secret, sizeof(secret), " 12345", now, 0, &step),
			 FOCAL_E_DENIED);
	assert_int_equal(totp_verify(secret, sizeof(secret), "", now, 0, &step), FOCAL_E_DENIED);
}

static void test_uri_and_qr(void **state)
{
	unsigned char png[9];
	size_t len = 0;
	char *uri = NULL, *png_uri = NULL, *term = NULL;
	const char *b64;

	(void)state;
	assert_int_equal(totp_uri(rfc_key, 20, "Police Antwerp", "jan", &uri, NULL), FOCAL_OK);
	assert_string_equal(uri, "otpauth://totp/Police%20Antwerp:jan?secret="
				 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Police%20Antwerp"
				 "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(totp_qr_png_data_uri(uri, &png_uri, NULL), FOCAL_OK);
	assert_true(strncmp(png_uri, "data:image/png;base64,", 22) == 0);
	b64 = png_uri + 22;
	/* the first 8 bytes decode from the first 12 characters */
	assert_int_equal(sodium_base642bin(png, sizeof(png), b64, 12, NULL, &len, NULL,
					   sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
			 0);
	assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(totp_qr_terminal(uri, &term, NULL), FOCAL_OK);
	assert_true(strlen(term) > 200);
	assert_non_null(strstr(term, "\u2580"));
	free(uri);
	free(png_uri);
	free(term);
}

static void test_recovery_codes(void **state)
{
	char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN + 1];
	unsigned char hashes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_HASH], h[TOTP_RECOVERY_HASH];
	char typed[32];

	(void)state;
	totp_recovery_new(codes, hashes);
	for (size_t i = 0; i < TOTP_RECOVERY_CODES; i++) {
		assert_int_equal(strlen(codes[i]), TOTP_RECOVERY_LEN);
		assert_true(codes[i][4] == '-' && codes[i][9] == '-' && codes[i][14] == '-');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
	}
	/* typed in capitals, without dashes: the same hash */
	for (size_t i = 0, o = 0; codes[3][i] != '\0'; i++)
		if (codes[3][i] != '-') {
			typed[o++] = (char)(codes[3][i] >= 'a' ? codes[3][i] - 32 : codes[3][i]);
			typed[o] = '\0';
		}
	assert_true(totp_recovery_hash(typed, h));
	assert_memory_equal(h, hashes[3], TOTP_RECOVERY_HASH);
	assert_false(totp_recovery_hash("abcd-efgh", h));
	assert_false(totp_recovery_hash("abcd-efgh-ijkl-mno1", h)); /* 1 is not base32 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_window_expiry_and_replay),
		cmocka_unit_test(test_uri_and_qr),
		cmocka_unit_test(test_recovery_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
