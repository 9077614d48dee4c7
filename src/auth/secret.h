/*
 * secret: sealing small secrets at rest (TOTP seeds) with a key kept outside
 * the database.
 *
 * The key is 32 random bytes, hex-encoded in a key file (`auth: key_file:`,
 * mode 0600, created on first use when absent).  Sealing is
 * XChaCha20-Poly1305 (libsodium AEAD) with a random 192-bit nonce and the
 * owner's name as associated data, so a sealed value copied to another row
 * does not open.  This small interface is what the vault (issue "Keys") will
 * replace: nothing else in Focal touches the key.
 */
#ifndef FOCAL_SECRET_H
#define FOCAL_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct secret_key;

/* Loads the key from path; when create is true and the file does not exist,
 * creates it (0600) with a fresh random key.  Refuses a file readable by
 * group or others.  *out is the caller's (secret_key_free). */
int secret_key_load(const char *path, bool create, struct secret_key **out,
		    struct focal_err *err);
void secret_key_free(struct secret_key *k); /* NULL-safe, wipes */

/* Extra bytes a sealed value has over its plaintext. */
size_t secret_overhead(void);

/* Seals pt (len bytes) for context (e.g. the username) into out, which must
 * hold len + secret_overhead() bytes. */
int secret_seal(const struct secret_key *k, const unsigned char *pt, size_t len,
		const char *context, unsigned char *out, struct focal_err *err);
/* Opens a sealed value into pt (ctlen - secret_overhead() bytes).
 * FOCAL_E_DENIED when it was altered, sealed for another context or under
 * another key. */
int secret_open(const struct secret_key *k, const unsigned char *ct, size_t ctlen,
		const char *context, unsigned char *pt, struct focal_err *err);

#endif
