/*
 * test_oidc: the OpenID Connect provider's configuration, signing keys and
 * rotation, and its code store (auth/oidc.h, auth/jwk.h, auth/oidc_grant.h).
 *
 * Signing keys are generated with the openssl command in a temporary folder;
 * nothing is committed.  The HTTP side (authorize, token, userinfo, redirect
 * URI and PKCE attacks) is exercised end to end by tests/system/test_oidc.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "auth/jwk.h"
#include "auth/oidc_grant.h"
#include "auth/oidc_int.h"
#include "core/cfgnode.h"

struct fx {
	char dir[64];
	char key_a[128], key_b[128], key_rsa[128], key_open[128];
};

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char cmd[512];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/focal-oidc-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->key_a, sizeof(fx->key_a), "%s/a.pem", fx->dir);
	snprintf(fx->key_b, sizeof(fx->key_b), "%s/b.pem", fx->dir);
	snprintf(fx->key_rsa, sizeof(fx->key_rsa), "%s/rsa.pem", fx->dir);
	snprintf(fx->key_open, sizeof(fx->key_open), "%s/open.pem", fx->dir);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && umask 077 && "
		 "openssl ecparam -name prime256v1 -genkey -noout -out a.pem 2>/dev/null && "
		 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out b.pem "
		 "2>/dev/null && "
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem "
		 "2>/dev/null && cp a.pem open.pem && chmod 644 open.pem", fx->dir);
	run(cmd);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	run(cmd);
	free(fx);
	oidc_grant_reset();
	return 0;
}

static int parse(const char *yaml, struct oidc_config **out, struct focal_err *err)
{
	struct cfg_doc doc;
	struct cfg_node root, n;
	int rc;

	assert_int_equal(cfg_doc_load_string(&doc, "t.yaml", yaml, strlen(yaml), err), 0);
	assert_int_equal(cfg_doc_root(&doc, &root, err), 0);
	assert_true(cfg_map_get(&root, "oidc", &n));
	rc = oidc_config_parse(&n, out, err);
	cfg_doc_free(&doc);
	return rc;
}

static char *provider_yaml(const struct fx *fx, const char *keys, const char *client)
{
	char *y;

	assert_true(asprintf(&y,
			     "oidc:\n"
			     "  issuer: https://focal.police.example\n"
			     "  signing_keys:\n%s"
			     "  clients:\n%s",
			     keys, client) > 0);
	(void)fx;
	return y;
}

static const char *const good_client =
	"    - client_id: intranet\n"
	"      name: Police intranet\n"
	"      secret_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
	"      redirect_uris: [\"https://intranet.police.example/oidc/cb\"]\n"
	"      scopes: [openid, profile]\n";

static void test_provider_config_and_rotation(void **state)
{
	static const char *const algs[] = { "ES256", NULL };
	struct fx *fx = *state;
	struct oidc_config *c = NULL;
	const struct jwk_set *sets[1];
	struct jwk_header hdr;
	struct focal_err err;
	char keys[512], *y, *tok = NULL;
	json_t *claims = json_pack("{s:s}", "sub", "jpeeters"), *got = NULL, *pub;

	snprintf(keys, sizeof(keys),
		 "    - { file: %s, kid: k2026a }\n"
		 "    - { file: %s, kid: k2026b, active: true }\n", fx->key_a, fx->key_b);
	y = provider_yaml(fx, keys, good_client);
	if (parse(y, &c, &err) != FOCAL_OK)
		fail_msg("%s", err.msg);
	free(y);
	assert_non_null(c);
	assert_int_equal(c->keys.n, 2);
	assert_string_equal(c->keys.keys[c->active].kid, "k2026b");
	assert_int_equal(c->code_ttl_s, 60);
	assert_int_equal(c->access_ttl_s, 300);
	assert_true(c->clients[0].confidential);
	/* the active key signs; every published key verifies (rotation) */
	assert_int_equal(jwk_sign(&c->keys.keys[c->active], "JWT", claims, &tok, &err), FOCAL_OK);
	sets[0] = &c->keys;
	assert_int_equal(jwk_verify(tok, sets, 1, algs, &got, &hdr, &err), FOCAL_OK);
	assert_string_equal(hdr.kid, "k2026b");
	assert_string_equal(hdr.typ, "JWT");
	assert_string_equal(json_string_value(json_object_get(got, "sub")), "jpeeters");
	json_decref(got);
	free(tok);
	assert_int_equal(jwk_sign(&c->keys.keys[0], "at+jwt", claims, &tok, &err), FOCAL_OK);
	assert_int_equal(jwk_verify(tok, sets, 1, algs, &got, &hdr, &err), FOCAL_OK);
	assert_string_equal(hdr.kid, "k2026a");
	json_decref(got);
	free(tok);
	/* the published JWK has no private part */
	pub = jwk_public_json(&c->keys.keys[0]);
	assert_non_null(json_object_get(pub, "x"));
	assert_null(json_object_get(pub, "d"));
	assert_string_equal(json_string_value(json_object_get(pub, "kid")), "k2026a");
	assert_string_equal(json_string_value(json_object_get(pub, "alg")), "ES256");
	json_decref(pub);
	/* scopes */
	assert_true(oidc_client_scope_ok(&c->clients[0], "openid profile"));
	assert_true(oidc_client_scope_ok(&c->clients[0], "openid"));
	assert_false(oidc_client_scope_ok(&c->clients[0], "profile"));
	assert_false(oidc_client_scope_ok(&c->clients[0], "openid admin"));
	assert_false(oidc_client_scope_ok(&c->clients[0], "openidx"));
	assert_non_null(oidc_client_find(c, "intranet"));
	assert_null(oidc_client_find(c, "intranet2"));
	json_decref(claims);
	oidc_config_free(c);
}

static void test_provider_config_errors(void **state)
{
	struct fx *fx = *state;
	struct {
		char keys[512];
		const char *client;
		const char *want;
	} table[] = {
		{ "", NULL, "readable by group" },
		{ "", NULL, "EC P-256" },
		{ "", NULL, "exactly one signing key" },
		{ "", NULL, "exactly one signing key" },
		{ "", NULL, "used twice" },
		{ "", "    - client_id: a\n      public: true\n"
		      "      redirect_uris: [\"https://a.example/cb#x\"]\n", "redirect URI" },
		{ "", "    - client_id: a\n      public: true\n"
		      "      redirect_uris: [\"http://a.example/cb\"]\n", "redirect URI" },
		{ "", "    - client_id: a\n      public: true\n      secret_sha256: "
		      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
		      "      redirect_uris: [\"https://a.example/cb\"]\n", "not both" },
		{ "", "    - client_id: a\n      secret_sha256: abc\n"
		      "      redirect_uris: [\"https://a.example/cb\"]\n", "64 hex" },
		{ "", "    - client_id: a\n      public: true\n", "redirect_uris" },
		{ "", "    - client_id: a\n      public: true\n      scopes: [\"open id\"]\n"
		      "      redirect_uris: [\"https://a.example/cb\"]\n", "scope" },
	};
	struct oidc_config *c = NULL;
	struct focal_err err;
	char *y;

	snprintf(table[0].keys, sizeof(table[0].keys), "    - { file: %s, kid: a, active: true }\n",
		 fx->key_open);
	snprintf(table[1].keys, sizeof(table[1].keys), "    - { file: %s, kid: a, active: true }\n",
		 fx->key_rsa);
	snprintf(table[2].keys, sizeof(table[2].keys), "    - { file: %s, kid: a }\n", fx->key_a);
	snprintf(table[3].keys, sizeof(table[3].keys),
		 "    - { file: %s, kid: a, active: true }\n"
		 "    - { file: %s, kid: b, active: true }\n", fx->key_a, fx->key_b);
	snprintf(table[4].keys, sizeof(table[4].keys),
		 "    - { file: %s, kid: a, active: true }\n"
		 "    - { file: %s, kid: a }\n", fx->key_a, fx->key_b);
	for (size_t i = 5; i < sizeof(table) / sizeof(table[0]); i++)
		snprintf(table[i].keys, sizeof(table[i].keys),
			 "    - { file: %s, kid: a, active: true }\n", fx->key_a);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		y = provider_yaml(fx, table[i].keys, table[i].client ? table[i].client : good_client);
		memset(&err, 0, sizeof(err));
		assert_int_not_equal(parse(y, &c, &err), FOCAL_OK);
		assert_null(c);
		if (strstr(err.msg, table[i].want) == NULL || strncmp(err.msg, "t.yaml:", 7) != 0)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, table[i].want);
		free(y);
	}
	/* the issuer itself */
	assert_int_not_equal(parse("oidc:\n  issuer: http://focal.example\n", &c, &err), 0);
	assert_non_null(strstr(err.msg, "https://"));
	assert_int_not_equal(parse("oidc:\n  issuer: https://focal.example/\n", &c, &err), 0);
	assert_int_not_equal(parse("oidc:\n  issuer: https://focal.example\n  unknown: 1\n", &c,
				   &err), 0);
	assert_non_null(strstr(err.msg, "unknown"));
}

static void test_code_single_use_and_replay_revokes(void **state)
{
	struct oidc_authz a, got;
	struct auth_principal p, gp;
	struct focal_err err;
	char code[OIDC_SECRET_B64], code2[OIDC_SECRET_B64];
	bool replay;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	snprintf(a.client_id, sizeof(a.client_id), "intranet");
	snprintf(p.user, sizeof(p.user), "jpeeters");
	assert_int_equal(oidc_grant_code_new(&a, &p, 60, code, &err), FOCAL_OK);
	assert_int_equal(strlen(code), 43);
	assert_int_equal(oidc_grant_code_new(&a, &p, 60, code2, &err), FOCAL_OK);
	assert_string_not_equal(code, code2);
	assert_int_equal(oidc_grant_code_take(code, &got, &gp, &replay, &err), FOCAL_OK);
	assert_false(replay);
	assert_string_equal(got.client_id, "intranet");
	assert_string_equal(gp.user, "jpeeters");
	oidc_grant_code_issued(code, "jti-1", 4102444800);
	assert_false(oidc_grant_revoked("jti-1"));
	/* second use: refused, and the token it bought is revoked */
	assert_int_equal(oidc_grant_code_take(code, &got, &gp, &replay, &err), FOCAL_E_DENIED);
	assert_true(replay);
	assert_true(oidc_grant_revoked("jti-1"));
	assert_false(oidc_grant_revoked("jti-2"));
	/* unknown and expired codes */
	assert_int_equal(oidc_grant_code_take("nope", &got, &gp, &replay, &err), FOCAL_E_DENIED);
	assert_false(replay);
	assert_int_equal(oidc_grant_code_new(&a, &p, 0, code, &err), FOCAL_OK);
	assert_int_equal(oidc_grant_code_take(code, &got, &gp, &replay, &err), FOCAL_E_DENIED);
	/* a replay racing the token issuance still revokes */
	assert_int_equal(oidc_grant_code_take(code2, &got, &gp, &replay, &err), FOCAL_OK);
	assert_int_equal(oidc_grant_code_take(code2, &got, &gp, &replay, &err), FOCAL_E_DENIED);
	oidc_grant_code_issued(code2, "jti-3", 4102444800);
	assert_true(oidc_grant_revoked("jti-3"));
}

static void test_login_transaction_attempts(void **state)
{
	struct oidc_authz a, got;
	struct focal_err err;
	char id[OIDC_SECRET_B64];

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.state, sizeof(a.state), "xyz");
	assert_int_equal(oidc_grant_txn_new(&a, 600, id, &err), FOCAL_OK);
	for (int i = 0; i < OIDC_LOGIN_ATTEMPTS; i++) {
		assert_int_equal(oidc_grant_txn_use(id, OIDC_LOGIN_ATTEMPTS, &got, &err), FOCAL_OK);
		assert_string_equal(got.state, "xyz");
	}
	assert_int_equal(oidc_grant_txn_use(id, OIDC_LOGIN_ATTEMPTS, &got, &err), FOCAL_E_DENIED);
	assert_int_equal(oidc_grant_txn_use(id, OIDC_LOGIN_ATTEMPTS, &got, &err), FOCAL_E_DENIED);
	assert_int_equal(oidc_grant_txn_new(&a, 600, id, &err), FOCAL_OK);
	oidc_grant_txn_end(id);
	assert_int_equal(oidc_grant_txn_use(id, OIDC_LOGIN_ATTEMPTS, &got, &err), FOCAL_E_DENIED);
	assert_int_equal(oidc_grant_txn_use("forged", OIDC_LOGIN_ATTEMPTS, &got, &err),
			 FOCAL_E_DENIED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_provider_config_and_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_single_use_and_replay_revokes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_login_transaction_attempts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
