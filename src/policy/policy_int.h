/*
 * policy_int: the in-memory form of a policy, shared by policy_parse.c (YAML →
 * rules), policy.c (configuration section, binding to sources) and
 * policy_eval.c (decisions and plans).  Not for other modules: they use
 * policy.h.
 *
 * Everything is compiled at load into small bit sets so that a decision is a
 * handful of AND/OR operations: roles are indices into the policy's declared
 * roles, classifications / entity kinds / weekdays / admin objects / actions
 * are bit masks, fields are bits of a uint64_t (policy_field_id), and each
 * rule's resource conditions on sources (names, classification, owner) become
 * one bit per configured source when the policy is bound.
 */
#ifndef FOCAL_POLICY_INT_H
#define FOCAL_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#define POLICY_MAX_ROLES 32
#define POLICY_MAX_RULES 4096
#define POLICY_MAX_LIST 256   /* items in one list of a rule */
#define POLICY_MAX_CODES 64   /* purpose codes */
#define POLICY_NAME_MAX 64
#define POLICY_ALL_FIELDS(n) ((n) >= 64 ? UINT64_MAX : ((UINT64_C(1) << (n)) - 1))

/* A name as written in the file, with where (for errors found at binding). */
struct policy_name {
	char *text;
	size_t line, col;
};

struct policy_rule {
	char *name;
	size_t line, col;
	bool deny;
	unsigned actions;          /* bit per enum policy_action */
	char *reason;              /* optional short word for officers (deny rules) */

	/* subject (each condition absent = any) */
	uint32_t roles;            /* any of; 0 = any */
	char **units;              /* any of; "ANT-*" matches by prefix */
	size_t nunits;
	int min_clearance;         /* -1 = any, else enum classification */
	long mfa_max_age_s;        /* -1 = any; else MFA done at most this long ago */
	int device_cert;           /* -1 = any, 0/1 = must be absent/present */

	/* resource */
	struct policy_name *sources; /* any of; "pol-*" by prefix; NULL = any */
	size_t nsources;
	unsigned classes;          /* bit per classification; 0 = any */
	char **owners;             /* any of; NULL = any */
	size_t nowners;
	uint64_t fields;           /* view/export: fields covered (entities folded in) */
	bool fields_given;         /* fields or entities were named */
	unsigned admin;            /* administer: objects covered; 0 = any */

	/* context */
	uint64_t purposes;         /* bit per purpose code index; 0 = any */
	bool case_ref;             /* a case or intervention reference is required */
	int from_min, to_min;      /* time window [from, to) in minutes; -1 = any; wraps midnight */
	unsigned days;             /* bit per weekday, 0 = Monday; 0 = any */

	/* bound: bit per configured source */
	uint64_t *srcmask;
};

struct policy {
	char *file;
	unsigned char sha256[32];  /* of the file's text: names the version in the audit log */
	size_t version;
	char *roles[POLICY_MAX_ROLES];
	size_t nroles;
	bool clearance_ceiling;    /* deny sources classified above the principal's clearance */
	size_t ceiling_line;
	/* purpose binding */
	char *codes[POLICY_MAX_CODES];
	size_t ncodes;
	unsigned purpose_classes;  /* classifications that need purpose + reference */
	size_t purpose_line;
	long justify_one_in;       /* 0 = never */
	unsigned char justify_key[16]; /* SipHash key: from the seed, or random */
	struct policy_rule *rules;
	size_t nrules;
	/* bound */
	bool bound;
	size_t nsrc, srcwords;
	unsigned char *src_class;  /* classification per configured source */
};

/* policy.c: number of canonical fields (ids 0 .. n-1, n <= 64). */
int policy_nfields(void);

/* Records one error (the message of e) in errs; returns e->code. */
int policy_errors_add(struct policy_errors *errs, const struct focal_err *e);

/* policy_parse.c: the policy file's root node → *out (unbound).  Every error
 * found goes to errs (see policy.h).  Returns FOCAL_OK, or the code of the
 * first error; *out is then still set (NULL only after an error that stops
 * parsing) and holds the rules that parsed, so that their source names can
 * be checked too; the caller frees it. */
struct cfg_node;
int policy_parse_root(const struct cfg_node *root, const char *file, struct policy **out,
		      struct policy_errors *errs);
/* The built-in policy used when the configuration has no `policy:` section. */
int policy_builtin(struct policy **out, struct focal_err *err);
/* policy.c: bind to cfg's sources; every rule's errors go to errs. */
int policy_bind(struct policy *pol, const struct config *cfg, struct policy_errors *errs);

static inline bool policy_src_bit(const uint64_t *mask, size_t i)
{
	return (mask[i / 64] >> (i % 64)) & 1u;
}

#endif
