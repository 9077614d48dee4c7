/*
 * server: listeners, loop threads, connection cap, signals and reload (see
 * server.h).
 *
 * The connection cap is enforced per loop (each loop owns max/nloops): when a
 * loop reaches its share it stops accepting, and further connections wait in
 * the kernel's backlog until one closes.  Counting uses the lifetime of the
 * connection's SSL object (an ex_data free callback), which is the one thing
 * evhttp frees for every connection however it ends.
 */
#include "http/server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "auth/auth.h"
#include "auth/federation.h"
#include "auth/oidc.h"
#include "core/workpool.h"
#include "audit/audit.h"
#include "audit/audit_reload.h"
#include "http/api.h"
#include "http/tls.h"
#include "sources/breaker.h"
#include "sources/source.h"

static int conn_ex_index = -1;

static void server_loop_maybe_exit(struct server_loop *sl);

static void server_loop_resume(struct server_loop *sl)
{
	if (sl->paused && !sl->draining && sl->conns < sl->max_conns) {
		evconnlistener_enable(sl->listener);
		sl->paused = false;
	}
}

/* One client connection.  Besides evhttp's idle timeout (reset by every
 * byte), each request must arrive whole within timeout_ms of the connection
 * opening or of the previous reply: a client dripping its headers one byte at
 * a time is cut off too.  The deadline closes the socket under evhttp, which
 * then sees end-of-file and frees the connection its own way. */
struct server_conn {
	struct server_loop *sl;
	struct bufferevent *bev;
	struct event *deadline;
	/* evhttp's callbacks while server_send_reply_end guards them */
	bufferevent_data_cb ev_read, ev_write;
	bufferevent_event_cb ev_event;
	void *ev_arg;
};

static void server_conn_arm(struct server_conn *conn)
{
	long ms = conn->sl->srv->cfg->server.timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(conn->deadline, &tv);
}

static void server_conn_expire(evutil_socket_t fd, short what, void *arg)
{
	struct server_conn *conn = arg;
	evutil_socket_t sock = bufferevent_getfd(conn->bev);

	(void)fd, (void)what;
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
	log_debug("client_timeout", "a client did not send a whole request in time");
}

/* SSL_free of a connection: it is gone. Runs on the connection's loop. */
static void conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	struct server_conn *conn = ptr;
	struct server_loop *sl;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (conn == NULL)
		return;
	sl = conn->sl;
	if (conn->deadline != NULL)
		event_free(conn->deadline);
	free(conn);
	sl->conns--;
	metrics_connections_add(-1);
	server_loop_resume(sl);
	if (sl->draining && sl->conns == 0 && sl->inflight == 0)
		event_base_loopexit(sl->loop.base, NULL);
}

static struct server_conn *server_conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

	return ssl ? SSL_get_ex_data(ssl, conn_ex_index) : NULL;
}

/* The guard of server_send_reply_end: evhttp's own callbacks, called with
 * their own argument, except a write callback that finds output unsent. */
static void server_conn_unguard(struct server_conn *conn)
{
	bufferevent_setcb(conn->bev, conn->ev_read, conn->ev_write, conn->ev_event, conn->ev_arg);
}

static void server_conn_guard_read(struct bufferevent *bev, void *arg)
{
	struct server_conn *conn = arg;

	server_conn_unguard(conn);
	if (conn->ev_read != NULL)
		conn->ev_read(bev, conn->ev_arg);
}

static void server_conn_guard_write(struct bufferevent *bev, void *arg)
{
	struct server_conn *conn = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return; /* stale: the write under way calls again once all is out */
	server_conn_unguard(conn);
	if (conn->ev_write != NULL)
		conn->ev_write(bev, conn->ev_arg);
}

static void server_conn_guard_event(struct bufferevent *bev, short what, void *arg)
{
	struct server_conn *conn = arg;

	server_conn_unguard(conn);
	if (conn->ev_event != NULL)
		conn->ev_event(bev, what, conn->ev_arg);
}

void server_send_reply_end(struct evhttp_request *req)
{
	struct server_conn *conn = server_conn_of(req);
	const char *te = evhttp_find_header(evhttp_request_get_output_headers(req),
					    "Transfer-Encoding");
	/* only a chunked reply is sure to be still under way after
	 * evhttp_send_reply_end (another may be done and its connection freed),
	 * so this is decided before */
	bool chunked = conn != NULL && te != NULL && strcmp(te, "chunked") == 0;
	bufferevent_data_cb r, w;
	bufferevent_event_cb e;
	void *arg;

	evhttp_send_reply_end(req);
	if (!chunked)
		return;
	bufferevent_getcb(conn->bev, &r, &w, &e, &arg);
	if (w == server_conn_guard_write)
		return; /* already guarded */
	conn->ev_read = r;
	conn->ev_write = w;
	conn->ev_event = e;
	conn->ev_arg = arg;
	bufferevent_setcb(conn->bev, r != NULL ? server_conn_guard_read : NULL,
			  server_conn_guard_write, server_conn_guard_event, conn);
}

static void server_request_done(struct evhttp_request *req, void *arg)
{
	struct server_conn *conn = arg;

	(void)req;
	server_conn_arm(conn); /* the next request must come in time too */
}

void server_request_received(struct evhttp_request *req)
{
	struct server_conn *conn = server_conn_of(req);

	if (conn == NULL)
		return;
	evtimer_del(conn->deadline);
	evhttp_request_set_on_complete_cb(req, server_request_done, conn);
}

static struct bufferevent *server_bevcb(struct event_base *base, void *arg)
{
	struct server_loop *sl = arg;
	struct server_conn *conn = calloc(1, sizeof(*conn));
	SSL *ssl = SSL_new(sl->srv->ssl);

	if (ssl == NULL || conn == NULL) {
		SSL_free(ssl);
		free(conn);
		return NULL;
	}
	conn->sl = sl;
	conn->deadline = evtimer_new(base, server_conn_expire, conn);
	SSL_set_ex_data(ssl, conn_ex_index, conn);
	sl->conns++;
	metrics_connections_add(1);
	if (sl->conns >= sl->max_conns && !sl->paused) {
		evconnlistener_disable(sl->listener);
		sl->paused = true;
		metrics_inc(METRIC_CONNECTIONS_REFUSED);
		log_warn("connection_cap", "loop %u reached its share of the connection cap (%ld); "
			 "new connections wait", sl->loop.id, sl->max_conns);
	}
	conn->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
						   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (conn->deadline != NULL)
		server_conn_arm(conn);
	return conn->bev;
}

static int server_socket(const struct server_config *c, struct focal_err *err)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)c->port);
	if (inet_pton(AF_INET, c->listen_host ? c->listen_host : "127.0.0.1", &sa.sin_addr) != 1)
		return focal_err_set(err, FOCAL_E_CONFIG, "server.listen: \"%s\" is not an IPv4 address",
				     c->listen_host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return focal_err_set(err, FOCAL_E_IO, "socket: %s", strerror(errno));
	/* REUSEPORT: one listener per loop, the kernel spreads connections;
	 * NODELAY: small responses must not wait for Nagle (44 ms otherwise) */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		return focal_err_set(err, FOCAL_E_IO, "cannot listen on %s:%ld: %s",
				     c->listen_host ? c->listen_host : "127.0.0.1", c->port, strerror(e));
	}
	return fd;
}

static int server_loop_setup(struct server *srv, struct server_loop *sl, unsigned id,
			     struct focal_err *err)
{
	const struct server_config *c = &srv->cfg->server;
	struct timeval tv = { c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000 };
	int fd, rc;

	sl->srv = srv;
	if ((rc = loop_init(&sl->loop, id, err)) != 0)
		return rc;
	sl->loop.owner = sl;
	sl->max_conns = c->max_connections / (long)srv->nloops;
	if (sl->max_conns < 1)
		sl->max_conns = 1;
	if ((rc = source_set_new(&sl->loop, srv->cfg, &sl->loop.sources, err)) != 0)
		return rc;
	fd = server_socket(c, err);
	if (fd < 0)
		return fd;
	sl->listener = evconnlistener_new(sl->loop.base, NULL, NULL,
					  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024, fd);
	sl->http = evhttp_new(sl->loop.base);
	if (sl->listener == NULL || sl->http == NULL) {
		if (sl->listener == NULL)
			close(fd);
		return focal_err_set(err, FOCAL_E_INTERNAL, "cannot create listener");
	}
	if (evhttp_bind_listener(sl->http, sl->listener) == NULL)
		return focal_err_set(err, FOCAL_E_INTERNAL, "cannot bind HTTP to listener");
	evhttp_set_bevcb(sl->http, server_bevcb, sl);
	evhttp_set_max_headers_size(sl->http, (ev_ssize_t)c->max_header_bytes);
	evhttp_set_max_body_size(sl->http, (ev_ssize_t)c->max_body_bytes);
	evhttp_set_timeout_tv(sl->http, &tv);
	evhttp_set_allowed_methods(sl->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
					     EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE); /* PUT, DELETE: admin API */
	api_register(sl);
	return FOCAL_OK;
}

static void *server_loop_main(void *arg)
{
	struct server_loop *sl = arg;

	event_base_dispatch(sl->loop.base);
	/* the loop's own state is freed on its own thread */
	if (sl->http != NULL)
		evhttp_free(sl->http); /* also frees the bound listener */
	sl->http = NULL;
	sl->listener = NULL;
	source_set_unref(sl->loop.sources);
	sl->loop.sources = NULL;
	loop_fini(&sl->loop);
	return NULL;
}

/* --- reload ---------------------------------------------------------------- */

struct swap_task {
	struct loop_task task; /* first member */
	struct server_loop *sl;
	struct config *cfg;    /* reference, released here */
};

static void server_swap_sources(struct loop_task *t)
{
	struct swap_task *st = (struct swap_task *)t;
	struct source_set *set = NULL;
	struct focal_err err;

	if (source_set_new(&st->sl->loop, st->cfg, &set, &err) == FOCAL_OK) {
		source_set_unref(st->sl->loop.sources); /* searches in flight keep theirs */
		st->sl->loop.sources = set;
	} else {
		log_error("reload", "loop %u kept its sources: %s", st->sl->loop.id, err.msg);
	}
	config_unref(st->cfg);
	free(st);
}

static bool server_config_compatible(const struct server_config *a, const struct server_config *b)
{
	return a->port == b->port && a->threads == b->threads &&
	       strcmp(a->listen_host ? a->listen_host : "", b->listen_host ? b->listen_host : "") == 0;
}

int server_reload(struct server *srv, struct focal_err *err)
{
	struct config *cfg = NULL;
	int rc;

	rc = config_load(srv->config_path, &cfg, err);
	if (rc != FOCAL_OK) {
		metrics_inc(METRIC_CONFIG_RELOAD_FAILURES);
		log_error("reload", "configuration rejected, keeping the running one: %s", err->msg);
		audit_reload_rejected(srv->cfg, "SIGHUP", err->msg);
		return rc;
	}
	/* a policy or source change is audited before it applies (fail closed) */
	if ((rc = audit_reload_applied(srv->cfg, cfg, "SIGHUP", err)) != FOCAL_OK) {
		metrics_inc(METRIC_CONFIG_RELOAD_FAILURES);
		log_error("reload", "the change could not be audited, keeping the running "
			  "configuration: %s", err->msg);
		config_unref(cfg);
		return rc;
	}
	if (!server_config_compatible(&srv->cfg->server, &cfg->server))
		log_warn("reload", "server section changed (listen, port or threads): these take "
			 "effect at the next restart; sources are reloaded now");
	for (size_t i = 0; i < srv->nloops; i++) {
		struct swap_task *st = calloc(1, sizeof(*st));

		if (st == NULL) {
			config_unref(cfg);
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		}
		st->task.fn = server_swap_sources;
		st->sl = &srv->loops[i];
		st->cfg = config_ref(cfg);
		loop_post(&srv->loops[i].loop, &st->task);
	}
	federation_fetch(oidc_federation(cfg->oidc)); /* JWKS URLs: not fetched while parsing */
	config_unref(srv->cfg);
	srv->cfg = cfg;
	metrics_inc(METRIC_CONFIG_RELOADS);
	log_info("reload", "configuration reloaded: %zu sources", cfg->nsources);
	return FOCAL_OK;
}

/* --- drain and stop ------------------------------------------------------- */

/* Draining and idle: the last replies may still sit in output buffers, so
 * exit once every connection has closed, or after a short flush delay. */
static void server_loop_maybe_exit(struct server_loop *sl)
{
	static const struct timeval flush = { 0, 200000 };

	if (!sl->draining || sl->inflight > 0)
		return;
	event_base_loopexit(sl->loop.base, sl->conns == 0 ? NULL : &flush);
}

void server_loop_search_begin(struct server_loop *sl) { sl->inflight++; }

void server_loop_search_end(struct server_loop *sl)
{
	sl->inflight--;
	server_loop_maybe_exit(sl);
}

struct drain_task {
	struct loop_task task;
	struct server_loop *sl;
};

static void server_drain(struct loop_task *t)
{
	struct drain_task *dt = (struct drain_task *)t;
	struct server_loop *sl = dt->sl;
	const struct timeval grace = { 1 + sl->srv->cfg->server.search_deadline_ms / 1000, 0 };

	free(dt);
	sl->draining = true;
	if (sl->listener != NULL && !sl->paused)
		evconnlistener_disable(sl->listener);
	sl->paused = true;
	/* searches in flight end within their deadline; never wait longer */
	event_base_loopexit(sl->loop.base, &grace);
	server_loop_maybe_exit(sl);
}

static void server_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct focal_err err;

	(void)what;
	if (sig == SIGHUP) {
		server_reload(srv, &err);
		return;
	}
	if (atomic_exchange(&srv->stopping, true))
		return;
	log_info("shutdown", "signal %d: draining searches in flight", (int)sig);
	for (size_t i = 0; i < srv->nloops; i++) {
		struct drain_task *dt = calloc(1, sizeof(*dt));

		if (dt == NULL)
			continue;
		dt->task.fn = server_drain;
		dt->sl = &srv->loops[i];
		loop_post(&srv->loops[i].loop, &dt->task);
	}
	event_base_loopexit(srv->main_base, NULL);
}

int server_start(struct server *srv, const char *config_path, bool dev_no_auth,
		 struct focal_err *err)
{
	int rc;

	memset(srv, 0, sizeof(*srv));
	srv->dev_no_auth = dev_no_auth;
	srv->config_path = strdup(config_path);
	if (srv->config_path == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if ((rc = loop_global_init(err)) != 0)
		return rc;
	if (conn_ex_index < 0)
		conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ex_free);
	if ((rc = config_load(config_path, &srv->cfg, err)) != 0)
		return rc;
	if ((rc = tls_server_ctx(&srv->cfg->server, &srv->ssl, err)) != 0)
		return rc;
	if ((rc = workpool_create((size_t)srv->cfg->server.workers, 4096, &srv->pool, err)) != 0)
		return rc;
	workpool_set_default(srv->pool);
	/* no audit log, no service: refuse to start without one (fail closed) */
	if ((rc = audit_open(srv->cfg, err)) != 0 ||
	    (rc = audit_reload_started(srv->cfg, err)) != 0)
		return rc;
	if ((rc = auth_start(srv->cfg, err)) != 0) /* users, sessions (src/auth) */
		return rc;
	srv->nloops = (size_t)srv->cfg->server.threads;
	srv->loops = calloc(srv->nloops, sizeof(*srv->loops));
	srv->main_base = event_base_new();
	if (srv->loops == NULL || srv->main_base == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < srv->nloops; i++)
		if ((rc = server_loop_setup(srv, &srv->loops[i], (unsigned)i, err)) != 0)
			return rc;
	for (size_t i = 0; i < srv->nloops; i++)
		if (pthread_create(&srv->loops[i].loop.thread, NULL, server_loop_main,
				   &srv->loops[i]) != 0)
			return focal_err_set(err, FOCAL_E_INTERNAL, "cannot start loop thread");
	log_info("start", "focald listening on https://%s:%ld with %zu loops, %zu sources",
		 srv->cfg->server.listen_host ? srv->cfg->server.listen_host : "127.0.0.1",
		 srv->cfg->server.port, srv->nloops, srv->cfg->nsources);
	return FOCAL_OK;
}

int server_run(struct server *srv)
{
	struct event *evs[4];
	const int sigs[4] = { SIGTERM, SIGINT, SIGHUP, 0 };
	size_t n = 0;

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; sigs[i] != 0; i++) {
		evs[n] = evsignal_new(srv->main_base, sigs[i], server_signal, srv);
		if (evs[n] != NULL)
			evsignal_add(evs[n++], NULL);
	}
	event_base_dispatch(srv->main_base);
	for (size_t i = 0; i < n; i++)
		event_free(evs[i]);
	for (size_t i = 0; i < srv->nloops; i++)
		pthread_join(srv->loops[i].loop.thread, NULL);
	log_info("shutdown", "focald stopped");
	return 0;
}

void server_free(struct server *srv)
{
	audit_close(); /* after the loops: their last entries are in the queue */
	workpool_destroy(srv->pool);
	auth_stop();
	free(srv->loops);
	if (srv->main_base != NULL)
		event_base_free(srv->main_base);
	SSL_CTX_free(srv->ssl);
	config_unref(srv->cfg);
	free(srv->config_path);
	breaker_shutdown();
	metrics_shutdown();
	memset(srv, 0, sizeof(*srv));
}
