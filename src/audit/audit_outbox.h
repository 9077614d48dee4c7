/*
 * audit_outbox: moves the audit events that the `focal user` CLI left in the
 * store's audit_outbox table (store.h: staged in the same transaction as
 * the admin change they record) into focald's audit log.
 *
 * The CLI has no audit log of its own (one writer per log, and the log lives
 * with focald), so it cannot write there; focald's session maintenance
 * thread, which already polls the store for changes, calls
 * audit_outbox_drain() whenever the store changed.  Each row is made durable
 * in the log first and deleted after, so an event is never lost; a crash in
 * between delivers it twice (each entry carries its "outbox_id", so the
 * duplicate is recognisable).
 */
#ifndef FOCAL_AUDIT_OUTBOX_H
#define FOCAL_AUDIT_OUTBOX_H

#include <stddef.h>

#include "core/err.h"

struct sqlite3;

/* Moves the pending rows of db's audit_outbox into the open audit log;
 * blocks (fsync): call it from a thread of its own, never an event loop.
 * Does nothing when this process has no audit log open.  *moved (may be
 * NULL) counts the rows moved.  On an error the remaining rows stay for the
 * next call. */
int audit_outbox_drain(struct sqlite3 *db, size_t *moved, struct focal_err *err);

#endif
