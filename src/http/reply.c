/*
 * reply: shared HTTP reply helpers (see reply.h).
 */
#include "http/reply.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Written once at start, before any loop thread runs. */
static long reply_hsts_max_age = 31536000;

void reply_set_hsts(long max_age)
{
	reply_hsts_max_age = max_age;
}

void reply_headers(struct evhttp_request *req, const char *content_type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char hsts[64];

	snprintf(hsts, sizeof(hsts), "max-age=%ld; includeSubDomains", reply_hsts_max_age);
	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Strict-Transport-Security", hsts);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

void reply_json(struct evhttp_request *req, int status, const char *reason, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	char *text;

	if (body == NULL)
		body = json_object();
	text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(body);
	reply_headers(req, "application/json");
	if (buf != NULL && text != NULL)
		evbuffer_add(buf, text, strlen(text));
	evhttp_send_reply(req, status, reason, buf);
	free(text);
	if (buf != NULL)
		evbuffer_free(buf);
}

void reply_error(struct evhttp_request *req, int status, const char *reason, int rc,
		 const char *msg)
{
	reply_json(req, status, reason,
		   json_pack("{s:{s:s, s:s}}", "error", "code", focal_rc_name(rc), "message", msg));
}

int reply_read_json(struct evhttp_request *req, json_t **out, struct focal_err *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	json_error_t jerr;
	unsigned char *data;

	*out = NULL;
	if (type == NULL || strncmp(type, "application/json", 16) != 0)
		return focal_err_set(err, FOCAL_E_INVAL, "Content-Type must be application/json");
	data = evbuffer_pullup(in, (ev_ssize_t)len);
	if (len == 0 || data == NULL)
		return focal_err_set(err, FOCAL_E_INVAL, "empty request body");
	*out = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*out == NULL)
		return focal_err_set(err, FOCAL_E_INVAL, "invalid JSON at line %d column %d: %s",
				     jerr.line, jerr.column, jerr.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return focal_err_set(err, FOCAL_E_INVAL, "the request body must be a JSON object");
	}
	return FOCAL_OK;
}

const char *reply_peer_addr(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = req != NULL ? evhttp_request_get_connection(req) : NULL;
	char *host = NULL;
	ev_uint16_t port = 0;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &host, &port);
	return host != NULL ? host : "";
}
