/*
 * connpool: the connection-pool mechanism of the connectors that keep their
 * own network connections (source_pg.c, source_ldap.c).
 *
 * Such a connector keeps, per loop and per source (source_rt->state), a pool
 * of at most `limit` connections and a FIFO queue of calls waiting for one.
 * The protocol differs, the pool does not; this module is the part that is
 * the same whatever the protocol:
 *  - the wait queue, intrusive: each call embeds a struct connpool_waiter;
 *  - the list of connections, intrusive too (struct connpool_conn), and how
 *    many of them are still opening;
 *  - the pump policy: an idle connection serves the call waiting longest;
 *    without one, a connection is opened while the pool is under its limit
 *    and fewer connections are opening than calls are waiting;
 *  - a failed connection attempt fails exactly the call waiting longest, so
 *    a dead server answers every call with its own error and never makes the
 *    pool retry in a tight loop;
 *  - re-entrancy: finishing a call runs the fan-out's callback, which may
 *    start or cancel calls or free the whole pool (rt_free).  Every entry
 *    from the loop is bracketed by connpool_enter/connpool_leave, and a pool
 *    freed meanwhile is only marked dead and freed at the outermost leave;
 *  - the pump event, which pumps the queue from a fresh loop iteration (so
 *    that start() and cancel() never open connections or finish calls on the
 *    caller's stack).
 * The connector keeps the protocol: connecting, sending, reading, its
 * connection states (so what "idle" means), retries, and its own structs,
 * which embed the three structs below and reach back to themselves with
 * CONNPOOL_CONTAINER.  It tells the pool what it needs through struct
 * connpool_ops.
 *
 * Everything here runs on the pool's loop thread; nothing is locked.
 */
#ifndef FOCAL_CONNPOOL_H
#define FOCAL_CONNPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "sources/source.h"

/* The struct of type `type` whose member `member` is at ptr (ptr not NULL). */
#define CONNPOOL_CONTAINER(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct connpool;

/* A call's membership of a pool, embedded in the connector's per-call struct
 * (call->priv).  The connector sets it up with connpool_waiter_init; the
 * links are the pool's. */
struct connpool_waiter {
	struct source_call *call;
	/* The pool, or NULL once the pool has gone (freed while the call was
	 * still queued or running): then the connector only frees its struct. */
	struct connpool *pool;
	struct connpool_waiter *prev, *next; /* wait queue; pool-owned */
	bool queued;
};

/* A connection's membership of a pool, embedded in the connector's
 * connection struct.  Pool-owned: changed only by connpool_conn_*. */
struct connpool_conn {
	struct connpool_conn *prev, *next;
	bool opening; /* counted in connpool.nopening */
};

/* What the pool asks of the connector, on the loop thread: idle, send, open
 * and waiter_free from the pool's functions (the connector has entered the
 * pool), close and free during the teardown (nothing of the pool is on the
 * stack then). */
struct connpool_ops {
	/* True if c is idle: connected, and free to take a call. */
	bool (*idle)(struct connpool_conn *c);
	/* Starts the call of w (already taken off the queue) on idle c.  May
	 * finish the call, or push it back to the queue. */
	void (*send)(struct connpool_conn *c, struct connpool_waiter *w);
	/* Opens one more connection: connpool_conn_add() it, or, if that is
	 * impossible, connpool_fail_head() so that the pump makes progress. */
	void (*open)(struct connpool *pool);
	/* Pool teardown: closes and frees c (which must leave the list, by
	 * connpool_conn_remove), after setting the `pool` of the waiter of a
	 * call still running on it to NULL. */
	void (*close)(struct connpool_conn *c);
	/* Frees the connector's per-call struct that embeds w. */
	void (*waiter_free)(struct connpool_waiter *w);
	/* Frees the connector's pool struct that embeds pool (last step of
	 * the teardown: connections closed, waiters detached). */
	void (*free)(struct connpool *pool);
};

/* The pool, embedded in the connector's rt->state struct.  The connector may
 * read every field; it changes them only through the functions below. */
struct connpool {
	const struct connpool_ops *ops;
	struct connpool_conn *conns; /* newest first */
	size_t nconns, nopening;
	long limit;                  /* most connections at once */
	struct connpool_waiter *qhead, *qtail; /* qhead waits longest */
	size_t nqueued;
	struct event pump_ev;        /* runs connpool_pump from a fresh loop iteration */
	unsigned depth;              /* > 0 while code of the pool is on the stack */
	bool dead;                   /* destroyed while depth > 0: freed on the way out */
};

/* Sets up an empty pool on base with the connector's ops (borrowed, must
 * outlive the pool) and at most limit connections.  Returns 0, or
 * FOCAL_E_INTERNAL if the pump event cannot be set up (then nothing needs
 * undoing). */
int connpool_init(struct connpool *pool, struct event_base *base,
		  const struct connpool_ops *ops, long limit);

/* The connector's rt_free: frees the pool now, or, when called from inside
 * the pool's own code (depth > 0, e.g. from a call's finish callback), marks
 * it dead and leaves the freeing to the outermost connpool_leave.  Freeing
 * closes every connection (ops->close), detaches the calls still queued
 * (their waiter's pool becomes NULL) and ends with ops->free. */
void connpool_destroy(struct connpool *pool);

/* Brackets every entry into the connector's code that may finish calls
 * (event callbacks, start, cancel).  After connpool_leave the pool may have
 * been freed: the caller touches nothing of it afterwards. */
void connpool_enter(struct connpool *pool);
void connpool_leave(struct connpool *pool);

/* Asks for connpool_pump from the next loop iteration (unless dead). */
void connpool_schedule(struct connpool *pool);

/* Hands idle connections to waiting calls and opens connections for calls
 * that have none coming, until neither is possible.  Re-reads the state on
 * every round, since sending or failing runs callbacks that may start or
 * cancel calls.  Call it between connpool_enter and connpool_leave. */
void connpool_pump(struct connpool *pool);

/* Sets up w for call, as a member of pool, not queued. */
void connpool_waiter_init(struct connpool_waiter *w, struct connpool *pool,
			  struct source_call *call);

/* Queues w at the back (a new call) or at the front (a call retried after a
 * stale connection: it has waited longest).  w must not be queued. */
void connpool_push(struct connpool *pool, struct connpool_waiter *w, bool front);

/* Takes w off the queue; nothing if it is not queued. */
void connpool_remove(struct connpool *pool, struct connpool_waiter *w);

/* Reports the outcome of w's call, which belongs to a live pool and is
 * neither queued nor running on a connection: clears call->priv, frees the
 * connector's call struct (ops->waiter_free) and calls source_call_finish
 * with reason (NULL: none).  The finish callback may start or cancel calls,
 * or destroy the pool (deferred while entered), so the caller touches
 * nothing of w afterwards. */
void connpool_finish(struct connpool_waiter *w, enum source_status st, const char *reason);

/* Fails the call waiting longest with SOURCE_ERROR and reason (a failed
 * connection attempt); nothing if none waits. */
void connpool_fail_head(struct connpool *pool, const char *reason);

/* The first idle connection (ops->idle), newest first; NULL if none. */
struct connpool_conn *connpool_idle_conn(struct connpool *pool);

/* Adds a connection that starts opening (counted in nconns and nopening). */
void connpool_conn_add(struct connpool *pool, struct connpool_conn *c);
/* c has finished opening: no longer counted in nopening. */
void connpool_conn_opened(struct connpool *pool, struct connpool_conn *c);
/* Takes c out of the list and the counts (the connector frees it). */
void connpool_conn_remove(struct connpool *pool, struct connpool_conn *c);

#endif
