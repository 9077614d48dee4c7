/*
 * policy: attribute-based access control (issue 5): load and validate a
 * declarative policy file, decide — with the rule that decided — whether a
 * principal may search a source, view a field, export, or administer, and
 * turn that into a per-search plan the fan-out obeys.
 *
 * Where it fits:
 *   focald's configuration names the policy file (`policy: { file: ... }`);
 *   config.c calls policy_config_parse() (reads and validates the file) and
 *   policy_config_bind() (checks it against the configured sources and
 *   precomputes which sources each rule covers).  The policy is part of the
 *   immutable, reference-counted struct config, so a reload (SIGHUP) applies
 *   to the next request and an invalid file keeps the running policy.
 *   api_search builds a struct policy_plan from the principal and the request
 *   (policy_plan_new) before fan-out; fanout.c asks policy_plan_allows() per
 *   source (a denied source is never queried) and calls policy_plan_redact()
 *   on every answer as it arrives, before anything else sees it.
 *
 * Decision order (docs/policy.md): clearance ceiling, then every rule whose
 * subject, resource, action and context match — any deny wins over every
 * allow; no matching allow means deny (default deny); then purpose binding
 * for sources whose classification requires it.  Decisions take well under a
 * microsecond: each rule's source coverage is a bit set computed at load.
 *
 * Fail closed: a missing policy (NULL) denies everything.  Everything here is
 * immutable after load and safe to share between loop threads.
 */
#ifndef FOCAL_POLICY_H
#define FOCAL_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "http/reply.h"

struct cfg_node;
struct config;
struct policy;
struct policy_config;
struct auth_principal;
struct query_request;
struct source_call;

enum policy_action {
	POLICY_SEARCH = 0, /* query a source */
	POLICY_VIEW,       /* see a field of a record (denied → redacted) */
	POLICY_EXPORT,     /* take records out of Focal (CSV, JSON lines) */
	POLICY_ADMINISTER, /* an admin or oversight operation on an object */
	POLICY_ACTION__COUNT
};
const char *policy_action_name(enum policy_action a);
int policy_action_parse(const char *name, enum policy_action *out);

/* What an administer decision is about; checked by policy_check_admin(). */
#define POLICY_ADMIN_OBJECTS "users, roles, sessions, sources, policy, keys, audit, alerts"

enum policy_verdict {
	POLICY_DENY = 0,
	POLICY_ALLOW,
	POLICY_ALLOW_REDACTED, /* allow, with the fields in `redact` removed */
	POLICY_NEEDS_PURPOSE,  /* allowed by the rules, but purpose binding is unmet */
};
const char *policy_verdict_name(enum policy_verdict v);

/* Why, in one word, for the officer's briefing (never names a source). */
#define POLICY_REASON_CLEARANCE "clearance"
#define POLICY_REASON_NO_RULE "not_permitted"
#define POLICY_REASON_NEEDS_PURPOSE "needs_purpose"
#define POLICY_REASON_NO_POLICY "no_policy"
#define POLICY_REASON_NO_EXPORT "export_not_permitted"

struct policy_decision {
	enum policy_verdict verdict;
	const char *rule;   /* the rule that decided, or "clearance", "default", "purpose_binding" */
	const char *file;   /* its file ("" for built-in decisions) */
	size_t line;        /* its line (0 for built-in decisions) */
	const char *reason; /* short word for officers: a POLICY_REASON_* or the rule's reason */
	uint64_t redact;    /* search: fields redacted (bit = policy_field_id) */
};

/* The context of a request: what policy reads besides the principal and
 * the resource.  minute_of_day and weekday are local time (TZ of focald). */
struct policy_context {
	const char *purpose;  /* purpose code or NULL */
	const char *case_ref; /* case or intervention reference or NULL */
	int64_t now_ms;       /* Unix ms, for the age of the MFA login */
	int minute_of_day;    /* 0..1439 */
	int weekday;          /* 0 = Monday .. 6 = Sunday */
	bool export;          /* the records leave Focal (policy_plan_export) */
};
/* Fills now_ms, minute_of_day and weekday from the clock; purpose and case_ref NULL. */
void policy_context_now(struct policy_context *ctx);

/* Canonical field ids: every field of every entity kind (record.h) has one bit. */
int policy_field_id(int entity_kind, const char *field); /* -1 if unknown */
const char *policy_field_name(int id, int *entity_kind);   /* NULL if out of range */

/* --- loading --------------------------------------------------------------- */

/* Parses the `policy:` section of focald's configuration (`file:` names the
 * policy file, relative to the configuration).  With n NULL, *out stays NULL
 * and policy_config_bind() installs the built-in policy.  Errors name
 * file:line:col in focal.yaml or in the policy file. */
int policy_config_parse(const struct cfg_node *n, struct policy_config **out, struct focal_err *err);
/* Checks the parsed policy against cfg's sources (unknown source names are
 * errors at their file:line:col) and precomputes each rule's coverage; called
 * by config.c once the sources are parsed.  Installs the built-in policy when
 * the configuration has no `policy:` section. */
int policy_config_bind(struct config *cfg, struct focal_err *err);
void policy_config_free(struct policy_config *c); /* NULL-safe */
/* The bound policy of a loaded configuration (NULL: deny everything). */
const struct policy *policy_of(const struct config *cfg);

/* Loads a policy file by itself (the CLI's `policy check`, tests, fuzzing).
 * With cfg non-NULL it is also bound to cfg's sources; without, source names
 * are not checked and the policy can only be explained, not enforced. */
int policy_load_file(const char *path, const struct config *cfg, struct policy **out,
		     struct focal_err *err);
int policy_load_string(const char *name, const char *text, size_t len,
		       const struct config *cfg, struct policy **out, struct focal_err *err);
void policy_free(struct policy *p); /* NULL-safe */

/* Every error of a policy file, not only the first: parsing goes on with the
 * next rule after a rule's error (one error per rule: its first), and source
 * names are checked for every rule that parsed.  A broken `roles:` or
 * `purpose:` section stops before the rules (their errors would follow from
 * it), as does a YAML syntax error.  At most POLICY_MAX_ERRORS are kept;
 * total counts all. */
#define POLICY_MAX_ERRORS 20
struct policy_errors {
	size_t n;     /* errors kept in e[] */
	size_t total; /* errors found */
	struct focal_err e[POLICY_MAX_ERRORS];
};
/* policy_load_file / policy_load_string that also give every error in *all
 * (may be NULL).  Both forms set err to the errors joined, one a line, as
 * many as fit, then "(N more errors)". */
int policy_load_file_all(const char *path, const struct config *cfg, struct policy **out,
			 struct policy_errors *all, struct focal_err *err);
int policy_load_string_all(const char *name, const char *text, size_t len,
			   const struct config *cfg, struct policy **out,
			   struct policy_errors *all, struct focal_err *err);
size_t policy_nrules(const struct policy *p);
/* Which policy cfg runs, for the audit log: {"file": path (or "(built-in
 * policy)"), "sha256": hex of the file's text as parsed, "rules": n}; nulls
 * when there is none.  New reference. */
json_t *policy_identity_json(const struct config *cfg);
/* The policy file cfg names (NULL: the built-in policy). */
/* The purpose codes searches may carry (empty array: none configured), for
 * the app's purpose list.  New reference. */
json_t *policy_purposes_json(const struct config *cfg);
const char *policy_file_of(const struct config *cfg);
/* Bound to a configuration's sources (decisions possible)? */
bool policy_is_bound(const struct policy *p);

/* --- deciding -------------------------------------------------------------- */

/* The decision for action on configured source index `source` (SEARCH, VIEW,
 * EXPORT; for VIEW/EXPORT `field` is a policy_field_id or -1 for "the whole
 * record").  For SEARCH it includes the fields redacted and purpose binding.
 * A NULL or unbound policy denies. */
void policy_decide(const struct policy *pol, const struct auth_principal *p,
		   const struct policy_context *ctx, enum policy_action action, size_t source,
		   int field, struct policy_decision *out);

/* Administer `what` (one of POLICY_ADMIN_OBJECTS)?  FOCAL_OK, or FOCAL_E_DENIED
 * with a message naming the rule (reply 403).  The one call admin and
 * oversight endpoints make; policy NULL (no configuration) denies. */
int policy_check_admin(const struct policy *pol, const struct auth_principal *p,
		       const char *what, struct focal_err *err);

/* The same for an HTTP handler on loop sl: the policy of the configuration
 * this loop currently runs (reload-safe: never read sl->srv->cfg from a loop
 * thread).  A handler replies 403 with err.msg when it returns non-zero. */
struct server_loop;
int policy_check_admin_loop(struct server_loop *sl, const struct auth_principal *p,
			    const char *what, struct focal_err *err);

/* --- a search's plan -------------------------------------------------------- */

struct policy_plan;

/* Decides every configured source of cfg for p and req (purpose, case
 * reference, justification).  Returns FOCAL_E_INVAL when the request names a
 * purpose code the policy does not know (the message lists the codes).
 * *out is owned by the caller (or handed to search_start_planned). */
int policy_plan_new(const struct config *cfg, const struct auth_principal *p,
		    const struct query_request *req, const struct policy_context *ctx,
		    struct policy_plan **out, struct focal_err *err);
void policy_plan_free(struct policy_plan *plan); /* NULL-safe */

/* Whether the request must be refused before any source is asked:
 *   428 when a justification prompt fell on this search and it carries none;
 *   400 when no source the request would ask is allowed and some of them only
 *       lack a purpose code or case reference (the message names the missing
 *       member(s)).
 * Returns FOCAL_OK (search) or an error with *http_status set. */
int policy_plan_refusal(const struct policy_plan *plan, int *http_status, struct focal_err *err);

/* What api_search calls: the clock's context with req's purpose and case
 * reference, policy_plan_new, then policy_plan_refusal.  On error *http_status
 * is the reply's status (400, 428, 503) and err its message. */
int policy_plan_search(const struct config *cfg, const struct auth_principal *p,
		       const struct query_request *req, struct policy_plan **out,
		       int *http_status, struct focal_err *err);

/* The same for an export of the records (POST /v1/search with "export"):
 * every source needs the export action besides search (a source not allowed
 * for export is not queried, and counted), every field the export action as
 * well as view (the others are redacted as records arrive), and the request
 * needs a purpose and a case reference (400).  403 when the policy lets the
 * principal export none of the sources that answer the request. */
int policy_plan_export(const struct config *cfg, const struct auth_principal *p,
		       const struct query_request *req, struct policy_plan **out,
		       int *http_status, struct focal_err *err);
/* Sources an export plan keeps out because export (not search) is denied. */
size_t policy_plan_export_denied(const struct policy_plan *plan);
/* Fields removed from the records of plan so far. */
size_t policy_plan_redacted(const struct policy_plan *plan);

/* May source index i be queried? (false for a NULL plan: fail closed) */
bool policy_plan_allows(const struct policy_plan *plan, size_t i);
/* Removes the redacted fields of every record of call (as it arrives, before
 * hops, streaming, resolution or logging see it); a record left with no field
 * is dropped.  Returns the number of fields removed. */
size_t policy_plan_redact(struct policy_plan *plan, struct source_call *call);
const struct policy_decision *policy_plan_decision(const struct policy_plan *plan, size_t i);

/* The briefing's "policy" member: sources not searched grouped by reason
 * (counts only, never names), what purpose binding requires, the number of
 * fields redacted so far.  New reference. */
json_t *policy_plan_json(const struct policy_plan *plan);

/* How many sources that answer the request's kind the plan keeps out; the
 * briefing counts them in "sources_denied_by_policy", not among those "not
 * searched" because they do not answer the query's kind. */
size_t policy_plan_denied(const struct policy_plan *plan);

/* HTTP endpoints of this module, for api.c's dispatcher. */
extern const struct api_route policy_api_routes[];

#endif
