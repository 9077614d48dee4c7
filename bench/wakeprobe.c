/*
 * wakeprobe: how late a thread runs after it should on this machine, under
 * whatever load runs beside it.  The benchmark runs it during its
 * half-saturation measurement, because there the target "p99 overhead
 * <= 2 ms" is set, and a search crosses several such wake-ups in series
 * (the client's request waking a loop, the audit writer, the workers, the
 * loop again, the client).  No design on these cores can have a p99 below
 * what the scheduler gives one wake-up.
 *
 * Two measures, each a sample every 2 ms (plus a pseudo-random phase) for
 * --duration seconds, at the default scheduling class like focald's threads:
 *   timer: a thread sleeps until an absolute time; lateness = when it runs
 *          minus that time (what cyclictest measures)
 *   wake:  one thread writes to an eventfd another thread blocks on;
 *          latency = when the reader runs minus just before the write
 * Prints one JSON object: p50/p99/max of each, in ms.  Only bench/run.sh
 * uses it.  Build: cc -O2 wakeprobe.c -lpthread -lm
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "samples.h"

#define PERIOD_NS 2000000LL

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *msg)
{
	fprintf(stderr, "wakeprobe: %s\n", msg);
	exit(1);
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000LL),
			       .tv_nsec = (long)(t % 1000000000LL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The next sample's time: a period plus up to a period of jitter, so the
 * probe does not lock step with anything periodic in the load. */
static int64_t next_at(int64_t t, uint32_t *rnd)
{
	*rnd = *rnd * 1664525u + 1013904223u;
	return t + PERIOD_NS + (int64_t)(*rnd >> 8) % PERIOD_NS;
}

struct waker {
	int efd;
	int64_t end_ns;
	struct samples lat;
	_Atomic int64_t sent_ns;
	_Atomic int stop;
};

static void *reader_main(void *arg)
{
	struct waker *w = arg;
	uint64_t v;

	for (;;) {
		if (read(w->efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			die("eventfd read failed");
		if (w->stop)
			return NULL;
		samples_add(&w->lat, (double)(now_ns() - w->sent_ns) / 1e6);
	}
}

int main(int argc, char **argv)
{
	double duration = argc > 2 && strcmp(argv[1], "--duration") == 0 ? atof(argv[2]) : 5.0;
	struct waker w = { 0 };
	struct samples timer = { 0 };
	pthread_t reader;
	uint32_t rnd = 12345;
	uint64_t one = 1;
	int64_t t;

	if (duration <= 0 || duration > 600)
		die("usage: wakeprobe [--duration S]  (0 < S <= 600)");
	if ((w.efd = eventfd(0, EFD_CLOEXEC)) < 0)
		die("eventfd failed");
	if (pthread_create(&reader, NULL, reader_main, &w) != 0)
		die("pthread_create failed");
	w.end_ns = now_ns() + (int64_t)(duration * 1e9);
	/* alternate: a timed sleep, then a cross-thread wake-up */
	for (t = next_at(now_ns(), &rnd); t < w.end_ns; t = next_at(t, &rnd)) {
		sleep_until(t);
		samples_add(&timer, (double)(now_ns() - t) / 1e6);
		t = next_at(t, &rnd);
		sleep_until(t);
		w.sent_ns = now_ns();
		if (write(w.efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			die("eventfd write failed");
	}
	sleep_until(now_ns() + 20 * PERIOD_NS); /* the last wake-up is read */
	w.stop = 1;
	if (write(w.efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		die("eventfd write failed");
	pthread_join(reader, NULL);
	samples_sort(&timer);
	samples_sort(&w.lat);
	printf("{\"duration_s\":%.1f,\"timer_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
	       "\"wake_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
	       duration, timer.n, samples_pct(&timer, 50), samples_pct(&timer, 99),
	       samples_max(&timer), w.lat.n, samples_pct(&w.lat, 50), samples_pct(&w.lat, 99),
	       samples_max(&w.lat));
	free(timer.v);
	free(w.lat.v);
	close(w.efd);
	return 0;
}
