/*
 * password: the password policy and Argon2id hashing (libsodium
 * crypto_pwhash_str).
 *
 * Policy (NIST SP 800-63B, OWASP ASVS 5.0 V6): 12 to 128 characters (Unicode
 * code points, valid UTF-8, no control characters), nothing truncated, not in
 * the shipped list of common and breached passwords (data/common-passwords.txt,
 * compared case-insensitively), not the username.  No composition rules.
 *
 * Hashing and verification block for ~0.1 s and 64 MiB: call them from a
 * worker of the pool or the CLI, never from an event loop.
 */
#ifndef FOCAL_PASSWORD_H
#define FOCAL_PASSWORD_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_CHARS 128
#define PASSWORD_MAX_BYTES (PASSWORD_MAX_CHARS * 4)
#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Argon2id cost.  Defaults: 64 MiB, 3 passes (above OWASP's table). */
struct password_params {
	unsigned long memory_kib;
	unsigned long ops;
};

/* Sets the cost for new hashes (focald start, CLI).  Rejects a pair below
 * OWASP's Argon2id table.  Thread-unsafe: call before any hashing. */
int password_set_params(const struct password_params *p, struct focal_err *err);
void password_get_params(struct password_params *out);
/* True when (memory_kib, ops) meets OWASP's recommendation. */
bool password_params_ok(unsigned long memory_kib, unsigned long ops);

/* Checks pw against the policy; username (may be NULL) must not be it.  The
 * message says what is wrong and is safe to show. */
int password_check_policy(const char *pw, const char *username, struct focal_err *err);
/* True when pw (case-insensitively) is in the shipped list. */
bool password_is_common(const char *pw);

/* Hashes pw (which must pass the policy; checked again here) into out. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX], struct focal_err *err);
/* True when pw matches hash.  hash NULL or "" verifies against a dummy hash
 * of the same cost and returns false, so unknown users cost the same time. */
bool password_verify(const char *hash, const char *pw);
/* True when hash was made with other parameters than the current ones. */
bool password_needs_rehash(const char *hash);

/* The shipped list (generated from data/common-passwords.txt at build time):
 * lower case, sorted by strcmp. */
extern const char *const password_common_list[];
extern const size_t password_common_count;

#endif
