/*
 * query: request parsing and a first reading of free text (see query.h).
 *
 * The reading here recognises the identifier formats officers type most
 * (national register number, Belgian plate, E.164 phone, serial) and treats
 * the rest as a person's name with an optional birth date.  Text that fits
 * several kinds yields several interpretations; the briefing says which.
 */
#include "search/query.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[QUERY__COUNT] = {
	"person", "plate", "national_number", "serial", "address", "phone",
};
static const char *const param_names[QP__COUNT] = {
	"family_name", "given_name", "birth_date", "birth_year", "plate", "national_number",
	"serial", "street", "number", "postcode", "city", "phone", "text",
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

static void query_clear(struct query *q)
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
	free(r);
}

static struct query *query_add(struct query_request *r, enum query_kind k)
{
	struct query *n = realloc(r->interp, (r->ninterp + 1) * sizeof(*n));

	if (n == NULL)
		return NULL;
	r->interp = n;
	memset(&n[r->ninterp], 0, sizeof(*n));
	n[r->ninterp].kind = k;
	return &n[r->ninterp++];
}

static int query_set(struct query *q, enum query_param p, const char *v, size_t len)
{
	char *copy = strndup(v, len);

	if (copy == NULL)
		return FOCAL_E_NOMEM;
	free(q->param[p]);
	q->param[p] = copy;
	return FOCAL_OK;
}

/* Keeps only alphanumerics (separators officers type vary: . - / space). */
static size_t compact_alnum(const char *s, char *out, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s)) {
			if (n + 1 >= max)
				return 0;
			out[n++] = (char)toupper((unsigned char)*s);
		} else if (!strchr(" .-/", *s)) {
			return 0;
		}
	}
	out[n] = '\0';
	return n;
}

/* Belgian national register number: 9 digits and a check of 97 - (n mod 97),
 * where n is prefixed with 2 for births from 2000. */
static bool national_number_valid(const char *d)
{
	unsigned long long base = 0;
	unsigned check = (unsigned)((d[9] - '0') * 10 + (d[10] - '0'));

	for (int i = 0; i < 9; i++)
		base = base * 10 + (unsigned)(d[i] - '0');
	if (97 - base % 97 == check)
		return true;
	return 97 - (2000000000ULL + base) % 97 == check;
}

static bool all_of(const char *s, size_t from, size_t to, int (*pred)(int))
{
	for (size_t i = from; i < to; i++)
		if (!pred((unsigned char)s[i]))
			return false;
	return true;
}

/* Belgian plates: 1-ABC-123 (since 2010), ABC-123 and 123-ABC (older series). */
static bool plate_like(const char *c, size_t n)
{
	if (n == 7 && isdigit((unsigned char)c[0]) && all_of(c, 1, 4, isalpha) &&
	    all_of(c, 4, 7, isdigit))
		return true;
	if (n == 6 && ((all_of(c, 0, 3, isalpha) && all_of(c, 3, 6, isdigit)) ||
		       (all_of(c, 0, 3, isdigit) && all_of(c, 3, 6, isalpha))))
		return true;
	return false;
}

/* dd/mm/yyyy, d-m-yy, yyyy-mm-dd, dd.mm.yyyy → yyyy-mm-dd. */
static bool parse_date(const char *tok, char out[11])
{
	int a, b, c, y, m, d;
	char s1, s2, extra;

	if (sscanf(tok, "%d%c%d%c%d%c", &a, &s1, &b, &s2, &c, &extra) != 5 || s1 != s2 ||
	    !strchr("/-.", s1))
		return false;
	if (a > 31) {
		y = a, m = b, d = c;
	} else {
		d = a, m = b, y = c;
		if (y < 100)
			y += y <= 30 ? 2000 : 1900; /* two-digit years: officers mean the past */
	}
	if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return true;
}

static int read_person(struct query_request *r, const char *text, struct focal_err *err)
{
	char buf[QUERY_TEXT_MAX + 1], date[11];
	char *words[16], *save = NULL, *tok;
	size_t nwords = 0;
	struct query *q;
	char given[QUERY_TEXT_MAX + 1] = "";
	char read_as[QUERY_TEXT_MAX * 2];
	size_t off = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	q = query_add(r, QUERY_PERSON);
	if (q == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	for (tok = strtok_r(buf, " \t,", &save); tok != NULL; tok = strtok_r(NULL, " \t,", &save)) {
		if (parse_date(tok, date)) {
			if (query_set(q, QP_BIRTH_DATE, date, 10) != 0)
				return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		} else if (strlen(tok) == 4 && all_of(tok, 0, 4, isdigit)) {
			if (query_set(q, QP_BIRTH_YEAR, tok, 4) != 0)
				return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		} else if (nwords < 16) {
			words[nwords++] = tok;
		}
	}
	if (nwords == 0)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "could not read \"%s\" as a name, plate, national number, "
				     "serial or phone number", text);
	/* "Given Family": the last word is the family name; the fuller reading of
	 * name order belongs to the classifier of issue 3 */
	for (size_t i = 0; i + 1 < nwords; i++)
		off += (size_t)snprintf(given + off, sizeof(given) - off, "%s%s", i ? " " : "",
					words[i]);
	if (query_set(q, QP_FAMILY_NAME, words[nwords - 1], strlen(words[nwords - 1])) != 0 ||
	    (off > 0 && query_set(q, QP_GIVEN_NAME, given, off) != 0))
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	snprintf(read_as, sizeof(read_as), "person: family name \"%s\"%s%s%s%s%s",
		 q->param[QP_FAMILY_NAME], off ? ", given name \"" : "", off ? given : "",
		 off ? "\"" : "", q->param[QP_BIRTH_DATE] ? ", born " : "",
		 q->param[QP_BIRTH_DATE] ? q->param[QP_BIRTH_DATE] : "");
	q->read_as = strdup(read_as);
	return q->read_as ? FOCAL_OK : focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

static int read_identifier(struct query_request *r, enum query_kind k, enum query_param p,
			   const char *value, const char *what, struct focal_err *err)
{
	struct query *q = query_add(r, k);
	char read_as[QUERY_TEXT_MAX + 64];

	if (q == NULL || query_set(q, p, value, strlen(value)) != 0)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	snprintf(read_as, sizeof(read_as), "%s %s", what, value);
	q->read_as = strdup(read_as);
	return q->read_as ? FOCAL_OK : focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

static int query_read_text(struct query_request *r, const char *text, struct focal_err *err)
{
	char c[QUERY_TEXT_MAX + 1];
	size_t n = compact_alnum(text, c, sizeof(c));
	size_t before = r->ninterp;
	int rc;

	if (n == 11 && all_of(c, 0, 11, isdigit)) {
		if (!national_number_valid(c))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "\"%s\" looks like a national register number but its "
					     "check digits %c%c do not match", text, c[9], c[10]);
		return read_identifier(r, QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, c,
				       "national register number", err);
	}
	if (text[0] == '+') {
		/* compact_alnum refuses '+', so read the digits after it */
		char e164[20], d[QUERY_TEXT_MAX + 1];
		size_t nd = compact_alnum(text + 1, d, sizeof(d));

		if (nd >= 8 && nd <= 15 && all_of(d, 0, nd, isdigit)) {
			snprintf(e164, sizeof(e164), "+%s", d);
			return read_identifier(r, QUERY_PHONE, QP_PHONE, e164, "phone", err);
		}
	}
	if (n > 0 && plate_like(c, n) &&
	    (rc = read_identifier(r, QUERY_PLATE, QP_PLATE, c, "number plate", err)) != 0)
		return rc;
	/* letters and digits together, no spaces: a serial number too */
	if (n >= 4 && n <= 24 && !strchr(text, ' ') && !all_of(c, 0, n, isalpha) &&
	    !all_of(c, 0, n, isdigit) &&
	    (rc = read_identifier(r, QUERY_SERIAL, QP_SERIAL, c, "serial number", err)) != 0)
		return rc;
	if (r->ninterp > before)
		return FOCAL_OK;
	return read_person(r, text, err);
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

static int read_fields(struct query_request *r, const json_t *fields, const json_t *kind,
		       struct focal_err *err)
{
	struct query *q;
	const char *key;
	json_t *v;
	enum query_param p;
	enum query_kind k;

	if (!json_is_object(fields) || json_object_size(fields) == 0)
		return focal_err_set(err, FOCAL_E_INVAL, "\"fields\" must be a non-empty object");
	q = query_add(r, QUERY_PERSON);
	if (q == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	json_object_foreach((json_t *)fields, key, v) {
		if (query_param_parse(key, &p) != FOCAL_OK || p == QP_TEXT)
			return focal_err_set(err, FOCAL_E_INVAL, "unknown field \"%s\"", key);
		if (!text_ok(v, QUERY_FIELD_MAX))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "field \"%s\" must be text of 1 to %d characters", key,
					     QUERY_FIELD_MAX);
		if (query_set(q, p, json_string_value(v), strlen(json_string_value(v))) != 0)
			return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	}
	q->kind = fields_kind(q);
	if (kind != NULL) {
		if (!json_is_string(kind) || query_kind_parse(json_string_value(kind), &k) != 0)
			return focal_err_set(err, FOCAL_E_INVAL,
					     "\"kind\" must be one of person, plate, "
					     "national_number, serial, address, phone");
		q->kind = k;
	}
	q->read_as = strdup("explicit fields");
	return q->read_as ? FOCAL_OK : focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
}

int query_request_from_json(const json_t *body, struct query_request **out,
			    struct focal_err *err)
{
	static const char *const members[] = { "q", "fields", "kind", "purpose", "case_ref",
					       NULL };
	struct query_request *r = NULL;
	const char *key;
	json_t *v, *fields;
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
					     "purpose, case_ref", key);
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
	if ((rc = dup_member(body, "q", QUERY_TEXT_MAX, &r->text, err)) != 0 ||
	    (rc = dup_member(body, "purpose", QUERY_FIELD_MAX, &r->purpose, err)) != 0 ||
	    (rc = dup_member(body, "case_ref", QUERY_FIELD_MAX, &r->case_ref, err)) != 0)
		goto fail;
	fields = json_object_get(body, "fields");
	if (r->text == NULL && fields == NULL) {
		rc = focal_err_set(err, FOCAL_E_INVAL, "nothing to search: give \"q\" or \"fields\"");
		goto fail;
	}
	if (fields != NULL && (rc = read_fields(r, fields, json_object_get(body, "kind"), err)) != 0)
		goto fail;
	if (fields == NULL && r->text != NULL && (rc = query_read_text(r, r->text, err)) != 0)
		goto fail;
	for (size_t i = 0; r->text != NULL && i < r->ninterp; i++)
		if (r->interp[i].param[QP_TEXT] == NULL &&
		    query_set(&r->interp[i], QP_TEXT, r->text, strlen(r->text)) != 0) {
			rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
			goto fail;
		}
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
