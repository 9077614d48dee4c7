/*
 * audit_status: what GET /v1/audit/status answers, verified incrementally.
 *
 * Verifying the whole log on every call costs a pass over every entry (a
 * monitoring probe polling it would re-read a million entries each time).
 * This module keeps the state of the last verification that succeeded (an
 * audit_verify_mark: the tree, chain hash and file offsets at the newest
 * signed checkpoint matched) and verifies only what was appended since.
 * It verifies the whole log again instead:
 *   - on the first call, and after any call that found a problem;
 *   - when the files changed underneath (another file, shorter than was
 *     read, the last verified entry or checkpoint line no longer the same:
 *     audit_verify_mark_holds);
 *   - when the last full verification is older than AUDIT_STATUS_FULL_MS;
 *   - when the caller asks (?full=1; the oversight console's button does).
 * An old entry changed in place (same length, chain not rewritten) is thus
 * found by the next full verification, not by an incremental call; `focal
 * audit verify` stays the full offline check.  Calls are serialised by a
 * mutex (they run on the worker pool).
 */
#ifndef FOCAL_AUDIT_STATUS_H
#define FOCAL_AUDIT_STATUS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>

#define AUDIT_STATUS_FULL_MS (10 * 60 * 1000)

/* The status object of the log in dir, verified against pub: {ok,
 * writer_healthy, entries, checkpoints, unsigned_entries, torn_tail,
 * checkpoint: {size, root, time} | null, error?, bad_entry?, verification:
 * "full" | "incremental", verified_entries (entries read by this call),
 * full_verified_at (ISO time of the last full verification that passed, or
 * null)}.  NULL when out of memory. */
json_t *audit_status_json(const char *dir, EVP_PKEY *pub, bool full);
/* Forgets the state: the next call verifies in full (tests, a closed log). */
void audit_status_reset(void);

#endif
