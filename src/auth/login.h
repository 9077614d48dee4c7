/*
 * login: the checks of one login attempt — throttle, account state, password
 * (Argon2id), TOTP or recovery code, failure counting and lockout — and of
 * TOTP enrolment.  Blocking (Argon2id, SQLite): auth.c runs these on the
 * worker pool; tests call them directly.
 *
 * Every attempt takes the same path whatever fails first: the password is
 * always verified (against a dummy hash for unknown users or accounts
 * without one) before any other answer is decided, so neither the reply nor
 * its timing tells whether a username exists.
 */
#ifndef FOCAL_LOGIN_H
#define FOCAL_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "auth/principal.h"
#include "auth/totp.h"
#include "core/err.h"

struct store;
struct secret_key;

struct login_ctx {
	struct store *st;
	const struct secret_key *key;
	long lockout_failures;  /* 0 = no lockout */
	long lockout_window_s;
	long inactive_days;     /* 0 = never disable */
	const char *issuer;     /* TOTP issuer label */
};

struct login_result {
	enum auth_login_status status;
	struct auth_principal p;    /* AUTH_LOGIN_OK / MFA_ENROLMENT: the user */
	char reason[160];           /* the real reason, for logs and audit only */
	bool locked_now;            /* this failure locked the account */
	bool known_user;
	/* AUTH_LOGIN_MFA_ENROLMENT (malloc'd, contain the secret) */
	char *otpauth_uri;
	char *qr_png;
	/* login_enrol_finish: the new recovery codes, shown once */
	bool has_recovery;
	char recovery[TOTP_RECOVERY_CODES][TOTP_RECOVERY_LEN + 1];
};

/* One attempt at Unix time now.  code is a 6-digit TOTP code or a recovery
 * code (may be NULL or ""); allow_enrolment: a right password of an account
 * without TOTP yields AUTH_LOGIN_MFA_ENROLMENT with a fresh pending secret
 * (else it is denied).  Returns FOCAL_OK with out->status set, or an error
 * (store unavailable). */
int login_verify(const struct login_ctx *c, const char *user, const char *password,
		 const char *code, const char *addr, bool allow_enrolment, int64_t now,
		 struct login_result *out, struct focal_err *err);

/* Confirms the pending secret of user with code: enrols TOTP, makes 10 new
 * recovery codes, marks the login.  out->status AUTH_LOGIN_OK or DENIED. */
int login_enrol_finish(const struct login_ctx *c, const char *user, const char *code,
		       int64_t now, struct login_result *out, struct focal_err *err);

/* Enrols TOTP for user at once, without a confirming code (the CLI, when
 * the administrator hands the QR code over in person): a fresh secret,
 * enrolled, 10 new recovery codes; any earlier secret is replaced.
 * out->otpauth_uri and out->recovery are filled. */
int login_enrol_direct(const struct login_ctx *c, const char *user, struct login_result *out,
		       struct focal_err *err);

void login_result_clear(struct login_result *r); /* wipes and frees; NULL-safe */

#endif
