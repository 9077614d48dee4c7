/*
 * api: request handlers (see api.h).
 *
 * A search request owns a struct api_search that lives until the reply is
 * complete or the client is gone, whichever comes first; the connection's
 * close callback is set only while a search runs, so a client that hangs up
 * cancels its search at once and nothing writes to a dead connection.
 */
#include "http/api.h"

#include <event2/buffer.h>
#include <stddef.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_search.h"
#include "auth/auth.h"
#include "auth/oidc.h"
#include "auth/principal.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/export.h"
#include "http/reply.h"
#include "http/web.h"
#include "policy/policy.h"
#include "search/briefing.h"
#include "search/fanout.h"
#include "search/resolve.h"

struct api_search {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct server_loop *sl;
	struct search *search;
	bool stream;
	struct auth_principal who;
	struct query_request *qr;   /* until the audit entry is durable */
	struct policy_plan *plan;   /* idem: then the search owns both */
	struct audit_search *audit; /* the lookup's audit entries */
	enum export_format export;  /* EXPORT_NONE: a briefing */
	struct audit_ticket xt;     /* export: its own entry, durable before the reply */
	struct evbuffer *xbody;     /* export: the body, sent once xt is durable */
	bool xpending;              /* xt is with the audit writer: it frees as */
	size_t xcount, xleft, xremoved; /* export: records, sources left out, fields removed */
};

static void api_healthz(struct evhttp_request *req, struct server_loop *sl)
{

	reply_json(req, 200, "OK",
		      json_pack("{s:s, s:I, s:b}", "status", "ok", "sources",
				(json_int_t)(sl->loop.sources ? sl->loop.sources->cfg->nsources : 0),
				"draining", sl->draining));
}

/* Source names and search rates are for the operators' monitoring only:
 * served to server.metrics_allow (default: this machine). */
static void api_metrics(struct evhttp_request *req, struct server_loop *sl)
{
	const struct server_config *c = &sl->srv->cfg->server;
	struct evbuffer *buf;
	char *text;

	if (!server_net_allows(c->metrics_allow, c->nmetrics_allow, reply_peer_addr(req))) {
		reply_error(req, 403, "Forbidden", FOCAL_E_DENIED,
			    "/metrics is not served to this address (server.metrics_allow)");
		return;
	}
	buf = evbuffer_new();
	text = metrics_render();
	reply_headers(req, "text/plain; version=0.0.4");
	if (buf != NULL && text != NULL)
		evbuffer_add(buf, text, strlen(text));
	evhttp_send_reply(req, text ? 200 : 500, text ? "OK" : "Internal Server Error", buf);
	free(text);
	if (buf != NULL)
		evbuffer_free(buf);
}

/* --- search ------------------------------------------------------------- */

/* The briefing and the stream's events are written by jsonw (search/briefing.h):
 * one pass, no tree; the text goes to libevent without a copy. */
static void api_free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)(uintptr_t)data);
}

static void api_sse_written(struct evhttp_request *req, const char *event, struct jsonw *w)
{
	struct evbuffer *buf = evbuffer_new();
	size_t len;
	char *text = jsonw_take(w, &len);

	if (buf != NULL && text != NULL) {
		evbuffer_add_printf(buf, "event: %s\ndata: ", event);
		evbuffer_add(buf, text, len);
		evbuffer_add(buf, "\n\n", 2);
		evhttp_send_reply_chunk(req, buf);
	}
	free(text);
	if (buf != NULL)
		evbuffer_free(buf);
}

static void api_sse(struct evhttp_request *req, const char *event, json_t *data)
{
	struct jsonw w;

	jsonw_init(&w, 256);
	jsonw_json(&w, data);
	json_decref(data);
	api_sse_written(req, event, &w);
}

static void api_reply_written(struct evhttp_request *req, struct jsonw *w)
{
	struct evbuffer *buf = evbuffer_new();
	size_t len;
	char *text = jsonw_take(w, &len);

	if (buf == NULL || text == NULL ||
	    evbuffer_add_reference(buf, text, len, api_free_text, NULL) != 0) {
		free(text);
		if (buf != NULL)
			evbuffer_free(buf);
		reply_error(req, 500, "Internal Server Error", FOCAL_E_NOMEM, "out of memory");
		return;
	}
	reply_headers(req, "application/json");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void api_search_release(struct api_search *as)
{
	if (as->evcon != NULL)
		evhttp_connection_set_closecb(as->evcon, NULL, NULL);
	search_free(as->search);
	query_request_free(as->qr);
	policy_plan_free(as->plan);
	audit_search_free(as->audit);
	if (as->xbody != NULL)
		evbuffer_free(as->xbody);
	server_loop_search_end(as->sl);
	free(as);
}

/* Whether another finished call of the search already had this alert: the
 * same row asked at first level and again through a linked hop is pushed
 * once (calls finish one at a time on this loop, so one of them goes first). */
static bool api_alert_sent(const struct search *s, const struct source_call *call,
			   const struct record *alert)
{
	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct source_call *o = search_call(s, c);

		if (o == call || !o->finished)
			continue;
		for (size_t i = 0; i < o->records.n; i++)
			if (resolve_same_record(&o->records.items[i], alert))
				return true;
	}
	return false;
}

static void api_on_source(struct search *s, const struct source_call *call, void *arg)
{
	struct api_search *as = arg;
	struct jsonw w;

	if (!as->stream)
		return;
	/* warnings go out the moment any source yields one */
	for (size_t i = 0; i < call->records.n; i++) {
		if (call->records.items[i].kind != ENTITY_ALERT ||
		    api_alert_sent(s, call, &call->records.items[i]))
			continue;
		jsonw_init(&w, 512);
		briefing_write_alert(&w, &call->records.items[i]);
		api_sse_written(as->req, "alert", &w);
	}
	jsonw_init(&w, 1024);
	briefing_write_source(&w, call, search_request(s)->with_records);
	api_sse_written(as->req, "source", &w);
}

static void api_export_done(struct api_search *as, struct search *s);

static void api_on_done(struct search *s, void *arg)
{
	struct api_search *as = arg;
	struct briefing_stats st;
	struct jsonw w;

	if (as->export != EXPORT_NONE) {
		api_export_done(as, s);
		return;
	}
	jsonw_init(&w, 32768);
	briefing_write(&w, s, &st); /* with the policy's counts of sources kept out */
	/* what was searched is for the audit log (issue "Access policy"), not here */
	log_emitj(LOG_INFO, "search", NULL,
		  json_pack("{s:f, s:I, s:I, s:f, s:b}", "ms", search_elapsed_ms(s), "calls_ok",
			    (json_int_t)st.calls_ok, "calls_failed", (json_int_t)st.calls_failed,
			    "resolve_ms", st.resolve_ms, "stream", as->stream));

	if (as->stream) {
		api_sse_written(as->req, "briefing", &w);
		server_send_reply_end(as->req); /* not evhttp's: see server.h */
	} else {
		api_reply_written(as->req, &w);
	}
	/* what was shown: after the reply is on its way (the end entry is queued,
	 * never waited for, and building it is a third of a search's CPU) */
	audit_search_end(as->audit, s);
	api_search_release(as);
}

static void api_header_count(struct evkeyvalq *h, const char *name, uint64_t n)
{
	char v[32];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)n);
	evhttp_add_header(h, name, v);
}

/* The export's own entry is durable (or refused): only now do the records
 * leave Focal.  Runs on the search's loop; frees as. */
static void api_export_audited(struct audit_ticket *t)
{
	struct api_search *as = (struct api_search *)(void *)((char *)t -
							      offsetof(struct api_search, xt));
	char filename[96];
	struct evkeyvalq *h;

	as->xpending = false;
	if (as->req == NULL) {
		api_search_release(as); /* the client left meanwhile: nothing is sent */
		return;
	}
	if (t->rc != FOCAL_OK) {
		metrics_inc(METRIC_SEARCHES_REJECTED);
		audit_reply_unavailable(as->req, t->msg);
		api_search_release(as);
		return;
	}
	reply_headers(as->req, export_content_type(as->export));
	h = evhttp_request_get_output_headers(as->req);
	snprintf(filename, sizeof(filename), "attachment; filename=\"focal-export-%llu.%s\"",
		 (unsigned long long)t->seq, export_format_name(as->export));
	evhttp_add_header(h, "Content-Disposition", filename);
	/* what the officer is told was kept out: counts only, as in a briefing */
	api_header_count(h, "Focal-Export-Records", as->xcount);
	api_header_count(h, "Focal-Export-Sources-Left-Out", as->xleft);
	api_header_count(h, "Focal-Export-Fields-Removed", as->xremoved);
	api_header_count(h, "Focal-Audit-Entry", t->seq);
	evhttp_send_reply(as->req, 200, "OK", as->xbody);
	api_search_release(as);
}

/* A finished export search: the body is written, then an entry naming every
 * record that leaves (by digest), and the reply waits for that entry. */
static void api_export_done(struct api_search *as, struct search *s)
{
	const struct query_request *qr = search_request(s);
	const struct policy_plan *plan = search_plan_of(s);
	json_t *digests = json_array(), *f = NULL;
	struct focal_err err;

	audit_search_end(as->audit, s);
	as->xbody = evbuffer_new();
	if (as->xbody == NULL || digests == NULL ||
	    export_write(s, as->export, as->xbody, digests, &err) != FOCAL_OK ||
	    (f = json_pack("{s:I, s:o, s:s, s:s?, s:s?, s:I, s:I, s:I, s:O}", "search",
			   (json_int_t)audit_search_seq(as->audit), "who",
			   audit_principal_json(&as->who), "format", export_format_name(as->export),
			   "purpose", qr->purpose, "case_ref", qr->case_ref, "count",
			   (json_int_t)json_array_size(digests), "sources_left_out",
			   (json_int_t)policy_plan_export_denied(plan), "fields_removed",
			   (json_int_t)policy_plan_redacted(plan), "records", digests)) == NULL) {
		json_decref(digests);
		reply_error(as->req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		api_search_release(as);
		return;
	}
	as->xcount = json_array_size(digests);
	as->xleft = policy_plan_export_denied(plan);
	as->xremoved = policy_plan_redacted(plan);
	json_decref(digests);
	search_free(as->search); /* the records are in the body now */
	as->search = NULL;
	as->xt.loop = &as->sl->loop;
	as->xt.done = api_export_audited;
	if (audit_submit(&as->xt, "search.export", f, &err) != FOCAL_OK) {
		metrics_inc(METRIC_SEARCHES_REJECTED);
		audit_reply_unavailable(as->req, err.msg);
		api_search_release(as);
		return;
	}
	as->xpending = true;
}

/* The client hung up while its search ran. */
static void api_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct api_search *as = arg;

	(void)evcon;
	as->evcon = NULL;
	if (as->xpending) {
		/* the export's entry is being written: its callback frees as */
		evhttp_send_reply(as->req, 499, "Client Closed Request", NULL);
		as->req = NULL;
		return;
	}
	search_cancel(as->search);
	as->search = NULL;
	/* the request was detached from its connection: replying frees it */
	if (as->stream)
		evhttp_send_reply_end(as->req);
	else
		evhttp_send_reply(as->req, 499, "Client Closed Request", NULL);
	api_search_release(as);
}

static bool api_wants_stream(struct evhttp_request *req)
{
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");

	return accept != NULL && strstr(accept, "text/event-stream") != NULL;
}

static void api_search_audited(struct audit_search *au, int rc, const char *msg, void *arg);

/* For the audit entry (never for the officer): the sources the policy kept
 * out of this search, with the rule that decided. */
static json_t *api_sources_denied(const struct config *cfg, const struct policy_plan *plan)
{
	json_t *denied = json_array();

	for (size_t i = 0; cfg != NULL && i < cfg->nsources; i++) {
		const struct policy_decision *d = policy_plan_decision(plan, i);

		if (d != NULL && (d->verdict == POLICY_DENY || d->verdict == POLICY_NEEDS_PURPOSE))
			json_array_append_new(denied, json_pack("{s:s, s:s, s:s}", "source",
								cfg->sources[i].name, "rule",
								d->rule ? d->rule : "", "reason",
								d->reason ? d->reason : ""));
	}
	return json_pack("{s:o}", "sources_denied", denied);
}

/* Takes "export" ("csv" or "jsonl") out of a search body: an export of the
 * records instead of a briefing (docs/policy.md, "Export"). */
static int api_export_member(json_t *body, enum export_format *out, struct focal_err *err)
{
	json_t *v = json_object_get(body, "export");

	*out = EXPORT_NONE;
	if (v == NULL)
		return FOCAL_OK;
	if (export_format_parse(json_string_value(v), out) != FOCAL_OK)
		return focal_err_set(err, FOCAL_E_INVAL, "export: expected \"csv\" or \"jsonl\"");
	json_object_del(body, "export");
	return FOCAL_OK;
}

static void api_search(struct evhttp_request *req, struct server_loop *sl)
{
	struct auth_principal who;
	struct query_request *qr = NULL;
	struct api_search *as = NULL;
	struct policy_plan *plan = NULL;
	struct config *cfg;
	struct focal_err err;
	json_t *body = NULL, *extra;
	enum export_format export = EXPORT_NONE;
	int rc, status;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use POST");
		return;
	}
	if ((rc = auth_request_principal(req, sl, &who, &err)) != 0) {
		metrics_inc(METRIC_SEARCHES_REJECTED);
		auth_reply_denied(req, rc, err.msg);
		return;
	}
	if (who.addr[0] == '\0')
		snprintf(who.addr, sizeof(who.addr), "%s", reply_peer_addr(req));
	if (sl->draining) {
		reply_error(req, 503, "Service Unavailable", FOCAL_E_UNAVAIL, "focald is shutting down");
		return;
	}
	if ((rc = reply_read_json(req, &body, &err)) != 0 ||
	    (rc = api_export_member(body, &export, &err)) != 0 ||
	    (rc = query_request_from_json(body, &qr, &err)) != 0) {
		json_decref(body);
		metrics_inc(METRIC_SEARCHES_REJECTED);
		reply_error(req, 400, "Bad Request", rc, err.msg);
		return;
	}
	json_decref(body);
	/* access policy: which sources this principal may ask, which fields it
	 * may see, purpose binding (policy.h) */
	cfg = sl->loop.sources ? sl->loop.sources->cfg : sl->srv->cfg;
	rc = export != EXPORT_NONE ? policy_plan_export(cfg, &who, qr, &plan, &status, &err)
				   : policy_plan_search(cfg, &who, qr, &plan, &status, &err);
	if (rc != 0) {
		query_request_free(qr);
		metrics_inc(METRIC_SEARCHES_REJECTED);
		reply_error(req, status, status == 428 ? "Precondition Required" : status == 400 ?
			    "Bad Request" : status == 403 ? "Forbidden" : "Service Unavailable", rc,
			    err.msg);
		return;
	}
	as = calloc(1, sizeof(*as));
	if (as == NULL) {
		policy_plan_free(plan);
		query_request_free(qr);
		reply_error(req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		return;
	}
	as->req = req;
	as->sl = sl;
	as->who = who;
	as->qr = qr;
	as->plan = plan;
	as->export = export;
	server_loop_search_begin(sl);
	extra = api_sources_denied(cfg, plan);
	if (export != EXPORT_NONE)
		json_object_set_new(extra, "export", json_string(export_format_name(export)));
	/* the lookup is made durable before any source is asked (fail closed) */
	if (audit_search_begin(&as->audit, &as->who, qr, cfg, extra,
			       &sl->loop, api_search_audited, as, &err) != FOCAL_OK) {
		metrics_inc(METRIC_SEARCHES_REJECTED);
		audit_reply_unavailable(req, err.msg);
		api_search_release(as);
	}
}

/* The search's audit entry is durable (rc 0) or could not be written. */
static void api_search_audited(struct audit_search *au, int rc, const char *msg, void *arg)
{
	const struct search_hooks hooks = { api_on_source, api_on_done, NULL };
	struct search_hooks h = hooks;
	struct api_search *as = arg;
	struct evhttp_request *req = as->req;
	struct query_request *qr = as->qr;
	struct policy_plan *plan = as->plan;
	struct server_loop *sl = as->sl;
	struct focal_err err;

	(void)au;
	if (rc != FOCAL_OK) {
		metrics_inc(METRIC_SEARCHES_REJECTED);
		audit_reply_unavailable(req, msg);
		api_search_release(as);
		return;
	}
	as->evcon = evhttp_request_get_connection(req);
	if (as->evcon == NULL) {
		/* the client left while the entry was written: replying frees req */
		evhttp_send_reply(req, 499, "Client Closed Request", NULL);
		api_search_release(as);
		return;
	}
	as->qr = NULL; /* search_start_planned owns both from here */
	as->plan = NULL;
	as->stream = as->export == EXPORT_NONE && api_wants_stream(req); /* an export is a file */
	h.arg = as;
	if (as->stream) {
		reply_headers(req, "text/event-stream");
		evhttp_send_reply_start(req, 200, "OK");
	}
	rc = search_start_planned(&sl->loop, qr, plan, sl->srv->cfg->server.search_deadline_ms, &h,
				  &as->search, &err);
	if (rc != FOCAL_OK) {
		if (as->stream) {
			api_sse(req, "error", json_pack("{s:s}", "message", err.msg));
			evhttp_send_reply_end(req);
		} else {
			reply_error(req, 503, "Service Unavailable", rc, err.msg);
		}
		as->evcon = NULL;
		api_search_release(as);
		return;
	}
	evhttp_connection_set_closecb(as->evcon, api_on_close, as);
}

static const struct api_route api_core_routes[] = {
	{ "/healthz", false, api_healthz },
	{ "/metrics", false, api_metrics },
	{ "/v1/search", false, api_search },
	{ NULL, false, NULL },
};

/* Every module's endpoints; the first match wins. */
static const struct api_route *const api_tables[] = {
	api_core_routes, auth_api_routes, oidc_api_routes, policy_api_routes, audit_api_routes,
	web_routes,
};

static bool api_route_matches(const struct api_route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (!r->prefix)
		return strcmp(path, r->path) == 0;
	return strncmp(path, r->path, n) == 0 && (path[n] == '\0' || path[n] == '/' ||
						   r->path[n - 1] == '/');
}

static void api_dispatch(struct evhttp_request *req, void *arg)
{
	struct server_loop *sl = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	metrics_inc(METRIC_HTTP_REQUESTS);
	server_request_received(req);
	if (path != NULL) {
		for (size_t t = 0; t < sizeof(api_tables) / sizeof(api_tables[0]); t++)
			for (const struct api_route *r = api_tables[t]; r->path != NULL; r++)
				if (api_route_matches(r, path)) {
					r->handle(req, sl);
					return;
				}
	}
	reply_error(req, 404, "Not Found", FOCAL_E_INVAL, "no such endpoint");
}

void api_register(struct server_loop *sl)
{
	reply_set_hsts(sl->srv->cfg->server.hsts_max_age);
	evhttp_set_gencb(sl->http, api_dispatch, sl);
}
