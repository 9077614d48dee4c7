/*
 * loadgen: the benchmark's HTTPS load generator for focald's search API.
 *
 * N clients, each one keep-alive HTTPS connection (libcurl easy handles on
 * one multi handle, one thread), POST JSON search bodies taken round-robin
 * from a file (one body per line).  Two ways to load:
 *
 *   closed loop  (--concurrency C): every client sends its next search as soon
 *                as the previous one answered; measures saturation throughput
 *   open loop    (--rate R):        searches are due at a fixed rate; a due
 *                search waits for a free client if all are busy, and its
 *                latency counts from when it was due, so queueing is not
 *                hidden (no "coordinated omission")
 *
 * After --warmup seconds (TLS handshakes, pools filling) it measures for
 * --duration seconds (or until --count searches), then prints one JSON object:
 * searches/s, end-to-end latency percentiles, and, read from each briefing,
 * focald's own search time ("elapsed_ms"), its slowest source call ("ms"),
 * the end-to-end time of each search minus its slowest source call (what
 * focald adds to the slowest source: fan-out, HTTPS, JSON) and how many
 * source calls failed — so a fast answer made of timeouts cannot
 * pass for a good result.  Only bench/run.sh uses it; it is not part of
 * focald.  Build: cc -O2 loadgen.c $(pkg-config --cflags --libs libcurl) -lm
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "samples.h"

struct client {
	CURL *easy;
	char *buf; /* the answer being read */
	size_t len, cap;
	double t_due;  /* when this search was due (open loop) or sent */
	bool busy;
};

struct opts {
	const char *url, *cacert, *bodies_path, *label;
	long concurrency;
	double rate, duration, warmup;
	long count;
};

static struct {
	char **bodies;
	size_t nbodies, next_body;
	struct samples e2e, focal, slowest; /* ms */
	struct samples over; /* per search: end-to-end minus its slowest source call */
	struct samples resolve; /* focald's entity resolution per search ("resolve_ms") */
	long done, http_errors, transport_errors, failed_searches, failed_calls, ok_calls;
	long in_window_done; /* completions inside the measuring window */
	long late;           /* open loop: due searches that had to wait for a client */
	char first_error[256];
} st;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
	fprintf(stderr, "loadgen: %s\n", msg);
	exit(2);
}

static void load_bodies(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	if (f == NULL)
		die("cannot open the bodies file");
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\r\n");
		char **nb;

		if (n == 0)
			continue;
		line[n] = '\0';
		nb = realloc(st.bodies, (st.nbodies + 1) * sizeof(*nb));
		if (nb == NULL || (nb[st.nbodies] = strdup(line)) == NULL)
			die("out of memory");
		st.bodies = nb;
		st.nbodies++;
	}
	fclose(f);
	if (st.nbodies == 0)
		die("the bodies file has no line");
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	size_t n = size * nmemb;

	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *nb = realloc(c->buf, cap);

		if (nb == NULL)
			return 0;
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return n;
}

/* The number after the first `key` in s (key includes the quotes and colon). */
static bool find_number(const char *s, const char *key, double *out)
{
	const char *p = strstr(s, key);
	char *end;

	if (p == NULL)
		return false;
	p += strlen(key);
	errno = 0;
	*out = strtod(p, &end);
	return end != p && errno == 0;
}

/* The largest "ms" of the briefing's source lines: the slowest source call. */
static double max_source_ms(const char *s)
{
	double best = NAN, v;

	for (const char *p = strstr(s, "\"ms\":"); p != NULL; p = strstr(p + 5, "\"ms\":"))
		if (find_number(p, "\"ms\":", &v) && (isnan(best) || v > best))
			best = v;
	return best;
}

static void client_send(CURLM *m, struct client *c, double t_due)
{
	const char *body = st.bodies[st.next_body++ % st.nbodies];

	c->len = 0;
	c->t_due = t_due;
	c->busy = true;
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	if (curl_multi_add_handle(m, c->easy) != CURLM_OK)
		die("curl_multi_add_handle failed");
}

static void client_done(struct client *c, CURLcode res, double t_end, double w0, double w1)
{
	long code = 0;
	double v;
	bool measured = c->t_due >= w0 && c->t_due < w1;

	c->busy = false;
	if (t_end >= w0 && t_end < w1)
		st.in_window_done++;
	if (!measured)
		return;
	st.done++;
	if (res != CURLE_OK) {
		st.transport_errors++;
		if (st.first_error[0] == '\0')
			snprintf(st.first_error, sizeof(st.first_error), "%s", curl_easy_strerror(res));
		return;
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		st.http_errors++;
		if (st.first_error[0] == '\0')
			snprintf(st.first_error, sizeof(st.first_error), "HTTP %ld: %.200s", code,
				 c->buf ? c->buf : "");
		return;
	}
	samples_add(&st.e2e, (t_end - c->t_due) * 1000.0);
	if (c->buf == NULL)
		return;
	if (find_number(c->buf, "\"elapsed_ms\":", &v))
		samples_add(&st.focal, v);
	v = max_source_ms(c->buf);
	if (!isnan(v)) {
		samples_add(&st.slowest, v);
		samples_add(&st.over, (t_end - c->t_due) * 1000.0 - v);
	}
	if (find_number(c->buf, "\"resolve_ms\":", &v))
		samples_add(&st.resolve, v);
	if (find_number(c->buf, "\"calls_failed\":", &v) && v > 0) {
		st.failed_searches++;
		st.failed_calls += (long)v;
	}
	if (find_number(c->buf, "\"calls_ok\":", &v))
		st.ok_calls += (long)v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --url URL --cacert PEM --bodies FILE [--concurrency C] [--rate R]\n"
		"               [--duration S | --count N] [--warmup S] [--label TEXT]\n");
	exit(2);
}

static double num_arg(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || v < 0)
		usage();
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "cacert", required_argument, NULL, 'k' },
		{ "bodies", required_argument, NULL, 'b' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "label", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->concurrency = 1;
	o->duration = 10;
	o->warmup = 1;
	o->label = "";
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'u': o->url = optarg; break;
		case 'k': o->cacert = optarg; break;
		case 'b': o->bodies_path = optarg; break;
		case 'c': o->concurrency = (long)num_arg(optarg); break;
		case 'r': o->rate = num_arg(optarg); break;
		case 'd': o->duration = num_arg(optarg); break;
		case 'n': o->count = (long)num_arg(optarg); break;
		case 'w': o->warmup = num_arg(optarg); break;
		case 'l': o->label = optarg; break;
		default: usage();
		}
	}
	if (o->url == NULL || o->cacert == NULL || o->bodies_path == NULL || o->concurrency < 1 ||
	    o->concurrency > 4096)
		usage();
}

/* Waits for sockets or until next_due (CLOCK_MONOTONIC seconds), whichever
 * comes first.  The due time is a timerfd among the polled descriptors: a
 * millisecond poll timeout rounded up would send each search up to 1 ms
 * late, and that lateness counts in its latency. */
static void wait_due(CURLM *m, int tfd, double next_due)
{
	struct itimerspec its = { 0 };
	struct curl_waitfd wfd = { .fd = tfd, .events = CURL_WAIT_POLLIN };
	uint64_t expirations;

	if (next_due <= now_s())
		return;
	its.it_value.tv_sec = (time_t)next_due;
	its.it_value.tv_nsec = (long)((next_due - (double)its.it_value.tv_sec) * 1e9);
	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		die("timerfd_settime failed");
	curl_multi_poll(m, &wfd, 1, 50, NULL);
	if (wfd.revents & CURL_WAIT_POLLIN)
		(void)!read(tfd, &expirations, sizeof(expirations));
}

int main(int argc, char **argv)
{
	struct opts o;
	struct curl_slist *hdrs = NULL;
	struct client *cl;
	CURLM *m;
	double t0, w0, w1, next_due, t_stop;
	long started = 0;
	size_t backlog_warned = 0;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	parse(argc, argv, &o);
	if (tfd < 0)
		die("timerfd_create failed");
	load_bodies(o.bodies_path);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	m = curl_multi_init();
	cl = calloc((size_t)o.concurrency, sizeof(*cl));
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (m == NULL || cl == NULL || hdrs == NULL)
		die("out of memory");
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, o.concurrency + 8);
	for (long i = 0; i < o.concurrency; i++) {
		CURL *e = curl_easy_init();

		if (e == NULL)
			die("curl_easy_init failed");
		curl_easy_setopt(e, CURLOPT_URL, o.url);
		curl_easy_setopt(e, CURLOPT_CAINFO, o.cacert);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &cl[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&cl[i]);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
		curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 1L);
		cl[i].easy = e;
	}

	t0 = now_s();
	w0 = t0 + o.warmup;
	w1 = o.count > 0 ? INFINITY : w0 + o.duration;
	next_due = t0;
	for (;;) {
		double now = now_s();
		int running = 0, left, finished;
		long busy = 0;
		CURLMsg *msg;

		if (o.count > 0 && st.done >= o.count && w1 == INFINITY)
			w1 = now; /* count reached: stop measuring */
		t_stop = w1;
		/* start what is due */
		for (long i = 0; i < o.concurrency; i++) {
			if (cl[i].busy) {
				busy++;
				continue;
			}
			if (now >= t_stop)
				continue;
			if (o.rate > 0) {
				if (now < next_due)
					continue;
				if (now - next_due > 0.001 && next_due >= w0)
					st.late++;
				client_send(m, &cl[i], next_due);
				next_due += 1.0 / o.rate;
			} else {
				client_send(m, &cl[i], now);
			}
			started++;
			busy++;
		}
		if (o.rate > 0 && now - next_due > 1.0 && backlog_warned++ == 0)
			fprintf(stderr, "loadgen: %s: more than 1 s behind the rate of %.0f/s\n",
				o.label, o.rate);
		if (now >= t_stop && busy == 0)
			break;
		if (now >= t_stop + 30)
			die("searches still running 30 s after the end");
		curl_multi_perform(m, &running);
		finished = 0;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct client *c;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			CURLcode res = msg->data.result;

			curl_multi_remove_handle(m, c->easy);
			client_done(c, res, now_s(), w0, w1);
			finished++;
		}
		if (finished > 0)
			continue; /* a client is free: send its next search before waiting */
		if (o.rate > 0 && now < t_stop && busy < o.concurrency)
			wait_due(m, tfd, next_due);
		else
			curl_multi_poll(m, NULL, 0, 50, NULL); /* wait for sockets */
	}

	samples_sort(&st.e2e);
	samples_sort(&st.focal);
	samples_sort(&st.slowest);
	samples_sort(&st.over);
	samples_sort(&st.resolve);
	{
		double window = (o.count > 0 ? w1 - w0 : o.duration);
		double rps = window > 0 ? (double)st.in_window_done / window : NAN;

		printf("{\"label\":\"%s\",\"concurrency\":%ld,\"rate\":%.1f,\"window_s\":%.3f,"
		       "\"searches\":%ld,\"searches_per_s\":%.1f,"
		       "\"e2e_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"mean\":%.3f},"
		       "\"focald_elapsed_ms\":{\"p50\":%.3f,\"p99\":%.3f},"
		       "\"slowest_source_ms\":{\"p50\":%.3f,\"p99\":%.3f},"
		       "\"over_slowest_ms\":{\"p50\":%.3f,\"p99\":%.3f},"
		       "\"resolve_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"mean\":%.3f},"
		       "\"http_errors\":%ld,\"transport_errors\":%ld,\"searches_with_failed_calls\":%ld,"
		       "\"failed_calls\":%ld,\"ok_calls\":%ld,\"late\":%ld,\"first_error\":\"",
		       o.label, o.concurrency, o.rate, window, st.done, rps, samples_pct(&st.e2e, 50),
		       samples_pct(&st.e2e, 90), samples_pct(&st.e2e, 99),
		       samples_max(&st.e2e), samples_mean(&st.e2e), samples_pct(&st.focal, 50),
		       samples_pct(&st.focal, 99), samples_pct(&st.slowest, 50),
		       samples_pct(&st.slowest, 99),
		       samples_pct(&st.over, 50), samples_pct(&st.over, 99),
		       /* -1: focald did not say (a build without resolve_ms) */
		       st.resolve.n ? samples_pct(&st.resolve, 50) : -1,
		       st.resolve.n ? samples_pct(&st.resolve, 99) : -1,
		       st.resolve.n ? samples_mean(&st.resolve) : -1,
		       st.http_errors, st.transport_errors, st.failed_searches, st.failed_calls,
		       st.ok_calls, st.late);
		for (const char *p = st.first_error; *p != '\0'; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
				putchar(*p);
		printf("\"}\n");
	}
	(void)started;
	for (long i = 0; i < o.concurrency; i++) {
		curl_easy_cleanup(cl[i].easy);
		free(cl[i].buf);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	curl_global_cleanup();
	for (size_t i = 0; i < st.nbodies; i++)
		free(st.bodies[i]);
	free(st.bodies);
	close(tfd);
	free(st.e2e.v);
	free(st.focal.v);
	free(st.slowest.v);
	free(st.over.v);
	free(st.resolve.v);
	free(cl);
	return st.transport_errors + st.http_errors > 0 ? 1 : 0;
}
