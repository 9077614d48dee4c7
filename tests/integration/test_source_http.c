/*
 * Integration tests of the HTTP/JSON connector (src/sources/source_http.c)
 * against tests/integration/http_server.py, a real HTTP server on 127.0.0.1
 * whose base URL the runner gives in FOCAL_TEST_HTTP (http://127.0.0.1:PORT).
 * Without it the server tests skip; the configuration tests always run.
 *
 * Every call runs the way focald runs it: a configuration loaded from YAML, a
 * libevent loop, source_call_start under the source's deadline, the loop
 * dispatched until the calls report.  The fault endpoints check that a
 * hanging, failing, garbage-answering, oversized or dripping agency ends as a
 * timeout or error in bounded time and memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "core/loop.h"
#include "sources/record.h"
#include "sources/source.h"

/* Slack allowed between a source's deadline and the timeout being reported
 * (event loop latency, sanitizer builds). */
#define SLACK_MS 200.0

static const char *base_url;   /* FOCAL_TEST_HTTP */
static int closed_sock = -1;   /* bound, never listening: connections are refused */
static int closed_port;

/* TLS: a throw-away CA, server and client certificates made with the openssl
 * tool, and two `openssl s_server -WWW` on 127.0.0.1 (the second requires a
 * client certificate).  Skipped when the tool is missing. */
static char tls_dir[64];
static int tls_port, mtls_port;
static pid_t tls_pid = -1, mtls_pid = -1;
static bool tls_ready;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* Copy of text with every "@BASE@" replaced by base and "@CLOSED@" by the
 * refused port.  Caller frees. */
static char *expand(const char *text)
{
	char port[16], tport[16], mport[16];
	size_t cap = strlen(text) * 4 + 4096, o = 0;
	char *out = malloc(cap);
	const char *p = text;

	assert_non_null(out);
	snprintf(port, sizeof(port), "%d", closed_port);
	snprintf(tport, sizeof(tport), "%d", tls_port);
	snprintf(mport, sizeof(mport), "%d", mtls_port);
	while (*p != '\0') {
		const char *rep = NULL;
		size_t skip = 0;

		if (strncmp(p, "@BASE@", 6) == 0) {
			rep = base_url ? base_url : "http://127.0.0.1:9";
			skip = 6;
		} else if (strncmp(p, "@CLOSED@", 8) == 0) {
			rep = port;
			skip = 8;
		} else if (strncmp(p, "@TLS@", 5) == 0) {
			rep = tport;
			skip = 5;
		} else if (strncmp(p, "@MTLS@", 6) == 0) {
			rep = mport;
			skip = 6;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			rep = tls_dir;
			skip = 5;
		}
		if (rep != NULL) {
			size_t n = strlen(rep);

			assert_true(o + n < cap);
			memcpy(out + o, rep, n);
			o += n;
			p += skip;
		} else {
			assert_true(o + 1 < cap);
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

static const char cfg_head[] =
	"server: {tls_cert: cert.pem, tls_key: key.pem}\n"
	"defaults: {deadline_ms: 2000, breaker_failures: 1000}\n"
	"sources:\n";

/* Loads cfg_head + sources; returns the rc and fills err. */
static int load(const char *sources, struct config **out, struct focal_err *err)
{
	size_t n = strlen(cfg_head) + strlen(sources) + 1;
	char *text = malloc(n), *full;
	int rc;

	assert_non_null(text);
	snprintf(text, n, "%s%s", cfg_head, sources);
	full = expand(text);
	free(text);
	rc = config_load_string("itest.yaml", full, strlen(full), out, err);
	free(full);
	return rc;
}

/* The sources of the server tests (line numbers matter to nobody here). */
static const char sources_yaml[] =
	"  - name: vehicles\n"
	"    kind: http\n"
	"    owner: DIV\n"
	"    classification: restricted\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/v1/itest_vehicles?kenteken={plate}\"}\n"
	"    map:\n"
	"      rows: /results\n"
	"      vehicle: {plate: /kenteken, make: /merk, model: /model, year: /bouwjaar,\n"
	"                status: /gestolen, colour: /kleur, owner_name: /houder/naam/familienaam}\n"
	"      person: {family_name: /houder/naam/familienaam, given_name: /houder/naam/voornaam,\n"
	"               national_number: /houder/rrn, alias: /aliassen}\n"
	"      alert: {when: /signalering, category: /signalering, plate: /kenteken}\n"
	"  - name: limited\n"
	"    kind: http\n"
	"    owner: DIV\n"
	"    classification: restricted\n"
	"    max_rows: 5\n"
	"    connection: {method: GET}\n"
	"    queries: {plate: \"@BASE@/v1/itest_vehicles?kenteken={plate}\"}\n"
	"    map: {rows: /results, vehicle: {plate: /kenteken, vin: /volgnummer}}\n"
	"  - name: hang\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    deadline_ms: 500\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/fault/hang?plate={plate}\"}\n"
	"    map: {vehicle: {plate: /plate}}\n"
	"  - name: e500\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/fault/500?plate={plate}\"}\n"
	"    map: {vehicle: {plate: /plate}}\n"
	"  - name: redirect\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/fault/redirect?plate={plate}\"}\n"
	"    map: {rows: /results, vehicle: {plate: /kenteken}}\n"
	"  - name: malformed\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/fault/malformed?plate={plate}\"}\n"
	"    map: {rows: /results, vehicle: {plate: /plate}}\n"
	"  - name: huge\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    max_bytes: 65536\n"
	"    deadline_ms: 5000\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/fault/huge?plate={plate}\",\n"
	"              serial: \"@BASE@/fault/huge?length=1&serial={serial}\"}\n"
	"    map: {rows: /results, vehicle: {plate: /plate}}\n"
	"  - name: drip\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    deadline_ms: 1500\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/fault/drip?plate={plate}\"}\n"
	"    map: {rows: /results, vehicle: {plate: /plate}}\n"
	"  - name: slow\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/fault/slow?ms=300&plate={plate}\"}\n"
	"    map: {rows: /results, vehicle: {plate: /plate}}\n"
	"  - name: refused\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    connection: {}\n"
	"    queries: {plate: \"http://127.0.0.1:@CLOSED@/v1/x?plate={plate}\"}\n"
	"    map: {vehicle: {plate: /plate}}\n"
	"  - name: echo\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    connection: {}\n"
	"    queries: {plate: \"@BASE@/echo?plate={plate}&x=1\",\n"
	"              serial: \"@BASE@/echo/{serial}?k=1\"}\n"
	"    map:\n"
	"      vehicle: {plate: /params/plate/0, vin: /params/x/0, make: /path, model: /query,\n"
	"                colour: /client_port, status: /method}\n"
	"      firearm: {serial: /params/k/0}\n"
	"  - name: post\n"
	"    kind: http\n"
	"    owner: X\n"
	"    classification: restricted\n"
	"    connection:\n"
	"      method: POST\n"
	"      body_params: [plate]\n"
	"      headers: {X-Api-Key: \"key-${FOCAL_ITEST_HTTP_KEY}-1\"}\n"
	"    queries: {plate: \"@BASE@/echo\"}\n"
	"    map:\n"
	"      vehicle: {plate: /body, make: /headers/x-api-key, model: /headers/content-type,\n"
	"                status: /method}\n";

struct fixture {
	struct loop loop;
	struct config *cfg;
	struct source_set *set;
	int done, want;
	struct event *watchdog;
};

static struct fixture *fx;

static void on_done(struct source_call *call, void *arg)
{
	struct fixture *f = arg;

	(void)call;
	if (++f->done >= f->want)
		event_base_loopbreak(f->loop.base);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *f = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(f->loop.base);
}

static struct source_rt *rt_of(const char *name)
{
	const struct source_def *d = config_source(fx->set->cfg, name);

	assert_non_null(d);
	return &fx->set->rt[d->index];
}

struct q {
	struct query query;
	char value[256];
};

static void q_init(struct q *q, enum query_kind kind, enum query_param p, const char *value)
{
	memset(q, 0, sizeof(*q));
	q->query.kind = kind;
	snprintf(q->value, sizeof(q->value), "%s", value);
	q->query.param[p] = q->value;
}

/* Starts n calls and runs the loop until all report (or 15 s pass). */
static void run(struct source_call *calls, const char *const *sources, struct q *qs, size_t n)
{
	struct timeval tv = { 15, 0 };

	fx->done = 0;
	fx->want = (int)n;
	for (size_t i = 0; i < n; i++)
		source_call_init(&calls[i], rt_of(sources[i]), &qs[i].query, on_done, fx);
	evtimer_add(fx->watchdog, &tv);
	for (size_t i = 0; i < n; i++)
		source_call_start(&calls[i], 0);
	if (fx->done < fx->want)
		event_base_dispatch(fx->loop.base);
	evtimer_del(fx->watchdog);
	assert_int_equal(fx->done, (int)n);
	for (size_t i = 0; i < n; i++)
		assert_true(calls[i].finished);
}

/* One call of source `name` for a plate query. */
static void run_one(struct source_call *call, const char *name, enum query_kind kind,
		    enum query_param p, const char *value)
{
	static struct q q; /* the call borrows it until cleared */
	const char *names[1] = { name };

	q_init(&q, kind, p, value);
	run(call, names, &q, 1);
}

static const struct record *find(const struct source_call *call, enum entity_kind k,
				 size_t nth)
{
	for (size_t i = 0; i < call->records.n; i++)
		if (call->records.items[i].kind == k && nth-- == 0)
			return &call->records.items[i];
	return NULL;
}

static void expect_field(const struct record *r, const char *field, const char *want)
{
	const char *got;

	assert_non_null(r);
	got = record_get(r, field);
	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
}

#define SKIP_WITHOUT_SERVER()                                                              \
	do {                                                                               \
		if (base_url == NULL) {                                                    \
			print_message("FOCAL_TEST_HTTP not set: skipped\n");               \
			skip();                                                            \
		}                                                                          \
	} while (0)

/* A free port on 127.0.0.1 (released again: s_server binds it next). */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return rc == 0;
}

/* Starts `openssl s_server -WWW` serving tls_dir on port; -1 on failure. */
static pid_t start_s_server(int port, bool want_client_cert)
{
	char accept[32];
	pid_t pid;
	int null, status;

	snprintf(accept, sizeof(accept), "127.0.0.1:%d", port);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		null = open("/dev/null", O_RDWR);
		if (null < 0 || chdir(tls_dir) != 0)
			_exit(127);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (want_client_cert)
			execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert",
			       "srv.pem", "-key", "srv.key", "-WWW", "-quiet", "-Verify", "1",
			       "-verify_return_error", "-CAfile", "ca.pem", (char *)NULL);
		else
			execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert",
			       "srv.pem", "-key", "srv.key", "-WWW", "-quiet", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) { /* up to 5 s */
		if (port_open(port))
			return pid;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return -1;
		usleep(50000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return -1;
}

static void stop_child(pid_t *pid)
{
	int status;

	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, &status, 0);
	}
	*pid = -1;
}

static void tls_setup(void)
{
	char cmd[2048];

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/focal-itest-http-XXXXXX");
	if (mkdtemp(tls_dir) == NULL) {
		tls_dir[0] = '\0';
		return;
	}
#define EC "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && exec >/dev/null 2>&1 && "
		 "openssl req -x509 " EC "-keyout ca.key -out ca.pem -subj /CN=itest-ca "
		 "-days 2 && "
		 "openssl req -x509 " EC "-keyout other.key -out other.pem -subj /CN=other "
		 "-days 2 && "
		 "openssl req " EC "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
		 "echo subjectAltName=IP:127.0.0.1 > srv.ext && "
		 "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-out srv.pem -days 2 -extfile srv.ext && "
		 "openssl req " EC "-keyout cli.key -out cli.csr -subj /CN=focald && "
		 "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-out cli.pem -days 2 && "
		 "echo '{\"results\": [{\"p\": \"TLSOK\"}]}' > r.json",
		 tls_dir);
#undef EC
	if (system(cmd) != 0)
		return;
	tls_port = free_port();
	tls_pid = start_s_server(tls_port, false);
	mtls_port = free_port();
	mtls_pid = start_s_server(mtls_port, true);
	tls_ready = tls_pid > 0 && mtls_pid > 0;
}

static void tls_teardown(void)
{
	char cmd[128];

	stop_child(&tls_pid);
	stop_child(&mtls_pid);
	if (tls_dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tls_dir);
		if (system(cmd) != 0)
			print_message("could not remove %s\n", tls_dir);
	}
}

static int group_setup(void **state)
{
	struct focal_err err = { 0 };
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	(void)state;
	base_url = getenv("FOCAL_TEST_HTTP");
	if (base_url != NULL && base_url[0] == '\0')
		base_url = NULL;
	setenv("FOCAL_ITEST_HTTP_KEY", "s3cret", 1);
	/* A port nobody listens on, held for the whole run so no one else
	 * takes it: connect() there is refused. */
	closed_sock = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(closed_sock >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(closed_sock, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(closed_sock, (struct sockaddr *)&a, &alen), 0);
	closed_port = ntohs(a.sin_port);

	assert_int_equal(loop_global_init(&err), 0);
	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	assert_int_equal(loop_init(&fx->loop, 0, &err), 0);
	if (load(sources_yaml, &fx->cfg, &err) != 0)
		fail_msg("config: %s", err.msg);
	assert_int_equal(source_set_new(&fx->loop, fx->cfg, &fx->set, &err), 0);
	fx->watchdog = evtimer_new(fx->loop.base, on_watchdog, fx);
	assert_non_null(fx->watchdog);
	tls_setup();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	event_free(fx->watchdog);
	source_set_unref(fx->set);
	config_unref(fx->cfg);
	loop_fini(&fx->loop); /* frees the curl multi and its connections */
	free(fx);
	close(closed_sock);
	tls_teardown();
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */

struct cfg_case {
	const char *yaml;
	const char *want; /* substring of the message, after "itest.yaml:L:C: " */
	int line;         /* of the offending node (in the whole file) */
};

#define SRC(conn, url, cls)                                                                \
	"  - name: s\n"                                                                    \
	"    kind: http\n"                                                                 \
	"    owner: X\n"                                                                   \
	"    classification: " cls "\n"                                                    \
	"    queries: {plate: \"" url "\"}\n"                                              \
	"    map: {vehicle: {plate: /p}}\n"                                                \
	"    connection: " conn "\n"

static void test_config_errors(void **state)
{
	/* line 10 is the `connection:` line of SRC (3 lines of cfg_head) */
	static const struct cfg_case cases[] = {
		{ SRC("{verify: false}", "https://a.example/v?p={plate}", "restricted"),
		  "certificate verification cannot be turned off", 10 },
		{ SRC("{method: PUT}", "https://a.example/v?p={plate}", "restricted"),
		  "method: expected one of GET, POST", 10 },
		{ SRC("{client_cert: /etc/hostname}", "https://a.example/v?p={plate}",
		      "restricted"),
		  "client_cert and client_key must be given together", 10 },
		{ SRC("{ca_file: /nonexistent/ca.pem}", "https://a.example/v?p={plate}",
		      "restricted"),
		  "ca_file: cannot read", 10 },
		{ SRC("{headers: {Host: evil}}", "https://a.example/v?p={plate}", "restricted"),
		  "Host is set by focald", 10 },
		{ SRC("{headers: {X-A: \"a\\r\\nX-B: b\"}}", "https://a.example/v?p={plate}",
		      "restricted"),
		  "control characters are not allowed", 10 },
		{ SRC("{headers: {X-A: \"${FOCAL_ITEST_UNSET_VARIABLE}\"}}",
		      "https://a.example/v?p={plate}", "restricted"),
		  "environment variable FOCAL_ITEST_UNSET_VARIABLE is not set", 10 },
		{ SRC("{headers: {\"X A\": b}}", "https://a.example/v?p={plate}", "restricted"),
		  "not a valid header name", 10 },
		{ SRC("{body_params: [plate]}", "https://a.example/v?p={plate}", "restricted"),
		  "body_params: only with method: POST", 10 },
		{ SRC("{tls: yes}", "https://a.example/v?p={plate}", "restricted"),
		  "unknown key 'tls'", 10 },
		/* line 8 is the `queries:` line */
		{ SRC("{}", "http://agency.example/v?p={plate}", "restricted"),
		  "must be reached over https://", 8 },
		{ SRC("{}", "https://{plate}.example/v", "not_sensitive"),
		  "must be written out", 8 },
		{ SRC("{}", "https://a.example{plate}", "not_sensitive"),
		  "must be written out", 8 },
		{ SRC("{}", "https://user:pw@a.example/v?p={plate}", "not_sensitive"),
		  "no user name or password in the URL", 8 },
		{ SRC("{}", "ftp://a.example/v?p={plate}", "not_sensitive"),
		  "must be a URL starting with https://", 8 },
	};
	static const char *const ok[] = {
		SRC("{}", "http://agency.example/v?p={plate}", "not_sensitive"),
		SRC("{}", "http://127.0.0.1:8080/v?p={plate}", "strictly_confidential"),
		SRC("{}", "http://localhost/v/{plate}", "restricted"),
		SRC("{method: POST, body_params: [plate, family_name], "
		    "headers: {Authorization: \"Bearer ${FOCAL_ITEST_HTTP_KEY}\"}}",
		    "https://a.example/v", "strictly_confidential"),
	};
	struct focal_err err;
	struct config *cfg;
	char prefix[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		cfg = NULL;
		assert_int_equal(load(cases[i].yaml, &cfg, &err), FOCAL_E_CONFIG);
		assert_null(cfg);
		snprintf(prefix, sizeof(prefix), "itest.yaml:%d:", cases[i].line);
		if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
		    strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want %s...%s", i, err.msg, prefix,
				 cases[i].want);
	}
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cfg = NULL;
		if (load(ok[i], &cfg, &err) != 0)
			fail_msg("ok case %zu: %s", i, err.msg);
		config_unref(cfg);
	}
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                  */

static void test_hit(void **state)
{
	struct source_call call;
	const struct record *v, *p, *a;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "vehicles", QUERY_PLATE, QP_PLATE, "1ABC123");
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	assert_int_equal(call.rows, 1);
	v = find(&call, ENTITY_VEHICLE, 0);
	expect_field(v, "plate", "1ABC123");
	expect_field(v, "make", "Volvo");
	expect_field(v, "year", "2009");               /* integer */
	expect_field(v, "status", "true");             /* boolean */
	expect_field(v, "colour", NULL);               /* null: absent */
	expect_field(v, "owner_name", "Peeters");      /* nested pointer */
	p = find(&call, ENTITY_PERSON, 0);
	expect_field(p, "given_name", "Jan");
	expect_field(p, "national_number", "81031212345");
	/* array: scalars joined, null and object left out */
	expect_field(p, "alias", "J. Peeters; Jean Peeters; 7");
	a = find(&call, ENTITY_ALERT, 0);
	expect_field(a, "category", "Gestolen voertuig");
	assert_null(find(&call, ENTITY_VEHICLE, 1));
	source_call_clear(&call);

	/* second vehicle: empty `when` gives no alert, empty array no alias */
	run_one(&call, "vehicles", QUERY_PLATE, QP_PLATE, "2XYZ999");
	assert_int_equal(call.status, SOURCE_OK);
	assert_int_equal(call.rows, 1);
	assert_null(find(&call, ENTITY_ALERT, 0));
	expect_field(find(&call, ENTITY_VEHICLE, 0), "status", "false");
	expect_field(find(&call, ENTITY_PERSON, 0), "alias", NULL);
	source_call_clear(&call);
}

static void test_no_hit(void **state)
{
	struct source_call call;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "vehicles", QUERY_PLATE, QP_PLATE, "0NOPE00");
	assert_int_equal(call.status, SOURCE_OK);
	assert_int_equal(call.rows, 0);
	assert_int_equal(call.records.n, 0);
	source_call_clear(&call);
}

static void test_row_limit(void **state)
{
	struct source_call call;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "limited", QUERY_PLATE, QP_PLATE, "MANY"); /* 30 rows */
	assert_int_equal(call.status, SOURCE_TRUNCATED);
	assert_int_equal(call.rows, 5);
	assert_int_equal(call.records.n, 5);
	expect_field(find(&call, ENTITY_VEHICLE, 4), "vin", "4");
	source_call_clear(&call);
}

/* ------------------------------------------------------------------------ */
/* Faults                                                                   */

static void test_hang(void **state)
{
	struct source_call call;
	uint64_t t0 = loop_now_ns();
	double ms;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "hang", QUERY_PLATE, QP_PLATE, "1ABC123");
	ms = loop_ms_since(t0);
	assert_int_equal(call.status, SOURCE_TIMEOUT);
	assert_true(ms >= 500.0 - 5.0);
	if (ms >= 500.0 + SLACK_MS)
		fail_msg("timeout reported after %.0f ms (deadline 500)", ms);
	source_call_clear(&call);
}

static void test_http_500(void **state)
{
	struct source_call call;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "e500", QUERY_PLATE, QP_PLATE, "1ABC123");
	assert_int_equal(call.status, SOURCE_ERROR);
	assert_string_equal(call.reason, "HTTP 500");
	assert_int_equal(call.records.n, 0);
	source_call_clear(&call);
}

static void test_redirect_not_followed(void **state)
{
	struct source_call call;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "redirect", QUERY_PLATE, QP_PLATE, "1ABC123");
	assert_int_equal(call.status, SOURCE_ERROR);
	assert_string_equal(call.reason, "HTTP 302");
	assert_int_equal(call.records.n, 0);
	source_call_clear(&call);
}

static void test_malformed(void **state)
{
	struct source_call call;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "malformed", QUERY_PLATE, QP_PLATE, "1ABC123");
	assert_int_equal(call.status, SOURCE_ERROR);
	if (strncmp(call.reason, "malformed JSON at line 1 column ", 32) != 0)
		fail_msg("reason: %s", call.reason);
	assert_int_equal(call.records.n, 0);
	source_call_clear(&call);
}

static long maxrss_kb(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

static void test_huge(void **state)
{
	struct source_call call;
	long rss0 = maxrss_kb();
	uint64_t t0;
	double ms;

	(void)state;
	SKIP_WITHOUT_SERVER();
	/* streamed without Content-Length: cut off by the write callback */
	t0 = loop_now_ns();
	run_one(&call, "huge", QUERY_PLATE, QP_PLATE, "1ABC123");
	ms = loop_ms_since(t0);
	assert_int_equal(call.status, SOURCE_ERROR);
	assert_string_equal(call.reason, "response larger than 65536 bytes; discarded");
	/* stopped early, not after reading 100 MB up to the 5 s deadline */
	if (ms > 1500.0)
		fail_msg("took %.0f ms", ms);
	source_call_clear(&call);

	/* announced with Content-Length: refused before the body */
	t0 = loop_now_ns();
	run_one(&call, "huge", QUERY_SERIAL, QP_SERIAL, "X1");
	ms = loop_ms_since(t0);
	assert_int_equal(call.status, SOURCE_ERROR);
	assert_string_equal(call.reason, "response larger than 65536 bytes; discarded");
	if (ms > 1500.0)
		fail_msg("took %.0f ms", ms);
	source_call_clear(&call);
	/* memory never held the answer (100 MB); allow for allocator noise */
	if (maxrss_kb() - rss0 > 32 * 1024)
		fail_msg("peak RSS grew by %ld kB", maxrss_kb() - rss0);
}

static void test_drip(void **state)
{
	struct source_call call;
	uint64_t t0 = loop_now_ns();
	double ms;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "drip", QUERY_PLATE, QP_PLATE, "1ABC123");
	ms = loop_ms_since(t0);
	assert_int_equal(call.status, SOURCE_TIMEOUT);
	if (ms < 1500.0 - 5.0 || ms >= 1500.0 + SLACK_MS)
		fail_msg("timeout reported after %.0f ms (deadline 1500)", ms);
	source_call_clear(&call);
}

static void test_refused(void **state)
{
	struct source_call call;

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "refused", QUERY_PLATE, QP_PLATE, "1ABC123");
	assert_int_equal(call.status, SOURCE_ERROR);
	assert_non_null(strstr(call.reason, "onnect")); /* "Failed to connect ..." */
	assert_true(call.ms < 1000.0);
	source_call_clear(&call);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */

static void test_injection(void **state)
{
	static const char evil[] = "../../x?y=z&a=";
	struct source_call call;
	const struct record *v;

	(void)state;
	SKIP_WITHOUT_SERVER();
	/* in the query string: one value, decoded back to what was asked */
	run_one(&call, "echo", QUERY_PLATE, QP_PLATE, evil);
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	v = find(&call, ENTITY_VEHICLE, 0);
	expect_field(v, "plate", evil);
	expect_field(v, "vin", "1");       /* the template's own x=1 intact */
	expect_field(v, "make", "/echo");  /* path unchanged */
	expect_field(v, "model", "plate=..%2F..%2Fx%3Fy%3Dz%26a%3D&x=1");
	expect_field(v, "status", "GET");
	source_call_clear(&call);

	/* in the path: '/' encoded, so still one segment under /echo/ */
	run_one(&call, "echo", QUERY_SERIAL, QP_SERIAL, "a/../b?k=2");
	assert_int_equal(call.status, SOURCE_OK);
	v = find(&call, ENTITY_VEHICLE, 0);
	expect_field(v, "make", "/echo/a%2F..%2Fb%3Fk%3D2");
	expect_field(find(&call, ENTITY_FIREARM, 0), "serial", "1");
	source_call_clear(&call);

	/* ".." alone would be a dot-segment: not sent at all */
	run_one(&call, "echo", QUERY_SERIAL, QP_SERIAL, "..");
	assert_int_equal(call.status, SOURCE_ERROR);
	assert_non_null(strstr(call.reason, "not usable in a URL path"));
	source_call_clear(&call);
}

static void test_post_headers(void **state)
{
	struct source_call call;
	const struct record *v;
	struct q q;
	const char *names[1] = { "post" };

	(void)state;
	SKIP_WITHOUT_SERVER();
	q_init(&q, QUERY_PLATE, QP_PLATE, "1ABC123");
	q.query.param[QP_TEXT] = q.value; /* not in body_params: not sent */
	run(&call, names, &q, 1);
	if (call.status != SOURCE_OK)
		fail_msg("status %s: %s", source_status_name(call.status), call.reason);
	v = find(&call, ENTITY_VEHICLE, 0);
	expect_field(v, "status", "POST");
	expect_field(v, "plate", "{\"plate\":\"1ABC123\"}");
	expect_field(v, "make", "key-s3cret-1"); /* ${ENV} expanded at load */
	expect_field(v, "model", "application/json");
	source_call_clear(&call);
}

static void test_keepalive(void **state)
{
	struct source_call call;
	char port[16];

	(void)state;
	SKIP_WITHOUT_SERVER();
	run_one(&call, "echo", QUERY_PLATE, QP_PLATE, "A");
	assert_int_equal(call.status, SOURCE_OK);
	snprintf(port, sizeof(port), "%s", record_get(find(&call, ENTITY_VEHICLE, 0), "colour"));
	source_call_clear(&call);
	run_one(&call, "echo", QUERY_PLATE, QP_PLATE, "B");
	assert_int_equal(call.status, SOURCE_OK);
	/* same client port: the connection was reused */
	expect_field(find(&call, ENTITY_VEHICLE, 0), "colour", port);
	source_call_clear(&call);
}

static void test_concurrent(void **state)
{
	enum { N = 24 };
	struct source_call calls[N];
	struct q qs[N];
	const char *names[N];
	uint64_t t0;
	double ms;

	(void)state;
	SKIP_WITHOUT_SERVER();
	for (size_t i = 0; i < N; i++) {
		names[i] = (i % 4 == 0) ? "hang" : (i % 4 == 1) ? "slow"
				 : (i % 4 == 2) ? "vehicles" : "e500";
		q_init(&qs[i], QUERY_PLATE, QP_PLATE, "1ABC123");
	}
	t0 = loop_now_ns();
	run(calls, names, qs, N);
	ms = loop_ms_since(t0);
	for (size_t i = 0; i < N; i++) {
		enum source_status want = (i % 4 == 0) ? SOURCE_TIMEOUT
					  : (i % 4 == 3) ? SOURCE_ERROR : SOURCE_OK;

		if (calls[i].status != want)
			fail_msg("call %zu (%s): %s: %s", i, names[i],
				 source_status_name(calls[i].status), calls[i].reason);
		if (i % 4 == 2)
			assert_int_equal(calls[i].rows, 1);
		source_call_clear(&calls[i]);
	}
	/* concurrently: bounded by the slowest (hang, 500 ms), not the sum of
	 * the six hangs (3 s); the bound is loose because a loaded 2-core CI
	 * machine can stretch one round trip, and what matters is "not serial" */
	if (ms >= 1500.0)
		fail_msg("%d calls took %.0f ms", N, ms);
}

/* Cancelling mid-transfer: no callback afterwards, and the loop goes on. */
static void on_done_forbidden(struct source_call *call, void *arg)
{
	(void)call;
	(void)arg;
	fail_msg("on_done after cancel");
}

static void on_cancel_timer(evutil_socket_t fd, short what, void *arg)
{
	struct source_call *calls = arg;

	(void)fd;
	(void)what;
	source_call_cancel(&calls[0]);
	source_call_cancel(&calls[1]);
	event_base_loopbreak(fx->loop.base);
}

static void test_cancel(void **state)
{
	struct source_call calls[2], call;
	struct q q;
	struct event *t;
	struct timeval tv = { 0, 200000 };
	struct timeval settle = { 0, 300000 };

	(void)state;
	SKIP_WITHOUT_SERVER();
	q_init(&q, QUERY_PLATE, QP_PLATE, "1ABC123");
	source_call_init(&calls[0], rt_of("hang"), &q.query, on_done_forbidden, NULL);
	source_call_init(&calls[1], rt_of("drip"), &q.query, on_done_forbidden, NULL);
	t = evtimer_new(fx->loop.base, on_cancel_timer, calls);
	assert_non_null(t);
	evtimer_add(t, &tv);
	source_call_start(&calls[0], 0);
	source_call_start(&calls[1], 0);
	event_base_dispatch(fx->loop.base);
	assert_true(calls[0].finished);
	assert_true(calls[1].finished);
	/* let whatever curl still had scheduled run: it must not call back */
	event_base_loopexit(fx->loop.base, &settle);
	event_base_dispatch(fx->loop.base);
	event_free(t);
	source_call_clear(&calls[0]);
	source_call_clear(&calls[1]);
	/* the multi handle still works */
	run_one(&call, "vehicles", QUERY_PLATE, QP_PLATE, "1ABC123");
	assert_int_equal(call.status, SOURCE_OK);
	assert_int_equal(call.rows, 1);
	source_call_clear(&call);
}

/* ------------------------------------------------------------------------ */
/* TLS                                                                      */

#define TLS_SRC(name, url, conn)                                                           \
	"  - name: " name "\n"                                                             \
	"    kind: http\n"                                                                 \
	"    owner: X\n"                                                                   \
	"    classification: strictly_confidential\n"                                      \
	"    connection: " conn "\n"                                                       \
	"    queries: {plate: \"" url "\"}\n"                                              \
	"    map: {rows: /results, vehicle: {plate: /p}}\n"

static const char tls_yaml[] =
	TLS_SRC("system_cas", "https://127.0.0.1:@TLS@/{plate}", "{}")
	TLS_SRC("agency_ca", "https://127.0.0.1:@TLS@/{plate}", "{ca_file: @DIR@/ca.pem}")
	TLS_SRC("wrong_ca", "https://127.0.0.1:@TLS@/{plate}", "{ca_file: @DIR@/other.pem}")
	TLS_SRC("wrong_name", "https://localhost:@TLS@/{plate}", "{ca_file: @DIR@/ca.pem}")
	TLS_SRC("mtls_nocert", "https://127.0.0.1:@MTLS@/{plate}", "{ca_file: @DIR@/ca.pem}")
	TLS_SRC("mtls", "https://127.0.0.1:@MTLS@/{plate}",
		"{ca_file: @DIR@/ca.pem, client_cert: @DIR@/cli.pem, client_key: @DIR@/cli.key}")
	TLS_SRC("mtls_unknown", "https://127.0.0.1:@MTLS@/{plate}",
		"{ca_file: @DIR@/ca.pem, client_cert: @DIR@/other.pem, "
		"client_key: @DIR@/other.key}");

static void test_tls(void **state)
{
	static const struct {
		const char *source;
		enum source_status want;
		const char *reason; /* substring; NULL for OK */
	} cases[] = {
		{ "system_cas", SOURCE_ERROR, "certificate" }, /* verification is on */
		{ "agency_ca", SOURCE_OK, NULL },
		{ "wrong_ca", SOURCE_ERROR, "certificate" },
		{ "wrong_name", SOURCE_ERROR, "certificate" },  /* host name checked */
		{ "mtls_nocert", SOURCE_ERROR, "alert" },
		{ "mtls", SOURCE_OK, NULL },
		{ "mtls_unknown", SOURCE_ERROR, "alert" },
	};
	struct source_set *saved = fx->set, *set = NULL;
	struct config *cfg = NULL;
	struct focal_err err;
	struct source_call call;

	(void)state;
	if (!tls_ready) {
		print_message("openssl tool or s_server unavailable: skipped\n");
		skip();
	}
	if (load(tls_yaml, &cfg, &err) != 0)
		fail_msg("config: %s", err.msg);
	assert_int_equal(source_set_new(&fx->loop, cfg, &set, &err), 0);
	config_unref(cfg); /* the set holds its own reference */
	fx->set = set;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_one(&call, cases[i].source, QUERY_PLATE, QP_PLATE, "r.json");
		if (call.status != cases[i].want ||
		    (cases[i].reason != NULL && strstr(call.reason, cases[i].reason) == NULL)) {
			fx->set = saved;
			fail_msg("%s: %s: %s", cases[i].source, source_status_name(call.status),
				 call.reason);
		}
		if (cases[i].want == SOURCE_OK)
			expect_field(find(&call, ENTITY_VEHICLE, 0), "plate", "TLSOK");
		source_call_clear(&call);
	}
	fx->set = saved;
	source_set_unref(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_hit),
		cmocka_unit_test(test_no_hit),
		cmocka_unit_test(test_row_limit),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_http_500),
		cmocka_unit_test(test_redirect_not_followed),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_drip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_post_headers),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
