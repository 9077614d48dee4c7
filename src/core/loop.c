/*
 * loop: event loop threads and the cross-thread post queue (see loop.h).
 */
#include "core/loop.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void loop_drain(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	struct loop_task *t, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&l->post_mu);
	t = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_mu);
	/* run in submission order; a task may post more (they run next round) */
	for (; t != NULL; t = next) {
		next = t->next;
		t->next = NULL;
		t->fn(t);
	}
}

int loop_global_init(struct focal_err *err)
{
	if (evthread_use_pthreads() != 0)
		return focal_err_set(err, FOCAL_E_INTERNAL, "libevent: no pthreads support");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return focal_err_set(err, FOCAL_E_INTERNAL, "libcurl: global init failed");
	return FOCAL_OK;
}

int loop_init(struct loop *l, unsigned id, struct focal_err *err)
{
	struct event_config *ec;

	memset(l, 0, sizeof(*l));
	l->id = id;
	pthread_mutex_init(&l->post_mu, NULL);
	ec = event_config_new();
	if (ec == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	/* precise timers: source deadlines are in milliseconds */
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	l->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (l->base == NULL)
		return focal_err_set(err, FOCAL_E_INTERNAL, "libevent: cannot create event base");
	/* persistent, activated by loop_post from any thread */
	l->post_ev = event_new(l->base, -1, EV_PERSIST, loop_drain, l);
	if (l->post_ev == NULL) {
		event_base_free(l->base);
		l->base = NULL;
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	return FOCAL_OK;
}

void loop_fini(struct loop *l)
{
	if (l->base == NULL)
		return;
	for (int i = 0; i < LOOP_SLOT__COUNT; i++) {
		if (l->slot[i] != NULL && l->slot_free[i] != NULL)
			l->slot_free[i](l->slot[i]);
		l->slot[i] = NULL;
	}
	event_free(l->post_ev);
	event_base_free(l->base);
	pthread_mutex_destroy(&l->post_mu);
	l->base = NULL;
}

void loop_post(struct loop *l, struct loop_task *task)
{
	task->next = NULL;
	loop_post_list(l, task, task);
}

void loop_post_list(struct loop *l, struct loop_task *first, struct loop_task *last)
{
	last->next = NULL;
	pthread_mutex_lock(&l->post_mu);
	if (l->post_tail != NULL)
		l->post_tail->next = first;
	else
		l->post_head = first;
	l->post_tail = last;
	pthread_mutex_unlock(&l->post_mu);
	event_active(l->post_ev, EV_READ, 0);
}

uint64_t loop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double loop_ms_since(uint64_t start_ns)
{
	return (double)(loop_now_ns() - start_ns) / 1e6;
}
