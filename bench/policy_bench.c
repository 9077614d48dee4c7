/*
 * policy_bench: what the access policy costs a search (policy/policy.h), on
 * a realistic policy: 50 rules (roles, units, clearance, MFA age, owners,
 * classifications, source lists and prefixes, field redactions, purpose
 * codes, time windows) over 60 sources.  Prints nanoseconds per decision and
 * per search plan; asserts nothing (unit tests never time anything).
 *
 *   meson compile -C build policy_bench && build/policy_bench [iterations]
 *
 * For comparison: Cedar's published evaluation figures are a median of
 * roughly 4–11 µs per authorization request (docs/policy.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/principal.h"
#include "core/config.h"
#include "policy/policy.h"
#include "search/query.h"

#define NSOURCES 60
#define NRULES 50

static const char *const owners[] = { "Federal Police", "Local Police", "Justice", "Mobility",
				      "City", "Customs" };
static const char *const classes[] = { "not_sensitive", "restricted", "strictly_confidential" };

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine may be shared */
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Appends printf output to a growing buffer. */
static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		*cap *= 2;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			abort();
	}
}

static char *make_config(const char *policy_path)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);

	if (b == NULL)
		abort();
	put(&b, &len, &cap, "server: {tls_cert: c.pem, tls_key: k.pem}\nsources:\n");
	for (int i = 0; i < NSOURCES; i++)
		put(&b, &len, &cap,
		    "  - {name: src-%02d, kind: sqlite, owner: %s, classification: %s,\n"
		    "     connection: {path: /dev/null},\n"
		    "     queries: {person: \"SELECT * FROM t WHERE n = :family_name\"},\n"
		    "     map: {person: {family_name: n}}}\n",
		    i, owners[i % 6], classes[i % 3]);
	put(&b, &len, &cap, "policy: {file: %s}\n", policy_path);
	return b;
}

static char *make_policy(void)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);

	if (b == NULL)
		abort();
	put(&b, &len, &cap,
	    "version: 1\nroles: [officer, investigator, traffic, admin, auditor]\n"
	    "purpose: {codes: [intervention, investigation, traffic_control]}\nrules:\n");
	for (int r = 0; r < NRULES; r++) {
		switch (r % 5) {
		case 0:
			put(&b, &len, &cap,
			    "  - {name: r%d, effect: allow, actions: [search, view],\n"
			    "     subject: {roles: [officer, investigator], units: [ANT-*, GENT-%d]},\n"
			    "     resource: {owner: [%s, City]}}\n", r, r, owners[r % 6]);
			break;
		case 1:
			put(&b, &len, &cap,
			    "  - {name: r%d, effect: allow, actions: [search, view],\n"
			    "     subject: {clearance: restricted, mfa_max_age: 8h},\n"
			    "     resource: {classification: [restricted], sources: [src-%02d, src-%02d, src-1*]},\n"
			    "     context: {purpose: [intervention, investigation], case_ref: true}}\n",
			    r, r % NSOURCES, (r * 7) % NSOURCES);
			break;
		case 2:
			put(&b, &len, &cap,
			    "  - {name: r%d, effect: deny, actions: [view], subject: {roles: [traffic]},\n"
			    "     resource: {fields: [person.phone, person.birth_place, report.summary]}}\n",
			    r);
			break;
		case 3:
			put(&b, &len, &cap,
			    "  - {name: r%d, effect: deny, actions: [search],\n"
			    "     resource: {sources: [src-%02d]}, context: {hours: \"01:00-05:00\"},\n"
			    "     reason: maintenance}\n", r, (r * 3) % NSOURCES);
			break;
		default:
			put(&b, &len, &cap,
			    "  - {name: r%d, effect: allow, actions: [administer],\n"
			    "     subject: {roles: [admin]}, resource: {admin: [users, sources]}}\n", r);
			break;
		}
	}
	return b;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	char policy_path[] = "/tmp/focal-policy-bench-XXXXXX";
	struct config *cfg = NULL;
	struct query_request *req = NULL;
	struct policy_plan *plan = NULL;
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;
	struct focal_err err;
	char *text, *ptext;
	double t0, t;
	size_t allowed = 0;
	int fd;
	FILE *f;

	if (iters < 1)
		iters = 1;
	if ((fd = mkstemp(policy_path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		return 1;
	ptext = make_policy();
	fputs(ptext, f);
	fclose(f);
	text = make_config(policy_path);
	if (config_load_string("bench.yaml", text, strlen(text), &cfg, &err) != 0) {
		fprintf(stderr, "policy_bench: %s\n", err.msg);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.user, sizeof(p.user), "jdoe");
	snprintf(p.unit, sizeof(p.unit), "ANT-PATROL-3");
	snprintf(p.roles[p.nroles++], sizeof(p.roles[0]), "officer");
	snprintf(p.roles[p.nroles++], sizeof(p.roles[0]), "traffic");
	p.clearance = CLASS_RESTRICTED;
	p.mfa = true;
	policy_context_now(&ctx);
	p.auth_time_ms = ctx.now_ms - 3600 * 1000;
	ctx.purpose = "intervention";
	ctx.case_ref = "PV-2026-0042";
	ctx.minute_of_day = 14 * 60;

	/* one decision: search on one source, with its field redactions */
	t0 = now_ns();
	for (long i = 0; i < iters; i++)
		for (size_t s = 0; s < NSOURCES; s++) {
			policy_decide(policy_of(cfg), &p, &ctx, POLICY_SEARCH, s, -1, &d);
			allowed += d.verdict != POLICY_DENY;
		}
	t = now_ns() - t0;
	printf("policy_decide (search + redaction): %.0f ns per decision (%d rules, %d sources, "
	       "%zu allowed)\n", t / ((double)iters * NSOURCES), NRULES, NSOURCES,
	       allowed / (size_t)iters);

	/* a whole search's plan: every source at once, rules' subject and context
	 * evaluated once */
	if (query_request_from_text("Jan Peeters", &req, &err) != 0)
		return 1;
	req->purpose = strdup(ctx.purpose);
	req->case_ref = strdup(ctx.case_ref);
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		if (policy_plan_new(cfg, &p, req, &ctx, &plan, &err) != 0)
			return 1;
		policy_plan_free(plan);
	}
	t = now_ns() - t0;
	printf("policy_plan_new (one search, %d sources): %.0f ns per plan, %.0f ns per source\n",
	       NSOURCES, t / (double)iters, t / ((double)iters * NSOURCES));
	query_request_free(req);
	config_unref(cfg);
	unlink(policy_path);
	free(text);
	free(ptext);
	return 0;
}
