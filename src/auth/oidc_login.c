/*
 * oidc_login: the authorization endpoint of the OpenID Connect provider and
 * its sign-in page.
 *
 * GET /oidc/authorize validates the request in the order RFC 6749 4.1.2.1
 * requires: an unknown client or a redirect_uri not registered EXACTLY (no
 * prefix, port, path or query tolerance) is answered with an error page and
 * never a redirect — otherwise focald would be an open redirector; every
 * later error goes back to the (now trusted) redirect_uri.  PKCE S256 is
 * mandatory for every client.
 *
 * With a live focald session (cookie) the code is issued at once; otherwise a
 * small sign-in page (username, password, TOTP; no script, strict CSP) posts
 * to /oidc/login.  The pending request stays on the server (oidc_grant),
 * named by a random id carried both in the form and in a SameSite=Strict
 * cookie, so another site cannot post the form (login CSRF).  The login
 * itself is the identity module's auth_login_start (Argon2id on the worker
 * pool); on success a focald session is created and its cookie set.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/oidc_int.h"
#include "auth/session.h"
#include "core/config.h"
#include "core/log.h"
#include "http/reply.h"
#include "http/server.h"
#include "sources/source.h"

#define OIDC_TXN_COOKIE "__Host-focal_oidc"
#define OIDC_SESSION_COOKIE "focal_session"

/* --- pages and redirects ------------------------------------------------ */

static void oidc_html_escape(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': evbuffer_add(b, "&amp;", 5); break;
		case '<': evbuffer_add(b, "&lt;", 4); break;
		case '>': evbuffer_add(b, "&gt;", 4); break;
		case '"': evbuffer_add(b, "&quot;", 6); break;
		case '\'': evbuffer_add(b, "&#39;", 5); break;
		default: evbuffer_add(b, s, 1); break;
		}
	}
}

/* Security headers of every HTML reply here: nothing but the form may load
 * or run; the form may post to focald and be redirected (after a successful
 * sign-in) to the client's registered redirect_uri only. */
static void oidc_html_headers(struct evhttp_request *req, const char *redirect_uri)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char csp[OIDC_URI_MAX + 160], target[OIDC_URI_MAX] = "";

	/* a CSP source has no query: "https://host/path?x=1" would be ignored */
	if (redirect_uri != NULL) {
		snprintf(target, sizeof(target), "%s", redirect_uri);
		target[strcspn(target, "?")] = '\0';
		redirect_uri = target;
	}
	reply_headers(req, "text/html; charset=utf-8");
	evhttp_remove_header(h, "Content-Security-Policy");
	snprintf(csp, sizeof(csp),
		 "default-src 'none'; form-action 'self'%s%s; frame-ancestors 'none'; "
		 "base-uri 'none'", redirect_uri != NULL ? " " : "",
		 redirect_uri != NULL ? redirect_uri : "");
	evhttp_add_header(h, "Content-Security-Policy", csp);
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

static void oidc_page_start(struct evbuffer *b, const char *title)
{
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<meta name=\"viewport\" content=\"width=device-width\">"
			    "<title>Focal — %s</title></head><body><main><h1>%s</h1>\n", title,
			    title);
}

/* An error page for requests that must NOT be redirected (unknown client,
 * unregistered redirect_uri, malformed request). */
static void oidc_error_page(struct evhttp_request *req, int status, const char *reason,
			    const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	oidc_html_headers(req, NULL);
	if (b != NULL) {
		oidc_page_start(b, "Sign-in refused");
		evbuffer_add_printf(b, "<p role=\"alert\">");
		oidc_html_escape(b, msg);
		evbuffer_add_printf(b, "</p></main></body></html>\n");
	}
	evhttp_send_reply(req, status, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void oidc_login_page(struct evhttp_request *req, const struct oidc_client *cl,
			    const struct oidc_authz *a, const char *txn, const char *error)
{
	struct evbuffer *b = evbuffer_new();

	oidc_html_headers(req, a->redirect_uri);
	if (b != NULL) {
		oidc_page_start(b, "Sign in");
		evbuffer_add_printf(b, "<p>");
		oidc_html_escape(b, cl != NULL && cl->name != NULL ? cl->name : a->client_id);
		evbuffer_add_printf(b, " asks you to sign in with your Focal account.</p>\n");
		if (error != NULL) {
			evbuffer_add_printf(b, "<p role=\"alert\">");
			oidc_html_escape(b, error);
			evbuffer_add_printf(b, "</p>\n");
		}
		evbuffer_add_printf(b,
			"<form method=\"post\" action=\"/oidc/login\">\n"
			"<input type=\"hidden\" name=\"txn\" value=\"");
		oidc_html_escape(b, txn);
		evbuffer_add_printf(b, "\">\n"
			"<p><label>Username <input name=\"username\" autocomplete=\"username\" "
			"required maxlength=\"63\" autofocus></label></p>\n"
			"<p><label>Password <input type=\"password\" name=\"password\" "
			"autocomplete=\"current-password\" required maxlength=\"128\"></label></p>\n"
			"<p><label>Code <input name=\"totp\" inputmode=\"numeric\" "
			"autocomplete=\"one-time-code\" required maxlength=\"32\"></label></p>\n"
			"<p><button type=\"submit\">Sign in</button></p>\n</form></main></body></html>\n");
	}
	evhttp_send_reply(req, 200, "OK", b);
	if (b != NULL)
		evbuffer_free(b);
}

/* Appends "&name=value" (URL-encoded) to b, or "?name=value" for the first. */
static void oidc_add_param(struct evbuffer *b, bool *first, const char *name, const char *value)
{
	char *enc = evhttp_uriencode(value, -1, 0);

	evbuffer_add_printf(b, "%s%s=%s", *first ? "" : "&", name, enc != NULL ? enc : "");
	*first = false;
	free(enc);
}

/* Redirects to the (already verified) redirect_uri with a code or an error
 * (RFC 6749 4.1.2, RFC 9207 iss). */
static void oidc_redirect(struct evhttp_request *req, const struct oidc_config *c,
			  const struct oidc_authz *a, const char *code, const char *error,
			  const char *desc)
{
	struct evbuffer *b = evbuffer_new();
	bool first = true;
	char *loc = NULL;
	size_t len;

	if (b != NULL) {
		evbuffer_add_printf(b, "%s%c", a->redirect_uri,
				    strchr(a->redirect_uri, '?') != NULL ? '&' : '?');
		if (code != NULL)
			oidc_add_param(b, &first, "code", code);
		if (error != NULL)
			oidc_add_param(b, &first, "error", error);
		if (desc != NULL)
			oidc_add_param(b, &first, "error_description", desc);
		if (a->state[0] != '\0')
			oidc_add_param(b, &first, "state", a->state);
		oidc_add_param(b, &first, "iss", c->issuer);
		len = evbuffer_get_length(b);
		loc = malloc(len + 1);
		if (loc != NULL) {
			evbuffer_copyout(b, loc, len);
			loc[len] = '\0';
		}
		evbuffer_free(b);
	}
	if (loc == NULL) {
		oidc_error_page(req, 503, "Service Unavailable", "out of memory");
		return;
	}
	reply_headers(req, "text/plain");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	sodium_memzero(loc, strlen(loc));
	free(loc);
	evhttp_send_reply(req, evhttp_request_get_command(req) == EVHTTP_REQ_POST ? 303 : 302,
			  evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "See Other" : "Found",
			  NULL);
}

/* Issues a code for p and redirects to the client. */
static void oidc_issue_code(struct evhttp_request *req, const struct oidc_config *c,
			    const struct oidc_authz *a, const struct auth_principal *p)
{
	char code[OIDC_SECRET_B64];
	struct focal_err err;

	if (oidc_grant_code_new(a, p, c->code_ttl_s, code, &err) != FOCAL_OK) {
		oidc_redirect(req, c, a, NULL, "temporarily_unavailable", err.msg);
		return;
	}
	if (audit_event("oidc.code.issued", p, json_pack("{s:s}", "client_id", a->client_id),
			&err) != FOCAL_OK) {
		sodium_memzero(code, sizeof(code)); /* never delivered: it expires unused */
		oidc_error_page(req, 503, "Service Unavailable", err.msg);
		return;
	}
	oidc_redirect(req, c, a, code, NULL, NULL);
	sodium_memzero(code, sizeof(code));
}

/* --- GET /oidc/authorize ------------------------------------------------ */

static bool oidc_copy(char *dst, size_t dstlen, const char *src)
{
	if (src == NULL) {
		dst[0] = '\0';
		return true;
	}
	if (strlen(src) >= dstlen)
		return false;
	memcpy(dst, src, strlen(src) + 1);
	return true;
}

/* The live focald session of the browser (cookie only: a bearer header is
 * not a browser's), or false. */
static bool oidc_session(struct evhttp_request *req, struct auth_principal *p)
{
	char buf[128], fp[65];
	bool from_cookie = false;
	const char *token = auth_request_token(req, buf, sizeof(buf), &from_cookie);
	bool ok;

	if (token == NULL || !from_cookie)
		return false;
	auth_request_cert(req, fp, NULL, 0);
	ok = session_lookup(token, fp, p, NULL, NULL, NULL) == FOCAL_OK && p->mfa &&
	     auth_user_active(p->user);
	sodium_memzero(buf, sizeof(buf));
	return ok;
}

void oidc_authorize(struct evhttp_request *req, struct server_loop *sl)
{
	const struct oidc_config *c = oidc_current(sl);
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	const struct oidc_client *cl;
	const char *v, *prompt, *max_age;
	struct auth_principal p;
	struct evkeyvalq q;
	struct oidc_authz a;
	struct focal_err err;
	char txn[OIDC_SECRET_B64], cookie[160];
	bool ok;

	memset(&a, 0, sizeof(a));
	TAILQ_INIT(&q);
	if (c == NULL) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		oidc_error_page(req, 405, "Method Not Allowed", "use GET");
		return;
	}
	if (evhttp_parse_query_str(qs != NULL ? qs : "", &q) != 0) {
		oidc_error_page(req, 400, "Bad Request", "malformed authorization request");
		goto out;
	}
	if (oidc_params_unique(&q, &err) != FOCAL_OK) {
		oidc_error_page(req, 400, "Bad Request", err.msg);
		goto out;
	}
	/* 1. who is asking, and where the answer may go: exact match only */
	cl = oidc_client_find(c, evhttp_find_header(&q, "client_id"));
	v = evhttp_find_header(&q, "redirect_uri");
	ok = false;
	for (size_t i = 0; cl != NULL && v != NULL && i < cl->nredirect && !ok; i++)
		ok = strcmp(cl->redirect_uris[i], v) == 0;
	if (!ok) {
		audit_event("oidc.authorize.refused", NULL,
			    json_pack("{s:s, s:s}", "client_id",
				      cl != NULL ? cl->id : "(unknown)", "reason",
				      cl == NULL ? "unknown client" : "redirect_uri not registered"),
			    NULL);
		oidc_error_page(req, 400, "Bad Request",
				cl == NULL ? "unknown client" :
				"redirect_uri is not registered for this client");
		goto out;
	}
	oidc_copy(a.client_id, sizeof(a.client_id), cl->id);
	oidc_copy(a.redirect_uri, sizeof(a.redirect_uri), v);
	if (!oidc_copy(a.state, sizeof(a.state), evhttp_find_header(&q, "state"))) {
		a.state[0] = '\0';
		oidc_redirect(req, c, &a, NULL, "invalid_request", "state too long");
		goto out;
	}
	/* 2. from here on errors go back to the client */
	v = evhttp_find_header(&q, "response_type");
	if (v == NULL || strcmp(v, "code") != 0) {
		oidc_redirect(req, c, &a, NULL, "unsupported_response_type",
			      "only response_type=code is supported");
		goto out;
	}
	if (evhttp_find_header(&q, "request") != NULL ||
	    evhttp_find_header(&q, "request_uri") != NULL) {
		oidc_redirect(req, c, &a, NULL, "request_not_supported",
			      "request objects are not supported");
		goto out;
	}
	v = evhttp_find_header(&q, "scope");
	if (v == NULL || !oidc_copy(a.scope, sizeof(a.scope), v) || !oidc_client_scope_ok(cl, v)) {
		oidc_redirect(req, c, &a, NULL, "invalid_scope",
			      "scope must include openid and only scopes allowed for the client");
		goto out;
	}
	v = evhttp_find_header(&q, "code_challenge_method");
	if (v == NULL || strcmp(v, "S256") != 0 ||
	    !jwk_charset_ok(evhttp_find_header(&q, "code_challenge"), 43, 43, "-_")) {
		oidc_redirect(req, c, &a, NULL, "invalid_request",
			      "PKCE is required: code_challenge (43 characters) with "
			      "code_challenge_method=S256");
		goto out;
	}
	oidc_copy(a.challenge, sizeof(a.challenge), evhttp_find_header(&q, "code_challenge"));
	if (!oidc_copy(a.nonce, sizeof(a.nonce), evhttp_find_header(&q, "nonce"))) {
		oidc_redirect(req, c, &a, NULL, "invalid_request", "nonce too long");
		goto out;
	}
	prompt = evhttp_find_header(&q, "prompt");
	max_age = evhttp_find_header(&q, "max_age");
	/* 3. an existing session answers at once, unless a fresh login is asked */
	if ((prompt == NULL || strcmp(prompt, "login") != 0) && oidc_session(req, &p)) {
		char *end = NULL;
		long age = max_age != NULL ? strtol(max_age, &end, 10) : -1;
		int64_t since = (int64_t)time(NULL) - p.auth_time_ms / 1000;

		if (max_age == NULL || (end != NULL && *end == '\0' && age >= 0 && since <= age)) {
			oidc_issue_code(req, c, &a, &p);
			goto out;
		}
	}
	if (prompt != NULL && strcmp(prompt, "none") == 0) {
		oidc_redirect(req, c, &a, NULL, "login_required", "no current session");
		goto out;
	}
	/* 4. the sign-in page */
	if (oidc_grant_txn_new(&a, c->login_ttl_s, txn, &err) != FOCAL_OK) {
		oidc_redirect(req, c, &a, NULL, "temporarily_unavailable", err.msg);
		goto out;
	}
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
		 "Max-Age=%ld", OIDC_TXN_COOKIE, txn, c->login_ttl_s);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
	oidc_login_page(req, cl, &a, txn, NULL);
	sodium_memzero(txn, sizeof(txn));
	sodium_memzero(cookie, sizeof(cookie));
out:
	evhttp_clear_headers(&q);
}

/* --- POST /oidc/login --------------------------------------------------- */

struct oidc_login_ctx {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct server_loop *sl;
	struct config *cfg; /* keeps the oidc configuration alive meanwhile */
	struct oidc_authz a;
	char txn[OIDC_SECRET_B64];
};

static void oidc_login_ctx_free(struct oidc_login_ctx *ctx)
{
	config_unref(ctx->cfg);
	sodium_memzero(ctx, sizeof(*ctx));
	free(ctx);
}

/* The value of cookie name in req's Cookie header(s), copied to out. */
static bool oidc_cookie(struct evhttp_request *req, const char *name, char *out, size_t outlen)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	size_t nlen = strlen(name);
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, h, next) {
		const char *p;

		if (strcasecmp(kv->key, "Cookie") != 0)
			continue;
		for (p = kv->value; p != NULL && *p != '\0';) {
			size_t n;

			p += strspn(p, " ");
			if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
				n = strcspn(p + nlen + 1, ";");
				if (n == 0 || n >= outlen)
					return false;
				memcpy(out, p + nlen + 1, n);
				out[n] = '\0';
				return true;
			}
			p = strchr(p, ';');
			if (p != NULL)
				p++;
		}
	}
	return false;
}

/* The client went away while its password was being checked. */
static void oidc_login_closed(struct evhttp_connection *evcon, void *arg)
{
	struct oidc_login_ctx *ctx = arg;

	(void)evcon;
	evhttp_connection_set_closecb(ctx->evcon, NULL, NULL);
	ctx->evcon = NULL;
	/* the request was detached from its connection: replying frees it */
	evhttp_send_reply(ctx->req, 499, "Client Closed Request", NULL);
	ctx->req = NULL;
}

static void oidc_login_done(int rc, const struct auth_principal *p, const char *msg, void *arg)
{
	struct oidc_login_ctx *ctx = arg;
	const struct oidc_config *c = ctx->cfg->oidc;
	struct session_grant g;
	struct auth_principal sp;
	struct focal_err err;
	char cookie[256], fp[65];

	if (ctx->req == NULL) { /* the browser is gone */
		oidc_login_ctx_free(ctx);
		return;
	}
	if (ctx->evcon != NULL)
		evhttp_connection_set_closecb(ctx->evcon, NULL, NULL);
	if (rc == FOCAL_E_DENIED) {
		oidc_login_page(ctx->req, oidc_client_find(c, ctx->a.client_id), &ctx->a, ctx->txn,
				msg != NULL ? msg : "invalid username, password or code");
		goto out;
	}
	if (rc != FOCAL_OK) {
		oidc_error_page(ctx->req, 503, "Service Unavailable",
				msg != NULL ? msg : "sign-in is unavailable; try again");
		goto out;
	}
	sp = *p;
	auth_request_cert(ctx->req, fp, NULL, 0);
	/* a new session token at every login (no fixation) */
	if (session_create(&sp, fp, &g, &err) != FOCAL_OK) {
		oidc_error_page(ctx->req, 503, "Service Unavailable", err.msg);
		goto out;
	}
	/* the same cookie as the identity API's login sets */
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%lld; Secure; HttpOnly; "
		 "SameSite=Strict", OIDC_SESSION_COOKIE, g.token,
		 (long long)(g.expires_at - (int64_t)time(NULL)));
	evhttp_add_header(evhttp_request_get_output_headers(ctx->req), "Set-Cookie", cookie);
	snprintf(cookie, sizeof(cookie), "%s=; Path=/; Secure; HttpOnly; SameSite=Strict; "
		 "Max-Age=0", OIDC_TXN_COOKIE);
	evhttp_add_header(evhttp_request_get_output_headers(ctx->req), "Set-Cookie", cookie);
	sodium_memzero(&g, sizeof(g));
	oidc_grant_txn_end(ctx->txn);
	sp.session_id[0] = '\0';
	oidc_issue_code(ctx->req, c, &ctx->a, &sp);
out:
	sodium_memzero(cookie, sizeof(cookie));
	oidc_login_ctx_free(ctx);
}

void oidc_login(struct evhttp_request *req, struct server_loop *sl)
{
	const struct oidc_config *c = oidc_current(sl);
	const char *txn, *user, *password, *totp;
	struct oidc_login_ctx *ctx = NULL;
	char cookie_txn[OIDC_SECRET_B64] = "";
	struct evkeyvalq q;
	struct focal_err err;

	TAILQ_INIT(&q);
	if (c == NULL) {
		reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		oidc_error_page(req, 405, "Method Not Allowed", "use POST");
		return;
	}
	if (oidc_form(req, &q, &err) != FOCAL_OK) {
		oidc_error_page(req, 400, "Bad Request", err.msg);
		goto out;
	}
	txn = evhttp_find_header(&q, "txn");
	user = evhttp_find_header(&q, "username");
	password = evhttp_find_header(&q, "password");
	totp = evhttp_find_header(&q, "totp");
	/* the form's id must equal the cookie's: a page of another site cannot
	 * send our SameSite=Strict cookie */
	if (txn == NULL || !oidc_cookie(req, OIDC_TXN_COOKIE, cookie_txn, sizeof(cookie_txn)) ||
	    strlen(txn) != strlen(cookie_txn) ||
	    CRYPTO_memcmp(txn, cookie_txn, strlen(txn)) != 0) {
		audit_event("oidc.login.csrf", NULL, NULL, NULL);
		oidc_error_page(req, 403, "Forbidden",
				"this sign-in form was not opened here: go back to the application "
				"and retry");
		goto out;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		oidc_error_page(req, 503, "Service Unavailable", "out of memory");
		goto out;
	}
	if (oidc_grant_txn_use(txn, OIDC_LOGIN_ATTEMPTS, &ctx->a, &err) != FOCAL_OK) {
		oidc_error_page(req, 400, "Bad Request", err.msg);
		goto out;
	}
	if (user == NULL || password == NULL || totp == NULL) {
		oidc_login_page(req, oidc_client_find(c, ctx->a.client_id), &ctx->a, txn,
				"username, password and code are required");
		goto out;
	}
	snprintf(ctx->txn, sizeof(ctx->txn), "%s", txn);
	ctx->req = req;
	ctx->sl = sl;
	ctx->evcon = evhttp_request_get_connection(req);
	ctx->cfg = config_ref(sl->loop.sources->cfg);
	if (auth_login_start(&sl->loop, user, password, totp, reply_peer_addr(req), oidc_login_done,
			     ctx) != FOCAL_OK) {
		oidc_error_page(req, 503, "Service Unavailable", "sign-in is unavailable; try again");
		goto out;
	}
	evhttp_connection_set_closecb(ctx->evcon, oidc_login_closed, ctx);
	ctx = NULL; /* oidc_login_done frees it */
out:
	if (ctx != NULL)
		oidc_login_ctx_free(ctx);
	sodium_memzero(cookie_txn, sizeof(cookie_txn));
	oidc_form_clear(&q);
}
