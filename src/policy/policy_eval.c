/*
 * policy_eval: decisions and per-search plans (see policy.h for the order
 * of evaluation and docs/policy.md for the language).
 *
 * Cost: a plan first evaluates each rule's subject and context conditions
 * once for the request (roles are a bit mask, the rest a few comparisons),
 * then decides every source with bit tests on the rules' precomputed source
 * sets; fields to redact are a 64-bit mask per source.  bench/policy_bench.c
 * measures it.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/principal.h"
#include "core/config.h"
#include "policy/policy_int.h"
#include "search/query.h"
#include "sources/record.h"
#include "sources/source.h"

/* Shortest justification accepted when a prompt falls on a search. */
#define POLICY_JUSTIFICATION_MIN 10

static const char *const action_names[] = { "search", "view", "export", "administer", NULL };
static const char *const admin_names[] = { "users", "roles", "sessions", "sources", "policy",
					   "keys", "audit", "alerts", NULL };

const char *policy_action_name(enum policy_action a)
{
	return (unsigned)a < POLICY_ACTION__COUNT ? action_names[a] : "unknown";
}

int policy_action_parse(const char *name, enum policy_action *out)
{
	for (int i = 0; action_names[i] != NULL; i++)
		if (strcmp(action_names[i], name) == 0) {
			*out = (enum policy_action)i;
			return FOCAL_OK;
		}
	return FOCAL_E_INVAL;
}

const char *policy_verdict_name(enum policy_verdict v)
{
	switch (v) {
	case POLICY_ALLOW: return "allow";
	case POLICY_ALLOW_REDACTED: return "allow_redacted";
	case POLICY_NEEDS_PURPOSE: return "needs_purpose";
	default: return "deny";
	}
}

void policy_context_now(struct policy_context *ctx)
{
	struct timespec ts;
	struct tm tm;
	time_t t;

	memset(ctx, 0, sizeof(*ctx));
	clock_gettime(CLOCK_REALTIME, &ts);
	ctx->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	t = ts.tv_sec;
	if (localtime_r(&t, &tm) != NULL) {
		ctx->minute_of_day = tm.tm_hour * 60 + tm.tm_min;
		ctx->weekday = (tm.tm_wday + 6) % 7;
	}
}

/* What a request brings, prepared once: the principal's roles as the
 * policy's role bits, the purpose code's index. */
struct subject {
	const struct auth_principal *p;
	const struct policy_context *ctx;
	uint32_t roles;
	int purpose;   /* index in pol->codes, -1 if none or unknown */
	bool has_case;
};

static void subject_prepare(const struct policy *pol, const struct auth_principal *p,
			    const struct policy_context *ctx, struct subject *s)
{
	s->p = p;
	s->ctx = ctx;
	s->roles = 0;
	for (size_t i = 0; i < p->nroles && i < PRINCIPAL_MAX_ROLES; i++)
		for (size_t r = 0; r < pol->nroles; r++)
			if (strcmp(p->roles[i], pol->roles[r]) == 0)
				s->roles |= UINT32_C(1) << r;
	s->purpose = -1;
	if (ctx->purpose != NULL)
		for (size_t c = 0; c < pol->ncodes; c++)
			if (strcmp(ctx->purpose, pol->codes[c]) == 0)
				s->purpose = (int)c;
	s->has_case = ctx->case_ref != NULL && ctx->case_ref[strspn(ctx->case_ref, " \t")] != '\0';
}

static bool unit_matches(const struct policy_rule *r, const char *unit)
{
	for (size_t i = 0; i < r->nunits; i++) {
		size_t n = strlen(r->units[i]);

		if (n > 0 && r->units[i][n - 1] == '*' ? strncmp(r->units[i], unit, n - 1) == 0
						       : strcmp(r->units[i], unit) == 0)
			return true;
	}
	return false;
}

/* Subject and context conditions of r (the resource is checked apart). */
static bool rule_applies(const struct policy_rule *r, const struct subject *s)
{
	const struct auth_principal *p = s->p;
	const struct policy_context *ctx = s->ctx;

	if (r->roles != 0 && (r->roles & s->roles) == 0)
		return false;
	if (r->nunits > 0 && !unit_matches(r, p->unit))
		return false;
	if (r->min_clearance >= 0 && (int)p->clearance < r->min_clearance)
		return false;
	if (r->mfa_max_age_s >= 0 &&
	    (!p->mfa || p->auth_time_ms <= 0 || ctx->now_ms < p->auth_time_ms ||
	     ctx->now_ms - p->auth_time_ms > (int64_t)r->mfa_max_age_s * 1000))
		return false;
	if (r->device_cert >= 0 && p->device_cert != (r->device_cert == 1))
		return false;
	if (r->purposes != 0 && (s->purpose < 0 || !((r->purposes >> s->purpose) & 1u)))
		return false;
	if (r->case_ref && !s->has_case)
		return false;
	if (r->from_min >= 0) {
		int m = ctx->minute_of_day;
		bool in = r->from_min < r->to_min ? (m >= r->from_min && m < r->to_min)
						  : (m >= r->from_min || m < r->to_min);
		if (!in)
			return false;
	}
	if (r->days != 0 && !((r->days >> ctx->weekday) & 1u))
		return false;
	return true;
}

/* active[i]: 1 applies, 0 does not, -1 not yet evaluated (lazy). */
static bool rule_active(const struct policy *pol, size_t i, const struct subject *s, signed char *active)
{
	if (active == NULL)
		return rule_applies(&pol->rules[i], s);
	if (active[i] < 0)
		active[i] = rule_applies(&pol->rules[i], s) ? 1 : 0;
	return active[i] == 1;
}

static void decided_by(struct policy_decision *out, const struct policy *pol,
		       const struct policy_rule *r, enum policy_verdict v)
{
	out->verdict = v;
	out->rule = r->name;
	out->file = pol->file;
	out->line = r->line;
	out->reason = r->deny ? (r->reason != NULL ? r->reason : "policy") : "";
}

static void decided_builtin(struct policy_decision *out, const struct policy *pol,
			    const char *rule, size_t line, const char *reason,
			    enum policy_verdict v)
{
	out->verdict = v;
	out->rule = rule;
	out->file = line ? pol->file : "";
	out->line = line;
	out->reason = reason;
}

/* Fields of source i that the rules do not let the subject see for action. */
static uint64_t hidden_fields(const struct policy *pol, const struct subject *s,
			      signed char *active, enum policy_action action, size_t i)
{
	uint64_t all = POLICY_ALL_FIELDS(policy_nfields());
	uint64_t allow = 0, deny = 0;

	for (size_t k = 0; k < pol->nrules; k++) {
		const struct policy_rule *r = &pol->rules[k];
		uint64_t m;

		if (!((r->actions >> action) & 1u) || !policy_src_bit(r->srcmask, i) ||
		    !rule_active(pol, k, s, active))
			continue;
		m = r->fields_given ? r->fields : all;
		if (r->deny)
			deny |= m;
		else
			allow |= m;
	}
	return all & ~(allow & ~deny);
}

/* A search the rules allow (by rule allow): purpose binding, then the fields
 * hidden from view. */
static void search_allowed(const struct policy *pol, const struct subject *s, unsigned cls,
			   const struct policy_rule *allow, uint64_t hidden,
			   struct policy_decision *out)
{
	decided_by(out, pol, allow, POLICY_ALLOW);
	if (((pol->purpose_classes >> cls) & 1u) && (s->purpose < 0 || !s->has_case)) {
		decided_builtin(out, pol, "purpose_binding", pol->purpose_line,
				POLICY_REASON_NEEDS_PURPOSE, POLICY_NEEDS_PURPOSE);
		return;
	}
	out->redact = hidden;
	if (hidden != 0)
		out->verdict = POLICY_ALLOW_REDACTED;
}

/* The decision for a data action on source i (field: id or -1 = any field). */
static void decide_data(const struct policy *pol, const struct subject *s, signed char *active,
			enum policy_action action, size_t i, int field, struct policy_decision *out)
{
	const struct policy_rule *allow = NULL;
	unsigned cls;

	memset(out, 0, sizeof(*out));
	if (pol == NULL || !pol->bound || i >= pol->nsrc) {
		out->verdict = POLICY_DENY;
		out->rule = "no_policy";
		out->file = "";
		out->reason = POLICY_REASON_NO_POLICY;
		return;
	}
	cls = pol->src_class[i];
	if (pol->clearance_ceiling && cls > (unsigned)s->p->clearance) {
		decided_builtin(out, pol, "clearance", pol->ceiling_line, POLICY_REASON_CLEARANCE,
				POLICY_DENY);
		return;
	}
	for (size_t k = 0; k < pol->nrules; k++) {
		const struct policy_rule *r = &pol->rules[k];

		if (!((r->actions >> action) & 1u) || !policy_src_bit(r->srcmask, i))
			continue;
		if (field >= 0 && r->fields_given && !((r->fields >> field) & 1u))
			continue;
		if (!rule_active(pol, k, s, active))
			continue;
		if (r->deny) {
			decided_by(out, pol, r, POLICY_DENY);
			return; /* an explicit deny beats every allow */
		}
		if (allow == NULL)
			allow = r;
	}
	if (allow == NULL) {
		decided_builtin(out, pol, "default", 0, POLICY_REASON_NO_RULE, POLICY_DENY);
		return;
	}
	if (action != POLICY_SEARCH) {
		decided_by(out, pol, allow, POLICY_ALLOW);
		return;
	}
	search_allowed(pol, s, cls, allow, hidden_fields(pol, s, active, POLICY_VIEW, i), out);
}

void policy_decide(const struct policy *pol, const struct auth_principal *p,
		   const struct policy_context *ctx, enum policy_action action, size_t source,
		   int field, struct policy_decision *out)
{
	signed char cache[256]; /* each rule's subject and context evaluated once */
	struct subject s;

	if (pol == NULL || action == POLICY_ADMINISTER) {
		decide_data(NULL, NULL, NULL, action, source, field, out);
		return;
	}
	subject_prepare(pol, p, ctx, &s);
	if (pol->nrules <= sizeof(cache))
		memset(cache, -1, pol->nrules);
	decide_data(pol, &s, pol->nrules <= sizeof(cache) ? cache : NULL, action, source, field,
		    out);
}

int policy_check_admin(const struct policy *pol, const struct auth_principal *p,
		       const char *what, struct focal_err *err)
{
	struct policy_context ctx;
	const struct policy_rule *allow = NULL;
	struct subject s;
	int obj = -1;

	if (pol == NULL)
		return focal_err_set(err, FOCAL_E_DENIED, "denied: no access policy is loaded");
	for (int i = 0; admin_names[i] != NULL; i++)
		if (strcmp(admin_names[i], what) == 0)
			obj = i;
	if (obj < 0)
		return focal_err_set(err, FOCAL_E_DENIED, "denied: \"%s\" is not an object the "
				     "policy knows (%s)", what, POLICY_ADMIN_OBJECTS);
	policy_context_now(&ctx);
	subject_prepare(pol, p, &ctx, &s);
	for (size_t k = 0; k < pol->nrules; k++) {
		const struct policy_rule *r = &pol->rules[k];

		if (!((r->actions >> POLICY_ADMINISTER) & 1u) ||
		    (r->admin != 0 && !((r->admin >> obj) & 1u)) || !rule_applies(r, &s))
			continue;
		if (r->deny)
			return focal_err_set(err, FOCAL_E_DENIED, "denied by rule \"%s\" (%s:%zu)",
					     r->name, pol->file, r->line);
		if (allow == NULL)
			allow = r;
	}
	if (allow == NULL)
		return focal_err_set(err, FOCAL_E_DENIED, "denied: no rule of the policy allows "
				     "administering %s", what);
	return FOCAL_OK;
}

/* --- plans ------------------------------------------------------------------- */

struct policy_plan {
	size_t n;
	struct policy_decision *d;
	unsigned char *relevant;  /* source answers one of the request's query kinds */
	const char *const *codes; /* the policy's purpose codes (borrowed) */
	size_t ncodes;
	bool purpose_missing, case_missing;
	bool justify_required, justify_given;
	bool export, export_purpose;  /* an export; with a purpose and a case reference */
	size_t export_denied;     /* answering sources allowed to search but not to export */
	size_t redacted;          /* fields removed so far */
};

/* Whether one interpretation's keyed hash falls on a prompt.  The hash
 * covers the user, the query kind and the parameters in their normalised
 * forms only — canonical plate, national number, phone, ISO dates and the
 * name keys (normalize_key) instead of the names as typed, never QP_TEXT;
 * letters and digits only, case folded — so "1-ABC-123", "1 abc 123" and
 * "1ABC123" draw alike, and so do "Peeters Jan" and "JAN PEETERS" when both
 * read as that person. */
static bool justify_interp_selected(const struct policy *pol, const struct auth_principal *p,
				    const struct query *q)
{
	crypto_generichash_state st;
	unsigned char digest[crypto_shorthash_BYTES], buf[32], kind = (unsigned char)q->kind;
	uint64_t v = 0;

	crypto_generichash_init(&st, NULL, 0, sizeof(buf));
	crypto_generichash_update(&st, (const unsigned char *)p->user, strlen(p->user) + 1);
	crypto_generichash_update(&st, &kind, 1);
	for (int k = 0; k < QP__COUNT; k++) {
		unsigned char tag = (unsigned char)k;

		/* as typed: the text, and names when their keys are present */
		if (k == QP_TEXT || k == QP_PHONE_NATIONAL ||
		    (k == QP_FAMILY_NAME && q->param[QP_FAMILY_KEY] != NULL) ||
		    (k == QP_GIVEN_NAME && q->param[QP_GIVEN_KEY] != NULL) || q->param[k] == NULL)
			continue;
		crypto_generichash_update(&st, &tag, 1);
		/* letters and digits only, ASCII folded: streets, cities and serial
		 * numbers are kept as typed by the classifier */
		for (const unsigned char *c = (const unsigned char *)q->param[k]; *c != '\0'; c++) {
			unsigned char ch = *c >= 'A' && *c <= 'Z' ? (unsigned char)(*c + 32) : *c;

			if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch >= 0x80)
				crypto_generichash_update(&st, &ch, 1);
		}
		crypto_generichash_update(&st, (const unsigned char *)"", 1);
	}
	crypto_generichash_final(&st, buf, sizeof(buf));
	crypto_shorthash(digest, buf, sizeof(buf), pol->justify_key);
	sodium_memzero(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(digest); i++)
		v = (v << 8) | digest[i];
	return v % (uint64_t)pol->justify_one_in == 0;
}

/* Does a prompt fall on this search?  Keyed (SipHash) so officers cannot
 * predict which searches are prompted, and deterministic for one subject
 * under one key (focald's run, or always with a seed) so repeating the
 * search, however retyped, does not dodge the prompt.  A search is drawn
 * once per interpretation and prompted when any of its readings is: a
 * spelling that adds a reading can only add prompts, never remove one. */
static bool justify_selected(const struct policy *pol, const struct auth_principal *p,
			     const struct query_request *req)
{
	if (pol->justify_one_in <= 0)
		return false;
	if (pol->justify_one_in == 1)
		return true;
	for (size_t i = 0; i < req->ninterp; i++)
		if (justify_interp_selected(pol, p, &req->interp[i]))
			return true;
	return false;
}

/* Per source of a plan being decided: the first deny and first allow rule,
 * the fields allow and deny rules cover.  One allocation. */
struct plan_scratch {
	void *block;
	uint64_t *fallow, *fdeny;
	const struct policy_rule **first_deny, **first_allow;
};

static int plan_scratch_new(size_t n, struct plan_scratch *sc)
{
	sc->block = calloc(n ? n : 1, 2 * sizeof(*sc->first_deny) + 2 * sizeof(*sc->fallow));
	if (sc->block == NULL)
		return FOCAL_E_NOMEM;
	sc->fallow = sc->block;
	sc->fdeny = sc->fallow + n;
	sc->first_deny = (const struct policy_rule **)(sc->fdeny + n);
	sc->first_allow = sc->first_deny + n;
	return FOCAL_OK;
}

/* An export plan: each source the search allows must also be allowed the
 * export action (any deny rule wins, no allow rule denies), and the fields
 * the export rules withhold join those view withholds. */
static int plan_decide_export(const struct policy *pol, const struct subject *s,
			      signed char *active, struct policy_plan *plan)
{
	size_t n = plan->n;
	uint64_t all = POLICY_ALL_FIELDS(policy_nfields());
	struct plan_scratch sc;
	const struct policy_rule **first_deny, **first_allow;
	uint64_t *fallow, *fdeny;

	if (plan_scratch_new(n, &sc) != FOCAL_OK)
		return FOCAL_E_NOMEM;
	fallow = sc.fallow, fdeny = sc.fdeny, first_deny = sc.first_deny, first_allow = sc.first_allow;
	for (size_t k = 0; k < pol->nrules; k++) {
		const struct policy_rule *r = &pol->rules[k];
		uint64_t m = r->fields_given ? r->fields : all;

		if (!((r->actions >> POLICY_EXPORT) & 1u) || !rule_active(pol, k, s, active))
			continue;
		for (size_t i = 0; i < n; i++) {
			if (!policy_src_bit(r->srcmask, i))
				continue;
			/* a rule about some fields denies only those, never the source */
			if (r->deny && r->fields_given)
				fdeny[i] |= m;
			else if (r->deny && first_deny[i] == NULL)
				first_deny[i] = r;
			else if (!r->deny && first_allow[i] == NULL)
				first_allow[i] = r;
			if (!r->deny)
				fallow[i] |= m;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct policy_decision *d = &plan->d[i];
		uint64_t redact = d->redact;

		if (d->verdict != POLICY_ALLOW && d->verdict != POLICY_ALLOW_REDACTED)
			continue;
		if (first_deny[i] != NULL || first_allow[i] == NULL) {
			if (first_deny[i] != NULL)
				decided_by(d, pol, first_deny[i], POLICY_DENY);
			else
				decided_builtin(d, pol, "default", 0, POLICY_REASON_NO_EXPORT,
						POLICY_DENY);
			if (plan->relevant[i])
				plan->export_denied++;
			continue;
		}
		d->redact = redact | (all & ~(fallow[i] & ~fdeny[i]));
		d->verdict = d->redact != 0 ? POLICY_ALLOW_REDACTED : POLICY_ALLOW;
	}
	free(sc.block);
	return FOCAL_OK;
}

/* Every source of a plan at once, rule by rule — what makes a plan cheap:
 * each active rule's source set is walked once, giving each source its
 * first deny and first allow rule and the fields view rules allow and deny.
 * The result equals decide_data() per source (the unit tests check both). */
static int plan_decide_all(const struct policy *pol, const struct subject *s, signed char *active,
			   struct policy_plan *plan)
{
	size_t n = plan->n;
	uint64_t all = POLICY_ALL_FIELDS(policy_nfields());
	struct plan_scratch sc;
	const struct policy_rule **first_deny, **first_allow;
	uint64_t *fallow, *fdeny;

	if (pol->nsrc != n) {
		/* bound to another configuration: our bug; fail closed */
		for (size_t i = 0; i < n; i++)
			decide_data(NULL, NULL, NULL, POLICY_SEARCH, i, -1, &plan->d[i]);
		return FOCAL_OK;
	}
	if (plan_scratch_new(n, &sc) != FOCAL_OK)
		return FOCAL_E_NOMEM;
	fallow = sc.fallow, fdeny = sc.fdeny, first_deny = sc.first_deny, first_allow = sc.first_allow;
	for (size_t k = 0; k < pol->nrules; k++) {
		const struct policy_rule *r = &pol->rules[k];
		bool search = (r->actions >> POLICY_SEARCH) & 1u, view = (r->actions >> POLICY_VIEW) & 1u;
		uint64_t m = r->fields_given ? r->fields : all;

		if ((!search && !view) || !rule_active(pol, k, s, active))
			continue;
		for (size_t w = 0; w < pol->srcwords; w++) {
			for (uint64_t bits = r->srcmask[w]; bits != 0; bits &= bits - 1) {
				size_t i = w * 64 + (size_t)__builtin_ctzll(bits);

				if (i >= n)
					break;
				if (search && r->deny && first_deny[i] == NULL)
					first_deny[i] = r;
				else if (search && !r->deny && first_allow[i] == NULL)
					first_allow[i] = r;
				if (view && r->deny)
					fdeny[i] |= m;
				else if (view)
					fallow[i] |= m;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct policy_decision *d = &plan->d[i];
		unsigned cls = pol->src_class[i];

		memset(d, 0, sizeof(*d));
		if (pol->clearance_ceiling && cls > (unsigned)s->p->clearance)
			decided_builtin(d, pol, "clearance", pol->ceiling_line, POLICY_REASON_CLEARANCE,
					POLICY_DENY);
		else if (first_deny[i] != NULL)
			decided_by(d, pol, first_deny[i], POLICY_DENY);
		else if (first_allow[i] == NULL)
			decided_builtin(d, pol, "default", 0, POLICY_REASON_NO_RULE, POLICY_DENY);
		else
			search_allowed(pol, s, cls, first_allow[i], all & ~(fallow[i] & ~fdeny[i]), d);
	}
	free(sc.block);
	return FOCAL_OK;
}

int policy_plan_new(const struct config *cfg, const struct auth_principal *p,
		    const struct query_request *req, const struct policy_context *ctx,
		    struct policy_plan **out, struct focal_err *err)
{
	const struct policy *pol = policy_of(cfg);
	struct policy_plan *plan;
	signed char *active = NULL;
	struct subject s;
	bool sensitive = false;
	char codes[512];
	size_t off = 0;

	*out = NULL;
	plan = calloc(1, sizeof(*plan));
	if (plan == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	plan->n = cfg->nsources;
	plan->d = calloc(plan->n ? plan->n : 1, sizeof(*plan->d));
	plan->relevant = calloc(plan->n ? plan->n : 1, 1);
	if (pol != NULL)
		active = malloc(pol->nrules ? pol->nrules : 1);
	if (plan->d == NULL || plan->relevant == NULL || (pol != NULL && active == NULL)) {
		free(active);
		policy_plan_free(plan);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < plan->n; i++)
		for (size_t q = 0; q < req->ninterp; q++)
			if (cfg->sources[i].queries[req->interp[q].kind].present)
				plan->relevant[i] = 1;
	if (pol == NULL) {
		/* fail closed: no policy, no access */
		for (size_t i = 0; i < plan->n; i++)
			decide_data(NULL, NULL, NULL, POLICY_SEARCH, i, -1, &plan->d[i]);
		*out = plan;
		return FOCAL_OK;
	}
	subject_prepare(pol, p, ctx, &s);
	/* with codes configured, a code outside them is a mistake worth a clear
	 * 400; with none, purpose is free text the policy does not read */
	if (ctx->purpose != NULL && s.purpose < 0 && pol->ncodes > 0) {
		codes[0] = '\0';
		for (size_t c = 0; c < pol->ncodes && off < sizeof(codes); c++)
			off += (size_t)snprintf(codes + off, sizeof(codes) - off, "%s%s", c ? ", " : "",
						pol->codes[c]);
		free(active);
		policy_plan_free(plan);
		return focal_err_set(err, FOCAL_E_INVAL, "purpose: unknown purpose code \"%s\"; "
				     "expected one of: %s", ctx->purpose,
				     codes);
	}
	memset(active, -1, pol->nrules ? pol->nrules : 1);
	plan->codes = (const char *const *)pol->codes;
	plan->ncodes = pol->ncodes;
	plan->purpose_missing = s.purpose < 0;
	plan->case_missing = !s.has_case;
	plan->export = ctx->export;
	plan->export_purpose = ctx->purpose != NULL && ctx->purpose[strspn(ctx->purpose, " \t")] &&
			       s.has_case;
	if (plan_decide_all(pol, &s, active, plan) != 0 ||
	    (plan->export && plan_decide_export(pol, &s, active, plan) != 0)) {
		free(active);
		policy_plan_free(plan);
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < plan->n; i++) {
		if (plan->relevant[i] && (plan->d[i].verdict == POLICY_ALLOW ||
					  plan->d[i].verdict == POLICY_ALLOW_REDACTED) &&
		    ((pol->purpose_classes >> pol->src_class[i]) & 1u))
			sensitive = true;
	}
	free(active);
	if (sensitive && justify_selected(pol, p, req)) {
		plan->justify_required = true;
		plan->justify_given = req->justification != NULL &&
				      strlen(req->justification) >= POLICY_JUSTIFICATION_MIN;
	}
	*out = plan;
	return FOCAL_OK;
}

void policy_plan_free(struct policy_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->d);
	free(plan->relevant);
	free(plan);
}

int policy_plan_refusal(const struct policy_plan *plan, int *http_status, struct focal_err *err)
{
	size_t allowed = 0, needs = 0;
	char missing[64] = "", codes[400] = "";
	size_t off = 0;

	*http_status = 0;
	if (plan->justify_required && !plan->justify_given) {
		*http_status = 428;
		return focal_err_set(err, FOCAL_E_DENIED,
				     "justification required: this search was selected for a "
				     "justification check; repeat it with \"justification\" (free "
				     "text, at least %d characters, why you need this information)",
				     POLICY_JUSTIFICATION_MIN);
	}
	if (plan->export && !plan->export_purpose) {
		*http_status = 400;
		return focal_err_set(err, FOCAL_E_INVAL, "an export needs \"purpose\" and "
				     "\"case_ref\" (the case file the records are taken out for)");
	}
	for (size_t i = 0; i < plan->n; i++) {
		if (!plan->relevant[i])
			continue;
		if (plan->d[i].verdict == POLICY_ALLOW || plan->d[i].verdict == POLICY_ALLOW_REDACTED)
			allowed++;
		else if (plan->d[i].verdict == POLICY_NEEDS_PURPOSE)
			needs++;
	}
	if (allowed == 0 && plan->export_denied > 0) {
		*http_status = 403;
		return focal_err_set(err, FOCAL_E_DENIED, "export not permitted: the access policy "
				     "lets you export none of the sources that answer this search");
	}
	if (allowed > 0 || needs == 0)
		return FOCAL_OK;
	*http_status = 400;
	snprintf(missing, sizeof(missing), "%s%s%s", plan->purpose_missing ? "purpose" : "",
		 plan->purpose_missing && plan->case_missing ? " and " : "",
		 plan->case_missing ? "case_ref" : "");
	for (size_t c = 0; c < plan->ncodes && off < sizeof(codes); c++)
		off += (size_t)snprintf(codes + off, sizeof(codes) - off, "%s%s", c ? ", " : "",
					plan->codes[c]);
	return focal_err_set(err, FOCAL_E_INVAL,
			     "missing %s: the sources that answer this search are restricted; "
			     "give \"purpose\" (one of: %s) and \"case_ref\" (the case or "
			     "intervention reference)", missing, codes);
}

static int policy_plan_request(const struct config *cfg, const struct auth_principal *p,
			       const struct query_request *req, bool export,
			       struct policy_plan **out, int *http_status, struct focal_err *err)
{
	struct policy_context ctx;
	struct policy_plan *plan = NULL;
	int rc;

	*out = NULL;
	*http_status = 503;
	if (cfg == NULL)
		return focal_err_set(err, FOCAL_E_UNAVAIL, "no sources configured");
	policy_context_now(&ctx);
	ctx.purpose = req->purpose;
	ctx.case_ref = req->case_ref;
	ctx.export = export;
	if ((rc = policy_plan_new(cfg, p, req, &ctx, &plan, err)) != 0) {
		*http_status = rc == FOCAL_E_INVAL ? 400 : 503;
		return rc;
	}
	if ((rc = policy_plan_refusal(plan, http_status, err)) != 0) {
		policy_plan_free(plan);
		return rc;
	}
	*out = plan;
	return FOCAL_OK;
}

int policy_plan_search(const struct config *cfg, const struct auth_principal *p,
		       const struct query_request *req, struct policy_plan **out,
		       int *http_status, struct focal_err *err)
{
	return policy_plan_request(cfg, p, req, false, out, http_status, err);
}

int policy_plan_export(const struct config *cfg, const struct auth_principal *p,
		       const struct query_request *req, struct policy_plan **out,
		       int *http_status, struct focal_err *err)
{
	return policy_plan_request(cfg, p, req, true, out, http_status, err);
}

size_t policy_plan_export_denied(const struct policy_plan *plan)
{
	return plan != NULL ? plan->export_denied : 0;
}

size_t policy_plan_redacted(const struct policy_plan *plan)
{
	return plan != NULL ? plan->redacted : 0;
}

bool policy_plan_allows(const struct policy_plan *plan, size_t i)
{
	return plan != NULL && i < plan->n &&
	       (plan->d[i].verdict == POLICY_ALLOW || plan->d[i].verdict == POLICY_ALLOW_REDACTED);
}

const struct policy_decision *policy_plan_decision(const struct policy_plan *plan, size_t i)
{
	return plan != NULL && i < plan->n ? &plan->d[i] : NULL;
}

/* Field id of a record's field: names are the static pointers of
 * entity_fields(), so a pointer comparison finds them. */
static int record_field_id(enum entity_kind k, const char *name)
{
	const char *const *f = entity_fields(k);

	for (int i = 0; f != NULL && f[i] != NULL; i++)
		if (f[i] == name || strcmp(f[i], name) == 0)
			return policy_field_id(k, f[i]);
	return -1;
}

size_t policy_plan_redact(struct policy_plan *plan, struct source_call *call)
{
	struct record_set *rs = &call->records;
	uint64_t mask;
	size_t removed = 0, keep = 0;

	if (plan == NULL || call->def == NULL || call->def->index >= plan->n)
		return 0;
	mask = plan->d[call->def->index].redact;
	if (mask == 0)
		return 0;
	for (size_t i = 0; i < rs->n; i++) {
		struct record *r = &rs->items[i];
		size_t kf = 0;

		for (size_t f = 0; f < r->nfields; f++) {
			int id = record_field_id(r->kind, r->fields[f].name);

			/* unknown field ids cannot be judged: hidden (fail closed) */
			if (id < 0 || ((mask >> id) & 1u)) {
				size_t len = strlen(r->fields[f].value);

				rs->bytes -= len <= rs->bytes ? len : rs->bytes;
				sodium_memzero(r->fields[f].value, len);
				free(r->fields[f].value);
				removed++;
				continue;
			}
			r->fields[kf++] = r->fields[f];
		}
		r->nfields = kf;
		if (kf == 0) {
			free(r->fields);
			r->fields = NULL;
			continue; /* nothing left to show: the record goes */
		}
		rs->items[keep++] = *r;
	}
	rs->n = keep;
	plan->redacted += removed;
	return removed;
}

json_t *policy_plan_json(const struct policy_plan *plan)
{
	json_t *o = json_object(), *denied = json_array(), *req;
	const char *reasons[16];
	size_t counts[16], nr = 0;

	for (size_t i = 0; plan != NULL && i < plan->n; i++) {
		const char *why;
		size_t k;

		if (!plan->relevant[i] || policy_plan_allows(plan, i))
			continue;
		why = plan->d[i].reason;
		for (k = 0; k < nr && strcmp(reasons[k], why) != 0; k++)
			;
		if (k == nr) {
			if (nr == 16)
				continue;
			reasons[nr] = why;
			counts[nr++] = 0;
		}
		counts[k]++;
	}
	for (size_t k = 0; k < nr; k++) {
		json_t *e = json_pack("{s:I, s:s}", "source_count", (json_int_t)counts[k], "reason",
				      reasons[k]);

		if (strcmp(reasons[k], POLICY_REASON_NEEDS_PURPOSE) == 0) {
			req = json_array();
			if (plan->purpose_missing)
				json_array_append_new(req, json_string("purpose"));
			if (plan->case_missing)
				json_array_append_new(req, json_string("case_ref"));
			json_object_set_new(e, "required", req);
		}
		json_array_append_new(denied, e);
	}
	json_object_set_new(o, "denied", denied);
	json_object_set_new(o, "redacted_fields", json_integer((json_int_t)(plan ? plan->redacted : 0)));
	if (plan != NULL && plan->justify_required)
		json_object_set_new(o, "justification_checked", json_true());
	return o;
}

size_t policy_plan_denied(const struct policy_plan *plan)
{
	size_t denied = 0;

	for (size_t i = 0; plan != NULL && i < plan->n; i++)
		if (plan->relevant[i] && !policy_plan_allows(plan, i))
			denied++;
	return denied;
}
