/*
 * oidc: focald as an OpenID Connect provider for other police applications, and
 * trust in external identity providers (issue 4); the `oidc:` section.
 *
 * Scaffold: only the configuration hook and route table so far.
 */
#ifndef FOCAL_OIDC_H
#define FOCAL_OIDC_H

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct oidc_config;

/* Parses the `oidc:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int oidc_config_parse(const struct cfg_node *n, struct oidc_config **out, struct focal_err *err);
void oidc_config_free(struct oidc_config *c); /* NULL-safe */

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route oidc_api_routes[];

#endif
