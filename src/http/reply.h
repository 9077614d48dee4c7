/*
 * reply: the pieces every HTTP handler of focald shares — security headers,
 * JSON replies and errors, reading a JSON body — and the route table type.
 *
 * Each module that serves HTTP (api.c, auth/, policy/, audit/, web.c) exports
 * a table of struct api_route terminated by { NULL }; api.c dispatches over
 * all of them, so a module adds endpoints without touching the others.
 *
 * Errors are JSON {"error":{"code":"invalid","message":"..."}} (see
 * docs/api/openapi.yaml); every reply carries HSTS, no-store and nosniff.
 */
#ifndef FOCAL_REPLY_H
#define FOCAL_REPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"

struct evhttp_request;
struct server_loop;

struct api_route {
	const char *path; /* NULL ends a table */
	bool prefix;      /* matches path and everything below it */
	void (*handle)(struct evhttp_request *req, struct server_loop *sl);
};

/* HSTS max-age for every reply (set once at start from the configuration). */
void reply_set_hsts(long max_age);

/* Security headers plus Content-Type; for JSON and text replies the CSP is
 * "default-src 'none'".  Handlers serving HTML set their own CSP after. */
void reply_headers(struct evhttp_request *req, const char *content_type);

/* Sends body (reference stolen, may be NULL → empty object) as JSON. */
void reply_json(struct evhttp_request *req, int status, const char *reason, json_t *body);

/* Sends the JSON error for rc (a FOCAL_E_* code) with msg. */
void reply_error(struct evhttp_request *req, int status, const char *reason, int rc,
		 const char *msg);

/* The client's address as libevent saw it (borrowed from the connection;
 * "" when unknown): for logs, the audit log, throttling and allow-lists. */
const char *reply_peer_addr(struct evhttp_request *req);

/* Parses the request body as a JSON object (Content-Type application/json,
 * duplicate keys rejected).  *out is the caller's on success. */
int reply_read_json(struct evhttp_request *req, json_t **out, struct focal_err *err);

#endif
