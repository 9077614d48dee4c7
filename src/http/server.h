/*
 * server: focald's HTTPS front: one listener, evhttp and event loop per
 * thread, the connection cap, signals (SIGTERM drains and stops, SIGHUP
 * reloads the sources) and the hand-over of the current configuration to
 * every loop.
 *
 *   main thread: signals, reload (parse + validate, then post to each loop)
 *   loop threads: accept TLS, parse HTTP (evhttp), run searches (api.c)
 */
#ifndef FOCAL_SERVER_H
#define FOCAL_SERVER_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/err.h"
#include "core/loop.h"

struct evhttp;
struct evconnlistener;
struct workpool;

struct server_loop {
	struct loop loop; /* first member */
	struct server *srv;
	struct evhttp *http;
	struct evconnlistener *listener;
	long conns, max_conns; /* this loop's share of the connection cap */
	bool paused;           /* listener disabled at the cap */
	size_t inflight;       /* searches running */
	bool draining;
};

struct server {
	char *config_path;
	struct config *cfg; /* main thread's reference to the current config */
	SSL_CTX *ssl;
	struct server_loop *loops;
	size_t nloops;
	struct workpool *pool;
	struct event_base *main_base;
	bool dev_no_auth; /* searches without login: development only */
	atomic_bool stopping;
};

/* Loads the configuration, binds the port, starts the loop threads. */
int server_start(struct server *srv, const char *config_path, bool dev_no_auth,
		 struct focal_err *err);
/* Runs the main thread (signals) until SIGTERM/SIGINT drained the loops. */
int server_run(struct server *srv);
void server_free(struct server *srv);

/* Re-reads the configuration file; on success new searches use it, searches
 * in flight finish on the old one; on failure the old one stays. */
int server_reload(struct server *srv, struct focal_err *err);

/* For api.c: a whole request arrived (stops the connection's request
 * deadline until the reply is sent). */
struct evhttp_request;
void server_request_received(struct evhttp_request *req);

/* For api.c: evhttp_send_reply_end for a streamed reply, whose end must not
 * be taken for sent before it is.  bufferevent_openssl (libevent 2.1) runs
 * its "output written" callback deferred, later in the loop turn, while
 * evhttp takes it for "the output is empty now": a callback left over from an
 * SSE chunk written just before the end made evhttp finish the reply with the
 * briefing and the end still unsent and turn to reading the next request (no
 * more writing): the client waited until the 10 s request deadline closed
 * the connection.  Until evhttp has seen the end written, a write callback
 * that finds output left is dropped (tests/system/test_stream_end.py). */
void server_send_reply_end(struct evhttp_request *req);

/* For api.c: a search began / ended on this loop (drain accounting). */
void server_loop_search_begin(struct server_loop *sl);
void server_loop_search_end(struct server_loop *sl);

#endif
