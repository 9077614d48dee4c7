/*
 * test_connpool: the connection-pool mechanism of the PostgreSQL and LDAP
 * connectors (sources/connpool.h), with a stand-in connector whose
 * connections are plain structs: the FIFO wait queue, the pump policy
 * (idle connection first, open up to the limit, no more opening than
 * waiting), failing the longest waiter, the pump event, and a pool freed
 * from inside a call's finish callback (deferred to the outermost leave).
 * The calls are real struct source_call, finished through source.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/event.h>

#include "core/config.h"
#include "search/query.h"
#include "sources/breaker.h"
#include "sources/connpool.h"
#include "sources/source.h"

#define NCALLS 4

/* The stand-in connector's structs. */
struct tpool {
	struct connpool cp;
};

struct tconn {
	struct connpool_conn link;
	struct tpool *pool;
	bool idle;
	int sent; /* id of the call sent on it, -1 none */
};

struct tcall {
	struct connpool_waiter w;
	int id;
	bool freed;
};

static struct event_base *base;
static struct source_def def;
static struct source_rt rt;
static struct query q;
static struct source_call calls[NCALLS];
static struct tcall tcalls[NCALLS];

/* What the hooks saw. */
static int opened, closed, freed_pools, sends;
static int done_order[NCALLS], ndone;
static bool open_fails;               /* open: fail the head instead of adding */
static struct tpool *destroy_on_done; /* on_done: destroy this pool */

static bool t_idle(struct connpool_conn *c)
{
	return CONNPOOL_CONTAINER(c, struct tconn, link)->idle;
}

/* Sends by finishing the call at once, as a connector does for an answer
 * that is complete at once; the connection stays idle. */
static void t_send(struct connpool_conn *c, struct connpool_waiter *w)
{
	struct tconn *tc = CONNPOOL_CONTAINER(c, struct tconn, link);

	assert_false(w->queued);
	sends++;
	tc->sent = CONNPOOL_CONTAINER(w, struct tcall, w)->id;
	connpool_finish(w, SOURCE_OK, NULL);
}

static void t_open(struct connpool *cp)
{
	struct tconn *tc;

	if (open_fails) {
		connpool_fail_head(cp, "connect: refused");
		return;
	}
	tc = calloc(1, sizeof(*tc));
	assert_non_null(tc);
	tc->pool = CONNPOOL_CONTAINER(cp, struct tpool, cp);
	tc->sent = -1;
	connpool_conn_add(cp, &tc->link);
	opened++;
}

static void t_close(struct connpool_conn *c)
{
	struct tconn *tc = CONNPOOL_CONTAINER(c, struct tconn, link);

	connpool_conn_remove(&tc->pool->cp, c);
	free(tc);
	closed++;
}

static void t_waiter_free(struct connpool_waiter *w)
{
	struct tcall *t = CONNPOOL_CONTAINER(w, struct tcall, w);

	assert_false(t->freed);
	t->freed = true;
}

static void t_free(struct connpool *cp)
{
	freed_pools++;
	free(CONNPOOL_CONTAINER(cp, struct tpool, cp));
}

static const struct connpool_ops t_ops = {
	.idle = t_idle,
	.send = t_send,
	.open = t_open,
	.close = t_close,
	.waiter_free = t_waiter_free,
	.free = t_free,
};

static void on_done(struct source_call *call, void *arg)
{
	struct tpool *p = destroy_on_done;

	(void)arg;
	assert_null(call->priv);
	done_order[ndone++] = (int)(call - calls);
	if (p != NULL) {
		destroy_on_done = NULL;
		connpool_destroy(&p->cp);
	}
}

static struct tpool *pool_new(long limit)
{
	struct tpool *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(connpool_init(&p->cp, base, &t_ops, limit), 0);
	return p;
}

/* Call i as a connector's start() sets it up (not queued yet). */
static struct connpool_waiter *call_new(struct tpool *p, int i)
{
	source_call_init(&calls[i], &rt, &q, on_done, NULL);
	calls[i].started = true;
	memset(&tcalls[i], 0, sizeof(tcalls[i]));
	tcalls[i].id = i;
	connpool_waiter_init(&tcalls[i].w, &p->cp, &calls[i]);
	calls[i].priv = &tcalls[i];
	return &tcalls[i].w;
}

static int reset(void **state)
{
	(void)state;
	opened = closed = freed_pools = sends = ndone = 0;
	open_fails = false;
	destroy_on_done = NULL;
	memset(done_order, -1, sizeof(done_order));
	return 0;
}

static int setup(void **state)
{
	(void)state;
	base = event_base_new();
	if (base == NULL)
		return -1;
	def.name = "connpool_test";
	def.max_rows = 10;
	def.max_bytes = 1000;
	def.breaker_failures = 1000000; /* failures here must not open it */
	def.breaker_cooldown_ms = 1;
	def.breaker = breaker_get("connpool_test");
	rt.def = &def;
	return def.breaker != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	event_base_free(base);
	breaker_shutdown();
	return 0;
}

static void test_queue_fifo(void **state)
{
	struct tpool *p = pool_new(1);
	struct connpool_waiter *w[NCALLS];

	(void)state;
	for (int i = 0; i < NCALLS; i++)
		w[i] = call_new(p, i);
	connpool_push(&p->cp, w[1], false);
	connpool_push(&p->cp, w[2], false);
	connpool_push(&p->cp, w[0], true); /* a retried call waits longest */
	connpool_push(&p->cp, w[3], false);
	assert_int_equal(p->cp.nqueued, 4);
	assert_ptr_equal(p->cp.qhead, w[0]);
	assert_ptr_equal(p->cp.qtail, w[3]);
	/* middle, then head, then tail */
	connpool_remove(&p->cp, w[2]);
	assert_false(w[2]->queued);
	assert_ptr_equal(w[1]->next, w[3]);
	assert_ptr_equal(w[3]->prev, w[1]);
	connpool_remove(&p->cp, w[2]); /* not queued: nothing */
	assert_int_equal(p->cp.nqueued, 3);
	connpool_remove(&p->cp, w[0]);
	assert_ptr_equal(p->cp.qhead, w[1]);
	assert_null(w[1]->prev);
	connpool_remove(&p->cp, w[3]);
	assert_ptr_equal(p->cp.qtail, w[1]);
	assert_null(w[1]->next);
	connpool_remove(&p->cp, w[1]);
	assert_null(p->cp.qhead);
	assert_null(p->cp.qtail);
	assert_int_equal(p->cp.nqueued, 0);
	connpool_destroy(&p->cp);
	assert_int_equal(freed_pools, 1);
}

static void test_pump_policy(void **state)
{
	struct tpool *p = pool_new(2);
	struct tconn *tc;

	(void)state;
	for (int i = 0; i < 3; i++)
		connpool_push(&p->cp, call_new(p, i), false);
	connpool_enter(&p->cp);
	connpool_pump(&p->cp);
	/* three waiting, limit two: two connections opening, none sent */
	assert_int_equal(opened, 2);
	assert_int_equal(p->cp.nconns, 2);
	assert_int_equal(p->cp.nopening, 2);
	assert_int_equal(sends, 0);
	connpool_pump(&p->cp); /* nothing changed: nothing more */
	assert_int_equal(opened, 2);

	/* the newest connection comes up: it serves every waiter in order */
	tc = CONNPOOL_CONTAINER(p->cp.conns, struct tconn, link);
	connpool_conn_opened(&p->cp, &tc->link);
	tc->idle = true;
	assert_int_equal(p->cp.nopening, 1);
	assert_ptr_equal(connpool_idle_conn(&p->cp), &tc->link);
	connpool_pump(&p->cp);
	assert_int_equal(sends, 3);
	assert_int_equal(ndone, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(done_order[i], i);
		assert_int_equal(calls[i].status, SOURCE_OK);
		assert_true(tcalls[i].freed);
	}
	assert_int_equal(tc->sent, 2);
	assert_int_equal(p->cp.nqueued, 0);

	/* one waiting, one still opening: no third connection */
	tc->idle = false;
	connpool_push(&p->cp, call_new(p, 3), false);
	connpool_pump(&p->cp);
	assert_int_equal(opened, 2);
	connpool_leave(&p->cp);
	assert_int_equal(freed_pools, 0);

	connpool_destroy(&p->cp);
	assert_int_equal(closed, 2);
	assert_int_equal(freed_pools, 1);
	/* the call still queued is let go, not finished */
	assert_null(tcalls[3].w.pool);
	assert_false(tcalls[3].w.queued);
	assert_false(calls[3].finished);

	/* under the limit: no more connections opening than calls waiting */
	p = pool_new(4);
	for (int i = 0; i < 2; i++)
		connpool_push(&p->cp, call_new(p, i), false);
	connpool_enter(&p->cp);
	connpool_pump(&p->cp);
	connpool_leave(&p->cp);
	assert_int_equal(opened, 4);
	assert_int_equal(p->cp.nopening, 2);
	connpool_destroy(&p->cp);
	assert_int_equal(closed, 4);
	assert_int_equal(freed_pools, 2);
}

static void test_failed_open_fails_head(void **state)
{
	struct tpool *p = pool_new(4);

	(void)state;
	for (int i = 0; i < 3; i++)
		connpool_push(&p->cp, call_new(p, i), false);
	open_fails = true;
	connpool_enter(&p->cp);
	connpool_pump(&p->cp);
	connpool_leave(&p->cp);
	/* each failed attempt answered exactly one call, oldest first */
	assert_int_equal(ndone, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(done_order[i], i);
		assert_int_equal(calls[i].status, SOURCE_ERROR);
		assert_string_equal(calls[i].reason, "connect: refused");
		assert_true(tcalls[i].freed);
	}
	assert_int_equal(p->cp.nqueued, 0);
	connpool_fail_head(&p->cp, "nobody waits"); /* nothing to fail */
	assert_int_equal(ndone, 3);
	connpool_destroy(&p->cp);
	assert_int_equal(freed_pools, 1);
}

static void test_schedule_runs_pump_from_loop(void **state)
{
	struct tpool *p = pool_new(1);

	(void)state;
	connpool_push(&p->cp, call_new(p, 0), false);
	connpool_schedule(&p->cp);
	assert_int_equal(opened, 0); /* not on the caller's stack */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(opened, 1);
	assert_int_equal(p->cp.depth, 0);
	connpool_destroy(&p->cp);
	assert_int_equal(closed, 1);
	assert_int_equal(freed_pools, 1);
	assert_null(tcalls[0].w.pool);
}

/* rt_free from inside a finish callback: the pool stays until the
 * outermost leave, the pump stops, the pump event does not fire. */
static void test_destroy_inside_callback(void **state)
{
	struct tpool *p = pool_new(4);

	(void)state;
	for (int i = 0; i < 3; i++)
		connpool_push(&p->cp, call_new(p, i), false);
	open_fails = true;
	destroy_on_done = p;
	connpool_enter(&p->cp);
	connpool_enter(&p->cp); /* nested, as pump inside an event callback */
	connpool_pump(&p->cp);
	assert_int_equal(ndone, 1);           /* stopped once dead */
	assert_true(p->cp.dead);
	assert_int_equal(freed_pools, 0);
	connpool_schedule(&p->cp);            /* dead: ignored */
	connpool_leave(&p->cp);
	assert_int_equal(freed_pools, 0);
	connpool_leave(&p->cp);
	assert_int_equal(freed_pools, 1);
	/* a pump event of the freed pool would fire here (ASan: use after free) */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(ndone, 1);
	for (int i = 1; i < 3; i++) {
		assert_null(tcalls[i].w.pool);
		assert_false(tcalls[i].w.queued);
		assert_false(tcalls[i].freed);
		assert_false(calls[i].finished);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_queue_fifo, reset),
		cmocka_unit_test_setup(test_pump_policy, reset),
		cmocka_unit_test_setup(test_failed_open_fails_head, reset),
		cmocka_unit_test_setup(test_schedule_runs_pump_from_loop, reset),
		cmocka_unit_test_setup(test_destroy_inside_callback, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
