/*
 * test_session: the session table (auth/session.h) over a real store —
 * tokens kept only as SHA-256, idle and absolute timeouts, certificate
 * binding, logout and revocation, a user disabled through another
 * connection (as `focal user disable` does) dropping out of memory, and
 * sessions surviving a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth/session.h"
#include "auth/user.h"
#include "store/store.h"

static char dir[] = "/tmp/focal-test-session-XXXXXX";
static char dbpath[256];
static struct store *st;
static const struct session_limits lim = { 1, 3, 0 }; /* idle 1 s, absolute 3 s */

static int setup(void **state)
{
	struct user u;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/focal.db", dir);
	if (store_open_path(dbpath, &st, NULL) != 0)
		return -1;
	memset(&u, 0, sizeof(u));
	u.nroles = 1;
	snprintf(u.roles[0], PRINCIPAL_ID_MAX, "officer");
	snprintf(u.username, sizeof(u.username), "anna");
	if (user_create(st, &u, NULL, NULL) != 0)
		return -1;
	snprintf(u.username, sizeof(u.username), "bert");
	if (user_create(st, &u, NULL, NULL) != 0)
		return -1;
	return session_init(st, &lim, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	session_shutdown();
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void principal(const char *user, struct auth_principal *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->roles[p->nroles++], sizeof(p->roles[0]), "officer");
	p->mfa = true;
	snprintf(p->addr, sizeof(p->addr), "127.0.0.1");
}

/* Rows of sessions whose token_hash is SHA-256(token); and whether the
 * token itself appears anywhere in the row. */
static int stored(const char *token, bool *clear)
{
	unsigned char h[32];
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int n = 0;

	*clear = false;
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT token_hash, id, csrf FROM sessions", -1, &q,
					    NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 0) == 32 && memcmp(sqlite3_column_blob(q, 0), h, 32) == 0)
			n++;
		for (int c = 1; c < 3; c++)
			if (strstr((const char *)sqlite3_column_text(q, c), token) != NULL)
				*clear = true;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static void test_create_lookup_hashed(void **state)
{
	struct auth_principal p, out;
	struct session_grant g;
	char csrf[SESSION_CSRF_HEX + 1];
	int64_t exp = 0;
	bool clear;

	(void)state;
	principal("anna", &p);
	assert_int_equal(session_create(&p, NULL, &g, NULL), FOCAL_OK);
	assert_int_equal(strlen(g.token), 64);
	assert_int_equal(strlen(g.csrf), 43);
	assert_int_equal(session_lookup(g.token, "", &out, csrf, &exp, NULL), FOCAL_OK);
	assert_string_equal(out.user, "anna");
	assert_string_equal(out.session_id, g.id);
	assert_string_equal(csrf, g.csrf);
	assert_int_equal(exp, g.expires_at);
	session_refresh(); /* the write-behind has reached the store */
	assert_int_equal(stored(g.token, &clear), 1);
	assert_false(clear);
	/* a different token (one hex digit changed) and garbage are refused */
	g.token[10] = g.token[10] == 'a' ? 'b' : 'a';
	assert_int_equal(session_lookup(g.token, "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
	assert_int_equal(session_lookup("../../etc", "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
	/* a new login gets a new token */
	{
		struct session_grant g2;

		assert_int_equal(session_create(&p, NULL, &g2, NULL), FOCAL_OK);
		assert_string_not_equal(g.token, g2.token);
		session_revoke(g2.token, "test");
	}
}

static void test_certificate_binding(void **state)
{
	struct auth_principal p, out;
	struct session_grant g;
	char fp[65];

	(void)state;
	memset(fp, 'a', 64);
	fp[64] = '\0';
	principal("anna", &p);
	assert_int_equal(session_create(&p, fp, &g, NULL), FOCAL_OK);
	assert_int_equal(session_lookup(g.token, fp, &out, NULL, NULL, NULL), FOCAL_OK);
	assert_true(out.device_cert);
	assert_int_equal(session_lookup(g.token, "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
	fp[0] = 'b';
	assert_int_equal(session_lookup(g.token, fp, &out, NULL, NULL, NULL), FOCAL_E_DENIED);
	session_revoke(g.token, "test");
}

static void test_idle_and_absolute_timeouts(void **state)
{
	struct auth_principal p, out;
	struct session_grant g;

	(void)state;
	principal("anna", &p);
	assert_int_equal(session_create(&p, NULL, &g, NULL), FOCAL_OK);
	usleep(1200 * 1000); /* idle 1 s */
	assert_int_equal(session_lookup(g.token, "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
	assert_int_equal(session_create(&p, NULL, &g, NULL), FOCAL_OK);
	for (int i = 0; i < 4; i++) { /* used every 0.6 s: never idle, but 3 s at most */
		usleep(600 * 1000);
		assert_int_equal(session_lookup(g.token, "", &out, NULL, NULL, NULL), FOCAL_OK);
	}
	usleep(800 * 1000); /* 3.2 s after login, 0.8 s idle */
	assert_int_equal(session_lookup(g.token, "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
}

static void test_revocation_and_disable_elsewhere(void **state)
{
	struct auth_principal p, out;
	struct session_grant a1, a2, b;
	struct store *other = NULL;
	bool clear;

	(void)state;
	principal("anna", &p);
	assert_int_equal(session_create(&p, NULL, &a1, NULL), FOCAL_OK);
	assert_int_equal(session_create(&p, NULL, &a2, NULL), FOCAL_OK);
	principal("bert", &p);
	assert_int_equal(session_create(&p, NULL, &b, NULL), FOCAL_OK);
	/* logout */
	session_revoke(a1.token, "logout");
	assert_int_equal(session_lookup(a1.token, "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
	session_refresh();
	assert_int_equal(stored(a1.token, &clear), 0);
	assert_true(session_user_active("bert"));
	/* bert disabled through another store handle, as the CLI does */
	assert_int_equal(store_open_path(dbpath, &other, NULL), FOCAL_OK);
	assert_int_equal(user_set_status(other, "bert", USER_DISABLED, NULL), FOCAL_OK);
	store_close(other);
	session_refresh();
	assert_int_equal(session_lookup(b.token, "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
	assert_false(session_user_active("bert"));
	assert_int_equal(session_lookup(a2.token, "", &out, NULL, NULL, NULL), FOCAL_OK);
	/* admin revocation of all of anna's sessions */
	assert_int_equal(session_revoke_user("anna", "admin"), 1);
	assert_int_equal(session_lookup(a2.token, "", &out, NULL, NULL, NULL), FOCAL_E_DENIED);
}

static void test_sessions_survive_restart(void **state)
{
	struct auth_principal p, out;
	struct session_grant g;

	(void)state;
	principal("anna", &p);
	assert_int_equal(session_create(&p, NULL, &g, NULL), FOCAL_OK);
	session_shutdown();
	assert_int_equal(session_count(), 0);
	assert_int_equal(session_init(st, &lim, NULL), FOCAL_OK);
	assert_int_equal(session_lookup(g.token, "", &out, NULL, NULL, NULL), FOCAL_OK);
	assert_string_equal(out.user, "anna");
	assert_true(out.mfa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_lookup_hashed),
		cmocka_unit_test(test_certificate_binding),
		cmocka_unit_test(test_idle_and_absolute_timeouts),
		cmocka_unit_test(test_revocation_and_disable_elsewhere),
		cmocka_unit_test(test_sessions_survive_restart),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
