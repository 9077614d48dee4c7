/*
 * export: CSV and JSON lines bodies of an export (see export.h).
 */
#include "http/export.h"

#include <event2/buffer.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "search/briefing.h"
#include "search/fanout.h"
#include "sources/record.h"
#include "sources/source.h"

#define EXPORT_MAX_COLUMNS 256

int export_format_parse(const char *name, enum export_format *out)
{
	if (name != NULL && strcmp(name, "csv") == 0)
		*out = EXPORT_CSV;
	else if (name != NULL && strcmp(name, "jsonl") == 0)
		*out = EXPORT_JSONL;
	else
		return FOCAL_E_INVAL;
	return FOCAL_OK;
}

const char *export_format_name(enum export_format f)
{
	return f == EXPORT_CSV ? "csv" : f == EXPORT_JSONL ? "jsonl" : "none";
}

const char *export_content_type(enum export_format f)
{
	return f == EXPORT_CSV ? "text/csv; charset=utf-8" : "application/x-ndjson";
}

/* The record as it is hashed for the audit log, and its SHA-256 (hex). */
static char *export_record_text(const struct record *r, char digest[65])
{
	json_t *o = briefing_record_json(r);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	unsigned char h[32];

	json_decref(o);
	if (text == NULL || EVP_Digest(text, strlen(text), h, NULL, EVP_sha256(), NULL) != 1) {
		free(text);
		return NULL;
	}
	sodium_bin2hex(digest, 65, h, 32);
	return text;
}

/* A comma and one CSV cell (RFC 4180), guarded against formula injection. */
static void export_csv_cell(struct evbuffer *out, const char *v)
{
	bool formula = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
		       v[0] == '\r';

	evbuffer_add(out, ",", 1);
	if (!formula && v[strcspn(v, ",\"\r\n")] == '\0') {
		evbuffer_add(out, v, strlen(v));
		return;
	}
	evbuffer_add(out, "\"", 1);
	if (formula)
		evbuffer_add(out, "'", 1);
	for (const char *p = v; *p != '\0'; p++) {
		size_t n = strcspn(p, "\"");

		evbuffer_add(out, p, n);
		p += n;
		if (*p == '\0')
			break;
		evbuffer_add(out, "\"\"", 2);
	}
	evbuffer_add(out, "\"", 1);
}

/* The CSV columns after sha256, type and source: every field name any
 * record has, in order of first appearance (names are entity_fields()'s
 * static strings, compared by content all the same). */
static size_t export_columns(const struct search *s, const char **cols)
{
	size_t n = 0;

	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct record_set *rs = &search_call(s, c)->records;

		for (size_t i = 0; i < rs->n; i++)
			for (size_t f = 0; f < rs->items[i].nfields; f++) {
				const char *name = rs->items[i].fields[f].name;
				size_t k;

				for (k = 0; k < n && strcmp(cols[k], name) != 0; k++)
					;
				if (k == n && n < EXPORT_MAX_COLUMNS)
					cols[n++] = name;
			}
	}
	return n;
}

int export_write(const struct search *s, enum export_format f, struct evbuffer *out,
		 json_t *digests, struct focal_err *err)
{
	const char *cols[EXPORT_MAX_COLUMNS];
	size_t ncols = 0;

	if (f == EXPORT_CSV) {
		ncols = export_columns(s, cols);
		evbuffer_add_printf(out, "sha256,type,source");
		for (size_t k = 0; k < ncols; k++)
			export_csv_cell(out, cols[k]);
		evbuffer_add(out, "\r\n", 2);
	}
	for (size_t c = 0; c < search_ncalls(s); c++) {
		const struct record_set *rs = &search_call(s, c)->records;

		for (size_t i = 0; i < rs->n; i++) {
			const struct record *r = &rs->items[i];
			char digest[65], *text = export_record_text(r, digest);

			if (text == NULL)
				return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			json_array_append_new(digests, json_pack("{s:s, s:s, s:s}", "sha256", digest,
								 "kind", entity_kind_name(r->kind),
								 "source", r->source));
			if (f == EXPORT_JSONL) {
				evbuffer_add(out, text, strlen(text));
				evbuffer_add(out, "\n", 1);
			} else {
				evbuffer_add_printf(out, "%s,%s", digest, entity_kind_name(r->kind));
				export_csv_cell(out, r->source);
				for (size_t k = 0; k < ncols; k++) {
					const char *v = record_get(r, cols[k]);

					export_csv_cell(out, v != NULL ? v : "");
				}
				evbuffer_add(out, "\r\n", 2);
			}
			free(text);
		}
	}
	return FOCAL_OK;
}
