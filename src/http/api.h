/*
 * api: focald's HTTP API (docs/api/openapi.yaml).
 *
 *   GET  /healthz      liveness and configured source count
 *   GET  /metrics      Prometheus text
 *   POST /v1/search    the briefing as JSON, or as Server-Sent Events when
 *                      the client sends "Accept: text/event-stream":
 *                      `source` per source, `alert` per alert as soon as a
 *                      source yields it, then `briefing`
 *
 * Every response carries HSTS and no-store; errors are JSON
 * {"error":{"code":"invalid","message":"..."}}.
 */
#ifndef FOCAL_API_H
#define FOCAL_API_H

#include "http/server.h"

void api_register(struct server_loop *sl);

#endif
