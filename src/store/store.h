/*
 * store: focald's internal state (users, sessions, keys): SQLite in WAL mode by default,
 * PostgreSQL when several nodes share it (DESIGN.md, State).
 *
 * Scaffold: only the configuration hook so far.
 */
#ifndef FOCAL_STORE_H
#define FOCAL_STORE_H

#include "core/err.h"

struct cfg_node;
struct store_config;

/* Parses the `store:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int store_config_parse(const struct cfg_node *n, struct store_config **out, struct focal_err *err);
void store_config_free(struct store_config *c); /* NULL-safe */

#endif
