/*
 * merkle: the Merkle tree hash of RFC 9162 (Certificate Transparency 2.0,
 * section 2.1) over the audit log's entries, with inclusion and consistency
 * proofs and their verification.
 *
 *   leaf hash  = SHA-256(0x00 || entry bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * The audit writer keeps only a frontier (the roots of the perfect subtrees
 * of the tree so far, at most 64), so the root after every append costs
 * O(log n) and no memory grows with the log.  Proofs are computed from the
 * leaf hashes (the verifier and `focal audit prove` read them from the log).
 * Hashing is OpenSSL's SHA-256; nothing here is home-made cryptography.
 */
#ifndef FOCAL_MERKLE_H
#define FOCAL_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MERKLE_HASH 32
#define MERKLE_MAX_PROOF 64 /* a proof of a tree of up to 2^63 leaves */

/* SHA-256(0x00 || data) */
void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH]);
/* SHA-256(0x01 || l || r) */
void merkle_node_hash(const uint8_t l[MERKLE_HASH], const uint8_t r[MERKLE_HASH],
		      uint8_t out[MERKLE_HASH]);

/* MTH of the first n leaf hashes (leaves: n * MERKLE_HASH bytes).  n may be 0.
 * Proofs are arrays of hashes, MERKLE_HASH bytes each, up to MERKLE_MAX_PROOF. */
void merkle_root(const uint8_t *leaves, uint64_t n, uint8_t out[MERKLE_HASH]);

/* Inclusion proof of leaf index in the tree of the first size leaves: writes up
 * to MERKLE_MAX_PROOF hashes to proof and their count to *nproof.  Returns
 * FOCAL_E_INVAL when index >= size. */
int merkle_inclusion_proof(const uint8_t *leaves, uint64_t index, uint64_t size,
			   uint8_t *proof, size_t *nproof);
/* RFC 9162 2.1.3.2: true when proof shows leaf is entry index of the tree of
 * size leaves whose root is root. */
bool merkle_inclusion_verify(const uint8_t leaf[MERKLE_HASH], uint64_t index, uint64_t size,
			     const uint8_t *proof, size_t nproof,
			     const uint8_t root[MERKLE_HASH]);

/* Consistency proof between the trees of the first m and the first n leaves
 * (0 < m <= n).  Returns FOCAL_E_INVAL for other sizes. */
int merkle_consistency_proof(const uint8_t *leaves, uint64_t m, uint64_t n,
			     uint8_t *proof, size_t *nproof);
/* RFC 9162 2.1.4.2: true when proof shows the tree (m, root_m) is a prefix of
 * the tree (n, root_n). */
bool merkle_consistency_verify(uint64_t m, uint64_t n, const uint8_t root_m[MERKLE_HASH],
			       const uint8_t root_n[MERKLE_HASH], const uint8_t *proof,
			       size_t nproof);

/* The compact state of an append-only tree: the roots of its perfect
 * subtrees, largest first (one per set bit of size). */
struct merkle_frontier {
	uint64_t size;
	size_t n;
	uint8_t hash[64][MERKLE_HASH];
};

void merkle_frontier_init(struct merkle_frontier *f);
void merkle_frontier_push(struct merkle_frontier *f, const uint8_t leaf[MERKLE_HASH]);
/* MTH of the leaves pushed so far. */
void merkle_frontier_root(const struct merkle_frontier *f, uint8_t out[MERKLE_HASH]);

/* Lower-case hex of a hash (65 bytes with the NUL) and back (false on bad input). */
void merkle_hex(const uint8_t h[MERKLE_HASH], char out[2 * MERKLE_HASH + 1]);
bool merkle_unhex(const char *s, uint8_t out[MERKLE_HASH]);

#endif
