/*
 * breaker: a circuit breaker per source, shared by all loops and kept across
 * configuration reloads (found by source name).
 *
 * After `failures` consecutive failures (error or timeout) the circuit opens:
 * the source is reported "unavailable" without being asked, so a dead agency
 * costs nothing.  After `cooldown_ms` one search is let through as a probe
 * (half-open); its success closes the circuit, its failure opens it again.
 */
#ifndef FOCAL_BREAKER_H
#define FOCAL_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

struct breaker;

/* The breaker for name, created on first use; lives until breaker_shutdown. */
struct breaker *breaker_get(const char *name);
/* May a call go out now?  In half-open state only one probe at a time. */
bool breaker_allow(struct breaker *b, uint64_t now_ns);
/* Records an outcome of a call that breaker_allow let through. */
void breaker_record(struct breaker *b, bool success, long failures, long cooldown_ms,
		    uint64_t now_ns);
bool breaker_is_open(struct breaker *b);
/* Calls fn for every breaker (metrics). */
void breaker_foreach(void (*fn)(const char *name, bool open, void *arg), void *arg);
void breaker_shutdown(void);

#endif
