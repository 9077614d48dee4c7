/*
 * audit_api: the oversight endpoints (auditor only; alerts also admin).
 *
 *   GET /v1/audit/lookups?subject=S|user=U&from=&to=&format=json|jsonl|csv
 *        who looked up a person, plate, national number or record digest;
 *        or what user U looked up
 *   GET /v1/audit/alerts?from=&to=&user=&format=   misuse alerts raised
 *   GET /v1/audit/proof?entry=N[&size=M] | ?from=A&size=B   RFC 9162 proofs
 *   GET /v1/audit/status[?full=1]   the writer's health and a verification
 *        of the log against its newest signed checkpoint (size, root, time):
 *        incremental (only what was appended since the last call), in full
 *        when asked or due (audit_status.h)
 *
 * Every oversight request is itself audited ("oversight.*", with who asked
 * and what), durably, before the log is read: an auditor's curiosity is
 * accountable too, and the request fails closed like a search.  Reading the
 * log runs on the worker pool, never on the event loop.
 */
#include "audit/audit.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_config.h"
#include "audit/audit_log.h"
#include "audit/audit_query.h"
#include "audit/audit_status.h"
#include "auth/auth.h"
#include "auth/principal.h"
#include "core/workpool.h"
#include "http/server.h"
#include "policy/policy.h"

enum audit_api_kind { API_LOOKUPS, API_ALERTS, API_PROOF, API_STATUS };

struct audit_api_job {
	struct audit_ticket t; /* first member */
	struct work w;
	struct evhttp_request *req;
	struct server_loop *sl;
	enum audit_api_kind kind;
	struct audit_query q;
	char *subject, *user;  /* owned copies for q */
	enum audit_query_format fmt;
	uint64_t entry, from, size;
	bool full;             /* status: verify the whole log, not only what is new */
	char *body;            /* the answer */
	int rc;
	struct focal_err err;
};

static void audit_api_job_free(struct audit_api_job *j)
{
	server_loop_search_end(j->sl);
	free(j->subject);
	free(j->user);
	free(j->body);
	free(j);
}

static void audit_api_run(struct work *w)
{
	struct audit_api_job *j = (struct audit_api_job *)((char *)w - offsetof(struct audit_api_job, w));
	const char *dir = audit_dir();

	if (dir == NULL) {
		j->rc = focal_err_set(&j->err, FOCAL_E_UNAVAIL, "the audit log is not open");
		return;
	}
	if (j->kind == API_STATUS) {
		json_t *o = audit_status_json(dir, audit_signing_key(), j->full);

		j->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		j->rc = j->body ? FOCAL_OK : focal_err_set(&j->err, FOCAL_E_NOMEM, "out of memory");
		json_decref(o);
		return;
	}
	if (j->kind == API_PROOF) {
		json_t *o = NULL;

		j->rc = audit_query_proof(dir, audit_signing_key(), j->entry, j->from, j->size, &o,
					  &j->err);
		if (o != NULL)
			j->body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		return;
	}
	j->rc = audit_query_run(dir, &j->q, j->fmt, &j->body, &j->err);
}

static void audit_api_done(struct work *w)
{
	struct audit_api_job *j = (struct audit_api_job *)((char *)w - offsetof(struct audit_api_job, w));
	static const char *const types[] = { "application/json", "application/x-ndjson",
					     "text/csv; charset=utf-8" };
	struct evbuffer *buf;

	if (j->rc != FOCAL_OK || j->body == NULL) {
		reply_error(j->req, j->rc == FOCAL_E_INVAL ? 400 : 500,
			    j->rc == FOCAL_E_INVAL ? "Bad Request" : "Internal Server Error", j->rc,
			    j->err.msg[0] ? j->err.msg : "out of memory");
		audit_api_job_free(j);
		return;
	}
	reply_headers(j->req, j->kind >= API_PROOF ? types[0] : types[j->fmt]);
	buf = evbuffer_new();
	if (buf != NULL)
		evbuffer_add(buf, j->body, strlen(j->body));
	evhttp_send_reply(j->req, buf ? 200 : 500, buf ? "OK" : "Internal Server Error", buf);
	if (buf != NULL)
		evbuffer_free(buf);
	audit_api_job_free(j);
}

/* The oversight entry is durable (or not): read the log, or refuse. */
static void audit_api_audited(struct audit_ticket *t)
{
	struct audit_api_job *j = (struct audit_api_job *)t;

	if (t->rc != FOCAL_OK) {
		audit_reply_unavailable(j->req, t->msg);
		audit_api_job_free(j);
		return;
	}
	j->w.run = audit_api_run;
	j->w.done = audit_api_done;
	j->w.loop = &j->sl->loop;
	if (workpool_default() == NULL || workpool_submit(workpool_default(), &j->w) != FOCAL_OK) {
		reply_error(j->req, 503, "Service Unavailable", FOCAL_E_UNAVAIL, "server busy");
		audit_api_job_free(j);
	}
}

static int audit_api_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL)
		return FOCAL_OK;
	if (*s < '0' || *s > '9')
		return FOCAL_E_INVAL;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return FOCAL_E_INVAL;
	*out = v;
	return FOCAL_OK;
}

/* Parses the query string into j; returns a message for a 400, or NULL. */
static const char *audit_api_params(struct evhttp_request *req, struct audit_api_job *j)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq kv;
	const char *v, *msg = NULL;

	TAILQ_INIT(&kv);
	if (query != NULL && evhttp_parse_query_str(query, &kv) != 0)
		return "malformed query string";
	if ((v = evhttp_find_header(&kv, "subject")) != NULL && (j->subject = strdup(v)) == NULL)
		msg = "out of memory";
	if ((v = evhttp_find_header(&kv, "user")) != NULL && (j->user = strdup(v)) == NULL)
		msg = "out of memory";
	if (msg == NULL && (v = evhttp_find_header(&kv, "from")) != NULL) {
		if (j->kind == API_PROOF ? audit_api_u64(v, &j->from) != FOCAL_OK
					 : audit_log_parse_time(v, &j->q.from_ms) != FOCAL_OK)
			msg = j->kind == API_PROOF ? "from: expected a tree size"
						   : "from: expected a date or ISO 8601 UTC time";
	}
	if (msg == NULL && (v = evhttp_find_header(&kv, "to")) != NULL &&
	    audit_log_parse_time(v, &j->q.to_ms) != FOCAL_OK)
		msg = "to: expected a date or ISO 8601 UTC time";
	if (msg == NULL && audit_query_format_parse(evhttp_find_header(&kv, "format"), &j->fmt) != 0)
		msg = "format: expected json, jsonl or csv";
	if (msg == NULL && (audit_api_u64(evhttp_find_header(&kv, "entry"), &j->entry) != 0 ||
			    audit_api_u64(evhttp_find_header(&kv, "size"), &j->size) != 0))
		msg = "entry and size must be numbers";
	if (msg == NULL && (v = evhttp_find_header(&kv, "full")) != NULL) {
		if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0 && strcmp(v, "true") != 0 &&
		    strcmp(v, "false") != 0)
			msg = "full: expected 1 or 0";
		j->full = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
	}
	if (msg == NULL && j->kind == API_LOOKUPS && j->subject == NULL && j->user == NULL)
		msg = "give subject= (person, plate, national number or record digest) or user=";
	if (msg == NULL && j->kind == API_PROOF && evhttp_find_header(&kv, "entry") == NULL &&
	    j->from == 0)
		msg = "give entry= (inclusion) or from= (consistency)";
	/* a date alone as "to" means the whole of that day */
	if (msg == NULL && (v = evhttp_find_header(&kv, "to")) != NULL && strlen(v) == 10)
		j->q.to_ms += 86400000 - 1;
	evhttp_clear_headers(&kv);
	j->q.subject = j->subject;
	j->q.user = j->user;
	if (j->kind == API_ALERTS)
		j->q.type_prefix = "alert.";
	return msg;
}

static void audit_api_handle(struct evhttp_request *req, struct server_loop *sl,
			     enum audit_api_kind kind)
{
	static const char *const types[] = { "oversight.lookups", "oversight.alerts",
					     "oversight.proof", "oversight.status" };
	struct auth_principal who;
	struct audit_api_job *j;
	struct focal_err err = { 0 };
	const char *msg;
	json_t *f;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use GET");
		return;
	}
	if (auth_request_principal(req, sl, &who, &err) != FOCAL_OK) {
		reply_error(req, 401, "Unauthorized", FOCAL_E_DENIED, err.msg);
		return;
	}
	/* the policy decides (administer audit / alerts), not a fixed role */
	if (policy_check_admin_loop(sl, &who, kind == API_ALERTS ? "alerts" : "audit", &err) !=
	    FOCAL_OK) {
		reply_error(req, 403, "Forbidden", FOCAL_E_DENIED, err.msg);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		reply_error(req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		return;
	}
	j->req = req;
	j->sl = sl;
	j->kind = kind;
	server_loop_search_begin(sl);
	if ((msg = audit_api_params(req, j)) != NULL) {
		reply_error(req, 400, "Bad Request", FOCAL_E_INVAL, msg);
		audit_api_job_free(j);
		return;
	}
	f = json_pack("{s:o, s:s?, s:s?, s:I, s:I, s:I, s:I}", "who", audit_principal_json(&who),
		      "subject", j->subject, "user", j->user, "from_ms", (json_int_t)j->q.from_ms,
		      "to_ms", (json_int_t)j->q.to_ms, "entry", (json_int_t)j->entry, "size",
		      (json_int_t)j->size);
	j->t.loop = &sl->loop;
	j->t.done = audit_api_audited;
	if (audit_submit(&j->t, types[kind], f, &err) != FOCAL_OK) {
		audit_reply_unavailable(req, err.msg);
		audit_api_job_free(j);
	}
}

static void audit_api_lookups(struct evhttp_request *req, struct server_loop *sl)
{
	audit_api_handle(req, sl, API_LOOKUPS);
}

static void audit_api_alerts(struct evhttp_request *req, struct server_loop *sl)
{
	audit_api_handle(req, sl, API_ALERTS);
}

static void audit_api_proof(struct evhttp_request *req, struct server_loop *sl)
{
	audit_api_handle(req, sl, API_PROOF);
}

static void audit_api_status_route(struct evhttp_request *req, struct server_loop *sl)
{
	audit_api_handle(req, sl, API_STATUS);
}

const struct api_route audit_api_routes[] = {
	{ "/v1/audit/lookups", false, audit_api_lookups },
	{ "/v1/audit/alerts", false, audit_api_alerts },
	{ "/v1/audit/proof", false, audit_api_proof },
	{ "/v1/audit/status", false, audit_api_status_route },
	{ NULL, false, NULL },
};
