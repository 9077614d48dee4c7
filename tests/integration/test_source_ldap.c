/*
 * Integration test of the LDAP connector (src/sources/source_ldap.c) against
 * a real slapd on 127.0.0.1, plus a small fake directory on the test's own
 * loop for what a real server will not do on demand (never answer, answer
 * binds but never searches).
 *
 * FOCAL_TEST_LDAP names the server ("ldap://127.0.0.1:PORT"), with
 * FOCAL_TEST_LDAP_BINDDN / FOCAL_TEST_LDAP_PASSWORD an account that may add
 * and delete entries, e.g. as set up by
 *   tests/integration/slapd_server.sh start /tmp/slapd 38901
 * FOCAL_TEST_LDAP_CA (optional, DIR/tls/ca.pem of that script) enables the
 * StartTLS tests.  Without FOCAL_TEST_LDAP every test that needs the server
 * is skipped; the configuration and fake-server tests always run.
 *
 * Every run loads its entries under its own ou=run-<pid>-<time> and deletes
 * them at the end, so nothing depends on what an earlier run left behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ldap.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/loop.h"
#include "core/workpool.h"
#include "sources/record.h"
#include "sources/source.h"

#define MAX_CALLS 12
#define FAKE_CONNS 8

static char run_base[256];      /* ou=run-...,dc=focal,dc=test */
static bool entries_loaded;
static struct workpool *pool;

/* ---- environment and the directory's test entries ---- */

static const char *env(const char *name)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? s : NULL;
}

static const char *test_ldap(void)
{
	return env("FOCAL_TEST_LDAP") != NULL && env("FOCAL_TEST_LDAP_BINDDN") != NULL &&
			       env("FOCAL_TEST_LDAP_PASSWORD") != NULL
		       ? env("FOCAL_TEST_LDAP")
		       : NULL;
}

struct attr_spec {
	const char *name;
	const char *vals[4];
};

struct entry_spec {
	const char *rdn;
	struct attr_spec attrs[10];
};

/* Jan Peeters has two cn and two telephoneNumber values and an alert
 * (description); five people live in Brugge (for the row limit). */
static const struct entry_spec entries[] = {
	{ "uid=jpeeters",
	  { { "objectClass", { "inetOrgPerson" } },
	    { "uid", { "jpeeters" } },
	    { "sn", { "Peeters" } },
	    { "givenName", { "Jan" } },
	    { "cn", { "Jan Peeters", "J. Peeters" } },
	    { "employeeNumber", { "81031212345" } },
	    { "telephoneNumber", { "+3291234567", "+32470123456" } },
	    { "l", { "Gent" } },
	    { "description", { "gezocht" } } } },
	{ "uid=apeeters",
	  { { "objectClass", { "inetOrgPerson" } },
	    { "uid", { "apeeters" } },
	    { "sn", { "Peeters" } },
	    { "givenName", { "An" } },
	    { "cn", { "An Peeters" } },
	    { "employeeNumber", { "85050512345" } },
	    { "l", { "Gent" } } } },
	{ "uid=mjanssens",
	  { { "objectClass", { "inetOrgPerson" } },
	    { "uid", { "mjanssens" } },
	    { "sn", { "Janssens" } },
	    { "givenName", { "Marie" } },
	    { "cn", { "Marie Janssens" } },
	    { "employeeNumber", { "90010154321" } },
	    { "l", { "Antwerpen" } } } },
	{ "uid=adesmet",
	  { { "objectClass", { "inetOrgPerson" } }, { "sn", { "De Smet" } },
	    { "cn", { "An De Smet" } }, { "l", { "Brugge" } } } },
	{ "uid=lclaes",
	  { { "objectClass", { "inetOrgPerson" } }, { "sn", { "Claes" } },
	    { "cn", { "Luc Claes" } }, { "l", { "Brugge" } } } },
	{ "uid=ewouters",
	  { { "objectClass", { "inetOrgPerson" } }, { "sn", { "Wouters" } },
	    { "cn", { "Els Wouters" } }, { "l", { "Brugge" } } } },
	{ "uid=tmertens",
	  { { "objectClass", { "inetOrgPerson" } }, { "sn", { "Mertens" } },
	    { "cn", { "Tom Mertens" } }, { "l", { "Brugge" } } } },
	{ "uid=swillems",
	  { { "objectClass", { "inetOrgPerson" } }, { "sn", { "Willems" } },
	    { "cn", { "Sara Willems" } }, { "l", { "Brugge" } } } },
};
#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

/* The test's own connection for setup (blocking is fine here). */
static LDAP *admin_connect(void)
{
	const char *pw = env("FOCAL_TEST_LDAP_PASSWORD");
	struct berval cred = { .bv_len = strlen(pw), .bv_val = (char *)pw };
	int v3 = LDAP_VERSION3, rc;
	LDAP *ld = NULL;

	rc = ldap_initialize(&ld, test_ldap());
	if (rc != LDAP_SUCCESS)
		fail_msg("ldap_initialize(%s): %s", test_ldap(), ldap_err2string(rc));
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	rc = ldap_sasl_bind_s(ld, env("FOCAL_TEST_LDAP_BINDDN"), LDAP_SASL_SIMPLE, &cred, NULL,
			      NULL, NULL);
	if (rc != LDAP_SUCCESS)
		fail_msg("bind as %s: %s", env("FOCAL_TEST_LDAP_BINDDN"), ldap_err2string(rc));
	return ld;
}

static void admin_add(LDAP *ld, const char *dn, const struct attr_spec *attrs, size_t nattrs)
{
	LDAPMod mods[12], *pmods[13];
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < nattrs && attrs[i].name != NULL; i++) {
		mods[n].mod_op = LDAP_MOD_ADD;
		mods[n].mod_type = (char *)attrs[i].name;
		mods[n].mod_values = (char **)attrs[i].vals;
		pmods[n] = &mods[n];
		n++;
	}
	pmods[n] = NULL;
	rc = ldap_add_ext_s(ld, dn, pmods, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		fail_msg("add %s: %s", dn, ldap_err2string(rc));
}

static void entry_dn(char *out, size_t len, const char *rdn)
{
	snprintf(out, len, "%s,%s", rdn, run_base);
}

static int group_setup(void **state)
{
	static const struct attr_spec ou[] = { { "objectClass", { "organizationalUnit" } },
					       { "ou", { NULL } } };
	struct attr_spec ou_attrs[2];
	char dn[512], ouname[64];
	struct focal_err err = { 0 };
	LDAP *ld;

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* as focald does */
	if (loop_global_init(&err) != 0 || workpool_create(2, 16, &pool, &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	workpool_set_default(pool); /* for connections opened on a worker */
	snprintf(ouname, sizeof(ouname), "run-%ld-%ld", (long)getpid(), (long)time(NULL));
	snprintf(run_base, sizeof(run_base), "ou=%s,dc=focal,dc=test", ouname);
	if (test_ldap() == NULL)
		return 0;
	ld = admin_connect();
	memcpy(ou_attrs, ou, sizeof(ou_attrs));
	ou_attrs[1].vals[0] = ouname;
	admin_add(ld, run_base, ou_attrs, 2);
	entries_loaded = true;
	for (size_t i = 0; i < NENTRIES; i++) {
		entry_dn(dn, sizeof(dn), entries[i].rdn);
		admin_add(ld, dn, entries[i].attrs, 10);
	}
	ldap_unbind_ext_s(ld, NULL, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	char dn[512];
	LDAP *ld;

	(void)state;
	if (entries_loaded) {
		ld = admin_connect();
		for (size_t i = 0; i < NENTRIES; i++) {
			entry_dn(dn, sizeof(dn), entries[i].rdn);
			ldap_delete_ext_s(ld, dn, NULL, NULL);
		}
		if (ldap_delete_ext_s(ld, run_base, NULL, NULL) != LDAP_SUCCESS)
			fprintf(stderr, "teardown: cannot delete %s\n", run_base);
		ldap_unbind_ext_s(ld, NULL, NULL);
	}
	workpool_set_default(NULL);
	workpool_destroy(pool);
	return 0;
}

#define NEED_SERVER()                                                                   \
	do {                                                                            \
		if (test_ldap() == NULL) {                                              \
			print_message("FOCAL_TEST_LDAP(_BINDDN, _PASSWORD) not set: "   \
				      "skipped\n");                                      \
			skip();                                                         \
		}                                                                       \
	} while (0)

/* ---- a source on a loop ---- */

struct fake;
static void fake_stop(struct fake *fk);

struct fixture {
	struct loop loop;
	struct config *cfg;
	struct source_set *set;
	struct source_call calls[MAX_CALLS];
	struct query queries[MAX_CALLS];
	size_t ncalls;
	int pending;
	bool timed_out;
	struct fake *fake;      /* a fake directory on this loop, or NULL */
};

struct src_opts {
	const char *name;       /* distinct per test: breakers are per name */
	const char *connection; /* the flow mapping's inside */
	long deadline_ms, max_rows, pool_size;
};

static const char map_yaml[] =
	"    queries:\n"
	"      person: \"(&(objectClass=inetOrgPerson)(sn={family_name}))\"\n"
	"      address: \"(&(objectClass=inetOrgPerson)(l={city}))\"\n"
	"      national_number: \"(employeeNumber={national_number})\"\n"
	"    map:\n"
	"      person: {national_number: employeeNumber, family_name: sn,\n"
	"               given_name: GIVENNAME, alias: cn, phone: telephoneNumber,\n"
	"               address: l}\n"
	"      alert: {when: description, category: description, reference: dn}\n";

static int load_config(const struct src_opts *o, struct config **cfg, struct focal_err *err)
{
	static char yaml[8192];
	int n;

	n = snprintf(yaml, sizeof(yaml),
		     "server: {tls_cert: cert.pem, tls_key: key.pem}\n"
		     "defaults: {breaker_failures: 1000}\n"
		     "sources:\n"
		     "  - name: %s\n"
		     "    kind: ldap\n"
		     "    owner: Federale Politie\n"
		     "    classification: restricted\n"
		     "    deadline_ms: %ld\n"
		     "    max_rows: %ld\n"
		     "    pool_size: %ld\n"
		     "    connection: {%s}\n"
		     "%s",
		     o->name, o->deadline_ms, o->max_rows, o->pool_size, o->connection, map_yaml);
	assert_true(n > 0 && (size_t)n < sizeof(yaml));
	return config_load_string("ldap-test.yaml", yaml, (size_t)n, cfg, err);
}

/* "uri: ..., base: <this run's ou>, bind_dn: ..., bind_password: ..." for the
 * test server (uri NULL) or another uri, with extra keys appended. */
static const char *server_connection(const char *uri, const char *extra)
{
	static char buf[2048];
	char bind[1024] = "";

	if (test_ldap() != NULL)
		snprintf(bind, sizeof(bind), ", bind_dn: \"%s\", bind_password: \"%s\"",
			 env("FOCAL_TEST_LDAP_BINDDN"), env("FOCAL_TEST_LDAP_PASSWORD"));
	snprintf(buf, sizeof(buf), "uri: \"%s\", base: \"%s\"%s%s%s",
		 uri != NULL ? uri : test_ldap(), run_base, bind, extra != NULL ? ", " : "",
		 extra != NULL ? extra : "");
	return buf;
}

static void fixture_open(struct fixture *f, const struct src_opts *o)
{
	struct focal_err err = { 0 };

	memset(f, 0, sizeof(*f));
	if (load_config(o, &f->cfg, &err) != 0)
		fail_msg("config: %s", err.msg);
	if (loop_init(&f->loop, 0, &err) != 0)
		fail_msg("loop: %s", err.msg);
	if (source_set_new(&f->loop, f->cfg, &f->set, &err) != 0)
		fail_msg("source set: %s", err.msg);
}

/* Lets the loop run for ms (so that what was written reaches its reader). */
static void run_for(struct fixture *f, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->loop.base, &tv);
	event_base_dispatch(f->loop.base);
}

static void fixture_close(struct fixture *f)
{
	for (size_t i = 0; i < f->ncalls; i++)
		source_call_clear(&f->calls[i]);
	source_set_unref(f->set); /* closes the pool's connections */
	/* what they wrote reaches the fake directory; a connection still
	 * opening on a worker comes back as a posted task */
	run_for(f, 50);
	if (f->fake != NULL)
		fake_stop(f->fake);
	loop_fini(&f->loop);
	config_unref(f->cfg);
}

static void on_done(struct source_call *call, void *arg)
{
	struct fixture *f = arg;

	(void)call;
	if (--f->pending == 0)
		event_base_loopbreak(f->loop.base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *f = arg;

	(void)fd;
	(void)what;
	f->timed_out = true;
	event_base_loopbreak(f->loop.base);
}

/* Starts n calls of kind k with parameter p = values[i % nvalues], runs the
 * loop until all have reported (or a 10 s guard fires); returns elapsed ms. */
static double run_calls_v(struct fixture *f, size_t n, enum query_kind k, enum query_param p,
			  const char *const *values, size_t nvalues)
{
	struct timeval guard = { 10, 0 };
	struct event *gev;
	uint64_t t0 = loop_now_ns();
	size_t first = f->ncalls;

	assert_true(first + n <= MAX_CALLS);
	f->pending = (int)n;
	for (size_t i = first; i < first + n; i++) {
		memset(&f->queries[i], 0, sizeof(f->queries[i]));
		f->queries[i].kind = k;
		f->queries[i].param[p] = (char *)values[(i - first) % nvalues];
		source_call_init(&f->calls[i], &f->set->rt[0], &f->queries[i], on_done, f);
	}
	f->ncalls += n;
	for (size_t i = first; i < first + n; i++)
		source_call_start(&f->calls[i], 0);
	gev = evtimer_new(f->loop.base, on_guard, f);
	assert_non_null(gev);
	evtimer_add(gev, &guard);
	if (f->pending > 0)
		event_base_dispatch(f->loop.base);
	event_free(gev);
	assert_false(f->timed_out);
	assert_int_equal(f->pending, 0);
	return loop_ms_since(t0);
}

static double run_calls(struct fixture *f, size_t n, enum query_kind k, enum query_param p,
			const char *value)
{
	return run_calls_v(f, n, k, p, &value, 1);
}

static const struct record *find_record(const struct source_call *c, enum entity_kind k,
					const char *field, const char *value)
{
	for (size_t i = 0; i < c->records.n; i++) {
		const struct record *r = &c->records.items[i];
		const char *v = record_get(r, field);

		if (r->kind == k && v != NULL && strcmp(v, value) == 0)
			return r;
	}
	return NULL;
}

/* ---- a fake directory on the test's loop ---- */

/* Accepts connections and, depending on its mode, answers binds with
 * success and searches with an empty success, or answers nothing at all.
 * It records what it received, so a test can see abandons and closes. */
struct fake {
	struct event_base *base;
	int lfd, port;
	struct event *lev;
	struct {
		int fd;
		struct event *ev;
		unsigned char buf[8192];
		size_t len;
	} c[FAKE_CONNS];
	int accepted, binds, searches, abandons, unbinds, closed;
	bool answer_bind, answer_search;
	/* sent before the result of each search when set: one LDAPMessage
	 * whose messageID is the one-byte INTEGER at entry[4] */
	const unsigned char *entry;
	size_t entry_len;
};

static void fake_close(struct fake *fk, int i)
{
	event_free(fk->c[i].ev);
	close(fk->c[i].fd);
	fk->c[i].ev = NULL;
	fk->c[i].fd = -1;
}

/* An LDAPResult with resultCode success for msgid id, of APPLICATION tag op. */
static void fake_reply(struct fake *fk, int i, unsigned id, unsigned char op)
{
	unsigned char r[] = { 0x30, 0x0c, 0x02, 0x01, (unsigned char)id, op, 0x07,
			      0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };

	assert_int_equal(write(fk->c[i].fd, r, sizeof(r)), (ssize_t)sizeof(r));
}

/* Handles the complete LDAPMessages in connection i's buffer.  Only what
 * libldap sends us is understood: SEQUENCE, a one-byte INTEGER messageID,
 * then the protocolOp's tag. */
static void fake_process(struct fake *fk, int i)
{
	unsigned char *b = fk->c[i].buf;

	for (;;) {
		size_t len = fk->c[i].len, hl, bl = 0;

		if (len < 2)
			return;
		assert_int_equal(b[0], 0x30);
		if (b[1] < 0x80) {
			hl = 2;
			bl = b[1];
		} else {
			size_t k = b[1] & 0x7f;

			if (len < 2 + k)
				return;
			for (size_t j = 0; j < k; j++)
				bl = (bl << 8) | b[2 + j];
			hl = 2 + k;
		}
		if (len < hl + bl)
			return;
		assert_true(bl >= 4 && b[hl] == 0x02 && b[hl + 1] == 0x01);
		switch (b[hl + 3]) {
		case 0x60: /* BindRequest */
			fk->binds++;
			if (fk->answer_bind)
				fake_reply(fk, i, b[hl + 2], 0x61);
			break;
		case 0x63: /* SearchRequest */
			fk->searches++;
			if (fk->answer_search && fk->entry != NULL) {
				unsigned char e[256];

				assert_true(fk->entry_len <= sizeof(e));
				memcpy(e, fk->entry, fk->entry_len);
				e[4] = b[hl + 2];
				assert_int_equal(write(fk->c[i].fd, e, fk->entry_len),
						 (ssize_t)fk->entry_len);
			}
			if (fk->answer_search)
				fake_reply(fk, i, b[hl + 2], 0x65);
			break;
		case 0x50: /* AbandonRequest */
			fk->abandons++;
			break;
		case 0x42: /* UnbindRequest */
			fk->unbinds++;
			break;
		default:
			fail_msg("fake directory: unexpected request tag 0x%02x", b[hl + 3]);
		}
		memmove(b, b + hl + bl, len - hl - bl);
		fk->c[i].len = len - hl - bl;
	}
}

static void fake_read(evutil_socket_t fd, short what, void *arg)
{
	struct fake *fk = arg;
	ssize_t n;
	int i;

	(void)what;
	for (i = 0; i < FAKE_CONNS && fk->c[i].fd != fd; i++)
		;
	assert_true(i < FAKE_CONNS);
	n = read(fd, fk->c[i].buf + fk->c[i].len, sizeof(fk->c[i].buf) - fk->c[i].len);
	if (n <= 0) {
		fk->closed++;
		fake_close(fk, i);
		return;
	}
	fk->c[i].len += (size_t)n;
	fake_process(fk, i);
}

static void fake_accept(evutil_socket_t fd, short what, void *arg)
{
	struct fake *fk = arg;
	int cfd, i;

	(void)what;
	cfd = accept(fd, NULL, NULL);
	if (cfd < 0)
		return;
	for (i = 0; i < FAKE_CONNS && fk->c[i].fd >= 0; i++)
		;
	assert_true(i < FAKE_CONNS);
	fk->accepted++;
	fk->c[i].fd = cfd;
	fk->c[i].len = 0;
	fk->c[i].ev = event_new(fk->base, cfd, EV_READ | EV_PERSIST, fake_read, fk);
	assert_non_null(fk->c[i].ev);
	event_add(fk->c[i].ev, NULL);
}

static void fake_start(struct fake *fk, struct event_base *base, bool answer_bind,
		       bool answer_search)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	memset(fk, 0, sizeof(*fk));
	for (int i = 0; i < FAKE_CONNS; i++)
		fk->c[i].fd = -1;
	fk->base = base;
	fk->answer_bind = answer_bind;
	fk->answer_search = answer_search;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fk->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fk->lfd >= 0);
	assert_int_equal(bind(fk->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fk->lfd, 16), 0);
	assert_int_equal(getsockname(fk->lfd, (struct sockaddr *)&a, &alen), 0);
	fk->port = ntohs(a.sin_port);
	fk->lev = event_new(base, fk->lfd, EV_READ | EV_PERSIST, fake_accept, fk);
	assert_non_null(fk->lev);
	event_add(fk->lev, NULL);
}

static void fake_stop(struct fake *fk)
{
	for (int i = 0; i < FAKE_CONNS; i++)
		if (fk->c[i].fd >= 0)
			fake_close(fk, i);
	event_free(fk->lev);
	close(fk->lfd);
}

/* A port where nothing listens. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* ---- tests against the real directory ---- */

/* Both Peeters: every mapped field, a multi-valued attribute joined with
 * "; ", an attribute named in another case, the DN, and the alert that
 * only Jan's entry (with a description) gives. */
static void test_hit(void **state)
{
	struct fixture f;
	struct src_opts o = { "ldap_hit", server_connection(NULL, NULL), 2000, 10, 2 };
	const struct record *p, *a;
	char dn[512];

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 2);
	assert_int_equal(f.calls[0].records.n, 3);
	p = find_record(&f.calls[0], ENTITY_PERSON, "national_number", "81031212345");
	assert_non_null(p);
	assert_string_equal(record_get(p, "family_name"), "Peeters");
	assert_string_equal(record_get(p, "given_name"), "Jan");
	assert_string_equal(record_get(p, "address"), "Gent");
	assert_true(strcmp(record_get(p, "alias"), "Jan Peeters; J. Peeters") == 0 ||
		    strcmp(record_get(p, "alias"), "J. Peeters; Jan Peeters") == 0);
	assert_true(strcmp(record_get(p, "phone"), "+3291234567; +32470123456") == 0 ||
		    strcmp(record_get(p, "phone"), "+32470123456; +3291234567") == 0);
	p = find_record(&f.calls[0], ENTITY_PERSON, "national_number", "85050512345");
	assert_non_null(p);
	assert_string_equal(record_get(p, "given_name"), "An");
	assert_string_equal(record_get(p, "alias"), "An Peeters");
	assert_null(record_get(p, "phone"));
	a = find_record(&f.calls[0], ENTITY_ALERT, "category", "gezocht");
	assert_non_null(a);
	entry_dn(dn, sizeof(dn), "uid=jpeeters");
	assert_string_equal(record_get(a, "reference"), dn);
	assert_string_equal(a->source, "ldap_hit");
	fixture_close(&f);
}

static void test_no_hit(void **state)
{
	struct fixture f;
	struct src_opts o = { "ldap_nohit", server_connection(NULL, NULL), 2000, 10, 2 };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Vermeulen");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 0);
	assert_int_equal(f.calls[0].records.n, 0);
	/* a parameter the template uses but the query lacks renders empty */
	run_calls(&f, 1, QUERY_NATIONAL_NUMBER, QP_FAMILY_NAME, "81031212345");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(f.calls[1].rows, 0);
	fixture_close(&f);
}

/* Five people in Brugge, max_rows 3: truncated with exactly 3; the rest of
 * the answer is abandoned and the single pooled connection serves the next
 * call at once. */
static void test_row_limit(void **state)
{
	struct fixture f;
	struct src_opts o = { "ldap_limit", server_connection(NULL, NULL), 2000, 3, 1 };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_ADDRESS, QP_CITY, "Brugge");
	assert_int_equal(f.calls[0].status, SOURCE_TRUNCATED);
	assert_int_equal(f.calls[0].rows, 3);
	assert_int_equal(f.calls[0].records.n, 3);
	run_calls(&f, 1, QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, "90010154321");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(f.calls[1].rows, 1);
	assert_non_null(find_record(&f.calls[1], ENTITY_PERSON, "family_name", "Janssens"));
	fixture_close(&f);
}

/* A value is only ever data (RFC 4515 escaping): filter syntax in a search
 * term finds nothing, where unescaped it would match every entry. */
static void test_injection(void **state)
{
	struct fixture f;
	struct src_opts o = { "ldap_inject", server_connection(NULL, NULL), 2000, 50, 2 };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "*)(uid=*))(|(uid=*");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 0);
	assert_int_equal(f.calls[0].records.n, 0);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "*");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(f.calls[1].rows, 0);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters)(sn=*");
	assert_int_equal(f.calls[2].status, SOURCE_OK);
	assert_int_equal(f.calls[2].rows, 0);
	fixture_close(&f);
}

static void test_wrong_password(void **state)
{
	struct fixture f;
	char conn[1024];
	struct src_opts o = { "ldap_badpw", conn, 2000, 10, 2 };

	(void)state;
	NEED_SERVER();
	snprintf(conn, sizeof(conn),
		 "uri: \"%s\", base: \"%s\", bind_dn: \"%s\", bind_password: \"not-the-password\"",
		 test_ldap(), run_base, env("FOCAL_TEST_LDAP_BINDDN"));
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_ERROR);
	assert_int_equal(f.calls[0].records.n, 0);
	assert_non_null(strstr(f.calls[0].reason, "bind failed"));
	assert_non_null(strstr(f.calls[0].reason, "Invalid credentials"));
	assert_null(strstr(f.calls[0].reason, "not-the-password"));
	fixture_close(&f);
}

/* The password read from a file (with its final newline) binds. */
static void test_password_file(void **state)
{
	struct fixture f;
	char path[] = "/tmp/focal-ldap-pw-XXXXXX", conn[1024];
	struct src_opts o = { "ldap_pwfile", conn, 2000, 10, 1 };
	int fd;

	(void)state;
	NEED_SERVER();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(dprintf(fd, "%s\n", env("FOCAL_TEST_LDAP_PASSWORD")) > 0);
	close(fd);
	snprintf(conn, sizeof(conn),
		 "uri: \"%s\", base: \"%s\", bind_dn: \"%s\", bind_password_file: \"%s\", "
		 "scope: one",
		 test_ldap(), run_base, env("FOCAL_TEST_LDAP_BINDDN"), path);
	fixture_open(&f, &o);
	unlink(path);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Janssens");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 1);
	fixture_close(&f);
}

/* scope: base searches the base entry only, which is no person. */
static void test_scope_base(void **state)
{
	struct fixture f;
	struct src_opts o = { "ldap_scope", server_connection(NULL, "scope: base"), 2000, 10, 1 };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 0);
	fixture_close(&f);
}

/* A base that does not exist is an error, with a reason that says so. */
static void test_missing_base(void **state)
{
	struct fixture f;
	char conn[1024];
	struct src_opts o = { "ldap_nobase", conn, 2000, 10, 1 };

	(void)state;
	NEED_SERVER();
	snprintf(conn, sizeof(conn),
		 "uri: \"%s\", base: \"ou=nowhere,%s\", bind_dn: \"%s\", bind_password: \"%s\"",
		 test_ldap(), run_base, env("FOCAL_TEST_LDAP_BINDDN"),
		 env("FOCAL_TEST_LDAP_PASSWORD"));
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_ERROR);
	assert_non_null(strstr(f.calls[0].reason, "base does not exist"));
	fixture_close(&f);
}

/* Ten calls at once on one loop, pool of two: every one answered right. */
static void test_concurrent(void **state)
{
	static const char *const names[] = { "Peeters", "Janssens", "Vermeulen", "Claes",
					     "Willems" };
	static const size_t want[] = { 2, 1, 0, 1, 1 };
	struct fixture f;
	struct src_opts o = { "ldap_many", server_connection(NULL, NULL), 3000, 10, 2 };

	(void)state;
	NEED_SERVER();
	fixture_open(&f, &o);
	run_calls_v(&f, 10, QUERY_PERSON, QP_FAMILY_NAME, names, 5);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(f.calls[i].status, SOURCE_OK);
		assert_int_equal(f.calls[i].rows, want[i % 5]);
		if (want[i % 5] > 0)
			assert_non_null(find_record(&f.calls[i], ENTITY_PERSON, "family_name",
						    names[i % 5]));
	}
	fixture_close(&f);
}

/* A host name is resolved and connected on the worker pool, then the
 * connection works on the loop like any other. */
static void test_host_name(void **state)
{
	struct fixture f;
	char uri[256];
	const char *port;
	struct src_opts o = { "ldap_name", NULL, 2000, 10, 1 };

	(void)state;
	NEED_SERVER();
	port = strrchr(test_ldap(), ':');
	assert_non_null(port);
	snprintf(uri, sizeof(uri), "ldap://localhost%s", port);
	o.connection = server_connection(uri, NULL);
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Janssens");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 1);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(f.calls[1].rows, 2);
	fixture_close(&f);
}

/* StartTLS with the server's CA: works; with a CA that did not sign the
 * server's certificate: an error that names TLS, never plain text. */
static void test_starttls(void **state)
{
	struct fixture f;
	char extra[1024];
	struct src_opts o = { "ldap_tls", NULL, 3000, 10, 1 };

	(void)state;
	NEED_SERVER();
	if (env("FOCAL_TEST_LDAP_CA") == NULL) {
		print_message("FOCAL_TEST_LDAP_CA not set: skipped\n");
		skip();
	}
	snprintf(extra, sizeof(extra), "starttls: true, ca_file: \"%s\"", env("FOCAL_TEST_LDAP_CA"));
	o.connection = server_connection(NULL, extra);
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 2);
	fixture_close(&f);
}

static void test_starttls_wrong_ca(void **state)
{
	struct fixture f;
	char path[] = "/tmp/focal-ldap-ca-XXXXXX", extra[1024];
	struct src_opts o = { "ldap_tls_bad", NULL, 3000, 10, 1 };
	FILE *in, *out;
	char line[256];
	int fd;
	bool copy = false;

	(void)state;
	NEED_SERVER();
	if (env("FOCAL_TEST_LDAP_CA") == NULL) {
		print_message("FOCAL_TEST_LDAP_CA not set: skipped\n");
		skip();
	}
	/* some other CA: the first certificate of the system bundle */
	in = fopen("/etc/ssl/certs/ca-certificates.crt", "r");
	if (in == NULL) {
		print_message("no system CA bundle: skipped\n");
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	out = fdopen(fd, "w");
	assert_non_null(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strstr(line, "BEGIN CERTIFICATE") != NULL)
			copy = true;
		if (copy)
			fputs(line, out);
		if (strstr(line, "END CERTIFICATE") != NULL && copy)
			break;
	}
	fclose(in);
	fclose(out);
	snprintf(extra, sizeof(extra), "starttls: true, ca_file: \"%s\"", path);
	o.connection = server_connection(NULL, extra);
	fixture_open(&f, &o);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	unlink(path);
	assert_int_equal(f.calls[0].status, SOURCE_ERROR);
	assert_non_null(strstr(f.calls[0].reason, "StartTLS: TLS handshake failed"));
	fixture_close(&f);
}

/* ---- tests without the real directory ---- */

static void test_refused(void **state)
{
	struct fixture f;
	char uri[64];
	struct src_opts o = { "ldap_refused", NULL, 2000, 10, 2 };
	double ms;

	(void)state;
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", closed_port());
	o.connection = server_connection(uri, NULL);
	fixture_open(&f, &o);
	ms = run_calls(&f, 3, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(f.calls[i].status, SOURCE_ERROR);
		assert_non_null(strstr(f.calls[i].reason, "connect"));
	}
	assert_true(ms < 1000);
	fixture_close(&f);
}

/* A source on a new loop that talks to a new fake directory on that loop. */
static void fixture_open_fake(struct fixture *f, struct fake *fk, const char *name,
			      long deadline_ms, long pool_size, bool answer_bind,
			      bool answer_search)
{
	static char conn[128];
	struct src_opts o = { name, conn, deadline_ms, 10, pool_size };
	struct focal_err err = { 0 };

	memset(f, 0, sizeof(*f));
	if (loop_init(&f->loop, 0, &err) != 0)
		fail_msg("loop: %s", err.msg);
	fake_start(fk, f->loop.base, answer_bind, answer_search);
	f->fake = fk;
	snprintf(conn, sizeof(conn), "uri: \"ldap://127.0.0.1:%d\", base: \"dc=focal,dc=test\"",
		 fk->port);
	if (load_config(&o, &f->cfg, &err) != 0 || source_set_new(&f->loop, f->cfg, &f->set, &err) != 0)
		fail_msg("%s", err.msg);
}

/* A server that accepts the connection but never answers: TIMEOUT at the
 * deadline (not later), and the loop was never blocked meanwhile (the fake
 * directory runs on the same loop and received the bind). */
static void test_silent_server(void **state)
{
	struct fixture f;
	struct fake fk;
	double ms;

	(void)state;
	fixture_open_fake(&f, &fk, "ldap_silent", 300, 2, false, false);
	ms = run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_TIMEOUT);
	assert_true(ms >= 290 && ms < 500);
	assert_int_equal(f.calls[0].records.n, 0);
	assert_int_equal(fk.accepted, 1);
	assert_int_equal(fk.binds, 1);
	assert_int_equal(fk.searches, 0);
	fixture_close(&f);
}

/* A server that binds but never answers the search: TIMEOUT at the deadline;
 * the half-used connection is abandoned and closed, not pooled, so the next
 * call opens a new one. */
static void test_cancel_mid_search(void **state)
{
	struct fixture f;
	struct fake fk;
	double ms;

	(void)state;
	fixture_open_fake(&f, &fk, "ldap_midsearch", 300, 1, true, false);
	ms = run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_TIMEOUT);
	assert_true(ms >= 290 && ms < 500);
	run_for(&f, 100);
	assert_int_equal(fk.searches, 1);
	assert_int_equal(fk.abandons, 1);
	assert_int_equal(fk.closed, 1);
	/* the next call needs (and gets) a new connection */
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[1].status, SOURCE_TIMEOUT);
	assert_int_equal(fk.accepted, 2);
	assert_int_equal(fk.binds, 2);
	fixture_close(&f);
}

/* Pool of two, six calls at once then two more: two connections only, each
 * bound once and reused; an empty search result is OK with no rows; closing
 * the pool unbinds both. */
static void test_pool_limit(void **state)
{
	struct fixture f;
	struct fake fk;

	(void)state;
	fixture_open_fake(&f, &fk, "ldap_pool", 2000, 2, true, true);
	run_calls(&f, 6, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(f.calls[i].status, SOURCE_OK);
		assert_int_equal(f.calls[i].rows, 0);
	}
	run_calls(&f, 2, QUERY_PERSON, QP_FAMILY_NAME, "Janssens");
	assert_int_equal(f.calls[6].status, SOURCE_OK);
	assert_int_equal(f.calls[7].status, SOURCE_OK);
	assert_int_equal(fk.accepted, 2);
	assert_int_equal(fk.binds, 2);
	assert_int_equal(fk.searches, 8);
	assert_int_equal(fk.abandons, 0);
	source_set_unref(f.set);
	f.set = NULL;
	run_for(&f, 100);
	assert_int_equal(fk.unbinds, 2);
	assert_int_equal(fk.closed, 2);
	for (size_t i = 0; i < f.ncalls; i++)
		source_call_clear(&f.calls[i]);
	fake_stop(&fk);
	loop_fini(&f.loop);
	config_unref(f.cfg);
}

/* The directory closes an idle pooled connection (restart, idle timeout):
 * the pool notices and the next call gets a new connection, not an error. */
static void test_server_closes_idle(void **state)
{
	struct fixture f;
	struct fake fk;

	(void)state;
	fixture_open_fake(&f, &fk, "ldap_closed", 2000, 1, true, true);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	for (int i = 0; i < FAKE_CONNS; i++)
		if (fk.c[i].fd >= 0)
			fake_close(&fk, i);
	run_for(&f, 50);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[1].status, SOURCE_OK);
	assert_int_equal(fk.accepted, 2);
	assert_int_equal(fk.binds, 2);
	fixture_close(&f);
}

/* Regression (fuzz_ldap_answer): the entry's DN went into the records as
 * the server sent it, and libldap does not check that it is UTF-8 text.  A
 * DN that is not is now repaired with U+FFFD by the mapping, as every
 * connector's values are (utf8text.h); the rest of the entry is mapped. */
static void test_dn_not_utf8(void **state)
{
	/* SearchResultEntry, DN "cn=\xc3\x28,dc=x" (an invalid sequence),
	 * sn: Peeters, description: gezocht */
	static const unsigned char entry[] = {
		0x30, 0x3c, 0x02, 0x01, 0x00, 0x64, 0x37,
		0x04, 0x0a, 'c', 'n', '=', 0xc3, 0x28, ',', 'd', 'c', '=', 'x',
		0x30, 0x29,
		0x30, 0x0f, 0x04, 0x02, 's', 'n', 0x31, 0x09, 0x04, 0x07,
		'P', 'e', 'e', 't', 'e', 'r', 's',
		0x30, 0x16, 0x04, 0x0b, 'd', 'e', 's', 'c', 'r', 'i', 'p', 't', 'i', 'o', 'n',
		0x31, 0x07, 0x04, 0x05, 'w', 'a', 'n', 't', 'd',
	};
	struct fixture f;
	struct fake fk;
	const struct record *a;

	(void)state;
	fixture_open_fake(&f, &fk, "ldap_dn_utf8", 2000, 1, true, true);
	fk.entry = entry;
	fk.entry_len = sizeof(entry);
	run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_OK);
	assert_int_equal(f.calls[0].rows, 1);
	assert_non_null(find_record(&f.calls[0], ENTITY_PERSON, "family_name", "Peeters"));
	a = find_record(&f.calls[0], ENTITY_ALERT, "category", "wantd");
	assert_non_null(a);
	/* the DN, its invalid byte replaced */
	assert_string_equal(record_get(a, "reference"), "cn=\xef\xbf\xbd(,dc=x");
	fixture_close(&f);
}

/* Regression (fuzz_ldap_answer): a message whose protocolOp tag is 0 made
 * ldap_result return 0 ("nothing yet") with the message set; the connector
 * leaked it and kept reading, so a server could grow focald's memory one
 * message at a time until the deadline.  Now the connection is dropped
 * with a clear error at once (and LeakSanitizer would fail this test if
 * the message leaked). */
static void test_tag0_message(void **state)
{
	static const unsigned char msg[] = { 0x30, 0x05, 0x02, 0x01, 0x00, 0x00, 0x00 };
	struct fixture f;
	struct fake fk;
	double ms;

	(void)state;
	fixture_open_fake(&f, &fk, "ldap_tag0", 2000, 1, true, true);
	fk.entry = msg;
	fk.entry_len = sizeof(msg);
	ms = run_calls(&f, 1, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_ERROR);
	print_message("reason: %s\n", f.calls[0].reason);
	assert_non_null(strstr(f.calls[0].reason, "connection lost"));
	assert_true(ms < 1000); /* not the deadline */
	fixture_close(&f);
}

static void on_done_free_set(struct source_call *call, void *arg)
{
	struct fixture *f = arg;

	(void)call;
	source_set_unref(f->set); /* the last reference: frees the pool now */
	f->set = NULL;
	if (--f->pending == 0)
		event_base_loopbreak(f->loop.base);
}

/* Starts one call whose callback frees the source set (and so the pool that
 * is reporting it), and runs the loop until it has reported. */
static void run_call_free_set(struct fixture *f, enum query_kind k, enum query_param p,
			      const char *value)
{
	struct timeval guard = { 10, 0 };

	memset(&f->queries[0], 0, sizeof(f->queries[0]));
	f->queries[0].kind = k;
	f->queries[0].param[p] = (char *)value;
	source_call_init(&f->calls[0], &f->set->rt[0], &f->queries[0], on_done_free_set, f);
	f->ncalls = 1;
	f->pending = 1;
	source_call_start(&f->calls[0], 0);
	event_base_loopexit(f->loop.base, &guard);
	event_base_dispatch(f->loop.base);
	assert_int_equal(f->pending, 0);
	assert_null(f->set);
}

/* The pool is freed from the callback of the call it is reporting, once
 * while failing a connection attempt and once mid-answer (row limit). */
static void test_free_in_callback(void **state)
{
	struct fixture f;
	char uri[64];
	struct src_opts o = { "ldap_free", NULL, 2000, 3, 1 };

	(void)state;
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", closed_port());
	o.connection = server_connection(uri, NULL);
	fixture_open(&f, &o);
	run_call_free_set(&f, QUERY_PERSON, QP_FAMILY_NAME, "Peeters");
	assert_int_equal(f.calls[0].status, SOURCE_ERROR);
	fixture_close(&f);
	if (test_ldap() == NULL)
		return;
	o.connection = server_connection(NULL, NULL);
	fixture_open(&f, &o);
	run_call_free_set(&f, QUERY_ADDRESS, QP_CITY, "Brugge");
	assert_int_equal(f.calls[0].status, SOURCE_TRUNCATED);
	assert_int_equal(f.calls[0].records.n, 3);
	fixture_close(&f);
}

/* ---- configuration ---- */

static void expect_config_error(const char *connection, const char *want)
{
	struct src_opts o = { "ldap_cfg", connection, 2000, 10, 1 };
	struct focal_err err = { 0 };
	struct config *cfg = NULL;

	if (load_config(&o, &cfg, &err) == 0) {
		config_unref(cfg);
		fail_msg("accepted: {%s}", connection);
	}
	if (strstr(err.msg, want) == NULL || strstr(err.msg, "ldap-test.yaml:") == NULL)
		fail_msg("{%s}: got \"%s\", want \"%s\" with a position", connection, err.msg, want);
}

static void test_config_errors(void **state)
{
	struct src_opts ok = { "ldap_cfg_ok",
			       "uri: \"ldap://127.0.0.1\", base: \"dc=focal,dc=test\", "
			       "bind_dn: \"cn=x,dc=focal,dc=test\", bind_password: pw, scope: one",
			       2000, 10, 1 };
	struct focal_err err = { 0 };
	struct config *cfg = NULL;

	(void)state;
	if (load_config(&ok, &cfg, &err) != 0)
		fail_msg("valid configuration refused: %s", err.msg);
	config_unref(cfg);

	expect_config_error("base: \"dc=focal,dc=test\"", "missing required key 'uri'");
	expect_config_error("uri: \"ldap://127.0.0.1\"", "missing required key 'base'");
	expect_config_error("uri: \"ldapi:///\", base: \"dc=x\"", "ldapi");
	expect_config_error("uri: \"http://127.0.0.1\", base: \"dc=x\"", "not an LDAP URI");
	expect_config_error("uri: \"ldap://127.0.0.1 ldap://127.0.0.2\", base: \"dc=x\"",
			    "one ldap://");
	expect_config_error("uri: \"ldap://127.0.0.1/dc=x??sub?(uid=a)\", base: \"dc=x\"",
			    "only scheme, host and port");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"not a dn\"",
			    "not a distinguished name");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", scope: subtree",
			    "scope: expected one of sub, one, base");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", bind_dn: \"cn=a,dc=x\"",
			    "bind_dn needs bind_password");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", bind_password: pw",
			    "needs bind_dn");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", bind_dn: \"cn=a,dc=x\", "
			    "bind_password: pw, bind_password_file: /etc/passwd",
			    "not both");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", bind_dn: \"cn=a,dc=x\", "
			    "bind_password_file: /nonexistent/pw",
			    "bind_password_file: cannot open");
	expect_config_error("uri: \"ldaps://127.0.0.1\", base: \"dc=x\", starttls: true",
			    "ldaps:// is TLS already");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", ca_file: /etc/passwd",
			    "only used with TLS");
	expect_config_error("uri: \"ldaps://127.0.0.1\", base: \"dc=x\", ca_file: /nonexistent",
			    "ca_file: cannot read");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", starttls: maybe",
			    "starttls: expected one of false, true");
	expect_config_error("uri: \"ldap://127.0.0.1\", base: \"dc=x\", port: 389",
			    "unknown key 'port'");
}

/* A filter template whose parentheses do not balance is refused at load,
 * with the position of the template. */
static void test_config_bad_filter(void **state)
{
	static const char yaml[] =
		"server: {tls_cert: cert.pem, tls_key: key.pem}\n"
		"sources:\n"
		"  - name: ldap_badfilter\n"
		"    kind: ldap\n"
		"    owner: Federale Politie\n"
		"    classification: restricted\n"
		"    connection: {uri: \"ldap://127.0.0.1\", base: \"dc=x\"}\n"
		"    queries:\n"
		"      person: \"(&(objectClass=person)(sn={family_name})\"\n"
		"    map:\n"
		"      person: {family_name: sn}\n";
	struct focal_err err = { 0 };
	struct config *cfg = NULL;

	(void)state;
	assert_int_not_equal(config_load_string("ldap-test.yaml", yaml, sizeof(yaml) - 1, &cfg, &err),
			     0);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, "ldap-test.yaml:9:15"));
	assert_non_null(strstr(err.msg, "unbalanced parentheses"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_bad_filter),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_cancel_mid_search),
		cmocka_unit_test(test_pool_limit),
		cmocka_unit_test(test_server_closes_idle),
		cmocka_unit_test(test_dn_not_utf8),
		cmocka_unit_test(test_tag0_message),
		cmocka_unit_test(test_free_in_callback),
		cmocka_unit_test(test_hit),
		cmocka_unit_test(test_no_hit),
		cmocka_unit_test(test_row_limit),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_scope_base),
		cmocka_unit_test(test_missing_base),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_host_name),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_starttls_wrong_ca),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
