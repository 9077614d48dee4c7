/*
 * audit_misuse: signals of possible misuse of police data, raised while
 * searches happen (issue 5 point 7).  Each rule is configured in the
 * `alerts:` block of the `audit:` section:
 *
 *   rate_per_minute  more searches than this by one user in 60 seconds
 *   flagged          searches of listed persons (national numbers or names:
 *                    colleagues, public figures), matched after normalisation
 *   shifts           searches outside the user's (or else the unit's) hours
 *   no_hit_streak    this many consecutive searches by one user without any hit
 *
 * An alert is a log line (event "audit_alert"), an entry "alert.<rule>" in
 * the audit log (so GET /v1/audit/alerts and the CLI find it), raised once per
 * burst (a rate alert at most once a minute per user, a streak alert once
 * per streak).  Per-user counters are process-wide under one mutex.
 */
#ifndef FOCAL_AUDIT_MISUSE_H
#define FOCAL_AUDIT_MISUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct cfg_node;
struct auth_principal;
struct query_request;

struct audit_shift {
	char *who;            /* user or unit */
	int start_min, end_min; /* minutes after local midnight; end < start spans midnight */
};

struct audit_misuse_config {
	long rate_per_minute;  /* 0: off */
	long no_hit_streak;    /* 0: off */
	char **flagged;        /* comparison keys (identifiers and name keys) */
	size_t nflagged;
	struct audit_shift *users, *units;
	size_t nusers, nunits;
};

/* Parses the `alerts:` mapping (n may be NULL: every rule off). */
int audit_misuse_config_parse(const struct cfg_node *n, struct audit_misuse_config *out,
			      struct focal_err *err);
void audit_misuse_config_clear(struct audit_misuse_config *c);

/* A search by who of qr began (its audit entry is seq); raises the rate,
 * flagged-person and shift alerts that apply. */
void audit_misuse_search_begin(const struct audit_misuse_config *c, const struct auth_principal *who,
			       const struct query_request *qr, uint64_t seq, int64_t now_ms);
/* The search ended with hits records; raises the no-hit streak alert. */
void audit_misuse_search_end(const struct audit_misuse_config *c, const struct auth_principal *who,
			     size_t hits, uint64_t seq);

/* True when minute-of-day m lies in the shift [start, end). */
bool audit_misuse_in_shift(const struct audit_shift *s, int m);

/* Forgets every counter (tests). */
void audit_misuse_reset(void);

#endif
