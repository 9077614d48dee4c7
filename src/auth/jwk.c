/*
 * jwk: keys and compact JWS (see jwk.h).
 */
#include "auth/jwk.h"

#include <cjose/cjose.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What libcjose 0.6 verifies, by family: the kty (and curve) a key must have
 * for a token with this alg. */
static const struct {
	const char *alg;
	cjose_jwk_kty_t kty;
	int curve; /* CJOSE_JWK_EC_* for EC, 0 otherwise */
	size_t sig_b64; /* length of the base64url signature for EC (r || s), 0: any */
} jwk_algs[] = {
	{ "ES256", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_256, 86 },   /* 64 bytes */
	{ "ES384", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_384, 128 },  /* 96 bytes */
	{ "ES512", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_521, 176 },  /* 132 bytes */
	{ "RS256", CJOSE_JWK_KTY_RSA, 0, 0 },
	{ "RS384", CJOSE_JWK_KTY_RSA, 0, 0 },
	{ "RS512", CJOSE_JWK_KTY_RSA, 0, 0 },
	{ "PS256", CJOSE_JWK_KTY_RSA, 0, 0 },
	{ "PS384", CJOSE_JWK_KTY_RSA, 0, 0 },
	{ "PS512", CJOSE_JWK_KTY_RSA, 0, 0 },
};

static int jwk_alg_index(const char *alg)
{
	for (size_t i = 0; alg != NULL && i < sizeof(jwk_algs) / sizeof(jwk_algs[0]); i++)
		if (strcmp(alg, jwk_algs[i].alg) == 0)
			return (int)i;
	return -1;
}

bool jwk_alg_supported(const char *alg)
{
	return jwk_alg_index(alg) >= 0;
}

/* True when key k may verify a token signed with algs entry ai. */
static bool jwk_key_fits(const struct jwk_key *k, int ai)
{
	cjose_jwk_kty_t kty = cjose_jwk_get_kty(k->jwk, NULL);

	if (kty != jwk_algs[ai].kty)
		return false;
	if (kty == CJOSE_JWK_KTY_EC &&
	    (int)cjose_jwk_EC_get_curve(k->jwk, NULL) != jwk_algs[ai].curve)
		return false;
	/* a key published for one alg is not used for another */
	return k->alg[0] == '\0' || strcmp(k->alg, jwk_algs[ai].alg) == 0;
}

/* RFC 7638 thumbprint of the public key (base64url SHA-256 of the required
 * members in lexical order, no spaces). */
static int jwk_thumbprint(cjose_jwk_t *jwk, char out[JWK_KID_MAX], struct focal_err *err)
{
	static const char *const ec_members[] = { "crv", "kty", "x", "y", NULL };
	static const char *const rsa_members[] = { "e", "kty", "n", NULL };
	const char *const *members;
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *pub = cjose_jwk_to_json(jwk, false, NULL), *canon = NULL, *b64 = NULL;
	json_t *full = NULL, *req = json_object();
	size_t b64len = 0;
	int rc = FOCAL_E_NOMEM;

	if (pub == NULL || req == NULL)
		goto out;
	full = json_loads(pub, 0, NULL);
	if (full == NULL)
		goto out;
	members = cjose_jwk_get_kty(jwk, NULL) == CJOSE_JWK_KTY_EC ? ec_members : rsa_members;
	for (size_t i = 0; members[i] != NULL; i++) {
		json_t *v = json_object_get(full, members[i]);

		if (!json_is_string(v)) {
			rc = focal_err_set(err, FOCAL_E_INVAL, "key lacks member %s", members[i]);
			goto out;
		}
		json_object_set(req, members[i], v);
	}
	canon = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	if (canon == NULL)
		goto out;
	SHA256((const unsigned char *)canon, strlen(canon), md);
	if (!cjose_base64url_encode(md, sizeof(md), &b64, &b64len, NULL) || b64len >= JWK_KID_MAX)
		goto out;
	memcpy(out, b64, b64len);
	out[b64len] = '\0';
	rc = FOCAL_OK;
out:
	if (rc == FOCAL_E_NOMEM)
		focal_err_set(err, rc, "out of memory computing a key thumbprint");
	free(pub);
	free(canon);
	free(b64);
	json_decref(full);
	json_decref(req);
	return rc;
}

/* PEM pass phrase callback: encrypted keys are refused rather than prompting
 * on a terminal focald does not have. */
static int jwk_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

bool jwk_charset_ok(const char *s, size_t minlen, size_t maxlen, const char *extra)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (s == NULL || n < minlen || n > maxlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

static bool jwk_kid_valid(const char *kid)
{
	return jwk_charset_ok(kid, 1, JWK_KID_MAX - 1, "-_.");
}

int jwk_load_signing_pem(const char *path, const char *kid, struct jwk_key **out,
			 struct focal_err *err)
{
	unsigned char x[32], y[32], d[32];
	cjose_jwk_ec_keyspec spec = { CJOSE_JWK_EC_P_256, d, sizeof(d), x, sizeof(x), y, sizeof(y) };
	BIGNUM *bx = NULL, *by = NULL, *bd = NULL;
	EVP_PKEY *pk = NULL;
	struct jwk_key *k = NULL;
	char group[64] = "";
	struct stat st;
	FILE *f = NULL;
	int rc;

	*out = NULL;
	if (kid != NULL && kid[0] != '\0' && !jwk_kid_valid(kid))
		return focal_err_set(err, FOCAL_E_CONFIG,
				     "kid must be 1 to 63 characters of [A-Za-z0-9._-]");
	f = fopen(path, "r");
	if (f == NULL)
		return focal_err_set(err, FOCAL_E_IO, "cannot open signing key %s", path);
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 16384) {
		rc = focal_err_set(err, FOCAL_E_CONFIG, "signing key %s is not a key file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		rc = focal_err_set(err, FOCAL_E_CONFIG,
				   "signing key %s must not be readable by group or others (chmod 600)",
				   path);
		goto out;
	}
	pk = PEM_read_PrivateKey(f, NULL, jwk_no_passphrase, NULL);
	if (pk == NULL) {
		rc = focal_err_set(err, FOCAL_E_CONFIG,
				   "%s: not an unencrypted PEM private key", path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		rc = focal_err_set(err, FOCAL_E_CONFIG,
				   "%s: signing keys must be EC P-256 (ES256); create one with "
				   "`openssl ecparam -name prime256v1 -genkey -noout`", path);
		goto out;
	}
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bd) != 1 ||
	    BN_bn2binpad(bx, x, sizeof(x)) < 0 || BN_bn2binpad(by, y, sizeof(y)) < 0 ||
	    BN_bn2binpad(bd, d, sizeof(d)) < 0) {
		rc = focal_err_set(err, FOCAL_E_CONFIG, "%s: cannot read the EC key", path);
		goto out;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	k->jwk = cjose_jwk_create_EC_spec(&spec, NULL);
	if (k->jwk == NULL) {
		rc = focal_err_set(err, FOCAL_E_CONFIG, "%s: libcjose refused the key", path);
		goto out;
	}
	k->private_key = true;
	snprintf(k->alg, sizeof(k->alg), "ES256");
	if (kid != NULL && kid[0] != '\0')
		snprintf(k->kid, sizeof(k->kid), "%s", kid);
	else if ((rc = jwk_thumbprint(k->jwk, k->kid, err)) != FOCAL_OK)
		goto out;
	if (!cjose_jwk_set_kid(k->jwk, k->kid, strlen(k->kid), NULL)) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	*out = k;
	k = NULL;
	rc = FOCAL_OK;
out:
	OPENSSL_cleanse(d, sizeof(d));
	BN_clear_free(bd);
	BN_free(bx);
	BN_free(by);
	EVP_PKEY_free(pk);
	jwk_key_free(k);
	if (f != NULL)
		fclose(f);
	return rc;
}

void jwk_key_clear(struct jwk_key *k)
{
	if (k == NULL)
		return;
	/* cjose frees (and OpenSSL wipes) the private key material */
	if (k->jwk != NULL)
		cjose_jwk_release(k->jwk);
	k->jwk = NULL;
}

void jwk_key_free(struct jwk_key *k)
{
	jwk_key_clear(k);
	free(k);
}

void jwk_set_free(struct jwk_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		jwk_key_clear(&s->keys[i]);
	free(s->keys);
	free(s);
}

/* A JWK member that is base64url of minlen..maxlen characters. */
static bool jwk_member_ok(json_t *e, const char *name, size_t minlen, size_t maxlen)
{
	return jwk_charset_ok(json_string_value(json_object_get(e, name)), minlen, maxlen, "-_");
}

/* libcjose asserts (aborts the process) on some malformed members, and a
 * JWKS comes from the network: only well-formed public keys reach it. */
static bool jwk_shape_ok(json_t *e, const char *kty)
{
	static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "k",
						       "oth", NULL };
	const char *crv = json_string_value(json_object_get(e, "crv"));
	size_t len;

	for (size_t i = 0; private_members[i] != NULL; i++)
		if (json_object_get(e, private_members[i]) != NULL)
			return false;
	if (strcmp(kty, "RSA") == 0) /* 2048 to 8192 bits, exponent up to 48 bits */
		return jwk_member_ok(e, "n", 342, 1366) && jwk_member_ok(e, "e", 1, 8);
	if (crv == NULL)
		return false;
	if (strcmp(crv, "P-256") == 0)
		len = 43;
	else if (strcmp(crv, "P-384") == 0)
		len = 64;
	else if (strcmp(crv, "P-521") == 0)
		len = 88;
	else
		return false;
	return jwk_member_ok(e, "x", len, len) && jwk_member_ok(e, "y", len, len);
}

/* One entry of a JWKS: FOCAL_OK and k filled, 1 when the key is skipped, or
 * an error. */
static int jwk_set_entry(json_t *e, struct jwk_key *k, struct focal_err *err)
{
	const char *kty = json_string_value(json_object_get(e, "kty"));
	const char *use = json_string_value(json_object_get(e, "use"));
	const char *alg = json_string_value(json_object_get(e, "alg"));
	const char *kid = json_string_value(json_object_get(e, "kid"));
	char *text;
	cjose_err cerr;

	if (!json_is_object(e) || kty == NULL)
		return 1;
	if (use != NULL && strcmp(use, "sig") != 0)
		return 1;
	/* symmetric keys could only verify HS*, which is never allowed; private
	 * members in a published set mean a misconfigured issuer */
	if ((strcmp(kty, "EC") != 0 && strcmp(kty, "RSA") != 0) || !jwk_shape_ok(e, kty))
		return 1;
	if (alg != NULL && !jwk_alg_supported(alg))
		return 1;
	text = json_dumps(e, JSON_COMPACT);
	if (text == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	k->jwk = cjose_jwk_import(text, strlen(text), &cerr);
	free(text);
	if (k->jwk == NULL)
		return 1;
	if (strcmp(kty, "RSA") == 0 && cjose_jwk_get_keysize(k->jwk, NULL) < 2048) {
		jwk_key_clear(k);
		return 1;
	}
	if (alg != NULL)
		snprintf(k->alg, sizeof(k->alg), "%s", alg);
	if (kid != NULL && kid[0] != '\0' && strlen(kid) < JWK_KID_MAX) {
		snprintf(k->kid, sizeof(k->kid), "%s", kid);
	} else if (kid != NULL) {
		/* empty or too long: no token could name it (found by fuzz_jwt) */
		jwk_key_clear(k);
		return 1;
	} else if (jwk_thumbprint(k->jwk, k->kid, err) != FOCAL_OK) {
		jwk_key_clear(k);
		return err != NULL ? err->code : FOCAL_E_INVAL;
	}
	return FOCAL_OK;
}

int jwk_set_parse(const char *json, size_t len, struct jwk_set **out, struct focal_err *err)
{
	struct jwk_set *s = NULL;
	json_error_t jerr;
	json_t *doc, *keys;
	int rc;

	*out = NULL;
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return focal_err_set(err, FOCAL_E_INVAL, "JWKS is not JSON (line %d: %s)", jerr.line,
				     jerr.text);
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > 64) {
		rc = focal_err_set(err, FOCAL_E_INVAL, "JWKS needs a \"keys\" array of 1 to 64 keys");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->keys = calloc(json_array_size(keys), sizeof(*s->keys))) == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		rc = jwk_set_entry(json_array_get(keys, i), &s->keys[s->n], err);
		if (rc < 0)
			goto out;
		if (rc == FOCAL_OK)
			s->n++;
	}
	if (s->n == 0) {
		rc = focal_err_set(err, FOCAL_E_INVAL,
				   "JWKS has no usable signature key (EC or RSA >= 2048 bits)");
		goto out;
	}
	*out = s;
	s = NULL;
	rc = FOCAL_OK;
out:
	jwk_set_free(s);
	json_decref(doc);
	return rc;
}

json_t *jwk_public_json(const struct jwk_key *k)
{
	char *text = cjose_jwk_to_json(k->jwk, false, NULL);
	json_t *j;

	if (text == NULL)
		return NULL;
	j = json_loads(text, 0, NULL);
	free(text);
	if (j == NULL)
		return NULL;
	json_object_set_new(j, "kid", json_string(k->kid));
	json_object_set_new(j, "use", json_string("sig"));
	if (k->alg[0] != '\0')
		json_object_set_new(j, "alg", json_string(k->alg));
	return j;
}

int jwk_sign(const struct jwk_key *k, const char *typ, const json_t *claims, char **out,
	     struct focal_err *err)
{
	cjose_header_t *h = cjose_header_new(NULL);
	char *payload = json_dumps(claims, JSON_COMPACT);
	cjose_jws_t *jws = NULL;
	const char *ser = NULL;
	cjose_err cerr;
	int rc = FOCAL_OK;

	*out = NULL;
	if (h == NULL || payload == NULL || !cjose_header_set(h, CJOSE_HDR_ALG, k->alg, NULL) ||
	    !cjose_header_set(h, CJOSE_HDR_KID, k->kid, NULL) ||
	    (typ != NULL && !cjose_header_set(h, "typ", typ, NULL))) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	jws = cjose_jws_sign(k->jwk, h, (const uint8_t *)payload, strlen(payload), &cerr);
	if (jws == NULL || !cjose_jws_export(jws, &ser, &cerr) || (*out = strdup(ser)) == NULL) {
		rc = focal_err_set(err, FOCAL_E_INTERNAL, "signing failed: %s",
				   jws == NULL || ser == NULL ? cerr.message : "out of memory");
		goto out;
	}
out:
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	return rc;
}

/* Decodes one base64url part of a compact JWS into a JSON object. */
static int jwk_part_json(const char *part, size_t len, json_t **out, struct focal_err *err)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;

	*out = NULL;
	if (len == 0 || !cjose_base64url_decode(part, len, &raw, &rawlen, NULL))
		return focal_err_set(err, FOCAL_E_DENIED, "malformed token");
	*out = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return focal_err_set(err, FOCAL_E_DENIED, "malformed token");
	}
	return FOCAL_OK;
}

/* Splits a compact JWS: exactly three non-empty base64url parts. */
static int jwk_split(const char *token, size_t dots[2], struct focal_err *err)
{
	size_t n = 0, len = strnlen(token, JWK_TOKEN_MAX + 1);

	if (len > JWK_TOKEN_MAX)
		return focal_err_set(err, FOCAL_E_DENIED, "token too long");
	for (size_t i = 0; i < len; i++) {
		char c = token[i];

		if (c == '.') {
			if (n == 2)
				return focal_err_set(err, FOCAL_E_DENIED, "malformed token");
			dots[n++] = i;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			return focal_err_set(err, FOCAL_E_DENIED, "malformed token");
		}
	}
	if (n != 2 || dots[0] == 0 || dots[1] == dots[0] + 1 || dots[1] + 1 == len)
		return focal_err_set(err, FOCAL_E_DENIED, "malformed token");
	return FOCAL_OK;
}

int jwk_peek_claims(const char *token, json_t **claims, struct focal_err *err)
{
	size_t dots[2];
	int rc;

	*claims = NULL;
	if ((rc = jwk_split(token, dots, err)) != FOCAL_OK)
		return rc;
	return jwk_part_json(token + dots[0] + 1, dots[1] - dots[0] - 1, claims, err);
}

/* Chooses the verification key: by kid when the token names one, else the
 * only key that fits the alg. */
static const struct jwk_key *jwk_choose(const struct jwk_set *const *sets, size_t nsets,
					int ai, const char *kid, struct focal_err *err)
{
	const struct jwk_key *found = NULL;
	size_t fitting = 0;

	for (size_t s = 0; s < nsets; s++) {
		for (size_t i = 0; sets[s] != NULL && i < sets[s]->n; i++) {
			const struct jwk_key *k = &sets[s]->keys[i];

			if (kid != NULL) {
				if (strcmp(k->kid, kid) != 0)
					continue;
				if (!jwk_key_fits(k, ai)) {
					focal_err_set(err, FOCAL_E_DENIED,
						      "key %s does not fit alg %s", kid,
						      jwk_algs[ai].alg);
					return NULL;
				}
				return k;
			}
			if (jwk_key_fits(k, ai)) {
				found = k;
				fitting++;
			}
		}
	}
	if (kid != NULL)
		focal_err_set(err, FOCAL_E_DENIED, "unknown kid");
	else if (fitting != 1)
		focal_err_set(err, FOCAL_E_DENIED, "token has no kid");
	return fitting == 1 ? found : NULL;
}

int jwk_verify(const char *token, const struct jwk_set *const *sets, size_t nsets,
	       const char *const *algs, json_t **claims, struct jwk_header *hdr,
	       struct focal_err *err)
{
	json_t *h = NULL, *kidv, *typv;
	const struct jwk_key *k;
	const char *alg;
	cjose_jws_t *jws = NULL;
	uint8_t *plain = NULL;
	size_t dots[2], plainlen = 0;
	bool allowed = false;
	int rc, ai;

	*claims = NULL;
	if (hdr != NULL)
		memset(hdr, 0, sizeof(*hdr));
	if ((rc = jwk_split(token, dots, err)) != FOCAL_OK ||
	    (rc = jwk_part_json(token, dots[0], &h, err)) != FOCAL_OK)
		return rc;
	alg = json_string_value(json_object_get(h, "alg"));
	kidv = json_object_get(h, "kid");
	typv = json_object_get(h, "typ");
	if (hdr != NULL) {
		snprintf(hdr->alg, sizeof(hdr->alg), "%s", alg ? alg : "");
		snprintf(hdr->kid, sizeof(hdr->kid), "%s", json_is_string(kidv) ?
			 json_string_value(kidv) : "");
		snprintf(hdr->typ, sizeof(hdr->typ), "%s", json_is_string(typv) ?
			 json_string_value(typv) : "");
	}
	for (size_t i = 0; alg != NULL && algs[i] != NULL; i++)
		if (strcmp(alg, algs[i]) == 0)
			allowed = true;
	/* the allow-list is checked first and "none"/HS* can never be supported,
	 * whatever the caller's list says */
	ai = jwk_alg_index(alg);
	if (!allowed || ai < 0) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "algorithm %s not allowed",
				   alg != NULL ? alg : "(missing)");
		goto out;
	}
	if (json_object_get(h, "crit") != NULL || json_object_get(h, "jku") != NULL ||
	    json_object_get(h, "jwk") != NULL || json_object_get(h, "x5u") != NULL) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "unsupported header parameter");
		goto out;
	}
	if (kidv != NULL && !json_is_string(kidv)) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "malformed kid");
		goto out;
	}
	/* libcjose splits an EC signature in two halves of whatever length it
	 * has; only the exact r || s size of the curve is a signature at all */
	if (jwk_algs[ai].sig_b64 != 0 && strlen(token) - dots[1] - 1 != jwk_algs[ai].sig_b64) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "bad signature");
		goto out;
	}
	k = jwk_choose(sets, nsets, ai, json_string_value(kidv), err);
	if (k == NULL) {
		rc = FOCAL_E_DENIED;
		goto out;
	}
	jws = cjose_jws_import(token, strlen(token), NULL);
	if (jws == NULL || !cjose_jws_verify(jws, k->jwk, NULL)) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "bad signature");
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plainlen, NULL)) {
		rc = focal_err_set(err, FOCAL_E_DENIED, "malformed token");
		goto out;
	}
	/* plain belongs to the jws */
	*claims = json_loadb((const char *)plain, plainlen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*claims)) {
		json_decref(*claims);
		*claims = NULL;
		rc = focal_err_set(err, FOCAL_E_DENIED, "token payload is not a JSON object");
		goto out;
	}
	rc = FOCAL_OK;
out:
	cjose_jws_release(jws);
	json_decref(h);
	return rc;
}
