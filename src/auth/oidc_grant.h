/*
 * oidc_grant: the short-lived state of the OpenID Connect provider, in memory
 * and shared by all event loops under one mutex — pending sign-ins (an
 * authorization request waiting for the login form), authorization codes, and
 * revoked access tokens.
 *
 * Codes are 256-bit random values kept only as their SHA-256; each is
 * redeemable once.  A code presented a second time is a replay (RFC 6749
 * 4.1.2): it fails, and the access token issued for it is revoked.  Entries
 * expire on their own; tables are bounded (a full table refuses new entries
 * rather than growing).  Nothing here survives a restart, by design: codes
 * live 60 s and a restart only costs a new sign-in.
 */
#ifndef FOCAL_OIDC_GRANT_H
#define FOCAL_OIDC_GRANT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/err.h"

#define OIDC_PARAM_MAX 256
#define OIDC_URI_MAX 512
#define OIDC_SECRET_B64 44 /* 32 random bytes, base64url without padding (43) + NUL */
#define OIDC_JTI_MAX 44

/* A validated authorization request (everything needed to answer it). */
struct oidc_authz {
	char client_id[PRINCIPAL_ID_MAX];
	char redirect_uri[OIDC_URI_MAX];
	char scope[OIDC_PARAM_MAX];
	char state[OIDC_PARAM_MAX];
	char nonce[OIDC_PARAM_MAX];
	char challenge[OIDC_SECRET_B64]; /* PKCE S256 code_challenge */
};

/* Returns out filled with 32 random bytes in base64url (43 characters). */
int oidc_grant_random(char out[OIDC_SECRET_B64], struct focal_err *err);

/* Pending sign-in: stores a, returns its id (the form's and cookie's value). */
int oidc_grant_txn_new(const struct oidc_authz *a, int64_t ttl_s, char id[OIDC_SECRET_B64],
		       struct focal_err *err);
/* Looks id up and counts an attempt: FOCAL_OK and *a, or FOCAL_E_DENIED when
 * unknown, expired or past max_attempts. */
int oidc_grant_txn_use(const char *id, int max_attempts, struct oidc_authz *a,
		       struct focal_err *err);
void oidc_grant_txn_end(const char *id);

/* Issues a code for a (the request) and p (who signed in). */
int oidc_grant_code_new(const struct oidc_authz *a, const struct auth_principal *p,
			int64_t ttl_s, char code[OIDC_SECRET_B64], struct focal_err *err);

/* Redeems code once.  FOCAL_OK with *a and *p.  FOCAL_E_DENIED when unknown or
 * expired; on a second redemption also revokes the access token recorded with
 * oidc_grant_code_issued (*replay set true). */
int oidc_grant_code_take(const char *code, struct oidc_authz *a, struct auth_principal *p,
			 bool *replay, struct focal_err *err);
/* Records the jti of the access token issued for code (revoked on replay). */
void oidc_grant_code_issued(const char *code, const char *jti, int64_t exp);

/* True when the access token jti was revoked. */
bool oidc_grant_revoked(const char *jti);

/* Frees everything (tests, shutdown). */
void oidc_grant_reset(void);

#endif
