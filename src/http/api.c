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
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/oidc.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/reply.h"
#include "http/web.h"
#include "policy/policy.h"
#include "search/briefing.h"
#include "search/fanout.h"

struct api_search {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct server_loop *sl;
	struct search *search;
	bool stream;
};

static void api_healthz(struct evhttp_request *req, struct server_loop *sl)
{

	reply_json(req, 200, "OK",
		      json_pack("{s:s, s:I, s:b}", "status", "ok", "sources",
				(json_int_t)(sl->loop.sources ? sl->loop.sources->cfg->nsources : 0),
				"draining", sl->draining));
}

static void api_metrics(struct evhttp_request *req, struct server_loop *sl)
{
	struct evbuffer *buf = evbuffer_new();
	char *text = metrics_render();

	(void)sl;
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
	server_loop_search_end(as->sl);
	free(as);
}

static void api_on_source(struct search *s, const struct source_call *call, void *arg)
{
	struct api_search *as = arg;
	struct jsonw w;

	(void)s;
	if (!as->stream)
		return;
	/* warnings go out the moment any source yields one */
	for (size_t i = 0; i < call->records.n; i++) {
		if (call->records.items[i].kind != ENTITY_ALERT)
			continue;
		jsonw_init(&w, 512);
		briefing_write_alert(&w, &call->records.items[i]);
		api_sse_written(as->req, "alert", &w);
	}
	jsonw_init(&w, 1024);
	briefing_write_source(&w, call, true);
	api_sse_written(as->req, "source", &w);
}

static void api_on_done(struct search *s, void *arg)
{
	struct api_search *as = arg;
	struct briefing_stats st;
	struct jsonw w;

	jsonw_init(&w, 32768);
	briefing_write(&w, s, &st);
	/* what was searched is for the audit log (issue "Access policy"), not here */
	log_emitj(LOG_INFO, "search", NULL,
		  json_pack("{s:f, s:I, s:I, s:f, s:b}", "ms", search_elapsed_ms(s), "calls_ok",
			    (json_int_t)st.calls_ok, "calls_failed", (json_int_t)st.calls_failed,
			    "resolve_ms", st.resolve_ms, "stream", as->stream));

	if (as->stream) {
		api_sse_written(as->req, "briefing", &w);
		evhttp_send_reply_end(as->req);
	} else {
		api_reply_written(as->req, &w);
	}
	api_search_release(as);
}

/* The client hung up while its search ran. */
static void api_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct api_search *as = arg;

	(void)evcon;
	as->evcon = NULL;
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

static void api_search(struct evhttp_request *req, struct server_loop *sl)
{
	const struct search_hooks hooks = { api_on_source, api_on_done, NULL };
	struct search_hooks h = hooks;
	struct query_request *qr = NULL;
	struct api_search *as = NULL;
	struct focal_err err;
	json_t *body = NULL;
	int rc;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(req, 405, "Method Not Allowed", FOCAL_E_INVAL, "use POST");
		return;
	}
	if (!sl->srv->dev_no_auth) {
		metrics_inc(METRIC_SEARCHES_REJECTED);
		reply_error(req, 401, "Unauthorized", FOCAL_E_DENIED,
			  "authentication required: log in first");
		return;
	}
	if (sl->draining) {
		reply_error(req, 503, "Service Unavailable", FOCAL_E_UNAVAIL, "focald is shutting down");
		return;
	}
	if ((rc = reply_read_json(req, &body, &err)) != 0 ||
	    (rc = query_request_from_json(body, &qr, &err)) != 0) {
		json_decref(body);
		metrics_inc(METRIC_SEARCHES_REJECTED);
		reply_error(req, 400, "Bad Request", rc, err.msg);
		return;
	}
	json_decref(body);
	as = calloc(1, sizeof(*as));
	if (as == NULL) {
		query_request_free(qr);
		reply_error(req, 503, "Service Unavailable", FOCAL_E_NOMEM, "out of memory");
		return;
	}
	as->req = req;
	as->sl = sl;
	as->stream = api_wants_stream(req);
	as->evcon = evhttp_request_get_connection(req);
	h.arg = as;
	server_loop_search_begin(sl);
	if (as->stream) {
		reply_headers(req, "text/event-stream");
		evhttp_send_reply_start(req, 200, "OK");
	}
	rc = search_start(&sl->loop, qr, sl->srv->cfg->server.search_deadline_ms, &h, &as->search,
			  &err);
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
