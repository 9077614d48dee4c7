/*
 * metrics: process-wide counters and histograms, rendered in the Prometheus
 * text exposition format at /metrics.  Updates are lock-free atomics so that
 * every loop can count without contention; per-source series are found by
 * source name once at configuration load.
 */
#ifndef FOCAL_METRICS_H
#define FOCAL_METRICS_H

#include <stddef.h>

struct source_metrics;

enum metric_counter {
	METRIC_SEARCHES = 0,      /* searches answered */
	METRIC_SEARCHES_REJECTED, /* refused (bad request, unauthenticated, overload) */
	METRIC_HTTP_REQUESTS,
	METRIC_CONNECTIONS_REFUSED,
	METRIC_CONFIG_RELOADS,
	METRIC_CONFIG_RELOAD_FAILURES,
	METRIC__COUNT
};

void metrics_inc(enum metric_counter c);
void metrics_connections_add(long delta); /* open connections gauge */
void metrics_search_observe(double ms);   /* end-to-end search latency */

struct source_metrics *metrics_source(const char *name); /* created on first use */
/* status is enum source_status; ms its duration. */
void metrics_source_observe(struct source_metrics *m, int status, double ms);

/* A snapshot of one source's series (the admin console's source table):
 * calls by enum source_status, latency count, mean and the upper bound of the
 * histogram bucket holding the 95th percentile (0 without calls). */
struct metrics_source_stats {
	unsigned long long calls[8]; /* index: enum source_status */
	unsigned long long latency_count;
	double latency_mean_ms, latency_p95_ms;
};
void metrics_source_stats(struct source_metrics *m, struct metrics_source_stats *out);

/* The whole text; caller frees.  NULL on allocation failure. */
char *metrics_render(void);
void metrics_shutdown(void);

#endif
