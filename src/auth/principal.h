/*
 * principal: who is asking — the authenticated subject of a request, as the
 * identity module establishes it (session cookie, bearer token, or a token
 * of a trusted external identity provider) and as policy and audit read it.
 *
 * A principal is a plain value owned by the request that holds it; nothing in
 * it is secret (the session token itself never appears here, only its id).
 */
#ifndef FOCAL_PRINCIPAL_H
#define FOCAL_PRINCIPAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h" /* enum classification */

#define PRINCIPAL_MAX_ROLES 16
#define PRINCIPAL_ID_MAX 64
#define PRINCIPAL_NAME_MAX 128

struct auth_principal {
	char user[PRINCIPAL_ID_MAX];        /* login name, e.g. "jpeeters" */
	char name[PRINCIPAL_NAME_MAX];      /* display name */
	char unit[PRINCIPAL_ID_MAX];        /* e.g. "ANT-PATROL-3" */
	char roles[PRINCIPAL_MAX_ROLES][PRINCIPAL_ID_MAX];
	size_t nroles;
	enum classification clearance;      /* highest classification the user may see */
	int64_t auth_time_ms;               /* when the password + MFA login happened (Unix ms) */
	bool mfa;                           /* second factor verified in this session */
	bool device_cert;                   /* a client (vehicle terminal) certificate was presented */
	char device[PRINCIPAL_NAME_MAX];    /* that certificate's subject CN, or "" */
	char addr[64];                      /* client IP address */
	char session_id[PRINCIPAL_ID_MAX];  /* public id of the session (not the token), or "" */
	char issuer[PRINCIPAL_NAME_MAX];    /* "" for local accounts, else the trusted IdP */
};

/* True when p holds role. */
bool principal_has_role(const struct auth_principal *p, const char *role);

#endif
