/*
 * workpool: blocking work off the event loops (see workpool.h).
 */
#include "core/workpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct workpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct work *head, *tail;
	size_t queued, max_queued;
	bool stopping;
	pthread_t *threads;
	size_t nthreads;
};

static struct workpool *default_pool;

void workpool_set_default(struct workpool *p) { default_pool = p; }
struct workpool *workpool_default(void) { return default_pool; }

static void workpool_finish(struct loop_task *t)
{
	struct work *w = (struct work *)t; /* task is the first member */

	w->done(w);
}

static void *workpool_main(void *arg)
{
	struct workpool *p = arg;
	struct work *w;

	for (;;) {
		pthread_mutex_lock(&p->mu);
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
		p->queued--;
		pthread_mutex_unlock(&p->mu);

		w->run(w);
		w->task.fn = workpool_finish;
		loop_post(w->loop, &w->task);
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
	p->stopping = true;
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

int workpool_submit(struct workpool *p, struct work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->stopping || p->queued >= p->max_queued) {
		pthread_mutex_unlock(&p->mu);
		return FOCAL_E_UNAVAIL;
	}
	if (p->tail != NULL)
		p->tail->next = w;
	else
		p->head = w;
	p->tail = w;
	p->queued++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return FOCAL_OK;
}
