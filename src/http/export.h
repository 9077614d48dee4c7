/*
 * export: the body of an export — the records of a finished search taken
 * out of Focal for a case file (POST /v1/search with "export": "csv" or
 * "jsonl"; docs/policy.md, "Export").
 *
 * The records are those the search kept after the export plan
 * (policy_plan_export): sources not allowed for export were never asked and
 * fields the policy withholds from export were removed as the records
 * arrived, so this module only formats what is left.  Each record is named
 * by the same SHA-256 as in the audit log (audit_search_record_digest: its
 * briefing JSON, keys sorted, compact), so the audit entry of the export
 * lists exactly what left, and an auditor holding an exported file can find
 * the entry: a JSON line's own SHA-256 is that digest.
 */
#ifndef FOCAL_EXPORT_H
#define FOCAL_EXPORT_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

struct evbuffer;
struct search;

enum export_format { EXPORT_NONE = 0, EXPORT_CSV, EXPORT_JSONL };

/* "csv" or "jsonl"; anything else is FOCAL_E_INVAL. */
int export_format_parse(const char *name, enum export_format *out);
const char *export_format_name(enum export_format f);
/* The reply's Content-Type. */
const char *export_content_type(enum export_format f);

/* Writes the records of every call of s to out in format f:
 *   jsonl: one record per line, its briefing JSON with sorted keys;
 *   csv:   RFC 4180, a header "sha256,type,source,<field>..." with a column
 *          for every field name any record has (first appearance order);
 *          values that a spreadsheet would run as a formula (= + - @ and tab
 *          or CR first) get a leading apostrophe.
 * digests (an array) gets {"sha256", "kind", "source"} per record written.
 * Returns FOCAL_OK or FOCAL_E_NOMEM. */
int export_write(const struct search *s, enum export_format f, struct evbuffer *out,
		 json_t *digests, struct focal_err *err);

#endif
