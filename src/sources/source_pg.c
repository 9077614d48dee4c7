/*
 * source_pg: the PostgreSQL connector.
 *
 * Speaks to a PostgreSQL back-end with libpq in nonblocking mode, driven by
 * the loop's libevent base: connecting (PQconnectStartParams/PQconnectPoll),
 * sending (PQsendPrepare / PQsendQueryPrepared + PQflush) and reading
 * (PQconsumeInput, PQisBusy, PQgetResult) all happen when PQsocket() is
 * ready, so one loop thread can have many sources' queries in flight without
 * ever blocking.
 *
 * Configuration (see docs/connectors/postgres.md):
 *   connection: { conninfo: "host=10.1.2.3 dbname=gezocht user=focal", pool_size: 4 }
 * At configure time each query template becomes positional SQL ($1, $2, ...)
 * wrapped as  SELECT * FROM (<sql>) AS focal_q LIMIT <max_rows+1>  so that the
 * server itself stops after one row more than we accept (the extra row tells
 * source_call_add_row the answer was truncated).  Values are only ever sent
 * as text bind parameters, never spliced into the statement; and since a
 * prepared statement is exactly one statement, a template cannot smuggle a
 * second one either.  Each pooled connection prepares a query kind's
 * statement the first time it runs it (named after the kind and a hash of
 * the SQL) and executes it by name afterwards.  Every session is also read-only and carries
 * statement_timeout = the source's deadline, so a cancelled query cannot keep
 * running on the server much longer than we would have waited for it.
 *
 * Connection pool: per loop and per source (call->rt->state), at most
 * pool_size connections, on the shared mechanism of connpool.h (wait queue,
 * pump policy, deferred freeing).  A call takes an idle connection, or waits
 * in a FIFO queue while the pool opens new ones up to its limit.  A
 * connection comes back to the pool only after its query has been read to
 * the end; one whose call was cancelled mid-query is closed (its state on the
 * wire is unknown), and one that broke is dropped.
 *
 * Rows are fetched in single-row mode and mapped as they arrive (by
 * source_pg_result, shared with fuzz/fuzz_pg_answer.c); when the row
 * or byte limit is hit the call is finished at once and the connection reads
 * (and discards) what is left before it becomes idle again.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "core/log.h"
#include "sources/connpool.h"
#include "sources/source.h"
#include "sources/source_pg.h"
#include "sources/template.h"

#define PG_IDLE_MS 60000        /* an idle pooled connection is closed after this */
#define PG_POOL_SIZE_MAX 64     /* same bound as the common pool_size key */
#define PG_REASON_MAX 200       /* a reason must fit in source_call.reason with a prefix */
#define PG_COL_UNKNOWN (-2)     /* column index not looked up yet */

#define PG_STMT_NAME_MAX 48     /* "focal_<kind>_<16 hex digits>" and its NUL */

/* One query kind's statement, written at configure time and prepared on
 * each pooled connection the first time that connection runs it. */
struct pg_stmt {
	char *sql;     /* wrapped, with $n placeholders; NULL when the kind is absent */
	/* The server-side name: kind and a hash of sql, so a statement is
	 * never taken for another whose text differs (a reload that changed
	 * the template gets a new name, whatever connection it meets). */
	char name[PG_STMT_NAME_MAX];
	int *order;    /* order[i] = enum query_param bound to $(i+1) */
	size_t nparams;
};

/* def->conn_cfg of a postgres source. */
struct pg_conf {
	/* libpq keyword/value arrays for PQconnectStartParams, NULL-terminated.
	 * Values may hold a password: wiped on free. */
	char **keys, **vals;
	size_t nkv;
	const char *password; /* borrowed from vals, for scrubbing messages */
	long pool_size;
	struct pg_stmt stmt[QUERY__COUNT];
	/* The distinct column names the mapping reads (borrowed from def->map),
	 * so that a call can cache their indexes in a small array. */
	const char **cols;
	size_t ncols;
};

enum pg_conn_state {
	PGC_CONNECTING, /* PQconnectPoll in progress */
	PGC_IDLE,       /* in the pool, waiting for a call */
	PGC_BUSY,       /* running the query of pc */
	PGC_DRAIN,      /* its call has finished; reading what is left of the answer */
};

struct pg_pool;
struct pg_call;

struct pg_conn {
	struct pg_pool *pool;
	PGconn *pg;
	struct event ev; /* on PQsocket(); re-assigned whenever the wanted events change */
	bool ev_set;
	enum pg_conn_state state;
	struct pg_call *pc; /* PGC_BUSY only */
	uint64_t t0_ns;     /* start of the connect or of the drain */
	size_t drained;     /* bytes discarded while draining */
	bool flushing;      /* libpq still holds output for the server */
	bool used;          /* has run a query before (may have gone stale) */
	unsigned prepared;  /* bit k: stmt[k] is prepared in this session */
	bool preparing;     /* PGC_BUSY: waiting for the result of PQsendPrepare */
	bool prep_ok;       /* ... and the server has confirmed it */
	struct connpool_conn link; /* in pool->cp.conns; opening while PGC_CONNECTING */
};

/* call->priv. */
struct pg_call {
	struct connpool_waiter w; /* the call, its pool (NULL once gone), the queue */
	struct pg_conn *conn;  /* while running */
	bool reused;           /* runs on a connection that had idled in the pool */
	bool retried;          /* already re-queued once after a stale connection */
	int *colidx;           /* conf->ncols cached column indexes of this result */
};

/* rt->state: one source's pool on one loop. */
struct pg_pool {
	const struct source_def *def;
	const struct pg_conf *conf;
	struct event_base *base;
	struct connpool cp;   /* connections (struct pg_conn) and waiting calls */
};

/* One row for the mapping getter. */
struct pg_row {
	const PGresult *res;
	int i;
	int *colidx; /* the query's column index cache, conf->ncols entries */
	const struct pg_conf *conf;
};

static void pg_conn_cb(evutil_socket_t fd, short what, void *arg);
static bool conn_execute(struct pg_conn *c);

static struct pg_pool *pool_of(struct connpool *cp)
{
	return CONNPOOL_CONTAINER(cp, struct pg_pool, cp);
}

static struct pg_conn *conn_of(struct connpool_conn *link)
{
	return CONNPOOL_CONTAINER(link, struct pg_conn, link);
}

static struct pg_call *call_of(struct connpool_waiter *w)
{
	return CONNPOOL_CONTAINER(w, struct pg_call, w);
}

/* libpq prints server notices (RAISE NOTICE, and the FATAL a server sends
 * to an idle session it ends) on stderr by default, which would break our
 * JSON log lines; their text may also quote data.  They are dropped. */
static void pg_notice_drop(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* ---- small helpers ---- */

/* A one-line, printable, password-free version of a libpq message. */
static void pg_clean_msg(const struct pg_conf *conf, const char *msg, char *out, size_t outlen)
{
	size_t n = 0;

	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	if (conf->password != NULL && *conf->password != '\0' && strstr(msg, conf->password)) {
		/* libpq does not echo passwords, but we do not rely on it */
		snprintf(out, outlen, "connection failed (details withheld)");
		return;
	}
	for (const char *s = msg; *s != '\0' && *s != '\n' && n + 1 < outlen; s++)
		out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static long pg_remaining_ms(uint64_t t0_ns, long budget_ms)
{
	long spent = (long)((loop_now_ns() - t0_ns) / 1000000u);

	return spent >= budget_ms ? 0 : budget_ms - spent;
}

/* Waits for `what` on the connection's socket (with a timeout if >= 0).  The
 * socket may change while connecting (libpq retries other hosts, or without
 * SSL), so the event is assigned afresh each time; it is never pending here
 * because our events are not persistent. */
static int conn_arm(struct pg_conn *c, short what, long timeout_ms)
{
	int fd = PQsocket(c->pg);
	struct timeval tv;

	if (fd < 0)
		return -1;
	if (c->ev_set)
		event_del(&c->ev);
	if (event_assign(&c->ev, c->pool->base, fd, what, pg_conn_cb, c) != 0)
		return -1;
	c->ev_set = true;
	if (timeout_ms >= 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	return event_add(&c->ev, timeout_ms >= 0 ? &tv : NULL) == 0 ? 0 : -1;
}

/* Closes and frees a connection.  Its call, if any, must have been detached
 * or must be finished by the caller (conn_drop only unlinks it). */
static void conn_drop(struct pg_conn *c)
{
	struct pg_pool *p = c->pool;

	if (c->pc != NULL) {
		c->pc->conn = NULL;
		c->pc = NULL;
	}
	if (c->ev_set)
		event_del(&c->ev);
	connpool_conn_remove(&p->cp, &c->link);
	PQfinish(c->pg);
	free(c);
}

static void pc_free(struct pg_call *pc)
{
	if (pc == NULL)
		return;
	free(pc->colidx);
	free(pc);
}

/* ---- connpool hooks (see struct connpool_ops) ---- */

static bool pool_conn_idle(struct connpool_conn *link)
{
	return conn_of(link)->state == PGC_IDLE;
}

static void pool_conn_close(struct connpool_conn *link)
{
	struct pg_conn *c = conn_of(link);

	if (c->pc != NULL)
		c->pc->w.pool = NULL;
	conn_drop(c);
}

static void pool_waiter_free(struct connpool_waiter *w)
{
	pc_free(call_of(w));
}

/* ---- connecting ---- */

static void conn_connect_failed(struct pg_conn *c, const char *what)
{
	struct pg_pool *p = c->pool;
	char msg[PG_REASON_MAX], reason[PG_REASON_MAX + 32];

	pg_clean_msg(p->conf, what != NULL ? what : PQerrorMessage(c->pg), msg, sizeof(msg));
	snprintf(reason, sizeof(reason), "connect: %s", msg);
	conn_drop(c);
	connpool_fail_head(&p->cp, reason);
}

/* Acts on PQconnectPoll's answer. */
static void conn_connect_continue(struct pg_conn *c, PostgresPollingStatusType st)
{
	struct pg_pool *p = c->pool;
	long left = pg_remaining_ms(c->t0_ns, p->def->deadline_ms);

	switch (st) {
	case PGRES_POLLING_READING:
		if (conn_arm(c, EV_READ, left) != 0)
			conn_connect_failed(c, "cannot watch the socket");
		return;
	case PGRES_POLLING_WRITING:
		if (conn_arm(c, EV_WRITE, left) != 0)
			conn_connect_failed(c, "cannot watch the socket");
		return;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) != 0) {
			conn_connect_failed(c, NULL);
			return;
		}
		c->state = PGC_IDLE;
		connpool_conn_opened(&p->cp, &c->link);
		if (conn_arm(c, EV_READ, PG_IDLE_MS) != 0)
			conn_drop(c);
		return; /* the caller pumps the queue */
	case PGRES_POLLING_FAILED:
	case PGRES_POLLING_ACTIVE: /* unused by libpq since 7.x */
	default:
		conn_connect_failed(c, NULL);
		return;
	}
}

/* Opens one more connection (connpool hook); it serves the queue once it
 * is up. */
static void pool_open(struct connpool *cp)
{
	struct pg_pool *p = pool_of(cp);
	const struct pg_conf *conf = p->conf;
	struct pg_conn *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		connpool_fail_head(cp, "out of memory");
		return;
	}
	c->pool = p;
	c->state = PGC_CONNECTING;
	c->t0_ns = loop_now_ns();
	connpool_conn_add(cp, &c->link);
	/* Note: a host name (rather than an address) is resolved by libpq with
	 * a blocking getaddrinfo() here; the documentation asks for addresses. */
	c->pg = PQconnectStartParams((const char *const *)conf->keys,
				     (const char *const *)conf->vals, 0);
	if (c->pg == NULL) {
		conn_drop(c);
		connpool_fail_head(cp, "out of memory");
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_connect_failed(c, NULL);
		return;
	}
	PQsetNoticeProcessor(c->pg, pg_notice_drop, NULL);
	/* libpq: behave as if PQconnectPoll had asked for writability */
	conn_connect_continue(c, PGRES_POLLING_WRITING);
}

/* ---- running a query ---- */

/* Column index of name: PQfnumber (SQL identifier rules: unquoted names fold
 * to lower case), then a case-insensitive match as the SQLite connector does,
 * so a mapping may name a quoted mixed-case column as it is written. */
static int pg_column(const PGresult *res, const char *name)
{
	int col = PQfnumber(res, name), n = PQnfields(res);

	for (int i = 0; col < 0 && i < n; i++)
		if (strcasecmp(PQfname(res, i), name) == 0)
			col = i;
	return col;
}

/* The mapping getter.  A NULL value and a column the result does not have
 * are both absent: one mapping serves all query kinds of a source, and a
 * person query need not return the columns of a vehicle query.  Values go
 * out as the server sent them: client_encoding=UTF8 makes the server convert
 * to UTF-8, except from a SQL_ASCII database (Latin-1 names in an old
 * register), and a broken or hostile server may send anything, NUL bytes
 * included; mapping_apply repairs such a value (utf8text.h). */
static int pg_get(void *row, const char *from, const char **val, size_t *len)
{
	struct pg_row *r = row;
	const struct pg_conf *conf = r->conf;
	size_t j;
	int col;

	/* the mapping passes its own strings, so a pointer compare usually hits */
	for (j = 0; j < conf->ncols && conf->cols[j] != from; j++)
		;
	if (j == conf->ncols)
		for (j = 0; j < conf->ncols && strcmp(conf->cols[j], from) != 0; j++)
			;
	if (j < conf->ncols) {
		if (r->colidx[j] == PG_COL_UNKNOWN)
			r->colidx[j] = pg_column(r->res, from);
		col = r->colidx[j];
	} else {
		col = pg_column(r->res, from);
	}
	if (col < 0 || PQgetisnull(r->res, r->i, col))
		return 0;
	*val = PQgetvalue(r->res, r->i, col);
	*len = (size_t)PQgetlength(r->res, r->i, col);
	return 1;
}

/* Ends the call of a busy connection with st and lets the connection drain
 * the rest of the answer. */
static void conn_release_call(struct pg_conn *c, enum source_status st, const char *reason)
{
	struct pg_call *pc = c->pc;

	c->pc = NULL;
	c->state = PGC_DRAIN;
	c->t0_ns = loop_now_ns();
	c->drained = 0;
	pc->conn = NULL;
	connpool_finish(&pc->w, st, reason);
}

/* Closes a connection that failed mid-query and fails its call, if any.
 * A pooled connection can have died while idle (server restart, idle
 * timeout, pg_terminate_backend) without us noticing before reuse; if
 * nothing of the answer has been seen yet, the call gets one more try on
 * another connection.  That is safe because every session is read-only. */
static void conn_broken(struct pg_conn *c, const char *what)
{
	struct pg_pool *p = c->pool;
	struct pg_call *pc = c->pc;
	char msg[PG_REASON_MAX], reason[PG_REASON_MAX + 32];

	pg_clean_msg(p->conf, what != NULL ? what : PQerrorMessage(c->pg), msg, sizeof(msg));
	snprintf(reason, sizeof(reason), "connection lost: %s", msg);
	conn_drop(c);
	if (pc == NULL)
		return;
	if (pc->reused && !pc->retried && pc->w.call->rows == 0 && pc->w.call->records.n == 0) {
		pc->retried = true;
		connpool_push(&p->cp, &pc->w, true);
		connpool_schedule(&p->cp);
		return;
	}
	connpool_finish(&pc->w, SOURCE_ERROR, reason);
}

/* A short reason for an error result.  Data exceptions (class 22) and
 * integrity errors (23) quote values, which may be the officer's search
 * terms: those are named by SQLSTATE only. */
static void pg_result_reason(const struct pg_conf *conf, const PGresult *r, char *out,
			     size_t outlen)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *prim = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	char msg[PG_REASON_MAX];

	if (state == NULL)
		state = "?????";
	if (strncmp(state, "22", 2) == 0)
		snprintf(msg, sizeof(msg), "a value did not fit the query (data exception)");
	else if (strncmp(state, "23", 2) == 0)
		snprintf(msg, sizeof(msg), "integrity constraint violation");
	else
		pg_clean_msg(conf, prim != NULL ? prim : PQresultErrorMessage(r), msg, sizeof(msg));
	snprintf(out, outlen, "query failed: %s (SQLSTATE %s)", msg, state);
}

int *source_pg_colidx_new(const struct source_def *def)
{
	const struct pg_conf *conf = def->conn_cfg;
	int *colidx = calloc(conf->ncols + 1, sizeof(*colidx));

	if (colidx != NULL)
		source_pg_colidx_reset(def, colidx);
	return colidx;
}

void source_pg_colidx_reset(const struct source_def *def, int *colidx)
{
	const struct pg_conf *conf = def->conn_cfg;

	for (size_t j = 0; j < conf->ncols; j++)
		colidx[j] = PG_COL_UNKNOWN;
}

enum source_pg_next source_pg_result(struct source_call *call, const PGresult *res, int *colidx,
				     enum source_status *st, char *reason, size_t reasonsz)
{
	const struct pg_conf *conf = call->def->conn_cfg;
	ExecStatusType rs = PQresultStatus(res);
	const char *state;

	*st = SOURCE_OK;
	reason[0] = '\0';
	switch (rs) {
	case PGRES_SINGLE_TUPLE:
	case PGRES_TUPLES_OK: {
		int n = PQntuples(res);

		for (int i = 0; i < n; i++) {
			struct pg_row row = { .res = res, .i = i, .colidx = colidx, .conf = conf };
			int rc = source_call_add_row(call, pg_get, &row);

			if (rc == 1)
				return SOURCE_PG_FINISH; /* limit: call->status says truncated */
			if (rc < 0) {
				*st = SOURCE_ERROR;
				snprintf(reason, reasonsz, "mapping failed: %.200s", call->reason);
				return SOURCE_PG_FINISH;
			}
		}
		/* single-row mode: one result per row, then an empty TUPLES_OK */
		return rs == PGRES_TUPLES_OK ? SOURCE_PG_FINISH : SOURCE_PG_MORE;
	}
	case PGRES_FATAL_ERROR:
	case PGRES_NONFATAL_ERROR:
	case PGRES_BAD_RESPONSE:
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		pg_result_reason(conf, res, reason, reasonsz);
		/* 57P0x: the server is ending this session (admin shutdown,
		 * crash); 08xxx: connection exception; 26000: our prepared
		 * statement is gone (DISCARD ALL, a pooler between us), so the
		 * session is not what we believe it is */
		if (state != NULL && (strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0 ||
				      strcmp(state, "26000") == 0))
			return SOURCE_PG_BROKEN;
		/* 57014 query_canceled: our statement_timeout fired */
		*st = state != NULL && strcmp(state, "57014") == 0 ? SOURCE_TIMEOUT : SOURCE_ERROR;
		return SOURCE_PG_FINISH;
	case PGRES_EMPTY_QUERY:
	case PGRES_COMMAND_OK:
	case PGRES_COPY_OUT:
	case PGRES_COPY_IN:
	case PGRES_COPY_BOTH:
	default:
		/* impossible for a wrapped SELECT: do not trust the connection */
		snprintf(reason, reasonsz, "unexpected answer (%s)", PQresStatus(rs));
		return SOURCE_PG_BROKEN;
	}
}

/* Handles one result of a busy or draining connection.  Returns false if
 * the connection was dropped. */
static bool conn_result(struct pg_conn *c, PGresult *r)
{
	struct pg_pool *p = c->pool;
	ExecStatusType st = PQresultStatus(r);
	enum source_status fst;
	char reason[256];

	if (c->state == PGC_DRAIN) {
		switch (st) {
		case PGRES_SINGLE_TUPLE:
		case PGRES_TUPLES_OK:
			/* bounded by LIMIT on the server and max_bytes here */
			for (int i = 0, n = PQntuples(r), nf = PQnfields(r); i < n; i++)
				for (int f = 0; f < nf; f++)
					c->drained += (size_t)PQgetlength(r, i, f);
			if (c->drained > (size_t)p->def->max_bytes) {
				conn_drop(c);
				return false;
			}
			return true;
		case PGRES_FATAL_ERROR:
		case PGRES_NONFATAL_ERROR:
		case PGRES_BAD_RESPONSE:
		case PGRES_COMMAND_OK: /* of a prepare whose call has gone */
			return true;
		default:
			snprintf(reason, sizeof(reason), "unexpected answer (%s)", PQresStatus(st));
			conn_broken(c, reason);
			return false;
		}
	}
	if (c->preparing && st == PGRES_COMMAND_OK) {
		c->prep_ok = true;
		return true;
	}
	if (c->preparing && st != PGRES_FATAL_ERROR && st != PGRES_NONFATAL_ERROR &&
	    st != PGRES_BAD_RESPONSE) {
		snprintf(reason, sizeof(reason), "unexpected answer to prepare (%s)",
			 PQresStatus(st));
		conn_broken(c, reason);
		return false;
	}
	switch (source_pg_result(c->pc->w.call, r, c->pc->colidx, &fst, reason, sizeof(reason))) {
	case SOURCE_PG_MORE:
		return true;
	case SOURCE_PG_FINISH:
		conn_release_call(c, fst, reason[0] != '\0' ? reason : NULL);
		return true;
	case SOURCE_PG_BROKEN:
	default:
		conn_broken(c, reason);
		return false;
	}
}

/* The answer has been read to the end: back to the pool, if healthy. */
static void conn_query_done(struct pg_conn *c)
{
	if (c->state == PGC_BUSY) /* no final result arrived: treat as broken */
		conn_broken(c, "the server ended the answer early");
	else if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		conn_drop(c);
	else {
		c->state = PGC_IDLE;
		if (conn_arm(c, EV_READ, PG_IDLE_MS) != 0)
			conn_drop(c);
	}
}

/* Reads every result libpq can give without blocking. */
static void conn_results(struct pg_conn *c)
{
	struct pg_pool *p = c->pool;
	PGresult *r;

	while (!p->cp.dead) {
		if (PQisBusy(c->pg)) {
			short what = EV_READ | (c->flushing ? EV_WRITE : 0);
			/* a busy call is bounded by its own deadline (cancel);
			 * a drain by the source's deadline */
			long tmo = c->state == PGC_DRAIN
					   ? pg_remaining_ms(c->t0_ns, p->def->deadline_ms)
					   : -1;

			if (conn_arm(c, what, tmo) != 0)
				conn_broken(c, "cannot watch the socket");
			return;
		}
		r = PQgetResult(c->pg);
		if (r == NULL && c->state == PGC_BUSY && c->preparing) {
			/* the prepare is done: now run it */
			c->preparing = false;
			if (!c->prep_ok) {
				conn_broken(c, "the server did not confirm the prepared statement");
				return;
			}
			c->prepared |= 1u << c->pc->w.call->query->kind;
			if (!conn_execute(c))
				return;
			continue;
		}
		if (r == NULL) {
			c->preparing = false; /* a prepare that failed ends here */
			conn_query_done(c);
			return;
		}
		if (!conn_result(c, r)) {
			PQclear(r);
			return;
		}
		PQclear(r);
	}
}

/* Has libpq send what it holds; false if the connection was dropped. */
static bool conn_flush(struct pg_conn *c)
{
	int f = PQflush(c->pg);

	if (f < 0) {
		conn_broken(c, NULL); /* retries once on a reused connection */
		return false;
	}
	c->flushing = f == 1;
	return true;
}

/* Sends the busy connection's query as its prepared statement, the values
 * as text parameters.  Returns false if the connection was dropped. */
static bool conn_execute(struct pg_conn *c)
{
	const struct query *q = c->pc->w.call->query;
	const struct pg_stmt *s = &c->pool->conf->stmt[q->kind];
	const char *values[QP__COUNT];

	for (size_t i = 0; i < s->nparams; i++)
		values[i] = q->param[s->order[i]]; /* NULL binds SQL NULL */
	if (!PQsendQueryPrepared(c->pg, s->name, (int)s->nparams, values, NULL, NULL, 0)) {
		conn_broken(c, NULL);
		return false;
	}
	c->used = true;
	/* rows one by one, so limits stop the reading, not only the mapping */
	PQsetSingleRowMode(c->pg);
	return conn_flush(c);
}

/* Starts the query of w's call on idle connection link (also the connpool
 * send hook).  May finish the call.  The first time a connection runs a
 * query kind, it prepares the statement (PQsendPrepare; its result is read
 * like any other, see conn_results) and then executes it; later calls of
 * that kind on this connection execute at once, so the server parses and
 * plans the template once per session rather than once per search.  A
 * new connection (after a reconnect, or after a reload, which makes a new
 * pool) starts with nothing prepared. */
static void conn_send(struct connpool_conn *link, struct connpool_waiter *w)
{
	struct pg_conn *c = conn_of(link);
	struct pg_call *pc = call_of(w);
	struct pg_pool *p = c->pool;
	const struct query *q = pc->w.call->query;
	const struct pg_stmt *s = &p->conf->stmt[q->kind];
	char reason[PG_REASON_MAX + 32];

	if (s->sql == NULL) { /* source_call_start skips absent kinds; be safe */
		snprintf(reason, sizeof(reason), "does not answer %s queries",
			 query_kind_name(q->kind));
		connpool_finish(&pc->w, SOURCE_ERROR, reason);
		return;
	}
	source_pg_colidx_reset(p->def, pc->colidx);
	c->state = PGC_BUSY;
	c->pc = pc;
	pc->conn = c;
	pc->reused = c->used;
	c->preparing = false;
	if (c->prepared & (1u << q->kind)) {
		if (!conn_execute(c))
			return;
	} else {
		c->preparing = true;
		c->prep_ok = false;
		if (!PQsendPrepare(c->pg, s->name, s->sql, (int)s->nparams, NULL)) {
			conn_broken(c, NULL);
			return;
		}
		c->used = true;
		if (!conn_flush(c))
			return;
	}
	conn_results(c);
}

/* Idle connection event: the server closed it, or it idled too long. */
static void conn_idle_event(struct pg_conn *c, short what)
{
	PGnotify *n;

	if ((what & EV_TIMEOUT) || !PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) {
		conn_drop(c);
		return;
	}
	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	if (conn_arm(c, EV_READ, PG_IDLE_MS) != 0)
		conn_drop(c);
}

static void conn_io(struct pg_conn *c, short what)
{
	int f;

	if (what & EV_TIMEOUT) { /* a drain that takes too long */
		conn_broken(c, "timed out");
		return;
	}
	if ((what & EV_READ) && !PQconsumeInput(c->pg)) {
		conn_broken(c, NULL);
		return;
	}
	if (c->flushing) {
		f = PQflush(c->pg);
		if (f < 0) {
			conn_broken(c, NULL);
			return;
		}
		c->flushing = f == 1;
	}
	conn_results(c);
}

static void pg_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_conn *c = arg;
	struct pg_pool *p = c->pool;

	(void)fd;
	connpool_enter(&p->cp);
	switch (c->state) {
	case PGC_CONNECTING:
		if (what & EV_TIMEOUT)
			conn_connect_failed(c, "timed out");
		else
			conn_connect_continue(c, PQconnectPoll(c->pg));
		break;
	case PGC_IDLE:
		conn_idle_event(c, what);
		break;
	case PGC_BUSY:
	case PGC_DRAIN:
		conn_io(c, what);
		break;
	}
	/* c may be gone; a connection may have come free */
	connpool_pump(&p->cp);
	connpool_leave(&p->cp);
}

/* Frees what pool_get allocated (connpool hook, once the pool is empty). */
static void pool_free(struct connpool *cp)
{
	free(pool_of(cp));
}

static const struct connpool_ops pg_pool_ops = {
	.idle = pool_conn_idle,
	.send = conn_send,
	.open = pool_open,
	.close = pool_conn_close,
	.waiter_free = pool_waiter_free,
	.free = pool_free,
};

static struct pg_pool *pool_get(struct source_call *call)
{
	struct source_rt *rt = call->rt;
	struct pg_pool *p = rt->state;

	if (p != NULL)
		return p;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->def = rt->def;
	p->conf = rt->def->conn_cfg;
	p->base = call->loop->base;
	if (connpool_init(&p->cp, p->base, &pg_pool_ops, p->conf->pool_size) != 0) {
		free(p);
		return NULL;
	}
	rt->state = p;
	return p;
}

/* ---- the connector ---- */

static void pg_start(struct source_call *call)
{
	struct pg_pool *p = pool_get(call);
	struct pg_call *pc;
	struct connpool_conn *link;

	if (p == NULL) {
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	pc = calloc(1, sizeof(*pc));
	if (pc == NULL || (pc->colidx = source_pg_colidx_new(p->def)) == NULL) {
		pc_free(pc);
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	connpool_waiter_init(&pc->w, &p->cp, call);
	call->priv = pc;
	connpool_enter(&p->cp);
	link = connpool_idle_conn(&p->cp);
	if (link != NULL && p->cp.qhead == NULL) {
		conn_send(link, &pc->w); /* may finish the call before start returns */
	} else {
		/* Opening connections (and failing calls on a refused connect)
		 * happens from the loop, never inside the caller's start(). */
		connpool_push(&p->cp, &pc->w, false);
		connpool_schedule(&p->cp);
	}
	connpool_leave(&p->cp);
}

static void pg_cancel(struct source_call *call)
{
	struct pg_call *pc = call->priv;
	struct connpool *cp;

	if (pc == NULL)
		return;
	call->priv = NULL;
	cp = pc->w.pool;
	if (cp == NULL) {
		pc_free(pc);
		return;
	}
	connpool_enter(cp);
	connpool_remove(cp, &pc->w);
	if (pc->conn != NULL) {
		/* mid-query: the connection's state on the wire is unknown, so
		 * it is closed rather than returned to the pool; the server
		 * ends the statement by statement_timeout at the latest */
		conn_drop(pc->conn);
		connpool_schedule(cp); /* a waiting call may now open a connection */
	}
	pc_free(pc);
	connpool_leave(cp);
}

static void pg_rt_free(struct source_rt *rt)
{
	struct pg_pool *p = rt->state;

	rt->state = NULL;
	if (p != NULL)
		connpool_destroy(&p->cp);
}

/* ---- configuration ---- */

static void pg_config_free(void *conn_cfg)
{
	struct pg_conf *conf = conn_cfg;

	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->nkv; i++) {
		free(conf->keys[i]);
		if (conf->vals[i] != NULL) {
			OPENSSL_cleanse(conf->vals[i], strlen(conf->vals[i]));
			free(conf->vals[i]);
		}
	}
	free(conf->keys);
	free(conf->vals);
	for (int k = 0; k < QUERY__COUNT; k++) {
		free(conf->stmt[k].sql);
		free(conf->stmt[k].order);
	}
	free(conf->cols);
	free(conf);
}

/* Appends key=val (copies; val may be NULL for the terminator). */
static int conf_add_kv(struct pg_conf *conf, size_t cap, const char *key, const char *val)
{
	if (conf->nkv >= cap)
		return FOCAL_E_INTERNAL;
	conf->keys[conf->nkv] = strdup(key);
	conf->vals[conf->nkv] = strdup(val);
	if (conf->keys[conf->nkv] == NULL || conf->vals[conf->nkv] == NULL) {
		free(conf->keys[conf->nkv]);
		free(conf->vals[conf->nkv]);
		conf->keys[conf->nkv] = conf->vals[conf->nkv] = NULL;
		return FOCAL_E_NOMEM;
	}
	conf->nkv++;
	return FOCAL_OK;
}

/* True when every host of a (comma-separated) host list needs no DNS. */
static bool pg_hosts_numeric(const char *hosts)
{
	char buf[256];
	unsigned char addr[16];
	const char *s = hosts, *e;
	size_t n;

	for (;;) {
		e = strchr(s, ',');
		n = e != NULL ? (size_t)(e - s) : strlen(s);
		if (n == 0 || n >= sizeof(buf))
			return n == 0; /* empty = default socket */
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (buf[0] != '/' && buf[0] != '@' && inet_pton(AF_INET, buf, addr) != 1 &&
		    inet_pton(AF_INET6, buf, addr) != 1)
			return false;
		if (e == NULL)
			return true;
		s = e + 1;
	}
}

/* Turns the conninfo string into keyword/value arrays, adding what focald
 * wants of every session. */
static int pg_conf_conninfo(const struct source_def *def, const struct cfg_node *node,
			    const char *conninfo, struct pg_conf *conf, struct focal_err *err)
{
	PQconninfoOption *opts = NULL, *o;
	char *perr = NULL, *options = NULL;
	const char *user_options = NULL, *appname = NULL, *host = NULL, *hostaddr = NULL;
	size_t nopts = 0, cap, olen;
	int rc;

	opts = PQconninfoParse(conninfo, &perr);
	if (opts == NULL) {
		/* libpq's message may quote pieces of the string (which may hold
		 * a password): only an unknown keyword is safe to name */
		if (perr != NULL && strncmp(perr, "invalid connection option", 25) == 0) {
			char msg[PG_REASON_MAX];

			pg_clean_msg(conf, perr, msg, sizeof(msg));
			rc = cfg_error(node, err, "conninfo: %s", msg);
		} else if (perr != NULL) {
			rc = cfg_error(node, err,
				       "conninfo: not a valid libpq connection string (expected "
				       "key=value pairs, e.g. \"host=127.0.0.1 dbname=x user=y\", "
				       "or a postgresql:// URI)");
		} else {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		}
		goto out;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		nopts++;
		if (strcmp(o->keyword, "options") == 0)
			user_options = o->val;
		else if (strcmp(o->keyword, "application_name") == 0)
			appname = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
	}
	if (hostaddr == NULL && host != NULL && !pg_hosts_numeric(host))
		log_warn("config",
			 "source %s: host \"%s\" is a name; libpq resolves it with a blocking "
			 "DNS lookup on the event loop, give an address (host or hostaddr)",
			 def->name, host);

	cap = nopts + 4; /* + application_name, client_encoding, options, terminator */
	conf->keys = calloc(cap, sizeof(*conf->keys));
	conf->vals = calloc(cap, sizeof(*conf->vals));
	if (conf->keys == NULL || conf->vals == NULL)
		goto nomem;
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "options") == 0 ||
		    strcmp(o->keyword, "application_name") == 0 ||
		    strcmp(o->keyword, "client_encoding") == 0)
			continue;
		if ((rc = conf_add_kv(conf, cap - 1, o->keyword, o->val)) != 0)
			goto fail;
		if (strcmp(o->keyword, "password") == 0)
			conf->password = conf->vals[conf->nkv - 1];
	}
	/* focald's sessions: named in pg_stat_activity, UTF-8 (records are
	 * UTF-8), read-only, and no statement outlives the source's deadline.
	 * The administrator's own options come first, ours win. */
	olen = (user_options != NULL ? strlen(user_options) : 0) + 128;
	options = malloc(olen);
	if (options == NULL)
		goto nomem;
	snprintf(options, olen, "%s%s-c statement_timeout=%ld -c default_transaction_read_only=on",
		 user_options != NULL ? user_options : "", user_options != NULL ? " " : "",
		 def->deadline_ms);
	if ((rc = conf_add_kv(conf, cap - 1, "application_name",
			      appname != NULL ? appname : "focald")) != 0 ||
	    (rc = conf_add_kv(conf, cap - 1, "client_encoding", "UTF8")) != 0 ||
	    (rc = conf_add_kv(conf, cap - 1, "options", options)) != 0)
		goto fail;
	rc = FOCAL_OK;
	goto out;
nomem:
	rc = FOCAL_E_NOMEM;
fail:
	rc = focal_err_set(err, rc, rc == FOCAL_E_NOMEM ? "out of memory" : "internal error");
out:
	if (opts != NULL) {
		for (o = opts; o->keyword != NULL; o++)
			if (o->val != NULL)
				OPENSSL_cleanse(o->val, strlen(o->val));
		PQconninfoFree(opts);
	}
	if (perr != NULL)
		PQfreemem(perr);
	free(options);
	return rc;
}

/* FNV-1a, 64 bits: tells statement texts apart in their names (not a
 * security boundary: a connection only ever runs its own source's SQL). */
static uint64_t pg_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

/* Each present query kind: $n SQL, wrapped so the server enforces the row
 * cap, and the name it is prepared under. */
static int pg_conf_statements(const struct source_def *def, const struct cfg_node *node,
			      struct pg_conf *conf, struct focal_err *err)
{
	static const char head[] = "SELECT * FROM (\n", tail[] = "\n) AS focal_q LIMIT ";
	char *sql = NULL;
	int rc;

	for (int k = 0; k < QUERY__COUNT; k++) {
		struct pg_stmt *s = &conf->stmt[k];
		size_t n, len;

		if (!def->queries[k].present)
			continue;
		rc = template_sql(&def->queries[k].tpl, TEMPLATE_DIALECT_PG, &sql, &s->order,
				  &s->nparams, err);
		if (rc != 0)
			return focal_err_prefix(err, "%s:%zu:%zu: %s", node->file,
						def->queries[k].line, def->queries[k].col,
						query_kind_name((enum query_kind)k));
		/* a trailing ';' would end the statement inside our wrapper */
		n = strlen(sql);
		while (n > 0 && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\t' ||
				 sql[n - 1] == '\r' || sql[n - 1] == '\n'))
			n--;
		if (n == 0) {
			free(sql);
			return focal_err_set(err, FOCAL_E_CONFIG, "%s:%zu:%zu: %s: empty query",
					     node->file, def->queries[k].line,
					     def->queries[k].col,
					     query_kind_name((enum query_kind)k));
		}
		/* the newline before ')' ends a trailing -- comment of the template */
		len = sizeof(head) + n + sizeof(tail) + 24;
		s->sql = malloc(len);
		if (s->sql == NULL) {
			free(sql);
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		}
		snprintf(s->sql, len, "%s%.*s%s%ld", head, (int)n, sql, tail, def->max_rows + 1);
		free(sql);
		sql = NULL;
		snprintf(s->name, sizeof(s->name), "focal_%s_%016llx",
			 query_kind_name((enum query_kind)k), (unsigned long long)pg_hash(s->sql));
	}
	return FOCAL_OK;
}

/* The distinct columns the mapping reads, for the per-call index cache. */
static int pg_conf_columns(const struct source_def *def, struct pg_conf *conf)
{
	const struct mapping *m = &def->map;
	size_t max = 0;

	for (size_t e = 0; e < m->nentities; e++)
		max += m->entities[e].nfields + 1;
	conf->cols = calloc(max + 1, sizeof(*conf->cols));
	if (conf->cols == NULL)
		return FOCAL_E_NOMEM;
	for (size_t e = 0; e < m->nentities; e++) {
		const struct map_entity *me = &m->entities[e];

		for (size_t f = 0; f <= me->nfields; f++) {
			const char *from = f < me->nfields ? me->fields[f].from : me->when;
			size_t j;

			if (from == NULL)
				continue;
			for (j = 0; j < conf->ncols && strcmp(conf->cols[j], from) != 0; j++)
				;
			if (j == conf->ncols)
				conf->cols[conf->ncols++] = from;
		}
	}
	return FOCAL_OK;
}

static int pg_configure(struct source_def *def, const struct cfg_node *connection,
			struct focal_err *err)
{
	static const char *const keys[] = { "conninfo", "pool_size", NULL };
	struct pg_conf *conf = NULL;
	struct cfg_node node;
	char *conninfo = NULL;
	int rc;

	if ((rc = cfg_expect_map(connection, "connection", err)) != 0 ||
	    (rc = cfg_check_keys(connection, keys, err)) != 0)
		goto out;
	conf = calloc(1, sizeof(*conf));
	if (conf == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	conf->pool_size = def->pool_size > 0 ? def->pool_size : 4;
	if ((rc = cfg_get_string(connection, "conninfo", true, &conninfo, err)) != 0 ||
	    (rc = cfg_get_long(connection, "pool_size", false, 1, PG_POOL_SIZE_MAX,
			       &conf->pool_size, err)) != 0)
		goto out;
	cfg_map_get(connection, "conninfo", &node);
	if ((rc = pg_conf_conninfo(def, &node, conninfo, conf, err)) != 0 ||
	    (rc = pg_conf_statements(def, connection, conf, err)) != 0)
		goto out;
	if (pg_conf_columns(def, conf) != 0) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	def->pool_size = conf->pool_size;
	def->conn_cfg = conf;
	conf = NULL;
	rc = FOCAL_OK;
out:
	if (conninfo != NULL) {
		OPENSSL_cleanse(conninfo, strlen(conninfo));
		free(conninfo);
	}
	pg_config_free(conf);
	return rc;
}

const struct connector connector_pg = {
	.kind = "postgres",
	.template_style = TEMPLATE_SQL,
	.mapping_from = MAPPING_FROM_COLUMN,
	.configure = pg_configure,
	.config_free = pg_config_free,
	.start = pg_start,
	.cancel = pg_cancel,
	.rt_free = pg_rt_free,
};
