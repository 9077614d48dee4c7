/*
 * store: focald's internal state (users, sessions, keys): SQLite in WAL mode by default,
 * PostgreSQL when several nodes share it (DESIGN.md, State).
 *
 * A struct store is a small pool of SQLite connections to one database file,
 * shared by every thread: store_acquire() hands a thread a connection of its
 * own for the duration of a unit of work, store_release() gives it back.  All
 * calls block (disk, locks): call them from a worker of the pool
 * (core/workpool.h), from the CLI, or from a thread of your own — never from
 * an event loop.
 *
 * The schema is created or migrated by store_open(); the version lives in
 * PRAGMA user_version.  Tables other modules may read: users, sessions,
 * recovery_codes (see store.c for the columns).
 */
#ifndef FOCAL_STORE_H
#define FOCAL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct cfg_node;
struct store_config;
struct sqlite3;

/* Parses the `store:` section of the configuration; n is NULL when the file
 * has none (defaults apply, and *out may stay NULL).  Errors name file:line:col. */
int store_config_parse(const struct cfg_node *n, struct store_config **out, struct focal_err *err);
void store_config_free(struct store_config *c); /* NULL-safe */

struct store;

/* Opens (creating if needed) the database that c names (c may be NULL: the
 * default "focal.db"); a relative path is taken relative to the directory of
 * config_path.  Creates or migrates the schema.  *out is the caller's. */
int store_open(const struct store_config *c, const char *config_path, struct store **out,
	       struct focal_err *err);
/* Opens the database file at path directly (tests). */
int store_open_path(const char *path, struct store **out, struct focal_err *err);
void store_close(struct store *st); /* NULL-safe; all connections must be released */

/* The database file's path. */
const char *store_path(const struct store *st);

/* A connection for the calling thread until store_release().  Blocking. */
int store_acquire(struct store *st, struct sqlite3 **out, struct focal_err *err);
void store_release(struct store *st, struct sqlite3 *db); /* NULL-safe */

/* Helpers for the modules that keep state in the store. */
int store_exec(struct sqlite3 *db, const char *sql, struct focal_err *err);
int store_begin(struct sqlite3 *db, struct focal_err *err);   /* BEGIN IMMEDIATE */
int store_commit(struct sqlite3 *db, struct focal_err *err);
void store_rollback(struct sqlite3 *db);
/* The audit outbox, for a process without an audit log of its own (the
 * `focal user` CLI): an event staged here by the calling thread is inserted
 * into the table audit_outbox by that thread's next store_commit, in the
 * same transaction as the change it records (a rolled-back transaction, in
 * store_release, discards it).  focald moves the rows into its audit log
 * (audit/audit_outbox.h).  body is the entry's fields as JSON. */
int store_outbox_stage(const char *type, const char *body, struct focal_err *err);
void store_outbox_discard(void);
/* Error from the connection's last failure: FOCAL_E_IO with sqlite's message. */
int store_err(struct sqlite3 *db, struct focal_err *err, const char *what);

/* Wall clock, Unix seconds / milliseconds (what the store records). */
int64_t store_now(void);
int64_t store_now_ms(void);

#endif
