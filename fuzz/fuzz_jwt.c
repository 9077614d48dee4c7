/*
 * fuzz_jwt: libFuzzer harness for the JOSE parsers of untrusted input
 * (auth/jwk.h): compact JWS tokens, which any client can present as a bearer
 * token, and JWKS documents, which come from a trusted issuer's URL over the
 * network.
 *
 * The first byte chooses the mode; the rest is the input:
 *   even: the input (NUL-free) is a token, verified against a key set of one
 *         EC P-256 key (kid "k1") with ES256, RS256 and (refused by design)
 *         HS256/none on the caller's allow-list;
 *   odd:  the input is a JWKS document.
 * Contracts checked besides the sanitizers: verification never succeeds for
 * an input the fuzzer made (it cannot sign with k1); on failure no claims are
 * returned and the code is FOCAL_E_DENIED; a parsed JWKS has 1..64 keys, each
 * with a kid and a libcjose key, and its public JSON never has "d".
 */
#include <cjose/cjose.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jwk_set *fuzz_keys(void)
{
	static struct jwk_set *set;
	char *pub, *doc;
	cjose_jwk_t *k;
	size_t n;

	if (set != NULL)
		return set;
	k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
	if (k == NULL || !cjose_jwk_set_kid(k, "k1", 2, NULL) ||
	    (pub = cjose_jwk_to_json(k, false, NULL)) == NULL)
		abort();
	n = strlen(pub) + 16;
	doc = malloc(n);
	if (doc == NULL)
		abort();
	memcpy(doc, "{\"keys\":[", 9);
	memcpy(doc + 9, pub, strlen(pub));
	memcpy(doc + 9 + strlen(pub), "]}", 3);
	if (jwk_set_parse(doc, strlen(doc), &set, NULL) != FOCAL_OK)
		abort();
	free(doc);
	free(pub);
	cjose_jwk_release(k);
	return set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const algs[] = { "ES256", "RS256", "HS256", "none", NULL };
	const struct jwk_set *sets[1];
	struct jwk_header hdr;
	struct focal_err err;
	json_t *claims = (json_t *)1;
	struct jwk_set *parsed = NULL;
	char *text;
	int rc;

	if (size < 1 || size > 16384)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if ((data[0] & 1) == 0) {
		if (strlen(text) == size - 1) {
			sets[0] = fuzz_keys();
			rc = jwk_verify(text, sets, 1, algs, &claims, &hdr, &err);
			if (rc == FOCAL_OK || rc != FOCAL_E_DENIED || claims != NULL ||
			    err.code != rc || err.msg[0] == '\0')
				abort();
			rc = jwk_peek_claims(text, &claims, &err);
			if ((rc == FOCAL_OK) != (claims != NULL) || (rc != FOCAL_OK && rc != FOCAL_E_DENIED))
				abort();
			json_decref(claims);
		}
	} else {
		rc = jwk_set_parse(text, size - 1, &parsed, &err);
		if (rc == FOCAL_OK) {
			if (parsed == NULL || parsed->n == 0 || parsed->n > 64)
				abort();
			for (size_t i = 0; i < parsed->n; i++) {
				json_t *pub = jwk_public_json(&parsed->keys[i]);

				if (parsed->keys[i].kid[0] == '\0' || parsed->keys[i].jwk == NULL ||
				    (pub != NULL && json_object_get(pub, "d") != NULL))
					abort();
				json_decref(pub);
			}
		} else if (parsed != NULL || err.code != rc) {
			abort();
		}
		jwk_set_free(parsed);
	}
	free(text);
	return 0;
}
