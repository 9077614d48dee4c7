/*
 * fuzz_classify: libFuzzer harness for the reading of free text
 * (search/classify.h), which every authenticated client controls.
 *
 * The input, when NUL-free, is read by classify_text and by each
 * canonicaliser, and once more through query_request_from_text (which adds
 * the derived name keys).  Contracts checked besides the sanitizers:
 *   - failure: a negative code equal to err.code, a message, no
 *     interpretation left behind;
 *   - success: 1 to CLASSIFY_MAX_INTERP interpretations, each of a known kind
 *     with a non-empty read_as and the parameters its kind needs;
 *   - canonical forms: plate = a Belgian plate in upper-case letters and
 *     digits; serial = 4-24 upper-case letters and digits with both; national
 *     number = 11 digits with valid check digits; phone = "+" and 8-15 digits;
 *     birth date = a real yyyy-mm-dd; postcode = 1000-9999; every value
 *     non-empty, trimmed, valid UTF-8;
 *   - the canonicalisers are idempotent: a canonical value read again is
 *     itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "search/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool upper_alnum(const char *s, size_t min, size_t max, bool *letter, bool *digit)
{
	size_t n = strlen(s);

	*letter = *digit = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			*letter = true;
		else if (s[i] >= '0' && s[i] <= '9')
			*digit = true;
		else
			return false;
	}
	return n >= min && n <= max;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool nrn_valid(const char *d)
{
	unsigned long long base = 0;
	unsigned check;

	if (!digits(d, 11))
		return false;
	for (int i = 0; i < 9; i++)
		base = base * 10 + (unsigned)(d[i] - '0');
	check = (unsigned)((d[9] - '0') * 10 + (d[10] - '0'));
	return 97 - base % 97 == check || 97 - (2000000000ULL + base) % 97 == check;
}

static bool phone_valid(const char *p)
{
	size_t n = strlen(p);

	return n >= 9 && n <= 16 && p[0] == '+' && p[1] != '0' && digits(p + 1, n - 1);
}

static bool date_valid(const char *d)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, dd;

	if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return false;
	y = num(d, 4), m = num(d + 5, 2), dd = num(d + 8, 2);
	if (y < 1900 || m < 1 || m > 12 || dd < 1 || dd > days[m - 1])
		return false;
	return !(m == 2 && dd == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static bool plate_valid(const char *c)
{
	bool letter, digit;
	size_t n = strlen(c);

	if (!upper_alnum(c, 6, 7, &letter, &digit) || !letter || !digit)
		return false;
	if (n == 7)
		return c[0] >= '1' && c[0] <= '9';
	return true;
}

static void check_value(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || v[0] == ' ' || v[n - 1] == ' ')
		abort();
	for (const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)v; *p != '\0';) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, -1, &cp);

		if (len <= 0 || cp < 0x20)
			abort();
		p += len;
	}
}

static void check_query(const struct query *q)
{
	char buf[32], national[17];
	struct focal_err err;
	bool letter, digit;

	if ((unsigned)q->kind >= QUERY__COUNT || q->read_as == NULL || q->read_as[0] == '\0')
		abort();
	for (int p = 0; p < QP__COUNT; p++)
		if (q->param[p] != NULL)
			check_value(q->param[p]);
	switch (q->kind) {
	case QUERY_PERSON:
		if (q->param[QP_FAMILY_NAME] == NULL)
			abort();
		break;
	case QUERY_PLATE:
		if (q->param[QP_PLATE] == NULL || !plate_valid(q->param[QP_PLATE]) ||
		    classify_identifier(q->param[QP_PLATE], buf, &err) != 0 ||
		    strcmp(buf, q->param[QP_PLATE]) != 0)
			abort();
		break;
	case QUERY_SERIAL:
		if (q->param[QP_SERIAL] == NULL ||
		    !upper_alnum(q->param[QP_SERIAL], 4, 24, &letter, &digit) || !letter || !digit)
			abort();
		break;
	case QUERY_NATIONAL_NUMBER:
		if (q->param[QP_NATIONAL_NUMBER] == NULL || !nrn_valid(q->param[QP_NATIONAL_NUMBER]) ||
		    classify_national_number(q->param[QP_NATIONAL_NUMBER], buf, &err) != 0 ||
		    strcmp(buf, q->param[QP_NATIONAL_NUMBER]) != 0)
			abort();
		break;
	case QUERY_PHONE:
		if (q->param[QP_PHONE] == NULL || !phone_valid(q->param[QP_PHONE]) ||
		    classify_phone(q->param[QP_PHONE], buf, national, &err) != 0 ||
		    strcmp(buf, q->param[QP_PHONE]) != 0)
			abort();
		if (q->param[QP_PHONE_NATIONAL] != NULL &&
		    (q->param[QP_PHONE_NATIONAL][0] != '0' ||
		     strcmp(q->param[QP_PHONE_NATIONAL], national) != 0 ||
		     strncmp(q->param[QP_PHONE], "+32", 3) != 0))
			abort();
		break;
	case QUERY_ADDRESS:
		if (q->param[QP_STREET] == NULL && q->param[QP_POSTCODE] == NULL)
			abort();
		break;
	default:
		abort();
	}
	if (q->param[QP_BIRTH_DATE] != NULL &&
	    (!date_valid(q->param[QP_BIRTH_DATE]) ||
	     classify_date(q->param[QP_BIRTH_DATE], buf, &err) != 0 ||
	     strcmp(buf, q->param[QP_BIRTH_DATE]) != 0))
		abort();
	if (q->param[QP_BIRTH_YEAR] != NULL &&
	    (!digits(q->param[QP_BIRTH_YEAR], 4) || num(q->param[QP_BIRTH_YEAR], 4) < 1900))
		abort();
	if (q->param[QP_POSTCODE] != NULL &&
	    (!digits(q->param[QP_POSTCODE], 4) || q->param[QP_POSTCODE][0] == '0'))
		abort();
}

static void check_error(int rc, const struct focal_err *err)
{
	if (rc >= 0 || err->code != rc || err->msg[0] == '\0' ||
	    memchr(err->msg, '\0', sizeof(err->msg)) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_request r = { 0 }, *rq = NULL;
	struct focal_err err = { 0 };
	char *text, nn[12], e164[17], national[17], date[11], id[25];
	bool letter, digit;
	int rc;

	if (size > 4 * QUERY_TEXT_MAX || memchr(data, '\0', size) != NULL)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	rc = classify_text(&r, text, &err);
	if (rc == 0) {
		if (r.ninterp == 0 || r.ninterp > CLASSIFY_MAX_INTERP)
			abort();
		for (size_t i = 0; i < r.ninterp; i++) {
			if (r.interp[i].param[QP_TEXT] != NULL)
				abort();
			check_query(&r.interp[i]);
		}
	} else {
		check_error(rc, &err);
		if (r.ninterp != 0)
			abort();
	}
	for (size_t i = 0; i < r.ninterp; i++)
		query_clear(&r.interp[i]);
	free(r.interp);

	/* the canonicalisers on their own */
	memset(&err, 0, sizeof(err));
	if ((rc = classify_national_number(text, nn, &err)) == 0) {
		if (!nrn_valid(nn))
			abort();
	} else {
		check_error(rc, &err);
	}
	memset(&err, 0, sizeof(err));
	if ((rc = classify_phone(text, e164, national, &err)) == 0) {
		if (!phone_valid(e164) || (national[0] != '\0' && national[0] != '0'))
			abort();
	} else {
		check_error(rc, &err);
	}
	memset(&err, 0, sizeof(err));
	if ((rc = classify_date(text, date, &err)) == 0) {
		if (!date_valid(date))
			abort();
	} else {
		check_error(rc, &err);
	}
	memset(&err, 0, sizeof(err));
	if ((rc = classify_identifier(text, id, &err)) == 0) {
		if (!upper_alnum(id, 1, 24, &letter, &digit))
			abort();
	} else {
		check_error(rc, &err);
	}
	(void)classify_is_given_name(text);

	/* the whole request: text as typed and derived keys on every reading */
	if (size <= QUERY_TEXT_MAX) {
		memset(&err, 0, sizeof(err));
		rc = query_request_from_text(text, &rq, &err);
		if (rc == 0) {
			for (size_t i = 0; i < rq->ninterp; i++) {
				const struct query *q = &rq->interp[i];

				if (q->param[QP_TEXT] == NULL || strcmp(q->param[QP_TEXT], text) != 0 ||
				    (q->param[QP_FAMILY_KEY] != NULL && q->param[QP_FAMILY_NAME] == NULL))
					abort();
			}
			query_request_free(rq);
		} else if (rq != NULL) {
			abort();
		}
	}
	free(text);
	return 0;
}
