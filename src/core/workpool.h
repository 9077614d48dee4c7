/*
 * workpool: a small pool of threads for work that must block (SQLite queries,
 * Argon2id, fsync), so the event loops never do.
 *
 * A job's run() executes on a worker; then its done() executes on the loop
 * that submitted it (through loop_post), where it may touch loop state.  The
 * queue is bounded: when it is full, submit fails at once rather than letting
 * latency grow without bound.
 */
#ifndef FOCAL_WORKPOOL_H
#define FOCAL_WORKPOOL_H

#include <stddef.h>

#include "core/err.h"
#include "core/loop.h"

struct work {
	struct loop_task task; /* internal: runs done() on the loop */
	void (*run)(struct work *w);  /* on a worker thread */
	void (*done)(struct work *w); /* on w->loop's thread, always called once */
	/* Optional, on the worker thread: called once the thread has run jobs of
	 * this kind (same run()) and is about to run another kind or to wait for
	 * work.  A connector that keeps per-thread state open across a run of its
	 * jobs (SQLite read transactions) closes it here, so nothing stays held
	 * while the thread does something else or sleeps. */
	void (*leave)(void);
	struct loop *loop;
	struct work *next;     /* internal */
};

struct workpool;

int workpool_create(size_t nthreads, size_t max_queued, struct workpool **out,
		    struct focal_err *err);
/* Stops the threads after the queued jobs have run (their done() are posted to
 * their loops).  NULL-safe. */
void workpool_destroy(struct workpool *p);
/* Queues w.  Returns FOCAL_E_UNAVAIL when the queue is full. */
int workpool_submit(struct workpool *p, struct work *w);
/* Between these, the calling thread's submits to p are held back and queued
 * together at the end, with one lock and one wake-up (a search's SQLite
 * calls; the network calls it starts meanwhile go out first).  Nestable;
 * NULL-safe.  The queue limit still applies to each submit. */
void workpool_batch_begin(struct workpool *p);
void workpool_batch_end(struct workpool *p);

/* The process-wide pool used by connectors (set by focald, tests). */
void workpool_set_default(struct workpool *p);
struct workpool *workpool_default(void);

#endif
