/*
 * source: the connector interface and the life of one query to one source.
 *
 * A connector (sqlite, postgres, http, ldap) implements struct connector.  The
 * fan-out creates a struct source_call per source and calls start(); the
 * connector later reports exactly once with source_call_finish(), on the loop
 * thread of the call — unless the fan-out cancelled the call first (deadline,
 * client gone), after which the connector must never touch the call again.
 *
 * Rows go through source_call_add_row(), which maps them (mapping.h) and
 * enforces the source's row and byte limits in one place for every connector.
 *
 * Per-loop state: struct source_set is the set of configured sources as seen
 * by one loop: for each source, a struct source_rt where the connector keeps
 * its per-loop state (connection pool).  It is created and freed on its loop's
 * thread; searches hold a reference while they run.
 */
#ifndef FOCAL_SOURCE_H
#define FOCAL_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cfgnode.h"
#include "core/config.h"
#include "core/err.h"
#include "core/loop.h"
#include "search/query.h"
#include "sources/mapping.h"
#include "sources/record.h"

struct source_call;
struct source_rt;

struct connector {
	const char *kind;                 /* as written in the configuration */
	enum template_style template_style;
	enum mapping_from mapping_from;
	/* Parses the source's `connection` node into def->conn_cfg; may inspect
	 * and finish other parts of def (e.g. prepare SQL text from templates).
	 * Errors name file:line:column. */
	int (*configure)(struct source_def *def, const struct cfg_node *connection,
			 struct focal_err *err);
	void (*config_free)(void *conn_cfg);
	/* Starts the call; every outcome (also immediate failure) is reported by
	 * source_call_finish(), possibly before start() returns. */
	void (*start)(struct source_call *call);
	/* Stops a call that has not finished; releases what it holds. */
	void (*cancel)(struct source_call *call);
	/* Frees rt->state (per-loop, per-source), on the loop thread. */
	void (*rt_free)(struct source_rt *rt);
};

/* Registry of the built-in connectors. */
const struct connector *connector_find(const char *kind);
/* "sqlite, postgres, http, ldap" for messages. */
const char *connector_kinds(void);

enum source_status {
	SOURCE_PENDING = 0,
	SOURCE_OK,
	SOURCE_TRUNCATED,   /* row or byte limit hit: partial answer */
	SOURCE_TIMEOUT,     /* its deadline passed */
	SOURCE_ERROR,       /* failed or answered garbage (reason says which) */
	SOURCE_UNAVAILABLE, /* circuit breaker open */
	SOURCE_SKIPPED,     /* not asked (does not answer this query kind) */
};
const char *source_status_name(enum source_status s);

struct source_rt {
	const struct source_def *def;
	struct config *cfg; /* the configuration def belongs to (not a reference) */
	struct loop *loop;
	void *state; /* connector-owned, freed by conn->rt_free */
};

struct source_set {
	struct config *cfg;    /* one reference */
	struct loop *loop;
	size_t refs;           /* loop-thread only */
	struct source_rt *rt;  /* cfg->nsources entries */
};

/* Creates the per-loop set for cfg (takes its own config reference). */
int source_set_new(struct loop *loop, struct config *cfg, struct source_set **out,
		   struct focal_err *err);
struct source_set *source_set_ref(struct source_set *s);
void source_set_unref(struct source_set *s); /* loop thread; frees at zero */

typedef void (*source_call_cb)(struct source_call *call, void *arg);

struct source_call {
	struct source_rt *rt;
	const struct source_def *def;
	struct loop *loop;
	const struct query *query;

	struct record_set records;
	size_t rows;          /* rows accepted */
	enum source_status status;
	char reason[256];
	uint64_t start_ns;
	long deadline_ms;     /* the deadline this call runs under */
	double ms;            /* duration when finished */

	unsigned depth;       /* 0: asked for the officer's query; 1: a linked hop */
	const char *via;      /* hops: what led here ("owner of vehicle 1ABC123") */

	void *priv;           /* the connector's per-call state */
	struct event *deadline_ev;
	bool started, finished;
	source_call_cb on_done;
	void *arg;
};

/* Initialises call for (rt, query); on_done runs once it finishes (not after cancel). */
void source_call_init(struct source_call *call, struct source_rt *rt, const struct query *q,
		      source_call_cb on_done, void *arg);
/* Starts it under its deadline (def->deadline_ms, capped by deadline_ms if > 0),
 * honouring the circuit breaker. */
void source_call_start(struct source_call *call, long deadline_ms);
/* Cancels a call that has not finished (no callback).  Safe on finished calls. */
void source_call_cancel(struct source_call *call);
/* Releases records and events.  The call must be finished or cancelled. */
void source_call_clear(struct source_call *call);

/* For connectors.  Maps one row into call->records.  Returns 0 to go on, 1 when
 * the row or byte limit has been reached (the call is then marked truncated and
 * the connector should stop reading), or a negative code (mapping failed). */
int source_call_add_row(struct source_call *call, mapping_get_fn get, void *row);
/* Reports the outcome: status OK (or TRUNCATED if a limit was hit) / ERROR /
 * TIMEOUT with a reason.  Exactly once per started call. */
void source_call_finish(struct source_call *call, enum source_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The connectors (defined in source_<kind>.c). */
extern const struct connector connector_sqlite;
extern const struct connector connector_pg;
extern const struct connector connector_http;
extern const struct connector connector_ldap;

#endif
