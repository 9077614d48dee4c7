/*
 * audit_search: the audit entries of one officer search (a "lookup").
 *
 *   search.begin   written durably BEFORE any source is asked: who (user,
 *                  unit, device, address, session), when (UTC, ms), purpose,
 *                  case reference, the query as typed and as read, the
 *                  subjects it names (normalised plates, national numbers,
 *                  name keys), the sources to be asked and those denied.
 *   search.end     when the search finishes (or the client hangs up): the
 *                  begin entry's number, each source's status line, and the
 *                  SHA-256 of every record shown, with the subjects those
 *                  records name (so "who saw person X" finds a plate search
 *                  that revealed X as the owner).
 *
 * api.c calls begin after it knows the principal and starts the search only
 * in the completion callback; if the entry cannot be made durable the search
 * is refused (fail closed).  All calls on the search's loop thread.
 */
#ifndef FOCAL_AUDIT_SEARCH_H
#define FOCAL_AUDIT_SEARCH_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "core/loop.h"

struct audit_search;
struct auth_principal;
struct query_request;
struct config;
struct search;
struct record;

/* rc is FOCAL_OK once the begin entry is durable, else msg says why not. */
typedef void (*audit_search_cb)(struct audit_search *au, int rc, const char *msg, void *arg);

/* Queues the begin entry of who's search qr under configuration cfg (for the
 * sources it plans and the misuse rules; a reference is kept); extra (stolen,
 * may be NULL) adds members, e.g. "sources_denied" from the policy.  cb runs
 * later on loop, exactly once, unless an error is returned here (nothing was
 * queued; the caller refuses the search).  *out is the caller's. */
int audit_search_begin(struct audit_search **out, const struct auth_principal *who,
		       const struct query_request *qr, struct config *cfg, json_t *extra,
		       struct loop *loop, audit_search_cb cb, void *arg, struct focal_err *err);
/* Records the end of a finished search: status of each source, digests of
 * the records shown.  Queued, not waited for (the reply is not held up). */
void audit_search_end(struct audit_search *au, const struct search *s);
/* Frees au after cb ran; a search that began but never ended (client gone)
 * is recorded as cancelled.  NULL-safe. */
void audit_search_free(struct audit_search *au);
/* The number of the begin entry (valid once cb reported success). */
uint64_t audit_search_seq(const struct audit_search *au);

/* SHA-256 (hex) of a record as shown: its briefing JSON with sorted keys,
 * compact.  An auditor holding a record recomputes the same digest. */
int audit_search_record_digest(const struct record *r, char out[65]);
/* The same digest the slow way: the jansson tree dumped with JSON_SORT_KEYS
 * (the definition the fast path is tested against). */
int audit_search_record_digest_tree(const struct record *r, char out[65]);

#endif
