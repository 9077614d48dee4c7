/*
 * audit_bench: durable audit appends per second with group commit
 * (src/audit/audit.h), as searches make them: each writer thread submits an
 * entry the size of a search's begin entry and waits until it is durable
 * (fdatasync) before submitting the next, like api.c waits before asking
 * any source.  Concurrent writers share fsyncs; the run prints appends/s,
 * fsyncs/s and entries per fsync at 1, 8, 64 and 512 writers (a closed loop:
 * throughput is at most writers / fsync latency, so the 512 row shows what
 * the single writer thread sustains when enough searches are in flight).  Prints, asserts
 * nothing.  Built by meson, not by default:
 *
 *   ninja -C build tests/audit_bench && build/tests/audit_bench [seconds] [dir] [every|interval]
 *
 * every (default): a signed checkpoint with every group commit, as focald
 * runs by default (audit.sign_every_commit); interval: one per second only.
 * dir (default: a new folder under /tmp) should be on the disk the real log
 * will use: fsync cost is the disk's.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/log.h"

static atomic_bool stop;
static atomic_ullong done_count;

static json_t *entry(unsigned long i)
{
	return json_pack("{s:{s:s, s:s, s:s, s:[s], s:s, s:s}, s:s, s:s, s:{s:s, s:[{s:s, s:{s:s}}]},"
			 " s:[s], s:[s, s, s], s:[], s:I}",
			 "who", "user", "jpeeters", "name", "Jan Peeters", "unit", "ANT-PATROL-3",
			 "roles", "officer", "device", "VEH-1234", "addr", "10.1.2.3", "purpose",
			 "traffic_stop", "case_ref", "PV-2026-0042", "query", "text", "1-ABC-123",
			 "interpretations", "kind", "plate", "params", "plate", "1ABC123",
			 "subjects", "1ABC123", "sources", "dmv", "wanted", "insurance",
			 "sources_denied", "n", (json_int_t)i);
}

static void *writer(void *arg)
{
	unsigned long i = 0;
	struct focal_err err;

	(void)arg;
	while (!atomic_load(&stop)) {
		if (audit_submit_wait("search.begin", entry(i++), NULL, &err) != 0) {
			fprintf(stderr, "audit_bench: %s\n", err.msg);
			exit(1);
		}
		atomic_fetch_add(&done_count, 1);
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const int writers[] = { 1, 8, 64, 512 };
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 3;
	char dir[256], key[300];
	struct focal_err err;

	if (argc > 2)
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	else if (snprintf(dir, sizeof(dir), "/tmp/focal-audit-bench-XXXXXX") < 0 ||
		 mkdtemp(dir) == NULL)
		return perror("mkdtemp"), 1;
	snprintf(key, sizeof(key), "%s/audit-key.pem", dir);
	log_set_level(LOG_ERROR); /* no key or checkpoint lines in the output */
	audit_set_sign_every_commit(!(argc > 3 && strcmp(argv[3], "interval") == 0));
	if (audit_open_dir(dir, key, true, 1000, &err) != 0) {
		fprintf(stderr, "audit_bench: %s\n", err.msg);
		return 1;
	}
	printf("durable audit appends (fdatasync, group commit) in %s, %.0f s per run, "
	       "checkpoint signed %s\n", dir, seconds,
	       argc > 3 && strcmp(argv[3], "interval") == 0 ? "every second" : "with every commit");
	printf("%8s %14s %12s %16s\n", "writers", "appends/s", "fsyncs/s", "entries/fsync");
	for (size_t k = 0; k < sizeof(writers) / sizeof(writers[0]); k++) {
		pthread_t th[512];
		uint64_t e0, f0, e1, f1;
		double t0, t1;

		atomic_store(&stop, false);
		atomic_store(&done_count, 0);
		audit_stats(&e0, &f0);
		t0 = now_s();
		for (int i = 0; i < writers[k]; i++)
			pthread_create(&th[i], NULL, writer, NULL);
		usleep((useconds_t)(seconds * 1e6));
		atomic_store(&stop, true);
		for (int i = 0; i < writers[k]; i++)
			pthread_join(th[i], NULL);
		t1 = now_s();
		audit_stats(&e1, &f1);
		printf("%8d %14.0f %12.0f %16.1f\n", writers[k], (double)(e1 - e0) / (t1 - t0),
		       (double)(f1 - f0) / (t1 - t0),
		       f1 > f0 ? (double)(e1 - e0) / (double)(f1 - f0) : 0.0);
		fflush(stdout);
	}
	audit_close();
	return 0;
}
