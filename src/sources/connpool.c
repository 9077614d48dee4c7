/*
 * connpool: the connection-pool mechanism shared by the connectors that keep
 * their own connections (PostgreSQL, LDAP): wait queue, connection list, pump
 * policy, deferred freeing.  See connpool.h for how a connector plugs in;
 * the protocol itself stays in source_<kind>.c.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "core/err.h"
#include "sources/connpool.h"

static void connpool_pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connpool *pool = arg;

	(void)fd;
	(void)what;
	connpool_enter(pool);
	connpool_pump(pool);
	connpool_leave(pool);
}

int connpool_init(struct connpool *pool, struct event_base *base,
		  const struct connpool_ops *ops, long limit)
{
	*pool = (struct connpool){ .ops = ops, .limit = limit };
	if (event_assign(&pool->pump_ev, base, -1, 0, connpool_pump_cb, pool) != 0)
		return FOCAL_E_INTERNAL;
	return FOCAL_OK;
}

/* Closes the connections, lets go of the queued calls, frees the
 * connector's pool.  Nothing of the pool is on the stack. */
static void connpool_free(struct connpool *pool)
{
	struct connpool_waiter *w, *next;

	event_del(&pool->pump_ev);
	while (pool->conns != NULL)
		pool->ops->close(pool->conns);
	/* Calls cannot outlive their source_set; should one still be queued,
	 * let its eventual cancel find no pool rather than a freed one. */
	for (w = pool->qhead; w != NULL; w = next) {
		next = w->next;
		w->pool = NULL;
		w->queued = false;
		w->prev = w->next = NULL;
	}
	pool->qhead = pool->qtail = NULL;
	pool->nqueued = 0;
	pool->ops->free(pool);
}

void connpool_destroy(struct connpool *pool)
{
	pool->dead = true;
	if (pool->depth == 0)
		connpool_free(pool);
}

void connpool_enter(struct connpool *pool)
{
	pool->depth++;
}

void connpool_leave(struct connpool *pool)
{
	if (--pool->depth == 0 && pool->dead)
		connpool_free(pool);
}

void connpool_schedule(struct connpool *pool)
{
	if (!pool->dead)
		event_active(&pool->pump_ev, EV_TIMEOUT, 0);
}

struct connpool_conn *connpool_idle_conn(struct connpool *pool)
{
	struct connpool_conn *c;

	for (c = pool->conns; c != NULL && !pool->ops->idle(c); c = c->next)
		;
	return c;
}

void connpool_pump(struct connpool *pool)
{
	struct connpool_conn *c;
	struct connpool_waiter *w;

	while (!pool->dead && pool->qhead != NULL) {
		c = connpool_idle_conn(pool);
		if (c != NULL) {
			w = pool->qhead;
			connpool_remove(pool, w);
			pool->ops->send(c, w);
			continue;
		}
		if ((long)pool->nconns < pool->limit && pool->nopening < pool->nqueued) {
			pool->ops->open(pool);
			continue;
		}
		break;
	}
}

void connpool_waiter_init(struct connpool_waiter *w, struct connpool *pool,
			  struct source_call *call)
{
	*w = (struct connpool_waiter){ .call = call, .pool = pool };
}

void connpool_push(struct connpool *pool, struct connpool_waiter *w, bool front)
{
	w->queued = true;
	if (front) {
		w->prev = NULL;
		w->next = pool->qhead;
		if (pool->qhead != NULL)
			pool->qhead->prev = w;
		else
			pool->qtail = w;
		pool->qhead = w;
	} else {
		w->next = NULL;
		w->prev = pool->qtail;
		if (pool->qtail != NULL)
			pool->qtail->next = w;
		else
			pool->qhead = w;
		pool->qtail = w;
	}
	pool->nqueued++;
}

void connpool_remove(struct connpool *pool, struct connpool_waiter *w)
{
	if (!w->queued)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		pool->qhead = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		pool->qtail = w->prev;
	w->prev = w->next = NULL;
	w->queued = false;
	pool->nqueued--;
}

void connpool_finish(struct connpool_waiter *w, enum source_status st, const char *reason)
{
	struct source_call *call = w->call;

	assert(w->pool != NULL && !w->queued);
	call->priv = NULL;
	w->pool->ops->waiter_free(w);
	source_call_finish(call, st, "%s", reason != NULL ? reason : "");
}

void connpool_fail_head(struct connpool *pool, const char *reason)
{
	struct connpool_waiter *w = pool->qhead;

	if (w == NULL)
		return;
	connpool_remove(pool, w);
	connpool_finish(w, SOURCE_ERROR, reason);
}

void connpool_conn_add(struct connpool *pool, struct connpool_conn *c)
{
	c->opening = true;
	c->prev = NULL;
	c->next = pool->conns;
	if (pool->conns != NULL)
		pool->conns->prev = c;
	pool->conns = c;
	pool->nconns++;
	pool->nopening++;
}

void connpool_conn_opened(struct connpool *pool, struct connpool_conn *c)
{
	if (!c->opening)
		return;
	c->opening = false;
	pool->nopening--;
}

void connpool_conn_remove(struct connpool *pool, struct connpool_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		pool->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	pool->nconns--;
	if (c->opening)
		pool->nopening--;
	c->opening = false;
}
