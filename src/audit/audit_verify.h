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

#include "audit/audit_log.h"
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
	uint8_t signed_root[MERKLE_HASH]; /* the newest checkpoint's root (it matched) */
	/* when leaves was asked for: every entry's hash (malloc'd, the caller frees) */
	uint8_t *leaves;
};

/* Where a verification can be resumed (GET /v1/audit/status): the state just
 * after the newest signed checkpoint that matched, and how far both files
 * were read.  Entries after that checkpoint are read again by the next
 * resume, so a checkpoint signed later for any size from there on can still
 * be compared; the writer signs at least every checkpoint_ms, so that tail
 * stays short.  A mark from audit_verify_mark_init() resumes from the start
 * (a full verification). */
struct audit_verify_mark {
	uint64_t entries;             /* entries up to that checkpoint */
	long log_off;                 /* offset just after them in the log */
	long last_off;                /* offset of the last of them */
	uint8_t last[MERKLE_HASH];    /* its hash */
	uint8_t prev2[MERKLE_HASH];   /* the hash of the one before it */
	int64_t last_ts_ms;
	struct merkle_frontier tree;
	uint64_t checkpoints;         /* complete checkpoint lines read */
	long ckpt_off;                /* offset just after them */
	long ckpt_last_off;           /* offset of the newest of them */
	struct audit_checkpoint newest; /* the newest (size 0 when none) */
	unsigned long long log_dev, log_ino, ckpt_dev, ckpt_ino; /* the files read */
};

/* Verifies log (and ckpts, which may be NULL when there is no checkpoint
 * file) against pub.  keep_leaves: also return every leaf hash.  Returns
 * FOCAL_OK for a good log, FOCAL_E_INVAL when tampering is found (err names
 * the first bad entry, res->bad_entry holds its number), FOCAL_E_IO /
 * FOCAL_E_NOMEM when the files cannot be read.  A torn last line beyond the
 * newest checkpoint is not an error (res->torn_tail says so). */
int audit_verify_streams(FILE *log, FILE *ckpts, EVP_PKEY *pub, bool keep_leaves,
			 struct audit_verify_result *res, struct focal_err *err);
/* Verifies what was appended to log and ckpts since *mark (from the start
 * for a fresh mark): the new checkpoints (signature, order), the entries
 * after the mark (chain, sequence) and every new checkpoint's root against
 * the tree, exactly as audit_verify_streams does from the start; res
 * describes the whole log.  On FOCAL_OK *mark moves to the newest checkpoint
 * matched; otherwise it is left as it was.  Entries before the mark are NOT
 * read again: check audit_verify_mark_holds() first, and verify in full
 * from time to time to catch an old entry changed in place. */
void audit_verify_mark_init(struct audit_verify_mark *mark);
int audit_verify_resume(FILE *log, FILE *ckpts, EVP_PKEY *pub, struct audit_verify_mark *mark,
			struct audit_verify_result *res, struct focal_err *err);
/* Cheap checks that the files under *mark are still those that were
 * verified: the same files (device, inode), not shorter than was read, the
 * mark's last entry still hashing to its hash and its newest checkpoint
 * still the same line.  False means: verify in full. */
bool audit_verify_mark_holds(FILE *log, FILE *ckpts, const struct audit_verify_mark *mark);

/* The same from the files of a log directory. */
int audit_verify_dir(const char *dir, EVP_PKEY *pub, bool keep_leaves,
		     struct audit_verify_result *res, struct focal_err *err);

#endif
