/*
 * oidc: configuration, discovery, JWKS, token and userinfo endpoints of the
 * OpenID Connect provider (see oidc.h); the authorization endpoint and its
 * sign-in page are in oidc_login.c.
 */
#include "auth/oidc.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/federation.h"
#include "auth/oidc_int.h"
#include "core/cfgnode.h"
#include "core/log.h"
#include "http/server.h"
#include "sources/source.h"

/* --- configuration ------------------------------------------------------ */

static void oidc_client_clear(struct oidc_client *cl)
{
	free(cl->id);
	free(cl->name);
	for (size_t i = 0; i < cl->nredirect; i++)
		free(cl->redirect_uris[i]);
	for (size_t i = 0; i < cl->nscopes; i++)
		free(cl->scopes[i]);
	OPENSSL_cleanse(cl->secret_sha256, sizeof(cl->secret_sha256));
}

void oidc_config_free(struct oidc_config *c)
{
	if (c == NULL)
		return;
	free(c->issuer);
	for (size_t i = 0; i < c->keys.n; i++)
		jwk_key_clear(&c->keys.keys[i]);
	free(c->keys.keys);
	for (size_t i = 0; i < c->nclients; i++)
		oidc_client_clear(&c->clients[i]);
	free(c->clients);
	federation_free(c->fed);
	free(c);
}

const struct federation *oidc_federation(const struct oidc_config *c)
{
	return c != NULL ? c->fed : NULL;
}

/* An absolute URL focald will redirect browsers to: https (or http on the
 * loopback interface, for native applications, RFC 8252), no fragment, and
 * nothing that could break out of a header, an HTML attribute or a CSP. */
static bool oidc_redirect_uri_valid(const char *u)
{
	size_t n = strlen(u);

	if (n >= OIDC_URI_MAX)
		return false;
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://127.0.0.1", 16) != 0 &&
	    strncmp(u, "http://[::1]", 12) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)u[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("#;,\"'<>\\`", ch) != NULL)
			return false;
	}
	return true;
}

static bool oidc_token_chars(const char *s, size_t max)
{
	return jwk_charset_ok(s, 1, max - 1, "-._:");
}

static int oidc_parse_client(const struct cfg_node *m, struct oidc_client *cl,
			     struct focal_err *err)
{
	static const char *const keys[] = { "client_id", "name", "secret_sha256", "public",
					    "redirect_uris", "scopes", NULL };
	char *secret_hex = NULL;
	bool is_public = false;
	struct cfg_node v;
	size_t binlen = 0;
	int rc;

	if ((rc = cfg_expect_map(m, "client", err)) != FOCAL_OK ||
	    (rc = cfg_check_keys(m, keys, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "client_id", true, &cl->id, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "name", false, &cl->name, err)) != FOCAL_OK ||
	    (rc = cfg_get_string(m, "secret_sha256", false, &secret_hex, err)) != FOCAL_OK ||
	    (rc = cfg_get_bool(m, "public", false, &is_public, err)) != FOCAL_OK ||
	    (rc = federation_cfg_strings(m, "redirect_uris", cl->redirect_uris, OIDC_MAX_URIS,
					 &cl->nredirect, err)) != FOCAL_OK ||
	    (rc = federation_cfg_strings(m, "scopes", cl->scopes, OIDC_MAX_SCOPES, &cl->nscopes,
					 err)) != FOCAL_OK)
		goto out;
	if (!oidc_token_chars(cl->id, PRINCIPAL_ID_MAX)) {
		cfg_map_get(m, "client_id", &v);
		rc = cfg_error(&v, err, "client_id: 1 to 63 characters of [A-Za-z0-9._:-]");
		goto out;
	}
	if (cl->nredirect == 0) {
		rc = cfg_error(m, err, "client %s: redirect_uris is required", cl->id);
		goto out;
	}
	for (size_t i = 0; i < cl->nredirect; i++)
		if (!oidc_redirect_uri_valid(cl->redirect_uris[i])) {
			cfg_map_get(m, "redirect_uris", &v);
			rc = cfg_error(&v, err, "redirect URI %s: must be an absolute https:// URL (or "
				       "http://127.0.0.1) without fragment, spaces or quotes",
				       cl->redirect_uris[i]);
			goto out;
		}
	if (cl->nscopes == 0) {
		if ((cl->scopes[0] = strdup("openid")) == NULL ||
		    (cl->scopes[1] = strdup("profile")) == NULL) {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			goto out;
		}
		cl->nscopes = 2;
	}
	for (size_t i = 0; i < cl->nscopes; i++)
		if (!oidc_token_chars(cl->scopes[i], 64)) {
			cfg_map_get(m, "scopes", &v);
			rc = cfg_error(&v, err, "scope %s: letters, digits and -._: only", cl->scopes[i]);
			goto out;
		}
	if ((secret_hex == NULL) != is_public) {
		rc = cfg_error(m, err, "client %s: give either secret_sha256 (a confidential "
			       "client) or public: true (PKCE only), not both or neither", cl->id);
		goto out;
	}
	if (secret_hex != NULL) {
		if (sodium_hex2bin(cl->secret_sha256, sizeof(cl->secret_sha256), secret_hex,
				   strlen(secret_hex), NULL, &binlen, NULL) != 0 ||
		    binlen != sizeof(cl->secret_sha256) || strlen(secret_hex) != 64) {
			cfg_map_get(m, "secret_sha256", &v);
			rc = cfg_error(&v, err, "secret_sha256: 64 hex digits, the SHA-256 of the "
				       "client secret (printf %%s \"$secret\" | sha256sum)");
			goto out;
		}
		cl->confidential = true;
	}
	rc = FOCAL_OK;
out:
	free(secret_hex);
	return rc;
}

static int oidc_parse_keys(const struct cfg_node *root, struct oidc_config *c,
			   struct focal_err *err)
{
	static const char *const keys[] = { "file", "kid", "active", NULL };
	struct cfg_node seq, m;
	struct focal_err kerr;
	size_t nactive = 0;
	int rc;

	if (!cfg_map_get(root, "signing_keys", &seq))
		return cfg_error(root, err, "the provider (issuer) needs signing_keys");
	if ((rc = cfg_expect_seq(&seq, "signing_keys", err)) != FOCAL_OK)
		return rc;
	if (cfg_len(&seq) == 0 || cfg_len(&seq) > 8)
		return cfg_error(&seq, err, "signing_keys: 1 to 8 keys");
	c->keys.keys = calloc(cfg_len(&seq), sizeof(*c->keys.keys));
	if (c->keys.keys == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < cfg_len(&seq); i++) {
		char *file = NULL, *kid = NULL;
		struct jwk_key *k = NULL;
		bool active = false;

		cfg_seq_at(&seq, i, &m);
		if ((rc = cfg_expect_map(&m, "signing key", err)) != FOCAL_OK ||
		    (rc = cfg_check_keys(&m, keys, err)) != FOCAL_OK ||
		    (rc = cfg_get_path(&m, "file", true, &file, err)) != FOCAL_OK ||
		    (rc = cfg_get_string(&m, "kid", true, &kid, err)) != FOCAL_OK ||
		    (rc = cfg_get_bool(&m, "active", false, &active, err)) != FOCAL_OK) {
			free(file);
			free(kid);
			return rc;
		}
		rc = jwk_load_signing_pem(file, kid, &k, &kerr);
		free(file);
		free(kid);
		if (rc != FOCAL_OK)
			return cfg_error(&m, err, "%s", kerr.msg);
		for (size_t j = 0; j < c->keys.n; j++)
			if (strcmp(c->keys.keys[j].kid, k->kid) == 0) {
				jwk_key_free(k);
				return cfg_error(&m, err, "kid %s is used twice", c->keys.keys[j].kid);
			}
		c->keys.keys[c->keys.n] = *k; /* the set takes the key material */
		free(k);
		if (active) {
			c->active = c->keys.n;
			nactive++;
		}
		c->keys.n++;
	}
	if (nactive != 1)
		return cfg_error(&seq, err, "exactly one signing key must be active: true (the "
				 "others are published for tokens they signed earlier)");
	return FOCAL_OK;
}

static int oidc_parse_provider(const struct cfg_node *n, struct oidc_config *c,
			       struct focal_err *err)
{
	struct cfg_node v, seq, m;
	size_t len;
	int rc;

	if (!cfg_map_get(n, "issuer", &v))
		return FOCAL_OK; /* federation only */
	if ((rc = cfg_node_string(&v, "issuer", &c->issuer, err)) != FOCAL_OK)
		return rc;
	len = strlen(c->issuer);
	if (strncmp(c->issuer, "https://", 8) != 0 || len < 9 || len > 200 ||
	    c->issuer[len - 1] == '/' || strpbrk(c->issuer, "?#;,\"'<> ") != NULL)
		return cfg_error(&v, err, "issuer: an https:// URL without trailing slash, query "
				 "or fragment (the exact iss of the tokens)");
	if ((rc = cfg_get_long(n, "access_token_ttl_s", false, 30, 3600, &c->access_ttl_s, err)) ||
	    (rc = cfg_get_long(n, "id_token_ttl_s", false, 30, 3600, &c->id_ttl_s, err)) ||
	    (rc = cfg_get_long(n, "code_ttl_s", false, 10, 600, &c->code_ttl_s, err)) ||
	    (rc = cfg_get_long(n, "login_ttl_s", false, 60, 3600, &c->login_ttl_s, err)) ||
	    (rc = oidc_parse_keys(n, c, err)) != FOCAL_OK)
		return rc;
	if (!cfg_map_get(n, "clients", &seq))
		return cfg_error(n, err, "the provider (issuer) needs clients");
	if ((rc = cfg_expect_seq(&seq, "clients", err)) != FOCAL_OK)
		return rc;
	if (cfg_len(&seq) == 0 || cfg_len(&seq) > OIDC_MAX_CLIENTS)
		return cfg_error(&seq, err, "clients: 1 to %d clients", OIDC_MAX_CLIENTS);
	c->clients = calloc(cfg_len(&seq), sizeof(*c->clients));
	if (c->clients == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < cfg_len(&seq); i++) {
		cfg_seq_at(&seq, i, &m);
		c->nclients = i + 1;
		if ((rc = oidc_parse_client(&m, &c->clients[i], err)) != FOCAL_OK)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->clients[j].id, c->clients[i].id) == 0)
				return cfg_error(&m, err, "client_id %s is listed twice",
						 c->clients[i].id);
	}
	return FOCAL_OK;
}

int oidc_config_parse(const struct cfg_node *n, struct oidc_config **out, struct focal_err *err)
{
	static const char *const keys[] = { "issuer", "access_token_ttl_s", "id_token_ttl_s",
					    "code_ttl_s", "login_ttl_s", "signing_keys", "clients",
					    "trusted_issuers", NULL };
	struct oidc_config *c;
	struct cfg_node t;
	int rc;

	*out = NULL;
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_map(n, "oidc", err)) != FOCAL_OK ||
	    (rc = cfg_check_keys(n, keys, err)) != FOCAL_OK)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	c->access_ttl_s = 300;
	c->id_ttl_s = 300;
	c->code_ttl_s = 60;
	c->login_ttl_s = 600;
	if ((rc = oidc_parse_provider(n, c, err)) != FOCAL_OK ||
	    (rc = federation_config_parse(cfg_map_get(n, "trusted_issuers", &t) ? &t : NULL,
					  &c->fed, err)) != FOCAL_OK) {
		oidc_config_free(c);
		return rc;
	}
	*out = c;
	return FOCAL_OK;
}

const struct oidc_config *oidc_current(struct server_loop *sl)
{
	const struct oidc_config *c;

	if (sl->loop.sources == NULL)
		return NULL;
	c = sl->loop.sources->cfg->oidc;
	return c != NULL && c->issuer != NULL ? c : NULL;
}

const struct oidc_client *oidc_client_find(const struct oidc_config *c, const char *id)
{
	for (size_t i = 0; id != NULL && i < c->nclients; i++)
		if (strcmp(c->clients[i].id, id) == 0)
			return &c->clients[i];
	return NULL;
}

/* True when every space-separated scope is allowed for cl, and openid is one. */
bool oidc_client_scope_ok(const struct oidc_client *cl, const char *scope)
{
	bool openid = false;
	const char *p = scope;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");
		bool known = false;

		if (n == 0) {
			p++;
			continue;
		}
		for (size_t i = 0; i < cl->nscopes && !known; i++)
			known = strlen(cl->scopes[i]) == n && strncmp(cl->scopes[i], p, n) == 0;
		if (!known)
			return false;
		if (n == 6 && strncmp(p, "openid", 6) == 0)
			openid = true;
		p += n;
	}
	return openid;
}

/* --- discovery and keys ------------------------------------------------- */

static json_t *oidc_url(const struct oidc_config *c, const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s%s", c->issuer, path);
	return json_string(buf);
}

static void oidc_discovery(struct evhttp_request *req, struct server_loop *sl)
{
	const struct oidc_config *c = oidc_current(sl);
	json_t *d, *scopes;

	if (c == NULL) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
		return;
	}
	scopes = json_array();
	for (size_t i = 0; i < c->nclients; i++)
		for (size_t j = 0; j < c->clients[i].nscopes; j++) {
			bool dup = false;
			size_t k;
			json_t *s;

			json_array_foreach(scopes, k, s)
				dup = dup || strcmp(json_string_value(s), c->clients[i].scopes[j]) == 0;
			if (!dup)
				json_array_append_new(scopes, json_string(c->clients[i].scopes[j]));
		}
	d = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:[s], s:[s], s:[s], s:[s], s:[s], s:[s],"
		      " s:[sss], s:[s], s:[sssssssssssss], s:b, s:b, s:b, s:b}",
		      "issuer", c->issuer,
		      "authorization_endpoint", oidc_url(c, "/oidc/authorize"),
		      "token_endpoint", oidc_url(c, "/oidc/token"),
		      "userinfo_endpoint", oidc_url(c, "/oidc/userinfo"),
		      "jwks_uri", oidc_url(c, "/oidc/jwks"),
		      "scopes_supported", scopes,
		      "response_types_supported", "code",
		      "response_modes_supported", "query",
		      "grant_types_supported", "authorization_code",
		      "subject_types_supported", "public",
		      "id_token_signing_alg_values_supported", "ES256",
		      "code_challenge_methods_supported", "S256",
		      "token_endpoint_auth_methods_supported", "client_secret_basic",
		      "client_secret_post", "none",
		      "userinfo_signing_alg_values_supported", "none",
		      "claims_supported", "iss", "sub", "aud", "exp", "iat", "nbf", "auth_time",
		      "nonce", "acr", "amr", "name", "unit", "roles",
		      "authorization_response_iss_parameter_supported", 1,
		      "request_parameter_supported", 0,
		      "request_uri_parameter_supported", 0,
		      "claims_parameter_supported", 0);
	reply_json(req, 200, "OK", d);
}

static void oidc_jwks(struct evhttp_request *req, struct server_loop *sl)
{
	const struct oidc_config *c = oidc_current(sl);
	json_t *keys;

	if (c == NULL) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
		return;
	}
	keys = json_array();
	for (size_t i = 0; i < c->keys.n; i++)
		json_array_append_new(keys, jwk_public_json(&c->keys.keys[i]));
	reply_json(req, 200, "OK", json_pack("{s:o}", "keys", keys));
	/* caches may keep the key set briefly; rotation publishes a new key
	 * well before it signs (docs/identity-sso.md) */
}

/* --- token endpoint ----------------------------------------------------- */

static void oidc_token_error(struct evhttp_request *req, int status, const char *error,
			     const char *desc)
{
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
				  "Basic realm=\"focal\"");
	reply_json(req, status, status == 401 ? "Unauthorized" : "Bad Request",
		   json_pack("{s:s, s:s}", "error", error, "error_description", desc));
}

/* Parses an application/x-www-form-urlencoded body into q; duplicate
 * parameters are refused (RFC 6749 3.1, 3.2). */
int oidc_form(struct evhttp_request *req, struct evkeyvalq *q, struct focal_err *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Content-Type");
	size_t len = evbuffer_get_length(in);
	char *body;
	int rc;

	TAILQ_INIT(q);
	if (type == NULL || strncmp(type, "application/x-www-form-urlencoded", 33) != 0)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "Content-Type must be application/x-www-form-urlencoded");
	body = malloc(len + 1);
	if (body == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	rc = strlen(body) == len ? evhttp_parse_query_str(body, q) : -1;
	sodium_memzero(body, len);
	free(body);
	if (rc != 0)
		return focal_err_set(err, FOCAL_E_INVAL, "malformed form body");
	return oidc_params_unique(q, err);
}

int oidc_params_unique(const struct evkeyvalq *q, struct focal_err *err)
{
	const struct evkeyval *a, *b;

	TAILQ_FOREACH(a, q, next)
		for (b = TAILQ_NEXT(a, next); b != NULL; b = TAILQ_NEXT(b, next))
			if (strcmp(a->key, b->key) == 0)
				return focal_err_set(err, FOCAL_E_INVAL, "parameter %s given twice",
						     a->key);
	return FOCAL_OK;
}

/* Wipes the values of q (secrets, verifiers, codes) and frees it. */
void oidc_form_clear(struct evkeyvalq *q)
{
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, q, next)
		sodium_memzero(kv->value, strlen(kv->value));
	evhttp_clear_headers(q);
}

/* Client authentication (RFC 6749 2.3.1): HTTP Basic or the body, never
 * both; public clients send only client_id.  Returns the client or NULL
 * after replying. */
static const struct oidc_client *oidc_token_client(struct evhttp_request *req,
						   const struct oidc_config *c,
						   struct evkeyvalq *q)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Authorization");
	const char *body_id = evhttp_find_header(q, "client_id");
	const char *body_secret = evhttp_find_header(q, "client_secret");
	const struct oidc_client *cl = NULL;
	char raw[512], *id = NULL, *secret = NULL, *colon;
	unsigned char h[SHA256_DIGEST_LENGTH];
	size_t rawlen = 0;
	bool ok = false;

	if (auth != NULL && strncasecmp(auth, "Basic ", 6) == 0) {
		if (body_secret != NULL) {
			oidc_token_error(req, 400, "invalid_request",
					 "use one client authentication method");
			return NULL;
		}
		if (sodium_base642bin((unsigned char *)raw, sizeof(raw) - 1, auth + 6,
				      strlen(auth + 6), NULL, &rawlen, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    (raw[rawlen] = '\0', colon = strchr(raw, ':')) == NULL) {
			sodium_memzero(raw, sizeof(raw));
			oidc_token_error(req, 401, "invalid_client", "client authentication failed");
			return NULL;
		}
		*colon = '\0';
		id = evhttp_uridecode(raw, 1, NULL);
		secret = evhttp_uridecode(colon + 1, 1, NULL);
		sodium_memzero(raw, sizeof(raw));
		if (body_id != NULL && id != NULL && strcmp(body_id, id) != 0) {
			free(id);
			id = NULL;
		}
	} else {
		id = body_id != NULL ? strdup(body_id) : NULL;
		secret = body_secret != NULL ? strdup(body_secret) : NULL;
	}
	cl = oidc_client_find(c, id);
	if (cl != NULL && cl->confidential && secret != NULL) {
		SHA256((const unsigned char *)secret, strlen(secret), h);
		ok = CRYPTO_memcmp(h, cl->secret_sha256, sizeof(h)) == 0;
	} else if (cl != NULL && !cl->confidential) {
		ok = secret == NULL; /* a public client has nothing to present */
	}
	if (secret != NULL) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
	free(id);
	if (!ok) {
		audit_event("oidc.client.auth_failure", NULL,
			    json_pack("{s:s}", "client_id", body_id != NULL ? body_id : ""), NULL);
		oidc_token_error(req, 401, "invalid_client", "client authentication failed");
		return NULL;
	}
	return cl;
}

/* PKCE S256 (RFC 7636 4.6): BASE64URL(SHA256(verifier)) == challenge. */
static bool oidc_pkce_ok(const char *verifier, const char *challenge)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	char b64[OIDC_SECRET_B64];
	/* RFC 7636 4.1: 43..128 unreserved characters */
	if (!jwk_charset_ok(verifier, 43, 128, "-._~"))
		return false;
	SHA256((const unsigned char *)verifier, strlen(verifier), h);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(challenge) == strlen(b64) &&
	       CRYPTO_memcmp(b64, challenge, strlen(b64)) == 0;
}

static json_t *oidc_roles_json(const struct auth_principal *p)
{
	json_t *roles = json_array();

	for (size_t i = 0; i < p->nroles; i++)
		json_array_append_new(roles, json_string(p->roles[i]));
	return roles;
}

/* Signs the ID token and the access token for a redeemed code. */
static int oidc_make_tokens(const struct oidc_config *c, const struct oidc_authz *a,
			    const struct auth_principal *p, char **id_token, char **access,
			    char jti[OIDC_SECRET_B64], int64_t *at_exp, struct focal_err *err)
{
	const struct jwk_key *k = &c->keys.keys[c->active];
	int64_t now = (int64_t)time(NULL);
	json_t *idc = NULL, *atc = NULL;
	int rc;

	*id_token = *access = NULL;
	if ((rc = oidc_grant_random(jti, err)) != FOCAL_OK)
		return rc;
	*at_exp = now + c->access_ttl_s;
	idc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:[ss], s:s, s:s, s:s,"
			" s:o, s:s}",
			"iss", c->issuer, "sub", p->user, "aud", a->client_id, "azp", a->client_id,
			"exp", (json_int_t)(now + c->id_ttl_s), "iat", (json_int_t)now,
			"nbf", (json_int_t)now, "auth_time", (json_int_t)(p->auth_time_ms / 1000),
			"acr", "urn:focal:acr:mfa", "amr", "pwd", "otp",
			"name", p->name, "preferred_username", p->user, "unit", p->unit,
			"roles", oidc_roles_json(p),
			"clearance", classification_name(p->clearance));
	atc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:o}",
			"iss", c->issuer, "sub", p->user, "aud", c->issuer,
			"client_id", a->client_id, "scope", a->scope,
			"exp", (json_int_t)*at_exp, "iat", (json_int_t)now, "nbf", (json_int_t)now,
			"auth_time", (json_int_t)(p->auth_time_ms / 1000), "jti", jti,
			"name", p->name, "unit", p->unit, "roles", oidc_roles_json(p));
	if (idc == NULL || atc == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	if (a->nonce[0] != '\0')
		json_object_set_new(idc, "nonce", json_string(a->nonce));
	if ((rc = jwk_sign(k, "JWT", idc, id_token, err)) != FOCAL_OK ||
	    (rc = jwk_sign(k, "at+jwt", atc, access, err)) != FOCAL_OK) {
		free(*id_token);
		*id_token = NULL;
	}
out:
	json_decref(idc);
	json_decref(atc);
	return rc;
}

static void oidc_token(struct evhttp_request *req, struct server_loop *sl)
{
	const struct oidc_config *c = oidc_current(sl);
	const struct oidc_client *cl;
	struct auth_principal p;
	struct oidc_authz a;
	struct evkeyvalq q;
	struct focal_err err;
	const char *grant, *code, *redirect;
	char *id_token = NULL, *access = NULL, jti[OIDC_SECRET_B64];
	int64_t at_exp = 0;
	bool replay = false;

	if (c == NULL) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use POST");
		return;
	}
	if (oidc_form(req, &q, &err) != FOCAL_OK) {
		oidc_form_clear(&q);
		oidc_token_error(req, 400, "invalid_request", err.msg);
		return;
	}
	if ((cl = oidc_token_client(req, c, &q)) == NULL)
		goto out;
	grant = evhttp_find_header(&q, "grant_type");
	code = evhttp_find_header(&q, "code");
	redirect = evhttp_find_header(&q, "redirect_uri");
	if (grant == NULL || strcmp(grant, "authorization_code") != 0) {
		oidc_token_error(req, 400, "unsupported_grant_type",
				 "only authorization_code is supported");
		goto out;
	}
	if (code == NULL || redirect == NULL) {
		oidc_token_error(req, 400, "invalid_request", "code and redirect_uri are required");
		goto out;
	}
	/* the code is spent by this attempt whatever follows: a wrong verifier
	 * cannot be retried against the same code */
	if (oidc_grant_code_take(code, &a, &p, &replay, &err) != FOCAL_OK) {
		audit_event(replay ? "oidc.code.replay" : "oidc.code.invalid", NULL,
			    json_pack("{s:s, s:s}", "client_id", cl->id, "reason", err.msg), NULL);
		oidc_token_error(req, 400, "invalid_grant", err.msg);
		goto out;
	}
	if (strcmp(a.client_id, cl->id) != 0 || strcmp(a.redirect_uri, redirect) != 0 ||
	    !oidc_pkce_ok(evhttp_find_header(&q, "code_verifier"), a.challenge)) {
		audit_event("oidc.code.mismatch", &p,
			    json_pack("{s:s}", "client_id", cl->id), NULL);
		oidc_token_error(req, 400, "invalid_grant",
				 "code not issued to this client, redirect_uri or code_verifier");
		goto out;
	}
	if (!auth_user_active(p.user)) {
		oidc_token_error(req, 400, "invalid_grant", "the account is no longer active");
		goto out;
	}
	if (oidc_make_tokens(c, &a, &p, &id_token, &access, jti, &at_exp, &err) != FOCAL_OK) {
		reply_error(req, 500, "Internal Server Error", FOCAL_E_INTERNAL, err.msg);
		goto out;
	}
	oidc_grant_code_issued(code, jti, at_exp);
	/* no record, no tokens (the audit log fails closed) */
	if (audit_event("oidc.token.issued", &p, json_pack("{s:s, s:s}", "client_id", cl->id,
							   "jti", jti), &err) != FOCAL_OK) {
		reply_error(req, 503, "Service Unavailable", FOCAL_E_UNAVAIL, err.msg);
		goto out;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Pragma", "no-cache");
	reply_json(req, 200, "OK",
		   json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", access,
			     "token_type", "Bearer", "expires_in", (json_int_t)c->access_ttl_s,
			     "id_token", id_token, "scope", a.scope));
out:
	free(id_token);
	free(access);
	oidc_form_clear(&q);
}

/* --- userinfo ----------------------------------------------------------- */

static void oidc_bearer_error(struct evhttp_request *req, const char *desc)
{
	char h[256];

	snprintf(h, sizeof(h), "Bearer error=\"invalid_token\", error_description=\"%s\"", desc);
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", h);
	reply_json(req, 401, "Unauthorized",
		   json_pack("{s:s, s:s}", "error", "invalid_token", "error_description", desc));
}

static void oidc_userinfo(struct evhttp_request *req, struct server_loop *sl)
{
	static const char *const algs[] = { "ES256", NULL };
	const struct oidc_config *c = oidc_current(sl);
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Authorization");
	const struct jwk_set *sets[1];
	struct jwk_header hdr;
	struct focal_err err;
	json_t *claims = NULL, *out;
	const char *iss, *aud, *sub, *jti;
	json_int_t exp, nbf;
	int64_t now = (int64_t)time(NULL);

	if (c == NULL) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
		return;
	}
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		oidc_bearer_error(req, "bearer access token required");
		return;
	}
	sets[0] = &c->keys;
	if (jwk_verify(auth + 7, sets, 1, algs, &claims, &hdr, &err) != FOCAL_OK) {
		oidc_bearer_error(req, "invalid token");
		goto out;
	}
	iss = json_string_value(json_object_get(claims, "iss"));
	aud = json_string_value(json_object_get(claims, "aud"));
	sub = json_string_value(json_object_get(claims, "sub"));
	jti = json_string_value(json_object_get(claims, "jti"));
	exp = json_integer_value(json_object_get(claims, "exp"));
	nbf = json_integer_value(json_object_get(claims, "nbf"));
	/* typ keeps an ID token (typ JWT) from passing as an access token */
	if (strcmp(hdr.typ, "at+jwt") != 0 || iss == NULL || strcmp(iss, c->issuer) != 0 ||
	    aud == NULL || strcmp(aud, c->issuer) != 0 || sub == NULL || jti == NULL ||
	    exp <= now || nbf > now + 5) {
		oidc_bearer_error(req, "invalid or expired token");
		goto out;
	}
	if (oidc_grant_revoked(jti) || !auth_user_active(sub)) {
		oidc_bearer_error(req, "token revoked");
		goto out;
	}
	out = json_pack("{s:s, s:O*, s:s, s:O*, s:O*}", "sub", sub, "name",
			json_object_get(claims, "name"), "preferred_username", sub, "unit",
			json_object_get(claims, "unit"), "roles", json_object_get(claims, "roles"));
	reply_json(req, 200, "OK", out);
out:
	json_decref(claims);
}

const struct api_route oidc_api_routes[] = {
	{ "/.well-known/openid-configuration", false, oidc_discovery },
	{ "/oidc/jwks", false, oidc_jwks },
	{ "/oidc/authorize", false, oidc_authorize },
	{ "/oidc/login", false, oidc_login },
	{ "/oidc/token", false, oidc_token },
	{ "/oidc/userinfo", false, oidc_userinfo },
	{ NULL, false, NULL },
};
