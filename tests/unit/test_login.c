/*
 * test_login: one login attempt against a real SQLite store (auth/login.h):
 * unknown users, wrong/expired/replayed codes, recovery codes, TOTP
 * enrolment, lockout after 5 failures until unlock, per-address throttling,
 * disabled, expired and inactive accounts, and the sealed TOTP secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth/login.h"
#include "auth/password.h"
#include "auth/secret.h"
#include "auth/throttle.h"
#include "auth/user.h"
#include "store/store.h"

#define PW "violet tractor umbrella 73"
#define NOW 1800000000

static char dir[] = "/tmp/focal-test-login-XXXXXX";
static struct store *st;
static struct secret_key *key;
static struct login_ctx ctx;

static int setup(void **state)
{
	struct password_params pp = { 19456, 2 };
	char path[256];

	(void)state;
	if (mkdtemp(dir) == NULL || password_set_params(&pp, NULL) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/focal.db", dir);
	if (store_open_path(path, &st, NULL) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/key", dir);
	if (secret_key_load(path, true, &key, NULL) != 0)
		return -1;
	ctx = (struct login_ctx){ st, key, 5, 900, 90, "Focal" };
	throttle_configure(0, 300);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	store_close(st);
	secret_key_free(key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The secret of an otpauth URI (base32 after "secret="), decoded. */
static size_t uri_secret(const char *uri, unsigned char secret[TOTP_SECRET_BYTES])
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	const char *s = strstr(uri, "secret=") + 7;
	uint64_t acc = 0;
	size_t len = 0;
	int bits = 0;

	for (; *s != '&' && len < TOTP_SECRET_BYTES; s++) {
		acc = (acc << 5) | (uint64_t)(strchr(al, *s) - al);
		bits += 5;
		if (bits >= 8) {
			secret[len++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return len;
}

/* Creates name (officer) with PW, enrolled directly; secret out. */
static void make_user(const char *name, unsigned char secret[TOTP_SECRET_BYTES],
		      char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN + 1])
{
	struct login_result r;
	struct user u;
	struct focal_err err;
	size_t len = 0;

	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "%s", name);
	snprintf(u.roles[u.nroles++], PRINCIPAL_ID_MAX, "officer");
	u.clearance = CLASS_RESTRICTED;
	assert_int_equal(user_create(st, &u, PW, &err), FOCAL_OK);
	/* last_used is now: make the account recent relative to NOW */
	assert_int_equal(login_enrol_direct(&ctx, name, &r, &err), FOCAL_OK);
	len = uri_secret(r.otpauth_uri, secret);
	assert_int_equal(len, TOTP_SECRET_BYTES);
	if (codes != NULL)
		memcpy(codes, r.recovery, sizeof(r.recovery));
	login_result_clear(&r);
}

static int attempt(const char *user, const char *pw, const char *code, const char *addr,
		   int64_t now, struct login_result *r)
{
	struct focal_err err;

	assert_int_equal(login_verify(&ctx, user, pw, code, addr, true, now, r, &err), FOCAL_OK);
	return (int)r->status;
}

static int64_t now_real(void)
{
	return store_now();
}

static void test_unknown_and_wrong(void **state)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char code[7];
	struct login_result r;
	int64_t now = now_real();

	(void)state;
	make_user("anna", secret, NULL);
	totp_code(secret, sizeof(secret), totp_step(now), code);
	assert_int_equal(attempt("nobody", PW, code, "10.0.0.1", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "unknown user");
	assert_false(r.known_user);
	assert_int_equal(attempt("anna", PW "x", code, "10.0.0.1", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "wrong password");
	{
		char bad[7];

		memcpy(bad, code, sizeof(bad));
		bad[0] = bad[0] == '9' ? '0' : (char)(bad[0] + 1);
		assert_int_equal(attempt("anna", PW, bad, "10.0.0.1", now, &r), AUTH_LOGIN_DENIED);
	}
	assert_int_equal(attempt("anna", PW, code, "10.0.0.1", now, &r), AUTH_LOGIN_OK);
	assert_true(r.p.mfa);
	assert_string_equal(r.p.user, "anna");
	assert_int_equal(r.p.clearance, CLASS_RESTRICTED);
	/* the same code again: replay */
	assert_int_equal(attempt("anna", PW, code, "10.0.0.1", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "wrong, expired or replayed TOTP code");
	/* an expired code (two steps back) */
	totp_code(secret, sizeof(secret), totp_step(now) + 5, code);
	assert_int_equal(attempt("anna", PW, code, "10.0.0.1", now + 5 * 30 + 90, &r),
			 AUTH_LOGIN_DENIED);
	assert_int_equal(user_unlock(st, "anna", NULL), FOCAL_OK); /* clear the failures */
}

static void test_recovery_code_once(void **state)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN + 1];
	struct login_result r;
	int64_t now = now_real();

	(void)state;
	make_user("bert", secret, codes);
	assert_int_equal(attempt("bert", PW, codes[2], "10.0.0.2", now, &r), AUTH_LOGIN_OK);
	assert_int_equal(attempt("bert", PW, codes[2], "10.0.0.2", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "wrong or used recovery code");
	assert_int_equal(attempt("bert", PW, codes[3], "10.0.0.2", now, &r), AUTH_LOGIN_OK);
}

static void test_lockout_and_unlock(void **state)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char code[7];
	struct login_result r;
	struct user u;
	int64_t now = now_real();

	(void)state;
	make_user("carl", secret, NULL);
	totp_code(secret, sizeof(secret), totp_step(now), code);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(attempt("carl", "wrong wrong wrong", code, "10.0.0.3", now, &r),
				 AUTH_LOGIN_DENIED);
		assert_int_equal(r.locked_now, i == 4);
	}
	assert_int_equal(user_get(st, "carl", &u, NULL), FOCAL_OK);
	assert_true(u.locked);
	/* even the right password and code are refused now */
	assert_int_equal(attempt("carl", PW, code, "10.0.0.3", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "account locked after failed logins");
	assert_int_equal(user_unlock(st, "carl", NULL), FOCAL_OK);
	assert_int_equal(attempt("carl", PW, code, "10.0.0.3", now, &r), AUTH_LOGIN_OK);
	/* failures outside the 15-minute window do not add up */
	for (int i = 0; i < 4; i++)
		attempt("carl", "wrong wrong wrong", "", "10.0.0.3", now + i * 1000, &r);
	assert_int_equal(user_get(st, "carl", &u, NULL), FOCAL_OK);
	assert_false(u.locked);
}

static void test_address_throttle(void **state)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char code[7];
	struct login_result r;
	int64_t now = now_real();

	(void)state;
	make_user("dora", secret, NULL);
	throttle_configure(3, 60);
	for (int i = 0; i < 3; i++)
		attempt("ghost", PW, "123456", "192.0.2.9", now, &r);
	totp_code(secret, sizeof(secret), totp_step(now), code);
	assert_int_equal(attempt("dora", PW, code, "192.0.2.9", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "too many failures from this address");
	/* another address is not affected; the window passes */
	assert_int_equal(attempt("dora", PW, code, "192.0.2.10", now, &r), AUTH_LOGIN_OK);
	assert_true(throttle_allowed("192.0.2.9", now + 61));
	throttle_configure(0, 300);
}

static void test_account_states(void **state)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char code[7];
	struct login_result r;
	struct user u;
	sqlite3 *db = NULL;
	int64_t now = now_real();

	(void)state;
	make_user("erik", secret, NULL);
	totp_code(secret, sizeof(secret), totp_step(now), code);
	assert_int_equal(user_set_status(st, "erik", USER_DISABLED, NULL), FOCAL_OK);
	assert_int_equal(attempt("erik", PW, code, "10.0.0.5", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "account disabled");
	assert_int_equal(user_set_status(st, "erik", USER_ACTIVE, NULL), FOCAL_OK);
	/* unused for 91 days: disabled at login */
	assert_int_equal(store_acquire(st, &db, NULL), FOCAL_OK);
	assert_int_equal(store_exec(db, "UPDATE users SET last_used = 1000, created = 1000"
					" WHERE username = 'erik'", NULL), FOCAL_OK);
	store_release(st, db);
	assert_int_equal(attempt("erik", PW, code, "10.0.0.5", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "account unused too long: disabled now");
	assert_int_equal(user_get(st, "erik", &u, NULL), FOCAL_OK);
	assert_int_equal(u.status, USER_DISABLED);
	/* the periodic check does the same */
	{
		size_t n = 0;

		unsigned char other[TOTP_SECRET_BYTES];

		make_user("freya", other, NULL); /* created now: must stay active */
		/* enabling restarts the clock (an admin just vouched for the account) */
		assert_int_equal(user_set_status(st, "erik", USER_ACTIVE, NULL), FOCAL_OK);
		assert_int_equal(user_disable_inactive(st, 90, now, &n, NULL), FOCAL_OK);
		assert_int_equal(n, 0);
		assert_int_equal(store_acquire(st, &db, NULL), FOCAL_OK);
		assert_int_equal(store_exec(db, "UPDATE users SET last_used = 1000, created = 1000"
						" WHERE username = 'erik'", NULL), FOCAL_OK);
		store_release(st, db);
		assert_int_equal(user_disable_inactive(st, 90, now, &n, NULL), FOCAL_OK);
		assert_int_equal(n, 1);
		assert_int_equal(user_get(st, "erik", &u, NULL), FOCAL_OK);
		assert_int_equal(u.status, USER_DISABLED);
		assert_int_equal(user_get(st, "freya", &u, NULL), FOCAL_OK);
		assert_int_equal(u.status, USER_ACTIVE);
		/* 91 days on, freya too */
		assert_int_equal(user_disable_inactive(st, 90, now + 91L * 86400, &n, NULL), FOCAL_OK);
		assert_true(n >= 1);
		assert_int_equal(user_get(st, "freya", &u, NULL), FOCAL_OK);
		assert_int_equal(u.status, USER_DISABLED);
		assert_int_equal(user_set_status(st, "erik", USER_ACTIVE, NULL), FOCAL_OK);
	}
	/* outside the validity dates */
	assert_int_equal(store_acquire(st, &db, NULL), FOCAL_OK);
	assert_int_equal(store_exec(db, "UPDATE users SET valid_until = 1000"
					" WHERE username = 'erik'", NULL), FOCAL_OK);
	store_release(st, db);
	assert_int_equal(attempt("erik", PW, code, "10.0.0.5", now, &r), AUTH_LOGIN_DENIED);
	assert_string_equal(r.reason, "outside the account's validity dates");
}

static void test_enrolment_and_sealed_secret(void **state)
{
	struct login_result r, f;
	struct user u;
	struct focal_err err;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char code[7];
	unsigned char secret[TOTP_SECRET_BYTES];
	int64_t now = now_real();

	(void)state;
	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "fay");
	u.nroles = 1;
	snprintf(u.roles[0], PRINCIPAL_ID_MAX, "officer");
	assert_int_equal(user_create(st, &u, PW, &err), FOCAL_OK);
	assert_int_equal(attempt("fay", PW, "", "10.0.0.6", now, &r), AUTH_LOGIN_MFA_ENROLMENT);
	assert_non_null(r.otpauth_uri);
	assert_true(strncmp(r.qr_png, "data:image/png;base64,", 22) == 0);
	assert_int_equal(uri_secret(r.otpauth_uri, secret), TOTP_SECRET_BYTES);
	login_result_clear(&r);
	/* the secret is sealed in the store, not in clear */
	assert_int_equal(store_acquire(st, &db, NULL), FOCAL_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT totp_secret FROM users WHERE username='fay'",
					    -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_true((size_t)sqlite3_column_bytes(q, 0) > TOTP_SECRET_BYTES);
	assert_null(memmem(sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0), secret,
			   sizeof(secret)));
	sqlite3_finalize(q);
	store_release(st, db);
	/* not enrolled until a code confirms it; a wrong code fails */
	totp_code(secret, sizeof(secret), totp_step(now), code);
	assert_int_equal(login_enrol_finish(&ctx, "fay", "99999", now, &f, &err), FOCAL_OK);
	assert_int_equal(f.status, AUTH_LOGIN_DENIED);
	assert_int_equal(login_enrol_finish(&ctx, "fay", code, now, &f, &err), FOCAL_OK);
	assert_int_equal(f.status, AUTH_LOGIN_OK);
	assert_true(f.has_recovery);
	login_result_clear(&f);
	/* the enrolment code cannot be used again to log in */
	assert_int_equal(attempt("fay", PW, code, "10.0.0.6", now, &r), AUTH_LOGIN_DENIED);
	assert_int_equal(user_get(st, "fay", &u, NULL), FOCAL_OK);
	assert_true(u.mfa_enrolled);
	/* reset: enrolment again */
	assert_int_equal(user_reset_mfa(st, "fay", NULL), FOCAL_OK);
	assert_int_equal(attempt("fay", PW, "", "10.0.0.6", now, &r), AUTH_LOGIN_MFA_ENROLMENT);
	login_result_clear(&r);
}

static void test_user_admin(void **state)
{
	struct user u, *all = NULL;
	struct focal_err err;
	size_t n = 0;
	char roles[2][PRINCIPAL_ID_MAX] = { "auditor", "officer" };
	enum classification c;

	(void)state;
	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "Bad Name");
	assert_int_equal(user_create(st, &u, NULL, &err), FOCAL_E_INVAL);
	snprintf(u.username, sizeof(u.username), "gus");
	assert_int_equal(user_create(st, &u, "password1234", &err), FOCAL_E_INVAL); /* common */
	assert_int_equal(user_create(st, &u, NULL, &err), FOCAL_OK);
	assert_int_equal(user_create(st, &u, NULL, &err), FOCAL_E_INVAL); /* exists */
	assert_int_equal(user_set_roles(st, "gus", roles, 2, &err), FOCAL_OK);
	assert_int_equal(user_get(st, "gus", &u, &err), FOCAL_OK);
	assert_int_equal(u.nroles, 2);
	assert_string_equal(u.roles[0], "auditor");
	snprintf(roles[1], PRINCIPAL_ID_MAX, "root");
	assert_int_equal(user_set_roles(st, "gus", roles, 2, &err), FOCAL_E_INVAL);
	assert_int_equal(user_set_status(st, "nobody", USER_DISABLED, &err), FOCAL_E_INVAL);
	assert_int_equal(user_list(st, &all, &n, &err), FOCAL_OK);
	assert_true(n >= 2);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(all[i - 1].username, all[i].username) < 0);
	free(all);
	assert_int_equal(user_clearance_parse("strictly confidential", &c), FOCAL_OK);
	assert_int_equal(c, CLASS_STRICTLY_CONFIDENTIAL);
	assert_int_equal(user_clearance_parse("secret", &c), FOCAL_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_and_wrong),
		cmocka_unit_test(test_recovery_code_once),
		cmocka_unit_test(test_lockout_and_unlock),
		cmocka_unit_test(test_address_throttle),
		cmocka_unit_test(test_account_states),
		cmocka_unit_test(test_enrolment_and_sealed_secret),
		cmocka_unit_test(test_user_admin),
	};

	(void)NOW;
	return cmocka_run_group_tests(tests, setup, teardown);
}
