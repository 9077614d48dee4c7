/*
 * user: officer accounts in the store — who exists, their roles, unit,
 * clearance, status and validity, and the administrative changes to them.
 *
 * Every function here blocks (SQLite): call from a worker of the pool
 * (core/workpool.h), from the CLI, or from a thread of your own, never from
 * an event loop.  Event loops use auth_user_active() (auth.h) and the
 * session cache (session.h), which are in memory.
 *
 * A user's status is "active" or "disabled"; lockout after failed logins is
 * a separate flag (locked) an administrator clears with user_unlock().  An
 * account may log in when it is active, not locked, inside its validity
 * dates and used within the inactivity limit (auth: inactive_days).
 */
#ifndef FOCAL_USER_H
#define FOCAL_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/err.h"

struct store;
struct sqlite3;

enum user_status { USER_ACTIVE = 0, USER_DISABLED = 1 };

struct user {
	int64_t id;
	char username[PRINCIPAL_ID_MAX];    /* login name, [a-z0-9._-], 1..63 chars */
	char name[PRINCIPAL_NAME_MAX];      /* display name */
	char unit[PRINCIPAL_ID_MAX];
	char roles[PRINCIPAL_MAX_ROLES][PRINCIPAL_ID_MAX];
	size_t nroles;
	enum classification clearance;
	enum user_status status;
	bool locked;                        /* brute-force lockout, until user_unlock() */
	bool mfa_enrolled;                  /* TOTP confirmed */
	int64_t valid_from, valid_until;    /* Unix seconds; 0 = unbounded */
	int64_t last_used;                  /* last successful login (Unix s); 0 = never */
	int64_t created;
};

/* Fills a principal (user, name, unit, roles, clearance) from u; the
 * request-specific fields (addr, session, device, auth_time, mfa) are zero. */
void user_to_principal(const struct user *u, struct auth_principal *p);

/* Validation of what administrators type. */
bool user_name_valid(const char *username);
bool user_role_valid(const char *role); /* officer, admin, auditor */
/* Parses "not sensitive", "restricted", "strictly confidential" (also with
 * '_' or '-' for the spaces). */
int user_clearance_parse(const char *s, enum classification *out);

/* Reads one account.  FOCAL_E_INVAL when there is no such user. */
int user_get(struct store *st, const char *username, struct user *out, struct focal_err *err);
/* All accounts, ordered by username.  *out (calloc'd array) is the caller's. */
int user_list(struct store *st, struct user **out, size_t *n, struct focal_err *err);

/* Creates an account (status active, not enrolled).  password may be NULL:
 * the account then cannot log in until an administrator sets one
 * (user_set_password).  The password is checked against the policy
 * (password.h).  FOCAL_E_INVAL when the name exists or a field is invalid. */
int user_create(struct store *st, const struct user *u, const char *password,
		struct focal_err *err);
int user_set_password(struct store *st, const char *username, const char *password,
		      struct focal_err *err);
int user_set_roles(struct store *st, const char *username, char roles[][PRINCIPAL_ID_MAX],
		   size_t nroles, struct focal_err *err);
/* Disabling also deletes the user's sessions in the store; running focald
 * processes drop them from memory within a second (session.h). */
int user_set_status(struct store *st, const char *username, enum user_status s,
		    struct focal_err *err);
/* Clears the lockout and the failure counter. */
int user_unlock(struct store *st, const char *username, struct focal_err *err);
/* Forgets the TOTP secret and recovery codes and ends the sessions:
 * enrolment again at next login. */
int user_reset_mfa(struct store *st, const char *username, struct focal_err *err);

/* Disables active accounts not used (no login, or created if never) for
 * inactive_days days before now.  *n (may be NULL) gets how many. */
int user_disable_inactive(struct store *st, long inactive_days, int64_t now, size_t *n,
			  struct focal_err *err);

/* ---- for the login code of auth (same thread, inside its transaction) ---- */

#define USER_TOTP_SEALED_MAX 128

struct user_cred {
	char password_hash[128];
	unsigned char totp_sealed[USER_TOTP_SEALED_MAX];
	size_t totp_sealed_len;   /* 0: no secret (not even a pending enrolment) */
	int64_t totp_last_step;
};

/* Reads u and its credentials over db.  FOCAL_E_INVAL when there is no such user. */
int user_get_db(struct sqlite3 *db, const char *username, struct user *u, struct user_cred *c,
		struct focal_err *err);

#endif
