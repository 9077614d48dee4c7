/*
 * auth: officer accounts, Argon2id passwords, TOTP, brute-force protection and
 * sessions (issue 4); the `auth:` section and the identity endpoints.
 *
 * Scaffold: only the configuration hook and route table so far.
 */
#ifndef FOCAL_AUTH_H
#define FOCAL_AUTH_H

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

/* Who sent req: a valid session (cookie, with the CSRF header on
 * state-changing requests) or bearer token.  Returns FOCAL_OK and fills *out,
 * or FOCAL_E_DENIED with a message to show (401).  When focald runs with
 * --dev-insecure-no-auth and the request carries no credentials, *out is the
 * development principal "dev" (roles officer, admin, auditor; clearance
 * strictly confidential). */
int auth_request_principal(struct evhttp_request *req, struct server_loop *sl,
			   struct auth_principal *out, struct focal_err *err);

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route auth_api_routes[];

#endif
