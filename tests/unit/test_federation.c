/*
 * test_federation: tokens of trusted external identity providers
 * (auth/federation.h, auth/jwk.h).  Each attack is tried for real — a token
 * forged with another key, alg=none, HS256 keyed with the issuer's PUBLIC key
 * (algorithm confusion), a modified payload, expired / not yet valid tokens,
 * wrong audience or issuer, unknown kid, an alg off the allow-list, a user no
 * rule maps — and must be denied; the genuine token must pass.
 *
 * The issuer's keys are generated at run time (libcjose on OpenSSL); nothing
 * is committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "auth/federation.h"
#include "auth/jwk.h"
#include "core/cfgnode.h"

#define ISS "https://idp.federal.example"

struct fx {
	char dir[64], jwks_path[128];
	cjose_jwk_t *ec, *ec_other, *rsa;
	struct cfg_doc doc;
	struct federation *fed;
};

static char *b64url(const void *data, size_t len)
{
	char *out = NULL;
	size_t outlen = 0;

	assert_true(cjose_base64url_encode(data, len, &out, &outlen, NULL));
	return out;
}

/* Signs payload with header fields alg/kid using key (cjose does the maths). */
static char *sign(cjose_jwk_t *key, const char *alg, const char *kid, json_t *payload)
{
	cjose_header_t *h = cjose_header_new(NULL);
	char *text = json_dumps(payload, JSON_COMPACT), *out;
	cjose_jws_t *jws;
	const char *ser;
	cjose_err cerr;

	assert_true(cjose_header_set(h, CJOSE_HDR_ALG, alg, NULL));
	if (kid != NULL)
		assert_true(cjose_header_set(h, CJOSE_HDR_KID, kid, NULL));
	jws = cjose_jws_sign(key, h, (const uint8_t *)text, strlen(text), &cerr);
	if (jws == NULL)
		fail_msg("sign: %s", cerr.message);
	assert_true(cjose_jws_export(jws, &ser, NULL));
	out = strdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(text);
	json_decref(payload);
	return out;
}

static json_t *claims(void)
{
	int64_t now = (int64_t)time(NULL);

	return json_pack("{s:s, s:s, s:[ss], s:I, s:I, s:I, s:s, s:s, s:[s], s:[ss]}",
			 "iss", ISS, "sub", "fed.agent7", "aud", "other-app", "focal",
			 "exp", (json_int_t)(now + 300), "iat", (json_int_t)now,
			 "nbf", (json_int_t)now, "name", "Agent Seven", "unit", "FED-PATROL-2",
			 "groups", "federal-patrol", "amr", "pwd", "otp");
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char *pub_ec, *pub_rsa, *yaml;
	static const uint8_t e[] = { 0x01, 0x00, 0x01 };
	struct cfg_node root, seq;
	struct focal_err err;
	FILE *f;
	int n;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/focal-fed-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->ec = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
	fx->ec_other = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
	fx->rsa = cjose_jwk_create_RSA_random(2048, e, sizeof(e), NULL);
	assert_non_null(fx->ec);
	assert_non_null(fx->rsa);
	assert_true(cjose_jwk_set_kid(fx->ec, "ec1", 3, NULL));
	assert_true(cjose_jwk_set_kid(fx->ec_other, "ec1", 3, NULL)); /* same kid, other key */
	assert_true(cjose_jwk_set_kid(fx->rsa, "rsa1", 4, NULL));
	pub_ec = cjose_jwk_to_json(fx->ec, false, NULL);
	pub_rsa = cjose_jwk_to_json(fx->rsa, false, NULL);
	snprintf(fx->jwks_path, sizeof(fx->jwks_path), "%s/jwks.json", fx->dir);
	f = fopen(fx->jwks_path, "w");
	assert_non_null(f);
	fprintf(f, "{\"keys\":[%s,%s]}", pub_ec, pub_rsa);
	fclose(f);
	free(pub_ec);
	free(pub_rsa);
	n = asprintf(&yaml,
		     "trusted_issuers:\n"
		     "  - issuer: " ISS "\n"
		     "    audience: focal\n"
		     "    jwks_file: %s\n"
		     "    algorithms: [ES256]\n"
		     "    clock_skew_s: 60\n"
		     "    name_claim: name\n"
		     "    unit_claim: unit\n"
		     "    clearance: restricted\n"
		     "    role_mappings:\n"
		     "      - { claim: groups, value: federal-patrol, role: officer }\n"
		     "      - { claim: groups, value: federal-audit, role: auditor }\n",
		     fx->jwks_path);
	assert_true(n > 0);
	if (cfg_doc_load_string(&fx->doc, "t.yaml", yaml, strlen(yaml), &err) != 0 ||
	    cfg_doc_root(&fx->doc, &root, &err) != 0)
		fail_msg("%s", err.msg);
	free(yaml);
	assert_true(cfg_map_get(&root, "trusted_issuers", &seq));
	if (federation_config_parse(&seq, &fx->fed, &err) != FOCAL_OK)
		fail_msg("parse: %s", err.msg);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[160];

	federation_free(fx->fed);
	cfg_doc_free(&fx->doc);
	cjose_jwk_release(fx->ec);
	cjose_jwk_release(fx->ec_other);
	cjose_jwk_release(fx->rsa);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* Expects token to be denied, with a reason containing want. */
static void denied(struct fx *fx, char *token, const char *want)
{
	struct auth_principal p;
	struct focal_err err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(federation_verify(fx->fed, token, &p, &err), FOCAL_E_DENIED);
	if (want != NULL && strstr(err.msg, want) == NULL)
		fail_msg("denied for \"%s\", expected \"%s\"", err.msg, want);
	assert_string_equal(p.user, ""); /* nothing leaks into the principal */
	assert_int_equal(p.nroles, 0);
	free(token);
}

static void test_genuine_token_maps_to_principal(void **state)
{
	struct fx *fx = *state;
	char *t = sign(fx->ec, "ES256", "ec1", claims());
	struct auth_principal p;
	struct focal_err err;

	if (federation_verify(fx->fed, t, &p, &err) != FOCAL_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(p.user, "fed.agent7");
	assert_string_equal(p.name, "Agent Seven");
	assert_string_equal(p.unit, "FED-PATROL-2");
	assert_string_equal(p.issuer, ISS);
	assert_int_equal(p.nroles, 1);
	assert_string_equal(p.roles[0], "officer");
	assert_int_equal(p.clearance, CLASS_RESTRICTED);
	assert_true(p.mfa);
	assert_true(federation_is_jwt(t));
	assert_false(federation_is_jwt("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	free(t);
}

static void test_forged_with_other_key(void **state)
{
	struct fx *fx = *state;

	denied(fx, sign(fx->ec_other, "ES256", "ec1", claims()), "bad signature");
}

static void test_alg_none(void **state)
{
	struct fx *fx = *state;
	const char *hdr = "{\"alg\":\"none\",\"kid\":\"ec1\"}";
	char *h = b64url(hdr, strlen(hdr)), *pl, *p, *t;
	json_t *c = claims();

	pl = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	p = b64url(pl, strlen(pl));
	/* both the unsigned form "h.p." and one with a dummy signature */
	assert_true(asprintf(&t, "%s.%s.", h, p) > 0);
	denied(fx, t, NULL);
	assert_true(asprintf(&t, "%s.%s.AAAA", h, p) > 0);
	denied(fx, t, "not allowed");
	free(h);
	free(p);
	free(pl);
}

static void test_hs256_with_public_key_as_secret(void **state)
{
	struct fx *fx = *state;
	char *pub = cjose_jwk_to_json(fx->ec, false, NULL);
	cjose_jwk_t *hmac;
	FILE *f;
	char buf[4096];
	size_t n;

	/* the attacker knows the public JWK and the JWKS file bytes: try both */
	hmac = cjose_jwk_create_oct_spec((const uint8_t *)pub, strlen(pub), NULL);
	assert_non_null(hmac);
	denied(fx, sign(hmac, "HS256", "ec1", claims()), "not allowed");
	cjose_jwk_release(hmac);
	f = fopen(fx->jwks_path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	hmac = cjose_jwk_create_oct_spec((const uint8_t *)buf, n, NULL);
	denied(fx, sign(hmac, "HS256", NULL, claims()), "not allowed");
	/* even with HS256 on the allow-list in a caller's list, jwk_verify refuses it */
	{
		static const char *const algs[] = { "HS256", "ES256", NULL };
		struct jwk_set *set = NULL;
		const struct jwk_set *sets[1];
		struct focal_err err;
		json_t *cl = NULL;
		char *t = sign(hmac, "HS256", "ec1", claims());

		assert_int_equal(jwk_set_parse(buf, n, &set, &err), FOCAL_OK);
		sets[0] = set;
		assert_int_equal(jwk_verify(t, sets, 1, algs, &cl, NULL, &err), FOCAL_E_DENIED);
		assert_null(cl);
		jwk_set_free(set);
		free(t);
	}
	cjose_jwk_release(hmac);
	free(pub);
}

static void test_modified_payload(void **state)
{
	struct fx *fx = *state;
	char *t = sign(fx->ec, "ES256", "ec1", claims()), *dot1, *dot2, *evil, *pl;
	json_t *c = claims();

	/* same header and signature, payload that maps to admin */
	json_object_set_new(c, "groups", json_string("federal-audit"));
	pl = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	evil = b64url(pl, strlen(pl));
	dot1 = strchr(t, '.');
	dot2 = strchr(dot1 + 1, '.');
	*dot1 = '\0';
	{
		char *forged;

		assert_true(asprintf(&forged, "%s.%s%s", t, evil, dot2) > 0);
		denied(fx, forged, "bad signature");
	}
	free(evil);
	free(pl);
	free(t);
}

static void test_signature_length(void **state)
{
	struct fx *fx = *state;
	char *t = sign(fx->ec, "ES256", "ec1", claims()), *m, *dot;

	if (t == NULL || (dot = strrchr(t, '.')) == NULL)
		abort();
	assert_int_equal(strlen(dot + 1), 86);
	/* r || s with extra bytes, or cut short: not an ES256 signature */
	assert_true(asprintf(&m, "%sAA", t) > 0);
	denied(fx, m, "bad signature");
	m = strdup(t);
	m[strlen(m) - 2] = '\0';
	denied(fx, m, "bad signature");
	free(t);
}

static void test_time_claims(void **state)
{
	struct fx *fx = *state;
	int64_t now = (int64_t)time(NULL);
	struct auth_principal p;
	struct focal_err err;
	json_t *c;
	char *t;

	c = claims();
	json_object_set_new(c, "exp", json_integer(now - 3600));
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "expired");
	c = claims();
	json_object_set_new(c, "nbf", json_integer(now + 3600));
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "not yet valid");
	c = claims();
	json_object_del(c, "exp");
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "no expiry");
	c = claims();
	json_object_set_new(c, "exp", json_string("tomorrow"));
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "malformed");
	/* inside the 60 s clock skew: accepted */
	c = claims();
	json_object_set_new(c, "exp", json_integer(now - 20));
	t = sign(fx->ec, "ES256", "ec1", c);
	assert_int_equal(federation_verify(fx->fed, t, &p, &err), FOCAL_OK);
	free(t);
}

static void test_audience_and_issuer(void **state)
{
	struct fx *fx = *state;
	json_t *c;

	c = claims();
	json_object_set_new(c, "aud", json_string("other-app"));
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "wrong audience");
	c = claims();
	json_object_del(c, "aud");
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "wrong audience");
	c = claims();
	json_object_set_new(c, "iss", json_string("https://evil.example"));
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "issuer not trusted");
	c = claims();
	json_object_set_new(c, "iss", json_string(ISS "/"));
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "issuer not trusted");
}

static void test_keys_and_algorithms(void **state)
{
	struct fx *fx = *state;

	denied(fx, sign(fx->ec, "ES256", "nosuchkid", claims()), "unknown kid");
	/* RS256 is a good algorithm, but this issuer only allows ES256 */
	denied(fx, sign(fx->rsa, "RS256", "rsa1", claims()), "not allowed");
	/* an alg of the same family but off the list */
	denied(fx, sign(fx->ec, "ES384", "ec1", claims()), "not allowed");
	/* no kid: accepted only because exactly one key (ec1) fits ES256 */
	{
		struct auth_principal p;
		char *t = sign(fx->ec, "ES256", NULL, claims());

		assert_int_equal(federation_verify(fx->fed, t, &p, NULL), FOCAL_OK);
		free(t);
	}
}

static void test_kid_of_wrong_key_type(void **state)
{
	static const char *const algs[] = { "ES256", "RS256", NULL };
	struct fx *fx = *state;
	char *pub_ec = cjose_jwk_to_json(fx->ec, false, NULL);
	char *pub_rsa = cjose_jwk_to_json(fx->rsa, false, NULL), *jwks, *t;
	struct jwk_set *set = NULL;
	const struct jwk_set *sets[1];
	struct focal_err err;
	json_t *cl = NULL;

	assert_true(asprintf(&jwks, "{\"keys\":[%s,%s]}", pub_ec, pub_rsa) > 0);
	assert_int_equal(jwk_set_parse(jwks, strlen(jwks), &set, &err), FOCAL_OK);
	sets[0] = set;
	/* RS256 signed by the RSA key but naming the EC key's kid: refused */
	t = sign(fx->rsa, "RS256", "ec1", claims());
	assert_int_equal(jwk_verify(t, sets, 1, algs, &cl, NULL, &err), FOCAL_E_DENIED);
	assert_non_null(strstr(err.msg, "does not fit"));
	free(t);
	/* and the genuine RSA token passes with both algs allowed */
	t = sign(fx->rsa, "RS256", "rsa1", claims());
	assert_int_equal(jwk_verify(t, sets, 1, algs, &cl, NULL, &err), FOCAL_OK);
	json_decref(cl);
	free(t);
	jwk_set_free(set);
	free(jwks);
	free(pub_ec);
	free(pub_rsa);
}

/* A published key with an empty kid (or one too long) is skipped: no token
 * could name it, and every key of a parsed set has a kid (found by
 * fuzz_jwt).  The other keys of the set still load. */
static void test_jwks_key_without_usable_kid_is_skipped(void **state)
{
	struct fx *fx = *state;
	char *pub_ec = cjose_jwk_to_json(fx->ec, false, NULL);
	char *pub_rsa = cjose_jwk_to_json(fx->rsa, false, NULL), *jwks, *empty_kid, *at;
	struct jwk_set *set = NULL;
	struct focal_err err;

	assert_non_null(pub_ec);
	assert_non_null(at = strstr(pub_ec, "\"kid\":\"ec1\""));
	assert_true(asprintf(&empty_kid, "%.*s\"kid\":\"\"%s", (int)(at - pub_ec), pub_ec,
			     at + strlen("\"kid\":\"ec1\"")) > 0);
	assert_true(asprintf(&jwks, "{\"keys\":[%s,%s]}", empty_kid, pub_rsa) > 0);
	assert_int_equal(jwk_set_parse(jwks, strlen(jwks), &set, &err), FOCAL_OK);
	assert_int_equal(set->n, 1);
	assert_string_equal(set->keys[0].kid, "rsa1");
	jwk_set_free(set);
	free(jwks);
	set = NULL;
	assert_true(asprintf(&jwks, "{\"keys\":[%s]}", empty_kid) > 0);
	assert_int_not_equal(jwk_set_parse(jwks, strlen(jwks), &set, &err), FOCAL_OK);
	assert_null(set);
	free(jwks);
	free(empty_kid);
	free(pub_ec);
	free(pub_rsa);
}

static void test_unmapped_user(void **state)
{
	struct fx *fx = *state;
	json_t *c = claims();

	json_object_set_new(c, "groups", json_pack("[s]", "traffic-wardens"));
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "no role mapped");
	c = claims();
	json_object_del(c, "sub");
	denied(fx, sign(fx->ec, "ES256", "ec1", c), "sub");
}

static void test_garbage(void **state)
{
	struct fx *fx = *state;
	static const char *const bad[] = {
		"", "a", "a.b", "a.b.c.d", "..", "e30.e30.", "!!.e30.AAAA", "e30.e30.AAAA",
	};
	char *longtok = malloc(JWK_TOKEN_MAX + 10);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		denied(fx, strdup(bad[i]), NULL);
	memset(longtok, 'A', JWK_TOKEN_MAX + 9);
	longtok[10] = '.';
	longtok[20] = '.';
	longtok[JWK_TOKEN_MAX + 9] = '\0';
	denied(fx, longtok, "too long");
	/* no federation configured: everything is denied */
	{
		struct auth_principal p;
		char *t = sign(fx->ec, "ES256", "ec1", claims());

		assert_int_equal(federation_verify(NULL, t, &p, NULL), FOCAL_E_DENIED);
		free(t);
	}
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *yaml, *want;
	} table[] = {
		{ "t:\n  - issuer: https://a\n    audience: x\n    jwks_file: /nonexistent\n"
		  "    role_mappings: [{claim: g, value: v, role: officer}]\n", "cannot read" },
		{ "t:\n  - issuer: https://a\n    audience: x\n    jwks_file: /dev/null\n"
		  "    algorithms: [HS256]\n    role_mappings: [{claim: g, value: v, role: officer}]\n",
		  "HS256 is not allowed" },
		{ "t:\n  - issuer: https://a\n    audience: x\n    jwks_file: /dev/null\n"
		  "    algorithms: [none]\n    role_mappings: [{claim: g, value: v, role: officer}]\n",
		  "none is not allowed" },
		{ "t:\n  - issuer: https://a\n    audience: x\n    jwks_file: /dev/null\n"
		  "    algorithms: [EdDSA]\n    role_mappings: [{claim: g, value: v, role: officer}]\n",
		  "EdDSA is not" },
		{ "t:\n  - issuer: http://a\n    audience: x\n    jwks_file: /dev/null\n"
		  "    role_mappings: [{claim: g, value: v, role: officer}]\n", "https://" },
		{ "t:\n  - issuer: https://a\n    audience: x\n    jwks_file: /dev/null\n",
		  "role_mappings" },
		{ "t:\n  - issuer: https://a\n    audience: x\n    jwks_file: /dev/null\n"
		  "    role_mappings: [{claim: g, value: v, role: superuser}]\n", "role" },
		{ "t:\n  - issuer: https://a\n    audience: x\n"
		  "    role_mappings: [{claim: g, value: v, role: officer}]\n", "exactly one of" },
		{ "t:\n  - issuer: https://a\n    audience: x\n    jwks_url: http://x/jwks\n"
		  "    role_mappings: [{claim: g, value: v, role: officer}]\n", "https://" },
		{ "t:\n  - issuer: https://a\n    audiense: x\n", "audiense" },
	};
	struct cfg_doc doc;
	struct cfg_node root, seq;
	struct federation *f = NULL;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(cfg_doc_load_string(&doc, "t.yaml", table[i].yaml,
						     strlen(table[i].yaml), &err), 0);
		assert_int_equal(cfg_doc_root(&doc, &root, &err), 0);
		assert_true(cfg_map_get(&root, "t", &seq));
		memset(&err, 0, sizeof(err));
		assert_int_not_equal(federation_config_parse(&seq, &f, &err), FOCAL_OK);
		assert_null(f);
		if (strstr(err.msg, table[i].want) == NULL || strncmp(err.msg, "t.yaml:", 7) != 0)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, table[i].want);
		cfg_doc_free(&doc);
	}
}

/* Found by fuzz_jwt: libcjose aborts on some malformed members; such keys
 * must be skipped before it sees them. */
static void test_malformed_jwks_members(void **state)
{
	static const char *const bad[] = {
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\","
		"\"x\":\"f83OJ3D2x=1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
		"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"\",\"y\":\"\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-999\",\"x\":\"AA\",\"y\":\"AA\"}]}",
		"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
		"{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":1,\"y\":[]}]}",
		"{\"keys\":[]}", "{\"keys\":{}}", "[]", "not json",
	};
	struct jwk_set *set = NULL;
	struct focal_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(jwk_set_parse(bad[i], strlen(bad[i]), &set, &err), FOCAL_E_INVAL);
		assert_null(set);
	}
}

static void test_key_rotation_at_issuer(void **state)
{
	struct fx *fx = *state;
	char *pub = cjose_jwk_to_json(fx->ec_other, false, NULL), *jwks, *t;
	struct auth_principal p;
	struct focal_err err;

	/* the issuer rotated to a new key: the new set replaces the old one */
	assert_true(asprintf(&jwks, "{\"keys\":[%s]}", pub) > 0);
	assert_int_equal(federation_set_jwks(fx->fed, ISS, jwks, &err), FOCAL_OK);
	t = sign(fx->ec_other, "ES256", "ec1", claims());
	assert_int_equal(federation_verify(fx->fed, t, &p, &err), FOCAL_OK);
	free(t);
	denied(fx, sign(fx->ec, "ES256", "ec1", claims()), "bad signature");
	assert_int_equal(federation_set_jwks(fx->fed, "https://other", jwks, &err), FOCAL_E_INVAL);
	free(jwks);
	free(pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_genuine_token_maps_to_principal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_with_other_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alg_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hs256_with_public_key_as_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modified_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audience_and_issuer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_and_algorithms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kid_of_wrong_key_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jwks_key_without_usable_kid_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmapped_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_rotation_at_issuer, setup, teardown),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_malformed_jwks_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
