/*
 * query: request parsing (see query.h).
 *
 * A request body is checked member by member here; free text goes to the
 * classifier (classify.c), which knows the formats officers type.  Explicit
 * fields are taken as the officer gave them, with national numbers, phones
 * and dates put in the canonical forms sources expect.  Last, every
 * interpretation gets the text as typed and the derived parameters
 * (normalized name keys), so that a template can use them whichever way the
 * query was read.
 */
#include "search/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/classify.h"
#include "search/normalize.h"

static const char *const kind_names[QUERY__COUNT] = {
	"person", "plate", "national_number", "serial", "address", "phone",
};
static const char *const param_names[QP__COUNT] = {
	"family_name", "given_name", "birth_date", "birth_year", "plate", "national_number",
	"serial", "street", "number", "postcode", "city", "phone", "text", "family_key",
	"given_key", "phone_national",
};

const char *query_kind_name(enum query_kind k)
{
	return (unsigned)k < QUERY__COUNT ? kind_names[k] : "unknown";
}

int query_kind_parse(const char *name, enum query_kind *out)
{
	for (int i = 0; i < QUERY__COUNT; i++)
		if (strcmp(kind_names[i], name) == 0) {
			*out = (enum query_kind)i;
			return FOCAL_OK;
		}
	return FOCAL_E_INVAL;
}

const char *query_param_name(enum query_param p)
{
	return (unsigned)p < QP__COUNT ? param_names[p] : "unknown";
}

int query_param_parse(const char *name, enum query_param *out)
{
	for (int i = 0; i < QP__COUNT; i++)
		if (strcmp(param_names[i], name) == 0) {
			*out = (enum query_param)i;
			return FOCAL_OK;
		}
	return FOCAL_E_INVAL;
}

void query_clear(struct query *q)
{
	for (int i = 0; i < QP__COUNT; i++)
		free(q->param[i]);
	free(q->read_as);
	memset(q, 0, sizeof(*q));
}

void query_request_free(struct query_request *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ninterp; i++)
		query_clear(&r->interp[i]);
	free(r->interp);
	free(r->text);
	free(r->purpose);
	free(r->case_ref);
	free(r->justification);
	free(r);
}

struct query *query_request_add(struct query_request *r, enum query_kind k)
{
	struct query *n = realloc(r->interp, (r->ninterp + 1) * sizeof(*n));

	if (n == NULL)
		return NULL;
	r->interp = n;
	memset(&n[r->ninterp], 0, sizeof(*n));
	n[r->ninterp].kind = k;
	return &n[r->ninterp++];
}

int query_set(struct query *q, enum query_param p, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return FOCAL_E_NOMEM;
	free(q->param[p]);
	q->param[p] = copy;
	return FOCAL_OK;
}

/* v is a string of 1 to max bytes without control characters (an embedded
 * NUL, possible in a json_t built with json_stringn, counts as one). */
static bool text_ok(const json_t *v, size_t max)
{
	const char *s = json_string_value(v);
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > max || n != json_string_length(v))
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20)
			return false;
	return true;
}

static int dup_member(const json_t *body, const char *name, size_t max, char **out,
		      struct focal_err *err)
{
	json_t *v = json_object_get(body, name);

	if (v == NULL || json_is_null(v))
		return FOCAL_OK;
	if (!text_ok(v, max))
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" must be text of 1 to %zu characters without control "
				     "characters", name, max);
	*out = strdup(json_string_value(v));
	return *out ? FOCAL_OK : focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

/* Kind implied by explicit fields, strongest identifier first. */
static enum query_kind fields_kind(const struct query *q)
{
	if (q->param[QP_NATIONAL_NUMBER])
		return QUERY_NATIONAL_NUMBER;
	if (q->param[QP_PLATE])
		return QUERY_PLATE;
	if (q->param[QP_SERIAL])
		return QUERY_SERIAL;
	if (q->param[QP_PHONE])
		return QUERY_PHONE;
	if (q->param[QP_FAMILY_NAME])
		return QUERY_PERSON;
	return QUERY_ADDRESS;
}

/* Sets an explicit field, national numbers, phones and dates in their
 * canonical forms. */
static int canonical_field(struct query *q, enum query_param p, const char *v,
			   struct focal_err *err)
{
	char buf[32], national[17];
	int rc = FOCAL_OK;

	/* plate and serial stay as given: foreign plates and serials have forms
	 * of their own, and an explicit field is what the client means */
	switch (p) {
	case QP_NATIONAL_NUMBER:
		rc = classify_national_number(v, buf, err);
		break;
	case QP_BIRTH_DATE:
		rc = classify_date(v, buf, err);
		break;
	case QP_PHONE:
		if ((rc = classify_phone(v, buf, national, err)) == 0 && national[0] != '\0' &&
		    query_set(q, QP_PHONE_NATIONAL, national) != 0)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		break;
	default:
		return query_set(q, p, v) == 0 ? FOCAL_OK
					       : focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	if (rc != 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return focal_err_set(err, rc, "field \"%s\": %s", query_param_name(p), msg);
	}
	return query_set(q, p, buf) == 0 ? FOCAL_OK
					 : focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

static int read_kind(const json_t *kind, enum query_kind *k, struct focal_err *err)
{
	if (!json_is_string(kind) || query_kind_parse(json_string_value(kind), k) != 0)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"kind\" must be one of person, plate, national_number, "
				     "serial, address, phone");
	return FOCAL_OK;
}

static int read_fields(struct query_request *r, const json_t *fields, const json_t *kind,
		       struct focal_err *err)
{
	struct query *q;
	const char *key;
	json_t *v;
	enum query_param p;
	enum query_kind k;
	int rc;

	if (!json_is_object(fields) || json_object_size(fields) == 0)
		return focal_err_set(err, FOCAL_E_INVAL, "\"fields\" must be a non-empty object");
	q = query_request_add(r, QUERY_PERSON);
	if (q == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	json_object_foreach((json_t *)fields, key, v) {
		/* the text and the derived parameters are Focal's, not the client's */
		if (query_param_parse(key, &p) != FOCAL_OK || p >= QP_TEXT)
			return focal_err_set(err, FOCAL_E_INVAL, "unknown field \"%s\"", key);
		if (!text_ok(v, QUERY_FIELD_MAX))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "field \"%s\" must be text of 1 to %d characters", key,
					     QUERY_FIELD_MAX);
		if ((rc = canonical_field(q, p, json_string_value(v), err)) != 0)
			return rc;
	}
	q->kind = fields_kind(q);
	if (kind != NULL) {
		if ((rc = read_kind(kind, &k, err)) != 0)
			return rc;
		q->kind = k;
	}
	q->read_as = strdup("explicit fields");
	return q->read_as ? FOCAL_OK : focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

/* Free text with an explicit "kind": only the readings of that kind. */
static int keep_kind(struct query_request *r, const json_t *kind, struct focal_err *err)
{
	enum query_kind k;
	size_t n = 0;
	int rc;

	if ((rc = read_kind(kind, &k, err)) != 0)
		return rc;
	for (size_t i = 0; i < r->ninterp; i++) {
		if (r->interp[i].kind == k)
			r->interp[n++] = r->interp[i];
		else
			query_clear(&r->interp[i]);
	}
	r->ninterp = n;
	if (n == 0)
		return focal_err_set(err, FOCAL_E_INVAL, "\"%s\" cannot be read as a %s query",
				     r->text, query_kind_name(k));
	return FOCAL_OK;
}

/* normalize_key() of a name into a new buffer large enough for any
 * expansion (NFKC and case folding can lengthen text). */
static int set_key(struct query *q, enum query_param from, enum query_param to)
{
	size_t max;
	char *key;
	int n;

	if (q->param[from] == NULL)
		return FOCAL_OK;
	max = strlen(q->param[from]) * 18 + 16;
	key = malloc(max);
	if (key == NULL)
		return FOCAL_E_NOMEM;
	n = normalize_key(q->param[from], key, max);
	if (n > 0) {
		free(q->param[to]);
		q->param[to] = key;
		return FOCAL_OK;
	}
	free(key);
	return n == FOCAL_E_NOMEM ? FOCAL_E_NOMEM : FOCAL_OK;
}

/* What every interpretation carries whichever way it was read. */
static int complete(struct query_request *r, struct focal_err *err)
{
	for (size_t i = 0; i < r->ninterp; i++) {
		struct query *q = &r->interp[i];

		if ((r->text != NULL && q->param[QP_TEXT] == NULL &&
		     query_set(q, QP_TEXT, r->text) != 0) ||
		    set_key(q, QP_FAMILY_NAME, QP_FAMILY_KEY) != 0 ||
		    set_key(q, QP_GIVEN_NAME, QP_GIVEN_KEY) != 0)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	return FOCAL_OK;
}

int query_request_from_json(const json_t *body, struct query_request **out,
			    struct focal_err *err)
{
	static const char *const members[] = { "q", "fields", "kind", "purpose", "case_ref",
					       "justification", "records", NULL };
	struct query_request *r = NULL;
	const char *key;
	json_t *v, *fields, *kind;
	int rc;

	*out = NULL;
	if (!json_is_object(body))
		return focal_err_set(err, FOCAL_E_INVAL, "the request body must be a JSON object");
	json_object_foreach((json_t *)body, key, v) {
		size_t i;

		for (i = 0; members[i] != NULL && strcmp(members[i], key) != 0; i++)
			;
		if (members[i] == NULL)
			return focal_err_set(err, FOCAL_E_INVAL,
					     "unknown member \"%s\"; expected q, fields, kind, "
					     "purpose, case_ref, justification, records", key);
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if ((rc = dup_member(body, "q", QUERY_TEXT_MAX, &r->text, err)) != 0 ||
	    (rc = dup_member(body, "purpose", QUERY_FIELD_MAX, &r->purpose, err)) != 0 ||
	    (rc = dup_member(body, "case_ref", QUERY_FIELD_MAX, &r->case_ref, err)) != 0 ||
	    (rc = dup_member(body, "justification", QUERY_TEXT_MAX, &r->justification, err)) != 0)
		goto fail;
	v = json_object_get(body, "records");
	if (v != NULL && !json_is_boolean(v)) {
		rc = focal_err_set(err, FOCAL_E_INVAL, "\"records\" must be true or false");
		goto fail;
	}
	r->with_records = json_is_true(v);
	fields = json_object_get(body, "fields");
	if (r->text == NULL && fields == NULL) {
		rc = focal_err_set(err, FOCAL_E_INVAL, "nothing to search: give \"q\" or \"fields\"");
		goto fail;
	}
	kind = json_object_get(body, "kind");
	if (fields != NULL && (rc = read_fields(r, fields, kind, err)) != 0)
		goto fail;
	/* with explicit fields the text is only carried along (QP_TEXT) */
	if (fields == NULL && ((rc = classify_text(r, r->text, err)) != 0 ||
			       (kind != NULL && (rc = keep_kind(r, kind, err)) != 0)))
		goto fail;
	if ((rc = complete(r, err)) != 0)
		goto fail;
	*out = r;
	return FOCAL_OK;
fail:
	query_request_free(r);
	return rc;
}

int query_request_from_text(const char *text, struct query_request **out, struct focal_err *err)
{
	json_t *body = json_pack("{s:s}", "q", text);
	int rc;

	if (body == NULL)
		return focal_err_set(err, FOCAL_E_INVAL, "the query must be UTF-8 text");
	rc = query_request_from_json(body, out, err);
	json_decref(body);
	return rc;
}

json_t *query_request_json(const struct query_request *r)
{
	json_t *o = json_object(), *arr = json_array();

	for (size_t i = 0; i < r->ninterp; i++) {
		json_t *qi = json_object(), *params = json_object();

		for (int p = 0; p < QP__COUNT; p++)
			if (r->interp[i].param[p] != NULL && p != QP_TEXT)
				json_object_set_new(params, param_names[p],
						    json_string(r->interp[i].param[p]));
		json_object_set_new(qi, "kind", json_string(query_kind_name(r->interp[i].kind)));
		json_object_set_new(qi, "read_as", json_string(r->interp[i].read_as));
		json_object_set_new(qi, "params", params);
		json_array_append_new(arr, qi);
	}
	if (r->text != NULL)
		json_object_set_new(o, "text", json_string(r->text));
	json_object_set_new(o, "interpretations", arr);
	return o;
}
