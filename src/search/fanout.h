/*
 * fanout: one officer search in flight.
 *
 * search_start() asks every source that answers one of the request's
 * interpretations, all at once, each under its own deadline and within the
 * search's overall deadline; a source that is slow, failing or answering
 * garbage only ever affects its own status line.  Hooks report each source as
 * it completes (the SSE stream) and the end of the search.
 *
 * When an answer names a person by national number (a vehicle's owner, a
 * firearm's holder, a resident), that number is searched too, within the same
 * deadline (linked hops, bounded; see fanout.c); hop calls have depth 1 and
 * say what led to them (source_call.via).
 *
 * A search lives on one loop and is touched only from that loop's thread.
 */
#ifndef FOCAL_FANOUT_H
#define FOCAL_FANOUT_H

#include <jansson.h>

#include "core/err.h"
#include "core/loop.h"
#include "search/query.h"
#include "sources/source.h"

struct search;

struct search_hooks {
	/* After each source call finishes (may be NULL). */
	void (*on_source)(struct search *s, const struct source_call *call, void *arg);
	/* Once, when every call has finished or the overall deadline passed;
	 * never from inside search_start(). The hook may call search_free(). */
	void (*on_done)(struct search *s, void *arg);
	void *arg;
};

/* Starts a search on loop with the loop's current sources.  Takes ownership of
 * req in every case.  *out is owned by the caller: search_free() after on_done,
 * or search_cancel() before (client gone). */
int search_start(struct loop *loop, struct query_request *req, long deadline_ms,
		 const struct search_hooks *hooks, struct search **out, struct focal_err *err);
/* The same under an access-policy plan (policy.h), owned by the search from
 * here on in every case: a source the plan denies is never queried, and each
 * answer is redacted by the plan before on_source sees it. */
struct policy_plan;
int search_start_planned(struct loop *loop, struct query_request *req, struct policy_plan *plan,
			 long deadline_ms, const struct search_hooks *hooks, struct search **out,
			 struct focal_err *err);
/* The plan the search runs under (NULL for search_start). */
struct policy_plan *search_plan_of(const struct search *s);
/* Stops every call still running and frees the search; no hook runs after. */
void search_cancel(struct search *s);
void search_free(struct search *s);

/* Read access for the briefing. */
const struct query_request *search_request(const struct search *s);
size_t search_ncalls(const struct search *s);
const struct source_call *search_call(const struct search *s, size_t i);
size_t search_nsources_total(const struct search *s);
double search_elapsed_ms(const struct search *s);
/* Linked hops started, and hops not started (limit or deadline). */
size_t search_nhops(const struct search *s);
size_t search_hops_skipped(const struct search *s);

#endif
