/*
 * user: see user.h.
 *
 * Roles are stored as one comma-separated column (a handful of fixed names);
 * clearance and status as small integers.  Every change runs in a single
 * IMMEDIATE transaction so concurrent writers (focald's workers, the CLI)
 * serialise cleanly.
 */
#include "auth/user.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/password.h"
#include "auth/session.h"
#include "store/store.h"

#define USER_COLUMNS                                                                      \
	"id, username, name, unit, roles, clearance, status, locked, valid_from, valid_until," \
	" last_used, created, totp_enrolled"

static const char *const user_roles[] = { "officer", "admin", "auditor", NULL };

bool user_role_valid(const char *role)
{
	for (size_t i = 0; user_roles[i] != NULL; i++)
		if (strcmp(role, user_roles[i]) == 0)
			return true;
	return false;
}

bool user_name_valid(const char *username)
{
	size_t n = strlen(username);

	if (n == 0 || n >= PRINCIPAL_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = username[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return username[0] != '.' && username[0] != '-';
}

int user_clearance_parse(const char *s, enum classification *out)
{
	char norm[32];
	size_t n = strlen(s);

	if (n >= sizeof(norm))
		return FOCAL_E_INVAL;
	for (size_t i = 0; i <= n; i++)
		norm[i] = (s[i] == ' ' || s[i] == '-') ? '_' : s[i];
	for (int c = CLASS_NOT_SENSITIVE; c <= CLASS_STRICTLY_CONFIDENTIAL; c++)
		if (strcasecmp(norm, classification_name((enum classification)c)) == 0) {
			*out = (enum classification)c;
			return FOCAL_OK;
		}
	return FOCAL_E_INVAL;
}

void user_to_principal(const struct user *u, struct auth_principal *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->user, sizeof(p->user), "%s", u->username);
	snprintf(p->name, sizeof(p->name), "%s", u->name);
	snprintf(p->unit, sizeof(p->unit), "%s", u->unit);
	for (size_t i = 0; i < u->nroles && i < PRINCIPAL_MAX_ROLES; i++)
		snprintf(p->roles[p->nroles++], sizeof(p->roles[0]), "%s", u->roles[i]);
	p->clearance = u->clearance;
}

static void user_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* Splits "a,b,c" into u->roles (unknown names are kept out: fail closed). */
static void user_roles_parse(struct user *u, const char *csv)
{
	const char *p = csv;

	u->nroles = 0;
	while (*p != '\0' && u->nroles < PRINCIPAL_MAX_ROLES) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n > 0 && n < PRINCIPAL_ID_MAX) {
			memcpy(u->roles[u->nroles], p, n);
			u->roles[u->nroles][n] = '\0';
			if (user_role_valid(u->roles[u->nroles]))
				u->nroles++;
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

static void user_roles_csv(char roles[][PRINCIPAL_ID_MAX], size_t n, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", roles[i]);
}

static void user_row(sqlite3_stmt *st, struct user *u)
{
	char roles[PRINCIPAL_MAX_ROLES * PRINCIPAL_ID_MAX];
	int64_t c;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	user_text(st, 1, u->username, sizeof(u->username));
	user_text(st, 2, u->name, sizeof(u->name));
	user_text(st, 3, u->unit, sizeof(u->unit));
	user_text(st, 4, roles, sizeof(roles));
	user_roles_parse(u, roles);
	c = sqlite3_column_int64(st, 5);
	/* a value out of range (edited by hand) is the lowest clearance */
	u->clearance = (c >= CLASS_NOT_SENSITIVE && c <= CLASS_STRICTLY_CONFIDENTIAL)
			       ? (enum classification)c
			       : CLASS_NOT_SENSITIVE;
	u->status = sqlite3_column_int64(st, 6) == USER_ACTIVE ? USER_ACTIVE : USER_DISABLED;
	u->locked = sqlite3_column_int64(st, 7) != 0;
	u->valid_from = sqlite3_column_int64(st, 8);
	u->valid_until = sqlite3_column_int64(st, 9);
	u->last_used = sqlite3_column_int64(st, 10);
	u->created = sqlite3_column_int64(st, 11);
	u->mfa_enrolled = sqlite3_column_int64(st, 12) != 0;
}

int user_get_db(sqlite3 *db, const char *username, struct user *u, struct user_cred *c,
		struct focal_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	memset(u, 0, sizeof(*u));
	if (c != NULL)
		memset(c, 0, sizeof(*c));
	if (sqlite3_prepare_v2(db,
			       "SELECT " USER_COLUMNS ", password_hash, totp_secret, totp_last_step"
			       " FROM users WHERE username = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return store_err(db, err, "reading a user");
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		rc = focal_err_set(err, FOCAL_E_INVAL, "no such user: %s", username);
	} else if (r != SQLITE_ROW) {
		rc = store_err(db, err, "reading a user");
	} else {
		user_row(st, u);
		if (c != NULL) {
			const void *blob = sqlite3_column_blob(st, 14);
			int blen = sqlite3_column_bytes(st, 14);

			user_text(st, 13, c->password_hash, sizeof(c->password_hash));
			if (blob != NULL && blen > 0 && (size_t)blen <= sizeof(c->totp_sealed)) {
				memcpy(c->totp_sealed, blob, (size_t)blen);
				c->totp_sealed_len = (size_t)blen;
			}
			c->totp_last_step = sqlite3_column_int64(st, 15);
		}
		rc = FOCAL_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int user_get(struct store *s, const char *username, struct user *out, struct focal_err *err)
{
	sqlite3 *db = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_acquire(s, &db, err)) != 0)
		return rc;
	rc = user_get_db(db, username, out, NULL, err);
	store_release(s, db);
	return rc;
}

int user_list(struct store *s, struct user **out, size_t *n, struct focal_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct user *v = NULL;
	size_t len = 0, cap = 0;
	int rc, r;

	*out = NULL;
	*n = 0;
	if ((rc = store_acquire(s, &db, err)) != 0)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT " USER_COLUMNS " FROM users ORDER BY username", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = store_err(db, err, "listing users");
		goto out;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct user *nv = realloc(v, ncap * sizeof(*v));

			if (nv == NULL) {
				rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		user_row(st, &v[len++]);
	}
	if (r != SQLITE_DONE) {
		rc = store_err(db, err, "listing users");
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
	rc = FOCAL_OK;
out:
	free(v);
	sqlite3_finalize(st);
	store_release(s, db);
	return rc;
}

/* Runs one UPDATE of the row of username (?1; arg, when not NULL, is ?2) in
 * a transaction: FOCAL_E_INVAL if no user matched.  extra (may be NULL) runs
 * after it with ?1 bound too (e.g. deleting sessions). */
/* Runs sql (?1 = username, ?2 = arg) on an existing user, then each of the
 * NULL-terminated extra statements (?1 = username), in one transaction. */
static int user_update(struct store *s, const char *username, const char *sql,
		       const char *const *extra, const char *arg, struct focal_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_acquire(s, &db, err)) != 0)
		return rc;
	if ((rc = store_begin(db, err)) != 0)
		goto out;
	for (size_t pass = 0; pass == 0 || (extra != NULL && extra[pass - 1] != NULL); pass++) {
		const char *q = pass == 0 ? sql : extra[pass - 1];

		if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
			rc = store_err(db, err, "updating a user");
			goto out;
		}
		sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
		if (pass == 0 && arg != NULL)
			sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = store_err(db, err, "updating a user");
			goto out;
		}
		if (pass == 0 && sqlite3_changes(db) == 0) {
			rc = focal_err_set(err, FOCAL_E_INVAL, "no such user: %s", username);
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	rc = store_commit(db, err);
out:
	sqlite3_finalize(st);
	store_release(s, db); /* rolls back on failure */
	return rc;
}

static int user_check_fields(const struct user *u, struct focal_err *err)
{
	if (!user_name_valid(u->username))
		return focal_err_set(err, FOCAL_E_INVAL,
				     "username: 1 to 63 of a-z 0-9 . _ - (not starting with . or -)");
	for (size_t i = 0; i < u->nroles; i++)
		if (!user_role_valid(u->roles[i]))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "unknown role '%s' (officer, admin, auditor)",
					     u->roles[i]);
	if (u->clearance < CLASS_NOT_SENSITIVE || u->clearance > CLASS_STRICTLY_CONFIDENTIAL)
		return focal_err_set(err, FOCAL_E_INVAL, "clearance out of range");
	if (u->valid_until != 0 && u->valid_until <= u->valid_from)
		return focal_err_set(err, FOCAL_E_INVAL, "valid_until must be after valid_from");
	return FOCAL_OK;
}

int user_create(struct store *s, const struct user *u, const char *password,
		struct focal_err *err)
{
	char hash[PASSWORD_HASH_MAX] = "";
	char roles[PRINCIPAL_MAX_ROLES * PRINCIPAL_ID_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = user_check_fields(u, err)) != 0)
		return rc;
	if (password != NULL && ((rc = password_check_policy(password, u->username, err)) != 0 ||
				 (rc = password_hash(password, hash, err)) != 0))
		return rc;
	user_roles_csv((char (*)[PRINCIPAL_ID_MAX])u->roles, u->nroles, roles, sizeof(roles));
	if ((rc = store_acquire(s, &db, err)) != 0)
		return rc;
	/* a transaction, so an audit event staged for it commits with it */
	if ((rc = store_begin(db, err)) != 0)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO users (username, name, unit, roles, clearance, status,"
			       " valid_from, valid_until, created, password_hash)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = store_err(db, err, "creating a user");
		goto out;
	}
	sqlite3_bind_text(st, 1, u->username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, roles, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, u->clearance);
	sqlite3_bind_int64(st, 6, u->valid_from);
	sqlite3_bind_int64(st, 7, u->valid_until);
	sqlite3_bind_int64(st, 8, store_now());
	if (hash[0] != '\0')
		sqlite3_bind_text(st, 9, hash, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE)
			rc = focal_err_set(err, FOCAL_E_INVAL, "user %s exists already",
					   u->username);
		else
			rc = store_err(db, err, "creating a user");
		goto out;
	}
	rc = store_commit(db, err);
out:
	sodium_memzero(hash, sizeof(hash));
	sqlite3_finalize(st);
	store_release(s, db);
	return rc;
}

int user_set_password(struct store *s, const char *username, const char *password,
		      struct focal_err *err)
{
	char hash[PASSWORD_HASH_MAX];
	int rc;

	if ((rc = password_check_policy(password, username, err)) != 0 ||
	    (rc = password_hash(password, hash, err)) != 0)
		return rc;
	rc = user_update(s, username, "UPDATE users SET password_hash = ?2 WHERE username = ?1",
			 NULL, hash, err);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

/* The user's sessions, for changes that must end them (a running focald
 * drops them from memory within a second, session.h). */
static const char *const user_end_sessions[] = {
	"DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)", NULL
};

int user_set_roles(struct store *s, const char *username, char roles[][PRINCIPAL_ID_MAX],
		   size_t nroles, struct focal_err *err)
{
	char csv[PRINCIPAL_MAX_ROLES * PRINCIPAL_ID_MAX];
	int rc;

	if (nroles > PRINCIPAL_MAX_ROLES)
		return focal_err_set(err, FOCAL_E_INVAL, "too many roles");
	for (size_t i = 0; i < nroles; i++)
		if (!user_role_valid(roles[i]))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "unknown role '%s' (officer, admin, auditor)", roles[i]);
	user_roles_csv(roles, nroles, csv, sizeof(csv));
	/* sessions carry the roles of their login: end them, the user logs in
	 * again with the new ones (least privilege takes effect at once) */
	rc = user_update(s, username, "UPDATE users SET roles = ?2 WHERE username = ?1",
			 user_end_sessions, csv, err);
	if (rc == FOCAL_OK)
		session_revoke_user(username, "roles changed");
	return rc;
}


int user_set_status(struct store *s, const char *username, enum user_status status,
		    struct focal_err *err)
{
	int rc;

	if (status == USER_DISABLED) {
		rc = user_update(s, username, "UPDATE users SET status = 1 WHERE username = ?1",
				 user_end_sessions, NULL, err);
		if (rc == FOCAL_OK)
			session_revoke_user(username, "user disabled");
		return rc;
	}
	/* re-enabling also restarts the inactivity clock, or the account would
	 * be disabled again at once by the inactivity rule */
	return user_update(s, username,
			   "UPDATE users SET status = 0, last_used = unixepoch() WHERE username = ?1",
			   NULL, NULL, err);
}

int user_unlock(struct store *s, const char *username, struct focal_err *err)
{
	static const char *const forget_failures[] = {
		"DELETE FROM login_failures WHERE user_id ="
		" (SELECT id FROM users WHERE username = ?1)", NULL
	};

	return user_update(s, username, "UPDATE users SET locked = 0 WHERE username = ?1",
			   forget_failures, NULL, err);
}

int user_reset_mfa(struct store *s, const char *username, struct focal_err *err)
{
	/* the sessions were opened with the old second factor: they end too */
	static const char *const forget_factor[] = {
		"DELETE FROM recovery_codes WHERE user_id ="
		" (SELECT id FROM users WHERE username = ?1)",
		"DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)",
		NULL
	};
	int rc = user_update(s, username,
			     "UPDATE users SET totp_secret = NULL, totp_enrolled = 0,"
			     " totp_last_step = 0 WHERE username = ?1",
			     forget_factor, NULL, err);

	if (rc == FOCAL_OK)
		session_revoke_user(username, "MFA reset");
	return rc;
}

int user_disable_inactive(struct store *s, long inactive_days, int64_t now, size_t *n,
			  struct focal_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if (n != NULL)
		*n = 0;
	if (inactive_days <= 0)
		return FOCAL_OK;
	if ((rc = store_acquire(s, &db, err)) != 0)
		return rc;
	if ((rc = store_begin(db, err)) != 0)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "UPDATE users SET status = 1 WHERE status = 0 AND"
			       " max(last_used, created) < ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = store_err(db, err, "disabling inactive users");
		goto out;
	}
	sqlite3_bind_int64(st, 1, now - (int64_t)inactive_days * 86400);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_err(db, err, "disabling inactive users");
		goto out;
	}
	if (n != NULL)
		*n = (size_t)sqlite3_changes(db);
	sqlite3_finalize(st);
	st = NULL;
	rc = store_exec(db,
			"DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE"
			" status != 0)",
			err);
	if (rc == 0)
		rc = store_commit(db, err);
out:
	sqlite3_finalize(st);
	store_release(s, db);
	return rc;
}
