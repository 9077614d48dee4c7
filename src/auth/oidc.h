/*
 * oidc: focald as an OpenID Connect provider for other police applications
 * (single sign-on), and the `oidc:` section of the configuration, which also
 * holds the trusted external identity providers (federation.h).
 *
 * Endpoints (when `oidc: issuer` is set):
 *   GET  /.well-known/openid-configuration   discovery document
 *   GET  /oidc/jwks                          public signing keys (all published kids)
 *   GET  /oidc/authorize                     authorization code flow, PKCE S256 required
 *   POST /oidc/login                         the sign-in form of /oidc/authorize
 *   POST /oidc/token                         code exchange (client_secret_basic/post, or
 *                                            a public client with PKCE only)
 *   GET/POST /oidc/userinfo                  claims for a bearer access token
 * ID and access tokens are ES256 JWS made with libcjose (jwk.h); codes and
 * sign-ins in progress live in memory (oidc_grant.h).  See docs/identity-sso.md.
 */
#ifndef FOCAL_OIDC_H
#define FOCAL_OIDC_H

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct oidc_config;
struct federation;

/* Parses the `oidc:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Signing keys and JWKS
 * files are read now.  Errors name file:line:col. */
int oidc_config_parse(const struct cfg_node *n, struct oidc_config **out, struct focal_err *err);
void oidc_config_free(struct oidc_config *c); /* NULL-safe */

/* The trusted issuers of c, for federation_verify (NULL when c is NULL or
 * has none). */
const struct federation *oidc_federation(const struct oidc_config *c);

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route oidc_api_routes[];

#endif
