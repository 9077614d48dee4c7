/*
 * audit_verify: checks a whole audit log offline, from its two files and the
 * public key alone (`focal audit verify`), and rebuilds the writer's state
 * when focald starts.
 *
 * What is checked, entry by entry (the first problem is reported, with the
 * number of the first bad entry):
 *   - each line is a complete audit entry (JSON, seq, prev, ts_ms, type);
 *   - seq equals the line's position (a deleted, inserted or reordered entry
 *     shifts it);
 *   - prev equals the hash of the entry before (a modified entry breaks its
 *     successor's link);
 *   - every checkpoint's Ed25519 signature is valid, checkpoints never go
 *     backwards, and the Merkle root of the first `size` entries equals the
 *     signed root (an attacker who rewrites the chain after a change cannot
 *     forge the signature);
 *   - the log holds at least as many entries as the newest checkpoint signed
 *     (truncation).
 * Entries after the newest checkpoint are chained but not yet signed: focald
 * signs at least every second while entries arrive and once more when it
 * stops cleanly, so this window is the last second before a crash (see
 * docs/audit.md).
 */
#ifndef FOCAL_AUDIT_VERIFY_H
#define FOCAL_AUDIT_VERIFY_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/merkle.h"
#include "core/err.h"

struct audit_verify_result {
	uint64_t entries;       /* complete entries read */
	uint64_t checkpoints;   /* checkpoints read (all valid when FOCAL_OK) */
	uint64_t signed_size;   /* size of the newest checkpoint */
	int64_t signed_ts_ms;   /* its time */
	int64_t bad_entry;      /* first bad entry, -1 if none (or the problem is a checkpoint) */
	bool torn_tail;         /* the last line lacks its newline (a crash cut it short) */
	long good_bytes;        /* offset just after the last complete entry */
	struct merkle_frontier tree; /* the tree of the complete entries */
	uint8_t last[MERKLE_HASH];   /* hash of the last complete entry (zeros if none) */
	int64_t last_ts_ms;          /* its time */
	/* when leaves was asked for: every entry's hash (malloc'd, the caller frees) */
	uint8_t *leaves;
};

/* Verifies log (and ckpts, which may be NULL when there is no checkpoint
 * file) against pub.  keep_leaves: also return every leaf hash.  Returns
 * FOCAL_OK for a good log, FOCAL_E_INVAL when tampering is found (err names
 * the first bad entry, res->bad_entry holds its number), FOCAL_E_IO /
 * FOCAL_E_NOMEM when the files cannot be read.  A torn last line beyond the
 * newest checkpoint is not an error (res->torn_tail says so). */
int audit_verify_streams(FILE *log, FILE *ckpts, EVP_PKEY *pub, bool keep_leaves,
			 struct audit_verify_result *res, struct focal_err *err);
/* The same from the files of a log directory. */
int audit_verify_dir(const char *dir, EVP_PKEY *pub, bool keep_leaves,
		     struct audit_verify_result *res, struct focal_err *err);

#endif
