/*
 * audit: the append-only, hash-chained audit log with signed checkpoints, its
 * verification and oversight queries (issue 5); the `audit:` section.
 *
 * Scaffold: only the configuration hook and route table so far.
 */
#ifndef FOCAL_AUDIT_H
#define FOCAL_AUDIT_H

#include "core/err.h"
#include <jansson.h>

#include "http/reply.h"

struct cfg_node;
struct audit_config;

/* Parses the `audit:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int audit_config_parse(const struct cfg_node *n, struct audit_config **out, struct focal_err *err);
void audit_config_free(struct audit_config *c); /* NULL-safe */

struct auth_principal;

/* Records a security event other than a search (login, login failure, MFA,
 * session end, policy or admin change): type such as "auth.login.failure",
 * who may be NULL (unknown user), fields (stolen, may be NULL) holds the
 * details.  Safe from any thread; returns at once (the event is made durable
 * by the audit writer).  Returns FOCAL_OK or an error when the audit log
 * cannot take the event — the caller then refuses the action (fail closed). */
int audit_event(const char *type, const struct auth_principal *who, json_t *fields,
		struct focal_err *err);

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route audit_api_routes[];

#endif
