/*
 * test_policy: the access policy (policy/policy.h): every kind of rule
 * condition, default deny, deny beats allow, the clearance ceiling, field
 * redaction of arriving records, purpose binding and justification prompts,
 * administer decisions, fail closed, and validation errors at their
 * file:line:col.  Policies are bound to a real configuration of SQLite
 * sources (config_load_string), as focald binds them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "auth/principal.h"
#include "core/config.h"
#include "core/metrics.h"
#include "http/server.h"
#include "policy/policy.h"
#include "search/query.h"
#include "sources/breaker.h"
#include "sources/record.h"
#include "sources/source.h"
#include "testutil.h"

enum { PUB = 0, REG, WANTED, REPORTS, PLATES };

static char tmpdir[64], dbpath[128];
static struct config *cfg;

static const char config_head[] =
	"server: {tls_cert: c.pem, tls_key: k.pem}\n"
	"sources:\n"
	"  - {name: pub, kind: sqlite, owner: City, classification: not_sensitive,\n"
	"     connection: {path: @DB@}, queries: {person: \"SELECT * FROM t WHERE n = :family_name\"},\n"
	"     map: {person: {family_name: n}}}\n"
	"  - {name: reg, kind: sqlite, owner: Federal Police, classification: restricted,\n"
	"     connection: {path: @DB@}, queries: {person: \"SELECT * FROM t WHERE n = :family_name\"},\n"
	"     map: {person: {family_name: n}}}\n"
	"  - {name: wanted, kind: sqlite, owner: Federal Police, classification: strictly_confidential,\n"
	"     connection: {path: @DB@}, queries: {person: \"SELECT * FROM t WHERE n = :family_name\"},\n"
	"     map: {alert: {subject_name: n}}}\n"
	"  - {name: pol-reports, kind: sqlite, owner: Local Police, classification: strictly_confidential,\n"
	"     connection: {path: @DB@}, queries: {person: \"SELECT * FROM t WHERE n = :family_name\"},\n"
	"     map: {report: {involved_name: n}}}\n"
	"  - {name: plates, kind: sqlite, owner: City, classification: not_sensitive,\n"
	"     connection: {path: @DB@}, queries: {plate: \"SELECT * FROM t WHERE n = :plate\"},\n"
	"     map: {vehicle: {plate: n}}}\n";

/* Replaces every "@DB@" in text by dbpath (caller frees). */
static char *with_db(const char *text)
{
	return testutil_replace(text, "@DB@", dbpath);
}

static int setup(void **state)
{
	sqlite3 *db = NULL;
	struct focal_err err;
	char *text;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/focal-policy-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/t.db", tmpdir);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE t (n TEXT);", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	text = with_db(config_head);
	if (config_load_string("focal.yaml", text, strlen(text), &cfg, &err) != 0) {
		fprintf(stderr, "config: %s\n", err.msg);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_unref(cfg);
	unlink(dbpath);
	rmdir(tmpdir);
	breaker_shutdown();
	metrics_shutdown();
	return 0;
}

static struct policy *load(const char *text)
{
	struct policy *pol = NULL;
	struct focal_err err;

	if (policy_load_string("p.yaml", text, strlen(text), cfg, &pol, &err) != 0)
		fail_msg("policy: %s", err.msg);
	return pol;
}

/* The error of loading text, which must fail. */
static void load_fails(const char *text, const char *where, const char *what)
{
	struct policy *pol = NULL;
	struct focal_err err;

	if (policy_load_string("p.yaml", text, strlen(text), cfg, &pol, &err) == 0) {
		policy_free(pol);
		fail_msg("accepted: %s", text);
	}
	assert_null(pol);
	if (getenv("SHOW") != NULL)
		fprintf(stderr, "%s\n", err.msg);
	if (strncmp(err.msg, where, strlen(where)) != 0 || strstr(err.msg, what) == NULL)
		fail_msg("expected \"%s ... %s\", got \"%s\"", where, what, err.msg);
}

static void who(struct auth_principal *p, const char *roles, const char *unit,
		enum classification clearance)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->user, sizeof(p->user), "jdoe");
	snprintf(p->unit, sizeof(p->unit), "%s", unit);
	for (const char *r = roles; *r != '\0';) {
		size_t n = strcspn(r, ",");

		snprintf(p->roles[p->nroles++], sizeof(p->roles[0]), "%.*s", (int)n, r);
		r += n + (r[n] == ',');
	}
	p->clearance = clearance;
}

static void at(struct policy_context *ctx, int hh, int mm, int weekday)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->now_ms = INT64_C(1800000000000);
	ctx->minute_of_day = hh * 60 + mm;
	ctx->weekday = weekday;
}

static enum policy_verdict verdict(const struct policy *pol, const struct auth_principal *p,
				   const struct policy_context *ctx, size_t src)
{
	struct policy_decision d;

	policy_decide(pol, p, ctx, POLICY_SEARCH, src, -1, &d);
	return d.verdict;
}

#define HEAD "version: 1\nroles: [officer, admin, auditor, detective]\n"

/* --- decisions ---------------------------------------------------------------- */

static void test_default_deny(void **state)
{
	struct policy *pol = load(HEAD "rules:\n"
				  "  - {name: admins-only, effect: allow, actions: [search, view],\n"
				  "     subject: {roles: [admin]}}\n");
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, PUB, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	assert_string_equal(d.rule, "default");
	assert_string_equal(d.reason, POLICY_REASON_NO_RULE);
	/* a role nobody declared grants nothing */
	who(&p, "superuser", "", CLASS_STRICTLY_CONFIDENTIAL);
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_DENY);
	who(&p, "admin", "", CLASS_STRICTLY_CONFIDENTIAL);
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, PUB, -1, &d);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	assert_string_equal(d.rule, "admins-only");
	assert_string_equal(d.file, "p.yaml");
	assert_int_equal(d.line, 4);
	/* an action no rule names is denied, even for the allowed subject */
	policy_decide(pol, &p, &ctx, POLICY_EXPORT, PUB, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	/* a rule-less policy denies everything */
	policy_free(pol);
	pol = load(HEAD "rules: []\n");
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_DENY);
	policy_free(pol);
}

static void test_deny_beats_allow(void **state)
{
	static const char *const orders[] = {
		HEAD "rules:\n"
		"  - {name: all, effect: allow, actions: [search, view], subject: {roles: [officer]}}\n"
		"  - {name: no-reg, effect: deny, actions: [search], resource: {sources: [reg]},\n"
		"     reason: internal_only}\n",
		HEAD "rules:\n"
		"  - {name: no-reg, effect: deny, actions: [search], resource: {sources: [reg]},\n"
		"     reason: internal_only}\n"
		"  - {name: all, effect: allow, actions: [search, view], subject: {roles: [officer]}}\n",
	};
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	for (size_t i = 0; i < 2; i++) {
		struct policy *pol = load(orders[i]);

		policy_decide(pol, &p, &ctx, POLICY_SEARCH, REG, -1, &d);
		assert_int_equal(d.verdict, POLICY_DENY);
		assert_string_equal(d.rule, "no-reg");
		assert_int_equal(d.line, i == 0 ? 5 : 4);
		assert_string_equal(d.reason, "internal_only");
		assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_ALLOW);
		policy_free(pol);
	}
}

static void test_subject_conditions(void **state)
{
	struct policy *pol = load(
		HEAD "clearance_ceiling: false\n"
		"rules:\n"
		"  - {name: units, effect: allow, actions: [search, view], resource: {sources: [pub]},\n"
		"     subject: {roles: [officer, detective], units: [ANT-*, GENT-1]}}\n"
		"  - {name: clear, effect: allow, actions: [search, view], resource: {sources: [reg]},\n"
		"     subject: {clearance: restricted}}\n"
		"  - {name: mfa, effect: allow, actions: [search, view], resource: {sources: [wanted]},\n"
		"     subject: {mfa_max_age: 15m}}\n"
		"  - {name: device, effect: allow, actions: [search, view], resource: {sources: [pol-reports]},\n"
		"     subject: {device_cert: true}}\n");
	struct auth_principal p;
	struct policy_context ctx;

	(void)state;
	at(&ctx, 10, 0, 0);
	/* roles (any of) and units (exact or prefix) */
	who(&p, "detective", "ANT-PATROL-3", CLASS_NOT_SENSITIVE);
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_ALLOW);
	who(&p, "detective", "GENT-1", CLASS_NOT_SENSITIVE);
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_ALLOW);
	who(&p, "detective", "GENT-12", CLASS_NOT_SENSITIVE);
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_DENY);
	who(&p, "admin", "ANT-PATROL-3", CLASS_NOT_SENSITIVE);
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_DENY);
	/* minimum clearance */
	who(&p, "admin", "", CLASS_NOT_SENSITIVE);
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_DENY);
	p.clearance = CLASS_RESTRICTED;
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_ALLOW);
	p.clearance = CLASS_STRICTLY_CONFIDENTIAL;
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_ALLOW);
	/* age of the MFA login: 15 minutes at most, MFA required */
	p.mfa = true;
	p.auth_time_ms = ctx.now_ms - 14 * 60 * 1000;
	assert_int_equal(verdict(pol, &p, &ctx, WANTED), POLICY_ALLOW);
	p.auth_time_ms = ctx.now_ms - 16 * 60 * 1000;
	assert_int_equal(verdict(pol, &p, &ctx, WANTED), POLICY_DENY);
	p.auth_time_ms = ctx.now_ms - 60 * 1000;
	p.mfa = false;
	assert_int_equal(verdict(pol, &p, &ctx, WANTED), POLICY_DENY);
	p.mfa = true;
	p.auth_time_ms = 0; /* unknown login time */
	assert_int_equal(verdict(pol, &p, &ctx, WANTED), POLICY_DENY);
	/* device certificate */
	assert_int_equal(verdict(pol, &p, &ctx, REPORTS), POLICY_DENY);
	p.device_cert = true;
	assert_int_equal(verdict(pol, &p, &ctx, REPORTS), POLICY_ALLOW);
	policy_free(pol);
}

static void test_resource_conditions(void **state)
{
	struct policy *pol = load(
		HEAD "rules:\n"
		"  - {name: prefix, effect: allow, actions: [search, view], resource: {sources: [pol-*]}}\n"
		"  - {name: cls, effect: allow, actions: [search, view],\n"
		"     resource: {classification: not_sensitive}}\n"
		"  - {name: owner, effect: deny, actions: [search], subject: {roles: [officer]},\n"
		"     resource: {owner: [City]}}\n");
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "detective", "", CLASS_STRICTLY_CONFIDENTIAL);
	assert_int_equal(verdict(pol, &p, &ctx, REPORTS), POLICY_ALLOW); /* by prefix */
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_ALLOW);     /* by classification */
	assert_int_equal(verdict(pol, &p, &ctx, PLATES), POLICY_ALLOW);
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_DENY);
	assert_int_equal(verdict(pol, &p, &ctx, WANTED), POLICY_DENY);
	/* owner: officers may not search the City's sources */
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, PLATES, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	assert_string_equal(d.rule, "owner");
	assert_int_equal(verdict(pol, &p, &ctx, REPORTS), POLICY_ALLOW);
	policy_free(pol);
}

static void test_clearance_ceiling(void **state)
{
	struct policy *pol = load(HEAD "rules:\n"
				  "  - {name: all, effect: allow, actions: [search, view]}\n");
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_RESTRICTED);
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_ALLOW);
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, WANTED, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	assert_string_equal(d.rule, "clearance");
	assert_string_equal(d.reason, POLICY_REASON_CLEARANCE);
	/* fields of a source above the clearance are not viewable either */
	policy_decide(pol, &p, &ctx, POLICY_VIEW, WANTED, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	policy_free(pol);
	pol = load(HEAD "clearance_ceiling: false\nrules:\n"
		   "  - {name: all, effect: allow, actions: [search, view]}\n");
	assert_int_equal(verdict(pol, &p, &ctx, WANTED), POLICY_ALLOW);
	policy_free(pol);
}

static void test_context_conditions(void **state)
{
	struct policy *pol = load(
		HEAD "purpose: {codes: [intervention, investigation], required_for: [strictly_confidential]}\n"
		"rules:\n"
		"  - {name: day-shift, effect: allow, actions: [search, view], resource: {sources: [pub]},\n"
		"     context: {hours: \"07:00-19:00\", days: [mon, tue, wed, thu, fri]}}\n"
		"  - {name: night, effect: allow, actions: [search, view], resource: {sources: [plates]},\n"
		"     context: {hours: \"22:00-06:00\"}}\n"
		"  - {name: investigations, effect: allow, actions: [search, view], resource: {sources: [reg]},\n"
		"     context: {purpose: [investigation], case_ref: true}}\n");
	struct auth_principal p;
	struct policy_context ctx;

	(void)state;
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	at(&ctx, 7, 0, 0);
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_ALLOW);
	at(&ctx, 18, 59, 4);
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_ALLOW);
	at(&ctx, 19, 0, 4); /* the window is [from, to) */
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_DENY);
	at(&ctx, 10, 0, 5); /* Saturday */
	assert_int_equal(verdict(pol, &p, &ctx, PUB), POLICY_DENY);
	/* a window across midnight */
	at(&ctx, 23, 30, 6);
	assert_int_equal(verdict(pol, &p, &ctx, PLATES), POLICY_ALLOW);
	at(&ctx, 5, 59, 6);
	assert_int_equal(verdict(pol, &p, &ctx, PLATES), POLICY_ALLOW);
	at(&ctx, 6, 0, 6);
	assert_int_equal(verdict(pol, &p, &ctx, PLATES), POLICY_DENY);
	/* purpose code and case reference (reg is not purpose-bound here) */
	at(&ctx, 10, 0, 0);
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_DENY);
	ctx.purpose = "investigation";
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_DENY);
	ctx.case_ref = "   ";
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_DENY); /* blank is no reference */
	ctx.case_ref = "PV-2026-0042";
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_ALLOW);
	ctx.purpose = "intervention";
	assert_int_equal(verdict(pol, &p, &ctx, REG), POLICY_DENY);
	policy_free(pol);
}

/* --- redaction ---------------------------------------------------------------- */

static void add_person(struct record_set *rs, const char *nn, const char *family)
{
	struct record *r;

	assert_int_equal(record_set_add(rs, ENTITY_PERSON, "reg", &r), 0);
	assert_int_equal(record_add_field(rs, r, entity_field_lookup(ENTITY_PERSON, "national_number"),
					  nn, strlen(nn)), 0);
	assert_int_equal(record_add_field(rs, r, entity_field_lookup(ENTITY_PERSON, "family_name"),
					  family, strlen(family)), 0);
}

static void test_redaction(void **state)
{
	struct policy *pol = load(
		HEAD "rules:\n"
		"  - {name: search, effect: allow, actions: [search, view]}\n"
		"  - {name: hide-nn, effect: deny, actions: [view], subject: {roles: [officer]},\n"
		"     resource: {sources: [reg], fields: [person.national_number, birth_date]}}\n"
		"  - {name: no-alert-reason, effect: deny, actions: [view], resource: {entities: [alert],\n"
		"     fields: [reason]}}\n");
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;
	int nn = policy_field_id(ENTITY_PERSON, "national_number");
	int bd = policy_field_id(ENTITY_PERSON, "birth_date");
	int fam = policy_field_id(ENTITY_PERSON, "family_name");

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, REG, -1, &d);
	assert_int_equal(d.verdict, POLICY_ALLOW_REDACTED);
	assert_true((d.redact >> nn) & 1u);
	assert_true((d.redact >> bd) & 1u);
	assert_false((d.redact >> fam) & 1u);
	/* a bare name covers only fields of that exact name */
	assert_false((d.redact >> policy_field_id(ENTITY_ALERT, "subject_birth_date")) & 1u);
	policy_decide(pol, &p, &ctx, POLICY_VIEW, REG, nn, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	assert_string_equal(d.rule, "hide-nn");
	assert_int_equal(d.line, 5);
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, PUB, -1, &d);
	assert_true((d.redact >> policy_field_id(ENTITY_ALERT, "reason")) & 1u);
	assert_false((d.redact >> nn) & 1u);
	/* a detective sees every field of reg */
	who(&p, "detective", "", CLASS_STRICTLY_CONFIDENTIAL);
	policy_decide(pol, &p, &ctx, POLICY_VIEW, REG, nn, &d);
	assert_int_equal(d.verdict, POLICY_ALLOW);

	policy_free(pol);
}

/* Builds a configuration with the given policy text as its policy file. */
static struct config *config_with_policy(const char *policy_text)
{
	char path[256], *head, *text;
	struct config *c = NULL;
	struct focal_err err;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/policy.yaml", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(policy_text, f);
	fclose(f);
	head = with_db(config_head);
	n = strlen(head) + 64;
	text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, "%spolicy: {file: policy.yaml}\n", head);
	free(head);
	snprintf(path, sizeof(path), "%s/focal.yaml", tmpdir);
	if (config_load_string(path, text, strlen(text), &c, &err) != 0)
		fail_msg("config: %s", err.msg);
	free(text);
	return c;
}

static void test_plan_redacts_records(void **state)
{
	struct config *c = config_with_policy(
		HEAD "rules:\n"
		"  - {name: search, effect: allow, actions: [search, view]}\n"
		"  - {name: hide-nn, effect: deny, actions: [view], resource: {sources: [reg],\n"
		"     fields: [person.national_number]}}\n"
		"  - {name: no-alerts-from-wanted, effect: deny, actions: [view],\n"
		"     resource: {sources: [wanted], entities: [alert]}}\n");
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_plan *plan = NULL;
	struct query_request *req = NULL;
	struct source_call call;
	struct record *r;
	struct focal_err err;
	json_t *j;

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_true(policy_plan_allows(plan, REG));
	assert_int_equal(policy_plan_decision(plan, REG)->verdict, POLICY_ALLOW_REDACTED);

	memset(&call, 0, sizeof(call));
	record_set_init(&call.records);
	call.def = &c->sources[REG];
	add_person(&call.records, "85073003328", "Peeters");
	add_person(&call.records, "90010100123", "Janssens");
	assert_int_equal(policy_plan_redact(plan, &call), 2);
	assert_int_equal(call.records.n, 2);
	for (size_t i = 0; i < 2; i++) {
		r = &call.records.items[i];
		assert_null(record_get(r, "national_number"));
		assert_non_null(record_get(r, "family_name"));
	}
	assert_int_equal(call.records.bytes, strlen("Peeters") + strlen("Janssens"));
	record_set_clear(&call.records);

	/* a record whose every field is hidden is dropped */
	call.def = &c->sources[WANTED];
	assert_int_equal(record_set_add(&call.records, ENTITY_ALERT, "wanted", &r), 0);
	assert_int_equal(record_add_field(&call.records, r,
					  entity_field_lookup(ENTITY_ALERT, "subject_name"), "X", 1), 0);
	add_person(&call.records, "85073003328", "Peeters");
	assert_int_equal(policy_plan_redact(plan, &call), 1);
	assert_int_equal(call.records.n, 1);
	assert_int_equal(call.records.items[0].kind, ENTITY_PERSON);
	assert_string_equal(record_get(&call.records.items[0], "national_number"), "85073003328");
	record_set_clear(&call.records);

	/* a source without redaction is untouched */
	call.def = &c->sources[PUB];
	add_person(&call.records, "85073003328", "Peeters");
	assert_int_equal(policy_plan_redact(plan, &call), 0);
	assert_int_equal(call.records.items[0].nfields, 2);
	record_set_clear(&call.records);

	j = policy_plan_json(plan);
	assert_int_equal(json_integer_value(json_object_get(j, "redacted_fields")), 3);
	json_decref(j);
	policy_plan_free(plan);
	query_request_free(req);
	config_unref(c);
}

static void test_view_default_deny(void **state)
{
	/* search allowed but no rule allows view: every field is hidden */
	struct policy *pol = load(HEAD "rules:\n"
				  "  - {name: search-only, effect: allow, actions: [search]}\n"
				  "  - {name: view-people, effect: allow, actions: [view],\n"
				  "     resource: {sources: [pub], entities: [person]}}\n");
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, REG, -1, &d);
	assert_int_equal(d.verdict, POLICY_ALLOW_REDACTED);
	assert_int_equal(d.redact, UINT64_MAX >> (64 - 55));
	policy_decide(pol, &p, &ctx, POLICY_SEARCH, PUB, -1, &d);
	assert_int_equal(d.verdict, POLICY_ALLOW_REDACTED);
	assert_false((d.redact >> policy_field_id(ENTITY_PERSON, "family_name")) & 1u);
	assert_true((d.redact >> policy_field_id(ENTITY_VEHICLE, "plate")) & 1u);
	policy_free(pol);
}

/* --- purpose binding and justification ---------------------------------------- */

static const char purpose_policy[] =
	HEAD "purpose:\n"
	"  codes: [intervention, investigation]\n"
	"  justification: {one_in: 1}\n"
	"rules:\n"
	"  - {name: all, effect: allow, actions: [search, view]}\n";

static void test_purpose_binding(void **state)
{
	struct config *c = config_with_policy(purpose_policy);
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_plan *plan = NULL;
	struct query_request *req = NULL;
	struct focal_err err;
	int status;
	json_t *j, *e;

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
	/* without purpose: only the not-sensitive source is planned */
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_true(policy_plan_allows(plan, PUB));
	assert_false(policy_plan_allows(plan, REG));
	assert_int_equal(policy_plan_decision(plan, REG)->verdict, POLICY_NEEDS_PURPOSE);
	assert_int_equal(policy_plan_decision(plan, WANTED)->verdict, POLICY_NEEDS_PURPOSE);
	assert_int_equal(policy_plan_refusal(plan, &status, &err), 0); /* pub still answers */
	j = policy_plan_json(plan);
	e = json_array_get(json_object_get(j, "denied"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "source_count")), 3);
	assert_string_equal(json_string_value(json_object_get(e, "reason")), "needs_purpose");
	assert_int_equal(json_array_size(json_object_get(e, "required")), 2);
	/* counts only: no source name appears */
	{
		char *dump = json_dumps(j, 0);

		assert_null(strstr(dump, "reg"));
		assert_null(strstr(dump, "wanted"));
		free(dump);
	}
	json_decref(j);
	policy_plan_free(plan);
	query_request_free(req);

	/* a plate search only sensitive sources could answer... there: plates is
	 * not sensitive; make a person search where pub is denied instead */
	config_unref(c);
	c = config_with_policy(HEAD "purpose: {codes: [intervention]}\nrules:\n"
			       "  - {name: all, effect: allow, actions: [search, view],\n"
			       "     resource: {classification: [restricted, strictly_confidential]}}\n");
	assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
	ctx.case_ref = "PV-1";
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_int_equal(policy_plan_refusal(plan, &status, &err), FOCAL_E_INVAL);
	assert_int_equal(status, 400);
	assert_non_null(strstr(err.msg, "missing purpose:"));
	assert_non_null(strstr(err.msg, "intervention"));
	policy_plan_free(plan);
	ctx.case_ref = NULL;
	ctx.purpose = "intervention";
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_int_equal(policy_plan_refusal(plan, &status, &err), FOCAL_E_INVAL);
	assert_non_null(strstr(err.msg, "missing case_ref:"));
	policy_plan_free(plan);
	ctx.case_ref = "PV-1";
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_int_equal(policy_plan_refusal(plan, &status, &err), 0);
	assert_true(policy_plan_allows(plan, REG));
	assert_true(policy_plan_allows(plan, WANTED));
	policy_plan_free(plan);
	/* an unknown purpose code is an error naming the codes */
	ctx.purpose = "curiosity";
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), FOCAL_E_INVAL);
	assert_null(plan);
	assert_non_null(strstr(err.msg, "\"curiosity\""));
	assert_non_null(strstr(err.msg, "intervention"));
	query_request_free(req);
	config_unref(c);
}

static void test_justification(void **state)
{
	struct config *c = config_with_policy(purpose_policy);
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_plan *plan = NULL;
	struct query_request *req = NULL;
	struct focal_err err;
	int status, selected[2] = { 0, 0 };
	char text[64];

	(void)state;
	at(&ctx, 10, 0, 0);
	ctx.purpose = "investigation";
	ctx.case_ref = "PV-7";
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	/* one_in: 1: every sensitive search must carry a justification */
	assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_int_equal(policy_plan_refusal(plan, &status, &err), FOCAL_E_DENIED);
	assert_int_equal(status, 428);
	assert_non_null(strstr(err.msg, "justification"));
	policy_plan_free(plan);
	req->justification = strdup("short");
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_int_equal(policy_plan_refusal(plan, &status, &err), FOCAL_E_DENIED);
	policy_plan_free(plan);
	free(req->justification);
	req->justification = strdup("suspect of burglary in case PV-7");
	assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
	assert_int_equal(policy_plan_refusal(plan, &status, &err), 0);
	policy_plan_free(plan);
	query_request_free(req);
	config_unref(c);

	/* one_in: 3 with a seed: deterministic, and some searches are selected and
	 * some not; the same search is selected every time it is repeated */
	for (int round = 0; round < 2; round++) {
		int count = 0;

		c = config_with_policy(HEAD "purpose:\n  codes: [investigation]\n"
				       "  justification: {one_in: 3, seed: test-seed}\n"
				       "rules:\n  - {name: all, effect: allow, actions: [search, view]}\n");
		for (int i = 0; i < 60; i++) {
			snprintf(text, sizeof(text), "Peeters %c%c", 'a' + i % 26, 'a' + i / 26);
			assert_int_equal(query_request_from_text(text, &req, &err), 0);
			assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
			if (policy_plan_refusal(plan, &status, &err) != 0) {
				assert_int_equal(status, 428);
				count += 1 + i; /* a fingerprint of which ones */
			}
			policy_plan_free(plan);
			query_request_free(req);
		}
		selected[round] = count;
		config_unref(c);
	}
	assert_int_equal(selected[0], selected[1]);
	assert_true(selected[0] > 0);
}

/* The draw is keyed on the search as read, not as typed: every spelling of
 * one plate (or one name) is prompted alike, so retyping cannot dodge it. */
/* Spelling f of plate i (f < 5) or of the person "Peeters Jan<i>" (f >= 5). */
static void spelling(int i, size_t f, char *out, size_t len)
{
	char up[4] = { (char)('A' + i % 26), (char)('B' + i / 26), 'C', '\0' };
	char low[4] = { (char)('a' + i % 26), (char)('b' + i / 26), 'c', '\0' };
	int n = 100 + i;

	switch (f) {
	case 0: snprintf(out, len, "1-%s-%03d", up, n); break;
	case 1: snprintf(out, len, "1 %s %03d", up, n); break;
	case 2: snprintf(out, len, "1%s%03d", low, n); break;
	case 3: snprintf(out, len, "1.%s.%03d", up, n); break;
	case 4: snprintf(out, len, " 1-%s-%03d ", low, n); break;
	case 5: snprintf(out, len, "Peeters Jan%c", 'a' + i); break;
	case 6: snprintf(out, len, "PEETERS JAN%c", 'A' + i); break;
	case 7: snprintf(out, len, "peeters  jan%c", 'a' + i); break;
	default: snprintf(out, len, "P\xc3\xa9" "eters Jan%c", 'a' + i); break;
	}
}

static void test_justification_spellings(void **state)
{
	struct config *c = config_with_policy(HEAD "purpose:\n  codes: [investigation]\n"
					      "  justification: {one_in: 2, seed: spell-seed}\n"
					      "rules:\n  - {name: all, effect: allow, actions: [search, view]}\n");
	struct auth_principal p;
	struct policy_context ctx;
	struct focal_err err;
	int prompted = 0, unprompted = 0;

	(void)state;
	at(&ctx, 10, 0, 0);
	ctx.purpose = "investigation";
	ctx.case_ref = "PV-7";
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	for (int i = 0; i < 24; i++) {
		int first = -1;

		for (size_t f = 0; f < 9; f++) {
			struct query_request *req = NULL;
			struct policy_plan *plan = NULL;
			char text[64];
			int status, sel;

			spelling(i, f, text, sizeof(text));
			assert_int_equal(query_request_from_text(text, &req, &err), 0);
			assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
			sel = policy_plan_refusal(plan, &status, &err) != 0;
			if (f == 0 || f == 5)
				first = sel;
			else if (sel != first)
				fail_msg("\"%s\" drew %d, its first spelling %d", text, sel, first);
			if (f == 0 || f == 5)
				sel ? prompted++ : unprompted++;
			policy_plan_free(plan);
			query_request_free(req);
		}
	}
	/* the draw still falls both ways */
	assert_true(prompted > 0);
	assert_true(unprompted > 0);
	config_unref(c);
}

/* The plan decides all sources at once, rule by rule; policy_decide one at a
 * time, source by source.  Both must agree for every subject and context. */
static void test_plan_agrees_with_decide(void **state)
{
	struct config *c = config_with_policy(
		HEAD "purpose: {codes: [intervention], required_for: [strictly_confidential]}\n"
		"rules:\n"
		"  - {name: a, effect: allow, actions: [search, view], subject: {roles: [officer]},\n"
		"     resource: {classification: [not_sensitive, restricted]}}\n"
		"  - {name: b, effect: allow, actions: [search], subject: {roles: [detective]}}\n"
		"  - {name: c, effect: allow, actions: [view], subject: {roles: [detective]},\n"
		"     resource: {entities: [person, alert]}}\n"
		"  - {name: d, effect: deny, actions: [search], resource: {sources: [pol-*]},\n"
		"     context: {hours: \"20:00-06:00\"}}\n"
		"  - {name: e, effect: deny, actions: [view], subject: {units: [ANT-*]},\n"
		"     resource: {fields: [national_number, plate]}}\n"
		"  - {name: f, effect: allow, actions: [search, view], resource: {owner: [Federal Police]},\n"
		"     subject: {clearance: strictly_confidential}}\n");
	static const char *const roles[] = { "officer", "detective", "officer,detective", "admin" };
	static const char *const units[] = { "ANT-1", "GENT-2" };
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;
	struct policy_plan *plan = NULL;
	struct query_request *req = NULL;
	struct focal_err err;
	size_t checked = 0;

	(void)state;
	assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
	for (size_t r = 0; r < 4; r++)
		for (size_t u = 0; u < 2; u++)
			for (int cl = 0; cl < 3; cl++)
				for (int h = 0; h < 24; h += 5)
					for (int pur = 0; pur < 2; pur++) {
						who(&p, roles[r], units[u], (enum classification)cl);
						at(&ctx, h, 0, 0);
						ctx.purpose = pur ? "intervention" : NULL;
						ctx.case_ref = pur ? "PV-1" : NULL;
						assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
						for (size_t i = 0; i < c->nsources; i++) {
							const struct policy_decision *pd =
								policy_plan_decision(plan, i);

							policy_decide(policy_of(c), &p, &ctx, POLICY_SEARCH, i, -1, &d);
							assert_int_equal(pd->verdict, d.verdict);
							assert_string_equal(pd->rule, d.rule);
							assert_int_equal(pd->line, d.line);
							assert_true(pd->redact == d.redact);
							checked++;
						}
						policy_plan_free(plan);
					}
	assert_int_equal(checked, 4 * 2 * 3 * 5 * 2 * 5);
	query_request_free(req);
	config_unref(c);
}

/* The authorization matrix: roles × clearances × sources × purpose × every
 * field, each cell checked against a small reference implementation of the
 * same policy written by hand below (differential testing, as Cedar does):
 * the two share no code, so a bug in the evaluator shows as a disagreement. */
static const char matrix_policy[] =
	HEAD "purpose: {codes: [intervention], required_for: [strictly_confidential]}\n"
	"rules:\n"
	"  - {name: officers, effect: allow, actions: [search, view], subject: {roles: [officer]},\n"
	"     resource: {classification: [not_sensitive, restricted]}}\n"
	"  - {name: detectives, effect: allow, actions: [search, view], subject: {roles: [detective]}}\n"
	"  - {name: no-plates, effect: deny, actions: [search], subject: {roles: [officer]},\n"
	"     resource: {sources: [plates]}}\n"
	"  - {name: hide-nn, effect: deny, actions: [view], subject: {roles: [officer]},\n"
	"     resource: {fields: [national_number]}}\n"
	"  - {name: hide-alert-reason, effect: deny, actions: [view], resource: {entities: [alert],\n"
	"     fields: [reason]}}\n"
	"  - {name: detectives-no-report-text, effect: deny, actions: [view],\n"
	"     subject: {roles: [detective]}, resource: {sources: [pol-reports], entities: [report]}}\n"
	"  - {name: detectives-export, effect: allow, actions: [export], subject: {roles: [detective]}}\n"
	"  - {name: no-report-export, effect: deny, actions: [export], resource: {sources: [pol-reports]}}\n"
	"  - {name: no-phone-export, effect: deny, actions: [export], resource: {fields: [phone]}}\n";

static const enum classification matrix_class[] = {
	CLASS_NOT_SENSITIVE, CLASS_RESTRICTED, CLASS_STRICTLY_CONFIDENTIAL,
	CLASS_STRICTLY_CONFIDENTIAL, CLASS_NOT_SENSITIVE,
};

/* The reference: what the policy above means, cell by cell. */
static bool ref_allowed_by_rules(bool officer, bool detective, size_t src)
{
	return (officer && matrix_class[src] <= CLASS_RESTRICTED) || detective;
}

static enum policy_verdict ref_search(bool officer, bool detective, enum classification cl,
				      size_t src, bool purpose)
{
	if (matrix_class[src] > cl)
		return POLICY_DENY; /* clearance ceiling */
	if (officer && src == PLATES)
		return POLICY_DENY; /* no-plates */
	if (!ref_allowed_by_rules(officer, detective, src))
		return POLICY_DENY; /* default */
	if (matrix_class[src] == CLASS_STRICTLY_CONFIDENTIAL && !purpose)
		return POLICY_NEEDS_PURPOSE;
	return POLICY_ALLOW;
}

static bool ref_visible(bool officer, bool detective, size_t src, int kind, const char *field)
{
	if (!ref_allowed_by_rules(officer, detective, src))
		return false; /* no view rule allows it */
	if (officer && strcmp(field, "national_number") == 0)
		return false;
	if (kind == ENTITY_ALERT && strcmp(field, "reason") == 0)
		return false;
	if (detective && src == REPORTS && kind == ENTITY_REPORT)
		return false;
	return true;
}

/* Export: only detectives, never pol-reports, never a phone number; and
 * only what the search and view allow in the first place. */
static bool ref_export_source(bool detective, size_t src)
{
	return detective && src != REPORTS;
}

static bool ref_export_field(bool detective, size_t src, const char *field)
{
	return ref_export_source(detective, src) && strcmp(field, "phone") != 0;
}

static void test_authorization_matrix(void **state)
{
	static const char *const roles[] = { "officer", "detective", "officer,detective", "admin" };
	struct config *c = config_with_policy(matrix_policy);
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;
	struct policy_plan *plan = NULL, *xplan = NULL;
	struct query_request *req = NULL;
	struct focal_err err;
	size_t cells = 0;

	(void)state;
	assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
	for (size_t r = 0; r < 4; r++)
		for (int cl = 0; cl < 3; cl++)
			for (int pur = 0; pur < 2; pur++) {
				bool officer = strstr(roles[r], "officer") != NULL;
				bool detective = strstr(roles[r], "detective") != NULL;

				who(&p, roles[r], "", (enum classification)cl);
				at(&ctx, 10, 0, 0);
				ctx.purpose = pur ? "intervention" : NULL;
				ctx.case_ref = pur ? "PV-1" : NULL;
				assert_int_equal(policy_plan_new(c, &p, req, &ctx, &plan, &err), 0);
				ctx.export = true;
				assert_int_equal(policy_plan_new(c, &p, req, &ctx, &xplan, &err), 0);
				for (size_t src = 0; src < 5; src++) {
					const struct policy_decision *pd = policy_plan_decision(plan, src);
					const struct policy_decision *xd = policy_plan_decision(xplan, src);
					enum policy_verdict want = ref_search(officer, detective,
									       (enum classification)cl, src, pur);
					enum policy_verdict xwant;
					uint64_t hidden = 0, xhidden = 0;

					for (int id = 0; id < 64; id++) {
						int kind;
						const char *name = policy_field_name(id, &kind);
						bool vis, xvis;

						if (name == NULL)
							break;
						vis = matrix_class[src] <= (enum classification)cl &&
						      ref_visible(officer, detective, src, kind, name);
						policy_decide(policy_of(c), &p, &ctx, POLICY_VIEW, src, id, &d);
						if ((d.verdict == POLICY_ALLOW) != vis)
							fail_msg("view %s.%s of source %zu by %s/%d: policy %s, "
								 "reference %s", entity_kind_name(kind), name, src,
								 roles[r], cl, policy_verdict_name(d.verdict),
								 vis ? "visible" : "hidden");
						if (!vis)
							hidden |= UINT64_C(1) << id;
						/* export of this field: its own decision */
						xvis = matrix_class[src] <= (enum classification)cl &&
						       ref_export_field(detective, src, name);
						policy_decide(policy_of(c), &p, &ctx, POLICY_EXPORT, src, id, &d);
						if ((d.verdict == POLICY_ALLOW) != xvis)
							fail_msg("export %s.%s of source %zu by %s/%d: policy %s, "
								 "reference %s", entity_kind_name(kind), name, src,
								 roles[r], cl, policy_verdict_name(d.verdict),
								 xvis ? "allowed" : "denied");
						if (!vis || !xvis)
							xhidden |= UINT64_C(1) << id;
						cells += 2;
					}
					if (want == POLICY_ALLOW && hidden != 0)
						want = POLICY_ALLOW_REDACTED;
					if (pd->verdict != want)
						fail_msg("search of source %zu by %s/%d purpose %d: policy %s (%s), "
							 "reference %s", src, roles[r], cl, pur,
							 policy_verdict_name(pd->verdict), pd->rule,
							 policy_verdict_name(want));
					if (want == POLICY_ALLOW || want == POLICY_ALLOW_REDACTED)
						assert_true(pd->redact == hidden);
					/* the export plan: the search's verdict, then the
					 * source's export permission, then both field masks */
					xwant = want;
					if ((want == POLICY_ALLOW || want == POLICY_ALLOW_REDACTED) &&
					    !ref_export_source(detective, src))
						xwant = POLICY_DENY;
					else if (want == POLICY_ALLOW || want == POLICY_ALLOW_REDACTED)
						xwant = xhidden != 0 ? POLICY_ALLOW_REDACTED : POLICY_ALLOW;
					if (xd->verdict != xwant)
						fail_msg("export plan of source %zu by %s/%d purpose %d: policy "
							 "%s (%s), reference %s", src, roles[r], cl, pur,
							 policy_verdict_name(xd->verdict), xd->rule,
							 policy_verdict_name(xwant));
					if (xwant == POLICY_ALLOW || xwant == POLICY_ALLOW_REDACTED)
						assert_true(xd->redact == xhidden);
					cells += 2;
				}
				policy_plan_free(plan);
				policy_plan_free(xplan);
			}
	assert_int_equal(cells, 4 * 3 * 2 * 5 * (2 * 55 + 2));
	query_request_free(req);
	config_unref(c);
}

/* --- administer, fail closed, built-in ------------------------------------------- */

static void test_admin(void **state)
{
	struct policy *pol = load(HEAD "rules:\n"
				  "  - {name: admins, effect: allow, actions: [administer],\n"
				  "     subject: {roles: [admin]}}\n"
				  "  - {name: no-self-audit, effect: deny, actions: [administer],\n"
				  "     subject: {roles: [admin]}, resource: {admin: [audit]}}\n"
				  "  - {name: auditors, effect: allow, actions: [administer],\n"
				  "     subject: {roles: [auditor]}, resource: {admin: [audit]}}\n");
	struct auth_principal p;
	struct focal_err err;

	(void)state;
	who(&p, "admin", "", CLASS_NOT_SENSITIVE);
	assert_int_equal(policy_check_admin(pol, &p, "users", &err), 0);
	assert_int_equal(policy_check_admin(pol, &p, "audit", &err), FOCAL_E_DENIED);
	assert_non_null(strstr(err.msg, "no-self-audit"));
	assert_non_null(strstr(err.msg, "p.yaml:6"));
	assert_int_equal(policy_check_admin(pol, &p, "nonsense", &err), FOCAL_E_DENIED);
	who(&p, "auditor", "", CLASS_NOT_SENSITIVE);
	assert_int_equal(policy_check_admin(pol, &p, "audit", &err), 0);
	assert_int_equal(policy_check_admin(pol, &p, "users", &err), FOCAL_E_DENIED);
	who(&p, "auditor,admin", "", CLASS_NOT_SENSITIVE); /* deny beats allow */
	assert_int_equal(policy_check_admin(pol, &p, "audit", &err), FOCAL_E_DENIED);
	assert_int_equal(policy_check_admin(NULL, &p, "users", &err), FOCAL_E_DENIED);
	policy_free(pol);
}

static void test_fail_closed(void **state)
{
	struct auth_principal p;
	struct policy_context ctx;
	struct policy_decision d;
	struct policy *unbound = NULL;
	struct focal_err err;
	const char text[] = HEAD "rules:\n  - {name: all, effect: allow, actions: [search, view]}\n";

	(void)state;
	at(&ctx, 10, 0, 0);
	who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
	policy_decide(NULL, &p, &ctx, POLICY_SEARCH, PUB, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	assert_false(policy_plan_allows(NULL, PUB));
	/* an unbound policy (no configuration's sources) decides nothing */
	assert_int_equal(policy_load_string("p.yaml", text, strlen(text), NULL, &unbound, &err), 0);
	assert_false(policy_is_bound(unbound));
	policy_decide(unbound, &p, &ctx, POLICY_SEARCH, PUB, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	/* a source index out of range */
	policy_decide(unbound, &p, &ctx, POLICY_SEARCH, 999, -1, &d);
	assert_int_equal(d.verdict, POLICY_DENY);
	policy_free(unbound);
}

static void test_builtin_policy(void **state)
{
	struct auth_principal p;
	struct policy_context ctx;
	struct focal_err err;

	(void)state;
	at(&ctx, 10, 0, 0);
	/* cfg has no policy section: officers up to their clearance */
	assert_non_null(policy_of(cfg));
	who(&p, "officer", "", CLASS_RESTRICTED);
	assert_int_equal(verdict(policy_of(cfg), &p, &ctx, REG), POLICY_ALLOW);
	assert_int_equal(verdict(policy_of(cfg), &p, &ctx, WANTED), POLICY_DENY);
	who(&p, "auditor", "", CLASS_STRICTLY_CONFIDENTIAL);
	assert_int_equal(verdict(policy_of(cfg), &p, &ctx, PUB), POLICY_DENY);
	assert_int_equal(policy_check_admin(policy_of(cfg), &p, "audit", &err), 0);
	assert_int_equal(policy_check_admin(policy_of(cfg), &p, "users", &err), FOCAL_E_DENIED);

	/* no purpose codes configured: purpose is free text, not refused */
	{
		struct policy_plan *plan = NULL;
		struct query_request *req = NULL;

		assert_int_equal(query_request_from_text("Peeters", &req, &err), 0);
		ctx.purpose = "anything at all";
		who(&p, "officer", "", CLASS_STRICTLY_CONFIDENTIAL);
		assert_int_equal(policy_plan_new(cfg, &p, req, &ctx, &plan, &err), 0);
		assert_true(policy_plan_allows(plan, WANTED));
		policy_plan_free(plan);
		query_request_free(req);
		who(&p, "auditor", "", CLASS_STRICTLY_CONFIDENTIAL);
	}

	/* from an HTTP handler: the loop's current configuration; none → denied */
	{
		struct server_loop sl;
		struct source_set set;

		memset(&sl, 0, sizeof(sl));
		memset(&set, 0, sizeof(set));
		assert_int_equal(policy_check_admin_loop(&sl, &p, "audit", &err), FOCAL_E_DENIED);
		set.cfg = cfg;
		sl.loop.sources = &set;
		assert_int_equal(policy_check_admin_loop(&sl, &p, "audit", &err), 0);
		assert_int_equal(policy_check_admin_loop(&sl, &p, "users", &err), FOCAL_E_DENIED);
	}
}

/* --- validation ------------------------------------------------------------------- */

static void test_errors(void **state)
{
	static const struct {
		const char *text, *where, *what;
	} cases[] = {
		{ "version: 1\nrule: []\n", "p.yaml:2:1:", "unknown key 'rule'" },
		{ "rules: []\n", "p.yaml:1:1:", "version" },
		{ "version: 2\nrules: []\n", "p.yaml:1:10:", "version" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], subject: {roles: [chief]}}\n",
		  "p.yaml:4:67:", "unknown role \"chief\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [serch]}\n",
		  "p.yaml:4:40:", "unknown \"serch\"" },
		{ HEAD "rules:\n  - {name: a, effect: permit, actions: [search]}\n",
		  "p.yaml:4:23:", "effect" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], sujet: {}}\n",
		  "p.yaml:4:49:", "unknown key 'sujet'" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [view], resource: {fields: [shoe_size]}}\n",
		  "p.yaml:4:67:", "unknown field \"shoe_size\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [view], resource: {entities: [pet]}}\n",
		  "p.yaml:4:69:", "unknown \"pet\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], resource: {classification: secret}}\n",
		  "p.yaml:4:76:", "unknown \"secret\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], resource: {sources: [nosuch]}}\n",
		  "p.yaml:4:70:", "unknown source \"nosuch\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], resource: {sources: [x-*]}}\n",
		  "p.yaml:4:70:", "unknown source \"x-*\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], resource: {owner: [Nobody]}}\n",
		  "p.yaml:4:5:", "matches no configured source" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], resource: {sources: [pub],\n"
		  "     classification: restricted}}\n",
		  "p.yaml:4:5:", "matches no configured source" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], context: {purpose: [fun]}}\n",
		  "p.yaml:4:69:", "unknown purpose code \"fun\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], context: {hours: \"9-17\"}}\n",
		  "p.yaml:4:66:", "hours" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], context: {hours: \"09:00-09:00\"}}\n",
		  "p.yaml:4:66:", "empty window" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], context: {days: [funday]}}\n",
		  "p.yaml:4:66:", "unknown \"funday\"" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search, view], resource: {fields: [plate]}}\n",
		  "p.yaml:4:5:", "fields and entities apply to actions view and export only" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], resource: {admin: [users]}}\n",
		  "p.yaml:4:5:", "'admin' applies to action administer only" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [administer], resource: {sources: [pub]}}\n",
		  "p.yaml:4:5:", "do not apply to action administer" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [administer, search]}\n",
		  "p.yaml:4:5:", "split the rule" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], reason: x}\n",
		  "p.yaml:4:5:", "deny rules only" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search]}\n"
		  "  - {name: a, effect: deny, actions: [search]}\n",
		  "p.yaml:5:12:", "already exists" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: []}\n",
		  "p.yaml:4:39:", "empty list" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search], subject: {mfa_max_age: soon}}\n",
		  "p.yaml:4:72:", "duration" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [view],\n"
		  "     resource: {entities: [vehicle], fields: [person.national_number]}}\n",
		  "p.yaml:5:46:", "could never match" },
		{ "version: 1\nroles: [a, a]\nrules: []\n", "p.yaml:2:12:", "declared twice" },
		{ HEAD "purpose: {codes: [x, x]}\nrules: []\n", "p.yaml:3:22:", "given twice" },
		{ HEAD "purpose: {required_for: [restricted]}\nrules: []\n", "p.yaml:3:10:", "codes" },
		{ HEAD "rules:\n  - {name: a, effect: allow, actions: [search]\n", "p.yaml:5:1:", "did not find expected" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (getenv("SHOW") == NULL)
			load_fails(cases[i].text, cases[i].where, cases[i].what);
		else
			load_fails(cases[i].text, "", "");
}

/* Every error of a file, in file order, each with its line and column: one
 * per rule (its first), an unknown top-level key, and the unknown sources of
 * the rules that did parse; capped at POLICY_MAX_ERRORS with the total
 * counted; the single-message form joins them. */
static void test_all_errors(void **state)
{
	static const char text[] =
		HEAD
		"colour: blue\n"
		"rules:\n"
		"  - {name: a, effect: allow, actions: [serch]}\n"
		"  - {name: b, effect: allow, actions: [search], resource: {sources: [nosuch, pub, gone]}}\n"
		"  - {name: c, effect: permit, actions: [search]}\n"
		"  - {name: d, effect: allow, actions: [search]}\n"
		"  - {name: d, effect: allow, actions: [view]}\n";
	/* the file's errors in file order, then those of binding to the
	 * sources (rule b parsed: its unknown sources are reported too) */
	static const char dup_roles[] = "version: 1\nroles: [a, a]\nrules:\n"
					"  - {name: x, effect: allow, actions: [search], "
					"subject: {roles: [b]}}\n";
	static const char *const want[] = {
		"p.yaml:3:1: unknown key 'colour'",
		"p.yaml:5:40: actions: unknown \"serch\"",
		"p.yaml:7:23: effect",
		"p.yaml:9:12: a rule named \"d\" already exists (line 8)",
		"p.yaml:6:70: unknown source \"nosuch\"",
		"p.yaml:6:83: unknown source \"gone\"",
	};
	struct policy_errors all;
	struct policy *pol = NULL;
	struct focal_err err;
	char *many;
	size_t n = 0, cap = 64 * 100 + sizeof(HEAD);

	(void)state;
	assert_int_equal(policy_load_string_all("p.yaml", text, strlen(text), cfg, &pol, &all, &err),
			 FOCAL_E_CONFIG);
	assert_null(pol);
	for (size_t i = 0; i < all.n; i++)
		print_message("%s\n", all.e[i].msg);
	assert_int_equal(all.total, 6);
	assert_int_equal(all.n, 6);
	for (size_t i = 0; i < all.n; i++)
		if (strncmp(all.e[i].msg, want[i], strlen(want[i])) != 0)
			fail_msg("error %zu: expected \"%s...\", got \"%s\"", i, want[i], all.e[i].msg);
	/* the one-message form: the first error first, then the others a line each */
	assert_int_equal(strncmp(err.msg, want[0], strlen(want[0])), 0);
	assert_non_null(strstr(err.msg, "\np.yaml:5:40:"));

	/* more errors than are kept */
	many = malloc(cap);
	assert_non_null(many);
	n = (size_t)snprintf(many, cap, "%srules:\n", HEAD);
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(many + n, cap - n,
				      "  - {name: r%d, effect: allow, actions: [fly]}\n", i);
	assert_int_equal(policy_load_string_all("p.yaml", many, n, cfg, &pol, &all, &err),
			 FOCAL_E_CONFIG);
	assert_int_equal(all.total, 30);
	assert_int_equal(all.n, POLICY_MAX_ERRORS);
	assert_non_null(strstr(all.e[POLICY_MAX_ERRORS - 1].msg, "p.yaml:23:"));
	assert_non_null(strstr(err.msg, "more errors)"));
	assert_true(strlen(err.msg) < sizeof(err.msg));
	free(many);

	/* a broken roles section stops before the rules, which would only
	 * repeat it ("unknown role") */
	assert_int_not_equal(policy_load_string_all("p.yaml", dup_roles, strlen(dup_roles), cfg, &pol,
						    &all, &err), 0);
	assert_int_equal(all.total, 1);
	assert_non_null(strstr(all.e[0].msg, "declared twice"));
}

static void test_config_section(void **state)
{
	char *head = with_db(config_head), *text;
	struct config *c = NULL;
	struct focal_err err;
	char path[256];
	size_t n = strlen(head) + 128;
	FILE *f;

	(void)state;
	text = malloc(n);
	assert_non_null(text);
	/* a missing policy file stops the configuration: no policy, no access */
	snprintf(path, sizeof(path), "%s/focal.yaml", tmpdir);
	snprintf(text, n, "%spolicy: {file: missing-policy.yaml}\n", head);
	assert_int_not_equal(config_load_string(path, text, strlen(text), &c, &err), 0);
	assert_null(c);
	assert_non_null(strstr(err.msg, "missing-policy.yaml"));
	/* unknown key in the section */
	snprintf(text, n, "%spolicy: {file: p.yaml, fiel: x}\n", head);
	assert_int_not_equal(config_load_string(path, text, strlen(text), &c, &err), 0);
	assert_non_null(strstr(err.msg, "unknown key 'fiel'"));
	/* an error in the policy file names the policy file */
	snprintf(path, sizeof(path), "%s/policy.yaml", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(HEAD "rules:\n  - {name: a, effect: allow, actions: [search], resource: {sources: [nosuch]}}\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/focal.yaml", tmpdir);
	snprintf(text, n, "%spolicy: {file: policy.yaml}\n", head);
	assert_int_not_equal(config_load_string(path, text, strlen(text), &c, &err), 0);
	assert_non_null(strstr(err.msg, "policy.yaml:4:70: unknown source \"nosuch\""));
	free(text);
	free(head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_deny),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_deny_beats_allow),
		cmocka_unit_test(test_subject_conditions),
		cmocka_unit_test(test_resource_conditions),
		cmocka_unit_test(test_clearance_ceiling),
		cmocka_unit_test(test_context_conditions),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_plan_redacts_records),
		cmocka_unit_test(test_view_default_deny),
		cmocka_unit_test(test_plan_agrees_with_decide),
		cmocka_unit_test(test_authorization_matrix),
		cmocka_unit_test(test_purpose_binding),
		cmocka_unit_test(test_justification),
		cmocka_unit_test(test_justification_spellings),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_fail_closed),
		cmocka_unit_test(test_builtin_policy),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_config_section),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
