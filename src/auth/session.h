/*
 * session: login sessions of focald — 256-bit random tokens, stored only as
 * their SHA-256, with an idle and an absolute timeout, optionally bound to
 * the fingerprint of the client certificate presented at login.
 *
 * The authoritative copy of every live session is an in-memory table shared
 * by all event loops (a mutex guards it; lookups are O(1) and never block on
 * I/O), persisted write-behind to the store's `sessions` table so sessions
 * survive a restart.  A maintenance thread re-reads the store whenever
 * another connection changed it (PRAGMA data_version, every 250 ms), so a
 * user disabled or a session revoked by the CLI or another thread is dropped
 * from memory within a second.
 *
 * All functions are safe from any thread; none blocks on I/O except
 * session_init/session_shutdown.
 */
#ifndef FOCAL_SESSION_H
#define FOCAL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/err.h"

struct store;

#define SESSION_TOKEN_HEX 64   /* 32 random bytes as lower-case hex */
#define SESSION_CSRF_HEX 43    /* 32 random bytes, base64url without padding */

/* What a new session gives its holder. */
struct session_grant {
	char token[SESSION_TOKEN_HEX + 1];  /* secret: cookie value or bearer token */
	char csrf[SESSION_CSRF_HEX + 1];    /* X-CSRF-Token value for cookie requests */
	char id[PRINCIPAL_ID_MAX];          /* public id (logs, audit, admin) */
	int64_t expires_at;                 /* absolute end, Unix seconds */
	long idle_timeout_s;
};

struct session_limits {
	long idle_timeout_s;     /* default 1800 */
	long absolute_timeout_s; /* default 43200 */
	long inactive_days;      /* the maintenance thread disables accounts unused this
				  * long (user_disable_inactive, hourly); 0 = never */
};

/* Loads the live sessions from st and starts the maintenance thread.  st
 * stays the caller's and must outlive session_shutdown(). */
int session_init(struct store *st, const struct session_limits *lim, struct focal_err *err);
void session_shutdown(void); /* NULL-safe to call when never initialised */

/* Creates a session for p (user, name, unit, roles, clearance, auth_time_ms,
 * mfa must be set; addr too).  cert_fp is the SHA-256 fingerprint (hex) of
 * the client certificate, or NULL/"" when none was presented: the session is
 * then usable only with the same certificate.  Does not block: the store
 * write happens on the worker pool.  *out holds the secret token: wipe it
 * (sodium_memzero) when sent. */
int session_create(const struct auth_principal *p, const char *cert_fp,
		   struct session_grant *out, struct focal_err *err);

/* Looks token up: FOCAL_OK and *out (the session's principal with
 * session_id, device_cert, mfa, auth_time_ms set; addr left as stored at
 * login) when it is live, the certificate binding matches and neither timeout
 * passed; touches its idle timer.  csrf_out (may be NULL, SESSION_CSRF_HEX+1
 * bytes) receives the session's CSRF token; expires_at (may be NULL) the
 * absolute end.  FOCAL_E_DENIED otherwise (the session is then ended if it
 * expired). */
int session_lookup(const char *token, const char *cert_fp, struct auth_principal *out,
		   char *csrf_out, int64_t *expires_at, struct focal_err *err);

/* Ends the session holding token (logout).  FOCAL_OK even if unknown. */
int session_revoke(const char *token, const char *reason);
/* Ends every session of user (admin revocation, disable, role change).
 * Returns how many ended. */
size_t session_revoke_user(const char *user, const char *reason);

/* True when user is active, not locked and inside its validity dates, as of
 * the last refresh from the store (at most ~250 ms after a change by another
 * connection, at once after a change in this process).  false before
 * session_init. */
bool session_user_active(const char *user);
/* Re-reads users and sessions from the store now (blocking; tests, and
 * callers that changed the store through their own connection). */
void session_refresh(void);

/* Number of live sessions (metrics, tests). */
size_t session_count(void);

/* The limits in force. */
void session_get_limits(struct session_limits *out);

#endif
