/*
 * test_auth_config: the `store:` and `auth:` sections — defaults, every key,
 * and file:line:col errors for typos, out-of-range values and an Argon2id
 * cost below OWASP's table.
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

#include "auth/auth_internal.h"
#include "core/config.h"

#define BASE                                                                                  \
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"                                         \
	"sources:\n"                                                                          \
	"  - name: rel\n"                                                                     \
	"    kind: sqlite\n"                                                                  \
	"    owner: X\n"                                                                      \
	"    classification: restricted\n"                                                    \
	"    connection: {path: regs.db}\n"                                                   \
	"    queries: {person: \"SELECT 1 AS a WHERE :family_name\"}\n"                       \
	"    map: {person: {family_name: a}}\n"

static char dir[] = "/tmp/focal-test-authcfg-XXXXXX";

/* The source's database must exist: an empty SQLite file next to the config. */
static int setup(void **state)
{
	char path[256];
	sqlite3 *db = NULL;
	int rc;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/regs.db", dir);
	rc = sqlite3_open(path, &db) == SQLITE_OK &&
			     sqlite3_exec(db, "CREATE TABLE t (a)", NULL, NULL, NULL) == SQLITE_OK
		     ? 0
		     : -1;
	sqlite3_close(db);
	return rc;
}

static int teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/regs.db", dir);
	unlink(path);
	return rmdir(dir);
}

static int load(const char *extra, struct config **c, struct focal_err *err)
{
	char text[2048], name[256];

	snprintf(text, sizeof(text), "%s%s", BASE, extra);
	snprintf(name, sizeof(name), "%s/focal.yaml", dir);
	return config_load_string(name, text, strlen(text), c, err);
}

static void test_defaults_and_all_keys(void **state)
{
	struct config *c = NULL;
	struct focal_err err;
	struct auth_config d;

	(void)state;
	assert_int_equal(load("", &c, &err), FOCAL_OK);
	assert_null(c->auth); /* defaults apply */
	config_unref(c);
	auth_config_defaults(&d);
	assert_int_equal(d.argon2_memory_kib, 65536);
	assert_int_equal(d.argon2_ops, 3);
	assert_int_equal(d.lockout_failures, 5);
	assert_int_equal(d.lockout_window_s, 900);
	assert_int_equal(d.idle_timeout_s, 1800);
	assert_int_equal(d.absolute_timeout_s, 43200);
	assert_int_equal(d.inactive_days, 90);
	assert_int_equal(load("store: {path: state/focal.db, wal: true, busy_timeout_ms: 100}\n"
			      "auth:\n"
			      "  key_file: keys/auth.key\n"
			      "  totp_issuer: Police Antwerp\n"
			      "  argon2_memory_kib: 19456\n"
			      "  argon2_ops: 2\n"
			      "  lockout_failures: 0\n"
			      "  lockout_window_s: 600\n"
			      "  address_failures: 50\n"
			      "  address_window_s: 60\n"
			      "  idle_timeout_s: 5\n"
			      "  absolute_timeout_s: 10\n"
			      "  inactive_days: 0\n"
			      "  enrolment_timeout_s: 120\n",
			      &c, &err),
			 FOCAL_OK);
	assert_non_null(c->auth);
	{
		char want[300];

		snprintf(want, sizeof(want), "%s/keys/auth.key", dir); /* next to the file */
		assert_string_equal(c->auth->key_file, want);
	}
	assert_string_equal(c->auth->issuer, "Police Antwerp");
	assert_int_equal(c->auth->lockout_failures, 0);
	assert_int_equal(c->auth->idle_timeout_s, 5);
	assert_int_equal(c->auth->inactive_days, 0);
	config_unref(c);
}

static void test_errors_name_the_place(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "auth: {lockout_failurs: 3}\n", "focal.yaml:10:" },
		{ "auth: {argon2_memory_kib: 8192, argon2_ops: 2}\n", "OWASP" },
		{ "auth: {idle_timeout_s: 0}\n", "idle_timeout_s" },
		{ "auth: {idle_timeout_s: 100, absolute_timeout_s: 50}\n", "must not exceed" },
		{ "store: {backend: postgresql}\n", "not supported" },
		{ "store: {wal: maybe}\n", "wal" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *c = NULL;
		struct focal_err err;

		assert_int_equal(load(bad[i].text, &c, &err), FOCAL_E_CONFIG);
		assert_null(c);
		if (strstr(err.msg, bad[i].want) == NULL)
			fail_msg("%s: got \"%s\"", bad[i].text, err.msg);
		assert_non_null(strstr(err.msg, "focal.yaml:10:"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_all_keys),
		cmocka_unit_test(test_errors_name_the_place),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
