/*
 * merkle: RFC 9162 Merkle tree hashing and proofs (see merkle.h).
 *
 * The recursive definitions are written as in the RFC (section 2.1.1 for the
 * hash, 2.1.3.1 for inclusion paths, 2.1.4.1 for consistency proofs); the
 * verification follows the RFC's iterative algorithms (2.1.3.2, 2.1.4.2) so a
 * proof made elsewhere checks here and the other way round.
 */
#include "audit/merkle.h"

#include <openssl/evp.h>
#include <string.h>
#include <sodium.h>

static void merkle_hash2(uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
			 uint8_t out[MERKLE_HASH])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;

	/* Only allocation can fail here; a zero hash then cannot verify anything. */
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, &prefix, 1) != 1 || (alen && EVP_DigestUpdate(ctx, a, alen) != 1) ||
	    (blen && EVP_DigestUpdate(ctx, b, blen) != 1) || EVP_DigestFinal_ex(ctx, out, &len) != 1)
		memset(out, 0, MERKLE_HASH);
	EVP_MD_CTX_free(ctx);
}

void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH])
{
	merkle_hash2(0x00, data, len, NULL, 0, out);
}

void merkle_node_hash(const uint8_t l[MERKLE_HASH], const uint8_t r[MERKLE_HASH],
		      uint8_t out[MERKLE_HASH])
{
	merkle_hash2(0x01, l, MERKLE_HASH, r, MERKLE_HASH, out);
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t merkle_split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

void merkle_root(const uint8_t *leaves, uint64_t n, uint8_t out[MERKLE_HASH])
{
	uint8_t l[MERKLE_HASH], r[MERKLE_HASH];
	uint64_t k;

	if (n == 0) {
		unsigned int len = 0;

		EVP_Digest("", 0, out, &len, EVP_sha256(), NULL);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves, MERKLE_HASH);
		return;
	}
	k = merkle_split(n);
	merkle_root(leaves, k, l);
	merkle_root(leaves + k * MERKLE_HASH, n - k, r);
	merkle_node_hash(l, r, out);
}

/* PATH(m, D[n]) of RFC 9162 2.1.3.1, appended to proof. */
static void merkle_path(const uint8_t *d, uint64_t m, uint64_t n,
			uint8_t *proof, size_t *np)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = merkle_split(n);
	if (m < k) {
		merkle_path(d, m, k, proof, np);
		merkle_root(d + k * MERKLE_HASH, n - k, proof + MERKLE_HASH * (*np)++);
	} else {
		merkle_path(d + k * MERKLE_HASH, m - k, n - k, proof, np);
		merkle_root(d, k, proof + MERKLE_HASH * (*np)++);
	}
}

int merkle_inclusion_proof(const uint8_t *leaves, uint64_t index, uint64_t size,
			   uint8_t *proof, size_t *nproof)
{
	*nproof = 0;
	if (index >= size)
		return FOCAL_E_INVAL;
	merkle_path(leaves, index, size, proof, nproof);
	return FOCAL_OK;
}

bool merkle_inclusion_verify(const uint8_t leaf[MERKLE_HASH], uint64_t index, uint64_t size,
			     const uint8_t *proof, size_t nproof,
			     const uint8_t root[MERKLE_HASH])
{
	uint64_t fn = index, sn;
	uint8_t r[MERKLE_HASH];

	if (index >= size)
		return false;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH);
	for (size_t i = 0; i < nproof; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof + MERKLE_HASH * i, r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, proof + MERKLE_HASH * i, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, MERKLE_HASH) == 0;
}

/* SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1. */
static void merkle_subproof(const uint8_t *d, uint64_t m, uint64_t n, bool b,
			    uint8_t *proof, size_t *np)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			merkle_root(d, n, proof + MERKLE_HASH * (*np)++);
		return;
	}
	k = merkle_split(n);
	if (m <= k) {
		merkle_subproof(d, m, k, b, proof, np);
		merkle_root(d + k * MERKLE_HASH, n - k, proof + MERKLE_HASH * (*np)++);
	} else {
		merkle_subproof(d + k * MERKLE_HASH, m - k, n - k, false, proof, np);
		merkle_root(d, k, proof + MERKLE_HASH * (*np)++);
	}
}

int merkle_consistency_proof(const uint8_t *leaves, uint64_t m, uint64_t n,
			     uint8_t *proof, size_t *nproof)
{
	*nproof = 0;
	if (m == 0 || m > n)
		return FOCAL_E_INVAL;
	if (m < n)
		merkle_subproof(leaves, m, n, true, proof, nproof);
	return FOCAL_OK;
}

bool merkle_consistency_verify(uint64_t m, uint64_t n, const uint8_t root_m[MERKLE_HASH],
			       const uint8_t root_n[MERKLE_HASH], const uint8_t *proof,
			       size_t nproof)
{
	uint8_t fr[MERKLE_HASH], sr[MERKLE_HASH];
	const uint8_t *first;
	uint64_t fn, sn;
	size_t i = 0;

	if (m == 0 || m > n)
		return false;
	if (m == n)
		return nproof == 0 && memcmp(root_m, root_n, MERKLE_HASH) == 0;
	if (nproof == 0)
		return false;
	/* step 2: a first tree that is a perfect tree is its own first node */
	if ((m & (m - 1)) == 0) {
		first = root_m;
	} else {
		first = proof;
		i = 1;
	}
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, first, MERKLE_HASH);
	memcpy(sr, first, MERKLE_HASH);
	for (; i < nproof; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof + MERKLE_HASH * i, fr, fr);
			merkle_node_hash(proof + MERKLE_HASH * i, sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, proof + MERKLE_HASH * i, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, root_m, MERKLE_HASH) == 0 &&
	       memcmp(sr, root_n, MERKLE_HASH) == 0;
}

void merkle_frontier_init(struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

void merkle_frontier_push(struct merkle_frontier *f, const uint8_t leaf[MERKLE_HASH])
{
	uint8_t h[MERKLE_HASH];
	uint64_t size = f->size;

	memcpy(h, leaf, MERKLE_HASH);
	/* each trailing 1 bit of the old size is a perfect subtree that the new
	 * leaf completes into one twice as large */
	while (size & 1) {
		merkle_node_hash(f->hash[--f->n], h, h);
		size >>= 1;
	}
	memcpy(f->hash[f->n++], h, MERKLE_HASH);
	f->size++;
}

void merkle_frontier_root(const struct merkle_frontier *f, uint8_t out[MERKLE_HASH])
{
	uint8_t r[MERKLE_HASH];

	if (f->n == 0) {
		merkle_root(NULL, 0, out);
		return;
	}
	memcpy(r, f->hash[f->n - 1], MERKLE_HASH);
	for (size_t i = f->n - 1; i-- > 0;)
		merkle_node_hash(f->hash[i], r, r);
	memcpy(out, r, MERKLE_HASH);
}

void merkle_hex(const uint8_t h[MERKLE_HASH], char out[2 * MERKLE_HASH + 1])
{
	sodium_bin2hex(out, 2 * MERKLE_HASH + 1, h, MERKLE_HASH);
}

static int merkle_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is not canonical: the log writes lower case only */
}

bool merkle_unhex(const char *s, uint8_t out[MERKLE_HASH])
{
	for (size_t i = 0; i < MERKLE_HASH; i++) {
		int hi = merkle_nibble(s[2 * i]), lo;

		if (hi < 0)
			return false;
		lo = merkle_nibble(s[2 * i + 1]);
		if (lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[2 * MERKLE_HASH] == '\0';
}
