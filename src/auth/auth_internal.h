/*
 * auth_internal: what auth.c, auth_api.c and the `focal user` CLI share and
 * nobody else needs — the parsed `auth:` section, the runtime (store,
 * sealing key, login settings), the login job and the enrolment tokens.
 */
#ifndef FOCAL_AUTH_INTERNAL_H
#define FOCAL_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "auth/login.h"
#include "auth/principal.h"

#define AUTH_COOKIE "focal_session"

struct auth_config {
	char *key_file;            /* absolute; NULL: focal-auth.key next to the config */
	char *issuer;              /* TOTP issuer label; NULL: "Focal" */
	long argon2_memory_kib;    /* 65536 */
	long argon2_ops;           /* 3 */
	long lockout_failures;     /* 5; 0 = lockout off */
	long lockout_window_s;     /* 900 */
	long address_failures;     /* 20; 0 = throttling off */
	long address_window_s;     /* 300 */
	long idle_timeout_s;       /* 1800 */
	long absolute_timeout_s;   /* 43200 */
	long inactive_days;        /* 90; 0 = never */
	long enrolment_timeout_s;  /* 600 */
};

void auth_config_defaults(struct auth_config *c);

struct secret_key;
struct store;

struct auth_runtime {
	bool started;
	struct auth_config cfg;    /* strings NULL: see issuer */
	char issuer[128];
	struct store *st;
	struct secret_key *key;
	struct login_ctx login;
};

/* Opens store and key of cfg into rt (no session thread): focald through
 * auth_start, the CLI directly.  auth_close undoes it. */
int auth_open(const struct config *cfg, struct auth_runtime *rt, struct focal_err *err);
void auth_close(struct auth_runtime *rt);
/* The runtime of auth_start, or NULL. */
const struct auth_runtime *auth_runtime(void);

struct auth_login_args {
	const char *user, *password, *code, *addr;
	bool allow_enrolment; /* login endpoint: offer TOTP enrolment */
	bool enrol_finish;    /* confirm the pending secret of user with code */
};

/* Like auth_login_start, with the whole result (enrolment, recovery codes);
 * res is valid during done() only.  rc FOCAL_OK means status OK or
 * MFA_ENROLMENT. */
int auth_login_submit(struct loop *loop, const struct auth_login_args *a,
		      void (*done)(int rc, struct login_result *res, const char *msg, void *arg),
		      void *arg, struct focal_err *err);

/* Session of req (cookie with CSRF check on state-changing methods, or
 * bearer).  csrf (SESSION_CSRF_HEX+1), expires_at, token_out
 * (SESSION_TOKEN_HEX+1) may be NULL. */
int auth_request_session(struct evhttp_request *req, struct auth_principal *out, char *csrf,
			 int64_t *expires_at, char *token_out, struct focal_err *err);

/* Enrolment tokens: a short-lived, single-use handle on "this user proved
 * the password and is enrolling TOTP", held in memory (all loops). */
int auth_enrolment_new(const char *user, const char *cert_fp, long ttl_s, char out[44]);
/* Finds token: FOCAL_OK and user/cert_fp of it; counts an attempt (a token
 * dies after 5).  consume: forget it now. */
int auth_enrolment_get(const char *token, bool consume, char user[PRINCIPAL_ID_MAX],
		       char cert_fp[65]);
void auth_enrolment_clear(void);

#endif
