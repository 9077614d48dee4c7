/*
 * audit_query: oversight over the audit log files — who looked up a person,
 * plate, national number or record, what a user looked up, which alerts were
 * raised — and inclusion / consistency proofs.  Used by the auditor API
 * (audit_api.c, on the worker pool) and by `focal audit` (reading the files
 * directly).  Reads are a linear scan of audit.log (see docs/audit.md).
 *
 * Identifiers are compared without separators and case (normalize_identifier:
 * "1-abc-123" = "1ABC123", "85.07.30-033.28" = "85073003328"); names by their
 * normalize_key words in any order ("PEETERS, Jan" = "jan peeters").
 */
#ifndef FOCAL_AUDIT_QUERY_H
#define FOCAL_AUDIT_QUERY_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define AUDIT_QUERY_KEY_MAX 512

/* The comparison key of a subject: an identifier (name false) or a person's
 * name (name true: words sorted).  Returns its length or a negative code. */
int audit_query_subject_key(const char *value, bool name, char *out, size_t outlen);

struct audit_query {
	const char *subject;     /* person name, plate, national number, record digest, or NULL */
	const char *user;        /* the user whose activity is wanted, or NULL */
	const char *type_prefix; /* only entries whose type starts so (e.g. "alert."), or NULL */
	int64_t from_ms, to_ms;  /* time range, inclusive; 0 = open */
	size_t limit;            /* most rows returned; 0 = 100000 */
};

enum audit_query_format { AUDIT_FORMAT_JSON = 0, AUDIT_FORMAT_JSONL, AUDIT_FORMAT_CSV };
int audit_query_format_parse(const char *s, enum audit_query_format *out);

/* Scans dir's log; returns the rows as one text in format (malloc'd, *out):
 * JSON {"rows":[...],"count":N,"truncated":bool}, JSON lines, or CSV with a
 * header.  Each row: seq, ts, type, user, unit, device, addr, purpose,
 * case_ref, query, match (what matched: "query", "result", "record",
 * "activity", "alert"), search (the begin entry of the lookup). */
int audit_query_run(const char *dir, const struct audit_query *q, enum audit_query_format fmt,
		    char **out, struct focal_err *err);

/* An inclusion proof of entry in the tree of size entries (size 0: the
 * newest checkpoint), or, with from > 0, a consistency proof between the
 * trees of from and size entries — each checked before it is returned, from
 * the verified log in dir.  *out: a JSON object (the caller's). */
int audit_query_proof(const char *dir, EVP_PKEY *pub, uint64_t entry, uint64_t from, uint64_t size,
		      json_t **out, struct focal_err *err);

#endif
