/*
 * federation: trust in external identity providers (e.g. the federal police's
 * IdP).  Their bearer tokens (JWS-signed JWTs) presented to focald are
 * verified — signature by a key of the issuer's JWKS, alg on the issuer's
 * allow-list, iss, aud, exp, nbf, iat with a small clock skew — and mapped to
 * a local struct auth_principal through claim-to-role rules.  Unknown issuers,
 * users no rule gives a role, and every failed check are denied and audited.
 *
 * Configured under `oidc: trusted_issuers:` (see docs/identity-sso.md).  The
 * JWKS comes from a file (read at load) or an HTTPS URL (fetched with libcurl
 * by federation_fetch() when focald starts or reloads — never while parsing,
 * so `focald --check` and the config fuzzer stay offline — and again, on a thread of its own, when the cache expires or a
 * token names an unknown kid — never on an event loop).
 *
 * A struct federation is part of the immutable configuration; only its key
 * caches change, under their own lock.  federation_verify is safe from any
 * thread and never blocks on I/O.
 */
#ifndef FOCAL_FEDERATION_H
#define FOCAL_FEDERATION_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/principal.h"
#include "core/err.h"

struct cfg_node;
struct federation;
struct jwk_set;

/* Parses the `trusted_issuers:` sequence (n may be NULL: no trusted issuer;
 * *out then stays NULL).  JWKS files are read now; URLs are not fetched (no
 * network while parsing): see federation_fetch.  Errors name file:line:col. */
int federation_config_parse(const struct cfg_node *n, struct federation **out,
			    struct focal_err *err);
void federation_free(struct federation *f); /* NULL-safe */

/* Fetches the JWKS of every jwks_url issuer of f that has no keys yet (f may
 * be NULL).  Blocks (HTTPS, 5 s at most per issuer): focald's start-up and
 * reload only, never an event loop.  A URL that cannot be fetched is logged
 * and retried in the background when a token arrives. */
void federation_fetch(const struct federation *f);

/* True when token has the shape of a compact JWS (three base64url parts), as
 * opposed to a focald session token (64 hex digits). */
bool federation_is_jwt(const char *token);

/* Verifies a bearer JWT from a trusted issuer and maps it.  f may be NULL (no
 * trusted issuer: every token is denied).  FOCAL_OK with *out filled (user,
 * name, unit, roles, clearance, auth_time_ms, mfa, issuer; addr and session
 * fields left empty) or FOCAL_E_DENIED with the reason in err; every denial
 * is recorded with audit_event("auth.federation.denied"). */
int federation_verify(const struct federation *f, const char *jwt, struct auth_principal *out,
		      struct focal_err *err);

struct evhttp_request;
struct server_loop;

/* For auth_request_principal(): when req carries "Authorization: Bearer <JWT>"
 * (a compact JWS, not a 64-hex session token), verifies it with
 * federation_verify against the trusted issuers of the loop's configuration
 * and returns true with *rc FOCAL_OK (*out filled, addr set) or
 * FOCAL_E_DENIED (err says why; answer 401).  Returns false, touching
 * nothing, when the request carries no such token (sessions apply). */
bool federation_request(struct evhttp_request *req, struct server_loop *sl,
			struct auth_principal *out, int *rc, struct focal_err *err);

/* Configuration helper shared with oidc.c: a sequence of 1..max strings
 * under key (absent: out and *n untouched; otherwise out[0..*n) are
 * malloc'd copies owned by the caller). */
int federation_cfg_strings(const struct cfg_node *map, const char *key, char **out, size_t max,
			   size_t *n, struct focal_err *err);

/* For tests: replaces the cached keys of issuer iss with a copy of the JWKS
 * text json (as if just fetched).  FOCAL_E_INVAL when iss is not trusted. */
int federation_set_jwks(const struct federation *f, const char *iss, const char *json,
			struct focal_err *err);

#endif
