/*
 * login: see login.h.
 */
#include "auth/login.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "auth/secret.h"
#include "auth/throttle.h"
#include "auth/user.h"
#include "store/store.h"

void login_result_clear(struct login_result *r)
{
	if (r == NULL)
		return;
	if (r->otpauth_uri != NULL) {
		sodium_memzero(r->otpauth_uri, strlen(r->otpauth_uri));
		free(r->otpauth_uri);
	}
	free(r->qr_png);
	sodium_memzero(r, sizeof(*r));
}

static void login_reason(struct login_result *r, const char *why)
{
	snprintf(r->reason, sizeof(r->reason), "%s", why);
}

/* Runs sql with ?1 = a, ?2 = b (integers); returns sqlite3_changes or -1. */
static int login_exec2(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, a);
		sqlite3_bind_int64(st, 2, b);
		if (sqlite3_step(st) == SQLITE_DONE)
			n = sqlite3_changes(db);
	}
	sqlite3_finalize(st);
	return n;
}

/* Counts a failed attempt of user id (and of the address), locks the account
 * when the window holds lockout_failures of them. */
static void login_fail(const struct login_ctx *c, sqlite3 *db, int64_t id, const char *addr,
		       int64_t now, struct login_result *out)
{
	sqlite3_stmt *st = NULL;

	throttle_fail(addr, now);
	if (store_begin(db, NULL) != 0)
		return;
	login_exec2(db, "INSERT INTO login_failures (user_id, at) VALUES (?1, ?2)", id, now);
	login_exec2(db, "DELETE FROM login_failures WHERE user_id = ?1 AND at <= ?2", id,
		    now - c->lockout_window_s);
	if (c->lockout_failures > 0 &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM login_failures WHERE user_id = ?1", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int64(st, 0) >= c->lockout_failures &&
		    login_exec2(db, "UPDATE users SET locked = 1 WHERE id = ?1 AND locked = ?2", id,
				0) == 1)
			out->locked_now = true;
	}
	sqlite3_finalize(st);
	store_commit(db, NULL);
	store_rollback(db);
}

static void login_context(const char *user, char *ctx, size_t cap)
{
	snprintf(ctx, cap, "totp:%s", user);
}

/* Opens the sealed TOTP secret of u. */
static int login_secret(const struct login_ctx *c, const struct user *u,
			const struct user_cred *cred, unsigned char secret[TOTP_SECRET_BYTES])
{
	char ctx[PRINCIPAL_ID_MAX + 8];

	if (cred->totp_sealed_len != TOTP_SECRET_BYTES + secret_overhead())
		return FOCAL_E_DENIED;
	login_context(u->username, ctx, sizeof(ctx));
	return secret_open(c->key, cred->totp_sealed, cred->totp_sealed_len, ctx, secret, NULL);
}

/* A fresh pending secret for u, its URI and QR code. */
static int login_enrol_begin(const struct login_ctx *c, sqlite3 *db, const struct user *u,
			     struct login_result *out, struct focal_err *err)
{
	unsigned char secret[TOTP_SECRET_BYTES], sealed[TOTP_SECRET_BYTES + 64];
	char ctx[PRINCIPAL_ID_MAX + 8];
	sqlite3_stmt *st = NULL;
	int rc;

	totp_secret_new(secret);
	login_context(u->username, ctx, sizeof(ctx));
	if ((rc = secret_seal(c->key, secret, sizeof(secret), ctx, sealed, err)) != 0)
		goto out;
	if ((rc = totp_uri(secret, sizeof(secret), c->issuer, u->username, &out->otpauth_uri,
			   err)) != 0 ||
	    (rc = totp_qr_png_data_uri(out->otpauth_uri, &out->qr_png, err)) != 0)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "UPDATE users SET totp_secret = ?2, totp_last_step = 0"
			       " WHERE id = ?1 AND totp_enrolled = 0",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = store_err(db, err, "saving a TOTP secret");
		goto out;
	}
	sqlite3_bind_int64(st, 1, u->id);
	sqlite3_bind_blob(st, 2, sealed, (int)(sizeof(secret) + secret_overhead()),
			  SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = store_err(db, err, "saving a TOTP secret");
		goto out;
	}
	out->status = AUTH_LOGIN_MFA_ENROLMENT;
	login_reason(out, "password right, TOTP enrolment pending");
	rc = FOCAL_OK;
out:
	sqlite3_finalize(st);
	sodium_memzero(secret, sizeof(secret));
	return rc;
}

/* Account state that refuses any login, or NULL.  May disable an account
 * unused too long. */
static const char *login_account_refusal(const struct login_ctx *c, sqlite3 *db,
					 const struct user *u, int64_t now)
{
	int64_t used = u->last_used > u->created ? u->last_used : u->created;

	if (u->locked)
		return "account locked after failed logins";
	if (u->status != USER_ACTIVE)
		return "account disabled";
	if (u->valid_from > now || (u->valid_until != 0 && u->valid_until <= now))
		return "outside the account's validity dates";
	if (c->inactive_days > 0 && used < now - (int64_t)c->inactive_days * 86400) {
		login_exec2(db, "UPDATE users SET status = 1 WHERE id = ?1 AND status = ?2", u->id,
			    USER_ACTIVE);
		return "account unused too long: disabled now";
	}
	return NULL;
}

/* Checks code (TOTP or recovery) for u and consumes it.  NULL when right,
 * else why not. */
static const char *login_check_code(const struct login_ctx *c, sqlite3 *db, const struct user *u,
				    const struct user_cred *cred, const char *code, int64_t now)
{
	unsigned char secret[TOTP_SECRET_BYTES], hash[TOTP_RECOVERY_HASH];
	const char *why = NULL;
	int64_t step = 0;

	if (code == NULL || code[0] == '\0')
		return "code missing";
	if (strlen(code) == TOTP_DIGITS) {
		if (login_secret(c, u, cred, secret) != 0)
			return "TOTP secret does not open (key changed?)";
		if (totp_verify(secret, sizeof(secret), code, now, cred->totp_last_step, &step) !=
		    0)
			why = "wrong, expired or replayed TOTP code";
		/* the UPDATE is the check against a parallel use of the same code */
		else if (login_exec2(db,
				     "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND"
				     " totp_last_step < ?2",
				     u->id, step) != 1)
			why = "TOTP code replayed";
		sodium_memzero(secret, sizeof(secret));
		return why;
	}
	if (!totp_recovery_hash(code, hash))
		return "malformed code";
	{
		sqlite3_stmt *st = NULL;
		int n = -1;

		if (sqlite3_prepare_v2(db,
				       "UPDATE recovery_codes SET used = 1 WHERE user_id = ?1 AND"
				       " hash = ?2 AND used = 0",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, u->id);
			sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_DONE)
				n = sqlite3_changes(db);
		}
		sqlite3_finalize(st);
		return n == 1 ? NULL : "wrong or used recovery code";
	}
}

static void login_succeeded(sqlite3 *db, const struct user *u, int64_t now,
			    struct login_result *out)
{
	if (store_begin(db, NULL) == 0) {
		login_exec2(db, "DELETE FROM login_failures WHERE user_id = ?1 AND ?2 = ?2", u->id, 0);
		login_exec2(db, "UPDATE users SET last_used = ?2 WHERE id = ?1", u->id, now);
		store_commit(db, NULL);
	}
	store_rollback(db);
	out->status = AUTH_LOGIN_OK;
	out->p.mfa = true;
	out->p.auth_time_ms = store_now_ms();
	login_reason(out, "ok");
}

int login_verify(const struct login_ctx *c, const char *user, const char *password,
		 const char *code, const char *addr, bool allow_enrolment, int64_t now,
		 struct login_result *out, struct focal_err *err)
{
	struct user u;
	struct user_cred cred;
	sqlite3 *db = NULL;
	const char *why;
	bool pw_ok;
	int rc;

	memset(out, 0, sizeof(*out));
	out->status = AUTH_LOGIN_DENIED;
	snprintf(out->p.user, sizeof(out->p.user), "%s", user);
	snprintf(out->p.addr, sizeof(out->p.addr), "%s", addr);
	if (!throttle_allowed(addr, now)) {
		login_reason(out, "too many failures from this address");
		return FOCAL_OK;
	}
	if ((rc = store_acquire(c->st, &db, err)) != 0)
		return rc;
	rc = user_name_valid(user) ? user_get_db(db, user, &u, &cred, err) : FOCAL_E_INVAL;
	if (rc == FOCAL_E_INVAL) {
		(void)password_verify(NULL, password); /* the same work as for a real user */
		throttle_fail(addr, now);
		login_reason(out, "unknown user");
		rc = FOCAL_OK;
		goto out;
	}
	if (rc != 0)
		goto out;
	out->known_user = true;
	pw_ok = password_verify(cred.password_hash, password);
	user_to_principal(&u, &out->p);
	snprintf(out->p.addr, sizeof(out->p.addr), "%s", addr);
	if ((why = login_account_refusal(c, db, &u, now)) != NULL) {
		throttle_fail(addr, now);
		login_reason(out, why);
		goto out;
	}
	if (!pw_ok) {
		login_fail(c, db, u.id, addr, now, out);
		login_reason(out, "wrong password");
		goto out;
	}
	if (!u.mfa_enrolled) {
		if (allow_enrolment)
			rc = login_enrol_begin(c, db, &u, out, err);
		else
			login_reason(out, "TOTP not enrolled yet");
		goto out;
	}
	if ((why = login_check_code(c, db, &u, &cred, code, now)) != NULL) {
		login_fail(c, db, u.id, addr, now, out);
		login_reason(out, why);
		goto out;
	}
	login_succeeded(db, &u, now, out);
	/* a hash made at an older cost is upgraded while we know the password */
	if (password_needs_rehash(cred.password_hash)) {
		store_release(c->st, db);
		db = NULL;
		(void)user_set_password(c->st, u.username, password, NULL);
	}
out:
	sodium_memzero(&cred, sizeof(cred));
	store_release(c->st, db);
	return rc;
}

/* Marks user id enrolled in one transaction: with sealed, that secret
 * replaces any other (CLI enrolment); without, the pending secret must still
 * be pending (a parallel confirmation loses).  last_step is the step of the
 * confirming code (0: none).  Then the recovery-code hashes replace the old. */
static int login_store_enrolment(sqlite3 *db, int64_t id, const unsigned char *sealed,
				 size_t sealed_len, int64_t last_step,
				 unsigned char hashes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_HASH],
				 struct focal_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_begin(db, err)) != 0)
		return rc;
	if (sqlite3_prepare_v2(db,
			       sealed != NULL
				       ? "UPDATE users SET totp_secret = ?3, totp_enrolled = 1,"
					 " totp_last_step = ?2 WHERE id = ?1"
				       : "UPDATE users SET totp_enrolled = 1, totp_last_step = ?2"
					 " WHERE id = ?1 AND totp_enrolled = 0",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, last_step);
	if (sealed != NULL)
		sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (login_exec2(db, "DELETE FROM recovery_codes WHERE user_id = ?1 AND ?2 = ?2", id, 0) < 0 ||
	    sqlite3_prepare_v2(db, "INSERT INTO recovery_codes (user_id, hash) VALUES (?1, ?2)", -1,
			       &st, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < TOTP_RECOVERY_CODES; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_blob(st, 2, hashes[i], TOTP_RECOVERY_HASH, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return store_commit(db, err);
fail:
	rc = store_err(db, err, "enrolling TOTP");
	sqlite3_finalize(st);
	store_rollback(db);
	return rc;
}

int login_enrol_finish(const struct login_ctx *c, const char *user, const char *code,
		       int64_t now, struct login_result *out, struct focal_err *err)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	unsigned char hashes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_HASH];
	struct user u;
	struct user_cred cred;
	sqlite3 *db = NULL;
	const char *why;
	int64_t step = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->status = AUTH_LOGIN_DENIED;
	if ((rc = store_acquire(c->st, &db, err)) != 0)
		return rc;
	if ((rc = user_get_db(db, user, &u, &cred, err)) != 0) {
		if (rc == FOCAL_E_INVAL) {
			login_reason(out, "unknown user");
			rc = FOCAL_OK;
		}
		goto out;
	}
	out->known_user = true;
	user_to_principal(&u, &out->p);
	if ((why = login_account_refusal(c, db, &u, now)) != NULL) {
		login_reason(out, why);
		goto out;
	}
	if (u.mfa_enrolled) {
		login_reason(out, "TOTP already enrolled");
		goto out;
	}
	if (login_secret(c, &u, &cred, secret) != 0) {
		login_reason(out, "no pending TOTP secret");
		goto out;
	}
	rc = totp_verify(secret, sizeof(secret), code ? code : "", now, cred.totp_last_step, &step);
	sodium_memzero(secret, sizeof(secret));
	if (rc != 0) {
		rc = FOCAL_OK;
		login_fail(c, db, u.id, "", now, out);
		login_reason(out, "wrong TOTP code at enrolment");
		goto out;
	}
	totp_recovery_new(out->recovery, hashes);
	if ((rc = login_store_enrolment(db, u.id, NULL, 0, step, hashes, err)) != 0)
		goto out;
	out->has_recovery = true;
	login_succeeded(db, &u, now, out);
out:
	if (rc != 0 || !out->has_recovery)
		sodium_memzero(out->recovery, sizeof(out->recovery));
	sodium_memzero(&cred, sizeof(cred));
	store_release(c->st, db);
	return rc;
}

int login_enrol_direct(const struct login_ctx *c, const char *user, struct login_result *out,
		       struct focal_err *err)
{
	unsigned char secret[TOTP_SECRET_BYTES], sealed[TOTP_SECRET_BYTES + 64];
	unsigned char hashes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_HASH];
	char ctx[PRINCIPAL_ID_MAX + 8];
	struct user u;
	sqlite3 *db = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_acquire(c->st, &db, err)) != 0)
		return rc;
	if ((rc = user_get_db(db, user, &u, NULL, err)) != 0)
		goto out;
	totp_secret_new(secret);
	login_context(u.username, ctx, sizeof(ctx));
	totp_recovery_new(out->recovery, hashes);
	if ((rc = secret_seal(c->key, secret, sizeof(secret), ctx, sealed, err)) != 0 ||
	    (rc = totp_uri(secret, sizeof(secret), c->issuer, u.username, &out->otpauth_uri,
			   err)) != 0 ||
	    (rc = login_store_enrolment(db, u.id, sealed, sizeof(secret) + secret_overhead(), 0,
					hashes, err)) != 0)
		goto out;
	out->has_recovery = true;
	out->status = AUTH_LOGIN_OK;
out:
	sodium_memzero(secret, sizeof(secret));
	store_release(c->st, db);
	if (rc != 0)
		login_result_clear(out);
	return rc;
}
