/*
 * policy_parse: the policy file (YAML) → struct policy (policy_int.h).
 *
 * Validation is strict because a typo in an access policy is a security bug:
 * unknown keys, roles not declared in `roles:`, unknown actions, fields,
 * entity kinds, classifications, purpose codes and admin objects are errors
 * at their file:line:col, as are conditions that cannot apply to a rule's
 * actions (a field condition on a search rule, a source condition on an
 * administer rule) and rules that could never match.  Source names are
 * checked later, against focald's configuration (policy_bind in policy.c).
 * Errors are collected, not only the first (struct policy_errors): each
 * rule is parsed on its own and a rule that fails is dropped, so the next
 * rule's error and the source names of the rules that did parse are
 * reported in the same pass.  See docs/policy.md for the language.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfgnode.h"
#include "core/config.h"
#include "policy/policy_int.h"
#include "sources/record.h"

static const char *const class_names[] = { "not_sensitive", "restricted",
					   "strictly_confidential", NULL };
static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL };
static const char *const admin_names[] = { "users", "roles", "sessions", "sources", "policy",
					   "keys", "audit", "alerts", NULL };

/* Index of s in a NULL-terminated list, or -1. */
static int name_index(const char *const *list, const char *s)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/* A list value: a sequence of scalars, or one scalar standing for a list of one. */
static int list_len(const struct cfg_node *n, const char *what, size_t *len, struct focal_err *err)
{
	if (cfg_is_scalar(n)) {
		*len = 1;
		return FOCAL_OK;
	}
	if (!cfg_is_seq(n))
		return cfg_error(n, err, "%s: expected a list", what);
	*len = cfg_len(n);
	if (*len == 0)
		return cfg_error(n, err, "%s: an empty list matches nothing; remove the condition "
				 "to match anything", what);
	if (*len > POLICY_MAX_LIST)
		return cfg_error(n, err, "%s: at most %d items", what, POLICY_MAX_LIST);
	return FOCAL_OK;
}

static void list_at(const struct cfg_node *n, size_t i, struct cfg_node *out)
{
	if (cfg_is_scalar(n))
		*out = *n;
	else
		cfg_seq_at(n, i, out);
}

static int item_text(const struct cfg_node *it, const char *what, const char **out,
		     struct focal_err *err)
{
	*out = cfg_scalar(it);
	if (*out == NULL || **out == '\0')
		return cfg_error(it, err, "%s: expected a name", what);
	return FOCAL_OK;
}

/* A list of names from a fixed vocabulary → bit mask. */
static int list_mask(const struct cfg_node *n, const char *what, const char *const *vocab,
		     unsigned *out, struct focal_err *err)
{
	struct cfg_node it;
	const char *s;
	size_t len;
	int rc, i;
	char expected[256];
	size_t off = 0;

	*out = 0;
	if ((rc = list_len(n, what, &len, err)) != 0)
		return rc;
	for (size_t k = 0; k < len; k++) {
		list_at(n, k, &it);
		if ((rc = item_text(&it, what, &s, err)) != 0)
			return rc;
		if ((i = name_index(vocab, s)) < 0) {
			expected[0] = '\0';
			for (int j = 0; vocab[j] != NULL && off < sizeof(expected); j++)
				off += (size_t)snprintf(expected + off, sizeof(expected) - off, "%s%s",
							j ? ", " : "", vocab[j]);
			return cfg_error(&it, err, "%s: unknown \"%s\"; expected one of: %s", what, s,
					 expected);
		}
		*out |= 1u << i;
	}
	return FOCAL_OK;
}

/* A list of free names → owned string array. */
static int list_strings(const struct cfg_node *n, const char *what, char ***out, size_t *nout,
			struct focal_err *err)
{
	struct cfg_node it;
	const char *s;
	size_t len;
	int rc;

	if ((rc = list_len(n, what, &len, err)) != 0)
		return rc;
	*out = calloc(len, sizeof(**out));
	if (*out == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (size_t k = 0; k < len; k++) {
		list_at(n, k, &it);
		if ((rc = item_text(&it, what, &s, err)) != 0)
			return rc;
		if (((*out)[k] = strdup(s)) == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		*nout = k + 1;
	}
	return FOCAL_OK;
}

/* "8h", "15m", "90s" or a number of seconds. */
static int parse_duration(const struct cfg_node *n, const char *what, long *out,
			  struct focal_err *err)
{
	const char *s = cfg_scalar(n);
	char *end = NULL;
	long v, mult = 1;

	if (s == NULL)
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		goto bad;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mult = 60, end++;
	else if (*end == 'h')
		mult = 3600, end++;
	else if (*end == 'd')
		mult = 86400, end++;
	if (*end != '\0' || v > 366L * 86400 / mult)
		goto bad;
	*out = v * mult;
	return FOCAL_OK;
bad:
	return cfg_error(n, err, "%s: expected a duration such as 90s, 15m, 8h or 1d (at most 366d)",
			 what);
}

/* "HH:MM" → minutes. */
static bool parse_hhmm(const char *s, size_t len, int *out)
{
	if (len != 5 || s[2] != ':')
		return false;
	for (size_t i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return false;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');

	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return false;
	*out = h * 60 + m;
	return true;
}

static int parse_hours(const struct cfg_node *n, struct policy_rule *r, struct focal_err *err)
{
	const char *s = cfg_scalar(n), *dash;

	if (s == NULL || (dash = strchr(s, '-')) == NULL ||
	    !parse_hhmm(s, (size_t)(dash - s), &r->from_min) ||
	    !parse_hhmm(dash + 1, strlen(dash + 1), &r->to_min))
		return cfg_error(n, err, "hours: expected \"HH:MM-HH:MM\" (local time, may wrap "
				 "midnight, e.g. \"22:00-06:00\")");
	if (r->from_min == r->to_min)
		return cfg_error(n, err, "hours: an empty window (from equals to) never matches");
	return FOCAL_OK;
}

static int role_index(const struct policy *pol, const char *s)
{
	for (size_t i = 0; i < pol->nroles; i++)
		if (strcmp(pol->roles[i], s) == 0)
			return (int)i;
	return -1;
}

static int parse_subject(const struct cfg_node *n, const struct policy *pol, struct policy_rule *r,
			 struct focal_err *err)
{
	static const char *const keys[] = { "roles", "units", "clearance", "mfa_max_age",
					    "device_cert", NULL };
	struct cfg_node v, it;
	const char *s;
	size_t len;
	int rc, i;

	if ((rc = cfg_expect_map(n, "subject", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if (cfg_map_get(n, "roles", &v)) {
		if ((rc = list_len(&v, "roles", &len, err)) != 0)
			return rc;
		for (size_t k = 0; k < len; k++) {
			list_at(&v, k, &it);
			if ((rc = item_text(&it, "roles", &s, err)) != 0)
				return rc;
			if ((i = role_index(pol, s)) < 0)
				return cfg_error(&it, err, "unknown role \"%s\"; declare it in 'roles:' "
						 "at the top of the policy", s);
			r->roles |= UINT32_C(1) << i;
		}
	}
	if (cfg_map_get(n, "units", &v) &&
	    (rc = list_strings(&v, "units", &r->units, &r->nunits, err)) != 0)
		return rc;
	if (cfg_map_get(n, "clearance", &v)) {
		if ((s = cfg_scalar(&v)) == NULL || (i = name_index(class_names, s)) < 0)
			return cfg_error(&v, err, "clearance: expected not_sensitive, restricted or "
					 "strictly_confidential (the minimum the subject holds)");
		r->min_clearance = i;
	}
	if (cfg_map_get(n, "mfa_max_age", &v) &&
	    (rc = parse_duration(&v, "mfa_max_age", &r->mfa_max_age_s, err)) != 0)
		return rc;
	if (cfg_map_get(n, "device_cert", &v)) {
		bool b = false;

		if ((rc = cfg_get_bool(n, "device_cert", true, &b, err)) != 0)
			return rc;
		r->device_cert = b;
	}
	return FOCAL_OK;
}

/* "national_number" (every entity kind having it) or "person.national_number". */
static int field_mask(const struct cfg_node *it, const char *s, uint64_t *out,
		      struct focal_err *err)
{
	const char *dot = strchr(s, '.');
	uint64_t m = 0;
	int id;

	for (int k = 0; k < ENTITY__COUNT; k++) {
		const char *name = entity_kind_name((enum entity_kind)k);
		const char *f = s;

		if (dot != NULL) {
			if (strlen(name) != (size_t)(dot - s) || strncmp(name, s, (size_t)(dot - s)) != 0)
				continue;
			f = dot + 1;
		}
		if ((id = policy_field_id(k, f)) >= 0)
			m |= UINT64_C(1) << id;
	}
	if (m == 0)
		return cfg_error(it, err, "unknown field \"%s\"; write a canonical field such as "
				 "national_number or person.birth_date (docs/policy.md)", s);
	*out |= m;
	return FOCAL_OK;
}

static int parse_resource(const struct cfg_node *n, struct policy_rule *r, struct focal_err *err)
{
	static const char *const keys[] = { "sources", "classification", "owner", "entities",
					    "fields", "admin", NULL };
	const char *entity_vocab[ENTITY__COUNT + 1];
	struct cfg_node v, it;
	const char *s;
	unsigned ents = 0;
	uint64_t fields = 0;
	size_t len;
	int rc;

	for (int k = 0; k < ENTITY__COUNT; k++)
		entity_vocab[k] = entity_kind_name((enum entity_kind)k);
	entity_vocab[ENTITY__COUNT] = NULL;
	if ((rc = cfg_expect_map(n, "resource", err)) != 0 ||
	    (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if (cfg_map_get(n, "sources", &v)) {
		if ((rc = list_len(&v, "sources", &len, err)) != 0)
			return rc;
		if ((r->sources = calloc(len, sizeof(*r->sources))) == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		for (size_t k = 0; k < len; k++) {
			list_at(&v, k, &it);
			if ((rc = item_text(&it, "sources", &s, err)) != 0)
				return rc;
			if ((r->sources[k].text = strdup(s)) == NULL)
				return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			r->sources[k].line = cfg_line(&it);
			r->sources[k].col = cfg_col(&it);
			r->nsources = k + 1;
		}
	}
	if (cfg_map_get(n, "classification", &v) &&
	    (rc = list_mask(&v, "classification", class_names, &r->classes, err)) != 0)
		return rc;
	if (cfg_map_get(n, "owner", &v) &&
	    (rc = list_strings(&v, "owner", &r->owners, &r->nowners, err)) != 0)
		return rc;
	if (cfg_map_get(n, "entities", &v) &&
	    (rc = list_mask(&v, "entities", entity_vocab, &ents, err)) != 0)
		return rc;
	if (cfg_map_get(n, "fields", &v)) {
		if ((rc = list_len(&v, "fields", &len, err)) != 0)
			return rc;
		for (size_t k = 0; k < len; k++) {
			list_at(&v, k, &it);
			if ((rc = item_text(&it, "fields", &s, err)) != 0 ||
			    (rc = field_mask(&it, s, &fields, err)) != 0)
				return rc;
		}
	}
	if (cfg_map_get(n, "admin", &v) &&
	    (rc = list_mask(&v, "admin", admin_names, &r->admin, err)) != 0)
		return rc;
	/* fold entity kinds into the field set: "entities: [report]" covers every
	 * report field, and together with fields narrows them to those kinds */
	r->fields_given = ents != 0 || fields != 0;
	if (ents != 0) {
		uint64_t em = 0;

		for (int k = 0; k < ENTITY__COUNT; k++)
			if (ents & (1u << k))
				for (const char *const *f = entity_fields((enum entity_kind)k); *f; f++)
					em |= UINT64_C(1) << policy_field_id(k, *f);
		if (fields != 0 && (fields & em) == 0) {
			cfg_map_get(n, "fields", &v);
			return cfg_error(&v, err, "fields: none of these belongs to the entities "
					 "named; the rule could never match");
		}
		fields = fields != 0 ? fields & em : em;
	}
	r->fields = fields;
	return FOCAL_OK;
}

static int code_index(const struct policy *pol, const char *s)
{
	for (size_t i = 0; i < pol->ncodes; i++)
		if (strcmp(pol->codes[i], s) == 0)
			return (int)i;
	return -1;
}

static int parse_context(const struct cfg_node *n, const struct policy *pol, struct policy_rule *r,
			 struct focal_err *err)
{
	static const char *const keys[] = { "purpose", "case_ref", "hours", "days", NULL };
	struct cfg_node v, it;
	const char *s;
	size_t len;
	int rc, i;

	if ((rc = cfg_expect_map(n, "context", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if (cfg_map_get(n, "purpose", &v)) {
		if ((rc = list_len(&v, "purpose", &len, err)) != 0)
			return rc;
		for (size_t k = 0; k < len; k++) {
			list_at(&v, k, &it);
			if ((rc = item_text(&it, "purpose", &s, err)) != 0)
				return rc;
			if ((i = code_index(pol, s)) < 0)
				return cfg_error(&it, err, "unknown purpose code \"%s\"; declare it in "
						 "'purpose: codes:'", s);
			r->purposes |= UINT64_C(1) << i;
		}
	}
	if (cfg_map_get(n, "case_ref", &v)) {
		if ((rc = cfg_get_bool(n, "case_ref", true, &r->case_ref, err)) != 0)
			return rc;
		if (!r->case_ref)
			return cfg_error(&v, err, "case_ref: only 'true' (a reference is required) is "
					 "meaningful; remove the condition otherwise");
	}
	if (cfg_map_get(n, "hours", &v) && (rc = parse_hours(&v, r, err)) != 0)
		return rc;
	if (cfg_map_get(n, "days", &v) && (rc = list_mask(&v, "days", day_names, &r->days, err)) != 0)
		return rc;
	return FOCAL_OK;
}

/* Conditions that cannot apply to the rule's actions are contradictions. */
static int check_rule(const struct cfg_node *n, const struct policy_rule *r, struct focal_err *err)
{
	unsigned data = (1u << POLICY_SEARCH) | (1u << POLICY_VIEW) | (1u << POLICY_EXPORT);
	unsigned fieldwise = (1u << POLICY_VIEW) | (1u << POLICY_EXPORT);
	bool has_source_cond = r->nsources > 0 || r->classes != 0 || r->nowners > 0;

	if ((r->actions & (1u << POLICY_ADMINISTER)) && (r->actions & data))
		return cfg_error(n, err, "rule \"%s\": administer cannot share a rule with search, "
				 "view or export (their resources differ); split the rule", r->name);
	if (r->admin != 0 && !(r->actions & (1u << POLICY_ADMINISTER)))
		return cfg_error(n, err, "rule \"%s\": resource 'admin' applies to action "
				 "administer only", r->name);
	if (has_source_cond && (r->actions & (1u << POLICY_ADMINISTER)))
		return cfg_error(n, err, "rule \"%s\": sources, classification and owner do not "
				 "apply to action administer; use resource 'admin'", r->name);
	if (r->fields_given && (r->actions & ~fieldwise) != 0)
		return cfg_error(n, err, "rule \"%s\": fields and entities apply to actions view and "
				 "export only; put search in a rule of its own", r->name);
	if (r->reason != NULL && !r->deny)
		return cfg_error(n, err, "rule \"%s\": 'reason' is shown to officers for deny rules "
				 "only", r->name);
	return FOCAL_OK;
}

static int parse_rule(const struct cfg_node *n, struct policy *pol, struct policy_rule *r,
		      struct focal_err *err)
{
	static const char *const keys[] = { "name", "effect", "actions", "subject", "resource",
					    "context", "reason", NULL };
	static const char *const effects[] = { "allow", "deny", NULL };
	static const char *const actions[] = { "search", "view", "export", "administer", NULL };
	struct cfg_node v;
	int effect = 0, rc;

	r->min_clearance = -1;
	r->mfa_max_age_s = -1;
	r->device_cert = -1;
	r->from_min = r->to_min = -1;
	r->line = cfg_line(n);
	r->col = cfg_col(n);
	if ((rc = cfg_expect_map(n, "rule", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0 ||
	    (rc = cfg_get_string(n, "name", true, &r->name, err)) != 0 ||
	    (rc = cfg_get_enum(n, "effect", true, effects, &effect, err)) != 0 ||
	    (rc = cfg_get_string(n, "reason", false, &r->reason, err)) != 0)
		return rc;
	if (strlen(r->name) == 0 || strlen(r->name) > POLICY_NAME_MAX)
		return cfg_error(n, err, "name: 1 to %d characters", POLICY_NAME_MAX);
	r->deny = effect == 1;
	if (!cfg_map_get(n, "actions", &v))
		return cfg_error(n, err, "rule \"%s\": missing required key 'actions' (search, view, "
				 "export, administer)", r->name);
	if ((rc = list_mask(&v, "actions", actions, &r->actions, err)) != 0)
		return rc;
	if (cfg_map_get(n, "subject", &v) && (rc = parse_subject(&v, pol, r, err)) != 0)
		return rc;
	if (cfg_map_get(n, "resource", &v) && (rc = parse_resource(&v, r, err)) != 0)
		return rc;
	if (cfg_map_get(n, "context", &v) && (rc = parse_context(&v, pol, r, err)) != 0)
		return rc;
	return check_rule(n, r, err);
}

static int parse_roles(const struct cfg_node *n, struct policy *pol, struct focal_err *err)
{
	struct cfg_node it;
	const char *s;
	size_t len;
	int rc;

	if ((rc = list_len(n, "roles", &len, err)) != 0)
		return rc;
	if (len > POLICY_MAX_ROLES)
		return cfg_error(n, err, "roles: at most %d roles", POLICY_MAX_ROLES);
	for (size_t k = 0; k < len; k++) {
		list_at(n, k, &it);
		if ((rc = item_text(&it, "roles", &s, err)) != 0)
			return rc;
		if (role_index(pol, s) >= 0)
			return cfg_error(&it, err, "role \"%s\" declared twice", s);
		if ((pol->roles[pol->nroles] = strdup(s)) == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		pol->nroles++;
	}
	return FOCAL_OK;
}

static int parse_purpose(const struct cfg_node *n, struct policy *pol, struct focal_err *err)
{
	static const char *const keys[] = { "codes", "required_for", "justification", NULL };
	static const char *const jkeys[] = { "one_in", "seed", NULL };
	struct cfg_node v, it;
	const char *s;
	char *seed = NULL;
	size_t len;
	int rc;

	pol->purpose_line = cfg_line(n);
	if ((rc = cfg_expect_map(n, "purpose", err)) != 0 || (rc = cfg_check_keys(n, keys, err)) != 0)
		return rc;
	if (!cfg_map_get(n, "codes", &v))
		return cfg_error(n, err, "purpose: missing required key 'codes' (the purpose codes "
				 "officers may give)");
	if ((rc = list_len(&v, "codes", &len, err)) != 0)
		return rc;
	if (len > POLICY_MAX_CODES)
		return cfg_error(&v, err, "codes: at most %d purpose codes", POLICY_MAX_CODES);
	for (size_t k = 0; k < len; k++) {
		list_at(&v, k, &it);
		if ((rc = item_text(&it, "codes", &s, err)) != 0)
			return rc;
		if (code_index(pol, s) >= 0)
			return cfg_error(&it, err, "purpose code \"%s\" given twice", s);
		if ((pol->codes[pol->ncodes] = strdup(s)) == NULL)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		pol->ncodes++;
	}
	pol->purpose_classes = (1u << CLASS_RESTRICTED) | (1u << CLASS_STRICTLY_CONFIDENTIAL);
	if (cfg_map_get(n, "required_for", &v) &&
	    (rc = list_mask(&v, "required_for", class_names, &pol->purpose_classes, err)) != 0)
		return rc;
	if (cfg_map_get(n, "justification", &v)) {
		if ((rc = cfg_expect_map(&v, "justification", err)) != 0 ||
		    (rc = cfg_check_keys(&v, jkeys, err)) != 0 ||
		    (rc = cfg_get_long(&v, "one_in", true, 1, 1000000, &pol->justify_one_in, err)) != 0 ||
		    (rc = cfg_get_string(&v, "seed", false, &seed, err)) != 0)
			return rc;
		if (seed != NULL) {
			/* tests: a fixed key makes the prompts deterministic */
			crypto_generichash(pol->justify_key, sizeof(pol->justify_key),
					   (const unsigned char *)seed, strlen(seed), NULL, 0);
			free(seed);
		}
	}
	return FOCAL_OK;
}

static void rule_clear(struct policy_rule *r)
{
	free(r->name);
	free(r->reason);
	for (size_t i = 0; i < r->nunits; i++)
		free(r->units[i]);
	free(r->units);
	for (size_t i = 0; i < r->nsources; i++)
		free(r->sources[i].text);
	free(r->sources);
	for (size_t i = 0; i < r->nowners; i++)
		free(r->owners[i]);
	free(r->owners);
	free(r->srcmask);
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->nroles; i++)
		free(p->roles[i]);
	for (size_t i = 0; i < p->ncodes; i++)
		free(p->codes[i]);
	free(p->src_class);
	free(p->file);
	sodium_memzero(p->justify_key, sizeof(p->justify_key));
	free(p);
}

int policy_errors_add(struct policy_errors *errs, const struct focal_err *e)
{
	if (errs->n < POLICY_MAX_ERRORS)
		errs->e[errs->n++] = *e;
	errs->total++;
	return e->code;
}

/* Drops rule i (it did not parse) from pol's rules. */
static void drop_rule(struct policy *pol, size_t i)
{
	rule_clear(&pol->rules[i]);
	memmove(&pol->rules[i], &pol->rules[i + 1], (pol->nrules - i - 1) * sizeof(*pol->rules));
	pol->nrules--;
	memset(&pol->rules[pol->nrules], 0, sizeof(*pol->rules));
}

/* The rules list: each rule parsed on its own, so one rule's error does not
 * hide the next one's.  Returns FOCAL_E_NOMEM only; the rest goes to errs. */
static int parse_rules(const struct cfg_node *v, struct policy *pol, struct policy_errors *errs)
{
	struct cfg_node item, seen;
	struct focal_err err;
	int rc;

	for (size_t i = 0; i < cfg_len(v); i++) {
		struct policy_rule *r;
		size_t at = pol->nrules;

		cfg_seq_at(v, i, &item);
		r = &pol->rules[at];
		pol->nrules = at + 1;
		if ((rc = parse_rule(&item, pol, r, &err)) == 0) {
			for (size_t j = 0; j < at && rc == 0; j++)
				if (strcmp(pol->rules[j].name, r->name) == 0) {
					cfg_map_get(&item, "name", &seen);
					rc = cfg_error(&seen, &err,
						       "a rule named \"%s\" already exists (line %zu)",
						       r->name, pol->rules[j].line);
				}
		}
		if (rc != 0) {
			drop_rule(pol, at);
			if (policy_errors_add(errs, &err) == FOCAL_E_NOMEM)
				return FOCAL_E_NOMEM;
		}
	}
	return FOCAL_OK;
}

int policy_parse_root(const struct cfg_node *root, const char *file, struct policy **out,
		      struct policy_errors *errs)
{
	static const char *const keys[] = { "version", "roles", "clearance_ceiling", "purpose",
					    "rules", NULL };
	static const char *const default_roles[] = { "officer", "admin", "auditor" };
	struct policy *pol;
	struct cfg_node v;
	struct focal_err err;
	size_t before = errs->total;
	bool rules_ok = true; /* roles and purpose codes, which rules name, parsed */
	long version = 1;
	int rc;

	*out = NULL;
	if (sodium_init() < 0) {
		focal_err_set(&err, FOCAL_E_INTERNAL, "libsodium failed to initialise");
		return policy_errors_add(errs, &err);
	}
	if ((rc = cfg_expect_map(root, "the policy", &err)) != 0)
		return policy_errors_add(errs, &err);
	if ((pol = calloc(1, sizeof(*pol))) == NULL || (pol->file = strdup(file)) == NULL) {
		free(pol);
		focal_err_set(&err, FOCAL_E_NOMEM, "out of memory");
		return policy_errors_add(errs, &err);
	}
	*out = pol;
	pol->clearance_ceiling = true;
	randombytes_buf(pol->justify_key, sizeof(pol->justify_key));
	/* an error in one section does not hide the next section's */
	if (cfg_check_keys(root, keys, &err) != 0)
		policy_errors_add(errs, &err);
	if (cfg_get_long(root, "version", true, 1, 1, &version, &err) != 0)
		policy_errors_add(errs, &err);
	pol->version = (size_t)version;
	if (cfg_map_get(root, "roles", &v)) {
		if (parse_roles(&v, pol, &err) != 0) {
			policy_errors_add(errs, &err);
			rules_ok = false;
		}
	} else {
		for (size_t i = 0; i < 3; i++)
			if ((pol->roles[pol->nroles++] = strdup(default_roles[i])) == NULL) {
				focal_err_set(&err, FOCAL_E_NOMEM, "out of memory");
				return policy_errors_add(errs, &err);
			}
	}
	if (cfg_map_get(root, "clearance_ceiling", &v)) {
		pol->ceiling_line = cfg_line(&v);
		if (cfg_get_bool(root, "clearance_ceiling", true, &pol->clearance_ceiling, &err) != 0)
			policy_errors_add(errs, &err);
	}
	if (cfg_map_get(root, "purpose", &v) && parse_purpose(&v, pol, &err) != 0) {
		policy_errors_add(errs, &err);
		rules_ok = false;
	}
	if (!cfg_map_get(root, "rules", &v)) {
		cfg_error(root, &err, "missing required key 'rules' (with none, everything is "
			  "denied)");
		policy_errors_add(errs, &err);
	} else if (cfg_expect_seq(&v, "rules", &err) != 0) {
		policy_errors_add(errs, &err);
	} else if (cfg_len(&v) > POLICY_MAX_RULES) {
		cfg_error(&v, &err, "rules: at most %d rules", POLICY_MAX_RULES);
		policy_errors_add(errs, &err);
	} else if (rules_ok) {
		if ((pol->rules = calloc(cfg_len(&v) ? cfg_len(&v) : 1, sizeof(*pol->rules))) == NULL ||
		    parse_rules(&v, pol, errs) != FOCAL_OK) {
			focal_err_set(&err, FOCAL_E_NOMEM, "out of memory");
			return policy_errors_add(errs, &err);
		}
	}
	return errs->total > before ? FOCAL_E_CONFIG : FOCAL_OK;
}
