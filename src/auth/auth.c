/*
 * auth: see auth.h.  The `auth:` section, the process-wide runtime (store,
 * sealing key, session table), the asynchronous login verification and who
 * a request comes from.  The HTTP endpoints are in auth_api.c.
 */
#include "auth/auth.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth_internal.h"
#include "auth/federation.h"
#include "auth/oidc.h"
#include "auth/login.h"
#include "auth/password.h"
#include "auth/principal.h"
#include "auth/secret.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "core/cfgnode.h"
#include "core/config.h"
#include "core/log.h"
#include "core/workpool.h"
#include "http/reply.h"
#include "http/server.h"
#include "store/store.h"

static struct auth_config auth_defaults_value = {
	.key_file = NULL,
	.issuer = NULL,
	.argon2_memory_kib = 65536,
	.argon2_ops = 3,
	.lockout_failures = 5,
	.lockout_window_s = 900,
	.address_failures = 20,
	.address_window_s = 300,
	.idle_timeout_s = 1800,
	.absolute_timeout_s = 43200,
	.inactive_days = 90,
	.enrolment_timeout_s = 600,
};

void auth_config_defaults(struct auth_config *c)
{
	*c = auth_defaults_value;
}

int auth_config_parse(const struct cfg_node *n, struct auth_config **out, struct focal_err *err)
{
	static const char *const keys[] = {
		"key_file", "totp_issuer", "argon2_memory_kib", "argon2_ops", "lockout_failures",
		"lockout_window_s", "address_failures", "address_window_s", "idle_timeout_s",
		"absolute_timeout_s", "inactive_days", "enrolment_timeout_s", NULL
	};
	struct auth_config *c = NULL;
	int rc;

	*out = NULL;
	if (n == NULL)
		return FOCAL_OK;
	if ((rc = cfg_expect_map(n, "auth", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	auth_config_defaults(c);
	if ((rc = cfg_get_path(n, "key_file", false, &c->key_file, err)) != 0 ||
	    (rc = cfg_get_string(n, "totp_issuer", false, &c->issuer, err)) != 0 ||
	    (rc = cfg_get_long(n, "argon2_memory_kib", false, 7168, 4L * 1024 * 1024,
			       &c->argon2_memory_kib, err)) != 0 ||
	    (rc = cfg_get_long(n, "argon2_ops", false, 1, 64, &c->argon2_ops, err)) != 0 ||
	    (rc = cfg_get_long(n, "lockout_failures", false, 0, 100, &c->lockout_failures,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "lockout_window_s", false, 1, 86400 * 30, &c->lockout_window_s,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "address_failures", false, 0, 100000, &c->address_failures,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "address_window_s", false, 1, 86400, &c->address_window_s,
			       err)) != 0 ||
	    (rc = cfg_get_long(n, "idle_timeout_s", false, 1, 86400, &c->idle_timeout_s, err)) !=
		    0 ||
	    (rc = cfg_get_long(n, "absolute_timeout_s", false, 1, 7 * 86400,
			       &c->absolute_timeout_s, err)) != 0 ||
	    (rc = cfg_get_long(n, "inactive_days", false, 0, 3650, &c->inactive_days, err)) != 0 ||
	    (rc = cfg_get_long(n, "enrolment_timeout_s", false, 30, 86400, &c->enrolment_timeout_s,
			       err)) != 0)
		goto fail;
	if (!password_params_ok((unsigned long)c->argon2_memory_kib,
				(unsigned long)c->argon2_ops)) {
		struct cfg_node v;

		if (!cfg_map_get(n, "argon2_memory_kib", &v))
			cfg_map_get(n, "argon2_ops", &v);
		rc = cfg_error(&v, err,
			       "argon2_memory_kib/argon2_ops: below OWASP's Argon2id minimum "
			       "(e.g. 19456 KiB with 2 passes, 47104 KiB with 1)");
		goto fail;
	}
	if (c->idle_timeout_s > c->absolute_timeout_s) {
		struct cfg_node v;

		cfg_map_get(n, "idle_timeout_s", &v);
		rc = cfg_error(&v, err, "idle_timeout_s: must not exceed absolute_timeout_s");
		goto fail;
	}
	*out = c;
	return FOCAL_OK;
fail:
	auth_config_free(c);
	return rc;
}

void auth_config_free(struct auth_config *c)
{
	if (c == NULL)
		return;
	free(c->key_file);
	free(c->issuer);
	free(c);
}

/* ---- runtime ---- */

static struct auth_runtime auth_rt;

/* Logins run on a pool of their own (auth_pool_threads): a
 * burst of Argon2id hashes then queues behind itself and never delays the
 * SQLite searches on the default pool.  Its bounded queue is the
 * back-pressure: when full, a login gets 503 at once. */
static struct workpool *auth_pool;
#define AUTH_POOL_QUEUE 256
#define AUTH_LOGIN_NICE 10

const struct auth_runtime *auth_runtime(void)
{
	return auth_rt.started ? &auth_rt : NULL;
}

struct store *auth_store(void)
{
	return auth_rt.started ? auth_rt.st : NULL;
}

/* The default key file: focal-auth.key next to the configuration file. */
static char *auth_default_key_path(const char *config_path)
{
	static const char name[] = "focal-auth.key";
	const char *slash = config_path ? strrchr(config_path, '/') : NULL;
	size_t dir = slash ? (size_t)(slash - config_path) + 1 : 0;
	char *p = malloc(dir + sizeof(name));

	if (p != NULL) {
		memcpy(p, config_path, dir);
		memcpy(p + dir, name, sizeof(name));
	}
	return p;
}

int auth_open(const struct config *cfg, struct auth_runtime *rt, struct focal_err *err)
{
	struct password_params pp;
	char *keypath = NULL;
	int rc;

	memset(rt, 0, sizeof(*rt));
	auth_config_defaults(&rt->cfg);
	if (cfg->auth != NULL)
		rt->cfg = *cfg->auth;
	/* the strings stay the configuration's: copy them */
	rt->cfg.key_file = NULL;
	rt->cfg.issuer = NULL;
	snprintf(rt->issuer, sizeof(rt->issuer), "%s",
		 cfg->auth && cfg->auth->issuer ? cfg->auth->issuer : "Focal");
	keypath = cfg->auth && cfg->auth->key_file ? strdup(cfg->auth->key_file)
						   : auth_default_key_path(cfg->path);
	if (keypath == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	pp.memory_kib = (unsigned long)rt->cfg.argon2_memory_kib;
	pp.ops = (unsigned long)rt->cfg.argon2_ops;
	if ((rc = totp_init(err)) != 0 || (rc = password_set_params(&pp, err)) != 0 ||
	    (rc = secret_key_load(keypath, true, &rt->key, err)) != 0 ||
	    (rc = store_open(cfg->store, cfg->path, &rt->st, err)) != 0) {
		free(keypath);
		auth_close(rt);
		return rc;
	}
	free(keypath);
	throttle_configure(rt->cfg.address_failures, rt->cfg.address_window_s);
	rt->login.st = rt->st;
	rt->login.key = rt->key;
	rt->login.lockout_failures = rt->cfg.lockout_failures;
	rt->login.lockout_window_s = rt->cfg.lockout_window_s;
	rt->login.inactive_days = rt->cfg.inactive_days;
	rt->login.issuer = rt->issuer;
	return FOCAL_OK;
}

void auth_close(struct auth_runtime *rt)
{
	secret_key_free(rt->key);
	store_close(rt->st);
	memset(rt, 0, sizeof(*rt));
}

/* Half the workers, at least one, and never every CPU: one core always stays
 * for the event loops and searches (on 2 CPUs, 1 login thread: measured with
 * bench/login_bench.py, two threads of 64 MiB Argon2id took the search p99
 * from ~80 ms to ~480 ms, memory bandwidth included, not only CPU time). */
static size_t auth_pool_threads(long workers)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long n = workers / 2;

	if (cpus > 1 && n > cpus - 1)
		n = cpus - 1;
	return n > 1 ? (size_t)n : 1;
}

int auth_start(const struct config *cfg, struct focal_err *err)
{
	struct session_limits lim;
	int rc;

	if (auth_rt.started)
		return FOCAL_OK;
	if ((rc = auth_open(cfg, &auth_rt, err)) != 0)
		return rc;
	if ((rc = workpool_create(auth_pool_threads(cfg->server.workers), AUTH_POOL_QUEUE,
				  &auth_pool, err)) != 0) {
		auth_close(&auth_rt);
		return rc;
	}
	lim.idle_timeout_s = auth_rt.cfg.idle_timeout_s;
	lim.absolute_timeout_s = auth_rt.cfg.absolute_timeout_s;
	lim.inactive_days = auth_rt.cfg.inactive_days;
	if ((rc = session_init(auth_rt.st, &lim, err)) != 0) {
		workpool_destroy(auth_pool);
		auth_pool = NULL;
		auth_close(&auth_rt);
		return rc;
	}
	/* trusted issuers' JWKS URLs: fetched now, not while parsing */
	federation_fetch(oidc_federation(cfg->oidc));
	auth_rt.started = true;
	log_info("auth.start", "store %s, %zu live sessions, Argon2id m=%ld KiB t=%ld",
		 store_path(auth_rt.st), session_count(), auth_rt.cfg.argon2_memory_kib,
		 auth_rt.cfg.argon2_ops);
	return FOCAL_OK;
}

void auth_stop(void)
{
	if (!auth_rt.started)
		return;
	workpool_destroy(auth_pool); /* the logins still queued finish first */
	auth_pool = NULL;
	session_shutdown();
	auth_enrolment_clear();
	auth_close(&auth_rt);
}

bool auth_user_active(const char *user)
{
	return session_user_active(user);
}

/* ---- asynchronous login ---- */

struct auth_login_job {
	struct work work; /* first member */
	char user[PRINCIPAL_ID_MAX + 1];
	char password[PASSWORD_MAX_BYTES + 2];
	char code[64];
	char addr[64];
	bool allow_enrolment;
	bool enrol_finish;
	int rc;
	struct focal_err err;
	struct login_result res;
	void (*done)(int rc, const struct auth_principal *p, const char *msg, void *arg);
	void (*done_ex)(int rc, struct login_result *res, const char *msg, void *arg);
	void *arg;
};

static void auth_login_run(struct work *w)
{
	static _Thread_local bool niced;
	struct auth_login_job *j = (struct auth_login_job *)w;
	int64_t now = store_now();

	/* Argon2id is seconds of CPU per burst of logins: the login threads run
	 * at a lower priority (Linux: per thread) so that on a busy machine the
	 * event loops and search workers come first and searches keep their
	 * latency; logins then take the CPU the searches leave */
	if (!niced) {
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), AUTH_LOGIN_NICE);
		niced = true;
	}

	if (j->enrol_finish)
		j->rc = login_enrol_finish(&auth_rt.login, j->user, j->code, now, &j->res, &j->err);
	else
		j->rc = login_verify(&auth_rt.login, j->user, j->password, j->code, j->addr,
				     j->allow_enrolment, now, &j->res, &j->err);
	sodium_memzero(j->password, sizeof(j->password));
	sodium_memzero(j->code, sizeof(j->code));
}

/* Logs and audits the outcome (on the loop, so the audit writer sees one
 * event per attempt in order). */
static void auth_login_audit(struct auth_login_job *j)
{
	const struct login_result *r = &j->res;
	const char *type;

	if (j->rc != 0) {
		log_error("auth.login", "login of %s failed: %s", j->user, j->err.msg);
		return;
	}
	switch (r->status) {
	case AUTH_LOGIN_OK:
		type = j->enrol_finish ? "auth.mfa.enrol" : "auth.login.success";
		break;
	case AUTH_LOGIN_MFA_ENROLMENT:
		type = "auth.mfa.enrolment_started";
		break;
	default:
		type = "auth.login.failure";
		break;
	}
	audit_event(type, r->known_user ? &r->p : NULL,
		    json_pack("{s:s, s:s, s:s}", "attempted_user", j->user, "addr", j->addr,
			      "reason", r->reason),
		    NULL);
	if (r->locked_now) {
		log_warn("auth.lockout", "account %s locked after %ld failed logins", j->user,
			 auth_rt.cfg.lockout_failures);
		audit_event("auth.lockout", &r->p,
			    json_pack("{s:s, s:I}", "addr", j->addr, "failures",
				      (json_int_t)auth_rt.cfg.lockout_failures),
			    NULL);
	}
}

static void auth_login_done(struct work *w)
{
	struct auth_login_job *j = (struct auth_login_job *)w;
	static const char denied[] = "invalid username, password or code";
	int rc;

	auth_login_audit(j);
	if (j->rc != 0)
		rc = j->rc;
	else if (j->res.status == AUTH_LOGIN_OK || j->res.status == AUTH_LOGIN_MFA_ENROLMENT)
		rc = FOCAL_OK;
	else
		rc = FOCAL_E_DENIED;
	if (j->done_ex != NULL) {
		j->done_ex(rc, &j->res, rc == FOCAL_E_DENIED ? denied : j->err.msg, j->arg);
	} else if (rc == FOCAL_OK && j->res.status == AUTH_LOGIN_OK) {
		j->done(FOCAL_OK, &j->res.p, "ok", j->arg);
	} else {
		/* simple callers get no enrolment: it is offered by the login endpoint */
		j->done(rc == FOCAL_OK ? FOCAL_E_DENIED : rc, NULL,
			rc == FOCAL_OK || rc == FOCAL_E_DENIED ? denied : j->err.msg, j->arg);
	}
	login_result_clear(&j->res);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* Queues a login job for a; exactly one of done/done_ex is set. */
static int auth_login_queue(struct loop *loop, const struct auth_login_args *a,
			    void (*done)(int, const struct auth_principal *, const char *, void *),
			    void (*done_ex)(int, struct login_result *, const char *, void *),
			    void *arg)
{
	struct auth_login_job *j;
	struct workpool *pool = auth_pool;

	if (!auth_rt.started || pool == NULL)
		return FOCAL_E_UNAVAIL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return FOCAL_E_NOMEM;
	/* over-long fields are cut to a length that can never match, never
	 * shortened to one that could: the buffers are one byte longer than
	 * the longest valid username and password */
	snprintf(j->user, sizeof(j->user), "%s", a->user ? a->user : "");
	snprintf(j->password, sizeof(j->password), "%s", a->password ? a->password : "");
	snprintf(j->code, sizeof(j->code), "%s", a->code ? a->code : "");
	snprintf(j->addr, sizeof(j->addr), "%s", a->addr ? a->addr : "");
	j->allow_enrolment = a->allow_enrolment;
	j->enrol_finish = a->enrol_finish;
	j->done = done;
	j->done_ex = done_ex;
	j->arg = arg;
	j->work.run = auth_login_run;
	j->work.done = auth_login_done;
	j->work.loop = loop;
	if (workpool_submit(pool, &j->work) != 0) {
		sodium_memzero(j, sizeof(*j));
		free(j);
		return FOCAL_E_UNAVAIL;
	}
	return FOCAL_OK;
}

int auth_login_submit(struct loop *loop, const struct auth_login_args *a,
		      void (*done)(int rc, struct login_result *res, const char *msg, void *arg),
		      void *arg, struct focal_err *err)
{
	int rc = auth_login_queue(loop, a, NULL, done, arg);

	if (rc == FOCAL_E_UNAVAIL)
		return focal_err_set(err, rc, "authentication busy or not available: try again");
	if (rc != 0)
		return focal_err_set(err, rc, "out of memory");
	return FOCAL_OK;
}

int auth_login_start(struct loop *loop, const char *user, const char *password,
		     const char *totp, const char *addr,
		     void (*done)(int rc, const struct auth_principal *p, const char *msg,
				  void *arg),
		     void *arg)
{
	struct auth_login_args a = { user, password, totp, addr, false, false };

	return auth_login_queue(loop, &a, done, NULL, arg);
}

/* ---- who is asking ---- */

void auth_request_cert(struct evhttp_request *req, char fp[65], char *cn, size_t cnlen)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	fp[0] = '\0';
	if (cn != NULL && cnlen > 0)
		cn[0] = '\0';
	/* only a certificate the TLS layer verified against the client CA */
	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return;
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		return;
	sodium_bin2hex(fp, 65, md, mdlen);
	if (cn != NULL && cnlen > 0)
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
					  (int)cnlen);
}

const char *auth_request_token(struct evhttp_request *req, char *buf, size_t buflen,
			       bool *from_cookie)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *v;

	*from_cookie = false;
	if ((v = evhttp_find_header(h, "Authorization")) != NULL) {
		if (strncasecmp(v, "Bearer ", 7) != 0)
			return NULL;
		v += 7;
		while (*v == ' ')
			v++;
		if (strlen(v) >= buflen)
			return NULL;
		snprintf(buf, buflen, "%s", v);
		return buf;
	}
	if ((v = evhttp_find_header(h, "Cookie")) == NULL)
		return NULL;
	/* Cookie: a=b; focal_session=...; c=d */
	while (*v != '\0') {
		const char *e;
		size_t n;

		while (*v == ' ' || *v == ';')
			v++;
		e = strchr(v, ';');
		n = e ? (size_t)(e - v) : strlen(v);
		if (n > sizeof(AUTH_COOKIE) && strncmp(v, AUTH_COOKIE "=", sizeof(AUTH_COOKIE)) == 0) {
			size_t vl = n - sizeof(AUTH_COOKIE);

			if (vl >= buflen)
				return NULL;
			memcpy(buf, v + sizeof(AUTH_COOKIE), vl);
			buf[vl] = '\0';
			*from_cookie = true;
			return buf;
		}
		v += n;
	}
	return NULL;
}

static bool auth_state_changing(struct evhttp_request *req)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);

	return !(m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD || m == EVHTTP_REQ_OPTIONS);
}

int auth_request_session(struct evhttp_request *req, struct auth_principal *out, char *csrf,
			 int64_t *expires_at, char *token_out, struct focal_err *err)
{
	char tok[128], fp[65], sess_csrf[SESSION_CSRF_HEX + 1];
	const char *token, *hdr;
	bool cookie = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((token = auth_request_token(req, tok, sizeof(tok), &cookie)) == NULL)
		return focal_err_set(err, FOCAL_E_DENIED, "authentication required: log in first");
	auth_request_cert(req, fp, NULL, 0);
	rc = session_lookup(token, fp, out, sess_csrf, expires_at, err);
	if (rc == 0 && cookie && auth_state_changing(req)) {
		/* double submit: a cross-site page can make the browser send the
		 * cookie, but cannot read the CSRF token to put in the header */
		hdr = evhttp_find_header(evhttp_request_get_input_headers(req), "X-CSRF-Token");
		if (hdr == NULL || strlen(hdr) != strlen(sess_csrf) ||
		    sodium_memcmp(hdr, sess_csrf, strlen(sess_csrf)) != 0) {
			memset(out, 0, sizeof(*out));
			rc = focal_err_set(err, FOCAL_E_INVAL,
					   "missing or wrong X-CSRF-Token header");
		}
	}
	if (rc == 0) {
		snprintf(out->addr, sizeof(out->addr), "%s", reply_peer_addr(req));
		if (csrf != NULL)
			memcpy(csrf, sess_csrf, sizeof(sess_csrf));
		if (token_out != NULL)
			snprintf(token_out, SESSION_TOKEN_HEX + 1, "%s", token);
	}
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(sess_csrf, sizeof(sess_csrf));
	return rc;
}

int auth_request_principal(struct evhttp_request *req, struct server_loop *sl,
			   struct auth_principal *out, struct focal_err *err)
{
	static const char *const dev_roles[] = { "officer", "admin", "auditor" };
	char tok[128];
	bool cookie;
	int frc;

	memset(out, 0, sizeof(*out));
	/* a trusted identity provider's JWT first: session tokens are 64 hex
	 * characters and auth_request_token() turns longer ones away */
	if (federation_request(req, sl, out, &frc, err))
		return frc;
	if (auth_request_token(req, tok, sizeof(tok), &cookie) != NULL || !sl->srv->dev_no_auth) {
		sodium_memzero(tok, sizeof(tok));
		return auth_request_session(req, out, NULL, NULL, NULL, err);
	}
	snprintf(out->user, sizeof(out->user), "dev");
	snprintf(out->name, sizeof(out->name), "Development user");
	for (size_t i = 0; i < 3; i++)
		snprintf(out->roles[out->nroles++], sizeof(out->roles[0]), "%s", dev_roles[i]);
	out->clearance = CLASS_STRICTLY_CONFIDENTIAL;
	snprintf(out->addr, sizeof(out->addr), "%s", reply_peer_addr(req));
	return FOCAL_OK;
}

void auth_reply_denied(struct evhttp_request *req, int rc, const char *msg)
{
	if (rc == FOCAL_E_INVAL)
		reply_error(req, 403, "Forbidden", FOCAL_E_DENIED, msg);
	else if (rc == FOCAL_E_DENIED)
		reply_error(req, 401, "Unauthorized", FOCAL_E_DENIED, msg);
	else
		reply_error(req, 503, "Service Unavailable", rc, msg);
}
