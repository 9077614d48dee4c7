/*
 * loop: one event loop thread of focald.
 *
 * focald runs one libevent loop per core.  Each loop accepts its own HTTPS
 * connections (SO_REUSEPORT) and drives every outgoing query it starts to
 * completion on the same thread, so a search never needs a lock.  Work that
 * must block (SQLite, password hashing, fsync) goes to the worker pool, whose
 * results come back to the loop through loop_post().
 *
 * Connectors keep per-loop state (a curl multi handle, connection pools) in
 * the loop's connector slots; each loop frees its own state on its own thread.
 */
#ifndef FOCAL_LOOP_H
#define FOCAL_LOOP_H

#include <pthread.h>
#include <stdint.h>

#include "core/err.h"

struct event_base;
struct event;
struct source_set;

/* A function to run on a loop thread. */
struct loop_task {
	void (*fn)(struct loop_task *task);
	struct loop_task *next;
};

enum loop_slot { LOOP_SLOT_HTTP = 0, LOOP_SLOT_PG, LOOP_SLOT_LDAP, LOOP_SLOT__COUNT };

struct loop {
	unsigned id;
	struct event_base *base;
	struct event *post_ev;
	pthread_mutex_t post_mu;
	struct loop_task *post_head, *post_tail;
	pthread_t thread;

	/* per-loop connector state, created lazily by the connector and freed
	 * at loop_fini with the matching destructor */
	void *slot[LOOP_SLOT__COUNT];
	void (*slot_free[LOOP_SLOT__COUNT])(void *state);

	struct source_set *sources; /* current sources of this loop (see source.h) */
	void *owner;                /* the server that runs this loop */
};

/* Creates the event base and the post queue (needs evthread_use_pthreads()
 * first, done by loop_global_init). */
int loop_init(struct loop *l, unsigned id, struct focal_err *err);
/* Frees connector slots, pending tasks are dropped.  Call on the loop's own
 * thread after its event loop has ended, or before it ever ran. */
void loop_fini(struct loop *l);

/* Thread-safe: queues task to run on l's thread and wakes the loop. */
void loop_post(struct loop *l, struct loop_task *task);
/* The same for the chain first..last (linked by next), with one wake-up. */
void loop_post_list(struct loop *l, struct loop_task *first, struct loop_task *last);

/* Once per process: libevent threading, curl global init. */
int loop_global_init(struct focal_err *err);

/* Monotonic clock in nanoseconds / milliseconds. */
uint64_t loop_now_ns(void);
double loop_ms_since(uint64_t start_ns);

#endif
