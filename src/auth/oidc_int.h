/*
 * oidc_int: what oidc.c (configuration, discovery, tokens) and oidc_login.c
 * (authorization endpoint and sign-in page) share; not for other modules.
 */
#ifndef FOCAL_OIDC_INT_H
#define FOCAL_OIDC_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/jwk.h"
#include "auth/oidc.h"
#include "auth/oidc_grant.h"

#define OIDC_MAX_CLIENTS 64
#define OIDC_MAX_URIS 16
#define OIDC_MAX_SCOPES 16
#define OIDC_LOGIN_ATTEMPTS 5

struct oidc_client {
	char *id, *name;
	bool confidential;                 /* has a secret (else: public, PKCE only) */
	unsigned char secret_sha256[32];
	char *redirect_uris[OIDC_MAX_URIS];
	size_t nredirect;
	char *scopes[OIDC_MAX_SCOPES];
	size_t nscopes;
};

struct oidc_config {
	char *issuer;          /* NULL: the provider is off (federation only) */
	long access_ttl_s, id_ttl_s, code_ttl_s, login_ttl_s;
	struct jwk_set keys;   /* every published key; keys.keys[active] signs */
	size_t active;
	struct oidc_client *clients;
	size_t nclients;
	struct federation *fed;
};

struct evhttp_request;
struct server_loop;

/* The oidc configuration the loop runs with (NULL when the provider is off). */
const struct oidc_config *oidc_current(struct server_loop *sl);
const struct oidc_client *oidc_client_find(const struct oidc_config *c, const char *id);
bool oidc_client_scope_ok(const struct oidc_client *cl, const char *scope);

struct evkeyvalq;
/* Parses an application/x-www-form-urlencoded body (duplicates refused);
 * free with oidc_form_clear (which also wipes the values), even on error. */
int oidc_form(struct evhttp_request *req, struct evkeyvalq *q, struct focal_err *err);
void oidc_form_clear(struct evkeyvalq *q);
/* FOCAL_E_INVAL when a parameter of q is given twice (RFC 6749 3.1, 3.2: an
 * attacker's second redirect_uri must not win over the first). */
int oidc_params_unique(const struct evkeyvalq *q, struct focal_err *err);

/* oidc_login.c */
void oidc_authorize(struct evhttp_request *req, struct server_loop *sl);
void oidc_login(struct evhttp_request *req, struct server_loop *sl);

#endif
