/*
 * breaker: per-source circuit breakers (see breaker.h).  A short mutex per
 * breaker is enough: it is taken twice per source call, never across I/O.
 */
#include "sources/breaker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
	char *name;
	pthread_mutex_t mu;
	enum breaker_state state;
	long consecutive_failures;
	uint64_t open_until_ns;
	bool probe_in_flight;
	struct breaker *next;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct breaker *registry;

struct breaker *breaker_get(const char *name)
{
	struct breaker *b;

	pthread_mutex_lock(&registry_mu);
	for (b = registry; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			goto out;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto out;
	b->name = strdup(name);
	if (b->name == NULL) {
		free(b);
		b = NULL;
		goto out;
	}
	pthread_mutex_init(&b->mu, NULL);
	b->next = registry;
	registry = b;
out:
	pthread_mutex_unlock(&registry_mu);
	return b;
}

bool breaker_allow(struct breaker *b, uint64_t now_ns)
{
	bool allow = true;

	pthread_mutex_lock(&b->mu);
	switch (b->state) {
	case BREAKER_CLOSED:
		break;
	case BREAKER_OPEN:
		if (now_ns >= b->open_until_ns) {
			b->state = BREAKER_HALF_OPEN; /* let one probe through */
			b->probe_in_flight = true;
		} else {
			allow = false;
		}
		break;
	case BREAKER_HALF_OPEN:
		if (b->probe_in_flight)
			allow = false;
		else
			b->probe_in_flight = true;
		break;
	}
	pthread_mutex_unlock(&b->mu);
	return allow;
}

void breaker_record(struct breaker *b, bool success, long failures, long cooldown_ms,
		    uint64_t now_ns)
{
	pthread_mutex_lock(&b->mu);
	b->probe_in_flight = false;
	if (success) {
		b->state = BREAKER_CLOSED;
		b->consecutive_failures = 0;
	} else if (b->state == BREAKER_HALF_OPEN || ++b->consecutive_failures >= failures) {
		b->state = BREAKER_OPEN;
		b->open_until_ns = now_ns + (uint64_t)cooldown_ms * 1000000u;
	}
	pthread_mutex_unlock(&b->mu);
}

bool breaker_is_open(struct breaker *b)
{
	bool open;

	pthread_mutex_lock(&b->mu);
	open = b->state != BREAKER_CLOSED;
	pthread_mutex_unlock(&b->mu);
	return open;
}

void breaker_foreach(void (*fn)(const char *name, bool open, void *arg), void *arg)
{
	pthread_mutex_lock(&registry_mu);
	for (struct breaker *b = registry; b != NULL; b = b->next)
		fn(b->name, breaker_is_open(b), arg);
	pthread_mutex_unlock(&registry_mu);
}

void breaker_shutdown(void)
{
	struct breaker *b, *next;

	pthread_mutex_lock(&registry_mu);
	for (b = registry; b != NULL; b = next) {
		next = b->next;
		pthread_mutex_destroy(&b->mu);
		free(b->name);
		free(b);
	}
	registry = NULL;
	pthread_mutex_unlock(&registry_mu);
}
