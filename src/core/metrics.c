/*
 * metrics: Prometheus text exposition of focald's counters (see metrics.h).
 * Histograms keep cumulative-by-render buckets in milliseconds and the sum in
 * microseconds, all as relaxed atomics: a scrape may be a hair inconsistent,
 * which Prometheus tolerates, and no loop ever waits on a lock to count.
 */
#include "core/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/breaker.h"
#include "sources/source.h"

static const double bucket_ms[] = { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000 };
#define NBUCKETS (sizeof(bucket_ms) / sizeof(bucket_ms[0]))

struct histogram {
	atomic_ullong bucket[NBUCKETS + 1]; /* last: +Inf */
	atomic_ullong count;
	atomic_ullong sum_us;
};

struct source_metrics {
	char *name;
	struct histogram latency;
	atomic_ullong status[SOURCE_SKIPPED + 1];
	struct source_metrics *next;
};

static const char *const counter_names[METRIC__COUNT][2] = {
	{ "focal_searches_total", "Searches answered." },
	{ "focal_searches_rejected_total", "Searches refused (bad request, unauthenticated, overload)." },
	{ "focal_http_requests_total", "HTTP requests received." },
	{ "focal_connections_refused_total", "Connections closed at once because of the connection cap." },
	{ "focal_config_reloads_total", "Successful configuration reloads." },
	{ "focal_config_reload_failures_total", "Rejected configuration reloads." },
};

static atomic_ullong counters[METRIC__COUNT];
static atomic_long connections_open;
static struct histogram search_latency;
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct source_metrics *registry;

void metrics_inc(enum metric_counter c) { atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed); }
void metrics_connections_add(long delta) { atomic_fetch_add(&connections_open, delta); }

static void histogram_observe(struct histogram *h, double ms)
{
	size_t i;

	for (i = 0; i < NBUCKETS && ms > bucket_ms[i]; i++)
		;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (unsigned long long)(ms * 1000.0), memory_order_relaxed);
}

void metrics_search_observe(double ms) { histogram_observe(&search_latency, ms); }

struct source_metrics *metrics_source(const char *name)
{
	struct source_metrics *m;

	pthread_mutex_lock(&registry_mu);
	for (m = registry; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			goto out;
	m = calloc(1, sizeof(*m));
	if (m != NULL && (m->name = strdup(name)) == NULL) {
		free(m);
		m = NULL;
	}
	if (m != NULL) {
		m->next = registry;
		registry = m;
	}
out:
	pthread_mutex_unlock(&registry_mu);
	return m;
}

void metrics_source_observe(struct source_metrics *m, int status, double ms)
{
	if (m == NULL || status < 0 || status > SOURCE_SKIPPED)
		return;
	atomic_fetch_add_explicit(&m->status[status], 1, memory_order_relaxed);
	if (status != SOURCE_UNAVAILABLE && status != SOURCE_SKIPPED)
		histogram_observe(&m->latency, ms);
}

void metrics_source_stats(struct source_metrics *m, struct metrics_source_stats *out)
{
	unsigned long long cum = 0, count;

	memset(out, 0, sizeof(*out));
	if (m == NULL)
		return;
	for (int s = 0; s <= SOURCE_SKIPPED && s < 8; s++)
		out->calls[s] = atomic_load_explicit(&m->status[s], memory_order_relaxed);
	count = atomic_load_explicit(&m->latency.count, memory_order_relaxed);
	out->latency_count = count;
	if (count == 0)
		return;
	out->latency_mean_ms = (double)atomic_load(&m->latency.sum_us) / 1000.0 / (double)count;
	for (size_t i = 0; i <= NBUCKETS; i++) {
		cum += atomic_load_explicit(&m->latency.bucket[i], memory_order_relaxed);
		if (cum * 100 >= count * 95) {
			/* beyond the last bound: report the last bound, the best we know */
			out->latency_p95_ms = bucket_ms[i < NBUCKETS ? i : NBUCKETS - 1];
			return;
		}
	}
	out->latency_p95_ms = bucket_ms[NBUCKETS - 1];
}

struct out {
	char *p;
	size_t len, cap;
	bool failed;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		char *np = realloc(o->p, o->cap * 2 + (size_t)n);
		if (np == NULL) {
			o->failed = true;
			return;
		}
		o->p = np;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

static void histogram_render(struct out *o, const char *name, const char *labels,
			     struct histogram *h)
{
	unsigned long long cum = 0;

	for (size_t i = 0; i <= NBUCKETS; i++) {
		cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		if (i < NBUCKETS)
			out_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
				   *labels ? "," : "", bucket_ms[i] / 1000.0, cum);
		else
			out_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
				   *labels ? "," : "", cum);
	}
	out_printf(o, "%s_sum{%s} %.6f\n", name, labels,
		   (double)atomic_load(&h->sum_us) / 1e6);
	out_printf(o, "%s_count{%s} %llu\n", name, labels, atomic_load(&h->count));
}

static void breaker_line(const char *name, bool open, void *arg)
{
	out_printf(arg, "focal_source_circuit_open{source=\"%s\"} %d\n", name, open ? 1 : 0);
}

char *metrics_render(void)
{
	struct out o = { .cap = 8192 };
	char labels[200];

	o.p = malloc(o.cap);
	if (o.p == NULL)
		return NULL;
	o.p[0] = '\0';
	for (int i = 0; i < METRIC__COUNT; i++)
		out_printf(&o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", counter_names[i][0],
			   counter_names[i][1], counter_names[i][0], counter_names[i][0],
			   atomic_load(&counters[i]));
	out_printf(&o, "# HELP focal_connections_open Client connections open.\n"
		       "# TYPE focal_connections_open gauge\nfocal_connections_open %ld\n",
		   atomic_load(&connections_open));
	out_printf(&o, "# HELP focal_search_duration_seconds End-to-end search latency.\n"
		       "# TYPE focal_search_duration_seconds histogram\n");
	histogram_render(&o, "focal_search_duration_seconds", "", &search_latency);

	out_printf(&o, "# HELP focal_source_duration_seconds Latency of each source.\n"
		       "# TYPE focal_source_duration_seconds histogram\n");
	pthread_mutex_lock(&registry_mu);
	for (struct source_metrics *m = registry; m != NULL; m = m->next) {
		snprintf(labels, sizeof(labels), "source=\"%s\"", m->name);
		histogram_render(&o, "focal_source_duration_seconds", labels, &m->latency);
	}
	out_printf(&o, "# HELP focal_source_calls_total Source calls by outcome "
		       "(timeout, error, unavailable = circuit open).\n"
		       "# TYPE focal_source_calls_total counter\n");
	for (struct source_metrics *m = registry; m != NULL; m = m->next)
		for (int s = SOURCE_OK; s <= SOURCE_UNAVAILABLE; s++)
			out_printf(&o, "focal_source_calls_total{source=\"%s\",status=\"%s\"} %llu\n",
				   m->name, source_status_name((enum source_status)s),
				   atomic_load(&m->status[s]));
	pthread_mutex_unlock(&registry_mu);
	out_printf(&o, "# HELP focal_source_circuit_open 1 while the source's circuit breaker "
		       "is open.\n# TYPE focal_source_circuit_open gauge\n");
	breaker_foreach(breaker_line, &o);
	if (o.failed) {
		free(o.p);
		return NULL;
	}
	return o.p;
}

void metrics_shutdown(void)
{
	struct source_metrics *m, *next;

	pthread_mutex_lock(&registry_mu);
	for (m = registry; m != NULL; m = next) {
		next = m->next;
		free(m->name);
		free(m);
	}
	registry = NULL;
	pthread_mutex_unlock(&registry_mu);
}
