/*
 * jwk: JSON Web Keys and compact JWS for the OpenID Connect provider and for
 * federated identity — loading keys (PEM files, JWKS documents), publishing
 * their public halves, signing claims and verifying tokens.
 *
 * All cryptography is libcjose's (cjose_jws_sign / cjose_jws_verify) on top of
 * OpenSSL; this module only decides WHICH key and WHICH algorithm may be used,
 * because that is where JWT libraries go wrong (alg=none, HS256 keyed with a
 * public key, a kid pointing at a key of another type).  A token is verified
 * only when its header's alg is on the caller's allow-list, the key is found by
 * kid and that key's type and curve match the alg exactly.
 *
 * libcjose 0.6 signs and verifies RS256/384/512, PS256/384/512 and
 * ES256/384/512; it has no EdDSA, so EdDSA is refused by configuration.
 *
 * A struct jwk_set is immutable once built and may be read by several threads
 * at a time (libcjose key objects are only read while signing or verifying).
 */
#ifndef FOCAL_JWK_H
#define FOCAL_JWK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define JWK_KID_MAX 64
#define JWK_TOKEN_MAX 8192 /* a longer token is refused before any parsing */

struct jwk_key {
	char kid[JWK_KID_MAX];
	char alg[8];   /* "ES256", "RS256", ... */
	void *jwk;     /* cjose_jwk_t *; private for signing keys, public otherwise */
	bool private_key;
};

struct jwk_set {
	struct jwk_key *keys;
	size_t n;
};

/* True when s has minlen..maxlen characters, each an ASCII letter, a digit
 * or one of extra ("-_" for base64url).  s may be NULL (false). */
bool jwk_charset_ok(const char *s, size_t minlen, size_t maxlen, const char *extra);

/* Algorithms libcjose can verify and this module allows at all (never "none"
 * nor HS*).  True when alg is one of them. */
bool jwk_alg_supported(const char *alg);

/* Loads an EC P-256 private key (PEM, PKCS#8 or SEC1) as an ES256 signing key.
 * kid may be NULL or "": the key's RFC 7638 thumbprint is used.  The file must
 * not be readable by group or others.  *out is the caller's (jwk_key_free). */
int jwk_load_signing_pem(const char *path, const char *kid, struct jwk_key **out,
			 struct focal_err *err);
void jwk_key_free(struct jwk_key *k); /* NULL-safe; frees k itself */
/* Releases the key material of k (not k itself). */
void jwk_key_clear(struct jwk_key *k);

/* Parses a JWKS document ({"keys":[...]}) of public keys.  Keys whose "use"
 * is not "sig", private keys, symmetric keys and keys of unsupported types
 * are skipped; keys without kid get their thumbprint.  At least one usable
 * key is required.  *out is the caller's (jwk_set_free). */
int jwk_set_parse(const char *json, size_t len, struct jwk_set **out, struct focal_err *err);
void jwk_set_free(struct jwk_set *s); /* NULL-safe */

/* The public JWK of k as published in a JWKS (kty, crv, x, y, kid, use, alg).
 * New reference, or NULL on allocation failure. */
json_t *jwk_public_json(const struct jwk_key *k);

/* Signs claims (not stolen) with k: compact JWS with header alg, kid and typ
 * (e.g. "JWT", "at+jwt").  *out is a malloc'd string. */
int jwk_sign(const struct jwk_key *k, const char *typ, const json_t *claims, char **out,
	     struct focal_err *err);

/* What jwk_verify learned from the header (valid when it returns FOCAL_OK or
 * FOCAL_E_DENIED after the header was read). */
struct jwk_header {
	char alg[16];
	char kid[JWK_KID_MAX];
	char typ[32];
};

/* Verifies the compact JWS token against keys (one or more sets, NULL entries
 * ignored): the header's alg must be in algs (NULL-terminated), no "crit"
 * header, the key chosen by kid (a token without kid is accepted only when
 * exactly one key of the right type exists), its type matching alg.  On
 * success *claims is the payload object (caller's).  FOCAL_E_DENIED with the
 * reason otherwise; hdr (may be NULL) receives the header fields. */
int jwk_verify(const char *token, const struct jwk_set *const *sets, size_t nsets,
	       const char *const *algs, json_t **claims, struct jwk_header *hdr,
	       struct focal_err *err);

/* Reads the payload of a compact JWS WITHOUT verifying it (to find its
 * issuer before choosing the keys).  *claims is the caller's. */
int jwk_peek_claims(const char *token, json_t **claims, struct focal_err *err);

#endif
