/*
 * auth_api: the identity endpoints (docs/api/openapi.yaml) — login with
 * TOTP enrolment, session, logout, and the user administration of role
 * `admin`.
 *
 * Work that blocks (Argon2id, SQLite) runs on the worker pool; the request
 * waits in a struct auth_pending that notices a client hanging up (the
 * connection's close callback), exactly like a search in api.c, and the
 * loop counts it as in flight so a drain waits for it.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/auth_internal.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/user.h"
#include "core/log.h"
#include "core/workpool.h"
#include "http/reply.h"
#include "http/server.h"
#include "policy/policy.h"
#include "store/store.h"

#define AUTH_DENIED_MSG "invalid username, password or code"
#define AUTH_ENROL_TOKENS 256
#define AUTH_ENROL_TRIES 5

/* ---- enrolment tokens ---- */

struct auth_enrolment {
	unsigned char th[32]; /* SHA-256 of the token */
	char user[PRINCIPAL_ID_MAX];
	char cert_fp[65];
	int64_t expires;
	int tries;
};

static pthread_mutex_t enrol_mu = PTHREAD_MUTEX_INITIALIZER;
static struct auth_enrolment enrol_tab[AUTH_ENROL_TOKENS];

int auth_enrolment_new(const char *user, const char *cert_fp, long ttl_s, char out[44])
{
	unsigned char raw[32];
	int64_t now = store_now();
	struct auth_enrolment *slot = NULL;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, 44, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	pthread_mutex_lock(&enrol_mu);
	for (size_t i = 0; i < AUTH_ENROL_TOKENS; i++) {
		struct auth_enrolment *e = &enrol_tab[i];

		/* one pending enrolment per user: a new login replaces it */
		if (e->expires > now && strcmp(e->user, user) == 0) {
			slot = e;
			break;
		}
		if (slot == NULL && e->expires <= now)
			slot = e;
	}
	if (slot == NULL) {
		pthread_mutex_unlock(&enrol_mu);
		sodium_memzero(out, 44);
		return FOCAL_E_UNAVAIL;
	}
	crypto_hash_sha256(slot->th, (const unsigned char *)out, strlen(out));
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	snprintf(slot->cert_fp, sizeof(slot->cert_fp), "%s", cert_fp ? cert_fp : "");
	slot->expires = now + ttl_s;
	slot->tries = 0;
	pthread_mutex_unlock(&enrol_mu);
	return FOCAL_OK;
}

int auth_enrolment_get(const char *token, bool consume, char user[PRINCIPAL_ID_MAX],
		       char cert_fp[65])
{
	unsigned char th[32];
	int64_t now = store_now();
	int rc = FOCAL_E_DENIED;

	user[0] = '\0';
	cert_fp[0] = '\0';
	if (strlen(token) != 43)
		return FOCAL_E_DENIED;
	crypto_hash_sha256(th, (const unsigned char *)token, strlen(token));
	pthread_mutex_lock(&enrol_mu);
	for (size_t i = 0; i < AUTH_ENROL_TOKENS; i++) {
		struct auth_enrolment *e = &enrol_tab[i];

		if (e->expires <= now || sodium_memcmp(e->th, th, 32) != 0)
			continue;
		if (consume || ++e->tries > AUTH_ENROL_TRIES) {
			if (!consume)
				break; /* too many tries: the token is dead */
		}
		memcpy(user, e->user, PRINCIPAL_ID_MAX);
		memcpy(cert_fp, e->cert_fp, 65);
		if (consume)
			sodium_memzero(e, sizeof(*e));
		rc = FOCAL_OK;
		break;
	}
	pthread_mutex_unlock(&enrol_mu);
	return rc;
}

void auth_enrolment_clear(void)
{
	pthread_mutex_lock(&enrol_mu);
	sodium_memzero(enrol_tab, sizeof(enrol_tab));
	pthread_mutex_unlock(&enrol_mu);
}

/* ---- helpers ---- */

static void auth_iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *auth_iso_or_null(int64_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	auth_iso8601(t, buf);
	return json_string(buf);
}

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
static int auth_parse_iso(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return FOCAL_E_INVAL;
	}
	*out = (int64_t)timegm(&tm);
	return FOCAL_OK;
}

static json_t *auth_roles_json(char roles[][PRINCIPAL_ID_MAX], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(roles[i]));
	return a;
}

static json_t *auth_principal_json(const struct auth_principal *p)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s}", "username", p->user, "name", p->name,
			 "unit", p->unit, "roles",
			 auth_roles_json((char (*)[PRINCIPAL_ID_MAX])p->roles, p->nroles),
			 "clearance", classification_name(p->clearance));
}

static json_t *auth_user_json(const struct user *u)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:o, s:o, s:o}", "username",
			 u->username, "name", u->name, "unit", u->unit, "roles",
			 auth_roles_json((char (*)[PRINCIPAL_ID_MAX])u->roles, u->nroles),
			 "clearance", classification_name(u->clearance), "status",
			 u->status == USER_ACTIVE ? "active" : "disabled", "locked", u->locked,
			 "mfa_enrolled", u->mfa_enrolled, "valid_from",
			 auth_iso_or_null(u->valid_from), "valid_until",
			 auth_iso_or_null(u->valid_until), "last_used",
			 auth_iso_or_null(u->last_used));
}

static void auth_set_cookie(struct evhttp_request *req, const char *token, long max_age)
{
	char c[256];

	/* Secure + HttpOnly + SameSite=Strict: never over plain HTTP, never
	 * to scripts, never on a cross-site request */
	snprintf(c, sizeof(c), AUTH_COOKIE "=%s; Path=/; Max-Age=%ld; Secure; HttpOnly; "
		 "SameSite=Strict", token, max_age);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", c);
	sodium_memzero(c, sizeof(c));
}

static bool auth_method(struct evhttp_request *req, enum evhttp_cmd_type m)
{
	if (evhttp_request_get_command(req) == m)
		return true;
	reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "method not allowed here");
	return false;
}

/* A string member of o, or NULL; false (and a 400 sent) when present but not
 * a string. */
static bool auth_str(struct evhttp_request *req, json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s: expected a string", key);
		reply_error(req, 400, "Bad Request", FOCAL_E_INVAL, msg);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* ---- requests waiting for the worker pool ---- */

struct auth_pending {
	struct evhttp_request *req;  /* NULL once the client left */
	struct evhttp_connection *evcon;
	struct server_loop *sl;
	bool want_token;
	char cert_fp[65];
	char device[PRINCIPAL_NAME_MAX];
	char enrol_token[44];
	struct auth_principal admin; /* admin requests: who asks */
};

static void auth_pending_close(struct evhttp_connection *evcon, void *arg)
{
	struct auth_pending *p = arg;

	(void)evcon;
	p->evcon = NULL;
	/* the request was detached from its connection: replying frees it */
	evhttp_send_reply(p->req, 499, "Client Closed Request", NULL);
	p->req = NULL;
}

static struct auth_pending *auth_pending_new(struct evhttp_request *req, struct server_loop *sl)
{
	struct auth_pending *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		reply_error(req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		return NULL;
	}
	p->req = req;
	p->sl = sl;
	p->evcon = evhttp_request_get_connection(req);
	auth_request_cert(req, p->cert_fp, p->device, sizeof(p->device));
	return p;
}

/* Once the job is queued. */
static void auth_pending_wait(struct auth_pending *p)
{
	server_loop_search_begin(p->sl);
	if (p->evcon != NULL)
		evhttp_connection_set_closecb(p->evcon, auth_pending_close, p);
}

/* In the job's done(): the request to answer, or NULL if the client left. */
static struct evhttp_request *auth_pending_req(struct auth_pending *p)
{
	if (p->evcon != NULL)
		evhttp_connection_set_closecb(p->evcon, NULL, NULL);
	return p->req;
}

static void auth_pending_free(struct auth_pending *p)
{
	server_loop_search_end(p->sl);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

/* ---- login ---- */

/* Opens a session for a verified login and answers with it. */
static void auth_reply_session(struct auth_pending *pd, struct evhttp_request *req,
			       struct login_result *res)
{
	struct session_grant g;
	struct focal_err err;
	char exp[32];
	json_t *body;

	res->p.device_cert = pd->cert_fp[0] != '\0';
	snprintf(res->p.device, sizeof(res->p.device), "%s", pd->device);
	/* always a new token: a session id planted before login is never
	 * promoted (session fixation) */
	if (session_create(&res->p, pd->cert_fp, &g, &err) != 0) {
		reply_error(req, 503, "Service Unavailable", err.code, err.msg);
		return;
	}
	auth_iso8601(g.expires_at, exp);
	body = json_pack("{s:s, s:o, s:s, s:I, s:s}", "status", "ok", "user",
			 auth_principal_json(&res->p), "csrf_token", g.csrf, "idle_timeout_s",
			 (json_int_t)g.idle_timeout_s, "expires_at", exp);
	if (pd->want_token)
		json_object_set_new(body, "token", json_string(g.token));
	if (res->has_recovery) {
		json_t *a = json_array();

		for (size_t i = 0; i < TOTP_RECOVERY_CODES; i++)
			json_array_append_new(a, json_string(res->recovery[i]));
		json_object_set_new(body, "recovery_codes", a);
	}
	auth_set_cookie(req, g.token, g.expires_at - store_now());
	sodium_memzero(&g, sizeof(g));
	reply_json(req, 200, "OK", body);
}

static void auth_login_done(int rc, struct login_result *res, const char *msg, void *arg)
{
	struct auth_pending *pd = arg;
	struct evhttp_request *req = auth_pending_req(pd);

	if (req == NULL)
		goto out;
	if (rc == FOCAL_E_DENIED) {
		reply_error(req, 401, "Unauthorized", FOCAL_E_DENIED, AUTH_DENIED_MSG);
	} else if (rc != FOCAL_OK) {
		reply_error(req, 503, "Service Unavailable", rc, msg);
	} else if (res->status == AUTH_LOGIN_MFA_ENROLMENT) {
		const struct auth_runtime *rt = auth_runtime();
		char tok[44];

		if (auth_enrolment_new(res->p.user, pd->cert_fp,
				       rt ? rt->cfg.enrolment_timeout_s : 600, tok) != 0) {
			reply_error(req, 503, "Service Unavailable", FOCAL_E_UNAVAIL,
				    "too many enrolments in progress: try again");
			goto out;
		}
		reply_json(req, 200, "OK",
			   json_pack("{s:s, s:s, s:s, s:s}", "status", "mfa_enrolment",
				     "enrolment_token", tok, "otpauth_uri", res->otpauth_uri,
				     "qr_png", res->qr_png));
		sodium_memzero(tok, sizeof(tok));
	} else {
		if (pd->enrol_token[0] != '\0') {
			char u[PRINCIPAL_ID_MAX], fp[65];

			auth_enrolment_get(pd->enrol_token, true, u, fp); /* used up */
		}
		auth_reply_session(pd, req, res);
	}
out:
	auth_pending_free(pd);
}

static bool auth_want_token(struct evhttp_request *req, json_t *body, bool *out)
{
	json_t *v = json_object_get(body, "want_token");

	*out = false;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_boolean(v)) {
		reply_error(req, 400, "Bad Request", FOCAL_E_INVAL, "want_token: expected a boolean");
		return false;
	}
	*out = json_is_true(v);
	return true;
}

/* A POST's JSON body, or NULL with the error sent (405 or 400). */
static json_t *auth_read_post(struct evhttp_request *req)
{
	struct focal_err err;
	json_t *body = NULL;
	int rc;

	if (!auth_method(req, EVHTTP_REQ_POST))
		return NULL;
	if ((rc = reply_read_json(req, &body, &err)) != 0)
		reply_error(req, 400, "Bad Request", rc, err.msg);
	return body;
}

/* Queues the login job of pd (freed, with a 503, when the pool refuses). */
static void auth_submit(struct evhttp_request *req, struct server_loop *sl,
			struct auth_pending *pd, const struct auth_login_args *a)
{
	struct focal_err err;
	int rc;

	if ((rc = auth_login_submit(&sl->loop, a, auth_login_done, pd, &err)) != 0) {
		free(pd);
		reply_error(req, 503, "Service Unavailable", rc, err.msg);
		return;
	}
	auth_pending_wait(pd);
}

static void auth_api_login(struct evhttp_request *req, struct server_loop *sl)
{
	struct auth_login_args a = { 0 };
	struct auth_pending *pd = NULL;
	char addr[64];
	const char *totp = NULL, *recovery = NULL;
	json_t *body = NULL;
	bool want = false;

	if ((body = auth_read_post(req)) == NULL)
		return;
	if (!auth_str(req, body, "username", &a.user) || !auth_str(req, body, "password", &a.password) ||
	    !auth_str(req, body, "totp", &totp) || !auth_str(req, body, "recovery_code", &recovery) ||
	    !auth_want_token(req, body, &want))
		goto out;
	if (a.user == NULL || a.password == NULL) {
		reply_error(req, 400, "Bad Request", FOCAL_E_INVAL,
			    "username and password are required");
		goto out;
	}
	a.code = totp != NULL && totp[0] != '\0' ? totp : recovery;
	snprintf(addr, sizeof(addr), "%s", reply_peer_addr(req));
	a.addr = addr;
	a.allow_enrolment = true;
	if ((pd = auth_pending_new(req, sl)) == NULL)
		goto out;
	pd->want_token = want;
	auth_submit(req, sl, pd, &a);
out:
	/* the body holds the password: wipe it before it is freed */
	if (a.password != NULL)
		sodium_memzero((void *)a.password, strlen(a.password));
	json_decref(body);
}

static void auth_api_enrol(struct evhttp_request *req, struct server_loop *sl)
{
	struct auth_login_args a = { 0 };
	struct auth_pending *pd = NULL;
	char user[PRINCIPAL_ID_MAX], fp[65], addr[64];
	const char *token = NULL, *totp = NULL;
	json_t *body = NULL;
	bool want = false;

	if ((body = auth_read_post(req)) == NULL)
		return;
	if (!auth_str(req, body, "enrolment_token", &token) || !auth_str(req, body, "totp", &totp) ||
	    !auth_want_token(req, body, &want))
		goto out;
	if (token == NULL || totp == NULL) {
		reply_error(req, 400, "Bad Request", FOCAL_E_INVAL,
			    "enrolment_token and totp are required");
		goto out;
	}
	if ((pd = auth_pending_new(req, sl)) == NULL)
		goto out;
	/* the enrolment continues on the connection (and certificate) it began on */
	if (auth_enrolment_get(token, false, user, fp) != 0 || strcmp(fp, pd->cert_fp) != 0) {
		free(pd);
		reply_error(req, 401, "Unauthorized", FOCAL_E_DENIED, AUTH_DENIED_MSG);
		goto out;
	}
	snprintf(pd->enrol_token, sizeof(pd->enrol_token), "%s", token);
	pd->want_token = want;
	snprintf(addr, sizeof(addr), "%s", reply_peer_addr(req));
	a.user = user;
	a.code = totp;
	a.addr = addr;
	a.enrol_finish = true;
	auth_submit(req, sl, pd, &a);
out:
	json_decref(body);
}

static void auth_api_session(struct evhttp_request *req, struct server_loop *sl)
{
	struct auth_principal p;
	struct session_limits lim;
	struct focal_err err;
	char csrf[SESSION_CSRF_HEX + 1], exp[32], tok[128];
	int64_t expires = 0;
	bool cookie = false, creds;
	int rc;

	if (!auth_method(req, EVHTTP_REQ_GET))
		return;
	creds = auth_request_token(req, tok, sizeof(tok), &cookie) != NULL ||
		evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization") != NULL;
	sodium_memzero(tok, sizeof(tok));
	if (sl->srv->dev_no_auth && !creds) {
		/* --dev-insecure-no-auth and no credentials at all: every call runs
		 * as the development principal (auth_request_principal), so say so
		 * (no CSRF token: there is no session); a request that carries a
		 * token is always checked as one */
		if ((rc = auth_request_principal(req, sl, &p, &err)) != 0) {
			auth_reply_denied(req, rc, err.msg);
			return;
		}
		reply_json(req, 200, "OK",
			   json_pack("{s:s, s:o, s:b}", "status", "ok", "user",
				     auth_principal_json(&p), "dev", 1));
		return;
	}
	if ((rc = auth_request_session(req, &p, csrf, &expires, NULL, &err)) != 0) {
		auth_reply_denied(req, rc, err.msg);
		return;
	}
	session_get_limits(&lim);
	auth_iso8601(expires, exp);
	reply_json(req, 200, "OK",
		   json_pack("{s:s, s:o, s:s, s:I, s:s}", "status", "ok", "user",
			     auth_principal_json(&p), "csrf_token", csrf, "idle_timeout_s",
			     (json_int_t)lim.idle_timeout_s, "expires_at", exp));
}

static void auth_api_logout(struct evhttp_request *req, struct server_loop *sl)
{
	struct auth_principal p;
	struct focal_err err;
	char token[SESSION_TOKEN_HEX + 1];
	int rc;

	(void)sl;
	if (!auth_method(req, EVHTTP_REQ_POST))
		return;
	rc = auth_request_session(req, &p, NULL, NULL, token, &err);
	if (rc == FOCAL_E_INVAL) { /* cookie without the CSRF header */
		auth_reply_denied(req, rc, err.msg);
		return;
	}
	if (rc == FOCAL_OK) {
		session_revoke(token, "logout");
		sodium_memzero(token, sizeof(token));
		audit_event("auth.logout", &p, json_pack("{s:s}", "session", p.session_id), NULL);
	}
	auth_set_cookie(req, "", 0);
	reply_headers(req, "application/json");
	/* the browser drops its cache, cookies and storage for this origin too */
	evhttp_add_header(evhttp_request_get_output_headers(req), "Clear-Site-Data",
			  "\"cache\", \"cookies\", \"storage\"");
	evhttp_send_reply(req, 204, "No Content", NULL);
}

/* ---- administration ---- */

enum auth_admin_op {
	ADMIN_LIST, ADMIN_CREATE, ADMIN_DISABLE, ADMIN_ENABLE, ADMIN_UNLOCK, ADMIN_RESET_MFA,
	ADMIN_ROLES,
};

static const char *const auth_admin_audit[] = {
	"admin.user.list", "admin.user.create", "admin.user.disable", "admin.user.enable",
	"admin.user.unlock", "admin.user.reset_mfa", "admin.user.roles",
};

struct auth_admin_job {
	struct work work; /* first member */
	struct auth_pending *pd;
	enum auth_admin_op op;
	struct user u;          /* target (username; all fields for CREATE) */
	char password[PASSWORD_MAX_BYTES + 2];
	bool has_password;
	int rc;
	struct focal_err err;
	struct user *list;
	size_t nlist;
};

static void auth_admin_run(struct work *w)
{
	struct auth_admin_job *j = (struct auth_admin_job *)w;
	struct store *st = auth_store();
	char name[PRINCIPAL_ID_MAX];

	/* a copy: user_get() below overwrites j->u */
	memcpy(name, j->u.username, sizeof(name));

	if (st == NULL) {
		j->rc = focal_err_set(&j->err, FOCAL_E_UNAVAIL, "store not available");
		return;
	}
	switch (j->op) {
	case ADMIN_LIST:
		j->rc = user_list(st, &j->list, &j->nlist, &j->err);
		return;
	case ADMIN_CREATE:
		j->rc = user_create(st, &j->u, j->has_password ? j->password : NULL, &j->err);
		sodium_memzero(j->password, sizeof(j->password));
		break;
	case ADMIN_DISABLE:
		j->rc = user_set_status(st, name, USER_DISABLED, &j->err);
		break;
	case ADMIN_ENABLE:
		j->rc = user_set_status(st, name, USER_ACTIVE, &j->err);
		break;
	case ADMIN_UNLOCK:
		j->rc = user_unlock(st, name, &j->err);
		break;
	case ADMIN_RESET_MFA:
		j->rc = user_reset_mfa(st, name, &j->err);
		break;
	case ADMIN_ROLES:
		j->rc = user_set_roles(st, name, j->u.roles, j->u.nroles, &j->err);
		break;
	}
	if (j->rc == FOCAL_OK)
		j->rc = user_get(st, name, &j->u, &j->err);
}

static void auth_admin_done(struct work *w)
{
	struct auth_admin_job *j = (struct auth_admin_job *)w;
	struct auth_pending *pd = j->pd;
	struct evhttp_request *req = auth_pending_req(pd);

	if (j->rc == FOCAL_OK && j->op != ADMIN_LIST)
		audit_event(auth_admin_audit[j->op], &pd->admin,
			    json_pack("{s:s, s:o}", "target", j->u.username, "user",
				      auth_user_json(&j->u)),
			    NULL);
	if (req == NULL) {
		/* the change is made even if the admin left; nothing to answer */
	} else if (j->rc == FOCAL_E_INVAL) {
		int status = strncmp(j->err.msg, "no such user", 12) == 0 ? 404 : 400;

		reply_error(req, status, status == 404 ? "Not Found" : "Bad Request", j->rc,
			    j->err.msg);
	} else if (j->rc != FOCAL_OK) {
		reply_error(req, 503, "Service Unavailable", j->rc, j->err.msg);
	} else if (j->op == ADMIN_LIST) {
		json_t *a = json_array();

		for (size_t i = 0; i < j->nlist; i++)
			json_array_append_new(a, auth_user_json(&j->list[i]));
		reply_json(req, 200, "OK", json_pack("{s:o}", "users", a));
	} else {
		reply_json(req, j->op == ADMIN_CREATE ? 201 : 200,
			   j->op == ADMIN_CREATE ? "Created" : "OK",
			   json_pack("{s:o}", "user", auth_user_json(&j->u)));
	}
	free(j->list);
	auth_pending_free(pd);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* Parses a JSON array of role names into u. */
static int auth_roles_parse(json_t *a, struct user *u, struct focal_err *err)
{
	size_t i;
	json_t *v;

	u->nroles = 0;
	if (!json_is_array(a) || json_array_size(a) > PRINCIPAL_MAX_ROLES)
		return focal_err_set(err, FOCAL_E_INVAL, "roles: expected an array of role names");
	json_array_foreach(a, i, v) {
		const char *r = json_string_value(v);

		if (r == NULL || !user_role_valid(r))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "roles: each must be officer, admin or auditor");
		snprintf(u->roles[u->nroles++], PRINCIPAL_ID_MAX, "%s", r);
	}
	return FOCAL_OK;
}

static int auth_create_parse(json_t *body, struct auth_admin_job *j, struct focal_err *err)
{
	const char *name = NULL, *disp = "", *unit = "", *clr = NULL, *pw = NULL, *until = NULL;
	json_t *roles = json_object_get(body, "roles");

	if (json_unpack_ex(body, NULL, 0, "{s:s, s?s, s?s, s:o, s:s, s?s, s?s}", "username", &name,
			   "name", &disp, "unit", &unit, "roles", &roles, "clearance", &clr,
			   "password", &pw, "valid_until", &until) != 0)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "expected {username, name, unit, roles, clearance, "
				     "password?, valid_until?} with string values");
	if (strlen(name) >= sizeof(j->u.username) || strlen(disp) >= sizeof(j->u.name) ||
	    strlen(unit) >= sizeof(j->u.unit))
		return focal_err_set(err, FOCAL_E_INVAL, "a field is too long");
	snprintf(j->u.username, sizeof(j->u.username), "%s", name);
	snprintf(j->u.name, sizeof(j->u.name), "%s", disp);
	snprintf(j->u.unit, sizeof(j->u.unit), "%s", unit);
	if (!user_name_valid(j->u.username))
		return focal_err_set(err, FOCAL_E_INVAL,
				     "username: 1 to 63 of a-z 0-9 . _ - (not starting with . or -)");
	if (auth_roles_parse(roles, &j->u, err) != 0)
		return FOCAL_E_INVAL;
	if (user_clearance_parse(clr, &j->u.clearance) != 0)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "clearance: not_sensitive, restricted or "
				     "strictly_confidential");
	if (until != NULL && auth_parse_iso(until, &j->u.valid_until) != 0)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "valid_until: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
	if (pw != NULL) {
		if (strlen(pw) > PASSWORD_MAX_BYTES)
			return focal_err_set(err, FOCAL_E_INVAL, "password: at most %d characters",
					     PASSWORD_MAX_CHARS);
		/* policy now, on the loop (cheap), so the error is immediate */
		if (password_check_policy(pw, name, err) != 0)
			return FOCAL_E_INVAL;
		snprintf(j->password, sizeof(j->password), "%s", pw);
		j->has_password = true;
		sodium_memzero((void *)pw, strlen(pw));
	}
	return FOCAL_OK;
}

static void auth_api_admin(struct evhttp_request *req, struct server_loop *sl)
{
	static const struct {
		const char *action;
		enum evhttp_cmd_type method;
		enum auth_admin_op op;
	} actions[] = {
		{ "disable", EVHTTP_REQ_POST, ADMIN_DISABLE },
		{ "enable", EVHTTP_REQ_POST, ADMIN_ENABLE },
		{ "unlock", EVHTTP_REQ_POST, ADMIN_UNLOCK },
		{ "reset-mfa", EVHTTP_REQ_POST, ADMIN_RESET_MFA },
		{ "roles", EVHTTP_REQ_PUT, ADMIN_ROLES },
	};
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *rest = path + strlen("/v1/admin/users");
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct auth_principal who;
	struct auth_admin_job *j = NULL;
	struct focal_err err;
	json_t *body = NULL;
	int rc;

	if ((rc = auth_request_principal(req, sl, &who, &err)) != 0) {
		auth_reply_denied(req, rc, err.msg);
		return;
	}
	/* the policy decides (administer users), not a fixed role */
	if (policy_check_admin_loop(sl, &who, "users", &err) != FOCAL_OK) {
		reply_error(req, 403, "Forbidden", FOCAL_E_DENIED, err.msg);
		return;
	}
	if (auth_store() == NULL) {
		reply_error(req, 503, "Service Unavailable", FOCAL_E_UNAVAIL,
			    "user store not available");
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		reply_error(req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		return;
	}
	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		if (m == EVHTTP_REQ_GET) {
			j->op = ADMIN_LIST;
		} else if (m == EVHTTP_REQ_POST) {
			j->op = ADMIN_CREATE;
			if ((rc = reply_read_json(req, &body, &err)) != 0 ||
			    (rc = auth_create_parse(body, j, &err)) != 0) {
				reply_error(req, 400, "Bad Request", FOCAL_E_INVAL, err.msg);
				goto fail;
			}
		} else {
			reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use GET or POST");
			goto fail;
		}
	} else {
		/* /{username}/{action} */
		const char *name = rest + 1, *slash = strchr(name, '/');
		size_t n = slash ? (size_t)(slash - name) : 0;
		const char *action = slash ? slash + 1 : "";
		bool found = false;

		if (n == 0 || n >= sizeof(j->u.username)) {
			reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
			goto fail;
		}
		memcpy(j->u.username, name, n);
		j->u.username[n] = '\0';
		if (strcmp(action, "sessions") == 0) {
			size_t ended;

			if (m != EVHTTP_REQ_DELETE) {
				reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use DELETE");
				goto fail;
			}
			/* memory only: never blocks, and the store follows at once */
			ended = session_revoke_user(j->u.username, "revoked by an administrator");
			audit_event("admin.user.sessions_revoked", &who,
				    json_pack("{s:s, s:I}", "target", j->u.username, "ended",
					      (json_int_t)ended),
				    NULL);
			reply_json(req, 200, "OK",
				   json_pack("{s:s, s:I}", "status", "ok", "sessions_ended",
					     (json_int_t)ended));
			goto fail; /* not an error: nothing queued */
		}
		for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (strcmp(action, actions[i].action) == 0) {
				found = true;
				j->op = actions[i].op;
				if (m != actions[i].method) {
					reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL,
						    actions[i].method == EVHTTP_REQ_PUT ? "use PUT"
											: "use POST");
					goto fail;
				}
			}
		if (!found) {
			reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
			goto fail;
		}
		if (j->op == ADMIN_ROLES &&
		    ((rc = reply_read_json(req, &body, &err)) != 0 ||
		     (rc = auth_roles_parse(json_object_get(body, "roles"), &j->u, &err)) != 0)) {
			reply_error(req, 400, "Bad Request", FOCAL_E_INVAL, err.msg);
			goto fail;
		}
	}
	json_decref(body);
	body = NULL;
	if ((j->pd = auth_pending_new(req, sl)) == NULL)
		goto fail;
	j->pd->admin = who;
	j->work.run = auth_admin_run;
	j->work.done = auth_admin_done;
	j->work.loop = &sl->loop;
	if (workpool_submit(workpool_default(), &j->work) != 0) {
		free(j->pd);
		reply_error(req, 503, "Service Unavailable", FOCAL_E_UNAVAIL, "busy: try again");
		goto fail;
	}
	auth_pending_wait(j->pd);
	return;
fail:
	json_decref(body);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

const struct api_route auth_api_routes[] = {
	{ "/v1/auth/login", false, auth_api_login },
	{ "/v1/auth/mfa/enrol", false, auth_api_enrol },
	{ "/v1/auth/session", false, auth_api_session },
	{ "/v1/auth/logout", false, auth_api_logout },
	{ "/v1/admin/users", true, auth_api_admin },
	{ NULL, false, NULL },
};
