/*
 * audit_query_bench: how long oversight takes over a big audit log.
 *
 * Writes a log of N entries (default 1,000,000) through the real writer
 * (src/audit/audit.c: group commit, checkpoints every second), shaped like
 * focald's: searches as a search.begin entry (who, purpose, case, query,
 * subjects, 40 planned sources) followed by its search.end (per-source
 * status and the SHA-256 of every record shown), with an occasional login.
 * 2,000 officers look up subjects drawn from 200,000 plates and names; the
 * plate "1-BNC-042" and the user "agent0042" are the ones asked about.
 * Then times, in this process, what focald runs on its worker pool:
 *
 *   who-looked-up 1-BNC-042   audit_query_run(subject)  (GET /v1/audit/lookups?subject=)
 *   user-activity agent0042   audit_query_run(user)     (GET /v1/audit/lookups?user=)
 *   alerts                    audit_query_run("alert.")  (GET /v1/audit/alerts)
 *   full verification         audit_verify_dir           (focald's start, `focal audit verify`)
 *   status, full / incremental  audit_status_json        (GET /v1/audit/status)
 *
 * Each query is run RUNS times (default 3); the best and the worst are
 * printed (the first run reads the file from disk unless the page cache
 * holds it).  Prints, asserts nothing.  Built by meson, not by default:
 *
 *   ninja -C build tests/audit_query_bench &&
 *     build/tests/audit_query_bench [N] [dir] [RUNS]
 *
 * With dir naming an existing log (audit.log and audit-key.pem there), the
 * writing is skipped and only the queries run.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_log.h"
#include "audit/audit_query.h"
#include "audit/audit_status.h"
#include "audit/audit_verify.h"
#include "core/log.h"

#define WRITERS 64

static atomic_ulong next_entry;
static unsigned long total_entries;
static int runs = 3;

/* A deterministic pseudo-random number from i (splitmix64). */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The subject of search k: 1 in 50,000 the plate asked about, else one of
 * 100,000 plates or 100,000 names. */
static void subject_of(uint64_t k, char *query, size_t qlen, char *key, size_t klen)
{
	uint64_t r = mix(k);

	if (r % 50000 == 7) {
		snprintf(query, qlen, "1-BNC-042");
		snprintf(key, klen, "1BNC042");
	} else if (r & 1) {
		unsigned p = (unsigned)(r >> 8) % 100000;

		snprintf(query, qlen, "%u-%c%c%c-%03u", 1 + p % 9, 'A' + p % 26, 'A' + p / 26 % 26,
			 'A' + p / 676 % 26, p % 1000);
		snprintf(key, klen, "%u%c%c%c%03u", 1 + p % 9, 'A' + p % 26, 'A' + p / 26 % 26,
			 'A' + p / 676 % 26, p % 1000);
	} else {
		unsigned n = (unsigned)(r >> 8) % 100000;

		snprintf(query, qlen, "Jan%u Peeters%u", n % 500, n / 500);
		snprintf(key, klen, "jan%u peeters%u", n % 500, n / 500);
	}
}

static json_t *who_json(uint64_t k)
{
	char user[32], unit[32];
	unsigned u = (unsigned)(mix(k ^ 0x5555) % 2000);

	snprintf(user, sizeof(user), "agent%04u", u);
	snprintf(unit, sizeof(unit), "ANT-PATROL-%u", u % 40);
	return json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s, s:s, s:b, s:b}", "user", user, "name",
			 "Officer Name", "unit", unit, "roles", "officer", "clearance", "restricted",
			 "device", "VEH-1234", "addr", "10.1.2.3", "mfa", 1, "device_cert", 0);
}

static json_t *begin_entry(uint64_t k)
{
	char q[64], key[64], name[32];
	json_t *sources = json_array();

	subject_of(k, q, sizeof(q), key, sizeof(key));
	for (int s = 0; s < 40; s++) {
		snprintf(name, sizeof(name), "source-%02d", s);
		json_array_append_new(sources, json_string(name));
	}
	return json_pack("{s:o, s:s, s:s, s:{s:s, s:[{s:s, s:{s:s}}]}, s:[s], s:o, s:[]}", "who",
			 who_json(k), "purpose", "traffic_stop", "case_ref", "PV-2026-0042", "query",
			 "text", q, "interpretations", "kind", "plate", "params", "plate", key,
			 "subjects", key, "sources", sources, "sources_denied");
}

static json_t *end_entry(uint64_t k, uint64_t begin_seq)
{
	char q[64], key[64], name[32], digest[65];
	json_t *sources = json_array(), *records = json_array();

	subject_of(k, q, sizeof(q), key, sizeof(key));
	for (int s = 0; s < 40; s++) {
		snprintf(name, sizeof(name), "source-%02d", s);
		json_array_append_new(sources, json_pack("{s:s, s:s, s:i, s:f}", "name", name, "status",
							 "ok", "rows", s % 7 == 0, "ms", 3.25));
	}
	for (int r = 0; r < 5; r++) {
		uint64_t h = mix(k * 8 + (uint64_t)r);

		snprintf(digest, sizeof(digest), "%016llx%016llx%016llx%016llx",
			 (unsigned long long)h, (unsigned long long)mix(h), (unsigned long long)mix(h + 1),
			 (unsigned long long)mix(h + 2));
		json_array_append_new(records, json_pack("{s:s, s:s, s:s}", "sha256", digest, "kind",
							 "vehicle", "source", "source-03"));
	}
	return json_pack("{s:I, s:s, s:{s:s, s:s, s:s, s:s}, s:i, s:o, s:o, s:[s, s], s:s, s:s,"
			 " s:{s:s}}",
			 "search", (json_int_t)begin_seq, "status", "done", "who", "user", "agent",
			 "unit", "ANT", "device", "VEH-1234", "addr", "10.1.2.3", "hits", 5, "sources",
			 sources, "records", records, "subjects", key, "85073003328", "purpose",
			 "traffic_stop", "case_ref", "PV-2026-0042", "query", "text", q);
}

/* Each writer: a search (begin, then end naming it), now and then a login. */
static void *writer(void *arg)
{
	struct focal_err err;
	uint64_t seq;

	(void)arg;
	for (;;) {
		unsigned long k = atomic_fetch_add(&next_entry, 2);

		if (k >= total_entries)
			break;
		if (mix(k) % 20 == 0) {
			if (audit_submit_wait("auth.login", json_pack("{s:o}", "who", who_json(k)), NULL,
					      &err) != 0)
				goto fail;
			continue;
		}
		if (audit_submit_wait("search.begin", begin_entry(k), &seq, &err) != 0 ||
		    audit_submit_wait("search.end", end_entry(k, seq), NULL, &err) != 0)
			goto fail;
	}
	return NULL;
fail:
	fprintf(stderr, "audit_query_bench: %s\n", err.msg);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: the figure other load on the machine does not
 * inflate (the queries run on this one thread; the writer is closed). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_query(const char *dir, const char *label, const struct audit_query *q)
{
	double best = 1e9, worst = 0, cpu = 1e9;
	size_t rows = 0;

	for (int i = 0; i < runs; i++) {
		struct focal_err err;
		char *out = NULL;
		double t0 = now_s(), c0 = cpu_s(), t;

		if (audit_query_run(dir, q, AUDIT_FORMAT_JSONL, &out, &err) != 0) {
			fprintf(stderr, "audit_query_bench: %s: %s\n", label, err.msg);
			exit(1);
		}
		t = now_s() - t0;
		cpu = cpu_s() - c0 < cpu ? cpu_s() - c0 : cpu;
		best = t < best ? t : best;
		worst = t > worst ? t : worst;
		rows = 0;
		for (const char *p = out; *p; p++)
			rows += *p == '\n';
		free(out);
	}
	printf("%-34s %8.2f s %8.2f s %8.2f s %8zu rows\n", label, best, worst, cpu, rows);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	static const struct {
		const char *label;
		struct audit_query q;
	} queries[] = {
		{ "who-looked-up 1-BNC-042", { .subject = "1-BNC-042" } },
		{ "who-looked-up \"jan7 peeters3\"", { .subject = "jan7 peeters3" } },
		{ "user-activity agent0042", { .user = "agent0042" } },
		{ "alerts", { .type_prefix = "alert." } },
	};
	char dir[256], key[300], lp[300];
	struct focal_err err;
	struct stat st;
	EVP_PKEY *pub = NULL;
	double t0;

	if (argc > 3 && (runs = (int)strtol(argv[3], NULL, 10)) < 1)
		runs = 1;
	if (argc > 2)
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	else if (snprintf(dir, sizeof(dir), "/tmp/focal-audit-query-bench-XXXXXX") < 0 ||
		 mkdtemp(dir) == NULL)
		return perror("mkdtemp"), 1;
	snprintf(key, sizeof(key), "%s/audit-key.pem", dir);
	snprintf(lp, sizeof(lp), "%s/%s", dir, AUDIT_LOG_NAME);
	log_set_level(LOG_ERROR);
	if (stat(lp, &st) != 0) {
		pthread_t th[WRITERS];

		total_entries = n;
		t0 = now_s();
		if (audit_open_dir(dir, key, true, 1000, &err) != 0) {
			fprintf(stderr, "audit_query_bench: %s\n", err.msg);
			return 1;
		}
		for (int i = 0; i < WRITERS; i++)
			pthread_create(&th[i], NULL, writer, NULL);
		for (int i = 0; i < WRITERS; i++)
			pthread_join(th[i], NULL);
		audit_close();
		printf("wrote the log in %.0f s\n", now_s() - t0);
		if (stat(lp, &st) != 0)
			return perror(lp), 1;
	}
	if (audit_log_key_public(key, &pub, &err) != 0) {
		fprintf(stderr, "audit_query_bench: %s\n", err.msg);
		return 1;
	}
	{
		struct audit_verify_result res;
		double c0 = cpu_s();

		t0 = now_s();
		if (audit_verify_dir(dir, pub, false, &res, &err) != 0) {
			fprintf(stderr, "audit_query_bench: %s\n", err.msg);
			return 1;
		}
		printf("log %s: %llu entries, %.0f MB, %llu checkpoints\n", dir,
		       (unsigned long long)res.entries, (double)st.st_size / 1e6,
		       (unsigned long long)res.checkpoints);
		printf("%-34s %8s   %8s   %8s\n", "", "wall best", "worst", "CPU");
		printf("%-34s %8.2f s %10s %8.2f s\n", "full verification (verify_dir)", now_s() - t0,
		       "", cpu_s() - c0);
	}
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		run_query(dir, queries[i].label, &queries[i].q);
	{
		json_t *o;

		double c0;

		audit_status_reset();
		t0 = now_s();
		c0 = cpu_s();
		o = audit_status_json(dir, pub, false);
		printf("%-34s %8.2f s %10s %8.2f s  (%s)\n", "status, first call (full)", now_s() - t0,
		       "", cpu_s() - c0, json_string_value(json_object_get(o, "verification")));
		json_decref(o);
		t0 = now_s();
		o = audit_status_json(dir, pub, false);
		printf("%-34s %8.4f s  (%s, %lld entries read)\n", "status, next call", now_s() - t0,
		       json_string_value(json_object_get(o, "verification")),
		       (long long)json_integer_value(json_object_get(o, "verified_entries")));
		json_decref(o);
	}
	EVP_PKEY_free(pub);
	return 0;
}
