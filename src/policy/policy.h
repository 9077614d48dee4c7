/*
 * policy: attribute-based access control: load, validate, decide with the rule that
 * decided (issue 5); the `policy:` section.
 *
 * Scaffold: only the configuration hook and route table so far.
 */
#ifndef FOCAL_POLICY_H
#define FOCAL_POLICY_H

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct policy_config;

/* Parses the `policy:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int policy_config_parse(const struct cfg_node *n, struct policy_config **out, struct focal_err *err);
void policy_config_free(struct policy_config *c); /* NULL-safe */

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route policy_api_routes[];

#endif
