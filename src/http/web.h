/*
 * web: the officer app and the consoles: static files from web/ served with a
 * strict Content-Security-Policy (issue 6); the `web:` section.
 *
 * Scaffold: only the configuration hook and route table so far.
 */
#ifndef FOCAL_WEB_H
#define FOCAL_WEB_H

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct web_config;

/* Parses the `web:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int web_config_parse(const struct cfg_node *n, struct web_config **out, struct focal_err *err);
void web_config_free(struct web_config *c); /* NULL-safe */

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route web_routes[];

#endif
