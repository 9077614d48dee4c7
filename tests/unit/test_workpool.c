/*
 * test_workpool: blocking work off the event loop (core/workpool.h): run()
 * on a worker thread, done() back on the loop thread, a bounded queue, and a
 * destroy that drains what was queued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>
#include <event2/event.h>

#include "core/loop.h"
#include "core/workpool.h"

struct job {
	struct work work; /* first: run/done get &work */
	pthread_t run_thread, done_thread;
	atomic_bool ran;
	bool done;
	int seq; /* order in which done() ran */
	bool block; /* wait for the gate before returning from run() */
};

static struct loop loop;
static pthread_t loop_thread;
static int done_count, done_target;

/* The gate that blocking jobs wait on. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, blocker_started;

static void job_run(struct work *w)
{
	struct job *j = (struct job *)w;

	j->run_thread = pthread_self();
	if (j->block) {
		pthread_mutex_lock(&gate_mu);
		blocker_started = true;
		pthread_cond_broadcast(&gate_cv);
		while (!gate_open)
			pthread_cond_wait(&gate_cv, &gate_mu);
		pthread_mutex_unlock(&gate_mu);
	}
	atomic_store(&j->ran, true);
}

static void job_done(struct work *w)
{
	struct job *j = (struct job *)w;

	j->done_thread = pthread_self();
	j->done = true;
	j->seq = done_count++;
	if (done_count >= done_target)
		event_base_loopbreak(loop.base);
}

static void job_init(struct job *j, bool block)
{
	memset(j, 0, sizeof(*j));
	j->work.run = job_run;
	j->work.done = job_done;
	j->work.loop = &loop;
	j->block = block;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
	event_base_loopbreak(loop.base);
}

/* Runs the loop until done_count reaches target; false after 5 s. */
static bool run_until(int target)
{
	struct timeval tv = { 5, 0 };
	bool timed_out = false;
	struct event *t = evtimer_new(loop.base, on_timeout, &timed_out);

	done_target = target;
	evtimer_add(t, &tv);
	while (done_count < target && !timed_out)
		event_base_loop(loop.base, EVLOOP_NO_EXIT_ON_EMPTY);
	event_free(t);
	return done_count >= target;
}

static void wait_blocker_started(void)
{
	pthread_mutex_lock(&gate_mu);
	while (!blocker_started)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void open_gate(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static int setup(void **state)
{
	struct focal_err err;

	(void)state;
	if (loop_global_init(&err) != 0 || loop_init(&loop, 0, &err) != 0)
		return -1;
	loop_thread = pthread_self();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	loop_fini(&loop);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	done_count = 0;
	gate_open = false;
	blocker_started = false;
	return 0;
}

static void test_threads(void **state)
{
	enum { NJOBS = 16 };
	static struct job jobs[NJOBS];
	struct workpool *p = NULL;
	struct focal_err err;

	(void)state;
	assert_int_equal(workpool_create(3, 64, &p, &err), 0);
	assert_non_null(p);
	for (int i = 0; i < NJOBS; i++) {
		job_init(&jobs[i], false);
		assert_int_equal(workpool_submit(p, &jobs[i].work), 0);
	}
	assert_true(run_until(NJOBS));
	for (int i = 0; i < NJOBS; i++) {
		assert_true(atomic_load(&jobs[i].ran));
		assert_true(jobs[i].done);
		/* run() on a worker, done() on the loop's thread */
		assert_false(pthread_equal(jobs[i].run_thread, loop_thread));
		assert_true(pthread_equal(jobs[i].done_thread, loop_thread));
	}
	workpool_destroy(p);
	assert_int_equal(done_count, NJOBS); /* each done() exactly once */
}

static void test_bounded_queue(void **state)
{
	static struct job blocker, b, c, d;
	struct workpool *p = NULL;
	struct focal_err err;

	(void)state;
	assert_int_equal(workpool_create(1, 2, &p, &err), 0);
	job_init(&blocker, true);
	job_init(&b, false);
	job_init(&c, false);
	job_init(&d, false);
	assert_int_equal(workpool_submit(p, &blocker.work), 0);
	wait_blocker_started(); /* the only worker is busy, the queue is empty */
	assert_int_equal(workpool_submit(p, &b.work), 0);
	assert_int_equal(workpool_submit(p, &c.work), 0);
	/* full: refused at once, not queued */
	assert_int_equal(workpool_submit(p, &d.work), FOCAL_E_UNAVAIL);
	open_gate();
	assert_true(run_until(3));
	assert_true(blocker.done && b.done && c.done);
	assert_false(atomic_load(&d.ran));
	assert_false(d.done);
	/* in submission order on one worker */
	assert_int_equal(blocker.seq, 0);
	assert_int_equal(b.seq, 1);
	assert_int_equal(c.seq, 2);
	/* room again once drained */
	job_init(&d, false);
	assert_int_equal(workpool_submit(p, &d.work), 0);
	assert_true(run_until(4));
	assert_true(d.done);
	workpool_destroy(p);
}

static void test_destroy_drains(void **state)
{
	enum { NJOBS = 10 };
	static struct job blocker, jobs[NJOBS];
	struct workpool *p = NULL;
	struct focal_err err;

	(void)state;
	assert_int_equal(workpool_create(1, 100, &p, &err), 0);
	workpool_set_default(p);
	assert_ptr_equal(workpool_default(), p);
	job_init(&blocker, true);
	assert_int_equal(workpool_submit(p, &blocker.work), 0);
	wait_blocker_started();
	for (int i = 0; i < NJOBS; i++) {
		job_init(&jobs[i], false);
		assert_int_equal(workpool_submit(p, &jobs[i].work), 0);
	}
	open_gate();
	workpool_destroy(p); /* returns once every queued job has run */
	assert_null(workpool_default());
	assert_true(atomic_load(&blocker.ran));
	for (int i = 0; i < NJOBS; i++)
		assert_true(atomic_load(&jobs[i].ran));
	/* their done() were posted to the loop and run there */
	assert_int_equal(done_count, 0);
	assert_true(run_until(NJOBS + 1));
	for (int i = 0; i < NJOBS; i++) {
		assert_true(jobs[i].done);
		assert_true(pthread_equal(jobs[i].done_thread, loop_thread));
	}
	workpool_destroy(NULL);
}

static struct workpool *helper_pool;

static void *helper_submit(void *arg)
{
	assert_int_equal(workpool_submit(helper_pool, arg), 0);
	return NULL;
}

/* A batch holds the loop thread's jobs back until it ends, then queues them
 * in order; the queue limit counts them while held; other threads' submits
 * are not held. */
static void test_batch(void **state)
{
	static struct job a, b, c, refused, other;
	struct workpool *p = NULL;
	struct focal_err err;
	pthread_t helper;

	(void)state;
	assert_int_equal(workpool_create(1, 3, &p, &err), 0);
	helper_pool = p;
	job_init(&a, false);
	job_init(&b, false);
	job_init(&c, false);
	job_init(&refused, false);
	job_init(&other, false);
	workpool_batch_begin(p);
	workpool_batch_begin(p); /* nested: only the outer end queues */
	assert_int_equal(workpool_submit(p, &a.work), 0);
	assert_int_equal(workpool_submit(p, &b.work), 0);
	workpool_batch_end(p);
	assert_int_equal(workpool_submit(p, &c.work), 0);
	/* another thread's job: queued at once, so it runs before the held ones
	 * (one worker, first in first out) */
	assert_int_equal(pthread_create(&helper, NULL, helper_submit, &other.work), 0);
	assert_int_equal(pthread_join(helper, NULL), 0);
	assert_true(run_until(1));
	assert_true(other.done);
	assert_int_equal(other.seq, 0);
	assert_false(a.done || b.done || c.done);
	/* nothing queued (other ran) + 3 held = the limit: a fourth is refused */
	assert_int_equal(workpool_submit(p, &refused.work), FOCAL_E_UNAVAIL);
	workpool_batch_end(p);
	assert_true(run_until(4));
	assert_int_equal(a.seq, 1);
	assert_int_equal(b.seq, 2);
	assert_int_equal(c.seq, 3);
	assert_false(atomic_load(&refused.ran));
	workpool_batch_end(p);   /* unbalanced: ignored */
	workpool_batch_begin(NULL); /* NULL-safe */
	workpool_batch_end(NULL);
	workpool_destroy(p);
}

/* work.leave: a worker that ran jobs of one kind calls their leave() before
 * it runs a job of another kind, and before it waits for work; never
 * between two jobs of the same kind.  The log is written by the single
 * worker only, and read after the jobs' done() (posted after leave). */
static char leave_log[32];
static size_t leave_len;

static void log_char(char c)
{
	if (leave_len + 1 < sizeof(leave_log))
		leave_log[leave_len++] = c;
}

static void kind_a_run(struct work *w) { log_char('a'); job_run(w); }
static void kind_b_run(struct work *w) { log_char('b'); job_run(w); }
static void kind_a_leave(void) { log_char('L'); }

static void test_leave(void **state)
{
	static struct job blocker, a1, a2, b1, a3;
	struct workpool *p = NULL;
	struct focal_err err;

	(void)state;
	memset(leave_log, 0, sizeof(leave_log));
	leave_len = 0;
	assert_int_equal(workpool_create(1, 16, &p, &err), 0);
	job_init(&blocker, true);
	assert_int_equal(workpool_submit(p, &blocker.work), 0);
	wait_blocker_started(); /* queue the rest behind it, in one run */
	job_init(&a1, false);
	job_init(&a2, false);
	job_init(&b1, false);
	job_init(&a3, false);
	a1.work.run = a2.work.run = a3.work.run = kind_a_run;
	a1.work.leave = a2.work.leave = a3.work.leave = kind_a_leave;
	b1.work.run = kind_b_run;
	assert_int_equal(workpool_submit(p, &a1.work), 0);
	assert_int_equal(workpool_submit(p, &a2.work), 0);
	assert_int_equal(workpool_submit(p, &b1.work), 0);
	assert_int_equal(workpool_submit(p, &a3.work), 0);
	open_gate();
	assert_true(run_until(5));
	workpool_destroy(p);
	/* a, a, then leave before b; a3 last, then leave before waiting */
	assert_string_equal(leave_log, "aaLbaL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_threads, reset),
		cmocka_unit_test_setup(test_bounded_queue, reset),
		cmocka_unit_test_setup(test_destroy_drains, reset),
		cmocka_unit_test_setup(test_batch, reset),
		cmocka_unit_test_setup(test_leave, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
