/*
 * throttle: see throttle.h.
 *
 * The table is open-addressed over THROTTLE_SLOTS entries with a probe of
 * THROTTLE_PROBE; when all probed slots are in use the one whose window is
 * oldest is reused (an attacker who floods the table from many addresses can
 * evict entries, but then each of those addresses gets only `limit` tries
 * per window, which is the point).
 */
#include "auth/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/strhash.h"

#define THROTTLE_SLOTS 4096
#define THROTTLE_PROBE 8

struct throttle_slot {
	char addr[64];
	int64_t start; /* first counted failure of the window */
	long count;
};

static pthread_mutex_t throttle_mu = PTHREAD_MUTEX_INITIALIZER;
static struct throttle_slot throttle_tab[THROTTLE_SLOTS];
static long throttle_limit = 20, throttle_window = 300;

void throttle_configure(long limit, long window_s)
{
	pthread_mutex_lock(&throttle_mu);
	throttle_limit = limit;
	throttle_window = window_s;
	pthread_mutex_unlock(&throttle_mu);
}

void throttle_reset(void)
{
	pthread_mutex_lock(&throttle_mu);
	memset(throttle_tab, 0, sizeof(throttle_tab));
	pthread_mutex_unlock(&throttle_mu);
}

/* Under throttle_mu: the slot of addr, or NULL; with create, a fresh one. */
static struct throttle_slot *throttle_slot(const char *addr, int64_t now, bool create)
{
	size_t h = (size_t)strhash(addr);
	struct throttle_slot *victim = NULL;

	for (size_t i = 0; i < THROTTLE_PROBE; i++) {
		struct throttle_slot *s = &throttle_tab[(h + i) % THROTTLE_SLOTS];
		bool stale = s->addr[0] == '\0' || now - s->start >= throttle_window;

		if (s->addr[0] != '\0' && strcmp(s->addr, addr) == 0) {
			if (now - s->start >= throttle_window) {
				s->start = now; /* window over: start again */
				s->count = 0;
			}
			return s;
		}
		if (victim == NULL || stale || (victim->addr[0] != '\0' && s->start < victim->start))
			if (victim == NULL || victim->addr[0] != '\0')
				victim = s;
	}
	if (!create)
		return NULL;
	snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	victim->start = now;
	victim->count = 0;
	return victim;
}

bool throttle_allowed(const char *addr, int64_t now)
{
	struct throttle_slot *s;
	bool ok;

	pthread_mutex_lock(&throttle_mu);
	s = throttle_limit > 0 ? throttle_slot(addr, now, false) : NULL;
	ok = s == NULL || s->count < throttle_limit;
	pthread_mutex_unlock(&throttle_mu);
	return ok;
}

void throttle_fail(const char *addr, int64_t now)
{
	struct throttle_slot *s;

	pthread_mutex_lock(&throttle_mu);
	if (throttle_limit > 0 && (s = throttle_slot(addr, now, true)) != NULL)
		s->count++;
	pthread_mutex_unlock(&throttle_mu);
}
