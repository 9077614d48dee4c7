/*
 * audit_query: oversight queries and proofs over the log files (see
 * audit_query.h).
 */
#include "audit/audit_query.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit_log.h"
#include "auth/principal.h"
#include "audit/audit_verify.h"
#include "audit/merkle.h"
#include "search/normalize.h"

static int audit_query_word_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int audit_query_subject_key(const char *value, bool name, char *out, size_t outlen)
{
	char key[AUDIT_QUERY_KEY_MAX], *words[64], *p;
	size_t n = 0, len = 0;
	int rc;

	if (!name)
		return normalize_identifier(value, out, outlen);
	rc = normalize_key(value, key, sizeof(key));
	if (rc <= 0)
		return rc < 0 ? rc : FOCAL_E_INVAL;
	/* "peeters jan" and "jan peeters" are one person: sort the words */
	for (p = key; *p != '\0' && n < 64;) {
		while (*p == ' ' || *p == ',')
			*p++ = '\0';
		if (*p == '\0')
			break;
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != ',')
			p++;
	}
	qsort(words, n, sizeof(words[0]), audit_query_word_cmp);
	if (outlen == 0)
		return FOCAL_E_LIMIT;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(out + len, outlen - len, "%s%s", i ? " " : "", words[i]);

		if (k < 0 || (size_t)k >= outlen - len)
			return FOCAL_E_LIMIT;
		len += (size_t)k;
	}
	return (int)len;
}

int audit_query_format_parse(const char *s, enum audit_query_format *out)
{
	if (s == NULL || strcmp(s, "json") == 0)
		*out = AUDIT_FORMAT_JSON;
	else if (strcmp(s, "jsonl") == 0)
		*out = AUDIT_FORMAT_JSONL;
	else if (strcmp(s, "csv") == 0)
		*out = AUDIT_FORMAT_CSV;
	else
		return FOCAL_E_INVAL;
	return FOCAL_OK;
}

static bool audit_query_has(json_t *arr, const char *key)
{
	size_t i;
	json_t *v;

	if (key == NULL || key[0] == '\0')
		return false;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), key) == 0)
			return true;
	return false;
}

static bool audit_query_has_digest(json_t *records, const char *digest)
{
	size_t i;
	json_t *v;

	json_array_foreach(records, i, v) {
		const char *d = json_string_value(json_object_get(v, "sha256"));

		if (d != NULL && strcasecmp(d, digest) == 0)
			return true;
	}
	return false;
}

static const char *audit_query_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* The row of one entry (match says why it was chosen). */
static json_t *audit_query_row(json_t *e, uint64_t seq, const char *match)
{
	json_t *who = json_object_get(e, "who"), *q = json_object_get(e, "query");
	const char *type = audit_query_str(e, "type");
	json_t *search = json_object_get(e, "search");

	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "seq",
			 (json_int_t)seq, "ts", audit_query_str(e, "ts"), "type", type, "user",
			 audit_query_str(who, "user"), "unit", audit_query_str(who, "unit"),
			 "device", audit_query_str(who, "device"), "addr",
			 audit_query_str(who, "addr"), "purpose", audit_query_str(e, "purpose"),
			 "case_ref", audit_query_str(e, "case_ref"), "query",
			 audit_query_str(q, "text"), "match", match, "search",
			 (json_int_t)(json_is_integer(search) ? json_integer_value(search)
							      : strcmp(type, "search.begin") == 0
								? (json_int_t)seq
								: -1));
}

/* A needle the writer puts into a line byte for byte: printable ASCII that
 * JSON writes unescaped.  Others get no pre-filter (the line is parsed). */
static bool audit_query_plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\' || *s == '/')
			return false;
	return true;
}

/* needle = pre + s + post when s is plain; "" otherwise (no filter). */
static void audit_query_needle(char *out, size_t cap, const char *pre, const char *s,
			       const char *post)
{
	out[0] = '\0';
	if (s != NULL && s[0] != '\0' && audit_query_plain(s) &&
	    snprintf(out, cap, "%s%s%s", pre, s, post) >= (int)cap)
		out[0] = '\0';
}

/* Whether the raw line can match at all: each field the query asks for is
 * written as a plain string, so a line without it is skipped unparsed
 * (parsing is ~50 times the cost of memmem, and most lines do not match). */
static bool audit_query_may_match(const char *line, size_t len, const char *need_a,
				  const char *need_b, const char *need_user, const char *need_type)
{
	if ((need_a[0] || need_b[0]) &&
	    !(need_a[0] && memmem(line, len, need_a, strlen(need_a))) &&
	    !(need_b[0] && memmem(line, len, need_b, strlen(need_b))))
		return false;
	if (need_user[0] && !memmem(line, len, need_user, strlen(need_user)))
		return false;
	if (need_type[0] && !memmem(line, len, need_type, strlen(need_type)))
		return false;
	return true;
}

/* Why e matches q, or NULL. */
static const char *audit_query_match(json_t *e, const struct audit_query *q, const char *id_key,
				     const char *name_key, bool digest)
{
	const char *type = audit_query_str(e, "type");
	int64_t ts = (int64_t)json_integer_value(json_object_get(e, "ts_ms"));
	json_t *subjects = json_object_get(e, "subjects");

	if ((q->from_ms && ts < q->from_ms) || (q->to_ms && ts > q->to_ms))
		return NULL;
	if (q->type_prefix != NULL && strncmp(type, q->type_prefix, strlen(q->type_prefix)) != 0)
		return NULL;
	if (q->user != NULL &&
	    strcmp(audit_query_str(json_object_get(e, "who"), "user"), q->user) != 0)
		return NULL;
	if (q->subject == NULL)
		return q->type_prefix != NULL && strncmp(q->type_prefix, "alert.", 6) == 0
			       ? "alert"
			       : "activity";
	if (strcmp(type, "search.begin") == 0 &&
	    (audit_query_has(subjects, id_key) || audit_query_has(subjects, name_key)))
		return "query";
	if (strcmp(type, "search.end") == 0) {
		if (digest && audit_query_has_digest(json_object_get(e, "records"), q->subject))
			return "record";
		if (audit_query_has(subjects, id_key) || audit_query_has(subjects, name_key))
			return "result";
	}
	return NULL;
}

static const char *const audit_query_cols[] = { "seq", "ts", "type", "user", "unit", "device",
						"addr", "purpose", "case_ref", "query", "match",
						"search", NULL };

/* One CSV field, quoted when needed (RFC 4180), with a leading ' against
 * formula injection when a spreadsheet opens the export. */
static void audit_query_csv_field(FILE *f, json_t *v)
{
	char num[32];
	const char *s = num;

	if (json_is_integer(v))
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
	else
		s = json_is_string(v) ? json_string_value(v) : "";
	if (strchr("=+-@", s[0]) != NULL && s[0] != '\0' && !json_is_integer(v)) {
		fputs("\"'", f);
	} else if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
	} else {
		fputs(s, f);
		return;
	}
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void audit_query_emit(FILE *f, json_t *row, enum audit_query_format fmt)
{
	if (fmt == AUDIT_FORMAT_CSV) {
		for (size_t i = 0; audit_query_cols[i] != NULL; i++) {
			if (i)
				fputc(',', f);
			audit_query_csv_field(f, json_object_get(row, audit_query_cols[i]));
		}
		fputs("\r\n", f);
	} else {
		char *t = json_dumps(row, JSON_COMPACT);

		if (t != NULL)
			fprintf(f, "%s\n", t);
		free(t);
	}
}

int audit_query_run(const char *dir, const struct audit_query *q, enum audit_query_format fmt,
		    char **out, struct focal_err *err)
{
	char id_key[AUDIT_QUERY_KEY_MAX] = "", name_key[AUDIT_QUERY_KEY_MAX] = "";
	char need_a[AUDIT_QUERY_KEY_MAX + 4], need_b[AUDIT_QUERY_KEY_MAX + 4];
	char need_user[PRINCIPAL_ID_MAX + 16], need_type[80];
	char *lp = audit_log_path(dir, AUDIT_LOG_NAME), *line = NULL, *text = NULL;
	size_t cap = 0, len, tlen = 0, count = 0, limit = q->limit ? q->limit : 100000;
	bool digest = false, torn, truncated = false;
	json_t *rows = fmt == AUDIT_FORMAT_JSON ? json_array() : NULL;
	json_t *queried = json_object(); /* lookups already reported by their query */
	FILE *log = NULL, *mem = NULL;
	int rc = FOCAL_OK;

	*out = NULL;
	if (q->subject != NULL) {
		size_t sl = strlen(q->subject);

		digest = sl == 64 && strspn(q->subject, "0123456789abcdefABCDEF") == 64;
		if (!digest && audit_query_subject_key(q->subject, false, id_key, sizeof(id_key)) < 0)
			id_key[0] = '\0';
		if (!digest && audit_query_subject_key(q->subject, true, name_key,
						       sizeof(name_key)) < 0)
			name_key[0] = '\0';
		if (!digest && id_key[0] == '\0' && name_key[0] == '\0') {
			rc = focal_err_set(err, FOCAL_E_INVAL, "subject: nothing to search for");
			goto out;
		}
		/* a name made only of letters also has an identifier key ("JANPEETERS"):
		 * compare identifiers only for values holding a digit */
		if (strpbrk(q->subject, "0123456789") == NULL)
			id_key[0] = '\0';
	}
	if (digest) {
		char lower[65];

		for (size_t i = 0; i < 64; i++)
			lower[i] = (char)tolower((unsigned char)q->subject[i]);
		lower[64] = '\0';
		audit_query_needle(need_a, sizeof(need_a), "\"", lower, "\"");
		need_b[0] = '\0';
	} else {
		/* an empty key has no needle; both empty: no subject filter */
		audit_query_needle(need_a, sizeof(need_a), "\"", id_key, "\"");
		audit_query_needle(need_b, sizeof(need_b), "\"", name_key, "\"");
		if ((id_key[0] && !need_a[0]) || (name_key[0] && !need_b[0]))
			need_a[0] = need_b[0] = '\0'; /* a key not written plainly */
	}
	audit_query_needle(need_user, sizeof(need_user), "\"user\":\"", q->user, "\"");
	audit_query_needle(need_type, sizeof(need_type), "\"type\":\"", q->type_prefix, "");
	if (lp == NULL || (mem = open_memstream(&text, &tlen)) == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	log = fopen(lp, "r");
	if (log == NULL) {
		rc = focal_err_set(err, FOCAL_E_IO, "%s: %s", lp, strerror(errno));
		goto out;
	}
	if (fmt == AUDIT_FORMAT_CSV)
		for (size_t i = 0; audit_query_cols[i] != NULL; i++)
			fprintf(mem, "%s%s", i ? "," : "", audit_query_cols[i]);
	if (fmt == AUDIT_FORMAT_CSV)
		fputs("\r\n", mem);
	for (;;) {
		uint8_t prev[MERKLE_HASH];
		const char *match;
		uint64_t seq;
		json_t *e;

		rc = audit_log_read_line(log, &line, &cap, &len, &torn, err);
		if (rc <= 0 || torn)
			break;
		if (!audit_query_may_match(line, len, need_a, need_b, need_user, need_type))
			continue;
		if (audit_log_entry_parse(line, len, &e, &seq, prev, NULL) != FOCAL_OK)
			continue; /* verification reports damage; oversight reads what it can */
		match = audit_query_match(e, q, id_key, name_key, digest);
		if (match != NULL && q->subject != NULL) {
			/* one row per lookup: a search that asked for the subject and
			 * also showed it is reported once, as a query */
			char key[32];
			json_t *sr = json_object_get(e, "search");

			snprintf(key, sizeof(key), "%lld",
				 (long long)(json_is_integer(sr) ? json_integer_value(sr)
								 : (json_int_t)seq));
			if (json_object_get(queried, key) != NULL)
				match = NULL;
			else
				json_object_set_new(queried, key, json_true());
		}
		if (match != NULL) {
			json_t *row = audit_query_row(e, seq, match);

			if (strcmp(match, "alert") == 0 && row != NULL)
				json_object_set(row, "details", e);
			if (count++ >= limit) {
				truncated = true;
				json_decref(row);
				json_decref(e);
				break;
			}
			if (rows != NULL)
				json_array_append(rows, row);
			else if (row != NULL)
				audit_query_emit(mem, row, fmt);
			json_decref(row);
		}
		json_decref(e);
	}
	if (rc < 0)
		goto out;
	rc = FOCAL_OK;
	if (rows != NULL) {
		json_t *doc = json_pack("{s:O, s:I, s:b}", "rows", rows, "count",
					(json_int_t)json_array_size(rows), "truncated", truncated);
		char *t = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

		if (t != NULL)
			fputs(t, mem);
		free(t);
		json_decref(doc);
	}
	if (fclose(mem) != 0) {
		mem = NULL;
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	mem = NULL;
	*out = text;
	text = NULL;
out:
	if (mem != NULL)
		fclose(mem);
	free(text);
	if (log != NULL)
		fclose(log);
	free(lp);
	free(line);
	json_decref(rows);
	json_decref(queried);
	return rc;
}

static json_t *audit_query_hashes(const uint8_t *p, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		char hex[2 * MERKLE_HASH + 1];

		merkle_hex(p + i * MERKLE_HASH, hex);
		json_array_append_new(arr, json_string(hex));
	}
	return arr;
}

int audit_query_proof(const char *dir, EVP_PKEY *pub, uint64_t entry, uint64_t from, uint64_t size,
		      json_t **out, struct focal_err *err)
{
	struct audit_verify_result res;
	uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH], root[MERKLE_HASH], root_m[MERKLE_HASH];
	char hroot[2 * MERKLE_HASH + 1], hleaf[2 * MERKLE_HASH + 1], hm[2 * MERKLE_HASH + 1];
	size_t np = 0;
	int rc;

	*out = NULL;
	/* proofs are only given over a log that verifies */
	if ((rc = audit_verify_dir(dir, pub, true, &res, err)) != FOCAL_OK)
		return rc;
	if (size == 0)
		size = res.signed_size;
	if (size == 0 || size > res.entries) {
		rc = focal_err_set(err, FOCAL_E_INVAL, "no tree of size %llu (the log has %llu "
				   "entries, %llu signed)", (unsigned long long)size,
				   (unsigned long long)res.entries,
				   (unsigned long long)res.signed_size);
		goto out;
	}
	merkle_root(res.leaves, size, root);
	merkle_hex(root, hroot);
	if (from > 0) {
		if (from > size ||
		    merkle_consistency_proof(res.leaves, from, size, proof, &np) != FOCAL_OK) {
			rc = focal_err_set(err, FOCAL_E_INVAL, "--from must be between 1 and %llu",
					   (unsigned long long)size);
			goto out;
		}
		merkle_root(res.leaves, from, root_m);
		if (!merkle_consistency_verify(from, size, root_m, root, proof, np)) {
			rc = focal_err_set(err, FOCAL_E_INTERNAL, "consistency proof does not verify");
			goto out;
		}
		merkle_hex(root_m, hm);
		*out = json_pack("{s:s, s:I, s:s, s:I, s:s, s:o}", "proof", "consistency", "from",
				 (json_int_t)from, "from_root", hm, "size", (json_int_t)size, "root",
				 hroot, "hashes", audit_query_hashes(proof, np));
	} else {
		if (entry >= size) {
			rc = focal_err_set(err, FOCAL_E_INVAL, "entry %llu is not in the tree of size "
					   "%llu", (unsigned long long)entry,
					   (unsigned long long)size);
			goto out;
		}
		merkle_inclusion_proof(res.leaves, entry, size, proof, &np);
		if (!merkle_inclusion_verify(res.leaves + entry * MERKLE_HASH, entry, size, proof, np, root)) {
			rc = focal_err_set(err, FOCAL_E_INTERNAL, "inclusion proof does not verify");
			goto out;
		}
		merkle_hex(res.leaves + entry * MERKLE_HASH, hleaf);
		*out = json_pack("{s:s, s:I, s:s, s:I, s:s, s:o}", "proof", "inclusion", "entry",
				 (json_int_t)entry, "leaf_hash", hleaf, "size", (json_int_t)size,
				 "root", hroot, "hashes", audit_query_hashes(proof, np));
	}
	if (*out == NULL)
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	else
		json_object_set_new(*out, "signed", json_boolean(size == res.signed_size));
out:
	free(res.leaves);
	return rc;
}
