/*
 * fuzz_jsonptr_mapping: libFuzzer harness for JSON pointers (RFC 6901) and
 * the mapping of JSON rows to canonical records.
 *
 * HTTP sources answer with JSON we do not control; mapping.c walks it with
 * the pointers of the source's `map:`.  The input is split at its first
 * newline: the first line is a pointer, the rest a JSON document (parsed with
 * source_http.c's jansson flags, plus JSON_DECODE_ANY so scalars are rows too).
 *
 * Checked besides the sanitizers:
 *  - mapping_pointer_valid() false implies mapping_json_pointer() is NULL;
 *  - mapping_json_pointer() agrees with a plain reference implementation of
 *    RFC 6901 written here (whenever no reference token is longer than the
 *    255 bytes mapping.c accepts);
 *  - mapping_apply(), with a mapping that reads that pointer, the whole row,
 *    constants and a `when`, on every element of the document (or the
 *    document itself), yields records whose values are trimmed, at most
 *    MAPPING_VALUE_MAX bytes, and whose byte total matches the set's account.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/mapping.h"
#include "sources/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 6901 as written, without length limits; NULL when absent or invalid. */
static json_t *ref_pointer(json_t *root, const char *ptr)
{
	const char *p = ptr, *end, *q;
	char *tok;
	size_t k;

	if (*p != '\0' && *p != '/')
		return NULL;
	while (root != NULL && *p == '/') {
		p++;
		end = p + strcspn(p, "/");
		tok = malloc((size_t)(end - p) + 1);
		if (tok == NULL)
			abort();
		for (k = 0, q = p; q < end; q++) {
			if (*q != '~') {
				tok[k++] = *q;
			} else if (q + 1 < end && (q[1] == '0' || q[1] == '1')) {
				tok[k++] = q[1] == '0' ? '~' : '/';
				q++;
			} else {
				free(tok);
				return NULL;
			}
		}
		tok[k] = '\0';
		if (json_is_object(root)) {
			root = json_object_get(root, tok);
		} else if (json_is_array(root)) {
			/* array-index = "0" / ( %x31-39 *DIGIT ) */
			size_t idx = 0;
			bool ok = k > 0 && !(k > 1 && tok[0] == '0');

			for (size_t i = 0; ok && i < k; i++) {
				if (tok[i] < '0' || tok[i] > '9' || idx > (SIZE_MAX - 9) / 10)
					ok = false;
				else
					idx = idx * 10 + (size_t)(tok[i] - '0');
			}
			root = ok ? json_array_get(root, idx) : NULL;
		} else {
			root = NULL;
		}
		free(tok);
		p = end;
	}
	return root;
}

/* Does every reference token fit mapping.c's 255-byte buffer? */
static bool tokens_short(const char *ptr)
{
	for (const char *p = ptr; *p != '\0';) {
		size_t n = strcspn(p + 1, "/");

		if (n >= 255)
			return false;
		p += 1 + n;
	}
	return true;
}

/* The row getter, as an HTTP connector would write it: scalars as text. */
struct row {
	json_t *json;
	char buf[64];
};

static int get(void *rowp, const char *from, const char **val, size_t *len)
{
	struct row *r = rowp;
	json_t *v = mapping_json_pointer(r->json, from);
	int n;

	if (v == NULL)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING:
		*val = json_string_value(v);
		*len = json_string_length(v);
		return 1;
	case JSON_INTEGER:
		n = snprintf(r->buf, sizeof(r->buf), "%" JSON_INTEGER_FORMAT,
			     json_integer_value(v));
		break;
	case JSON_REAL:
		n = snprintf(r->buf, sizeof(r->buf), "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		n = snprintf(r->buf, sizeof(r->buf), "true");
		break;
	case JSON_FALSE:
		n = snprintf(r->buf, sizeof(r->buf), "false");
		break;
	default:
		return 0; /* null, object, array: not a value */
	}
	if (n < 0 || (size_t)n >= sizeof(r->buf))
		return -1;
	*val = r->buf;
	*len = (size_t)n;
	return 1;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void check_set(const struct record_set *s)
{
	size_t bytes = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct record *r = &s->items[i];

		if (r->nfields == 0 || strcmp(r->source, "fuzz") != 0)
			abort();
		for (size_t j = 0; j < r->nfields; j++) {
			const char *v = r->fields[j].value;
			size_t len = strlen(v);

			if (r->fields[j].name == NULL || len > MAPPING_VALUE_MAX)
				abort();
			if (len > 0 && (is_space(v[0]) || is_space(v[len - 1])))
				abort();
			bytes += len;
		}
	}
	if (bytes != s->bytes)
		abort(); /* the byte limit of a source is enforced on this count */
}

static void apply(char *ptr, json_t *doc)
{
	struct map_field person_f[] = {
		{ .target = entity_field_lookup(ENTITY_PERSON, "family_name"), .from = ptr },
		{ .target = entity_field_lookup(ENTITY_PERSON, "given_name"), .from = "/0" },
		{ .target = entity_field_lookup(ENTITY_PERSON, "birth_date"),
		  .constant = "1970-01-01" },
	};
	struct map_field vehicle_f[] = {
		{ .target = entity_field_lookup(ENTITY_VEHICLE, "plate"), .from = "" },
	};
	struct map_field alert_f[] = { /* constants only: says nothing about a row */
		{ .target = entity_field_lookup(ENTITY_ALERT, "category"), .constant = "wanted" },
	};
	struct map_entity ents[] = {
		{ .kind = ENTITY_PERSON, .when = ptr, .fields = person_f, .nfields = 3 },
		{ .kind = ENTITY_VEHICLE, .fields = vehicle_f, .nfields = 1 },
		{ .kind = ENTITY_ALERT, .fields = alert_f, .nfields = 1 },
	};
	struct mapping m = { .entities = ents, .nentities = 3 };
	struct record_set set;
	struct focal_err err;
	struct row row;
	size_t i, n = json_is_array(doc) ? json_array_size(doc) : 1;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		for (size_t j = 0; j < ents[i].nfields; j++)
			if (ents[i].fields[j].target == NULL)
				abort(); /* the schema lost a field this harness names */
	record_set_init(&set);
	for (i = 0; i < n && i < 64; i++) {
		row.json = json_is_array(doc) ? json_array_get(doc, i) : doc;
		if (mapping_apply(&m, "fuzz", get, &row, &set, &err) != 0 &&
		    (err.code >= 0 || err.msg[0] == '\0'))
			abort();
	}
	check_set(&set);
	record_set_clear(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : size;
	json_error_t jerr;
	json_t *doc, *got;
	char *ptr;

	if (memchr(data, '\0', plen) != NULL)
		return 0; /* a pointer from the configuration is a C string */
	ptr = malloc(plen + 1);
	if (ptr == NULL)
		return 0;
	memcpy(ptr, data, plen);
	ptr[plen] = '\0';
	doc = nl ? json_loadb((const char *)nl + 1, size - plen - 1, JSON_REJECT_DUPLICATES |
			      JSON_DECODE_ANY, &jerr)
		 : NULL;

	if (mapping_pointer_valid(ptr)) {
		got = mapping_json_pointer(doc, ptr);
		if (doc != NULL && tokens_short(ptr) && got != ref_pointer(doc, ptr))
			abort();
		if (doc != NULL)
			apply(ptr, doc);
	} else if (mapping_json_pointer(doc, ptr) != NULL || ref_pointer(doc, ptr) != NULL) {
		abort(); /* invalid syntax must resolve nothing, in both readings */
	}
	json_decref(doc);
	free(ptr);
	return 0;
}
