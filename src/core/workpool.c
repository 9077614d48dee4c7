/*
 * workpool: blocking work off the event loops (see workpool.h).
 */
#include "core/workpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct workpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct work *head, *tail;
	atomic_size_t queued;  /* changed under mu; read without it by a batch */
	size_t max_queued;
	atomic_bool stopping;  /* likewise */
	pthread_t *threads;
	size_t nthreads;
};

/* The calling thread's open batch (workpool_batch_begin): jobs held back
 * until the batch ends, then queued under one lock with one wake-up.  A
 * search's 24 SQLite jobs used to cost 24 lock round trips and 24 signals,
 * each waking a worker that then fought the loop for the lock. */
static _Thread_local struct {
	struct workpool *pool;
	struct work *head, *tail;
	size_t n;
	unsigned depth;
} batch;

static struct workpool *default_pool;

void workpool_set_default(struct workpool *p) { default_pool = p; }
struct workpool *workpool_default(void) { return default_pool; }

static void workpool_finish(struct loop_task *t)
{
	struct work *w = (struct work *)t; /* task is the first member */

	w->done(w);
}

/* Finished jobs a worker holds back while more work is queued, to post
 * their done() to the loop together: one wake-up of the loop for up to this
 * many jobs rather than one each.  Small enough that a result waits at most
 * a few hundred microseconds behind short jobs (an indexed SQLite lookup:
 * tens of microseconds); a search finishes with its last call anyway. */
#define WORKPOOL_HOLD_MAX 16

struct held {
	struct work *head, *tail;
	size_t n;
};

static void held_flush(struct held *h)
{
	if (h->n == 0)
		return;
	loop_post_list(h->head->loop, &h->head->task, &h->tail->task);
	h->head = h->tail = NULL;
	h->n = 0;
}

/* w has run: held back, or posted with the others (one loop per chain). */
static void held_add(struct held *h, struct work *w)
{
	w->task.fn = workpool_finish;
	if (h->n > 0 && (h->head->loop != w->loop || h->n == WORKPOOL_HOLD_MAX))
		held_flush(h);
	if (h->n == 0)
		h->head = w;
	else
		h->tail->task.next = &w->task;
	h->tail = w;
	h->n++;
}

/* What the thread last ran, for work.leave (workpool.h). */
struct last_kind {
	void (*run)(struct work *w);
	void (*leave)(void);
};

static void last_kind_leave(struct last_kind *k)
{
	if (k->leave != NULL)
		k->leave();
	k->run = NULL;
	k->leave = NULL;
}

static void *workpool_main(void *arg)
{
	struct workpool *p = arg;
	struct held held = { NULL, NULL, 0 };
	struct last_kind last = { NULL, NULL };
	struct work *w;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->head == NULL && (held.n > 0 || last.leave != NULL)) {
			/* nothing more to do now: never wait with results or state held;
			 * state first, so a result seen on the loop implies it is let go */
			pthread_mutex_unlock(&p->mu);
			last_kind_leave(&last);
			held_flush(&held);
			continue;
		}
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		w = p->head;
		if (w == NULL) { /* stopping and drained */
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		p->head = w->next;
		if (p->head == NULL)
			p->tail = NULL;
		atomic_fetch_sub(&p->queued, 1);
		pthread_mutex_unlock(&p->mu);

		if (last.run != w->run)
			last_kind_leave(&last);
		/* read before run: once posted, w may be freed by its loop */
		last.run = w->run;
		last.leave = w->leave;
		w->run(w);
		held_add(&held, w);
	}
}

int workpool_create(size_t nthreads, size_t max_queued, struct workpool **out,
		    struct focal_err *err)
{
	struct workpool *p;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	p->threads = calloc(nthreads, sizeof(*p->threads));
	if (p->threads == NULL) {
		free(p);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->max_queued = max_queued;
	for (; p->nthreads < nthreads; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], NULL, workpool_main, p) != 0) {
			workpool_destroy(p);
			return focal_err_set(err, FOCAL_E_INTERNAL, "cannot start worker thread");
		}
	}
	*out = p;
	return FOCAL_OK;
}

void workpool_destroy(struct workpool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stopping, true);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	if (default_pool == p)
		default_pool = NULL;
	free(p);
}

/* Queues the list head..tail of n jobs and wakes as many workers. */
static void workpool_enqueue(struct workpool *p, struct work *head, struct work *tail, size_t n)
{
	if (p->tail != NULL)
		p->tail->next = head;
	else
		p->head = head;
	p->tail = tail;
	atomic_fetch_add(&p->queued, n);
	if (n == 1)
		pthread_cond_signal(&p->cv);
	else
		pthread_cond_broadcast(&p->cv);
}

void workpool_batch_begin(struct workpool *p)
{
	if (p == NULL)
		return;
	if (batch.depth > 0 && batch.pool != p)
		return; /* another pool's batch is open: this one submits at once */
	if (batch.depth++ == 0)
		batch.pool = p;
}

void workpool_batch_end(struct workpool *p)
{
	if (p == NULL || batch.depth == 0 || batch.pool != p || --batch.depth > 0)
		return;
	if (batch.n > 0) {
		pthread_mutex_lock(&p->mu);
		workpool_enqueue(p, batch.head, batch.tail, batch.n);
		pthread_mutex_unlock(&p->mu);
	}
	batch.pool = NULL;
	batch.head = batch.tail = NULL;
	batch.n = 0;
}

int workpool_submit(struct workpool *p, struct work *w)
{
	if (p == NULL)
		return FOCAL_E_UNAVAIL;
	w->next = NULL;
	if (batch.depth > 0 && batch.pool == p) {
		/* the limit counts what is held back too; queued only falls meanwhile */
		if (atomic_load(&p->stopping) || atomic_load(&p->queued) + batch.n >= p->max_queued)
			return FOCAL_E_UNAVAIL;
		if (batch.tail != NULL)
			batch.tail->next = w;
		else
			batch.head = w;
		batch.tail = w;
		batch.n++;
		return FOCAL_OK;
	}
	pthread_mutex_lock(&p->mu);
	if (p->stopping || p->queued >= p->max_queued) {
		pthread_mutex_unlock(&p->mu);
		return FOCAL_E_UNAVAIL;
	}
	workpool_enqueue(p, w, w, 1);
	pthread_mutex_unlock(&p->mu);
	return FOCAL_OK;
}
