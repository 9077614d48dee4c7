/*
 * source: the life of one source call, shared by every connector (see
 * source.h).  Deadlines, the circuit breaker, row and byte limits and metrics
 * live here once, so that a connector only has to speak its protocol.
 */
#include "sources/source.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "sources/breaker.h"

static const struct connector *const connectors[] = {
	&connector_sqlite, &connector_pg, &connector_http, &connector_ldap,
};

const struct connector *connector_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(connectors) / sizeof(connectors[0]); i++)
		if (strcmp(connectors[i]->kind, kind) == 0)
			return connectors[i];
	return NULL;
}

const char *connector_kinds(void)
{
	return "sqlite, postgres, http, ldap";
}

static const char *const status_names[] = {
	[SOURCE_PENDING] = "pending",  [SOURCE_OK] = "ok",
	[SOURCE_TRUNCATED] = "truncated", [SOURCE_TIMEOUT] = "timeout",
	[SOURCE_ERROR] = "error",      [SOURCE_UNAVAILABLE] = "unavailable",
	[SOURCE_SKIPPED] = "skipped",
};

const char *source_status_name(enum source_status s)
{
	return (unsigned)s <= SOURCE_SKIPPED ? status_names[s] : "unknown";
}

int source_set_new(struct loop *loop, struct config *cfg, struct source_set **out,
		   struct focal_err *err)
{
	struct source_set *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	s->rt = calloc(cfg->nsources ? cfg->nsources : 1, sizeof(*s->rt));
	if (s->rt == NULL) {
		free(s);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	s->cfg = config_ref(cfg);
	s->loop = loop;
	s->refs = 1;
	for (size_t i = 0; i < cfg->nsources; i++) {
		s->rt[i].def = &cfg->sources[i];
		s->rt[i].cfg = cfg;
		s->rt[i].loop = loop;
	}
	*out = s;
	return FOCAL_OK;
}

struct source_set *source_set_ref(struct source_set *s)
{
	s->refs++;
	return s;
}

void source_set_unref(struct source_set *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->cfg->nsources; i++) {
		struct source_rt *rt = &s->rt[i];

		if (rt->state != NULL && rt->def->conn->rt_free != NULL)
			rt->def->conn->rt_free(rt);
	}
	free(s->rt);
	config_unref(s->cfg);
	free(s);
}

void source_call_init(struct source_call *call, struct source_rt *rt, const struct query *q,
		      source_call_cb on_done, void *arg)
{
	memset(call, 0, sizeof(*call));
	call->rt = rt;
	call->def = rt->def;
	call->loop = rt->loop;
	call->query = q;
	call->on_done = on_done;
	call->arg = arg;
	record_set_init(&call->records);
}

static void source_call_record(struct source_call *call)
{
	const struct source_def *def = call->def;
	bool failed = call->status == SOURCE_ERROR || call->status == SOURCE_TIMEOUT;

	if (call->status != SOURCE_UNAVAILABLE && call->status != SOURCE_SKIPPED)
		breaker_record(def->breaker, !failed, def->breaker_failures,
			       def->breaker_cooldown_ms, loop_now_ns());
	metrics_source_observe(def->metrics, (int)call->status, call->ms);
}

static void source_call_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct source_call *call = arg;

	(void)fd;
	(void)what;
	if (call->finished)
		return;
	/* the connector lets go first; afterwards it may never call back */
	if (call->def->conn->cancel != NULL)
		call->def->conn->cancel(call);
	call->priv = NULL;
	record_set_clear(&call->records);
	call->rows = 0;
	source_call_finish(call, SOURCE_TIMEOUT, "no answer within %ld ms", call->deadline_ms);
}

void source_call_start(struct source_call *call, long deadline_ms)
{
	long ms = call->def->deadline_ms;
	struct timeval tv;

	call->started = true;
	call->start_ns = loop_now_ns();
	if (deadline_ms > 0 && deadline_ms < ms)
		ms = deadline_ms;
	call->deadline_ms = ms;
	if (!call->def->queries[call->query->kind].present) {
		call->finished = true;
		call->status = SOURCE_SKIPPED;
		snprintf(call->reason, sizeof(call->reason), "does not answer %s queries",
			 query_kind_name(call->query->kind));
		if (call->on_done)
			call->on_done(call, call->arg);
		return;
	}
	if (!breaker_allow(call->def->breaker, call->start_ns)) {
		call->finished = true;
		call->status = SOURCE_UNAVAILABLE;
		snprintf(call->reason, sizeof(call->reason),
			 "circuit open after repeated failures; probed again later");
		metrics_source_observe(call->def->metrics, SOURCE_UNAVAILABLE, 0);
		if (call->on_done)
			call->on_done(call, call->arg);
		return;
	}
	call->deadline_ev = evtimer_new(call->loop->base, source_call_deadline, call);
	if (call->deadline_ev == NULL) {
		source_call_finish(call, SOURCE_ERROR, "out of memory");
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(call->deadline_ev, &tv);
	call->def->conn->start(call);
}

void source_call_cancel(struct source_call *call)
{
	if (!call->started || call->finished)
		return;
	if (call->def->conn->cancel != NULL)
		call->def->conn->cancel(call);
	call->priv = NULL;
	call->finished = true;
	call->status = SOURCE_TIMEOUT;
	snprintf(call->reason, sizeof(call->reason), "cancelled");
	call->ms = loop_ms_since(call->start_ns);
	if (call->deadline_ev != NULL)
		evtimer_del(call->deadline_ev);
	source_call_record(call);
}

void source_call_clear(struct source_call *call)
{
	if (call->deadline_ev != NULL) {
		event_free(call->deadline_ev);
		call->deadline_ev = NULL;
	}
	record_set_clear(&call->records);
}

int source_call_add_row(struct source_call *call, mapping_get_fn get, void *row)
{
	struct focal_err err;
	int rc;

	if (call->rows >= (size_t)call->def->max_rows || call->records.bytes >= (size_t)call->def->max_bytes) {
		call->status = SOURCE_TRUNCATED;
		return 1;
	}
	rc = mapping_apply(&call->def->map, call->def->name, get, row, &call->records, &err);
	if (rc != 0) {
		snprintf(call->reason, sizeof(call->reason), "%s", err.msg);
		return rc;
	}
	call->rows++;
	if (call->records.bytes > (size_t)call->def->max_bytes) {
		call->status = SOURCE_TRUNCATED;
		return 1;
	}
	return 0;
}

void source_call_finish(struct source_call *call, enum source_status st, const char *fmt, ...)
{
	va_list ap;

	if (call->finished)
		return;
	call->finished = true;
	if (st == SOURCE_OK && call->status == SOURCE_TRUNCATED) {
		st = SOURCE_TRUNCATED;
		snprintf(call->reason, sizeof(call->reason), "row or byte limit reached (%ld rows, %ld bytes)",
			 call->def->max_rows, call->def->max_bytes);
	} else if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(call->reason, sizeof(call->reason), fmt, ap);
		va_end(ap);
	}
	call->status = st;
	if (st == SOURCE_ERROR || st == SOURCE_TIMEOUT) {
		/* a failed source contributes no partial data */
		record_set_clear(&call->records);
		call->rows = 0;
	}
	call->ms = loop_ms_since(call->start_ns);
	if (call->deadline_ev != NULL)
		evtimer_del(call->deadline_ev);
	source_call_record(call);
	if (call->on_done != NULL)
		call->on_done(call, call->arg);
}
