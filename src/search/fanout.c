/*
 * fanout: concurrent source calls for one search (see fanout.h).
 */
#include "search/fanout.h"

#include <event2/event.h>
#include <stdlib.h>

#include "core/metrics.h"

struct search {
	struct loop *loop;
	struct source_set *sources; /* reference: the config this search runs on */
	struct query_request *req;
	struct search_hooks hooks;
	struct source_call *calls;
	size_t ncalls, pending;
	uint64_t start_ns;
	double elapsed_ms;
	struct event *finish_ev;   /* defers on_done out of the call stacks */
	struct event *deadline_ev; /* the overall deadline */
	bool done;
};

static void search_finish(evutil_socket_t fd, short what, void *arg)
{
	struct search *s = arg;

	(void)fd;
	(void)what;
	if (s->done)
		return;
	s->done = true;
	/* a call still running here means the overall deadline passed first */
	for (size_t i = 0; i < s->ncalls; i++)
		if (s->calls[i].started && !s->calls[i].finished)
			source_call_cancel(&s->calls[i]);
	s->elapsed_ms = loop_ms_since(s->start_ns);
	metrics_search_observe(s->elapsed_ms);
	metrics_inc(METRIC_SEARCHES);
	s->hooks.on_done(s, s->hooks.arg);
}

static void search_call_done(struct source_call *call, void *arg)
{
	struct search *s = arg;

	if (s->hooks.on_source != NULL)
		s->hooks.on_source(s, call, s->hooks.arg);
	if (--s->pending == 0)
		event_active(s->finish_ev, EV_TIMEOUT, 0);
}

/* One call per (interpretation, source answering its kind). */
static size_t search_plan(struct search *s)
{
	struct config *cfg = s->sources->cfg;
	size_t n = 0;

	for (size_t q = 0; q < s->req->ninterp; q++)
		for (size_t i = 0; i < cfg->nsources; i++)
			if (cfg->sources[i].queries[s->req->interp[q].kind].present) {
				if (s->calls != NULL)
					source_call_init(&s->calls[n], &s->sources->rt[i],
							 &s->req->interp[q], search_call_done, s);
				n++;
			}
	return n;
}

int search_start(struct loop *loop, struct query_request *req, long deadline_ms,
		 const struct search_hooks *hooks, struct search **out, struct focal_err *err)
{
	struct search *s;
	struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
	size_t n;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		query_request_free(req);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	s->loop = loop;
	s->req = req;
	s->hooks = *hooks;
	s->start_ns = loop_now_ns();
	if (loop->sources == NULL) {
		free(s);
		query_request_free(req);
		return focal_err_set(err, FOCAL_E_UNAVAIL, "no sources configured");
	}
	s->sources = source_set_ref(loop->sources);
	n = search_plan(s);
	s->calls = calloc(n ? n : 1, sizeof(*s->calls));
	s->finish_ev = event_new(loop->base, -1, 0, search_finish, s);
	s->deadline_ev = evtimer_new(loop->base, search_finish, s);
	if (s->calls == NULL || s->finish_ev == NULL || s->deadline_ev == NULL) {
		search_free(s);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	s->ncalls = search_plan(s);
	s->pending = s->ncalls + 1; /* +1: no completion before every call started */
	evtimer_add(s->deadline_ev, &tv);
	for (size_t i = 0; i < s->ncalls; i++)
		source_call_start(&s->calls[i], deadline_ms);
	if (--s->pending == 0)
		event_active(s->finish_ev, EV_TIMEOUT, 0);
	*out = s;
	return FOCAL_OK;
}

void search_free(struct search *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->calls != NULL && i < s->ncalls; i++) {
		source_call_cancel(&s->calls[i]);
		source_call_clear(&s->calls[i]);
	}
	free(s->calls);
	if (s->finish_ev != NULL)
		event_free(s->finish_ev);
	if (s->deadline_ev != NULL)
		event_free(s->deadline_ev);
	source_set_unref(s->sources);
	query_request_free(s->req);
	free(s);
}

void search_cancel(struct search *s)
{
	search_free(s);
}

const struct query_request *search_request(const struct search *s) { return s->req; }
size_t search_ncalls(const struct search *s) { return s->ncalls; }
const struct source_call *search_call(const struct search *s, size_t i) { return &s->calls[i]; }
size_t search_nsources_total(const struct search *s) { return s->sources->cfg->nsources; }
double search_elapsed_ms(const struct search *s) { return s->elapsed_ms; }
