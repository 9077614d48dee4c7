/*
 * Unit tests of the audit outbox: an event the CLI stages commits with its
 * admin change in one store transaction, or not at all, and focald's
 * audit_outbox_drain moves it into the real audit log (src/store/store.c,
 * src/audit/audit_outbox.c).  Real SQLite file, real audit log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "audit/audit_outbox.h"
#include "auth/user.h"
#include "store/store.h"

static char tmpdir[64];

static long outbox_rows(struct store *st)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	long n = -1;

	assert_int_equal(store_acquire(st, &db, NULL), 0);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_outbox", -1, &q, NULL),
			 SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	store_release(st, db);
	return n;
}

static void make_user(struct user *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->username, sizeof(u->username), "%s", name);
	snprintf(u->roles[0], sizeof(u->roles[0]), "officer");
	u->nroles = 1;
	u->clearance = CLASS_RESTRICTED;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);

	assert_non_null(f);
	assert_non_null(buf);
	fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

static void test_staged_event_commits_with_its_change_only(void **state)
{
	char path[128], audit[128], key[160], logf[160], cmd[128];
	struct focal_err err;
	struct store *st = NULL;
	struct user u;
	size_t moved = 99;
	sqlite3 *db = NULL;
	char *text;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/focal-outbox-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/focal.db", tmpdir);
	assert_int_equal(store_open_path(path, &st, &err), 0);

	/* a change that commits takes its event along */
	make_user(&u, "carl");
	assert_int_equal(store_outbox_stage("admin.user.create", "{\"target\":\"carl\"}", &err), 0);
	assert_int_equal(user_create(st, &u, NULL, &err), 0);
	assert_int_equal(outbox_rows(st), 1);

	/* a change that fails (no such user) rolls its event back with it */
	assert_int_equal(store_outbox_stage("admin.user.disable", "{\"target\":\"nobody\"}", &err),
			 0);
	assert_int_not_equal(user_set_status(st, "nobody", USER_DISABLED, &err), 0);
	assert_int_equal(outbox_rows(st), 1);
	/* ... and it is not carried into the next, unrelated commit */
	assert_int_equal(user_set_status(st, "carl", USER_DISABLED, &err), 0);
	assert_int_equal(outbox_rows(st), 1);

	/* without an audit log the rows wait */
	assert_int_equal(store_acquire(st, &db, &err), 0);
	assert_int_equal(audit_outbox_drain(db, &moved, &err), 0);
	assert_int_equal(moved, 0);
	store_release(st, db);
	assert_int_equal(outbox_rows(st), 1);

	/* focald's drain moves them into the log and empties the table */
	snprintf(audit, sizeof(audit), "%s/audit", tmpdir);
	snprintf(key, sizeof(key), "%s/audit/audit-key.pem", tmpdir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", audit);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_open_dir(audit, key, true, 1000, &err), 0);
	assert_int_equal(store_acquire(st, &db, &err), 0);
	assert_int_equal(audit_outbox_drain(db, &moved, &err), 0);
	assert_int_equal(moved, 1);
	store_release(st, db);
	audit_close();
	assert_int_equal(outbox_rows(st), 0);
	snprintf(logf, sizeof(logf), "%s/audit.log", audit);
	text = slurp(logf);
	assert_non_null(strstr(text, "\"admin.user.create\""));
	assert_non_null(strstr(text, "\"via\":\"cli\""));
	assert_non_null(strstr(text, "\"target\":\"carl\""));
	assert_null(strstr(text, "nobody"));
	free(text);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_staged_event_commits_with_its_change_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
