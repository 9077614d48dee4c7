/*
 * audit: the append-only, hash-chained audit log with signed checkpoints, its
 * verification and oversight queries (issue 5); the `audit:` section.
 *
 * Scaffold: only the configuration hook and route table so far.
 */
#ifndef FOCAL_AUDIT_H
#define FOCAL_AUDIT_H

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct audit_config;

/* Parses the `audit:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int audit_config_parse(const struct cfg_node *n, struct audit_config **out, struct focal_err *err);
void audit_config_free(struct audit_config *c); /* NULL-safe */

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route audit_api_routes[];

#endif
