/*
 * fanout: concurrent source calls for one search, and linked hops (see
 * fanout.h).
 *
 * Linked hops: an officer who searches a plate must also see the owner's
 * warnings, which live in person sources that only answer by national
 * number.  When a first-level answer names a person by national number (a
 * vehicle's owner, a firearm's holder, a resident at an address, a person
 * found by name), that number is searched in every source answering
 * national_number queries, within what is left of the same deadline.  Hops
 * are bounded: depth 1 only (a hop's answers start no further hops), at most
 * SEARCH_HOP_MAX distinct numbers per search, each number once, and none once
 * too little time is left for a source to answer.
 *
 * Calls are allocated one by one (their addresses are held by connectors
 * while they run), so hops can be added while others are in flight.
 */
#include "search/fanout.h"

#include <ctype.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/workpool.h"
#include "policy/policy.h"

#define SEARCH_HOP_MAX 4
/* Below this much time left, a hop could not answer; not worth starting. */
#define SEARCH_HOP_MIN_MS 20

struct search {
	struct loop *loop;
	struct source_set *sources; /* reference: the config this search runs on */
	struct query_request *req;
	struct search_hooks hooks;
	struct source_call **calls; /* owned, each owned */
	size_t ncalls, cap, pending;
	struct query hops[SEARCH_HOP_MAX]; /* hop queries (national_number) */
	char *hop_via[SEARCH_HOP_MAX];      /* what led to each hop, owned */
	size_t nhops, hops_skipped;
	long deadline_ms;
	uint64_t start_ns;
	double elapsed_ms;
	struct event *finish_ev;   /* defers on_done out of the call stacks */
	struct event *deadline_ev; /* the overall deadline */
	bool done;
	struct policy_plan *plan;  /* owned; NULL: every source (search_start) */
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
		if (s->calls[i]->started && !s->calls[i]->finished)
			source_call_cancel(s->calls[i]);
	s->elapsed_ms = loop_ms_since(s->start_ns);
	metrics_search_observe(s->elapsed_ms);
	metrics_inc(METRIC_SEARCHES);
	s->hooks.on_done(s, s->hooks.arg);
}

static void search_call_done(struct source_call *call, void *arg);

static struct source_call *search_add_call(struct search *s, struct source_rt *rt,
					   const struct query *q)
{
	struct source_call *call;

	if (s->ncalls == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct source_call **n = realloc(s->calls, ncap * sizeof(*n));

		if (n == NULL)
			return NULL;
		s->calls = n;
		s->cap = ncap;
	}
	call = calloc(1, sizeof(*call));
	if (call == NULL)
		return NULL;
	source_call_init(call, rt, q, search_call_done, s);
	s->calls[s->ncalls++] = call;
	return call;
}

/* Adds one call per source answering q's kind; returns the index of the
 * first added call (calls [first, s->ncalls) are new). */
static size_t search_plan(struct search *s, const struct query *q, unsigned depth,
			  const char *via)
{
	struct config *cfg = s->sources->cfg;
	size_t first = s->ncalls;
	struct source_call *call;

	for (size_t i = 0; i < cfg->nsources; i++) {
		if (!cfg->sources[i].queries[q->kind].present)
			continue;
		if (s->plan != NULL && !policy_plan_allows(s->plan, i))
			continue; /* denied by the access policy: never queried */
		call = search_add_call(s, &s->sources->rt[i], q);
		if (call == NULL)
			break; /* out of memory: the sources planned so far still answer */
		call->depth = depth;
		call->via = via;
	}
	return first;
}

static long search_remaining_ms(const struct search *s)
{
	return s->deadline_ms - (long)loop_ms_since(s->start_ns);
}

/* The SQLite calls' jobs reach the worker pool together when the loop is
 * done (one wake-up); the network calls started meanwhile go out first. */
static void search_start_calls(struct search *s, size_t first, long deadline_ms)
{
	size_t end = s->ncalls;
	struct workpool *pool = workpool_default();

	s->pending += end - first;
	workpool_batch_begin(pool);
	for (size_t i = first; i < end; i++)
		source_call_start(s->calls[i], deadline_ms);
	workpool_batch_end(pool);
}

/* The person identifier a record leads to, and how it was found.  Persons
 * lead on only from an address search (its residents): a person found by
 * name was already searched for in the person sources. */
static const char *hop_identifier(const struct record *r, enum query_kind asked, char *via,
				  size_t vialen)
{
	const char *nn = NULL;

	switch (r->kind) {
	case ENTITY_VEHICLE:
		nn = record_get(r, "owner_national_number");
		snprintf(via, vialen, "owner of vehicle %s",
			 record_get(r, "plate") ? record_get(r, "plate") : "?");
		break;
	case ENTITY_FIREARM:
		nn = record_get(r, "holder_national_number");
		snprintf(via, vialen, "holder of firearm %s",
			 record_get(r, "serial") ? record_get(r, "serial") : "?");
		break;
	case ENTITY_PERSON:
		if (asked != QUERY_ADDRESS)
			break;
		nn = record_get(r, "national_number");
		snprintf(via, vialen, "resident %s %s", record_get(r, "given_name") ? record_get(r, "given_name") : "",
			 record_get(r, "family_name") ? record_get(r, "family_name") : "");
		break;
	default:
		break;
	}
	return nn;
}

/* 11 digits of a national number however the source wrote it, or false. */
static bool hop_digits(const char *in, char out[12])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (isdigit((unsigned char)*in)) {
			if (n == 11)
				return false;
			out[n++] = *in;
		} else if (!strchr(" .-/", *in)) {
			return false;
		}
	}
	out[n] = '\0';
	return n == 11;
}

static bool search_already_asked(const struct search *s, const char *nn)
{
	for (size_t i = 0; i < s->req->ninterp; i++)
		if (s->req->interp[i].kind == QUERY_NATIONAL_NUMBER &&
		    s->req->interp[i].param[QP_NATIONAL_NUMBER] != NULL &&
		    strcmp(s->req->interp[i].param[QP_NATIONAL_NUMBER], nn) == 0)
			return true;
	for (size_t i = 0; i < s->nhops; i++)
		if (strcmp(s->hops[i].param[QP_NATIONAL_NUMBER], nn) == 0)
			return true;
	return false;
}

static void search_hop_one(struct search *s, const char *nn, const char *via)
{
	struct query *q = &s->hops[s->nhops];
	long left = search_remaining_ms(s);
	size_t first;

	if (left < SEARCH_HOP_MIN_MS || s->nhops == SEARCH_HOP_MAX) {
		s->hops_skipped++;
		return;
	}
	memset(q, 0, sizeof(*q));
	q->kind = QUERY_NATIONAL_NUMBER;
	q->param[QP_NATIONAL_NUMBER] = strdup(nn);
	q->read_as = malloc(strlen(via) + 40);
	s->hop_via[s->nhops] = strdup(via);
	if (q->param[QP_NATIONAL_NUMBER] == NULL || q->read_as == NULL ||
	    s->hop_via[s->nhops] == NULL) {
		free(q->param[QP_NATIONAL_NUMBER]);
		free(q->read_as);
		free(s->hop_via[s->nhops]);
		s->hop_via[s->nhops] = NULL;
		return;
	}
	snprintf(q->read_as, strlen(via) + 40, "national number %s (%s)", nn, via);
	first = search_plan(s, q, 1, s->hop_via[s->nhops]);
	s->nhops++;
	search_start_calls(s, first, left);
}

/* Starts the hops a first-level answer leads to. */
static void search_hops(struct search *s, const struct source_call *call)
{
	char via[160], nn[12];
	const char *id;

	if (call->depth > 0)
		return;
	for (size_t i = 0; i < call->records.n; i++) {
		id = hop_identifier(&call->records.items[i], call->query->kind, via, sizeof(via));
		if (id == NULL || !hop_digits(id, nn) || search_already_asked(s, nn))
			continue;
		search_hop_one(s, nn, via);
	}
}

static void search_call_done(struct source_call *call, void *arg)
{
	struct search *s = arg;

	/* redacted fields leave the records before anything else sees them */
	if (s->plan != NULL)
		policy_plan_redact(s->plan, call);
	if (s->hooks.on_source != NULL)
		s->hooks.on_source(s, call, s->hooks.arg);
	/* hops are added before this call is counted done, so the search cannot
	 * finish in between */
	if (!s->done)
		search_hops(s, call);
	if (--s->pending == 0)
		event_active(s->finish_ev, EV_TIMEOUT, 0);
}

int search_start(struct loop *loop, struct query_request *req, long deadline_ms,
		 const struct search_hooks *hooks, struct search **out, struct focal_err *err)
{
	return search_start_planned(loop, req, NULL, deadline_ms, hooks, out, err);
}

int search_start_planned(struct loop *loop, struct query_request *req, struct policy_plan *plan,
			 long deadline_ms, const struct search_hooks *hooks, struct search **out,
			 struct focal_err *err)
{
	struct search *s;
	struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		query_request_free(req);
		policy_plan_free(plan);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	s->plan = plan;
	s->loop = loop;
	s->req = req;
	s->hooks = *hooks;
	s->deadline_ms = deadline_ms;
	s->start_ns = loop_now_ns();
	if (loop->sources == NULL) {
		free(s);
		query_request_free(req);
		policy_plan_free(plan);
		return focal_err_set(err, FOCAL_E_UNAVAIL, "no sources configured");
	}
	s->sources = source_set_ref(loop->sources);
	s->finish_ev = event_new(loop->base, -1, 0, search_finish, s);
	s->deadline_ev = evtimer_new(loop->base, search_finish, s);
	if (s->finish_ev == NULL || s->deadline_ev == NULL) {
		search_free(s);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	for (size_t q = 0; q < req->ninterp; q++)
		search_plan(s, &req->interp[q], 0, NULL);
	s->pending = 1; /* held until every first-level call has started */
	evtimer_add(s->deadline_ev, &tv);
	search_start_calls(s, 0, deadline_ms);
	if (--s->pending == 0)
		event_active(s->finish_ev, EV_TIMEOUT, 0);
	*out = s;
	return FOCAL_OK;
}

void search_free(struct search *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ncalls; i++) {
		source_call_cancel(s->calls[i]);
		source_call_clear(s->calls[i]);
		free(s->calls[i]);
	}
	free(s->calls);
	for (size_t i = 0; i < s->nhops; i++) {
		free(s->hops[i].param[QP_NATIONAL_NUMBER]);
		free(s->hops[i].read_as);
		free(s->hop_via[i]);
	}
	if (s->finish_ev != NULL)
		event_free(s->finish_ev);
	if (s->deadline_ev != NULL)
		event_free(s->deadline_ev);
	source_set_unref(s->sources);
	query_request_free(s->req);
	policy_plan_free(s->plan);
	free(s);
}

void search_cancel(struct search *s)
{
	search_free(s);
}

const struct query_request *search_request(const struct search *s) { return s->req; }
size_t search_ncalls(const struct search *s) { return s->ncalls; }
const struct source_call *search_call(const struct search *s, size_t i) { return s->calls[i]; }
size_t search_nsources_total(const struct search *s) { return s->sources->cfg->nsources; }
double search_elapsed_ms(const struct search *s) { return s->elapsed_ms; }
size_t search_nhops(const struct search *s) { return s->nhops; }
size_t search_hops_skipped(const struct search *s) { return s->hops_skipped; }
struct policy_plan *search_plan_of(const struct search *s) { return s->plan; }
