/*
 * auth: officer accounts, Argon2id passwords, TOTP, brute-force protection and
 * sessions (issue 4); the `auth:` section and the identity endpoints.
 *
 * Runtime: auth_start() (called by focald's server_start once the
 * configuration is loaded) opens the store, loads the sessions and starts the
 * maintenance thread; auth_stop() undoes it.  Login verification
 * (auth_login_start) runs Argon2id and SQLite on the worker pool and posts
 * its result back to the calling loop.
 */
#ifndef FOCAL_AUTH_H
#define FOCAL_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct auth_config;

/* Parses the `auth:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int auth_config_parse(const struct cfg_node *n, struct auth_config **out, struct focal_err *err);
void auth_config_free(struct auth_config *c); /* NULL-safe */

struct evhttp_request;
struct server_loop;
struct auth_principal;
struct config;
struct loop;
struct store;

/* Opens the store of cfg (relative to cfg->path), loads the sessions, starts
 * the maintenance thread.  Blocking: call once at start-up. */
int auth_start(const struct config *cfg, struct focal_err *err);
void auth_stop(void); /* safe when never started */
/* The store opened by auth_start (NULL before). */
struct store *auth_store(void);

/* Result of a login verification, for the done() callback (valid only
 * during the call). */
enum auth_login_status {
	AUTH_LOGIN_OK = 0,         /* password and TOTP (or recovery code) right */
	AUTH_LOGIN_DENIED,         /* wrong anything, unknown, locked, disabled, expired, throttled */
	AUTH_LOGIN_MFA_ENROLMENT,  /* password right, no TOTP enrolled yet */
	AUTH_LOGIN_ERROR,          /* store or worker pool unavailable (503) */
};

/* Verifies user + password + totp (or a recovery code in totp's place when
 * it is not 6 digits) asynchronously: Argon2id and the store run on the worker
 * pool; done() runs later on loop's thread, always exactly once (unless this
 * returns an error).  rc is FOCAL_OK with p the user's principal (auth_time_ms,
 * mfa=true and addr filled), or FOCAL_E_DENIED (msg is the generic message to
 * show: "invalid username, password or code" — the real reason is logged and
 * audited), or another FOCAL_E_* (msg says why; 503).  An account whose TOTP is
 * not enrolled yet yields FOCAL_E_DENIED here (only the login endpoint offers
 * enrolment).  Unknown users take as long as known ones.  Failures count
 * toward lockout and per-address throttling.  No session is created: see
 * session_create().  Strings are copied before this returns. */
int auth_login_start(struct loop *loop, const char *user, const char *password,
		     const char *totp, const char *addr,
		     void (*done)(int rc, const struct auth_principal *p, const char *msg,
				  void *arg),
		     void *arg);

/* True when user exists, is active, not locked and within validity: in
 * memory, non-blocking, refreshed from the store within a second of any
 * change (so token issuers can refuse disabled users at once). */
bool auth_user_active(const char *user);

/* SHA-256 fingerprint (lower-case hex, 65 bytes) of the client certificate
 * presented on req's TLS connection, or "" when none.  Also fills subject
 * CN into cn (may be NULL) when present. */
void auth_request_cert(struct evhttp_request *req, char fp[65], char *cn, size_t cnlen);

/* Session token presented by req: the focal_session cookie or an
 * "Authorization: Bearer" header (NULL when none).  *from_cookie tells which.
 * Returns a pointer into buf (buflen >= 65). */
const char *auth_request_token(struct evhttp_request *req, char *buf, size_t buflen,
			       bool *from_cookie);

/* Who sent req: a valid session (cookie, with the CSRF header on
 * state-changing requests) or bearer token.  Returns FOCAL_OK and fills *out,
 * or FOCAL_E_DENIED with a message to show (401), or FOCAL_E_INVAL when a
 * cookie-authenticated POST/PUT/DELETE lacks the right X-CSRF-Token (403);
 * auth_reply_denied() sends the right reply for either.  When focald runs with
 * --dev-insecure-no-auth and the request carries no credentials, *out is the
 * development principal "dev" (roles officer, admin, auditor; clearance
 * strictly confidential). */
int auth_request_principal(struct evhttp_request *req, struct server_loop *sl,
			   struct auth_principal *out, struct focal_err *err);

/* Replies to a request auth_request_principal refused with rc (401, 403
 * or 503) and msg. */
void auth_reply_denied(struct evhttp_request *req, int rc, const char *msg);

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route auth_api_routes[];

#endif
